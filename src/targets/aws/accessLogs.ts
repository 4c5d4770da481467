/**
 * The ALB's access logs: a private, encrypted S3 bucket that only Elastic Load Balancing's log
 * delivery may write to, with the logs expiring after the stack's log retention.
 *
 * Who writes the logs depends on the region (Elastic Load Balancing user guide, "Enable access logs
 * for your Application Load Balancer"): regions opened before August 2022 deliver as a regional
 * ELB account (`aws.elb.getServiceAccount`), later ones as the service principal
 * `logdelivery.elasticloadbalancing.amazonaws.com`. Both are granted where the regional account
 * exists; the data source knows no account for newer regions, so it is only asked for older ones.
 * ALB access logs support only SSE-S3 (AES256) encryption, not KMS keys.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import type { AwsConfig } from "../../config";
import type { AwsLocation } from "./iam";
import { awsTags } from "./tags";

/** Regions with a regional ELB log-delivery account (opened before August 2022). */
export const REGIONS_WITH_ELB_ACCOUNT: ReadonlySet<string> = new Set([
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-south-1", "ap-northeast-1",
    "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ca-central-1",
    "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-north-1", "me-south-1", "sa-east-1",
    "us-gov-west-1", "us-gov-east-1", "cn-north-1", "cn-northwest-1",
]);

/** Key prefix of the ALB's log objects in the bucket. */
export const ACCESS_LOG_PREFIX = "alb";

export interface AccessLogs {
    readonly bucket: aws.s3.Bucket;
    /** The bucket policy: the ALB may only enable logging once delivery is allowed. */
    readonly policy: aws.s3.BucketPolicy;
}

/** The bucket policy document (pure): delivery principals may put objects under the log prefix; no plain HTTP. */
export function accessLogBucketPolicy(bucketArn: string, where: AwsLocation, elbAccountArn: string | undefined): string {
    const logObjects = `${bucketArn}/${ACCESS_LOG_PREFIX}/AWSLogs/${where.accountId}/*`;
    const statements: Record<string, unknown>[] = [
        {
            Sid: "ElbLogDelivery",
            Effect: "Allow",
            Principal: { Service: "logdelivery.elasticloadbalancing.amazonaws.com" },
            Action: "s3:PutObject",
            Resource: logObjects,
        },
        {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [bucketArn, `${bucketArn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
    ];
    if (elbAccountArn) {
        statements.splice(1, 0, { Sid: "ElbRegionalAccountLogDelivery", Effect: "Allow", Principal: { AWS: elbAccountArn }, Action: "s3:PutObject", Resource: logObjects });
    }
    return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

export function createAccessLogs(
    name: string,
    config: AwsConfig,
    location: pulumi.Output<AwsLocation>,
    protect: boolean,
    parent: pulumi.Resource,
): AccessLogs {
    const opts = { parent };
    const bucket = new aws.s3.Bucket(
        `${name}-alb-logs`,
        {
            // Logs outlive a mistaken destroy only where the stack is protected; elsewhere the bucket may go with its logs.
            forceDestroy: !protect,
            tags: awsTags(config, `${config.prefix}-alb-logs`),
        },
        { ...opts, protect },
    );
    new aws.s3.BucketPublicAccessBlock(
        `${name}-alb-logs-private`,
        { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
        opts,
    );
    new aws.s3.BucketOwnershipControls(`${name}-alb-logs-owner`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, opts);
    new aws.s3.BucketServerSideEncryptionConfiguration(
        `${name}-alb-logs-sse`,
        { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
        opts,
    );
    new aws.s3.BucketLifecycleConfiguration(
        `${name}-alb-logs-expiry`,
        {
            bucket: bucket.id,
            // A non-empty filter: an empty one does not round-trip and shows a diff on every preview.
            rules: [{ id: "expire-access-logs", status: "Enabled", filter: { prefix: `${ACCESS_LOG_PREFIX}/` }, expiration: { days: config.aws.logRetentionDays } }],
        },
        opts,
    );
    const elbAccount = REGIONS_WITH_ELB_ACCOUNT.has(config.region) ? aws.elb.getServiceAccountOutput({ region: config.region }, opts).arn : pulumi.output(undefined);
    const policy = new aws.s3.BucketPolicy(
        `${name}-alb-logs-policy`,
        { bucket: bucket.id, policy: pulumi.all([bucket.arn, location, elbAccount]).apply(([arn, where, account]) => accessLogBucketPolicy(arn, where, account)) },
        opts,
    );
    return { bucket, policy };
}
