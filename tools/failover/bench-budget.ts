/**
 * `npm run bench:failover-budget [-- --interval S --failures N --timeout S]`
 *
 * Prints the region-failover time budget for AWS, Azure and GCP (tools/failover/budget.ts): the
 * traffic chain (global entry health checks, DNS TTL) and the database chain (the controller's
 * detection, the managed promotion), each term with its source, next to the < 5 min goal and the
 * ≤ 2 min aim. The controller's timing defaults to its own defaults (config.ts). Figures, not
 * assertions; assumed figures say so. The local rehearsal (`npm run bench:failover`) measures the
 * same chains with real processes.
 */
import { failoverBudgets, formatFailoverBudget, verdict, type ControllerTiming } from "./budget";

function parseArgs(argv: string[]): ControllerTiming {
    const timing = { intervalSeconds: 10, failureThreshold: 3, probeTimeoutSeconds: 5 };
    const flags: Record<string, keyof typeof timing> = { "--interval": "intervalSeconds", "--failures": "failureThreshold", "--timeout": "probeTimeoutSeconds" };
    for (let i = 0; i < argv.length; i++) {
        const key = flags[argv[i]];
        const value = Number(argv[i + 1]);
        if (!key || !(value > 0)) {
            throw new Error(`bad argument ${argv[i]} ${argv[i + 1] ?? ""}\nusage: npm run bench:failover-budget -- [--interval S] [--failures N] [--timeout S]`);
        }
        timing[key] = value;
        i++;
    }
    return timing;
}

function main() {
    const timing = parseArgs(process.argv.slice(2));
    console.log(
        `Region failover budget (controller: ${timing.failureThreshold} failed probes ${timing.intervalSeconds} s apart, ${timing.probeTimeoutSeconds} s probe timeout)\n`,
    );
    const budgets = failoverBudgets(timing);
    for (const b of budgets) {
        console.log(formatFailoverBudget(b).join("\n"));
        console.log("");
    }
    console.log("summary   traffic   database   RTO ≈ max");
    for (const b of budgets) {
        console.log(
            `  ${b.cloud.padEnd(7)} ${`${b.trafficSeconds.toFixed(0)} s`.padStart(7)}   ${`${b.databaseSeconds.toFixed(0)} s`.padStart(8)}   ${`${b.rtoSeconds.toFixed(0)} s`.padStart(7)}  ${verdict(b.rtoSeconds)}`,
        );
    }
}

main();
