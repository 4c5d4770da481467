/**
 * The Azure target (AKS + the Kubernetes layer), run on Pulumi's mocks with the real prod-azure
 * stack file: cluster, pools, identity, network, Envoy Gateway, the chart release per slot, the
 * weighted route, monitoring placement, secrets, and the blast radius of a weight change.
 */
import { strict as assert } from "node:assert";


import { cidrContains } from "../src/cidr";
import { ConfigError, parseConfig, type AzureConfig, type Slot } from "../src/config";
import { chartValues, CHART_PATH } from "../src/kubernetes";
import { SCRAPER_LABEL } from "../src/kubernetes/names";
import { METRICS_REDIRECT } from "../src/kubernetes/routing";
import { APP_POOL_LABEL, AZURE_ROLES, aksExposureWarnings, aksNames, azureTags, decodeKubeconfig, roleDefinitionId } from "../src/targets/azure";
import {
    AKS_GATEWAY_CLASS,
    ENVOY_GATEWAY_CONTROLLER,
    ENVOY_GATEWAY_NAMESPACE,
    ENVOY_GATEWAY_VERSION,
    envoyProxySpec,
} from "../src/targets/azure/envoy-gateway";
import { azureNetworkProblems, dnsServiceIp } from "../src/targets/azure/network";
import { changedResources, find, ofType, readStackFile, REDACTED, synthError, synthStack, synthWarnings, type Plan, type PlannedResource } from "./helpers/synth";

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

function stackConfig(overrides: Record<string, unknown> = {}): AzureConfig {
    return parseConfig({ values: { ...readStackFile(STACK), ...overrides }, project: "apfa", stack: STACK }) as AzureConfig;
}

type Obj = Record<string, unknown>;
const get = (r: PlannedResource, ...keys: string[]): unknown => keys.reduce<unknown>((v, k) => (v as Obj | undefined)?.[k], r.inputs);

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
            assert.ok(r.urn.includes("apfa:azure:AksCluster$"), `${r.type} ${r.name} is not a child of the AKS component`);
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

        it("grants no AcrPull unless a registry is configured, then to the kubelet identity", () => {
            assert.equal(ofType(plan, T.role).length, 1);
            const acr = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/acr/providers/Microsoft.ContainerRegistry/registries/apfaprod";
            const withAcr = synthStack(STACK, { "apfa:azure": { ...(readStackFile(STACK)["apfa:azure"] as Obj), acrResourceId: acr } });
            const pull = find(withAcr, T.role, `${PREFIX}-acr-pull`);
            assert.equal(pull.inputs.scope, acr);
            assert.equal(pull.inputs.principalId, "55555555-5555-5555-5555-555555555555");
            assert.equal(pull.inputs.roleDefinitionId, roleDefinitionId("00000000-0000-0000-0000-000000000000", AZURE_ROLES.acrPull));
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

    it("runs APFA on a separate user pool that autoscales 3-10 nodes across zones", () => {
        const pool = find(plan, T.pool, `${PREFIX}-apfa-pool`);
        assert.equal(pool.inputs.agentPoolName, "apfa");
        assert.equal(pool.inputs.mode, "User");
        assert.equal(pool.inputs.enableAutoScaling, true);
        assert.equal(pool.inputs.minCount, 3);
        assert.equal(pool.inputs.maxCount, 10);
        assert.deepEqual(pool.inputs.availabilityZones, ["1", "2", "3"]);
        assert.deepEqual(pool.inputs.nodeLabels, { ...APP_POOL_LABEL });
        assert.equal(pool.inputs.resourceName, aksNames(PREFIX).cluster);
        assert.deepEqual(pool.options.ignoreChanges, ["count"], "the autoscaler owns the node count");
    });

    describe("exposure warnings", () => {
        it("warns that the API server is reachable from the internet while apiServerAuthorizedIpRanges is unset", () => {
            const [warning, ...more] = aksExposureWarnings({ apiServerAuthorizedIpRanges: [] });
            assert.deepEqual(more, []);
            assert.match(warning, /AKS Kubernetes API is reachable from the internet/);
            assert.match(warning, /still needs a cluster certificate or an Entra ID token/);
            assert.match(warning, /apfa:azure\.apiServerAuthorizedIpRanges/);
            assert.deepEqual(aksExposureWarnings({ apiServerAuthorizedIpRanges: ["198.51.100.0/24"] }), []);
        });

        it("logs it on `pulumi up` for the prod-azure stack file, and not once the ranges are set", function () {
            this.timeout(120_000);
            assert.deepEqual(synthWarnings(STACK), aksExposureWarnings({ apiServerAuthorizedIpRanges: [] }));
            const azure = readStackFile(STACK)["apfa:azure"] as Obj;
            const restricted = { "apfa:azure": { ...azure, apiServerAuthorizedIpRanges: ["198.51.100.0/24"] } };
            assert.deepEqual(synthWarnings(STACK, restricted), []);
            assert.deepEqual(get(find(synthStack(STACK, restricted), T.cluster, `${PREFIX}-aks`), "apiServerAccessProfile"), {
                authorizedIPRanges: ["198.51.100.0/24"],
            });
        });
    });

    it("feeds the Kubernetes provider the decoded user kubeconfig as a secret, and outputs it only as a secret", () => {
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

        it("creates the Gateway with that class, after the controller and the APFA pool", () => {
            const gateway = find(plan, T.gateway, `${PREFIX}-apfa-gateway`);
            assert.equal(get(gateway, "spec", "gatewayClassName"), AKS_GATEWAY_CLASS);
            assert.equal(get(gateway, "metadata", "annotations", "pulumi.com/waitFor"), "condition=Programmed");
            const namespace = find(plan, "kubernetes:core/v1:Namespace", `${PREFIX}-apfa-namespace`);
            const gatewayClass = find(plan, T.gatewayClass, `${PREFIX}-envoy-gateway-class`);
            assert.ok(namespace.options.dependsOn.includes(gatewayClass.urn));
            assert.ok(namespace.options.dependsOn.includes(find(plan, T.pool, `${PREFIX}-apfa-pool`).urn));
            assert.equal(plan.outputs.url, "http://203.0.113.80", "url comes from the Gateway's status address");
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
                assert.deepEqual(values, chartValues(config, slot, { nodeSelector: { ...APP_POOL_LABEL } }));
                assert.equal(values.slot, slot);
                assert.equal(values.image, "apfaprod.azurecr.io/apfa:1.0.0");
                assert.equal(values.healthPath, "/health");
                assert.deepEqual(
                    [(values.autoscaling as Obj).minReplicas, (values.autoscaling as Obj).maxReplicas, (values.autoscaling as Obj).targetCPUUtilizationPercentage],
                    [4, 16, 70],
                );
            });
        }

        it("discovers each slot by its headless Service's DNS name on port 8000", () => {
            // The monitoring component renders the slots' discovery into prometheus.yml.
            const cm = plan.resources.find((r) => r.name === `${PREFIX}-apfa-prometheus-files`);
            const data = JSON.stringify(cm?.inputs.data);
            assert.match(data, /apfa-blue-headless\.apfa\.svc\.cluster\.local/);
            assert.match(data, /apfa-green-headless\.apfa\.svc\.cluster\.local/);
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

        it("keeps APFA's metrics path off the Gateway: the route redirects it instead of forwarding it", () => {
            const route = find(plan, T.route, `${PREFIX}-apfa-route`);
            const rules = get(route, "spec", "rules") as Obj[];
            const metrics = rules.find((r) => r.backendRefs === undefined);
            assert.deepEqual(metrics, {
                matches: [{ path: { type: "PathPrefix", value: "/metrics" } }],
                filters: [{ type: "RequestRedirect", requestRedirect: { ...METRICS_REDIRECT } }],
            });
            const custom = synthStack(STACK, { "apfa:app": { metricsPath: "/internal/metrics" } });
            assert.deepEqual(changedResources(plan, custom).filter((c) => c.includes("HTTPRoute")), [`${T.route}::${PREFIX}-apfa-route`]);
            const customRules = get(find(custom, T.route, `${PREFIX}-apfa-route`), "spec", "rules") as { matches: { path: { value: string } }[] }[];
            assert.deepEqual(customRules.map((r) => r.matches[0].path.value), ["/", "/internal/metrics"]);
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

        it("admits Prometheus's port only from Grafana's pods, and Grafana's from no pod", () => {
            const policies = ofType(plan, T.netpol);
            const policyOf = (service: string) => policies.find((p) => get(p, "metadata", "name") === service) as PlannedResource;
            const podLabels = (service: string) =>
                get(ofType(plan, T.deployment).find((r) => get(r, "metadata", "name") === service) as PlannedResource, "spec", "template", "metadata", "labels") as Obj;
            const selects = (selector: { matchLabels: Obj }, labels: Obj) => Object.entries(selector.matchLabels).every(([k, v]) => labels[k] === v);
            type Spec = { podSelector: { matchLabels: Obj }; policyTypes: string[]; ingress: { from: { podSelector: { matchLabels: Obj } }[]; ports: Obj[] }[] };
            const prometheus = get(policyOf("prometheus"), "spec") as Spec;
            const grafana = get(policyOf("grafana"), "spec") as Spec;
            assert.deepEqual([prometheus.policyTypes, grafana.policyTypes], [["Ingress"], ["Ingress"]]);
            assert.ok(selects(prometheus.podSelector, podLabels("prometheus")) && selects(grafana.podSelector, podLabels("grafana")));
            // Every pod the plan creates, APFA's included (the chart labels them app.kubernetes.io/name=apfa).
            const pods: Record<string, Obj> = {
                grafana: podLabels("grafana"),
                prometheus: podLabels("prometheus"),
                apfa: { "app.kubernetes.io/name": "apfa", "app.kubernetes.io/instance": "apfa-blue" },
            };
            const admitted = (spec: Spec) =>
                Object.keys(pods).filter((pod) => spec.ingress.some((rule) => rule.from.some((peer) => selects(peer.podSelector, pods[pod]))));
            assert.deepEqual(admitted(prometheus), ["grafana"]);
            assert.deepEqual(prometheus.ingress.map((r) => r.ports), [[{ protocol: "TCP", port: 9090 }]]);
            assert.deepEqual(admitted(grafana), []);
            for (const spec of [prometheus, grafana]) {
                assert.ok(spec.ingress.every((rule) => rule.from.every((peer) => Object.keys(peer).join() === "podSelector")), "no namespace or IP peers");
            }
        });

        it("admits APFA's port only from the Envoy proxies and from Prometheus, which carries the scraper label", () => {
            const policy = find(plan, T.netpol, `${PREFIX}-apfa-netpol`);
            const spec = get(policy, "spec") as { podSelector: unknown; policyTypes: string[]; ingress: { from: Obj[]; ports: Obj[] }[] };
            assert.deepEqual(spec.podSelector, { matchLabels: { "app.kubernetes.io/name": "apfa" } });
            assert.deepEqual(spec.policyTypes, ["Ingress"]);
            assert.deepEqual(spec.ingress[0].from, [
                { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ENVOY_GATEWAY_NAMESPACE } }, podSelector: { matchLabels: { "apfa.io/role": "gateway-proxy" } } },
            ]);
            assert.deepEqual(spec.ingress[1].from, [{ podSelector: { matchLabels: { [SCRAPER_LABEL]: "true" } } }]);
            for (const rule of spec.ingress) {
                assert.deepEqual(rule.ports, [{ protocol: "TCP", port: 8000 }]);
            }
            const prometheus = ofType(plan, T.deployment).find((r) => get(r, "metadata", "name") === "prometheus");
            assert.equal(get(prometheus as PlannedResource, "spec", "template", "metadata", "labels", SCRAPER_LABEL), "true");
            const grafana = ofType(plan, T.deployment).find((r) => get(r, "metadata", "name") === "grafana");
            assert.equal(get(grafana as PlannedResource, "spec", "template", "metadata", "labels", SCRAPER_LABEL), undefined);
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
            () => parseConfig({ values: { ...readStackFile(STACK), "apfa:azure": { podCidr: "10.244.0.0/33" } }, project: "apfa", stack: STACK }),
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
    const problemsOf = (azure: Record<string, unknown>): readonly string[] => {
        try {
            parseConfig({ values: { ...readStackFile(STACK), "apfa:azure": azure }, project: "apfa", stack: STACK });
            return [];
        } catch (err) {
            if (err instanceof ConfigError) {
                return err.problems;
            }
            throw err;
        }
    };

    it("takes kubernetesVersion as major.minor only: a patch would fight the patch upgrade channel", () => {
        assert.deepEqual(problemsOf({ kubernetesVersion: "1.33" }), []);
        for (const version of ["1.33.2", "v1.33", "1", "1.33.x"]) {
            const [problem, ...rest] = problemsOf({ kubernetesVersion: version });
            assert.deepEqual(rest, [], version);
            assert.match(problem, /^apfa:azure\.kubernetesVersion: expected major\.minor such as "1\.33" \(no patch: the patch upgrade channel/, version);
        }
    });
});
