/**
 * Rules that span clouds or the whole stack: supply chain (image pins, registries), secrets,
 * protection of stateful resources, monitoring exposure, zones, health-checked DNS, autoscaling of
 * APFA's slots, and the monthly budget.
 */
import type { PolicyResource, ReportViolation, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";

import { awsMonitoringExposure } from "./aws";
import { aksPoolZones } from "./azure";
import { fromAllowedRegistry, isImageId, unpinnedReason } from "./images";
import { isApfaRelease, kubernetesMonitoringExposure, WORKLOAD_TYPES } from "./kubernetes";
import { at, isProductionResource, isUnknown, known, list, MONITORING_NAME, ofType, parseJson, plain, record, resourceRule, SECRET_NAME, stackRule } from "./rule";
import { asPlanValue, judgeBudget, type BudgetContext } from "./budget";

/** Every container image a resource names, with where it is named. */
export function imagesOf(type: string, props: Record<string, unknown>): { image: string; where: string }[] {
    const found: { image: string; where: string }[] = [];
    const add = (image: unknown, where: string) => {
        if (typeof image === "string" && !isUnknown(image)) {
            found.push({ image, where });
        }
    };
    if (type === "aws:ecs/taskDefinition:TaskDefinition") {
        const containers = parseJson(plain(props).containerDefinitions);
        for (const c of Array.isArray(containers) ? containers.map(record) : []) {
            add(c.image, `container ${String(c.name)}`);
        }
    } else if (WORKLOAD_TYPES.includes(type)) {
        const pod = record(at(props, "spec.template.spec"));
        for (const c of [...list(pod.containers), ...list(pod.initContainers)].map(record)) {
            add(c.image, `container ${String(c.name)}`);
        }
    } else if (isApfaRelease({ type, props })) {
        add(at(props, "values.image"), "values.image");
    } else if (type === "docker:index/remoteImage:RemoteImage" && plain(props).build === undefined) {
        // A RemoteImage with `build` is built here from source, not pulled.
        add(plain(props).name, "name");
    } else if (type === "docker:index/container:Container") {
        add(plain(props).image, "image");
    }
    return found;
}

export const imagesPinned = resourceRule(
    {
        name: "images-pinned",
        area: "stack",
        enforcementLevel: "mandatory",
        description: "Every image is pinned by a tag other than `latest` or by a digest: what runs is what was reviewed, and a rollback returns to the same bits.",
    },
    (args: ResourceValidationArgs, report: ReportViolation) => {
        for (const { image, where } of imagesOf(args.type, args.props)) {
            const reason = unpinnedReason(image);
            if (reason) {
                report(`${where}: ${reason}`);
            }
        }
    },
);

export interface RegistriesConfig {
    /** Registry hosts or path prefixes images may come from. */
    readonly registries?: string[];
}

export const imagesAllowedRegistries = resourceRule(
    {
        name: "images-allowed-registries",
        area: "stack",
        enforcementLevel: "mandatory",
        description: "Images come only from the registries the stack allows (`apfa:policy.allowedRegistries`): no pulls from an unreviewed source.",
        config: { registries: { type: "array", items: { type: "string" } } },
    },
    (args: ResourceValidationArgs, report: ReportViolation) => {
        const images = imagesOf(args.type, args.props);
        if (images.length === 0) {
            return;
        }
        const allowed = args.getConfig<RegistriesConfig>().registries ?? [];
        if (allowed.length === 0) {
            args.notApplicable("no apfa:policy.allowedRegistries for this stack");
        }
        for (const { image, where } of images) {
            if (!isImageId(image) && !fromAllowedRegistry(image, allowed)) {
                report(`${where}: ${image} is not from an allowed registry (${allowed.join(", ")})`);
            }
        }
    },
);

export const noPlainSecrets = resourceRule(
    {
        name: "no-plain-secrets",
        area: "stack",
        enforcementLevel: "mandatory",
        description: "Credential-like variables of Kubernetes workloads and APFA's chart come from Secrets (valueFrom), never literal values in the spec anyone with read access sees (ECS: aws-ecs-secrets-from-secrets-manager; docker has no secret store and is exempt).",
    },
    (args: ResourceValidationArgs, report: ReportViolation) => {
        if (WORKLOAD_TYPES.includes(args.type)) {
            const pod = record(at(args.props, "spec.template.spec"));
            for (const c of [...list(pod.containers), ...list(pod.initContainers)].map(record)) {
                for (const env of list(c.env).map(record)) {
                    if (typeof env.name === "string" && SECRET_NAME.test(env.name) && env.value !== undefined) {
                        report(`container ${String(c.name)}: ${env.name} has a literal value; use valueFrom.secretKeyRef`);
                    }
                }
            }
        } else if (isApfaRelease(args)) {
            for (const name of Object.keys(record(at(args.props, "values.env")))) {
                if (SECRET_NAME.test(name)) {
                    report(`values.env.${name} puts a credential in the release's values (stored in the Helm release Secret and the Deployment in clear)`);
                }
            }
        } else if (args.type === "kubernetes:core/v1:ConfigMap") {
            for (const key of Object.keys(record(plain(args.props).data))) {
                if (SECRET_NAME.test(key)) {
                    report(`ConfigMap key ${key} looks like a credential; keep it in a Secret`);
                }
            }
        }
    },
);

/** Stateful types: losing one loses data or credentials. */
const STATEFUL_TYPES = [
    "aws:rds/cluster:Cluster",
    "aws:rds/instance:Instance",
    "aws:rds/globalCluster:GlobalCluster",
    "aws:s3/bucket:Bucket",
    "aws:secretsmanager/secret:Secret",
    "aws:kms/key:Key",
    "azure-native:dbforpostgresql:Server",
    "azure-native:keyvault:Vault",
    "gcp:sql/databaseInstance:DatabaseInstance",
    "gcp:secretmanager/secret:Secret",
];

function production(type: string, props: Record<string, unknown>): boolean {
    if (type === "gcp:sql/databaseInstance:DatabaseInstance") {
        return record(at(props, "settings.userLabels")).environment === "production";
    }
    return isProductionResource(props);
}

export const statefulProtected = resourceRule(
    {
        name: "stateful-protected",
        area: "stack",
        enforcementLevel: "mandatory",
        description: "In production, databases, buckets, keys and secrets have `protect` and, where the provider has one, deletion protection on: no `pulumi destroy` or replacement deletes data.",
    },
    (args: ResourceValidationArgs, report: ReportViolation) => {
        if (!STATEFUL_TYPES.includes(args.type) || !production(args.type, plain(args.props))) {
            return;
        }
        if (args.opts.protect !== true) {
            report("the `protect` resource option is off");
        }
        const p = plain(args.props);
        if ((args.type === "aws:rds/cluster:Cluster" || args.type === "aws:rds/instance:Instance" || args.type === "aws:rds/globalCluster:GlobalCluster") && p.deletionProtection !== true) {
            report("deletionProtection is not true");
        }
        if (args.type === "gcp:sql/databaseInstance:DatabaseInstance" && (p.deletionProtection === false || at(p, "settings.deletionProtectionEnabled") !== true)) {
            report("deletionProtection / settings.deletionProtectionEnabled is not on");
        }
    },
);

export const monitoringNeverPublic = resourceRule(
    {
        name: "monitoring-never-public",
        area: "stack",
        enforcementLevel: "mandatory",
        description: "Grafana, Prometheus and Alertmanager are never reachable from the internet: no load balancer, public route, LoadBalancer/NodePort Service or non-loopback port.",
    },
    (args: ResourceValidationArgs, report: ReportViolation) => {
        const resource = { type: args.type, name: args.name, props: plain(args.props) };
        awsMonitoringExposure(resource, report);
        kubernetesMonitoringExposure(resource, report);
        if (args.type === "docker:index/container:Container" && MONITORING_NAME.test(args.name)) {
            for (const port of list(resource.props.ports).map(record)) {
                if (known(port.ip) !== "127.0.0.1") {
                    report(`port ${String(port.external)} is published beyond the host`);
                }
            }
        }
    },
);

const GCP_REGION = /^[a-z]+-[a-z]+\d+$/;

export const nodePoolsSpanZones = stackRule(
    {
        name: "node-pools-span-zones",
        area: "stack",
        enforcementLevel: "mandatory",
        description: "In production, the Kubernetes nodes APFA runs on span at least two zones (AKS pools' zones, a regional GKE cluster), so a zone outage leaves replicas running.",
    },
    (args: StackValidationArgs, report: ReportViolation) => {
        for (const cluster of ofType(args.resources, "azure-native:containerservice:ManagedCluster")) {
            if (!isProductionResource(cluster.props)) {
                continue;
            }
            const profiles = list(plain(cluster.props).agentPoolProfiles).map(record);
            const pools = ofType(args.resources, "azure-native:containerservice:AgentPool").map((p) => plain(p.props));
            const system = profiles.filter((p) => p.mode === "System");
            const user = [...profiles.filter((p) => p.mode === "User"), ...pools.filter((p) => p.mode !== "System")];
            const zonesOf = (ps: unknown[]) => new Set(ps.flatMap(aksPoolZones));
            if (system.length > 0 && zonesOf(system).size < 2) {
                report("the AKS system pool spans fewer than two availability zones", cluster.urn);
            }
            if (user.length > 0 && zonesOf(user).size < 2) {
                report(`the AKS user pools span ${zonesOf(user).size} availability zone(s); APFA needs at least two`, cluster.urn);
            }
        }
        for (const cluster of ofType(args.resources, "gcp:container/cluster:Cluster")) {
            if (!isProductionResource(cluster.props)) {
                continue;
            }
            const location = known(plain(cluster.props).location);
            const nodeLocations = list(plain(cluster.props).nodeLocations);
            if (typeof location === "string" && !GCP_REGION.test(location) && nodeLocations.length < 2) {
                report(`the GKE cluster is zonal (${location}) with fewer than two nodeLocations`, cluster.urn);
            }
        }
        for (const pool of ofType(args.resources, "gcp:container/nodePool:NodePool")) {
            const nodeLocations = plain(pool.props).nodeLocations;
            if (Array.isArray(nodeLocations) && nodeLocations.length === 1 && isProductionResource(record(at(pool.props, "nodeConfig")))) {
                report("the node pool is pinned to one zone (nodeLocations)", pool.urn);
            }
        }
    },
);

const ROUTE53_POLICIES = ["failoverRoutingPolicies", "latencyRoutingPolicies", "weightedRoutingPolicies", "geolocationRoutingPolicies", "geoproximityRoutingPolicy", "cidrRoutingPolicy"];
const MAX_FAILOVER_TTL = 60;

export const dnsFailoverHealthChecked = resourceRule(
    {
        name: "dns-failover-health-checked",
        area: "stack",
        enforcementLevel: "mandatory",
        description: "DNS records that steer between regions (failover/latency/weighted/geo routing, Traffic Manager) are health-checked and have a TTL of at most 60 s, so failover reaches clients within a minute.",
    },
    (args: ResourceValidationArgs, report: ReportViolation) => {
        const p = plain(args.props);
        if (args.type === "aws:route53/record:Record") {
            if (!ROUTE53_POLICIES.some((k) => p[k] !== undefined && list(Array.isArray(p[k]) ? p[k] : [p[k]]).length > 0)) {
                return;
            }
            const alias = list(p.aliases).map(record)[0];
            if (alias) {
                if (alias.evaluateTargetHealth !== true && p.healthCheckId === undefined) {
                    report("a routed alias record neither evaluates its target's health nor has a health check");
                }
                return;
            }
            if (p.healthCheckId === undefined) {
                report("a routed record has no healthCheckId: Route 53 would keep answering with a dead region");
            }
            if (typeof p.ttl === "number" && p.ttl > MAX_FAILOVER_TTL) {
                report(`ttl ${p.ttl} s: resolvers keep a dead region's answer that long; use at most ${MAX_FAILOVER_TTL}`);
            }
        } else if (args.type === "gcp:dns/recordSet:RecordSet") {
            const routing = record(p.routingPolicy);
            if (Object.keys(routing).length === 0) {
                return;
            }
            const items = [...list(routing.wrrs), ...list(routing.geos)].map(record);
            const checked = routing.healthCheck !== undefined || routing.primaryBackup !== undefined || items.some((i) => i.healthCheckedTargets !== undefined);
            if (!checked) {
                report("a routed record set has no health-checked targets");
            }
            if (typeof p.ttl === "number" && p.ttl > MAX_FAILOVER_TTL) {
                report(`ttl ${p.ttl} s is above ${MAX_FAILOVER_TTL}`);
            }
        } else if (args.type === "azure-native:trafficmanager:Profile") {
            const ttl = at(p, "dnsConfig.ttl");
            if (typeof ttl === "number" && ttl > MAX_FAILOVER_TTL) {
                report(`dnsConfig.ttl ${ttl} s is above ${MAX_FAILOVER_TTL}`);
            }
            if (at(p, "monitorConfig.path") === undefined && at(p, "monitorConfig.protocol") === undefined) {
                report("no monitorConfig: endpoints are not health-checked");
            }
        }
    },
);

/** `service/<cluster>/<service>` → `<service>`. */
function scalingKey(resourceId: unknown): string | undefined {
    return typeof resourceId === "string" && !isUnknown(resourceId) ? resourceId.split("/").slice(2).join("/") : undefined;
}

function ecsAutoscaling(resources: PolicyResource[], report: ReportViolation): void {
    const targets = ofType(resources, "aws:appautoscaling/target:Target");
    const policies = ofType(resources, "aws:appautoscaling/policy:Policy");
    for (const service of ofType(resources, "aws:ecs/service:Service")) {
        const p = plain(service.props);
        const name = known(p.name);
        if (list(p.loadBalancers).length === 0 || typeof name !== "string") {
            continue;
        }
        const target = targets.find((t) => scalingKey(plain(t.props).resourceId) === name);
        if (!target) {
            report(`ECS service ${name} has no autoscaling target`, service.urn);
            continue;
        }
        const t = plain(target.props);
        const [min, max] = [t.minCapacity, t.maxCapacity];
        if (typeof min === "number" && typeof max === "number" && (max < 2 || max < min)) {
            report(`ECS service ${name} scales between ${min} and ${max}; the maximum must be at least 2 and at least the minimum`, target.urn);
        }
        const tracking = policies.filter(
            (pol) =>
                scalingKey(plain(pol.props).resourceId) === name &&
                plain(pol.props).policyType === "TargetTrackingScaling" &&
                typeof at(pol.props, "targetTrackingScalingPolicyConfiguration.targetValue") === "number",
        );
        if (tracking.length === 0) {
            report(`ECS service ${name} has no target-tracking scaling policy with a target value`, service.urn);
        }
    }
}

function releaseAutoscaling(resources: PolicyResource[], report: ReportViolation): void {
    for (const release of resources.filter(isApfaRelease)) {
        const values = record(plain(release.props).values);
        const scaling = record(values.autoscaling);
        const name = String(known(plain(release.props).name) ?? release.name);
        if (scaling.enabled === false) {
            // A slot scaled down (release.<slot>.scaledDown) runs no replicas; any other fixed count is not autoscaled.
            if (values.replicaCount !== 0) {
                report(`APFA release ${name} has autoscaling off`, release.urn);
            }
            continue;
        }
        const [min, max, cpu] = [scaling.minReplicas, scaling.maxReplicas, scaling.targetCPUUtilizationPercentage];
        if (typeof min === "number" && typeof max === "number" && (max < 2 || max < min)) {
            report(`APFA release ${name} scales between ${min} and ${max}; the maximum must be at least 2 and at least the minimum`, release.urn);
        }
        if (cpu !== undefined && (typeof cpu !== "number" || cpu <= 0 || cpu > 100)) {
            report(`APFA release ${name} has no CPU target between 1 and 100 %`, release.urn);
        }
    }
}

export const apfaAutoscaling = stackRule(
    {
        name: "apfa-autoscaling",
        area: "stack",
        enforcementLevel: "mandatory",
        description: "Every APFA slot on a cloud autoscales (ECS target + target-tracking policy; the chart's HPA) with a maximum of at least 2 and at least its minimum.",
    },
    (args, report) => {
        ecsAutoscaling(args.resources, report);
        releaseAutoscaling(args.resources, report);
    },
);

export interface BudgetConfig extends BudgetContext {
    readonly monthlyUsd?: number;
}

export const budgetMonthlyCost = stackRule(
    {
        name: "budget-monthly-cost",
        area: "stack",
        enforcementLevel: "mandatory",
        description: "The stack's estimated monthly cost at full scale (every autoscaler at its maximum, tools/cost/) stays within `apfa:budget.monthlyUsd`.",
        config: {
            monthlyUsd: { type: "number", exclusiveMinimum: 0 },
            cloud: { type: "string", enum: ["docker", "aws", "azure", "gcp"] },
            region: { type: "string" },
            assumptions: { type: "object" },
            appReplicas: { type: "object" },
        },
    },
    (args, report) => {
        const config = args.getConfig<BudgetConfig>();
        if (config.monthlyUsd === undefined) {
            args.notApplicable("no apfa:budget.monthlyUsd for this stack");
            return;
        }
        // The engine sends outputs; in a preview they are the inputs, unknowns included (the estimator treats them as absent).
        const resources = args.resources.map((r) => ({ type: r.type, name: r.name, inputs: asPlanValue(plain(r.props)) as Record<string, unknown>, custom: !r.type.startsWith("apfa:") }));
        const verdict = judgeBudget(resources, config.monthlyUsd, config);
        if (!verdict.checked) {
            report(`the budget of ${config.monthlyUsd} USD/month cannot be checked: ${verdict.reason}`);
        } else if (verdict.over) {
            report(verdict.message);
        }
    },
);

export const stackRules = [imagesPinned, imagesAllowedRegistries, noPlainSecrets, statefulProtected, monitoringNeverPublic, nodePoolsSpanZones, dnsFailoverHealthChecked, apfaAutoscaling, budgetMonthlyCost];
