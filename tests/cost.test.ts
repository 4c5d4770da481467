/**
 * The cost estimator (tools/cost/) on small hand-written graphs, priced from fixture snapshots with
 * round prices so that every expected figure below is arithmetic written out by hand, not a value
 * the estimator computed. Property tests: one replica or one zone more changes the estimate by
 * exactly that item's price; unknown resource types are counted, never dropped.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";

import { ConfigError, parseConfig } from "../src/config";
import { checkBudget, estimate, resolveAssumptions, type CostReport, type NeutralResource } from "../tools/cost/estimate";
import type { PriceSnapshot, PricedCloud } from "../tools/cost/prices";
import { PRICES_DIR, listSnapshots, loadSnapshot, validateSnapshot } from "../tools/cost/prices";
import { AWS_SPECS, AZURE_SPECS, GCP_SPECS } from "../tools/cost/refresh-prices";
import { parseCostArgs } from "../tools/cost/main";
import { phase3Comparison, renderDeployment, seedComparison } from "../tools/cost/render";

function snapshot(cloud: PricedCloud, region: string, prices: Record<string, number>): PriceSnapshot {
    const entries = Object.fromEntries(Object.entries(prices).map(([key, usd]) => [key, { usd, unit: "unit", source: "https://example.com/fixture", verified: true }]));
    return { cloud, region, currency: "USD", snapshotDate: "2026-01-01", prices: entries };
}

const AWS_PRICES = snapshot("aws", "test-1", {
    "fargate.x86_64.vcpuHour": 0.04,
    "fargate.x86_64.gbHour": 0.005,
    "alb.hour": 0.02,
    "alb.lcuHour": 0.008,
    "publicIpv4.hour": 0.005,
    "natGateway.hour": 0.05,
    "natGateway.gb": 0.05,
    "vpcEndpoint.interface.azHour": 0.01,
    "vpcEndpoint.interface.gb": 0.01,
    "cloudwatch.logs.ingestGb": 0.5,
    "cloudwatch.logs.storageGbMonth": 0.03,
    "secretsManager.secretMonth": 0.4,
    "cloudMap.instanceMonth": 0.1,
    "egress.internet.gb": 0.09,
    "aurora.serverlessV2.acuHour": 0.12,
    "aurora.storage.gbMonth": 0.1,
    "aurora.io.millionRequests": 0.2,
});

const fixtureLoader = (fixture: PriceSnapshot) => (cloud: PricedCloud, region: string) => {
    assert.equal(`${cloud}-${region}`, `${fixture.cloud}-${fixture.region}`, "priced from the fixture snapshot only");
    return fixture;
};

const r = (type: string, name: string, inputs: Record<string, unknown>): NeutralResource => ({ type, name, inputs });

/** One Fargate service with autoscaling, behind an internet-facing ALB, in `zones` AZs with a NAT per AZ. */
function awsGraph(opts: { zones: number; minTasks: number; maxTasks: number; endpoints?: number; cpu?: string; memory?: string; registered?: boolean }): NeutralResource[] {
    const subnets = Array.from({ length: opts.zones }, (_, i) => `subnet-${i}`);
    return [
        r("apfa:aws:EcsCluster", "app", {}),
        r("aws:ecs/taskDefinition:TaskDefinition", "web-task", { family: "web", cpu: opts.cpu ?? "512", memory: opts.memory ?? "1024" }),
        r("aws:ecs/service:Service", "web", {
            name: "web",
            launchType: "FARGATE",
            desiredCount: opts.minTasks,
            taskDefinition: "arn:aws:ecs:test-1:123456789012:task-definition/web:3",
            networkConfiguration: { assignPublicIp: false, subnets },
            ...(opts.registered ? { serviceRegistries: { registryArn: "arn:x" } } : {}),
        }),
        r("aws:appautoscaling/target:Target", "web-scaling", { serviceNamespace: "ecs", resourceId: "service/c/web", minCapacity: opts.minTasks, maxCapacity: opts.maxTasks }),
        r("aws:lb/loadBalancer:LoadBalancer", "alb", { loadBalancerType: "application", internal: false, subnets }),
        r("aws:lb/listener:Listener", "https", {}),
        ...subnets.flatMap((_, i) => [r("aws:ec2/eip:Eip", `nat-${i}-eip`, { domain: "vpc" }), r("aws:ec2/natGateway:NatGateway", `nat-${i}`, { connectivityType: "public" })]),
        ...Array.from({ length: opts.endpoints ?? 1 }, (_, i) => r("aws:ec2/vpcEndpoint:VpcEndpoint", `endpoint-${i}`, { vpcEndpointType: "Interface", subnetIds: subnets, serviceName: `com.amazonaws.test-1.svc${i}` })),
        r("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", { vpcEndpointType: "Gateway" }),
        r("aws:cloudwatch/logGroup:LogGroup", "logs", { retentionInDays: 30 }),
        r("aws:secretsmanager/secret:Secret", "grafana", {}),
        r("aws:iam/role:Role", "task-role", {}),
        r("aws:ec2/securityGroup:SecurityGroup", "tasks", {}),
        r("random:index/randomPassword:RandomPassword", "password", {}),
    ];
}

const AWS_ASSUMPTIONS = { natProcessedGb: 100, endpointProcessedGb: 10, egressGb: 50, logIngestGb: 10, albLcuAtRest: 1, albLcuFullScale: 3 };

function estimateAws(graph: NeutralResource[]): CostReport {
    return estimate(graph, { cloud: "aws", region: "test-1", assumptions: AWS_ASSUMPTIONS, snapshots: fixtureLoader(AWS_PRICES) });
}

function monthly(report: CostReport, resource: string, descriptionStart: string) {
    const items = report.items.filter((i) => i.resource === resource && i.description.startsWith(descriptionStart));
    assert.equal(items.length, 1, `exactly one item "${descriptionStart}" on ${resource}: ${JSON.stringify(report.items.map((i) => `${i.resource}: ${i.description}`))}`);
    return items[0].monthly;
}

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);

describe("cost estimate: a hand-priced AWS graph", () => {
    const report = estimateAws(awsGraph({ zones: 2, minTasks: 2, maxTasks: 6 }));

    it("prices Fargate tasks at the autoscaling minimum (at rest) and maximum (full scale)", () => {
        // 2 tasks × 0.5 vCPU × 730 h × $0.04 = $29.20; 6 tasks: $87.60
        close(monthly(report, "web", "Fargate x86_64 vCPU").atRest, 29.2, "vCPU at rest");
        close(monthly(report, "web", "Fargate x86_64 vCPU").fullScale, 87.6, "vCPU at full scale");
        // 2 tasks × 1 GB × 730 h × $0.005 = $7.30; 6 tasks: $21.90
        close(monthly(report, "web", "Fargate x86_64 memory").atRest, 7.3, "memory at rest");
        close(monthly(report, "web", "Fargate x86_64 memory").fullScale, 21.9, "memory at full scale");
    });

    it("prices the ALB's hours, LCUs and one public IPv4 address per zone", () => {
        close(monthly(report, "alb", "Application Load Balancer hours").atRest, 730 * 0.02, "ALB hours"); // $14.60
        close(monthly(report, "alb", "ALB capacity units").atRest, 1 * 730 * 0.008, "LCU at rest"); // $5.84
        close(monthly(report, "alb", "ALB capacity units").fullScale, 3 * 730 * 0.008, "LCU at full scale"); // $17.52
        close(monthly(report, "alb", "public IPv4").atRest, 2 * 730 * 0.005, "ALB addresses"); // $7.30
    });

    it("prices each NAT gateway's hours, its share of the NAT traffic and its Elastic IP", () => {
        close(monthly(report, "nat-0", "NAT gateway hours").atRest, 730 * 0.05, "NAT hours"); // $36.50
        close(monthly(report, "nat-0", "data processed").atRest, (100 / 2) * 0.05, "NAT data, half of 100 GB"); // $2.50
        close(monthly(report, "nat-0-eip", "Elastic IP").atRest, 730 * 0.005, "EIP"); // $3.65
    });

    it("prices an interface endpoint per AZ and leaves the S3 gateway endpoint free", () => {
        close(monthly(report, "endpoint-0", "interface endpoint").atRest, 2 * 730 * 0.01, "endpoint ENIs"); // $14.60
        close(monthly(report, "endpoint-0", "data processed").atRest, 10 * 0.01, "endpoint data"); // $0.10
        assert.deepEqual(report.zeroCost.find((z) => z.type === "aws:ec2/vpcEndpoint:VpcEndpoint"), {
            type: "aws:ec2/vpcEndpoint:VpcEndpoint",
            count: 1,
            reason: "gateway endpoints (S3, DynamoDB) are free",
        });
    });

    it("adds logs, the secret and internet egress, and totals every item", () => {
        close(monthly(report, "logs", "log ingestion").atRest, 10 * 0.5, "log ingestion"); // $5.00
        close(monthly(report, "logs", "log storage").atRest, 10 * (30 / 30) * 0.03, "30 days of logs kept"); // $0.30
        close(monthly(report, "grafana", "Secrets Manager").atRest, 0.4, "secret");
        close(monthly(report, "internet egress", "internet egress").atRest, 50 * 0.09, "egress"); // $4.50
        // At rest: 29.20 + 7.30 + 14.60 + 5.84 + 7.30 + 2 × (36.50 + 2.50 + 3.65) + 14.60 + 0.10 + 5.00 + 0.30 + 0.40 + 4.50
        const atRest = 29.2 + 7.3 + 14.6 + 5.84 + 7.3 + 2 * (36.5 + 2.5 + 3.65) + 14.6 + 0.1 + 5 + 0.3 + 0.4 + 4.5;
        close(report.atRest.total, atRest, "total at rest"); // $174.44
        // Full scale: four more tasks ((87.60 - 29.20) + (21.90 - 7.30)) and two more LCUs (17.52 - 5.84).
        close(report.fullScale.total, atRest + 58.4 + 14.6 + 11.68, "total at full scale"); // $259.12
    });

    it("lists free resources with their reason and prices nothing it does not know", () => {
        assert.deepEqual(report.notPriced, []);
        const zero = Object.fromEntries(report.zeroCost.map((z) => [z.type, z.count]));
        assert.deepEqual(zero, {
            "apfa:aws:EcsCluster": 1,
            "aws:ecs/taskDefinition:TaskDefinition": 1,
            "aws:appautoscaling/target:Target": 1,
            "aws:lb/listener:Listener": 1,
            "aws:ec2/vpcEndpoint:VpcEndpoint": 1,
            "aws:iam/role:Role": 1,
            "aws:ec2/securityGroup:SecurityGroup": 1,
            "random:index/randomPassword:RandomPassword": 1,
        });
    });

    it("finds the task definition by family in a preview, where the service's ARN is unknown", () => {
        const preview = awsGraph({ zones: 2, minTasks: 2, maxTasks: 6 }).map((res) =>
            res.type === "aws:ecs/service:Service" ? { ...res, inputs: { ...res.inputs, taskDefinition: "[unknown]" } } : res,
        );
        close(estimateAws(preview).atRest.total, report.atRest.total, "preview total at rest");
    });
});

describe("cost estimate: Aurora Serverless v2", () => {
    it("prices each instance between the cluster's minimum and maximum ACUs, plus storage and I/O", () => {
        const graph = [
            r("aws:rds/cluster:Cluster", "db", { engine: "aurora-postgresql", clusterIdentifier: "apfa-db", serverlessv2ScalingConfiguration: { minCapacity: 0.5, maxCapacity: 4 } }),
            r("aws:rds/clusterInstance:ClusterInstance", "db-1", { clusterIdentifier: "db-id", instanceClass: "db.serverless" }),
            r("aws:rds/clusterInstance:ClusterInstance", "db-2", { clusterIdentifier: "db-id", instanceClass: "db.serverless" }),
        ];
        const report = estimate(graph, { cloud: "aws", region: "test-1", assumptions: { dbStorageGb: 20, storageGrowthGbPerMonth: 1, horizonMonths: 10, dbIoMillionRequests: 5 }, snapshots: fixtureLoader(AWS_PRICES) });
        close(monthly(report, "db-1", "Aurora Serverless v2").atRest, 0.5 * 730 * 0.12, "writer at 0.5 ACU"); // $43.80
        close(monthly(report, "db-2", "Aurora Serverless v2").fullScale, 4 * 730 * 0.12, "reader at 4 ACU"); // $350.40
        close(monthly(report, "db", "Aurora storage").atRest, (20 + 1 * 10) * 0.1, "30 GB of storage"); // $3.00
        close(monthly(report, "db", "Aurora I/O").atRest, 5 * 0.2, "5 M I/O"); // $1.00
        assert.deepEqual(report.notPriced, []);
    });
});

describe("cost estimate: a hand-priced AKS graph", () => {
    const prices = snapshot("azure", "testeurope", {
        "aks.tier.Standard.hour": 0.1,
        "vm.Standard_D4ds_v5.hour": 0.2,
        "vm.Standard_D2ds_v5.hour": 0.1,
        "disk.Premium_LRS.P10.month": 20,
        "disk.StandardSSD_ZRS.E4.month": 3,
        "lb.standard.first5RulesHour": 0.025,
        "lb.standard.gb": 0.005,
        "publicIp.standard.hour": 0.005,
        "egress.internet.gb": 0.08,
    });
    const graph = [
        r("azure-native:resources:ResourceGroup", "rg", {}),
        r("azure-native:containerservice:ManagedCluster", "aks", {
            sku: { name: "Base", tier: "Standard" },
            // D4ds_v5's 150 GiB temp disk holds the 128 GiB OS disk: ephemeral, no disk charge.
            agentPoolProfiles: [{ name: "system", count: 2, vmSize: "Standard_D4ds_v5", mode: "System" }],
            networkProfile: { outboundType: "loadBalancer" },
        }),
        // D2ds_v5's 75 GiB temp disk does not: a Premium P10 managed OS disk per node.
        r("azure-native:containerservice:AgentPool", "apps", { agentPoolName: "apps", vmSize: "Standard_D2ds_v5", enableAutoScaling: true, minCount: 1, maxCount: 5, count: 1 }),
        r("kubernetes:storage.k8s.io/v1:StorageClass", "zrs", { metadata: { name: "zrs" }, provisioner: "disk.csi.azure.com", parameters: { skuName: "StandardSSD_ZRS" } }),
        r("kubernetes:core/v1:PersistentVolumeClaim", "data", { spec: { storageClassName: "zrs", resources: { requests: { storage: "20Gi" } } } }),
        r("kubernetes:gateway.networking.k8s.io/v1:GatewayClass", "envoy", { metadata: { name: "envoy" }, spec: { controllerName: "gateway.envoyproxy.io/gatewayclass-controller", parametersRef: { name: "proxy" } } }),
        r("kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy", "proxy", { metadata: { name: "proxy" }, spec: { provider: { kubernetes: { envoyService: { type: "LoadBalancer" } } } } }),
        r("kubernetes:gateway.networking.k8s.io/v1:Gateway", "gateway", { spec: { gatewayClassName: "envoy", listeners: [{ port: 80 }, { port: 443 }] } }),
        r("kubernetes:apps/v1:Deployment", "grafana", {}),
    ];
    const report = estimate(graph, { cloud: "azure", region: "testeurope", assumptions: { loadBalancerProcessedGb: 100, natProcessedGb: 0, egressGb: 50 }, snapshots: fixtureLoader(prices) });

    it("prices the tier fee, the system pool, the autoscaled pool and its managed OS disks", () => {
        close(monthly(report, "aks", "AKS Standard tier").atRest, 730 * 0.1, "tier fee"); // $73
        close(monthly(report, "aks", "node pool system").atRest, 2 * 730 * 0.2, "system pool"); // $292
        close(monthly(report, "apps", "node pool apps").atRest, 1 * 730 * 0.1, "apps pool at rest"); // $73
        close(monthly(report, "apps", "node pool apps").fullScale, 5 * 730 * 0.1, "apps pool at full scale"); // $365
        close(monthly(report, "apps", "managed OS disk").fullScale, 5 * 20, "five P10 OS disks"); // $100
        assert.equal(report.items.filter((i) => i.resource === "aks" && i.description.includes("OS disk")).length, 0, "ephemeral OS disks cost nothing extra");
    });

    it("prices the cluster load balancer, its outbound IP, the gateway's public IP and the ZRS disk", () => {
        close(monthly(report, "aks", "Standard Load Balancer").atRest, 730 * 0.025, "LB with 1 outbound + 2 gateway rules"); // $18.25
        close(monthly(report, "aks", "data processed").atRest, 100 * 0.005, "LB data"); // $0.50
        close(monthly(report, "aks", "outbound public IP").atRest, 730 * 0.005, "outbound IP"); // $3.65
        close(monthly(report, "gateway", "public IP").atRest, 730 * 0.005, "gateway IP"); // $3.65
        close(monthly(report, "data", "managed disk StandardSSD_ZRS E4").atRest, 3, "20 GiB claim bills as E4 (32 GiB)");
        // 73 + 292 + 18.25 + 0.50 + 3.65 + 73 + 20 + 3 + 3.65 + 50 × 0.08
        close(report.atRest.total, 73 + 292 + 18.25 + 0.5 + 3.65 + 73 + 20 + 3 + 3.65 + 4, "total at rest"); // $491.05
        close(report.fullScale.total, 491.05 + (365 - 73) + (100 - 20), "total at full scale"); // $863.05
        assert.deepEqual(report.notPriced, []);
    });
});

describe("cost estimate: a hand-priced GKE graph", () => {
    const prices = snapshot("gcp", "test-west1", {
        "gke.cluster.hour": 0.1,
        "gke.freeTierCredit.month": 74.4,
        "vm.e2-standard-4.hour": 0.15,
        "disk.pd-balanced.gbMonth": 0.1,
        "cloudNat.vmHour": 0.0014,
        "cloudNat.maxHour": 0.044,
        "cloudNat.gb": 0.045,
        "externalIp.hour": 0.005,
        "lb.forwardingRules.first5Hour": 0.025,
        "lb.processedGb": 0.008,
        "egress.internet.gb": 0.12,
        "logging.ingestGb": 0.5,
        "logging.freeGb": 50,
    });
    const graph = (location: string) => [
        r("gcp:container/cluster:Cluster", "gke", { name: "gke", location, removeDefaultNodePool: true }),
        r("gcp:container/nodePool:NodePool", "pool", { cluster: "gke", location, autoscaling: { minNodeCount: 1, maxNodeCount: 3 }, nodeConfig: { machineType: "e2-standard-4", diskSizeGb: 50 } }),
        r("gcp:compute/routerNat:RouterNat", "nat", { natIpAllocateOption: "AUTO_ONLY" }),
        r("gcp:compute/router:Router", "router", {}),
        r("kubernetes:gateway.networking.k8s.io/v1:Gateway", "gateway", { spec: { gatewayClassName: "gke-l7-global-external-managed", listeners: [{ port: 80 }, { port: 443 }] } }),
        r("kubernetes:core/v1:PersistentVolumeClaim", "data", { spec: { resources: { requests: { storage: "10Gi" } } } }),
    ];
    const assumptions = { natProcessedGb: 100, loadBalancerProcessedGb: 100, egressGb: 50, logIngestGb: 60, zonesPerRegion: 3 };

    it("prices a regional pool's per-zone node counts across three zones, and no free-tier credit", () => {
        const report = estimate(graph("test-west1"), { cloud: "gcp", region: "test-west1", assumptions, snapshots: fixtureLoader(prices) });
        close(monthly(report, "gke", "GKE cluster management fee").atRest, 730 * 0.1, "cluster fee"); // $73
        close(monthly(report, "pool", "node pool").atRest, 3 * 730 * 0.15, "1 node × 3 zones"); // $328.50
        close(monthly(report, "pool", "node pool").fullScale, 9 * 730 * 0.15, "3 nodes × 3 zones"); // $985.50
        close(monthly(report, "pool", "boot disk").atRest, 3 * 50 * 0.1, "boot disks"); // $15
        close(monthly(report, "nat", "Cloud NAT uptime").atRest, 3 * 730 * 0.0014, "NAT per VM"); // $3.066
        close(monthly(report, "nat", "Cloud NAT uptime").fullScale, 9 * 730 * 0.0014, "NAT per VM at full scale"); // $9.198
        close(monthly(report, "gke", "Cloud Logging").atRest, (60 - 50) * 0.5, "logs above the free 50 GiB"); // $5
        // 73 + 328.50 + 15 + 5 + 3.066 + 100 × 0.045 + 730 × 0.005 + 730 × 0.025 + 100 × 0.008 + 10 × 0.1 + 50 × 0.12
        close(report.atRest.total, 73 + 328.5 + 15 + 5 + 3.066 + 4.5 + 3.65 + 18.25 + 0.8 + 1 + 6, "total at rest"); // $458.766
        close(report.fullScale.total, 458.766 + (985.5 - 328.5) + (45 - 15) + (9.198 - 3.066), "total at full scale");
        assert.ok(report.notes.some((n) => n.includes("no free-tier credit")), "says why no credit applies");
        assert.deepEqual(report.notPriced, []);
    });

    it("deducts the free-tier credit from a zonal cluster's fee", () => {
        const report = estimate(graph("test-west1-b"), { cloud: "gcp", region: "test-west1", assumptions, snapshots: fixtureLoader(prices) });
        close(monthly(report, "gke", "GKE free tier credit").atRest, -Math.min(73, 74.4), "credit covers the $73 fee");
        close(monthly(report, "pool", "node pool").atRest, 1 * 730 * 0.15, "a zonal pool is in one zone"); // $109.50
    });
});

describe("cost estimate: what it cannot price", () => {
    it("counts unknown resource types in notPriced with their names", () => {
        fc.assert(
            fc.property(fc.integer({ min: 1, max: 12 }), (count) => {
                const unknown = Array.from({ length: count }, (_, i) => r("acme:widgets/widget:Widget", `widget-${i}`, {}));
                const report = estimateAws([...awsGraph({ zones: 2, minTasks: 1, maxTasks: 1 }), ...unknown]);
                assert.deepEqual(report.notPriced, [
                    { type: "acme:widgets/widget:Widget", count, names: unknown.map((u) => u.name), reason: "resource type unknown to the estimator" },
                ]);
            }),
        );
    });

    it("lists a resource whose price is missing from the snapshot, naming the key, and drops its partial items", () => {
        const report = estimate([r("azure-native:containerservice:AgentPool", "odd", { vmSize: "Standard_Z9_v9", count: 2 })], {
            cloud: "azure",
            region: "testeurope",
            snapshots: fixtureLoader(snapshot("azure", "testeurope", {})),
        });
        assert.equal(report.items.length, 0);
        assert.equal(report.notPriced.length, 1);
        assert.match(report.notPriced[0].reason, /no price "vm\.Standard_Z9_v9\.hour" in tools\/cost\/prices\/azure-testeurope\.json/);
    });

    it("prices a Docker stack at zero and says why", () => {
        const report = estimate([r("docker:index/container:Container", "web", {}), r("docker:index/network:Network", "net", {})], { cloud: "docker", region: "local" });
        assert.equal(report.atRest.total, 0);
        assert.deepEqual(report.zeroCost.map((z) => [z.type, z.reason]), [
            ["docker:index/container:Container", "runs on your own Docker host: no cloud bill"],
            ["docker:index/network:Network", "runs on your own Docker host: no cloud bill"],
        ]);
    });
});

describe("cost estimate: properties", () => {
    const taskSize = fc.constantFrom(["256", "512"], ["512", "1024"], ["1024", "2048"], ["2048", "4096"]);

    it("one replica more at the minimum changes the at-rest figure by exactly one task's price", () => {
        fc.assert(
            fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 20 }), taskSize, fc.boolean(), (min, extra, [cpu, memory], registered) => {
                const before = estimateAws(awsGraph({ zones: 3, minTasks: min, maxTasks: min + 1 + extra, cpu, memory, registered }));
                const after = estimateAws(awsGraph({ zones: 3, minTasks: min + 1, maxTasks: min + 1 + extra, cpu, memory, registered }));
                // One task: vCPU × $0.04 + GB × $0.005 per hour, 730 hours; plus $0.10 when registered in Cloud Map.
                const oneTask = (Number(cpu) / 1024) * 0.04 * 730 + (Number(memory) / 1024) * 0.005 * 730 + (registered ? 0.1 : 0);
                close(after.atRest.total - before.atRest.total, oneTask, "at rest");
                close(after.fullScale.total, before.fullScale.total, "full scale unchanged");
            }),
        );
    });

    it("one replica more at the maximum changes only the full-scale figure, by exactly one task's price", () => {
        fc.assert(
            fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 20 }), taskSize, (min, extra, [cpu, memory]) => {
                const before = estimateAws(awsGraph({ zones: 2, minTasks: min, maxTasks: min + extra, cpu, memory }));
                const after = estimateAws(awsGraph({ zones: 2, minTasks: min, maxTasks: min + extra + 1, cpu, memory }));
                const oneTask = (Number(cpu) / 1024) * 0.04 * 730 + (Number(memory) / 1024) * 0.005 * 730;
                close(after.fullScale.total - before.fullScale.total, oneTask, "full scale");
                close(after.atRest.total, before.atRest.total, "at rest unchanged");
            }),
        );
    });

    it("one availability zone more adds exactly a NAT gateway, its address, an ALB address and an ENI per interface endpoint", () => {
        fc.assert(
            fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }), (zones, endpoints) => {
                const before = estimateAws(awsGraph({ zones, minTasks: 2, maxTasks: 4, endpoints }));
                const after = estimateAws(awsGraph({ zones: zones + 1, minTasks: 2, maxTasks: 4, endpoints }));
                // NAT hours $0.05 + EIP $0.005 + ALB address $0.005 + endpoints × ENI $0.01, per hour × 730.
                // Traffic is per stack, so the NAT and endpoint data charges do not move.
                const oneZone = (0.05 + 0.005 + 0.005 + endpoints * 0.01) * 730;
                close(after.atRest.total - before.atRest.total, oneZone, "at rest");
                close(after.fullScale.total - before.fullScale.total, oneZone, "full scale");
            }),
        );
    });
});

describe("cost budget", () => {
    const report = estimateAws(awsGraph({ zones: 2, minTasks: 2, maxTasks: 6 }));

    it("is over when the full-scale estimate exceeds it and names the biggest items first", () => {
        const check = checkBudget(report, 200, 3);
        assert.equal(check.over, true);
        // Biggest at full scale: web vCPU $87.60, then the two NAT gateways' hours at $36.50 each.
        assert.deepEqual(check.biggest.map((i) => [i.resource, i.description.split(",")[0]]), [
            ["web", "Fargate x86_64 vCPU"],
            ["nat-0", "NAT gateway hours"],
            ["nat-1", "NAT gateway hours"],
        ]);
        assert.match(check.message, /^over budget: the estimate at full scale is \$259\.12\/month, \$59\.12 above apfa:budget\.monthlyUsd \$200\.00\. Biggest items: web Fargate x86_64 vCPU \$87\.60; nat-0 NAT gateway hours \$36\.50/);
    });

    it("is within when the full-scale estimate fits", () => {
        const check = checkBudget(report, 260);
        assert.equal(check.over, false);
        assert.equal(check.message, "within budget: $259.12/month at full scale of apfa:budget.monthlyUsd $260.00");
    });

    it("compares with the seed's Phase 2 figure", () => {
        assert.equal(seedComparison(report), "Phase 2 AWS: $174.44 at rest, $259.12 at full scale vs seed ~$680 (-74 % / -62 %)");
    });
});

describe("cost config and assumptions", () => {
    it("takes apfa:budget.monthlyUsd and refuses bad budget and assumption keys, each by name", () => {
        const ok = parseConfig({ values: { "apfa:cloud": "docker", "apfa:budget": { monthlyUsd: 900 } }, project: "apfa", stack: "dev" });
        assert.deepEqual(ok.budget, { monthlyUsd: 900 });
        assert.equal("budget" in parseConfig({ values: { "apfa:cloud": "docker" }, project: "apfa", stack: "dev" }), false, "no budget key without a budget");
        assert.throws(
            () => parseConfig({ values: { "apfa:cloud": "docker", "apfa:budget": { monthlyUsd: -5 }, "apfa:cost": { assumptions: { egresGb: 1, natProcessedGb: -1 } } }, project: "apfa", stack: "dev" }),
            (err: unknown) => {
                assert.ok(err instanceof ConfigError);
                assert.match(err.message, /apfa:budget\.monthlyUsd: Too small/);
                assert.match(err.message, /apfa:cost\.assumptions\.egresGb: unknown key/);
                assert.match(err.message, /apfa:cost\.assumptions\.natProcessedGb: Too small/);
                return true;
            },
        );
    });

    it("fills unset assumptions with their defaults and rejects unknown ones", () => {
        const a = resolveAssumptions({ egressGb: 7 });
        assert.equal(a.egressGb, 7);
        assert.equal(a.hoursPerMonth, 730);
        assert.throws(() => resolveAssumptions({ egresGb: 7 } as never), /invalid cost assumptions: .*egresGb/);
    });
});

describe("cost price snapshots", () => {
    it("every pinned snapshot is valid, dated, and names its source for every figure", () => {
        const names = listSnapshots();
        assert.ok(names.includes("aws-eu-west-1") && names.includes("azure-westeurope") && names.includes("gcp-europe-west1"), names.join(", "));
        for (const name of names) {
            const doc = JSON.parse(fs.readFileSync(path.join(PRICES_DIR, `${name}.json`), "utf8")) as PriceSnapshot;
            validateSnapshot(doc, name);
            assert.equal(`${doc.cloud}-${doc.region}`, name, "file name matches its cloud and region");
            for (const [key, entry] of Object.entries(doc.prices)) {
                assert.ok(entry.verified || (entry.note ?? "").length > 0, `${name} ${key}: an unverified figure says where it came from`);
                assert.ok(entry.query, `${name} ${key}: names the price-API query that refreshes it`);
            }
        }
    });

    it("every AWS region prices the same keys, and every key has a refresh query (and no query lacks a key)", () => {
        const keysOf = (name: string) => Object.keys(loadSnapshot(name.split("-")[0] as PricedCloud, name.split("-").slice(1).join("-")).prices).sort();
        const aws = listSnapshots().filter((n) => n.startsWith("aws-"));
        for (const name of aws) {
            assert.deepEqual(keysOf(name), keysOf(aws[0]), `${name} has the keys of ${aws[0]}`);
        }
        assert.deepEqual(keysOf(aws[0]), Object.keys(AWS_SPECS).sort());
        for (const [cloud, specs] of [["azure", AZURE_SPECS], ["gcp", GCP_SPECS]] as const) {
            const names = listSnapshots().filter((n) => n.startsWith(`${cloud}-`));
            assert.ok(names.length >= 2, `${cloud}: a snapshot per region of the multi-region stacks`);
            for (const name of names) {
                assert.deepEqual(keysOf(name), Object.keys(specs).sort(), `${name} has every ${cloud} key`);
            }
        }
    });

    it("a snapshot built from another region's figures says so in every stand-in entry", () => {
        for (const [name, from] of [["azure-northeurope", "westeurope"], ["gcp-europe-west4", "europe-west1"]] as const) {
            const doc = JSON.parse(fs.readFileSync(path.join(PRICES_DIR, `${name}.json`), "utf8")) as PriceSnapshot;
            for (const [key, entry] of Object.entries(doc.prices)) {
                assert.match(entry.note ?? "", new RegExp(`stand-in: the ${from} figure`), `${name} ${key}`);
                assert.equal(entry.verified, false, `${name} ${key}`);
            }
        }
        const aps1 = JSON.parse(fs.readFileSync(path.join(PRICES_DIR, "aws-ap-south-1.json"), "utf8")) as PriceSnapshot;
        for (const [key, entry] of Object.entries(aps1.prices)) {
            assert.match(entry.note ?? "", /\(Mumbai\) list price|stand-in: the us-east-1 figure|guess: us-east-1 × 1\.1/, `aws-ap-south-1 ${key}`);
        }
    });
});

// ---------------------------------------------------------------- multi-region pieces

/** A loader serving several fixture snapshots (a resource in another region is priced from that region's). */
const loaderOf =
    (...fixtures: PriceSnapshot[]) =>
    (cloud: PricedCloud, region: string) => {
        const found = fixtures.find((f) => f.cloud === cloud && f.region === region);
        assert.ok(found, `a fixture snapshot for ${cloud}-${region}`);
        return found;
    };

const AWS_SECONDARY = snapshot("aws", "test-2", {
    "secretsManager.secretMonth": 0.4,
    "ssm.parameter.advancedMonth": 0.05,
    "route53.healthCheck.month": 0.5,
    "route53.healthCheck.featureMonth": 1,
    "route53.healthCheck.nonAwsMonth": 0.75,
    "route53.healthCheck.nonAwsFeatureMonth": 2,
    "aurora.serverlessV2.acuHour": 0.12,
    "aurora.storage.gbMonth": 0.1,
    "aurora.io.millionRequests": 0.2,
    "aurora.globalDatabase.replicatedWriteMillion": 0.2,
});
/** The primary region of the fixture deployment: only its secret price is read (a replica of test-2's secret). */
const AWS_PRIMARY = snapshot("aws", "test-1", { "secretsManager.secretMonth": 0.45 });

describe("cost estimate: a hand-priced AWS standby region (health checks, global database secondary, replicas)", () => {
    const graph = [
        r("aws:route53/healthCheck:HealthCheck", "region-health", { type: "HTTPS", fqdn: "alb-1.test-2.elb.amazonaws.com", port: 443, requestInterval: 10, failureThreshold: 3 }),
        r("aws:route53/healthCheck:HealthCheck", "status-page", { type: "HTTP", fqdn: "status.example.org", port: 80, requestInterval: 30 }),
        r("aws:route53/healthCheck:HealthCheck", "both-regions", { type: "CALCULATED", childHealthThreshold: 1 }),
        r("aws:route53/record:Record", "region-record", { name: "apfa.example.com", type: "A", aliases: [{ name: "alb-1.test-2.elb.amazonaws.com", zoneId: "Z1", evaluateTargetHealth: true }], failoverRoutingPolicies: [{ type: "SECONDARY" }] }),
        r("aws:route53/record:Record", "txt", { name: "apfa.example.com", type: "TXT", records: ["v=1"], ttl: 300 }),
        r("aws:rds/globalCluster:GlobalCluster", "global", { globalClusterIdentifier: "apfa-global", engine: "aurora-postgresql" }),
        r("aws:rds/cluster:Cluster", "secondary", { engine: "aurora-postgresql", globalClusterIdentifier: "apfa-global", clusterIdentifier: "db-2", serverlessv2ScalingConfiguration: { minCapacity: 0.5, maxCapacity: 4 } }),
        r("aws:rds/clusterInstance:ClusterInstance", "secondary-1", { clusterIdentifier: "secondary-id", instanceClass: "db.serverless" }),
        r("aws:secretsmanager/secret:Secret", "login", { name: "apfa-login", replicas: [{ region: "test-1" }] }),
        r("aws:ssm/parameter:Parameter", "control", { type: "String", value: "{}" }),
        r("aws:ssm/parameter:Parameter", "big", { type: "String", tier: "Advanced", value: "{}" }),
    ];
    const report = estimate(graph, { cloud: "aws", region: "test-2", snapshots: loaderOf(AWS_SECONDARY, AWS_PRIMARY) });

    it("prices an HTTPS health check of the ALB at the AWS-endpoint rate plus its two options, fast interval included", () => {
        close(monthly(report, "region-health", "Route 53 health check (HTTPS) of an AWS endpoint").atRest, 0.5, "base");
        close(monthly(report, "region-health", "health check optional features: HTTPS, fast interval (10 s)").atRest, 2 * 1, "two options × $1");
    });

    it("prices a check of an endpoint outside AWS at the higher rate, and a calculated check at the base rate", () => {
        close(monthly(report, "status-page", "Route 53 health check (HTTP) of an endpoint outside AWS").atRest, 0.75, "non-AWS base");
        assert.equal(report.items.filter((i) => i.resource === "status-page").length, 1, "HTTP at 30 s: no options");
        close(monthly(report, "both-regions", "Route 53 health check (CALCULATED").atRest, 0.5, "calculated");
    });

    it("prices the secondary cluster's replicated write I/O, storage, I/O and Serverless v2 capacity", () => {
        // assumption replicatedWriteMillionRequests 5 × $0.20
        close(monthly(report, "secondary", "Aurora global database replicated write I/O").atRest, 5 * 0.2, "replicated writes");
        // storage (20 GB + 2 GB × 12 months) × $0.10; I/O 20 M × $0.20
        close(monthly(report, "secondary", "Aurora storage").atRest, 44 * 0.1, "storage");
        close(monthly(report, "secondary", "Aurora I/O").atRest, 20 * 0.2, "I/O");
        close(monthly(report, "secondary-1", "Aurora Serverless v2").atRest, 0.5 * 730 * 0.12, "0.5 ACU at rest"); // $43.80
        close(monthly(report, "secondary-1", "Aurora Serverless v2").fullScale, 4 * 730 * 0.12, "4 ACU at full scale"); // $350.40
    });

    it("prices a secret and its replica, the replica at its own region's price; an advanced SSM parameter; standard ones are free", () => {
        close(monthly(report, "login", "Secrets Manager secret").atRest, 0.4, "secret in test-2");
        close(monthly(report, "login", "Secrets Manager replica in test-1").atRest, 0.45, "replica priced from test-1's snapshot");
        close(monthly(report, "big", "SSM Parameter Store advanced parameter").atRest, 0.05, "advanced parameter");
        const zeroOf = (type: string) => report.zeroCost.find((z) => z.type === type);
        assert.match(zeroOf("aws:ssm/parameter:Parameter")?.reason ?? "", /standard SSM parameters are free/);
        assert.match(zeroOf("aws:rds/globalCluster:GlobalCluster")?.reason ?? "", /no fee of its own/);
        assert.equal(zeroOf("aws:route53/record:Record")?.count, 2);
        assert.ok(report.notes.some((n) => n.startsWith("txt: queries of a non-alias record")), report.notes.join("; "));
    });

    it("totals every item: the hand sum", () => {
        const atRest = 0.5 + 2 + 0.75 + 0.5 + 1 + 4.4 + 4 + 43.8 + 0.4 + 0.45 + 0.05;
        close(report.atRest.total, atRest, "at rest"); // $57.85
        close(report.fullScale.total, atRest - 43.8 + 350.4, "full scale"); // $364.45
        assert.deepEqual(report.notPriced, []);
    });

    it("a primary cluster (it has the master user) pays no replicated write I/O; a changed assumption moves exactly that item", () => {
        const primary = r("aws:rds/cluster:Cluster", "secondary", { engine: "aurora-postgresql", globalClusterIdentifier: "apfa-global", masterUsername: "apfa" });
        const asPrimary = estimate([primary], { cloud: "aws", region: "test-2", snapshots: loaderOf(AWS_SECONDARY) });
        assert.equal(asPrimary.items.filter((i) => i.description.startsWith("Aurora global database")).length, 0);
        const more = estimate(graph, { cloud: "aws", region: "test-2", assumptions: { replicatedWriteMillionRequests: 15 }, snapshots: loaderOf(AWS_SECONDARY, AWS_PRIMARY) });
        close(more.atRest.total - report.atRest.total, (15 - 5) * 0.2, "10 M more replicated writes × $0.20");
    });
});

const GCP_WEST4 = snapshot("gcp", "test-west4", {
    "cloudsql.enterprisePlus.vcpuHour": 0.06,
    "cloudsql.enterprisePlus.gbHour": 0.01,
    "cloudsql.ssd.gbMonth": 0.2,
    "network.interRegion.gb": 0.02,
    "gke.multiClusterGateway.backendPodHour": 0.004,
});

describe("cost estimate: a hand-priced GKE fleet member with a Cloud SQL Enterprise Plus replica", () => {
    const release = (name: string, values: unknown) => r("kubernetes:helm.sh/v3:Release", `${name}-release`, { name, chart: "./charts/apfa", values });
    const exportOf = (name: string) => r("kubernetes:net.gke.io/v1:ServiceExport", `${name}-export`, { metadata: { name, namespace: "apfa" } });
    const replica = r("gcp:sql/databaseInstance:DatabaseInstance", "replica", {
        name: "apfa-west4-pg",
        region: "test-west4",
        instanceType: "READ_REPLICA_INSTANCE",
        masterInstanceName: "apfa-west1-pg",
        settings: { tier: "db-perf-optimized-N-2", edition: "ENTERPRISE_PLUS", availabilityType: "REGIONAL", diskSize: 20, diskType: "PD_SSD", diskAutoresize: false, dataCacheConfig: { dataCacheEnabled: true } },
    });
    const graph = [
        r("gcp:gkehub/membership:Membership", "membership", { membershipId: "west4", location: "test-west4" }),
        r("gcp:gkehub/feature:Feature", "mcs", { name: "multiclusterservicediscovery", location: "global" }),
        r("gcp:gkehub/feature:Feature", "mci", { name: "multiclusteringress", location: "global" }),
        release("apfa-blue", { autoscaling: { enabled: true, minReplicas: 4, maxReplicas: 16 } }),
        release("apfa-green", { replicaCount: 2 }),
        exportOf("apfa-blue"),
        exportOf("apfa-green"),
        exportOf("apfa-region-west4"),
        replica,
    ];
    const estimateGcp = (resources: NeutralResource[], hints = {}) => estimate(resources, { cloud: "gcp", region: "test-west4", snapshots: loaderOf(GCP_WEST4), hints });
    const report = estimateGcp(graph);

    it("prices an Enterprise Plus N-2 replica as 2 vCPU and 16 GB, × 2 for regional HA, plus its disk and the cross-region replication", () => {
        close(monthly(report, "replica", "Cloud SQL Enterprise Plus read replica db-perf-optimized-N-2 vCPU").atRest, 2 * 2 * 730 * 0.06, "vCPU"); // $175.20
        close(monthly(report, "replica", "Cloud SQL Enterprise Plus read replica db-perf-optimized-N-2 memory 16 GB").atRest, 16 * 2 * 730 * 0.01, "memory"); // $233.60
        close(monthly(report, "replica", "Cloud SQL SSD storage, 20 GB").atRest, 20 * 2 * 0.2, "disk × 2"); // $8.00
        close(monthly(report, "replica", "replication from the primary in another region").atRest, 20 * 0.02, "crossRegionGb 20 × $0.02"); // $0.40
        assert.ok(report.notes.some((n) => n.startsWith("replica: Enterprise Plus data cache is on")), report.notes.join("; "));
    });

    it("prices the multi-cluster Gateway's backend pods per pod-hour on the slots' exports, the region export and the fleet pieces free", () => {
        close(monthly(report, "apfa-blue-export", "multi-cluster Gateway backend pods of apfa-blue, 4–16").atRest, 4 * 730 * 0.004, "4 pods"); // $11.68
        close(monthly(report, "apfa-blue-export", "multi-cluster Gateway backend pods of apfa-blue, 4–16").fullScale, 16 * 730 * 0.004, "16 pods"); // $46.72
        close(monthly(report, "apfa-green-export", "multi-cluster Gateway backend pods of apfa-green, 2").atRest, 2 * 730 * 0.004, "2 pods"); // $5.84
        const zeroOf = (type: string) => report.zeroCost.find((z) => z.type === type);
        assert.equal(zeroOf("kubernetes:net.gke.io/v1:ServiceExport")?.count, 1, "the region export");
        assert.equal(zeroOf("gcp:gkehub/feature:Feature")?.count, 2);
        assert.match(zeroOf("gcp:gkehub/membership:Membership")?.reason ?? "", /no extra cost/);
        close(report.atRest.total, 175.2 + 233.6 + 8 + 0.4 + 11.68 + 5.84, "total at rest"); // $434.72
        close(report.fullScale.total, 175.2 + 233.6 + 8 + 0.4 + 46.72 + 5.84, "total at full scale"); // $469.76
    });

    it("takes the replica range from the config hint when a preview hides the chart values, and says so when there is none", () => {
        const hidden = [release("apfa-blue", "[unknown]"), exportOf("apfa-blue"), r("gcp:gkehub/membership:Membership", "membership", {})];
        const hinted = estimateGcp(hidden, { appReplicas: { atRest: 3, fullScale: 9 } });
        close(monthly(hinted, "apfa-blue-export", "multi-cluster Gateway backend pods of apfa-blue, 3–9").fullScale, 9 * 730 * 0.004, "9 pods"); // $26.28
        const blind = estimateGcp(hidden);
        assert.deepEqual(blind.notPriced.map((e) => e.names), [["apfa-blue-export"]]);
    });

    it("an unknown fleet feature and an unknown Enterprise Plus tier are not priced, by name", () => {
        const odd = estimateGcp([
            r("gcp:gkehub/feature:Feature", "mesh", { name: "servicemesh" }),
            r("gcp:sql/databaseInstance:DatabaseInstance", "odd", { settings: { tier: "db-c4a-highmem-4", edition: "ENTERPRISE_PLUS" } }),
        ]);
        assert.deepEqual(
            odd.notPriced.map((e) => `${e.names.join(",")}: ${e.reason}`),
            ["mesh: fleet feature servicemesh is not known to the estimator", "odd: Cloud SQL ENTERPRISE_PLUS tier db-c4a-highmem-4 is not known to the estimator"],
        );
    });
});

const AZ_NEU = snapshot("azure", "test-neu", {
    "postgres.flexible.Standard_D2ds_v5.hour": 0.2,
    "postgres.flexible.storage.gbMonth": 0.1,
    "vnetPeering.global.outboundGb": 0.04,
    "vnetPeering.global.inboundGb": 0.03,
    "vnetPeering.regional.outboundGb": 0.01,
    "vnetPeering.regional.inboundGb": 0.01,
});

describe("cost estimate: a hand-priced Azure standby region (PostgreSQL replica, global peering, Front Door pieces)", () => {
    const graph = [
        r("azure-native:network:VirtualNetwork", "vnet", { virtualNetworkName: "neu-vnet", location: "test-neu" }),
        r("azure-native:network:VirtualNetworkPeering", "to-weu", { virtualNetworkName: "neu-vnet", remoteVirtualNetwork: { id: "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/weu-vnet" } }),
        r("azure-native:network:VirtualNetworkPeering", "from-weu", { virtualNetworkName: "weu-vnet", remoteVirtualNetwork: { id: "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/neu-vnet" } }),
        r("azure-native:dbforpostgresql:Server", "replica", { createMode: "Replica", sku: { name: "Standard_D2ds_v5", tier: "GeneralPurpose" }, highAvailability: { mode: "ZoneRedundant" }, storage: { storageSizeGB: 128 } }),
        r("azure-native:dbforpostgresql:VirtualEndpoint", "endpoint", { endpointType: "ReadWrite" }),
        r("azure-native:cdn:AFDEndpoint", "fd-endpoint", {}),
        r("azure-native:cdn:AFDOriginGroup", "fd-origins", {}),
        r("azure-native:cdn:AFDOrigin", "fd-origin", {}),
        r("azure-native:cdn:Route", "fd-route", {}),
        r("azure-native:cdn:SecurityPolicy", "fd-waf", {}),
        r("azure-native:authorization:RoleDefinition", "promote", {}),
    ];
    const report = estimate(graph, { cloud: "azure", region: "test-neu", snapshots: loaderOf(AZ_NEU) });

    it("prices a read replica as one server (no HA of its own) with its storage", () => {
        close(monthly(report, "replica", "PostgreSQL Flexible Server read replica Standard_D2ds_v5").atRest, 730 * 0.2, "one server"); // $146
        close(monthly(report, "replica", "PostgreSQL storage 128 GB").atRest, 128 * 0.1, "storage, once"); // $12.80
    });

    it("spreads crossRegionGb over the global peerings, billed outbound and inbound", () => {
        for (const name of ["to-weu", "from-weu"]) {
            close(monthly(report, name, "VNet peering (global) outbound").atRest, 10 * 0.04, `${name} out`); // 20 GB / 2 peerings
            close(monthly(report, name, "VNet peering (global) inbound").atRest, 10 * 0.03, `${name} in`);
        }
        close(report.atRest.total, 146 + 12.8 + 2 * (0.4 + 0.3), "total"); // $160.20
    });

    it("lists the Front Door pieces, the virtual endpoint and the role definition as free, each with its reason", () => {
        const reasons = Object.fromEntries(report.zeroCost.map((z) => [z.type, z.reason]));
        assert.match(reasons["azure-native:cdn:AFDEndpoint"], /base fee/);
        assert.match(reasons["azure-native:cdn:AFDOrigin"], /base fee/);
        assert.match(reasons["azure-native:cdn:SecurityPolicy"], /included in Front Door Standard\/Premium/);
        assert.match(reasons["azure-native:dbforpostgresql:VirtualEndpoint"], /included in the server price/);
        assert.match(reasons["azure-native:authorization:RoleDefinition"], /free/);
        assert.deepEqual(report.notPriced, []);
    });

    it("a peering between two networks of the graph in one region is priced at the regional rate", () => {
        const local = estimate(
            [
                r("azure-native:network:VirtualNetwork", "a", { virtualNetworkName: "a", location: "test-neu" }),
                r("azure-native:network:VirtualNetwork", "b", { virtualNetworkName: "b", location: "test-neu" }),
                r("azure-native:network:VirtualNetworkPeering", "a-b", { virtualNetworkName: "a", remoteVirtualNetwork: { id: "/x/virtualNetworks/b" } }),
            ],
            { cloud: "azure", region: "test-neu", snapshots: loaderOf(AZ_NEU) },
        );
        close(local.atRest.total, 20 * 0.01 + 20 * 0.01, "20 GB out and in at $0.01");
    });
});

describe("cost of a multi-region deployment", () => {
    const fake = (cloud: "aws" | "azure", atRest: number, fullScale: number): CostReport =>
        ({ cloud, region: "x", atRest: { total: atRest }, fullScale: { total: fullScale }, items: [], notPriced: [], zeroCost: [], notes: [] }) as unknown as CostReport;

    it("compares the stacks' total with the seed's Phase 2 + Phase 3 (~$680 + ~$5,000 on AWS)", () => {
        // total $1,500 / $3,500 against $5,680: (1500 - 5680) / 5680 = -74 %, (3500 - 5680) / 5680 = -38 %
        assert.equal(
            phase3Comparison([fake("aws", 1000, 2000), fake("aws", 500, 1500)]),
            "Phase 3 AWS, 2 region stacks: $1,500.00 at rest, $3,500.00 at full scale vs seed ~$5,680 (Phase 2 ~$680 + Phase 3 ~$5,000) (-74 % / -38 %); above the Phase 2 seed: $820.00 / $2,820.00 against the seed's ~$5,000",
        );
        assert.match(phase3Comparison([fake("aws", 1, 1), fake("azure", 1, 1)]), /no seed figure for this mix of clouds/);
    });

    it("prints each stack and the total, with the total's budget", () => {
        const text = renderDeployment(
            [
                { stack: "east", report: fake("aws", 1000, 2000) },
                { stack: "west", report: fake("aws", 500, 1500) },
            ],
            3000,
        );
        assert.match(text, /east\s+aws, x\s+\$1,000\.00\s+\$2,000\.00/);
        assert.match(text, /total \(USD \/ month\)\s+\$1,500\.00\s+\$3,500\.00/);
        assert.match(text, /over budget: the total at full scale is \$3,500\.00\/month, \$500\.00 above --budget \$3,000\.00/);
    });

    it("--stack repeats, --deployment expands to the deployment's region stacks, primary first, and misuse fails by name", () => {
        assert.deepEqual(parseCostArgs(["--stack", "a", "--stack", "b"]).stacks, ["a", "b"]);
        assert.deepEqual(parseCostArgs(["--deployment", "prod-aws-usw2"]).stacks, ["prod-aws-use1", "prod-aws-usw2"]);
        assert.deepEqual(parseCostArgs(["--deployment", "prod-aa-euw1"]).stacks, ["prod-aa-use1", "prod-aa-euw1", "prod-aa-aps1"]);
        assert.throws(() => parseCostArgs(["--deployment", "prod-aws"]), /prod-aws is not part of a multi-region deployment/);
        assert.throws(() => parseCostArgs(["--stack", "a", "--stack", "b", "--plan", "p.json"]), /--plan prices one stack/);
        assert.throws(() => parseCostArgs(["--stack", "a", "--stack", "a"]), /a stack is named twice/);
        assert.throws(() => parseCostArgs(["--deployment", "prod-aws-use1", "--stack", "x"]), /exclude each other/);
    });
});
