/**
 * The release gate's metrics from Prometheus's HTTP API (`/api/v1/query`), at a URL the operator
 * gives (the stack output `prometheusUrl` on dev, a port-forward elsewhere).
 *
 * Series (produced by APFA and scraped by the monitoring component):
 *   apfa_http_requests_total{route,method,code}, apfa_http_request_duration_seconds_bucket{route,method,le}
 * with the target labels `job="apfa"` and `slot="blue"|"green"`. The health path is excluded:
 * load-balancer health checks would dilute the error ratio and the latency.
 */
import type { Slot } from "../../../src/config";
import { SLOTS } from "../../../src/config";
import type { SlotSample } from "../analysis";
import type { MetricSource, SlotHealth } from "./source";

export interface PrometheusQueryOptions {
    /** Prometheus job of the APFA targets. */
    readonly job: string;
    /** APFA's health path, left out of the request counts. */
    readonly healthPath: string;
}

export interface PrometheusQueries {
    readonly requests: string;
    readonly errors: string;
    readonly p95: string;
    /** One series per replica of the slot, value 1 (up) or 0 (down). */
    readonly up: (slot: Slot) => string;
}

/** A PromQL string literal. */
function literal(value: string): string {
    return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** The PromQL the gate runs (pure; every expression is checked against a real Prometheus in the tests). */
export function prometheusQueries(options: PrometheusQueryOptions, windowSeconds: number): PrometheusQueries {
    const window = `${Math.max(1, Math.round(windowSeconds))}s`;
    const selector = (extra = "") =>
        `{job=${literal(options.job)},slot=~"${SLOTS.join("|")}",route!=${literal(options.healthPath)}${extra}}`;
    return {
        requests: `sum by (slot) (increase(apfa_http_requests_total${selector()}[${window}]))`,
        errors: `sum by (slot) (increase(apfa_http_requests_total${selector(',code=~"5.."')}[${window}]))`,
        p95: `histogram_quantile(0.95, sum by (slot, le) (rate(apfa_http_request_duration_seconds_bucket${selector()}[${window}])))`,
        up: (slot) => `up{job=${literal(options.job)},slot=${literal(slot)}}`,
    };
}

interface VectorSample {
    readonly metric: Record<string, string>;
    readonly value: [number, string];
}

/** Thrown when Prometheus cannot be reached or rejects a query. */
export class PrometheusError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PrometheusError";
    }
}

export interface PrometheusSourceOptions extends PrometheusQueryOptions {
    /** Base URL, e.g. http://127.0.0.1:9090. */
    readonly url: string;
    /** Per-request timeout. @default 10000 */
    readonly timeoutMs?: number;
}

export class PrometheusSource implements MetricSource {
    readonly description: string;
    private readonly base: string;

    constructor(private readonly options: PrometheusSourceOptions) {
        this.base = options.url.replace(/\/+$/, "");
        this.description = `prometheus ${this.base} (job="${options.job}")`;
    }

    /** Runs one instant query; returns its vector. */
    async query(expr: string, at: Date): Promise<VectorSample[]> {
        const url = `${this.base}/api/v1/query?${new URLSearchParams({ query: expr, time: (at.getTime() / 1000).toFixed(3) })}`;
        let response: Response;
        try {
            response = await fetch(url, { signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000) });
        } catch (err) {
            throw new PrometheusError(`cannot reach Prometheus at ${this.base}: ${err instanceof Error ? err.message : String(err)}`);
        }
        const text = await response.text();
        let body: { status?: string; error?: string; data?: { resultType?: string; result?: unknown } };
        try {
            body = JSON.parse(text);
        } catch {
            throw new PrometheusError(`Prometheus at ${this.base} answered ${response.status} with non-JSON: ${text.slice(0, 200)}`);
        }
        if (!response.ok || body.status !== "success") {
            throw new PrometheusError(`Prometheus rejected ${expr}: ${body.error ?? `HTTP ${response.status}`}`);
        }
        if (body.data?.resultType !== "vector" || !Array.isArray(body.data.result)) {
            throw new PrometheusError(`expected a vector for ${expr}, got ${body.data?.resultType}`);
        }
        return body.data.result as VectorSample[];
    }

    async sample(windowSeconds: number, at: Date): Promise<Record<Slot, SlotSample>> {
        const q = prometheusQueries(this.options, windowSeconds);
        const [requests, errors, p95] = await Promise.all([q.requests, q.errors, q.p95].map((expr) => this.query(expr, at)));
        const bySlot = (vector: VectorSample[], slot: Slot): number | undefined => {
            const hit = vector.find((s) => s.metric.slot === slot);
            if (!hit) {
                return undefined;
            }
            const value = Number(hit.value[1]);
            return Number.isFinite(value) ? value : undefined;
        };
        const result = {} as Record<Slot, SlotSample>;
        for (const slot of SLOTS) {
            result[slot] = {
                requests: bySlot(requests, slot) ?? 0,
                errors: bySlot(errors, slot) ?? 0,
                p95Seconds: bySlot(p95, slot),
            };
        }
        return result;
    }

    async health(slot: Slot, at: Date): Promise<SlotHealth> {
        const vector = await this.query(prometheusQueries(this.options, 60).up(slot), at);
        let up = 0;
        let down = 0;
        for (const sample of vector) {
            if (Number(sample.value[1]) === 1) {
                up += 1;
            } else {
                down += 1;
            }
        }
        return { up, down };
    }
}
