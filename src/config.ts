/**
 * The stack configuration: one schema, one reader, defaults in one place.
 *
 * `loadConfig()` is the only code in the program that reads Pulumi config. It takes every
 * `apfa:*` key of the stack, validates all of them against one zod schema, and either returns a
 * typed {@link ApfaConfig} or throws one {@link ConfigError} that lists every problem — before any
 * resource is registered. Components receive the typed object and never read config themselves.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

import { isValidFargateSize, describeFargateMemoryOptions } from "./targets/aws/sizing";

/** The project's config namespace (the `name` in Pulumi.yaml). */
export const NAMESPACE = "apfa";

export const CLOUDS = ["docker", "aws", "azure", "gcp"] as const;
export type Cloud = (typeof CLOUDS)[number];

export const SLOTS = ["blue", "green"] as const;
export type Slot = (typeof SLOTS)[number];

const urlPath = z.string().regex(/^\/[A-Za-z0-9._~\-/]*$/, "expected an absolute URL path such as /health");
const port = z.number().int().min(1).max(65535);
const imageRef = z
    .string()
    .min(1)
    .regex(/^[a-z0-9][a-z0-9._\-/:@]*$/i, "expected a container image reference such as registry/apfa:1.2.3");
const labelMap = z.record(
    z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:/=+\-@ ]{0,127}$/, "tag keys: 1-128 letters, digits, space or _.:/=+-@"),
    z.string().max(256),
);

/** The APFA container itself, the same on every target. */
const appSchema = z.strictObject({
    /** Port the APFA container listens on. @default 8000 */
    port: port.default(8000),
    /** Path that returns 200 when a replica can take traffic. @default "/health" */
    healthPath: urlPath.default("/health"),
    /** Path of the Prometheus text exposition. @default "/metrics" */
    metricsPath: urlPath.default("/metrics"),
    /** vCPU per replica (Fargate task size, Kubernetes request, Docker limit). @default 0.5 */
    cpu: z.number().positive().max(16).default(0.5),
    /** Memory per replica in MiB. @default 1024 */
    memoryMiB: z.number().int().min(128).max(122880).default(1024),
    /** Extra environment for every APFA replica of both slots. @default {} */
    env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "env names: A-Z, 0-9, _"), z.string()).default({}),
});

/** Replica autoscaling on the cloud targets (the dev stack runs a fixed count, see `docker`). */
const scalingSchema = z
    .strictObject({
        /** @default 4 */
        minReplicas: z.number().int().min(1).max(100).default(4),
        /** @default 16 */
        maxReplicas: z.number().int().min(1).max(100).default(16),
        /** Average CPU utilisation the scaler aims for, in percent. @default 70 */
        targetCpuPercent: z.number().int().min(10).max(95).default(70),
        /** @default 60 */
        scaleOutCooldownSeconds: z.number().int().min(0).max(3600).default(60),
        /** @default 300 */
        scaleInCooldownSeconds: z.number().int().min(0).max(3600).default(300),
    })
    .refine((s) => s.minReplicas <= s.maxReplicas, {
        message: "minReplicas must be less than or equal to maxReplicas",
        path: ["minReplicas"],
    });

const monitoringSchema = z.strictObject({
    /** Deploy Prometheus and Grafana. @default true */
    enabled: z.boolean().default(true),
    /** @default 15 */
    scrapeIntervalSeconds: z.number().int().min(5).max(300).default(15),
    /** Prometheus TSDB retention. @default 15 */
    retentionDays: z.number().int().min(1).max(365).default(15),
    /** Size of Prometheus's data volume where the platform sizes volumes. @default 20 */
    storageGiB: z.number().int().min(1).max(16384).default(20),
    /** Availability objective of APFA in percent, for the SLO rules and the error-budget view. @default 99.9 */
    sloObjectivePercent: z.number().gt(50).lt(100).default(99.9),
    /** p95 latency above which the HighLatency alert fires, in seconds. @default 0.5 */
    latencyP95ThresholdSeconds: z.number().positive().max(60).default(0.5),
    /** Base URL of the runbook every alert links to. */
    runbookBaseUrl: z.url().default("https://github.com/apfa/apfa-infra/blob/main/docs/runbooks.md"),
});

const slotSchema = z.strictObject({
    /** Image this slot runs. Required for the active slot on cloud targets. */
    image: imageRef.optional(),
    /** Extra environment for this slot only (e.g. the reference app's APFA_ERROR_RATIO). @default {} */
    env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "env names: A-Z, 0-9, _"), z.string()).default({}),
});

/** The blue/green release state. The release tool edits this key; people may too. */
const releaseSchema = z.strictObject({
    /** The slot that serves all traffic at rest. @default "blue" */
    active: z.enum(SLOTS).default("blue"),
    /** Percent of traffic sent to the other slot during a release. @default 0 */
    previewWeight: z.number().int().min(0).max(100).default(0),
    blue: slotSchema.prefault({}),
    green: slotSchema.prefault({}),
});

const dockerSchema = z.strictObject({
    /** Directory (relative to the project) that is built into the APFA image when a slot has no image. @default "app" */
    buildContext: z.string().min(1).default("app"),
    /** Fixed number of containers per slot. @default 2 */
    replicasPerSlot: z.number().int().min(1).max(8).default(2),
    /** Host port of the weighted proxy, bound to 127.0.0.1. @default 8000 */
    proxyPort: port.default(8000),
    /** Host port of Grafana, bound to 127.0.0.1. @default 3000 */
    grafanaPort: port.default(3000),
    /** Host port of Prometheus, bound to 127.0.0.1. @default 9090 */
    prometheusPort: port.default(9090),
});

const awsSchema = z.strictObject({
    /** Availability zones the VPC spans. @default 3 */
    availabilityZoneCount: z.number().int().min(2).max(6).default(3),
    /** VPC address range. @default "10.40.0.0/16" */
    vpcCidr: z.cidrv4().default("10.40.0.0/16"),
    /** NAT gateways: one per AZ (resilient) or a single one (cheaper, one AZ's failure cuts egress). @default "perAz" */
    natGateways: z.enum(["perAz", "single"]).default("perAz"),
    /** CPU architecture of the Fargate tasks. @default "X86_64" */
    cpuArchitecture: z.enum(["X86_64", "ARM64"]).default("X86_64"),
    /** ACM certificate for an HTTPS listener; HTTP then redirects to HTTPS. */
    certificateArn: z.string().regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/, "expected an ACM certificate ARN").optional(),
    /** How long the ALB drains a target before it is gone (fast rollback wants this short). @default 30 */
    deregistrationDelaySeconds: z.number().int().min(0).max(3600).default(30),
    /** Time ECS ignores failing load-balancer health checks of a new task. @default 60 */
    healthCheckGracePeriodSeconds: z.number().int().min(0).max(7200).default(60),
    /** CloudWatch Logs retention. @default 30 */
    logRetentionDays: z
        .union(
            [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653].map((d) =>
                z.literal(d),
            ) as unknown as [z.ZodLiteral<number>, z.ZodLiteral<number>, ...z.ZodLiteral<number>[]],
        )
        .default(30),
    /** Source ranges allowed to reach Grafana's operator listener. Empty: no listener; use SSM port forwarding. @default [] */
    operatorCidrs: z.array(z.cidrv4()).default([]),
});

const azureSchema = z.strictObject({
    /** Azure region. @default "westeurope" */
    location: z.string().regex(/^[a-z0-9]+$/, "expected an Azure region name such as westeurope").default("westeurope"),
    /** AKS Kubernetes version; unset lets AKS pick its default. */
    kubernetesVersion: z.string().regex(/^\d+\.\d+(\.\d+)?$/, "expected a version such as 1.33").optional(),
    /** VM size of the system pool. @default "Standard_D2ds_v5" */
    systemVmSize: z.string().default("Standard_D2ds_v5"),
    /** VM size of the APFA user pool. @default "Standard_D4ds_v5" */
    appVmSize: z.string().default("Standard_D4ds_v5"),
    /** Cluster-autoscaler bounds of the APFA user pool (total nodes across zones). @default 3 */
    appPoolMinNodes: z.number().int().min(0).max(1000).default(3),
    /** @default 10 */
    appPoolMaxNodes: z.number().int().min(1).max(1000).default(10),
    /** Availability zones of both pools. @default ["1","2","3"] */
    availabilityZones: z.array(z.enum(["1", "2", "3"])).min(1).default(["1", "2", "3"]),
    /** AKS API server SKU tier (Standard has the uptime SLA). @default "Standard" */
    skuTier: z.enum(["Free", "Standard", "Premium"]).default("Standard"),
});

const gcpSchema = z.strictObject({
    /** GCP project id. Falls back to the `gcp:project` provider setting. */
    project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "expected a GCP project id").optional(),
    /** Region of the regional GKE cluster. @default "europe-west1" */
    region: z.string().regex(/^[a-z]+-[a-z]+\d$/, "expected a GCP region such as europe-west1").default("europe-west1"),
    /** GKE release channel. @default "REGULAR" */
    releaseChannel: z.enum(["RAPID", "REGULAR", "STABLE", "EXTENDED"]).default("REGULAR"),
    /** Use GKE Autopilot instead of Standard with an APFA node pool. @default false */
    autopilot: z.boolean().default(false),
    /** Machine type of the APFA node pool. @default "e2-standard-4" */
    machineType: z.string().default("e2-standard-4"),
    /** Node-pool autoscaling bounds, per zone (a regional pool spans three zones). @default 1 */
    minNodesPerZone: z.number().int().min(0).max(1000).default(1),
    /** @default 4 */
    maxNodesPerZone: z.number().int().min(1).max(1000).default(4),
    /** Refuse `pulumi destroy` of the cluster until this is set false and applied. @default true */
    deletionProtection: z.boolean().default(true),
    /** GKE Gateway class of the public Gateway. @default "gke-l7-global-external-managed" */
    gatewayClass: z
        .enum(["gke-l7-global-external-managed", "gke-l7-regional-external-managed", "gke-l7-rilb", "gke-l7-gxlb"])
        .default("gke-l7-global-external-managed"),
});

/** Every `apfa:*` key a stack may set, with its schema. */
const stackSchema = z.strictObject({
    cloud: z.enum(CLOUDS),
    app: appSchema.prefault({}),
    scaling: scalingSchema.prefault({}),
    monitoring: monitoringSchema.prefault({}),
    release: releaseSchema.prefault({}),
    tags: labelMap.default({}),
    grafanaAdminPassword: z.string().min(12, "use at least 12 characters").optional(),
    docker: dockerSchema.optional(),
    aws: awsSchema.optional(),
    azure: azureSchema.optional(),
    gcp: gcpSchema.optional(),
});

type Parsed = z.output<typeof stackSchema>;

export type AppSettings = z.output<typeof appSchema>;
export type ScalingSettings = z.output<typeof scalingSchema>;
export type MonitoringSettings = z.output<typeof monitoringSchema>;
export type ReleaseState = z.output<typeof releaseSchema>;
export type SlotSettings = z.output<typeof slotSchema>;
export type DockerSettings = z.output<typeof dockerSchema>;
export type AwsSettings = z.output<typeof awsSchema>;
export type AzureSettings = z.output<typeof azureSchema>;
export type GcpSettings = z.output<typeof gcpSchema> & { project: string };

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
    readonly release: ReleaseState;
    /** User tags merged into every taggable resource (labels on Kubernetes and GCP). */
    readonly tags: Readonly<Record<string, string>>;
    /** Grafana admin password given in config (always a Pulumi secret); generated when absent. */
    readonly grafanaAdminPassword?: pulumi.Output<string>;
}

export type DockerConfig = CommonConfig & { readonly cloud: "docker"; readonly docker: DockerSettings };
export type AwsConfig = CommonConfig & { readonly cloud: "aws"; readonly aws: AwsSettings; readonly region: string };
export type AzureConfig = CommonConfig & { readonly cloud: "azure"; readonly azure: AzureSettings };
export type GcpConfig = CommonConfig & { readonly cloud: "gcp"; readonly gcp: GcpSettings };

/** The validated stack configuration, discriminated on `cloud`. */
export type ApfaConfig = DockerConfig | AwsConfig | AzureConfig | GcpConfig;

/** Stack config that failed validation. Its message lists every problem, one per line. */
export class ConfigError extends pulumi.RunError {
    constructor(public readonly problems: readonly string[]) {
        super(
            `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/** The raw input of {@link parseConfig}: config keys (e.g. `apfa:cloud`, `aws:region`) to values. */
export interface RawConfig {
    readonly values: Readonly<Record<string, unknown>>;
    readonly project: string;
    readonly stack: string;
}

/**
 * Reads the stack's config from the Pulumi runtime and validates it. The only reader of config.
 * @throws ConfigError listing every bad key.
 */
export function loadConfig(): ApfaConfig {
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        values[key] = decodeConfigValue(value);
    }
    const config = parseConfig({ values, project: pulumi.getProject(), stack: pulumi.getStack() });
    return config;
}

/** Pulumi hands structured config values over as JSON text; scalars stay strings. */
function decodeConfigValue(value: string): unknown {
    const trimmed = value.trimStart();
    if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
        try {
            return JSON.parse(value);
        } catch {
            return value;
        }
    }
    return value;
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
    const result = stackSchema.safeParse(own);
    if (!result.success) {
        for (const issue of result.error.issues) {
            problems.push(...describeIssue(issue, own));
        }
    }
    problems.push(...crossFieldProblems(own, raw.values));
    if (problems.length > 0 || !result.success) {
        throw new ConfigError(problems);
    }
    return toApfaConfig(result.data, raw);
}

/** Known top-level keys, for "did you mean" hints on misspelt ones. */
const KNOWN_KEYS = Object.keys(stackSchema.shape);

function describeIssue(issue: z.core.$ZodIssue, input: Record<string, unknown>): string[] {
    const where = formatPath(issue.path);
    if (issue.code === "unrecognized_keys") {
        const known = issue.path.length === 0 ? KNOWN_KEYS : undefined;
        return issue.keys.map((key) => {
            const full = formatPath([...issue.path, key]);
            const hint = known ? suggest(key, known) : undefined;
            return `${full}: unknown key${hint ? ` (did you mean ${NAMESPACE}:${hint}?)` : ""}`;
        });
    }
    if (valueAt(input, issue.path) === undefined) {
        return [`${where}: required (${issue.message.replace(/^Invalid (input|option): /, "")})`];
    }
    return [`${where}: ${issue.message}`];
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
    let node = root;
    for (const part of path) {
        if (node === null || typeof node !== "object") {
            return undefined;
        }
        node = (node as Record<PropertyKey, unknown>)[part];
    }
    return node;
}

function formatPath(path: readonly PropertyKey[]): string {
    if (path.length === 0) {
        return `${NAMESPACE}:*`;
    }
    const [head, ...rest] = path;
    let out = `${NAMESPACE}:${String(head)}`;
    for (const part of rest) {
        out += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
    }
    return out;
}

/** The closest known key within edit distance 2, if any. */
function suggest(key: string, known: readonly string[]): string | undefined {
    let best: string | undefined;
    let bestDistance = 3;
    for (const candidate of known) {
        const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
        if (d < bestDistance) {
            best = candidate;
            bestDistance = d;
        }
    }
    return best;
}

function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let previous = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const current = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
            previous = current;
        }
    }
    return row[b.length];
}

/**
 * Rules that span keys. They run on whatever parts are individually valid, so a stack with a bad
 * weight AND a bad Fargate size hears about both at once.
 */
function crossFieldProblems(own: Record<string, unknown>, all: Readonly<Record<string, unknown>>): string[] {
    const problems: string[] = [];
    const cloud = z.enum(CLOUDS).safeParse(own.cloud);
    if (!cloud.success) {
        return problems;
    }
    for (const other of CLOUDS) {
        if (other !== cloud.data && own[other] !== undefined) {
            problems.push(`${NAMESPACE}:${other}: only used when ${NAMESPACE}:cloud is ${other} (this stack uses ${cloud.data}); remove it`);
        }
    }

    const release = releaseSchema.safeParse(own.release ?? {});
    if (cloud.data !== "docker" && release.success && !release.data[release.data.active].image) {
        problems.push(
            `${NAMESPACE}:release.${release.data.active}.image: required on ${cloud.data}: the active slot (${release.data.active}) needs an image`,
        );
    }

    // Judge the Fargate size on the two fields alone, so another bad app.* key does not hide it.
    const rawApp = (own.app ?? {}) as Record<string, unknown>;
    const cpu = appSchema.shape.cpu.safeParse(rawApp.cpu);
    const memory = appSchema.shape.memoryMiB.safeParse(rawApp.memoryMiB);
    if (cloud.data === "aws" && cpu.success && memory.success && !isValidFargateSize(cpu.data, memory.data)) {
        problems.push(
            `${NAMESPACE}:app.cpu/memoryMiB: Fargate does not accept ${cpu.data} vCPU with ${memory.data} MiB; ` +
                describeFargateMemoryOptions(cpu.data),
        );
    }

    if (cloud.data === "aws" && typeof all["aws:region"] !== "string") {
        problems.push(`aws:region: required for the aws target (set it with \`pulumi config set aws:region eu-west-1\`)`);
    }

    if (cloud.data === "azure") {
        const azure = azureSchema.safeParse(own.azure ?? {});
        if (azure.success && azure.data.appPoolMinNodes > azure.data.appPoolMaxNodes) {
            problems.push(`${NAMESPACE}:azure.appPoolMinNodes: must be less than or equal to appPoolMaxNodes`);
        }
    }
    if (cloud.data === "gcp") {
        const gcp = gcpSchema.safeParse(own.gcp ?? {});
        if (gcp.success) {
            if (gcp.data.minNodesPerZone > gcp.data.maxNodesPerZone) {
                problems.push(`${NAMESPACE}:gcp.minNodesPerZone: must be less than or equal to maxNodesPerZone`);
            }
            if (!gcp.data.project && typeof all["gcp:project"] !== "string") {
                problems.push(`${NAMESPACE}:gcp.project: required (or set the gcp:project provider setting)`);
            }
        }
    }
    return problems;
}

function toApfaConfig(data: Parsed, raw: RawConfig): ApfaConfig {
    const common: CommonConfig = {
        project: raw.project,
        stack: raw.stack,
        prefix: `${raw.project}-${raw.stack}`,
        app: data.app,
        scaling: data.scaling,
        monitoring: data.monitoring,
        release: data.release,
        tags: data.tags,
        grafanaAdminPassword: data.grafanaAdminPassword === undefined ? undefined : pulumi.secret(data.grafanaAdminPassword),
    };
    switch (data.cloud) {
        case "docker":
            return { ...common, cloud: "docker", docker: data.docker ?? dockerSchema.parse({}) };
        case "aws":
            return { ...common, cloud: "aws", aws: data.aws ?? awsSchema.parse({}), region: String(raw.values["aws:region"]) };
        case "azure":
            return { ...common, cloud: "azure", azure: data.azure ?? azureSchema.parse({}) };
        case "gcp": {
            const gcp = data.gcp ?? gcpSchema.parse({});
            return { ...common, cloud: "gcp", gcp: { ...gcp, project: gcp.project ?? String(raw.values["gcp:project"]) } };
        }
    }
}

/** JSON Schema of every `apfa:*` key, for editors and docs (`npm run schema`). */
export function configJsonSchema(): unknown {
    return z.toJSONSchema(stackSchema, { io: "input" });
}
