/**
 * The stack configuration: one schema, one reader, defaults in one place.
 *
 * `loadConfig()` is the only code in the program that reads Pulumi config. It takes every `apfa:*`
 * key of the stack, validates all of them against one zod schema (the shared keys here, each
 * cloud's settings in `src/targets/<cloud>/settings.ts`), and either returns a typed
 * {@link ApfaConfig} or throws one {@link ConfigError} that lists every problem — before any
 * resource is registered. Components receive the typed object and never read config themselves.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

import { awsSettingsSchema, type AwsSettings } from "../targets/aws/settings";
import { azureSettingsSchema, type AzureSettings } from "../targets/azure/settings";
import { dockerSettingsSchema, type DockerSettings } from "../targets/docker/settings";
import { gcpSettingsSchema, type GcpSettings } from "../targets/gcp/settings";
import { toAlertingConfig, type AlertingConfig } from "./alerting";
import type { BudgetSettings } from "./budget";
import { regionalMinReplicas, toMultiRegionSettings, type MultiRegionSettings } from "./region";
import { toDatabaseSettings, type DatabaseSettings } from "./database";
import type { AppSettings, MonitoringSettings, ScalingSettings } from "./app";
import { NAMESPACE, isProduction } from "./common";
import { decodeConfigValue } from "./decode";
import { ConfigError, describeIssue } from "./errors";
import type { ReleaseState } from "./release";
import { KNOWN_KEYS, stackSchema, type ParsedStack } from "./schema";

export { CLOUDS, ENV_NAME, NAMESPACE, type Cloud } from "./common";
export { decodeConfigValue } from "./decode";
export { ConfigError } from "./errors";
export type { AppSettings, MonitoringSettings, ScalingSettings } from "./app";
export { POSTGRES_PORT, type DatabaseSettings } from "./database";
export { TOPOLOGIES, regionalMinReplicas, type MultiRegionSettings, type Topology } from "./region";
export { receiverCredential, type AlertingConfig, type ReceiverConfig } from "./alerting";
export { DEFAULT_COST_ASSUMPTIONS, budgetSchema, costAssumptionsSchema, type BudgetSettings, type CostAssumptions, type CostSettings } from "./budget";
export {
    RELEASE_PHASES,
    parseReleaseState,
    parseRolloutSettings,
    type ReleasePhase,
    type ReleaseProgress,
    type ReleaseState,
    type ReleaseStateInput,
    type RolloutAnalysisSettings,
    type RolloutSettings,
    type SlotSettings,
} from "./release";
export type { AwsSettings, AzureSettings, DockerSettings, GcpSettings };
export { SLOTS, type Slot } from "../contract";

/** What every target gets, whatever the cloud. */
interface CommonConfig {
    /** Pulumi project name. */
    readonly project: string;
    /** Pulumi stack name. */
    readonly stack: string;
    /** `${project}-${stack}`: the prefix of every physical name. */
    readonly prefix: string;
    readonly app: AppSettings;
    readonly scaling: ScalingSettings;
    readonly monitoring: MonitoringSettings;
    /** Alertmanager's receivers and routing; every credential in it is a Pulumi secret. */
    readonly alerting: AlertingConfig;
    readonly release: ReleaseState;
    /**
     * The stack is tagged `environment: production`: it serves HTTPS only (unless allowPlainHttp),
     * and stateful resources get deletion protection (`protect`, the ALB's deletion protection).
     */
    readonly production: boolean;
    /** Serve plain HTTP although the stack is tagged `environment: production` (its explicit opt-out). */
    readonly allowPlainHttp: boolean;
    /** User tags merged into every taggable resource (labels on Kubernetes and GCP). */
    readonly tags: Readonly<Record<string, string>>;
    /** APFA's PostgreSQL database (`apfa:database`, src/config/database.ts); each target's sizing is in its own settings. */
    readonly database: DatabaseSettings;
    /** `apfa:multiRegion`: this stack's region in a multi-region deployment; absent for a single region. */
    readonly multiRegion?: MultiRegionSettings;
    /** `apfa:budget`: the monthly budget the cost estimate is checked against (tools/cost/). Unset: no budget. */
    readonly budget?: BudgetSettings;
    /** Grafana admin password given in config (always a Pulumi secret); generated when absent. */
    readonly grafanaAdminPassword?: pulumi.Output<string>;
}

export type DockerConfig = CommonConfig & { readonly cloud: "docker"; readonly docker: DockerSettings };
export type AwsConfig = CommonConfig & { readonly cloud: "aws"; readonly aws: AwsSettings; readonly region: string };
export type AzureConfig = CommonConfig & { readonly cloud: "azure"; readonly azure: AzureSettings };
export type GcpConfig = CommonConfig & { readonly cloud: "gcp"; readonly gcp: GcpSettings };

/** The validated stack configuration, discriminated on `cloud`. */
export type ApfaConfig = DockerConfig | AwsConfig | AzureConfig | GcpConfig;

/** The raw input of {@link parseConfig}: config keys (e.g. `apfa:cloud`, `aws:region`) to values. */
export interface RawConfig {
    readonly values: Readonly<Record<string, unknown>>;
    readonly project: string;
    readonly stack: string;
    /** Keys whose value is, or contains, a Pulumi secret (`pulumi config set --secret`). @default [] */
    readonly secretKeys?: readonly string[];
}

/**
 * The `apfa:*` keys that may hold secrets. The program keeps the Grafana password secret end to
 * end, and in `apfa:alerting` every credential (webhook URLs, routing keys, SMTP passwords); the
 * rest of `apfa:alerting` (receiver names, SMTP host, addresses, intervals) lands in Alertmanager's
 * plain configuration file.
 */
const SECRET_KEYS: readonly string[] = ["grafanaAdminPassword", "alerting"];

/**
 * Reads the stack's config from the Pulumi runtime and validates it. The only reader of config.
 * @throws ConfigError listing every bad key.
 */
export function loadConfig(): ApfaConfig {
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        values[key] = decodeConfigValue(value);
    }
    // Which keys are secret: the SDK knows (from the CLI) but exports the check only internally.
    const isSecret = (pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
    const secretKeys = isSecret ? Object.keys(values).filter((key) => isSecret(key)) : [];
    return parseConfig({ values, project: pulumi.getProject(), stack: pulumi.getStack(), secretKeys });
}

/**
 * Validates raw config values (pure; no Pulumi runtime needed).
 * @throws ConfigError listing every bad key and what was expected.
 */
export function parseConfig(raw: RawConfig): ApfaConfig {
    const own: Record<string, unknown> = {};
    const prefix = `${NAMESPACE}:`;
    for (const [key, value] of Object.entries(raw.values)) {
        if (key.startsWith(prefix)) {
            own[key.slice(prefix.length)] = value;
        }
    }

    const problems: string[] = [];
    const result = stackSchema(raw.values, `${raw.project}-${raw.stack}`).safeParse(own);
    if (!result.success) {
        for (const issue of result.error.issues) {
            problems.push(...describeIssue(issue, own, KNOWN_KEYS));
        }
    }
    for (const key of raw.secretKeys ?? []) {
        if (key.startsWith(prefix) && !SECRET_KEYS.includes(key.slice(prefix.length))) {
            problems.push(
                `${key}: holds a secret value, but only ${SECRET_KEYS.map((k) => prefix + k).join(" and ")} are kept secret by this program; ` +
                    "the other settings reach resource inputs in clear (container environment, task definitions, Helm values). " +
                    "Keep application secrets in your platform's secret store",
            );
        }
    }
    if (problems.length > 0 || !result.success) {
        throw new ConfigError(problems);
    }
    return toApfaConfig(result.data, raw);
}

/** The stack's own region, as its cloud's key names it (for `apfa:multiRegion`). */
function stackRegion(data: ParsedStack, raw: RawConfig): string {
    switch (data.cloud) {
        case "aws":
            return String(raw.values["aws:region"]);
        case "azure":
            return (data.azure ?? azureSettingsSchema.parse({})).location;
        case "gcp":
            return (data.gcp ?? gcpSettingsSchema.parse({})).region;
        default:
            return "local";
    }
}

function toApfaConfig(data: ParsedStack, raw: RawConfig): ApfaConfig {
    const multiRegion = data.multiRegion === undefined ? undefined : toMultiRegionSettings(data.multiRegion, stackRegion(data, raw));
    const common: CommonConfig = {
        project: raw.project,
        stack: raw.stack,
        prefix: `${raw.project}-${raw.stack}`,
        app: data.app,
        // A warm standby region runs a fraction of the minimum (apfa:multiRegion.standbyCapacityPercent).
        scaling: { ...data.scaling, minReplicas: regionalMinReplicas(data.scaling.minReplicas, multiRegion) },
        ...(multiRegion ? { multiRegion } : {}),
        monitoring: data.monitoring,
        alerting: toAlertingConfig(data.alerting, (value) => pulumi.secret(value)),
        release: data.release,
        production: isProduction(data),
        allowPlainHttp: data.allowPlainHttp,
        tags: data.tags,
        database: toDatabaseSettings(data.database, isProduction(data)),
        // Only when set: stacks without a budget keep exactly the config object they had.
        ...(data.budget === undefined ? {} : { budget: data.budget }),
        grafanaAdminPassword: data.grafanaAdminPassword === undefined ? undefined : pulumi.secret(data.grafanaAdminPassword),
    };
    switch (data.cloud) {
        case "docker":
            return { ...common, cloud: "docker", docker: data.docker ?? dockerSettingsSchema.parse({}) };
        case "aws":
            return { ...common, cloud: "aws", aws: data.aws ?? awsSettingsSchema.parse({}), region: String(raw.values["aws:region"]) };
        case "azure":
            return { ...common, cloud: "azure", azure: data.azure ?? azureSettingsSchema.parse({}) };
        case "gcp": {
            const gcp = data.gcp ?? gcpSettingsSchema.parse({});
            return { ...common, cloud: "gcp", gcp: { ...gcp, project: gcp.project ?? String(raw.values["gcp:project"]) } };
        }
    }
}

/** JSON Schema of every `apfa:*` key, for editors and docs (`npm run -s schema > apfa-config.schema.json`). */
export function configJsonSchema(): unknown {
    return z.toJSONSchema(stackSchema(), { io: "input" });
}
