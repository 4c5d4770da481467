/** The AKS target's own stack outputs (under the `target` stack output), as plain values. */
export interface AzureTargetOutputs {
    readonly clusterName: string;
    readonly resourceGroupName: string;
    /** Admin-free kubeconfig of the cluster (a secret). */
    readonly kubeconfig: string;
    readonly gatewayClass: string;
    /** Namespace APFA runs in. */
    readonly namespace: string;
    /** OIDC issuer of the cluster, for workload identity federation. */
    readonly oidcIssuerUrl: string;
    /** The `az aks get-credentials` command for this cluster. */
    readonly getCredentials: string;
}
