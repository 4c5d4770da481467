/**
 * The Azure target in a multi-region deployment (`apfa:multiRegion`), as pure functions: names and
 * ARM ids every region stack derives from the deployment's name (so no stack reads another's state
 * for them), Front Door's origin settings per topology, the lock that keeps each region's entry
 * reachable from Front Door only, and the failover controller's settings. No SDK imports.
 *
 * Layout (one stack per region, primary first in `regions`; deploy in that order):
 * - every region: `<name>-<region>-rg` with its AKS cluster, VNet `<name>-<region>-vnet`, Flexible
 *   Server `<name>-<region>-pg`; VNet peerings to every region before it (the later stack owns both
 *   directions of a pair); its VNet linked to the shared private DNS zone of the database;
 * - the primary: the writer server, the shared private DNS zone, and the global entry (frontdoor.ts:
 *   Front Door profile, endpoint, origin group, route) in its own resource group `<name>-frontdoor-rg`;
 * - every other region: a read replica of the primary (`createMode: Replica`); the failover region
 *   (`regions[1]`) also owns the virtual endpoints (the stable writer and reader names) and runs
 *   the failover controller, which promotes its replica when the primary stays unhealthy.
 * - every region: its own origin in the shared origin group, and a probe endpoint of its own (one
 *   origin: this region only) that the controller uses to see one region through Front Door.
 */
import type { MultiRegionSettings, Topology } from "../../config/region";

/** Base of every physical name of a region stack: `<deployment>-<region>` (e.g. apfa-prod-westeurope). */
export function regionalPrefix(multiRegion: Pick<MultiRegionSettings, "name">, region: string): string {
    return `${multiRegion.name}-${region}`;
}

/** The names of the deployment's shared resources and of one region's (ARM name limits checked: see each). */
export function multiRegionNames(name: string) {
    return {
        /** Front Door's resource group (any region may host a global resource's group; the primary's is used). */
        frontDoorResourceGroup: `${name}-frontdoor-rg`,
        /** Profile names: 1-260 of letters, digits, "-". */
        frontDoorProfile: `${name}-fd`,
        /** Endpoint names: 1-46 characters (the generated host adds a hash); the deployment name has at most 30. */
        frontDoorEndpoint: name,
        originGroup: "apfa",
        route: "apfa",
        /** One probe endpoint per region: `<name>-<region>` fits 46 characters for the region names Azure uses. */
        probeEndpoint: (region: string) => `${name}-${region}`.slice(0, 46).replace(/-+$/, ""),
        probeOriginGroup: (region: string) => `probe-${region}`,
        origin: (region: string) => region,
        /** Virtual endpoints: `<name>.writer.postgres.database.azure.com` and `.reader.` (the stable names). */
        virtualEndpoint: `${name}-db`,
        /** The private DNS zone every region's server and the virtual endpoints register in. */
        databaseDnsZone: `${name}.private.postgres.database.azure.com`,
    };
}

/** The stable host name the app connects to in every region: the virtual endpoint's writer. */
export function writerHost(name: string): string {
    return `${multiRegionNames(name).virtualEndpoint}.writer.postgres.database.azure.com`;
}

/** `/subscriptions/<sub>/resourceGroups/<rg>`. */
function groupId(subscriptionId: string, resourceGroup: string): string {
    return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`;
}

/** ARM ids of another region's resources, from names alone (same subscription). */
export function regionIds(subscriptionId: string, names: { resourceGroup: string; vnet: string; server: string }) {
    const group = groupId(subscriptionId, names.resourceGroup);
    return {
        vnet: `${group}/providers/Microsoft.Network/virtualNetworks/${names.vnet}`,
        server: `${group}/providers/Microsoft.DBforPostgreSQL/flexibleServers/${names.server}`,
    };
}

/** The shared private DNS zone's id (in the primary's resource group). */
export function databaseDnsZoneId(subscriptionId: string, primaryResourceGroup: string, zone: string): string {
    return `${groupId(subscriptionId, primaryResourceGroup)}/providers/Microsoft.Network/privateDnsZones/${zone}`;
}

/**
 * Front Door's health probe on every origin: HTTPS GET of the app's health path every 30 s from
 * each edge; an origin is healthy while 3 of the last 4 samples succeeded. Front Door counts only
 * HTTP 200 as success, and APFA's `/health` answers exactly 200. azure-native's default interval
 * is 240 s (HealthProbeParametersArgs), far too slow for failover: it is always set. A region
 * is out after at most 2 failed samples, 60 s; the budget counts the conservative 4 × 30 s.
 * (tools/failover/budget.ts reads these values.)
 */
export const FRONT_DOOR_PROBE = { probeIntervalInSeconds: 30, sampleSize: 4, successfulSamplesRequired: 3 } as const;

/** Active-active: origins within this many milliseconds of the fastest count as equally near. */
export const LATENCY_SENSITIVITY_MS = 50;

/**
 * This region's origin in the shared group. Active-passive: priority 1 for the primary, 2 for
 * every standby (Front Door sends nothing to priority 2 while a priority-1 origin is healthy).
 * Active-active: every origin priority 1 with equal weight, and the group's latency sensitivity
 * picks the nearest healthy ones.
 */
export function originRouting(topology: Topology, isPrimary: boolean): { priority: number; weight: number } {
    if (topology === "active-passive") {
        return { priority: isPrimary ? 1 : 2, weight: 1000 };
    }
    return { priority: 1, weight: 1000 };
}

/** The shared origin group's load-balancing settings for a topology. */
export function originGroupLoadBalancing(topology: Topology): { sampleSize: number; successfulSamplesRequired: number; additionalLatencyInMilliseconds: number } {
    return {
        sampleSize: FRONT_DOOR_PROBE.sampleSize,
        successfulSamplesRequired: FRONT_DOOR_PROBE.successfulSamplesRequired,
        additionalLatencyInMilliseconds: topology === "active-active" ? LATENCY_SENSITIVITY_MS : 0,
    };
}

/** The HTTP header Front Door adds to every request it forwards, naming the profile (its `frontDoorId`). */
export const FRONT_DOOR_ID_HEADER = "X-Azure-FDID";
/** The service tag of Front Door's back-end addresses (what origins see as the client). */
export const FRONT_DOOR_SERVICE_TAG = "AzureFrontDoor.Backend";

export interface NsgRule {
    readonly name: string;
    readonly priority: number;
    readonly direction: "Inbound";
    readonly access: "Allow";
    readonly protocol: "Tcp" | "*";
    readonly sourceAddressPrefix: string;
    readonly sourcePortRange: "*";
    readonly destinationAddressPrefix: "*";
    readonly destinationPortRange: string;
    readonly description: string;
}

/**
 * The node subnet's network security group in a multi-region stack: HTTPS reaches the nodes (and
 * so the Gateway's load balancer) only from Front Door's back ends; plain HTTP stays open for the
 * ACME HTTP-01 challenge of the regional certificate and the redirect to HTTPS (the weighted route
 * is on the HTTPS listener only). Azure's default rules after these still allow the VNet and the
 * load balancer's health probes and deny the rest of the internet. Azure CNI Overlay routes pod
 * traffic without encapsulation through the subnet, so the pod range needs its own allow rule
 * ("Azure CNI Overlay networking": subnet NSGs must allow pod CIDR traffic).
 */
export function frontDoorLockRules(podCidr: string): NsgRule[] {
    const common = { direction: "Inbound", access: "Allow", sourcePortRange: "*", destinationAddressPrefix: "*" } as const;
    return [
        { ...common, name: "https-from-front-door", priority: 100, protocol: "Tcp", sourceAddressPrefix: FRONT_DOOR_SERVICE_TAG, destinationPortRange: "443", description: "HTTPS from Azure Front Door's back ends only" },
        {
            ...common,
            name: "http-acme-and-redirect",
            priority: 110,
            protocol: "Tcp",
            sourceAddressPrefix: "Internet",
            destinationPortRange: "80",
            description: "Plain HTTP: the ACME HTTP-01 challenge of the regional certificate and the redirect to HTTPS; no route forwards it",
        },
        { ...common, name: "pod-overlay", priority: 120, protocol: "*", sourceAddressPrefix: podCidr, destinationPortRange: "*", description: "Azure CNI Overlay pod traffic" },
    ];
}

/** The health URL of one region as seen through its own probe endpoint. */
export function probeUrl(probeHost: string, healthPath: string): string {
    return `https://${probeHost}${healthPath}`;
}

/**
 * The failover controller's settings (tools/failover/config.ts) in the failover region: the Azure
 * adapter on this region's replica, the primary's and this region's health through their probe
 * endpoints. Promote mode Switchover: the virtual endpoints then follow the new primary.
 */
export function azureControllerEnv<T = string>(args: {
    subscriptionId: T;
    resourceGroup: T;
    replicaServer: T;
    primaryHealthUrl: T;
    standbyHealthUrl: T;
}): Record<string, T | string> {
    return {
        APFA_FAILOVER_ADAPTER: "azure-postgres",
        APFA_FAILOVER_AZURE_SUBSCRIPTION_ID: args.subscriptionId,
        APFA_FAILOVER_AZURE_RESOURCE_GROUP: args.resourceGroup,
        APFA_FAILOVER_AZURE_REPLICA_SERVER: args.replicaServer,
        APFA_FAILOVER_AZURE_PROMOTE_MODE: "Switchover",
        APFA_FAILOVER_PRIMARY_HEALTH_URLS: args.primaryHealthUrl,
        APFA_FAILOVER_STANDBY_HEALTH_URLS: args.standbyHealthUrl,
    };
}

/**
 * The controller's custom role: read the server and write it (the promote is a PATCH of the
 * server's `replica` properties, authorised by flexibleServers/write), assignable at this one
 * server only. Not the built-in Contributor: it would cover every resource of the scope.
 */
export function promoteRoleDefinition(replicaServerId: string, roleName: string) {
    return {
        roleName,
        description: "APFA failover controller: read and promote one PostgreSQL flexible server replica",
        permissions: [{ actions: ["Microsoft.DBforPostgreSQL/flexibleServers/read", "Microsoft.DBforPostgreSQL/flexibleServers/write"], notActions: [] as string[] }],
        assignableScopes: [replicaServerId],
    };
}
