/**
 * Reads a `Pulumi.<stack>.yaml` the way the Pulumi CLI hands config to a program: every key
 * namespaced (`apfa:cloud`, `aws:region`), structured values as JSON text, secrets listed.
 * Encrypted (`secure:`) values cannot be decrypted offline; they become a placeholder.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export const PROJECT = "apfa";
export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
/** Stands in for every `secure:` value of a stack file (long enough to satisfy validation). */
export const SECRET_PLACEHOLDER = "synth-placeholder-for-an-encrypted-value";

export interface StackConfig {
    /** Config as the runtime sees it: namespaced key → string value. */
    readonly values: Record<string, string>;
    /** Keys whose value is (or contains) a secret. */
    readonly secretKeys: string[];
}

/** The parsed `config:` map of a stack file, namespaced, before any string encoding. */
export function readStackFile(stack: string, root = PROJECT_ROOT): Record<string, unknown> {
    const file = path.join(root, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        throw new Error(`No stack file ${file}`);
    }
    const doc = (parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        out[key.includes(":") ? key : `${PROJECT}:${key}`] = value;
    }
    return out;
}

/** The config key that lets a stack keep the stack files' sample images and certificate. */
export const ACCEPT_PLACEHOLDERS_KEY = `${PROJECT}:acceptPlaceholders`;

/**
 * A stack file's config as the offline synth and the tests use it: the file's values plus
 * `apfa:acceptPlaceholders: true`, since the sample stack files name an image and a certificate in
 * AWS's documentation account, which the program otherwise refuses (a real deploy could not pull
 * them). A test that checks the refusal removes the key (`null` override).
 */
export function readSampleStack(stack: string, root = PROJECT_ROOT): Record<string, unknown> {
    return { ...readStackFile(stack, root), [ACCEPT_PLACEHOLDERS_KEY]: true };
}

/**
 * Encodes config for `pulumi.runtime.setAllConfig`. `overrides` replace whole keys; a `null`
 * override removes the key.
 */
export function encodeStackConfig(raw: Record<string, unknown>, overrides: Record<string, unknown> = {}): StackConfig {
    const merged: Record<string, unknown> = { ...raw };
    for (const [key, value] of Object.entries(overrides)) {
        if (value === null) {
            delete merged[key];
        } else {
            merged[key] = value;
        }
    }
    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(merged)) {
        const { value: plain, secret } = replaceSecure(value);
        values[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
        if (secret) {
            secretKeys.push(key);
        }
    }
    return { values, secretKeys };
}

function replaceSecure(value: unknown): { value: unknown; secret: boolean } {
    if (value && typeof value === "object" && !Array.isArray(value)) {
        const entries = Object.entries(value as Record<string, unknown>);
        if (entries.length === 1 && entries[0][0] === "secure") {
            return { value: SECRET_PLACEHOLDER, secret: true };
        }
        let secret = false;
        const out: Record<string, unknown> = {};
        for (const [k, v] of entries) {
            const r = replaceSecure(v);
            out[k] = r.value;
            secret ||= r.secret;
        }
        return { value: out, secret };
    }
    if (Array.isArray(value)) {
        let secret = false;
        const out = value.map((v) => {
            const r = replaceSecure(v);
            secret ||= r.secret;
            return r.value;
        });
        return { value: out, secret };
    }
    return { value, secret: false };
}

/** Stack names that have a `Pulumi.<stack>.yaml` in the project. */
export function listStacks(root = PROJECT_ROOT): string[] {
    return fs
        .readdirSync(root)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}
