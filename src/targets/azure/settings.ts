/**
 * `apfa:azure`: the AKS target's settings and their cross-field rules. Imported by the config
 * loader without loading @pulumi/azure-native.
 */
import { z } from "zod";

import { NAMESPACE, valid, type StackRule } from "../../config/common";
import { azureNetworkProblems } from "./network";

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
    /** Cluster-autoscaler bounds of the APFA user pool (total nodes across zones). @default 3 */
    appPoolMinNodes: z.number().int().min(0).max(1000).default(3),
    /** @default 10 */
    appPoolMaxNodes: z.number().int().min(1).max(1000).default(10),
    /** Availability zones of both pools. @default ["1","2","3"] */
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
    /** Resource id of an Azure Container Registry the nodes pull APFA's image from (grants AcrPull to the kubelet identity). */
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

/** Rules of an azure stack that need the whole, individually valid `apfa:azure` value. */
export const azureStackRules: StackRule = ({ own }) => {
    const azure = valid(azureSettingsSchema, own.azure ?? {});
    if (azure && azure.appPoolMinNodes > azure.appPoolMaxNodes) {
        return [`${NAMESPACE}:azure.appPoolMinNodes: must be less than or equal to appPoolMaxNodes`];
    }
    return [];
};
