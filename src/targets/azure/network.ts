/**
 * Address plan of the AKS target, as pure functions (no SDK imports: src/config.ts uses them to
 * validate `apfa:azure`).
 *
 * Azure CNI Overlay: nodes take addresses from the VNet subnet, pods from a private overlay range
 * that never touches the VNet, Services from the service range. So the subnet only needs room for
 * nodes (and surge nodes during upgrades), and pod count does not eat VNet space.
 */

export interface AzureNetworkSettings {
    readonly vnetCidr: string;
    readonly nodeSubnetCidr: string;
    readonly podCidr: string;
    readonly serviceCidr: string;
}

interface Range {
    readonly start: number;
    readonly end: number;
    readonly prefix: number;
}

/** Parses an IPv4 CIDR; `undefined` when it is not one. */
export function parseCidr(cidr: string): Range | undefined {
    const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
    if (!match) {
        return undefined;
    }
    const octets = match.slice(1, 5).map(Number);
    const prefix = Number(match[5]);
    if (octets.some((o) => o > 255) || prefix > 32) {
        return undefined;
    }
    const address = ((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3];
    const size = 2 ** (32 - prefix);
    const start = Math.floor(address / size) * size;
    return { start, end: start + size - 1, prefix };
}

function formatAddress(value: number): string {
    return [24, 16, 8, 0].map((shift) => (Math.floor(value / 2 ** shift) % 256).toString()).join(".");
}

/** True when the two ranges share any address. */
export function cidrsOverlap(a: string, b: string): boolean {
    const ra = parseCidr(a);
    const rb = parseCidr(b);
    return ra !== undefined && rb !== undefined && ra.start <= rb.end && rb.start <= ra.end;
}

/** True when `inner` lies entirely inside `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
    const ro = parseCidr(outer);
    const ri = parseCidr(inner);
    return ro !== undefined && ri !== undefined && ri.start >= ro.start && ri.end <= ro.end;
}

/** The cluster DNS Service's address: the 10th address of the service range (AKS's convention). */
export function dnsServiceIp(serviceCidr: string): string {
    const range = parseCidr(serviceCidr);
    if (!range) {
        throw new Error(`not an IPv4 CIDR: ${serviceCidr}`);
    }
    return formatAddress(range.start + 10);
}

/** Everything wrong with an address plan, one message per problem (empty when it is sound). */
export function azureNetworkProblems(settings: AzureNetworkSettings): string[] {
    const problems: string[] = [];
    const { vnetCidr, nodeSubnetCidr, podCidr, serviceCidr } = settings;
    const node = parseCidr(nodeSubnetCidr);
    const service = parseCidr(serviceCidr);
    if (!cidrContains(vnetCidr, nodeSubnetCidr)) {
        problems.push(`nodeSubnetCidr ${nodeSubnetCidr} must lie inside vnetCidr ${vnetCidr}`);
    }
    if (node && node.prefix > 27) {
        problems.push(`nodeSubnetCidr ${nodeSubnetCidr} is too small for a node pool that scales and surges (use /27 or larger)`);
    }
    if (cidrsOverlap(podCidr, vnetCidr)) {
        problems.push(`podCidr ${podCidr} must not overlap vnetCidr ${vnetCidr}`);
    }
    if (cidrsOverlap(serviceCidr, vnetCidr)) {
        problems.push(`serviceCidr ${serviceCidr} must not overlap vnetCidr ${vnetCidr}`);
    }
    if (cidrsOverlap(serviceCidr, podCidr)) {
        problems.push(`serviceCidr ${serviceCidr} must not overlap podCidr ${podCidr}`);
    }
    if (service && service.prefix > 24) {
        problems.push(`serviceCidr ${serviceCidr} is too small (use /24 or larger)`);
    }
    return problems;
}
