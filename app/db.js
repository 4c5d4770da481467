/**
 * The reference app's PostgreSQL side: one `pg` connection pool, the schema migration at startup,
 * the retry policy, the readiness check, and the numbers behind the apfa_db_* metrics (server.js
 * renders them). Loaded only when PGHOST is set, so the app without a database needs no packages.
 *
 * Failure model. The process never exits because the database is down: every failure is answered
 * (503 for "unavailable", 500 for a query the server rejected) and the pool opens new connections
 * on the next request, so the app reconnects by itself. A connection that failed, timed out or
 * turned out read-only is discarded rather than returned to the pool, so the next attempt dials
 * again and re-resolves PGHOST (after a failover the writer's DNS name points elsewhere).
 *
 * Retries. An attempt is repeated (3 attempts at most, short backoff, within DB_CONNECT_TIMEOUT_MS
 * of the first) when:
 *   - the database could not be reached: the statement was never sent, so repeating it is safe;
 *   - the server was read-only (SQLSTATE 25006: it refused the statement without doing anything);
 *   - the connection broke, and the statement may be repeated: reads, and writes that carry an
 *     Idempotency-Key (a repeat of a write that did commit finds its row by the key).
 * A write without a key is NOT repeated once sent: if the connection drops after the server
 * committed but before the answer arrived, a second INSERT would store the item twice. The client
 * gets 503 and decides; sending an Idempotency-Key makes its own retry safe. Timeouts are never
 * repeated: a statement that ran out of time would only add load to a database that is struggling;
 * nor is a wait for a pooled connection that ran out (this replica is overloaded, see
 * connectErrorKind).
 */
"use strict";

const crypto = require("node:crypto");
const os = require("node:os");

const { MIGRATIONS } = require("./migrations");

/** Latency buckets of apfa_db_query_duration_seconds: from 1 ms, as single statements are fast. */
const DB_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Operations, the `operation` label (fixed, so the series stay bounded). */
const OPERATIONS = ["insert_item", "get_item", "get_item_by_key", "check", "migrate"];
/** Error kinds, the `kind` label. */
const ERROR_KINDS = ["connect", "pool_exhausted", "connection_lost", "read_only", "timeout", "query"];
/**
 * Key of the advisory lock that serializes migrations across every process sharing the database
 * (both slots, every replica): pg_advisory_xact_lock(int4, int4). 0x41504641 is "APFA" in ASCII.
 */
const MIGRATION_LOCK = [0x41504641, 1];
/** How long a migration may wait for the lock and run. */
const MIGRATION_TIMEOUT_MS = 60000;
/**
 * DDL waits at most this long for a table lock. An ALTER queued behind a long transaction blocks
 * every query that arrives after it; failing fast and retrying keeps the app serving meanwhile.
 */
const MIGRATION_LOCK_TIMEOUT = "5s";
const MAX_ATTEMPTS = 3;
/** Interval of the background reachability check that keeps apfa_db_up current without traffic. */
const CHECK_INTERVAL_MS = 10000;

/** A failure that means "the database cannot be used right now" (answered 503), with its kind. */
class DatabaseUnavailable extends Error {
    constructor(kind, cause) {
        super(`database unavailable (${kind}): ${cause?.message ?? cause}`);
        this.kind = kind;
        this.cause = cause;
    }
}

/** SQLSTATEs and socket errors that mean the connection itself is gone (not the statement). */
const CONNECTION_LOST_CODES = new Set(["57P01", "57P02", "57P03", "ECONNRESET", "EPIPE", "ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * Classifies a failure to get a connection: every pooled one stayed busy for DB_CONNECT_TIMEOUT_MS
 * (pg-pool's message for a timed-out wait in its queue), or the database could not be reached.
 * The first is this replica's overload, not an outage: it neither marks the database down nor is
 * retried (a retry would queue again behind the same requests).
 */
function connectErrorKind(err) {
    return /timeout exceeded when trying to connect/i.test(err?.message ?? "") ? "pool_exhausted" : "connect";
}

/** Classifies an error from a statement that was sent on an open connection. */
function queryErrorKind(err) {
    const code = typeof err?.code === "string" ? err.code : "";
    // 57014: canceled by statement_timeout; "Query read timeout": pg's client-side query_timeout.
    if (code === "57014" || /query read timeout/i.test(err?.message ?? "")) {
        return "timeout";
    }
    // 25006 read_only_sql_transaction: connected to a standby (an Aurora reader behind stale DNS,
    // the replica of a failover rehearsal before promotion).
    if (code === "25006") {
        return "read_only";
    }
    if (code.startsWith("08") || CONNECTION_LOST_CODES.has(code) || /connection terminated|connection is closed|not queryable/i.test(err?.message ?? "")) {
        return "connection_lost";
    }
    return "query";
}

/** The `ssl` option of pg for a libpq PGSSLMODE (see readDatabaseSettings in server.js). */
function sslOption(settings) {
    switch (settings.sslMode) {
        case "disable":
            return false;
        case "require":
            // libpq's meaning: encrypted, the server's certificate not checked. (pg itself maps
            // PGSSLMODE=require to full verification against Node's CA store, which fails against
            // a private CA such as RDS's; we keep libpq's meaning so psql and the app agree.)
            return { rejectUnauthorized: false };
        default:
            // verify-full: the chain must lead to PGSSLROOTCERT (else Node's CA store) and the
            // certificate must name PGHOST (Node's default checkServerIdentity).
            return { rejectUnauthorized: true, ...(settings.sslRootCert ? { ca: settings.sslRootCert } : {}) };
    }
}

/** The app's database: create with {@link createDatabase}, then `start()`; `close()` on shutdown. */
class Database {
    /**
     * @param settings from readSettings(): host, port, database, user, password, sslMode, sslRootCert,
     *   poolMax, statementTimeoutMs, connectTimeoutMs
     * @param info {slot, version} for application_name and the migration record
     * @param pg the `pg` module (a parameter so tests could pass another)
     */
    constructor(settings, info, pg, log = (line) => process.stdout.write(`apfa: ${line}\n`)) {
        this.settings = settings;
        this.info = info;
        this.log = log;
        this.closing = false;
        /** "unknown" until the first statement or check; then up | read_only | down. */
        this.state = "unknown";
        /** Highest schema version in the database once migrated (may exceed this code's). */
        this.schemaVersion = undefined;
        this.schemaReady = false;
        this.migrationError = undefined;
        this.timers = new Set();
        this.durations = new Map();
        this.errors = new Map(OPERATIONS.flatMap((op) => ERROR_KINDS.map((kind) => [`${op}\0${kind}`, 0])));
        this.pendingCheck = undefined;
        this.lastCheck = undefined;

        this.pool = new pg.Pool({
            host: settings.host,
            port: settings.port,
            database: settings.database,
            user: settings.user,
            password: settings.password,
            ssl: sslOption(settings),
            max: settings.poolMax,
            // Waiting for a pooled connection and dialing a new one both count against this.
            connectionTimeoutMillis: settings.connectTimeoutMs,
            idleTimeoutMillis: 30000,
            // Connections are renewed every 5 minutes even when healthy, so a writer endpoint whose
            // DNS moved (Aurora failover) is followed without waiting for an error.
            maxLifetimeSeconds: 300,
            // Server-side limit of each statement; the client-side one catches a server that has
            // vanished from the network (nothing would ever answer the cancel).
            statement_timeout: settings.statementTimeoutMs,
            query_timeout: settings.statementTimeoutMs + 1000,
            idle_in_transaction_session_timeout: Math.max(settings.statementTimeoutMs, 10000),
            // TCP keep-alive finds a half-open connection (peer gone without a FIN) while idle.
            keepAlive: true,
            keepAliveInitialDelayMillis: 10000,
            // Shows in pg_stat_activity, so a DBA sees which slot holds which connections.
            application_name: `apfa-${info.slot}`,
        });
        // An idle connection that breaks (server restart, failover, a firewall's idle timeout) is
        // reported here. Without a listener Node would treat it as an uncaught error and end the
        // process; the pool has already dropped the connection, so noting it is all that is left
        // to do. The database is not marked down: the next statement or check finds out.
        this.pool.on("error", (err) => {
            this.log(`idle database connection lost: ${err.message}`);
        });
    }

    /** Starts the migration (retried until it succeeds) and the periodic reachability check. */
    start() {
        void this.migrateUntilDone();
        const tick = () => {
            this.schedule(CHECK_INTERVAL_MS, async () => {
                await this.check();
                tick();
            });
        };
        tick();
    }

    /** Runs `fn` after `ms` unless close() comes first; the timer does not keep the process alive. */
    schedule(ms, fn) {
        if (this.closing) {
            return;
        }
        const timer = setTimeout(() => {
            this.timers.delete(timer);
            if (!this.closing) {
                void fn();
            }
        }, ms);
        timer.unref();
        this.timers.add(timer);
    }

    markUp(readOnly = false) {
        const state = readOnly ? "read_only" : "up";
        if (this.state !== state) {
            this.log(readOnly ? "database reachable but read-only (a standby or a reader): writes answer 503" : `database reachable${this.state === "unknown" ? "" : " again"}`);
        }
        this.state = state;
    }

    /** Logged once per outage (not per failed request), with the error, for operators. */
    markDown(err) {
        if (this.state !== "down") {
            this.log(`database unreachable: ${err?.message ?? err}`);
        }
        this.state = "down";
    }

    observe(operation, seconds) {
        let h = this.durations.get(operation);
        if (!h) {
            h = { buckets: DB_BUCKETS.map(() => 0), sum: 0, count: 0 };
            this.durations.set(operation, h);
        }
        DB_BUCKETS.forEach((le, i) => {
            if (seconds <= le) {
                h.buckets[i] += 1;
            }
        });
        h.sum += seconds;
        h.count += 1;
    }

    countError(operation, kind) {
        const key = `${operation}\0${kind}`;
        this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
    }

    /**
     * Runs one statement with the retry policy described at the top of this file.
     * `repeatable`: whether the statement may be sent again after a connection broke under it.
     * apfa_db_query_duration_seconds observes every statement the server answered (rows or an
     * SQL error); failures without an answer are only counted, in apfa_db_errors_total.
     */
    async query(operation, sql, params, { repeatable }) {
        const started = Date.now();
        for (let attempt = 1; ; attempt++) {
            const mayRetry = () => attempt < MAX_ATTEMPTS && !this.closing && Date.now() - started < this.settings.connectTimeoutMs;
            let client;
            try {
                client = await this.pool.connect();
            } catch (err) {
                const kind = connectErrorKind(err);
                this.countError(operation, kind);
                if (kind === "pool_exhausted") {
                    throw new DatabaseUnavailable(kind, err);
                }
                this.markDown(err);
                if (mayRetry()) {
                    await this.backoff(attempt);
                    continue;
                }
                throw new DatabaseUnavailable(kind, err);
            }
            const t0 = process.hrtime.bigint();
            try {
                const result = await client.query(sql, params);
                client.release();
                this.observe(operation, Number(process.hrtime.bigint() - t0) / 1e9);
                // A read answered by a read-only server proves nothing about writes: only check()
                // and a write move the state away from read_only.
                if (this.state !== "read_only" || operation === "insert_item") {
                    this.markUp();
                }
                return result;
            } catch (err) {
                const kind = queryErrorKind(err);
                this.countError(operation, kind);
                if (kind === "query") {
                    // The server answered (a constraint, a syntax error): the connection is fine.
                    client.release();
                    this.observe(operation, Number(process.hrtime.bigint() - t0) / 1e9);
                    throw err;
                }
                // Discard the connection: the pool dials a new one (re-resolving PGHOST) next time.
                client.release(err);
                if (kind === "read_only") {
                    this.markUp(true);
                } else {
                    this.markDown(err);
                }
                // read_only: the server refused the statement before doing anything, so even a
                // write without a key may go again (on a new connection, maybe to the new writer).
                if ((kind === "read_only" || (repeatable && kind === "connection_lost")) && mayRetry()) {
                    await this.backoff(attempt);
                    continue;
                }
                throw new DatabaseUnavailable(kind, err);
            }
        }
    }

    /** 100 ms, then 300 ms, each with up to 50 % jitter so replicas do not retry in lockstep. */
    backoff(attempt) {
        const ms = 100 * 3 ** (attempt - 1) * (1 + Math.random() / 2);
        return new Promise((resolve) => setTimeout(resolve, ms));
    }

    /** Throws DatabaseUnavailable("schema") until the migration has succeeded. */
    requireSchema() {
        if (!this.schemaReady) {
            throw new DatabaseUnavailable("schema", this.migrationError ?? "schema migration has not finished yet");
        }
    }

    /**
     * Stores an item; with `key`, a repeat of the same request returns the item stored the first
     * time (`replayed: true`) and a different name under the same key is refused (`conflict`).
     */
    async insertItem(name, key) {
        this.requireSchema();
        const inserted = await this.query(
            "insert_item",
            `INSERT INTO items (name, idempotency_key) VALUES ($1, $2)
             ON CONFLICT (idempotency_key) DO NOTHING
             RETURNING id, name, created_at`,
            [name, key ?? null],
            { repeatable: key !== undefined },
        );
        if (inserted.rows.length === 1) {
            return { item: toItem(inserted.rows[0]), replayed: false };
        }
        // The key was taken (only a keyed insert can conflict). ON CONFLICT waited for the other
        // writer to commit; this second statement's snapshot sees its row.
        const existing = await this.query("get_item_by_key", "SELECT id, name, created_at FROM items WHERE idempotency_key = $1", [key], { repeatable: true });
        if (existing.rows.length !== 1) {
            throw new Error(`Idempotency-Key ${JSON.stringify(key)} conflicted, but its item is gone`);
        }
        const item = toItem(existing.rows[0]);
        return item.name === name ? { item, replayed: true } : { item, conflict: true };
    }

    /** The item with this id, or undefined. */
    async getItem(id) {
        this.requireSchema();
        const { rows } = await this.query("get_item", "SELECT id, name, created_at FROM items WHERE id = $1", [id], { repeatable: true });
        return rows.length === 1 ? toItem(rows[0]) : undefined;
    }

    /**
     * Reachability for operators (/health/db) and apfa_db_up: one round trip that also says whether
     * the server takes writes (a standby or a reader answers, but read-only). Concurrent callers
     * share one check, and a result younger than `maxAgeMs` is reused, so however often the
     * endpoint is called it costs at most about one statement per second.
     * Resolves to {ok, latencyMs} or {ok: false, reason}; `reason` is an error kind, never a message
     * (messages name internal hosts, and the endpoint is on the users' port).
     */
    check(maxAgeMs = 0) {
        if (this.lastCheck && Date.now() - this.lastCheck.at < maxAgeMs) {
            return Promise.resolve(this.lastCheck.result);
        }
        if (!this.pendingCheck) {
            this.pendingCheck = this.checkOnce().then((result) => {
                this.pendingCheck = undefined;
                this.lastCheck = { at: Date.now(), result };
                return result;
            });
        }
        return this.pendingCheck;
    }

    /** One attempt of check(), never rejecting. */
    async checkOnce() {
        let client;
        try {
            client = await this.pool.connect();
        } catch (err) {
            const kind = connectErrorKind(err);
            this.countError("check", kind);
            if (kind === "connect") {
                this.markDown(err);
            }
            return { ok: false, reason: kind };
        }
        const t0 = process.hrtime.bigint();
        try {
            const { rows } = await client.query("SELECT current_setting('transaction_read_only') = 'on' AS read_only");
            const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
            this.observe("check", seconds);
            const readOnly = rows[0].read_only === true;
            // A read-only session is of no use to this pool (it serves writes): discard it, so the
            // next statement dials again and may reach the new writer.
            client.release(readOnly ? new Error("read-only session") : undefined);
            this.markUp(readOnly);
            return readOnly ? { ok: false, reason: "read_only" } : { ok: true, latencyMs: Math.round(seconds * 1000) };
        } catch (err) {
            const kind = queryErrorKind(err);
            this.countError("check", kind);
            client.release(err);
            if (kind !== "query") {
                this.markDown(err);
            }
            return { ok: false, reason: kind };
        }
    }

    /** Retries the migration with a growing pause (0.5 s … 15 s) until it succeeds or close(). */
    async migrateUntilDone(pauseMs = 500) {
        try {
            await this.migrate();
        } catch (err) {
            this.migrationError = err?.cause?.message ?? err?.message ?? String(err);
            this.log(`schema migration failed, retrying in ${pauseMs} ms: ${this.migrationError}`);
            this.schedule(pauseMs, () => this.migrateUntilDone(Math.min(pauseMs * 2, 15000)));
        }
    }

    /**
     * Brings the schema to this code's latest version. Safe with any number of processes starting
     * at once (every replica of both slots): the write path runs in one transaction that first
     * takes a transaction-scoped advisory lock, so migrations run one at a time, each re-reading
     * what the previous one recorded; the lock is released by COMMIT, or by PostgreSQL when a
     * process dies holding it. Nothing is written when the schema is already current, so replicas
     * that start against a read-only standby (or a database migrated by a newer release) come up
     * without a write.
     */
    async migrate() {
        const t0 = process.hrtime.bigint();
        const known = new Map(MIGRATIONS.map((m) => [m.version, m]));
        const recorded = await this.readMigrations();
        if (recorded !== undefined && MIGRATIONS.every((m) => recorded.has(m.version))) {
            this.finishMigration(recorded, [], known);
            return;
        }

        const client = await this.pool.connect().catch((err) => {
            const kind = connectErrorKind(err);
            this.countError("migrate", kind);
            if (kind === "connect") {
                this.markDown(err);
            }
            throw err;
        });
        // The pool's client-side timeout (statement timeout + 1 s) would cut the wait for the lock.
        const run = (text, values) => client.query({ text, values, query_timeout: MIGRATION_TIMEOUT_MS + 1000 });
        let failure;
        try {
            await run("BEGIN");
            await run(`SET LOCAL statement_timeout = ${MIGRATION_TIMEOUT_MS}`);
            await run("SELECT pg_advisory_xact_lock($1, $2)", MIGRATION_LOCK);
            await run(`SET LOCAL lock_timeout = '${MIGRATION_LOCK_TIMEOUT}'`);
            await run(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by text NOT NULL
)`);
            const { rows } = await run("SELECT version, checksum FROM schema_migrations");
            const current = new Map(rows.map((r) => [r.version, r.checksum]));
            const applied = [];
            for (const m of MIGRATIONS) {
                if (current.has(m.version)) {
                    continue;
                }
                await run(m.sql);
                await run("INSERT INTO schema_migrations (version, name, checksum, applied_by) VALUES ($1, $2, $3, $4)", [
                    m.version,
                    m.name,
                    checksum(m.sql),
                    `apfa ${this.info.version} (${this.info.slot}) on ${os.hostname()}`,
                ]);
                current.set(m.version, checksum(m.sql));
                applied.push(m.version);
            }
            await run("COMMIT");
            this.observe("migrate", Number(process.hrtime.bigint() - t0) / 1e9);
            this.markUp();
            this.finishMigration(current, applied, known);
        } catch (err) {
            failure = err;
            const kind = queryErrorKind(err);
            this.countError("migrate", kind);
            if (kind !== "query" && kind !== "timeout") {
                this.markDown(err);
            }
            throw err;
        } finally {
            // On failure the connection is discarded: closing it aborts the open transaction
            // (and frees the lock) without a ROLLBACK that could itself hang on a broken socket.
            client.release(failure);
        }
    }

    /** The recorded versions → checksums, or undefined when schema_migrations does not exist yet. */
    async readMigrations() {
        const { rows: exists } = await this.query("migrate", "SELECT to_regclass('schema_migrations') IS NOT NULL AS present", [], { repeatable: true });
        if (!exists[0].present) {
            return undefined;
        }
        const { rows } = await this.query("migrate", "SELECT version, checksum FROM schema_migrations", [], { repeatable: true });
        return new Map(rows.map((r) => [r.version, r.checksum]));
    }

    finishMigration(recorded, applied, known) {
        for (const [version, sum] of recorded) {
            const m = known.get(version);
            if (m && checksum(m.sql) !== sum) {
                this.log(`warning: migration ${version} (${m.name}) differs from the one applied to the database; released migrations must not be edited`);
            }
        }
        this.schemaVersion = Math.max(0, ...recorded.keys());
        this.schemaReady = true;
        this.migrationError = undefined;
        const latest = MIGRATIONS.length;
        if (applied.length > 0) {
            this.log(`schema migrated to version ${this.schemaVersion} (applied ${applied.join(", ")})`);
        } else if (this.schemaVersion > latest) {
            // The other slot runs a newer release; its migrations are backward compatible (the rule
            // in migrations.js), so this code keeps working on the newer schema.
            this.log(`schema at version ${this.schemaVersion}, newer than this release's ${latest}: nothing to migrate`);
        } else {
            this.log(`schema at version ${this.schemaVersion}: nothing to migrate`);
        }
    }

    /** Pool numbers for the gauges. */
    poolStats() {
        return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount, max: this.settings.poolMax };
    }

    /** Stops the background work and closes every connection once the ones in use are returned. */
    async close() {
        this.closing = true;
        for (const timer of this.timers) {
            clearTimeout(timer);
        }
        this.timers.clear();
        await this.pool.end();
    }
}

function checksum(sql) {
    return crypto.createHash("sha256").update(sql).digest("hex");
}

function toItem(row) {
    return { id: row.id, name: row.name, created_at: row.created_at.toISOString() };
}

/** Creates the app's database from validated settings; loads `pg` only now. */
function createDatabase(settings, info) {
    const pg = require("pg");
    return new Database(settings, info, pg);
}

module.exports = { createDatabase, Database, DatabaseUnavailable, connectErrorKind, queryErrorKind, sslOption, DB_BUCKETS, OPERATIONS, ERROR_KINDS, MIGRATION_LOCK };
