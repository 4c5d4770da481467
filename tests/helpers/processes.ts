/**
 * Starting, watching and stopping real processes from tests (the reference app, Prometheus, …).
 *
 * Rules this helper enforces so every test can follow them:
 *  - processes are spawned directly (no shell), so the PID we hold is the process itself;
 *  - they are stopped by that PID (SIGTERM, then SIGKILL after a bounded wait), never by name;
 *  - readiness is polled with a bounded deadline, never slept for; a process that dies while we wait
 *    fails the wait at once, with its output in the error.
 *
 * Typical use:
 *   const procs = new ProcessGroup();
 *   after(() => procs.stopAll());
 *   const port = await withFreePorts(1, async ([port]) => {
 *       const app = procs.start("app", process.execPath, ["app/server.js"], { env: { PORT: String(port) } });
 *       await waitForHttp(`http://127.0.0.1:${port}/health`, { process: app });
 *       return port;
 *   });
 */
import { spawn } from "node:child_process";
import * as net from "node:net";
import * as path from "node:path";

/** How a process ended. */
export interface ExitInfo {
    readonly code: number | null;
    readonly signal: NodeJS.Signals | null;
}

export interface StartOptions {
    /** Extra environment, merged over this process's environment (`undefined` removes a variable). */
    readonly env?: Readonly<Record<string, string | undefined>>;
    /** Start from an empty environment (plus PATH) instead of this process's. @default false */
    readonly cleanEnv?: boolean;
    readonly cwd?: string;
    /** Characters of stdout/stderr kept (the tail). @default 65536 */
    readonly maxOutput?: number;
}

/** A process started by {@link startProcess}. */
export interface RunningProcess {
    readonly name: string;
    readonly pid: number;
    /** Resolves when the process has exited (never rejects). */
    readonly exited: Promise<ExitInfo>;
    /** Exit status once it has exited, else undefined. */
    exitInfo(): ExitInfo | undefined;
    stdout(): string;
    stderr(): string;
    /** stdout and stderr, labelled, for error messages. */
    describe(): string;
}

/** Spawns `command args` without a shell and captures its output. Throws if it cannot be spawned. */
export function startProcess(name: string, command: string, args: readonly string[], opts: StartOptions = {}): RunningProcess {
    const env: Record<string, string> = {};
    const base = opts.cleanEnv ? { PATH: process.env.PATH } : process.env;
    for (const [k, v] of Object.entries({ ...base, ...opts.env })) {
        if (v !== undefined) {
            env[k] = v;
        }
    }
    const child = spawn(command, [...args], { cwd: opts.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    if (child.pid === undefined) {
        throw new Error(`could not start ${name} (${command})`);
    }
    const max = opts.maxOutput ?? 65536;
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        out = (out + chunk).slice(-max);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        err = (err + chunk).slice(-max);
    });
    let info: ExitInfo | undefined;
    const exited = new Promise<ExitInfo>((resolve) => {
        child.on("error", (e) => {
            err += `\n[spawn error] ${e.message}`;
        });
        // "close" (not "exit"): all output has been read by then.
        child.on("close", (code, signal) => {
            info = { code, signal };
            resolve(info);
        });
    });
    const pid = child.pid;
    return {
        name,
        pid,
        exited,
        exitInfo: () => info,
        stdout: () => out,
        stderr: () => err,
        describe: () => `${name} (pid ${pid}) stdout:\n${out || "(empty)"}\n${name} stderr:\n${err || "(empty)"}`,
    };
}

/**
 * Stops a process by its PID: `signal` (default SIGTERM), then SIGKILL if it is still running after
 * `timeoutMs`. Returns how it exited. Safe to call on a process that has already exited.
 */
export async function stopProcess(
    proc: RunningProcess,
    opts: { signal?: NodeJS.Signals; timeoutMs?: number } = {},
): Promise<ExitInfo> {
    const done = proc.exitInfo();
    if (done) {
        return done;
    }
    signalPid(proc.pid, opts.signal ?? "SIGTERM");
    const graceful = await raceTimeout(proc.exited, opts.timeoutMs ?? 5000);
    if (graceful) {
        return graceful;
    }
    signalPid(proc.pid, "SIGKILL");
    return proc.exited;
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
    try {
        process.kill(pid, signal);
    } catch (e) {
        // ESRCH: it exited between our check and the signal — that is what we wanted.
        if ((e as NodeJS.ErrnoException).code !== "ESRCH") {
            throw e;
        }
    }
}

/** Processes started by one test suite, stopped together (in reverse start order) in `after`. */
export class ProcessGroup {
    private readonly procs: RunningProcess[] = [];

    start(name: string, command: string, args: readonly string[], opts?: StartOptions): RunningProcess {
        const proc = startProcess(name, command, args, opts);
        this.procs.push(proc);
        return proc;
    }

    /** Every process started so far. */
    all(): readonly RunningProcess[] {
        return [...this.procs];
    }

    /** Stops every process by PID; waits for all of them even if one fails to stop. */
    async stopAll(opts?: { timeoutMs?: number }): Promise<void> {
        const procs = this.procs.splice(0).reverse();
        const results = await Promise.allSettled(procs.map((p) => stopProcess(p, opts)));
        const failed = results.flatMap((r, i) => (r.status === "rejected" ? [`${procs[i].name}: ${String(r.reason)}`] : []));
        if (failed.length > 0) {
            throw new Error(`could not stop: ${failed.join("; ")}`);
        }
    }
}

/**
 * Runs a command to completion (bounded by `timeoutMs`, after which it is killed and the promise
 * rejects) and returns its exit status and output.
 */
export async function runToExit(
    command: string,
    args: readonly string[],
    opts: StartOptions & { timeoutMs?: number } = {},
): Promise<ExitInfo & { stdout: string; stderr: string }> {
    const proc = startProcess(command, command, args, opts);
    const timeoutMs = opts.timeoutMs ?? 30000;
    const finished = await raceTimeout(proc.exited, timeoutMs);
    if (!finished) {
        await stopProcess(proc, { signal: "SIGKILL" });
        throw new Error(`${command} ${args.join(" ")} did not finish within ${timeoutMs} ms\n${proc.describe()}`);
    }
    return { ...finished, stdout: proc.stdout(), stderr: proc.stderr() };
}

export interface WaitOptions {
    /** @default 10000 */
    readonly timeoutMs?: number;
    /** @default 100 */
    readonly intervalMs?: number;
    /** Fail at once (with its output) if this process exits while we wait. */
    readonly process?: RunningProcess;
}

/**
 * Polls `probe` until it returns a value other than `undefined`/`false`, and returns that value.
 * Exceptions from `probe` count as "not yet" (the last one is reported on timeout).
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, opts: WaitOptions = {}): Promise<T> {
    const deadline = Date.now() + (opts.timeoutMs ?? 10000);
    let last: unknown;
    for (;;) {
        const exited = opts.process?.exitInfo();
        if (exited) {
            throw new Error(`${opts.process?.name} exited (code ${exited.code}, signal ${exited.signal}) while waiting for ${what}\n${opts.process?.describe()}`);
        }
        try {
            const value = await probe();
            if (value !== undefined && value !== false) {
                return value;
            }
            last = undefined;
        } catch (e) {
            last = e;
        }
        if (Date.now() >= deadline) {
            const why = last === undefined ? "" : ` (last error: ${last instanceof Error ? last.message : String(last)})`;
            const output = opts.process ? `\n${opts.process.describe()}` : "";
            throw new Error(`timed out after ${opts.timeoutMs ?? 10000} ms waiting for ${what}${why}${output}`);
        }
        await delay(opts.intervalMs ?? 100);
    }
}

/** Waits until `proc` has printed (stdout or stderr) something matching `pattern`; fails at once if it exits first. */
export async function waitForOutput(proc: RunningProcess, pattern: RegExp, opts: Omit<WaitOptions, "process"> = {}): Promise<void> {
    await waitFor(`${proc.name} to print ${pattern}`, () => pattern.test(proc.stdout()) || pattern.test(proc.stderr()), {
        intervalMs: 20,
        ...opts,
        process: proc,
    });
}

/** Waits until `url` answers with `status` (default 200); returns the response body. */
export async function waitForHttp(url: string, opts: WaitOptions & { status?: number } = {}): Promise<string> {
    const status = opts.status ?? 200;
    return waitFor(
        `${url} to answer ${status}`,
        async () => {
            const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
            const body = await res.text();
            return res.status === status ? body : undefined;
        },
        opts,
    );
}

/**
 * A TCP port that is free on `host` right now (the kernel's pick). It may be taken by the time a
 * process binds it: to start a server on it, use {@link withFreePorts}.
 */
export async function freePort(host = "127.0.0.1"): Promise<number> {
    return (await freePorts(1, host))[0];
}

/** `count` distinct TCP ports free on `host` right now (held together, so never the same one twice). */
export async function freePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
    const servers: net.Server[] = [];
    try {
        const ports: number[] = [];
        for (let i = 0; i < count; i++) {
            const server = net.createServer();
            server.unref();
            servers.push(server);
            ports.push(
                await new Promise<number>((resolve, reject) => {
                    server.once("error", reject);
                    server.listen(0, host, () => {
                        const address = server.address();
                        if (address && typeof address === "object") {
                            resolve(address.port);
                        } else {
                            reject(new Error("could not determine a free port"));
                        }
                    });
                }),
            );
        }
        return ports;
    } finally {
        await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    }
}

/** What a server prints when its port was taken (Node: EADDRINUSE; Go, e.g. Prometheus: "address already in use"). */
const PORT_TAKEN = /EADDRINUSE|address already in use/i;

/**
 * Runs `start` with `count` ports that were free a moment ago, for a server that must be told its
 * ports (one that cannot bind port 0 and report its choice). `start` starts the server and waits
 * until it is ready; if that fails because another process took one of the ports in between (the
 * error, which carries the process's output, says EADDRINUSE / address already in use), it is
 * tried again on new ports, up to `attempts` times. Any other failure is thrown at once.
 */
export async function withFreePorts<T>(count: number, start: (ports: number[]) => Promise<T>, attempts = 5): Promise<T> {
    for (let attempt = 1; ; attempt++) {
        const ports = await freePorts(count);
        try {
            return await start(ports);
        } catch (err) {
            if (attempt >= attempts || !PORT_TAKEN.test(err instanceof Error ? err.message : String(err))) {
                throw err;
            }
        }
    }
}

/** `promise`'s value, or undefined if it takes longer than `ms` (the timer never outlives the race). */
async function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), ms);
    });
    try {
        return await Promise.race([promise, expired]);
    } finally {
        clearTimeout(timer);
    }
}

function delay(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A running instance of the reference app (app/server.js) on free loopback ports. */
export interface ReferenceApp {
    readonly proc: RunningProcess;
    /** Users' port. */
    readonly port: number;
    /** e.g. http://127.0.0.1:40123 */
    readonly base: string;
    /** The port of /metrics (what Prometheus scrapes). */
    readonly metricsPort: number;
}

/**
 * Starts the reference app in `group` with the given knobs (SLOT, APFA_ERROR_RATIO, APP_VERSION, …)
 * and returns once it answers /health.
 */
export async function startReferenceApp(group: ProcessGroup, name: string, env: Record<string, string>): Promise<ReferenceApp> {
    const server = path.resolve(__dirname, "..", "..", "app", "server.js");
    // The app takes its ports from PORT and METRICS_PORT (1..65535): retried if one was taken meanwhile.
    return withFreePorts(2, async ([port, metricsPort]) => {
        const proc = group.start(name, process.execPath, [server], {
            env: { ...env, PORT: String(port), METRICS_PORT: String(metricsPort), HOST: "127.0.0.1" },
        });
        // This process says it listens on both: whatever answers /health next is this app, not
        // another process that took one of the ports.
        await waitForOutput(proc, new RegExp(`listening on 127\\.0\\.0\\.1:${port}, metrics on ${metricsPort}\\b`));
        const base = `http://127.0.0.1:${port}`;
        await waitForHttp(`${base}/health`, { process: proc });
        return { proc, port, base, metricsPort };
    });
}
