/**
 * {@link StackDriver} on the Pulumi Automation API: a `LocalWorkspace` over the project directory,
 * so the release tool changes exactly the stack config and state that `pulumi` on the command line
 * would. Needs the Pulumi CLI on PATH (the Automation API drives it) and, for structured config
 * writes, a CLI with `pulumi config set-all --json` (pulumi/pulumi#19427, 2025).
 */
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";

import { decodeConfigValue } from "../../src/config";
import { SECRET_VALUE, type StackDriver, type UpOutcome, type UpRequest } from "./driver";

const RELEASE_KEY = "apfa:release";

/**
 * The part of an Automation API `Stack` the driver uses. Not `getAllConfig`: it runs
 * `pulumi config --show-secrets` and so decrypts every secret of the stack.
 */
export type StackHandle = Pick<Stack, "getConfig" | "setAllConfigJson" | "up" | "outputs">;

export class AutomationStackDriver implements StackDriver {
    constructor(
        readonly stack: string,
        private readonly handle: StackHandle,
    ) {}

    /**
     * Selects an existing stack of the project in `workDir` (it must have been created with
     * `pulumi stack init`). Its updates skip ts-node's type-check (PULUMI_NODEJS_TRANSPILE_ONLY):
     * CI type-checks the program with tsc, and the check would add ~10 s to every step and to the
     * rollback.
     */
    static async open(stackName: string, workDir: string): Promise<AutomationStackDriver> {
        const handle = await LocalWorkspace.selectStack({ stackName, workDir }, { envVars: { PULUMI_NODEJS_TRANSPILE_ONLY: "true" } });
        return new AutomationStackDriver(stackName, handle);
    }

    async readConfig(keys: readonly string[]): Promise<Record<string, unknown>> {
        // One `pulumi config get <key> --json` per key, in parallel: each reads its key alone.
        const entries = await Promise.all(keys.map(async (key) => [key, await this.readKey(key)] as const));
        const values: Record<string, unknown> = {};
        for (const [key, value] of entries) {
            if (value !== undefined) {
                values[key] = value;
            }
        }
        return values;
    }

    async readRelease(): Promise<unknown> {
        return this.readKey(RELEASE_KEY);
    }

    /** One plain config value, parsed; undefined when the key is not set. */
    private async readKey(key: string): Promise<unknown> {
        let entry;
        try {
            // `pulumi config get <key> --json`: reads one key, decrypts nothing else.
            entry = await this.handle.getConfig(key);
        } catch (err) {
            if (err instanceof Error && /not found/i.test(err.message)) {
                return undefined;
            }
            throw err;
        }
        if (entry.secret) {
            throw new Error(`${key} is stored as a secret; the release tool reads plain config only`);
        }
        return decodeConfigValue(entry.value);
    }

    async writeRelease(value: unknown): Promise<void> {
        // The `pulumi config --json` format with objectValue: stored as structured YAML, not as a
        // JSON string, so the stack file stays readable and diffable.
        const json = JSON.stringify({ [RELEASE_KEY]: { value: JSON.stringify(value), objectValue: value, secret: false } });
        await this.handle.setAllConfigJson(json);
    }

    async up(request: UpRequest): Promise<UpOutcome> {
        const result = await this.handle.up({
            target: request.target ? [...request.target] : undefined,
            message: request.message,
            onOutput: request.onOutput,
            color: "never",
        });
        const changes: Record<string, number> = {};
        for (const [op, n] of Object.entries(result.summary.resourceChanges ?? {})) {
            if (typeof n === "number") {
                changes[op] = n;
            }
        }
        return { changes };
    }

    async outputs(): Promise<Record<string, unknown>> {
        const outputs = await this.handle.outputs();
        const values: Record<string, unknown> = {};
        for (const [key, output] of Object.entries(outputs)) {
            values[key] = output.secret ? SECRET_VALUE : output.value;
        }
        return values;
    }
}
