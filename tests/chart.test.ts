/**
 * The APFA chart, rendered by real helm (.tools/bin/helm) with exactly the values the program
 * passes for each slot of the prod-azure stack, every object validated against the Kubernetes
 * schemas; and values.schema.json rejecting bad values (helm itself must fail).
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";

import { parseConfig, SLOTS, type AzureConfig, type Slot } from "../src/config";
import { AKS_DRAIN, APP_POOL_LABEL } from "../src/targets/azure";
import { chartValues, CHART_PATH, mergeValues } from "../src/kubernetes";
import { databaseChartValues } from "../src/kubernetes/database";
import { headlessServiceName, releaseName, serviceName } from "../src/kubernetes/names";
import { validateManifest } from "./helpers/k8s-validate";
import { find, readSampleStack, readStackFile, synthStack } from "./helpers/synth";
import { requireTool } from "./helpers/tools";
import { PROJECT_ROOT } from "../scripts/synth/stack-config";

const CHART_DIR = path.resolve(PROJECT_ROOT, CHART_PATH);
/** Oldest Kubernetes minor the pinned Envoy Gateway supports; the chart needs >= 1.30. */
const KUBE_VERSION = "1.33.0";
const NAMESPACE = "apfa";

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: Record<string, unknown> } & Record<
    string,
    unknown
>;

let helm: string;
let tmp: string;

function writeValues(values: unknown): string {
    const file = path.join(tmp, `values-${Math.random().toString(36).slice(2)}.json`);
    // JSON is YAML: helm reads it as a values file.
    fs.writeFileSync(file, JSON.stringify(values, null, 2));
    return file;
}

function runHelm(args: string[]) {
    return spawnSync(helm, args, { encoding: "utf8", timeout: 60_000 });
}

function template(release: string, values: unknown): { status: number | null; stdout: string; stderr: string } {
    const result = runHelm(["template", release, CHART_DIR, "--namespace", NAMESPACE, "--kube-version", KUBE_VERSION, "-f", writeValues(values)]);
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function render(release: string, values: unknown): Manifest[] {
    const result = template(release, values);
    assert.equal(result.status, 0, `helm template failed:\n${result.stderr}`);
    return parseAllDocuments(result.stdout)
        .map((doc) => {
            assert.deepEqual(doc.errors, [], `rendered YAML does not parse: ${doc.errors.join("; ")}`);
            return doc.toJS() as Manifest | null;
        })
        .filter((m): m is Manifest => m !== null);
}

function only(manifests: Manifest[], kind: string, name?: string): Manifest {
    const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
    assert.equal(found.length, 1, `expected one ${kind}${name ? ` ${name}` : ""}, got ${found.length}`);
    return found[0];
}

/** The prod-azure stack's typed config, parsed the way loadConfig() does. */
function prodAzureConfig(): AzureConfig {
    const config = parseConfig({ values: readSampleStack("prod-azure"), project: "apfa", stack: "prod-azure" });
    assert.equal(config.cloud, "azure");
    return config as AzureConfig;
}

describe("chart charts/apfa rendered by helm", function () {
    const config = prodAzureConfig();
    /** The values the program hands each slot's Helm release (from the synth plan). */
    const programValues = {} as Record<Slot, Record<string, unknown>>;
    const rendered = {} as Record<Slot, Manifest[]>;

    before(function () {
        helm = requireTool(this, "helm");
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-chart-"));
        const plan = synthStack("prod-azure");
        for (const slot of SLOTS) {
            const release = find(plan, "kubernetes:helm.sh/v3:Release", `apfa-prod-azure-apfa-${slot}`);
            programValues[slot] = release.inputs.values as Record<string, unknown>;
            rendered[slot] = render(releaseName(slot), programValues[slot]);
        }
    });

    after(() => {
        if (tmp) {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });

    it("gets from the program exactly what chartValues() computes for the slot (AKS's drain timing and node selector), plus the database's values", () => {
        for (const slot of SLOTS) {
            // The database adds libpq's plain settings (the host only known from the server) and PGPASSWORD from its Secret.
            const env = programValues[slot].env as Record<string, string>;
            const libpq = Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith("PG")));
            assert.deepEqual(Object.keys(libpq).sort(), ["PGDATABASE", "PGHOST", "PGPORT", "PGSSLMODE", "PGUSER"]);
            const expected = mergeValues(chartValues(config, slot, { drain: AKS_DRAIN, values: { nodeSelector: { ...APP_POOL_LABEL } } }), databaseChartValues(libpq));
            assert.deepEqual(programValues[slot], expected);
        }
    });

    it("passes helm lint with each slot's values", () => {
        for (const slot of SLOTS) {
            const result = runHelm(["lint", CHART_DIR, "--strict", "--kube-version", KUBE_VERSION, "-f", writeValues(programValues[slot])]);
            assert.equal(result.status, 0, `helm lint (${slot}) failed:\n${result.stdout}${result.stderr}`);
        }
    });

    it("renders exactly Deployment, two Services, HPA, PDB and ServiceAccount per slot, all schema-valid", async () => {
        for (const slot of SLOTS) {
            const kinds = rendered[slot].map((m) => `${m.kind}/${m.metadata.name}`).sort();
            const name = serviceName(slot);
            assert.deepEqual(
                kinds,
                [
                    `Deployment/${name}`,
                    `HorizontalPodAutoscaler/${name}`,
                    `PodDisruptionBudget/${name}`,
                    `Service/${headlessServiceName(slot)}`,
                    `Service/${name}`,
                    `ServiceAccount/${name}`,
                ].sort(),
            );
            for (const manifest of rendered[slot]) {
                await validateManifest(manifest);
            }
        }
    });

    it("names every object from the release name and slot, as src/kubernetes/names.ts predicts", () => {
        // A release whose name does not end in the slot gets it appended.
        const other = render("shop", { ...programValues.green });
        assert.deepEqual([...new Set(other.map((m) => m.metadata.name))].sort(), ["shop-green", "shop-green-headless"]);
        const failed = template("apfa-blue", programValues.green);
        assert.notEqual(failed.status, 0, "release apfa-blue with slot green must be refused");
        assert.match(failed.stderr, /names slot blue but values.slot is green/);
    });

    it("autoscales 4-16 replicas at 70 % CPU and leaves replicas to the HPA", () => {
        for (const slot of SLOTS) {
            const hpa = only(rendered[slot], "HorizontalPodAutoscaler");
            assert.equal(hpa.apiVersion, "autoscaling/v2");
            const spec = hpa.spec as {
                minReplicas: number;
                maxReplicas: number;
                scaleTargetRef: { apiVersion: string; kind: string; name: string };
                metrics: { type: string; resource: { name: string; target: { type: string; averageUtilization: number } } }[];
            };
            assert.equal(spec.minReplicas, 4);
            assert.equal(spec.maxReplicas, 16);
            assert.deepEqual(spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: serviceName(slot) });
            assert.deepEqual(spec.metrics, [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }]);
            const deployment = only(rendered[slot], "Deployment");
            assert.equal("replicas" in (deployment.spec ?? {}), false, "spec.replicas must be absent while the HPA owns it");
        }
    });

    it("sets spec.replicas and drops the HPA when autoscaling is disabled", () => {
        const values = { ...programValues.blue, autoscaling: { ...(programValues.blue.autoscaling as object), enabled: false }, replicaCount: 3 };
        const manifests = render(releaseName("blue"), values);
        assert.equal(manifests.filter((m) => m.kind === "HorizontalPodAutoscaler").length, 0);
        assert.equal((only(manifests, "Deployment").spec as { replicas: number }).replicas, 3);
    });

    it("runs no pods but keeps both Services for a scaled-down slot", async () => {
        const config = parseConfig({
            values: { ...readSampleStack("prod-azure"), "apfa:release": { ...(readStackFile("prod-azure")["apfa:release"] as object), green: { image: "r/apfa:1", scaledDown: true } } },
            project: "apfa",
            stack: "prod-azure",
        }) as AzureConfig;
        const manifests = render(releaseName("green"), chartValues(config, "green", { drain: AKS_DRAIN }));
        assert.equal((only(manifests, "Deployment").spec as { replicas: number }).replicas, 0);
        assert.equal(manifests.filter((m) => m.kind === "HorizontalPodAutoscaler").length, 0);
        assert.equal(manifests.filter((m) => m.kind === "Service").length, 2);
        for (const manifest of manifests) {
            await validateManifest(manifest);
        }
    });

    it("probes readiness, liveness and start-up on the health path at the container's port 8000", () => {
        for (const slot of SLOTS) {
            const pod = (only(rendered[slot], "Deployment").spec as { template: { spec: PodSpec } }).template.spec;
            const [container] = pod.containers;
            const httpPort = container.ports.find((p) => p.name === "http");
            assert.equal(httpPort?.containerPort, 8000);
            for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"] as const) {
                const get = container[probe]?.httpGet;
                assert.equal(get?.path, "/health", `${probe} path`);
                // A named port resolves to the container port of that name.
                const port = typeof get?.port === "string" ? container.ports.find((p) => p.name === get.port)?.containerPort : get?.port;
                assert.equal(port, 8000, `${probe} port`);
            }
        }
    });

    it("runs non-root, read-only, without capabilities or privilege escalation, seccomp RuntimeDefault, no API token", () => {
        for (const slot of SLOTS) {
            const pod = (only(rendered[slot], "Deployment").spec as { template: { spec: PodSpec } }).template.spec;
            assert.equal(pod.automountServiceAccountToken, false);
            assert.equal(pod.securityContext.runAsNonRoot, true);
            assert.ok(pod.securityContext.runAsUser >= 10000, "a uid no node user has (AKS's azureuser is 1000)");
            assert.ok((pod.securityContext.runAsGroup ?? 0) >= 10000);
            assert.deepEqual(pod.securityContext.seccompProfile, { type: "RuntimeDefault" });
            const sc = pod.containers[0].securityContext;
            assert.equal(sc.allowPrivilegeEscalation, false);
            assert.equal(sc.readOnlyRootFilesystem, true);
            assert.equal(sc.privileged, false);
            assert.deepEqual(sc.capabilities, { drop: ["ALL"] });
            assert.equal(only(rendered[slot], "ServiceAccount").automountServiceAccountToken, false);
        }
    });

    it("runs the configured image with SLOT, the app's resources and the AKS node selector", () => {
        for (const slot of SLOTS) {
            const pod = (only(rendered[slot], "Deployment").spec as { template: { spec: PodSpec } }).template.spec;
            const [container] = pod.containers;
            assert.equal(container.image, config.release[slot].image ?? config.release[config.release.active].image);
            assert.deepEqual(
                container.env.find((e) => e.name === "SLOT"),
                { name: "SLOT", value: slot },
            );
            assert.deepEqual(container.resources, {
                requests: { cpu: "500m", memory: "1024Mi", "ephemeral-storage": "256Mi" },
                limits: { cpu: "500m", memory: "1024Mi", "ephemeral-storage": "1Gi" },
            });
            assert.deepEqual(pod.nodeSelector, { ...APP_POOL_LABEL });
        }
    });

    it("spreads replicas across zones (and nodes)", () => {
        const pod = (only(rendered.blue, "Deployment").spec as { template: { spec: PodSpec } }).template.spec;
        const keys = pod.topologySpreadConstraints.map((c) => `${c.topologyKey}:${c.whenUnsatisfiable}`);
        assert.deepEqual(keys, ["topology.kubernetes.io/zone:DoNotSchedule", "kubernetes.io/hostname:ScheduleAnyway"]);
        for (const c of pod.topologySpreadConstraints) {
            assert.deepEqual(c.labelSelector.matchLabels, { "app.kubernetes.io/name": "apfa", "app.kubernetes.io/instance": "apfa-blue", slot: "blue" });
        }
    });

    it("labels every object with the app.kubernetes.io set, the slot and the stack's tags", () => {
        for (const slot of SLOTS) {
            for (const manifest of rendered[slot]) {
                const labels = manifest.metadata.labels ?? {};
                for (const key of ["name", "instance", "version", "component", "part-of", "managed-by"]) {
                    assert.ok(labels[`app.kubernetes.io/${key}`], `${manifest.kind} lacks app.kubernetes.io/${key}`);
                }
                assert.equal(labels.slot, slot);
                assert.equal(labels["app.kubernetes.io/version"], "1.0.0", "version comes from the image tag");
                assert.equal(labels.environment, "production");
            }
            const podLabels = (only(rendered[slot], "Deployment").spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata
                .labels;
            assert.equal(podLabels.slot, slot);
        }
    });

    it("serves users on port 8000 through the ClusterIP Service, and metrics on 9100 only through the headless Service of ready replicas", () => {
        for (const slot of SLOTS) {
            const svc = only(rendered[slot], "Service", serviceName(slot)).spec as unknown as ServiceSpec;
            assert.equal(svc.type, "ClusterIP");
            assert.equal(svc.clusterIP, undefined);
            assert.deepEqual(
                svc.ports.map((p) => [p.port, p.targetPort]),
                [[8000, "http"]],
            );
            const headless = only(rendered[slot], "Service", headlessServiceName(slot)).spec as unknown as ServiceSpec;
            assert.equal(headless.clusterIP, "None");
            assert.equal(headless.publishNotReadyAddresses, false);
            assert.deepEqual(headless.selector, svc.selector);
            assert.deepEqual(
                headless.ports.map((p) => [p.port, p.targetPort]),
                [[9100, "metrics"]],
                "the discovery Service exposes only the metrics port",
            );
        }
    });

    it("runs APFA with a second named port `metrics` and tells it the port in METRICS_PORT", () => {
        for (const slot of SLOTS) {
            const [container] = (only(rendered[slot], "Deployment").spec as { template: { spec: PodSpec } }).template.spec.containers;
            assert.deepEqual(
                container.ports.map((p) => [p.name, p.containerPort]),
                [
                    ["http", 8000],
                    ["metrics", 9100],
                ],
            );
            assert.deepEqual(
                container.env.filter((e) => ["PORT", "METRICS_PORT"].includes(e.name)),
                [
                    { name: "PORT", value: "8000" },
                    { name: "METRICS_PORT", value: "9100" },
                ],
            );
        }
        // The env map cannot override the ports the chart sets.
        const overriding = render(releaseName("blue"), { ...programValues.blue, env: { METRICS_PORT: "8000" } });
        const [container] = (only(overriding, "Deployment").spec as { template: { spec: PodSpec } }).template.spec.containers;
        assert.deepEqual(container.env.filter((e) => e.name === "METRICS_PORT"), [{ name: "METRICS_PORT", value: "9100" }]);
    });

    it("on AKS stops a replica after a 5 s preStop sleep with a 20 s grace period (5 + Envoy's 0 s draining + APFA's 10 s + 5 s margin)", () => {
        for (const slot of SLOTS) {
            const pod = (only(rendered[slot], "Deployment").spec as { template: { spec: PodSpec } }).template.spec;
            assert.equal(pod.terminationGracePeriodSeconds, 20);
            assert.deepEqual(pod.containers[0].lifecycle, { preStop: { sleep: { seconds: 5 } } });
        }
    });

    it("keeps a disruption budget of one replica", () => {
        const pdb = only(rendered.green, "PodDisruptionBudget");
        assert.equal(pdb.apiVersion, "policy/v1");
        assert.equal((pdb.spec as { maxUnavailable: number }).maxUnavailable, 1);
    });

    describe("values.schema.json (and the chart's own checks) reject bad values: helm template fails", () => {
        const bad: [string, (v: Record<string, unknown>) => Record<string, unknown>, RegExp][] = [
            ["maxReplicas 'sixteen'", (v) => ({ ...v, autoscaling: { ...(v.autoscaling as object), maxReplicas: "sixteen" } }), /maxReplicas/],
            ["slot 'purple'", (v) => ({ ...v, slot: "purple" }), /slot/],
            ["an unknown top-level key", (v) => ({ ...v, replicas: 3 }), /additional propert/],
            ["an unknown key inside autoscaling", (v) => ({ ...v, autoscaling: { ...(v.autoscaling as object), targetMemory: 80 } }), /additional propert/],
            ["an empty image", (v) => ({ ...v, image: "" }), /image/],
            ["no image at all", (v) => Object.fromEntries(Object.entries(v).filter(([k]) => k !== "image")), /image/],
            ["port 70000", (v) => ({ ...v, port: 70000 }), /port/],
            ["CPU target 0", (v) => ({ ...v, autoscaling: { ...(v.autoscaling as object), targetCPUUtilizationPercentage: 0 } }), /targetCPUUtilizationPercentage/],
            ["CPU target 101", (v) => ({ ...v, autoscaling: { ...(v.autoscaling as object), targetCPUUtilizationPercentage: 101 } }), /targetCPUUtilizationPercentage/],
            ["minReplicas 0", (v) => ({ ...v, autoscaling: { ...(v.autoscaling as object), minReplicas: 0 } }), /minReplicas/],
            ["minReplicas above maxReplicas", (v) => ({ ...v, autoscaling: { ...(v.autoscaling as object), minReplicas: 20, maxReplicas: 16 } }), /must not exceed/],
            ["a health path without a leading slash", (v) => ({ ...v, healthPath: "health" }), /healthPath/],
            ["root (runAsUser 0)", (v) => ({ ...v, securityContext: { runAsUser: 0 } }), /runAsUser/],
            ["metrics on the app port", (v) => ({ ...v, metricsPort: v.port }), /metricsPort \(8000\) must differ from port/],
            ["a preStop sleep as long as the grace period", (v) => ({ ...v, preStopSleepSeconds: 20, terminationGracePeriodSeconds: 20 }), /preStopSleepSeconds must be shorter/],
        ];
        for (const [what, mutate, message] of bad) {
            it(`rejects ${what}`, () => {
                const result = template(releaseName("blue"), mutate(programValues.blue));
                assert.notEqual(result.status, 0, `helm accepted ${what}`);
                assert.match(result.stderr, message);
            });
        }

        it("accepts the program's values (the cases above differ from them by one value each)", () => {
            assert.equal(template(releaseName("blue"), programValues.blue).status, 0);
        });
    });
});

interface PodSpec {
    automountServiceAccountToken: boolean;
    terminationGracePeriodSeconds?: number;
    nodeSelector?: Record<string, string>;
    securityContext: { runAsNonRoot: boolean; runAsUser: number; runAsGroup?: number; seccompProfile: unknown };
    topologySpreadConstraints: { topologyKey: string; whenUnsatisfiable: string; labelSelector: { matchLabels: Record<string, string> } }[];
    containers: {
        image: string;
        ports: { name: string; containerPort: number }[];
        env: { name: string; value: string }[];
        resources: unknown;
        readinessProbe?: { httpGet?: { path: string; port: string | number } };
        livenessProbe?: { httpGet?: { path: string; port: string | number } };
        startupProbe?: { httpGet?: { path: string; port: string | number } };
        securityContext: { allowPrivilegeEscalation: boolean; readOnlyRootFilesystem: boolean; privileged: boolean; capabilities: unknown };
        lifecycle?: unknown;
    }[];
}

interface ServiceSpec {
    type: string;
    clusterIP?: string;
    publishNotReadyAddresses?: boolean;
    selector: Record<string, string>;
    ports: { port: number; targetPort: string | number }[];
}
