/**
 * The Kubernetes layer (src/kubernetes): its pure functions, and every manifest the program itself
 * creates there (Namespace, Gateway, HTTPRoute, NetworkPolicies, the monitoring objects placed by
 * runService) validated against the Kubernetes / Gateway API schemas from the synth plan's inputs.
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";

import type { AuxServiceSpec } from "../src/contract";
import { parseConfig, type AzureConfig } from "../src/config";
import { chartValues, cpuQuantity, mergeValues } from "../src/kubernetes";
import { auxDeploymentSpec, auxFileMounts, auxInternalUrl, auxPodLabels, portForwardInstructions } from "../src/kubernetes/aux-service";
import { isLabelValue, tagsToLabels, toLabelKey } from "../src/kubernetes/labels";
import { auxClientLabel, headlessServiceName, releaseName, serviceFqdn, serviceName } from "../src/kubernetes/names";
import { apfaNetworkPolicy, auxNetworkPolicy } from "../src/kubernetes/network-policy";
import {
    GATEWAY_WAIT_ANNOTATION,
    METRICS_REDIRECT,
    gatewayManifest,
    gatewayUrl,
    httpRouteManifest,
    metricsPathMatch,
    weightedBackends,
} from "../src/kubernetes/routing";
import { publicControlPlaneWarning } from "../src/kubernetes/warnings";
import { describeManifest, hasModel, manifestOf, validateManifest } from "./helpers/k8s-validate";
import { ofType, readStackFile, synthStack, type PlannedResource } from "./helpers/synth";

function azureConfig(overrides: Record<string, unknown> = {}): AzureConfig {
    const values = { ...readStackFile("prod-azure"), ...overrides };
    return parseConfig({ values, project: "apfa", stack: "prod-azure" }) as AzureConfig;
}

const RELEASE = "apfa:release";

describe("kubernetes layer: pure functions", () => {
    describe("chartValues()", () => {
        it("maps image, slot, env, resources, autoscaling and probe path from the typed config", () => {
            const config = azureConfig({
                "apfa:app": { env: { LOG_LEVEL: "info" }, cpu: 0.25, memoryMiB: 512 },
                [RELEASE]: { active: "blue", blue: { image: "r/apfa:1", env: { FLAG: "a" } }, green: { image: "r/apfa:2", env: { FLAG: "b" } } },
            });
            const green = chartValues(config, "green");
            assert.equal(green.slot, "green");
            assert.equal(green.image, "r/apfa:2");
            assert.deepEqual(green.env, { LOG_LEVEL: "info", FLAG: "b" });
            assert.equal(green.port, 8000);
            assert.equal(green.healthPath, "/health");
            assert.deepEqual(green.resources, { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "250m", memory: "512Mi" } });
            assert.deepEqual(green.autoscaling, {
                enabled: true,
                minReplicas: 4,
                maxReplicas: 16,
                targetCPUUtilizationPercentage: 70,
                scaleUpStabilizationWindowSeconds: 60,
                scaleDownStabilizationWindowSeconds: 300,
            });
        });

        it("gives a scaled-down slot zero replicas and no autoscaler", () => {
            const config = azureConfig({ [RELEASE]: { active: "blue", blue: { image: "r/apfa:1" }, green: { image: "r/apfa:0", scaledDown: true } } });
            const green = chartValues(config, "green");
            assert.equal(green.replicaCount, 0);
            assert.equal((green.autoscaling as { enabled: boolean }).enabled, false);
            assert.equal((chartValues(config, "blue").autoscaling as { enabled: boolean }).enabled, true);
        });

        it("runs the active slot's image in a slot that names none", () => {
            const config = azureConfig({ [RELEASE]: { active: "green", green: { image: "r/apfa:9" } } });
            assert.equal(chartValues(config, "blue").image, "r/apfa:9");
        });

        it("merges extra values over its own, objects deeply", () => {
            const values = chartValues(azureConfig(), "blue", { nodeSelector: { pool: "a" }, autoscaling: { maxReplicas: 8 } });
            assert.deepEqual(values.nodeSelector, { pool: "a" });
            assert.equal((values.autoscaling as { maxReplicas: number }).maxReplicas, 8);
            assert.equal((values.autoscaling as { minReplicas: number }).minReplicas, 4);
        });

        it("turns the stack's tags into valid labels", () => {
            const values = chartValues(azureConfig({ "apfa:tags": { "cost center": "R&D 42", owner: "platform-team" } }), "blue");
            assert.deepEqual(values.commonLabels, { cost_center: "R_D_42", owner: "platform-team", "apfa.io/stack": "prod-azure" });
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
            const route = httpRouteManifest({ namespace: "apfa", weights: { blue: 100, green: 0 }, port: 8000, metricsPath: "/metrics" });
            assert.deepEqual(
                route.spec.rules[0].backendRefs.map((b) => [b.name, b.port, b.weight]),
                [
                    ["apfa-blue", 8000, 100],
                    ["apfa-green", 8000, 0],
                ],
            );
            await validateManifest(route);
        });

        it("answers the metrics path at the Gateway with a Core redirect to an unresolvable host, forwarding nothing", async () => {
            const route = httpRouteManifest({ namespace: "apfa", weights: { blue: 90, green: 10 }, port: 8000, metricsPath: "/metrics" });
            assert.equal(route.spec.rules.length, 2, "one route: the split and the metrics rule");
            const metrics = route.spec.rules[1];
            assert.deepEqual(metrics.matches, [{ path: { type: "PathPrefix", value: "/metrics" } }]);
            assert.ok(!("backendRefs" in metrics), "the metrics rule has no backend: APFA never sees the request");
            assert.deepEqual(metrics.filters, [{ type: "RequestRedirect", requestRedirect: { hostname: "metrics-not-public.invalid", statusCode: 302 } }]);
            // Only Core fields of RequestRedirect: hostname and a 301/302 status; no path/scheme/port (Extended).
            assert.deepEqual(Object.keys(METRICS_REDIRECT).sort(), ["hostname", "statusCode"]);
            assert.match(METRICS_REDIRECT.hostname, /\.invalid$/, "RFC 6761: .invalid never resolves");
            await validateManifest(route);
        });

        it("matches the metrics path as a prefix, trailing slash normalised, and refuses paths that would hide APFA", () => {
            assert.deepEqual(metricsPathMatch("/metrics"), { path: { type: "PathPrefix", value: "/metrics" } });
            assert.deepEqual(metricsPathMatch("/internal/metrics/"), { path: { type: "PathPrefix", value: "/internal/metrics" } });
            for (const bad of ["/", "//", "/a//b", "/a/./b", "/a/..", "metrics"]) {
                assert.throws(() => metricsPathMatch(bad), /metrics path/, bad);
            }
            assert.doesNotThrow(() => metricsPathMatch("/.well-known/metrics"));
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

        it("derives the URL from the Gateway's status address", () => {
            assert.equal(gatewayUrl({ addresses: [{ value: "203.0.113.9" }] }), "http://203.0.113.9");
            assert.equal(gatewayUrl({ addresses: [{ value: "2001:db8::1" }] }), "http://[2001:db8::1]");
            assert.equal(gatewayUrl({ addresses: [{ value: "apfa.example.com" }] }), "http://apfa.example.com");
            assert.equal(gatewayUrl({}), undefined);
            assert.equal(gatewayUrl(undefined), undefined);
        });
    });

    it("the APFA NetworkPolicy refuses to exist without a gateway peer", () => {
        assert.throws(() => apfaNetworkPolicy({ name: "apfa", namespace: "apfa", port: 8000, gatewayPeers: [] }), /gateway peer/);
    });

    it("an auxiliary service admits its port only from pods carrying its client label, which only later services get", async () => {
        const policy = auxNetworkPolicy({ name: "prometheus", namespace: "apfa", port: 9090, podLabels: { "app.kubernetes.io/name": "prometheus" } });
        assert.deepEqual(policy.spec.policyTypes, ["Ingress"]);
        assert.deepEqual(policy.spec.ingress, [
            { from: [{ podSelector: { matchLabels: { "apfa.io/client-of-prometheus": "true" } } }], ports: [{ protocol: "TCP", port: 9090 }] },
        ]);
        await validateManifest(policy);
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
            ]);
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
