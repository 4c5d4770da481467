/**
 * The release gate: a pure function from metric samples to continue / hold / rollback.
 */
import * as assert from "node:assert/strict";
import fc from "fast-check";

import { parseRolloutSettings } from "../src/config";
import { analyse, errorRatioLowerBound, type AnalysisThresholds, type Decision, type SlotSample } from "../tools/release/analysis";

/** The defaults of apfa:rollout.analysis, from the schema (defaults live only there). */
const DEFAULTS: AnalysisThresholds = parseRolloutSettings({}).analysis;

const healthy = (requests: number, p95 = 0.1): SlotSample => ({ requests, errors: 0, p95Seconds: p95 });

describe("release analysis (pure)", () => {
    it("the defaults come from the config schema", () => {
        assert.deepEqual(
            { ...DEFAULTS },
            {
                ...DEFAULTS,
                minRequests: 50,
                maxErrorRatio: 0.01,
                errorRatioFactor: 2,
                errorRatioMargin: 0.002,
                maxP95Seconds: 0.5,
                p95Factor: 1.5,
                p95MarginSeconds: 0.05,
            },
        );
    });

    const table: Array<{ name: string; candidate: SlotSample; baseline?: SlotSample; decision: Decision; reason: RegExp }> = [
        {
            name: "too few requests on the new slot: hold",
            candidate: { requests: 12, errors: 12, p95Seconds: 3 },
            baseline: healthy(5000),
            decision: "hold",
            reason: /12 requests on the new slot in the window; at least 50 are needed/,
        },
        {
            name: "both slots healthy: continue",
            candidate: { requests: 1000, errors: 1, p95Seconds: 0.11 },
            baseline: { requests: 9000, errors: 9, p95Seconds: 0.1 },
            decision: "continue",
            reason: /error ratio 0\.10 % \(1\/1000, lower bound .*\) within the limit 1\.00 %/,
        },
        {
            name: "20 % errors (the rehearsal's bad release): rollback on the absolute limit",
            candidate: { requests: 500, errors: 100, p95Seconds: 0.1 },
            baseline: healthy(4500),
            decision: "rollback",
            reason: /error ratio 20\.00 % \(100\/500, lower bound 17\.\d+ %\) above the limit 1\.00 %/,
        },
        {
            name: "20 % errors at the minimum sample already rolls back",
            candidate: { requests: 50, errors: 10, p95Seconds: 0.1 },
            decision: "rollback",
            reason: /error ratio 20\.00 % \(10\/50, lower bound 1[12]\.\d+ %\) above the limit/,
        },
        {
            name: "one error in a small sample is over the limit but not significant: hold, not rollback",
            candidate: { requests: 60, errors: 1, p95Seconds: 0.1 },
            baseline: healthy(600),
            decision: "hold",
            reason: /error ratio 1\.67 % .* above the limit 1\.00 %, not yet significant/,
        },
        {
            name: "under the absolute limit but well above the old slot: rollback on the relative limit",
            candidate: { requests: 4000, errors: 32, p95Seconds: 0.1 },
            baseline: { requests: 36000, errors: 18, p95Seconds: 0.1 },
            decision: "rollback",
            reason: /error ratio 0\.80 % .* above the old slot's 0\.050 % \(≤ 0\.07\d %\) ×2 \+ 0\.20 % = 0\.3\d %/,
        },
        {
            name: "old slot with too few requests is no baseline: judged on absolute limits only",
            candidate: { requests: 1000, errors: 5, p95Seconds: 0.1 },
            baseline: { requests: 10, errors: 0, p95Seconds: 0.01 },
            decision: "continue",
            reason: /within the limit/,
        },
        {
            name: "p95 above the absolute limit: rollback",
            candidate: healthy(1000, 0.8),
            baseline: healthy(9000, 0.7),
            decision: "rollback",
            reason: /p95 latency 800 ms above the limit 500 ms/,
        },
        {
            name: "p95 under the absolute limit but far above the old slot: rollback",
            candidate: healthy(1000, 0.3),
            baseline: healthy(9000, 0.1),
            decision: "rollback",
            reason: /p95 latency 300 ms above the old slot's 100 ms ×1\.5 \+ 50 ms = 200 ms/,
        },
        {
            name: "no latency data: judged on errors, said so",
            candidate: { requests: 1000, errors: 0 },
            baseline: healthy(9000),
            decision: "continue",
            reason: /within the limit/,
        },
        {
            name: "after promotion (no baseline): absolute limits only",
            candidate: { requests: 5000, errors: 20, p95Seconds: 0.2 },
            decision: "continue",
            reason: /error ratio 0\.40 %/,
        },
    ];
    for (const row of table) {
        it(row.name, () => {
            const verdict = analyse({ candidate: row.candidate, baseline: row.baseline }, DEFAULTS);
            assert.equal(verdict.decision, row.decision, verdict.reasons.join("\n"));
            assert.match(verdict.reasons.join("\n"), row.reason);
        });
    }

    it("bad data (errors above requests, NaN, negative) is clamped, not trusted", () => {
        assert.equal(analyse({ candidate: { requests: 100, errors: 500, p95Seconds: 0.1 } }, DEFAULTS).decision, "rollback");
        assert.equal(analyse({ candidate: { requests: Number.NaN, errors: 3 } }, DEFAULTS).decision, "hold");
        assert.equal(analyse({ candidate: { requests: 1000, errors: -5, p95Seconds: Number.NaN } }, DEFAULTS).decision, "continue");
    });

    describe("properties", () => {
        const rank: Record<Decision, number> = { continue: 0, hold: 1, rollback: 2 };
        const sample = fc.record({
            requests: fc.double({ min: 0, max: 1e6, noNaN: true }),
            errorShare: fc.double({ min: 0, max: 1, noNaN: true }),
            p95: fc.option(fc.double({ min: 0.001, max: 10, noNaN: true }), { nil: undefined }),
        });
        const toSample = (s: { requests: number; errorShare: number; p95?: number }): SlotSample => ({
            requests: s.requests,
            errors: s.requests * s.errorShare,
            p95Seconds: s.p95,
        });

        it("fewer requests than minRequests always holds", () => {
            fc.assert(
                fc.property(sample, fc.option(sample, { nil: undefined }), (c, b) => {
                    const candidate = { ...toSample(c), requests: Math.min(c.requests, DEFAULTS.minRequests - 1e-6) };
                    return analyse({ candidate, baseline: b && toSample(b) }, DEFAULTS).decision === "hold";
                }),
            );
        });

        it("more errors never make the verdict better", () => {
            fc.assert(
                fc.property(sample, fc.option(sample, { nil: undefined }), fc.double({ min: 0, max: 1, noNaN: true }), (c, b, extra) => {
                    const base = toSample(c);
                    const worse = { ...base, errors: Math.min(base.requests, base.errors + extra * base.requests) };
                    const baseline = b && toSample(b);
                    return rank[analyse({ candidate: worse, baseline }, DEFAULTS).decision] >= rank[analyse({ candidate: base, baseline }, DEFAULTS).decision];
                }),
            );
        });

        it("higher latency never makes the verdict better", () => {
            fc.assert(
                fc.property(sample, fc.option(sample, { nil: undefined }), fc.double({ min: 0, max: 5, noNaN: true }), (c, b, extra) => {
                    const base = { ...toSample(c), p95Seconds: c.p95 ?? 0.1 };
                    const slower = { ...base, p95Seconds: base.p95Seconds + extra };
                    const baseline = b && toSample(b);
                    return rank[analyse({ candidate: slower, baseline }, DEFAULTS).decision] >= rank[analyse({ candidate: base, baseline }, DEFAULTS).decision];
                }),
            );
        });

        it("a new slot that behaves exactly like a healthy old slot is never rolled back", () => {
            fc.assert(
                fc.property(
                    fc.double({ min: DEFAULTS.minRequests, max: 1e6, noNaN: true }),
                    // Just under the limit: errors/requests may round a hair above the ratio it was made from.
                    fc.double({ min: 0, max: DEFAULTS.maxErrorRatio * 0.999, noNaN: true }),
                    fc.double({ min: 0.001, max: DEFAULTS.maxP95Seconds, noNaN: true }),
                    (requests, ratio, p95) => {
                        const same = { requests, errors: requests * ratio, p95Seconds: p95 };
                        return analyse({ candidate: same, baseline: same }, DEFAULTS).decision === "continue";
                    },
                ),
            );
        });

        it("the Wilson lower bound lies in [0, observed ratio] and tightens as the sample grows", () => {
            fc.assert(
                fc.property(fc.integer({ min: 1, max: 100_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, p) => {
                    const errors = Math.round(n * p);
                    const lower = errorRatioLowerBound(errors, n);
                    const bigger = errorRatioLowerBound(errors * 10, n * 10);
                    return lower >= 0 && lower <= errors / n + 1e-12 && bigger >= lower - 1e-12;
                }),
            );
        });
    });
});
