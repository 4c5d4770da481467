/**
 * Builds the metric source a release is judged with, from the flags, `apfa:rollout` and the stack
 * outputs: the stack's Prometheus (every target) or CloudWatch target-group metrics (aws).
 */
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";

import type { ReleaseContext } from "./context";
import { CloudWatchSource, type AlbTarget } from "./metrics/cloudwatch";
import { PrometheusSource } from "./metrics/prometheus";
import type { MetricSource } from "./metrics/source";
import { APFA_JOB } from "../../src/monitoring/prometheus";
import { parseAwsTargetOutputs } from "../../src/targets/aws/outputs";

export interface MetricFlags {
    readonly metrics?: "prometheus" | "cloudwatch";
    readonly prometheusUrl?: string;
}

export function createMetricSource(context: ReleaseContext, outputs: Readonly<Record<string, unknown>>, flags: MetricFlags): MetricSource {
    const kind = flags.metrics ?? context.rollout.metricsSource;
    if (kind === "cloudwatch") {
        if (context.config.cloud !== "aws") {
            throw new Error(`CloudWatch metrics need the aws target; stack ${context.stack} is ${context.config.cloud}`);
        }
        return new CloudWatchSource(new CloudWatchClient({ region: context.config.region }), albTargetFromOutputs(outputs));
    }
    const url = flags.prometheusUrl ?? prometheusUrlFromOutputs(outputs);
    if (!url) {
        throw new Error(
            `no Prometheus URL: the stack output prometheusUrl is ${JSON.stringify(outputs.prometheusUrl ?? null)}. ` +
                "Reach Prometheus (e.g. `kubectl -n apfa port-forward svc/prometheus 9090:9090`, or an SSM port forward on ECS) " +
                "and pass --prometheus-url http://127.0.0.1:9090" +
                (context.config.cloud === "aws" ? ", or use --metrics cloudwatch" : ""),
        );
    }
    return new PrometheusSource({ url, job: APFA_JOB, healthPath: context.config.app.healthPath });
}

/** The stack output prometheusUrl when it is a URL this machine can use (dev: http://127.0.0.1:9090). */
export function prometheusUrlFromOutputs(outputs: Readonly<Record<string, unknown>>): string | undefined {
    const url = outputs.prometheusUrl;
    return typeof url === "string" && /^https?:\/\/\S+$/.test(url) ? url : undefined;
}

/**
 * The ALB and target groups of the aws target as CloudWatch dimensions: the ARN suffixes its
 * `target` stack output exports (`loadBalancerArnSuffix`, `targetGroupArnSuffixes` {blue, green}).
 * @throws Error naming every missing or malformed field (a stack last deployed by an older version)
 */
export function albTargetFromOutputs(outputs: Readonly<Record<string, unknown>>): AlbTarget {
    const target = parseAwsTargetOutputs(outputs.target);
    return { loadBalancer: target.loadBalancerArnSuffix, targetGroups: { ...target.targetGroupArnSuffixes } };
}
