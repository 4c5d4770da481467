/**
 * `apfa:aws`: the ECS Fargate target's settings, and the rules that tie them to other keys (the
 * Fargate task size from `apfa:app`, the `aws:region` provider setting). Imported by the config
 * loader without loading @pulumi/aws.
 */
import { z } from "zod";

import { DOCUMENTATION_ACCOUNT, NAMESPACE, acceptsPlaceholders, isPlaceholderArn, plainHttpProblem, valid, type StackRule } from "../../config/common";
import { appSchema } from "../../config/app";
import { databaseEnabled, engineVersionProblem } from "../../config/database";
import { describeFargateMemoryOptions, isValidFargateSize } from "./sizing";
import { vpcCidrProblem } from "./subnets";

/**
 * Aurora PostgreSQL majors APFA can create (`aws rds describe-db-engine-versions --engine
 * aurora-postgresql`): 13-17 are in standard or extended support; 12 and older are past it.
 */
export const AURORA_POSTGRES_MAJOR_VERSIONS: readonly number[] = [13, 14, 15, 16, 17];

/**
 * Provisioned instance classes Aurora PostgreSQL offers (Aurora user guide, "Supported DB engines
 * for DB instance classes"), for `apfa:aws.database.instanceClass`. Burstable t4g classes suit
 * test stacks only (CPU credits); Graviton r6g/r7g and Intel r6i are memory-optimised.
 */
const SIZES_R6G = ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"];
const SIZES_R6I = ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"];
export const AURORA_INSTANCE_CLASSES: readonly string[] = [
    "db.t4g.medium",
    "db.t4g.large",
    ...SIZES_R6G.map((size) => `db.r6g.${size}`),
    ...SIZES_R6G.map((size) => `db.r7g.${size}`),
    ...SIZES_R6I.map((size) => `db.r6i.${size}`),
];

/** Aurora Serverless v2 capacity: 0 to 256 ACU in steps of 0.5 (0 = auto-pause when idle). */
export const AURORA_MAX_ACU = 256;
const acu = z
    .number()
    .min(0)
    .max(AURORA_MAX_ACU)
    .refine((value) => Number.isInteger(value * 2), { message: "Aurora capacity goes in steps of 0.5 ACU" });

/** Performance Insights retention: 7 days (free tier), a whole number of months (31 × 1-23 days), or 731. */
const PERFORMANCE_INSIGHTS_RETENTION = [7, ...Array.from({ length: 23 }, (_, month) => 31 * (month + 1)), 731];

/** Serverless v2 capacity when `apfa:aws.database` sets none (ACU). */
export const DEFAULT_AURORA_CAPACITY = { minCapacity: 0.5, maxCapacity: 4 } as const;

/**
 * `apfa:aws.database`: Aurora PostgreSQL's sizing and windows (the shared keys are in `apfa:database`).
 * The capacity keys have no schema default (the rules must see whether they were given, as they
 * conflict with `instanceClass`): {@link auroraCapacity} applies {@link DEFAULT_AURORA_CAPACITY}.
 */
export const awsDatabaseSchema = z.strictObject({
    /** Serverless v2 minimum capacity in ACU (1 ACU ≈ 2 GiB of memory); 0 pauses an idle cluster (first query waits ~15 s). @default 0.5 */
    minCapacity: acu.optional(),
    /** Serverless v2 maximum capacity in ACU, at least 1 (256 needs Aurora platform version 3). @default 4 */
    maxCapacity: acu.refine((value) => value >= 1, { message: "the maximum capacity must be at least 1 ACU" }).optional(),
    /** A provisioned instance class (e.g. "db.r7g.large") instead of Serverless v2. Unset: Serverless v2. */
    instanceClass: z
        .string()
        .refine((value) => AURORA_INSTANCE_CLASSES.includes(value), {
            message: `expected an Aurora PostgreSQL instance class: ${AURORA_INSTANCE_CLASSES.join(", ")}`,
        })
        .optional(),
    /** Reader instances beside the writer, each in another AZ (failover targets). @default 1 */
    readers: z.number().int().min(0).max(15).default(1),
    /**
     * Multi-region (`apfa:multiRegion`): `rds.global_db_rpo`, the enforced RPO ceiling in seconds.
     * When every secondary region lags more than this, Aurora blocks commits on the writer until one
     * catches up: writes wait rather than risk losing more than this in a failover. At least 20
     * (Aurora's minimum). @default 30
     */
    globalRpoSeconds: z.number().int().min(20).max(86400).default(30),
    /** Performance Insights retention in days: 7 (free), 31 × months (1-23), or 731. @default 7 */
    performanceInsightsRetentionDays: z
        .number()
        .int()
        .refine((days) => PERFORMANCE_INSIGHTS_RETENTION.includes(days), { message: "expected 7, a multiple of 31 up to 713, or 731" })
        .default(7),
    /** Daily backup window, UTC, `hh24:mi-hh24:mi`, at least 30 minutes, apart from the maintenance window. @default "02:00-03:00" */
    preferredBackupWindow: z
        .string()
        .regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, "expected hh24:mi-hh24:mi in UTC, e.g. 02:00-03:00")
        .default("02:00-03:00"),
    /** Weekly maintenance window, UTC, `ddd:hh24:mi-ddd:hh24:mi`. @default "sun:03:30-sun:04:30" */
    preferredMaintenanceWindow: z
        .string()
        .regex(
            /^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$/,
            "expected ddd:hh24:mi-ddd:hh24:mi in UTC, e.g. sun:03:30-sun:04:30",
        )
        .default("sun:03:30-sun:04:30"),
});

export type AwsDatabaseSettings = z.output<typeof awsDatabaseSchema>;

/** The Serverless v2 capacity range, defaults applied. */
export function auroraCapacity(settings: Pick<AwsDatabaseSettings, "minCapacity" | "maxCapacity">): { minCapacity: number; maxCapacity: number } {
    return {
        minCapacity: settings.minCapacity ?? DEFAULT_AURORA_CAPACITY.minCapacity,
        maxCapacity: settings.maxCapacity ?? DEFAULT_AURORA_CAPACITY.maxCapacity,
    };
}

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
    /**
     * Route 53 hosted zone (its id, `Z…`) of `domainName`, in which a multi-region stack
     * (`apfa:multiRegion`) creates its region's health-checked record under `domainName` and its
     * regional name `<region>.<domainName>`. Required with `apfa:multiRegion`; unused without.
     */
    hostedZoneId: z.string().regex(/^Z[A-Z0-9]{1,32}$/, "expected a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ").optional(),
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
    /** Aurora PostgreSQL's sizing and windows when `apfa:database.enabled` (src/targets/aws/database.ts). */
    database: awsDatabaseSchema.prefault({}),
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
    problems.push(...awsDatabaseProblems(own));
    if (own.multiRegion !== undefined && aws) {
        // The region's entry is a Route 53 record under the deployment's name, in a zone you own.
        if (aws.domainName === undefined) {
            problems.push(`${NAMESPACE}:aws.domainName: required with ${NAMESPACE}:multiRegion (every region answers for the same name)`);
        }
        if (aws.hostedZoneId === undefined) {
            problems.push(`${NAMESPACE}:aws.hostedZoneId: required with ${NAMESPACE}:multiRegion (the Route 53 zone of ${NAMESPACE}:aws.domainName)`);
        }
        if (!databaseEnabled(own)) {
            problems.push(`${NAMESPACE}:database.enabled: a multi-region aws stack replicates its Aurora database across regions; it cannot be off`);
        }
    }
    if (typeof all["aws:region"] !== "string") {
        problems.push(`aws:region: required for the aws target (set it with \`pulumi config set aws:region eu-west-1\`)`);
    }
    return problems;
};

/** The Aurora settings' rules over several keys: the engine version, the capacity range, class vs. capacity. */
function awsDatabaseProblems(own: Readonly<Record<string, unknown>>): string[] {
    if (!databaseEnabled(own)) {
        return [];
    }
    const problems: string[] = [];
    const version = engineVersionProblem(own, AURORA_POSTGRES_MAJOR_VERSIONS, "Aurora PostgreSQL");
    if (version) {
        problems.push(version);
    }
    const aws = own.aws;
    const raw = typeof aws === "object" && aws !== null ? (aws as Record<string, unknown>).database : undefined;
    const given = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : {};
    // Each field judged on its own, so one bad key does not hide these problems.
    const shape = awsDatabaseSchema.shape;
    const instanceClass = valid(shape.instanceClass, given.instanceClass);
    const min = valid(shape.minCapacity, given.minCapacity) ?? DEFAULT_AURORA_CAPACITY.minCapacity;
    const max = valid(shape.maxCapacity, given.maxCapacity) ?? DEFAULT_AURORA_CAPACITY.maxCapacity;
    if (instanceClass !== undefined && (given.minCapacity !== undefined || given.maxCapacity !== undefined)) {
        problems.push(
            `${NAMESPACE}:aws.database.minCapacity/maxCapacity: apply to Aurora Serverless v2 only, but ${NAMESPACE}:aws.database.instanceClass ` +
                `(${instanceClass}) asks for provisioned instances; remove one or the other`,
        );
    } else if (given.instanceClass === undefined && min > max) {
        problems.push(
            `${NAMESPACE}:aws.database.minCapacity: ${min} ACU is above ${NAMESPACE}:aws.database.maxCapacity (${max} ACU); ` +
                "the minimum must be at most the maximum",
        );
    }
    return problems;
}
