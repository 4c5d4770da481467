/**
 * Offline synth: runs the real program with one stack's config on Pulumi's runtime mocks — no CLI,
 * no plugins, no credentials — and records every resource's type, name, parent, options and inputs.
 *
 * The Pulumi runtime is process-global: one process (or worker thread, see ./worker.ts) runs one
 * synth at a time.
 */
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";

import { COMPUTED, INVOKES, defaultState } from "./mock-state";
import { PROJECT, PROJECT_ROOT, encodeStackConfig, readSampleStack } from "./stack-config";

/** The secret envelope the Pulumi wire format uses (see @pulumi/pulumi runtime/rpc). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const REDACTED = "[secret]";
/** Stands in for a value that is unknown during a preview (an input or output computed on create). */
export const UNKNOWN = "[unknown]";
/** The program's entry module. */
export const PROGRAM_ENTRY = path.join(PROJECT_ROOT, "src", "index.ts");

export interface SynthOptions {
    /**
     * Run as `pulumi preview` would before anything exists: `isDryRun()` is true and a new resource
     * reports only its inputs back (no id, no provider-computed state), so every computed output is
     * unknown in the program. Resources read by id (`get`) still return their mocked state.
     */
    readonly preview?: boolean;
}

export interface PlannedResource {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    /** URN of the parent (the stack for top-level resources). */
    readonly parent: string;
    readonly custom: boolean;
    readonly provider?: string;
    /** Inputs as the provider would receive them, secrets replaced by "[secret]". */
    readonly inputs: Record<string, unknown>;
    /** Resource options the engine would see. */
    readonly options: {
        readonly dependsOn: string[];
        readonly ignoreChanges: string[];
        readonly replaceOnChanges: string[];
        /** URNs whose replacement replaces this resource too (`replaceWith`). */
        readonly replaceWith: string[];
        readonly protect: boolean;
        readonly deleteBeforeReplace: boolean;
        readonly additionalSecretOutputs: string[];
        readonly customTimeouts?: { create?: string; update?: string; delete?: string };
    };
}

export interface Plan {
    readonly stack: string;
    readonly resources: PlannedResource[];
    /** Stack outputs, secrets replaced by "[secret]" (and, in a preview, unknowns by "[unknown]"). */
    readonly outputs: Record<string, unknown>;
    /** @pulumi/* packages the program loaded (proves lazy loading of cloud SDKs). */
    readonly loadedPackages: string[];
    /** Paths (`<type>::<name>.<input path>`) of inputs that are Pulumi secrets. */
    readonly secretInputs: string[];
}

export class SynthError extends Error {}

/** The program failed; `registered` says how many resources it had registered by then. */
export class ProgramError extends Error {
    constructor(
        readonly cause: unknown,
        readonly registered: number,
    ) {
        super(cause instanceof Error ? cause.message : String(cause));
    }
}

/**
 * Whether a failed synth may have left work in flight in its process (promises of registered
 * resources, applies): true unless the program failed before registering any resource (e.g. on
 * its config). A long-lived synth worker is replaced after such a failure.
 */
export function mayLeaveWorkInFlight(err: unknown): boolean {
    return !(err instanceof ProgramError && err.registered === 0);
}

/**
 * What `npm run synth` prints on stderr when a synth fails: the error's message and, for a program
 * failure, how many resources it had registered. The synth worker reports the same text.
 */
export function formatSynthFailure(err: unknown): string {
    const lines = [err instanceof Error ? err.message : String(err)];
    if (err instanceof ProgramError) {
        lines.push(`(the program had registered ${err.registered} resource${err.registered === 1 ? "" : "s"} when it failed)`);
    }
    return lines.join("\n");
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getProvider(): string;
    getDependenciesList(): string[];
    getIgnorechangesList(): string[];
    getReplaceonchangesList(): string[];
    getReplaceWithList(): string[];
    getProtect(): boolean | undefined;
    getDeletebeforereplace(): boolean;
    getAdditionalsecretoutputsList(): string[];
    getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
}

/** Replaces secret envelopes by "[secret]" (and unknowns by "[unknown]") and records where secrets were. */
function redact(value: unknown, where: string, secretPaths: string[]): unknown {
    if (pulumi.isUnknown(value)) {
        return UNKNOWN;
    }
    if (Array.isArray(value)) {
        return value.map((v, i) => redact(v, `${where}[${i}]`, secretPaths));
    }
    if (value && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        if (obj[SIG_KEY] === SECRET_SIG) {
            secretPaths.push(where);
            return REDACTED;
        }
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(obj)) {
            out[k] = redact(v, where ? `${where}.${k}` : k, secretPaths);
        }
        return out;
    }
    return value;
}

/**
 * A stack output's value as the engine would record it: a plain object's fields one by one (so one
 * secret field does not hide the others), an Output resolved, secrets as "[secret]".
 */
async function resolveOutput(value: unknown): Promise<unknown> {
    if (value && typeof value === "object" && !pulumi.Output.isInstance(value) && !Array.isArray(value)) {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) {
            out[k] = await resolveOutput(v);
        }
        return out;
    }
    const output: pulumi.Output<unknown> = pulumi.output(value as pulumi.Input<unknown>);
    const internals = output as unknown as { isKnown: Promise<boolean>; isSecret: Promise<boolean> };
    const [known, secret] = await Promise.all([internals.isKnown, internals.isSecret]);
    if (secret) {
        return REDACTED;
    }
    if (!known) {
        // Only in a preview: `apply` would never call back.
        return UNKNOWN;
    }
    const resolved = await new Promise<unknown>((resolve) => output.apply((v) => resolve(v)));
    return redact(resolved, "", []);
}

/**
 * The @pulumi/* packages a program loaded: every package reachable in the module graph from its
 * entry module (`Module.children` records each module a module required, including ones that were
 * already cached). Unlike a scan of `require.cache`, this also holds in a long-lived worker whose
 * cache keeps the SDKs earlier synths loaded (the worker re-loads the program's own modules).
 */
export function packagesLoadedBy(entry: string): string[] {
    const root = require.cache[entry];
    if (!root) {
        return [];
    }
    const seen = new Set<NodeJS.Module>();
    const packages = new Set<string>();
    const stack: NodeJS.Module[] = [root];
    for (let m = stack.pop(); m; m = stack.pop()) {
        if (seen.has(m)) {
            continue;
        }
        seen.add(m);
        const pkg = /node_modules[\\/](@pulumi[\\/][^\\/]+)/.exec(m.filename)?.[1];
        if (pkg) {
            packages.add(pkg.replace("\\", "/"));
        }
        stack.push(...m.children);
    }
    return [...packages].sort();
}

/**
 * Runs the program for `stack` under mocks and returns the plan.
 * @param overrides config keys replaced for this run (`null` removes a key)
 * @throws the program's own error (e.g. ConfigError) when it fails
 */
export async function synthesize(stack: string, overrides: Record<string, unknown> = {}, options: SynthOptions = {}): Promise<Plan> {
    const preview = options.preview ?? false;
    const config = encodeStackConfig(readSampleStack(stack), overrides);
    const unmockedInvokes: string[] = [];
    const secretInputs: string[] = [];
    const byKey = new Map<string, { inputs: Record<string, unknown>; custom: boolean; provider?: string }>();
    const requests: RegisterRequest[] = [];

    await pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs) {
                const where = `${args.type}::${args.name}`;
                const paths: string[] = [];
                byKey.set(where, {
                    inputs: redact(args.inputs, "", paths) as Record<string, unknown>,
                    custom: args.custom ?? true,
                    provider: args.provider || undefined,
                });
                secretInputs.push(...paths.map((p) => `${where}.${p}`));
                if (preview && !args.id) {
                    // What the engine answers in a preview for a resource it would create: the
                    // inputs and no id. The SDK then leaves every other output unknown.
                    return { id: undefined, state: args.inputs };
                }
                const computed = COMPUTED[args.type]?.(args.name, args.inputs) ?? {};
                const state = { ...defaultState(args.type, args.name, args.inputs), ...computed };
                return { id: String(state.id ?? `${args.name}-id`), state };
            },
            call(args: pulumi.runtime.MockCallArgs) {
                const fn = INVOKES[args.token];
                if (!fn) {
                    unmockedInvokes.push(args.token);
                    return {};
                }
                return fn(args.inputs);
            },
        },
        PROJECT,
        stack,
        preview,
    );

    // Record the raw registration requests too: they carry parent and resource options,
    // which MockResourceArgs does not (pulumi/pulumi#14421).
    const monitor = pulumi.runtime.getMonitor() as unknown as {
        registerResource(req: RegisterRequest, cb: unknown): unknown;
    };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: RegisterRequest, cb: unknown) => {
        requests.push(req);
        return register(req, cb);
    };

    pulumi.runtime.setAllConfig(config.values, config.secretKeys);

    const failures: unknown[] = [];
    const onRejection = (reason: unknown) => failures.push(reason);
    process.on("unhandledRejection", onRejection);

    let program: Record<string, unknown>;
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program must load after the mocks
        program = require(PROGRAM_ENTRY) as Record<string, unknown>;
    } catch (err) {
        throw new ProgramError(err, requests.length);
    }
    const outputs: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(program)) {
        outputs[key] = await resolveOutput(value);
    }
    await pulumi.runtime.disconnect();
    process.off("unhandledRejection", onRejection);

    if (failures.length > 0) {
        throw new ProgramError(failures[0], requests.length);
    }
    if (unmockedInvokes.length > 0) {
        throw new SynthError(`The program called invokes the synth does not mock: ${[...new Set(unmockedInvokes)].join(", ")}`);
    }

    const prefix = `urn:pulumi:${stack}::${PROJECT}::`;
    const resources: PlannedResource[] = requests.map((req) => {
        const type = req.getType();
        const name = req.getName();
        const parent = req.getParent();
        // Same URN scheme as the mock monitor, so `parent` fields match `urn`s.
        const chain = parent && parent.startsWith(prefix) ? `${parent.slice(prefix.length).split("::")[0].split("$").pop()}$` : "";
        const recorded = byKey.get(`${type}::${name}`);
        const timeouts = req.getCustomtimeouts();
        return {
            type,
            name,
            urn: `${prefix}${chain}${type}::${name}`,
            parent,
            custom: req.getCustom(),
            provider: req.getProvider() || undefined,
            inputs: recorded?.inputs ?? {},
            options: {
                dependsOn: req.getDependenciesList(),
                ignoreChanges: req.getIgnorechangesList(),
                replaceOnChanges: req.getReplaceonchangesList(),
                replaceWith: req.getReplaceWithList(),
                protect: req.getProtect() ?? false,
                deleteBeforeReplace: req.getDeletebeforereplace(),
                additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
                customTimeouts: timeouts
                    ? { create: timeouts.getCreate() || undefined, update: timeouts.getUpdate() || undefined, delete: timeouts.getDelete() || undefined }
                    : undefined,
            },
        };
    });

    const loadedPackages = packagesLoadedBy(PROGRAM_ENTRY);

    return { stack, resources, outputs, loadedPackages, secretInputs };
}

/** A Mermaid flowchart of the resource tree (parent → child). */
export function toMermaid(plan: Plan): string {
    const ids = new Map<string, string>();
    plan.resources.forEach((r, i) => ids.set(r.urn, `r${i}`));
    const lines = ["flowchart LR"];
    lines.push(`  stack(["stack ${plan.stack}"])`);
    for (const r of plan.resources) {
        const label = `${r.name}<br/><small>${r.type}</small>`.replace(/"/g, "'");
        lines.push(`  ${ids.get(r.urn)}["${label}"]`);
    }
    for (const r of plan.resources) {
        const from = ids.get(r.parent) ?? "stack";
        lines.push(`  ${from} --> ${ids.get(r.urn)}`);
    }
    return lines.join("\n") + "\n";
}

/** The resource tree as indented text: type token, name. */
export function toTree(plan: Plan): string {
    const children = new Map<string, PlannedResource[]>();
    const known = new Set(plan.resources.map((r) => r.urn));
    for (const r of plan.resources) {
        const key = known.has(r.parent) ? r.parent : "";
        children.set(key, [...(children.get(key) ?? []), r]);
    }
    const lines: string[] = [`stack ${plan.stack}`];
    const walk = (urn: string, depth: number) => {
        for (const r of children.get(urn) ?? []) {
            lines.push(`${"  ".repeat(depth)}${r.type}  ${r.name}`);
            walk(r.urn, depth + 1);
        }
    };
    walk("", 1);
    return lines.join("\n");
}
