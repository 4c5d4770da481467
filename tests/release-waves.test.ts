/**
 * Waves across region stacks (`--stacks a,b,c`) on fake region stacks sharing one fake clock: one
 * region at a time, each to its end; a failure stops the wave and rolls back only that region;
 * `status` shows every region; `resume` continues the wave.
 */
import * as assert from "node:assert/strict";

import { parseReleaseArgs, UsageError } from "../tools/release/args";
import { MemoryEventLog } from "../tools/release/events";
import { EXIT } from "../tools/release/machine";
import { Wave } from "../tools/release/wave";
import { FakeClock, LinesReporter, NEW_IMAGE, TRAFFIC_URN, releaseScenario, type StackOp } from "./fixtures/release/fakes";

const MIN = 60_000;
const REGIONS = ["prod-aws", "prod-aws-usw2", "prod-aws-apse1"] as const;
/** Short steps and window so a region completes in minutes of fake time. */
const ROLLOUT = { steps: [50, 100], bakeMinutes: 2, rollbackWindowMinutes: 3 };

function fleet(stacks: readonly string[] = REGIONS) {
    const clock = new FakeClock();
    const reporter = new LinesReporter();
    const events = new MemoryEventLog();
    const regions = Object.fromEntries(stacks.map((stack) => [stack, releaseScenario({ stack, clock, reporter, events, rollout: ROLLOUT })]));
    /** A wave as one `npm run release -- … --stacks` process (pid) would run it. */
    const wave = (pid = 100, order: readonly string[] = stacks) =>
        new Wave(order, {
            open: async (stack) => {
                const region = regions[stack];
                if (!region) {
                    throw new Error(`no stack named '${stack}' found`);
                }
                return { machine: region.machine(pid), driver: region.stack };
            },
            clock,
            reporter,
            events,
        });
    return { clock, reporter, events, regions, wave };
}

const firstWrite = (ops: readonly StackOp[]) => ops.find((op) => op.kind === "write")?.at;
const lastUp = (ops: readonly StackOp[]) => [...ops].reverse().find((op) => op.kind === "up")?.at;

describe("release waves across region stacks (fake regions, one fake clock)", () => {
    it("parses --stacks (in order) and refuses it with --stack, or with a stack named twice", () => {
        const args = parseReleaseArgs(["start", "--stacks", "prod-aws,prod-aws-usw2", "--image", "r/apfa:2"]);
        assert.deepEqual([args.stacks, args.stack], [["prod-aws", "prod-aws-usw2"], "prod-aws"]);
        assert.throws(() => parseReleaseArgs(["status", "--stack", "a", "--stacks", "a,b"]), (e: unknown) => e instanceof UsageError && /not both/.test(e.message));
        assert.throws(() => parseReleaseArgs(["status", "--stacks", "a,a"]), (e: unknown) => e instanceof UsageError && /names a stack twice/.test(e.message));
        assert.throws(() => parseReleaseArgs(["status", "--stacks", "a,,b"]), (e: unknown) => e instanceof UsageError && /--stacks expects stack names/.test(e.message));
    });

    it("releases one region at a time, each to its end (rollback window included) before the next starts", async () => {
        const f = fleet();
        assert.equal(await f.wave().start({ image: NEW_IMAGE }), EXIT.ok, f.reporter.text());

        for (const [i, stack] of REGIONS.entries()) {
            const region = f.regions[stack];
            const state = region.stack.current();
            assert.equal(state.progress?.phase, "completed", stack);
            assert.equal(region.stack.running().green.image, NEW_IMAGE, stack);
            assert.deepEqual(state.progress?.wave, { id: "20260726-100000-wave", stacks: [...REGIONS], index: i, env: {} });
            if (i > 0) {
                const previous = f.regions[REGIONS[i - 1]].stack.ops;
                assert.ok((firstWrite(region.stack.ops) ?? 0) >= (lastUp(previous) ?? Infinity), `${stack} started only after ${REGIONS[i - 1]} completed`);
            }
        }
        assert.match(f.reporter.text(), /wave 20260726-100000-wave complete: prod-aws, prod-aws-usw2, prod-aws-apse1 run the new release/);
    });

    it("a failure in the second region rolls that region back and stops the wave: the first keeps the release, the third is not touched (exit 1)", async () => {
        const f = fleet();
        f.regions["prod-aws-usw2"].metrics.errorRatio = (slot, deployed) => (slot === "green" && deployed.previewWeight === 50 ? 0.2 : 0);

        assert.equal(await f.wave().start({ image: NEW_IMAGE }), EXIT.rolledBack);

        assert.equal(f.regions["prod-aws"].stack.current().progress?.phase, "completed");
        assert.equal(f.regions["prod-aws"].stack.running().active, "green", "the first region keeps the new release");
        const second = f.regions["prod-aws-usw2"];
        assert.equal(second.stack.current().progress?.phase, "rolledBack");
        assert.deepEqual(second.stack.deployedWeights(), { blue: 100, green: 0 });
        assert.deepEqual(
            second.stack.ops.filter((op): op is Extract<StackOp, { kind: "up" }> => op.kind === "up").pop()?.target,
            [TRAFFIC_URN],
        );
        assert.deepEqual(f.regions["prod-aws-apse1"].stack.ops, [], "the third region was not touched");
        const errors = f.reporter.errors.join("\n");
        assert.match(errors, /WAVE STOPPED: prod-aws-usw2 was rolled back \(exit 1\)\./);
        assert.match(errors, /prod-aws keep the new release \(completed; not rolled back\); prod-aws-apse1 were not touched\./);
        assert.match(errors, /fix the release and start a new wave \(it begins again with prod-aws\)/);
        assert.deepEqual(
            f.events.events.filter((e) => e.type === "wave").map((e) => `${e.region}:${e.action}`),
            ["prod-aws:start", "prod-aws:done", "prod-aws-usw2:start", "prod-aws-usw2:stopped"],
        );
    });

    it("status shows every region's standing in the wave, then each region's own status", async () => {
        const f = fleet();
        f.regions["prod-aws-usw2"].metrics.errorRatio = (slot) => (slot === "green" ? 0.2 : 0);
        await f.wave().start({ image: NEW_IMAGE });
        f.reporter.lines.length = 0;

        assert.equal(await f.wave(200).status(), EXIT.ok);
        const text = f.reporter.text();
        assert.match(text, /wave 20260726-100000-wave: registry\.example\.com\/apfa:2\.0\.0 over prod-aws → prod-aws-usw2 → prod-aws-apse1/);
        assert.match(text, /1\. prod-aws +done/);
        assert.match(text, /2\. prod-aws-usw2 +rolled back/);
        assert.match(text, /3\. prod-aws-apse1 +not started/);
        assert.match(text, /── region 2\/3: prod-aws-usw2\nstack prod-aws-usw2 \(docker\)/);
        assert.match(text, /reason: analysis at step 1 \(50 %\): error ratio 20\.00 %/);
        assert.match(text, /wave 20260726-100000-wave: region 2\/3 of prod-aws → prod-aws-usw2 → prod-aws-apse1 \(`status --stacks prod-aws,prod-aws-usw2,prod-aws-apse1` shows them all\)/);
    });

    it("before anything is changed, a wave is refused when a region is held by a release or its config is unreadable", async () => {
        // The second region holds a release: one started there alone that stopped mid-way (a crash at its first step).
        const other = fleet();
        other.regions["prod-aws-usw2"].stack.fault = (n) => (n === 2 ? "hang" : undefined);
        void other.regions["prod-aws-usw2"].machine(900).start({ image: "registry.example.com/apfa:1.5.0" });
        for (let i = 0; i < 10_000 && other.regions["prod-aws-usw2"].stack.ops.filter((op) => op.kind === "up").length < 2; i++) {
            await new Promise((resolve) => setImmediate(resolve));
        }
        const opsBefore = REGIONS.map((stack) => other.regions[stack].stack.ops.length);
        other.reporter.lines.length = 0;
        const code = await other.wave(100, [...REGIONS, "prod-aws-euc1"]).start({ image: NEW_IMAGE });

        assert.equal(code, EXIT.refused);
        const text = other.reporter.text();
        assert.match(text, /refused: the wave cannot start; nothing was changed:/);
        assert.match(text, /prod-aws-usw2: release 20260726-100000-green holds it \(step 1\/2 at 50 %\)/);
        assert.match(text, /prod-aws-euc1: no stack named 'prod-aws-euc1' found/);
        assert.deepEqual(
            REGIONS.map((stack) => other.regions[stack].stack.ops.length),
            opsBefore,
        );
    });

    it("resume continues the wave after a crash in the second region: the first is skipped, the second resumed, the third started with the wave's image and env", async () => {
        const f = fleet();
        const second = f.regions["prod-aws-usw2"];
        // The process dies during the second region's 50 % step update.
        second.stack.fault = (n) => (n === 2 ? "hang" : undefined);
        void f.wave(100).start({ image: NEW_IMAGE, env: { FEATURE_X: "on" } });
        for (let i = 0; i < 20_000 && second.stack.ops.filter((op) => op.kind === "up").length < 2; i++) {
            await new Promise((resolve) => setImmediate(resolve));
        }
        assert.equal(second.stack.ops.filter((op) => op.kind === "up").length, 2, "the crash happened in the second region");
        second.stack.fault = () => undefined;
        f.clock.advance(10 * MIN);
        const firstOps = f.regions["prod-aws"].stack.ops.length;
        f.reporter.lines.length = 0;

        assert.equal(await f.wave(200).resume(), EXIT.ok, f.reporter.text());

        const text = f.reporter.text();
        assert.match(text, /region 1\/3: prod-aws done \(release 20260726-100000-green\)/);
        assert.match(text, /region 2\/3: prod-aws-usw2 resumes release/);
        assert.match(text, /region 3\/3: prod-aws-apse1/);
        assert.equal(f.regions["prod-aws"].stack.ops.length, firstOps, "the completed region was not touched again");
        for (const [i, stack] of REGIONS.entries()) {
            const state = f.regions[stack].stack.current();
            assert.equal(state.progress?.phase, "completed", stack);
            assert.equal(state.progress?.wave?.id, "20260726-100000-wave");
            assert.equal(state.progress?.wave?.index, i);
            assert.equal(state.green.env.FEATURE_X, "on", `${stack}: the wave's --env`);
            assert.equal(f.regions[stack].stack.running().green.image, NEW_IMAGE);
        }
    });

    it("resume of a wave stopped by a rollback does not go on (exit 1); status and resume of stacks without a wave say so", async () => {
        const f = fleet();
        f.regions["prod-aws-usw2"].metrics.errorRatio = (slot) => (slot === "green" ? 0.2 : 0);
        assert.equal(await f.wave().start({ image: NEW_IMAGE }), EXIT.rolledBack);
        f.reporter.lines.length = 0;
        assert.equal(await f.wave(200).resume(), EXIT.rolledBack);
        assert.match(f.reporter.text(), /wave 20260726-100000-wave: prod-aws-usw2 was rolled back \(analysis at step 1/);
        assert.deepEqual(f.regions["prod-aws-apse1"].stack.ops, [], "still untouched");

        const fresh = fleet(["a", "b"]);
        assert.equal(await fresh.wave().resume(), EXIT.ok);
        assert.match(fresh.reporter.text(), /nothing to resume: no wave over a,b is recorded on these stacks/);
        assert.equal(await fresh.wave().status(), EXIT.ok);
        assert.match(fresh.reporter.text(), /no wave recorded over a,b/);
    });

    it("a region that refuses its release (e.g. no image for a cloud target) stops the wave with exit 3; resume continues from it once fixed", async () => {
        const f = fleet(["prod-aws", "prod-aws-usw2"]);
        // The second region's metric source does not see its serving slot: start refuses there, before touching it.
        f.regions["prod-aws-usw2"].metrics.health_ = () => ({ up: 0, down: 0 });
        assert.equal(await f.wave().start({ image: NEW_IMAGE }), EXIT.refused);
        assert.match(f.reporter.errors.join("\n"), /WAVE STOPPED: prod-aws-usw2 refused the release \(exit 3\)/);
        assert.match(f.reporter.errors.join("\n"), /`npm run release -- resume --stacks prod-aws,prod-aws-usw2` continues the wave from prod-aws-usw2/);
        assert.deepEqual(f.regions["prod-aws-usw2"].stack.ops, []);

        f.regions["prod-aws-usw2"].metrics.health_ = () => ({ up: 2, down: 0 });
        assert.equal(await f.wave(200).resume(), EXIT.ok, f.reporter.text());
        assert.equal(f.regions["prod-aws-usw2"].stack.current().progress?.wave?.id, "20260726-100000-wave");
        assert.equal(f.regions["prod-aws-usw2"].stack.current().progress?.phase, "completed");
    });

    it("rollback --stacks rolls back the region in progress; with none in progress it is refused", async () => {
        const f = fleet();
        let code = -1;
        // Ten minutes in: the first region completed (≈7 min), the second is at its 50 % step.
        f.clock.schedule(10 * MIN, async () => void (code = await f.wave(300).inProgressRegion("rollback", "p99 spike in usw2")));
        assert.equal(await f.wave(100).start({ image: NEW_IMAGE }), EXIT.rolledBack);
        assert.equal(code, EXIT.ok);
        assert.match(f.reporter.text(), /rollback: prod-aws-usw2 \(release 20260726-1007\d\d-green, step \d\/2 at \d+ %\)/);
        assert.equal(f.regions["prod-aws-usw2"].stack.current().progress?.reason, "p99 spike in usw2");
        assert.equal(f.regions["prod-aws"].stack.current().progress?.phase, "completed");
        assert.deepEqual(f.regions["prod-aws-apse1"].stack.ops, []);

        f.reporter.lines.length = 0;
        assert.equal(await f.wave(400).inProgressRegion("pause"), EXIT.refused);
        assert.match(f.reporter.text(), /refused: no region of prod-aws,prod-aws-usw2,prod-aws-apse1 has a release in progress; nothing to pause/);
    });

    it("a dry run prints every region's plan and changes nothing", async () => {
        const f = fleet(["prod-aws", "prod-aws-usw2"]);
        assert.equal(await f.wave().start({ image: NEW_IMAGE, dryRun: true }), EXIT.ok);
        const text = f.reporter.text();
        assert.match(text, /── region 1\/2: prod-aws\nRelease plan for stack prod-aws/);
        assert.match(text, /── region 2\/2: prod-aws-usw2\nRelease plan for stack prod-aws-usw2/);
        assert.deepEqual(
            Object.values(f.regions).map((r) => r.stack.ops.length),
            [0, 0],
        );
    });
});
