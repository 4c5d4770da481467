/**
 * APFA's database on Azure (src/targets/azure/database.ts), on the real prod-azure stack file run
 * through the offline synth (and its preview): a Flexible Server reachable only through its
 * delegated subnet and private DNS zone, zone-redundant HA and protection in production, backups,
 * TLS enforced, the password a secret end to end (a Kubernetes Secret for the app), the pods' egress
 * opened to the database subnet only, and a config error naming each bad key.
 */
import { strict as assert } from "node:assert";

import { parseConfig } from "../src/config";
import { flexibleServerNames, highAvailabilityOf, serverIgnoreChanges } from "../src/targets/azure/database";
import { flexibleServerTier } from "../src/targets/azure/settings";
import { REDACTED, UNKNOWN, find, ofType, readSampleStack, readStackFile, synthError, synthStack, type Plan, type PlannedResource } from "./helpers/synth";
import { sampleStackProblems } from "./helpers/config";

const STACK = "prod-azure";
const T = {
    server: "azure-native:dbforpostgresql:Server",
    database: "azure-native:dbforpostgresql:Database",
    configuration: "azure-native:dbforpostgresql:Configuration",
    firewall: "azure-native:dbforpostgresql:FirewallRule",
    subnet: "azure-native:network:Subnet",
    vnet: "azure-native:network:VirtualNetwork",
    zone: "azure-native:privatedns:PrivateZone",
    zoneLink: "azure-native:privatedns:VirtualNetworkLink",
    lock: "azure-native:authorization:ManagementLockByScope",
    alert: "azure-native:monitor:MetricAlert",
    password: "random:index/randomPassword:RandomPassword",
    secret: "kubernetes:core/v1:Secret",
    netpol: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    release: "kubernetes:helm.sh/v3:Release",
} as const;
const N = {
    server: "apfa-prod-azure-database-server",
    database: "apfa-prod-azure-database-database",
    subnet: "apfa-prod-azure-database-subnet",
    zone: "apfa-prod-azure-database-dns",
    zoneLink: "apfa-prod-azure-database-dns-link",
    lock: "apfa-prod-azure-database-lock",
    password: "apfa-prod-azure-database-password",
    secret: "apfa-prod-azure-apfa-database-secret",
    egress: "apfa-prod-azure-apfa-netpol-database",
    releases: ["apfa-prod-azure-apfa-blue", "apfa-prod-azure-apfa-green"],
} as const;
/** What the synth's mock RandomPassword returns for the database password. */
const MOCK_PASSWORD = `mock-password-${N.password}`;

type Obj = Record<string, unknown>;
const input = (r: PlannedResource, ...keys: string[]): unknown => keys.reduce<unknown>((v, k) => (v as Obj | undefined)?.[k], r.inputs);
const server = (plan: Plan) => find(plan, T.server, N.server);

/** The stack file's `apfa:azure` with some keys of its `database` replaced. */
function azureDatabase(changes: Obj): Obj {
    const azure = readStackFile(STACK)["apfa:azure"] as Obj;
    return { "apfa:azure": { ...azure, database: { ...((azure.database as Obj | undefined) ?? {}), ...changes } } };
}

/** The problems of a stack config that must be refused. */
function problems(overrides: Obj): readonly string[] {
    const found = sampleStackProblems(STACK, overrides);
    assert.notDeepEqual(found, [], "the config was accepted");
    return found;
}

describe("Azure database: PostgreSQL Flexible Server", function () {
    this.timeout(120_000);
    let plan: Plan;
    let preview: Plan;
    before(() => {
        plan = synthStack(STACK);
        preview = synthStack(STACK, {}, { preview: true });
    });

    it("is reachable only privately: a delegated subnet in the AKS VNet, a linked private DNS zone, public access disabled, no firewall rule", () => {
        const subnet = find(plan, T.subnet, N.subnet);
        const vnet = ofType(plan, T.vnet)[0];
        assert.equal(input(subnet, "addressPrefix"), "10.60.16.0/27");
        assert.equal(input(subnet, "virtualNetworkName"), input(vnet, "virtualNetworkName"));
        assert.deepEqual(input(subnet, "delegations"), [{ name: "flexible-server", serviceName: "Microsoft.DBforPostgreSQL/flexibleServers" }]);

        const zone = find(plan, T.zone, N.zone);
        assert.equal(input(zone, "privateZoneName"), "apfa-prod-azure-pg.private.postgres.database.azure.com");
        const link = find(plan, T.zoneLink, N.zoneLink);
        assert.equal(input(link, "registrationEnabled"), false);
        assert.match(String(input(link, "virtualNetwork", "id")), /\/virtualNetworks\/apfa-prod-azure-vnet$/);

        const s = server(plan);
        assert.equal(input(s, "network", "publicNetworkAccess"), "Disabled");
        assert.match(String(input(s, "network", "delegatedSubnetResourceId")), /\/virtualNetworks\/apfa-prod-azure-vnet\/subnets\/postgres$/);
        assert.match(String(input(s, "network", "privateDnsZoneArmResourceId")), /\/privateDnsZones\/apfa-prod-azure-pg\.private\.postgres\.database\.azure\.com$/);
        // The zone must resolve in the VNet before the server registers its record.
        assert.ok(s.options.dependsOn.includes(link.urn), "the server waits for the VNet link");
        assert.deepEqual(ofType(plan, T.firewall), [], "no firewall rule opens the server");
    });

    it("runs the configured size and version: General Purpose D2ds_v5, PostgreSQL 17, 128 GiB Premium SSD that grows", () => {
        const s = server(plan);
        assert.deepEqual(input(s, "sku"), { name: "Standard_D2ds_v5", tier: "GeneralPurpose" });
        assert.equal(input(s, "version"), "17");
        assert.deepEqual(input(s, "storage"), { storageSizeGB: 128, autoGrow: "Enabled", type: "Premium_LRS" });
        assert.equal(input(s, "administratorLogin"), "apfa");
        assert.deepEqual(input(s, "authConfig"), { passwordAuth: "Enabled", activeDirectoryAuth: "Disabled", tenantId: "" });
        assert.deepEqual(input(s, "maintenanceWindow"), { customWindow: "Enabled", dayOfWeek: 0, startHour: 3, startMinute: 0 });
        const db = find(plan, T.database, N.database);
        assert.equal(input(db, "databaseName"), "apfa");
        assert.equal(input(db, "serverName"), "apfa-prod-azure-pg");
    });

    it("is zone-redundant in production, and ignores the zones Azure swaps on failover, the storage auto-grow enlarges, and the login the provider would replace the server for", () => {
        const s = server(plan);
        assert.equal(input(s, "availabilityZone"), "1");
        assert.deepEqual(input(s, "highAvailability"), { mode: "ZoneRedundant", standbyAvailabilityZone: "2" });
        assert.deepEqual([...s.options.ignoreChanges].sort(), [
            "administratorLogin",
            "administratorLoginPassword",
            "availabilityZone",
            "highAvailability.standbyAvailabilityZone",
            "storage.storageSizeGB",
            "storage.tier",
        ]);
    });

    it("keeps backups for apfa:database.backupRetentionDays, geo-redundant only when configured", () => {
        assert.deepEqual(input(server(plan), "backup"), { backupRetentionDays: 7, geoRedundantBackup: "Disabled" });
        const changed = synthStack(STACK, { ...azureDatabase({ geoRedundantBackup: true }), "apfa:database": { backupRetentionDays: 21 } });
        assert.deepEqual(input(server(changed), "backup"), { backupRetentionDays: 21, geoRedundantBackup: "Enabled" });
    });

    it("enforces TLS: require_secure_transport on, TLS 1.2 at least, written one after the other; the app verifies the server (verify-full)", () => {
        const configurations = ofType(plan, T.configuration);
        const values = Object.fromEntries(configurations.map((c) => [input(c, "configurationName"), input(c, "value")]));
        assert.deepEqual(values, { require_secure_transport: "on", ssl_min_protocol_version: "TLSv1.2" });
        for (const c of configurations) {
            assert.equal(input(c, "source"), "user-override");
        }
        const [first, second] = configurations;
        assert.ok(second.options.dependsOn.includes(first.urn), "Azure refuses concurrent parameter writes: the second waits for the first");
        for (const name of N.releases) {
            const env = input(find(plan, T.release, name), "values", "env") as Obj;
            assert.equal(env.PGSSLMODE, "verify-full");
            assert.equal(env.PGHOST, "apfa-prod-azure-pg.postgres.database.azure.com");
            assert.equal(env.PGPORT, "5432");
        }
    });

    it("is protected in production: protect on the server, its database and password, and a CanNotDelete lock on the server", () => {
        for (const [type, name] of [
            [T.server, N.server],
            [T.database, N.database],
            [T.password, N.password],
        ] as const) {
            assert.equal(find(plan, type, name).options.protect, true, `${name} is protected`);
        }
        const lock = find(plan, T.lock, N.lock);
        assert.equal(input(lock, "level"), "CanNotDelete");
        assert.match(String(input(lock, "scope")), /\/Microsoft\.DBforPostgreSQL\/flexibleServers\/apfa-prod-azure-pg$/);
    });

    it("a stack that is not production: no HA, no protection, no lock (unless apfa:database.deletionProtection says so)", () => {
        const dev = synthStack(STACK, { "apfa:tags": { owner: "platform-team" } });
        const s = server(dev);
        assert.equal(input(s, "highAvailability", "mode"), "Disabled");
        assert.equal(s.options.protect, false);
        assert.deepEqual(ofType(dev, T.lock), []);
        const guarded = synthStack(STACK, { "apfa:tags": { owner: "platform-team" }, "apfa:database": { deletionProtection: true } });
        assert.equal(server(guarded).options.protect, true);
        assert.equal(ofType(guarded, T.lock).length, 1);
    });

    for (const mode of ["synth", "preview"] as const) {
        it(`never shows the password in clear (${mode}): the server input and the app's Kubernetes Secret are secrets, the releases reference the Secret`, () => {
            const p = mode === "synth" ? plan : preview;
            assert.ok(!JSON.stringify(p).includes(MOCK_PASSWORD), "the generated password appears nowhere in the plan");
            assert.equal(input(server(p), "administratorLoginPassword"), REDACTED);
            assert.ok(p.secretInputs.includes(`${T.server}::${N.server}.administratorLoginPassword`));
            const secret = find(p, T.secret, N.secret);
            assert.equal(input(secret, "metadata", "name"), "apfa-database");
            assert.equal(input(secret, "metadata", "namespace"), "apfa");
            assert.equal(input(secret, "stringData"), REDACTED);
            if (mode === "synth") {
                for (const name of N.releases) {
                    const values = input(find(p, T.release, name), "values") as Obj;
                    assert.deepEqual(values.secretEnv, { PGPASSWORD: { secretName: "apfa-database", key: "password" } });
                    assert.ok(!("PGPASSWORD" in (values.env as Obj)), "no password in the chart's plain env");
                }
            }
        });
    }

    it("alerts in Azure Monitor on the server's CPU, memory and storage, leaving the routing (action groups) to operators", () => {
        const alerts = ofType(plan, T.alert);
        const byMetric = Object.fromEntries(
            alerts.map((a) => {
                const [criterion] = input(a, "criteria", "allOf") as Obj[];
                return [criterion.metricName, { threshold: criterion.threshold, operator: criterion.operator, aggregation: criterion.timeAggregation }];
            }),
        );
        assert.deepEqual(byMetric, {
            cpu_percent: { threshold: 80, operator: "GreaterThan", aggregation: "Average" },
            memory_percent: { threshold: 90, operator: "GreaterThan", aggregation: "Average" },
            storage_percent: { threshold: 85, operator: "GreaterThan", aggregation: "Average" },
        });
        for (const a of alerts) {
            assert.deepEqual(input(a, "scopes"), [`/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/apfa-prod-azure-rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/apfa-prod-azure-pg`]);
            assert.equal(input(a, "windowSize"), "PT15M");
            assert.equal(input(a, "actions"), undefined);
            assert.deepEqual(a.options.ignoreChanges, ["actions"]);
        }
    });

    it("lists the server in the stack output `database`, without any credential", () => {
        assert.deepEqual(plan.outputs.database, {
            server: "apfa-prod-azure-pg",
            host: "apfa-prod-azure-pg.postgres.database.azure.com",
            subnet: "10.60.16.0/27",
            highAvailability: "ZoneRedundant",
        });
    });

    it("lets APFA's pods reach the database subnet on 5432, and only that (the namespace denies other egress)", () => {
        const egress = find(plan, T.netpol, N.egress);
        assert.deepEqual(input(egress, "spec"), {
            podSelector: { matchLabels: { "app.kubernetes.io/name": "apfa" } },
            policyTypes: ["Egress"],
            egress: [{ to: [{ ipBlock: { cidr: "10.60.16.0/27" } }], ports: [{ protocol: "TCP", port: 5432 }] }],
        });
    });

    it("previews: the server is planned with the same private network settings before anything exists", () => {
        const s = server(preview);
        assert.equal(input(s, "network", "publicNetworkAccess"), "Disabled");
        assert.equal(input(s, "network", "delegatedSubnetResourceId"), UNKNOWN);
        assert.deepEqual(input(s, "highAvailability"), { mode: "ZoneRedundant", standbyAvailabilityZone: "2" });
        assert.equal(s.options.protect, true);
    });

    it("creates nothing of the data tier when apfa:database.enabled is false", () => {
        const off = synthStack(STACK, { "apfa:database": { enabled: false } });
        for (const type of [T.server, T.database, T.zone, T.zoneLink, T.lock, T.alert]) {
            assert.deepEqual(ofType(off, type), [], `no ${type}`);
        }
        assert.throws(() => find(off, T.subnet, N.subnet));
        assert.throws(() => find(off, T.secret, N.secret));
        const env = input(find(off, T.release, N.releases[0]), "values", "env") as Obj | undefined;
        assert.ok(!env || !("PGHOST" in env), "no database env without a database");
    });
});

describe("Azure database: config errors name each bad key", () => {
    it("reports every bad database key of one stack at once", () => {
        const found = problems({
            ...azureDatabase({ skuName: "Standard_D3ds_v5", storageSizeGiB: 100, subnetCidr: "10.60.8.0/29" }),
            "apfa:database": { majorVersion: 13, backupRetentionDays: 5 },
        });
        const expected = [
            /^apfa:azure\.database\.skuName: expected a Flexible Server compute size/,
            /^apfa:azure\.database\.storageSizeGiB: expected a Premium SSD size in GiB: one of 32, 64, 128/,
            /^apfa:azure\.database\.subnetCidr: 10\.60\.8\.0\/29 overlaps apfa:azure\.nodeSubnetCidr 10\.60\.0\.0\/20/,
            /^apfa:azure\.database\.subnetCidr: 10\.60\.8\.0\/29 is too small .*\/28/,
            /^apfa:database\.backupRetentionDays: 5 is below Flexible Server's minimum of 7 days/,
            /^apfa:database\.majorVersion: Azure Database for PostgreSQL Flexible Server does not offer PostgreSQL 13; expected one of 14, 15, 16, 17, 18$/,
        ];
        assert.equal(found.length, expected.length, found.join("\n"));
        for (const pattern of expected) {
            assert.ok(found.some((p) => pattern.test(p)), `${pattern} in:\n${found.join("\n")}`);
        }
    });

    it("refuses zone-redundant HA (production's default) on a Burstable size or with one zone", () => {
        const found = problems({ ...azureDatabase({ skuName: "Standard_B2s" }), "apfa:azure": { ...(azureDatabase({ skuName: "Standard_B2s" })["apfa:azure"] as Obj), availabilityZones: ["1"] } });
        assert.equal(found.length, 2, found.join("\n"));
        assert.match(found[0], /^apfa:azure\.database\.skuName: Standard_B2s is Burstable, which cannot run zone-redundant high availability/);
        assert.match(found[1], /^apfa:azure\.database\.highAvailability: zone-redundant HA puts the standby in another zone, but apfa:azure\.availabilityZones lists only 1/);
        // Turning HA off makes a Burstable server a valid choice.
        assert.doesNotThrow(() =>
            parseConfig({ values: { ...readSampleStack(STACK), ...azureDatabase({ skuName: "Standard_B2s", highAvailability: false }) }, project: "apfa", stack: STACK }),
        );
    });

    it("refuses a subnet outside the VNet, and the synth prints the error", () => {
        const output = synthError(STACK, azureDatabase({ subnetCidr: "10.61.0.0/27" }));
        assert.match(output, /apfa:azure\.database\.subnetCidr: 10\.61\.0\.0\/27 must lie inside apfa:azure\.vnetCidr 10\.60\.0\.0\/16/);
    });
});

describe("Azure database: pure helpers", () => {
    it("reads the tier from the SKU name", () => {
        assert.equal(flexibleServerTier("Standard_B1ms"), "Burstable");
        assert.equal(flexibleServerTier("Standard_D4ads_v5"), "GeneralPurpose");
        assert.equal(flexibleServerTier("Standard_E20ds_v4"), "MemoryOptimized");
        assert.equal(flexibleServerTier("Standard_D2s_v3"), undefined);
        assert.equal(flexibleServerTier("Standard_D3ds_v5"), undefined);
    });

    it("puts the standby in the second distinct zone, and refuses HA with one zone", () => {
        assert.deepEqual(highAvailabilityOf(true, ["3", "1", "2"]), { mode: "ZoneRedundant", standbyAvailabilityZone: "1" });
        assert.deepEqual(highAvailabilityOf(false, ["1"]), { mode: "Disabled" });
        assert.throws(() => highAvailabilityOf(true, ["2", "2"]), RangeError);
    });

    it("ignores storage drift only while auto-grow is on", () => {
        assert.deepEqual(serverIgnoreChanges(false), ["administratorLogin", "administratorLoginPassword", "availabilityZone", "highAvailability.standbyAvailabilityZone"]);
        assert.deepEqual(serverIgnoreChanges(true).slice(4), ["storage.storageSizeGB", "storage.tier"]);
    });

    it("keeps server names within Azure's 63 characters of a-z, 0-9 and -", () => {
        const long = flexibleServerNames(`apfa-${"very-long-stack-name-".repeat(5)}`).server;
        assert.ok(long.length <= 63, long);
        assert.match(long, /^[a-z0-9][a-z0-9-]*-pg$/);
        assert.equal(flexibleServerNames("APFA_prod").server, "apfa-prod-pg");
    });
});
