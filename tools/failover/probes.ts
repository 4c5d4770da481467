/**
 * Health probes the controller runs each loop, from outside the primary region.
 *
 * A region is healthy when at least one of its health URLs answers 2xx within the timeout (one
 * replica is enough to serve) and, where a database probe is configured, the database answers too.
 */
import { Client, type ClientConfig } from "pg";

import { errorText, type FetchLike } from "./adapters/types";

export interface ProbeResult {
    readonly healthy: boolean;
    /** Per target: "200", "timeout", "ECONNREFUSED", … */
    readonly detail: string;
}

export type Probe = () => Promise<ProbeResult>;

/** GETs every URL in parallel; healthy when any answers 2xx. */
export function httpProbe(urls: readonly string[], timeoutMs: number, fetchFn: FetchLike = fetch): Probe {
    return async () => {
        const results = await Promise.all(
            urls.map(async (url) => {
                try {
                    const res = await fetchFn(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
                    await res.body?.cancel();
                    return { ok: res.status >= 200 && res.status < 300, text: String(res.status) };
                } catch (err) {
                    // fetch wraps the network error: its cause says what happened (ECONNREFUSED, …).
                    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
                    const name = (err as Error).name;
                    return { ok: false, text: name === "TimeoutError" ? "timeout" : (cause?.code ?? cause?.message ?? errorText(err)) };
                }
            }),
        );
        return { healthy: results.some((r) => r.ok), detail: urls.map((u, i) => `${u} ${results[i].text}`).join("; ") };
    };
}

/** Connects and runs `SELECT 1` within the timeout. */
export function postgresProbe(config: ClientConfig, timeoutMs: number): Probe {
    return async () => {
        const client = new Client({ ...config, connectionTimeoutMillis: timeoutMs, statement_timeout: timeoutMs, application_name: "apfa-failover-probe" });
        client.on("error", () => undefined);
        try {
            await client.connect();
            await client.query("SELECT 1");
            return { healthy: true, detail: "db ok" };
        } catch (err) {
            return { healthy: false, detail: `db ${(err as { code?: string }).code ?? errorText(err)}` };
        } finally {
            await client.end().catch(() => undefined);
        }
    };
}

/** Healthy when every probe is; runs them in parallel. */
export function allOf(probes: readonly Probe[]): Probe {
    return async () => {
        const results = await Promise.all(probes.map((p) => p()));
        return { healthy: results.every((r) => r.healthy), detail: results.map((r) => r.detail).join("; ") };
    };
}
