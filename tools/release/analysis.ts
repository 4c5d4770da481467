/**
 * The release gate, as a pure function: metric samples of the new slot (and of the old slot, when
 * it still takes traffic) in, `continue | hold | rollback` with its reasons out.
 *
 * - Too few requests on the new slot → hold (nothing can be said yet).
 * - Error ratio: the new slot is rolled back only when the one-sided 95 % Wilson lower bound of its
 *   5xx ratio is above the limit, so one unlucky error in a small sample does not abort a release,
 *   while a clearly broken release (20 % errors in 50 requests: lower bound 12 %) is caught on the
 *   first analysis. A point estimate above the limit that is not yet significant → hold.
 *   Two limits: an absolute one (`maxErrorRatio`) and one relative to the old slot
 *   (`old × errorRatioFactor + errorRatioMargin`, with the old slot's ratio at its 95 % upper
 *   bound), the latter only when the old slot had enough requests in the same window to be a fair
 *   baseline.
 * - p95 latency likewise: absolute (`maxP95Seconds`) and relative (`old × p95Factor + p95MarginSeconds`).
 */
import type { RolloutAnalysisSettings } from "../../src/config";

/** What one slot did during the analysis window. */
export interface SlotSample {
    /** Requests answered (health checks excluded). May be fractional: Prometheus extrapolates `increase()`. */
    readonly requests: number;
    /** Of those, answered with a 5xx status. */
    readonly errors: number;
    /** 95th percentile of the request duration in seconds; undefined when there is no data. */
    readonly p95Seconds?: number;
}

export interface AnalysisInput {
    /** The slot being released. */
    readonly candidate: SlotSample;
    /** The slot it replaces, when it takes traffic in the same window (absent after promotion). */
    readonly baseline?: SlotSample;
}

export type Decision = "continue" | "hold" | "rollback";

export interface Verdict {
    readonly decision: Decision;
    /** One line per check, the deciding ones first. */
    readonly reasons: readonly string[];
}

/** The thresholds the analysis needs (a subset of `apfa:rollout.analysis`). */
export type AnalysisThresholds = Pick<
    RolloutAnalysisSettings,
    "minRequests" | "maxErrorRatio" | "errorRatioFactor" | "errorRatioMargin" | "maxP95Seconds" | "p95Factor" | "p95MarginSeconds"
>;

/** z for a one-sided 95 % bound. */
const Z_95_ONE_SIDED = 1.6448536269514722;

/**
 * The Wilson score interval for `errors` out of `requests`, each bound one-sided at 95 %.
 * [0, 1] when there are no requests.
 */
export function errorRatioBounds(errors: number, requests: number, z = Z_95_ONE_SIDED): { lower: number; upper: number } {
    if (!(requests > 0)) {
        return { lower: 0, upper: 1 };
    }
    const p = Math.min(1, Math.max(0, errors / requests));
    const z2 = z * z;
    const centre = p + z2 / (2 * requests);
    const spread = z * Math.sqrt((p * (1 - p)) / requests + z2 / (4 * requests * requests));
    const scale = 1 + z2 / requests;
    return { lower: Math.max(0, (centre - spread) / scale), upper: Math.min(1, (centre + spread) / scale) };
}

/** Lower bound of {@link errorRatioBounds}. */
export function errorRatioLowerBound(errors: number, requests: number): number {
    return errorRatioBounds(errors, requests).lower;
}

const pct = (ratio: number) => `${(ratio * 100).toFixed(ratio < 0.001 && ratio > 0 ? 3 : 2)} %`;
const ms = (seconds: number) => `${Math.round(seconds * 1000)} ms`;
const count = (n: number) => String(Math.round(n));

/** Judges the new slot. Pure: same samples and thresholds, same verdict. */
export function analyse(input: AnalysisInput, t: AnalysisThresholds): Verdict {
    const { candidate, baseline } = input;
    const requests = finiteOrZero(candidate.requests);
    const errors = Math.min(requests, finiteOrZero(candidate.errors));

    if (requests < t.minRequests) {
        return {
            decision: "hold",
            reasons: [`${count(requests)} requests on the new slot in the window; at least ${t.minRequests} are needed to judge it`],
        };
    }

    const failures: string[] = [];
    const pending: string[] = [];
    const passes: string[] = [];

    const ratio = errors / requests;
    const lower = errorRatioLowerBound(errors, requests);
    const judgeRatio = (limit: number, what: string) => {
        const observed = `error ratio ${pct(ratio)} (${count(errors)}/${count(requests)}, lower bound ${pct(lower)})`;
        if (lower > limit) {
            failures.push(`${observed} above ${what} ${pct(limit)}`);
        } else if (ratio > limit) {
            pending.push(`${observed} above ${what} ${pct(limit)}, not yet significant`);
        } else {
            passes.push(`${observed} within ${what} ${pct(limit)}`);
        }
    };
    judgeRatio(t.maxErrorRatio, "the limit");

    const baselineUsable = baseline !== undefined && finiteOrZero(baseline.requests) >= t.minRequests;
    if (baseline !== undefined && !baselineUsable) {
        passes.push(`old slot had ${count(finiteOrZero(baseline.requests))} requests: no comparison with it`);
    }
    if (baselineUsable) {
        // The old slot's ratio at its upper bound: "worse than the old slot" must be significant
        // on both sides (one error in a small sample against a clean old slot is not).
        const baseErrors = Math.min(baseline.requests, finiteOrZero(baseline.errors));
        const baseRatio = baseErrors / baseline.requests;
        const baseUpper = errorRatioBounds(baseErrors, baseline.requests).upper;
        const limit = Math.min(1, baseUpper * t.errorRatioFactor + t.errorRatioMargin);
        judgeRatio(limit, `the old slot's ${pct(baseRatio)} (≤ ${pct(baseUpper)}) ×${t.errorRatioFactor} + ${pct(t.errorRatioMargin)} =`);
    }

    const p95 = candidate.p95Seconds;
    if (p95 === undefined || !Number.isFinite(p95)) {
        passes.push("no latency data for the new slot: latency not judged");
    } else {
        if (p95 > t.maxP95Seconds) {
            failures.push(`p95 latency ${ms(p95)} above the limit ${ms(t.maxP95Seconds)}`);
        } else {
            passes.push(`p95 latency ${ms(p95)} within the limit ${ms(t.maxP95Seconds)}`);
        }
        const baseP95 = baselineUsable ? baseline.p95Seconds : undefined;
        if (baseP95 !== undefined && Number.isFinite(baseP95)) {
            const limit = baseP95 * t.p95Factor + t.p95MarginSeconds;
            if (p95 > limit) {
                failures.push(`p95 latency ${ms(p95)} above the old slot's ${ms(baseP95)} ×${t.p95Factor} + ${ms(t.p95MarginSeconds)} = ${ms(limit)}`);
            } else {
                passes.push(`p95 latency ${ms(p95)} within the old slot's ${ms(baseP95)} ×${t.p95Factor} + ${ms(t.p95MarginSeconds)} = ${ms(limit)}`);
            }
        }
    }

    if (failures.length > 0) {
        return { decision: "rollback", reasons: [...failures, ...pending, ...passes] };
    }
    if (pending.length > 0) {
        return { decision: "hold", reasons: [...pending, ...passes] };
    }
    return { decision: "continue", reasons: passes };
}

function finiteOrZero(n: number): number {
    return Number.isFinite(n) && n > 0 ? n : 0;
}

/**
 * The window the analysis widens to when the last `windowSeconds` held too few requests: whole
 * windows since the step began (`stepAgeMs`), at most `maxWindowSeconds`. At most `windowSeconds`
 * (no widening) while the step is younger than two windows or widening is off.
 */
export function widenedWindowSeconds(a: Pick<RolloutAnalysisSettings, "windowSeconds" | "maxWindowSeconds">, stepAgeMs: number): number {
    const whole = Math.floor(Math.max(0, stepAgeMs) / 1000 / a.windowSeconds) * a.windowSeconds;
    return Math.max(a.windowSeconds, Math.min(whole, a.maxWindowSeconds));
}

/** What a step of `weight` % can say at a steady `rps` requests per second to the service (pure; the plan and the README print it). */
export interface StepTrafficOutlook {
    /** Requests the new slot answers in one analysis window. */
    readonly requestsPerWindow: number;
    /** Windows of the step's traffic it takes to reach minRequests (Infinity without traffic). */
    readonly windowsNeeded: number;
    /** Seconds into the step until the gate can judge it (undefined: never, within maxWindowSeconds). */
    readonly judgedAfterSeconds?: number;
}

export function stepTrafficOutlook(
    a: Pick<RolloutAnalysisSettings, "windowSeconds" | "maxWindowSeconds" | "minRequests">,
    rps: number,
    weight: number,
): StepTrafficOutlook {
    const requestsPerWindow = (rps * weight * a.windowSeconds) / 100;
    const windowsNeeded = requestsPerWindow > 0 ? Math.ceil(a.minRequests / requestsPerWindow) : Infinity;
    const seconds = windowsNeeded * a.windowSeconds;
    const reachable = windowsNeeded === 1 || seconds <= Math.max(a.windowSeconds, a.maxWindowSeconds);
    return { requestsPerWindow, windowsNeeded, judgedAfterSeconds: reachable ? seconds : undefined };
}

/** The lowest steady traffic (requests per second to the service) at which a `weight` % step reaches minRequests within `seconds`. */
export function minimumRps(a: Pick<RolloutAnalysisSettings, "minRequests">, weight: number, seconds: number): number {
    return a.minRequests / ((weight / 100) * seconds);
}
