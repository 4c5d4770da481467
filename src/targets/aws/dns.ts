/**
 * A region's entry in a multi-region deployment (`apfa:multiRegion`): a Route 53 health check on
 * this region's ALB and this region's record under the deployment's name, both owned by this
 * region's stack. Adding a region is adding a stack; no stack edits another's records.
 *
 * Each region also owns `<region>.<name>`, a plain alias to its own ALB, which the failover
 * controller probes.
 *
 * Failover is data-plane only: the records and health checks exist before any outage, and Route 53
 * answers with the healthy region's record by itself. Nothing calls the Route 53 API (whose control
 * plane is in us-east-1, the primary region) when a region fails.
 *
 * - active-passive: failover records, PRIMARY in the primary region, SECONDARY elsewhere.
 * - active-active: latency records with the region as set identifier (nearest healthy region).
 *
 * Records are aliases to the ALB with `evaluateTargetHealth` (an ALB with no healthy target is
 * skipped even before the health check counts it down); ELB aliases have Route 53's fixed 60 s
 * TTL, which is what AWS recommends (≤ 60 s) for health-checked records. The health check probes
 * the app's health path over HTTPS every 10 s and declares the region down after 3 failures
 * (`requestInterval` cannot change after creation: ForceNew).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import type { Topology } from "../../config/region";

/** Route 53's fastest health-check interval and the failures before a region counts as down. */
export const HEALTH_CHECK = { requestIntervalSeconds: 10, failureThreshold: 3 } as const;

export interface RegionalEntryArgs {
    readonly topology: Topology;
    /** This region (the record's set identifier and latency region). */
    readonly region: string;
    readonly isPrimary: boolean;
    /** The hosted zone the deployment's name lives in. */
    readonly zoneId: string;
    /** The name users resolve (`apfa:aws.domainName`), the same in every region. */
    readonly recordName: string;
    /** The path that answers 200 while this region can serve (`apfa:app.healthPath`). */
    readonly healthPath: string;
    /** Whether the ALB serves HTTPS (the health check uses the same scheme). */
    readonly https: boolean;
    readonly alb: aws.lb.LoadBalancer;
    readonly tags: Readonly<Record<string, string>>;
}

/** The health check's arguments (pure, for tests). */
export function healthCheckArgs(args: Pick<RegionalEntryArgs, "healthPath" | "https">, albDnsName: pulumi.Input<string>): aws.route53.HealthCheckArgs {
    return {
        type: args.https ? "HTTPS" : "HTTP",
        fqdn: albDnsName,
        port: args.https ? 443 : 80,
        resourcePath: args.healthPath,
        requestInterval: HEALTH_CHECK.requestIntervalSeconds,
        failureThreshold: HEALTH_CHECK.failureThreshold,
        // The check reaches the ALB by its own DNS name, for which the ALB's certificate (the public
        // name's) does not match; Route 53 does not validate certificates, so that is fine. SNI is
        // left at AWS's default (on for HTTPS) rather than set, as the provider reads it back.
    };
}

/** The routing policy of this region's record. */
export function routingPolicy(args: Pick<RegionalEntryArgs, "topology" | "region" | "isPrimary">): Pick<aws.route53.RecordArgs, "failoverRoutingPolicies" | "latencyRoutingPolicies"> {
    return args.topology === "active-passive"
        ? { failoverRoutingPolicies: [{ type: args.isPrimary ? "PRIMARY" : "SECONDARY" }] }
        : { latencyRoutingPolicies: [{ region: args.region }] };
}

export interface RegionalEntry {
    readonly healthCheck: aws.route53.HealthCheck;
    /** The deployment's name, answered by this region while it is healthy. */
    readonly record: aws.route53.Record;
    /**
     * `<region>.<recordName>`, always this region's ALB: what the failover controller in another
     * region probes (it must see this region itself, not whichever region the shared name picks),
     * and a way in for operators. The ALB's certificate must cover it (e.g. `*.<recordName>`).
     */
    readonly regionalRecord: aws.route53.Record;
}

/** The regional name of a region: `<region>.<recordName>`. */
export function regionalName(region: string, recordName: string): string {
    return `${region}.${recordName}`;
}

export function createRegionalEntry(name: string, args: RegionalEntryArgs, parent: pulumi.Resource): RegionalEntry {
    const healthCheck = new aws.route53.HealthCheck(
        `${name}-region-health`,
        { ...healthCheckArgs(args, args.alb.dnsName), tags: { ...args.tags, Name: `${name}-${args.region}` } },
        { parent },
    );
    const record = new aws.route53.Record(
        `${name}-region-record`,
        {
            zoneId: args.zoneId,
            name: args.recordName,
            type: "A",
            setIdentifier: args.region,
            healthCheckId: healthCheck.id,
            aliases: [{ name: args.alb.dnsName, zoneId: args.alb.zoneId, evaluateTargetHealth: true }],
            ...routingPolicy(args),
        },
        { parent },
    );
    const regionalRecord = new aws.route53.Record(
        `${name}-region-name`,
        {
            zoneId: args.zoneId,
            name: regionalName(args.region, args.recordName),
            type: "A",
            aliases: [{ name: args.alb.dnsName, zoneId: args.alb.zoneId, evaluateTargetHealth: false }],
        },
        { parent },
    );
    return { healthCheck, record, regionalRecord };
}
