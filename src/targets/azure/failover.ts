/**
 * The failover controller on AKS, in the failover region (`apfa:multiRegion.regions[1]`): the pod
 * (src/kubernetes/failover-controller.ts) plus the Azure identity that may promote this region's
 * replica and nothing else.
 *
 * - a user-assigned managed identity, federated with the controller's Kubernetes service account
 *   (AKS workload identity: the cluster's OIDC issuer, subject
 *   `system:serviceaccount:apfa-failover:apfa-failover`), so no client secret exists anywhere;
 * - a custom role with `Microsoft.DBforPostgreSQL/flexibleServers/read` and `/write` whose
 *   assignable scope is the replica server alone, assigned to that identity at that server. The
 *   promote is a PATCH of the replica's `replica` properties (tools/failover/adapters/azure-postgres.ts),
 *   which ARM authorises with flexibleServers/write on the server it addresses.
 *
 * Azure never promotes a replica by itself, so this pod is what makes the failover automatic.
 */
import * as authorization from "@pulumi/azure-native/authorization";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

import { createFailoverWorkload, FAILOVER_NAME, FAILOVER_NAMESPACE, type FailoverWorkload } from "../../kubernetes/failover-controller";
import { azureControllerEnv, promoteRoleDefinition } from "./multiregion";

export const AZURE_FAILOVER_TYPE = "apfa:azure:FailoverController";
/** The audience AKS workload identity tokens carry for Entra ID. */
export const WORKLOAD_IDENTITY_AUDIENCE = "api://AzureADTokenExchange";

export interface AzureFailoverControllerArgs {
    readonly image: string;
    readonly location: string;
    readonly resourceGroupName: pulumi.Input<string>;
    readonly subscriptionId: pulumi.Input<string>;
    /** The replica server (this region's): the only resource the identity may change. */
    readonly replicaServerId: pulumi.Input<string>;
    readonly replicaServerName: pulumi.Input<string>;
    /** The cluster's OIDC issuer URL (workload identity federation). */
    readonly oidcIssuerUrl: pulumi.Input<string>;
    readonly primaryHealthUrl: pulumi.Input<string>;
    readonly standbyHealthUrl: pulumi.Input<string>;
    readonly identityName: string;
    readonly provider: k8s.Provider;
    readonly tags: Record<string, string>;
    readonly labels: Record<string, string>;
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

export class AzureFailoverController extends pulumi.ComponentResource {
    readonly identity: managedidentity.UserAssignedIdentity;
    readonly role: authorization.RoleDefinition;
    readonly assignment: authorization.RoleAssignment;
    readonly workload: FailoverWorkload;

    constructor(name: string, args: AzureFailoverControllerArgs, opts?: pulumi.ComponentResourceOptions) {
        super(AZURE_FAILOVER_TYPE, name, {}, opts);
        const parent = { parent: this };

        this.identity = new managedidentity.UserAssignedIdentity(
            `${name}-identity`,
            { resourceGroupName: args.resourceGroupName, resourceName: args.identityName, location: args.location, tags: args.tags },
            parent,
        );
        const federation = new managedidentity.FederatedIdentityCredential(
            `${name}-federation`,
            {
                resourceGroupName: args.resourceGroupName,
                resourceName: this.identity.name,
                federatedIdentityCredentialResourceName: FAILOVER_NAME,
                issuer: args.oidcIssuerUrl,
                subject: `system:serviceaccount:${FAILOVER_NAMESPACE}:${FAILOVER_NAME}`,
                audiences: [WORKLOAD_IDENTITY_AUDIENCE],
            },
            parent,
        );

        // A role definition's id is its resource name and must be a GUID; kept stable in state.
        const roleId = new random.RandomUuid(`${name}-role-id`, {}, parent);
        const definition = pulumi.output(args.replicaServerId).apply((id) => promoteRoleDefinition(id, `APFA failover promote ${args.identityName}`));
        this.role = new authorization.RoleDefinition(
            `${name}-role`,
            {
                roleDefinitionId: roleId.result,
                scope: args.replicaServerId,
                roleName: definition.roleName,
                description: definition.description,
                roleType: "CustomRole",
                permissions: definition.permissions,
                assignableScopes: definition.assignableScopes,
            },
            parent,
        );
        this.assignment = new authorization.RoleAssignment(
            `${name}-promote`,
            {
                principalId: this.identity.principalId,
                principalType: "ServicePrincipal",
                roleDefinitionId: this.role.id,
                scope: args.replicaServerId,
                description: "APFA failover controller: promote this replica when the primary region stays unhealthy",
            },
            parent,
        );

        this.workload = createFailoverWorkload(
            name,
            {
                image: args.image,
                env: azureControllerEnv<pulumi.Input<string>>({
                    subscriptionId: args.subscriptionId,
                    resourceGroup: args.resourceGroupName,
                    replicaServer: args.replicaServerName,
                    primaryHealthUrl: args.primaryHealthUrl,
                    standbyHealthUrl: args.standbyHealthUrl,
                }),
                serviceAccountAnnotations: { "azure.workload.identity/client-id": this.identity.clientId },
                podLabels: { "azure.workload.identity/use": "true" },
                labels: args.labels,
            },
            { parent: this, provider: args.provider, dependsOn: [...(args.dependsOn ?? []), federation, this.assignment] },
        );
        this.registerOutputs({ identityClientId: this.identity.clientId, roleId: this.role.id });
    }
}
