/**
 * Cloud SQL for PostgreSQL: promotes the cross-region replica through the Cloud SQL Admin API v1.
 *
 *   unplanned  POST https://sqladmin.googleapis.com/v1/projects/{project}/instances/{replica}/promoteReplica?failover=true
 *   planned    POST https://sqladmin.googleapis.com/v1/projects/{project}/instances/{replica}/switchover
 *
 * `failover=true` is a *replica failover* to the designated DR replica of an Enterprise Plus
 * primary (advanced disaster recovery): the old primary rejoins as a replica of the promoted one
 * when it comes back, and the DNS write endpoint follows. Without a DR replica, set
 * `drReplica: false`: a plain promotion that leaves the old primary independent (the apps must be
 * repointed). The switchover is the zero-data-loss role swap for drills. Both answer with an
 * Operation; describe() shows when the instance has become a primary (instanceType).
 * Endpoint shapes checked against the Admin API reference (instances.promoteReplica,
 * instances.switchover: empty request bodies).
 *
 * IAM for the controller's service account: cloudsql.instances.get and
 * cloudsql.instances.promoteReplica (custom role, granted on the project — Cloud SQL has no
 * per-instance IAM bindings; an IAM condition on resource.name narrows it to the replica). The
 * permission the switchover checks is not named in the API reference: UNVERIFIED, use
 * roles/cloudsql.editor for drills until it is confirmed.
 */
import type { TokenProvider } from "./tokens";
import { errorText, expectOk, type FetchLike, type PromotionAdapter, type PromotionRequest, type PromotionResult, type TargetDescription } from "./types";

export interface CloudSqlAdapterOptions {
    readonly project: string;
    /** The replica instance's name (without the project). */
    readonly replicaInstance: string;
    /** The replica is the primary's designated DR replica (Enterprise Plus advanced DR). @default true */
    readonly drReplica?: boolean;
    readonly tokens: TokenProvider;
    readonly fetch: FetchLike;
    /** @default https://sqladmin.googleapis.com */
    readonly endpoint?: string;
}

export class CloudSqlAdapter implements PromotionAdapter {
    constructor(private readonly options: CloudSqlAdapterOptions) {}

    get instanceUrl(): string {
        const base = (this.options.endpoint ?? "https://sqladmin.googleapis.com").replace(/\/+$/, "");
        return `${base}/v1/projects/${encodeURIComponent(this.options.project)}/instances/${encodeURIComponent(this.options.replicaInstance)}`;
    }

    private async headers(): Promise<Record<string, string>> {
        return { Authorization: `Bearer ${await this.options.tokens.token()}` };
    }

    async describe(): Promise<TargetDescription> {
        const base = { adapter: "cloudsql" as const, target: `${this.options.project}:${this.options.replicaInstance}` };
        try {
            const res = await this.options.fetch(this.instanceUrl, { method: "GET", headers: await this.headers(), signal: AbortSignal.timeout(10_000) });
            const body = (await expectOk(res, "GET instance")) as { state?: string; instanceType?: string; region?: string };
            return {
                ...base,
                role: body.instanceType === "READ_REPLICA_INSTANCE" ? "standby" : body.instanceType === "CLOUD_SQL_INSTANCE" ? "primary" : "unknown",
                healthy: body.state === "RUNNABLE",
                detail: `${body.instanceType ?? "?"} in ${body.region ?? "?"}, state ${body.state ?? "?"}`,
            };
        } catch (err) {
            return { ...base, role: "unknown", healthy: false, detail: errorText(err) };
        }
    }

    async promote(request: PromotionRequest): Promise<PromotionResult> {
        const url = request.planned
            ? `${this.instanceUrl}/switchover`
            : `${this.instanceUrl}/promoteReplica${(this.options.drReplica ?? true) ? "?failover=true" : ""}`;
        const res = await this.options.fetch(url, { method: "POST", headers: await this.headers(), signal: AbortSignal.timeout(30_000) });
        const op = (await expectOk(res, request.planned ? "switchover" : "promoteReplica")) as { name?: string; status?: string; operationType?: string };
        return { detail: `${op.operationType ?? (request.planned ? "SWITCHOVER" : "PROMOTE_REPLICA")} operation ${op.name ?? "?"}: ${op.status ?? "?"}` };
    }
}
