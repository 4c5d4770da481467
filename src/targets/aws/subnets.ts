/**
 * Subnet address plan of the VPC, as pure IPv4 arithmetic.
 *
 * The VPC range is cut into eight equal blocks (`/n+3`). Private subnets (where the tasks live and
 * most addresses go) take blocks 0..azCount-1, one per AZ. The last block is cut into eight again
 * (`/n+6`) and public subnets (ALB nodes and NAT gateways only) take its first azCount parts.
 * A subnet's range depends only on its AZ index, so adding an AZ never moves an existing subnet,
 * and the blocks between the private ones and the last block stay free for later tiers.
 */

import { formatCidr, hasHostBits, subBlock, tryParseCidr, type Ipv4Range } from "../../cidr";

/** The most AZs the plan has room for (blocks 0..6 private, block 7 public). */
export const MAX_PLANNED_AZS = 7;
/** The longest prefix (smallest subnet) an ALB subnet may have (ELB docs, "Subnets for your load balancer"). */
export const MAX_ALB_SUBNET_PREFIX = 27;
/** Largest VPC prefix the plan accepts: public subnets are /n+6 and hold the ALB, so n+6 ≤ 27. */
export const MAX_VPC_PREFIX = 21;
/** AWS's largest VPC. */
export const MIN_VPC_PREFIX = 16;

export interface AzSubnetPlan {
    readonly index: number;
    readonly publicCidr: string;
    readonly privateCidr: string;
}

/** Parses "a.b.c.d/n"; throws on malformed input or host bits set (AWS refuses those). */
function parseVpcCidr(cidr: string): Ipv4Range {
    const range = tryParseCidr(cidr);
    if (range === undefined) {
        throw new Error(`${cidr} is not an IPv4 CIDR block such as 10.40.0.0/16`);
    }
    if (hasHostBits(cidr)) {
        throw new Error(`${cidr} has host bits set; did you mean ${formatCidr(range)}?`);
    }
    return range;
}

/** Why a VPC range cannot hold the plan, or undefined when it can. */
export function vpcCidrProblem(vpcCidr: string): string | undefined {
    let vpc: Ipv4Range;
    try {
        vpc = parseVpcCidr(vpcCidr);
    } catch (err) {
        return (err as Error).message;
    }
    if (vpc.prefix < MIN_VPC_PREFIX || vpc.prefix > MAX_VPC_PREFIX) {
        return `expected a prefix length between /${MIN_VPC_PREFIX} and /${MAX_VPC_PREFIX} (public subnets are /n+6 and hold the load balancer, whose subnets must be /${MAX_ALB_SUBNET_PREFIX} or larger), got /${vpc.prefix}`;
    }
    return undefined;
}

/**
 * The public and private subnet ranges for `azCount` AZs of `vpcCidr`.
 * @throws Error when the VPC range or the AZ count does not fit the plan.
 */
export function planSubnets(vpcCidr: string, azCount: number): AzSubnetPlan[] {
    const problem = vpcCidrProblem(vpcCidr);
    if (problem) {
        throw new Error(`VPC range ${vpcCidr}: ${problem}`);
    }
    if (!Number.isInteger(azCount) || azCount < 1 || azCount > MAX_PLANNED_AZS) {
        throw new Error(`The subnet plan holds 1 to ${MAX_PLANNED_AZS} AZs, not ${azCount}`);
    }
    const vpc = parseVpcCidr(vpcCidr);
    const privatePrefix = vpc.prefix + 3;
    const publicPrefix = vpc.prefix + 6;
    const publicBlock = subBlock(vpc, privatePrefix, 7);
    return Array.from({ length: azCount }, (_, index) => ({
        index,
        privateCidr: formatCidr(subBlock(vpc, privatePrefix, index)),
        publicCidr: formatCidr(subBlock(publicBlock, publicPrefix, index)),
    }));
}
