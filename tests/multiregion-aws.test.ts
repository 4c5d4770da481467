/**
 * Multi-region on AWS (apfa:multiRegion): the region stacks of an active-passive deployment
 * (prod-aws-use1 primary, prod-aws-usw2 standby) and of an active-active one (prod-aa-use1 writer,
 * prod-aa-euw1, prod-aa-aps1), synthesized on mocks. Expected values are written out by hand from
 * the stack files: deployment "apfa-prod" → global cluster "apfa-prod-global", login secret
 * "apfa-prod-database-master", control parameter "/apfa-prod/failover/control".
 */
import * as assert from "node:assert/strict";

import { regionalMinReplicas } from "../src/config/region";
import { controllerPolicy } from "../src/targets/aws/failover";
import { configProblems } from "./helpers/config";
import { find, ofType, readSampleStack, synthStack, type Plan, type PlannedResource } from "./helpers/synth";

type Obj = Record<string, unknown>;
interface Container {
    name: string;
    environment?: { name: string; value: string }[];
    secrets?: { name: string; valueFrom: string }[];
}

const problems = (values: Record<string, unknown>, stack = "prod-aws-usw2"): string[] => configProblems(values, stack);

function containers(plan: Plan, name: string): Container[] {
    return JSON.parse(String(find(plan, "aws:ecs/taskDefinition:TaskDefinition", name).inputs.containerDefinitions)) as Container[];
}

function env(container: Container): Record<string, string> {
    return Object.fromEntries((container.environment ?? []).map((e) => [e.name, e.value]));
}

function policy(resource: PlannedResource): { Statement: { Sid?: string; Action: string[]; Resource: string[] }[] } {
    return JSON.parse(String(resource.inputs.policy)) as { Statement: { Sid?: string; Action: string[]; Resource: string[] }[] };
}

const GLOBAL_ENDPOINT = (id: string) => `${id}.global-abcdefghij.global.rds.amazonaws.com`;

describe("multi-region on AWS: active-passive (prod-aws-use1 + prod-aws-usw2)", () => {
    let primary: Plan;
    let standby: Plan;
    before(() => {
        primary = synthStack("prod-aws-use1");
        standby = synthStack("prod-aws-usw2");
    });

    describe("Aurora global database", () => {
        it("the primary creates the global cluster (protected) and its writer cluster joins it with a generated password", () => {
            const [global] = ofType(primary, "aws:rds/globalCluster:GlobalCluster");
            assert.equal(global.inputs.globalClusterIdentifier, "apfa-prod-global");
            assert.deepEqual([global.inputs.engine, global.inputs.engineVersion, global.inputs.storageEncrypted, global.inputs.deletionProtection], ["aurora-postgresql", "17", true, true]);
            assert.equal(global.options.protect, true);
            const cluster = find(primary, "aws:rds/cluster:Cluster", "apfa-prod-aws-use1-database-cluster");
            assert.equal(cluster.inputs.globalClusterIdentifier, "apfa-prod-global");
            assert.equal(cluster.inputs.manageMasterUserPassword, undefined, "RDS refuses managed passwords for global database members");
            assert.equal(cluster.inputs.masterPassword, "[secret]");
            assert.deepEqual(ofType(standby, "aws:rds/globalCluster:GlobalCluster"), [], "only the primary's stack owns the global cluster");
        });

        it("never lets a later `up` detach or promote a member: both global fields are ignored on every member", () => {
            for (const [plan, name] of [
                [primary, "apfa-prod-aws-use1-database-cluster"],
                [standby, "apfa-prod-aws-usw2-database-cluster"],
            ] as const) {
                const cluster = find(plan, "aws:rds/cluster:Cluster", name);
                assert.deepEqual(cluster.options.ignoreChanges, ["availabilityZones", "globalClusterIdentifier", "replicationSourceIdentifier"], name);
            }
        });

        it("the standby joins by name with no credentials of its own, its own KMS key, and no final snapshot", () => {
            const cluster = find(standby, "aws:rds/cluster:Cluster", "apfa-prod-aws-usw2-database-cluster");
            assert.equal(cluster.inputs.globalClusterIdentifier, "apfa-prod-global");
            for (const key of ["masterUsername", "masterPassword", "manageMasterUserPassword", "databaseName", "enableGlobalWriteForwarding", "finalSnapshotIdentifier"]) {
                assert.equal(cluster.inputs[key], undefined, key);
            }
            assert.equal(cluster.inputs.skipFinalSnapshot, true);
            assert.equal(cluster.inputs.storageEncrypted, true);
            assert.match(String(cluster.inputs.kmsKeyId), /^arn:aws:kms:/);
        });

        it("sets the enforced RPO ceiling (rds.global_db_rpo = 30 s) on every member's parameter group", () => {
            for (const [plan, prefix] of [
                [primary, "apfa-prod-aws-use1"],
                [standby, "apfa-prod-aws-usw2"],
            ] as const) {
                const group = find(plan, "aws:rds/clusterParameterGroup:ClusterParameterGroup", `${prefix}-database-parameters`);
                assert.deepEqual(
                    (group.inputs.parameters as Obj[]).find((p) => p.name === "rds.global_db_rpo"),
                    { name: "rds.global_db_rpo", value: "30", applyMethod: "immediate" },
                );
            }
        });

        it("alarms on the standby's replication lag and RPO lag (half the 30 s ceiling)", () => {
            const alarms = ofType(standby, "aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => String(a.inputs.metricName).startsWith("AuroraGlobalDB"));
            assert.deepEqual(
                alarms.map((a) => [a.inputs.metricName, a.inputs.threshold, a.inputs.dimensions]).sort(),
                [
                    ["AuroraGlobalDBRPOLag", 15000, { DBClusterIdentifier: "apfa-prod-aws-usw2-db" }],
                    ["AuroraGlobalDBReplicationLag", 1000, { DBClusterIdentifier: "apfa-prod-aws-usw2-db" }],
                ],
            );
        });

        it("keeps the login in the primary's secret, replicated to the standby region, never in clear", () => {
            const secret = find(primary, "aws:secretsmanager/secret:Secret", "apfa-prod-aws-use1-database-master-secret");
            assert.equal(secret.inputs.name, "apfa-prod-database-master");
            assert.deepEqual(secret.inputs.replicas, [{ region: "us-west-2" }]);
            assert.equal(find(primary, "aws:secretsmanager/secretVersion:SecretVersion", "apfa-prod-aws-use1-database-master-secret-value").inputs.secretString, "[secret]");
        });
    });

    describe("the app's connection", () => {
        it("both regions connect to the global writer endpoint, the password from their own region's copy of the secret", () => {
            const replicaArn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:apfa-prod-database-master-AbCdEf";
            const [app] = containers(standby, "apfa-prod-aws-usw2-blue-task");
            assert.equal(env(app).PGHOST, GLOBAL_ENDPOINT("apfa-prod-global"));
            assert.deepEqual(app.secrets, [{ name: "PGPASSWORD", valueFrom: `${replicaArn}:password::` }]);
            const [primaryApp] = containers(primary, "apfa-prod-aws-use1-blue-task");
            assert.equal(env(primaryApp).PGHOST, GLOBAL_ENDPOINT("apfa-prod-global"));
            // The standby's agent reads exactly the replica; the replica uses the AWS-managed key, so no kms:Decrypt grant.
            const statements = policy(find(standby, "aws:iam/rolePolicy:RolePolicy", "apfa-prod-aws-usw2-app-execution-start")).Statement;
            assert.deepEqual(statements.find((s) => s.Sid === "ReadTaskSecrets")?.Resource, [replicaArn]);
            assert.equal(statements.find((s) => s.Sid === "DecryptTaskSecrets"), undefined);
        });
    });

    describe("Route 53", () => {
        it("answers the shared name from the primary (PRIMARY) and the standby (SECONDARY), each an alias to its ALB with target health", () => {
            for (const [plan, prefix, region, type] of [
                [primary, "apfa-prod-aws-use1", "us-east-1", "PRIMARY"],
                [standby, "apfa-prod-aws-usw2", "us-west-2", "SECONDARY"],
            ] as const) {
                const record = find(plan, "aws:route53/record:Record", `${prefix}-region-record`);
                assert.deepEqual(
                    { ...record.inputs, aliases: undefined },
                    {
                        zoneId: "Z0123456789SAMPLEZONE",
                        name: "apfa.example.com",
                        type: "A",
                        setIdentifier: region,
                        healthCheckId: `${prefix}-region-health-id`,
                        failoverRoutingPolicies: [{ type }],
                        aliases: undefined,
                    },
                );
                assert.deepEqual(record.inputs.aliases, [{ name: `${prefix}-alb-123456789.eu-west-1.elb.amazonaws.com`, zoneId: "Z32O12XQLNTSW2", evaluateTargetHealth: true }]);
            }
        });

        it("health-checks each region's ALB over HTTPS on /health every 10 s, down after 3 failures", () => {
            const check = find(standby, "aws:route53/healthCheck:HealthCheck", "apfa-prod-aws-usw2-region-health");
            assert.deepEqual(
                [check.inputs.type, check.inputs.port, check.inputs.resourcePath, check.inputs.requestInterval, check.inputs.failureThreshold, check.inputs.fqdn],
                ["HTTPS", 443, "/health", 10, 3, "apfa-prod-aws-usw2-alb-123456789.eu-west-1.elb.amazonaws.com"],
            );
        });

        it("gives each region a plain regional name, which the controller probes", () => {
            const regional = find(primary, "aws:route53/record:Record", "apfa-prod-aws-use1-region-name");
            assert.equal(regional.inputs.name, "us-east-1.apfa.example.com");
            assert.equal(regional.inputs.healthCheckId, undefined);
            assert.equal(regional.inputs.failoverRoutingPolicies, undefined);
        });
    });

    describe("warm standby and the failover controller", () => {
        it("runs the standby at 50 % of the minimum (2 of 4), autoscaling to the same maximum", () => {
            const targets = ofType(standby, "aws:appautoscaling/target:Target");
            assert.deepEqual(targets.map((t) => [t.inputs.minCapacity, t.inputs.maxCapacity]), [
                [2, 16],
                [2, 16],
            ]);
            assert.equal(regionalMinReplicas(4, undefined), 4);
            assert.equal(regionalMinReplicas(5, { topology: "active-passive", isPrimary: false, standbyCapacityPercent: 50 } as never), 3);
            assert.equal(regionalMinReplicas(2, { topology: "active-passive", isPrimary: false, standbyCapacityPercent: 25 } as never), 2, "never below two AZs");
            assert.equal(regionalMinReplicas(4, { topology: "active-active", isPrimary: false, standbyCapacityPercent: 50 } as never), 4);
        });

        it("runs exactly one controller, in the standby region only, never two at once", () => {
            assert.deepEqual(ofType(primary, "aws:ecs/service:Service").filter((s) => s.name.includes("failover")), []);
            const service = find(standby, "aws:ecs/service:Service", "apfa-prod-aws-usw2-failover-service");
            assert.deepEqual([service.inputs.desiredCount, service.inputs.deploymentMaximumPercent, service.inputs.deploymentMinimumHealthyPercent], [1, 100, 0]);
            assert.deepEqual(service.inputs.networkConfiguration, {
                subnets: service.inputs.networkConfiguration && (service.inputs.networkConfiguration as Obj).subnets,
                securityGroups: (service.inputs.networkConfiguration as Obj).securityGroups,
                assignPublicIp: false,
            });
        });

        it("configures the controller to probe both regional names and promote this region's cluster", () => {
            const [controller] = containers(standby, "apfa-prod-aws-usw2-failover-task-definition");
            assert.deepEqual(env(controller), {
                AWS_REGION: "us-west-2",
                APFA_FAILOVER_ADAPTER: "aurora-global",
                APFA_FAILOVER_AURORA_GLOBAL_CLUSTER: "apfa-prod-global",
                APFA_FAILOVER_AURORA_STANDBY_CLUSTER_ARN: "arn:aws:rds:eu-west-1:123456789012:cluster:apfa-prod-aws-usw2-db",
                APFA_FAILOVER_PRIMARY_HEALTH_URLS: "https://us-east-1.apfa.example.com/health",
                APFA_FAILOVER_STANDBY_HEALTH_URLS: "https://us-west-2.apfa.example.com/health",
                APFA_FAILOVER_CONTROL_SSM_PARAMETER: "/apfa-prod/failover/control",
                APFA_FAILOVER_METRICS_PORT: "9102",
            });
        });

        it("lets the controller promote exactly this cluster of exactly this global database, and read its flags; nothing else", () => {
            const expected = controllerPolicy({
                globalClusterArn: "arn:aws:rds::123456789012:global-cluster:apfa-prod-global",
                standbyClusterArn: "arn:aws:rds:eu-west-1:123456789012:cluster:apfa-prod-aws-usw2-db",
                controlParameterArn: "arn:aws:ssm:eu-west-1:123456789012:parameter/apfa-prod/failover/control",
            });
            assert.deepEqual(policy(find(standby, "aws:iam/rolePolicy:RolePolicy", "apfa-prod-aws-usw2-failover-task-promote")), expected);
            assert.deepEqual(
                expected.Statement.map((s) => s.Action),
                [["rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"], ["rds:DescribeGlobalClusters", "rds:DescribeDBClusters"], ["ssm:GetParameter"]],
            );
            const parameter = find(standby, "aws:ssm/parameter:Parameter", "apfa-prod-aws-usw2-failover-control");
            assert.equal(parameter.inputs.insecureValue, '{"paused":false,"rearm":""}');
            assert.deepEqual(parameter.options.ignoreChanges, ["insecureValue"], "a pause set during an incident survives the next up");
        });

        it("synthesizes in preview mode too (unknown ALB names, endpoints and ARNs)", () => {
            for (const stack of ["prod-aws-use1", "prod-aws-usw2"]) {
                assert.ok(synthStack(stack, {}, { preview: true }).resources.length > 100, stack);
            }
        });
    });
});

describe("multi-region on AWS: active-active (prod-aa-use1, prod-aa-euw1, prod-aa-aps1)", () => {
    const stacks = { "us-east-1": "prod-aa-use1", "eu-west-1": "prod-aa-euw1", "ap-south-1": "prod-aa-aps1" } as const;
    let plans: Record<string, Plan>;
    before(() => {
        plans = Object.fromEntries(Object.values(stacks).map((s) => [s, synthStack(s)]));
    });

    it("sends users to the nearest healthy region: a latency record per region with its health check", () => {
        for (const [region, stack] of Object.entries(stacks)) {
            const record = find(plans[stack], "aws:route53/record:Record", `apfa-${stack}-region-record`);
            assert.deepEqual([record.inputs.setIdentifier, record.inputs.latencyRoutingPolicies, record.inputs.failoverRoutingPolicies], [region, [{ region }], undefined]);
            assert.equal(record.inputs.healthCheckId, `apfa-${stack}-region-health-id`);
        }
    });

    it("has one writer region; the others read locally and forward writes (their PGHOST is their own cluster)", () => {
        assert.equal(ofType(plans["prod-aa-use1"], "aws:rds/globalCluster:GlobalCluster").length, 1);
        assert.deepEqual(find(plans["prod-aa-use1"], "aws:secretsmanager/secret:Secret", "apfa-prod-aa-use1-database-master-secret").inputs.replicas, [{ region: "eu-west-1" }, { region: "ap-south-1" }]);
        const [writerApp] = containers(plans["prod-aa-use1"], "apfa-prod-aa-use1-blue-task");
        assert.equal(env(writerApp).PGHOST, GLOBAL_ENDPOINT("apfa-prod-aa-global"));
        for (const stack of ["prod-aa-euw1", "prod-aa-aps1"]) {
            const cluster = find(plans[stack], "aws:rds/cluster:Cluster", `apfa-${stack}-database-cluster`);
            assert.equal(cluster.inputs.enableGlobalWriteForwarding, true, stack);
            const [app] = containers(plans[stack], `apfa-${stack}-blue-task`);
            assert.equal(env(app).PGHOST, `apfa-${stack}-db.cluster-abcdefghijkl.eu-west-1.rds.amazonaws.com`, stack);
        }
    });

    it("runs no reduced standby (every region serves) and one failover controller, in eu-west-1 (regions[1])", () => {
        for (const [stack, plan] of Object.entries(plans)) {
            const controllers = ofType(plan, "aws:ecs/service:Service").filter((s) => s.name.includes("failover"));
            assert.equal(controllers.length, stack === "prod-aa-euw1" ? 1 : 0, stack);
            for (const target of ofType(plan, "aws:appautoscaling/target:Target")) {
                assert.equal(target.inputs.minCapacity, 4, `${stack} ${target.name}`);
            }
        }
    });
});

describe("multi-region config errors (aws)", () => {
    const standby = () => readSampleStack("prod-aws-usw2");

    it("names every missing or inconsistent key in one error", () => {
        const values = standby();
        const aws = { ...(values["apfa:aws"] as Obj) };
        delete aws.hostedZoneId;
        delete aws.domainName;
        const region: Obj = { ...(values["apfa:multiRegion"] as Obj), regions: ["us-east-1", "eu-west-1", "us-east-1"] };
        delete region.controllerImage;
        assert.deepEqual(problems({ ...values, "apfa:aws": aws, "apfa:multiRegion": region }), [
            "apfa:aws.domainName: required with apfa:multiRegion (every region answers for the same name)",
            "apfa:aws.hostedZoneId: required with apfa:multiRegion (the Route 53 zone of apfa:aws.domainName)",
            "apfa:multiRegion.regions: lists a region twice (us-east-1, eu-west-1, us-east-1)",
            "apfa:multiRegion.regions: does not list this stack's region us-west-2 (aws:region); every region stack lists all regions, primary first",
        ]);
    });

    it("puts the controller in the failover region (regions[1]) only, with an image, and reads no other stack", () => {
        const region = standby()["apfa:multiRegion"] as Obj;
        const noImage = { ...region };
        delete noImage.controllerImage;
        assert.deepEqual(problems({ ...standby(), "apfa:multiRegion": noImage }), [
            "apfa:multiRegion.controllerImage: required in us-west-2, the failover region (regions[1]) that runs the failover controller; build tools/failover's image and set its reference",
        ]);
        const primary = readSampleStack("prod-aws-use1");
        assert.deepEqual(problems({ ...primary, "apfa:multiRegion": { ...(primary["apfa:multiRegion"] as Obj), controllerImage: region.controllerImage, primaryStack: "acme/apfa/prod-aws-use1" } }, "prod-aws-use1"), [
            "apfa:multiRegion.controllerImage: only the failover region us-west-2 (regions[1]) runs the controller (one controller may promote); remove it from the us-east-1 stack",
            "apfa:multiRegion.primaryStack: the aws target reads nothing from other stacks (shared names derive from apfa:multiRegion.name); remove it",
        ]);
    });

    it("refuses multi-region on the dev stack and without the database", () => {
        assert.ok(
            problems({ "apfa:cloud": "docker", "apfa:multiRegion": { topology: "active-active", name: "x1", regions: ["us-east-1", "us-west-2"] } }, "dev").includes(
                "apfa:multiRegion: the dev (docker) stack is one machine; multi-region applies to aws, azure and gcp",
            ),
        );
        assert.ok(problems({ ...standby(), "apfa:database": { enabled: false } }).includes("apfa:database.enabled: a multi-region aws stack replicates its Aurora database across regions; it cannot be off"));
        assert.deepEqual(problems({ ...standby(), "apfa:aws": { ...(standby()["apfa:aws"] as Obj), database: { globalRpoSeconds: 10 } } }), [
            "apfa:aws.database.globalRpoSeconds: Too small: expected number to be >=20",
        ]);
    });
});
