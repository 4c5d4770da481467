/**
 * Auxiliary services (Alertmanager, Prometheus, Grafana) on ECS Fargate, for `EcsCluster.runService`.
 *
 * Each service gets: its own security group, task and execution roles, a Fargate task definition
 * (config files through an init container, see containers.ts), an ECS service in the private
 * subnets registered in Cloud Map (`<name>.<prefix>.internal`), its secret env and secret files in
 * Secrets Manager (the init container receives a secret file as a container secret and writes it),
 * egress on 443 and on the spec's `egressPorts`,
 * and — only when operator CIDRs are configured — an ALB listener on its operator port open to
 * those CIDRs alone. Without one, operators reach it through ECS Exec port forwarding.
 *
 * Data volumes are ECS-managed EBS volumes configured at launch: block storage, which Prometheus's
 * TSDB needs (NFS/EFS is unsupported by Prometheus). ECS creates one per task and deletes it when
 * the task stops, so the data lives as long as the task: a redeploy or a replaced task starts
 * empty. Long-term history belongs in remote storage (e.g. remote_write to Amazon Managed
 * Prometheus).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import type { AuxService, AuxServiceSpec } from "../../contract";
import type { AwsConfig } from "../../config";
import {
    DATA_VOLUME,
    INIT_IMAGE,
    auxContainerDefinitions,
    containerDefinitionsJson,
    encodeFileContent,
    planFileVolumes,
    type FileVolume,
} from "./containers";
import {
    createRole,
    ecsDiscoveryPolicy,
    ecsExecPolicy,
    ecsInfrastructureTrustPolicy,
    ecsTasksTrustPolicy,
    executionRolePolicy,
    type AwsLocation,
    type RoleWithPolicies,
} from "./iam";
import { ampAccessPolicy } from "./amp";
import type { LoadBalancer } from "./loadBalancer";
import { TLS_POLICY, targetHealthCheck } from "./loadBalancer";
import { auxServiceName, ecsClusterName, logGroupName, serviceDiscoveryNamespace } from "./names";
import type { Network } from "./network";
import { ROLLING_DEPLOYMENT } from "./service";
import { allowEgress, allowIngress, createSecurityGroup, type AppSecurityGroups } from "./securityGroups";
import { smallestFargateSizeFor } from "./sizing";
import { awsTags } from "./tags";

/** What the auxiliary services share with the rest of the target. */
export interface AuxPlatform {
    /** The cluster component's name (prefix of logical names). */
    readonly name: string;
    readonly config: AwsConfig;
    /** The cluster component: parent of the shared pieces (namespace, EBS role). */
    readonly owner: pulumi.Resource;
    readonly network: Network;
    readonly cluster: aws.ecs.Cluster;
    readonly logGroup: aws.cloudwatch.LogGroup;
    readonly location: pulumi.Output<AwsLocation>;
    readonly loadBalancer: LoadBalancer;
    readonly groups: AppSecurityGroups;
    /** The managed metrics workspace's ARN, when the stack has one (`metricsStoreAccess` grants on it). */
    readonly metricsWorkspaceArn?: pulumi.Output<string>;
}

/** Ports the ALB already uses for APFA's own listeners. */
const RESERVED_ALB_PORTS = [80, 443];

/**
 * The shell command that opens an SSM port-forwarding session to a service's task (ECS Exec must
 * be enabled on the service and the Session Manager plugin installed locally).
 */
export function ssmPortForwardCommand(args: { region: string; cluster: string; service: string; container: string; port: number; localPort: number }): string {
    const { region, cluster, service, container, port, localPort } = args;
    return (
        `TASK=$(aws ecs list-tasks --region ${region} --cluster ${cluster} --service-name ${service} --query 'taskArns[0]' --output text) && ` +
        `RUNTIME=$(aws ecs describe-tasks --region ${region} --cluster ${cluster} --tasks "$TASK" --query "tasks[0].containers[?name=='${container}'].runtimeId | [0]" --output text) && ` +
        `aws ssm start-session --region ${region} --target "ecs:${cluster}_\${TASK##*/}_$RUNTIME" ` +
        `--document-name AWS-StartPortForwardingSession --parameters portNumber=${port},localPortNumber=${localPort}`
    );
}

/**
 * Characters of a service's name in its operator target group's logical name: target-group names
 * are at most 32 characters with Pulumi's 8-character suffix, so `<prefix>-<name>` is kept as short
 * as a slot's (`<prefix>-green`) and the stack-name bound of src/targets/aws/settings.ts covers both.
 */
export const OPERATOR_TG_NAME_CHARS = 5;

/** The logical-name suffix of a service's operator target group (e.g. "prome" for prometheus). */
export function operatorTargetGroupSuffix(serviceName: string): string {
    return serviceName.slice(0, OPERATOR_TG_NAME_CHARS);
}

/** Problems with a spec that the platform cannot run, as messages (empty when fine). */
export function auxSpecProblems(spec: AuxServiceSpec, taken: ReadonlyMap<string, AuxServiceSpec>, operatorListeners: boolean): string[] {
    const problems: string[] = [];
    if (!/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/.test(spec.name)) {
        problems.push(`name "${spec.name}": 2-32 lower-case letters, digits and -, starting with a letter`);
    }
    if (taken.has(spec.name)) {
        problems.push(`name "${spec.name}" is already used by another auxiliary service`);
    }
    if (operatorListeners) {
        if (RESERVED_ALB_PORTS.includes(spec.operatorPort)) {
            problems.push(`operatorPort ${spec.operatorPort} is APFA's own listener port on the ALB`);
        }
        for (const other of taken.values()) {
            if (other.operatorPort === spec.operatorPort) {
                problems.push(`operatorPort ${spec.operatorPort} is already used by ${other.name}`);
            }
            if (operatorTargetGroupSuffix(other.name) === operatorTargetGroupSuffix(spec.name)) {
                problems.push(`name "${spec.name}" shares its operator target group's name with ${other.name} (the first ${OPERATOR_TG_NAME_CHARS} characters)`);
            }
        }
    }
    try {
        smallestFargateSizeFor(spec.resources.cpu, spec.resources.memoryMiB);
    } catch (err) {
        problems.push((err as Error).message);
    }
    try {
        planFileVolumes([...Object.keys(spec.files), ...Object.keys(spec.secretFiles ?? {})], spec.dataVolume?.mountPath);
    } catch (err) {
        problems.push((err as Error).message);
    }
    return problems;
}

/** An auxiliary service's operator listener on the ALB. */
interface OperatorAccess {
    readonly targetGroup: aws.lb.TargetGroup;
    readonly listener: aws.lb.Listener;
    /** The ALB → service rules the target group's health checks take. */
    readonly healthCheckRules: pulumi.Resource[];
}

interface RunningAux {
    readonly spec: AuxServiceSpec;
    readonly securityGroup: aws.ec2.SecurityGroup;
}

/** The auxiliary services of one cluster, with the pieces they share (created on first need). */
export class AuxServices {
    private readonly running = new Map<string, RunningAux>();
    private namespace?: aws.servicediscovery.PrivateDnsNamespace;
    private volumeRole?: RoleWithPolicies;

    constructor(private readonly platform: AuxPlatform) {}

    run(spec: AuxServiceSpec, parent: pulumi.Resource): AuxService {
        const { config, network, loadBalancer, groups, name: clusterName } = this.platform;
        const operatorListeners = config.aws.operatorCidrs.length > 0;
        const problems = auxSpecProblems(
            spec,
            new Map([...this.running].map(([k, v]) => [k, v.spec])),
            operatorListeners,
        );
        if (problems.length > 0) {
            throw new pulumi.ResourceError(`Cannot run auxiliary service "${spec.name}" on ECS:\n  - ${problems.join("\n  - ")}`, parent);
        }

        const base = `${clusterName}-${spec.name}`;
        const serviceName = auxServiceName(config.prefix, spec.name);
        const cluster = ecsClusterName(config.prefix);

        // Network: its own group; the monitoring services reach each other; a scraper reaches APFA.
        const securityGroup = createSecurityGroup(`${base}-sg`, `${serviceName}: monitoring service`, network, config, parent);
        const httpsOut = allowEgress(
            `${base}-https-out`,
            { securityGroupId: securityGroup.id, description: "Images, AWS APIs, ECS Exec", port: 443, peer: { cidrIpv4: "0.0.0.0/0" } },
            config,
            parent,
        );
        // Ports it sends to outside the VPC besides HTTPS (Alertmanager's SMTP servers).
        for (const port of [...new Set(spec.egressPorts ?? [])].filter((p) => p !== 443).sort((a, b) => a - b)) {
            allowEgress(
                `${base}-out-${port}`,
                { securityGroupId: securityGroup.id, description: `Notifications on port ${port}`, port, peer: { cidrIpv4: "0.0.0.0/0" } },
                config,
                parent,
            );
        }
        if (spec.discoversTargets) {
            allowEgress(
                `${base}-to-tasks`,
                { securityGroupId: securityGroup.id, description: "Scrape APFA", port: config.app.metricsPort, peer: { securityGroupId: groups.tasks.id } },
                config,
                parent,
            );
            allowIngress(
                `${base}-scrapes-tasks`,
                { securityGroupId: groups.tasks.id, description: `APFA metrics port from ${spec.name}`, port: config.app.metricsPort, peer: { securityGroupId: securityGroup.id } },
                config,
                parent,
            );
        }
        // Both ways: Grafana queries Prometheus, and Prometheus may scrape Grafana's own /metrics.
        const self: RunningAux = { spec, securityGroup };
        for (const other of this.running.values()) {
            for (const [from, to] of [
                [self, other],
                [other, self],
            ]) {
                const rule = `${clusterName}-${from.spec.name}-to-${to.spec.name}`;
                allowEgress(
                    `${rule}-out`,
                    { securityGroupId: from.securityGroup.id, description: `To ${to.spec.name}`, port: to.spec.port, peer: { securityGroupId: to.securityGroup.id } },
                    config,
                    parent,
                );
                allowIngress(
                    `${rule}-in`,
                    { securityGroupId: to.securityGroup.id, description: `From ${from.spec.name}`, port: to.spec.port, peer: { securityGroupId: from.securityGroup.id } },
                    config,
                    parent,
                );
            }
        }

        // Secret env: one Secrets Manager secret per value; the task reads it at start.
        const secrets: Record<string, pulumi.Output<string>> = {};
        const secretVersions: aws.secretsmanager.SecretVersion[] = [];
        for (const [envName, value] of Object.entries(spec.secretEnv ?? {})) {
            const secretName = `${base}-${envName.toLowerCase().replace(/_/g, "-")}`;
            const secret = new aws.secretsmanager.Secret(
                secretName,
                {
                    // A prefix, not a fixed name: a deleted secret's name stays reserved for the recovery window.
                    namePrefix: `${config.prefix}/${spec.name}/${envName}-`,
                    description: `${envName} of ${serviceName}`,
                    recoveryWindowInDays: 7,
                    tags: awsTags(config, `${serviceName}-${envName}`),
                },
                // Production secrets survive a stray destroy (`pulumi state unprotect` to remove them).
                { parent, protect: config.production },
            );
            secretVersions.push(
                new aws.secretsmanager.SecretVersion(`${secretName}-value`, { secretId: secret.id, secretString: pulumi.secret(value) }, { parent }),
            );
            secrets[envName] = secret.arn;
        }

        // Secret files: like the plain ones (init container, gzip + base64), but the encoded content is
        // a Secrets Manager secret the init container receives as a container secret, never plain env.
        const fileVolumes: FileVolume[] = planFileVolumes([...Object.keys(spec.files), ...Object.keys(spec.secretFiles ?? {})], spec.dataVolume?.mountPath);
        const plannedFiles = fileVolumes.flatMap((v) => v.files);
        const fileSecrets: Record<string, pulumi.Output<string>> = {};
        for (const file of plannedFiles.filter((f) => spec.secretFiles?.[f.path] !== undefined)) {
            const secretName = `${base}-file-${file.envName.toLowerCase().replace(/_/g, "-")}`;
            const secret = new aws.secretsmanager.Secret(
                secretName,
                {
                    namePrefix: `${config.prefix}/${spec.name}/file-${file.envName}-`,
                    description: `${file.path} of ${serviceName}`,
                    recoveryWindowInDays: 7,
                    tags: awsTags(config, `${serviceName}-${file.envName}`),
                },
                { parent, protect: config.production },
            );
            const content = (spec.secretFiles ?? {})[file.path];
            secretVersions.push(
                new aws.secretsmanager.SecretVersion(
                    `${secretName}-value`,
                    { secretId: secret.id, secretString: pulumi.secret(content.apply(encodeFileContent)) },
                    { parent },
                ),
            );
            fileSecrets[file.envName] = secret.arn;
        }

        // Roles: the agent's (pull, logs, exactly these secrets) and the task's (ECS Exec, discovery).
        const location = this.platform.location;
        const trust = location.apply((where) => JSON.stringify(ecsTasksTrustPolicy(where)));
        const execution = createRole(
            `${base}-execution`,
            {
                description: `ECS agent of ${serviceName}: pull, logs, its secrets`,
                assumeRolePolicy: trust,
                policies: {
                    start: pulumi
                        .all([this.platform.logGroup.arn, pulumi.all([...Object.values(secrets), ...Object.values(fileSecrets)])])
                        .apply(([logGroupArn, secretArns]) =>
                            JSON.stringify(
                                executionRolePolicy({
                                    logGroupArn,
                                    images: [spec.image, INIT_IMAGE],
                                    secretArns,
                                    // Monitoring images come through the Docker Hub mirror when one is set.
                                    pullThroughImages: config.monitoring.imageRegistry ? [spec.image] : [],
                                }),
                            ),
                        ),
                },
            },
            config,
            parent,
        );
        const taskPolicies: Record<string, pulumi.Input<string>> = { exec: JSON.stringify(ecsExecPolicy()) };
        if (spec.discoversTargets) {
            taskPolicies.discovery = location.apply((where) => JSON.stringify(ecsDiscoveryPolicy(where, cluster)));
        }
        const workspaceArn = this.platform.metricsWorkspaceArn;
        if (spec.metricsStoreAccess && workspaceArn) {
            const access = spec.metricsStoreAccess;
            taskPolicies[`metrics-${access}`] = workspaceArn.apply((arn) => JSON.stringify(ampAccessPolicy(access, arn)));
        }
        const task = createRole(
            `${base}-task`,
            { description: `Task role of ${serviceName}`, assumeRolePolicy: trust, policies: taskPolicies },
            config,
            parent,
        );

        // Task definition.
        const size = smallestFargateSizeFor(spec.resources.cpu, spec.resources.memoryMiB);
        const contentByPath = spec.files;
        const encodedFiles = pulumi.all(
            Object.fromEntries(
                plannedFiles
                    .filter((f) => contentByPath[f.path] !== undefined)
                    .map((f) => [f.envName, pulumi.output(contentByPath[f.path]).apply(encodeFileContent)]),
            ),
        );
        const containerDefinitions = pulumi
            .all([pulumi.all({ ...(spec.env ?? {}) }), pulumi.all(secrets), encodedFiles, pulumi.all(fileSecrets)])
            .apply(([env, secretArns, files, fileSecretArns]) =>
                containerDefinitionsJson(
                    auxContainerDefinitions({
                        name: spec.name,
                        image: spec.image,
                        args: spec.args,
                        port: spec.port,
                        healthPath: spec.healthPath,
                        user: spec.runAsUser,
                        env,
                        secrets: secretArns,
                        fileVolumes,
                        encodedFiles: files,
                        secretFiles: fileSecretArns,
                        dataMountPath: spec.dataVolume?.mountPath,
                        logs: { logGroupName: logGroupName(config.prefix), region: config.region },
                    }),
                ),
            );
        const volumes: aws.types.input.ecs.TaskDefinitionVolume[] = fileVolumes.map((v) => ({ name: v.volumeName }));
        if (spec.dataVolume) {
            volumes.push({ name: DATA_VOLUME, configureAtLaunch: true });
        }
        const taskDefinition = new aws.ecs.TaskDefinition(
            `${base}-task`,
            {
                family: serviceName,
                requiresCompatibilities: ["FARGATE"],
                networkMode: "awsvpc",
                cpu: size.cpu,
                memory: size.memory,
                runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: config.aws.cpuArchitecture },
                executionRoleArn: execution.role.arn,
                taskRoleArn: task.role.arn,
                volumes,
                containerDefinitions,
                tags: awsTags(config, serviceName),
            },
            { parent },
        );

        // Discovery by name for the other services (Grafana → Prometheus).
        const namespace = this.serviceNamespace();
        const registry = new aws.servicediscovery.Service(
            `${base}-dns`,
            {
                name: spec.name,
                description: `${serviceName} tasks`,
                dnsConfig: { namespaceId: namespace.id, routingPolicy: "MULTIVALUE", dnsRecords: [{ type: "A", ttl: 10 }] },
                // ECS reports task health; unhealthy tasks leave DNS. failureThreshold is deprecated
                // (Cloud Map always uses 1) but must be set: an empty block does not round-trip through
                // the provider's state and its ForceNew field then plans a replacement on every later
                // update (hashicorp/terraform-provider-aws#44285), which collides with the existing
                // service name and would redeploy Prometheus/Grafana.
                healthCheckCustomConfig: { failureThreshold: 1 },
                forceDestroy: true,
                tags: awsTags(config, `${serviceName}-dns`),
            },
            { parent },
        );

        // Operator access: an ALB listener limited to the operator CIDRs, when there are any.
        let operator: OperatorAccess | undefined;
        if (operatorListeners) {
            operator = this.operatorListener(base, spec, securityGroup, parent);
        }
        const volumeRole = spec.dataVolume ? this.ebsVolumeRole() : undefined;

        // Everything a task needs at its start: it launches as soon as the service exists.
        const dependsOn: pulumi.Resource[] = [
            // Private egress (NAT routes, route-table associations, VPC endpoints) and its own outbound rule.
            ...network.egressReady,
            httpsOut,
            this.platform.logGroup,
            ...execution.grants,
            ...task.grants,
            // ECS reads each secret's AWSCURRENT version at task start: it must exist by then.
            ...secretVersions,
            // ECS assumes this role to create the data volume at task start: it needs its policy by then.
            ...(volumeRole?.grants ?? []),
        ];
        if (operator) {
            // The target group must be attached to the ALB, and its health checks must get through.
            dependsOn.push(operator.listener, ...operator.healthCheckRules);
        }
        const service = new aws.ecs.Service(
            base,
            {
                name: serviceName,
                cluster: this.platform.cluster.arn,
                taskDefinition: taskDefinition.arn,
                launchType: "FARGATE",
                platformVersion: "LATEST",
                desiredCount: 1,
                networkConfiguration: {
                    subnets: network.privateSubnets.map((s) => s.id),
                    securityGroups: [securityGroup.id],
                    assignPublicIp: false,
                },
                serviceRegistries: { registryArn: registry.arn },
                loadBalancers: operator ? [{ targetGroupArn: operator.targetGroup.arn, containerName: spec.name, containerPort: spec.port }] : undefined,
                healthCheckGracePeriodSeconds: operator ? config.aws.healthCheckGracePeriodSeconds : undefined,
                volumeConfiguration:
                    spec.dataVolume && volumeRole
                        ? {
                              name: DATA_VOLUME,
                              managedEbsVolume: {
                                  roleArn: volumeRole.role.arn,
                                  sizeInGb: spec.dataVolume.sizeGiB,
                                  volumeType: "gp3",
                                  fileSystemType: "xfs",
                                  encrypted: true,
                                  tagSpecifications: [{ resourceType: "volume", propagateTags: "SERVICE", tags: awsTags(config, `${serviceName}-data`) }],
                              },
                          }
                        : undefined,
                enableExecuteCommand: true,
                deploymentController: { type: "ECS" },
                deploymentConfiguration: { strategy: "ROLLING" },
                ...ROLLING_DEPLOYMENT,
                propagateTags: "SERVICE",
                enableEcsManagedTags: true,
                waitForSteadyState: true,
                tags: awsTags(config, serviceName),
            },
            { parent, dependsOn, deleteBeforeReplace: true },
        );

        this.running.set(spec.name, self);

        const internalUrl = pulumi.all([registry.name, namespace.name]).apply(([host, domain]) => `http://${host}.${domain}:${spec.port}`);
        const operatorUrl = operator
            ? pulumi
                  .all([loadBalancer.alb.dnsName, operator.listener.port, service.name])
                  .apply(([dns, port]) => `${loadBalancer.scheme}://${dns}:${port}`)
            : service.name.apply(
                  (name) =>
                      `http://localhost:${spec.operatorPort} after: ` +
                      ssmPortForwardCommand({ region: config.region, cluster, service: name, container: spec.name, port: spec.port, localPort: spec.operatorPort }),
              );
        return { internalUrl, operatorUrl };
    }

    /** The private DNS namespace of the auxiliary services, created with the first one. */
    private serviceNamespace(): aws.servicediscovery.PrivateDnsNamespace {
        const { name, config, network, owner } = this.platform;
        this.namespace ??= new aws.servicediscovery.PrivateDnsNamespace(
            `${name}-namespace`,
            {
                name: serviceDiscoveryNamespace(config.prefix),
                vpc: network.vpc.id,
                description: `Monitoring services of ${config.prefix}`,
                tags: awsTags(config, serviceDiscoveryNamespace(config.prefix)),
            },
            { parent: owner },
        );
        return this.namespace;
    }

    /** The ECS infrastructure role that creates and attaches the tasks' EBS volumes, with its policy attachment. */
    private ebsVolumeRole(): RoleWithPolicies {
        const { name, config, owner, location } = this.platform;
        if (!this.volumeRole) {
            this.volumeRole = createRole(
                `${name}-ebs-volumes`,
                {
                    description: `ECS manages the EBS data volumes of ${config.prefix}'s tasks`,
                    assumeRolePolicy: JSON.stringify(ecsInfrastructureTrustPolicy()),
                    // AWS's managed policy for exactly this: it only touches volumes ECS tagged as its own.
                    managedPolicyArns: [
                        location.apply((where) => `arn:${where.partition}:iam::aws:policy/service-role/AmazonECSInfrastructureRolePolicyForVolumes`),
                    ],
                },
                config,
                owner,
            );
        }
        return this.volumeRole;
    }

    private operatorListener(base: string, spec: AuxServiceSpec, securityGroup: aws.ec2.SecurityGroup, parent: pulumi.Resource): OperatorAccess {
        const { config, network, loadBalancer, groups } = this.platform;
        const targetGroup = new aws.lb.TargetGroup(
            `${this.platform.name}-${operatorTargetGroupSuffix(spec.name)}`,
            {
                vpcId: network.vpc.id,
                targetType: "ip",
                protocol: "HTTP",
                port: spec.port,
                deregistrationDelay: config.aws.deregistrationDelaySeconds,
                healthCheck: targetHealthCheck(spec.readyPath ?? spec.healthPath),
                tags: awsTags(config, `${config.prefix}-${spec.name}-tg`),
            },
            // Its earlier logical name: a stack deployed before the short name keeps its target group.
            { parent, aliases: [{ name: base }] },
        );
        const https = config.aws.certificateArn !== undefined;
        const listener = new aws.lb.Listener(
            `${base}-operator`,
            {
                loadBalancerArn: loadBalancer.alb.arn,
                port: spec.operatorPort,
                protocol: https ? "HTTPS" : "HTTP",
                sslPolicy: https ? TLS_POLICY : undefined,
                certificateArn: config.aws.certificateArn,
                defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
                tags: awsTags(config, `${config.prefix}-${spec.name}-operator`),
            },
            { parent },
        );
        if (!https) {
            void pulumi.log.warn(
                `${spec.name} is exposed to apfa:aws.operatorCidrs over plain HTTP (no apfa:aws.certificateArn): logins cross the network unencrypted`,
                parent,
            );
        }
        config.aws.operatorCidrs.forEach((cidr, i) =>
            allowIngress(
                `${base}-operator-in-${i}`,
                { securityGroupId: groups.alb.id, description: `${spec.name} for operators at ${cidr}`, port: spec.operatorPort, peer: { cidrIpv4: cidr } },
                config,
                parent,
            ),
        );
        const albOut = allowEgress(
            `${base}-alb-out`,
            { securityGroupId: groups.alb.id, description: `To ${spec.name}`, port: spec.port, peer: { securityGroupId: securityGroup.id } },
            config,
            parent,
        );
        const fromAlb = allowIngress(
            `${base}-from-alb`,
            { securityGroupId: securityGroup.id, description: "From the load balancer (operators)", port: spec.port, peer: { securityGroupId: groups.alb.id } },
            config,
            parent,
        );
        return { targetGroup, listener, healthCheckRules: [albOut, fromAlb] };
    }
}
