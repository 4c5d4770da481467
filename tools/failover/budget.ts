/**
 * The failover time budget in the real clouds (pure), derived the way tools/release/budget.ts
 * derives the rollback budget: every term with its figure and where the figure comes from.
 *
 * A region failover runs two chains at once, and users are served again when both are done:
 *
 *   traffic   the global entry notices the primary region is unhealthy and sends users to the
 *             standby (Route 53 failover records / Front Door priority origins / the multi-cluster
 *             Gateway's global load balancer), plus any DNS caching in between;
 *   database  the failover controller in the standby region counts N failed probes, then the
 *             managed service promotes the standby database and its stable writer name follows.
 *
 *   RTO ≈ max(traffic, database)   (writes fail until the later of the two is done)
 */
import type { BudgetTerm } from "../release/budget";
import { FRONT_DOOR_PROBE } from "../../src/targets/azure/multiregion";
import { HEALTH_CHECK_TIMING } from "../../src/targets/gcp/gke-policies";

export type FailoverCloud = "aws" | "azure" | "gcp";

export interface ControllerTiming {
    readonly intervalSeconds: number;
    readonly failureThreshold: number;
    readonly probeTimeoutSeconds: number;
}

export interface FailoverBudget {
    readonly cloud: FailoverCloud;
    /** What the row describes: entry and database service. */
    readonly title: string;
    readonly traffic: readonly BudgetTerm[];
    readonly database: readonly BudgetTerm[];
    readonly trafficSeconds: number;
    readonly databaseSeconds: number;
    /** max(traffic, database). */
    readonly rtoSeconds: number;
    /** The data-loss side, in words with its source (not a time term). */
    readonly rpo: string;
    readonly notCounted: readonly string[];
}

/** The goal for a region failover, and this project's aim. */
export const FAILOVER_GOAL_SECONDS = 300;
export const FAILOVER_AIM_SECONDS = 120;

/** The design values the region stacks are to use where no stack config exists yet (named as such in each term). */
export const ROUTE53_HEALTH_CHECK = { requestIntervalSeconds: 10, failureThreshold: 3 } as const;
/** Front Door's probe settings as the Azure region stacks set them (src/targets/azure/multiregion.ts). */
export { FRONT_DOOR_PROBE };

function controllerTerms(c: ControllerTiming): BudgetTerm[] {
    return [
        {
            name: `controller counts ${c.failureThreshold} failed probes ${c.intervalSeconds} s apart`,
            seconds: c.intervalSeconds * c.failureThreshold,
            provenance: "config",
            source: "APFA_FAILOVER_INTERVAL_SECONDS × APFA_FAILOVER_FAILURE_THRESHOLD (tools/failover/config.ts defaults unless given)",
        },
        {
            name: "the last probe runs into its timeout",
            seconds: c.probeTimeoutSeconds,
            provenance: "config",
            source: "APFA_FAILOVER_PROBE_TIMEOUT_SECONDS (an unreachable region answers by timeout, not by refusal)",
        },
    ];
}

const sum = (terms: readonly BudgetTerm[]) => Math.round(terms.reduce((t, x) => t + x.seconds, 0) * 10) / 10;

function budget(cloud: FailoverCloud, title: string, traffic: BudgetTerm[], database: BudgetTerm[], rpo: string, notCounted: string[]): FailoverBudget {
    const trafficSeconds = sum(traffic);
    const databaseSeconds = sum(database);
    return { cloud, title, traffic, database, trafficSeconds, databaseSeconds, rtoSeconds: Math.max(trafficSeconds, databaseSeconds), rpo, notCounted };
}

export function failoverBudgets(c: ControllerTiming): FailoverBudget[] {
    const r53 = ROUTE53_HEALTH_CHECK;
    const aws = budget(
        "aws",
        "Route 53 failover records + Aurora Global Database (controller in the standby region)",
        [
            {
                name: `Route 53 health check: ${r53.failureThreshold} failures ${r53.requestIntervalSeconds} s apart`,
                seconds: r53.requestIntervalSeconds * r53.failureThreshold,
                provenance: "documented",
                source: "the issue's design (request interval 10 s, failure threshold 3); Route 53 DG, dns-failover-determining-health-of-endpoints",
            },
            {
                name: "the last check times out (TCP 4 s + response 2 s)",
                seconds: 6,
                provenance: "documented",
                source: "Route 53 DG: HTTP(S) checks need a connection within 4 s and a response within 2 s after it",
            },
            {
                name: "checkers agree (healthy while > 18 % of checkers say so)",
                seconds: 10,
                provenance: "assumed",
                source: "Route 53 DG states the 18 % rule but no aggregation delay; one more interval assumed",
            },
            {
                name: "resolvers drop the cached PRIMARY answer (DNS TTL)",
                seconds: 60,
                provenance: "documented",
                source: "alias records to an ALB have a fixed 60 s TTL (Route 53 DG, 'Values specific for failover records'; Route 53 FAQ recommends ≤ 60 s)",
            },
        ],
        [
            ...controllerTerms(c),
            {
                name: "FailoverGlobalCluster (AllowDataLoss): the secondary becomes the writer",
                seconds: 60,
                provenance: "documented",
                source:
                    "'typically under a minute' (AWS Well-Architected Labs, Aurora Global Database); the Aurora DR page says RTO 'can be in the order of minutes' — the term most likely to run over",
            },
            {
                name: "the global writer endpoint points at the new writer; app pools reconnect",
                seconds: 5,
                provenance: "assumed",
                source: "'Connecting to Amazon Aurora Global Database': the global writer endpoint follows failover; a ~5 s resolver TTL advised (not measured)",
            },
        ],
        "typically seconds ('a non-zero value measured in seconds', Aurora BCDR docs; lag 'typically under one second', AWS Prescriptive Guidance); rds.global_db_rpo (≥ 20 s) is a hard ceiling that blocks commits",
        [
            "clients that cache DNS beyond the TTL (JVM defaults, browsers)",
            "the Route 53 control plane (us-east-1) is never needed: records and health checks exist before the outage",
        ],
    );

    const fd = FRONT_DOOR_PROBE;
    const azure = budget(
        "azure",
        "Front Door Standard priority origins + PostgreSQL flexible server replica (virtual endpoints)",
        [
            {
                name: `Front Door probes: ${fd.sampleSize} samples ${fd.probeIntervalInSeconds} s apart (${fd.successfulSamplesRequired} must succeed)`,
                seconds: fd.probeIntervalInSeconds * fd.sampleSize,
                provenance: "derived",
                source:
                    "src/targets/azure/multiregion.ts FRONT_DOOR_PROBE (probeIntervalInSeconds 30, sampleSize 4, successfulSamplesRequired 3; PSRule Azure.FrontDoor.Probe; azure-native's default interval of 240 s is overridden); " +
                    "conservative: interval × sample size (2 failed samples already tip 4/3, i.e. 60 s)",
            },
            {
                name: "no DNS TTL: the Front Door endpoint name and anycast address stay the same",
                seconds: 0,
                provenance: "documented",
                source: "Front Door routes at its edge POPs (learn.microsoft.com/azure/frontdoor/routing-methods); each POP probes on its own",
            },
        ],
        [
            ...controllerTerms(c),
            {
                name: "replica promote (PATCH replica.promoteMode Switchover, promoteOption Forced)",
                seconds: 120,
                provenance: "assumed",
                source: "UNVERIFIED: Microsoft publishes no promotion time ('Promote read replicas'); 2 min assumed — measure it in the first drill",
            },
            {
                name: "the virtual writer endpoint points at the promoted server",
                seconds: 30,
                provenance: "assumed",
                source: "'Virtual endpoints for read replicas': the writer endpoint follows the promotion; its DNS update time is not published",
            },
        ],
        "up to 5 min for a promoted replica (Azure-Samples/Azure-PostgreSQL-Resiliency-Architecture); asynchronous replication, no ceiling setting",
        ["promotion is never automatic on Azure: without the controller the database chain waits for a person"],
    );

    const hc = HEALTH_CHECK_TIMING;
    const gcp = budget(
        "gcp",
        "multi-cluster Gateway (global external LB) + Cloud SQL Enterprise Plus DR replica",
        [
            {
                name: `load balancer health check: ${hc.unhealthyThreshold} failures ${hc.checkIntervalSec} s apart`,
                seconds: hc.checkIntervalSec * hc.unhealthyThreshold,
                provenance: "config",
                source: "src/targets/gcp/gke-policies.ts HEALTH_CHECK_TIMING (HealthCheckPolicy checkIntervalSec × unhealthyThreshold)",
            },
            {
                name: "the last check times out",
                seconds: hc.timeoutSec,
                provenance: "config",
                source: "HEALTH_CHECK_TIMING.timeoutSec (the same timing on the config cluster's ServiceImport health checks, src/targets/gcp/fleet.ts)",
            },
            {
                name: "Google Front Ends move traffic to the healthy region",
                seconds: 30,
                provenance: "assumed",
                source:
                    "UNVERIFIED: no published failover time (Google KB 'Multi Cluster Ingress traffic spillover': moves when > 50 % of a region's backends are unhealthy); no DNS TTL (one anycast address)",
            },
        ],
        [
            ...controllerTerms(c),
            {
                name: "promoteReplica?failover=true on the DR replica",
                seconds: 120,
                provenance: "assumed",
                source: "UNVERIFIED: 'Use advanced disaster recovery' says the DR replica is promoted 'immediately' but gives no duration; 2 min assumed — measure it in the first drill",
            },
            {
                name: "the DNS write endpoint (*.global.sql-psa.goog) points at the promoted instance",
                seconds: 30,
                provenance: "assumed",
                source: "'Connect to an instance using a write endpoint': it follows failover and switchover; its update time is not published",
            },
        ],
        "asynchronous cross-region replication: the replica's lag at the moment of failure (no published figure; watch replica lag); switchover is zero-loss",
        ["the multi-cluster Gateway's config cluster: if its region is the one down, routes cannot change, but existing routing keeps working"],
    );
    return [aws, azure, gcp];
}

/** The budget as lines for the terminal. */
export function formatFailoverBudget(b: FailoverBudget): string[] {
    const lines = [`${b.cloud}: ${b.title}`];
    const section = (title: string, terms: readonly BudgetTerm[], total: number) => {
        lines.push(`  ${title}`);
        for (const t of terms) {
            lines.push(`    ${t.seconds.toFixed(0).padStart(5)} s  ${t.name}  [${t.provenance}: ${t.source}]`);
        }
        lines.push(`    ${total.toFixed(0).padStart(5)} s  total`);
    };
    section("traffic (global entry)", b.traffic, b.trafficSeconds);
    section("database (controller + promotion)", b.database, b.databaseSeconds);
    lines.push(`  RTO ≈ max(traffic, database) = ${b.rtoSeconds.toFixed(0)} s  ${verdict(b.rtoSeconds)}`);
    lines.push(`  RPO: ${b.rpo}`);
    for (const note of b.notCounted) {
        lines.push(`  not counted: ${note}`);
    }
    return lines;
}

export function verdict(seconds: number): string {
    const goal = seconds < FAILOVER_GOAL_SECONDS ? "within the < 5 min goal" : "OVER the 5 min goal";
    const aim = seconds <= FAILOVER_AIM_SECONDS ? "within the ≤ 2 min aim" : "over the 2 min aim";
    return `(${goal}; ${aim})`;
}
