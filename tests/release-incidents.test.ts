/**
 * The release paths most likely to run during an incident, on the fake stack (which honours
 * `--target`: a targeted update applies only the traffic resource's change) and the fake clock:
 * what the operator sees, the exit code, and the state left behind in the config and on the stack.
 */
import * as assert from "node:assert/strict";

import { EXIT } from "../tools/release/machine";
import { LOCK_RETRIES } from "../tools/release/machine/session";
import {
    BASE_RELEASE,
    NEW_IMAGE,
    OLD_IMAGE,
    TRAFFIC_URN,
    lockedError,
    releaseScenario,
    type FakeStack,
    type StackOp,
} from "./fixtures/release/fakes";

const MIN = 60_000;
type UpOp = Extract<StackOp, { kind: "up" }>;
const ups = (stack: FakeStack): UpOp[] => stack.ops.filter((op): op is UpOp => op.kind === "up");

/** Lets a release that was started without awaiting run until `done` holds (a crash is simulated by a hanging update). */
async function until(what: string, done: () => boolean): Promise<void> {
    for (let i = 0; i < 10_000; i++) {
        if (done()) {
            return;
        }
        await new Promise((resolve) => setImmediate(resolve));
    }
    assert.fail(`never reached: ${what}`);
}

describe("release incident paths (fake stack honouring --target, fake clock)", () => {
    describe("the fake stack honours --target", () => {
        it("a targeted update applies only the traffic resource's change; an untargeted one applies everything", async () => {
            const s = releaseScenario();
            await s.stack.writeRelease({ ...BASE_RELEASE, previewWeight: 30, green: { image: NEW_IMAGE } });
            await s.stack.up({ message: "targeted", target: [TRAFFIC_URN] });
            assert.deepEqual(s.stack.deployedWeights(), { blue: 70, green: 30 }, "the weights moved");
            assert.equal(s.stack.running().green.image, OLD_IMAGE, "green's workload did not change");
            await s.stack.up({ message: "whole stack" });
            assert.equal(s.stack.running().green.image, NEW_IMAGE);
        });

        it("a target naming no resource of the stack fails and changes nothing", async () => {
            const s = releaseScenario();
            await s.stack.writeRelease({ ...BASE_RELEASE, previewWeight: 30 });
            await assert.rejects(s.stack.up({ message: "x", target: ["urn:pulumi:dev::apfa::nothing"] }), /no resource named 'urn:pulumi:dev::apfa::nothing'/);
            assert.deepEqual(s.stack.deployedWeights(), { blue: 100, green: 0 });
        });
    });

    it("a failed first deploy of the new slot: rolled back (exit 1) with one targeted update; green's config keeps the image it could not run", async () => {
        const s = releaseScenario();
        s.stack.fault = (n, request) => (n === 1 && !request.target ? new Error("service apfa-dev-green: container exited with code 1") : undefined);

        assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.rolledBack);

        const u = ups(s.stack);
        assert.deepEqual(
            u.map((op) => [op.target?.join(",") ?? "whole stack", op.outcome]),
            [
                ["whole stack", "failed"],
                [TRAFFIC_URN, "ok"],
            ],
        );
        assert.match(s.reporter.errors.join("\n"), /ROLLBACK: deploying green failed: service apfa-dev-green: container exited with code 1/);
        const state = s.stack.current();
        assert.equal(state.progress?.phase, "rolledBack");
        assert.equal(state.green.image, NEW_IMAGE, "the config records the image that failed (the next release replaces it)");
        assert.equal(s.stack.running().green.image, OLD_IMAGE, "the stack still runs the old image on green");
        assert.deepEqual(s.stack.deployedWeights(), { blue: 100, green: 0 });

        // Nothing holds the stack: the next release starts (and here succeeds).
        s.stack.fault = () => undefined;
        s.reporter.lines.length = 0;
        assert.equal(await s.machine(200).start({ image: "registry.example.com/apfa:2.0.1" }), EXIT.ok, s.reporter.text());
        assert.equal(s.stack.running().green.image, "registry.example.com/apfa:2.0.1");
    });

    it("a config write that fails before anything is deployed: exit 4, nothing changed, no rollback of an older release", async () => {
        const s = releaseScenario();
        s.stack.writeFault = (n) => (n === 1 ? new Error("error: could not reach the backend") : undefined);
        assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.needsOperator);
        assert.deepEqual(s.stack.ops, []);
        assert.match(s.reporter.text(), /could not write apfa:release: error: could not reach the backend\. Nothing was changed; run start again\./);
        assert.equal(s.stack.current().progress, undefined);
    });

    describe("the stack locked by another update", () => {
        it("a step's update is retried every 5 s while the lock is held, then goes on", async () => {
            const s = releaseScenario({ rollout: { steps: [50, 100], bakeMinutes: 1, rollbackWindowMinutes: 1 } });
            // Updates 2-4 (the first step's) find the stack locked; the 5th attempt gets it.
            s.stack.fault = (n) => (n >= 2 && n <= 4 ? lockedError() : undefined);
            assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.ok, s.reporter.text());
            const u = ups(s.stack);
            assert.deepEqual(
                u.slice(1, 5).map((op) => op.outcome),
                ["failed", "failed", "failed", "ok"],
            );
            assert.deepEqual(
                u.slice(2, 5).map((op, i) => op.at - u[i + 1].at),
                [5000, 5000, 5000],
                "5 s apart",
            );
            assert.match(s.reporter.text(), /the stack is locked by another update; retrying in 5s \(1\/11\)/);
            assert.equal(s.events.events.filter((e) => e.type === "up-failed" && e.locked === true).length, 3);
        });

        it("locked for good: the step gives up after a minute, the rollback tries a minute too, then exit 4 with what to do; a later rollback finishes", async () => {
            const s = releaseScenario();
            let locked = true;
            // From the second step on, every update finds the stack locked (another update hangs on to it).
            s.stack.fault = (n) => (locked && n >= 3 ? lockedError() : undefined);

            assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.needsOperator);

            const u = ups(s.stack);
            const stepAttempts = u.filter((op) => !op.target && op.outcome === "failed");
            const rollbackAttempts = u.filter((op) => op.target);
            assert.equal(stepAttempts.length, LOCK_RETRIES, "the step: 12 attempts");
            assert.equal(rollbackAttempts.length, LOCK_RETRIES, "the rollback: 12 attempts");
            assert.equal(rollbackAttempts[rollbackAttempts.length - 1].at - rollbackAttempts[0].at, 55_000, "over 55 s");
            const errors = s.reporter.errors.join("\n");
            assert.match(errors, /ROLLBACK: pulumi up for "step 2\/3: green at 50 %" failed: the stack stayed locked by another update through 12 attempts/);
            assert.match(errors, /ROLLBACK NOT FINISHED: the targeted update failed: the stack stayed locked/);
            assert.match(errors, /the config records the rollback \(blue 100 % \/ green 0 %, phase rollingBack\), but the traffic resource still applies blue 90 % \/ green 10 %/);
            assert.match(errors, /`pulumi cancel --stack dev`\. Then run `npm run release -- rollback --stack dev` again/);

            // Left behind: the config says rolling back; the stack still sends 10 % to green.
            assert.equal(s.stack.current().progress?.phase, "rollingBack");
            assert.equal(s.stack.current().previewWeight, 0);
            assert.deepEqual(s.stack.deployedWeights(), { blue: 90, green: 10 });
            s.reporter.lines.length = 0;
            await s.machine(200).status();
            assert.match(s.reporter.text(), /the rollback did not finish: run `npm run release -- rollback --stack dev`/);

            locked = false;
            assert.equal(await s.machine(200).rollback(), EXIT.ok);
            assert.deepEqual(s.stack.deployedWeights(), { blue: 100, green: 0 });
            assert.equal(s.stack.current().progress?.phase, "rolledBack");
        });

        it("a rollback that finds the stack locked waits for the lock and finishes (exit 1 from the drive loop)", async () => {
            const s = releaseScenario();
            s.metrics.errorRatio = (slot, deployed) => (slot === "green" && deployed.previewWeight === 50 ? 0.2 : 0);
            // Updates 1-3: deploy, 10 %, 50 %; the rollback's first three attempts (4-6) find the stack locked.
            s.stack.fault = (n, request) => (request.target && n <= 6 ? lockedError() : undefined);
            assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.rolledBack);
            const targeted = ups(s.stack).filter((op) => op.target);
            assert.deepEqual(
                targeted.map((op) => op.outcome),
                ["failed", "failed", "failed", "ok"],
            );
            assert.deepEqual(s.stack.deployedWeights(), { blue: 100, green: 0 });
        });
    });

    describe("another writer changed apfa:release between the driver's reads", () => {
        it("during a bake: the driver notices before its next write, names the change, writes nothing (exit 3); undo + resume carries on", async () => {
            const s = releaseScenario();
            let code = -1;
            const run = s.machine(100).start({ image: NEW_IMAGE }).then((c) => (code = c));
            // Five minutes into step 1 (10 %), someone edits the stack file by hand.
            s.clock.schedule(5 * MIN, async () => s.stack.writeBehindTheToolsBack((r) => ({ ...r, previewWeight: 30 })));
            await run;

            assert.equal(code, EXIT.refused);
            const changedAt = Date.parse("2026-07-26T10:05:00Z");
            assert.equal(
                s.stack.ops.filter((op) => op.at >= changedAt).length,
                0,
                "no write and no update after the foreign change",
            );
            const errors = s.reporter.errors.join("\n");
            assert.match(errors, /refused to go on: apfa:release was changed by another writer since this process wrote it: previewWeight: 10 → 30\./);
            assert.match(errors, /nothing was written\. Check `npm run release -- status --stack dev`: if the change is wanted, `resume` carries the release on/);
            assert.ok(s.events.events.some((e) => e.type === "foreign-write"));
            assert.deepEqual(s.stack.deployedWeights(), { blue: 90, green: 10 }, "the stack was not touched");

            // The operator undoes the edit; resume takes over (the stopped driver's heartbeat goes stale) and finishes.
            s.stack.writeBehindTheToolsBack((r) => ({ ...r, previewWeight: 10 }));
            s.clock.advance(5 * MIN);
            assert.equal(await s.machine(200).resume(), EXIT.ok, s.reporter.text());
            assert.equal(s.stack.current().progress?.phase, "completed");
        });

        it("progress-only changes by the other commands (pause, promote, heartbeats) are not a foreign change", async () => {
            const s = releaseScenario();
            s.clock.schedule(5 * MIN, async () => void (await s.machine(300).pause()));
            s.clock.schedule(20 * MIN, async () => void (await s.machine(301).resume()));
            assert.equal(await s.machine(100).start({ image: NEW_IMAGE }), EXIT.ok, s.reporter.text());
            assert.ok(!s.events.events.some((e) => e.type === "foreign-write"));
        });

        it("while start prepares (metric checks), a change is detected before the first write: refused, nothing written", async () => {
            const s = releaseScenario();
            s.metrics.health_ = () => {
                s.stack.writeBehindTheToolsBack((r) => ({ ...r, blue: { ...r.blue, env: { LOG_LEVEL: "debug" } } }));
                return { up: 2, down: 0 };
            };
            assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.refused);
            assert.deepEqual(s.stack.ops, []);
            assert.match(s.reporter.text(), /refused: apfa:release changed while the release was being prepared \(blue\.env\.LOG_LEVEL: \(unset\) → "debug"\); nothing was written/);
        });
    });

    it("a failed targeted rollback: exit 4, the operator is told the config and the stack disagree; status and a second rollback finish it", async () => {
        const s = releaseScenario();
        s.metrics.errorRatio = (slot, deployed) => (slot === "green" && deployed.previewWeight === 50 ? 0.2 : 0);
        let rollbackFails = true;
        s.stack.fault = (_n, request) => (request.target && rollbackFails ? new Error("listener rule: AccessDenied") : undefined);

        assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.needsOperator);

        const errors = s.reporter.errors.join("\n");
        assert.match(errors, /ROLLBACK: analysis at step 2 \(50 %\): error ratio 20\.00 %/);
        assert.match(errors, /ROLLBACK NOT FINISHED: the targeted update failed: listener rule: AccessDenied\./);
        assert.match(errors, /but the traffic resource still applies blue 50 % \/ green 50 %/);
        assert.match(errors, /run `npm run release -- rollback --stack dev` again \(it re-applies the same targeted update\)/);
        assert.equal(ups(s.stack).filter((op) => op.target).length, 1, "not retried: only a lock is retried");
        // The state left behind.
        const state = s.stack.current();
        assert.equal(state.progress?.phase, "rollingBack");
        assert.match(state.progress?.reason ?? "", /analysis at step 2/);
        assert.equal(state.previewWeight, 0);
        assert.deepEqual(s.stack.deployedWeights(), { blue: 50, green: 50 }, "half the traffic still on the bad slot");
        assert.ok(s.events.events.some((e) => e.type === "rollback-failed" && e.locked === false));

        // resume (as well as rollback) finishes an interrupted rollback.
        rollbackFails = false;
        s.reporter.lines.length = 0;
        assert.equal(await s.machine(200).resume(), EXIT.ok);
        assert.match(s.reporter.text(), /was rolling back; finishing the rollback/);
        assert.match(s.reporter.text(), /rolled back: blue takes all traffic\. Reason: analysis at step 2 \(50 %\): error ratio 20\.00 %/, "the first rollback's reason");
        assert.deepEqual(s.stack.deployedWeights(), { blue: 100, green: 0 });
        assert.equal(s.stack.current().progress?.phase, "rolledBack");
    });

    describe("a racing writer during the rollback's own update", () => {
        /** While the targeted update runs, a second driver (another shell) writes its 50 % step back. */
        const raceOn = (s: ReturnType<typeof releaseScenario>, races: number) => {
            let raced = 0;
            s.stack.fault = (_n, request) => {
                if (request.target && raced < races) {
                    raced += 1;
                    s.stack.writeBehindTheToolsBack((r) => ({ ...r, previewWeight: 50, progress: r.progress && { ...r.progress, phase: "shifting" } }));
                }
                return undefined;
            };
        };

        it("the rollback notices its write was replaced and applies itself again", async () => {
            const s = releaseScenario();
            s.metrics.errorRatio = (slot, deployed) => (slot === "green" && deployed.previewWeight === 50 ? 0.2 : 0);
            raceOn(s, 1);
            assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.rolledBack);
            assert.equal(ups(s.stack).filter((op) => op.target).length, 2);
            assert.match(s.reporter.errors.join("\n"), /the release state changed while rolling back \(another writer\); applying the rollback again/);
            assert.equal(s.stack.current().previewWeight, 0);
            assert.equal(s.stack.current().progress?.phase, "rolledBack");
            assert.deepEqual(s.stack.deployedWeights(), { blue: 100, green: 0 });
        });

        it("replaced three times: exit 4, the rollback is not confirmed", async () => {
            const s = releaseScenario();
            s.metrics.errorRatio = (slot, deployed) => (slot === "green" && deployed.previewWeight === 50 ? 0.2 : 0);
            raceOn(s, 3);
            assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.needsOperator);
            assert.match(s.reporter.errors.join("\n"), /rollback could not be confirmed after 3 attempts; check `release status`/);
            assert.equal(s.stack.current().previewWeight, 50, "the other writer's state is what the config holds");
        });
    });

    it("a hand-set preview weight on a stack without a trafficUrn output: rollback refuses (no resource to target)", async () => {
        const s = releaseScenario({ release: { ...BASE_RELEASE, previewWeight: 30 } });
        delete s.stack.outputs_.trafficUrn;
        assert.equal(await s.machine().rollback(), EXIT.refused);
        assert.match(s.reporter.text(), /refused: no trafficUrn stack output to target; run `pulumi up`/);
        assert.deepEqual(s.stack.ops, []);
    });

    it("a failed scale-down after the rollback window: exit 4, the release stays complete, the old slot still runs until the next whole-stack update", async () => {
        const s = releaseScenario({ rollout: { steps: [100], bakeMinutes: 1, rollbackWindowMinutes: 5 } });
        const scaleDown = 4; // deploy, 100 %, promote, scale down
        s.stack.fault = (n) => (n === scaleDown ? new Error("docker: container removal timed out") : undefined);

        assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.needsOperator);

        const errors = s.reporter.errors.join("\n");
        assert.match(errors, /scaling blue down failed: docker: container removal timed out\./);
        assert.match(errors, /the release is complete and recorded \(green active with all traffic\); blue still runs its replicas\. `pulumi up --stack dev` applies the scale-down/);
        const state = s.stack.current();
        assert.equal(state.progress?.phase, "completed");
        assert.equal(state.blue.scaledDown, true, "the config records the scale-down");
        assert.equal(s.stack.running().blue.scaledDown, false, "the stack still runs blue");
        assert.deepEqual(s.stack.deployedWeights(), { blue: 0, green: 100 });
        assert.ok(s.events.events.some((e) => e.type === "scale-down-failed" && e.slot === "blue"));
        assert.ok(!s.events.events.some((e) => e.type === "completed"));

        // A rollback is refused (the config no longer lets blue take traffic) and says how to go back.
        assert.equal(await s.machine(200).rollback(), EXIT.refused);
        assert.match(s.reporter.text(), /rollback window is over and blue is scaled down.*--image registry\.example\.com\/apfa:1\.0\.0/);
        // The operator's `pulumi up` applies the scale-down and moves no traffic.
        await s.stack.up({ message: "operator: pulumi up" });
        assert.equal(s.stack.running().blue.scaledDown, true);
        assert.deepEqual(s.stack.deployedWeights(), { blue: 0, green: 100 });
    });

    describe("failureThreshold > 1 (3 failed analyses in a row)", () => {
        const rollout = { steps: [50, 100], bakeMinutes: 2, rollbackWindowMinutes: 1, analysis: { failureThreshold: 3 } };

        it("two failed analyses, then a healthy one: no rollback, the release completes", async () => {
            const s = releaseScenario({ rollout });
            const firstSample = () => s.metrics.samples;
            let start = -1;
            s.metrics.errorRatio = (slot, deployed) => {
                if (slot !== "green" || deployed.previewWeight !== 50) {
                    return 0;
                }
                start = start < 0 ? firstSample() : start;
                return firstSample() - start < 2 ? 0.2 : 0;
            };
            assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.ok, s.reporter.text());
            const verdicts = s.events.events.filter((e) => e.type === "analysis").map((e) => e.decision);
            assert.deepEqual(verdicts.slice(0, 3), ["rollback", "rollback", "continue"]);
        });

        it("failures that never come three in a row never roll back", async () => {
            const s = releaseScenario({ rollout });
            s.metrics.errorRatio = (slot, deployed) => (slot === "green" && deployed.previewWeight === 50 && s.metrics.samples % 3 !== 0 ? 0.2 : 0);
            assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.ok, s.reporter.text());
            assert.ok(s.events.events.filter((e) => e.type === "analysis" && e.decision === "rollback").length >= 10);
        });

        it("three failed analyses in a row roll back, two intervals after the first", async () => {
            const s = releaseScenario({ rollout });
            s.metrics.errorRatio = (slot, deployed) => (slot === "green" && deployed.previewWeight === 50 ? 0.2 : 0);
            assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.rolledBack);
            const u = ups(s.stack);
            const stepUp = u[1].at;
            const rollbackUp = u[u.length - 1];
            assert.deepEqual(rollbackUp.target, [TRAFFIC_URN]);
            assert.equal(rollbackUp.at - stepUp, 10_000, "analyses at +0, +5 and +10 s");
            assert.equal(s.events.events.filter((e) => e.type === "analysis" && e.decision === "rollback").length, 3);
        });
    });

    it("a crash while deploying: status explains it, resume re-applies the deploy and carries the release to its end", async () => {
        const s = releaseScenario({ rollout: { steps: [50, 100], bakeMinutes: 1, rollbackWindowMinutes: 1 } });
        s.stack.fault = (n) => (n === 1 ? "hang" : undefined);
        void s.machine(100).start({ image: NEW_IMAGE });
        await until("the deploy's update started", () => ups(s.stack).length === 1);
        s.stack.fault = () => undefined;
        s.clock.advance(10 * MIN);

        s.reporter.lines.length = 0;
        await s.machine(200).status();
        const status = s.reporter.text();
        assert.match(status, /phase deploying the new slot at 0 %/);
        assert.match(status, /interrupted: the new slot was being deployed or checked\./);
        assert.match(status, /`npm run release -- resume --stack dev` re-applies the recorded step/);
        assert.equal(s.stack.running().green.image, OLD_IMAGE, "the deploy never finished");

        const before = s.stack.ops.length;
        assert.equal(await s.machine(200).resume(), EXIT.ok, s.reporter.text());
        const after = s.stack.ops.slice(before);
        assert.ok(after[0].kind === "up" && !after[0].target && after[0].deployed.green.image === NEW_IMAGE, "resume first re-applies the deploy");
        assert.equal(s.stack.current().progress?.phase, "completed");
        assert.equal(s.stack.running().green.image, NEW_IMAGE);
        assert.ok(s.events.events.some((e) => e.type === "resumed" && e.phase === "deploying"));
    });

    it("resume while the stack stays locked (the first driver's long update still running): steps aside, exit 3, no rollback", async () => {
        const s = releaseScenario({ rollout: { steps: [50, 100], bakeMinutes: 1, rollbackWindowMinutes: 1 } });
        s.stack.fault = (n) => (n === 1 ? "hang" : undefined);
        void s.machine(100).start({ image: NEW_IMAGE });
        await until("the deploy's update started", () => ups(s.stack).length === 1);
        s.clock.advance(3 * MIN); // no heartbeat during the update: status calls the driver gone
        s.stack.fault = () => lockedError();
        const writesBefore = s.stack.ops.filter((op) => op.kind === "write").length;

        assert.equal(await s.machine(200).resume(), EXIT.refused);

        assert.match(s.reporter.errors.join("\n"), /refused: the stack stayed locked by another update through 12 attempts.*most likely the driver of this release still running its `pulumi up`; nothing was changed/);
        assert.equal(s.stack.ops.filter((op) => op.kind === "write").length, writesBefore, "nothing written: no rollback");
        assert.equal(s.stack.current().progress?.phase, "deploying");
    });

    it("promote during the rollback window ends the window at once: the old slot is scaled down then, not 60 minutes later", async () => {
        const s = releaseScenario({ rollout: { steps: [100], bakeMinutes: 1, rollbackWindowMinutes: 60 } });
        let promoteCode = -1;
        s.clock.schedule(10 * MIN, async () => void (promoteCode = await s.machine(300).promote()));

        assert.equal(await s.machine(100).start({ image: NEW_IMAGE }), EXIT.ok, s.reporter.text());

        assert.equal(promoteCode, EXIT.ok);
        assert.match(s.reporter.text(), /promotion requested; pid 100 on ci-runner drives the release and will act on it within 5s/);
        const u = ups(s.stack);
        const scaleDown = u[u.length - 1];
        assert.equal(scaleDown.deployed.blue.scaledDown, true);
        assert.ok(scaleDown.at >= Date.parse("2026-07-26T10:10:00Z") && scaleDown.at <= Date.parse("2026-07-26T10:10:05Z"), new Date(scaleDown.at).toISOString());
        assert.ok(s.events.events.some((e) => e.type === "promote-requested" && e.phase === "promoted"));
        assert.equal(s.stack.current().progress?.phase, "completed");
    });

    describe("a green → blue release (green active)", () => {
        const GREEN_ACTIVE = { active: "green", previewWeight: 0, blue: { image: OLD_IMAGE }, green: { image: OLD_IMAGE } };

        it("goes to blue through the steps, promotes blue and scales green down", async () => {
            const s = releaseScenario({ release: GREEN_ACTIVE, rollout: { steps: [10, 100], bakeMinutes: 1, rollbackWindowMinutes: 1 } });
            assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.ok, s.reporter.text());
            const weights = ups(s.stack).map((op) => `${op.applied.active}:${op.applied.previewWeight}`);
            assert.deepEqual(weights, ["green:0", "green:10", "green:100", "blue:0", "blue:0"]);
            const final = s.stack.running();
            assert.equal(final.active, "blue");
            assert.equal(final.blue.image, NEW_IMAGE);
            assert.equal(final.green.scaledDown, true);
            assert.equal(s.stack.current().progress?.id, "20260726-100000-blue");
        });

        it("a failure at 10 % sends everything back to green with one targeted update", async () => {
            const s = releaseScenario({ release: GREEN_ACTIVE });
            s.metrics.errorRatio = (slot) => (slot === "blue" ? 0.2 : 0);
            assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.rolledBack);
            assert.deepEqual(s.stack.deployedWeights(), { blue: 0, green: 100 });
            assert.equal(s.stack.running().active, "green");
            assert.deepEqual(ups(s.stack).pop()?.target, [TRAFFIC_URN]);
        });
    });
});
