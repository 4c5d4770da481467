/**
 * The failover controller: its pure decision logic (examples and properties), its loop on fakes,
 * its settings, the control store, and each cloud adapter against a fake of its API that records
 * the calls (right region / endpoint, right identifiers, data loss accepted only when unplanned).
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";

import { DescribeDBClustersCommand, DescribeGlobalClustersCommand, FailoverGlobalClusterCommand, SwitchoverGlobalClusterCommand } from "@aws-sdk/client-rds";
import fc from "fast-check";

import { AuroraGlobalAdapter, type AuroraCommand, type RdsLike } from "../tools/failover/adapters/aurora";
import { AzurePostgresAdapter } from "../tools/failover/adapters/azure-postgres";
import { CloudSqlAdapter } from "../tools/failover/adapters/cloudsql";
import { PostgresAdapter } from "../tools/failover/adapters/postgres";
import { AzureManagedIdentityProvider, AzureWorkloadIdentityProvider, GcpMetadataTokenProvider, StaticTokenProvider } from "../tools/failover/adapters/tokens";
import type { FetchLike, PromotionAdapter, PromotionRequest, TargetDescription } from "../tools/failover/adapters/types";
import { parseSettings, SettingsError } from "../tools/failover/config";
import { DEFAULT_FLAGS, FileControlStore, SsmControlStore, parseFlags, type ControlStore } from "../tools/failover/control-store";
import { runLoop, tick, type ControllerDeps } from "../tools/failover/controller";
import {
    decide,
    INITIAL_STATE,
    policyProblems,
    recordPromotion,
    type ControlFlags,
    type ControllerState,
    type FailoverPolicy,
    type Observation,
    type TargetRole,
} from "../tools/failover/decision";
import { failoverBudgets, formatFailoverBudget } from "../tools/failover/budget";
import { FailoverMetrics, serveMetrics } from "../tools/failover/metrics";
import { allOf, httpProbe, type ProbeResult } from "../tools/failover/probes";
import { requireTool } from "./helpers/tools";

const POLICY: FailoverPolicy = { failureThreshold: 3, recoveryThreshold: 2, minPromotionIntervalMs: 3_600_000, retryAfterFailureMs: 30_000 };
const ARMED: ControlFlags = { paused: false, rearm: "" };

/** An observation: the primary up or down, everything else ready for a failover unless overridden. */
function obs(primaryHealthy: boolean, extra: Partial<Observation> = {}): Observation {
    return { primaryHealthy, standbyHealthy: true, targetRole: "standby", control: ARMED, ...extra };
}

/** Feeds observations 10 s apart; returns every action, and the last state. The promotion succeeds unless `outcome` says otherwise. */
function run(observations: readonly Observation[], opts: { state?: ControllerState; start?: number; policy?: FailoverPolicy; outcome?: boolean } = {}) {
    let state = opts.state ?? INITIAL_STATE;
    let now = opts.start ?? 1_000_000;
    const actions: string[] = [];
    for (const o of observations) {
        now += 10_000;
        const d = decide(state, o, now, opts.policy ?? POLICY);
        actions.push(d.action.kind === "promote" ? "PROMOTE" : d.action.reason);
        state = d.action.kind === "promote" ? recordPromotion(d.state, opts.outcome ?? true) : d.state;
    }
    return { actions, state, now };
}

const F = obs(false);
const S = obs(true);

describe("failover decision (pure)", () => {
    it("promotes on the 3rd consecutive failure, not before", () => {
        assert.deepEqual(run([S, F, F, F]).actions, ["primary-healthy", "counting-failures", "counting-failures", "PROMOTE"]);
    });

    it("one success between failures does not reset the count (hysteresis): a flapping primary still fails over", () => {
        // F F S F: 3 failures since the last 2-success streak → promote on the 4th observation.
        assert.deepEqual(run([F, F, S, F]).actions, ["counting-failures", "counting-failures", "primary-healthy", "PROMOTE"]);
    });

    it("two consecutive successes reset the count", () => {
        assert.deepEqual(run([F, F, S, S, F, F]).actions, [
            "counting-failures",
            "counting-failures",
            "primary-healthy",
            "primary-healthy",
            "counting-failures",
            "counting-failures",
        ]);
    });

    it("never promotes on an observation where the primary answers, whatever the count", () => {
        const paused = obs(false, { control: { paused: true, rearm: "" } });
        // 4 failures while paused, then resume — but the primary is back on that observation.
        const r = run([paused, paused, paused, paused, S]);
        assert.equal(r.state.failures, 4);
        assert.deepEqual(r.actions.slice(-1), ["primary-healthy"]);
        assert.equal(r.state.promotions, 0);
    });

    it("holds while paused, and promotes on the next failure once resumed", () => {
        const paused = obs(false, { control: { paused: true, rearm: "" } });
        assert.deepEqual(run([paused, paused, paused, paused, F]).actions, ["counting-failures", "counting-failures", "paused", "paused", "PROMOTE"]);
    });

    it("keeps the last flags read while the store is unreadable, and refuses to act when it never could read them", () => {
        const unreadable = obs(false, { control: undefined });
        const paused = obs(false, { control: { paused: true, rearm: "" } });
        assert.deepEqual(run([paused, unreadable, unreadable, unreadable]).actions, ["counting-failures", "counting-failures", "paused", "paused"]);
        assert.deepEqual(run([unreadable, unreadable, unreadable, F]).actions, ["counting-failures", "counting-failures", "control-unknown", "PROMOTE"]);
    });

    it("does not promote into a standby that is unhealthy, unknown or not a standby", () => {
        const deadStandby = obs(false, { standbyHealthy: false });
        const unknownRole = obs(false, { targetRole: "unknown" });
        assert.deepEqual(run([F, F, deadStandby, unknownRole, F]).actions, ["counting-failures", "counting-failures", "standby-unhealthy", "standby-unhealthy", "PROMOTE"]);
    });

    it("promotes once, then stays done until re-armed; a re-armed controller waits out the minimum interval", () => {
        const first = run([F, F, F, F, F]);
        assert.deepEqual(first.actions, ["counting-failures", "counting-failures", "PROMOTE", "done", "done"]);
        assert.equal(first.state.promotions, 1);
        const rearmed = obs(false, { control: { paused: false, rearm: "failback-1" } });
        const second = run([S, rearmed, rearmed, rearmed, rearmed], { state: first.state, start: first.now });
        // Re-arming resets the count; 3 failures later the minimum interval (1 h) has not passed (40 s since).
        assert.deepEqual(second.actions, ["done", "rearmed", "counting-failures", "counting-failures", "min-interval"]);
        // One hour after the first promotion, the next failure promotes.
        const later = decide(second.state, rearmed, first.now - 20_000 + 3_600_000, POLICY);
        assert.equal(later.action.kind, "promote");
    });

    it("a failed attempt is retried after retryAfterFailureMs, not at once", () => {
        const policy = { ...POLICY, retryAfterFailureMs: 25_000 };
        const r = run([F, F, F, F, F, F], { policy, outcome: false });
        // attempts at +30 s (fails), +40 and +50 s wait (10, 20 s < 25 s), +60 s retries.
        assert.deepEqual(r.actions, ["counting-failures", "counting-failures", "PROMOTE", "retry-wait", "retry-wait", "PROMOTE"]);
        assert.equal(r.state.promotions, 0);
    });

    it("never decides to promote while a promotion's outcome is unknown", () => {
        const promoting = run([F, F]).state;
        const d1 = decide(promoting, F, 2_000_000, POLICY);
        assert.equal(d1.action.kind, "promote");
        const d2 = decide(d1.state, F, 2_010_000, POLICY);
        assert.deepEqual([d2.action.kind, d2.action.reason], ["hold", "promotion-in-progress"]);
    });

    it("treats a target that is already a primary as done (promoted elsewhere), without promoting", () => {
        const r = run([F, F, obs(false, { targetRole: "primary" }), F]);
        assert.deepEqual(r.actions, ["counting-failures", "counting-failures", "target-already-primary", "done"]);
        assert.equal(r.state.promotions, 0);
    });

    it("rejects policies that cannot work", () => {
        assert.deepEqual(policyProblems(POLICY), []);
        assert.deepEqual(policyProblems({ failureThreshold: 0, recoveryThreshold: 1.5, minPromotionIntervalMs: -1, retryAfterFailureMs: 0 }), [
            "failureThreshold=0: expected an integer ≥ 1",
            "recoveryThreshold=1.5: expected an integer ≥ 1",
            "minPromotionIntervalMs=-1: expected an integer ≥ 0",
        ]);
    });
});

describe("failover decision (properties)", () => {
    const policyArb = fc.record({
        failureThreshold: fc.integer({ min: 1, max: 5 }),
        recoveryThreshold: fc.integer({ min: 1, max: 3 }),
        minPromotionIntervalMs: fc.constantFrom(0, 30_000, 600_000),
        retryAfterFailureMs: fc.constantFrom(0, 15_000),
    });
    const controlArb = fc.option(fc.record({ paused: fc.boolean(), rearm: fc.constantFrom("", "r1", "r2") }), { nil: undefined, freq: 5 });
    const stepArb = fc.record({
        dt: fc.integer({ min: 1, max: 60_000 }),
        primaryHealthy: fc.boolean(),
        standbyHealthy: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
        targetRole: fc.oneof({ weight: 8, arbitrary: fc.constant<TargetRole>("standby") }, fc.constant<TargetRole>("primary"), fc.constant<TargetRole>("unknown")),
        control: controlArb,
        succeeds: fc.boolean(),
    });

    interface Step {
        readonly at: number;
        readonly obs: Observation;
        /** The flags in force: this observation's, else the last readable ones (worked out here, not by the code). */
        readonly control: ControlFlags | undefined;
        readonly kind: "hold" | "promote";
        readonly reason: string;
        readonly succeeded?: boolean;
    }

    type StepInput = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

    function simulate(policy: FailoverPolicy, steps: readonly StepInput[]): Step[] {
        let state = INITIAL_STATE;
        let now = 0;
        let lastControl: ControlFlags | undefined;
        const out: Step[] = [];
        for (const s of steps) {
            now += s.dt;
            const o: Observation = { primaryHealthy: s.primaryHealthy, standbyHealthy: s.standbyHealthy, targetRole: s.targetRole, control: s.control };
            lastControl = s.control ?? lastControl;
            const d = decide(state, o, now, policy);
            state = d.action.kind === "promote" ? recordPromotion(d.state, s.succeeds) : d.state;
            out.push({ at: now, obs: o, control: lastControl, kind: d.action.kind, reason: d.action.reason, succeeded: d.action.kind === "promote" ? s.succeeds : undefined });
        }
        return out;
    }

    const property = (check: (policy: FailoverPolicy, steps: Step[]) => void) =>
        fc.assert(
            fc.property(policyArb, fc.array(stepArb, { maxLength: 80 }), (policy, raw) => check(policy, simulate(policy, raw))),
            { numRuns: 300 },
        );

    it("never promotes while paused, or while the operator's flags were never readable", () => {
        property((_p, steps) => {
            for (const s of steps.filter((x) => x.kind === "promote")) {
                assert.ok(s.control !== undefined && !s.control.paused, `promoted with flags ${JSON.stringify(s.control)}`);
            }
        });
    });

    it("never promotes while the primary answers, or into a standby that is unhealthy or not a standby", () => {
        property((_p, steps) => {
            for (const s of steps.filter((x) => x.kind === "promote")) {
                assert.equal(s.obs.primaryHealthy, false);
                assert.equal(s.obs.standbyHealthy, true);
                assert.equal(s.obs.targetRole, "standby");
            }
        });
    });

    it("never promotes before N failed probes since the last run of M successes (or the last re-arm)", () => {
        property((policy, steps) => {
            let failures = 0;
            let streak = 0;
            for (const s of steps) {
                if (s.reason === "rearmed") {
                    // Re-arming starts a fresh count (this observation included).
                    failures = 0;
                    streak = 0;
                    continue;
                }
                if (s.obs.primaryHealthy) {
                    streak += 1;
                    if (streak >= policy.recoveryThreshold) {
                        failures = 0;
                    }
                } else {
                    streak = 0;
                    failures += 1;
                }
                if (s.kind === "promote") {
                    assert.ok(failures >= policy.failureThreshold, `promoted after ${failures} < ${policy.failureThreshold} failures`);
                }
            }
        });
    });

    it("never promotes twice: a second successful promotion needs a re-arm in between and the minimum interval", () => {
        property((policy, steps) => {
            let lastSuccess: number | undefined;
            let rearmedSince = false;
            for (const s of steps) {
                if (s.reason === "rearmed") {
                    rearmedSince = true;
                }
                if (s.kind === "promote" && s.succeeded) {
                    if (lastSuccess !== undefined) {
                        assert.ok(rearmedSince, "promoted again without a re-arm");
                        assert.ok(s.at - lastSuccess >= policy.minPromotionIntervalMs, `promoted again after ${s.at - lastSuccess} ms`);
                    }
                    lastSuccess = s.at;
                    rearmedSince = false;
                }
                if (s.obs.targetRole === "primary" && s.kind === "promote") {
                    assert.fail("promoted a target that already is a primary");
                }
            }
        });
    });

    it("re-arms only when the operator's token changes", () => {
        property((_p, steps) => {
            let tokenAtDone: string | undefined;
            for (const s of steps) {
                if (s.reason === "rearmed") {
                    assert.ok(s.control !== undefined && s.control.rearm !== tokenAtDone, `re-armed with the same token ${JSON.stringify(tokenAtDone)}`);
                }
                if ((s.kind === "promote" && s.succeeded) || s.reason === "target-already-primary") {
                    tokenAtDone = s.control?.rearm ?? "";
                }
            }
        });
    });

    it("with everything ready, promotes exactly on the N-th consecutive failure and then never again", () => {
        fc.assert(
            fc.property(policyArb, fc.integer({ min: 1, max: 30 }), (policy, extra) => {
                const steps = simulate(
                    policy,
                    Array.from({ length: policy.failureThreshold + extra }, (): StepInput => ({ dt: 10_000, primaryHealthy: false, standbyHealthy: true, targetRole: "standby", control: { paused: false, rearm: "" }, succeeds: true })),
                );
                const promotions = steps.flatMap((s, i) => (s.kind === "promote" ? [i + 1] : []));
                assert.deepEqual(promotions, [policy.failureThreshold]);
            }),
            { numRuns: 100 },
        );
    });
});

/** A promotion adapter that records its calls. */
class FakeAdapter implements PromotionAdapter {
    readonly calls: PromotionRequest[] = [];
    role: TargetRole = "standby";
    fail = false;
    describe(): Promise<TargetDescription> {
        return Promise.resolve({ adapter: "postgres", target: "fake", role: this.role, healthy: true, detail: "fake" });
    }
    promote(request: PromotionRequest) {
        this.calls.push(request);
        if (this.fail) {
            return Promise.reject(new Error("throttled"));
        }
        this.role = "primary";
        return Promise.resolve({ detail: "promoted" });
    }
}

class MemoryStore implements ControlStore {
    flags: ControlFlags | undefined = DEFAULT_FLAGS;
    read() {
        return Promise.resolve(this.flags);
    }
    describe() {
        return "memory";
    }
}

describe("failover controller loop (fakes)", () => {
    function loop(primary: boolean[]) {
        const adapter = new FakeAdapter();
        const store = new MemoryStore();
        const metrics = new FailoverMetrics();
        const logs: Array<Record<string, unknown>> = [];
        let now = 0;
        let probe = 0;
        const deps: ControllerDeps = {
            probePrimary: () => Promise.resolve<ProbeResult>({ healthy: primary[Math.min(probe++, primary.length - 1)], detail: "fake" }),
            probeStandby: () => Promise.resolve({ healthy: true, detail: "fake" }),
            adapter,
            store,
            policy: POLICY,
            metrics,
            log: (r) => logs.push(r),
            now: () => (now += 1000),
        };
        return { adapter, store, metrics, logs, deps };
    }

    it("probes, decides, promotes once through the adapter (unplanned), and logs one JSON line per decision", async () => {
        const t = loop([true, false, false, false, false, false]);
        let state = INITIAL_STATE;
        for (let i = 0; i < 6; i++) {
            state = await tick(t.deps, state);
        }
        assert.deepEqual(t.adapter.calls, [{ planned: false }]);
        const decisions = t.logs.filter((l) => l.event === "decision");
        assert.equal(decisions.length, 6);
        assert.deepEqual(
            decisions.map((d) => d.reason),
            ["primary-healthy", "counting-failures", "counting-failures", "primary-failed", "done", "done"],
        );
        const promotion = t.logs.find((l) => l.event === "promotion");
        assert.equal(promotion?.result, "succeeded");
        assert.equal(state.phase, "done");
        const text = t.metrics.render();
        assert.match(text, /^apfa_failover_promotions_total\{result="succeeded"\} 1$/m);
        assert.match(text, /^apfa_failover_promotions_total\{result="failed"\} 0$/m);
        assert.match(text, /^apfa_failover_phase\{phase="done"\} 1$/m);
        assert.match(text, /^apfa_failover_decisions_total\{action="promote",reason="primary-failed"\} 1$/m);
        assert.match(text, /^apfa_failover_last_decision\{action="hold",reason="done"\} 1$/m);
        assert.equal(text.match(/^apfa_failover_last_decision\{/gm)?.length, 1);
        assert.match(text, /^apfa_failover_probes_total\{target="primary",result="failure"\} 5$/m);
        assert.match(text, /^apfa_failover_probes_total\{target="primary",result="success"\} 1$/m);
    });

    it("counts a failed promotion, and reports the pause and an unreadable store in the metrics", async () => {
        const t = loop([false]);
        t.adapter.fail = true;
        let state = INITIAL_STATE;
        for (let i = 0; i < 3; i++) {
            state = await tick(t.deps, state);
        }
        assert.equal(t.adapter.calls.length, 1);
        assert.equal(t.logs.find((l) => l.event === "promotion")?.result, "failed");
        assert.match(t.metrics.render(), /^apfa_failover_promotions_total\{result="failed"\} 1$/m);
        t.store.flags = { paused: true, rearm: "" };
        state = await tick(t.deps, state);
        assert.match(t.metrics.render(), /^apfa_failover_paused 1$/m);
        t.store.flags = undefined;
        await tick(t.deps, state);
        assert.match(t.metrics.render(), /^apfa_failover_control_readable 0$/m);
        // still paused: the last readable flags stay in force
        assert.match(t.metrics.render(), /^apfa_failover_paused 1$/m);
    });

    it("runLoop stops when aborted", async () => {
        const t = loop([true]);
        const stop = new AbortController();
        const running = runLoop({ ...t.deps, now: Date.now }, INITIAL_STATE, 20, stop.signal);
        // Poll (bounded) until it has looped a few times, then stop it.
        const deadline = Date.now() + 5000;
        while (t.logs.length < 3 && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 5));
        }
        stop.abort();
        const last = await running;
        assert.equal(last.phase, "watching");
        assert.ok(t.logs.length >= 3, `expected a few loops, got ${t.logs.length}`);
    });

    it("renders metrics promtool accepts (after a promotion, every series present)", async function () {
        const promtool = requireTool(this, "promtool");
        const t = loop([false]);
        let state = INITIAL_STATE;
        for (let i = 0; i < 4; i++) {
            state = await tick(t.deps, state);
        }
        const result = spawnSync(promtool, ["check", "metrics"], { input: t.metrics.render(), encoding: "utf8" });
        assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
    });

    it("serves the metrics over HTTP", async () => {
        const metrics = new FailoverMetrics();
        const server = await serveMetrics(metrics, 0, "127.0.0.1");
        try {
            const port = (server.address() as { port: number }).port;
            const res = await fetch(`http://127.0.0.1:${port}/metrics`);
            assert.equal(res.status, 200);
            assert.match(res.headers.get("content-type") ?? "", /text\/plain; version=0\.0\.4/);
            const body = await res.text();
            for (const name of ["apfa_failover_probe_failures", "apfa_failover_promotions_total", "apfa_failover_paused", "apfa_failover_last_decision_timestamp_seconds"]) {
                assert.match(body, new RegExp(`^# TYPE ${name} `, "m"));
            }
            assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
        } finally {
            await new Promise((resolve) => server.close(resolve));
        }
    });
});

describe("failover controller settings and control store", () => {
    const base = {
        APFA_FAILOVER_ADAPTER: "aurora-global",
        APFA_FAILOVER_AURORA_GLOBAL_CLUSTER: "apfa-global",
        APFA_FAILOVER_AURORA_STANDBY_CLUSTER_ARN: "arn:aws:rds:us-west-2:123456789012:cluster:apfa-usw2",
        APFA_FAILOVER_PRIMARY_HEALTH_URLS: "https://use1.apfa.example.com/health/db, https://use1-b.apfa.example.com/health/db",
        APFA_FAILOVER_CONTROL_FILE: "/etc/apfa-failover/control.json",
    };

    it("reads a valid environment with the documented defaults", () => {
        const s = parseSettings(base);
        assert.deepEqual(s.adapter, { kind: "aurora-global", globalClusterIdentifier: "apfa-global", standbyClusterArn: "arn:aws:rds:us-west-2:123456789012:cluster:apfa-usw2" });
        assert.deepEqual(s.primaryHealthUrls, ["https://use1.apfa.example.com/health/db", "https://use1-b.apfa.example.com/health/db"]);
        assert.equal(s.intervalMs, 10_000);
        assert.equal(s.probeTimeoutMs, 5000);
        assert.deepEqual(s.policy, { failureThreshold: 3, recoveryThreshold: 2, minPromotionIntervalMs: 3_600_000, retryAfterFailureMs: 30_000 });
        assert.equal(s.metricsPort, 9102);
    });

    it("lists every bad variable in one error", () => {
        assert.throws(
            () =>
                parseSettings({
                    APFA_FAILOVER_ADAPTER: "azure-postgres",
                    APFA_FAILOVER_AZURE_PROMOTE_MODE: "Forced",
                    APFA_FAILOVER_PRIMARY_HEALTH_URLS: "ftp://x",
                    APFA_FAILOVER_INTERVAL_SECONDS: "5",
                    APFA_FAILOVER_PROBE_TIMEOUT_SECONDS: "5",
                    APFA_FAILOVER_FAILURE_THRESHOLD: "0",
                }),
            (err: unknown) => {
                assert.ok(err instanceof SettingsError);
                assert.deepEqual(err.problems, [
                    'APFA_FAILOVER_AZURE_PROMOTE_MODE="Forced": expected Switchover or Standalone',
                    "APFA_FAILOVER_AZURE_SUBSCRIPTION_ID: required (the subscription of the replica server)",
                    "APFA_FAILOVER_AZURE_RESOURCE_GROUP: required (the replica server's resource group)",
                    "APFA_FAILOVER_AZURE_REPLICA_SERVER: required (the replica server's name)",
                    'APFA_FAILOVER_PRIMARY_HEALTH_URLS: "ftp://x" is not a http:/https: URL',
                    "APFA_FAILOVER_PROBE_TIMEOUT_SECONDS=5: must be below APFA_FAILOVER_INTERVAL_SECONDS (5), or probes overlap loops",
                    'APFA_FAILOVER_FAILURE_THRESHOLD="0": expected an integer from 1 to 100',
                    'APFA_FAILOVER_CONTROL_FILE or APFA_FAILOVER_CONTROL_SSM_PARAMETER: set exactly one (the operator\'s flags, JSON {"paused": false, "rearm": ""}; missing means not paused)',
                ]);
                return true;
            },
        );
        assert.throws(() => parseSettings({ ...base, APFA_FAILOVER_AURORA_STANDBY_CLUSTER_ARN: "apfa-usw2" }), /AURORA_STANDBY_CLUSTER_ARN="apfa-usw2": expected arn:aws:rds/);
        assert.throws(() => parseSettings({ ...base, APFA_FAILOVER_ADAPTER: "route53" }), /ADAPTER="route53": expected one of postgres, aurora-global, azure-postgres, cloudsql/);
    });

    it("bundles into the one file the image runs, which starts without the repository (exit 2 on an empty environment)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-failover-bundle-"));
        try {
            const root = path.resolve(__dirname, "..");
            const outfile = path.join(dir, "failover.js");
            // The same esbuild flags as `npm run build:failover` (tools/failover/Dockerfile).
            const script = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).scripts["build:failover"] as string;
            const args = script.split(" ").slice(1).map((a) => (a.startsWith("--outfile=") ? `--outfile=${outfile}` : a));
            const built = spawnSync(path.join(root, "node_modules", ".bin", "esbuild"), args, { cwd: root, encoding: "utf8" });
            assert.equal(built.status, 0, built.stderr);
            const run = spawnSync(process.execPath, [outfile, "run"], { cwd: dir, env: { PATH: process.env.PATH ?? "" }, encoding: "utf8" });
            assert.equal(run.status, 2, run.stderr);
            assert.match(run.stderr, /invalid failover controller settings:/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("the entry point exits 2 with the list of problems when the environment is bad", () => {
        const clean: Record<string, string> = { PATH: process.env.PATH ?? "" };
        const result = spawnSync(process.execPath, ["--require", "tsx/cjs", "tools/failover/main.ts", "run"], { cwd: path.resolve(__dirname, ".."), env: clean, encoding: "utf8" });
        assert.equal(result.status, 2, result.stderr);
        assert.match(result.stderr, /invalid failover controller settings:\n {2}- APFA_FAILOVER_ADAPTER="": expected one of/);
        assert.match(result.stderr, /APFA_FAILOVER_PRIMARY_HEALTH_URLS: required/);
    });

    it("takes the flags from an SSM parameter instead of a file (ECS), never both", () => {
        const noFile: Record<string, string> = { ...base };
        delete noFile.APFA_FAILOVER_CONTROL_FILE;
        const s = parseSettings({ ...noFile, APFA_FAILOVER_CONTROL_SSM_PARAMETER: "/apfa-prod/failover/control" });
        assert.equal(s.controlSsmParameter, "/apfa-prod/failover/control");
        assert.throws(() => parseSettings({ ...base, APFA_FAILOVER_CONTROL_SSM_PARAMETER: "/x" }), /set exactly one/);
    });

    it("SSM control store: a missing parameter means armed; a failed read or a bad document means unreadable", async () => {
        const reads: string[] = [];
        const store = (answer: () => Promise<string | undefined>) =>
            new SsmControlStore("/apfa-prod/failover/control", {
                getParameter: (name) => {
                    reads.push(name);
                    return answer();
                },
            });
        assert.deepEqual(await store(() => Promise.resolve('{"paused": true, "rearm": "r1"}')).read(), { paused: true, rearm: "r1" });
        assert.deepEqual(await store(() => Promise.reject(Object.assign(new Error("gone"), { name: "ParameterNotFound" }))).read(), DEFAULT_FLAGS);
        assert.equal(await store(() => Promise.reject(Object.assign(new Error("throttled"), { name: "ThrottlingException" }))).read(), undefined);
        assert.equal(await store(() => Promise.resolve('{"pause": true}')).read(), undefined);
        assert.deepEqual([...new Set(reads)], ["/apfa-prod/failover/control"]);
    });

    it("control file: missing means armed and not paused; a typo or bad type means unreadable; writes round-trip", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-control-"));
        try {
            const store = new FileControlStore(path.join(dir, "control.json"));
            assert.deepEqual(await store.read(), { paused: false, rearm: "" });
            await store.write({ paused: true, rearm: "2026-11-30" });
            assert.deepEqual(await store.read(), { paused: true, rearm: "2026-11-30" });
            fs.writeFileSync(store.file, "{not json");
            assert.equal(await store.read(), undefined);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
        assert.deepEqual(parseFlags("{}"), { paused: false, rearm: "" });
        assert.equal(parseFlags('{"pause": true}'), undefined);
        assert.equal(parseFlags('{"paused": "yes"}'), undefined);
        assert.equal(parseFlags("[]"), undefined);
    });
});

describe("failover adapters against fakes of their APIs", () => {
    const ARN = "arn:aws:rds:us-west-2:123456789012:cluster:apfa-usw2";

    /** A fake RDS that records (region, command name, input) and answers from a script. */
    function fakeRds(answers: { isWriter?: boolean; status?: string; instances?: number } = {}) {
        const calls: Array<{ region: string; command: string; input: unknown }> = [];
        const clientFor = (region: string): RdsLike => ({
            send(command: AuroraCommand) {
                calls.push({ region, command: command.constructor.name, input: command.input });
                if (command instanceof DescribeGlobalClustersCommand) {
                    return Promise.resolve({
                        GlobalClusters: [
                            {
                                Status: "available",
                                GlobalClusterMembers: [
                                    { DBClusterArn: "arn:aws:rds:us-east-1:123456789012:cluster:apfa-use1", IsWriter: !answers.isWriter },
                                    { DBClusterArn: ARN, IsWriter: answers.isWriter ?? false },
                                ],
                            },
                        ],
                    });
                }
                if (command instanceof DescribeDBClustersCommand) {
                    return Promise.resolve({ DBClusters: [{ Status: answers.status ?? "available", DBClusterMembers: Array.from({ length: answers.instances ?? 1 }, () => ({})) }] });
                }
                return Promise.resolve({ GlobalCluster: { Status: "failing-over", FailoverState: { Status: "pending" } } });
            },
        });
        return { calls, clientFor };
    }

    it("Aurora unplanned: FailoverGlobalCluster with AllowDataLoss, sent to the standby region, target given by ARN", async () => {
        const rds = fakeRds();
        const adapter = new AuroraGlobalAdapter({ globalClusterIdentifier: "apfa-global", standbyClusterArn: ARN, clientFor: rds.clientFor });
        await adapter.promote({ planned: false });
        assert.deepEqual(rds.calls, [
            { region: "us-west-2", command: FailoverGlobalClusterCommand.name, input: { GlobalClusterIdentifier: "apfa-global", TargetDbClusterIdentifier: ARN, AllowDataLoss: true } },
        ]);
    });

    it("Aurora planned drill: SwitchoverGlobalCluster, and no AllowDataLoss anywhere", async () => {
        const rds = fakeRds();
        const adapter = new AuroraGlobalAdapter({ globalClusterIdentifier: "apfa-global", standbyClusterArn: ARN, clientFor: rds.clientFor });
        await adapter.promote({ planned: true });
        assert.deepEqual(rds.calls, [{ region: "us-west-2", command: SwitchoverGlobalClusterCommand.name, input: { GlobalClusterIdentifier: "apfa-global", TargetDbClusterIdentifier: ARN } }]);
    });

    it("Aurora describe: a secondary with instances is a healthy standby; headless is unhealthy; the writer is a primary", async () => {
        const describe = async (answers: Parameters<typeof fakeRds>[0]) => {
            const rds = fakeRds(answers);
            const d = await new AuroraGlobalAdapter({ globalClusterIdentifier: "apfa-global", standbyClusterArn: ARN, clientFor: rds.clientFor }).describe();
            assert.ok(rds.calls.every((c) => c.region === "us-west-2"));
            return [d.role, d.healthy];
        };
        assert.deepEqual(await describe({}), ["standby", true]);
        assert.deepEqual(await describe({ instances: 0 }), ["standby", false]);
        assert.deepEqual(await describe({ status: "modifying" }), ["standby", false]);
        assert.deepEqual(await describe({ isWriter: true }), ["primary", true]);
        assert.throws(() => new AuroraGlobalAdapter({ globalClusterIdentifier: "g", standbyClusterArn: "apfa-usw2" }), /expected an Aurora cluster ARN/);
    });

    /** A fake fetch that records calls and answers with the given status/body/headers. */
    function fakeFetch(answer: { status?: number; body?: unknown; headers?: Record<string, string> } = {}) {
        const calls: Array<{ url: string; method: string; auth?: string; body?: unknown }> = [];
        const fn: FetchLike = (url, init) => {
            const headers = new Headers(init?.headers);
            calls.push({ url, method: init?.method ?? "GET", auth: headers.get("authorization") ?? undefined, body: init?.body === undefined ? undefined : JSON.parse(String(init.body)) });
            return Promise.resolve(new Response(JSON.stringify(answer.body ?? {}), { status: answer.status ?? 200, headers: answer.headers }));
        };
        return { calls, fn };
    }

    const azureUrl =
        "https://management.azure.com/subscriptions/0000-sub/resourceGroups/rg-apfa-westus3/providers/Microsoft.DBforPostgreSQL/flexibleServers/apfa-pg-westus3?api-version=2025-08-01";

    it("Azure unplanned: PATCH the replica with promoteMode Switchover and promoteOption Forced, with the token", async () => {
        const f = fakeFetch({ status: 202, headers: { "Azure-AsyncOperation": "https://management.azure.com/op/1" } });
        const adapter = new AzurePostgresAdapter({ subscriptionId: "0000-sub", resourceGroup: "rg-apfa-westus3", replicaServer: "apfa-pg-westus3", tokens: new StaticTokenProvider("tok"), fetch: f.fn });
        const result = await adapter.promote({ planned: false });
        assert.deepEqual(f.calls, [{ url: azureUrl, method: "PATCH", auth: "Bearer tok", body: { properties: { replica: { promoteMode: "Switchover", promoteOption: "Forced" } } } }]);
        assert.match(result.detail, /operation https:\/\/management\.azure\.com\/op\/1/);
    });

    it("Azure planned drill: promoteOption Planned (never Forced); a refused PATCH throws with the status", async () => {
        const f = fakeFetch({ status: 202 });
        const adapter = new AzurePostgresAdapter({ subscriptionId: "0000-sub", resourceGroup: "rg-apfa-westus3", replicaServer: "apfa-pg-westus3", promoteMode: "Standalone", tokens: new StaticTokenProvider("tok"), fetch: f.fn });
        await adapter.promote({ planned: true });
        assert.deepEqual(f.calls[0].body, { properties: { replica: { promoteMode: "Standalone", promoteOption: "Planned" } } });
        const refused = new AzurePostgresAdapter({ subscriptionId: "0000-sub", resourceGroup: "rg", replicaServer: "s", tokens: new StaticTokenProvider("t"), fetch: fakeFetch({ status: 409, body: { error: { code: "Conflict" } } }).fn });
        await assert.rejects(refused.promote({ planned: false }), /HTTP 409 .*Conflict/);
    });

    it("Azure describe maps replica roles", async () => {
        const role = async (r: string, state = "Ready") => {
            const f = fakeFetch({ body: { properties: { state, replica: { role: r, replicationState: "Active" } } } });
            const d = await new AzurePostgresAdapter({ subscriptionId: "0000-sub", resourceGroup: "rg-apfa-westus3", replicaServer: "apfa-pg-westus3", tokens: new StaticTokenProvider("tok"), fetch: f.fn }).describe();
            assert.deepEqual(f.calls.map((c) => [c.method, c.url]), [["GET", azureUrl]]);
            return [d.role, d.healthy];
        };
        assert.deepEqual(await role("GeoAsyncReplica"), ["standby", true]);
        assert.deepEqual(await role("AsyncReplica", "Updating"), ["standby", false]);
        assert.deepEqual(await role("Primary"), ["primary", true]);
        assert.deepEqual(await role("None"), ["primary", true]);
    });

    it("Cloud SQL unplanned: promoteReplica?failover=true on the DR replica (plain promotion without a DR replica)", async () => {
        const f = fakeFetch({ body: { name: "op-1", status: "PENDING", operationType: "PROMOTE_REPLICA" } });
        await new CloudSqlAdapter({ project: "apfa-prod", replicaInstance: "apfa-pg-dr", tokens: new StaticTokenProvider("gtok"), fetch: f.fn }).promote({ planned: false });
        await new CloudSqlAdapter({ project: "apfa-prod", replicaInstance: "apfa-pg-dr", drReplica: false, tokens: new StaticTokenProvider("gtok"), fetch: f.fn }).promote({ planned: false });
        assert.deepEqual(f.calls, [
            { url: "https://sqladmin.googleapis.com/v1/projects/apfa-prod/instances/apfa-pg-dr/promoteReplica?failover=true", method: "POST", auth: "Bearer gtok", body: undefined },
            { url: "https://sqladmin.googleapis.com/v1/projects/apfa-prod/instances/apfa-pg-dr/promoteReplica", method: "POST", auth: "Bearer gtok", body: undefined },
        ]);
    });

    it("Cloud SQL planned drill: switchover on the replica, no promoteReplica", async () => {
        const f = fakeFetch({ body: { name: "op-2", status: "PENDING", operationType: "SWITCHOVER" } });
        const result = await new CloudSqlAdapter({ project: "apfa-prod", replicaInstance: "apfa-pg-dr", tokens: new StaticTokenProvider("gtok"), fetch: f.fn }).promote({ planned: true });
        assert.deepEqual(f.calls.map((c) => [c.method, c.url]), [["POST", "https://sqladmin.googleapis.com/v1/projects/apfa-prod/instances/apfa-pg-dr/switchover"]]);
        assert.equal(result.detail, "SWITCHOVER operation op-2: PENDING");
    });

    it("Cloud SQL describe maps the instance type", async () => {
        const describe = async (instanceType: string, state = "RUNNABLE") => {
            const f = fakeFetch({ body: { instanceType, state, region: "us-west1" } });
            const d = await new CloudSqlAdapter({ project: "apfa-prod", replicaInstance: "apfa-pg-dr", tokens: new StaticTokenProvider("gtok"), fetch: f.fn }).describe();
            return [d.role, d.healthy];
        };
        assert.deepEqual(await describe("READ_REPLICA_INSTANCE"), ["standby", true]);
        assert.deepEqual(await describe("CLOUD_SQL_INSTANCE"), ["primary", true]);
        assert.deepEqual(await describe("READ_REPLICA_INSTANCE", "SUSPENDED"), ["standby", false]);
    });

    it("token providers: Azure IMDS, AKS workload identity (token exchange), GCP metadata server; tokens are cached", async () => {
        const seen: Array<{ url: string; headers: Headers; body?: string }> = [];
        const fn: FetchLike = (url, init) => {
            seen.push({ url, headers: new Headers(init?.headers), body: init?.body === undefined ? undefined : String(init.body) });
            return Promise.resolve(new Response(JSON.stringify({ access_token: `t${seen.length}`, expires_in: "3600" }), { status: 200 }));
        };
        const imds = new AzureManagedIdentityProvider(fn, "client-1");
        assert.equal(await imds.token(), "t1");
        assert.equal(await imds.token(), "t1", "cached");
        assert.equal(seen.length, 1);
        assert.equal(seen[0].url, "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F&client_id=client-1");
        assert.equal(seen[0].headers.get("metadata"), "true");

        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-wi-"));
        try {
            fs.writeFileSync(path.join(dir, "token"), "projected-sa-jwt\n");
            const wi = new AzureWorkloadIdentityProvider(fn, { clientId: "client-2", tenantId: "tenant-9", tokenFile: path.join(dir, "token"), authorityHost: "https://login.microsoftonline.com/" });
            assert.equal(await wi.token(), "t2");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
        assert.equal(seen[1].url, "https://login.microsoftonline.com/tenant-9/oauth2/v2.0/token");
        const form = new URLSearchParams(seen[1].body);
        assert.equal(form.get("grant_type"), "client_credentials");
        assert.equal(form.get("client_id"), "client-2");
        assert.equal(form.get("scope"), "https://management.azure.com/.default");
        assert.equal(form.get("client_assertion_type"), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        assert.equal(form.get("client_assertion"), "projected-sa-jwt");

        assert.equal(await new GcpMetadataTokenProvider(fn).token(), "t3");
        assert.equal(seen[2].url, "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token");
        assert.equal(seen[2].headers.get("metadata-flavor"), "Google");
    });

    it("PostgreSQL adapter: an unreachable standby is described as unknown and unhealthy (no promotion into it)", async () => {
        const adapter = new PostgresAdapter({ standby: { connectionString: "postgres://postgres@127.0.0.1:1/postgres" }, timeoutMs: 500 });
        const d = await adapter.describe();
        assert.deepEqual([d.role, d.healthy, d.target], ["unknown", false, "postgres://127.0.0.1:1/postgres"]);
        await assert.rejects(adapter.promote({ planned: true }), /needs the primary's connection settings/);
    });
});

describe("failover budget (cloud, derived)", () => {
    const budgets = failoverBudgets({ intervalSeconds: 10, failureThreshold: 3, probeTimeoutSeconds: 5 });
    const byCloud = Object.fromEntries(budgets.map((b) => [b.cloud, b]));

    it("adds each chain's terms and takes the later chain as the RTO", () => {
        // AWS traffic: 10 s × 3 + 6 s check timeout + 10 s checker agreement + 60 s TTL = 106 s;
        // database: 10 s × 3 + 5 s probe timeout + 60 s FailoverGlobalCluster + 5 s endpoint = 100 s.
        assert.deepEqual([byCloud.aws.trafficSeconds, byCloud.aws.databaseSeconds, byCloud.aws.rtoSeconds], [106, 100, 106]);
        // Azure traffic: 30 s × 4 samples + 0 TTL = 120 s; database: 35 + 120 promote + 30 endpoint = 185 s.
        assert.deepEqual([byCloud.azure.trafficSeconds, byCloud.azure.databaseSeconds, byCloud.azure.rtoSeconds], [120, 185, 185]);
        // GCP traffic: 5 s × 2 + 3 s timeout + 30 s GFE = 43 s; database: 35 + 120 + 30 = 185 s.
        assert.deepEqual([byCloud.gcp.trafficSeconds, byCloud.gcp.databaseSeconds, byCloud.gcp.rtoSeconds], [43, 185, 185]);
    });

    it("follows the controller's timing and names a source for every term", () => {
        const fast = failoverBudgets({ intervalSeconds: 5, failureThreshold: 2, probeTimeoutSeconds: 2 });
        assert.equal(fast[0].databaseSeconds, 5 * 2 + 2 + 60 + 5);
        for (const b of budgets) {
            for (const t of [...b.traffic, ...b.database]) {
                assert.ok(t.source.length > 10, `${b.cloud}: ${t.name} has no source`);
            }
            assert.match(formatFailoverBudget(b).join("\n"), /RTO ≈ max\(traffic, database\) = \d+ s {2}\(within the < 5 min goal; (within the ≤|over the) 2 min aim\)/);
        }
    });
});

describe("failover probes (real HTTP)", () => {
    let server: http.Server;
    let base: string;
    before(async () => {
        server = http.createServer((req, res) => {
            if (req.url === "/hang") {
                return; // never answers: the probe must time out
            }
            res.writeHead(req.url === "/ok" ? 200 : 503).end();
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    after(async () => {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
    });

    it("a region is up when any of its URLs answers 2xx within the timeout", async () => {
        const up = await httpProbe([`${base}/down`, `${base}/ok`], 500)();
        assert.deepEqual(up, { healthy: true, detail: `${base}/down 503; ${base}/ok 200` });
        const down = await httpProbe([`${base}/down`, `${base}/hang`], 200)();
        assert.deepEqual(down, { healthy: false, detail: `${base}/down 503; ${base}/hang timeout` });
    });

    it("reports a refused connection, and allOf needs every part healthy", async () => {
        const closed = await new Promise<number>((resolve) => {
            const s = http.createServer();
            s.listen(0, "127.0.0.1", () => {
                const port = (s.address() as { port: number }).port;
                s.close(() => resolve(port));
            });
        });
        const refused = await httpProbe([`http://127.0.0.1:${closed}/health`], 500)();
        assert.deepEqual(refused, { healthy: false, detail: `http://127.0.0.1:${closed}/health ECONNREFUSED` });
        const both = await allOf([httpProbe([`${base}/ok`], 500), () => Promise.resolve({ healthy: false, detail: "db ECONNREFUSED" })])();
        assert.deepEqual(both, { healthy: false, detail: `${base}/ok 200; db ECONNREFUSED` });
    });
});
