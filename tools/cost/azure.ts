/**
 * Azure (azure-native): the AKS tier fee, node VMs and their OS disks, the cluster's Standard Load
 * Balancer and public IPs, managed disks behind PersistentVolumeClaims, NAT, private endpoints,
 * PostgreSQL Flexible Server (and its read replicas), Front Door, and the data over VNet peerings.
 */
import { publicEntries, type KubernetesCloud, type StorageClassInfo } from "./kubernetes";
import { PRICED, arr, at, bool, notPriced, num, obj, range, str, zero, type NeutralResource, type Pricer, type PricingContext, type Range } from "./model";

/**
 * Temp (resource) disk of a VM size in GiB: the `d` sizes of the v5 families have 37.5 GiB per
 * vCPU (Azure's Ddsv5 / Dpdsv5 size tables: D2ds_v5 75, D4ds_v5 150, D8ds_v5 300); sizes without
 * `d` have none.
 */
export function tempDiskGiB(vmSize: string): number {
    const m = /^Standard_[DE](\d+)[a-z]*d[a-z]*_v5$/.exec(vmSize);
    return m ? Number(m[1]) * 37.5 : 0;
}

/** AKS's OS disk size when `osDiskSizeGB` is not set. */
const DEFAULT_OS_DISK_GB = 128;

/** Disk tiers of managed disks: a disk bills at the smallest tier that holds it. */
const TIERS: Record<string, [string, number][]> = {
    StandardSSD: [["E1", 4], ["E2", 8], ["E3", 16], ["E4", 32], ["E6", 64], ["E10", 128], ["E15", 256]],
    Premium: [["P4", 32], ["P6", 64], ["P10", 128], ["P15", 256]],
};

/** The tier a managed disk of `sizeGiB` bills at, e.g. (StandardSSD_ZRS, 20) → E4. */
export function diskTier(sku: string, sizeGiB: number): string | undefined {
    const family = sku.startsWith("StandardSSD") ? "StandardSSD" : sku.startsWith("Premium") ? "Premium" : undefined;
    return family === undefined ? undefined : TIERS[family].find(([, size]) => size >= sizeGiB)?.[0];
}

interface Pool {
    readonly name: string;
    readonly vmSize: string;
    readonly nodes: Range;
    readonly osDiskType?: string;
    readonly osDiskSizeGB?: number;
}

function poolOf(name: string, p: Record<string, unknown>): Pool | undefined {
    const vmSize = str(p.vmSize);
    if (vmSize === undefined) {
        return undefined;
    }
    const count = num(p.count) ?? 1;
    const nodes = bool(p.enableAutoScaling) === true ? range(num(p.minCount) ?? count, num(p.maxCount) ?? count) : range(count, count);
    return { name, vmSize, nodes, osDiskType: str(p.osDiskType), osDiskSizeGB: num(p.osDiskSizeGB) };
}

/** Prices a node pool: VMs and, unless the OS disk is ephemeral, one managed OS disk per node. */
function pricePool(r: NeutralResource, pool: Pool, ctx: PricingContext): void {
    const label = pool.nodes.atRest === pool.nodes.fullScale ? `${pool.nodes.atRest}` : `${pool.nodes.atRest}–${pool.nodes.fullScale}`;
    ctx.add(r, { group: "compute", description: `node pool ${pool.name}: ${label} × ${pool.vmSize}`, priceKey: `vm.${pool.vmSize}.hour`, quantity: ctx.perHour(pool.nodes) });
    const size = pool.osDiskSizeGB ?? DEFAULT_OS_DISK_GB;
    // AKS picks an ephemeral OS disk when none is requested and the VM's temp disk holds it; the
    // ephemeral disk is part of the VM price. Otherwise a Premium SSD managed disk per node.
    const ephemeral = pool.osDiskType === "Ephemeral" || (pool.osDiskType === undefined && tempDiskGiB(pool.vmSize) >= size);
    if (!ephemeral) {
        const tier = diskTier("Premium_LRS", size);
        ctx.add(r, {
            group: "storage",
            description: `managed OS disk per node (${size} GiB, Premium SSD ${tier ?? "?"})`,
            priceKey: `disk.Premium_LRS.${tier ?? `${size}GiB`}.month`,
            quantity: pool.nodes,
            note: pool.osDiskType === undefined ? `no osDiskType: ${pool.vmSize}'s ${tempDiskGiB(pool.vmSize)} GiB temp disk cannot hold a ${size} GiB ephemeral OS disk` : undefined,
        });
    }
}

const managedCluster: Pricer = (cluster, ctx) => {
    const tier = str(at(cluster.inputs, "sku.tier")) ?? "Free";
    ctx.add(cluster, { group: "cluster fees", description: `AKS ${tier} tier`, priceKey: `aks.tier.${tier}.hour`, quantity: ctx.perHour(1) });
    for (const profile of arr(cluster.inputs.agentPoolProfiles) ?? []) {
        const p = obj(profile) ?? {};
        const pool = poolOf(str(p.name) ?? "inline", p);
        if (!pool) {
            return notPriced("an agent pool profile without vmSize");
        }
        pricePool(cluster, pool, ctx);
    }
    const outbound = str(at(cluster.inputs, "networkProfile.outboundType")) ?? "loadBalancer";
    if (outbound === "loadBalancer") {
        // One Standard Load Balancer ("kubernetes") carries the outbound rule and every public
        // LoadBalancer Service's rules; the first 5 rules are in the hourly price.
        const entries = publicEntries(ctx);
        const rules = 1 + entries.reduce((sum, e) => sum + e.ports, 0);
        const outboundIps = num(at(cluster.inputs, "networkProfile.loadBalancerProfile.managedOutboundIPs.count")) ?? 1;
        ctx.add(cluster, { group: "load balancing", description: `Standard Load Balancer (outbound + ${entries.length} public entr${entries.length === 1 ? "y" : "ies"}, ${rules} rules)`, priceKey: "lb.standard.first5RulesHour", quantity: ctx.perHour(1) });
        if (rules > 5) {
            ctx.add(cluster, { group: "load balancing", description: `load-balancing rules above 5 (${rules - 5})`, priceKey: "lb.standard.extraRuleHour", quantity: ctx.perHour(rules - 5) });
        }
        ctx.add(cluster, {
            group: "load balancing",
            description: `data processed, ${ctx.assumptions.loadBalancerProcessedGb + ctx.assumptions.natProcessedGb} GB (assumptions loadBalancerProcessedGb + natProcessedGb)`,
            priceKey: "lb.standard.gb",
            quantity: ctx.assumptions.loadBalancerProcessedGb + ctx.assumptions.natProcessedGb,
        });
        ctx.add(cluster, { group: "NAT/egress", description: `outbound public IP(s) of the load balancer (${outboundIps})`, priceKey: "publicIp.standard.hour", quantity: ctx.perHour(outboundIps) });
    } else if (outbound === "managedNATGateway") {
        ctx.add(cluster, { group: "NAT/egress", description: "managed NAT gateway", priceKey: "natGateway.hour", quantity: ctx.perHour(1) });
        ctx.add(cluster, { group: "NAT/egress", description: `NAT data processed, ${ctx.assumptions.natProcessedGb} GB (assumption natProcessedGb)`, priceKey: "natGateway.gb", quantity: ctx.assumptions.natProcessedGb });
        ctx.add(cluster, { group: "NAT/egress", description: "NAT gateway public IP", priceKey: "publicIp.standard.hour", quantity: ctx.perHour(1) });
    }
    return PRICED;
};

const agentPool: Pricer = (r, ctx) => {
    const pool = poolOf(str(r.inputs.agentPoolName) ?? r.name, r.inputs as Record<string, unknown>);
    if (!pool) {
        return notPriced("vmSize unknown");
    }
    if (str(r.inputs.scaleSetPriority) === "Spot") {
        return notPriced("Spot node pools: the price varies; not in the snapshot");
    }
    pricePool(r, pool, ctx);
    return PRICED;
};

/** The sku of a PVC's disk: the class's `skuName` (disk.csi.azure.com), or AKS's default class `managed-csi` (StandardSSD_LRS). */
function azureDisk(pvc: NeutralResource, sizeGiB: number, sc: StorageClassInfo | undefined, ctx: PricingContext) {
    const builtIn: Record<string, string> = { default: "StandardSSD_LRS", "managed-csi": "StandardSSD_LRS", "managed-csi-premium": "Premium_LRS", managed: "StandardSSD_LRS", "managed-premium": "Premium_LRS" };
    const sku = str(sc?.parameters.skuName) ?? str(sc?.parameters.storageaccounttype) ?? builtIn[sc?.name ?? "default"];
    if (sku === undefined) {
        return notPriced(`storage class ${sc?.name} is not in the graph and not an AKS built-in`);
    }
    if (sc?.provisioner !== undefined && sc.provisioner !== "disk.csi.azure.com") {
        return notPriced(`provisioner ${sc.provisioner} is not priced (Azure Disk only)`);
    }
    const tier = diskTier(sku, sizeGiB);
    if (tier === undefined) {
        return notPriced(`no disk tier for ${sku} ${sizeGiB} GiB`);
    }
    ctx.add(pvc, { group: "storage", description: `managed disk ${sku} ${tier} for a ${sizeGiB} GiB claim`, priceKey: `disk.${sku}.${tier}.month`, quantity: 1 });
    return PRICED;
}

/** A public entry on AKS: its own public IP; its rules are counted on the cluster's load balancer. */
function azurePublicEntry(r: NeutralResource, entry: { kind: string; ports: number }, ctx: PricingContext) {
    ctx.add(r, { group: "load balancing", description: `public IP of the ${entry.kind === "proxy-lb" ? "gateway proxy's" : "Service's"} load-balancer frontend (${entry.ports} rule(s) on the cluster's load balancer)`, priceKey: "publicIp.standard.hour", quantity: ctx.perHour(1) });
    return PRICED;
}

export const AZURE_KUBERNETES: KubernetesCloud = { disk: azureDisk, publicEntry: azurePublicEntry };

const publicIp: Pricer = (ip, ctx) => {
    ctx.add(ip, { group: "NAT/egress", description: "public IP address (Standard)", priceKey: "publicIp.standard.hour", quantity: ctx.perHour(1) });
    return PRICED;
};

const natGateway: Pricer = (nat, ctx) => {
    const gateways = ctx.all(nat.type).length;
    ctx.add(nat, { group: "NAT/egress", description: "NAT gateway hours", priceKey: "natGateway.hour", quantity: ctx.perHour(1) });
    ctx.add(nat, { group: "NAT/egress", description: `data processed, ${ctx.assumptions.natProcessedGb} GB / ${gateways} gateway(s) (assumption natProcessedGb)`, priceKey: "natGateway.gb", quantity: ctx.assumptions.natProcessedGb / gateways });
    return PRICED;
};

const loadBalancer: Pricer = (lb, ctx) => {
    if (str(at(lb.inputs, "sku.name")) === "Basic") {
        return zero("Basic load balancers are free (and retired)");
    }
    const rules = arr(lb.inputs.loadBalancingRules)?.length ?? 0;
    ctx.add(lb, { group: "load balancing", description: `Standard Load Balancer (${rules} rules)`, priceKey: "lb.standard.first5RulesHour", quantity: ctx.perHour(1) });
    if (rules > 5) {
        ctx.add(lb, { group: "load balancing", description: `rules above 5 (${rules - 5})`, priceKey: "lb.standard.extraRuleHour", quantity: ctx.perHour(rules - 5) });
    }
    return PRICED;
};

const disk: Pricer = (d, ctx) => {
    const sku = str(at(d.inputs, "sku.name")) ?? "StandardSSD_LRS";
    const size = num(d.inputs.diskSizeGB);
    const tier = size === undefined ? undefined : diskTier(sku, size);
    if (tier === undefined) {
        return notPriced(`no tier for ${sku} ${size ?? "?"} GiB`);
    }
    ctx.add(d, { group: "storage", description: `managed disk ${sku} ${tier}`, priceKey: `disk.${sku}.${tier}.month`, quantity: 1 });
    return PRICED;
};

const privateEndpoint: Pricer = (pe, ctx) => {
    const endpoints = ctx.all(pe.type).length;
    ctx.add(pe, { group: "endpoints", description: "private endpoint", priceKey: "privateEndpoint.hour", quantity: ctx.perHour(1) });
    ctx.add(pe, { group: "endpoints", description: `data processed, ${ctx.assumptions.endpointProcessedGb} GB / ${endpoints} endpoint(s) (assumption endpointProcessedGb)`, priceKey: "privateEndpoint.gb", quantity: ctx.assumptions.endpointProcessedGb / endpoints });
    return PRICED;
};

const postgresFlexible: Pricer = (server, ctx) => {
    const sku = str(at(server.inputs, "sku.name"));
    if (sku === undefined) {
        return notPriced("sku unknown");
    }
    // A read replica (createMode Replica, e.g. another region's copy) bills like a server of its
    // own: compute and storage; it cannot have HA of its own.
    const replica = str(server.inputs.createMode) === "Replica";
    const mode = replica ? "Disabled" : (str(at(server.inputs, "highAvailability.mode")) ?? "Disabled");
    const copies = mode === "Disabled" ? 1 : 2;
    const size = num(at(server.inputs, "storage.storageSizeGB")) ?? 32;
    const ha = copies === 2 ? ` with ${mode} HA standby (× 2)` : "";
    const what = replica ? "PostgreSQL Flexible Server read replica" : "PostgreSQL Flexible Server";
    ctx.add(server, { group: "database", description: `${what} ${sku}${ha}`, priceKey: `postgres.flexible.${sku}.hour`, quantity: ctx.perHour(copies) });
    ctx.add(server, { group: "database", description: `PostgreSQL storage ${size} GB${copies === 2 ? " × 2" : ""}`, priceKey: "postgres.flexible.storage.gbMonth", quantity: size * copies });
    return PRICED;
};

/**
 * Whether a peering crosses regions (global peering). Regional only when both ends are virtual
 * networks of this graph in one location; an end outside the graph (another region stack's
 * network) or unknown in a preview counts as another region, the dearer case.
 */
function isGlobalPeering(peering: NeutralResource, ctx: PricingContext): boolean {
    const networks = ctx.all("azure-native:network:VirtualNetwork");
    const locationOf = (name: string | undefined) => (name === undefined ? undefined : str(networks.find((n) => str(n.inputs.virtualNetworkName) === name)?.inputs.location));
    const remoteName = str(at(peering.inputs, "remoteVirtualNetwork.id"))?.split("/").pop();
    const local = locationOf(str(peering.inputs.virtualNetworkName));
    const remote = locationOf(remoteName);
    return local === undefined || remote === undefined || local !== remote;
}

/**
 * VNet peering bills the data crossing it, on both sides: outbound from one network and inbound
 * to the other, per GB (global peering between regions costs more than within one). Each peering
 * is one direction's link; the stack's cross-region traffic is spread over its peerings.
 */
const vnetPeering: Pricer = (peering, ctx) => {
    const peerings = ctx.all(peering.type).length;
    const gb = ctx.assumptions.crossRegionGb / peerings;
    const global = isGlobalPeering(peering, ctx);
    const kind = global ? "global" : "regional";
    ctx.add(peering, { group: "NAT/egress", description: `VNet peering (${kind}) outbound data, ${ctx.assumptions.crossRegionGb} GB / ${peerings} peering(s) (assumption crossRegionGb)`, priceKey: `vnetPeering.${kind}.outboundGb`, quantity: gb });
    ctx.add(peering, { group: "NAT/egress", description: `VNet peering (${kind}) inbound data, the same GB`, priceKey: `vnetPeering.${kind}.inboundGb`, quantity: gb });
    return PRICED;
};

const frontDoorProfile: Pricer = (profile, ctx) => {
    const sku = str(at(profile.inputs, "sku.name"));
    const tier = sku === "Standard_AzureFrontDoor" ? "Standard" : sku === "Premium_AzureFrontDoor" ? "Premium" : undefined;
    if (tier === undefined) {
        return notPriced(`CDN profile sku ${sku ?? "unknown"} is not Front Door Standard/Premium`);
    }
    ctx.add(profile, { group: "global entry", description: `Front Door ${tier} base fee`, priceKey: `frontDoor.${tier}.month`, quantity: 1 });
    ctx.add(profile, { group: "global entry", description: `Front Door requests, ${ctx.assumptions.requestsMillion} M (assumption requestsMillion)`, priceKey: "frontDoor.millionRequests", quantity: ctx.assumptions.requestsMillion });
    ctx.add(profile, { group: "global entry", description: `Front Door edge-to-client transfer, ${ctx.assumptions.egressGb} GB (assumption egressGb)`, priceKey: "frontDoor.egressGb", quantity: ctx.assumptions.egressGb });
    return PRICED;
};

const privateDnsZone: Pricer = (zone, ctx) => {
    ctx.add(zone, { group: "DNS", description: "private DNS zone", priceKey: "privateDnsZone.month", quantity: 1 });
    return PRICED;
};

const metricAlert: Pricer = (rule, ctx) => {
    // Billed per time series the rule monitors; each rule here watches one metric of one server.
    const criteria = arr(at(rule.inputs, "criteria.allOf"))?.length ?? 1;
    ctx.add(rule, { group: "monitoring", description: `metric alert rule (${criteria} time series)`, priceKey: "monitor.metricAlert.seriesMonth", quantity: criteria });
    return PRICED;
};

const FREE_AZ = "a container for, or configuration of, other resources; no charge of its own";

const FREE_FD = {
    endpoint: "Front Door endpoints are included in the profile's base fee (Standard: up to 10 per profile)",
    originGroup: "origin groups (and their health probes) are included in the Front Door profile's base fee",
    origin: "origins are included in the Front Door profile's base fee",
} as const;

export const AZURE_PRICERS: Record<string, Pricer> = {
    "azure-native:containerservice:ManagedCluster": managedCluster,
    "azure-native:containerservice:AgentPool": agentPool,
    "azure-native:network:PublicIPAddress": publicIp,
    "azure-native:network:NatGateway": natGateway,
    "azure-native:network:LoadBalancer": loadBalancer,
    "azure-native:compute:Disk": disk,
    "azure-native:network:PrivateEndpoint": privateEndpoint,
    "azure-native:network:PrivateZone": privateDnsZone,
    "azure-native:privatedns:PrivateZone": privateDnsZone,
    "azure-native:monitor:MetricAlert": metricAlert,
    "azure-native:dbforpostgresql:Server": postgresFlexible,
    "azure-native:dbforpostgresql:FlexibleServer": postgresFlexible,
    "azure-native:cdn:Profile": frontDoorProfile,
    "azure-native:keyvault:Vault": () => zero("Key Vault Standard bills per operation only ($0.03 per 10,000); negligible here"),
    "azure-native:network:VirtualNetworkPeering": vnetPeering,
    // Front Door Standard/Premium: the profile's base fee covers its endpoints, origin groups,
    // origins, routes and rule sets; traffic and requests are priced on the profile.
    "azure-native:cdn:AFDEndpoint": () => zero(FREE_FD.endpoint),
    "azure-native:cdn:AFDOriginGroup": () => zero(FREE_FD.originGroup),
    "azure-native:cdn:AFDOrigin": () => zero(FREE_FD.origin),
    "azure-native:cdn:AFDCustomDomain": () => zero("custom domains (and their managed certificates) are included in the Front Door profile"),
    "azure-native:cdn:Route": () => zero("routes are included in the Front Door profile's base fee"),
    "azure-native:cdn:RuleSet": () => zero("rule sets are included in the profile's base fee (Standard: up to 100 rules)"),
    "azure-native:cdn:Rule": () => zero("rules are included in the profile's base fee (Standard: up to 100 rules)"),
    "azure-native:cdn:SecurityPolicy": () =>
        zero("a WAF security policy is included in Front Door Standard/Premium (custom rules on Standard, managed rule sets on Premium); no per-policy or per-rule fee as on classic Front Door"),
    "azure-native:network:Policy": () =>
        zero("a Front Door WAF policy: included in the Standard/Premium tier (the classic tier's per-policy and per-rule fees do not apply)"),
    "azure-native:authorization:RoleDefinition": () => zero("custom role definitions are free"),
};

export const AZURE_FREE_PREFIXES: Record<string, string> = {
    "azure-native:resources:ResourceGroup": FREE_AZ,
    "azure-native:network:VirtualNetwork": "virtual networks are free (peering and traffic are not in this program)",
    "azure-native:network:Subnet": FREE_AZ,
    "azure-native:network:NetworkSecurityGroup": FREE_AZ,
    "azure-native:network:SecurityRule": FREE_AZ,
    "azure-native:network:RouteTable": FREE_AZ,
    "azure-native:managedidentity:": "managed identities are free",
    "azure-native:authorization:RoleAssignment": "role assignments are free",
    "azure-native:authorization:ManagementLock": "management locks are free",
    "azure-native:dbforpostgresql:Database": FREE_AZ,
    "azure-native:dbforpostgresql:Configuration": FREE_AZ,
    "azure-native:dbforpostgresql:FirewallRule": FREE_AZ,
    "azure-native:dbforpostgresql:VirtualEndpoint": "virtual endpoints are included in the server price",
    "azure-native:privatedns:RecordSet": FREE_AZ,
    "azure-native:privatedns:VirtualNetworkLink": FREE_AZ,
};

/** AKS and Front Door serve users over the internet. */
export function azureHasPublicEntry(ctx: PricingContext): boolean {
    return publicEntries(ctx).length > 0 && ctx.all("azure-native:cdn:Profile").length === 0;
}
