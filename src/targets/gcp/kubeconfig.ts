/**
 * The kubeconfig of a GKE cluster, as a pure function of its endpoint and CA.
 *
 * Authentication uses the `gke-gcloud-auth-plugin` exec credential plugin (the only supported way
 * since Kubernetes 1.26 removed the built-in gcp auth provider): the kubeconfig holds no token or
 * key, and every client — the Pulumi Kubernetes provider included — gets a short-lived token from
 * the caller's own gcloud credentials.
 */
import { stringify } from "yaml";

export interface GkeKubeconfigArgs {
    /** Name of the cluster, user and context entries (e.g. `gke_<project>_<region>_<cluster>`). */
    readonly contextName: string;
    /** The cluster's endpoint: an IP address or host name, with or without `https://`. */
    readonly endpoint: string;
    /** `masterAuth.clusterCaCertificate`: the cluster CA, PEM, base64-encoded (as GKE returns it). */
    readonly caCertificate: string;
}

/** The exec API version `gke-gcloud-auth-plugin` speaks. */
export const GKE_AUTH_EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1";
export const GKE_AUTH_PLUGIN = "gke-gcloud-auth-plugin";

/** The context name gcloud itself uses (`gcloud container clusters get-credentials`). */
export function gkeContextName(project: string, location: string, clusterName: string): string {
    return `gke_${project}_${location}_${clusterName}`;
}

/** A kubeconfig document (YAML) for one GKE cluster. */
export function gkeKubeconfig(args: GkeKubeconfigArgs): string {
    const server = /^https?:\/\//.test(args.endpoint) ? args.endpoint : `https://${args.endpoint}`;
    const name = args.contextName;
    const doc = {
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name, cluster: { server, "certificate-authority-data": args.caCertificate } }],
        contexts: [{ name, context: { cluster: name, user: name } }],
        "current-context": name,
        users: [
            {
                name,
                user: {
                    exec: {
                        apiVersion: GKE_AUTH_EXEC_API_VERSION,
                        command: GKE_AUTH_PLUGIN,
                        installHint:
                            "Install gke-gcloud-auth-plugin (`gcloud components install gke-gcloud-auth-plugin`) and log in " +
                            "with `gcloud auth login` or application-default credentials.",
                        provideClusterInfo: true,
                    },
                },
            },
        ],
        preferences: {},
    };
    return stringify(doc);
}
