/**
 * How `npm run cost` shows an estimate: an itemised table grouped by what the money buys, the
 * assumptions, the comparison with the seed's phase figure, and the JSON form; for several stacks
 * (a multi-region deployment) their total against the seed's Phase 3 (pure; tested).
 */
import { COST_GROUPS, usd, type CostItem, type CostReport } from "./estimate";
import type { Cloud } from "./model";

/**
 * The seed's monthly figure for Phase 2 (one region per cloud), which the estimate is compared
 * with. The seed does not say how it was reached.
 */
export const SEED_PHASE2_MONTHLY_USD: Readonly<Partial<Record<Cloud, number>>> = { aws: 680, azure: 720, gcp: 650 };

/**
 * What the seed says Phase 3 (multi-region) adds per month to Phase 2, without its sizing or a
 * split by cloud. A deployment's region stacks together compare with Phase 2 + this.
 */
export const SEED_PHASE3_ADDED_MONTHLY_USD = 5000;

const CLOUD_NAMES: Record<Cloud, string> = { docker: "Docker", aws: "AWS", azure: "Azure", gcp: "GCP" };

/** "Phase 2 AWS: $476.71 at rest, $926.71 at full scale vs seed ~$680 (-30 % / +36 %)". */
export function seedComparison(report: CostReport): string {
    const seed = SEED_PHASE2_MONTHLY_USD[report.cloud];
    const name = CLOUD_NAMES[report.cloud];
    const figures = `${usd(report.atRest.total)} at rest, ${usd(report.fullScale.total)} at full scale`;
    if (seed === undefined) {
        return `${name}: ${figures} (runs on your own Docker host: no cloud bill; the seed prices no dev stack)`;
    }
    const pct = (value: number) => `${value >= seed ? "+" : ""}${Math.round(((value - seed) / seed) * 100)} %`;
    return `Phase 2 ${name}: ${figures} vs seed ~${usd(seed).replace(".00", "")} (${pct(report.atRest.total)} / ${pct(report.fullScale.total)})`;
}

function amount(value: number): string {
    return Math.abs(value) >= 1000 || Number.isInteger(value) ? value.toLocaleString("en-US", { maximumFractionDigits: 0 }) : value.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

function quantity(item: CostItem): string {
    const q = item.quantity;
    return q.atRest === q.fullScale ? amount(q.atRest) : `${amount(q.atRest)} → ${amount(q.fullScale)}`;
}

function unitPrice(value: number): string {
    return `$${value.toPrecision(4).replace(/\.?0+$/, "")}`;
}

function pad(cells: string[], widths: number[], right: boolean[]): string {
    return cells.map((cell, i) => (right[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join("  ").trimEnd();
}

/**
 * The itemised table, grouped; every line's price source is in the JSON. `regionStack`: one region
 * stack of a multi-region deployment, whose seed figure is the deployment's (Phase 3), not its own.
 */
export function renderTable(stack: string, report: CostReport, options: { regionStack?: boolean } = {}): string {
    const header = ["item", "quantity / month", "unit", "unit price", "at rest", "full scale"];
    const right = [false, true, false, true, true, true];
    const rows: (string[] | string)[] = [];
    for (const group of COST_GROUPS) {
        const items = report.items.filter((item) => item.group === group);
        if (items.length === 0) {
            continue;
        }
        const sum = (pick: (item: CostItem) => number) => items.reduce((s, item) => s + pick(item), 0);
        rows.push(`${group} — ${usd(sum((i) => i.monthly.atRest))} at rest, ${usd(sum((i) => i.monthly.fullScale))} at full scale`);
        for (const item of items) {
            rows.push([
                `  ${item.resource}: ${item.description}${item.verified ? "" : " *"}`,
                quantity(item),
                item.unit,
                unitPrice(item.unitPrice),
                usd(item.monthly.atRest),
                usd(item.monthly.fullScale),
            ]);
        }
    }
    const totalRow = ["total (USD / month)", "", "", "", usd(report.atRest.total), usd(report.fullScale.total)];
    const tableRows = [header, ...rows.filter((r): r is string[] => Array.isArray(r)), totalRow];
    const widths = header.map((_, i) => Math.max(...tableRows.map((r) => r[i].length)));
    const lines: string[] = [];
    lines.push(`Monthly cost estimate of stack ${stack} (${report.cloud}, ${report.region}); prices: ${Object.entries(report.priceSnapshots).map(([k, d]) => `${k} of ${d}`).join(", ") || "none needed"}`);
    lines.push("");
    lines.push(pad(header, widths, right));
    for (const row of rows) {
        lines.push(typeof row === "string" ? row : pad(row, widths, right));
    }
    lines.push(pad(totalRow, widths, right));
    lines.push("");
    lines.push(
        options.regionStack
            ? `one region stack of a multi-region deployment: the seed's Phase 3 figure compares with the deployment's total (npm run cost -- --deployment ${stack})`
            : seedComparison(report),
    );
    if (report.items.some((item) => !item.verified)) {
        lines.push("* price not yet re-read from the cloud's price API (see the snapshot's note; refresh: npx tsx tools/cost/refresh-prices.ts)");
    }
    const notPricedCount = report.notPriced.reduce((s, e) => s + e.count, 0);
    lines.push("");
    lines.push(`not priced: ${notPricedCount} resource(s)${notPricedCount === 0 ? "" : ":"}`);
    for (const entry of report.notPriced) {
        lines.push(`  ${entry.count} × ${entry.type} (${entry.names.join(", ")}): ${entry.reason}`);
    }
    const zeroCount = report.zeroCost.reduce((s, e) => s + e.count, 0);
    lines.push(`no charge of their own: ${zeroCount} resource(s) of ${report.zeroCost.length} type(s) (--json lists them with the reason)`);
    for (const note of report.notes) {
        lines.push(`note: ${note}`);
    }
    lines.push("");
    lines.push(`assumptions (apfa:cost.assumptions or --assume key=value): ${Object.entries(report.assumptions).map(([k, v]) => `${k}=${v}`).join(", ")}`);
    return lines.join("\n");
}

const cents = (value: number) => Math.round(value * 100) / 100;
const round = (value: number) => Math.round(value * 1e6) / 1e6;

/** `--json`: the report with money rounded to cents (quantities to 6 decimals). */
export function toJson(stack: string, report: CostReport, budget?: { monthlyUsd: number; over: boolean; message: string }): unknown {
    const seed = SEED_PHASE2_MONTHLY_USD[report.cloud];
    return {
        stack,
        cloud: report.cloud,
        region: report.region,
        currency: report.currency,
        priceSnapshots: report.priceSnapshots,
        atRest: { total: cents(report.atRest.total) },
        fullScale: { total: cents(report.fullScale.total) },
        ...(seed === undefined ? {} : { seed: { phase: 2, monthlyUsd: seed } }),
        ...(budget ? { budget } : {}),
        assumptions: report.assumptions,
        items: report.items.map((item) => ({
            ...item,
            unitPrice: round(item.unitPrice),
            quantity: { atRest: round(item.quantity.atRest), fullScale: round(item.quantity.fullScale) },
            monthly: { atRest: cents(item.monthly.atRest), fullScale: cents(item.monthly.fullScale) },
        })),
        notPriced: report.notPriced,
        zeroCost: report.zeroCost,
        notes: report.notes,
    };
}

export interface StackReport {
    readonly stack: string;
    readonly report: CostReport;
}

/** The sum of several stacks' estimates (a deployment's region stacks). */
export function totalOf(reports: readonly CostReport[]): { atRest: number; fullScale: number } {
    return { atRest: reports.reduce((s, r) => s + r.atRest.total, 0), fullScale: reports.reduce((s, r) => s + r.fullScale.total, 0) };
}

/**
 * "Phase 3 AWS, 2 region stacks: $… at rest, $… at full scale vs seed ~$5,680 (Phase 2 ~$680 +
 * Phase 3 ~$5,000) (-60 % / -20 %); above the Phase 2 seed: $… / $…".
 */
export function phase3Comparison(reports: readonly CostReport[]): string {
    const clouds = [...new Set(reports.map((r) => r.cloud))];
    const total = totalOf(reports);
    const figures = `${usd(total.atRest)} at rest, ${usd(total.fullScale)} at full scale`;
    const phase2 = clouds.length === 1 ? SEED_PHASE2_MONTHLY_USD[clouds[0]] : undefined;
    if (phase2 === undefined) {
        return `${reports.length} stacks (${clouds.join(", ")}): ${figures} (no seed figure for this mix of clouds)`;
    }
    const seed = phase2 + SEED_PHASE3_ADDED_MONTHLY_USD;
    const pct = (value: number) => `${value >= seed ? "+" : ""}${Math.round(((value - seed) / seed) * 100)} %`;
    const whole = (value: number) => usd(value).replace(".00", "");
    return (
        `Phase 3 ${CLOUD_NAMES[clouds[0]]}, ${reports.length} region stacks: ${figures} vs seed ~${whole(seed)} (Phase 2 ~${whole(phase2)} + Phase 3 ~${whole(SEED_PHASE3_ADDED_MONTHLY_USD)}) ` +
        `(${pct(total.atRest)} / ${pct(total.fullScale)}); above the Phase 2 seed: ${usd(total.atRest - phase2)} / ${usd(total.fullScale - phase2)} against the seed's ~${whole(SEED_PHASE3_ADDED_MONTHLY_USD)}`
    );
}

/** The per-stack lines and the total of a deployment, its seed comparison and the total's budget. */
export function renderDeployment(stacks: readonly StackReport[], budgetUsd?: number): string {
    const header = ["stack", "cloud, region", "at rest", "full scale"];
    const right = [false, false, true, true];
    const total = totalOf(stacks.map((s) => s.report));
    const rows = [
        header,
        ...stacks.map(({ stack, report }) => [stack, `${report.cloud}, ${report.region}`, usd(report.atRest.total), usd(report.fullScale.total)]),
        ["total (USD / month)", "", usd(total.atRest), usd(total.fullScale)],
    ];
    const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    const lines = [`Monthly cost of ${stacks.length} stacks together (each priced above)`, "", ...rows.map((r) => pad(r, widths, right)), "", phase3Comparison(stacks.map((s) => s.report))];
    const notPriced = stacks.reduce((n, s) => n + s.report.notPriced.reduce((m, e) => m + e.count, 0), 0);
    lines.push(`not priced: ${notPriced} resource(s) across the stacks`);
    if (budgetUsd !== undefined) {
        lines.push(
            total.fullScale > budgetUsd
                ? `over budget: the total at full scale is ${usd(total.fullScale)}/month, ${usd(total.fullScale - budgetUsd)} above --budget ${usd(budgetUsd)}`
                : `within budget: ${usd(total.fullScale)}/month at full scale of --budget ${usd(budgetUsd)}`,
        );
    }
    return lines.join("\n");
}

/** `--json` with several stacks: each stack's JSON, the total and the seed's Phase 3 figure. */
export function deploymentJson(stacks: readonly unknown[], reports: readonly CostReport[], budgetUsd?: number): unknown {
    const total = totalOf(reports);
    const clouds = [...new Set(reports.map((r) => r.cloud))];
    const phase2 = clouds.length === 1 ? SEED_PHASE2_MONTHLY_USD[clouds[0]] : undefined;
    return {
        currency: "USD",
        stacks,
        total: { atRest: cents(total.atRest), fullScale: cents(total.fullScale) },
        ...(phase2 === undefined ? {} : { seed: { phase: 3, phase2MonthlyUsd: phase2, phase3AddedMonthlyUsd: SEED_PHASE3_ADDED_MONTHLY_USD, monthlyUsd: phase2 + SEED_PHASE3_ADDED_MONTHLY_USD } }),
        ...(budgetUsd === undefined ? {} : { budget: { monthlyUsd: budgetUsd, over: total.fullScale > budgetUsd } }),
    };
}
