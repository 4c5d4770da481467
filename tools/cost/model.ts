/**
 * What the estimator works on and produces, and the context every resource's pricer gets: the
 * whole graph (a service's replica range lives on its autoscaling target, a node count on the NAT
 * that serves the nodes), the assumptions, and price look-ups that remember their source.
 */
import type { EstimatorAssumptions as CostAssumptions } from "./assumptions";
import { loadSnapshot, type PriceEntry, type PriceSnapshot, type PricedCloud } from "./prices";

/** One resource as a plan, a preview or a policy pack sees it: no Pulumi runtime objects. */
export interface NeutralResource {
    readonly type: string;
    readonly name: string;
    readonly inputs: Readonly<Record<string, unknown>>;
    /** False for a component resource (its children are the billable ones). Unknown: decided by type. */
    readonly custom?: boolean;
}

export type Cloud = "docker" | "aws" | "azure" | "gcp";

/** Where an item shows in the table; the order here is the table's order. */
export const COST_GROUPS = [
    "compute",
    "cluster fees",
    "load balancing",
    "NAT/egress",
    "endpoints",
    "database",
    "storage",
    "monitoring",
    "secrets & keys",
    "DNS",
    "global entry",
    "security",
] as const;
export type CostGroup = (typeof COST_GROUPS)[number];

/** A figure at rest (every autoscaler at its minimum) and at full scale (at its maximum). */
export interface Range {
    readonly atRest: number;
    readonly fullScale: number;
}

export interface CostItem {
    readonly group: CostGroup;
    /** The resource's type token and name (`(stack)` for a stack-wide item such as egress). */
    readonly type: string;
    readonly resource: string;
    readonly description: string;
    /** What one unit is, e.g. `vCPU-hour`, `secret-month`. */
    readonly unit: string;
    readonly unitPrice: number;
    /** Units per month. */
    readonly quantity: Range;
    /** quantity × unitPrice, USD per month. */
    readonly monthly: Range;
    readonly priceKey: string;
    readonly source: string;
    readonly verified: boolean;
    /** Which snapshot the price came from (`aws-eu-west-1`). */
    readonly snapshot: string;
    readonly note?: string;
}

/** Resources of one type the estimator has no price for: counted and shown, never dropped. */
export interface NotPricedEntry {
    readonly type: string;
    readonly count: number;
    readonly names: string[];
    readonly reason: string;
}

/** Resources of one type known to cost nothing themselves (their cost, if any, is elsewhere). */
export interface ZeroCostEntry {
    readonly type: string;
    readonly count: number;
    readonly reason: string;
}

/** How a pricer judged one resource. */
export type Verdict = { readonly priced: true } | { readonly zero: string } | { readonly notPriced: string };
export const PRICED: Verdict = { priced: true };
export const zero = (reason: string): Verdict => ({ zero: reason });
export const notPriced = (reason: string): Verdict => ({ notPriced: reason });

export type Pricer = (resource: NeutralResource, ctx: PricingContext) => Verdict;

/** A price key the snapshot does not hold (e.g. a VM size nobody priced yet). */
export class MissingPriceError extends Error {
    constructor(
        readonly key: string,
        readonly snapshot: string,
    ) {
        super(`no price "${key}" in tools/cost/prices/${snapshot}.json`);
    }
}

export type SnapshotLoader = (cloud: PricedCloud, region: string) => PriceSnapshot;

export interface ItemSpec {
    readonly group: CostGroup;
    readonly description: string;
    readonly priceKey: string;
    /** Units per month in each scenario (one figure: the same in both). */
    readonly quantity: Range | number;
    readonly note?: string;
    /** Price from another region's snapshot (a resource with its own `region`). */
    readonly region?: string;
    /** Multiplies the listed unit price (e.g. 1.3 for Aurora I/O-Optimized instances); shown in the note. */
    readonly priceFactor?: number;
}

/**
 * What the stack's config knows and a preview can hide: the app's replica range per slot (the
 * chart values of a Helm release become unknown in a preview when any of them is an output).
 */
export interface StackHints {
    /** Replicas of each app slot: `apfa:scaling` (a standby region's already reduced minimum). */
    readonly appReplicas?: Range;
}

export class PricingContext {
    readonly hours: number;
    private readonly byType = new Map<string, NeutralResource[]>();
    private staged: CostItem[] = [];
    readonly notes = new Set<string>();

    constructor(
        readonly resources: readonly NeutralResource[],
        readonly cloud: Cloud,
        readonly region: string,
        readonly assumptions: CostAssumptions,
        private readonly snapshots: SnapshotLoader = loadSnapshot,
        readonly hints: StackHints = {},
    ) {
        this.hours = assumptions.hoursPerMonth;
        for (const resource of resources) {
            const list = this.byType.get(resource.type) ?? [];
            list.push(resource);
            this.byType.set(resource.type, list);
        }
    }

    /** Every resource of a type token, in graph order. */
    all(type: string): NeutralResource[] {
        return this.byType.get(type) ?? [];
    }

    /** A price of this stack's cloud, in its region or in `region`. */
    price(key: string, region = this.region): PriceEntry & { snapshot: string } {
        if (this.cloud === "docker") {
            throw new MissingPriceError(key, "docker");
        }
        const snapshot = this.snapshots(this.cloud, region);
        const name = `${snapshot.cloud}-${snapshot.region}`;
        const entry = snapshot.prices[key];
        if (!entry) {
            throw new MissingPriceError(key, name);
        }
        return { ...entry, snapshot: name };
    }

    /** Whether the snapshot holds a price (to choose between price keys without failing). */
    has(key: string, region = this.region): boolean {
        try {
            this.price(key, region);
            return true;
        } catch (err) {
            if (err instanceof MissingPriceError) {
                return false;
            }
            throw err;
        }
    }

    /** Adds an item for `resource`; kept only if the resource's pricer finishes without a missing price. */
    add(resource: NeutralResource, spec: ItemSpec): void {
        const entry = this.price(spec.priceKey, spec.region);
        const quantity = typeof spec.quantity === "number" ? { atRest: spec.quantity, fullScale: spec.quantity } : spec.quantity;
        const factor = spec.priceFactor ?? 1;
        const unitPrice = entry.usd * factor;
        const notes = [spec.note, factor === 1 ? undefined : `listed $${entry.usd} × ${factor}`].filter((n): n is string => n !== undefined);
        this.staged.push({
            group: spec.group,
            type: resource.type,
            resource: resource.name,
            description: spec.description,
            unit: entry.unit,
            unitPrice,
            quantity,
            monthly: { atRest: quantity.atRest * unitPrice, fullScale: quantity.fullScale * unitPrice },
            priceKey: spec.priceKey,
            source: entry.source,
            verified: entry.verified,
            snapshot: entry.snapshot,
            ...(notes.length > 0 ? { note: notes.join("; ") } : {}),
        });
    }

    /** Hours per month in both scenarios, times a count per scenario. */
    perHour(count: Range | number): Range {
        const c = typeof count === "number" ? { atRest: count, fullScale: count } : count;
        return { atRest: c.atRest * this.hours, fullScale: c.fullScale * this.hours };
    }

    /** @internal the estimator's bookkeeping around one pricer call. */
    takeStaged(): CostItem[] {
        const items = this.staged;
        this.staged = [];
        return items;
    }
}

// ---- small readers of untyped inputs (plans carry JSON; previews carry "[unknown]") ----

export const UNKNOWN = "[unknown]";

export function str(value: unknown): string | undefined {
    return typeof value === "string" && value !== UNKNOWN ? value : undefined;
}

export function num(value: unknown): number | undefined {
    if (typeof value === "number" && Number.isFinite(value)) {
        return value;
    }
    if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) {
        return Number(value);
    }
    return undefined;
}

export function bool(value: unknown): boolean | undefined {
    if (typeof value === "boolean") {
        return value;
    }
    return value === "true" ? true : value === "false" ? false : undefined;
}

export function obj(value: unknown): Record<string, unknown> | undefined {
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function arr(value: unknown): unknown[] | undefined {
    return Array.isArray(value) ? value : undefined;
}

/** A value at a dotted path of nested objects. */
export function at(value: unknown, pathText: string): unknown {
    let current: unknown = value;
    for (const part of pathText.split(".")) {
        current = obj(current)?.[part];
    }
    return current;
}

export const range = (atRest: number, fullScale: number): Range => ({ atRest, fullScale });
export const times = (r: Range, factor: number): Range => ({ atRest: r.atRest * factor, fullScale: r.fullScale * factor });
