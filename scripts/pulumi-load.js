#!/usr/bin/env node
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS bootstrap: nothing is compiled yet */
/**
 * `node scripts/pulumi-load.js <stack> [--transpile-only]`
 *
 * Loads and runs the program the way `pulumi up` does — through the TypeScript loader of Pulumi's
 * Node.js language host (@pulumi/pulumi cmd/run: its ts-node, the project's TypeScript and
 * tsconfig.json, the same compiler-option defaults) — on the offline synth's mocks, and prints
 * `<n> resources in <ms> ms`. The offline synth uses tsx; this proves the program also loads
 * under Pulumi's own loader, and measures how long a real deploy spends running the program.
 *
 * `--transpile-only` is what PULUMI_NODEJS_TRANSPILE_ONLY=true does: skip ts-node's type-check
 * (CI type-checks with tsc).
 */
const path = require("node:path");
const { createRequire } = require("node:module");

const root = path.resolve(__dirname, "..");
const stack = process.argv[2];
if (!stack) {
    console.error("usage: node scripts/pulumi-load.js <stack> [--transpile-only]");
    process.exit(2);
}
const transpileOnly = process.argv.includes("--transpile-only");
process.chdir(root); // the language host runs the program from the project directory

const rootRequire = createRequire(path.join(root, "package.json"));
const tsutils = rootRequire("@pulumi/pulumi/tsutils");
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
const compilerOptions = tsutils.loadTypeScriptCompilerOptions("tsconfig.json");
rootRequire(tsnodeRequire).register({
    compiler: typescriptRequire,
    transpileOnly: transpileOnly || compilerOptions.noCheck,
    project: "tsconfig.json",
    skipProject: false,
    // The language host's defaults for TypeScript >= 4.7, overridden by tsconfig.json.
    compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions },
});

const started = Date.now();
const { synthesize } = require(path.join(root, "scripts", "synth", "run.ts"));
synthesize(stack).then(
    (plan) => console.log(`${plan.resources.length} resources in ${Date.now() - started} ms`),
    (err) => {
        console.error(err instanceof Error ? err.message : String(err));
        process.exit(1);
    },
);
