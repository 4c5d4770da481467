/** The GKE target's own stack outputs (under the `target` stack output), as plain values. */
export interface GcpTargetOutputs {
    readonly clusterName: string;
    readonly location: string;
    /** Kubeconfig of the cluster using gke-gcloud-auth-plugin (a secret). */
    readonly kubeconfig: string;
    readonly gatewayClass: string;
    /** Public address of the Gateway: where the A record of `apfa:gcp.tls.domainName` must point. */
    readonly gatewayAddress: string;
    /** With TLS: the CNAME record (`name CNAME target`) that authorises Google to issue the certificate. */
    readonly certificateDnsRecord?: string;
    /** Namespace APFA runs in. */
    readonly namespace: string;
    /** APFA's node pool. */
    readonly nodePool: string;
    /** Least-privilege service account of the nodes. */
    readonly nodeServiceAccount: string;
    /** The `gcloud container clusters get-credentials` command for this cluster. */
    readonly getCredentials: string;
}
