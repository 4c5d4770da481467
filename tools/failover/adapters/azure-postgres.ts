/**
 * Azure Database for PostgreSQL flexible server: promotes the cross-region read replica. Azure
 * never promotes a replica by itself ("Promote read replicas": a user action is always required),
 * so this adapter is what makes the failover automatic.
 *
 *   PATCH {arm}/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DBforPostgreSQL/flexibleServers/{replica}?api-version=2025-08-01
 *   { "properties": { "replica": { "promoteMode": "Switchover", "promoteOption": "Forced" | "Planned" } } }
 *
 * promoteOption: "Forced" on the unplanned path (start at once, without waiting for the replica to
 * catch up: what has not replicated is lost), "Planned" for a drill (waits for full
 * synchronisation: no data loss). promoteMode "Switchover" ("promote to primary server") swaps roles
 * and needs **virtual endpoints**: the writer endpoint then follows the new primary, so the apps
 * keep one connection string; "Standalone" detaches the replica instead (the apps must be pointed
 * at it). Names and values checked in @pulumi/azure-native's dbforpostgresql ReplicaArgs
 * (promoteMode: Standalone | Switchover; promoteOption: Planned | Forced; both write-only) and the
 * API version its Server resource uses (2025-08-01).
 *
 * ARM answers 202 with an Azure-AsyncOperation (or Location) URL; the adapter returns it and
 * describe() shows when the role has changed (properties.replica.role).
 *
 * Role assignment for the controller's identity (least privilege): a custom role with
 * Microsoft.DBforPostgreSQL/flexibleServers/read and /write on the replica server only.
 */
import { expectOk, errorText, type FetchLike, type PromotionAdapter, type PromotionRequest, type PromotionResult, type TargetDescription } from "./types";
import type { TokenProvider } from "./tokens";

export const AZURE_POSTGRES_API_VERSION = "2025-08-01";

export interface AzurePostgresAdapterOptions {
    readonly subscriptionId: string;
    readonly resourceGroup: string;
    /** The replica server's name (in the standby region). */
    readonly replicaServer: string;
    /** @default "Switchover" (keeps the virtual writer endpoint pointing at the primary) */
    readonly promoteMode?: "Switchover" | "Standalone";
    readonly tokens: TokenProvider;
    readonly fetch: FetchLike;
    /** @default https://management.azure.com */
    readonly armEndpoint?: string;
}

export class AzurePostgresAdapter implements PromotionAdapter {
    constructor(private readonly options: AzurePostgresAdapterOptions) {}

    /** The replica server's ARM resource URL, API version included. */
    get resourceUrl(): string {
        const o = this.options;
        const arm = (o.armEndpoint ?? "https://management.azure.com").replace(/\/+$/, "");
        const path = [
            "subscriptions",
            encodeURIComponent(o.subscriptionId),
            "resourceGroups",
            encodeURIComponent(o.resourceGroup),
            "providers/Microsoft.DBforPostgreSQL/flexibleServers",
            encodeURIComponent(o.replicaServer),
        ].join("/");
        return `${arm}/${path}?api-version=${AZURE_POSTGRES_API_VERSION}`;
    }

    private async headers(): Promise<Record<string, string>> {
        return { Authorization: `Bearer ${await this.options.tokens.token()}`, "Content-Type": "application/json" };
    }

    async describe(): Promise<TargetDescription> {
        const base = { adapter: "azure-postgres" as const, target: `${this.options.resourceGroup}/${this.options.replicaServer}` };
        try {
            const res = await this.options.fetch(this.resourceUrl, { method: "GET", headers: await this.headers(), signal: AbortSignal.timeout(10_000) });
            const body = (await expectOk(res, "GET flexible server")) as { properties?: { state?: string; replica?: { role?: string; replicationState?: string } } };
            const role = body.properties?.replica?.role;
            const state = body.properties?.state;
            return {
                ...base,
                // AsyncReplica / GeoAsyncReplica are replicas; Primary, or None (a standalone server), take writes.
                role: role === "AsyncReplica" || role === "GeoAsyncReplica" ? "standby" : role === "Primary" || role === "None" ? "primary" : "unknown",
                healthy: state === "Ready",
                detail: `state ${state ?? "?"}, replica role ${role ?? "?"}, replication ${body.properties?.replica?.replicationState ?? "?"}`,
            };
        } catch (err) {
            return { ...base, role: "unknown", healthy: false, detail: errorText(err) };
        }
    }

    async promote(request: PromotionRequest): Promise<PromotionResult> {
        const replica = { promoteMode: this.options.promoteMode ?? "Switchover", promoteOption: request.planned ? "Planned" : "Forced" };
        const res = await this.options.fetch(this.resourceUrl, {
            method: "PATCH",
            headers: await this.headers(),
            body: JSON.stringify({ properties: { replica } }),
            signal: AbortSignal.timeout(30_000),
        });
        await expectOk(res, "PATCH flexible server (promote)");
        const operation = res.headers.get("azure-asyncoperation") ?? res.headers.get("location") ?? "";
        return { detail: `${replica.promoteMode}/${replica.promoteOption} accepted (HTTP ${res.status})${operation ? `; operation ${operation}` : ""}` };
    }
}
