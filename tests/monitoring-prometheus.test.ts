/**
 * Integration: a REAL Prometheus (the same 3.16 as the pinned image) runs the generated
 * prometheus.yml and rules against two real reference-app processes — blue failing 25 % of its
 * /api requests, green healthy — and every PromQL expression of the rules and dashboards is
 * evaluated through its HTTP API.
 *
 * Discovery on this machine: Prometheus's DNS SD asks the resolv.conf nameserver directly and
 * ignores /etc/hosts (see shared/research/feasibility.md §3), and both apps listen on 127.0.0.1, so
 * `apfa-blue`/`apfa-green` cannot resolve here. The test therefore renders the config for the DNS
 * discovery (the dev stack's) through the normal code path and then replaces ONLY each
 * `dns_sd_configs` block by a `static_configs` block that yields what DNS SD would have yielded: the
 * target address (here 127.0.0.1:<port>) and the `__meta_dns_name` meta label. The generated
 * relabelling (slot from __meta_dns_name, keep only known slots), job, metrics path, intervals and
 * rule files run unchanged. The self-scrape target is pointed at the test's Prometheus port.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";

import type { SlotDiscovery } from "../src/monitoring/prometheus";
import { parseConfig, SLOTS, type MonitoringSettings, type Slot } from "../src/config";
import { monitoringArtifacts } from "../src/monitoring/artifacts";
import { dashboardExpressions, dashboards } from "../src/monitoring/dashboards";
import { APFA_JOB, PROMETHEUS_JOB, prometheusArgs } from "../src/monitoring/prometheus";
import { RECORDED, alertingRulesOf, ruleGroups } from "../src/monitoring/rules";
import { ProcessGroup, startReferenceApp, waitFor, type RunningProcess } from "./helpers/processes";
import { TempPostgres } from "./helpers/postgres";
import { startPrometheus } from "./helpers/prometheus";
import { requireTool } from "./helpers/tools";

const BLUE_ERROR_RATIO = 0.25;
/** What Grafana would substitute for $__rate_interval at this scrape interval (≥ 4 scrapes). */
const RATE_INTERVAL = "1m";

interface QueryResult {
    status: string;
    error?: string;
    data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

/** The generated config with only the discovery blocks replaced (see the file comment). */
function pointDiscoveryAtLoopback(yml: string, ports: Record<string, number>, prometheusPort: number): string {
    // Mutable view of the parsed file: only the discovery blocks change.
    const config = parse(yml) as { scrape_configs: Record<string, unknown>[] };
    for (const job of config.scrape_configs) {
        const dns = job.dns_sd_configs as { names: string[]; port: number }[] | undefined;
        if (dns) {
            job.static_configs = dns.flatMap((block) =>
                block.names.map((name) => {
                    assert.ok(ports[name], `no local app for DNS name ${name}`);
                    return { targets: [`127.0.0.1:${ports[name]}`], labels: { __meta_dns_name: name } };
                }),
            );
            delete job.dns_sd_configs;
        }
        if (job.job_name === PROMETHEUS_JOB) {
            job.static_configs = [{ targets: [`127.0.0.1:${prometheusPort}`] }];
        }
    }
    return stringify(config, { lineWidth: 0 });
}

describe("monitoring: a real Prometheus on the generated config and rules", function () {
    this.timeout(60000);
    const procs = new ProcessGroup();
    let dir: string | undefined;
    let prometheusUrl: string;
    let prometheus: RunningProcess;
    let settings: MonitoringSettings;
    /** A real PostgreSQL both apps use, so the database rules and panels (apfa_db_*) have data too. */
    let pg: TempPostgres | undefined;
    const apps = {} as Record<Slot, { base: string; port: number; metricsPort: number }>;

    async function query(expr: string): Promise<QueryResult> {
        const res = await fetch(`${prometheusUrl}/api/v1/query`, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ query: expr }).toString(),
            signal: AbortSignal.timeout(5000),
        });
        return (await res.json()) as QueryResult;
    }

    /** Polls until `expr` returns at least one series; returns them. */
    async function waitForSeries(expr: string, what: string, accept: (r: QueryResult) => boolean = () => true) {
        const result = await waitFor(
            what,
            async () => {
                const r = await query(expr);
                return r.status === "success" && (r.data?.result.length ?? 0) > 0 && accept(r) ? r : undefined;
            },
            { timeoutMs: 20000, intervalMs: 250, process: prometheus },
        );
        return result.data?.result ?? [];
    }

    async function send(base: string, n: number): Promise<Record<number, number>> {
        const codes: Record<number, number> = {};
        for (let i = 0; i < n; i++) {
            const res = await fetch(`${base}/api/info`);
            await res.arrayBuffer();
            codes[res.status] = (codes[res.status] ?? 0) + 1;
        }
        return codes;
    }

    before(async function () {
        const prometheusBin = requireTool(this, "prometheus");
        settings = { ...parseConfig({ values: { "apfa:cloud": "docker" }, project: "apfa", stack: "test" }).monitoring, scrapeIntervalSeconds: 1 };
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-prometheus-"));

        pg = await TempPostgres.start(this);
        await pg.createDatabase("apfa_monitoring");

        // The reference app, one process per slot, on free loopback ports. Its startup migration and
        // background reachability check are answered statements: the database histograms fill
        // without any /api request (which would change the request counts below).
        for (const slot of SLOTS) {
            apps[slot] = await startReferenceApp(procs, `app-${slot}`, {
                ...pg.appEnv("apfa_monitoring"),
                SLOT: slot,
                APFA_ERROR_RATIO: slot === "blue" ? String(BLUE_ERROR_RATIO) : "0",
            });
            // Both the 200 and the 500 series exist (in the final 3:1 ratio) before the first scrape,
            // so rate() sees every later request of both.
            await send(apps[slot].base, 4);
        }

        const discovery: Record<Slot, SlotDiscovery> = {
            blue: { kind: "dns", name: "apfa-blue", port: 8000 },
            green: { kind: "dns", name: "apfa-green", port: 8000 },
        };
        const artifacts = monitoringArtifacts({ settings, app: { metricsPath: "/metrics" }, discovery, externalLabels: { stack: "test" } }, "unused");
        const work = dir;
        fs.mkdirSync(path.join(work, "rules"));
        fs.writeFileSync(path.join(work, "rules", "apfa.rules.yml"), artifacts.rulesYml);
        const configFile = path.join(work, "prometheus.yml");
        // On a free port (its self-scrape target names it), retried on another if it was taken meanwhile.
        ({ proc: prometheus, url: prometheusUrl } = await startPrometheus(procs, prometheusBin, configFile, (port) => {
            fs.writeFileSync(
                configFile,
                pointDiscoveryAtLoopback(artifacts.prometheusYml, { "apfa-blue": apps.blue.metricsPort, "apfa-green": apps.green.metricsPort }, port),
            );
            // The generated command line, with only the paths and listen address of this machine.
            return prometheusArgs(settings, { configFile, dataDir: path.join(work, `data-${port}`) }, `127.0.0.1:${port}`);
        }));
    });

    after(async () => {
        try {
            await procs.stopAll();
            await pg?.destroy();
        } finally {
            if (dir) {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        }
    });

    it("scrapes both slots in job 'apfa' with the slot label, and itself", async () => {
        const up = await waitForSeries(`up == 1`, "all targets up", (r) => (r.data?.result.length ?? 0) === 3);
        const targets = up.map((s) => `${s.metric.job}/${s.metric.slot ?? "-"}`).sort();
        assert.deepEqual(targets, [`${APFA_JOB}/blue`, `${APFA_JOB}/green`, `${PROMETHEUS_JOB}/-`]);
        const blue = up.find((s) => s.metric.slot === "blue");
        assert.equal(blue?.metric.instance, `127.0.0.1:${apps.blue.metricsPort}`);
    });

    it(`reports the error ratio the app was set to (blue ${BLUE_ERROR_RATIO}, green 0) through the recording rules`, async () => {
        // Traffic in multiples of 4 keeps blue's 500s at exactly a quarter.
        const blueCodes = await send(apps.blue.base, 200);
        const greenCodes = await send(apps.green.base, 100);
        assert.deepEqual(blueCodes, { 200: 150, 500: 50 });
        assert.deepEqual(greenCodes, { 200: 100 });
        // Wait for a scrape that has seen all of it.
        await waitForSeries(
            `sum by (slot) (apfa_http_requests_total{job="apfa",route!="/health"})`,
            "the traffic to be scraped",
            (r) => r.data?.result.find((s) => s.metric.slot === "blue")?.value[1] === "204" && r.data?.result.find((s) => s.metric.slot === "green")?.value[1] === "104",
        );

        const expected: Record<Slot, number> = { blue: BLUE_ERROR_RATIO, green: 0 };
        // The rule's expression evaluated directly, and the series the rule records.
        const expression = ruleGroups(settings)
            .groups.flatMap((g) => g.rules)
            .find((r) => "record" in r && r.record === RECORDED.slotErrorRatio("5m"))?.expr;
        assert.ok(expression);
        for (const expr of [expression, RECORDED.slotErrorRatio("5m")]) {
            const series = await waitForSeries(expr, `${expr} for both slots`, (r) =>
                SLOTS.every((slot) => {
                    const v = Number(r.data?.result.find((s) => s.metric.slot === slot)?.value[1]);
                    return Math.abs(v - expected[slot]) < 0.02;
                }),
            );
            for (const slot of SLOTS) {
                const v = Number(series.find((s) => s.metric.slot === slot)?.value[1]);
                assert.ok(Math.abs(v - expected[slot]) < 0.02, `${slot}: ${expr} = ${v}, expected ${expected[slot]}`);
            }
        }
        // Overall (both slots, as users see it): 50 errors of 300 requests.
        const overall = await waitForSeries(RECORDED.errorRatio("5m"), "overall error ratio", (r) => Math.abs(Number(r.data?.result[0]?.value[1]) - 50 / 300) < 0.02);
        assert.equal(overall[0].metric.job, APFA_JOB);
    });

    it("evaluates every rule and dashboard expression without error; recording rules and dashboard queries return data", async () => {
        const rules = ruleGroups(settings);
        const recordings = rules.groups.flatMap((g) => g.rules.flatMap((r) => ("record" in r ? [r.expr] : [])));
        const alerts = alertingRulesOf(rules).map((r) => r.expr);
        const panels = Object.values(dashboards(settings)).flatMap((d) => dashboardExpressions(d));
        assert.ok(recordings.length >= 19 && alerts.length >= 7 && panels.length >= 20, "collected every expression");

        const mustHaveData = [...recordings, ...panels.map((e) => e.replaceAll("$__rate_interval", RATE_INTERVAL))];
        for (const expr of mustHaveData) {
            assert.doesNotMatch(expr, /\$/, `unsubstituted Grafana variable in ${expr}`);
            await waitForSeries(expr, `data for ${expr}`);
        }
        for (const expr of alerts) {
            const r = await query(expr);
            assert.equal(r.status, "success", `${expr}: ${r.error}`);
        }
        // A broken expression is reported as such (the check is real).
        assert.equal((await query("sum(rate(apfa_http_requests_total[5m])")).status, "error");
    });

    it("evaluates every loaded rule group without errors, and no alert fires for a healthy green slot", async () => {
        const res = await fetch(`${prometheusUrl}/api/v1/rules`);
        const body = (await res.json()) as {
            data: { groups: { name: string; rules: { name: string; health: string; lastError?: string; type: string; state?: string; alerts?: { labels: Record<string, string> }[] }[] }[] };
        };
        const loaded = body.data.groups.flatMap((g) => g.rules);
        const generated = ruleGroups(settings).groups.flatMap((g) => g.rules);
        assert.equal(loaded.length, generated.length);
        for (const rule of loaded) {
            assert.equal(rule.health, "ok", `${rule.name}: ${rule.lastError}`);
        }
        const slotAlert = loaded.find((r) => r.name === "ApfaSlotErrorRatioAboveOtherSlot");
        // Blue (25 %) is clearly worse than green (0 %): the comparison is pending or firing, for blue only.
        for (const a of slotAlert?.alerts ?? []) {
            assert.equal(a.labels.slot, "blue");
        }
    });
});
