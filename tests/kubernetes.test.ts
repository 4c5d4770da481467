/**
 * The Kubernetes layer (src/kubernetes): its pure functions, and every manifest the program itself
 * creates there (Namespace, Gateway, HTTPRoute, NetworkPolicies, the monitoring objects placed by
 * runService) validated against the Kubernetes / Gateway API schemas from the synth plan's inputs.
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";

import type { AuxServiceSpec } from "../src/contract";
import { parseConfig, type AzureConfig } from "../src/config";
import { chartValues, cpuQuantity, layerNetworkPolicies, mergeValues, podTermination, type PodDrain } from "../src/kubernetes";
import { auxDeploymentSpec, auxEgressTargets, auxFileMounts, auxInternalUrl, auxPeersServiceSpec, auxPodLabels, portForwardInstructions } from "../src/kubernetes/aux-service";
import { isLabelValue, tagsToLabels, toLabelKey } from "../src/kubernetes/labels";
import { auxClientLabel, headlessServiceName, releaseName, serviceFqdn, serviceName } from "../src/kubernetes/names";
import { ACME_SOLVER_PORT, CLUSTER_DNS_PEER, acmeSolverPolicy, apfaNetworkPolicy, auxNetworkPolicy, dnsEgressPolicy, namespaceDefaultDeny } from "../src/kubernetes/network-policy";
import {
    GATEWAY_WAIT_ANNOTATION,
    HTTPS_REDIRECT,
    gatewayManifest,
    gatewayUrl,
    httpRouteManifest,
    httpsRedirectRouteManifest,
    weightedBackends,
} from "../src/kubernetes/routing";
import { appDrainSeconds } from "../src/kubernetes/values";
import { publicControlPlaneWarning } from "../src/kubernetes/warnings";
import { describeManifest, hasModel, manifestOf, validateManifest } from "./helpers/k8s-validate";
import { ofType, readSampleStack, synthStack, type PlannedResource } from "./helpers/synth";

function azureConfig(overrides: Record<string, unknown> = {}): AzureConfig {
    const values = { ...readSampleStack("prod-azure"), ...overrides };
    return parseConfig({ values, project: "apfa", stack: "prod-azure" }) as AzureConfig;
}

const RELEASE = "apfa:release";
/** A platform whose load balancer needs 5 s to let go and drains nothing itself (AKS's values). */
const DRAIN: PodDrain = { preStopSleepSeconds: 5, loadBalancerDrainSeconds: 0 };
const PLATFORM = { drain: DRAIN };
const ENVOY_PEER = { podSelector: { matchLabels: { role: "proxy" } } };

describe("kubernetes layer: pure functions", () => {
    describe("chartValues()", () => {
        it("maps image, slot, env, resources, autoscaling and probe path from the typed config", () => {
            const config = azureConfig({
                "apfa:app": { env: { LOG_LEVEL: "info" }, cpu: 0.25, memoryMiB: 512 },
                [RELEASE]: { active: "blue", blue: { image: "r/apfa:1", env: { FLAG: "a" } }, green: { image: "r/apfa:2", env: { FLAG: "b" } } },
            });
            const green = chartValues(config, "green", PLATFORM);
            assert.equal(green.slot, "green");
            assert.equal(green.image, "r/apfa:2");
            assert.deepEqual(green.env, { LOG_LEVEL: "info", FLAG: "b" });
            assert.equal(green.port, 8000);
            assert.equal(green.metricsPort, 9100);
            assert.equal(green.healthPath, "/health");
            assert.deepEqual(green.resources, {
                requests: { cpu: "250m", memory: "512Mi", "ephemeral-storage": "256Mi" },
                limits: { cpu: "250m", memory: "512Mi", "ephemeral-storage": "1Gi" },
            });
            assert.deepEqual(green.autoscaling, {
                enabled: true,
                minReplicas: 4,
                maxReplicas: 16,
                targetCPUUtilizationPercentage: 70,
                scaleUpStabilizationWindowSeconds: 60,
                scaleDownStabilizationWindowSeconds: 300,
            });
        });

        it("raises the HPA's minimum to the slot's replica floor (set by the release tool before traffic moves), the other slot unchanged", () => {
            const config = azureConfig({ [RELEASE]: { active: "blue", blue: { image: "r/apfa:1" }, green: { image: "r/apfa:2", minReplicas: 8 } } });
            const green = chartValues(config, "green", PLATFORM);
            const blue = chartValues(config, "blue", PLATFORM);
            assert.deepEqual([green.replicaCount, (green.autoscaling as { minReplicas: number }).minReplicas], [8, 8]);
            assert.deepEqual([blue.replicaCount, (blue.autoscaling as { minReplicas: number }).minReplicas], [4, 4]);
        });

        it("gives a scaled-down slot zero replicas and no autoscaler", () => {
            const config = azureConfig({ [RELEASE]: { active: "blue", blue: { image: "r/apfa:1" }, green: { image: "r/apfa:0", scaledDown: true } } });
            const green = chartValues(config, "green", PLATFORM);
            assert.equal(green.replicaCount, 0);
            assert.equal((green.autoscaling as { enabled: boolean }).enabled, false);
            assert.equal((chartValues(config, "blue", PLATFORM).autoscaling as { enabled: boolean }).enabled, true);
        });

        it("runs the active slot's image in a slot that names none", () => {
            const config = azureConfig({ [RELEASE]: { active: "green", green: { image: "r/apfa:9" } } });
            assert.equal(chartValues(config, "blue", PLATFORM).image, "r/apfa:9");
        });

        it("merges extra values over its own, objects deeply", () => {
            const values = chartValues(azureConfig(), "blue", { drain: DRAIN, values: { nodeSelector: { pool: "a" }, autoscaling: { maxReplicas: 8 } } });
            assert.deepEqual(values.nodeSelector, { pool: "a" });
            assert.equal((values.autoscaling as { maxReplicas: number }).maxReplicas, 8);
            assert.equal((values.autoscaling as { minReplicas: number }).minReplicas, 4);
        });

        it("turns the stack's tags into valid labels", () => {
            const values = chartValues(azureConfig({ "apfa:tags": { "cost center": "R&D 42", owner: "platform-team", environment: "production" } }), "blue", PLATFORM);
            assert.deepEqual(values.commonLabels, { cost_center: "R_D_42", environment: "production", owner: "platform-team", "apfa.io/stack": "prod-azure" });
        });

        it("takes the separate metrics port from apfa:app.metricsPort", () => {
            const values = chartValues(azureConfig({ "apfa:app": { port: 8080, metricsPort: 9200 } }), "blue", PLATFORM);
            assert.deepEqual([values.port, values.metricsPort], [8080, 9200]);
        });

        it("gives each slot the platform's preStop sleep and a grace period covering preStop + LB draining + the slot's own drain", () => {
            // GKE-like: 35 s preStop, 30 s connection draining, the reference app's 10 s drain, 5 s margin.
            const gke = { drain: { preStopSleepSeconds: 35, loadBalancerDrainSeconds: 30 } };
            const values = chartValues(azureConfig(), "blue", gke);
            assert.deepEqual([values.preStopSleepSeconds, values.terminationGracePeriodSeconds], [35, 80]);
            // A slot whose image drains for 25 s (SHUTDOWN_TIMEOUT_MS) gets 15 s more than the other.
            const config = azureConfig({ [RELEASE]: { active: "blue", blue: { image: "r/apfa:1" }, green: { image: "r/apfa:2", env: { SHUTDOWN_TIMEOUT_MS: "25000" } } } });
            assert.equal(chartValues(config, "green", gke).terminationGracePeriodSeconds, 95);
            assert.equal(chartValues(config, "blue", gke).terminationGracePeriodSeconds, 80);
        });
    });

    describe("pod termination", () => {
        it("podTermination() adds preStop, load-balancer draining, app drain and a 5 s margin", () => {
            assert.deepEqual(podTermination({ preStopSleepSeconds: 35, loadBalancerDrainSeconds: 30 }, 10), { preStopSleepSeconds: 35, terminationGracePeriodSeconds: 80 });
            assert.deepEqual(podTermination({ preStopSleepSeconds: 5, loadBalancerDrainSeconds: 0 }, 10), { preStopSleepSeconds: 5, terminationGracePeriodSeconds: 20 });
            assert.throws(() => podTermination({ preStopSleepSeconds: -1, loadBalancerDrainSeconds: 0 }, 10), RangeError);
            assert.throws(() => podTermination({ preStopSleepSeconds: 5, loadBalancerDrainSeconds: 0.5 }, 10), RangeError);
        });

        it("appDrainSeconds() reads SHUTDOWN_TIMEOUT_MS (rounded up), else the reference app's 10 s", () => {
            assert.equal(appDrainSeconds({}), 10);
            assert.equal(appDrainSeconds({ SHUTDOWN_TIMEOUT_MS: "25000" }), 25);
            assert.equal(appDrainSeconds({ SHUTDOWN_TIMEOUT_MS: "1500" }), 2);
            assert.equal(appDrainSeconds({ SHUTDOWN_TIMEOUT_MS: "soon" }), 10);
            assert.equal(appDrainSeconds({ SHUTDOWN_TIMEOUT_MS: "0" }), 10);
        });

        it("the grace period always outlasts preStop plus the app's drain (property)", () => {
            fc.assert(
                fc.property(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 3600 }), fc.integer({ min: 0, max: 600 }), (preStop, lbDrain, app) => {
                    const t = podTermination({ preStopSleepSeconds: preStop, loadBalancerDrainSeconds: lbDrain }, app);
                    assert.ok(t.terminationGracePeriodSeconds > t.preStopSleepSeconds + app + lbDrain);
                }),
            );
        });
    });

    it("cpuQuantity() writes whole cores plainly and fractions in millicores", () => {
        assert.equal(cpuQuantity(0.5), "500m");
        assert.equal(cpuQuantity(1), "1");
        assert.equal(cpuQuantity(2.25), "2250m");
        assert.equal(cpuQuantity(0.0001), "1m");
        assert.throws(() => cpuQuantity(0), RangeError);
    });

    it("mergeValues() replaces arrays and scalars, merges objects, and never mutates its inputs", () => {
        const base = { a: { b: 1, c: [1, 2] }, d: "x" };
        const merged = mergeValues(base, { a: { c: [3] }, d: "y" });
        assert.deepEqual(merged, { a: { b: 1, c: [3] }, d: "y" });
        assert.deepEqual(base, { a: { b: 1, c: [1, 2] }, d: "x" });
    });

    it("tagsToLabels() always yields valid label keys and values (property)", () => {
        const keyRe = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
        fc.assert(
            fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 80 }), fc.string({ maxLength: 300 })), (tags) => {
                for (const [key, value] of Object.entries(tagsToLabels(tags))) {
                    assert.match(key, keyRe);
                    assert.ok(isLabelValue(value), `invalid value ${JSON.stringify(value)}`);
                }
            }),
        );
        assert.equal(toLabelKey("example.com/team name"), "example.com/team_name");
    });

    it("names follow the chart's rule: release apfa-<slot> names every object apfa-<slot>", () => {
        assert.equal(releaseName("blue"), "apfa-blue");
        assert.equal(serviceName("green"), "apfa-green");
        assert.equal(headlessServiceName("blue"), "apfa-blue-headless");
        assert.equal(serviceFqdn("apfa-blue-headless", "apfa"), "apfa-blue-headless.apfa.svc.cluster.local");
    });

    describe("routing", () => {
        it("puts both slots in one rule with their weights, a 0 weight included", async () => {
            const route = httpRouteManifest({ namespace: "apfa", weights: { blue: 100, green: 0 }, appPort: 8000 });
            assert.equal(route.spec.rules.length, 1, "one rule: the split (no path rule: metrics are on their own port)");
            assert.deepEqual(
                route.spec.rules[0].backendRefs.map((b) => [b.name, b.port, b.weight]),
                [
                    ["apfa-blue", 8000, 100],
                    ["apfa-green", 8000, 0],
                ],
            );
            assert.deepEqual(route.spec.parentRefs, [{ name: "apfa", sectionName: "http" }]);
            await validateManifest(route);
        });

        it("never sends a request to the metrics port: every backend is a slot Service on the app port (property)", () => {
            fc.assert(
                fc.property(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 0, max: 100 }), fc.boolean(), (appPort, metricsPort, green, tls) => {
                    fc.pre(appPort !== metricsPort);
                    const route = httpRouteManifest({ namespace: "apfa", weights: { blue: 100 - green, green }, appPort, tls });
                    for (const rule of route.spec.rules) {
                        for (const ref of rule.backendRefs) {
                            assert.equal(ref.port, appPort);
                            assert.notEqual(ref.port, metricsPort);
                            assert.match(ref.name, /^apfa-(blue|green)$/, "only the slots' ClusterIP Services, never the headless ones");
                        }
                    }
                }),
            );
        });

        it("with TLS, serves users on the HTTPS listener and redirects every plain-HTTP request for the host with a 301 to https", async () => {
            const route = httpRouteManifest({ namespace: "apfa", weights: { blue: 100, green: 0 }, appPort: 8000, tls: true });
            assert.deepEqual(route.spec.parentRefs, [{ name: "apfa", sectionName: "https" }]);
            const redirect = httpsRedirectRouteManifest({ namespace: "apfa", hostname: "apfa.example.com" });
            assert.equal(redirect.metadata.name, "apfa-https-redirect");
            assert.deepEqual(redirect.spec.parentRefs, [{ name: "apfa", sectionName: "http" }]);
            assert.deepEqual(redirect.spec.hostnames, ["apfa.example.com"]);
            assert.deepEqual(redirect.spec.rules, [
                { matches: [{ path: { type: "PathPrefix", value: "/" } }], filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] },
            ]);
            assert.ok(redirect.spec.rules.every((rule) => !("backendRefs" in rule)), "the redirect forwards nothing");
            assert.deepEqual(HTTPS_REDIRECT, { scheme: "https", statusCode: 301 });
            await validateManifest(route);
            await validateManifest(redirect);
        });

        it("gives a TLS Gateway an HTTPS listener on 443: with the Secret's certificate (AKS), or none where an annotation attaches it (GKE)", async () => {
            const plain = gatewayManifest({ namespace: "apfa", gatewayClassName: "x" });
            assert.deepEqual(plain.spec.listeners, [{ name: "http", protocol: "HTTP", port: 80, allowedRoutes: { namespaces: { from: "Same" } } }]);
            const aks = gatewayManifest({ namespace: "apfa", gatewayClassName: "x", tls: { hostname: "apfa.example.com", certificate: { kind: "secret", secretName: "apfa-tls" } } });
            assert.deepEqual(aks.spec.listeners[1], {
                name: "https",
                protocol: "HTTPS",
                port: 443,
                tls: { mode: "Terminate", certificateRefs: [{ group: "", kind: "Secret", name: "apfa-tls" }] },
                allowedRoutes: { namespaces: { from: "Same" } },
            });
            const gke = gatewayManifest({
                namespace: "apfa",
                gatewayClassName: "x",
                tls: { hostname: "apfa.example.com", certificate: { kind: "gatewayAnnotation" } },
                annotations: { "networking.gke.io/certmap": "m" },
            });
            assert.deepEqual(gke.spec.listeners[1], { name: "https", protocol: "HTTPS", port: 443, allowedRoutes: { namespaces: { from: "Same" } } });
            assert.ok(!("tls" in gke.spec.listeners[1]), "GKE refuses a certmap together with tls.certificateRefs");
            for (const gw of [plain, aks, gke]) {
                await validateManifest(gw);
            }
        });

        it("accepts every integer split that adds up to 100 and only those (property)", () => {
            fc.assert(
                fc.property(fc.integer({ min: 0, max: 100 }), (green) => {
                    const refs = weightedBackends({ blue: 100 - green, green }, 8000);
                    assert.equal(
                        refs.reduce((s, r) => s + r.weight, 0),
                        100,
                    );
                }),
            );
            assert.throws(() => weightedBackends({ blue: 60, green: 50 }, 8000), /add up to 100/);
            assert.throws(() => weightedBackends({ blue: 100.5, green: -0.5 }, 8000), /integer/);
        });

        it("always waits for the Gateway to be Programmed, whatever the platform annotations say", async () => {
            const gw = gatewayManifest({ namespace: "apfa", gatewayClassName: "x", annotations: { "pulumi.com/waitFor": "", "a/b": "c" } });
            assert.equal(gw.metadata.annotations?.["pulumi.com/waitFor"], GATEWAY_WAIT_ANNOTATION["pulumi.com/waitFor"]);
            assert.equal(gw.metadata.annotations?.["a/b"], "c");
            assert.throws(() => gatewayManifest({ namespace: "apfa", gatewayClassName: " " }), /gatewayClassName/);
            await validateManifest(gw);
        });

        it("derives the URL from the Gateway's status address, or the TLS host name once the Gateway has an address", () => {
            assert.equal(gatewayUrl({ addresses: [{ value: "203.0.113.9" }] }), "http://203.0.113.9");
            assert.equal(gatewayUrl({ addresses: [{ value: "2001:db8::1" }] }), "http://[2001:db8::1]");
            assert.equal(gatewayUrl({ addresses: [{ value: "apfa.example.com" }] }), "http://apfa.example.com");
            assert.equal(gatewayUrl({ addresses: [{ value: "203.0.113.9" }] }, "apfa.example.com"), "https://apfa.example.com");
            assert.equal(gatewayUrl({}, "apfa.example.com"), undefined);
            assert.equal(gatewayUrl({}), undefined);
            assert.equal(gatewayUrl(undefined), undefined);
        });
    });

    describe("network policies", () => {
        it("APFA's policy admits the app port only from the gateway and the metrics port only from scrapers", async () => {
            const policy = apfaNetworkPolicy({ name: "apfa", namespace: "apfa", appPort: 8000, metricsPort: 9100, gatewayPeers: [ENVOY_PEER] });
            assert.deepEqual(policy.spec.policyTypes, ["Ingress"]);
            assert.deepEqual(policy.spec.ingress, [
                { from: [ENVOY_PEER], ports: [{ protocol: "TCP", port: 8000 }] },
                { from: [{ podSelector: { matchLabels: { "apfa.io/scrapes-apfa": "true" } } }], ports: [{ protocol: "TCP", port: 9100 }] },
            ]);
            await validateManifest(policy);
        });

        it("APFA's policy refuses to exist without a gateway peer, or with the metrics on the app port", () => {
            assert.throws(() => apfaNetworkPolicy({ name: "apfa", namespace: "apfa", appPort: 8000, metricsPort: 9100, gatewayPeers: [] }), /gateway peer/);
            assert.throws(() => apfaNetworkPolicy({ name: "apfa", namespace: "apfa", appPort: 8000, metricsPort: 8000, gatewayPeers: [ENVOY_PEER] }), /must differ/);
        });

        it("the namespace denies all ingress and egress by default and lets every pod query only the cluster DNS", async () => {
            const deny = namespaceDefaultDeny({ name: "default-deny", namespace: "apfa" });
            assert.deepEqual(deny.spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
            const dns = dnsEgressPolicy({ name: "allow-dns", namespace: "apfa" });
            assert.deepEqual(dns.spec, {
                podSelector: {},
                policyTypes: ["Egress"],
                egress: [
                    {
                        to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
                        ports: [
                            { protocol: "UDP", port: 53 },
                            { protocol: "TCP", port: 53 },
                        ],
                    },
                ],
            });
            assert.deepEqual(dns.spec.egress?.[0].to, [CLUSTER_DNS_PEER]);
            await validateManifest(deny);
            await validateManifest(dns);
        });

        it("the layer's set: default deny, DNS, APFA's policy, and the ACME solver's only where cert-manager solves through the Gateway", () => {
            const names = (acme: boolean) =>
                layerNetworkPolicies({ namespace: "apfa", appPort: 8000, metricsPort: 9100, gatewayPeers: [ENVOY_PEER], acmeHttp01Solver: acme }).map((p) => p.metadata.name);
            assert.deepEqual(names(false), ["default-deny", "allow-dns", "apfa"]);
            assert.deepEqual(names(true), ["default-deny", "allow-dns", "apfa", "acme-http01-solver"]);
        });

        it("cert-manager's HTTP-01 solver pods take only the gateway's requests, on their port 8089", async () => {
            const policy = acmeSolverPolicy({ name: "acme-http01-solver", namespace: "apfa", gatewayPeers: [ENVOY_PEER] });
            assert.deepEqual(policy.spec, {
                podSelector: { matchLabels: { "acme.cert-manager.io/http01-solver": "true" } },
                policyTypes: ["Ingress"],
                ingress: [{ from: [ENVOY_PEER], ports: [{ protocol: "TCP", port: ACME_SOLVER_PORT }] }],
            });
            assert.equal(ACME_SOLVER_PORT, 8089);
            await validateManifest(policy);
        });
    });

    it("an auxiliary service admits its port only from pods carrying its client label, and sends only to the services placed before it", async () => {
        const policy = auxNetworkPolicy({ name: "prometheus", namespace: "apfa", port: 9090, podLabels: { "app.kubernetes.io/name": "prometheus" } });
        assert.deepEqual(policy.spec.policyTypes, ["Ingress", "Egress"]);
        assert.deepEqual(policy.spec.ingress, [
            { from: [{ podSelector: { matchLabels: { "apfa.io/client-of-prometheus": "true" } } }], ports: [{ protocol: "TCP", port: 9090 }] },
        ]);
        assert.deepEqual(policy.spec.egress, [], "nothing placed before it, no scrape target: no egress beyond DNS");
        await validateManifest(policy);
        const apfaMetrics = { podLabels: { "app.kubernetes.io/name": "apfa" }, port: 9100 };
        assert.deepEqual(auxEgressTargets({ discoversTargets: true }, [], apfaMetrics), [apfaMetrics], "Prometheus reaches APFA's metrics port");
        assert.deepEqual(
            auxEgressTargets({}, [{ name: "prometheus", port: 9090 }], apfaMetrics),
            [{ podLabels: { "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "prometheus" }, port: 9090 }],
            "Grafana reaches Prometheus's port, and not APFA",
        );
        const grafanaPod = auxPodLabels({ name: "grafana" }, { team: "x" }, ["prometheus"]);
        assert.equal(grafanaPod[auxClientLabel("prometheus")], "true");
        assert.equal(grafanaPod["app.kubernetes.io/name"], "grafana", "the selector labels win");
        assert.deepEqual(
            Object.keys(auxPodLabels({ name: "prometheus" }, {}, [])).filter((k) => k.startsWith("apfa.io/client-of-")),
            [],
            "the first service placed is nobody's client",
        );
    });

    it("warns about a public control plane with the key that restricts it", () => {
        const warning = publicControlPlaneWarning({ platform: "GKE", configKey: "apfa:gcp.masterAuthorizedCidrs", authentication: "Google IAM credentials" });
        assert.equal(
            warning,
            "The GKE Kubernetes API is reachable from the internet (every request still needs Google IAM credentials). " +
                "Restrict it to your operators' addresses, including wherever `pulumi up` runs, with apfa:gcp.masterAuthorizedCidrs " +
                "(e.g. `pulumi config set --path 'apfa:gcp.masterAuthorizedCidrs[0]' 203.0.113.0/24`).",
        );
    });

    describe("auxiliary services", () => {
        const spec: AuxServiceSpec = {
            name: "prometheus",
            image: "prom/prometheus:v3.16.0",
            args: ["--config.file=/etc/prometheus/prometheus.yml"],
            port: 9090,
            healthPath: "/-/ready",
            files: { "/etc/prometheus/prometheus.yml": "a", "/etc/prometheus/rules/apfa.rules.yml": "b", "/etc/other/prometheus.yml": "c" },
            dataVolume: { mountPath: "/prometheus", sizeGiB: 20 },
            resources: { cpu: 1, memoryMiB: 2048 },
            runAsUser: 65534,
            discoversTargets: true,
            operatorPort: 9090,
        };

        it("gives every file a distinct, valid ConfigMap key (property)", () => {
            fc.assert(
                fc.property(fc.uniqueArray(fc.stringMatching(/^(\/[A-Za-z0-9 _.@-]{1,12}){1,4}$/), { minLength: 1, maxLength: 12 }), (paths) => {
                    const mounts = auxFileMounts(Object.fromEntries(paths.map((p) => [p, "x"])));
                    assert.equal(new Set(mounts.map((m) => m.key)).size, paths.length);
                    for (const m of mounts) {
                        assert.match(m.key, /^[-._a-zA-Z0-9]+$/);
                    }
                }),
            );
            assert.throws(() => auxFileMounts({ "relative/file": "x" }), /absolute/);
        });

        it("builds a schema-valid Deployment: one replica, Recreate with a data volume, probes on the health path", async () => {
            const deploymentSpec = auxDeploymentSpec({ spec, labels: { a: "b" }, configMapName: "cm", claimName: "prometheus-data" });
            await validateManifest({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "prometheus" }, spec: deploymentSpec });
            assert.equal(deploymentSpec.replicas, 1);
            assert.deepEqual(deploymentSpec.strategy, { type: "Recreate" });
            const pod = deploymentSpec.template as { spec: { containers: { readinessProbe: { httpGet: { path: string } }; volumeMounts: { mountPath: string }[] }[] } };
            assert.equal(pod.spec.containers[0].readinessProbe.httpGet.path, "/-/ready");
            assert.deepEqual(pod.spec.containers[0].volumeMounts.map((m) => m.mountPath).sort(), [
                "/etc/other/prometheus.yml",
                "/etc/prometheus/prometheus.yml",
                "/etc/prometheus/rules/apfa.rules.yml",
                "/prometheus",
                "/tmp",
            ]);
        });

        it("runs with a read-only root filesystem: the data volume and a 64 MiB /tmp are its only writable paths", () => {
            type Pod = {
                spec: {
                    volumes: { name: string; emptyDir?: { sizeLimit: string }; configMap?: unknown; persistentVolumeClaim?: unknown }[];
                    containers: { securityContext: { readOnlyRootFilesystem: boolean }; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }[];
                };
            };
            const pod = auxDeploymentSpec({ spec, labels: {}, configMapName: "cm", claimName: "prometheus-data" }).template as Pod;
            const [container] = pod.spec.containers;
            assert.equal(container.securityContext.readOnlyRootFilesystem, true);
            const writable = container.volumeMounts.filter((m) => !m.readOnly).map((m) => [m.name, m.mountPath]);
            assert.deepEqual(writable, [
                ["data", "/prometheus"],
                ["tmp", "/tmp"],
            ]);
            assert.deepEqual(pod.spec.volumes.find((v) => v.name === "tmp"), { name: "tmp", emptyDir: { sizeLimit: "64Mi" } });
            const podSecurity = (auxDeploymentSpec({ spec, labels: {} }).template as unknown as { spec: { securityContext: Record<string, unknown> } }).spec.securityContext;
            assert.deepEqual([podSecurity.runAsUser, podSecurity.runAsGroup, podSecurity.fsGroup], [65534, 65534, 65534], "the image user's own group, not root's");
            // Grafana without a data volume still gets /tmp.
            const noData = auxDeploymentSpec({ spec: { ...spec, dataVolume: undefined }, labels: {} }).template as Pod;
            assert.deepEqual(noData.spec.containers[0].volumeMounts.map((m) => m.mountPath), ["/tmp"]);
        });

        it("requests and limits ephemeral storage besides CPU and memory", () => {
            type Pod = { spec: { containers: { resources: unknown }[] } };
            const pod = auxDeploymentSpec({ spec, labels: {} }).template as Pod;
            assert.deepEqual(pod.spec.containers[0].resources, {
                requests: { cpu: "1", memory: "2048Mi", "ephemeral-storage": "256Mi" },
                limits: { cpu: "1", memory: "2048Mi", "ephemeral-storage": "1Gi" },
            });
        });

        describe("a peer group (Alertmanager)", () => {
            const am: AuxServiceSpec = {
                name: "alertmanager",
                image: "prom/alertmanager:v0.35.0",
                args: ["--cluster.listen-address="],
                port: 9093,
                healthPath: "/-/healthy",
                readyPath: "/-/ready",
                files: { "/etc/alertmanager/alertmanager.yml": "route: {}" },
                dataVolume: { mountPath: "/alertmanager", sizeGiB: 1 },
                resources: { cpu: 0.25, memoryMiB: 512 },
                runAsUser: 65534,
                operatorPort: 9093,
                peers: { replicas: 2, port: 9094, args: (peers, own) => [`--cluster.peer=${peers}:9094`, `--cluster.advertise-address=${own}:9094`] },
            };
            type Pod = {
                metadata: { labels: Record<string, string> };
                spec: {
                    topologySpreadConstraints: { topologyKey: string; whenUnsatisfiable: string; maxSkew: number }[];
                    volumes: { name: string; emptyDir?: { sizeLimit: string }; persistentVolumeClaim?: unknown }[];
                    containers: { args: string[]; env: { name: string; valueFrom?: unknown }[]; ports: { name: string; containerPort: number; protocol: string }[] }[];
                };
            };

            it("runs two replicas, one replaced at a time, joined through the headless Service's name", async () => {
                const deploymentSpec = auxDeploymentSpec({ spec: am, labels: {}, configMapName: "cm", claimName: "ignored", peersHost: "alertmanager-peers.apfa.svc.cluster.local" });
                await validateManifest({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "alertmanager" }, spec: deploymentSpec });
                assert.equal(deploymentSpec.replicas, 2);
                assert.deepEqual(deploymentSpec.strategy, { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
                const pod = deploymentSpec.template as unknown as Pod;
                const [container] = pod.spec.containers;
                assert.deepEqual(container.args, ["--cluster.peer=alertmanager-peers.apfa.svc.cluster.local:9094", "--cluster.advertise-address=$(POD_IP):9094"], "the peer args replace the single-replica args");
                assert.deepEqual(container.env[0], { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } });
                assert.deepEqual(container.ports, [
                    { name: "http", containerPort: 9093, protocol: "TCP" },
                    { name: "peer-tcp", containerPort: 9094, protocol: "TCP" },
                    { name: "peer-udp", containerPort: 9094, protocol: "UDP" },
                ]);
                assert.deepEqual(pod.spec.volumes.find((v) => v.name === "data"), { name: "data", emptyDir: { sizeLimit: "1Gi" } }, "no shared ReadWriteOnce claim");
                assert.deepEqual(
                    pod.spec.topologySpreadConstraints.map((c) => [c.topologyKey, c.whenUnsatisfiable, c.maxSkew]),
                    [
                        ["kubernetes.io/hostname", "ScheduleAnyway", 1],
                        ["topology.kubernetes.io/zone", "ScheduleAnyway", 1],
                    ],
                );
                assert.throws(() => auxDeploymentSpec({ spec: am, labels: {} }), /peers' DNS name/);
                assert.throws(() => auxDeploymentSpec({ spec: { ...am, peers: { ...am.peers!, replicas: 1 } }, labels: {}, peersHost: "x" }), /at least 2 replicas/);
            });

            it("publishes every replica, ready or not, under one headless name (web and gossip ports)", async () => {
                const spec = auxPeersServiceSpec(am);
                assert.equal(spec.clusterIP, "None");
                assert.equal(spec.publishNotReadyAddresses, true);
                assert.deepEqual(spec.ports, [
                    { name: "http", port: 9093, targetPort: "http", protocol: "TCP" },
                    { name: "peer-tcp", port: 9094, targetPort: "peer-tcp", protocol: "TCP" },
                    { name: "peer-udp", port: 9094, targetPort: "peer-udp", protocol: "UDP" },
                ]);
                await validateManifest({ apiVersion: "v1", kind: "Service", metadata: { name: "alertmanager-peers" }, spec });
            });

            it("opens the gossip port (TCP and UDP) between its own pods only", async () => {
                const self = { "app.kubernetes.io/name": "alertmanager", "app.kubernetes.io/instance": "alertmanager" };
                const policy = auxNetworkPolicy({ name: "alertmanager", namespace: "apfa", port: 9093, podLabels: self, peerPort: 9094 });
                const gossip = [
                    { protocol: "TCP", port: 9094 },
                    { protocol: "UDP", port: 9094 },
                ];
                assert.deepEqual(policy.spec.ingress, [
                    { from: [{ podSelector: { matchLabels: { "apfa.io/client-of-alertmanager": "true" } } }], ports: [{ protocol: "TCP", port: 9093 }] },
                    { from: [{ podSelector: { matchLabels: self } }], ports: gossip },
                ]);
                assert.deepEqual(policy.spec.egress, [{ to: [{ podSelector: { matchLabels: self } }], ports: gossip }]);
                await validateManifest(policy);
            });
        });

        it("tells operators to port-forward and gives an in-cluster URL", () => {
            assert.equal(portForwardInstructions("apfa", "grafana", 3000, 3000), "kubectl -n apfa port-forward svc/grafana 3000:3000, then open http://localhost:3000");
            assert.equal(auxInternalUrl("apfa", "prometheus", 9090), "http://prometheus.apfa.svc.cluster.local:9090");
        });
    });
});

describe("kubernetes layer: every manifest the program creates is schema-valid (prod-azure synth)", () => {
    /** The layer's own objects and the monitoring objects it places; Helm releases render their own. */
    let manifests: { resource: PlannedResource; manifest: Record<string, unknown> }[];

    before(() => {
        const plan = synthStack("prod-azure");
        manifests = plan.resources
            .filter((r) => r.type.startsWith("kubernetes:") && (r.urn.includes("apfa:kubernetes:KubernetesApfa$") || r.urn.includes("apfa:monitoring:Monitoring$")))
            .map((resource) => ({ resource, manifest: manifestOf(resource) }))
            .filter((x): x is { resource: PlannedResource; manifest: Record<string, unknown> } => x.manifest !== undefined);
    });

    it("covers the Namespace, Gateway, HTTPRoute, NetworkPolicies and the monitoring Deployments, ConfigMaps, Secret, Services and PVCs", () => {
        const kinds = new Set(manifests.map((m) => m.manifest.kind));
        for (const kind of ["Namespace", "Gateway", "HTTPRoute", "NetworkPolicy", "Deployment", "ConfigMap", "Secret", "Service", "PersistentVolumeClaim", "ServiceAccount"]) {
            assert.ok(kinds.has(kind), `no ${kind} among ${[...kinds].join(", ")}`);
        }
    });

    it("validates each of them against its Kubernetes or Gateway API schema", async () => {
        for (const { manifest } of manifests) {
            assert.ok(await hasModel(String(manifest.apiVersion), String(manifest.kind)), `no model for ${describeManifest(manifest)}`);
            await validateManifest(manifest);
        }
    });

    it("creates every one of them through the cluster's provider, not the ambient kubeconfig", () => {
        const plan = synthStack("prod-azure");
        const [provider] = ofType(plan, "pulumi:providers:kubernetes");
        for (const { resource } of manifests) {
            assert.ok(resource.provider?.startsWith(provider.urn), `${resource.name} uses ${resource.provider}`);
        }
    });
});
