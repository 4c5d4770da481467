/**
 * Pure network facts of the GKE target: which Gateway classes need a proxy-only subnet or face the
 * internet, and the overlap check config validation uses to catch colliding ranges before GCP does.
 *
 * No @pulumi/gcp import here: the config (settings.ts) uses these checks for every stack.
 */
import { cidrsOverlap } from "../../cidr";

/** GKE Gateway classes this program can put the public Gateway on. */
export const GKE_GATEWAY_CLASSES = [
    "gke-l7-global-external-managed",
    "gke-l7-regional-external-managed",
    "gke-l7-rilb",
    "gke-l7-gxlb",
] as const;
export type GkeGatewayClass = (typeof GKE_GATEWAY_CLASSES)[number];

/**
 * Whether the class's load balancer runs Envoy proxies in the cluster's region, which need a
 * `REGIONAL_MANAGED_PROXY` subnet in the VPC. GKE's Gateway requirements: "If you are using the
 * regional or cross-region GatewayClasses, you must enable a proxy-only subnet." The global
 * external managed (`gke-l7-global-external-managed`) and classic (`gke-l7-gxlb`) load balancers
 * run on Google Front Ends and need none.
 */
export function needsProxyOnlySubnet(gatewayClass: GkeGatewayClass): boolean {
    switch (gatewayClass) {
        case "gke-l7-regional-external-managed":
        case "gke-l7-rilb":
            return true;
        case "gke-l7-global-external-managed":
        case "gke-l7-gxlb":
            return false;
    }
}

/**
 * Whether the class is a global load balancer, which can take its certificates from a Certificate
 * Manager certificate map (the `networking.gke.io/certmap` Gateway annotation); the regional classes
 * cannot.
 */
export function isGlobalGatewayClass(gatewayClass: GkeGatewayClass): boolean {
    return !needsProxyOnlySubnet(gatewayClass);
}

/** Whether the class gives the Gateway a public (internet-facing) address. */
export function isExternalGatewayClass(gatewayClass: GkeGatewayClass): boolean {
    return gatewayClass !== "gke-l7-rilb";
}

/**
 * The warning for an internal Gateway class (its load balancer has a VPC-internal address only),
 * or undefined for an internet-facing one.
 */
export function internalGatewayWarning(gatewayClass: GkeGatewayClass): string | undefined {
    if (isExternalGatewayClass(gatewayClass)) {
        return undefined;
    }
    return (
        `apfa:gcp.gatewayClass ${gatewayClass} is internal: the \`url\` output is a VPC-internal address, reachable from ` +
        "the VPC and networks connected to it, not from the internet. For a public APFA use gke-l7-global-external-managed " +
        "or gke-l7-regional-external-managed."
    );
}

/**
 * Every pair of named ranges that overlap, as human-readable problems. GKE refuses a cluster whose
 * node, Pod, Service, control-plane and proxy-only ranges collide; saying so at config time is
 * cheaper than a failed 10-minute cluster create.
 */
export function overlappingRanges(ranges: Readonly<Record<string, string>>): string[] {
    const entries = Object.entries(ranges);
    const problems: string[] = [];
    for (let i = 0; i < entries.length; i++) {
        for (let j = i + 1; j < entries.length; j++) {
            const [nameA, cidrA] = entries[i];
            const [nameB, cidrB] = entries[j];
            if (cidrsOverlap(cidrA, cidrB)) {
                problems.push(`${nameA} (${cidrA}) overlaps ${nameB} (${cidrB})`);
            }
        }
    }
    return problems;
}

/**
 * Where Google's health-check probers (and, for the Google-Front-End load balancers, the proxies)
 * connect from. Google's load-balancing firewall documentation lists these as the health-check
 * ranges of every Application Load Balancer, and as the GFE proxy ranges for zonal NEG backends.
 */
export const GOOGLE_HEALTH_CHECK_RANGES = ["35.191.0.0/16", "130.211.0.0/22"] as const;

/**
 * The source ranges of the Gateway's data plane as APFA's Pods see them (container-native load
 * balancing sends to Pod IPs directly): the health-check/GFE ranges, plus the proxy-only subnet
 * for the Envoy-based regional classes, whose proxies connect from that subnet.
 */
export function gatewaySourceRanges(gatewayClass: GkeGatewayClass, proxyOnlyCidr: string): string[] {
    return needsProxyOnlySubnet(gatewayClass) ? [...GOOGLE_HEALTH_CHECK_RANGES, proxyOnlyCidr] : [...GOOGLE_HEALTH_CHECK_RANGES];
}
