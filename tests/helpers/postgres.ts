/**
 * A throwaway PostgreSQL server for tests: initdb into a temp directory, a free loopback port,
 * `pg_ctl start -w`; stopped and deleted by {@link TempPostgres.destroy} (call it in `after`).
 *
 * PostgreSQL refuses to run as root, so when the tests run as root (as on these machines) every
 * server command runs as the `postgres` OS user through `runuser`, and the temp directory is
 * handed to that user. Password authentication (scram-sha-256) is on for TCP, so the app is tested
 * with PGPASSWORD as in production. Durability is off (fsync=off, initdb --no-sync): these servers
 * live for seconds, and a crash of the machine loses nothing anyone needs.
 *
 * The server is stopped through its own pg_ctl and data directory (never by process name).
 */
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { Client } from "pg";

import { runToExit, withFreePorts } from "./processes";
import { findTool, requireTool } from "./tools";

/** The superuser initdb creates; the tests also connect the app as this user. */
const SUPERUSER = "postgres";

export class TempPostgres {
    /** The loopback port the server listens on (kept across restarts). */
    port = 0;
    readonly host = "127.0.0.1";
    readonly user = SUPERUSER;

    /** With `tls`: PEM of the server's self-signed certificate (for 127.0.0.1), as a file the app can read. */
    caFile: string | undefined;

    private constructor(
        private readonly dir: string,
        private readonly tools: { pgCtl: string; initdb: string },
        private readonly runAs: readonly string[],
        readonly password: string,
    ) {}

    private get dataDir(): string {
        return path.join(this.dir, "data");
    }

    private get logFile(): string {
        return path.join(this.dir, "server.log");
    }

    /**
     * For a mocha `before` hook: initializes and starts a server, or skips the suite (outside CI)
     * when PostgreSQL's programs are missing. In CI a missing tool fails the run.
     */
    static async start(ctx: Mocha.Context, opts: { tls?: boolean } = {}): Promise<TempPostgres> {
        const initdb = requireTool(ctx, "initdb");
        const pgCtl = requireTool(ctx, "pg_ctl");
        requireTool(ctx, "postgres");
        let runAs: string[] = [];
        let owner: { uid: number; gid: number } | undefined;
        if (process.getuid?.() === 0) {
            // util-linux's runuser lives in /usr/sbin, which a non-login root shell may lack in PATH.
            const runuser = ["/usr/sbin/runuser", "/sbin/runuser"].find((p) => fs.existsSync(p)) ?? requireTool(ctx, "runuser");
            owner = postgresOsUser();
            if (!owner) {
                const why = "running as root, and there is no `postgres` OS user to run PostgreSQL as (PostgreSQL refuses root)";
                if (process.env.CI && process.env.CI !== "false") {
                    throw new Error(`CI must run every test, but ${why}`);
                }
                console.warn(`      skipped: ${why}`);
                ctx.skip();
            }
            runAs = [runuser, "-u", "postgres", "--"];
        }
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-pg-"));
        const server = new TempPostgres(dir, { pgCtl, initdb }, runAs, crypto.randomBytes(18).toString("base64url"));
        try {
            const pwfile = path.join(dir, "pwfile");
            fs.writeFileSync(pwfile, `${server.password}\n`, { mode: 0o600 });
            if (owner) {
                for (const p of [dir, pwfile]) {
                    fs.chownSync(p, owner.uid, owner.gid);
                }
            }
            await server.run(initdb, [
                "-D", server.dataDir, "-U", SUPERUSER, "-E", "UTF8", "--no-sync", "--no-instructions",
                "--auth-local=trust", "--auth-host=scram-sha-256", `--pwfile=${pwfile}`,
            ], 60000);
            fs.rmSync(pwfile);
            if (opts.tls) {
                server.createCertificate(requireTool(ctx, "openssl"), owner);
            }
            await withFreePorts(1, async ([port]) => {
                server.port = port;
                await server.startServer();
            });
        } catch (err) {
            await server.destroy();
            throw err;
        }
        return server;
    }

    /**
     * A self-signed certificate for 127.0.0.1 (its own CA, valid one day), so the server accepts
     * TLS: pg_hba's `host` lines admit TLS and plain TCP alike, so the client's PGSSLMODE decides.
     */
    private createCertificate(openssl: string, owner: { uid: number; gid: number } | undefined): void {
        const key = path.join(this.dir, "server.key");
        const cert = path.join(this.dir, "server.crt");
        execFileSync(openssl, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], {
            stdio: ["ignore", "ignore", "pipe"],
        });
        // PostgreSQL refuses a key that others can read.
        fs.chmodSync(key, 0o600);
        if (owner) {
            fs.chownSync(key, owner.uid, owner.gid);
            fs.chownSync(cert, owner.uid, owner.gid);
        }
        this.caFile = cert;
    }

    /** (Re)starts the server on {@link port}; resolves once it accepts connections. */
    async startServer(): Promise<void> {
        const options = [`-p ${this.port}`, `-c listen_addresses=${this.host}`, `-k ${this.dir}`, "-c fsync=off", "-c full_page_writes=off"];
        if (this.caFile) {
            options.push("-c ssl=on", `-c ssl_cert_file=${this.caFile}`, `-c ssl_key_file=${path.join(this.dir, "server.key")}`);
        }
        const result = await this.run(this.tools.pgCtl, ["start", "-w", "-t", "60", "-D", this.dataDir, "-l", this.logFile, "-o", options.join(" ")], 70000, false);
        if (result.code !== 0) {
            // The server's own log says why (e.g. "Address already in use", which withFreePorts retries).
            throw new Error(`pg_ctl start failed (exit ${result.code}): ${result.stdout}${result.stderr}\n${this.log()}`);
        }
    }

    /** Stops the server (fast mode: sessions are ended, as in a restart or failover). */
    async stopServer(): Promise<void> {
        await this.run(this.tools.pgCtl, ["stop", "-m", "fast", "-w", "-t", "60", "-D", this.dataDir], 70000);
    }

    /** libpq environment for the app, connecting to `database` as the superuser over TCP. */
    appEnv(database: string): Record<string, string> {
        return {
            PGHOST: this.host,
            PGPORT: String(this.port),
            PGDATABASE: database,
            PGUSER: this.user,
            PGPASSWORD: this.password,
            PGSSLMODE: "disable",
        };
    }

    /** Runs one statement on `database` in a fresh session and returns its rows. */
    async query<R extends Record<string, unknown>>(database: string, sql: string, params: unknown[] = []): Promise<R[]> {
        const client = this.client(database);
        await client.connect();
        try {
            return (await client.query<R>(sql, params)).rows;
        } finally {
            await client.end();
        }
    }

    /** A client for `database` (not connected yet), for tests that hold a session open. */
    client(database: string): Client {
        return new Client({ host: this.host, port: this.port, database, user: this.user, password: this.password });
    }

    /** Creates an empty database (a fresh schema for one test). */
    async createDatabase(name: string): Promise<void> {
        if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
            throw new Error(`not a plain database name: ${name}`);
        }
        await this.query("postgres", `CREATE DATABASE ${name}`);
    }

    /** The server's log (for failure messages). */
    log(): string {
        try {
            return fs.readFileSync(this.logFile, "utf8");
        } catch {
            return "(no server log)";
        }
    }

    /** Stops the server if it runs and deletes its directory. */
    async destroy(): Promise<void> {
        if (fs.existsSync(path.join(this.dataDir, "postmaster.pid"))) {
            await this.run(this.tools.pgCtl, ["stop", "-m", "immediate", "-w", "-t", "60", "-D", this.dataDir], 70000, false);
        }
        fs.rmSync(this.dir, { recursive: true, force: true });
    }

    private async run(command: string, args: readonly string[], timeoutMs: number, check = true): Promise<{ code: number | null; stdout: string; stderr: string }> {
        const [exe, ...rest] = this.runAs.length > 0 ? [...this.runAs, command, ...args] : [command, ...args];
        const result = await runToExit(exe, rest, { timeoutMs });
        if (check && result.code !== 0) {
            throw new Error(`${path.basename(command)} ${args.join(" ")} exited ${result.code}:\n${result.stdout}${result.stderr}`);
        }
        return result;
    }
}

/** uid/gid of the `postgres` OS user, or undefined when there is none. */
function postgresOsUser(): { uid: number; gid: number } | undefined {
    const id = findTool("id");
    if (!id) {
        return undefined;
    }
    try {
        const uid = Number(execFileSync(id, ["-u", "postgres"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
        const gid = Number(execFileSync(id, ["-g", "postgres"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
        return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
    } catch {
        return undefined;
    }
}
