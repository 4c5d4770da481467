/**
 * The blue/green release keys: `apfa:release` (the state the release tool writes and targets read)
 * and `apfa:rollout` (the release tool's policy; the program validates it so that `pulumi up`
 * refuses what the release tool would refuse).
 */
import { z } from "zod";

import { SLOTS } from "../contract";
import { envMap, imageRef } from "./common";
import { ConfigError, describeIssue } from "./errors";

export const slotSchema = z.strictObject({
    /** Image this slot runs. Required for the active slot on cloud targets. */
    image: imageRef.optional(),
    /** Extra environment for this slot only (e.g. the reference app's APFA_ERROR_RATIO). @default {} */
    env: envMap.default({}),
    /**
     * The slot runs no replicas (set by the release tool when a rollback window ends). Targets keep
     * its routing backend (target group, Service) with weight 0 and scale its workload to zero.
     * @default false
     */
    scaledDown: z.boolean().default(false),
    /**
     * Replica floor of this slot: its autoscaler keeps at least this many replicas (the higher of
     * this and `apfa:scaling.minReplicas`; at most `apfa:scaling.maxReplicas`). The release tool
     * sets it so capacity follows the weight: before traffic moves it raises the receiving slot's
     * floor to its share of the serving slot's replicas and pins the serving slot at its current
     * count, and it clears both when the rollback window ends. People may set it too (e.g. ahead
     * of a known peak). Ignored while the slot is `scaledDown`, and on docker (a fixed count per slot).
     * @default unset (the floor is `apfa:scaling.minReplicas`)
     */
    minReplicas: z.number().int().min(1).max(100).optional(),
});

/** Phases of a release driven by `npm run release` (tools/release/). */
export const RELEASE_PHASES = ["deploying", "shifting", "promoted", "completed", "rollingBack", "rolledBack"] as const;
export type ReleasePhase = (typeof RELEASE_PHASES)[number];
const isoTime = z.iso.datetime({ offset: true });

/** A Pulumi stack name as the release tool accepts it in a wave (`--stacks`). */
export const STACK_NAME = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * The wave a release belongs to: one release per region stack, one region at a time, in this
 * order (`npm run release -- start --stacks a,b`). Every region's release records the whole wave,
 * so `status` and `resume` over the same `--stacks` find it from any region.
 */
const waveRecordSchema = z.strictObject({
    /** The wave's id: the release id of its first region. */
    id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "expected a release id such as 20260726-101500-green"),
    /** The region stacks in release order. */
    stacks: z.array(z.string().regex(STACK_NAME, "expected a stack name")).min(1).max(20),
    /** This stack's position in `stacks`. */
    index: z.number().int().min(0).max(19),
    /** The `--env` overrides of the wave (applied to the new slot in every region). @default {} */
    env: envMap.default({}),
});

/** The release in progress (or the last one), recorded by the release tool. Targets ignore it. */
const releaseProgressSchema = z.strictObject({
    /** Release id, e.g. "20260726-101500-green". */
    id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "expected a release id such as 20260726-101500-green"),
    /** The new image; absent on the docker target when the release runs the build context. */
    image: imageRef.optional(),
    /** The slot traffic moves away from, and its image at the start. */
    from: z.enum(SLOTS),
    fromImage: imageRef.optional(),
    /** The slot the new image runs on. */
    to: z.enum(SLOTS),
    /** The new slot's traffic percent per step, fixed when the release started. */
    steps: z.array(z.number().int().min(1).max(100)).min(1).max(20),
    phase: z.enum(RELEASE_PHASES),
    /** Index into `steps` of the current step; -1 while the new slot is deployed and checked. */
    stepIndex: z.number().int().min(-1).max(20),
    startedAt: isoTime,
    stepStartedAt: isoTime,
    /** End of the rollback window after promotion. */
    windowEndsAt: isoTime.optional(),
    endedAt: isoTime.optional(),
    /** An operator paused the release: no further step until `release resume`. */
    paused: z.boolean().default(false),
    /** An operator asked to promote now (`release promote`), skipping the remaining steps. */
    promoteRequested: z.boolean().default(false),
    /** URN of the resource carrying the weights (the target of the rollback's `pulumi up --target`). */
    trafficUrn: z.string().min(1),
    /** Why the release ended as it did (e.g. the analysis that rolled it back). */
    reason: z.string().max(1000).optional(),
    lastAnalysis: z
        .strictObject({
            at: isoTime,
            decision: z.enum(["continue", "hold", "rollback"]),
            reasons: z.array(z.string().max(400)).max(12),
        })
        .optional(),
    /** Set when the release is one region of a wave across region stacks. */
    wave: waveRecordSchema.optional(),
    /** The process driving the release, refreshed every analysis; a stale heartbeat means it is gone. */
    driver: z.strictObject({ host: z.string().max(255), pid: z.number().int().min(0), heartbeatAt: isoTime }).optional(),
});

/** The blue/green release state. The release tool edits this key; people may too. */
export const releaseSchema = z
    .strictObject({
        /** The slot that serves all traffic at rest. @default "blue" */
        active: z.enum(SLOTS).default("blue"),
        /** Percent of traffic sent to the other slot during a release. @default 0 */
        previewWeight: z.number().int().min(0).max(100).default(0),
        blue: slotSchema.prefault({}),
        green: slotSchema.prefault({}),
        /** Written by the release tool; absent until the first `npm run release -- start`. */
        progress: releaseProgressSchema.optional(),
    })
    .superRefine((release, ctx) => {
        for (const slot of SLOTS) {
            const weight = slot === release.active ? 100 - release.previewWeight : release.previewWeight;
            if (release[slot].scaledDown && weight > 0) {
                ctx.addIssue({ code: "custom", path: [slot, "scaledDown"], message: `a scaled-down slot cannot take traffic (it would get ${weight} %)` });
            }
        }
        if (release.progress && release.progress.from === release.progress.to) {
            ctx.addIssue({ code: "custom", path: ["progress", "to"], message: "must differ from progress.from" });
        }
    });

/** One rollout step: the new slot's traffic percent, optionally with its own bake time. */
const rolloutStepSchema = z.union([
    z.number().int().min(1).max(100),
    z.strictObject({ weight: z.number().int().min(1).max(100), bakeMinutes: z.number().min(0).max(1440) }),
]);

/** How the release tool judges the new slot during each bake (tools/release/analysis.ts). */
const rolloutAnalysisSchema = z.strictObject({
    /** Seconds between two analyses (a term of the rollback time: see `npm run bench:rollback`). @default 5 */
    intervalSeconds: z.number().int().min(1).max(600).default(5),
    /** Metrics window each analysis reads, in seconds (CloudWatch rounds it up to whole minutes). @default 60 */
    windowSeconds: z.number().int().min(10).max(3600).default(60),
    /** Fewest new-slot requests in the window before judging it; fewer means "hold". @default 50 */
    minRequests: z.number().int().min(1).max(1_000_000).default(50),
    /**
     * Longest window, in seconds, the analysis widens to when the new slot had fewer than
     * minRequests in windowSeconds (a small canary step on a quiet service): it then judges the
     * step's requests since the step began, up to this long, instead of holding until the step is
     * inconclusive. A value at or below windowSeconds turns widening off. @default 600
     */
    maxWindowSeconds: z.number().int().min(10).max(3600).default(600),
    /** Highest 5xx ratio of the new slot (0.01 = 1 %), judged on its one-sided 95 % lower bound. @default 0.01 */
    maxErrorRatio: z.number().min(0).max(1).default(0.01),
    /** The new slot's error ratio may reach the old slot's times this factor, plus errorRatioMargin. @default 2 */
    errorRatioFactor: z.number().min(1).max(100).default(2),
    /** @default 0.002 */
    errorRatioMargin: z.number().min(0).max(1).default(0.002),
    /** Highest p95 latency of the new slot, in seconds. @default 0.5 */
    maxP95Seconds: z.number().positive().max(600).default(0.5),
    /** The new slot's p95 may reach the old slot's times this factor, plus p95MarginSeconds. @default 1.5 */
    p95Factor: z.number().min(1).max(100).default(1.5),
    /** @default 0.05 */
    p95MarginSeconds: z.number().min(0).max(60).default(0.05),
    /** Failed analyses in a row that trigger the rollback. @default 1 */
    failureThreshold: z.number().int().min(1).max(20).default(1),
    /** How long a step may wait past its bake for enough traffic to judge, in minutes. @default 10 */
    maxHoldMinutes: z.number().min(0).max(1440).default(10),
    /** When a step is still undecided after maxHoldMinutes: roll back, or pause for an operator. @default "rollback" */
    onInconclusive: z.enum(["rollback", "pause"]).default("rollback"),
});

/** How traffic moves to the new slot: a few big blue/green steps, or small canary steps first. */
export const ROLLOUT_STRATEGIES = ["bluegreen", "canary"] as const;
export type RolloutStrategy = (typeof ROLLOUT_STRATEGIES)[number];

/**
 * The steps and bake of each strategy when `apfa:rollout` sets none. Both strategies use the same
 * two slots, the same gate and the same one-resource rollback; canary exposes fewer users first
 * (5 %) and bakes each step for less time, since a small step bounds the damage of a bad release
 * and the gate (with its widening window) still needs the first step's longer bake to gather
 * requests at 5 %.
 */
export const STRATEGY_DEFAULTS: Readonly<Record<RolloutStrategy, { readonly steps: readonly z.input<typeof rolloutStepSchema>[]; readonly bakeMinutes: number }>> = {
    bluegreen: { steps: [10, 50, 100], bakeMinutes: 15 },
    canary: { steps: [{ weight: 5, bakeMinutes: 10 }, 25, 50, 100], bakeMinutes: 5 },
};

/** The rollout policy of `npm run release` (read by the release tool only; the program ignores it). */
export const rolloutSchema = z
    .strictObject({
        /**
         * "bluegreen": 10 → 50 → 100 with a 15-minute bake each; "canary": 5 % for 10 minutes, then
         * 25 → 50 → 100 with 5 minutes each. Explicit `steps` and `bakeMinutes` override either.
         * @default "bluegreen"
         */
        strategy: z.enum(ROLLOUT_STRATEGIES).default("bluegreen"),
        /** The new slot's traffic percent per step, rising, ending at 100. @default the strategy's ([10, 50, 100] for bluegreen) */
        steps: z
            .array(rolloutStepSchema)
            .min(1)
            .max(20)
            .refine((steps) => steps.every((s, i) => i === 0 || weightOf(s) > weightOf(steps[i - 1])), "steps must rise")
            .refine((steps) => steps.length === 0 || weightOf(steps[steps.length - 1]) === 100, "the last step must be 100")
            .optional(),
        /** Bake time of every step that does not set its own, in minutes. @default the strategy's (15 for bluegreen, 5 for canary) */
        bakeMinutes: z.number().min(0).max(1440).optional(),
        /** Longest wait for the new slot's replicas to be up once it is deployed, in minutes. @default 10 */
        healthTimeoutMinutes: z.number().min(0.5).max(120).default(10),
        /** How long the old slot keeps running after promotion, for an instant rollback, in minutes. @default 60 */
        rollbackWindowMinutes: z.number().min(0).max(10080).default(60),
        /** Metrics for the analysis: the stack's Prometheus, or CloudWatch target-group metrics (aws only). @default "prometheus" */
        metricsSource: z.enum(["prometheus", "cloudwatch"]).default("prometheus"),
        analysis: rolloutAnalysisSchema.prefault({}),
    })
    .transform((rollout) => {
        const defaults = STRATEGY_DEFAULTS[rollout.strategy];
        return {
            ...rollout,
            steps: rollout.steps ?? defaults.steps.map((step) => (typeof step === "number" ? step : { ...step })),
            bakeMinutes: rollout.bakeMinutes ?? defaults.bakeMinutes,
        };
    });

function weightOf(step: z.output<typeof rolloutStepSchema>): number {
    return typeof step === "number" ? step : step.weight;
}

export type ReleaseProgress = z.output<typeof releaseProgressSchema>;
export type WaveRecord = z.output<typeof waveRecordSchema>;
export type RolloutSettings = z.output<typeof rolloutSchema>;
export type RolloutAnalysisSettings = z.output<typeof rolloutAnalysisSchema>;
/** What may be written to `apfa:release` (defaults not yet applied). */
export type ReleaseStateInput = z.input<typeof releaseSchema>;

/**
 * Validates an `apfa:release` value (pure).
 * @throws ConfigError naming every bad field.
 */
export function parseReleaseState(raw: unknown): ReleaseState {
    return parseSection("release", releaseSchema, raw);
}

/**
 * Validates an `apfa:rollout` value and fills its defaults (pure).
 * @throws ConfigError naming every bad field.
 */
export function parseRolloutSettings(raw: unknown): RolloutSettings {
    return parseSection("rollout", rolloutSchema, raw);
}

function parseSection<T extends z.ZodType>(key: string, schema: T, raw: unknown): z.output<T> {
    const result = schema.safeParse(raw ?? {});
    if (!result.success) {
        throw new ConfigError(result.error.issues.flatMap((issue) => describeIssue({ ...issue, path: [key, ...issue.path] }, { [key]: raw }, [])));
    }
    return result.data;
}

export type ReleaseState = z.output<typeof releaseSchema>;
export type SlotSettings = z.output<typeof slotSchema>;
