/**
 * Waves across region stacks: `npm run release -- start --stacks prod-aws,prod-aws-usw2 --image I`
 * releases I to one region at a time, in the order given, each region with its own steps, gates
 * and rollback (the region's `apfa:rollout`), through the same state machine as a single-stack
 * release.
 *
 * - A region is done when its release completes: its rollback window is over and its old slot is
 *   scaled down. Only then does the next region start, so a regression that shows only in a
 *   region's rollback window stops the wave before another region sees it.
 * - A failure (a rollback, a refusal, a stop for an operator) stops the wave. The failing region
 *   rolls itself back (its machine does); the regions before it keep the new release, and the
 *   regions after it are not touched. Earlier regions are not rolled back: each passed its own
 *   gates on its own traffic, its old slot is already scaled down (rolling back would mean a new
 *   release of the old image, in an incident, in regions that are healthy), and a cross-region
 *   mixed version is the state a wave goes through anyway. To undo them, release the old image
 *   as a new wave.
 * - Every region's release state records the wave (`apfa:release.progress.wave`: id, the stacks in
 *   order, the region's index, the `--env` overrides), so `status --stacks` shows every region and
 *   `resume --stacks` finds the wave from the stacks alone: it skips the regions that completed,
 *   resumes the one in progress, and starts the rest with the wave's image.
 */
import { parseReleaseState, type ReleaseProgress, type ReleaseState } from "../../src/config";
import type { WaveRecord } from "../../src/config/release";
import { isoSeconds, type Clock } from "./clock";
import type { StackDriver } from "./driver";
import type { EventLog } from "./events";
import { EXIT, type Reporter, type ReleaseMachine } from "./machine";
import { describePhase, holdsStack } from "./state";

/** One region of a wave: its release machine and its stack. */
export interface Region {
    readonly machine: ReleaseMachine;
    readonly driver: StackDriver;
}

/** Opens a region stack (reads and validates its config); throws when it cannot. */
export type OpenRegion = (stack: string) => Promise<Region>;

export interface WaveDeps {
    readonly open: OpenRegion;
    readonly clock: Clock;
    readonly reporter: Reporter;
    readonly events: EventLog;
}

export interface WaveStartOptions {
    readonly image?: string;
    readonly env?: Readonly<Record<string, string>>;
    readonly dryRun?: boolean;
}

/** Where one region stands in a wave. */
type RegionStanding = "done" | "in progress" | "rolled back" | "not started";

export class Wave {
    private readonly regions = new Map<string, Region>();

    constructor(
        private readonly stacks: readonly string[],
        private readonly deps: WaveDeps,
    ) {
        if (stacks.length === 0 || new Set(stacks).size !== stacks.length) {
            throw new Error(`a wave needs distinct region stacks, got ${stacks.join(",")}`);
        }
    }

    private get out(): Reporter {
        return this.deps.reporter;
    }

    private async region(stack: string): Promise<Region> {
        let region = this.regions.get(stack);
        if (!region) {
            region = await this.deps.open(stack);
            this.regions.set(stack, region);
        }
        return region;
    }

    private async state(stack: string): Promise<ReleaseState> {
        return parseReleaseState(await (await this.region(stack)).driver.readRelease());
    }

    /**
     * Starts a wave: every region is checked first (its config valid, no release holding it, no
     * preview weight left), then the regions are released one at a time.
     */
    async start(options: WaveStartOptions): Promise<number> {
        if (options.dryRun) {
            for (const [index, stack] of this.stacks.entries()) {
                this.out.info(`── region ${index + 1}/${this.stacks.length}: ${stack}`);
                const code = await (await this.region(stack)).machine.start({ image: options.image, env: options.env, dryRun: true });
                if (code !== EXIT.ok) {
                    return code;
                }
            }
            return EXIT.ok;
        }
        const problems: string[] = [];
        for (const stack of this.stacks) {
            try {
                const state = await this.state(stack);
                if (state.progress && holdsStack(state.progress)) {
                    problems.push(`${stack}: release ${state.progress.id} holds it (${describePhase(state.progress)})`);
                } else if (state.previewWeight !== 0) {
                    problems.push(`${stack}: apfa:release.previewWeight is ${state.previewWeight} with no release in progress`);
                }
            } catch (err) {
                problems.push(`${stack}: ${err instanceof Error ? err.message : String(err)}`);
            }
        }
        if (problems.length > 0) {
            this.out.error(`refused: the wave cannot start; nothing was changed:`);
            for (const problem of problems) {
                this.out.error(`  ${problem}`);
            }
            return EXIT.refused;
        }
        const id = `${isoSeconds(this.deps.clock.now()).slice(0, 19).replace(/[-:]/g, "").replace("T", "-")}-wave`;
        this.out.info(`wave ${id}: ${options.image ?? "the build context"} to ${this.stacks.join(" → ")}, one region at a time`);
        return this.run(id, 0, options.image, options.env ?? {});
    }

    /** Releases regions `from`… of wave `id`, each to its end; stops at the first that does not complete. */
    private async run(id: string, from: number, image: string | undefined, env: Readonly<Record<string, string>>): Promise<number> {
        for (let index = from; index < this.stacks.length; index++) {
            const stack = this.stacks[index];
            const wave: WaveRecord = { id, stacks: [...this.stacks], index, env: { ...env } };
            this.out.info(`── wave ${id}: region ${index + 1}/${this.stacks.length}: ${stack}`);
            this.event(stack, id, { region: stack, index, action: "start" });
            const code = await (await this.region(stack)).machine.start({ image, env, wave });
            if (code !== EXIT.ok) {
                return this.stopped(id, index, code);
            }
            this.event(stack, id, { region: stack, index, action: "done" });
        }
        this.out.info(`wave ${id} complete: ${this.stacks.join(", ")} run the new release.`);
        return EXIT.ok;
    }

    private stopped(id: string, index: number, code: number): number {
        const stack = this.stacks[index];
        const done = this.stacks.slice(0, index);
        const untouched = this.stacks.slice(index + 1);
        this.event(stack, id, { region: stack, index, action: "stopped", exitCode: code });
        const what =
            code === EXIT.rolledBack ? "was rolled back" : code === EXIT.refused ? "refused the release" : "stopped for an operator";
        this.out.error(`WAVE STOPPED: ${stack} ${what} (exit ${code}).`);
        this.out.error(
            `  ${done.length ? `${done.join(", ")} keep the new release (completed; not rolled back)` : "no earlier region was released"}; ` +
                `${untouched.length ? `${untouched.join(", ")} were not touched` : "no region was left"}.`,
        );
        const cmd = (command: string) => `npm run release -- ${command} --stacks ${this.stacks.join(",")}`;
        if (code === EXIT.rolledBack) {
            this.out.error(`  see \`${cmd("status")}\`; fix the release and start a new wave (it begins again with ${this.stacks[0]}).`);
        } else {
            this.out.error(`  see \`${cmd("status")}\`; once the cause is dealt with, \`${cmd("resume")}\` continues the wave from ${stack}.`);
        }
        return code;
    }

    /** The wave recorded on these stacks: the newest wave whose region list is exactly this one. */
    private async recordedWave(): Promise<{ id: string; image?: string; env: Readonly<Record<string, string>> } | undefined> {
        let found: { id: string; progress: ReleaseProgress; wave: WaveRecord } | undefined;
        for (const stack of this.stacks) {
            const progress = (await this.state(stack)).progress;
            const wave = progress?.wave;
            if (progress && wave && wave.stacks.join(",") === this.stacks.join(",") && (!found || wave.id > found.id)) {
                found = { id: wave.id, progress, wave };
            }
        }
        return found && { id: found.id, image: found.progress.image, env: found.wave.env };
    }

    private async standing(stack: string, id: string): Promise<{ standing: RegionStanding; progress?: ReleaseProgress }> {
        const progress = (await this.state(stack)).progress;
        if (!progress || progress.wave?.id !== id) {
            return { standing: "not started" };
        }
        if (progress.phase === "completed") {
            return { standing: "done", progress };
        }
        if (progress.phase === "rolledBack") {
            return { standing: "rolled back", progress };
        }
        return { standing: "in progress", progress };
    }

    /** `resume --stacks`: skips the completed regions, resumes the one in progress, starts the rest. */
    async resume(): Promise<number> {
        const wave = await this.recordedWave();
        if (!wave) {
            this.out.info(`nothing to resume: no wave over ${this.stacks.join(",")} is recorded on these stacks.`);
            return EXIT.ok;
        }
        for (const [index, stack] of this.stacks.entries()) {
            const { standing, progress } = await this.standing(stack, wave.id);
            if (standing === "done") {
                this.out.info(`── wave ${wave.id}: region ${index + 1}/${this.stacks.length}: ${stack} done (release ${progress?.id}).`);
                continue;
            }
            if (standing === "rolled back") {
                this.out.error(`wave ${wave.id}: ${stack} was rolled back (${progress?.reason ?? "no reason recorded"}); the wave does not go on. Start a new wave.`);
                return EXIT.rolledBack;
            }
            if (standing === "in progress") {
                this.out.info(`── wave ${wave.id}: region ${index + 1}/${this.stacks.length}: ${stack} resumes release ${progress?.id}.`);
                this.event(stack, wave.id, { region: stack, index, action: "resume" });
                const code = await (await this.region(stack)).machine.resume();
                if (code !== EXIT.ok) {
                    return this.stopped(wave.id, index, code);
                }
                // `resume` hands over to a live driver without waiting: the region is not done yet.
                if ((await this.standing(stack, wave.id)).standing !== "done") {
                    this.out.info(`${stack} is driven by another process; run resume again once it completes.`);
                    return EXIT.ok;
                }
                this.event(stack, wave.id, { region: stack, index, action: "done" });
                continue;
            }
            return this.run(wave.id, index, wave.image, wave.env);
        }
        this.out.info(`wave ${wave.id} complete: ${this.stacks.join(", ")} run the new release.`);
        return EXIT.ok;
    }

    /** `status --stacks`: one line per region of the wave, then each region's own status. */
    async status(): Promise<number> {
        const wave = await this.recordedWave();
        this.out.info(wave ? `wave ${wave.id}: ${wave.image ?? "the build context"} over ${this.stacks.join(" → ")}` : `no wave recorded over ${this.stacks.join(",")}`);
        for (const [index, stack] of this.stacks.entries()) {
            if (wave) {
                const { standing, progress } = await this.standing(stack, wave.id);
                this.out.info(`  ${index + 1}. ${stack.padEnd(20)} ${standing}${progress && standing === "in progress" ? ` (${describePhase(progress)})` : ""}`);
            }
        }
        for (const [index, stack] of this.stacks.entries()) {
            this.out.info(`── region ${index + 1}/${this.stacks.length}: ${stack}`);
            await (await this.region(stack)).machine.status();
        }
        return EXIT.ok;
    }

    /**
     * `rollback`, `pause` or `promote` with `--stacks`: acts on the region whose release holds its
     * stack (in a wave, at most one does). Completed regions are not rolled back (see above).
     */
    async inProgressRegion(command: "rollback" | "pause" | "promote", reason?: string): Promise<number> {
        for (const stack of this.stacks) {
            const progress = (await this.state(stack)).progress;
            if (progress && holdsStack(progress)) {
                this.out.info(`${command}: ${stack} (release ${progress.id}, ${describePhase(progress)})`);
                const machine = (await this.region(stack)).machine;
                return command === "rollback" ? machine.rollback(reason) : command === "pause" ? machine.pause() : machine.promote();
            }
        }
        this.out.error(`refused: no region of ${this.stacks.join(",")} has a release in progress; nothing to ${command}.`);
        return EXIT.refused;
    }

    private event(stack: string, wave: string, data: Record<string, unknown>): void {
        this.deps.events.append({ at: isoSeconds(this.deps.clock.now()), stack, release: wave, type: "wave", ...data });
    }
}
