/**
 * The release commands an operator runs: `start`, `resume`, `pause`, `promote`, `rollback` and
 * `status`. Each checks first whether the recorded state allows it (refusing with
 * {@link EXIT.refused} and what to do instead), then changes the state, hands a release to the
 * drive loop, or leaves it to the process already driving it.
 */
import { ENV_NAME } from "../../../src/config";
import type { WaveRecord } from "../../../src/config/release";
import { otherSlot, slotImage } from "../../../src/bluegreen";
import { formatDuration } from "../clock";
import { describePlan, describeStatus } from "../render";
import {
    describeDeployableChanges,
    describeHolder,
    holdsStack,
    newReleaseId,
    promotionChangesOldSlot,
    rollbackState,
    startState,
    withProgress,
    type RolloutStep,
} from "../state";
import { HEARTBEAT_SECONDS, type Liveness } from "./liveness";
import type { ReleasePhases } from "./phases";
import type { RollbackExecutor } from "./rollback";
import { EXIT, message, type ReleaseSession } from "./session";

export interface StartOptions {
    /** The new image; undefined on docker runs the build context. */
    readonly image?: string;
    /** Environment overrides for the new slot ("" removes a variable). */
    readonly env?: Readonly<Record<string, string>>;
    readonly dryRun?: boolean;
    /** Set when the release is one region of a wave (recorded in the release state and events). */
    readonly wave?: WaveRecord;
}

export class ReleaseCommands {
    constructor(
        private readonly session: ReleaseSession,
        private readonly liveness: Liveness,
        private readonly rollbacks: RollbackExecutor,
        private readonly phases: ReleasePhases,
    ) {}

    private get stack(): string {
        return this.session.driver.stack;
    }

    /** `release start`: deploys the image to the idle slot and drives the release to its end. */
    async start(options: StartOptions): Promise<number> {
        const { out, steps } = this.session;
        const current = await this.session.readState();
        if (current.progress && holdsStack(current.progress)) {
            out.error(`refused: ${describeHolder(current.progress)} holds stack ${this.stack}.`);
            out.error(`  see \`npm run release -- status --stack ${this.stack}\`; finish it with resume, promote or rollback first.`);
            return EXIT.refused;
        }
        if (current.previewWeight !== 0) {
            out.error(
                `refused: apfa:release.previewWeight is ${current.previewWeight} but no release is in progress; ` +
                    `run \`npm run release -- rollback --stack ${this.stack}\` (or set it to 0) first.`,
            );
            return EXIT.refused;
        }
        const problem = this.startProblem(options);
        if (problem) {
            out.error(`refused: ${problem}`);
            return EXIT.refused;
        }

        const outputs = await this.session.driver.outputs();
        const trafficUrn = typeof outputs.trafficUrn === "string" && outputs.trafficUrn !== "" ? outputs.trafficUrn : undefined;
        const now = this.session.clock.now();
        const to = otherSlot(current.active);
        const id = newReleaseId(now, to);
        const next = startState(current, {
            id,
            image: options.image,
            env: options.env ?? {},
            steps,
            trafficUrn: trafficUrn ?? "<trafficUrn stack output>",
            now,
            wave: options.wave,
        });
        if (promotionChangesOldSlot(next)) {
            out.error(
                `refused: ${current.active} has no image of its own (it runs ${slotImage(current, current.active) ?? "the build context"} ` +
                    `by fallback), so promoting ${to} would redeploy ${current.active} with the new image and leave nothing to roll back to. ` +
                    `Set apfa:release.${current.active}.image, or release without --image.`,
            );
            return EXIT.refused;
        }

        if (options.dryRun) {
            for (const line of describePlan(this.session.context, current, next, { trafficUrn, metrics: this.session.metricsDescription() })) {
                out.info(line);
            }
            return EXIT.ok;
        }
        if (!trafficUrn) {
            out.error(`refused: stack ${this.stack} has no trafficUrn output; run \`pulumi up\` once before the first release.`);
            return EXIT.refused;
        }
        // Fail before touching anything if the metrics cannot judge this release: the source must
        // answer and see the serving slot's replicas (else the new slot's would not be seen either).
        const metrics = await this.session.metrics();
        try {
            const serving = await metrics.health(current.active, now);
            if (serving.up === 0) {
                out.error(
                    `refused: ${metrics.description} sees no replica of the serving slot ${current.active} ` +
                        `(check the URL, and that APFA is scraped with job and slot labels)`,
                );
                return EXIT.refused;
            }
        } catch (err) {
            out.error(`refused: the metric source cannot be read: ${message(err)}`);
            return EXIT.refused;
        }

        // The checks above took a while (the metric source): if someone changed apfa:release since
        // it was read, the first write would silently undo their change.
        const reread = await this.session.readState();
        if (JSON.stringify(reread) !== JSON.stringify(current)) {
            out.error(
                `refused: apfa:release changed while the release was being prepared (${describeDeployableChanges(current, reread).join("; ") || "its progress"}); ` +
                    "nothing was written. Run start again.",
            );
            return EXIT.refused;
        }

        this.session.event(id, "start", { image: options.image, from: current.active, to, steps, metrics: metrics.description, ...(options.wave ? { wave: options.wave } : {}) });
        out.info(`release ${id}: ${options.image ?? "the build context"} on ${to}; ${current.active} keeps serving (${formatSteps(steps)})`);
        try {
            await this.session.write(next, "deploy the new slot at 0 %");
        } catch (err) {
            out.error(`could not write apfa:release: ${message(err)}. Nothing was changed; run start again.`);
            return EXIT.needsOperator;
        }
        try {
            await this.session.up(next, `deploy ${options.image ?? "the build context"} to ${to} at 0 %`);
        } catch (err) {
            return this.rollbacks.failAndRollBack(id, `deploying ${to} failed: ${message(err)}`);
        }
        return this.phases.drive(id, false);
    }

    /** `release resume`: clears a pause and drives the recorded release on from where it is. */
    async resume(): Promise<number> {
        const { out } = this.session;
        const progress = (await this.session.readState()).progress;
        if (!progress || !holdsStack(progress)) {
            out.info(progress ? `nothing to resume: ${describeHolder(progress)}.` : "nothing to resume: no release is recorded.");
            return progress?.phase === "rolledBack" ? EXIT.rolledBack : EXIT.ok;
        }
        if (progress.phase === "rollingBack") {
            out.info(`release ${progress.id} was rolling back; finishing the rollback.`);
            return this.rollback(progress.reason ?? "finishing an interrupted rollback");
        }
        if (progress.paused) {
            await this.session.writeChecked(progress.id, (s) => withProgress(s, { paused: false }), "resume");
            out.info(`release ${progress.id} resumed.`);
        }
        const live = this.liveness.liveDriver(progress);
        if (live) {
            this.session.event(progress.id, "resumed", { drivenBy: live });
            out.info(`the release is driven by pid ${live.pid} on ${live.host}; it carries on.`);
            return EXIT.ok;
        }
        this.session.event(progress.id, "resumed", { phase: progress.phase, step: progress.stepIndex });
        await this.session.metrics();
        return this.phases.drive(progress.id, true);
    }

    /** `release pause`: the release stops before its next step (the analysis and automatic rollback go on). */
    async pause(): Promise<number> {
        const { out } = this.session;
        const state = await this.session.readState();
        const progress = state.progress;
        if (!progress || !holdsStack(progress) || progress.phase === "rollingBack") {
            out.error(`refused: ${progress ? describeHolder(progress) : "no release is recorded"}; nothing to pause.`);
            return EXIT.refused;
        }
        await this.session.writeChecked(progress.id, (s) => withProgress(s, { paused: true }), "pause");
        this.session.event(progress.id, "pause", {});
        out.info(`release ${progress.id} paused at ${describeHolder(progress)}; \`release resume\` continues, \`release rollback\` routes back.`);
        return EXIT.ok;
    }

    /**
     * `release promote`: an operator decision to skip the remaining steps. During the steps it
     * promotes the new slot now; during the rollback window it ends the window (scales the old slot down).
     */
    async promote(): Promise<number> {
        const { out } = this.session;
        const state = await this.session.readState();
        const progress = state.progress;
        if (!progress || !holdsStack(progress) || progress.phase === "rollingBack" || progress.phase === "deploying") {
            const why = progress?.phase === "deploying" ? "the new slot is not verified healthy yet" : "no release can be promoted";
            out.error(`refused: ${why} (${progress ? describeHolder(progress) : "no release is recorded"}).`);
            return EXIT.refused;
        }
        await this.session.writeChecked(progress.id, (s) => withProgress(s, { promoteRequested: true, paused: false }), "promote request");
        this.session.event(progress.id, "promote-requested", { phase: progress.phase });
        const live = this.liveness.liveDriver(progress);
        if (live) {
            out.info(
                `promotion requested; pid ${live.pid} on ${live.host} drives the release and will act on it within ${this.session.analysis.intervalSeconds}s.`,
            );
            return EXIT.ok;
        }
        await this.session.metrics();
        return this.phases.drive(progress.id, true);
    }

    /**
     * `release rollback`: all traffic back to the previous slot in one targeted update, whatever
     * the release was doing. Without a recorded release it still sets previewWeight to 0.
     */
    async rollback(reason = "operator rollback"): Promise<number> {
        const { out } = this.session;
        const state = await this.session.readState();
        const progress = state.progress;
        if (!progress || progress.phase === "completed") {
            if (progress?.phase === "completed") {
                try {
                    rollbackState(state, reason);
                } catch (err) {
                    out.error(`refused: ${message(err)}`);
                    return EXIT.refused;
                }
            }
            if (state.previewWeight === 0) {
                out.info(`nothing to roll back: ${state.active} already takes all traffic.`);
                return EXIT.ok;
            }
            return this.rollbacks.manualRollback(state);
        }
        const code = await this.rollbacks.rollBack(progress.id, reason);
        // For this command a finished rollback is success.
        return code === EXIT.rolledBack ? EXIT.ok : code;
    }

    /** `release status`: slots, images, weights, step, time left, last analysis, and what to do. */
    async status(): Promise<number> {
        const state = await this.session.readState();
        let outputs: Record<string, unknown> = {};
        try {
            outputs = await this.session.driver.outputs();
        } catch (err) {
            this.session.out.error(`(stack outputs unavailable: ${message(err)})`);
        }
        for (const line of describeStatus(this.session.context, state, outputs, this.session.clock.now(), HEARTBEAT_SECONDS)) {
            this.session.out.info(line);
        }
        return EXIT.ok;
    }

    /**
     * What the config cannot tell: the flags of this start. (The config's own rules, e.g. CloudWatch
     * only on aws or an analysis window of at least two scrapes, were checked when it was read.)
     */
    private startProblem(options: StartOptions): string | undefined {
        const { config } = this.session.context;
        if (options.image === undefined && config.cloud !== "docker") {
            return `--image is required on ${config.cloud} (only the docker target can release its build context)`;
        }
        for (const name of Object.keys(options.env ?? {})) {
            if (!ENV_NAME.test(name)) {
                return `--env ${name}: env names are A-Z, 0-9 and _`;
            }
        }
        return undefined;
    }
}

function formatSteps(steps: readonly RolloutStep[]): string {
    return steps.map((s) => `${s.weight} % for ${formatDuration(s.bakeSeconds * 1000)}`).join(" → ");
}
