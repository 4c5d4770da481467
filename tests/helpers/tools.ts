/**
 * External validators the tests hand artifacts to (promtool, prometheus, helm). They are installed
 * by `scripts/install-tools.sh` into `.tools/bin`. Where one is missing, tests that need it are
 * skipped with the reason — except in CI (CI=true), where a missing tool fails the run.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { PROJECT_ROOT } from "../../scripts/synth/stack-config";

export const TOOLS_BIN = path.join(PROJECT_ROOT, ".tools", "bin");

/** Absolute path of a tool: `.tools/bin` first, then PATH. */
export function findTool(name: string): string | undefined {
    const dirs = [TOOLS_BIN, ...(process.env.PATH ?? "").split(path.delimiter)];
    for (const dir of dirs) {
        const candidate = path.join(dir, name);
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            return candidate;
        } catch {
            // keep looking
        }
    }
    return undefined;
}

/**
 * For a mocha `before` hook: returns the tool's path, or skips the suite (outside CI) saying why.
 * In CI a missing tool is an error: CI runs every test.
 */
export function requireTool(ctx: Mocha.Context, name: string): string {
    const found = findTool(name);
    if (found) {
        return found;
    }
    const why = `${name} not found in .tools/bin or PATH; run \`npm run tools\` (scripts/install-tools.sh)`;
    if (process.env.CI && process.env.CI !== "false") {
        throw new Error(`CI must run every test, but ${why}`);
    }
    console.warn(`      skipped: ${why}`);
    ctx.skip();
}
