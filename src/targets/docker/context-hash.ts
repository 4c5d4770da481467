/**
 * A content hash of a Docker build context, so the image is rebuilt (and the slot containers
 * replaced) exactly when a file in the context changes.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

const SKIPPED_DIRS = new Set(["node_modules", ".git"]);

/** SHA-256 over every file's relative path and bytes, in sorted order. */
export function hashBuildContext(dir: string): string {
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
        throw new Error(`Docker build context ${dir} is not a directory`);
    }
    const hash = crypto.createHash("sha256");
    const walk = (relative: string) => {
        const entries = fs.readdirSync(path.join(dir, relative), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
        for (const entry of entries) {
            const rel = path.posix.join(relative, entry.name);
            if (entry.isDirectory()) {
                if (!SKIPPED_DIRS.has(entry.name)) {
                    walk(rel);
                }
            } else if (entry.isFile()) {
                hash.update(`${rel}\0`);
                hash.update(fs.readFileSync(path.join(dir, rel)));
                hash.update("\0");
            }
        }
    };
    walk("");
    return hash.digest("hex");
}
