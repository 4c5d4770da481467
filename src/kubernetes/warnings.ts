/**
 * Warnings the Kubernetes targets log at `pulumi up`/`preview` about what their stack leaves open,
 * as pure functions (tested without mocks); the targets attach them to their cluster component.
 */

export interface PublicControlPlane {
    /** "AKS" or "GKE". */
    readonly platform: string;
    /** The config key that restricts the API server's sources, e.g. `apfa:azure.apiServerAuthorizedIpRanges`. */
    readonly configKey: string;
    /** How the API server authenticates each request, e.g. "Google IAM". */
    readonly authentication: string;
}

/**
 * The warning for a control plane whose endpoint accepts connections from any address. Not an
 * error: every request still needs credentials, and many teams run `pulumi up` from CI runners
 * whose addresses they do not know in advance.
 */
export function publicControlPlaneWarning(plane: PublicControlPlane): string {
    return (
        `The ${plane.platform} Kubernetes API is reachable from the internet (every request still needs ${plane.authentication}). ` +
        `Restrict it to your operators' addresses, including wherever \`pulumi up\` runs, with ${plane.configKey} ` +
        `(e.g. \`pulumi config set --path '${plane.configKey}[0]' 203.0.113.0/24\`).`
    );
}
