/**
 * The policy pack over every stack, without the Pulumi CLI: each stack's plan (normal and preview
 * synth) through every rule with the stack's own policy config has no mandatory violation. And the
 * harness behaves as the engine does where that matters: unknowns, options, parents/dependencies,
 * the stack resource's outputs, enforcement levels from the policy config, waivers.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { unknownCheckingProxy, UnknownValueError } from "@pulumi/policy";

import { packConfigFor, PolicyConfigError } from "../policy/config";
import { mandatory, runPolicies, type PlanResource } from "../policy/harness";
import { UNKNOWN, UNKNOWN_SENTINELS, isUnknown, plain, resourceRule, stackRule } from "../policy/rule";
import { RULES } from "../policy/rules";
import { PROJECT_ROOT, listStacks, readStackFile } from "../scripts/synth/stack-config";
import { ConfigError, parseConfig } from "../src/config";
import { readSampleStack, synthStack } from "./helpers/synth";

const STACKS = listStacks();
const BASE_STACKS = ["dev", "prod-aws", "prod-azure", "prod-gcp"];

describe("policy pack over every stack", function () {
    this.timeout(240_000);

    it("covers the four sample stacks (and any stack file added since)", function () {
        for (const stack of BASE_STACKS) {
            assert.ok(STACKS.includes(stack), `Pulumi.${stack}.yaml missing`);
        }
    });

    // Every stack file as written; the previews of the four base stacks (each multi-region stack
    // repeats one of their targets, and a preview synth of all of them would double this file's time).
    for (const stack of STACKS) {
        for (const preview of BASE_STACKS.includes(stack) ? [false, true] : [false]) {
            it(`${stack}${preview ? " (preview)" : ""}: no mandatory violation`, async function () {
                const plan = synthStack(stack, {}, { preview });
                const result = await runPolicies(plan, { config: packConfigFor(readStackFile(stack)) });
                // Every resource of the plan (and the stack resource) went through the rules.
                assert.equal(result.resourcesChecked, plan.resources.length + 1);
                assert.deepEqual(
                    mandatory(result).map((v) => `${v.rule} ${v.resource}: ${v.message}`),
                    [],
                );
            });
        }
    }
});

describe("budget-monthly-cost over a real stack (tools/cost/ estimate)", function () {
    this.timeout(120_000);
    for (const preview of [false, true]) {
        it(`prod-aws${preview ? " (preview)" : ""}: fails a budget below the full-scale estimate naming the biggest items, passes a generous one`, async function () {
            const plan = synthStack("prod-aws", {}, { preview });
            const rule = RULES.filter((r) => r.name === "budget-monthly-cost");
            const at = (monthlyUsd: number) => packConfigFor({ ...readStackFile("prod-aws"), "apfa:budget": { monthlyUsd } });
            const over = await runPolicies(plan, { rules: rule, config: at(100) });
            assert.equal(mandatory(over).length, 1);
            // Two Aurora Serverless v2 instances and two Fargate slots at 16 tasks are far above 100 USD.
            assert.match(over.violations[0].message, /^over budget: the estimate at full scale is \$[\d,]+\.\d\d\/month, .* above apfa:budget\.monthlyUsd \$100\.00\. Biggest items: .*Aurora/);
            assert.deepEqual((await runPolicies(plan, { rules: rule, config: at(1_000_000) })).violations, []);
        });
    }

    it("does not apply to a stack without apfa:budget", async function () {
        const result = await runPolicies(synthStack("prod-aws"), { rules: RULES.filter((r) => r.name === "budget-monthly-cost"), config: packConfigFor(readStackFile("prod-aws")) });
        assert.deepEqual(result.violations, []);
        assert.deepEqual(result.notApplicable, [{ rule: "budget-monthly-cost", reason: "no apfa:budget.monthlyUsd for this stack" }]);
    });
});

describe("policy harness: as the engine runs a pack", function () {
    it("sends unknowns as the engine's sentinel, which @pulumi/policy's proxy recognises", function () {
        for (const sentinel of UNKNOWN_SENTINELS) {
            const props = unknownCheckingProxy({ value: sentinel });
            assert.throws(() => props.value, UnknownValueError, sentinel);
        }
        assert.ok(isUnknown(UNKNOWN));
        // The rules' plain() reads past the proxy without throwing.
        assert.equal(plain(unknownCheckingProxy({ value: UNKNOWN })).value, UNKNOWN);
    });

    it("turns a rule's read of an unknown through the proxy into an advisory, as the engine does", async function () {
        const reader = resourceRule(
            { name: "reads-through-proxy", area: "stack", enforcementLevel: "mandatory", description: "test rule that reads a field through the proxy" },
            (args, report) => {
                if (args.props.policy === "bad") {
                    report("bad");
                }
            },
        );
        const result = await runPolicies({ resources: [{ type: "aws:iam/rolePolicy:RolePolicy", name: "p", inputs: { policy: "[unknown]" } }] }, { rules: [reader] });
        assert.equal(result.violations.length, 1);
        assert.equal(result.violations[0].enforcementLevel, "advisory");
        assert.match(result.violations[0].message, /can't run policy 'reads-through-proxy' .* during preview: string value at \.policy can't be known during preview/);
    });

    it("lets an unknown pass in a preview, and checks the value once it is known", async function () {
        const rule = RULES.filter((r) => r.name === "aws-iam-no-admin-wildcards");
        const admin = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] });
        const at = (policy: string): PlanResource[] => [{ type: "aws:iam/rolePolicy:RolePolicy", name: "p", inputs: { role: "r", policy } }];
        assert.deepEqual((await runPolicies({ resources: at("[unknown]") }, { rules: rule })).violations, []);
        assert.equal(mandatory(await runPolicies({ resources: at(admin) }, { rules: rule })).length, 1);
    });

    it("gives validateResource the resource's type, name, URN, options and provider", async function () {
        const seen: Record<string, unknown>[] = [];
        const probe = resourceRule({ name: "probe", area: "stack", enforcementLevel: "advisory", description: "records what a resource rule receives" }, (args) => {
            seen.push({ type: args.type, name: args.name, urn: args.urn, protect: args.opts.protect, ignoreChanges: args.opts.ignoreChanges, parent: args.opts.parent, provider: args.provider?.type, timeout: args.opts.customTimeouts.createSeconds });
        });
        const providerUrn = "urn:pulumi:test::apfa::pulumi:providers:kubernetes::k8s";
        await runPolicies(
            {
                resources: [
                    { type: "pulumi:providers:kubernetes", name: "k8s", urn: providerUrn, inputs: {} },
                    {
                        type: "kubernetes:core/v1:Namespace",
                        name: "ns",
                        urn: "urn:ns",
                        parent: "urn:component",
                        provider: `${providerUrn}::provider-id`,
                        inputs: {},
                        options: { protect: true, ignoreChanges: ["metadata"], customTimeouts: { create: "10m" } },
                    },
                ],
            },
            { rules: [probe] },
        );
        assert.deepEqual(
            seen.find((s) => s.name === "ns"),
            { type: "kubernetes:core/v1:Namespace", name: "ns", urn: "urn:ns", protect: true, ignoreChanges: ["metadata"], parent: "urn:component", provider: "pulumi:providers:kubernetes", timeout: 600 },
        );
        // The engine also analyzes the stack resource itself.
        assert.ok(seen.some((s) => s.type === "pulumi:pulumi:Stack"));
    });

    it("gives validateStack every resource with parents, dependencies and the stack's outputs", async function () {
        const seen: Record<string, unknown> = {};
        const probe = stackRule({ name: "probe-stack", area: "stack", enforcementLevel: "advisory", description: "records what a stack rule receives" }, (args) => {
            const child = args.resources.find((r) => r.name === "child");
            const stackResource = args.resources.find((r) => r.type === "pulumi:pulumi:Stack");
            seen.parent = child?.parent?.name;
            seen.dependencies = child?.dependencies.map((d) => d.name);
            seen.url = stackResource?.props.url;
        });
        await runPolicies(
            {
                stack: "s",
                outputs: { url: "https://apfa.example.com" },
                resources: [
                    { type: "apfa:aws:EcsCluster", name: "parent", urn: "urn:parent", custom: false, inputs: {} },
                    { type: "aws:s3/bucket:Bucket", name: "dep", urn: "urn:dep", parent: "urn:parent", inputs: {} },
                    { type: "aws:s3/bucketPolicy:BucketPolicy", name: "child", urn: "urn:child", parent: "urn:parent", inputs: {}, options: { dependsOn: ["urn:dep"] } },
                ],
            },
            { rules: [probe] },
        );
        assert.deepEqual(seen, { parent: "parent", dependencies: ["dep"], url: "https://apfa.example.com" });
    });

    it("applies the policy config's enforcement levels: disabled skips a rule, a waiver reports it advisory with the reason", async function () {
        const resources: PlanResource[] = [{ type: "aws:cloudwatch/logGroup:LogGroup", name: "logs", inputs: {} }, { type: "aws:rds/clusterInstance:ClusterInstance", name: "db", inputs: { publiclyAccessible: true } }];
        const plain = await runPolicies({ resources });
        assert.deepEqual(plain.violations.map((v) => [v.rule, v.enforcementLevel]).sort(), [["aws-databases-private", "mandatory"], ["aws-log-retention", "advisory"]]);

        const disabled = await runPolicies({ resources }, { config: { "aws-log-retention": "disabled" } });
        assert.deepEqual(disabled.violations.map((v) => v.rule), ["aws-databases-private"]);

        const config = packConfigFor({ "apfa:policy": { waivers: { "aws-databases-private": "a bastion-less lab database, destroyed nightly" } } });
        const waived = await runPolicies({ resources }, { config });
        const db = waived.violations.find((v) => v.rule === "aws-databases-private");
        assert.equal(db?.enforcementLevel, "advisory");
        assert.equal(db?.message, "[waived: a bastion-less lab database, destroyed nightly] publiclyAccessible is true");
    });
});

describe("policy config from the stack (apfa:policy, apfa:budget)", function () {
    it("writes waivers, registries and the budget as the pack's policy config", function () {
        assert.deepEqual(
            packConfigFor({
                "apfa:policy": JSON.stringify({ waivers: { "gateway-https": "TLS ends at the corporate proxy in front" }, allowedRegistries: ["europe-west1-docker.pkg.dev/apfa-prod"] }),
                "apfa:budget": { monthlyUsd: 2500 },
                "apfa:cloud": "gcp",
                "apfa:gcp": { project: "apfa-prod", region: "europe-west4" },
                "apfa:cost": { assumptions: { egressGb: 500 } },
            }),
            {
                "gateway-https": { enforcementLevel: "advisory", waiver: "TLS ends at the corporate proxy in front" },
                "images-allowed-registries": { registries: ["europe-west1-docker.pkg.dev/apfa-prod"] },
                // The estimate prices where the stack runs, with the stack's own usage assumptions and
                // APFA's replicas from apfa:scaling (defaults 4 and 16), which a preview's chart values cannot tell.
                "budget-monthly-cost": { monthlyUsd: 2500, cloud: "gcp", region: "europe-west4", assumptions: { egressGb: 500 }, appReplicas: { atRest: 4, fullScale: 16 } },
            },
        );
        assert.deepEqual(packConfigFor({}), {});
    });

    it("refuses a waiver of a rule the pack does not have, naming the rules it has", function () {
        assert.throws(() => packConfigFor({ "apfa:policy": { waivers: { "no-such-rule": "because of reasons" } } }), (e: unknown) => {
            assert.ok(e instanceof PolicyConfigError);
            assert.match(e.message, /^apfa:policy\.waivers: no rule named no-such-rule in the pack \(rules: .*aws-alb-hardening.*\)$/);
            return true;
        });
    });

    it("is validated with the rest of the stack config: a waiver needs a reason", function () {
        const values = { ...readSampleStack("prod-aws"), "apfa:policy": { waivers: { "Gateway HTTPS": "no", "gateway-https": "short" } } };
        assert.throws(() => parseConfig({ values, project: "apfa", stack: "prod-aws" }), (e: unknown) => {
            assert.ok(e instanceof ConfigError);
            const text = e.problems.join("\n");
            assert.match(text, /apfa:policy\.waivers.*expected a policy rule name/);
            assert.match(text, /apfa:policy\.waivers\.gateway-https: say why the rule is waived \(at least 10 characters\)/);
            return true;
        });
    });
});

describe("npm run policy", function () {
    this.timeout(120_000);

    it("prints the violations as a table and exits 1 on a mandatory one", function () {
        // The plan the warm synth made (as `npm run synth -- --out DIR` writes it), so the CLI skips its own synth.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-policy-cli-"));
        const planFile = path.join(dir, "plan.json");
        fs.writeFileSync(planFile, JSON.stringify(synthStack("prod-aws", { "apfa:scaling": { minReplicas: 1, maxReplicas: 1 } })));
        const run = spawnSync(process.execPath, ["--import", "tsx", "policy/run.ts", "--stack", "prod-aws", "--plan", planFile], { cwd: PROJECT_ROOT, encoding: "utf8" });
        fs.rmSync(dir, { recursive: true, force: true });
        assert.equal(run.status, 1, run.stderr);
        assert.match(run.stdout, /^LEVEL +RULE +RESOURCE +MESSAGE$/m);
        assert.match(run.stdout, /^mandatory +apfa-autoscaling +stack +ECS service apfa-prod-aws-blue scales between 1 and 1; the maximum must be at least 2/m);
        assert.match(run.stdout, /^2 mandatory, 0 advisory$/m);
    });
});
