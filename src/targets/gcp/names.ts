/**
 * Physical names of GCP resources, derived from `config.prefix` (`${project}-${stack}`).
 *
 * GCP names are stricter than Pulumi stack names: lowercase letters, digits and `-`, starting with
 * a letter, not ending with `-`, and short (a GKE cluster at most 40 characters, a service account
 * id 6-30). Names that would be too long keep their start and get a short stable hash, so two
 * stacks with long, similar names still get different resources.
 */
import { createHash } from "node:crypto";

/** Maximum lengths of the names this target sets. */
export const NAME_LIMITS = {
    network: 63,
    subnetwork: 63,
    router: 63,
    nat: 63,
    cluster: 40,
    serviceAccountId: 30,
} as const;

/** Lowercase, `[a-z0-9-]` only, starting with a letter, no trailing `-`. */
function clean(text: string): string {
    const lowered = text
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, "-")
        .replace(/-+/g, "-")
        .replace(/^-+|-+$/g, "");
    return /^[a-z]/.test(lowered) ? lowered : `a-${lowered}`;
}

/**
 * `${prefix}-${suffix}` as a valid GCP name of at most `maxLength` characters.
 * @param suffix may be empty (the name is then the prefix alone)
 */
export function gcpName(prefix: string, suffix: string, maxLength: number): string {
    const full = clean(suffix ? `${prefix}-${suffix}` : prefix);
    if (full.length <= maxLength) {
        return full;
    }
    const hash = createHash("sha256").update(full).digest("hex").slice(0, 6);
    const keep = full.slice(0, maxLength - hash.length - 1).replace(/-+$/, "");
    return `${keep}-${hash}`;
}
