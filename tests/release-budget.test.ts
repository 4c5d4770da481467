/**
 * The rollback time budget (pure) on the real stack files, read through the program's parser.
 */
import * as assert from "node:assert/strict";

import { listStacks, readSampleStack, readStackFile } from "../scripts/synth/stack-config";
import { NAMESPACE, parseConfig, parseRolloutSettings } from "../src/config";
import { ROLLBACK_AIM_SECONDS, ROLLBACK_GOAL_SECONDS, formatBudget, rollbackBudget } from "../tools/release/budget";

function load(stack: string, overrides: Record<string, unknown> = {}) {
    const values = { ...readSampleStack(stack), ...overrides };
    return { config: parseConfig({ values, project: NAMESPACE, stack }), rollout: parseRolloutSettings(values[`${NAMESPACE}:rollout`]) };
}

const inputs = { badErrorRatio: 0.2, metrics: "prometheus" as const };

describe("rollback time budget", () => {
    for (const stack of listStacks()) {
        it(`${stack}: within the 5-minute goal, every term named with its source`, () => {
            const { config, rollout } = load(stack);
            const budget = rollbackBudget(stack, config, rollout, inputs);
            assert.ok(budget.totalSeconds <= ROLLBACK_GOAL_SECONDS, `${budget.totalSeconds} s`);
            for (const term of [...budget.detection, ...budget.update, ...budget.drain]) {
                assert.ok(term.seconds >= 0 && term.source.length > 0, term.name);
            }
            const scrape = budget.detection.find((t) => t.source === "apfa:monitoring.scrapeIntervalSeconds");
            assert.equal(scrape?.seconds, config.monitoring.scrapeIntervalSeconds);
            assert.ok(formatBudget(budget).some((l) => l.includes("until no new request reaches the bad slot")));
        });
    }

    it("the dev stack rolls back in under 60 s by its own settings", () => {
        const { config, rollout } = load("dev");
        const budget = rollbackBudget("dev", config, rollout, inputs);
        assert.ok(budget.totalSeconds < ROLLBACK_AIM_SECONDS, `${budget.totalSeconds} s`);
    });

    it("follows the settings: scrape interval, analysis interval and failure threshold, window, deregistration delay", () => {
        // Start from a 15 s scrape (whatever the stack file says) so the arithmetic below is explicit.
        const base = load("prod-aws", { "apfa:monitoring": { scrapeIntervalSeconds: 15 } });
        const before = rollbackBudget("prod-aws", base.config, base.rollout, inputs);
        const faster = load("prod-aws", {
            "apfa:monitoring": { scrapeIntervalSeconds: 5 },
            "apfa:rollout": { analysis: { intervalSeconds: 2, failureThreshold: 2, windowSeconds: 120 } },
            "apfa:aws": { ...(readStackFile("prod-aws")["apfa:aws"] as object), deregistrationDelaySeconds: 10 },
        });
        const after = rollbackBudget("prod-aws", faster.config, faster.rollout, inputs);
        // scrape 15 → 5 (−10), analysis 5×1 → 2×2 (−1), window 60 → 120 (dilution 3 → 6, +3): −8 in all.
        assert.equal(Math.round((before.exposureSeconds - after.exposureSeconds) * 10) / 10, 8);
        // deregistration delay 30 → 10: another −20 on the conservative total.
        assert.equal(Math.round((before.totalSeconds - after.totalSeconds) * 10) / 10, 28);
    });

    it("CloudWatch detection pays for per-minute ALB data points", () => {
        const { config, rollout } = load("prod-aws");
        const prometheus = rollbackBudget("prod-aws", config, rollout, inputs);
        const cloudwatch = rollbackBudget("prod-aws", config, rollout, { ...inputs, metrics: "cloudwatch" });
        assert.ok(cloudwatch.exposureSeconds > prometheus.exposureSeconds + 60);
        assert.ok(cloudwatch.detection.some((t) => t.name === "ALB publishes the minute's data point" && t.seconds === 60));
    });

    it("names what it leaves out: the analysis pauses during whole-stack updates (steps; on autoscaled targets the capacity update too)", () => {
        const aws = load("prod-aws");
        const dev = load("dev");
        const onAws = rollbackBudget("prod-aws", aws.config, aws.rollout, inputs);
        const onDev = rollbackBudget("dev", dev.config, dev.rollout, inputs);
        assert.match(onAws.notCounted.join("\n"), /the capacity update that sets the replica floors before it/);
        assert.doesNotMatch(onDev.notCounted.join("\n"), /capacity/);
        assert.ok(formatBudget(onAws).some((l) => l.startsWith("  not counted: a failure that starts while a whole-stack `pulumi up` runs")));
    });

    it("a measured program run time replaces the assumed one", () => {
        const { config, rollout } = load("prod-gcp");
        const budget = rollbackBudget("prod-gcp", config, rollout, { ...inputs, programSeconds: 2.34 });
        const term = budget.update.find((t) => t.name.startsWith("the program runs"));
        assert.deepEqual([term?.seconds, term?.provenance], [2.3, "measured"]);
    });
});
