/**
 * `apfa:aws`: the ECS Fargate target's settings, and the rules that tie them to other keys (the
 * Fargate task size from `apfa:app`, the `aws:region` provider setting). Imported by the config
 * loader without loading @pulumi/aws.
 */
import { z } from "zod";

import { DOCUMENTATION_ACCOUNT, NAMESPACE, acceptsPlaceholders, isPlaceholderArn, plainHttpProblem, valid, type StackRule } from "../../config/common";
import { appSchema } from "../../config/app";
import { describeFargateMemoryOptions, isValidFargateSize } from "./sizing";
import { vpcCidrProblem } from "./subnets";

export const awsSettingsSchema = z.strictObject({
    /** Availability zones the VPC spans. @default 3 */
    availabilityZoneCount: z.number().int().min(2).max(6).default(3),
    /** VPC address range, /16 to /21: public subnets are /n+6 and ALB subnets must be /27 or larger (see targets/aws/subnets.ts). @default "10.40.0.0/16" */
    vpcCidr: z
        .cidrv4()
        .superRefine((cidr, ctx) => {
            const problem = vpcCidrProblem(cidr);
            if (problem) {
                ctx.addIssue({ code: "custom", message: problem });
            }
        })
        .default("10.40.0.0/16"),
    /** NAT gateways: one per AZ (resilient) or a single one (cheaper, one AZ's failure cuts egress). @default "perAz" */
    natGateways: z.enum(["perAz", "single"]).default("perAz"),
    /** CPU architecture of the Fargate tasks. @default "X86_64" */
    cpuArchitecture: z.enum(["X86_64", "ARM64"]).default("X86_64"),
    /** Host name users reach APFA at (a DNS record you point at the ALB); the `url` output uses it. */
    domainName: z
        .string()
        .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "expected a lower-case DNS name such as apfa.example.com")
        .optional(),
    /** ACM certificate for an HTTPS listener; HTTP then redirects to HTTPS. */
    certificateArn: z.string().regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/, "expected an ACM certificate ARN").optional(),
    /** How long the ALB drains a target before it is gone (fast rollback wants this short). @default 30 */
    deregistrationDelaySeconds: z.number().int().min(0).max(3600).default(30),
    /** Time ECS ignores failing load-balancer health checks of a new task. @default 60 */
    healthCheckGracePeriodSeconds: z.number().int().min(0).max(7200).default(60),
    /** CloudWatch Logs retention. @default 30 */
    logRetentionDays: z
        .union(
            [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653].map((d) =>
                z.literal(d),
            ) as unknown as [z.ZodLiteral<number>, z.ZodLiteral<number>, ...z.ZodLiteral<number>[]],
        )
        .default(30),
    /** Source ranges allowed to reach the operator listeners (Grafana 3000, Prometheus 9090). Empty: none; use SSM port forwarding. @default [] */
    operatorCidrs: z.array(z.cidrv4()).default([]),
});

export type AwsSettings = z.output<typeof awsSettingsSchema>;

/** AWS's limit on ALB and target-group names. */
export const AWS_LB_NAME_LIMIT = 32;
/** Pulumi's auto-name appends "-" and 7 random hex characters to the logical name. */
export const AUTONAME_SUFFIX_LENGTH = 8;
/**
 * The longest suffix of a target group's logical name after the stack prefix: the slots'
 * `-green`; operator target groups use at most 5 characters of the service name (src/targets/aws/aux.ts).
 * tests/aws.test.ts checks every target group and load balancer of the plans against it.
 */
export const LONGEST_TARGET_GROUP_SUFFIX = "-green";

/**
 * Rules of an aws stack over several keys. Each part is judged on its own, so another bad
 * `apfa:app` key does not hide a Fargate size problem.
 */
export const awsStackRules: StackRule = ({ own, all, prefix }) => {
    const problems: string[] = [];
    const longest = `${prefix}${LONGEST_TARGET_GROUP_SUFFIX}`;
    if (prefix !== "" && longest.length + AUTONAME_SUFFIX_LENGTH > AWS_LB_NAME_LIMIT) {
        problems.push(
            `${prefix} (project-stack name): too long for the aws target: its target group ${longest} plus ` +
                `Pulumi's ${AUTONAME_SUFFIX_LENGTH}-character suffix exceeds AWS's ${AWS_LB_NAME_LIMIT}-character limit; use a project-stack ` +
                `name of at most ${AWS_LB_NAME_LIMIT - AUTONAME_SUFFIX_LENGTH - LONGEST_TARGET_GROUP_SUFFIX.length} characters`,
        );
    }
    const rawApp = (own.app ?? {}) as Record<string, unknown>;
    const cpu = valid(appSchema.shape.cpu, rawApp.cpu);
    const memory = valid(appSchema.shape.memoryMiB, rawApp.memoryMiB);
    if (cpu !== undefined && memory !== undefined && !isValidFargateSize(cpu, memory)) {
        problems.push(`${NAMESPACE}:app.cpu/memoryMiB: Fargate does not accept ${cpu} vCPU with ${memory} MiB; ` + describeFargateMemoryOptions(cpu));
    }
    const aws = valid(awsSettingsSchema, own.aws ?? {});
    const plainHttp = aws && plainHttpProblem(own, aws.certificateArn !== undefined, "aws.certificateArn");
    if (plainHttp) {
        problems.push(plainHttp);
    }
    if (aws?.certificateArn && isPlaceholderArn(aws.certificateArn) && !acceptsPlaceholders(own)) {
        problems.push(`${NAMESPACE}:aws.certificateArn: ${aws.certificateArn} is in AWS's documentation account ${DOCUMENTATION_ACCOUNT}; set your ACM certificate's ARN`);
    }
    if (typeof all["aws:region"] !== "string") {
        problems.push(`aws:region: required for the aws target (set it with \`pulumi config set aws:region eu-west-1\`)`);
    }
    return problems;
};
