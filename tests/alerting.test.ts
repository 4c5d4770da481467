/**
 * Alerting: `apfa:alerting` (credentials secret end to end), the generated alertmanager.yml (checked
 * by the real amtool of the deployed Alertmanager release, with a negative control), the Prometheus
 * `alerting` block and the Alertmanager service in every stack's plan with no credential in clear.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";

import { ConfigError, parseConfig, type AlertingConfig } from "../src/config";
import {
    ALERTMANAGER_PATHS,
    alertmanagerConfig,
    alertmanagerYml,
    credentialFiles,
    receiverPorts,
} from "../src/monitoring/alertmanager";
import { datasourcesYml } from "../src/monitoring/grafana";
import { ALERTMANAGER_IMAGE } from "../src/monitoring/images";
import { prometheusConfig } from "../src/monitoring/prometheus";
import { alertingRulesOf, ruleGroups } from "../src/monitoring/rules";
import { runToExit } from "./helpers/processes";
import { REDACTED, ofType, synthStack, type Plan, type PlannedResource } from "./helpers/synth";
import { requireTool } from "./helpers/tools";

/** Credentials that must never appear in clear anywhere. */
const CREDENTIALS = {
    slack: "https://hooks.slack.com/services/T0TESTSLACK/B0TESTSLACK/slackSecretToken123",
    pagerduty: "pdRoutingKeyTestSecret0123456789",
    webhook: "https://hooks.example.com/apfa?token=webhookSecretToken456",
    smtp: "smtpPasswordTestSecret789",
} as const;

/** Every receiver kind at once. */
const ALL_RECEIVERS = {
    receivers: {
        chat: { kind: "slack", webhookUrl: CREDENTIALS.slack, channel: "#apfa-alerts" },
        oncall: { kind: "pagerduty", routingKey: CREDENTIALS.pagerduty },
        hook: { kind: "webhook", url: CREDENTIALS.webhook },
        mail: { kind: "email", smarthost: "smtp.example.com:587", from: "alerts@example.com", to: ["ops@example.com"], authUsername: "alerts", authPassword: CREDENTIALS.smtp },
    },
    page: ["oncall", "chat"],
    ticket: ["mail", "chat"],
    watchdogReceiver: "hook",
};

function alertingOf(alerting: unknown, secretKeys: string[] = []): AlertingConfig {
    return parseConfig({ values: { "apfa:cloud": "docker", ...(alerting === undefined ? {} : { "apfa:alerting": alerting }) }, project: "apfa", stack: "test", secretKeys }).alerting;
}

function problemsOf(values: Record<string, unknown>): readonly string[] {
    try {
        parseConfig({ values: { "apfa:cloud": "docker", ...values }, project: "apfa", stack: "test" });
    } catch (err) {
        assert.ok(err instanceof ConfigError, String(err));
        return err.problems;
    }
    return [];
}

async function isSecret(o: pulumi.Output<string>): Promise<boolean> {
    return (o as unknown as { isSecret: Promise<boolean> }).isSecret;
}

describe("alerting: apfa:alerting config", () => {
    it("defaults to no receivers and sane intervals", () => {
        const a = alertingOf(undefined);
        assert.deepEqual(a.receivers, {});
        assert.deepEqual([a.page, a.ticket, a.watchdogReceiver], [[], [], undefined]);
        assert.deepEqual([a.groupWaitSeconds, a.groupIntervalSeconds, a.repeatIntervalSeconds], [30, 300, 14400]);
    });

    it("keeps every credential as a Pulumi secret and the rest plain", async () => {
        const a = alertingOf(ALL_RECEIVERS, ["apfa:alerting"]);
        const r = a.receivers as Record<string, Record<string, unknown>>;
        for (const [name, field] of [["chat", "webhookUrl"], ["oncall", "routingKey"], ["hook", "url"], ["mail", "authPassword"]]) {
            assert.ok(pulumi.Output.isInstance(r[name][field]), `${name}.${field}`);
            assert.equal(await isSecret(r[name][field] as pulumi.Output<string>), true, `${name}.${field}`);
        }
        assert.equal(r.mail.smarthost, "smtp.example.com:587");
        assert.equal(r.mail.authUsername, "alerts");
    });

    it("accepts apfa:alerting as a secret key (set with --secret --path), still refuses secrets elsewhere", () => {
        assert.doesNotThrow(() => alertingOf(ALL_RECEIVERS, ["apfa:alerting"]));
        assert.throws(
            () => parseConfig({ values: { "apfa:cloud": "docker", "apfa:tags": { a: "b" } }, project: "apfa", stack: "test", secretKeys: ["apfa:tags"] }),
            /apfa:tags: holds a secret value/,
        );
    });

    it("names the key of every problem: unknown receivers, half SMTP auth, bad URLs, alerting without monitoring", () => {
        const problems = problemsOf({
            "apfa:alerting": {
                receivers: { mail: { kind: "email", smarthost: "smtp.example.com", from: "a@example.com", to: ["b@example.com"], authUsername: "u" }, hook: { kind: "webhook", url: "not a url" } },
                page: ["nobody"],
                watchdogReceiver: "ghost",
            },
        }).join("\n");
        assert.match(problems, /apfa:alerting\.receivers\.mail\.smarthost/);
        assert.match(problems, /apfa:alerting\.receivers\.hook\.url/);
        const refs = problemsOf({ "apfa:alerting": { receivers: { mail: ALL_RECEIVERS.receivers.mail }, page: ["nobody"], watchdogReceiver: "ghost" } }).join("\n");
        assert.match(refs, /apfa:alerting\.page\[0\].*"nobody"/);
        assert.match(refs, /apfa:alerting\.watchdogReceiver.*"ghost"/);
        const auth = problemsOf({ "apfa:alerting": { receivers: { mail: { ...ALL_RECEIVERS.receivers.mail, authPassword: undefined } } } }).join("\n");
        assert.match(auth, /apfa:alerting\.receivers\.mail\.authPassword.*go together/);
        const off = problemsOf({ "apfa:monitoring": { enabled: false }, "apfa:alerting": ALL_RECEIVERS }).join("\n");
        assert.match(off, /apfa:alerting\.receivers: set, but apfa:monitoring\.enabled is false/);
    });
});

describe("alerting: generated alertmanager.yml (pure)", () => {
    const all = alertingOf(ALL_RECEIVERS);
    const none = alertingOf(undefined);

    it("routes by severity, groups by alertname and slot, and inhibits per-slot alerts while ApfaDown fires", () => {
        const c = alertmanagerConfig(all) as {
            route: { receiver: string; group_by: string[]; routes: { receiver: string; matchers: string[] }[] };
            inhibit_rules: { source_matchers: string[]; target_matchers: string[]; equal: string[] }[];
            receivers: { name: string }[];
        };
        assert.deepEqual(c.route.group_by, ["alertname", "slot"]);
        assert.equal(c.route.receiver, "ticket");
        assert.deepEqual(c.route.routes.map((r) => [r.receiver, r.matchers]), [
            ["watchdog", ['alertname="Watchdog"']],
            ["page", ['severity="page"']],
            ["ticket", ['severity="ticket"']],
        ]);
        assert.deepEqual(c.inhibit_rules, [{ source_matchers: ['alertname="ApfaDown"'], target_matchers: ['slot=~".+"'], equal: ["project", "stack"] }]);
        assert.deepEqual(c.receivers.map((r) => r.name).sort(), ["null", "page", "ticket", "watchdog"]);
        // The alert names it refers to exist in the rules.
        const names = alertingRulesOf(ruleGroups({ sloObjectivePercent: 99.9, latencyP95ThresholdSeconds: 0.5, runbookBaseUrl: "https://x.example/r" })).map((a) => a.alert);
        assert.ok(names.includes("ApfaDown") && names.includes("Watchdog"));
    });

    it("reads every credential from a file and never holds one", () => {
        const yml = alertmanagerYml(all);
        for (const secret of Object.values(CREDENTIALS)) {
            assert.ok(!yml.includes(secret), `credential in alertmanager.yml: ${secret}`);
        }
        const dir = ALERTMANAGER_PATHS.secretsDir;
        for (const field of [`api_url_file: ${dir}/chat-webhookUrl`, `routing_key_file: ${dir}/oncall-routingKey`, `url_file: ${dir}/hook-url`, `auth_password_file: ${dir}/mail-authPassword`]) {
            assert.ok(yml.includes(field), field);
        }
        assert.deepEqual(credentialFiles(all).map((f) => f.path), [`${dir}/chat-webhookUrl`, `${dir}/hook-url`, `${dir}/mail-authPassword`, `${dir}/oncall-routingKey`]);
        assert.deepEqual(receiverPorts(all), [443, 587]);
    });

    it("without receivers, every route ends in the null receiver", () => {
        const c = alertmanagerConfig(none) as { route: { receiver: string; routes: { receiver: string }[] }; receivers: { name: string }[] };
        assert.equal(c.route.receiver, "null");
        assert.ok(c.route.routes.every((r) => r.receiver === "null"));
        assert.deepEqual(c.receivers, [{ name: "null" }]);
        assert.deepEqual(credentialFiles(none), []);
    });

    it("points Prometheus's alerting block and Grafana's Alertmanager datasource at Alertmanager's internal URL", () => {
        const p = prometheusConfig({
            settings: { scrapeIntervalSeconds: 15 },
            app: { metricsPath: "/metrics" },
            discovery: { blue: { kind: "dns", name: "apfa-blue", port: 9100 }, green: { kind: "dns", name: "apfa-green", port: 9100 } },
            alertmanagerUrl: "http://alertmanager.apfa.svc.cluster.local:9093",
        });
        assert.deepEqual(p.alerting, {
            alertmanagers: [{ scheme: "http", api_version: "v2", timeout: "10s", static_configs: [{ targets: ["alertmanager.apfa.svc.cluster.local:9093"] }] }],
        });
        const ds = parse(datasourcesYml("http://prometheus:9090", { scrapeIntervalSeconds: 15 }, "http://alertmanager:9093")) as { datasources: { type: string; url: string }[] };
        assert.deepEqual(ds.datasources.map((d) => [d.type, d.url]), [["prometheus", "http://prometheus:9090"], ["alertmanager", "http://alertmanager:9093"]]);
    });
});

describe("alerting: amtool check-config on the generated file", function () {
    this.timeout(60000);
    let amtool: string;
    let dir: string;

    before(function () {
        amtool = requireTool(this, "amtool");
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-amtool-"));
    });
    after(() => {
        if (dir) {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    async function check(name: string, yml: string) {
        const file = path.join(dir, `${name}.yml`);
        fs.writeFileSync(file, yml);
        return runToExit(amtool, ["check-config", file], { timeoutMs: 30000 });
    }

    it("accepts the config without receivers", async () => {
        const r = await check("none", alertmanagerYml(alertingOf(undefined)));
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /SUCCESS/);
    });

    it("accepts the config with every receiver kind at once", async () => {
        const r = await check("all", alertmanagerYml(alertingOf(ALL_RECEIVERS)));
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /4 receivers/);
    });

    it("negative control: refuses a config whose route names a receiver that does not exist", async () => {
        const broken = alertmanagerYml(alertingOf(ALL_RECEIVERS)).replace("receiver: ticket\n", "receiver: nowhere\n");
        assert.notEqual(broken, alertmanagerYml(alertingOf(ALL_RECEIVERS)));
        const r = await check("broken", broken);
        assert.notEqual(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout + r.stderr, /nowhere/);
    });
});

describe("alerting: Alertmanager in every stack's plan, credentials never in clear", function () {
    this.timeout(120000);

    for (const stack of ["dev", "prod-aws", "prod-azure", "prod-gcp"]) {
        it(`${stack}: runs ${ALERTMANAGER_IMAGE} and keeps every receiver credential secret`, () => {
            const plan: Plan = synthStack(stack, { "apfa:alerting": ALL_RECEIVERS });
            const json = JSON.stringify(plan);
            assert.ok(json.includes(ALERTMANAGER_IMAGE), `${stack}: no ${ALERTMANAGER_IMAGE} in the plan`);
            assert.ok(json.includes("alertmanager.yml"), `${stack}: no alertmanager.yml`);
            for (const [kind, secret] of Object.entries(CREDENTIALS)) {
                assert.ok(!json.includes(secret), `${stack}: the ${kind} credential appears in clear in the plan`);
                // Nor any recognisable part of it (e.g. inside a URL-encoded or JSON-escaped string).
                assert.ok(!json.includes(secret.slice(-16)), `${stack}: part of the ${kind} credential appears in the plan`);
            }
            assert.ok(json.includes(REDACTED));
            // The credentials are there, as secrets: the target's secret store holds the files.
            assert.ok(plan.secretInputs.some((p) => /alertmanager/.test(p)), `${stack}: no secret input of Alertmanager: ${plan.secretInputs.join(", ")}`);
            assert.notEqual(plan.outputs.alertmanagerUrl, undefined, `${stack}: no alertmanagerUrl output`);
        });
    }
});

describe("alerting: each target places the credential files in its secret store", function () {
    this.timeout(120000);
    const only = (plan: Plan, type: string): PlannedResource => {
        const found = ofType(plan, type).filter((r) => /alertmanager/.test(r.name) && !/-image$/.test(r.name));
        assert.equal(found.length, 1, `${type}: ${found.map((r) => r.name).join(", ")}`);
        return found[0];
    };
    type Json = Record<string, unknown>;

    it("Docker: the container's uploads (config and credentials) are a secret input; bound to 127.0.0.1:9093", () => {
        const plan = synthStack("dev", { "apfa:alerting": ALL_RECEIVERS });
        const c = only(plan, "docker:index/container:Container");
        assert.equal(c.inputs.uploads, REDACTED);
        assert.deepEqual((c.inputs.ports as Json[]).map((p) => [p.ip, p.external]), [["127.0.0.1", 9093]]);
        assert.equal(plan.outputs.alertmanagerUrl, "http://127.0.0.1:9093");
    });

    it("ECS: the init container receives each credential file as a container secret, never as plain environment; SMTP egress opened", () => {
        const plan = synthStack("prod-aws", { "apfa:alerting": ALL_RECEIVERS });
        const task = only(plan, "aws:ecs/taskDefinition:TaskDefinition");
        const defs = JSON.parse(task.inputs.containerDefinitions as string) as { name: string; environment?: { name: string }[]; secrets?: { name: string; valueFrom: string }[] }[];
        const init = defs.find((d) => d.name === "config-init");
        assert.ok(init);
        assert.equal(init.secrets?.length, 4, "one secret per credential file");
        assert.ok(init.secrets.every((x) => /^arn:aws:secretsmanager:.*:secret:apfa-prod-aws\/alertmanager\/file-/.test(x.valueFrom)));
        const plain = new Set((init.environment ?? []).map((e) => e.name));
        assert.ok(init.secrets.every((x) => !plain.has(x.name)));
        const versions = ofType(plan, "aws:secretsmanager/secretVersion:SecretVersion").filter((r) => /alertmanager-file-/.test(r.name));
        assert.equal(versions.length, 4);
        assert.ok(versions.every((v) => v.inputs.secretString === REDACTED));
        const egress = ofType(plan, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").filter((r) => /-alertmanager-(https-out|out-\d+)$/.test(r.name));
        assert.deepEqual(egress.map((r) => r.inputs.fromPort).sort(), [443, 587]);
    });

    for (const stack of ["prod-azure", "prod-gcp"]) {
        it(`${stack}: credential files mounted from a Secret (mode 0440); egress to public addresses on 443 and 587 only`, () => {
            const plan = synthStack(stack, { "apfa:alerting": ALL_RECEIVERS });
            const pod = ((only(plan, "kubernetes:apps/v1:Deployment").inputs.spec as Json).template as Json).spec as Json;
            const volume = (pod.volumes as Json[]).find((v) => v.name === "secret-files") as { secret: { defaultMode: number } } | undefined;
            assert.equal(volume?.secret.defaultMode, 0o440);
            const mounts = ((pod.containers as Json[])[0].volumeMounts as { name: string; mountPath: string }[]).filter((m) => m.name === "secret-files");
            assert.deepEqual(mounts.map((m) => m.mountPath), credentialFiles(alertingOf(ALL_RECEIVERS)).map((f) => f.path));
            const secret = only(plan, "kubernetes:core/v1:Secret");
            assert.equal(secret.inputs.stringData, REDACTED);
            const policy = only(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy");
            const egress = (policy.inputs.spec as { egress: { ports: { port: number }[]; to: { ipBlock?: { cidr: string; except: string[] } }[] }[] }).egress;
            const external = egress.filter((e) => e.to.some((t) => t.ipBlock));
            assert.equal(external.length, 1);
            assert.deepEqual(external[0].ports.map((p) => p.port), [443, 587]);
            assert.ok(external[0].to[0].ipBlock?.except.includes("10.0.0.0/8"));
        });
    }
});
