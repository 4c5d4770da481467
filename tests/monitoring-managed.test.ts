/**
 * `apfa:monitoring.managedPrometheus` (aws): an Amazon Managed Service for Prometheus workspace
 * that Prometheus remote-writes to and Grafana reads, each with exactly its actions on exactly that
 * workspace. The generated prometheus.yml with its remote_write block is checked by promtool.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";

import { parseConfig } from "../src/config";
import { prometheusYml } from "../src/monitoring/prometheus";
import { datasourcesYml } from "../src/monitoring/grafana";
import { ampAccessPolicy, ampUrls } from "../src/targets/aws/amp";
import { decodeFileContent } from "../src/targets/aws/containers";
import { runToExit } from "./helpers/processes";
import { configProblems } from "./helpers/config";
import { find, ofType, readSampleStack, synthStack, type Plan } from "./helpers/synth";
import { requireTool } from "./helpers/tools";

const PREFIX = "apfa-prod-aws";
const WORKSPACE_ARN = `arn:aws:aps:eu-west-1:123456789012:workspace/ws-${PREFIX}-metrics`;

interface ContainerDef {
    name: string;
    environment?: { name: string; value: string }[];
}

function containerDefs(plan: Plan, service: string, prefix = PREFIX): ContainerDef[] {
    const td = find(plan, "aws:ecs/taskDefinition:TaskDefinition", `${prefix}-${service}-task`);
    return JSON.parse(String(td.inputs.containerDefinitions)) as ContainerDef[];
}

/** Every file the service's init container writes (decoded as the container decodes them). */
function deliveredFiles(plan: Plan, service: string, prefix = PREFIX): string[] {
    return containerDefs(plan, service, prefix)
        .flatMap((c) => c.environment ?? [])
        .filter((e) => e.name.startsWith("APFA_FILE_"))
        .map((e) => decodeFileContent(e.value));
}

const problems = configProblems;

/** The prod-aws sample's monitoring settings with the flag on. */
function withManaged(stack = "prod-aws"): Record<string, unknown> {
    const monitoring = (readSampleStack(stack)["apfa:monitoring"] ?? {}) as Record<string, unknown>;
    return { "apfa:monitoring": { ...monitoring, managedPrometheus: true } };
}

describe("managed Prometheus (remote write)", () => {
    describe("config", () => {
        it("is refused where the target has no managed store, and without monitoring, naming the key", () => {
            const expected =
                "apfa:monitoring.managedPrometheus: only on the aws target today (Amazon Managed Service for Prometheus); this stack is ";
            assert.deepEqual(problems({ "apfa:cloud": "docker", "apfa:monitoring": { managedPrometheus: true } }), [`${expected}docker`]);
            const gcp = problems({ ...readSampleStack("prod-gcp"), ...withManaged("prod-gcp") });
            assert.deepEqual(gcp, [`${expected}gcp, where Prometheus's data already outlives its pod on a persistent volume`]);
            const aws = problems({ ...readSampleStack("prod-aws"), "apfa:monitoring": { enabled: false, managedPrometheus: true } });
            assert.deepEqual(aws, ["apfa:monitoring.managedPrometheus: needs apfa:monitoring.enabled (no Prometheus would write to it)"]);
            assert.deepEqual(problems({ ...readSampleStack("prod-aws"), ...withManaged() }), []);
        });
    });

    describe("pure pieces", () => {
        it("derives the remote-write and query URLs from the workspace endpoint, with or without its trailing slash", () => {
            const expected = {
                remoteWriteUrl: "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write",
                queryUrl: "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1",
            };
            assert.deepEqual(ampUrls("https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/"), expected);
            assert.deepEqual(ampUrls("https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1"), expected);
        });

        it("grants Prometheus only aps:RemoteWrite and Grafana only the four query actions, on the one workspace", () => {
            assert.deepEqual(ampAccessPolicy("write", "arn:aws:aps:us-east-1:1:workspace/ws-1"), {
                Version: "2012-10-17",
                Statement: [{ Sid: "RemoteWriteToTheStacksWorkspace", Effect: "Allow", Action: ["aps:RemoteWrite"], Resource: ["arn:aws:aps:us-east-1:1:workspace/ws-1"] }],
            });
            assert.deepEqual(ampAccessPolicy("query", "arn:aws:aps:us-east-1:1:workspace/ws-1").Statement[0].Action, [
                "aps:QueryMetrics",
                "aps:GetSeries",
                "aps:GetLabels",
                "aps:GetMetricMetadata",
            ]);
        });

        it("adds a SigV4 Prometheus datasource for the workspace beside the local one", () => {
            const doc = parse(datasourcesYml("http://prometheus:9090", { scrapeIntervalSeconds: 15 }, undefined, { queryUrl: "https://aps/ws-1", sigv4Region: "us-east-1" })) as {
                datasources: { uid: string; type: string; url: string; isDefault?: boolean; jsonData: Record<string, unknown> }[];
            };
            assert.deepEqual(doc.datasources.map((d) => [d.uid, d.type, d.isDefault ?? false]), [
                ["apfa-prometheus", "prometheus", true],
                ["apfa-managed-prometheus", "prometheus", false],
            ]);
            const managed = doc.datasources[1];
            assert.equal(managed.url, "https://aps/ws-1");
            assert.deepEqual(
                { sigV4Auth: managed.jsonData.sigV4Auth, sigV4AuthType: managed.jsonData.sigV4AuthType, sigV4Region: managed.jsonData.sigV4Region },
                { sigV4Auth: true, sigV4AuthType: "default", sigV4Region: "us-east-1" },
            );
        });

        it("renders a remote_write block that promtool accepts", async function () {
            const promtool = requireTool(this, "promtool");
            const config = parseConfig({ values: { "apfa:cloud": "docker" }, project: "apfa", stack: "t" });
            const yml = prometheusYml({
                settings: config.monitoring,
                app: config.app,
                discovery: { blue: { kind: "dns", name: "apfa-blue", port: 9100 }, green: { kind: "dns", name: "apfa-green", port: 9100 } },
                remoteWrite: { url: "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write", sigv4Region: "us-east-1" },
            });
            assert.deepEqual((parse(yml) as { remote_write: unknown }).remote_write, [
                {
                    url: "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write",
                    sigv4: { region: "us-east-1" },
                    queue_config: { max_samples_per_send: 1000, max_shards: 200, capacity: 2500 },
                },
            ]);
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-rw-"));
            try {
                fs.writeFileSync(path.join(dir, "prometheus.yml"), yml);
                const ok = await runToExit(promtool, ["check", "config", "--syntax-only", path.join(dir, "prometheus.yml")]);
                assert.equal(ok.code, 0, ok.stdout + ok.stderr);
                // Negative control: promtool refuses a sigv4 block beside basic auth.
                fs.writeFileSync(path.join(dir, "bad.yml"), yml.replace("    sigv4:\n", "    basic_auth:\n      username: x\n    sigv4:\n"));
                const bad = await runToExit(promtool, ["check", "config", "--syntax-only", path.join(dir, "bad.yml")]);
                assert.notEqual(bad.code, 0, "promtool accepted basic_auth together with sigv4");
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    });

    describe("one workspace for a deployment's regions (managedPrometheusWorkspace)", () => {
        const shared = { region: "us-east-1", id: "ws-12345678-abcd-1234-abcd-123456789012" };
        const sharedIn = (stack: string): Record<string, unknown> => {
            const monitoring = (readSampleStack(stack)["apfa:monitoring"] ?? {}) as Record<string, unknown>;
            return { "apfa:monitoring": { ...monitoring, managedPrometheus: true, managedPrometheusWorkspace: shared } };
        };

        it("a standby region writes to the primary region's workspace: no workspace of its own, SigV4 for us-east-1, the grant names that ARN", () => {
            const plan = synthStack("prod-aws-usw2", sharedIn("prod-aws-usw2"));
            assert.deepEqual(ofType(plan, "aws:amp/workspace:Workspace"), []);
            const endpoint = "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-12345678-abcd-1234-abcd-123456789012";
            const config = parse(deliveredFiles(plan, "prometheus", "apfa-prod-aws-usw2").find((f) => f.includes("scrape_configs")) ?? "") as { remote_write: { url: string; sigv4: unknown }[] };
            assert.deepEqual(config.remote_write.map((w) => [w.url, w.sigv4]), [[`${endpoint}/api/v1/remote_write`, { region: "us-east-1" }]]);
            const write = find(plan, "aws:iam/rolePolicy:RolePolicy", "apfa-prod-aws-usw2-prometheus-task-metrics-write");
            assert.deepEqual((JSON.parse(String(write.inputs.policy)) as { Statement: { Resource: string[] }[] }).Statement[0].Resource, [
                "arn:aws:aps:us-east-1:123456789012:workspace/ws-12345678-abcd-1234-abcd-123456789012",
            ]);
        });

        it("is a config error without managedPrometheus, and names a bad id", () => {
            assert.deepEqual(problems({ ...readSampleStack("prod-aws"), "apfa:monitoring": { managedPrometheusWorkspace: shared } }), [
                "apfa:monitoring.managedPrometheusWorkspace: only used with apfa:monitoring.managedPrometheus: true; set it or remove the workspace",
            ]);
            assert.deepEqual(problems({ ...readSampleStack("prod-aws"), "apfa:monitoring": { managedPrometheus: true, managedPrometheusWorkspace: { region: "us-east-1", id: "12345" } } }), [
                "apfa:monitoring.managedPrometheusWorkspace.id: expected an AMP workspace id such as ws-12345678-abcd-1234-abcd-123456789012",
            ]);
        });
    });

    describe("prod-aws plan", () => {
        let plan: Plan;
        let off: Plan;
        before(() => {
            plan = synthStack("prod-aws", withManaged());
            off = synthStack("prod-aws");
        });

        it("creates one workspace, protected in production, only when asked", () => {
            const [workspace] = ofType(plan, "aws:amp/workspace:Workspace");
            assert.equal(ofType(plan, "aws:amp/workspace:Workspace").length, 1);
            assert.equal(workspace.inputs.alias, PREFIX);
            assert.equal(workspace.options.protect, true);
            assert.deepEqual(ofType(off, "aws:amp/workspace:Workspace"), []);
        });

        it("grants write to Prometheus's task role and query to Grafana's, on the workspace alone, and nothing to others", () => {
            const policies = ofType(plan, "aws:iam/rolePolicy:RolePolicy").filter((p) => String(p.inputs.policy).includes("aps:"));
            assert.deepEqual(policies.map((p) => p.name).sort(), [`${PREFIX}-grafana-task-metrics-query`, `${PREFIX}-prometheus-task-metrics-write`]);
            for (const p of policies) {
                const doc = JSON.parse(String(p.inputs.policy)) as { Statement: { Resource: string[] }[] };
                assert.deepEqual(doc.Statement.flatMap((s) => s.Resource), [WORKSPACE_ARN], p.name);
            }
            assert.ok(find(plan, "aws:iam/rolePolicy:RolePolicy", `${PREFIX}-prometheus-task-metrics-write`).inputs.policy);
        });

        it("points Prometheus's remote_write and Grafana's second datasource at the workspace, signed in the stack's region", () => {
            const endpoint = `https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-${PREFIX}-metrics`;
            const prometheus = deliveredFiles(plan, "prometheus");
            const config = parse(prometheus.find((f) => f.includes("scrape_configs")) ?? "") as { remote_write: { url: string; sigv4: unknown }[] };
            assert.deepEqual(config.remote_write.map((w) => [w.url, w.sigv4]), [[`${endpoint}/api/v1/remote_write`, { region: "eu-west-1" }]]);
            const datasources = parse(deliveredFiles(plan, "grafana").find((f) => f.includes("datasources:")) ?? "") as { datasources: { uid: string; url: string; jsonData: { sigV4Region?: string } }[] };
            const managed = datasources.datasources.find((d) => d.uid === "apfa-managed-prometheus");
            assert.deepEqual([managed?.url, managed?.jsonData.sigV4Region], [endpoint, "eu-west-1"]);
            const grafanaEnv = containerDefs(plan, "grafana").flatMap((c) => c.environment ?? []);
            assert.ok(grafanaEnv.some((e) => e.name === "GF_AUTH_SIGV4_AUTH_ENABLED" && e.value === "true"), "Grafana's SigV4 switch");
            assert.ok(!deliveredFiles(off, "prometheus").some((f) => f.includes("remote_write")), "no remote_write without the flag");
        });
    });
});
