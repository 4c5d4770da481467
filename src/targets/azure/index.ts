/**
 * The Azure target: AKS with the shared Kubernetes layer.
 *
 * Plan of the constructor:
 * 1. resource group; VNet with one node subnet (Azure CNI Overlay: pods get overlay addresses, so
 *    the subnet only holds nodes);
 * 2. a user-assigned control-plane identity with Network Contributor on the node subnet (AKS needs
 *    it to join nodes and load balancers to a subnet it does not own), granted before the cluster;
 * 3. the ManagedCluster: Standard tier, OIDC issuer + workload identity, Cilium dataplane (which
 *    enforces NetworkPolicy), a system pool for critical add-ons only; then the APFA user pool as
 *    a separate AgentPool with the cluster autoscaler, across zones;
 * 4. the kubeconfig from the cluster's user credentials (secret) feeding a `k8s.Provider`;
 * 5. Envoy Gateway (the Gateway API implementation, see envoy-gateway.ts) and the Kubernetes layer.
 *
 * azure-native is imported by submodule: its root import costs tens of seconds.
 */
import * as authorization from "@pulumi/azure-native/authorization";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as network from "@pulumi/azure-native/network";
import * as resources from "@pulumi/azure-native/resources";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { ApfaClusterBase, CLUSTER_TYPES, type AuxService, type AuxServiceSpec } from "../../contract";
import type { AzureConfig } from "../../config";
import { KubernetesApfa } from "../../kubernetes";
import { publicControlPlaneWarning } from "../../kubernetes/warnings";
import { trafficWeights } from "../../bluegreen";
import type { AzureTargetOutputs } from "./outputs";
import { installEnvoyGateway } from "./envoy-gateway";
import { dnsServiceIp } from "./network";

export interface AksClusterArgs {
    /** Validated config of an `azure` stack. */
    readonly config: AzureConfig;
}

/** Built-in Azure role definitions (ids are the same in every tenant). */
export const AZURE_ROLES = {
    networkContributor: "4d97b98b-1d4f-4787-a291-c67834d212e7",
    acrPull: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
} as const;

/** Node pool names: Linux pools take at most 12 lower-case letters and digits. */
export const SYSTEM_POOL = "system";
export const APP_POOL = "apfa";
/** Node label of the APFA user pool; the chart's nodeSelector pins APFA to it. */
export const APP_POOL_LABEL = { "apfa.io/pool": "app" } as const;

/** Azure tags: the stack's tags plus its identity. Characters Azure forbids in names become "_". */
export function azureTags(config: Pick<AzureConfig, "tags" | "project" | "stack">): Record<string, string> {
    const tags: Record<string, string> = {};
    for (const [key, value] of Object.entries(config.tags)) {
        tags[key.replace(/[<>%&\\?/]/g, "_")] = value;
    }
    return { ...tags, "apfa-project": config.project, "apfa-stack": config.stack, "managed-by": "pulumi" };
}

/** Physical names, from the stack prefix (AKS allows 63 characters; DNS prefixes 54). */
export function aksNames(prefix: string) {
    const base = prefix.toLowerCase().replace(/[^a-z0-9-]/g, "-").replace(/^-+|-+$/g, "");
    return {
        resourceGroup: `${base}-rg`.slice(0, 90),
        vnet: `${base}-vnet`.slice(0, 64),
        subnet: "nodes",
        identity: `${base}-aks-identity`.slice(0, 128),
        cluster: `${base}-aks`.slice(0, 63),
        dnsPrefix: base.slice(0, 54).replace(/-+$/, ""),
        nodeResourceGroup: `${base}-aks-nodes`.slice(0, 80),
    };
}

/** `/subscriptions/<id>/providers/Microsoft.Authorization/roleDefinitions/<role>`. */
export function roleDefinitionId(subscriptionId: string, role: string): string {
    return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${role}`;
}

/** The kubeconfig text from a `listManagedClusterUserCredentials` result (base64 in the API). */
export function decodeKubeconfig(result: { kubeconfigs?: readonly { value?: string }[] }): string {
    const encoded = result.kubeconfigs?.[0]?.value;
    if (!encoded) {
        throw new Error("AKS returned no user kubeconfig");
    }
    return Buffer.from(encoded, "base64").toString("utf8");
}

/** What an azure stack leaves reachable that its operator should know about: an API server open to any address. */
export function aksExposureWarnings(settings: Pick<AzureConfig["azure"], "apiServerAuthorizedIpRanges">): string[] {
    if (settings.apiServerAuthorizedIpRanges.length > 0) {
        return [];
    }
    return [
        publicControlPlaneWarning({
            platform: "AKS",
            configKey: "apfa:azure.apiServerAuthorizedIpRanges",
            authentication: "a cluster certificate or an Entra ID token",
        }),
    ];
}

export class AksCluster extends ApfaClusterBase<AzureTargetOutputs> {
    readonly resourceGroup: resources.ResourceGroup;
    readonly cluster: containerservice.ManagedCluster;
    readonly appPool: containerservice.AgentPool;
    /** Provider of the cluster (admin-equivalent user credentials). */
    readonly provider: k8s.Provider;
    /** APFA, its routing and the auxiliary services. */
    readonly apfa: KubernetesApfa;

    constructor(name: string, args: AksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super(CLUSTER_TYPES.azure, name, trafficWeights(args.config.release), opts);
        const { config } = args;
        const settings = config.azure;
        const names = aksNames(config.prefix);
        const tags = azureTags(config);
        const location = settings.location;
        const parent = { parent: this };

        this.resourceGroup = new resources.ResourceGroup(`${name}-rg`, { resourceGroupName: names.resourceGroup, location, tags }, parent);
        const resourceGroupName = this.resourceGroup.name;

        const vnet = new network.VirtualNetwork(
            `${name}-vnet`,
            { resourceGroupName, virtualNetworkName: names.vnet, location, addressSpace: { addressPrefixes: [settings.vnetCidr] }, tags },
            parent,
        );
        const subnet = new network.Subnet(
            `${name}-nodes`,
            {
                resourceGroupName,
                virtualNetworkName: vnet.name,
                subnetName: names.subnet,
                addressPrefix: settings.nodeSubnetCidr,
                // Nodes reach the internet through the cluster's load balancer outbound rules only.
                defaultOutboundAccess: false,
            },
            parent,
        );

        const identity = new managedidentity.UserAssignedIdentity(
            `${name}-identity`,
            { resourceGroupName, resourceName: names.identity, location, tags },
            parent,
        );
        const client = authorization.getClientConfigOutput(parent);
        const subnetAccess = new authorization.RoleAssignment(
            `${name}-subnet-access`,
            {
                principalId: identity.principalId,
                principalType: "ServicePrincipal",
                roleDefinitionId: client.subscriptionId.apply((sub) => roleDefinitionId(sub, AZURE_ROLES.networkContributor)),
                scope: subnet.id,
                description: "AKS control plane: join nodes and load balancers to the node subnet",
            },
            parent,
        );

        const zones = [...settings.availabilityZones];
        this.cluster = new containerservice.ManagedCluster(
            `${name}-aks`,
            {
                resourceGroupName,
                resourceName: names.cluster,
                location,
                tags,
                dnsPrefix: names.dnsPrefix,
                nodeResourceGroup: names.nodeResourceGroup,
                kubernetesVersion: settings.kubernetesVersion,
                sku: { name: "Base", tier: settings.skuTier },
                identity: { type: "UserAssigned", userAssignedIdentities: [identity.id] },
                enableRBAC: true,
                oidcIssuerProfile: { enabled: true },
                securityProfile: { workloadIdentity: { enabled: true }, imageCleaner: { enabled: true, intervalHours: 48 } },
                autoUpgradeProfile: { upgradeChannel: "patch", nodeOSUpgradeChannel: "NodeImage" },
                apiServerAccessProfile:
                    settings.apiServerAuthorizedIpRanges.length > 0 ? { authorizedIPRanges: [...settings.apiServerAuthorizedIpRanges] } : undefined,
                networkProfile: {
                    networkPlugin: "azure",
                    networkPluginMode: "overlay",
                    networkDataplane: "cilium",
                    networkPolicy: "cilium",
                    podCidr: settings.podCidr,
                    serviceCidr: settings.serviceCidr,
                    dnsServiceIP: dnsServiceIp(settings.serviceCidr),
                    loadBalancerSku: "standard",
                    outboundType: "loadBalancer",
                },
                autoScalerProfile: {
                    balanceSimilarNodeGroups: "true",
                    expander: "least-waste",
                    scaleDownUnneededTime: "10m",
                    scaleDownDelayAfterAdd: "10m",
                },
                agentPoolProfiles: [
                    {
                        name: SYSTEM_POOL,
                        mode: "System",
                        type: "VirtualMachineScaleSets",
                        vmSize: settings.systemVmSize,
                        // Fixed size: an autoscaled count in the inline profile would drift from state.
                        // Read at creation only (ignoreChanges below).
                        count: settings.systemPoolNodes,
                        availabilityZones: zones,
                        osType: "Linux",
                        osSKU: "AzureLinux",
                        vnetSubnetID: subnet.id,
                        orchestratorVersion: settings.kubernetesVersion,
                        // Only critical add-ons (CoreDNS, metrics-server, konnectivity) run here.
                        nodeTaints: ["CriticalAddonsOnly=true:NoSchedule"],
                        upgradeSettings: { maxSurge: "33%" },
                    },
                ],
            },
            {
                ...parent,
                dependsOn: [subnetAccess],
                // The inline pool cannot be updated through the ManagedCluster (managedCluster.d.ts):
                // its settings (size, count, version) apply at creation; afterwards the system pool is
                // changed out of band (`az aks nodepool update|upgrade --name system`), and everything
                // else lives in the separate APFA AgentPool below, which updates in place.
                ignoreChanges: ["agentPoolProfiles"],
            },
        );
        for (const warning of aksExposureWarnings(settings)) {
            void pulumi.log.warn(warning, this);
        }
        const clusterName = this.cluster.name;

        this.appPool = new containerservice.AgentPool(
            `${name}-apfa-pool`,
            {
                resourceGroupName,
                resourceName: clusterName,
                agentPoolName: APP_POOL,
                mode: "User",
                type: "VirtualMachineScaleSets",
                vmSize: settings.appVmSize,
                enableAutoScaling: true,
                minCount: settings.appPoolMinNodes,
                maxCount: settings.appPoolMaxNodes,
                count: settings.appPoolMinNodes,
                availabilityZones: zones,
                osType: "Linux",
                osSKU: "AzureLinux",
                vnetSubnetID: subnet.id,
                orchestratorVersion: settings.kubernetesVersion,
                nodeLabels: { ...APP_POOL_LABEL },
                upgradeSettings: { maxSurge: "33%" },
                tags,
            },
            // The cluster autoscaler owns the node count.
            { ...parent, ignoreChanges: ["count"] },
        );

        if (settings.acrResourceId !== undefined) {
            new authorization.RoleAssignment(
                `${name}-acr-pull`,
                {
                    principalId: this.cluster.identityProfile.apply((profile) => {
                        const objectId = profile?.kubeletidentity?.objectId;
                        if (!objectId) {
                            throw new pulumi.ResourceError("the AKS cluster reports no kubelet identity", this);
                        }
                        return objectId;
                    }),
                    principalType: "ServicePrincipal",
                    roleDefinitionId: client.subscriptionId.apply((sub) => roleDefinitionId(sub, AZURE_ROLES.acrPull)),
                    scope: settings.acrResourceId,
                    description: "AKS nodes pull APFA images",
                },
                parent,
            );
        }

        const credentials = containerservice.listManagedClusterUserCredentialsOutput({ resourceGroupName, resourceName: clusterName }, parent);
        const kubeconfig = pulumi.secret(credentials.apply(decodeKubeconfig));
        this.provider = new k8s.Provider(
            `${name}-k8s`,
            {
                kubeconfig,
                // Rotated credentials update the provider; only another cluster replaces it.
                clusterIdentifier: this.cluster.id,
            },
            parent,
        );

        const gateway = installEnvoyGateway(`${name}-envoy-gateway`, { provider: this.provider, zoneCount: zones.length, dependsOn: [this.appPool] }, this);

        this.apfa = new KubernetesApfa(
            `${name}-apfa`,
            {
                config,
                provider: this.provider,
                gatewayClassName: gateway.gatewayClassName,
                chartValues: { nodeSelector: { ...APP_POOL_LABEL } },
                gatewayPeers: gateway.proxyPeers,
                dependsOn: [this.appPool, gateway.gatewayClass],
            },
            parent,
        );

        this.complete({
            url: this.apfa.url,
            slots: this.apfa.slots,
            trafficUrn: this.apfa.trafficUrn,
            outputs: {
                clusterName,
                resourceGroupName,
                kubeconfig,
                gatewayClass: pulumi.output(gateway.gatewayClassName),
                namespace: pulumi.output(this.apfa.namespaceName),
                oidcIssuerUrl: this.cluster.oidcIssuerProfile.apply((p) => p?.issuerURL ?? ""),
                getCredentials: pulumi.interpolate`az aks get-credentials --resource-group ${resourceGroupName} --name ${clusterName}`,
            },
        });
    }

    runService(spec: AuxServiceSpec, parent: pulumi.Resource): AuxService {
        return this.apfa.runService(spec, parent);
    }
}
