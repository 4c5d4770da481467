/**
 * The AWS target's pure functions, without mocks: subnet maths, NAT plan, Fargate sizes, IAM
 * documents, container definitions and file delivery, tags, names.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";

import { auxSpecProblems, ssmPortForwardCommand } from "../src/targets/aws/aux";
import {
    INIT_CONTAINER,
    appContainerDefinitions,
    auxContainerDefinitions,
    containerDefinitionsJson,
    decodeFileContent,
    encodeFileContent,
    initScript,
    planFileVolumes,
} from "../src/targets/aws/containers";
import {
    ecrRepositoryArn,
    ecsDiscoveryPolicy,
    ecsExecPolicy,
    ecsInfrastructureTrustPolicy,
    ecsTasksTrustPolicy,
    executionRolePolicy,
    wildcardGrants,
    type PolicyDocument,
} from "../src/targets/aws/iam";
import { publicUrl } from "../src/targets/aws/index";
import { TLS_POLICY, plainHttpWarning, weightedForwardAction } from "../src/targets/aws/loadBalancer";
import { chooseAvailabilityZones, endpointServiceName, natPlan } from "../src/targets/aws/network";
import { slotReplicaBounds } from "../src/bluegreen";
import { cpuTargetTracking } from "../src/targets/aws/scaling";
import { slotEnvironment } from "../src/targets/aws/service";
import {
    FARGATE_SIZES,
    describeFargateMemoryOptions,
    fargateMemoryOptions,
    fargateTaskSize,
    isValidFargateSize,
    smallestFargateSizeFor,
} from "../src/targets/aws/sizing";
import { cidrContains, cidrsOverlap, formatCidr, parseCidr } from "../src/cidr";
import { MAX_ALB_SUBNET_PREFIX, MAX_VPC_PREFIX, planSubnets, vpcCidrProblem } from "../src/targets/aws/subnets";
import { awsTags } from "../src/targets/aws/tags";
import { readSampleStack } from "../scripts/synth/stack-config";
import { parseConfig } from "../src/config";
import { taskDefinitionProblems } from "./fixtures/aws/containerDefinitionSchema";

const WHERE = { partition: "aws", region: "eu-west-1", accountId: "123456789012" };
const LOGS = { logGroupName: "/ecs/apfa-test", region: "eu-west-1" };

describe("aws target: subnet plan", () => {
    it("gives each AZ a private /19 and a public /22 of a /16, private first, public from the last block", () => {
        assert.deepEqual(planSubnets("10.40.0.0/16", 3), [
            { index: 0, privateCidr: "10.40.0.0/19", publicCidr: "10.40.224.0/22" },
            { index: 1, privateCidr: "10.40.32.0/19", publicCidr: "10.40.228.0/22" },
            { index: 2, privateCidr: "10.40.64.0/19", publicCidr: "10.40.232.0/22" },
        ]);
    });

    it("never moves an existing subnet when an AZ is added", () => {
        assert.deepEqual(planSubnets("10.40.0.0/16", 3), planSubnets("10.40.0.0/16", 4).slice(0, 3));
    });

    it("keeps every subnet inside the VPC, disjoint from every other, for any valid VPC and AZ count", () => {
        const vpcArb = fc
            .tuple(fc.integer({ min: 16, max: MAX_VPC_PREFIX }), fc.integer({ min: 0, max: 2 ** 32 - 1 }))
            .map(([prefix, raw]) => formatCidr({ first: raw - (raw % 2 ** (32 - prefix)), prefix }));
        fc.assert(
            fc.property(vpcArb, fc.integer({ min: 1, max: 7 }), (vpc, azs) => {
                const plan = planSubnets(vpc, azs);
                const blocks = plan.flatMap((p) => [p.privateCidr, p.publicCidr]);
                assert.equal(plan.length, azs);
                for (const p of plan) {
                    assert.ok(parseCidr(p.publicCidr).prefix <= MAX_ALB_SUBNET_PREFIX, `${p.publicCidr} holds the ALB: /27 or larger`);
                }
                for (const [i, b] of blocks.entries()) {
                    assert.ok(cidrContains(vpc, b), `${b} inside ${vpc}`);
                    assert.ok(parseCidr(b).prefix <= 28, "AWS subnets are at most /28");
                    for (const other of blocks.slice(i + 1)) {
                        assert.ok(!cidrsOverlap(b, other), `${b} and ${other} overlap`);
                    }
                }
            }),
        );
    });

    it("accepts /16 to /21 only: a /21 gets /27 public subnets, the smallest an ALB accepts; a /22 would get /28s", () => {
        assert.equal(MAX_ALB_SUBNET_PREFIX, 27);
        assert.equal(MAX_VPC_PREFIX, 21);
        assert.deepEqual(
            planSubnets("10.60.0.0/21", 2).map((p) => p.publicCidr),
            ["10.60.7.0/27", "10.60.7.32/27"],
        );
        assert.equal(vpcCidrProblem("10.60.0.0/21"), undefined);
        assert.match(vpcCidrProblem("10.60.0.0/22") ?? "", /between \/16 and \/21 .*load balancer.*\/27 or larger\), got \/22/);
        assert.throws(() => planSubnets("10.60.0.0/22", 2), /VPC range 10\.60\.0\.0\/22: expected a prefix length between \/16 and \/21/);
    });

    it("refuses VPC ranges the plan cannot hold, naming the reason", () => {
        assert.match(vpcCidrProblem("10.0.0.0/24") ?? "", /between \/16 and \/21/);
        assert.match(vpcCidrProblem("10.0.0.0/8") ?? "", /between \/16 and \/21/);
        assert.match(vpcCidrProblem("10.0.0.1/16") ?? "", /host bits set; did you mean 10\.0\.0\.0\/16/);
        assert.equal(vpcCidrProblem("172.16.0.0/20"), undefined);
        assert.throws(() => planSubnets("10.0.0.0/16", 8), /1 to 7 AZs/);
    });

    it("the stack config refuses a VPC range the plan cannot hold, before any resource", () => {
        const values = { ...readSampleStack("prod-aws"), "apfa:aws": { vpcCidr: "10.40.0.0/24" } };
        assert.throws(() => parseConfig({ values, project: "apfa", stack: "prod-aws" }), /apfa:aws\.vpcCidr: expected a prefix length between \/16 and \/21/);
        const slash22 = { ...values, "apfa:aws": { vpcCidr: "10.40.0.0/22" } };
        assert.throws(() => parseConfig({ values: slash22, project: "apfa", stack: "prod-aws" }), /apfa:aws\.vpcCidr: .*got \/22/);
        const ok = parseConfig({ values: { ...values, "apfa:aws": { vpcCidr: "10.50.0.0/20", domainName: "apfa.example.com", certificateArn: "arn:aws:acm:eu-west-1:210987654321:certificate/1" } }, project: "apfa", stack: "prod-aws" });
        assert.equal(ok.cloud === "aws" && ok.aws.vpcCidr, "10.50.0.0/20");
    });

    it("round-trips CIDR text", () => {
        fc.assert(
            fc.property(fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (prefix, raw) => {
                const cidr = formatCidr({ first: raw - (raw % 2 ** (32 - prefix)), prefix });
                assert.equal(formatCidr(parseCidr(cidr)), cidr);
            }),
        );
    });
});

describe("aws target: AZs, NAT and endpoints", () => {
    it("perAz: one NAT gateway per AZ, each AZ routed to its own", () => {
        assert.deepEqual(natPlan(3, "perAz"), { natCount: 3, natForAz: [0, 1, 2] });
    });

    it("single: one NAT gateway that every AZ uses", () => {
        assert.deepEqual(natPlan(3, "single"), { natCount: 1, natForAz: [0, 0, 0] });
    });

    it("chooses AZs in sorted order and fails clearly when the region has too few", () => {
        assert.deepEqual(chooseAvailabilityZones(["eu-west-1c", "eu-west-1a", "eu-west-1b"], 2, "eu-west-1"), ["eu-west-1a", "eu-west-1b"]);
        assert.throws(() => chooseAvailabilityZones(["x-1a", "x-1b"], 3, "x-1"), /offers 2 availability zone.*asks for 3/);
    });

    it("names endpoint services com.amazonaws.<region>.<service>", () => {
        assert.equal(endpointServiceName("eu-west-1", "ecr.dkr"), "com.amazonaws.eu-west-1.ecr.dkr");
    });
});

describe("aws target: Fargate sizes", () => {
    it("accepts exactly the documented CPU/memory pairs", () => {
        for (const [cpu, mem] of [
            [0.25, 512],
            [0.25, 2048],
            [0.5, 1024],
            [0.5, 4096],
            [1, 8192],
            [4, 30720],
            [8, 16384],
            [16, 122880],
        ]) {
            assert.ok(isValidFargateSize(cpu, mem), `${cpu} vCPU / ${mem} MiB is valid`);
        }
        for (const [cpu, mem] of [
            [0.25, 1536],
            [0.5, 512],
            [1, 1024],
            [4, 31744],
            [8, 18432],
            [0.3, 1024],
            [32, 65536],
        ]) {
            assert.ok(!isValidFargateSize(cpu, mem), `${cpu} vCPU / ${mem} MiB is invalid`);
        }
    });

    it("turns a valid pair into the task definition's strings and refuses an invalid one with the options", () => {
        assert.deepEqual(fargateTaskSize(0.5, 1024), { cpu: "512", memory: "1024" });
        assert.throws(() => fargateTaskSize(1, 1024), /with 1 vCPU expected memoryMiB 2048-8192 in steps of 1024/);
        assert.match(describeFargateMemoryOptions(0.3), /one of 0.25, 0.5, 1, 2, 4, 8, 16 vCPU/);
    });

    it("rounds any satisfiable request up to the smallest valid size that covers it", () => {
        const maxMiB = FARGATE_SIZES[FARGATE_SIZES.length - 1].maxMiB;
        fc.assert(
            fc.property(fc.double({ min: 0.01, max: 16, noNaN: true }), fc.integer({ min: 1, max: maxMiB }), (cpu, mem) => {
                let size: { cpu: string; memory: string };
                try {
                    size = smallestFargateSizeFor(cpu, mem);
                } catch {
                    // Only requests no size can hold may fail.
                    assert.ok(!FARGATE_SIZES.some((o) => o.units >= cpu * 1024 && o.maxMiB >= mem));
                    return;
                }
                const vcpu = Number(size.cpu) / 1024;
                assert.ok(isValidFargateSize(vcpu, Number(size.memory)), `${size.cpu}/${size.memory} is a Fargate size`);
                assert.ok(vcpu >= cpu - 1e-9 && Number(size.memory) >= mem, "covers the request");
                // No smaller CPU size could have held it.
                for (const o of FARGATE_SIZES.filter((x) => x.units < Number(size.cpu) && x.units >= cpu * 1024)) {
                    assert.ok(!fargateMemoryOptions(o.units / 1024).some((m) => m >= mem));
                }
            }),
        );
        assert.deepEqual(smallestFargateSizeFor(0.3, 700), { cpu: "512", memory: "1024" });
        assert.deepEqual(smallestFargateSizeFor(1, 2048), { cpu: "1024", memory: "2048" });
    });
});

describe("aws target: IAM documents", () => {
    const allDocs = (): [string, PolicyDocument][] => [
        ["tasks trust", ecsTasksTrustPolicy(WHERE)],
        ["infrastructure trust", ecsInfrastructureTrustPolicy()],
        ["execution", executionRolePolicy({ logGroupArn: "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/x", images: ["123456789012.dkr.ecr.eu-west-1.amazonaws.com/apfa:1"], secretArns: ["arn:s"] })],
        ["discovery", ecsDiscoveryPolicy(WHERE, "apfa-prod-aws")],
        ["exec", ecsExecPolicy()],
    ];

    it("every document is valid JSON with Version 2012-10-17 and grants no * action on * resource", () => {
        for (const [name, doc] of allDocs()) {
            const parsed = JSON.parse(JSON.stringify(doc)) as PolicyDocument;
            assert.equal(parsed.Version, "2012-10-17", name);
            assert.deepEqual(wildcardGrants(parsed), [], `${name} has a wildcard grant`);
        }
    });

    it("the wildcard check itself catches *:* grants", () => {
        const bad: PolicyDocument = { Version: "2012-10-17", Statement: [{ Sid: "x", Effect: "Allow", Action: ["s3:*"], Resource: ["*"] }] };
        assert.equal(wildcardGrants(bad).length, 1);
    });

    it("derives ECR repository ARNs from image references, and none for other registries", () => {
        assert.equal(ecrRepositoryArn("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/apfa:1.0.0"), "arn:aws:ecr:eu-west-1:123456789012:repository/team/apfa");
        assert.equal(ecrRepositoryArn("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/apfa@sha256:ab"), "arn:aws-cn:ecr:cn-north-1:123456789012:repository/apfa");
        assert.equal(ecrRepositoryArn("grafana/grafana:12.4.0"), undefined);
        assert.equal(ecrRepositoryArn("public.ecr.aws/docker/library/busybox:1.37.0"), undefined);
    });

    it("the execution role may pull only its images' repositories, log only to its group, read only its secrets", () => {
        const doc = executionRolePolicy({
            logGroupArn: "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/apfa",
            images: ["123456789012.dkr.ecr.eu-west-1.amazonaws.com/apfa:1", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/apfa:2", "grafana/grafana:12"],
            secretArns: ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:a"],
        });
        const by = Object.fromEntries(doc.Statement.map((s) => [s.Sid, s]));
        assert.deepEqual(by.PullTaskImages.Resource, ["arn:aws:ecr:eu-west-1:123456789012:repository/apfa"]);
        assert.deepEqual(by.WriteTaskLogs.Resource, ["arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/apfa:*"]);
        assert.deepEqual(by.ReadTaskSecrets.Action, ["secretsmanager:GetSecretValue"]);
        assert.deepEqual(by.ReadTaskSecrets.Resource, ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:a"]);
        const mirrored = "210987654321.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/grafana/grafana:12";
        const cache = Object.fromEntries(
            executionRolePolicy({ logGroupArn: "arn:l", images: [mirrored], pullThroughImages: [mirrored] }).Statement.map((s) => [s.Sid, s]),
        );
        const repository = "arn:aws:ecr:eu-west-1:210987654321:repository/docker-hub/grafana/grafana";
        assert.deepEqual(cache.PullTaskImages.Resource, [repository]);
        assert.deepEqual([cache.FillPullThroughCache.Action, cache.FillPullThroughCache.Resource], [["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"], [repository]]);
        const publicOnly = executionRolePolicy({ logGroupArn: "arn:l", images: ["grafana/grafana:12"] });
        assert.deepEqual(
            publicOnly.Statement.map((s) => s.Sid),
            ["WriteTaskLogs"],
            "no ECR or secret grants without ECR images or secrets",
        );
    });

    it("Prometheus's discovery role has exactly the ECS/EC2 read actions aws_sd_configs role ecs calls for Fargate, on its one cluster", () => {
        const doc = ecsDiscoveryPolicy(WHERE, "apfa-prod-aws");
        const actions = doc.Statement.flatMap((s) => s.Action).sort();
        assert.deepEqual(actions, [
            "ec2:DescribeNetworkInterfaces",
            "ecs:DescribeClusters",
            "ecs:DescribeServices",
            "ecs:DescribeTasks",
            "ecs:ListServices",
            "ecs:ListTasks",
        ]);
        assert.ok(doc.Statement.every((s) => s.Action.every((a) => /^(ecs|ec2):(Describe|List)/.test(a))), "read-only");
        const cluster = "arn:aws:ecs:eu-west-1:123456789012:cluster/apfa-prod-aws";
        const describe = doc.Statement.find((s) => s.Action.includes("ecs:DescribeTasks"));
        assert.deepEqual(describe?.Resource, [
            "arn:aws:ecs:eu-west-1:123456789012:service/apfa-prod-aws/*",
            "arn:aws:ecs:eu-west-1:123456789012:task/apfa-prod-aws/*",
        ]);
        const list = doc.Statement.find((s) => s.Action.includes("ecs:ListTasks"));
        assert.deepEqual(list?.Condition, { ArnEquals: { "ecs:cluster": cluster } }, "listing is limited to this cluster");
        const clusters = doc.Statement.find((s) => s.Action.includes("ecs:DescribeClusters"));
        assert.deepEqual(clusters?.Resource, [cluster, "arn:aws:ecs:eu-west-1:123456789012:cluster/default"]);
    });

    it("trust policies admit only ECS of this account", () => {
        const trust = ecsTasksTrustPolicy(WHERE).Statement[0];
        assert.deepEqual(trust.Principal, { Service: "ecs-tasks.amazonaws.com" });
        assert.deepEqual(trust.Condition?.StringEquals, { "aws:SourceAccount": "123456789012" });
        assert.deepEqual(ecsInfrastructureTrustPolicy().Statement[0].Principal, { Service: "ecs.amazonaws.com" });
    });

    it("the ECS infrastructure role's trust is AWS's documented one: ecs.amazonaws.com, no condition keys ECS may not send", () => {
        const trust = ecsInfrastructureTrustPolicy().Statement[0];
        assert.deepEqual(trust.Action, ["sts:AssumeRole"]);
        assert.equal(trust.Condition, undefined);
        // The task roles keep both: ECS documents SourceArn for ecs-tasks.amazonaws.com.
        assert.ok(ecsTasksTrustPolicy(WHERE).Statement[0].Condition?.ArnLike?.["aws:SourceArn"]);
    });
});

describe("aws target: container definitions", () => {
    const app = () =>
        appContainerDefinitions({
            image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/apfa:1",
            port: 8000,
            metricsPort: 9100,
            healthPath: "/health",
            env: { SLOT: "blue", A: "1" },
            logs: LOGS,
            slot: "blue",
            healthCheckStartPeriodSeconds: 600,
        });

    it("APFA's container passes the ECS container-definition schema and Fargate's rules", () => {
        assert.deepEqual(taskDefinitionProblems(JSON.parse(containerDefinitionsJson(app())), ["tmp"]), []);
    });

    it("APFA runs read-only with /tmp on a task volume, health-checked on its health path, logging to the stack's group", () => {
        const [c] = app();
        assert.equal(c.readonlyRootFilesystem, true);
        assert.deepEqual(c.mountPoints, [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }]);
        assert.equal(c.healthCheck?.command[0], "CMD-SHELL");
        assert.match(c.healthCheck?.command[1] ?? "", /^node -e .*http:\/\/127\.0\.0\.1:8000\/health.*\|\| wget -q -O \/dev\/null http:\/\/127\.0\.0\.1:8000\/health/);
        assert.equal(c.healthCheck?.startPeriod, 300, "start period capped at ECS's 300 s");
        assert.equal(c.logConfiguration.options["awslogs-group"], "/ecs/apfa-test");
        assert.deepEqual(c.environment, [
            { name: "A", value: "1" },
            { name: "SLOT", value: "blue" },
        ]);
    });

    it("the schema rejects unknown keys and the Fargate rules reject what awsvpc cannot do", () => {
        const [c] = app();
        assert.match(taskDefinitionProblems([{ ...c, healthcheck: {} }], ["tmp"]).join("\n"), /healthcheck/);
        assert.match(taskDefinitionProblems([{ ...c, links: ["db"] }], ["tmp"]).join("\n"), /links is not supported on Fargate/);
        assert.match(
            taskDefinitionProblems([{ ...c, portMappings: [{ containerPort: 8000, hostPort: 80 }] }], ["tmp"]).join("\n"),
            /hostPort must equal containerPort/,
        );
        assert.match(taskDefinitionProblems(app(), []).join("\n"), /unknown volume tmp/);
    });

    it("groups config files into one volume per top-most directory, never nesting mounts", () => {
        const volumes = planFileVolumes([
            "/etc/grafana/provisioning/dashboards/apfa.yaml",
            "/etc/grafana/provisioning/dashboards/apfa/overview.json",
            "/etc/grafana/provisioning/datasources/apfa.yaml",
        ]);
        assert.deepEqual(
            volumes.map((v) => [v.volumeName, v.mountPath, v.files.map((f) => f.relativePath)]),
            [
                ["files-0", "/etc/grafana/provisioning/dashboards", ["apfa.yaml", "apfa/overview.json"]],
                ["files-1", "/etc/grafana/provisioning/datasources", ["apfa.yaml"]],
            ],
        );
        assert.throws(() => planFileVolumes(["/etc/x/../y"]), /without \. or \.\./);
        assert.throws(() => planFileVolumes(["/top.yml"]), /directly under \//);
        assert.throws(() => planFileVolumes(["/data/conf.yml"], "/data"), /overlap the data volume/);
        assert.throws(() => planFileVolumes(["/etc/app/conf.yml"], "/etc/app/data"), /overlap the data volume/);
    });

    it("file contents survive gzip+base64 exactly", () => {
        fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 2000 }), (content) => assert.equal(decodeFileContent(encodeFileContent(content)), content)));
    });

    it("the init script, run by a real shell, recreates every file and hands the data directory to the service user", function () {
        const volumes = planFileVolumes(["/etc/p/prometheus.yml", "/etc/p/rules/a.yml", "/etc/g/dash.json"]);
        const contents: Record<string, string> = {
            "/etc/p/prometheus.yml": "global: {}\n# $HOME and 'quotes' stay literal\n",
            "/etc/p/rules/a.yml": "groups: []\n",
            "/etc/g/dash.json": JSON.stringify({ a: "ü", b: [1, 2, 3] }),
        };
        const env: Record<string, string> = {};
        for (const v of volumes) {
            for (const f of v.files) {
                env[f.envName] = encodeFileContent(contents[f.path]);
            }
        }
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-init-"));
        try {
            // The script targets /apfa-files/<n> and /apfa-data; point those at a scratch dir.
            const script = initScript(volumes, { uid: process.getuid?.() ?? 0 })
                .replaceAll("/apfa-files", `${root}/files`)
                .replaceAll("/apfa-data", `${root}/data`);
            fs.mkdirSync(`${root}/data`);
            execFileSync("sh", ["-c", script], { env: { ...env, PATH: process.env.PATH } });
            for (const [index, v] of volumes.entries()) {
                for (const f of v.files) {
                    assert.equal(fs.readFileSync(`${root}/files/${index}/${f.relativePath}`, "utf8"), contents[f.path]);
                }
            }
            assert.equal(fs.statSync(`${root}/data`).mode & 0o777, 0o750);
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    it("an auxiliary service gets a non-essential init container that the main container waits for", () => {
        const fileVolumes = planFileVolumes(["/etc/prometheus/prometheus.yml"], "/prometheus");
        const defs = auxContainerDefinitions({
            name: "prometheus",
            image: "prom/prometheus:v3",
            args: ["--config.file=/etc/prometheus/prometheus.yml"],
            port: 9090,
            healthPath: "/-/healthy",
            user: 65534,
            env: {},
            secrets: { TOKEN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:t" },
            fileVolumes,
            encodedFiles: { APFA_FILE_0: encodeFileContent("global: {}\n") },
            dataMountPath: "/prometheus",
            logs: LOGS,
        });
        assert.deepEqual(taskDefinitionProblems(JSON.parse(containerDefinitionsJson(defs)), ["files-0", "data"]), []);
        const [init, main] = defs;
        assert.equal(init.name, INIT_CONTAINER);
        assert.equal(init.essential, false);
        assert.equal(init.readonlyRootFilesystem, true);
        assert.deepEqual(main.dependsOn, [{ containerName: INIT_CONTAINER, condition: "SUCCESS" }]);
        assert.equal(main.user, "65534");
        assert.deepEqual(main.secrets, [{ name: "TOKEN", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:t" }]);
        assert.deepEqual(main.mountPoints, [
            { sourceVolume: "files-0", containerPath: "/etc/prometheus", readOnly: true },
            { sourceVolume: "data", containerPath: "/prometheus", readOnly: false },
        ]);
        assert.deepEqual(main.command, ["--config.file=/etc/prometheus/prometheus.yml"]);
        assert.equal(main.entryPoint, undefined, "the image's entrypoint stays");
    });

    it("refuses container definitions too large for a task definition", () => {
        const [c] = app();
        const huge = { ...c, environment: [{ name: "BIG", value: "x".repeat(64 * 1024) }] };
        assert.throws(() => containerDefinitionsJson([huge]), /ECS takes at most 65536 bytes/);
    });
});

describe("aws target: load balancer, scaling, tags, names", () => {
    it("the weighted rule forwards to both target groups with the release weights and no stickiness", () => {
        assert.deepEqual(weightedForwardAction({ blue: 90, green: 10 }, { blue: "arn:b", green: "arn:g" }), {
            type: "forward",
            forward: {
                targetGroups: [
                    { arn: "arn:b", weight: 90 },
                    { arn: "arn:g", weight: 10 },
                ],
                stickiness: { enabled: false, duration: 1 },
            },
        });
    });

    it("uses AWS's recommended TLS 1.3/1.2 post-quantum policy", () => {
        assert.equal(TLS_POLICY, "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09");
    });

    it("tracks average CPU at the configured target with both cooldowns", () => {
        assert.deepEqual(
            cpuTargetTracking({ minReplicas: 4, maxReplicas: 16, targetCpuPercent: 70, scaleOutCooldownSeconds: 60, scaleInCooldownSeconds: 300 }),
            {
                targetValue: 70,
                predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
                scaleOutCooldown: 60,
                scaleInCooldown: 300,
                disableScaleIn: false,
            },
        );
    });

    it("a slot scaled down by the release tool gets 0..0 tasks; otherwise the configured bounds", () => {
        const scaling = { minReplicas: 4, maxReplicas: 16, targetCpuPercent: 70, scaleOutCooldownSeconds: 60, scaleInCooldownSeconds: 300 };
        const release = { active: "blue" as const, previewWeight: 0, blue: { env: {}, scaledDown: false }, green: { env: {}, scaledDown: true } };
        assert.deepEqual(slotReplicaBounds({ scaling, release }, "blue"), { min: 4, max: 16 });
        assert.deepEqual(slotReplicaBounds({ scaling, release }, "green"), { min: 0, max: 0 });
    });

    it("tags merge user tags, the stack identity (which user tags cannot override) and Name", () => {
        assert.deepEqual(awsTags({ project: "apfa", stack: "prod-aws", tags: { owner: "team", project: "spoofed" } }, "apfa-prod-aws-vpc", { tier: "public" }), {
            owner: "team",
            project: "apfa",
            stack: "prod-aws",
            "managed-by": "pulumi",
            tier: "public",
            Name: "apfa-prod-aws-vpc",
        });
    });

    it("a slot's environment: app env, slot env, then PORT/SLOT/APP_VERSION which config cannot override", () => {
        const env = slotEnvironment(
            {
                app: { port: 8000, metricsPort: 9100, healthPath: "/health", metricsPath: "/metrics", cpu: 0.5, memoryMiB: 1024, env: { A: "app", SLOT: "spoof" } },
                release: { active: "blue", previewWeight: 0, blue: { image: "img:1", env: { A: "slot" }, scaledDown: false }, green: { env: {}, scaledDown: false } },
            },
            "green",
        );
        assert.deepEqual(env, { A: "app", SLOT: "green", PORT: "8000", METRICS_PORT: "9100", APP_VERSION: "img:1" });
    });

    it("the public URL is the domain when configured, else the ALB's DNS name", () => {
        assert.equal(publicUrl("https", "alb.example", "apfa.example.com"), "https://apfa.example.com");
        assert.equal(publicUrl("http", "alb.example"), "http://alb.example");
    });

    it("warns that the public listener is HTTP-only, and how to add a certificate, exactly when no certificate is set", () => {
        const cert = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555";
        const bare = plainHttpWarning({}, "eu-west-1") ?? "";
        assert.match(bare, /plain HTTP on port 80/);
        assert.match(bare, /apfa:aws\.certificateArn is not set/);
        assert.match(bare, /ACM certificate in eu-west-1 for your domain \(set apfa:aws\.domainName too\)/);
        assert.match(bare, /pulumi config set --path 'apfa:aws\.certificateArn' <certificate ARN>/);
        assert.match(plainHttpWarning({ domainName: "apfa.example.com" }, "us-east-1") ?? "", /ACM certificate in us-east-1 for apfa\.example\.com,/);
        assert.equal(plainHttpWarning({ certificateArn: cert }, "eu-west-1"), undefined);
        assert.equal(plainHttpWarning({ certificateArn: cert, domainName: "apfa.example.com" }, "eu-west-1"), undefined);
    });

    it("the SSM port-forward command names the cluster, service, container and ports", () => {
        const cmd = ssmPortForwardCommand({ region: "eu-west-1", cluster: "c", service: "c-grafana", container: "grafana", port: 3000, localPort: 3000 });
        assert.match(cmd, /aws ecs list-tasks --region eu-west-1 --cluster c --service-name c-grafana/);
        assert.match(cmd, /containers\[\?name=='grafana'\]\.runtimeId/);
        assert.match(cmd, /--target "ecs:c_\$\{TASK##\*\/\}_\$RUNTIME" --document-name AWS-StartPortForwardingSession --parameters portNumber=3000,localPortNumber=3000$/);
    });

    it("refuses auxiliary specs the platform cannot run", () => {
        const spec = {
            name: "Bad Name",
            image: "x",
            port: 1,
            healthPath: "/",
            files: {},
            resources: { cpu: 1, memoryMiB: 2048 },
            runAsUser: 1,
            operatorPort: 80,
        };
        const problems = auxSpecProblems(spec, new Map(), true);
        assert.equal(problems.length, 2, problems.join("\n"));
        assert.match(problems[0], /lower-case letters/);
        assert.match(problems[1], /operatorPort 80 is APFA's own listener port/);
        assert.deepEqual(auxSpecProblems({ ...spec, name: "ok-name" }, new Map(), false), [], "ALB ports are free when there are no operator listeners");
    });
});
