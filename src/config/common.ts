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
/**
 * A top-level on/off key. Pulumi hands top-level scalars over as text ("true"), nested ones as JSON
 * (true): both are accepted.
 */
export const flag = z.union([z.boolean(), z.enum(["true", "false"]).transform((text) => text === "true")]);

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
    /** `<project>-<stack>`, the prefix of every physical and logical name ("" when unknown). */
    readonly prefix: string;
}

/** A rule over several keys of a stack, owned by the module of the settings it constrains. */
export type StackRule = (input: StackRuleInput) => string[];

/** Whether the stack is tagged as production (`apfa:tags.environment: production`). */
export function isProduction(own: Readonly<Record<string, unknown>>): boolean {
    const tags = own.tags as Record<string, unknown> | undefined;
    return typeof tags === "object" && tags !== null && tags.environment === "production";
}

/**
 * The problem of a production stack that would serve users over plain HTTP, or undefined. Each
 * cloud's rules call it with whether its TLS setting (`tlsKey`) is set.
 */
export function plainHttpProblem(own: Readonly<Record<string, unknown>>, tlsConfigured: boolean, tlsKey: string): string | undefined {
    if (!isProduction(own) || valid(flag, own.allowPlainHttp) === true || tlsConfigured) {
        return undefined;
    }
    return (
        `${NAMESPACE}:${tlsKey}: required for a stack tagged environment: production, which serves users over HTTPS only ` +
        `(or set ${NAMESPACE}:allowPlainHttp to true if TLS ends in front of this stack)`
    );
}

/** Whether the stack accepts the stack files' sample values (`apfa:acceptPlaceholders`: synth and tests). */
export function acceptsPlaceholders(own: Readonly<Record<string, unknown>>): boolean {
    return valid(flag, own.acceptPlaceholders) === true;
}

/** AWS's documentation account id, which the stack files' sample ECR images and ACM certificate use. */
export const DOCUMENTATION_ACCOUNT = "123456789012";

/** Whether an image reference is an ECR repository of AWS's documentation account (a sample). */
export function isPlaceholderImage(image: string): boolean {
    return image.startsWith(`${DOCUMENTATION_ACCOUNT}.dkr.ecr.`);
}

/** Whether an ARN belongs to AWS's documentation account (a sample). */
export function isPlaceholderArn(arn: string): boolean {
    return arn.split(":")[4] === DOCUMENTATION_ACCOUNT;
}

/** The parsed value of one schema, or undefined when that part is invalid (its own issues say why). */
export function valid<T extends z.ZodType>(schema: T, value: unknown): z.output<T> | undefined {
    const result = schema.safeParse(value);
    return result.success ? result.data : undefined;
}
