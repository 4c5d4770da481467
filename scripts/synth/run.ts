/**
 * Offline synth: runs the real program with one stack's config on Pulumi's runtime mocks — no CLI,
 * no plugins, no credentials — and records every resource's type, name, parent, options and inputs.
 *
 * One process runs one stack: the Pulumi runtime is process-global.
 */
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";

import { COMPUTED, INVOKES, defaultState } from "./mock-state";
import { PROJECT, PROJECT_ROOT, encodeStackConfig, readStackFile } from "./stack-config";

/** The secret envelope the Pulumi wire format uses (see @pulumi/pulumi runtime/rpc). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const REDACTED = "[secret]";

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
        readonly protect: boolean;
        readonly deleteBeforeReplace: boolean;
        readonly additionalSecretOutputs: string[];
        readonly customTimeouts?: { create?: string; update?: string; delete?: string };
    };
}

export interface Plan {
    readonly stack: string;
    readonly resources: PlannedResource[];
    /** Stack outputs, secrets replaced by "[secret]". */
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

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getProvider(): string;
    getDependenciesList(): string[];
    getIgnorechangesList(): string[];
    getReplaceonchangesList(): string[];
    getProtect(): boolean | undefined;
    getDeletebeforereplace(): boolean;
    getAdditionalsecretoutputsList(): string[];
    getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
}

/** Replaces secret envelopes by "[secret]" and records where they were. */
function redact(value: unknown, where: string, secretPaths: string[]): unknown {
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
    const [resolved, secret] = await Promise.all([
        new Promise<unknown>((resolve) => output.apply((v) => resolve(v))),
        (output as unknown as { isSecret: Promise<boolean> }).isSecret,
    ]);
    return secret ? REDACTED : redact(resolved, "", []);
}

/**
 * Runs the program for `stack` under mocks and returns the plan.
 * @param overrides config keys replaced for this run (`null` removes a key)
 * @throws the program's own error (e.g. ConfigError) when it fails
 */
export async function synthesize(stack: string, overrides: Record<string, unknown> = {}): Promise<Plan> {
    const config = encodeStackConfig(readStackFile(stack), overrides);
    const unmockedInvokes: string[] = [];
    const secretInputs: string[] = [];
    const byKey = new Map<string, { inputs: Record<string, unknown>; custom: boolean; provider?: string }>();
    const requests: RegisterRequest[] = [];

    await pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs) {
                const computed = COMPUTED[args.type]?.(args.name, args.inputs) ?? {};
                const state = { ...defaultState(args.type, args.name, args.inputs), ...computed };
                const where = `${args.type}::${args.name}`;
                const paths: string[] = [];
                byKey.set(where, {
                    inputs: redact(args.inputs, "", paths) as Record<string, unknown>,
                    custom: args.custom ?? true,
                    provider: args.provider || undefined,
                });
                secretInputs.push(...paths.map((p) => `${where}.${p}`));
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
        false,
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
        program = require(path.join(PROJECT_ROOT, "src", "index.ts")) as Record<string, unknown>;
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
                protect: req.getProtect() ?? false,
                deleteBeforeReplace: req.getDeletebeforereplace(),
                additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
                customTimeouts: timeouts
                    ? { create: timeouts.getCreate() || undefined, update: timeouts.getUpdate() || undefined, delete: timeouts.getDelete() || undefined }
                    : undefined,
            },
        };
    });

    const loadedPackages = [
        ...new Set(
            Object.keys(require.cache)
                .map((file) => /node_modules[\\/](@pulumi[\\/][^\\/]+)/.exec(file)?.[1]?.replace("\\", "/"))
                .filter((p): p is string => p !== undefined),
        ),
    ].sort();

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
