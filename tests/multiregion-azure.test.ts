/**
 * Multi-region on Azure (src/targets/azure/{multiregion,frontdoor,failover}.ts and the replica in
 * database.ts), on the real region stack files run through the offline synth and its preview:
 * Front Door Standard as the global entry (health probe, priorities or latency routing), each
 * region's Gateway locked to Front Door (NSG service tag + X-Azure-FDID), the standby's read replica
 * of the primary with the virtual endpoints, the failover controller's identity limited to
 * promoting that replica, secrets never in clear, one resource per traffic step, and one config
 * error naming every bad key. Expected values are written out by hand from the stack files.
 */
import { strict as assert } from "node:assert";

import { frontDoorLockRules, originRouting } from "../src/targets/azure/multiregion";
import { changedResources, named, ofType, readStackFile, synthStack, valueAt, type Plan } from "./helpers/synth";
import { sampleStackProblems } from "./helpers/config";

const PRIMARY = "prod-azure-westeurope";
const STANDBY = "prod-azure-northeurope";
const SUB = "/subscriptions/00000000-0000-0000-0000-000000000000";
const PRIMARY_SERVER_ID = `${SUB}/resourceGroups/apfa-prod-westeurope-rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/apfa-prod-westeurope-pg`;
const STANDBY_SERVER_ID = `${SUB}/resourceGroups/apfa-prod-northeurope-rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/apfa-prod-northeurope-pg`;
/** The synth's mock Front Door id (scripts/synth/mock-state.ts), served to the primary and, through the StackReference, to the standby. */
const FDID = "aaaaaaaa-0000-4000-8000-00000000fd01";
const T = {
    profile: "azure-native:cdn:Profile",
    endpoint: "azure-native:cdn:AFDEndpoint",
    group: "azure-native:cdn:AFDOriginGroup",
    origin: "azure-native:cdn:AFDOrigin",
    route: "azure-native:cdn:Route",
    nsg: "azure-native:network:NetworkSecurityGroup",
    subnet: "azure-native:network:Subnet",
    peering: "azure-native:network:VirtualNetworkPeering",
    server: "azure-native:dbforpostgresql:Server",
    database: "azure-native:dbforpostgresql:Database",
    virtualEndpoint: "azure-native:dbforpostgresql:VirtualEndpoint",
    roleDefinition: "azure-native:authorization:RoleDefinition",
    roleAssignment: "azure-native:authorization:RoleAssignment",
    federation: "azure-native:managedidentity:FederatedIdentityCredential",
    httpRoute: "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
    deployment: "kubernetes:apps/v1:Deployment",
    release: "kubernetes:helm.sh/v3:Release",
} as const;

type Obj = Record<string, unknown>;
const at = valueAt;

const problems = sampleStackProblems;

describe("multi-region on Azure (Front Door, replica, failover controller)", function () {
    this.timeout(120_000);
    let primary: Plan;
    let standby: Plan;
    before(() => {
        primary = synthStack(PRIMARY);
        standby = synthStack(STANDBY);
    });

    describe("global entry: Front Door Standard", () => {
        it("the primary owns the profile, the public endpoint, the origin group with its health probe, and the route", () => {
            const profile = named(primary, T.profile, "frontdoor-profile");
            assert.deepEqual(at(profile.inputs, "sku"), { name: "Standard_AzureFrontDoor" });
            assert.equal(profile.inputs.location, "Global");
            assert.equal(profile.inputs.resourceGroupName, "apfa-prod-frontdoor-rg");
            const group = named(primary, T.group, "frontdoor-origins");
            // HTTPS GET of /health every 30 s; healthy while 3 of the last 4 samples succeed; no latency band in active-passive.
            assert.deepEqual(group.inputs.healthProbeSettings, { probePath: "/health", probeProtocol: "Https", probeRequestType: "GET", probeIntervalInSeconds: 30 });
            assert.deepEqual(group.inputs.loadBalancingSettings, { sampleSize: 4, successfulSamplesRequired: 3, additionalLatencyInMilliseconds: 0 });
            const route = named(primary, T.route, "frontdoor-route");
            assert.deepEqual(route.inputs.patternsToMatch, ["/*"]);
            assert.equal(route.inputs.forwardingProtocol, "HttpsOnly");
            assert.equal(route.inputs.httpsRedirect, "Enabled");
            const origin = named(primary, T.origin, "frontdoor-origin");
            assert.ok(route.options.dependsOn.includes(origin.urn), "the route waits for an origin (Front Door refuses a route to an empty group)");
            // The standby owns none of the shared part.
            assert.equal(ofType(standby, T.profile).length, 0);
            assert.equal(ofType(standby, T.route).filter((r) => r.inputs.routeName === "apfa").length, 0);
        });

        it("active-passive: each region's origin is its Gateway, primary priority 1, standby priority 2, verified by the regional certificate's name", () => {
            const p = named(primary, T.origin, "frontdoor-origin").inputs;
            const s = named(standby, T.origin, "frontdoor-origin").inputs;
            assert.deepEqual([p.priority, s.priority], [1, 2]);
            assert.deepEqual([p.originGroupName, s.originGroupName], ["apfa", "apfa"]);
            assert.deepEqual([p.originName, s.originName], ["westeurope", "northeurope"]);
            assert.equal(p.hostName, "203.0.113.80", "the Gateway's address (mock status)");
            assert.deepEqual([p.originHostHeader, s.originHostHeader], ["westeurope.apfa.example.com", "northeurope.apfa.example.com"]);
            assert.equal(s.enforceCertificateNameCheck, true);
            assert.equal(s.profileName, "apfa-prod-fd");
            assert.equal(s.resourceGroupName, "apfa-prod-frontdoor-rg");
        });

        it("active-active: equal priority and weight, and a 50 ms latency band picks the nearest healthy regions", () => {
            const multi = { ...(readStackFile(PRIMARY)["apfa:multiRegion"] as Obj), topology: "active-active" };
            const aa = synthStack(PRIMARY, { "apfa:multiRegion": multi });
            const aaStandby = synthStack(STANDBY, { "apfa:multiRegion": { ...(readStackFile(STANDBY)["apfa:multiRegion"] as Obj), topology: "active-active" } });
            assert.deepEqual(at(named(aa, T.group, "frontdoor-origins").inputs, "loadBalancingSettings", "additionalLatencyInMilliseconds"), 50);
            const origins = [named(aa, T.origin, "frontdoor-origin"), named(aaStandby, T.origin, "frontdoor-origin")];
            assert.deepEqual(
                origins.map((o) => [o.inputs.priority, o.inputs.weight]),
                [
                    [1, 1000],
                    [1, 1000],
                ],
            );
            assert.deepEqual(originRouting("active-active", false), { priority: 1, weight: 1000 });
        });

        it("every region has a probe endpoint whose only origin is itself (what the controller probes)", () => {
            for (const plan of [primary, standby]) {
                const region = plan === primary ? "westeurope" : "northeurope";
                assert.equal(named(plan, T.endpoint, "frontdoor-probe-endpoint").inputs.endpointName, `apfa-prod-${region}`);
                assert.equal(named(plan, T.group, "frontdoor-probe-origins").inputs.originGroupName, `probe-${region}`);
                const probeOrigin = named(plan, T.origin, "frontdoor-probe-origin").inputs;
                assert.equal(probeOrigin.originGroupName, `probe-${region}`);
                assert.deepEqual(named(plan, T.route, "frontdoor-probe-route").inputs.supportedProtocols, ["Https"]);
            }
            assert.equal(standby.outputs.url, "https://apfa-prod-northeurope-abcdefgh.z01.azurefd.net");
        });
    });

    describe("the regional entry admits Front Door only", () => {
        it("the node subnet's NSG opens 443 to AzureFrontDoor.Backend only, 80 for ACME and the redirect, and the pod overlay", () => {
            for (const plan of [primary, standby]) {
                const nsg = named(plan, T.nsg, "frontdoor-lock");
                const rules = nsg.inputs.securityRules as Obj[];
                const https = rules.filter((r) => r.destinationPortRange === "443" || r.destinationPortRange === "*");
                assert.deepEqual(
                    https.map((r) => [r.sourceAddressPrefix, r.destinationPortRange]),
                    [
                        ["AzureFrontDoor.Backend", "443"],
                        ["10.244.0.0/16", "*"],
                    ],
                );
                assert.deepEqual(
                    rules.filter((r) => r.sourceAddressPrefix === "Internet").map((r) => r.destinationPortRange),
                    ["80"],
                );
                const subnet = named(plan, T.subnet, "nodes");
                assert.equal(at(subnet.inputs, "networkSecurityGroup", "id"), `${SUB}/resourceGroups/apfa-prod-${plan === primary ? "westeurope" : "northeurope"}-rg/providers/Microsoft.Network/networkSecurityGroups/apfa-prod-${plan === primary ? "westeurope" : "northeurope"}-vnet-nodes-nsg`);
            }
            assert.equal(frontDoorLockRules("10.1.0.0/16").length, 3);
        });

        it("the weighted route forwards only requests carrying this profile's X-Azure-FDID", () => {
            for (const plan of [primary, standby]) {
                const route = named(plan, T.httpRoute, "apfa-route");
                assert.deepEqual(at(route.inputs, "spec", "rules", 0, "matches"), [
                    { path: { type: "PathPrefix", value: "/" }, headers: [{ type: "Exact", name: "X-Azure-FDID", value: FDID }] },
                ]);
            }
        });
    });

    describe("database: a cross-region read replica behind virtual endpoints", () => {
        it("the standby's server is a replica of the primary's, by its ARM id", () => {
            const replica = named(standby, T.server, "database-server");
            assert.equal(replica.inputs.createMode, "Replica");
            assert.equal(replica.inputs.sourceServerResourceId, PRIMARY_SERVER_ID);
            assert.equal(replica.inputs.administratorLoginPassword, undefined, "a replica has the primary's logins");
            assert.deepEqual(replica.inputs.highAvailability, { mode: "Disabled", standbyAvailabilityZone: "" });
            for (const field of ["createMode", "sourceServerResourceId", "replica", "replicationRole"]) {
                assert.ok(replica.options.ignoreChanges.includes(field), `${field} ignored after a promotion`);
            }
            assert.equal(ofType(standby, T.database).length, 0, "the database is replicated, not created");
            assert.equal(named(primary, T.server, "database-server").inputs.createMode, undefined);
        });

        it("the failover region owns the virtual endpoints on the primary server, and every region's app writes through the writer name", () => {
            const ve = named(standby, T.virtualEndpoint, "database-virtual-endpoint");
            assert.deepEqual(ve.inputs, { resourceGroupName: "apfa-prod-westeurope-rg", serverName: "apfa-prod-westeurope-pg", virtualEndpointName: "apfa-prod-db", endpointType: "ReadWrite", members: ["apfa-prod-northeurope-pg"] });
            assert.equal(ofType(primary, T.virtualEndpoint).length, 0);
            for (const plan of [primary, standby]) {
                assert.equal(at(plan.outputs, "database", "writerHost"), "apfa-prod-db.writer.postgres.database.azure.com");
                const values = named(plan, T.release, "apfa-blue").inputs.values as Obj;
                assert.equal(at(values, "env", "PGHOST"), "apfa-prod-db.writer.postgres.database.azure.com");
            }
        });

        it("the regions' VNets are peered both ways by the later region, and its pods may reach PostgreSQL in the other VNet", () => {
            const peerings = ofType(standby, T.peering);
            assert.deepEqual(peerings.map((p) => [p.inputs.resourceGroupName, p.inputs.virtualNetworkName, at(p.inputs, "remoteVirtualNetwork", "id")]).sort(), [
                ["apfa-prod-northeurope-rg", "apfa-prod-northeurope-vnet", `${SUB}/resourceGroups/apfa-prod-westeurope-rg/providers/Microsoft.Network/virtualNetworks/apfa-prod-westeurope-vnet`],
                ["apfa-prod-westeurope-rg", "apfa-prod-westeurope-vnet", `${SUB}/resourceGroups/apfa-prod-northeurope-rg/providers/Microsoft.Network/virtualNetworks/apfa-prod-northeurope-vnet`],
            ]);
            assert.equal(ofType(primary, T.peering).length, 0);
            const egress = named(standby, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "apfa-netpol-database");
            assert.deepEqual(at(egress.inputs, "spec", "egress", 0, "to"), [{ ipBlock: { cidr: "10.61.16.0/27" } }, { ipBlock: { cidr: "10.60.0.0/16" } }]);
        });
    });

    describe("failover controller (failover region only)", () => {
        it("its identity may only read and write the standby's replica server", () => {
            const role = named(standby, T.roleDefinition, "failover-role");
            assert.deepEqual(role.inputs.permissions, [{ actions: ["Microsoft.DBforPostgreSQL/flexibleServers/read", "Microsoft.DBforPostgreSQL/flexibleServers/write"], notActions: [] }]);
            assert.deepEqual(role.inputs.assignableScopes, [STANDBY_SERVER_ID]);
            const grants = ofType(standby, T.roleAssignment).filter((a) => String(a.inputs.roleDefinitionId).includes("bbbbbbbb-0000-4000-8000-000000000001"));
            assert.deepEqual(
                grants.map((g) => g.inputs.scope),
                [STANDBY_SERVER_ID],
            );
            const federation = named(standby, T.federation, "failover-federation");
            assert.equal(federation.inputs.subject, "system:serviceaccount:apfa-failover:apfa-failover");
            assert.deepEqual(federation.inputs.audiences, ["api://AzureADTokenExchange"]);
            for (const type of [T.roleDefinition, T.federation]) {
                assert.equal(ofType(primary, type).length, 0, `the primary has no ${type}`);
            }
        });

        it("one replica probes both regions through their Front Door probe endpoints and promotes with Switchover", () => {
            const deployment = named(standby, T.deployment, "failover-deployment");
            assert.equal(at(deployment.inputs, "spec", "replicas"), 1);
            assert.equal(at(deployment.inputs, "spec", "strategy", "type"), "Recreate");
            const env = Object.fromEntries((at(deployment.inputs, "spec", "template", "spec", "containers", 0, "env") as { name: string; value: string }[]).map((e) => [e.name, e.value]));
            assert.deepEqual(env, {
                APFA_FAILOVER_ADAPTER: "azure-postgres",
                APFA_FAILOVER_AZURE_PROMOTE_MODE: "Switchover",
                APFA_FAILOVER_AZURE_REPLICA_SERVER: "apfa-prod-northeurope-pg",
                APFA_FAILOVER_AZURE_RESOURCE_GROUP: "apfa-prod-northeurope-rg",
                APFA_FAILOVER_AZURE_SUBSCRIPTION_ID: "00000000-0000-0000-0000-000000000000",
                APFA_FAILOVER_CONTROL_FILE: "/etc/apfa-failover/control.json",
                APFA_FAILOVER_PRIMARY_HEALTH_URLS: "https://primary-probe-abcdefgh.z01.azurefd.net/health",
                APFA_FAILOVER_STANDBY_HEALTH_URLS: "https://apfa-prod-northeurope-abcdefgh.z01.azurefd.net/health",
            });
            assert.equal(at(deployment.inputs, "spec", "template", "metadata", "labels", "azure.workload.identity/use"), "true");
            assert.equal(ofType(primary, T.deployment).filter((d) => d.name.includes("failover")).length, 0);
        });
    });

    it("secrets stay secret: no password in any input or output, the replication credential output is secret", () => {
        for (const plan of [primary, standby]) {
            const text = JSON.stringify(plan);
            assert.ok(!text.includes("mock-password"), `${plan.stack}: a password is in clear`);
        }
        assert.equal(at(primary.outputs, "target", "replicationCredential"), "[secret]");
        assert.ok(primary.secretInputs.some((p) => p.includes("database-server.administratorLoginPassword")));
    });

    it("a traffic step changes exactly one resource in each region stack: its weighted route", () => {
        for (const stack of [PRIMARY, STANDBY]) {
            const release = readStackFile(stack)["apfa:release"] as Obj;
            const before = synthStack(stack);
            const after = synthStack(stack, { "apfa:release": { ...release, previewWeight: 10 } });
            assert.deepEqual(changedResources(before, after), [`${T.httpRoute}::apfa-${stack}-apfa-route`]);
        }
    });

    it("the preview (unknown outputs) plans the same global entry, lock and replica", () => {
        for (const stack of [PRIMARY, STANDBY]) {
            const plan = synthStack(stack, {}, { preview: true });
            assert.equal(ofType(plan, T.origin).length, 2);
            assert.equal(ofType(plan, T.nsg).length, 1);
            assert.equal(named(plan, T.server, "database-server").inputs.createMode, stack === STANDBY ? "Replica" : undefined);
        }
    });

    describe("config errors name each bad key", () => {
        it("the standby without the controller's image and the primary stack, without TLS and with a wrong peer list", () => {
            const multi = { ...(readStackFile(STANDBY)["apfa:multiRegion"] as Obj) };
            delete multi.controllerImage;
            delete multi.primaryStack;
            const azure: Obj = { ...(readStackFile(STANDBY)["apfa:azure"] as Obj), peerVnetCidrs: ["10.61.128.0/17", "10.62.0.0/16"] };
            delete azure.tls;
            const found = problems(STANDBY, { "apfa:multiRegion": multi, "apfa:azure": azure, "apfa:allowPlainHttp": true });
            const expect = [
                "apfa:multiRegion.controllerImage: required in northeurope",
                "apfa:multiRegion.primaryStack: required in northeurope",
                "apfa:azure.tls: required in a multi-region stack",
                "apfa:azure.peerVnetCidrs: lists 2 range(s), expected the vnetCidr of each of the 1 other region(s)",
                "apfa:azure.peerVnetCidrs: 10.61.128.0/17 overlaps another region's range",
            ];
            for (const text of expect) {
                assert.ok(found.some((p) => p.includes(text)), `missing "${text}" in:\n${found.join("\n")}`);
            }
        });

        it("the controller and primaryStack belong to the failover region and the replicas only", () => {
            const multi = { ...(readStackFile(PRIMARY)["apfa:multiRegion"] as Obj), controllerImage: "registry.example.com/apfa-failover:1", primaryStack: "acme/apfa/x" };
            const found = problems(PRIMARY, { "apfa:multiRegion": multi });
            assert.ok(found.some((p) => p.startsWith("apfa:multiRegion.controllerImage: only the failover region northeurope")), found.join("\n"));
            assert.ok(found.some((p) => p.startsWith("apfa:multiRegion.primaryStack: westeurope is the primary region itself")), found.join("\n"));
        });

        it("the sample controller image is refused without apfa:acceptPlaceholders", () => {
            const found = problems(STANDBY, { "apfa:acceptPlaceholders": false });
            assert.ok(found.some((p) => p.startsWith("apfa:multiRegion.controllerImage: 123456789012.dkr.ecr")), found.join("\n"));
        });
    });
});
