/**
 * IAM for the AWS target: policy documents as pure functions (tested by parsing them), and one
 * helper that makes a role with inline policies.
 *
 * Every grant names its resources, except the few actions AWS does not scope to a resource
 * (ecr:GetAuthorizationToken, ecs:List*, ec2:Describe*, ssmmessages:*): those name the action
 * exactly and say why in the statement id. Nothing grants `*` on `*`.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { awsTags, type TagSource } from "./tags";

export interface PolicyStatement {
    readonly Sid: string;
    readonly Effect: "Allow" | "Deny";
    readonly Principal?: Readonly<Record<string, string | readonly string[]>>;
    readonly Action: readonly string[];
    readonly Resource?: readonly string[];
    readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

export interface PolicyDocument {
    readonly Version: "2012-10-17";
    readonly Statement: readonly PolicyStatement[];
}

/** Where the stack's resources live, for building ARNs. */
export interface AwsLocation {
    readonly partition: string;
    readonly region: string;
    readonly accountId: string;
}

function document(statements: readonly PolicyStatement[]): PolicyDocument {
    return { Version: "2012-10-17", Statement: statements };
}

/**
 * The ECR repository ARN an image reference pulls from, or undefined when the image is not in a
 * private ECR registry (Docker Hub, quay.io, ECR Public need no IAM grant).
 */
export function ecrRepositoryArn(image: string): string | undefined {
    const match = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/([^:@]+)/.exec(image);
    if (!match) {
        return undefined;
    }
    const [, account, region, china, repository] = match;
    const partition = china ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
    return `arn:${partition}:ecr:${region}:${account}:repository/${repository}`;
}

/**
 * Trust policy of task and execution roles: only ECS tasks of this account and region may assume
 * them (the source conditions stop the confused-deputy problem).
 */
export function ecsTasksTrustPolicy(where: AwsLocation): PolicyDocument {
    return document([
        {
            Sid: "EcsTasksOfThisAccount",
            Effect: "Allow",
            Principal: { Service: "ecs-tasks.amazonaws.com" },
            Action: ["sts:AssumeRole"],
            Condition: {
                StringEquals: { "aws:SourceAccount": where.accountId },
                ArnLike: { "aws:SourceArn": `arn:${where.partition}:ecs:${where.region}:${where.accountId}:*` },
            },
        },
    ]);
}

/**
 * Trust policy of the ECS infrastructure role (ECS itself manages the tasks' EBS volumes with it).
 *
 * Exactly AWS's documented trust policy for this role ("Amazon ECS infrastructure IAM role", ECS
 * Developer Guide): `ecs.amazonaws.com` with `sts:AssumeRole` and no condition, unlike the task
 * roles. Nothing documents which context keys (aws:SourceArn, aws:SourceAccount) ECS sends when it
 * assumes this role for a task's EBS volume, and a condition on an absent key denies — the service
 * would then fail with "ECS was unable to assume the configured ECS Infrastructure Role". Only
 * principals of this account allowed to pass the role (iam:PassRole) can make ECS use it.
 */
export function ecsInfrastructureTrustPolicy(): PolicyDocument {
    return document([
        {
            Sid: "EcsServiceManagesVolumes",
            Effect: "Allow",
            Principal: { Service: "ecs.amazonaws.com" },
            Action: ["sts:AssumeRole"],
        },
    ]);
}

export interface ExecutionGrants {
    /** ARN of the log group the tasks write to (without a trailing `:*`). */
    readonly logGroupArn: string;
    /** Images the tasks run; ECR ones get pull rights on exactly their repositories. */
    readonly images: readonly string[];
    /** Secrets Manager secrets injected as container secrets. */
    readonly secretArns?: readonly string[];
    /** Customer-managed KMS keys those secrets are encrypted with (the RDS-managed master secret's key). */
    readonly secretKeyArns?: readonly string[];
    /**
     * Images pulled through an ECR pull-through cache: the first pull of each creates its
     * repository and imports the upstream image, which needs two more actions on that repository.
     */
    readonly pullThroughImages?: readonly string[];
}

/**
 * What the ECS agent needs to start a task: pull its images, write its logs, read its secrets.
 */
export function executionRolePolicy(grants: ExecutionGrants): PolicyDocument {
    const repositories = [...new Set(grants.images.map(ecrRepositoryArn).filter((a): a is string => a !== undefined))].sort();
    const statements: PolicyStatement[] = [
        {
            Sid: "WriteTaskLogs",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            // `<group>:*` is how IAM sees a log group (CreateLogStream) and its streams (PutLogEvents).
            Resource: [`${grants.logGroupArn}:*`],
        },
    ];
    if (repositories.length > 0) {
        statements.push(
            {
                Sid: "EcrAuthTokenIsNotResourceScoped",
                Effect: "Allow",
                Action: ["ecr:GetAuthorizationToken"],
                Resource: ["*"],
            },
            {
                Sid: "PullTaskImages",
                Effect: "Allow",
                Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                Resource: repositories,
            },
        );
    }
    const cached = [...new Set((grants.pullThroughImages ?? []).map(ecrRepositoryArn).filter((a): a is string => a !== undefined))].sort();
    if (cached.length > 0) {
        statements.push({
            Sid: "FillPullThroughCache",
            Effect: "Allow",
            Action: ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
            Resource: cached,
        });
    }
    const secrets = [...new Set(grants.secretArns ?? [])].sort();
    if (secrets.length > 0) {
        statements.push({
            Sid: "ReadTaskSecrets",
            Effect: "Allow",
            Action: ["secretsmanager:GetSecretValue"],
            Resource: secrets,
        });
    }
    const keys = [...new Set(grants.secretKeyArns ?? [])].sort();
    if (keys.length > 0) {
        statements.push({
            Sid: "DecryptTaskSecrets",
            Effect: "Allow",
            Action: ["kms:Decrypt"],
            Resource: keys,
        });
    }
    return document(statements);
}

/**
 * The read actions Prometheus's `aws_sd_configs` with `role: ecs` calls (discovery/aws/ecs.go,
 * Prometheus 3.8+) to find the Fargate tasks of ONE cluster — the generated config names it by ARN
 * in `clusters`, so Prometheus never lists or reads other clusters (no ecs:ListClusters):
 * - ecs:DescribeClusters — this cluster, plus the account's `default` cluster ARN, which is what
 *   IAM checks for Prometheus's start-up credential test (DescribeClusters without a cluster);
 * - ecs:ListServices, ecs:ListTasks — no resource ARN, so scoped with the `ecs:cluster` condition;
 * - ecs:DescribeServices, ecs:DescribeTasks — services and tasks of this cluster;
 * - ec2:DescribeNetworkInterfaces — the task ENIs (not resource-scoped).
 * DescribeContainerInstances and ec2:DescribeInstances serve EC2-launched tasks only; this
 * cluster runs Fargate only, so they are not granted.
 */
export function ecsDiscoveryPolicy(where: AwsLocation, clusterName: string): PolicyDocument {
    const ecs = `arn:${where.partition}:ecs:${where.region}:${where.accountId}`;
    const clusterArn = `${ecs}:cluster/${clusterName}`;
    return document([
        {
            Sid: "DescribeThisCluster",
            Effect: "Allow",
            Action: ["ecs:DescribeClusters"],
            Resource: [clusterArn, `${ecs}:cluster/default`],
        },
        {
            Sid: "ListInThisClusterOnly",
            Effect: "Allow",
            Action: ["ecs:ListServices", "ecs:ListTasks"],
            Resource: ["*"],
            Condition: { ArnEquals: { "ecs:cluster": clusterArn } },
        },
        {
            Sid: "DescribeServicesAndTasksOfThisCluster",
            Effect: "Allow",
            Action: ["ecs:DescribeServices", "ecs:DescribeTasks"],
            Resource: [`${ecs}:service/${clusterName}/*`, `${ecs}:task/${clusterName}/*`],
        },
        {
            Sid: "TaskEnisDescribeIsNotResourceScoped",
            Effect: "Allow",
            Action: ["ec2:DescribeNetworkInterfaces"],
            Resource: ["*"],
        },
    ]);
}

/**
 * ECS Exec (and SSM port forwarding through it): the task's SSM agent opens its channels. These
 * actions have no resource type, so they cannot be scoped further.
 */
export function ecsExecPolicy(): PolicyDocument {
    return document([
        {
            Sid: "SsmMessagesChannelsAreNotResourceScoped",
            Effect: "Allow",
            Action: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
            Resource: ["*"],
        },
    ]);
}

/** Statements that allow every action on every resource (what least privilege forbids). */
export function wildcardGrants(doc: PolicyDocument): PolicyStatement[] {
    const isStar = (values: readonly string[] | undefined) => (values ?? []).some((v) => v === "*" || v === "*:*");
    return doc.Statement.filter((s) => s.Effect === "Allow" && s.Action.some((a) => a === "*" || /^[a-z0-9-]+:\*$/.test(a)) && isStar(s.Resource));
}

export interface RoleArgs {
    readonly description: string;
    readonly assumeRolePolicy: pulumi.Input<string>;
    /** Inline policies by short name (the RolePolicy resource is `${roleName}-${key}`). */
    readonly policies?: Readonly<Record<string, pulumi.Input<string>>>;
    /** AWS-managed policy ARNs to attach. */
    readonly managedPolicyArns?: readonly pulumi.Input<string>[];
}

export interface RoleWithPolicies {
    readonly role: aws.iam.Role;
    /** The inline policies; depend on them so a task never starts before its grants exist. */
    readonly grants: pulumi.Resource[];
}

/** A role with its inline policies as separate resources (each can change without touching the role). */
export function createRole(name: string, args: RoleArgs, tags: TagSource, parent: pulumi.Resource): RoleWithPolicies {
    const role = new aws.iam.Role(
        name,
        { description: args.description, assumeRolePolicy: args.assumeRolePolicy, tags: awsTags(tags, name) },
        { parent },
    );
    const grants: pulumi.Resource[] = [];
    for (const [key, policy] of Object.entries(args.policies ?? {})) {
        grants.push(new aws.iam.RolePolicy(`${name}-${key}`, { role: role.id, policy }, { parent }));
    }
    (args.managedPolicyArns ?? []).forEach((policyArn, i) => {
        grants.push(new aws.iam.RolePolicyAttachment(`${name}-managed-${i}`, { role: role.name, policyArn }, { parent }));
    });
    return { role, grants };
}
