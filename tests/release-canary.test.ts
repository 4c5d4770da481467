/**
 * The canary strategy (`apfa:rollout.strategy: canary`): 5 % for 10 minutes, then 25 → 50 → 100 with
 * 5 minutes each, the same gates as blue/green. And how the gate judges a slot with little
 * traffic: below `minRequests` in its window it holds, and after whole windows of the step it
 * judges the step's requests so far (up to `maxWindowSeconds`), instead of holding until the step
 * is declared inconclusive.
 */
import * as assert from "node:assert/strict";

import { parseConfig, parseRolloutSettings } from "../src/config";
import { analyse, stepTrafficOutlook, widenedWindowSeconds } from "../tools/release/analysis";
import { EXIT } from "../tools/release/machine";
import { rolloutSteps } from "../tools/release/state";
import { NEW_IMAGE, TRAFFIC_URN, releaseScenario, type StackOp } from "./fixtures/release/fakes";
import { problemsOf } from "./helpers/config";

const MIN = 60_000;
const CANARY = { strategy: "canary" };
/**
 * The repository defines no reference load, so these tests take 10 requests per second to the
 * service (a quiet internal service; the rehearsal's curl loop on dev does about that): the case
 * where a 5 % step is too small for one 60 s window.
 */
const REFERENCE_RPS = 10;
type UpOp = Extract<StackOp, { kind: "up" }>;
const ups = (ops: readonly StackOp[]) => ops.filter((op): op is UpOp => op.kind === "up");

const problems = problemsOf;

describe("canary releases and the gate at low traffic", () => {
    describe("apfa:rollout.strategy", () => {
        it("canary: 5 % for 10 min, then 25 → 50 → 100 with 5 min bakes; the same gate thresholds as blue/green", () => {
            const canary = parseRolloutSettings(CANARY);
            assert.deepEqual(rolloutSteps(canary), [
                { weight: 5, bakeSeconds: 600 },
                { weight: 25, bakeSeconds: 300 },
                { weight: 50, bakeSeconds: 300 },
                { weight: 100, bakeSeconds: 300 },
            ]);
            assert.deepEqual(canary.analysis, parseRolloutSettings({}).analysis);
        });

        it("bluegreen stays the default (10 → 50 → 100, 15 min each)", () => {
            const rollout = parseRolloutSettings({});
            assert.equal(rollout.strategy, "bluegreen");
            assert.deepEqual(rolloutSteps(rollout).map((s) => `${s.weight}@${s.bakeSeconds}`), ["10@900", "50@900", "100@900"]);
        });

        it("explicit steps and bakes override the strategy's", () => {
            assert.deepEqual(rolloutSteps(parseRolloutSettings({ strategy: "canary", steps: [1, 10, 100] })).map((s) => `${s.weight}@${s.bakeSeconds}`), [
                "1@300",
                "10@300",
                "100@300",
            ]);
            assert.deepEqual(rolloutSteps(parseRolloutSettings({ strategy: "canary", bakeMinutes: 2 })).map((s) => s.bakeSeconds), [600, 120, 120, 120]);
        });

        it("an unknown strategy is named with what is expected, in the one config error of the stack", () => {
            const found = problems(() =>
                parseConfig({ values: { "apfa:cloud": "docker", "apfa:rollout": { strategy: "linear", steps: [50, 10, 100] } }, project: "apfa", stack: "t" }),
            );
            assert.equal(found.length, 2, found.join("\n"));
            assert.match(found.join("\n"), /apfa:rollout\.strategy: .*"bluegreen".*"canary"/);
            assert.match(found.join("\n"), /apfa:rollout\.steps: steps must rise/);
        });
    });

    describe("a slot with little traffic", () => {
        const a = parseRolloutSettings(CANARY).analysis;

        it("the outlook of a 5 % step: requests per 60 s window, and how many windows reach the 50-request minimum", () => {
            const rows = [1, 2, 5, REFERENCE_RPS, 20, 50].map((rps) => ({ rps, ...stepTrafficOutlook(a, rps, 5) }));
            console.log(`      5 % step, minRequests ${a.minRequests}, window ${a.windowSeconds}s, widened at most to ${a.maxWindowSeconds}s:`);
            for (const r of rows) {
                const when = r.judgedAfterSeconds === undefined ? "never: held, then inconclusive (onInconclusive)" : `judged after ${r.judgedAfterSeconds} s`;
                console.log(`        ${String(r.rps).padStart(3)} rps → ${r.requestsPerWindow.toFixed(1).padStart(5)} requests/window, ${String(r.windowsNeeded).padStart(2)} window(s): ${when}`);
            }
            // By hand: rps × 5 % × 60 s per window; ⌈50 / that⌉ windows; judged if within 600 s.
            assert.deepEqual(
                rows.map((r) => [r.rps, r.requestsPerWindow, r.windowsNeeded, r.judgedAfterSeconds]),
                [
                    [1, 3, 17, undefined],
                    [2, 6, 9, 540],
                    [5, 15, 4, 240],
                    [10, 30, 2, 120],
                    [20, 60, 1, 60],
                    [50, 150, 1, 60],
                ],
            );
            // Without widening (maxWindowSeconds at the window) the reference traffic never judges a 5 % step.
            assert.equal(stepTrafficOutlook({ ...a, maxWindowSeconds: 60 }, REFERENCE_RPS, 5).judgedAfterSeconds, undefined);
        });

        it("the widened window: whole windows since the step began, capped at maxWindowSeconds, never below the window", () => {
            assert.equal(widenedWindowSeconds(a, 0), 60);
            assert.equal(widenedWindowSeconds(a, 119_000), 60);
            assert.equal(widenedWindowSeconds(a, 120_000), 120);
            assert.equal(widenedWindowSeconds(a, 185_000), 180);
            assert.equal(widenedWindowSeconds(a, 3_600_000), 600);
            assert.equal(widenedWindowSeconds({ windowSeconds: 60, maxWindowSeconds: 30 }, 3_600_000), 60);
        });

        it("at 5 % and 10 rps one window holds (30 requests); the step's first two windows together are judged", () => {
            // 10 rps × 5 % = 0.5 rps on green: 30 requests a minute, 6 of them errors at 20 %.
            const oneWindow = analyse({ candidate: { requests: 30, errors: 6, p95Seconds: 0.1 }, baseline: { requests: 570, errors: 0, p95Seconds: 0.1 } }, a);
            assert.equal(oneWindow.decision, "hold");
            assert.match(oneWindow.reasons[0], /30 requests on the new slot in the window; at least 50 are needed/);
            const twoWindows = analyse({ candidate: { requests: 60, errors: 12, p95Seconds: 0.1 }, baseline: { requests: 1140, errors: 0, p95Seconds: 0.1 } }, a);
            assert.equal(twoWindows.decision, "rollback");
        });
    });

    describe("a canary release on the fake stack", () => {
        it("moves 5 → 25 → 50 → 100 with its bakes (10, 5, 5, 5 min), promotes, and scales the old slot down", async () => {
            const s = releaseScenario({ rollout: { ...CANARY, rollbackWindowMinutes: 10 } });
            assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.ok, s.reporter.text());
            const u = ups(s.stack.ops);
            assert.deepEqual(
                u.map((op) => `${op.applied.active}:${op.applied.previewWeight}${op.applied.blue.scaledDown ? ":blue down" : ""}`),
                ["blue:0", "blue:5", "blue:25", "blue:50", "blue:100", "green:0", "green:0:blue down"],
            );
            const gaps = u.slice(2, 5).map((op, i) => (op.at - u[i + 1].at) / MIN);
            assert.ok(gaps[0] >= 10 && gaps[0] < 10.2, `5 % baked ${gaps[0]} min`);
            assert.ok(gaps.slice(1).every((g) => g >= 5 && g < 5.2), `25 % and 50 % baked ${gaps.slice(1).join(", ")} min`);
        });

        it("at the reference traffic (10 rps) a healthy 5 % step holds for two windows, then is judged on the step's 120 s and continues", async () => {
            const s = releaseScenario({ rollout: CANARY });
            s.metrics.requestsPerWindow = REFERENCE_RPS * 60;
            assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.ok, s.reporter.text());
            const stepStart = ups(s.stack.ops)[1].at;
            const atFive = s.events.events.filter((e) => e.type === "analysis" && Date.parse(e.at) < stepStart + 10 * MIN);
            const firstContinue = atFive.find((e) => e.decision === "continue");
            assert.ok(firstContinue, "the 5 % step was judged");
            assert.equal(Date.parse(firstContinue.at) - stepStart, 120_000, "after two whole windows");
            assert.ok(atFive.filter((e) => Date.parse(e.at) < stepStart + 120_000).every((e) => e.decision === "hold"));
            assert.match(String((firstContinue.reasons as string[])[0]), /^over the step's last 2m 00s \(30 requests in 60s\): error ratio 0\.00 % \(0\/60/);
            assert.ok(s.metrics.windows.includes(120), "Prometheus was asked for the widened window");
        });

        it("at the reference traffic a bad canary is rolled back from the 5 % step two minutes in; without widening it would be held until inconclusive", async () => {
            const bad = (slot: string) => (slot === "green" ? 0.2 : 0);
            const s = releaseScenario({ rollout: CANARY });
            s.metrics.requestsPerWindow = REFERENCE_RPS * 60;
            s.metrics.errorRatio = bad;
            assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.rolledBack);
            const u = ups(s.stack.ops);
            assert.deepEqual(u[u.length - 1].target, [TRAFFIC_URN]);
            assert.equal(u[u.length - 1].at - u[1].at, 120_000);
            assert.match(s.stack.current().progress?.reason ?? "", /analysis at step 1 \(5 %\): over the step's last 2m 00s \(30 requests in 60s\): error ratio 20\.00 % \(12\/60/);

            const narrow = releaseScenario({ rollout: { ...CANARY, analysis: { maxWindowSeconds: 60 } } });
            narrow.metrics.requestsPerWindow = REFERENCE_RPS * 60;
            narrow.metrics.errorRatio = bad;
            assert.equal(await narrow.machine().start({ image: NEW_IMAGE }), EXIT.rolledBack);
            const nu = ups(narrow.stack.ops);
            assert.equal((nu[nu.length - 1].at - nu[1].at) / MIN, 20, "10 min bake + 10 min hold allowance");
            assert.match(narrow.stack.current().progress?.reason ?? "", /step 1 still undecided 10 min after its bake: 30 requests on the new slot in the window/);
        });

        it("a window with enough requests is judged on its own: at 100 rps a bad canary is caught by the first analysis", async () => {
            const s = releaseScenario({ rollout: CANARY });
            s.metrics.requestsPerWindow = 100 * 60;
            s.metrics.errorRatio = (slot) => (slot === "green" ? 0.2 : 0);
            assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.rolledBack);
            const u = ups(s.stack.ops);
            assert.equal(u[u.length - 1].at - u[1].at, 0);
            assert.ok(!s.metrics.windows.some((w) => w !== 60), "never widened");
        });

        it("the dry run names the strategy and what the gate needs at the 5 % step", async () => {
            const s = releaseScenario({ rollout: CANARY });
            assert.equal(await s.machine().start({ image: NEW_IMAGE, dryRun: true }), EXIT.ok);
            const text = s.reporter.text();
            assert.match(text, /Release plan for stack dev \(docker, canary\)/);
            assert.match(text, /2\. config previewWeight=5 \(step 1\/4\) → pulumi up: blue 95 % \/ green 5 %/);
            assert.match(text, /bake 10m 00s, analysis every 5s over the last 60s/);
            // 50 / (5 % × 60 s) = 16.7 rps; 50 / (5 % × 600 s) = 1.7 rps.
            assert.match(text, /at 5 % the gate needs 50 requests on the new slot: ≥ 17 rps to the service in one 60s window, or ≥ 1\.7 rps over the step's first 10m 00s \(widened window\)/);
        });
    });
});
