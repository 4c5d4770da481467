/**
 * The kubeconfig of an AKS cluster with Entra ID authentication, as a pure function of the
 * cluster's user credentials (no SDK import).
 *
 * The cluster has local accounts disabled: no client certificate or static token exists, and every
 * request carries an Entra ID token. The credentials AKS returns (`listClusterUserCredential`,
 * format `exec`) already exec `kubelogin`, but in its interactive `devicecode` mode, which would
 * hang a `pulumi up`. This kubeconfig keeps the cluster entry (server, CA) and replaces the user with
 * `kubelogin get-token --login azurecli`: the token comes from the Azure CLI session of whoever runs
 * Pulumi (`az login` on a laptop, `azure/login` in CI). kubelogin reads `AAD_LOGIN_METHOD` from the
 * environment over the flag, so another mode (e.g. `workloadidentity`, `spn`) needs no code change.
 */
import { parse, stringify } from "yaml";

/** Application id of the AKS Entra ID server app: the audience of the token (the same in every tenant). */
export const AKS_AAD_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
export const KUBELOGIN = "kubelogin";
export const KUBELOGIN_EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1";
/** The login mode the generated kubeconfig asks kubelogin for. */
export const KUBELOGIN_LOGIN_MODE = "azurecli";

interface KubeconfigDoc {
    clusters?: { name?: string; cluster?: { server?: string; "certificate-authority-data"?: string } }[];
    contexts?: { name?: string; context?: { cluster?: string; user?: string } }[];
    users?: { name?: string; user?: { exec?: { args?: unknown[] } } }[];
    "current-context"?: string;
}

/** The value after `flag` in an exec argument list (`--server-id X` or `--server-id=X`), if any. */
export function execFlag(args: readonly unknown[] | undefined, flag: string): string | undefined {
    const list = (args ?? []).map(String);
    for (let i = 0; i < list.length; i++) {
        if (list[i] === flag && i + 1 < list.length) {
            return list[i + 1];
        }
        if (list[i].startsWith(`${flag}=`)) {
            return list[i].slice(flag.length + 1);
        }
    }
    return undefined;
}

/**
 * A kubeconfig for the cluster of `credentials` (the YAML AKS returned) whose only user execs
 * `kubelogin get-token --login azurecli`, with the server id (and tenant, when AKS named one) taken
 * from AKS's own exec user. Any certificate or token in `credentials` is dropped.
 * @throws Error when the credentials name no cluster server
 */
export function aksKubeloginKubeconfig(credentials: string): string {
    const doc = (parse(credentials) ?? {}) as KubeconfigDoc;
    const currentContext = doc.contexts?.find((c) => c.name === doc["current-context"]) ?? doc.contexts?.[0];
    const cluster = doc.clusters?.find((c) => c.name === currentContext?.context?.cluster) ?? doc.clusters?.[0];
    const server = cluster?.cluster?.server;
    if (!cluster?.name || !server) {
        throw new Error("the AKS credentials name no cluster server");
    }
    const aksUser = doc.users?.find((u) => u.name === currentContext?.context?.user) ?? doc.users?.[0];
    const execArgs = aksUser?.user?.exec?.args;
    const serverId = execFlag(execArgs, "--server-id") ?? AKS_AAD_SERVER_APP_ID;
    const tenantId = execFlag(execArgs, "--tenant-id");
    const name = cluster.name;
    const user = `${name}-kubelogin`;
    return stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name, cluster: { server, ...(cluster.cluster?.["certificate-authority-data"] ? { "certificate-authority-data": cluster.cluster["certificate-authority-data"] } : {}) } }],
        contexts: [{ name, context: { cluster: name, user } }],
        "current-context": name,
        users: [
            {
                name: user,
                user: {
                    exec: {
                        apiVersion: KUBELOGIN_EXEC_API_VERSION,
                        command: KUBELOGIN,
                        args: ["get-token", "--login", KUBELOGIN_LOGIN_MODE, "--server-id", serverId, ...(tenantId ? ["--tenant-id", tenantId] : [])],
                        installHint:
                            "Install kubelogin (`az aks install-cli`, or https://azure.github.io/kubelogin/install.html) and log in with `az login`; " +
                            "set AAD_LOGIN_METHOD to use another login mode (e.g. workloadidentity, spn).",
                        provideClusterInfo: false,
                    },
                },
            },
        ],
        preferences: {},
    });
}
