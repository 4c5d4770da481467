/**
 * The module structure the README describes, checked on the sources: no import cycle under src/
 * (type-only imports and lazy `require`s included), the contract and the blue/green model are leaves,
 * no target reaches the factory, the config loads no cloud SDK, and src/ holds only what `pulumi up`
 * runs (the operator tools live in tools/).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";

const ROOT = path.join(__dirname, "..");
const SRC = path.join(ROOT, "src");

function sourceFiles(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith(".ts") ? [full] : [];
    });
}

/** Resolves a relative specifier the way Node and TypeScript do for this project (file.ts or dir/index.ts). */
function resolveLocal(from: string, specifier: string): string | undefined {
    const base = path.resolve(path.dirname(from), specifier);
    return [`${base}.ts`, path.join(base, "index.ts")].find((candidate) => fs.existsSync(candidate));
}

/** Every module a file imports: static imports and exports, `import type`, `import()` and `require()`. */
function importsOf(file: string): { local: string[]; packages: string[] } {
    const info = ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true);
    const local: string[] = [];
    const packages: string[] = [];
    for (const { fileName } of info.importedFiles) {
        if (fileName.startsWith(".")) {
            const target = resolveLocal(file, fileName);
            assert.ok(target, `${path.relative(ROOT, file)} imports ${fileName}, which does not exist`);
            local.push(target);
        } else {
            packages.push(fileName);
        }
    }
    return { local, packages };
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((file) => [file, importsOf(file)]));
const rel = (file: string) => path.relative(ROOT, file);

/** Every cycle's path, found by depth-first search from each file. */
function cycles(): string[][] {
    const found: string[][] = [];
    const state = new Map<string, "active" | "done">();
    const stack: string[] = [];
    const visit = (file: string) => {
        state.set(file, "active");
        stack.push(file);
        for (const next of graph.get(file)?.local ?? []) {
            if (state.get(next) === "active") {
                found.push([...stack.slice(stack.indexOf(next)), next].map(rel));
            } else if (!state.has(next)) {
                visit(next);
            }
        }
        stack.pop();
        state.set(file, "done");
    };
    for (const file of files) {
        if (!state.has(file)) {
            visit(file);
        }
    }
    return found;
}

/** Files reachable from `file` through local imports. */
function reachable(file: string): Set<string> {
    const seen = new Set<string>();
    const walk = (f: string) => {
        for (const next of graph.get(f)?.local ?? []) {
            if (!seen.has(next)) {
                seen.add(next);
                walk(next);
            }
        }
    };
    walk(file);
    return seen;
}

describe("module structure", () => {
    it("src/ has no import cycle", () => {
        assert.deepEqual(cycles().map((cycle) => cycle.join(" -> ")), []);
    });

    it("the cycle check finds a cycle when there is one (checked on a two-file graph)", () => {
        const a = path.join(SRC, "contract.ts");
        const b = path.join(SRC, "bluegreen.ts");
        const saved = [graph.get(a), graph.get(b)];
        graph.set(a, { local: [b], packages: [] });
        graph.set(b, { local: [a], packages: [] });
        try {
            assert.equal(cycles().length > 0, true);
        } finally {
            graph.set(a, saved[0]!);
            graph.set(b, saved[1]!);
        }
    });

    it("the contract imports nothing of the project's; the blue/green model only the contract", () => {
        assert.deepEqual(graph.get(path.join(SRC, "contract.ts"))?.local, []);
        assert.deepEqual([...new Set(graph.get(path.join(SRC, "bluegreen.ts"))?.local.map(rel))], ["src/contract.ts"]);
    });

    it("no target, nor the Kubernetes layer or the monitoring, imports the factory (src/cluster.ts)", () => {
        const factory = path.join(SRC, "cluster.ts");
        const offenders = files.filter((f) => f !== factory && !f.endsWith(path.join("src", "index.ts")) && graph.get(f)?.local.includes(factory));
        assert.deepEqual(offenders.map(rel), []);
    });

    it("the config and every cloud's settings load no Pulumi cloud SDK (only @pulumi/pulumi and zod)", () => {
        const loader = path.join(SRC, "config", "index.ts");
        const closure = [loader, ...reachable(loader)];
        const packages = new Set(closure.flatMap((f) => graph.get(f)?.packages ?? []));
        assert.deepEqual([...packages].filter((p) => p.startsWith("@pulumi/") && p !== "@pulumi/pulumi"), []);
        for (const cloud of ["docker", "aws", "azure", "gcp"]) {
            assert.ok(closure.includes(path.join(SRC, "targets", cloud, "settings.ts")), `${cloud}/settings.ts is part of the config`);
        }
    });

    it("src/ holds only what `pulumi up` runs: no release tool, no automation API, no metrics clients", () => {
        const operatorPackages = ["@pulumi/pulumi/automation", "@aws-sdk/client-cloudwatch"];
        const offenders = files.filter((f) => graph.get(f)?.packages.some((p) => operatorPackages.includes(p)));
        assert.deepEqual(offenders.map(rel), []);
        assert.equal(fs.existsSync(path.join(SRC, "release")), false, "src/release/ belongs in tools/release/");
    });
});
