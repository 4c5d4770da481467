/**
 * APFA's database on Azure: Azure Database for PostgreSQL Flexible Server with private access
 * (VNet integration) in the AKS VNet.
 *
 * Plan of the constructor:
 * 1. a subnet delegated to `Microsoft.DBforPostgreSQL/flexibleServers` in the AKS VNet (the server
 *    and its HA standby take their private addresses there; nothing else may use it);
 * 2. a private DNS zone `<server>.private.postgres.database.azure.com` linked to the VNet: the
 *    server's name `<server>.postgres.database.azure.com` resolves, from the VNet only, through it
 *    to the private address (Azure writes the record);
 * 3. the server: the configured SKU (tier read from its name), Premium SSD with auto-grow,
 *    zone-redundant HA with the standby in the second configured zone (production), backups with
 *    the shared retention (geo-redundant only when configured: Azure reads it at creation only),
 *    public network access disabled, password authentication with a generated password;
 * 4. server parameters: `require_secure_transport` on and TLS 1.2 as the minimum (the platform
 *    defaults, pinned so that nobody can turn them off outside the program without a diff);
 * 5. APFA's database; with deletion protection `protect` on the stateful resources and a
 *    CanNotDelete management lock on the server (which covers its databases).
 * 6. Azure Monitor metric alerts on the server's CPU, memory and storage (see SERVER_METRIC_ALERTS).
 *
 * Why a password and not Entra ID: the reference app reads libpq's environment (PGPASSWORD), and an
 * Entra ID token lives for an hour, so the app would need code that fetches one through workload
 * identity before every new connection. The password is generated (`@pulumi/random`, a Pulumi
 * secret: encrypted in state, `[secret]` in plans) and reaches the app only as a Kubernetes Secret.
 * A Key Vault copy would add a vault, an access policy and the Secrets Store CSI driver for the
 * same value without taking it out of Pulumi's state, so it is not made.
 *
 * Provider behaviour checked (azure-native 3.28, API 2025-08-01; azurerm and upjet issues for the
 * same API): after an HA failover Azure swaps `availabilityZone` and
 * `highAvailability.standbyAvailabilityZone`, and sending the original zones back is refused
 * ("can only be changed when exchanged…", hashicorp/terraform-provider-azurerm#25538,
 * crossplane-contrib/provider-upjet-azure#1303): both are ignored after creation. Auto-grow
 * enlarges `storage.storageSizeGB` (and with it the performance tier) and Azure never shrinks a
 * disk: both are ignored while auto-grow is on. azure-native plans a replacement of the whole
 * server for a new administrator login or password (pulumi/pulumi-azure-native#1911, #3869, open):
 * both are ignored after creation. Password authentication is set explicitly
 * (`authConfig.passwordAuth`): a server created with only an administrator login can end up with
 * password authentication disabled (Azure/bicep-registry-modules#2697).
 */
import * as authorization from "@pulumi/azure-native/authorization";
import * as dbforpostgresql from "@pulumi/azure-native/dbforpostgresql";
import * as monitor from "@pulumi/azure-native/monitor";
import * as network from "@pulumi/azure-native/network";
import * as privatedns from "@pulumi/azure-native/privatedns";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

import type { AzureConfig } from "../../config";
import { POSTGRES_PORT } from "../../config";
import type { Database, DatabaseConnection, DatabaseRole } from "../../contract";
import type { MultiRegionSettings } from "../../config";
import { multiRegionNames, regionIds, databaseDnsZoneId, writerHost } from "./multiregion";
import { azureDatabaseHighAvailability, flexibleServerTier } from "./settings";

export const AZURE_DATABASE_TYPE = "apfa:azure:FlexibleServerDatabase";

/** The service a Flexible Server subnet is delegated to. */
export const FLEXIBLE_SERVER_DELEGATION = "Microsoft.DBforPostgreSQL/flexibleServers";

/**
 * Server parameters the program pins (`source: user-override`). Azure's defaults already require
 * TLS; pinning them shows any change made in the portal as a diff and puts it back.
 */
export const SERVER_PARAMETERS: Readonly<Record<string, string>> = {
    require_secure_transport: "on",
    ssl_min_protocol_version: "TLSv1.2",
};

/**
 * Azure Monitor metric alerts on the server (metric namespace `Microsoft.DBforPostgreSQL/flexibleServers`):
 * what the app's own `apfa_db_*` alerts cannot see — the server running out of CPU, memory or disk.
 * Averages over 15 minutes, evaluated every 5, so a short burst (a backup, an index build) does not page.
 */
export const SERVER_METRIC_ALERTS: readonly { name: string; metric: string; threshold: number; description: string }[] = [
    { name: "cpu", metric: "cpu_percent", threshold: 80, description: "CPU above 80 % for 15 minutes: scale apfa:azure.database.skuName up" },
    { name: "memory", metric: "memory_percent", threshold: 90, description: "memory above 90 % for 15 minutes: scale apfa:azure.database.skuName up" },
    {
        name: "storage",
        metric: "storage_percent",
        threshold: 85,
        description: "storage above 85 % for 15 minutes: auto-grow is off or cannot keep up; a full server turns read-only",
    },
];

/** The replica's own alert: replication behind by more than a minute (the RPO a failover would lose). */
export const REPLICA_LAG_ALERT = {
    name: "replication-lag",
    metric: "physical_replication_delay_in_seconds",
    threshold: 60,
    description: "the replica is more than 60 s behind the primary: a failover now would lose that much",
} as const;

/** Physical names of the data tier (a server name is global DNS: 3-63 of a-z, 0-9, `-`). */
export function flexibleServerNames(prefix: string) {
    const base = prefix.toLowerCase().replace(/[^a-z0-9-]/g, "-").replace(/-+/g, "-").replace(/^-+|-+$/g, "");
    const server = `${base.slice(0, 60).replace(/-+$/, "")}-pg`;
    return {
        server,
        subnet: "postgres",
        /** Microsoft's naming for a private-access zone: `<anything>.private.postgres.database.azure.com`. */
        dnsZone: `${server}.private.postgres.database.azure.com`,
        dnsLink: `${base}-vnet-link`.slice(0, 80),
        lock: "apfa-database-cannot-delete",
    };
}

/** The `highAvailability` block: zone-redundant with the standby in another zone, or off. */
export function highAvailabilityOf(enabled: boolean, zones: readonly string[]): { mode: "ZoneRedundant"; standbyAvailabilityZone: string } | { mode: "Disabled" } {
    if (!enabled) {
        return { mode: "Disabled" };
    }
    const [primary, standby] = [...new Set(zones)];
    if (primary === undefined || standby === undefined) {
        // Config validation refuses this first; the guard keeps callers that skip it honest.
        throw new RangeError("zone-redundant HA needs two availability zones");
    }
    return { mode: "ZoneRedundant", standbyAvailabilityZone: standby };
}

/** Properties Azure changes on its own after creation (see the module comment). */
export function serverIgnoreChanges(storageAutoGrow: boolean): string[] {
    return [
        // azure-native replaces the whole server when either changes (pulumi/pulumi-azure-native#1911,
        // #3869, both open), although Azure can change the password in place: both are fixed at
        // creation here, and a password rotation goes through `az postgres flexible-server update
        // --admin-password` (README "Data tier"). The generated password never changes by itself.
        "administratorLogin",
        "administratorLoginPassword",
        "availabilityZone",
        "highAvailability.standbyAvailabilityZone",
        ...(storageAutoGrow ? ["storage.storageSizeGB", "storage.tier"] : []),
    ];
}

export interface FlexibleServerDatabaseArgs {
    readonly config: AzureConfig;
    readonly resourceGroupName: pulumi.Input<string>;
    readonly vnet: network.VirtualNetwork;
    /**
     * Subnets of the same VNet created by the caller: the delegated subnet waits for them, since
     * Azure refuses concurrent writes to one VNet's subnets (AnotherOperationInProgress).
     */
    readonly after: pulumi.Resource[];
    readonly tags: Record<string, string>;
    /** The role it was created with ({@link DatabaseRole}). @default "secondary" for a replica region, else "primary" */
    readonly role?: DatabaseRole;
    /** Base of the physical names (`<name>-<region>` in a multi-region stack). @default config.prefix */
    readonly namingPrefix?: string;
    /** The stack's place in a multi-region deployment: a replica of the primary outside the primary region. */
    readonly multiRegion?: FlexibleServerMultiRegion;
}

/** What a region's database needs to know about the deployment (multiregion.ts). */
export interface FlexibleServerMultiRegion {
    readonly settings: MultiRegionSettings;
    /** The subscription every region lives in (ARM ids of the primary's server and DNS zone). */
    readonly subscriptionId: pulumi.Input<string>;
    /**
     * Outside the primary region: the primary's generated password (a secret read from the primary
     * stack): a replica has the primary's logins, and the app logs in to whichever server writes.
     */
    readonly primaryPassword?: pulumi.Output<string>;
    /** The primary region's resource group, VNet and server names (index.ts derives them from the deployment's name). */
    readonly primary: { readonly resourceGroup: string; readonly vnet: string; readonly server: string };
    /** The other regions' VNet ranges: the writer may be in any of them (APFA's egress to PostgreSQL). */
    readonly peerCidrs: readonly string[];
}

/**
 * Extra `ignoreChanges` of a server in a multi-region deployment: after a promotion Azure reports the
 * former replica without its source and with another replication role, and the former primary as a
 * replica; these are creation-time inputs (a diff on them would replace a server holding the data).
 * README "Multi-region on Azure and GCP" has the reconcile step after a failover.
 */
export const REPLICATION_IGNORE_CHANGES = ["createMode", "sourceServerResourceId", "replica", "replicationRole"] as const;



export class FlexibleServerDatabase extends pulumi.ComponentResource implements Database {
    readonly role: DatabaseRole;
    readonly connection: DatabaseConnection;
    readonly extraOutputs: Readonly<Record<string, pulumi.Output<unknown>>>;
    readonly server: dbforpostgresql.Server;
    /** APFA's database; a replica has the primary's (replicated), so none is created there. */
    readonly database?: dbforpostgresql.Database;
    /** The virtual endpoints (stable writer and reader names), owned by the failover region's stack. */
    readonly virtualEndpoint?: dbforpostgresql.VirtualEndpoint;
    readonly subnet: network.Subnet;
    /**
     * The delegated subnet's range: where the server's address lies. Not the server's current
     * address alone: after an HA failover the standby, at another address of the subnet, serves.
     */
    readonly egressCidrs: readonly string[];

    constructor(name: string, args: FlexibleServerDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super(AZURE_DATABASE_TYPE, name, {}, opts);
        const { config, resourceGroupName, tags } = args;
        const shared = config.database;
        const settings = config.azure.database;
        const names = flexibleServerNames(args.namingPrefix ?? config.prefix);
        const multi = args.multiRegion;
        const replica = multi !== undefined && !multi.settings.isPrimary;
        const shared_ = multi ? multiRegionNames(multi.settings.name) : undefined;
        const primary = multi?.primary;
        const location = config.azure.location;
        const protect = shared.deletionProtection;
        const parent = { parent: this };
        this.role = args.role ?? (replica ? "secondary" : "primary");
        this.egressCidrs = [settings.subnetCidr, ...(args.multiRegion?.peerCidrs ?? [])];

        const tier = flexibleServerTier(settings.skuName);
        if (tier === undefined) {
            throw new pulumi.ResourceError(`apfa:azure.database.skuName: ${settings.skuName} is not a Flexible Server size`, this);
        }

        this.subnet = new network.Subnet(
            `${name}-subnet`,
            {
                resourceGroupName,
                virtualNetworkName: args.vnet.name,
                subnetName: names.subnet,
                addressPrefix: settings.subnetCidr,
                delegations: [{ name: "flexible-server", serviceName: FLEXIBLE_SERVER_DELEGATION }],
                // Unlike the node subnet, `defaultOutboundAccess` is left to Azure: the server
                // archives WAL and backups to Azure Storage from this subnet, and Microsoft's
                // private-access guidance expects that path open (an NSG must allow it too).
            },
            { ...parent, dependsOn: args.after },
        );

        // Multi-region: one zone for every region's server and the virtual endpoints, created by the
        // primary in its group; each region links its own VNet to it, so the writer's name resolves
        // (over the VNet peering) wherever the app runs.
        const zoneGroup: pulumi.Input<string> = multi && primary ? (multi.settings.isPrimary ? resourceGroupName : primary.resourceGroup) : resourceGroupName;
        const zoneName = shared_ ? shared_.databaseDnsZone : names.dnsZone;
        const zone = replica
            ? undefined
            : new privatedns.PrivateZone(`${name}-dns`, { resourceGroupName: zoneGroup, privateZoneName: zoneName, location: "global", tags }, parent);
        const zoneId: pulumi.Input<string> =
            zone?.id ?? pulumi.output(multi!.subscriptionId).apply((subscription) => databaseDnsZoneId(subscription, primary!.resourceGroup, zoneName));
        const zoneLink = new privatedns.VirtualNetworkLink(
            `${name}-dns-link`,
            {
                resourceGroupName: zoneGroup,
                privateZoneName: zone ? zone.name : zoneName,
                virtualNetworkLinkName: names.dnsLink,
                location: "global",
                virtualNetwork: { id: args.vnet.id },
                // Azure writes the server's record itself; VMs must not register here.
                registrationEnabled: false,
                tags,
            },
            parent,
        );

        // Letters and digits only (safe in libpq's environment, URLs and shells), at least one of
        // each class: Azure wants three of upper, lower, digit, symbol. 32 of them ≈ 190 bits.
        const password = replica
            ? undefined
            : new random.RandomPassword(`${name}-password`, { length: 32, special: false, minUpper: 1, minLower: 1, minNumeric: 1 }, { ...parent, protect });
        const passwordValue: pulumi.Output<string> = password ? password.result : multi!.primaryPassword!;
        if (replica && multi?.primaryPassword === undefined) {
            throw new pulumi.ResourceError("a replica region needs the primary's password (apfa:multiRegion.primaryStack)", this);
        }
        const sourceServerResourceId =
            replica && primary ? pulumi.output(multi.subscriptionId).apply((subscription) => regionIds(subscription, primary).server) : undefined;

        const zones = config.azure.availabilityZones;
        const highAvailability = azureDatabaseHighAvailability(settings, config.production);
        this.server = new dbforpostgresql.Server(
            `${name}-server`,
            {
                resourceGroupName,
                serverName: names.server,
                location,
                tags,
                version: String(shared.majorVersion),
                sku: { name: settings.skuName, tier },
                storage: {
                    storageSizeGB: settings.storageSizeGiB,
                    autoGrow: settings.storageAutoGrow ? "Enabled" : "Disabled",
                    type: "Premium_LRS",
                },
                availabilityZone: zones[0],
                // A read replica runs without HA (Azure: "read replicas do not support high availability");
                // it gets its own once promoted (`az postgres flexible-server update --high-availability`).
                highAvailability: replica ? { mode: "Disabled" } : highAvailabilityOf(highAvailability, zones),
                network: {
                    delegatedSubnetResourceId: this.subnet.id,
                    privateDnsZoneArmResourceId: zoneId,
                    publicNetworkAccess: "Disabled",
                },
                // Planned maintenance (minor versions, OS patches; with HA a failover of seconds)
                // on Sunday 03:00 UTC, like the GCP target, instead of Azure's random slot.
                maintenanceWindow: { customWindow: "Enabled", dayOfWeek: 0, startHour: 3, startMinute: 0 },
                ...(replica
                    ? {
                          // An asynchronous physical copy of the primary (same major version, logins and
                          // databases); only the controller's promotion makes it writable.
                          createMode: "Replica",
                          sourceServerResourceId,
                      }
                    : {
                          backup: {
                              backupRetentionDays: shared.backupRetentionDays,
                              geoRedundantBackup: settings.geoRedundantBackup ? "Enabled" : "Disabled",
                          },
                          authConfig: { passwordAuth: "Enabled", activeDirectoryAuth: "Disabled" },
                          administratorLogin: shared.user,
                          // Secret end to end: RandomPassword marks `result` secret, and so does this input's schema;
                          // wrapping it says so here too.
                          administratorLoginPassword: pulumi.secret(passwordValue),
                      }),
            },
            {
                ...parent,
                protect,
                // The zone must resolve in the VNet before the server registers its record there.
                dependsOn: [zoneLink],
                ignoreChanges: [...serverIgnoreChanges(settings.storageAutoGrow), ...(multi ? REPLICATION_IGNORE_CHANGES : [])],
                // Creating a zone-redundant server takes 10-20 minutes; scaling with HA longer.
                customTimeouts: { create: "60m", update: "60m", delete: "30m" },
            },
        );

        // One at a time: Azure answers a second parameter write during the first with ServerBusy.
        let previous: pulumi.Resource = this.server;
        for (const [parameter, value] of Object.entries(SERVER_PARAMETERS)) {
            previous = new dbforpostgresql.Configuration(
                `${name}-${parameter.replace(/_/g, "-")}`,
                { resourceGroupName, serverName: this.server.name, configurationName: parameter, value, source: "user-override" },
                { ...parent, dependsOn: [previous] },
            );
        }

        this.database = replica
            ? undefined
            : new dbforpostgresql.Database(
                  `${name}-database`,
                  { resourceGroupName, serverName: this.server.name, databaseName: shared.name, charset: "UTF8", collation: "en_US.utf8" },
                  { ...parent, protect, dependsOn: [previous] },
              );
        const dataReady: pulumi.Resource = this.database ?? previous;

        // The failover region pairs its replica with the primary under virtual endpoints: the
        // writer name follows the promotion (promote mode Switchover), so no app is re-pointed. The
        // endpoint is addressed through the primary server (Azure keeps one per primary/replica pair;
        // its `members` name the replica only, hashicorp/terraform-provider-azurerm#26708, #27453).
        if (replica && multi && primary && shared_ && multi.settings.regions[1] === multi.settings.region) {
            this.virtualEndpoint = new dbforpostgresql.VirtualEndpoint(
                `${name}-virtual-endpoint`,
                {
                    resourceGroupName: primary.resourceGroup,
                    serverName: primary.server,
                    virtualEndpointName: shared_.virtualEndpoint,
                    endpointType: "ReadWrite",
                    members: [names.server],
                },
                // After a switchover Azure lists the pair the other way round.
                { ...parent, dependsOn: [this.server], ignoreChanges: ["members", "serverName"] },
            );
        }

        if (protect) {
            // Pulumi's `protect` guards this program; the lock guards the portal, the CLI and other
            // programs too (it applies to the server's databases as well). README "Data tier" says how to lift both.
            new authorization.ManagementLockByScope(
                `${name}-lock`,
                {
                    scope: this.server.id,
                    lockName: names.lock,
                    level: "CanNotDelete",
                    notes: "APFA's database: remove apfa:database.deletionProtection and run pulumi up before deleting",
                },
                { ...parent, dependsOn: [dataReady] },
            );
        }

        // No action group: the alerts appear in Azure Monitor, and operators route them (e-mail,
        // PagerDuty, …) with their own action groups or alert processing rules; `actions` is
        // ignored so an action group attached in the portal is not removed by the next `pulumi up`.
        for (const alert of replica ? [...SERVER_METRIC_ALERTS, REPLICA_LAG_ALERT] : SERVER_METRIC_ALERTS) {
            new monitor.MetricAlert(
                `${name}-alert-${alert.name}`,
                {
                    resourceGroupName,
                    ruleName: `${names.server}-${alert.name}`,
                    location: "global",
                    description: `APFA database ${names.server}: ${alert.description}`,
                    severity: 2,
                    enabled: true,
                    scopes: [this.server.id],
                    evaluationFrequency: "PT5M",
                    windowSize: "PT15M",
                    autoMitigate: true,
                    criteria: {
                        odataType: "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                        allOf: [
                            {
                                criterionType: "StaticThresholdCriterion",
                                name: alert.metric,
                                metricNamespace: "Microsoft.DBforPostgreSQL/flexibleServers",
                                metricName: alert.metric,
                                operator: "GreaterThan",
                                threshold: alert.threshold,
                                timeAggregation: "Average",
                            },
                        ],
                    },
                    tags,
                },
                { ...parent, ignoreChanges: ["actions"] },
            );
        }

        // The name Azure gives the server: resolvable only from linked VNets (private zone), and the
        // name its certificate carries, so the app can verify it.
        const host = this.server.fullyQualifiedDomainName.apply((fqdn) => fqdn ?? `${names.server}.postgres.database.azure.com`);
        // Multi-region: every region's app writes through the virtual endpoint's writer name, which
        // names whichever server is the primary (before and after a failover).
        const appHost = shared_ ? pulumi.all([host, dataReady.urn]).apply(() => writerHost(multi!.settings.name)) : host;
        this.connection = {
            // Known once the database exists, so whatever reads it waits for the whole data tier.
            host: pulumi.all([appHost, dataReady.urn]).apply(([fqdn]) => fqdn),
            port: POSTGRES_PORT,
            database: shared.name,
            user: shared.user,
            password: { kind: "value", value: pulumi.secret(passwordValue) },
            // Flexible Server's certificate chains to public roots (DigiCert Global Root G2,
            // Microsoft RSA Root CA 2017) that Node's CA store carries, and names the server's host
            // name: the app verifies both.
            sslMode: "verify-full",
        };
        // Stack output `database`: where the server is, never a credential.
        this.extraOutputs = {
            server: this.server.name,
            host,
            subnet: pulumi.output(settings.subnetCidr),
            highAvailability: pulumi.output(!replica && highAvailability ? "ZoneRedundant" : "Disabled"),
            ...(multi ? { writerHost: pulumi.output(writerHost(multi.settings.name)), replicaOf: pulumi.output(replica ? primary!.server : "") } : {}),
        };
        this.registerOutputs({ ...this.extraOutputs, role: this.role });
    }
}
