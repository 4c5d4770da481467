/**
 * External validators the tests hand artifacts to (promtool, prometheus, helm). They are installed
 * by `scripts/install-tools.sh` into `.tools/bin`. Where one is missing, tests that need it are
 * skipped with the reason — except in CI (CI=true), where a missing tool fails the run.
 */
import { TOOLS_BIN, findTool } from "../../scripts/tool-path";

export { TOOLS_BIN, findTool };

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
