import * as assert from "node:assert/strict";

import { ConfigError, parseConfig } from "../src/config";
import { ACCEPT_PLACEHOLDERS_KEY, listStacks, readSampleStack, readStackFile } from "../scripts/synth/stack-config";
import { synthError } from "./helpers/synth";

/** The problems of config under a given project and stack name, or []. */
function problemsOf(raw: { values: Record<string, unknown>; project: string; stack: string }): string[] {
    try {
        parseConfig(raw);
        return [];
    } catch (err) {
        if (err instanceof ConfigError) {
            return [...err.problems];
        }
        throw err;
    }
}

/** Parses config given as namespaced keys (like a stack file), returning the problems or []. */
function problems(values: Record<string, unknown>): string[] {
    return problemsOf({ values, project: "apfa", stack: "test" });
}

const awsBase = {
    "apfa:cloud": "aws",
    "aws:region": "eu-west-1",
    "apfa:release": { blue: { image: "registry.example.com/apfa:1.0.0" } },
};

describe("stack config", () => {
    describe("every real stack file validates", () => {
        for (const stack of listStacks()) {
            it(`Pulumi.${stack}.yaml`, () => {
                const config = parseConfig({ values: readSampleStack(stack), project: "apfa", stack });
                assert.ok(["docker", "aws", "azure", "gcp"].includes(config.cloud));
                assert.equal(config.prefix, `apfa-${stack}`);
            });
        }
    });

    describe("sample values no real deploy can use fail before anything is created", () => {
        it("prod-aws as shipped names an image and a certificate in AWS's documentation account: refused, each named", () => {
            const values = readStackFile("prod-aws");
            assert.equal(values[ACCEPT_PLACEHOLDERS_KEY], undefined, "the stack file itself does not opt out");
            const found = problems(values);
            assert.deepEqual(found, [
                "apfa:release.blue.image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/apfa:1.0.0 is in AWS's documentation account 123456789012, " +
                    "so no task can pull it (the deploy would time out after 10-20 minutes); push APFA's image to your registry and set its reference",
                "apfa:release.green.image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/apfa:1.0.0 is in AWS's documentation account 123456789012, " +
                    "so no task can pull it (the deploy would time out after 10-20 minutes); push APFA's image to your registry and set its reference",
                "apfa:aws.certificateArn: arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000 is in AWS's documentation account 123456789012; set your ACM certificate's ARN",
            ]);
        });

        it("the offline synth and the tests opt out explicitly with apfa:acceptPlaceholders", () => {
            assert.deepEqual(problems({ ...readStackFile("prod-aws"), [ACCEPT_PLACEHOLDERS_KEY]: true }), []);
        });

        it("an image in a real account passes", () => {
            const values = { ...awsBase, "apfa:release": { blue: { image: "210987654321.dkr.ecr.eu-west-1.amazonaws.com/apfa:1.0.0" } } };
            assert.deepEqual(problems(values), []);
        });
    });

    it("an aws stack whose project-stack name would push a target group's name past AWS's 32 characters is refused", () => {
        const values = { ...awsBase };
        assert.deepEqual(problemsOf({ values, project: "apfa", stack: "prod-aws-usw2" }), []);
        // 18 characters: apfa-prod-aws-usw2-green + 8 = 32, the limit; one more is too many.
        assert.deepEqual(problemsOf({ values, project: "apfa", stack: "prod-aws-usw2x" }), [
            "apfa-prod-aws-usw2x (project-stack name): too long for the aws target: its target group apfa-prod-aws-usw2x-green plus " +
                "Pulumi's 8-character suffix exceeds AWS's 32-character limit; use a project-stack name of at most 18 characters",
        ]);
    });

    describe("a stack tagged environment: production serves users over HTTPS only", () => {
        const production = { ...awsBase, "apfa:tags": { environment: "production" } };

        it("refuses plain HTTP, naming the TLS key to set", () => {
            assert.deepEqual(problems(production), [
                "apfa:aws.certificateArn: required for a stack tagged environment: production, which serves users over HTTPS only " +
                    "(or set apfa:allowPlainHttp to true if TLS ends in front of this stack)",
            ]);
        });

        it("accepts a certificate, or the explicit opt-out; other environments are not held to it", () => {
            const certificateArn = "arn:aws:acm:eu-west-1:210987654321:certificate/11111111-2222-3333-4444-555555555555";
            assert.deepEqual(problems({ ...production, "apfa:aws": { certificateArn, domainName: "apfa.example.com" } }), []);
            assert.deepEqual(problems({ ...production, "apfa:allowPlainHttp": true }), []);
            assert.deepEqual(problems({ ...awsBase, "apfa:tags": { environment: "staging" } }), []);
        });
    });

    describe("defaults live in one place and fill a minimal stack", () => {
        it("cloud stacks default to 4-16 replicas at 70 % CPU, APFA on port 8000 with /health and /metrics", () => {
            const config = parseConfig({ values: awsBase, project: "apfa", stack: "t" });
            assert.deepEqual(
                { ...config.scaling },
                { minReplicas: 4, maxReplicas: 16, targetCpuPercent: 70, scaleOutCooldownSeconds: 60, scaleInCooldownSeconds: 300 },
            );
            assert.equal(config.app.port, 8000);
            assert.equal(config.app.healthPath, "/health");
            assert.equal(config.app.metricsPath, "/metrics");
            assert.deepEqual({ active: config.release.active, previewWeight: config.release.previewWeight }, { active: "blue", previewWeight: 0 });
        });

        it("the docker target needs no image: it builds the reference app", () => {
            const config = parseConfig({ values: { "apfa:cloud": "docker" }, project: "apfa", stack: "dev" });
            assert.equal(config.cloud, "docker");
            if (config.cloud === "docker") {
                assert.equal(config.docker.buildContext, "app");
                assert.equal(config.docker.proxyPort, 8000);
            }
        });
    });

    describe("each bad input is named with what was expected", () => {
        const cases: [string, Record<string, unknown>, RegExp][] = [
            ["unknown cloud", { "apfa:cloud": "openstack" }, /^apfa:cloud: .*"docker"\|"aws"\|"azure"\|"gcp"/],
            ["missing cloud", {}, /^apfa:cloud: required/],
            [
                "min > max",
                { ...awsBase, "apfa:scaling": { minReplicas: 20, maxReplicas: 16 } },
                /^apfa:scaling\.minReplicas: minReplicas must be less than or equal to maxReplicas/,
            ],
            ["weight 120", { ...awsBase, "apfa:release": { ...awsBase["apfa:release"], previewWeight: 120 } }, /^apfa:release\.previewWeight: .*<=100/],
            [
                "a Fargate CPU/memory pair AWS does not accept",
                { ...awsBase, "apfa:app": { cpu: 0.25, memoryMiB: 4096 } },
                /^apfa:app\.cpu\/memoryMiB: Fargate does not accept 0\.25 vCPU with 4096 MiB; with 0\.25 vCPU expected memoryMiB one of 512, 1024, 2048/,
            ],
            [
                "a vCPU Fargate does not offer",
                { ...awsBase, "apfa:app": { cpu: 0.3, memoryMiB: 1024 } },
                /^apfa:app\.cpu\/memoryMiB: .*expected app\.cpu to be one of 0\.25, 0\.5, 1, 2, 4, 8, 16 vCPU/,
            ],
            ["missing image on a cloud", { "apfa:cloud": "aws", "aws:region": "eu-west-1" }, /^apfa:release\.blue\.image: required on aws/],
            ["a misspelt apfa: key", { ...awsBase, "apfa:scalling": { minReplicas: 4 } }, /^apfa:scalling: unknown key \(did you mean apfa:scaling\?\)/],
            ["a misspelt nested key", { ...awsBase, "apfa:app": { helthPath: "/h" } }, /^apfa:app\.helthPath: unknown key/],
            ["a section of another cloud", { ...awsBase, "apfa:gcp": { region: "europe-west1" } }, /^apfa:gcp: only used when apfa:cloud is gcp/],
            ["aws without a region", { ...awsBase, "aws:region": undefined }, /^aws:region: required for the aws target/],
            ["a health path that is not a path", { ...awsBase, "apfa:app": { healthPath: "health" } }, /^apfa:app\.healthPath: expected an absolute URL path/],
            ["a slot that does not exist", { ...awsBase, "apfa:release": { active: "purple", blue: { image: "x/y:1" } } }, /^apfa:release\.active: .*"blue"\|"green"/],
            ["gcp without a project", { "apfa:cloud": "gcp", "apfa:release": { blue: { image: "x/y:1" } } }, /^apfa:gcp\.project: required/],
        ];
        for (const [what, values, expected] of cases) {
            it(what, () => {
                const found = problems(values);
                assert.ok(
                    found.some((p) => expected.test(p)),
                    `expected a problem matching ${expected}, got:\n${found.join("\n") || "(no problems)"}`,
                );
            });
        }
    });

    it("reports every problem of a stack at once, one line each", () => {
        const found = problems({
            "apfa:cloud": "aws",
            "aws:region": "eu-west-1",
            "apfa:scaling": { minReplicas: 20, maxReplicas: 16 },
            "apfa:release": { previewWeight: 120 },
            "apfa:app": { cpu: 0.25, memoryMiB: 4096, port: 70000 },
            "apfa:monitorin": {},
        });
        const keys = found.map((p) => p.split(":").slice(0, 2).join(":"));
        assert.deepEqual(
            keys.sort(),
            ["apfa:app.cpu/memoryMiB", "apfa:app.port", "apfa:monitorin", "apfa:release.previewWeight", "apfa:scaling.minReplicas"].sort(),
            found.join("\n"),
        );
    });

    it("the ConfigError message lists each problem on its own line", () => {
        assert.throws(
            () => parseConfig({ values: { "apfa:cloud": "nope", "apfa:foo": 1 }, project: "apfa", stack: "t" }),
            (err: unknown) =>
                err instanceof ConfigError &&
                /^Invalid stack configuration \(2 problems\):\n {2}- apfa:cloud: .*\n {2}- apfa:foo: unknown key$/.test(err.message),
        );
    });

    it("a bad stack file fails the program with that one error before any resource is registered", () => {
        const output = synthError("dev", {
            "apfa:release": { active: "purple", previewWeight: 120 },
            "apfa:docker": { replicasPerSlot: 0 },
            "apfa:scalling": {},
        });
        assert.match(output, /Invalid stack configuration \(4 problems\)/);
        for (const key of ["apfa:release.active", "apfa:release.previewWeight", "apfa:docker.replicasPerSlot", "apfa:scalling"]) {
            assert.ok(output.includes(`- ${key}:`), `missing ${key} in:\n${output}`);
        }
        assert.match(output, /had registered 0 resources when it failed/);
    });

    it("refuses a secret anywhere but apfa:grafanaAdminPassword, which would reach resource inputs in clear", () => {
        const values = { ...awsBase, "apfa:app": { env: { API_KEY: "s3cr3t" } }, "apfa:grafanaAdminPassword": "correct-horse-battery" };
        assert.throws(
            () => parseConfig({ values, project: "apfa", stack: "t", secretKeys: ["apfa:app", "apfa:grafanaAdminPassword", "aws:secretKey"] }),
            (err: unknown) =>
                err instanceof ConfigError &&
                err.problems.length === 1 &&
                /^apfa:app: holds a secret value, but only apfa:grafanaAdminPassword and apfa:alerting are kept secret/.test(err.problems[0]),
        );
        assert.doesNotThrow(() => parseConfig({ values, project: "apfa", stack: "t", secretKeys: ["apfa:grafanaAdminPassword"] }));
    });

    it("a stack file with a secure value in the app's environment fails the program before any resource", () => {
        const output = synthError("prod-aws", { "apfa:app": { env: { API_KEY: { secure: "v1:AAAA" } } } });
        assert.match(output, /- apfa:app: holds a secret value/);
        assert.match(output, /had registered 0 resources when it failed/);
    });

    it("the Grafana admin password from config stays a Pulumi secret", async () => {
        const config = parseConfig({ values: { "apfa:cloud": "docker", "apfa:grafanaAdminPassword": "correct-horse-battery" }, project: "apfa", stack: "dev" });
        assert.ok(config.grafanaAdminPassword);
        assert.equal(await (config.grafanaAdminPassword as unknown as { isSecret: Promise<boolean> }).isSecret, true);
    });
});
