/**
 * How a region stack of a multi-region deployment (Azure, GCP) reads what only the primary's deploy
 * knows — the generated database password its replica shares, generated names of the global entry
 * — from the primary region stack's `target` output: a StackReference, which reads the state
 * backend, never the primary region itself, so it works while that region is down.
 */
import * as pulumi from "@pulumi/pulumi";

/** The primary region stack's `target` output (`apfa:multiRegion.primaryStack`). */
export function primaryStackTarget(name: string, primaryStack: string | undefined, parent: pulumi.Resource): pulumi.Output<Record<string, unknown>> {
    if (primaryStack === undefined) {
        // Config validation requires it outside the primary region; the guard keeps callers honest.
        throw new pulumi.ResourceError("apfa:multiRegion.primaryStack is required outside the primary region", parent);
    }
    return new pulumi.StackReference(name, { name: primaryStack }, { parent }).requireOutput("target") as pulumi.Output<Record<string, unknown>>;
}

/**
 * One string field of the primary's `target` output, by dotted path (`multiRegion.frontDoorId`);
 * a missing one says to deploy the primary first.
 */
export function requireField(target: Record<string, unknown> | undefined, path: string): string {
    let value: unknown = target;
    for (const part of path.split(".")) {
        value = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[part] : undefined;
    }
    if (typeof value !== "string" || value === "") {
        throw new Error(`the primary region stack has no target.${path} output yet: deploy the primary region (with apfa:multiRegion) first`);
    }
    return value;
}
