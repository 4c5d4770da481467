/**
 * The global entry of a multi-region GCP deployment: a GKE multi-cluster Gateway
 * (`gke-l7-global-external-managed-mc`, one global external Application Load Balancer with one
 * anycast address) in front of every region's cluster.
 *
 * Who owns what:
 * - every region's stack: its cluster's fleet Membership, a ServiceExport of each slot's Service
 *   (Multi-cluster Services then offers `apfa-blue` / `apfa-green` as ServiceImports spanning every
 *   region), and a region Service `apfa-region-<region>` with its export (this region's pods only),
 *   which the failover controller probes through the load balancer;
 * - the primary region's stack: the config cluster. It enables the fleet features
 *   (`multiclusterservicediscovery`, and `multiclusteringress` naming its own membership as the
 *   config membership), grants Multi-cluster Services' importer its role, and holds the Gateway and
 *   ONE weighted HTTPRoute whose backends are the slots' ServiceImports (KubernetesApfa with
 *   backendKind "ServiceImport"): a release step still changes exactly one resource. It also holds
 *   the static region-probe route and the health-check policies on every ServiceImport.
 *
 * When the config cluster's region is down, the load balancer keeps the configuration it has and
 * keeps failing over by health (no DNS, no control-plane call); what stops is changing it (releases,
 * new regions) until the region returns, or an operator moves the config membership to another
 * cluster (`gcloud container fleet ingress update --config-membership=…`, then the same change in
 * the stacks: README "Multi-region on Azure and GCP").
 *
 * Routing between regions, both topologies: Google's front ends send each request to the closest
 * region with healthy backends and capacity, and to the next one when a region's backends fail
 * their health checks. The multi-cluster Gateway has no region priority, so "active-passive" on
 * GCP is a warm standby at reduced capacity that also serves the users nearest to it (its writes go
 * to the primary database over the shared VPC); see the README for why weights set by the
 * controller were rejected (they would live on the config cluster, i.e. in the failed region).
 *
 * Checked (@pulumi/gcp 9.37): gkehub.Feature `spec.multiclusteringress.configMembership` takes the
 * membership's full name (`projects/…/locations/…/memberships/…`, the Membership's `id`); the
 * Membership's `endpoint.gkeCluster.resourceLink` is `//container.googleapis.com/<cluster id>`.
 */
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { GcpConfig, MultiRegionSettings, Slot } from "../../config";
import { SLOTS } from "../../config";
import { APFA_POD_SELECTOR } from "../../kubernetes/network-policy";
import { GATEWAY_HTTPS_LISTENER, GATEWAY_LISTENER, GATEWAY_NAME, serviceName } from "../../kubernetes/names";
import { GATEWAY_API_VERSION } from "../../kubernetes/routing";
import { GKE_POLICY_API_VERSION, HEALTH_CHECK_TIMING } from "./gke-policies";

export const GKE_FLEET_TYPE = "apfa:gcp:FleetEntry";
export { MULTI_CLUSTER_GATEWAY_CLASS, REGIONAL_INTERNAL_GATEWAY_CLASS } from "./multiregion";
export const MCS_API_VERSION = "net.gke.io/v1";
/** Multi-cluster Services' importer: its Workload Identity needs roles/compute.networkViewer on the project (GKE docs). */
export const MCS_IMPORTER_ROLE = "roles/compute.networkViewer";

/** The Service of one region's pods (both slots), exported for the controller's probes. */
export function regionServiceName(region: string): string {
    return `apfa-region-${region}`;
}

/** The path prefix under which the global entry answers one region's health (rewritten to `/`). */
export function regionProbePrefix(region: string): string {
    return `/.apfa/region/${region}/`;
}

/** The URL the controller probes for one region's health through the global entry. */
export function regionProbeUrl(globalUrl: string, region: string, healthPath: string): string {
    return `${globalUrl.replace(/\/+$/, "")}${regionProbePrefix(region)}${healthPath.replace(/^\/+/, "")}`;
}

/** The Workload Identity member of a Kubernetes service account. */
export function workloadIdentityMember(project: string, namespace: string, serviceAccount: string): string {
    return `serviceAccount:${project}.svc.id.goog[${namespace}/${serviceAccount}]`;
}

/** A ServiceExport of one Service (pure). */
export function serviceExport(name: string, namespace: string, labels: Record<string, string>) {
    return { apiVersion: MCS_API_VERSION, kind: "ServiceExport", metadata: { name, namespace, labels }, spec: {} };
}

/**
 * The static probe route on the multi-cluster Gateway: `/.apfa/region/<region>/…` → that region's
 * ServiceImport with the prefix rewritten to `/`, one rule per region (pure).
 */
export function regionProbeRoute(args: { namespace: string; regions: readonly string[]; appPort: number; tls: boolean; labels: Record<string, string> }) {
    return {
        apiVersion: GATEWAY_API_VERSION,
        kind: "HTTPRoute",
        metadata: { name: "apfa-region-probes", namespace: args.namespace, labels: args.labels },
        spec: {
            parentRefs: [{ name: GATEWAY_NAME, sectionName: args.tls ? GATEWAY_HTTPS_LISTENER : GATEWAY_LISTENER }],
            rules: args.regions.map((region) => ({
                matches: [{ path: { type: "PathPrefix", value: regionProbePrefix(region) } }],
                filters: [{ type: "URLRewrite", urlRewrite: { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/" } } }],
                backendRefs: [{ group: "net.gke.io", kind: "ServiceImport", name: regionServiceName(region), port: args.appPort }],
            })),
        },
    };
}

/** The load balancer's health check of a ServiceImport (the multi-cluster form of gke-policies.ts). */
export function serviceImportHealthCheck(args: { name: string; namespace: string; importName: string; port: number; requestPath: string; labels: Record<string, string> }) {
    return {
        apiVersion: GKE_POLICY_API_VERSION,
        kind: "HealthCheckPolicy",
        metadata: { name: args.name, namespace: args.namespace, labels: args.labels },
        spec: {
            default: {
                ...HEALTH_CHECK_TIMING,
                logConfig: { enabled: false },
                config: { type: "HTTP", httpHealthCheck: { portSpecification: "USE_FIXED_PORT", port: args.port, requestPath: args.requestPath } },
            },
            targetRef: { group: "net.gke.io", kind: "ServiceImport", name: args.importName },
        },
    };
}

/** Connection draining on a ServiceImport's backend service. */
export function serviceImportBackendPolicy(args: { name: string; namespace: string; importName: string; drainingTimeoutSec: number; labels: Record<string, string> }) {
    return {
        apiVersion: GKE_POLICY_API_VERSION,
        kind: "GCPBackendPolicy",
        metadata: { name: args.name, namespace: args.namespace, labels: args.labels },
        spec: {
            default: { connectionDraining: { drainingTimeoutSec: args.drainingTimeoutSec } },
            targetRef: { group: "net.gke.io", kind: "ServiceImport", name: args.importName },
        },
    };
}

export interface FleetEntryArgs {
    readonly config: GcpConfig;
    readonly multiRegion: MultiRegionSettings;
    readonly cluster: gcp.container.Cluster;
    readonly labels: Record<string, string>;
}

export class FleetEntry extends pulumi.ComponentResource {
    readonly membership: gcp.gkehub.Membership;
    /** The fleet features (config cluster only). */
    readonly features: gcp.gkehub.Feature[] = [];

    private readonly args: FleetEntryArgs;
    private readonly name: string;

    /**
     * The membership and (config cluster) the fleet features: before the workload, since the
     * multi-cluster GatewayClass exists in the config cluster only once `multiclusteringress` is on.
     * The exports follow with {@link exportRegion}, once APFA's namespace and Services exist.
     */
    constructor(name: string, args: FleetEntryArgs, opts?: pulumi.ComponentResourceOptions) {
        super(GKE_FLEET_TYPE, name, {}, opts);
        this.name = name;
        this.args = args;
        const { config, multiRegion } = args;
        const { project } = config.gcp;
        const parent = { parent: this };

        this.membership = new gcp.gkehub.Membership(
            `${name}-membership`,
            {
                project,
                membershipId: args.cluster.name,
                location: config.gcp.region,
                endpoint: { gkeCluster: { resourceLink: pulumi.interpolate`//container.googleapis.com/${args.cluster.id}` } },
                labels: { "apfa-region": multiRegion.region },
            },
            parent,
        );

        if (multiRegion.isPrimary) {
            const discovery = new gcp.gkehub.Feature(`${name}-mcs`, { project, name: "multiclusterservicediscovery", location: "global" }, parent);
            const ingress = new gcp.gkehub.Feature(
                `${name}-mci`,
                { project, name: "multiclusteringress", location: "global", spec: { multiclusteringress: { configMembership: this.membership.id } } },
                { ...parent, dependsOn: [discovery] },
            );
            this.features.push(discovery, ingress);
            new gcp.projects.IAMMember(
                `${name}-mcs-importer`,
                { project, role: MCS_IMPORTER_ROLE, member: workloadIdentityMember(project, "gke-mcs", "gke-mcs-importer") },
                { ...parent, dependsOn: [discovery] },
            );
        }

        this.registerOutputs({ membership: this.membership.id });
    }

    /** Exports this region's slots (the weighted route's ServiceImports) and its region Service. */
    exportRegion(args: { provider: k8s.Provider; namespace: pulumi.Input<string>; dependsOn: pulumi.Input<pulumi.Resource>[] }): void {
        const { config, multiRegion } = this.args;
        const name = this.name;
        const k8sOpts = { parent: this, provider: args.provider, dependsOn: args.dependsOn };
        const exportOpts = { ...k8sOpts, dependsOn: [...args.dependsOn, this.membership] };
        const labels = this.args.labels;
        for (const slot of SLOTS) {
            const manifest = serviceExport(serviceName(slot), "apfa", { ...labels, "apfa.io/slot": slot });
            new k8s.apiextensions.CustomResource(`${name}-${slot}-export`, { ...manifest, metadata: { ...manifest.metadata, namespace: args.namespace } }, exportOpts);
        }
        const regionService = regionServiceName(multiRegion.region);
        new k8s.core.v1.Service(
            `${name}-region-service`,
            {
                metadata: { name: regionService, namespace: args.namespace, labels: { ...labels, "apfa.io/region": multiRegion.region } },
                spec: { type: "ClusterIP", selector: { ...APFA_POD_SELECTOR.matchLabels }, ports: [{ name: "http", port: config.app.port, targetPort: config.app.port, protocol: "TCP" }] },
            },
            k8sOpts,
        );
        const regionExport = serviceExport(regionService, "apfa", { ...labels, "apfa.io/region": multiRegion.region });
        new k8s.apiextensions.CustomResource(`${name}-region-export`, { ...regionExport, metadata: { ...regionExport.metadata, namespace: args.namespace } }, exportOpts);
    }
}

/**
 * The config cluster's objects beside the weighted route: the probe route and the health-check and
 * backend policies of every ServiceImport (the slots' and each region's).
 */
export function createConfigClusterPolicies(
    name: string,
    args: { config: GcpConfig; multiRegion: MultiRegionSettings; namespace: pulumi.Input<string>; provider: k8s.Provider; dependsOn: pulumi.Input<pulumi.Resource>[]; labels: Record<string, string>; tls: boolean },
    parent: pulumi.Resource,
): k8s.apiextensions.CustomResource[] {
    const { config } = args;
    const opts = { parent, provider: args.provider, dependsOn: args.dependsOn };
    const objects: k8s.apiextensions.CustomResource[] = [];
    const place = (id: string, manifest: { metadata: Record<string, unknown> } & Record<string, unknown>) =>
        objects.push(new k8s.apiextensions.CustomResource(id, { ...manifest, metadata: { ...manifest.metadata, namespace: args.namespace } } as k8s.apiextensions.CustomResourceArgs, opts));
    const imports: { id: string; importName: string }[] = [
        ...SLOTS.map((slot: Slot) => ({ id: slot, importName: serviceName(slot) })),
        ...args.multiRegion.regions.map((region) => ({ id: `region-${region}`, importName: regionServiceName(region) })),
    ];
    for (const { id, importName } of imports) {
        place(
            `${name}-${id}-import-health-check`,
            serviceImportHealthCheck({ name: `${importName}-health`, namespace: "apfa", importName, port: config.app.port, requestPath: config.app.healthPath, labels: args.labels }),
        );
        place(
            `${name}-${id}-import-backend-policy`,
            serviceImportBackendPolicy({ name: `${importName}-backend`, namespace: "apfa", importName, drainingTimeoutSec: config.gcp.connectionDrainingSeconds, labels: args.labels }),
        );
    }
    place(`${name}-region-probes`, regionProbeRoute({ namespace: "apfa", regions: args.multiRegion.regions, appPort: config.app.port, tls: args.tls, labels: args.labels }));
    return objects;
}
