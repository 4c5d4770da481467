/**
 * IPv4 CIDR arithmetic: the one model of address ranges, shared by the targets' address plans (the
 * AWS subnet plan, the AKS and GKE ranges) and config validation. Pure, no SDK imports: the config
 * uses it for every stack.
 *
 * A CIDR is handled as the inclusive interval of 32-bit addresses it covers; host bits are ignored
 * (`10.0.0.5/8` is `10.0.0.0/8`), as both clouds normalise them.
 */

/** An IPv4 CIDR as an inclusive interval of unsigned 32-bit addresses, plus its prefix length. */
export interface Ipv4Range {
    readonly first: number;
    readonly last: number;
    readonly prefix: number;
}

const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n`; `undefined` when the text is not an IPv4 CIDR. */
export function tryParseCidr(cidr: string): Ipv4Range | undefined {
    const match = CIDR_RE.exec(cidr);
    if (!match) {
        return undefined;
    }
    const octets = match.slice(1, 5).map(Number);
    const prefix = Number(match[5]);
    if (octets.some((o) => o > 255) || prefix > 32) {
        return undefined;
    }
    // Multiplication, not `<<`: shifts are signed 32-bit in JavaScript.
    const address = ((octets[0] * 256 + octets[1]) * 256 + octets[2]) * 256 + octets[3];
    const size = 2 ** (32 - prefix);
    const first = Math.floor(address / size) * size;
    return { first, last: first + size - 1, prefix };
}

/** Whether `a.b.c.d/n` has bits set past its prefix (e.g. `10.0.0.5/8`); false when it is not a CIDR. */
export function hasHostBits(cidr: string): boolean {
    const range = tryParseCidr(cidr);
    if (range === undefined) {
        return false;
    }
    const octets = cidr.split("/")[0].split(".").map(Number);
    return ((octets[0] * 256 + octets[1]) * 256 + octets[2]) * 256 + octets[3] !== range.first;
}

/**
 * Parses `a.b.c.d/n`.
 * @throws Error when the text is not an IPv4 CIDR
 */
export function parseCidr(cidr: string): Ipv4Range {
    const range = tryParseCidr(cidr);
    if (range === undefined) {
        throw new Error(`not an IPv4 CIDR: ${cidr}`);
    }
    return range;
}

/**
 * Whether two CIDRs share at least one address.
 * @throws Error when either is not an IPv4 CIDR
 */
export function cidrsOverlap(a: string, b: string): boolean {
    const x = parseCidr(a);
    const y = parseCidr(b);
    return x.first <= y.last && y.first <= x.last;
}

/**
 * Whether `inner` lies entirely inside `outer`.
 * @throws Error when either is not an IPv4 CIDR
 */
export function cidrContains(outer: string, inner: string): boolean {
    const o = parseCidr(outer);
    const i = parseCidr(inner);
    return i.first >= o.first && i.last <= o.last;
}

/** `a.b.c.d/n` text of a range (its network address and prefix). */
export function formatCidr(range: Pick<Ipv4Range, "first" | "prefix">): string {
    return `${formatIpv4(range.first)}/${range.prefix}`;
}

/**
 * The `index`-th block of prefix length `prefix` inside `parent` (0 = the first).
 * @throws Error when the prefix or the index does not fit
 */
export function subBlock(parent: Ipv4Range, prefix: number, index: number): Ipv4Range {
    if (prefix < parent.prefix || prefix > 32) {
        throw new Error(`/${prefix} does not fit inside ${formatCidr(parent)}`);
    }
    const count = 2 ** (prefix - parent.prefix);
    if (!Number.isInteger(index) || index < 0 || index >= count) {
        throw new Error(`${formatCidr(parent)} has ${count} blocks of /${prefix}; index ${index} is out of range`);
    }
    const size = 2 ** (32 - prefix);
    const first = parent.first + index * size;
    return { first, last: first + size - 1, prefix };
}

/** Dotted-quad text of an unsigned 32-bit address. */
export function formatIpv4(address: number): string {
    if (!Number.isInteger(address) || address < 0 || address > 0xffffffff) {
        throw new RangeError(`not an IPv4 address: ${address}`);
    }
    return [24, 16, 8, 0].map((shift) => (Math.floor(address / 2 ** shift) % 256).toString()).join(".");
}

/**
 * The address `offset` places into the CIDR (0 = its network address).
 * @throws RangeError when the CIDR has fewer addresses
 */
export function addressInCidr(cidr: string, offset: number): string {
    const range = parseCidr(cidr);
    if (!Number.isInteger(offset) || offset < 0 || range.first + offset > range.last) {
        throw new RangeError(`${cidr} has no address at offset ${offset}`);
    }
    return formatIpv4(range.first + offset);
}
