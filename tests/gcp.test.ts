/**
 * The prod-gcp stack, synthesised on mocks from Pulumi.prod-gcp.yaml: what a `pulumi up` would ask
 * GCP and the cluster for. Each test names the requirement it checks.
 */
import * as assert from "node:assert/strict";

import { GKE_PRESTOP_SECONDS, gkeDrain, gkeExposureWarnings } from "../src/targets/gcp";
import { CERTMAP_ANNOTATION, certificateNames, dnsRecordLine } from "../src/targets/gcp/certificate";
import { gcpBackendPolicySchema, healthCheckPolicySchema } from "./fixtures/gcp/gke-policy-schemas";
import {
    changedResources,
    ancestorTypes,
    find,
    ofType,
    type Plan,
    type PlannedResource,
    readStackFile,
    REDACTED,
    synthError,
    synthStack,
    synthWarnings,
} from "./helpers/synth";

const STACK = "prod-gcp";
const NAME = "apfa-prod-gcp";
const GKE_TYPE = "apfa:gcp:GkeCluster";

const T = {
    network: "gcp:compute/network:Network",
    subnet: "gcp:compute/subnetwork:Subnetwork",
    router: "gcp:compute/router:Router",
    nat: "gcp:compute/routerNat:RouterNat",
    cluster: "gcp:container/cluster:Cluster",
    nodePool: "gcp:container/nodePool:NodePool",
    serviceAccount: "gcp:serviceaccount/account:Account",
    iamMember: "gcp:projects/iAMMember:IAMMember",
    k8sProvider: "pulumi:providers:kubernetes",
    release: "kubernetes:helm.sh/v3:Release",
    gateway: "kubernetes:gateway.networking.k8s.io/v1:Gateway",
    route: "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
    healthCheckPolicy: "kubernetes:networking.gke.io/v1:HealthCheckPolicy",
    backendPolicy: "kubernetes:networking.gke.io/v1:GCPBackendPolicy",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
} as const;

/** The stack file's `apfa:gcp` section with some keys replaced, as a whole-key override. */
function gcpOverride(changes: Record<string, unknown>): Record<string, unknown> {
    const section = readStackFile(STACK)["apfa:gcp"] as Record<string, unknown>;
    return { "apfa:gcp": { ...section, ...changes } };
}

/**
 * A regional Gateway class: those cannot use a certificate map, so the stack goes without TLS and
 * says so (allowPlainHttp), as a user of an internal or regional class would.
 */
function regionalOverride(gatewayClass: string, changes: Record<string, unknown> = {}): Record<string, unknown> {
    return { ...gcpOverride({ gatewayClass, tls: undefined, ...changes }), "apfa:allowPlainHttp": true };
}

const TLS = { domainName: "apfa.example.com" };

function releaseOverride(changes: Record<string, unknown>): Record<string, unknown> {
    const section = readStackFile(STACK)["apfa:release"] as Record<string, unknown>;
    return { "apfa:release": { ...section, ...changes } };
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function inputs(r: PlannedResource): Json {
    return r.inputs as Json;
}


function routeBackends(plan: Plan): Json[] {
    const route = find(plan, T.route, `${NAME}-apfa-route`);
    return inputs(route).spec.rules[0].backendRefs;
}

describe("prod-gcp stack (GKE target)", function () {
    let plan: Plan;

    before(function () {
        plan = synthStack(STACK);
    });

    describe("the stack", () => {
        it("synthesizes and loads @pulumi/gcp, but neither the AWS nor the Azure SDK", () => {
            assert.ok(plan.resources.length > 0);
            assert.ok(plan.loadedPackages.includes("@pulumi/gcp"), plan.loadedPackages.join(", "));
            for (const other of ["@pulumi/aws", "@pulumi/azure-native", "@pulumi/docker"]) {
                assert.ok(!plan.loadedPackages.includes(other), `${other} must not load for a gcp stack`);
            }
        });

        it("parents every GCP resource and every GKE policy under the GkeCluster component", () => {
            const mine = plan.resources.filter((r) => r.type.startsWith("gcp:") || r.type.startsWith("kubernetes:networking.gke.io/"));
            assert.ok(mine.length >= 12);
            for (const r of mine) {
                assert.ok(ancestorTypes(plan, r).includes(GKE_TYPE), `${r.type} ${r.name} is not under ${GKE_TYPE}`);
                assert.ok(r.name.startsWith(`${NAME}-`), `${r.name} is not derived from the component's name`);
            }
        });

        it("passes the project explicitly to every GCP resource", () => {
            // servicenetworking.Connection has no project input: it belongs to its network's project.
            for (const r of plan.resources.filter((x) => x.type.startsWith("gcp:") && x.type !== "gcp:servicenetworking/connection:Connection")) {
                assert.equal(inputs(r).project, "apfa-prod", `${r.type} ${r.name}`);
            }
        });
    });

    describe("network", () => {
        it("is a custom-mode VPC with a nodes subnet carrying secondary ranges for Pods and Services", () => {
            const network = find(plan, T.network, `${NAME}-vpc`);
            assert.equal(inputs(network).autoCreateSubnetworks, false);
            const subnet = find(plan, T.subnet, `${NAME}-nodes`);
            assert.equal(inputs(subnet).region, "europe-west1");
            assert.equal(inputs(subnet).ipCidrRange, "10.60.0.0/20");
            assert.deepEqual(inputs(subnet).secondaryIpRanges, [
                { rangeName: "pods", ipCidrRange: "10.64.0.0/14" },
                { rangeName: "services", ipCidrRange: "10.68.0.0/20" },
            ]);
        });

        it("gives private nodes Google APIs (Private Google Access) and the internet (Cloud NAT on the nodes subnet)", () => {
            assert.equal(inputs(find(plan, T.subnet, `${NAME}-nodes`)).privateIpGoogleAccess, true);
            const nat = find(plan, T.nat, `${NAME}-nat`);
            assert.equal(inputs(nat).router, inputs(find(plan, T.router, `${NAME}-router`)).name);
            assert.equal(inputs(nat).sourceSubnetworkIpRangesToNat, "LIST_OF_SUBNETWORKS");
            assert.deepEqual(inputs(nat).subnetworks, [{ name: `${NAME}-nodes-id`, sourceIpRangesToNats: ["ALL_IP_RANGES"] }]);
        });

        it("has no proxy-only subnet for the global external managed class, which does not need one", () => {
            assert.deepEqual(
                ofType(plan, T.subnet).map((r) => r.name),
                [`${NAME}-nodes`],
            );
        });

        it("adds a REGIONAL_MANAGED_PROXY subnet for a regional class, before the Gateway", () => {
            const regional = synthStack(STACK, regionalOverride("gke-l7-regional-external-managed"));
            const proxy = find(regional, T.subnet, `${NAME}-proxy-only`);
            assert.equal(inputs(proxy).purpose, "REGIONAL_MANAGED_PROXY");
            assert.equal(inputs(proxy).role, "ACTIVE");
            assert.equal(inputs(proxy).region, "europe-west1");
            assert.equal(inputs(proxy).ipCidrRange, "10.69.0.0/23");
            // The Kubernetes layer (and so its Gateway) waits for the subnet.
            const layer = regional.resources.find((r) => r.type === "apfa:kubernetes:KubernetesApfa");
            assert.ok(layer);
            const namespace = regional.resources.find((r) => r.type === "kubernetes:core/v1:Namespace");
            assert.ok(namespace?.options.dependsOn.includes(proxy.urn), "the namespace (first object of the layer) must depend on the proxy-only subnet");
        });
    });

    describe("cluster", () => {
        let cluster: Json;
        before(() => {
            cluster = inputs(find(plan, T.cluster, `${NAME}-gke`));
        });

        it("is a regional GKE Standard cluster named after project and stack", () => {
            assert.equal(cluster.location, "europe-west1");
            assert.equal(cluster.name, NAME);
            assert.equal(cluster.enableAutopilot, undefined);
        });

        it("removes the default node pool (initialNodeCount 1, as GKE requires)", () => {
            assert.equal(cluster.removeDefaultNodePool, true);
            assert.equal(cluster.initialNodeCount, 1);
        });

        it("is enrolled in the configured release channel", () => {
            assert.deepEqual(cluster.releaseChannel, { channel: "REGULAR" });
            const stable = synthStack(STACK, gcpOverride({ releaseChannel: "STABLE" }));
            assert.deepEqual(inputs(find(stable, T.cluster, `${NAME}-gke`)).releaseChannel, { channel: "STABLE" });
        });

        it("enables Workload Identity with the project's pool", () => {
            assert.deepEqual(cluster.workloadIdentityConfig, { workloadPool: "apfa-prod.svc.id.goog" });
        });

        it("enables the Gateway API (standard channel) and the HTTP load-balancing add-on it needs", () => {
            assert.deepEqual(cluster.gatewayApiConfig, { channel: "CHANNEL_STANDARD" });
            assert.deepEqual(cluster.addonsConfig.httpLoadBalancing, { disabled: false });
        });

        it("is VPC-native on the subnet's secondary ranges", () => {
            assert.equal(cluster.networkingMode, "VPC_NATIVE");
            assert.equal(cluster.network, NAME);
            assert.equal(cluster.subnetwork, `${NAME}-nodes`);
            assert.equal(cluster.ipAllocationPolicy.clusterSecondaryRangeName, "pods");
            assert.equal(cluster.ipAllocationPolicy.servicesSecondaryRangeName, "services");
        });

        it("has private nodes with a public, IAM-authenticated control-plane endpoint, reached through Private Service Connect (no peering range)", () => {
            assert.deepEqual(cluster.privateClusterConfig, { enablePrivateNodes: true, enablePrivateEndpoint: false });
            assert.equal(cluster.masterAuthorizedNetworksConfig, undefined);
        });

        it("keeps a legacy VPC-peering control-plane range only when the stack names one (an existing cluster's)", () => {
            const legacy = synthStack(STACK, gcpOverride({ masterCidr: "172.16.0.0/28" }));
            assert.deepEqual(inputs(find(legacy, T.cluster, `${NAME}-gke`)).privateClusterConfig, {
                enablePrivateNodes: true,
                enablePrivateEndpoint: false,
                masterIpv4CidrBlock: "172.16.0.0/28",
            });
        });

        it("limits the control plane to authorized networks when configured", () => {
            const limited = synthStack(STACK, gcpOverride({ masterAuthorizedCidrs: ["198.51.100.0/24"] }));
            assert.deepEqual(inputs(find(limited, T.cluster, `${NAME}-gke`)).masterAuthorizedNetworksConfig, {
                cidrBlocks: [{ cidrBlock: "198.51.100.0/24", displayName: "operators" }],
                gcpPublicCidrsAccessEnabled: false,
            });
        });

        it("has shielded nodes, no legacy ABAC, and Dataplane V2 (which enforces NetworkPolicy)", () => {
            assert.equal(cluster.enableShieldedNodes, true);
            assert.equal(cluster.enableLegacyAbac, false);
            assert.equal(cluster.datapathProvider, "ADVANCED_DATAPATH");
        });

        it("is deletion-protected by default, and not when the stack says so", () => {
            assert.equal(cluster.deletionProtection, true);
            const unprotected = synthStack(STACK, gcpOverride({ deletionProtection: false }));
            assert.equal(inputs(find(unprotected, T.cluster, `${NAME}-gke`)).deletionProtection, false);
        });

        it("carries the stack's tags as GCP labels (lowercase) plus the identity labels", () => {
            assert.deepEqual(cluster.resourceLabels, {
                environment: "production",
                owner: "platform-team",
                "apfa-project": "apfa",
                "apfa-stack": "prod-gcp",
                "managed-by": "pulumi",
            });
            const tagged = synthStack(STACK, { "apfa:tags": { Owner: "Platform Team" } });
            assert.equal(inputs(find(tagged, T.cluster, `${NAME}-gke`)).resourceLabels.owner, "platform_team");
        });

        it("ignores the removed default pool's node config after creation (no forced replacement)", () => {
            assert.ok(find(plan, T.cluster, `${NAME}-gke`).options.ignoreChanges.includes("nodeConfig"));
        });
    });

    describe("APFA node pool", () => {
        let pool: PlannedResource;
        before(() => {
            pool = find(plan, T.nodePool, `${NAME}-apfa-pool`);
        });

        it("autoscales between the per-zone bounds of the stack file, balanced across zones", () => {
            assert.deepEqual(inputs(pool).autoscaling, { minNodeCount: 1, maxNodeCount: 4, locationPolicy: "BALANCED" });
            assert.equal(inputs(pool).autoscaling.totalMinNodeCount, undefined, "bounds are per zone, not totals");
            const bigger = synthStack(STACK, gcpOverride({ minNodesPerZone: 2, maxNodesPerZone: 6 }));
            assert.deepEqual(inputs(find(bigger, T.nodePool, `${NAME}-apfa-pool`)).autoscaling, {
                minNodeCount: 2,
                maxNodeCount: 6,
                locationPolicy: "BALANCED",
            });
        });

        it("belongs to the regional cluster and starts with the lower bound (at least one node per zone)", () => {
            assert.equal(inputs(pool).cluster, NAME);
            assert.equal(inputs(pool).location, "europe-west1");
            assert.equal(inputs(pool).initialNodeCount, 1);
            assert.equal(inputs(pool).nodeCount, undefined, "a fixed count would fight the autoscaler");
            assert.ok(pool.options.ignoreChanges.includes("initialNodeCount"), "a new lower bound must not replace the pool");
        });

        it("runs the configured machine type with the GKE metadata server (Workload Identity)", () => {
            assert.equal(inputs(pool).nodeConfig.machineType, "e2-standard-4");
            assert.deepEqual(inputs(pool).nodeConfig.workloadMetadataConfig, { mode: "GKE_METADATA" });
            const c3 = synthStack(STACK, gcpOverride({ machineType: "c3-standard-4" }));
            assert.equal(inputs(find(c3, T.nodePool, `${NAME}-apfa-pool`)).nodeConfig.machineType, "c3-standard-4");
        });

        it("is auto-repaired, auto-upgraded, surge-upgraded, shielded (secure boot, integrity monitoring)", () => {
            assert.deepEqual(inputs(pool).management, { autoRepair: true, autoUpgrade: true });
            assert.deepEqual(inputs(pool).upgradeSettings, { strategy: "SURGE", maxSurge: 1, maxUnavailable: 0 });
            assert.deepEqual(inputs(pool).nodeConfig.shieldedInstanceConfig, { enableSecureBoot: true, enableIntegrityMonitoring: true });
        });

        it("carries the APFA pool node label and the stack's GCP labels", () => {
            assert.deepEqual(inputs(pool).nodeConfig.labels, { "apfa.io/node-pool": "apfa" });
            assert.equal(inputs(pool).nodeConfig.resourceLabels["apfa-stack"], "prod-gcp");
        });
    });

    describe("node identity: least privilege", () => {
        const EXPECTED_ROLES = ["roles/artifactregistry.reader", "roles/container.defaultNodeServiceAccount"];
        const EMAIL = `${NAME}-nodes@apfa-prod.iam.gserviceaccount.com`;

        it("a dedicated service account holds exactly GKE's default node role and Artifact Registry reader, and no owner/editor", () => {
            const sa = find(plan, T.serviceAccount, `${NAME}-node-sa`);
            assert.equal(inputs(sa).accountId, `${NAME}-nodes`);
            const bindings = ofType(plan, T.iamMember);
            assert.deepEqual(bindings.map((b) => inputs(b).role).sort(), EXPECTED_ROLES);
            for (const b of bindings) {
                assert.equal(inputs(b).member, `serviceAccount:${EMAIL}`);
                assert.ok(!/owner|editor|admin/i.test(inputs(b).role), inputs(b).role);
            }
        });

        it("both the APFA pool and the short-lived default pool run as it, with the cloud-platform scope", () => {
            const pool = inputs(find(plan, T.nodePool, `${NAME}-apfa-pool`)).nodeConfig;
            const defaultPool = inputs(find(plan, T.cluster, `${NAME}-gke`)).nodeConfig;
            for (const nodeConfig of [pool, defaultPool]) {
                assert.equal(nodeConfig.serviceAccount, EMAIL);
                assert.deepEqual(nodeConfig.oauthScopes, ["https://www.googleapis.com/auth/cloud-platform"]);
                assert.deepEqual(nodeConfig.workloadMetadataConfig, { mode: "GKE_METADATA" });
            }
        });

        it("nodes are created only after their roles are granted", () => {
            const bindings = ofType(plan, T.iamMember).map((b) => b.urn);
            for (const r of [find(plan, T.nodePool, `${NAME}-apfa-pool`), find(plan, T.cluster, `${NAME}-gke`)]) {
                for (const urn of bindings) {
                    assert.ok(r.options.dependsOn.includes(urn), `${r.name} must depend on ${urn}`);
                }
            }
        });
    });

    describe("cluster access", () => {
        it("feeds a secret kubeconfig to the Kubernetes provider, which waits for the node pool", () => {
            const provider = find(plan, T.k8sProvider, `${NAME}-k8s`);
            assert.equal(inputs(provider).kubeconfig, REDACTED);
            assert.ok(plan.secretInputs.includes(`${T.k8sProvider}::${NAME}-k8s.kubeconfig`));
            assert.ok(provider.options.dependsOn.includes(find(plan, T.nodePool, `${NAME}-apfa-pool`).urn));
        });

        it("replaces the provider (and so every Kubernetes object) only with another cluster: clusterIdentifier is the cluster's id", () => {
            const provider = find(plan, T.k8sProvider, `${NAME}-k8s`);
            // The synth's mocks give a resource without a mocked id the id `<logical name>-id`.
            assert.equal(inputs(provider).clusterIdentifier, `${find(plan, T.cluster, `${NAME}-gke`).name}-id`);
        });

        it("every Kubernetes object of the stack goes through that provider", () => {
            const objects = plan.resources.filter((r) => r.type.startsWith("kubernetes:"));
            assert.ok(objects.length >= 8);
            for (const r of objects) {
                assert.ok(r.provider?.includes(`${T.k8sProvider}::${NAME}-k8s::`), `${r.type} ${r.name} uses ${r.provider}`);
            }
        });

        it("exports the kubeconfig as a secret, and the cluster's names in the clear", () => {
            const target = plan.outputs.target as Record<string, unknown>;
            assert.equal(target.kubeconfig, REDACTED);
            assert.equal(target.clusterName, "apfa-prod-gcp");
            assert.equal(target.location, "europe-west1");
        });
    });

    describe("APFA on the cluster: Gateway, route, chart", () => {
        it("puts the Gateway on the configured GKE class", () => {
            const [gateway] = ofType(plan, T.gateway);
            assert.equal(inputs(gateway).spec.gatewayClassName, "gke-l7-global-external-managed");
            const rilb = synthStack(STACK, regionalOverride("gke-l7-rilb"));
            assert.equal(inputs(ofType(rilb, T.gateway)[0]).spec.gatewayClassName, "gke-l7-rilb");
        });

        it("sends all traffic to the active slot at rest", () => {
            assert.deepEqual(
                routeBackends(plan).map((b) => [b.name, b.weight]),
                [
                    ["apfa-blue", 100],
                    ["apfa-green", 0],
                ],
            );
        });

        it("previewWeight 10 gives the route 90/10", () => {
            const preview = synthStack(STACK, releaseOverride({ previewWeight: 10 }));
            assert.deepEqual(
                routeBackends(preview).map((b) => [b.name, b.weight]),
                [
                    ["apfa-blue", 90],
                    ["apfa-green", 10],
                ],
            );
            assert.equal(preview.outputs.weights !== undefined, true);
            assert.deepEqual(preview.outputs.weights, { blue: 90, green: 10 });
        });

        it("sends users only to the slots' app port: no backend is the metrics port or the headless Service", () => {
            for (const route of ofType(plan, T.route)) {
                for (const rule of inputs(route).spec.rules) {
                    for (const ref of rule.backendRefs ?? []) {
                        assert.equal(ref.port, 8000);
                        assert.match(ref.name, /^apfa-(blue|green)$/);
                    }
                }
            }
        });

        it("gives APFA GKE's drain timing: a 35 s preStop sleep and a grace period of preStop + connection draining + APFA's drain + 5 s", () => {
            for (const release of ofType(plan, T.release)) {
                assert.equal(inputs(release).values.preStopSleepSeconds, 35);
                assert.equal(inputs(release).values.terminationGracePeriodSeconds, 35 + 30 + 10 + 5);
            }
            const longDrain = synthStack(STACK, gcpOverride({ connectionDrainingSeconds: 120 }));
            for (const release of ofType(longDrain, T.release)) {
                assert.equal(inputs(release).values.terminationGracePeriodSeconds, 35 + 120 + 10 + 5);
            }
            assert.deepEqual(gkeDrain({ connectionDrainingSeconds: 30 }), { preStopSleepSeconds: GKE_PRESTOP_SECONDS, loadBalancerDrainSeconds: 30 });
        });

        it("installs the chart once per slot with that slot's image, on the APFA node pool", () => {
            const images = readStackFile(STACK)["apfa:release"] as Record<string, { image: string }>;
            const releases = ofType(plan, T.release);
            assert.deepEqual(releases.map((r) => inputs(r).name).sort(), ["apfa-blue", "apfa-green"]);
            for (const release of releases) {
                const values = inputs(release).values;
                const slot = values.slot as "blue" | "green";
                assert.equal(inputs(release).name, `apfa-${slot}`);
                assert.equal(values.image, images[slot].image);
                assert.deepEqual(values.nodeSelector, { "apfa.io/node-pool": "apfa" });
                assert.equal(values.port, 8000);
                assert.equal(values.metricsPort, 9100);
                assert.equal(values.healthPath, "/health");
                assert.equal(values.autoscaling.minReplicas, 4);
                assert.equal(values.autoscaling.maxReplicas, 16);
                assert.equal(values.autoscaling.targetCPUUtilizationPercentage, 70);
            }
        });

        it("a slot's new image changes only that slot's release", () => {
            const green = synthStack(STACK, releaseOverride({ green: { image: "europe-west1-docker.pkg.dev/apfa-prod/apfa/apfa:1.1.0" } }));
            assert.deepEqual(changedResources(plan, green), [`${T.release}::${NAME}-apfa-green`]);
        });

        it("admits APFA's app port only from Google's load-balancer ranges, and the metrics port only from Prometheus", () => {
            const [policy] = ofType(plan, T.networkPolicy).filter((r) => inputs(r).metadata.name === "apfa");
            assert.ok(policy, "an APFA NetworkPolicy");
            const fromBlocks = inputs(policy).spec.ingress[0].from.map((p: Json) => p.ipBlock.cidr);
            assert.deepEqual(fromBlocks, ["35.191.0.0/16", "130.211.0.0/22"]);
            assert.deepEqual(inputs(policy).spec.ingress[0].ports, [{ protocol: "TCP", port: 8000 }]);
            assert.deepEqual(inputs(policy).spec.ingress[1], {
                from: [{ podSelector: { matchLabels: { "apfa.io/scrapes-apfa": "true" } } }],
                ports: [{ protocol: "TCP", port: 9100 }],
            });
            assert.ok(
                ofType(plan, T.networkPolicy).some((r) => inputs(r).metadata.name === "default-deny" && inputs(r).spec.policyTypes.join() === "Ingress,Egress"),
                "the namespace denies by default",
            );
            const regional = synthStack(STACK, regionalOverride("gke-l7-regional-external-managed"));
            const [regionalPolicy] = ofType(regional, T.networkPolicy).filter((r) => inputs(r).metadata.name === "apfa");
            assert.deepEqual(
                inputs(regionalPolicy).spec.ingress[0].from.map((p: Json) => p.ipBlock.cidr),
                ["35.191.0.0/16", "130.211.0.0/22", "10.69.0.0/23"],
                "Envoy-based regional load balancers connect from the proxy-only subnet",
            );
        });
    });

    describe("GKE load-balancer policies per slot", () => {
        it("a HealthCheckPolicy per slot checks APFA's health path on APFA's port, on the route's backend Service", () => {
            const backends = routeBackends(plan).map((b) => b.name);
            const policies = ofType(plan, T.healthCheckPolicy);
            assert.equal(policies.length, 2);
            assert.deepEqual(policies.map((p) => inputs(p).spec.targetRef.name).sort(), [...backends].sort());
            for (const p of policies) {
                const check = inputs(p).spec.default.config;
                assert.equal(check.type, "HTTP");
                assert.equal(check.httpHealthCheck.requestPath, "/health");
                assert.equal(check.httpHealthCheck.port, 8000);
                assert.equal(inputs(p).metadata.namespace, "apfa");
            }
        });

        it("follows a custom health path", () => {
            const custom = synthStack(STACK, { "apfa:app": { healthPath: "/ready" } });
            for (const p of ofType(custom, T.healthCheckPolicy)) {
                assert.equal(inputs(p).spec.default.config.httpHealthCheck.requestPath, "/ready");
            }
        });

        it("a GCPBackendPolicy per slot drains removed endpoints within the configured seconds", () => {
            const policies = ofType(plan, T.backendPolicy);
            assert.deepEqual(policies.map((p) => inputs(p).spec.targetRef.name).sort(), ["apfa-blue", "apfa-green"]);
            for (const p of policies) {
                assert.deepEqual(inputs(p).spec.default.connectionDraining, { drainingTimeoutSec: 30 });
            }
        });

        it("both policies match the schemas of their GKE CRDs, as sent", () => {
            for (const p of ofType(plan, T.healthCheckPolicy)) {
                const result = healthCheckPolicySchema.safeParse(inputs(p));
                assert.ok(result.success, `${p.name}: ${JSON.stringify(result.error?.issues)}`);
            }
            for (const p of ofType(plan, T.backendPolicy)) {
                const result = gcpBackendPolicySchema.safeParse(inputs(p));
                assert.ok(result.success, `${p.name}: ${JSON.stringify(result.error?.issues)}`);
            }
        });

        it("are applied once the layer's namespace and both slots' releases (their Services) exist", () => {
            const needed = [...ofType(plan, "kubernetes:core/v1:Namespace"), ...ofType(plan, T.release)].map((r) => r.urn);
            assert.equal(needed.length, 3);
            for (const p of [...ofType(plan, T.healthCheckPolicy), ...ofType(plan, T.backendPolicy)]) {
                for (const urn of needed) {
                    assert.ok(p.options.dependsOn.includes(urn), `${p.name} must wait for ${urn}`);
                }
                const gateway = ofType(plan, T.gateway)[0].urn;
                assert.ok(!p.options.dependsOn.includes(gateway), `${p.name} need not wait for the Gateway to be programmed`);
            }
        });
    });

    describe("blast radius of a release step", () => {
        it("previewWeight 10 → 50 changes only the HTTPRoute", () => {
            const ten = synthStack(STACK, releaseOverride({ previewWeight: 10 }));
            const fifty = synthStack(STACK, releaseOverride({ previewWeight: 50 }));
            assert.deepEqual(changedResources(ten, fifty), [`${T.route}::${NAME}-apfa-route`]);
        });

        it("the trafficUrn output names that route", () => {
            const route = find(plan, T.route, `${NAME}-apfa-route`);
            assert.equal(plan.outputs.trafficUrn, route.urn);
        });
    });

    describe("exposure warnings", () => {
        it("warn that the control plane is public without master authorized networks", () => {
            const [warning, ...more] = gkeExposureWarnings({ masterAuthorizedCidrs: undefined, gatewayClass: "gke-l7-global-external-managed" });
            assert.deepEqual(more, []);
            assert.match(warning, /GKE Kubernetes API is reachable from the internet \(every request still needs Google IAM credentials\)/);
            assert.match(warning, /apfa:gcp\.masterAuthorizedCidrs/);
            assert.deepEqual(gkeExposureWarnings({ masterAuthorizedCidrs: ["198.51.100.0/24"], gatewayClass: "gke-l7-global-external-managed" }), []);
        });

        it("warn that url is VPC-internal on the internal gke-l7-rilb class", () => {
            const warnings = gkeExposureWarnings({ masterAuthorizedCidrs: ["198.51.100.0/24"], gatewayClass: "gke-l7-rilb" });
            assert.equal(warnings.length, 1);
            assert.match(warnings[0], /gke-l7-rilb is internal: the `url` output is a VPC-internal address/);
            for (const external of ["gke-l7-regional-external-managed", "gke-l7-gxlb"] as const) {
                assert.deepEqual(gkeExposureWarnings({ masterAuthorizedCidrs: ["198.51.100.0/24"], gatewayClass: external }), []);
            }
        });

        it("are logged on `pulumi up`: the public control plane for the stack file, both on rilb, none when restricted and external", function () {
            this.timeout(120_000);
            // Only the exposure warnings (the stack file sets no alert receiver, which warns too: tests/alerting.test.ts).
            const synthWarnings = (stack: string, overrides: Record<string, unknown> = {}) => exposureWarnings(stack, overrides);
            assert.deepEqual(synthWarnings(STACK), gkeExposureWarnings({ masterAuthorizedCidrs: undefined, gatewayClass: "gke-l7-global-external-managed" }));
            assert.equal(synthWarnings(STACK, regionalOverride("gke-l7-rilb")).length, 2);
            assert.deepEqual(synthWarnings(STACK, gcpOverride({ masterAuthorizedCidrs: ["198.51.100.0/24"] })), []);
        });
    });

    describe("HTTPS (apfa:gcp.tls): a Google-managed certificate in a Certificate Manager map", () => {
        let tlsPlan: Plan;
        before(() => {
            tlsPlan = synthStack(STACK, gcpOverride({ tls: TLS }));
        });

        it("authorises the domain by DNS, and issues a managed certificate for it with that authorisation", () => {
            const names = certificateNames(NAME);
            const auth = find(tlsPlan, "gcp:certificatemanager/dnsAuthorization:DnsAuthorization", `${NAME}-tls-dns-auth`);
            assert.deepEqual([inputs(auth).name, inputs(auth).domain, inputs(auth).project], [names.dnsAuthorization, "apfa.example.com", "apfa-prod"]);
            const cert = find(tlsPlan, "gcp:certificatemanager/certificate:Certificate", `${NAME}-tls-cert`);
            assert.equal(inputs(cert).scope, "DEFAULT");
            assert.deepEqual(inputs(cert).managed, { domains: ["apfa.example.com"], dnsAuthorizations: [`${NAME}-tls-dns-auth-id`] });
        });

        it("maps the host name to the certificate and names the map in the Gateway's certmap annotation, the Gateway waiting for the entry", () => {
            const names = certificateNames(NAME);
            const map = find(tlsPlan, "gcp:certificatemanager/certificateMap:CertificateMap", `${NAME}-tls-certmap`);
            const entry = find(tlsPlan, "gcp:certificatemanager/certificateMapEntry:CertificateMapEntry", `${NAME}-tls-certmap-entry`);
            assert.equal(inputs(map).name, names.map);
            assert.deepEqual([inputs(entry).map, inputs(entry).hostname, inputs(entry).certificates], [names.map, "apfa.example.com", [`${NAME}-tls-cert-id`]]);
            const gateway = find(tlsPlan, T.gateway, `${NAME}-apfa-gateway`);
            assert.equal(inputs(gateway).metadata.annotations[CERTMAP_ANNOTATION], names.map);
            assert.equal(CERTMAP_ANNOTATION, "networking.gke.io/certmap");
            assert.ok(gateway.options.dependsOn.includes(entry.urn));
        });

        it("listens on 443 with no tls block (the map provides the certificate) and redirects port 80 to HTTPS", () => {
            const gateway = find(tlsPlan, T.gateway, `${NAME}-apfa-gateway`);
            assert.deepEqual(inputs(gateway).spec.listeners, [
                { name: "http", protocol: "HTTP", port: 80, allowedRoutes: { namespaces: { from: "Same" } } },
                { name: "https", protocol: "HTTPS", port: 443, allowedRoutes: { namespaces: { from: "Same" } } },
            ]);
            assert.deepEqual(inputs(find(tlsPlan, T.route, `${NAME}-apfa-route`)).spec.parentRefs, [{ name: "apfa", sectionName: "https" }]);
            const redirect = find(tlsPlan, T.route, `${NAME}-apfa-https-redirect`);
            assert.deepEqual(inputs(redirect).spec.rules[0].filters, [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }]);
            assert.equal(tlsPlan.outputs.url, "https://apfa.example.com");
        });

        it("outputs where the A record must point and the CNAME record that authorises the certificate", () => {
            const target = tlsPlan.outputs.target as Json;
            assert.equal(target.gatewayAddress, "203.0.113.80");
            assert.equal(typeof target.certificateDnsRecord, "string");
            assert.equal(
                dnsRecordLine({ name: "_acme-challenge.apfa.example.com.", type: "CNAME", data: "abc.1.authorize.certificatemanager.goog." }, "a", "p"),
                "_acme-challenge.apfa.example.com. CNAME abc.1.authorize.certificatemanager.goog.",
            );
            assert.match(dnsRecordLine(undefined, "apfa-prod-gcp-dns-auth", "apfa-prod"), /gcloud certificate-manager dns-authorizations describe apfa-prod-gcp-dns-auth --project apfa-prod/);
        });

        it("plain HTTP without TLS: no certificate resources, no redirect, url is http://<address>", () => {
            const plain = synthStack(STACK, { ...gcpOverride({ tls: undefined }), "apfa:allowPlainHttp": true });
            assert.equal(plain.resources.filter((r) => r.type.startsWith("gcp:certificatemanager/")).length, 0);
            assert.equal(ofType(plain, T.route).length, 1);
            assert.equal(plain.outputs.url, "http://203.0.113.80");
            assert.equal((plain.outputs.target as Json).certificateDnsRecord, undefined);
        });
    });

    describe("config errors stop the run before any resource", () => {
        it("Autopilot is refused", () => {
            assert.match(synthError(STACK, gcpOverride({ autopilot: true })), /apfa:gcp\.autopilot: Autopilot is not supported/);
        });

        it("a production stack without TLS is refused unless allowPlainHttp says TLS ends in front of it", () => {
            const message = synthError(STACK, { ...gcpOverride({ tls: undefined }), "apfa:allowPlainHttp": null });
            assert.match(message, /apfa:gcp\.tls: required for a stack tagged environment: production, which serves users over HTTPS only/);
            assert.ok(synthStack(STACK, { ...gcpOverride({ tls: undefined }), "apfa:allowPlainHttp": true }).resources.length > 0);
        });

        it("TLS with a regional Gateway class is refused: certificate maps need a global load balancer", () => {
            const message = synthError(STACK, gcpOverride({ tls: TLS, gatewayClass: "gke-l7-regional-external-managed" }));
            assert.match(message, /apfa:gcp\.tls: needs a global Gateway class \(gke-l7-global-external-managed or gke-l7-gxlb\)/);
        });
    });
});

/** The stack's `pulumi up` warnings without the one about alert receivers (tested in tests/alerting.test.ts). */
function exposureWarnings(stack: string, overrides: Record<string, unknown> = {}): string[] {
    return synthWarnings(stack, overrides).filter((w) => !w.startsWith("apfa:alerting names no page or ticket receiver"));
}
