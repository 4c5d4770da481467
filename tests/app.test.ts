/**
 * The reference APFA service (app/server.js), run as a real process and tested over real HTTP.
 */
import * as assert from "node:assert/strict";
import * as http from "node:http";
import * as path from "node:path";

import { PROJECT_ROOT } from "../scripts/synth/stack-config";
import { ProcessGroup, runToExit, startReferenceApp, stopProcess, waitFor, type RunningProcess } from "./helpers/processes";

const SERVER = path.join(PROJECT_ROOT, "app", "server.js");
const HEALTHCHECK = path.join(PROJECT_ROOT, "app", "healthcheck.js");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the plain CommonJS app, for its settings and servers
const appModule = require("../app/server.js") as {
    readSettings(env: Record<string, string>): { settings: Record<string, unknown> };
    createServers(settings: Record<string, unknown>): { app: http.Server; metrics: http.Server };
};

interface Sample {
    readonly name: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly value: number;
}

/** Parses Prometheus text format 0.0.4 samples (enough for the exposition this app writes). */
function parseExposition(text: string): Sample[] {
    const samples: Sample[] = [];
    for (const line of text.split("\n")) {
        if (line === "" || line.startsWith("#")) {
            continue;
        }
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
        assert.ok(m, `not a valid sample line: ${JSON.stringify(line)}`);
        const labels: Record<string, string> = {};
        for (const pair of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
            labels[pair[1]] = pair[2].replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
        }
        samples.push({ name: m[1], labels, value: Number(m[3] === "+Inf" ? Infinity : m[3]) });
    }
    return samples;
}

function pick(samples: readonly Sample[], name: string, labels: Record<string, string>): Sample[] {
    return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

function value(samples: readonly Sample[], name: string, labels: Record<string, string>): number {
    const found = pick(samples, name, labels);
    assert.equal(found.length, 1, `expected one ${name}${JSON.stringify(labels)}, found ${found.length}`);
    return found[0].value;
}

describe("reference APFA service (app/server.js)", function () {
    const procs = new ProcessGroup();
    after(() => procs.stopAll());

    /** The metrics port's base URL of each app started here, by its users' base URL. */
    const metricsBaseOf = new Map<string, string>();

    /**
     * Starts the server on free loopback ports (users', metrics) with the given environment; resolves
     * once it says it listens there and /health answers (retried on new ports if one was taken meanwhile).
     */
    async function startApp(name: string, env: Record<string, string> = {}): Promise<{ base: string; proc: RunningProcess }> {
        const { base, proc, metricsPort } = await startReferenceApp(procs, name, env);
        metricsBaseOf.set(base, `http://127.0.0.1:${metricsPort}`);
        return { base, proc };
    }

    /** Scrapes the metrics port of the app whose users' port is at `base`. */
    async function getMetrics(base: string): Promise<{ contentType: string; samples: Sample[] }> {
        const res = await fetch(`${metricsBaseOf.get(base)}/metrics`);
        assert.equal(res.status, 200);
        return { contentType: res.headers.get("content-type") ?? "", samples: parseExposition(await res.text()) };
    }

    describe("routes", function () {
        let base: string;
        before(async () => {
            ({ base } = await startApp("routes", { SLOT: "green", APP_VERSION: "2.3.4-rc.1" }));
        });

        it("GET /health answers 200 {status: ok}", async () => {
            const res = await fetch(`${base}/health`);
            assert.equal(res.status, 200);
            assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
            assert.deepEqual(await res.json(), { status: "ok" });
        });

        it("GET /api/info names the service, version, slot and time", async () => {
            const res = await fetch(`${base}/api/info`);
            assert.equal(res.status, 200);
            const body = (await res.json()) as Record<string, string>;
            assert.equal(body.service, "apfa");
            assert.equal(body.version, "2.3.4-rc.1");
            assert.equal(body.slot, "green");
            assert.ok(Math.abs(Date.parse(body.time) - Date.now()) < 60000, `time ${body.time} is not now`);
        });

        it("GET /api/echo returns msg", async () => {
            const res = await fetch(`${base}/api/echo?msg=${encodeURIComponent("héllo wörld")}`);
            assert.equal(res.status, 200);
            assert.deepEqual(await res.json(), { msg: "héllo wörld" });
        });

        it("the users' port never serves metrics, however the path is spelled; the metrics port serves only them", async () => {
            for (const spelling of ["/metrics", "/metrics/", "/%2e/metrics", "/./metrics", "//metrics", "/api/../metrics", "/%6detrics"]) {
                const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
                    // http.get sends the path as written (fetch would normalise it).
                    http.get(`${base}${spelling}`, { agent: false }, (res) => {
                        let body = "";
                        res.on("data", (c) => (body += c));
                        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
                    }).on("error", reject);
                });
                assert.equal(answer.status, 404, spelling);
                assert.doesNotMatch(answer.body, /apfa_/, spelling);
            }
            const metricsBase = metricsBaseOf.get(base);
            assert.equal((await fetch(`${metricsBase}/metrics`)).status, 200);
            assert.equal((await fetch(`${metricsBase}/health`)).status, 404, "the metrics port serves nothing else");
        });

        it("keeps idle connections open longer than any load balancer in front (ALB 60 s, Google's 600 s backend keep-alive)", async () => {
            const res = await fetch(`${base}/health`);
            // Node announces its keepAliveTimeout in seconds; 620 s > 600 s (Google) > 60 s (ALB idle timeout).
            assert.equal(res.headers.get("keep-alive"), "timeout=620");
            const { settings } = appModule.readSettings({});
            const { app } = appModule.createServers(settings);
            assert.equal(app.keepAliveTimeout, 620_000);
            assert.ok(app.headersTimeout > app.keepAliveTimeout, "the headers timeout must not cut an idle keep-alive connection first");
        });

        it("unknown paths answer 404 JSON, other methods on a known route 405", async () => {
            const res = await fetch(`${base}/no/such/thing`);
            assert.equal(res.status, 404);
            assert.equal(((await res.json()) as { error: string }).error, "not found");
            const post = await fetch(`${base}/api/info`, { method: "POST", body: "x" });
            assert.equal(post.status, 405);
            assert.equal(post.headers.get("allow"), "GET, HEAD");
        });
    });

    describe("metrics", function () {
        let base: string;
        before(async () => {
            ({ base } = await startApp("metrics", { SLOT: "blue", APP_VERSION: "1.2.3" }));
        });

        it("counts requests per route template, method and code, bounding unknown paths as route=other", async () => {
            for (let i = 0; i < 7; i++) {
                assert.equal((await fetch(`${base}/api/info`)).status, 200);
            }
            for (let i = 0; i < 3; i++) {
                assert.equal((await fetch(`${base}/random/${i}`)).status, 404);
            }
            assert.equal((await fetch(`${base}/api/echo?msg=a`)).status, 200);
            await (await fetch(`${metricsBaseOf.get(base)}/metrics`)).text(); // /metrics itself is not counted

            const { contentType, samples } = await getMetrics(base);
            assert.equal(contentType, "text/plain; version=0.0.4; charset=utf-8");
            assert.equal(value(samples, "apfa_http_requests_total", { route: "/api/info", method: "GET", code: "200" }), 7);
            assert.equal(value(samples, "apfa_http_requests_total", { route: "other", method: "GET", code: "404" }), 3);
            assert.equal(value(samples, "apfa_http_requests_total", { route: "/api/echo", method: "GET", code: "200" }), 1);
            // The readiness poll hit /health at least once, counted under its own route.
            assert.ok(value(samples, "apfa_http_requests_total", { route: "/health", method: "GET", code: "200" }) >= 1);
            assert.deepEqual(pick(samples, "apfa_http_requests_total", { route: "/metrics" }), []);
            const routes = new Set(pick(samples, "apfa_http_requests_total", {}).map((s) => s.labels.route));
            assert.deepEqual([...routes].sort(), ["/api/echo", "/api/info", "/health", "other"]);
        });

        it("exposes a histogram with monotonic buckets ending in +Inf = _count", async () => {
            const { samples } = await getMetrics(base);
            const buckets = pick(samples, "apfa_http_request_duration_seconds_bucket", { route: "/api/info", method: "GET" });
            const les = buckets.map((b) => b.labels.le);
            assert.deepEqual(les, ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]);
            for (let i = 1; i < buckets.length; i++) {
                assert.ok(buckets[i].value >= buckets[i - 1].value, `bucket le=${les[i]} < le=${les[i - 1]}`);
            }
            const count = value(samples, "apfa_http_request_duration_seconds_count", { route: "/api/info", method: "GET" });
            assert.equal(count, 7);
            assert.equal(buckets[buckets.length - 1].value, count);
            const sum = value(samples, "apfa_http_request_duration_seconds_sum", { route: "/api/info", method: "GET" });
            assert.ok(sum > 0 && sum < 7 * 10, `sum ${sum}`);
        });

        it("exposes build info and process metrics", async () => {
            const { samples } = await getMetrics(base);
            assert.deepEqual(pick(samples, "apfa_build_info", {}), [{ name: "apfa_build_info", labels: { version: "1.2.3", slot: "blue" }, value: 1 }]);
            assert.ok(value(samples, "process_cpu_seconds_total", {}) > 0);
            assert.ok(value(samples, "process_resident_memory_bytes", {}) > 10 * 1024 * 1024);
            const start = value(samples, "process_start_time_seconds", {});
            assert.ok(start > Date.now() / 1000 - 600 && start <= Date.now() / 1000, `start time ${start}`);
        });
    });

    describe("knobs", function () {
        it("APFA_ERROR_RATIO=0.2 fails exactly every 5th /api request (10 of 50), never /health", async () => {
            const { base } = await startApp("errors", { APFA_ERROR_RATIO: "0.2" });
            const codes: number[] = [];
            for (let i = 0; i < 50; i++) {
                codes.push((await fetch(`${base}/api/info`)).status);
                assert.equal((await fetch(`${base}/health`)).status, 200);
            }
            const failed = codes.flatMap((c, i) => (c === 500 ? [i + 1] : []));
            assert.deepEqual(failed, [5, 10, 15, 20, 25, 30, 35, 40, 45, 50]);
            assert.ok(codes.every((c) => c === 200 || c === 500));

            const { samples } = await getMetrics(base);
            assert.equal(value(samples, "apfa_http_requests_total", { route: "/api/info", code: "500" }), 10);
            assert.equal(value(samples, "apfa_http_requests_total", { route: "/api/info", code: "200" }), 40);
            assert.deepEqual(pick(samples, "apfa_http_requests_total", { route: "/health", code: "500" }), []);
        });

        it("APFA_EXTRA_LATENCY_MS delays /api responses (and shows in the histogram) but not /health", async () => {
            const { base } = await startApp("latency", { APFA_EXTRA_LATENCY_MS: "300" });
            // Checked where a loaded machine's scheduling cannot blur it: the order in which two
            // concurrent answers arrive, and the durations the server measured itself.
            const answered: string[] = [];
            const t0 = performance.now();
            const [api, health] = await Promise.all(
                [`${base}/api/info`, `${base}/health`].map(async (url) => {
                    const res = await fetch(url);
                    answered.push(new URL(url).pathname);
                    return res;
                }),
            );
            const apiMs = performance.now() - t0;
            assert.equal(api.status, 200);
            assert.equal(health.status, 200);
            assert.ok(apiMs >= 300, `/api/info took ${apiMs} ms`);
            // /health, asked while /api/info waits out its 300 ms, does not wait: it answers first.
            assert.deepEqual(answered, ["/health", "/api/info"]);

            const { samples } = await getMetrics(base);
            const histogram = "apfa_http_request_duration_seconds";
            // By the server's clock the /api request took the extra 300 ms (and not some multiple of it)…
            const apiSeconds = value(samples, `${histogram}_sum`, { route: "/api/info" });
            assert.ok(apiSeconds >= 0.3 && apiSeconds < 2.5, `/api/info took ${apiSeconds} s by the server's clock`);
            // …and it is counted in exactly the buckets at or above that duration: not in 0.25, in 0.5
            // (and up) as a 300 ms request is, unless the machine stalled it past half a second.
            for (const le of ["0.25", "0.5", "1", "2.5", "+Inf"]) {
                const expected = le === "+Inf" || apiSeconds <= Number(le) ? 1 : 0;
                assert.equal(value(samples, `${histogram}_bucket`, { route: "/api/info", le }), expected, `le=${le} for a request of ${apiSeconds} s`);
            }
            // Every /health the server answered (readiness probes included) took under 0.25 s by its
            // clock: none waited the 300 ms.
            const healthCount = value(samples, `${histogram}_count`, { route: "/health" });
            assert.ok(healthCount >= 2);
            assert.equal(value(samples, `${histogram}_bucket`, { route: "/health", le: "0.25" }), healthCount);
        });

        for (const [env, message] of [
            [{ APFA_ERROR_RATIO: "1.5" }, /APFA_ERROR_RATIO="1\.5": expected a number from 0 to 1/],
            [{ APFA_ERROR_RATIO: "abc" }, /APFA_ERROR_RATIO="abc"/],
            [{ APFA_EXTRA_LATENCY_MS: "-5" }, /APFA_EXTRA_LATENCY_MS="-5": expected an integer from 0 to 60000/],
            [{ SLOT: "purple" }, /SLOT="purple": expected blue or green/],
            [{ PORT: "80a" }, /PORT="80a": expected an integer from 1 to 65535/],
            [{ PORT: "8000", METRICS_PORT: "8000" }, /METRICS_PORT=8000: must differ from PORT/],
            [{ KEEP_ALIVE_TIMEOUT_MS: "500" }, /KEEP_ALIVE_TIMEOUT_MS="500": expected an integer from 1000 to 3600000/],
        ] as const) {
            it(`refuses to start with ${JSON.stringify(env)}: exit 1 and a clear message`, async () => {
                const result = await runToExit(process.execPath, [SERVER], { env: { HOST: "127.0.0.1", PORT: "1", ...env }, timeoutMs: 10000 });
                assert.equal(result.code, 1);
                assert.match(result.stderr, /invalid configuration/);
                assert.match(result.stderr, message);
            });
        }
    });

    describe("lifecycle", function () {
        it("on SIGTERM finishes the in-flight request, refuses new connections and exits 0", async () => {
            const { base, proc } = await startApp("sigterm", { APFA_EXTRA_LATENCY_MS: "500" });
            const inFlight = fetch(`${base}/api/info`);
            await waitFor("the /api request to be in flight", async () => {
                const { samples } = await getMetrics(base);
                return value(samples, "apfa_http_requests_in_flight", {}) === 1 ? true : undefined;
            });
            process.kill(proc.pid, "SIGTERM");
            const res = await inFlight;
            assert.equal(res.status, 200);
            assert.equal(((await res.json()) as { service: string }).service, "apfa");
            const exit = await stopProcess(proc, { timeoutMs: 5000, signal: "SIGTERM" });
            assert.deepEqual(exit, { code: 0, signal: null });
            await assert.rejects(fetch(`${base}/health`));
        });

        it("healthcheck.js exits 0 against a healthy server and 1 when nothing listens", async () => {
            const { base, proc } = await startApp("healthcheck");
            const port = new URL(base).port;
            assert.equal((await runToExit(process.execPath, [HEALTHCHECK], { env: { PORT: port }, timeoutMs: 10000 })).code, 0);
            await stopProcess(proc);
            const down = await runToExit(process.execPath, [HEALTHCHECK], { env: { PORT: port }, timeoutMs: 10000 });
            assert.equal(down.code, 1);
            assert.match(down.stderr, /ECONNREFUSED/);
        });
    });
});
