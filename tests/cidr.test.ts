/**
 * The shared IPv4 CIDR arithmetic (src/cidr.ts) both Kubernetes targets validate their address
 * plans with: parsing, overlap, containment, addresses inside a range.
 */
import * as assert from "node:assert/strict";
import fc from "fast-check";

import { addressInCidr, cidrContains, cidrsOverlap, formatIpv4, hasHostBits, parseCidr, tryParseCidr } from "../src/cidr";

/** Any valid CIDR text, host bits included. */
const anyCidr = fc
    .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }))
    .map(([address, prefix]) => `${formatIpv4(address)}/${prefix}`);

describe("IPv4 CIDRs (src/cidr.ts)", () => {
    it("parses a CIDR into the interval it covers, host bits ignored", () => {
        assert.deepEqual(parseCidr("10.0.0.0/8"), { first: 0x0a000000, last: 0x0affffff, prefix: 8 });
        assert.deepEqual(parseCidr("172.16.0.5/28"), { first: 0xac100000, last: 0xac10000f, prefix: 28 });
        assert.deepEqual(parseCidr("255.255.255.255/32"), { first: 0xffffffff, last: 0xffffffff, prefix: 32 });
        assert.deepEqual(parseCidr("0.0.0.0/0"), { first: 0, last: 0xffffffff, prefix: 0 });
    });

    it("refuses what is not an IPv4 CIDR: parseCidr throws, tryParseCidr says undefined", () => {
        for (const bad of ["10.0.0.256/8", "10.0.0.0/33", "10.0.0.0", "10.0.0/8", "a.b.c.d/8", " 10.0.0.0/8", "2001:db8::/32"]) {
            assert.throws(() => parseCidr(bad), /not an IPv4 CIDR/, bad);
            assert.equal(tryParseCidr(bad), undefined, bad);
        }
    });

    it("detects overlap, and only overlap", () => {
        assert.equal(cidrsOverlap("10.60.0.0/20", "10.60.15.0/24"), true);
        assert.equal(cidrsOverlap("10.60.0.0/20", "10.60.16.0/24"), false);
        assert.equal(cidrsOverlap("10.0.0.0/8", "10.1.2.0/24"), true);
        assert.equal(cidrsOverlap("10.0.0.0/16", "10.1.0.0/16"), false);
        assert.throws(() => cidrsOverlap("10.0.0.0/16", "nope"), /not an IPv4 CIDR/);
    });

    it("detects containment", () => {
        assert.equal(cidrContains("10.60.0.0/16", "10.60.0.0/20"), true);
        assert.equal(cidrContains("10.60.0.0/20", "10.60.0.0/16"), false);
        assert.equal(cidrContains("10.60.0.0/16", "10.61.0.0/20"), false);
        assert.equal(cidrContains("10.0.0.0/16", "10.0.0.10/32"), true);
    });

    it("formats addresses and finds the n-th address of a range", () => {
        assert.equal(formatIpv4(0xac100000), "172.16.0.0");
        assert.equal(addressInCidr("10.0.0.0/16", 10), "10.0.0.10");
        assert.equal(addressInCidr("172.16.0.0/16", 10), "172.16.0.10");
        assert.equal(addressInCidr("192.168.1.7/24", 0), "192.168.1.0");
        assert.throws(() => addressInCidr("10.0.0.0/29", 8), RangeError);
        assert.throws(() => formatIpv4(2 ** 32), RangeError);
    });

    it("property: overlap is symmetric, containment implies overlap, and a range contains itself", () => {
        fc.assert(
            fc.property(anyCidr, anyCidr, (a, b) => {
                assert.equal(cidrsOverlap(a, b), cidrsOverlap(b, a));
                if (cidrContains(a, b)) {
                    assert.ok(cidrsOverlap(a, b));
                }
                assert.ok(cidrContains(a, a));
            }),
        );
    });

    it("property: a range spans 2^(32-prefix) addresses starting on its own boundary, and round-trips", () => {
        fc.assert(
            fc.property(anyCidr, (cidr) => {
                const range = parseCidr(cidr);
                assert.equal(range.last - range.first + 1, 2 ** (32 - range.prefix));
                assert.equal(range.first % 2 ** (32 - range.prefix), 0);
                assert.deepEqual(parseCidr(`${formatIpv4(range.first)}/${range.prefix}`), range);
            }),
        );
    });

    it("tells a CIDR with host bits past its prefix from a network address", () => {
        assert.equal(hasHostBits("10.0.0.5/8"), true);
        assert.equal(hasHostBits("10.40.1.0/16"), true);
        assert.equal(hasHostBits("10.40.0.0/16"), false);
        assert.equal(hasHostBits("10.40.0.0/32"), false);
        assert.equal(hasHostBits("not a cidr"), false);
    });
});
