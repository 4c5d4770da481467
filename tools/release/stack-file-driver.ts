/**
 * A read-only {@link StackDriver} over `Pulumi.<stack>.yaml`, for `start --dry-run` on a machine
 * without the Pulumi CLI: it reads the same keys the CLI driver would (secrets are never
 * decrypted) and has no stack outputs. Writing and updating are refused.
 */
import { SECRET_VALUE, type StackDriver, type UpOutcome } from "./driver";
import { readStackFile } from "../../scripts/synth/stack-config";

const RELEASE_KEY = "apfa:release";

export class StackFileDriver implements StackDriver {
    constructor(
        readonly stack: string,
        private readonly root?: string,
    ) {}

    async readConfig(keys: readonly string[]): Promise<Record<string, unknown>> {
        const file = readStackFile(this.stack, this.root);
        const values: Record<string, unknown> = {};
        for (const key of keys) {
            if (file[key] === undefined) {
                continue;
            }
            const value = replaceSecure(file[key]);
            if (value === SECRET_VALUE) {
                throw new Error(`${key} is stored as a secret; the release tool reads plain config only`);
            }
            values[key] = value;
        }
        return values;
    }

    async readRelease(): Promise<unknown> {
        return (await this.readConfig([RELEASE_KEY]))[RELEASE_KEY];
    }

    async writeRelease(): Promise<void> {
        throw new Error("the stack file driver is read-only (dry run)");
    }

    async up(): Promise<UpOutcome> {
        throw new Error("the stack file driver cannot run `pulumi up` (dry run)");
    }

    async outputs(): Promise<Record<string, unknown>> {
        return {};
    }
}

function replaceSecure(value: unknown): unknown {
    if (Array.isArray(value)) {
        return value.map(replaceSecure);
    }
    if (value && typeof value === "object") {
        const entries = Object.entries(value as Record<string, unknown>);
        if (entries.length === 1 && entries[0][0] === "secure") {
            return SECRET_VALUE;
        }
        return Object.fromEntries(entries.map(([k, v]) => [k, replaceSecure(v)]));
    }
    return value;
}
