/**
 * The Gateway API implementation of the AKS target: Envoy Gateway, installed from its Helm charts.
 *
 * Why Envoy Gateway: community ingress-nginx is retired (March 2026) and the AKS app-routing NGINX
 * add-on only gets critical fixes until November 2026; AKS's own Gateway API options (app-routing
 * `approuting-istio`, the Istio add-on's Gateway API, the Managed Gateway API CRDs) are preview and
 * absent from azure-native's default ManagedCluster API. Envoy Gateway is a conformant Gateway API
 * implementation (HTTPRoute backendRef weights included) that runs on any AKS today, is installed
 * and upgraded by this program with pinned versions, and keeps the route identical to GKE's.
 * Application Gateway for Containers would also work (managed data plane, weights supported) but
 * needs its ALB controller, a delegated subnet, a workload identity and four more Azure resources.
 *
 * Install plan:
 * 1. CRDs (Gateway API standard channel + Envoy Gateway's) from `gateway-crds-helm`, rendered by
 *    `helm.v4.Chart` and applied object by object: they upgrade with the pinned version (Helm
 *    never upgrades a chart's `crds/`), and there is no release Secret (they exceed its 1 MiB).
 * 2. The controller from `gateway-helm` as a `helm.v3.Release` (it needs Helm hooks: certgen),
 *    with `skipCrds`.
 * 3. An EnvoyProxy (the data plane's shape: replicas across zones, PDB, Service) and the
 *    GatewayClass pointing at it. Each Gateway of the class gets its own Envoy Deployment and an
 *    Azure Standard public load balancer.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { NetworkPolicyPeer } from "../../kubernetes";

/**
 * Envoy Gateway release, pinned (v1.9 supports Kubernetes 1.33-1.36); bump deliberately.
 *
 * v1.9.1 exists (a review against a snapshot of 2026-08-21 saw only v1.9.0): upstream's release
 * notes `site/content/en/news/releases/notes/v1.9.1.md` in envoyproxy/gateway are dated 2026-08-29;
 * Renovate moved a cluster's OCI chart `mirror.gcr.io/envoyproxy/gateway-helm` from v1.7.3 to v1.9.1
 * on 2026-09-11 (ajaykumar4/cluster-template#457), and helmforgedev/charts#1110 (2026-09-02) bumped
 * to 1.9.1 after verifying the published image tag.
 * Both charts (gateway-helm, gateway-crds-helm) are published by the same release job.
 * Newer patches have upstream release notes (v1.9.2 of 2026-09-28, v1.9.3 of 2026-10-03, Envoy
 * security fixes incl. a TLS-handshake DoS); check the tag with
 * `helm show chart oci://docker.io/envoyproxy/gateway-helm --version <v>` before bumping.
 */
export const ENVOY_GATEWAY_VERSION = "v1.9.1";
export const ENVOY_GATEWAY_CRDS_CHART = "oci://docker.io/envoyproxy/gateway-crds-helm";
export const ENVOY_GATEWAY_CHART = "oci://docker.io/envoyproxy/gateway-helm";
/** Namespace of the controller and of every Envoy proxy Deployment it creates. */
export const ENVOY_GATEWAY_NAMESPACE = "envoy-gateway-system";
export const ENVOY_GATEWAY_CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller";
/** Name of the GatewayClass the APFA Gateway uses on AKS. */
export const AKS_GATEWAY_CLASS = "apfa-envoy";
/** Name of the EnvoyProxy that shapes the data plane. */
export const ENVOY_PROXY_NAME = "apfa-proxy";
/** Label the program puts on the Envoy proxy pods (the APFA NetworkPolicy admits them by it). */
export const ENVOY_PROXY_ROLE_LABEL = { "apfa.io/role": "gateway-proxy" } as const;

/** Values of gateway-crds-helm: the standard Gateway API channel plus Envoy Gateway's own CRDs. */
/**
 * How long Envoy keeps an idle connection to an APFA replica. Envoy's default is one hour; APFA
 * closes idle connections after its keep-alive (the reference app: 620 s), and a proxy that reuses
 * a connection the app has just closed answers 502/503. The proxy must close first.
 */
export const UPSTREAM_IDLE_TIMEOUT_SECONDS = 60;

/**
 * Spec of the BackendTrafficPolicy (gateway.envoyproxy.io/v1alpha1) on APFA's Gateway: upstream
 * HTTP connections close after {@link UPSTREAM_IDLE_TIMEOUT_SECONDS} idle (field
 * `timeout.http.connectionIdleTimeout`, Envoy Gateway api/v1alpha1/timeout_types.go).
 */
export function backendConnectionPolicySpec(gatewayName: string): Record<string, unknown> {
    return {
        targetRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: gatewayName }],
        timeout: { http: { connectionIdleTimeout: `${UPSTREAM_IDLE_TIMEOUT_SECONDS}s` } },
    };
}

export function envoyGatewayCrdValues(): Record<string, unknown> {
    return { crds: { gatewayAPI: { enabled: true, channel: "standard" }, envoyGateway: { enabled: true } } };
}

/** Values of gateway-helm: a controller pair (leader election) that survives a node drain. */
export function envoyGatewayControllerValues(): Record<string, unknown> {
    return {
        deployment: { replicas: 2 },
        podDisruptionBudget: { minAvailable: 1 },
    };
}

/**
 * The EnvoyProxy spec: one proxy per zone at least (2 minimum), spread across zones, a PDB, and a
 * public Service with `externalTrafficPolicy: Local` (client IPs preserved; the Azure load balancer
 * probes each node's health-check node port, so only nodes with a ready proxy get traffic).
 */
export function envoyProxySpec(zoneCount: number): Record<string, unknown> {
    const replicas = Math.max(2, zoneCount);
    return {
        provider: {
            type: "Kubernetes",
            kubernetes: {
                envoyDeployment: {
                    replicas,
                    pod: {
                        labels: { ...ENVOY_PROXY_ROLE_LABEL },
                        topologySpreadConstraints: [
                            {
                                maxSkew: 1,
                                topologyKey: "topology.kubernetes.io/zone",
                                whenUnsatisfiable: "ScheduleAnyway",
                                labelSelector: { matchLabels: { ...ENVOY_PROXY_ROLE_LABEL } },
                            },
                        ],
                    },
                },
                envoyPDB: { minAvailable: 1 },
                envoyService: { type: "LoadBalancer", externalTrafficPolicy: "Local" },
            },
        },
    };
}

/** Where APFA's traffic comes from on AKS: the Envoy proxy pods in the controller's namespace. */
export function envoyProxyPeers(): NetworkPolicyPeer[] {
    return [
        {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ENVOY_GATEWAY_NAMESPACE } },
            podSelector: { matchLabels: { ...ENVOY_PROXY_ROLE_LABEL } },
        },
    ];
}

export interface EnvoyGatewayInstall {
    /** The GatewayClass resource (depend on it before creating Gateways). */
    readonly gatewayClass: k8s.apiextensions.CustomResource;
    readonly gatewayClassName: string;
    /** NetworkPolicy peers of the Envoy proxies. */
    readonly proxyPeers: NetworkPolicyPeer[];
}

/** Installs Envoy Gateway into the cluster of `provider`, as children of `parent`. */
export function installEnvoyGateway(
    name: string,
    args: { provider: k8s.Provider; zoneCount: number; dependsOn?: pulumi.Input<pulumi.Resource>[] },
    parent: pulumi.Resource,
): EnvoyGatewayInstall {
    const opts = { parent, provider: args.provider };

    const crds = new k8s.helm.v4.Chart(
        `${name}-crds`,
        { chart: ENVOY_GATEWAY_CRDS_CHART, version: ENVOY_GATEWAY_VERSION, values: envoyGatewayCrdValues() },
        { ...opts, dependsOn: args.dependsOn },
    );

    const controller = new k8s.helm.v3.Release(
        `${name}-controller`,
        {
            name: "envoy-gateway",
            chart: ENVOY_GATEWAY_CHART,
            version: ENVOY_GATEWAY_VERSION,
            namespace: ENVOY_GATEWAY_NAMESPACE,
            createNamespace: true,
            skipCrds: true,
            values: envoyGatewayControllerValues(),
            atomic: true,
            cleanupOnFail: true,
            timeout: 600,
            maxHistory: 10,
        },
        { ...opts, dependsOn: [crds] },
    );

    const proxy = new k8s.apiextensions.CustomResource(
        `${name}-proxy`,
        {
            apiVersion: "gateway.envoyproxy.io/v1alpha1",
            kind: "EnvoyProxy",
            metadata: { name: ENVOY_PROXY_NAME, namespace: controller.namespace },
            spec: envoyProxySpec(args.zoneCount),
        },
        { ...opts, dependsOn: [controller] },
    );

    const gatewayClass = new k8s.apiextensions.CustomResource(
        `${name}-class`,
        {
            apiVersion: "gateway.networking.k8s.io/v1",
            kind: "GatewayClass",
            metadata: { name: AKS_GATEWAY_CLASS, annotations: { "pulumi.com/waitFor": "condition=Accepted" } },
            spec: {
                controllerName: ENVOY_GATEWAY_CONTROLLER,
                parametersRef: { group: "gateway.envoyproxy.io", kind: "EnvoyProxy", name: ENVOY_PROXY_NAME, namespace: ENVOY_GATEWAY_NAMESPACE },
            },
        },
        { ...opts, dependsOn: [proxy] },
    );

    return { gatewayClass, gatewayClassName: AKS_GATEWAY_CLASS, proxyPeers: envoyProxyPeers() };
}
