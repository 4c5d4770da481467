/**
 * The release gate's metrics from CloudWatch, for the aws target: the ALB's per-target-group
 * metrics in the AWS/ApplicationELB namespace, so a release on ECS can be judged without reaching
 * Prometheus.
 *
 *   RequestCount (Sum), HTTPCode_Target_5XX_Count (Sum), TargetResponseTime (p95),
 *   HealthyHostCount (Minimum), UnHealthyHostCount (Maximum)
 *
 * each with the dimensions TargetGroup and LoadBalancer (the ARN suffixes). ALB metrics are
 * published per 60 s, so the window is rounded up to whole minutes and ends at the last complete
 * minute (the current one is still filling).
 */
import { GetMetricDataCommand, type GetMetricDataCommandOutput, type MetricDataQuery } from "@aws-sdk/client-cloudwatch";

import type { Slot } from "../../../src/config";
import { SLOTS } from "../../../src/config";
import type { SlotSample } from "../analysis";
import type { MetricSource, SlotHealth } from "./source";

/**
 * The ALB and its two target groups, as CloudWatch dimension values: the aws target exports them
 * as stack outputs (`target.loadBalancerArnSuffix`, `target.targetGroupArnSuffixes`).
 */
export interface AlbTarget {
    /** LoadBalancer dimension, e.g. "app/apfa-prod-aws/50dc6c495c0c9188". */
    readonly loadBalancer: string;
    /** TargetGroup dimension per slot, e.g. "targetgroup/apfa-prod-aws-blue/73e2d6bc24d8a067". */
    readonly targetGroups: Readonly<Record<Slot, string>>;
}

/** The minimal client surface used (the real CloudWatchClient, or a fake in tests). */
export interface CloudWatchLike {
    send(command: GetMetricDataCommand): Promise<GetMetricDataCommandOutput>;
}

type Stat = "Sum" | "p95" | "Minimum" | "Maximum";

/** Query ids: CloudWatch wants them to start with a lower-case letter, then letters, digits, _. */
function queryId(slot: Slot, metric: string): string {
    return `${slot}_${metric.replace(/[^A-Za-z0-9]/g, "").toLowerCase()}`;
}

/** The GetMetricData queries for both slots (pure; tested for names, dimensions and ids). */
export function cloudWatchQueries(target: AlbTarget, periodSeconds: number, metrics: ReadonlyArray<[string, Stat]>): MetricDataQuery[] {
    const queries: MetricDataQuery[] = [];
    for (const slot of SLOTS) {
        for (const [metricName, stat] of metrics) {
            queries.push({
                Id: queryId(slot, metricName),
                MetricStat: {
                    Metric: {
                        Namespace: "AWS/ApplicationELB",
                        MetricName: metricName,
                        Dimensions: [
                            { Name: "TargetGroup", Value: target.targetGroups[slot] },
                            { Name: "LoadBalancer", Value: target.loadBalancer },
                        ],
                    },
                    Period: periodSeconds,
                    Stat: stat,
                },
                ReturnData: true,
            });
        }
    }
    return queries;
}

export const TRAFFIC_METRICS: ReadonlyArray<[string, Stat]> = [
    ["RequestCount", "Sum"],
    ["HTTPCode_Target_5XX_Count", "Sum"],
    ["TargetResponseTime", "p95"],
];
export const HEALTH_METRICS: ReadonlyArray<[string, Stat]> = [
    ["HealthyHostCount", "Minimum"],
    ["UnHealthyHostCount", "Maximum"],
];

/** [start, end) of a window of whole minutes ending at the last complete minute before `at`. */
export function minuteWindow(windowSeconds: number, at: Date): { start: Date; end: Date; periodSeconds: number } {
    const periodSeconds = Math.max(60, Math.ceil(windowSeconds / 60) * 60);
    const end = new Date(Math.floor(at.getTime() / 60_000) * 60_000);
    return { start: new Date(end.getTime() - periodSeconds * 1000), end, periodSeconds };
}

export class CloudWatchSource implements MetricSource {
    readonly description: string;

    constructor(
        private readonly client: CloudWatchLike,
        private readonly target: AlbTarget,
    ) {
        this.description = `cloudwatch AWS/ApplicationELB ${target.loadBalancer}`;
    }

    private async fetch(queries: MetricDataQuery[], start: Date, end: Date): Promise<Map<string, number[]>> {
        const values = new Map<string, number[]>();
        let nextToken: string | undefined;
        do {
            const out = await this.client.send(
                new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: start, EndTime: end, NextToken: nextToken, ScanBy: "TimestampDescending" }),
            );
            for (const result of out.MetricDataResults ?? []) {
                if (result.Id) {
                    values.set(result.Id, [...(values.get(result.Id) ?? []), ...(result.Values ?? [])]);
                }
            }
            nextToken = out.NextToken;
        } while (nextToken);
        return values;
    }

    async sample(windowSeconds: number, at: Date): Promise<Record<Slot, SlotSample>> {
        const { start, end, periodSeconds } = minuteWindow(windowSeconds, at);
        const values = await this.fetch(cloudWatchQueries(this.target, periodSeconds, TRAFFIC_METRICS), start, end);
        const sum = (id: string) => (values.get(id) ?? []).reduce((a, b) => a + b, 0);
        const result = {} as Record<Slot, SlotSample>;
        for (const slot of SLOTS) {
            const latencies = values.get(queryId(slot, "TargetResponseTime")) ?? [];
            result[slot] = {
                requests: sum(queryId(slot, "RequestCount")),
                errors: sum(queryId(slot, "HTTPCode_Target_5XX_Count")),
                // One period spans the window, so there is at most one p95 data point; take the worst if more.
                p95Seconds: latencies.length > 0 ? Math.max(...latencies) : undefined,
            };
        }
        return result;
    }

    async health(slot: Slot, at: Date): Promise<SlotHealth> {
        const { start, end, periodSeconds } = minuteWindow(60, at);
        const values = await this.fetch(cloudWatchQueries(this.target, periodSeconds, HEALTH_METRICS), start, end);
        const first = (id: string) => values.get(id)?.[0];
        return {
            up: first(queryId(slot, "HealthyHostCount")) ?? 0,
            down: first(queryId(slot, "UnHealthyHostCount")) ?? 0,
        };
    }
}
