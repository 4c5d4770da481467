/**
 * APFA's database on GCP (src/targets/gcp/database.ts), on the real prod-gcp stack file run through
 * the offline synth (and its preview): Cloud SQL for PostgreSQL on a private IP only (private
 * services access), regional HA and deletion protection in production, backups with
 * point-in-time recovery, TLS required, the password a secret end to end (a Kubernetes Secret for
 * the app), the pods' egress opened to the instance only, and a config error naming each bad key.
 */
import { strict as assert } from "node:assert";

import { DATABASE_FLAGS, backupConfiguration, cloudSqlNames } from "../src/targets/gcp/database";
import { cloudSqlTierProblem } from "../src/targets/gcp/settings";
import { REDACTED, UNKNOWN, find, ofType, readStackFile, synthError, synthStack, type Plan, type PlannedResource } from "./helpers/synth";
import { sampleStackProblems } from "./helpers/config";

const STACK = "prod-gcp";
const T = {
    instance: "gcp:sql/databaseInstance:DatabaseInstance",
    database: "gcp:sql/database:Database",
    user: "gcp:sql/user:User",
    address: "gcp:compute/globalAddress:GlobalAddress",
    peering: "gcp:servicenetworking/connection:Connection",
    network: "gcp:compute/network:Network",
    alert: "gcp:monitoring/alertPolicy:AlertPolicy",
    password: "random:index/randomPassword:RandomPassword",
    secret: "kubernetes:core/v1:Secret",
    netpol: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    release: "kubernetes:helm.sh/v3:Release",
} as const;
const N = {
    instance: "apfa-prod-gcp-database-instance",
    database: "apfa-prod-gcp-database-database",
    user: "apfa-prod-gcp-database-user",
    address: "apfa-prod-gcp-database-private-range",
    peering: "apfa-prod-gcp-database-peering",
    password: "apfa-prod-gcp-database-password",
    secret: "apfa-prod-gcp-apfa-database-secret",
    egress: "apfa-prod-gcp-apfa-netpol-database",
    releases: ["apfa-prod-gcp-apfa-blue", "apfa-prod-gcp-apfa-green"],
} as const;
/** What the synth's mock RandomPassword returns for the database password. */
const MOCK_PASSWORD = `mock-password-${N.password}`;
/** The private address the synth's mocks give the instance (inside 10.70.0.0/20). */
const MOCK_PRIVATE_IP = "10.70.0.3";

type Obj = Record<string, unknown>;
const input = (r: PlannedResource, ...keys: string[]): unknown => keys.reduce<unknown>((v, k) => (v as Obj | undefined)?.[k], r.inputs);
const instance = (plan: Plan) => find(plan, T.instance, N.instance);
const settings = (plan: Plan, ...keys: string[]) => input(instance(plan), "settings", ...keys);

/** The stack file's `apfa:gcp` with some keys of its `database` replaced. */
function gcpDatabase(changes: Obj): Obj {
    const gcp = readStackFile(STACK)["apfa:gcp"] as Obj;
    return { "apfa:gcp": { ...gcp, database: { ...((gcp.database as Obj | undefined) ?? {}), ...changes } } };
}

/** The problems of a stack config that must be refused. */
function problems(overrides: Obj): readonly string[] {
    const found = sampleStackProblems(STACK, overrides);
    assert.notDeepEqual(found, [], "the config was accepted");
    return found;
}

describe("GCP database: Cloud SQL for PostgreSQL", function () {
    this.timeout(120_000);
    let plan: Plan;
    let preview: Plan;
    before(() => {
        plan = synthStack(STACK);
        preview = synthStack(STACK, {}, { preview: true });
    });

    it("has a private IP only, through private services access on the GKE VPC", () => {
        const address = find(plan, T.address, N.address);
        assert.equal(input(address, "purpose"), "VPC_PEERING");
        assert.equal(input(address, "addressType"), "INTERNAL");
        assert.equal(input(address, "address"), "10.70.0.0");
        assert.equal(input(address, "prefixLength"), 20);
        const network = ofType(plan, T.network)[0];
        const networkId = `${network.name}-id`;
        assert.equal(input(address, "network"), networkId);

        const peering = find(plan, T.peering, N.peering);
        assert.equal(input(peering, "service"), "servicenetworking.googleapis.com");
        assert.deepEqual(input(peering, "reservedPeeringRanges"), ["apfa-prod-gcp-psa"]);
        assert.equal(input(peering, "network"), networkId);
        // Known destroy failure while Cloud SQL still holds the peering: abandoned, and taken over on re-create.
        assert.equal(input(peering, "deletionPolicy"), "ABANDON");
        assert.equal(input(peering, "updateOnCreationFail"), true);

        const ip = settings(plan, "ipConfiguration") as Obj;
        assert.equal(ip.ipv4Enabled, false, "no public IPv4");
        assert.equal(ip.privateNetwork, networkId);
        assert.equal(ip.allocatedIpRange, "apfa-prod-gcp-psa");
        assert.equal(ip.authorizedNetworks, undefined);
        assert.ok(instance(plan).options.dependsOn.includes(peering.urn), "the instance waits for the peering");
    });

    it("runs the configured edition, tier and version: ENTERPRISE db-custom-2-7680, POSTGRES_17, SSD that auto-resizes", () => {
        const i = instance(plan);
        assert.equal(input(i, "databaseVersion"), "POSTGRES_17");
        assert.equal(input(i, "region"), "europe-west1");
        assert.equal(settings(plan, "edition"), "ENTERPRISE");
        assert.equal(settings(plan, "tier"), "db-custom-2-7680");
        assert.equal(settings(plan, "diskType"), "PD_SSD");
        assert.equal(settings(plan, "diskSize"), 20);
        assert.equal(settings(plan, "diskAutoresize"), true);
        assert.deepEqual(i.options.ignoreChanges, ["settings.diskSize"]);
        assert.deepEqual(settings(plan, "databaseFlags"), [...DATABASE_FLAGS].sort((a, b) => (a.name < b.name ? -1 : 1)));
        assert.equal(input(find(plan, T.database, N.database), "name"), "apfa");
        const user = find(plan, T.user, N.user);
        assert.equal(input(user, "name"), "apfa");
        assert.equal(input(user, "type"), "BUILT_IN");
        assert.equal(input(user, "instance"), "apfa-prod-gcp-pg");
    });

    it("is REGIONAL (HA) in production and keeps backups with point-in-time recovery over apfa:database.backupRetentionDays", () => {
        assert.equal(settings(plan, "availabilityType"), "REGIONAL");
        assert.deepEqual(settings(plan, "backupConfiguration"), {
            enabled: true,
            pointInTimeRecoveryEnabled: true,
            startTime: "02:00",
            transactionLogRetentionDays: 7,
            backupRetentionSettings: { retainedBackups: 8, retentionUnit: "COUNT" },
        });
        const plus = synthStack(STACK, { ...gcpDatabase({ edition: "ENTERPRISE_PLUS", tier: "db-perf-optimized-N-2" }), "apfa:database": { backupRetentionDays: 21 } });
        assert.equal(settings(plus, "edition"), "ENTERPRISE_PLUS");
        assert.deepEqual(settings(plus, "dataCacheConfig"), { dataCacheEnabled: true });
        assert.equal(settings(plus, "backupConfiguration", "transactionLogRetentionDays"), 21);
        assert.equal(settings(plus, "backupConfiguration", "backupRetentionSettings", "retainedBackups"), 22);
    });

    it("requires TLS (ENCRYPTED_ONLY); the app connects with sslmode=require to the private address", () => {
        assert.equal(settings(plan, "ipConfiguration", "sslMode"), "ENCRYPTED_ONLY");
        for (const name of N.releases) {
            const env = input(find(plan, T.release, name), "values", "env") as Obj;
            assert.equal(env.PGSSLMODE, "require");
            assert.equal(env.PGHOST, MOCK_PRIVATE_IP);
            assert.equal(env.PGDATABASE, "apfa");
            assert.equal(env.PGUSER, "apfa");
        }
    });

    it("is protected in production: Pulumi deletionProtection, the API's deletionProtectionEnabled, protect on instance, database and password", () => {
        const i = instance(plan);
        assert.equal(input(i, "deletionProtection"), true);
        assert.equal(settings(plan, "deletionProtectionEnabled"), true);
        for (const [type, name] of [
            [T.instance, N.instance],
            [T.database, N.database],
            [T.password, N.password],
        ] as const) {
            assert.equal(find(plan, type, name).options.protect, true, `${name} is protected`);
        }
    });

    it("a stack that is not production: ZONAL, no protection, so it can be destroyed", () => {
        const dev = synthStack(STACK, { "apfa:tags": { owner: "platform-team" } });
        assert.equal(settings(dev, "availabilityType"), "ZONAL");
        assert.equal(input(instance(dev), "deletionProtection"), false);
        assert.equal(settings(dev, "deletionProtectionEnabled"), false);
        assert.equal(instance(dev).options.protect, false);
    });

    for (const mode of ["synth", "preview"] as const) {
        it(`never shows the password in clear (${mode}): the user's password and the app's Kubernetes Secret are secrets`, () => {
            const p = mode === "synth" ? plan : preview;
            assert.ok(!JSON.stringify(p).includes(MOCK_PASSWORD), "the generated password appears nowhere in the plan");
            assert.equal(input(find(p, T.user, N.user), "password"), REDACTED);
            assert.ok(p.secretInputs.includes(`${T.user}::${N.user}.password`));
            const secret = find(p, T.secret, N.secret);
            assert.equal(input(secret, "metadata", "name"), "apfa-database");
            assert.equal(input(secret, "stringData"), REDACTED);
            if (mode === "synth") {
                for (const name of N.releases) {
                    const values = input(find(p, T.release, name), "values") as Obj;
                    assert.deepEqual(values.secretEnv, { PGPASSWORD: { secretName: "apfa-database", key: "password" } });
                    assert.ok(!("PGPASSWORD" in (values.env as Obj)));
                }
            }
        });
    }

    it("alerts in Cloud Monitoring on the instance's CPU, memory and disk, leaving notification channels to operators", () => {
        const thresholds = Object.fromEntries(
            ofType(plan, T.alert).map((a) => {
                const [condition] = input(a, "conditions") as Obj[];
                const threshold = condition.conditionThreshold as Obj;
                assert.equal(threshold.comparison, "COMPARISON_GT");
                assert.equal(threshold.duration, "900s");
                assert.deepEqual(a.options.ignoreChanges, ["notificationChannels"]);
                const filter = String(threshold.filter);
                assert.match(filter, /^resource\.type = "cloudsql_database" AND resource\.labels\.database_id = "apfa-prod:apfa-prod-gcp-pg" AND metric\.type = "/);
                return [/metric\.type = "([^"]+)"/.exec(filter)?.[1], threshold.thresholdValue];
            }),
        );
        assert.deepEqual(thresholds, {
            "cloudsql.googleapis.com/database/cpu/utilization": 0.8,
            "cloudsql.googleapis.com/database/memory/utilization": 0.9,
            "cloudsql.googleapis.com/database/disk/utilization": 0.85,
        });
    });

    it("lists the instance in the stack output `database`, without any credential", () => {
        assert.deepEqual(plan.outputs.database, {
            instance: "apfa-prod-gcp-pg",
            connectionName: "apfa-prod:europe-west1:apfa-prod-gcp-pg",
            privateIp: MOCK_PRIVATE_IP,
            availabilityType: "REGIONAL",
        });
    });

    it("lets APFA's pods reach the instance's address on 5432 only", () => {
        assert.deepEqual(input(find(plan, T.netpol, N.egress), "spec"), {
            podSelector: { matchLabels: { "app.kubernetes.io/name": "apfa" } },
            policyTypes: ["Egress"],
            egress: [{ to: [{ ipBlock: { cidr: `${MOCK_PRIVATE_IP}/32` } }], ports: [{ protocol: "TCP", port: 5432 }] }],
        });
        // In a preview the address is not known yet: the policy waits for it.
        assert.deepEqual(input(find(preview, T.netpol, N.egress), "spec", "egress"), [{ to: [{ ipBlock: { cidr: UNKNOWN } }], ports: [{ protocol: "TCP", port: 5432 }] }]);
    });

    it("previews: private-only and protected before anything exists", () => {
        const ip = settings(preview, "ipConfiguration") as Obj;
        assert.equal(ip.ipv4Enabled, false);
        assert.equal(ip.sslMode, "ENCRYPTED_ONLY");
        assert.equal(settings(preview, "availabilityType"), "REGIONAL");
        assert.equal(instance(preview).options.protect, true);
    });

    it("creates nothing of the data tier when apfa:database.enabled is false", () => {
        const off = synthStack(STACK, { "apfa:database": { enabled: false } });
        for (const type of [T.instance, T.database, T.user, T.address, T.peering, T.alert]) {
            assert.deepEqual(ofType(off, type), [], `no ${type}`);
        }
        assert.throws(() => find(off, T.secret, N.secret));
    });
});

describe("GCP database: config errors name each bad key", () => {
    it("reports a tier of the wrong shape, an overlapping range, a PITR window and a version Cloud SQL refuses, at once", () => {
        const found = problems({
            ...gcpDatabase({ tier: "db-custom-3-7680", privateServicesCidr: "10.64.0.0/20" }),
            "apfa:database": { majorVersion: 12, backupRetentionDays: 14 },
        });
        assert.deepEqual(found, [
            "apfa:gcp.database.tier: db-custom-3-7680: a custom machine type has 1 or an even number of vCPUs up to 96 (got 3)",
            "apfa:gcp.database.privateServicesCidr: 10.64.0.0/20 overlaps apfa:gcp.podsCidr (10.64.0.0/14)",
            "apfa:database.backupRetentionDays: 14 is beyond the 7 days of point-in-time recovery Cloud SQL ENTERPRISE keeps (apfa:gcp.database.edition ENTERPRISE_PLUS keeps up to 35)",
            "apfa:database.majorVersion: Cloud SQL for PostgreSQL does not offer PostgreSQL 12; expected one of 14, 15, 16, 17, 18",
        ]);
    });

    it("validates the tier per edition, and refuses a shared-core tier for an HA instance", () => {
        const plus = problems(gcpDatabase({ edition: "ENTERPRISE_PLUS" }));
        assert.equal(plus.length, 1);
        assert.match(plus[0], /^apfa:gcp\.database\.tier: db-custom-2-7680 is not an ENTERPRISE_PLUS machine type/);
        const shared = problems(gcpDatabase({ tier: "db-g1-small" }));
        assert.equal(shared.length, 1);
        assert.match(shared[0], /^apfa:gcp\.database\.tier: db-g1-small is shared-core/);
        const edition = problems(gcpDatabase({ edition: "STANDARD" }));
        assert.equal(edition.length, 1);
        assert.match(edition[0], /^apfa:gcp\.database\.edition: /);
    });

    it("refuses a private services range smaller than /24, and the synth prints the error", () => {
        assert.match(synthError(STACK, gcpDatabase({ privateServicesCidr: "10.70.0.0/25" })), /apfa:gcp\.database\.privateServicesCidr: the private services range needs \/24 or larger/);
    });
});

describe("GCP database: pure helpers", () => {
    it("checks custom machine types against Cloud SQL's shape rules", () => {
        assert.equal(cloudSqlTierProblem("db-custom-1-3840", "ENTERPRISE"), undefined);
        assert.equal(cloudSqlTierProblem("db-custom-2-13312", "ENTERPRISE"), undefined); // 6.5 GiB × 2
        assert.match(String(cloudSqlTierProblem("db-custom-2-13568", "ENTERPRISE")), /take 3840 to 13312 MiB/);
        assert.match(String(cloudSqlTierProblem("db-custom-4-3584", "ENTERPRISE")), /take 3840 to 26624 MiB/);
        assert.match(String(cloudSqlTierProblem("db-custom-2-7700", "ENTERPRISE")), /multiple of 256 MiB/);
        assert.match(String(cloudSqlTierProblem("db-n1-standard-2", "ENTERPRISE")), /not an ENTERPRISE machine type/);
        assert.equal(cloudSqlTierProblem("db-perf-optimized-N-8", "ENTERPRISE_PLUS"), undefined);
        assert.match(String(cloudSqlTierProblem("db-perf-optimized-N-8", "ENTERPRISE")), /not an ENTERPRISE machine type/);
    });

    it("keeps one daily backup more than the log window, and refuses a window the edition lacks", () => {
        assert.deepEqual(backupConfiguration(3, "ENTERPRISE").backupRetentionSettings, { retainedBackups: 4, retentionUnit: "COUNT" });
        assert.throws(() => backupConfiguration(8, "ENTERPRISE"), RangeError);
        assert.equal(backupConfiguration(35, "ENTERPRISE_PLUS").transactionLogRetentionDays, 35);
    });

    it("names the instance and the range within GCP's limits", () => {
        const names = cloudSqlNames(`apfa-${"long-stack-name-".repeat(8)}`);
        assert.ok(names.instance.length <= 80, names.instance);
        assert.ok(names.privateRange.length <= 63, names.privateRange);
        assert.deepEqual(cloudSqlNames("apfa-prod-gcp"), { instance: "apfa-prod-gcp-pg", privateRange: "apfa-prod-gcp-psa" });
    });
});
