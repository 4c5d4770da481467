/**
 * The monitoring component placed on the Docker target (dev stack), from the offline synth: the
 * real program on Pulumi mocks, every resource's inputs recorded.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";

import { parseConfig, type Slot } from "../src/config";
import { monitoringArtifacts } from "../src/monitoring/artifacts";
import { OVERVIEW_UID, PROMETHEUS_DATASOURCE_UID, SLO_UID } from "../src/monitoring/dashboards";
import { GRAFANA_IMAGE, PROMETHEUS_IMAGE } from "../src/monitoring/images";
import { slotAlias } from "../src/targets/docker";
import { runToExit } from "./helpers/processes";
import { REDACTED, find, ofType, readSampleStack, synthStack, type Plan, type PlannedResource } from "./helpers/synth";
import { findTool } from "./helpers/tools";

const CONTAINER = "docker:index/container:Container";
const MONITORING = "apfa:monitoring:Monitoring";

interface Upload {
    file: string;
    content: string;
}

function uploads(container: PlannedResource): Record<string, string> {
    return Object.fromEntries(((container.inputs.uploads ?? []) as Upload[]).map((u) => [u.file, u.content]));
}

describe("monitoring on the dev stack (Docker target)", function () {
    let plan: Plan;
    let prometheus: PlannedResource;
    let grafana: PlannedResource;
    const dev = parseConfig({ values: readSampleStack("dev"), project: "apfa", stack: "dev" });
    const expected = monitoringArtifacts(
        {
            settings: dev.monitoring,
            app: dev.app,
            discovery: Object.fromEntries((["blue", "green"] as Slot[]).map((slot) => [slot, { kind: "dns", name: slotAlias(slot), port: dev.app.metricsPort }])) as Record<
                Slot,
                { kind: "dns"; name: string; port: number }
            >,
            externalLabels: { project: "apfa", stack: "dev" },
            alertmanagerUrl: "http://alertmanager:9093",
        },
        "http://prometheus:9090",
    );

    before(() => {
        plan = synthStack("dev");
        prometheus = find(plan, CONTAINER, "apfa-dev-prometheus");
        grafana = find(plan, CONTAINER, "apfa-dev-grafana");
    });

    it("runs Prometheus and Grafana containers from the pinned images, under the Monitoring component", () => {
        const monitoring = ofType(plan, MONITORING);
        assert.equal(monitoring.length, 1);
        for (const c of [prometheus, grafana]) {
            assert.equal(c.parent, monitoring[0].urn);
        }
        const images = ofType(plan, "docker:index/remoteImage:RemoteImage").map((r) => r.inputs.name);
        assert.ok(images.includes(PROMETHEUS_IMAGE) && images.includes(GRAFANA_IMAGE), `images: ${images.join(", ")}`);
        assert.equal(prometheus.inputs.name, "apfa-dev-prometheus");
        assert.equal(grafana.inputs.name, "apfa-dev-grafana");
    });

    it("delivers exactly the generated prometheus.yml and rules to Prometheus", () => {
        const files = uploads(prometheus);
        assert.deepEqual(Object.keys(files).sort(), ["/etc/prometheus/prometheus.yml", "/etc/prometheus/rules/apfa.rules.yml"]);
        assert.equal(files["/etc/prometheus/prometheus.yml"], expected.prometheusYml);
        assert.equal(files["/etc/prometheus/rules/apfa.rules.yml"], expected.rulesYml);
        // The dev stack's discovery: the slots' network aliases on the APFA port, every 5 s.
        const config = parse(files["/etc/prometheus/prometheus.yml"]) as {
            global: { scrape_interval: string };
            scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; port: number }[] }[];
        };
        assert.equal(config.global.scrape_interval, "5s");
        const apfa = config.scrape_configs.find((j) => j.job_name === "apfa");
        assert.deepEqual(
            apfa?.dns_sd_configs?.map((d) => [d.names[0], d.port]),
            // The slots' metrics port (apfa:app.metricsPort, 9100), never the users' port 8000.
            [
                ["apfa-blue", 9100],
                ["apfa-green", 9100],
            ],
        );
    });

    it("the files delivered to the Prometheus container pass promtool check config", async function () {
        const promtool = findTool("promtool");
        if (!promtool) {
            if (process.env.CI) {
                throw new Error("promtool missing in CI");
            }
            this.skip();
        }
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-docker-prom-"));
        try {
            for (const [file, content] of Object.entries(uploads(prometheus))) {
                const local = path.join(dir, path.relative("/etc/prometheus", file));
                fs.mkdirSync(path.dirname(local), { recursive: true });
                fs.writeFileSync(local, content);
            }
            const result = await runToExit(promtool, ["check", "config", path.join(dir, "prometheus.yml")], { timeoutMs: 30000 });
            assert.equal(result.code, 0, result.stdout + result.stderr);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("delivers the datasource (pointing at the prometheus container), the dashboard provider and the dashboards to Grafana", () => {
        const files = uploads(grafana);
        assert.deepEqual(Object.keys(files).sort(), [
            `/etc/grafana/dashboards/apfa/${OVERVIEW_UID}.json`,
            `/etc/grafana/dashboards/apfa/${SLO_UID}.json`,
            "/etc/grafana/provisioning/dashboards/apfa.yaml",
            "/etc/grafana/provisioning/datasources/apfa.yaml",
        ]);
        assert.equal(files["/etc/grafana/provisioning/datasources/apfa.yaml"], expected.datasourcesYml);
        const ds = parse(files["/etc/grafana/provisioning/datasources/apfa.yaml"]) as { datasources: { uid: string; url: string }[] };
        assert.deepEqual(ds.datasources.map((d) => [d.uid, d.url]), [
            [PROMETHEUS_DATASOURCE_UID, "http://prometheus:9090"],
            ["apfa-alertmanager", "http://alertmanager:9093"],
        ]);
        assert.equal(files["/etc/grafana/provisioning/dashboards/apfa.yaml"], expected.dashboardsProviderYml);
        for (const uid of [OVERVIEW_UID, SLO_UID]) {
            const json = files[`/etc/grafana/dashboards/apfa/${uid}.json`];
            assert.equal(json, expected.dashboards[`${uid}.json`]);
            assert.equal((JSON.parse(json) as { uid: string }).uid, uid);
        }
    });

    it("publishes Prometheus on 127.0.0.1:9090 and Grafana on 127.0.0.1:3000 only", () => {
        assert.deepEqual(prometheus.inputs.ports, [{ internal: 9090, external: 9090, ip: "127.0.0.1" }]);
        assert.deepEqual(grafana.inputs.ports, [{ internal: 3000, external: 3000, ip: "127.0.0.1" }]);
        assert.equal(plan.outputs.prometheusUrl, "http://127.0.0.1:9090");
        assert.equal(plan.outputs.grafanaUrl, "http://127.0.0.1:3000");
    });

    it("keeps their data in named volumes", () => {
        const volumes = ofType(plan, "docker:index/volume:Volume").map((v) => v.inputs.name);
        assert.ok(volumes.includes("apfa-dev-prometheus-data") && volumes.includes("apfa-dev-grafana-data"), `volumes: ${volumes.join(", ")}`);
        assert.deepEqual(prometheus.inputs.volumes, [{ volumeName: "apfa-dev-prometheus-data", containerPath: "/prometheus" }]);
        assert.deepEqual(grafana.inputs.volumes, [{ volumeName: "apfa-dev-grafana-data", containerPath: "/var/lib/grafana" }]);
    });

    it("health-checks both, runs them as their images' unprivileged users, with retention from config", () => {
        const test = (c: PlannedResource) => ((c.inputs.healthcheck as { tests: string[] }).tests ?? []).join(" ");
        assert.match(test(prometheus), /http:\/\/127\.0\.0\.1:9090\/-\/healthy/);
        assert.match(test(grafana), /http:\/\/127\.0\.0\.1:3000\/api\/health/);
        assert.equal(prometheus.inputs.user, "65534");
        assert.equal(grafana.inputs.user, "472");
        const command = prometheus.inputs.command as string[];
        assert.ok(command.includes("--config.file=/etc/prometheus/prometheus.yml"));
        assert.ok(command.includes("--storage.tsdb.path=/prometheus"));
        assert.ok(command.includes(`--storage.tsdb.retention.time=${dev.monitoring.retentionDays}d`));
        assert.ok(!command.some((a) => a.includes("enable-lifecycle")));
    });

    it("passes the Grafana admin password only as a secret, and exports it as a secret output", () => {
        assert.equal(grafana.inputs.envs, REDACTED);
        assert.ok(plan.secretInputs.includes(`${CONTAINER}::apfa-dev-grafana.envs`), plan.secretInputs.join(", "));
        assert.equal(plan.outputs.grafanaAdminPassword, REDACTED);
        // Generated (no password in the dev stack file) by a RandomPassword under the component ...
        const password = find(plan, "random:index/randomPassword:RandomPassword", "apfa-dev-monitoring-grafana-admin-password");
        assert.equal(password.parent, ofType(plan, MONITORING)[0].urn);
        assert.ok((password.inputs.length as number) >= 24);
        // ... whose value appears nowhere in plain text.
        assert.ok(!JSON.stringify(plan).includes("mock-password-"), "the generated password leaked into the plan");
    });

    it("uses a password given in config instead of generating one, still only as a secret", () => {
        const given = "given-admin-password-1234";
        const p = synthStack("dev", { "apfa:grafanaAdminPassword": given });
        // (The database's own generated password is another RandomPassword.)
        assert.equal(ofType(p, "random:index/randomPassword:RandomPassword").filter((r) => r.name.includes("grafana")).length, 0);
        assert.equal(find(p, CONTAINER, "apfa-dev-grafana").inputs.envs, REDACTED);
        assert.equal(p.outputs.grafanaAdminPassword, REDACTED);
        assert.ok(!JSON.stringify(p).includes(given), "the configured password leaked into the plan");
    });

    it("deploys no monitoring when apfa:monitoring.enabled is false", () => {
        const p = synthStack("dev", { "apfa:monitoring": { enabled: false } });
        assert.equal(ofType(p, MONITORING).length, 0);
        assert.ok(!p.resources.some((r) => r.name.includes("prometheus") || r.name.includes("grafana")));
    });
});
