/**
 * The blue/green model, as pure functions: which slot is the other, how the release state becomes
 * traffic weights, which image a slot runs, and how many replicas it keeps at least. Every target turns these weights into its own routing
 * (nginx split, ALB weighted forward, Gateway API backendRefs); the release tool uses the same rules.
 */
import type { Slot, TrafficWeights } from "./contract";

export type { Slot, TrafficWeights } from "./contract";
export { SLOTS } from "./contract";

/** The part of the release state (`apfa:release`) the model reads. */
export interface SlotsState {
    /** The slot that serves all traffic at rest. */
    readonly active: Slot;
    /** Percent of traffic sent to the other slot. */
    readonly previewWeight: number;
    readonly blue: { readonly image?: string };
    readonly green: { readonly image?: string };
}

export function otherSlot(slot: Slot): Slot {
    return slot === "blue" ? "green" : "blue";
}

/** The active slot serves 100 - previewWeight percent, the other slot previewWeight percent. */
export function trafficWeights(release: Pick<SlotsState, "active" | "previewWeight">): TrafficWeights {
    const preview = otherSlot(release.active);
    return {
        [release.active]: 100 - release.previewWeight,
        [preview]: release.previewWeight,
    } as Record<Slot, number>;
}

/** The image a slot runs: its own, else the active slot's (a fresh stack may name only one). */
export function slotImage(release: SlotsState, slot: Slot): string | undefined {
    return release[slot].image ?? release[release.active].image;
}

/** The part of the stack config {@link slotReplicaBounds} reads (`apfa:scaling`, `apfa:release`). */
export interface SlotCapacityInput {
    readonly scaling: { readonly minReplicas: number; readonly maxReplicas: number };
    readonly release: Readonly<Record<Slot, { readonly scaledDown?: boolean; readonly minReplicas?: number }>>;
}

/**
 * The replica bounds a slot's autoscaler gets (AWS: the scalable target's min/max capacity;
 * Kubernetes: the HPA's minReplicas/maxReplicas):
 * - a scaled-down slot: 0..0 (it runs nothing; its routing backend stays at weight 0);
 * - otherwise the higher of `apfa:scaling.minReplicas` and the slot's floor
 *   `apfa:release.<slot>.minReplicas` (which the release tool raises before traffic moves, so
 *   capacity is there before the load), up to `apfa:scaling.maxReplicas` (config validation keeps
 *   the floor within it; clamped here as well).
 *
 * Platforms with a fixed replica count (docker) do not use it.
 */
export function slotReplicaBounds(config: SlotCapacityInput, slot: Slot): { min: number; max: number } {
    const { scaling } = config;
    const settings = config.release[slot];
    if (settings.scaledDown) {
        return { min: 0, max: 0 };
    }
    const floor = settings.minReplicas ?? 0;
    return { min: Math.min(Math.max(scaling.minReplicas, floor), scaling.maxReplicas), max: scaling.maxReplicas };
}

/** The replicas a slot keeps at least: {@link slotReplicaBounds}' `min` (0 when scaled down). */
export function slotMinReplicas(config: SlotCapacityInput, slot: Slot): number {
    return slotReplicaBounds(config, slot).min;
}
