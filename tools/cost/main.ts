/**
 * `npm run cost -- --stack S [--stack S2 …] [--plan plan.json] [--json] [--assume key=value …]
 *  [--set apfa:key=json …] [--budget USD] [--check-budget]`
 * `npm run cost -- --deployment S …`: every region stack of S's multi-region deployment.
 *
 * Synthesizes each stack offline (the same run as `npm run synth` and the tests), or reads a plan
 * `npm run synth` wrote, and prints its monthly cost estimate at rest and at full scale. With
 * several stacks (a multi-region deployment's region stacks) it prints each, then their total: the
 * figure that compares with the seed's Phase 3. With a budget (`apfa:budget.monthlyUsd` of a stack,
 * or `--budget` for the total) it says whether the full-scale figure fits and, if not, the biggest
 * items; `--check-budget` makes "over budget" exit 1.
 *
 * Exit codes: 0 estimated (and within budget) · 1 over budget with --check-budget · 2 usage or
 * config error · 3 the synth failed.
 */
import "../../scripts/synth/fast-start"; // first: it speeds up loading the synth

import * as fs from "node:fs";

import { costSchema } from "../../src/config/budget";
import { parseConfig, type ApfaConfig } from "../../src/config";
import { PROJECT, listStacks, readSampleStack } from "../../scripts/synth/stack-config";
import { formatSynthFailure, synthesize, type Plan } from "../../scripts/synth/run";
import { WarmSynth } from "../../scripts/synth/warm";
import { checkBudget, estimate, resolveAssumptions, type CostAssumptions, type CostReport, type NeutralResource, type StackHints } from "./estimate";
import { deploymentJson, renderDeployment, renderTable, toJson } from "./render";

export interface CostArgs {
    /** One stack, or the region stacks of a deployment (priced each, then totalled). */
    readonly stacks: readonly string[];
    /** `--deployment S`: the stacks were expanded from S's deployment. */
    readonly deployment?: string;
    readonly plan?: string;
    readonly json: boolean;
    readonly assume: Partial<Record<keyof CostAssumptions, number>>;
    readonly overrides: Record<string, unknown>;
    readonly budget?: number;
    readonly checkBudget: boolean;
}

export class UsageError extends Error {}

export const USAGE = `usage: npm run cost -- --stack <stack> [--stack <stack> …] [options]
       npm run cost -- --deployment <stack> [options]

  --stack STACK          a stack to price (repeatable: several are priced each, then totalled)
  --deployment STACK     every region stack of STACK's multi-region deployment (same cloud and
                         apfa:multiRegion.name), primary first
  --plan FILE            price a plan.json written by \`npm run synth\` instead of synthesizing (one stack)
  --json                 print the estimate as JSON
  --assume KEY=NUMBER    override a usage assumption (repeatable; see apfa:cost.assumptions)
  --set apfa:KEY=JSON    override a config key for the synth (repeatable; every stack)
  --budget USD           monthly budget (default apfa:budget.monthlyUsd; with several stacks: of the total)
  --check-budget         exit 1 when a full-scale estimate exceeds its budget

exit codes: 0 ok · 1 over budget (--check-budget) · 2 usage or config error · 3 synth failed`;

function parseValue(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

/** Parses the command line (pure apart from `--deployment`, which reads the stack files). @throws UsageError */
export function parseCostArgs(argv: readonly string[], root?: string): CostArgs {
    const stacks: string[] = [];
    let deployment: string | undefined;
    let plan: string | undefined;
    let json = false;
    let checkBudgetFlag = false;
    let budget: number | undefined;
    const assume: Record<string, number> = {};
    const overrides: Record<string, unknown> = {};
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const next = () => {
            const value = argv[++i];
            if (value === undefined) {
                throw new UsageError(`${arg} needs a value`);
            }
            return value;
        };
        const pair = (text: string): [string, string] => {
            const eq = text.indexOf("=");
            if (eq < 1) {
                throw new UsageError(`${arg} expects key=value, got ${text}`);
            }
            return [text.slice(0, eq), text.slice(eq + 1)];
        };
        if (arg === "--stack" || arg === "-s") {
            stacks.push(next());
        } else if (arg === "--deployment") {
            deployment = next();
        } else if (arg === "--plan") {
            plan = next();
        } else if (arg === "--json") {
            json = true;
        } else if (arg === "--check-budget") {
            checkBudgetFlag = true;
        } else if (arg === "--budget") {
            const text = next();
            budget = Number(text);
            if (!Number.isFinite(budget) || budget <= 0) {
                throw new UsageError(`--budget expects a positive number of US dollars, got ${text}`);
            }
        } else if (arg === "--assume") {
            const [key, text] = pair(next());
            const value = Number(text);
            if (text.trim() === "" || !Number.isFinite(value)) {
                throw new UsageError(`--assume ${key}: expected a number, got ${text}`);
            }
            assume[key] = value;
        } else if (arg === "--set") {
            const [key, text] = pair(next());
            overrides[key] = parseValue(text);
        } else {
            throw new UsageError(`unknown argument ${arg}`);
        }
    }
    if (deployment !== undefined) {
        if (stacks.length > 0) {
            throw new UsageError("--deployment and --stack exclude each other");
        }
        stacks.push(...deploymentStacks(deployment, root));
    }
    if (stacks.length === 0) {
        throw new UsageError("--stack (or --deployment) is required");
    }
    if (new Set(stacks).size !== stacks.length) {
        throw new UsageError(`a stack is named twice: ${stacks.join(", ")}`);
    }
    if (plan !== undefined && stacks.length > 1) {
        throw new UsageError("--plan prices one stack; leave it out to synthesize several");
    }
    return { stacks, ...(deployment === undefined ? {} : { deployment }), plan, json, assume, overrides, budget, checkBudget: checkBudgetFlag };
}

interface DeploymentKey {
    readonly cloud: string;
    readonly name: string;
    readonly regions: readonly string[];
}

function deploymentOf(raw: Record<string, unknown>): DeploymentKey | undefined {
    const section = raw[`${PROJECT}:multiRegion`] as { name?: unknown; regions?: unknown } | undefined;
    const cloud = raw[`${PROJECT}:cloud`];
    if (!section || typeof section.name !== "string" || typeof cloud !== "string" || !Array.isArray(section.regions)) {
        return undefined;
    }
    return { cloud, name: section.name, regions: section.regions.filter((r): r is string => typeof r === "string") };
}

/** The region stack's own region, as its cloud's key names it. */
function rawRegion(raw: Record<string, unknown>): string | undefined {
    const section = (key: string) => (raw[`${PROJECT}:${key}`] ?? {}) as Record<string, unknown>;
    const value = raw["aws:region"] ?? section("azure").location ?? section("gcp").region;
    return typeof value === "string" ? value : undefined;
}

/**
 * The stack files of `stack`'s multi-region deployment (same cloud and `apfa:multiRegion.name`),
 * in the order of its `regions` (primary first). @throws UsageError naming what is missing
 */
export function deploymentStacks(stack: string, root?: string): string[] {
    const all = listStacks(root);
    if (!all.includes(stack)) {
        throw new UsageError(`no stack file Pulumi.${stack}.yaml; stacks: ${all.join(", ")}`);
    }
    const key = deploymentOf(readSampleStack(stack, root));
    if (!key) {
        throw new UsageError(`${stack} is not part of a multi-region deployment (no apfa:multiRegion)`);
    }
    const members = all
        .map((s) => ({ stack: s, raw: readSampleStack(s, root) }))
        .filter(({ raw }) => {
            const other = deploymentOf(raw);
            return other !== undefined && other.cloud === key.cloud && other.name === key.name;
        });
    const byRegion = new Map(members.map((m) => [rawRegion(m.raw), m.stack]));
    const missing = key.regions.filter((r) => !byRegion.has(r));
    if (missing.length > 0) {
        throw new UsageError(`deployment ${key.name} (${key.cloud}) lists regions without a stack file here: ${missing.join(", ")}`);
    }
    return key.regions.map((r) => byRegion.get(r)!);
}

/** The stack's region as its target uses it. */
export function regionOf(config: ApfaConfig): string {
    switch (config.cloud) {
        case "docker":
            return "local";
        case "aws":
            return config.region;
        case "azure":
            return config.azure.location;
        case "gcp":
            return config.gcp.region;
    }
}

/** What the config knows that a preview may hide from the estimator (the app's replica range per slot). */
export function hintsOf(config: ApfaConfig): StackHints {
    return { appReplicas: { atRest: config.scaling.minReplicas, fullScale: config.scaling.maxReplicas } };
}

/** The stack's config (sample values accepted, as the synth does) with `--set` overrides. */
export function stackConfig(stack: string, overrides: Record<string, unknown>): { config: ApfaConfig; raw: Record<string, unknown> } {
    const raw: Record<string, unknown> = { ...readSampleStack(stack) };
    for (const [key, value] of Object.entries(overrides)) {
        if (value === null) {
            delete raw[key];
        } else {
            raw[key] = value;
        }
    }
    return { config: parseConfig({ values: raw, project: PROJECT, stack }), raw };
}

/** `apfa:cost.assumptions` of the stack, then `--assume` (which wins). */
export function assumptionsOf(raw: Record<string, unknown>, flags: CostArgs["assume"]): CostAssumptions {
    const fromConfig = costSchema.parse(raw[`${PROJECT}:cost`] ?? {}).assumptions;
    return resolveAssumptions({ ...fromConfig, ...flags });
}

export function neutral(plan: Plan): NeutralResource[] {
    return plan.resources.map((r) => ({ type: r.type, name: r.name, inputs: r.inputs, custom: r.custom }));
}

interface Priced {
    readonly stack: string;
    readonly config: ApfaConfig;
    readonly report: CostReport;
}

/** Plans of the stacks: one in this process (as before), several through a warm worker (a fresh Pulumi runtime each). */
async function loadPlans(args: CostArgs): Promise<Plan[]> {
    if (args.plan) {
        return [JSON.parse(fs.readFileSync(args.plan, "utf8")) as Plan];
    }
    if (args.stacks.length === 1) {
        return [await synthesize(args.stacks[0], args.overrides)];
    }
    const warm = new WarmSynth().start();
    try {
        return args.stacks.map((stack) => {
            const result = warm.synth(stack, args.overrides);
            if (!result.ok) {
                throw new Error(`${stack}: ${result.failure}`);
            }
            return result.plan;
        });
    } finally {
        warm.stop();
    }
}

async function main(): Promise<number> {
    let args: CostArgs;
    try {
        args = parseCostArgs(process.argv.slice(2));
    } catch (err) {
        if (err instanceof UsageError) {
            console.error(`${err.message}\n\n${USAGE}\n\nstacks: ${listStacks().join(", ")}`);
            return 2;
        }
        throw err;
    }
    const configs: { stack: string; config: ApfaConfig; assumptions: CostAssumptions }[] = [];
    try {
        for (const stack of args.stacks) {
            const read = stackConfig(stack, args.overrides);
            configs.push({ stack, config: read.config, assumptions: assumptionsOf(read.raw, args.assume) });
        }
    } catch (err) {
        console.error(err instanceof Error ? err.message : String(err));
        return 2;
    }
    let plans: Plan[];
    try {
        plans = await loadPlans(args);
    } catch (err) {
        console.error(`synth of ${args.stacks.join(", ")} failed:\n${formatSynthFailure(err)}`);
        return 3;
    }
    const priced: Priced[] = configs.map(({ stack, config, assumptions }, i) => ({
        stack,
        config,
        report: estimate(neutral(plans[i]), { cloud: config.cloud, region: regionOf(config), assumptions, hints: hintsOf(config) }),
    }));
    const single = priced.length === 1;
    // One stack: --budget is its budget. Several: each stack's apfa:budget, and --budget for the total.
    const checks = priced.map(({ config, report }) => {
        const budgetUsd = single ? (args.budget ?? config.budget?.monthlyUsd) : config.budget?.monthlyUsd;
        return budgetUsd === undefined ? undefined : checkBudget(report, budgetUsd);
    });
    const total = { atRest: priced.reduce((s, p) => s + p.report.atRest.total, 0), fullScale: priced.reduce((s, p) => s + p.report.fullScale.total, 0) };
    const totalOver = !single && args.budget !== undefined && total.fullScale > args.budget;
    if (args.json) {
        const each = priced.map(({ stack, report }, i) => {
            const check = checks[i];
            return toJson(stack, report, check && { monthlyUsd: check.budgetUsd, over: check.over, message: check.message });
        });
        console.log(JSON.stringify(single ? each[0] : deploymentJson(each, priced.map((p) => p.report), args.budget), null, 2));
    } else {
        for (const [i, { stack, report }] of priced.entries()) {
            if (i > 0) {
                console.log(`\n${"=".repeat(100)}\n`);
            }
            console.log(renderTable(stack, report, { regionStack: priced[i].config.multiRegion !== undefined }));
            const check = checks[i];
            console.log(check ? `\n${check.message}` : single ? "\nno budget: set apfa:budget.monthlyUsd (or --budget) to check the full-scale figure against one" : "");
        }
        if (!single) {
            console.log(`\n${"=".repeat(100)}\n`);
            console.log(renderDeployment(priced.map((p) => ({ stack: p.stack, report: p.report })), args.budget));
        }
    }
    const over = checks.filter((c) => c?.over);
    if ((over.length > 0 || totalOver) && args.checkBudget) {
        if (args.json) {
            for (const c of over) {
                console.error(c!.message);
            }
            if (totalOver) {
                console.error(`over budget: the total at full scale exceeds --budget ${args.budget}`);
            }
        }
        return 1;
    }
    return 0;
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (err: unknown) => {
            console.error(err instanceof Error ? err.message : String(err));
            process.exit(2);
        },
    );
}
