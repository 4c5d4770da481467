import * as pulumi from "@pulumi/pulumi";

import type { ApfaCluster, AuxService, AuxServiceSpec, SlotDeployment } from "../../cluster";
import { CLUSTER_TYPES } from "../../cluster";
import type { AzureConfig, Slot } from "../../config";
import type { TrafficWeights } from "../../release/weights";

export interface AksClusterArgs {
    readonly config: AzureConfig;
}

/** Azure target: not yet available; it fails clearly instead of deploying half a stack. */
export class AksCluster extends pulumi.ComponentResource implements ApfaCluster {
    readonly url!: pulumi.Output<string>;
    readonly slots!: Record<Slot, SlotDeployment>;
    readonly weights!: TrafficWeights;
    readonly trafficUrn!: pulumi.Output<string>;
    readonly extraOutputs!: Record<string, pulumi.Output<unknown>>;

    constructor(name: string, _args: AksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super(CLUSTER_TYPES.azure, name, {}, opts);
        throw new pulumi.ResourceError("The azure target (AKS) is not yet available in this version of apfa-infra.", this);
    }

    runService(_spec: AuxServiceSpec, _parent: pulumi.Resource): AuxService {
        throw new Error("The azure target is not yet available.");
    }
}
