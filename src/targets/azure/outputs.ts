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
}
