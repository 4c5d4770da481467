/**
 * Physical names that other systems need as plain strings before deploy: Prometheus's ECS
 * discovery matches the cluster and service names, autoscaling addresses services by name, and
 * operators type them into `aws ecs …` commands.
 */
import type { Slot } from "../../config";

/** The ECS cluster: the stack prefix itself (e.g. `apfa-prod-aws`). */
export function ecsClusterName(prefix: string): string {
    return prefix;
}

/** The ECS service of one slot (e.g. `apfa-prod-aws-blue`). */
export function slotServiceName(prefix: string, slot: Slot): string {
    return `${prefix}-${slot}`;
}

/** The ECS service of an auxiliary service (e.g. `apfa-prod-aws-prometheus`). */
export function auxServiceName(prefix: string, name: string): string {
    return `${prefix}-${name}`;
}

/** The stack's log group. */
export function logGroupName(prefix: string): string {
    return `/ecs/${prefix}`;
}

/** The Cloud Map private DNS namespace of the auxiliary services. */
export function serviceDiscoveryNamespace(prefix: string): string {
    return `${prefix}.internal`;
}

/** Application Auto Scaling's id of an ECS service. */
export function scalableResourceId(clusterName: string, serviceName: string): string {
    return `service/${clusterName}/${serviceName}`;
}
