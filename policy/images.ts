/**
 * Container image references as the rules read them: which registry, and whether the reference
 * pins what runs (a tag other than `latest`, or a digest).
 */

export interface ImageRef {
    /** Registry host, `docker.io` for Docker Hub's short names. */
    readonly registry: string;
    readonly repository: string;
    readonly tag?: string;
    readonly digest?: string;
}

/** Parses `[registry/]repository[:tag][@digest]`. */
export function parseImage(image: string): ImageRef {
    let rest = image.trim();
    let digest: string | undefined;
    const at = rest.indexOf("@");
    if (at >= 0) {
        digest = rest.slice(at + 1);
        rest = rest.slice(0, at);
    }
    const parts = rest.split("/");
    // The first part is a registry host when it looks like one (has a dot or a port, or is localhost).
    const hasRegistry = parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === "localhost");
    const registry = hasRegistry ? parts[0] : "docker.io";
    let repository = (hasRegistry ? parts.slice(1) : parts).join("/");
    let tag: string | undefined;
    const colon = repository.lastIndexOf(":");
    if (colon >= 0) {
        tag = repository.slice(colon + 1);
        repository = repository.slice(0, colon);
    }
    return { registry, repository, tag, digest };
}

/** Docker image IDs (`sha256:<hex>`) name content, not a repository: already pinned, no registry. */
export function isImageId(image: string): boolean {
    return /^sha256:[0-9a-f]{64}$/.test(image);
}

/** Why a reference does not pin what runs, or undefined when it does. */
export function unpinnedReason(image: string): string | undefined {
    if (isImageId(image)) {
        return undefined;
    }
    const ref = parseImage(image);
    if (ref.digest) {
        return undefined;
    }
    if (!ref.tag) {
        return `${image} has no tag (it means :latest)`;
    }
    if (ref.tag === "latest") {
        return `${image} uses :latest`;
    }
    return undefined;
}

/**
 * Whether the image comes from one of `allowed` (registry hosts or prefixes such as
 * `123456789012.dkr.ecr.eu-west-1.amazonaws.com` or `europe-west1-docker.pkg.dev/apfa-prod`;
 * `docker.io/library` for Docker Hub's official images).
 */
export function fromAllowedRegistry(image: string, allowed: readonly string[]): boolean {
    if (isImageId(image)) {
        return true;
    }
    const ref = parseImage(image);
    const full = `${ref.registry}/${ref.repository.includes("/") || ref.registry !== "docker.io" ? ref.repository : `library/${ref.repository}`}`;
    return allowed.some((prefix) => {
        const p = prefix.replace(/\/+$/, "");
        return full === p || full.startsWith(`${p}/`);
    });
}
