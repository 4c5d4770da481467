/**
 * APFA's database on AWS (Aurora PostgreSQL), on the prod-aws plan (normal and preview):
 * encryption with the stack's own KMS key, private subnets only, no public access, protection in
 * production, a security group admitting APFA's tasks only, the RDS-managed password reaching the
 * tasks as an ECS secret that the execution role may read (exactly that secret and key), nothing
 * secret in the plan, a traffic step still touching one resource; and the Aurora config errors.
 *
 * The mocked account, ARNs and endpoints come from scripts/synth/mock-state.ts.
 */
import * as assert from "node:assert/strict";

import { CLUSTER_PARAMETERS, auroraAlarms, databaseKeyPolicy, databaseNames } from "../src/targets/aws/database";
import type { PolicyDocument } from "../src/targets/aws/iam";
import { UNKNOWN, changedResources, find, ofType, readStackFile, synthStack, type Plan, type PlannedResource } from "./helpers/synth";
import { configProblems } from "./helpers/config";

const STACK = "prod-aws";
const DB = "apfa-prod-aws-database";
/** The RDS-managed secret the mocked cluster reports, and the mocked key's ARN. */
const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-00000000-0000-0000-0000-000000000000-AbCdEf";
const KEY_ARN = `arn:aws:kms:eu-west-1:123456789012:key/mock-${DB}-key`;
const ENDPOINT = "apfa-prod-aws-db.cluster-abcdefghijkl.eu-west-1.rds.amazonaws.com";

const problems = configProblems;

const awsBase = { "apfa:cloud": "aws", "aws:region": "eu-west-1", "apfa:release": { blue: { image: "registry.example.com/apfa:1.0.0" } } };

const cluster = (plan: Plan) => find(plan, "aws:rds/cluster:Cluster", `${DB}-cluster`);
const instances = (plan: Plan) => ofType(plan, "aws:rds/clusterInstance:ClusterInstance");
const executionPolicy = (plan: Plan): PolicyDocument => JSON.parse(find(plan, "aws:iam/rolePolicy:RolePolicy", "apfa-prod-aws-app-execution-start").inputs.policy as string) as PolicyDocument;

interface AppContainer {
    name: string;
    environment: { name: string; value: string }[];
    secrets?: { name: string; valueFrom: string }[];
}
function appContainer(plan: Plan, slot: string): AppContainer {
    const defs = JSON.parse(find(plan, "aws:ecs/taskDefinition:TaskDefinition", `apfa-prod-aws-${slot}-task`).inputs.containerDefinitions as string) as AppContainer[];
    const app = defs.find((d) => d.name === "apfa");
    assert.ok(app);
    return app;
}

for (const preview of [false, true]) {
    describe(`database on AWS: Aurora PostgreSQL in the prod-aws plan${preview ? " (preview)" : ""}`, function () {
        this.timeout(120000);
        let plan: Plan;
        before(() => {
            plan = synthStack(STACK, {}, { preview });
        });

        it("is Aurora PostgreSQL 17 (major only), Serverless v2 0.5-4 ACU, with one writer and one reader", () => {
            const c = cluster(plan).inputs;
            assert.equal(c.engine, "aurora-postgresql");
            assert.equal(c.engineMode, "provisioned");
            assert.equal(c.engineVersion, "17");
            assert.deepEqual(c.serverlessv2ScalingConfiguration, { minCapacity: 0.5, maxCapacity: 4 });
            assert.equal(c.clusterIdentifier, "apfa-prod-aws-db");
            const all = instances(plan);
            assert.deepEqual(
                all.map((i) => [i.inputs.identifier, i.inputs.instanceClass, i.inputs.promotionTier]),
                [
                    ["apfa-prod-aws-db-1", "db.serverless", 0],
                    ["apfa-prod-aws-db-2", "db.serverless", 1],
                ],
            );
            // The reader waits for the writer (Aurora's first instance is its writer).
            assert.ok(all[1].options.dependsOn.includes(all[0].urn));
            if (!preview) {
                assert.deepEqual(
                    all.map((i) => i.inputs.availabilityZone),
                    ["eu-west-1a", "eu-west-1b"],
                    "writer and reader in different AZs",
                );
            }
        });

        it("encrypts storage, Performance Insights and the master secret with its own rotating KMS key", () => {
            const key = find(plan, "aws:kms/key:Key", `${DB}-key`);
            assert.equal(key.inputs.enableKeyRotation, true);
            const c = cluster(plan).inputs;
            assert.equal(c.storageEncrypted, true);
            for (const i of instances(plan)) {
                assert.equal(i.inputs.performanceInsightsEnabled, true);
                assert.equal(i.inputs.performanceInsightsRetentionPeriod, 7);
            }
            if (!preview) {
                assert.equal(c.kmsKeyId, KEY_ARN);
                assert.equal(c.masterUserSecretKmsKeyId, KEY_ARN);
                for (const i of instances(plan)) {
                    assert.equal(i.inputs.performanceInsightsKmsKeyId, KEY_ARN);
                }
            } else {
                assert.equal(c.kmsKeyId, UNKNOWN);
            }
        });

        it("lets RDS manage (and rotate) the master password, requires TLS and enables IAM auth", () => {
            const c = cluster(plan).inputs;
            assert.equal(c.manageMasterUserPassword, true);
            assert.equal(c.masterPassword, undefined);
            assert.equal(c.iamDatabaseAuthenticationEnabled, true);
            const params = find(plan, "aws:rds/clusterParameterGroup:ClusterParameterGroup", `${DB}-parameters`).inputs;
            assert.equal(params.family, "aurora-postgresql17");
            assert.ok((params.parameters as { name: string; value: string }[]).some((p) => p.name === "rds.force_ssl" && p.value === "1"));
            assert.deepEqual(CLUSTER_PARAMETERS.map((p) => p.name).sort(), ["log_lock_waits", "log_min_duration_statement", "rds.force_ssl"]);
        });

        it("lives in the private subnets only and is never publicly accessible", () => {
            const group = find(plan, "aws:rds/subnetGroup:SubnetGroup", `${DB}-subnets`);
            const subnets = ofType(plan, "aws:ec2/subnet:Subnet");
            const privateNames = subnets.filter((s) => /-private-\d+$/.test(s.name)).map((s) => s.urn);
            assert.equal(privateNames.length, 3);
            // Exactly the private subnets: the group depends on them and on no public one.
            const deps = group.options.dependsOn.filter((u) => u.includes("aws:ec2/subnet:Subnet"));
            assert.deepEqual(deps.sort(), privateNames.sort());
            if (!preview) {
                assert.deepEqual(group.inputs.subnetIds, ["apfa-prod-aws-private-0-id", "apfa-prod-aws-private-1-id", "apfa-prod-aws-private-2-id"]);
                assert.equal(cluster(plan).inputs.dbSubnetGroupName, "apfa-prod-aws-db");
            }
            for (const i of instances(plan)) {
                assert.equal(i.inputs.publiclyAccessible, false);
            }
        });

        it("admits PostgreSQL from APFA's task security group only, and sends nothing", () => {
            const sg = find(plan, "aws:ec2/securityGroup:SecurityGroup", `${DB}-sg`);
            const ingressDeps = (r: PlannedResource) => r.options.dependsOn;
            const onDb = (type: string) => ofType(plan, type).filter((r) => (preview ? ingressDeps(r).includes(sg.urn) && r.name.startsWith(DB) : r.inputs.securityGroupId === `${DB}-sg-id`));
            const ingress = onDb("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
            assert.equal(ingress.length, 1);
            assert.equal(ingress[0].inputs.fromPort, 5432);
            assert.equal(ingress[0].inputs.toPort, 5432);
            assert.equal(ingress[0].inputs.cidrIpv4, undefined);
            if (!preview) {
                assert.equal(ingress[0].inputs.referencedSecurityGroupId, "apfa-prod-aws-tasks-sg-id");
                assert.deepEqual(cluster(plan).inputs.vpcSecurityGroupIds, [`${DB}-sg-id`]);
            }
            assert.equal(onDb("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").length, 0);
        });

        it("is protected in production: deletion protection, Pulumi protect, a final snapshot, backups and tags kept", () => {
            const c = cluster(plan);
            assert.equal(c.inputs.deletionProtection, true);
            assert.equal(c.options.protect, true);
            assert.equal(c.inputs.skipFinalSnapshot, false);
            assert.ok(c.inputs.finalSnapshotIdentifier !== undefined);
            assert.equal(c.inputs.backupRetentionPeriod, 7);
            assert.equal(c.inputs.copyTagsToSnapshot, true);
            assert.equal(c.inputs.preferredBackupWindow, "02:00-03:00");
            assert.equal(c.inputs.preferredMaintenanceWindow, "sun:03:30-sun:04:30");
            assert.ok(c.options.ignoreChanges.includes("availabilityZones"));
            assert.equal(c.inputs.availabilityZones, undefined);
            assert.equal(find(plan, "aws:kms/key:Key", `${DB}-key`).options.protect, true);
            for (const i of instances(plan)) {
                assert.equal(i.options.protect, true);
            }
        });

        it("outputs the endpoints and the secret's ARN, never a credential", () => {
            const outputs = plan.outputs.database as Record<string, unknown>;
            assert.deepEqual(Object.keys(outputs).sort(), ["alarmTopicArn", "clusterIdentifier", "kmsKeyArn", "masterSecretArn", "readerEndpoint", "writerEndpoint"]);
            if (!preview) {
                assert.equal(outputs.writerEndpoint, ENDPOINT);
                assert.equal(outputs.masterSecretArn, SECRET_ARN);
            }
        });

        it("never has a password in the plan: no resource takes masterPassword, no PGPASSWORD has a value", () => {
            for (const r of plan.resources) {
                assert.ok(!("masterPassword" in r.inputs) && !("masterPasswordWo" in r.inputs), `${r.name} takes a master password`);
                // Container definitions are JSON inside a string: match both encodings.
                const inputs = JSON.stringify(r.inputs);
                assert.doesNotMatch(inputs, /PGPASSWORD\\?"\s*,\s*\\?"value\\?"/, `${r.name} has a plain PGPASSWORD`);
                assert.doesNotMatch(inputs, /PGPASSWORD=/, `${r.name} has a plain PGPASSWORD`);
            }
        });

        it("alarms on the writer's CPU, memory, capacity and the replica lag, to its own encrypted topic", () => {
            const alarms = ofType(plan, "aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.name.startsWith(DB));
            assert.deepEqual(alarms.map((a) => a.inputs.metricName).sort(), ["ACUUtilization", "AuroraReplicaLagMaximum", "CPUUtilization", "FreeableMemory"]);
            for (const a of alarms) {
                assert.equal(a.inputs.namespace, "AWS/RDS");
                assert.equal((a.inputs.dimensions as Record<string, string>).DBClusterIdentifier, "apfa-prod-aws-db");
            }
            const topic = find(plan, "aws:sns/topic:Topic", `${DB}-alarms`);
            if (!preview) {
                assert.equal(topic.inputs.kmsMasterKeyId, KEY_ARN);
            }
        });
    });
}

describe("database on AWS: how the tasks get the connection", function () {
    this.timeout(120000);
    let plan: Plan;
    before(() => {
        plan = synthStack(STACK);
    });

    it("every slot gets libpq's settings as plain environment and PGPASSWORD as an ECS secret from the RDS-managed secret", () => {
        for (const slot of ["blue", "green"]) {
            const app = appContainer(plan, slot);
            const env = Object.fromEntries(app.environment.map((e) => [e.name, e.value]));
            assert.deepEqual(
                { PGHOST: env.PGHOST, PGPORT: env.PGPORT, PGDATABASE: env.PGDATABASE, PGUSER: env.PGUSER, PGSSLMODE: env.PGSSLMODE },
                { PGHOST: ENDPOINT, PGPORT: "5432", PGDATABASE: "apfa", PGUSER: "apfa", PGSSLMODE: "require" },
            );
            assert.equal(env.PGPASSWORD, undefined);
            assert.deepEqual(app.secrets, [{ name: "PGPASSWORD", valueFrom: `${SECRET_ARN}:password::` }]);
        }
    });

    it("the execution role may read exactly that secret and decrypt with exactly its key, nothing more", () => {
        const statements = executionPolicy(plan).Statement;
        const read = statements.filter((s) => s.Action.some((a) => a.startsWith("secretsmanager:")));
        assert.deepEqual(read.map((s) => [s.Action, s.Resource]), [[["secretsmanager:GetSecretValue"], [SECRET_ARN]]]);
        const kms = statements.filter((s) => s.Action.some((a) => a.startsWith("kms:")));
        assert.deepEqual(kms.map((s) => [s.Action, s.Resource]), [[["kms:Decrypt"], [KEY_ARN]]]);
        // The task role (what APFA's code runs as) gets no database grant.
        const taskPolicies = ofType(plan, "aws:iam/rolePolicy:RolePolicy").filter((p) => p.name.startsWith("apfa-prod-aws-app-task"));
        assert.equal(taskPolicies.length, 0);
    });

    it("a traffic step (apfa:release.previewWeight 0 → 10) still changes exactly one resource: the listener rule", () => {
        const release = readStackFile(STACK)["apfa:release"] as Record<string, unknown>;
        const step = synthStack(STACK, { "apfa:release": { ...release, previewWeight: 10 } });
        assert.deepEqual(changedResources(plan, step), ["aws:lb/listenerRule:ListenerRule::apfa-prod-aws-traffic"]);
    });
});

describe("database on AWS: settings", function () {
    this.timeout(120000);

    it("a provisioned class replaces Serverless v2; capacity settings then go away", () => {
        const aws = readStackFile(STACK)["apfa:aws"] as Record<string, unknown>;
        const plan = synthStack(STACK, { "apfa:aws": { ...aws, database: { instanceClass: "db.r7g.large", readers: 2 } } });
        assert.equal(cluster(plan).inputs.serverlessv2ScalingConfiguration, undefined);
        assert.deepEqual(
            instances(plan).map((i) => [i.inputs.instanceClass, i.inputs.availabilityZone]),
            [
                ["db.r7g.large", "eu-west-1a"],
                ["db.r7g.large", "eu-west-1b"],
                ["db.r7g.large", "eu-west-1c"],
            ],
        );
        // No ACU alarm without Serverless v2.
        assert.ok(!ofType(plan, "aws:cloudwatch/metricAlarm:MetricAlarm").some((a) => a.inputs.metricName === "ACUUtilization"));
    });

    it("deletion protection off: neither the flag nor Pulumi protect (a final snapshot is still taken)", () => {
        const plan = synthStack(STACK, { "apfa:database": { deletionProtection: false } });
        assert.equal(cluster(plan).inputs.deletionProtection, false);
        assert.equal(cluster(plan).options.protect, false);
        assert.equal(cluster(plan).inputs.skipFinalSnapshot, false);
        assert.ok(instances(plan).every((i) => !i.options.protect));
    });

    it("database disabled: no RDS resources, no PG environment, no secret grant", () => {
        const plan = synthStack(STACK, { "apfa:database": { enabled: false } });
        assert.equal(plan.resources.filter((r) => r.type.startsWith("aws:rds/")).length, 0);
        const app = appContainer(plan, "blue");
        assert.ok(!app.environment.some((e) => e.name.startsWith("PG")));
        assert.equal(app.secrets, undefined);
        assert.ok(!executionPolicy(plan).Statement.some((s) => s.Action.includes("secretsmanager:GetSecretValue")));
    });

    it("refuses what Aurora refuses, naming each key: engine version, ACU steps and range, instance class, PI retention, windows", () => {
        const found = problems({
            ...awsBase,
            "apfa:database": { majorVersion: 12 },
            "apfa:aws": {
                database: { minCapacity: 0.25, maxCapacity: 300, instanceClass: "db.m5.large", performanceInsightsRetentionDays: 30, preferredBackupWindow: "2am" },
            },
        });
        const text = found.join("\n");
        assert.match(text, /apfa:database\.majorVersion: Aurora PostgreSQL does not offer PostgreSQL 12; expected one of 13, 14, 15, 16, 17/);
        assert.match(text, /apfa:aws\.database\.minCapacity: Aurora capacity goes in steps of 0\.5 ACU/);
        assert.match(text, /apfa:aws\.database\.maxCapacity: .*256/);
        assert.match(text, /apfa:aws\.database\.instanceClass: expected an Aurora PostgreSQL instance class/);
        assert.match(text, /apfa:aws\.database\.performanceInsightsRetentionDays: expected 7, a multiple of 31/);
        assert.match(text, /apfa:aws\.database\.preferredBackupWindow: expected hh24:mi-hh24:mi/);
        assert.equal(found.length, 6, text);
    });

    it("refuses a minimum above the maximum, and capacity together with a provisioned class", () => {
        assert.deepEqual(problems({ ...awsBase, "apfa:aws": { database: { minCapacity: 8, maxCapacity: 4 } } }), [
            "apfa:aws.database.minCapacity: 8 ACU is above apfa:aws.database.maxCapacity (4 ACU); the minimum must be at most the maximum",
        ]);
        assert.match(problems({ ...awsBase, "apfa:aws": { database: { instanceClass: "db.r7g.large", maxCapacity: 4 } } }).join(), /apply to Aurora Serverless v2 only/);
        assert.match(problems({ ...awsBase, "apfa:aws": { database: { maxCapacity: 0.5 } } }).join(), /apfa:aws\.database\.maxCapacity: the maximum capacity must be at least 1 ACU/);
        // Aurora's real limits are accepted: 0 (auto-pause) to 256 in steps of 0.5.
        assert.deepEqual(problems({ ...awsBase, "apfa:aws": { database: { minCapacity: 0, maxCapacity: 256 } } }), []);
        assert.deepEqual(problems({ ...awsBase, "apfa:aws": { database: { minCapacity: 1.5, maxCapacity: 2.5 } } }), []);
    });

    it("names and alarms (pure)", () => {
        const names: Record<string, unknown> = { ...databaseNames("apfa-prod-aws", 16) };
        delete names.instance;
        assert.deepEqual(names, {
            cluster: "apfa-prod-aws-db",
            subnetGroup: "apfa-prod-aws-db",
            parameterGroup: "apfa-prod-aws-db-pg16",
            keyAlias: "alias/apfa-prod-aws-database",
            logGroup: "/aws/rds/cluster/apfa-prod-aws-db/postgresql",
            alarmTopic: "apfa-prod-aws-database-alarms",
        });
        assert.equal(databaseNames("apfa-prod-aws", 16).instance(0), "apfa-prod-aws-db-1");
        assert.deepEqual(auroraAlarms(0, false).map((a) => a.metric), ["CPUUtilization", "FreeableMemory"]);
        // The key: the account (through IAM) and CloudWatch (alarms to the encrypted topic), nobody else.
        const policy = databaseKeyPolicy({ partition: "aws", accountId: "123456789012" });
        assert.deepEqual(
            policy.Statement.map((s) => [s.Principal, s.Action]),
            [
                [{ AWS: "arn:aws:iam::123456789012:root" }, ["kms:*"]],
                [{ Service: "cloudwatch.amazonaws.com" }, ["kms:Decrypt", "kms:GenerateDataKey*"]],
            ],
        );
    });
});
