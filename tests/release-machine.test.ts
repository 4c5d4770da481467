/**
 * The release state machine on a fake stack, a fake clock and scripted metrics: what it writes to
 * the stack config and which updates it runs, in which order, for every path a release can take.
 */
import * as assert from "node:assert/strict";

import { ConfigError, type ReleaseState } from "../src/config";
import { contextFromValues, loadContext } from "../tools/release/context";
import { MemoryEventLog, type ReleaseEvent } from "../tools/release/events";
import { EXIT, ReleaseMachine } from "../tools/release/machine";
import { deploysDifferently } from "../tools/release/state";
import { FakeClock, FakeReplicas, FakeStack, LinesReporter, ScriptedMetrics, TRAFFIC_URN, type StackOp } from "./fixtures/release/fakes";

const OLD = "registry.example.com/apfa:1.0.0";
const NEW = "registry.example.com/apfa:2.0.0";
const MIN = 60_000;

const BASE_RELEASE = { active: "blue", previewWeight: 0, blue: { image: OLD }, green: { image: OLD } };

interface ScenarioOptions {
    readonly release?: unknown;
    readonly rollout?: unknown;
    readonly cloud?: "docker" | "aws";
    /** Ready replicas per slot from a {@link FakeReplicas} with these base counts (aws: autoscaled 4..16). */
    readonly replicas?: { readonly blue: number; readonly green: number };
}

function scenario(options: ScenarioOptions = {}) {
    const clock = new FakeClock();
    const values: Record<string, unknown> =
        options.cloud === "aws"
            ? { "apfa:cloud": "aws", "aws:region": "eu-west-1" }
            : { "apfa:cloud": "docker", "apfa:docker": { replicasPerSlot: 2 }, "apfa:monitoring": { scrapeIntervalSeconds: 5 } };
    values["apfa:release"] = options.release ?? BASE_RELEASE;
    if (options.rollout) {
        values["apfa:rollout"] = options.rollout;
    }
    const stack = new FakeStack(options.cloud === "aws" ? "prod-aws" : "dev", values, clock);
    const metrics = new ScriptedMetrics(stack);
    const replicas = new FakeReplicas(stack, clock, { minReplicas: 4, maxReplicas: 16 }, { ...(options.replicas ?? { blue: 2, green: 2 }) });
    if (options.replicas) {
        metrics.health_ = replicas.health;
    }
    const reporter = new LinesReporter();
    const events = new MemoryEventLog();
    const context = contextFromValues(stack.stack, values);
    const machine = (pid = 100) =>
        new ReleaseMachine({ driver: stack, clock, events, reporter, metrics: async () => metrics, identity: { host: "ci-runner", pid } }, context);
    return { clock, stack, metrics, replicas, reporter, events, machine };
}

/** A readable line per deployable config change and per update; writes that only touch `progress` are left out. */
function sequence(ops: readonly StackOp[], initial: ReleaseState): string[] {
    const out: string[] = [];
    let previous = initial;
    for (const op of ops) {
        if (op.kind === "up") {
            out.push(op.target ? `up --target ${op.target.join(",")}` : "up");
        } else if (deploysDifferently(previous, op.release)) {
            out.push(`config ${summary(op.release)}`);
            previous = op.release;
        }
    }
    return out;
}

function summary(r: ReleaseState): string {
    const slot = (s: "blue" | "green") =>
        `${s}=${r[s].image?.split(":").pop() ?? "build"}${r[s].scaledDown ? "(down)" : ""}${r[s].minReplicas !== undefined ? `(≥${r[s].minReplicas})` : ""}`;
    return `active=${r.active} previewWeight=${r.previewWeight} ${slot("blue")} ${slot("green")}`;
}

/**
 * Every update is preceded by exactly one deployable config change since the previous update,
 * and deploys exactly what was written: "every step is one config change plus one pulumi up".
 */
function assertOneChangePerUpdate(ops: readonly StackOp[], initial: ReleaseState): void {
    let lastWritten = initial;
    let deployed = initial;
    let changesSinceUp = 0;
    for (const op of ops) {
        if (op.kind === "write") {
            if (deploysDifferently(lastWritten, op.release)) {
                changesSinceUp += 1;
                assert.equal(changesSinceUp, 1, `two deployable config changes without an update between them: ${summary(op.release)}`);
            }
            lastWritten = op.release;
        } else {
            assert.ok(changesSinceUp === 1 || !deploysDifferently(deployed, op.deployed) || op.target, "an update without a config change");
            assert.equal(deploysDifferently(op.deployed, lastWritten), false, "the update deployed what was last written");
            deployed = op.deployed;
            changesSinceUp = 0;
        }
    }
}

const initialState = (s: { stack: FakeStack }) => s.stack.current();

describe("release state machine (fake stack, fake clock)", () => {
    it("happy path: deploy at 0 %, 10 → 50 → 100 with a bake each, promote, rollback window, scale the old slot down", async () => {
        const s = scenario();
        const initial = initialState(s);
        const code = await s.machine().start({ image: NEW });

        assert.equal(code, EXIT.ok, s.reporter.text());
        assert.deepEqual(sequence(s.stack.ops, initial), [
            "config active=blue previewWeight=0 blue=1.0.0 green=2.0.0",
            "up",
            "config active=blue previewWeight=10 blue=1.0.0 green=2.0.0",
            "up",
            "config active=blue previewWeight=50 blue=1.0.0 green=2.0.0",
            "up",
            "config active=blue previewWeight=100 blue=1.0.0 green=2.0.0",
            "up",
            "config active=green previewWeight=0 blue=1.0.0 green=2.0.0",
            "up",
            "config active=green previewWeight=0 blue=1.0.0(down) green=2.0.0",
            "up",
        ]);
        assertOneChangePerUpdate(s.stack.ops, initial);

        // Each step baked its 15 minutes, and the old slot stayed up for the 60-minute window.
        const ups = s.stack.ops.filter((op) => op.kind === "up").map((op) => op.at);
        assert.ok(ups[2] - ups[1] >= 15 * MIN && ups[3] - ups[2] >= 15 * MIN, "a 15-minute bake per step");
        assert.ok(ups[4] - ups[3] >= 15 * MIN, "a final bake at 100 % before promotion");
        assert.ok(ups[5] - ups[4] >= 60 * MIN, "the rollback window before the scale-down");

        const final = s.stack.current();
        assert.equal(final.progress?.phase, "completed");
        assert.equal(final.active, "green");
        assert.equal(final.blue.scaledDown, true);
        assert.ok(s.events.events.some((e) => e.type === "analysis" && e.decision === "continue"));
        assert.match(s.reporter.text(), /step 2\/3 · green 50 % · bake \d+m \d+s left · continue/);
    });

    it("promotion is routing-neutral: the deployed weights are the same before and after it", async () => {
        const s = scenario();
        await s.machine().start({ image: NEW });
        const ups = s.stack.ops.filter((op): op is Extract<StackOp, { kind: "up" }> => op.kind === "up");
        const atHundred = ups[3].deployed;
        const promoted = ups[4].deployed;
        assert.equal(atHundred.previewWeight, 100);
        assert.equal(promoted.active, "green");
        assert.deepEqual({ ...s.stack.outputs_.weights as object }, { blue: 0, green: 100 });
        assert.equal(deploysDifferently({ ...atHundred, active: "green", previewWeight: 0 }, promoted), false);
    });

    for (const [index, weight] of [[0, 10], [1, 50], [2, 100]] as const) {
        it(`a failed analysis at step ${index + 1} (${weight} %) routes everything back at once with one targeted update, and exits non-zero`, async () => {
            const s = scenario();
            const initial = initialState(s);
            s.metrics.errorRatio = (slot, deployed) =>
                slot === "green" && deployed.progress?.phase === "shifting" && deployed.progress.stepIndex === index ? 0.2 : 0;

            const code = await s.machine().start({ image: NEW });

            assert.equal(code, EXIT.rolledBack);
            const seq = sequence(s.stack.ops, initial);
            // The failing step, then at once the rollback: no further step.
            assert.deepEqual(seq.slice(-4), [
                `config active=blue previewWeight=${weight} blue=1.0.0 green=2.0.0`,
                "up",
                "config active=blue previewWeight=0 blue=1.0.0 green=2.0.0",
                `up --target ${TRAFFIC_URN}`,
            ]);
            assert.equal(seq.filter((l) => l.startsWith("config")).length, index + 3, "deploy, the steps up to the failing one, the rollback");
            assertOneChangePerUpdate(s.stack.ops, initial);

            // Detected by the first analysis of the step: no later than one analysis interval after its update.
            const ups = s.stack.ops.filter((op) => op.kind === "up");
            const stepUp = ups[ups.length - 2].at;
            const rollbackUp = ups[ups.length - 1].at;
            assert.ok(rollbackUp - stepUp <= 10_000, `rolled back ${(rollbackUp - stepUp) / 1000}s after the step`);

            const final = s.stack.current();
            assert.equal(final.progress?.phase, "rolledBack");
            assert.match(final.progress?.reason ?? "", new RegExp(`analysis at step ${index + 1} \\(${weight} %\\): error ratio 20\\.00 %`));
            assert.deepEqual(s.stack.deployedWeights(), { blue: 100, green: 0 });
            assert.match(s.reporter.text(), /ROLLBACK: analysis at step/);
        });
    }

    it("a failed analysis in the rollback window re-activates the old slot with one targeted update", async () => {
        const s = scenario();
        const initial = initialState(s);
        s.metrics.errorRatio = (slot, deployed) => (slot === "green" && deployed.progress?.phase === "promoted" ? 0.2 : 0);

        const code = await s.machine().start({ image: NEW });

        assert.equal(code, EXIT.rolledBack);
        assert.deepEqual(sequence(s.stack.ops, initial).slice(-4), [
            "config active=green previewWeight=0 blue=1.0.0 green=2.0.0",
            "up",
            "config active=blue previewWeight=0 blue=1.0.0 green=2.0.0",
            `up --target ${TRAFFIC_URN}`,
        ]);
        assert.deepEqual(s.stack.deployedWeights(), { blue: 100, green: 0 });
    });

    it("a new slot that never becomes healthy is rolled back after the health timeout; no traffic ever moved", async () => {
        const s = scenario({ rollout: { healthTimeoutMinutes: 2 } });
        const initial = initialState(s);
        s.metrics.health_ = (slot) => (slot === "green" ? { up: 1, down: 1 } : { up: 2, down: 0 });

        const code = await s.machine().start({ image: NEW });

        assert.equal(code, EXIT.rolledBack);
        assert.deepEqual(sequence(s.stack.ops, initial), [
            "config active=blue previewWeight=0 blue=1.0.0 green=2.0.0",
            "up",
            `up --target ${TRAFFIC_URN}`,
        ]);
        assert.match(s.stack.current().progress?.reason ?? "", /green not healthy after 2 min: 1 up \(need 2\), 1 down/);
    });

    it("a failed update during a step rolls back", async () => {
        const s = scenario();
        s.stack.fault = (n, request) => (n === 3 && !request.target ? new Error("provider: ModifyRule throttled") : undefined);
        const code = await s.machine().start({ image: NEW });
        assert.equal(code, EXIT.rolledBack);
        assert.equal(s.stack.current().progress?.phase, "rolledBack");
        assert.match(s.stack.current().progress?.reason ?? "", /step 2\/3: green at 50 %" failed: provider: ModifyRule throttled/);
    });

    describe("a crash mid-release leaves a state that status explains and resume or rollback completes", () => {
        /** The process dies while the update of step 2 runs: its config is written, the update never finishes. */
        async function crashAtStep2() {
            const s = scenario();
            s.stack.fault = (n) => (n === 3 ? "hang" : undefined);
            void s.machine(100).start({ image: NEW });
            for (let i = 0; i < 10_000 && s.stack.ops.filter((op) => op.kind === "up").length < 3; i++) {
                await new Promise((resolve) => setImmediate(resolve));
            }
            assert.equal(s.stack.ops.filter((op) => op.kind === "up").length, 3, "the run reached the update of step 2");
            s.stack.fault = () => undefined;
            s.clock.advance(10 * MIN); // the operator notices later: the driver's heartbeat is stale
            return s;
        }

        it("status names the step, says its update did not finish and that no driver runs, and gives both ways out", async () => {
            const s = await crashAtStep2();
            s.reporter.lines.length = 0;
            assert.equal(await s.machine(200).status(), EXIT.ok);
            const text = s.reporter.text();
            assert.match(text, /phase step 2\/3 at 50 %/);
            assert.match(text, /blue +50 % +registry\.example\.com\/apfa:1\.0\.0 +\[ACTIVE\]/);
            assert.match(text, /deployed weights \(stack output of the last update\): blue 90 % \/ green 10 %/);
            assert.match(text, /NOT RUNNING/);
            assert.match(text, /interrupted: step 2 was recorded but its `pulumi up` did not finish/);
            assert.match(text, /release -- resume --stack dev` re-applies the recorded step/);
            assert.match(text, /release -- rollback --stack dev` routes all traffic back to blue/);
        });

        it("resume re-applies step 2 and carries the release to its end", async () => {
            const s = await crashAtStep2();
            const before = s.stack.ops.length;
            const code = await s.machine(200).resume();
            assert.equal(code, EXIT.ok, s.reporter.text());
            const after = s.stack.ops.slice(before);
            assert.equal(after[0].kind, "up", "the first thing resume does is the update of the recorded step");
            assert.equal(after[0].kind === "up" && after[0].deployed.previewWeight, 50);
            assert.equal(s.stack.current().progress?.phase, "completed");
        });

        it("rollback routes back in one targeted update", async () => {
            const s = await crashAtStep2();
            const before = s.stack.ops.length;
            assert.equal(await s.machine(200).rollback(), EXIT.ok);
            const after = s.stack.ops.slice(before);
            const ups = after.filter((op) => op.kind === "up");
            assert.equal(ups.length, 1);
            assert.deepEqual(ups[0].kind === "up" && ups[0].target, [TRAFFIC_URN]);
            assert.deepEqual(s.stack.deployedWeights(), { blue: 100, green: 0 });
            assert.equal(s.stack.current().progress?.phase, "rolledBack");
        });
    });

    it("when the rollback's own update fails, status says so and a second rollback finishes it", async () => {
        const s = scenario();
        s.stack.fault = (n) => (n === 3 ? new Error("backend unreachable") : n === 4 ? new Error("backend unreachable") : undefined);
        assert.equal(await s.machine().start({ image: NEW }), EXIT.needsOperator);
        assert.equal(s.stack.current().progress?.phase, "rollingBack");

        s.reporter.lines.length = 0;
        await s.machine(200).status();
        assert.match(s.reporter.text(), /the rollback did not finish: run `npm run release -- rollback --stack dev`/);

        assert.equal(await s.machine(200).rollback(), EXIT.ok);
        assert.equal(s.stack.current().progress?.phase, "rolledBack");
        assert.deepEqual(s.stack.deployedWeights(), { blue: 100, green: 0 });
    });

    it("pause holds the release at its step (analysis goes on) until resume", async () => {
        const s = scenario();
        const initial = initialState(s);
        // Minute 0: deploy and step 1. Pause at minute 5 from another shell, resume at minute 40.
        s.clock.schedule(5 * MIN, async () => void (await s.machine(300).pause()));
        s.clock.schedule(40 * MIN, async () => void (await s.machine(301).resume()));

        assert.equal(await s.machine(100).start({ image: NEW }), EXIT.ok, s.reporter.text());

        const step2 = s.stack.ops.find((op) => op.kind === "write" && op.release.previewWeight === 50);
        assert.ok(step2 && step2.at >= Date.parse("2026-07-26T10:40:00Z"), "step 2 only after the resume");
        assert.match(s.reporter.text(), /step 1\/3 · green 10 % · bake done · PAUSED · continue/);
        assert.match(s.reporter.text(), /the release is driven by pid 100 on ci-runner; it carries on/);
        assert.deepEqual(sequence(s.stack.ops, initial).filter((l) => l.startsWith("config")).length, 6);
    });

    it("promote skips the remaining steps: the new slot becomes active at once, then the rollback window", async () => {
        const s = scenario();
        const initial = initialState(s);
        s.clock.schedule(3 * MIN, async () => void (await s.machine(300).promote()));

        assert.equal(await s.machine(100).start({ image: NEW }), EXIT.ok, s.reporter.text());

        assert.deepEqual(sequence(s.stack.ops, initial), [
            "config active=blue previewWeight=0 blue=1.0.0 green=2.0.0",
            "up",
            "config active=blue previewWeight=10 blue=1.0.0 green=2.0.0",
            "up",
            "config active=green previewWeight=0 blue=1.0.0 green=2.0.0",
            "up",
            "config active=green previewWeight=0 blue=1.0.0(down) green=2.0.0",
            "up",
        ]);
        assert.match(s.reporter.text(), /promotion requested by an operator/);
    });

    it("an operator rollback during the rollback window re-activates the old slot and stops the driver", async () => {
        const s = scenario({ rollout: { steps: [100], bakeMinutes: 1, rollbackWindowMinutes: 30 } });
        let rollbackCode = -1;
        s.clock.schedule(10 * MIN, async () => void (rollbackCode = await s.machine(300).rollback()));

        assert.equal(await s.machine(100).start({ image: NEW }), EXIT.rolledBack);

        assert.equal(rollbackCode, EXIT.ok);
        const last = s.stack.ops.filter((op) => op.kind === "up").pop();
        assert.deepEqual(last?.kind === "up" && last.target, [TRAFFIC_URN]);
        assert.equal(s.stack.current().active, "blue");
        assert.equal(s.stack.current().green.image, NEW, "the new slot stays deployed at 0 % for inspection");
        assert.match(s.reporter.text(), /was rolled back \(operator rollback\); stopping/);
    });

    it("a second start while a release holds the stack is refused, naming the release, its image and step", async () => {
        const s = scenario();
        let refusal = -1;
        s.clock.schedule(20 * MIN, async () => void (refusal = await s.machine(300).start({ image: "registry.example.com/apfa:3.0.0" })));
        await s.machine(100).start({ image: NEW });
        assert.equal(refusal, EXIT.refused);
        assert.ok(
            s.reporter.errors.some((l) =>
                /refused: release 20260726-100000-green \(registry\.example\.com\/apfa:2\.0\.0 on green, step 2\/3 at 50 %, started 2026-07-26T10:00:00Z\) holds stack dev/.test(l),
            ),
            s.reporter.errors.join("\n"),
        );
    });

    it("after the rollback window the old slot is gone: rollback refuses and says how to go back", async () => {
        const s = scenario({ rollout: { steps: [100], bakeMinutes: 1, rollbackWindowMinutes: 1 } });
        assert.equal(await s.machine().start({ image: NEW }), EXIT.ok);
        assert.equal(await s.machine(200).rollback(), EXIT.refused);
        assert.match(s.reporter.text(), /rollback window is over and blue is scaled down.*start --stack <stack> --image registry\.example\.com\/apfa:1\.0\.0/);
    });

    it("not enough traffic to judge: holds past the bake, then rolls back (the default) after maxHoldMinutes", async () => {
        const s = scenario({ rollout: { steps: [10, 100], bakeMinutes: 5, analysis: { maxHoldMinutes: 5, maxWindowSeconds: 60 } } });
        s.metrics.requestsPerWindow = 100; // 10 requests on green per window: below minRequests 50
        assert.equal(await s.machine().start({ image: NEW }), EXIT.rolledBack);
        const reason = s.stack.current().progress?.reason ?? "";
        assert.match(reason, /step 1 still undecided 5 min after its bake: 10 requests on the new slot in the window; at least 50 are needed/);
        const ups = s.stack.ops.filter((op) => op.kind === "up");
        assert.ok(ups[ups.length - 1].at - ups[1].at >= 10 * MIN, "waited for the bake and the hold allowance");
    });

    it("with onInconclusive: pause, an undecided step pauses for an operator (exit 4) and resume picks it up", async () => {
        const s = scenario({ rollout: { steps: [10, 100], bakeMinutes: 5, analysis: { maxHoldMinutes: 5, onInconclusive: "pause", maxWindowSeconds: 60 } } });
        s.metrics.requestsPerWindow = 100;
        assert.equal(await s.machine().start({ image: NEW }), EXIT.needsOperator);
        assert.equal(s.stack.current().progress?.paused, true);
        assert.deepEqual(s.stack.deployedWeights(), { blue: 90, green: 10 }, "traffic stays where it was");

        s.metrics.requestsPerWindow = 5000;
        s.clock.advance(5 * MIN);
        assert.equal(await s.machine(200).resume(), EXIT.ok, s.reporter.text());
        assert.equal(s.stack.current().progress?.phase, "completed");
    });

    it("a relative failure (new slot's p95 far above the old slot's, under the absolute limit) rolls back", async () => {
        const s = scenario();
        s.metrics.p95 = (slot) => (slot === "green" ? 0.4 : 0.1);
        assert.equal(await s.machine().start({ image: NEW }), EXIT.rolledBack);
        assert.match(s.stack.current().progress?.reason ?? "", /p95 latency 400 ms above the old slot's 100 ms ×1\.5 \+ 50 ms = 200 ms/);
    });

    it("refuses to start when the metric source cannot be read or does not see the serving slot", async () => {
        const s = scenario();
        s.metrics.health_ = () => ({ up: 0, down: 0 });
        assert.equal(await s.machine().start({ image: NEW }), EXIT.refused);
        assert.match(s.reporter.text(), /scripted sees no replica of the serving slot blue/);
        s.metrics.health_ = () => {
            throw new Error("cannot reach Prometheus at http://127.0.0.1:9090: ECONNREFUSED");
        };
        assert.equal(await s.machine().start({ image: NEW }), EXIT.refused);
        assert.match(s.reporter.text(), /the metric source cannot be read: cannot reach Prometheus/);
        assert.deepEqual(s.stack.ops, [], "nothing was changed");
    });

    it("refuses a stack whose config the program refuses, with the config error naming the key (CloudWatch off aws, a window under two scrapes)", async () => {
        const cases: Array<[Record<string, unknown>, string]> = [
            [{ "apfa:cloud": "docker", "apfa:rollout": { metricsSource: "cloudwatch" } }, "apfa:rollout.metricsSource"],
            [
                { "apfa:cloud": "docker", "apfa:monitoring": { scrapeIntervalSeconds: 30 }, "apfa:rollout": { analysis: { windowSeconds: 45 } } },
                "apfa:rollout.analysis.windowSeconds",
            ],
        ];
        for (const [values, key] of cases) {
            const stack = new FakeStack("dev", { ...values, "apfa:release": BASE_RELEASE }, new FakeClock());
            await assert.rejects(
                loadContext(stack),
                (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith(`${key}: `)),
                key,
            );
            assert.deepEqual(stack.ops, [], "nothing was changed");
        }
    });

    it("refuses --env names that are not environment variable names", async () => {
        const s = scenario();
        assert.equal(await s.machine().start({ image: NEW, env: { "log-level": "debug" } }), EXIT.refused);
        assert.match(s.reporter.text(), /refused: --env log-level: env names are A-Z, 0-9 and _/);
        assert.deepEqual(s.stack.ops, []);
    });

    it("--dry-run prints the plan and changes nothing", async () => {
        const s = scenario();
        assert.equal(await s.machine().start({ image: NEW, dryRun: true }), EXIT.ok);
        assert.deepEqual(s.stack.ops, []);
        const text = s.reporter.text();
        assert.match(text, /dry run, nothing is changed/);
        assert.match(text, /1\. config apfa:release: green\.image=registry\.example\.com\/apfa:2\.0\.0.*previewWeight=0/);
        assert.match(text, /2\. config previewWeight=10 \(step 1\/3\) → pulumi up: blue 90 % \/ green 10 %/);
        assert.match(text, /5\. config active=green, previewWeight=0 → pulumi up: promotion, routing unchanged/);
        assert.match(text, new RegExp(`pulumi up --target ${TRAFFIC_URN.replace(/[$]/g, "\\$")}`));
    });

    it("refuses a release whose promotion would redeploy the old slot (old slot without an image of its own)", async () => {
        const s = scenario({ release: { active: "blue", previewWeight: 0, blue: {}, green: {} } });
        assert.equal(await s.machine().start({ image: NEW }), EXIT.refused);
        assert.match(s.reporter.text(), /blue has no image of its own.*promoting green would redeploy blue/);
        assert.deepEqual(s.stack.ops, []);
    });

    it("on docker, a release of the build context with an env override needs no image (the rehearsal's bad release)", async () => {
        const s = scenario({ release: { active: "blue", previewWeight: 0, blue: {}, green: {} } });
        s.metrics.errorRatio = (slot, deployed) => (slot === "green" && deployed.green.env.APFA_ERROR_RATIO === "0.2" ? 0.2 : 0);
        assert.equal(await s.machine().start({ env: { APFA_ERROR_RATIO: "0.2" } }), EXIT.rolledBack);
        const first = s.stack.ops.find((op) => op.kind === "write");
        assert.equal(first?.kind === "write" && first.release.green.env.APFA_ERROR_RATIO, "0.2");
        assert.deepEqual(s.stack.deployedWeights(), { blue: 100, green: 0 });
    });

    it("the new slot inherits the active slot's environment; --env overrides it and \"\" removes a variable", async () => {
        const s = scenario({
            release: { ...BASE_RELEASE, blue: { image: OLD, env: { FEATURE_X: "on", LOG_LEVEL: "info" } }, green: { image: OLD, env: { STALE: "1" } } },
        });
        await s.machine().start({ image: NEW, env: { LOG_LEVEL: "debug", FEATURE_X: "" }, dryRun: false });
        const first = s.stack.ops.find((op) => op.kind === "write");
        assert.deepEqual(first?.kind === "write" && first.release.green.env, { LOG_LEVEL: "debug" });
    });

    it("a preview weight set by hand without a release is rolled back with one targeted update", async () => {
        const s = scenario({ release: { ...BASE_RELEASE, previewWeight: 30 } });
        assert.equal(await s.machine().rollback(), EXIT.ok);
        assert.deepEqual(
            s.stack.ops.map((op) => (op.kind === "up" ? `up ${op.target}` : `write ${op.release.previewWeight}`)),
            ["write 0", `up ${TRAFFIC_URN}`],
        );
    });

    it("every release writes its events: start, each config write and update, analyses, the outcome", async () => {
        const s = scenario({ rollout: { steps: [50, 100], bakeMinutes: 1, rollbackWindowMinutes: 0 } });
        await s.machine().start({ image: NEW });
        const types = new Set(s.events.events.map((e) => e.type));
        for (const t of ["start", "config", "up", "healthy", "analysis", "promoted"]) {
            assert.ok(types.has(t as ReleaseEvent["type"]), `event ${t}`);
        }
        assert.ok(s.events.events.every((e) => e.release === "20260726-100000-green" && e.stack === "dev"));
    });

    describe("capacity follows the weight (aws: each slot autoscaled 4..16)", () => {
        /** The serving slot runs 16 tasks (CPU tracking's choice at 100 %); the idle slot its minimum, 4. */
        const AWS = { cloud: "aws", replicas: { blue: 16, green: 4 } } as const;
        const ups = (s: { stack: FakeStack }) => s.stack.ops.filter((op): op is Extract<StackOp, { kind: "up" }> => op.kind === "up");
        const weightWrite = (s: { stack: FakeStack }, weight: number) =>
            s.stack.ops.find((op): op is Extract<StackOp, { kind: "write" }> => op.kind === "write" && op.release.previewWeight === weight);

        it("before each shift the floors are written and applied in their own update, then the weight (blue pinned at 16; green 4 → 8 → 16)", async () => {
            const s = scenario(AWS);
            const initial = initialState(s);
            assert.equal(await s.machine().start({ image: NEW }), EXIT.ok, s.reporter.text());

            assert.deepEqual(sequence(s.stack.ops, initial), [
                "config active=blue previewWeight=0 blue=1.0.0 green=2.0.0",
                "up",
                // Before 10 %: ⌈16 × 10 %⌉ = 2 → green's minimum 4 (nothing to record); blue pinned at its 16.
                "config active=blue previewWeight=0 blue=1.0.0(≥16) green=2.0.0",
                "up",
                "config active=blue previewWeight=10 blue=1.0.0(≥16) green=2.0.0",
                "up",
                // Before 50 %: ⌈16 × 50 %⌉ = 8.
                "config active=blue previewWeight=10 blue=1.0.0(≥16) green=2.0.0(≥8)",
                "up",
                "config active=blue previewWeight=50 blue=1.0.0(≥16) green=2.0.0(≥8)",
                "up",
                // Before 100 %: 16.
                "config active=blue previewWeight=50 blue=1.0.0(≥16) green=2.0.0(≥16)",
                "up",
                "config active=blue previewWeight=100 blue=1.0.0(≥16) green=2.0.0(≥16)",
                "up",
                // Promotion keeps both floors (routing-neutral, blue stays warm for the window) …
                "config active=green previewWeight=0 blue=1.0.0(≥16) green=2.0.0(≥16)",
                "up",
                // … and the end of the window clears them: blue runs nothing, green's autoscaler owns it again.
                "config active=green previewWeight=0 blue=1.0.0(down) green=2.0.0",
                "up",
            ]);
            assertOneChangePerUpdate(s.stack.ops, initial);
            const final = s.stack.current();
            assert.equal(final.blue.minReplicas, undefined);
            assert.equal(final.green.minReplicas, undefined);
        });

        it("waits until the new slot has its floor's replicas up (rising on the fake clock) before the weight moves", async () => {
            const s = scenario(AWS);
            assert.equal(await s.machine().start({ image: NEW }), EXIT.ok, s.reporter.text());
            const u = ups(s);
            // ups: 0 deploy, 1 floors for 10 %, 2 weight 10, 3 floors for 50 %, 4 weight 50, 5 floors for 100 %, 6 weight 100.
            assert.equal(u[3].deployed.green.minReplicas, 8);
            assert.equal(u[3].deployed.previewWeight, 10, "the floors' update moves no traffic");
            // green goes 4 → 8 at 2 ready tasks a minute: the 50 % write comes 2 minutes after the floors' update, not before.
            const at50 = weightWrite(s, 50);
            assert.ok(at50, "a 50 % write");
            assert.ok(at50.at - u[3].at >= 2 * MIN && at50.at - u[3].at <= 2 * MIN + 10_000, `${(at50.at - u[3].at) / 1000}s after the floors' update`);
            // 8 → 16 for the last step: 4 minutes.
            const at100 = weightWrite(s, 100);
            assert.ok(at100 && at100.at - u[5].at >= 4 * MIN && at100.at - u[5].at <= 4 * MIN + 10_000);
            const text = s.reporter.text();
            assert.match(text, /capacity before 50 %: green 4\/8 replicas up/);
            assert.match(text, /capacity before 50 %: green 7\/8 replicas up/);
            assert.match(text, /green has 8 replicas up \(floor 8\): capacity for 50 % is there/);
            // While green scaled out, the 10 % traffic was still judged.
            const between = s.events.events.filter((e) => e.type === "analysis" && Date.parse(String(e.at)) > u[3].at && Date.parse(String(e.at)) < at50.at);
            assert.ok(between.length >= 20, `${between.length} analyses while waiting`);
            assert.ok(s.events.events.some((e) => e.type === "capacity" && e.servingReplicas === 16 && e.weight === 50));
        });

        it("a new slot that does not reach its floor within healthTimeoutMinutes is rolled back; the traffic never moved on, blue keeps its pin", async () => {
            const s = scenario({ ...AWS, rollout: { healthTimeoutMinutes: 3 } });
            const initial = initialState(s);
            s.replicas.perMinute = 0; // green cannot start more tasks (e.g. no capacity in the subnets)
            assert.equal(await s.machine().start({ image: NEW }), EXIT.rolledBack);

            assert.deepEqual(sequence(s.stack.ops, initial).slice(-6), [
                "config active=blue previewWeight=10 blue=1.0.0(≥16) green=2.0.0",
                "up",
                "config active=blue previewWeight=10 blue=1.0.0(≥16) green=2.0.0(≥8)",
                "up",
                "config active=blue previewWeight=0 blue=1.0.0(≥16) green=2.0.0(≥8)",
                `up --target ${TRAFFIC_URN}`,
            ]);
            assert.equal(weightWrite(s, 50), undefined, "no 50 % step");
            assert.match(s.stack.current().progress?.reason ?? "", /green has 4 of 8 replicas up 3 min after its floor was raised for 50 %; the shift to 50 % did not happen/);
            const u = ups(s);
            assert.ok(u[u.length - 1].at - u[u.length - 2].at >= 3 * MIN, "waited the timeout");
            assert.equal(s.stack.current().blue.minReplicas, 16, "the serving-again slot keeps its pinned floor");
            assert.deepEqual(s.stack.deployedWeights(), { blue: 100, green: 0 });
        });

        it("a failed analysis while the new slot scales out rolls back at once", async () => {
            const s = scenario(AWS);
            // green starts failing once its floor for 50 % is written (the traffic is still at 10 %).
            s.metrics.errorRatio = (slot, deployed) => (slot === "green" && deployed.green.minReplicas === 8 ? 0.2 : 0);
            assert.equal(await s.machine().start({ image: NEW }), EXIT.rolledBack);
            assert.match(s.stack.current().progress?.reason ?? "", /analysis at 10 % while green scaled out for 50 %: error ratio 20\.00 %/);
            const u = ups(s);
            assert.ok(u[u.length - 1].at - u[u.length - 2].at <= 10_000, "detected by the first analysis of the wait");
            assert.equal(weightWrite(s, 50), undefined);
        });

        it("an operator's promote at 10 % raises green to 16 and waits for it before the promotion moves the traffic", async () => {
            const s = scenario(AWS);
            const initial = initialState(s);
            s.clock.schedule(3 * MIN, async () => void (await s.machine(300).promote()));
            assert.equal(await s.machine(100).start({ image: NEW }), EXIT.ok, s.reporter.text());
            const seq = sequence(s.stack.ops, initial);
            assert.deepEqual(seq.slice(4, 10), [
                "config active=blue previewWeight=10 blue=1.0.0(≥16) green=2.0.0",
                "up",
                "config active=blue previewWeight=10 blue=1.0.0(≥16) green=2.0.0(≥16)",
                "up",
                "config active=green previewWeight=0 blue=1.0.0(≥16) green=2.0.0(≥16)",
                "up",
            ]);
            const u = ups(s);
            assert.ok(u[4].at - u[3].at >= 6 * MIN, "4 → 16 at 2 a minute before the promotion");
        });

        it("when the serving slot's replicas cannot be read, the floors are planned from its minimum (no pin, green at 4)", async () => {
            const s = scenario(AWS);
            const initial = initialState(s);
            let blueReads = 0;
            s.metrics.health_ = (slot) => {
                // The first read is start's check that the source sees the serving slot; then Prometheus goes away for blue.
                if (slot === "blue" && ++blueReads > 1) {
                    throw new Error("cannot reach Prometheus at http://127.0.0.1:9090: ECONNRESET");
                }
                return s.replicas.health(slot);
            };
            s.metrics.errorRatio = () => 0;
            const code = await s.machine().start({ image: NEW, dryRun: false });
            assert.equal(code, EXIT.ok, s.reporter.text());
            assert.match(s.reporter.text(), /cannot read blue's replicas \(cannot reach Prometheus.*\); planning capacity from its minimum, 4/);
            assert.deepEqual(sequence(s.stack.ops, initial).slice(2, 4), ["config active=blue previewWeight=10 blue=1.0.0 green=2.0.0", "up"]);
        });

        it("on docker (a fixed count per slot) no floor is ever written", async () => {
            const s = scenario();
            assert.equal(await s.machine().start({ image: NEW }), EXIT.ok);
            assert.ok(s.stack.ops.every((op) => op.kind !== "write" || (op.release.blue.minReplicas === undefined && op.release.green.minReplicas === undefined)));
        });

        it("the dry run shows the capacity step before each shift", async () => {
            const s = scenario(AWS);
            assert.equal(await s.machine().start({ image: NEW, dryRun: true }), EXIT.ok);
            const text = s.reporter.text();
            assert.match(text, /first, capacity: config green\.minReplicas=⌈blue's replicas up × 50 %⌉, blue\.minReplicas=its replicas up \(each within 4-16\) → pulumi up; wait until green has them up \(at most 10 min\)/);
            assert.match(text, /blue\.scaledDown=true, both slots' minReplicas cleared/);
        });

        it("status shows each slot's floor, and after a rollback says how to hand the floors back", async () => {
            const s = scenario({ ...AWS, rollout: { healthTimeoutMinutes: 1 } });
            s.replicas.perMinute = 0;
            assert.equal(await s.machine().start({ image: NEW }), EXIT.rolledBack);
            s.reporter.lines.length = 0;
            await s.machine(200).status();
            const text = s.reporter.text();
            assert.match(text, /blue +100 % +registry\.example\.com\/apfa:1\.0\.0 +\[ACTIVE, floor 16 replicas\]/);
            assert.match(text, /replica floors left by the release: blue 16, green 8 \(the next release replaces them/);
        });
    });
});
