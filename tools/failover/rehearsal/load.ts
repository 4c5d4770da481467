/**
 * A steady write load through the global entry: POST /api/items at a fixed rate (open loop: a slow
 * answer does not slow the sender, as real users do not wait for each other), each request
 * recorded with its send and answer times, and, when acknowledged (201), the stored item's id.
 */
export interface WriteRecord {
    readonly seq: number;
    /** The name written; what the verification compares (an id alone could be reissued by the promoted database). */
    readonly name: string;
    readonly sentAt: number;
    doneAt?: number;
    /** HTTP status, or 0 when no answer came (connection error or timeout). */
    status?: number;
    id?: string;
    error?: string;
}

export interface LoadOptions {
    readonly url: string;
    readonly ratePerSecond: number;
    readonly timeoutMs: number;
    /** Prefix of every name, unique per run. */
    readonly runId: string;
    /** Requests in flight at most; beyond it a tick is skipped (counted). @default 100 */
    readonly maxInFlight?: number;
}

/** The id of the stored item in a 201 answer: `{id}` or `{item: {id}}`. */
export function itemId(body: unknown): string | undefined {
    const b = body as { id?: unknown; item?: { id?: unknown } } | null;
    const id = b?.id ?? b?.item?.id;
    return typeof id === "string" || typeof id === "number" ? String(id) : undefined;
}

export class WriteLoad {
    readonly records: WriteRecord[] = [];
    skipped = 0;
    private timer?: NodeJS.Timeout;
    private inFlight = new Set<Promise<void>>();
    private seq = 0;

    constructor(private readonly options: LoadOptions) {}

    start(): void {
        const period = 1000 / this.options.ratePerSecond;
        const started = Date.now();
        // Fire by schedule (catching up after a late timer) so the rate holds under load.
        this.timer = setInterval(() => {
            const due = Math.floor((Date.now() - started) / period) + 1;
            while (this.seq < due) {
                if (this.inFlight.size >= (this.options.maxInFlight ?? 100)) {
                    this.skipped += 1;
                    this.seq += 1;
                    continue;
                }
                this.send(this.seq++);
            }
        }, Math.max(5, Math.floor(period / 2)));
    }

    private send(seq: number): void {
        const record: WriteRecord = { seq, name: `${this.options.runId}-${seq}`, sentAt: Date.now() };
        this.records.push(record);
        const p = (async () => {
            try {
                const res = await fetch(`${this.options.url}/api/items`, {
                    method: "POST",
                    headers: { "Content-Type": "application/json" },
                    body: JSON.stringify({ name: record.name }),
                    signal: AbortSignal.timeout(this.options.timeoutMs),
                });
                const text = await res.text();
                record.status = res.status;
                if (res.status === 201) {
                    try {
                        record.id = itemId(JSON.parse(text));
                    } catch {
                        record.error = `201 without JSON: ${text.slice(0, 100)}`;
                    }
                } else {
                    record.error = text.slice(0, 200);
                }
            } catch (err) {
                record.status = 0;
                record.error = (err as Error).name === "TimeoutError" ? "timeout" : ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
            } finally {
                record.doneAt = Date.now();
            }
        })();
        this.inFlight.add(p);
        void p.finally(() => this.inFlight.delete(p));
    }

    /** Stops sending and waits for the requests in flight. */
    async stop(): Promise<void> {
        clearInterval(this.timer);
        await Promise.all([...this.inFlight]);
    }

    /** Acknowledged writes: answered 201 with an id. */
    acknowledged(): WriteRecord[] {
        return this.records.filter((r) => r.status === 201 && r.id !== undefined);
    }
}
