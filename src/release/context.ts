/**
 * What a release command needs to know about the stack, read once per command through the
 * {@link StackDriver} and validated by the program's own config parser (so the release tool and
 * `pulumi up` agree on every value and default).
 */
import { NAMESPACE, parseConfig, parseRolloutSettings, type ApfaConfig, type ReleaseState, type RolloutSettings } from "../config";
import type { StackDriver } from "./driver";

export interface ReleaseContext {
    readonly stack: string;
    readonly config: ApfaConfig;
    readonly rollout: RolloutSettings;
    /** Replicas a slot must have up before it takes traffic. */
    readonly expectedReplicas: number;
    /** The raw config values (namespaced), e.g. for `aws:region`. */
    readonly values: Readonly<Record<string, unknown>>;
}

/** Validates the stack's config; throws the program's ConfigError listing every problem. */
export function contextFromValues(stack: string, values: Readonly<Record<string, unknown>>): ReleaseContext {
    const config = parseConfig({ values, project: NAMESPACE, stack });
    const rollout = parseRolloutSettings(values[`${NAMESPACE}:rollout`]);
    return { stack, config, rollout, expectedReplicas: expectedReplicas(config), values };
}

export async function loadContext(driver: StackDriver): Promise<ReleaseContext> {
    return contextFromValues(driver.stack, await driver.readConfig());
}

/**
 * Replicas per slot the new slot must reach before traffic moves: the fixed count on Docker, the
 * autoscaler's minimum elsewhere (a slot at 0 % runs its minimum).
 */
export function expectedReplicas(config: ApfaConfig): number {
    return config.cloud === "docker" ? config.docker.replicasPerSlot : config.scaling.minReplicas;
}

/** The release state in the context (validated with defaults). */
export function releaseOf(context: ReleaseContext): ReleaseState {
    return context.config.release;
}
