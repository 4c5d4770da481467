/**
 * What each release transition changes in the real program, per stack (offline synth on mocks):
 * the premises the release tool is built on, checked on every target.
 *
 * - Recording progress (analysis, heartbeat, the end of a rollback) changes no resource: those
 *   writes need no `pulumi up`.
 * - A rollback (previewWeight back to 0, during the steps or after promotion while the old slot
 *   still runs) changes only the resource named by the `trafficUrn` output: one
 *   `pulumi up --target <trafficUrn>` applies all of it.
 * - Promotion at 100 % (active flips to the new slot, previewWeight 0) changes no resource at all:
 *   it moves no request.
 * - The scale-down after the rollback window (`apfa:release.<old slot>.scaledDown`) is honoured by
 *   the target: it changes the old slot's workload and never the traffic resource.
 * - A capacity write (the slots' replica floors, before each shift) never touches the traffic
 *   resource and moves no weight.
 *
 * The states carry the replica floors a release on these stacks would record (blue serving 16:
 * pinned at 16; green 8 before 50 %, 16 before 100 %).
 */
import * as assert from "node:assert/strict";

import { listStacks, readStackFile } from "../scripts/synth/stack-config";
import { parseReleaseState, type ReleaseState } from "../src/config";
import { completeState, promoteState, rollbackState, startState, stepState, withFloors, withProgress } from "../tools/release/state";
import { changedResources, synthStack, type Plan } from "./helpers/synth";

const NEW_IMAGE = "registry.example.com/apfa:9.9.9";
const T0 = new Date("2026-07-26T10:00:00Z");
const STEPS = [10, 50, 100].map((weight) => ({ weight, bakeSeconds: 900 }));

/** The stack's release state walked through a release with the tool's own transitions. */
function states(stack: string) {
    const initial = parseReleaseState(readStackFile(stack)["apfa:release"]);
    const started = startState(initial, {
        id: "20260726-100000-green",
        // The docker stack releases its build context; the cloud stacks an image.
        image: initial.blue.image === undefined ? undefined : NEW_IMAGE,
        env: {},
        steps: STEPS,
        trafficUrn: "urn:placeholder",
        now: T0,
    });
    const atTen = stepState(withFloors(started, { blue: 16 }), 0, T0);
    // The capacity write before 50 %: green's floor, same weights.
    const atTenWithCapacity = withFloors(atTen, { green: 8 });
    const atFifty = stepState(atTenWithCapacity, 1, T0);
    const recorded = withProgress(atFifty, {
        lastAnalysis: { at: "2026-07-26T10:20:00Z", decision: "continue", reasons: ["error ratio 0.00 %"] },
        driver: { host: "ci", pid: 42, heartbeatAt: "2026-07-26T10:20:00Z" },
    });
    const rolledBack = rollbackState(atFifty, "test");
    const atHundred = stepState(withFloors(atFifty, { green: 16 }), 2, T0);
    const promoted = promoteState(atHundred, T0, 60);
    // Inside the rollback window: the old slot still runs, active flips back to it.
    const rolledBackAfterPromotion = rollbackState(promoted, "test");
    const completed = completeState(promoted, T0);
    return { atTen, atTenWithCapacity, atFifty, recorded, rolledBack, atHundred, promoted, rolledBackAfterPromotion, completed };
}

function plan(stack: string, release: ReleaseState): Plan {
    return synthStack(stack, { "apfa:release": JSON.parse(JSON.stringify(release)) });
}

/**
 * One stack per (cloud, region role): where the traffic resource and the slots' workloads come from.
 * Region stacks of one cloud and role share that code and differ in what a release never touches
 * (their region, sizes, the global entry's routing mode), so the others would repeat these ~10
 * synths each without covering another path.
 */
function representativeStacks(): string[] {
    const chosen = new Map<string, string>();
    for (const stack of listStacks()) {
        const values = readStackFile(stack);
        const region = values["apfa:multiRegion"] as { regions?: string[] } | undefined;
        const own = String(values["aws:region"] ?? (values["apfa:azure"] as { location?: string } | undefined)?.location ?? (values["apfa:gcp"] as { region?: string } | undefined)?.region ?? "");
        const role = region === undefined ? "single" : region.regions?.[0] === own ? "primary" : "secondary";
        const key = `${String(values["apfa:cloud"])}/${role}`;
        if (!chosen.has(key)) {
            chosen.set(key, stack);
        }
    }
    return [...chosen.values()];
}

describe("release transitions in the real program (offline synth)", function () {
    this.timeout(300_000);

    it("covers every cloud, single-region and both region roles", () => {
        assert.deepEqual(
            representativeStacks().map((stack) => readStackFile(stack)["apfa:cloud"]).sort(),
            ["aws", "aws", "aws", "azure", "azure", "azure", "docker", "gcp", "gcp", "gcp"],
        );
    });

    for (const stack of representativeStacks()) {
        describe(stack, () => {
            const s = states(stack);

            it("recording progress changes no resource", () => {
                assert.deepEqual(changedResources(plan(stack, s.atFifty), plan(stack, s.recorded)), []);
            });

            it("rollback changes only the traffic resource (the trafficUrn output)", () => {
                const before = plan(stack, s.atFifty);
                const after = plan(stack, s.rolledBack);
                const traffic = before.resources.find((r) => r.urn === before.outputs.trafficUrn);
                assert.ok(traffic, `no resource has the trafficUrn output ${String(before.outputs.trafficUrn)}`);
                assert.deepEqual(changedResources(before, after), [`${traffic.type}::${traffic.name}`]);
            });

            it("rollback after promotion (inside the rollback window) changes only the traffic resource", () => {
                const before = plan(stack, s.promoted);
                const after = plan(stack, s.rolledBackAfterPromotion);
                const traffic = before.resources.find((r) => r.urn === before.outputs.trafficUrn);
                assert.ok(traffic, `no resource has the trafficUrn output ${String(before.outputs.trafficUrn)}`);
                assert.deepEqual(changedResources(before, after), [`${traffic.type}::${traffic.name}`]);
                assert.deepEqual(after.outputs.weights, { blue: 100, green: 0 }, "all traffic back on the old slot");
            });

            it("promotion at 100 % changes no resource", () => {
                assert.deepEqual(changedResources(plan(stack, s.atHundred), plan(stack, s.promoted)), []);
            });

            it("the scale-down of the old slot changes its workload, never the traffic resource", () => {
                const before = plan(stack, s.promoted);
                const changed = changedResources(before, plan(stack, s.completed));
                const traffic = before.resources.find((r) => r.urn === before.outputs.trafficUrn);
                assert.ok(changed.length > 0, "scaledDown is ignored by the target");
                assert.ok(traffic && !changed.some((c) => c.endsWith(`${traffic.type}::${traffic.name}`)), changed.join("\n"));
                // Besides the old (blue) slot, only what clearing the new slot's floor changes (its autoscaler's minimum).
                const floorCleared = changedResources(before, plan(stack, withFloors(s.promoted, { green: undefined })));
                const other = changed.filter((c) => !/blue/.test(c) && !floorCleared.includes(c));
                assert.deepEqual(other, [], `only the old (blue) slot and the new slot's minimum change:\n${changed.join("\n")}`);
            });

            it("a capacity write (replica floors before a shift) never changes the traffic resource nor the weights", () => {
                const before = plan(stack, s.atTen);
                const after = plan(stack, s.atTenWithCapacity);
                const traffic = before.resources.find((r) => r.urn === before.outputs.trafficUrn);
                assert.ok(traffic, `no resource has the trafficUrn output ${String(before.outputs.trafficUrn)}`);
                const changed = changedResources(before, after);
                assert.ok(!changed.some((c) => c.endsWith(`${traffic.type}::${traffic.name}`)), changed.join("\n"));
                assert.ok(changed.every((c) => /green/.test(c)), `only the receiving (green) slot changes:\n${changed.join("\n")}`);
                assert.deepEqual(after.outputs.weights, before.outputs.weights);
            });
        });
    }
});
