/**
 * The release gate against a REAL Prometheus scraping real reference-app processes as the blue and
 * green slots: with green failing 20 % of its requests the analysis says rollback; with both slots
 * healthy it says continue. Every query the gate runs is evaluated by Prometheus itself.
 *
 * Discovery: production finds the replicas by DNS service discovery (Docker network aliases,
 * headless Services) or the ECS API, none of which resolves on this machine (Prometheus's DNS SD
 * asks the resolv.conf nameserver directly and ignores /etc/hosts). So the apps listen on
 * 127.0.0.1 and Prometheus scrapes them through `static_configs` carrying the same target labels
 * production relabelling produces: `job` and `slot`.
 *
 * Two jobs scrape the same healthy blue app: `apfa` pairs it with a green app at
 * APFA_ERROR_RATIO=0.2, `apfa-healthy` with a healthy green app, so both verdicts come from one
 * Prometheus in one traffic run.
 *
 * A 5 % canary step, twice: `apfa-canary-quiet` pairs the same blue (400 requests) with a failing
 * green that got 21 (5 % of 421: below the 50-request minimum, so the gate holds), and
 * `apfa-canary` pairs a blue with 1140 requests and a failing green with 60 (5 % of 1200: judged,
 * rolled back).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";

import { parseRolloutSettings } from "../src/config";
import { analyse, type AnalysisThresholds } from "../tools/release/analysis";
import { PrometheusSource, prometheusQueries } from "../tools/release/metrics/prometheus";
import { isHealthy } from "../tools/release/metrics/source";
import { freePort, ProcessGroup, startReferenceApp, stopProcess, waitFor, type RunningProcess } from "./helpers/processes";
import { startPrometheus } from "./helpers/prometheus";
import { requireTool } from "./helpers/tools";

const WINDOW_SECONDS = 30;
/** The defaults of apfa:rollout.analysis (from the schema): the gate as production runs it. */
const THRESHOLDS: AnalysisThresholds = parseRolloutSettings({}).analysis;

describe("release gate on a real Prometheus scraping the reference app as blue and green", function () {
    this.timeout(90_000);
    const procs = new ProcessGroup();
    let dir: string | undefined;
    let prometheus: RunningProcess;
    let prometheusUrl: string;
    type AppName = "blue" | "greenBad" | "greenGood" | "canaryBlue" | "canaryGreen" | "quietGreen";
    const apps: Record<AppName, { base: string; port: number; metricsPort: number; proc: RunningProcess }> = {} as never;

    async function send(base: string, n: number, concurrency = 5): Promise<Record<number, number>> {
        const codes: Record<number, number> = {};
        let next = 0;
        const worker = async () => {
            while (next < n) {
                next += 1;
                const res = await fetch(`${base}/api/info`);
                await res.arrayBuffer();
                codes[res.status] = (codes[res.status] ?? 0) + 1;
            }
        };
        await Promise.all(Array.from({ length: concurrency }, worker));
        return codes;
    }

    const source = (job: string) => new PrometheusSource({ url: prometheusUrl, job, healthPath: "/health", timeoutMs: 5000 });

    before(async function () {
        const prometheusBin = requireTool(this, "prometheus");
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-release-prometheus-"));

        const ratios = { blue: "0", greenBad: "0.2", greenGood: "0", canaryBlue: "0", canaryGreen: "0.2", quietGreen: "0.2" } as const;
        for (const name of Object.keys(ratios) as AppName[]) {
            const slot = name === "blue" || name === "canaryBlue" ? "blue" : "green";
            apps[name] = await startReferenceApp(procs, `app-${name}`, {
                SLOT: slot,
                APFA_ERROR_RATIO: ratios[name],
                APP_VERSION: slot === "blue" ? "1.0.0" : "2.0.0",
            });
            // Create the 200 (and 500) series before the first scrape, so increase() counts every later request.
            await send(apps[name].base, 5, 1);
        }

        const work = dir;
        const target = (name: keyof typeof apps, slot: string) => ({ targets: [`127.0.0.1:${apps[name].metricsPort}`], labels: { slot } });
        const config = {
            global: { scrape_interval: "1s", evaluation_interval: "1s" },
            scrape_configs: [
                { job_name: "apfa", metrics_path: "/metrics", static_configs: [target("blue", "blue"), target("greenBad", "green")] },
                { job_name: "apfa-healthy", metrics_path: "/metrics", static_configs: [target("blue", "blue"), target("greenGood", "green")] },
                { job_name: "apfa-canary", metrics_path: "/metrics", static_configs: [target("canaryBlue", "blue"), target("canaryGreen", "green")] },
                { job_name: "apfa-canary-quiet", metrics_path: "/metrics", static_configs: [target("blue", "blue"), target("quietGreen", "green")] },
            ],
        };
        const configFile = path.join(work, "prometheus.yml");
        fs.writeFileSync(configFile, stringify(config));
        // On a free port, retried on another if it was taken meanwhile.
        ({ proc: prometheus, url: prometheusUrl } = await startPrometheus(
            procs,
            prometheusBin,
            configFile,
            (port) => [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(work, `data-${port}`)}`, `--web.listen-address=127.0.0.1:${port}`],
            { timeoutMs: 30_000 },
        ));

        // Every target scraped at least twice before the traffic: increase() then sees all of it.
        const probe = source("apfa");
        await waitFor(
            "two scrapes of every target",
            async () => {
                const ready = await probe.query(
                    'min(count_over_time(up{job=~"apfa.*"}[1m])) >= 2 and count(up{job=~"apfa.*"} == 1) == 8',
                    new Date(),
                );
                return ready.length === 1;
            },
            { timeoutMs: 20_000, intervalMs: 250, process: prometheus },
        );

        // Traffic, as a 50 % step would see it: the same number of requests to each slot.
        const [blue, bad, good, canaryBlue, canaryGreen, quietGreen] = await Promise.all([
            send(apps.blue.base, 400),
            send(apps.greenBad.base, 400),
            send(apps.greenGood.base, 400),
            // A 5 % step: the service's 1200 requests split 95/5, and a quieter 421 split the same way.
            send(apps.canaryBlue.base, 1140),
            send(apps.canaryGreen.base, 60, 1),
            send(apps.quietGreen.base, 21, 1),
        ]);
        assert.deepEqual(blue, { 200: 400 });
        assert.deepEqual(bad, { 200: 320, 500: 80 }, "the reference app fails exactly every 5th request at 0.2");
        assert.deepEqual(good, { 200: 400 });
        assert.deepEqual(canaryBlue, { 200: 1140 });
        assert.deepEqual(canaryGreen, { 200: 48, 500: 12 });
        assert.deepEqual(quietGreen, { 200: 17, 500: 4 });
        // Fix the sampling instant now, while the traffic is seconds old.
        await trafficScrapedAt();
    });

    after(async () => {
        try {
            await procs.stopAll();
        } finally {
            if (dir) {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        }
    });

    /**
     * The first instant at which Prometheus had scraped all the traffic into the window, for both
     * jobs. Every sample is taken at that instant, so the window holds the traffic however long the
     * tests take afterwards; sampled at "now", the 30 s window could slide past it on a slow machine.
     */
    let settled: Promise<Date> | undefined;
    function trafficScrapedAt(): Promise<Date> {
        settled ??= waitFor(
            "the traffic scraped (both jobs)",
            async () => {
                const at = new Date();
                // Each job's traffic, less a little for increase()'s extrapolation at the window's edges.
                const least: Record<string, [number, number]> = {
                    apfa: [380, 380],
                    "apfa-healthy": [380, 380],
                    "apfa-canary": [1100, 57],
                    "apfa-canary-quiet": [380, 20],
                };
                for (const [job, [blue, green]] of Object.entries(least)) {
                    const samples = await source(job).sample(WINDOW_SECONDS, at);
                    if (samples.blue.requests < blue || samples.green.requests < green) {
                        return undefined;
                    }
                }
                return at;
            },
            { timeoutMs: 20_000, intervalMs: 500, process: prometheus },
        );
        return settled;
    }

    /** The job's sample of the window that holds all the traffic. */
    async function settledSample(job: string) {
        return source(job).sample(WINDOW_SECONDS, await trafficScrapedAt());
    }

    it("every query the gate runs is valid PromQL that Prometheus evaluates", async () => {
        const q = prometheusQueries({ job: "apfa", healthPath: "/health" }, WINDOW_SECONDS);
        for (const expr of [q.requests, q.errors, q.p95, q.up("blue"), q.up("green")]) {
            const vector = await source("apfa").query(expr, new Date());
            assert.ok(vector.length > 0, `${expr} returned no series`);
        }
    });

    it("green at a 20 % error ratio: the analysis says rollback, naming the error ratio", async () => {
        const samples = await settledSample("apfa");
        assert.ok(Math.abs(samples.green.errors / samples.green.requests - 0.2) < 0.02, `green error ratio ${samples.green.errors}/${samples.green.requests}`);
        assert.equal(Math.round(samples.blue.errors), 0);
        assert.ok(samples.green.p95Seconds !== undefined && samples.green.p95Seconds < 0.5, "latency measured from the histogram");

        const verdict = analyse({ candidate: samples.green, baseline: samples.blue }, THRESHOLDS);
        assert.equal(verdict.decision, "rollback", verdict.reasons.join("\n"));
        assert.match(verdict.reasons[0], /error ratio (19|20|21)\.\d\d % .* above the limit 1\.00 %/);
    });

    it("both slots healthy: the analysis says continue", async () => {
        const samples = await settledSample("apfa-healthy");
        const verdict = analyse({ candidate: samples.green, baseline: samples.blue }, THRESHOLDS);
        assert.equal(verdict.decision, "continue", verdict.reasons.join("\n"));
    });

    it("a 5 % canary step with 21 of 421 requests: below the 50-request minimum, the gate holds and says why", async () => {
        const samples = await settledSample("apfa-canary-quiet");
        // increase() extrapolates towards the window's edges, so a few more than the 21 sent may show; far below 50 either way.
        assert.ok(samples.green.requests >= 20 && samples.green.requests < 50, `green ${samples.green.requests} requests`);
        const verdict = analyse({ candidate: samples.green, baseline: samples.blue }, THRESHOLDS);
        assert.equal(verdict.decision, "hold", verdict.reasons.join("\n"));
        assert.match(verdict.reasons[0], /^\d\d requests on the new slot in the window; at least 50 are needed to judge it$/);
    });

    it("a 5 % canary step with 60 of 1200 requests (12 failing): judged, and rolled back", async () => {
        const samples = await settledSample("apfa-canary");
        assert.ok(samples.green.requests >= 50, `green ${samples.green.requests} requests: enough to judge`);
        const verdict = analyse({ candidate: samples.green, baseline: samples.blue }, THRESHOLDS);
        assert.equal(verdict.decision, "rollback", verdict.reasons.join("\n"));
        // 12 of 60 sent failed; increase() may extrapolate both counts by about the same factor.
        assert.match(verdict.reasons[0], /error ratio (1[89]|2[012])\.\d\d % \(\d+\/\d+, lower bound 1\d\.\d\d %\) above the limit 1\.00 %/);
    });

    it("the widened window (the step's 10 minutes) is valid PromQL and counts the same step's requests", async () => {
        const at = await trafficScrapedAt();
        const narrow = await source("apfa-canary").sample(WINDOW_SECONDS, at);
        const wide = await source("apfa-canary").sample(600, at);
        for (const slot of ["blue", "green"] as const) {
            assert.ok(Math.abs(wide[slot].requests - narrow[slot].requests) <= narrow[slot].requests * 0.1, `${slot}: ${wide[slot].requests} vs ${narrow[slot].requests}`);
        }
        assert.equal(analyse({ candidate: wide.green, baseline: wide.blue }, THRESHOLDS).decision, "rollback");
    });

    it("the health check counts the replicas up, and a stopped replica as down", async () => {
        const healthy = await source("apfa-healthy").health("green", new Date());
        assert.deepEqual(healthy, { up: 1, down: 0 });
        assert.equal(isHealthy(healthy, 1), true);

        await stopProcess(apps.greenGood.proc);
        const down = await waitFor(
            "the stopped replica to be seen down",
            async () => {
                const h = await source("apfa-healthy").health("green", new Date());
                return h.down === 1 ? h : undefined;
            },
            { timeoutMs: 10_000, intervalMs: 250, process: prometheus },
        );
        assert.deepEqual(down, { up: 0, down: 1 });
        assert.equal(isHealthy(down, 1), false);
    });

    it("an unreachable Prometheus is an error that names the URL (the machine turns it into 'hold')", async () => {
        const closed = await freePort();
        const gone = new PrometheusSource({ url: `http://127.0.0.1:${closed}`, job: "apfa", healthPath: "/health", timeoutMs: 2000 });
        await assert.rejects(gone.sample(WINDOW_SECONDS, new Date()), new RegExp(`cannot reach Prometheus at http://127.0.0.1:${closed}`));
    });
});
