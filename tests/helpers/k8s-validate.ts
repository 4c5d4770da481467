/**
 * Validates Kubernetes manifests against the Kubernetes OpenAPI schemas (kubernetes-models) and the
 * Gateway API schemas (@kubernetes-models/gateway-api), choosing the model by apiVersion + kind.
 *
 * Works for any manifest object: rendered chart output, the recorded inputs of a synth plan
 * (`plan.resources[].inputs` of `kubernetes:*` resources), or what a pure builder returns.
 *
 * Limits (the models' own): types, required fields, enums, formats and ranges are checked; unknown
 * fields are not rejected (the API server prunes or rejects those), and CRDs outside the two packages
 * (e.g. Envoy Gateway's EnvoyProxy) have no model: `hasModel()` says whether one exists.
 */

/** What a kubernetes-models class looks like at runtime. */
interface ModelClass {
    new (data: unknown): { validate(): void; toJSON(): unknown };
}

/** Core groups live in kubernetes-models; Gateway API groups in @kubernetes-models/gateway-api. */
function modulePath(apiVersion: string): string {
    if (apiVersion.startsWith("gateway.networking.k8s.io/") || apiVersion.startsWith("gateway.networking.x-k8s.io/")) {
        return `@kubernetes-models/gateway-api/${apiVersion}`;
    }
    return `kubernetes-models/${apiVersion}`;
}

const modules = new Map<string, Promise<Record<string, unknown> | undefined>>();

async function loadModule(apiVersion: string): Promise<Record<string, unknown> | undefined> {
    let loaded = modules.get(apiVersion);
    if (!loaded) {
        // Both packages are ESM-only: a dynamic import loads them from this CommonJS test code.
        loaded = (import(modulePath(apiVersion)) as Promise<Record<string, unknown>>).catch(() => undefined);
        modules.set(apiVersion, loaded);
    }
    return loaded;
}

async function modelFor(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
    const mod = await loadModule(apiVersion);
    const model = mod?.[kind];
    return typeof model === "function" ? (model as ModelClass) : undefined;
}

/** True when a schema model exists for this apiVersion + kind. */
export async function hasModel(apiVersion: string, kind: string): Promise<boolean> {
    return (await modelFor(apiVersion, kind)) !== undefined;
}

/** `Kind namespace/name` of a manifest, for messages. */
export function describeManifest(manifest: unknown): string {
    const m = (manifest ?? {}) as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
    const ns = m.metadata?.namespace ? `${String(m.metadata.namespace)}/` : "";
    return `${String(m.kind)} ${ns}${String(m.metadata?.name ?? "<generated name>")}`;
}

/**
 * Validates one manifest. Throws with the object's kind/name and every schema error, or when no
 * model exists for its apiVersion + kind (a manifest that cannot be checked is not "valid").
 */
export async function validateManifest(manifest: unknown): Promise<void> {
    if (typeof manifest !== "object" || manifest === null) {
        throw new Error(`not a manifest object: ${JSON.stringify(manifest)}`);
    }
    const { apiVersion, kind } = manifest as { apiVersion?: unknown; kind?: unknown };
    if (typeof apiVersion !== "string" || typeof kind !== "string") {
        throw new Error(`manifest without apiVersion/kind: ${JSON.stringify(manifest).slice(0, 200)}`);
    }
    const Model = await modelFor(apiVersion, kind);
    if (!Model) {
        throw new Error(`no schema model for ${apiVersion} ${kind} (${describeManifest(manifest)})`);
    }
    try {
        new Model(manifest).validate();
    } catch (err) {
        const detail = err instanceof Error ? err.message : String(err);
        throw new Error(`${describeManifest(manifest)} (${apiVersion}) is invalid: ${detail}`);
    }
}

/** Validates every manifest; returns one message per invalid one (empty: all valid). */
export async function validateManifests(manifests: readonly unknown[]): Promise<string[]> {
    const problems: string[] = [];
    for (const manifest of manifests) {
        try {
            await validateManifest(manifest);
        } catch (err) {
            problems.push(err instanceof Error ? err.message : String(err));
        }
    }
    return problems;
}

/** What the synth plan shows instead of a secret value (scripts/synth/run.ts). */
const REDACTED = "[secret]";

/** A synth plan resource of the Kubernetes provider, as the manifest the provider would apply. */
export interface PlannedKubernetesResource {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, unknown>;
}

/**
 * The manifest a `kubernetes:<group/version>:<Kind>` plan resource stands for: its recorded inputs
 * with apiVersion/kind filled in from the type token (typed SDK classes do not send them). Helm
 * releases/charts and providers are not manifests: `undefined`.
 */
export function manifestOf(resource: PlannedKubernetesResource): Record<string, unknown> | undefined {
    const match = /^kubernetes:(.+):([A-Za-z0-9]+)$/.exec(resource.type);
    if (!match || match[1].startsWith("helm.sh/")) {
        return undefined;
    }
    const groupVersion = match[1].startsWith("core/") ? match[1].slice("core/".length) : match[1];
    const manifest: Record<string, unknown> = { ...resource.inputs, apiVersion: groupVersion, kind: match[2] };
    // The SDK makes a Secret's whole data/stringData a Pulumi secret, which the plan redacts to a
    // string; validate the rest of the object with an empty map in its place.
    for (const key of ["data", "stringData"]) {
        if (manifest[key] === REDACTED) {
            manifest[key] = {};
        }
    }
    return manifest;
}
