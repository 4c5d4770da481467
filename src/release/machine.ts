/**
 * The release state machine: `start`, `resume`, `rollback`, `pause`, `promote` and `status` over a
 * {@link StackDriver}, a {@link Clock} and a {@link MetricSource}.
 *
 * Rules it keeps:
 * - The release state lives in the stack config (`apfa:release`, with `progress`). Every step is
 *   one config write that changes what is deployed, followed by one `pulumi up`. Other writes only
 *   touch `progress` (the last analysis, the driver's heartbeat, the end of a rollback) and need no
 *   update.
 * - A rollback is one write (`previewWeight` 0, the old slot active) and one
 *   `pulumi up --target <trafficUrn>`, whatever the release was doing, also during the rollback
 *   window after promotion.
 * - A crash at any point leaves a state `status` explains, that `resume` (re-applies the recorded
 *   step, then carries on) or `rollback` completes.
 * - Before each write the driver re-reads the state and stops if another command changed the
 *   release (a rollback or a new release from another shell): config has no lock, so this narrows
 *   the window in which two writers could race to the ~1 s between a read and a write.
 */
import type { ReleaseProgress, ReleaseState, Slot } from "../config";
import { parseReleaseState } from "../config";
import { analyse, type AnalysisThresholds, type Decision, type SlotSample, type Verdict } from "./analysis";
import { formatDuration, isoSeconds, type Clock } from "./clock";
import type { ReleaseContext } from "./context";
import type { StackDriver, UpOutcome } from "./driver";
import type { EventLog } from "./events";
import { isHealthy, type MetricSource } from "./metrics/source";
import { describePlan, describeStatus } from "./render";
import {
    RollbackImpossible,
    completeState,
    deploysDifferently,
    describeHolder,
    holdsStack,
    newReleaseId,
    promoteState,
    promotionChangesOldSlot,
    rollbackState,
    rolledBackState,
    rolloutSteps,
    startState,
    stepState,
    withProgress,
    type RolloutStep,
} from "./state";
import { otherSlot, slotImage, trafficWeights } from "./weights";

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

export interface StartOptions {
    /** The new image; undefined on docker runs the build context. */
    readonly image?: string;
    /** Environment overrides for the new slot ("" removes a variable). */
    readonly env?: Readonly<Record<string, string>>;
    readonly dryRun?: boolean;
}

/** A heartbeat older than this (and at least 3 analysis intervals) means the driver is gone. */
const HEARTBEAT_SECONDS = 30;
/** Progress lines while nothing changes: one every this many seconds. */
const PROGRESS_SECONDS = 30;

/** Ends a drive loop with an exit code. */
class Stop {
    constructor(readonly code: number) {}
}

export class ReleaseMachine {
    private readonly driver: StackDriver;
    private readonly clock: Clock;
    private readonly out: Reporter;
    private readonly steps: RolloutStep[];
    private metricSource?: MetricSource;
    private lastHeartbeat = 0;
    private lastRecorded?: string;
    private lastProgressKey?: string;
    private lastProgressAt = 0;

    constructor(
        private readonly deps: MachineDeps,
        private readonly context: ReleaseContext,
    ) {
        this.driver = deps.driver;
        this.clock = deps.clock;
        this.out = deps.reporter;
        this.steps = rolloutSteps(context.rollout);
    }

    private get analysis() {
        return this.context.rollout.analysis;
    }

    // ───────────────────────────── commands ─────────────────────────────

    /** `release start`: deploys the image to the idle slot and drives the release to its end. */
    async start(options: StartOptions): Promise<number> {
        const current = await this.readState();
        if (current.progress && holdsStack(current.progress)) {
            this.out.error(`refused: ${describeHolder(current.progress)} holds stack ${this.driver.stack}.`);
            this.out.error(`  see \`npm run release -- status --stack ${this.driver.stack}\`; finish it with resume, promote or rollback first.`);
            return EXIT.refused;
        }
        if (current.previewWeight !== 0) {
            this.out.error(
                `refused: apfa:release.previewWeight is ${current.previewWeight} but no release is in progress; ` +
                    `run \`npm run release -- rollback --stack ${this.driver.stack}\` (or set it to 0) first.`,
            );
            return EXIT.refused;
        }
        const problem = this.startProblem(options);
        if (problem) {
            this.out.error(`refused: ${problem}`);
            return EXIT.refused;
        }

        const outputs = await this.driver.outputs();
        const trafficUrn = typeof outputs.trafficUrn === "string" && outputs.trafficUrn !== "" ? outputs.trafficUrn : undefined;
        const now = this.clock.now();
        const to = otherSlot(current.active);
        const id = newReleaseId(now, to);
        const next = startState(current, {
            id,
            image: options.image,
            env: options.env ?? {},
            steps: this.steps,
            trafficUrn: trafficUrn ?? "<trafficUrn stack output>",
            now,
        });
        if (promotionChangesOldSlot(next)) {
            this.out.error(
                `refused: ${current.active} has no image of its own (it runs ${slotImage(current, current.active) ?? "the build context"} ` +
                    `by fallback), so promoting ${to} would redeploy ${current.active} with the new image and leave nothing to roll back to. ` +
                    `Set apfa:release.${current.active}.image, or release without --image.`,
            );
            return EXIT.refused;
        }

        if (options.dryRun) {
            for (const line of describePlan(this.context, current, next, { trafficUrn, metrics: this.metricsDescription() })) {
                this.out.info(line);
            }
            return EXIT.ok;
        }
        if (!trafficUrn) {
            this.out.error(`refused: stack ${this.driver.stack} has no trafficUrn output; run \`pulumi up\` once before the first release.`);
            return EXIT.refused;
        }
        // Fail before touching anything if the metrics cannot judge this release: the source must
        // answer and see the serving slot's replicas (else the new slot's would not be seen either).
        const metrics = await this.metrics();
        try {
            const serving = await metrics.health(current.active, now);
            if (serving.up === 0) {
                this.out.error(
                    `refused: ${metrics.description} sees no replica of the serving slot ${current.active} ` +
                        `(check the URL, and that APFA is scraped with job and slot labels)`,
                );
                return EXIT.refused;
            }
        } catch (err) {
            this.out.error(`refused: the metric source cannot be read: ${message(err)}`);
            return EXIT.refused;
        }

        this.event(id, "start", { image: options.image, from: current.active, to, steps: this.steps, metrics: metrics.description });
        this.out.info(`release ${id}: ${options.image ?? "the build context"} on ${to}; ${current.active} keeps serving (${formatSteps(this.steps)})`);
        try {
            await this.write(next, "deploy the new slot at 0 %");
            await this.up(next, `deploy ${options.image ?? "the build context"} to ${to} at 0 %`);
        } catch (err) {
            return this.failAndRollBack(`deploying ${to} failed: ${message(err)}`);
        }
        return this.drive(id, false);
    }

    /** `release resume`: clears a pause and drives the recorded release on from where it is. */
    async resume(): Promise<number> {
        const progress = (await this.readState()).progress;
        if (!progress || !holdsStack(progress)) {
            this.out.info(progress ? `nothing to resume: ${describeHolder(progress)}.` : "nothing to resume: no release is recorded.");
            return progress?.phase === "rolledBack" ? EXIT.rolledBack : EXIT.ok;
        }
        if (progress.phase === "rollingBack") {
            this.out.info(`release ${progress.id} was rolling back; finishing the rollback.`);
            return this.rollback(progress.reason ?? "finishing an interrupted rollback");
        }
        if (progress.paused) {
            await this.writeChecked(progress.id, (s) => withProgress(s, { paused: false }), "resume");
            this.out.info(`release ${progress.id} resumed.`);
        }
        const live = this.liveDriver(progress);
        if (live) {
            this.out.info(`the release is driven by pid ${live.pid} on ${live.host}; it carries on.`);
            return EXIT.ok;
        }
        await this.metrics();
        return this.drive(progress.id, true);
    }

    /** `release pause`: the release stops before its next step (the analysis and automatic rollback go on). */
    async pause(): Promise<number> {
        const state = await this.readState();
        const progress = state.progress;
        if (!progress || !holdsStack(progress) || progress.phase === "rollingBack") {
            this.out.error(`refused: ${progress ? describeHolder(progress) : "no release is recorded"}; nothing to pause.`);
            return EXIT.refused;
        }
        await this.writeChecked(progress.id, (s) => withProgress(s, { paused: true }), "pause");
        this.event(progress.id, "pause", {});
        this.out.info(`release ${progress.id} paused at ${describeHolder(progress)}; \`release resume\` continues, \`release rollback\` routes back.`);
        return EXIT.ok;
    }

    /**
     * `release promote`: an operator decision to skip the remaining steps. During the steps it
     * promotes the new slot now; during the rollback window it ends the window (scales the old slot down).
     */
    async promote(): Promise<number> {
        const state = await this.readState();
        const progress = state.progress;
        if (!progress || !holdsStack(progress) || progress.phase === "rollingBack" || progress.phase === "deploying") {
            const why = progress?.phase === "deploying" ? "the new slot is not verified healthy yet" : "no release can be promoted";
            this.out.error(`refused: ${why} (${progress ? describeHolder(progress) : "no release is recorded"}).`);
            return EXIT.refused;
        }
        await this.writeChecked(progress.id, (s) => withProgress(s, { promoteRequested: true, paused: false }), "promote request");
        this.event(progress.id, "promote-requested", { phase: progress.phase });
        const live = this.liveDriver(progress);
        if (live) {
            this.out.info(`promotion requested; pid ${live.pid} on ${live.host} drives the release and will act on it within ${this.analysis.intervalSeconds}s.`);
            return EXIT.ok;
        }
        await this.metrics();
        return this.drive(progress.id, true);
    }

    /**
     * `release rollback`: all traffic back to the previous slot in one targeted update, whatever
     * the release was doing. Without a recorded release it still sets previewWeight to 0.
     */
    async rollback(reason = "operator rollback"): Promise<number> {
        const state = await this.readState();
        const progress = state.progress;
        if (!progress || progress.phase === "completed") {
            if (progress?.phase === "completed") {
                try {
                    rollbackState(state, reason);
                } catch (err) {
                    this.out.error(`refused: ${message(err)}`);
                    return EXIT.refused;
                }
            }
            if (state.previewWeight === 0) {
                this.out.info(`nothing to roll back: ${state.active} already takes all traffic.`);
                return EXIT.ok;
            }
            return this.manualRollback(state);
        }
        const code = await this.rollBack(progress.id, reason);
        // For this command a finished rollback is success.
        return code === EXIT.rolledBack ? EXIT.ok : code;
    }

    /** `release status`: slots, images, weights, step, time left, last analysis, and what to do. */
    async status(): Promise<number> {
        const state = await this.readState();
        let outputs: Record<string, unknown> = {};
        try {
            outputs = await this.driver.outputs();
        } catch (err) {
            this.out.error(`(stack outputs unavailable: ${message(err)})`);
        }
        for (const line of describeStatus(this.context, state, outputs, this.clock.now(), HEARTBEAT_SECONDS)) {
            this.out.info(line);
        }
        return EXIT.ok;
    }

    // ───────────────────────────── the drive loop ─────────────────────────────

    /**
     * Drives release `id` from its recorded phase to the end. `reapply`: the process is picking up
     * a release another process left (resume/promote), so the recorded step's `pulumi up` runs again
     * first (a no-op if it had finished).
     */
    private async drive(id: string, reapply: boolean): Promise<number> {
        try {
            for (;;) {
                const state = await this.readState();
                const progress = this.ours(state, id);
                switch (progress.phase) {
                    case "deploying":
                        await this.deployPhase(state, progress, reapply);
                        break;
                    case "shifting":
                        await this.shiftPhase(state, progress, reapply);
                        break;
                    case "promoted":
                        await this.windowPhase(state, progress, reapply);
                        break;
                    case "completed":
                        this.out.info(`release ${id} completed: ${progress.to} is active, ${progress.from} scaled down.`);
                        return EXIT.ok;
                    case "rollingBack":
                    case "rolledBack":
                        this.out.error(`release ${id} was rolled back (${progress.reason ?? "by another command"}).`);
                        return EXIT.rolledBack;
                }
                reapply = false;
            }
        } catch (err) {
            if (err instanceof Stop) {
                return err.code;
            }
            throw err;
        }
    }

    /** Deployed at 0 %: wait for the new slot's replicas, then the first step. */
    private async deployPhase(state: ReleaseState, progress: ReleaseProgress, reapply: boolean): Promise<void> {
        if (reapply) {
            await this.upOrRollBack(state, `re-apply: deploy to ${progress.to} at 0 %`);
        }
        const metrics = await this.metrics();
        const expected = this.context.expectedReplicas;
        const deadline = this.clock.now().getTime() + this.context.rollout.healthTimeoutMinutes * 60_000;
        for (;;) {
            const current = this.ours(await this.readState(), progress.id);
            if (current.phase !== "deploying") {
                return;
            }
            const health = await metrics.health(progress.to, this.clock.now());
            if (isHealthy(health, expected)) {
                this.out.info(`${progress.to} healthy: ${health.up} replicas up (need ${expected}).`);
                this.event(progress.id, "healthy", { slot: progress.to, ...health });
                break;
            }
            const left = deadline - this.clock.now().getTime();
            if (left <= 0) {
                await this.failAndRollBackStop(
                    progress.id,
                    `${progress.to} not healthy after ${this.context.rollout.healthTimeoutMinutes} min: ${health.up} up (need ${expected}), ${health.down} down`,
                );
            }
            this.out.info(`waiting for ${progress.to}: ${health.up}/${expected} replicas up, ${health.down} down (${formatDuration(left)} left)`);
            await this.heartbeat(progress.id);
            await this.clock.sleep(Math.min(this.analysis.intervalSeconds * 1000, Math.max(1000, left)));
        }
        await this.transition(progress.id, (s) => stepState(s, 0, this.clock.now()), `step 1/${this.steps.length}: ${progress.to} at ${this.steps[0].weight} %`);
    }

    /** One step: bake with periodic analysis, then the next step or the promotion. */
    private async shiftPhase(state: ReleaseState, progress: ReleaseProgress, reapply: boolean): Promise<void> {
        const index = progress.stepIndex;
        const step = { weight: progress.steps[index], bakeSeconds: this.bakeSecondsOf(index, progress) };
        if (reapply) {
            await this.upOrRollBack(state, `re-apply: step ${index + 1}/${progress.steps.length}: ${progress.to} at ${step.weight} %`);
        }
        const metrics = await this.metrics();
        const bakeEnd = Date.parse(progress.stepStartedAt) + step.bakeSeconds * 1000;
        // The hold allowance counts from the bake's end, or from when this process took over.
        const holdEnd = Math.max(bakeEnd, this.clock.now().getTime()) + this.analysis.maxHoldMinutes * 60_000;
        let failures = 0;

        for (;;) {
            const current = await this.readState();
            const live = this.ours(current, progress.id);
            if (live.phase !== "shifting" || live.stepIndex !== index) {
                return;
            }
            if (live.promoteRequested) {
                this.out.info("promotion requested by an operator: skipping the remaining steps.");
                await this.promoteNow(progress.id);
                return;
            }

            const now = this.clock.now();
            const verdict = await this.judge(metrics, live, now);
            failures = verdict.decision === "rollback" ? failures + 1 : 0;
            await this.record(progress.id, verdict, now);
            const left = bakeEnd - now.getTime();
            this.progressLine(
                `step${index}:${verdict.decision}:${live.paused}`,
                `step ${index + 1}/${progress.steps.length} · ${progress.to} ${step.weight} % · ` +
                    `${left > 0 ? `bake ${formatDuration(left)} left` : "bake done"}${live.paused ? " · PAUSED" : ""} · ` +
                    `${verdict.decision}: ${verdict.reasons[0] ?? ""}`,
            );

            if (failures >= this.analysis.failureThreshold) {
                await this.failAndRollBackStop(progress.id, `analysis at step ${index + 1} (${step.weight} %): ${verdict.reasons[0]}`);
            }
            if (!live.paused && left <= 0) {
                if (verdict.decision === "continue") {
                    if (index + 1 < progress.steps.length) {
                        await this.transition(
                            progress.id,
                            (s) => stepState(s, index + 1, this.clock.now()),
                            `step ${index + 2}/${progress.steps.length}: ${progress.to} at ${progress.steps[index + 1]} %`,
                        );
                    } else {
                        await this.promoteNow(progress.id);
                    }
                    return;
                }
                if (verdict.decision === "hold" && now.getTime() >= holdEnd) {
                    await this.inconclusive(progress, verdict);
                }
            }
            await this.clock.sleep(this.analysis.intervalSeconds * 1000);
        }
    }

    /** After promotion: keep the old slot for the rollback window, watching the new one, then scale the old one down. */
    private async windowPhase(state: ReleaseState, progress: ReleaseProgress, reapply: boolean): Promise<void> {
        if (reapply) {
            await this.upOrRollBack(state, `re-apply: promote ${progress.to}`);
        }
        const metrics = await this.metrics();
        const windowEnd = Date.parse(progress.windowEndsAt ?? progress.stepStartedAt);
        let failures = 0;
        for (;;) {
            const live = this.ours(await this.readState(), progress.id);
            if (live.phase !== "promoted") {
                return;
            }
            const now = this.clock.now();
            const left = windowEnd - now.getTime();
            if (live.promoteRequested || (left <= 0 && !live.paused)) {
                break;
            }
            const verdict = await this.judge(metrics, live, now);
            failures = verdict.decision === "rollback" ? failures + 1 : 0;
            await this.record(progress.id, verdict, now);
            this.progressLine(
                `window:${verdict.decision}:${live.paused}`,
                `promoted · ${progress.to} 100 % · rollback window ${formatDuration(left)} left${live.paused ? " · PAUSED" : ""} · ${verdict.decision}: ${verdict.reasons[0] ?? ""}`,
            );
            if (failures >= this.analysis.failureThreshold) {
                await this.failAndRollBackStop(progress.id, `analysis in the rollback window: ${verdict.reasons[0]}`);
            }
            await this.clock.sleep(Math.min(this.analysis.intervalSeconds * 1000, Math.max(1000, left)));
        }
        try {
            await this.transition(progress.id, (s) => completeState(s, this.clock.now()), `scale ${progress.from} down`, false);
        } catch (err) {
            if (err instanceof Stop) {
                throw err;
            }
            this.out.error(
                `scaling ${progress.from} down failed: ${message(err)}. The release is complete and recorded; ` +
                    `the next \`pulumi up\` applies the scale-down.`,
            );
            throw new Stop(EXIT.needsOperator);
        }
    }

    // ───────────────────────────── transitions ─────────────────────────────

    /**
     * One step of the release: one config write (checked against the release id) and one
     * `pulumi up`. A failed update rolls the release back unless `rollBackOnFailure` is false.
     */
    private async transition(id: string, change: (s: ReleaseState) => ReleaseState, what: string, rollBackOnFailure = true): Promise<void> {
        const next = await this.writeChecked(id, change, what);
        this.out.info(`→ ${what}`);
        try {
            await this.up(next, what);
        } catch (err) {
            if (!rollBackOnFailure) {
                throw err;
            }
            await this.failAndRollBackStop(id, `pulumi up for "${what}" failed: ${message(err)}`);
        }
    }

    private async promoteNow(id: string): Promise<void> {
        const window = this.context.rollout.rollbackWindowMinutes;
        const state = await this.readState();
        const progress = this.ours(state, id);
        await this.transition(
            id,
            (s) => promoteState(s, this.clock.now(), window),
            `promote ${progress.to} to active (routing unchanged); rollback window ${window} min`,
        );
        this.event(id, "promoted", { active: progress.to, windowMinutes: window });
    }

    private async upOrRollBack(state: ReleaseState, what: string): Promise<void> {
        try {
            await this.up(state, what);
        } catch (err) {
            await this.failAndRollBackStop(state.progress?.id ?? "", `pulumi up for "${what}" failed: ${message(err)}`);
        }
    }

    private async inconclusive(progress: ReleaseProgress, verdict: Verdict): Promise<void> {
        const why = `step ${progress.stepIndex + 1} still undecided ${this.analysis.maxHoldMinutes} min after its bake: ${verdict.reasons[0]}`;
        if (this.analysis.onInconclusive === "rollback") {
            await this.failAndRollBackStop(progress.id, why);
        }
        await this.writeChecked(progress.id, (s) => withProgress(s, { paused: true, reason: why }), "pause (inconclusive)");
        this.event(progress.id, "paused", { reason: why });
        this.out.error(`PAUSED: ${why}. Decide: \`release promote\`, \`release resume\` (wait longer) or \`release rollback\`.`);
        throw new Stop(EXIT.needsOperator);
    }

    /** Automatic rollback from inside the drive loop; always ends the loop. */
    private async failAndRollBackStop(id: string, reason: string): Promise<never> {
        this.out.error(`ROLLBACK: ${reason}`);
        throw new Stop(await this.rollBack(id, reason));
    }

    /** Automatic rollback outside the drive loop (the first deploy failed). */
    private async failAndRollBack(reason: string): Promise<number> {
        const state = await this.readState();
        this.out.error(`ROLLBACK: ${reason}`);
        return state.progress ? this.rollBack(state.progress.id, reason) : EXIT.rolledBack;
    }

    /**
     * The rollback: one write (old slot active, previewWeight 0) and one `pulumi up --target
     * <trafficUrn>`, then a record that it finished. The write is re-checked after the update: if a
     * racing writer replaced it, it is written and applied again.
     */
    private async rollBack(id: string, reason: string): Promise<number> {
        for (let attempt = 1; attempt <= 3; attempt++) {
            const state = await this.readState();
            const progress = state.progress;
            if (!progress || progress.id !== id) {
                this.out.error(`refused: the recorded release is no longer ${id}.`);
                return EXIT.refused;
            }
            let next: ReleaseState;
            try {
                next = rollbackState(state, reason);
            } catch (err) {
                if (err instanceof RollbackImpossible) {
                    this.out.error(`refused: ${err.message}`);
                    return EXIT.refused;
                }
                throw err;
            }
            const weights = trafficWeights(next);
            const what = `rollback: all traffic to ${next.active} (${formatWeights(weights)})`;
            await this.write(next, what);
            this.event(id, "rollback", { reason, trafficUrn: progress.trafficUrn, attempt });
            this.out.info(`→ ${what}: pulumi up --target ${progress.trafficUrn}`);
            try {
                await this.upRetryingWhileLocked(next, what, [progress.trafficUrn]);
            } catch (err) {
                this.out.error(
                    `ROLLBACK NOT FINISHED: the targeted update failed: ${message(err)}. The state records the rollback; ` +
                        `run \`npm run release -- rollback --stack ${this.driver.stack}\` again.`,
                );
                this.event(id, "rollback-failed", { error: message(err) });
                return EXIT.needsOperator;
            }
            const after = await this.readState();
            if (after.progress?.id === id && !deploysDifferently(after, next)) {
                await this.write(rolledBackState(after, this.clock.now()), "record the rollback");
                this.event(id, "rolled-back", { active: next.active });
                this.out.info(`rolled back: ${next.active} takes all traffic. Reason: ${reason}`);
                return EXIT.rolledBack;
            }
            this.out.error("the release state changed while rolling back (another writer); applying the rollback again.");
        }
        this.out.error("rollback could not be confirmed after 3 attempts; check `release status`.");
        return EXIT.needsOperator;
    }

    /** No release recorded but a preview weight set by hand: route it back the same way. */
    private async manualRollback(state: ReleaseState): Promise<number> {
        const outputs = await this.driver.outputs();
        const urn = typeof outputs.trafficUrn === "string" ? outputs.trafficUrn : undefined;
        if (!urn) {
            this.out.error("refused: no trafficUrn stack output to target; run `pulumi up`.");
            return EXIT.refused;
        }
        const next: ReleaseState = { ...state, previewWeight: 0 };
        const what = `rollback: all traffic to ${state.active}`;
        await this.write(next, what);
        this.out.info(`→ ${what}: pulumi up --target ${urn}`);
        await this.upRetryingWhileLocked(next, what, [urn]);
        return EXIT.ok;
    }

    // ───────────────────────────── helpers ─────────────────────────────

    private async judge(metrics: MetricSource, progress: ReleaseProgress, now: Date): Promise<Verdict> {
        let samples: Record<Slot, SlotSample>;
        try {
            samples = await metrics.sample(this.analysis.windowSeconds, now);
        } catch (err) {
            // No data is not evidence of failure: hold, and let the hold limit decide.
            return { decision: "hold", reasons: [`metrics unavailable: ${message(err)}`] };
        }
        const thresholds: AnalysisThresholds = this.analysis;
        const promoted = progress.phase === "promoted";
        return analyse({ candidate: samples[progress.to], baseline: promoted ? undefined : samples[progress.from] }, thresholds);
    }

    /** Records the verdict (event log always; config when it changed or the heartbeat is due). */
    private async record(id: string, verdict: Verdict, now: Date): Promise<void> {
        this.event(id, "analysis", { decision: verdict.decision, reasons: verdict.reasons });
        const key = verdict.decision;
        const due = now.getTime() - this.lastHeartbeat >= HEARTBEAT_SECONDS * 1000;
        if (key === this.lastRecorded && !due) {
            return;
        }
        this.lastRecorded = key;
        this.lastHeartbeat = now.getTime();
        await this.writeChecked(
            id,
            (s) =>
                withProgress(s, {
                    lastAnalysis: { at: isoSeconds(now), decision: verdict.decision as Decision, reasons: verdict.reasons.slice(0, 12).map((r) => r.slice(0, 400)) },
                    driver: { ...this.deps.identity, heartbeatAt: isoSeconds(now) },
                }),
            "record the analysis",
        );
    }

    /** A progress line when the state changes, else at most every {@link PROGRESS_SECONDS}. */
    private progressLine(key: string, line: string): void {
        const now = this.clock.now().getTime();
        if (key !== this.lastProgressKey || now - this.lastProgressAt >= PROGRESS_SECONDS * 1000) {
            this.out.info(line);
            this.lastProgressKey = key;
            this.lastProgressAt = now;
        }
    }

    private async heartbeat(id: string): Promise<void> {
        const now = this.clock.now();
        if (now.getTime() - this.lastHeartbeat < HEARTBEAT_SECONDS * 1000) {
            return;
        }
        this.lastHeartbeat = now.getTime();
        await this.writeChecked(id, (s) => withProgress(s, { driver: { ...this.deps.identity, heartbeatAt: isoSeconds(now) } }), "heartbeat");
    }

    /** Another process driving this release, if its heartbeat is fresh. */
    private liveDriver(progress: ReleaseProgress): { host: string; pid: number } | undefined {
        const driver = progress.driver;
        if (!driver) {
            return undefined;
        }
        if (driver.host === this.deps.identity.host && driver.pid === this.deps.identity.pid) {
            return undefined;
        }
        const staleAfter = Math.max(HEARTBEAT_SECONDS, this.analysis.intervalSeconds) * 3 * 1000;
        return this.clock.now().getTime() - Date.parse(driver.heartbeatAt) < staleAfter ? driver : undefined;
    }

    /** The progress of release `id`, or stops the loop if another command replaced or ended it. */
    private ours(state: ReleaseState, id: string): ReleaseProgress {
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

    private async readState(): Promise<ReleaseState> {
        return parseReleaseState(await this.driver.readRelease());
    }

    /** Re-reads, checks the release is still `id` and not rolled back, applies `change`, writes. */
    private async writeChecked(id: string, change: (s: ReleaseState) => ReleaseState, what: string): Promise<ReleaseState> {
        const state = await this.readState();
        this.ours(state, id);
        const next = change(state);
        await this.write(next, what);
        return next;
    }

    private async write(next: ReleaseState, what: string): Promise<void> {
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

    private async up(state: ReleaseState, what: string, target?: string[]): Promise<UpOutcome> {
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

    /**
     * A rollback must not give up because a step's update holds the stack lock (a driver in
     * another shell): retry for up to a minute while Pulumi reports a concurrent update.
     */
    private async upRetryingWhileLocked(state: ReleaseState, what: string, target: string[]): Promise<UpOutcome> {
        for (let attempt = 1; ; attempt++) {
            try {
                return await this.up(state, what, target);
            } catch (err) {
                const locked = err instanceof Error && (err.name === "ConcurrentUpdateError" || /concurrent update|currently in progress/i.test(err.message));
                if (!locked || attempt >= 12) {
                    throw err;
                }
                this.out.info(`  the stack is locked by another update; retrying in 5s (${attempt}/12)`);
                await this.clock.sleep(5000);
            }
        }
    }

    private async metrics(): Promise<MetricSource> {
        this.metricSource ??= await this.deps.metrics(this.context);
        return this.metricSource;
    }

    private metricsDescription(): string {
        return this.metricSource?.description ?? this.context.rollout.metricsSource;
    }

    private bakeSecondsOf(index: number, progress: ReleaseProgress): number {
        // The configured bake of the step with this weight (steps are fixed at start; bakes come from config).
        return this.steps.find((s) => s.weight === progress.steps[index])?.bakeSeconds ?? this.context.rollout.bakeMinutes * 60;
    }

    private startProblem(options: StartOptions): string | undefined {
        const { config, rollout } = this.context;
        if (options.image === undefined && config.cloud !== "docker") {
            return `--image is required on ${config.cloud} (only the docker target can release its build context)`;
        }
        if (rollout.metricsSource === "cloudwatch" && config.cloud !== "aws") {
            return `apfa:rollout.metricsSource cloudwatch works on the aws target only (this stack is ${config.cloud})`;
        }
        if (rollout.metricsSource === "prometheus" && rollout.analysis.windowSeconds < 2 * config.monitoring.scrapeIntervalSeconds) {
            return (
                `apfa:rollout.analysis.windowSeconds (${rollout.analysis.windowSeconds}) must cover at least two scrapes ` +
                `(2 × apfa:monitoring.scrapeIntervalSeconds = ${2 * config.monitoring.scrapeIntervalSeconds})`
            );
        }
        for (const name of Object.keys(options.env ?? {})) {
            if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) {
                return `--env ${name}: env names are A-Z, 0-9 and _`;
            }
        }
        return undefined;
    }

    private event(release: string, type: string, data: Record<string, unknown>): void {
        this.deps.events.append({ at: isoSeconds(this.clock.now()), stack: this.driver.stack, release, type, ...data });
    }
}

function formatSteps(steps: readonly RolloutStep[]): string {
    return steps.map((s) => `${s.weight} % for ${formatDuration(s.bakeSeconds * 1000)}`).join(" → ");
}

function formatWeights(weights: Readonly<Record<Slot, number>>): string {
    return `blue ${weights.blue} % / green ${weights.green} %`;
}

function message(err: unknown): string {
    return err instanceof Error ? err.message : String(err);
}
