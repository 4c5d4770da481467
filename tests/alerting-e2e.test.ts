/**
 * End to end on loopback: the reference app (blue failing every /api request, green healthy) →
 * a REAL Prometheus on the generated config and rules, its `alerting` block pointed at → a REAL
 * Alertmanager (the release the image pins) on the generated alertmanager.yml, whose webhook
 * receivers read their URL from credential files → HTTP receivers in this test.
 *
 * What the test changes, and only through the generators' own parameters: the scrape/evaluation
 * interval (1 s), every alert's `for` (`pendingOverride: "0s"`), Alertmanager's group wait and
 * interval (apfa:alerting settings), the credential files' directory, the discovery blocks (DNS
 * names replaced by static loopback targets, as in monitoring-prometheus.test.ts), and Prometheus's
 * alert resend delay (1 s instead of 1 m, see `before`).
 *
 * Phases: (1) blue fails → ApfaSlotErrorRatioAboveOtherSlot{slot="blue"} reaches the page receiver
 * with alertname, slot, summary and runbook_url; the Watchdog reaches its own receiver only.
 * (2) blue is replaced by a healthy process on the same ports and serves enough good requests
 * that its 5m error ratio falls below the threshold → the resolved notification follows.
 * (3) both slots stop → ApfaDown is delivered; the per-slot alerts reach Alertmanager but are
 * inhibited (Alertmanager's API says so) and never delivered.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";

import { parseConfig, SLOTS, type MonitoringSettings, type Slot } from "../src/config";
import { alertmanagerArgs, alertmanagerYml, credentialFiles } from "../src/monitoring/alertmanager";
import type { SlotDiscovery } from "../src/monitoring/prometheus";
import { PROMETHEUS_JOB, prometheusArgs, prometheusYml } from "../src/monitoring/prometheus";
import { rulesYml } from "../src/monitoring/rules";
import { ProcessGroup, startReferenceApp, stopProcess, waitFor, waitForHttp, waitForOutput, withFreePorts, type ReferenceApp, type RunningProcess } from "./helpers/processes";
import { startPrometheus } from "./helpers/prometheus";
import { requireTool } from "./helpers/tools";

interface Notification {
    receiver: string;
    status: "firing" | "resolved";
    groupLabels: Record<string, string>;
    commonLabels: Record<string, string>;
    alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string> }[];
}

/** One HTTP server on loopback that records the notifications POSTed to /<receiver>. */
class Receivers {
    readonly received: { path: string; at: number; body: Notification }[] = [];
    private server?: http.Server;
    port = 0;

    async start(): Promise<void> {
        this.server = http.createServer((req, res) => {
            const chunks: Buffer[] = [];
            req.on("data", (c: Buffer) => chunks.push(c));
            req.on("end", () => {
                try {
                    this.received.push({ path: req.url ?? "", at: Date.now(), body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Notification });
                } catch {
                    // not a notification: ignore
                }
                res.writeHead(200).end();
            });
        });
        await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
        this.port = (this.server.address() as AddressInfo).port;
    }

    url(name: string): string {
        return `http://127.0.0.1:${this.port}/${name}`;
    }

    /** What arrived so far, for failure messages. */
    summary(): string {
        return this.received
            .map((r) => `${new Date(r.at).toISOString()} ${r.path} ${r.body.status} ${r.body.alerts.map((a) => `${a.labels.alertname}{slot=${a.labels.slot ?? ""}}:${a.status}`).join(",")}`)
            .join("\n");
    }

    /** Notifications to /<name> since `since`, matching `match`. */
    find(name: string, since: number, match: (n: Notification) => boolean): Notification[] {
        return this.received.filter((r) => r.path === `/${name}` && r.at >= since && match(r.body)).map((r) => r.body);
    }

    async stop(): Promise<void> {
        await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    }
}

function pointDiscoveryAtLoopback(yml: string, ports: Record<string, number>, prometheusPort: number): string {
    const config = parse(yml) as { scrape_configs: Record<string, unknown>[] };
    for (const job of config.scrape_configs) {
        const dns = job.dns_sd_configs as { names: string[] }[] | undefined;
        if (dns) {
            job.static_configs = dns.flatMap((block) => block.names.map((name) => ({ targets: [`127.0.0.1:${ports[name]}`], labels: { __meta_dns_name: name } })));
            delete job.dns_sd_configs;
        }
        if (job.job_name === PROMETHEUS_JOB) {
            job.static_configs = [{ targets: [`127.0.0.1:${prometheusPort}`] }];
        }
    }
    return stringify(config, { lineWidth: 0 });
}

describe("alerting end to end: Prometheus → Alertmanager → receivers (real processes on loopback)", function () {
    this.timeout(150000);
    const procs = new ProcessGroup();
    const receivers = new Receivers();
    let dir: string | undefined;
    let alertmanagerUrl: string;
    let alertmanager: RunningProcess;
    let prometheus: RunningProcess;
    let settings: MonitoringSettings;
    const apps = {} as Record<Slot, ReferenceApp>;
    let traffic: { stop: boolean; done?: Promise<void> } = { stop: true };

    /** Keeps a trickle of /api requests going to both slots (rate() needs increases in every scrape). */
    function startTraffic(): void {
        const state = { stop: false } as { stop: boolean; done?: Promise<void> };
        state.done = (async () => {
            while (!state.stop) {
                for (const slot of SLOTS) {
                    try {
                        await (await fetch(`${apps[slot].base}/api/info`, { signal: AbortSignal.timeout(2000) })).arrayBuffer();
                    } catch {
                        // a slot being replaced: fine
                    }
                }
                await new Promise((r) => setTimeout(r, 100));
            }
        })();
        traffic = state;
    }

    async function stopTraffic(): Promise<void> {
        traffic.stop = true;
        await traffic.done;
    }

    before(async function () {
        const prometheusBin = requireTool(this, "prometheus");
        const alertmanagerBin = requireTool(this, "alertmanager");
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-alerting-e2e-"));
        const work = dir;
        await receivers.start();

        const config = parseConfig({
            values: {
                "apfa:cloud": "docker",
                "apfa:alerting": {
                    receivers: {
                        pager: { kind: "webhook", url: receivers.url("pager") },
                        desk: { kind: "webhook", url: receivers.url("desk") },
                        heartbeat: { kind: "webhook", url: receivers.url("heartbeat") },
                    },
                    page: ["pager"],
                    ticket: ["desk"],
                    watchdogReceiver: "heartbeat",
                    groupWaitSeconds: 1,
                    groupIntervalSeconds: 1,
                },
            },
            project: "apfa",
            stack: "e2e",
        });
        settings = { ...config.monitoring, scrapeIntervalSeconds: 1 };

        // Alertmanager: the generated file, its credentials as files (what the targets write from their secret stores).
        const secretsDir = path.join(work, "secrets");
        fs.mkdirSync(secretsDir);
        const plainUrls: Record<string, string> = { pager: receivers.url("pager"), desk: receivers.url("desk"), heartbeat: receivers.url("heartbeat") };
        for (const c of credentialFiles(config.alerting, secretsDir)) {
            fs.writeFileSync(c.path, `${plainUrls[c.receiver]}\n`, { mode: 0o600 });
        }
        const amConfig = path.join(work, "alertmanager.yml");
        const yml = alertmanagerYml(config.alerting, secretsDir);
        for (const url of Object.values(plainUrls)) {
            assert.ok(!yml.includes(url), "a receiver URL in alertmanager.yml");
        }
        fs.writeFileSync(amConfig, yml);
        ({ alertmanager, alertmanagerUrl } = await withFreePorts(1, async ([port]) => {
            const proc = procs.start("alertmanager", alertmanagerBin, alertmanagerArgs({ configFile: amConfig, dataDir: path.join(work, `am-${port}`) }, `127.0.0.1:${port}`));
            const url = `http://127.0.0.1:${port}`;
            await waitForOutput(proc, new RegExp(`Listening on.*127\\.0\\.0\\.1:${port}|address=127\\.0\\.0\\.1:${port}`), { timeoutMs: 20000 });
            await waitForHttp(`${url}/-/ready`, { process: proc, timeoutMs: 20000 });
            return { alertmanager: proc, alertmanagerUrl: url };
        }));

        for (const slot of SLOTS) {
            apps[slot] = await startReferenceApp(procs, `app-${slot}`, { SLOT: slot, APFA_ERROR_RATIO: slot === "blue" ? "1" : "0" });
        }
        startTraffic();

        const discovery: Record<Slot, SlotDiscovery> = {
            blue: { kind: "dns", name: "apfa-blue", port: 8000 },
            green: { kind: "dns", name: "apfa-green", port: 8000 },
        };
        fs.mkdirSync(path.join(work, "rules"));
        fs.writeFileSync(path.join(work, "rules", "apfa.rules.yml"), rulesYml(settings, { pendingOverride: "0s" }));
        const configFile = path.join(work, "prometheus.yml");
        ({ proc: prometheus } = await startPrometheus(procs, prometheusBin, configFile, (port) => {
            const generated = prometheusYml({ settings, app: config.app, discovery, externalLabels: { project: "apfa", stack: "e2e" }, alertmanagerUrl });
            fs.writeFileSync(configFile, pointDiscoveryAtLoopback(generated, { "apfa-blue": apps.blue.metricsPort, "apfa-green": apps.green.metricsPort }, port));
            // Prometheus re-sends a firing alert every --rules.alert.resend-delay (1m by default); one
            // that fired before its notifier had synced the Alertmanager list (the Watchdog fires at
            // the very first evaluation) would otherwise arrive a minute late. The only flag added.
            return [...prometheusArgs(settings, { configFile, dataDir: path.join(work, `data-${port}`) }, `127.0.0.1:${port}`), "--rules.alert.resend-delay=1s"];
        }));
    });

    after(async () => {
        try {
            await stopTraffic();
            await procs.stopAll();
            await receivers.stop();
        } finally {
            if (dir) {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        }
    });

    afterEach(function () {
        if (this.currentTest?.state === "failed") {
            console.log(`      notifications received:\n${receivers.summary()}\n      alertmanager:\n${alertmanager.stderr().slice(-3000)}`);
        }
    });

    const slotAlert = "ApfaSlotErrorRatioAboveOtherSlot";
    const isSlotAlert = (n: Notification) => n.groupLabels.alertname === slotAlert && n.groupLabels.slot === "blue";

    it("delivers the failing slot's page with alertname, slot, summary and runbook_url (credential read from its file)", async () => {
        const [n] = await waitFor("the page notification for blue", () => {
            const found = receivers.find("pager", 0, (x) => x.status === "firing" && isSlotAlert(x));
            return found.length > 0 ? found : undefined;
        }, { timeoutMs: 60000, intervalMs: 250, process: alertmanager });
        assert.equal(n.receiver, "page");
        const alert = n.alerts[0];
        assert.equal(alert.labels.alertname, slotAlert);
        assert.equal(alert.labels.slot, "blue");
        assert.equal(alert.labels.severity, "page");
        assert.equal(alert.labels.stack, "e2e");
        assert.match(alert.annotations.summary, /slot blue fails clearly more often/);
        assert.match(alert.annotations.runbook_url, /#apfaslotErrorRatioAboveOtherSlot$/i);
        // The page never went to the ticket receiver.
        assert.deepEqual(receivers.find("desk", 0, isSlotAlert), []);
    });

    it("sends the Watchdog to its own receiver only", async () => {
        await waitFor("the Watchdog notification", () => receivers.find("heartbeat", 0, (n) => n.groupLabels.alertname === "Watchdog").length > 0, {
            timeoutMs: 30000,
            intervalMs: 250,
            process: alertmanager,
        });
        for (const other of ["pager", "desk"]) {
            assert.deepEqual(receivers.find(other, 0, (n) => n.alerts.some((a) => a.labels.alertname === "Watchdog")), [], other);
        }
    });

    it("sends the resolved notification once the slot stops failing", async () => {
        // Blue replaced by a healthy process on the same ports (the deploy of a fix).
        const { port, metricsPort } = apps.blue;
        await stopProcess(apps.blue.proc);
        const proc = procs.start("app-blue-fixed", process.execPath, [path.resolve(__dirname, "..", "app", "server.js")], {
            env: { SLOT: "blue", APFA_ERROR_RATIO: "0", PORT: String(port), METRICS_PORT: String(metricsPort), HOST: "127.0.0.1" },
        });
        await waitForHttp(`http://127.0.0.1:${port}/health`, { process: proc, timeoutMs: 10000 });
        apps.blue = { ...apps.blue, proc };
        // Enough good requests that blue's 5m error ratio falls below the other slot's plus the margin.
        const since = Date.now();
        const resolved = await waitFor(
            "the resolved notification for blue",
            async () => {
                await Promise.all(
                    Array.from({ length: 20 }, async () => {
                        for (let i = 0; i < 25; i++) {
                            await (await fetch(`http://127.0.0.1:${port}/api/info`, { signal: AbortSignal.timeout(5000) })).arrayBuffer();
                        }
                    }),
                );
                const found = receivers.find("pager", since, (n) => n.status === "resolved" && isSlotAlert(n));
                return found.length > 0 ? found[0] : undefined;
            },
            { timeoutMs: 90000, intervalMs: 10, process: alertmanager },
        );
        assert.equal(resolved.alerts[0].status, "resolved");
        assert.equal(resolved.alerts[0].labels.slot, "blue");
    });

    it("delivers ApfaDown and holds back the per-slot alerts it inhibits", async () => {
        await stopTraffic();
        const since = Date.now();
        await Promise.all(SLOTS.map((slot) => stopProcess(apps[slot].proc)));
        const [down] = await waitFor("the ApfaDown page", () => {
            const found = receivers.find("pager", since, (n) => n.status === "firing" && n.groupLabels.alertname === "ApfaDown");
            return found.length > 0 ? found : undefined;
        }, { timeoutMs: 30000, intervalMs: 250, process: alertmanager });
        const downSince = Date.parse((down.alerts[0] as unknown as { startsAt: string }).startsAt);
        // The per-slot alert reached Alertmanager and is suppressed by ApfaDown there.
        await waitFor(
            "PrometheusTargetMissing of a slot to be inhibited in Alertmanager",
            async () => {
                const alerts = (await (await fetch(`${alertmanagerUrl}/api/v2/alerts?inhibited=true&filter=alertname%3D%22PrometheusTargetMissing%22`, { signal: AbortSignal.timeout(5000) })).json()) as {
                    labels: Record<string, string>;
                    status: { state: string; inhibitedBy: string[] };
                }[];
                return alerts.some((a) => a.labels.slot !== undefined && a.status.state === "suppressed" && a.status.inhibitedBy.length > 0);
            },
            { timeoutMs: 30000, intervalMs: 250, process: prometheus },
        );
        // Several group intervals later, still never delivered.
        const deadline = Date.now() + 4000;
        await waitFor("a few group intervals", () => Date.now() >= deadline, { timeoutMs: 10000, intervalMs: 200 });
        // A slot's process may have stopped one evaluation before the other (its alerts then started
        // before ApfaDown and were legitimately sent): only alerts starting while ApfaDown fired count.
        const leaked = ["pager", "desk"].flatMap((name) =>
            receivers.find(name, since, (n) =>
                n.status === "firing" &&
                n.alerts.some((a) => a.labels.slot !== undefined && Date.parse((a as unknown as { startsAt: string }).startsAt) >= downSince),
            ),
        );
        assert.deepEqual(leaked, [], "an inhibited per-slot alert was delivered");
    });
});
