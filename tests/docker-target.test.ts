import * as assert from "node:assert/strict";

import { changedResources, find, ofType, synthStack, type Plan, type PlannedResource } from "./helpers/synth";

const CONTAINER = "docker:index/container:Container";
const NETWORK = "docker:index/network:Network";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";

/**
 * A container's environment. With a database, PGPASSWORD is a secret element of the list, and the
 * mocks report the whole list as secret: read env from plans without one (NO_DATABASE); what the
 * database adds is checked in tests/database.test.ts.
 */
const NO_DATABASE = { "apfa:database": { enabled: false } };
function env(r: PlannedResource): Record<string, string> {
    assert.ok(Array.isArray(r.inputs.envs ?? []), `${r.name}'s envs are secret in this plan; synth it with NO_DATABASE`);
    const envs = (r.inputs.envs ?? []) as string[];
    return Object.fromEntries(envs.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

function nginxConf(plan: Plan): string {
    const uploads = find(plan, CONTAINER, "apfa-dev-proxy").inputs.uploads as { file: string; content: string }[];
    const conf = uploads.find((u) => u.file === "/etc/nginx/nginx.conf");
    assert.ok(conf, "the proxy gets its nginx.conf uploaded");
    return conf.content;
}

describe("dev stack (Docker target)", () => {
    let plan: Plan;
    before(() => {
        plan = synthStack("dev");
    });

    it("creates one private bridge network named after project and stack", () => {
        const networks = ofType(plan, NETWORK);
        assert.equal(networks.length, 1);
        assert.equal(networks[0].inputs.name, "apfa-dev");
        assert.equal(networks[0].inputs.driver, "bridge");
    });

    it("runs two replicas per slot, named apfa-dev-<slot>-<n>, on the network under the slot's alias", () => {
        const plain = synthStack("dev", NO_DATABASE);
        for (const slot of ["blue", "green"]) {
            for (const n of [1, 2]) {
                const c = find(plain, CONTAINER, `apfa-dev-${slot}-${n}`);
                assert.equal(c.inputs.name, `apfa-dev-${slot}-${n}`);
                assert.deepEqual(c.inputs.networksAdvanced, [{ name: "apfa-dev", aliases: [`apfa-${slot}`] }]);
                assert.equal(env(c).SLOT, slot);
                assert.equal(env(c).PORT, "8000");
            }
        }
    });

    it("publishes no APFA port: only the proxy is reachable from the host", () => {
        for (const c of ofType(plan, CONTAINER).filter((r) => /-(blue|green)-\d$/.test(r.name))) {
            assert.equal(c.inputs.ports, undefined, `${c.name} must not publish ports`);
        }
    });

    it("health-checks every APFA container on the health path and restarts it unless stopped", () => {
        for (const c of ofType(plan, CONTAINER).filter((r) => /-(blue|green)-\d$/.test(r.name))) {
            const hc = c.inputs.healthcheck as { tests: string[]; interval: string; retries: number };
            assert.equal(hc.tests[0], "CMD-SHELL");
            assert.match(hc.tests[1], /http:\/\/127\.0\.0\.1:8000\/health/);
            assert.equal(c.inputs.restart, "unless-stopped");
            assert.ok(hc.retries >= 1);
        }
    });

    it("builds the reference app from the build context once and runs it in both slots", () => {
        const built = ofType(plan, REMOTE_IMAGE).filter((r) => r.inputs.build !== undefined);
        assert.equal(built.length, 1);
        assert.equal(built[0].inputs.name, "apfa-dev-app:local");
        assert.match(String((built[0].inputs.build as { context: string }).context), /\/app$/);
        assert.match(String((built[0].inputs.triggers as { contextSha256: string }).contextSha256), /^[0-9a-f]{64}$/);
        const imageIds = new Set(ofType(plan, CONTAINER).filter((r) => /-(blue|green)-\d$/.test(r.name)).map((r) => r.inputs.image));
        assert.equal(imageIds.size, 1, "both slots run the same built image");
    });

    it("pulls a slot's own image when the release names one", () => {
        const p = synthStack("dev", { "apfa:release": { blue: {}, green: { image: "registry.example.com/apfa:2.0.0" } }, ...NO_DATABASE });
        const pulled = find(p, REMOTE_IMAGE, "apfa-dev-green-image");
        assert.equal(pulled.inputs.name, "registry.example.com/apfa:2.0.0");
        assert.equal(env(find(p, CONTAINER, "apfa-dev-green-1")).APP_VERSION, "registry.example.com/apfa:2.0.0");
        assert.notEqual(find(p, CONTAINER, "apfa-dev-green-1").inputs.image, find(p, CONTAINER, "apfa-dev-blue-1").inputs.image);
    });

    it("runs no container for a scaled-down slot", () => {
        const p = synthStack("dev", { "apfa:release": { active: "green", green: {}, blue: { scaledDown: true } } });
        assert.deepEqual(
            ofType(p, CONTAINER).map((c) => c.name).filter((n) => /-(blue|green)-\d$/.test(n)),
            ["apfa-dev-green-1", "apfa-dev-green-2"],
        );
        assert.match(nginxConf(p), /\* apfa-green:8000;/);
    });

    it("publishes the weighted proxy on 127.0.0.1:8000 only", () => {
        const proxy = find(plan, CONTAINER, "apfa-dev-proxy");
        assert.deepEqual(proxy.inputs.ports, [{ internal: 8080, external: 8000, ip: "127.0.0.1" }]);
        assert.equal(proxy.inputs.restart, "unless-stopped");
        assert.match((proxy.inputs.healthcheck as { tests: string[] }).tests[1], /proxy-health/);
    });

    it("sends all traffic to the active slot at rest", () => {
        const conf = nginxConf(plan);
        assert.match(conf, /split_clients "\$\{request_id\}" \$apfa_backend \{\n\s+\* apfa-blue:8000;\n\s+\}/);
        assert.deepEqual(plan.outputs.weights, { blue: 100, green: 0 });
    });

    it("carries the release weights into the proxy config (previewWeight 10 → green 10 %)", () => {
        const p = synthStack("dev", { "apfa:release": { active: "blue", previewWeight: 10 } });
        assert.match(nginxConf(p), /10% apfa-green:8000;\n\s+\* apfa-blue:8000;/);
        assert.deepEqual(p.outputs.weights, { blue: 90, green: 10 });
    });

    it("a weight change touches only the proxy (the traffic resource)", () => {
        const at10 = synthStack("dev", { "apfa:release": { active: "blue", previewWeight: 10 } });
        const at50 = synthStack("dev", { "apfa:release": { active: "blue", previewWeight: 50 } });
        assert.deepEqual(changedResources(at10, at50), [`${CONTAINER}::apfa-dev-proxy`]);
        assert.equal(at50.outputs.trafficUrn, find(at50, CONTAINER, "apfa-dev-proxy").urn);
    });

    it("replaces named containers delete-first, and starts the proxy after the slots", () => {
        for (const c of ofType(plan, CONTAINER)) {
            assert.equal(c.options.deleteBeforeReplace, true, `${c.name}: a fixed name needs delete-before-replace`);
        }
        const proxy = find(plan, CONTAINER, "apfa-dev-proxy");
        for (const n of ["apfa-dev-blue-1", "apfa-dev-green-2"]) {
            assert.ok(proxy.options.dependsOn.includes(find(plan, CONTAINER, n).urn), `proxy depends on ${n}`);
        }
    });

    it("parents every resource under a component (no stray top-level resources)", () => {
        const components = new Set(plan.resources.filter((r) => !r.custom).map((r) => r.urn));
        for (const r of plan.resources.filter((x) => x.custom)) {
            assert.ok(components.has(r.parent), `${r.type} ${r.name} has parent ${r.parent || "(stack)"}`);
        }
    });

    it("labels containers with the stack's tags", () => {
        const labels = find(plan, CONTAINER, "apfa-dev-blue-1").inputs.labels as { label: string; value: string }[];
        assert.ok(labels.some((l) => l.label === "environment" && l.value === "dev"));
        assert.ok(labels.some((l) => l.label === "com.apfa.stack" && l.value === "dev"));
    });

    it("loads no cloud SDK: only the Docker target's module is imported", () => {
        for (const sdk of ["@pulumi/aws", "@pulumi/azure-native", "@pulumi/gcp", "@pulumi/kubernetes"]) {
            assert.ok(!plan.loadedPackages.includes(sdk), `${sdk} was loaded by the dev stack: ${plan.loadedPackages.join(", ")}`);
        }
        assert.ok(plan.loadedPackages.includes("@pulumi/docker"));
    });

    it("exports the URL of the proxy", () => {
        assert.equal(plan.outputs.url, "http://localhost:8000");
        assert.equal(plan.outputs.cloud, "docker");
        assert.equal(plan.outputs.activeSlot, "blue");
    });
});
