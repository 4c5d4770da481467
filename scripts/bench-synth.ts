/**
 * `npm run bench:synth [-- --runs N]`: cold-process offline synth time per stack.
 *
 * Each run is a new Node process doing exactly what `npm run synth -- --stack S` does (tsx
 * compile, load the program and the chosen target's SDK, register every resource on mocks).
 * Prints min / median / max wall time per stack next to the 3 s goal. Figures, not assertions.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { PROJECT_ROOT, listStacks } from "./synth/stack-config";

const GOAL_MS = 3000;
const runsArg = process.argv.indexOf("--runs");
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

function once(stack: string, env: NodeJS.ProcessEnv): number {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-bench-"));
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, ["--import", "tsx", "scripts/synth.ts", "--stack", stack, "--quiet", "--out", out], {
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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

console.log(`cold-process synth, ${runs} runs per stack (node ${process.version}, ${os.cpus().length} cores)`);
console.log("stack        first (no tsx cache)   min      median   max      goal");
for (const stack of listStacks()) {
    const first = once(stack, { ...process.env, TSX_DISABLE_CACHE: "1" });
    const times = Array.from({ length: runs }, () => once(stack, process.env));
    const worst = Math.max(...times);
    console.log(
        `${stack.padEnd(12)} ${fmt(first).padEnd(22)} ${fmt(Math.min(...times)).padEnd(8)} ${fmt(median(times)).padEnd(8)} ${fmt(worst).padEnd(8)} ${worst <= GOAL_MS ? "under 3 s" : "OVER 3 s"}`,
    );
}
