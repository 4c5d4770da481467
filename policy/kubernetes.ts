/**
 * Kubernetes rules over what the program creates on AKS and GKE: Deployments, Services, PDBs,
 * NetworkPolicies, Gateway API objects and Helm releases (the APFA chart's own objects are checked
 * through the release's values here, and rendered and scanned by checkov/kube-score/kubeconform in
 * tests/scanners.test.ts).
 */
import type { PolicyResource } from "@pulumi/policy";

import { at, forTypes, isProductionResource, isUnknown, known, list, MONITORING_NAME, ofType, plain, record, resourceRule, stackRule } from "./rule";

export const WORKLOAD_TYPES = ["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet"];

/** The pod template's spec of a workload's props. */
function podSpec(props: unknown): Record<string, unknown> {
    return record(at(props, "spec.template.spec"));
}

/** Regular and init containers. */
function containersOf(pod: Record<string, unknown>): Record<string, unknown>[] {
    return [...list(pod.containers), ...list(pod.initContainers)].map(record);
}

export const k8sProbesAndResources = resourceRule(
    {
        name: "k8s-probes-and-resources",
        area: "kubernetes",
        enforcementLevel: "mandatory",
        description: "Every workload container has readiness and liveness probes, CPU/memory requests and a memory limit: traffic only to ready pods, hung ones restarted, no noisy neighbour.",
    },
    forTypes(WORKLOAD_TYPES, (args, report) => {
        const pod = podSpec(args.props);
        for (const c of list(pod.containers).map(record)) {
            const name = String(c.name);
            if (c.readinessProbe === undefined) {
                report(`container ${name} has no readinessProbe`);
            }
            if (c.livenessProbe === undefined) {
                report(`container ${name} has no livenessProbe`);
            }
            if (at(c, "resources.requests.cpu") === undefined || at(c, "resources.requests.memory") === undefined) {
                report(`container ${name} has no cpu/memory requests`);
            }
            if (at(c, "resources.limits.memory") === undefined) {
                report(`container ${name} has no memory limit`);
            }
        }
    }),
);

export const k8sPodSecurity = resourceRule(
    {
        name: "k8s-pod-security",
        area: "kubernetes",
        enforcementLevel: "mandatory",
        description: "Pods run as non-root without privilege escalation, privileged mode, host namespaces or added capabilities (the restricted Pod Security Standard).",
    },
    forTypes(WORKLOAD_TYPES, (args, report) => {
        const pod = podSpec(args.props);
        for (const host of ["hostNetwork", "hostPID", "hostIPC"]) {
            if (pod[host] === true) {
                report(`${host} is true`);
            }
        }
        const podNonRoot = at(pod, "securityContext.runAsNonRoot") === true;
        for (const c of containersOf(pod)) {
            const name = String(c.name);
            const sc = record(c.securityContext);
            if (sc.privileged === true) {
                report(`container ${name} is privileged`);
            }
            if (sc.allowPrivilegeEscalation !== false) {
                report(`container ${name} does not set allowPrivilegeEscalation: false`);
            }
            if (!podNonRoot && sc.runAsNonRoot !== true) {
                report(`container ${name} may run as root (runAsNonRoot is not true on the pod or the container)`);
            }
            if (!list(at(sc, "capabilities.drop")).includes("ALL")) {
                report(`container ${name} does not drop ALL capabilities`);
            }
            if (list(at(sc, "capabilities.add")).some((cap) => cap !== "NET_BIND_SERVICE")) {
                report(`container ${name} adds capabilities ${list(at(sc, "capabilities.add")).join(", ")}`);
            }
        }
    }),
);

export const k8sServiceExposure = resourceRule(
    {
        name: "k8s-service-exposure",
        area: "kubernetes",
        enforcementLevel: "mandatory",
        description: "Services are ClusterIP: the only way in is the Gateway, so no LoadBalancer/NodePort Service bypasses TLS, the weights and the network policies.",
    },
    forTypes(["kubernetes:core/v1:Service"], (args, report) => {
        const type = known(at(args.props, "spec.type"));
        if (type === "LoadBalancer" || type === "NodePort") {
            const monitoring = MONITORING_NAME.test(String(at(args.props, "metadata.name") ?? args.name));
            report(`Service type ${String(type)} exposes ${monitoring ? "a monitoring service" : "pods"} outside the cluster; route through the Gateway`);
        }
    }),
);

export const k8sHelmPinned = resourceRule(
    {
        name: "k8s-helm-chart-pinned",
        area: "kubernetes",
        enforcementLevel: "mandatory",
        description: "Helm charts from a registry or repository pin a version: an unpinned chart changes what `pulumi up` installs without a code change.",
    },
    forTypes(["kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"], (args, report) => {
        const p = plain(args.props);
        const chart = known(p.chart);
        const remote = (typeof chart === "string" && /^(oci|https?):\/\//.test(chart)) || at(p, "repositoryOpts.repo") !== undefined;
        const version = known(p.version);
        if (remote && (typeof version !== "string" || version === "" || /[*xX^~]|latest/.test(version))) {
            report(`chart ${String(chart)} has no pinned version (${version === undefined ? "none" : String(version)})`);
        }
    }),
);

/** Gateway classes whose load balancer has only internal addresses (GKE regional internal Application Load Balancer). */
const INTERNAL_GATEWAY_CLASSES = ["gke-l7-rilb", "gke-l7-rilb-mc"];

export const gatewayHttps = resourceRule(
    {
        name: "gateway-https",
        area: "kubernetes",
        enforcementLevel: "mandatory",
        description: "A production Gateway that faces the internet serves HTTPS with a certificate (TLS certificateRefs, or a GKE certificate map): users' traffic is encrypted.",
    },
    forTypes(["kubernetes:gateway.networking.k8s.io/v1:Gateway"], (args, report) => {
        const gatewayClass = known(at(args.props, "spec.gatewayClassName"));
        // GKE's regional internal classes serve only the VPC (e.g. a region behind a multi-cluster
        // Gateway that ends TLS for users); every other class is taken to be public.
        if (!isProductionResource(args.props) || (typeof gatewayClass === "string" && INTERNAL_GATEWAY_CLASSES.includes(gatewayClass))) {
            return;
        }
        const certmap = record(at(args.props, "metadata.annotations"))["networking.gke.io/certmap"];
        const https = list(at(args.props, "spec.listeners"))
            .map(record)
            .filter((l) => l.protocol === "HTTPS");
        const withCert = https.filter((l) => list(at(l, "tls.certificateRefs")).length > 0 || certmap !== undefined);
        if (withCert.length === 0) {
            report("no HTTPS listener with a certificate (waive with apfa:policy.waivers when apfa:allowPlainHttp is set on purpose)");
        }
    }),
);

/** Whether a label selector (matchLabels) selects pods with these labels. */
function selects(selector: unknown, labels: Record<string, unknown>): boolean {
    const match = record(at(selector, "matchLabels"));
    const keys = Object.keys(match);
    return keys.length > 0 && keys.every((k) => labels[k] === match[k]) && list(at(selector, "matchExpressions")).length === 0;
}

function namespaceOf(r: PolicyResource): string | undefined {
    const ns = at(r.props, "metadata.namespace") ?? plain(r.props).namespace;
    return typeof ns === "string" ? ns : undefined;
}

/** A Helm release of this repository's APFA chart. */
export function isApfaRelease(r: { type: string; props: Record<string, unknown> }): boolean {
    const chart = known(plain(r.props).chart);
    return r.type === "kubernetes:helm.sh/v3:Release" && typeof chart === "string" && /(^|\/)charts\/apfa\/?$/.test(chart);
}

export const k8sPdb = stackRule(
    {
        name: "k8s-pdb-for-replicated-workloads",
        area: "kubernetes",
        enforcementLevel: "mandatory",
        description: "Every workload with 2+ replicas has a PodDisruptionBudget (APFA's chart releases keep theirs on), so node drains and upgrades never take all replicas at once.",
    },
    (args, report) => {
        const pdbs = ofType(args.resources, "kubernetes:policy/v1:PodDisruptionBudget");
        for (const w of args.resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment" || r.type === "kubernetes:apps/v1:StatefulSet")) {
            const replicas = at(w.props, "spec.replicas");
            // Unset replicas means an HPA owns the count, or 1.
            if (typeof replicas !== "number" || replicas < 2) {
                continue;
            }
            const labels = record(at(w.props, "spec.template.metadata.labels"));
            const covered = pdbs.some((p) => namespaceOf(p) === namespaceOf(w) && selects(at(p.props, "spec.selector"), labels));
            if (!covered) {
                report(`${String(at(w.props, "metadata.name") ?? w.name)} runs ${replicas} replicas without a PodDisruptionBudget`, w.urn);
            }
        }
        for (const release of args.resources.filter(isApfaRelease)) {
            if (at(release.props, "values.podDisruptionBudget.enabled") === false) {
                report(`APFA release ${String(known(plain(release.props).name) ?? release.name)} turns its PodDisruptionBudget off`, release.urn);
            }
        }
    },
);

export const k8sDefaultDeny = stackRule(
    {
        name: "k8s-namespace-default-deny",
        area: "kubernetes",
        enforcementLevel: "mandatory",
        description: "Every namespace the program runs workloads in has a NetworkPolicy selecting all its pods (empty podSelector) for Ingress and Egress, so anything it does not allow is denied.",
    },
    (args, report) => {
        const namespaces = new Set<string>();
        for (const r of args.resources) {
            if (WORKLOAD_TYPES.includes(r.type)) {
                const ns = namespaceOf(r);
                if (ns) {
                    namespaces.add(ns);
                }
            } else if (isApfaRelease(r)) {
                const ns = known(plain(r.props).namespace);
                if (typeof ns === "string") {
                    namespaces.add(ns);
                }
            }
        }
        const policies = ofType(args.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy");
        for (const ns of namespaces) {
            const denyAll = policies.some((p) => {
                if (namespaceOf(p) !== ns) {
                    return false;
                }
                const selector = record(at(p.props, "spec.podSelector"));
                const types = list(at(p.props, "spec.policyTypes"));
                const empty = Object.keys(record(selector.matchLabels)).length === 0 && list(selector.matchExpressions).length === 0;
                // Its rules, if any, are the namespace-wide allow-list; everything else is denied to every pod.
                return empty && types.includes("Ingress") && types.includes("Egress");
            });
            if (!denyAll) {
                report(`namespace ${ns} has no default-deny NetworkPolicy`);
            }
        }
    },
);

/** Kubernetes monitoring exposure: monitoring Services are ClusterIP; no HTTPRoute sends users to them. */
export function kubernetesMonitoringExposure(resource: { type: string; name: string; props: Record<string, unknown> }, report: (m: string) => void): void {
    if (resource.type === "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute") {
        for (const rule of list(at(resource.props, "spec.rules"))) {
            for (const backend of list(at(rule, "backendRefs")).map(record)) {
                if (typeof backend.name === "string" && MONITORING_NAME.test(backend.name)) {
                    report(`routes public traffic to ${backend.name}`);
                }
            }
        }
    }
    if (resource.type === "kubernetes:core/v1:Service" && MONITORING_NAME.test(String(at(resource.props, "metadata.name") ?? ""))) {
        const type = at(resource.props, "spec.type");
        if (!isUnknown(type) && type !== undefined && type !== "ClusterIP") {
            report(`the monitoring Service is of type ${String(type)}`);
        }
    }
}

export const kubernetesRules = [k8sProbesAndResources, k8sPodSecurity, k8sServiceExposure, k8sHelmPinned, gatewayHttps, k8sPdb, k8sDefaultDeny];
