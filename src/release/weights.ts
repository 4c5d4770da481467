/**
 * The blue/green traffic model, as pure functions. Every target turns these weights into its own
 * routing (nginx split, ALB weighted forward, Gateway API backendRefs).
 */
import type { ReleaseState, Slot } from "../config";

export type TrafficWeights = Readonly<Record<Slot, number>>;

export function otherSlot(slot: Slot): Slot {
    return slot === "blue" ? "green" : "blue";
}

/** The active slot serves 100 - previewWeight percent, the other slot previewWeight percent. */
export function trafficWeights(release: Pick<ReleaseState, "active" | "previewWeight">): TrafficWeights {
    const preview = otherSlot(release.active);
    return {
        [release.active]: 100 - release.previewWeight,
        [preview]: release.previewWeight,
    } as Record<Slot, number>;
}

/** The image a slot runs: its own, else the active slot's (a fresh stack may name only one). */
export function slotImage(release: ReleaseState, slot: Slot): string | undefined {
    return release[slot].image ?? release[release.active].image;
}
