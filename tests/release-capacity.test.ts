/**
 * Capacity follows the weight, the pure parts: the floor arithmetic the release tool plans with
 * (tools/release/capacity.ts), the bounds every target derives from the floors
 * (`slotReplicaBounds` in src/bluegreen.ts), and how the release transitions carry the floors.
 * Expected values are worked out by hand in the comments.
 */
import * as assert from "node:assert/strict";
import fc from "fast-check";

import { slotMinReplicas, slotReplicaBounds } from "../src/bluegreen";
import { parseReleaseState } from "../src/config";
import { FLOOR_TARGETS, floorToRecord, planFloors, receivingFloor, shareOf } from "../tools/release/capacity";
import { contextFromValues } from "../tools/release/context";
import { completeState, promoteState, rollbackState, startState, stepState, withFloors } from "../tools/release/state";

const RANGE = { minReplicas: 4, maxReplicas: 16 };
const T0 = new Date("2026-07-26T10:00:00Z");

describe("capacity follows the weight (pure)", () => {
    describe("the receiving slot's floor: clamp(⌈serving × weight / 100⌉, min, max)", () => {
        const cases: Array<[serving: number, weight: number, range: { minReplicas: number; maxReplicas: number }, floor: number, why: string]> = [
            [16, 50, RANGE, 8, "16 × 0.5 = 8"],
            [3, 10, RANGE, 4, "⌈0.3⌉ = 1, raised to the minimum 4"],
            [16, 100, RANGE, 16, "all of it"],
            [16, 10, RANGE, 4, "⌈1.6⌉ = 2, raised to 4"],
            [20, 100, RANGE, 16, "20 clamped to the maximum 16"],
            [30, 50, RANGE, 15, "15, inside the range"],
            [40, 50, RANGE, 16, "20 clamped to 16"],
            [7, 50, { minReplicas: 1, maxReplicas: 16 }, 4, "⌈3.5⌉ = 4"],
            [9, 33, { minReplicas: 1, maxReplicas: 100 }, 3, "⌈2.97⌉ = 3"],
            [10, 70, { minReplicas: 1, maxReplicas: 100 }, 7, "exactly 7: no rounding up of an exact share"],
            [100, 1, { minReplicas: 1, maxReplicas: 100 }, 1, "exactly 1"],
            [1, 1, { minReplicas: 1, maxReplicas: 100 }, 1, "⌈0.01⌉ = 1"],
            [0, 50, RANGE, 4, "no serving replicas: the minimum"],
            [16, 50, { minReplicas: 10, maxReplicas: 16 }, 10, "8 raised to the minimum 10"],
        ];
        for (const [serving, weight, range, floor, why] of cases) {
            it(`serving ${serving} at ${weight} % within ${range.minReplicas}..${range.maxReplicas} → ${floor} (${why})`, () => {
                assert.equal(receivingFloor(serving, weight, range), floor);
            });
        }

        it("rejects counts and weights that are not whole or out of range", () => {
            assert.throws(() => shareOf(2.5, 50), RangeError);
            assert.throws(() => shareOf(-1, 50), RangeError);
            assert.throws(() => shareOf(4, 101), RangeError);
        });
    });

    describe("properties (every serving count 0-100, weight 1-100, range)", () => {
        const arbitraries = fc
            .tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 100 }))
            .map(([serving, weight, a, b]) => ({ serving, weight, range: { minReplicas: Math.min(a, b), maxReplicas: Math.max(a, b) } }));

        it("the floor is within the range, covers the share unless the maximum caps it, and is no larger than needed unless the minimum lifts it", () => {
            fc.assert(
                fc.property(arbitraries, ({ serving, weight, range }) => {
                    const floor = receivingFloor(serving, weight, range);
                    assert.ok(floor >= range.minReplicas && floor <= range.maxReplicas);
                    if (floor < range.maxReplicas) {
                        assert.ok(floor * 100 >= serving * weight, "enough replicas for the share");
                    }
                    if (floor > range.minReplicas) {
                        assert.ok((floor - 1) * 100 < serving * weight, "one fewer would not do");
                    }
                }),
                { numRuns: 2000 },
            );
        });

        it("the floor rises with the weight and with the serving count; at 100 % it is the serving slot's pin", () => {
            fc.assert(
                fc.property(arbitraries, ({ serving, weight, range }) => {
                    const floor = receivingFloor(serving, weight, range);
                    assert.ok(receivingFloor(serving, Math.min(100, weight + 1), range) >= floor);
                    assert.ok(receivingFloor(serving + 1, weight, range) >= floor);
                    const planned = planFloors({ servingReplicas: serving, weight: 100, range });
                    assert.equal(planned.receiving, planned.serving);
                }),
                { numRuns: 2000 },
            );
        });

        it("planned floors never fall below the recorded ones (clamped to the range)", () => {
            fc.assert(
                fc.property(arbitraries, fc.option(fc.integer({ min: 1, max: 100 })), fc.option(fc.integer({ min: 1, max: 100 })), ({ serving, weight, range }, s, r) => {
                    const recorded = { serving: s ?? undefined, receiving: r ?? undefined };
                    const floors = planFloors({ servingReplicas: serving, weight, range, recorded });
                    assert.ok(floors.serving >= Math.min(range.maxReplicas, recorded.serving ?? 0));
                    assert.ok(floors.receiving >= Math.min(range.maxReplicas, recorded.receiving ?? 0));
                    assert.ok(floors.receiving >= receivingFloor(serving, weight, range));
                }),
                { numRuns: 2000 },
            );
        });
    });

    describe("both floors before a shift", () => {
        const cases: Array<[string, Parameters<typeof planFloors>[0], { serving: number; receiving: number }]> = [
            ["blue serves 16, green to 10 %: blue pinned at 16, green at its minimum", { servingReplicas: 16, weight: 10, range: RANGE }, { serving: 16, receiving: 4 }],
            ["blue serves 16, green to 50 %", { servingReplicas: 16, weight: 50, range: RANGE, recorded: { serving: 16 } }, { serving: 16, receiving: 8 }],
            ["blue dipped to 12 (a task being replaced): its pin stays 16 and green's share is of 16", { servingReplicas: 12, weight: 50, range: RANGE, recorded: { serving: 16 } }, { serving: 16, receiving: 8 }],
            ["a floor recorded earlier (here set by a person): green's 10 is kept although 16 × 50 % = 8", { servingReplicas: 16, weight: 50, range: RANGE, recorded: { serving: 16, receiving: 10 } }, { serving: 16, receiving: 10 }],
            ["blue grew to 14 under a pin of 12: pinned at 14, green's share ⌈7⌉ = 7", { servingReplicas: 14, weight: 50, range: RANGE, recorded: { serving: 12 } }, { serving: 14, receiving: 7 }],
            ["blue at its minimum 4 (quiet hours)", { servingReplicas: 4, weight: 50, range: RANGE }, { serving: 4, receiving: 4 }],
            ["blue above the maximum (maxReplicas lowered since): both clamp to 16", { servingReplicas: 20, weight: 100, range: RANGE }, { serving: 16, receiving: 16 }],
        ];
        for (const [name, inputs, expected] of cases) {
            it(name, () => assert.deepEqual(planFloors(inputs), expected));
        }

        it("a floor at the autoscaler's minimum is not recorded (it adds nothing)", () => {
            assert.equal(floorToRecord(4, RANGE), undefined);
            assert.equal(floorToRecord(5, RANGE), 5);
            assert.equal(floorToRecord(16, RANGE), 16);
        });
    });

    describe("what the targets derive from a floor (slotReplicaBounds, shared by AWS and Kubernetes)", () => {
        const scaling = { minReplicas: 4, maxReplicas: 16 };
        const cases: Array<[string, { scaledDown?: boolean; minReplicas?: number }, { min: number; max: number }]> = [
            ["no floor: the configured bounds", {}, { min: 4, max: 16 }],
            ["floor 8: 8..16", { minReplicas: 8 }, { min: 8, max: 16 }],
            ["floor 2, under the minimum: 4..16", { minReplicas: 2 }, { min: 4, max: 16 }],
            ["floor 16: 16..16", { minReplicas: 16 }, { min: 16, max: 16 }],
            ["floor 20 (refused by the config; clamped here): 16..16", { minReplicas: 20 }, { min: 16, max: 16 }],
            ["scaled down: 0..0, whatever its floor", { scaledDown: true, minReplicas: 8 }, { min: 0, max: 0 }],
        ];
        for (const [name, green, expected] of cases) {
            it(name, () => {
                const config = { scaling, release: { blue: {}, green } };
                assert.deepEqual(slotReplicaBounds(config, "green"), expected);
                assert.equal(slotMinReplicas(config, "green"), expected.min);
                assert.deepEqual(slotReplicaBounds(config, "blue"), { min: 4, max: 16 }, "the other slot is unaffected");
            });
        }
    });

    it("floors are planned only where the target takes them: aws, azure, gcp, not docker's fixed count", () => {
        assert.deepEqual(FLOOR_TARGETS, { docker: false, aws: true, azure: true, gcp: true });
        const release = { active: "blue", blue: { image: "registry.example.com/apfa:1" } };
        const aws = contextFromValues("t", { "apfa:cloud": "aws", "aws:region": "eu-west-1", "apfa:scaling": { minReplicas: 2, maxReplicas: 20 }, "apfa:release": release });
        assert.deepEqual(aws.capacity, { minReplicas: 2, maxReplicas: 20 });
        assert.equal(contextFromValues("t", { "apfa:cloud": "docker", "apfa:release": release }).capacity, undefined);
    });

    describe("the floors through a release's transitions", () => {
        const base = parseReleaseState({ active: "blue", blue: { image: "r/apfa:1" }, green: { image: "r/apfa:1", minReplicas: 12 } });
        const started = startState(base, { id: "20260726-100000-green", image: "r/apfa:2", env: {}, steps: [{ weight: 50, bakeSeconds: 60 }, { weight: 100, bakeSeconds: 60 }], trafficUrn: "urn:x", now: T0 });

        it("start drops a floor left on the idle slot (the steps set it again)", () => {
            assert.equal(started.green.minReplicas, undefined);
        });

        it("withFloors sets and removes floors and touches nothing else", () => {
            const floored = withFloors(started, { blue: 16, green: 8 });
            assert.deepEqual([floored.blue.minReplicas, floored.green.minReplicas], [16, 8]);
            assert.deepEqual({ ...floored, blue: started.blue, green: started.green }, started);
            const cleared = withFloors(floored, { green: undefined });
            assert.deepEqual([cleared.blue.minReplicas, "minReplicas" in cleared.green], [16, false]);
        });

        it("rollback keeps both floors (the old slot's pin keeps it warm); promotion keeps them; the end of the window clears both", () => {
            const atFifty = stepState(withFloors(started, { blue: 16, green: 8 }), 0, T0);
            const rolledBack = rollbackState(atFifty, "test");
            assert.deepEqual([rolledBack.blue.minReplicas, rolledBack.green.minReplicas], [16, 8]);
            const promoted = promoteState(stepState(withFloors(atFifty, { green: 16 }), 1, T0), T0, 60);
            assert.deepEqual([promoted.blue.minReplicas, promoted.green.minReplicas], [16, 16]);
            const completed = completeState(promoted, T0);
            assert.equal(completed.blue.scaledDown, true);
            assert.deepEqual(["minReplicas" in completed.blue, "minReplicas" in completed.green], [false, false]);
            assert.deepEqual(parseReleaseState(JSON.parse(JSON.stringify(completed))), completed, "what is written validates as it is");
        });
    });
});
