/**
 * The Kubernetes layer shared by the AKS and GKE targets. Given a provider for a cluster, it
 * installs APFA and its blue/green routing:
 *
 * - a Namespace (`apfa`);
 * - the chart `charts/apfa` once per slot as a real Helm release (`apfa-blue`, `apfa-green`), with
 *   values from the pure {@link chartValues} (app port for users, a separate metrics port for
 *   Prometheus, the platform's preStop sleep and grace period);
 * - a Gateway of the class the target supplies (plain HTTP, plus HTTPS when the target configures
 *   TLS) and ONE HTTPRoute whose two backendRefs carry the slots' weights (a weight change edits only
 *   that route); with TLS a second, static route redirects plain HTTP to HTTPS;
 * - NetworkPolicies: the namespace denies all ingress and egress by default and allows DNS; APFA's
 *   app port admits only the Gateway's data plane, its metrics port only Prometheus;
 * - `runService`, which places auxiliary services (Prometheus, Grafana) in the same namespace, each
 *   reachable only from the auxiliary services placed after it (Grafana → Prometheus).
 *
 * Why `helm.v3.Release` rather than `helm.v4.Chart`: each slot is a real Helm release (visible in
 * `helm ls`, `helm history`, `helm rollback` for operators), `atomic` rolls a failed upgrade back
 * by itself, and the release waits for the slot's Deployment to be ready. The weights live outside
 * the chart, so a weight change never touches a release. v4.Chart would manage every object
 * separately (finer diffs, transforms) but has no release, no atomic upgrade and skips hooks.
 *
 * Replacement: a release is replaced only when its `name` or `namespace` changes, and both are
 * constants here (`apfa-<slot>`, `apfa`), so no config change can replace both slots at once; a
 * changed image, env or size is an in-place `helm upgrade` of that slot's release only. No
 * `deleteBeforeReplace` is set on anything of a slot.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";

import type { AuxService, AuxServiceSpec, SlotDeployment } from "../contract";
import type { AzureConfig, GcpConfig, Slot } from "../config";
import { SLOTS } from "../config";
import { trafficWeights, type TrafficWeights } from "../bluegreen";
import { createAuxService, type PlacedService } from "./aux-service";
import { managedLabels, tagsToLabels } from "./labels";
import { APFA_NAMESPACE, headlessServiceName, releaseName, serviceFqdn, serviceName as slotServiceName } from "./names";
import {
    APFA_POD_SELECTOR,
    acmeSolverPolicy,
    apfaNetworkPolicy,
    dnsEgressPolicy,
    namespaceDefaultDeny,
    type NetworkPolicyManifest,
    type NetworkPolicyPeer,
} from "./network-policy";
import { gatewayAddress, gatewayManifest, gatewayUrl, httpRouteManifest, httpsRedirectRouteManifest, type BackendKind, type GatewayTls } from "./routing";
import { CHART_PATH, chartDigest, chartValues, mergeValues, type PodDrain } from "./values";
import { createDatabaseAccess } from "./database";
import type { Database } from "../contract";

export { chartValues, CHART_PATH, cpuQuantity, mergeValues, podTermination, type ChartPlatform, type PodDrain } from "./values";
export * as names from "./names";
export type { NetworkPolicyPeer } from "./network-policy";
export type { GatewayTls, ListenerCertificate } from "./routing";

/** Component type token of {@link KubernetesApfa}. */
export const KUBERNETES_APFA_TYPE = "apfa:kubernetes:KubernetesApfa";

export interface KubernetesApfaArgs {
    /** Typed config of an azure or gcp stack (src/config/). */
    readonly config: AzureConfig | GcpConfig;
    /** Provider for the target cluster. */
    readonly provider: k8s.Provider;
    /** GatewayClass of the public Gateway (AKS: your choice; GKE: e.g. "gke-l7-global-external-managed"). */
    readonly gatewayClassName: string;
    /**
     * How the platform's load balancer lets go of a terminating replica: sets the chart's preStop
     * sleep and termination grace period (see `podTermination`).
     */
    readonly drain: PodDrain;
    /** Extra chart values merged into both slots' values (e.g. nodeSelector/tolerations). @default {} */
    readonly chartValues?: Record<string, unknown>;
    /** Annotations for the Gateway (platform-specific options, e.g. GKE's certificate map). @default {} */
    readonly gatewayAnnotations?: Record<string, string>;
    /** HTTPS: the host name and where the listener's certificate comes from. @default undefined (plain HTTP only) */
    readonly tls?: GatewayTls;
    /** Resources that must exist first (e.g. the gateway controller install, node pools). */
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
    /** Resources the slots' Helm releases must wait for besides the namespace (e.g. the nodes' registry pull grant). @default [] */
    readonly releaseDependsOn?: pulumi.Input<pulumi.Resource>[];
    /** Resources the Gateway must wait for besides the namespace (e.g. a certificate map its annotation names). @default [] */
    readonly gatewayDependsOn?: pulumi.Input<pulumi.Resource>[];
    /** StorageClass of the auxiliary services' data volumes; the cluster's default class when unset. */
    readonly storageClassName?: string;
    /**
     * Where the Gateway's data plane reaches APFA's pods from, as NetworkPolicy peers (AKS: the
     * Envoy proxy pods; GKE: Google's front-end and health-check ranges). APFA's app port admits
     * only these peers.
     */
    readonly gatewayPeers: readonly NetworkPolicyPeer[];
    /**
     * Whether cert-manager solves ACME HTTP-01 challenges through the Gateway in this namespace (AKS
     * with TLS): its solver pods' port is then open to the gateway peers. @default false
     */
    readonly acmeHttp01Solver?: boolean;
    /**
     * APFA's database (created by the target): both slots get its libpq env, PGPASSWORD from a
     * Secret, and egress to its `egressCidrs`. Unset: no database env.
     */
    readonly database?: Database;
    /**
     * The weighted route's backends: this cluster's slot Services, or (the config cluster of a GKE
     * multi-cluster Gateway) their ServiceImports, which span every fleet cluster. @default "Service"
     */
    readonly backendKind?: BackendKind;
    /**
     * A header every request must carry to reach APFA through the weighted route (AKS behind Front
     * Door: `X-Azure-FDID` with the profile's id); requests without it match no rule. @default none
     */
    readonly requiredHeader?: { readonly name: string; readonly value: pulumi.Input<string> };
}

/** Helm release settings shared by both slots. */
const RELEASE_TIMEOUT_SECONDS = 600;

/** The NetworkPolicies of the namespace and of APFA's pods, as manifests (pure; the layer creates them). */
export function layerNetworkPolicies(args: {
    namespace: string;
    appPort: number;
    metricsPort: number;
    gatewayPeers: readonly NetworkPolicyPeer[];
    acmeHttp01Solver?: boolean;
    labels?: (component: string) => Record<string, string>;
}): NetworkPolicyManifest[] {
    const labels = args.labels ?? (() => ({}));
    const { namespace } = args;
    return [
        namespaceDefaultDeny({ name: "default-deny", namespace, labels: labels("network-policy") }),
        dnsEgressPolicy({ name: "allow-dns", namespace, labels: labels("network-policy") }),
        apfaNetworkPolicy({
            name: "apfa",
            namespace,
            appPort: args.appPort,
            metricsPort: args.metricsPort,
            gatewayPeers: args.gatewayPeers,
            labels: labels("network-policy"),
        }),
        ...(args.acmeHttp01Solver ? [acmeSolverPolicy({ name: "acme-http01-solver", namespace, gatewayPeers: args.gatewayPeers, labels: labels("network-policy") })] : []),
    ];
}

export class KubernetesApfa extends pulumi.ComponentResource {
    /** Namespace of APFA, the route and the auxiliary services (plain, known at construction). */
    readonly namespaceName: string;
    /** Where users reach APFA: `https://<host name>` with TLS, else `http://<Gateway address>`. */
    readonly url: pulumi.Output<string>;
    /** The Gateway's public address (where the DNS name of a TLS stack must point). */
    readonly gatewayAddress: pulumi.Output<string>;
    /** Both slots with their weights and DNS discovery (headless Service FQDN + metrics port). */
    readonly slots: Record<Slot, SlotDeployment>;
    readonly weights: TrafficWeights;
    /** URN of the HTTPRoute: the only resource a weight change touches. */
    readonly trafficUrn: pulumi.Output<string>;
    readonly gateway: k8s.apiextensions.CustomResource;
    readonly route: k8s.apiextensions.CustomResource;
    /** The plain-HTTP → HTTPS redirect route (TLS stacks only). */
    readonly httpsRedirect?: k8s.apiextensions.CustomResource;
    readonly namespace: k8s.core.v1.Namespace;
    /** The Helm release of each slot. */
    readonly releases: Readonly<Record<Slot, k8s.helm.v3.Release>>;

    private readonly name: string;
    private readonly provider: k8s.Provider;
    private readonly commonLabels: Record<string, string>;
    private readonly storageClassName?: string;
    private readonly metricsPort: number;
    /** Auxiliary services placed so far, in order (each may call the ones before it). */
    private readonly placed: PlacedService[] = [];

    constructor(name: string, args: KubernetesApfaArgs, opts?: pulumi.ComponentResourceOptions) {
        super(KUBERNETES_APFA_TYPE, name, {}, opts);
        const { config, provider } = args;
        this.name = name;
        this.provider = provider;
        this.namespaceName = APFA_NAMESPACE;
        this.weights = trafficWeights(config.release);
        this.commonLabels = tagsToLabels(config.tags);
        this.storageClassName = args.storageClassName;
        this.metricsPort = config.app.metricsPort;
        const childOpts = { parent: this, provider };

        this.namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: APFA_NAMESPACE,
                    labels: {
                        ...managedLabels("apfa", "namespace", this.commonLabels),
                        // Pod Security Admission: every pod here must meet the restricted profile.
                        "pod-security.kubernetes.io/enforce": "restricted",
                        "pod-security.kubernetes.io/enforce-version": "latest",
                    },
                },
            },
            { ...childOpts, dependsOn: args.dependsOn },
        );
        const namespace = this.namespace.metadata.name;

        // The policies come first: from the moment a pod exists, it is only reachable as intended.
        const policies = layerNetworkPolicies({
            namespace: APFA_NAMESPACE,
            appPort: config.app.port,
            metricsPort: config.app.metricsPort,
            gatewayPeers: args.gatewayPeers,
            acmeHttp01Solver: args.acmeHttp01Solver,
            labels: (component) => managedLabels("apfa", component, this.commonLabels),
        });
        const policyResources = policies.map(
            (policy) =>
                new k8s.networking.v1.NetworkPolicy(
                    `${name}-netpol-${policy.metadata.name}`,
                    { metadata: { ...policy.metadata, namespace }, spec: policy.spec },
                    {
                        ...childOpts,
                        dependsOn: [this.namespace],
                        // APFA's policy was `<name>-netpol` before the namespace got its own: same object, no replacement.
                        aliases: policy.metadata.name === "apfa" ? [{ name: `${name}-netpol` }] : undefined,
                    },
                ),
        );

        const database = args.database
            ? createDatabaseAccess(
                  name,
                  args.database,
                  { namespace, labels: managedLabels("apfa", "database", this.commonLabels), provider, dependsOn: [this.namespace] },
                  this,
              )
            : undefined;

        const digest = chartDigest(path.resolve(CHART_PATH));
        const releases = {} as Record<Slot, k8s.helm.v3.Release>;
        const slots = {} as Record<Slot, SlotDeployment>;
        for (const slot of SLOTS) {
            releases[slot] = new k8s.helm.v3.Release(
                `${name}-${slot}`,
                {
                    name: releaseName(slot),
                    chart: CHART_PATH,
                    namespace,
                    createNamespace: false,
                    values: database
                        ? database.values.apply((extra) => mergeValues(chartValues(config, slot, { drain: args.drain, values: args.chartValues }), extra))
                        : chartValues(config, slot, { drain: args.drain, values: args.chartValues }),
                    // A failed upgrade rolls back to the last good revision of this slot.
                    atomic: true,
                    cleanupOnFail: true,
                    timeout: RELEASE_TIMEOUT_SECONDS,
                    maxHistory: 10,
                    description: `apfa chart sha256:${digest}`,
                },
                { ...childOpts, dependsOn: [this.namespace, ...policyResources, ...(database?.dependencies ?? []), ...(args.releaseDependsOn ?? [])] },
            );
            slots[slot] = {
                slot,
                weight: this.weights[slot],
                // Prometheus scrapes the metrics port, which only the headless Service exposes.
                discovery: { kind: "dns", name: serviceFqdn(headlessServiceName(slot), APFA_NAMESPACE), port: config.app.metricsPort },
            };
        }
        this.releases = releases;
        this.slots = slots;

        const gateway = gatewayManifest({
            namespace: APFA_NAMESPACE,
            gatewayClassName: args.gatewayClassName,
            tls: args.tls,
            labels: managedLabels("apfa", "gateway", this.commonLabels),
            annotations: args.gatewayAnnotations,
        });
        this.gateway = new k8s.apiextensions.CustomResource(
            `${name}-gateway`,
            // `status: undefined` declares the output property the URL is read from.
            { apiVersion: gateway.apiVersion, kind: gateway.kind, metadata: { ...gateway.metadata, namespace }, spec: gateway.spec, status: undefined },
            // Cloud load balancers take minutes to get an address.
            { ...childOpts, dependsOn: [this.namespace, ...(args.gatewayDependsOn ?? [])], customTimeouts: { create: "20m", update: "20m" } },
        );

        const routeOf = (requiredHeader?: { name: string; value: string }) =>
            httpRouteManifest({
                namespace: APFA_NAMESPACE,
                weights: this.weights,
                appPort: config.app.port,
                tls: args.tls !== undefined,
                labels: managedLabels("apfa", "route", this.commonLabels),
                backendKind: args.backendKind,
                requiredHeader,
            });
        const route = routeOf();
        const header = args.requiredHeader;
        // The header's value may be known only once another resource exists (Front Door's id).
        const routeSpec = header ? pulumi.output(header.value).apply((value) => routeOf({ name: header.name, value }).spec) : route.spec;
        this.route = new k8s.apiextensions.CustomResource(
            `${name}-route`,
            { apiVersion: route.apiVersion, kind: route.kind, metadata: { ...route.metadata, namespace }, spec: routeSpec },
            { ...childOpts, dependsOn: [this.gateway, releases.blue, releases.green] },
        );
        this.trafficUrn = this.route.urn;

        if (args.tls) {
            const redirect = httpsRedirectRouteManifest({
                namespace: APFA_NAMESPACE,
                hostname: args.tls.hostname,
                labels: managedLabels("apfa", "route", this.commonLabels),
            });
            this.httpsRedirect = new k8s.apiextensions.CustomResource(
                `${name}-https-redirect`,
                { apiVersion: redirect.apiVersion, kind: redirect.kind, metadata: { ...redirect.metadata, namespace }, spec: redirect.spec },
                { ...childOpts, dependsOn: [this.gateway] },
            );
        }

        const tlsHostname = args.tls?.hostname;
        const status = (this.gateway as unknown as { status: pulumi.Output<{ addresses?: { value?: string }[] } | undefined> }).status;
        const programmed = (s: { addresses?: { value?: string }[] } | undefined) => {
            if (gatewayAddress(s) === undefined) {
                throw new pulumi.ResourceError(`Gateway ${APFA_NAMESPACE}/${gateway.metadata.name} was programmed without an address`, this);
            }
            return s;
        };
        this.gatewayAddress = status.apply((s) => gatewayAddress(programmed(s)) as string);
        this.url = status.apply((s) => gatewayUrl(programmed(s), tlsHostname) as string);

        this.registerOutputs({
            namespaceName: this.namespaceName,
            url: this.url,
            gatewayAddress: this.gatewayAddress,
            weights: this.weights,
            trafficUrn: this.trafficUrn,
        });
    }

    /** Plain name of the slot's ClusterIP Service (the HTTPRoute's backend). */
    serviceName(slot: Slot): string {
        return slotServiceName(slot);
    }

    /**
     * Runs an auxiliary service in APFA's namespace (the ApfaCluster `runService` capability):
     * ClusterIP only, reached by operators with `kubectl port-forward`, and in the cluster only by
     * the auxiliary services placed after it (the only ones that can know its URL).
     * @throws Error when a service of that name was already placed
     */
    runService(spec: AuxServiceSpec, parent: pulumi.Resource): AuxService {
        if (this.placed.some((placed) => placed.name === spec.name)) {
            throw new Error(`an auxiliary service named ${JSON.stringify(spec.name)} already runs in this stack`);
        }
        const placedBefore = [...this.placed];
        this.placed.push({ name: spec.name, port: spec.port });
        return createAuxService(
            {
                name: this.name,
                namespace: this.namespace.metadata.name,
                namespaceName: this.namespaceName,
                provider: this.provider,
                commonLabels: this.commonLabels,
                dependsOn: [this.namespace],
                placedBefore,
                scrapeTarget: { podLabels: { ...APFA_POD_SELECTOR.matchLabels }, port: this.metricsPort },
                storageClassName: this.storageClassName,
            },
            spec,
            parent,
        );
    }
}
