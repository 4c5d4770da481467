/**
 * The GKE path's Kubernetes objects handed to their real validators: the APFA chart rendered by
 * real helm (.tools/bin/helm) with exactly the values the prod-gcp program passes each slot, every
 * rendered object checked against the Kubernetes schemas (kubernetes-models), and every object of
 * the prod-gcp plan checked against its schema (kubernetes-models, Gateway API models, and the
 * GKE policy CRD schemas). Then the links between them that GKE relies on: the HealthCheckPolicy
 * probes what the Pods serve, the nodeSelector matches the node pool, the NetworkPolicy selects the
 * APFA Pods.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";

import { PROJECT_ROOT } from "../scripts/synth/stack-config";
import { parseConfig, SLOTS, type GcpConfig, type Slot } from "../src/config";
import { CHART_PATH, chartValues, mergeValues } from "../src/kubernetes";
import { databaseChartValues } from "../src/kubernetes/database";
import { releaseName, serviceName } from "../src/kubernetes/names";
import { gkeChartValues, gkeDrain } from "../src/targets/gcp";
import { gcpBackendPolicySchema, healthCheckPolicySchema } from "./fixtures/gcp/gke-policy-schemas";
import { hasModel, manifestOf, validateManifest } from "./helpers/k8s-validate";
import { find, ofType, type Plan, readSampleStack, synthStack } from "./helpers/synth";
import { requireTool } from "./helpers/tools";

const STACK = "prod-gcp";
const NAME = "apfa-prod-gcp";
const CHART_DIR = path.resolve(PROJECT_ROOT, CHART_PATH);
/** A Kubernetes minor GKE's REGULAR channel offers. */
const KUBE_VERSION = "1.33.0";
const NAMESPACE = "apfa";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function prodGcpConfig(): GcpConfig {
    const config = parseConfig({ values: readSampleStack(STACK), project: "apfa", stack: STACK });
    assert.equal(config.cloud, "gcp");
    return config as GcpConfig;
}

describe("prod-gcp: chart and manifests through their real validators", function () {
    let helm: string;
    let tmp: string;
    let plan: Plan;
    const values = {} as Record<Slot, Record<string, unknown>>;
    const rendered = {} as Record<Slot, Json[]>;

    function helmRun(args: string[], slotValues: unknown) {
        const file = path.join(tmp, `values-${Math.random().toString(36).slice(2)}.json`);
        fs.writeFileSync(file, JSON.stringify(slotValues));
        return spawnSync(helm, [...args, "-f", file], { encoding: "utf8", timeout: 60_000 });
    }

    function deployment(slot: Slot): Json {
        const found = rendered[slot].filter((m) => m.kind === "Deployment");
        assert.equal(found.length, 1);
        return found[0];
    }

    function service(slot: Slot): Json {
        const found = rendered[slot].filter((m) => m.kind === "Service" && m.metadata.name === serviceName(slot));
        assert.equal(found.length, 1);
        return found[0];
    }

    before(function () {
        helm = requireTool(this, "helm");
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-gcp-helm-"));
        plan = synthStack(STACK);
        for (const slot of SLOTS) {
            values[slot] = find(plan, "kubernetes:helm.sh/v3:Release", `${NAME}-apfa-${slot}`).inputs.values as Record<string, unknown>;
            const result = helmRun(["template", releaseName(slot), CHART_DIR, "--namespace", NAMESPACE, "--kube-version", KUBE_VERSION], values[slot]);
            assert.equal(result.status, 0, `helm template (${slot}) failed:\n${result.stderr}`);
            rendered[slot] = parseAllDocuments(result.stdout)
                .map((doc) => {
                    assert.deepEqual(doc.errors, []);
                    return doc.toJS() as Json | null;
                })
                .filter((m): m is Json => m !== null);
        }
    });

    after(() => {
        if (tmp) {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });

    it("the program passes each slot exactly chartValues() with GKE's drain timing and node selector, plus the database's values", () => {
        const config = prodGcpConfig();
        for (const slot of SLOTS) {
            // The database adds libpq's plain settings and PGPASSWORD from the apfa-database Secret (tests/database.test.ts).
            const libpq = Object.fromEntries(Object.entries(values[slot].env as Record<string, string>).filter(([name]) => name.startsWith("PG")));
            assert.deepEqual(Object.keys(libpq).sort(), ["PGDATABASE", "PGHOST", "PGPORT", "PGSSLMODE", "PGUSER"]);
            assert.deepEqual(values[slot], mergeValues(chartValues(config, slot, { drain: gkeDrain(config.gcp), values: gkeChartValues() }), databaseChartValues(libpq)));
        }
    });

    it("helm renders GKE's drain timing: a 35 s preStop sleep and an 80 s grace period (35 + 30 s draining + 10 s APFA + 5 s)", () => {
        for (const slot of SLOTS) {
            const pod = deployment(slot).spec.template.spec as Json;
            assert.equal(pod.terminationGracePeriodSeconds, 80);
            assert.deepEqual(pod.containers[0].lifecycle, { preStop: { sleep: { seconds: 35 } } });
        }
    });

    it("Prometheus scrapes the port the headless Service exposes, which is the container's metrics port, which only scrapers may reach", () => {
        const policy = ofType(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy").find((r) => (r.inputs as Json).metadata.name === "apfa");
        const scraperPorts = ((policy?.inputs as Json).spec.ingress as Json[])
            .filter((rule) => rule.from.some((peer: Json) => peer.podSelector?.matchLabels?.["apfa.io/scrapes-apfa"] === "true"))
            .flatMap((rule) => rule.ports.map((p: Json) => p.port));
        const prometheusYml = Object.values(find(plan, "kubernetes:core/v1:ConfigMap", `${NAME}-apfa-prometheus-files`).inputs.data as Record<string, string>).find((t) =>
            t.includes("dns_sd_configs"),
        ) as string;
        for (const slot of SLOTS) {
            const headless = rendered[slot].find((m) => m.kind === "Service" && m.metadata.name === `${serviceName(slot)}-headless`) as Json;
            const [port] = headless.spec.ports as Json[];
            const container = deployment(slot).spec.template.spec.containers[0] as Json;
            const containerPort = (container.ports as Json[]).find((p) => p.name === port.targetPort)?.containerPort;
            assert.equal(containerPort, port.port);
            assert.equal(port.port, 9100);
            assert.ok(prometheusYml.includes(`port: ${port.port}`), "prometheus.yml scrapes that port");
            assert.deepEqual(scraperPorts, [port.port]);
        }
    });

    it("helm lint --strict accepts the GKE values of each slot", () => {
        for (const slot of SLOTS) {
            const result = helmRun(["lint", CHART_DIR, "--strict", "--kube-version", KUBE_VERSION], values[slot]);
            assert.equal(result.status, 0, `helm lint (${slot}):\n${result.stdout}${result.stderr}`);
        }
    });

    it("every object helm renders with the GKE values is valid against the Kubernetes schemas", async () => {
        for (const slot of SLOTS) {
            assert.ok(rendered[slot].length >= 5, `${slot}: ${rendered[slot].map((m) => m.kind).join(", ")}`);
            for (const manifest of rendered[slot]) {
                await validateManifest(manifest);
            }
        }
    });

    it("every Kubernetes object of the prod-gcp plan is valid: Kubernetes/Gateway API models, else the GKE CRD schemas", async () => {
        const gkeSchemas: Record<string, { safeParse(x: unknown): { success: boolean; error?: unknown } }> = {
            HealthCheckPolicy: healthCheckPolicySchema,
            GCPBackendPolicy: gcpBackendPolicySchema,
        };
        let checked = 0;
        for (const r of plan.resources) {
            const manifest = manifestOf(r);
            if (!manifest) {
                continue;
            }
            const { apiVersion, kind } = manifest as { apiVersion: string; kind: string };
            if (await hasModel(apiVersion, kind)) {
                await validateManifest(manifest);
            } else {
                const schema = gkeSchemas[kind];
                assert.ok(apiVersion === "networking.gke.io/v1" && schema, `${r.type} ${r.name} has no schema to check it against`);
                const result = schema.safeParse(manifest);
                assert.ok(result.success, `${r.name}: ${JSON.stringify(result.error)}`);
            }
            checked++;
        }
        assert.ok(checked >= 20, `only ${checked} objects checked`);
    });

    it("APFA's Pods select exactly the node label the APFA node pool carries", () => {
        const poolLabels = find(plan, "gcp:container/nodePool:NodePool", `${NAME}-apfa-pool`).inputs.nodeConfig as Json;
        for (const slot of SLOTS) {
            const selector = deployment(slot).spec.template.spec.nodeSelector as Record<string, string>;
            assert.ok(Object.keys(selector).length > 0);
            for (const [key, value] of Object.entries(selector)) {
                assert.equal(poolLabels.labels[key], value, `nodeSelector ${key}=${value} matches no node of the pool`);
            }
        }
    });

    it("the HealthCheckPolicy probes what the slot's Pods serve: the Service the route uses, the container port, the readiness path", () => {
        const policies = ofType(plan, "kubernetes:networking.gke.io/v1:HealthCheckPolicy").map((r) => r.inputs as Json);
        const route = find(plan, "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", `${NAME}-apfa-route`);
        const backendRefs = (route.inputs as Json).spec.rules[0].backendRefs as Json[];
        for (const slot of SLOTS) {
            const svc = service(slot);
            const policy = policies.find((p) => p.spec.targetRef.name === svc.metadata.name);
            assert.ok(policy, `no HealthCheckPolicy for Service ${svc.metadata.name}`);
            assert.equal(policy.metadata.namespace, NAMESPACE);

            // The route's backend for this slot is this Service, on a port it exposes.
            const ref = backendRefs.find((b) => b.name === svc.metadata.name);
            assert.ok(ref, `the route has no backend ${svc.metadata.name}`);
            const servicePort = (svc.spec.ports as Json[]).find((p) => p.port === ref.port);
            assert.ok(servicePort, `Service ${svc.metadata.name} has no port ${ref.port}`);

            // Container-native load balancing probes Pod IPs: the policy's port must be the container port behind the Service.
            const container = deployment(slot).spec.template.spec.containers[0] as Json;
            const target = servicePort.targetPort;
            const containerPort = typeof target === "string" ? (container.ports as Json[]).find((p) => p.name === target)?.containerPort : target;
            const check = policy.spec.default.config.httpHealthCheck;
            assert.equal(check.port, containerPort);
            assert.equal(check.requestPath, container.readinessProbe.httpGet.path);
        }
    });

    it("the GKE NetworkPolicy selects the rendered APFA Pods of both slots", () => {
        const [policy] = ofType(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy").filter((r) => (r.inputs as Json).metadata.name === "apfa");
        const selector = (policy.inputs as Json).spec.podSelector.matchLabels as Record<string, string>;
        for (const slot of SLOTS) {
            const podLabels = deployment(slot).spec.template.metadata.labels as Record<string, string>;
            for (const [key, value] of Object.entries(selector)) {
                assert.equal(podLabels[key], value, `${slot} Pods lack ${key}=${value}`);
            }
        }
    });
});
