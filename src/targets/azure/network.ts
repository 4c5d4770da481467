/**
 * Address plan of the AKS target, as pure functions (no SDK imports: settings.ts uses them to
 * validate `apfa:azure`).
 *
 * Azure CNI Overlay: nodes take addresses from the VNet subnet, pods from a private overlay range
 * that never touches the VNet, Services from the service range. So the subnet only needs room for
 * nodes (and surge nodes during upgrades), and pod count does not eat VNet space.
 */
import { addressInCidr, cidrContains, cidrsOverlap, tryParseCidr } from "../../cidr";

export interface AzureNetworkSettings {
    readonly vnetCidr: string;
    readonly nodeSubnetCidr: string;
    readonly podCidr: string;
    readonly serviceCidr: string;
}

/** The cluster DNS Service's address: the 10th address of the service range (AKS's convention). */
export function dnsServiceIp(serviceCidr: string): string {
    return addressInCidr(serviceCidr, 10);
}

/** Everything wrong with an address plan, one message per problem (empty when it is sound). */
export function azureNetworkProblems(settings: AzureNetworkSettings): string[] {
    const { vnetCidr, nodeSubnetCidr, podCidr, serviceCidr } = settings;
    const node = tryParseCidr(nodeSubnetCidr);
    const service = tryParseCidr(serviceCidr);
    // A malformed range is reported by its own field's validation; the plan is judged once all parse.
    if (!node || !service || !tryParseCidr(vnetCidr) || !tryParseCidr(podCidr)) {
        return [];
    }
    const problems: string[] = [];
    if (!cidrContains(vnetCidr, nodeSubnetCidr)) {
        problems.push(`nodeSubnetCidr ${nodeSubnetCidr} must lie inside vnetCidr ${vnetCidr}`);
    }
    if (node.prefix > 27) {
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
    if (service.prefix > 24) {
        problems.push(`serviceCidr ${serviceCidr} is too small (use /24 or larger)`);
    }
    return problems;
}
