/**
 * The controller's loop: probe → decide (decision.ts, pure) → act through the adapter → log one
 * JSON line per decision and update the metrics. Everything it touches is passed in, so the tests
 * run it on fakes and the entry point (main.ts) on real probes, a real store and a real adapter.
 */
import type { PromotionAdapter } from "./adapters/types";
import { errorText } from "./adapters/types";
import type { ControlStore } from "./control-store";
import { decide, recordPromotion, type ControllerState, type FailoverPolicy, type Observation } from "./decision";
import type { FailoverMetrics } from "./metrics";
import type { Probe } from "./probes";

export interface ControllerDeps {
    readonly probePrimary: Probe;
    /** The standby region's serving path (its apps); the adapter's describe() covers its database. */
    readonly probeStandby: Probe;
    readonly adapter: PromotionAdapter;
    readonly store: ControlStore;
    readonly policy: FailoverPolicy;
    readonly metrics: FailoverMetrics;
    /** One JSON-serialisable record per line (stdout in production). */
    readonly log: (record: Record<string, unknown>) => void;
    readonly now: () => number;
}

/** One loop: returns the state for the next one. Never throws (a failure is a logged decision input). */
export async function tick(deps: ControllerDeps, state: ControllerState): Promise<ControllerState> {
    const [primary, standby, target, control] = await Promise.all([
        deps.probePrimary(),
        deps.probeStandby(),
        deps.adapter.describe(),
        deps.store.read().catch(() => undefined),
    ]);
    deps.metrics.recordProbe("primary", primary.healthy);
    deps.metrics.recordProbe("standby", standby.healthy && target.healthy);
    const obs: Observation = {
        primaryHealthy: primary.healthy,
        standbyHealthy: standby.healthy && target.healthy,
        targetRole: target.role,
        control,
    };
    const decidedAt = deps.now();
    const { state: decided, action } = decide(state, obs, decidedAt, deps.policy);
    deps.metrics.recordDecision(decided, action, { standbyHealthy: obs.standbyHealthy, controlReadable: control !== undefined }, decidedAt);
    deps.log({
        time: new Date(decidedAt).toISOString(),
        event: "decision",
        action: action.kind,
        reason: action.reason,
        message: action.message,
        phase: decided.phase,
        failures: decided.failures,
        successStreak: decided.successStreak,
        primary: primary.detail,
        standby: standby.detail,
        target: { id: target.target, role: target.role, healthy: target.healthy, detail: target.detail },
        paused: decided.control?.paused ?? null,
        controlReadable: control !== undefined,
    });
    if (action.kind !== "promote") {
        return decided;
    }

    const started = deps.now();
    let succeeded = false;
    let detail: string;
    try {
        detail = (await deps.adapter.promote({ planned: false })).detail;
        succeeded = true;
    } catch (err) {
        detail = errorText(err);
    }
    const finished = deps.now();
    const next = recordPromotion(decided, succeeded);
    deps.metrics.recordPromotion(succeeded, (finished - started) / 1000, next);
    deps.log({
        time: new Date(finished).toISOString(),
        event: "promotion",
        result: succeeded ? "succeeded" : "failed",
        durationMs: finished - started,
        target: target.target,
        detail,
        phase: next.phase,
    });
    return next;
}

/**
 * Runs `tick` every `intervalMs` (measured start to start; a slow tick is followed at once by the
 * next) until `signal` aborts. Resolves with the last state.
 */
export async function runLoop(deps: ControllerDeps, initial: ControllerState, intervalMs: number, signal: AbortSignal): Promise<ControllerState> {
    let state = initial;
    while (!signal.aborted) {
        const started = deps.now();
        state = await tick(deps, state);
        const wait = Math.max(0, started + intervalMs - deps.now());
        await new Promise<void>((resolve) => {
            const onAbort = () => {
                clearTimeout(timer);
                resolve();
            };
            const timer = setTimeout(() => {
                signal.removeEventListener("abort", onAbort);
                resolve();
            }, wait);
            signal.addEventListener("abort", onAbort, { once: true });
        });
    }
    return state;
}
