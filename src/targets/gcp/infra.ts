/**
 * The GCP resources under the GKE target, as free functions of (name, config, parent): the VPC,
 * the node service account, the cluster and the APFA node pool. The component in index.ts calls
 * them in order; tests see their inputs through the offline synth.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

import type { GcpConfig } from "../../config";
import { gcpLabels, identityLabels } from "./labels";
import { gcpName, NAME_LIMITS } from "./names";
import { sharedVpcName } from "./multiregion";
import { needsProxyOnlySubnet } from "./network";

/** Names of the subnet's secondary ranges (VPC-native Pods and Services). */
export const POD_RANGE_NAME = "pods";
export const SERVICE_RANGE_NAME = "services";

/** Node label of the APFA pool; the chart's nodeSelector uses it, so it survives pool replacement. */
export const APFA_POOL_LABEL = { key: "apfa.io/node-pool", value: "apfa" } as const;

/** Full API access scope; what a node may actually do is decided by its service account's roles. */
export const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";

/**
 * The node service account's project roles: `roles/container.defaultNodeServiceAccount`, the role
 * Google made for exactly what a GKE node does (logs, metrics, resource metadata, autoscaling
 * metrics; CIS GKE Benchmark 2.0 5.2.1, "Use custom least privilege service accounts for GKE node
 * pools"), and Artifact Registry reader to pull APFA's image. Nothing else, notably not the Editor
 * role the default compute service account carries.
 */
export const NODE_SERVICE_ACCOUNT_ROLES = ["roles/container.defaultNodeServiceAccount", "roles/artifactregistry.reader"] as const;

/** The labels of every labelled GCP resource of the stack. */
export function stackLabels(config: GcpConfig): Record<string, string> {
    return gcpLabels(config.tags, identityLabels(config.project, config.stack));
}

/** The Workload Identity pool of a project. */
export function workloadPool(project: string): string {
    return `${project}.svc.id.goog`;
}

/** A VPC as the stack uses it: created here, or (multi-region, not the primary) the deployment's shared one by name. */
export interface NetworkRef {
    readonly id: pulumi.Output<string>;
    readonly name: pulumi.Output<string>;
}

export interface GkeNetwork {
    readonly network: NetworkRef;
    readonly subnet: gcp.compute.Subnetwork;
    /** Only for the regional Gateway classes. */
    readonly proxyOnlySubnet?: gcp.compute.Subnetwork;
    readonly router: gcp.compute.Router;
    readonly nat: gcp.compute.RouterNat;
}

/**
 * A custom-mode VPC with one subnet (nodes; secondary ranges for Pods and Services), Private
 * Google Access (nodes without public IPs still reach Google APIs and Artifact Registry), Cloud
 * NAT for other egress (public images such as Prometheus and Grafana), and a proxy-only subnet
 * when the Gateway class runs regional Envoy proxies. No firewall rule is added: a custom VPC
 * denies all ingress, and GKE adds the rules its control plane and load-balancer health checks need.
 */
export function createNetwork(name: string, config: GcpConfig, parent: pulumi.Resource): GkeNetwork {
    const { project, region } = config.gcp;
    const opts: pulumi.CustomResourceOptions = { parent };

    // Multi-region: one VPC for every region (multiregion.ts), created by the primary; the other
    // regions add their subnet, router and NAT to it by name (deploy the primary first).
    const multi = config.multiRegion;
    const sharedVpc = multi ? sharedVpcName(multi.name) : undefined;
    const network: NetworkRef =
        multi && !multi.isPrimary && sharedVpc
            ? { id: pulumi.output(`projects/${project}/global/networks/${sharedVpc}`), name: pulumi.output(sharedVpc) }
            : new gcp.compute.Network(
                  `${name}-vpc`,
                  {
                      project,
                      name: sharedVpc ?? gcpName(config.prefix, "", NAME_LIMITS.network),
                      description: multi ? `APFA ${multi.name}: every region's GKE nodes, Pods and Services` : `APFA ${config.stack}: GKE nodes, Pods and Services`,
                      autoCreateSubnetworks: false,
                      routingMode: "REGIONAL",
                  },
                  opts,
              );

    const subnet = new gcp.compute.Subnetwork(
        `${name}-nodes`,
        {
            project,
            region,
            network: network.id,
            name: gcpName(config.prefix, "nodes", NAME_LIMITS.subnetwork),
            ipCidrRange: config.gcp.subnetCidr,
            secondaryIpRanges: [
                { rangeName: POD_RANGE_NAME, ipCidrRange: config.gcp.podsCidr },
                { rangeName: SERVICE_RANGE_NAME, ipCidrRange: config.gcp.servicesCidr },
            ],
            privateIpGoogleAccess: true,
            stackType: "IPV4_ONLY",
        },
        opts,
    );

    const proxyOnlySubnet = (multi ? !multi.isPrimary : needsProxyOnlySubnet(config.gcp.gatewayClass))
        ? new gcp.compute.Subnetwork(
              `${name}-proxy-only`,
              {
                  project,
                  region,
                  network: network.id,
                  name: gcpName(config.prefix, "proxy-only", NAME_LIMITS.subnetwork),
                  ipCidrRange: config.gcp.proxyOnlyCidr,
                  purpose: "REGIONAL_MANAGED_PROXY",
                  role: "ACTIVE",
              },
              opts,
          )
        : undefined;

    const router = new gcp.compute.Router(
        `${name}-router`,
        { project, region, network: network.name, name: gcpName(config.prefix, "router", NAME_LIMITS.router) },
        opts,
    );

    const nat = new gcp.compute.RouterNat(
        `${name}-nat`,
        {
            project,
            region,
            router: router.name,
            name: gcpName(config.prefix, "nat", NAME_LIMITS.nat),
            natIpAllocateOption: "AUTO_ONLY",
            // Only the nodes' subnet (all its ranges: nodes and Pods) egresses through this NAT.
            sourceSubnetworkIpRangesToNat: "LIST_OF_SUBNETWORKS",
            subnetworks: [{ name: subnet.id, sourceIpRangesToNats: ["ALL_IP_RANGES"] }],
            logConfig: { enable: true, filter: "ERRORS_ONLY" },
        },
        opts,
    );

    return { network, subnet, proxyOnlySubnet, router, nat };
}

export interface NodeIdentity {
    readonly serviceAccount: gcp.serviceaccount.Account;
    readonly roles: gcp.projects.IAMMember[];
}

/** A dedicated least-privilege service account for the nodes, instead of the default compute one. */
export function createNodeServiceAccount(name: string, config: GcpConfig, parent: pulumi.Resource): NodeIdentity {
    const { project } = config.gcp;
    const serviceAccount = new gcp.serviceaccount.Account(
        `${name}-node-sa`,
        {
            project,
            accountId: gcpName(config.prefix, "nodes", NAME_LIMITS.serviceAccountId),
            displayName: `GKE nodes of ${config.prefix}`,
            description: "Least-privilege identity of the APFA GKE nodes (logs, metrics, image pulls)",
        },
        { parent },
    );
    const roles = NODE_SERVICE_ACCOUNT_ROLES.map(
        (role) =>
            new gcp.projects.IAMMember(
                `${name}-node-sa-${role.replace(/^roles\//, "").replace(/\./g, "-")}`,
                { project, role, member: pulumi.interpolate`serviceAccount:${serviceAccount.email}` },
                { parent },
            ),
    );
    return { serviceAccount, roles };
}

/** Node settings shared by the temporary default pool and the APFA pool. */
function secureNodeConfig(serviceAccountEmail: pulumi.Input<string>) {
    return {
        serviceAccount: serviceAccountEmail,
        oauthScopes: [CLOUD_PLATFORM_SCOPE],
        // Pods see the GKE metadata server (Workload Identity), never the node's own credentials.
        workloadMetadataConfig: { mode: "GKE_METADATA" },
        shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
    };
}

/**
 * A regional GKE Standard cluster: VPC-native, private nodes (public control-plane endpoint,
 * optionally limited to authorized networks), Workload Identity, Gateway API (standard channel),
 * Dataplane V2 (enforces NetworkPolicy), shielded nodes, release channel, deletion protection.
 * Its default node pool is removed once created; the APFA pool replaces it.
 */
export function createCluster(
    name: string,
    config: GcpConfig,
    net: GkeNetwork,
    identity: NodeIdentity,
    parent: pulumi.Resource,
): gcp.container.Cluster {
    const settings = config.gcp;
    return new gcp.container.Cluster(
        `${name}-gke`,
        {
            project: settings.project,
            name: gcpName(config.prefix, "", NAME_LIMITS.cluster),
            description: `APFA ${config.stack}`,
            location: settings.region,
            network: net.network.name,
            subnetwork: net.subnet.name,
            networkingMode: "VPC_NATIVE",
            ipAllocationPolicy: {
                clusterSecondaryRangeName: POD_RANGE_NAME,
                servicesSecondaryRangeName: SERVICE_RANGE_NAME,
                stackType: "IPV4",
            },
            // In the GKE API, PrivateClusterConfig.enablePrivateNodes/enablePrivateEndpoint are deprecated
            // for NetworkConfig.defaultEnablePrivateNodes and ControlPlaneEndpointsConfig.IPEndpointsConfig;
            // @pulumi/gcp 9.37 has no such inputs, and the provider sends these two fields as exactly
            // those (terraform-google-conversion container_cluster: expandDefaultEnablePrivateNodes,
            // expandControlPlaneEndpointsConfig). masterIpv4CidrBlock is what still selects the legacy
            // VPC-peering control plane: left out, a new cluster uses Private Service Connect. It is
            // Optional+Computed in the provider, so omitting it leaves an existing cluster unchanged.
            privateClusterConfig: {
                enablePrivateNodes: true,
                enablePrivateEndpoint: false,
                ...(settings.masterCidr !== undefined ? { masterIpv4CidrBlock: settings.masterCidr } : {}),
            },
            masterAuthorizedNetworksConfig: settings.masterAuthorizedCidrs
                ? {
                      cidrBlocks: settings.masterAuthorizedCidrs.map((cidrBlock) => ({ cidrBlock, displayName: "operators" })),
                      gcpPublicCidrsAccessEnabled: false,
                  }
                : undefined,
            removeDefaultNodePool: true,
            initialNodeCount: 1,
            // The short-lived default pool runs as the least-privilege account too (the default
            // compute account may lack the roles nodes need, or be disabled by org policy).
            nodeConfig: secureNodeConfig(identity.serviceAccount.email),
            releaseChannel: { channel: settings.releaseChannel },
            workloadIdentityConfig: { workloadPool: workloadPool(settings.project) },
            gatewayApiConfig: { channel: "CHANNEL_STANDARD" },
            datapathProvider: "ADVANCED_DATAPATH",
            addonsConfig: {
                // The GKE Gateway controller needs the HTTP load-balancing add-on.
                httpLoadBalancing: { disabled: false },
                horizontalPodAutoscaling: { disabled: false },
            },
            enableShieldedNodes: true,
            enableLegacyAbac: false,
            deletionProtection: settings.deletionProtection,
            resourceLabels: stackLabels(config),
        },
        {
            parent,
            // The default pool's node config only matters for the minutes before it is removed;
            // GKE reports it differently afterwards, which must not force a new cluster.
            ignoreChanges: ["nodeConfig"],
            // Nodes must be able to write logs and pull images from their first boot.
            dependsOn: identity.roles,
        },
    );
}

/**
 * The APFA node pool: cluster-autoscaled between `minNodesPerZone` and `maxNodesPerZone` IN EACH of
 * the cluster's zones (BALANCED keeps the zones even), auto-repaired and auto-upgraded, shielded,
 * Workload Identity metadata, running as the least-privilege node service account.
 */
export function createNodePool(
    name: string,
    config: GcpConfig,
    cluster: gcp.container.Cluster,
    identity: NodeIdentity,
    parent: pulumi.Resource,
): gcp.container.NodePool {
    const settings = config.gcp;
    return new gcp.container.NodePool(
        `${name}-apfa-pool`,
        {
            project: settings.project,
            cluster: cluster.name,
            location: settings.region,
            // A generated suffix lets a replacement pool come up before the old one drains.
            namePrefix: "apfa-",
            // Per zone, like the autoscaling bounds; at least one so system Pods can schedule at once.
            initialNodeCount: Math.max(1, settings.minNodesPerZone),
            autoscaling: {
                minNodeCount: settings.minNodesPerZone,
                maxNodeCount: settings.maxNodesPerZone,
                locationPolicy: "BALANCED",
            },
            management: { autoRepair: true, autoUpgrade: true },
            upgradeSettings: { strategy: "SURGE", maxSurge: 1, maxUnavailable: 0 },
            nodeConfig: {
                ...secureNodeConfig(identity.serviceAccount.email),
                machineType: settings.machineType,
                labels: { [APFA_POOL_LABEL.key]: APFA_POOL_LABEL.value },
                resourceLabels: stackLabels(config),
            },
        },
        {
            parent,
            // The autoscaler owns the node count after creation; a new lower bound must not
            // replace the pool (initialNodeCount forces replacement).
            ignoreChanges: ["initialNodeCount"],
            dependsOn: identity.roles,
        },
    );
}
