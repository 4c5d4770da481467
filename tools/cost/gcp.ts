/**
 * GCP: the GKE cluster fee (and the free-tier credit, which only zonal and Autopilot clusters
 * get), node VMs and boot disks across the pool's zones, Cloud NAT (per VM behind it, capped) and
 * its address, the Gateway's forwarding rules, persistent disks behind PersistentVolumeClaims,
 * Cloud SQL (Enterprise and Enterprise Plus, read replicas and their cross-region replication),
 * and the multi-cluster Gateway's backend pods.
 */
import type { KubernetesCloud, PublicEntry, StorageClassInfo } from "./kubernetes";
import { PRICED, arr, at, bool, notPriced, num, obj, range, str, zero, type NeutralResource, type Pricer, type PricingContext, type Range } from "./model";

/** `europe-west1-b` is a zone, `europe-west1` a region. */
function isZone(location: string): boolean {
    return /^[a-z]+-[a-z]+\d+-[a-z]$/.test(location);
}

function regionOf(location: string | undefined, ctx: PricingContext): string {
    if (location === undefined) {
        return ctx.region;
    }
    return isZone(location) ? location.slice(0, location.lastIndexOf("-")) : location;
}

function clusterOf(pool: NeutralResource, ctx: PricingContext): NeutralResource | undefined {
    const clusters = ctx.all("gcp:container/cluster:Cluster");
    const name = str(pool.inputs.cluster);
    return clusters.find((c) => name !== undefined && (c.inputs.name === name || name.endsWith(`/${String(c.inputs.name)}`))) ?? (clusters.length === 1 ? clusters[0] : undefined);
}

/** The zones a pool's nodes are in: its node locations, the cluster's, one for a zonal cluster, else the assumption. */
function zonesOf(pool: NeutralResource, ctx: PricingContext): number {
    const cluster = clusterOf(pool, ctx);
    const listed = arr(pool.inputs.nodeLocations) ?? arr(cluster?.inputs.nodeLocations);
    if (listed && listed.length > 0) {
        return listed.length;
    }
    const location = str(pool.inputs.location) ?? str(cluster?.inputs.location);
    return location !== undefined && isZone(location) ? 1 : ctx.assumptions.zonesPerRegion;
}

/** Nodes of a pool at rest and at full scale (per-zone counts × zones, or the total counts). */
export function poolNodes(pool: NeutralResource, ctx: PricingContext): Range {
    const zones = zonesOf(pool, ctx);
    const autoscaling = at(pool.inputs, "autoscaling");
    if (autoscaling) {
        const totalMin = num(at(autoscaling, "totalMinNodeCount"));
        const totalMax = num(at(autoscaling, "totalMaxNodeCount"));
        if (totalMin !== undefined || totalMax !== undefined) {
            return range(totalMin ?? 0, totalMax ?? totalMin ?? 0);
        }
        return range((num(at(autoscaling, "minNodeCount")) ?? 0) * zones, (num(at(autoscaling, "maxNodeCount")) ?? 0) * zones);
    }
    const count = (num(pool.inputs.nodeCount) ?? num(pool.inputs.initialNodeCount) ?? 1) * zones;
    return range(count, count);
}

/** Every node of the graph's clusters (Cloud NAT bills per VM behind it). */
function allNodes(ctx: PricingContext): Range {
    const pools = ctx.all("gcp:container/nodePool:NodePool").map((p) => poolNodes(p, ctx));
    for (const cluster of ctx.all("gcp:container/cluster:Cluster")) {
        if (bool(cluster.inputs.removeDefaultNodePool) !== true && bool(cluster.inputs.enableAutopilot) !== true) {
            pools.push(poolNodes(cluster, ctx));
        }
    }
    return pools.reduce((sum, r) => range(sum.atRest + r.atRest, sum.fullScale + r.fullScale), range(0, 0));
}

function priceNodes(r: NeutralResource, poolName: string, nodes: Range, nodeConfig: unknown, ctx: PricingContext, region: string): ReturnType<Pricer> {
    const machineType = str(at(nodeConfig, "machineType")) ?? "e2-medium";
    const spot = bool(at(nodeConfig, "spot")) === true || bool(at(nodeConfig, "preemptible")) === true;
    const label = nodes.atRest === nodes.fullScale ? `${nodes.atRest}` : `${nodes.atRest}–${nodes.fullScale}`;
    ctx.add(r, {
        group: "compute",
        description: `node pool ${poolName}: ${label} × ${machineType}`,
        priceKey: `vm.${machineType}.hour`,
        quantity: ctx.perHour(nodes),
        region,
        note: spot ? "Spot/preemptible nodes priced at the on-demand rate (an upper bound)" : undefined,
    });
    const diskGb = num(at(nodeConfig, "diskSizeGb")) ?? 100;
    const diskType = str(at(nodeConfig, "diskType")) ?? "pd-balanced";
    ctx.add(r, { group: "storage", description: `boot disk per node (${diskGb} GB ${diskType})`, priceKey: `disk.${diskType}.gbMonth`, quantity: range(nodes.atRest * diskGb, nodes.fullScale * diskGb), region });
    return PRICED;
}

const cluster: Pricer = (c, ctx) => {
    const location = str(c.inputs.location) ?? ctx.region;
    const region = regionOf(location, ctx);
    if (bool(c.inputs.enableAutopilot) === true) {
        ctx.add(c, { group: "cluster fees", description: "GKE cluster management fee (Autopilot)", priceKey: "gke.cluster.hour", quantity: ctx.perHour(1), region });
        ctx.notes.add(`${c.name}: Autopilot bills per pod resource request; pods are not priced`);
        return PRICED;
    }
    ctx.add(c, { group: "cluster fees", description: `GKE cluster management fee (${isZone(location) ? "zonal" : "regional"})`, priceKey: "gke.cluster.hour", quantity: ctx.perHour(1), region });
    if (isZone(location)) {
        // The free tier's credit is per billing account and covers one zonal or Autopilot cluster.
        const fee = ctx.price("gke.cluster.hour", region).usd * ctx.hours;
        const credit = Math.min(fee, ctx.price("gke.freeTierCredit.month", region).usd);
        ctx.add(c, { group: "cluster fees", description: "GKE free tier credit (one zonal cluster per billing account)", priceKey: "gke.freeTierCredit.month", quantity: -credit / ctx.price("gke.freeTierCredit.month", region).usd, region });
    } else {
        ctx.notes.add(`${c.name}: a regional GKE cluster gets no free-tier credit (it covers zonal and Autopilot clusters only)`);
    }
    if (bool(c.inputs.removeDefaultNodePool) !== true) {
        priceNodes(c, "default-pool", poolNodes(c, ctx), c.inputs.nodeConfig, ctx, region);
    }
    ctx.add(c, {
        group: "monitoring",
        description: `Cloud Logging above the free ${ctx.price("logging.freeGb", region).usd} GiB, ${ctx.assumptions.logIngestGb} GiB ingested (assumption logIngestGb)`,
        priceKey: "logging.ingestGb",
        quantity: Math.max(0, ctx.assumptions.logIngestGb - ctx.price("logging.freeGb", region).usd),
        region,
    });
    return PRICED;
};

const nodePool: Pricer = (pool, ctx) => {
    const c = clusterOf(pool, ctx);
    const region = regionOf(str(pool.inputs.location) ?? str(c?.inputs.location), ctx);
    return priceNodes(pool, str(pool.inputs.name) ?? str(pool.inputs.namePrefix) ?? pool.name, poolNodes(pool, ctx), pool.inputs.nodeConfig, ctx, region);
};

const routerNat: Pricer = (nat, ctx) => {
    const region = str(nat.inputs.region) ?? ctx.region;
    const nodes = allNodes(ctx);
    // The uptime charge is per VM behind the gateway, capped (the cap is reached at about 32 VMs).
    const perVm = ctx.price("cloudNat.vmHour", region).usd;
    const capVms = ctx.price("cloudNat.maxHour", region).usd / perVm;
    const vms = range(Math.min(nodes.atRest, capVms), Math.min(nodes.fullScale, capVms));
    ctx.add(nat, { group: "NAT/egress", description: `Cloud NAT uptime, ${nodes.atRest}–${nodes.fullScale} VMs behind it (capped at ${capVms.toFixed(1)})`, priceKey: "cloudNat.vmHour", quantity: ctx.perHour(vms), region });
    ctx.add(nat, { group: "NAT/egress", description: `Cloud NAT data processed, ${ctx.assumptions.natProcessedGb} GiB (assumption natProcessedGb)`, priceKey: "cloudNat.gb", quantity: ctx.assumptions.natProcessedGb, region });
    if (str(nat.inputs.natIpAllocateOption) !== "MANUAL_ONLY") {
        ctx.add(nat, { group: "NAT/egress", description: "auto-allocated NAT IP address (one suffices at this size)", priceKey: "externalIp.hour", quantity: ctx.perHour(1), region });
    }
    return PRICED;
};

const address: Pricer = (a, ctx) => {
    if (str(a.inputs.addressType) === "INTERNAL") {
        return zero("internal addresses are free");
    }
    ctx.add(a, { group: "NAT/egress", description: "external IP address (priced as in use)", priceKey: "externalIp.hour", quantity: ctx.perHour(1), region: str(a.inputs.region) ?? ctx.region });
    return PRICED;
};

const disk: Pricer = (d, ctx) => {
    const size = num(d.inputs.size);
    const type = str(d.inputs.type) ?? "pd-standard";
    if (size === undefined) {
        return notPriced("disk size unknown (from an image or snapshot?)");
    }
    ctx.add(d, { group: "storage", description: `${type} ${size} GB`, priceKey: `disk.${type}.gbMonth`, quantity: size });
    return PRICED;
};

const managedZone: Pricer = (z, ctx) => {
    ctx.add(z, { group: "DNS", description: "Cloud DNS managed zone", priceKey: "dns.zoneMonth", quantity: 1 });
    return PRICED;
};

/** vCPUs and GB of memory of a Cloud SQL machine tier, for the tiers billed per vCPU and GB. */
export function sqlMachine(tier: string): { vcpu: number; gb: number } | undefined {
    const custom = /^db-custom-(\d+)-(\d+)$/.exec(tier);
    if (custom) {
        return { vcpu: Number(custom[1]), gb: Number(custom[2]) / 1024 };
    }
    // Enterprise Plus N2 tiers: 8 GB per vCPU (performance-optimized), 32 GB (memory-optimized).
    const perf = /^db-perf-optimized-N-(\d+)$/.exec(tier);
    if (perf) {
        return { vcpu: Number(perf[1]), gb: Number(perf[1]) * 8 };
    }
    const mem = /^db-memory-optimized-N-(\d+)$/.exec(tier);
    if (mem) {
        return { vcpu: Number(mem[1]), gb: Number(mem[1]) * 32 };
    }
    return undefined;
}

const SQL_EDITIONS: Record<string, string> = { ENTERPRISE: "enterprise", ENTERPRISE_PLUS: "enterprisePlus" };

/**
 * Cloud SQL: vCPU-hours and GB-hours at the edition's rates (custom tiers, Enterprise Plus N2
 * tiers) or a price per instance (shared-core tiers), × 2 for regional HA, plus storage. A read
 * replica bills the same way (its own HA, its own disk); a replica of a primary outside the graph
 * (another region's stack) also carries the replication traffic between the regions.
 */
const sqlInstance: Pricer = (db, ctx) => {
    const settings = at(db.inputs, "settings");
    const tier = str(at(settings, "tier"));
    const edition = str(at(settings, "edition")) ?? "ENTERPRISE";
    const rates = SQL_EDITIONS[edition];
    if (tier === undefined || rates === undefined) {
        return notPriced(`Cloud SQL ${edition} ${tier ?? "tier unknown"} is not in the snapshot`);
    }
    const region = str(db.inputs.region) ?? ctx.region;
    const copies = str(at(settings, "availabilityType")) === "REGIONAL" ? 2 : 1;
    const ha = copies === 2 ? " regional HA (× 2)" : "";
    const master = str(db.inputs.masterInstanceName);
    const replica = master !== undefined || str(db.inputs.instanceType) === "READ_REPLICA_INSTANCE";
    const label = `Cloud SQL ${edition === "ENTERPRISE_PLUS" ? "Enterprise Plus " : ""}${replica ? "read replica " : ""}${tier}`;
    const machine = sqlMachine(tier);
    if (machine) {
        ctx.add(db, { group: "database", description: `${label} vCPU × ${machine.vcpu}${ha}`, priceKey: `cloudsql.${rates}.vcpuHour`, quantity: ctx.perHour(machine.vcpu * copies), region });
        ctx.add(db, { group: "database", description: `${label} memory ${machine.gb} GB${ha}`, priceKey: `cloudsql.${rates}.gbHour`, quantity: ctx.perHour(machine.gb * copies), region });
    } else if (edition === "ENTERPRISE") {
        ctx.add(db, { group: "database", description: `${label}${ha}`, priceKey: `cloudsql.${tier}.hour`, quantity: ctx.perHour(copies), region });
    } else {
        return notPriced(`Cloud SQL ${edition} tier ${tier} is not known to the estimator`);
    }
    if (edition === "ENTERPRISE_PLUS" && bool(at(settings, "dataCacheConfig.dataCacheEnabled")) === true) {
        ctx.notes.add(`${db.name}: Enterprise Plus data cache is on; its SSD (sized by the machine tier) is billed per GB-month and not priced`);
    }
    const size = num(at(settings, "diskSize")) ?? 10;
    const diskType = str(at(settings, "diskType")) === "PD_HDD" ? "hdd" : "ssd";
    const autoresize = bool(at(settings, "diskAutoresize")) !== false;
    const grown = autoresize ? Math.max(size, ctx.assumptions.dbStorageGb + ctx.assumptions.storageGrowthGbPerMonth * ctx.assumptions.horizonMonths) : size;
    ctx.add(db, { group: "database", description: `Cloud SQL ${diskType.toUpperCase()} storage, ${size} GB${autoresize && grown > size ? ` (full scale: grown to ${grown} GB)` : ""}${copies === 2 ? " × 2" : ""}`, priceKey: `cloudsql.${diskType}.gbMonth`, quantity: range(size * copies, grown * copies), region });
    const masterInGraph = master !== undefined && ctx.all(db.type).some((other) => other !== db && str(other.inputs.name) === master);
    if (replica && !masterInGraph) {
        // The primary is another region stack's: its WAL crosses regions (billed as inter-region egress).
        ctx.add(db, {
            group: "database",
            description: `replication from the primary in another region, ${ctx.assumptions.crossRegionGb} GB (assumption crossRegionGb)`,
            priceKey: "network.interRegion.gb",
            quantity: ctx.assumptions.crossRegionGb,
            region,
        });
    }
    return PRICED;
};

/** GKE's built-in classes: `standard-rwo` (the default) and `premium-rwo` are pd-balanced / pd-ssd; `standard` is pd-standard. */
function gcpDisk(pvc: NeutralResource, sizeGiB: number, sc: StorageClassInfo | undefined, ctx: PricingContext) {
    const builtIn: Record<string, string> = { default: "pd-balanced", "standard-rwo": "pd-balanced", "premium-rwo": "pd-ssd", standard: "pd-standard" };
    const type = str(sc?.parameters.type) ?? builtIn[sc?.name ?? "default"];
    if (type === undefined) {
        return notPriced(`storage class ${sc?.name} is not in the graph and not a GKE built-in`);
    }
    const replicated = str(sc?.parameters["replication-type"]) === "regional-pd";
    ctx.add(pvc, {
        group: "storage",
        description: `persistent disk ${type}${replicated ? " (regional, × 2)" : ""} for a ${sizeGiB} GiB claim`,
        priceKey: `disk.${type}.gbMonth`,
        quantity: sizeGiB * (replicated ? 2 : 1),
    });
    return PRICED;
}

/** A Gateway or LoadBalancer Service on GKE: forwarding rules (one per port) and the data it processes. */
function gcpPublicEntry(r: NeutralResource, entry: PublicEntry, ctx: PricingContext) {
    const entries = ctx.all("kubernetes:gateway.networking.k8s.io/v1:Gateway").length + ctx.all("kubernetes:core/v1:Service").filter((s) => at(s.inputs, "spec.type") === "LoadBalancer").length;
    const rules = entry.ports;
    if (entry.gatewayClass?.includes("regional")) {
        // Regional Envoy-based load balancers also bill their proxy instances, which scale with traffic.
        ctx.notes.add(`${r.name}: ${entry.gatewayClass} also bills proxy instances per hour; they are not priced`);
    }
    ctx.add(r, { group: "load balancing", description: `${entry.kind === "cloud-l7" ? `${entry.gatewayClass} load balancer` : "network load balancer"}: ${rules} forwarding rule(s) (first 5 in one price)`, priceKey: "lb.forwardingRules.first5Hour", quantity: ctx.perHour(1) });
    if (rules > 5) {
        ctx.add(r, { group: "load balancing", description: `forwarding rules above 5 (${rules - 5})`, priceKey: "lb.forwardingRules.extraHour", quantity: ctx.perHour(rules - 5) });
    }
    ctx.add(r, { group: "load balancing", description: `data processed, ${ctx.assumptions.loadBalancerProcessedGb} GB / ${entries} entr${entries === 1 ? "y" : "ies"} (assumption loadBalancerProcessedGb)`, priceKey: "lb.processedGb", quantity: ctx.assumptions.loadBalancerProcessedGb / Math.max(1, entries) });
    return PRICED;
}

export const GCP_KUBERNETES: KubernetesCloud = { disk: gcpDisk, publicEntry: gcpPublicEntry };

const FREE_GCP = "a network, identity or configuration object; no charge of its own";

/**
 * Pods of a Helm release of the app chart: its autoscaling range, else its replica count. A
 * preview hides the values when any of them is an output; the stack's scaling (a hint from its
 * config) stands in then.
 */
function releasePods(release: NeutralResource, ctx: PricingContext): Range | undefined {
    const values = obj(at(release.inputs, "values"));
    if (values === undefined) {
        return ctx.hints.appReplicas;
    }
    if (bool(at(values, "autoscaling.enabled")) === true) {
        const min = num(at(values, "autoscaling.minReplicas")) ?? 1;
        return range(min, num(at(values, "autoscaling.maxReplicas")) ?? min);
    }
    const count = num(at(values, "replicaCount")) ?? 1;
    return range(count, count);
}

/**
 * A Service exported to the fleet (Multi-cluster Services). Its pods are backends of the fleet's
 * multi-cluster Gateway, which without GKE Enterprise bills per backend pod-hour (standalone
 * pricing); with GKE Enterprise the per-vCPU Enterprise fee covers it instead (not priced here).
 * The exports of the app's slots carry the slots' pods; another export selecting the same pods (a
 * region's own probe Service) adds none.
 */
const serviceExport: Pricer = (exp, ctx) => {
    if (ctx.all("gcp:gkehub/membership:Membership").length === 0) {
        return zero("no fleet membership in this graph: Multi-cluster Services alone has no fee of its own");
    }
    const name = str(at(exp.inputs, "metadata.name"));
    const release = ctx.all("kubernetes:helm.sh/v3:Release").find((r) => name !== undefined && str(r.inputs.name) === name);
    if (!release) {
        return zero("an export of pods already counted on the slots' exports (one backend pod bills once)");
    }
    const pods = releasePods(release, ctx);
    if (pods === undefined) {
        return notPriced(`the replica range of ${name} is unknown here (chart values computed in a preview, and no apfa:scaling hint)`);
    }
    ctx.add(exp, {
        group: "global entry",
        description: `multi-cluster Gateway backend pods of ${name}, ${pods.atRest === pods.fullScale ? pods.atRest : `${pods.atRest}–${pods.fullScale}`} (standalone pricing, no GKE Enterprise)`,
        priceKey: "gke.multiClusterGateway.backendPodHour",
        quantity: ctx.perHour(pods),
    });
    return PRICED;
};

/** Fleet features: the multi-cluster ones bill through their backends and load balancer, not per feature. */
const fleetFeature: Pricer = (feature) => {
    const name = str(feature.inputs.name);
    if (name === "multiclusterservicediscovery") {
        return zero("Multi-cluster Services has no fee of its own (the DNS records it keeps are not priced)");
    }
    if (name === "multiclusteringress") {
        return zero("the multi-cluster Gateway controller: its backend pods are priced on the ServiceExports, its load balancer on the Gateway");
    }
    return notPriced(`fleet feature ${name ?? "unknown"} is not known to the estimator`);
};

const alertPolicy: Pricer = (policy, ctx) => {
    // Cloud Monitoring bills alerting per condition (plus time series scanned, negligible for one instance's metrics).
    const conditions = arr(policy.inputs.conditions)?.length ?? 1;
    ctx.add(policy, { group: "monitoring", description: `alerting policy (${conditions} condition(s))`, priceKey: "monitoring.alertCondition.month", quantity: conditions });
    return PRICED;
};

export const GCP_PRICERS: Record<string, Pricer> = {
    "gcp:monitoring/alertPolicy:AlertPolicy": alertPolicy,
    "gcp:container/cluster:Cluster": cluster,
    "gcp:container/nodePool:NodePool": nodePool,
    "gcp:compute/routerNat:RouterNat": routerNat,
    "gcp:compute/address:Address": address,
    "gcp:compute/globalAddress:GlobalAddress": address,
    "gcp:compute/disk:Disk": disk,
    "gcp:dns/managedZone:ManagedZone": managedZone,
    "gcp:sql/databaseInstance:DatabaseInstance": sqlInstance,
    "gcp:compute/router:Router": () => zero("Cloud Routers are free (the NAT on them is priced)"),
    "gcp:gkehub/membership:Membership": () => zero("fleet membership is included in GKE (Standard edition) at no extra cost"),
    "gcp:gkehub/feature:Feature": fleetFeature,
    "kubernetes:net.gke.io/v1:ServiceExport": serviceExport,
    "gcp:certificatemanager/certificate:Certificate": () => zero("Google-managed certificates: the first 100 per project are free"),
    "gcp:certificatemanager/certificateMap:CertificateMap": () => zero("certificate maps are free"),
    "gcp:certificatemanager/certificateMapEntry:CertificateMapEntry": () => zero("the first 100 map entries per project are free"),
    "gcp:certificatemanager/dnsAuthorization:DnsAuthorization": () => zero("DNS authorisations are free"),
};

export const GCP_FREE_PREFIXES: Record<string, string> = {
    "gcp:compute/network:": FREE_GCP,
    "gcp:compute/subnetwork:": FREE_GCP,
    "gcp:compute/firewall": FREE_GCP,
    "gcp:serviceaccount/": "service accounts are free",
    "gcp:projects/iAM": "IAM is free",
    "gcp:projects/service:": "enabling an API is free",
    "gcp:dns/recordSet:": "records are free (queries are priced per million)",
    "gcp:sql/database:": "databases are in the instance price",
    "gcp:sql/user:": "users are in the instance price",
    "gcp:servicenetworking/connection:": "private services access peering is free (traffic over it is not priced)",
};
