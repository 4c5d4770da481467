/**
 * Kubernetes objects: most cost nothing themselves (their pods run on nodes priced as VMs). The
 * exceptions create cloud resources outside the graph: a PersistentVolumeClaim becomes a disk, a
 * Service of type LoadBalancer and a Gateway become a cloud load balancer with a public address.
 * Which disk and which load balancer depends on the cloud, so these pricers ask the cloud's
 * module (azure.ts, gcp.ts) through {@link KubernetesCloud}.
 */
import { PRICED, arr, at, notPriced, obj, str, zero, type NeutralResource, type Pricer, type PricingContext } from "./model";

/** What a cloud module tells the Kubernetes pricers. */
export interface KubernetesCloud {
    /** Prices one disk of `sizeGiB` for a storage class (resolved from the graph, or the cluster default). */
    readonly disk: (pvc: NeutralResource, sizeGiB: number, storageClass: StorageClassInfo | undefined, ctx: PricingContext) => ReturnType<Pricer>;
    /** Prices the public load balancer of a LoadBalancer Service or of a Gateway. */
    readonly publicEntry: (resource: NeutralResource, entry: PublicEntry, ctx: PricingContext) => ReturnType<Pricer>;
}

export interface StorageClassInfo {
    readonly name: string;
    readonly provisioner?: string;
    readonly parameters: Record<string, unknown>;
}

/**
 * A public entry of the cluster: a LoadBalancer Service (layer 4) or a Gateway implemented by the
 * cloud (`gke-l7-*` classes) or by an in-cluster proxy behind a LoadBalancer Service (Envoy Gateway).
 */
export interface PublicEntry {
    readonly kind: "service-lb" | "cloud-l7" | "proxy-lb";
    /** Listener / service ports: one load-balancing rule or forwarding rule each. */
    readonly ports: number;
    readonly gatewayClass?: string;
}

/** Parses `1Gi`, `500Mi`, `10G` into GiB. */
export function quantityGiB(text: string): number | undefined {
    const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/.exec(text.trim());
    if (!m) {
        return undefined;
    }
    const value = Number(m[1]);
    const unit = m[2] ?? "";
    const factor: Record<string, number> = {
        "": 1 / 2 ** 30,
        Ki: 1 / 2 ** 20,
        Mi: 1 / 2 ** 10,
        Gi: 1,
        Ti: 2 ** 10,
        Pi: 2 ** 20,
        k: 1e3 / 2 ** 30,
        M: 1e6 / 2 ** 30,
        G: 1e9 / 2 ** 30,
        T: 1e12 / 2 ** 30,
        P: 1e15 / 2 ** 30,
    };
    return value * factor[unit];
}

function storageClassNamed(name: string | undefined, ctx: PricingContext): StorageClassInfo | undefined {
    if (name === undefined) {
        return undefined;
    }
    const sc = ctx.all("kubernetes:storage.k8s.io/v1:StorageClass").find((s) => str(at(s.inputs, "metadata.name")) === name);
    if (!sc) {
        return { name, parameters: {} };
    }
    return { name, provisioner: str(sc.inputs.provisioner), parameters: obj(sc.inputs.parameters) ?? {} };
}

function pvcPricer(cloud: KubernetesCloud | undefined): Pricer {
    return (pvc, ctx) => {
        if (!cloud) {
            return notPriced(`volumes on ${ctx.cloud} clusters are not priced`);
        }
        const request = str(at(pvc.inputs, "spec.resources.requests.storage"));
        const size = request === undefined ? undefined : quantityGiB(request);
        if (size === undefined) {
            return notPriced("storage request unknown");
        }
        return cloud.disk(pvc, size, storageClassNamed(str(at(pvc.inputs, "spec.storageClassName")), ctx), ctx);
    };
}

function isInternal(annotations: Record<string, unknown> | undefined): boolean {
    return Object.entries(annotations ?? {}).some(
        ([key, value]) =>
            (key === "service.beta.kubernetes.io/azure-load-balancer-internal" && value === "true") ||
            (key === "networking.gke.io/load-balancer-type" && value === "Internal") ||
            (key === "cloud.google.com/load-balancer-type" && value === "Internal"),
    );
}

/** How a Gateway reaches users: through its class's parameters (Envoy Gateway) or the cloud's own controller. */
export function gatewayEntry(gateway: NeutralResource, ctx: PricingContext): PublicEntry | { internal: true } | { unknown: string } {
    const className = str(at(gateway.inputs, "spec.gatewayClassName"));
    const ports = new Set((arr(at(gateway.inputs, "spec.listeners")) ?? []).map((l) => obj(l)?.port)).size;
    if (className === undefined) {
        return { unknown: "gateway class unknown" };
    }
    if (className.startsWith("gke-l7-")) {
        if (className.includes("-rilb") || className.includes("regional-internal") || className.includes("internal")) {
            return { internal: true };
        }
        return { kind: "cloud-l7", ports, gatewayClass: className };
    }
    const gc = ctx.all("kubernetes:gateway.networking.k8s.io/v1:GatewayClass").find((c) => str(at(c.inputs, "metadata.name")) === className);
    if (str(at(gc?.inputs, "spec.controllerName")) === "gateway.envoyproxy.io/gatewayclass-controller") {
        const ref = obj(at(gc?.inputs, "spec.parametersRef"));
        const proxy = ctx.all("kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy").find((p) => str(at(p.inputs, "metadata.name")) === str(ref?.name));
        const service = obj(at(proxy?.inputs, "spec.provider.kubernetes.envoyService"));
        // Envoy Gateway's default proxy Service is a LoadBalancer.
        if ((str(service?.type) ?? "LoadBalancer") !== "LoadBalancer" || isInternal(obj(service?.annotations))) {
            return { internal: true };
        }
        return { kind: "proxy-lb", ports, gatewayClass: className };
    }
    return { unknown: `gateway class ${className}: its controller's load balancer is not known to the estimator` };
}

/** The public entries of the graph (for per-cluster rule counts). */
export function publicEntries(ctx: PricingContext): PublicEntry[] {
    const entries: PublicEntry[] = [];
    for (const service of ctx.all("kubernetes:core/v1:Service")) {
        if (str(at(service.inputs, "spec.type")) === "LoadBalancer" && !isInternal(obj(at(service.inputs, "metadata.annotations")))) {
            entries.push({ kind: "service-lb", ports: arr(at(service.inputs, "spec.ports"))?.length ?? 1 });
        }
    }
    for (const gateway of ctx.all("kubernetes:gateway.networking.k8s.io/v1:Gateway")) {
        const entry = gatewayEntry(gateway, ctx);
        if ("kind" in entry) {
            entries.push(entry);
        }
    }
    return entries;
}

function servicePricer(cloud: KubernetesCloud | undefined): Pricer {
    return (service, ctx) => {
        if (str(at(service.inputs, "spec.type")) !== "LoadBalancer") {
            return zero("a ClusterIP/NodePort Service is free");
        }
        if (isInternal(obj(at(service.inputs, "metadata.annotations")))) {
            return zero("an internal load balancer's rules are counted on the cluster's load balancer");
        }
        if (!cloud) {
            return notPriced(`LoadBalancer Services on ${ctx.cloud} are not priced`);
        }
        return cloud.publicEntry(service, { kind: "service-lb", ports: arr(at(service.inputs, "spec.ports"))?.length ?? 1 }, ctx);
    };
}

function gatewayPricer(cloud: KubernetesCloud | undefined): Pricer {
    return (gateway, ctx) => {
        const entry = gatewayEntry(gateway, ctx);
        if ("internal" in entry) {
            return zero("internal gateway: no public address");
        }
        if ("unknown" in entry) {
            return notPriced(entry.unknown);
        }
        if (!cloud) {
            return notPriced(`gateways on ${ctx.cloud} are not priced`);
        }
        return cloud.publicEntry(gateway, entry, ctx);
    };
}

const ON_NODES = "runs on the cluster's nodes (priced as VMs)";

/** The Kubernetes pricers for a cluster on `cloud` (undefined: volumes and load balancers left not priced). */
export function kubernetesPricers(cloud: KubernetesCloud | undefined): Record<string, Pricer> {
    return {
        "kubernetes:core/v1:PersistentVolumeClaim": pvcPricer(cloud),
        "kubernetes:core/v1:Service": servicePricer(cloud),
        "kubernetes:gateway.networking.k8s.io/v1:Gateway": gatewayPricer(cloud),
        "kubernetes:helm.sh/v3:Release": () =>
            zero(`${ON_NODES}; a chart that creates LoadBalancer Services or volumes itself is not seen by the estimator (this program's charts do not)`),
        "kubernetes:helm.sh/v4:Chart": () => zero(ON_NODES),
        "kubernetes:storage.k8s.io/v1:StorageClass": () => zero("a storage class is free; its volumes are priced on the claims"),
        "kubernetes:core/v1:PersistentVolume": () => notPriced("statically provisioned volumes are not priced (size and backing disk unknown)"),
    };
}

/** Every other Kubernetes object: API objects whose cost, if any, is in the nodes. */
export const KUBERNETES_FREE_PREFIX = { prefix: "kubernetes:", reason: "a Kubernetes API object: no charge of its own (workloads run on the nodes, priced as VMs)" } as const;

export { PRICED };
