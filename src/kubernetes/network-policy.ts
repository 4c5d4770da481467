/**
 * NetworkPolicies, as pure functions. Enforcement needs a policy engine in the cluster (AKS: Cilium
 * dataplane; GKE: Dataplane V2).
 *
 * - APFA's pods take traffic on their port only from the Gateway's data plane and from pods
 *   labelled as scrapers (Prometheus); every other ingress is denied.
 * - An auxiliary service takes traffic on its port only from the auxiliary services placed after
 *   it, and nothing else — not from APFA's internet-facing pods. The rule follows from the
 *   ApfaCluster contract rather than from service names: `runService` hands out a service's
 *   internal URL only once it is placed, so only a later service can have been configured to call
 *   it. With the monitoring component that gives Prometheus ← Grafana (its datasource), and Grafana
 *   ← nobody. Operators use `kubectl port-forward`, which enters the pod through the kubelet and is
 *   not subject to NetworkPolicy; kubelet probes are always allowed.
 */
import type * as k8s from "@pulumi/kubernetes";

import { SCRAPER_LABEL, auxClientLabel } from "./names";

export type NetworkPolicyPeer = k8s.types.input.networking.v1.NetworkPolicyPeer;

export interface NetworkPolicyManifest {
    readonly apiVersion: "networking.k8s.io/v1";
    readonly kind: "NetworkPolicy";
    readonly metadata: { readonly name: string; readonly namespace: string; readonly labels?: Record<string, string> };
    readonly spec: k8s.types.input.networking.v1.NetworkPolicySpec;
}

/** Selects the pods of both APFA slots (the chart's app.kubernetes.io/name label). */
export const APFA_POD_SELECTOR = { matchLabels: { "app.kubernetes.io/name": "apfa" } } as const;

/**
 * Ingress of APFA's pods: `port` from the gateway peers and from scrapers in the namespace, nothing
 * else. Selecting the pods with an Ingress policy denies everything not listed.
 * @throws Error when no gateway peer is given (the policy would cut users off).
 */
export function apfaNetworkPolicy(args: {
    name: string;
    namespace: string;
    port: number;
    gatewayPeers: readonly NetworkPolicyPeer[];
    labels?: Record<string, string>;
}): NetworkPolicyManifest {
    if (args.gatewayPeers.length === 0) {
        throw new Error("apfaNetworkPolicy needs at least one gateway peer");
    }
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: args.name, namespace: args.namespace, labels: args.labels },
        spec: {
            podSelector: APFA_POD_SELECTOR,
            policyTypes: ["Ingress"],
            ingress: [
                { from: [...args.gatewayPeers], ports: [{ protocol: "TCP", port: args.port }] },
                { from: [{ podSelector: { matchLabels: { [SCRAPER_LABEL]: "true" } } }], ports: [{ protocol: "TCP", port: args.port }] },
            ],
        },
    };
}

/**
 * Ingress of an auxiliary service: its port, only from pods carrying its client label (the
 * auxiliary services placed after it); everything else is denied.
 */
export function auxNetworkPolicy(args: {
    /** The service's name; also the policy's. */
    name: string;
    namespace: string;
    port: number;
    podLabels: Record<string, string>;
    labels?: Record<string, string>;
}): NetworkPolicyManifest {
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: args.name, namespace: args.namespace, labels: args.labels },
        spec: {
            podSelector: { matchLabels: args.podLabels },
            policyTypes: ["Ingress"],
            ingress: [{ from: [{ podSelector: { matchLabels: { [auxClientLabel(args.name)]: "true" } } }], ports: [{ protocol: "TCP", port: args.port }] }],
        },
    };
}
