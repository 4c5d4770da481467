/**
 * The stack's monthly budget (`apfa:budget`) and the usage assumptions of its cost estimate
 * (`apfa:cost`). Neither changes a resource: the cost estimator (`npm run cost`, tools/cost/) and
 * the policy pack's budget rule read them. The assumptions live here so that their defaults are
 * written down in one place, next to the config that overrides them.
 */
import { z } from "zod";

/** `apfa:budget`: what the stack may cost per month. */
export const budgetSchema = z.strictObject({
    /**
     * Monthly budget in US dollars. When the estimate at full scale (every autoscaler at its
     * maximum) exceeds it, `npm run cost -- --check-budget` exits non-zero and the policy pack
     * fails the preview, naming the biggest items. Unset: no budget check.
     */
    monthlyUsd: z.number().positive().max(10_000_000).optional(),
});

const quantity = z.number().min(0).max(1e9);

/**
 * Usage the graph cannot tell: traffic, log volume, storage. Every figure is per month for the
 * whole stack (not per replica), so adding a replica or a zone never changes a traffic figure.
 */
export const costAssumptionsSchema = z.strictObject({
    /** Hours in a month (365 × 24 / 12), as the clouds' own calculators use. @default 730 */
    hoursPerMonth: z.number().min(1).max(744).default(730),
    /** GB served from the stack to the internet. @default 100 */
    egressGb: quantity.default(100),
    /** GB through the NAT (image pulls, webhooks, third-party APIs), spread over the stack's NAT gateways. @default 50 */
    natProcessedGb: quantity.default(50),
    /** GB processed by the public load balancer (both directions). @default 150 */
    loadBalancerProcessedGb: quantity.default(150),
    /** Average ALB load-balancer capacity units per hour at rest (minimum replicas). @default 1 */
    albLcuAtRest: quantity.default(1),
    /** Average ALB capacity units per hour at full scale (the traffic that needs the maximum replicas). @default 4 */
    albLcuFullScale: quantity.default(4),
    /** GB through interface VPC endpoints / private endpoints (ECR layers, logs, secrets). @default 30 */
    endpointProcessedGb: quantity.default(30),
    /** GB of logs ingested per month (CloudWatch Logs, Cloud Logging), spread over the log groups. @default 10 */
    logIngestGb: quantity.default(10),
    /** GB of Container Insights performance events per month (ECS clusters with containerInsights on). @default 5 */
    containerInsightsGb: quantity.default(5),
    /** GB kept in each object-storage bucket (ALB access logs). @default 5 */
    bucketStoredGb: quantity.default(5),
    /** Database storage in GB where the graph does not fix it (Aurora grows with the data). @default 20 */
    dbStorageGb: quantity.default(20),
    /** Database storage growth in GB per month, added over {@link horizonMonths}. @default 2 */
    storageGrowthGbPerMonth: quantity.default(2),
    /** Months of growth to price storage at (0: as deployed today). @default 12 */
    horizonMonths: z.number().int().min(0).max(120).default(12),
    /** Million database I/O requests per month (Aurora Standard bills them; I/O-Optimized does not). @default 20 */
    dbIoMillionRequests: quantity.default(20),
    /** Million HTTP requests per month at a global entry (Front Door bills them). @default 10 */
    requestsMillion: quantity.default(10),
    /** Zones a regional GKE node pool spans when the graph does not list them. @default 3 */
    zonesPerRegion: z.number().int().min(1).max(10).default(3),
    /**
     * Multi-region: million write I/Os per month that an Aurora global database replicates to each
     * secondary region (billed in the secondary region per million). A quarter of the default
     * `dbIoMillionRequests`: the writes among them. @default 5
     */
    replicatedWriteMillionRequests: quantity.default(5),
    /**
     * Multi-region: GB per month a region stack exchanges with the deployment's other regions
     * (database replication, the failover controller's probes), priced where the graph shows the
     * link (Azure global VNet peering, a Cloud SQL cross-region replica). @default 20
     */
    crossRegionGb: quantity.default(20),
});

/** `apfa:cost`: the estimate's assumptions, each overridable (`npm run cost -- --assume key=value` wins over config). */
export const costSchema = z.strictObject({
    /** @default {} (every assumption at its default) */
    assumptions: costAssumptionsSchema.partial().default({}),
});

export type BudgetSettings = z.output<typeof budgetSchema>;
export type CostAssumptions = z.output<typeof costAssumptionsSchema>;
export type CostSettings = z.output<typeof costSchema>;

/** Every assumption at its default. */
export const DEFAULT_COST_ASSUMPTIONS: CostAssumptions = costAssumptionsSchema.parse({});
