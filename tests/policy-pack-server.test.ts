/**
 * The pack served exactly as `pulumi preview --policy-pack policy` serves it: the pack's own
 * process (policy/index.ts, cwd policy/, as the CLI's analyzer plugin starts it) runs
 * @pulumi/policy's gRPC analyzer server, and this test is the engine: it asks for the pack's info,
 * sends the policy config a `--policy-pack-config` file would, and analyzes resources over the
 * Analyzer protocol. This is what the CLI-less harness stands in for everywhere else.
 */
import * as assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";

import * as grpc from "@grpc/grpc-js";
import * as analyzerRpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzer from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";

import { packConfigFor } from "../policy/config";
import { runPolicies } from "../policy/harness";
import { UNKNOWN } from "../policy/rule";
import { RULES } from "../policy/rules";
import { PROJECT_ROOT } from "../scripts/synth/stack-config";
import { synthStack, type Plan } from "./helpers/synth";

const PACK_DIR = path.join(PROJECT_ROOT, "policy");
const DESCRIPTION = "RDS/Aurora instances are not publicly accessible: the database is reached only from the tasks inside the VPC.";

function call<Req, Res>(fn: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown, req: Req): Promise<Res> {
    return new Promise((resolve, reject) => fn(req, (err, res) => (err ? reject(err) : resolve(res))));
}

function analyzeRequest(type: string, name: string, props: Record<string, unknown>, protect = false): analyzer.AnalyzeRequest {
    const options = new analyzer.AnalyzerResourceOptions();
    options.setProtect(protect);
    return new analyzer.AnalyzeRequest()
        .setType(type)
        .setName(name)
        .setUrn(`urn:pulumi:test::apfa::${type}::${name}`)
        .setProperties(Struct.fromJavaScript(props as never))
        .setOptions(options);
}

/** A plan value as the engine sends it: the synth's "[unknown]" becomes the wire sentinel. */
function engineValue(value: unknown): unknown {
    if (value === "[unknown]") {
        return UNKNOWN;
    }
    if (Array.isArray(value)) {
        return value.map(engineValue);
    }
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, engineValue(v)]));
    }
    return value;
}

function stackResources(plan: Plan): analyzer.AnalyzerResource[] {
    const stackUrn = `urn:pulumi:${plan.stack}::apfa::pulumi:pulumi:Stack::apfa-${plan.stack}`;
    const options = () => new analyzer.AnalyzerResourceOptions().setProtect(false);
    return [
        new analyzer.AnalyzerResource().setType("pulumi:pulumi:Stack").setName(`apfa-${plan.stack}`).setUrn(stackUrn).setProperties(Struct.fromJavaScript(engineValue(plan.outputs) as never)).setOptions(options()),
        ...plan.resources.map((r) =>
            new analyzer.AnalyzerResource()
                .setType(r.type)
                .setName(r.name)
                .setUrn(r.urn)
                .setParent(r.parent)
                .setDependenciesList(r.options.dependsOn)
                .setProperties(Struct.fromJavaScript(engineValue(r.inputs) as never))
                .setOptions(options().setProtect(r.options.protect)),
        ),
    ];
}

describe("the pack over the Pulumi analyzer protocol (as the CLI runs it)", function () {
    this.timeout(120_000);
    let pack: ChildProcess;
    let client: analyzerRpc.AnalyzerClient;

    before(async function () {
        pack = spawn(process.execPath, ["--import", "tsx", "index.ts"], { cwd: PACK_DIR, stdio: ["ignore", "pipe", "pipe"] });
        let stderr = "";
        pack.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        // The server prints its port on its first line of stdout, as the CLI expects.
        const port = await new Promise<number>((resolve, reject) => {
            let out = "";
            const timer = setTimeout(() => reject(new Error(`the pack printed no port within 90 s:\n${stderr}`)), 90_000);
            pack.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
                out += chunk;
                const m = /^(\d+)\s*$/m.exec(out);
                if (m) {
                    clearTimeout(timer);
                    resolve(Number(m[1]));
                }
            });
            pack.on("exit", (code) => {
                clearTimeout(timer);
                reject(new Error(`the pack exited with ${code}:\n${stderr}`));
            });
        });
        client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });

    after(() => {
        client?.close();
        pack?.kill();
    });

    it("announces every rule with its enforcement level and description", async function () {
        const info = await call<Empty, analyzer.AnalyzerInfo>(client.getAnalyzerInfo.bind(client), new Empty());
        assert.equal(info.getName(), "apfa-policy");
        const policies = info.getPoliciesList();
        assert.deepEqual(policies.map((p) => p.getName()).sort(), RULES.map((r) => r.name).sort());
        for (const rule of RULES) {
            const p = policies.find((x) => x.getName() === rule.name);
            assert.equal(p?.getEnforcementlevel(), rule.enforcementLevel === "mandatory" ? analyzer.EnforcementLevel.MANDATORY : analyzer.EnforcementLevel.ADVISORY, rule.name);
            assert.equal(p?.getDescription(), rule.description);
        }
    });

    it("reports a violation of a typed rule as mandatory, and lets an unknown value pass", async function () {
        const analyze = client.analyze.bind(client);
        const bad = await call<analyzer.AnalyzeRequest, analyzer.AnalyzeResponse>(analyze, analyzeRequest("aws:rds/clusterInstance:ClusterInstance", "db-1", { publiclyAccessible: true }));
        const diagnostics = bad.getDiagnosticsList().map((d) => [d.getPolicyname(), d.getEnforcementlevel(), d.getMessage()]);
        // The server puts the rule's description above each message.
        assert.deepEqual(diagnostics, [["aws-databases-private", analyzer.EnforcementLevel.MANDATORY, `${DESCRIPTION}\npubliclyAccessible is true`]]);

        const unknown = await call<analyzer.AnalyzeRequest, analyzer.AnalyzeResponse>(analyze, analyzeRequest("aws:rds/clusterInstance:ClusterInstance", "db-1", { publiclyAccessible: UNKNOWN }));
        assert.deepEqual(unknown.getDiagnosticsList().map((d) => d.getPolicyname()), []);
    });

    /** Everything the server reports for a plan, resource by resource then the stack, as `<rule> <level> <urn>`. */
    async function serverFindings(plan: Plan): Promise<string[]> {
        const found: string[] = [];
        for (const r of plan.resources) {
            const res = await call<analyzer.AnalyzeRequest, analyzer.AnalyzeResponse>(client.analyze.bind(client), analyzeRequest(r.type, r.name, engineValue(r.inputs) as Record<string, unknown>, r.options.protect).setUrn(r.urn));
            // A resource's diagnostics are about the resource analyzed.
            found.push(...res.getDiagnosticsList().map((d) => `${d.getPolicyname()} ${d.getEnforcementlevel()} ${r.urn}`));
        }
        const stack = await call<analyzer.AnalyzeStackRequest, analyzer.AnalyzeResponse>(client.analyzeStack.bind(client), new analyzer.AnalyzeStackRequest().setResourcesList(stackResources(plan)));
        found.push(...stack.getDiagnosticsList().map((d) => `${d.getPolicyname()} ${d.getEnforcementlevel()} ${d.getUrn()}`));
        return found.sort();
    }

    async function harnessFindings(plan: Plan): Promise<string[]> {
        const level = (l: string) => (l === "mandatory" ? analyzer.EnforcementLevel.MANDATORY : analyzer.EnforcementLevel.ADVISORY);
        return (await runPolicies(plan)).violations.map((v) => `${v.rule} ${level(v.enforcementLevel)} ${v.urn ?? ""}`).sort();
    }

    for (const preview of [false, true]) {
        it(`finds on a whole stack${preview ? " preview" : ""} exactly what the CLI-less harness finds (prod-aws with a too-small autoscaler)`, async function () {
            const plan = synthStack("prod-aws", { "apfa:scaling": { minReplicas: 1, maxReplicas: 1 } }, { preview });
            const found = await serverFindings(plan);
            assert.deepEqual(found, await harnessFindings(plan));
            assert.ok(found.some((f) => f.startsWith("apfa-autoscaling 1 ")), found.join("\n"));
        });
    }

    for (const stack of ["dev", "prod-azure", "prod-gcp"]) {
        it(`finds on ${stack} exactly what the CLI-less harness finds`, async function () {
            const plan = synthStack(stack);
            assert.deepEqual(await serverFindings(plan), await harnessFindings(plan));
        });
    }

    it("applies a waiver from the policy config file: the rule reports advisory, prefixed with the reason", async function () {
        const config = packConfigFor({ "apfa:policy": { waivers: { "aws-databases-private": "a throwaway lab database, destroyed nightly" } } });
        const request = new analyzer.ConfigureAnalyzerRequest();
        for (const [rule, value] of Object.entries(config)) {
            const { enforcementLevel, ...props } = typeof value === "string" ? { enforcementLevel: value } : value;
            const policyConfig = new analyzer.PolicyConfig().setEnforcementlevel(enforcementLevel === "advisory" ? analyzer.EnforcementLevel.ADVISORY : analyzer.EnforcementLevel.MANDATORY).setProperties(Struct.fromJavaScript(props as never));
            request.getPolicyconfigMap().set(rule, policyConfig);
        }
        await call(client.configure.bind(client), request);
        const res = await call<analyzer.AnalyzeRequest, analyzer.AnalyzeResponse>(client.analyze.bind(client), analyzeRequest("aws:rds/clusterInstance:ClusterInstance", "db-1", { publiclyAccessible: true }));
        assert.deepEqual(
            res.getDiagnosticsList().map((d) => [d.getPolicyname(), d.getEnforcementlevel(), d.getMessage()]),
            [["aws-databases-private", analyzer.EnforcementLevel.ADVISORY, `${DESCRIPTION}\n[waived: a throwaway lab database, destroyed nightly] publiclyAccessible is true`]],
        );
    });
});
