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
    const apps: Record<"blue" | "greenBad" | "greenGood", { base: string; port: number; metricsPort: number; proc: RunningProcess }> = {} as never;

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

        const ratios = { blue: "0", greenBad: "0.2", greenGood: "0" } as const;
        for (const name of ["blue", "greenBad", "greenGood"] as const) {
            apps[name] = await startReferenceApp(procs, `app-${name}`, {
                SLOT: name === "blue" ? "blue" : "green",
                APFA_ERROR_RATIO: ratios[name],
                APP_VERSION: name === "blue" ? "1.0.0" : "2.0.0",
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
                    'min(count_over_time(up{job=~"apfa|apfa-healthy"}[1m])) >= 2 and count(up{job=~"apfa|apfa-healthy"} == 1) == 4',
                    new Date(),
                );
                return ready.length === 1;
            },
            { timeoutMs: 20_000, intervalMs: 250, process: prometheus },
        );

        // Traffic, as a 50 % step would see it: the same number of requests to each slot.
        const [blue, bad, good] = await Promise.all([send(apps.blue.base, 400), send(apps.greenBad.base, 400), send(apps.greenGood.base, 400)]);
        assert.deepEqual(blue, { 200: 400 });
        assert.deepEqual(bad, { 200: 320, 500: 80 }, "the reference app fails exactly every 5th request at 0.2");
        assert.deepEqual(good, { 200: 400 });
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
                for (const job of ["apfa", "apfa-healthy"]) {
                    const samples = await source(job).sample(WINDOW_SECONDS, at);
                    if (samples.blue.requests < 380 || samples.green.requests < 380) {
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
