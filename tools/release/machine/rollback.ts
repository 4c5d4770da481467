/**
 * The rollback, whatever the release was doing (also during the rollback window after promotion):
 * one config write (`previewWeight` 0, the old slot active) and one `pulumi up --target
 * <trafficUrn>`, so only the traffic resource changes, then a record that it finished. It does not
 * give up while another update holds the stack lock for up to a minute (session.up), and it
 * re-applies itself if a racing writer replaced its write.
 */
import type { ReleaseState, Slot } from "../../../src/config";
import { trafficWeights } from "../../../src/bluegreen";
import { RollbackImpossible, deploysDifferently, rollbackState, rolledBackState } from "../state";
import { EXIT, Stop, StackLocked, message, type ReleaseSession } from "./session";

export class RollbackExecutor {
    constructor(private readonly session: ReleaseSession) {}

    /** Automatic rollback from inside the drive loop; always ends the loop. */
    async failAndRollBackStop(id: string, reason: string): Promise<never> {
        this.session.out.error(`ROLLBACK: ${reason}`);
        throw new Stop(await this.rollBack(id, reason));
    }

    /** Automatic rollback of release `id` outside the drive loop (its first deploy failed). */
    async failAndRollBack(id: string, reason: string): Promise<number> {
        this.session.out.error(`ROLLBACK: ${reason}`);
        return this.rollBack(id, reason);
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
                await this.session.up(next, what, [progress.trafficUrn]);
            } catch (err) {
                const stack = this.session.driver.stack;
                const outputs = await this.session.driver.outputs().catch(() => ({}) as Record<string, unknown>);
                const deployed = outputs.weights as Record<Slot, number> | undefined;
                out.error(`ROLLBACK NOT FINISHED: the targeted update failed: ${message(err)}.`);
                out.error(
                    `  the config records the rollback (${formatWeights(weights)}, phase rollingBack), but the traffic resource still applies ` +
                        `${deployed && typeof deployed.blue === "number" ? formatWeights(deployed) : "the weights of the last finished update"}.`,
                );
                if (err instanceof StackLocked) {
                    out.error(
                        `  another update holds the stack: find it (\`pulumi stack history --stack ${stack}\`, a CI job); if its process is gone, ` +
                            `\`pulumi cancel --stack ${stack}\`. Then run \`npm run release -- rollback --stack ${stack}\` again.`,
                    );
                } else {
                    out.error(`  run \`npm run release -- rollback --stack ${stack}\` again (it re-applies the same targeted update).`);
                }
                this.session.event(id, "rollback-failed", { error: message(err), locked: err instanceof StackLocked });
                return EXIT.needsOperator;
            }
            const after = await this.session.readState();
            if (after.progress?.id === id && !deploysDifferently(after, next)) {
                await this.session.write(rolledBackState(after, this.session.clock.now()), "record the rollback");
                this.session.event(id, "rolled-back", { active: next.active });
                // The recorded reason: a rollback finishing an interrupted one keeps the first one's reason.
                out.info(`rolled back: ${next.active} takes all traffic. Reason: ${next.progress?.reason ?? reason}`);
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
        // A rollback must not give up because another update holds the stack lock: session.up retries for a minute.
        await this.session.up(next, what, [urn]);
        return EXIT.ok;
    }
}

function formatWeights(weights: Readonly<Record<Slot, number>>): string {
    return `blue ${weights.blue} % / green ${weights.green} %`;
}
