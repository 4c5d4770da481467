/**
 * A warm synth: a synchronous call into a long-lived worker thread (./worker.ts) that keeps tsx and
 * the Pulumi SDKs loaded, so each synth costs the program's run (tens to hundreds of ms) instead of
 * a cold Node process (seconds, mostly loading SDKs).
 *
 * Synchronous, because tests call the synth helpers synchronously. The call posts the request on a
 * MessagePort and blocks in `Atomics.wait` on a shared Int32Array until the worker has posted its
 * answer and stored the request's id there; `receiveMessageOnPort` then takes the answer off the
 * port without needing the (blocked) event loop.
 *
 * The worker is replaced after any synth that may have left state behind (a program that failed
 * after registering resources), and the next one starts booting at once, in the background.
 */
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from "node:worker_threads";

import type { Plan } from "./run";
import type { SynthRequest, SynthResponse, WorkerData } from "./worker";

/** A worker's answer: the plan (parsed from the JSON the CLI would write), or the failure's text. */
export type WarmResult = { readonly stdout: string; readonly stderr: string; readonly ms: number } & (
    | { readonly ok: true; readonly plan: Plan }
    | { readonly ok: false; readonly failure: string }
);

/** Stored in the signal word by a worker that could not start. */
const BOOT_FAILED = -1;
/** How long one synth (including the worker's boot and an SDK's first load) may take. */
const DEFAULT_TIMEOUT_MS = 110_000;

interface Running {
    readonly worker: Worker;
    readonly port: MessagePort;
    readonly done: Int32Array;
}

export class WarmSynth {
    private running: Running | undefined;
    private nextId = 1;
    /** Workers started so far (1 + replacements): for tests and figures. */
    started = 0;

    constructor(private readonly timeoutMs = DEFAULT_TIMEOUT_MS) {}

    /** Starts the worker booting (in the background) if none is running. */
    start(): this {
        if (!this.running) {
            this.running = this.spawn();
        }
        return this;
    }

    /** Runs one synth in the worker and returns its answer (a plan, or the failure's text). */
    synth(stack: string, overrides: Record<string, unknown> = {}, options: { preview?: boolean } = {}, retried = false): WarmResult {
        const response = this.ask(stack, overrides, options);
        const { stdout, stderr, ms } = response;
        if (response.ok) {
            return { ok: true, plan: JSON.parse(response.planJson) as Plan, stdout, stderr, ms };
        }
        if (response.retire) {
            // Replace it now: the new worker boots while the caller carries on.
            this.stop();
            this.start();
        }
        if (response.stale && !retried) {
            // The old worker refused the request without running it (an error had escaped an
            // earlier synth after it answered): run it on the new one.
            return this.synth(stack, overrides, options, true);
        }
        return { ok: false, failure: response.failure, stdout, stderr, ms };
    }

    /** Sends one request and blocks until the worker answers it. */
    private ask(stack: string, overrides: Record<string, unknown>, options: { preview?: boolean }): SynthResponse {
        const { port, done } = this.start().running as Running;
        const request: SynthRequest = { id: this.nextId++, stack, overrides, preview: options.preview ?? false };
        port.postMessage(request);
        const deadline = Date.now() + this.timeoutMs;
        while (Atomics.load(done, 0) !== request.id && Atomics.load(done, 0) !== BOOT_FAILED) {
            const left = deadline - Date.now();
            if (left <= 0) {
                this.stop();
                throw new Error(`synth worker: no answer for ${stack} within ${this.timeoutMs} ms; worker stopped`);
            }
            // Returns at once if the value already changed (the answer came first).
            Atomics.wait(done, 0, Atomics.load(done, 0), left);
        }
        const received = receiveMessageOnPort(port);
        if (Atomics.load(done, 0) === BOOT_FAILED) {
            this.stop();
            throw new Error(`synth worker failed to start: ${String((received?.message as { bootError?: string } | undefined)?.bootError)}`);
        }
        const response = received?.message as SynthResponse | undefined;
        if (!response || response.id !== request.id) {
            this.stop();
            throw new Error(`synth worker: answer for ${stack} missing or out of order; worker stopped`);
        }
        return response;
    }

    /** Stops the worker (a later synth starts a new one). */
    stop(): void {
        const running = this.running;
        this.running = undefined;
        if (running) {
            running.port.close();
            void running.worker.terminate();
        }
    }

    private spawn(): Running {
        const { port1, port2 } = new MessageChannel();
        const signal = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
        const data: WorkerData = { port: port2, signal };
        // The worker loads what `npm run synth` preloads, registers tsx (the same CommonJS hook mocha
        // uses) and then loads ./worker.ts; if that fails, it says so at once instead of leaving the
        // caller waiting for its timeout.
        const boot = [
            `try {`,
            `    require(${JSON.stringify(require.resolve("./preload.cjs"))}); // compile cache, @pulumi/pulumi before tsx`,
            `    require(${JSON.stringify(require.resolve("tsx/cjs"))});`,
            `    require(${JSON.stringify(require.resolve("./worker"))});`,
            `} catch (err) {`,
            `    const { workerData } = require("node:worker_threads");`,
            `    workerData.port.postMessage({ bootError: err && err.stack || String(err) });`,
            `    const done = new Int32Array(workerData.signal);`,
            `    Atomics.store(done, 0, ${BOOT_FAILED});`,
            `    Atomics.notify(done, 0);`,
            `}`,
        ].join("\n");
        const worker = new Worker(boot, { eval: true, workerData: data, transferList: [port2] });
        // Neither keeps the process alive: mocha and CLIs exit when their own work is done.
        worker.unref();
        port1.unref();
        worker.on("error", () => {
            // Reported to the caller as a missing answer / timeout; nothing else to do here.
        });
        this.started++;
        return { worker, port: port1, done: new Int32Array(signal) };
    }
}
