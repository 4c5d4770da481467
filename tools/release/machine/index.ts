/**
 * The release state machine: `start`, `resume`, `rollback`, `pause`, `promote` and `status` over a
 * `StackDriver`, a `Clock` and a `MetricSource`. This facade composes its parts,
 * one per way a release can fail:
 *
 * - `commands.ts`: the commands and their refusals (what the recorded state allows);
 * - `phases.ts`: the drive loop (deploy, steps with bake and analysis, the rollback window);
 * - `rollback.ts`: the rollback (one write, one targeted update, retried while the stack is locked);
 * - `liveness.ts`: the driver's heartbeat and stale-driver detection;
 * - `session.ts`: what they share (validated state reads and writes, updates, events, exit codes).
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
 *   release (a rollback or a new release from another shell), or if anyone changed what the
 *   release deploys since this process last wrote it (a hand edit, a second driver): config has
 *   no lock, so this narrows the window in which two writers could race to the ~1 s between a
 *   read and a write, and a foreign change is named and left to an operator (exit 3).
 * - A `pulumi up` that finds the stack locked by another update is retried for a minute (nothing
 *   was changed by the refused attempt); the rollback's own update too.
 */
import type { ReleaseContext } from "../context";
import { ReleaseCommands, type StartOptions } from "./commands";
import { Liveness } from "./liveness";
import { ReleasePhases } from "./phases";
import { RollbackExecutor } from "./rollback";
import { ReleaseSession, type MachineDeps } from "./session";

export type { StartOptions } from "./commands";
export { HEARTBEAT_SECONDS } from "./liveness";
export { EXIT, type MachineDeps, type Reporter } from "./session";

export class ReleaseMachine {
    private readonly commands: ReleaseCommands;

    constructor(deps: MachineDeps, context: ReleaseContext) {
        const session = new ReleaseSession(deps, context);
        const liveness = new Liveness(session);
        const rollback = new RollbackExecutor(session);
        const phases = new ReleasePhases(session, liveness, rollback);
        this.commands = new ReleaseCommands(session, liveness, rollback, phases);
    }

    /** `release start`: deploys the image to the idle slot and drives the release to its end. */
    start(options: StartOptions): Promise<number> {
        return this.commands.start(options);
    }

    /** `release resume`: clears a pause and drives the recorded release on from where it is. */
    resume(): Promise<number> {
        return this.commands.resume();
    }

    /** `release pause`: the release stops before its next step. */
    pause(): Promise<number> {
        return this.commands.pause();
    }

    /** `release promote`: skips the remaining steps (during the rollback window: ends it). */
    promote(): Promise<number> {
        return this.commands.promote();
    }

    /** `release rollback`: all traffic back to the previous slot in one targeted update. */
    rollback(reason?: string): Promise<number> {
        return this.commands.rollback(reason);
    }

    /** `release status`: slots, images, weights, step, time left, last analysis, and what to do. */
    status(): Promise<number> {
        return this.commands.status();
    }
}
