/**
 * The factory that picks a target: creates the one `apfa:cloud` names, loading only that target's
 * module (and so only that cloud's SDK): a dev stack never loads @pulumi/aws, @pulumi/azure-native
 * or @pulumi/gcp. The contract the targets implement is in `./contract`; no target imports this file.
 */
import type * as pulumi from "@pulumi/pulumi";

import type { ApfaConfig } from "./config";
import type { ApfaCluster } from "./contract";

export function createCluster(name: string, config: ApfaConfig, opts?: pulumi.ComponentResourceOptions): ApfaCluster {
    /* eslint-disable @typescript-eslint/no-require-imports -- deliberate lazy loading of one cloud's module */
    switch (config.cloud) {
        case "docker": {
            const target: typeof import("./targets/docker") = require("./targets/docker");
            return new target.DockerCluster(name, { config }, opts);
        }
        case "aws": {
            const target: typeof import("./targets/aws") = require("./targets/aws");
            return new target.EcsCluster(name, { config }, opts);
        }
        case "azure": {
            const target: typeof import("./targets/azure") = require("./targets/azure");
            return new target.AksCluster(name, { config }, opts);
        }
        case "gcp": {
            const target: typeof import("./targets/gcp") = require("./targets/gcp");
            return new target.GkeCluster(name, { config }, opts);
        }
    }
    /* eslint-enable @typescript-eslint/no-require-imports */
}
