/**
 * Per-slot autoscaling: Application Auto Scaling keeps each slot's service between the configured
 * bounds, tracking the service's average CPU.
 *
 * How capacity follows the weight: the weight never touches these resources (a weight change must
 * touch only the listener rule). CPU target tracking alone reacts in minutes, too slowly for a
 * release step, so the release tool moves the lower bound instead: before traffic shifts it sets
 * the receiving slot's floor (`apfa:release.<slot>.minReplicas` → this target's `minCapacity`,
 * which Application Auto Scaling applies at once) to its share of the serving slot's tasks, and
 * pins the serving slot at its current count so it cannot scale in during a bake (a rollback then
 * lands on a warm slot). Between releases both slots scale on CPU alone.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { slotReplicaBounds } from "../../bluegreen";
import type { AwsConfig, Slot } from "../../config";
import { scalableResourceId } from "./names";
import { awsTags } from "./tags";

export const ECS_SCALABLE_DIMENSION = "ecs:service:DesiredCount";

/** The target-tracking configuration of a slot (pure, for tests). */
export function cpuTargetTracking(scaling: AwsConfig["scaling"]) {
    return {
        targetValue: scaling.targetCpuPercent,
        predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
        scaleOutCooldown: scaling.scaleOutCooldownSeconds,
        scaleInCooldown: scaling.scaleInCooldownSeconds,
        disableScaleIn: false,
    };
}

export interface SlotScaling {
    readonly target: aws.appautoscaling.Target;
    readonly policy: aws.appautoscaling.Policy;
}

export function createSlotScaling(
    name: string,
    slot: Slot,
    config: AwsConfig,
    cluster: aws.ecs.Cluster,
    service: aws.ecs.Service,
    parent: pulumi.Resource,
): SlotScaling {
    const bounds = slotReplicaBounds(config, slot);
    const target = new aws.appautoscaling.Target(
        `${name}-${slot}-scaling`,
        {
            serviceNamespace: "ecs",
            scalableDimension: ECS_SCALABLE_DIMENSION,
            // From the resources' outputs, so the target waits for the service to exist.
            resourceId: pulumi.all([cluster.name, service.name]).apply(([clusterName, serviceName]) => scalableResourceId(clusterName, serviceName)),
            minCapacity: bounds.min,
            maxCapacity: bounds.max,
            tags: awsTags(config, `${config.prefix}-${slot}-scaling`, { slot }),
        },
        // A replaced service is a new ECS service under the same name: its resourceId does not
        // change, so without this the scaling registration of the deleted one would be kept
        // in state and never made again for the new one.
        { parent, replaceWith: [service] },
    );
    const policy = new aws.appautoscaling.Policy(
        `${name}-${slot}-cpu`,
        {
            name: `${config.prefix}-${slot}-cpu`,
            policyType: "TargetTrackingScaling",
            serviceNamespace: target.serviceNamespace,
            scalableDimension: target.scalableDimension,
            resourceId: target.resourceId,
            targetTrackingScalingPolicyConfiguration: cpuTargetTracking(config.scaling),
        },
        { parent, replaceWith: [target] },
    );
    return { target, policy };
}
