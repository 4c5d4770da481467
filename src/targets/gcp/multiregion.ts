/**
 * The GKE target in a multi-region deployment (`apfa:multiRegion`), as pure functions (no SDK):
 * the names every region stack derives from the deployment's name, and which Gateway class each
 * region's own Gateway uses. fleet.ts has the global entry, database.ts the replica.
 *
 * Layout (one stack per region, primary first in `regions`; deploy in that order):
 * - one VPC for the whole deployment, `<name>-vpc`, created by the primary (GCP VPCs are global):
 *   each region adds its own subnet, router and NAT to it, and Cloud SQL's private services access
 *   (the primary's peering) serves every region's instance, so the app reaches the writer from any
 *   region without VPC peering;
 * - the primary: the config cluster (multi-cluster Gateway, the fleet features), the writer instance
 *   (Enterprise Plus) naming the failover region's replica as its DR replica;
 * - every other region: a cross-region read replica; the failover region (`regions[1]`) runs the
 *   failover controller; its own Gateway is internal (`gke-l7-rilb`), so the global entry is the
 *   only public one.
 */
import type { MultiRegionSettings } from "../../config/region";
import { gcpName, NAME_LIMITS } from "./names";

/** The multi-cluster Gateway class (global external Application Load Balancer, one anycast address). */
export const MULTI_CLUSTER_GATEWAY_CLASS = "gke-l7-global-external-managed-mc";
/** The class of every other region's own Gateway: internal, so no public entry bypasses the global one. */
export const REGIONAL_INTERNAL_GATEWAY_CLASS = "gke-l7-rilb";

/** Base of the names other stacks derive: `<deployment>-<region>`. */
export function regionalPrefix(multiRegion: Pick<MultiRegionSettings, "name">, region: string): string {
    return `${multiRegion.name}-${region}`;
}

/** The deployment's shared VPC. */
export function sharedVpcName(name: string): string {
    return gcpName(name, "vpc", NAME_LIMITS.network);
}

/** The Gateway class of this region's own Gateway (the primary's is the multi-cluster one). */
export function regionGatewayClass(multiRegion: Pick<MultiRegionSettings, "isPrimary">): string {
    return multiRegion.isPrimary ? MULTI_CLUSTER_GATEWAY_CLASS : REGIONAL_INTERNAL_GATEWAY_CLASS;
}

/** The failover controller's service account id (6-30) and custom role id (3-64 of [a-zA-Z0-9_.]). */
export function failoverIdentityNames(multiRegion: Pick<MultiRegionSettings, "name" | "region">) {
    const base = regionalPrefix(multiRegion, multiRegion.region);
    return {
        accountId: gcpName(base, "failover", NAME_LIMITS.serviceAccountId),
        roleId: `apfaFailover_${base.replace(/-/g, "_")}`.slice(0, 64),
    };
}
