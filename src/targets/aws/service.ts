/**
 * One blue/green slot on ECS: a Fargate task definition and an ECS service registered in the
 * slot's target group. The slot never knows its weight; the listener rule does.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import type { AwsConfig, Slot } from "../../config";
import { PASSWORD_ENV, libpqEnvironment } from "../../config/database";
import type { Database } from "../../contract";
import { slotImage, slotReplicaBounds, trafficWeights } from "../../bluegreen";
import { APP_TMP_VOLUME, appContainerDefinitions, containerDefinitionsJson } from "./containers";
import type { Network } from "./network";
import { logGroupName, slotServiceName } from "./names";
import { fargateTaskSize } from "./sizing";
import { awsTags } from "./tags";

/** Rolling deployment of a slot: full capacity stays up, a failing deployment rolls itself back. */
export const ROLLING_DEPLOYMENT = {
    deploymentMinimumHealthyPercent: 100,
    deploymentMaximumPercent: 200,
    deploymentCircuitBreaker: { enable: true, rollback: true },
} as const;

/** APFA's environment in a slot: app-wide env, the slot's own, then what the platform sets. */
export function slotEnvironment(config: Pick<AwsConfig, "app" | "release">, slot: Slot): Record<string, string> {
    return {
        ...config.app.env,
        ...config.release[slot].env,
        PORT: String(config.app.port),
        METRICS_PORT: String(config.app.metricsPort),
        SLOT: slot,
        APP_VERSION: slotImage(config.release, slot) ?? "unknown",
    };
}

export interface SlotContext {
    readonly config: AwsConfig;
    readonly network: Network;
    readonly cluster: aws.ecs.Cluster;
    readonly executionRoleArn: pulumi.Input<string>;
    readonly taskRoleArn: pulumi.Input<string>;
    readonly taskSecurityGroupId: pulumi.Input<string>;
    readonly targetGroup: aws.lb.TargetGroup;
    /** APFA's database: its libpq settings become plain environment, the password a container secret. */
    readonly database?: Database;
    /**
     * Resources that must exist before the service (the rule that attaches the target group, IAM
     * grants, security-group rules), besides the network's `egressReady`, which is always added.
     */
    readonly dependsOn: pulumi.Resource[];
}

export interface SlotService {
    readonly taskDefinition: aws.ecs.TaskDefinition;
    readonly service: aws.ecs.Service;
}

export function createSlotService(name: string, slot: Slot, ctx: SlotContext, parent: pulumi.Resource): SlotService {
    const { config } = ctx;
    const image = slotImage(config.release, slot);
    if (!image) {
        throw new pulumi.ResourceError(`apfa:release.${slot}.image: no image for slot ${slot} (and none for the active slot)`, parent);
    }
    const size = fargateTaskSize(config.app.cpu, config.app.memoryMiB);
    const family = slotServiceName(config.prefix, slot);

    const taskDefinition = new aws.ecs.TaskDefinition(
        `${name}-${slot}-task`,
        {
            family,
            requiresCompatibilities: ["FARGATE"],
            networkMode: "awsvpc",
            cpu: size.cpu,
            memory: size.memory,
            runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: config.aws.cpuArchitecture },
            executionRoleArn: ctx.executionRoleArn,
            taskRoleArn: ctx.taskRoleArn,
            volumes: [{ name: APP_TMP_VOLUME }],
            containerDefinitions: databaseSettings(ctx.database).apply(({ env, secrets }) =>
                containerDefinitionsJson(
                    appContainerDefinitions({
                        image,
                        port: config.app.port,
                        metricsPort: config.app.metricsPort,
                        healthPath: config.app.healthPath,
                        env: { ...slotEnvironment(config, slot), ...env },
                        secrets,
                        logs: { logGroupName: logGroupName(config.prefix), region: config.region },
                        slot,
                        healthCheckStartPeriodSeconds: config.aws.healthCheckGracePeriodSeconds,
                    }),
                ),
            ),
            tags: awsTags(config, family, { slot }),
        },
        { parent },
    );

    const serviceName = slotServiceName(config.prefix, slot);
    const service = new aws.ecs.Service(
        `${name}-${slot}`,
        {
            name: serviceName,
            cluster: ctx.cluster.arn,
            taskDefinition: taskDefinition.arn,
            launchType: "FARGATE",
            platformVersion: "LATEST",
            // The starting count only (the slot's minimum, its floor included; 0 when scaled down):
            // Application Auto Scaling owns it from then on (ignoreChanges), and a floor change
            // reaches the running service through the scalable target's minCapacity.
            desiredCount: slotReplicaBounds(config, slot).min,
            networkConfiguration: {
                subnets: ctx.network.privateSubnets.map((s) => s.id),
                securityGroups: [ctx.taskSecurityGroupId],
                assignPublicIp: false,
            },
            loadBalancers: [{ targetGroupArn: ctx.targetGroup.arn, containerName: "apfa", containerPort: config.app.port }],
            healthCheckGracePeriodSeconds: config.aws.healthCheckGracePeriodSeconds,
            deploymentController: { type: "ECS" },
            deploymentConfiguration: { strategy: "ROLLING" },
            ...ROLLING_DEPLOYMENT,
            propagateTags: "SERVICE",
            enableEcsManagedTags: true,
            waitForSteadyState: true,
            tags: awsTags(config, serviceName, { slot }),
        },
        {
            parent,
            // Tasks pull their image and write logs from the private subnets as soon as the service exists.
            dependsOn: [...ctx.network.egressReady, ...ctx.dependsOn],
            ignoreChanges: ["desiredCount"],
            // The name is fixed (Prometheus and autoscaling address the service by it), so a
            // replacement (a ForceNew change) must delete the old service before creating the new
            // one: allowed for the idle slot only. The serving slot is never deleted first: its
            // replacement fails on the taken name and the update stops before any outage — move
            // traffic off it (a release) and the same change then replaces it while idle.
            deleteBeforeReplace: trafficWeights(config.release)[slot] === 0,
        },
    );
    return { taskDefinition, service };
}


/**
 * The database's part of a task definition: libpq's plain settings, and PGPASSWORD as a container
 * secret that ECS reads from Secrets Manager at task start (`<secret ARN>:<JSON key>::`, the
 * current version), so the password is in no task definition, plan or state.
 */
export interface TaskDatabaseSettings {
    readonly env: Readonly<Record<string, string>>;
    readonly secrets: Readonly<Record<string, string>>;
}

export function databaseSettings(database: Database | undefined): pulumi.Output<TaskDatabaseSettings> {
    const none: TaskDatabaseSettings = { env: {}, secrets: {} };
    if (!database) {
        return pulumi.output(none).apply((settings): TaskDatabaseSettings => settings);
    }
    const { password } = database.connection;
    if (password.kind !== "awsSecretsManager") {
        throw new Error("on ECS the database password must come from Secrets Manager");
    }
    return pulumi.all([pulumi.output(libpqEnvironment(database.connection)), password.secretArn]).apply(([env, secretArn]): TaskDatabaseSettings => ({
        env: env as Record<string, string>,
        secrets: { [PASSWORD_ENV]: `${secretArn}:${password.jsonKey}::` },
    }));
}
