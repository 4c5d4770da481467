/**
 * Plain PostgreSQL streaming replication (the local rehearsal's stand-in for a managed service):
 * the target is a hot standby; promotion is `SELECT pg_promote()` on it.
 *
 * planned (a switchover drill, no data loss): the old primary is first fenced (new transactions
 * read-only through `default_transaction_read_only`, reloaded), then the standby is promoted once it
 * has replayed everything the primary wrote. Unplanned: promote at once, whatever has not arrived
 * is lost — what Aurora's `AllowDataLoss` means too.
 */
import { Client, type ClientConfig } from "pg";

import { errorText, type PromotionAdapter, type PromotionRequest, type PromotionResult, type TargetDescription } from "./types";

export interface PostgresAdapterOptions {
    /** The standby to promote (connection settings as `pg` takes them; libpq's PG* variables fill gaps). */
    readonly standby: ClientConfig;
    /** The old primary; needed for a planned switchover only. */
    readonly primary?: ClientConfig;
    /** How long pg_promote waits for the promotion to finish. @default 60 */
    readonly promoteWaitSeconds?: number;
    /** Connect and statement timeout of every call (ms). @default 3000 */
    readonly timeoutMs?: number;
    /** How long a planned switchover waits for the standby to catch up (ms). @default 30000 */
    readonly catchUpTimeoutMs?: number;
}

export class PostgresAdapter implements PromotionAdapter {
    private readonly timeoutMs: number;

    constructor(private readonly options: PostgresAdapterOptions) {
        this.timeoutMs = options.timeoutMs ?? 3000;
    }

    /** host:port of the standby, never the credentials. */
    private target(): string {
        const s = this.options.standby;
        if (s.connectionString) {
            try {
                const url = new URL(s.connectionString);
                return `postgres://${url.hostname}:${url.port || 5432}${url.pathname}`;
            } catch {
                return "postgres://(unparsable connection string)";
            }
        }
        return `postgres://${s.host ?? process.env.PGHOST ?? "localhost"}:${s.port ?? process.env.PGPORT ?? 5432}`;
    }

    private async withClient<T>(config: ClientConfig, work: (client: Client) => Promise<T>, statementTimeoutMs = this.timeoutMs): Promise<T> {
        const client = new Client({
            ...config,
            connectionTimeoutMillis: this.timeoutMs,
            statement_timeout: statementTimeoutMs,
            application_name: "apfa-failover",
        });
        // A connection that breaks later emits "error" on the client; without a listener that would crash the process.
        client.on("error", () => undefined);
        await client.connect();
        try {
            return await work(client);
        } finally {
            await client.end().catch(() => undefined);
        }
    }

    async describe(): Promise<TargetDescription> {
        try {
            const inRecovery = await this.withClient(this.options.standby, async (c) => {
                const { rows } = await c.query<{ recovery: boolean }>("SELECT pg_is_in_recovery() AS recovery");
                return rows[0].recovery;
            });
            return {
                adapter: "postgres",
                target: this.target(),
                role: inRecovery ? "standby" : "primary",
                healthy: true,
                detail: inRecovery ? "in recovery (hot standby)" : "not in recovery (accepts writes)",
            };
        } catch (err) {
            return { adapter: "postgres", target: this.target(), role: "unknown", healthy: false, detail: errorText(err) };
        }
    }

    async promote(request: PromotionRequest): Promise<PromotionResult> {
        const wait = this.options.promoteWaitSeconds ?? 60;
        let fenced = "";
        if (request.planned) {
            fenced = await this.fenceAndCatchUp();
        }
        const promoted = await this.withClient(
            this.options.standby,
            async (c) => {
                const { rows } = await c.query<{ promoted: boolean }>("SELECT pg_promote(true, $1) AS promoted", [wait]);
                return rows[0].promoted;
            },
            (wait + 5) * 1000,
        );
        if (!promoted) {
            throw new Error(`pg_promote did not finish within ${wait} s on ${this.target()}`);
        }
        return { detail: `${fenced}pg_promote() completed on ${this.target()}` };
    }

    /** Planned switchover: make the primary refuse new writes, then wait until the standby has replayed all of its WAL. */
    private async fenceAndCatchUp(): Promise<string> {
        const primary = this.options.primary;
        if (!primary) {
            throw new Error("a planned switchover needs the primary's connection settings (to fence it and wait for the standby)");
        }
        const primaryLsn = await this.withClient(primary, async (c) => {
            await c.query("ALTER SYSTEM SET default_transaction_read_only = on");
            await c.query("SELECT pg_reload_conf()");
            // Transactions that began before the reload may still commit: read the LSN after a
            // round trip that started after the reload, and re-check it once caught up.
            const { rows } = await c.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn");
            return rows[0].lsn;
        });
        const deadline = Date.now() + (this.options.catchUpTimeoutMs ?? 30_000);
        let target = primaryLsn;
        for (;;) {
            const behind = await this.withClient(this.options.standby, async (c) => {
                const { rows } = await c.query<{ behind: string }>("SELECT pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn())::text AS behind", [target]);
                return Number(rows[0].behind);
            });
            if (behind <= 0) {
                const latest = await this.withClient(primary, async (c) => (await c.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn")).rows[0].lsn);
                if (latest === target) {
                    return `primary fenced read-only at ${target}, standby caught up; `;
                }
                target = latest;
            }
            if (Date.now() > deadline) {
                throw new Error(`the standby did not replay up to ${target} in time; the primary stays fenced read-only (undo: ALTER SYSTEM RESET default_transaction_read_only)`);
            }
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
    }
}
