/**
 * The tests synthesize in a warm worker thread (tests/helpers/synth.ts) that serves many synths.
 * These tests hold it to what a new `npm run synth` process answers for the same request — plan,
 * loaded SDKs, warnings and error text — after the worker has served other stacks in between.
 */
import * as assert from "node:assert/strict";

import { ProgramError, SynthError, mayLeaveWorkInFlight } from "../scripts/synth/run";
import { coldSynthAsync, warm, warmSynth, type SynthResult } from "./helpers/synth";

/** A request both ways: the worker's answer must equal a new process's. */
interface Case {
    readonly name: string;
    readonly stack: string;
    readonly overrides?: Record<string, unknown>;
    readonly preview?: boolean;
}
const BAD_CONFIG = { "apfa:release": { active: "purple" } };
/**
 * The worker's sameness with a new process is a property of the synth machinery, not of a stack's
 * content: every target once, single-region and a region stack (stack references, the multi-region
 * modules), rather than every stack file (which the synth tests of each target cover).
 */
const STACKS = ["dev", "prod-aws", "prod-azure", "prod-gcp", "prod-aws-usw2", "prod-azure-northeurope", "prod-gcp-europe-west4"];
const cases: Case[] = [
    ...STACKS.map((stack) => ({ name: stack, stack })),
    { name: "prod-aws preview", stack: "prod-aws", preview: true },
    { name: "dev with a bad config", stack: "dev", overrides: BAD_CONFIG },
];

/**
 * The reference answers: one new `npm run synth` process per case, two at a time. They start as
 * soon as mocha loads this file and run in the background (a serial run loads every file first, so
 * they are ready long before these tests start; they need nothing from the other tests).
 */
const reference: Promise<Map<string, SynthResult>> | undefined = warm
    ? (async () => {
          const answers = new Map<string, SynthResult>();
          const queue = [...cases];
          const lane = async () => {
              for (let c = queue.shift(); c; c = queue.shift()) {
                  answers.set(c.name, await coldSynthAsync(c.stack, c.overrides, { preview: c.preview }));
              }
          };
          await Promise.all([lane(), lane()]);
          return answers;
      })()
    : undefined;
// Reported by the tests that await it, not as an unhandled rejection in between.
reference?.catch(() => undefined);

describe("the warm synth worker", function () {
    this.timeout(180_000);

    let cold = new Map<string, SynthResult>();
    before(async function () {
        if (!reference) {
            this.skip(); // APFA_SYNTH=cold: every synth already runs in its own process
        }
        cold = await reference;
    });

    it("answers every stack (and a preview) with the plan and warnings a new process answers", () => {
        // Backwards, so each synth follows others in the same worker.
        for (const c of [...cases].reverse().filter((x) => !x.overrides)) {
            const expected = cold.get(c.name);
            assert.ok(expected?.ok, `${c.name} (cold): ${expected?.output}`);
            const got = warmSynth(c.stack, c.overrides, { preview: c.preview });
            assert.ok(got.ok, `${c.name} (warm): ${got.output}`);
            assert.deepEqual(got.plan, expected.plan, c.name);
            assert.equal(got.output, expected.output, `${c.name}: what the program printed`);
        }
    });

    it("reports a failing program with the text `npm run synth` prints, and keeps a worker the failure left clean", () => {
        const expected = cold.get("dev with a bad config");
        assert.equal(expected?.ok, false);
        assert.match(expected.output, /had registered 0 resources when it failed/);
        const before = warm?.started;
        const got = warmSynth("dev", BAD_CONFIG);
        assert.equal(got.ok, false);
        assert.equal(got.output, expected.output);
        // A config error stops the program before any resource: nothing in flight, no new worker…
        assert.equal(warm?.started, before);
        // …and the next synth in that worker is still exactly the reference.
        assert.deepEqual(warmSynth("dev").plan, cold.get("dev")?.plan);
    });

    it("lists only the SDKs this synth's program loaded, not those earlier synths left in the worker", () => {
        for (const stack of STACKS) {
            warmSynth(stack);
        }
        const dev = warmSynth("dev").plan;
        assert.deepEqual(dev?.loadedPackages, cold.get("dev")?.plan?.loadedPackages);
        for (const sdk of ["@pulumi/aws", "@pulumi/azure-native", "@pulumi/gcp", "@pulumi/kubernetes"]) {
            assert.ok(!dev?.loadedPackages.includes(sdk), `${sdk} in ${dev?.loadedPackages.join(", ")}`);
        }
    });

    it("is replaced after a failure that may leave work in flight (any failure after the first resource)", () => {
        assert.equal(mayLeaveWorkInFlight(new ProgramError(new Error("config"), 0)), false);
        assert.equal(mayLeaveWorkInFlight(new ProgramError(new Error("in an apply"), 1)), true);
        assert.equal(mayLeaveWorkInFlight(new SynthError("unmocked invoke")), true);
        assert.equal(mayLeaveWorkInFlight(new Error("anything else")), true);
    });
});
