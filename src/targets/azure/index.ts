/**
 * The Azure target: AKS with the shared Kubernetes layer.
 *
 * Plan of the constructor:
 * 1. resource group; VNet with one node subnet (Azure CNI Overlay: pods get overlay addresses, so
 *    the subnet only holds nodes);
 * 2. a user-assigned control-plane identity with Network Contributor on the node subnet (AKS needs
 *    it to join nodes and load balancers to a subnet it does not own), granted before the cluster;
 * 3. the ManagedCluster: Standard tier, Entra ID authentication with Azure RBAC and no local
 *    accounts, OIDC issuer + workload identity, Cilium dataplane (which enforces NetworkPolicy), a
 *    system pool for critical add-ons only; then APFA's nodes as ONE AgentPool PER ZONE with the
 *    cluster autoscaler (see appPoolPlan);
 * 4. access: the nodes' AcrPull grant, the deployer's cluster-admin grant (unless admin groups are
 *    configured), a kubeconfig that execs kubelogin (see kubeconfig.ts) feeding a `k8s.Provider`;
 * 5. Envoy Gateway (the Gateway API implementation, see envoy-gateway.ts), cert-manager when TLS is
 *    configured (see cert-manager.ts), a zone-redundant StorageClass, and the Kubernetes layer.
 * 6. multi-region (`apfa:multiRegion`, multiregion.ts): names from the deployment and region, the
 *    node subnet's NSG admitting HTTPS from Front Door only, VNet peerings to the earlier regions,
 *    the replica (database.ts), Front Door (frontdoor.ts: the shared part on the primary, this
 *    region's origin and probe endpoint everywhere), the route's X-Azure-FDID check, and in the
 *    failover region the controller (failover.ts).
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
import type { AzureConfig, MultiRegionSettings } from "../../config";
import { primaryStackTarget, requireField } from "../primary-stack";
import { KubernetesApfa, type PodDrain } from "../../kubernetes";
import { GATEWAY_NAME, TLS_SECRET_NAME } from "../../kubernetes/names";
import { managedLabels } from "../../kubernetes/labels";
import { publicControlPlaneWarning } from "../../kubernetes/warnings";
import { trafficWeights } from "../../bluegreen";
import type { AzureTargetOutputs } from "./outputs";
import { createGatewayCertificate, installCertManager } from "./cert-manager";
import { backendConnectionPolicySpec, installEnvoyGateway } from "./envoy-gateway";
import { aksKubeloginKubeconfig } from "./kubeconfig";
import { FlexibleServerDatabase, flexibleServerNames } from "./database";
import { AzureFailoverController } from "./failover";
import { FrontDoorEntry } from "./frontdoor";
import { FRONT_DOOR_ID_HEADER, frontDoorLockRules, probeUrl, regionIds, regionalPrefix, writerHost } from "./multiregion";
import { dnsServiceIp } from "./network";

export { aksKubeloginKubeconfig } from "./kubeconfig";

export interface AksClusterArgs {
    /** Validated config of an `azure` stack. */
    readonly config: AzureConfig;
}

/** Built-in Azure role definitions (ids are the same in every tenant). */
export const AZURE_ROLES = {
    networkContributor: "4d97b98b-1d4f-4787-a291-c67834d212e7",
    acrPull: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    /** "Azure Kubernetes Service RBAC Cluster Admin": every Kubernetes API action in the cluster. */
    aksRbacClusterAdmin: "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
} as const;

/** Node pool names: Linux pools take at most 12 lower-case letters and digits. */
export const SYSTEM_POOL = "system";
/** APFA's pools are `apfa<zone>` (apfa1, apfa2, apfa3): one per availability zone. */
export const APP_POOL_PREFIX = "apfa";
/** Node label of every APFA pool; the chart's nodeSelector pins APFA to them. */
export const APP_POOL_LABEL = { "apfa.io/pool": "app" } as const;

/**
 * How a terminating APFA pod drains on AKS: Envoy Gateway follows the EndpointSlices and stops
 * routing to a terminating endpoint within about a second of its xDS push, so 5 s of preStop cover
 * it; Envoy finishes in-flight requests itself (no load-balancer draining to wait for).
 */
export const AKS_DRAIN: PodDrain = { preStopSleepSeconds: 5, loadBalancerDrainSeconds: 0 };

/** Name of the zone-redundant StorageClass the program creates for Prometheus's and Grafana's volumes. */
export const ZRS_STORAGE_CLASS = "apfa-managed-csi-zrs";

/**
 * The StorageClass of the monitoring volumes: Azure Disk CSI with zone-redundant StandardSSD
 * (synchronously replicated across three zones, attachable from a node in any zone), so
 * Prometheus and Grafana can be rescheduled into another zone with their data. StandardSSD_ZRS
 * rather than Premium_ZRS: it is the ZRS twin of AKS's default `managed-csi` (StandardSSD_LRS) and
 * works with every VM size, Premium needs an "s" size. WaitForFirstConsumer as AKS's own classes.
 * Its parameters are immutable: a change replaces the class (not the existing volumes).
 */
export function zrsStorageClass(): { provisioner: string; parameters: Record<string, string>; reclaimPolicy: string; volumeBindingMode: string; allowVolumeExpansion: boolean } {
    return {
        provisioner: "disk.csi.azure.com",
        parameters: { skuName: "StandardSSD_ZRS", cachingMode: "ReadOnly" },
        reclaimPolicy: "Delete",
        volumeBindingMode: "WaitForFirstConsumer",
        allowVolumeExpansion: true,
    };
}

/** One of APFA's per-zone node pools. */
export interface AppPoolPlan {
    readonly zone: string;
    /** AgentPool name (`apfa<zone>`). */
    readonly name: string;
    readonly minCount: number;
    readonly maxCount: number;
}

/**
 * APFA's node pools: one per availability zone, the total autoscaler bounds split over them (the
 * first zones take the remainder). Why per zone: the chart spreads APFA's pods over zones with
 * `DoNotSchedule`, and the cluster autoscaler cannot choose the zone of a new node in a pool that
 * spans zones, so a pod pending for zone 2 could get a node in zone 1 and stay pending. With one
 * pool per zone the autoscaler sees which pool would fit the pod ("use separate node groups per
 * zone", cluster-autoscaler FAQ), and `balance-similar-node-groups` keeps the zones even.
 * @throws RangeError when the maximum leaves a zone without room for a node, or min > max
 */
export function appPoolPlan(zones: readonly string[], minNodes: number, maxNodes: number): AppPoolPlan[] {
    if (zones.length === 0) {
        throw new RangeError("at least one availability zone is needed");
    }
    if (minNodes > maxNodes || maxNodes < zones.length) {
        throw new RangeError(`cannot split ${minNodes}-${maxNodes} nodes over ${zones.length} zones with at least one node of room each`);
    }
    const share = (total: number, index: number) => Math.floor(total / zones.length) + (index < total % zones.length ? 1 : 0);
    return zones.map((zone, index) => ({
        zone,
        name: `${APP_POOL_PREFIX}${zone}`,
        minCount: share(minNodes, index),
        maxCount: share(maxNodes, index),
    }));
}

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

/**
 * What an operator runs for kubectl access: the cluster's user kubeconfig, converted to kubelogin's
 * Azure CLI mode (the cluster accepts only Entra ID tokens; `az login` first).
 */
export function getCredentialsCommand(resourceGroup: string, cluster: string): string {
    return `az aks get-credentials --resource-group ${resourceGroup} --name ${cluster} && kubelogin convert-kubeconfig -l azurecli`;
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
            authentication: "an Entra ID token",
        }),
    ];
}

/**
 * The warning of a stack without admin groups: cluster-admin follows whoever ran `pulumi up` last
 * (the grant's principal is the deploying identity, so another deployer replaces it).
 */
export function deployerGrantWarning(settings: Pick<AzureConfig["azure"], "clusterAdminGroupObjectIds">): string | undefined {
    if (settings.clusterAdminGroupObjectIds.length > 0) {
        return undefined;
    }
    return (
        "apfa:azure.clusterAdminGroupObjectIds is empty: the identity running `pulumi up` gets the Azure Kubernetes Service RBAC " +
        "Cluster Admin role on the cluster, and a `pulumi up` by another identity moves it there. Set an Entra ID group of your " +
        "operators and CI instead."
    );
}

export class AksCluster extends ApfaClusterBase<AzureTargetOutputs> {
    readonly resourceGroup: resources.ResourceGroup;
    readonly cluster: containerservice.ManagedCluster;
    /** APFA's node pools, one per availability zone. */
    readonly appPools: containerservice.AgentPool[];
    /** Provider of the cluster (Entra ID tokens from kubelogin; no stored credential). */
    readonly provider: k8s.Provider;
    /** APFA, its routing and the auxiliary services. */
    readonly apfa: KubernetesApfa;
    /** APFA's Flexible Server (database.ts), when `apfa:database.enabled`. */
    readonly postgres?: FlexibleServerDatabase;

    constructor(name: string, args: AksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super(CLUSTER_TYPES.azure, name, trafficWeights(args.config.release), opts);
        const { config } = args;
        const settings = config.azure;
        const tags = azureTags(config);
        const location = settings.location;
        const parent = { parent: this };
        // Multi-region: names from the deployment's name and the region, so every region stack can
        // derive another's (the primary's server, the VNets to peer) without reading its state.
        const multi = config.multiRegion;
        const base = multi ? regionalPrefix(multi, location) : config.prefix;
        const names = aksNames(base);
        // What only the primary's deploy knows (the generated password, Front Door's generated ids),
        // read from its stack's outputs in the state backend: never from the primary region itself.
        const primaryTarget = multi && !multi.isPrimary ? primaryStackTarget(`${name}-primary-stack`, multi.primaryStack, this) : undefined;

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
                // Multi-region: HTTPS reaches the nodes from Front Door's back ends only (multiregion.ts).
                networkSecurityGroup: multi ? { id: frontDoorLock(`${name}-frontdoor-lock`, { resourceGroupName, location, nsgName: `${names.vnet}-nodes-nsg`, podCidr: settings.podCidr, tags }, this).id } : undefined,
            },
            parent,
        );
        const client = authorization.getClientConfigOutput(parent);
        const peerings = multi ? peerEarlierRegions(name, { multi, vnet, resourceGroupName, subscriptionId: client.subscriptionId }, this) : [];
        // APFA's Flexible Server, privately in this VNet (database.ts); its subnet after the nodes'.
        const primaryBase = multi ? aksNames(regionalPrefix(multi, multi.primaryRegion)) : undefined;
        this.postgres = config.database.enabled
            ? new FlexibleServerDatabase(
                  `${name}-database`,
                  {
                      config,
                      resourceGroupName,
                      vnet,
                      after: [subnet, ...peerings],
                      tags,
                      namingPrefix: base,
                      multiRegion:
                          multi && primaryBase
                              ? {
                                    settings: multi,
                                    subscriptionId: client.subscriptionId,
                                    primaryPassword: primaryTarget ? pulumi.secret(primaryTarget.apply((target) => requireField(target, "replicationCredential"))) : undefined,
                                    primary: {
                                        resourceGroup: primaryBase.resourceGroup,
                                        vnet: primaryBase.vnet,
                                        server: flexibleServerNames(regionalPrefix(multi, multi.primaryRegion)).server,
                                    },
                                    peerCidrs: settings.peerVnetCidrs,
                                }
                              : undefined,
                  },
                  parent,
              )
            : undefined;

        const identity = new managedidentity.UserAssignedIdentity(
            `${name}-identity`,
            { resourceGroupName, resourceName: names.identity, location, tags },
            parent,
        );
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
                // Entra ID authentication and Azure RBAC authorisation; no local accounts, so no
                // certificate credential exists that bypasses Entra ID (listClusterAdminCredential fails).
                aadProfile: {
                    managed: true,
                    enableAzureRBAC: true,
                    adminGroupObjectIDs: settings.clusterAdminGroupObjectIds.length > 0 ? [...settings.clusterAdminGroupObjectIds] : undefined,
                },
                disableLocalAccounts: true,
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
        for (const warning of [...aksExposureWarnings(settings), deployerGrantWarning(settings)]) {
            if (warning !== undefined) {
                void pulumi.log.warn(warning, this);
            }
        }
        const clusterName = this.cluster.name;

        this.appPools = appPoolPlan(zones, settings.appPoolMinNodes, settings.appPoolMaxNodes).map(
            (pool) =>
                new containerservice.AgentPool(
                    `${name}-apfa-pool-z${pool.zone}`,
                    {
                        resourceGroupName,
                        resourceName: clusterName,
                        agentPoolName: pool.name,
                        mode: "User",
                        type: "VirtualMachineScaleSets",
                        vmSize: settings.appVmSize,
                        enableAutoScaling: true,
                        minCount: pool.minCount,
                        maxCount: pool.maxCount,
                        count: pool.minCount,
                        availabilityZones: [pool.zone],
                        osType: "Linux",
                        osSKU: "AzureLinux",
                        vnetSubnetID: subnet.id,
                        orchestratorVersion: settings.kubernetesVersion,
                        // The same labels on every zone's pool: the autoscaler treats them as
                        // similar node groups and balances them (balanceSimilarNodeGroups above).
                        nodeLabels: { ...APP_POOL_LABEL },
                        upgradeSettings: { maxSurge: "33%" },
                        tags,
                    },
                    // The cluster autoscaler owns the node count.
                    { ...parent, ignoreChanges: ["count"] },
                ),
        );

        let acrPull: authorization.RoleAssignment | undefined;
        if (settings.acrResourceId !== undefined) {
            acrPull = new authorization.RoleAssignment(
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

        // With Azure RBAC nobody may use the Kubernetes API until a role says so: without admin
        // groups, the identity running this program gets cluster-admin on this cluster only.
        const deployerGrants: authorization.RoleAssignment[] = [];
        if (settings.clusterAdminGroupObjectIds.length === 0) {
            deployerGrants.push(
                new authorization.RoleAssignment(
                    `${name}-deployer-cluster-admin`,
                    {
                        principalId: client.objectId,
                        roleDefinitionId: client.subscriptionId.apply((sub) => roleDefinitionId(sub, AZURE_ROLES.aksRbacClusterAdmin)),
                        scope: this.cluster.id,
                        description: "The identity running pulumi up manages the cluster's Kubernetes objects",
                    },
                    parent,
                ),
            );
        }

        // format "exec": the kubelogin form of the user credentials (AKS returns it for Entra ID
        // clusters); aksKubeloginKubeconfig keeps only the cluster entry and a non-interactive user.
        const credentials = containerservice.listManagedClusterUserCredentialsOutput({ resourceGroupName, resourceName: clusterName, format: "exec" }, parent);
        const kubeconfig = pulumi.secret(credentials.apply((result) => aksKubeloginKubeconfig(decodeKubeconfig(result))));
        this.provider = new k8s.Provider(
            `${name}-k8s`,
            {
                kubeconfig,
                // A changed endpoint or CA updates the provider; only another cluster replaces it.
                clusterIdentifier: this.cluster.id,
            },
            { ...parent, dependsOn: deployerGrants },
        );

        const gateway = installEnvoyGateway(`${name}-envoy-gateway`, { provider: this.provider, zoneCount: zones.length, dependsOn: this.appPools }, this);

        const storageClass = new k8s.storage.v1.StorageClass(
            `${name}-zrs-storage`,
            { metadata: { name: ZRS_STORAGE_CLASS, labels: managedLabels("apfa", "storage") }, ...zrsStorageClass() },
            { ...parent, provider: this.provider },
        );

        const tls = settings.tls;
        // cert-manager needs the Gateway API CRDs at start-up (its Gateway API support reads them).
        const certManager = tls ? installCertManager(`${name}-cert-manager`, { provider: this.provider, dependsOn: [gateway.gatewayClass] }, this) : undefined;

        // Multi-region: Front Door's shared part first (the Gateway's route checks the profile's id).
        const frontDoor = multi && tls ? new FrontDoorEntry(`${name}-frontdoor`, { config, multiRegion: multi, originHostName: tls.domainName, tags }, parent) : undefined;
        const frontDoorId: pulumi.Output<string> | undefined = frontDoor?.profile
            ? frontDoor.profile.frontDoorId
            : primaryTarget
              ? // Front Door sends this id to every origin; it is not a credential (the NSG and the certificate check are
                // the lock's other halves). The primary's `target` output is secret as a whole because it carries the
                // replication credential, so the id is unwrapped explicitly.
                pulumi.unsecret(primaryTarget.apply((target) => requireField(target, "multiRegion.frontDoorId")))
              : undefined;

        this.apfa = new KubernetesApfa(
            `${name}-apfa`,
            {
                config,
                // Only requests Front Door forwarded for this profile reach APFA (the NSG admits all of Front Door).
                requiredHeader: frontDoorId ? { name: FRONT_DOOR_ID_HEADER, value: frontDoorId } : undefined,
                provider: this.provider,
                gatewayClassName: gateway.gatewayClassName,
                drain: AKS_DRAIN,
                chartValues: { nodeSelector: { ...APP_POOL_LABEL } },
                gatewayPeers: gateway.proxyPeers,
                tls: tls ? { hostname: tls.domainName, certificate: { kind: "secret", secretName: TLS_SECRET_NAME } } : undefined,
                acmeHttp01Solver: tls !== undefined,
                storageClassName: ZRS_STORAGE_CLASS,
                database: this.postgres,
                dependsOn: [...this.appPools, gateway.gatewayClass, storageClass],
                // The kubelet identity must be allowed to pull before the releases' atomic window starts.
                releaseDependsOn: acrPull ? [acrPull] : [],
            },
            parent,
        );

        // Envoy closes idle upstream connections before APFA does (see UPSTREAM_IDLE_TIMEOUT_SECONDS).
        new k8s.apiextensions.CustomResource(
            `${name}-backend-connections`,
            {
                apiVersion: "gateway.envoyproxy.io/v1alpha1",
                kind: "BackendTrafficPolicy",
                metadata: { name: "apfa-backend-connections", namespace: this.apfa.namespace.metadata.name, labels: managedLabels("apfa", "gateway") },
                spec: backendConnectionPolicySpec(GATEWAY_NAME),
            },
            { parent: this, provider: this.provider, dependsOn: [this.apfa.gateway] },
        );

        if (tls && certManager) {
            createGatewayCertificate(
                `${name}-tls`,
                {
                    provider: this.provider,
                    namespace: this.apfa.namespace.metadata.name,
                    tls,
                    dependsOn: [certManager, this.apfa.namespace],
                    labels: managedLabels("apfa", "certificate"),
                },
                this,
            );
        }

        frontDoor?.connect(this.apfa.gatewayAddress);
        const probeHost = frontDoor?.probeHost;
        if (multi && multi.regions[1] === multi.region && this.postgres && primaryTarget && probeHost && multi.controllerImage) {
            const primaryProbeHost = pulumi.unsecret(primaryTarget.apply((target) => requireField(target, "multiRegion.probeHost")));
            new AzureFailoverController(
                `${name}-failover`,
                {
                    image: multi.controllerImage,
                    location,
                    resourceGroupName,
                    subscriptionId: client.subscriptionId,
                    replicaServerId: this.postgres.server.id,
                    replicaServerName: this.postgres.server.name,
                    oidcIssuerUrl: this.cluster.oidcIssuerProfile.apply((p) => p?.issuerURL ?? ""),
                    primaryHealthUrl: primaryProbeHost.apply((host) => probeUrl(host, config.app.healthPath)),
                    standbyHealthUrl: probeHost.apply((host) => probeUrl(host, config.app.healthPath)),
                    identityName: `${names.identity.replace(/-aks-identity$/, "")}-failover`.slice(0, 128),
                    provider: this.provider,
                    tags,
                    labels: {},
                    dependsOn: [this.apfa.namespace],
                },
                parent,
            );
        }

        this.complete({
            // Multi-region: the regional Gateway admits Front Door only, so this region's URL is its probe endpoint.
            url: probeHost ? probeHost.apply((host) => `https://${host}`) : this.apfa.url,
            slots: this.apfa.slots,
            trafficUrn: this.apfa.trafficUrn,
            database: this.postgres,
            outputs: {
                clusterName,
                resourceGroupName,
                kubeconfig,
                gatewayClass: pulumi.output(gateway.gatewayClassName),
                gatewayAddress: this.apfa.gatewayAddress,
                namespace: pulumi.output(this.apfa.namespaceName),
                oidcIssuerUrl: this.cluster.oidcIssuerProfile.apply((p) => p?.issuerURL ?? ""),
                getCredentials: pulumi.all([resourceGroupName, clusterName]).apply(([group, cluster]) => getCredentialsCommand(group, cluster)),
                multiRegion:
                    multi && frontDoor && frontDoorId && probeHost
                        ? pulumi.all([frontDoorId, probeHost, frontDoor.endpoint?.hostName]).apply(([id, probe, host]) => ({
                              region: multi.region,
                              topology: multi.topology,
                              isPrimary: multi.isPrimary,
                              frontDoorId: id,
                              ...(host ? { frontDoorHost: host } : {}),
                              probeHost: probe,
                              writerHost: writerHost(multi.name),
                          }))
                        : pulumi.output(undefined),
                replicationCredential:
                    multi?.isPrimary && this.postgres && this.postgres.connection.password.kind === "value"
                        ? pulumi.secret(this.postgres.connection.password.value)
                        : pulumi.output(undefined),
            },
        });
    }

    runService(spec: AuxServiceSpec, parent: pulumi.Resource): AuxService {
        return this.apfa.runService(spec, parent);
    }
}

/** The node subnet's network security group of a multi-region stack (multiregion.ts has the rules). */
function frontDoorLock(
    name: string,
    args: { resourceGroupName: pulumi.Input<string>; location: string; nsgName: string; podCidr: string; tags: Record<string, string> },
    parent: pulumi.Resource,
): network.NetworkSecurityGroup {
    return new network.NetworkSecurityGroup(
        name,
        {
            resourceGroupName: args.resourceGroupName,
            networkSecurityGroupName: args.nsgName,
            location: args.location,
            // Inline rules only (no separate SecurityRule resources): mixing both makes each undo the other.
            securityRules: frontDoorLockRules(args.podCidr).map((rule) => ({ ...rule })),
            tags: args.tags,
        },
        { parent },
    );
}

/**
 * VNet peerings with every region listed before this one, both directions: the later region's
 * stack owns the pair (the earlier VNet exists by then: deploy in `regions` order). The writer
 * database may be in any region, and the app reaches it over these peerings.
 */
function peerEarlierRegions(
    name: string,
    args: { multi: MultiRegionSettings; vnet: network.VirtualNetwork; resourceGroupName: pulumi.Input<string>; subscriptionId: pulumi.Output<string> },
    parent: pulumi.Resource,
): network.VirtualNetworkPeering[] {
    const { multi } = args;
    const earlier = multi.regions.slice(0, multi.regions.indexOf(multi.region));
    const peerings: network.VirtualNetworkPeering[] = [];
    const common = { allowVirtualNetworkAccess: true, allowForwardedTraffic: false, allowGatewayTransit: false, useRemoteGateways: false };
    for (const region of earlier) {
        const remote = aksNames(regionalPrefix(multi, region));
        const remoteVnetId = args.subscriptionId.apply((sub) => regionIds(sub, { ...remote, server: "" }).vnet);
        peerings.push(
            new network.VirtualNetworkPeering(
                `${name}-peer-to-${region}`,
                { ...common, resourceGroupName: args.resourceGroupName, virtualNetworkName: args.vnet.name, virtualNetworkPeeringName: `to-${region}`, remoteVirtualNetwork: { id: remoteVnetId } },
                { parent },
            ),
            new network.VirtualNetworkPeering(
                `${name}-peer-from-${region}`,
                {
                    ...common,
                    resourceGroupName: remote.resourceGroup,
                    virtualNetworkName: remote.vnet,
                    virtualNetworkPeeringName: `to-${multi.region}`,
                    remoteVirtualNetwork: { id: args.vnet.id },
                },
                { parent },
            ),
        );
    }
    return peerings;
}
