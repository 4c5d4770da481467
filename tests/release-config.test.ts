/**
 * The release tool's keys in the stack config: `apfa:rollout` (defaults in one place, validated
 * with the program's own parser) and the additions to `apfa:release` (per-slot scale-down, the
 * recorded release).
 */
import * as assert from "node:assert/strict";

import { listStacks, readSampleStack } from "../scripts/synth/stack-config";
import { parseConfig, parseReleaseState, parseRolloutSettings } from "../src/config";
import { rolloutSteps } from "../tools/release/state";
import { problemsOf } from "./helpers/config";

const problems = problemsOf;

const docker = (extra: Record<string, unknown>) => () => parseConfig({ values: { "apfa:cloud": "docker", ...extra }, project: "apfa", stack: "t" });

describe("release config (apfa:rollout, apfa:release)", () => {
    it("apfa:rollout defaults: 10 → 50 → 100, 15 min bakes, a 60 min rollback window, Prometheus", () => {
        const rollout = parseRolloutSettings(undefined);
        assert.deepEqual(rolloutSteps(rollout), [
            { weight: 10, bakeSeconds: 900 },
            { weight: 50, bakeSeconds: 900 },
            { weight: 100, bakeSeconds: 900 },
        ]);
        assert.equal(rollout.rollbackWindowMinutes, 60);
        assert.equal(rollout.metricsSource, "prometheus");
        assert.equal(rollout.analysis.onInconclusive, "rollback");
    });

    it("a step may carry its own bake time", () => {
        const rollout = parseRolloutSettings({ steps: [{ weight: 5, bakeMinutes: 30 }, 25, 100], bakeMinutes: 10 });
        assert.deepEqual(rolloutSteps(rollout).map((s) => s.bakeSeconds), [1800, 600, 600]);
    });

    it("is a known key of the stack config (pulumi up accepts it) and its errors are named", () => {
        assert.deepEqual(problems(docker({ "apfa:rollout": { steps: [10, 50, 100] } })), []);
        assert.deepEqual(problems(docker({ "apfa:rollout": { steps: [50, 10, 100] } })), ["apfa:rollout.steps: steps must rise"]);
        assert.deepEqual(problems(docker({ "apfa:rollout": { steps: [10, 50] } })), ["apfa:rollout.steps: the last step must be 100"]);
        assert.match(problems(docker({ "apfa:rollout": { analysis: { maxErrorRatio: 2 } } })).join("\n"), /apfa:rollout\.analysis\.maxErrorRatio/);
        assert.match(problems(docker({ "apfa:rollout": { bakeMinuts: 5 } })).join("\n"), /apfa:rollout\.bakeMinuts: unknown key/);
        assert.match(problems(() => parseRolloutSettings({ metricsSource: "datadog" })).join("\n"), /apfa:rollout\.metricsSource/);
    });

    it("a scaled-down slot cannot take traffic", () => {
        assert.deepEqual(problems(() => parseReleaseState({ active: "green", green: { scaledDown: false }, blue: { scaledDown: true } })), []);
        assert.deepEqual(problems(() => parseReleaseState({ active: "green", previewWeight: 10, blue: { scaledDown: true } })), [
            "apfa:release.blue.scaledDown: a scaled-down slot cannot take traffic (it would get 10 %)",
        ]);
        assert.match(problems(docker({ "apfa:release": { active: "blue", blue: { scaledDown: true } } })).join("\n"), /apfa:release\.blue\.scaledDown/);
    });

    it("a slot's replica floor (apfa:release.<slot>.minReplicas) is a whole number ≥ 1 and at most apfa:scaling.maxReplicas", () => {
        const aws = (release: Record<string, unknown>, scaling?: Record<string, unknown>) => () =>
            parseConfig({
                values: {
                    "apfa:cloud": "aws",
                    "aws:region": "eu-west-1",
                    "apfa:release": { active: "blue", blue: { image: "registry.example.com/apfa:1" }, ...release },
                    ...(scaling ? { "apfa:scaling": scaling } : {}),
                },
                project: "apfa",
                stack: "t",
            });
        const config = parseConfig({ values: { "apfa:cloud": "docker", "apfa:release": { green: { minReplicas: 8 } } }, project: "apfa", stack: "t" });
        assert.equal(config.release.green.minReplicas, 8);
        assert.equal(config.release.blue.minReplicas, undefined, "unset by default");
        assert.deepEqual(problems(aws({ green: { minReplicas: 16 } })), [], "equal to the default maximum 16");
        assert.deepEqual(problems(aws({ green: { minReplicas: 17 } })), [
            "apfa:release.green.minReplicas: 17 is above apfa:scaling.maxReplicas (16); a slot's replica floor must be at most its maximum",
        ]);
        assert.deepEqual(problems(aws({ blue: { image: "registry.example.com/apfa:1", minReplicas: 10 } }, { maxReplicas: 8 })), [
            "apfa:release.blue.minReplicas: 10 is above apfa:scaling.maxReplicas (8); a slot's replica floor must be at most its maximum",
        ]);
        assert.deepEqual(problems(aws({ blue: { image: "registry.example.com/apfa:1", minReplicas: 10 } }, { minReplicas: 2, maxReplicas: 10 })), []);
        assert.match(problems(aws({ green: { minReplicas: 0 } })).join("\n"), /^apfa:release\.green\.minReplicas: /m);
        assert.match(problems(aws({ green: { minReplicas: 2.5 } })).join("\n"), /^apfa:release\.green\.minReplicas: /m);
        // An invalid apfa:scaling hides nothing: its own problem is reported, the floor rule waits for a valid maximum.
        assert.match(problems(aws({ green: { minReplicas: 17 } }, { maxReplicas: 0 })).join("\n"), /^apfa:scaling\.maxReplicas: /m);
    });

    it("the recorded release is validated: phase, times, slots", () => {
        const progress = {
            id: "20260726-100000-green",
            image: "registry.example.com/apfa:2.0.0",
            from: "blue",
            to: "green",
            steps: [10, 50, 100],
            phase: "shifting",
            stepIndex: 1,
            startedAt: "2026-07-26T10:00:00Z",
            stepStartedAt: "2026-07-26T10:15:00Z",
            trafficUrn: "urn:pulumi:dev::apfa::docker:index/container:Container::proxy",
        };
        const release = parseReleaseState({ active: "blue", previewWeight: 50, progress });
        assert.equal(release.progress?.paused, false, "defaults filled");
        assert.deepEqual(problems(() => parseReleaseState({ progress: { ...progress, phase: "baking" } })).length, 1);
        assert.match(problems(() => parseReleaseState({ progress: { ...progress, to: "blue" } })).join("\n"), /apfa:release\.progress\.to: must differ/);
        assert.match(problems(() => parseReleaseState({ progress: { ...progress, startedAt: "yesterday" } })).join("\n"), /apfa:release\.progress\.startedAt/);
    });

    for (const stack of listStacks()) {
        it(`Pulumi.${stack}.yaml still validates, its slots not scaled down and no release recorded`, () => {
            // parseConfig is what `pulumi up` runs: the release tool's additions must not break a real stack.
            const config = parseConfig({ values: readSampleStack(stack), project: "apfa", stack });
            assert.equal(config.release.blue.scaledDown, false);
            assert.equal(config.release.green.scaledDown, false);
            assert.equal(config.release.progress, undefined);
        });
    }
});
