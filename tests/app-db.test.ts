/**
 * The reference app (app/server.js, app/db.js) against a real PostgreSQL started by the test:
 * persistence across restarts, the retry policy, reconnection after the database restarts,
 * liveness vs readiness, migrations from processes starting at once, and the apfa_db_* metrics.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";

import { PROJECT_ROOT } from "../scripts/synth/stack-config";
import { ProcessGroup, runToExit, startReferenceApp, stopProcess, waitFor, type ReferenceApp } from "./helpers/processes";
import { TempPostgres } from "./helpers/postgres";
import { findTool, requireTool } from "./helpers/tools";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the plain CommonJS app's migration list and its checker
const migrations = require("../app/migrations.js") as {
    MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string; contract?: string }>;
    checkMigrations(list: ReadonlyArray<Record<string, unknown>>): string[];
};
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the advisory lock key the app uses, and its TLS options
const { MIGRATION_LOCK, sslOption } = require("../app/db.js") as {
    MIGRATION_LOCK: [number, number];
    sslOption(settings: { sslMode: string; sslRootCert?: string }): unknown;
};

interface Item {
    id: string;
    name: string;
    created_at: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Sample value of `name{labels}` from the app's exposition (exactly one sample must match). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
    const found = text.split("\n").filter((line) => {
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$/.exec(line);
        if (!m || m[1] !== name) {
            return false;
        }
        const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((p) => [p[1], p[2]]));
        return Object.entries(labels).every(([k, v]) => have[k] === v) && Object.keys(have).length === Object.keys(labels).length;
    });
    assert.equal(found.length, 1, `expected one ${name}${JSON.stringify(labels)}, found ${found.length}`);
    return Number(found[0].split(" ").pop());
}

describe("reference app database settings (no server needed)", function () {
    const SERVER = path.join(PROJECT_ROOT, "app", "server.js");
    const complete = { PGHOST: "db.internal", PGDATABASE: "apfa", PGUSER: "apfa", PGPASSWORD: "x", PGSSLMODE: "verify-full" };
    for (const [env, messages] of [
        [{ ...complete, PGSSLMODE: "prefer" }, [/PGSSLMODE="prefer": expected disable, require, verify-full/]],
        [{ ...complete, PGDATABASE: "", PGUSER: undefined }, [/PGDATABASE is unset: required when PGHOST is set/, /PGUSER is unset/]],
        [{ ...complete, PGHOST: "a.internal,b.internal" }, [/PGHOST="a\.internal,b\.internal": expected one host/]],
        [{ ...complete, PGPORT: "5432x" }, [/PGPORT="5432x": expected an integer from 1 to 65535/]],
        [{ ...complete, PGSSLROOTCERT: "/nonexistent/ca.pem" }, [/PGSSLROOTCERT="\/nonexistent\/ca\.pem": cannot read it/]],
        // Checked without PGHOST too, so a typo surfaces before the database is switched on.
        [{ PGHOST: undefined, DB_POOL_MAX: "0" }, [/DB_POOL_MAX="0": expected an integer from 1 to 100/]],
        [{ PGHOST: undefined, DB_STATEMENT_TIMEOUT_MS: "5s", DB_CONNECT_TIMEOUT_MS: "99" }, [/DB_STATEMENT_TIMEOUT_MS="5s"/, /DB_CONNECT_TIMEOUT_MS="99": expected an integer from 100 to 60000/]],
    ] as const) {
        it(`refuses to start with ${JSON.stringify(env)}, naming every bad variable`, async () => {
            const result = await runToExit(process.execPath, [SERVER], { env: { HOST: "127.0.0.1", PORT: "1", ...env }, timeoutMs: 10000 });
            assert.equal(result.code, 1);
            for (const message of messages) {
                assert.match(result.stderr, message);
            }
            assert.doesNotMatch(result.stderr, /PGPASSWORD/, "the password is never echoed");
        });
    }

    it("PGSSLMODE keeps libpq's meanings (pg alone would verify the certificate for `require`)", () => {
        assert.equal(sslOption({ sslMode: "disable" }), false);
        assert.deepEqual(sslOption({ sslMode: "require" }), { rejectUnauthorized: false });
        assert.deepEqual(sslOption({ sslMode: "verify-full" }), { rejectUnauthorized: true });
        assert.deepEqual(sslOption({ sslMode: "verify-full", sslRootCert: "PEM" }), { rejectUnauthorized: true, ca: "PEM" });
    });
});

describe("reference app with PostgreSQL (app/db.js)", function () {
    this.timeout(60000);
    let pg: TempPostgres;
    const procs = new ProcessGroup();
    let databases = 0;

    before(async function () {
        // With a certificate when openssl is there (the TLS tests require it; the rest do not).
        pg = await TempPostgres.start(this, { tls: findTool("openssl") !== undefined });
    });
    after(async () => {
        await procs.stopAll();
        await pg?.destroy();
    });

    /** A fresh, empty database for one test. */
    async function freshDatabase(): Promise<string> {
        const name = `apfa_${++databases}`;
        await pg.createDatabase(name);
        return name;
    }

    async function startApp(name: string, database: string, env: Record<string, string> = {}): Promise<ReferenceApp> {
        return startReferenceApp(procs, name, { ...pg.appEnv(database), ...env });
    }

    /** Waits until the app's /health/db says ready (the schema is migrated and the database is writable). */
    async function waitReady(app: ReferenceApp): Promise<void> {
        await waitFor(`${app.proc.name} /health/db ready`, async () => (await fetch(`${app.base}/health/db`)).status === 200, { process: app.proc, timeoutMs: 20000 });
    }

    async function post(app: ReferenceApp, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
        return fetch(`${app.base}/api/items`, {
            method: "POST",
            headers: { "content-type": "application/json", ...headers },
            body: typeof body === "string" ? body : JSON.stringify(body),
        });
    }

    async function metrics(app: ReferenceApp): Promise<string> {
        const res = await fetch(`http://127.0.0.1:${app.metricsPort}/metrics`);
        assert.equal(res.status, 200);
        return res.text();
    }

    /** Waits until one of the app's sessions waits for a lock (blocked behind the test's LOCK TABLE); returns its pid. */
    async function blockedBackend(database: string): Promise<number> {
        return waitFor(
            "the app's statement to wait for the table lock",
            async () => {
                const rows = await pg.query<{ pid: number }>(
                    database,
                    "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'apfa-blue' AND wait_event_type = 'Lock'",
                    [database],
                );
                return rows.length === 1 ? rows[0].pid : undefined;
            },
            { timeoutMs: 10000 },
        );
    }

    describe("the expand/contract rule (checkMigrations)", function () {
        it("accepts the app's migrations", () => {
            assert.deepEqual(migrations.checkMigrations(migrations.MIGRATIONS), []);
            assert.deepEqual(
                migrations.MIGRATIONS.map((m) => m.version),
                migrations.MIGRATIONS.map((_, i) => i + 1),
            );
        });

        const base = migrations.MIGRATIONS;
        for (const [why, extra, expected] of [
            ["an unmarked DROP COLUMN", { name: "drop_name", sql: "ALTER TABLE items DROP COLUMN name" }, /"DROP COLUMN" would break the slot still running the previous release/],
            ["a RENAME", { name: "rename", sql: "ALTER TABLE items RENAME COLUMN name TO title" }, /"RENAME" would break/],
            ["a type change", { name: "retype", sql: "ALTER TABLE items ALTER COLUMN name TYPE varchar(50)" }, /would break/],
            ["a NOT NULL column without a default", { name: "owner", sql: "ALTER TABLE items ADD COLUMN owner text NOT NULL" }, /would break/],
            ["CREATE INDEX CONCURRENTLY", { name: "idx", sql: "CREATE INDEX CONCURRENTLY items_name ON items (name)" }, /no CONCURRENTLY/],
        ] as const) {
            it(`refuses ${why}`, () => {
                const problems = migrations.checkMigrations([...base, { version: base.length + 1, ...extra }]);
                assert.equal(problems.length, 1, problems.join("\n"));
                assert.match(problems[0], expected);
                assert.match(problems[0], new RegExp(`^migration ${base.length + 1} \\(${extra.name}\\)`));
            });
        }

        it("accepts additive changes, and a contract step that says why it is safe now", () => {
            const next = base.length + 1;
            assert.deepEqual(
                migrations.checkMigrations([
                    ...base,
                    { version: next, name: "owner", sql: "ALTER TABLE items ADD COLUMN owner text NOT NULL DEFAULT 'unknown'" },
                    { version: next + 1, name: "note", sql: "ALTER TABLE items ADD COLUMN note text" },
                    { version: next + 2, name: "drop_note", sql: "ALTER TABLE items DROP COLUMN note", contract: "no release since 1.4 reads note" },
                ]),
                [],
            );
        });

        it("refuses gaps in the version numbers", () => {
            const problems = migrations.checkMigrations([...base, { version: base.length + 2, name: "late", sql: "SELECT 1" }]);
            assert.deepEqual(problems, [`migration ${base.length + 2} (late): versions must be 1, 2, 3, … in order without gaps; expected ${base.length + 1}`]);
        });
    });

    describe("items", function () {
        let database: string;
        let app: ReferenceApp;
        before(async () => {
            database = await freshDatabase();
            app = await startApp("items", database);
            await waitReady(app);
        });

        it("POST /api/items stores an item (201 + Location) that GET /api/items/:id returns, also after the app restarts", async () => {
            const res = await post(app, { name: "first item ✓" });
            assert.equal(res.status, 201);
            const item = (await res.json()) as Item;
            assert.match(item.id, UUID);
            assert.equal(item.name, "first item ✓");
            assert.ok(Math.abs(Date.parse(item.created_at) - Date.now()) < 60000, `created_at ${item.created_at} is not now`);
            assert.equal(res.headers.get("location"), `/api/items/${item.id}`);
            assert.deepEqual(await (await fetch(`${app.base}/api/items/${item.id}`)).json(), item);

            // The SIGTERM path drains the pool; a new process finds the item in the database.
            assert.deepEqual(await stopProcess(app.proc), { code: 0, signal: null });
            await waitFor("the stopped app's sessions to end", async () => {
                const rows = await pg.query<{ n: string }>(database, "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'apfa-blue'", [database]);
                return rows[0].n === "0";
            });
            app = await startApp("items-restarted", database);
            await waitReady(app);
            const again = await fetch(`${app.base}/api/items/${item.id.toUpperCase()}`);
            assert.equal(again.status, 200);
            assert.deepEqual(await again.json(), item);
            assert.match(app.proc.stdout(), /schema at version 1: nothing to migrate/);
        });

        it("GET of an unknown or malformed id answers 404", async () => {
            for (const id of ["00000000-0000-4000-8000-000000000000", "42", "not-a-uuid", "%27%3B--"]) {
                const res = await fetch(`${app.base}/api/items/${id}`);
                assert.equal(res.status, 404, id);
                assert.deepEqual(await res.json(), { error: "not found" });
            }
        });

        it("refuses invalid bodies with 400/413/415 and stores nothing", async () => {
            const [{ n: before }] = await pg.query<{ n: string }>(database, "SELECT count(*) AS n FROM items");
            const cases: Array<[unknown, number, RegExp, Record<string, string>?]> = [
                ["{not json", 400, /not valid JSON/],
                [[1, 2], 400, /must be a JSON object/],
                [{}, 400, /name: required, a string/],
                [{ name: 7 }, 400, /name: required, a string/],
                [{ name: "   " }, 400, /name: 1 to 200 characters/],
                [{ name: "x".repeat(201) }, 400, /name: 1 to 200 characters/],
                [{ name: "nul\u0000byte" }, 400, /name: no control characters/],
                [{ name: "ok", colour: "red" }, 400, /unknown field\(s\): colour/],
                [{ name: "ok" }, 400, /Idempotency-Key header/, { "idempotency-key": "has space" }],
                [{ name: "x".repeat(17000) }, 413, /larger than 16384 bytes/],
                [{ name: "ok" }, 415, /content-type: application\/json/, { "content-type": "text/plain" }],
            ];
            for (const [body, status, message, headers] of cases) {
                const res = await post(app, body, headers);
                const text = await res.text();
                assert.equal(res.status, status, `${JSON.stringify(body).slice(0, 40)} → ${text}`);
                assert.match(text, message);
            }
            // 200 characters (not UTF-16 units) is the limit: 200 emoji pass.
            assert.equal((await post(app, { name: "😀".repeat(200) })).status, 201);
            const [{ n: after }] = await pg.query<{ n: string }>(database, "SELECT count(*) AS n FROM items");
            assert.equal(Number(after), Number(before) + 1);
        });

        it("an Idempotency-Key makes a repeated POST return the first item; another body under the key is 422", async () => {
            const first = await post(app, { name: "once" }, { "idempotency-key": "order-123" });
            assert.equal(first.status, 201);
            const item = (await first.json()) as Item;
            const repeat = await post(app, { name: "once" }, { "idempotency-key": "order-123" });
            assert.equal(repeat.status, 201);
            assert.equal(repeat.headers.get("idempotent-replayed"), "true");
            assert.deepEqual(await repeat.json(), item);
            const other = await post(app, { name: "twice" }, { "idempotency-key": "order-123" });
            assert.equal(other.status, 422);
            const rows = await pg.query(database, "SELECT id FROM items WHERE name IN ('once', 'twice')");
            assert.deepEqual(rows, [{ id: item.id }]);
        });

        it("without PGHOST the items API answers 503 and /health/db says disabled", async () => {
            const off = await startReferenceApp(procs, "no-database", { PGHOST: "" });
            const res = await post(off, { name: "x" });
            assert.equal(res.status, 503);
            assert.equal(((await res.json()) as { reason: string }).reason, "disabled");
            assert.equal((await fetch(`${off.base}/api/items/00000000-0000-4000-8000-000000000000`)).status, 503);
            assert.deepEqual(await (await fetch(`${off.base}/health/db`)).json(), { status: "disabled", database: "disabled" });
            assert.deepEqual(await (await fetch(`${off.base}/health`)).json(), { status: "ok" });
            assert.doesNotMatch(await metrics(off), /apfa_db_/);
            await stopProcess(off.proc);
        });
    });

    describe("retries", function () {
        let database: string;
        let app: ReferenceApp;
        before(async () => {
            database = await freshDatabase();
            // Generous limits, so only the test's actions decide what fails.
            app = await startApp("retries", database, { DB_CONNECT_TIMEOUT_MS: "15000", DB_STATEMENT_TIMEOUT_MS: "20000" });
            await waitReady(app);
        });

        /**
         * Runs `request` while the test holds an exclusive lock on items, ends the app's session
         * that waits for it (as a failover or a server restart would), then releases the lock.
         */
        async function withConnectionLost(request: () => Promise<Response>): Promise<Response> {
            const locker = pg.client(database);
            await locker.connect();
            try {
                await locker.query("BEGIN");
                await locker.query("LOCK TABLE items IN ACCESS EXCLUSIVE MODE");
                const pending = request();
                const pid = await blockedBackend(database);
                // Waits (up to 5 s) until the session has really ended.
                assert.deepEqual(await pg.query(database, "SELECT pg_terminate_backend($1, 5000) AS ended", [pid]), [{ ended: true }]);
                // A retry (if the policy allows one) waits for the lock again, on a new session.
                let answered = false;
                void pending.then(() => (answered = true), () => (answered = true));
                await waitFor("the retry to wait for the lock, or the answer", async () => {
                    const rows = await pg.query(
                        database,
                        "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND application_name = 'apfa-blue' AND wait_event_type = 'Lock' AND pid <> $2",
                        [database, pid],
                    );
                    return rows.length === 1 || answered;
                });
                await locker.query("COMMIT");
                return await pending;
            } finally {
                await locker.end();
            }
        }

        it("a read whose connection is lost is retried on a new connection: 200", async () => {
            const item = (await (await post(app, { name: "read me" })).json()) as Item;
            const res = await withConnectionLost(() => fetch(`${app.base}/api/items/${item.id}`));
            assert.equal(res.status, 200);
            assert.deepEqual(await res.json(), item);
            const text = await metrics(app);
            assert.equal(sample(text, "apfa_db_errors_total", { operation: "get_item", kind: "connection_lost" }), 1);
        });

        it("a write without Idempotency-Key is not repeated once sent: 503, and nothing stored", async () => {
            const res = await withConnectionLost(() => post(app, { name: "unkeyed" }));
            assert.equal(res.status, 503);
            assert.deepEqual(await res.json(), { error: "database unavailable", reason: "connection_lost" });
            assert.equal(res.headers.get("retry-after"), "1");
            assert.deepEqual(await pg.query(database, "SELECT id FROM items WHERE name = 'unkeyed'"), []);
            assert.equal(sample(await metrics(app), "apfa_db_errors_total", { operation: "insert_item", kind: "connection_lost" }), 1);
        });

        it("a write with Idempotency-Key is retried: 201, stored once", async () => {
            const res = await withConnectionLost(() => post(app, { name: "keyed" }, { "idempotency-key": "retry-me" }));
            assert.equal(res.status, 201);
            const item = (await res.json()) as Item;
            assert.deepEqual(await pg.query(database, "SELECT id FROM items WHERE name = 'keyed'"), [{ id: item.id }]);
            assert.equal(sample(await metrics(app), "apfa_db_errors_total", { operation: "insert_item", kind: "connection_lost" }), 2);
        });

        it("when every pooled connection stays busy, a request answers 503 pool_exhausted without calling the database down", async () => {
            const single = await startApp("pool-of-one", database, { DB_POOL_MAX: "1", DB_CONNECT_TIMEOUT_MS: "300" });
            await waitReady(single);
            const item = (await (await post(single, { name: "busy" })).json()) as Item;
            const locker = pg.client(database);
            await locker.connect();
            try {
                await locker.query("BEGIN");
                await locker.query("LOCK TABLE items IN ACCESS EXCLUSIVE MODE");
                // The one connection waits for the lock…
                const first = fetch(`${single.base}/api/items/${item.id}`);
                await blockedBackend(database);
                // …so the next request waits 300 ms for it in the pool's queue and gives up.
                const second = await fetch(`${single.base}/api/items/${item.id}`);
                assert.equal(second.status, 503);
                assert.deepEqual(await second.json(), { error: "too many requests waiting for a database connection", reason: "pool_exhausted" });
                const text = await metrics(single);
                assert.equal(sample(text, "apfa_db_errors_total", { operation: "get_item", kind: "pool_exhausted" }), 1);
                assert.equal(sample(text, "apfa_db_errors_total", { operation: "get_item", kind: "connect" }), 0);
                assert.equal(sample(text, "apfa_db_pool_connections"), 1);
                assert.equal(sample(text, "apfa_db_pool_idle_connections"), 0);
                assert.equal(sample(text, "apfa_db_up"), 1, "an overloaded pool is not a database outage");
                await locker.query("COMMIT");
                assert.equal((await first).status, 200);
            } finally {
                await locker.end();
            }
            await stopProcess(single.proc);
        });

        it("a statement that exceeds DB_STATEMENT_TIMEOUT_MS answers 503 (timeout) and is not repeated", async () => {
            const quick = await startApp("timeout", database, { DB_STATEMENT_TIMEOUT_MS: "300" });
            await waitReady(quick);
            const item = (await (await post(quick, { name: "slow" })).json()) as Item;
            const locker = pg.client(database);
            await locker.connect();
            try {
                await locker.query("BEGIN");
                await locker.query("LOCK TABLE items IN ACCESS EXCLUSIVE MODE");
                const res = await fetch(`${quick.base}/api/items/${item.id}`);
                assert.equal(res.status, 503);
                assert.deepEqual(await res.json(), { error: "database unavailable", reason: "timeout" });
            } finally {
                await locker.query("COMMIT");
                await locker.end();
            }
            assert.equal(sample(await metrics(quick), "apfa_db_errors_total", { operation: "get_item", kind: "timeout" }), 1);
            await stopProcess(quick.proc);
        });
    });

    describe("TLS (PGSSLMODE)", function () {
        before(function () {
            requireTool(this, "openssl");
        });

        /** Whether the app's sessions on `database` use TLS (one boolean per session). */
        async function sessionsUseTls(database: string): Promise<boolean[]> {
            const rows = await pg.query<{ ssl: boolean }>(
                database,
                "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = $1 AND a.application_name LIKE 'apfa-%'",
                [database],
            );
            return rows.map((r) => r.ssl);
        }

        it("require encrypts without checking the certificate; disable does not encrypt", async () => {
            const encrypted = await freshDatabase();
            const app = await startApp("tls-require", encrypted, { PGSSLMODE: "require" });
            await waitReady(app);
            assert.equal((await post(app, { name: "over tls" })).status, 201);
            const tls = await sessionsUseTls(encrypted);
            assert.ok(tls.length >= 1 && tls.every(Boolean), `sessions: ${JSON.stringify(tls)}`);
            await stopProcess(app.proc);

            const plain = await freshDatabase();
            const clear = await startApp("tls-disable", plain, { PGSSLMODE: "disable" });
            await waitReady(clear);
            const none = await sessionsUseTls(plain);
            assert.ok(none.length >= 1 && none.every((ssl) => !ssl), `sessions: ${JSON.stringify(none)}`);
            await stopProcess(clear.proc);
        });

        it("verify-full connects when the certificate chains to PGSSLROOTCERT and names PGHOST, and refuses (503, still running) when it does not", async () => {
            const database = await freshDatabase();
            const trusted = await startApp("tls-verify", database, { PGSSLMODE: "verify-full", PGSSLROOTCERT: pg.caFile ?? "" });
            await waitReady(trusted);
            assert.equal((await post(trusted, { name: "verified" })).status, 201);
            await stopProcess(trusted.proc);

            // The same server without its CA: Node's CA store does not trust a self-signed certificate.
            const untrusted = await startApp("tls-untrusted", database, { PGSSLMODE: "verify-full" });
            await waitFor("the app to report the refused certificate", () => /database unreachable: self[- ]signed certificate/i.test(untrusted.proc.stdout()), {
                process: untrusted.proc,
            });
            const ready = await fetch(`${untrusted.base}/health/db`);
            assert.equal(ready.status, 503);
            assert.deepEqual(await ready.json(), { status: "unavailable", database: "down", schemaVersion: null, reason: "connect" });
            assert.equal((await fetch(`${untrusted.base}/health`)).status, 200);
            assert.equal(untrusted.proc.exitInfo(), undefined);
            await stopProcess(untrusted.proc);
        });
    });

    describe("migrations", function () {
        it("two app processes starting at once both migrate safely; each version is recorded once", async () => {
            const database = await freshDatabase();
            const [a, b] = await Promise.all([startApp("migrate-a", database, { SLOT: "blue" }), startApp("migrate-b", database, { SLOT: "green" })]);
            await Promise.all([waitReady(a), waitReady(b)]);
            const recorded = await pg.query<{ version: number; name: string }>(database, "SELECT version, name FROM schema_migrations ORDER BY version");
            assert.deepEqual(recorded, [{ version: 1, name: "items" }]);
            const logs = [a, b].map((app) => app.proc.stdout());
            // Exactly one of them applied the migration; the other found it done; neither failed.
            assert.equal(logs.filter((l) => /schema migrated to version 1 \(applied 1\)/.test(l)).length, 1, logs.join("\n"));
            assert.equal(logs.filter((l) => /schema at version 1: nothing to migrate/.test(l)).length, 1, logs.join("\n"));
            for (const log of logs) {
                assert.doesNotMatch(log, /migration failed/);
            }
            for (const app of [a, b]) {
                assert.equal((await post(app, { name: app.proc.name })).status, 201);
                assert.equal(sample(await metrics(app), "apfa_db_schema_version"), 1);
            }
        });

        it("a migration waits for the advisory lock another process holds, serving /health meanwhile", async () => {
            const database = await freshDatabase();
            const holder = pg.client(database);
            await holder.connect();
            try {
                await holder.query("BEGIN");
                await holder.query("SELECT pg_advisory_xact_lock($1, $2)", MIGRATION_LOCK);
                const app = await startApp("migrate-waits", database);
                // The app's migration session waits for exactly this lock.
                await waitFor("the app to wait for the migration lock", async () => {
                    const rows = await pg.query(
                        database,
                        "SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND NOT l.granted AND l.classid = $1 AND l.objid = $2 AND a.application_name = 'apfa-blue'",
                        [MIGRATION_LOCK[0], MIGRATION_LOCK[1]],
                    );
                    return rows.length === 1;
                });
                assert.deepEqual(await (await fetch(`${app.base}/health`)).json(), { status: "ok", database: "up" });
                const ready = await fetch(`${app.base}/health/db`);
                assert.equal(ready.status, 503);
                assert.deepEqual(await ready.json(), { status: "unavailable", database: "up", schemaVersion: null, reason: "schema" });
                const early = await post(app, { name: "too early" });
                assert.equal(early.status, 503);
                assert.deepEqual(await early.json(), { error: "database schema not migrated yet", reason: "schema" });
                assert.deepEqual(await pg.query(database, "SELECT to_regclass('items') AS t"), [{ t: null }]);

                await holder.query("COMMIT");
                await waitReady(app);
                assert.equal((await post(app, { name: "after the lock" })).status, 201);
            } finally {
                await holder.end();
            }
        });

        it("comes up on a read-only database (a standby) already migrated: reads work, writes and /health/db answer 503", async () => {
            const database = await freshDatabase();
            const writer = await startApp("before-standby", database);
            await waitReady(writer);
            const item = (await (await post(writer, { name: "replicated" })).json()) as Item;
            await stopProcess(writer.proc);
            await pg.query("postgres", `ALTER DATABASE ${database} SET default_transaction_read_only = on`);

            const standby = await startApp("on-standby", database);
            await waitFor("the app to find the schema", () => /schema at version 1: nothing to migrate/.test(standby.proc.stdout()), { process: standby.proc });
            assert.equal((await fetch(`${standby.base}/api/items/${item.id}`)).status, 200);
            const ready = await fetch(`${standby.base}/health/db`);
            assert.equal(ready.status, 503);
            assert.deepEqual(await ready.json(), { status: "unavailable", database: "read_only", schemaVersion: 1, reason: "read_only" });
            const write = await post(standby, { name: "refused" });
            assert.equal(write.status, 503);
            assert.deepEqual(await write.json(), { error: "database is read-only (a standby)", reason: "read_only" });
            assert.deepEqual(await (await fetch(`${standby.base}/health`)).json(), { status: "ok", database: "read_only" });
            const text = await metrics(standby);
            assert.equal(sample(text, "apfa_db_up"), 0);
            // Refused before doing anything, so even the unkeyed write was tried on new connections (3 attempts).
            assert.equal(sample(text, "apfa_db_errors_total", { operation: "insert_item", kind: "read_only" }), 3);

            // "Promotion": new sessions take writes; the app gets there by itself.
            await pg.query("postgres", `ALTER DATABASE ${database} SET default_transaction_read_only = off`);
            await waitFor("writes to succeed after the promotion", async () => (await post(standby, { name: "after promotion" })).status === 201, { process: standby.proc });
            await waitReady(standby);
        });
    });

    // Last: it stops and restarts the shared server.
    describe("database outage", function () {
        it("while PostgreSQL is down: writes and reads 503, /health stays 200, /health/db 503; afterwards it recovers without a restart", async () => {
            const database = await freshDatabase();
            const app = await startApp("outage", database, { DB_POOL_MAX: "3", DB_CONNECT_TIMEOUT_MS: "10000" });
            await waitReady(app);
            const stored: Item[] = [];
            for (const name of ["a", "b", "c"]) {
                const res = await post(app, { name });
                assert.equal(res.status, 201);
                stored.push((await res.json()) as Item);
            }
            const healthy = await metrics(app);
            // Three inserts, each answered by the server once: the histogram counts exactly them.
            assert.equal(sample(healthy, "apfa_db_query_duration_seconds_count", { operation: "insert_item" }), 3);
            assert.equal(sample(healthy, "apfa_db_query_duration_seconds_bucket", { operation: "insert_item", le: "+Inf" }), 3);
            assert.equal(sample(healthy, "apfa_db_query_duration_seconds_bucket", { operation: "insert_item", le: "10" }), 3);
            assert.ok(sample(healthy, "apfa_db_query_duration_seconds_sum", { operation: "insert_item" }) > 0);
            assert.equal(sample(healthy, "apfa_db_errors_total", { operation: "insert_item", kind: "connect" }), 0);
            assert.equal(sample(healthy, "apfa_db_pool_max_connections"), 3);
            const open = sample(healthy, "apfa_db_pool_connections");
            assert.ok(open >= 1 && open <= 3, `pool holds ${open} connections`);
            assert.equal(sample(healthy, "apfa_db_pool_idle_connections"), open, "no request is running, so every connection is idle");
            assert.equal(sample(healthy, "apfa_db_pool_waiting_requests"), 0);
            assert.equal(sample(healthy, "apfa_db_up"), 1);

            await pg.stopServer();
            try {
                for (let i = 0; i < 2; i++) {
                    const write = await post(app, { name: "during the outage" });
                    assert.equal(write.status, 503);
                    assert.deepEqual(await write.json(), { error: "database unavailable", reason: "connect" });
                }
                const read = await fetch(`${app.base}/api/items/${stored[0].id}`);
                assert.equal(read.status, 503);
                const health = await fetch(`${app.base}/health`);
                assert.equal(health.status, 200);
                assert.deepEqual(await health.json(), { status: "ok", database: "down" });
                await waitFor("/health/db to report the outage", async () => {
                    const res = await fetch(`${app.base}/health/db`);
                    const body = (await res.json()) as Record<string, unknown>;
                    return res.status === 503 && body.database === "down" && body.reason === "connect";
                });
                const down = await metrics(app);
                // Never sent, so each write tried three connections.
                assert.equal(sample(down, "apfa_db_errors_total", { operation: "insert_item", kind: "connect" }), 6);
                assert.equal(sample(down, "apfa_db_errors_total", { operation: "get_item", kind: "connect" }), 3);
                assert.equal(sample(down, "apfa_db_up"), 0);
                assert.equal(sample(down, "apfa_db_pool_connections"), 0);
                assert.equal(app.proc.exitInfo(), undefined, "the app must not exit while the database is down");
            } finally {
                await pg.startServer();
            }

            await waitFor("a write to succeed after PostgreSQL restarted", async () => (await post(app, { name: "after the restart" })).status === 201, {
                process: app.proc,
                timeoutMs: 20000,
            });
            await waitReady(app);
            for (const item of stored) {
                assert.deepEqual(await (await fetch(`${app.base}/api/items/${item.id}`)).json(), item);
            }
            assert.deepEqual(await (await fetch(`${app.base}/health`)).json(), { status: "ok", database: "up" });
            assert.equal(sample(await metrics(app), "apfa_db_up"), 1);
            assert.match(app.proc.stdout(), /database unreachable/);
            assert.match(app.proc.stdout(), /database reachable again/);
        });
    });
});
