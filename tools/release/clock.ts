/**
 * Time, behind an interface so the release state machine runs in tests on a fake clock
 * (a 45-minute rollout finishes in milliseconds) and in production on the wall clock.
 */
export interface Clock {
    now(): Date;
    /** Resolves after `ms` milliseconds (a fake clock just moves its time forward). */
    sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
    now: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

/** ISO-8601 in UTC with seconds, the format the release state records. */
export function isoSeconds(date: Date): string {
    return `${date.toISOString().slice(0, 19)}Z`;
}

/** "12m 05s", "45s", "1h 02m" — for the terminal. */
export function formatDuration(ms: number): string {
    const total = Math.max(0, Math.round(ms / 1000));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    if (h > 0) {
        return `${h}h ${String(m).padStart(2, "0")}m`;
    }
    if (m > 0) {
        return `${m}m ${String(s).padStart(2, "0")}s`;
    }
    return `${s}s`;
}
