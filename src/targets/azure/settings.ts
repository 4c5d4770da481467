/**
 * `apfa:azure`: the AKS target's settings and their cross-field rules. Imported by the config
 * loader without loading @pulumi/azure-native.
 */
import { z } from "zod";

import { NAMESPACE, acceptsPlaceholders, plainHttpProblem, valid, type StackRule } from "../../config/common";
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
    const problems: string[] = [];
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
