/**
 * AWS rules, over the types this program creates (`aws:lb/*`, `aws:ecs/*`, `aws:iam/*`, `aws:ec2/*`,
 * `aws:vpc/*`, `aws:secretsmanager/*`, `aws:rds/*`, `aws:s3/*`). Published packs (awsguard) still
 * match the old `aws:elasticloadbalancingv2/*` tokens and have no ECS/IAM/security-group rules.
 */
import * as aws from "@pulumi/aws";
import { validateResourceOfType, type PolicyResource, type ReportViolation } from "@pulumi/policy";

import { at, isProductionResource, isUnknown, known, list, MONITORING_NAME, ofType, parseJson, plain, record, resourceRule, SECRET_NAME, stackRule } from "./rule";

const INTERNET = new Set(["0.0.0.0/0", "::/0"]);
/** The public entry point's ports: the ALB's HTTP (redirect) and HTTPS listeners. */
const ENTRY_PORTS = new Set([80, 443]);

/** Ports an ingress rule opens: [from, to], or everything for protocol -1/all. */
function openPorts(protocol: unknown, from: unknown, to: unknown): [number, number] {
    if (protocol === "-1" || protocol === "all" || protocol === -1) {
        return [0, 65535];
    }
    const f = typeof from === "number" ? from : 0;
    const t = typeof to === "number" ? to : 65535;
    return [f, t];
}

function checkInternetIngress(cidrs: unknown[], protocol: unknown, from: unknown, to: unknown, report: ReportViolation, what: string): void {
    const open = cidrs.filter((c) => typeof c === "string" && INTERNET.has(c));
    if (open.length === 0) {
        return;
    }
    const [f, t] = openPorts(protocol, from, to);
    const tcp = protocol === "tcp" || protocol === "6";
    if (!tcp || f !== t || !ENTRY_PORTS.has(f)) {
        report(`${what} opens ${protocol === "-1" ? "all traffic" : `${String(protocol)} ${f}-${t}`} to ${open.join(", ")}; only tcp 80 and 443 of the public entry may face the internet`);
    }
}

export const awsSgInternetIngress = resourceRule(
    {
        name: "aws-sg-internet-ingress-entry-ports",
        area: "aws",
        enforcementLevel: "mandatory",
        description: "Security groups open only tcp 80/443 to 0.0.0.0/0 or ::/0: the ALB is the only public entry point.",
    },
    [
        validateResourceOfType(aws.vpc.SecurityGroupIngressRule, (rule, _args, report) => {
            const r = plain(rule);
            checkInternetIngress([known(r.cidrIpv4), known(r.cidrIpv6)], r.ipProtocol, r.fromPort, r.toPort, report, "the ingress rule");
        }),
        validateResourceOfType(aws.ec2.SecurityGroupRule, (rule, _args, report) => {
            const r = plain(rule);
            if (r.type === "ingress") {
                checkInternetIngress([...list(r.cidrBlocks), ...list(r.ipv6CidrBlocks)], r.protocol, r.fromPort, r.toPort, report, "the ingress rule");
            }
        }),
        validateResourceOfType(aws.ec2.SecurityGroup, (group, _args, report) => {
            for (const ingress of list(plain(group).ingress)) {
                const i = record(ingress);
                checkInternetIngress([...list(i.cidrBlocks), ...list(i.ipv6CidrBlocks)], i.protocol, i.fromPort, i.toPort, report, "an inline ingress rule");
            }
        }),
    ],
);

export const awsNoPublicIps = resourceRule(
    {
        name: "aws-no-public-ip-on-tasks",
        area: "aws",
        enforcementLevel: "mandatory",
        description: "Tasks, instances and subnets get no public IPs: they reach the internet through NAT and are reached only through the ALB.",
    },
    [
        validateResourceOfType(aws.ecs.Service, (service, _args, report) => {
            if (at(service, "networkConfiguration.assignPublicIp") === true) {
                report("networkConfiguration.assignPublicIp is true; run tasks in private subnets behind the NAT");
            }
        }),
        validateResourceOfType(aws.ec2.Subnet, (subnet, _args, report) => {
            if (plain(subnet).mapPublicIpOnLaunch === true) {
                report("mapPublicIpOnLaunch is true: every network interface launched here gets a public IP");
            }
        }),
        validateResourceOfType(aws.ec2.Instance, (instance, _args, report) => {
            if (plain(instance).associatePublicIpAddress === true) {
                report("associatePublicIpAddress is true");
            }
        }),
    ],
);

/** TLS policies of the ALB that allow only TLS 1.2 and 1.3. */
const MODERN_TLS = /^ELBSecurityPolicy-(TLS13-|TLS-1-2-|FS-1-2-)/;

export const awsAlbTls = resourceRule(
    {
        name: "aws-alb-tls",
        area: "aws",
        enforcementLevel: "mandatory",
        description: "HTTPS listeners use a TLS 1.2+ policy; on production load balancers a plain-HTTP listener only redirects to HTTPS.",
    },
    validateResourceOfType(aws.lb.Listener, (listener, args, report) => {
        const l = plain(listener);
        if (l.protocol === "HTTPS" || l.protocol === "TLS") {
            const policy = known(l.sslPolicy);
            if (typeof policy === "string" && !MODERN_TLS.test(policy)) {
                report(`sslPolicy ${policy} allows TLS below 1.2; use an ELBSecurityPolicy-TLS13-* policy`);
            } else if (policy === undefined && !isUnknown(l.sslPolicy)) {
                report("no sslPolicy: the provider's default policy allows TLS 1.0; set an ELBSecurityPolicy-TLS13-* policy");
            }
            return;
        }
        if (l.protocol === "HTTP" && isProductionResource(args.props)) {
            const actions = list(l.defaultActions).map(record);
            const redirectsToHttps = actions.length > 0 && actions.every((a) => a.type === "redirect" && at(a, "redirect.protocol") === "HTTPS");
            if (!redirectsToHttps) {
                report("a production HTTP listener must only redirect to HTTPS (waive with apfa:policy.waivers when apfa:allowPlainHttp is set on purpose)");
            }
        }
    }),
);

export const awsAlbHardening = resourceRule(
    {
        name: "aws-alb-hardening",
        area: "aws",
        enforcementLevel: "advisory",
        description: "Load balancers drop invalid headers (request smuggling), keep access logs, and are deletion-protected in production.",
    },
    validateResourceOfType(aws.lb.LoadBalancer, (lb, args, report) => {
        const l = plain(lb);
        if (l.loadBalancerType !== undefined && l.loadBalancerType !== "application") {
            return;
        }
        if (l.dropInvalidHeaderFields !== true) {
            report("dropInvalidHeaderFields is not true");
        }
        if (at(l, "accessLogs.enabled") !== true) {
            report("access logs are off");
        }
        if (isProductionResource(args.props) && l.enableDeletionProtection !== true) {
            report("a production load balancer without enableDeletionProtection");
        }
    }),
);

/** Statements of an IAM policy document (JSON text or object). */
function statements(document: unknown): Record<string, unknown>[] {
    const doc = parseJson(document);
    const s = record(doc).Statement;
    return (Array.isArray(s) ? s : s === undefined ? [] : [s]).map(record);
}

function strings(value: unknown): string[] {
    return (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((v): v is string => typeof v === "string");
}

/** Administrator-like statements: Allow of `*` / `service:*` (or NotAction) on Resource `*`. */
function adminStatements(document: unknown): string[] {
    const found: string[] = [];
    for (const s of statements(document)) {
        if (s.Effect !== "Allow" || !strings(s.Resource).includes("*")) {
            continue;
        }
        const wild = strings(s.Action).filter((a) => a === "*" || /:\*$/.test(a));
        if (wild.length > 0) {
            found.push(`${String(s.Sid ?? "a statement")} allows ${wild.join(", ")} on *`);
        } else if (s.NotAction !== undefined) {
            found.push(`${String(s.Sid ?? "a statement")} allows NotAction on *`);
        }
    }
    return found;
}

const ADMIN_MANAGED_POLICIES = /:policy\/(AdministratorAccess|PowerUserAccess|IAMFullAccess)$/;

export const awsIamNoAdmin = resourceRule(
    {
        name: "aws-iam-no-admin-wildcards",
        area: "aws",
        enforcementLevel: "mandatory",
        description: "No IAM policy allows `*` or `service:*` actions on Resource `*`, and no administrator managed policy is attached: least privilege.",
    },
    [
        validateResourceOfType(aws.iam.RolePolicy, (p, _args, report) => adminStatements(plain(p).policy).forEach((f) => report(f))),
        validateResourceOfType(aws.iam.Policy, (p, _args, report) => adminStatements(plain(p).policy).forEach((f) => report(f))),
        validateResourceOfType(aws.iam.Role, (role, _args, report) => {
            for (const inline of list(plain(role).inlinePolicies)) {
                adminStatements(record(inline).policy).forEach((f) => report(`inline policy: ${f}`));
            }
            for (const arn of list(plain(role).managedPolicyArns)) {
                if (typeof arn === "string" && ADMIN_MANAGED_POLICIES.test(arn)) {
                    report(`attaches ${arn}`);
                }
            }
        }),
        validateResourceOfType(aws.iam.RolePolicyAttachment, (a, _args, report) => {
            const arn = known(plain(a).policyArn);
            if (typeof arn === "string" && ADMIN_MANAGED_POLICIES.test(arn)) {
                report(`attaches ${arn}`);
            }
        }),
    ],
);

/** Allow statements whose principal is anyone (`*`) without a condition narrowing it. */
function openPrincipals(document: unknown): string[] {
    const found: string[] = [];
    for (const s of statements(document)) {
        if (s.Effect !== "Allow" || s.Condition !== undefined) {
            continue;
        }
        const principal = s.Principal;
        const anyone = principal === "*" || strings(record(principal).AWS).includes("*");
        if (anyone) {
            found.push(`${String(s.Sid ?? "a statement")} allows any principal (*) without a condition`);
        }
    }
    return found;
}

export const awsIamNoWildcardPrincipal = resourceRule(
    {
        name: "aws-iam-no-wildcard-principal",
        area: "aws",
        enforcementLevel: "mandatory",
        description: "Trust and resource policies never allow Principal `*` without a condition: anyone in any account could assume or read.",
    },
    [
        validateResourceOfType(aws.iam.Role, (role, _args, report) => openPrincipals(plain(role).assumeRolePolicy).forEach((f) => report(`trust policy: ${f}`))),
        validateResourceOfType(aws.s3.BucketPolicy, (p, _args, report) => openPrincipals(plain(p).policy).forEach((f) => report(f))),
        validateResourceOfType(aws.secretsmanager.SecretPolicy, (p, _args, report) => openPrincipals(plain(p).policy).forEach((f) => report(f))),
    ],
);

export const awsEcsSecrets = resourceRule(
    {
        name: "aws-ecs-secrets-from-secrets-manager",
        area: "aws",
        enforcementLevel: "mandatory",
        description: "Credential-like variables of ECS containers come from `secrets` (Secrets Manager/SSM), never from plain `environment`, which anyone who can describe tasks reads.",
    },
    validateResourceOfType(aws.ecs.TaskDefinition, (task, _args, report) => {
        const containers = parseJson(plain(task).containerDefinitions);
        for (const c of Array.isArray(containers) ? containers.map(record) : []) {
            for (const env of list(c.environment).map(record)) {
                if (typeof env.name === "string" && SECRET_NAME.test(env.name)) {
                    report(`container ${String(c.name)}: ${env.name} is a plain environment variable; move it to secrets (valueFrom a Secrets Manager ARN)`);
                }
            }
        }
    }),
);

export const awsStorageEncrypted = resourceRule(
    {
        name: "aws-storage-encrypted",
        area: "aws",
        enforcementLevel: "mandatory",
        description: "Databases and task volumes are encrypted at rest (RDS/Aurora storageEncrypted, ECS-managed EBS volumes).",
    },
    [
        validateResourceOfType(aws.ecs.Service, (service, _args, report) => {
            const ebs = at(service, "volumeConfiguration.managedEbsVolume");
            if (ebs !== undefined && record(ebs).encrypted !== true) {
                report("the managed EBS volume is not encrypted");
            }
        }),
        validateResourceOfType(aws.rds.Cluster, (c, _args, report) => {
            // A secondary of a global cluster inherits encryption from the global cluster's source.
            if (plain(c).storageEncrypted !== true && known(plain(c).globalClusterIdentifier) === undefined) {
                report("storageEncrypted is not true");
            }
        }),
        validateResourceOfType(aws.rds.Instance, (i, _args, report) => {
            if (plain(i).storageEncrypted !== true) {
                report("storageEncrypted is not true");
            }
        }),
        validateResourceOfType(aws.rds.GlobalCluster, (g, _args, report) => {
            const p = plain(g);
            if (p.storageEncrypted !== true && known(p.sourceDbClusterIdentifier) === undefined) {
                report("storageEncrypted is not true");
            }
        }),
    ],
);

export const awsDatabasesPrivate = resourceRule(
    {
        name: "aws-databases-private",
        area: "aws",
        enforcementLevel: "mandatory",
        description: "RDS/Aurora instances are not publicly accessible: the database is reached only from the tasks inside the VPC.",
    },
    [
        validateResourceOfType(aws.rds.Instance, (i, _args, report) => {
            if (plain(i).publiclyAccessible === true) {
                report("publiclyAccessible is true");
            }
        }),
        validateResourceOfType(aws.rds.ClusterInstance, (i, _args, report) => {
            if (plain(i).publiclyAccessible === true) {
                report("publiclyAccessible is true");
            }
        }),
    ],
);

export const awsMultiAz = resourceRule(
    {
        name: "aws-multi-az",
        area: "aws",
        enforcementLevel: "mandatory",
        description: "The load balancer and every load-balanced ECS service span at least two subnets (zones), so one zone's loss leaves APFA up.",
    },
    [
        validateResourceOfType(aws.lb.LoadBalancer, (lb, _args, report) => {
            const p = plain(lb);
            // The array's length is known in a preview even when its elements (subnet ids) are not.
            const subnets = Array.isArray(p.subnets) ? p.subnets.length : Array.isArray(p.subnetMappings) ? p.subnetMappings.length : undefined;
            if (subnets !== undefined && subnets < 2) {
                report(`spans ${subnets} subnet(s); use one per zone, at least two`);
            }
        }),
        validateResourceOfType(aws.ecs.Service, (service, _args, report) => {
            const p = plain(service);
            const subnets = at(p, "networkConfiguration") === undefined ? undefined : plain(record(p.networkConfiguration).subnets);
            if (list(p.loadBalancers).length > 0 && Array.isArray(subnets) && subnets.length < 2) {
                report(`places load-balanced tasks in ${subnets.length} subnet(s); use at least two zones`);
            }
        }),
    ],
);

export const awsLogRetention = resourceRule(
    {
        name: "aws-log-retention",
        area: "aws",
        enforcementLevel: "advisory",
        description: "Log groups set a retention: CloudWatch keeps logs forever by default, and pays for them.",
    },
    validateResourceOfType(aws.cloudwatch.LogGroup, (group, _args, report) => {
        const days = plain(group).retentionInDays;
        if (!isUnknown(days) && (typeof days !== "number" || days <= 0)) {
            report("no retentionInDays: logs are kept (and billed) forever");
        }
    }),
);

export const awsEcsDeploymentSafety = resourceRule(
    {
        name: "aws-ecs-deployment-safety",
        area: "aws",
        enforcementLevel: "advisory",
        description: "ECS services roll back a failing deployment on their own (deployment circuit breaker with rollback).",
    },
    validateResourceOfType(aws.ecs.Service, (service, _args, report) => {
        const breaker = record(at(service, "deploymentCircuitBreaker"));
        const controller = at(service, "deploymentController.type");
        if ((controller === undefined || controller === "ECS") && (breaker.enable !== true || breaker.rollback !== true)) {
            report("deploymentCircuitBreaker is not enabled with rollback");
        }
    }),
);

/** A resource that depends on `bucket` (directly): its configuration resources do. */
function dependsOn(r: PolicyResource, bucket: PolicyResource): boolean {
    return r.dependencies.some((d) => d.urn === bucket.urn);
}

export const awsS3PrivateEncrypted = stackRule(
    {
        name: "aws-s3-private-encrypted",
        area: "aws",
        enforcementLevel: "mandatory",
        description: "Every S3 bucket has default encryption and a public access block with all four settings on (AWS provider v7 configures both as separate resources).",
    },
    (args, report) => {
        for (const bucket of ofType(args.resources, "aws:s3/bucket:Bucket")) {
            const sse = ofType(args.resources, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").filter((r) => dependsOn(r, bucket));
            const encrypted = sse.some((r) => list(plain(r.props).rules).some((rule) => typeof at(rule, "applyServerSideEncryptionByDefault.sseAlgorithm") === "string"));
            if (!encrypted) {
                report(`bucket ${bucket.name} has no default encryption configuration`, bucket.urn);
            }
            const blocks = ofType(args.resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").filter((r) => dependsOn(r, bucket));
            const keys = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];
            if (!blocks.some((b) => keys.every((k) => plain(b.props)[k] === true))) {
                report(`bucket ${bucket.name} has no public access block with ${keys.join(", ")} all true`, bucket.urn);
            }
        }
    },
);

/** Monitoring services on ECS: never behind a load balancer, never with a public IP. */
export function awsMonitoringExposure(resource: { type: string; name: string; props: Record<string, unknown> }, report: ReportViolation): void {
    if (resource.type !== "aws:ecs/service:Service" || !MONITORING_NAME.test(String(known(plain(resource.props).name) ?? resource.name))) {
        return;
    }
    if (list(plain(resource.props).loadBalancers).length > 0) {
        report("a monitoring service is attached to a load balancer; reach it through a tunnel (ECS Exec, SSM) instead");
    }
}

export const awsRules = [
    awsSgInternetIngress,
    awsNoPublicIps,
    awsAlbTls,
    awsAlbHardening,
    awsIamNoAdmin,
    awsIamNoWildcardPrincipal,
    awsEcsSecrets,
    awsStorageEncrypted,
    awsDatabasesPrivate,
    awsMultiAz,
    awsLogRetention,
    awsEcsDeploymentSafety,
    awsS3PrivateEncrypted,
];
