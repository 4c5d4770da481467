/**
 * `npm run release`: its command line, and the dry run end to end as a process (no Pulumi CLI
 * here, so it plans from the stack file and must change nothing).
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { HelpRequested, parseReleaseArgs, UsageError } from "../tools/release/args";
import { prometheusUrlFromOutputs } from "../tools/release/metric-source";
import { StackFileDriver } from "../tools/release/stack-file-driver";
import { PROJECT_ROOT } from "../scripts/synth/stack-config";
import { RELEASE_CONFIG_KEYS } from "../tools/release/context";

/** PATH without node_modules/.bin: its `pulumi` shim would try to download the CLI. */
const PATH_WITHOUT_PULUMI = (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter((dir) => !dir.includes("node_modules"))
    .join(path.delimiter);

function runCli(args: string[]) {
    return spawnSync(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "tools", "release", "main.ts"), ...args], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, PATH: PATH_WITHOUT_PULUMI },
        encoding: "utf8",
        timeout: 60_000,
    });
}

describe("release command line", () => {
    it("parses start with image, env overrides and dry run", () => {
        const args = parseReleaseArgs(["start", "--stack", "prod-aws", "--image", "r/apfa:2", "--env", "A=1", "--env", "B=", "--dry-run"]);
        assert.deepEqual(
            { command: args.command, stack: args.stack, image: args.image, env: args.env, dryRun: args.dryRun },
            { command: "start", stack: "prod-aws", image: "r/apfa:2", env: { A: "1", B: "" }, dryRun: true },
        );
    });

    it("parses the metric source options and the rollback reason", () => {
        const args = parseReleaseArgs(["rollback", "-s", "prod-gcp", "--reason", "p99 spike", "--prometheus-url", "http://127.0.0.1:9090"]);
        assert.deepEqual([args.command, args.stack, args.reason, args.prometheusUrl], ["rollback", "prod-gcp", "p99 spike", "http://127.0.0.1:9090"]);
        assert.equal(parseReleaseArgs(["start", "--stack", "prod-aws", "--image", "x", "--metrics", "cloudwatch"]).metrics, "cloudwatch");
    });

    const bad: Array<[string[], RegExp]> = [
        [[], /usage: npm run release/],
        [["deploy", "--stack", "dev"], /unknown command deploy/],
        [["status"], /--stack is required/],
        [["status", "--stack", "dev", "--image", "x"], /belong to start/],
        [["start", "--stack", "dev", "--env", "NOEQUALS"], /--env expects NAME=VALUE/],
        [["start", "--stack", "dev", "--metrics", "datadog"], /prometheus or cloudwatch/],
        [["start", "--stack", "dev", "--prometheus-url", "localhost:9090"], /http\(s\) URL/],
        [["start", "--stack"], /--stack needs a value/],
        [["pause", "--stack", "dev", "--reason", "x"], /--reason belongs to rollback/],
    ];
    for (const [argv, message] of bad) {
        it(`rejects ${JSON.stringify(argv)}`, () => {
            assert.throws(() => parseReleaseArgs(argv), (err: unknown) => err instanceof UsageError && message.test(err.message));
        });
    }

    it("finds the Prometheus URL in the stack outputs (the CloudWatch dimensions: release-cloudwatch.test.ts)", () => {
        assert.equal(prometheusUrlFromOutputs({ prometheusUrl: "http://127.0.0.1:9090" }), "http://127.0.0.1:9090");
        assert.equal(prometheusUrlFromOutputs({ prometheusUrl: "kubectl -n apfa port-forward svc/prometheus 9090" }), undefined);
    });

    it("the stack-file driver reads the stack file, hides secure values, and refuses to write or update", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-release-cli-"));
        try {
            fs.writeFileSync(
                path.join(dir, "Pulumi.t.yaml"),
                "config:\n  apfa:cloud: docker\n  apfa:grafanaAdminPassword:\n    secure: AAABAJ2Yb3hU\n  apfa:release:\n    active: green\n",
            );
            const driver = new StackFileDriver("t", dir);
            assert.deepEqual(await driver.readConfig(RELEASE_CONFIG_KEYS), { "apfa:cloud": "docker", "apfa:release": { active: "green" } });
            await assert.rejects(driver.readConfig(["apfa:grafanaAdminPassword"]), /stored as a secret/);
            assert.deepEqual(await driver.readRelease(), { active: "green" });
            await assert.rejects(driver.writeRelease(), /read-only/);
            await assert.rejects(driver.up(), /cannot run `pulumi up`/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("`start --dry-run` as a process prints the plan, exits 0 and changes no file", function () {
        this.timeout(60_000);
        const stackFile = path.join(PROJECT_ROOT, "Pulumi.dev.yaml");
        const before = fs.readFileSync(stackFile, "utf8");
        const releasesBefore = fs.existsSync(path.join(PROJECT_ROOT, ".releases", "dev"));
        const result = runCli(["start", "--stack", "dev", "--env", "APFA_ERROR_RATIO=0.2", "--dry-run"]);
        assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
        assert.match(result.stderr, /planning from Pulumi\.dev\.yaml, without stack outputs/);
        assert.match(result.stdout, /Release plan for stack dev \(docker, bluegreen\) — dry run, nothing is changed/);
        assert.match(result.stdout, /green\.env \+= APFA_ERROR_RATIO=0\.2/);
        assert.match(result.stdout, /config previewWeight=10 \(step 1\/3\) → pulumi up: blue 90 % \/ green 10 %/);
        assert.equal(fs.readFileSync(stackFile, "utf8"), before);
        assert.equal(fs.existsSync(path.join(PROJECT_ROOT, ".releases", "dev")), releasesBefore);
    });

    // Two processes (each costs seconds); the other spellings are parser tests below.
    for (const argv of [["--help"], ["rollback", "--stack", "dev", "-h"]]) {
        it(`${argv.join(" ")} prints the usage on stdout and exits 0`, function () {
            this.timeout(60_000);
            const result = runCli(argv);
            assert.equal(result.status, 0, result.stderr);
            assert.match(result.stdout, /^usage: npm run release -- <command> --stack <stack> \[options\]/);
            assert.match(result.stdout, /exit codes: 0 done · 1 rolled back · 2 usage · 3 refused · 4 needs an operator/);
            assert.equal(result.stderr, "");
        });
    }

    it("-h, --help and the command help are help requests anywhere on the line; a value \"help\" is a value; no arguments is a usage error", () => {
        for (const argv of [["-h"], ["help"], ["start", "--stack", "dev", "--help"], ["status", "-h", "--stack", "dev"]]) {
            assert.throws(() => parseReleaseArgs(argv), (err: unknown) => err instanceof HelpRequested && !(err instanceof UsageError), argv.join(" "));
        }
        assert.equal(parseReleaseArgs(["rollback", "--stack", "dev", "--reason", "help"]).reason, "help");
        assert.throws(() => parseReleaseArgs([]), (err: unknown) => err instanceof UsageError && /^usage: npm run release/.test(err.message));
    });

    it("a usage error exits 2 with the usage text", function () {
        this.timeout(60_000);
        const result = runCli(["start"]);
        assert.equal(result.status, 2);
        assert.match(result.stderr, /--stack is required/);
    });
});
