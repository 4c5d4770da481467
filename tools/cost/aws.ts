/**
 * AWS: what each resource type of the program bills, read from its inputs in the plan.
 *
 * Price dimensions (AWS pricing pages; figures in tools/cost/prices/aws-<region>.json):
 * Fargate vCPU-h + GB-h per running task; ALB hour + LCU-hour; NAT gateway hour + GB; public IPv4
 * per address-hour (every EIP, every internet-facing ALB node, every task with a public IP);
 * interface endpoints per ENI-hour (one per subnet, i.e. per AZ) + GB; CloudWatch Logs GB ingested
 * + stored; Secrets Manager per secret and per replica (in the replica's region); KMS per key;
 * Route 53 per zone and per health check (AWS endpoint or not) + optional features; Cloud Map per
 * registered instance; Aurora per ACU-hour or instance-hour + storage + I/O, and a global
 * database's secondary also per replicated write I/O; SSM advanced parameters per month.
 */
import {
    PRICED,
    UNKNOWN,
    arr,
    at,
    bool,
    notPriced,
    num,
    obj,
    range,
    str,
    times,
    zero,
    type NeutralResource,
    type Pricer,
    type PricingContext,
    type Range,
} from "./model";

/** AWS v7 resources may name their own region; otherwise the stack's. */
function regionOf(r: NeutralResource, ctx: PricingContext): string {
    return str(r.inputs.region) ?? ctx.region;
}

/** The scalable target of an ECS service: `service/<cluster>/<service name>` (known in previews too). */
function scalingRange(service: NeutralResource, ctx: PricingContext): Range | undefined {
    const name = str(service.inputs.name);
    if (name === undefined) {
        return undefined;
    }
    for (const target of ctx.all("aws:appautoscaling/target:Target")) {
        const resourceId = str(target.inputs.resourceId);
        if (target.inputs.serviceNamespace === "ecs" && resourceId?.endsWith(`/${name}`)) {
            const min = num(target.inputs.minCapacity);
            const max = num(target.inputs.maxCapacity);
            if (min !== undefined && max !== undefined) {
                return range(min, max);
            }
        }
    }
    return undefined;
}

/**
 * The task definition a service runs: by ARN (`…:task-definition/<family>:<revision>`) in a plan,
 * by family = service name in a preview (where the ARN is unknown), or the only one there is.
 */
function taskDefinitionOf(service: NeutralResource, ctx: PricingContext): NeutralResource | undefined {
    const defs = ctx.all("aws:ecs/taskDefinition:TaskDefinition");
    const arn = str(service.inputs.taskDefinition);
    const family = arn?.match(/task-definition\/([^:]+)(:\d+)?$/)?.[1] ?? arn;
    const byFamily = (f: string | undefined) => (f === undefined ? undefined : defs.find((d) => d.inputs.family === f));
    return byFamily(family) ?? byFamily(str(service.inputs.name)) ?? (defs.length === 1 ? defs[0] : undefined);
}

/** The tasks a service runs: its autoscaling range, else its desired count in both scenarios. */
export function ecsTaskRange(service: NeutralResource, ctx: PricingContext): Range {
    const scaling = scalingRange(service, ctx);
    if (scaling) {
        return scaling;
    }
    const desired = num(service.inputs.desiredCount) ?? 1;
    return range(desired, desired);
}

const ecsService: Pricer = (service, ctx) => {
    const launchType = str(service.inputs.launchType);
    const providers = (arr(service.inputs.capacityProviderStrategies) ?? []).map((s) => str(obj(s)?.capacityProvider));
    const onFargate = launchType === "FARGATE" || (launchType === undefined && providers.length > 0 && providers.every((p) => p === "FARGATE"));
    if (!onFargate) {
        return notPriced(
            providers.includes("FARGATE_SPOT")
                ? "Fargate Spot capacity: its discount varies by hour and region; not in the snapshot"
                : "not on Fargate: the tasks run on EC2 capacity the program does not create",
        );
    }
    const task = taskDefinitionOf(service, ctx);
    if (!task) {
        return notPriced("its task definition is not in the graph");
    }
    const vcpu = (num(task.inputs.cpu) ?? NaN) / 1024;
    const memoryGb = (num(task.inputs.memory) ?? NaN) / 1024;
    if (!Number.isFinite(vcpu) || !Number.isFinite(memoryGb)) {
        return notPriced(`task definition ${task.name} has no task-level cpu and memory`);
    }
    const arch = str(at(task.inputs, "runtimePlatform.cpuArchitecture")) === "ARM64" ? "arm64" : "x86_64";
    const tasks = ecsTaskRange(service, ctx);
    const taskHours = ctx.perHour(tasks);
    const region = regionOf(service, ctx);
    const label = `${tasks.atRest === tasks.fullScale ? tasks.atRest : `${tasks.atRest}–${tasks.fullScale}`} task(s)`;
    ctx.add(service, { group: "compute", description: `Fargate ${arch} vCPU, ${label} × ${vcpu} vCPU`, priceKey: `fargate.${arch}.vcpuHour`, quantity: times(taskHours, vcpu), region });
    ctx.add(service, { group: "compute", description: `Fargate ${arch} memory, ${label} × ${memoryGb} GB`, priceKey: `fargate.${arch}.gbHour`, quantity: times(taskHours, memoryGb), region });
    const ephemeralGb = num(at(task.inputs, "ephemeralStorage.sizeInGib"));
    if (ephemeralGb !== undefined && ephemeralGb > 20) {
        ctx.add(service, { group: "storage", description: `Fargate ephemeral storage above 20 GB, ${label} × ${ephemeralGb - 20} GB`, priceKey: "fargate.ephemeralStorageGbHour", quantity: times(taskHours, ephemeralGb - 20), region });
    }
    if (bool(at(service.inputs, "networkConfiguration.assignPublicIp")) === true) {
        ctx.add(service, { group: "NAT/egress", description: `public IPv4 address per task, ${label}`, priceKey: "publicIpv4.hour", quantity: taskHours, region });
    }
    if (obj(service.inputs.serviceRegistries) || (arr(service.inputs.serviceRegistries)?.length ?? 0) > 0) {
        ctx.add(service, { group: "DNS", description: `Cloud Map registered instances, ${label}`, priceKey: "cloudMap.instanceMonth", quantity: tasks, region });
    }
    return PRICED;
};

const ecsCluster: Pricer = (cluster, ctx) => {
    const settings = arr(cluster.inputs.settings) ?? [];
    const insights = settings.map(obj).find((s) => s?.name === "containerInsights");
    const mode = str(insights?.value);
    if (mode === "enabled" || mode === "enhanced") {
        ctx.add(cluster, {
            group: "monitoring",
            description: `Container Insights (${mode}) performance events, ${ctx.assumptions.containerInsightsGb} GB (assumption containerInsightsGb)`,
            priceKey: "cloudwatch.logs.ingestGb",
            quantity: ctx.assumptions.containerInsightsGb,
            region: regionOf(cluster, ctx),
        });
        return PRICED;
    }
    return zero("an ECS cluster costs nothing itself; its tasks are priced on the services");
};

/** Subnets (one node / ENI per AZ); in a preview the IDs are unknown but their count is not. */
function subnetCount(r: NeutralResource, key: string, ctx: PricingContext): number {
    const subnets = arr(r.inputs[key]);
    if (subnets) {
        return subnets.length;
    }
    const mappings = arr(r.inputs.subnetMappings);
    if (mappings) {
        return mappings.length;
    }
    ctx.notes.add(`${r.name}: subnet list unknown, priced for ${ctx.assumptions.zonesPerRegion} zones (assumption zonesPerRegion)`);
    return ctx.assumptions.zonesPerRegion;
}

const loadBalancer: Pricer = (lb, ctx) => {
    const kind = str(lb.inputs.loadBalancerType) ?? "application";
    const region = regionOf(lb, ctx);
    const zones = subnetCount(lb, "subnets", ctx);
    if (kind === "application") {
        ctx.add(lb, { group: "load balancing", description: "Application Load Balancer hours", priceKey: "alb.hour", quantity: ctx.perHour(1), region });
        ctx.add(lb, {
            group: "load balancing",
            description: `ALB capacity units (assumptions albLcuAtRest ${ctx.assumptions.albLcuAtRest}, albLcuFullScale ${ctx.assumptions.albLcuFullScale} LCU on average)`,
            priceKey: "alb.lcuHour",
            quantity: ctx.perHour(range(ctx.assumptions.albLcuAtRest, ctx.assumptions.albLcuFullScale)),
            region,
        });
    } else if (kind === "network") {
        ctx.add(lb, { group: "load balancing", description: "Network Load Balancer hours", priceKey: "nlb.hour", quantity: ctx.perHour(1), region });
        ctx.add(lb, { group: "load balancing", description: "NLB capacity units (assumed as the ALB LCU assumptions)", priceKey: "nlb.nlcuHour", quantity: ctx.perHour(range(ctx.assumptions.albLcuAtRest, ctx.assumptions.albLcuFullScale)), region });
    } else {
        return notPriced(`load balancer type ${kind} is not in the snapshot`);
    }
    if (bool(lb.inputs.internal) !== true && str(lb.inputs.ipAddressType) !== "dualstack-without-public-ipv4") {
        ctx.add(lb, { group: "load balancing", description: `public IPv4 addresses, one per zone (${zones})`, priceKey: "publicIpv4.hour", quantity: ctx.perHour(zones), region });
    }
    return PRICED;
};

const natGateway: Pricer = (nat, ctx) => {
    const region = regionOf(nat, ctx);
    const gateways = ctx.all(nat.type).length;
    ctx.add(nat, { group: "NAT/egress", description: "NAT gateway hours", priceKey: "natGateway.hour", quantity: ctx.perHour(1), region });
    // The stack's NAT traffic is one assumption, spread over its gateways: a gateway more adds its
    // hours, not traffic.
    ctx.add(nat, {
        group: "NAT/egress",
        description: `data processed, ${ctx.assumptions.natProcessedGb} GB / ${gateways} gateway(s) (assumption natProcessedGb)`,
        priceKey: "natGateway.gb",
        quantity: ctx.assumptions.natProcessedGb / gateways,
        region,
    });
    return PRICED;
};

const eip: Pricer = (address, ctx) => {
    ctx.add(address, { group: "NAT/egress", description: "Elastic IP (public IPv4, in use or idle)", priceKey: "publicIpv4.hour", quantity: ctx.perHour(1), region: regionOf(address, ctx) });
    return PRICED;
};

const vpcEndpoint: Pricer = (endpoint, ctx) => {
    const kind = str(endpoint.inputs.vpcEndpointType) ?? "Gateway";
    if (kind === "Gateway") {
        return zero("gateway endpoints (S3, DynamoDB) are free");
    }
    if (kind !== "Interface") {
        return notPriced(`${kind} endpoints are not in the snapshot`);
    }
    const region = regionOf(endpoint, ctx);
    const zones = subnetCount(endpoint, "subnetIds", ctx);
    const interfaces = ctx.all(endpoint.type).filter((e) => e.inputs.vpcEndpointType === "Interface").length;
    const service = str(endpoint.inputs.serviceName)?.split(".").slice(3).join(".") ?? endpoint.name;
    ctx.add(endpoint, { group: "endpoints", description: `interface endpoint ${service}, ${zones} AZ(s)`, priceKey: "vpcEndpoint.interface.azHour", quantity: ctx.perHour(zones), region });
    ctx.add(endpoint, {
        group: "endpoints",
        description: `data processed, ${ctx.assumptions.endpointProcessedGb} GB / ${interfaces} endpoint(s) (assumption endpointProcessedGb)`,
        priceKey: "vpcEndpoint.interface.gb",
        quantity: ctx.assumptions.endpointProcessedGb / interfaces,
        region,
    });
    return PRICED;
};

const logGroup: Pricer = (group, ctx) => {
    const region = regionOf(group, ctx);
    const groups = ctx.all(group.type).length;
    const ingest = ctx.assumptions.logIngestGb / groups;
    const retentionDays = num(group.inputs.retentionInDays) ?? 0;
    // Steady state: what is kept is what arrives during the retention period (0 = never expires:
    // the horizon's worth).
    const keptMonths = retentionDays > 0 ? retentionDays / 30 : Math.max(1, ctx.assumptions.horizonMonths);
    ctx.add(group, { group: "monitoring", description: `log ingestion, ${ctx.assumptions.logIngestGb} GB / ${groups} group(s) (assumption logIngestGb)`, priceKey: "cloudwatch.logs.ingestGb", quantity: ingest, region });
    ctx.add(group, {
        group: "monitoring",
        description: `log storage, ${retentionDays > 0 ? `${retentionDays} days` : "never expiring"} of ingestion`,
        priceKey: "cloudwatch.logs.storageGbMonth",
        quantity: ingest * keptMonths,
        region,
    });
    return PRICED;
};

const metricAlarm: Pricer = (alarm, ctx) => {
    const period = num(alarm.inputs.period) ?? 60;
    const high = period < 60;
    ctx.add(alarm, { group: "monitoring", description: `CloudWatch alarm (${high ? "high" : "standard"} resolution)`, priceKey: high ? "cloudwatch.alarm.highResolutionMonth" : "cloudwatch.alarm.month", quantity: 1, region: regionOf(alarm, ctx) });
    return PRICED;
};

const dashboard: Pricer = (d, ctx) => {
    ctx.add(d, { group: "monitoring", description: "CloudWatch dashboard (the first 3 per account are free; not deducted)", priceKey: "cloudwatch.dashboard.month", quantity: 1, region: regionOf(d, ctx) });
    return PRICED;
};

const secret: Pricer = (s, ctx) => {
    const region = regionOf(s, ctx);
    ctx.add(s, { group: "secrets & keys", description: "Secrets Manager secret", priceKey: "secretsManager.secretMonth", quantity: 1, region });
    // Each replica is billed as a secret of its own, in its region.
    for (const replica of arr(s.inputs.replicas) ?? []) {
        const at = str(obj(replica)?.region);
        ctx.add(s, {
            group: "secrets & keys",
            description: `Secrets Manager replica in ${at ?? "a region unknown in this graph"} (billed as one secret there)`,
            priceKey: "secretsManager.secretMonth",
            quantity: 1,
            region: at ?? region,
        });
    }
    return PRICED;
};

/** Parameter Store: standard parameters (and their API calls at standard throughput) are free; advanced ones are billed per parameter-month. */
const ssmParameter: Pricer = (p, ctx) => {
    const tier = str(p.inputs.tier) ?? "Standard";
    if (tier === "Advanced") {
        ctx.add(p, { group: "secrets & keys", description: "SSM Parameter Store advanced parameter", priceKey: "ssm.parameter.advancedMonth", quantity: 1, region: regionOf(p, ctx) });
        return PRICED;
    }
    if (tier === "Intelligent-Tiering") {
        return zero("Intelligent-Tiering keeps a parameter standard (free) until its value or policies need the advanced tier");
    }
    return zero("standard SSM parameters are free (and their API calls at standard throughput)");
};

const kmsKey: Pricer = (key, ctx) => {
    ctx.add(key, { group: "secrets & keys", description: "KMS customer managed key", priceKey: "kms.keyMonth", quantity: 1, region: regionOf(key, ctx) });
    return PRICED;
};

const hostedZone: Pricer = (zone, ctx) => {
    ctx.add(zone, { group: "DNS", description: "Route 53 hosted zone (queries not priced: alias queries to AWS resources are free)", priceKey: "route53.zoneMonth", quantity: 1 });
    return PRICED;
};

const privateNamespace: Pricer = (ns, ctx) => {
    ctx.add(ns, { group: "DNS", description: "Cloud Map private DNS namespace (a Route 53 private hosted zone)", priceKey: "route53.zoneMonth", quantity: 1 });
    return PRICED;
};

/**
 * Whether a health check probes an AWS endpoint (billed at the lower rate): an fqdn under
 * amazonaws.com (an ELB's or an instance's public name). An fqdn unknown in a preview is an output
 * of this graph (the ALB's DNS name), so AWS too; a known name or address elsewhere is not.
 */
function probesAwsEndpoint(check: NeutralResource): boolean {
    const fqdn = check.inputs.fqdn;
    if (fqdn === UNKNOWN || (check.inputs.ipAddress === undefined && fqdn === undefined)) {
        return true;
    }
    const name = str(fqdn);
    return name !== undefined && /(^|\.)amazonaws\.com\.?$/.test(name);
}

/**
 * Route 53 health checks: a monthly fee per check (AWS endpoint or not), plus each optional
 * feature (HTTPS, string matching, the fast 10 s interval, latency measurement) billed per check
 * per month. Calculated and CloudWatch-alarm checks have no endpoint and no options.
 */
const healthCheck: Pricer = (check, ctx) => {
    const type = str(check.inputs.type) ?? "";
    if (type === "CALCULATED" || type === "CLOUDWATCH_METRIC" || type === "RECOVERY_CONTROL") {
        ctx.add(check, { group: "DNS", description: `Route 53 health check (${type}, billed as an AWS-endpoint check)`, priceKey: "route53.healthCheck.month", quantity: 1 });
        return PRICED;
    }
    const aws = probesAwsEndpoint(check);
    const features = [
        type.startsWith("HTTPS") ? "HTTPS" : undefined,
        type.endsWith("STR_MATCH") ? "string matching" : undefined,
        num(check.inputs.requestInterval) === 10 ? "fast interval (10 s)" : undefined,
        bool(check.inputs.measureLatency) === true ? "latency measurement" : undefined,
    ].filter((f): f is string => f !== undefined);
    ctx.add(check, {
        group: "DNS",
        description: `Route 53 health check (${type || "type unknown"}) of ${aws ? "an AWS endpoint" : "an endpoint outside AWS"}`,
        priceKey: aws ? "route53.healthCheck.month" : "route53.healthCheck.nonAwsMonth",
        quantity: 1,
    });
    if (features.length > 0) {
        ctx.add(check, {
            group: "DNS",
            description: `health check optional features: ${features.join(", ")}`,
            priceKey: aws ? "route53.healthCheck.featureMonth" : "route53.healthCheck.nonAwsFeatureMonth",
            quantity: features.length,
        });
    }
    return PRICED;
};

/** A record costs nothing itself; its queries do, except an alias's to an AWS resource (ELB, CloudFront, S3, another record…). */
const record: Pricer = (rec, ctx) => {
    if ((arr(rec.inputs.aliases)?.length ?? 0) > 0) {
        return zero("alias records to AWS resources (here the ALB) are free, and so are their queries, whatever the routing policy");
    }
    ctx.notes.add(`${rec.name}: queries of a non-alias record are billed per million (not priced: the graph cannot tell the query volume)`);
    return zero("a record has no fee of its own; queries are billed per million (not priced)");
};

const bucket: Pricer = (b, ctx) => {
    ctx.add(b, { group: "storage", description: `S3 Standard, ${ctx.assumptions.bucketStoredGb} GB (assumption bucketStoredGb)`, priceKey: "s3.standard.gbMonth", quantity: ctx.assumptions.bucketStoredGb, region: regionOf(b, ctx) });
    return PRICED;
};

const ebsVolume: Pricer = (v, ctx) => {
    const kind = str(v.inputs.type) ?? "gp3";
    const size = num(v.inputs.size);
    if (size === undefined) {
        return notPriced("volume size not set (from a snapshot?)");
    }
    ctx.add(v, { group: "storage", description: `EBS ${kind}, ${size} GB`, priceKey: `ebs.${kind}.gbMonth`, quantity: size, region: regionOf(v, ctx) });
    return PRICED;
};

const efs: Pricer = (fsys, ctx) => {
    ctx.add(fsys, { group: "storage", description: `EFS Standard, ${ctx.assumptions.bucketStoredGb} GB (assumption bucketStoredGb)`, priceKey: "efs.standard.gbMonth", quantity: ctx.assumptions.bucketStoredGb, region: regionOf(fsys, ctx) });
    return PRICED;
};

const webAcl: Pricer = (acl, ctx) => {
    const rules = arr(acl.inputs.rules)?.length ?? 0;
    const region = regionOf(acl, ctx);
    ctx.add(acl, { group: "security", description: "WAF web ACL", priceKey: "wafv2.webAclMonth", quantity: 1, region });
    if (rules > 0) {
        ctx.add(acl, { group: "security", description: `WAF rules (${rules})`, priceKey: "wafv2.ruleMonth", quantity: rules, region });
    }
    ctx.add(acl, { group: "security", description: `WAF requests, ${ctx.assumptions.requestsMillion} M (assumption requestsMillion)`, priceKey: "wafv2.millionRequests", quantity: ctx.assumptions.requestsMillion, region });
    return PRICED;
};

// ---- databases ----

function isIoOptimized(cluster: NeutralResource | undefined): boolean {
    return str(cluster?.inputs.storageType) === "aurora-iopt1";
}

/** The cluster of an Aurora instance: by identifier, else the only one. */
function clusterOf(instance: NeutralResource, ctx: PricingContext): NeutralResource | undefined {
    const clusters = ctx.all("aws:rds/cluster:Cluster");
    const id = str(instance.inputs.clusterIdentifier);
    // The program passes `cluster.id` (the identifier; "<name>-id" on the offline mocks).
    return clusters.find((c) => id !== undefined && (c.inputs.clusterIdentifier === id || c.name === id || `${c.name}-id` === id)) ?? (clusters.length === 1 ? clusters[0] : undefined);
}

/**
 * A secondary cluster of an Aurora global database: it joins a global cluster and brings no master
 * user (the primary has one; Aurora refuses it on a secondary). The identifier may be unknown in a
 * preview (an output of the GlobalCluster), so presence is what counts.
 */
export function isGlobalSecondary(cluster: NeutralResource): boolean {
    return cluster.inputs.globalClusterIdentifier !== undefined && cluster.inputs.masterUsername === undefined && cluster.inputs.manageMasterUserPassword === undefined;
}

function storageGb(ctx: PricingContext): number {
    return ctx.assumptions.dbStorageGb + ctx.assumptions.storageGrowthGbPerMonth * ctx.assumptions.horizonMonths;
}

const auroraCluster: Pricer = (cluster, ctx) => {
    const engine = str(cluster.inputs.engine) ?? "";
    if (!engine.startsWith("aurora")) {
        return notPriced(`engine ${engine || "unknown"} (a Multi-AZ DB cluster) is not in the snapshot`);
    }
    const region = regionOf(cluster, ctx);
    const iopt = isIoOptimized(cluster);
    const gb = storageGb(ctx);
    ctx.add(cluster, {
        group: "database",
        description: `Aurora storage (${iopt ? "I/O-Optimized" : "Standard"}), ${gb} GB (assumptions dbStorageGb + storageGrowthGbPerMonth × horizonMonths)`,
        priceKey: iopt ? "aurora.ioOptimized.storage.gbMonth" : "aurora.storage.gbMonth",
        quantity: gb,
        region,
    });
    if (!iopt) {
        ctx.add(cluster, { group: "database", description: `Aurora I/O, ${ctx.assumptions.dbIoMillionRequests} M requests (assumption dbIoMillionRequests)`, priceKey: "aurora.io.millionRequests", quantity: ctx.assumptions.dbIoMillionRequests, region });
    }
    if (isGlobalSecondary(cluster)) {
        // The primary's writes reach each secondary's storage as replicated write I/Os, billed in
        // the secondary region (I/O-Optimized included: it waives the cluster's own I/O only).
        const writes = ctx.assumptions.replicatedWriteMillionRequests;
        ctx.add(cluster, {
            group: "database",
            description: `Aurora global database replicated write I/O into this secondary, ${writes} M (assumption replicatedWriteMillionRequests)`,
            priceKey: "aurora.globalDatabase.replicatedWriteMillion",
            quantity: writes,
            region,
        });
    }
    return PRICED;
};

const auroraInstance: Pricer = (instance, ctx) => {
    const klass = str(instance.inputs.instanceClass);
    if (klass === undefined) {
        return notPriced("instance class unknown");
    }
    const cluster = clusterOf(instance, ctx);
    const iopt = isIoOptimized(cluster);
    const region = regionOf(instance, ctx);
    if (klass === "db.serverless") {
        const scaling = obj(cluster?.inputs.serverlessv2ScalingConfiguration);
        const min = num(scaling?.minCapacity);
        const max = num(scaling?.maxCapacity);
        if (min === undefined || max === undefined) {
            return notPriced("Serverless v2 instance without the cluster's serverlessv2ScalingConfiguration");
        }
        ctx.add(instance, {
            group: "database",
            description: `Aurora Serverless v2, ${min}–${max} ACU`,
            priceKey: iopt ? "aurora.ioOptimized.serverlessV2.acuHour" : "aurora.serverlessV2.acuHour",
            quantity: ctx.perHour(range(min, max)),
            region,
        });
        return PRICED;
    }
    ctx.add(instance, {
        group: "database",
        description: `Aurora instance ${klass}${iopt ? " (I/O-Optimized)" : ""}`,
        priceKey: `aurora.instance.${klass}.hour`,
        quantity: ctx.perHour(1),
        region,
        ...(iopt ? { priceFactor: ctx.price("aurora.ioOptimized.instanceFactor", region).usd } : {}),
    });
    return PRICED;
};

const rdsInstance: Pricer = (instance, ctx) => {
    const engine = str(instance.inputs.engine) ?? "";
    const klass = str(instance.inputs.instanceClass);
    if (engine !== "postgres" || klass === undefined) {
        return notPriced(`RDS ${engine || "engine unknown"} ${klass ?? ""} is not in the snapshot (PostgreSQL only)`.trim());
    }
    const region = regionOf(instance, ctx);
    const copies = bool(instance.inputs.multiAz) === true ? 2 : 1;
    const allocated = num(instance.inputs.allocatedStorage) ?? ctx.assumptions.dbStorageGb;
    const maxAllocated = num(instance.inputs.maxAllocatedStorage);
    const grown = Math.min(maxAllocated ?? Infinity, Math.max(allocated, storageGb(ctx)));
    ctx.add(instance, { group: "database", description: `RDS PostgreSQL ${klass}${copies === 2 ? " Multi-AZ (2 instances)" : ""}`, priceKey: `rds.instance.${klass}.hour`, quantity: ctx.perHour(copies), region });
    ctx.add(instance, { group: "database", description: `RDS gp3 storage, ${allocated} GB allocated${copies === 2 ? " × 2" : ""}`, priceKey: "rds.gp3.gbMonth", quantity: range(allocated * copies, grown * copies), region });
    return PRICED;
};

const FREE = {
    network: "VPC networking objects are free (traffic is priced on NAT, endpoints and egress)",
    iam: "IAM is free",
    byParent: "configures another resource; no charge of its own",
    listener: "part of the load balancer (its hours and LCUs are priced there)",
    scaling: "Application Auto Scaling is free; the replica range it sets is priced on the ECS service",
    taskDef: "a task definition costs nothing; its tasks are priced on the ECS service",
    acm: "public ACM certificates are free",
    discovery: "priced per registered instance on the ECS service",
    global: "a global database has no fee of its own: its regional clusters carry the cost (a secondary's storage, instances and replicated write I/O)",
} as const;

export const AWS_PRICERS: Record<string, Pricer> = {
    "aws:ecs/service:Service": ecsService,
    "aws:ecs/cluster:Cluster": ecsCluster,
    "aws:lb/loadBalancer:LoadBalancer": loadBalancer,
    "aws:alb/loadBalancer:LoadBalancer": loadBalancer,
    "aws:ec2/natGateway:NatGateway": natGateway,
    "aws:ec2/eip:Eip": eip,
    "aws:ec2/vpcEndpoint:VpcEndpoint": vpcEndpoint,
    "aws:cloudwatch/logGroup:LogGroup": logGroup,
    "aws:cloudwatch/metricAlarm:MetricAlarm": metricAlarm,
    "aws:cloudwatch/dashboard:Dashboard": dashboard,
    "aws:secretsmanager/secret:Secret": secret,
    "aws:kms/key:Key": kmsKey,
    "aws:route53/zone:Zone": hostedZone,
    "aws:route53/healthCheck:HealthCheck": healthCheck,
    "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": privateNamespace,
    "aws:s3/bucket:Bucket": bucket,
    "aws:s3/bucketV2:BucketV2": bucket,
    "aws:ebs/volume:Volume": ebsVolume,
    "aws:efs/fileSystem:FileSystem": efs,
    "aws:wafv2/webAcl:WebAcl": webAcl,
    "aws:rds/cluster:Cluster": auroraCluster,
    "aws:rds/clusterInstance:ClusterInstance": auroraInstance,
    "aws:rds/instance:Instance": rdsInstance,
    "aws:rds/globalCluster:GlobalCluster": () => zero(FREE.global),
    "aws:ecs/taskDefinition:TaskDefinition": () => zero(FREE.taskDef),
    "aws:appautoscaling/target:Target": () => zero(FREE.scaling),
    "aws:appautoscaling/policy:Policy": () => zero(FREE.scaling),
    "aws:lb/listener:Listener": () => zero(FREE.listener),
    "aws:lb/listenerRule:ListenerRule": () => zero(FREE.listener),
    "aws:lb/targetGroup:TargetGroup": () => zero(FREE.listener),
    "aws:lb/listenerCertificate:ListenerCertificate": () => zero(FREE.listener),
    "aws:acm/certificate:Certificate": () => zero(FREE.acm),
    "aws:acm/certificateValidation:CertificateValidation": () => zero(FREE.acm),
    "aws:servicediscovery/service:Service": () => zero(FREE.discovery),
    "aws:route53/record:Record": record,
    "aws:ssm/parameter:Parameter": ssmParameter,
    "aws:secretsmanager/secretVersion:SecretVersion": () => zero("versions are included in the secret's price"),
    "aws:kms/alias:Alias": () => zero("aliases are free"),
    "aws:rds/subnetGroup:SubnetGroup": () => zero(FREE.byParent),
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": () => zero(FREE.byParent),
    "aws:rds/parameterGroup:ParameterGroup": () => zero(FREE.byParent),
    "aws:sns/topic:Topic": () => zero("a topic is free; deliveries are priced per million (negligible for alerts)"),
    "aws:sns/topicSubscription:TopicSubscription": () => zero(FREE.byParent),
    "aws:wafv2/webAclAssociation:WebAclAssociation": () => zero(FREE.byParent),
};

/** Whole families that cost nothing, by type prefix. */
export const AWS_FREE_PREFIXES: Record<string, string> = {
    "aws:iam/": FREE.iam,
    "aws:ec2/vpc:": FREE.network,
    "aws:ec2/subnet:": FREE.network,
    "aws:ec2/routeTable": FREE.network,
    "aws:ec2/route:": FREE.network,
    "aws:ec2/internetGateway": FREE.network,
    "aws:ec2/securityGroup": FREE.network,
    "aws:ec2/defaultSecurityGroup": FREE.network,
    "aws:ec2/networkAcl": FREE.network,
    "aws:ec2/defaultNetworkAcl": FREE.network,
    "aws:ec2/defaultRouteTable": FREE.network,
    "aws:vpc/securityGroup": FREE.network,
    "aws:s3/bucket": FREE.byParent,
};

/** AWS accounts pay for internet egress from any public entry (ALB). */
export function awsHasPublicEntry(ctx: PricingContext): boolean {
    return [...ctx.all("aws:lb/loadBalancer:LoadBalancer"), ...ctx.all("aws:alb/loadBalancer:LoadBalancer")].some((lb) => bool(lb.inputs.internal) !== true);
}
