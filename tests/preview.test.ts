import * as assert from "node:assert/strict";

import { listStacks } from "../scripts/synth/stack-config";
import { ofType, synthStack, UNKNOWN, type Plan } from "./helpers/synth";

/**
 * `pulumi preview` of a stack that does not exist yet: every resource is a create, and the engine
 * hands the program only each resource's inputs back — ids, ARNs, endpoints and other
 * provider-computed outputs are unknown, and `apply` callbacks on them do not run. A program that
 * only works with known values (an apply that throws on `undefined`, a name built from an id
 * outside an apply) passes the offline synth, whose mocks answer everything, and fails on the
 * first real preview. The synth's preview mode (`npm run synth -- --preview`) runs the program
 * that way.
 */
describe("preview of a new stack (computed outputs unknown)", function () {
    this.timeout(120_000);

    const resourceKeys = (plan: Plan) => plan.resources.map((r) => `${r.type}::${r.name}`).sort();
    const unknownsIn = (value: unknown): number => JSON.stringify(value).split(JSON.stringify(UNKNOWN)).length - 1;

    for (const stack of listStacks()) {
        describe(stack, () => {
            let plan: Plan;
            let preview: Plan | undefined;
            let failure: string | undefined;
            before(() => {
                plan = synthStack(stack);
                try {
                    preview = synthStack(stack, {}, { preview: true });
                } catch (err) {
                    failure = err instanceof Error ? err.message : String(err);
                }
            });

            it("runs to the end in preview mode", () => {
                assert.equal(failure, undefined, `the program fails in a preview of ${stack} (an unknown value reached code that needs it known):\n${failure}`);
            });

            it("registers the same resources (types and names) as the synth", () => {
                assert.ok(preview, `no preview plan: ${failure}`);
                assert.deepEqual(resourceKeys(preview), resourceKeys(plan));
            });

            it("really runs with unknowns: inputs computed from other resources' outputs are unknown, none in the synth", () => {
                assert.ok(preview, `no preview plan: ${failure}`);
                assert.ok(unknownsIn(preview.resources) > 0, `no input of ${stack} is unknown in its preview`);
                assert.equal(unknownsIn(plan.resources), 0);
                assert.equal(unknownsIn(plan.outputs), 0);
            });
        });
    }

    it("hands the program a provider-computed output as unknown (dev: each container runs its image's digest)", () => {
        const images = (p: Plan) => ofType(p, "docker:index/container:Container").map((c) => c.inputs.image);
        const known = images(synthStack("dev"));
        // In the synth, the image id (or digest) the mocks computed for the pulled or built image …
        assert.ok(known.length > 0 && known.every((image) => typeof image === "string" && /sha256:[0-9a-f]{64}/.test(image)), known.join(", "));
        // … in a preview, where Docker has not pulled or built anything yet, unknown.
        assert.deepEqual(images(synthStack("dev", {}, { preview: true })), known.map(() => UNKNOWN));
    });
});
