/**
 * The GKE target's pure parts, without mocks: labels, names, network ranges, the kubeconfig, the
 * GKE policy manifests (against schemas of their CRDs), and the gcp config rules.
 */
import * as assert from "node:assert/strict";
import * as fc from "fast-check";
import { parse } from "yaml";

import { parseConfig } from "../src/config";
import { backendPolicy, healthCheckPolicy } from "../src/targets/gcp/gke-policies";
import { gcpBackendPolicySchema, healthCheckPolicySchema } from "./fixtures/gcp/gke-policy-schemas";
import { GKE_AUTH_EXEC_API_VERSION, GKE_AUTH_PLUGIN, gkeContextName, gkeKubeconfig } from "../src/targets/gcp/kubeconfig";
import { gcpLabels, identityLabels, labelKeyCollisions, sanitizeLabelKey, sanitizeLabelValue } from "../src/targets/gcp/labels";
import { gcpName } from "../src/targets/gcp/names";
import { GKE_GATEWAY_CLASSES, isExternalGatewayClass, isGlobalGatewayClass, needsProxyOnlySubnet, overlappingRanges } from "../src/targets/gcp/network";
import { NODE_SERVICE_ACCOUNT_ROLES } from "../src/targets/gcp/infra";
import { certificateNames, certmapAnnotations } from "../src/targets/gcp/certificate";
import { configProblems } from "./helpers/config";

/** GCP's label rules (keys and values), from the Resource Manager documentation. */
const GCP_LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const GCP_LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;

const gcpBase = {
    "apfa:cloud": "gcp",
    "gcp:project": "apfa-test",
    "apfa:release": { blue: { image: "europe-west1-docker.pkg.dev/apfa-test/apfa/apfa:1.0.0" } },
};

const problems = (values: Record<string, unknown>): string[] => configProblems(values, "prod-gcp");

describe("gcp target: pure helpers", () => {
    describe("labels follow GCP's label rules whatever the stack's tags are", () => {
        it("lowercases and replaces characters GCP refuses", () => {
            assert.deepEqual(
                gcpLabels({ Owner: "Platform Team", "cost-center": "CC/42" }, identityLabels("apfa", "prod-gcp")),
                { owner: "platform_team", "cost-center": "cc_42", "apfa-project": "apfa", "apfa-stack": "prod-gcp", "managed-by": "pulumi" },
            );
        });

        it("keys that do not start with a letter get a prefix; long keys and values are cut to 63", () => {
            assert.equal(sanitizeLabelKey("1st-team"), "t_1st-team");
            assert.equal(sanitizeLabelKey("x".repeat(80)).length, 63);
            assert.equal(sanitizeLabelValue("v".repeat(80)).length, 63);
        });

        it("the identity labels win over user tags of the same key", () => {
            assert.equal(gcpLabels({ "managed-by": "hand" }, identityLabels("apfa", "s"))["managed-by"], "pulumi");
        });

        it("property: every produced key and value is a valid GCP label", () => {
            fc.assert(
                fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 100 }), fc.string({ maxLength: 300 })), (tags) => {
                    const labels = gcpLabels(tags, identityLabels("apfa", "prod-gcp"));
                    for (const [key, value] of Object.entries(labels)) {
                        assert.match(key, GCP_LABEL_KEY);
                        assert.match(value, GCP_LABEL_VALUE);
                    }
                }),
            );
        });

        it("reports tag keys that would become the same label key", () => {
            assert.deepEqual(labelKeyCollisions({ Team: "a", team: "b", owner: "c" }), [["Team", "team"]]);
            assert.deepEqual(labelKeyCollisions({ Team: "a" }), []);
        });
    });

    describe("physical names fit GCP's limits and stay distinct", () => {
        it("short names are kept", () => {
            assert.equal(gcpName("apfa-prod-gcp", "nodes", 30), "apfa-prod-gcp-nodes");
            assert.equal(gcpName("apfa-prod-gcp", "", 40), "apfa-prod-gcp");
        });

        it("property: any stack name gives a valid name within the limit", () => {
            fc.assert(
                fc.property(fc.stringMatching(/^[A-Za-z0-9_.-]{1,60}$/), fc.integer({ min: 12, max: 63 }), (stack, max) => {
                    const name = gcpName(`apfa-${stack}`, "nodes", max);
                    assert.ok(name.length <= max, name);
                    assert.match(name, /^[a-z]([-a-z0-9]*[a-z0-9])?$/);
                }),
            );
        });

        it("property: different stacks get different names even when cut (the hash keeps them apart)", () => {
            const stack = fc.stringMatching(/^[a-z0-9]{1,60}$/);
            fc.assert(
                fc.property(stack, stack, (a, b) => {
                    fc.pre(a !== b);
                    assert.notEqual(gcpName(`apfa-${a}`, "nodes", 30), gcpName(`apfa-${b}`, "nodes", 30));
                }),
            );
        });
    });

    describe("network ranges", () => {
        it("names every overlapping pair of ranges, and only those", () => {
            assert.deepEqual(overlappingRanges({ a: "10.0.0.0/16", b: "10.1.0.0/16", c: "10.0.128.0/17" }), [
                "a (10.0.0.0/16) overlaps c (10.0.128.0/17)",
            ]);
        });

        it("only the regional Gateway classes need a proxy-only subnet", () => {
            const needing = GKE_GATEWAY_CLASSES.filter(needsProxyOnlySubnet);
            assert.deepEqual([...needing].sort(), ["gke-l7-regional-external-managed", "gke-l7-rilb"]);
        });

        it("only gke-l7-rilb is internal (no internet-facing address)", () => {
            assert.deepEqual(GKE_GATEWAY_CLASSES.filter((c) => !isExternalGatewayClass(c)), ["gke-l7-rilb"]);
        });
    });

    describe("kubeconfig", () => {
        const ca = Buffer.from("-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n").toString("base64");

        it("points at the endpoint over https with the cluster CA and uses gke-gcloud-auth-plugin", () => {
            const name = gkeContextName("apfa-prod", "europe-west1", "apfa-prod-gcp");
            const doc = parse(gkeKubeconfig({ contextName: name, endpoint: "203.0.113.10", caCertificate: ca }));
            assert.equal(name, "gke_apfa-prod_europe-west1_apfa-prod-gcp");
            assert.equal(doc.kind, "Config");
            assert.equal(doc["current-context"], name);
            assert.deepEqual(doc.clusters, [{ name, cluster: { server: "https://203.0.113.10", "certificate-authority-data": ca } }]);
            assert.deepEqual(doc.contexts, [{ name, context: { cluster: name, user: name } }]);
            const exec = doc.users[0].user.exec;
            assert.equal(exec.apiVersion, GKE_AUTH_EXEC_API_VERSION);
            assert.equal(exec.apiVersion, "client.authentication.k8s.io/v1beta1");
            assert.equal(exec.command, GKE_AUTH_PLUGIN);
            assert.equal(exec.provideClusterInfo, true);
            // No static credential of any kind.
            assert.equal(doc.users[0].user.token, undefined);
            assert.equal(doc.users[0].user["client-key-data"], undefined);
        });

        it("keeps an endpoint that already has a scheme", () => {
            const doc = parse(gkeKubeconfig({ contextName: "c", endpoint: "https://gke.example.com", caCertificate: ca }));
            assert.equal(doc.clusters[0].cluster.server, "https://gke.example.com");
        });

        it("property: any endpoint and CA round-trip through the YAML unchanged", () => {
            fc.assert(
                fc.property(fc.ipV4(), fc.base64String({ minLength: 4, maxLength: 200 }), fc.string({ minLength: 1, maxLength: 80 }), (ip, caData, contextName) => {
                    const doc = parse(gkeKubeconfig({ contextName, endpoint: ip, caCertificate: caData }));
                    assert.equal(doc.clusters[0].cluster.server, `https://${ip}`);
                    assert.equal(doc.clusters[0].cluster["certificate-authority-data"], caData);
                    assert.equal(doc["current-context"], contextName);
                }),
            );
        });
    });

    describe("GKE policies match their CRD schemas", () => {
        const common = { name: "apfa-blue-health", namespace: "apfa", serviceName: "apfa-blue", labels: { "apfa.io/slot": "blue" } };

        it("HealthCheckPolicy: HTTP check of the health path on the app port, attached to the slot Service", () => {
            const manifest = healthCheckPolicySchema.parse(healthCheckPolicy({ ...common, port: 8000, requestPath: "/health" }));
            assert.deepEqual(manifest.spec.targetRef, { group: "", kind: "Service", name: "apfa-blue" });
            assert.equal(manifest.spec.default?.config?.type, "HTTP");
            assert.equal(manifest.spec.default?.config?.httpHealthCheck?.requestPath, "/health");
            assert.equal(manifest.spec.default?.config?.httpHealthCheck?.port, 8000);
        });

        it("GCPBackendPolicy: connection draining in seconds", () => {
            const manifest = gcpBackendPolicySchema.parse(backendPolicy({ ...common, name: "apfa-blue-backend", drainingTimeoutSec: 30 }));
            assert.deepEqual(manifest.spec.default?.connectionDraining, { drainingTimeoutSec: 30 });
        });

        it("the schemas reject what the API server would reject or silently drop", () => {
            const good = healthCheckPolicy({ ...common, port: 8000, requestPath: "/health" });
            const spec = good.spec as { default: Record<string, unknown>; targetRef: Record<string, unknown> };
            const variants: [string, unknown][] = [
                ["misspelt field (pruned by the server)", { ...good, spec: { ...spec, default: { ...spec.default, healthCheck: {} } } }],
                ["protocol block not matching the type", { ...good, spec: { ...spec, default: { ...spec.default, config: { type: "HTTPS", httpHealthCheck: {} } } } }],
                ["timeout longer than the interval", { ...good, spec: { ...spec, default: { ...spec.default, timeoutSec: 10, checkIntervalSec: 5 } } }],
                ["relative request path", healthCheckPolicy({ ...common, port: 8000, requestPath: "health" })],
                ["port out of range", healthCheckPolicy({ ...common, port: 70000, requestPath: "/health" })],
                ["targetRef without group", { ...good, spec: { ...spec, targetRef: { kind: "Service", name: "x" } } }],
            ];
            for (const [why, manifest] of variants) {
                assert.equal(healthCheckPolicySchema.safeParse(manifest).success, false, why);
            }
            assert.equal(gcpBackendPolicySchema.safeParse(backendPolicy({ ...common, drainingTimeoutSec: 7200 })).success, false, "draining > 1 h");
        });
    });

    describe("gcp config rules", () => {
        it("a minimal gcp stack gets the documented defaults", () => {
            const config = parseConfig({ values: gcpBase, project: "apfa", stack: "prod-gcp" });
            assert.equal(config.cloud, "gcp");
            if (config.cloud === "gcp") {
                assert.equal(config.gcp.project, "apfa-test");
                assert.equal(config.gcp.region, "europe-west1");
                assert.equal(config.gcp.gatewayClass, "gke-l7-global-external-managed");
                assert.equal(config.gcp.deletionProtection, true);
                assert.equal(config.gcp.connectionDrainingSeconds, 30);
                assert.equal(config.gcp.masterAuthorizedCidrs, undefined);
                assert.equal(config.gcp.masterCidr, undefined, "no peering range: the control plane is reached through Private Service Connect");
                assert.equal(config.gcp.tls, undefined);
            }
        });

        it("a production stack must have TLS (or say TLS ends in front of it); TLS needs a global Gateway class", () => {
            const production = { ...gcpBase, "apfa:tags": { environment: "production" } };
            assert.deepEqual(problems(production), [
                "apfa:gcp.tls: required for a stack tagged environment: production, which serves users over HTTPS only " +
                    "(or set apfa:allowPlainHttp to true if TLS ends in front of this stack)",
            ]);
            assert.deepEqual(problems({ ...production, "apfa:allowPlainHttp": true }), []);
            assert.deepEqual(problems({ ...production, "apfa:gcp": { tls: { domainName: "apfa.example.com" } } }), []);
            assert.deepEqual(problems({ ...production, "apfa:gcp": { tls: { domainName: "apfa.example.com" }, gatewayClass: "gke-l7-gxlb" } }), []);
            assert.deepEqual(problems({ ...production, "apfa:gcp": { tls: { domainName: "apfa.example.com" }, gatewayClass: "gke-l7-rilb" } }), [
                "apfa:gcp.tls: needs a global Gateway class (gke-l7-global-external-managed or gke-l7-gxlb); gke-l7-rilb cannot use a Certificate Manager certificate map",
            ]);
            assert.match(problems({ ...gcpBase, "apfa:gcp": { tls: { domainName: "APFA.example.com" } } })[0], /^apfa:gcp\.tls\.domainName: expected a lower-case DNS name/);
        });

        it("only the global classes can take a certificate map", () => {
            assert.deepEqual(GKE_GATEWAY_CLASSES.filter(isGlobalGatewayClass), ["gke-l7-global-external-managed", "gke-l7-gxlb"]);
        });

        it("the nodes get GKE's least-privilege node role and Artifact Registry reader, nothing else", () => {
            assert.deepEqual([...NODE_SERVICE_ACCOUNT_ROLES].sort(), ["roles/artifactregistry.reader", "roles/container.defaultNodeServiceAccount"]);
        });

        it("certificate resources get valid Certificate Manager names, and the Gateway the certmap annotation", () => {
            fc.assert(
                fc.property(fc.stringMatching(/^[a-z][a-z0-9-]{0,80}$/), (prefix) => {
                    for (const name of Object.values(certificateNames(prefix))) {
                        assert.match(name, /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/);
                    }
                }),
            );
            assert.deepEqual(certmapAnnotations("m"), { "networking.gke.io/certmap": "m" });
        });

        it("Autopilot is refused with the reason and what to do", () => {
            const found = problems({ ...gcpBase, "apfa:gcp": { autopilot: true } });
            assert.equal(found.length, 1);
            assert.match(found[0], /^apfa:gcp\.autopilot: Autopilot is not supported .*remove the key/);
        });

        it("overlapping ranges are named, the proxy-only range only when the class needs it", () => {
            assert.deepEqual(problems({ ...gcpBase, "apfa:gcp": { podsCidr: "10.60.0.0/14" } }), [
                "apfa:gcp: subnetCidr (10.60.0.0/20) overlaps podsCidr (10.60.0.0/14); GKE needs disjoint ranges",
            ]);
            assert.deepEqual(problems({ ...gcpBase, "apfa:gcp": { proxyOnlyCidr: "10.60.0.0/23" } }), []);
            assert.match(problems({ ...gcpBase, "apfa:gcp": { gatewayClass: "gke-l7-rilb", proxyOnlyCidr: "10.60.0.0/23" } })[0], /proxyOnlyCidr/);
        });

        it("the control-plane range must be a /28", () => {
            assert.match(problems({ ...gcpBase, "apfa:gcp": { masterCidr: "172.16.0.0/24" } })[0], /^apfa:gcp\.masterCidr: GKE needs a \/28/);
        });

        it("tags that would collide as GCP labels are refused", () => {
            assert.deepEqual(problems({ ...gcpBase, "apfa:tags": { Team: "a", team: "b" } }), [
                "apfa:tags: Team, team become the same GCP label key; keep one",
            ]);
        });

        it("min above max nodes per zone is refused", () => {
            assert.match(problems({ ...gcpBase, "apfa:gcp": { minNodesPerZone: 5, maxNodesPerZone: 2 } })[0], /minNodesPerZone/);
        });
    });
});
