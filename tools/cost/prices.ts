/**
 * The pinned price snapshots (tools/cost/prices/<cloud>-<region>.json): one dated file per cloud
 * and region, every figure with its unit, the public page it comes from, the price-API query that
 * refreshes it (tools/cost/refresh-prices.ts) and whether it has been re-read from that API.
 *
 * Estimates never fetch prices: the same graph and snapshot always give the same figure, so a
 * budget check in a preview cannot flap with a price list, and a price change shows up as a diff
 * of the snapshot in review.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export type PricedCloud = "aws" | "azure" | "gcp";

export interface PriceEntry {
    /** US dollars per {@link unit}. */
    readonly usd: number;
    readonly unit: string;
    /** The public price page (or price list) the figure is read from. */
    readonly source: string;
    /** The price-API query that refreshes it (written by refresh-prices.ts). */
    readonly query?: string;
    /**
     * True once refresh-prices.ts read it from the cloud's price API on {@link PriceSnapshot.snapshotDate};
     * false for a figure carried over from a third-party page or from memory of the price page.
     */
    readonly verified: boolean;
    readonly note?: string;
}

export interface PriceSnapshot {
    readonly cloud: PricedCloud;
    readonly region: string;
    readonly currency: "USD";
    /** ISO date of the snapshot. */
    readonly snapshotDate: string;
    readonly refreshedWith?: string;
    readonly note?: string;
    readonly prices: Readonly<Record<string, PriceEntry>>;
}

export const PRICES_DIR = path.join(__dirname, "prices");

export function snapshotFile(cloud: PricedCloud, region: string, dir = PRICES_DIR): string {
    return path.join(dir, `${cloud}-${region}.json`);
}

/** The snapshots in the repository, as `<cloud>-<region>` names. */
export function listSnapshots(dir = PRICES_DIR): string[] {
    return fs
        .readdirSync(dir)
        .filter((file) => file.endsWith(".json"))
        .map((file) => file.slice(0, -".json".length))
        .sort();
}

export class MissingSnapshotError extends Error {}

const cache = new Map<string, PriceSnapshot>();

/**
 * The pinned snapshot of a cloud and region.
 * @throws MissingSnapshotError naming the snapshots there are and how to add one.
 */
export function loadSnapshot(cloud: PricedCloud, region: string, dir = PRICES_DIR): PriceSnapshot {
    const file = snapshotFile(cloud, region, dir);
    const hit = cache.get(file);
    if (hit) {
        return hit;
    }
    if (!fs.existsSync(file)) {
        throw new MissingSnapshotError(
            `no price snapshot for ${cloud} ${region} (${path.relative(process.cwd(), file)}); snapshots: ${listSnapshots(dir).join(", ")}. ` +
                `Create it with: npx tsx tools/cost/refresh-prices.ts --cloud ${cloud} --region ${region} --create`,
        );
    }
    const snapshot = validateSnapshot(JSON.parse(fs.readFileSync(file, "utf8")) as unknown, file);
    cache.set(file, snapshot);
    return snapshot;
}

/** Checks the shape of a snapshot read from disk, so a hand edit that breaks it fails by name. */
export function validateSnapshot(value: unknown, where: string): PriceSnapshot {
    const problems: string[] = [];
    const doc = value as Partial<PriceSnapshot> | null;
    if (!doc || typeof doc !== "object") {
        throw new Error(`${where}: not a JSON object`);
    }
    if (doc.cloud !== "aws" && doc.cloud !== "azure" && doc.cloud !== "gcp") {
        problems.push("cloud: expected aws, azure or gcp");
    }
    if (typeof doc.region !== "string" || doc.region === "") {
        problems.push("region: expected a region name");
    }
    if (doc.currency !== "USD") {
        problems.push("currency: expected USD");
    }
    if (typeof doc.snapshotDate !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(doc.snapshotDate)) {
        problems.push("snapshotDate: expected YYYY-MM-DD");
    }
    for (const [key, entry] of Object.entries(doc.prices ?? {})) {
        const e = entry as Partial<PriceEntry>;
        if (typeof e.usd !== "number" || !Number.isFinite(e.usd) || e.usd < 0) {
            problems.push(`prices.${key}.usd: expected a non-negative number`);
        }
        if (typeof e.unit !== "string" || e.unit === "") {
            problems.push(`prices.${key}.unit: expected the unit the price is per`);
        }
        if (typeof e.source !== "string" || !e.source.startsWith("https://")) {
            problems.push(`prices.${key}.source: expected the https URL of the price page`);
        }
        if (typeof e.verified !== "boolean") {
            problems.push(`prices.${key}.verified: expected true or false`);
        }
    }
    if (problems.length > 0) {
        throw new Error(`${where}: invalid price snapshot:\n  ${problems.join("\n  ")}`);
    }
    return doc as PriceSnapshot;
}
