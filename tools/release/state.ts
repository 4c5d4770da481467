/**
 * The release state machine's transitions, as pure functions from one `apfa:release` value to the
 * next. Each transition is written to the stack config in one write and followed by one
 * `pulumi up` (see machine/); the functions here decide what that write contains.
 *
 *   start ─► deploying ─(healthy)─► shifting[0] ─► shifting[1] … ─► promoted ─(window over)─► completed
 *                 │                     │                              │
 *                 └──────── any failure / operator ────────────────────┴─► rollingBack ─► rolledBack
 */
import type { ReleasePhase, ReleaseProgress, ReleaseState, RolloutSettings, Slot, SlotSettings } from "../../src/config";
import type { WaveRecord } from "../../src/config/release";
import { isoSeconds } from "./clock";
import { otherSlot, slotImage } from "../../src/bluegreen";

/** One step of a rollout with its bake. */
export interface RolloutStep {
    /** Percent of traffic on the new slot. */
    readonly weight: number;
    readonly bakeSeconds: number;
}

/** The configured steps with each step's bake time (its own, else the default). */
export function rolloutSteps(rollout: Pick<RolloutSettings, "steps" | "bakeMinutes">): RolloutStep[] {
    return rollout.steps.map((step) =>
        typeof step === "number"
            ? { weight: step, bakeSeconds: rollout.bakeMinutes * 60 }
            : { weight: step.weight, bakeSeconds: step.bakeMinutes * 60 },
    );
}

/** Phases in which a release holds the stack: a new `start` is refused. */
const HOLDING_PHASES: readonly ReleasePhase[] = ["deploying", "shifting", "promoted", "rollingBack"];

export function holdsStack(progress: ReleaseProgress | undefined): boolean {
    return progress !== undefined && HOLDING_PHASES.includes(progress.phase);
}

/** "20260726-101500-green": sortable, unique per second and slot. */
export function newReleaseId(now: Date, to: Slot): string {
    const iso = now.toISOString();
    return `${iso.slice(0, 10).replace(/-/g, "")}-${iso.slice(11, 19).replace(/:/g, "")}-${to}`;
}

/** One line naming the release that holds a stack, for refusals and status. */
export function describeHolder(progress: ReleaseProgress): string {
    const image = progress.image ?? "the build context";
    return `release ${progress.id} (${image} on ${progress.to}, ${describePhase(progress)}, started ${progress.startedAt})`;
}

export function describePhase(progress: ReleaseProgress): string {
    switch (progress.phase) {
        case "deploying":
            return "deploying the new slot at 0 %";
        case "shifting":
            return `step ${progress.stepIndex + 1}/${progress.steps.length} at ${progress.steps[progress.stepIndex]} %`;
        case "promoted":
            return `promoted, rollback window until ${progress.windowEndsAt}`;
        case "completed":
            return `completed at ${progress.endedAt}`;
        case "rollingBack":
            return "rolling back (not finished)";
        case "rolledBack":
            return `rolled back at ${progress.endedAt}`;
    }
}

export interface StartArgs {
    readonly id: string;
    /** The new image; undefined runs the build context (docker only). */
    readonly image?: string;
    /** Environment overrides for the new slot; "" removes a variable. */
    readonly env: Readonly<Record<string, string>>;
    readonly steps: readonly RolloutStep[];
    readonly trafficUrn: string;
    readonly now: Date;
    /** The wave this release is one region of, if any. */
    readonly wave?: WaveRecord;
}

/**
 * The first write: the new image on the idle slot at 0 %. The new slot inherits the active slot's
 * environment (the known-good settings), with `env` overrides applied, and is scaled up, without
 * a replica floor (one left by an earlier release is dropped; the steps set it). The serving
 * slot's floor, if any, stays.
 */
export function startState(current: ReleaseState, args: StartArgs): ReleaseState {
    const from = current.active;
    const to = otherSlot(from);
    const env: Record<string, string> = { ...current[from].env };
    for (const [name, value] of Object.entries(args.env)) {
        if (value === "") {
            delete env[name];
        } else {
            env[name] = value;
        }
    }
    const at = isoSeconds(args.now);
    const progress: ReleaseProgress = {
        id: args.id,
        image: args.image,
        from,
        fromImage: slotImage(current, from),
        to,
        steps: args.steps.map((s) => s.weight),
        phase: "deploying",
        stepIndex: -1,
        startedAt: at,
        stepStartedAt: at,
        paused: false,
        promoteRequested: false,
        trafficUrn: args.trafficUrn,
        wave: args.wave,
    };
    return {
        ...current,
        previewWeight: 0,
        [to]: { image: args.image, env, scaledDown: false },
        progress: cleanProgress(progress),
    };
}

/** Moves to step `index`: the new slot gets `steps[index]` percent. */
export function stepState(current: ReleaseState, index: number, now: Date): ReleaseState {
    const progress = requireProgress(current);
    if (index < 0 || index >= progress.steps.length) {
        throw new Error(`step ${index} out of range (the release has ${progress.steps.length} steps)`);
    }
    return {
        ...current,
        previewWeight: progress.steps[index],
        progress: cleanProgress({ ...progress, phase: "shifting", stepIndex: index, stepStartedAt: isoSeconds(now), lastAnalysis: undefined }),
    };
}

/**
 * Promotion: the new slot becomes the active one. At 100 % preview the routing is the same before
 * and after, so this write changes who is "active" without moving a request.
 */
export function promoteState(current: ReleaseState, now: Date, windowMinutes: number): ReleaseState {
    const progress = requireProgress(current);
    return {
        ...current,
        active: progress.to,
        previewWeight: 0,
        progress: cleanProgress({
            ...progress,
            phase: "promoted",
            stepIndex: progress.steps.length - 1,
            stepStartedAt: isoSeconds(now),
            windowEndsAt: isoSeconds(new Date(now.getTime() + windowMinutes * 60_000)),
            paused: false,
            promoteRequested: false,
            lastAnalysis: undefined,
        }),
    };
}

/**
 * After the rollback window: the old slot is scaled down and the release is over. Both replica
 * floors the release set are cleared (the old slot runs nothing; the new slot's autoscaler owns
 * its count again).
 */
export function completeState(current: ReleaseState, now: Date): ReleaseState {
    const progress = requireProgress(current);
    return {
        ...current,
        [progress.from]: { ...withoutFloor(current[progress.from]), scaledDown: true },
        [progress.to]: withoutFloor(current[progress.to]),
        progress: cleanProgress({ ...progress, phase: "completed", endedAt: isoSeconds(now), promoteRequested: false, driver: undefined }),
    };
}

/**
 * Sets the replica floors (`apfa:release.<slot>.minReplicas`) of the slots named in `floors`; an
 * undefined floor removes the key. Capacity only: routing and images stay as they are.
 */
export function withFloors(current: ReleaseState, floors: Partial<Record<Slot, number | undefined>>): ReleaseState {
    const next: ReleaseState = { ...current };
    for (const slot of Object.keys(floors) as Slot[]) {
        const floor = floors[slot];
        next[slot] = floor === undefined ? withoutFloor(current[slot]) : { ...current[slot], minReplicas: floor };
    }
    return next;
}

function withoutFloor(slot: SlotSettings): SlotSettings {
    const rest = { ...slot };
    delete rest.minReplicas;
    return rest;
}

/** Thrown when a rollback is impossible from the recorded state (the old slot is gone). */
export class RollbackImpossible extends Error {}

/**
 * All traffic back to the old slot: `previewWeight` 0 with the old slot active (re-activated if
 * the release had been promoted). Only the routing changes, so one targeted update applies it.
 * The replica floors stay: the old slot's pin is what keeps it warm for the traffic it gets back.
 */
export function rollbackState(current: ReleaseState, reason: string): ReleaseState {
    const progress = requireProgress(current);
    if (progress.phase === "completed") {
        throw new RollbackImpossible(
            `release ${progress.id} completed at ${progress.endedAt}: its rollback window is over and ${progress.from} is scaled down. ` +
                `To go back, release the old image again: npm run release -- start --stack <stack> --image ${progress.fromImage ?? "<old image>"}`,
        );
    }
    if (current[progress.from].scaledDown) {
        throw new RollbackImpossible(`${progress.from} is scaled down; a rollback would route traffic to no replicas`);
    }
    return {
        ...current,
        active: progress.from,
        previewWeight: 0,
        progress: cleanProgress({
            ...progress,
            phase: "rollingBack",
            reason: progress.phase === "rollingBack" || progress.phase === "rolledBack" ? progress.reason : reason,
            paused: false,
            promoteRequested: false,
        }),
    };
}

/** Records that the rollback's update finished. */
export function rolledBackState(current: ReleaseState, now: Date): ReleaseState {
    const progress = requireProgress(current);
    return { ...current, progress: cleanProgress({ ...progress, phase: "rolledBack", endedAt: isoSeconds(now), driver: undefined }) };
}

/** Only `progress` changed: a record, not a routing or deployment change (needs no `pulumi up`). */
export function withProgress(current: ReleaseState, patch: Partial<ReleaseProgress>): ReleaseState {
    const progress = requireProgress(current);
    return { ...current, progress: cleanProgress({ ...progress, ...patch }) };
}

/**
 * What a target deploys from the release state: everything but `progress`. Two states with the
 * same deployable part need no `pulumi up` between them.
 */
export function deployablePart(release: ReleaseState): Omit<ReleaseState, "progress"> {
    const rest: Partial<ReleaseState> = { ...release };
    delete rest.progress;
    return rest as Omit<ReleaseState, "progress">;
}

/** The deployable fields that differ between `before` and `after`, as "path: old → new" (for messages). */
export function describeDeployableChanges(before: ReleaseState, after: ReleaseState): string[] {
    const flat = (value: unknown, prefix: string, out: Map<string, string>) => {
        if (value && typeof value === "object" && !Array.isArray(value)) {
            for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
                flat(v, prefix ? `${prefix}.${k}` : k, out);
            }
        } else if (value !== undefined) {
            out.set(prefix, JSON.stringify(value));
        }
        return out;
    };
    const a = flat(deployablePart(before), "", new Map());
    const b = flat(deployablePart(after), "", new Map());
    const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
    return keys.filter((k) => a.get(k) !== b.get(k)).map((k) => `${k}: ${a.get(k) ?? "(unset)"} → ${b.get(k) ?? "(unset)"}`);
}

/** Whether two states deploy differently (a routing, image, env or scale change). */
export function deploysDifferently(a: ReleaseState, b: ReleaseState): boolean {
    return JSON.stringify(canonical(deployablePart(a))) !== JSON.stringify(canonical(deployablePart(b)));
}

/**
 * Whether promoting would change what the old slot runs (`slotImage` of a slot without its own
 * image follows the active slot). Then the promotion would redeploy the old slot and the rollback
 * window would hold the new image, so `start` refuses such a release.
 */
export function promotionChangesOldSlot(started: ReleaseState): boolean {
    const progress = requireProgress(started);
    const promoted = promoteState(started, new Date(0), 0);
    return slotImage(promoted, progress.from) !== slotImage(started, progress.from);
}

function requireProgress(release: ReleaseState): ReleaseProgress {
    if (!release.progress) {
        throw new Error("no release is recorded in apfa:release.progress");
    }
    return release.progress;
}

function cleanProgress(progress: ReleaseProgress): ReleaseProgress {
    return dropUndefined(progress);
}

/** JSON-compatible copy without undefined fields (Pulumi config cannot hold undefined). */
export function dropUndefined<T extends object>(value: T): T {
    return JSON.parse(JSON.stringify(value)) as T;
}

function canonical(value: unknown): unknown {
    if (Array.isArray(value)) {
        return value.map(canonical);
    }
    if (value && typeof value === "object") {
        return Object.fromEntries(
            Object.entries(value as Record<string, unknown>)
                .filter(([, v]) => v !== undefined)
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([k, v]) => [k, canonical(v)]),
        );
    }
    return value;
}
