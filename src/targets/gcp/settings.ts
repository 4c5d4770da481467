/**
 * `apfa:gcp`: the GKE target's settings and the rules that tie them together and to other keys
 * (the `gcp:project` provider setting, `apfa:tags` as GCP labels). Imported by the config loader
 * without loading @pulumi/gcp.
 */
import { z } from "zod";

import { NAMESPACE, labelMap, plainHttpProblem, valid, type StackRule } from "../../config/common";
import { labelKeyCollisions } from "./labels";
import { GKE_GATEWAY_CLASSES, isGlobalGatewayClass, needsProxyOnlySubnet, overlappingRanges } from "./network";

/**
 * HTTPS on the GKE Gateway: a Google-managed certificate from Certificate Manager for `domainName`,
 * authorised by DNS (add the CNAME record of the `target.certificateDnsRecord` output to your zone),
 * attached to the Gateway through a certificate map; plain HTTP then redirects to HTTPS. Needs a
 * global Gateway class and the Certificate Manager API (certificatemanager.googleapis.com).
 */
export const gcpTlsSchema = z.strictObject({
    /** Host name users reach APFA at; point its A record at the `target.gatewayAddress` output. */
    domainName: z
        .string()
        .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "expected a lower-case DNS name such as apfa.example.com"),
});

export const gcpSettingsSchema = z.strictObject({
    /** GCP project id. Falls back to the `gcp:project` provider setting. */
    project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "expected a GCP project id").optional(),
    /** Region of the regional GKE cluster. @default "europe-west1" */
    region: z.string().regex(/^[a-z]+-[a-z]+\d$/, "expected a GCP region such as europe-west1").default("europe-west1"),
    /** GKE release channel. @default "REGULAR" */
    releaseChannel: z.enum(["RAPID", "REGULAR", "STABLE", "EXTENDED"]).default("REGULAR"),
    /**
     * GKE Autopilot instead of Standard with an APFA node pool. Not supported: the provider cannot
     * reliably give Autopilot nodes a dedicated least-privilege service account
     * (hashicorp/terraform-provider-google#23550, #9505), and node-pool bounds do not apply there.
     * @default false
     */
    autopilot: z
        .boolean()
        .default(false)
        .refine((autopilot) => !autopilot, {
            message:
                "Autopilot is not supported by this program (no dedicated least-privilege node service account, no APFA node pool); " +
                "remove the key to deploy GKE Standard with an autoscaling APFA node pool",
        }),
    /** Machine type of the APFA node pool. @default "e2-standard-4" */
    machineType: z.string().default("e2-standard-4"),
    /**
     * Node-pool autoscaling bounds, PER ZONE: a regional pool runs in the region's (by default three)
     * cluster zones, so the pool's total is this times the number of zones. @default 1
     */
    minNodesPerZone: z.number().int().min(0).max(1000).default(1),
    /** @default 4 */
    maxNodesPerZone: z.number().int().min(1).max(1000).default(4),
    /** Refuse `pulumi destroy` of the cluster until this is set false and applied. @default true */
    deletionProtection: z.boolean().default(true),
    /**
     * GKE Gateway class of the public Gateway. The regional classes (`gke-l7-regional-external-managed`,
     * `gke-l7-rilb`) get a proxy-only subnet; `gke-l7-rilb` is internal (reachable from the VPC only).
     * @default "gke-l7-global-external-managed"
     */
    gatewayClass: z.enum(GKE_GATEWAY_CLASSES).default("gke-l7-global-external-managed"),
    /** Primary range of the nodes' subnet. @default "10.60.0.0/20" */
    subnetCidr: z.cidrv4().default("10.60.0.0/20"),
    /** Secondary range of the subnet for Pod IPs (VPC-native; a /24 per node). @default "10.64.0.0/14" */
    podsCidr: z.cidrv4().default("10.64.0.0/14"),
    /** Secondary range of the subnet for Service cluster IPs. @default "10.68.0.0/20" */
    servicesCidr: z.cidrv4().default("10.68.0.0/20"),
    /**
     * A /28 for the control plane of a legacy VPC-peering private cluster. Unset (the default), GKE
     * connects the private nodes to the control plane through Private Service Connect and needs no
     * range; set it only to match an existing cluster created with one (it cannot change later).
     */
    masterCidr: z
        .cidrv4()
        .refine((cidr) => cidr.endsWith("/28"), "GKE needs a /28 for the control plane")
        .optional(),
    /** Proxy-only subnet, created only for the regional Gateway classes. @default "10.69.0.0/23" */
    proxyOnlyCidr: z.cidrv4().default("10.69.0.0/23"),
    /**
     * Source ranges allowed to reach the control plane's public endpoint (master authorized
     * networks). Unset: any address may connect, and every request still needs Google IAM.
     */
    masterAuthorizedCidrs: z.array(z.cidrv4()).min(1).optional(),
    /** Seconds a removed endpoint (scale-in, rollout) keeps serving its in-flight requests at the load balancer. @default 30 */
    connectionDrainingSeconds: z.number().int().min(0).max(3600).default(30),
    /** HTTPS with a Google-managed certificate (see {@link gcpTlsSchema}); unset serves plain HTTP only. */
    tls: gcpTlsSchema.optional(),
});

/** The validated settings, with the project resolved from `gcp:project` when unset here. */
export type GcpSettings = z.output<typeof gcpSettingsSchema> & { project: string };

/** Rules of a gcp stack over several keys, each part judged on its own. */
export const gcpStackRules: StackRule = ({ own, all }) => {
    const problems: string[] = [];
    const gcp = valid(gcpSettingsSchema, own.gcp ?? {});
    if (gcp) {
        if (gcp.minNodesPerZone > gcp.maxNodesPerZone) {
            problems.push(`${NAMESPACE}:gcp.minNodesPerZone: must be less than or equal to maxNodesPerZone`);
        }
        if (!gcp.project && typeof all["gcp:project"] !== "string") {
            problems.push(`${NAMESPACE}:gcp.project: required (or set the gcp:project provider setting)`);
        }
        const ranges: Record<string, string> = {
            subnetCidr: gcp.subnetCidr,
            podsCidr: gcp.podsCidr,
            servicesCidr: gcp.servicesCidr,
        };
        if (gcp.masterCidr !== undefined) {
            ranges.masterCidr = gcp.masterCidr;
        }
        if (needsProxyOnlySubnet(gcp.gatewayClass)) {
            ranges.proxyOnlyCidr = gcp.proxyOnlyCidr;
        }
        for (const overlap of overlappingRanges(ranges)) {
            problems.push(`${NAMESPACE}:gcp: ${overlap}; GKE needs disjoint ranges`);
        }
        if (gcp.tls !== undefined && !isGlobalGatewayClass(gcp.gatewayClass)) {
            problems.push(
                `${NAMESPACE}:gcp.tls: needs a global Gateway class (gke-l7-global-external-managed or gke-l7-gxlb); ` +
                    `${gcp.gatewayClass} cannot use a Certificate Manager certificate map`,
            );
        }
        const plainHttp = plainHttpProblem(own, gcp.tls !== undefined, "gcp.tls");
        if (plainHttp) {
            problems.push(plainHttp);
        }
    }
    const tags = valid(labelMap, own.tags ?? {});
    for (const keys of tags ? labelKeyCollisions(tags) : []) {
        problems.push(`${NAMESPACE}:tags: ${keys.join(", ")} become the same GCP label key; keep one`);
    }
    return problems;
};
