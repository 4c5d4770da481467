/**
 * Runs the offline synth of a stack and returns its plan, so every test sees exactly what
 * `npm run synth` would produce.
 *
 * Synths run in a warm worker thread (scripts/synth/warm.ts): tsx and the Pulumi SDKs stay loaded,
 * the program and the Pulumi runtime state start afresh for each synth. tests/synth-worker.test.ts
 * proves it answers exactly what a new `npm run synth` process answers. `APFA_SYNTH=cold` runs
 * every synth in its own process instead (as the CLI does), e.g. to rule the worker out.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import type { Plan, PlannedResource, SynthOptions } from "../../scripts/synth/run";
import { PROJECT_ROOT } from "../../scripts/synth/stack-config";
import { WarmSynth } from "../../scripts/synth/warm";

export type { Plan, PlannedResource, SynthOptions };
export { REDACTED, UNKNOWN } from "../../scripts/synth/run";
export { readSampleStack, readStackFile } from "../../scripts/synth/stack-config";

const cache = new Map<string, Plan>();

/** What one synth answered: the plan when it succeeded, and everything it printed (stderr, then stdout), as the CLI would. */
export interface SynthResult {
    readonly ok: boolean;
    readonly plan?: Plan;
    readonly output: string;
}

/** The warm worker, booting in the background from the moment a test file imports this helper. */
export const warm = process.env.APFA_SYNTH === "cold" ? undefined : new WarmSynth().start();

function cliArgs(stack: string, out: string, overrides: Record<string, unknown>, options: SynthOptions): string[] {
    const preload = path.join(PROJECT_ROOT, "scripts", "synth", "preload.cjs");
    const synth = path.join(PROJECT_ROOT, "scripts", "synth.ts");
    const args = ["--require", preload, "--import", "tsx", synth, "--stack", stack, "--out", out, "--quiet"];
    if (options.preview) {
        args.push("--preview");
    }
    for (const [key, value] of Object.entries(overrides)) {
        args.push("--set", `${key}=${JSON.stringify(value)}`);
    }
    return args;
}

function cliResult(out: string, status: number | null, stdout: string, stderr: string, error?: Error): SynthResult {
    const output = `${stderr}${stdout}${error ? error.message : ""}`;
    if (status !== 0) {
        return { ok: false, output };
    }
    return { ok: true, output, plan: JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8")) as Plan };
}

/** One synth in a new process, as `npm run synth -- --stack … --quiet` runs it. */
export function coldSynth(stack: string, overrides: Record<string, unknown> = {}, options: SynthOptions = {}): SynthResult {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), `apfa-synth-${stack}-`));
    try {
        const result = spawnSync(process.execPath, cliArgs(stack, out, overrides, options), { cwd: PROJECT_ROOT, encoding: "utf8" });
        return cliResult(out, result.status, result.stdout, result.stderr, result.error);
    } finally {
        fs.rmSync(out, { recursive: true, force: true });
    }
}

/** {@link coldSynth} without blocking: for running a few cold synths side by side. */
export async function coldSynthAsync(stack: string, overrides: Record<string, unknown> = {}, options: SynthOptions = {}): Promise<SynthResult> {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), `apfa-synth-${stack}-`));
    try {
        const child = spawn(process.execPath, cliArgs(stack, out, overrides, options), { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        const [status, error] = await new Promise<[number | null, Error | undefined]>((resolve) => {
            child.on("error", (e) => resolve([null, e]));
            child.on("close", (code) => resolve([code, undefined]));
        });
        return cliResult(out, status, stdout, stderr, error);
    } finally {
        fs.rmSync(out, { recursive: true, force: true });
    }
}

/** One synth in the warm worker; same answer as {@link coldSynth}. */
export function warmSynth(stack: string, overrides: Record<string, unknown> = {}, options: SynthOptions = {}): SynthResult {
    if (!warm) {
        throw new Error("the warm synth worker is off (APFA_SYNTH=cold)");
    }
    const r = warm.synth(stack, overrides, options);
    if (r.ok) {
        return { ok: true, plan: r.plan, output: `${r.stderr}${r.stdout}` };
    }
    // The CLI prints the failure on stderr after whatever the program printed there.
    return { ok: false, output: `${r.stderr}${r.failure}\n${r.stdout}` };
}

function run(stack: string, overrides: Record<string, unknown>, options: SynthOptions = {}): SynthResult {
    return warm ? warmSynth(stack, overrides, options) : coldSynth(stack, overrides, options);
}

/**
 * The plan of `stack` with optional config overrides (whole keys; `null` removes a key), or of its
 * preview with `{ preview: true }`. Results are memoised per (stack, overrides, options).
 */
export function synthStack(stack: string, overrides: Record<string, unknown> = {}, options: SynthOptions = {}): Plan {
    const key = JSON.stringify([stack, overrides, options.preview ?? false]);
    const hit = cache.get(key);
    if (hit) {
        return hit;
    }
    const result = run(stack, overrides, options);
    if (!result.ok || !result.plan) {
        throw new Error(`synth of ${stack}${options.preview ? " (preview)" : ""} failed:\n${result.output}`);
    }
    cache.set(key, result.plan);
    return result.plan;
}

/** Runs a synth that must fail; returns its error output (what `npm run synth` prints). */
export function synthError(stack: string, overrides: Record<string, unknown> = {}): string {
    const result = run(stack, overrides);
    if (result.ok) {
        throw new Error(`synth of ${stack} was expected to fail but succeeded`);
    }
    return result.output;
}

/**
 * The warnings the program logs during a synth of `stack` (`pulumi.log.warn` prints
 * `warning: [runtime] …` on the mocks), in order. The synth must succeed.
 */
export function synthWarnings(stack: string, overrides: Record<string, unknown> = {}): string[] {
    const result = run(stack, overrides);
    if (!result.ok) {
        throw new Error(`synth of ${stack} failed:\n${result.output}`);
    }
    return warningsIn(result.output);
}

/** The `warning: [runtime] …` lines of a synth's output, in order. */
export function warningsIn(output: string): string[] {
    return [...output.matchAll(/^warning: \[runtime\] (.*)$/gm)].map((m) => m[1]);
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
/** The value at a path of keys and indexes in a plan's (or any) nested object, or undefined. */
export function valueAt(value: unknown, ...keys: (string | number)[]): unknown {
    return keys.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k as string], value);
}

/** The resource of `type` named `apfa-<stack>-<suffix>`, the program's logical-name scheme. */
export function named(plan: Plan, type: string, suffix: string): PlannedResource {
    return find(plan, type, `apfa-${plan.stack}-${suffix}`);
}

/**
 * The component types above `resource`, nearest first, from its `parent` links. (The engine puts
 * the whole chain in a URN; the mock monitor's URNs carry only the immediate parent's type, so
 * ancestry is read from the links, not the URN.)
 */
export function ancestorTypes(plan: Plan, resource: PlannedResource): string[] {
    const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
    const types: string[] = [];
    for (let parent = resource.parent ? byUrn.get(resource.parent) : undefined; parent; parent = parent.parent ? byUrn.get(parent.parent) : undefined) {
        types.push(parent.type);
    }
    return types;
}

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
