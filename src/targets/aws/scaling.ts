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

/**
 * A slot's task-count bounds ({@link slotReplicaBounds}, shared with the Kubernetes layer): min is
 * the higher of `apfa:scaling.minReplicas` and the slot's floor `apfa:release.<slot>.minReplicas`,
 * max is `apfa:scaling.maxReplicas`; 0..0 when the release tool scaled the slot down (Application
 * Auto Scaling then sets the service's desired count to 0; the target group and service stay, so
 * scaling up again is a bounds change too).
 */
export function slotCapacity(config: Pick<AwsConfig, "scaling" | "release">, slot: Slot): { min: number; max: number } {
    return slotReplicaBounds(config, slot);
}

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
    const target = new aws.appautoscaling.Target(
        `${name}-${slot}-scaling`,
        {
            serviceNamespace: "ecs",
            scalableDimension: ECS_SCALABLE_DIMENSION,
            // From the resources' outputs, so the target waits for the service to exist.
            resourceId: pulumi.all([cluster.name, service.name]).apply(([clusterName, serviceName]) => scalableResourceId(clusterName, serviceName)),
            minCapacity: slotCapacity(config, slot).min,
            maxCapacity: slotCapacity(config, slot).max,
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
