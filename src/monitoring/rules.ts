/**
 * Prometheus recording and alerting rules for APFA, as pure functions of the monitoring settings.
 *
 * The availability SLO follows the multi-window, multi-burn-rate scheme of the Google SRE Workbook
 * (ch. 5): the windows and budget fractions are data below, the burn rates and thresholds are
 * computed from them and the configured objective.
 *
 * What counts: every APFA request except the health checks (route "/health" — load balancers and
 * container engines call it constantly; counting it would dilute the error ratio). An error is a
 * 5xx answer.
 */
import type { MonitoringSettings } from "../config";
import { SLOTS } from "../config";
import { APFA_JOB, SLOT_LABEL, renderYaml } from "./prometheus";
import { DATABASE_RULE_GROUP, databaseAlertingRules, databaseRecordingRules } from "./database";

/** The SLO period the error budget is spent over. */
export const SLO_PERIOD_DAYS = 30;

/** Selector of the requests the SLO counts. */
export const SLO_REQUESTS = `apfa_http_requests_total{job="${APFA_JOB}",route!="/health"}`;
/** Selector of the failed ones. */
export const SLO_ERRORS = `apfa_http_requests_total{job="${APFA_JOB}",route!="/health",code=~"5.."}`;
/** Selector of the latency histogram's buckets for the same requests. */
export const LATENCY_BUCKETS = `apfa_http_request_duration_seconds_bucket{job="${APFA_JOB}",route!="/health"}`;

export type Severity = "page" | "ticket";

/** The always-firing alert that proves the alerting pipeline works (a dead man's switch). */
export const WATCHDOG_ALERT = "Watchdog";
/** Its severity: no person is paged for it; Alertmanager routes it to `apfa:alerting.watchdogReceiver` only. */
export const WATCHDOG_SEVERITY = "none";

/** One multi-window burn-rate alert: fires when the budget burns this fast in both windows. */
export interface BurnRateWindow {
    readonly alert: string;
    readonly longWindow: string;
    readonly shortWindow: string;
    /** Fraction of the whole period's error budget spent within the long window when it fires. */
    readonly budgetSpent: number;
    readonly for: string;
    readonly severity: Severity;
}

/** SRE Workbook table 5-8 (page rows): 2 % of the budget in 1 h, 5 % in 6 h. */
export const BURN_RATE_WINDOWS: readonly BurnRateWindow[] = [
    { alert: "ApfaErrorBudgetBurnFast", longWindow: "1h", shortWindow: "5m", budgetSpent: 0.02, for: "2m", severity: "page" },
    { alert: "ApfaErrorBudgetBurnSlow", longWindow: "6h", shortWindow: "30m", budgetSpent: 0.05, for: "15m", severity: "page" },
];

/** Windows the error-ratio recording rules are kept for: exactly those the burn-rate alerts use. */
export const ERROR_RATIO_WINDOWS: readonly string[] = [...new Set(BURN_RATE_WINDOWS.flatMap((w) => [w.shortWindow, w.longWindow]))].sort(
    (a, b) => durationSeconds(a) - durationSeconds(b),
);

export const LATENCY_QUANTILES = [0.5, 0.95, 0.99] as const;

/** Names of the recorded series, shared with the dashboards. */
export const RECORDED = {
    /** Per job and slot: requests per second over `window`. */
    slotRequestRate: (window: string) => `job_slot:apfa_http_requests:rate${window}`,
    /** Per job and slot: 5xx per second over `window` (0, not absent, when a slot has no errors). */
    slotErrorRate: (window: string) => `job_slot:apfa_http_errors:rate${window}`,
    /** Per job and slot: errors / requests over `window`. */
    slotErrorRatio: (window: string) => `job_slot:apfa_http_error_ratio:rate${window}`,
    /** Per job (both slots, as users see the service): errors / requests over `window`. */
    errorRatio: (window: string) => `job:apfa_http_error_ratio:rate${window}`,
    /** Per job and slot: latency quantile over 5m, e.g. q=0.95 → …:p95_rate5m. */
    slotLatency: (q: number) => `job_slot:apfa_http_request_duration_seconds:p${Math.round(q * 100)}_rate5m`,
} as const;

/** Seconds in a Prometheus duration such as 5m, 1h, 30d. */
export function durationSeconds(d: string): number {
    const m = /^(\d+)(s|m|h|d)$/.exec(d);
    if (!m) {
        throw new Error(`unsupported duration ${d}`);
    }
    return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "s" | "m" | "h" | "d"];
}

/** Rounds away float noise (1 - 0.999 = 0.0010000000000000009) so thresholds render cleanly. */
function clean(x: number): number {
    return Number.parseFloat(x.toPrecision(12));
}

/** The error budget: the fraction of requests allowed to fail, e.g. 99.9 % → 0.001. */
export function errorBudget(objectivePercent: number): number {
    return clean((100 - objectivePercent) / 100);
}

/** Burn rate of a window: how many times faster than "exactly the budget over the period". */
export function burnRate(w: Pick<BurnRateWindow, "budgetSpent" | "longWindow">): number {
    return clean((w.budgetSpent * SLO_PERIOD_DAYS * 86400) / durationSeconds(w.longWindow));
}

/** Error ratio above which a burn-rate window fires: burn rate × budget (14.4 × 0.001 = 0.0144). */
export function burnRateThreshold(w: Pick<BurnRateWindow, "budgetSpent" | "longWindow">, objectivePercent: number): number {
    return clean(burnRate(w) * errorBudget(objectivePercent));
}

/**
 * How much higher one slot's error ratio must be than the other's to call it clearly worse: the
 * slow-burn threshold. Above it, sending all traffic to that slot would page.
 */
export function slotComparisonMargin(objectivePercent: number): number {
    const slow = BURN_RATE_WINDOWS.reduce((a, b) => (burnRate(a) < burnRate(b) ? a : b));
    return burnRateThreshold(slow, objectivePercent);
}

export interface RecordingRule {
    readonly record: string;
    readonly expr: string;
}

export interface AlertingRule {
    readonly alert: string;
    readonly expr: string;
    readonly for?: string;
    readonly labels: { readonly severity: Severity | typeof WATCHDOG_SEVERITY } & Readonly<Record<string, string>>;
    readonly annotations: { readonly summary: string; readonly description: string; readonly runbook_url: string };
}

export interface RuleGroup {
    readonly name: string;
    readonly rules: readonly (RecordingRule | AlertingRule)[];
}

export interface RulesFile {
    readonly groups: readonly RuleGroup[];
}

function recordingRules(): RecordingRule[] {
    const rules: RecordingRule[] = [];
    for (const w of ERROR_RATIO_WINDOWS) {
        const requests = `sum by (job, ${SLOT_LABEL}) (rate(${SLO_REQUESTS}[${w}]))`;
        rules.push({ record: RECORDED.slotRequestRate(w), expr: requests });
        // `or … * 0`: a slot that served requests but never failed has ratio 0, not "no data",
        // so comparisons between slots and dashboards see it.
        rules.push({
            record: RECORDED.slotErrorRate(w),
            expr: `sum by (job, ${SLOT_LABEL}) (rate(${SLO_ERRORS}[${w}])) or (${RECORDED.slotRequestRate(w)} * 0)`,
        });
        rules.push({ record: RECORDED.slotErrorRatio(w), expr: `${RECORDED.slotErrorRate(w)} / ${RECORDED.slotRequestRate(w)}` });
        rules.push({
            record: RECORDED.errorRatio(w),
            expr: `sum by (job) (${RECORDED.slotErrorRate(w)}) / sum by (job) (${RECORDED.slotRequestRate(w)})`,
        });
    }
    return rules;
}

function latencyRules(): RecordingRule[] {
    return LATENCY_QUANTILES.map((q) => ({
        record: RECORDED.slotLatency(q),
        expr: `histogram_quantile(${q}, sum by (job, ${SLOT_LABEL}, le) (rate(${LATENCY_BUCKETS}[5m])))`,
    }));
}

/** Runbook link of an alert: the base URL plus the alert's heading anchor (GitHub style: lower case). */
export function runbookUrl(baseUrl: string, alert: string): string {
    return `${baseUrl.replace(/#.*$/, "")}#${alert.toLowerCase()}`;
}

function percent(x: number): string {
    return `${clean(x * 100)}%`;
}

function alertingRules(settings: RulesSettings): AlertingRule[] {
    const objective = settings.sloObjectivePercent;
    const budget = errorBudget(objective);
    const runbook = (alert: string) => runbookUrl(settings.runbookBaseUrl, alert);
    const up = `up{job="${APFA_JOB}"}`;
    const rules: AlertingRule[] = [];

    rules.push({
        alert: "ApfaDown",
        expr: `sum by (job) (${up}) == 0 or absent(${up})`,
        for: "2m",
        labels: { severity: "page" },
        annotations: {
            summary: "APFA is down: no replica of any slot answers Prometheus",
            description:
                "Every APFA target is failing its scrape, or none is discovered at all (no DNS records / no running tasks). " +
                "Users get errors from the load balancer.",
            runbook_url: runbook("ApfaDown"),
        },
    });

    // A slot "carries traffic" if it answered user requests in the last hour; weights are not in the
    // rules on purpose (a weight change must not touch Prometheus).
    rules.push({
        alert: "ApfaSlotDown",
        expr:
            `(sum by (job, ${SLOT_LABEL}) (rate(${SLO_REQUESTS}[1h])) > 0) ` +
            `unless on (job, ${SLOT_LABEL}) (max by (job, ${SLOT_LABEL}) (${up}) == 1)`,
        for: "2m",
        labels: { severity: "page" },
        annotations: {
            summary: "APFA slot {{ $labels.slot }} has no healthy replica but served traffic in the last hour",
            description:
                "No replica of the {{ $labels.slot }} slot answers Prometheus, while that slot received user requests within the last hour: " +
                "its share of the traffic is failing. Move its weight to the other slot (release rollback) and check the replicas.",
            runbook_url: runbook("ApfaSlotDown"),
        },
    });

    for (const w of BURN_RATE_WINDOWS) {
        const threshold = burnRateThreshold(w, objective);
        rules.push({
            alert: w.alert,
            expr: `${RECORDED.errorRatio(w.longWindow)} > ${threshold} and ${RECORDED.errorRatio(w.shortWindow)} > ${threshold}`,
            for: w.for,
            labels: { severity: w.severity, slo: "availability", long_window: w.longWindow, short_window: w.shortWindow },
            annotations: {
                summary: `APFA is spending its error budget ${burnRate(w)}x too fast (${w.longWindow} and ${w.shortWindow} windows)`,
                description:
                    `The 5xx ratio over both the last ${w.longWindow} and ${w.shortWindow} is above ${percent(threshold)} ` +
                    `(${burnRate(w)} x the ${percent(budget)} budget of the ${objective}% objective): at this rate ` +
                    `${percent(w.budgetSpent)} of the ${SLO_PERIOD_DAYS}-day budget is gone in ${w.longWindow}. See the APFA SLO dashboard.`,
                runbook_url: runbook(w.alert),
            },
        });
    }

    rules.push({
        alert: "ApfaHighLatencyP95",
        expr: `${RECORDED.slotLatency(0.95)} > ${settings.latencyP95ThresholdSeconds}`,
        for: "10m",
        labels: { severity: "ticket" },
        annotations: {
            summary: `APFA slot {{ $labels.slot }} p95 latency is above ${settings.latencyP95ThresholdSeconds}s`,
            description: `The 95th percentile of request duration in the {{ $labels.slot }} slot has been above ${settings.latencyP95ThresholdSeconds}s for 10 minutes.`,
            runbook_url: runbook("ApfaHighLatencyP95"),
        },
    });

    // Generic blue/green guard: whichever slot fails clearly more often than the other while both
    // serve traffic (normally the preview slot during a release). Generated for each ordered pair.
    const margin = slotComparisonMargin(objective);
    const ratio = RECORDED.slotErrorRatio("5m");
    const requests = RECORDED.slotRequestRate("5m");
    const pairs = SLOTS.flatMap((slot) =>
        SLOTS.filter((other) => other !== slot).map(
            (other) =>
                // group_left keeps the left side's labels, so the alert names the worse slot.
                `(${ratio}{${SLOT_LABEL}="${slot}"} > ignoring (${SLOT_LABEL}) group_left () (${ratio}{${SLOT_LABEL}="${other}"} + ${margin}) ` +
                `and ignoring (${SLOT_LABEL}) ${requests}{${SLOT_LABEL}="${other}"} > 0)`,
        ),
    );
    rules.push({
        alert: "ApfaSlotErrorRatioAboveOtherSlot",
        expr: pairs.join(" or "),
        for: "5m",
        labels: { severity: "page" },
        annotations: {
            summary: "APFA slot {{ $labels.slot }} fails clearly more often than the other slot",
            description:
                `While both slots serve traffic, the {{ $labels.slot }} slot's 5xx ratio over 5m is more than ${percent(margin)} above the other slot's ` +
                "(the slow-burn threshold: moving all traffic to it would page). If it is the release being rolled out, roll back.",
            runbook_url: runbook("ApfaSlotErrorRatioAboveOtherSlot"),
        },
    });

    rules.push({
        alert: WATCHDOG_ALERT,
        expr: "vector(1)",
        labels: { severity: WATCHDOG_SEVERITY },
        annotations: {
            summary: "Watchdog: the alerting pipeline works (this alert always fires)",
            description:
                "Always firing while Prometheus evaluates its rules and reaches Alertmanager. Alertmanager sends it to the watchdog " +
                "receiver (a dead man's switch service), which alerts when it stops arriving.",
            runbook_url: runbook(WATCHDOG_ALERT),
        },
    });

    rules.push({
        alert: "PrometheusTargetMissing",
        expr: "up == 0",
        for: "5m",
        labels: { severity: "ticket" },
        annotations: {
            summary: "Prometheus cannot scrape {{ $labels.job }} target {{ $labels.instance }}",
            description: "The target {{ $labels.instance }} of job {{ $labels.job }} has failed its scrapes for 5 minutes.",
            runbook_url: runbook("PrometheusTargetMissing"),
        },
    });
    return rules;
}

export type RulesSettings = Pick<MonitoringSettings, "sloObjectivePercent" | "latencyP95ThresholdSeconds" | "runbookBaseUrl">;

/** How the rules are rendered, beyond the settings. */
export interface RulesOptions {
    /**
     * Replaces every alert's `for` (e.g. "0s"): for drills of the alerting pipeline, where waiting
     * minutes for a pending alert proves nothing. Deploys never set it. @default each alert's own
     */
    readonly pendingOverride?: string;
}

/** Every rule group. Recording groups come first; rules within a group run in order. */
export function ruleGroups(settings: RulesSettings, options: RulesOptions = {}): RulesFile {
    const alerts = alertingRules(settings).map((rule) =>
        options.pendingOverride !== undefined && rule.for !== undefined ? { ...rule, for: options.pendingOverride } : rule,
    );
    return {
        groups: [
            { name: "apfa-slo-recording", rules: recordingRules() },
            { name: "apfa-latency-recording", rules: latencyRules() },
            { name: "apfa-alerts", rules: alerts },
            // The app's view of its database (src/monitoring/database.ts): recorded series first, then the alerts on them.
            {
                name: DATABASE_RULE_GROUP,
                rules: [
                    ...databaseRecordingRules(),
                    ...databaseAlertingRules((alert) => runbookUrl(settings.runbookBaseUrl, alert)).map((rule) =>
                        options.pendingOverride !== undefined ? { ...rule, for: options.pendingOverride } : rule,
                    ),
                ],
            },
        ],
    };
}

/** The rules file text. */
export function rulesYml(settings: RulesSettings, options: RulesOptions = {}): string {
    return renderYaml(ruleGroups(settings, options), "Generated by apfa-infra (src/monitoring/rules.ts). Do not edit: changes are overwritten.");
}

/** Every alerting rule, flat. */
export function alertingRulesOf(file: RulesFile): AlertingRule[] {
    return file.groups.flatMap((g) => g.rules.filter((r): r is AlertingRule => "alert" in r));
}

/** Every PromQL expression of the rules. */
export function ruleExpressions(file: RulesFile): string[] {
    return file.groups.flatMap((g) => g.rules.map((r) => r.expr));
}
