/**
 * The shared monitoring component's generated artifacts: pure-function checks, then the real
 * validators (promtool check config / check rules / test rules).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";

import { parseConfig, type MonitoringSettings, type Slot } from "../src/config";
import { monitoringArtifacts, type ArtifactsInput } from "../src/monitoring/artifacts";
import { OVERVIEW_UID, PROMETHEUS_DATASOURCE_UID, SLO_UID, dashboardExpressions, dashboards, panelsOf } from "../src/monitoring/dashboards";
import { GRAFANA_ADMIN_USER, datasourcesYml, escapeProvisioningValue, grafanaEnv } from "../src/monitoring/grafana";
import { GRAFANA_IMAGE, PROMETHEUS_IMAGE, PROMETHEUS_VERSION, throughMirror } from "../src/monitoring/images";
import {
    APFA_JOB,
    PROMETHEUS_JOB,
    prometheusArgs,
    prometheusConfig,
    regexLiteral,
    type ScrapeConfig,
    type SlotDiscovery,
} from "../src/monitoring/prometheus";
import {
    BURN_RATE_WINDOWS,
    ERROR_RATIO_WINDOWS,
    RECORDED,
    alertingRulesOf,
    burnRate,
    burnRateThreshold,
    errorBudget,
    ruleGroups,
    slotComparisonMargin,
    type AlertingRule,
} from "../src/monitoring/rules";
import { runToExit } from "./helpers/processes";
import { requireTool } from "./helpers/tools";

/** The monitoring settings every stack gets by default (from the one schema in src/config.ts). */
const DEFAULTS: MonitoringSettings = parseConfig({ values: { "apfa:cloud": "docker" }, project: "apfa", stack: "test" }).monitoring;

const DNS: Record<Slot, SlotDiscovery> = {
    blue: { kind: "dns", name: "apfa-blue", port: 8000 },
    green: { kind: "dns", name: "apfa-green", port: 8000 },
};
const CLUSTER_ARN = "arn:aws:ecs:eu-west-1:123456789012:cluster/apfa-prod-aws";
const ECS: Record<Slot, SlotDiscovery> = {
    blue: { kind: "ecs", region: "eu-west-1", clusterName: "apfa-prod-aws", serviceName: "apfa-prod-aws-blue", port: 8000, clusterArn: CLUSTER_ARN },
    green: { kind: "ecs", region: "eu-west-1", clusterName: "apfa-prod-aws", serviceName: "apfa-prod-aws-green", port: 8000, clusterArn: CLUSTER_ARN },
};

function input(discovery: Record<Slot, SlotDiscovery>, settings: MonitoringSettings = DEFAULTS): ArtifactsInput {
    return { settings, app: { metricsPath: "/metrics" }, discovery, externalLabels: { project: "apfa", stack: "test" } };
}

function job(config: { scrape_configs: readonly ScrapeConfig[] }, name: string): ScrapeConfig {
    const found = config.scrape_configs.find((j) => j.job_name === name);
    assert.ok(found, `no job ${name}`);
    return found;
}

/** Applies `replace` relabel rules the way Prometheus does (enough for our rules), then `keep` ones. */
function relabel(rules: ScrapeConfig["relabel_configs"], labels: Record<string, string>): Record<string, string> | undefined {
    const out = { ...labels };
    for (const r of rules ?? []) {
        const value = (r.source_labels ?? []).map((l) => out[l] ?? "").join(r.separator ?? ";");
        const matches = new RegExp(`^(?:${r.regex ?? "(.*)"})$`).test(value);
        if (r.action === "keep" && !matches) {
            return undefined;
        }
        if ((r.action ?? "replace") === "replace" && matches && r.target_label) {
            out[r.target_label] = r.replacement ?? "$1";
        }
    }
    return out;
}

describe("monitoring: Prometheus config (pure)", function () {
    it("scrapes every replica of both slots in one job 'apfa', labelled by slot, over DNS SD (A + port)", () => {
        const config = prometheusConfig(input(DNS));
        const apfa = job(config, APFA_JOB);
        assert.equal(apfa.metrics_path, "/metrics");
        assert.deepEqual(apfa.dns_sd_configs, [
            { names: ["apfa-blue"], type: "A", port: 8000, refresh_interval: "15s" },
            { names: ["apfa-green"], type: "A", port: 8000, refresh_interval: "15s" },
        ]);
        assert.equal(apfa.aws_sd_configs, undefined);
        assert.deepEqual(relabel(apfa.relabel_configs, { __meta_dns_name: "apfa-blue" })?.slot, "blue");
        assert.deepEqual(relabel(apfa.relabel_configs, { __meta_dns_name: "apfa-green" })?.slot, "green");
        assert.equal(relabel(apfa.relabel_configs, { __meta_dns_name: "something-else" }), undefined, "targets of no slot are dropped");
    });

    it("discovers ECS tasks through the ECS API (aws_sd_configs role ecs), so all 16 tasks are found, not Cloud Map's 8", () => {
        const apfa = job(prometheusConfig(input(ECS)), APFA_JOB);
        assert.equal(apfa.dns_sd_configs, undefined);
        // One discoverer for both slots (same region, cluster and port), pointed at the one cluster
        // by ARN (Prometheus matches `clusters` by ARN only); the slot comes from the service name.
        assert.deepEqual(apfa.aws_sd_configs, [{ role: "ecs", region: "eu-west-1", clusters: [CLUSTER_ARN], port: 8000, refresh_interval: "30s" }]);
        const task = (service: string, status = "RUNNING") => ({
            __meta_ecs_region: "eu-west-1",
            __meta_ecs_cluster: "apfa-prod-aws",
            __meta_ecs_service: service,
            __meta_ecs_last_status: status,
        });
        assert.equal(relabel(apfa.relabel_configs, task("apfa-prod-aws-blue"))?.slot, "blue");
        assert.equal(relabel(apfa.relabel_configs, task("apfa-prod-aws-green"))?.slot, "green");
        assert.equal(relabel(apfa.relabel_configs, task("apfa-prod-aws-blue", "PROVISIONING")), undefined, "only RUNNING tasks are scraped");
        assert.equal(relabel(apfa.relabel_configs, task("prometheus")), undefined, "other services of the cluster are not APFA");
        assert.equal(relabel(apfa.relabel_configs, { ...task("apfa-prod-aws-blue"), __meta_ecs_cluster: "other" }), undefined);
    });

    it("escapes regex characters of discovered names", () => {
        assert.equal(regexLiteral("apfa.prod-aws+1"), "apfa\\.prod-aws\\+1");
        const apfa = job(prometheusConfig(input({ ...DNS, blue: { kind: "dns", name: "blue.apfa.svc", port: 8000 } })), APFA_JOB);
        assert.equal(relabel(apfa.relabel_configs, { __meta_dns_name: "blueXapfa.svc" }), undefined);
        assert.equal(relabel(apfa.relabel_configs, { __meta_dns_name: "blue.apfa.svc" })?.slot, "blue");
    });

    it("scrapes Prometheus itself, loads the rules file and uses the configured interval and external labels", () => {
        const config = prometheusConfig(input(DNS, { ...DEFAULTS, scrapeIntervalSeconds: 5 }));
        assert.deepEqual(job(config, PROMETHEUS_JOB).static_configs, [{ targets: ["localhost:9090"] }]);
        assert.deepEqual(config.rule_files, ["rules/apfa.rules.yml"]);
        assert.deepEqual(config.global, {
            scrape_interval: "5s",
            scrape_timeout: "5s",
            evaluation_interval: "5s",
            external_labels: { project: "apfa", stack: "test" },
        });
        assert.equal(prometheusConfig(input(DNS, { ...DEFAULTS, scrapeIntervalSeconds: 60 })).global.scrape_timeout, "10s");
    });

    it("passes retention and storage as Prometheus flags, without the lifecycle API", () => {
        const args = prometheusArgs({ retentionDays: 15, storageGiB: 20 });
        assert.deepEqual(args, [
            "--config.file=/etc/prometheus/prometheus.yml",
            "--storage.tsdb.path=/prometheus",
            "--storage.tsdb.retention.time=15d",
            "--storage.tsdb.retention.size=16GB",
            "--web.listen-address=:9090",
        ]);
        assert.ok(!args.some((a) => a.includes("lifecycle") || a.includes("admin-api")));
    });
});

describe("monitoring: rules (pure)", function () {
    const alerts = alertingRulesOf(ruleGroups(DEFAULTS));
    const byName = (name: string): AlertingRule => {
        const a = alerts.find((r) => r.alert === name);
        assert.ok(a, `no alert ${name}`);
        return a;
    };

    it("has exactly the documented alerts", () => {
        assert.deepEqual(alerts.map((a) => a.alert).sort(), [
            "ApfaDatabaseErrors",
            "ApfaDatabasePoolExhausted",
            "ApfaDatabaseSlowStatements",
            "ApfaDatabaseUnreachable",
            "ApfaDown",
            "ApfaErrorBudgetBurnFast",
            "ApfaErrorBudgetBurnSlow",
            "ApfaHighLatencyP95",
            "ApfaSlotDown",
            "ApfaSlotErrorRatioAboveOtherSlot",
            "PrometheusTargetMissing",
            "Watchdog",
        ]);
    });

    it("gives every alert a severity, summary, description and a runbook link under runbookBaseUrl", () => {
        for (const a of alerts) {
            assert.match(a.labels.severity, a.alert === "Watchdog" ? /^none$/ : /^(page|ticket)$/, a.alert);
            assert.ok(a.annotations.summary.length > 10, a.alert);
            assert.ok(a.annotations.description.length > 20, a.alert);
            assert.equal(a.annotations.runbook_url, `${DEFAULTS.runbookBaseUrl}#${a.alert.toLowerCase()}`);
        }
        const custom = alertingRulesOf(ruleGroups({ ...DEFAULTS, runbookBaseUrl: "https://wiki.example.com/apfa" }));
        assert.ok(custom.every((a) => a.annotations.runbook_url.startsWith("https://wiki.example.com/apfa#")));
    });

    it("computes burn-rate thresholds from the objective (99.9 % → 14.4 × 0.1 % = 1.44 %, 6 × 0.1 % = 0.6 %)", () => {
        assert.equal(errorBudget(99.9), 0.001);
        assert.deepEqual(BURN_RATE_WINDOWS.map(burnRate), [14.4, 6]);
        assert.deepEqual(
            BURN_RATE_WINDOWS.map((w) => burnRateThreshold(w, 99.9)),
            [0.0144, 0.006],
        );
        assert.equal(byName("ApfaErrorBudgetBurnFast").expr, "job:apfa_http_error_ratio:rate1h > 0.0144 and job:apfa_http_error_ratio:rate5m > 0.0144");
        assert.equal(byName("ApfaErrorBudgetBurnSlow").expr, "job:apfa_http_error_ratio:rate6h > 0.006 and job:apfa_http_error_ratio:rate30m > 0.006");

        const relaxed = alertingRulesOf(ruleGroups({ ...DEFAULTS, sloObjectivePercent: 99.5 }));
        assert.match(relaxed.find((a) => a.alert === "ApfaErrorBudgetBurnFast")?.expr ?? "", /> 0\.072 and .* > 0\.072$/);
        assert.match(relaxed.find((a) => a.alert === "ApfaErrorBudgetBurnSlow")?.expr ?? "", /> 0\.03 and .* > 0\.03$/);
        assert.equal(slotComparisonMargin(99.5), 0.03);
    });

    it("records request rate, error ratio per slot and overall for exactly the windows the alerts use, and latency quantiles", () => {
        assert.deepEqual(ERROR_RATIO_WINDOWS, ["5m", "30m", "1h", "6h"]);
        const recorded = ruleGroups(DEFAULTS).groups.flatMap((g) => g.rules.flatMap((r) => ("record" in r ? [r.record] : [])));
        for (const w of ERROR_RATIO_WINDOWS) {
            for (const name of [RECORDED.slotRequestRate(w), RECORDED.slotErrorRate(w), RECORDED.slotErrorRatio(w), RECORDED.errorRatio(w)]) {
                assert.ok(recorded.includes(name), `missing ${name}`);
            }
        }
        for (const q of [0.5, 0.95, 0.99]) {
            assert.ok(recorded.includes(RECORDED.slotLatency(q)));
        }
        for (const a of alerts) {
            for (const used of a.expr.match(/job(_slot)?:[a-z_0-9]+:[a-z_0-9]+/g) ?? []) {
                assert.ok(recorded.includes(used), `${a.alert} uses ${used}, which no rule records`);
            }
        }
    });

    it("alerts on p95 above the configured threshold, per slot", () => {
        assert.equal(byName("ApfaHighLatencyP95").expr, `${RECORDED.slotLatency(0.95)} > 0.5`);
        const strict = alertingRulesOf(ruleGroups({ ...DEFAULTS, latencyP95ThresholdSeconds: 0.25 }));
        assert.match(strict.find((a) => a.alert === "ApfaHighLatencyP95")?.expr ?? "", / > 0\.25$/);
    });

    it("compares the slots both ways, and never hard-codes traffic weights (a weight change must not touch Prometheus)", () => {
        const expr = byName("ApfaSlotErrorRatioAboveOtherSlot").expr;
        assert.match(expr, /\{slot="green"\} > ignoring \(slot\) group_left \(\) \(job_slot:apfa_http_error_ratio:rate5m\{slot="blue"\} \+ 0\.006\)/);
        assert.match(expr, /\{slot="blue"\} > ignoring \(slot\) group_left \(\) \(job_slot:apfa_http_error_ratio:rate5m\{slot="green"\} \+ 0\.006\)/);
        for (const a of alerts) {
            assert.doesNotMatch(a.expr, /weight/);
        }
    });
});

describe("monitoring: Grafana provisioning and dashboards (pure)", function () {
    const all = dashboards(DEFAULTS);

    it("provisions one Prometheus datasource with a fixed uid at the Prometheus service's internal URL", () => {
        const ds = parse(datasourcesYml("http://prometheus:9090", DEFAULTS)) as { datasources: Record<string, unknown>[] };
        assert.equal(ds.datasources.length, 1);
        assert.deepEqual(
            { type: ds.datasources[0].type, uid: ds.datasources[0].uid, url: ds.datasources[0].url, isDefault: ds.datasources[0].isDefault },
            { type: "prometheus", uid: PROMETHEUS_DATASOURCE_UID, url: "http://prometheus:9090", isDefault: true },
        );
        assert.equal(escapeProvisioningValue("http://h/$x"), "http://h/$$x");
    });

    it("dashboards reference only the provisioned datasource uid", () => {
        for (const [file, d] of Object.entries(all)) {
            const panels = panelsOf(d).filter((p) => p.type !== "row");
            assert.ok(panels.length > 5, file);
            for (const p of panels) {
                assert.equal(p.datasource?.uid, PROMETHEUS_DATASOURCE_UID, `${file}: panel datasource`);
                assert.ok((p.targets ?? []).length > 0, `${file}: panel without a query`);
                for (const t of p.targets ?? []) {
                    assert.equal(t.datasource?.uid, PROMETHEUS_DATASOURCE_UID, `${file}: query datasource`);
                }
            }
            const json = JSON.stringify(d);
            const uids = new Set([...json.matchAll(/"uid":"([^"]+)"/g)].map((m) => m[1]));
            assert.deepEqual([...uids].sort(), [PROMETHEUS_DATASOURCE_UID, d.uid].sort(), `${file}: only its own uid and the datasource's`);
        }
    });

    it("the overview shows blue and green side by side for rate, errors, latency, replicas, CPU and memory", () => {
        const overview = all[`${OVERVIEW_UID}.json`];
        const panels = panelsOf(overview).filter((p) => p.type === "timeseries") as { title: string; gridPos: { x: number; y: number } }[];
        for (const topic of ["requests per second", "5xx ratio", "request duration quantiles", "replicas", "CPU", "resident memory"]) {
            const blue = panels.find((p) => p.title.startsWith("blue:") && p.title.includes(topic));
            const green = panels.find((p) => p.title.startsWith("green:") && p.title.includes(topic));
            assert.ok(blue && green, `missing blue/green ${topic}`);
            assert.deepEqual([blue.gridPos.x, green.gridPos.x, blue.gridPos.y], [0, 12, green.gridPos.y], `${topic}: not side by side`);
        }
        const exprs = dashboardExpressions(overview).join("\n");
        for (const metric of ["process_cpu_seconds_total", "process_resident_memory_bytes", "up{", RECORDED.slotLatency(0.99), RECORDED.slotErrorRatio("5m")]) {
            assert.ok(exprs.includes(metric), `overview does not use ${metric}`);
        }
    });

    it("the SLO view shows availability vs objective, budget left over 30 days and burn rates with the alert thresholds", () => {
        const slo = all[`${SLO_UID}.json`];
        const exprs = dashboardExpressions(slo);
        assert.ok(exprs.some((e) => e.includes("[30d]") && e.includes("/ 0.001")), "budget remaining over 30d");
        for (const w of ERROR_RATIO_WINDOWS) {
            assert.ok(exprs.includes(`${RECORDED.errorRatio(w)}{job="apfa"} / 0.001`), `burn rate ${w}`);
        }
        const json = JSON.stringify(slo);
        assert.ok(json.includes('"value":14.4') && json.includes('"value":6'), "burn-rate thresholds drawn");
        assert.ok(json.includes('"value":0.999'), "objective drawn");
    });

    it("panel ids are unique per dashboard", () => {
        for (const d of Object.values(all)) {
            const ids = panelsOf(d).map((p) => (p as { id?: number }).id);
            assert.equal(new Set(ids).size, ids.length);
            assert.ok(ids.every((id) => typeof id === "number" && id > 0));
        }
    });

    it("Grafana settings: no anonymous access, no sign-up, admin user 'admin', password never in plain env", () => {
        const env = grafanaEnv("/etc/grafana/dashboards/apfa/apfa-overview.json");
        assert.equal(env.GF_AUTH_ANONYMOUS_ENABLED, "false");
        assert.equal(env.GF_USERS_ALLOW_SIGN_UP, "false");
        assert.equal(env.GF_SECURITY_ADMIN_USER, GRAFANA_ADMIN_USER);
        assert.equal(GRAFANA_ADMIN_USER, "admin");
        assert.ok(!Object.keys(env).some((k) => k.includes("PASSWORD")));
    });
});

describe("monitoring: images", function () {
    it("pins Prometheus 3.x (same release as the validating promtool) and Grafana 12.x to exact tags", () => {
        assert.equal(PROMETHEUS_IMAGE, `prom/prometheus:v${PROMETHEUS_VERSION}`);
        assert.match(PROMETHEUS_VERSION, /^3\.\d+\.\d+$/);
        assert.match(GRAFANA_IMAGE, /^grafana\/grafana:12\.\d+\.\d+$/);
    });

    it("pulls through a Docker Hub mirror when one is configured, spelling out library/ for official images", () => {
        const ecr = "210987654321.dkr.ecr.eu-west-1.amazonaws.com/docker-hub";
        assert.equal(throughMirror("prom/prometheus:v3.16.0", ecr), `${ecr}/prom/prometheus:v3.16.0`);
        assert.equal(throughMirror("nginx:1.29.3-alpine", "europe-docker.pkg.dev/p/hub/"), "europe-docker.pkg.dev/p/hub/library/nginx:1.29.3-alpine");
        assert.equal(throughMirror("grafana/grafana:12.4.12", undefined), "grafana/grafana:12.4.12");
    });
});

describe("monitoring: validated by promtool", function () {
    let promtool: string;
    let dir: string;
    const fixtures = path.join(__dirname, "fixtures", "monitoring");

    before(function () {
        promtool = requireTool(this, "promtool");
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-promtool-"));
    });
    after(() => {
        if (dir) {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    async function promtoolRun(...args: string[]) {
        return runToExit(promtool, args, { cwd: dir, timeoutMs: 60000 });
    }

    /** Writes prometheus.yml + rules/apfa.rules.yml as Prometheus would read them, into a fresh dir. */
    function writeConfig(name: string, artifacts: { prometheusYml: string; rulesYml: string }): string {
        const root = path.join(dir, name);
        fs.mkdirSync(path.join(root, "rules"), { recursive: true });
        fs.writeFileSync(path.join(root, "prometheus.yml"), artifacts.prometheusYml);
        fs.writeFileSync(path.join(root, "rules", "apfa.rules.yml"), artifacts.rulesYml);
        return path.join(root, "prometheus.yml");
    }

    it("is the same Prometheus release as the pinned image", async () => {
        const version = await promtoolRun("--version");
        assert.match(version.stdout + version.stderr, new RegExp(`version ${PROMETHEUS_VERSION.replace(/\./g, "\\.")}\\b`));
    });

    for (const [kind, discovery] of [
        ["dns", DNS],
        ["ecs", ECS],
        ["mixed dns/ecs", { blue: DNS.blue, green: ECS.green }],
    ] as const) {
        it(`promtool check config accepts prometheus.yml with ${kind} discovery (and the rules it references)`, async () => {
            const file = writeConfig(kind.replace(/\W/g, "-"), monitoringArtifacts(input(discovery), "http://prometheus:9090"));
            const result = await promtoolRun("check", "config", "--lint=all", "--lint-fatal", file);
            assert.equal(result.code, 0, result.stdout + result.stderr);
            assert.match(result.stdout, /SUCCESS: 1 rule files found/);
            assert.match(result.stdout, /is valid prometheus config file syntax/);
        });
    }

    it("promtool check config rejects a broken file (the check is real)", async () => {
        const artifacts = monitoringArtifacts(input(ECS), "http://prometheus:9090");
        const file = writeConfig("broken", { ...artifacts, prometheusYml: artifacts.prometheusYml.replace("role: ecs", "role: ecsx") });
        const result = await promtoolRun("check", "config", file);
        assert.equal(result.code, 1);
        assert.match(result.stdout + result.stderr, /unknown AWS SD role "ecsx"/);
    });

    it("promtool check rules accepts every rule, lint included", async () => {
        const file = path.join(dir, "check-rules.yml");
        fs.writeFileSync(file, monitoringArtifacts(input(DNS), "http://prometheus:9090").rulesYml);
        const result = await promtoolRun("check", "rules", "--lint=all", "--lint-fatal", file);
        assert.equal(result.code, 0, result.stdout + result.stderr);
        const total = ruleGroups(DEFAULTS).groups.reduce((n, g) => n + g.rules.length, 0);
        assert.match(result.stdout, new RegExp(`SUCCESS: ${total} rules found`));
    });

    /**
     * Copies a fixture next to the generated rules (as apfa.rules.yml), filling in each expected
     * alert's annotations from the generated rule with its expected labels substituted.
     */
    function prepareRuleTest(fixture: string, settings: MonitoringSettings): string {
        const rules = ruleGroups(settings);
        const alertRules = alertingRulesOf(rules);
        const root = fs.mkdtempSync(path.join(dir, "rules-test-"));
        fs.writeFileSync(path.join(root, "apfa.rules.yml"), monitoringArtifacts(input(DNS, settings), "http://prometheus:9090").rulesYml);
        const doc = parse(fs.readFileSync(path.join(fixtures, fixture), "utf8")) as {
            tests: { alert_rule_test?: { alertname: string; exp_alerts: { exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }[] }[] }[];
        };
        for (const test of doc.tests) {
            for (const check of test.alert_rule_test ?? []) {
                const rule = alertRules.find((r) => r.alert === check.alertname);
                assert.ok(rule, `${fixture}: unknown alert ${check.alertname}`);
                for (const expected of check.exp_alerts) {
                    expected.exp_annotations ??= Object.fromEntries(
                        Object.entries(rule.annotations).map(([k, v]) => [
                            k,
                            v.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, label: string) => expected.exp_labels?.[label] ?? ""),
                        ]),
                    );
                }
            }
        }
        const file = path.join(root, fixture);
        fs.writeFileSync(file, stringify(doc, { lineWidth: 0 }));
        return file;
    }

    for (const [fixture, proves] of [
        ["burn-rate.test.yml", "the fast and slow burn-rate alerts fire when both windows cross, and stay silent on a short spike"],
        ["down.test.yml", "ApfaDown (targets failing / none discovered), ApfaSlotDown (a slot with traffic loses all replicas) and PrometheusTargetMissing fire"],
        ["latency.test.yml", "ApfaHighLatencyP95 fires for the slow slot only"],
        ["slot-comparison.test.yml", "ApfaSlotErrorRatioAboveOtherSlot fires for the clearly worse slot, either way round, and only then"],
    ] as const) {
        it(`promtool test rules: ${proves} (${fixture})`, async () => {
            const result = await promtoolRun("test", "rules", prepareRuleTest(fixture, DEFAULTS));
            assert.equal(result.code, 0, result.stdout + result.stderr);
            assert.match(result.stdout, /SUCCESS/);
        });
    }

    it("promtool test rules fails the burn-rate fixture against rules for another objective (the fixtures have teeth)", async () => {
        const result = await promtoolRun("test", "rules", prepareRuleTest("burn-rate.test.yml", { ...DEFAULTS, sloObjectivePercent: 99 }));
        assert.equal(result.code, 1);
        assert.match(result.stdout + result.stderr, /ApfaErrorBudgetBurnFast/);
    });
});
