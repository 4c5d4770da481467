/**
 * Where the project's external tools are: `.tools/bin` (linked by `scripts/install-tools.sh`) first,
 * then PATH. Shared by the tests and the operator tools that run real processes (the failover
 * rehearsal).
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { PROJECT_ROOT } from "./synth/stack-config";

export const TOOLS_BIN = path.join(PROJECT_ROOT, ".tools", "bin");

/** Absolute path of an executable tool, or undefined. */
export function findTool(name: string): string | undefined {
    for (const dir of [TOOLS_BIN, ...(process.env.PATH ?? "").split(path.delimiter)]) {
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
