/**
 * Grafana dashboards, built with @grafana/grafana-foundation-sdk (pure functions → dashboard JSON).
 *
 * - APFA overview: release state per slot, then blue and green side by side (left/right columns)
 *   for request rate, error ratio, latency quantiles, replicas, CPU and memory.
 * - APFA SLO: availability against the objective, error budget left over 30 days, burn rates per
 *   window with the alert thresholds drawn in.
 *
 * Every query uses the one provisioned datasource (uid {@link PROMETHEUS_DATASOURCE_UID}) and, where
 * a recording rule exists, the recorded series (cheap, and the same numbers the alerts see).
 */
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";

import type { MonitoringSettings, Slot } from "../config";
import { SLOTS } from "../config";
import { APFA_JOB, SLOT_LABEL } from "./prometheus";
import { addDatabaseRow } from "./database";
import {
    BURN_RATE_WINDOWS,
    ERROR_RATIO_WINDOWS,
    LATENCY_QUANTILES,
    RECORDED,
    SLO_PERIOD_DAYS,
    burnRate,
    errorBudget,
} from "./rules";

/** The uid the datasource is provisioned with; dashboards reference nothing else. */
export const PROMETHEUS_DATASOURCE_UID = "apfa-prometheus";
export const DATASOURCE_REF: common.DataSourceRef = { type: "prometheus", uid: PROMETHEUS_DATASOURCE_UID };

export const OVERVIEW_UID = "apfa-overview";
export const SLO_UID = "apfa-slo";

/** Panel colours of the slots, so blue is blue everywhere. */
const SLOT_COLOURS: Readonly<Record<Slot, string>> = { blue: "blue", green: "green" };

type DashboardSettings = Pick<MonitoringSettings, "sloObjectivePercent" | "latencyP95ThresholdSeconds" | "scrapeIntervalSeconds">;

function query(expr: string, legend: string, refId: string): prometheus.DataqueryBuilder {
    return new prometheus.DataqueryBuilder().datasource(DATASOURCE_REF).expr(expr).legendFormat(legend).refId(refId).range();
}

function thresholds(steps: { value: number | null; color: string }[]): dashboard.ThresholdsConfigBuilder {
    return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(steps);
}

function timeseriesPanel(id: number, title: string, unit: string, queries: prometheus.DataqueryBuilder[]): timeseries.PanelBuilder {
    const panel = new timeseries.PanelBuilder()
        .id(id)
        .title(title)
        .datasource(DATASOURCE_REF)
        .unit(unit)
        .span(12)
        .height(8)
        .lineWidth(1)
        .fillOpacity(10)
        .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom));
    for (const q of queries) {
        panel.withTarget(q);
    }
    return panel;
}

function statPanel(id: number, title: string, unit: string, queries: prometheus.DataqueryBuilder[], span = 6): stat.PanelBuilder {
    const panel = new stat.PanelBuilder()
        .id(id)
        .title(title)
        .datasource(DATASOURCE_REF)
        .unit(unit)
        .span(span)
        .height(5)
        .graphMode(common.BigValueGraphMode.Area)
        .colorMode(common.BigValueColorMode.Value)
        .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false));
    for (const q of queries) {
        panel.withTarget(q);
    }
    return panel;
}

/** Threshold lines drawn on a time series (dashed), e.g. the latency alert threshold. */
function withThresholdLines(panel: timeseries.PanelBuilder, lines: { value: number; color: string }[]): timeseries.PanelBuilder {
    return panel
        .thresholds(thresholds([{ value: null, color: "transparent" }, ...lines]))
        .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed));
}

/** Panel ids unique within a dashboard (rows included), in layout order. */
function idSequence(): () => number {
    let id = 0;
    return () => ++id;
}

function slotSelector(slot: Slot): string {
    return `job="${APFA_JOB}",${SLOT_LABEL}="${slot}"`;
}

/** The APFA overview: one column per slot (blue left, green right). */
export function overviewDashboard(settings: DashboardSettings): dashboard.Dashboard {
    const budget = errorBudget(settings.sloObjectivePercent);
    const builder = new dashboard.DashboardBuilder("APFA overview")
        .uid(OVERVIEW_UID)
        .description("APFA's two release slots side by side: blue on the left, green on the right.")
        .tags(["apfa"])
        .refresh("30s")
        .time({ from: "now-1h", to: "now" })
        .timezone("browser")
        .tooltip(dashboard.DashboardCursorSync.Crosshair)
        .readonly();
    const nextId = idSequence();

    builder.withRow(new dashboard.RowBuilder("Release").id(nextId()));
    builder.withPanel(
        statPanel(nextId(), "Requests per second by slot (5m)", "reqps", [query(`${RECORDED.slotRequestRate("5m")}{job="${APFA_JOB}"}`, `{{${SLOT_LABEL}}}`, "A")]),
    );
    builder.withPanel(
        statPanel(nextId(), "Error ratio by slot (5m)", "percentunit", [query(`${RECORDED.slotErrorRatio("5m")}{job="${APFA_JOB}"}`, `{{${SLOT_LABEL}}}`, "A")]).thresholds(
            thresholds([
                { value: null, color: "green" },
                { value: budget, color: "orange" },
                { value: budget * 10, color: "red" },
            ]),
        ),
    );
    builder.withPanel(
        statPanel(nextId(), "Replicas up by slot", "short", [query(`sum by (${SLOT_LABEL}) (up{job="${APFA_JOB}"})`, `{{${SLOT_LABEL}}}`, "A")]),
    );
    builder.withPanel(
        statPanel(nextId(), "Replicas by slot and version", "short", [
            query(`count by (${SLOT_LABEL}, version) (apfa_build_info{job="${APFA_JOB}"})`, `{{${SLOT_LABEL}}} {{version}}`, "A"),
        ]),
    );

    const columns = (title: string, panel: (slot: Slot, id: number) => timeseries.PanelBuilder) => {
        builder.withRow(new dashboard.RowBuilder(title).id(nextId()));
        for (const slot of SLOTS) {
            builder.withPanel(panel(slot, nextId()).colorScheme(new dashboard.FieldColorBuilder().mode(dashboard.FieldColorModeId.PaletteClassic)));
        }
    };

    columns("Requests", (slot, id) =>
        timeseriesPanel(id, `${slot}: requests per second by route and code`, "reqps", [
            query(`sum by (route, code) (rate(apfa_http_requests_total{${slotSelector(slot)}}[$__rate_interval]))`, "{{route}} {{code}}", "A"),
        ]),
    );
    columns("Errors", (slot, id) =>
        withThresholdLines(
            timeseriesPanel(id, `${slot}: 5xx ratio`, "percentunit", [
                query(`${RECORDED.slotErrorRatio("5m")}{${slotSelector(slot)}}`, "5m", "A"),
                query(`${RECORDED.slotErrorRatio("1h")}{${slotSelector(slot)}}`, "1h", "B"),
            ]),
            [{ value: budget, color: "orange" }],
        ).min(0),
    );
    columns("Latency", (slot, id) =>
        withThresholdLines(
            timeseriesPanel(
                id,
                `${slot}: request duration quantiles (5m)`,
                "s",
                LATENCY_QUANTILES.map((q, i) => query(`${RECORDED.slotLatency(q)}{${slotSelector(slot)}}`, `p${Math.round(q * 100)}`, String.fromCharCode(65 + i))),
            ),
            [{ value: settings.latencyP95ThresholdSeconds, color: "red" }],
        ).min(0),
    );
    columns("Replicas", (slot, id) =>
        timeseriesPanel(id, `${slot}: replicas`, "short", [
            query(`sum(up{${slotSelector(slot)}})`, "up", "A"),
            query(`count(up{${slotSelector(slot)}})`, "discovered", "B"),
        ]).min(0),
    );
    columns("CPU", (slot, id) =>
        timeseriesPanel(id, `${slot}: CPU per replica (cores)`, "short", [
            query(`rate(process_cpu_seconds_total{${slotSelector(slot)}}[$__rate_interval])`, "{{instance}}", "A"),
        ]).min(0),
    );
    columns("Memory", (slot, id) =>
        timeseriesPanel(id, `${slot}: resident memory per replica`, "bytes", [
            query(`process_resident_memory_bytes{${slotSelector(slot)}}`, "{{instance}}", "A"),
        ]).min(0),
    );
    addDatabaseRow(builder, nextId, DATASOURCE_REF);
    return builder.build();
}

/** The SLO / error-budget view for the configured availability objective. */
export function sloDashboard(settings: DashboardSettings): dashboard.Dashboard {
    const objective = settings.sloObjectivePercent / 100;
    const budget = errorBudget(settings.sloObjectivePercent);
    const period = `${SLO_PERIOD_DAYS}d`;
    const job = `job="${APFA_JOB}"`;
    // Error ratio over the whole period from the recorded 5m rates (one sample per evaluation),
    // weighted by traffic: Σ errors / Σ requests.
    const periodErrorRatio =
        `(sum(sum_over_time(${RECORDED.slotErrorRate("5m")}{${job}}[${period}])) / ` + `sum(sum_over_time(${RECORDED.slotRequestRate("5m")}{${job}}[${period}])))`;
    const budgetRemaining = `1 - ${periodErrorRatio} / ${budget}`;

    const builder = new dashboard.DashboardBuilder("APFA SLO")
        .uid(SLO_UID)
        .description(
            `Availability objective ${settings.sloObjectivePercent}% of non-health requests answered without a 5xx, over ${SLO_PERIOD_DAYS} days. ` +
                `Error budget ${Number.parseFloat((budget * 100).toPrecision(12))}% of requests.`,
        )
        .tags(["apfa", "slo"])
        .refresh("1m")
        .time({ from: "now-7d", to: "now" })
        .timezone("browser")
        .readonly();
    const nextId = idSequence();

    builder.withRow(new dashboard.RowBuilder(`Objective ${settings.sloObjectivePercent}% over ${SLO_PERIOD_DAYS} days`).id(nextId()));
    builder.withPanel(
        statPanel(nextId(), `Availability (${period})`, "percentunit", [query(`1 - ${periodErrorRatio}`, "availability", "A")], 8)
            .decimals(3)
            .thresholds(
                thresholds([
                    { value: null, color: "red" },
                    { value: objective, color: "green" },
                ]),
            ),
    );
    builder.withPanel(
        statPanel(nextId(), `Error budget remaining (${period})`, "percentunit", [query(budgetRemaining, "budget remaining", "A")], 8).thresholds(
            thresholds([
                { value: null, color: "red" },
                { value: 0, color: "orange" },
                { value: 0.25, color: "green" },
            ]),
        ),
    );
    const fast = BURN_RATE_WINDOWS.reduce((a, b) => (burnRate(a) > burnRate(b) ? a : b));
    const slow = BURN_RATE_WINDOWS.reduce((a, b) => (burnRate(a) < burnRate(b) ? a : b));
    builder.withPanel(
        statPanel(nextId(), "Burn rate now (1h)", "suffix:x", [query(`${RECORDED.errorRatio("1h")}{${job}} / ${budget}`, "1h", "A")], 8).thresholds(
            thresholds([
                { value: null, color: "green" },
                { value: burnRate(slow), color: "orange" },
                { value: burnRate(fast), color: "red" },
            ]),
        ),
    );

    builder.withRow(new dashboard.RowBuilder("Over time").id(nextId()));
    builder.withPanel(
        withThresholdLines(
            timeseriesPanel(nextId(), "Availability (1h window) vs objective", "percentunit", [
                query(`1 - ${RECORDED.errorRatio("1h")}{${job}}`, "availability 1h", "A"),
            ]),
            [{ value: objective, color: "red" }],
        ).decimals(3),
    );
    builder.withPanel(
        withThresholdLines(timeseriesPanel(nextId(), `Error budget remaining (rolling ${period})`, "percentunit", [query(budgetRemaining, "budget remaining", "A")]), [
            { value: 0, color: "red" },
        ]),
    );
    builder.withPanel(
        withThresholdLines(
            timeseriesPanel(nextId(), 
                "Burn rate by window (alert thresholds dashed)",
                "suffix:x",
                ERROR_RATIO_WINDOWS.map((w, i) => query(`${RECORDED.errorRatio(w)}{${job}} / ${budget}`, w, String.fromCharCode(65 + i))),
            ),
            BURN_RATE_WINDOWS.map((w) => ({ value: burnRate(w), color: w === fast ? "red" : "orange" })),
        ).min(0),
    );
    builder.withPanel(
        timeseriesPanel(nextId(), "5xx ratio by slot (5m)", "percentunit", [query(`${RECORDED.slotErrorRatio("5m")}{${job}}`, `{{${SLOT_LABEL}}}`, "A")])
            .min(0)
            .overrideByName("blue", [{ id: "color", value: { mode: "fixed", fixedColor: SLOT_COLOURS.blue } }])
            .overrideByName("green", [{ id: "color", value: { mode: "fixed", fixedColor: SLOT_COLOURS.green } }]),
    );
    return builder.build();
}

/** Dashboard files by name, as Grafana's file provider reads them. */
export function dashboards(settings: DashboardSettings): Record<string, dashboard.Dashboard> {
    return {
        [`${OVERVIEW_UID}.json`]: overviewDashboard(settings),
        [`${SLO_UID}.json`]: sloDashboard(settings),
    };
}

interface PanelLike {
    readonly type?: string;
    readonly datasource?: { readonly type?: string; readonly uid?: string };
    readonly targets?: readonly { readonly expr?: string; readonly datasource?: { readonly uid?: string } }[];
    readonly panels?: readonly PanelLike[];
}

/** Every panel of a dashboard, including those nested in collapsed rows. */
export function panelsOf(d: { readonly panels?: readonly unknown[] }): PanelLike[] {
    const out: PanelLike[] = [];
    const walk = (panels: readonly PanelLike[] | undefined) => {
        for (const p of panels ?? []) {
            out.push(p);
            walk(p.panels);
        }
    };
    walk(d.panels as readonly PanelLike[] | undefined);
    return out;
}

/** Every PromQL expression of a dashboard. */
export function dashboardExpressions(d: { readonly panels?: readonly unknown[] }): string[] {
    return panelsOf(d).flatMap((p) => (p.targets ?? []).flatMap((t) => (t.expr ? [t.expr] : [])));
}
