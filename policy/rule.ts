/**
 * The building blocks every rule of the pack uses: how a rule is declared (one-line rationale,
 * enforcement, a waiver that downgrades it with its reason), how it reads a value that may be
 * unknown during a preview, and small readers shared by several clouds.
 *
 * No cloud SDK is imported here: the helpers read the plain property bags the engine sends.
 */
import type {
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidation,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";

/**
 * The values the engine sends for an input that is unknown during a preview (the Pulumi wire
 * format's sentinels, which @pulumi/policy's proxy recognises; today the engine sends the string
 * one for every unknown). tests/policy.test.ts proves `unknownCheckingProxy` treats each as unknown.
 */
export const UNKNOWN_SENTINELS: ReadonlySet<string> = new Set([
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", // boolean
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421", // number
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9", // string (what the engine sends)
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2", // array
    "030794c1-ac77-496b-92df-f27374a8bd58", // asset
    "e48ece36-62e2-4504-bad9-02848725956a", // archive
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff", // object
]);
/** What the engine sends for an unknown input. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Whether a value is unknown (only during a preview; `pulumi up` sends every input resolved). */
export function isUnknown(value: unknown): boolean {
    return typeof value === "string" && UNKNOWN_SENTINELS.has(value);
}

/**
 * The plain object behind @pulumi/policy's unknown-checking proxy. Reading an unknown field through
 * the proxy throws, and the engine turns that into an advisory "can't run during preview"; the rules
 * here read the plain object instead and decide per rule what an unknown means (see {@link known}).
 */
export function plain<T>(value: T): T {
    if (value !== null && typeof value === "object") {
        const target = (value as Record<string, unknown>)["__getSpecialProxyTarget"];
        if (target !== undefined) {
            return target as T;
        }
    }
    return value;
}

/**
 * The value when it is known, else undefined. The rules' shared decision on unknowns: a value the
 * preview cannot know yet is "can't tell", never a violation. `pulumi up` runs every resource rule
 * again with the value resolved (before the resource is created), so nothing escapes the check.
 */
export function known<T>(value: T): T | undefined {
    return isUnknown(value) ? undefined : value;
}

/** Reads a dotted path from a plain object; undefined when any step is missing or unknown. */
export function at(value: unknown, path: string): unknown {
    let current: unknown = plain(value);
    for (const key of path.split(".")) {
        if (current === null || current === undefined || typeof current !== "object" || isUnknown(current)) {
            return undefined;
        }
        current = (current as Record<string, unknown>)[key];
    }
    return isUnknown(current) ? undefined : current;
}

/** An array input, with unknown elements dropped (preview); [] when absent or unknown. */
export function list(value: unknown): unknown[] {
    const v = plain(value);
    return Array.isArray(v) ? v.filter((e) => !isUnknown(e)) : [];
}

/** A record input; {} when absent, unknown or not an object. */
export function record(value: unknown): Record<string, unknown> {
    const v = plain(value);
    return v !== null && typeof v === "object" && !Array.isArray(v) && !isUnknown(v) ? (v as Record<string, unknown>) : {};
}

/** JSON text parsed (IAM documents, ECS container definitions); undefined when unknown or not JSON. */
export function parseJson(value: unknown): unknown {
    if (typeof value !== "string" || isUnknown(value)) {
        return value !== null && typeof value === "object" ? plain(value) : undefined;
    }
    try {
        return JSON.parse(value) as unknown;
    } catch {
        return undefined;
    }
}

/** The tags/labels of a resource, whichever input carries them (AWS tags, Azure tags, GCP labels, Kubernetes labels). */
export function labelsOf(props: unknown): Record<string, unknown> {
    return {
        ...record(at(props, "metadata.labels")),
        ...record(at(props, "resourceLabels")),
        ...record(at(props, "labels")),
        ...record(at(props, "tags")),
    };
}

/** The program tags every resource of a production stack `environment: production`. */
export function isProductionResource(props: unknown): boolean {
    return labelsOf(props).environment === "production";
}

/** Environment variable names that hold credentials by convention. */
export const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|AUTH_KEY|WEBHOOK_URL|ROUTING_KEY)/i;

/** Names that mark the monitoring services, which are never reachable from the internet. */
export const MONITORING_NAME = /(grafana|prometheus|alertmanager)/i;

// --- declaring rules ------------------------------------------------------------------------

/** Policy config every rule accepts: the reason it is waived on this stack (policy/config.ts writes it). */
export interface WaiverConfig {
    readonly waiver?: string;
}

const WAIVER_SCHEMA = { waiver: { type: "string" as const, minLength: 10 } };

export interface RuleMeta {
    /** kebab-case, unique in the pack; what `apfa:policy.waivers` names. */
    readonly name: string;
    /** One line: what the rule requires and why. */
    readonly description: string;
    readonly enforcementLevel: Extract<EnforcementLevel, "advisory" | "mandatory">;
    /** Which file of the pack, for the README table and `npm run policy`. */
    readonly area: "aws" | "azure" | "gcp" | "kubernetes" | "docker" | "stack";
    /** Rule-specific config beyond the waiver. */
    readonly config?: PolicyConfigSchema["properties"];
}

/**
 * Wraps `report` so that a waived rule (its policy config has a `waiver`) still reports, prefixed
 * with the reason: the waiver itself downgrades the rule to advisory in the policy config, so a
 * waived violation stays visible in every preview instead of disappearing.
 */
function reporterFor(config: WaiverConfig, report: ReportViolation): ReportViolation {
    if (!config.waiver) {
        return report;
    }
    return (message: string, urn?: string) => report(`[waived: ${config.waiver}] ${message}`, urn);
}

function configSchemaOf(meta: RuleMeta): PolicyConfigSchema {
    return { properties: { ...WAIVER_SCHEMA, ...(meta.config ?? {}) } };
}

/** Keeps the resource type a typed validation was made for, so the engine skips other types early. */
function keepType<F extends object>(from: object, to: F): F {
    const type = (from as { __pulumiType?: string }).__pulumiType;
    if (type) {
        (to as { __pulumiType?: string }).__pulumiType = type;
    }
    return to;
}

/** A rule over one resource at a time. */
export function resourceRule(meta: RuleMeta, validations: ResourceValidation | ResourceValidation[]): ResourceValidationPolicy & { area: RuleMeta["area"] } {
    const wrap = (validate: ResourceValidation): ResourceValidation =>
        keepType(validate, (args: ResourceValidationArgs, report: ReportViolation) => validate(args, reporterFor(args.getConfig<WaiverConfig>(), report)));
    return {
        name: meta.name,
        description: meta.description,
        enforcementLevel: meta.enforcementLevel,
        configSchema: configSchemaOf(meta),
        area: meta.area,
        validateResource: Array.isArray(validations) ? validations.map(wrap) : wrap(validations),
    };
}

/** A rule over the whole stack (every resource, their parents and dependencies). */
export function stackRule(meta: RuleMeta, validate: StackValidation): StackValidationPolicy & { area: RuleMeta["area"] } {
    return {
        name: meta.name,
        description: meta.description,
        enforcementLevel: meta.enforcementLevel,
        configSchema: configSchemaOf(meta),
        area: meta.area,
        validateStack: keepType(validate, (args: StackValidationArgs, report: ReportViolation) => validate(args, reporterFor(args.getConfig<WaiverConfig>(), report))),
    };
}

/** The resources of one type in a stack. */
export function ofType(resources: readonly PolicyResource[], type: string): PolicyResource[] {
    return resources.filter((r) => r.type === type);
}

/** A resource validation for any of several types (e.g. the Kubernetes workload kinds). */
export function forTypes(types: readonly string[], validate: ResourceValidation): ResourceValidation {
    return (args, report) => (types.includes(args.type) ? validate(args, report) : undefined);
}
