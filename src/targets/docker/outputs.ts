/** The docker target's own stack outputs (under the `target` stack output), as plain values. */
export interface DockerTargetOutputs {
    /** The stack's private Docker network. */
    readonly network: string;
    /** The weighted nginx proxy container. */
    readonly proxyContainer: string;
    /** APFA container names per slot. */
    readonly slotContainers: { readonly blue: string[]; readonly green: string[] };
}
