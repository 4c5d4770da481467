import * as pulumi from "@pulumi/pulumi";

import type { ApfaCluster, AuxService, AuxServiceSpec, SlotDeployment } from "../../cluster";
import { CLUSTER_TYPES } from "../../cluster";
import type { GcpConfig, Slot } from "../../config";
import type { TrafficWeights } from "../../release/weights";

export interface GkeClusterArgs {
    readonly config: GcpConfig;
}

/** GCP target: not yet available; it fails clearly instead of deploying half a stack. */
export class GkeCluster extends pulumi.ComponentResource implements ApfaCluster {
    readonly url!: pulumi.Output<string>;
    readonly slots!: Record<Slot, SlotDeployment>;
    readonly weights!: TrafficWeights;
    readonly trafficUrn!: pulumi.Output<string>;
    readonly extraOutputs!: Record<string, pulumi.Output<unknown>>;

    constructor(name: string, _args: GkeClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super(CLUSTER_TYPES.gcp, name, {}, opts);
        throw new pulumi.ResourceError("The gcp target (GKE) is not yet available in this version of apfa-infra.", this);
    }

    runService(_spec: AuxServiceSpec, _parent: pulumi.Resource): AuxService {
        throw new Error("The gcp target is not yet available.");
    }
}
