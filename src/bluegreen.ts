/**
 * The blue/green model, as pure functions: which slot is the other, how the release state becomes
 * traffic weights, and which image a slot runs. Every target turns these weights into its own routing
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
