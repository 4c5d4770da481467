/**
 * `apfa:multiRegion`: this stack's place in a multi-region deployment. One stack per region (the
 * stack file names the region through the cloud's own key, e.g. `aws:region`); absent, the stack is
 * a single region, as before.
 *
 * Every stack of a deployment lists the same `regions`, primary first; the stack's own region (its
 * cloud's region key) says which of them it is.
 * A region stack needs nothing from another stack's state: the names it shares with the others (the
 * global database, the replicated credential) are derived from `name`, so a region can be updated
 * while another region, or the state backend's region, is down.
 */
import { z } from "zod";

import { NAMESPACE, acceptsPlaceholders, imageRef, isPlaceholderImage, valid, type StackRule } from "./common";

export const TOPOLOGIES = ["active-passive", "active-active"] as const;
export type Topology = (typeof TOPOLOGIES)[number];

/** A region code as every cloud spells it (`us-east-1`, `eastus2`, `europe-west1`). */
const regionCode = z.string().regex(/^[a-z]{2,}[a-z0-9-]*[0-9a-z]$/, "expected a region code such as us-east-1, eastus2 or europe-west1");

export const multiRegionSchema = z.strictObject({
    /**
     * `active-passive`: the primary region takes all traffic; the others are warm standbys that take
     * over when its health checks fail. `active-active`: every region serves its nearest users; the
     * database still has one writer (the primary region).
     */
    topology: z.enum(TOPOLOGIES),
    /**
     * The deployment's name, shared by all its region stacks: the global database and the replicated
     * credential are named after it. Lower-case letters, digits and "-", at most 30.
     */
    name: z.string().regex(/^[a-z][a-z0-9-]{0,28}[a-z0-9]$/, "expected 2-30 lower-case letters, digits or -, starting with a letter"),
    /** Every region of the deployment, the primary (the database's writer at creation) first. */
    regions: z.array(regionCode).min(2).max(5),
    /**
     * Warm standby: a secondary region of an active-passive deployment runs this percent of the
     * primary's minimum replicas (rounded up, at least 2), with autoscaling on, so a failover does not
     * wait for a cold start. 100 = a full copy. Ignored in active-active (every region serves).
     * @default 50
     */
    standbyCapacityPercent: z.number().int().min(25).max(100).default(50),
    /**
     * The failover controller's container image (`docker build -f tools/failover/Dockerfile .`, pushed
     * by you). Required in the failover region, `regions[1]`, the one stack that runs the controller:
     * exactly one controller may promote the database. Unset elsewhere.
     */
    controllerImage: imageRef.optional(),
    /**
     * Azure and GCP, every region but the primary: the primary region stack's fully qualified name
     * (`<organization>/<project>/<stack>`). Read by StackReference (from the state backend, never
     * from the primary region) for what only the primary's deploy knows: the generated database
     * password that its replica shares, and the global entry's generated names.
     */
    primaryStack: z
        .string()
        .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "expected <organization>/<project>/<stack>, e.g. acme/apfa/prod-azure-westeurope")
        .optional(),
});

export type MultiRegionSettings = z.output<typeof multiRegionSchema> & {
    /** This stack's region (the cloud's own key: `aws:region`, `apfa:azure.location`, `apfa:gcp.region`). */
    readonly region: string;
    /** The first of `regions`: where the writer database is created. */
    readonly primaryRegion: string;
    /** Whether this stack is the primary region. */
    readonly isPrimary: boolean;
};

/** Resolves the derived fields, given the stack's own region. */
export function toMultiRegionSettings(parsed: z.output<typeof multiRegionSchema>, region: string): MultiRegionSettings {
    const primaryRegion = parsed.regions[0];
    return { ...parsed, region, primaryRegion, isPrimary: region === primaryRegion };
}

/**
 * Minimum replicas of a slot in this region: the configured minimum, or in a standby region of an
 * active-passive deployment `standbyCapacityPercent` of it, rounded up, at least 2 (two AZs).
 */
export function regionalMinReplicas(minReplicas: number, region: MultiRegionSettings | undefined): number {
    if (!region || region.isPrimary || region.topology !== "active-passive") {
        return minReplicas;
    }
    return Math.min(minReplicas, Math.max(2, Math.ceil((minReplicas * region.standbyCapacityPercent) / 100)));
}

/** Where each target's stack file names its region (which must match `apfa:multiRegion.region`). */
function stackRegion(cloud: string, own: Readonly<Record<string, unknown>>, all: Readonly<Record<string, unknown>>): { key: string; value: unknown } | undefined {
    const section = (name: string) => (typeof own[name] === "object" && own[name] !== null ? (own[name] as Record<string, unknown>) : {});
    switch (cloud) {
        case "aws":
            return { key: "aws:region", value: all["aws:region"] };
        case "azure":
            return { key: `${NAMESPACE}:azure.location`, value: section("azure").location };
        case "gcp":
            return { key: `${NAMESPACE}:gcp.region`, value: section("gcp").region };
        default:
            return undefined;
    }
}

/** Rules over `apfa:multiRegion` and the keys it must agree with. */
export const multiRegionRules =
    (cloud: string): StackRule =>
    ({ own, all }) => {
        if (own.multiRegion === undefined) {
            return [];
        }
        const settings = valid(multiRegionSchema, own.multiRegion);
        if (!settings) {
            return [];
        }
        const problems: string[] = [];
        const key = `${NAMESPACE}:multiRegion`;
        if (cloud === "docker") {
            problems.push(`${key}: the dev (docker) stack is one machine; multi-region applies to aws, azure and gcp`);
        }
        if (new Set(settings.regions).size !== settings.regions.length) {
            problems.push(`${key}.regions: lists a region twice (${settings.regions.join(", ")})`);
        }
        problems.push(...controllerRules(cloud, settings, stackRegion(cloud, own, all)?.value, own));
        const declared = stackRegion(cloud, own, all);
        if (declared && typeof declared.value === "string" && !settings.regions.includes(declared.value)) {
            problems.push(`${key}.regions: does not list this stack's region ${declared.value} (${declared.key}); every region stack lists all regions, primary first`);
        }
        return problems;
    };

/**
 * Every cloud: the controller runs in the failover region (`regions[1]`) only, with its image.
 * Azure and GCP: a region other than the primary names the primary stack (AWS needs no stack
 * reference: what regions share is named after `apfa:multiRegion.name`).
 */
function controllerRules(cloud: string, settings: z.output<typeof multiRegionSchema>, region: unknown, own: Readonly<Record<string, unknown>>): string[] {
    if ((cloud !== "aws" && cloud !== "azure" && cloud !== "gcp") || typeof region !== "string") {
        return [];
    }
    const key = `${NAMESPACE}:multiRegion`;
    const problems: string[] = [];
    const failoverRegion = settings.regions[1];
    if (region === failoverRegion && settings.controllerImage === undefined) {
        problems.push(`${key}.controllerImage: required in ${region}, the failover region (regions[1]) that runs the failover controller; build tools/failover's image and set its reference`);
    }
    if (region !== failoverRegion && settings.controllerImage !== undefined) {
        problems.push(`${key}.controllerImage: only the failover region ${failoverRegion} (regions[1]) runs the controller (one controller may promote); remove it from the ${region} stack`);
    }
    if (settings.controllerImage !== undefined && isPlaceholderImage(settings.controllerImage) && !acceptsPlaceholders(own)) {
        problems.push(`${key}.controllerImage: ${settings.controllerImage} is a sample in AWS's documentation account; push the controller's image to your registry and set its reference`);
    }
    if (cloud === "aws") {
        if (settings.primaryStack !== undefined) {
            problems.push(`${key}.primaryStack: the aws target reads nothing from other stacks (shared names derive from ${key}.name); remove it`);
        }
        return problems;
    }
    if (region !== settings.regions[0] && settings.primaryStack === undefined) {
        problems.push(`${key}.primaryStack: required in ${region} (not the primary ${settings.regions[0]}): the primary region stack's <organization>/<project>/<stack>, read for the shared database password and the global entry's names`);
    }
    if (region === settings.regions[0] && settings.primaryStack !== undefined) {
        problems.push(`${key}.primaryStack: ${region} is the primary region itself; remove it`);
    }
    return problems;
}
