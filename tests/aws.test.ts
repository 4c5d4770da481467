/**
 * The prod-aws stack, synthesized from its real stack file on Pulumi's mocks: what would be sent
 * to AWS, asserted resource by resource.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { PROJECT_ROOT } from "../scripts/synth/stack-config";
import { wildcardGrants, type PolicyDocument } from "../src/targets/aws/iam";
import { INTERFACE_ENDPOINT_SERVICES } from "../src/targets/aws/network";
import * as accessLogsModule from "../src/targets/aws/accessLogs";
import { parseAwsTargetOutputs } from "../src/targets/aws/outputs";
import { planSubnets } from "../src/targets/aws/subnets";
import { taskDefinitionProblems } from "./fixtures/aws/containerDefinitionSchema";
import { changedResources, find, ofType, readStackFile, synthStack, synthWarnings, type Plan, type PlannedResource } from "./helpers/synth";

const STACK = "prod-aws";
const PREFIX = "apfa-prod-aws";
const APP_PORT = 8000;
const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555";

const T = {
    vpc: "aws:ec2/vpc:Vpc",
    subnet: "aws:ec2/subnet:Subnet",
    nat: "aws:ec2/natGateway:NatGateway",
    eip: "aws:ec2/eip:Eip",
    routeTable: "aws:ec2/routeTable:RouteTable",
    route: "aws:ec2/route:Route",
    rta: "aws:ec2/routeTableAssociation:RouteTableAssociation",
    endpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
    sg: "aws:ec2/securityGroup:SecurityGroup",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    alb: "aws:lb/loadBalancer:LoadBalancer",
    listener: "aws:lb/listener:Listener",
    rule: "aws:lb/listenerRule:ListenerRule",
    tg: "aws:lb/targetGroup:TargetGroup",
    cluster: "aws:ecs/cluster:Cluster",
    taskDef: "aws:ecs/taskDefinition:TaskDefinition",
    service: "aws:ecs/service:Service",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    scalingTarget: "aws:appautoscaling/target:Target",
    scalingPolicy: "aws:appautoscaling/policy:Policy",
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
} as const;

/** The mocks give every resource the id `<logical name>-id`. */
const idOf = (logicalName: string) => `${logicalName}-id`;
const SG = { alb: idOf(`${PREFIX}-alb-sg`), tasks: idOf(`${PREFIX}-tasks-sg`), prometheus: idOf(`${PREFIX}-prometheus-sg`) };

function release(previewWeight: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { ...(readStackFile(STACK)["apfa:release"] as Record<string, unknown>), previewWeight, ...extra };
}

/**
 * The stack file's `apfa:aws` without its TLS settings, plus `extra`. The shipped prod-aws serves
 * HTTPS with a sample certificate; most tests here describe the plain-HTTP variant (with the
 * explicit opt-out, {@link HTTP_ONLY}) and add a certificate where HTTPS is the point.
 */
function awsSettings(extra: Record<string, unknown>) {
    const rest = { ...(readStackFile(STACK)["apfa:aws"] as Record<string, unknown>) };
    delete rest.certificateArn;
    delete rest.domainName;
    return { ...rest, ...extra };
}

/** prod-aws served over plain HTTP: no certificate, with the production opt-out. */
const HTTP_ONLY: Record<string, unknown> = { "apfa:aws": awsSettings({}), "apfa:allowPlainHttp": true };

interface Rule {
    name: string;
    securityGroupId: string;
    ipProtocol: string;
    fromPort?: number;
    toPort?: number;
    cidrIpv4?: string;
    referencedSecurityGroupId?: string;
}

function rules(plan: Plan, type: string, securityGroupId: string): Rule[] {
    return ofType(plan, type)
        .map((r) => ({ name: r.name, ...(r.inputs as Omit<Rule, "name">) }))
        .filter((r) => r.securityGroupId === securityGroupId);
}

/** A rule as a comparable string: "tcp:8000 from sg:<id>" / "tcp:80 from 0.0.0.0/0". */
function describeRule(r: Rule): string {
    const ports = r.ipProtocol === "-1" ? "all" : `${r.ipProtocol}:${r.fromPort}${r.toPort !== r.fromPort ? `-${r.toPort}` : ""}`;
    return `${ports} ${r.referencedSecurityGroupId ? `sg:${r.referencedSecurityGroupId}` : r.cidrIpv4}`;
}

/** Whether the provider's Args of a resource type have a `tags` input (read from the installed SDK). */
function hasTagsInput(type: string): boolean {
    const match = /^aws:([a-z0-9]+)\/([A-Za-z0-9]+):([A-Za-z0-9]+)$/.exec(type);
    assert.ok(match, `unexpected type token ${type}`);
    const [, mod, file, cls] = match;
    const dts = fs.readFileSync(path.join(PROJECT_ROOT, "node_modules", "@pulumi", "aws", mod, `${file}.d.ts`), "utf8");
    const args = new RegExp(`export interface ${cls}Args \\{([\\s\\S]*?)\\n\\}`).exec(dts);
    assert.ok(args, `no ${cls}Args in ${mod}/${file}.d.ts`);
    return /\n\s+tags\?:/.test(args[1]);
}


function parseJson<T>(r: PlannedResource, key: string): T {
    const text = r.inputs[key];
    assert.equal(typeof text, "string", `${r.name}.${key} is a JSON string`);
    return JSON.parse(text as string) as T;
}

describe("prod-aws stack (ECS Fargate target)", () => {
    let plan: Plan;
    before(() => {
        plan = synthStack(STACK, HTTP_ONLY);
    });

    it("synthesizes from Pulumi.prod-aws.yaml with only the AWS SDK loaded", () => {
        assert.ok(plan.resources.length > 60, `${plan.resources.length} resources`);
        assert.ok(plan.loadedPackages.includes("@pulumi/aws"));
        for (const other of ["@pulumi/azure-native", "@pulumi/gcp", "@pulumi/docker", "@pulumi/kubernetes"]) {
            assert.ok(!plan.loadedPackages.includes(other), `${other} must not load for the aws target`);
        }
    });

    it("parents every AWS resource under the cluster component or the monitoring component", () => {
        const components = plan.resources.filter((r) => !r.custom).map((r) => r.urn);
        for (const r of plan.resources.filter((x) => x.type.startsWith("aws:"))) {
            assert.ok(components.includes(r.parent), `${r.type} ${r.name} has parent ${r.parent}`);
        }
    });

    describe("network", () => {
        it("spans 3 AZs with one public and one private subnet each, addressed by the subnet plan", () => {
            const expected = planSubnets("10.40.0.0/16", 3);
            const azs = new Set<string>();
            for (const p of expected) {
                const pub = find(plan, T.subnet, `${PREFIX}-public-${p.index}`);
                const priv = find(plan, T.subnet, `${PREFIX}-private-${p.index}`);
                assert.equal(pub.inputs.cidrBlock, p.publicCidr);
                assert.equal(priv.inputs.cidrBlock, p.privateCidr);
                assert.equal(pub.inputs.availabilityZone, priv.inputs.availabilityZone);
                assert.equal(pub.inputs.mapPublicIpOnLaunch, false);
                azs.add(String(priv.inputs.availabilityZone));
            }
            assert.deepEqual([...azs], ["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
            assert.equal(ofType(plan, T.subnet).length, 6);
            const vpc = find(plan, T.vpc, `${PREFIX}-vpc`);
            assert.equal(vpc.inputs.cidrBlock, "10.40.0.0/16");
            assert.equal(vpc.inputs.enableDnsHostnames, true);
        });

        it("spans 2 AZs when configured so", () => {
            const two = synthStack(STACK, { ...HTTP_ONLY, "apfa:aws": awsSettings({ availabilityZoneCount: 2 }) });
            assert.equal(ofType(two, T.subnet).length, 4);
            assert.equal(ofType(two, T.nat).length, 2);
            for (const e of ofType(two, T.endpoint).filter((x) => x.inputs.vpcEndpointType === "Interface")) {
                assert.deepEqual(e.inputs.subnetIds, [0, 1].map((i) => idOf(`${PREFIX}-private-${i}`)), e.name);
            }
            const svc = find(two, T.service, `${PREFIX}-blue`).inputs.networkConfiguration as { subnets: string[] };
            assert.equal(svc.subnets.length, 2);
        });

        it("perAz: a NAT gateway per AZ, each private subnet routed through its own AZ's", () => {
            assert.equal(ofType(plan, T.nat).length, 3);
            assert.equal(ofType(plan, T.eip).length, 3);
            for (const i of [0, 1, 2]) {
                assert.equal(find(plan, T.nat, `${PREFIX}-nat-${i}`).inputs.subnetId, idOf(`${PREFIX}-public-${i}`));
                assert.equal(find(plan, T.rta, `${PREFIX}-private-${i}-rta`).inputs.routeTableId, idOf(`${PREFIX}-private-rt-${i}`));
                const route = find(plan, T.route, `${PREFIX}-private-${i}-default`);
                assert.deepEqual([route.inputs.destinationCidrBlock, route.inputs.natGatewayId], ["0.0.0.0/0", idOf(`${PREFIX}-nat-${i}`)]);
            }
            const pub = find(plan, T.route, `${PREFIX}-public-default`);
            assert.equal(pub.inputs.gatewayId, idOf(`${PREFIX}-igw`));
        });

        it("single: one NAT gateway and one private route table for every AZ", () => {
            const single = synthStack(STACK, { ...HTTP_ONLY, "apfa:aws": awsSettings({ natGateways: "single" }) });
            assert.equal(ofType(single, T.nat).length, 1);
            assert.equal(ofType(single, T.eip).length, 1);
            const privateTables = ofType(single, T.routeTable).filter((t) => t.name.includes("private"));
            assert.deepEqual(
                privateTables.map((t) => t.name),
                [`${PREFIX}-private-rt-0`],
            );
            for (const i of [0, 1, 2]) {
                assert.equal(find(single, T.rta, `${PREFIX}-private-${i}-rta`).inputs.routeTableId, idOf(`${PREFIX}-private-rt-0`));
            }
        });

        it("has an S3 gateway endpoint on the private route tables and interface endpoints for ECR, Logs and Secrets Manager", () => {
            const s3 = find(plan, T.endpoint, `${PREFIX}-s3`);
            assert.equal(s3.inputs.serviceName, "com.amazonaws.eu-west-1.s3");
            assert.equal(s3.inputs.vpcEndpointType, "Gateway");
            assert.deepEqual(s3.inputs.routeTableIds, [0, 1, 2].map((i) => idOf(`${PREFIX}-private-rt-${i}`)));
            const interfaces = ofType(plan, T.endpoint).filter((e) => e.inputs.vpcEndpointType === "Interface");
            assert.deepEqual(interfaces.map((e) => e.inputs.serviceName).sort(), INTERFACE_ENDPOINT_SERVICES.map((s) => `com.amazonaws.eu-west-1.${s}`).sort());
            assert.deepEqual(
                [...INTERFACE_ENDPOINT_SERVICES].sort(),
                ["ecr.api", "ecr.dkr", "logs", "secretsmanager"],
            );
            for (const e of interfaces) {
                assert.equal(e.inputs.privateDnsEnabled, true);
                assert.deepEqual(e.inputs.subnetIds, [0, 1, 2].map((i) => idOf(`${PREFIX}-private-${i}`)));
                assert.deepEqual(e.inputs.securityGroupIds, [idOf(`${PREFIX}-endpoints-sg`)]);
            }
        });

        it("endpoints accept HTTPS from inside the VPC only", () => {
            const sg = idOf(`${PREFIX}-endpoints-sg`);
            assert.deepEqual(rules(plan, T.ingress, sg).map(describeRule), ["tcp:443 10.40.0.0/16"]);
            assert.deepEqual(rules(plan, T.egress, sg), []);
        });

        it("empties the VPC's default security group", () => {
            const d = find(plan, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", `${PREFIX}-default-sg`);
            assert.deepEqual([d.inputs.ingress, d.inputs.egress], [[], []]);
        });
    });

    describe("security groups", () => {
        it("the ALB accepts only HTTP from the internet (no certificate) and sends only to the tasks on APFA's port", () => {
            assert.deepEqual(rules(plan, T.ingress, SG.alb).map(describeRule), ["tcp:80 0.0.0.0/0"]);
            assert.deepEqual(rules(plan, T.egress, SG.alb).map(describeRule), [`tcp:${APP_PORT} sg:${SG.tasks}`]);
        });

        it("APFA tasks accept the app port from the ALB and the metrics port (9100) from Prometheus only, and nothing else", () => {
            assert.deepEqual(rules(plan, T.ingress, SG.tasks).map(describeRule).sort(), [`tcp:${APP_PORT} sg:${SG.alb}`, `tcp:9100 sg:${SG.prometheus}`].sort());
            assert.deepEqual(rules(plan, T.egress, SG.prometheus).filter((r) => r.referencedSecurityGroupId === SG.tasks).map(describeRule), [`tcp:9100 sg:${SG.tasks}`]);
        });

        it("no rule anywhere opens APFA's port (or all ports) to 0.0.0.0/0 inbound", () => {
            for (const r of ofType(plan, T.ingress).map((x) => ({ name: x.name, ...(x.inputs as Omit<Rule, "name">) }))) {
                if (r.cidrIpv4 === "0.0.0.0/0") {
                    assert.ok(r.ipProtocol === "tcp" && [80, 443].includes(r.fromPort ?? -1) && r.fromPort === r.toPort, `${r.name}: ${describeRule(r)}`);
                    assert.equal(r.securityGroupId, SG.alb, `${r.name}: only the ALB is open to the internet`);
                }
            }
        });

        it("monitoring services accept nothing from outside the monitoring plane by default", () => {
            for (const sg of ofType(plan, T.sg).filter((s) => /-(alertmanager|prometheus|grafana)-sg$/.test(s.name))) {
                for (const r of rules(plan, T.ingress, idOf(sg.name))) {
                    assert.ok(r.referencedSecurityGroupId, `${r.name} admits ${describeRule(r)}`);
                    assert.match(r.referencedSecurityGroupId ?? "", /-(alertmanager|prometheus|grafana)-sg-id$/);
                }
            }
        });

        it("with a certificate the ALB also accepts HTTPS; with operator CIDRs it opens the operator ports to those only", () => {
            const https = synthStack(STACK, { ...HTTP_ONLY, "apfa:aws": awsSettings({ certificateArn: CERT, operatorCidrs: ["198.51.100.0/24"] }) });
            assert.deepEqual(rules(https, T.ingress, SG.alb).map(describeRule).sort(), [
                "tcp:3000 198.51.100.0/24",
                "tcp:443 0.0.0.0/0",
                "tcp:80 0.0.0.0/0",
                "tcp:9090 198.51.100.0/24",
                "tcp:9093 198.51.100.0/24",
            ]);
        });
    });

    describe("load balancer", () => {
        it("exports the CloudWatch dimensions of the ALB and of each slot's own target group as typed outputs", () => {
            // The mocks give each ALB/target group the arnSuffix the provider derives from its ARN
            // (`app/<name>/<id>`, `targetgroup/<name>/<id>`); the output must carry exactly those.
            const outputs = parseAwsTargetOutputs(plan.outputs.target);
            assert.equal(outputs.loadBalancerArnSuffix, `app/${PREFIX}-alb/0123456789abcdef`);
            assert.deepEqual(outputs.targetGroupArnSuffixes, {
                blue: `targetgroup/${PREFIX}-blue/0123456789abcdef`,
                green: `targetgroup/${PREFIX}-green/0123456789abcdef`,
            });
            assert.throws(() => parseAwsTargetOutputs({ ...outputs, loadBalancerArnSuffix: undefined }), /target\.loadBalancerArnSuffix/);
        });

        it("logs every request to a private, encrypted bucket that only ELB log delivery may write, expiring with the log retention", () => {
            const shipped = synthStack(STACK);
            const alb = find(shipped, T.alb, `${PREFIX}-alb`);
            assert.deepEqual(alb.inputs.accessLogs, { bucket: `${PREFIX}-alb-logs-id`, enabled: true, prefix: "alb" });
            const policy = find(shipped, "aws:s3/bucketPolicy:BucketPolicy", `${PREFIX}-alb-logs-policy`);
            assert.ok(alb.options.dependsOn.includes(policy.urn), "logging is enabled only once ELB may write");
            const doc = JSON.parse(policy.inputs.policy as string) as { Statement: { Sid: string; Effect: string; Principal: unknown; Resource: unknown }[] };
            const objects = `arn:aws:s3:::${PREFIX}-alb-logs/alb/AWSLogs/123456789012/*`;
            assert.deepEqual(
                doc.Statement.map((st) => [st.Sid, st.Effect, st.Principal, st.Resource]),
                [
                    ["ElbLogDelivery", "Allow", { Service: "logdelivery.elasticloadbalancing.amazonaws.com" }, objects],
                    // eu-west-1 predates August 2022: its regional ELB account delivers there.
                    ["ElbRegionalAccountLogDelivery", "Allow", { AWS: "arn:aws:iam::156460612806:root" }, objects],
                    ["DenyInsecureTransport", "Deny", "*", [`arn:aws:s3:::${PREFIX}-alb-logs`, `arn:aws:s3:::${PREFIX}-alb-logs/*`]],
                ],
            );
            const block = find(shipped, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", `${PREFIX}-alb-logs-private`).inputs;
            assert.deepEqual([block.blockPublicAcls, block.blockPublicPolicy, block.ignorePublicAcls, block.restrictPublicBuckets], [true, true, true, true]);
            const sse = find(shipped, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", `${PREFIX}-alb-logs-sse`);
            assert.deepEqual(sse.inputs.rules, [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }], "ALB logs accept SSE-S3 only");
            const expiry = find(shipped, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", `${PREFIX}-alb-logs-expiry`);
            assert.deepEqual(expiry.inputs.rules, [{ id: "expire-access-logs", status: "Enabled", filter: { prefix: "alb/" }, expiration: { days: 30 } }]);
        });

        it("a newer region gets only the service principal (no regional ELB account exists there)", () => {
            const { accessLogBucketPolicy, REGIONS_WITH_ELB_ACCOUNT } = accessLogsModule;
            assert.equal(REGIONS_WITH_ELB_ACCOUNT.has("ap-south-2"), false);
            const doc = JSON.parse(accessLogBucketPolicy("arn:aws:s3:::b", { partition: "aws", region: "ap-south-2", accountId: "210987654321" }, undefined)) as {
                Statement: { Sid: string }[];
            };
            assert.deepEqual(doc.Statement.map((st) => st.Sid), ["ElbLogDelivery", "DenyInsecureTransport"]);
        });

        it("a stack tagged production protects what a stray destroy would lose; other stacks can be torn down", () => {
            const shipped = synthStack(STACK);
            assert.equal(find(shipped, T.alb, `${PREFIX}-alb`).inputs.enableDeletionProtection, true);
            assert.equal(find(shipped, T.logGroup, `${PREFIX}-logs`).options.protect, true);
            assert.equal(find(shipped, "aws:s3/bucket:Bucket", `${PREFIX}-alb-logs`).options.protect, true);
            for (const secret of ofType(shipped, "aws:secretsmanager/secret:Secret")) {
                assert.equal(secret.options.protect, true, secret.name);
            }
            const staging = synthStack(STACK, { ...HTTP_ONLY, "apfa:tags": { environment: "staging" } });
            assert.equal(find(staging, T.alb, `${PREFIX}-alb`).inputs.enableDeletionProtection, false);
            assert.ok(staging.resources.every((r) => !r.options.protect), "nothing protected outside production");
            assert.equal(find(staging, "aws:s3/bucket:Bucket", `${PREFIX}-alb-logs`).inputs.forceDestroy, true);
        });

        it("every load balancer and target group name fits AWS's 32 characters with Pulumi's 8-character suffix, operator listeners included", () => {
            const operators = synthStack(STACK, { ...HTTP_ONLY, "apfa:aws": awsSettings({ operatorCidrs: ["198.51.100.0/24"] }) });
            const named = [...ofType(operators, T.tg), ...ofType(operators, T.alb)];
            assert.ok(named.length >= 5, named.map((r) => r.name).join(", "));
            for (const r of named) {
                assert.ok(r.name.length + 8 <= 32, `${r.name} (+8) is longer than 32`);
            }
            // The config bound is exactly what keeps the longest (a slot's) within the limit.
            const longest = Math.max(...named.map((r) => r.name.length - PREFIX.length));
            assert.equal(longest, "-green".length);
        });

        it("is an internet-facing ALB in the public subnets", () => {
            const alb = find(plan, T.alb, `${PREFIX}-alb`);
            assert.equal(alb.inputs.internal, false);
            assert.equal(alb.inputs.loadBalancerType, "application");
            assert.deepEqual(alb.inputs.subnets, [0, 1, 2].map((i) => idOf(`${PREFIX}-public-${i}`)));
            assert.deepEqual(alb.inputs.securityGroups, [SG.alb]);
            assert.equal(alb.inputs.dropInvalidHeaderFields, true);
        });

        it("has a blue and a green target group: ip targets, health check on /health at the traffic port wanting 200, 30 s drain, no stickiness", () => {
            for (const slot of ["blue", "green"]) {
                const tg = find(plan, T.tg, `${PREFIX}-${slot}`);
                assert.equal(tg.inputs.targetType, "ip");
                assert.equal(tg.inputs.port, APP_PORT);
                assert.equal(tg.inputs.deregistrationDelay, 30);
                const hc = tg.inputs.healthCheck as Record<string, unknown>;
                assert.deepEqual([hc.path, hc.port, hc.matcher, hc.protocol], ["/health", "traffic-port", "200", "HTTP"]);
                assert.deepEqual(tg.inputs.stickiness, { type: "lb_cookie", enabled: false });
            }
        });

        it("never sends users to APFA's metrics port: target groups and listeners use the app port, no rule needs the metrics path", () => {
            for (const slot of ["blue", "green"]) {
                assert.equal(find(plan, T.tg, `${PREFIX}-${slot}`).inputs.port, APP_PORT);
            }
            const metricsPort = 9100;
            for (const r of ofType(plan, T.rule)) {
                assert.doesNotMatch(JSON.stringify(r.inputs.conditions ?? []), /metrics/, `${r.name} matches on the metrics path`);
            }
            assert.ok(!rules(plan, T.egress, SG.alb).some((r) => r.fromPort === metricsPort), "the ALB cannot reach the metrics port");
        });

        it("carries the weights in one listener rule on the HTTP listener: 100/0 at rest", () => {
            const rule = find(plan, T.rule, `${PREFIX}-traffic`);
            assert.equal(rule.inputs.priority, 10);
            assert.deepEqual(rule.inputs.conditions, [{ pathPattern: { values: ["/*"] } }]);
            assert.equal(rule.inputs.listenerArn, `arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/alb/0123456789abcdef/${PREFIX}-http`);
            const forward = (rule.inputs.actions as { forward: { targetGroups: { arn: string; weight: number }[]; stickiness: unknown } }[])[0].forward;
            assert.deepEqual(
                forward.targetGroups.map((g) => [g.arn.split("/")[1], g.weight]),
                [
                    [`${PREFIX}-blue`, 100],
                    [`${PREFIX}-green`, 0],
                ],
            );
            assert.deepEqual(forward.stickiness, { enabled: false, duration: 1 });
            const http = find(plan, T.listener, `${PREFIX}-http`);
            assert.deepEqual([http.inputs.port, http.inputs.protocol], [80, "HTTP"]);
            assert.equal((http.inputs.defaultActions as { type: string }[])[0].type, "fixed-response");
            assert.equal(plan.outputs.trafficUrn, rule.urn);
        });

        it("sends 90/10 to blue/green with previewWeight 10", () => {
            const preview = synthStack(STACK, { ...HTTP_ONLY, "apfa:release": release(10) });
            const forward = (find(preview, T.rule, `${PREFIX}-traffic`).inputs.actions as { forward: { targetGroups: { weight: number }[] } }[])[0].forward;
            assert.deepEqual(
                forward.targetGroups.map((g) => g.weight),
                [90, 10],
            );
            assert.deepEqual(preview.outputs.weights, { blue: 90, green: 10 });
        });

        it("warns while deploying that the public listener is HTTP-only without a certificate, and says nothing with one", () => {
            const warnings = synthWarnings(STACK, HTTP_ONLY);
            assert.ok(
                warnings.some((w) => /public load balancer serves APFA over plain HTTP.*pulumi config set --path 'apfa:aws\.certificateArn'/.test(w)),
                warnings.join("\n"),
            );
            assert.ok(!synthWarnings(STACK, { ...HTTP_ONLY, "apfa:aws": awsSettings({ certificateArn: CERT }) }).some((w) => /plain HTTP/.test(w)));
        });

        it("with a certificate: HTTPS on 443 with the TLS 1.3 policy carries the rule, HTTP redirects to it", () => {
            const https = synthStack(STACK, { ...HTTP_ONLY, "apfa:aws": awsSettings({ certificateArn: CERT }) });
            const listener = find(https, T.listener, `${PREFIX}-https`);
            assert.deepEqual(
                [listener.inputs.port, listener.inputs.protocol, listener.inputs.sslPolicy, listener.inputs.certificateArn],
                [443, "HTTPS", "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", CERT],
            );
            const http = find(https, T.listener, `${PREFIX}-http`);
            assert.deepEqual(http.inputs.defaultActions, [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }]);
            assert.match(String(find(https, T.rule, `${PREFIX}-traffic`).inputs.listenerArn), /-https$/);
            assert.match(String(https.outputs.url), /^https:\/\//);
        });
    });

    describe("ECS", () => {
        it("runs a cluster with Container Insights and a log group with the configured retention", () => {
            const cluster = find(plan, T.cluster, `${PREFIX}-cluster`);
            assert.equal(cluster.inputs.name, PREFIX);
            assert.deepEqual(cluster.inputs.settings, [{ name: "containerInsights", value: "enabled" }]);
            const logs = find(plan, T.logGroup, `${PREFIX}-logs`);
            assert.deepEqual([logs.inputs.name, logs.inputs.retentionInDays], [`/ecs/${PREFIX}`, 30]);
        });

        it("gives each slot a Fargate task definition of 512 CPU units / 1024 MiB on LINUX/X86_64, logging to the stack's group", () => {
            for (const slot of ["blue", "green"]) {
                const td = find(plan, T.taskDef, `${PREFIX}-${slot}-task`);
                assert.deepEqual([td.inputs.cpu, td.inputs.memory, td.inputs.networkMode], ["512", "1024", "awsvpc"]);
                assert.deepEqual(td.inputs.requiresCompatibilities, ["FARGATE"]);
                assert.deepEqual(td.inputs.runtimePlatform, { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" });
                const [c] = parseJson<{ name: string; logConfiguration: { options: Record<string, string> }; environment: { name: string; value: string }[] }[]>(td, "containerDefinitions");
                assert.equal(c.logConfiguration.options["awslogs-group"], `/ecs/${PREFIX}`);
                assert.equal(c.environment.find((e) => e.name === "SLOT")?.value, slot);
            }
        });

        it("runs ARM64 tasks when configured so", () => {
            const arm = synthStack(STACK, { ...HTTP_ONLY, "apfa:aws": awsSettings({ cpuArchitecture: "ARM64" }) });
            for (const td of ofType(arm, T.taskDef)) {
                assert.equal((td.inputs.runtimePlatform as { cpuArchitecture: string }).cpuArchitecture, "ARM64", td.name);
            }
        });

        it("runs each slot as an ECS service in the private subnets without public IPs, in its target group", () => {
            for (const slot of ["blue", "green"]) {
                const svc = find(plan, T.service, `${PREFIX}-${slot}`);
                assert.equal(svc.inputs.name, `${PREFIX}-${slot}`);
                assert.equal(svc.inputs.launchType, "FARGATE");
                assert.deepEqual(svc.inputs.networkConfiguration, {
                    subnets: [0, 1, 2].map((i) => idOf(`${PREFIX}-private-${i}`)),
                    securityGroups: [SG.tasks],
                    assignPublicIp: false,
                });
                const [lb] = svc.inputs.loadBalancers as { targetGroupArn: string; containerName: string; containerPort: number }[];
                assert.deepEqual([lb.targetGroupArn.split("/")[1], lb.containerName, lb.containerPort], [`${PREFIX}-${slot}`, "apfa", APP_PORT]);
            }
        });

        it("no ECS service anywhere (monitoring included) gets a public IP or a public subnet", () => {
            for (const svc of ofType(plan, T.service)) {
                const net = svc.inputs.networkConfiguration as { assignPublicIp: boolean; subnets: string[] };
                assert.equal(net.assignPublicIp, false, svc.name);
                assert.ok(net.subnets.every((s) => s.includes("-private-")), svc.name);
            }
        });

        it("deploys slots rolling with circuit breaker and rollback, 100/200 %, a grace period, and waits for steady state", () => {
            for (const slot of ["blue", "green"]) {
                const svc = find(plan, T.service, `${PREFIX}-${slot}`);
                assert.deepEqual(svc.inputs.deploymentCircuitBreaker, { enable: true, rollback: true });
                assert.deepEqual([svc.inputs.deploymentMinimumHealthyPercent, svc.inputs.deploymentMaximumPercent], [100, 200]);
                assert.deepEqual(svc.inputs.deploymentConfiguration, { strategy: "ROLLING" });
                assert.equal(svc.inputs.healthCheckGracePeriodSeconds, 60);
                assert.equal(svc.inputs.waitForSteadyState, true);
                assert.equal(svc.inputs.propagateTags, "SERVICE");
            }
        });

        it("leaves desiredCount to autoscaling (ignoreChanges) and waits for the weighted rule before registering", () => {
            const ruleUrn = find(plan, T.rule, `${PREFIX}-traffic`).urn;
            for (const slot of ["blue", "green"]) {
                const svc = find(plan, T.service, `${PREFIX}-${slot}`);
                assert.deepEqual(svc.options.ignoreChanges, ["desiredCount"]);
                assert.ok(svc.options.dependsOn.includes(ruleUrn), "the target group is attached to the ALB first");
                assert.equal(svc.inputs.desiredCount, 4);
            }
        });
    });

    describe("create order: nothing starts before what it needs", () => {
        const urns = (p: Plan, type: string) => ofType(p, type).map((r) => r.urn);
        /** The dependencies of a resource the plan's URNs are missing from, as short names. */
        const missing = (r: PlannedResource, needed: readonly string[]) => needed.filter((u) => !r.options.dependsOn.includes(u)).map((u) => u.split("::").pop());

        /** Everything that makes private egress work: every route, route-table association and VPC endpoint, the IGW, the endpoints' ingress rule. */
        function egressReady(p: Plan): string[] {
            return [
                find(p, "aws:ec2/internetGateway:InternetGateway", `${PREFIX}-igw`).urn,
                ...urns(p, T.route),
                ...urns(p, T.rta),
                ...urns(p, T.endpoint),
                find(p, T.ingress, `${PREFIX}-endpoints-https-in`).urn,
            ];
        }

        it("every ECS service (APFA's and the monitoring ones) waits for the NAT routes, route-table associations and VPC endpoints", () => {
            for (const p of [plan, synthStack(STACK, { ...HTTP_ONLY, "apfa:aws": awsSettings({ natGateways: "single" }) })]) {
                const services = ofType(p, T.service);
                assert.deepEqual(
                    services.map((s) => s.name).sort(),
                    ["alertmanager", "blue", "grafana", "green", "prometheus"].map((n) => `${PREFIX}-${n}`),
                );
                const needed = egressReady(p);
                // 1 IGW + public route + private routes, 3 public + 3 private associations, 5 endpoints, 1 rule.
                assert.ok(needed.length >= 14, `${needed.length} egress resources`);
                for (const svc of services) {
                    assert.deepEqual(missing(svc, needed), [], `${svc.name} can start before its subnets reach ECR/Logs`);
                }
            }
        });

        it("the internet-facing ALB waits for the internet gateway and the public routes", () => {
            const alb = find(plan, T.alb, `${PREFIX}-alb`);
            const needed = [
                find(plan, "aws:ec2/internetGateway:InternetGateway", `${PREFIX}-igw`).urn,
                find(plan, T.route, `${PREFIX}-public-default`).urn,
                ...[0, 1, 2].map((i) => find(plan, T.rta, `${PREFIX}-public-${i}-rta`).urn),
            ];
            assert.deepEqual(missing(alb, needed), []);
        });

        it("APFA's services wait for their security-group rules (egress, ALB ↔ tasks), the log group and the execution role's grants", () => {
            const needed = [
                find(plan, T.egress, `${PREFIX}-tasks-out`).urn,
                find(plan, T.ingress, `${PREFIX}-tasks-from-alb`).urn,
                find(plan, T.egress, `${PREFIX}-alb-to-tasks`).urn,
                find(plan, T.logGroup, `${PREFIX}-logs`).urn,
                find(plan, T.rolePolicy, `${PREFIX}-app-execution-start`).urn,
            ];
            for (const slot of ["blue", "green"]) {
                assert.deepEqual(missing(find(plan, T.service, `${PREFIX}-${slot}`), needed), [], slot);
            }
        });

        it("a service with a data volume waits for the EBS infrastructure role's policy attachment", () => {
            const attachments = urns(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((u) => u.endsWith(`::${PREFIX}-ebs-volumes-managed-0`));
            assert.equal(attachments.length, 1);
            const withVolumes = ofType(plan, T.service).filter((s) => s.inputs.volumeConfiguration !== undefined);
            assert.ok(withVolumes.some((s) => s.name === `${PREFIX}-prometheus`), "Prometheus has a data volume");
            for (const svc of withVolumes) {
                assert.match(JSON.stringify(svc.inputs.volumeConfiguration), new RegExp(`role/${PREFIX}-ebs-volumes"`));
                assert.deepEqual(missing(svc, attachments), [], `${svc.name} can ask for its volume before the role may create it`);
            }
        });

        it("a service whose tasks read a secret waits for that secret's version (ECS reads AWSCURRENT at task start)", () => {
            const secrets = ofType(plan, "aws:secretsmanager/secret:Secret");
            const versions = ofType(plan, "aws:secretsmanager/secretVersion:SecretVersion");
            let checked = 0;
            for (const svc of ofType(plan, T.service)) {
                const family = /task-definition\/([^:]+):/.exec(String(svc.inputs.taskDefinition))?.[1];
                const td = ofType(plan, T.taskDef).find((t) => t.inputs.family === family);
                assert.ok(td, `${svc.name}'s task definition`);
                const refs = parseJson<{ secrets?: { valueFrom: string }[] }[]>(td, "containerDefinitions").flatMap((c) => c.secrets ?? []);
                for (const ref of refs) {
                    if (ref.valueFrom.includes(":secret:rds!")) {
                        // RDS creates its managed master secret with the cluster: the task definition takes the ARN from it.
                        assert.ok(td.options.dependsOn.includes(find(plan, "aws:rds/cluster:Cluster", `${PREFIX}-database-cluster`).urn), `${td.name} before the cluster`);
                        continue;
                    }
                    const secret = secrets.find((x) => ref.valueFrom.includes(`:secret:${String(x.inputs.namePrefix)}`));
                    assert.ok(secret, `the secret behind ${ref.valueFrom}`);
                    const version = versions.find((v) => v.inputs.secretId === idOf(secret.name));
                    assert.ok(version, `${secret.name} has a version`);
                    assert.deepEqual(missing(svc, [version.urn]), [], `${svc.name} can start before ${secret.name} has a value`);
                    checked++;
                }
            }
            assert.equal(checked, 1, "Grafana's admin password");
            assert.ok(find(plan, T.service, `${PREFIX}-grafana`).options.dependsOn.includes(versions[0].urn));
        });

        it("the monitoring services wait for their outbound rule and the log group; with operator listeners also for the ALB's path to them", () => {
            const logs = find(plan, T.logGroup, `${PREFIX}-logs`).urn;
            for (const name of ["prometheus", "grafana"]) {
                const svc = find(plan, T.service, `${PREFIX}-${name}`);
                assert.deepEqual(missing(svc, [find(plan, T.egress, `${PREFIX}-${name}-https-out`).urn, logs]), [], name);
            }
            const operators = synthStack(STACK, { ...HTTP_ONLY, "apfa:aws": awsSettings({ operatorCidrs: ["198.51.100.0/24"] }) });
            for (const name of ["prometheus", "grafana"]) {
                const needed = [
                    find(operators, T.listener, `${PREFIX}-${name}-operator`).urn,
                    find(operators, T.egress, `${PREFIX}-${name}-alb-out`).urn,
                    find(operators, T.ingress, `${PREFIX}-${name}-from-alb`).urn,
                ];
                assert.deepEqual(missing(find(operators, T.service, `${PREFIX}-${name}`), needed), [], name);
            }
        });

        it("the EBS infrastructure role trusts ECS exactly as AWS documents it (no condition keys ECS may not send)", () => {
            const trust = parseJson<PolicyDocument>(find(plan, T.role, `${PREFIX}-ebs-volumes`), "assumeRolePolicy");
            assert.deepEqual(trust.Statement[0].Principal, { Service: "ecs.amazonaws.com" });
            assert.equal(trust.Statement[0].Condition, undefined);
        });
    });

    describe("autoscaling", () => {
        it("a replaced slot service gets its scaling registration and policy made again (replaceWith)", () => {
            for (const slot of ["blue", "green"]) {
                const service = find(plan, T.service, `${PREFIX}-${slot}`);
                const target = find(plan, T.scalingTarget, `${PREFIX}-${slot}-scaling`);
                assert.deepEqual(target.options.replaceWith, [service.urn]);
                assert.deepEqual(find(plan, T.scalingPolicy, `${PREFIX}-${slot}-cpu`).options.replaceWith, [target.urn]);
            }
        });

        it("only the idle slot's service may be deleted before its replacement; the serving slot's replacement stops on its name", () => {
            assert.deepEqual(
                [find(plan, T.service, `${PREFIX}-blue`).options.deleteBeforeReplace, find(plan, T.service, `${PREFIX}-green`).options.deleteBeforeReplace],
                [false, true],
            );
            const during = synthStack(STACK, { ...HTTP_ONLY, "apfa:release": release(10) });
            assert.deepEqual(
                [find(during, T.service, `${PREFIX}-blue`).options.deleteBeforeReplace, find(during, T.service, `${PREFIX}-green`).options.deleteBeforeReplace],
                [false, false],
                "while both slots serve, neither may go first",
            );
        });

        it("scales each slot between 4 and 16 tasks, tracking 70 % average CPU with both cooldowns", () => {
            for (const slot of ["blue", "green"]) {
                const target = find(plan, T.scalingTarget, `${PREFIX}-${slot}-scaling`);
                assert.deepEqual(
                    [target.inputs.minCapacity, target.inputs.maxCapacity, target.inputs.resourceId, target.inputs.scalableDimension, target.inputs.serviceNamespace],
                    [4, 16, `service/${PREFIX}/${PREFIX}-${slot}`, "ecs:service:DesiredCount", "ecs"],
                );
                const policy = find(plan, T.scalingPolicy, `${PREFIX}-${slot}-cpu`);
                assert.equal(policy.inputs.policyType, "TargetTrackingScaling");
                assert.equal(policy.inputs.resourceId, `service/${PREFIX}/${PREFIX}-${slot}`);
                assert.deepEqual(policy.inputs.targetTrackingScalingPolicyConfiguration, {
                    targetValue: 70,
                    predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
                    scaleOutCooldown: 60,
                    scaleInCooldown: 300,
                    disableScaleIn: false,
                });
            }
        });
    });

    describe("capacity follows the weight (apfa:release.<slot>.minReplicas)", () => {
        it("apfa:release.green.minReplicas 8 makes green's scalable target 8..16 and leaves blue's at 4..16", () => {
            const base = release(0);
            const green = base.green as Record<string, unknown>;
            const floored = synthStack(STACK, { ...HTTP_ONLY, "apfa:release": { ...base, green: { ...green, minReplicas: 8 } } });
            const bounds = (slot: string) => {
                const target = find(floored, T.scalingTarget, `${PREFIX}-${slot}-scaling`);
                return [target.inputs.minCapacity, target.inputs.maxCapacity];
            };
            assert.deepEqual(bounds("green"), [8, 16]);
            assert.deepEqual(bounds("blue"), [4, 16]);
            // Only green's scaling changes; its service's starting count follows the floor but is ignored once it exists.
            const unfloored = synthStack(STACK, { ...HTTP_ONLY, "apfa:release": base });
            assert.deepEqual(changedResources(unfloored, floored), [`${T.scalingTarget}::${PREFIX}-green-scaling`, `${T.service}::${PREFIX}-green`]);
            const service = find(floored, T.service, `${PREFIX}-green`);
            assert.deepEqual({ ...find(unfloored, T.service, `${PREFIX}-green`).inputs, desiredCount: 8 }, service.inputs);
            assert.deepEqual(service.options.ignoreChanges, ["desiredCount"]);
        });

        it("a floor at or under apfa:scaling.minReplicas changes nothing; a scaled-down slot stays at 0..0 whatever its floor", () => {
            const base = release(0);
            const green = base.green as Record<string, unknown>;
            const unfloored = synthStack(STACK, { ...HTTP_ONLY, "apfa:release": base });
            const atMinimum = synthStack(STACK, { ...HTTP_ONLY, "apfa:release": { ...base, green: { ...green, minReplicas: 4 } } });
            assert.deepEqual(changedResources(unfloored, atMinimum), []);
            const down = synthStack(STACK, { ...HTTP_ONLY, "apfa:release": { ...base, green: { ...green, minReplicas: 8, scaledDown: true } } });
            const target = find(down, T.scalingTarget, `${PREFIX}-green-scaling`);
            assert.deepEqual([target.inputs.minCapacity, target.inputs.maxCapacity], [0, 0]);
            assert.equal(find(down, T.service, `${PREFIX}-green`).inputs.desiredCount, 0);
        });
    });

    describe("blast radius of a release step", () => {
        it("10 % → 50 % changes only the listener rule", () => {
            const at10 = synthStack(STACK, { ...HTTP_ONLY, "apfa:release": release(10) });
            const at50 = synthStack(STACK, { ...HTTP_ONLY, "apfa:release": release(50) });
            assert.deepEqual(changedResources(at10, at50), [`${T.rule}::${PREFIX}-traffic`]);
        });

        it("scaling the idle slot down (end of a rollback window) changes only its scaling bounds to 0..0", () => {
            const base = release(0);
            const green = base.green as Record<string, unknown>;
            const up = synthStack(STACK, { ...HTTP_ONLY, "apfa:release": base });
            const down = synthStack(STACK, { ...HTTP_ONLY, "apfa:release": { ...base, green: { ...green, scaledDown: true } } });
            assert.deepEqual(changedResources(up, down), [`${T.scalingTarget}::${PREFIX}-green-scaling`, `${T.service}::${PREFIX}-green`]);
            const target = find(down, T.scalingTarget, `${PREFIX}-green-scaling`);
            assert.deepEqual([target.inputs.minCapacity, target.inputs.maxCapacity], [0, 0]);
            // The service's only difference is its starting count, which Pulumi ignores after creation.
            const [before, after] = [find(up, T.service, `${PREFIX}-green`), find(down, T.service, `${PREFIX}-green`)];
            assert.deepEqual({ ...before.inputs, desiredCount: 0 }, after.inputs);
            assert.deepEqual(after.options.ignoreChanges, ["desiredCount"]);
            // Its target group stays, at weight 0.
            const forward = (find(down, T.rule, `${PREFIX}-traffic`).inputs.actions as { forward: { targetGroups: { weight: number }[] } }[])[0].forward;
            assert.deepEqual(
                forward.targetGroups.map((g) => g.weight),
                [100, 0],
            );
        });

        it("rollback (10 % → 0 %) changes only the listener rule", () => {
            const at10 = synthStack(STACK, { ...HTTP_ONLY, "apfa:release": release(10) });
            const at0 = synthStack(STACK, { ...HTTP_ONLY, "apfa:release": release(0) });
            assert.deepEqual(changedResources(at10, at0), [`${T.rule}::${PREFIX}-traffic`]);
        });
    });

    describe("tags", () => {
        it("every resource whose type takes tags gets Name, the stack identity and the stack's tags", () => {
            const checked = new Set<string>();
            for (const r of plan.resources.filter((x) => x.custom && x.type.startsWith("aws:"))) {
                if (!hasTagsInput(r.type)) {
                    continue;
                }
                checked.add(r.type);
                const tags = r.inputs.tags as Record<string, string> | undefined;
                assert.ok(tags, `${r.type} ${r.name} has no tags`);
                assert.equal(tags.project, "apfa", r.name);
                assert.equal(tags.stack, STACK, r.name);
                assert.equal(tags["managed-by"], "pulumi", r.name);
                assert.equal(tags.environment, "production", r.name);
                assert.equal(tags.owner, "platform-team", r.name);
                assert.match(tags.Name ?? "", new RegExp(`^/?(ecs/)?${PREFIX}`), r.name);
            }
            // The check really covered the taggable kinds (and the d.ts reader works).
            for (const type of [T.vpc, T.subnet, T.nat, T.sg, T.ingress, T.alb, T.tg, T.rule, T.listener, T.cluster, T.service, T.taskDef, T.role, T.logGroup, T.scalingTarget]) {
                assert.ok(checked.has(type), `${type} was checked`);
            }
            assert.equal(hasTagsInput(T.rolePolicy), false);
            assert.equal(hasTagsInput(T.route), false);
        });
    });

    describe("IAM", () => {
        it("every policy document parses as JSON and grants no * action on * resource", () => {
            const docs: [string, PolicyDocument][] = [
                ...ofType(plan, T.rolePolicy).map((r): [string, PolicyDocument] => [r.name, parseJson<PolicyDocument>(r, "policy")]),
                ...ofType(plan, T.role).map((r): [string, PolicyDocument] => [r.name, parseJson<PolicyDocument>(r, "assumeRolePolicy")]),
            ];
            assert.ok(docs.length >= 8);
            for (const [name, doc] of docs) {
                assert.equal(doc.Version, "2012-10-17", name);
                assert.deepEqual(wildcardGrants(doc), [], `${name} grants * on *`);
                for (const s of doc.Statement) {
                    assert.ok(!s.Action.includes("*"), `${name}/${s.Sid}: bare * action`);
                }
            }
        });

        it("APFA's execution role pulls only the stack's ECR repository and writes only the stack's log group; its task role has no grants", () => {
            const doc = parseJson<PolicyDocument>(find(plan, T.rolePolicy, `${PREFIX}-app-execution-start`), "policy");
            const by = Object.fromEntries(doc.Statement.map((s) => [s.Sid, s]));
            assert.deepEqual(by.PullTaskImages.Resource, ["arn:aws:ecr:eu-west-1:123456789012:repository/apfa"]);
            assert.deepEqual(by.WriteTaskLogs.Resource, [`arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/${PREFIX}:*`]);
            assert.equal(
                ofType(plan, T.rolePolicy).filter((p) => p.name.startsWith(`${PREFIX}-app-task`)).length,
                0,
            );
        });

        it("only Grafana's execution role may read Grafana's secret, and only that secret", () => {
            const secret = ofType(plan, "aws:secretsmanager/secret:Secret");
            assert.equal(secret.length, 1);
            const readers = ofType(plan, T.rolePolicy).filter((p) => String(p.inputs.policy).includes(":secret:apfa-prod-aws/grafana/"));
            assert.deepEqual(
                readers.map((r) => r.name),
                [`${PREFIX}-grafana-execution-start`],
            );
            const stmt = parseJson<PolicyDocument>(readers[0], "policy").Statement.find((s) => s.Sid === "ReadTaskSecrets");
            assert.equal(stmt?.Resource?.length, 1);
            assert.match(stmt?.Resource?.[0] ?? "", /:secret:apfa-prod-aws\/grafana\/GF_SECURITY_ADMIN_PASSWORD-/);
        });

        it("the Grafana password reaches AWS only as a Pulumi secret (the secret version), never in a task definition", () => {
            assert.ok(plan.secretInputs.some((p) => p.startsWith("aws:secretsmanager/secretVersion:SecretVersion::") && p.endsWith(".secretString")));
            // The mocks make the generated password "mock-password-<name>": it must appear nowhere in clear.
            assert.ok(!JSON.stringify(plan).includes("mock-password"));
            const grafana = ofType(plan, T.taskDef).find((t) => t.name.endsWith("-grafana-task"));
            assert.ok(grafana, "Grafana runs on ECS");
            const containers = parseJson<{ name: string; secrets?: { name: string; valueFrom: string }[] }[]>(grafana, "containerDefinitions");
            const secrets = containers.find((c) => c.name === "grafana")?.secrets ?? [];
            assert.deepEqual(
                secrets.map((s) => s.name),
                ["GF_SECURITY_ADMIN_PASSWORD"],
            );
            assert.match(secrets[0].valueFrom, /^arn:aws:secretsmanager:/);
        });
    });

    describe("container definitions", () => {
        it("with a Docker Hub mirror, the monitoring tasks pull through it and may fill its cache", () => {
            const mirror = "210987654321.dkr.ecr.eu-west-1.amazonaws.com/docker-hub";
            const mirrored = synthStack(STACK, { ...HTTP_ONLY, "apfa:monitoring": { ...(readStackFile(STACK)["apfa:monitoring"] as object), imageRegistry: mirror } });
            const containers = parseJson<{ name: string; image: string }[]>(find(mirrored, T.taskDef, `${PREFIX}-prometheus-task`), "containerDefinitions");
            assert.equal(containers.find((c) => c.name === "prometheus")?.image, `${mirror}/prom/prometheus:v3.16.0`);
            const policy = JSON.parse(find(mirrored, T.rolePolicy, `${PREFIX}-prometheus-execution-start`).inputs.policy as string) as {
                Statement: { Sid: string; Resource: string[] }[];
            };
            const fill = policy.Statement.find((st) => st.Sid === "FillPullThroughCache");
            assert.deepEqual(fill?.Resource, ["arn:aws:ecr:eu-west-1:210987654321:repository/docker-hub/prom/prometheus"]);
        });

        it("every task definition's containers (APFA, monitoring, init) pass the ECS schema and Fargate's rules", () => {
            const tds = ofType(plan, T.taskDef);
            assert.ok(tds.length >= 2);
            for (const td of tds) {
                const volumes = ((td.inputs.volumes ?? []) as { name: string }[]).map((v) => v.name);
                assert.deepEqual(taskDefinitionProblems(parseJson(td, "containerDefinitions"), volumes), [], td.name);
            }
        });
    });

    describe("outputs", () => {
        it("url, weights and the target outputs: cluster, services, target groups, listener rule, ALB, VPC", () => {
            assert.equal(plan.outputs.url, `http://${PREFIX}-alb-123456789.eu-west-1.elb.amazonaws.com`);
            assert.deepEqual(plan.outputs.weights, { blue: 100, green: 0 });
            const target = plan.outputs.target as Record<string, unknown>;
            assert.equal(target.clusterName, PREFIX);
            assert.deepEqual(target.serviceNames, { blue: `${PREFIX}-blue`, green: `${PREFIX}-green` });
            assert.deepEqual(Object.keys(target.targetGroupArns as object), ["blue", "green"]);
            assert.match(String(target.listenerRuleArn), /listener-rule\/app\//);
            assert.equal(target.albDnsName, `${PREFIX}-alb-123456789.eu-west-1.elb.amazonaws.com`);
            assert.equal(target.vpcId, idOf(`${PREFIX}-vpc`));
        });

        it("uses the configured domain for the url", () => {
            const withDomain = synthStack(STACK, { ...HTTP_ONLY, "apfa:aws": awsSettings({ domainName: "apfa.example.com", certificateArn: CERT }) });
            assert.equal(withDomain.outputs.url, "https://apfa.example.com");
        });
    });
});
