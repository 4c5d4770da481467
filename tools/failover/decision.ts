/**
 * The failover controller's decision logic, as pure functions: (state, observation, now) →
 * (new state, action). No I/O, no clock: the loop (controller.ts) probes, calls `decide`, acts,
 * and reports the promotion's outcome back through `recordPromotion`. Every safety rule lives here,
 * so the tests (tests/failover-controller.test.ts, property tests included) cover all of them:
 *
 *  - promote only after `failureThreshold` failed probes of the primary since the last reset, and
 *    only on an observation where the primary is failing (one blip never triggers it);
 *  - hysteresis: a single success does not reset the count; `recoveryThreshold` consecutive
 *    successes do (a primary that flaps between up and down still fails over);
 *  - never while the operator has paused the controller, and never while the operator's flags are
 *    unknown (the control store was never readable);
 *  - never into a dead region: the standby must answer and still be a standby;
 *  - never twice: after a successful promotion the controller is `done` and stays so until the
 *    operator re-arms it (changes the `rearm` token in the control store, after failback);
 *    a promotion whose outcome is not yet known blocks every further one;
 *  - a minimum interval between two successful promotions, even across re-arms;
 *  - a failed attempt is retried, but not before `retryAfterFailureMs`.
 */

export interface FailoverPolicy {
    /** Failed probes of the primary (since the last reset) that trigger a promotion. @default 3 */
    readonly failureThreshold: number;
    /** Consecutive successful probes that reset the failure count. @default 2 */
    readonly recoveryThreshold: number;
    /** Least time between two successful promotions, re-arms notwithstanding (ms). @default 3600000 */
    readonly minPromotionIntervalMs: number;
    /** Least time between a failed promotion attempt and the next attempt (ms). @default 30000 */
    readonly retryAfterFailureMs: number;
}

export const DEFAULT_POLICY: FailoverPolicy = {
    failureThreshold: 3,
    recoveryThreshold: 2,
    minPromotionIntervalMs: 3_600_000,
    retryAfterFailureMs: 30_000,
};

/** The operator's flags, read from the control store on every loop. */
export interface ControlFlags {
    /** While true the controller observes and counts but never promotes. */
    readonly paused: boolean;
    /**
     * Any string. After a promotion the controller stays `done` until this differs from its value
     * at the time of that promotion: the operator changes it once failback is complete.
     */
    readonly rearm: string;
}

/** What the promotion target (the standby database) is right now, per the adapter. */
export type TargetRole = "standby" | "primary" | "unknown";

export interface Observation {
    /** The primary region's health, probed from outside it. */
    readonly primaryHealthy: boolean;
    /** The standby region can serve once promoted (its health URLs and the adapter's view). */
    readonly standbyHealthy: boolean;
    readonly targetRole: TargetRole;
    /** undefined: the control store could not be read this time (the last flags read stay in force). */
    readonly control: ControlFlags | undefined;
}

export type Phase = "watching" | "promoting" | "done";

export interface ControllerState {
    readonly phase: Phase;
    /** Failed probes since the last reset (not necessarily consecutive: see the hysteresis rule). */
    readonly failures: number;
    /** Consecutive successful probes. */
    readonly successStreak: number;
    /** The last flags read from the control store, if ever. */
    readonly control?: ControlFlags;
    /** When the last attempt started (epoch ms). */
    readonly lastAttemptAt?: number;
    /** Whether the last attempt failed (so the retry delay applies instead of the promotion interval). */
    readonly lastAttemptFailed?: boolean;
    /** When the last successful promotion started (epoch ms). */
    readonly lastPromotionAt?: number;
    /** The re-arm token in force when the controller became `done` (or started promoting). */
    readonly armToken?: string;
    readonly promotions: number;
}

export const INITIAL_STATE: ControllerState = { phase: "watching", failures: 0, successStreak: 0, promotions: 0 };

/**
 * Why the controller did what it did: a small fixed set, so it can be a metric label.
 */
export type Reason =
    | "primary-healthy"
    | "counting-failures"
    | "control-unknown"
    | "paused"
    | "standby-unhealthy"
    | "min-interval"
    | "retry-wait"
    | "promotion-in-progress"
    | "target-already-primary"
    | "done"
    | "rearmed"
    | "primary-failed";

export const REASONS: readonly Reason[] = [
    "primary-healthy",
    "counting-failures",
    "control-unknown",
    "paused",
    "standby-unhealthy",
    "min-interval",
    "retry-wait",
    "promotion-in-progress",
    "target-already-primary",
    "done",
    "rearmed",
    "primary-failed",
];

export interface Action {
    readonly kind: "hold" | "promote";
    readonly reason: Reason;
    /** One sentence for people (the JSON log line). */
    readonly message: string;
}

export interface Decision {
    readonly state: ControllerState;
    readonly action: Action;
}

const hold = (reason: Reason, message: string): Action => ({ kind: "hold", reason, message });

/** Checks a policy; returns the problems (empty when valid). */
export function policyProblems(policy: FailoverPolicy): string[] {
    const problems: string[] = [];
    const integer = (name: keyof FailoverPolicy, min: number) => {
        const value = policy[name];
        if (!Number.isInteger(value) || value < min) {
            problems.push(`${name}=${value}: expected an integer ≥ ${min}`);
        }
    };
    integer("failureThreshold", 1);
    integer("recoveryThreshold", 1);
    integer("minPromotionIntervalMs", 0);
    integer("retryAfterFailureMs", 0);
    return problems;
}

/** One loop's decision. Pure: same inputs, same output. */
export function decide(state: ControllerState, obs: Observation, now: number, policy: FailoverPolicy): Decision {
    const control = obs.control ?? state.control;

    // Counting runs in every phase, so the metrics show the primary's health even while paused or done.
    let failures = state.failures;
    let successStreak = state.successStreak;
    if (obs.primaryHealthy) {
        successStreak += 1;
        if (successStreak >= policy.recoveryThreshold) {
            failures = 0;
        }
    } else {
        successStreak = 0;
        failures += 1;
    }
    const next: ControllerState = { ...state, failures, successStreak, control };

    if (state.phase === "promoting") {
        // The loop reports the outcome before it decides again; if it ever did not, promoting
        // again could promote twice.
        return { state: next, action: hold("promotion-in-progress", "a promotion's outcome is not known yet; not acting") };
    }

    if (state.phase === "done") {
        if (control !== undefined && control.rearm !== state.armToken) {
            return {
                state: { ...next, phase: "watching", failures: 0, successStreak: 0, armToken: undefined },
                action: hold("rearmed", `re-armed by the operator (rearm token ${JSON.stringify(control.rearm)}); watching the primary again`),
            };
        }
        return { state: next, action: hold("done", "already promoted; waiting for the operator to re-arm after failback") };
    }

    if (obs.targetRole === "primary") {
        // Promoted by someone else (an operator, or our own earlier attempt that timed out but took effect).
        return {
            state: { ...next, phase: "done", armToken: control?.rearm ?? "" },
            action: hold("target-already-primary", "the promotion target is already a primary; nothing to do until re-armed"),
        };
    }

    if (obs.primaryHealthy) {
        const message =
            failures === 0
                ? "primary healthy"
                : `primary answered (${successStreak}/${policy.recoveryThreshold} successes to reset ${failures} failure(s))`;
        return { state: next, action: hold("primary-healthy", message) };
    }
    if (failures < policy.failureThreshold) {
        return { state: next, action: hold("counting-failures", `primary failed ${failures}/${policy.failureThreshold}`) };
    }
    if (control === undefined) {
        return {
            state: next,
            action: hold("control-unknown", "primary failed, but the operator's flags have never been readable: not promoting blind"),
        };
    }
    if (control.paused) {
        return { state: next, action: hold("paused", `primary failed ${failures} time(s); paused by the operator`) };
    }
    if (!obs.standbyHealthy || obs.targetRole !== "standby") {
        return {
            state: next,
            action: hold("standby-unhealthy", `primary failed ${failures} time(s), but the standby cannot serve (role ${obs.targetRole}): not promoting into it`),
        };
    }
    if (state.lastAttemptFailed && state.lastAttemptAt !== undefined && now - state.lastAttemptAt < policy.retryAfterFailureMs) {
        return { state: next, action: hold("retry-wait", `the last attempt failed; retrying ${policy.retryAfterFailureMs - (now - state.lastAttemptAt)} ms from now`) };
    }
    if (state.lastPromotionAt !== undefined && now - state.lastPromotionAt < policy.minPromotionIntervalMs) {
        return {
            state: next,
            action: hold("min-interval", `the last promotion was ${now - state.lastPromotionAt} ms ago (minimum ${policy.minPromotionIntervalMs} ms)`),
        };
    }
    return {
        state: { ...next, phase: "promoting", lastAttemptAt: now, armToken: control.rearm },
        action: { kind: "promote", reason: "primary-failed", message: `primary failed ${failures} time(s) (threshold ${policy.failureThreshold}); promoting the standby` },
    };
}

/** The outcome of the promotion `decide` asked for. */
export function recordPromotion(state: ControllerState, succeeded: boolean): ControllerState {
    if (state.phase !== "promoting") {
        return state;
    }
    if (succeeded) {
        return { ...state, phase: "done", lastAttemptFailed: false, lastPromotionAt: state.lastAttemptAt, promotions: state.promotions + 1 };
    }
    return { ...state, phase: "watching", lastAttemptFailed: true, armToken: undefined };
}
