/**
 * Capacity follows the weight (pure): the replica floors the release tool writes to
 * `apfa:release.<slot>.minReplicas` before traffic moves, so the receiving slot has its share of
 * the replicas before it gets the load (CPU target tracking would take minutes), and the serving
 * slot cannot scale in during a bake (a rollback lands on a warm slot).
 *
 *   receiving floor = clamp(⌈serving replicas × weight / 100⌉, minReplicas, maxReplicas)
 *   serving floor   = clamp(serving replicas, minReplicas, maxReplicas)
 *
 * A floor never falls during a release (the higher of the planned and the recorded one), so a
 * re-run after a crash, a floor set by a person, or a momentary dip in the serving slot's count
 * never lowers it; the serving slot's count is never taken below its recorded pin. The floors are
 * cleared when the release's rollback window ends.
 */
import type { Cloud } from "../../src/config";

/**
 * The targets whose autoscaler takes a slot's replica floor (`apfa:release.<slot>.minReplicas`,
 * through `slotReplicaBounds` of src/bluegreen.ts). Only there does the release tool write floors
 * and wait for them: a floor the target ignores would never be reached, and every wait would end
 * in a rollback. docker runs a fixed count per slot; ECS takes it as the scalable target's minimum
 * capacity, the Kubernetes layer (AKS, GKE) as the HPA's minReplicas.
 */
export const FLOOR_TARGETS: Readonly<Record<Cloud, boolean>> = { docker: false, aws: true, azure: true, gcp: true };

/** The autoscaler's bounds (`apfa:scaling.minReplicas` / `maxReplicas`). */
export interface ReplicaRange {
    readonly minReplicas: number;
    readonly maxReplicas: number;
}

export interface FloorInputs {
    /** Ready replicas of the serving slot now (Prometheus `up == 1`; CloudWatch HealthyHostCount). */
    readonly servingReplicas: number;
    /** The receiving slot's traffic percent after the shift (1-100). */
    readonly weight: number;
    readonly range: ReplicaRange;
    /** Floors already recorded for the two slots (`apfa:release.<slot>.minReplicas`), if any. */
    readonly recorded?: { readonly serving?: number; readonly receiving?: number };
}

export interface Floors {
    /** The serving slot's floor: pinned at its current count. */
    readonly serving: number;
    /** The receiving slot's floor: its share of the serving slot's replicas at `weight`. */
    readonly receiving: number;
}

export function clamp(n: number, range: ReplicaRange): number {
    return Math.min(range.maxReplicas, Math.max(range.minReplicas, n));
}

/** ⌈replicas × weight / 100⌉ in integer arithmetic (no floating-point edge at exact shares). */
export function shareOf(replicas: number, weight: number): number {
    if (!Number.isInteger(replicas) || replicas < 0 || !Number.isInteger(weight) || weight < 0 || weight > 100) {
        throw new RangeError(`expected whole replicas ≥ 0 and a weight 0-100, got ${replicas} replicas at ${weight} %`);
    }
    return Math.floor((replicas * weight + 99) / 100);
}

/** The receiving slot's floor before it takes `weight` % (without the never-lower rule). */
export function receivingFloor(servingReplicas: number, weight: number, range: ReplicaRange): number {
    return clamp(shareOf(servingReplicas, weight), range);
}

/**
 * Both floors before a shift, never below the recorded ones. The serving slot counts as the higher
 * of its ready replicas and its recorded pin: a replica being replaced at the moment of reading
 * lowers neither its pin nor the receiving slot's share.
 */
export function planFloors(inputs: FloorInputs): Floors {
    const { weight, range } = inputs;
    const recorded = inputs.recorded ?? {};
    const serving = Math.max(inputs.servingReplicas, recorded.serving ?? 0);
    return {
        serving: clamp(serving, range),
        receiving: clamp(Math.max(shareOf(serving, weight), recorded.receiving ?? 0), range),
    };
}

/** The value to record for a floor: none when it adds nothing to the autoscaler's minimum. */
export function floorToRecord(floor: number, range: ReplicaRange): number | undefined {
    return floor > range.minReplicas ? floor : undefined;
}
