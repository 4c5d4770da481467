/**
 * Subnet address plan of the VPC, as pure IPv4 arithmetic.
 *
 * The VPC range is cut into eight equal blocks (`/n+3`). Private subnets (where the tasks live and
 * most addresses go) take blocks 0..azCount-1, one per AZ. The last block is cut into eight again
 * (`/n+6`) and public subnets (ALB nodes and NAT gateways only) take its first azCount parts.
 * A subnet's range depends only on its AZ index, so adding an AZ never moves an existing subnet,
 * and the blocks between the private ones and the last block stay free for later tiers.
 */

import { formatIpv4, hasHostBits, tryParseCidr } from "../../cidr";

/** The most AZs the plan has room for (blocks 0..6 private, block 7 public). */
export const MAX_PLANNED_AZS = 7;
/** The longest prefix (smallest subnet) an ALB subnet may have (ELB docs, "Subnets for your load balancer"). */
export const MAX_ALB_SUBNET_PREFIX = 27;
/** Largest VPC prefix the plan accepts: public subnets are /n+6 and hold the ALB, so n+6 ≤ 27. */
export const MAX_VPC_PREFIX = 21;
/** AWS's largest VPC. */
export const MIN_VPC_PREFIX = 16;

export interface Ipv4Cidr {
    /** Network address as an unsigned 32-bit integer. */
    readonly base: number;
    readonly prefix: number;
}

export interface AzSubnetPlan {
    readonly index: number;
    readonly publicCidr: string;
    readonly privateCidr: string;
}

/** Parses "a.b.c.d/n" (src/cidr.ts); throws on malformed input or host bits set. */
export function parseCidr(cidr: string): Ipv4Cidr {
    const range = tryParseCidr(cidr);
    if (range === undefined) {
        throw new Error(`${cidr} is not an IPv4 CIDR block such as 10.40.0.0/16`);
    }
    if (hasHostBits(cidr)) {
        throw new Error(`${cidr} has host bits set; did you mean ${formatCidr({ base: range.first, prefix: range.prefix })}?`);
    }
    return { base: range.first, prefix: range.prefix };
}

export function formatCidr(cidr: Ipv4Cidr): string {
    return `${formatIpv4(cidr.base)}/${cidr.prefix}`;
}

/** Number of addresses in a block of this prefix length. */
export function blockSize(prefix: number): number {
    return 2 ** (32 - prefix);
}

/** The `index`-th sub-block of `parent` with prefix length `prefix`. */
export function subBlock(parent: Ipv4Cidr, prefix: number, index: number): Ipv4Cidr {
    if (prefix < parent.prefix || prefix > 32) {
        throw new Error(`/${prefix} does not fit inside ${formatCidr(parent)}`);
    }
    const count = 2 ** (prefix - parent.prefix);
    if (!Number.isInteger(index) || index < 0 || index >= count) {
        throw new Error(`${formatCidr(parent)} has ${count} blocks of /${prefix}; index ${index} is out of range`);
    }
    return { base: parent.base + index * blockSize(prefix), prefix };
}

/** Whether two blocks share any address. */
export function overlaps(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
    return a.base < b.base + blockSize(b.prefix) && b.base < a.base + blockSize(a.prefix);
}

/** Whether `inner` lies entirely inside `outer`. */
export function contains(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
    return inner.prefix >= outer.prefix && inner.base >= outer.base && inner.base + blockSize(inner.prefix) <= outer.base + blockSize(outer.prefix);
}

/** Why a VPC range cannot hold the plan, or undefined when it can. */
export function vpcCidrProblem(vpcCidr: string): string | undefined {
    let vpc: Ipv4Cidr;
    try {
        vpc = parseCidr(vpcCidr);
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
    const vpc = parseCidr(vpcCidr);
    const privatePrefix = vpc.prefix + 3;
    const publicPrefix = vpc.prefix + 6;
    const publicBlock = subBlock(vpc, privatePrefix, 7);
    return Array.from({ length: azCount }, (_, index) => ({
        index,
        privateCidr: formatCidr(subBlock(vpc, privatePrefix, index)),
        publicCidr: formatCidr(subBlock(publicBlock, publicPrefix, index)),
    }));
}
