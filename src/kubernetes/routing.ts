/**
 * Blue/green routing with the Gateway API, as pure functions: one Gateway (its class comes from
 * the target) and ONE HTTPRoute whose two backendRefs carry the slots' weights. A weight change
 * edits only that route; the Gateway and both Helm releases stay as they are.
 *
 * With TLS the Gateway gets an HTTPS listener next to the plain-HTTP one: the weighted route
 * attaches to HTTPS, and a second, static route answers every plain-HTTP request with a redirect to
 * HTTPS. The route's backends are always the slots' ClusterIP Services on APFA's app port; APFA's
 * metrics live on a separate port that no Service the route reaches exposes, so no path rule on the
 * Gateway is needed to keep them private (a path rule could be bypassed: `/%2e/metrics`).
 */
import type { Slot } from "../config";
import { SLOTS } from "../config";
import type { TrafficWeights } from "../bluegreen";
import {
    GATEWAY_HTTPS_LISTENER,
    GATEWAY_HTTPS_PORT,
    GATEWAY_LISTENER,
    GATEWAY_NAME,
    GATEWAY_PORT,
    HTTPS_REDIRECT_ROUTE_NAME,
    ROUTE_NAME,
    serviceName,
} from "./names";

export const GATEWAY_API_VERSION = "gateway.networking.k8s.io/v1";

/** Makes the provider wait until the controller programmed the Gateway (it has an address then). */
export const GATEWAY_WAIT_ANNOTATION = { "pulumi.com/waitFor": "condition=Programmed" } as const;

export interface ObjectMeta {
    readonly name: string;
    readonly namespace: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * Where the HTTPS listener's certificate comes from:
 * - `secret`: a TLS Secret in the Gateway's namespace (AKS: cert-manager writes it);
 * - `gatewayAnnotation`: the platform attaches it through a Gateway annotation (GKE: a Certificate
 *   Manager map, `networking.gke.io/certmap`), and the listener must then carry no `tls` block:
 *   GKE treats a certmap together with `tls.certificateRefs` as an error.
 */
export type ListenerCertificate = { readonly kind: "secret"; readonly secretName: string } | { readonly kind: "gatewayAnnotation" };

export interface GatewayTls {
    /** The host name users reach APFA at; the URL and the redirect use it. */
    readonly hostname: string;
    readonly certificate: ListenerCertificate;
}

export interface GatewayListener {
    readonly name: string;
    readonly protocol: "HTTP" | "HTTPS";
    readonly port: number;
    readonly tls?: {
        readonly mode: "Terminate";
        readonly certificateRefs: readonly { readonly group: ""; readonly kind: "Secret"; readonly name: string }[];
    };
    readonly allowedRoutes: { readonly namespaces: { readonly from: "Same" } };
}

/** The Gateway API objects as plain data (the subset this program sets). */
export interface GatewayManifest {
    readonly apiVersion: typeof GATEWAY_API_VERSION;
    readonly kind: "Gateway";
    readonly metadata: ObjectMeta;
    readonly spec: {
        readonly gatewayClassName: string;
        readonly listeners: readonly GatewayListener[];
    };
}

/**
 * What a weighted backend is: a Service of this cluster, or (GKE multi-cluster Gateway) the
 * ServiceImport that Multi-cluster Services makes of the same-named Service of every fleet cluster.
 */
export type BackendKind = "Service" | "ServiceImport";
/** The API group of each backend kind (core Services have the empty group). */
export const BACKEND_GROUPS: Readonly<Record<BackendKind, "" | "net.gke.io">> = { Service: "", ServiceImport: "net.gke.io" };

export interface HttpRouteBackendRef {
    readonly group: "" | "net.gke.io";
    readonly kind: BackendKind;
    readonly name: string;
    readonly port: number;
    readonly weight: number;
}

export interface HttpRoutePathMatch {
    readonly path: { readonly type: "PathPrefix"; readonly value: string };
    /** Headers a request must carry to match (all of them, exact values). */
    readonly headers?: readonly { readonly type: "Exact"; readonly name: string; readonly value: string }[];
}

/** The rule that splits user traffic between the slots. */
export interface WeightedRule {
    readonly matches: readonly HttpRoutePathMatch[];
    readonly backendRefs: readonly HttpRouteBackendRef[];
}

/** A rule that answers at the Gateway and forwards nothing (no backendRefs). */
export interface RedirectRule {
    readonly matches: readonly HttpRoutePathMatch[];
    readonly filters: readonly {
        readonly type: "RequestRedirect";
        readonly requestRedirect: { readonly scheme: "https"; readonly statusCode: 301 };
    }[];
}

export interface ParentRef {
    readonly name: string;
    readonly sectionName: string;
}

export interface HttpRouteManifest<TRule> {
    readonly apiVersion: typeof GATEWAY_API_VERSION;
    readonly kind: "HTTPRoute";
    readonly metadata: ObjectMeta;
    readonly spec: {
        readonly parentRefs: readonly ParentRef[];
        readonly hostnames?: readonly string[];
        readonly rules: readonly TRule[];
    };
}

/** The listeners of the public Gateway: plain HTTP on 80, and HTTPS on 443 when TLS is configured. */
export function gatewayListeners(tls?: GatewayTls): GatewayListener[] {
    const allowedRoutes = { namespaces: { from: "Same" } } as const;
    const listeners: GatewayListener[] = [{ name: GATEWAY_LISTENER, protocol: "HTTP", port: GATEWAY_PORT, allowedRoutes }];
    if (tls) {
        const certificate = tls.certificate;
        listeners.push({
            name: GATEWAY_HTTPS_LISTENER,
            protocol: "HTTPS",
            port: GATEWAY_HTTPS_PORT,
            ...(certificate.kind === "secret"
                ? { tls: { mode: "Terminate" as const, certificateRefs: [{ group: "" as const, kind: "Secret" as const, name: certificate.secretName }] } }
                : {}),
            allowedRoutes,
        });
    }
    return listeners;
}

/**
 * The public Gateway: a plain-HTTP listener on port 80 and, with TLS, an HTTPS listener on 443,
 * both taking routes from the Gateway's own namespace only.
 */
export function gatewayManifest(args: {
    namespace: string;
    gatewayClassName: string;
    tls?: GatewayTls;
    labels?: Readonly<Record<string, string>>;
    annotations?: Readonly<Record<string, string>>;
}): GatewayManifest {
    if (args.gatewayClassName.trim() === "") {
        throw new Error("gatewayClassName must not be empty");
    }
    return {
        apiVersion: GATEWAY_API_VERSION,
        kind: "Gateway",
        metadata: {
            name: GATEWAY_NAME,
            namespace: args.namespace,
            labels: args.labels,
            // The wait annotation last: a platform annotation must not switch the wait off.
            annotations: { ...args.annotations, ...GATEWAY_WAIT_ANNOTATION },
        },
        spec: { gatewayClassName: args.gatewayClassName, listeners: gatewayListeners(args.tls) },
    };
}

/**
 * The weighted backends, blue first: each slot's ClusterIP Service on APFA's app port. A weight of
 * 0 is a valid backendRef (it receives no requests) and keeps the route's shape identical at every
 * step of a release.
 * @throws RangeError unless the weights are integers 0-100 adding up to 100.
 */
export function weightedBackends(weights: TrafficWeights, port: number, kind: BackendKind = "Service"): HttpRouteBackendRef[] {
    const total = SLOTS.reduce((sum, slot) => sum + weights[slot], 0);
    for (const slot of SLOTS) {
        const w = weights[slot];
        if (!Number.isInteger(w) || w < 0 || w > 100) {
            throw new RangeError(`weight of ${slot} must be an integer 0-100, got ${w}`);
        }
    }
    if (total !== 100) {
        throw new RangeError(`slot weights must add up to 100, got ${total}`);
    }
    return SLOTS.map((slot: Slot) => ({ group: BACKEND_GROUPS[kind], kind, name: serviceName(slot), port, weight: weights[slot] }));
}

/** The listener user traffic arrives on: HTTPS when TLS is configured, else plain HTTP. */
export function userListener(tls: boolean): string {
    return tls ? GATEWAY_HTTPS_LISTENER : GATEWAY_LISTENER;
}

/**
 * The one weighted HTTPRoute: every path of the user listener split between the slots' Services on
 * APFA's app port (`appPort`; never the metrics port).
 */
export function httpRouteManifest(args: {
    namespace: string;
    weights: TrafficWeights;
    /** APFA's app port (config `app.port`). */
    appPort: number;
    /** Whether the Gateway has an HTTPS listener (the route then serves it, not plain HTTP). */
    tls?: boolean;
    labels?: Readonly<Record<string, string>>;
    /** The slots' backends: this cluster's Services, or their multi-cluster ServiceImports. @default "Service" */
    backendKind?: BackendKind;
    /** A header every routed request must carry (e.g. Front Door's `X-Azure-FDID`); others match no rule (404). */
    requiredHeader?: { readonly name: string; readonly value: string };
}): HttpRouteManifest<WeightedRule> {
    return {
        apiVersion: GATEWAY_API_VERSION,
        kind: "HTTPRoute",
        metadata: { name: ROUTE_NAME, namespace: args.namespace, labels: args.labels },
        spec: {
            parentRefs: [{ name: GATEWAY_NAME, sectionName: userListener(args.tls ?? false) }],
            rules: [
                {
                    matches: [
                        {
                            path: { type: "PathPrefix", value: "/" },
                            ...(args.requiredHeader ? { headers: [{ type: "Exact" as const, name: args.requiredHeader.name, value: args.requiredHeader.value }] } : {}),
                        },
                    ],
                    backendRefs: weightedBackends(args.weights, args.appPort, args.backendKind),
                },
            ],
        },
    };
}

/**
 * The redirect a TLS Gateway answers plain HTTP with: `301` to the same host and path over https.
 * `scheme` is an Extended field of RequestRedirect; Envoy Gateway implements it, and GKE documents
 * exactly this route for its HTTP-to-HTTPS redirect.
 */
export const HTTPS_REDIRECT = { scheme: "https", statusCode: 301 } as const;

/**
 * The static route of the plain-HTTP listener of a TLS Gateway: every request for `hostname` is
 * redirected to HTTPS, none is forwarded. Bound to the host name so that, on AKS, cert-manager's
 * HTTP-01 challenge route (an Exact path for the same host) wins by the Gateway API's precedence
 * rules and Let's Encrypt reaches the solver.
 */
export function httpsRedirectRouteManifest(args: {
    namespace: string;
    hostname: string;
    labels?: Readonly<Record<string, string>>;
}): HttpRouteManifest<RedirectRule> {
    return {
        apiVersion: GATEWAY_API_VERSION,
        kind: "HTTPRoute",
        metadata: { name: HTTPS_REDIRECT_ROUTE_NAME, namespace: args.namespace, labels: args.labels },
        spec: {
            parentRefs: [{ name: GATEWAY_NAME, sectionName: GATEWAY_LISTENER }],
            hostnames: [args.hostname],
            rules: [{ matches: [{ path: { type: "PathPrefix", value: "/" } }], filters: [{ type: "RequestRedirect", requestRedirect: { ...HTTPS_REDIRECT } }] }],
        },
    };
}

/** The Gateway's first address from its status, or undefined while it has none. */
export function gatewayAddress(status: { addresses?: readonly { value?: string }[] } | undefined): string | undefined {
    return status?.addresses?.find((a) => a.value)?.value;
}

/**
 * Where users reach APFA: `https://<hostname>` with TLS, else `http://<Gateway address>` (IPv6 in
 * brackets); undefined while the Gateway has no address (with TLS too: the DNS name must point at one).
 */
export function gatewayUrl(status: { addresses?: readonly { value?: string }[] } | undefined, tlsHostname?: string): string | undefined {
    const address = gatewayAddress(status);
    if (!address) {
        return undefined;
    }
    if (tlsHostname !== undefined) {
        return `https://${tlsHostname}`;
    }
    return address.includes(":") ? `http://[${address}]` : `http://${address}`;
}
