/**
 * The pack's per-stack policy config (`--policy-pack-config`), written from the stack's own keys:
 *   apfa:policy.waivers            → the rule at advisory, with `waiver: <reason>` (the rule
 *                                    prefixes every message with it, so the exception stays visible)
 *   apfa:policy.allowedRegistries  → images-allowed-registries: { registries }
 *   apfa:budget.monthlyUsd         → budget-monthly-cost: { monthlyUsd }
 * Why a config file and not stack outputs: resource rules run before a stack has outputs, and the
 * CLI hands a pack nothing else of the stack's config; a file works for both kinds of rule.
 */
import { scalingSchema } from "../src/config/app";
import { budgetSchema, costSchema } from "../src/config/budget";
import { multiRegionSchema, regionalMinReplicas, toMultiRegionSettings } from "../src/config/region";
import { valid } from "../src/config/common";
import { decodeConfigValue } from "../src/config/decode";
import { azureSettingsSchema } from "../src/targets/azure/settings";
import { gcpSettingsSchema } from "../src/targets/gcp/settings";
import { policySchema } from "../src/config/policy";
import type { PackConfig } from "./harness";
import { RULE_NAMES } from "./rules";

export class PolicyConfigError extends Error {}

function read<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, key: string, value: unknown): T {
    const result = schema.safeParse(value === undefined ? {} : typeof value === "string" ? decodeConfigValue(value) : value);
    if (!result.success) {
        throw new PolicyConfigError(result.error.issues.map((i) => `${key}${i.path.length ? "." + i.path.map(String).join(".") : ""}: ${i.message}`).join("\n"));
    }
    return result.data;
}

/** The cloud and region the cost estimate prices at, as the targets read them (tools/cost/main.ts regionOf). */
function estimateContext(values: Readonly<Record<string, unknown>>): { cloud?: string; region?: string } {
    const decoded = (key: string) => (typeof values[key] === "string" ? decodeConfigValue(values[key] as string) : values[key]);
    const cloud = decoded("apfa:cloud");
    switch (cloud) {
        case "docker":
            return { cloud, region: "local" };
        case "aws":
            return { cloud, region: typeof values["aws:region"] === "string" ? values["aws:region"] : undefined };
        case "azure":
            return { cloud, region: valid(azureSettingsSchema, decoded("apfa:azure") ?? {})?.location };
        case "gcp":
            return { cloud, region: valid(gcpSettingsSchema, decoded("apfa:gcp") ?? {})?.region };
        default:
            return {};
    }
}

/**
 * APFA's replicas at rest and at full scale, as `npm run cost` hints them (tools/cost/main.ts
 * hintsOf): in a preview the Kubernetes targets' Helm values are unknown, so the estimate needs
 * them from config (a warm standby region's reduced minimum included).
 */
function appReplicas(values: Readonly<Record<string, unknown>>): { atRest: number; fullScale: number } | undefined {
    const decoded = (key: string) => (typeof values[key] === "string" ? decodeConfigValue(values[key] as string) : values[key]);
    const scaling = valid(scalingSchema, decoded("apfa:scaling") ?? {});
    if (!scaling) {
        return undefined;
    }
    const multiRegion = valid(multiRegionSchema, decoded("apfa:multiRegion"));
    const region = estimateContext(values).region;
    const settings = multiRegion && region ? toMultiRegionSettings(multiRegion, region) : undefined;
    return { atRest: regionalMinReplicas(scaling.minReplicas, settings), fullScale: scaling.maxReplicas };
}

/** The policy config for a stack's config values (namespaced keys, as in `Pulumi.<stack>.yaml`). */
export function packConfigFor(values: Readonly<Record<string, unknown>>): PackConfig {
    const policy = read(policySchema, "apfa:policy", values["apfa:policy"]);
    const budget = read(budgetSchema, "apfa:budget", values["apfa:budget"]);
    const unknown = Object.keys(policy.waivers).filter((name) => !RULE_NAMES.includes(name));
    if (unknown.length > 0) {
        throw new PolicyConfigError(`apfa:policy.waivers: no rule named ${unknown.join(", ")} in the pack (rules: ${[...RULE_NAMES].sort().join(", ")})`);
    }
    const config: PackConfig = {};
    for (const [rule, reason] of Object.entries(policy.waivers)) {
        config[rule] = { enforcementLevel: "advisory", waiver: reason };
    }
    if (policy.allowedRegistries) {
        config["images-allowed-registries"] = { ...(typeof config["images-allowed-registries"] === "object" ? config["images-allowed-registries"] : {}), registries: policy.allowedRegistries };
    }
    if (budget.monthlyUsd !== undefined) {
        const cost = read(costSchema, "apfa:cost", values["apfa:cost"]);
        // Only the assumptions the stack sets: the estimator fills in its own defaults.
        const raw = values["apfa:cost"];
        const given = Object.keys(((typeof raw === "string" ? decodeConfigValue(raw) : raw) as { assumptions?: object } | undefined)?.assumptions ?? {});
        config["budget-monthly-cost"] = {
            ...(typeof config["budget-monthly-cost"] === "object" ? config["budget-monthly-cost"] : {}),
            monthlyUsd: budget.monthlyUsd,
            ...estimateContext(values),
            assumptions: Object.fromEntries(Object.entries(cost.assumptions).filter(([key]) => given.includes(key))),
            appReplicas: appReplicas(values),
        };
    }
    return config;
}
