/**
 * `npm run bench:failover [-- options]`: the local failover rehearsal (rehearsal.ts), printed.
 *
 *   --planned              a planned switchover drill instead of killing region A: pause the
 *                          controller, `main.ts switchover --yes`, resume (RPO 0 expected)
 *   --interval-ms N        the controller's probe interval (default 1000)
 *   --failures N           failed probes before promoting (default 3)
 *   --recoveries N         consecutive successes that reset the count (default 2)
 *   --entry-inter-ms N     HAProxy health check interval (default 500)
 *   --entry-fall N / --entry-rise N   HAProxy thresholds (default 2 / 2)
 *   --replicas N           app replicas per region (default 2)
 *   --rate N               writes per second (default 40)
 *   --steady-ms N          load before the kill (default 3000)
 *   --after-ms N           load after recovery (default 2000)
 *   --synchronous-commit on|off|local   on the primary (default off; replication is asynchronous either way)
 *   --keep                 keep the temporary directory
 *   --json                 print the result as JSON instead of the report
 *
 * Figures, not assertions: the rehearsal test (tests/failover-rehearsal.test.ts) asserts the invariants.
 */
import { DEFAULT_REHEARSAL, MissingPrerequisite, rehearse, type RehearsalOptions, type RehearsalResult } from "./rehearsal";

const INTEGER_FLAGS: Record<string, keyof RehearsalOptions> = {
    "--interval-ms": "probeIntervalMs",
    "--failures": "failureThreshold",
    "--recoveries": "recoveryThreshold",
    "--entry-inter-ms": "entryInterMs",
    "--entry-fall": "entryFall",
    "--entry-rise": "entryRise",
    "--replicas": "replicasPerRegion",
    "--rate": "writeRate",
    "--steady-ms": "steadyMs",
    "--after-ms": "afterRecoveryMs",
};

export function parseRehearsalArgs(argv: readonly string[]): { options: Partial<RehearsalOptions>; json: boolean } {
    const options: Record<string, unknown> = {};
    let json = false;
    const problems: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg in INTEGER_FLAGS) {
            const value = argv[++i];
            if (!/^\d+$/.test(value ?? "") || Number(value) < 1) {
                problems.push(`${arg} ${value ?? ""}: expected a positive integer`);
            } else {
                options[INTEGER_FLAGS[arg]] = Number(value);
            }
        } else if (arg === "--synchronous-commit") {
            const value = argv[++i];
            if (value !== "on" && value !== "off" && value !== "local") {
                problems.push(`--synchronous-commit ${value ?? ""}: expected on, off or local`);
            } else {
                options.synchronousCommit = value;
            }
        } else if (arg === "--planned") {
            options.mode = "planned";
        } else if (arg === "--keep") {
            options.keep = true;
        } else if (arg === "--json") {
            json = true;
        } else {
            problems.push(`unknown argument ${arg}`);
        }
    }
    if (problems.length > 0) {
        throw new Error(`${problems.join("\n")}\nusage: npm run bench:failover -- ${Object.keys(INTEGER_FLAGS).map((f) => `[${f} N]`).join(" ")} [--synchronous-commit on|off|local] [--planned] [--keep] [--json]`);
    }
    return { options: options as Partial<RehearsalOptions>, json };
}

const ms = (v: number | undefined) => (v === undefined ? "n/a" : `${(v / 1000).toFixed(2)} s`);

export function formatReport(r: RehearsalResult): string[] {
    const o = { ...DEFAULT_REHEARSAL, ...r.options } as RehearsalOptions;
    const planned = r.mode === "planned";
    const event = planned ? "the switchover" : "the kill";
    const lines = [
        planned
            ? "Local switchover drill (planned: region A fenced read-only, region B promoted once caught up, under write load)"
            : "Local failover rehearsal (region A killed with SIGKILL under write load)",
        `  controller: probe every ${o.probeIntervalMs} ms, promote after ${o.failureThreshold} failures, reset after ${o.recoveryThreshold} successes`,
        `  entry (HAProxy): health check /health/db every ${o.entryInterMs} ms, fall ${o.entryFall}, rise ${o.entryRise}; ${o.replicasPerRegion} replicas per region`,
        `  load: ${o.writeRate} writes/s; primary synchronous_commit=${o.synchronousCommit}, asynchronous streaming replication`,
        "",
        `  RTO (last acknowledged write before the outage → first after)`.padEnd(72) + ms(r.rtoMs),
        ...(planned
            ? [`  switchover command (fence, catch up, pg_promote)`.padEnd(72) + ms(r.switchoverMs)]
            : [
                  `  detection (kill → controller's promote decision)`.padEnd(72) + ms(r.detectionMs),
                  `  promotion (pg_promote on region B, as the controller timed it)`.padEnd(72) + ms(r.promotionMs),
              ]),
        `  entry switch (${event} → HAProxy marks a region B server up)`.padEnd(72) + ms(r.entrySwitchMs),
        `  RPO: ${r.missing.length} of ${r.acknowledged} acknowledged writes missing on the promoted database` +
            (r.missing.length > 0 ? ` (acknowledged up to ${ms(r.lossWindowMs)} before ${event})` : ""),
        `  requests: ${r.sent} sent, ${r.acknowledged} acknowledged, ${r.failedRequests} failed (the outage), ${r.skipped} skipped`,
        `  writes acknowledged after the failover and present on B: ${r.writesAfterFailover}`,
        `  promotions: ${r.promotionsLogged} in the controller's log, ${r.promotionsMetric} in apfa_failover_promotions_total; region B ${r.standbyPromoted ? "left recovery" : "IS STILL A STANDBY"}`,
        "",
        `  controller decisions (from two intervals before ${event}; t relative to it):`,
    ];
    let lastReason = "";
    let repeats = 0;
    for (const d of r.decisions) {
        const t = `${((d.at - r.killAt) / 1000).toFixed(2).padStart(7)} s`;
        const rec = d.record;
        if (rec.event === "decision") {
            // Collapse runs of the same reason (a done controller decides "done" every interval).
            if (rec.reason === lastReason) {
                repeats += 1;
                continue;
            }
            if (repeats > 0) {
                lines.push(`             … ${repeats} more "${lastReason}"`);
            }
            repeats = 0;
            lastReason = String(rec.reason);
            lines.push(`    ${t}  ${String(rec.action).padEnd(7)} ${String(rec.reason).padEnd(22)} ${String(rec.message)}`);
        } else if (rec.event === "promotion") {
            lines.push(`    ${t}  promotion ${String(rec.result)} in ${String(rec.durationMs)} ms: ${String(rec.detail)}`);
        }
    }
    if (repeats > 0) {
        lines.push(`             … ${repeats} more "${lastReason}"`);
    }
    lines.push("", "  entry (HAProxy) state changes:");
    for (const e of r.entryEvents) {
        lines.push(`    ${((e.at - r.killAt) / 1000).toFixed(2).padStart(7)} s  ${e.text}`);
    }
    return lines;
}

async function main(): Promise<void> {
    const { options, json } = parseRehearsalArgs(process.argv.slice(2));
    const result = await rehearse({ ...options, progress: (line) => process.stderr.write(`… ${line}\n`) });
    // The JSON leaves out the per-write list (hundreds of records); the missing ones are in it.
    console.log(json ? JSON.stringify({ ...result, acked: undefined }, null, 2) : formatReport(result).join("\n"));
}

if (require.main === module) {
    main().catch((err: unknown) => {
        console.error(err instanceof MissingPrerequisite ? `cannot rehearse: ${err.message}` : (err as Error).message);
        process.exitCode = 1;
    });
}
