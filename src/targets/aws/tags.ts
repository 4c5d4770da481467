/**
 * The one tag helper of the AWS target: every taggable resource gets its tags from here.
 */
import type { AwsConfig } from "../../config";

export type Tags = Record<string, string>;

/** What `awsTags` needs of the config (pure: tests pass a literal). */
export type TagSource = Pick<AwsConfig, "project" | "stack" | "tags">;

/**
 * Tags of one resource: the stack's user tags, then the stack identity (`project`, `stack`,
 * `managed-by`) which user tags cannot override, then `Name` (what the console lists) and any
 * resource-specific extras (e.g. `slot`).
 */
export function awsTags(config: TagSource, name: string, extra: Readonly<Tags> = {}): Tags {
    return {
        ...config.tags,
        project: config.project,
        stack: config.stack,
        "managed-by": "pulumi",
        ...extra,
        Name: name,
    };
}
