/**
 * `apfa:monitoring.managedPrometheus` on aws: an Amazon Managed Service for Prometheus workspace.
 * Prometheus remote-writes every sample to it and Grafana queries it, both signing with SigV4 as
 * their own task roles; each role gets exactly its actions on exactly this workspace.
 *
 * Why: the ECS target's Prometheus keeps its TSDB on an ECS-managed EBS volume that lives as long as
 * the task, so a replaced task (a config change, a Fargate retirement) starts empty. The workspace
 * keeps 150 days (its default retention) whatever happens to the task.
 *
 * Checked against the provider and the service: `aws.amp.Workspace` takes `alias`, `kmsKeyArn`
 * (ForceNew; without it an AWS-owned key encrypts the data), `loggingConfiguration` and `tags`; its
 * `prometheusEndpoint` output ends with "/" (`https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/`).
 * `aps:RemoteWrite` and the query actions accept the workspace ARN as their resource.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import type { ManagedMetricsStore } from "../../contract";
import type { AwsConfig } from "../../config";
import type { PolicyDocument } from "./iam";
import { awsTags } from "./tags";

/** What Grafana needs to read a workspace (AWS's AmazonPrometheusQueryAccess, on one workspace). */
export const AMP_QUERY_ACTIONS = ["aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata"] as const;
/** What Prometheus needs to write to it. */
export const AMP_WRITE_ACTIONS = ["aps:RemoteWrite"] as const;

/** The task-role policy for `write` (Prometheus) or `query` (Grafana) access to exactly one workspace. */
export function ampAccessPolicy(access: "write" | "query", workspaceArn: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: access === "write" ? "RemoteWriteToTheStacksWorkspace" : "QueryTheStacksWorkspace",
                Effect: "Allow",
                Action: [...(access === "write" ? AMP_WRITE_ACTIONS : AMP_QUERY_ACTIONS)],
                Resource: [workspaceArn],
            },
        ],
    };
}

/** The remote-write and query URLs of a workspace, from its `prometheusEndpoint`. */
export function ampUrls(prometheusEndpoint: string): { remoteWriteUrl: string; queryUrl: string } {
    const root = prometheusEndpoint.replace(/\/+$/, "");
    return { remoteWriteUrl: `${root}/api/v1/remote_write`, queryUrl: root };
}

export interface MetricsWorkspace {
    readonly workspace: aws.amp.Workspace;
    readonly store: ManagedMetricsStore;
}

/**
 * An existing workspace (`apfa:monitoring.managedPrometheusWorkspace`), possibly in another region:
 * requests are signed for the workspace's region, and the grants name its ARN.
 */
export function existingMetricsWorkspace(
    workspace: { readonly region: string; readonly id: string },
    location: pulumi.Output<{ partition: string; accountId: string }>,
): { readonly arn: pulumi.Output<string>; readonly store: ManagedMetricsStore } {
    const urls = ampUrls(`https://aps-workspaces.${workspace.region}.amazonaws.com/workspaces/${workspace.id}/`);
    return {
        arn: location.apply((where) => `arn:${where.partition}:aps:${workspace.region}:${where.accountId}:workspace/${workspace.id}`),
        store: { remoteWriteUrl: pulumi.output(urls.remoteWriteUrl), queryUrl: pulumi.output(urls.queryUrl), auth: { kind: "sigv4", region: workspace.region } },
    };
}

/** The stack's workspace; protected in production (its history is the point of it). */
export function createMetricsWorkspace(name: string, config: AwsConfig, parent: pulumi.Resource): MetricsWorkspace {
    const workspace = new aws.amp.Workspace(
        `${name}-metrics`,
        { alias: config.prefix, tags: awsTags(config, `${config.prefix}-metrics`) },
        { parent, protect: config.production },
    );
    const urls = workspace.prometheusEndpoint.apply(ampUrls);
    return {
        workspace,
        store: {
            remoteWriteUrl: urls.remoteWriteUrl,
            queryUrl: urls.queryUrl,
            auth: { kind: "sigv4", region: config.region },
        },
    };
}
