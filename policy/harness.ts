/**
 * Runs the pack without the Pulumi CLI: feeds a synthesized plan (scripts/synth) to every rule the
 * way the engine's analyzer does (@pulumi/policy's server.js): per resource `validateResource` with
 * type, name, URN, props behind the unknown-checking proxy, options and provider; then
 * `validateStack` once over every resource with parents and dependencies linked, the
 * `pulumi:pulumi:Stack` resource carrying the stack outputs. Policy config is applied as the engine
 * applies `--policy-pack-config` (enforcement level per rule, `getConfig()`).
 *
 * What a plan holds differs from the engine's request in known ways: props are the inputs (the
 * mocks return inputs as state, so a stack rule sees inputs where the engine sends outputs); a
 * Pulumi secret appears as "[secret]" (the engine unwraps it to the plain value); an input unknown
 * in a preview ("[unknown]") is sent as the engine sends it, the unknown string sentinel, which the
 * proxy turns into "can't run during preview" (advisory) if a rule reads it through the proxy.
 */
import { unknownCheckingProxy, UnknownValueError, type EnforcementLevel, type PolicyResource, type PolicyResourceOptions, type ReportViolation } from "@pulumi/policy";

import { RULES, PACK_NAME, type Rule } from "./rules";
import { UNKNOWN } from "./rule";

/** The plan's marker for an unknown (scripts/synth/run.ts UNKNOWN); kept here so the pack needs nothing from scripts/. */
const PLAN_UNKNOWN = "[unknown]";

/** One resource of a plan (scripts/synth/run.ts PlannedResource); hand-written fixtures may omit what they don't need. */
export interface PlanResource {
    readonly type: string;
    readonly name: string;
    readonly urn?: string;
    readonly parent?: string;
    readonly custom?: boolean;
    readonly provider?: string;
    readonly inputs: Record<string, unknown>;
    readonly options?: {
        readonly dependsOn?: string[];
        readonly ignoreChanges?: string[];
        readonly protect?: boolean;
        readonly deleteBeforeReplace?: boolean;
        readonly additionalSecretOutputs?: string[];
        readonly customTimeouts?: { create?: string; update?: string; delete?: string };
    };
}

export interface PlanInput {
    readonly stack?: string;
    readonly resources: readonly PlanResource[];
    readonly outputs?: Record<string, unknown>;
}

/** `--policy-pack-config` as JSON: per rule an enforcement level, or an object with one and the rule's config. */
export type PackConfig = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

export interface Violation {
    readonly rule: string;
    readonly enforcementLevel: "advisory" | "mandatory";
    readonly message: string;
    readonly urn?: string;
    /** Type and name of the resource (or "stack"). */
    readonly resource: string;
}

export interface HarnessResult {
    readonly violations: Violation[];
    /** Rules the engine would report as not applicable, with the reasons given. */
    readonly notApplicable: { rule: string; reason: string }[];
    /** How many resources each resource rule was run on. */
    readonly resourcesChecked: number;
}

class NotApplicable extends Error {
    constructor(readonly reason: string) {
        super(reason);
    }
}

const throwNotApplicable = (reason?: string): never => {
    throw new NotApplicable(reason ?? "");
};

/** Replaces the plan's unknown marker by the engine's sentinel, everywhere in a value. */
function asEngineSends(value: unknown): unknown {
    if (value === PLAN_UNKNOWN) {
        return UNKNOWN;
    }
    if (Array.isArray(value)) {
        return value.map(asEngineSends);
    }
    if (value !== null && typeof value === "object") {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) {
            // The engine drops properties whose value is undefined (deserializeProperties).
            if (v !== undefined) {
                out[k] = asEngineSends(v);
            }
        }
        return out;
    }
    return value;
}

function seconds(duration: string | undefined): number {
    const m = duration ? /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(duration) : null;
    if (!m) {
        return 0;
    }
    const n = Number(m[1]);
    return m[2] === "ms" ? n / 1000 : m[2] === "s" ? n : m[2] === "m" ? n * 60 : n * 3600;
}

function urnOf(r: PlanResource, stack: string): string {
    return r.urn ?? `urn:pulumi:${stack}::apfa::${r.type}::${r.name}`;
}

function optionsOf(r: PlanResource, stackUrn: string): PolicyResourceOptions {
    const o = r.options ?? {};
    const opts: PolicyResourceOptions = {
        protect: o.protect ?? false,
        ignoreChanges: o.ignoreChanges ?? [],
        aliases: [],
        customTimeouts: { createSeconds: seconds(o.customTimeouts?.create), updateSeconds: seconds(o.customTimeouts?.update), deleteSeconds: seconds(o.customTimeouts?.delete) },
        additionalSecretOutputs: o.additionalSecretOutputs ?? [],
        parent: r.parent ?? stackUrn,
    };
    if (o.deleteBeforeReplace !== undefined) {
        opts.deleteBeforeReplace = o.deleteBeforeReplace;
    }
    return opts;
}

function isTypeOf(type: string, resourceClass: unknown): boolean {
    const pulumiType = (resourceClass as { __pulumiType?: unknown }).__pulumiType;
    return typeof pulumiType === "string" && pulumiType === type;
}

function levelOf(rule: Rule, config: PackConfig): EnforcementLevel {
    const c = config[rule.name] ?? config.all;
    const configured = typeof c === "string" ? c : c?.enforcementLevel;
    const level = configured ?? rule.enforcementLevel ?? "advisory";
    return level === "remediate" ? "mandatory" : level;
}

function configOf(rule: Rule, config: PackConfig): Record<string, unknown> {
    const c = config[rule.name];
    if (!c || typeof c === "string") {
        return {};
    }
    return Object.fromEntries(Object.entries(c).filter(([key]) => key !== "enforcementLevel"));
}

/** Runs every rule of `rules` (default: the pack's) over a plan, as the engine would. */
export async function runPolicies(plan: PlanInput, options: { config?: PackConfig; rules?: readonly Rule[] } = {}): Promise<HarnessResult> {
    const config = options.config ?? {};
    const rules = options.rules ?? RULES;
    const stack = plan.stack ?? "test";
    const stackUrn = `urn:pulumi:${stack}::apfa::pulumi:pulumi:Stack::apfa-${stack}`;
    const violations: Violation[] = [];
    const notApplicable: { rule: string; reason: string }[] = [];
    const stackTags: ReadonlyMap<string, string> = new Map([["pulumi:project", "apfa"]]);

    // The stack resource: registered first, its outputs set at the end (what validateStack sees).
    const stackResource: PlanResource = { type: "pulumi:pulumi:Stack", name: `apfa-${stack}`, urn: stackUrn, parent: "", custom: false, inputs: {} };
    const all: PlanResource[] = [stackResource, ...plan.resources];
    const byUrn = new Map(all.map((r) => [urnOf(r, stack), r]));

    function providerOf(r: PlanResource): PolicyResource["provider"] {
        if (r.custom === false || r.type.startsWith("pulumi:")) {
            return undefined;
        }
        const ref = r.provider ? r.provider.split("::").slice(0, -1).join("::") : undefined;
        const explicit = ref ? byUrn.get(ref) : undefined;
        if (explicit) {
            return { type: explicit.type, name: explicit.name, urn: ref as string, props: unknownCheckingProxy(asEngineSends(explicit.inputs) as Record<string, unknown>) };
        }
        // A default provider: the engine registers it as `default_<version>`; its config is the stack's.
        const pkg = r.type.split(":")[0];
        return { type: `pulumi:providers:${pkg}`, name: "default", urn: `urn:pulumi:${stack}::apfa::pulumi:providers:${pkg}::default`, props: unknownCheckingProxy({}) };
    }

    const report = (rule: Rule, level: EnforcementLevel, resource: string, defaultUrn: string | undefined): ReportViolation => (message, urn) => {
        if (level === "advisory" || level === "mandatory") {
            violations.push({ rule: rule.name, enforcementLevel: level, message, urn: urn ?? defaultUrn, resource });
        }
    };

    const onError = (rule: Rule, e: unknown, resource: string, urn: string | undefined) => {
        if (e instanceof UnknownValueError) {
            // As the engine: a rule that reads an unknown through the proxy becomes an advisory.
            violations.push({ rule: rule.name, enforcementLevel: "advisory", message: `can't run policy '${rule.name}' from policy pack '${PACK_NAME}' during preview: ${(e as Error).message}`, urn, resource });
        } else if (e instanceof NotApplicable) {
            notApplicable.push({ rule: rule.name, reason: e.reason });
        } else {
            throw new Error(`Error validating ${resource} with policy '${rule.name}': ${e instanceof Error ? e.stack : String(e)}`);
        }
    };

    // validateResource, resource by resource (the engine calls Analyze for each registration).
    for (const r of all) {
        const urn = urnOf(r, stack);
        for (const rule of rules) {
            const level = levelOf(rule, config);
            if (level === "disabled" || !("validateResource" in rule) || !rule.validateResource) {
                continue;
            }
            const validations = Array.isArray(rule.validateResource) ? rule.validateResource : [rule.validateResource];
            const single = (rule.validateResource as { __pulumiType?: string }).__pulumiType;
            if (!Array.isArray(rule.validateResource) && single && single !== r.type) {
                continue;
            }
            for (const validate of validations) {
                const props = unknownCheckingProxy(asEngineSends(r.inputs) as Record<string, unknown>);
                const args = {
                    type: r.type,
                    props,
                    urn,
                    name: r.name,
                    opts: optionsOf(r, stackUrn),
                    stackTags,
                    provider: providerOf(r),
                    isType: (cls: unknown) => isTypeOf(r.type, cls),
                    asType: (cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined),
                    getConfig: <T extends object>() => configOf(rule, config) as T,
                    notApplicable: throwNotApplicable,
                };
                try {
                    await Promise.resolve(validate(args as never, report(rule, level, `${r.type}::${r.name}`, urn)));
                } catch (e) {
                    onError(rule, e, `${r.type}::${r.name}`, urn);
                }
            }
        }
    }

    // validateStack, once, over every resource (props are what the engine has at the end of the run).
    const stackOutputs = asEngineSends(plan.outputs ?? {}) as Record<string, unknown>;
    for (const rule of rules) {
        const level = levelOf(rule, config);
        if (level === "disabled" || !("validateStack" in rule)) {
            continue;
        }
        const resources: PolicyResource[] = all.map((r) => {
            const props = unknownCheckingProxy((r === stackResource ? stackOutputs : asEngineSends(r.inputs)) as Record<string, unknown>);
            const type = r.type;
            return {
                type,
                props,
                urn: urnOf(r, stack),
                name: r.name,
                opts: optionsOf(r, stackUrn),
                provider: providerOf(r),
                dependencies: [],
                propertyDependencies: {},
                isType: (cls: unknown) => isTypeOf(type, cls),
                asType: (cls: unknown) => (isTypeOf(type, cls) ? props : undefined),
            } as unknown as PolicyResource;
        });
        const byResourceUrn = new Map(resources.map((r) => [r.urn, r]));
        all.forEach((r, i) => {
            const resource = resources[i] as { parent?: PolicyResource; dependencies: PolicyResource[] };
            const parent = r.parent === undefined ? stackUrn : r.parent;
            if (parent && byResourceUrn.has(parent) && r !== stackResource) {
                resource.parent = byResourceUrn.get(parent);
            }
            resource.dependencies = (r.options?.dependsOn ?? []).map((d) => byResourceUrn.get(d)).filter((d): d is PolicyResource => d !== undefined);
        });
        const args = {
            resources,
            stackTags,
            getConfig: <T extends object>() => configOf(rule, config) as T,
            notApplicable: throwNotApplicable,
        };
        try {
            await Promise.resolve(rule.validateStack(args, report(rule, level, "stack", undefined)));
        } catch (e) {
            onError(rule, e, "stack", undefined);
        }
    }
    return { violations, notApplicable, resourcesChecked: all.length };
}

/** Violations at one enforcement level. */
export function mandatory(result: HarnessResult): Violation[] {
    return result.violations.filter((v) => v.enforcementLevel === "mandatory");
}
