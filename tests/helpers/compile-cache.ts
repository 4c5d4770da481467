/**
 * Loaded by mocha before any test file (.mocharc.json `require`): V8's on-disk code cache
 * (`module.enableCompileCache`) for the test process, and — through NODE_COMPILE_CACHE — for the
 * Node processes tests start (synth CLIs, harnesses, Pulumi's loader, the reference app). Each then
 * compiles the SDKs' modules once per machine instead of once per process. It caches compiled
 * code only; what runs is unchanged.
 */
import * as module from "node:module";

const enabled = module.enableCompileCache?.();
if (enabled?.directory && process.env.NODE_COMPILE_CACHE === undefined) {
    process.env.NODE_COMPILE_CACHE = enabled.directory;
}
