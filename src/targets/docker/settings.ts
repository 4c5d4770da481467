/**
 * `apfa:docker`: the dev target's settings. Imported by the config loader without loading
 * @pulumi/docker.
 */
import { z } from "zod";

import { port } from "../../config/common";

export const dockerSettingsSchema = z.strictObject({
    /** Directory (relative to the project) that is built into the APFA image when a slot has no image. @default "app" */
    buildContext: z.string().min(1).default("app"),
    /** Fixed number of containers per slot. @default 2 */
    replicasPerSlot: z.number().int().min(1).max(8).default(2),
    /** Host port of the weighted proxy, bound to 127.0.0.1. @default 8000 */
    proxyPort: port.default(8000),
});

export type DockerSettings = z.output<typeof dockerSettingsSchema>;
