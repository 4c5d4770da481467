/**
 * Processes of the rehearsal: spawned directly (no shell, so the PID we hold is the process),
 * optionally as another OS user (PostgreSQL refuses to run as root), their output kept line by line
 * with arrival times, stopped by PID only. Readiness is polled with a deadline, never slept for.
 */
import { spawn, execFileSync } from "node:child_process";
import * as fs from "node:fs";

export interface Line {
    readonly at: number;
    readonly stream: "stdout" | "stderr";
    readonly text: string;
}

export interface Proc {
    readonly name: string;
    readonly pid: number;
    readonly lines: Line[];
    readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
    readonly stopSignal: NodeJS.Signals;
    exitInfo(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
    /** The last lines of output, for error messages. */
    tail(n?: number): string;
}

export interface SpawnOptions {
    readonly env?: Readonly<Record<string, string | undefined>>;
    readonly cwd?: string;
    /** Run as this OS user (uid, gid). */
    readonly user?: { uid: number; gid: number };
    /** Called for every line as it arrives. */
    readonly onLine?: (line: Line) => void;
    /** The signal `stop` sends first. @default SIGTERM */
    readonly stopSignal?: NodeJS.Signals;
}

const MAX_LINES = 5000;

export function start(name: string, command: string, args: readonly string[], opts: SpawnOptions = {}): Proc {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, ...opts.env })) {
        if (v !== undefined) {
            env[k] = v;
        }
    }
    const child = spawn(command, [...args], {
        cwd: opts.cwd,
        env,
        stdio: ["ignore", "pipe", "pipe"],
        uid: opts.user?.uid,
        gid: opts.user?.gid,
    });
    if (child.pid === undefined) {
        throw new Error(`could not start ${name} (${command})`);
    }
    const lines: Line[] = [];
    const reader = (stream: "stdout" | "stderr") => {
        let partial = "";
        return (chunk: string) => {
            const parts = (partial + chunk).split("\n");
            partial = parts.pop() ?? "";
            const at = Date.now();
            for (const text of parts) {
                const line = { at, stream, text };
                lines.push(line);
                if (lines.length > MAX_LINES) {
                    lines.shift();
                }
                opts.onLine?.(line);
            }
        };
    };
    child.stdout.setEncoding("utf8").on("data", reader("stdout"));
    child.stderr.setEncoding("utf8").on("data", reader("stderr"));
    let info: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        child.on("error", (e) => lines.push({ at: Date.now(), stream: "stderr", text: `[spawn error] ${e.message}` }));
        child.on("close", (code, signal) => {
            info = { code, signal };
            resolve(info);
        });
    });
    return {
        name,
        pid: child.pid,
        lines,
        exited,
        stopSignal: opts.stopSignal ?? "SIGTERM",
        exitInfo: () => info,
        tail: (n = 30) => `${name} (pid ${child.pid}):\n${lines.slice(-n).map((l) => `  ${l.text}`).join("\n") || "  (no output)"}`,
    };
}

/** Runs a command to completion within `timeoutMs`; throws with its output unless it exits 0. */
export async function runOk(name: string, command: string, args: readonly string[], opts: SpawnOptions & { timeoutMs?: number } = {}): Promise<Proc> {
    const proc = start(name, command, args, opts);
    const timeoutMs = opts.timeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
        proc.exited,
        new Promise<undefined>((resolve) => {
            timer = setTimeout(() => resolve(undefined), timeoutMs);
        }),
    ]);
    clearTimeout(timer);
    if (result === undefined) {
        signal(proc.pid, "SIGKILL");
        throw new Error(`${name} did not finish within ${timeoutMs} ms\n${proc.tail()}`);
    }
    if (result.code !== 0) {
        throw new Error(`${name} failed (code ${result.code}, signal ${result.signal})\n${proc.tail()}`);
    }
    return proc;
}

/** Sends a signal to one PID; a process that is already gone is fine. */
export function signal(pid: number, sig: NodeJS.Signals): void {
    try {
        process.kill(pid, sig);
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ESRCH") {
            throw e;
        }
    }
}

/** The PIDs whose parent is `pid` (from /proc), e.g. a postmaster's backends. */
export function childPids(pid: number): number[] {
    const out: number[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) {
            continue;
        }
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            // Field 4 (ppid) follows the command name in parentheses, which may itself contain spaces.
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            if (ppid === pid) {
                out.push(Number(entry));
            }
        } catch {
            // the process exited while we looked
        }
    }
    return out;
}

/** Its stop signal (SIGTERM unless set), then SIGKILL after `graceMs`; resolves when it has exited. */
export async function stop(proc: Proc, graceMs = 5000): Promise<void> {
    if (proc.exitInfo()) {
        return;
    }
    signal(proc.pid, proc.stopSignal);
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
        proc.exited.then(() => true),
        new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(false), graceMs);
        }),
    ]);
    clearTimeout(timer);
    if (!done) {
        signal(proc.pid, "SIGKILL");
        await proc.exited;
    }
}

/** Polls `probe` until it returns something other than undefined/false; throws after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000, intervalMs = 50, watch?: Proc): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
        const exited = watch?.exitInfo();
        if (exited) {
            throw new Error(`${watch?.name} exited (code ${exited.code}, signal ${exited.signal}) while waiting for ${what}\n${watch?.tail()}`);
        }
        try {
            const value = await probe();
            if (value !== undefined && value !== false) {
                return value;
            }
        } catch (err) {
            last = err;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}${watch ? `\n${watch.tail()}` : ""}`);
        }
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
}

/** uid and gid of an OS user (from `id`), or undefined when there is no such user. */
export function osUser(name: string): { uid: number; gid: number } | undefined {
    try {
        const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8" }).trim());
        const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8" }).trim());
        return { uid, gid };
    } catch {
        return undefined;
    }
}
