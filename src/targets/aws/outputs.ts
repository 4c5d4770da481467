/**
 * The ECS target's own stack outputs (under the `target` stack output), as plain values, and their
 * validation for the release tool, which reads them from `pulumi stack output` (CloudWatch metrics of
 * the ALB and the target groups are keyed by the ARN suffixes exported here; nothing parses ARNs).
 * SDK-free: the release tool imports it without loading @pulumi/aws.
 */
import { z } from "zod";

const bySlot = <T extends z.ZodType>(value: T) => z.object({ blue: value, green: value });

const awsTargetOutputsSchema = z.object({
    clusterName: z.string().min(1),
    serviceNames: bySlot(z.string().min(1)),
    targetGroupArns: bySlot(z.string().min(1)),
    /** CloudWatch's `TargetGroup` dimension per slot (`targetgroup/<name>/<id>`). */
    targetGroupArnSuffixes: bySlot(z.string().regex(/^targetgroup\/[^/]+\/[0-9a-f]+$/, "expected targetgroup/<name>/<id>")),
    listenerRuleArn: z.string().min(1),
    loadBalancerArn: z.string().min(1),
    /** CloudWatch's `LoadBalancer` dimension (`app/<name>/<id>`). */
    loadBalancerArnSuffix: z.string().regex(/^app\/[^/]+\/[0-9a-f]+$/, "expected app/<name>/<id>"),
    albDnsName: z.string().min(1),
    vpcId: z.string().min(1),
});

export type AwsTargetOutputs = z.output<typeof awsTargetOutputsSchema>;

/**
 * The `target` stack output of an aws stack, validated.
 * @throws Error naming every missing or malformed field (e.g. a stack last deployed by an older version).
 */
export function parseAwsTargetOutputs(target: unknown): AwsTargetOutputs {
    const result = awsTargetOutputsSchema.safeParse(target ?? {});
    if (!result.success) {
        const problems = result.error.issues.map((issue) => `target.${issue.path.join(".")}: ${issue.message}`);
        throw new Error(`the stack's target outputs are not those of this version's aws target (run \`pulumi up\`): ${problems.join("; ")}`);
    }
    return result.data;
}
