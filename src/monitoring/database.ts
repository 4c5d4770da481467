/**
 * Database monitoring from APFA's own metrics, the same on every target: what the app sees of its
 * database (reachability, statement latency, errors, pool pressure), as recording and alerting
 * rules and a row of the overview dashboard.
 *
 * The app exports these only when it has a database (PGHOST set); without one the series are
 * absent and no rule fires (no rule here uses `absent()`).
 *
 * The platform's own view (CPU, memory, capacity, replica lag) comes from the platform where
 * Prometheus cannot see it: CloudWatch alarms on AWS (src/targets/aws/database.ts); on the dev stack
 * the database is one container without replicas, watched by its Docker healthcheck.
 */
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";

import { APFA_JOB, SLOT_LABEL } from "./prometheus";

/** The app's database metrics (app/server.js documents them). */
export const DB_METRICS = {
    up: "apfa_db_up",
    queryDuration: "apfa_db_query_duration_seconds",
    errors: "apfa_db_errors_total",
    poolConnections: "apfa_db_pool_connections",
    poolWaiting: "apfa_db_pool_waiting_requests",
    poolMax: "apfa_db_pool_max_connections",
} as const;

const job = `job="${APFA_JOB}"`;

/** Recorded series of the database rules, shared with the dashboard. */
export const DB_RECORDED = {
    /** Per job and slot: statement duration quantile over 5m, e.g. q=0.95 → …:p95_rate5m. */
    latency: (q: number) => `job_slot:apfa_db_query_duration_seconds:p${Math.round(q * 100)}_rate5m`,
    /** Per job and slot: statements the server answered, per second. */
    statementRate: "job_slot:apfa_db_statements:rate5m",
    /** Per job and slot: failed database calls per second (0 when none). */
    errorRate: "job_slot:apfa_db_errors:rate5m",
    /** Per job and slot: failed calls / all calls. */
    errorRatio: "job_slot:apfa_db_error_ratio:rate5m",
} as const;

export const DB_LATENCY_QUANTILES = [0.5, 0.95, 0.99] as const;

/** Thresholds of the database alerts. */
export const DB_THRESHOLDS = {
    /** Fraction of failed database calls over 5m above which a slot's database access is broken. */
    errorRatio: 0.05,
    /** p95 statement duration (seconds) above which statements are slow: APFA's statements are single-row. */
    p95Seconds: 0.25,
} as const;

/** The rule shapes of src/monitoring/rules.ts, repeated structurally (rules.ts imports this module). */
interface Recording {
    readonly record: string;
    readonly expr: string;
}
interface Alerting {
    readonly alert: string;
    readonly expr: string;
    readonly for: string;
    readonly labels: { readonly severity: "page" | "ticket" };
    readonly annotations: { readonly summary: string; readonly description: string; readonly runbook_url: string };
}

/** The recording rules of the database group. */
export function databaseRecordingRules(): Recording[] {
    const by = `sum by (job, ${SLOT_LABEL})`;
    return [
        ...DB_LATENCY_QUANTILES.map((q) => ({
            record: DB_RECORDED.latency(q),
            expr: `histogram_quantile(${q}, sum by (job, ${SLOT_LABEL}, le) (rate(${DB_METRICS.queryDuration}_bucket{${job}}[5m])))`,
        })),
        { record: DB_RECORDED.statementRate, expr: `${by} (rate(${DB_METRICS.queryDuration}_count{${job}}[5m]))` },
        { record: DB_RECORDED.errorRate, expr: `${by} (rate(${DB_METRICS.errors}{${job}}[5m]))` },
        // Errors over every call: answered statements plus the calls that got no answer (a slot
        // without calls gives NaN, which no threshold crosses).
        { record: DB_RECORDED.errorRatio, expr: `${DB_RECORDED.errorRate} / (${DB_RECORDED.statementRate} + ${DB_RECORDED.errorRate})` },
    ];
}

/** The database alerts; `runbook` turns an alert name into its runbook URL. */
export function databaseAlertingRules(runbook: (alert: string) => string): Alerting[] {
    const pct = `${DB_THRESHOLDS.errorRatio * 100}%`;
    return [
        {
            alert: "ApfaDatabaseUnreachable",
            // No replica of any slot reaches a writable database: every write fails.
            expr: `max by (job) (${DB_METRICS.up}{${job}}) == 0`,
            for: "2m",
            labels: { severity: "page" },
            annotations: {
                summary: "No APFA replica reaches a writable database",
                description:
                    "Every APFA replica reports apfa_db_up 0 for 2 minutes: the database is down, unreachable, failing over or read-only. " +
                    "APFA stays live (health 200) and its data API answers 503.",
                runbook_url: runbook("ApfaDatabaseUnreachable"),
            },
        },
        {
            alert: "ApfaDatabaseErrors",
            expr: `${DB_RECORDED.errorRatio} > ${DB_THRESHOLDS.errorRatio}`,
            for: "10m",
            labels: { severity: "ticket" },
            annotations: {
                summary: `More than ${pct} of slot {{ $labels.slot }}'s database calls fail`,
                description:
                    `Over 10 minutes more than ${pct} of the database calls of the {{ $labels.slot }} slot failed (connects, lost connections, ` +
                    "timeouts, read-only answers, rejected statements). The kind label of apfa_db_errors_total says which.",
                runbook_url: runbook("ApfaDatabaseErrors"),
            },
        },
        {
            alert: "ApfaDatabaseSlowStatements",
            expr: `${DB_RECORDED.latency(0.95)} > ${DB_THRESHOLDS.p95Seconds}`,
            for: "10m",
            labels: { severity: "ticket" },
            annotations: {
                summary: `Slot {{ $labels.slot }}'s database statements take over ${DB_THRESHOLDS.p95Seconds}s at p95`,
                description: `The 95th percentile of statement duration in the {{ $labels.slot }} slot has been above ${DB_THRESHOLDS.p95Seconds}s for 10 minutes.`,
                runbook_url: runbook("ApfaDatabaseSlowStatements"),
            },
        },
        {
            alert: "ApfaDatabasePoolExhausted",
            // Every pooled connection in use and requests queueing for one, in some replica.
            expr:
                `(${DB_METRICS.poolConnections}{${job}} >= ${DB_METRICS.poolMax}{${job}}) ` +
                `and (${DB_METRICS.poolWaiting}{${job}} > 0)`,
            for: "10m",
            labels: { severity: "ticket" },
            annotations: {
                summary: "APFA replica {{ $labels.instance }} ({{ $labels.slot }}) waits for database connections",
                description:
                    "The replica's connection pool has been full with requests waiting for 10 minutes. Raise DB_POOL_MAX (within the server's " +
                    "max_connections for all replicas of both slots) or find the slow statements holding connections.",
                runbook_url: runbook("ApfaDatabasePoolExhausted"),
            },
        },
    ];
}

/** The rule group name. */
export const DATABASE_RULE_GROUP = "apfa-database";

function panel(datasource: common.DataSourceRef, id: number, title: string, unit: string, targets: { expr: string; legend: string }[]): timeseries.PanelBuilder {
    const builder = new timeseries.PanelBuilder()
        .id(id)
        .datasource(datasource)
        .title(title)
        .unit(unit)
        .span(12)
        .height(8)
        .lineWidth(1)
        .fillOpacity(10)
        .min(0)
        .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom));
    targets.forEach((t, i) => builder.withTarget(new prometheus.DataqueryBuilder().datasource(datasource).expr(t.expr).legendFormat(t.legend).refId(String.fromCharCode(65 + i)).range()));
    return builder;
}

/**
 * The overview dashboard's "Database" row: reachability, statement latency, errors by kind, pool.
 * `datasource` is the dashboard's one Prometheus datasource; `nextId` its panel-id sequence.
 */
export function addDatabaseRow(builder: dashboard.DashboardBuilder, nextId: () => number, datasource: common.DataSourceRef): void {
    builder.withRow(new dashboard.RowBuilder("Database").id(nextId()));
    const panels = [
        panel(datasource, nextId(), "Database: replicas reaching it, by slot", "short", [
            { expr: `sum by (${SLOT_LABEL}) (${DB_METRICS.up}{${job}})`, legend: "{{slot}} reachable" },
            { expr: `count by (${SLOT_LABEL}) (${DB_METRICS.up}{${job}})`, legend: "{{slot}} replicas" },
        ]),
        panel(
            datasource,
            nextId(),
            "Database: statement duration (5m)",
            "s",
            DB_LATENCY_QUANTILES.map((q) => ({ expr: `${DB_RECORDED.latency(q)}{${job}}`, legend: `{{slot}} p${Math.round(q * 100)}` })),
        ),
        panel(datasource, nextId(), "Database: failed calls per second, by kind", "ops", [
            { expr: `sum by (${SLOT_LABEL}, kind) (rate(${DB_METRICS.errors}{${job}}[$__rate_interval]))`, legend: "{{slot}} {{kind}}" },
        ]),
        panel(datasource, nextId(), "Database: pool connections (all replicas)", "short", [
            { expr: `sum by (${SLOT_LABEL}) (${DB_METRICS.poolConnections}{${job}})`, legend: "{{slot}} open" },
            { expr: `sum by (${SLOT_LABEL}) (${DB_METRICS.poolWaiting}{${job}})`, legend: "{{slot}} waiting" },
            { expr: `sum by (${SLOT_LABEL}) (${DB_METRICS.poolMax}{${job}})`, legend: "{{slot}} max" },
        ]),
    ];
    for (const p of panels) {
        builder.withPanel(p);
    }
}
