/**
 * The AWS target: APFA on ECS Fargate behind an internet-facing ALB.
 *
 * A VPC over N AZs (public subnets for the ALB and NAT gateways, private ones for every task, VPC
 * endpoints for ECR/S3/Logs/Secrets Manager); one ECS service per blue/green slot, each in its own
 * target group; and ONE listener rule that forwards to both target groups with the release
 * weights — the only resource a weight change touches. Each slot autoscales on its own CPU.
 * Auxiliary services (Prometheus, Grafana) run as Fargate services through `runService`.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { ApfaClusterBase, CLUSTER_TYPES, type AuxService, type AuxServiceSpec, type ManagedMetricsStore, type SlotDeployment } from "../../contract";
import type { AwsConfig, Slot } from "../../config";
import { SLOTS } from "../../config";
import { slotImage, trafficWeights } from "../../bluegreen";
import { createAccessLogs, type AccessLogs } from "./accessLogs";
import { createMetricsWorkspace, existingMetricsWorkspace } from "./amp";
import { AuxServices } from "./aux";
import { AuroraDatabase, globalDatabaseNames, type GlobalMembership } from "./database";
import { createRegionalEntry } from "./dns";
import { createFailoverController, regionalHealthUrl } from "./failover";
import { createRole, ecsTasksTrustPolicy, executionRolePolicy, type AwsLocation } from "./iam";
import { createLoadBalancer, plainHttpWarning, type LoadBalancer } from "./loadBalancer";
import { ecsClusterName, logGroupName, slotServiceName } from "./names";
import { createNetwork, type Network } from "./network";
import type { AwsTargetOutputs } from "./outputs";
import { createSlotScaling, type SlotScaling } from "./scaling";
import { createAppSecurityGroups, type AppSecurityGroups } from "./securityGroups";
import { createSlotService, type SlotService } from "./service";
import { awsTags } from "./tags";

export interface EcsClusterArgs {
    /** Validated config of an `aws` stack (`apfa:aws`, `apfa:app`, `apfa:scaling`, `apfa:release`, `aws:region`). */
    readonly config: AwsConfig;
}

/** The public URL: the configured domain, else the ALB's own DNS name; https with a certificate. */
export function publicUrl(scheme: "http" | "https", albDnsName: string, domainName?: string): string {
    return `${scheme}://${domainName ?? albDnsName}`;
}

export class EcsCluster extends ApfaClusterBase<AwsTargetOutputs> {
    readonly network: Network;
    readonly securityGroups: AppSecurityGroups;
    /** Aurora PostgreSQL, when `apfa:database.enabled`. */
    readonly aurora?: AuroraDatabase;
    readonly loadBalancer: LoadBalancer;
    /** The ALB's access-log bucket and its delivery policy. */
    readonly accessLogs: AccessLogs;
    readonly cluster: aws.ecs.Cluster;
    readonly logGroup: aws.cloudwatch.LogGroup;
    /** Task definition and ECS service per slot. */
    readonly services: Readonly<Record<Slot, SlotService>>;
    /** Autoscaling target and policy per slot. */
    readonly scaling: Readonly<Record<Slot, SlotScaling>>;

    /** The AMP workspace's URLs and auth, when `apfa:monitoring.managedPrometheus` is on. */
    readonly metricsStore?: ManagedMetricsStore;

    private readonly aux: AuxServices;

    constructor(name: string, args: EcsClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super(CLUSTER_TYPES.aws, name, trafficWeights(args.config.release), opts);
        const config = args.config;

        const location = awsLocation(config, this);
        this.network = createNetwork(name, config, this);
        this.securityGroups = createAppSecurityGroups(name, config, this.network, this);
        const region = config.multiRegion;
        if (config.database.enabled) {
            this.aurora = new AuroraDatabase(
                `${name}-database`,
                { config, network: this.network, clients: { "apfa-tasks": this.securityGroups.tasks.id }, location, global: globalMembership(config) },
                { parent: this },
            );
        }
        this.accessLogs = createAccessLogs(name, config, location, config.production, this);
        this.loadBalancer = createLoadBalancer(name, config, this.network, this.securityGroups, this.weights, this.accessLogs, this);
        const httpOnly = plainHttpWarning(config.aws, config.region);
        if (httpOnly) {
            void pulumi.log.warn(httpOnly, this);
        }

        this.logGroup = new aws.cloudwatch.LogGroup(
            `${name}-logs`,
            { name: logGroupName(config.prefix), retentionInDays: config.aws.logRetentionDays, tags: awsTags(config, logGroupName(config.prefix)) },
            // Production logs survive a stray `pulumi destroy` (unprotect with `pulumi state unprotect`).
            { parent: this, protect: config.production },
        );
        this.cluster = new aws.ecs.Cluster(
            `${name}-cluster`,
            {
                name: ecsClusterName(config.prefix),
                settings: [{ name: "containerInsights", value: "enabled" }],
                tags: awsTags(config, ecsClusterName(config.prefix)),
            },
            { parent: this },
        );

        const roles = createAppRoles(name, config, this.logGroup, location, this, this.aurora);
        const services = {} as Record<Slot, SlotService>;
        const scaling = {} as Record<Slot, SlotScaling>;
        const slots = {} as Record<Slot, SlotDeployment>;
        for (const slot of SLOTS) {
            services[slot] = createSlotService(
                name,
                slot,
                {
                    config,
                    network: this.network,
                    cluster: this.cluster,
                    executionRoleArn: roles.execution.role.arn,
                    taskRoleArn: roles.task.role.arn,
                    taskSecurityGroupId: this.securityGroups.tasks.id,
                    targetGroup: this.loadBalancer.targetGroups[slot],
                    database: this.aurora,
                    dependsOn: [
                        // The target group must be attached to the ALB (through the rule) before a service can register in it.
                        this.loadBalancer.trafficRule,
                        ...roles.execution.grants,
                        // No task before its own security-group rules and its log group exist.
                        ...this.securityGroups.taskStartRules,
                        this.logGroup,
                    ],
                },
                this,
            );
            scaling[slot] = createSlotScaling(name, slot, config, this.cluster, services[slot].service, this);
            slots[slot] = {
                slot,
                weight: this.weights[slot],
                discovery: {
                    kind: "ecs",
                    region: config.region,
                    clusterArn: this.cluster.arn,
                    clusterName: ecsClusterName(config.prefix),
                    serviceName: slotServiceName(config.prefix, slot),
                    // Prometheus scrapes the metrics port; the load balancer only ever reaches app.port.
                    port: config.app.metricsPort,
                },
            };
        }
        this.services = services;
        this.scaling = scaling;

        // History that outlives the Prometheus task: an AMP workspace (apfa:monitoring.managedPrometheus).
        // Its own, or an existing one shared by a deployment's regions (apfa:monitoring.managedPrometheusWorkspace).
        let metrics: { readonly arn: pulumi.Output<string>; readonly store: ManagedMetricsStore } | undefined;
        if (config.monitoring.enabled && config.monitoring.managedPrometheus) {
            const existing = config.monitoring.managedPrometheusWorkspace;
            if (existing) {
                metrics = existingMetricsWorkspace(existing, location);
            } else {
                const created = createMetricsWorkspace(name, config, this);
                metrics = { arn: created.workspace.arn, store: created.store };
            }
        }
        this.metricsStore = metrics?.store;

        this.aux = new AuxServices({
            name,
            config,
            owner: this,
            network: this.network,
            cluster: this.cluster,
            logGroup: this.logGroup,
            location,
            loadBalancer: this.loadBalancer,
            groups: this.securityGroups,
            metricsWorkspaceArn: metrics?.arn,
        });

        const { alb, targetGroups, trafficRule, scheme } = this.loadBalancer;

        // Multi-region: this region's health-checked record under the shared name, its regional
        // name, and (in the failover region) the controller that promotes its database.
        if (region && config.aws.domainName && config.aws.hostedZoneId) {
            const domainName = config.aws.domainName;
            createRegionalEntry(
                name,
                {
                    topology: region.topology,
                    region: region.region,
                    isPrimary: region.isPrimary,
                    zoneId: config.aws.hostedZoneId,
                    recordName: domainName,
                    healthPath: config.app.healthPath,
                    https: scheme === "https",
                    alb,
                    tags: awsTags(config, `${config.prefix}-region`),
                },
                this,
            );
            // One controller per deployment, in the failover region: it promotes that region's
            // cluster when the writer region stays unhealthy (both topologies: active-active users
            // move by latency records on their own, but the writer still needs a promotion).
            if (region.region === region.regions[1] && region.controllerImage && this.aurora) {
                createFailoverController(
                    name,
                    {
                        config,
                        network: this.network,
                        cluster: this.cluster,
                        logGroup: this.logGroup,
                        location,
                        image: region.controllerImage,
                        deployment: region.name,
                        globalClusterIdentifier: globalDatabaseNames(region.name).globalCluster,
                        standbyCluster: this.aurora.cluster,
                        primaryHealthUrl: regionalHealthUrl(scheme, region.primaryRegion, domainName, config.app.healthPath),
                        standbyHealthUrl: regionalHealthUrl(scheme, region.region, domainName, config.app.healthPath),
                    },
                    this,
                );
            }
        }

        this.complete({
            url: alb.dnsName.apply((dns) => publicUrl(scheme, dns, config.aws.domainName)),
            slots,
            trafficUrn: trafficRule.urn,
            database: this.aurora,
            outputs: {
                clusterName: this.cluster.name,
                serviceNames: pulumi.output({ blue: services.blue.service.name, green: services.green.service.name }),
                targetGroupArns: pulumi.output({ blue: targetGroups.blue.arn, green: targetGroups.green.arn }),
                targetGroupArnSuffixes: pulumi.output({ blue: targetGroups.blue.arnSuffix, green: targetGroups.green.arnSuffix }),
                listenerRuleArn: trafficRule.arn,
                loadBalancerArn: alb.arn,
                loadBalancerArnSuffix: alb.arnSuffix,
                albDnsName: alb.dnsName,
                vpcId: this.network.vpc.id,
            },
        });
    }

    runService(spec: AuxServiceSpec, parent: pulumi.Resource): AuxService {
        return this.aux.run(spec, parent);
    }
}

/** This region's part of the deployment's Aurora global database, when the stack is multi-region. */
function globalMembership(config: AwsConfig): GlobalMembership | undefined {
    const region = config.multiRegion;
    if (!region) {
        return undefined;
    }
    const names = globalDatabaseNames(region.name);
    return {
        role: region.isPrimary ? "primary" : "secondary",
        globalClusterIdentifier: names.globalCluster,
        secretName: names.secret,
        replicaRegions: region.regions.filter((r) => r !== region.region),
        writeForwarding: region.topology === "active-active" && !region.isPrimary,
        rpoSeconds: config.aws.database.globalRpoSeconds,
    };
}

/** Account, partition and region of the stack, for ARNs and trust conditions. */
function awsLocation(config: AwsConfig, parent: pulumi.Resource): pulumi.Output<AwsLocation> {
    const identity = aws.getCallerIdentityOutput({}, { parent });
    const partition = aws.getPartitionOutput({}, { parent });
    return pulumi.all([identity.accountId, partition.partition]).apply(([accountId, partitionName]) => ({
        accountId,
        partition: partitionName,
        region: config.region,
    }));
}

/** APFA's execution role (pull its images, write its logs) and its task role (no grants: APFA calls no AWS API). */
function createAppRoles(
    name: string,
    config: AwsConfig,
    logGroup: aws.cloudwatch.LogGroup,
    location: pulumi.Output<AwsLocation>,
    parent: pulumi.Resource,
    database?: AuroraDatabase,
) {
    const trust = location.apply((where) => JSON.stringify(ecsTasksTrustPolicy(where)));
    const images = SLOTS.map((slot) => slotImage(config.release, slot)).filter((i): i is string => i !== undefined);
    const execution = createRole(
        `${name}-app-execution`,
        {
            description: `ECS agent of ${config.prefix}'s APFA tasks: pull, logs`,
            assumeRolePolicy: trust,
            // With a database: read exactly its RDS-managed secret, and decrypt with exactly its key.
            policies: {
                start: pulumi
                    .all([logGroup.arn, database?.secretArn, keyOf(database)])
                    .apply(([logGroupArn, secretArn, keyArn]) =>
                        JSON.stringify(executionRolePolicy({ logGroupArn, images, secretArns: secretArn ? [secretArn] : [], secretKeyArns: keyArn ? [keyArn] : [] })),
                    ),
            },
        },
        config,
        parent,
    );
    const task = createRole(`${name}-app-task`, { description: `APFA tasks of ${config.prefix} (no AWS permissions)`, assumeRolePolicy: trust }, config, parent);
    return { execution, task };
}

/** The customer key that encrypts the database secret, if one does (a replicated secret uses the AWS-managed key). */
function keyOf(database: AuroraDatabase | undefined): pulumi.Output<string> | undefined {
    const password = database?.connection.password;
    return password?.kind === "awsSecretsManager" ? password.kmsKeyArn : undefined;
}
