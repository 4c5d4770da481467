/**
 * A monthly cost estimate of one stack from its resource graph: every billable resource mapped to
 * its price dimensions, at rest (every autoscaler at its minimum) and at full scale (at its
 * maximum), with the assumptions and the pinned prices it used.
 *
 * Pure apart from reading the pinned price snapshots: no Pulumi runtime, no synth. The CLI
 * (`npm run cost`, tools/cost/main.ts) feeds it a synthesized plan; a policy pack can feed it the
 * resources of `validateStack` (`{ type, name, inputs: props }`).
 */
import { DEFAULT_ESTIMATOR_ASSUMPTIONS, estimatorAssumptionsSchema, type EstimatorAssumptions as CostAssumptions } from "./assumptions";
import { AWS_FREE_PREFIXES, AWS_PRICERS, awsHasPublicEntry } from "./aws";
import { AZURE_FREE_PREFIXES, AZURE_KUBERNETES, AZURE_PRICERS, azureHasPublicEntry } from "./azure";
import { GCP_FREE_PREFIXES, GCP_KUBERNETES, GCP_PRICERS } from "./gcp";
import { KUBERNETES_FREE_PREFIX, kubernetesPricers, publicEntries } from "./kubernetes";
import {
    COST_GROUPS,
    MissingPriceError,
    PricingContext,
    type Cloud,
    type CostGroup,
    type CostItem,
    type NeutralResource,
    type NotPricedEntry,
    type Pricer,
    type Range,
    type SnapshotLoader,
    type StackHints,
    type Verdict,
    type ZeroCostEntry,
} from "./model";
import { loadSnapshot } from "./prices";

export { COST_GROUPS, type Cloud, type CostGroup, type CostItem, type NeutralResource, type NotPricedEntry, type Range, type SnapshotLoader, type StackHints, type ZeroCostEntry };
export type { CostAssumptions };

export interface EstimateContext {
    readonly cloud: Cloud;
    /** The stack's region (AWS region, Azure location, GCP region); resources naming their own region are priced there. */
    readonly region: string;
    /** Overrides of the defaults in src/config/budget.ts and tools/cost/assumptions.ts (`apfa:cost.assumptions`, `--assume`). */
    readonly assumptions?: Partial<CostAssumptions>;
    /** Where prices come from; default: the pinned snapshots in tools/cost/prices/. */
    readonly snapshots?: SnapshotLoader;
    /** Config facts a preview may hide (tools/cost/main.ts passes them from the stack's config). */
    readonly hints?: StackHints;
}

export interface CostReport {
    readonly cloud: Cloud;
    readonly region: string;
    readonly currency: "USD";
    /** Dates of the price snapshots used (`aws-eu-west-1: 2026-11-29`). */
    readonly priceSnapshots: Readonly<Record<string, string>>;
    readonly assumptions: CostAssumptions;
    readonly atRest: { readonly total: number };
    readonly fullScale: { readonly total: number };
    readonly items: readonly CostItem[];
    readonly notPriced: readonly NotPricedEntry[];
    /** Resources known to cost nothing themselves, with the reason. */
    readonly zeroCost: readonly ZeroCostEntry[];
    /** Caveats found while pricing (e.g. no free-tier credit for a regional GKE cluster). */
    readonly notes: readonly string[];
}

interface CloudTables {
    readonly pricers: Record<string, Pricer>;
    readonly freePrefixes: Record<string, string>;
    readonly hasPublicEntry: (ctx: PricingContext) => boolean;
}

const TABLES: Record<Cloud, CloudTables> = {
    docker: { pricers: {}, freePrefixes: { "docker:": "runs on your own Docker host: no cloud bill" }, hasPublicEntry: () => false },
    aws: { pricers: { ...kubernetesPricers(undefined), ...AWS_PRICERS }, freePrefixes: AWS_FREE_PREFIXES, hasPublicEntry: awsHasPublicEntry },
    azure: { pricers: { ...kubernetesPricers(AZURE_KUBERNETES), ...AZURE_PRICERS }, freePrefixes: AZURE_FREE_PREFIXES, hasPublicEntry: azureHasPublicEntry },
    gcp: { pricers: { ...kubernetesPricers(GCP_KUBERNETES), ...GCP_PRICERS }, freePrefixes: GCP_FREE_PREFIXES, hasPublicEntry: (ctx) => publicEntries(ctx).length > 0 },
};

/** Free on every cloud. */
const COMMON_FREE: Record<string, string> = {
    "random:": "generated locally by Pulumi",
    "tls:": "generated locally by Pulumi",
    "pulumi:providers:": "a provider configuration",
    "pulumi:pulumi:": "the stack itself",
};

function isComponent(resource: NeutralResource): boolean {
    // Plans and policy packs say so; a neutral list without the flag: the program's own tokens.
    return resource.custom === false || (resource.custom === undefined && resource.type.startsWith("apfa:"));
}

function judge(resource: NeutralResource, ctx: PricingContext, tables: CloudTables): Verdict {
    if (isComponent(resource)) {
        return { zero: "a component resource: its children are priced" };
    }
    const pricer = tables.pricers[resource.type];
    if (pricer) {
        return pricer(resource, ctx);
    }
    const prefixes: Record<string, string> = { ...COMMON_FREE, ...tables.freePrefixes, ...(ctx.cloud === "azure" || ctx.cloud === "gcp" ? { [KUBERNETES_FREE_PREFIX.prefix]: KUBERNETES_FREE_PREFIX.reason } : {}) };
    const free = Object.keys(prefixes)
        .filter((prefix) => resource.type.startsWith(prefix))
        .sort((a, b) => b.length - a.length)[0];
    if (free !== undefined) {
        return { zero: prefixes[free] };
    }
    return { notPriced: "resource type unknown to the estimator" };
}

/** The assumptions in effect: defaults, then `overrides` (validated: an unknown or negative one fails by name). */
export function resolveAssumptions(overrides: Partial<CostAssumptions> = {}): CostAssumptions {
    const parsed = estimatorAssumptionsSchema.partial().safeParse(overrides);
    if (!parsed.success) {
        throw new Error(`invalid cost assumptions: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
    }
    const defined = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
    return { ...DEFAULT_ESTIMATOR_ASSUMPTIONS, ...defined };
}

/** Estimates the monthly cost of `resources` on `context.cloud`. */
export function estimate(resources: readonly NeutralResource[], context: EstimateContext): CostReport {
    const assumptions = resolveAssumptions(context.assumptions);
    const used = new Map<string, string>();
    const loader: SnapshotLoader = (cloud, region) => {
        const snapshot = (context.snapshots ?? loadSnapshot)(cloud, region);
        used.set(`${snapshot.cloud}-${snapshot.region}`, snapshot.snapshotDate);
        return snapshot;
    };
    const ctx = new PricingContext(resources, context.cloud, context.region, assumptions, loader, context.hints);
    const tables = TABLES[context.cloud];
    const items: CostItem[] = [];
    const notPriced = new Map<string, { names: string[]; reasons: Set<string> }>();
    const zero = new Map<string, { count: number; reason: string }>();

    for (const resource of resources) {
        let verdict: Verdict;
        try {
            verdict = judge(resource, ctx, tables);
        } catch (err) {
            if (!(err instanceof MissingPriceError)) {
                throw err;
            }
            verdict = { notPriced: err.message };
        }
        const staged = ctx.takeStaged();
        if ("priced" in verdict) {
            items.push(...staged);
        } else if ("zero" in verdict) {
            const entry = zero.get(resource.type) ?? { count: 0, reason: verdict.zero };
            entry.count++;
            zero.set(resource.type, entry);
        } else {
            const entry = notPriced.get(resource.type) ?? { names: [], reasons: new Set<string>() };
            entry.names.push(resource.name);
            entry.reasons.add(verdict.notPriced);
            notPriced.set(resource.type, entry);
        }
    }

    if (tables.hasPublicEntry(ctx)) {
        const stack: NeutralResource = { type: "(stack)", name: "internet egress", inputs: {} };
        try {
            ctx.add(stack, { group: "NAT/egress", description: `internet egress, ${assumptions.egressGb} GB (assumption egressGb; free allowances not deducted)`, priceKey: "egress.internet.gb", quantity: assumptions.egressGb });
            items.push(...ctx.takeStaged());
        } catch (err) {
            if (!(err instanceof MissingPriceError)) {
                throw err;
            }
            ctx.takeStaged();
            ctx.notes.add(`internet egress not priced: ${err.message}`);
        }
    }

    const order = (group: CostGroup) => COST_GROUPS.indexOf(group);
    items.sort((a, b) => order(a.group) - order(b.group));
    const total = (pick: (r: Range) => number) => items.reduce((sum, item) => sum + pick(item.monthly), 0);
    return {
        cloud: context.cloud,
        region: context.region,
        currency: "USD",
        priceSnapshots: Object.fromEntries([...used.entries()].sort()),
        assumptions,
        atRest: { total: total((r) => r.atRest) },
        fullScale: { total: total((r) => r.fullScale) },
        items,
        notPriced: [...notPriced.entries()].map(([type, e]) => ({ type, count: e.names.length, names: e.names, reason: [...e.reasons].join("; ") })),
        zeroCost: [...zero.entries()].map(([type, e]) => ({ type, count: e.count, reason: e.reason })),
        notes: [...ctx.notes],
    };
}

export interface BudgetCheck {
    readonly over: boolean;
    readonly budgetUsd: number;
    readonly fullScaleUsd: number;
    /** The items costing most at full scale, biggest first. */
    readonly biggest: readonly CostItem[];
    readonly message: string;
}

/** Money as `$1,234.56`. */
export function usd(value: number): string {
    const sign = value < 0 ? "-" : "";
    return `${sign}$${Math.abs(value).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/**
 * Compares the full-scale estimate with `apfa:budget.monthlyUsd`. The message names the biggest
 * items, so whoever reads a failed preview knows what to cut.
 */
export function checkBudget(report: CostReport, budgetUsd: number, top = 5): BudgetCheck {
    const fullScaleUsd = report.fullScale.total;
    const biggest = [...report.items].sort((a, b) => b.monthly.fullScale - a.monthly.fullScale).slice(0, top);
    const over = fullScaleUsd > budgetUsd;
    const named = biggest.map((item) => `${item.resource} ${item.description.split(",")[0]} ${usd(item.monthly.fullScale)}`).join("; ");
    const message = over
        ? `over budget: the estimate at full scale is ${usd(fullScaleUsd)}/month, ${usd(fullScaleUsd - budgetUsd)} above apfa:budget.monthlyUsd ${usd(budgetUsd)}. Biggest items: ${named}`
        : `within budget: ${usd(fullScaleUsd)}/month at full scale of apfa:budget.monthlyUsd ${usd(budgetUsd)}`;
    return { over, budgetUsd, fullScaleUsd, biggest, message };
}
