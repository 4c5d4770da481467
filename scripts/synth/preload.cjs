/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS: it runs before tsx is registered */
/**
 * `node --require ./scripts/synth/preload.cjs --import tsx scripts/synth.ts …` (what `npm run synth`
 * runs; the tests' and the bench's synths and the synth worker load it the same way).
 *
 * Loads @pulumi/pulumi before tsx registers its hooks: under tsx every module Node loads, the SDK's
 * ~900 JavaScript files included, passes through tsx's resolver and ES-module check, which doubles
 * the SDK's load time (about 0.5 s of a cold synth). `--require` preloads run before `--import`
 * ones, whatever their order on the command line. The program later requires the same, cached
 * module, so nothing it sees changes. Also turns on V8's compile cache (see ./fast-start.ts) first.
 */
const path = require("node:path");
const { createRequire, enableCompileCache } = require("node:module");

enableCompileCache?.();
createRequire(path.join(__dirname, "..", "..", "package.json"))("@pulumi/pulumi");
