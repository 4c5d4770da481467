/**
 * `npm run bench:synth [-- --runs N]`: offline synth time per stack, cold and warm.
 *
 * Cold: each run is a new Node process doing exactly what `npm run synth -- --stack S` does (load
 * @pulumi/pulumi, tsx compile, load the program and the chosen target's SDK, register every
 * resource on mocks); the first run per stack has tsx's transform cache and V8's compile cache off.
 *
 * Warm: one synth worker thread (scripts/synth/warm.ts, what the tests use) serving every run: tsx
 * and the SDKs are loaded once; a run is the program itself. "first" is the first synth of a stack
 * in the worker (it loads that stack's SDKs; for the first stack also the worker's own boot).
 *
 * Prints min / median / max wall time per stack; cold runs next to the 3 s goal. Figures, not
 * assertions.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { PROJECT_ROOT, listStacks } from "./synth/stack-config";
import { WarmSynth } from "./synth/warm";

const GOAL_MS = 3000;
const runsArg = process.argv.indexOf("--runs");
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

function once(stack: string, env: NodeJS.ProcessEnv): number {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-bench-"));
    const started = process.hrtime.bigint();
    const args = ["--require", "./scripts/synth/preload.cjs", "--import", "tsx", "scripts/synth.ts", "--stack", stack, "--quiet", "--out", out];
    const result = spawnSync(process.execPath, args, {
        cwd: PROJECT_ROOT,
        env,
        encoding: "utf8",
    });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    fs.rmSync(out, { recursive: true, force: true });
    if (result.status !== 0) {
        throw new Error(`synth ${stack} failed: ${result.stderr}`);
    }
    return ms;
}

function warmOnce(warm: WarmSynth, stack: string): number {
    const started = process.hrtime.bigint();
    const result = warm.synth(stack);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (!result.ok) {
        throw new Error(`warm synth ${stack} failed: ${result.failure}`);
    }
    return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const stats = (times: number[]) => [Math.min(...times), median(times), Math.max(...times)].map((ms) => fmt(ms).padEnd(8)).join(" ");

console.log(`offline synth, ${runs} runs per stack (node ${process.version}, ${os.cpus().length} cores)`);
console.log("\ncold process (npm run synth)");
console.log("stack        first (no caches)      min      median   max      goal");
for (const stack of listStacks()) {
    const first = once(stack, { ...process.env, TSX_DISABLE_CACHE: "1", NODE_DISABLE_COMPILE_CACHE: "1" });
    const times = Array.from({ length: runs }, () => once(stack, process.env));
    const worst = Math.max(...times);
    console.log(`${stack.padEnd(12)} ${fmt(first).padEnd(22)} ${stats(times)} ${worst <= GOAL_MS ? "under 3 s" : "OVER 3 s"}`);
}

console.log("\nwarm worker (the tests' synth: one worker thread, SDKs loaded once)");
console.log("stack        first in worker        min      median   max");
const warm = new WarmSynth().start();
try {
    for (const stack of listStacks()) {
        const first = warmOnce(warm, stack);
        const times = Array.from({ length: runs }, () => warmOnce(warm, stack));
        console.log(`${stack.padEnd(12)} ${fmt(first).padEnd(22)} ${stats(times)}`);
    }
} finally {
    warm.stop();
}
