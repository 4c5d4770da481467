/**
 * The record of each release: one JSON object per line in `.releases/<stack>/<release id>.jsonl`
 * (git-ignored), appended as things happen, so the history of a release survives the process.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface ReleaseEvent {
    /** ISO time. */
    readonly at: string;
    readonly stack: string;
    readonly release: string;
    /** What happened: "start", "config", "up", "analysis", "step", "rollback", "promote", … */
    readonly type: string;
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
