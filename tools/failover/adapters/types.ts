/**
 * The one seam between the controller and a database service: describe the promotion target, and
 * promote it. One implementation per service (Aurora Global Database, Azure Database for
 * PostgreSQL flexible server, Cloud SQL, and plain PostgreSQL for the local rehearsal).
 */
import type { TargetRole } from "../decision";

export type AdapterKind = "postgres" | "aurora-global" | "azure-postgres" | "cloudsql";

export interface TargetDescription {
    readonly adapter: AdapterKind;
    /** What would be promoted, for people (cluster ARN, server ID, host:port). */
    readonly target: string;
    /** "unknown" when the service could not be asked (the call failed). */
    readonly role: TargetRole;
    /** The target answers and could take writes once promoted (e.g. not headless, not stopped). */
    readonly healthy: boolean;
    /** Why, in a few words (status fields the service returned, or the error). */
    readonly detail: string;
}

export interface PromotionRequest {
    /**
     * true: a planned switchover drill, with no data loss (the service waits for the standby to
     * catch up, and the old primary becomes a standby). false: the unplanned failover of a region
     * outage, which accepts losing what had not replicated yet.
     */
    readonly planned: boolean;
}

export interface PromotionResult {
    /** What the service said: operation ID/URL, status. */
    readonly detail: string;
}

export interface PromotionAdapter {
    describe(): Promise<TargetDescription>;
    /** Starts (and, where the API is synchronous, completes) the promotion; throws when it was refused. */
    promote(request: PromotionRequest): Promise<PromotionResult>;
}

/** `fetch` as the cloud adapters use it, so tests hand in a fake that records calls. */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

/** Short text for an error, whatever was thrown. */
export function errorText(err: unknown): string {
    return err instanceof Error ? `${err.name === "Error" ? "" : `${err.name}: `}${err.message}` : String(err);
}

/** Throws with the response's status and (a bounded part of) its body unless it is 2xx. */
export async function expectOk(response: Response, what: string): Promise<unknown> {
    const text = await response.text();
    if (!response.ok) {
        throw new Error(`${what}: HTTP ${response.status} ${text.slice(0, 500)}`);
    }
    if (text === "") {
        return {};
    }
    try {
        return JSON.parse(text) as unknown;
    } catch {
        throw new Error(`${what}: HTTP ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
}
