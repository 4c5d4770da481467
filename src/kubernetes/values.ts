/**
 * The values the APFA chart gets for a slot, as a pure function of the typed config. The tests
 * hand exactly these values to real `helm template`, so what they check is what gets deployed.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import type { AzureConfig, GcpConfig, Slot } from "../config";
import { slotImage, slotReplicaBounds } from "../bluegreen";
import { tagsToLabels, toLabelValue } from "./labels";

/** Typed config of a stack that deploys to Kubernetes. */
export type KubernetesConfig = AzureConfig | GcpConfig;

/**
 * The chart, relative to the project directory (where Pulumi runs the program). Relative on
 * purpose: an absolute path would differ between machines and make every `up` a Helm upgrade.
 */
export const CHART_PATH = "./charts/apfa";

/** CPU in vCPU as a Kubernetes quantity: whole cores as "2", fractions as millicores ("500m"). */
export function cpuQuantity(vcpu: number): string {
    if (!(vcpu > 0)) {
        throw new RangeError(`CPU must be positive, got ${vcpu}`);
    }
    const millicores = Math.max(1, Math.round(vcpu * 1000));
    return millicores % 1000 === 0 ? String(millicores / 1000) : `${millicores}m`;
}

/** Memory in MiB as a Kubernetes quantity. */
export function memoryQuantity(mebibytes: number): string {
    return `${mebibytes}Mi`;
}

/**
 * Local ephemeral storage of every container the layer runs (APFA, Prometheus, Grafana): the
 * kubelet counts the container's writable layer, its logs and its disk-backed emptyDirs against it.
 * All of them run with a read-only root filesystem and a 64 MiB /tmp, so the rest is logs: the
 * kubelet rotates them at 10 MiB x 5 files by default on GKE, AKS allows more (containerLogMaxSizeMB),
 * hence a 1 GiB limit and a 256 MiB request for scheduling.
 */
export const EPHEMERAL_STORAGE = { request: "256Mi", limit: "1Gi" } as const;

/**
 * How a platform's load balancer lets go of a terminating replica. The chart's preStop sleep and
 * termination grace period come from it (see {@link podTermination}).
 */
export interface PodDrain {
    /**
     * Seconds a terminating replica keeps serving before it gets SIGTERM: about the time the
     * platform's load balancer needs to stop sending it new requests.
     */
    readonly preStopSleepSeconds: number;
    /**
     * Seconds the load balancer keeps in-flight requests on an endpoint it removed (GKE's
     * connection draining); 0 where the proxy finishes them by itself.
     */
    readonly loadBalancerDrainSeconds: number;
}

/** What the reference app waits for in-flight requests after SIGTERM (its SHUTDOWN_TIMEOUT_MS default). */
export const DEFAULT_APP_DRAIN_SECONDS = 10;
/** Added to the grace period so the kubelet's SIGKILL never races the app's own exit. */
export const TERMINATION_MARGIN_SECONDS = 5;

/**
 * Seconds APFA itself takes to drain after SIGTERM: `SHUTDOWN_TIMEOUT_MS` of the slot's environment
 * when it is a whole number of milliseconds (rounded up to seconds), else the reference app's
 * default. An image that drains longer should set that variable, so the grace period follows.
 */
export function appDrainSeconds(env: Readonly<Record<string, string>>): number {
    const raw = env.SHUTDOWN_TIMEOUT_MS;
    if (raw !== undefined && /^\d+$/.test(raw.trim()) && Number(raw) > 0) {
        return Math.ceil(Number(raw) / 1000);
    }
    return DEFAULT_APP_DRAIN_SECONDS;
}

/**
 * The chart's preStop sleep and termination grace period for a platform. The grace period counts
 * from the start of termination, preStop included, so it must cover the preStop sleep, then the
 * load balancer's draining of requests already in flight, then the app's own drain, plus a margin.
 */
export function podTermination(drain: PodDrain, appDrain: number): { preStopSleepSeconds: number; terminationGracePeriodSeconds: number } {
    for (const [name, value] of Object.entries({ ...drain, appDrain })) {
        if (!Number.isInteger(value) || value < 0) {
            throw new RangeError(`${name} must be a whole number of seconds >= 0, got ${value}`);
        }
    }
    return {
        preStopSleepSeconds: drain.preStopSleepSeconds,
        terminationGracePeriodSeconds: drain.preStopSleepSeconds + drain.loadBalancerDrainSeconds + appDrain + TERMINATION_MARGIN_SECONDS,
    };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Merges Helm values the way Helm merges a values file over defaults: objects recursively, any
 * other value (arrays included) replaced. Inputs are not modified.
 */
export function mergeValues(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(override)) {
        const current = out[key];
        out[key] = isPlainObject(current) && isPlainObject(value) ? mergeValues(current, value) : value;
    }
    return out;
}

/** What a platform adds to the chart values of both slots. */
export interface ChartPlatform {
    /** How the platform's load balancer drains a terminating replica. */
    readonly drain: PodDrain;
    /** Extra values merged over the computed ones (e.g. nodeSelector). @default {} */
    readonly values?: Record<string, unknown>;
}

/**
 * The chart values of one slot: image from the release state (a slot without its own image runs
 * the active slot's), env = app env + the slot's env (the chart adds SLOT, PORT and METRICS_PORT),
 * the app port and the separate metrics port, requests = limits = the app's CPU and memory
 * (Guaranteed QoS, the same size as a Fargate task or Docker container of the other targets) plus
 * ephemeral storage, HPA bounds and target from `config.scaling`, probes on the health path, the
 * platform's preStop sleep and grace period ({@link podTermination}), the stack's tags as labels;
 * a scaled-down slot gets no HPA and zero replicas. `platform.values` (e.g. nodeSelector) is
 * merged over them.
 * @throws Error when neither the slot nor the active slot has an image (config validation
 *   prevents this for cloud stacks).
 */
export function chartValues(config: KubernetesConfig, slot: Slot, platform: ChartPlatform): Record<string, unknown> {
    const image = slotImage(config.release, slot);
    if (image === undefined) {
        throw new Error(`apfa:release.${slot}.image: no image for slot ${slot} and none for the active slot ${config.release.active}`);
    }
    const { app, scaling } = config;
    // A scaled-down slot (the release tool's end of a rollback window) keeps its Services as a
    // 0-weight backend but runs no pods: no HPA (it cannot go below 1), zero replicas.
    const scaledDown = config.release[slot].scaledDown;
    // The release tool's replica floor (apfa:release.<slot>.minReplicas) raises the HPA's minimum
    // before traffic moves to the slot; 0..0 when scaled down.
    const bounds = slotReplicaBounds(config, slot);
    const size = { cpu: cpuQuantity(app.cpu), memory: memoryQuantity(app.memoryMiB) };
    const env = { ...app.env, ...config.release[slot].env };
    const values: Record<string, unknown> = {
        slot,
        image,
        port: app.port,
        metricsPort: app.metricsPort,
        healthPath: app.healthPath,
        metricsPath: app.metricsPath,
        env,
        replicaCount: bounds.min,
        autoscaling: {
            enabled: !scaledDown,
            minReplicas: scaledDown ? scaling.minReplicas : bounds.min,
            maxReplicas: scaling.maxReplicas,
            targetCPUUtilizationPercentage: scaling.targetCpuPercent,
            scaleUpStabilizationWindowSeconds: scaling.scaleOutCooldownSeconds,
            scaleDownStabilizationWindowSeconds: scaling.scaleInCooldownSeconds,
        },
        resources: {
            requests: { ...size, "ephemeral-storage": EPHEMERAL_STORAGE.request },
            limits: { ...size, "ephemeral-storage": EPHEMERAL_STORAGE.limit },
        },
        ...podTermination(platform.drain, appDrainSeconds(env)),
        commonLabels: { ...tagsToLabels(config.tags), "apfa.io/stack": toLabelValue(config.stack) },
    };
    return mergeValues(values, platform.values ?? {});
}

/**
 * Fingerprint of the chart's files. Helm releases of a local chart are upgraded when their inputs
 * change, not when a template does; passing this as the release description makes a chart edit an
 * upgrade too.
 */
export function chartDigest(chartDir: string): string {
    const hash = createHash("sha256");
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) {
                walk(full);
            } else if (entry.isFile()) {
                hash.update(path.relative(chartDir, full).split(path.sep).join("/"));
                hash.update("\0");
                hash.update(fs.readFileSync(full));
                hash.update("\0");
            }
        }
    };
    walk(chartDir);
    return hash.digest("hex");
}
