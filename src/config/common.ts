/**
 * Building blocks shared by every config schema (the common keys and each cloud's settings module).
 * Imports nothing of the project's and no cloud SDK.
 */
import { z } from "zod";

/** The project's config namespace (the `name` in Pulumi.yaml). */
export const NAMESPACE = "apfa";

export const CLOUDS = ["docker", "aws", "azure", "gcp"] as const;
export type Cloud = (typeof CLOUDS)[number];

/** Environment variable names the program passes to containers (and the release tool's `--env`). */
export const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

export const urlPath = z.string().regex(/^\/[A-Za-z0-9._~\-/]*$/, "expected an absolute URL path such as /health");
export const port = z.number().int().min(1).max(65535);
export const imageRef = z
    .string()
    .min(1)
    .regex(/^[a-z0-9][a-z0-9._\-/:@]*$/i, "expected a container image reference such as registry/apfa:1.2.3");
export const envMap = z.record(z.string().regex(ENV_NAME, "env names: A-Z, 0-9, _"), z.string());
export const labelMap = z.record(
    z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:/=+\-@ ]{0,127}$/, "tag keys: 1-128 letters, digits, space or _.:/=+-@"),
    z.string().max(256),
);

/**
 * What a stack-level rule sees: the raw `apfa:*` values (each part re-validated by the rule, so one
 * bad key does not hide another's problem) and every other namespace's values (`aws:region`, …).
 */
export interface StackRuleInput {
    readonly own: Readonly<Record<string, unknown>>;
    readonly all: Readonly<Record<string, unknown>>;
}

/** A rule over several keys of a stack, owned by the module of the settings it constrains. */
export type StackRule = (input: StackRuleInput) => string[];

/** The parsed value of one schema, or undefined when that part is invalid (its own issues say why). */
export function valid<T extends z.ZodType>(schema: T, value: unknown): z.output<T> | undefined {
    const result = schema.safeParse(value);
    return result.success ? result.data : undefined;
}
