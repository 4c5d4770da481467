/** The GKE target's own stack outputs (under the `target` stack output), as plain values. */
export interface GcpTargetOutputs {
    readonly clusterName: string;
    readonly location: string;
    /** Kubeconfig of the cluster using gke-gcloud-auth-plugin (a secret). */
    readonly kubeconfig: string;
    readonly gatewayClass: string;
    /** Namespace APFA runs in. */
    readonly namespace: string;
    /** APFA's node pool. */
    readonly nodePool: string;
    /** Least-privilege service account of the nodes. */
    readonly nodeServiceAccount: string;
    /** The `gcloud container clusters get-credentials` command for this cluster. */
    readonly getCredentials: string;
}
