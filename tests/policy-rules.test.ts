/**
 * Every rule of the policy pack proven to fire: for each rule a small hand-written fixture that
 * violates it (the test names the message it must print) and one that passes, run through the
 * CLI-less harness exactly as a stack's plan is.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { runPolicies, type PackConfig, type PlanResource } from "../policy/harness";
import { RULES, type Rule } from "../policy/rules";
import { PROJECT_ROOT } from "../scripts/synth/stack-config";

type Inputs = Record<string, unknown>;
const r = (type: string, name: string, inputs: Inputs, options: PlanResource["options"] = {}, extra: Partial<PlanResource> = {}): PlanResource => ({
    type,
    name,
    inputs,
    options,
    urn: `urn:pulumi:test::apfa::${type}::${name}`,
    ...extra,
});
const urn = (type: string, name: string) => `urn:pulumi:test::apfa::${type}::${name}`;
const prod = { environment: "production" };

// --- reusable pieces ------------------------------------------------------------------------
const ingress = (cidrIpv4: string, fromPort: number, toPort = fromPort, ipProtocol = "tcp") =>
    r("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "in", { cidrIpv4, fromPort, toPort, ipProtocol, securityGroupId: "sg-1" });
const policyDoc = (statement: Inputs) => JSON.stringify({ Version: "2012-10-17", Statement: [statement] });
const container = (extra: Inputs = {}) => ({
    name: "app",
    image: "registry.example.com/apfa:1.2.3",
    readinessProbe: { httpGet: { path: "/health", port: 8000 } },
    livenessProbe: { httpGet: { path: "/health", port: 8000 } },
    resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "1Gi" } },
    securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ["ALL"] } },
    ...extra,
});
const deployment = (name: string, containerExtra: Inputs = {}, spec: Inputs = {}, podExtra: Inputs = {}) =>
    r("kubernetes:apps/v1:Deployment", name, {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace: "apfa", labels: prod },
        spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [container(containerExtra)], ...podExtra } }, ...spec },
    });
const service = (name: string, type: string) => r("kubernetes:core/v1:Service", name, { metadata: { name, namespace: "apfa" }, spec: { type, ports: [{ port: 80 }] } });
const apfaRelease = (values: Inputs, name = "apfa-blue") =>
    r("kubernetes:helm.sh/v3:Release", name, { chart: "./charts/apfa", name, namespace: "apfa", values: { image: "registry.example.com/apfa:1.2.3", autoscaling: { enabled: true, minReplicas: 4, maxReplicas: 16, targetCPUUtilizationPercentage: 70 }, ...values } });
const taskDef = (containers: Inputs[]) => r("aws:ecs/taskDefinition:TaskDefinition", "task", { containerDefinitions: JSON.stringify(containers), family: "apfa" });
const ecsService = (name: string, extra: Inputs = {}) =>
    r("aws:ecs/service:Service", name, {
        name,
        loadBalancers: [{ containerName: "apfa", containerPort: 8000, targetGroupArn: "arn:tg" }],
        networkConfiguration: { assignPublicIp: false, subnets: ["a", "b"] },
        deploymentCircuitBreaker: { enable: true, rollback: true },
        ...extra,
    });
const scalingTarget = (service: string, minCapacity: number, maxCapacity: number) =>
    r("aws:appautoscaling/target:Target", `${service}-scaling`, { resourceId: `service/apfa/${service}`, minCapacity, maxCapacity, scalableDimension: "ecs:service:DesiredCount", serviceNamespace: "ecs" });
const scalingPolicy = (service: string) =>
    r("aws:appautoscaling/policy:Policy", `${service}-cpu`, {
        resourceId: `service/apfa/${service}`,
        policyType: "TargetTrackingScaling",
        targetTrackingScalingPolicyConfiguration: { targetValue: 70, predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" } },
    });
const bucket = r("aws:s3/bucket:Bucket", "logs", { tags: prod }, { protect: true });
const bucketDeps = { dependsOn: [urn("aws:s3/bucket:Bucket", "logs")] };
const sse = r("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "logs-sse", { bucket: "logs", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] }, bucketDeps);
const publicAccessBlock = (all: boolean) =>
    r("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "logs-private", { bucket: "logs", blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: all }, bucketDeps);
const aks = (extra: Inputs = {}) =>
    r("azure-native:containerservice:ManagedCluster", "aks", {
        disableLocalAccounts: true,
        aadProfile: { managed: true, enableAzureRBAC: true },
        oidcIssuerProfile: { enabled: true },
        securityProfile: { workloadIdentity: { enabled: true } },
        networkProfile: { networkPolicy: "cilium" },
        agentPoolProfiles: [{ name: "system", mode: "System", availabilityZones: ["1", "2", "3"] }],
        tags: prod,
        ...extra,
    });
const agentPool = (name: string, zones: string[]) => r("azure-native:containerservice:AgentPool", name, { agentPoolName: name, mode: "User", availabilityZones: zones, tags: prod });
const gke = (extra: Inputs = {}) =>
    r("gcp:container/cluster:Cluster", "gke", {
        location: "europe-west1",
        privateClusterConfig: { enablePrivateNodes: true },
        workloadIdentityConfig: { workloadPool: "p.svc.id.goog" },
        nodeConfig: { workloadMetadataConfig: { mode: "GKE_METADATA" } },
        datapathProvider: "ADVANCED_DATAPATH",
        enableLegacyAbac: false,
        resourceLabels: prod,
        ...extra,
    });
const nodePool = (extra: Inputs = {}) =>
    r("gcp:container/nodePool:NodePool", "pool", {
        nodeConfig: { serviceAccount: "nodes@p.iam.gserviceaccount.com", workloadMetadataConfig: { mode: "GKE_METADATA" }, shieldedInstanceConfig: { enableSecureBoot: true } },
        management: { autoRepair: true, autoUpgrade: true },
        ...extra,
    });
const dockerContainer = (name: string, extra: Inputs = {}) =>
    r("docker:index/container:Container", name, { image: "sha256:" + "a".repeat(64), ports: [{ internal: 8080, external: 8000, ip: "127.0.0.1" }], healthcheck: { tests: ["CMD", "true"] }, restart: "unless-stopped", ...extra });
const netpol = (name: string, spec: Inputs) => r("kubernetes:networking.k8s.io/v1:NetworkPolicy", name, { metadata: { name, namespace: "apfa" }, spec });
const pdb = (selector: Inputs) => r("kubernetes:policy/v1:PodDisruptionBudget", "pdb", { metadata: { name: "pdb", namespace: "apfa" }, spec: { maxUnavailable: 1, selector: { matchLabels: selector } } });

interface Case {
    readonly fail: PlanResource[];
    readonly pass: PlanResource[];
    /** What the violation must say. */
    readonly message: RegExp;
    readonly config?: PackConfig;
    /** Config of the passing fixture when it differs (the budget rule passes on a bigger budget). */
    readonly passConfig?: PackConfig;
}

const CASES: Record<string, Case> = {
    "aws-sg-internet-ingress-entry-ports": { fail: [ingress("0.0.0.0/0", 22)], pass: [ingress("0.0.0.0/0", 443), ingress("10.0.0.0/16", 22)], message: /tcp 22-22 to 0\.0\.0\.0\/0/ },
    "aws-no-public-ip-on-tasks": {
        fail: [ecsService("svc", { networkConfiguration: { assignPublicIp: true, subnets: ["a", "b"] } })],
        pass: [ecsService("svc"), r("aws:ec2/subnet:Subnet", "s", { mapPublicIpOnLaunch: false })],
        message: /assignPublicIp is true/,
    },
    "aws-alb-tls": {
        fail: [
            r("aws:lb/listener:Listener", "https", { protocol: "HTTPS", port: 443, sslPolicy: "ELBSecurityPolicy-2016-08" }),
            r("aws:lb/listener:Listener", "http", { protocol: "HTTP", port: 80, defaultActions: [{ type: "forward", targetGroupArn: "arn" }], tags: prod }),
        ],
        pass: [
            r("aws:lb/listener:Listener", "https", { protocol: "HTTPS", port: 443, sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" }),
            r("aws:lb/listener:Listener", "http", { protocol: "HTTP", port: 80, defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }], tags: prod }),
        ],
        message: /below 1\.2|only redirect to HTTPS/,
    },
    "aws-alb-hardening": {
        fail: [r("aws:lb/loadBalancer:LoadBalancer", "alb", { loadBalancerType: "application", subnets: ["a", "b"], tags: prod })],
        pass: [r("aws:lb/loadBalancer:LoadBalancer", "alb", { loadBalancerType: "application", dropInvalidHeaderFields: true, accessLogs: { enabled: true, bucket: "b" }, enableDeletionProtection: true, subnets: ["a", "b"], tags: prod })],
        message: /dropInvalidHeaderFields/,
    },
    "aws-iam-no-admin-wildcards": {
        fail: [r("aws:iam/rolePolicy:RolePolicy", "p", { role: "r", policy: policyDoc({ Sid: "Everything", Effect: "Allow", Action: "s3:*", Resource: "*" }) })],
        pass: [r("aws:iam/rolePolicy:RolePolicy", "p", { role: "r", policy: policyDoc({ Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] }) })],
        message: /Everything allows s3:\* on \*/,
    },
    "aws-iam-no-wildcard-principal": {
        fail: [r("aws:iam/role:Role", "role", { assumeRolePolicy: policyDoc({ Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" }) })],
        pass: [r("aws:iam/role:Role", "role", { assumeRolePolicy: policyDoc({ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }) })],
        message: /any principal/,
    },
    "aws-ecs-secrets-from-secrets-manager": {
        fail: [taskDef([{ name: "grafana", image: "grafana/grafana:12.4.12", environment: [{ name: "GF_SECURITY_ADMIN_PASSWORD", value: "hunter2hunter2" }] }])],
        pass: [taskDef([{ name: "grafana", image: "grafana/grafana:12.4.12", environment: [{ name: "GF_LOG_MODE", value: "console" }], secrets: [{ name: "GF_SECURITY_ADMIN_PASSWORD", valueFrom: "arn:aws:secretsmanager:x" }] }])],
        message: /GF_SECURITY_ADMIN_PASSWORD is a plain environment variable/,
    },
    "aws-storage-encrypted": {
        fail: [r("aws:rds/cluster:Cluster", "db", { engine: "aurora-postgresql", storageEncrypted: false })],
        pass: [r("aws:rds/cluster:Cluster", "db", { engine: "aurora-postgresql", storageEncrypted: true })],
        message: /storageEncrypted is not true/,
    },
    "aws-databases-private": {
        fail: [r("aws:rds/clusterInstance:ClusterInstance", "db-1", { publiclyAccessible: true })],
        pass: [r("aws:rds/clusterInstance:ClusterInstance", "db-1", { publiclyAccessible: false })],
        message: /publiclyAccessible is true/,
    },
    "aws-multi-az": {
        fail: [r("aws:lb/loadBalancer:LoadBalancer", "alb", { subnets: ["a"] })],
        pass: [r("aws:lb/loadBalancer:LoadBalancer", "alb", { subnets: ["a", "b", "c"] })],
        message: /spans 1 subnet/,
    },
    "aws-log-retention": {
        fail: [r("aws:cloudwatch/logGroup:LogGroup", "logs", { name: "/ecs/apfa" })],
        pass: [r("aws:cloudwatch/logGroup:LogGroup", "logs", { name: "/ecs/apfa", retentionInDays: 30 })],
        message: /no retentionInDays/,
    },
    "aws-ecs-deployment-safety": {
        fail: [ecsService("svc", { deploymentCircuitBreaker: { enable: true, rollback: false } })],
        pass: [ecsService("svc")],
        message: /deploymentCircuitBreaker is not enabled with rollback/,
    },
    "aws-s3-private-encrypted": { fail: [bucket, publicAccessBlock(false)], pass: [bucket, sse, publicAccessBlock(true)], message: /no default encryption/ },
    "aks-local-accounts-off": { fail: [aks({ disableLocalAccounts: false })], pass: [aks()], message: /disableLocalAccounts/ },
    "aks-workload-identity": { fail: [aks({ securityProfile: {} })], pass: [aks()], message: /workloadIdentity/ },
    "aks-network-policy-engine": { fail: [aks({ networkProfile: { networkPlugin: "azure" } })], pass: [aks()], message: /networkPolicy is not set/ },
    "azure-postgres-private": {
        fail: [r("azure-native:dbforpostgresql:Server", "pg", { network: { publicNetworkAccess: "Enabled" } })],
        pass: [r("azure-native:dbforpostgresql:Server", "pg", { network: { delegatedSubnetResourceId: "/subscriptions/x/subnets/db", privateDnsZoneArmResourceId: "/z" } })],
        message: /accepts connections from the internet/,
    },
    "azure-postgres-resilient": {
        fail: [r("azure-native:dbforpostgresql:Server", "pg", { tags: prod, backup: { backupRetentionDays: 3 } })],
        pass: [r("azure-native:dbforpostgresql:Server", "pg", { tags: prod, highAvailability: { mode: "ZoneRedundant" }, backup: { backupRetentionDays: 14 } })],
        message: /ZoneRedundant/,
    },
    "azure-subnet-no-default-outbound": {
        fail: [r("azure-native:network:Subnet", "nodes", { addressPrefix: "10.0.0.0/20" })],
        pass: [r("azure-native:network:Subnet", "nodes", { addressPrefix: "10.0.0.0/20", defaultOutboundAccess: false })],
        message: /defaultOutboundAccess/,
    },
    "azure-frontdoor-health-and-tls": {
        fail: [
            r("azure-native:cdn:AFDOriginGroup", "origins", { originGroupName: "apfa", loadBalancingSettings: { sampleSize: 4, successfulSamplesRequired: 3 } }),
            r("azure-native:cdn:Route", "route", { forwardingProtocol: "MatchRequest", supportedProtocols: ["Http", "Https"], httpsRedirect: "Disabled" }),
        ],
        pass: [
            r("azure-native:cdn:AFDOriginGroup", "origins", { originGroupName: "apfa", healthProbeSettings: { probePath: "/health", probeIntervalInSeconds: 30, probeProtocol: "Https" } }),
            r("azure-native:cdn:Route", "route", { forwardingProtocol: "HttpsOnly", supportedProtocols: ["Http", "Https"], httpsRedirect: "Enabled" }),
        ],
        message: /no healthProbeSettings\.probePath|forwardingProtocol MatchRequest|without redirecting/,
    },
    "gke-private-nodes": { fail: [gke({ privateClusterConfig: { enablePrivateNodes: false } })], pass: [gke()], message: /enablePrivateNodes is not true/ },
    "gke-workload-identity": { fail: [gke({ workloadIdentityConfig: undefined }), nodePool({ nodeConfig: { workloadMetadataConfig: { mode: "GCE_METADATA" } } })], pass: [gke(), nodePool()], message: /workloadPool is not set|GKE_METADATA/ },
    "gke-node-hardening": { fail: [nodePool({ nodeConfig: { workloadMetadataConfig: { mode: "GKE_METADATA" } } })], pass: [nodePool()], message: /enableSecureBoot|serviceAccount/ },
    "gcp-sql-private": {
        fail: [r("gcp:sql/databaseInstance:DatabaseInstance", "sql", { settings: { ipConfiguration: { ipv4Enabled: true, authorizedNetworks: [{ value: "0.0.0.0/0" }] } } })],
        pass: [r("gcp:sql/databaseInstance:DatabaseInstance", "sql", { settings: { ipConfiguration: { ipv4Enabled: false, privateNetwork: "vpc", sslMode: "ENCRYPTED_ONLY" } } })],
        message: /public IP/,
    },
    "gcp-firewall-entry-ports": {
        fail: [r("gcp:compute/firewall:Firewall", "fw", { sourceRanges: ["0.0.0.0/0"], allows: [{ protocol: "tcp", ports: ["22"] }] })],
        pass: [r("gcp:compute/firewall:Firewall", "fw", { sourceRanges: ["0.0.0.0/0"], allows: [{ protocol: "tcp", ports: ["443"] }] })],
        message: /tcp 22 from 0\.0\.0\.0\/0/,
    },
    "gke-network-policy-engine": { fail: [gke({ datapathProvider: "LEGACY_DATAPATH" })], pass: [gke()], message: /NetworkPolicy objects would have no effect/ },
    "k8s-probes-and-resources": { fail: [deployment("web", { readinessProbe: undefined })], pass: [deployment("web")], message: /no readinessProbe/ },
    "k8s-pod-security": { fail: [deployment("web", { securityContext: { privileged: true } })], pass: [deployment("web")], message: /is privileged/ },
    "k8s-service-exposure": { fail: [service("grafana", "LoadBalancer")], pass: [service("grafana", "ClusterIP")], message: /Service type LoadBalancer exposes a monitoring service/ },
    "k8s-helm-chart-pinned": {
        fail: [r("kubernetes:helm.sh/v3:Release", "cm", { chart: "oci://quay.io/jetstack/charts/cert-manager" })],
        pass: [r("kubernetes:helm.sh/v3:Release", "cm", { chart: "oci://quay.io/jetstack/charts/cert-manager", version: "v1.21.2" })],
        message: /no pinned version/,
    },
    "gateway-https": {
        fail: [r("kubernetes:gateway.networking.k8s.io/v1:Gateway", "gw", { metadata: { name: "apfa", labels: prod }, spec: { listeners: [{ name: "http", port: 80, protocol: "HTTP" }] } })],
        pass: [
            r("kubernetes:gateway.networking.k8s.io/v1:Gateway", "gw", {
                metadata: { name: "apfa", labels: prod },
                spec: { listeners: [{ name: "https", port: 443, protocol: "HTTPS", tls: { certificateRefs: [{ name: "apfa-tls" }] } }] },
            }),
            // A region's internal Gateway behind a multi-cluster one that ends TLS for users.
            r("kubernetes:gateway.networking.k8s.io/v1:Gateway", "internal", { metadata: { name: "apfa", labels: prod }, spec: { gatewayClassName: "gke-l7-rilb", listeners: [{ name: "http", port: 80, protocol: "HTTP" }] } }),
        ],
        message: /no HTTPS listener/,
    },
    "k8s-pdb-for-replicated-workloads": {
        fail: [deployment("web", {}, { replicas: 3 }), apfaRelease({ podDisruptionBudget: { enabled: false } })],
        pass: [deployment("web", {}, { replicas: 3 }), pdb({ app: "web" }), apfaRelease({ podDisruptionBudget: { enabled: true, maxUnavailable: 1 } })],
        message: /runs 3 replicas without a PodDisruptionBudget|turns its PodDisruptionBudget off/,
    },
    "k8s-namespace-default-deny": {
        fail: [deployment("web"), netpol("allow-dns", { podSelector: {}, policyTypes: ["Egress"], egress: [{ ports: [{ port: 53 }] }] })],
        pass: [deployment("web"), netpol("deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] })],
        message: /namespace apfa has no default-deny/,
    },
    "docker-ports-loopback": { fail: [dockerContainer("proxy", { ports: [{ internal: 8080, external: 8000 }] })], pass: [dockerContainer("proxy")], message: /0\.0\.0\.0 \(all interfaces\)/ },
    "docker-no-privileged": {
        fail: [dockerContainer("proxy", { privileged: true, volumes: [{ hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock" }] })],
        pass: [dockerContainer("proxy")],
        message: /privileged is true|Docker socket/,
    },
    "docker-healthcheck-restart": { fail: [dockerContainer("proxy", { healthcheck: undefined })], pass: [dockerContainer("proxy")], message: /no healthcheck/ },
    "images-pinned": {
        fail: [deployment("web", { image: "nginx" }), r("docker:index/remoteImage:RemoteImage", "img", { name: "prom/prometheus:latest" })],
        pass: [deployment("web", { image: "nginx:1.29.3-alpine" }), r("docker:index/remoteImage:RemoteImage", "img", { name: "prom/prometheus@sha256:" + "b".repeat(64) })],
        message: /nginx has no tag|uses :latest/,
    },
    "images-allowed-registries": {
        fail: [taskDef([{ name: "apfa", image: "docker.io/someone/apfa:1.0.0" }])],
        pass: [taskDef([{ name: "apfa", image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/apfa:1.0.0" }, { name: "init", image: "busybox:1.37.0" }])],
        config: { "images-allowed-registries": { registries: ["123456789012.dkr.ecr.eu-west-1.amazonaws.com", "docker.io/library"] } },
        message: /docker\.io\/someone\/apfa:1\.0\.0 is not from an allowed registry/,
    },
    "no-plain-secrets": {
        fail: [deployment("web", { env: [{ name: "DB_PASSWORD", value: "hunter2" }] }), apfaRelease({ env: { API_TOKEN: "x" } })],
        pass: [deployment("web", { env: [{ name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } }] }), apfaRelease({ env: { LOG_LEVEL: "info" } })],
        message: /DB_PASSWORD has a literal value|API_TOKEN/,
    },
    "stateful-protected": {
        fail: [r("aws:rds/cluster:Cluster", "db", { tags: prod, deletionProtection: false }, { protect: false })],
        pass: [r("aws:rds/cluster:Cluster", "db", { tags: prod, deletionProtection: true }, { protect: true }), r("aws:rds/cluster:Cluster", "staging-db", { tags: { environment: "staging" } })],
        message: /`protect` resource option is off/,
    },
    "monitoring-never-public": {
        fail: [
            ecsService("apfa-prod-grafana"),
            r("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "route", { spec: { rules: [{ backendRefs: [{ name: "prometheus", port: 9090 }] }] } }),
            dockerContainer("apfa-dev-grafana", { ports: [{ internal: 3000, external: 3000, ip: "0.0.0.0" }] }),
        ],
        pass: [
            ecsService("apfa-prod-grafana", { loadBalancers: undefined }),
            r("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "route", { spec: { rules: [{ backendRefs: [{ name: "apfa-blue", port: 8000 }] }] } }),
            dockerContainer("apfa-dev-grafana", { ports: [{ internal: 3000, external: 3000, ip: "127.0.0.1" }] }),
        ],
        message: /attached to a load balancer|routes public traffic to prometheus|published beyond the host/,
    },
    "node-pools-span-zones": {
        fail: [aks(), agentPool("apfa1", ["1"])],
        pass: [aks(), agentPool("apfa1", ["1"]), agentPool("apfa2", ["2"])],
        message: /user pools span 1 availability zone/,
    },
    "dns-failover-health-checked": {
        fail: [r("aws:route53/record:Record", "api", { name: "api", type: "A", ttl: 300, records: ["192.0.2.1"], setIdentifier: "eu", failoverRoutingPolicies: [{ type: "PRIMARY" }] })],
        pass: [r("aws:route53/record:Record", "api", { name: "api", type: "A", ttl: 60, records: ["192.0.2.1"], setIdentifier: "eu", healthCheckId: "hc-1", failoverRoutingPolicies: [{ type: "PRIMARY" }] })],
        message: /no healthCheckId|ttl 300/,
    },
    "apfa-autoscaling": {
        fail: [ecsService("apfa-blue"), scalingTarget("apfa-blue", 4, 1), apfaRelease({ autoscaling: { enabled: false }, replicaCount: 2 })],
        pass: [ecsService("apfa-blue"), scalingTarget("apfa-blue", 4, 16), scalingPolicy("apfa-blue"), apfaRelease({}), apfaRelease({ autoscaling: { enabled: false }, replicaCount: 0 }, "apfa-green")],
        message: /scales between 4 and 1|autoscaling off/,
    },
    "budget-monthly-cost": {
        // A NAT gateway alone costs more than 10 USD a month in eu-west-1 (tools/cost/prices).
        fail: [r("aws:ec2/natGateway:NatGateway", "nat", { subnetId: "s", connectivityType: "public" })],
        pass: [r("aws:ec2/natGateway:NatGateway", "nat", { subnetId: "s", connectivityType: "public" })],
        config: { "budget-monthly-cost": { monthlyUsd: 10, cloud: "aws", region: "eu-west-1" } },
        passConfig: { "budget-monthly-cost": { monthlyUsd: 1000, cloud: "aws", region: "eu-west-1" } },
        message: /^over budget: the estimate at full scale is \$\d+\.\d\d\/month, .* above apfa:budget\.monthlyUsd \$10\.00\. Biggest items: nat /,
    },
};

async function violationsOf(rule: Rule, resources: PlanResource[], config: PackConfig = {}) {
    const result = await runPolicies({ resources }, { rules: [rule], config });
    return result.violations.filter((v) => v.rule === rule.name);
}

describe("policy rules: each fires on its violation and passes its fixed fixture", function () {
    it("has at least 25 rules, each with a one-line rationale and a mandatory or advisory level, and a fixture pair", function () {
        assert.ok(RULES.length >= 25, `only ${RULES.length} rules`);
        for (const rule of RULES) {
            assert.match(rule.name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
            assert.ok(rule.description.length > 30 && !rule.description.includes("\n"), `${rule.name}: description`);
            assert.ok(rule.enforcementLevel === "mandatory" || rule.enforcementLevel === "advisory", `${rule.name}: level`);
            assert.ok(CASES[rule.name], `${rule.name} has no fixture`);
        }
        assert.deepEqual(Object.keys(CASES).filter((name) => !RULES.some((r) => r.name === name)), [], "fixtures of rules that do not exist");
        assert.equal(new Set(RULES.map((r) => r.name)).size, RULES.length, "rule names are unique");
    });

    it("the README's Policy as code section lists every rule with its level and rationale", function () {
        const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
        const section = readme.slice(readme.indexOf("\n## Policy as code\n"), readme.indexOf("\n## Architecture\n"));
        assert.ok(section.length > 100, "no ## Policy as code section before ## Architecture");
        const rows = [...section.matchAll(/^\| `([a-z0-9-]+)` \| [a-z]+ \| (mandatory|advisory) \| (.+) \|$/gm)].map((m) => [m[1], m[2], m[3]]);
        assert.deepEqual(
            rows.map(([name]) => name).sort(),
            RULES.map((r) => r.name).sort(),
        );
        for (const rule of RULES) {
            assert.deepEqual(rows.find(([name]) => name === rule.name), [rule.name, rule.enforcementLevel, rule.description.replace(/\|/g, "\\|")]);
        }
    });

    for (const rule of RULES) {
        const c = CASES[rule.name];
        if (!c) {
            continue;
        }
        it(`${rule.name} (${rule.enforcementLevel})`, async function () {
            const failing = await violationsOf(rule, c.fail, c.config);
            assert.ok(failing.length > 0, `${rule.name} did not fire on its failing fixture`);
            for (const v of failing) {
                assert.equal(v.enforcementLevel, rule.enforcementLevel);
            }
            assert.ok(failing.some((v) => c.message.test(v.message)), `${rule.name} fired with ${JSON.stringify(failing.map((v) => v.message))}`);
            assert.deepEqual(await violationsOf(rule, c.pass, c.passConfig ?? c.config), [], `${rule.name} fired on its passing fixture`);
        });
    }
});
