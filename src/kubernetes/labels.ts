/**
 * Kubernetes labels from the stack's tags. Tags are validated for the clouds' tag rules, which
 * allow characters labels do not (spaces, `@`, `+`, `=`, `:`), so they are reduced to label syntax
 * deterministically instead of being rejected: a tag valid on AWS must not break an AKS stack.
 */

const NAME_MAX = 63;
/** A label value: empty, or 1-63 of [A-Za-z0-9_.-] starting and ending alphanumeric. */
const VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const PREFIX_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Reduces text to a label name/value: invalid characters become "_", ends trimmed, max 63. */
export function toLabelValue(text: string): string {
    const replaced = text.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, NAME_MAX);
    return replaced.replace(/^[^A-Za-z0-9]+/, "").replace(/[^A-Za-z0-9]+$/, "");
}

/** Reduces a tag key to a label key, keeping a valid DNS-subdomain prefix (`example.com/team`). */
export function toLabelKey(key: string): string {
    const slash = key.lastIndexOf("/");
    if (slash > 0) {
        const prefix = key.slice(0, slash).toLowerCase();
        const name = toLabelValue(key.slice(slash + 1));
        if (PREFIX_RE.test(prefix) && prefix.length <= 253 && name !== "") {
            return `${prefix}/${name}`;
        }
    }
    return toLabelValue(key);
}

/** True when `value` is a valid label value. */
export function isLabelValue(value: string): boolean {
    return value.length <= NAME_MAX && VALUE_RE.test(value);
}

/**
 * The stack's tags as Kubernetes labels. Keys that reduce to nothing are dropped; when two tags
 * reduce to the same key, the one that sorts first wins (stable across runs).
 */
export function tagsToLabels(tags: Readonly<Record<string, string>>): Record<string, string> {
    const labels: Record<string, string> = {};
    for (const key of Object.keys(tags).sort()) {
        const labelKey = toLabelKey(key);
        if (labelKey !== "" && !(labelKey in labels)) {
            labels[labelKey] = toLabelValue(tags[key]);
        }
    }
    return labels;
}

/** The `app.kubernetes.io/*` labels of an object the program (not Helm) manages. */
export function managedLabels(name: string, component: string, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
    return {
        ...extra,
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "apfa",
        "app.kubernetes.io/managed-by": "pulumi",
    };
}
