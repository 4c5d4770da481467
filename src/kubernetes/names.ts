/**
 * Names of the Kubernetes objects of APFA, as pure functions. They follow the chart's naming rule
 * (charts/apfa/templates/_helpers.tpl: a release named `<x>-<slot>` names every object of the slot
 * `<x>-<slot>`), so the route, Prometheus and operators know them without reading chart output.
 */
import type { Slot } from "../config";

/** Namespace of APFA, its route and the auxiliary services (one cluster per stack). */
export const APFA_NAMESPACE = "apfa";

/** Name of the public Gateway and of the one HTTPRoute that weights the slots. */
export const GATEWAY_NAME = "apfa";
export const ROUTE_NAME = "apfa";
/** The HTTPRoute that answers every plain-HTTP request with a redirect to HTTPS (TLS stacks only). */
export const HTTPS_REDIRECT_ROUTE_NAME = "apfa-https-redirect";
/** The Gateway's plain-HTTP listener and its port. */
export const GATEWAY_LISTENER = "http";
export const GATEWAY_PORT = 80;
/** The Gateway's HTTPS listener and its port (TLS stacks only). */
export const GATEWAY_HTTPS_LISTENER = "https";
export const GATEWAY_HTTPS_PORT = 443;
/** Secret holding the Gateway's certificate where the cluster stores it (AKS: written by cert-manager). */
export const TLS_SECRET_NAME = "apfa-tls";

/** Helm release of a slot (at most 53 characters: Helm's limit). */
export function releaseName(slot: Slot): string {
    return `apfa-${slot}`;
}

/** The slot's ClusterIP Service: the HTTPRoute's backend. Same name as its Deployment and HPA. */
export function serviceName(slot: Slot): string {
    return releaseName(slot);
}

/** The slot's headless Service: one A record per ready replica, for Prometheus DNS discovery. */
export function headlessServiceName(slot: Slot): string {
    return `${releaseName(slot)}-headless`;
}

/** Cluster-internal DNS name of a Service. */
export function serviceFqdn(service: string, namespace: string): string {
    return `${service}.${namespace}.svc.cluster.local`;
}

/** Label on pods allowed to scrape APFA's metrics port (the NetworkPolicy admits them). */
export const SCRAPER_LABEL = "apfa.io/scrapes-apfa";

/**
 * Label on the pods of an auxiliary service placed after `service`, which may therefore be its
 * client: `service`'s NetworkPolicy admits exactly the pods that carry it (see network-policy.ts).
 */
export function auxClientLabel(service: string): string {
    return `apfa.io/client-of-${service}`;
}
