/**
 * `apfa:docker`: the dev target's settings. Imported by the config loader without loading
 * @pulumi/docker.
 */
import { z } from "zod";

import { engineVersionProblem } from "../../config/database";
import { port, type StackRule } from "../../config/common";

/**
 * The PostgreSQL image of the dev stack per major version (`apfa:database.majorVersion`): the
 * official image, Alpine variant, pinned to an exact minor so every machine runs the same server.
 * The majors listed are the ones the dev stack accepts.
 */
export const POSTGRES_IMAGES: Readonly<Record<number, string>> = {
    14: "postgres:14.19-alpine",
    15: "postgres:15.14-alpine",
    16: "postgres:16.10-alpine",
    17: "postgres:17.6-alpine",
    18: "postgres:18.0-alpine",
};

export const dockerSettingsSchema = z.strictObject({
    /** Directory (relative to the project) that is built into the APFA image when a slot has no image. @default "app" */
    buildContext: z.string().min(1).default("app"),
    /** Fixed number of containers per slot. @default 2 */
    replicasPerSlot: z.number().int().min(1).max(8).default(2),
    /** Host port of the weighted proxy, bound to 127.0.0.1. @default 8000 */
    proxyPort: port.default(8000),
    /**
     * Publish PostgreSQL on 127.0.0.1:<port> of the Docker host (for psql or a migration tool on
     * the host). Unset: PostgreSQL is reachable on the stack's private network only.
     */
    databaseHostPort: port.optional(),
});

export type DockerSettings = z.output<typeof dockerSettingsSchema>;

/** Rules of a docker stack over several keys: the database version, the host ports. */
export const dockerStackRules: StackRule = ({ own }) => {
    const problems: string[] = [];
    const version = engineVersionProblem(own, Object.keys(POSTGRES_IMAGES).map(Number), "the dev stack (official postgres images)");
    if (version) {
        problems.push(version);
    }
    const docker = dockerSettingsSchema.safeParse(own.docker ?? {});
    if (docker.success && docker.data.databaseHostPort !== undefined && docker.data.databaseHostPort === docker.data.proxyPort) {
        problems.push(`apfa:docker.databaseHostPort: ${docker.data.databaseHostPort} is apfa:docker.proxyPort already; choose another host port`);
    }
    return problems;
};
