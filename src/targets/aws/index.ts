import * as pulumi from "@pulumi/pulumi";

import type { ApfaCluster, AuxService, AuxServiceSpec, SlotDeployment } from "../../cluster";
import { CLUSTER_TYPES } from "../../cluster";
import type { AwsConfig, Slot } from "../../config";
import type { TrafficWeights } from "../../release/weights";

export interface EcsClusterArgs {
    readonly config: AwsConfig;
}

/** AWS target: not yet available; it fails clearly instead of deploying half a stack. */
export class EcsCluster extends pulumi.ComponentResource implements ApfaCluster {
    readonly url!: pulumi.Output<string>;
    readonly slots!: Record<Slot, SlotDeployment>;
    readonly weights!: TrafficWeights;
    readonly trafficUrn!: pulumi.Output<string>;
    readonly extraOutputs!: Record<string, pulumi.Output<unknown>>;

    constructor(name: string, _args: EcsClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super(CLUSTER_TYPES.aws, name, {}, opts);
        throw new pulumi.ResourceError("The aws target (ECS Fargate) is not yet available in this version of apfa-infra.", this);
    }

    runService(_spec: AuxServiceSpec, _parent: pulumi.Resource): AuxService {
        throw new Error("The aws target is not yet available.");
    }
}
