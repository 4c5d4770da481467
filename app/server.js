#!/usr/bin/env node
/**
 * The reference APFA service: a small HTTP API with /health, a PostgreSQL-backed items API, and
 * Prometheus /metrics on a second port that only Prometheus is allowed to reach. Without PGHOST it
 * needs no packages at all (db.js, and with it `pg`, is loaded only when PGHOST is set).
 *
 * Routes on PORT (what load balancers forward users to)
 *   GET /health          200 {"status":"ok"} — liveness: always 200 and fast, never subject to the
 *                        knobs below, never waiting on the database. With a database it adds
 *                        "database": "unknown" | "up" | "read_only" | "down" (the last state seen,
 *                        no query). Load balancers and Front Door probe this: a database blip must
 *                        not take every replica out of rotation (then /api/info fails too).
 *   GET /health/db       readiness of the data tier, for operators and failover tooling: a fresh
 *                        round trip (results reused for 1 s). 200 {"status":"ready","database":"up",
 *                        "schemaVersion","latencyMs"}; 503 {"status":"unavailable","database",
 *                        "schemaVersion","reason"} when unreachable, read-only (a standby) or the
 *                        schema is not migrated yet; 200 {"status":"disabled"} without PGHOST.
 *   GET /api/info        {"service","version","slot","time"}
 *   GET /api/echo?msg=   {"msg": <msg>}
 *   POST /api/items      body {"name": "<1-200 characters, no control characters>"} (application/json, ≤ 16 KiB)
 *                        → 201 {"id","name","created_at"} + Location. Optional header
 *                        Idempotency-Key (1-255 visible ASCII characters): a repeat returns the
 *                        same item (201, Idempotent-Replayed: true), the same key with another name
 *                        422. 400 invalid body, 415 not JSON, 413 too large.
 *   GET /api/items/:id   200 the item, 404 when there is none (or the id is not a UUID)
 *                        Both items routes: 503 {"error","reason"} when the database is unavailable
 *                        (Retry-After: 1; reason: connect, pool_exhausted, connection_lost,
 *                        read_only, timeout or schema) or persistence is off (reason: disabled);
 *                        500 on a query error.
 *   anything else        404 {"error":"not found"} (405 for a known path with another method) —
 *                        including /metrics: however a proxy normalises a path, users never get metrics
 * Routes on METRICS_PORT (reachable only by Prometheus: security groups / NetworkPolicy)
 *   GET /metrics       Prometheus text format 0.0.4 (not itself counted); anything else 404
 *
 * Environment (validated at start; a bad value exits 1 with a message naming the variable)
 *   PORT                   TCP port for users, default 8000
 *   METRICS_PORT           TCP port of /metrics, default 9100; must differ from PORT
 *   HOST                   bind address of both ports, default 0.0.0.0
 *   KEEP_ALIVE_TIMEOUT_MS  integer 1000..3600000, default 620000. How long an idle keep-alive
 *                          connection stays open. It must exceed the idle timeout of every proxy in
 *                          front (ALB 60 s, Google's load balancers 600 s, nginx/Envoy as configured),
 *                          or the proxy reuses a connection the app just closed and answers 502.
 *   SLOT                   blue | green, default blue (the apfa_build_info label)
 *   APP_VERSION            default: "version" of app/package.json
 *   APFA_ERROR_RATIO       0..1, default 0. Fraction of /api/* requests answered 500, deterministic:
 *                          the n-th /api/* request fails when floor(n*r) > floor((n-1)*r), so 0.2
 *                          fails exactly requests 5, 10, 15, … and 0.25 fails every 4th one.
 *   APFA_EXTRA_LATENCY_MS  integer 0..60000, default 0. Added to every /api/* response.
 *   SHUTDOWN_TIMEOUT_MS    integer 1..600000, default 10000. Longest wait for in-flight requests
 *                          and for the database pool to close after SIGTERM/SIGINT (then exit 1).
 * Database (libpq's names, so psql reads the same environment; persistence is on when PGHOST is set)
 *   PGHOST                 host name or IP of the writer (one host); unset or empty: no database
 *   PGPORT                 default 5432
 *   PGDATABASE, PGUSER     required with PGHOST
 *   PGPASSWORD             the password (a secret: the targets inject it from their secret store)
 *   PGSSLMODE              disable | require | verify-full, default verify-full. Meanings as in
 *                          libpq: require encrypts without checking the certificate, verify-full
 *                          checks the chain (PGSSLROOTCERT, else Node's CA store) and the host name.
 *   PGSSLROOTCERT          PEM file of the CA(s) the server certificate must chain to (verify-full)
 *   DB_POOL_MAX            integer 1..100, default 5: connections per replica. Keep
 *                          DB_POOL_MAX × replicas of both slots under the server's max_connections.
 *   DB_STATEMENT_TIMEOUT_MS integer 100..600000, default 5000: server-side statement_timeout
 *   DB_CONNECT_TIMEOUT_MS  integer 100..60000, default 3000: longest wait for a connection (a free
 *                          pooled one or a new one); also bounds how long a request keeps retrying
 *
 * Metrics
 *   apfa_http_requests_total{route,method,code}            counter
 *   apfa_http_request_duration_seconds{route,method,le}    histogram (_bucket, _sum, _count)
 *   apfa_http_requests_in_flight                           gauge (requests being answered, /metrics excluded)
 *   apfa_build_info{version,slot}                          gauge, always 1
 *   process_cpu_seconds_total, process_resident_memory_bytes, process_start_time_seconds
 * With a database (PGHOST set) also
 *   apfa_db_query_duration_seconds{operation,le}  histogram of statements the server answered
 *   apfa_db_errors_total{operation,kind}          counter; kind: connect | pool_exhausted |
 *                                                 connection_lost | read_only | timeout | query
 *                                                 (every pair exported from 0)
 *   apfa_db_pool_connections, apfa_db_pool_idle_connections, apfa_db_pool_waiting_requests,
 *   apfa_db_pool_max_connections                  gauges of this replica's pool
 *   apfa_db_up                                    gauge: 1 reachable and writable, 0 otherwise
 *   apfa_db_schema_version                        gauge: the database's schema version (0 before)
 * `operation` is one of insert_item, get_item, get_item_by_key, check, migrate.
 * `route` is the matched route template ("other" for unknown paths), `method` one of the standard
 * methods or "other", so the number of series stays bounded whatever clients send.
 */
"use strict";

const http = require("node:http");
const path = require("node:path");
const fs = require("node:fs");

// db.js needs only Node's modules until createDatabase() loads `pg`.
const { createDatabase, DatabaseUnavailable, DB_BUCKETS } = require("./db");

/** Route templates and the methods each answers. */
const ROUTES = new Map([
    ["/health", ["GET", "HEAD"]],
    ["/health/db", ["GET", "HEAD"]],
    ["/api/info", ["GET", "HEAD"]],
    ["/api/echo", ["GET", "HEAD"]],
    ["/api/items", ["POST"]],
    ["/api/items/:id", ["GET", "HEAD"]],
]);
const ITEM_PATH = /^\/api\/items\/([^/]+)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Idempotency-Key: visible ASCII, as in the IETF httpapi draft's examples (UUIDs, random tokens). */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const MAX_BODY_BYTES = 16 * 1024;
const SSL_MODES = ["disable", "require", "verify-full"];
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Reads and validates the environment. Returns the settings or a list of problems. */
function readSettings(env) {
    const problems = [];
    const integer = (name, fallback, min, max) => {
        const raw = env[name];
        if (raw === undefined || raw === "") {
            return fallback;
        }
        if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
            problems.push(`${name}=${JSON.stringify(raw)}: expected an integer from ${min} to ${max}`);
            return fallback;
        }
        return Number(raw);
    };

    const port = integer("PORT", 8000, 1, 65535);
    const metricsPort = integer("METRICS_PORT", 9100, 1, 65535);
    if (metricsPort === port) {
        problems.push(`METRICS_PORT=${metricsPort}: must differ from PORT (users must not reach /metrics)`);
    }
    const keepAliveTimeoutMs = integer("KEEP_ALIVE_TIMEOUT_MS", 620000, 1000, 3600000);
    const host = env.HOST === undefined || env.HOST === "" ? "0.0.0.0" : env.HOST;
    const extraLatencyMs = integer("APFA_EXTRA_LATENCY_MS", 0, 0, 60000);
    const shutdownTimeoutMs = integer("SHUTDOWN_TIMEOUT_MS", 10000, 1, 600000);

    let errorRatio = 0;
    const rawRatio = env.APFA_ERROR_RATIO;
    if (rawRatio !== undefined && rawRatio !== "") {
        const value = Number(rawRatio);
        if (!/^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(rawRatio) || !(value >= 0 && value <= 1)) {
            problems.push(`APFA_ERROR_RATIO=${JSON.stringify(rawRatio)}: expected a number from 0 to 1 (e.g. 0.2 = every 5th /api request fails)`);
        } else {
            errorRatio = value;
        }
    }

    const slot = env.SLOT === undefined || env.SLOT === "" ? "blue" : env.SLOT;
    if (slot !== "blue" && slot !== "green") {
        problems.push(`SLOT=${JSON.stringify(env.SLOT)}: expected blue or green`);
    }

    let version = env.APP_VERSION;
    if (version === undefined || version === "") {
        try {
            version = JSON.parse(fs.readFileSync(path.join(__dirname, "package.json"), "utf8")).version;
        } catch (err) {
            problems.push(`APP_VERSION is unset and app/package.json has no readable version (${err.message})`);
        }
    }
    if (typeof version === "string" && !/^[\w.+\-]{1,64}$/.test(version)) {
        problems.push(`APP_VERSION=${JSON.stringify(version)}: expected 1-64 letters, digits or . _ + -`);
    }

    const database = readDatabaseSettings(env, problems, integer);

    return { problems, settings: { port, metricsPort, host, slot, version, errorRatio, extraLatencyMs, shutdownTimeoutMs, keepAliveTimeoutMs, database } };
}

/**
 * The database settings (null when PGHOST is unset: persistence off). The pool knobs are checked
 * either way, so a typo shows up before the day PGHOST is set.
 */
function readDatabaseSettings(env, problems, integer) {
    const poolMax = integer("DB_POOL_MAX", 5, 1, 100);
    const statementTimeoutMs = integer("DB_STATEMENT_TIMEOUT_MS", 5000, 100, 600000);
    const connectTimeoutMs = integer("DB_CONNECT_TIMEOUT_MS", 3000, 100, 60000);
    const host = env.PGHOST ?? "";
    if (host === "") {
        return null;
    }
    if (host.includes(",")) {
        // libpq takes a list of hosts; pg (the driver) takes one.
        problems.push(`PGHOST=${JSON.stringify(host)}: expected one host name or address (the writer endpoint)`);
    }
    const port = integer("PGPORT", 5432, 1, 65535);
    for (const name of ["PGDATABASE", "PGUSER"]) {
        if (env[name] === undefined || env[name] === "") {
            problems.push(`${name} is unset: required when PGHOST is set`);
        }
    }
    const sslMode = env.PGSSLMODE === undefined || env.PGSSLMODE === "" ? "verify-full" : env.PGSSLMODE;
    if (!SSL_MODES.includes(sslMode)) {
        problems.push(`PGSSLMODE=${JSON.stringify(env.PGSSLMODE)}: expected ${SSL_MODES.join(", ")}`);
    }
    let sslRootCert;
    if (env.PGSSLROOTCERT !== undefined && env.PGSSLROOTCERT !== "") {
        try {
            sslRootCert = fs.readFileSync(env.PGSSLROOTCERT, "utf8");
        } catch (err) {
            problems.push(`PGSSLROOTCERT=${JSON.stringify(env.PGSSLROOTCERT)}: cannot read it (${err.message})`);
        }
    }
    return {
        host,
        port,
        database: env.PGDATABASE,
        user: env.PGUSER,
        password: env.PGPASSWORD,
        sslMode,
        sslRootCert,
        poolMax,
        statementTimeoutMs,
        connectTimeoutMs,
    };
}

/** Escapes a Prometheus label value. */
function labelValue(value) {
    return String(value).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labels(pairs) {
    return `{${Object.entries(pairs)
        .map(([k, v]) => `${k}="${labelValue(v)}"`)
        .join(",")}}`;
}

/** Prometheus renders floats like Go's strconv: plain decimal is fine, integers stay integers. */
function num(value) {
    return Number.isFinite(value) ? String(value) : value > 0 ? "+Inf" : value < 0 ? "-Inf" : "NaN";
}

/** In-process metrics registry for the few series this service exposes. */
class Metrics {
    constructor(buildInfo) {
        this.buildInfo = buildInfo;
        /** key "route\0method\0code" → count */
        this.requests = new Map();
        /** key "route\0method" → { buckets: number[], sum, count } */
        this.durations = new Map();
        this.inFlight = 0;
        /** The app's Database (db.js) when persistence is on: its apfa_db_* series are rendered too. */
        this.db = null;
        this.startTimeSeconds = Math.round((Date.now() - process.uptime() * 1000) / 10) / 100;
    }

    observe(route, method, code, seconds) {
        const requestKey = `${route}\0${method}\0${code}`;
        this.requests.set(requestKey, (this.requests.get(requestKey) ?? 0) + 1);
        const durationKey = `${route}\0${method}`;
        let h = this.durations.get(durationKey);
        if (!h) {
            h = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
            this.durations.set(durationKey, h);
        }
        for (let i = 0; i < BUCKETS.length; i++) {
            if (seconds <= BUCKETS[i]) {
                h.buckets[i] += 1;
            }
        }
        h.sum += seconds;
        h.count += 1;
    }

    /** The apfa_db_* series, from the numbers db.js keeps. */
    renderDatabase(out, db) {
        out.push("# HELP apfa_db_query_duration_seconds Time of database statements the server answered (rows or an SQL error), by operation.");
        out.push("# TYPE apfa_db_query_duration_seconds histogram");
        for (const [operation, h] of [...db.durations].sort()) {
            DB_BUCKETS.forEach((le, i) => {
                out.push(`apfa_db_query_duration_seconds_bucket${labels({ operation, le: num(le) })} ${h.buckets[i]}`);
            });
            out.push(`apfa_db_query_duration_seconds_bucket${labels({ operation, le: "+Inf" })} ${h.count}`);
            out.push(`apfa_db_query_duration_seconds_sum${labels({ operation })} ${num(h.sum)}`);
            out.push(`apfa_db_query_duration_seconds_count${labels({ operation })} ${h.count}`);
        }
        out.push("# HELP apfa_db_errors_total Failed database attempts, by operation and kind (connect, pool_exhausted, connection_lost, read_only, timeout, query).");
        out.push("# TYPE apfa_db_errors_total counter");
        for (const [key, count] of [...db.errors].sort()) {
            const [operation, kind] = key.split("\0");
            out.push(`apfa_db_errors_total${labels({ operation, kind })} ${count}`);
        }
        const pool = db.poolStats();
        for (const [name, help, value] of [
            ["apfa_db_pool_connections", "Open connections of this replica's pool (idle and in use).", pool.total],
            ["apfa_db_pool_idle_connections", "Open connections of this replica's pool not in use.", pool.idle],
            ["apfa_db_pool_waiting_requests", "Requests waiting for a connection of this replica's pool.", pool.waiting],
            ["apfa_db_pool_max_connections", "Size limit of this replica's pool (DB_POOL_MAX).", pool.max],
            ["apfa_db_up", "1 when the database was reachable and writable at the last statement or check, else 0.", db.state === "up" ? 1 : 0],
            ["apfa_db_schema_version", "Schema version recorded in the database (0 until the migration has run).", db.schemaVersion ?? 0],
        ]) {
            out.push(`# HELP ${name} ${help}`);
            out.push(`# TYPE ${name} gauge`);
            out.push(`${name} ${value}`);
        }
    }

    render() {
        const out = [];
        out.push("# HELP apfa_http_requests_total HTTP requests answered, by route template, method and status code.");
        out.push("# TYPE apfa_http_requests_total counter");
        for (const [key, count] of [...this.requests].sort()) {
            const [route, method, code] = key.split("\0");
            out.push(`apfa_http_requests_total${labels({ route, method, code })} ${count}`);
        }

        out.push("# HELP apfa_http_request_duration_seconds Time to answer an HTTP request, by route template and method.");
        out.push("# TYPE apfa_http_request_duration_seconds histogram");
        for (const [key, h] of [...this.durations].sort()) {
            const [route, method] = key.split("\0");
            BUCKETS.forEach((le, i) => {
                out.push(`apfa_http_request_duration_seconds_bucket${labels({ route, method, le: num(le) })} ${h.buckets[i]}`);
            });
            out.push(`apfa_http_request_duration_seconds_bucket${labels({ route, method, le: "+Inf" })} ${h.count}`);
            out.push(`apfa_http_request_duration_seconds_sum${labels({ route, method })} ${num(h.sum)}`);
            out.push(`apfa_http_request_duration_seconds_count${labels({ route, method })} ${h.count}`);
        }

        out.push("# HELP apfa_http_requests_in_flight Requests being answered right now (/metrics excluded).");
        out.push("# TYPE apfa_http_requests_in_flight gauge");
        out.push(`apfa_http_requests_in_flight ${this.inFlight}`);

        if (this.db) {
            this.renderDatabase(out, this.db);
        }

        out.push("# HELP apfa_build_info Version and blue/green slot of this replica (always 1).");
        out.push("# TYPE apfa_build_info gauge");
        out.push(`apfa_build_info${labels(this.buildInfo)} 1`);

        const cpu = process.cpuUsage();
        out.push("# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.");
        out.push("# TYPE process_cpu_seconds_total counter");
        out.push(`process_cpu_seconds_total ${num((cpu.user + cpu.system) / 1e6)}`);
        out.push("# HELP process_resident_memory_bytes Resident memory size in bytes.");
        out.push("# TYPE process_resident_memory_bytes gauge");
        out.push(`process_resident_memory_bytes ${process.memoryUsage.rss()}`);
        out.push("# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.");
        out.push("# TYPE process_start_time_seconds gauge");
        out.push(`process_start_time_seconds ${num(this.startTimeSeconds)}`);
        return `${out.join("\n")}\n`;
    }
}

/** Decides deterministically which /api/* requests fail: exactly round-down(n × ratio) of the first n. */
class ErrorPattern {
    constructor(ratio) {
        this.ratio = ratio;
        this.seen = 0;
    }

    nextFails() {
        this.seen += 1;
        // The epsilon keeps e.g. 0.29 × 100 = 28.999999999999996 from rounding down a whole request.
        const failuresSoFar = Math.floor(this.seen * this.ratio + 1e-9);
        const failuresBefore = Math.floor((this.seen - 1) * this.ratio + 1e-9);
        return failuresSoFar > failuresBefore;
    }
}

/**
 * The two servers of one replica: `app` (users' port) and `metrics` (Prometheus's port), sharing
 * one metrics registry. Neither listens yet. `db` is the Database of db.js, or null (persistence
 * off: the items API answers 503).
 */
function createServers(settings, db = null) {
    const metrics = new Metrics({ version: settings.version, slot: settings.slot });
    metrics.db = db;
    return { app: createAppServer(settings, metrics, db), metrics: createMetricsServer(metrics) };
}

/** Prometheus's server: GET/HEAD /metrics, nothing else. */
function createMetricsServer(metrics) {
    const server = http.createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://localhost");
        if (url.pathname !== "/metrics") {
            res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
            res.end("not found\n");
            return;
        }
        if (req.method !== "GET" && req.method !== "HEAD") {
            res.writeHead(405, { allow: "GET, HEAD" });
            res.end();
            return;
        }
        const text = metrics.render();
        if (server.stopping) {
            res.setHeader("connection", "close");
        }
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", "content-length": Buffer.byteLength(text) });
        res.end(req.method === "HEAD" ? undefined : text);
    });
    server.stopping = false;
    return server;
}

/** The route template of a path ("other" when none matches) and, for an item, its id segment. */
function matchRoute(pathname) {
    if (ROUTES.has(pathname) && !pathname.includes(":")) {
        return { route: pathname };
    }
    const item = ITEM_PATH.exec(pathname);
    return item ? { route: "/api/items/:id", id: item[1] } : { route: "other" };
}

/**
 * Reads a JSON request body of at most MAX_BODY_BYTES. Resolves to {value} or to {status, error}
 * (415 not JSON, 413 too large, 400 malformed).
 */
function readJsonBody(req) {
    return new Promise((resolve) => {
        if (!/^application\/json\s*(;|$)/i.test(req.headers["content-type"] ?? "")) {
            resolve({ status: 415, error: "expected content-type: application/json" });
            return;
        }
        const chunks = [];
        let size = 0;
        let done = false;
        req.on("data", (chunk) => {
            size += chunk.length;
            if (size > MAX_BODY_BYTES && !done) {
                done = true;
                resolve({ status: 413, error: `body larger than ${MAX_BODY_BYTES} bytes` });
            } else if (!done) {
                chunks.push(chunk);
            }
        });
        req.on("end", () => {
            if (done) {
                return;
            }
            done = true;
            try {
                resolve({ value: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
            } catch (err) {
                resolve({ status: 400, error: `body is not valid JSON (${err.message})` });
            }
        });
        req.on("error", () => {
            if (!done) {
                done = true;
                resolve({ status: 400, error: "request body could not be read" });
            }
        });
    });
}

/**
 * Problems with a POST /api/items body (empty when valid). Fields other than `name` are refused
 * rather than ignored: during a release a newer client could send a field that only the newer slot
 * stores, and silently dropping it on the older slot would lose data without anyone noticing.
 */
function itemProblems(body) {
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
        return ["body must be a JSON object like {\"name\": \"…\"}"];
    }
    const problems = [];
    const name = body.name;
    if (typeof name !== "string") {
        problems.push("name: required, a string");
    } else if (name.trim() === "" || [...name].length > 200) {
        problems.push("name: 1 to 200 characters, not only white space");
    } else if (/[\u0000-\u001f\u007f]/.test(name)) {
        // PostgreSQL's text cannot hold NUL at all; the other control characters only cause trouble.
        problems.push("name: no control characters");
    }
    const unknown = Object.keys(body).filter((k) => k !== "name");
    if (unknown.length > 0) {
        problems.push(`unknown field(s): ${unknown.join(", ")} (only name is accepted)`);
    }
    return problems;
}

const PERSISTENCE_OFF = {
    error: "persistence is off: set PGHOST, PGDATABASE, PGUSER, PGPASSWORD and PGSSLMODE to enable /api/items",
    reason: "disabled",
};

function createAppServer(settings, metrics, db) {
    const errors = new ErrorPattern(settings.errorRatio);

    const sendJson = (res, code, body) => {
        if (res.headersSent || res.destroyed) {
            return; // the client went away while the database answered
        }
        const text = JSON.stringify(body);
        if (server.stopping) {
            // Tell keep-alive clients not to reuse this connection, so shutdown need not wait for them.
            res.setHeader("connection", "close");
        }
        res.writeHead(code, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
        res.end(res.req.method === "HEAD" ? undefined : text);
    };

    /** 503 while the database is unavailable (the client may retry), 500 for anything else. */
    const sendDatabaseError = (res, err) => {
        if (err instanceof DatabaseUnavailable) {
            // The reason is a fixed word: error messages name internal hosts, and users see this.
            res.setHeader("retry-after", "1");
            const error =
                err.kind === "schema"
                    ? "database schema not migrated yet"
                    : err.kind === "read_only"
                      ? "database is read-only (a standby)"
                      : err.kind === "pool_exhausted"
                        ? "too many requests waiting for a database connection"
                        : "database unavailable";
            sendJson(res, 503, { error, reason: err.kind });
            return;
        }
        process.stderr.write(`apfa: database error: ${err?.message ?? err}\n`);
        sendJson(res, 500, { error: "database error" });
    };

    const createItem = async (req, res) => {
        if (!db) {
            sendJson(res, 503, PERSISTENCE_OFF);
            return;
        }
        const body = await readJsonBody(req);
        if (body.error) {
            if (body.status === 413) {
                res.setHeader("connection", "close"); // the rest of the body is not read
            }
            sendJson(res, body.status, { error: body.error });
            return;
        }
        const problems = itemProblems(body.value);
        const key = req.headers["idempotency-key"];
        if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
            problems.push("Idempotency-Key header: 1 to 255 visible ASCII characters");
        }
        if (problems.length > 0) {
            sendJson(res, 400, { error: "invalid item", problems });
            return;
        }
        const result = await db.insertItem(body.value.name, key);
        if (result.conflict) {
            sendJson(res, 422, { error: "this Idempotency-Key was already used with a different body" });
            return;
        }
        if (result.replayed) {
            res.setHeader("idempotent-replayed", "true");
        }
        res.setHeader("location", `/api/items/${result.item.id}`);
        sendJson(res, 201, result.item);
    };

    const getItem = async (res, id) => {
        if (!db) {
            sendJson(res, 503, PERSISTENCE_OFF);
            return;
        }
        // A malformed id cannot name an item: answered without asking the database.
        const item = UUID.test(id) ? await db.getItem(id.toLowerCase()) : undefined;
        if (item) {
            sendJson(res, 200, item);
        } else {
            sendJson(res, 404, { error: "not found" });
        }
    };

    const databaseReadiness = async (res) => {
        if (!db) {
            sendJson(res, 200, { status: "disabled", database: "disabled" });
            return;
        }
        const check = await db.check(1000);
        const schemaVersion = db.schemaVersion ?? null;
        if (check.ok && db.schemaReady) {
            sendJson(res, 200, { status: "ready", database: "up", schemaVersion, latencyMs: check.latencyMs });
        } else {
            sendJson(res, 503, { status: "unavailable", database: db.state, schemaVersion, reason: check.ok ? "schema" : check.reason });
        }
    };

    const server = http.createServer((req, res) => {
        const started = process.hrtime.bigint();
        const url = new URL(req.url ?? "/", "http://localhost");
        const method = KNOWN_METHODS.has(req.method) ? req.method : "other";

        const { route, id } = matchRoute(url.pathname);
        metrics.inFlight += 1;
        let finished = false;
        res.on("close", () => {
            if (!finished) {
                metrics.inFlight -= 1; // the client went away before the answer was sent
            }
        });
        res.on("finish", () => {
            finished = true;
            metrics.inFlight -= 1;
            if (server.stopping) {
                setImmediate(() => server.closeIdleConnections());
            }
            const seconds = Number(process.hrtime.bigint() - started) / 1e9;
            metrics.observe(route, method, String(res.statusCode), seconds);
        });

        if (route === "other") {
            sendJson(res, 404, { error: "not found", path: url.pathname });
            return;
        }
        const allowed = ROUTES.get(route);
        if (!allowed.includes(req.method)) {
            res.setHeader("allow", allowed.join(", "));
            sendJson(res, 405, { error: "method not allowed" });
            return;
        }
        // An async handler must never reject unhandled: Node would end the process.
        const handle = (promise) => promise.catch((err) => sendDatabaseError(res, err));
        if (route === "/health") {
            // Liveness: no database round trip, whatever its state.
            sendJson(res, 200, db ? { status: "ok", database: db.state } : { status: "ok" });
            return;
        }
        if (route === "/health/db") {
            void handle(databaseReadiness(res));
            return;
        }

        // /api/*: subject to the rehearsal knobs.
        const answer = () => {
            if (errors.nextFails()) {
                sendJson(res, 500, { error: "injected failure (APFA_ERROR_RATIO)" });
            } else if (route === "/api/info") {
                sendJson(res, 200, { service: "apfa", version: settings.version, slot: settings.slot, time: new Date().toISOString() });
            } else if (route === "/api/echo") {
                sendJson(res, 200, { msg: url.searchParams.get("msg") ?? "" });
            } else if (route === "/api/items") {
                void handle(createItem(req, res));
            } else {
                void handle(getItem(res, id));
            }
        };
        if (settings.extraLatencyMs > 0) {
            setTimeout(answer, settings.extraLatencyMs);
        } else {
            answer();
        }
    });
    // Longer than every proxy's idle timeout (see KEEP_ALIVE_TIMEOUT_MS), so the proxy, not the
    // app, closes idle connections; shutdown closes idle sockets itself, so this never delays it.
    server.keepAliveTimeout = settings.keepAliveTimeoutMs;
    // Node closes a connection whose next request's headers take longer than this; it must not cut
    // an idle keep-alive connection before keepAliveTimeout does.
    server.headersTimeout = settings.keepAliveTimeoutMs + 5000;
    server.stopping = false;
    return server;
}

function main() {
    const { problems, settings } = readSettings(process.env);
    if (problems.length > 0) {
        process.stderr.write(`apfa: invalid configuration:\n${problems.map((p) => `  - ${p}\n`).join("")}`);
        process.exit(1);
    }

    const dbSettings = settings.database;
    const db = dbSettings ? createDatabase(dbSettings, { slot: settings.slot, version: settings.version }) : null;
    if (dbSettings) {
        process.stdout.write(
            `apfa: database ${dbSettings.user}@${dbSettings.host}:${dbSettings.port}/${dbSettings.database} sslmode=${dbSettings.sslMode}` +
                ` pool=${dbSettings.poolMax} statementTimeoutMs=${dbSettings.statementTimeoutMs}\n`,
        );
        // Migrates in the background (retried until it succeeds): the app serves /health and
        // /api/info meanwhile, and the items API answers 503 until the schema is there.
        db.start();
    } else {
        process.stdout.write("apfa: PGHOST is unset: persistence off, /api/items answers 503\n");
    }

    const { app: server, metrics } = createServers(settings, db);
    for (const [which, srv, port] of [["app", server, settings.port], ["metrics", metrics, settings.metricsPort]]) {
        srv.on("error", (err) => {
            process.stderr.write(`apfa: cannot listen on ${settings.host}:${port} (${which}): ${err.message}\n`);
            process.exit(1);
        });
    }
    metrics.listen(settings.metricsPort, settings.host, () => {
        server.listen(settings.port, settings.host, () => {
            process.stdout.write(
                `apfa ${settings.version} (${settings.slot}) listening on ${settings.host}:${settings.port}, metrics on ${settings.metricsPort}` +
                    ` errorRatio=${settings.errorRatio} extraLatencyMs=${settings.extraLatencyMs}\n`,
            );
        });
    });

    let stopping = false;
    const shutdown = (signal) => {
        if (stopping) {
            return;
        }
        stopping = true;
        server.stopping = true;
        process.stdout.write(`apfa: ${signal} received, finishing in-flight requests\n`);
        // Stop accepting; close() calls back once every in-flight request has been answered.
        server.close(() => {
            // Every request has been answered, so no connection is in use: the pool closes them
            // all (PostgreSQL sees a clean Terminate, not a reset) and the process exits.
            const drained = db ? db.close() : Promise.resolve();
            drained.then(
                () => {
                    process.stdout.write("apfa: stopped\n");
                    process.exit(0);
                },
                (err) => {
                    process.stderr.write(`apfa: closing the database pool failed: ${err.message}\n`);
                    process.exit(1);
                },
            );
        });
        server.closeIdleConnections();
        // Prometheus may scrape until the end; the process exit closes the metrics port.
        metrics.stopping = true;
        setTimeout(() => {
            process.stderr.write(`apfa: in-flight requests or database connections still open after ${settings.shutdownTimeoutMs} ms, closing them\n`);
            server.closeAllConnections();
            process.exit(1);
        }, settings.shutdownTimeoutMs).unref();
    };
    process.on("SIGTERM", () => shutdown("SIGTERM"));
    process.on("SIGINT", () => shutdown("SIGINT"));
}

if (require.main === module) {
    main();
}

module.exports = { readSettings, createServers, ErrorPattern, Metrics, BUCKETS, itemProblems };
