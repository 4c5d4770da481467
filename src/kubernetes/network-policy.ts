/**
 * NetworkPolicies, as pure functions. Enforcement needs a policy engine in the cluster (AKS: Cilium
 * dataplane; GKE: Dataplane V2). Policies are allow-lists that add up: a pod selected by any policy
 * of a type (Ingress, Egress) may only do what one of them allows.
 *
 * - The namespace denies all ingress and egress by default ({@link namespaceDefaultDeny}); every pod
 *   may resolve names through the cluster DNS ({@link dnsEgressPolicy}).
 * - APFA's pods take users' traffic on the app port only from the Gateway's data plane, and the
 *   metrics port only from pods labelled as scrapers (Prometheus). They send nothing but DNS.
 * - An auxiliary service takes traffic on its port only from the auxiliary services placed after
 *   it, and sends only to the ones placed before it (and, for a scraper, to APFA's metrics port).
 *   The rule follows from the ApfaCluster contract rather than from service names: `runService`
 *   hands out a service's internal URL only once it is placed, so only a later service can have
 *   been configured to call it. With the monitoring component that gives Prometheus ← Grafana (its
 *   datasource), and Grafana ← nobody. Operators use `kubectl port-forward`, which enters the pod
 *   through the kubelet and is not subject to NetworkPolicy; kubelet probes are always allowed.
 * - Prometheus discovers APFA's replicas through the slots' headless Services (DNS), so it needs no
 *   egress to the Kubernetes API.
 */
import type * as k8s from "@pulumi/kubernetes";

import { SCRAPER_LABEL, auxClientLabel } from "./names";

export type NetworkPolicyPeer = k8s.types.input.networking.v1.NetworkPolicyPeer;

export interface NetworkPolicyManifest {
    readonly apiVersion: "networking.k8s.io/v1";
    readonly kind: "NetworkPolicy";
    readonly metadata: { readonly name: string; readonly namespace: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
    readonly spec: k8s.types.input.networking.v1.NetworkPolicySpec;
}

/** Selects the pods of both APFA slots (the chart's app.kubernetes.io/name label). */
export const APFA_POD_SELECTOR = { matchLabels: { "app.kubernetes.io/name": "apfa" } } as const;

/** The cluster DNS pods (CoreDNS on AKS, kube-dns on GKE both carry `k8s-app: kube-dns` in kube-system). */
export const CLUSTER_DNS_PEER: NetworkPolicyPeer = {
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
    podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
};

/** Label cert-manager puts on its ACME HTTP-01 solver pods (they answer Let's Encrypt's challenge). */
export const ACME_SOLVER_POD_LABEL = { "acme.cert-manager.io/http01-solver": "true" } as const;
/** Port the solver pods listen on (cert-manager's `--listen-port` default). */
export const ACME_SOLVER_PORT = 8089;

function manifest(name: string, namespace: string, labels: Record<string, string> | undefined, spec: NetworkPolicyManifest["spec"]): NetworkPolicyManifest {
    return { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace, labels }, spec };
}

const tcp = (port: number) => ({ protocol: "TCP", port });

/**
 * Ingress of APFA's pods: the app port from the gateway peers, the metrics port from scrapers in the
 * namespace, nothing else (selecting the pods with an Ingress policy denies everything not listed).
 * @throws Error when no gateway peer is given (the policy would cut users off), or when the two
 *   ports are the same (the metrics would be reachable from the gateway).
 */
export function apfaNetworkPolicy(args: {
    name: string;
    namespace: string;
    appPort: number;
    metricsPort: number;
    gatewayPeers: readonly NetworkPolicyPeer[];
    labels?: Record<string, string>;
}): NetworkPolicyManifest {
    if (args.gatewayPeers.length === 0) {
        throw new Error("apfaNetworkPolicy needs at least one gateway peer");
    }
    if (args.appPort === args.metricsPort) {
        throw new Error(`APFA's metrics port must differ from its app port (both ${args.appPort})`);
    }
    return manifest(args.name, args.namespace, args.labels, {
        podSelector: APFA_POD_SELECTOR,
        policyTypes: ["Ingress"],
        ingress: [
            { from: [...args.gatewayPeers], ports: [tcp(args.appPort)] },
            { from: [{ podSelector: { matchLabels: { [SCRAPER_LABEL]: "true" } } }], ports: [tcp(args.metricsPort)] },
        ],
    });
}

/**
 * Every pod of the namespace: no ingress and no egress unless another policy allows it. (An empty
 * podSelector selects all pods; a policy with both types and no rules allows nothing.)
 */
export function namespaceDefaultDeny(args: { name: string; namespace: string; labels?: Record<string, string> }): NetworkPolicyManifest {
    return manifest(args.name, args.namespace, args.labels, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
}

/** Every pod of the namespace may query the cluster DNS (UDP and TCP 53), and reach nothing else through this policy. */
export function dnsEgressPolicy(args: { name: string; namespace: string; labels?: Record<string, string> }): NetworkPolicyManifest {
    return manifest(args.name, args.namespace, args.labels, {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [{ to: [CLUSTER_DNS_PEER], ports: [{ protocol: "UDP", port: 53 }, tcp(53)] }],
    });
}

/** Somewhere an auxiliary service sends requests to: pods of its namespace and one port. */
export interface EgressTarget {
    readonly podLabels: Readonly<Record<string, string>>;
    readonly port: number;
}

/**
 * An auxiliary service: its port only from pods carrying its client label (the auxiliary services
 * placed after it); egress only to `egressTo` (the services placed before it, APFA's metrics port
 * for a scraper). Everything else is denied.
 */
export function auxNetworkPolicy(args: {
    /** The service's name; also the policy's. */
    name: string;
    namespace: string;
    port: number;
    podLabels: Record<string, string>;
    egressTo?: readonly EgressTarget[];
    /** TCP ports it may reach outside the cluster (public addresses only). @default [] */
    externalPorts?: readonly number[];
    /** The peer protocol's port (TCP and UDP) when it runs as a peer group: open between its own pods only. */
    peerPort?: number;
    labels?: Record<string, string>;
}): NetworkPolicyManifest {
    const external = [...new Set(args.externalPorts ?? [])].sort((a, b) => a - b);
    const self = [{ podSelector: { matchLabels: args.podLabels } }];
    const peerPorts = args.peerPort === undefined ? [] : [tcp(args.peerPort), { protocol: "UDP", port: args.peerPort }];
    return manifest(args.name, args.namespace, args.labels, {
        podSelector: { matchLabels: args.podLabels },
        policyTypes: ["Ingress", "Egress"],
        ingress: [
            { from: [{ podSelector: { matchLabels: { [auxClientLabel(args.name)]: "true" } } }], ports: [tcp(args.port)] },
            ...(peerPorts.length > 0 ? [{ from: self, ports: peerPorts }] : []),
        ],
        egress: [
            ...(peerPorts.length > 0 ? [{ to: self, ports: peerPorts }] : []),
            ...(args.egressTo ?? []).map((target) => ({ to: [{ podSelector: { matchLabels: { ...target.podLabels } } }], ports: [tcp(target.port)] })),
            // Internet services (Alertmanager's receivers): any public address, no private range.
            ...(external.length > 0
                ? [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"] } }], ports: external.map(tcp) }]
                : []),
        ],
    });
}

/**
 * cert-manager's ACME HTTP-01 solver pods (AKS with TLS): Let's Encrypt's validation request reaches
 * them through the Gateway, so their port is open to the gateway peers, and to nothing else.
 */
export function acmeSolverPolicy(args: {
    name: string;
    namespace: string;
    gatewayPeers: readonly NetworkPolicyPeer[];
    labels?: Record<string, string>;
}): NetworkPolicyManifest {
    if (args.gatewayPeers.length === 0) {
        throw new Error("acmeSolverPolicy needs at least one gateway peer");
    }
    const policy = manifest(args.name, args.namespace, args.labels, {
        podSelector: { matchLabels: { ...ACME_SOLVER_POD_LABEL } },
        policyTypes: ["Ingress"],
        ingress: [{ from: [...args.gatewayPeers], ports: [tcp(ACME_SOLVER_PORT)] }],
    });
    // kube-score's networkpolicy-targets-pod finds no pod for it in the rendered manifests: the
    // solver pods exist only while cert-manager answers a challenge, and this policy must be in place first.
    return { ...policy, metadata: { ...policy.metadata, annotations: { "kube-score/ignore": "networkpolicy-targets-pod" } } };
}
