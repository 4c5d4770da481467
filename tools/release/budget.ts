/**
 * The rollback time budget a stack's settings imply (pure): how long from the moment a bad
 * release starts failing requests until no new request reaches it, and until the bad slot holds
 * no connection at all.
 *
 *   detection  = scrape interval + window dilution + analysis interval × failureThreshold + tick work
 *   update     = config write + Pulumi engine start + program run + the traffic resource's change
 *   drain      = how long requests already on the bad slot may still run there (per platform)
 *
 * Every term says where its figure comes from: the stack config, a measurement, a vendor
 * document, or an assumption (marked, to be replaced by a measured figure: each release's event
 * log records the duration of every `pulumi up`, targeted ones included).
 */
import type { ApfaConfig, Cloud, RolloutSettings } from "../../src/config";
import { FLOOR_TARGETS } from "./capacity";

export type Provenance = "config" | "derived" | "measured" | "documented" | "assumed";

export interface BudgetTerm {
    readonly name: string;
    readonly seconds: number;
    readonly provenance: Provenance;
    /** Where the figure comes from (setting, document, or why it is assumed). */
    readonly source: string;
}

export interface RollbackBudget {
    readonly stack: string;
    readonly cloud: Cloud;
    readonly metrics: "prometheus" | "cloudwatch";
    readonly detection: readonly BudgetTerm[];
    readonly update: readonly BudgetTerm[];
    readonly drain: readonly BudgetTerm[];
    /** detection + update: until no new request reaches the bad slot. */
    readonly exposureSeconds: number;
    /** + drain: until the bad slot holds no request at all. */
    readonly totalSeconds: number;
    /** What the figures leave out, in words (printed under them). */
    readonly notCounted: readonly string[];
}

/** The original design's goal for a rollback, and this project's aim. */
export const ROLLBACK_GOAL_SECONDS = 300;
export const ROLLBACK_AIM_SECONDS = 60;

export interface BudgetInputs {
    /** Error ratio of the bad release the budget is computed for (the rehearsal's 20 %). */
    readonly badErrorRatio: number;
    /** Measured run time of the program for this stack (offline synth), if measured. */
    readonly programSeconds?: number;
    /** Which metric source judges the release. */
    readonly metrics: "prometheus" | "cloudwatch";
}

/** How each target changes the traffic resource, with the figure used. */
const TRAFFIC_CHANGE: Record<Cloud, BudgetTerm[]> = {
    docker: [
        {
            name: "replace the nginx proxy container (stop, create, start)",
            seconds: 3,
            provenance: "assumed",
            source: "deleteBeforeReplace of one container; nginx stops at once on SIGTERM; not measured here (no Docker daemon on this machine)",
        },
    ],
    aws: [
        { name: "ALB ModifyRule (one API call)", seconds: 1, provenance: "assumed", source: "one synchronous ELBv2 API call" },
        {
            name: "the rule reaching every ALB node",
            seconds: 5,
            provenance: "assumed",
            source: "AWS documents no propagation time for listener-rule changes; to be replaced by a measurement",
        },
    ],
    azure: [
        { name: "patch the HTTPRoute (one Kubernetes API call)", seconds: 1, provenance: "assumed", source: "one server-side apply" },
        {
            name: "Envoy Gateway pushes the route to the Envoy proxies (xDS)",
            seconds: 3,
            provenance: "assumed",
            source: "in-cluster control plane, no cloud API in the path; Envoy control planes converge in ~1-2 s (e.g. kumahq/kuma#18493); not measured here",
        },
    ],
    gcp: [
        { name: "patch the HTTPRoute (one Kubernetes API call)", seconds: 1, provenance: "assumed", source: "one server-side apply" },
        {
            name: "GKE Gateway controller updates the load balancer's URL map; Google Front Ends pick it up",
            seconds: 30,
            provenance: "assumed",
            source:
                "UNVERIFIED: Google documents no figure (Cloud Deploy exposes a route_update_wait_time for exactly this delay); the largest unknown of all targets — measure it",
        },
    ],
};

function drainTerms(config: ApfaConfig): BudgetTerm[] {
    switch (config.cloud) {
        case "docker":
            return [
                {
                    name: "none: replacing the proxy cuts its connections",
                    seconds: 0,
                    provenance: "derived",
                    source: "requests in flight through the old proxy fail instead of draining (dev only)",
                },
            ];
        case "aws":
            return [
                {
                    name: "target group deregistration delay (conservative)",
                    seconds: config.aws.deregistrationDelaySeconds,
                    provenance: "config",
                    source:
                        "apfa:aws.deregistrationDelaySeconds; a weight change stops new requests at once and deregisters nothing, " +
                        "so this bounds in-flight requests only when the old slot is later scaled down",
                },
            ];
        case "azure":
            return [
                {
                    name: "in-flight requests on the old pods (Envoy route timeout)",
                    seconds: 15,
                    provenance: "documented",
                    source: "Envoy's default route timeout is 15 s; the route update does not close connections",
                },
            ];
        case "gcp":
            return [
                {
                    name: "in-flight requests on the old pods (backend connection draining)",
                    seconds: config.gcp.connectionDrainingSeconds,
                    provenance: "config",
                    source: "apfa:gcp.connectionDrainingSeconds (GCPBackendPolicy connectionDraining)",
                },
            ];
    }
}

export function rollbackBudget(stack: string, config: ApfaConfig, rollout: RolloutSettings, inputs: BudgetInputs): RollbackBudget {
    const a = rollout.analysis;
    const detection: BudgetTerm[] = [];
    if (inputs.metrics === "prometheus") {
        detection.push({
            name: "errors reach Prometheus (one scrape)",
            seconds: config.monitoring.scrapeIntervalSeconds,
            provenance: "config",
            source: "apfa:monitoring.scrapeIntervalSeconds",
        });
    } else {
        detection.push(
            {
                name: "ALB publishes the minute's data point",
                seconds: 60,
                provenance: "documented",
                source: "Elastic Load Balancing reports ALB metrics to CloudWatch in 60-second intervals",
            },
            {
                name: "CloudWatch makes it queryable",
                seconds: 60,
                provenance: "assumed",
                source: "ingestion delay of standard-resolution metrics, typically under a minute (not measured here)",
            },
        );
    }
    // A window mixing good and bad traffic: the bad share must lift the window's ratio past the limit.
    const windowSeconds = inputs.metrics === "cloudwatch" ? Math.max(60, Math.ceil(a.windowSeconds / 60) * 60) : a.windowSeconds;
    detection.push(
        {
            name: `window dilution (${Math.round(inputs.badErrorRatio * 100)} % errors vs the ${(a.maxErrorRatio * 100).toFixed(1)} % limit)`,
            seconds: round1((windowSeconds * a.maxErrorRatio) / inputs.badErrorRatio),
            provenance: "derived",
            source: "apfa:rollout.analysis.windowSeconds × maxErrorRatio / bad error ratio",
        },
        {
            name: `next analysis${a.failureThreshold > 1 ? `s (${a.failureThreshold} in a row)` : ""}`,
            seconds: a.intervalSeconds * a.failureThreshold,
            provenance: "config",
            source: "apfa:rollout.analysis.intervalSeconds × failureThreshold",
        },
        {
            name: "one analysis tick (read the release state, 3 queries)",
            seconds: 1,
            provenance: "assumed",
            source: "one `pulumi config get` (~0.5-1 s) and three instant queries (< 0.1 s against the real Prometheus in the tests)",
        },
    );

    const update: BudgetTerm[] = [
        { name: "write apfa:release (one `pulumi config set-all`)", seconds: 1, provenance: "assumed", source: "one CLI call, local stack file" },
        {
            name: "`pulumi up --target`: CLI, engine, state, provider plugins",
            seconds: config.cloud === "docker" ? 5 : 10,
            provenance: "assumed",
            source: "not measurable here (no Pulumi CLI on this machine)",
        },
        inputs.programSeconds === undefined
            ? { name: "the program runs (registers every resource)", seconds: 5, provenance: "assumed", source: "not measured (--no-measure)" }
            : {
                  name: "the program runs (registers every resource)",
                  seconds: round1(inputs.programSeconds),
                  provenance: "measured",
                  source: "cold `node scripts/pulumi-load.js <stack> --transpile-only`: Pulumi's own ts-node loader and the program on mocks (median of 3)",
              },
        ...TRAFFIC_CHANGE[config.cloud],
    ];
    const drain = drainTerms(config);
    const sum = (terms: readonly BudgetTerm[]) => terms.reduce((t, x) => t + x.seconds, 0);
    const exposureSeconds = round1(sum(detection) + sum(update));
    // The capacity step before each shift (autoscaled targets) adds a whole-stack update but leaves
    // the rollback path (one write, one targeted update) and the analysis cadence as they are.
    const updates = FLOOR_TARGETS[config.cloud] ? "each step's update, and the capacity update that sets the replica floors before it" : "each step's update";
    const notCounted = [
        `a failure that starts while a whole-stack \`pulumi up\` runs (${updates}) is judged once that update ends: ` +
            "no analysis runs during one; each release's event log records how long they take (`up` events)",
    ];
    return {
        stack,
        cloud: config.cloud,
        metrics: inputs.metrics,
        detection,
        update,
        drain,
        exposureSeconds,
        totalSeconds: round1(exposureSeconds + sum(drain)),
        notCounted,
    };
}

function round1(n: number): number {
    return Math.round(n * 10) / 10;
}

/** The budget as a table for the terminal. */
export function formatBudget(budget: RollbackBudget): string[] {
    const lines = [`${budget.stack} (${budget.cloud}, metrics: ${budget.metrics})`];
    const section = (title: string, terms: readonly BudgetTerm[]) => {
        lines.push(`  ${title}`);
        for (const t of terms) {
            lines.push(`    ${t.seconds.toFixed(1).padStart(6)} s  ${t.name}  [${t.provenance}: ${t.source}]`);
        }
    };
    section("detection", budget.detection);
    section("rollback update", budget.update);
    lines.push(`  ${budget.exposureSeconds.toFixed(1).padStart(8)} s  until no new request reaches the bad slot  ${verdict(budget.exposureSeconds)}`);
    section("drain", budget.drain);
    lines.push(`  ${budget.totalSeconds.toFixed(1).padStart(8)} s  until the bad slot holds no request (conservative)  ${verdict(budget.totalSeconds)}`);
    for (const note of budget.notCounted) {
        lines.push(`  not counted: ${note}`);
    }
    return lines;
}

function verdict(seconds: number): string {
    const goal = seconds <= ROLLBACK_GOAL_SECONDS ? "within the 5-min goal" : "OVER the 5-min goal";
    const aim = seconds <= ROLLBACK_AIM_SECONDS ? "under the 60 s aim" : "over the 60 s aim";
    return `(${goal}; ${aim})`;
}
