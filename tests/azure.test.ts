/**
 * The Azure target (AKS + the Kubernetes layer), run on Pulumi's mocks with the real prod-azure
 * stack file: cluster, pools, identity, network, Envoy Gateway, the chart release per slot, the
 * weighted route, monitoring placement, secrets, and the blast radius of a weight change.
 */
import { strict as assert } from "node:assert";


import { cidrContains } from "../src/cidr";
import { ConfigError, parseConfig, type AzureConfig, type Slot } from "../src/config";
import { chartValues, CHART_PATH, mergeValues } from "../src/kubernetes";
import { databaseChartValues } from "../src/kubernetes/database";
import { SCRAPER_LABEL } from "../src/kubernetes/names";
import {
    AKS_DRAIN,
    APP_POOL_LABEL,
    AZURE_ROLES,
    ZRS_STORAGE_CLASS,
    aksExposureWarnings,
    aksKubeloginKubeconfig,
    aksNames,
    appPoolPlan,
    azureTags,
    decodeKubeconfig,
    deployerGrantWarning,
    getCredentialsCommand,
    roleDefinitionId,
    zrsStorageClass,
} from "../src/targets/azure";
import { CERT_MANAGER_CHART, CERT_MANAGER_VERSION, acmeIssuerSpec, certificateSpec, certManagerValues } from "../src/targets/azure/cert-manager";
import { AKS_AAD_SERVER_APP_ID } from "../src/targets/azure/kubeconfig";
import { LETS_ENCRYPT_PRODUCTION, acrRegistryOf } from "../src/targets/azure/settings";
import { parse as parseYaml } from "yaml";
import {
    AKS_GATEWAY_CLASS,
    ENVOY_GATEWAY_CONTROLLER,
    ENVOY_GATEWAY_NAMESPACE,
    ENVOY_GATEWAY_VERSION,
    envoyProxySpec,
} from "../src/targets/azure/envoy-gateway";
import { azureNetworkProblems, dnsServiceIp } from "../src/targets/azure/network";
import { ancestorTypes, changedResources, find, ofType, readSampleStack, readStackFile, REDACTED, synthError, synthStack, synthWarnings, type Plan, type PlannedResource } from "./helpers/synth";

const STACK = "prod-azure";
const PREFIX = "apfa-prod-azure";
const T = {
    rg: "azure-native:resources:ResourceGroup",
    vnet: "azure-native:network:VirtualNetwork",
    subnet: "azure-native:network:Subnet",
    identity: "azure-native:managedidentity:UserAssignedIdentity",
    role: "azure-native:authorization:RoleAssignment",
    cluster: "azure-native:containerservice:ManagedCluster",
    pool: "azure-native:containerservice:AgentPool",
    provider: "pulumi:providers:kubernetes",
    release: "kubernetes:helm.sh/v3:Release",
    chart: "kubernetes:helm.sh/v4:Chart",
    route: "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
    gateway: "kubernetes:gateway.networking.k8s.io/v1:Gateway",
    gatewayClass: "kubernetes:gateway.networking.k8s.io/v1:GatewayClass",
    envoyProxy: "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy",
    service: "kubernetes:core/v1:Service",
    deployment: "kubernetes:apps/v1:Deployment",
    netpol: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
} as const;

/** The stack file's `apfa:azure` section with some keys replaced (undefined removes one), as a whole-key override. */
function azureOverride(changes: Record<string, unknown>): Record<string, unknown> {
    return { "apfa:azure": { ...(readStackFile(STACK)["apfa:azure"] as Record<string, unknown>), ...changes } };
}

const ACR = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/acr/providers/Microsoft.ContainerRegistry/registries/apfaprod";
const TLS = { domainName: "apfa.example.com" };
const ADMIN_GROUP = "aaaaaaaa-0000-4000-8000-000000000001";

function stackConfig(overrides: Record<string, unknown> = {}): AzureConfig {
    return parseConfig({ values: { ...readSampleStack(STACK), ...overrides }, project: "apfa", stack: STACK }) as AzureConfig;
}

type Obj = Record<string, unknown>;
const get = (r: PlannedResource, ...keys: string[]): unknown => keys.reduce<unknown>((v, k) => (v as Obj | undefined)?.[k], r.inputs);

/** A pod as NetworkPolicy sees it: its namespace and labels. */
interface Pod {
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
}
type Selector = { matchLabels?: Record<string, string> };
type Peer = { podSelector?: Selector; namespaceSelector?: Selector; ipBlock?: unknown };
type Rule = { from?: Peer[]; to?: Peer[]; ports?: { protocol?: string; port?: number }[] };
interface PolicyOf {
    readonly namespace: string;
    readonly spec: { podSelector: Selector; policyTypes: string[]; ingress?: Rule[]; egress?: Rule[] };
}

function selects(selector: Selector | undefined, labels: Readonly<Record<string, string>>): boolean {
    return Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

function peerMatches(peer: Peer, policyNamespace: string, pod: Pod): boolean {
    if (peer.ipBlock !== undefined) {
        return false; // no pod of these tests has an address in a policy's ranges
    }
    const inNamespace =
        peer.namespaceSelector === undefined ? pod.namespace === policyNamespace : selects(peer.namespaceSelector, { "kubernetes.io/metadata.name": pod.namespace });
    return inNamespace && (peer.podSelector === undefined || selects(peer.podSelector, pod.labels));
}

/** Whether one direction admits the traffic: unisolated pods admit everything, isolated ones what a rule lists. */
function admits(policies: readonly PolicyOf[], pod: Pod, type: "Ingress" | "Egress", other: Pod, port: number, protocol: string): boolean {
    const mine = policies.filter((p) => p.namespace === pod.namespace && p.spec.policyTypes.includes(type) && selects(p.spec.podSelector, pod.labels));
    if (mine.length === 0) {
        return true;
    }
    return mine.some((p) =>
        ((type === "Ingress" ? p.spec.ingress : p.spec.egress) ?? []).some((rule) => {
            const peers = type === "Ingress" ? rule.from : rule.to;
            const peerOk = peers === undefined || peers.some((peer) => peerMatches(peer, p.namespace, other));
            const portOk = rule.ports === undefined || rule.ports.some((p2) => (p2.protocol ?? "TCP") === protocol && (p2.port === undefined || p2.port === port));
            return peerOk && portOk;
        }),
    );
}

/** Whether `from` may open a connection to `to` on `port`: its egress and the destination's ingress must both allow it. */
function allowed(policies: readonly PolicyOf[], from: Pod, to: Pod, port: number, protocol = "TCP"): boolean {
    return admits(policies, from, "Egress", to, port, protocol) && admits(policies, to, "Ingress", from, port, protocol);
}

/** Every NetworkPolicy of a plan, with its namespace. */
function planPolicies(plan: Plan): PolicyOf[] {
    return ofType(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy").map((r) => ({
        namespace: String((r.inputs.metadata as { namespace: string }).namespace),
        spec: r.inputs.spec as PolicyOf["spec"],
    }));
}

function routeWeights(plan: Plan): Record<string, number> {
    const route = find(plan, T.route, `${PREFIX}-apfa-route`);
    const rules = get(route, "spec", "rules") as { backendRefs?: { name: string; weight: number }[] }[];
    const weighted = rules.filter((r) => r.backendRefs !== undefined);
    assert.equal(weighted.length, 1, "one rule carries the split");
    return Object.fromEntries((weighted[0].backendRefs ?? []).map((b) => [b.name, b.weight]));
}


describe("azure target (prod-azure on mocks)", () => {
    let plan: Plan;

    before(() => {
        plan = synthStack(STACK);
    });

    it("synthesizes, loading azure-native and kubernetes but no other cloud's SDK", () => {
        assert.ok(plan.resources.length > 20);
        assert.ok(plan.loadedPackages.includes("@pulumi/azure-native"));
        for (const other of ["@pulumi/aws", "@pulumi/gcp", "@pulumi/docker"]) {
            assert.ok(!plan.loadedPackages.includes(other), `${other} was loaded`);
        }
    });

    it("parents every Azure and Kubernetes resource under the AksCluster component", () => {
        for (const r of plan.resources.filter((x) => x.type.startsWith("azure-native:") || x.type === T.provider)) {
            assert.ok(ancestorTypes(plan, r).includes("apfa:azure:AksCluster"), `${r.type} ${r.name} is not a child of the AKS component`);
        }
    });

    describe("network and identity", () => {
        it("puts the cluster in its own resource group and VNet, nodes in one subnet without default outbound access", () => {
            const rg = find(plan, T.rg, `${PREFIX}-rg`);
            assert.equal(rg.inputs.location, "westeurope");
            assert.equal(rg.inputs.resourceGroupName, "apfa-prod-azure-rg");
            assert.equal((rg.inputs.tags as Obj)["apfa-stack"], STACK);
            assert.deepEqual(get(find(plan, T.vnet, `${PREFIX}-vnet`), "addressSpace", "addressPrefixes"), ["10.60.0.0/16"]);
            const subnet = find(plan, T.subnet, `${PREFIX}-nodes`);
            assert.equal(subnet.inputs.addressPrefix, "10.60.0.0/20");
            assert.equal(subnet.inputs.defaultOutboundAccess, false);
        });

        it("grants the user-assigned control-plane identity Network Contributor on the node subnet before the cluster exists", () => {
            const identity = find(plan, T.identity, `${PREFIX}-identity`);
            const grant = find(plan, T.role, `${PREFIX}-subnet-access`);
            assert.equal(grant.inputs.principalId, "11111111-1111-1111-1111-111111111111");
            assert.equal(grant.inputs.principalType, "ServicePrincipal");
            assert.equal(grant.inputs.roleDefinitionId, roleDefinitionId("00000000-0000-0000-0000-000000000000", AZURE_ROLES.networkContributor));
            assert.match(String(grant.inputs.scope), /\/virtualNetworks\/apfa-prod-azure-vnet\/subnets\/nodes$/);
            const cluster = find(plan, T.cluster, `${PREFIX}-aks`);
            assert.ok(cluster.options.dependsOn.includes(grant.urn), "the cluster must wait for the role assignment");
            assert.deepEqual(get(cluster, "identity"), {
                type: "UserAssigned",
                userAssignedIdentities: [`/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/apfa-prod-azure-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${aksNames(PREFIX).identity}`],
            });
            assert.ok(identity);
        });

        it("grants AcrPull on the configured registry to the kubelet identity, and both slots' releases wait for it", () => {
            const withAcr = synthStack(STACK, azureOverride({ acrResourceId: ACR }));
            const pull = find(withAcr, T.role, `${PREFIX}-acr-pull`);
            assert.equal(pull.inputs.scope, ACR);
            assert.equal(pull.inputs.principalId, "55555555-5555-5555-5555-555555555555");
            assert.equal(pull.inputs.roleDefinitionId, roleDefinitionId("00000000-0000-0000-0000-000000000000", AZURE_ROLES.acrPull));
            for (const slot of ["blue", "green"]) {
                const release = find(withAcr, T.release, `${PREFIX}-apfa-${slot}`);
                assert.ok(release.options.dependsOn.includes(pull.urn), `apfa-${slot} would pull before the grant exists`);
            }
        });

        it("creates no AcrPull grant without a registry (for images elsewhere)", () => {
            const elsewhere = synthStack(STACK, {
                ...azureOverride({ acrResourceId: undefined }),
                "apfa:release": { active: "blue", previewWeight: 0, blue: { image: "ghcr.io/example/apfa:1.0.0" } },
            });
            assert.deepEqual(
                ofType(elsewhere, T.role).map((r) => r.name).sort(),
                [`${PREFIX}-deployer-cluster-admin`, `${PREFIX}-subnet-access`],
            );
        });
    });

    describe("ManagedCluster", () => {
        let cluster: PlannedResource;
        before(() => {
            cluster = find(plan, T.cluster, `${PREFIX}-aks`);
        });

        it("is Standard tier with OIDC issuer and workload identity", () => {
            assert.deepEqual(get(cluster, "sku"), { name: "Base", tier: "Standard" });
            assert.deepEqual(get(cluster, "oidcIssuerProfile"), { enabled: true });
            assert.deepEqual(get(cluster, "securityProfile", "workloadIdentity"), { enabled: true });
            assert.equal(get(cluster, "enableRBAC"), true);
        });

        it("authenticates only with Entra ID and authorises with Azure RBAC: local accounts are disabled", () => {
            assert.deepEqual(get(cluster, "aadProfile"), { managed: true, enableAzureRBAC: true });
            assert.equal(get(cluster, "disableLocalAccounts"), true);
            const withGroup = synthStack(STACK, azureOverride({ clusterAdminGroupObjectIds: [ADMIN_GROUP] }));
            assert.deepEqual(get(find(withGroup, T.cluster, `${PREFIX}-aks`), "aadProfile"), { managed: true, enableAzureRBAC: true, adminGroupObjectIDs: [ADMIN_GROUP] });
        });

        it("balances similar node groups, which the per-zone APFA pools are", () => {
            assert.equal(get(cluster, "autoScalerProfile", "balanceSimilarNodeGroups"), "true");
        });

        it("uses Azure CNI Overlay with the Cilium dataplane (which enforces NetworkPolicy)", () => {
            const net = get(cluster, "networkProfile") as Obj;
            assert.equal(net.networkPlugin, "azure");
            assert.equal(net.networkPluginMode, "overlay");
            assert.equal(net.networkDataplane, "cilium");
            assert.equal(net.networkPolicy, "cilium");
            assert.equal(net.podCidr, "10.244.0.0/16");
            assert.equal(net.serviceCidr, "10.0.0.0/16");
            assert.equal(net.dnsServiceIP, "10.0.0.10");
            assert.ok(cidrContains(String(net.serviceCidr), `${String(net.dnsServiceIP)}/32`));
        });

        it("leaves the inline system pool alone after creation (agentPoolProfiles cannot be updated in place)", () => {
            assert.deepEqual(cluster.options.ignoreChanges, ["agentPoolProfiles"]);
        });

        it("has a system pool for critical add-ons only, across three zones, in the node subnet", () => {
            const pools = get(cluster, "agentPoolProfiles") as Obj[];
            assert.equal(pools.length, 1, "only the system pool is inline; the APFA pool is its own resource");
            const [system] = pools;
            assert.equal(system.mode, "System");
            assert.equal(system.count, 3);
            assert.deepEqual(system.availabilityZones, ["1", "2", "3"]);
            assert.deepEqual(system.nodeTaints, ["CriticalAddonsOnly=true:NoSchedule"]);
            assert.equal(system.vmSize, "Standard_D2ds_v5");
            assert.match(String(system.vnetSubnetID), /\/subnets\/nodes$/);
        });
    });

    it("runs APFA on one autoscaled user pool per zone, the 3-10 nodes split 1/4, 1/3, 1/3", () => {
        const pools = ofType(plan, T.pool);
        assert.deepEqual(
            pools.map((pool) => [pool.name, pool.inputs.agentPoolName, pool.inputs.availabilityZones, pool.inputs.minCount, pool.inputs.maxCount]),
            [
                [`${PREFIX}-apfa-pool-z1`, "apfa1", ["1"], 1, 4],
                [`${PREFIX}-apfa-pool-z2`, "apfa2", ["2"], 1, 3],
                [`${PREFIX}-apfa-pool-z3`, "apfa3", ["3"], 1, 3],
            ],
        );
        for (const pool of pools) {
            assert.equal(pool.inputs.mode, "User");
            assert.equal(pool.inputs.enableAutoScaling, true);
            assert.equal(pool.inputs.count, pool.inputs.minCount);
            assert.deepEqual(pool.inputs.nodeLabels, { ...APP_POOL_LABEL }, "identical labels: similar node groups for the autoscaler");
            assert.equal(pool.inputs.vmSize, "Standard_D4ds_v5");
            assert.equal(pool.inputs.resourceName, aksNames(PREFIX).cluster);
            assert.deepEqual(pool.options.ignoreChanges, ["count"], "the autoscaler owns the node count");
        }
    });

    it("splits the pool bounds over the zones, the first zones taking the remainder, and refuses a maximum below one node per zone", () => {
        assert.deepEqual(appPoolPlan(["1", "2", "3"], 3, 10), [
            { zone: "1", name: "apfa1", minCount: 1, maxCount: 4 },
            { zone: "2", name: "apfa2", minCount: 1, maxCount: 3 },
            { zone: "3", name: "apfa3", minCount: 1, maxCount: 3 },
        ]);
        assert.deepEqual(
            appPoolPlan(["2", "3"], 0, 5).map((p) => [p.name, p.minCount, p.maxCount]),
            [
                ["apfa2", 0, 3],
                ["apfa3", 0, 2],
            ],
        );
        assert.throws(() => appPoolPlan(["1", "2", "3"], 1, 2), RangeError);
        assert.throws(() => appPoolPlan(["1"], 3, 2), RangeError);
        for (const [min, max] of [
            [0, 3],
            [3, 10],
            [4, 4],
            [7, 100],
        ]) {
            const plan3 = appPoolPlan(["1", "2", "3"], min, max);
            assert.equal(plan3.reduce((sum, p) => sum + p.minCount, 0), min);
            assert.equal(plan3.reduce((sum, p) => sum + p.maxCount, 0), max);
            assert.ok(plan3.every((p) => p.minCount <= p.maxCount && p.maxCount >= 1));
        }
    });

    describe("zone-redundant storage for Prometheus and Grafana", () => {
        it("creates a StandardSSD_ZRS Azure Disk class that binds on first consumer", () => {
            const sc = find(plan, "kubernetes:storage.k8s.io/v1:StorageClass", `${PREFIX}-zrs-storage`);
            assert.equal(get(sc, "metadata", "name"), ZRS_STORAGE_CLASS);
            assert.equal(sc.inputs.provisioner, "disk.csi.azure.com");
            assert.deepEqual(sc.inputs.parameters, { skuName: "StandardSSD_ZRS", cachingMode: "ReadOnly" });
            assert.equal(sc.inputs.volumeBindingMode, "WaitForFirstConsumer");
            assert.deepEqual({ ...zrsStorageClass() }, { provisioner: sc.inputs.provisioner, parameters: sc.inputs.parameters, reclaimPolicy: sc.inputs.reclaimPolicy, volumeBindingMode: sc.inputs.volumeBindingMode, allowVolumeExpansion: sc.inputs.allowVolumeExpansion });
        });

        it("puts both data volumes on it, and the layer (so the claims) waits for it", () => {
            const sc = find(plan, "kubernetes:storage.k8s.io/v1:StorageClass", `${PREFIX}-zrs-storage`);
            const claims = ofType(plan, "kubernetes:core/v1:PersistentVolumeClaim");
            // Alertmanager's replicas keep their state in emptyDirs, resynced from each other.
            assert.deepEqual(claims.map((c) => get(c, "metadata", "name")).sort(), ["grafana-data", "prometheus-data"]);
            for (const claim of claims) {
                assert.equal(get(claim, "spec", "storageClassName"), ZRS_STORAGE_CLASS);
            }
            const namespace = find(plan, "kubernetes:core/v1:Namespace", `${PREFIX}-apfa-namespace`);
            assert.ok(namespace.options.dependsOn.includes(sc.urn));
        });
    });

    describe("exposure warnings", () => {
        it("warns that the API server is reachable from the internet while apiServerAuthorizedIpRanges is unset", () => {
            const [warning, ...more] = aksExposureWarnings({ apiServerAuthorizedIpRanges: [] });
            assert.deepEqual(more, []);
            assert.match(warning, /AKS Kubernetes API is reachable from the internet/);
            assert.match(warning, /still needs an Entra ID token/);
            assert.match(warning, /apfa:azure\.apiServerAuthorizedIpRanges/);
            assert.deepEqual(aksExposureWarnings({ apiServerAuthorizedIpRanges: ["198.51.100.0/24"] }), []);
        });

        it("warns that cluster-admin follows the deploying identity while no admin group is set", () => {
            assert.match(String(deployerGrantWarning({ clusterAdminGroupObjectIds: [] })), /clusterAdminGroupObjectIds is empty.*another identity moves it there/);
            assert.equal(deployerGrantWarning({ clusterAdminGroupObjectIds: [ADMIN_GROUP] }), undefined);
        });

        it("logs them on `pulumi up` for the prod-azure stack file, and none once the ranges and an admin group are set", function () {
            this.timeout(120_000);
            // Only the exposure warnings (the stack file sets no alert receiver, which warns too: tests/alerting.test.ts).
            const synthWarnings = (stack: string, overrides: Record<string, unknown> = {}) => exposureWarnings(stack, overrides);
            assert.deepEqual(synthWarnings(STACK), [...aksExposureWarnings({ apiServerAuthorizedIpRanges: [] }), deployerGrantWarning({ clusterAdminGroupObjectIds: [] })]);
            const restricted = azureOverride({ apiServerAuthorizedIpRanges: ["198.51.100.0/24"], clusterAdminGroupObjectIds: [ADMIN_GROUP] });
            assert.deepEqual(synthWarnings(STACK, restricted), []);
            assert.deepEqual(get(find(synthStack(STACK, restricted), T.cluster, `${PREFIX}-aks`), "apiServerAccessProfile"), {
                authorizedIPRanges: ["198.51.100.0/24"],
            });
        });
    });

    describe("access: Entra ID tokens through kubelogin, Azure RBAC grants", () => {
        it("gives the deploying identity Azure Kubernetes Service RBAC Cluster Admin on this cluster, before the provider connects", () => {
            const grant = find(plan, T.role, `${PREFIX}-deployer-cluster-admin`);
            assert.equal(grant.inputs.principalId, "88888888-8888-8888-8888-888888888888", "the client config's object id");
            assert.equal(grant.inputs.roleDefinitionId, roleDefinitionId("00000000-0000-0000-0000-000000000000", "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"));
            assert.equal(AZURE_ROLES.aksRbacClusterAdmin, "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b");
            assert.match(String(grant.inputs.scope), /managedClusters\/apfa-prod-azure-aks$/);
            const provider = find(plan, T.provider, `${PREFIX}-k8s`);
            assert.ok(provider.options.dependsOn.includes(grant.urn));
        });

        it("grants nobody by identity when admin groups are configured (AKS binds them to cluster-admin)", () => {
            const withGroup = synthStack(STACK, azureOverride({ clusterAdminGroupObjectIds: [ADMIN_GROUP] }));
            assert.deepEqual(
                ofType(withGroup, T.role).map((r) => r.name).filter((n) => n.endsWith("deployer-cluster-admin")),
                [],
            );
        });

        it("builds a kubeconfig whose user execs `kubelogin get-token --login azurecli`, keeping the server, CA, server id and tenant", () => {
            // What AKS returns for an Entra ID cluster with format=exec (interactive devicecode login).
            const aks = [
                "apiVersion: v1",
                "kind: Config",
                "clusters:",
                "- name: apfa-prod-azure-aks",
                "  cluster: {server: 'https://apfa-abc.hcp.westeurope.azmk8s.io:443', certificate-authority-data: Q0E=}",
                "contexts:",
                "- name: apfa-prod-azure-aks",
                "  context: {cluster: apfa-prod-azure-aks, user: clusterUser_rg_apfa-prod-azure-aks}",
                "current-context: apfa-prod-azure-aks",
                "users:",
                "- name: clusterUser_rg_apfa-prod-azure-aks",
                "  user:",
                "    exec:",
                "      apiVersion: client.authentication.k8s.io/v1beta1",
                "      command: kubelogin",
                "      args: [get-token, --environment, AzurePublicCloud, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630,",
                "             --client-id, 80faf920-1908-4b52-b5ef-a8e7bedfc67a, --tenant-id, 99999999-9999-9999-9999-999999999999, --login, devicecode]",
                "",
            ].join("\n");
            const doc = parseYaml(aksKubeloginKubeconfig(aks)) as {
                clusters: { name: string; cluster: Obj }[];
                contexts: { context: Obj }[];
                "current-context": string;
                users: { name: string; user: { exec: { command: string; args: string[]; apiVersion: string } } }[];
            };
            assert.deepEqual(doc.clusters, [{ name: "apfa-prod-azure-aks", cluster: { server: "https://apfa-abc.hcp.westeurope.azmk8s.io:443", "certificate-authority-data": "Q0E=" } }]);
            assert.equal(doc["current-context"], "apfa-prod-azure-aks");
            assert.equal(doc.users.length, 1);
            assert.deepEqual(doc.contexts[0].context, { cluster: "apfa-prod-azure-aks", user: doc.users[0].name });
            assert.equal(doc.users[0].user.exec.command, "kubelogin");
            assert.equal(doc.users[0].user.exec.apiVersion, "client.authentication.k8s.io/v1beta1");
            assert.deepEqual(doc.users[0].user.exec.args, [
                "get-token",
                "--login",
                "azurecli",
                "--server-id",
                AKS_AAD_SERVER_APP_ID,
                "--tenant-id",
                "99999999-9999-9999-9999-999999999999",
            ]);
        });

        it("drops any certificate or token AKS might return, and falls back to the AKS server id", () => {
            const certificateShaped = [
                "apiVersion: v1",
                "kind: Config",
                "clusters: [{name: c, cluster: {server: 'https://c:443', certificate-authority-data: Q0E=}}]",
                "users: [{name: u, user: {client-certificate-data: Y2VydA==, client-key-data: a2V5, token: secret-token}}]",
                "contexts: [{name: c, context: {cluster: c, user: u}}]",
                "current-context: c",
            ].join("\n");
            const text = aksKubeloginKubeconfig(certificateShaped);
            for (const secret of ["client-certificate-data", "client-key-data", "secret-token", "token:"]) {
                assert.ok(!text.includes(secret), `${secret} survived`);
            }
            const args = (parseYaml(text) as { users: { user: { exec: { args: string[] } } }[] }).users[0].user.exec.args;
            assert.deepEqual(args, ["get-token", "--login", "azurecli", "--server-id", AKS_AAD_SERVER_APP_ID]);
            assert.throws(() => aksKubeloginKubeconfig("apiVersion: v1\nkind: Config\n"), /no cluster server/);
        });

        it("tells operators to fetch credentials and convert them to kubelogin's Azure CLI mode", () => {
            assert.equal(
                (plan.outputs.target as Obj).getCredentials,
                "az aks get-credentials --resource-group apfa-prod-azure-rg --name apfa-prod-azure-aks && kubelogin convert-kubeconfig -l azurecli",
            );
            assert.equal(getCredentialsCommand("g", "c"), "az aks get-credentials --resource-group g --name c && kubelogin convert-kubeconfig -l azurecli");
        });
    });

    it("feeds the Kubernetes provider the kubelogin kubeconfig as a secret, and outputs it only as a secret", () => {
        const provider = find(plan, T.provider, `${PREFIX}-k8s`);
        assert.equal(provider.inputs.kubeconfig, REDACTED);
        assert.ok(plan.secretInputs.includes(`${T.provider}::${PREFIX}-k8s.kubeconfig`));
        assert.match(String(provider.inputs.clusterIdentifier), /managedClusters\/apfa-prod-azure-aks$/);
        const target = plan.outputs.target as Record<string, unknown>;
        assert.equal(target.kubeconfig, REDACTED, "the kubeconfig output is a secret");
        assert.equal(target.clusterName, "apfa-prod-azure-aks", "its plain siblings stay readable");
        const kubeconfig = decodeKubeconfig({ kubeconfigs: [{ value: Buffer.from("apiVersion: v1\nkind: Config\n").toString("base64") }] });
        assert.equal(kubeconfig, "apiVersion: v1\nkind: Config\n");
        assert.throws(() => decodeKubeconfig({ kubeconfigs: [] }), /no user kubeconfig/);
    });

    describe("Envoy Gateway (the Gateway API implementation on AKS)", () => {
        it("closes idle connections to APFA before APFA does: 60 s on the Gateway's BackendTrafficPolicy, under the app's 620 s keep-alive", () => {
            const policy = find(plan, "kubernetes:gateway.envoyproxy.io/v1alpha1:BackendTrafficPolicy", "apfa-prod-azure-backend-connections");
            const spec = policy.inputs.spec as { targetRefs: unknown; timeout: { http: { connectionIdleTimeout: string } } };
            assert.deepEqual(spec.targetRefs, [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "apfa" }]);
            assert.equal(spec.timeout.http.connectionIdleTimeout, "60s");
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- the plain CommonJS reference app
            const app = require("../app/server.js") as { readSettings(env: Record<string, string>): { settings: { keepAliveTimeoutMs: number } } };
            assert.ok(60_000 < app.readSettings({}).settings.keepAliveTimeoutMs, "Envoy must give up an idle connection first");
        });

        it("installs pinned standard-channel CRDs, then the controller without CRDs, then EnvoyProxy and GatewayClass", () => {
            const crds = find(plan, T.chart, `${PREFIX}-envoy-gateway-crds`);
            assert.equal(crds.inputs.version, ENVOY_GATEWAY_VERSION);
            assert.deepEqual(crds.inputs.values, { crds: { gatewayAPI: { enabled: true, channel: "standard" }, envoyGateway: { enabled: true } } });
            const controller = find(plan, T.release, `${PREFIX}-envoy-gateway-controller`);
            assert.equal(controller.inputs.version, ENVOY_GATEWAY_VERSION);
            assert.equal(controller.inputs.skipCrds, true);
            assert.equal(controller.inputs.namespace, ENVOY_GATEWAY_NAMESPACE);
            assert.ok(controller.options.dependsOn.includes(crds.urn));
            const proxy = find(plan, T.envoyProxy, `${PREFIX}-envoy-gateway-proxy`);
            assert.ok(proxy.options.dependsOn.includes(controller.urn));
            const gatewayClass = find(plan, T.gatewayClass, `${PREFIX}-envoy-gateway-class`);
            assert.equal(get(gatewayClass, "metadata", "name"), AKS_GATEWAY_CLASS);
            assert.equal(get(gatewayClass, "spec", "controllerName"), ENVOY_GATEWAY_CONTROLLER);
            assert.deepEqual(get(gatewayClass, "spec", "parametersRef"), {
                group: "gateway.envoyproxy.io",
                kind: "EnvoyProxy",
                name: get(proxy, "metadata", "name"),
                namespace: ENVOY_GATEWAY_NAMESPACE,
            });
        });

        it("runs one Envoy proxy per zone behind a Local-traffic-policy load balancer", () => {
            const spec = get(find(plan, T.envoyProxy, `${PREFIX}-envoy-gateway-proxy`), "spec");
            assert.deepEqual(spec, envoyProxySpec(3));
            const k = (spec as { provider: { kubernetes: { envoyDeployment: { replicas: number }; envoyService: Obj } } }).provider.kubernetes;
            assert.equal(k.envoyDeployment.replicas, 3);
            assert.equal(k.envoyService.externalTrafficPolicy, "Local");
            assert.equal((envoyProxySpec(1) as typeof spec & { provider: { kubernetes: { envoyDeployment: { replicas: number } } } }).provider.kubernetes.envoyDeployment.replicas, 2);
        });

        it("creates the Gateway with that class, after the controller and every APFA pool", () => {
            const gateway = find(plan, T.gateway, `${PREFIX}-apfa-gateway`);
            assert.equal(get(gateway, "spec", "gatewayClassName"), AKS_GATEWAY_CLASS);
            assert.equal(get(gateway, "metadata", "annotations", "pulumi.com/waitFor"), "condition=Programmed");
            const namespace = find(plan, "kubernetes:core/v1:Namespace", `${PREFIX}-apfa-namespace`);
            const gatewayClass = find(plan, T.gatewayClass, `${PREFIX}-envoy-gateway-class`);
            assert.ok(namespace.options.dependsOn.includes(gatewayClass.urn));
            for (const pool of ofType(plan, T.pool)) {
                assert.ok(namespace.options.dependsOn.includes(pool.urn), `${pool.name}`);
            }
        });

        it("serves plain HTTP only without TLS: url is http://<Gateway address>", () => {
            const plain = synthStack(STACK, { ...azureOverride({ tls: undefined }), "apfa:allowPlainHttp": true });
            const gateway = find(plain, T.gateway, `${PREFIX}-apfa-gateway`);
            assert.deepEqual((get(gateway, "spec", "listeners") as Obj[]).map((l) => [l.name, l.protocol, l.port]), [["http", "HTTP", 80]]);
            assert.equal(plain.outputs.url, "http://203.0.113.80", "url comes from the Gateway's status address");
            assert.equal(ofType(plain, T.route).length, 1, "no redirect route");
            assert.equal(ofType(plain, T.release).filter((r) => r.name.endsWith("cert-manager")).length, 0, "no cert-manager");
        });
    });

    describe("APFA releases", () => {
        const config = stackConfig();
        for (const slot of ["blue", "green"] as Slot[]) {
            it(`installs the local chart once for the ${slot} slot with the values chartValues() computes`, () => {
                const release = find(plan, T.release, `${PREFIX}-apfa-${slot}`);
                assert.equal(release.inputs.chart, CHART_PATH);
                assert.equal(release.inputs.name, `apfa-${slot}`);
                assert.equal(release.inputs.namespace, "apfa");
                assert.equal(release.inputs.atomic, true);
                assert.match(String(release.inputs.description), /^apfa chart sha256:[0-9a-f]{64}$/);
                const values = release.inputs.values as Obj;
                // Plus the database's (tests/database.test.ts): libpq's settings, PGPASSWORD from the apfa-database Secret.
                const libpq = Object.fromEntries(Object.entries(values.env as Record<string, string>).filter(([name]) => name.startsWith("PG")));
                assert.deepEqual(Object.keys(libpq).sort(), ["PGDATABASE", "PGHOST", "PGPORT", "PGSSLMODE", "PGUSER"]);
                assert.deepEqual(values, mergeValues(chartValues(config, slot, { drain: AKS_DRAIN, values: { nodeSelector: { ...APP_POOL_LABEL } } }), databaseChartValues(libpq)));
                assert.deepEqual([values.port, values.metricsPort], [8000, 9100]);
                assert.deepEqual([values.preStopSleepSeconds, values.terminationGracePeriodSeconds], [5, 20]);
                assert.equal(values.slot, slot);
                assert.equal(values.image, "apfaprod.azurecr.io/apfa:1.0.0");
                assert.equal(values.healthPath, "/health");
                assert.deepEqual(
                    [(values.autoscaling as Obj).minReplicas, (values.autoscaling as Obj).maxReplicas, (values.autoscaling as Obj).targetCPUUtilizationPercentage],
                    [4, 16, 70],
                );
            });
        }

        it("discovers each slot by its headless Service's DNS name on the metrics port 9100", () => {
            // The monitoring component renders the slots' discovery into prometheus.yml.
            const cm = plan.resources.find((r) => r.name === `${PREFIX}-apfa-prometheus-files`);
            const config = Object.values(cm?.inputs.data as Record<string, string>).find((text) => text.includes("dns_sd_configs")) ?? "";
            const apfaJob = (parseYaml(config) as { scrape_configs: { job_name: string; dns_sd_configs: { names: string[]; port: number }[] }[] }).scrape_configs.find(
                (job) => job.job_name === "apfa",
            );
            assert.deepEqual(
                apfaJob?.dns_sd_configs.map((sd) => [sd.names, sd.port]),
                [
                    [["apfa-blue-headless.apfa.svc.cluster.local"], 9100],
                    [["apfa-green-headless.apfa.svc.cluster.local"], 9100],
                ],
            );
        });
    });

    describe("weighted blue/green route", () => {
        it("sends everything to the active slot at rest (the idle slot is a 0-weight backend)", () => {
            assert.deepEqual(routeWeights(plan), { "apfa-blue": 100, "apfa-green": 0 });
            assert.deepEqual(plan.outputs.weights, { blue: 100, green: 0 });
        });

        it("splits 90/10 with apfa:release previewWeight 10, and follows the active slot", () => {
            const release = readStackFile(STACK)["apfa:release"] as Obj;
            assert.deepEqual(routeWeights(synthStack(STACK, { "apfa:release": { ...release, previewWeight: 10 } })), { "apfa-blue": 90, "apfa-green": 10 });
            assert.deepEqual(routeWeights(synthStack(STACK, { "apfa:release": { ...release, active: "green", previewWeight: 10 } })), {
                "apfa-blue": 10,
                "apfa-green": 90,
            });
        });

        it("changes only the HTTPRoute when the weights move (blast radius of 10 -> 50)", () => {
            const release = readStackFile(STACK)["apfa:release"] as Obj;
            const at10 = synthStack(STACK, { "apfa:release": { ...release, previewWeight: 10 } });
            const at50 = synthStack(STACK, { "apfa:release": { ...release, previewWeight: 50 } });
            assert.deepEqual(changedResources(at10, at50), [`${T.route}::${PREFIX}-apfa-route`]);
            assert.equal(at50.outputs.trafficUrn, find(at50, T.route, `${PREFIX}-apfa-route`).urn);
        });

        it("points every backend at a slot's ClusterIP Service on the app port, never at the metrics port", () => {
            for (const route of ofType(plan, T.route)) {
                for (const rule of get(route, "spec", "rules") as { backendRefs?: { name: string; port: number }[] }[]) {
                    for (const ref of rule.backendRefs ?? []) {
                        assert.equal(ref.port, 8000, `${route.name} → ${ref.name}`);
                        assert.match(ref.name, /^apfa-(blue|green)$/);
                    }
                }
            }
            const custom = synthStack(STACK, { "apfa:app": { port: 8080, metricsPort: 9200 } });
            const ports = (get(find(custom, T.route, `${PREFIX}-apfa-route`), "spec", "rules") as { backendRefs: { port: number }[] }[]).flatMap((r) => r.backendRefs.map((b) => b.port));
            assert.deepEqual(ports, [8080, 8080]);
        });

        it("scales the idle slot down by changing only its own Helm release", () => {
            const release = readStackFile(STACK)["apfa:release"] as Obj;
            const down = synthStack(STACK, { "apfa:release": { ...release, green: { ...(release.green as Obj), scaledDown: true } } });
            assert.deepEqual(changedResources(plan, down), [`${T.release}::${PREFIX}-apfa-green`]);
            const values = find(down, T.release, `${PREFIX}-apfa-green`).inputs.values as Obj;
            assert.equal(values.replicaCount, 0);
            assert.equal((values.autoscaling as Obj).enabled, false);
            assert.deepEqual(routeWeights(down), { "apfa-blue": 100, "apfa-green": 0 }, "its Service stays a 0-weight backend");
        });
    });

    describe("monitoring in the cluster", () => {
        it("Prometheus takes queries only once ready (/-/ready, after its WAL replay) and is restarted only when not alive (/-/healthy)", () => {
            const deployment = find(plan, T.deployment, `${PREFIX}-apfa-prometheus`);
            const container = (get(deployment, "spec", "template", "spec", "containers") as Obj[])[0];
            const path = (probe: string) => ((container[probe] as Obj).httpGet as Obj).path;
            assert.deepEqual([path("readinessProbe"), path("livenessProbe"), path("startupProbe")], ["/-/ready", "/-/healthy", "/-/healthy"]);
        });

        it("places Prometheus and Grafana as Deployments with ClusterIP Services only", () => {
            for (const name of ["prometheus", "grafana"]) {
                const deployment = ofType(plan, T.deployment).find((r) => get(r, "metadata", "name") === name);
                assert.ok(deployment, `no ${name} Deployment`);
                assert.ok(deployment.urn.includes("apfa:monitoring:Monitoring$"), `${name} is not a child of the monitoring component`);
                const service = ofType(plan, T.service).find((r) => get(r, "metadata", "name") === name);
                assert.equal(get(service as PlannedResource, "spec", "type"), "ClusterIP");
            }
            assert.ok(plan.resources.some((r) => r.type === "kubernetes:core/v1:PersistentVolumeClaim" && get(r, "metadata", "name") === "prometheus-data"));
        });

        // What this proves is limited to the Services the program creates itself (Prometheus,
        // Grafana): the APFA chart's Services are checked in chart.test.ts (ClusterIP and headless),
        // the Envoy proxies' load balancer IS the Gateway, and the API server's exposure is the
        // warning below.
        it("creates no LoadBalancer or NodePort Service of its own (its Services are ClusterIP)", () => {
            const services = ofType(plan, T.service);
            assert.ok(services.length >= 2, "the monitoring Services are planned");
            for (const service of services) {
                assert.equal(get(service, "spec", "type"), "ClusterIP", `${service.name} is exposed`);
            }
        });

        it("keeps Grafana's admin password in a Secret (stringData is a Pulumi secret)", () => {
            const secret = ofType(plan, "kubernetes:core/v1:Secret").find((r) => r.name === `${PREFIX}-apfa-grafana-env`);
            assert.ok(secret);
            assert.equal(secret.inputs.stringData, REDACTED);
            assert.ok(plan.secretInputs.includes(`kubernetes:core/v1:Secret::${secret.name}.stringData`));
        });

        it("tells operators to reach Grafana with kubectl port-forward", () => {
            assert.equal(plan.outputs.grafanaUrl, "kubectl -n apfa port-forward svc/grafana 3000:3000, then open http://localhost:3000");
        });

        it("runs Prometheus and Grafana with read-only root filesystems and ephemeral-storage limits", () => {
            for (const name of ["prometheus", "grafana"]) {
                const deployment = ofType(plan, T.deployment).find((r) => get(r, "metadata", "name") === name) as PlannedResource;
                const [container] = get(deployment, "spec", "template", "spec", "containers") as { securityContext: Obj; resources: { limits: Obj } }[];
                assert.equal(container.securityContext.readOnlyRootFilesystem, true, name);
                assert.equal(container.resources.limits["ephemeral-storage"], "1Gi", name);
            }
        });

        describe("who may talk to whom (the plan's NetworkPolicies evaluated as the CNI would)", () => {
            // With TLS, so that cert-manager's solver pods are part of the picture.
            let securedPlan: Plan;
            before(() => {
                securedPlan = synthStack(STACK, azureOverride({ tls: TLS, acrResourceId: ACR }));
            });
            const pods = (p: Plan): Record<string, Pod> => {
                const podLabels = (service: string) =>
                    get(ofType(p, T.deployment).find((r) => get(r, "metadata", "name") === service) as PlannedResource, "spec", "template", "metadata", "labels") as Record<string, string>;
                return {
                    envoy: { namespace: ENVOY_GATEWAY_NAMESPACE, labels: { "apfa.io/role": "gateway-proxy", "app.kubernetes.io/name": "envoy" } },
                    "kube-dns": { namespace: "kube-system", labels: { "k8s-app": "kube-dns" } },
                    internet: { namespace: "<outside the cluster>", labels: {} },
                    // The chart's pod labels (charts/apfa/templates/_helpers.tpl).
                    apfa: { namespace: "apfa", labels: { "app.kubernetes.io/name": "apfa", "app.kubernetes.io/instance": "apfa-blue", slot: "blue" } },
                    prometheus: { namespace: "apfa", labels: podLabels("prometheus") },
                    grafana: { namespace: "apfa", labels: podLabels("grafana") },
                    "acme-solver": { namespace: "apfa", labels: { "acme.cert-manager.io/http01-solver": "true", "acme.cert-manager.io/http-domain": "1" } },
                };
            };

            it("lets the Envoy proxies reach APFA's app port and nothing else of the namespace but the ACME solver", () => {
                const all = pods(securedPlan);
                const policies = planPolicies(securedPlan);
                assert.equal(allowed(policies, all.envoy, all.apfa, 8000), true);
                assert.equal(allowed(policies, all.envoy, all.apfa, 9100), false, "metrics are not reachable from the gateway");
                assert.equal(allowed(policies, all.envoy, all.prometheus, 9090), false);
                assert.equal(allowed(policies, all.envoy, all.grafana, 3000), false);
                assert.equal(allowed(policies, all.envoy, all["acme-solver"], 8089), true, "Let's Encrypt's challenge arrives through the Gateway");
                assert.equal(allowed(policies, all.apfa, all["acme-solver"], 8089), false);
            });

            it("lets only Prometheus scrape APFA's metrics port, and only Grafana query Prometheus", () => {
                const all = pods(securedPlan);
                const policies = planPolicies(securedPlan);
                assert.equal(allowed(policies, all.prometheus, all.apfa, 9100), true);
                assert.equal(allowed(policies, all.prometheus, all.apfa, 8000), false, "Prometheus has no business on the users' port");
                assert.equal(allowed(policies, all.grafana, all.apfa, 9100), false);
                assert.equal(allowed(policies, all.grafana, all.prometheus, 9090), true);
                assert.equal(allowed(policies, all.apfa, all.prometheus, 9090), false, "APFA's internet-facing pods cannot reach the monitoring");
                assert.equal(allowed(policies, all.prometheus, all.grafana, 3000), false);
                assert.equal(allowed(policies, all.apfa, all.apfa, 8000), false, "replicas do not talk to each other");
            });

            it("denies every other egress of the namespace's pods: DNS only", () => {
                const all = pods(securedPlan);
                const policies = planPolicies(securedPlan);
                for (const name of ["apfa", "prometheus", "grafana", "acme-solver"]) {
                    assert.equal(allowed(policies, all[name], all["kube-dns"], 53, "UDP"), true, `${name} → DNS (UDP)`);
                    assert.equal(allowed(policies, all[name], all["kube-dns"], 53, "TCP"), true, `${name} → DNS (TCP)`);
                    assert.equal(allowed(policies, all[name], all["kube-dns"], 9153), false, `${name} → CoreDNS metrics`);
                    assert.equal(allowed(policies, all[name], all.internet, 443), false, `${name} → the internet`);
                }
            });

            it("marks only Prometheus as a scraper", () => {
                const prometheus = ofType(securedPlan, T.deployment).find((r) => get(r, "metadata", "name") === "prometheus");
                assert.equal(get(prometheus as PlannedResource, "spec", "template", "metadata", "labels", SCRAPER_LABEL), "true");
                const grafana = ofType(securedPlan, T.deployment).find((r) => get(r, "metadata", "name") === "grafana");
                assert.equal(get(grafana as PlannedResource, "spec", "template", "metadata", "labels", SCRAPER_LABEL), undefined);
            });

            it("creates the policies before either slot's release, so no APFA pod ever runs unprotected", () => {
                const policyUrns = ofType(securedPlan, T.netpol)
                    .filter((r) => r.urn.includes("apfa:kubernetes:KubernetesApfa$"))
                    .map((r) => r.urn);
                assert.equal(policyUrns.length, 5, "default-deny, allow-dns, apfa, acme-http01-solver, apfa-database-egress");
                for (const slot of ["blue", "green"]) {
                    const release = find(securedPlan, T.release, `${PREFIX}-apfa-${slot}`);
                    for (const urn of policyUrns) {
                        assert.ok(release.options.dependsOn.includes(urn), `${slot} before ${urn}`);
                    }
                }
            });
        });
    });

    describe("HTTPS (apfa:azure.tls): cert-manager, HTTP-01 through the Gateway, redirect", () => {
        let tlsPlan: Plan;
        before(() => {
            tlsPlan = synthStack(STACK, azureOverride({ tls: TLS, acrResourceId: ACR }));
        });

        it("adds an HTTPS listener on 443 serving cert-manager's Secret, and moves the weighted route onto it", () => {
            const gateway = find(tlsPlan, T.gateway, `${PREFIX}-apfa-gateway`);
            assert.deepEqual(get(gateway, "spec", "listeners"), [
                { name: "http", protocol: "HTTP", port: 80, allowedRoutes: { namespaces: { from: "Same" } } },
                {
                    name: "https",
                    protocol: "HTTPS",
                    port: 443,
                    tls: { mode: "Terminate", certificateRefs: [{ group: "", kind: "Secret", name: "apfa-tls" }] },
                    allowedRoutes: { namespaces: { from: "Same" } },
                },
            ]);
            assert.deepEqual(get(find(tlsPlan, T.route, `${PREFIX}-apfa-route`), "spec", "parentRefs"), [{ name: "apfa", sectionName: "https" }]);
            assert.equal(tlsPlan.outputs.url, "https://apfa.example.com");
            assert.equal((tlsPlan.outputs.target as Obj).gatewayAddress, "203.0.113.80", "where the DNS name must point");
        });

        it("redirects plain HTTP for the host to HTTPS with a 301", () => {
            const redirect = find(tlsPlan, T.route, `${PREFIX}-apfa-https-redirect`);
            assert.deepEqual(get(redirect, "spec"), {
                parentRefs: [{ name: "apfa", sectionName: "http" }],
                hostnames: ["apfa.example.com"],
                rules: [{ matches: [{ path: { type: "PathPrefix", value: "/" } }], filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] }],
            });
        });

        it("installs the pinned cert-manager chart with its CRDs and Gateway API support, after the Gateway API CRDs", () => {
            const certManager = find(tlsPlan, T.release, `${PREFIX}-cert-manager`);
            assert.equal(certManager.inputs.chart, "oci://quay.io/jetstack/charts/cert-manager");
            assert.equal(certManager.inputs.chart, CERT_MANAGER_CHART);
            assert.equal(certManager.inputs.version, "v1.21.2");
            assert.equal(CERT_MANAGER_VERSION, "v1.21.2");
            assert.equal(certManager.inputs.namespace, "cert-manager");
            assert.deepEqual(certManager.inputs.values, certManagerValues());
            assert.deepEqual(certManager.inputs.values, {
                crds: { enabled: true, keep: true },
                config: { apiVersion: "controller.config.cert-manager.io/v1alpha1", kind: "ControllerConfiguration", enableGatewayAPI: true },
            });
            assert.ok(certManager.options.dependsOn.includes(find(tlsPlan, T.gatewayClass, `${PREFIX}-envoy-gateway-class`).urn));
        });

        it("issues the certificate from Let's Encrypt with an HTTP-01 solver behind the Gateway's plain-HTTP listener", () => {
            const issuer = find(tlsPlan, "kubernetes:cert-manager.io/v1:Issuer", `${PREFIX}-tls-issuer`);
            assert.equal(get(issuer, "metadata", "namespace"), "apfa");
            assert.deepEqual(get(issuer, "spec"), {
                acme: {
                    server: "https://acme-v02.api.letsencrypt.org/directory",
                    privateKeySecretRef: { name: "apfa-acme-account" },
                    solvers: [
                        {
                            http01: {
                                gatewayHTTPRoute: {
                                    parentRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "apfa", namespace: "apfa", sectionName: "http" }],
                                    serviceType: "ClusterIP",
                                },
                            },
                        },
                    ],
                },
            });
            assert.equal(LETS_ENCRYPT_PRODUCTION, "https://acme-v02.api.letsencrypt.org/directory");
            assert.ok(issuer.options.dependsOn.includes(find(tlsPlan, T.release, `${PREFIX}-cert-manager`).urn));
            const certificate = find(tlsPlan, "kubernetes:cert-manager.io/v1:Certificate", `${PREFIX}-tls-certificate`);
            assert.deepEqual(get(certificate, "spec"), {
                secretName: "apfa-tls",
                dnsNames: ["apfa.example.com"],
                issuerRef: { group: "cert-manager.io", kind: "Issuer", name: "apfa-acme" },
                privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
            });
            assert.equal(get(certificate, "metadata", "annotations", "pulumi.com/skipAwait"), "true", "issuance waits for DNS, not for pulumi up");
        });

        it("registers an ACME contact address and another directory when configured", () => {
            const spec = acmeIssuerSpec({ domainName: "a.example.com", acmeEmail: "ops@example.com", acmeServer: "https://acme-staging-v02.api.letsencrypt.org/directory" }) as {
                acme: Obj;
            };
            assert.equal(spec.acme.email, "ops@example.com");
            assert.equal(spec.acme.server, "https://acme-staging-v02.api.letsencrypt.org/directory");
            assert.deepEqual(certificateSpec({ domainName: "a.example.com" }).dnsNames, ["a.example.com"]);
        });

        it("changes only the HTTPRoute when the weights move, TLS or not", () => {
            const release = readStackFile(STACK)["apfa:release"] as Obj;
            const at10 = synthStack(STACK, { ...azureOverride({ tls: TLS, acrResourceId: ACR }), "apfa:release": { ...release, previewWeight: 10 } });
            const at50 = synthStack(STACK, { ...azureOverride({ tls: TLS, acrResourceId: ACR }), "apfa:release": { ...release, previewWeight: 50 } });
            assert.deepEqual(changedResources(at10, at50), [`${T.route}::${PREFIX}-apfa-route`]);
        });
    });

    it("refuses an address plan whose pod range overlaps the VNet", () => {
        const azure = readStackFile(STACK)["apfa:azure"] as Obj;
        const message = synthError(STACK, { "apfa:azure": { ...azure, podCidr: "10.60.128.0/17" } });
        assert.match(message, /podCidr 10\.60\.128\.0\/17 must not overlap vnetCidr 10\.60\.0\.0\/16/);
    });
});

describe("azure target: pure helpers", () => {
    it("checks the address plan", () => {
        const ok = { vnetCidr: "10.60.0.0/16", nodeSubnetCidr: "10.60.0.0/20", podCidr: "10.244.0.0/16", serviceCidr: "10.0.0.0/16" };
        assert.deepEqual(azureNetworkProblems(ok), []);
        assert.deepEqual(azureNetworkProblems({ ...ok, nodeSubnetCidr: "10.61.0.0/20" }), ["nodeSubnetCidr 10.61.0.0/20 must lie inside vnetCidr 10.60.0.0/16"]);
        assert.equal(azureNetworkProblems({ ...ok, serviceCidr: "10.244.0.0/20" }).length, 1);
        assert.equal(azureNetworkProblems({ ...ok, nodeSubnetCidr: "10.60.0.0/28" }).length, 1);
        assert.equal(dnsServiceIp("172.16.0.0/16"), "172.16.0.10");
    });

    it("names Azure resources from the stack prefix within Azure's limits", () => {
        const names = aksNames("Apfa-Prod_Azure-" + "x".repeat(80));
        assert.ok(names.cluster.length <= 63 && /^[a-z0-9-]+$/.test(names.cluster));
        assert.ok(names.dnsPrefix.length <= 54 && /[a-z0-9]$/.test(names.dnsPrefix));
        assert.equal(aksNames("apfa-prod-azure").cluster, "apfa-prod-azure-aks");
    });

    it("tags every Azure resource with the stack's tags and identity, replacing characters Azure forbids", () => {
        assert.deepEqual(azureTags({ tags: { "team/name": "a", env: "prod" }, project: "apfa", stack: "prod-azure" }), {
            team_name: "a",
            env: "prod",
            "apfa-project": "apfa",
            "apfa-stack": "prod-azure",
            "managed-by": "pulumi",
        });
    });

    it("ignores a malformed range in the plan check (its own field reports it)", () => {
        const ok = { vnetCidr: "10.60.0.0/16", nodeSubnetCidr: "10.60.0.0/20", podCidr: "10.244.0.0/16", serviceCidr: "10.0.0.0/16" };
        assert.deepEqual(azureNetworkProblems({ ...ok, podCidr: "10.244.0.0/33" }), []);
        assert.throws(
            () => parseConfig({ values: { ...readSampleStack(STACK), "apfa:azure": { podCidr: "10.244.0.0/33" } }, project: "apfa", stack: STACK }),
            (err: unknown) => err instanceof ConfigError && err.problems.length === 1 && /apfa:azure\.podCidr/.test(err.problems[0]),
        );
    });

    it("reads the APFA pool bounds 3-10 from the prod-azure stack file", () => {
        const config = stackConfig();
        assert.equal(config.azure.appPoolMinNodes, 3);
        assert.equal(config.azure.appPoolMaxNodes, 10);
    });
});

describe("azure config errors", () => {
    /** The problems of the sample stack with some whole keys replaced (undefined removes a key). */
    const problemsWith = (overrides: Record<string, unknown>): readonly string[] => {
        const values: Record<string, unknown> = { ...readSampleStack(STACK), ...overrides };
        for (const key of Object.keys(values)) {
            if (values[key] === undefined) {
                delete values[key];
            }
        }
        try {
            parseConfig({ values, project: "apfa", stack: STACK });
            return [];
        } catch (err) {
            if (err instanceof ConfigError) {
                return err.problems;
            }
            throw err;
        }
    };
    /** The problems with some `apfa:azure` keys changed (undefined removes one). */
    const problemsOf = (azure: Record<string, unknown>): readonly string[] => problemsWith(azureOverride(azure));

    it("accepts the sample stack as it is", () => {
        assert.deepEqual(problemsWith({}), []);
    });

    it("refuses a production stack without TLS, unless allowPlainHttp says TLS ends in front of it", () => {
        assert.deepEqual(problemsWith({ ...azureOverride({ tls: undefined }), "apfa:allowPlainHttp": undefined }), [
            "apfa:azure.tls: required for a stack tagged environment: production, which serves users over HTTPS only " +
                "(or set apfa:allowPlainHttp to true if TLS ends in front of this stack)",
        ]);
        assert.deepEqual(problemsWith({ ...azureOverride({ tls: undefined }), "apfa:allowPlainHttp": true }), []);
        assert.deepEqual(problemsWith({ ...azureOverride({ tls: undefined }), "apfa:allowPlainHttp": undefined, "apfa:tags": { environment: "staging" } }), [], "not production");
    });

    it("refuses an image on Azure Container Registry without acrResourceId, before anything is created", () => {
        const problems = problemsWith({ ...azureOverride({ acrResourceId: undefined }), "apfa:acceptPlaceholders": undefined });
        assert.deepEqual(problems, [
            "apfa:azure.acrResourceId: required because apfa:release.blue.image and apfa:release.green.image (apfaprod.azurecr.io/apfa:1.0.0) " +
                "are on Azure Container Registry apfaprod; set the registry's resource id so the AKS nodes get AcrPull on it " +
                "(without it their pods stay in ImagePullBackOff)",
        ]);
        const message = synthError(STACK, { ...azureOverride({ acrResourceId: undefined }), "apfa:acceptPlaceholders": null });
        assert.match(message, /apfa:azure\.acrResourceId: required because/);
        assert.match(message, /registered 0 resources/);
        assert.deepEqual(problemsWith({ ...azureOverride({ acrResourceId: ACR }), "apfa:acceptPlaceholders": undefined }), []);
        assert.deepEqual(problemsWith({ ...azureOverride({ acrResourceId: undefined }) }), [], "acceptPlaceholders (synth, tests) skips it");
        assert.equal(acrRegistryOf("ApfaProd.azurecr.io/apfa:1"), "apfaprod");
        assert.equal(acrRegistryOf("ghcr.io/apfa:1"), undefined);
        assert.equal(acrRegistryOf("apfaprod.azurecr.io.evil.example/apfa:1"), undefined);
    });

    it("refuses a pool maximum that leaves a zone without room for a node", () => {
        assert.deepEqual(problemsOf({ appPoolMinNodes: 0, appPoolMaxNodes: 2 }), [
            "apfa:azure.appPoolMaxNodes: 2 is fewer than the 3 availability zones; APFA runs one node pool per zone and each needs room for a node",
        ]);
        assert.deepEqual(problemsOf({ appPoolMinNodes: 0, appPoolMaxNodes: 2, availabilityZones: ["1", "2"] }), []);
    });

    it("validates the TLS settings and admin groups", () => {
        const [wildcard] = problemsOf({ tls: { domainName: "*.example.com" } });
        assert.match(wildcard, /^apfa:azure\.tls\.domainName: expected a lower-case DNS name/);
        const [http] = problemsOf({ tls: { domainName: "apfa.example.com", acmeServer: "http://acme.example.com/directory" } });
        assert.match(http, /^apfa:azure\.tls\.acmeServer:/);
        const [email] = problemsOf({ tls: { domainName: "apfa.example.com", acmeEmail: "not-an-address" } });
        assert.match(email, /^apfa:azure\.tls\.acmeEmail:/);
        const [group] = problemsOf({ clusterAdminGroupObjectIds: ["platform-team"] });
        assert.match(group, /^apfa:azure\.clusterAdminGroupObjectIds\[0\]: expected an Entra ID group object id/);
        assert.deepEqual(problemsOf({ tls: { domainName: "apfa.example.com", acmeEmail: "ops@example.com" }, clusterAdminGroupObjectIds: [ADMIN_GROUP] }), []);
    });

    it("takes kubernetesVersion as major.minor only: a patch would fight the patch upgrade channel", () => {
        assert.deepEqual(problemsOf({ kubernetesVersion: "1.33" }), []);
        for (const version of ["1.33.2", "v1.33", "1", "1.33.x"]) {
            const [problem, ...rest] = problemsOf({ kubernetesVersion: version });
            assert.deepEqual(rest, [], version);
            assert.match(problem, /^apfa:azure\.kubernetesVersion: expected major\.minor such as "1\.33" \(no patch: the patch upgrade channel/, version);
        }
    });
});

/** The stack's `pulumi up` warnings without the one about alert receivers (tested in tests/alerting.test.ts). */
function exposureWarnings(stack: string, overrides: Record<string, unknown> = {}): string[] {
    return synthWarnings(stack, overrides).filter((w) => !w.startsWith("apfa:alerting names no page or ticket receiver"));
}
