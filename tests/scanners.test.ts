/**
 * Third-party scanners on every Kubernetes manifest the program deploys: the APFA chart rendered by
 * real helm with the values each slot gets (from the prod-azure and prod-gcp plans), and every
 * manifest those plans create themselves. Each scanner must find nothing that is not suppressed
 * next to the object in its own format, with a reason:
 *   - kubeconform (strict: unknown fields are errors) with offline schemas from the PyPI package
 *     kubernetes-validate (scripts/install-tools.sh links them to .tools/kubernetes-json-schema);
 *   - checkov --framework kubernetes (suppressions: `checkov.io/skipN: CKV_K8S_x=<reason>`);
 *   - kube-score (suppressions: `kube-score/ignore: <check>,…`, reasons in comments beside them).
 * A negative control per scanner (a deliberately bad Deployment) proves each one judges.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseAllDocuments, stringify } from "yaml";

import { PROJECT_ROOT } from "../scripts/synth/stack-config";
import { synthStack, type Plan } from "./helpers/synth";
import { requireTool } from "./helpers/tools";

/** The Kubernetes minor the chart is rendered for and validated against (GKE REGULAR, AKS default). */
const KUBE_VERSION = "1.33.0";
const STACKS = ["prod-azure", "prod-gcp"];
const SCHEMAS = path.join(PROJECT_ROOT, ".tools", "kubernetes-json-schema");
/**
 * Custom resources: no schema in the Kubernetes distribution. Their own schemas check them in
 * tests/gcp-helm.test.ts and tests/azure.test.ts (kubernetes-models, Gateway API models, GKE CRDs).
 */
const CRD_KINDS = ["Gateway", "GatewayClass", "HTTPRoute", "GCPBackendPolicy", "HealthCheckPolicy", "BackendTrafficPolicy", "EnvoyProxy", "Certificate", "Issuer"];

type Json = Record<string, unknown>;

/** Every manifest of a stack: the APFA chart per slot (helm template), then the plan's own objects. */
function renderStack(helm: string, plan: Plan, dir: string): Json[] {
    fs.mkdirSync(dir, { recursive: true });
    const all: Json[] = [];
    for (const r of plan.resources) {
        const inputs = r.inputs as Json;
        if (r.type === "kubernetes:helm.sh/v3:Release" && /(^|\/)charts\/apfa$/.test(String(inputs.chart))) {
            const values = path.join(dir, `${String(inputs.name)}.values.json`);
            fs.writeFileSync(values, JSON.stringify(inputs.values));
            const res = spawnSync(helm, ["template", String(inputs.name), path.join(PROJECT_ROOT, "charts", "apfa"), "--namespace", String(inputs.namespace), "--kube-version", KUBE_VERSION, "-f", values], { encoding: "utf8", timeout: 60_000 });
            fs.rmSync(values);
            assert.equal(res.status, 0, `helm template ${String(inputs.name)}: ${res.stderr}`);
            fs.writeFileSync(path.join(dir, `chart-${String(inputs.name)}.yaml`), res.stdout);
            all.push(...parseAllDocuments(res.stdout).map((d) => d.toJS() as Json).filter((d) => d && d.kind));
        } else if (r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm.sh/") && inputs.kind) {
            const manifest = structuredClone(inputs);
            // The synth redacts Pulumi secrets; a Secret's data keeps its shape with a stand-in value.
            for (const key of ["stringData", "data"]) {
                if (manifest[key] === "[secret]") {
                    manifest[key] = { redacted: key === "data" ? "eA==" : "x" };
                }
            }
            fs.writeFileSync(path.join(dir, `${String(manifest.kind)}-${r.name}.yaml`), stringify(manifest));
            all.push(manifest);
        }
    }
    return all;
}

/** kubernetes-validate's schemas reference one shared definitions file by an absolute path; kubeconform wants each kind standalone. */
function standaloneSchemas(kinds: { kind: string; apiVersion: string }[], out: string): void {
    const source = path.join(SCHEMAS, `v${KUBE_VERSION}-local-strict`);
    const defs = (JSON.parse(fs.readFileSync(path.join(source, "_definitions.json"), "utf8")) as { $defs: unknown }).$defs;
    fs.mkdirSync(out, { recursive: true });
    for (const { kind, apiVersion } of kinds) {
        const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
        const file = `${kind.toLowerCase()}${group ? `-${group.split(".")[0]}` : ""}-${version}.json`;
        const text = fs.readFileSync(path.join(source, file), "utf8").split("/api/_definitions.json#").join("#");
        const schema = JSON.parse(text) as Json;
        delete schema.$schema; // the 2020-12 meta-schema would be fetched over the network
        schema.$defs = defs;
        fs.writeFileSync(path.join(out, file), JSON.stringify(schema));
    }
}

/** A Deployment every scanner must reject: privileged, root, no probes, no limits, :latest. */
const BAD_DEPLOYMENT = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "bad", namespace: "control" },
    spec: {
        replicas: 1,
        selector: { matchLabels: { app: "bad" } },
        template: { metadata: { labels: { app: "bad" } }, spec: { containers: [{ name: "bad", image: "nginx:latest", securityContext: { privileged: true }, bogusField: true }] } },
    },
};

describe("scanners on the rendered chart and the program's manifests", function () {
    this.timeout(180_000);
    let tmp: string;
    let checkov: string;
    let kubeScore: string;
    let kubeconform: string;
    const manifests: Record<string, Json[]> = {};

    before(function () {
        const helm = requireTool(this, "helm");
        checkov = requireTool(this, "checkov");
        kubeScore = requireTool(this, "kube-score");
        kubeconform = requireTool(this, "kubeconform");
        if (!fs.existsSync(path.join(SCHEMAS, `v${KUBE_VERSION}-local-strict`))) {
            const why = `no offline schemas for Kubernetes ${KUBE_VERSION} in ${SCHEMAS}; run \`npm run tools\``;
            if (process.env.CI && process.env.CI !== "false") {
                throw new Error(`CI must run every test, but ${why}`);
            }
            console.warn(`      skipped: ${why}`);
            this.skip();
        }
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-scanners-"));
        for (const stack of STACKS) {
            manifests[stack] = renderStack(helm, synthStack(stack), path.join(tmp, "scan", "manifests", stack));
        }
        fs.mkdirSync(path.join(tmp, "scan", "control"));
        fs.writeFileSync(path.join(tmp, "scan", "control", "bad.yaml"), stringify(BAD_DEPLOYMENT));
    });

    after(() => {
        if (tmp) {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });

    it("renders the chart for both slots and every manifest of both Kubernetes stacks", function () {
        for (const stack of STACKS) {
            const kinds = manifests[stack].map((m) => m.kind);
            for (const kind of ["Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "Namespace", "ConfigMap", "Secret", "Gateway", "HTTPRoute"]) {
                assert.ok(kinds.includes(kind), `${stack}: no ${kind} rendered`);
            }
            // Both slots' chart Deployments plus the monitoring services'.
            assert.ok(manifests[stack].filter((m) => m.kind === "Deployment").length >= 5, stack);
        }
    });

    it("kubeconform (strict, offline schemas): every object valid; the control is rejected", function () {
        const core = Object.values(manifests)
            .flat()
            .filter((m) => !CRD_KINDS.includes(String(m.kind)));
        const kinds = [...new Map(core.map((m) => [`${String(m.apiVersion)}/${String(m.kind)}`, { kind: String(m.kind), apiVersion: String(m.apiVersion) }])).values()];
        const schemas = path.join(tmp, "schemas");
        standaloneSchemas(kinds, schemas);
        const run = (target: string) =>
            spawnSync(kubeconform, ["-strict", "-summary", "-output", "json", "-skip", CRD_KINDS.join(","), "-schema-location", path.join(schemas, "{{ .ResourceKind }}{{ .KindSuffix }}.json"), target], {
                encoding: "utf8",
                timeout: 60_000,
            });
        const res = run(path.join(tmp, "scan", "manifests"));
        const report = JSON.parse(res.stdout) as { resources?: { filename: string; kind: string; name: string; status: string; msg: string }[]; summary: { valid: number; invalid: number; errors: number; skipped: number } };
        assert.deepEqual((report.resources ?? []).filter((r) => r.status !== "statusValid" && r.status !== "statusSkipped"), []);
        assert.equal(report.summary.valid, core.length);
        assert.equal(res.status, 0, res.stderr);

        const control = run(path.join(tmp, "scan", "control"));
        assert.notEqual(control.status, 0);
        assert.match(control.stdout, /additional properties 'bogusField' not allowed/);
    });

    it("checkov (--framework kubernetes): no failed check; every skip carries its reason; the control fails", function () {
        const res = spawnSync(checkov, ["-d", path.join(tmp, "scan"), "--framework", "kubernetes", "-o", "json", "--compact", "--skip-download"], { encoding: "utf8", timeout: 150_000, maxBuffer: 64 * 1024 * 1024 });
        assert.ok(res.stdout.trim().startsWith("{") || res.stdout.trim().startsWith("["), `checkov printed no report:\n${res.stderr}`);
        const reports = [JSON.parse(res.stdout)].flat() as { results: { failed_checks: { check_id: string; resource: string; file_path: string }[]; skipped_checks?: { check_id: string; resource: string; suppress_comment?: string }[] } }[];
        const failed = reports.flatMap((r) => r.results.failed_checks);
        const isControl = (f: { file_path: string }) => f.file_path.startsWith("/control/");
        assert.deepEqual(
            failed.filter((f) => !isControl(f)).map((f) => `${f.check_id} ${f.resource} ${f.file_path}`),
            [],
        );
        const controlFailures = new Set(failed.filter(isControl).map((f) => f.check_id));
        // CKV_K8S_16: privileged; CKV_K8S_14: :latest; CKV_K8S_8/9: no probes.
        for (const check of ["CKV_K8S_16", "CKV_K8S_14", "CKV_K8S_8", "CKV_K8S_9"]) {
            assert.ok(controlFailures.has(check), `the control did not fail ${check}`);
        }
        const skipped = reports.flatMap((r) => r.results.skipped_checks ?? []).map((s) => ({ ...s, suppress_comment: (s as { check_result?: { suppress_comment?: string } }).check_result?.suppress_comment }));
        assert.ok(skipped.length > 0, "no suppression seen: are the annotations rendered?");
        for (const s of skipped) {
            assert.ok((s.suppress_comment ?? "").length >= 20, `${s.check_id} on ${s.resource} is skipped without a reason`);
        }
    });

    it("kube-score: no critical or warning finding left; the control scores critical", function () {
        type Check = { check: { id: string }; grade: number; skipped: boolean; comments: { summary: string }[] | null };
        const score = (files: string[]) => {
            const res = spawnSync(kubeScore, ["score", "--output-format", "json", "--kubernetes-version", `v${KUBE_VERSION.split(".").slice(0, 2).join(".")}`, ...files], { encoding: "utf8", timeout: 60_000 });
            return JSON.parse(res.stdout) as { object_name: string; type_meta: { kind: string }; checks: Check[] }[];
        };
        for (const stack of STACKS) {
            // One run per stack: checks such as pod-networkpolicy look across the stack's objects.
            const dir = path.join(tmp, "scan", "manifests", stack);
            const objects = score(fs.readdirSync(dir).map((f) => path.join(dir, f)));
            const findings = objects.flatMap((o) =>
                o.checks.filter((c) => !c.skipped && c.grade > 0 && c.grade <= 5).map((c) => `${o.type_meta.kind}/${o.object_name}: ${c.check.id} (${(c.comments ?? []).map((m) => m.summary).join("; ")})`),
            );
            assert.deepEqual(findings, [], `${stack}: kube-score findings`);
        }
        const control = score([path.join(tmp, "scan", "control", "bad.yaml")]);
        const critical = control[0].checks.filter((c) => !c.skipped && c.grade === 1).map((c) => c.check.id);
        assert.ok(critical.includes("container-security-context-privileged"), `control: ${critical.join(", ")}`);
    });

    it("every suppression in the manifests is in the scanner's own format with a reason", function () {
        for (const m of Object.values(manifests).flat()) {
            const annotations = ((m.metadata as Json | undefined)?.annotations ?? {}) as Record<string, string>;
            for (const [key, value] of Object.entries(annotations)) {
                if (key.startsWith("checkov.io/skip")) {
                    assert.match(key, /^checkov\.io\/skip\d+$/);
                    assert.match(value, /^CKV_K8S_\d+=.{20,}$/, `${String(m.kind)} ${key}`);
                }
                if (key === "kube-score/ignore") {
                    assert.match(value, /^[a-z-]+(,[a-z-]+)*$/);
                }
            }
        }
    });
});
