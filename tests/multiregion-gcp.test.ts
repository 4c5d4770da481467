/**
 * Multi-region on GCP (src/targets/gcp/{multiregion,fleet,failover}.ts and the replica in
 * database.ts), on the real region stack files run through the offline synth and its preview: the
 * multi-cluster Gateway as the global entry (fleet membership per cluster, the fleet features with
 * the primary as config cluster, ServiceExports per slot, ONE weighted HTTPRoute on ServiceImports,
 * health checks on the ServiceImports), the other regions' Gateways internal, the shared VPC, the
 * Cloud SQL DR replica, the controller's identity limited to promoting that replica, secrets never
 * in clear, one resource per traffic step, and one config error naming every bad key.
 */
import { strict as assert } from "node:assert";

import { regionProbeUrl } from "../src/targets/gcp/fleet";
import { changedResources, named, ofType, readStackFile, synthStack, valueAt, type Plan } from "./helpers/synth";
import { sampleStackProblems } from "./helpers/config";

const PRIMARY = "prod-gcp-europe-west1";
const SECOND = "prod-gcp-europe-west4";
const T = {
    network: "gcp:compute/network:Network",
    subnet: "gcp:compute/subnetwork:Subnetwork",
    membership: "gcp:gkehub/membership:Membership",
    feature: "gcp:gkehub/feature:Feature",
    instance: "gcp:sql/databaseInstance:DatabaseInstance",
    database: "gcp:sql/database:Database",
    user: "gcp:sql/user:User",
    customRole: "gcp:projects/iAMCustomRole:IAMCustomRole",
    projectMember: "gcp:projects/iAMMember:IAMMember",
    accountMember: "gcp:serviceaccount/iAMMember:IAMMember",
    gateway: "kubernetes:gateway.networking.k8s.io/v1:Gateway",
    httpRoute: "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
    serviceExport: "kubernetes:net.gke.io/v1:ServiceExport",
    healthCheck: "kubernetes:networking.gke.io/v1:HealthCheckPolicy",
    deployment: "kubernetes:apps/v1:Deployment",
    serviceAccount: "kubernetes:core/v1:ServiceAccount",
} as const;
const MEMBERSHIP = "projects/apfa-prod/locations/europe-west1/memberships/apfa-prod-gcp-europe-west1";

type Obj = Record<string, unknown>;
const at = valueAt;

const problems = sampleStackProblems;

describe("multi-region on GCP (multi-cluster Gateway, Cloud SQL DR replica, failover controller)", function () {
    this.timeout(120_000);
    let primary: Plan;
    let second: Plan;
    before(() => {
        primary = synthStack(PRIMARY);
        second = synthStack(SECOND);
    });

    describe("global entry: the multi-cluster Gateway", () => {
        it("every cluster is a fleet member; the primary enables the features with its own membership as config cluster", () => {
            for (const plan of [primary, second]) {
                const membership = named(plan, T.membership, "fleet-membership");
                assert.equal(membership.inputs.location, plan === primary ? "europe-west1" : "europe-west4");
                assert.match(String(at(membership.inputs, "endpoint", "gkeCluster", "resourceLink")), /^\/\/container\.googleapis\.com\//);
            }
            const features = ofType(primary, T.feature);
            assert.deepEqual(features.map((f) => [f.inputs.name, f.inputs.location]).sort(), [
                ["multiclusteringress", "global"],
                ["multiclusterservicediscovery", "global"],
            ]);
            assert.equal(at(features.find((f) => f.inputs.name === "multiclusteringress")?.inputs, "spec", "multiclusteringress", "configMembership"), MEMBERSHIP);
            assert.equal(ofType(second, T.feature).length, 0, "the fleet features belong to the config cluster's stack");
            const importer = named(primary, T.projectMember, "fleet-mcs-importer");
            assert.deepEqual([importer.inputs.role, importer.inputs.member], ["roles/compute.networkViewer", "serviceAccount:apfa-prod.svc.id.goog[gke-mcs/gke-mcs-importer]"]);
        });

        it("the primary's Gateway is the multi-cluster one and its ONE weighted route targets the slots' ServiceImports", () => {
            assert.equal(at(named(primary, T.gateway, "apfa-gateway").inputs, "spec", "gatewayClassName"), "gke-l7-global-external-managed-mc");
            const route = named(primary, T.httpRoute, "apfa-route");
            assert.deepEqual(at(route.inputs, "spec", "rules", 0, "backendRefs"), [
                { group: "net.gke.io", kind: "ServiceImport", name: "apfa-blue", port: 8000, weight: 100 },
                { group: "net.gke.io", kind: "ServiceImport", name: "apfa-green", port: 8000, weight: 0 },
            ]);
            assert.equal(primary.outputs.trafficUrn, route.urn);
            // The multi-cluster GatewayClass exists only once the ingress feature is on.
            const ingress = ofType(primary, T.feature).find((f) => f.inputs.name === "multiclusteringress");
            assert.ok(ingress && named(primary, T.gateway, "apfa-gateway").options.dependsOn.includes(ingress.urn));
        });

        it("the other regions' own Gateways are internal: the global entry is the only public one", () => {
            assert.equal(at(named(second, T.gateway, "apfa-gateway").inputs, "spec", "gatewayClassName"), "gke-l7-rilb");
            assert.equal(second.outputs.url, "https://apfa.example.com");
        });

        it("every region exports both slots and its own region Service", () => {
            for (const plan of [primary, second]) {
                const region = plan === primary ? "europe-west1" : "europe-west4";
                assert.deepEqual(ofType(plan, T.serviceExport).map((e) => at(e.inputs, "metadata", "name")).sort(), ["apfa-blue", "apfa-green", `apfa-region-${region}`]);
            }
        });

        it("the config cluster health-checks every ServiceImport on /health and routes each region's probe path to that region only", () => {
            const checks = ofType(primary, T.healthCheck).filter((c) => at(c.inputs, "spec", "targetRef", "kind") === "ServiceImport");
            assert.deepEqual(checks.map((c) => at(c.inputs, "spec", "targetRef", "name")).sort(), ["apfa-blue", "apfa-green", "apfa-region-europe-west1", "apfa-region-europe-west4"]);
            for (const check of checks) {
                assert.equal(at(check.inputs, "spec", "default", "config", "httpHealthCheck", "requestPath"), "/health");
            }
            const probes = named(primary, T.httpRoute, "fleet-region-probes");
            assert.deepEqual(at(probes.inputs, "spec", "rules", 1), {
                matches: [{ path: { type: "PathPrefix", value: "/.apfa/region/europe-west4/" } }],
                filters: [{ type: "URLRewrite", urlRewrite: { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/" } } }],
                backendRefs: [{ group: "net.gke.io", kind: "ServiceImport", name: "apfa-region-europe-west4", port: 8000 }],
            });
            assert.equal(regionProbeUrl("https://apfa.example.com/", "europe-west1", "/health"), "https://apfa.example.com/.apfa/region/europe-west1/health");
        });

        it("Google's front ends may reach APFA's pods in every region (the NetworkPolicy admits their ranges)", () => {
            for (const plan of [primary, second]) {
                const policy = named(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "apfa-netpol-apfa");
                const text = JSON.stringify(policy.inputs);
                assert.ok(text.includes("35.191.0.0/16") && text.includes("130.211.0.0/22"), `${plan.stack}: ${text}`);
            }
        });
    });

    describe("one VPC for every region", () => {
        it("the primary creates apfa-prod-vpc; the second region adds its subnet to it by name", () => {
            assert.equal(named(primary, T.network, "vpc").inputs.name, "apfa-prod-vpc");
            assert.equal(ofType(second, T.network).length, 0);
            const subnet = named(second, T.subnet, "nodes");
            assert.equal(subnet.inputs.network, "projects/apfa-prod/global/networks/apfa-prod-vpc");
            assert.equal(subnet.inputs.ipCidrRange, "10.80.0.0/20");
        });
    });

    describe("database: Cloud SQL Enterprise Plus with a DR replica", () => {
        it("the replica follows the primary; the primary prints the one command that designates it as DR replica", () => {
            const writer = named(primary, T.instance, "database-instance");
            // Cloud SQL takes the DR replica's name only once the replica exists: not an input at creation.
            assert.equal(writer.inputs.replicationCluster, undefined);
            assert.equal(
                at(primary.outputs, "database", "designateDrReplica"),
                "gcloud sql instances patch apfa-prod-europe-west1-pg --project apfa-prod --failover-dr-replica-name=apfa-prod:apfa-prod-europe-west4-pg",
            );
            assert.equal(at(writer.inputs, "settings", "edition"), "ENTERPRISE_PLUS");
            const replica = named(second, T.instance, "database-instance");
            assert.equal(replica.inputs.name, "apfa-prod-europe-west4-pg");
            assert.equal(replica.inputs.masterInstanceName, "apfa-prod-europe-west1-pg");
            assert.equal(replica.inputs.instanceType, "READ_REPLICA_INSTANCE");
            assert.deepEqual(at(replica.inputs, "settings", "backupConfiguration"), { enabled: false });
            assert.equal(at(replica.inputs, "settings", "ipConfiguration", "privateNetwork"), "projects/apfa-prod/global/networks/apfa-prod-vpc");
            for (const plan of [primary, second]) {
                const options = named(plan, T.instance, "database-instance").options;
                for (const field of ["replicationCluster", "masterInstanceName", "instanceType"]) {
                    assert.ok(options.ignoreChanges.includes(field), `${plan.stack}: ${field} ignored after a failover`);
                }
            }
            assert.equal(ofType(second, T.database).length + ofType(second, T.user).length, 0, "database and login are replicated");
        });

        it("every region's app connects through the DNS write endpoint, which follows a failover", () => {
            for (const plan of [primary, second]) {
                assert.equal(at(plan.outputs, "database", "writeEndpoint"), "abcdef012345.apfa-prod-europe-west1-pg.global.sql-psa.goog");
                const values = named(plan, "kubernetes:helm.sh/v3:Release", "apfa-blue").inputs.values as Obj;
                assert.equal(at(values, "env", "PGHOST"), "abcdef012345.apfa-prod-europe-west1-pg.global.sql-psa.goog");
            }
        });
    });

    describe("failover controller (second region only)", () => {
        it("its service account may only get and promote the replica, through Workload Identity", () => {
            const role = named(second, T.customRole, "failover-role");
            assert.deepEqual(role.inputs.permissions, ["cloudsql.instances.get", "cloudsql.instances.promoteReplica"]);
            const promote = named(second, T.projectMember, "failover-promote");
            assert.equal(
                at(promote.inputs, "condition", "expression"),
                'resource.type == "sqladmin.googleapis.com/Instance" && resource.name == "projects/apfa-prod/instances/apfa-prod-europe-west4-pg"',
            );
            const email = String(promote.inputs.member).replace(/^serviceAccount:/, "");
            const grants = ofType(second, T.projectMember).filter((m) => String(m.inputs.member).includes(email));
            assert.equal(grants.length, 1, "no other project role for the controller");
            const wi = named(second, T.accountMember, "failover-workload-identity");
            assert.deepEqual([wi.inputs.role, wi.inputs.member], ["roles/iam.workloadIdentityUser", "serviceAccount:apfa-prod.svc.id.goog[apfa-failover/apfa-failover]"]);
            const ksa = named(second, T.serviceAccount, "failover-service-account");
            assert.equal(at(ksa.inputs, "metadata", "annotations", "iam.gke.io/gcp-service-account"), email);
            assert.equal(ofType(primary, T.customRole).length, 0);
        });

        it("probes each region through the global entry's region paths and promotes the DR replica", () => {
            const deployment = named(second, T.deployment, "failover-deployment");
            const env = Object.fromEntries((at(deployment.inputs, "spec", "template", "spec", "containers", 0, "env") as { name: string; value: string }[]).map((e) => [e.name, e.value]));
            assert.deepEqual(env, {
                APFA_FAILOVER_ADAPTER: "cloudsql",
                APFA_FAILOVER_CLOUDSQL_DR_REPLICA: "true",
                APFA_FAILOVER_CLOUDSQL_REPLICA: "apfa-prod-europe-west4-pg",
                APFA_FAILOVER_CONTROL_FILE: "/etc/apfa-failover/control.json",
                APFA_FAILOVER_GCP_PROJECT: "apfa-prod",
                APFA_FAILOVER_PRIMARY_HEALTH_URLS: "https://apfa.example.com/.apfa/region/europe-west1/health",
                APFA_FAILOVER_STANDBY_HEALTH_URLS: "https://apfa.example.com/.apfa/region/europe-west4/health",
            });
        });
    });

    it("secrets stay secret: no password in any input or output, the replication credential output is secret", () => {
        for (const plan of [primary, second]) {
            assert.ok(!JSON.stringify(plan).includes("mock-password"), `${plan.stack}: a password is in clear`);
        }
        assert.equal(at(primary.outputs, "target", "replicationCredential"), "[secret]");
    });

    it("a traffic step changes exactly one resource in each region stack: its weighted route", () => {
        for (const stack of [PRIMARY, SECOND]) {
            const release = readStackFile(stack)["apfa:release"] as Obj;
            const before = synthStack(stack);
            const after = synthStack(stack, { "apfa:release": { ...release, previewWeight: 10 } });
            assert.deepEqual(changedResources(before, after), [`${T.httpRoute}::apfa-${stack}-apfa-route`]);
        }
    });

    it("active-passive plans the same entry (GCP has no region priority) with a warm, smaller standby", () => {
        const multi = { ...(readStackFile(SECOND)["apfa:multiRegion"] as Obj), topology: "active-passive" };
        const plan = synthStack(SECOND, { "apfa:multiRegion": multi });
        assert.deepEqual(ofType(plan, T.serviceExport).length, 3);
        const values = named(plan, "kubernetes:helm.sh/v3:Release", "apfa-blue").inputs.values as Obj;
        // 50 % of the 4 minimum replicas, at least 2.
        assert.equal(at(values, "autoscaling", "minReplicas"), 2);
    });

    it("the preview (unknown outputs) plans the same entry and replica", () => {
        for (const stack of [PRIMARY, SECOND]) {
            const plan = synthStack(stack, {}, { preview: true });
            assert.equal(ofType(plan, T.membership).length, 1);
            assert.equal(ofType(plan, T.serviceExport).length, 3);
            assert.equal(named(plan, T.instance, "database-instance").inputs.instanceType, stack === SECOND ? "READ_REPLICA_INSTANCE" : undefined);
        }
    });

    describe("config errors name each bad key", () => {
        it("Enterprise edition, TLS or a Gateway class outside the primary, and a missing controller image", () => {
            const gcp = readStackFile(SECOND)["apfa:gcp"] as Obj;
            const multi = { ...(readStackFile(SECOND)["apfa:multiRegion"] as Obj) };
            delete multi.controllerImage;
            const found = problems(SECOND, {
                "apfa:multiRegion": multi,
                "apfa:gcp": { ...gcp, gatewayClass: "gke-l7-regional-external-managed", tls: { domainName: "apfa.example.com" }, database: { ...(gcp.database as Obj), edition: "ENTERPRISE", tier: "db-custom-2-7680" } },
            });
            const expect = [
                "apfa:gcp.database.edition: ENTERPRISE in a multi-region stack; expected ENTERPRISE_PLUS",
                "apfa:gcp.gatewayClass: gke-l7-regional-external-managed is not used in a multi-region stack",
                "apfa:gcp.tls: only the primary region's multi-cluster Gateway serves users",
                "apfa:multiRegion.controllerImage: required in europe-west4",
            ];
            for (const text of expect) {
                assert.ok(found.some((p) => p.includes(text)), `missing "${text}" in:\n${found.join("\n")}`);
            }
        });
    });
});
