/**
 * The values the APFA chart gets for a slot, as a pure function of the typed config. The tests
 * hand exactly these values to real `helm template`, so what they check is what gets deployed.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import type { AzureConfig, GcpConfig, Slot } from "../config";
import { slotImage } from "../bluegreen";
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

/**
 * The chart values of one slot: image from the release state (a slot without its own image runs
 * the active slot's), env = app env + the slot's env (the chart adds SLOT and PORT), requests =
 * limits = the app's CPU and memory (Guaranteed QoS, the same size as a Fargate task or Docker
 * container of the other targets), HPA bounds and target from `config.scaling`, probes on the
 * health path, the stack's tags as labels; a scaled-down slot gets no HPA and zero replicas.
 * `extra` (e.g. nodeSelector) is merged over them.
 * @throws Error when neither the slot nor the active slot has an image (config validation
 *   prevents this for cloud stacks).
 */
export function chartValues(config: KubernetesConfig, slot: Slot, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const image = slotImage(config.release, slot);
    if (image === undefined) {
        throw new Error(`apfa:release.${slot}.image: no image for slot ${slot} and none for the active slot ${config.release.active}`);
    }
    const { app, scaling } = config;
    // A scaled-down slot (the release tool's end of a rollback window) keeps its Services as a
    // 0-weight backend but runs no pods: no HPA (it cannot go below 1), zero replicas.
    const scaledDown = config.release[slot].scaledDown;
    const size = { cpu: cpuQuantity(app.cpu), memory: memoryQuantity(app.memoryMiB) };
    const values: Record<string, unknown> = {
        slot,
        image,
        port: app.port,
        healthPath: app.healthPath,
        metricsPath: app.metricsPath,
        env: { ...app.env, ...config.release[slot].env },
        replicaCount: scaledDown ? 0 : scaling.minReplicas,
        autoscaling: {
            enabled: !scaledDown,
            minReplicas: scaling.minReplicas,
            maxReplicas: scaling.maxReplicas,
            targetCPUUtilizationPercentage: scaling.targetCpuPercent,
            scaleUpStabilizationWindowSeconds: scaling.scaleOutCooldownSeconds,
            scaleDownStabilizationWindowSeconds: scaling.scaleInCooldownSeconds,
        },
        resources: { requests: size, limits: size },
        commonLabels: { ...tagsToLabels(config.tags), "apfa.io/stack": toLabelValue(config.stack) },
    };
    return mergeValues(values, extra);
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
