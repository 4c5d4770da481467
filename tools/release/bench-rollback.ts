/**
 * `npm run bench:rollback [-- --stack S ...] [--no-measure] [--bad-error-ratio 0.2]`
 *
 * Prints, per stack, the rollback time budget its settings imply (tools/release/budget.ts):
 * detection (scrape interval, window dilution, analysis interval) + one targeted `pulumi up` of the
 * traffic resource + draining, next to the original design's 5-minute goal and the 60 s aim.
 * Reads the real stack files through the program's config parser, so it reports what a deploy
 * would use. The program's run time is measured (cold-process offline synth, median of 3) unless
 * --no-measure. On aws both metric sources are shown (Prometheus and CloudWatch).
 * Figures, not assertions; every assumed figure is labelled as such.
 */
import { spawnSync } from "node:child_process";

import { NAMESPACE, decodeConfigValue, parseConfig, parseRolloutSettings } from "../../src/config";
import { formatBudget, rollbackBudget, ROLLBACK_AIM_SECONDS, ROLLBACK_GOAL_SECONDS, type RollbackBudget } from "./budget";
import { PROJECT_ROOT, encodeStackConfig, listStacks, readSampleStack } from "../../scripts/synth/stack-config";

function parseArgs(argv: string[]) {
    const stacks: string[] = [];
    let measure = true;
    let badErrorRatio = 0.2;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--stack") {
            stacks.push(argv[++i]);
        } else if (arg === "--no-measure") {
            measure = false;
        } else if (arg === "--bad-error-ratio") {
            badErrorRatio = Number(argv[++i]);
            if (!(badErrorRatio > 0 && badErrorRatio <= 1)) {
                throw new Error("--bad-error-ratio is a number in (0, 1]");
            }
        } else {
            throw new Error(`unknown argument ${arg}\nusage: npm run bench:rollback -- [--stack S ...] [--no-measure] [--bad-error-ratio 0.2]`);
        }
    }
    return { stacks: stacks.length > 0 ? stacks : listStacks(), measure, badErrorRatio };
}

/**
 * Median wall time of a cold process loading and running the stack's program the way `pulumi up`
 * does (scripts/pulumi-load.js: Pulumi's own ts-node loader, transpile-only as the release tool
 * runs it) on mocks: the program's own run time within an update, upper bound.
 */
function programSeconds(stack: string): number {
    const times: number[] = [];
    for (let run = 0; run < 3; run++) {
        const started = process.hrtime.bigint();
        const result = spawnSync(process.execPath, ["scripts/pulumi-load.js", stack, "--transpile-only"], { cwd: PROJECT_ROOT, encoding: "utf8" });
        times.push(Number(process.hrtime.bigint() - started) / 1e9);
        if (result.status !== 0) {
            throw new Error(`loading ${stack} failed:\n${result.stderr}`);
        }
    }
    return times.sort((a, b) => a - b)[1];
}

function main() {
    const args = parseArgs(process.argv.slice(2));
    console.log(
        `Rollback time budget per stack: a release failing ${Math.round(args.badErrorRatio * 100)} % of requests, ` +
            `from its first failed request (goal ${ROLLBACK_GOAL_SECONDS / 60} min, aim ${ROLLBACK_AIM_SECONDS} s)\n`,
    );
    const summary: RollbackBudget[] = [];
    for (const stack of args.stacks) {
        // The stack file as the synth reads it (sample images and certificate accepted).
        const values = encodeStackConfig(readSampleStack(stack)).values;
        const decoded: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(values)) {
            decoded[key] = decodeConfigValue(value);
        }
        const config = parseConfig({ values: decoded, project: NAMESPACE, stack });
        const rollout = parseRolloutSettings(decoded[`${NAMESPACE}:rollout`]);
        const measured = args.measure ? programSeconds(stack) : undefined;
        const sources: Array<"prometheus" | "cloudwatch"> = config.cloud === "aws" ? ["prometheus", "cloudwatch"] : ["prometheus"];
        for (const metrics of sources) {
            const budget = rollbackBudget(stack, config, rollout, { badErrorRatio: args.badErrorRatio, programSeconds: measured, metrics });
            summary.push(budget);
            for (const line of formatBudget(budget)) {
                console.log(line);
            }
            console.log("");
        }
    }
    console.log("summary                         no new request to the bad slot   no request left on it   5-min goal   60 s aim");
    for (const b of summary) {
        const name = `${b.stack} (${b.metrics})`;
        console.log(
            `  ${name.padEnd(30)} ${`${b.exposureSeconds.toFixed(0)} s`.padStart(10)}${" ".repeat(22)}${`${b.totalSeconds.toFixed(0)} s`.padStart(6)}` +
                `${" ".repeat(15)}${b.totalSeconds <= ROLLBACK_GOAL_SECONDS ? "met" : "MISSED"}${" ".repeat(10)}` +
                `${b.exposureSeconds <= ROLLBACK_AIM_SECONDS ? "met" : "missed"}${b.totalSeconds <= ROLLBACK_AIM_SECONDS ? "" : " (conservative: missed)"}`,
        );
    }
}

main();
