import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

import { PROJECT_ROOT, listStacks } from "../scripts/synth/stack-config";
import { synthStack } from "./helpers/synth";

/**
 * The offline synth runs the program through tsx. `pulumi up` runs it through the Node.js language
 * host's own loader (its ts-node, the project's TypeScript and tsconfig.json). These tests run every
 * stack that way (scripts/pulumi-load.js) so a program that only works under tsx cannot pass.
 */
describe("the program under Pulumi's own TypeScript loader", function () {
    this.timeout(120_000);

    function load(stack: string, transpileOnly: boolean): string {
        const args = [path.join(PROJECT_ROOT, "scripts", "pulumi-load.js"), stack, ...(transpileOnly ? ["--transpile-only"] : [])];
        const result = spawnSync(process.execPath, args, { cwd: PROJECT_ROOT, encoding: "utf8" });
        assert.equal(result.status, 0, `${stack}: ${result.stderr}${result.stdout}`);
        return result.stdout;
    }

    it("type-checks and runs the dev stack (ts-node's default, type-checking mode)", () => {
        const out = load("dev", false);
        assert.match(out, new RegExp(`^${synthStack("dev").resources.length} resources in \\d+ ms`, "m"));
    });

    // One stack per cloud: the loader compiles a target's modules on first import, and every stack
    // of a cloud imports the same ones (the region stacks add no module of their own). That every
    // stack file synthesizes is the synth tests' job.
    for (const stack of ["prod-aws", "prod-azure", "prod-gcp"]) {
        assert.ok(listStacks().includes(stack), `${stack} is a stack file`);
        it(`runs ${stack} and registers the same resources as the synth (transpile-only)`, () => {
            const out = load(stack, true);
            assert.match(out, new RegExp(`^${synthStack(stack).resources.length} resources in \\d+ ms`, "m"));
        });
    }
});
