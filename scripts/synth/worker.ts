/**
 * The inside of a synth worker (see ./warm.ts, which starts and drives it): a worker thread that
 * keeps tsx and the Pulumi SDKs loaded and runs one synth per request, so a synth costs the
 * program's run instead of a cold Node process (tsx plus several large SDKs).
 *
 * A worker thread has its own V8 isolate: its own globals (Pulumi keeps its runtime state in
 * `global.globalStore`), require cache and `process` event handlers. Between two synths it
 *  - gives the Pulumi runtime a fresh store (keeping only the resource-module registry the SDKs
 *    fill once, when they load), and
 *  - drops every module of the project (outside node_modules) that a synth loaded, so the program
 *    and its config run afresh, while the SDKs stay loaded.
 * Output the program prints during a synth (`pulumi.log.warn` prints `warning: [runtime] …` on the
 * mocks) is captured and returned with the result, not printed.
 *
 * A worker that may hold state from a failed synth (promises still in flight) reports itself
 * `retire` so the client replaces it; one that saw an error outside any synth refuses work.
 *
 * Protocol: requests arrive on `workerData.port`; each response is posted on that port, then
 * `workerData.signal[0]` is set to the request's id and notified (the client waits on it with
 * Atomics.wait, so the client's call is synchronous).
 */
import "./fast-start"; // first: source-mapped stack traces off (they were half of a warm synth)

import * as path from "node:path";
import { type MessagePort, workerData } from "node:worker_threads";

import { PROJECT_ROOT } from "./stack-config";
import { formatSynthFailure, mayLeaveWorkInFlight, synthesize, type Plan } from "./run";

export interface SynthRequest {
    readonly id: number;
    readonly stack: string;
    readonly overrides: Record<string, unknown>;
    readonly preview: boolean;
}

export type SynthResponse = { readonly id: number; readonly stdout: string; readonly stderr: string; readonly ms: number } & (
    | {
          readonly ok: true;
          /** The plan as `npm run synth` writes it to plan.json (JSON drops `undefined` fields). */
          readonly planJson: string;
      }
    | {
          readonly ok: false;
          /** What `npm run synth` prints for this failure (formatSynthFailure). */
          readonly failure: string;
          /** The worker may hold state of the failed run: the client must replace it. */
          readonly retire: boolean;
          /** The worker refused the request (not clean): the client should ask a new worker. */
          readonly stale?: boolean;
      }
);

export interface WorkerData {
    readonly port: MessagePort;
    readonly signal: SharedArrayBuffer;
}

const { port, signal } = workerData as WorkerData;
const done = new Int32Array(signal);

/** Modules loaded before the first synth (this file, run.ts, the SDK runtime): never evicted. */
const baseline = new Set(Object.keys(require.cache));
const NODE_MODULES = `${path.sep}node_modules${path.sep}`;

/** A module of the project itself (src/, and whatever else of the repo the program imports). */
function isProjectModule(file: string): boolean {
    return file.startsWith(PROJECT_ROOT + path.sep) && !file.includes(NODE_MODULES);
}

/** Drops the project's modules a previous synth loaded, so the next `require` runs them again. */
function evictProgramModules(): void {
    const evicted = new Set<NodeJS.Module>();
    for (const [file, mod] of Object.entries(require.cache)) {
        if (mod && !baseline.has(file) && isProjectModule(file)) {
            evicted.add(mod);
            delete require.cache[file];
        }
    }
    if (evicted.size === 0) {
        return;
    }
    // `Module.children` keeps every module a module required: without this, run.ts would keep each
    // old program alive, and packagesLoadedBy() could walk into a stale graph.
    for (const mod of Object.values(require.cache)) {
        if (mod && mod.children.some((c) => evicted.has(c))) {
            mod.children = mod.children.filter((c) => !evicted.has(c));
        }
    }
}

/**
 * A fresh Pulumi runtime store. The SDK creates one lazily from `global.globalStore`; we replace it
 * and carry over only what SDK modules register once when they load (resource packages and
 * modules, used to rehydrate resource references) — those modules are not loaded again.
 * `setMocks` (in synthesize) then resets the runtime settings and installs the mock monitor.
 */
function resetPulumiRuntime(): void {
    const g = globalThis as { globalStore?: Record<string, unknown>; stackResource?: unknown };
    const old = g.globalStore;
    g.globalStore = undefined;
    g.stackResource = undefined;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- an SDK internal with no typings
    const state = require("@pulumi/pulumi/runtime/state") as { getGlobalStore(): Record<string, unknown> };
    const fresh = state.getGlobalStore();
    if (old) {
        fresh.resourcePackages = old.resourcePackages;
        fresh.resourceModules = old.resourceModules;
    }
}

/** Captures what this thread writes to stdout and stderr (console included) until `stop`. */
function captureOutput() {
    const out: string[] = [];
    const err: string[] = [];
    const streams = [
        { stream: process.stdout, into: out, write: process.stdout.write },
        { stream: process.stderr, into: err, write: process.stderr.write },
    ];
    for (const { stream, into } of streams) {
        stream.write = ((chunk: unknown, ...rest: unknown[]) => {
            into.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
            const callback = rest.find((r): r is () => void => typeof r === "function");
            callback?.();
            return true;
        }) as typeof stream.write;
    }
    return {
        stop(): { stdout: string; stderr: string } {
            for (const { stream, write } of streams) {
                stream.write = write;
            }
            return { stdout: out.join(""), stderr: err.join("") };
        },
    };
}

/** The request being served, if any. */
let current: SynthRequest | undefined;
/** Errors thrown outside any synth (a leftover of an earlier one): the worker is not clean. */
let tainted: unknown;
/** Rejects the running synth when the program throws asynchronously (an uncaught exception). */
let crash: ((err: unknown) => void) | undefined;

process.on("uncaughtException", (err) => {
    if (crash) {
        crash(err);
    } else {
        tainted ??= err;
    }
});
process.on("unhandledRejection", (reason) => {
    // While synthesize() runs, its own listener reports the rejection as the synth's failure; any
    // other one (after it returned, or between synths) is a leftover: this worker is not clean.
    if (!current || process.listenerCount("unhandledRejection") === 1) {
        tainted ??= reason;
    }
});

// A program that calls process.exit() ends this thread: answer the pending request first, so the
// client does not wait for its timeout.
process.on("exit", (code) => {
    if (current) {
        const failure = `the program exited (code ${code}) during the synth`;
        respond({ id: current.id, ok: false, failure, retire: true, stdout: "", stderr: "", ms: 0 });
    }
});

function respond(response: SynthResponse): void {
    port.postMessage(response);
    Atomics.store(done, 0, response.id);
    Atomics.notify(done, 0);
}

async function serve(req: SynthRequest): Promise<SynthResponse> {
    if (tainted !== undefined) {
        const failure = `synth worker is not clean (an error escaped an earlier synth): ${formatSynthFailure(tainted)}`;
        return { id: req.id, ok: false, failure, retire: true, stale: true, stdout: "", stderr: "", ms: 0 };
    }
    resetPulumiRuntime();
    evictProgramModules();
    const started = process.hrtime.bigint();
    const capture = captureOutput();
    const crashed = new Promise<never>((_, reject) => {
        crash = reject;
    });
    try {
        const plan: Plan = await Promise.race([synthesize(req.stack, req.overrides, { preview: req.preview }), crashed]);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        return { id: req.id, ok: true, planJson: JSON.stringify(plan), ...capture.stop(), ms };
    } catch (err) {
        // A program that failed before registering anything (a config error) leaves nothing behind;
        // anything else may still have promises in flight that would leak into the next synth.
        const retire = mayLeaveWorkInFlight(err);
        const failure = formatSynthFailure(err);
        return { id: req.id, ok: false, failure, retire, ...capture.stop(), ms: Number(process.hrtime.bigint() - started) / 1e6 };
    } finally {
        crash = undefined;
    }
}

port.on("message", (req: SynthRequest) => {
    current = req;
    void serve(req)
        .catch((err: unknown): SynthResponse => {
            const failure = `synth worker error: ${formatSynthFailure(err)}`;
            return { id: req.id, ok: false, failure, retire: true, stdout: "", stderr: "", ms: 0 };
        })
        .then((response) => {
            current = undefined;
            respond(response);
        });
});
