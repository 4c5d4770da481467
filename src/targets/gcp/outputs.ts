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
    /** Multi-region stacks (`apfa:multiRegion`): this region's place in the deployment. */
    readonly multiRegion?: {
        readonly region: string;
        readonly topology: string;
        readonly isPrimary: boolean;
        /** The multi-cluster Gateway's URL (the users' entry; the config cluster's Gateway). */
        readonly globalUrl: string;
        /** The database's DNS write endpoint (advanced DR), which follows a failover. */
        readonly writeEndpoint: string;
        /** This cluster's fleet membership. */
        readonly membership: string;
    };
    /** Primary region of a multi-region deployment: the database password its replicas share (secret; read by StackReference). */
    readonly replicationCredential?: string;
}
