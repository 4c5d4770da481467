/**
 * What a release command needs to know about the stack, read once per command through the
 * {@link StackDriver} and validated by the program's own config parser (so the release tool and
 * `pulumi up` agree on every value and default).
 */
import { NAMESPACE, parseConfig, parseRolloutSettings, type ApfaConfig, type ReleaseState, type RolloutSettings } from "../../src/config";
import { FLOOR_TARGETS, type ReplicaRange } from "./capacity";
import type { StackDriver } from "./driver";

export interface ReleaseContext {
    readonly stack: string;
    readonly config: ApfaConfig;
    readonly rollout: RolloutSettings;
    /** Replicas a slot must have up before it takes traffic. */
    readonly expectedReplicas: number;
    /**
     * The autoscaler's bounds within which the release sets the slots' replica floors before each
     * shift (capacity follows the weight); undefined where the target takes no floor
     * ({@link FLOOR_TARGETS}: docker's count is fixed).
     */
    readonly capacity?: ReplicaRange;
    /** The raw config values read (namespaced, {@link RELEASE_CONFIG_KEYS}), e.g. `aws:region`. */
    readonly values: Readonly<Record<string, unknown>>;
}

/**
 * The config keys a release command reads, and why; nothing else is read, so no secret (e.g.
 * `apfa:grafanaAdminPassword`) is ever decrypted for a release. Keys left out take the program's
 * defaults in the validation below, which the tool does not use.
 */
export const RELEASE_CONFIG_KEYS = [
    /** The target: what a release can do there and how traffic moves. */
    `${NAMESPACE}:cloud`,
    /** The release state the tool drives. */
    `${NAMESPACE}:release`,
    /** Steps, bakes, windows, analysis thresholds. */
    `${NAMESPACE}:rollout`,
    /** The health path the Prometheus analysis probes. */
    `${NAMESPACE}:app`,
    /** The replicas a new slot must reach (minReplicas), and the bounds of the replica floors. */
    `${NAMESPACE}:scaling`,
    /** The scrape interval (analysis window check, rollback budget). */
    `${NAMESPACE}:monitoring`,
    /** Replicas per slot on the docker target. */
    `${NAMESPACE}:docker`,
    /** Deregistration delay (rollback budget) on aws. */
    `${NAMESPACE}:aws`,
    /** Connection draining (rollback budget) on gcp. */
    `${NAMESPACE}:gcp`,
    /** The CloudWatch region on aws (and required by the aws config). */
    "aws:region",
    /** The project, which a gcp config requires when apfa:gcp.project is unset. */
    "gcp:project",
] as const;

/** Validates the stack's config; throws the program's ConfigError listing every problem. */
export function contextFromValues(stack: string, values: Readonly<Record<string, unknown>>): ReleaseContext {
    const config = parseConfig({ values, project: NAMESPACE, stack });
    const rollout = parseRolloutSettings(values[`${NAMESPACE}:rollout`]);
    return { stack, config, rollout, expectedReplicas: expectedReplicas(config), capacity: capacityRange(config), values };
}

/** Reads {@link RELEASE_CONFIG_KEYS} through the driver and validates them. */
export async function loadContext(driver: StackDriver): Promise<ReleaseContext> {
    return contextFromValues(driver.stack, await driver.readConfig(RELEASE_CONFIG_KEYS));
}

/**
 * Replicas per slot the new slot must reach before traffic moves: the fixed count on Docker, the
 * autoscaler's minimum elsewhere (a slot at 0 % runs its minimum).
 */
export function expectedReplicas(config: ApfaConfig): number {
    return config.cloud === "docker" ? config.docker.replicasPerSlot : config.scaling.minReplicas;
}

/** The bounds of the slots' replica floors: `apfa:scaling` where the target takes floors, else none. */
export function capacityRange(config: ApfaConfig): ReplicaRange | undefined {
    return FLOOR_TARGETS[config.cloud] ? { minReplicas: config.scaling.minReplicas, maxReplicas: config.scaling.maxReplicas } : undefined;
}

/** The release state in the context (validated with defaults). */
export function releaseOf(context: ReleaseContext): ReleaseState {
    return context.config.release;
}
