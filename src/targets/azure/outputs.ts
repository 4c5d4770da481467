/** The AKS target's own stack outputs (under the `target` stack output), as plain values. */
export interface AzureTargetOutputs {
    readonly clusterName: string;
    readonly resourceGroupName: string;
    /** Kubeconfig of the cluster whose user execs `kubelogin --login azurecli` (no credential in it; kept secret). */
    readonly kubeconfig: string;
    readonly gatewayClass: string;
    /** Public address of the Gateway: where the DNS name of `apfa:azure.tls.domainName` must point. */
    readonly gatewayAddress: string;
    /** Namespace APFA runs in. */
    readonly namespace: string;
    /** OIDC issuer of the cluster, for workload identity federation. */
    readonly oidcIssuerUrl: string;
    /** The `az aks get-credentials` + `kubelogin convert-kubeconfig` commands for this cluster. */
    readonly getCredentials: string;
    /** Multi-region stacks (`apfa:multiRegion`): this region's place and the global entry's names. */
    readonly multiRegion?: {
        readonly region: string;
        readonly topology: string;
        readonly isPrimary: boolean;
        /** Front Door's profile id (the `X-Azure-FDID` value every region's Gateway requires). */
        readonly frontDoorId: string;
        /** The public endpoint's host name (primary only): point your domain's CNAME here. */
        readonly frontDoorHost?: string;
        /** This region's probe endpoint (Front Door, this region only): what the failover controller probes. */
        readonly probeHost: string;
        /** The database's stable writer name (virtual endpoint). */
        readonly writerHost: string;
    };
    /** Primary region of a multi-region deployment: the database password its replicas share (secret; read by StackReference). */
    readonly replicationCredential?: string;
}
