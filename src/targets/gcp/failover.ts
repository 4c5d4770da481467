/**
 * The failover controller on GKE, in the failover region (`apfa:multiRegion.regions[1]`): the pod
 * (src/kubernetes/failover-controller.ts) plus the Google identity that may promote this region's
 * Cloud SQL replica and nothing else.
 *
 * - a Google service account, used by the pod's Kubernetes service account through Workload
 *   Identity (`roles/iam.workloadIdentityUser` for `<project>.svc.id.goog[apfa-failover/apfa-failover]`
 *   on that service account only): no key exists;
 * - a custom project role with exactly `cloudsql.instances.get` and `cloudsql.instances.promoteReplica`
 *   (what tools/failover/adapters/cloudsql.ts calls: instances.get, instances.promoteReplica with
 *   `failover=true`), bound with an IAM condition on the replica's resource name: Cloud SQL has no
 *   per-instance IAM policy, and the condition narrows the project binding to that one instance.
 *   The planned switchover drill needs a permission the API reference does not name (UNVERIFIED in
 *   the adapter): not granted; run drills as an operator.
 *
 * Custom roles are soft-deleted for 7 days: re-creating the stack within a week needs
 * `gcloud iam roles undelete` first (the role id is derived from the stack's names).
 */
import * as gcp from "@pulumi/gcp";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { createFailoverWorkload, FAILOVER_NAME, FAILOVER_NAMESPACE, type FailoverWorkload } from "../../kubernetes/failover-controller";
import { workloadIdentityMember } from "./fleet";

export const GCP_FAILOVER_TYPE = "apfa:gcp:FailoverController";
/** What the Cloud SQL adapter calls, and nothing more. */
export const PROMOTE_PERMISSIONS = ["cloudsql.instances.get", "cloudsql.instances.promoteReplica"] as const;

/** The IAM condition that limits the binding to one instance (Cloud SQL resource names: `projects/<p>/instances/<i>`). */
export function replicaCondition(project: string, instance: string) {
    return {
        title: "apfa-failover-replica-only",
        description: `Only the Cloud SQL replica ${instance}`,
        expression: `resource.type == "sqladmin.googleapis.com/Instance" && resource.name == "projects/${project}/instances/${instance}"`,
    };
}

/** The controller's settings (tools/failover/config.ts) for the Cloud SQL adapter. */
export function gcpControllerEnv<T = string>(args: { project: string; replicaInstance: string; primaryHealthUrl: T; standbyHealthUrl: T }): Record<string, T | string> {
    return {
        APFA_FAILOVER_ADAPTER: "cloudsql",
        APFA_FAILOVER_GCP_PROJECT: args.project,
        APFA_FAILOVER_CLOUDSQL_REPLICA: args.replicaInstance,
        // The replica is the primary's designated DR replica: promoteReplica?failover=true, and the
        // DNS write endpoint follows.
        APFA_FAILOVER_CLOUDSQL_DR_REPLICA: "true",
        APFA_FAILOVER_PRIMARY_HEALTH_URLS: args.primaryHealthUrl,
        APFA_FAILOVER_STANDBY_HEALTH_URLS: args.standbyHealthUrl,
    };
}

export interface GcpFailoverControllerArgs {
    readonly image: string;
    readonly project: string;
    readonly replicaInstance: string;
    /** Service account id (6-30 characters) and custom role id of this stack. */
    readonly accountId: string;
    readonly roleId: string;
    readonly primaryHealthUrl: pulumi.Input<string>;
    readonly standbyHealthUrl: pulumi.Input<string>;
    readonly provider: k8s.Provider;
    readonly labels: Record<string, string>;
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

export class GcpFailoverController extends pulumi.ComponentResource {
    readonly serviceAccount: gcp.serviceaccount.Account;
    readonly role: gcp.projects.IAMCustomRole;
    readonly binding: gcp.projects.IAMMember;
    readonly workload: FailoverWorkload;

    constructor(name: string, args: GcpFailoverControllerArgs, opts?: pulumi.ComponentResourceOptions) {
        super(GCP_FAILOVER_TYPE, name, {}, opts);
        const parent = { parent: this };
        const { project } = args;

        this.serviceAccount = new gcp.serviceaccount.Account(
            `${name}-sa`,
            { project, accountId: args.accountId, displayName: "APFA failover controller", description: `Promotes the Cloud SQL replica ${args.replicaInstance} only` },
            parent,
        );
        const workloadIdentity = new gcp.serviceaccount.IAMMember(
            `${name}-workload-identity`,
            { serviceAccountId: this.serviceAccount.name, role: "roles/iam.workloadIdentityUser", member: workloadIdentityMember(project, FAILOVER_NAMESPACE, FAILOVER_NAME) },
            parent,
        );
        this.role = new gcp.projects.IAMCustomRole(
            `${name}-role`,
            { project, roleId: args.roleId, title: "APFA failover: promote one Cloud SQL replica", permissions: [...PROMOTE_PERMISSIONS], stage: "GA" },
            parent,
        );
        this.binding = new gcp.projects.IAMMember(
            `${name}-promote`,
            { project, role: this.role.name, member: pulumi.interpolate`serviceAccount:${this.serviceAccount.email}`, condition: replicaCondition(project, args.replicaInstance) },
            parent,
        );

        this.workload = createFailoverWorkload(
            name,
            {
                image: args.image,
                env: gcpControllerEnv<pulumi.Input<string>>({
                    project,
                    replicaInstance: args.replicaInstance,
                    primaryHealthUrl: args.primaryHealthUrl,
                    standbyHealthUrl: args.standbyHealthUrl,
                }),
                serviceAccountAnnotations: { "iam.gke.io/gcp-service-account": this.serviceAccount.email },
                labels: args.labels,
            },
            { parent: this, provider: args.provider, dependsOn: [...(args.dependsOn ?? []), workloadIdentity, this.binding] },
        );
        this.registerOutputs({ serviceAccount: this.serviceAccount.email, role: this.role.name });
    }
}
