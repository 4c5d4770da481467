/**
 * `npm run synth -- --stack <name> [--out DIR] [--set key=json ...] [--preview] [--quiet]`
 *
 * Runs the program offline on Pulumi's mocks with `Pulumi.<name>.yaml`, prints the resource tree,
 * and writes `plan.json` (secrets redacted) and `diagram.mmd` to DIR (default `.synth/<name>/`).
 * Exits 1 with the program's error (e.g. the config error) when it fails.
 *
 * `--preview` runs it as `pulumi preview` does before anything exists: computed outputs (ids, ARNs,
 * endpoints…) are unknown to the program and show as "[unknown]" in the plan.
 */
import "./synth/fast-start"; // first: it speeds up loading everything below

import * as fs from "node:fs";
import * as path from "node:path";

import { formatSynthFailure, synthesize, toMermaid, toTree } from "./synth/run";
import { PROJECT_ROOT, listStacks } from "./synth/stack-config";

function usage(message?: string): never {
    if (message) {
        console.error(message);
    }
    console.error(`usage: npm run synth -- --stack <${listStacks().join("|")}> [--out DIR] [--set apfa:key=<json>] [--preview] [--quiet]`);
    process.exit(2);
}

function parseArgs(argv: string[]) {
    let stack: string | undefined;
    let out: string | undefined;
    let quiet = false;
    let preview = false;
    const overrides: Record<string, unknown> = {};
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const next = () => argv[++i] ?? usage(`${arg} needs a value`);
        if (arg === "--stack" || arg === "-s") {
            stack = next();
        } else if (arg === "--out") {
            out = next();
        } else if (arg === "--quiet") {
            quiet = true;
        } else if (arg === "--preview") {
            preview = true;
        } else if (arg === "--set") {
            const pair = next();
            const eq = pair.indexOf("=");
            if (eq < 1) {
                usage(`--set expects key=<json or text>, got ${pair}`);
            }
            const text = pair.slice(eq + 1);
            let value: unknown = text;
            try {
                value = JSON.parse(text);
            } catch {
                // plain text value
            }
            overrides[pair.slice(0, eq)] = value;
        } else {
            usage(`unknown argument ${arg}`);
        }
    }
    return { stack: stack ?? usage("--stack is required"), out, quiet, preview, overrides };
}

async function main() {
    const args = parseArgs(process.argv.slice(2));
    const started = process.hrtime.bigint();
    const plan = await synthesize(args.stack, args.overrides, { preview: args.preview });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const outDir = path.resolve(args.out ?? path.join(PROJECT_ROOT, ".synth", args.stack));
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, "plan.json"), JSON.stringify(plan, null, 2) + "\n");
    fs.writeFileSync(path.join(outDir, "diagram.mmd"), toMermaid(plan));
    if (!args.quiet) {
        console.log(toTree(plan));
        console.log(`\n${plan.resources.length} resources${args.preview ? " (preview)" : ""}; plan and diagram written to ${path.relative(process.cwd(), outDir) || "."} (${ms.toFixed(0)} ms)`);
    }
}

main().catch((err: unknown) => {
    console.error(formatSynthFailure(err));
    process.exit(1);
});
