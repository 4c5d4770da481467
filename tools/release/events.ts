/**
 * The record of each release: one JSON object per line in `.releases/<stack>/<release id>.jsonl`
 * (git-ignored), appended as things happen, so the history of a release survives the process.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Every kind of event the release tool writes. A new kind goes here first (the compiler then
 * requires it in tests/release-events.test.ts, which writes and reads back every kind).
 */
export const EVENT_TYPES = [
    /** `start` accepted: image, slots, steps, metric source (and the wave, in a wave). */
    "start",
    /** One write of `apfa:release`: what it was for, the weights and phase it records. */
    "config",
    /** One finished `pulumi up`: target, resource changes, seconds. */
    "up",
    /** A `pulumi up` that failed: target, error. */
    "up-failed",
    /** The new slot's replicas are up after its deploy. */
    "healthy",
    /** The replica floors planned before a shift, and when they are up. */
    "capacity",
    "capacity-ready",
    /** One verdict of the gate. */
    "analysis",
    /** An operator's `pause`; a step left undecided past its hold allowance (onInconclusive: pause). */
    "pause",
    "paused",
    /** `resume` took the release over (or cleared a pause). */
    "resumed",
    /** An operator's `promote`, and the promotion itself. */
    "promote-requested",
    "promoted",
    /** The rollback window ended, the old slot is scaled down. */
    "completed",
    /** The old slot's scale-down update failed after the rollback window. */
    "scale-down-failed",
    /** A rollback written and started, failed, or finished. */
    "rollback",
    "rollback-failed",
    "rolled-back",
    /** `apfa:release` was changed by another writer between this process's reads: it stopped. */
    "foreign-write",
    /** A wave across region stacks: a region started, finished, or stopped the wave. */
    "wave",
] as const;
export type ReleaseEventType = (typeof EVENT_TYPES)[number];

export interface ReleaseEvent {
    /** ISO time. */
    readonly at: string;
    readonly stack: string;
    readonly release: string;
    readonly type: ReleaseEventType;
    readonly [field: string]: unknown;
}

export interface EventLog {
    append(event: ReleaseEvent): void;
}

/** Appends to `<root>/.releases/<stack>/<release>.jsonl`, creating the directory. */
export class JsonLinesEventLog implements EventLog {
    constructor(private readonly root: string) {}

    /** Where the events of one release go. */
    fileFor(stack: string, release: string): string {
        return path.join(this.root, ".releases", safe(stack), `${safe(release)}.jsonl`);
    }

    append(event: ReleaseEvent): void {
        const file = this.fileFor(event.stack, event.release);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.appendFileSync(file, `${JSON.stringify(event)}\n`);
    }
}

/**
 * Reads an event file back, checking every line (for tooling and post-mortems).
 * @throws Error naming the first line that is not an event of a known kind
 */
export function readEvents(file: string): ReleaseEvent[] {
    const text = fs.readFileSync(file, "utf8");
    return text
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line, i) => {
            let value: unknown;
            try {
                value = JSON.parse(line);
            } catch {
                throw new Error(`${file}:${i + 1}: not JSON`);
            }
            const event = value as Partial<ReleaseEvent> | null;
            if (
                !event ||
                typeof event !== "object" ||
                typeof event.at !== "string" ||
                Number.isNaN(Date.parse(event.at)) ||
                typeof event.stack !== "string" ||
                typeof event.release !== "string" ||
                !(EVENT_TYPES as readonly string[]).includes(String(event.type))
            ) {
                throw new Error(`${file}:${i + 1}: not a release event (at, stack, release and a known type): ${line.slice(0, 200)}`);
            }
            return event as ReleaseEvent;
        });
}

/** Keeps events in memory (tests, dry runs). */
export class MemoryEventLog implements EventLog {
    readonly events: ReleaseEvent[] = [];
    append(event: ReleaseEvent): void {
        this.events.push(event);
    }
}

function safe(name: string): string {
    return name.replace(/[^A-Za-z0-9._-]/g, "_");
}
