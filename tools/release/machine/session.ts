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
import type { EventLog, ReleaseEventType } from "../events";
import type { MetricSource } from "../metrics/source";
import { describeDeployableChanges, describeHolder, deploysDifferently, rolloutSteps, type RolloutStep } from "../state";

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

/** How often an update is retried while another update holds the stack's lock, and how long apart: a minute in all. */
export const LOCK_RETRIES = 12;
export const LOCK_RETRY_MS = 5000;

/** Whether a failed update failed because another update holds the stack's lock (nothing was changed then). */
export function isLocked(err: unknown): boolean {
    return err instanceof Error && (err.name === "ConcurrentUpdateError" || /concurrent update|currently in progress|currently locked by/i.test(err.message));
}

/** An update that gave up because the stack stayed locked by another update. */
export class StackLocked extends Error {
    constructor(
        readonly attempts: number,
        lastError: unknown,
    ) {
        super(`the stack stayed locked by another update through ${attempts} attempts over ${((attempts - 1) * LOCK_RETRY_MS) / 1000}s (${message(lastError)})`, {
            cause: lastError,
        });
        this.name = "StackLocked";
    }
}

export class ReleaseSession {
    readonly driver: StackDriver;
    readonly clock: Clock;
    readonly out: Reporter;
    /** The configured steps (weights and bakes) a new release takes. */
    readonly steps: RolloutStep[];
    private metricSource?: MetricSource;
    /** What this process last wrote to `apfa:release`, to notice another writer's change before the next write. */
    private lastWritten?: ReleaseState;

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

    /**
     * Re-reads, checks the release is still `id` and not rolled back, and that nobody else changed
     * what it deploys since this process last wrote it, applies `change`, writes.
     */
    async writeChecked(id: string, change: (s: ReleaseState) => ReleaseState, what: string): Promise<ReleaseState> {
        const state = await this.readState();
        this.ours(state, id);
        this.refuseForeignChange(state, id);
        const next = change(state);
        await this.write(next, what);
        return next;
    }

    /**
     * Stack config has no lock: another writer (a person editing `apfa:release`, a second driver)
     * may change it between this process's read and its write. Writing on top would deploy a mix
     * of both, so the driver stops, names the change and leaves the decision to an operator.
     * Progress-only changes (pause, promote, a heartbeat) are the other commands' way to talk to
     * the driver and pass.
     */
    refuseForeignChange(state: ReleaseState, id: string): void {
        const mine = this.lastWritten;
        if (!mine || mine.progress?.id !== id || !deploysDifferently(state, mine)) {
            return;
        }
        const changes = describeDeployableChanges(mine, state);
        this.event(id, "foreign-write", { changes });
        this.out.error(`refused to go on: apfa:release was changed by another writer since this process wrote it: ${changes.join("; ")}.`);
        this.out.error(
            `  nothing was written. Check \`npm run release -- status --stack ${this.driver.stack}\`: if the change is wanted, ` +
                `\`resume\` carries the release on from the recorded state (re-applying it); otherwise undo it, or \`rollback\`.`,
        );
        throw new Stop(EXIT.refused);
    }

    /** One config write of `apfa:release`, validated first (and recorded in the event log). */
    async write(next: ReleaseState, what: string): Promise<void> {
        const validated = parseReleaseState(JSON.parse(JSON.stringify(next)));
        await this.driver.writeRelease(JSON.parse(JSON.stringify(validated)));
        this.lastWritten = validated;
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

    /**
     * One `pulumi up` (targeted when `target` is given), timed and recorded. While another update
     * holds the stack's lock (nothing was changed then) it is retried every {@link LOCK_RETRY_MS}
     * for a minute. Rejects when it fails, with {@link StackLocked} when the lock never came free.
     */
    async up(state: ReleaseState, what: string, target?: string[]): Promise<UpOutcome> {
        const id = state.progress?.id ?? "manual";
        const started = this.clock.now().getTime();
        let outcome: UpOutcome;
        for (let attempt = 1; ; attempt++) {
            try {
                outcome = await this.driver.up({
                    target,
                    message: `apfa release ${id}: ${what}`,
                    onOutput: (line) => this.out.detail(line.replace(/\n$/, "")),
                });
                break;
            } catch (err) {
                this.event(id, "up-failed", { what, target: target ?? null, attempt, locked: isLocked(err), error: message(err) });
                if (!isLocked(err)) {
                    throw err;
                }
                if (attempt >= LOCK_RETRIES) {
                    throw new StackLocked(attempt, err);
                }
                this.out.info(`  the stack is locked by another update; retrying in ${LOCK_RETRY_MS / 1000}s (${attempt}/${LOCK_RETRIES - 1})`);
                await this.clock.sleep(LOCK_RETRY_MS);
            }
        }
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

    event(release: string, type: ReleaseEventType, data: Record<string, unknown>): void {
        this.deps.events.append({ at: isoSeconds(this.clock.now()), stack: this.driver.stack, release, type, ...data });
    }
}
