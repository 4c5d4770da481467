/**
 * Blue/green routing with the Gateway API, as pure functions: one Gateway (its class comes from
 * the target) and ONE HTTPRoute whose two backendRefs carry the slots' weights, plus a rule that
 * keeps APFA's metrics path off the public Gateway. A weight change edits only the route; the
 * Gateway and both Helm releases stay as they are.
 */
import type { Slot } from "../config";
import { SLOTS } from "../config";
import type { TrafficWeights } from "../bluegreen";
import { GATEWAY_LISTENER, GATEWAY_NAME, GATEWAY_PORT, ROUTE_NAME, serviceName } from "./names";

export const GATEWAY_API_VERSION = "gateway.networking.k8s.io/v1";

/** Makes the provider wait until the controller programmed the Gateway (it has an address then). */
export const GATEWAY_WAIT_ANNOTATION = { "pulumi.com/waitFor": "condition=Programmed" } as const;

export interface ObjectMeta {
    readonly name: string;
    readonly namespace: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
}

/** The Gateway API objects as plain data (the subset this program sets). */
export interface GatewayManifest {
    readonly apiVersion: typeof GATEWAY_API_VERSION;
    readonly kind: "Gateway";
    readonly metadata: ObjectMeta;
    readonly spec: {
        readonly gatewayClassName: string;
        readonly listeners: readonly {
            readonly name: string;
            readonly protocol: "HTTP";
            readonly port: number;
            readonly allowedRoutes: { readonly namespaces: { readonly from: "Same" } };
        }[];
    };
}

export interface HttpRouteBackendRef {
    readonly group: "";
    readonly kind: "Service";
    readonly name: string;
    readonly port: number;
    readonly weight: number;
}

export interface HttpRoutePathMatch {
    readonly path: { readonly type: "PathPrefix"; readonly value: string };
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
        readonly requestRedirect: { readonly hostname: string; readonly statusCode: 301 | 302 };
    }[];
}

export interface HttpRouteManifest {
    readonly apiVersion: typeof GATEWAY_API_VERSION;
    readonly kind: "HTTPRoute";
    readonly metadata: ObjectMeta;
    readonly spec: {
        readonly parentRefs: readonly { readonly name: string; readonly sectionName: string }[];
        readonly rules: readonly [WeightedRule, RedirectRule];
    };
}

/**
 * Where the Gateway sends requests for APFA's metrics path instead of APFA: a `302 Found` whose
 * `Location` is `http://metrics-not-public.invalid<path>`. The `.invalid` top-level domain never
 * resolves (RFC 6761 §6.4), so a client that follows the redirect fails at DNS; APFA never sees
 * the request. Prometheus scrapes the pods directly, inside the cluster.
 *
 * Why a redirect: it is what the Gateway API standard channel guarantees on both Envoy Gateway and
 * GKE's Gateway controller. `RequestRedirect` is a Core filter ("ALL core filters MUST be supported
 * by all implementations"), and of its fields `hostname` and the status codes 301/302 are Core
 * (a `path` replacement, scheme or port is Extended). The alternatives are not guaranteed there:
 * a rule without backendRefs only became a conformance test (`HTTPRouteNoBackendRefs`, 500) in
 * Gateway API v1.6, newer than GKE implements, and the standard channel has no direct-response
 * filter. 302 rather than 301: nothing caches it, so the path could be opened up later.
 */
export const METRICS_REDIRECT = { hostname: "metrics-not-public.invalid", statusCode: 302 } as const;

/**
 * The match that keeps `metricsPath` off the public Gateway. PathPrefix, not Exact: prefix matching
 * works per path element, so it covers `/metrics`, `/metrics/` and `/metrics/<anything>` (an Exact
 * match would let `/metrics/` through, which many exporters also serve, e.g. an ASGI metrics app
 * mounted at `/metrics`) and never `/metricsfoo`. Its longer prefix takes precedence over the
 * weighted rule's "/" whatever the rule order.
 * @throws Error when the path would hide all of APFA ("/") or is not a valid Gateway API path
 */
export function metricsPathMatch(metricsPath: string): HttpRoutePathMatch {
    const value = metricsPath.length > 1 ? metricsPath.replace(/\/+$/, "") : metricsPath;
    if (value === "/" || value === "") {
        throw new Error(`the metrics path ${JSON.stringify(metricsPath)} would hide every path of APFA behind the Gateway`);
    }
    // The Gateway API's own rules for Exact/PathPrefix values (CEL validation of HTTPPathMatch).
    if (!value.startsWith("/") || value.includes("//") || /\/\.\.?(\/|$)/.test(value)) {
        throw new Error(`the metrics path ${JSON.stringify(metricsPath)} is not a valid HTTPRoute path (no "//", "/./" or "/../")`);
    }
    return { path: { type: "PathPrefix", value } };
}

/** The public Gateway: one plain-HTTP listener on port 80 taking routes from its own namespace only. */
export function gatewayManifest(args: {
    namespace: string;
    gatewayClassName: string;
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
        spec: {
            gatewayClassName: args.gatewayClassName,
            listeners: [{ name: GATEWAY_LISTENER, protocol: "HTTP", port: GATEWAY_PORT, allowedRoutes: { namespaces: { from: "Same" } } }],
        },
    };
}

/**
 * The weighted backends, blue first. A weight of 0 is a valid backendRef (it receives no requests)
 * and keeps the route's shape identical at every step of a release.
 * @throws RangeError unless the weights are integers 0-100 adding up to 100.
 */
export function weightedBackends(weights: TrafficWeights, port: number): HttpRouteBackendRef[] {
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
    return SLOTS.map((slot: Slot) => ({ group: "", kind: "Service", name: serviceName(slot), port, weight: weights[slot] }));
}

/**
 * The one HTTPRoute: every path of the Gateway's listener split between the slots' Services, except
 * APFA's metrics path, which the Gateway answers itself ({@link METRICS_REDIRECT}). Both rules live
 * in this one route, so a weight change still edits only it.
 */
export function httpRouteManifest(args: {
    namespace: string;
    weights: TrafficWeights;
    port: number;
    /** APFA's metrics path (config `app.metricsPath`), kept off the public Gateway. */
    metricsPath: string;
    labels?: Readonly<Record<string, string>>;
}): HttpRouteManifest {
    return {
        apiVersion: GATEWAY_API_VERSION,
        kind: "HTTPRoute",
        metadata: { name: ROUTE_NAME, namespace: args.namespace, labels: args.labels },
        spec: {
            parentRefs: [{ name: GATEWAY_NAME, sectionName: GATEWAY_LISTENER }],
            rules: [
                { matches: [{ path: { type: "PathPrefix", value: "/" } }], backendRefs: weightedBackends(args.weights, args.port) },
                { matches: [metricsPathMatch(args.metricsPath)], filters: [{ type: "RequestRedirect", requestRedirect: { ...METRICS_REDIRECT } }] },
            ],
        },
    };
}

/** `http://<address>` from a Gateway's status, IPv6 in brackets; undefined while it has none. */
export function gatewayUrl(status: { addresses?: readonly { value?: string }[] } | undefined): string | undefined {
    const address = status?.addresses?.find((a) => a.value)?.value;
    if (!address) {
        return undefined;
    }
    return address.includes(":") ? `http://[${address}]` : `http://${address}`;
}
