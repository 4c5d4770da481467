/**
 * Turning zod issues into the one error a user sees: every problem on its own line, named by its
 * full config key (`apfa:aws.vpcCidr`), with what was expected and "did you mean" for misspelt keys.
 */
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";

import { NAMESPACE } from "./common";

/** Stack config that failed validation. Its message lists every problem, one per line. */
export class ConfigError extends pulumi.RunError {
    constructor(public readonly problems: readonly string[]) {
        super(
            `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/** Marks a custom issue whose message already names its keys (a stack-level rule's problem). */
const FORMATTED = "apfaFormatted";

/** Adds a problem that names its own keys, e.g. "aws:region: required …". */
export function addFormattedIssue(ctx: z.RefinementCtx, problem: string): void {
    ctx.addIssue({ code: "custom", message: problem, params: { [FORMATTED]: true } });
}

/**
 * The problems of one issue. `input` is the raw value the schema parsed (to tell a missing key from
 * a bad one); `knownKeys` are the top-level keys, for suggestions.
 */
export function describeIssue(issue: z.core.$ZodIssue, input: unknown, knownKeys: readonly string[]): string[] {
    if (issue.code === "custom" && issue.params?.[FORMATTED] === true) {
        return [issue.message];
    }
    const where = formatPath(issue.path);
    if (issue.code === "unrecognized_keys") {
        const known = issue.path.length === 0 ? knownKeys : undefined;
        return issue.keys.map((key) => {
            const full = formatPath([...issue.path, key]);
            const hint = known ? suggest(key, known) : undefined;
            return `${full}: unknown key${hint ? ` (did you mean ${NAMESPACE}:${hint}?)` : ""}`;
        });
    }
    if (valueAt(input, issue.path) === undefined) {
        return [`${where}: required (${issue.message.replace(/^Invalid (input|option): /, "")})`];
    }
    return [`${where}: ${issue.message}`];
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
    let node = root;
    for (const part of path) {
        if (node === null || typeof node !== "object") {
            return undefined;
        }
        node = (node as Record<PropertyKey, unknown>)[part];
    }
    return node;
}

function formatPath(path: readonly PropertyKey[]): string {
    if (path.length === 0) {
        return `${NAMESPACE}:*`;
    }
    const [head, ...rest] = path;
    let out = `${NAMESPACE}:${String(head)}`;
    for (const part of rest) {
        out += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
    }
    return out;
}

/** The closest known key within edit distance 2, if any. */
function suggest(key: string, known: readonly string[]): string | undefined {
    let best: string | undefined;
    let bestDistance = 3;
    for (const candidate of known) {
        const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
        if (d < bestDistance) {
            best = candidate;
            bestDistance = d;
        }
    }
    return best;
}

function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let previous = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const current = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
            previous = current;
        }
    }
    return row[b.length];
}
