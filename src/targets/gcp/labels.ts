/**
 * GCP resource labels from the stack's tags.
 *
 * GCP label rules: at most 64 labels; keys 1-63 characters, starting with a lowercase letter;
 * keys and values only lowercase letters, digits, `_` and `-`; values at most 63 characters and
 * may be empty. Stack tags are freer (`Owner: "Platform Team"`), so they are sanitised here — one
 * pure function, used for every labelled resource, tested without mocks.
 */

const MAX_LENGTH = 63;
export const MAX_GCP_LABELS = 64;

/** Lowercases and replaces every character GCP refuses by `_`, then trims to 63 characters. */
export function sanitizeLabelValue(value: string): string {
    return value
        .toLowerCase()
        .replace(/[^a-z0-9_-]/g, "_")
        .slice(0, MAX_LENGTH);
}

/** Like {@link sanitizeLabelValue}, and a key that does not start with a letter gets a `t_` prefix. */
export function sanitizeLabelKey(key: string): string {
    const cleaned = sanitizeLabelValue(key);
    return (/^[a-z]/.test(cleaned) ? cleaned : `t_${cleaned}`).slice(0, MAX_LENGTH);
}

/**
 * Groups of tag keys that sanitise to the same label key (e.g. `Team` and `team`): one would
 * silently overwrite the other, so config validation rejects them.
 */
export function labelKeyCollisions(tags: Readonly<Record<string, string>>): string[][] {
    const byKey = new Map<string, string[]>();
    for (const key of Object.keys(tags)) {
        const label = sanitizeLabelKey(key);
        byKey.set(label, [...(byKey.get(label) ?? []), key]);
    }
    return [...byKey.values()].filter((keys) => keys.length > 1);
}

/** The labels that identify what this program deployed; they win over user tags of the same key. */
export function identityLabels(project: string, stack: string): Record<string, string> {
    return {
        "apfa-project": sanitizeLabelValue(project),
        "apfa-stack": sanitizeLabelValue(stack),
        "managed-by": "pulumi",
    };
}

/**
 * The labels of every labelled GCP resource of the stack: the user's tags, sanitised, then the
 * identity labels (which win), then `extra` (which win over both).
 */
export function gcpLabels(
    tags: Readonly<Record<string, string>>,
    identity: Readonly<Record<string, string>>,
    extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
    const labels: Record<string, string> = {};
    for (const [key, value] of Object.entries(tags)) {
        labels[sanitizeLabelKey(key)] = sanitizeLabelValue(value);
    }
    for (const [key, value] of Object.entries({ ...identity, ...extra })) {
        labels[sanitizeLabelKey(key)] = sanitizeLabelValue(value);
    }
    return labels;
}
