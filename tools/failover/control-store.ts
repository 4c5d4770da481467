/**
 * Where the controller reads the operator's flags on every loop: `paused` and the `rearm` token
 * (decision.ts says what they do). One small interface; the controller depends on nothing else.
 *
 * Implemented here: a JSON file (local rehearsal; in Kubernetes, a ConfigMap mounted as a volume
 * is this same file — the kubelet refreshes mounted ConfigMaps within about a minute, so pausing
 * takes up to that long to apply).
 *
 * The cloud deployments (docs/failover.md):
 *   ConfigMap (AKS/GKE)   key `control.json` holding the same JSON, mounted as this file
 *                         (src/kubernetes/failover-controller.ts); operators edit the ConfigMap.
 *   SSM parameter (AWS)   {@link SsmControlStore}: a String parameter in the *standby* region
 *                         holding the same JSON, read with ssm:GetParameter each loop; operators
 *                         write it with `aws ssm put-parameter --overwrite` (docs/failover.md).
 * Whatever the store, the store must live in the standby region: the primary region may be down.
 *
 * Semantics every store follows: no flags stored at all → not paused, empty rearm token (the
 * controller is armed out of the box); stored but unreadable or malformed → `undefined`, and the
 * controller keeps the last flags it read (never readable → it refuses to promote).
 */
import * as fs from "node:fs";
import * as path from "node:path";

import type { ControlFlags } from "./decision";

/** The one SSM call the store makes (a subset of `SSMClient`, so tests pass a fake). */
export interface SsmParameterReader {
    getParameter(name: string): Promise<string | undefined>;
}

export interface ControlStore {
    /** The operator's flags, or undefined when the store cannot be read right now. */
    read(): Promise<ControlFlags | undefined>;
    /** Where the flags live, for logs. */
    describe(): string;
}

export const DEFAULT_FLAGS: ControlFlags = { paused: false, rearm: "" };

/** Parses the stored JSON document; undefined when it is not a valid flags document. */
export function parseFlags(text: string): ControlFlags | undefined {
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch {
        return undefined;
    }
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
        return undefined;
    }
    const { paused, rearm, ...rest } = doc as Record<string, unknown>;
    if (Object.keys(rest).length > 0 || (paused !== undefined && typeof paused !== "boolean") || (rearm !== undefined && typeof rearm !== "string")) {
        // An unknown key is most likely a typo ("pause": true): treating it as "not paused" would be the dangerous reading.
        return undefined;
    }
    return { paused: paused ?? false, rearm: rearm ?? "" };
}

export class FileControlStore implements ControlStore {
    constructor(readonly file: string) {}

    describe(): string {
        return `file ${this.file}`;
    }

    async read(): Promise<ControlFlags | undefined> {
        let text: string;
        try {
            text = await fs.promises.readFile(this.file, "utf8");
        } catch (err) {
            return (err as NodeJS.ErrnoException).code === "ENOENT" ? DEFAULT_FLAGS : undefined;
        }
        return parseFlags(text);
    }

    /** Writes the flags atomically (a reader never sees half a file). */
    async write(flags: ControlFlags): Promise<void> {
        const tmp = path.join(path.dirname(this.file), `.${path.basename(this.file)}.${process.pid}.tmp`);
        await fs.promises.writeFile(tmp, `${JSON.stringify(flags)}\n`, "utf8");
        await fs.promises.rename(tmp, this.file);
    }
}

/**
 * The flags in an SSM parameter of the controller's own region (ECS has no mounted ConfigMap).
 * A missing parameter means not paused, like a missing file; any other error → unreadable.
 */
export class SsmControlStore implements ControlStore {
    constructor(
        readonly parameterName: string,
        private readonly reader: SsmParameterReader,
    ) {}

    describe(): string {
        return `SSM parameter ${this.parameterName}`;
    }

    async read(): Promise<ControlFlags | undefined> {
        let text: string | undefined;
        try {
            text = await this.reader.getParameter(this.parameterName);
        } catch (err) {
            return (err as { name?: string }).name === "ParameterNotFound" ? DEFAULT_FLAGS : undefined;
        }
        return text === undefined ? undefined : parseFlags(text);
    }
}

/** The SDK-backed reader (region from the task's environment: the standby's own). */
export async function ssmParameterReader(region?: string): Promise<SsmParameterReader> {
    const { SSMClient, GetParameterCommand } = await import("@aws-sdk/client-ssm");
    const client = new SSMClient(region ? { region } : {});
    return {
        async getParameter(name: string) {
            const out = await client.send(new GetParameterCommand({ Name: name }));
            return out.Parameter?.Value;
        },
    };
}
