/**
 * `apfa:gcp`: the GKE target's settings and the rules that tie them together and to other keys
 * (the `gcp:project` provider setting, `apfa:tags` as GCP labels). Imported by the config loader
 * without loading @pulumi/gcp.
 */
import { z } from "zod";

import { cidrsOverlap } from "../../cidr";
import { NAMESPACE, isProduction, labelMap, plainHttpProblem, valid, type StackRule } from "../../config/common";
import { databaseEnabled, databaseSchema, engineVersionProblem } from "../../config/database";
import { multiRegionSchema } from "../../config/region";
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

/**
 * PostgreSQL majors Cloud SQL offers (`apfa:database.majorVersion`, sent as `POSTGRES_<major>`).
 * @pulumi/gcp 9.37 documents POSTGRES_9_6 to POSTGRES_18; the ones before 14 are past their
 * community end of life (Cloud SQL charges extended support for them), so a new stack cannot choose them.
 */
export const CLOUD_SQL_POSTGRES_MAJORS = [14, 15, 16, 17, 18] as const;

/** Cloud SQL editions: the tiers (machine types) each accepts differ. */
export const CLOUD_SQL_EDITIONS = ["ENTERPRISE", "ENTERPRISE_PLUS"] as const;
export type CloudSqlEdition = (typeof CLOUD_SQL_EDITIONS)[number];

/** Shared-core tiers (Enterprise only; no SLA, not for production). */
const SHARED_CORE_TIERS = ["db-f1-micro", "db-g1-small"];
/** Enterprise Plus's predefined N2 machine types (Cloud SQL docs, "Machine series overview"). */
const ENTERPRISE_PLUS_TIERS = [
    ...[2, 4, 8, 16, 32, 48, 64, 80, 96, 128].map((n) => `db-perf-optimized-N-${n}`),
    ...[4, 8, 16, 32, 48, 64, 80, 96].map((n) => `db-memory-optimized-N-${n}`),
];

/**
 * What is wrong with a Cloud SQL tier for an edition, or undefined when it is valid. Enterprise
 * runs shared-core and custom machine types (`db-custom-<vCPUs>-<MiB>`: 1 or an even number of vCPUs
 * up to 96; memory 0.9 to 6.5 GiB per vCPU, at least 3840 MiB, a multiple of 256 MiB — Cloud SQL
 * docs, "Instance settings: machine type"); Enterprise Plus only its predefined
 * `db-perf-optimized-N-*` / `db-memory-optimized-N-*` types. The API refuses a tier of the other
 * edition at create time ("Invalid Tier (…) for (ENTERPRISE_PLUS) Edition"); this says so first.
 */
export function cloudSqlTierProblem(tier: string, edition: CloudSqlEdition): string | undefined {
    if (edition === "ENTERPRISE_PLUS") {
        return ENTERPRISE_PLUS_TIERS.includes(tier)
            ? undefined
            : `${tier} is not an ENTERPRISE_PLUS machine type; expected db-perf-optimized-N-<2|4|8|16|32|48|64|80|96|128> or db-memory-optimized-N-<4|8|16|32|48|64|80|96> (or edition ENTERPRISE)`;
    }
    if (SHARED_CORE_TIERS.includes(tier)) {
        return undefined;
    }
    const custom = /^db-custom-(\d+)-(\d+)$/.exec(tier);
    if (!custom) {
        return `${tier} is not an ENTERPRISE machine type; expected db-custom-<vCPUs>-<memory MiB> such as db-custom-2-7680, or db-f1-micro / db-g1-small`;
    }
    const cpus = Number(custom[1]);
    const memoryMiB = Number(custom[2]);
    if (cpus < 1 || cpus > 96 || (cpus !== 1 && cpus % 2 !== 0)) {
        return `${tier}: a custom machine type has 1 or an even number of vCPUs up to 96 (got ${cpus})`;
    }
    if (memoryMiB % 256 !== 0) {
        return `${tier}: memory must be a multiple of 256 MiB (got ${memoryMiB})`;
    }
    const least = Math.max(3840, Math.ceil((cpus * 0.9 * 1024) / 256) * 256);
    const most = Math.floor((cpus * 6.5 * 1024) / 256) * 256;
    if (memoryMiB < least || memoryMiB > most) {
        return `${tier}: ${cpus} vCPU${cpus > 1 ? "s" : ""} take ${least} to ${most} MiB of memory (0.9-6.5 GiB per vCPU, at least 3840 MiB; got ${memoryMiB})`;
    }
    return undefined;
}

/** Days of transaction logs (the point-in-time recovery window) each edition keeps at most. */
export const CLOUD_SQL_MAX_LOG_RETENTION_DAYS: Readonly<Record<CloudSqlEdition, number>> = { ENTERPRISE: 7, ENTERPRISE_PLUS: 35 };

/**
 * `apfa:gcp.database`: size and placement of APFA's Cloud SQL for PostgreSQL instance. The keys
 * every target shares (name, user, major version, backup retention, deletion protection) are in
 * `apfa:database`.
 */
export const gcpDatabaseSchema = z.strictObject({
    /**
     * Cloud SQL edition. Always sent: for PostgreSQL 16+ the API would otherwise pick ENTERPRISE_PLUS,
     * which refuses custom tiers. @default "ENTERPRISE"
     */
    edition: z.enum(CLOUD_SQL_EDITIONS).default("ENTERPRISE"),
    /** Machine type; must suit the edition (see {@link cloudSqlTierProblem}). @default "db-custom-2-7680" (2 vCPUs, 7.5 GiB) */
    tier: z.string().default("db-custom-2-7680"),
    /** Initial SSD size in GiB; Cloud SQL grows it automatically (and never shrinks it). @default 20 */
    diskSizeGiB: z.number().int().min(10).max(65536).default(20),
    /**
     * Regional high availability: a standby in another zone of the region with synchronous disk
     * replication and automatic failover. Doubles compute and storage cost.
     * @default true when the stack is tagged `environment: production`, else false
     */
    highAvailability: z.boolean().optional(),
    /**
     * The range reserved for Google's service producers (private services access): Cloud SQL takes
     * its private address from it, over a VPC peering. Must not overlap the VPC's other ranges.
     * Google asks for /24 or larger. @default "10.70.0.0/20"
     */
    privateServicesCidr: z
        .cidrv4()
        .refine((cidr) => Number(cidr.split("/")[1]) <= 24, "the private services range needs /24 or larger")
        .default("10.70.0.0/20"),
});

export type GcpDatabaseSettings = z.output<typeof gcpDatabaseSchema>;

/** Whether the instance is REGIONAL (HA): the configured value, else whether the stack is production. */
export function gcpDatabaseHighAvailability(settings: Pick<GcpDatabaseSettings, "highAvailability">, production: boolean): boolean {
    return settings.highAvailability ?? production;
}

/**
 * Problems of `apfa:gcp.database` over several keys (the tier per edition, the address plan, the
 * backup window per edition, the major version), each naming the key. Each part is validated on
 * its own, so a bad key elsewhere does not hide these. Only called when the database is on.
 * @param ranges the VPC's other ranges by key name (subnetCidr, podsCidr, …), the valid ones
 */
function gcpDatabaseProblems(own: Readonly<Record<string, unknown>>, ranges: Readonly<Record<string, string>>): string[] {
    const problems: string[] = [];
    const key = `${NAMESPACE}:gcp.database`;
    const raw = (typeof own.gcp === "object" && own.gcp !== null ? own.gcp : {}) as Record<string, unknown>;
    const rawDb = (typeof raw.database === "object" && raw.database !== null ? raw.database : {}) as Record<string, unknown>;
    const fields = gcpDatabaseSchema.shape;
    const edition = valid(fields.edition, rawDb.edition);
    const tier = valid(fields.tier, rawDb.tier);
    const privateServicesCidr = valid(fields.privateServicesCidr, rawDb.privateServicesCidr);
    const highAvailability = gcpDatabaseHighAvailability({ highAvailability: valid(fields.highAvailability, rawDb.highAvailability) }, isProduction(own));
    if (tier !== undefined && edition !== undefined) {
        const problem = cloudSqlTierProblem(tier, edition);
        if (problem) {
            problems.push(`${key}.tier: ${problem}`);
        }
    }
    if (tier !== undefined && highAvailability && SHARED_CORE_TIERS.includes(tier)) {
        problems.push(`${key}.tier: ${tier} is shared-core, which Cloud SQL does not cover by its SLA; a highly available (production) instance needs a dedicated-core tier such as db-custom-2-7680`);
    }
    for (const [name, cidr] of Object.entries(privateServicesCidr === undefined ? {} : ranges)) {
        if (cidrsOverlap(privateServicesCidr as string, cidr)) {
            problems.push(`${key}.privateServicesCidr: ${privateServicesCidr} overlaps ${NAMESPACE}:gcp.${name} (${cidr})`);
        }
    }
    const shared = valid(databaseSchema, own.database ?? {});
    if (shared && edition) {
        const maxDays = CLOUD_SQL_MAX_LOG_RETENTION_DAYS[edition];
        if (shared.backupRetentionDays > maxDays) {
            problems.push(
                `${NAMESPACE}:database.backupRetentionDays: ${shared.backupRetentionDays} is beyond the ${maxDays} days of point-in-time recovery ` +
                    `Cloud SQL ${edition} keeps${edition === "ENTERPRISE" ? ` (${key}.edition ENTERPRISE_PLUS keeps up to 35)` : ""}`,
            );
        }
    }
    const version = engineVersionProblem(own, CLOUD_SQL_POSTGRES_MAJORS, "Cloud SQL for PostgreSQL");
    if (version) {
        problems.push(version);
    }
    return problems;
}

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
    /** APFA's Cloud SQL instance (see {@link gcpDatabaseSchema}); used while `apfa:database.enabled` is true. */
    database: gcpDatabaseSchema.prefault({}),
});

/** The validated settings, with the project resolved from `gcp:project` when unset here. */
export type GcpSettings = z.output<typeof gcpSettingsSchema> & { project: string };

/** The VPC's ranges GKE uses, by key name (the control-plane and proxy-only ranges only where they exist). */
function vpcRanges(gcp: Pick<z.output<typeof gcpSettingsSchema>, "subnetCidr" | "podsCidr" | "servicesCidr" | "masterCidr" | "proxyOnlyCidr" | "gatewayClass">): Record<string, string> {
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
    return ranges;
}

/** {@link vpcRanges} from raw `apfa:gcp` values, each range judged on its own (an invalid one is left out: its own issue reports it). */
function vpcRangesOf(own: Readonly<Record<string, unknown>>): Record<string, string> {
    const raw = (typeof own.gcp === "object" && own.gcp !== null ? own.gcp : {}) as Record<string, unknown>;
    const fields = gcpSettingsSchema.shape;
    const gatewayClass = valid(fields.gatewayClass, raw.gatewayClass);
    const ranges: Record<string, string> = {};
    for (const name of ["subnetCidr", "podsCidr", "servicesCidr", "masterCidr", "proxyOnlyCidr"] as const) {
        if (name === "proxyOnlyCidr" && (gatewayClass === undefined || !needsProxyOnlySubnet(gatewayClass))) {
            continue;
        }
        const cidr = valid(fields[name], raw[name]);
        if (cidr !== undefined) {
            ranges[name] = cidr;
        }
    }
    return ranges;
}

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
        const ranges = vpcRanges(gcp);
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
    if (databaseEnabled(own)) {
        problems.push(...gcpDatabaseProblems(own, vpcRangesOf(own)));
    }
    problems.push(...gcpMultiRegionProblems(own));
    const tags = valid(labelMap, own.tags ?? {});
    for (const keys of tags ? labelKeyCollisions(tags) : []) {
        problems.push(`${NAMESPACE}:tags: ${keys.join(", ")} become the same GCP label key; keep one`);
    }
    return problems;
};

/**
 * Problems of a multi-region gcp stack (`apfa:multiRegion`): the database needs Enterprise Plus
 * (advanced disaster recovery: the DR replica and the write endpoint that follows a failover); the
 * Gateway classes are chosen by the program (the primary's multi-cluster Gateway is the only public
 * entry; the others' are internal), so TLS belongs to the primary only.
 */
function gcpMultiRegionProblems(own: Readonly<Record<string, unknown>>): string[] {
    const multi = valid(multiRegionSchema, own.multiRegion);
    if (own.multiRegion === undefined || !multi) {
        return [];
    }
    const raw = (typeof own.gcp === "object" && own.gcp !== null ? own.gcp : {}) as Record<string, unknown>;
    const rawDb = (typeof raw.database === "object" && raw.database !== null ? raw.database : {}) as Record<string, unknown>;
    const region = valid(gcpSettingsSchema.shape.region, raw.region);
    const problems: string[] = [];
    const edition = valid(gcpDatabaseSchema.shape.edition, rawDb.edition);
    if (databaseEnabled(own) && edition !== undefined && edition !== "ENTERPRISE_PLUS") {
        problems.push(
            `${NAMESPACE}:gcp.database.edition: ${edition} in a multi-region stack; expected ENTERPRISE_PLUS (advanced disaster recovery: ` +
                "the designated DR replica and the DNS write endpoint that follows a failover)",
        );
    }
    // (The key arrives here with its default filled in, so only a changed value can be told apart.)
    const gatewayClass = valid(gcpSettingsSchema.shape.gatewayClass, raw.gatewayClass);
    if (gatewayClass !== undefined && gatewayClass !== "gke-l7-global-external-managed") {
        problems.push(
            `${NAMESPACE}:gcp.gatewayClass: ${gatewayClass} is not used in a multi-region stack: the program chooses the classes (the primary: ` +
                "gke-l7-global-external-managed-mc, the global entry; the other regions: gke-l7-rilb, internal); remove it",
        );
    }
    if (region !== undefined && region !== multi.regions[0] && raw.tls !== undefined) {
        problems.push(
            `${NAMESPACE}:gcp.tls: only the primary region's multi-cluster Gateway serves users in a multi-region deployment; ` +
                `remove it here (and set ${NAMESPACE}:allowPlainHttp to true: TLS ends at the global entry)`,
        );
    }
    return problems;
}
