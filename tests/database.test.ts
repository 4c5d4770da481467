/**
 * APFA's data tier, the parts every target shares and the dev stack's database:
 *
 * - `apfa:database` and `apfa:docker.databaseHostPort`: defaults, and bad values as one config error
 *   naming every bad key;
 * - the dev plan (normal and preview): PostgreSQL pinned by exact tag on the private network only,
 *   a named volume, pg_isready, the app containers after it with their environment secret, and the
 *   generated password nowhere in the plan;
 * - the Kubernetes layer's database values rendered by the real chart (PGPASSWORD from a Secret);
 * - the database alerts, driven through `promtool test rules` with series worked out by hand.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";

import { parseConfig } from "../src/config";
import { libpqEnvironment } from "../src/config/database";
import { databaseChartValues, databaseEgressSpec } from "../src/kubernetes/database";
import { alertingRulesOf, ruleGroups, rulesYml } from "../src/monitoring/rules";
import { dataMountPath } from "../src/targets/docker/database";
import { runToExit } from "./helpers/processes";
import { REDACTED, find, ofType, synthStack, type Plan, type PlannedResource } from "./helpers/synth";
import { requireTool } from "./helpers/tools";
import { configProblems } from "./helpers/config";

const PASSWORD_RESOURCE = "apfa-dev-database-password";
/** What the synth's mocks answer for that RandomPassword's result (scripts/synth/mock-state.ts). */
const MOCK_PASSWORD = `mock-password-${PASSWORD_RESOURCE}`;
const POSTGRES_CONTAINER = "apfa-dev-database";

const problems = configProblems;

const docker = { "apfa:cloud": "docker" };

describe("database: apfa:database config", () => {
    it("defaults: on, database and user apfa, PostgreSQL 17, 7 days of backups, protection only in production", () => {
        const dev = parseConfig({ values: { ...docker, "apfa:tags": { environment: "dev" } }, project: "apfa", stack: "dev" });
        assert.deepEqual(dev.database, { enabled: true, name: "apfa", user: "apfa", majorVersion: 17, backupRetentionDays: 7, deletionProtection: false });
        const prod = parseConfig({ values: { ...docker, "apfa:tags": { environment: "production" } }, project: "apfa", stack: "dev" });
        assert.equal(prod.database.deletionProtection, true);
        const optedOut = parseConfig({
            values: { ...docker, "apfa:tags": { environment: "production" }, "apfa:database": { deletionProtection: false } },
            project: "apfa",
            stack: "dev",
        });
        assert.equal(optedOut.database.deletionProtection, false);
    });

    it("reports every bad key at once, each named with what was expected", () => {
        const found = problems({
            ...docker,
            "apfa:database": { name: "postgres", user: "pg_app", backupRetentionDays: 36, majorVersion: 12, sizeGb: 5 },
            "apfa:docker": { databaseHostPort: 8000 },
        });
        const text = found.join("\n");
        assert.match(text, /apfa:database\.name: .*reserved/);
        assert.match(text, /apfa:database\.user: .*reserved/);
        assert.match(text, /apfa:database\.backupRetentionDays/);
        assert.match(text, /apfa:database\.sizeGb|sizeGb/);
        assert.match(text, /apfa:docker\.databaseHostPort: 8000 is apfa:docker\.proxyPort/);
        assert.match(text, /apfa:database\.majorVersion: .* does not offer PostgreSQL 12/);
        assert.equal(found.length, 6, text);
    });

    it("refuses a major version the dev stack has no pinned image for, naming the ones it has", () => {
        assert.deepEqual(problems({ ...docker, "apfa:database": { majorVersion: 12 } }), [
            "apfa:database.majorVersion: the dev stack (official postgres images) does not offer PostgreSQL 12; expected one of 14, 15, 16, 17, 18",
        ]);
        assert.deepEqual(problems({ ...docker, "apfa:database": { majorVersion: 16 } }), []);
        // A disabled database has no version to check.
        assert.deepEqual(problems({ ...docker, "apfa:database": { enabled: false, majorVersion: 12 } }), []);
    });

    it("refuses names that need quoting or are too long for PostgreSQL (63 bytes)", () => {
        assert.match(problems({ ...docker, "apfa:database": { name: "Apfa" } }).join(), /apfa:database\.name: expected a database name/);
        assert.match(problems({ ...docker, "apfa:database": { user: "a-b" } }).join(), /apfa:database\.user: expected a user name/);
        assert.match(problems({ ...docker, "apfa:database": { name: `a${"b".repeat(63)}` } }).join(), /apfa:database\.name/);
        assert.deepEqual(problems({ ...docker, "apfa:database": { name: `a${"b".repeat(62)}` } }), []);
    });

    it("libpq's environment carries no password", () => {
        // Plain values stand in for the Outputs a target passes (the function only copies them).
        const env = libpqEnvironment({
            host: "db.internal" as never,
            port: 5432,
            database: "apfa",
            user: "apfa",
            password: { kind: "value", value: "x" as never },
            sslMode: "require",
        });
        assert.deepEqual(env, { PGHOST: "db.internal", PGPORT: "5432", PGDATABASE: "apfa", PGUSER: "apfa", PGSSLMODE: "require" });
    });
});

/** The plain `envs` of a container, or REDACTED when the list is a secret. */
function envsOf(r: PlannedResource): string[] | string {
    return r.inputs.envs as string[] | string;
}

function appContainers(plan: Plan): PlannedResource[] {
    return ofType(plan, "docker:index/container:Container").filter((c) => /-(blue|green)-\d+$/.test(c.name));
}

for (const preview of [false, true]) {
    describe(`database: the dev stack's PostgreSQL${preview ? " (preview)" : ""}`, function () {
        this.timeout(120000);
        let plan: Plan;
        let text: string;
        before(() => {
            plan = synthStack("dev", {}, { preview });
            text = JSON.stringify(plan);
        });

        it("runs the official image pinned to an exact minor of the configured major, on the private network only", () => {
            const image = find(plan, "docker:index/remoteImage:RemoteImage", `${POSTGRES_CONTAINER}-image`);
            assert.equal(image.inputs.name, "postgres:17.6-alpine");
            const postgres = find(plan, "docker:index/container:Container", POSTGRES_CONTAINER);
            assert.equal(postgres.inputs.name, "apfa-dev-postgres");
            assert.equal(postgres.inputs.ports, undefined, "published on the host without apfa:docker.databaseHostPort");
            const networks = postgres.inputs.networksAdvanced as { name: string; aliases: string[] }[];
            assert.equal(networks.length, 1);
            assert.deepEqual(networks[0].aliases, ["postgres"]);
            if (!preview) {
                assert.equal(networks[0].name, "apfa-dev", "the stack's private bridge network");
            }
            assert.equal(postgres.inputs.restart, "unless-stopped");
        });

        it("keeps its data in a named volume at the image's PGDATA, and is ready only when pg_isready says so", () => {
            const postgres = find(plan, "docker:index/container:Container", POSTGRES_CONTAINER);
            const volume = find(plan, "docker:index/volume:Volume", `${POSTGRES_CONTAINER}-data`);
            assert.equal(volume.inputs.name, "apfa-dev-postgres-data");
            const mounts = postgres.inputs.volumes as { volumeName: string; containerPath: string }[];
            assert.equal(mounts.length, 1);
            assert.equal(mounts[0].containerPath, "/var/lib/postgresql/data");
            if (!preview) {
                assert.equal(mounts[0].volumeName, "apfa-dev-postgres-data");
            }
            const health = postgres.inputs.healthcheck as { tests: string[] };
            assert.deepEqual(health.tests.slice(0, 2), ["CMD", "pg_isready"]);
            assert.ok(health.tests.includes("--dbname=apfa") && health.tests.includes("--username=apfa"));
            assert.equal(postgres.inputs.wait, true, "pulumi up waits for the healthcheck");
            // The dev stack is not production: nothing is protected.
            assert.equal(volume.options.protect, false);
        });

        it("starts every app container after PostgreSQL, with its environment (PGPASSWORD included) kept secret", () => {
            const postgres = find(plan, "docker:index/container:Container", POSTGRES_CONTAINER);
            const apps = appContainers(plan);
            assert.equal(apps.length, 4);
            for (const app of apps) {
                assert.ok(app.options.dependsOn.includes(postgres.urn), `${app.name} does not wait for PostgreSQL`);
                assert.equal(envsOf(app), REDACTED, `${app.name}'s envs are not secret`);
                assert.ok(plan.secretInputs.includes(`docker:index/container:Container::${app.name}.envs`));
            }
            // The password file is a secret upload; the container's own env names only the file.
            assert.equal(postgres.inputs.uploads, REDACTED);
            assert.deepEqual(postgres.inputs.envs, ["POSTGRES_USER=apfa", "POSTGRES_DB=apfa", "POSTGRES_PASSWORD_FILE=/run/secrets/postgres-password"]);
        });

        it("never shows the generated password, nor a plain PGPASSWORD, anywhere in the plan or its outputs", () => {
            find(plan, "random:index/randomPassword:RandomPassword", PASSWORD_RESOURCE);
            const outputs = plan.outputs.database as Record<string, unknown>;
            assert.deepEqual(Object.keys(outputs).sort(), ["container", "image", "localEndpoint", "volume"]);
            assert.ok(!text.includes(MOCK_PASSWORD), "the mocked password appears in the plan");
            assert.doesNotMatch(text, /PGPASSWORD=/);
            assert.doesNotMatch(text, /POSTGRES_PASSWORD=/);
        });
    });
}

describe("database: dev stack variations", function () {
    this.timeout(120000);

    it("publishes PostgreSQL on the host's loopback only when apfa:docker.databaseHostPort asks", () => {
        const plan = synthStack("dev", { "apfa:docker": { buildContext: "app", replicasPerSlot: 2, databaseHostPort: 15432 } });
        const postgres = find(plan, "docker:index/container:Container", POSTGRES_CONTAINER);
        assert.deepEqual(postgres.inputs.ports, [{ internal: 5432, external: 15432, ip: "127.0.0.1" }]);
    });

    it("PostgreSQL 18 mounts its volume where the 18 image keeps its data, and uses the 18 image", () => {
        assert.equal(dataMountPath(17), "/var/lib/postgresql/data");
        assert.equal(dataMountPath(18), "/var/lib/postgresql");
        const plan = synthStack("dev", { "apfa:database": { majorVersion: 18 } });
        assert.equal(find(plan, "docker:index/remoteImage:RemoteImage", `${POSTGRES_CONTAINER}-image`).inputs.name, "postgres:18.0-alpine");
        const mounts = find(plan, "docker:index/container:Container", POSTGRES_CONTAINER).inputs.volumes as { containerPath: string }[];
        assert.equal(mounts[0].containerPath, "/var/lib/postgresql");
    });

    it("with deletion protection, the volume and the password are protected", () => {
        const plan = synthStack("dev", { "apfa:database": { deletionProtection: true } });
        assert.equal(find(plan, "docker:index/volume:Volume", `${POSTGRES_CONTAINER}-data`).options.protect, true);
        assert.equal(find(plan, "random:index/randomPassword:RandomPassword", PASSWORD_RESOURCE).options.protect, true);
    });

    it("disabled: no database resources and the app containers get no database environment", () => {
        const plan = synthStack("dev", { "apfa:database": { enabled: false } });
        assert.equal(plan.resources.filter((r) => r.name.startsWith(POSTGRES_CONTAINER)).length, 0);
        for (const app of appContainers(plan)) {
            const envs = envsOf(app);
            assert.ok(Array.isArray(envs), `${app.name}: envs should be plain without a database`);
            assert.ok(!envs.some((e) => e.startsWith("PG")), `${app.name}: ${envs.join(" ")}`);
        }
    });
});

describe("database: Kubernetes (AKS, GKE) through the real chart", function () {
    this.timeout(60000);

    it("renders libpq's settings as env and PGPASSWORD from the database Secret, never as a value", async function () {
        const helm = requireTool(this, "helm");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-db-chart-"));
        try {
            const values = {
                slot: "blue",
                image: "registry.example.com/apfa:1.0.0",
                ...databaseChartValues({ PGHOST: "10.1.2.3", PGPORT: "5432", PGDATABASE: "apfa", PGUSER: "apfa", PGSSLMODE: "require" }),
            };
            const file = path.join(dir, "values.yaml");
            fs.writeFileSync(file, stringify(values));
            const chart = path.join(__dirname, "..", "charts", "apfa");
            const result = await runToExit(helm, ["template", "apfa-blue", chart, "--namespace", "apfa", "--kube-version", "1.31.0", "-f", file], { timeoutMs: 30000 });
            assert.equal(result.code, 0, result.stderr);
            const deployment = result.stdout
                .split(/^---$/m)
                .map((doc) => parse(doc) as { kind?: string; spec?: { template: { spec: { containers: { env: { name: string; value?: string; valueFrom?: unknown }[] }[] } } } })
                .find((doc) => doc?.kind === "Deployment");
            assert.ok(deployment?.spec);
            const env = deployment.spec.template.spec.containers[0].env;
            const byName = Object.fromEntries(env.map((e) => [e.name, e]));
            assert.equal(byName.PGHOST.value, "10.1.2.3");
            assert.equal(byName.PGSSLMODE.value, "require");
            assert.deepEqual(byName.PGPASSWORD, { name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: "apfa-database", key: "password" } } });
            assert.ok(!result.stdout.includes("mock-password"));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("opens APFA's egress to exactly the database's ranges on its port", () => {
        assert.deepEqual(databaseEgressSpec(["10.20.30.0/24"], 5432), {
            podSelector: { matchLabels: { "app.kubernetes.io/name": "apfa" } },
            policyTypes: ["Egress"],
            egress: [{ to: [{ ipBlock: { cidr: "10.20.30.0/24" } }], ports: [{ protocol: "TCP", port: 5432 }] }],
        });
    });
});

describe("database: alerts (promtool test rules)", function () {
    this.timeout(60000);
    const settings = { sloObjectivePercent: 99.9, latencyP95ThresholdSeconds: 0.5, runbookBaseUrl: "https://example.com/runbooks.md" };
    const base = { job: "apfa" };

    /** Expected annotations: the rule's templates with the alert's labels filled in. */
    function annotations(alert: string, labels: Record<string, string>): Record<string, string> {
        const rule = alertingRulesOf(ruleGroups(settings)).find((r) => r.alert === alert);
        assert.ok(rule, alert);
        return Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, v.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, l: string) => labels[l] ?? "")]));
    }
    function expect(alert: string, labels: Record<string, string>[]) {
        return { alertname: alert, exp_alerts: labels.map((l) => ({ exp_labels: l, exp_annotations: annotations(alert, l) })) };
    }

    it("fire exactly where the series say: unreachable everywhere, one slot's errors, slow statements, a full pool", async function () {
        const promtool = requireTool(this, "promtool");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-db-rules-"));
        try {
            fs.writeFileSync(path.join(dir, "apfa.rules.yml"), rulesYml(settings));
            const series = (labels: Record<string, string>, metric: string) =>
                `${metric}{${Object.entries({ ...base, ...labels })
                    .map(([k, v]) => `${k}="${v}"`)
                    .join(",")}}`;
            const blueA = { slot: "blue", instance: "a:9100" };
            const greenB = { slot: "green", instance: "b:9100" };
            const test = {
                rule_files: ["apfa.rules.yml"],
                evaluation_interval: "1m",
                tests: [
                    {
                        // Both replicas lose the database: page after 2 minutes; one replica still reaching it: no page.
                        interval: "1m",
                        input_series: [
                            { series: series(blueA, "apfa_db_up"), values: "0x10" },
                            { series: series(greenB, "apfa_db_up"), values: "0x10" },
                        ],
                        alert_rule_test: [
                            { eval_time: "1m", alertname: "ApfaDatabaseUnreachable", exp_alerts: [] },
                            { eval_time: "3m", ...expect("ApfaDatabaseUnreachable", [{ ...base, severity: "page" }]) },
                        ],
                    },
                    {
                        interval: "1m",
                        input_series: [
                            { series: series(blueA, "apfa_db_up"), values: "0x10" },
                            { series: series(greenB, "apfa_db_up"), values: "1x10" },
                        ],
                        alert_rule_test: [{ eval_time: "5m", alertname: "ApfaDatabaseUnreachable", exp_alerts: [] }],
                    },
                    {
                        // Blue: 600 answered and 60 failed calls a minute (60/660 = 9.1 % > 5 %); green: 600 and 6 (1 %).
                        interval: "1m",
                        input_series: [
                            { series: series({ ...blueA, operation: "get_item" }, "apfa_db_query_duration_seconds_count"), values: "0+600x30" },
                            { series: series({ ...blueA, operation: "get_item", kind: "timeout" }, "apfa_db_errors_total"), values: "0+60x30" },
                            { series: series({ ...greenB, operation: "get_item" }, "apfa_db_query_duration_seconds_count"), values: "0+600x30" },
                            { series: series({ ...greenB, operation: "get_item", kind: "timeout" }, "apfa_db_errors_total"), values: "0+6x30" },
                        ],
                        alert_rule_test: [
                            { eval_time: "10m", alertname: "ApfaDatabaseErrors", exp_alerts: [] },
                            { eval_time: "20m", ...expect("ApfaDatabaseErrors", [{ ...base, slot: "blue", severity: "ticket" }]) },
                        ],
                    },
                    {
                        // Blue's statements all take 0.1-0.5 s (p95 ≈ 0.48 s); green's all under 0.1 s.
                        interval: "1m",
                        input_series: [
                            ...[
                                ["0.1", "0+0x30", "0+100x30"],
                                ["0.5", "0+100x30", "0+100x30"],
                                ["+Inf", "0+100x30", "0+100x30"],
                            ].flatMap(([le, blue, green]) => [
                                { series: series({ ...blueA, operation: "get_item", le }, "apfa_db_query_duration_seconds_bucket"), values: blue },
                                { series: series({ ...greenB, operation: "get_item", le }, "apfa_db_query_duration_seconds_bucket"), values: green },
                            ]),
                        ],
                        alert_rule_test: [
                            { eval_time: "9m", alertname: "ApfaDatabaseSlowStatements", exp_alerts: [] },
                            { eval_time: "20m", ...expect("ApfaDatabaseSlowStatements", [{ ...base, slot: "blue", severity: "ticket" }]) },
                        ],
                    },
                    {
                        // Replica a: 5 of 5 connections busy and 3 requests waiting; replica b: full but nobody waits.
                        interval: "1m",
                        input_series: [
                            { series: series(blueA, "apfa_db_pool_connections"), values: "5x30" },
                            { series: series(blueA, "apfa_db_pool_max_connections"), values: "5x30" },
                            { series: series(blueA, "apfa_db_pool_waiting_requests"), values: "3x30" },
                            { series: series(greenB, "apfa_db_pool_connections"), values: "5x30" },
                            { series: series(greenB, "apfa_db_pool_max_connections"), values: "5x30" },
                            { series: series(greenB, "apfa_db_pool_waiting_requests"), values: "0x30" },
                        ],
                        alert_rule_test: [
                            { eval_time: "5m", alertname: "ApfaDatabasePoolExhausted", exp_alerts: [] },
                            {
                                eval_time: "15m",
                                ...expect("ApfaDatabasePoolExhausted", [{ ...base, ...blueA, severity: "ticket" }]),
                            },
                        ],
                    },
                ],
            };
            const file = path.join(dir, "database.test.yml");
            fs.writeFileSync(file, stringify(test, { lineWidth: 0 }));
            const result = await runToExit(promtool, ["test", "rules", file], { cwd: dir, timeoutMs: 60000 });
            assert.equal(result.code, 0, result.stdout + result.stderr);

            // Negative control: the same file expecting the pool alert for replica b too fails.
            const wrong = structuredClone(test);
            const last = wrong.tests[4].alert_rule_test[1] as { exp_alerts: unknown[] };
            last.exp_alerts.push({ exp_labels: { ...base, ...greenB, severity: "ticket" }, exp_annotations: annotations("ApfaDatabasePoolExhausted", { ...base, ...greenB }) });
            fs.writeFileSync(file, stringify(wrong, { lineWidth: 0 }));
            assert.notEqual((await runToExit(promtool, ["test", "rules", file], { cwd: dir, timeoutMs: 60000 })).code, 0);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
