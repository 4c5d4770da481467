/**
 * The seam between the release state machine and Pulumi: read the stack's config and outputs,
 * replace `apfa:release`, run `pulumi up` (whole stack, or targeted at one URN).
 *
 * The real implementation drives the Pulumi CLI through the Automation API
 * (`automation-driver.ts`); tests use a fake that records every call.
 */

/** Options of one `pulumi up`. */
export interface UpRequest {
    /** URNs to restrict the update to (`pulumi up --target`); absent: the whole stack. */
    readonly target?: readonly string[];
    /** Message recorded in the stack's update history. */
    readonly message: string;
    /** Receives the engine's output lines as they come. */
    readonly onOutput?: (line: string) => void;
}

export interface UpOutcome {
    /** Resource operations performed, e.g. { update: 1, same: 63 }. */
    readonly changes: Readonly<Record<string, number>>;
}

export interface StackDriver {
    /** The stack's name (e.g. "prod-aws"). */
    readonly stack: string;
    /**
     * The values of these config keys that the stack sets, namespaced (`apfa:release`,
     * `aws:region`); structured values parsed from JSON, unset keys absent. Only these keys are
     * read: no other value, and so no secret, is decrypted.
     * @throws Error when one of them is stored as a secret (the release tool reads plain config only)
     */
    readConfig(keys: readonly string[]): Promise<Record<string, unknown>>;
    /** The current `apfa:release` value (parsed JSON), or undefined when the key is not set. */
    readRelease(): Promise<unknown>;
    /** Replaces `apfa:release` with this structured value: one config write. */
    writeRelease(value: unknown): Promise<void>;
    /** Runs `pulumi up` (targeted when `target` is given). Rejects when the update fails. */
    up(request: UpRequest): Promise<UpOutcome>;
    /** The stack outputs of the last update; secret outputs are replaced by {@link SECRET_VALUE}. */
    outputs(): Promise<Record<string, unknown>>;
}

/** Stands in for a secret config value or output the release tool read but must not keep. */
export const SECRET_VALUE = "[secret: not read by the release tool]";
