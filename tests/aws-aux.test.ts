/**
 * `EcsCluster.runService` on its own contract: the fixture specs (a scraper with files and a data
 * volume, a UI with a secret) placed on ECS by the harness in tests/fixtures/aws/auxHarness.ts.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { PROJECT_ROOT, readStackFile } from "../scripts/synth/stack-config";
import { decodeFileContent } from "../src/targets/aws/containers";
import { wildcardGrants, type PolicyDocument } from "../src/targets/aws/iam";
import { ADMIN_PASSWORD, DASHBOARD_JSON, DATASOURCE_YML, PROMETHEUS_YML, RULES_YML } from "./fixtures/aws/auxSpecs";
import type { HarnessResource, HarnessResult } from "./fixtures/aws/auxHarness";
import { taskDefinitionProblems } from "./fixtures/aws/containerDefinitionSchema";

const PREFIX = "apfa-prod-aws";
const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555";
const OPERATORS = ["198.51.100.0/24", "203.0.113.7/32"];

function runHarness(overrides: Record<string, unknown>, bad?: string): HarnessResult {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-aux-"));
    const out = path.join(dir, "result.json");
    try {
        const args = ["--import", "tsx", path.join(PROJECT_ROOT, "tests", "fixtures", "aws", "auxHarness.ts"), out, JSON.stringify(overrides)];
        if (bad) {
            args.push("--bad", bad);
        }
        const run = spawnSync(process.execPath, args, { cwd: PROJECT_ROOT, encoding: "utf8" });
        assert.equal(run.status, 0, `harness failed:\n${run.stderr}${run.stdout}`);
        return JSON.parse(fs.readFileSync(out, "utf8")) as HarnessResult;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** The stack file's `apfa:aws` over plain HTTP (no certificate, with the production opt-out), plus `extra`. */
function awsSettings(extra: Record<string, unknown>) {
    const rest = { ...(readStackFile("prod-aws")["apfa:aws"] as Record<string, unknown>) };
    delete rest.certificateArn;
    delete rest.domainName;
    return { "apfa:aws": { ...rest, ...extra }, "apfa:allowPlainHttp": true };
}

function one(result: HarnessResult, type: string, name: string): HarnessResource {
    const r = (result.resources ?? []).find((x) => x.type === type && x.name === name);
    assert.ok(r, `no ${type} ${name}`);
    return r;
}

function all(result: HarnessResult, type: string): HarnessResource[] {
    return (result.resources ?? []).filter((x) => x.type === type);
}

interface Container {
    name: string;
    essential?: boolean;
    environment?: { name: string; value: string }[];
    secrets?: { name: string; valueFrom: string }[];
    mountPoints?: { sourceVolume: string; containerPath: string; readOnly: boolean }[];
    command?: string[];
    dependsOn?: unknown[];
    user?: string;
}

function containers(td: HarnessResource): Container[] {
    return JSON.parse(td.inputs.containerDefinitions as string) as Container[];
}

describe("aws target: auxiliary services (runService)", () => {
    describe("without operator CIDRs (the default)", () => {
        let result: HarnessResult;
        before(() => {
            result = runHarness(awsSettings({}));
            assert.equal(result.error, undefined);
        });

        it("reports each slot's discovery as ECS (the cluster by ARN and name, the service by name, region, the metrics port)", () => {
            // The ARN is the cluster resource's own output (here the mock's), so Prometheus lists only this cluster.
            const clusterArn = `arn:aws:ecs:eu-west-1:123456789012:cluster/${PREFIX}`;
            const ecs = (service: string) => ({ kind: "ecs", region: "eu-west-1", clusterArn, clusterName: PREFIX, serviceName: service, port: 9100 });
            assert.deepEqual(result.slots, {
                blue: { slot: "blue", weight: 100, discovery: ecs(`${PREFIX}-blue`) },
                green: { slot: "green", weight: 0, discovery: ecs(`${PREFIX}-green`) },
            });
        });

        it("names each service in a Cloud Map private namespace, so Grafana reaches Prometheus by name", () => {
            const ns = one(result, "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace", `${PREFIX}-namespace`);
            assert.deepEqual([ns.inputs.name, ns.inputs.vpc], [`${PREFIX}.internal`, `${PREFIX}-vpc-id`]);
            for (const name of ["prometheus", "grafana"]) {
                const sd = one(result, "aws:servicediscovery/service:Service", `${PREFIX}-${name}-dns`);
                assert.equal(sd.inputs.name, name);
                assert.deepEqual(sd.inputs.dnsConfig, { namespaceId: `ns-${PREFIX}-namespace`, routingPolicy: "MULTIVALUE", dnsRecords: [{ type: "A", ttl: 10 }] });
                // An empty block plans a replacement on every update after the first (provider issue
                // #44285: the ForceNew failure_threshold does not round-trip when unset).
                assert.deepEqual(sd.inputs.healthCheckCustomConfig, { failureThreshold: 1 });
                const svc = one(result, "aws:ecs/service:Service", `${PREFIX}-${name}`);
                assert.deepEqual(svc.inputs.serviceRegistries, { registryArn: `arn:aws:servicediscovery:eu-west-1:123456789012:service/srv-${PREFIX}-${name}-dns` });
            }
            assert.equal(result.outputs?.prometheus.internalUrl, `http://prometheus.${PREFIX}.internal:9090`);
            assert.equal(result.outputs?.grafana.internalUrl, `http://grafana.${PREFIX}.internal:3000`);
        });

        it("opens no listener: operators get the SSM port-forwarding command instead", () => {
            assert.equal(all(result, "aws:lb/listener:Listener").length, 1, "only APFA's HTTP listener");
            assert.equal(all(result, "aws:lb/targetGroup:TargetGroup").length, 2, "only blue and green");
            const url = result.outputs?.grafana.operatorUrl ?? "";
            assert.match(url, /^http:\/\/localhost:3000 after: /);
            assert.match(url, /--service-name apfa-prod-aws-grafana /);
            assert.match(url, /AWS-StartPortForwardingSession --parameters portNumber=3000,localPortNumber=3000$/);
            for (const name of ["prometheus", "grafana"]) {
                const svc = one(result, "aws:ecs/service:Service", `${PREFIX}-${name}`);
                assert.equal(svc.inputs.enableExecuteCommand, true);
                assert.equal(svc.inputs.loadBalancers, undefined);
            }
        });

        it("runs each as one Fargate task in the private subnets, no public IP, rolling with circuit breaker", () => {
            for (const name of ["prometheus", "grafana"]) {
                const svc = one(result, "aws:ecs/service:Service", `${PREFIX}-${name}`);
                assert.equal(svc.inputs.name, `${PREFIX}-${name}`);
                assert.equal(svc.inputs.desiredCount, 1);
                const net = svc.inputs.networkConfiguration as { assignPublicIp: boolean; subnets: string[]; securityGroups: string[] };
                assert.equal(net.assignPublicIp, false);
                assert.deepEqual(net.subnets, [0, 1, 2].map((i) => `${PREFIX}-private-${i}-id`));
                assert.deepEqual(net.securityGroups, [`${PREFIX}-${name}-sg-id`]);
                assert.deepEqual(svc.inputs.deploymentCircuitBreaker, { enable: true, rollback: true });
            }
        });

        it("delivers the config files through a non-essential init container; the contents arrive byte for byte", () => {
            const expected: Record<string, Record<string, string>> = {
                prometheus: { "/etc/prometheus/prometheus.yml": PROMETHEUS_YML, "/etc/prometheus/rules/apfa.yml": RULES_YML },
                grafana: { "/etc/grafana/provisioning/datasources/apfa.yaml": DATASOURCE_YML, "/etc/grafana/dashboards/apfa/overview.json": DASHBOARD_JSON },
            };
            for (const [name, files] of Object.entries(expected)) {
                const td = one(result, "aws:ecs/taskDefinition:TaskDefinition", `${PREFIX}-${name}-task`);
                const [init, main] = containers(td);
                assert.deepEqual([init.name, init.essential, init.user], ["config-init", false, "0"]);
                assert.deepEqual(main.dependsOn, [{ containerName: "config-init", condition: "SUCCESS" }]);
                // Reconstruct every file: the main container's mount + the init container's write.
                const written = new Map<string, string>();
                const script = init.command?.[0] ?? "";
                for (const m of script.matchAll(/"\$(APFA_FILE_\d+)" \| base64 -d \| gzip -d > '\/apfa-files\/(\d+)\/([^']+)'/g)) {
                    const [, envName, index, relative] = m;
                    const volume = init.mountPoints?.find((mp) => mp.containerPath === `/apfa-files/${index}`)?.sourceVolume;
                    const mountPath = main.mountPoints?.find((mp) => mp.sourceVolume === volume)?.containerPath;
                    const value = init.environment?.find((e) => e.name === envName)?.value ?? "";
                    written.set(`${mountPath}/${relative}`, decodeFileContent(value));
                }
                assert.deepEqual(Object.fromEntries(written), files);
                for (const mp of main.mountPoints?.filter((x) => x.sourceVolume.startsWith("files-")) ?? []) {
                    assert.equal(mp.readOnly, true, `${name} mounts its config read-only`);
                }
            }
        });

        it("gives Prometheus an ECS-managed, encrypted gp3 EBS volume at its data path (not EFS), owned by its user", () => {
            const td = one(result, "aws:ecs/taskDefinition:TaskDefinition", `${PREFIX}-prometheus-task`);
            assert.deepEqual(td.inputs.volumes, [{ name: "files-0" }, { name: "data", configureAtLaunch: true }]);
            assert.ok(!JSON.stringify(td.inputs).includes("efsVolumeConfiguration"));
            const [init, main] = containers(td);
            assert.deepEqual(main.mountPoints?.find((m) => m.sourceVolume === "data"), { sourceVolume: "data", containerPath: "/prometheus", readOnly: false });
            assert.match(init.command?.[0] ?? "", /chown 65534 \/apfa-data/);
            const svc = one(result, "aws:ecs/service:Service", `${PREFIX}-prometheus`);
            const volume = svc.inputs.volumeConfiguration as { name: string; managedEbsVolume: Record<string, unknown> };
            assert.equal(volume.name, "data");
            assert.deepEqual(
                [volume.managedEbsVolume.sizeInGb, volume.managedEbsVolume.volumeType, volume.managedEbsVolume.encrypted, volume.managedEbsVolume.roleArn],
                [20, "gp3", true, `arn:aws:iam::123456789012:role/${PREFIX}-ebs-volumes`],
            );
            const attach = one(result, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", `${PREFIX}-ebs-volumes-managed-0`);
            assert.equal(attach.inputs.policyArn, "arn:aws:iam::aws:policy/service-role/AmazonECSInfrastructureRolePolicyForVolumes");
            const trust = JSON.parse(one(result, "aws:iam/role:Role", `${PREFIX}-ebs-volumes`).inputs.assumeRolePolicy as string) as PolicyDocument;
            assert.deepEqual(trust.Statement[0].Principal, { Service: "ecs.amazonaws.com" });
            assert.equal(one(result, "aws:ecs/service:Service", `${PREFIX}-grafana`).inputs.volumeConfiguration, undefined);
        });

        it("Grafana's secret env lives in Secrets Manager; only its execution role reads it; the value never appears in clear", () => {
            const secret = one(result, "aws:secretsmanager/secret:Secret", `${PREFIX}-grafana-gf-security-admin-password`);
            assert.equal(secret.inputs.namePrefix, `${PREFIX}/grafana/GF_SECURITY_ADMIN_PASSWORD-`);
            const version = one(result, "aws:secretsmanager/secretVersion:SecretVersion", `${PREFIX}-grafana-gf-security-admin-password-value`);
            assert.equal(version.inputs.secretString, "[secret]");
            assert.ok(!JSON.stringify(result).includes(ADMIN_PASSWORD), "the password is only ever a secret");
            const arn = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${PREFIX}/grafana/GF_SECURITY_ADMIN_PASSWORD-20260101000000000000000001-AbCdEf`;
            const [, main] = containers(one(result, "aws:ecs/taskDefinition:TaskDefinition", `${PREFIX}-grafana-task`));
            assert.deepEqual(main.secrets, [{ name: "GF_SECURITY_ADMIN_PASSWORD", valueFrom: arn }]);
            const grafanaExec = JSON.parse(one(result, "aws:iam/rolePolicy:RolePolicy", `${PREFIX}-grafana-execution-start`).inputs.policy as string) as PolicyDocument;
            assert.deepEqual(grafanaExec.Statement.find((s) => s.Sid === "ReadTaskSecrets")?.Resource, [arn]);
            const prometheusExec = one(result, "aws:iam/rolePolicy:RolePolicy", `${PREFIX}-prometheus-execution-start`).inputs.policy as string;
            assert.ok(!prometheusExec.includes("secretsmanager"), "Prometheus cannot read Grafana's secret");
        });

        it("only the scraper gets the ECS discovery role and is admitted to APFA's metrics port", () => {
            const discovery = all(result, "aws:iam/rolePolicy:RolePolicy").filter((p) => String(p.inputs.policy).includes("ecs:DescribeTasks"));
            assert.deepEqual(
                discovery.map((p) => p.name),
                [`${PREFIX}-prometheus-task-discovery`],
            );
            const taskRules = all(result, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.inputs.securityGroupId === `${PREFIX}-tasks-sg-id`);
            assert.deepEqual(taskRules.map((r) => `${r.inputs.fromPort} from ${r.inputs.referencedSecurityGroupId}`).sort(), [`8000 from ${PREFIX}-alb-sg-id`, `9100 from ${PREFIX}-prometheus-sg-id`]);
            for (const p of all(result, "aws:iam/rolePolicy:RolePolicy")) {
                assert.deepEqual(wildcardGrants(JSON.parse(p.inputs.policy as string) as PolicyDocument), [], p.name);
            }
        });

        it("the monitoring services reach each other on their ports and nothing else reaches them", () => {
            const ingress = (sg: string) =>
                all(result, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
                    .filter((r) => r.inputs.securityGroupId === sg)
                    .map((r) => `${r.inputs.fromPort} from ${r.inputs.referencedSecurityGroupId ?? r.inputs.cidrIpv4}`);
            assert.deepEqual(ingress(`${PREFIX}-prometheus-sg-id`), [`9090 from ${PREFIX}-grafana-sg-id`]);
            assert.deepEqual(ingress(`${PREFIX}-grafana-sg-id`), [`3000 from ${PREFIX}-prometheus-sg-id`]);
        });

        it("rounds a non-Fargate request up to the smallest Fargate size and every container passes the schema", () => {
            const grafana = one(result, "aws:ecs/taskDefinition:TaskDefinition", `${PREFIX}-grafana-task`);
            assert.deepEqual([grafana.inputs.cpu, grafana.inputs.memory], ["512", "1024"]);
            for (const td of all(result, "aws:ecs/taskDefinition:TaskDefinition")) {
                const volumes = ((td.inputs.volumes ?? []) as { name: string }[]).map((v) => v.name);
                assert.deepEqual(taskDefinitionProblems(JSON.parse(td.inputs.containerDefinitions as string), volumes), [], td.name);
            }
        });
    });

    describe("with operator CIDRs", () => {
        let result: HarnessResult;
        before(() => {
            result = runHarness(awsSettings({ operatorCidrs: OPERATORS }));
            assert.equal(result.error, undefined);
        });

        it("adds a listener per service on its operator port, forwarding to its own target group", () => {
            for (const [name, port, healthPath, tgName] of [
                // The operator target group checks readiness (Prometheus answers /-/ready after its WAL replay).
                // Its logical name keeps 5 characters of the service's: `<prefix>-prome` + 8 fits AWS's 32.
                ["prometheus", 9090, "/-/ready", `${PREFIX}-prome`],
                ["grafana", 3000, "/api/health", `${PREFIX}-grafa`],
            ] as const) {
                const listener = one(result, "aws:lb/listener:Listener", `${PREFIX}-${name}-operator`);
                assert.deepEqual([listener.inputs.port, listener.inputs.protocol], [port, "HTTP"]);
                const tgArn = `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/${tgName}/0123456789abcdef`;
                assert.deepEqual(listener.inputs.defaultActions, [{ type: "forward", targetGroupArn: tgArn }]);
                const tg = one(result, "aws:lb/targetGroup:TargetGroup", tgName);
                assert.equal((tg.inputs.healthCheck as { path: string }).path, healthPath);
                const svc = one(result, "aws:ecs/service:Service", `${PREFIX}-${name}`);
                assert.deepEqual(svc.inputs.loadBalancers, [{ targetGroupArn: tgArn, containerName: name, containerPort: port }]);
                assert.equal(result.outputs?.[name].operatorUrl, `http://${PREFIX}-alb-123456789.eu-west-1.elb.amazonaws.com:${port}`);
            }
        });

        it("opens each operator port on the ALB to the configured CIDRs only", () => {
            const albIngress = all(result, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
                .filter((r) => r.inputs.securityGroupId === `${PREFIX}-alb-sg-id`)
                .map((r) => `${r.inputs.fromPort} ${r.inputs.cidrIpv4}`)
                .sort();
            assert.deepEqual(albIngress, ["3000 198.51.100.0/24", "3000 203.0.113.7/32", "80 0.0.0.0/0", "9090 198.51.100.0/24", "9090 203.0.113.7/32"]);
        });

        it("serves the operator listeners over HTTPS with the TLS policy when there is a certificate", () => {
            const https = runHarness(awsSettings({ operatorCidrs: OPERATORS, certificateArn: CERT }));
            const listener = one(https, "aws:lb/listener:Listener", `${PREFIX}-grafana-operator`);
            assert.deepEqual([listener.inputs.protocol, listener.inputs.sslPolicy, listener.inputs.certificateArn], ["HTTPS", "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", CERT]);
            assert.match(https.outputs?.grafana.operatorUrl ?? "", /^https:\/\//);
        });
    });

    describe("specs the platform refuses", () => {
        for (const [bad, message] of [
            ["duplicate", /name "prometheus" is already used/],
            ["alb-port", /operatorPort 443 is APFA's own listener port/],
            ["file-in-data", /overlap the data volume/],
            ["too-big", /No Fargate size has 32 vCPU/],
        ] as const) {
            it(`${bad}: fails with a message naming the problem`, () => {
                const result = runHarness(awsSettings({ operatorCidrs: OPERATORS }), bad);
                assert.match(result.error ?? "", message);
            });
        }
    });
});
