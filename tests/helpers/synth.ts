/**
 * Runs the offline synth of a stack in a child process (the Pulumi runtime is process-global) and
 * returns its plan, so every test sees exactly what `npm run synth` would produce.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import type { Plan, PlannedResource } from "../../scripts/synth/run";
import { PROJECT_ROOT } from "../../scripts/synth/stack-config";

export type { Plan, PlannedResource };
export { REDACTED } from "../../scripts/synth/run";
export { readStackFile } from "../../scripts/synth/stack-config";

const cache = new Map<string, Plan>();

function run(stack: string, overrides: Record<string, unknown>) {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), `apfa-synth-${stack}-`));
    const args = ["--import", "tsx", path.join(PROJECT_ROOT, "scripts", "synth.ts"), "--stack", stack, "--out", out, "--quiet"];
    for (const [key, value] of Object.entries(overrides)) {
        args.push("--set", `${key}=${JSON.stringify(value)}`);
    }
    const result = spawnSync(process.execPath, args, { cwd: PROJECT_ROOT, encoding: "utf8" });
    return { out, result };
}

/**
 * The plan of `stack` with optional config overrides (whole keys; `null` removes a key).
 * Results are memoised per (stack, overrides).
 */
export function synthStack(stack: string, overrides: Record<string, unknown> = {}): Plan {
    const key = JSON.stringify([stack, overrides]);
    const hit = cache.get(key);
    if (hit) {
        return hit;
    }
    const { out, result } = run(stack, overrides);
    if (result.status !== 0) {
        throw new Error(`synth of ${stack} failed (exit ${result.status}):\n${result.stderr}${result.stdout}`);
    }
    const plan = JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8")) as Plan;
    fs.rmSync(out, { recursive: true, force: true });
    cache.set(key, plan);
    return plan;
}

/** Runs a synth that must fail; returns its error output. */
export function synthError(stack: string, overrides: Record<string, unknown> = {}): string {
    const { out, result } = run(stack, overrides);
    fs.rmSync(out, { recursive: true, force: true });
    if (result.status === 0) {
        throw new Error(`synth of ${stack} was expected to fail but succeeded`);
    }
    return `${result.stderr}${result.stdout}`;
}

/**
 * The warnings the program logs during a synth of `stack` (`pulumi.log.warn` prints
 * `warning: [runtime] …` on the mocks), in order. The synth must succeed.
 */
export function synthWarnings(stack: string, overrides: Record<string, unknown> = {}): string[] {
    const { out, result } = run(stack, overrides);
    fs.rmSync(out, { recursive: true, force: true });
    if (result.status !== 0) {
        throw new Error(`synth of ${stack} failed (exit ${result.status}):\n${result.stderr}${result.stdout}`);
    }
    return [...`${result.stderr}${result.stdout}`.matchAll(/^warning: \[runtime\] (.*)$/gm)].map((m) => m[1]);
}

/** All resources of a type token. */
export function ofType(plan: Plan, type: string): PlannedResource[] {
    return plan.resources.filter((r) => r.type === type);
}

/** The one resource with this type and name; throws when absent. */
export function find(plan: Plan, type: string, name: string): PlannedResource {
    const r = plan.resources.find((x) => x.type === type && x.name === name);
    if (!r) {
        const names = ofType(plan, type).map((x) => x.name);
        throw new Error(`no ${type} named ${name}; have: ${names.join(", ") || "none"}`);
    }
    return r;
}

/**
 * Resources whose inputs differ between two plans (plus ones added or removed): the blast radius
 * of a config change.
 */
export function changedResources(before: Plan, after: Plan): string[] {
    const key = (r: PlannedResource) => `${r.type}::${r.name}`;
    const a = new Map(before.resources.map((r) => [key(r), JSON.stringify(r.inputs)]));
    const b = new Map(after.resources.map((r) => [key(r), JSON.stringify(r.inputs)]));
    const changed: string[] = [];
    for (const [k, v] of b) {
        if (a.get(k) !== v) {
            changed.push(a.has(k) ? k : `+${k}`);
        }
    }
    for (const k of a.keys()) {
        if (!b.has(k)) {
            changed.push(`-${k}`);
        }
    }
    return changed.sort();
}
