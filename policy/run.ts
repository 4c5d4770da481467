/**
 * `npm run policy -- --stack <stack> [--preview] [--set apfa:key=<json>] [--plan FILE] [--pack-config FILE] [--json]`
 *
 * Synthesizes the stack offline (as `npm run synth`; or reads the plan.json `npm run synth --out`
 * wrote, `--plan`), runs every rule of the pack over the plan
 * with the stack's policy config (waivers, registries, budget), prints the violations as a table,
 * and exits 1 when a mandatory rule is violated. `--pack-config FILE` also writes that policy
 * config, for `pulumi preview --policy-pack policy --policy-pack-config FILE`.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { PROJECT_ROOT, listStacks, readStackFile } from "../scripts/synth/stack-config";
import { packConfigFor, PolicyConfigError } from "./config";
import { runPolicies, type PlanInput, type Violation } from "./harness";
import { RULES } from "./rules";

function usage(message?: string): never {
    if (message) {
        console.error(message);
    }
    console.error(`usage: npm run policy -- --stack <${listStacks().join("|")}> [--preview] [--set apfa:key=<json>] [--plan FILE] [--pack-config FILE] [--json]`);
    process.exit(2);
}

function parseArgs(argv: string[]) {
    let stack: string | undefined;
    let packConfig: string | undefined;
    let plan: string | undefined;
    let preview = false;
    let json = false;
    const sets: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const next = () => argv[++i] ?? usage(`${arg} needs a value`);
        if (arg === "--stack" || arg === "-s") {
            stack = next();
        } else if (arg === "--preview") {
            preview = true;
        } else if (arg === "--json") {
            json = true;
        } else if (arg === "--pack-config") {
            packConfig = next();
        } else if (arg === "--plan") {
            plan = next();
        } else if (arg === "--set") {
            sets.push(next());
        } else {
            usage(`unknown argument ${arg}`);
        }
    }
    if (!stack) {
        usage("--stack is required");
    }
    return { stack, packConfig, plan, preview, json, sets };
}

/** Overrides given with --set, as the synth takes them (JSON, else text). */
function overridesOf(sets: string[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const pair of sets) {
        const eq = pair.indexOf("=");
        if (eq < 1) {
            usage(`--set expects key=<json or text>, got ${pair}`);
        }
        const text = pair.slice(eq + 1);
        try {
            out[pair.slice(0, eq)] = JSON.parse(text);
        } catch {
            out[pair.slice(0, eq)] = text;
        }
    }
    return out;
}

function table(violations: Violation[]): string {
    const rows = [["LEVEL", "RULE", "RESOURCE", "MESSAGE"], ...violations.map((v) => [v.enforcementLevel, v.rule, v.resource, v.message])];
    const widths = [0, 1, 2].map((c) => Math.min(60, Math.max(...rows.map((r) => r[c].length))));
    return rows.map((r) => [...r.slice(0, 3).map((cell, c) => cell.padEnd(widths[c])), r[3]].join("  ")).join("\n");
}

async function main(): Promise<number> {
    const { stack, packConfig, plan: planFile, preview, json, sets } = parseArgs(process.argv.slice(2));
    const overrides = overridesOf(sets);
    let config;
    try {
        const values: Record<string, unknown> = { ...readStackFile(stack) };
        for (const [key, value] of Object.entries(overrides)) {
            if (value === null) {
                delete values[key];
            } else {
                values[key] = value;
            }
        }
        config = packConfigFor(values);
    } catch (e) {
        if (e instanceof PolicyConfigError) {
            console.error(e.message);
            return 2;
        }
        throw e;
    }
    if (packConfig) {
        fs.writeFileSync(packConfig, `${JSON.stringify(config, null, 2)}\n`);
    }

    const plan = planFile ? (JSON.parse(fs.readFileSync(planFile, "utf8")) as PlanInput) : synthesize(stack, preview, sets);
    if (!plan) {
        return 2;
    }
    const result = await runPolicies(plan, { config });
    const mandatory = result.violations.filter((v) => v.enforcementLevel === "mandatory").length;
    if (json) {
        console.log(JSON.stringify(result, null, 2));
    } else {
        const mode = preview ? " (preview)" : "";
        console.log(`policy pack: ${RULES.length} rules over ${result.resourcesChecked} resources of ${stack}${mode}`);
        const waived = Object.entries(config).filter(([, c]) => typeof c === "object" && typeof c.waiver === "string");
        for (const [rule, c] of waived) {
            console.log(`waived: ${rule}: ${String((c as { waiver: string }).waiver)}`);
        }
        const notApplicable = new Set(result.notApplicable.filter((n) => !n.reason.startsWith("Policy only applies")).map((n) => `${n.rule}: ${n.reason}`));
        for (const line of notApplicable) {
            console.log(`not applicable: ${line}`);
        }
        console.log(result.violations.length === 0 ? "no violations" : table(result.violations));
        console.log(`${mandatory} mandatory, ${result.violations.length - mandatory} advisory`);
    }
    return mandatory > 0 ? 1 : 0;
}

/** The stack's plan from an offline synth in a child process (as `npm run synth`), or undefined when it fails. */
function synthesize(stack: string, preview: boolean, sets: string[]): PlanInput | undefined {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), `apfa-policy-${stack}-`));
    try {
        const args = ["--require", path.join(PROJECT_ROOT, "scripts", "synth", "preload.cjs"), "--import", "tsx", path.join(PROJECT_ROOT, "scripts", "synth.ts"), "--stack", stack, "--out", out, "--quiet"];
        if (preview) {
            args.push("--preview");
        }
        for (const s of sets) {
            args.push("--set", s);
        }
        const synth = spawnSync(process.execPath, args, { cwd: PROJECT_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        if (synth.status !== 0) {
            process.stderr.write(synth.stderr);
            console.error(`synth of ${stack} failed`);
            return undefined;
        }
        return JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8")) as PlanInput;
    } finally {
        fs.rmSync(out, { recursive: true, force: true });
    }
}

main().then(
    (code) => process.exit(code),
    (e: unknown) => {
        console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
        process.exit(2);
    },
);
