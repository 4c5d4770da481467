/**
 * Pins what users see from the config loader: the exact error text for inputs with many problems at
 * once (schema, cross-field and secret-key rules of every cloud) and the `npm run schema` output.
 * The fixtures were recorded before the config moved into src/config/ and the per-cloud settings
 * modules; a refactor that changes a word, the order of the problems or the JSON Schema fails here.
 * Re-record only for an intended change: `APFA_RECORD_PINS=1 npx mocha tests/config-pin.test.ts`.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { ConfigError, configJsonSchema, parseConfig } from "../src/config";

const FIXTURES = path.join(__dirname, "fixtures", "config");
const record = process.env.APFA_RECORD_PINS === "1";

/** Inputs chosen so that every rule family fires at least once. */
const CASES: Record<string, { values: Record<string, unknown>; secretKeys?: string[] }> = {
    "aws-many": {
        values: {
            "apfa:cloud": "aws",
            "apfa:app": { cpu: 0.25, memoryMiB: 4096, port: 0, helthPath: "/x" },
            "apfa:scaling": { minReplicas: 20, maxReplicas: 4 },
            "apfa:release": { active: "green", previewWeight: 10, blue: { scaledDown: true } },
            "apfa:rollout": { steps: [50, 10], analysis: { windowSeconds: 5 } },
            "apfa:aws": { vpcCidr: "10.0.0.0/24", natGateways: "some", logRetentionDays: 2 },
            "apfa:gcp": {},
            "apfa:monitorng": {},
            "apfa:grafanaAdminPassword": "short",
        },
    },
    "azure-many": {
        values: {
            "apfa:cloud": "azure",
            "apfa:release": { blue: { image: "registry.example.com/apfa:1" } },
            "apfa:azure": {
                appPoolMinNodes: 9,
                appPoolMaxNodes: 3,
                availabilityZones: ["1", "1"],
                nodeSubnetCidr: "10.99.0.0/20",
                podCidr: "10.60.0.0/16",
                acrResourceId: "/subscriptions/x",
            },
            "apfa:tags": { team: "apfa" },
        },
        secretKeys: ["apfa:tags"],
    },
    "gcp-many": {
        values: {
            "apfa:cloud": "gcp",
            "apfa:release": { green: { image: "registry.example.com/apfa:1" } },
            "apfa:gcp": {
                minNodesPerZone: 5,
                maxNodesPerZone: 2,
                podsCidr: "10.60.0.0/14",
                masterCidr: "172.16.0.0/24",
                autopilot: true,
                gatewayClass: "gke-l7-rilb",
                proxyOnlyCidr: "10.60.0.0/23",
            },
            "apfa:tags": { "Cost Center": "a", "cost-center": "b" },
        },
    },
    "azure-cross-field": {
        values: {
            "apfa:cloud": "azure",
            "apfa:azure": { appPoolMinNodes: 9, appPoolMaxNodes: 3 },
            "apfa:docker": { replicasPerSlot: 2 },
        },
    },
    "gcp-cross-field": {
        values: {
            "apfa:cloud": "gcp",
            "apfa:release": { active: "green" },
            "apfa:gcp": {
                minNodesPerZone: 5,
                maxNodesPerZone: 2,
                podsCidr: "10.60.0.0/14",
                gatewayClass: "gke-l7-rilb",
                proxyOnlyCidr: "10.68.0.0/23",
            },
            "apfa:tags": { "Cost Center": "a", "cost-center": "b" },
        },
    },
    "aws-cross-field": {
        values: {
            "apfa:cloud": "aws",
            "apfa:app": { cpu: 4, memoryMiB: 4096 },
            "apfa:release": { blue: { image: "registry.example.com/apfa:1" } },
        },
    },
    "docker-and-cloud": {
        values: { "apfa:cloud": "dockr", "apfa:aws": {}, "apfa:docker": { replicasPerSlot: 0 } },
    },
};

function problemsOf(input: { values: Record<string, unknown>; secretKeys?: string[] }): string {
    try {
        parseConfig({ values: input.values, secretKeys: input.secretKeys, project: "apfa", stack: "pin" });
    } catch (err) {
        if (err instanceof ConfigError) {
            return err.message + "\n";
        }
        throw err;
    }
    throw new Error("expected a ConfigError");
}

function pinned(file: string, actual: string): void {
    const where = path.join(FIXTURES, file);
    if (record) {
        fs.writeFileSync(where, actual);
    }
    assert.equal(actual, fs.readFileSync(where, "utf8"), `${file} changed`);
}

describe("the config loader's user-visible output is pinned", () => {
    for (const [name, input] of Object.entries(CASES)) {
        it(`error text for ${name}`, () => pinned(`${name}.txt`, problemsOf(input)));
    }

    it("npm run schema", () => pinned("schema.json", JSON.stringify(configJsonSchema(), null, 2) + "\n"));
});
