/**
 * APFA's database on GCP: Cloud SQL for PostgreSQL with a private IP only, reached from the GKE
 * VPC through private services access.
 *
 * Plan:
 * 1. private services access: a global INTERNAL address range (purpose VPC_PEERING) reserved in the
 *    VPC for Google's service producers, and the Service Networking connection (a VPC peering)
 *    that lets Cloud SQL take its private address from it;
 * 2. the instance: `POSTGRES_<major>`, the edition always sent (for PostgreSQL 16+ the API would
 *    otherwise pick ENTERPRISE_PLUS, which refuses custom tiers), REGIONAL availability in
 *    production, no public IPv4, TLS required (`ENCRYPTED_ONLY`), daily backups with
 *    point-in-time recovery over the shared retention window, a Sunday maintenance window,
 *    Query Insights, logging flags, and deletion protection both in Pulumi
 *    (`deletionProtection`, `protect`) and in the API (`settings.deletionProtectionEnabled`, which
 *    also stops the console and gcloud);
 * 3. APFA's database and its BUILT_IN user with a generated password;
 * 4. Cloud Monitoring alert policies on the instance's CPU, memory and disk (see INSTANCE_METRIC_ALERTS).
 *
 * Why a built-in user with a password and not IAM database authentication: the reference app reads
 * libpq's environment (PGPASSWORD); an IAM login's password is an OAuth token valid for an hour, so
 * the app would need either the Cloud SQL Auth Proxy as a sidecar (a chart change for both slots)
 * or code that fetches a token through Workload Identity before each connection. The password is
 * generated (`@pulumi/random`, a Pulumi secret) and reaches the app only as a Kubernetes Secret.
 *
 * Why ENCRYPTED_ONLY and not TRUSTED_CLIENT_CERTIFICATE_REQUIRED: the latter needs a client
 * certificate and key in every pod (and their rotation), which libpq's environment and the
 * reference app do not carry; the password already authenticates the client, TLS protects it in
 * transit. The server certificate comes from a per-instance Google CA that no public store holds,
 * so the app connects with `sslmode=require` (encrypted, server not verified): the path is the
 * private VPC peering only.
 *
 * Provider behaviour checked (@pulumi/gcp 9.37; hashicorp/terraform-provider-google issues):
 * - the Service Networking connection cannot be deleted while Cloud SQL still uses the peering,
 *   even after the instance is gone ("Producer services … are still using this connection",
 *   #16275, #19908): it is abandoned on delete (`deletionPolicy: "ABANDON"`), and
 *   `updateOnCreationFail` lets a re-created stack take over the peering it left behind;
 * - with disk auto-resize, `settings.diskSize` grows out of band and a smaller configured value
 *   would ask for a shrink Cloud SQL refuses: ignored after creation;
 * - `settings.tier` must suit `settings.edition` (checked by config, see settings.ts); database
 *   flags are sent sorted by name, so their order never shows as a diff;
 * - PostgreSQL refuses to drop a role that owns objects, and a database other users can reach:
 *   the user and the database are abandoned on delete (the provider documents ABANDON for exactly
 *   this); destroying the instance removes both.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

import type { GcpConfig, MultiRegionSettings } from "../../config";
import { POSTGRES_PORT } from "../../config";
import type { Database, DatabaseConnection, DatabaseRole } from "../../contract";
import { parseCidr, formatIpv4 } from "../../cidr";
import { stackLabels, type NetworkRef } from "./infra";
import { gcpName } from "./names";
import { CLOUD_SQL_MAX_LOG_RETENTION_DAYS, gcpDatabaseHighAvailability } from "./settings";

export const GCP_DATABASE_TYPE = "apfa:gcp:CloudSqlDatabase";

/** The producer service of private services access. */
export const SERVICE_NETWORKING = "servicenetworking.googleapis.com";

/**
 * Database flags, sorted by name (Cloud SQL returns them sorted; an unsorted list would diff).
 * Connection and lock-wait logging for incident analysis (CIS Google Cloud SQL PostgreSQL
 * recommendations 6.2.x); statement text is not logged (`log_min_duration_statement` stays at its
 * default -1), so no query parameters reach Cloud Logging. All take effect without a restart.
 */
export const DATABASE_FLAGS: readonly { name: string; value: string }[] = [
    { name: "log_connections", value: "on" },
    { name: "log_disconnections", value: "on" },
    { name: "log_lock_waits", value: "on" },
    { name: "log_min_error_statement", value: "error" },
];

/**
 * Cloud Monitoring alert policies on the instance (`cloudsql_database` metrics): what the app's own
 * `apfa_db_*` alerts cannot see — the instance running out of CPU, memory or disk. Means over
 * 15 minutes, so a short burst (a backup, an index build) does not page.
 */
export const INSTANCE_METRIC_ALERTS: readonly { name: string; metric: string; threshold: number; description: string }[] = [
    { name: "cpu", metric: "cloudsql.googleapis.com/database/cpu/utilization", threshold: 0.8, description: "CPU above 80 % for 15 minutes: raise apfa:gcp.database.tier" },
    { name: "memory", metric: "cloudsql.googleapis.com/database/memory/utilization", threshold: 0.9, description: "memory above 90 % for 15 minutes: raise apfa:gcp.database.tier" },
    {
        name: "disk",
        metric: "cloudsql.googleapis.com/database/disk/utilization",
        threshold: 0.85,
        description: "disk above 85 % for 15 minutes: auto-resize cannot keep up (or hit its limit)",
    },
];

/** The replica's own alert: replication behind by more than a minute (what a failover now would lose). */
export const REPLICA_LAG_ALERT = {
    name: "replication-lag",
    metric: "cloudsql.googleapis.com/database/replication/replica_lag",
    threshold: 60,
    description: "the replica is more than 60 s behind the primary: a failover now would lose that much",
} as const;

/** Names of the data tier's GCP resources (an instance name is reserved for a week after deletion). */
export function cloudSqlNames(prefix: string) {
    return {
        instance: gcpName(prefix, "pg", 80),
        privateRange: gcpName(prefix, "psa", 63),
    };
}

/** The `backupConfiguration` block for a PITR window of `days` in an edition. */
export function backupConfiguration(days: number, edition: keyof typeof CLOUD_SQL_MAX_LOG_RETENTION_DAYS) {
    if (days < 1 || days > CLOUD_SQL_MAX_LOG_RETENTION_DAYS[edition]) {
        throw new RangeError(`Cloud SQL ${edition} keeps 1 to ${CLOUD_SQL_MAX_LOG_RETENTION_DAYS[edition]} days of transaction logs (got ${days})`);
    }
    return {
        enabled: true,
        pointInTimeRecoveryEnabled: true,
        // 02:00 UTC, before the Sunday 03:00 maintenance window.
        startTime: "02:00",
        transactionLogRetentionDays: days,
        // One daily backup more than the log window: a restore to its oldest moment still has a
        // base backup from before it.
        backupRetentionSettings: { retainedBackups: days + 1, retentionUnit: "COUNT" },
    };
}

export interface CloudSqlDatabaseArgs {
    readonly config: GcpConfig;
    /** The GKE VPC: the instance gets its private address over a peering with it. */
    readonly network: NetworkRef;
    /** The role it was created with ({@link DatabaseRole}). @default "secondary" for a replica region, else "primary" */
    readonly role?: DatabaseRole;
    /** Base of the instance's and the range's names (`<name>-<region>` in a multi-region stack). @default config.prefix */
    readonly namingPrefix?: string;
    /** The stack's place in a multi-region deployment: a cross-region replica outside the primary region. */
    readonly multiRegion?: CloudSqlMultiRegion;
}

/** What a region's instance needs to know about the deployment (index.ts derives the names). */
export interface CloudSqlMultiRegion {
    readonly settings: MultiRegionSettings;
    /** The primary region's instance and private services range (shared VPC). */
    readonly primary: { readonly instance: string; readonly privateRange: string };
    /** The failover region's instance: the primary's designated DR replica. */
    readonly drReplica: string;
    /** Outside the primary region: the primary's password and DNS write endpoint, read from its stack (secret). */
    readonly fromPrimary?: pulumi.Output<{ password: string; writeEndpoint: string }>;
}

/**
 * `ignoreChanges` of an instance in a multi-region deployment: after a replica failover Cloud SQL
 * turns the DR replica into the primary (and the old primary, when it returns, into its replica),
 * so the replication fields describe the other role; a diff on them would detach or re-point
 * an instance holding the data. README "Multi-region on Azure and GCP" has the reconcile step.
 */
export const REPLICATION_IGNORE_CHANGES = ["replicationCluster", "masterInstanceName", "instanceType", "replicaConfiguration"] as const;

export class CloudSqlDatabase extends pulumi.ComponentResource implements Database {
    readonly role: DatabaseRole;
    readonly connection: DatabaseConnection;
    readonly extraOutputs: Readonly<Record<string, pulumi.Output<unknown>>>;
    readonly instance: gcp.sql.DatabaseInstance;
    /** APFA's database and login; a replica has the primary's (replicated), so none are created there. */
    readonly database?: gcp.sql.Database;
    readonly user?: gcp.sql.User;
    /** Private services access (the primary's; a replica uses the shared VPC's). */
    readonly peering?: gcp.servicenetworking.Connection;
    /**
     * The instance's private address as a /32: a regional instance keeps it across a failover, and
     * the rest of the private services range belongs to other producer services.
     */
    readonly egressCidrs: readonly pulumi.Input<string>[];
    /** Multi-region: the DNS write endpoint (advanced DR) that names whichever instance writes. */
    writeEndpoint?: pulumi.Output<string>;

    constructor(name: string, args: CloudSqlDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super(GCP_DATABASE_TYPE, name, {}, opts);
        const { config } = args;
        const { project, region } = config.gcp;
        const shared = config.database;
        const settings = config.gcp.database;
        const names = cloudSqlNames(args.namingPrefix ?? config.prefix);
        const protect = shared.deletionProtection;
        const parent = { parent: this };
        const multi = args.multiRegion;
        const replica = multi !== undefined && !multi.settings.isPrimary;
        this.role = args.role ?? (replica ? "secondary" : "primary");
        if (replica && multi.fromPrimary === undefined) {
            throw new pulumi.ResourceError("a replica region needs the primary's outputs (apfa:multiRegion.primaryStack)", this);
        }

        const range = parseCidr(settings.privateServicesCidr);
        const privateRange = replica
            ? undefined
            : new gcp.compute.GlobalAddress(
            `${name}-private-range`,
            {
                project,
                name: names.privateRange,
                description: `APFA ${config.stack}: private services access (Cloud SQL)`,
                purpose: "VPC_PEERING",
                addressType: "INTERNAL",
                address: formatIpv4(range.first),
                prefixLength: range.prefix,
                network: args.network.id,
                labels: stackLabels(config),
            },
            parent,
        );
        this.peering = privateRange
            ? new gcp.servicenetworking.Connection(
                  `${name}-peering`,
                  {
                      network: args.network.id,
                      service: SERVICE_NETWORKING,
                      reservedPeeringRanges: [privateRange.name],
                      deletionPolicy: "ABANDON",
                      updateOnCreationFail: true,
                  },
                  parent,
              )
            : undefined;
        const rangeName: pulumi.Input<string> = privateRange ? privateRange.name : multi!.primary.privateRange;

        const highAvailability = gcpDatabaseHighAvailability(settings, config.production);
        this.instance = new gcp.sql.DatabaseInstance(
            `${name}-instance`,
            {
                project,
                region,
                name: names.instance,
                databaseVersion: `POSTGRES_${shared.majorVersion}`,
                // Pulumi-level guard; `settings.deletionProtectionEnabled` is the API-level one.
                deletionProtection: protect,
                settings: {
                    edition: settings.edition,
                    tier: settings.tier,
                    availabilityType: highAvailability ? "REGIONAL" : "ZONAL",
                    diskType: "PD_SSD",
                    diskSize: settings.diskSizeGiB,
                    diskAutoresize: true,
                    deletionProtectionEnabled: protect,
                    ipConfiguration: {
                        ipv4Enabled: false,
                        privateNetwork: args.network.id,
                        allocatedIpRange: rangeName,
                        sslMode: "ENCRYPTED_ONLY",
                        enablePrivatePathForGoogleCloudServices: false,
                    },
                    // A replica takes no backups of its own (Cloud SQL refuses them); it gets the
                    // primary's schedule once a failover promotes it (README, reconcile step).
                    backupConfiguration: replica ? { enabled: false } : backupConfiguration(shared.backupRetentionDays, settings.edition),
                    maintenanceWindow: { day: 7, hour: 3, updateTrack: "stable" },
                    insightsConfig: { queryInsightsEnabled: true, recordClientAddress: false, recordApplicationTags: false, queryStringLength: 1024 },
                    databaseFlags: [...DATABASE_FLAGS].sort((a, b) => a.name.localeCompare(b.name)),
                    // Enterprise Plus turns its data cache on by default; saying so keeps the plan
                    // equal to what the API reports. Enterprise has no data cache.
                    dataCacheConfig: settings.edition === "ENTERPRISE_PLUS" ? { dataCacheEnabled: true } : undefined,
                    userLabels: stackLabels(config),
                },
                // An asynchronous cross-region replica of the primary (same version, logins, data).
                // The primary does not name its DR replica here: Cloud SQL accepts
                // `replicationCluster.failoverDrReplicaName` only once the replica exists ("can be set
                // if … both the primary and replica are created", @pulumi/gcp's doc of the field), and
                // after a failover the roles swap, so the field is ignored after creation either way.
                // The designation is one command after the failover region's first deploy (README
                // "Multi-region on Azure and GCP", the `designateDrReplica` output).
                ...(replica ? { masterInstanceName: multi.primary.instance, instanceType: "READ_REPLICA_INSTANCE" } : {}),
            },
            {
                ...parent,
                protect,
                dependsOn: this.peering ? [this.peering] : [],
                ignoreChanges: ["settings.diskSize", ...(multi ? REPLICATION_IGNORE_CHANGES : [])],
                // A regional instance takes 10-20 minutes to create; a tier change restarts it.
                customTimeouts: { create: "60m", update: "60m", delete: "30m" },
            },
        );

        let passwordValue: pulumi.Output<string>;
        if (replica) {
            passwordValue = pulumi.secret(multi.fromPrimary!.apply((primary) => primary.password));
        } else {
            this.database = new gcp.sql.Database(
                `${name}-database`,
                { project, instance: this.instance.name, name: shared.name, charset: "UTF8", collation: "en_US.UTF8", deletionPolicy: "ABANDON" },
                { ...parent, protect },
            );
            // Letters and digits only (safe in libpq's environment, URLs and shells); 32 of them ≈ 190 bits.
            const password = new random.RandomPassword(`${name}-password`, { length: 32, special: false, minUpper: 1, minLower: 1, minNumeric: 1 }, { ...parent, protect });
            passwordValue = password.result;
            this.user = new gcp.sql.User(
                `${name}-user`,
                { project, instance: this.instance.name, name: shared.user, type: "BUILT_IN", password: pulumi.secret(password.result), deletionPolicy: "ABANDON" },
                // Cloud SQL serialises operations on an instance: the user after the database.
                { ...parent, dependsOn: [this.database] },
            );
        }

        // No notification channel: incidents appear in Cloud Monitoring, and operators add their
        // channels (e-mail, PagerDuty, …); `notificationChannels` is ignored so channels attached in
        // the console are not removed by the next `pulumi up`.
        for (const alert of replica ? [...INSTANCE_METRIC_ALERTS, REPLICA_LAG_ALERT] : INSTANCE_METRIC_ALERTS) {
            new gcp.monitoring.AlertPolicy(
                `${name}-alert-${alert.name}`,
                {
                    project,
                    displayName: `APFA database ${names.instance}: ${alert.name}`,
                    combiner: "OR",
                    severity: "WARNING",
                    conditions: [
                        {
                            displayName: alert.description,
                            conditionThreshold: {
                                filter: pulumi.interpolate`resource.type = "cloudsql_database" AND resource.labels.database_id = "${project}:${this.instance.name}" AND metric.type = "${alert.metric}"`,
                                comparison: "COMPARISON_GT",
                                thresholdValue: alert.threshold,
                                duration: "900s",
                                aggregations: [{ alignmentPeriod: "300s", perSeriesAligner: "ALIGN_MEAN" }],
                            },
                        },
                    ],
                    documentation: { content: `APFA's Cloud SQL instance ${names.instance}: ${alert.description}.`, mimeType: "text/markdown" },
                    userLabels: stackLabels(config),
                },
                { ...parent, ignoreChanges: ["notificationChannels"] },
            );
        }

        // Multi-region: the writer may be any region's instance, all in the shared private services
        // range, and the app connects through the DNS write endpoint, which follows a failover.
        this.egressCidrs = multi ? [settings.privateServicesCidr] : [pulumi.interpolate`${this.instance.privateIpAddress}/32`];
        this.writeEndpoint = multi
            ? replica
                ? pulumi.unsecret(multi.fromPrimary!.apply((primary) => primary.writeEndpoint))
                : this.instance.replicationCluster.apply((cluster) => cluster?.psaWriteEndpoint?.replace(/\.$/, "") ?? "")
            : undefined;
        // Until the DR replica is designated the primary has no write endpoint: its own address then.
        const address = this.writeEndpoint
            ? pulumi.all([this.writeEndpoint, this.instance.privateIpAddress]).apply(([endpoint, ip]) => (endpoint !== "" ? endpoint : ip))
            : this.instance.privateIpAddress;
        if (this.writeEndpoint && !replica) {
            this.writeEndpoint = address;
        }
        const ready: pulumi.Output<unknown>[] = [this.user ? this.user.name : this.instance.name, this.database ? this.database.name : this.instance.name];
        this.connection = {
            // Known once the user exists, so whatever reads it waits until APFA can log in.
            host: pulumi.all([address, ...ready]).apply(([host]) => host as string),
            port: POSTGRES_PORT,
            database: shared.name,
            user: shared.user,
            password: { kind: "value", value: pulumi.secret(passwordValue) },
            sslMode: "require",
        };
        // Stack output `database`: where the instance is, never a credential.
        this.extraOutputs = {
            instance: this.instance.name,
            connectionName: this.instance.connectionName,
            privateIp: this.instance.privateIpAddress,
            availabilityType: pulumi.output(highAvailability ? "REGIONAL" : "ZONAL"),
            ...(multi
                ? {
                      replicaOf: pulumi.output(replica ? multi.primary.instance : ""),
                      writeEndpoint: this.writeEndpoint!,
                      ...(replica
                          ? {}
                          : {
                                designateDrReplica: pulumi.output(
                                    `gcloud sql instances patch ${names.instance} --project ${project} --failover-dr-replica-name=${project}:${multi.drReplica}`,
                                ),
                            }),
                  }
                : {}),
        };
        this.registerOutputs({ ...this.extraOutputs, role: this.role });
    }
}
