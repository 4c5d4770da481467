/**
 * The controller's Prometheus metrics (text format 0.0.4), served on its own port.
 *
 *   apfa_failover_probe_failures            gauge    failed probes of the primary counted toward a promotion
 *   apfa_failover_probes_total{target,result} counter  probes of the primary / standby, success | failure
 *   apfa_failover_promotions_total{result}  counter  promotion attempts, succeeded | failed
 *   apfa_failover_paused                    gauge    1 while the operator has paused the controller
 *   apfa_failover_control_readable          gauge    0 when the last read of the control store failed
 *   apfa_failover_standby_healthy           gauge    1 when the standby could take over
 *   apfa_failover_phase{phase}              gauge    1 for the current phase (watching | promoting | done)
 *   apfa_failover_decisions_total{action,reason} counter  every decision (reasons are a fixed set)
 *   apfa_failover_last_decision{action,reason} gauge   1, labelled with the last decision (one series)
 *   apfa_failover_last_decision_timestamp_seconds gauge  when the loop last decided (staleness alert: the loop stalled)
 *   apfa_failover_last_promotion_duration_seconds gauge  how long the last promotion call took
 */
import * as http from "node:http";

import type { Action, ControllerState, Phase } from "./decision";

const PHASES: readonly Phase[] = ["watching", "promoting", "done"];

export class FailoverMetrics {
    private probeFailures = 0;
    private readonly probes = new Map<string, number>();
    private readonly promotions = new Map<string, number>([
        ["succeeded", 0],
        ["failed", 0],
    ]);
    private readonly decisions = new Map<string, number>();
    private paused = 0;
    private controlReadable = 1;
    private standbyHealthy = 0;
    private phase: Phase = "watching";
    private lastDecisionSeconds = 0;
    private lastDecision: [string, string] = ["hold", "primary-healthy"];
    private lastPromotionSeconds = Number.NaN;

    recordProbe(target: "primary" | "standby", healthy: boolean): void {
        const key = `${target}\0${healthy ? "success" : "failure"}`;
        this.probes.set(key, (this.probes.get(key) ?? 0) + 1);
    }

    recordDecision(state: ControllerState, action: Action, obs: { standbyHealthy: boolean; controlReadable: boolean }, nowMs: number): void {
        this.probeFailures = state.failures;
        this.paused = state.control?.paused ? 1 : 0;
        this.controlReadable = obs.controlReadable ? 1 : 0;
        this.standbyHealthy = obs.standbyHealthy ? 1 : 0;
        this.phase = state.phase;
        this.lastDecisionSeconds = nowMs / 1000;
        const key = `${action.kind}\0${action.reason}`;
        this.decisions.set(key, (this.decisions.get(key) ?? 0) + 1);
        this.lastDecision = [action.kind, action.reason];
    }

    recordPromotion(succeeded: boolean, seconds: number, state: ControllerState): void {
        const key = succeeded ? "succeeded" : "failed";
        this.promotions.set(key, (this.promotions.get(key) ?? 0) + 1);
        this.lastPromotionSeconds = seconds;
        this.phase = state.phase;
    }

    render(): string {
        const out: string[] = [];
        const metric = (name: string, type: string, help: string, samples: Array<[string, number]>) => {
            out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
            for (const [labels, value] of samples) {
                out.push(`${name}${labels} ${Number.isNaN(value) ? "NaN" : value}`);
            }
        };
        const pairs = (m: Map<string, number>, names: readonly string[]) =>
            [...m].sort().map(([key, v]): [string, number] => {
                const values = key.split("\0");
                return [`{${names.map((n, i) => `${n}="${values[i]}"`).join(",")}}`, v];
            });
        metric("apfa_failover_probe_failures", "gauge", "Failed probes of the primary counted toward a promotion (reset by consecutive successes).", [["", this.probeFailures]]);
        metric("apfa_failover_probes_total", "counter", "Health probes, by target region and result.", pairs(this.probes, ["target", "result"]));
        metric("apfa_failover_promotions_total", "counter", "Promotion attempts, by result.", pairs(this.promotions, ["result"]));
        metric("apfa_failover_paused", "gauge", "1 while the operator has paused the controller.", [["", this.paused]]);
        metric("apfa_failover_control_readable", "gauge", "0 when the last read of the control store failed.", [["", this.controlReadable]]);
        metric("apfa_failover_standby_healthy", "gauge", "1 when the standby region could take over.", [["", this.standbyHealthy]]);
        metric("apfa_failover_phase", "gauge", "1 for the controller's current phase.", PHASES.map((p): [string, number] => [`{phase="${p}"}`, p === this.phase ? 1 : 0]));
        metric("apfa_failover_decisions_total", "counter", "Decisions, by action and reason.", pairs(this.decisions, ["action", "reason"]));
        if (this.lastDecisionSeconds > 0) {
            metric("apfa_failover_last_decision", "gauge", "The last decision (always 1; its labels say which).", [
                [`{action="${this.lastDecision[0]}",reason="${this.lastDecision[1]}"}`, 1],
            ]);
        }
        metric("apfa_failover_last_decision_timestamp_seconds", "gauge", "When the loop last decided (unix seconds).", [["", this.lastDecisionSeconds]]);
        metric("apfa_failover_last_promotion_duration_seconds", "gauge", "Duration of the last promotion call.", [["", this.lastPromotionSeconds]]);
        return `${out.join("\n")}\n`;
    }
}

/** Serves GET /metrics (and /health, for the container's own liveness probe). Resolves once listening. */
export async function serveMetrics(metrics: FailoverMetrics, port: number, host: string): Promise<http.Server> {
    const server = http.createServer((req, res) => {
        if (req.method === "GET" && req.url === "/metrics") {
            res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
            res.end(metrics.render());
        } else if (req.method === "GET" && req.url === "/health") {
            res.writeHead(200, { "Content-Type": "application/json" });
            res.end('{"status":"ok"}');
        } else {
            res.writeHead(404, { "Content-Type": "application/json" });
            res.end('{"error":"not found"}');
        }
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve());
    });
    return server;
}
