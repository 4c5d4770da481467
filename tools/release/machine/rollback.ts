/**
 * The rollback, whatever the release was doing (also during the rollback window after promotion):
 * one config write (`previewWeight` 0, the old slot active) and one `pulumi up --target
 * <trafficUrn>`, so only the traffic resource changes, then a record that it finished. It must not
 * give up because another update holds the stack lock, and it re-applies itself if a racing writer
 * replaced its write.
 */
import type { ReleaseState, Slot } from "../../../src/config";
import { trafficWeights } from "../../../src/bluegreen";
import type { UpOutcome } from "../driver";
import { RollbackImpossible, deploysDifferently, rollbackState, rolledBackState } from "../state";
import { EXIT, Stop, message, type ReleaseSession } from "./session";

/** How often a locked stack is retried, and how long apart: a minute in all. */
const LOCK_RETRIES = 12;
const LOCK_RETRY_MS = 5000;

export class RollbackExecutor {
    constructor(private readonly session: ReleaseSession) {}

    /** Automatic rollback from inside the drive loop; always ends the loop. */
    async failAndRollBackStop(id: string, reason: string): Promise<never> {
        this.session.out.error(`ROLLBACK: ${reason}`);
        throw new Stop(await this.rollBack(id, reason));
    }

    /** Automatic rollback outside the drive loop (the first deploy failed). */
    async failAndRollBack(reason: string): Promise<number> {
        const state = await this.session.readState();
        this.session.out.error(`ROLLBACK: ${reason}`);
        return state.progress ? this.rollBack(state.progress.id, reason) : EXIT.rolledBack;
    }

    /**
     * Rolls release `id` back. The write is re-checked after the update: if a racing writer
     * replaced it, it is written and applied again (3 attempts).
     */
    async rollBack(id: string, reason: string): Promise<number> {
        const { out } = this.session;
        for (let attempt = 1; attempt <= 3; attempt++) {
            const state = await this.session.readState();
            const progress = state.progress;
            if (!progress || progress.id !== id) {
                out.error(`refused: the recorded release is no longer ${id}.`);
                return EXIT.refused;
            }
            let next: ReleaseState;
            try {
                next = rollbackState(state, reason);
            } catch (err) {
                if (err instanceof RollbackImpossible) {
                    out.error(`refused: ${err.message}`);
                    return EXIT.refused;
                }
                throw err;
            }
            const weights = trafficWeights(next);
            const what = `rollback: all traffic to ${next.active} (${formatWeights(weights)})`;
            await this.session.write(next, what);
            this.session.event(id, "rollback", { reason, trafficUrn: progress.trafficUrn, attempt });
            out.info(`→ ${what}: pulumi up --target ${progress.trafficUrn}`);
            try {
                await this.upRetryingWhileLocked(next, what, [progress.trafficUrn]);
            } catch (err) {
                out.error(
                    `ROLLBACK NOT FINISHED: the targeted update failed: ${message(err)}. The state records the rollback; ` +
                        `run \`npm run release -- rollback --stack ${this.session.driver.stack}\` again.`,
                );
                this.session.event(id, "rollback-failed", { error: message(err) });
                return EXIT.needsOperator;
            }
            const after = await this.session.readState();
            if (after.progress?.id === id && !deploysDifferently(after, next)) {
                await this.session.write(rolledBackState(after, this.session.clock.now()), "record the rollback");
                this.session.event(id, "rolled-back", { active: next.active });
                out.info(`rolled back: ${next.active} takes all traffic. Reason: ${reason}`);
                return EXIT.rolledBack;
            }
            out.error("the release state changed while rolling back (another writer); applying the rollback again.");
        }
        out.error("rollback could not be confirmed after 3 attempts; check `release status`.");
        return EXIT.needsOperator;
    }

    /** No release recorded but a preview weight set by hand: route it back the same way. */
    async manualRollback(state: ReleaseState): Promise<number> {
        const outputs = await this.session.driver.outputs();
        const urn = typeof outputs.trafficUrn === "string" ? outputs.trafficUrn : undefined;
        if (!urn) {
            this.session.out.error("refused: no trafficUrn stack output to target; run `pulumi up`.");
            return EXIT.refused;
        }
        const next: ReleaseState = { ...state, previewWeight: 0 };
        const what = `rollback: all traffic to ${state.active}`;
        await this.session.write(next, what);
        this.session.out.info(`→ ${what}: pulumi up --target ${urn}`);
        await this.upRetryingWhileLocked(next, what, [urn]);
        return EXIT.ok;
    }

    /**
     * A rollback must not give up because a step's update holds the stack lock (a driver in
     * another shell): retry for up to a minute while Pulumi reports a concurrent update.
     */
    private async upRetryingWhileLocked(state: ReleaseState, what: string, target: string[]): Promise<UpOutcome> {
        for (let attempt = 1; ; attempt++) {
            try {
                return await this.session.up(state, what, target);
            } catch (err) {
                const locked = err instanceof Error && (err.name === "ConcurrentUpdateError" || /concurrent update|currently in progress/i.test(err.message));
                if (!locked || attempt >= LOCK_RETRIES) {
                    throw err;
                }
                this.session.out.info(`  the stack is locked by another update; retrying in ${LOCK_RETRY_MS / 1000}s (${attempt}/${LOCK_RETRIES})`);
                await this.session.clock.sleep(LOCK_RETRY_MS);
            }
        }
    }
}

function formatWeights(weights: Readonly<Record<Slot, number>>): string {
    return `blue ${weights.blue} % / green ${weights.green} %`;
}
