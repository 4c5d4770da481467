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
import { vpcCidrProblem } from "./targets/aws/subnets";
import { labelKeyCollisions } from "./targets/gcp/labels";
import { GKE_GATEWAY_CLASSES, needsProxyOnlySubnet, overlappingRanges } from "./targets/gcp/network";
import { azureNetworkProblems } from "./targets/azure/network";

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
    /**
     * The slot runs no replicas (set by the release tool when a rollback window ends). Targets keep
     * its routing backend (target group, Service) with weight 0 and scale its workload to zero.
     * @default false
     */
    scaledDown: z.boolean().default(false),
});

/** Phases of a release driven by `npm run release` (src/release/machine.ts). */
export const RELEASE_PHASES = ["deploying", "shifting", "promoted", "completed", "rollingBack", "rolledBack"] as const;
export type ReleasePhase = (typeof RELEASE_PHASES)[number];
const isoTime = z.iso.datetime({ offset: true });

/** The release in progress (or the last one), recorded by the release tool. Targets ignore it. */
const releaseProgressSchema = z.strictObject({
    /** Release id, e.g. "20260726-101500-green". */
    id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "expected a release id such as 20260726-101500-green"),
    /** The new image; absent on the docker target when the release runs the build context. */
    image: imageRef.optional(),
    /** The slot traffic moves away from, and its image at the start. */
    from: z.enum(SLOTS),
    fromImage: imageRef.optional(),
    /** The slot the new image runs on. */
    to: z.enum(SLOTS),
    /** The new slot's traffic percent per step, fixed when the release started. */
    steps: z.array(z.number().int().min(1).max(100)).min(1).max(20),
    phase: z.enum(RELEASE_PHASES),
    /** Index into `steps` of the current step; -1 while the new slot is deployed and checked. */
    stepIndex: z.number().int().min(-1).max(20),
    startedAt: isoTime,
    stepStartedAt: isoTime,
    /** End of the rollback window after promotion. */
    windowEndsAt: isoTime.optional(),
    endedAt: isoTime.optional(),
    /** An operator paused the release: no further step until `release resume`. */
    paused: z.boolean().default(false),
    /** An operator asked to promote now (`release promote`), skipping the remaining steps. */
    promoteRequested: z.boolean().default(false),
    /** URN of the resource carrying the weights (the target of the rollback's `pulumi up --target`). */
    trafficUrn: z.string().min(1),
    /** Why the release ended as it did (e.g. the analysis that rolled it back). */
    reason: z.string().max(1000).optional(),
    lastAnalysis: z
        .strictObject({
            at: isoTime,
            decision: z.enum(["continue", "hold", "rollback"]),
            reasons: z.array(z.string().max(400)).max(12),
        })
        .optional(),
    /** The process driving the release, refreshed every analysis; a stale heartbeat means it is gone. */
    driver: z.strictObject({ host: z.string().max(255), pid: z.number().int().min(0), heartbeatAt: isoTime }).optional(),
});

/** The blue/green release state. The release tool edits this key; people may too. */
const releaseSchema = z
    .strictObject({
        /** The slot that serves all traffic at rest. @default "blue" */
        active: z.enum(SLOTS).default("blue"),
        /** Percent of traffic sent to the other slot during a release. @default 0 */
        previewWeight: z.number().int().min(0).max(100).default(0),
        blue: slotSchema.prefault({}),
        green: slotSchema.prefault({}),
        /** Written by the release tool; absent until the first `npm run release -- start`. */
        progress: releaseProgressSchema.optional(),
    })
    .superRefine((release, ctx) => {
        for (const slot of SLOTS) {
            const weight = slot === release.active ? 100 - release.previewWeight : release.previewWeight;
            if (release[slot].scaledDown && weight > 0) {
                ctx.addIssue({ code: "custom", path: [slot, "scaledDown"], message: `a scaled-down slot cannot take traffic (it would get ${weight} %)` });
            }
        }
        if (release.progress && release.progress.from === release.progress.to) {
            ctx.addIssue({ code: "custom", path: ["progress", "to"], message: "must differ from progress.from" });
        }
    });

/** One rollout step: the new slot's traffic percent, optionally with its own bake time. */
const rolloutStepSchema = z.union([
    z.number().int().min(1).max(100),
    z.strictObject({ weight: z.number().int().min(1).max(100), bakeMinutes: z.number().min(0).max(1440) }),
]);

/** How the release tool judges the new slot during each bake (src/release/analysis.ts). */
const rolloutAnalysisSchema = z.strictObject({
    /** Seconds between two analyses (a term of the rollback time: see `npm run bench:rollback`). @default 5 */
    intervalSeconds: z.number().int().min(1).max(600).default(5),
    /** Metrics window each analysis reads, in seconds (CloudWatch rounds it up to whole minutes). @default 60 */
    windowSeconds: z.number().int().min(10).max(3600).default(60),
    /** Fewest new-slot requests in the window before judging it; fewer means "hold". @default 50 */
    minRequests: z.number().int().min(1).max(1_000_000).default(50),
    /** Highest 5xx ratio of the new slot (0.01 = 1 %), judged on its one-sided 95 % lower bound. @default 0.01 */
    maxErrorRatio: z.number().min(0).max(1).default(0.01),
    /** The new slot's error ratio may reach the old slot's times this factor, plus errorRatioMargin. @default 2 */
    errorRatioFactor: z.number().min(1).max(100).default(2),
    /** @default 0.002 */
    errorRatioMargin: z.number().min(0).max(1).default(0.002),
    /** Highest p95 latency of the new slot, in seconds. @default 0.5 */
    maxP95Seconds: z.number().positive().max(600).default(0.5),
    /** The new slot's p95 may reach the old slot's times this factor, plus p95MarginSeconds. @default 1.5 */
    p95Factor: z.number().min(1).max(100).default(1.5),
    /** @default 0.05 */
    p95MarginSeconds: z.number().min(0).max(60).default(0.05),
    /** Failed analyses in a row that trigger the rollback. @default 1 */
    failureThreshold: z.number().int().min(1).max(20).default(1),
    /** How long a step may wait past its bake for enough traffic to judge, in minutes. @default 10 */
    maxHoldMinutes: z.number().min(0).max(1440).default(10),
    /** When a step is still undecided after maxHoldMinutes: roll back, or pause for an operator. @default "rollback" */
    onInconclusive: z.enum(["rollback", "pause"]).default("rollback"),
});

/** The rollout policy of `npm run release` (read by the release tool only; the program ignores it). */
const rolloutSchema = z.strictObject({
    /** The new slot's traffic percent per step, rising, ending at 100. @default [10, 50, 100] */
    steps: z
        .array(rolloutStepSchema)
        .min(1)
        .max(20)
        .default([10, 50, 100])
        .refine((steps) => steps.every((s, i) => i === 0 || weightOf(s) > weightOf(steps[i - 1])), "steps must rise")
        .refine((steps) => steps.length === 0 || weightOf(steps[steps.length - 1]) === 100, "the last step must be 100"),
    /** Bake time of every step that does not set its own, in minutes. @default 15 */
    bakeMinutes: z.number().min(0).max(1440).default(15),
    /** Longest wait for the new slot's replicas to be up once it is deployed, in minutes. @default 10 */
    healthTimeoutMinutes: z.number().min(0.5).max(120).default(10),
    /** How long the old slot keeps running after promotion, for an instant rollback, in minutes. @default 60 */
    rollbackWindowMinutes: z.number().min(0).max(10080).default(60),
    /** Metrics for the analysis: the stack's Prometheus, or CloudWatch target-group metrics (aws only). @default "prometheus" */
    metricsSource: z.enum(["prometheus", "cloudwatch"]).default("prometheus"),
    analysis: rolloutAnalysisSchema.prefault({}),
});

function weightOf(step: z.output<typeof rolloutStepSchema>): number {
    return typeof step === "number" ? step : step.weight;
}

export type ReleaseProgress = z.output<typeof releaseProgressSchema>;
export type RolloutSettings = z.output<typeof rolloutSchema>;
export type RolloutAnalysisSettings = z.output<typeof rolloutAnalysisSchema>;
/** What may be written to `apfa:release` (defaults not yet applied). */
export type ReleaseStateInput = z.input<typeof releaseSchema>;

/**
 * Validates an `apfa:release` value (pure).
 * @throws ConfigError naming every bad field.
 */
export function parseReleaseState(raw: unknown): ReleaseState {
    return parseSection("release", releaseSchema, raw);
}

/**
 * Validates an `apfa:rollout` value and fills its defaults (pure).
 * @throws ConfigError naming every bad field.
 */
export function parseRolloutSettings(raw: unknown): RolloutSettings {
    return parseSection("rollout", rolloutSchema, raw);
}

function parseSection<T extends z.ZodType>(key: string, schema: T, raw: unknown): z.output<T> {
    const result = schema.safeParse(raw ?? {});
    if (!result.success) {
        throw new ConfigError(result.error.issues.flatMap((issue) => describeIssue({ ...issue, path: [key, ...issue.path] }, { [key]: raw })));
    }
    return result.data;
}

const dockerSchema = z.strictObject({
    /** Directory (relative to the project) that is built into the APFA image when a slot has no image. @default "app" */
    buildContext: z.string().min(1).default("app"),
    /** Fixed number of containers per slot. @default 2 */
    replicasPerSlot: z.number().int().min(1).max(8).default(2),
    /** Host port of the weighted proxy, bound to 127.0.0.1. @default 8000 */
    proxyPort: port.default(8000),
});

const awsSchema = z.strictObject({
    /** Availability zones the VPC spans. @default 3 */
    availabilityZoneCount: z.number().int().min(2).max(6).default(3),
    /** VPC address range, /16 to /21: public subnets are /n+6 and ALB subnets must be /27 or larger (see targets/aws/subnets.ts). @default "10.40.0.0/16" */
    vpcCidr: z
        .cidrv4()
        .superRefine((cidr, ctx) => {
            const problem = vpcCidrProblem(cidr);
            if (problem) {
                ctx.addIssue({ code: "custom", message: problem });
            }
        })
        .default("10.40.0.0/16"),
    /** NAT gateways: one per AZ (resilient) or a single one (cheaper, one AZ's failure cuts egress). @default "perAz" */
    natGateways: z.enum(["perAz", "single"]).default("perAz"),
    /** CPU architecture of the Fargate tasks. @default "X86_64" */
    cpuArchitecture: z.enum(["X86_64", "ARM64"]).default("X86_64"),
    /** Host name users reach APFA at (a DNS record you point at the ALB); the `url` output uses it. */
    domainName: z
        .string()
        .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "expected a lower-case DNS name such as apfa.example.com")
        .optional(),
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
    /** Source ranges allowed to reach the operator listeners (Grafana 3000, Prometheus 9090). Empty: none; use SSM port forwarding. @default [] */
    operatorCidrs: z.array(z.cidrv4()).default([]),
});

const azureSchema = z.strictObject({
    /** Azure region. @default "westeurope" */
    location: z.string().regex(/^[a-z0-9]+$/, "expected an Azure region name such as westeurope").default("westeurope"),
    /**
     * AKS Kubernetes version as major.minor (e.g. "1.33"); unset lets AKS pick its default. No
     * patch: the cluster's `patch` upgrade channel moves the patch itself, and a pinned patch would
     * make the next `pulumi up` ask AKS for a downgrade.
     */
    kubernetesVersion: z
        .string()
        .regex(
            /^\d+\.\d+$/,
            'expected major.minor such as "1.33" (no patch: the patch upgrade channel keeps the cluster on the latest patch of that minor)',
        )
        .optional(),
    /** VM size of the system pool; applied at cluster creation (later: `az aks nodepool`). @default "Standard_D2ds_v5" */
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
    /** Fixed node count of the system pool (critical add-ons only), spread over the zones; applied at cluster creation (later: `az aks nodepool scale`). @default 3 */
    systemPoolNodes: z.number().int().min(1).max(100).default(3),
    /** VNet address range. @default "10.60.0.0/16" */
    vnetCidr: z.cidrv4().default("10.60.0.0/16"),
    /** Node subnet inside the VNet (Azure CNI Overlay: nodes only, pods use podCidr). @default "10.60.0.0/20" */
    nodeSubnetCidr: z.cidrv4().default("10.60.0.0/20"),
    /** Overlay range of pod addresses; never routed in the VNet. @default "10.244.0.0/16" */
    podCidr: z.cidrv4().default("10.244.0.0/16"),
    /** Range of Service cluster IPs; the DNS Service takes its 10th address. @default "10.0.0.0/16" */
    serviceCidr: z.cidrv4().default("10.0.0.0/16"),
    /** Source ranges allowed to reach the Kubernetes API server; empty allows any (certificate auth still applies). @default [] */
    apiServerAuthorizedIpRanges: z.array(z.cidrv4()).default([]),
    /** Resource id of an Azure Container Registry the nodes pull APFA's image from (grants AcrPull to the kubelet identity). */
    acrResourceId: z
        .string()
        .regex(
            /^\/subscriptions\/[0-9a-fA-F-]{36}\/resourceGroups\/[^/]+\/providers\/Microsoft\.ContainerRegistry\/registries\/[A-Za-z0-9]+$/,
            "expected /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.ContainerRegistry/registries/<name>",
        )
        .optional(),
}).superRefine((azure, ctx) => {
    for (const message of azureNetworkProblems(azure)) {
        ctx.addIssue({ code: "custom", message });
    }
    if (new Set(azure.availabilityZones).size !== azure.availabilityZones.length) {
        ctx.addIssue({ code: "custom", path: ["availabilityZones"], message: "zones must not repeat" });
    }
});

const gcpSchema = z.strictObject({
    /** GCP project id. Falls back to the `gcp:project` provider setting. */
    project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "expected a GCP project id").optional(),
    /** Region of the regional GKE cluster. @default "europe-west1" */
    region: z.string().regex(/^[a-z]+-[a-z]+\d$/, "expected a GCP region such as europe-west1").default("europe-west1"),
    /** GKE release channel. @default "REGULAR" */
    releaseChannel: z.enum(["RAPID", "REGULAR", "STABLE", "EXTENDED"]).default("REGULAR"),
    /**
     * GKE Autopilot instead of Standard with an APFA node pool. Not supported: the provider cannot
     * reliably give Autopilot nodes a dedicated least-privilege service account
     * (hashicorp/terraform-provider-google#23550, #9505), and node-pool bounds do not apply there.
     * @default false
     */
    autopilot: z
        .boolean()
        .default(false)
        .refine((autopilot) => !autopilot, {
            message:
                "Autopilot is not supported by this program (no dedicated least-privilege node service account, no APFA node pool); " +
                "remove the key to deploy GKE Standard with an autoscaling APFA node pool",
        }),
    /** Machine type of the APFA node pool. @default "e2-standard-4" */
    machineType: z.string().default("e2-standard-4"),
    /**
     * Node-pool autoscaling bounds, PER ZONE: a regional pool runs in the region's (by default three)
     * cluster zones, so the pool's total is this times the number of zones. @default 1
     */
    minNodesPerZone: z.number().int().min(0).max(1000).default(1),
    /** @default 4 */
    maxNodesPerZone: z.number().int().min(1).max(1000).default(4),
    /** Refuse `pulumi destroy` of the cluster until this is set false and applied. @default true */
    deletionProtection: z.boolean().default(true),
    /**
     * GKE Gateway class of the public Gateway. The regional classes (`gke-l7-regional-external-managed`,
     * `gke-l7-rilb`) get a proxy-only subnet; `gke-l7-rilb` is internal (reachable from the VPC only).
     * @default "gke-l7-global-external-managed"
     */
    gatewayClass: z.enum(GKE_GATEWAY_CLASSES).default("gke-l7-global-external-managed"),
    /** Primary range of the nodes' subnet. @default "10.60.0.0/20" */
    subnetCidr: z.cidrv4().default("10.60.0.0/20"),
    /** Secondary range of the subnet for Pod IPs (VPC-native; a /24 per node). @default "10.64.0.0/14" */
    podsCidr: z.cidrv4().default("10.64.0.0/14"),
    /** Secondary range of the subnet for Service cluster IPs. @default "10.68.0.0/20" */
    servicesCidr: z.cidrv4().default("10.68.0.0/20"),
    /** The /28 of the control plane's private endpoint (private nodes reach it here). @default "172.16.0.0/28" */
    masterCidr: z
        .cidrv4()
        .refine((cidr) => cidr.endsWith("/28"), "GKE needs a /28 for the control plane")
        .default("172.16.0.0/28"),
    /** Proxy-only subnet, created only for the regional Gateway classes. @default "10.69.0.0/23" */
    proxyOnlyCidr: z.cidrv4().default("10.69.0.0/23"),
    /**
     * Source ranges allowed to reach the control plane's public endpoint (master authorized
     * networks). Unset: any address may connect, and every request still needs Google IAM.
     */
    masterAuthorizedCidrs: z.array(z.cidrv4()).min(1).optional(),
    /** Seconds a removed endpoint (scale-in, rollout) keeps serving its in-flight requests at the load balancer. @default 30 */
    connectionDrainingSeconds: z.number().int().min(0).max(3600).default(30),
});

/** Every `apfa:*` key a stack may set, with its schema. */
const stackSchema = z.strictObject({
    cloud: z.enum(CLOUDS),
    app: appSchema.prefault({}),
    scaling: scalingSchema.prefault({}),
    monitoring: monitoringSchema.prefault({}),
    release: releaseSchema.prefault({}),
    rollout: rolloutSchema.prefault({}),
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
    /** Keys whose value is, or contains, a Pulumi secret (`pulumi config set --secret`). @default [] */
    readonly secretKeys?: readonly string[];
}

/** The one `apfa:*` key that may hold a secret: the program keeps it secret end to end. */
const SECRET_KEY = "grafanaAdminPassword";

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
    for (const key of raw.secretKeys ?? []) {
        if (key.startsWith(prefix) && key !== `${prefix}${SECRET_KEY}`) {
            problems.push(
                `${key}: holds a secret value, but only ${prefix}${SECRET_KEY} is kept secret by this program; ` +
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
            const ranges: Record<string, string> = {
                subnetCidr: gcp.data.subnetCidr,
                podsCidr: gcp.data.podsCidr,
                servicesCidr: gcp.data.servicesCidr,
                masterCidr: gcp.data.masterCidr,
            };
            if (needsProxyOnlySubnet(gcp.data.gatewayClass)) {
                ranges.proxyOnlyCidr = gcp.data.proxyOnlyCidr;
            }
            for (const overlap of overlappingRanges(ranges)) {
                problems.push(`${NAMESPACE}:gcp: ${overlap}; GKE needs disjoint ranges`);
            }
        }
        const tags = labelMap.safeParse(own.tags ?? {});
        if (tags.success) {
            for (const keys of labelKeyCollisions(tags.data)) {
                problems.push(`${NAMESPACE}:tags: ${keys.join(", ")} become the same GCP label key; keep one`);
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

/** JSON Schema of every `apfa:*` key, for editors and docs (`npm run -s schema > apfa-config.schema.json`). */
export function configJsonSchema(): unknown {
    return z.toJSONSchema(stackSchema, { io: "input" });
}
