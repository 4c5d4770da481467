/**
 * Text for people: the dry-run plan of `release start` and the `release status` report (pure).
 */
import type { ReleaseProgress, ReleaseState, Slot } from "../../src/config";
import { SLOTS } from "../../src/config";
import { minimumRps } from "./analysis";
import { formatDuration } from "./clock";
import type { ReleaseContext } from "./context";
import { describePhase, holdsStack, rolloutSteps } from "./state";
import { slotImage, trafficWeights } from "../../src/bluegreen";

export interface PlanExtras {
    /** The URN the rollback targets (from the stack outputs), when known. */
    readonly trafficUrn?: string;
    /** The metric source that will judge the release. */
    readonly metrics: string;
}

/** The plan of a `release start`, step by step, as the dry run prints it. */
export function describePlan(context: ReleaseContext, current: ReleaseState, started: ReleaseState, extras: PlanExtras): string[] {
    const progress = started.progress as ReleaseProgress;
    const { from, to } = progress;
    const steps = rolloutSteps(context.rollout);
    const a = context.rollout.analysis;
    const urn = extras.trafficUrn ?? "<the trafficUrn stack output: the stack has not been deployed>";
    const image = progress.image ?? "the build context";
    const envChanges = Object.entries(started[to].env)
        .filter(([k, v]) => current[from].env[k] !== v)
        .map(([k, v]) => `${k}=${v}`);
    const lines = [
        `Release plan for stack ${context.stack} (${context.config.cloud}, ${context.rollout.strategy}) — dry run, nothing is changed`,
        `  now:  ${describeSlots(current)}`,
        `  new:  ${image} on ${to} (idle); ${from} keeps ${slotImage(current, from) ?? "the build context"} and all traffic until step 1`,
        "",
        `  1. config apfa:release: ${to}.image=${progress.image ?? "(none: build context)"}` +
            `${envChanges.length ? `, ${to}.env += ${envChanges.join(" ")}` : ""}, ${to}.scaledDown=false, previewWeight=0, progress={id ${progress.id}, phase deploying}`,
        `     pulumi up (whole stack): deploys ${to}; no traffic moves`,
        `     wait until ${to} has ${context.expectedReplicas} replica(s) up and none down (at most ${context.rollout.healthTimeoutMinutes} min)`,
    ];
    const range = context.capacity;
    steps.forEach((step, i) => {
        lines.push(`  ${i + 2}. config previewWeight=${step.weight} (step ${i + 1}/${steps.length}) → pulumi up: ${from} ${100 - step.weight} % / ${to} ${step.weight} %`);
        if (range) {
            lines.push(
                `     first, capacity: config ${to}.minReplicas=⌈${from}'s replicas up × ${step.weight} %⌉, ${from}.minReplicas=its replicas up ` +
                    `(each within ${range.minReplicas}-${range.maxReplicas}) → pulumi up; wait until ${to} has them up (at most ${context.rollout.healthTimeoutMinutes} min)`,
            );
        }
        lines.push(
            `     bake ${formatDuration(step.bakeSeconds * 1000)}${i === steps.length - 1 ? " (final bake)" : ""}, analysis every ${a.intervalSeconds}s over the last ${a.windowSeconds}s`,
        );
    });
    lines.push(
        `  ${steps.length + 2}. config active=${to}, previewWeight=0 → pulumi up: promotion, routing unchanged (${to} already has 100 %)`,
        `     rollback window ${context.rollout.rollbackWindowMinutes} min: ${from} keeps running; the analysis goes on (absolute limits)`,
        `  ${steps.length + 3}. config ${from}.scaledDown=true${range ? ", both slots' minReplicas cleared" : ""} → pulumi up: ${from} scaled down; release complete`,
        "",
        `  rollback (on a failed analysis, a failed update, or \`release rollback\`): config previewWeight=0` +
            ` (after promotion also active=${from}) → pulumi up --target ${urn}`,
        `  gate (${extras.metrics}): hold below ${a.minRequests} requests; roll back when the error ratio's 95 % lower bound exceeds ` +
            `${pct(a.maxErrorRatio)} or ${from}'s ×${a.errorRatioFactor} + ${pct(a.errorRatioMargin)}, or p95 exceeds ` +
            `${a.maxP95Seconds * 1000} ms or ${from}'s ×${a.p95Factor} + ${a.p95MarginSeconds * 1000} ms` +
            ` (${a.failureThreshold} failed analysis${a.failureThreshold === 1 ? "" : "es"} in a row)`,
        ...smallStepLines(context, steps[0].weight),
        `  undecided ${a.maxHoldMinutes} min after a bake: ${a.onInconclusive}`,
        `  shortest duration: ${formatDuration(steps.reduce((t, s) => t + s.bakeSeconds, 0) * 1000)} of bakes + ` +
            `${context.rollout.rollbackWindowMinutes} min window`,
    );
    return lines;
}

/**
 * What the gate needs at the first (smallest) step: the service's traffic below which that step
 * cannot be judged in one window, and with the widened window. Below both it holds, and is
 * decided by `onInconclusive` after its bake and hold allowance.
 */
function smallStepLines(context: ReleaseContext, weight: number): string[] {
    const a = context.rollout.analysis;
    const one = minimumRps(a, weight, a.windowSeconds);
    const wide = Math.max(a.windowSeconds, a.maxWindowSeconds);
    const widened = wide > a.windowSeconds ? `, or ≥ ${rps(minimumRps(a, weight, wide))} rps over the step's first ${formatDuration(wide * 1000)} (widened window)` : "";
    return [`  at ${weight} % the gate needs ${a.minRequests} requests on the new slot: ≥ ${rps(one)} rps to the service in one ${a.windowSeconds}s window${widened}`];
}

function rps(n: number): string {
    return n >= 10 ? n.toFixed(0) : n.toFixed(1);
}

/** The `release status` report: what runs where, the release's phase, and what an operator can do. */
export function describeStatus(
    context: ReleaseContext,
    state: ReleaseState,
    outputs: Readonly<Record<string, unknown>>,
    now: Date,
    heartbeatSeconds: number,
): string[] {
    const lines = [`stack ${context.stack} (${context.config.cloud})`];
    const weights = trafficWeights(state);
    for (const slot of SLOTS) {
        const floor = state[slot].minReplicas;
        const marks = [slot === state.active ? "ACTIVE" : "", state[slot].scaledDown ? "scaled down" : "", floor !== undefined ? `floor ${floor} replicas` : ""]
            .filter(Boolean)
            .join(", ");
        lines.push(
            `  ${slot.padEnd(5)} ${String(weights[slot]).padStart(3)} %  ${slotImage(state, slot) ?? "(build context)"}${marks ? `  [${marks}]` : ""}`,
        );
    }

    const deployed = deployedWeights(outputs);
    const weightsMatch = deployed !== undefined && deployed.blue === weights.blue && deployed.green === weights.green;
    if (deployed && !weightsMatch) {
        lines.push(
            `  deployed weights (stack output of the last update): blue ${deployed.blue} % / green ${deployed.green} % — ` +
                `they differ from the config: the last \`pulumi up\` did not finish (or was a targeted update, which may leave outputs behind)`,
        );
    }

    const progress = state.progress;
    if (!progress) {
        lines.push("  no release recorded");
        return lines;
    }
    lines.push(`release ${progress.id}: ${progress.image ?? "the build context"} on ${progress.to} (from ${progress.from}: ${progress.fromImage ?? "the build context"})`);
    lines.push(`  phase ${describePhase(progress)}${progress.paused ? " · PAUSED" : ""}${progress.promoteRequested ? " · promotion requested" : ""}`);
    if (progress.wave) {
        const { id, stacks, index } = progress.wave;
        lines.push(`  wave ${id}: region ${index + 1}/${stacks.length} of ${stacks.join(" → ")} (\`status --stacks ${stacks.join(",")}\` shows them all)`);
    }

    if (progress.phase === "shifting") {
        const steps = rolloutSteps(context.rollout);
        const bake = steps.find((s) => s.weight === progress.steps[progress.stepIndex])?.bakeSeconds ?? context.rollout.bakeMinutes * 60;
        const left = Date.parse(progress.stepStartedAt) + bake * 1000 - now.getTime();
        lines.push(`  bake ${left > 0 ? `${formatDuration(left)} left` : `done ${formatDuration(-left)} ago`} (step started ${progress.stepStartedAt})`);
    }
    if (progress.phase === "promoted" && progress.windowEndsAt) {
        const left = Date.parse(progress.windowEndsAt) - now.getTime();
        lines.push(`  rollback window ${left > 0 ? `${formatDuration(left)} left` : "over"} (${progress.from} still running)`);
    }
    if (progress.lastAnalysis) {
        lines.push(`  last analysis ${progress.lastAnalysis.at}: ${progress.lastAnalysis.decision}`);
        for (const reason of progress.lastAnalysis.reasons.slice(0, 4)) {
            lines.push(`    - ${reason}`);
        }
    }
    if (progress.reason) {
        lines.push(`  reason: ${progress.reason}`);
    }
    const floors = SLOTS.filter((slot) => state[slot].minReplicas !== undefined);
    if (!holdsStack(progress) && floors.length > 0) {
        lines.push(
            `  replica floors left by the release: ${floors.map((slot) => `${slot} ${state[slot].minReplicas}`).join(", ")} (the next release replaces them; ` +
                `to hand a slot back to its autoscaler now: pulumi config rm --path 'apfa:release.<slot>.minReplicas', then pulumi up)`,
        );
    }

    if (holdsStack(progress)) {
        const driver = progress.driver;
        const age = driver ? (now.getTime() - Date.parse(driver.heartbeatAt)) / 1000 : Infinity;
        const alive = driver !== undefined && age < Math.max(heartbeatSeconds, context.rollout.analysis.intervalSeconds) * 3;
        lines.push(
            driver
                ? `  driver: pid ${driver.pid} on ${driver.host}, heartbeat ${formatDuration(age * 1000)} ago — ${alive ? "running" : "NOT RUNNING"}`
                : "  driver: none recorded — NOT RUNNING",
        );
        lines.push(...advice(context, progress, alive, deployed !== undefined && !weightsMatch));
    }
    return lines;
}

function advice(context: ReleaseContext, progress: ReleaseProgress, alive: boolean, behind: boolean): string[] {
    const cmd = (verb: string) => `npm run release -- ${verb} --stack ${context.stack}`;
    if (progress.phase === "rollingBack") {
        return [`  the rollback did not finish: run \`${cmd("rollback")}\` (one targeted update of the traffic resource)`];
    }
    const lines: string[] = [];
    if (!alive) {
        const where =
            progress.phase === "deploying"
                ? "the new slot was being deployed or checked"
                : progress.phase === "promoted"
                  ? "the rollback window was running"
                  : `step ${progress.stepIndex + 1} was recorded${behind ? " but its `pulumi up` did not finish" : ""}`;
        lines.push(`  interrupted: ${where}.`);
        lines.push(`    \`${cmd("resume")}\` re-applies the recorded step (a no-op if it was applied) and carries on;`);
        lines.push(`    \`${cmd("rollback")}\` routes all traffic back to ${progress.from} in one targeted update.`);
    } else {
        lines.push(`  operator: \`${cmd("pause")}\` · \`${cmd("promote")}\` · \`${cmd("rollback")}\``);
    }
    if (progress.paused) {
        lines.push(`  paused: \`${cmd("resume")}\` continues.`);
    }
    return lines;
}

/** The `weights` stack output, when it has the expected shape. */
function deployedWeights(outputs: Readonly<Record<string, unknown>>): Record<Slot, number> | undefined {
    const w = outputs.weights as Record<string, unknown> | undefined;
    if (w && typeof w.blue === "number" && typeof w.green === "number") {
        return { blue: w.blue, green: w.green };
    }
    return undefined;
}

export function describeSlots(state: ReleaseState): string {
    const weights = trafficWeights(state);
    return SLOTS.map((slot) => `${slot}${slot === state.active ? " (active)" : ""} ${slotImage(state, slot) ?? "build context"} ${weights[slot]} %`).join(", ");
}

function pct(ratio: number): string {
    return `${(ratio * 100).toFixed(2)} %`;
}

