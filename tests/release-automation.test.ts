/**
 * The Automation API stack driver, on a fake `Stack` handle (the Pulumi CLI cannot run here): what
 * it asks the CLI to do for each operation of the release tool.
 */
import * as assert from "node:assert/strict";
import type { ConfigMap, ConfigValue, OutputMap, UpOptions, UpResult } from "@pulumi/pulumi/automation";

import { AutomationStackDriver, type StackHandle } from "../tools/release/automation-driver";
import { RELEASE_CONFIG_KEYS } from "../tools/release/context";
import { SECRET_VALUE } from "../tools/release/driver";

class FakeHandle implements StackHandle {
    readonly calls: Array<[string, unknown]> = [];
    config: ConfigMap = {};

    /** Not part of StackHandle; kept so a driver that reached for it would show in `calls`. */
    async getAllConfig(): Promise<ConfigMap> {
        this.calls.push(["getAllConfig", undefined]);
        return this.config;
    }
    async getConfig(key: string): Promise<ConfigValue> {
        this.calls.push(["getConfig", key]);
        const value = this.config[key];
        if (!value) {
            throw new Error(`code: 255\n stderr: error: configuration key '${key}' not found for stack 'dev'`);
        }
        return value;
    }
    async setAllConfigJson(json: string): Promise<void> {
        this.calls.push(["setAllConfigJson", JSON.parse(json)]);
    }
    async up(opts?: UpOptions): Promise<UpResult> {
        this.calls.push(["up", { target: opts?.target, message: opts?.message, color: opts?.color }]);
        opts?.onOutput?.("Updating (dev)\n");
        return {
            stdout: "",
            stderr: "",
            outputs: {},
            summary: {
                kind: "update",
                startTime: new Date(),
                endTime: new Date(),
                version: 7,
                message: opts?.message ?? "",
                environment: {},
                config: {},
                result: "succeeded",
                resourceChanges: { update: 1, same: 41 },
            },
        };
    }
    async outputs(): Promise<OutputMap> {
        return { trafficUrn: { value: "urn:x", secret: false }, grafanaAdminPassword: { value: "hunter2hunter2", secret: true } };
    }
}

describe("Automation API stack driver", () => {
    it("writes apfa:release as one structured value (`pulumi config set-all --json` with objectValue)", async () => {
        const handle = new FakeHandle();
        const release = { active: "blue", previewWeight: 10, blue: { image: "r/apfa:1" }, green: { image: "r/apfa:2", env: {} } };
        await new AutomationStackDriver("dev", handle).writeRelease(release);
        assert.deepEqual(handle.calls, [
            ["setAllConfigJson", { "apfa:release": { value: JSON.stringify(release), objectValue: release, secret: false } }],
        ]);
    });

    it("reads apfa:release alone (no other key decrypted), and undefined when it is not set", async () => {
        const handle = new FakeHandle();
        const driver = new AutomationStackDriver("dev", handle);
        assert.equal(await driver.readRelease(), undefined);
        handle.config["apfa:release"] = { value: '{"active":"green","previewWeight":0}', secret: false };
        assert.deepEqual(await driver.readRelease(), { active: "green", previewWeight: 0 });
        assert.ok(handle.calls.every(([call]) => call === "getConfig"));
        handle.config["apfa:release"] = { value: "{}", secret: true };
        await assert.rejects(driver.readRelease(), /stored as a secret/);
    });

    it("reads only the keys the release tool needs, one `pulumi config get` each, and never decrypts a secret", async () => {
        const handle = new FakeHandle();
        handle.config = {
            "apfa:cloud": { value: "aws", secret: false },
            "apfa:rollout": { value: '{"steps":[25,100]}', secret: false },
            "aws:region": { value: "eu-west-1", secret: false },
            "apfa:grafanaAdminPassword": { value: "s3cret-s3cret", secret: true },
            "apfa:tags": { value: '{"team":"a"}', secret: false },
        };
        const values = await new AutomationStackDriver("dev", handle).readConfig(RELEASE_CONFIG_KEYS);
        assert.deepEqual(values, { "apfa:cloud": "aws", "apfa:rollout": { steps: [25, 100] }, "aws:region": "eu-west-1" });
        assert.deepEqual(handle.calls.map(([call]) => call), RELEASE_CONFIG_KEYS.map(() => "getConfig"), "no getAllConfig (--show-secrets)");
        assert.deepEqual(handle.calls.map(([, key]) => key).sort(), [...RELEASE_CONFIG_KEYS].sort());
        assert.ok(!handle.calls.some(([, key]) => key === "apfa:grafanaAdminPassword"), "the secret is never asked for");
    });

    it("refuses a needed key stored as a secret instead of reading it into the release", async () => {
        const handle = new FakeHandle();
        handle.config = { "apfa:cloud": { value: "aws", secret: false }, "apfa:app": { value: "{}", secret: true } };
        await assert.rejects(new AutomationStackDriver("dev", handle).readConfig(["apfa:cloud", "apfa:app"]), /apfa:app is stored as a secret/);
    });

    it("runs `pulumi up --target <urn>` with a message, and reports the resource changes", async () => {
        const handle = new FakeHandle();
        const lines: string[] = [];
        const outcome = await new AutomationStackDriver("dev", handle).up({ target: ["urn:x"], message: "apfa release r1: rollback", onOutput: (l) => lines.push(l) });
        assert.deepEqual(handle.calls, [["up", { target: ["urn:x"], message: "apfa release r1: rollback", color: "never" }]]);
        assert.deepEqual(outcome.changes, { update: 1, same: 41 });
        assert.deepEqual(lines, ["Updating (dev)\n"]);
    });

    it("hides secret outputs", async () => {
        const outputs = await new AutomationStackDriver("dev", new FakeHandle()).outputs();
        assert.deepEqual(outputs, { trafficUrn: "urn:x", grafanaAdminPassword: SECRET_VALUE });
    });
});
