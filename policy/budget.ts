/**
 * The budget rule's cost estimate: tools/cost/ (the estimator behind `npm run cost`) over the
 * resources the engine hands `validateStack`, as its neutral resource list. The stack's cloud,
 * region and usage assumptions come in the rule's policy config (policy/config.ts writes them).
 */
import type { CostAssumptions } from "../src/config/budget";
import { checkBudget, estimate, type Cloud, type NeutralResource } from "../tools/cost/estimate";
import { isUnknown } from "./rule";

/** The estimator reads plans, where an unknown is "[unknown]"; the engine sends its sentinel instead. */
export function asPlanValue(value: unknown): unknown {
    if (isUnknown(value)) {
        return "[unknown]";
    }
    if (Array.isArray(value)) {
        return value.map(asPlanValue);
    }
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asPlanValue(v)]));
    }
    return value;
}

export interface BudgetContext {
    readonly cloud?: string;
    readonly region?: string;
    readonly assumptions?: Partial<CostAssumptions>;
    /** APFA's replicas at rest and at full scale, from config (the estimator's hint where the graph cannot tell). */
    readonly appReplicas?: { readonly atRest: number; readonly fullScale: number };
}

const CLOUDS: readonly Cloud[] = ["docker", "aws", "azure", "gcp"];

export type BudgetVerdict = { readonly checked: false; readonly reason: string } | { readonly checked: true; readonly over: boolean; readonly message: string; readonly fullScaleUsd: number };

/** The stack's full-scale monthly estimate against `budgetUsd`. */
export function judgeBudget(resources: readonly NeutralResource[], budgetUsd: number, context: BudgetContext): BudgetVerdict {
    const cloud = CLOUDS.find((c) => c === context.cloud);
    if (!cloud || !context.region) {
        return { checked: false, reason: "the policy config names no cloud and region for the estimate; write it with `npm run policy -- --stack <stack> --pack-config <file>`" };
    }
    const report = estimate(resources, {
        cloud,
        region: context.region,
        assumptions: context.assumptions,
        ...(context.appReplicas ? { hints: { appReplicas: context.appReplicas } } : {}),
    });
    const result = checkBudget(report, budgetUsd);
    return { checked: true, over: result.over, message: result.message, fullScaleUsd: result.fullScaleUsd };
}
