/**
 * What the parts of the release machine share within one command: the stack (read, validate and
 * write `apfa:release`, run `pulumi up`), the event log, the reporter, the metric source, and the
 * exit codes. Every config write goes through here, validated the way `pulumi up` will read it.
 */
import type { ReleaseProgress, ReleaseState } from "../../../src/config";
import { parseReleaseState } from "../../../src/config";
import { isoSeconds, type Clock } from "../clock";
import type { ReleaseContext } from "../context";
import type { StackDriver, UpOutcome } from "../driver";
import type { EventLog } from "../events";
import type { MetricSource } from "../metrics/source";
import { describeHolder, rolloutSteps, type RolloutStep } from "../state";

/** Process exit codes of the release commands. */
export const EXIT = {
    ok: 0,
    /** The release was rolled back (by the analysis, a failed update, or an operator). */
    rolledBack: 1,
    usage: 2,
    /** Refused: another release holds the stack, or the state does not allow the command. */
    refused: 3,
    /** Stopped for an operator: paused undecided, or a rollback that could not finish. */
    needsOperator: 4,
} as const;

/** Where progress lines go (the terminal; an array in tests). */
export interface Reporter {
    info(line: string): void;
    /** Engine output of `pulumi up`, shown with --verbose. */
    detail(line: string): void;
    error(line: string): void;
}

export interface MachineDeps {
    readonly driver: StackDriver;
    readonly clock: Clock;
    readonly events: EventLog;
    readonly reporter: Reporter;
    /** Creates the metric source when a command needs one (start, resume, promote). */
    readonly metrics: (context: ReleaseContext) => Promise<MetricSource>;
    /** This process, for the driver heartbeat. */
    readonly identity: { readonly host: string; readonly pid: number };
}

/** Ends a drive loop with an exit code (thrown from anywhere inside it, caught by the loop). */
export class Stop {
    constructor(readonly code: number) {}
}

export function message(err: unknown): string {
    return err instanceof Error ? err.message : String(err);
}

export class ReleaseSession {
    readonly driver: StackDriver;
    readonly clock: Clock;
    readonly out: Reporter;
    /** The configured steps (weights and bakes) a new release takes. */
    readonly steps: RolloutStep[];
    private metricSource?: MetricSource;

    constructor(
        readonly deps: MachineDeps,
        readonly context: ReleaseContext,
    ) {
        this.driver = deps.driver;
        this.clock = deps.clock;
        this.out = deps.reporter;
        this.steps = rolloutSteps(context.rollout);
    }

    get analysis() {
        return this.context.rollout.analysis;
    }

    async readState(): Promise<ReleaseState> {
        return parseReleaseState(await this.driver.readRelease());
    }

    /** The progress of release `id`, or stops the loop if another command replaced or ended it. */
    ours(state: ReleaseState, id: string): ReleaseProgress {
        const progress = state.progress;
        if (!progress || progress.id !== id) {
            this.out.error(`release ${id} is no longer the recorded release (${progress ? describeHolder(progress) : "none"}); stopping.`);
            throw new Stop(EXIT.refused);
        }
        if (progress.phase === "rollingBack" || progress.phase === "rolledBack") {
            this.out.error(`release ${id} was rolled back (${progress.reason ?? "by another command"}); stopping.`);
            throw new Stop(EXIT.rolledBack);
        }
        return progress;
    }

    /** Re-reads, checks the release is still `id` and not rolled back, applies `change`, writes. */
    async writeChecked(id: string, change: (s: ReleaseState) => ReleaseState, what: string): Promise<ReleaseState> {
        const state = await this.readState();
        this.ours(state, id);
        const next = change(state);
        await this.write(next, what);
        return next;
    }

    /** One config write of `apfa:release`, validated first (and recorded in the event log). */
    async write(next: ReleaseState, what: string): Promise<void> {
        const validated = parseReleaseState(JSON.parse(JSON.stringify(next)));
        await this.driver.writeRelease(JSON.parse(JSON.stringify(validated)));
        if (validated.progress) {
            this.event(validated.progress.id, "config", {
                what,
                active: validated.active,
                previewWeight: validated.previewWeight,
                phase: validated.progress.phase,
                step: validated.progress.stepIndex,
            });
        }
    }

    /** One `pulumi up` (targeted when `target` is given), timed and recorded. Rejects when it fails. */
    async up(state: ReleaseState, what: string, target?: string[]): Promise<UpOutcome> {
        const id = state.progress?.id ?? "manual";
        const started = this.clock.now().getTime();
        const outcome = await this.driver.up({
            target,
            message: `apfa release ${id}: ${what}`,
            onOutput: (line) => this.out.detail(line.replace(/\n$/, "")),
        });
        const seconds = (this.clock.now().getTime() - started) / 1000;
        this.event(id, "up", { what, target: target ?? null, changes: outcome.changes, seconds });
        const changed = Object.entries(outcome.changes)
            .filter(([op]) => op !== "same")
            .map(([op, n]) => `${n} ${op}`)
            .join(", ");
        this.out.info(`  pulumi up${target ? " --target" : ""} done in ${seconds.toFixed(1)}s (${changed || "no changes"})`);
        return outcome;
    }

    /** The metric source, created on first use. */
    async metrics(): Promise<MetricSource> {
        this.metricSource ??= await this.deps.metrics(this.context);
        return this.metricSource;
    }

    metricsDescription(): string {
        return this.metricSource?.description ?? this.context.rollout.metricsSource;
    }

    event(release: string, type: string, data: Record<string, unknown>): void {
        this.deps.events.append({ at: isoSeconds(this.clock.now()), stack: this.driver.stack, release, type, ...data });
    }
}
