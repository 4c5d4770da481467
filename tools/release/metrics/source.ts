/**
 * Where the release gate gets its numbers. One interface, two implementations: the stack's
 * Prometheus (every target) and CloudWatch target-group metrics (aws, no Prometheus needed).
 */
import type { Slot } from "../../../src/config";
import type { SlotSample } from "../analysis";

/** Replicas of one slot as the metric source sees them. */
export interface SlotHealth {
    /** Replicas answering (Prometheus `up == 1`; CloudWatch HealthyHostCount). */
    readonly up: number;
    /** Replicas known but failing (Prometheus `up == 0`; CloudWatch UnHealthyHostCount). */
    readonly down: number;
}

export interface MetricSource {
    /** For the terminal and the event log, e.g. "prometheus http://127.0.0.1:9090". */
    readonly description: string;
    /** Requests, 5xx answers and p95 latency of both slots over the `windowSeconds` before `at`. */
    sample(windowSeconds: number, at: Date): Promise<Record<Slot, SlotSample>>;
    /**
     * The replicas of one slot at `at`: the deploy's health wait, and the capacity step before
     * each shift (the serving slot's count it plans the floors from, the receiving slot's count it
     * waits for).
     */
    health(slot: Slot, at: Date): Promise<SlotHealth>;
}

/** A slot is ready for traffic when at least `expected` replicas are up and none is failing. */
export function isHealthy(health: SlotHealth, expected: number): boolean {
    return health.up >= expected && health.down === 0;
}
