/**
 * The Kubernetes layer shared by the AKS and GKE targets. Given a provider for a cluster, it
 * installs APFA and its blue/green routing:
 *
 * - a Namespace (`apfa`);
 * - the chart `charts/apfa` once per slot as a real Helm release (`apfa-blue`, `apfa-green`), with
 *   values from the pure {@link chartValues};
 * - a Gateway of the class the target supplies and ONE HTTPRoute whose two backendRefs carry the
 *   slots' weights (a weight change edits only that route), and whose second rule keeps APFA's
 *   metrics path off the public Gateway;
 * - optionally a NetworkPolicy that admits APFA's port only from the Gateway's data plane and from
 *   Prometheus;
 * - `runService`, which places auxiliary services (Prometheus, Grafana) in the same namespace, each
 *   reachable only from the auxiliary services placed after it (Grafana → Prometheus).
 *
 * Why `helm.v3.Release` rather than `helm.v4.Chart`: each slot is a real Helm release (visible in
 * `helm ls`, `helm history`, `helm rollback` for operators), `atomic` rolls a failed upgrade back
 * by itself, and the release waits for the slot's Deployment to be ready. The weights live outside
 * the chart, so a weight change never touches a release. v4.Chart would manage every object
 * separately (finer diffs, transforms) but has no release, no atomic upgrade and skips hooks.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";

import type { AuxService, AuxServiceSpec, SlotDeployment } from "../contract";
import type { AzureConfig, GcpConfig, Slot } from "../config";
import { SLOTS } from "../config";
import { trafficWeights, type TrafficWeights } from "../bluegreen";
import { createAuxService } from "./aux-service";
import { managedLabels, tagsToLabels } from "./labels";
import { APFA_NAMESPACE, headlessServiceName, releaseName, serviceFqdn, serviceName as slotServiceName } from "./names";
import { apfaNetworkPolicy, type NetworkPolicyPeer } from "./network-policy";
import { gatewayManifest, gatewayUrl, httpRouteManifest } from "./routing";
import { CHART_PATH, chartDigest, chartValues } from "./values";

export { chartValues, CHART_PATH, cpuQuantity, mergeValues } from "./values";
export * as names from "./names";
export type { NetworkPolicyPeer } from "./network-policy";

/** Component type token of {@link KubernetesApfa}. */
export const KUBERNETES_APFA_TYPE = "apfa:kubernetes:KubernetesApfa";

export interface KubernetesApfaArgs {
    /** Typed config of an azure or gcp stack (src/config/). */
    readonly config: AzureConfig | GcpConfig;
    /** Provider for the target cluster. */
    readonly provider: k8s.Provider;
    /** GatewayClass of the public Gateway (AKS: your choice; GKE: e.g. "gke-l7-global-external-managed"). */
    readonly gatewayClassName: string;
    /** Extra chart values merged into both slots' values (e.g. nodeSelector/tolerations). @default {} */
    readonly chartValues?: Record<string, unknown>;
    /** Annotations for the Gateway (platform-specific options). @default {} */
    readonly gatewayAnnotations?: Record<string, string>;
    /** Resources that must exist first (e.g. the gateway controller install, node pools). */
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
    /**
     * Where the Gateway's data plane reaches APFA's pods from, as NetworkPolicy peers (AKS: the
     * Envoy proxy pods; GKE: Google's front-end and health-check ranges). When given, a
     * NetworkPolicy admits APFA's port only from these peers and from Prometheus and denies every
     * other ingress to APFA's pods. @default undefined (no NetworkPolicy for APFA)
     */
    readonly gatewayPeers?: readonly NetworkPolicyPeer[];
}

/** Helm release settings shared by both slots. */
const RELEASE_TIMEOUT_SECONDS = 600;

export class KubernetesApfa extends pulumi.ComponentResource {
    /** Namespace of APFA, the route and the auxiliary services (plain, known at construction). */
    readonly namespaceName: string;
    /** Where users reach APFA: `http://<Gateway address>`. */
    readonly url: pulumi.Output<string>;
    /** Both slots with their weights and DNS discovery (headless Service FQDN + port). */
    readonly slots: Record<Slot, SlotDeployment>;
    readonly weights: TrafficWeights;
    /** URN of the HTTPRoute: the only resource a weight change touches. */
    readonly trafficUrn: pulumi.Output<string>;
    readonly gateway: k8s.apiextensions.CustomResource;
    readonly route: k8s.apiextensions.CustomResource;
    readonly namespace: k8s.core.v1.Namespace;
    /** The Helm release of each slot. */
    readonly releases: Readonly<Record<Slot, k8s.helm.v3.Release>>;

    private readonly name: string;
    private readonly provider: k8s.Provider;
    private readonly commonLabels: Record<string, string>;
    /** Auxiliary services placed so far, in order (each may call the ones before it). */
    private readonly placed: string[] = [];

    constructor(name: string, args: KubernetesApfaArgs, opts?: pulumi.ComponentResourceOptions) {
        super(KUBERNETES_APFA_TYPE, name, {}, opts);
        const { config, provider } = args;
        this.name = name;
        this.provider = provider;
        this.namespaceName = APFA_NAMESPACE;
        this.weights = trafficWeights(config.release);
        this.commonLabels = tagsToLabels(config.tags);
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
                    values: chartValues(config, slot, args.chartValues),
                    // A failed upgrade rolls back to the last good revision of this slot.
                    atomic: true,
                    cleanupOnFail: true,
                    timeout: RELEASE_TIMEOUT_SECONDS,
                    maxHistory: 10,
                    description: `apfa chart sha256:${digest}`,
                },
                { ...childOpts, dependsOn: [this.namespace] },
            );
            slots[slot] = {
                slot,
                weight: this.weights[slot],
                discovery: { kind: "dns", name: serviceFqdn(headlessServiceName(slot), APFA_NAMESPACE), port: config.app.port },
            };
        }
        this.releases = releases;
        this.slots = slots;

        if (args.gatewayPeers !== undefined) {
            const policy = apfaNetworkPolicy({
                name: "apfa",
                namespace: APFA_NAMESPACE,
                port: config.app.port,
                gatewayPeers: args.gatewayPeers,
                labels: managedLabels("apfa", "network-policy", this.commonLabels),
            });
            new k8s.networking.v1.NetworkPolicy(
                `${name}-netpol`,
                { metadata: { ...policy.metadata, namespace }, spec: policy.spec },
                { ...childOpts, dependsOn: [this.namespace] },
            );
        }

        const gateway = gatewayManifest({
            namespace: APFA_NAMESPACE,
            gatewayClassName: args.gatewayClassName,
            labels: managedLabels("apfa", "gateway", this.commonLabels),
            annotations: args.gatewayAnnotations,
        });
        this.gateway = new k8s.apiextensions.CustomResource(
            `${name}-gateway`,
            // `status: undefined` declares the output property the URL is read from.
            { apiVersion: gateway.apiVersion, kind: gateway.kind, metadata: { ...gateway.metadata, namespace }, spec: gateway.spec, status: undefined },
            // Cloud load balancers take minutes to get an address.
            { ...childOpts, dependsOn: [this.namespace], customTimeouts: { create: "20m", update: "20m" } },
        );

        const route = httpRouteManifest({
            namespace: APFA_NAMESPACE,
            weights: this.weights,
            port: config.app.port,
            metricsPath: config.app.metricsPath,
            labels: managedLabels("apfa", "route", this.commonLabels),
        });
        this.route = new k8s.apiextensions.CustomResource(
            `${name}-route`,
            { apiVersion: route.apiVersion, kind: route.kind, metadata: { ...route.metadata, namespace }, spec: route.spec },
            { ...childOpts, dependsOn: [this.gateway, releases.blue, releases.green] },
        );
        this.trafficUrn = this.route.urn;

        const status = (this.gateway as unknown as { status: pulumi.Output<{ addresses?: { value?: string }[] } | undefined> }).status;
        this.url = status.apply((s) => {
            const url = gatewayUrl(s);
            if (url === undefined) {
                throw new pulumi.ResourceError(`Gateway ${APFA_NAMESPACE}/${gateway.metadata.name} was programmed without an address`, this);
            }
            return url;
        });

        this.registerOutputs({
            namespaceName: this.namespaceName,
            url: this.url,
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
        if (this.placed.includes(spec.name)) {
            throw new Error(`an auxiliary service named ${JSON.stringify(spec.name)} already runs in this stack`);
        }
        const placedBefore = [...this.placed];
        this.placed.push(spec.name);
        return createAuxService(
            {
                name: this.name,
                namespace: this.namespace.metadata.name,
                namespaceName: this.namespaceName,
                provider: this.provider,
                commonLabels: this.commonLabels,
                dependsOn: [this.namespace],
                placedBefore,
            },
            spec,
            parent,
        );
    }
}
