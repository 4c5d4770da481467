/**
 * The failover controller (tools/failover/) as a Kubernetes workload, for the AKS and GKE region
 * stacks that run it (the deployment's failover region, `apfa:multiRegion.regions[1]`). The cloud
 * part — the identity allowed to promote exactly one replica — is the target's; this module only
 * places the pod.
 *
 * What it creates, in its own namespace `apfa-failover` (Pod Security `restricted`):
 * - a ServiceAccount carrying the cloud identity's annotation (AKS workload identity client id, GKE
 *   Workload Identity service account);
 * - the operator's control file as a ConfigMap (`control.json`: `{"paused": false, "rearm": ""}`),
 *   mounted where `APFA_FAILOVER_CONTROL_FILE` points. Operators pause or re-arm with
 *   `kubectl -n apfa-failover edit configmap apfa-failover-control`; the kubelet refreshes a mounted
 *   ConfigMap within about a minute. `pulumi up` never writes it back (`ignoreChanges: ["data"]`), so a
 *   pause survives the next deploy;
 * - ONE replica with the `Recreate` strategy: two controllers must never run at once (both would
 *   count the same failures and the second would find a promotion under way);
 * - NetworkPolicies: nothing may connect to the pod; it may resolve names and open HTTPS (the health
 *   URLs, the cloud's management API and token service) and reach the node-local metadata server
 *   (GKE Workload Identity answers on 169.254.169.254:80 and, on newer nodes, 988).
 *
 * The controller's timing stays at its own defaults (10 s interval, 3 failures, 5 s probe timeout:
 * tools/failover/config.ts), which the failover budget (`npm run bench:failover-budget`) assumes.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { managedLabels } from "./labels";

export const FAILOVER_NAMESPACE = "apfa-failover";
export const FAILOVER_NAME = "apfa-failover";
export const FAILOVER_CONTROL_CONFIGMAP = "apfa-failover-control";
/** Where the control file is mounted. */
export const FAILOVER_CONTROL_DIR = "/etc/apfa-failover";
export const FAILOVER_CONTROL_FILE = `${FAILOVER_CONTROL_DIR}/control.json`;
/** The controller's metrics and `/health` port (tools/failover/metrics.ts default). */
export const FAILOVER_METRICS_PORT = 9102;
/** The flags a new controller starts with: armed, not paused. */
export const INITIAL_CONTROL = { paused: false, rearm: "" } as const;

export interface FailoverWorkloadSpec {
    readonly image: string;
    /** `APFA_FAILOVER_*` settings (and the cloud's own variables), all plain: the controller holds no secret. */
    readonly env: Readonly<Record<string, pulumi.Input<string>>>;
    /** Annotations of the ServiceAccount (the cloud identity binding). */
    readonly serviceAccountAnnotations: Readonly<Record<string, pulumi.Input<string>>>;
    /** Extra pod labels (AKS: `azure.workload.identity/use: "true"`). @default {} */
    readonly podLabels?: Readonly<Record<string, string>>;
    /** Extra labels of every object (the stack's tags). @default {} */
    readonly labels?: Readonly<Record<string, string>>;
}

/** The controller's container environment: the controller's settings plus the control file. */
export function failoverEnvironment(env: Readonly<Record<string, pulumi.Input<string>>>): { name: string; value: pulumi.Input<string> }[] {
    const all: Record<string, pulumi.Input<string>> = { ...env, APFA_FAILOVER_CONTROL_FILE: FAILOVER_CONTROL_FILE };
    return Object.keys(all)
        .sort()
        .map((name) => ({ name, value: all[name] }));
}

/** The Deployment's spec (pure, for tests): one replica, Recreate, restricted security context. */
export function failoverDeploymentSpec(spec: FailoverWorkloadSpec): k8s.types.input.apps.v1.DeploymentSpec {
    const selector = { "app.kubernetes.io/name": FAILOVER_NAME };
    return {
        replicas: 1,
        strategy: { type: "Recreate" },
        selector: { matchLabels: selector },
        template: {
            metadata: { labels: { ...managedLabels(FAILOVER_NAME, "failover-controller", spec.labels), ...selector, ...spec.podLabels } },
            spec: {
                serviceAccountName: FAILOVER_NAME,
                automountServiceAccountToken: true,
                securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
                containers: [
                    {
                        name: "controller",
                        image: spec.image,
                        args: ["run"],
                        env: failoverEnvironment(spec.env),
                        ports: [{ name: "metrics", containerPort: FAILOVER_METRICS_PORT }],
                        // /health answers while the loop's HTTP server runs (tools/failover/metrics.ts).
                        livenessProbe: { httpGet: { path: "/health", port: FAILOVER_METRICS_PORT }, periodSeconds: 20, failureThreshold: 3 },
                        // Ready once the loop serves: `pulumi up` waits for it (no Service routes to the pod).
                        readinessProbe: { httpGet: { path: "/health", port: FAILOVER_METRICS_PORT }, periodSeconds: 10, failureThreshold: 3 },
                        resources: { requests: { cpu: "50m", memory: "96Mi" }, limits: { memory: "192Mi" } },
                        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                        volumeMounts: [{ name: "control", mountPath: FAILOVER_CONTROL_DIR, readOnly: true }],
                    },
                ],
                volumes: [{ name: "control", configMap: { name: FAILOVER_CONTROL_CONFIGMAP } }],
            },
        },
    };
}

/** Egress the controller needs; no ingress at all. */
export function failoverNetworkPolicySpec(): k8s.types.input.networking.v1.NetworkPolicySpec {
    return {
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
        ingress: [],
        egress: [
            { ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }] },
            { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] },
            // The node-local metadata server (GKE Workload Identity tokens); AKS does not use it.
            { to: [{ ipBlock: { cidr: "169.254.169.254/32" } }], ports: [{ protocol: "TCP", port: 80 }, { protocol: "TCP", port: 988 }] },
        ],
    };
}

export interface FailoverWorkload {
    readonly namespace: k8s.core.v1.Namespace;
    readonly serviceAccount: k8s.core.v1.ServiceAccount;
    readonly control: k8s.core.v1.ConfigMap;
    readonly deployment: k8s.apps.v1.Deployment;
}

/** Creates the controller's namespace, identity, control file, policy and Deployment as children of `parent`. */
export function createFailoverWorkload(
    name: string,
    spec: FailoverWorkloadSpec,
    opts: { parent: pulumi.Resource; provider: k8s.Provider; dependsOn?: pulumi.Input<pulumi.Resource>[] },
): FailoverWorkload {
    const labels = (component: string) => managedLabels(FAILOVER_NAME, component, spec.labels);
    const childOpts = { parent: opts.parent, provider: opts.provider };
    const namespace = new k8s.core.v1.Namespace(
        `${name}-namespace`,
        {
            metadata: {
                name: FAILOVER_NAMESPACE,
                labels: { ...labels("namespace"), "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest" },
            },
        },
        { ...childOpts, dependsOn: opts.dependsOn },
    );
    const inNamespace = { ...childOpts, dependsOn: [namespace] };
    const serviceAccount = new k8s.core.v1.ServiceAccount(
        `${name}-service-account`,
        { metadata: { name: FAILOVER_NAME, namespace: FAILOVER_NAMESPACE, labels: labels("identity"), annotations: { ...spec.serviceAccountAnnotations } } },
        inNamespace,
    );
    const control = new k8s.core.v1.ConfigMap(
        `${name}-control`,
        { metadata: { name: FAILOVER_CONTROL_CONFIGMAP, namespace: FAILOVER_NAMESPACE, labels: labels("control") }, data: { "control.json": JSON.stringify(INITIAL_CONTROL) } },
        // The operator's pause and re-arm live here: a deploy must not undo them.
        { ...inNamespace, ignoreChanges: ["data"] },
    );
    const policy = new k8s.networking.v1.NetworkPolicy(
        `${name}-network-policy`,
        { metadata: { name: FAILOVER_NAME, namespace: FAILOVER_NAMESPACE, labels: labels("network-policy") }, spec: failoverNetworkPolicySpec() },
        inNamespace,
    );
    const deployment = new k8s.apps.v1.Deployment(
        `${name}-deployment`,
        { metadata: { name: FAILOVER_NAME, namespace: FAILOVER_NAMESPACE, labels: labels("failover-controller") }, spec: failoverDeploymentSpec(spec) },
        { ...childOpts, dependsOn: [serviceAccount, control, policy] },
    );
    return { namespace, serviceAccount, control, deployment };
}
