/**
 * The failover controller (tools/failover/, `aurora-global` adapter) as one Fargate task in the
 * failover region of an active-passive deployment (`apfa:multiRegion.regions[1]`): it probes the
 * primary region's regional name from outside that region and, after N consecutive failures,
 * promotes this region's cluster of the global database with `FailoverGlobalCluster`
 * (allow-data-loss). Nothing it does needs the primary region or Route 53's control plane.
 *
 * - Exactly one controller: desired count 1, and a deployment stops the old task before starting
 *   the new one (maximum 100 %, minimum healthy 0 %): two controllers would count the same
 *   failures, and the second would find a promotion under way.
 * - Least privilege: its task role may fail over / switch over exactly this global cluster onto
 *   exactly this region's cluster, describe those two, and read its control parameter. Nothing else.
 * - The operator's flags (`{"paused": bool, "rearm": "…"}`) are an SSM parameter in this region;
 *   `pulumi up` creates it armed and never writes it back (ignoreChanges), so a pause set during an
 *   incident survives a deploy.
 * - No inbound traffic at all; outbound HTTPS only (the health URLs, the RDS and SSM APIs).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import type { AwsConfig } from "../../config";
import { awslogs, containerDefinitionsJson, environmentList, healthCheckTiming, httpHealthCheckCommand, type ContainerDefinition } from "./containers";
import { createRole, ecsTasksTrustPolicy, executionRolePolicy, type AwsLocation, type PolicyDocument } from "./iam";
import type { Network } from "./network";
import { allowEgress, createSecurityGroup } from "./securityGroups";
import { awsTags } from "./tags";

/** The controller's metrics and /health port (tools/failover/metrics.ts). */
export const CONTROLLER_PORT = 9102;
/** The flags a new controller starts with: armed, not paused. */
export const INITIAL_CONTROL = JSON.stringify({ paused: false, rearm: "" });

/** The control parameter's name, in the controller's region. */
export function controlParameterName(deployment: string): string {
    return `/${deployment}/failover/control`;
}

/** The health URL of one region of the deployment: its regional name (`<region>.<domainName>`). */
export function regionalHealthUrl(scheme: "http" | "https", region: string, domainName: string, healthPath: string): string {
    return `${scheme}://${region}.${domainName}${healthPath}`;
}

/**
 * The controller's task-role policy. FailoverGlobalCluster and SwitchoverGlobalCluster are
 * authorised on the global cluster and on the target cluster; the describes are what the adapter's
 * `describe()` reads to tell whether this region is already the writer.
 */
export function controllerPolicy(args: { globalClusterArn: string; standbyClusterArn: string; controlParameterArn: string }): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "PromoteThisRegionsClusterOfThisGlobalDatabase",
                Effect: "Allow",
                Action: ["rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"],
                Resource: [args.globalClusterArn, args.standbyClusterArn],
            },
            {
                Sid: "SeeWhoIsTheWriter",
                Effect: "Allow",
                Action: ["rds:DescribeGlobalClusters", "rds:DescribeDBClusters"],
                Resource: [args.globalClusterArn, args.standbyClusterArn],
            },
            {
                Sid: "ReadTheOperatorsFlags",
                Effect: "Allow",
                Action: ["ssm:GetParameter"],
                Resource: [args.controlParameterArn],
            },
        ],
    };
}

/** The controller's environment (tools/failover/config.ts names). */
export function controllerEnvironment(args: {
    region: string;
    globalClusterIdentifier: string;
    standbyClusterArn: string;
    primaryHealthUrl: string;
    standbyHealthUrl: string;
    controlParameter: string;
}): Record<string, string> {
    return {
        AWS_REGION: args.region,
        APFA_FAILOVER_ADAPTER: "aurora-global",
        APFA_FAILOVER_AURORA_GLOBAL_CLUSTER: args.globalClusterIdentifier,
        APFA_FAILOVER_AURORA_STANDBY_CLUSTER_ARN: args.standbyClusterArn,
        APFA_FAILOVER_PRIMARY_HEALTH_URLS: args.primaryHealthUrl,
        // Never promote into a region that cannot serve: its own app must answer too.
        APFA_FAILOVER_STANDBY_HEALTH_URLS: args.standbyHealthUrl,
        APFA_FAILOVER_CONTROL_SSM_PARAMETER: args.controlParameter,
        APFA_FAILOVER_METRICS_PORT: String(CONTROLLER_PORT),
    };
}

export interface FailoverControllerArgs {
    readonly config: AwsConfig;
    readonly network: Network;
    readonly cluster: aws.ecs.Cluster;
    readonly logGroup: aws.cloudwatch.LogGroup;
    readonly location: pulumi.Output<AwsLocation>;
    readonly image: string;
    readonly deployment: string;
    readonly globalClusterIdentifier: string;
    readonly standbyCluster: aws.rds.Cluster;
    readonly primaryHealthUrl: string;
    readonly standbyHealthUrl: string;
}

export interface FailoverController {
    readonly service: aws.ecs.Service;
    readonly controlParameter: aws.ssm.Parameter;
}

export function createFailoverController(name: string, args: FailoverControllerArgs, parent: pulumi.Resource): FailoverController {
    const { config, location } = args;
    const base = `${name}-failover`;
    const serviceName = `${config.prefix}-failover`;

    const controlParameter = new aws.ssm.Parameter(
        `${base}-control`,
        {
            name: controlParameterName(args.deployment),
            type: "String",
            // Not a secret: `insecureValue` keeps it readable in plans (`value` is always secret).
            insecureValue: INITIAL_CONTROL,
            description: `${config.prefix}: the failover controller's flags, {"paused": bool, "rearm": "..."} (docs/failover.md)`,
            tags: awsTags(config, `${base}-control`),
        },
        // Operators write it during incidents; a deploy must not undo a pause.
        { parent, ignoreChanges: ["insecureValue"] },
    );

    const securityGroup = createSecurityGroup(`${base}-sg`, `${serviceName}: failover controller (no inbound)`, args.network, config, parent);
    allowEgress(`${base}-https-out`, { securityGroupId: securityGroup.id, description: "Health URLs, RDS and SSM APIs", port: 443, peer: { cidrIpv4: "0.0.0.0/0" } }, config, parent);

    const trust = location.apply((where) => JSON.stringify(ecsTasksTrustPolicy(where)));
    const execution = createRole(
        `${base}-execution`,
        {
            description: `ECS agent of ${serviceName}: pull, logs`,
            assumeRolePolicy: trust,
            policies: { start: args.logGroup.arn.apply((logGroupArn) => JSON.stringify(executionRolePolicy({ logGroupArn, images: [args.image] }))) },
        },
        config,
        parent,
    );
    const globalClusterArn = location.apply((where) => `arn:${where.partition}:rds::${where.accountId}:global-cluster:${args.globalClusterIdentifier}`);
    const task = createRole(
        `${base}-task`,
        {
            description: `${serviceName}: promote this region's cluster of ${args.globalClusterIdentifier}, nothing else`,
            assumeRolePolicy: trust,
            policies: {
                promote: pulumi
                    .all([globalClusterArn, args.standbyCluster.arn, controlParameter.arn])
                    .apply(([globalArn, standbyClusterArn, controlParameterArn]) =>
                        JSON.stringify(controllerPolicy({ globalClusterArn: globalArn, standbyClusterArn, controlParameterArn })),
                    ),
            },
        },
        config,
        parent,
    );

    const containerDefinitions = pulumi.all([args.standbyCluster.arn, args.logGroup.name]).apply(([standbyClusterArn, logGroupName]) => {
        const container: ContainerDefinition = {
            name: "controller",
            image: args.image,
            essential: true,
            command: ["run"],
            environment: environmentList(
                controllerEnvironment({
                    region: config.region,
                    globalClusterIdentifier: args.globalClusterIdentifier,
                    standbyClusterArn,
                    primaryHealthUrl: args.primaryHealthUrl,
                    standbyHealthUrl: args.standbyHealthUrl,
                    controlParameter: controlParameterName(args.deployment),
                }),
            ),
            readonlyRootFilesystem: true,
            healthCheck: { command: httpHealthCheckCommand(CONTROLLER_PORT, "/health"), ...healthCheckTiming(30) },
            linuxParameters: { initProcessEnabled: true, capabilities: { drop: ["ALL"] } },
            logConfiguration: awslogs({ logGroupName, region: config.region }, "failover"),
        };
        return containerDefinitionsJson([container]);
    });
    const taskDefinition = new aws.ecs.TaskDefinition(
        `${base}-task-definition`,
        {
            family: serviceName,
            requiresCompatibilities: ["FARGATE"],
            networkMode: "awsvpc",
            cpu: "256",
            memory: "512",
            runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
            executionRoleArn: execution.role.arn,
            taskRoleArn: task.role.arn,
            containerDefinitions,
            tags: awsTags(config, serviceName),
        },
        { parent },
    );
    const service = new aws.ecs.Service(
        `${base}-service`,
        {
            name: serviceName,
            cluster: args.cluster.arn,
            taskDefinition: taskDefinition.arn,
            launchType: "FARGATE",
            platformVersion: "LATEST",
            desiredCount: 1,
            // Never two controllers: the old task stops before the new one starts.
            deploymentMaximumPercent: 100,
            deploymentMinimumHealthyPercent: 0,
            // A new image that never gets healthy is rolled back to the last one that ran.
            deploymentCircuitBreaker: { enable: true, rollback: true },
            networkConfiguration: { subnets: args.network.privateSubnets.map((s) => s.id), securityGroups: [securityGroup.id], assignPublicIp: false },
            propagateTags: "SERVICE",
            enableEcsManagedTags: true,
            tags: awsTags(config, serviceName),
        },
        { parent, dependsOn: [...args.network.egressReady, ...execution.grants, ...task.grants] },
    );
    return { service, controlParameter };
}
