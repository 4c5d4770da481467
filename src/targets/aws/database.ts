/**
 * APFA's database on AWS: Aurora PostgreSQL in the stack's private subnets.
 *
 * - Serverless v2 by default (instance class `db.serverless`, capacity from `apfa:aws.database`),
 *   or a provisioned class; one writer plus `readers` readers (default 1), each instance in the
 *   next AZ of the VPC, readers in promotion tier 1 so a Serverless v2 reader scales with the writer
 *   and can take over at full size.
 * - Storage, Performance Insights and the RDS-managed master secret are encrypted with one
 *   customer-managed KMS key (rotation on). The master password is `manageMasterUserPassword`:
 *   RDS creates and rotates it in Secrets Manager, so neither the program nor the state ever holds
 *   it; ECS hands its `password` key to the tasks as a container secret.
 * - IAM database authentication is on (for operators and future per-task logins); TLS is
 *   required (`rds.force_ssl=1` in the cluster parameter group, `PGSSLMODE=require`).
 * - Reachable on 5432 only from the security groups passed as clients (APFA's tasks); the group
 *   has no egress. Not publicly accessible.
 * - Deletion protection (the cluster's own flag and Pulumi `protect` on the key, the cluster and its
 *   instances) follows `apfa:database.deletionProtection`; a final snapshot is always taken.
 * - Platform-side monitoring: CloudWatch alarms on Aurora's own metrics (Prometheus cannot see
 *   them without an exporter), notifying an SNS topic encrypted with the same key.
 *
 * Provider behaviour checked (pulumi-aws 7.x = terraform-provider-aws, docs in rds/cluster.d.ts and
 * its issues):
 * - `engineVersion` is the major only ("17"): the provider compares it with `engineVersionActual`
 *   as a prefix (terraform-provider-aws#20211, test `OnlyMajorVersion`), so RDS's automatic minor
 *   upgrades cause no diff, where a pinned minor would show a perpetual one.
 * - `availabilityZones` is not set: RDS always spreads Aurora storage over 3 AZs, and a list of
 *   fewer shows as a ForceNew difference on every update (the provider's own note); it is also in
 *   `ignoreChanges` so a refresh's value never plans a replacement.
 * - `manageMasterUserPassword` instead of `masterPassword`: the latter lands in the state (and in
 *   plans) and conflicts with the former.
 * - `finalSnapshotIdentifier` must be unique in the account and region, and a fixed one makes a
 *   second destroy of a re-created stack fail; a random suffix (fixed for the stack's life) avoids it.
 * - Performance Insights is set on each instance: the cluster-level flags apply to Multi-AZ DB
 *   clusters, not to Aurora.
 * - The parameter group's name carries its family: a major upgrade creates the new group before
 *   the old one is deleted (Pulumi's default create-before-delete), with no name clash.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

import type { AwsConfig } from "../../config";
import { POSTGRES_PORT } from "../../config";
import type { Database, DatabaseConnection, DatabaseRole } from "../../contract";
import type { PolicyDocument } from "./iam";
import { auroraCapacity } from "./settings";
import type { Network } from "./network";
import { allowIngress, createSecurityGroup } from "./securityGroups";
import { awsTags } from "./tags";

export const AURORA_DATABASE_TYPE = "apfa:aws:AuroraDatabase";

/** Aurora's instance class for Serverless v2 instances. */
export const SERVERLESS_INSTANCE_CLASS = "db.serverless";
/** Seconds an idle Serverless v2 cluster with a 0 ACU minimum waits before it pauses (AWS's range: 300-86400). */
const AUTO_PAUSE_SECONDS = 900;

/** Physical names operators type into `aws rds …` (lower case: RDS identifiers are). */
export function databaseNames(prefix: string, majorVersion: number) {
    const base = `${prefix.toLowerCase()}-db`;
    return {
        cluster: base,
        instance: (index: number) => `${base}-${index + 1}`,
        subnetGroup: base,
        parameterGroup: `${base}-pg${majorVersion}`,
        keyAlias: `alias/${prefix}-database`,
        logGroup: `/aws/rds/cluster/${base}/postgresql`,
        alarmTopic: `${prefix}-database-alarms`,
    };
}

/**
 * Cluster parameters: TLS required for every connection, and logs that explain slow queries and
 * lock waits (exported to CloudWatch Logs).
 *
 * `rds.force_ssl` is applied `pending-reboot`: engines and versions where it is static refuse
 * `immediate`, and an apply method different from the one RDS reports back shows as a diff on
 * every update (terraform-provider-aws#24737's documentation note; reports in the MoJ and cloud.gov
 * RDS modules). The group exists before the cluster, so a new cluster starts with TLS enforced;
 * turning it on for an existing cluster takes effect at its next reboot. The log settings are
 * dynamic and applied at once.
 */
export const CLUSTER_PARAMETERS: readonly { name: string; value: string; applyMethod: "immediate" | "pending-reboot" }[] = [
    { name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" },
    { name: "log_min_duration_statement", value: "1000", applyMethod: "immediate" },
    { name: "log_lock_waits", value: "1", applyMethod: "immediate" },
];

/**
 * The key policy: the account administers and uses the key through IAM (AWS's default key policy:
 * RDS and Secrets Manager use it on behalf of callers whose IAM policies allow it — the deployer,
 * the tasks' execution role), and CloudWatch may use it to publish alarms to the topic it encrypts.
 * That statement is AWS's documented one for alarms to an encrypted SNS topic, without conditions:
 * nothing documents which context keys CloudWatch sends with those KMS calls, and a condition on an
 * absent key would silently drop every alarm notification.
 */
export function databaseKeyPolicy(where: { partition: string; accountId: string }): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "AccountAdministersThroughIam",
                Effect: "Allow",
                Principal: { AWS: `arn:${where.partition}:iam::${where.accountId}:root` },
                Action: ["kms:*"],
                Resource: ["*"],
            },
            {
                Sid: "CloudWatchAlarmsPublishToEncryptedTopic",
                Effect: "Allow",
                Principal: { Service: "cloudwatch.amazonaws.com" },
                Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
                Resource: ["*"],
            },
        ],
    };
}

/** One CloudWatch alarm on an Aurora metric. */
export interface AuroraAlarm {
    readonly name: string;
    readonly metric: string;
    /** `cluster`: DBClusterIdentifier + Role; `cluster-wide`: DBClusterIdentifier alone; `instance`: every instance on its own. */
    readonly scope: { readonly kind: "cluster"; readonly role: "WRITER" | "READER" } | { readonly kind: "cluster-wide" } | { readonly kind: "instance" };
    readonly statistic: "Average" | "Maximum" | "Minimum";
    readonly comparison: "GreaterThanThreshold" | "LessThanThreshold";
    readonly threshold: number;
    readonly periodSeconds: number;
    readonly evaluationPeriods: number;
    readonly description: string;
}

/**
 * The platform-side database alarms (AWS/RDS metrics). Connection counts are judged against the
 * capacity rather than a fixed number, so they live in the app-side rules (pool gauges).
 */
export function auroraAlarms(readers: number, serverless: boolean): AuroraAlarm[] {
    const alarms: AuroraAlarm[] = [
        {
            name: "writer-cpu",
            metric: "CPUUtilization",
            scope: { kind: "cluster", role: "WRITER" },
            statistic: "Average",
            comparison: "GreaterThanThreshold",
            threshold: 80,
            periodSeconds: 300,
            evaluationPeriods: 3,
            description: "Aurora writer CPU above 80 % for 15 minutes: raise maxCapacity or the instance class",
        },
        {
            name: "writer-freeable-memory",
            metric: "FreeableMemory",
            scope: { kind: "cluster", role: "WRITER" },
            statistic: "Minimum",
            comparison: "LessThanThreshold",
            threshold: 256 * 1024 * 1024,
            periodSeconds: 300,
            evaluationPeriods: 3,
            description: "Aurora writer has less than 256 MiB freeable memory for 15 minutes",
        },
    ];
    if (serverless) {
        alarms.push({
            name: "writer-acu-utilization",
            metric: "ACUUtilization",
            scope: { kind: "cluster", role: "WRITER" },
            statistic: "Average",
            comparison: "GreaterThanThreshold",
            threshold: 90,
            periodSeconds: 300,
            evaluationPeriods: 3,
            description: "Aurora Serverless v2 writer above 90 % of maxCapacity for 15 minutes: raise apfa:aws.database.maxCapacity",
        });
    }
    if (readers > 0) {
        alarms.push({
            name: "replica-lag",
            metric: "AuroraReplicaLagMaximum",
            scope: { kind: "cluster", role: "WRITER" },
            statistic: "Maximum",
            comparison: "GreaterThanThreshold",
            threshold: 1000,
            periodSeconds: 60,
            evaluationPeriods: 5,
            description: "An Aurora reader lags the writer by more than 1 s for 5 minutes: a failover would start behind",
        });
    }
    return alarms;
}

export interface AuroraDatabaseArgs {
    readonly config: AwsConfig;
    readonly network: Network;
    /** Security groups that may connect on 5432 (APFA's tasks), by a short name for the rule. */
    readonly clients: Readonly<Record<string, pulumi.Input<string>>>;
    /** Account and partition (the key policy). */
    readonly location: pulumi.Input<{ partition: string; accountId: string }>;
    /** Membership of an Aurora global database (`apfa:multiRegion`); a plain regional cluster without. */
    readonly global?: GlobalMembership;
}

/**
 * A region's part in an Aurora global database. The names are the same in every region stack
 * (derived from `apfa:multiRegion.name`), so no stack reads another's state.
 */
export interface GlobalMembership {
    /** `primary`: creates the global cluster and its first (writer) cluster; `secondary`: a cluster that joins it. */
    readonly role: DatabaseRole;
    readonly globalClusterIdentifier: string;
    /** The master credential's secret name; the primary replicates it to every other region under the same name. */
    readonly secretName: string;
    /** Primary: the regions the secret is replicated to (every secondary's). */
    readonly replicaRegions: readonly string[];
    /** Secondary: forward writes to the writer region (Aurora global write forwarding; active-active). */
    readonly writeForwarding: boolean;
    /**
     * `rds.global_db_rpo`, the lag (s) past which Aurora blocks commits on the writer until a
     * secondary catches up: the enforced RPO ceiling (Aurora PostgreSQL only, at least 20). Set in
     * every member's parameter group: it applies on whichever cluster is the writer, also after a
     * failover.
     */
    readonly rpoSeconds: number;
}

/** Names shared by the region stacks of one multi-region deployment. */
export function globalDatabaseNames(deployment: string) {
    return { globalCluster: `${deployment}-global`, secret: `${deployment}-database-master` };
}

/**
 * The global-database parameters of every member's cluster parameter group: the enforced RPO
 * ceiling. Dynamic, so applied at once.
 */
export function globalParameters(global: GlobalMembership | undefined): { name: string; value: string; applyMethod: "immediate" | "pending-reboot" }[] {
    return global ? [{ name: "rds.global_db_rpo", value: String(global.rpoSeconds), applyMethod: "immediate" }] : [];
}

export class AuroraDatabase extends pulumi.ComponentResource implements Database {
    readonly role: DatabaseRole;
    readonly connection: DatabaseConnection;
    readonly extraOutputs: Readonly<Record<string, pulumi.Output<unknown>>>;
    readonly key: aws.kms.Key;
    readonly securityGroup: aws.ec2.SecurityGroup;
    readonly cluster: aws.rds.Cluster;
    readonly instances: aws.rds.ClusterInstance[];
    readonly alarmTopic: aws.sns.Topic;
    /** The master secret (`{"username": …, "password": …}`): RDS-managed, or the global database's replicated one. */
    readonly secretArn: pulumi.Output<string>;
    /** The global cluster, in the primary region's stack of a multi-region deployment. */
    readonly globalCluster?: aws.rds.GlobalCluster;

    constructor(name: string, args: AuroraDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super(AURORA_DATABASE_TYPE, name, {}, opts);
        const { config, network } = args;
        const shared = config.database;
        const sizing = config.aws.database;
        const global = args.global;
        this.role = global?.role ?? "primary";
        const secondary = global?.role === "secondary";
        const names = databaseNames(config.prefix, shared.majorVersion);
        const protect = shared.deletionProtection;
        const serverless = sizing.instanceClass === undefined;
        const capacity = auroraCapacity(sizing);
        // Production changes wait for the maintenance window (a class change restarts an instance);
        // other stacks apply at once, so what `pulumi up` reports is what runs.
        const applyImmediately = !config.production;
        const parent = { parent: this };

        this.key = new aws.kms.Key(
            `${name}-key`,
            {
                description: `${config.prefix}: Aurora storage, Performance Insights, the master secret, the alarm topic`,
                enableKeyRotation: true,
                deletionWindowInDays: 30,
                policy: pulumi.output(args.location).apply((where) => JSON.stringify(databaseKeyPolicy(where))),
                tags: awsTags(config, `${config.prefix}-database`),
            },
            // Losing the key loses the data and every snapshot.
            { ...parent, protect },
        );
        new aws.kms.Alias(`${name}-key-alias`, { name: names.keyAlias, targetKeyId: this.key.keyId }, parent);

        const subnetGroup = new aws.rds.SubnetGroup(
            `${name}-subnets`,
            {
                name: names.subnetGroup,
                description: `${config.prefix}: APFA's database in the private subnets`,
                subnetIds: network.privateSubnets.map((subnet) => subnet.id),
                tags: awsTags(config, names.subnetGroup),
            },
            parent,
        );

        this.securityGroup = createSecurityGroup(`${name}-sg`, "APFA database: PostgreSQL from APFA's tasks only", network, config, this);
        for (const [client, securityGroupId] of Object.entries(args.clients)) {
            allowIngress(
                `${name}-from-${client}`,
                { securityGroupId: this.securityGroup.id, description: `PostgreSQL from ${client}`, port: POSTGRES_PORT, peer: { securityGroupId } },
                config,
                this,
            );
        }

        const parameterGroup = new aws.rds.ClusterParameterGroup(
            `${name}-parameters`,
            {
                name: names.parameterGroup,
                family: `aurora-postgresql${shared.majorVersion}`,
                description: `${config.prefix}: TLS only, slow-query and lock-wait logs`,
                parameters: [...CLUSTER_PARAMETERS, ...globalParameters(global)].map((p) => ({ ...p })),
                tags: awsTags(config, names.parameterGroup),
            },
            parent,
        );

        // RDS would create this group itself, with no expiry; created here, it follows the stack's retention.
        const logGroup = new aws.cloudwatch.LogGroup(
            `${name}-logs`,
            // RDS fixes the group's name; the Name tag says whose it is.
            { name: names.logGroup, retentionInDays: config.aws.logRetentionDays, tags: awsTags(config, `${names.cluster}-postgresql-log`) },
            parent,
        );
        // Fixed for the stack's life; unique across re-creations of the stack (see the header).
        const snapshotSuffix = new random.RandomId(`${name}-final-snapshot-suffix`, { byteLength: 4 }, parent);

        // Credentials. A regional cluster: RDS manages and rotates the master password. A global
        // database cannot (RDS refuses Secrets Manager integration for members of a global
        // database): the primary generates it and keeps it in its own secret, replicated to every
        // other region under the same name, where the secondary's tasks read their region's copy.
        let credentials: { secretArn: pulumi.Output<string>; kmsKeyArn?: pulumi.Output<string> };
        let clusterCredentials: Partial<aws.rds.ClusterArgs>;
        let globalCluster: aws.rds.GlobalCluster | undefined;
        if (!global) {
            clusterCredentials = { databaseName: shared.name, masterUsername: shared.user, manageMasterUserPassword: true, masterUserSecretKmsKeyId: this.key.arn };
            credentials = { secretArn: pulumi.output(""), kmsKeyArn: this.key.arn };
        } else if (!secondary) {
            const password = new random.RandomPassword(
                `${name}-master-password`,
                // RDS refuses / " @ and spaces in master passwords; letters and digits only are safe everywhere.
                { length: 40, special: false },
                parent,
            );
            const secret = new aws.secretsmanager.Secret(
                `${name}-master-secret`,
                {
                    name: global.secretName,
                    description: `${config.prefix}: APFA's database login, replicated to every region of the deployment`,
                    kmsKeyId: this.key.arn,
                    // Replicas use their region's AWS-managed key: a customer key there would belong to
                    // another stack, which does not exist when this one first deploys.
                    replicas: global.replicaRegions.map((region) => ({ region })),
                    recoveryWindowInDays: 7,
                    tags: awsTags(config, global.secretName),
                },
                { ...parent, protect },
            );
            new aws.secretsmanager.SecretVersion(
                `${name}-master-secret-value`,
                { secretId: secret.id, secretString: pulumi.secret(pulumi.jsonStringify({ username: shared.user, password: password.result })) },
                parent,
            );
            globalCluster = new aws.rds.GlobalCluster(
                `${name}-global`,
                {
                    globalClusterIdentifier: global.globalClusterIdentifier,
                    engine: "aurora-postgresql",
                    engineVersion: String(shared.majorVersion),
                    databaseName: shared.name,
                    storageEncrypted: true,
                    deletionProtection: shared.deletionProtection,
                    forceDestroy: false,
                    tags: awsTags(config, global.globalClusterIdentifier),
                },
                // Upgrades go through the global cluster; its members report the minor they run.
                { ...parent, protect, ignoreChanges: ["engineVersion"] },
            );
            clusterCredentials = {
                globalClusterIdentifier: globalCluster.id,
                databaseName: shared.name,
                masterUsername: shared.user,
                masterPassword: password.result,
            };
            credentials = { secretArn: secret.arn, kmsKeyArn: this.key.arn };
        } else {
            // Joins the global cluster created by the primary region's stack (deploy that first);
            // the database, login and password come from the primary by replication.
            clusterCredentials = {
                globalClusterIdentifier: global.globalClusterIdentifier,
                ...(global.writeForwarding ? { enableGlobalWriteForwarding: true } : {}),
            };
            const replica = aws.secretsmanager.getSecretOutput({ name: global.secretName }, parent);
            credentials = { secretArn: replica.arn };
        }

        this.cluster = new aws.rds.Cluster(
            `${name}-cluster`,
            {
                clusterIdentifier: names.cluster,
                engine: "aurora-postgresql",
                engineMode: "provisioned",
                engineVersion: String(shared.majorVersion),
                // A new apfa:database.majorVersion is then an in-place major upgrade (with the new
                // family's parameter group): minutes of downtime, so snapshot first (README, Data tier).
                allowMajorVersionUpgrade: !global,
                ...clusterCredentials,
                iamDatabaseAuthenticationEnabled: true,
                storageEncrypted: true,
                kmsKeyId: this.key.arn,
                dbSubnetGroupName: subnetGroup.name,
                vpcSecurityGroupIds: [this.securityGroup.id],
                dbClusterParameterGroupName: parameterGroup.name,
                port: POSTGRES_PORT,
                serverlessv2ScalingConfiguration: serverless
                    ? {
                          ...capacity,
                          secondsUntilAutoPause: capacity.minCapacity === 0 ? AUTO_PAUSE_SECONDS : undefined,
                      }
                    : undefined,
                backupRetentionPeriod: shared.backupRetentionDays,
                preferredBackupWindow: sizing.preferredBackupWindow,
                preferredMaintenanceWindow: sizing.preferredMaintenanceWindow,
                copyTagsToSnapshot: true,
                deletionProtection: shared.deletionProtection,
                // A secondary holds a copy of the primary's data (whose final snapshot is the one that counts).
                skipFinalSnapshot: secondary,
                finalSnapshotIdentifier: secondary ? undefined : pulumi.interpolate`${names.cluster}-final-${snapshotSuffix.hex}`,
                enabledCloudwatchLogsExports: ["postgresql"],
                applyImmediately,
                tags: awsTags(config, names.cluster, { role: this.role }),
            },
            {
                ...parent,
                protect,
                dependsOn: [logGroup],
                // availabilityZones: see the header. In a global database, a failover or switchover
                // changes which cluster replicates from which; the state must never try to put that
                // back: a diff on `replicationSourceIdentifier` would promote a secondary and one on
                // `globalClusterIdentifier` would detach a cluster from the global database
                // (terraform-provider-aws#40921/#43214; cloudposse/terraform-aws-rds-cluster#280).
                ignoreChanges: global ? ["availabilityZones", "globalClusterIdentifier", "replicationSourceIdentifier"] : ["availabilityZones"],
            },
        );

        this.instances = [];
        for (let index = 0; index <= sizing.readers; index++) {
            const identifier = names.instance(index);
            this.instances.push(
                new aws.rds.ClusterInstance(
                    `${name}-instance-${index + 1}`,
                    {
                        identifier,
                        clusterIdentifier: this.cluster.id,
                        engine: "aurora-postgresql",
                        instanceClass: sizing.instanceClass ?? SERVERLESS_INSTANCE_CLASS,
                        // Writer in the first AZ, each reader in the next one (round robin).
                        availabilityZone: network.availabilityZones.apply((zones) => zones[index % zones.length]),
                        // Readers in tier 0-1 follow the writer's capacity (Serverless v2), ready to take over at its size.
                        promotionTier: index === 0 ? 0 : 1,
                        dbSubnetGroupName: subnetGroup.name,
                        publiclyAccessible: false,
                        autoMinorVersionUpgrade: true,
                        performanceInsightsEnabled: true,
                        performanceInsightsKmsKeyId: this.key.arn,
                        performanceInsightsRetentionPeriod: sizing.performanceInsightsRetentionDays,
                        // No Enhanced Monitoring: the alarms and dashboards use CloudWatch's RDS metrics and
                        // Performance Insights; OS-level metrics would need a monitoring role and cost logs.
                        monitoringInterval: 0,
                        copyTagsToSnapshot: true,
                        applyImmediately,
                        tags: awsTags(config, identifier, { role: index === 0 ? "writer" : "reader" }),
                    },
                    // Readers after the writer: Aurora makes the first instance of a cluster its writer.
                    { ...parent, protect, dependsOn: index === 0 ? [] : [this.instances[0]] },
                ),
            );
        }

        this.alarmTopic = new aws.sns.Topic(
            `${name}-alarms`,
            { name: names.alarmTopic, kmsMasterKeyId: this.key.arn, tags: awsTags(config, names.alarmTopic) },
            parent,
        );
        for (const alarm of [...auroraAlarms(sizing.readers, serverless), ...globalAlarms(global)]) {
            const alarmName = `${names.cluster}-${alarm.name}`;
            new aws.cloudwatch.MetricAlarm(
                `${name}-alarm-${alarm.name}`,
                {
                    name: alarmName,
                    alarmDescription: alarm.description,
                    namespace: "AWS/RDS",
                    metricName: alarm.metric,
                    dimensions: { DBClusterIdentifier: names.cluster, ...(alarm.scope.kind === "cluster" ? { Role: alarm.scope.role } : {}) },
                    statistic: alarm.statistic,
                    comparisonOperator: alarm.comparison,
                    threshold: alarm.threshold,
                    period: alarm.periodSeconds,
                    evaluationPeriods: alarm.evaluationPeriods,
                    treatMissingData: "missing",
                    alarmActions: [this.alarmTopic.arn],
                    okActions: [this.alarmTopic.arn],
                    tags: awsTags(config, alarmName),
                },
                { ...parent, dependsOn: [this.cluster] },
            );
        }

        const secret = global
            ? credentials.secretArn
            : this.cluster.masterUserSecrets.apply((secrets) => {
                  const first = secrets?.[0];
                  if (!first?.secretArn) {
                      throw new pulumi.ResourceError("RDS reported no managed master secret for the cluster (manageMasterUserPassword)", this);
                  }
                  return first.secretArn;
              });
        this.secretArn = secret;
        this.connection = {
            host: databaseHost(this.cluster, global, globalCluster, parent),
            port: POSTGRES_PORT,
            database: shared.name,
            user: shared.user,
            password: { kind: "awsSecretsManager", secretArn: secret, jsonKey: "password", ...(credentials.kmsKeyArn ? { kmsKeyArn: credentials.kmsKeyArn } : {}) },
            // Encrypted and required by the server; `verify-full` needs the RDS CA bundle in the image.
            sslMode: "require",
        };
        this.globalCluster = globalCluster;
        this.extraOutputs = {
            clusterIdentifier: this.cluster.clusterIdentifier,
            writerEndpoint: this.cluster.endpoint,
            readerEndpoint: this.cluster.readerEndpoint,
            masterSecretArn: secret,
            kmsKeyArn: this.key.arn,
            alarmTopicArn: this.alarmTopic.arn,
            ...(global ? { globalClusterIdentifier: pulumi.output(global.globalClusterIdentifier), appEndpoint: this.connection.host } : {}),
        };
        this.registerOutputs({ ...this.extraOutputs, role: this.role });
    }
}

/**
 * Where the app connects. A regional cluster: its writer endpoint. In a global database, the
 * primary's and (active-passive) the standby's tasks use the global writer endpoint, which always
 * names the current writer, so a failover needs no redeploy; an active-active secondary uses its
 * own cluster's endpoint with write forwarding: reads stay in the region, each write statement
 * makes one round trip to the writer region.
 */
function databaseHost(
    cluster: aws.rds.Cluster,
    global: GlobalMembership | undefined,
    globalCluster: aws.rds.GlobalCluster | undefined,
    opts: pulumi.InvokeOptions,
): pulumi.Output<string> {
    if (!global) {
        return cluster.endpoint;
    }
    if (global.role === "secondary" && global.writeForwarding) {
        return cluster.endpoint;
    }
    if (globalCluster) {
        return globalCluster.endpoint;
    }
    // Read in this region (DescribeGlobalClusters answers in every member region): no call to the primary's.
    return aws.rds.getGlobalClusterOutput({ identifier: global.globalClusterIdentifier }, opts).endpoint;
}

/**
 * Alarms of a secondary region's cluster, where Aurora publishes the global database's lag metrics
 * (dimension DBClusterIdentifier of the secondary): replication lag (what a failover would lose)
 * and RPO lag nearing the `rds.global_db_rpo` ceiling (past it the writer blocks commits).
 */
export function globalAlarms(global: GlobalMembership | undefined): AuroraAlarm[] {
    if (global?.role !== "secondary") {
        return [];
    }
    return [
        {
            name: "global-replication-lag",
            metric: "AuroraGlobalDBReplicationLag",
            scope: { kind: "cluster-wide" },
            statistic: "Maximum",
            comparison: "GreaterThanThreshold",
            threshold: 1000,
            periodSeconds: 60,
            evaluationPeriods: 5,
            description: "This region's copy of the global database lags the writer region by more than 1 s for 5 minutes: a failover now would lose that much",
        },
        {
            name: "global-rpo-lag",
            metric: "AuroraGlobalDBRPOLag",
            scope: { kind: "cluster-wide" },
            statistic: "Maximum",
            comparison: "GreaterThanThreshold",
            // Milliseconds: half the ceiling, before commits start to block.
            threshold: (global.rpoSeconds * 1000) / 2,
            periodSeconds: 60,
            evaluationPeriods: 3,
            description: `Aurora global database RPO lag above ${global.rpoSeconds / 2} s: at ${global.rpoSeconds} s (rds.global_db_rpo) the writer blocks commits`,
        },
    ];
}
