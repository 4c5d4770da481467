/**
 * A real failover rehearsal on this machine, with real processes:
 *
 *   region A   PostgreSQL primary + N reference-app replicas (app/server.js)
 *   region B   PostgreSQL hot standby (pg_basebackup -R: asynchronous streaming replication, as
 *              Aurora Global Database replicates) + N app replicas on B's database
 *   entry      HAProxy: A's replicas as servers, B's as `backup` servers, active health checks on
 *              the apps' readiness path /health/db (200 only with a reachable, *writable* database:
 *              B's replicas count as able to serve only once B is promoted; the liveness path
 *              /health stays 200 on a read-only standby, by design, so it cannot tell)
 *   controller tools/failover/main.ts, started through its real entry point with the postgres
 *              adapter, probing region A from outside it
 *
 * A steady write load runs through the entry; region A is killed with SIGKILL (postgres, its
 * backends, the apps); the rehearsal measures what users saw and what was lost:
 * RTO (last acknowledged write before the kill → first after), RPO (acknowledged writes missing
 * on the promoted database), detection (kill → the controller's promote decision), promotion
 * (the adapter call), and the controller's decisions.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

import { Client } from "pg";

import { findTool } from "../../../scripts/tool-path";
import { FileControlStore } from "../control-store";
import { parseStatsCsv, renderHaproxyConfig, type EntryServer } from "./haproxy";
import { WriteLoad, type WriteRecord } from "./load";
import { childPids, osUser, runOk, signal, start, stop, waitFor, type Proc } from "./processes";

const PROJECT_ROOT = path.resolve(__dirname, "..", "..", "..");

export interface RehearsalOptions {
    /**
     * unplanned: SIGKILL region A (the controller must detect it and promote B, accepting loss).
     * planned: a switchover drill (`main.ts switchover --yes`: fence A read-only, wait for B to
     * catch up, promote B; RPO 0; the controller must notice and not promote again). @default "unplanned"
     */
    readonly mode: "unplanned" | "planned";
    /** The controller's loop interval (ms). @default 1000 */
    readonly probeIntervalMs: number;
    /** Failed probes before the controller promotes. @default 3 */
    readonly failureThreshold: number;
    /** Consecutive successes that reset the count. @default 2 */
    readonly recoveryThreshold: number;
    /** HAProxy health check interval (ms), failures to mark down, successes to mark up. @default 500 / 2 / 2 */
    readonly entryInterMs: number;
    readonly entryFall: number;
    readonly entryRise: number;
    /** App replicas per region. @default 2 */
    readonly replicasPerRegion: number;
    /** Writes per second through the entry. @default 40 */
    readonly writeRate: number;
    /** Steady load before the kill (ms). @default 3000 */
    readonly steadyMs: number;
    /** Load kept up after the first acknowledged write following the failover (ms). @default 2000 */
    readonly afterRecoveryMs: number;
    /** Give up when writes have not recovered this long after the kill (ms). @default 60000 */
    readonly recoveryTimeoutMs: number;
    /** synchronous_commit on the primary (replication itself is always asynchronous). @default "off" */
    readonly synchronousCommit: "on" | "off" | "local";
    /** Keep the temporary directory (data dirs, configs, logs) for inspection. @default false */
    readonly keep: boolean;
    /** Progress lines (stderr in the CLI). */
    readonly progress: (line: string) => void;
}

export const DEFAULT_REHEARSAL: RehearsalOptions = {
    mode: "unplanned",
    probeIntervalMs: 1000,
    failureThreshold: 3,
    recoveryThreshold: 2,
    entryInterMs: 500,
    entryFall: 2,
    entryRise: 2,
    replicasPerRegion: 2,
    writeRate: 40,
    steadyMs: 3000,
    afterRecoveryMs: 2000,
    recoveryTimeoutMs: 60_000,
    synchronousCommit: "off",
    keep: false,
    progress: () => undefined,
};

export interface ControllerLine {
    readonly at: number;
    readonly record: Record<string, unknown>;
}

export interface RehearsalResult {
    readonly mode: "unplanned" | "planned";
    /** The kill (unplanned), or the start of the switchover (planned). */
    readonly killAt: number;
    /** planned: how long the switchover command took (fence, catch up, promote). */
    readonly switchoverMs?: number;
    readonly lastAckBefore?: WriteRecord;
    readonly firstAckAfter?: WriteRecord;
    /** The longest gap between consecutive acknowledged writes ending after the event (last success before → first after). */
    readonly rtoMs?: number;
    /** Kill → the controller's promote decision. */
    readonly detectionMs?: number;
    /** The promotion call (pg_promote) as the controller measured it. */
    readonly promotionMs?: number;
    /** Kill → HAProxy marks the first backup server up. */
    readonly entrySwitchMs?: number;
    readonly sent: number;
    readonly acknowledged: number;
    readonly failedRequests: number;
    readonly skipped: number;
    /** Every acknowledged write (201 with an id), in send order. */
    readonly acked: readonly WriteRecord[];
    /** Acknowledged writes the promoted database does not have (its name is not stored under its id). */
    readonly missing: readonly WriteRecord[];
    /** How long before the kill the oldest missing write was acknowledged (0 when none is missing). */
    readonly lossWindowMs: number;
    /** Successful promotions per the controller's log, and per its metrics. */
    readonly promotionsLogged: number;
    readonly promotionsMetric: number;
    /** Whether region B's database left recovery. */
    readonly standbyPromoted: boolean;
    readonly decisions: readonly ControllerLine[];
    /** HAProxy's server state changes, with arrival time. */
    readonly entryEvents: ReadonlyArray<{ at: number; text: string }>;
    /** Writes acknowledged after the failover that the promoted database also has (a sample check). */
    readonly writesAfterFailover: number;
    /** The options it ran with (progress callback left out). */
    readonly options: Readonly<Record<string, unknown>>;
}

/** A tool the rehearsal cannot run without is missing (the test skips, or fails in CI). */
export class MissingPrerequisite extends Error {
    constructor(message: string) {
        super(message);
        this.name = "MissingPrerequisite";
    }
}

/** What the rehearsal needs on this machine; throws MissingPrerequisite naming everything missing. */
export function prerequisites(): { postgres: string; initdb: string; pgBasebackup: string; haproxy: string; pgUser: { uid: number; gid: number } } {
    const missing: string[] = [];
    const tool = (name: string) => {
        const found = findTool(name);
        if (!found) {
            missing.push(`${name} (not in .tools/bin or PATH; run \`npm run tools\`, then \`source .tools/env.sh\`)`);
        }
        return found ?? "";
    };
    const tools = { postgres: tool("postgres"), initdb: tool("initdb"), pgBasebackup: tool("pg_basebackup"), haproxy: tool("haproxy") };
    let pgUser = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
    if (pgUser.uid === 0) {
        // PostgreSQL refuses to run as root: run it as the `postgres` OS user.
        const user = osUser("postgres");
        if (!user) {
            missing.push("an OS user `postgres` (PostgreSQL refuses to run as root)");
        } else {
            pgUser = user;
        }
    }
    if (missing.length > 0) {
        throw new MissingPrerequisite(`the failover rehearsal needs ${missing.join("; ")}`);
    }
    return { ...tools, pgUser };
}

/** `count` distinct free TCP ports on 127.0.0.1 (held together while picked). */
async function freePorts(count: number): Promise<number[]> {
    const servers: net.Server[] = [];
    try {
        const ports: number[] = [];
        for (let i = 0; i < count; i++) {
            const server = net.createServer();
            servers.push(server);
            ports.push(
                await new Promise<number>((resolve, reject) => {
                    server.once("error", reject);
                    server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
                }),
            );
        }
        return ports;
    } finally {
        await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    }
}

const dbUrl = (port: number) => `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`;

async function query<T extends Record<string, unknown>>(port: number, sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: dbUrl(port), connectionTimeoutMillis: 1000, statement_timeout: 2000 });
    client.on("error", () => undefined);
    await client.connect();
    try {
        return (await client.query<T>(sql, params)).rows;
    } finally {
        await client.end().catch(() => undefined);
    }
}

/** Runs the rehearsal end to end and tears everything down (also on failure). */
export async function rehearse(partial: Partial<RehearsalOptions> = {}): Promise<RehearsalResult> {
    const o: RehearsalOptions = { ...DEFAULT_REHEARSAL, ...partial };
    const pre = prerequisites();
    const say = o.progress;
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-failover-"));
    fs.chownSync(root, pre.pgUser.uid, pre.pgUser.gid);
    const procs: Proc[] = [];
    const regionA: Proc[] = [];
    let load: WriteLoad | undefined;
    const track = (p: Proc, region?: Proc[]) => {
        procs.push(p);
        region?.push(p);
        return p;
    };
    try {
        const n = o.replicasPerRegion;
        const ports = await freePorts(5 + 4 * n);
        const [pgA, pgB, entryPort, statsPort, controllerMetrics] = ports;
        const appPort = (region: number, i: number) => ports[5 + region * 2 * n + i];
        const metricsPort = (region: number, i: number) => ports[5 + region * 2 * n + n + i];

        // --- databases -------------------------------------------------------------------------
        const asPg = { user: pre.pgUser, cwd: root };
        const dataA = path.join(root, "region-a");
        const dataB = path.join(root, "region-b");
        say("initdb (region A primary)");
        // trust authentication: a throwaway cluster that listens on 127.0.0.1 only, for this run.
        await runOk("initdb", pre.initdb, ["-D", dataA, "-U", "postgres", "-A", "trust", "--no-sync", "--locale=C", "-E", "UTF8"], asPg);
        const pgSettings = (port: number) => [
            "-D",
            port === pgA ? dataA : dataB,
            "-c",
            `port=${port}`,
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "unix_socket_directories=",
            "-c",
            "wal_level=replica",
            "-c",
            "max_wal_senders=5",
            "-c",
            "hot_standby=on",
            "-c",
            `synchronous_commit=${o.synchronousCommit}`,
            // A rehearsal on a shared machine: no fsync (a SIGKILLed process loses nothing the OS has; only a machine crash would).
            "-c",
            "fsync=off",
            "-c",
            "max_connections=60",
            "-c",
            "log_min_messages=warning",
        ];
        const startPg = async (name: string, port: number) => {
            // SIGINT = PostgreSQL's fast shutdown (SIGTERM would wait for every client to disconnect).
            const proc = track(start(name, pre.postgres, pgSettings(port), { ...asPg, stopSignal: "SIGINT" }), port === pgA ? regionA : undefined);
            await waitFor(`${name} to accept connections`, () => query(port, "SELECT 1").then(() => true), 20_000, 100, proc);
            return proc;
        };
        await startPg("postgres-a", pgA);
        say("pg_basebackup -R (region B standby)");
        await runOk("pg_basebackup", pre.pgBasebackup, ["-h", "127.0.0.1", "-p", String(pgA), "-U", "postgres", "-D", dataB, "-R", "-X", "stream", "--no-sync"], asPg);
        await startPg("postgres-b", pgB);
        const recovering = await query<{ r: boolean }>(pgB, "SELECT pg_is_in_recovery() AS r");
        if (!recovering[0].r) {
            throw new Error("region B's database is not a standby after pg_basebackup -R");
        }
        await waitFor("streaming replication A → B", async () => (await query(pgA, "SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'")).length === 1, 15_000);

        // --- apps -------------------------------------------------------------------------------
        const server = path.join(PROJECT_ROOT, "app", "server.js");
        const startApp = (region: 0 | 1, i: number) => {
            const name = `app-${region === 0 ? "a" : "b"}${i + 1}`;
            const proc = track(
                start(name, process.execPath, [server], {
                    env: {
                        PORT: String(appPort(region, i)),
                        METRICS_PORT: String(metricsPort(region, i)),
                        HOST: "127.0.0.1",
                        PGHOST: "127.0.0.1",
                        PGPORT: String(region === 0 ? pgA : pgB),
                        PGUSER: "postgres",
                        PGDATABASE: "postgres",
                        PGPASSWORD: undefined,
                        PGSSLMODE: "disable",
                        SHUTDOWN_TIMEOUT_MS: "2000",
                    },
                }),
                region === 0 ? regionA : undefined,
            );
            return waitFor(`${name} /health`, async () => (await fetch(`http://127.0.0.1:${appPort(region, i)}/health`, { signal: AbortSignal.timeout(1000) })).status === 200, 20_000, 100, proc);
        };
        say(`starting ${n} app replicas per region`);
        // Region A's apps first: they create the schema on the primary; B's start once it has replicated.
        await Promise.all(Array.from({ length: n }, (_, i) => startApp(0, i)));
        await waitFor(
            "the items API on region A",
            async () => (await fetch(`http://127.0.0.1:${appPort(0, 0)}/api/items/0`, { signal: AbortSignal.timeout(1000) })).status !== 503,
            20_000,
        );
        const [{ lsn }] = await query<{ lsn: string }>(pgA, "SELECT pg_current_wal_lsn()::text AS lsn");
        await waitFor("region B to replay region A's schema", async () => {
            const [{ behind }] = await query<{ behind: string }>(pgB, "SELECT pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn())::text AS behind", [lsn]);
            return Number(behind) <= 0;
        });
        await Promise.all(Array.from({ length: n }, (_, i) => startApp(1, i)));

        // --- global entry -----------------------------------------------------------------------
        const servers: EntryServer[] = [];
        for (const region of [0, 1] as const) {
            for (let i = 0; i < n; i++) {
                servers.push({ name: `${region === 0 ? "a" : "b"}${i + 1}`, port: appPort(region, i), backup: region === 1 });
            }
        }
        const cfgFile = path.join(root, "haproxy.cfg");
        fs.writeFileSync(cfgFile, renderHaproxyConfig({ frontendPort: entryPort, statsPort, servers, interMs: o.entryInterMs, fall: o.entryFall, rise: o.entryRise }));
        await runOk("haproxy -c", pre.haproxy, ["-c", "-q", "-f", cfgFile]);
        const entryEvents: Array<{ at: number; text: string }> = [];
        const haproxy = track(
            start("haproxy", pre.haproxy, ["-db", "-f", cfgFile], {
                onLine: (line) => {
                    // The log goes to stdout; in foreground mode HAProxy also echoes state changes on stderr.
                    if (line.stream === "stdout" && /Server regions\/\S+ is (UP|DOWN)/.test(line.text)) {
                        entryEvents.push({ at: line.at, text: line.text.replace(/^.*?(Server regions)/, "$1") });
                    }
                },
            }),
        );
        const entryStatus = async () => parseStatsCsv(await (await fetch(`http://127.0.0.1:${statsPort}/stats;csv`, { signal: AbortSignal.timeout(1000) })).text());
        await waitFor(
            "HAProxy: region A up, region B down (read-only standby)",
            async () => {
                const st = await entryStatus();
                return servers.every((s) => (st.get(s.name) ?? "").startsWith(s.backup ? "DOWN" : "UP"));
            },
            20_000,
            100,
            haproxy,
        );

        // --- controller -------------------------------------------------------------------------
        const decisions: ControllerLine[] = [];
        const controllerMain = path.join(PROJECT_ROOT, "tools", "failover", "main.ts");
        const controllerEnv = {
            APFA_FAILOVER_ADAPTER: "postgres",
            APFA_FAILOVER_PG_STANDBY_URL: dbUrl(pgB),
            // Region A's readiness path (app and a writable database), from outside region A.
            APFA_FAILOVER_PRIMARY_HEALTH_URLS: Array.from({ length: n }, (_, i) => `http://127.0.0.1:${appPort(0, i)}/health/db`).join(","),
            // Region B's liveness path: its apps answer (its database is read-only until promoted;
            // the adapter checks that it is a reachable standby).
            APFA_FAILOVER_STANDBY_HEALTH_URLS: Array.from({ length: n }, (_, i) => `http://127.0.0.1:${appPort(1, i)}/health`).join(","),
            APFA_FAILOVER_PRIMARY_DB_URL: dbUrl(pgA),
            APFA_FAILOVER_INTERVAL_SECONDS: String(o.probeIntervalMs / 1000),
            APFA_FAILOVER_PROBE_TIMEOUT_SECONDS: String(Math.min(1, o.probeIntervalMs / 2000)),
            APFA_FAILOVER_FAILURE_THRESHOLD: String(o.failureThreshold),
            APFA_FAILOVER_RECOVERY_THRESHOLD: String(o.recoveryThreshold),
            APFA_FAILOVER_CONTROL_FILE: path.join(root, "failover-control.json"),
            APFA_FAILOVER_METRICS_PORT: String(controllerMetrics),
            APFA_FAILOVER_METRICS_HOST: "127.0.0.1",
        };
        const controller = track(
            start("controller", process.execPath, ["--require", "tsx/cjs", controllerMain, "run"], {
                cwd: PROJECT_ROOT,
                env: controllerEnv,
                onLine: (line) => {
                    if (line.stream === "stdout" && line.text.startsWith("{")) {
                        try {
                            decisions.push({ at: line.at, record: JSON.parse(line.text) as Record<string, unknown> });
                        } catch {
                            // not a JSON line
                        }
                    }
                },
            }),
        );
        await waitFor("the controller to see region A healthy", () => decisions.some((d) => d.record.reason === "primary-healthy"), 20_000, 50, controller);

        // --- load, kill, recovery ---------------------------------------------------------------
        say(`steady write load at ${o.writeRate}/s through HAProxy for ${o.steadyMs} ms`);
        load = new WriteLoad({ url: `http://127.0.0.1:${entryPort}`, ratePerSecond: o.writeRate, timeoutMs: 2000, runId: `rehearsal-${process.pid}-${Date.now()}` });
        load.start();
        const steadyUntil = Date.now() + o.steadyMs;
        await waitFor("the steady phase", () => Date.now() >= steadyUntil && load !== undefined && load.acknowledged().length > 0, o.steadyMs + 10_000);

        let killAt: number;
        let switchoverMs: number | undefined;
        if (o.mode === "planned") {
            // The runbook's order: pause the controller first, so it cannot promote on its own while
            // the fenced region A fails its probes and the switchover waits for B to catch up.
            const control = new FileControlStore(controllerEnv.APFA_FAILOVER_CONTROL_FILE);
            await control.write({ paused: true, rearm: "" });
            const pausedFrom = Date.now();
            await waitFor("the controller to read the pause", () => decisions.some((d) => d.at > pausedFrom && d.record.paused === true), 10_000, 20, controller);
            say("planned switchover: fence region A read-only, wait for region B to catch up, promote it (main.ts switchover --yes)");
            killAt = Date.now();
            await runOk("switchover", process.execPath, ["--require", "tsx/cjs", controllerMain, "switchover", "--yes"], {
                cwd: PROJECT_ROOT,
                env: { ...controllerEnv, APFA_FAILOVER_PG_PRIMARY_URL: dbUrl(pgA), APFA_FAILOVER_METRICS_PORT: "0" },
                timeoutMs: 60_000,
            });
            switchoverMs = Date.now() - killAt;
            await control.write({ paused: false, rearm: "" });
        } else {
            say("killing region A (SIGKILL: postgres and its backends, the apps)");
            const backends = childPids(regionA[0].pid);
            killAt = Date.now();
            for (const p of regionA) {
                signal(p.pid, "SIGKILL");
            }
            for (const pid of backends) {
                signal(pid, "SIGKILL");
            }
            await Promise.all(regionA.map((p) => p.exited));
        }

        const ackedAfter = () => load?.records.find((r) => r.sentAt > killAt && r.status === 201 && r.id !== undefined);
        await waitFor("an acknowledged write after the failover", ackedAfter, o.recoveryTimeoutMs, 50, controller);
        const recoveredAt = Date.now();
        await waitFor("load after recovery", () => Date.now() >= recoveredAt + o.afterRecoveryMs, o.afterRecoveryMs + 5000);
        await load.stop();

        // --- measure ----------------------------------------------------------------------------
        const records = load.records;
        const acked = load.acknowledged();
        // The outage users saw: the longest gap between two consecutive acknowledgements that ends
        // after the event (after a kill that is last-before → first-after; in a switchover, writes
        // sent just after its start are still acknowledged by region A until the fence applies).
        const byAck = [...acked].sort((a, b) => (a.doneAt ?? 0) - (b.doneAt ?? 0));
        let lastAckBefore: WriteRecord | undefined;
        let firstAckAfter: WriteRecord | undefined;
        for (let i = 1; i < byAck.length; i++) {
            const gap = (byAck[i].doneAt ?? 0) - (byAck[i - 1].doneAt ?? 0);
            if ((byAck[i].doneAt ?? 0) > killAt && (!firstAckAfter || gap > (firstAckAfter.doneAt ?? 0) - (lastAckBefore?.doneAt ?? 0))) {
                lastAckBefore = byAck[i - 1];
                firstAckAfter = byAck[i];
            }
        }
        const [{ r: stillRecovering }] = await query<{ r: boolean }>(pgB, "SELECT pg_is_in_recovery() AS r");

        say(`checking ${acked.length} acknowledged writes on the promoted database (through region B's app)`);
        const readBase = `http://127.0.0.1:${appPort(1, 0)}`;
        const present = new Map<number, boolean>();
        for (let i = 0; i < acked.length; i += 25) {
            await Promise.all(
                acked.slice(i, i + 25).map(async (r) => {
                    const res = await fetch(`${readBase}/api/items/${encodeURIComponent(r.id ?? "")}`, { signal: AbortSignal.timeout(5000) });
                    const body = (await res.json().catch(() => ({}))) as { name?: unknown; item?: { name?: unknown } };
                    if (res.status !== 200 && res.status !== 404) {
                        throw new Error(`GET /api/items/${r.id} on region B answered ${res.status}: ${JSON.stringify(body)}`);
                    }
                    present.set(r.seq, res.status === 200 && (body.name ?? body.item?.name) === r.name);
                }),
            );
        }
        const missing = acked.filter((r) => !present.get(r.seq));
        const promoteDecision = decisions.find((d) => d.record.event === "decision" && d.record.action === "promote");
        const promotion = decisions.find((d) => d.record.event === "promotion" && d.record.result === "succeeded");
        const metricsText = await (await fetch(`http://127.0.0.1:${controllerMetrics}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
        const promotionsMetric = Number(/^apfa_failover_promotions_total\{result="succeeded"\} (\d+)$/m.exec(metricsText)?.[1] ?? Number.NaN);
        const firstBackupUp = entryEvents.find((e) => e.at > killAt && /Server regions\/b\d+ is UP/.test(e.text));

        return {
            mode: o.mode,
            killAt,
            switchoverMs,
            lastAckBefore,
            firstAckAfter,
            rtoMs: lastAckBefore && firstAckAfter ? (firstAckAfter.doneAt ?? 0) - (lastAckBefore.doneAt ?? 0) : undefined,
            detectionMs: promoteDecision ? Date.parse(String(promoteDecision.record.time)) - killAt : undefined,
            promotionMs: promotion ? Number(promotion.record.durationMs) : undefined,
            entrySwitchMs: firstBackupUp ? firstBackupUp.at - killAt : undefined,
            sent: records.length,
            acknowledged: acked.length,
            failedRequests: records.filter((r) => r.status !== 201).length,
            skipped: load.skipped,
            acked,
            missing,
            lossWindowMs: missing.length === 0 ? 0 : Math.max(0, killAt - Math.min(...missing.map((r) => r.doneAt ?? killAt))),
            promotionsLogged: decisions.filter((d) => d.record.event === "promotion" && d.record.result === "succeeded").length,
            promotionsMetric,
            standbyPromoted: !stillRecovering,
            decisions: decisions.filter((d) => d.record.event !== "decision" || d.at >= killAt - o.probeIntervalMs * 2),
            entryEvents,
            writesAfterFailover: acked.filter((r) => r.sentAt > killAt && present.get(r.seq)).length,
            options: Object.fromEntries(Object.entries(o).filter(([key]) => key !== "progress")),
        };
    } catch (err) {
        const tails = procs.map((p) => p.tail(15)).join("\n");
        throw new Error(`${(err as Error).message}\n--- process output (last lines) ---\n${tails}`, { cause: err });
    } finally {
        await load?.stop();
        await Promise.all(procs.reverse().map((p) => stop(p, 3000)));
        if (!o.keep) {
            fs.rmSync(root, { recursive: true, force: true });
        } else {
            say(`kept ${root}`);
        }
    }
}
