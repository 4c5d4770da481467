/**
 * The drive loop: carries a recorded release from its phase to the end. Deploying (wait for the
 * new slot's replicas), shifting (one step: bake with periodic analysis, then the next step or the
 * promotion), promoted (the rollback window, watched, then the old slot scaled down). Each step is
 * one checked config write and one `pulumi up`; a failed analysis, health timeout or update hands
 * over to the {@link RollbackExecutor}, which ends the loop.
 *
 * Capacity follows the weight (autoscaled targets): before each shift of traffic to the new slot,
 * a separate write and `pulumi up` set the slots' replica floors (capacity.ts), and the shift waits
 * until the new slot has its floor's replicas up.
 */
import type { ReleaseProgress, ReleaseState, Slot } from "../../../src/config";
import { slotMinReplicas, trafficWeights } from "../../../src/bluegreen";
import { analyse, widenedWindowSeconds, type AnalysisThresholds, type Verdict } from "../analysis";
import { floorToRecord, planFloors } from "../capacity";
import { formatDuration } from "../clock";
import { isHealthy, type MetricSource } from "../metrics/source";
import { completeState, deploysDifferently, promoteState, stepState, withFloors, withProgress } from "../state";
import type { Liveness } from "./liveness";
import type { RollbackExecutor } from "./rollback";
import { EXIT, Stop, StackLocked, message, type ReleaseSession } from "./session";

/** Progress lines while nothing changes: one every this many seconds. */
const PROGRESS_SECONDS = 30;

export class ReleasePhases {
    private lastProgressKey?: string;
    private lastProgressAt = 0;

    constructor(
        private readonly session: ReleaseSession,
        private readonly liveness: Liveness,
        private readonly rollback: RollbackExecutor,
    ) {}

    private get analysis() {
        return this.session.analysis;
    }

    /**
     * Drives release `id` from its recorded phase to the end. `reapply`: the process is picking up
     * a release another process left (resume/promote), so the recorded step's `pulumi up` runs again
     * first (a no-op if it had finished).
     */
    async drive(id: string, reapply: boolean): Promise<number> {
        const { out } = this.session;
        try {
            for (;;) {
                const state = await this.session.readState();
                const progress = this.session.ours(state, id);
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
                        out.info(`release ${id} completed: ${progress.to} is active, ${progress.from} scaled down.`);
                        return EXIT.ok;
                    case "rollingBack":
                    case "rolledBack":
                        out.error(`release ${id} was rolled back (${progress.reason ?? "by another command"}).`);
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

    // ───────────────────────────── phases ─────────────────────────────

    /** Deployed at 0 %: wait for the new slot's replicas, then the first step. */
    private async deployPhase(state: ReleaseState, progress: ReleaseProgress, reapply: boolean): Promise<void> {
        const { clock, context, out, steps } = this.session;
        if (reapply) {
            await this.upOrRollBack(state, `re-apply: deploy to ${progress.to} at 0 %`);
        }
        const metrics = await this.session.metrics();
        const expected = context.expectedReplicas;
        const deadline = clock.now().getTime() + context.rollout.healthTimeoutMinutes * 60_000;
        for (;;) {
            const current = this.session.ours(await this.session.readState(), progress.id);
            if (current.phase !== "deploying") {
                return;
            }
            const health = await metrics.health(progress.to, clock.now());
            if (isHealthy(health, expected)) {
                out.info(`${progress.to} healthy: ${health.up} replicas up (need ${expected}).`);
                this.session.event(progress.id, "healthy", { slot: progress.to, ...health });
                break;
            }
            const left = deadline - clock.now().getTime();
            if (left <= 0) {
                await this.rollback.failAndRollBackStop(
                    progress.id,
                    `${progress.to} not healthy after ${context.rollout.healthTimeoutMinutes} min: ${health.up} up (need ${expected}), ${health.down} down`,
                );
            }
            out.info(`waiting for ${progress.to}: ${health.up}/${expected} replicas up, ${health.down} down (${formatDuration(left)} left)`);
            await this.liveness.heartbeat(progress.id);
            await clock.sleep(Math.min(this.analysis.intervalSeconds * 1000, Math.max(1000, left)));
        }
        if (!(await this.capacityFor(progress.id, progress.steps[0]))) {
            return;
        }
        await this.transition(progress.id, (s) => stepState(s, 0, clock.now()), `step 1/${steps.length}: ${progress.to} at ${steps[0].weight} %`);
    }

    /** One step: bake with periodic analysis, then the next step or the promotion. */
    private async shiftPhase(state: ReleaseState, progress: ReleaseProgress, reapply: boolean): Promise<void> {
        const { clock, out } = this.session;
        const index = progress.stepIndex;
        const step = { weight: progress.steps[index], bakeSeconds: this.bakeSecondsOf(index, progress) };
        if (reapply) {
            await this.upOrRollBack(state, `re-apply: step ${index + 1}/${progress.steps.length}: ${progress.to} at ${step.weight} %`);
        }
        const metrics = await this.session.metrics();
        const bakeEnd = Date.parse(progress.stepStartedAt) + step.bakeSeconds * 1000;
        // The hold allowance counts from the bake's end, or from when this process took over.
        const holdEnd = Math.max(bakeEnd, clock.now().getTime()) + this.analysis.maxHoldMinutes * 60_000;
        let failures = 0;

        for (;;) {
            const current = await this.session.readState();
            const live = this.session.ours(current, progress.id);
            if (live.phase !== "shifting" || live.stepIndex !== index) {
                return;
            }
            if (live.promoteRequested) {
                out.info("promotion requested by an operator: skipping the remaining steps.");
                await this.promoteNow(progress.id);
                return;
            }

            const now = clock.now();
            const verdict = await this.judge(metrics, live, now);
            failures = verdict.decision === "rollback" ? failures + 1 : 0;
            await this.liveness.recordAnalysis(progress.id, verdict, now);
            const left = bakeEnd - now.getTime();
            this.progressLine(
                `step${index}:${verdict.decision}:${live.paused}`,
                `step ${index + 1}/${progress.steps.length} · ${progress.to} ${step.weight} % · ` +
                    `${left > 0 ? `bake ${formatDuration(left)} left` : "bake done"}${live.paused ? " · PAUSED" : ""} · ` +
                    `${verdict.decision}: ${verdict.reasons[0] ?? ""}`,
            );

            if (failures >= this.analysis.failureThreshold) {
                await this.rollback.failAndRollBackStop(progress.id, `analysis at step ${index + 1} (${step.weight} %): ${verdict.reasons[0]}`);
            }
            if (!live.paused && left <= 0) {
                if (verdict.decision === "continue") {
                    if (index + 1 < progress.steps.length) {
                        if (!(await this.capacityFor(progress.id, progress.steps[index + 1]))) {
                            continue; // paused or promotion requested while waiting: decide again
                        }
                        await this.transition(
                            progress.id,
                            (s) => stepState(s, index + 1, clock.now()),
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
            await clock.sleep(this.analysis.intervalSeconds * 1000);
        }
    }

    /** After promotion: keep the old slot for the rollback window, watching the new one, then scale the old one down. */
    private async windowPhase(state: ReleaseState, progress: ReleaseProgress, reapply: boolean): Promise<void> {
        const { clock, out } = this.session;
        if (reapply) {
            await this.upOrRollBack(state, `re-apply: promote ${progress.to}`);
        }
        const metrics = await this.session.metrics();
        const windowEnd = Date.parse(progress.windowEndsAt ?? progress.stepStartedAt);
        let failures = 0;
        for (;;) {
            const live = this.session.ours(await this.session.readState(), progress.id);
            if (live.phase !== "promoted") {
                return;
            }
            const now = clock.now();
            const left = windowEnd - now.getTime();
            if (live.promoteRequested || (left <= 0 && !live.paused)) {
                break;
            }
            const verdict = await this.judge(metrics, live, now);
            failures = verdict.decision === "rollback" ? failures + 1 : 0;
            await this.liveness.recordAnalysis(progress.id, verdict, now);
            this.progressLine(
                `window:${verdict.decision}:${live.paused}`,
                `promoted · ${progress.to} 100 % · rollback window ${formatDuration(left)} left${live.paused ? " · PAUSED" : ""} · ${verdict.decision}: ${verdict.reasons[0] ?? ""}`,
            );
            if (failures >= this.analysis.failureThreshold) {
                await this.rollback.failAndRollBackStop(progress.id, `analysis in the rollback window: ${verdict.reasons[0]}`);
            }
            await clock.sleep(Math.min(this.analysis.intervalSeconds * 1000, Math.max(1000, left)));
        }
        try {
            const floors = this.session.context.capacity ? "; the replica floors are cleared" : "";
            await this.transition(progress.id, (s) => completeState(s, clock.now()), `scale ${progress.from} down${floors}`, false);
        } catch (err) {
            if (err instanceof Stop) {
                throw err;
            }
            // The release itself is done (the new slot serves everything and is active); only the
            // old slot's workload still runs. The config already says scaledDown, so it cannot take
            // traffic back, and the next whole-stack update finishes the job.
            const stack = this.session.driver.stack;
            this.session.event(progress.id, "scale-down-failed", { slot: progress.from, error: message(err) });
            out.error(`scaling ${progress.from} down failed: ${message(err)}.`);
            out.error(
                `  the release is complete and recorded (${progress.to} active with all traffic); ${progress.from} still runs its replicas. ` +
                    `\`pulumi up --stack ${stack}\` applies the scale-down (the config already records it); nothing else is pending.`,
            );
            throw new Stop(EXIT.needsOperator);
        }
        this.session.event(progress.id, "completed", { active: progress.to, scaledDown: progress.from });
    }

    // ───────────────────────────── transitions ─────────────────────────────

    /**
     * One step of the release: one config write (checked against the release id) and one
     * `pulumi up`. A failed update rolls the release back unless `rollBackOnFailure` is false.
     */
    private async transition(id: string, change: (s: ReleaseState) => ReleaseState, what: string, rollBackOnFailure = true): Promise<void> {
        const next = await this.session.writeChecked(id, change, what);
        this.session.out.info(`→ ${what}`);
        try {
            await this.session.up(next, what);
        } catch (err) {
            if (!rollBackOnFailure) {
                throw err;
            }
            await this.rollback.failAndRollBackStop(id, `pulumi up for "${what}" failed: ${message(err)}`);
        }
    }

    private async promoteNow(id: string): Promise<void> {
        const window = this.session.context.rollout.rollbackWindowMinutes;
        const state = await this.session.readState();
        const progress = this.session.ours(state, id);
        // Promotion from a step below 100 % (an operator's `promote`) moves traffic: capacity first.
        if (trafficWeights(state)[progress.to] < 100 && !(await this.capacityFor(id, 100))) {
            return;
        }
        await this.transition(
            id,
            (s) => promoteState(s, this.session.clock.now(), window),
            `promote ${progress.to} to active (routing unchanged); rollback window ${window} min`,
        );
        this.session.event(id, "promoted", { active: progress.to, windowMinutes: window });
    }

    // ───────────────────────────── capacity ─────────────────────────────

    /**
     * Capacity before traffic moves to `weight` % on the new slot (autoscaled targets only): one
     * checked config write and one `pulumi up` set the new slot's floor to its share of the serving
     * slot's ready replicas and pin the serving slot at its count (capacity.ts; skipped when the
     * floors are already recorded), then wait until the new slot has that many replicas up, at most
     * `apfa:rollout.healthTimeoutMinutes`; past it, roll back like the deploy's health wait. While
     * it waits traffic stays where it is, and above 0 % the analysis goes on (a failure rolls back).
     * @returns true when the capacity is there; false when the release changed while waiting
     *   (paused, promotion requested): the caller decides again.
     */
    private async capacityFor(id: string, weight: number): Promise<boolean> {
        const { clock, context, out } = this.session;
        const range = context.capacity;
        if (!range) {
            return true;
        }
        const metrics = await this.session.metrics();
        const state = await this.session.readState();
        const progress = this.session.ours(state, id);
        const { from, to } = progress;
        const serving = await this.servingReplicas(metrics, state, from);
        const floors = planFloors({
            servingReplicas: serving.count,
            weight,
            range,
            recorded: { serving: state[from].minReplicas, receiving: state[to].minReplicas },
        });
        const record = { [from]: floorToRecord(floors.serving, range), [to]: floorToRecord(floors.receiving, range) } as Record<Slot, number | undefined>;
        this.session.event(id, "capacity", { weight, serving: from, servingReplicas: serving.count, servingRead: serving.read, floors: { [from]: floors.serving, [to]: floors.receiving } });
        if (deploysDifferently(state, withFloors(state, record))) {
            await this.transition(
                id,
                (s) => withFloors(s, record),
                `capacity before ${weight} %: ${to} at least ${floors.receiving} replicas, ${from} held at ${floors.serving} (${serving.description})`,
            );
        }

        const weightNow = trafficWeights(state)[to];
        const timeout = context.rollout.healthTimeoutMinutes;
        const deadline = clock.now().getTime() + timeout * 60_000;
        let failures = 0;
        for (;;) {
            const live = this.session.ours(await this.session.readState(), id);
            if (live.phase !== progress.phase || live.stepIndex !== progress.stepIndex || live.paused !== progress.paused || live.promoteRequested !== progress.promoteRequested) {
                return false;
            }
            const now = clock.now();
            let up = 0;
            let unreadable = "";
            try {
                up = (await metrics.health(to, now)).up;
            } catch (err) {
                unreadable = ` (replicas unreadable: ${message(err)})`;
            }
            if (up >= floors.receiving) {
                out.info(`${to} has ${up} replicas up (floor ${floors.receiving}): capacity for ${weight} % is there.`);
                this.session.event(id, "capacity-ready", { slot: to, up, floor: floors.receiving, weight });
                return true;
            }
            if (weightNow > 0) {
                const verdict = await this.judge(metrics, live, now);
                failures = verdict.decision === "rollback" ? failures + 1 : 0;
                await this.liveness.recordAnalysis(id, verdict, now);
                if (failures >= this.analysis.failureThreshold) {
                    await this.rollback.failAndRollBackStop(id, `analysis at ${weightNow} % while ${to} scaled out for ${weight} %: ${verdict.reasons[0]}`);
                }
            } else {
                await this.liveness.heartbeat(id);
            }
            const left = deadline - now.getTime();
            if (left <= 0) {
                await this.rollback.failAndRollBackStop(
                    id,
                    `${to} has ${up} of ${floors.receiving} replicas up ${timeout} min after its floor was raised for ${weight} %${unreadable}; the shift to ${weight} % did not happen`,
                );
            }
            this.progressLine(
                `capacity:${weight}:${up}`,
                `capacity before ${weight} %: ${to} ${up}/${floors.receiving} replicas up${unreadable} (${formatDuration(left)} left)`,
            );
            await clock.sleep(Math.min(this.analysis.intervalSeconds * 1000, Math.max(1000, left)));
        }
    }

    /**
     * The serving slot's ready replicas from the metric source; when it cannot tell (an error, or
     * none up), the slot's recorded minimum, which it runs at least.
     */
    private async servingReplicas(metrics: MetricSource, state: ReleaseState, slot: Slot): Promise<{ count: number; read: boolean; description: string }> {
        const { clock, context, out } = this.session;
        let why: string;
        try {
            const health = await metrics.health(slot, clock.now());
            if (health.up > 0) {
                return { count: health.up, read: true, description: `${slot} has ${health.up} up` };
            }
            why = "none up";
        } catch (err) {
            why = message(err);
        }
        const minimum = slotMinReplicas({ scaling: context.config.scaling, release: state }, slot);
        out.error(`cannot read ${slot}'s replicas (${why}); planning capacity from its minimum, ${minimum}`);
        return { count: minimum, read: false, description: `${slot}'s replicas unread: its minimum ${minimum}` };
    }

    /**
     * The re-apply of a release this process takes over (resume, promote). When the stack stays
     * locked, the update most likely belongs to the driver that seemed gone: a long whole-stack
     * update (a first deploy on ECS takes minutes) writes no heartbeat. Rolling back would undo a
     * healthy release for that, so this process steps aside instead; other failures roll back.
     */
    private async upOrRollBack(state: ReleaseState, what: string): Promise<void> {
        try {
            await this.session.up(state, what);
        } catch (err) {
            if (err instanceof StackLocked) {
                const stack = this.session.driver.stack;
                this.session.out.error(
                    `refused: ${message(err)}. Another update holds stack ${stack}, most likely the driver of this release still running ` +
                        `its \`pulumi up\`; nothing was changed. Check \`pulumi stack history --stack ${stack}\`, then \`npm run release -- status --stack ${stack}\` again.`,
                );
                throw new Stop(EXIT.refused);
            }
            await this.rollback.failAndRollBackStop(state.progress?.id ?? "", `pulumi up for "${what}" failed: ${message(err)}`);
        }
    }

    /** The step stayed undecided past its hold allowance: roll back, or pause for an operator (apfa:rollout.analysis.onInconclusive). */
    private async inconclusive(progress: ReleaseProgress, verdict: Verdict): Promise<void> {
        const why = `step ${progress.stepIndex + 1} still undecided ${this.analysis.maxHoldMinutes} min after its bake: ${verdict.reasons[0]}`;
        if (this.analysis.onInconclusive === "rollback") {
            await this.rollback.failAndRollBackStop(progress.id, why);
        }
        await this.session.writeChecked(progress.id, (s) => withProgress(s, { paused: true, reason: why }), "pause (inconclusive)");
        this.session.event(progress.id, "paused", { reason: why });
        this.session.out.error(`PAUSED: ${why}. Decide: \`release promote\`, \`release resume\` (wait longer) or \`release rollback\`.`);
        throw new Stop(EXIT.needsOperator);
    }

    // ───────────────────────────── analysis ─────────────────────────────

    /**
     * One verdict over the last `windowSeconds`. When the new slot had too few requests in it to
     * be judged (a 5 % canary step on a quiet service), the step's requests so far are judged
     * instead: the window widens to whole windows since the step began, at most
     * `maxWindowSeconds` ({@link widenedWindowSeconds}). Detection of a sudden failure is not
     * slowed by this: a window with enough requests is always judged on its own.
     */
    private async judge(metrics: MetricSource, progress: ReleaseProgress, now: Date): Promise<Verdict> {
        const thresholds: AnalysisThresholds = this.analysis;
        const promoted = progress.phase === "promoted";
        const verdictOver = async (seconds: number): Promise<Verdict & { requests: number }> => {
            const samples = await metrics.sample(seconds, now);
            const verdict = analyse({ candidate: samples[progress.to], baseline: promoted ? undefined : samples[progress.from] }, thresholds);
            return { ...verdict, requests: samples[progress.to].requests };
        };
        const window = this.analysis.windowSeconds;
        try {
            const narrow = await verdictOver(window);
            if (!(narrow.requests < this.analysis.minRequests)) {
                return narrow;
            }
            const wide = widenedWindowSeconds(this.analysis, now.getTime() - Date.parse(progress.stepStartedAt));
            if (wide <= window) {
                return narrow;
            }
            const widened = await verdictOver(wide);
            return {
                decision: widened.decision,
                reasons: widened.reasons.map(
                    (r, i) => (i === 0 ? `over the step's last ${formatDuration(wide * 1000)} (${Math.round(narrow.requests)} requests in ${window}s): ${r}` : r),
                ),
            };
        } catch (err) {
            // No data is not evidence of failure: hold, and let the hold limit decide.
            return { decision: "hold", reasons: [`metrics unavailable: ${message(err)}`] };
        }
    }

    /** A progress line when the state changes, else at most every {@link PROGRESS_SECONDS}. */
    private progressLine(key: string, line: string): void {
        const now = this.session.clock.now().getTime();
        if (key !== this.lastProgressKey || now - this.lastProgressAt >= PROGRESS_SECONDS * 1000) {
            this.session.out.info(line);
            this.lastProgressKey = key;
            this.lastProgressAt = now;
        }
    }

    private bakeSecondsOf(index: number, progress: ReleaseProgress): number {
        // The configured bake of the step with this weight (steps are fixed at start; bakes come from config).
        return this.session.steps.find((s) => s.weight === progress.steps[index])?.bakeSeconds ?? this.session.context.rollout.bakeMinutes * 60;
    }
}
