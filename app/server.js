#!/usr/bin/env node
/**
 * The reference APFA service: a small, dependency-free HTTP API with /health, and Prometheus
 * /metrics on a second port that only Prometheus is allowed to reach.
 *
 * Routes on PORT (what load balancers forward users to)
 *   GET /health        200 {"status":"ok"} — always fast, never subject to the knobs below
 *   GET /api/info      {"service","version","slot","time"}
 *   GET /api/echo?msg= {"msg": <msg>}
 *   anything else      404 {"error":"not found"} (405 for a known path with another method) —
 *                      including /metrics: however a proxy normalises a path, users never get metrics
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
 *                          after SIGTERM/SIGINT before connections are cut (then exit 1).
 *
 * Metrics
 *   apfa_http_requests_total{route,method,code}            counter
 *   apfa_http_request_duration_seconds{route,method,le}    histogram (_bucket, _sum, _count)
 *   apfa_http_requests_in_flight                           gauge (requests being answered, /metrics excluded)
 *   apfa_build_info{version,slot}                          gauge, always 1
 *   process_cpu_seconds_total, process_resident_memory_bytes, process_start_time_seconds
 * `route` is the matched route template ("other" for unknown paths), `method` one of the standard
 * methods or "other", so the number of series stays bounded whatever clients send.
 */
"use strict";

const http = require("node:http");
const path = require("node:path");
const fs = require("node:fs");

const ROUTES = ["/health", "/api/info", "/api/echo"];
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

    return { problems, settings: { port, metricsPort, host, slot, version, errorRatio, extraLatencyMs, shutdownTimeoutMs, keepAliveTimeoutMs } };
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
 * one metrics registry. Neither listens yet.
 */
function createServers(settings) {
    const metrics = new Metrics({ version: settings.version, slot: settings.slot });
    return { app: createAppServer(settings, metrics), metrics: createMetricsServer(metrics) };
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

function createAppServer(settings, metrics) {
    const errors = new ErrorPattern(settings.errorRatio);

    const sendJson = (res, code, body) => {
        const text = JSON.stringify(body);
        if (server.stopping) {
            // Tell keep-alive clients not to reuse this connection, so shutdown need not wait for them.
            res.setHeader("connection", "close");
        }
        res.writeHead(code, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
        res.end(res.req.method === "HEAD" ? undefined : text);
    };

    const server = http.createServer((req, res) => {
        const started = process.hrtime.bigint();
        const url = new URL(req.url ?? "/", "http://localhost");
        const method = KNOWN_METHODS.has(req.method) ? req.method : "other";

        const route = ROUTES.includes(url.pathname) ? url.pathname : "other";
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
        if (req.method !== "GET" && req.method !== "HEAD") {
            res.setHeader("allow", "GET, HEAD");
            sendJson(res, 405, { error: "method not allowed" });
            return;
        }
        if (route === "/health") {
            sendJson(res, 200, { status: "ok" });
            return;
        }

        // /api/*: subject to the rehearsal knobs.
        const answer = () => {
            if (errors.nextFails()) {
                sendJson(res, 500, { error: "injected failure (APFA_ERROR_RATIO)" });
            } else if (route === "/api/info") {
                sendJson(res, 200, { service: "apfa", version: settings.version, slot: settings.slot, time: new Date().toISOString() });
            } else {
                sendJson(res, 200, { msg: url.searchParams.get("msg") ?? "" });
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

    const { app: server, metrics } = createServers(settings);
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
            process.stdout.write("apfa: stopped\n");
            process.exit(0);
        });
        server.closeIdleConnections();
        // Prometheus may scrape until the end; the process exit closes the metrics port.
        metrics.stopping = true;
        setTimeout(() => {
            process.stderr.write(`apfa: in-flight requests still open after ${settings.shutdownTimeoutMs} ms, closing them\n`);
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

module.exports = { readSettings, createServers, ErrorPattern, Metrics, BUCKETS };
