/**
 * `apfa:azure`: the AKS target's settings and their cross-field rules. Imported by the config
 * loader without loading @pulumi/azure-native.
 */
import { z } from "zod";

import { cidrContains, cidrsOverlap, tryParseCidr } from "../../cidr";
import { NAMESPACE, acceptsPlaceholders, isProduction, plainHttpProblem, valid, type StackRule } from "../../config/common";
import { databaseEnabled, databaseSchema, engineVersionProblem } from "../../config/database";
import { multiRegionSchema } from "../../config/region";
import { releaseSchema } from "../../config/release";
import { azureNetworkProblems } from "./network";

/** Let's Encrypt's production ACME directory: the default issuer of the AKS Gateway's certificate. */
export const LETS_ENCRYPT_PRODUCTION = "https://acme-v02.api.letsencrypt.org/directory";
/** Let's Encrypt's staging directory (untrusted certificates, generous rate limits): for trying a stack out. */
export const LETS_ENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory";

/** A lower-case DNS host name such as apfa.example.com (no wildcard: HTTP-01 cannot validate one). */
const hostName = z
    .string()
    .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "expected a lower-case DNS name such as apfa.example.com");

/**
 * HTTPS on the AKS Gateway: cert-manager obtains and renews a certificate for `domainName` from an
 * ACME CA (Let's Encrypt by default) with the HTTP-01 challenge, answered through the Gateway's own
 * port 80; plain HTTP then redirects to HTTPS. Point `domainName` at the Gateway's address (the
 * `target.gatewayAddress` output) so the challenge can succeed.
 */
export const azureTlsSchema = z.strictObject({
    /** Host name users reach APFA at; the certificate is issued for it. */
    domainName: hostName,
    /** Contact address registered with the ACME account (expiry notices, policy changes); optional. */
    acmeEmail: z.email().optional(),
    /** ACME directory URL. @default "https://acme-v02.api.letsencrypt.org/directory" (Let's Encrypt production) */
    acmeServer: z.url({ protocol: /^https$/ }).default(LETS_ENCRYPT_PRODUCTION),
});

/**
 * PostgreSQL majors Azure Database for PostgreSQL Flexible Server runs under standard support
 * (`apfa:database.majorVersion`). The provider's `PostgresMajorVersion` enum (API 2025-08-01)
 * also lists 12 and 13: both are past their community end of life and only run on Azure's paid
 * extended support, so a new stack cannot choose them.
 */
export const AZURE_POSTGRES_MAJORS = [14, 15, 16, 17, 18] as const;

/** Compute tier of a Flexible Server SKU (the API's `sku.tier`), read from its name. */
export type FlexibleServerTier = "Burstable" | "GeneralPurpose" | "MemoryOptimized";

const sizes = (family: string, vCores: readonly number[]) => vCores.map((n) => family.replace("#", String(n)));
/**
 * Compute sizes a Flexible Server accepts (Microsoft Learn, "Compute options in Azure Database for
 * PostgreSQL flexible server"): Burstable B-series; General Purpose Ddsv5, Dadsv5 and Ddsv4;
 * Memory Optimized Edsv5, Eadsv5 and Edsv4. The older Dsv3/Esv3 generations are left out on
 * purpose (same price, slower local SSD). A size the region lacks still fails at create time.
 */
export const FLEXIBLE_SERVER_SKUS: Readonly<Record<FlexibleServerTier, readonly string[]>> = {
    Burstable: ["Standard_B1ms", "Standard_B2s", ...sizes("Standard_B#ms", [2, 4, 8, 12, 16, 20])],
    GeneralPurpose: [
        ...sizes("Standard_D#ds_v5", [2, 4, 8, 16, 32, 48, 64, 96]),
        ...sizes("Standard_D#ads_v5", [2, 4, 8, 16, 32, 48, 64, 96]),
        ...sizes("Standard_D#ds_v4", [2, 4, 8, 16, 32, 48, 64]),
    ],
    MemoryOptimized: [
        ...sizes("Standard_E#ds_v5", [2, 4, 8, 16, 20, 32, 48, 64, 96]),
        ...sizes("Standard_E#ads_v5", [2, 4, 8, 16, 20, 32, 48, 64, 96]),
        ...sizes("Standard_E#ds_v4", [2, 4, 8, 16, 20, 32, 48, 64]),
    ],
};

/** The tier of a known SKU, or undefined. */
export function flexibleServerTier(skuName: string): FlexibleServerTier | undefined {
    return (Object.keys(FLEXIBLE_SERVER_SKUS) as FlexibleServerTier[]).find((tier) => FLEXIBLE_SERVER_SKUS[tier].includes(skuName));
}

/**
 * Provisioned sizes of Premium SSD (Premium_LRS) storage in GiB; each is a disk size with its own
 * baseline IOPS (32 GiB: P4, 120 IOPS; 128 GiB: P10, 500 IOPS; 1 TiB: P30, 5000 IOPS).
 */
export const FLEXIBLE_SERVER_STORAGE_GIB = [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767] as const;

/**
 * `apfa:azure.database`: size and placement of APFA's Flexible Server. The keys every target shares
 * (name, user, major version, backup retention, deletion protection) are in `apfa:database`.
 */
export const azureDatabaseSchema = z.strictObject({
    /**
     * Compute size; the tier (Burstable, GeneralPurpose, MemoryOptimized) follows from it.
     * Burstable sizes cannot run zone-redundant HA. @default "Standard_D2ds_v5" (2 vCores, 8 GiB)
     */
    skuName: z
        .string()
        .refine((sku) => flexibleServerTier(sku) !== undefined, {
            message:
                "expected a Flexible Server compute size: Standard_B1ms, Standard_B2s, Standard_B<n>ms (Burstable), " +
                "Standard_D<n>ds_v5, Standard_D<n>ads_v5, Standard_D<n>ds_v4 (General Purpose), " +
                "Standard_E<n>ds_v5, Standard_E<n>ads_v5, Standard_E<n>ds_v4 (Memory Optimized), e.g. Standard_D2ds_v5",
        })
        .default("Standard_D2ds_v5"),
    /**
     * Provisioned storage in GiB (a Premium SSD size; it can grow, never shrink). With
     * `storageAutoGrow` Azure grows it before it fills, and this value only applies at creation.
     * @default 128 (P10, 500 IOPS)
     */
    storageSizeGiB: z
        .number()
        .int()
        .refine((size) => (FLEXIBLE_SERVER_STORAGE_GIB as readonly number[]).includes(size), {
            message: `expected a Premium SSD size in GiB: one of ${FLEXIBLE_SERVER_STORAGE_GIB.join(", ")}`,
        })
        .default(128),
    /** Let Azure grow the storage before it fills (a full server turns read-only). @default true */
    storageAutoGrow: z.boolean().default(true),
    /**
     * Zone-redundant high availability: a synchronous standby in a second availability zone (the
     * second of `apfa:azure.availabilityZones`) with automatic failover. Doubles compute and storage cost.
     * @default true when the stack is tagged `environment: production`, else false
     */
    highAvailability: z.boolean().optional(),
    /**
     * Geo-redundant backups (copied to the paired region, for a geo-restore). Azure reads it only
     * when the server is created: changing it later is refused, the way to change it is a restore
     * into a new server. @default false
     */
    geoRedundantBackup: z.boolean().default(false),
    /**
     * The subnet delegated to `Microsoft.DBforPostgreSQL/flexibleServers` inside `vnetCidr`: the
     * server (and its HA standby) take their private addresses here, and nothing else may use it.
     * @default "10.60.16.0/27"
     */
    subnetCidr: z.cidrv4().default("10.60.16.0/27"),
});

export type AzureDatabaseSettings = z.output<typeof azureDatabaseSchema>;

/** Whether the stack runs zone-redundant HA: the configured value, else whether it is production. */
export function azureDatabaseHighAvailability(settings: Pick<AzureDatabaseSettings, "highAvailability">, production: boolean): boolean {
    return settings.highAvailability ?? production;
}

/**
 * Problems of `apfa:azure.database` that involve other keys (the address plan, the zones,
 * production, `apfa:database`), each naming the key to change. Every part is validated on its
 * own, so a bad key elsewhere in `apfa:azure` does not hide these. Only called when the database is on.
 */
export function azureDatabaseProblems(own: Readonly<Record<string, unknown>>): string[] {
    const problems: string[] = [];
    const key = `${NAMESPACE}:azure.database`;
    const raw = (typeof own.azure === "object" && own.azure !== null ? own.azure : {}) as Record<string, unknown>;
    const rawDb = (typeof raw.database === "object" && raw.database !== null ? raw.database : {}) as Record<string, unknown>;
    const fields = azureSettingsSchema.shape;
    const dbFields = azureDatabaseSchema.shape;
    const vnetCidr = valid(fields.vnetCidr, raw.vnetCidr);
    const nodeSubnetCidr = valid(fields.nodeSubnetCidr, raw.nodeSubnetCidr);
    const zones = valid(fields.availabilityZones, raw.availabilityZones);
    const subnetCidr = valid(dbFields.subnetCidr, rawDb.subnetCidr);
    const skuName = valid(dbFields.skuName, rawDb.skuName);
    const configuredHa = valid(dbFields.highAvailability, rawDb.highAvailability);
    const subnet = subnetCidr ? tryParseCidr(subnetCidr) : undefined;
    if (subnetCidr && subnet) {
        if (vnetCidr && !cidrContains(vnetCidr, subnetCidr)) {
            problems.push(`${key}.subnetCidr: ${subnetCidr} must lie inside ${NAMESPACE}:azure.vnetCidr ${vnetCidr}`);
        }
        if (nodeSubnetCidr && cidrsOverlap(subnetCidr, nodeSubnetCidr)) {
            problems.push(`${key}.subnetCidr: ${subnetCidr} overlaps ${NAMESPACE}:azure.nodeSubnetCidr ${nodeSubnetCidr}; the delegated subnet holds the database only`);
        }
        // Microsoft's minimum for a delegated Flexible Server subnet (Azure keeps 5 addresses of each subnet).
        if (subnet.prefix > 28) {
            problems.push(`${key}.subnetCidr: ${subnetCidr} is too small for a Flexible Server subnet (use /28 or larger)`);
        }
    }
    const highAvailability = azureDatabaseHighAvailability({ highAvailability: configuredHa }, isProduction(own));
    if (skuName && highAvailability && flexibleServerTier(skuName) === "Burstable") {
        problems.push(
            `${key}.skuName: ${skuName} is Burstable, which cannot run zone-redundant high availability ` +
                `(on by default for a production stack); choose a General Purpose size such as Standard_D2ds_v5, or set ${key}.highAvailability to false`,
        );
    }
    if (highAvailability && zones && new Set(zones).size < 2) {
        problems.push(
            `${key}.highAvailability: zone-redundant HA puts the standby in another zone, but ${NAMESPACE}:azure.availabilityZones ` +
                `lists only ${zones.join(", ")}; list two zones or set ${key}.highAvailability to false`,
        );
    }
    const shared = valid(databaseSchema, own.database ?? {});
    if (shared && shared.backupRetentionDays < 7) {
        problems.push(`${NAMESPACE}:database.backupRetentionDays: ${shared.backupRetentionDays} is below Flexible Server's minimum of 7 days (it keeps 7 to 35)`);
    }
    const version = engineVersionProblem(own, AZURE_POSTGRES_MAJORS, "Azure Database for PostgreSQL Flexible Server");
    if (version) {
        problems.push(version);
    }
    return problems;
}

export const azureSettingsSchema = z.strictObject({
    /** Azure region. @default "westeurope" */
    location: z.string().regex(/^[a-z0-9]+$/, "expected an Azure region name such as westeurope").default("westeurope"),
    /**
     * AKS Kubernetes version as major.minor (e.g. "1.33"); unset lets AKS pick its default. No
     * patch: the cluster's `patch` upgrade channel moves the patch itself, and a pinned patch would
     * make the next `pulumi up` ask AKS for a downgrade.
     */
    kubernetesVersion: z
        .string()
        .regex(
            /^\d+\.\d+$/,
            'expected major.minor such as "1.33" (no patch: the patch upgrade channel keeps the cluster on the latest patch of that minor)',
        )
        .optional(),
    /** VM size of the system pool; applied at cluster creation (later: `az aks nodepool`). @default "Standard_D2ds_v5" */
    systemVmSize: z.string().default("Standard_D2ds_v5"),
    /** VM size of the APFA user pool. @default "Standard_D4ds_v5" */
    appVmSize: z.string().default("Standard_D4ds_v5"),
    /**
     * Cluster-autoscaler bounds of APFA's nodes, in total across zones. The program runs one pool per
     * zone and splits the bounds over them (the first zones take the remainder): 3/10 over three
     * zones gives 1/4, 1/3, 1/3. @default 3
     */
    appPoolMinNodes: z.number().int().min(0).max(1000).default(3),
    /** @default 10 */
    appPoolMaxNodes: z.number().int().min(1).max(1000).default(10),
    /** Availability zones of the system pool and of APFA's per-zone pools. @default ["1","2","3"] */
    availabilityZones: z.array(z.enum(["1", "2", "3"])).min(1).default(["1", "2", "3"]),
    /** AKS API server SKU tier (Standard has the uptime SLA). @default "Standard" */
    skuTier: z.enum(["Free", "Standard", "Premium"]).default("Standard"),
    /** Fixed node count of the system pool (critical add-ons only), spread over the zones; applied at cluster creation (later: `az aks nodepool scale`). @default 3 */
    systemPoolNodes: z.number().int().min(1).max(100).default(3),
    /** VNet address range. @default "10.60.0.0/16" */
    vnetCidr: z.cidrv4().default("10.60.0.0/16"),
    /** Node subnet inside the VNet (Azure CNI Overlay: nodes only, pods use podCidr). @default "10.60.0.0/20" */
    nodeSubnetCidr: z.cidrv4().default("10.60.0.0/20"),
    /** Overlay range of pod addresses; never routed in the VNet. @default "10.244.0.0/16" */
    podCidr: z.cidrv4().default("10.244.0.0/16"),
    /** Range of Service cluster IPs; the DNS Service takes its 10th address. @default "10.0.0.0/16" */
    serviceCidr: z.cidrv4().default("10.0.0.0/16"),
    /** Source ranges allowed to reach the Kubernetes API server; empty allows any (certificate auth still applies). @default [] */
    apiServerAuthorizedIpRanges: z.array(z.cidrv4()).default([]),
    /**
     * Entra ID groups whose members administer the cluster (Kubernetes `cluster-admin` through AKS's
     * managed Entra integration). Without any, the identity running `pulumi up` gets the "Azure
     * Kubernetes Service RBAC Cluster Admin" role on the cluster instead. @default []
     */
    clusterAdminGroupObjectIds: z.array(z.guid("expected an Entra ID group object id (a GUID)")).default([]),
    /** HTTPS with a certificate from cert-manager (see {@link azureTlsSchema}); unset serves plain HTTP only. */
    tls: azureTlsSchema.optional(),
    /**
     * Resource id of an Azure Container Registry the nodes pull APFA's image from (grants AcrPull to
     * the kubelet identity). Required when a slot's image is on `*.azurecr.io`.
     */
    acrResourceId: z
        .string()
        .regex(
            /^\/subscriptions\/[0-9a-fA-F-]{36}\/resourceGroups\/[^/]+\/providers\/Microsoft\.ContainerRegistry\/registries\/[A-Za-z0-9]+$/,
            "expected /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.ContainerRegistry/registries/<name>",
        )
        .optional(),
    /** APFA's Flexible Server (see {@link azureDatabaseSchema}); used while `apfa:database.enabled` is true. */
    database: azureDatabaseSchema.prefault({}),
    /**
     * Multi-region (`apfa:multiRegion`): the `vnetCidr` of every OTHER region of the deployment. The
     * regions' VNets are peered (the writer database may be in any of them), so no two may overlap;
     * APFA's pods may reach PostgreSQL in these ranges. Unused in a single-region stack. @default []
     */
    peerVnetCidrs: z.array(z.cidrv4()).default([]),
}).superRefine((azure, ctx) => {
    for (const message of azureNetworkProblems(azure)) {
        ctx.addIssue({ code: "custom", message });
    }
    if (new Set(azure.availabilityZones).size !== azure.availabilityZones.length) {
        ctx.addIssue({ code: "custom", path: ["availabilityZones"], message: "zones must not repeat" });
    }
});

export type AzureSettings = z.output<typeof azureSettingsSchema>;
export type AzureTlsSettings = z.output<typeof azureTlsSchema>;

/** The registry name of an image on Azure Container Registry (`<name>.azurecr.io/...`), or undefined. */
export function acrRegistryOf(image: string): string | undefined {
    return /^([a-z0-9]+)\.azurecr\.io\//i.exec(image)?.[1]?.toLowerCase();
}

/** Rules of an azure stack that need the whole, individually valid `apfa:azure` value. */
export const azureStackRules: StackRule = ({ own }) => {
    const problems: string[] = databaseEnabled(own) ? azureDatabaseProblems(own) : [];
    const azure = valid(azureSettingsSchema, own.azure ?? {});
    if (!azure) {
        return problems;
    }
    if (azure.appPoolMinNodes > azure.appPoolMaxNodes) {
        problems.push(`${NAMESPACE}:azure.appPoolMinNodes: must be less than or equal to appPoolMaxNodes`);
    }
    if (azure.appPoolMaxNodes < azure.availabilityZones.length) {
        problems.push(
            `${NAMESPACE}:azure.appPoolMaxNodes: ${azure.appPoolMaxNodes} is fewer than the ${azure.availabilityZones.length} availability zones; ` +
                "APFA runs one node pool per zone and each needs room for a node",
        );
    }
    const plainHttp = plainHttpProblem(own, azure.tls !== undefined, "azure.tls");
    if (plainHttp) {
        problems.push(plainHttp);
    }
    problems.push(...azureMultiRegionProblems(own, azure));
    // The nodes get pull rights only through acrResourceId; without it every pod of a slot whose
    // image is on ACR would sit in ImagePullBackOff until the release's atomic timeout. The sample
    // stack's registry is a placeholder too, so `acceptPlaceholders` (offline synth, tests) skips this.
    const release = valid(releaseSchema, own.release ?? {});
    if (release && azure.acrResourceId === undefined && !acceptsPlaceholders(own)) {
        const onAcr = (["blue", "green"] as const).filter((slot) => {
            const image = release[slot].image;
            return image !== undefined && acrRegistryOf(image) !== undefined;
        });
        if (onAcr.length > 0) {
            const images = [...new Set(onAcr.map((slot) => release[slot].image as string))];
            const registries = [...new Set(images.map((image) => acrRegistryOf(image) as string))];
            problems.push(
                `${NAMESPACE}:azure.acrResourceId: required because ${onAcr.map((slot) => `${NAMESPACE}:release.${slot}.image`).join(" and ")} ` +
                    `(${images.join(", ")}) ${onAcr.length > 1 ? "are" : "is"} on Azure Container Registry ${registries.join(", ")}; ` +
                    "set the registry's resource id so the AKS nodes get AcrPull on it (without it their pods stay in ImagePullBackOff)",
            );
        }
    }
    return problems;
};

/**
 * Problems of a multi-region azure stack (`apfa:multiRegion`): Front Door reaches each region over
 * HTTPS by its regional certificate's name, so `apfa:azure.tls` is required; the peered VNets must
 * not overlap and every other region's range must be listed.
 */
function azureMultiRegionProblems(own: Readonly<Record<string, unknown>>, azure: z.output<typeof azureSettingsSchema>): string[] {
    const multi = valid(multiRegionSchema, own.multiRegion);
    if (own.multiRegion === undefined) {
        return azure.peerVnetCidrs.length > 0 ? [`${NAMESPACE}:azure.peerVnetCidrs: only used with ${NAMESPACE}:multiRegion; remove it`] : [];
    }
    if (!multi) {
        return [];
    }
    const problems: string[] = [];
    if (azure.tls === undefined) {
        problems.push(
            `${NAMESPACE}:azure.tls: required in a multi-region stack: Front Door reaches this region over HTTPS by the regional certificate's name ` +
                `(e.g. ${azure.location}.apfa.example.com, pointed at this region's Gateway address)`,
        );
    }
    const others = multi.regions.length - 1;
    if (azure.peerVnetCidrs.length !== others) {
        problems.push(
            `${NAMESPACE}:azure.peerVnetCidrs: lists ${azure.peerVnetCidrs.length} range(s), expected the vnetCidr of each of the ${others} other region(s) ` +
                `of ${multi.regions.join(", ")} (the VNets are peered)`,
        );
    }
    for (const cidr of [azure.vnetCidr, ...azure.peerVnetCidrs].filter((c, i, all) => all.some((other, j) => j !== i && cidrsOverlap(c, other)))) {
        if (cidr !== azure.vnetCidr) {
            problems.push(`${NAMESPACE}:azure.peerVnetCidrs: ${cidr} overlaps another region's range; peered VNets need disjoint ranges`);
        }
    }
    return problems;
}
