/**
 * The controller's settings, from environment variables (it runs as a container/pod: one entry
 * point, configured by env). Every bad or missing variable is reported in one error, each with
 * what was expected.
 *
 * Common
 *   APFA_FAILOVER_ADAPTER                        postgres | aurora-global | azure-postgres | cloudsql (required)
 *   APFA_FAILOVER_PRIMARY_HEALTH_URLS            comma-separated http(s) URLs of the primary region's health
 *                                                path (required); healthy when any answers 2xx
 *   APFA_FAILOVER_STANDBY_HEALTH_URLS            the standby region's, same rules (optional: then only the
 *                                                adapter's view of the standby database counts)
 *   APFA_FAILOVER_PRIMARY_DB_URL                 postgres://… also probed as part of the primary (optional)
 *   APFA_FAILOVER_INTERVAL_SECONDS               loop interval, @default 10 (decimals allowed, ≥ 0.1)
 *   APFA_FAILOVER_PROBE_TIMEOUT_SECONDS          per probe, @default 5 (half the interval when that is shorter);
 *                                                must be below the interval
 *   APFA_FAILOVER_FAILURE_THRESHOLD              failed probes before promoting, @default 3
 *   APFA_FAILOVER_RECOVERY_THRESHOLD             consecutive successes that reset the count, @default 2
 *   APFA_FAILOVER_MIN_PROMOTION_INTERVAL_SECONDS @default 3600
 *   APFA_FAILOVER_RETRY_AFTER_FAILURE_SECONDS    @default 30
 *   APFA_FAILOVER_CONTROL_FILE                   the operator's flags (JSON {"paused": bool, "rearm": "…"}), or
 *   APFA_FAILOVER_CONTROL_SSM_PARAMETER          the same JSON in an SSM parameter of the controller's region (ECS); exactly one
 *   APFA_FAILOVER_METRICS_PORT                   @default 9102; APFA_FAILOVER_METRICS_HOST @default 0.0.0.0
 * postgres
 *   APFA_FAILOVER_PG_STANDBY_URL (required), APFA_FAILOVER_PG_PRIMARY_URL (planned switchover only)
 * aurora-global
 *   APFA_FAILOVER_AURORA_GLOBAL_CLUSTER, APFA_FAILOVER_AURORA_STANDBY_CLUSTER_ARN (required; the region comes from the ARN)
 * azure-postgres
 *   APFA_FAILOVER_AZURE_SUBSCRIPTION_ID, APFA_FAILOVER_AZURE_RESOURCE_GROUP, APFA_FAILOVER_AZURE_REPLICA_SERVER (required),
 *   APFA_FAILOVER_AZURE_PROMOTE_MODE  Switchover | Standalone, @default Switchover; identity from AZURE_* (adapters/tokens.ts)
 * cloudsql
 *   APFA_FAILOVER_GCP_PROJECT, APFA_FAILOVER_CLOUDSQL_REPLICA (required), APFA_FAILOVER_CLOUDSQL_DR_REPLICA true | false, @default true
 */
import type { FailoverPolicy } from "./decision";
import type { AdapterKind } from "./adapters/types";
import { regionOfClusterArn } from "./adapters/aurora";

export type AdapterSettings =
    | { readonly kind: "postgres"; readonly standbyUrl: string; readonly primaryUrl?: string }
    | { readonly kind: "aurora-global"; readonly globalClusterIdentifier: string; readonly standbyClusterArn: string }
    | {
          readonly kind: "azure-postgres";
          readonly subscriptionId: string;
          readonly resourceGroup: string;
          readonly replicaServer: string;
          readonly promoteMode: "Switchover" | "Standalone";
      }
    | { readonly kind: "cloudsql"; readonly project: string; readonly replicaInstance: string; readonly drReplica: boolean };

export interface ControllerSettings {
    readonly adapter: AdapterSettings;
    readonly primaryHealthUrls: readonly string[];
    readonly standbyHealthUrls: readonly string[];
    readonly primaryDbUrl?: string;
    readonly intervalMs: number;
    readonly probeTimeoutMs: number;
    readonly policy: FailoverPolicy;
    /** The flags file ("" when the flags are in SSM). */
    readonly controlFile: string;
    /** The SSM parameter holding the flags (ECS). */
    readonly controlSsmParameter?: string;
    readonly metricsPort: number;
    readonly metricsHost: string;
}

export class SettingsError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`invalid failover controller settings:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "SettingsError";
    }
}

const ADAPTERS: readonly AdapterKind[] = ["postgres", "aurora-global", "azure-postgres", "cloudsql"];
const P = "APFA_FAILOVER_";

export function parseSettings(env: Readonly<Record<string, string | undefined>>): ControllerSettings {
    const problems: string[] = [];
    const raw = (name: string) => {
        const v = env[P + name];
        return v === undefined || v.trim() === "" ? undefined : v.trim();
    };
    const required = (name: string, what: string): string => {
        const v = raw(name);
        if (v === undefined) {
            problems.push(`${P}${name}: required (${what})`);
            return "";
        }
        return v;
    };
    const number = (name: string, fallback: number, min: number, integer: boolean, max = Number.MAX_SAFE_INTEGER): number => {
        const v = raw(name);
        if (v === undefined) {
            return fallback;
        }
        const n = Number(v);
        if (!/^\d+(\.\d+)?$/.test(v) || (integer && !Number.isInteger(n)) || n < min || n > max) {
            problems.push(`${P}${name}=${JSON.stringify(v)}: expected ${integer ? "an integer" : "a number"} from ${min} to ${max === Number.MAX_SAFE_INTEGER ? "∞" : max}`);
            return fallback;
        }
        return n;
    };
    const urls = (name: string, need: boolean, protocols: readonly string[]): string[] => {
        const v = need ? required(name, `comma-separated ${protocols.join("/")} URLs`) : raw(name);
        if (!v) {
            return [];
        }
        const list = v
            .split(",")
            .map((u) => u.trim())
            .filter((u) => u !== "");
        for (const u of list) {
            let ok = false;
            try {
                ok = protocols.includes(new URL(u).protocol);
            } catch {
                ok = false;
            }
            if (!ok) {
                problems.push(`${P}${name}: ${JSON.stringify(u)} is not a ${protocols.join("/")} URL`);
            }
        }
        return list;
    };
    const pgUrl = (name: string, need: boolean): string | undefined => {
        const list = urls(name, need, ["postgres:", "postgresql:"]);
        if (list.length > 1) {
            problems.push(`${P}${name}: expected one URL, got ${list.length}`);
        }
        return list[0];
    };

    const kind = raw("ADAPTER");
    let adapter: AdapterSettings | undefined;
    if (kind === undefined || !ADAPTERS.includes(kind as AdapterKind)) {
        problems.push(`${P}ADAPTER=${JSON.stringify(kind ?? "")}: expected one of ${ADAPTERS.join(", ")}`);
    } else if (kind === "postgres") {
        adapter = { kind, standbyUrl: pgUrl("PG_STANDBY_URL", true) ?? "", primaryUrl: pgUrl("PG_PRIMARY_URL", false) };
    } else if (kind === "aurora-global") {
        const arn = required("AURORA_STANDBY_CLUSTER_ARN", "the secondary cluster's ARN");
        if (arn && regionOfClusterArn(arn) === undefined) {
            problems.push(`${P}AURORA_STANDBY_CLUSTER_ARN=${JSON.stringify(arn)}: expected arn:aws:rds:<region>:<account>:cluster:<name>`);
        }
        adapter = { kind, globalClusterIdentifier: required("AURORA_GLOBAL_CLUSTER", "the global cluster's identifier"), standbyClusterArn: arn };
    } else if (kind === "azure-postgres") {
        const mode = raw("AZURE_PROMOTE_MODE") ?? "Switchover";
        if (mode !== "Switchover" && mode !== "Standalone") {
            problems.push(`${P}AZURE_PROMOTE_MODE=${JSON.stringify(mode)}: expected Switchover or Standalone`);
        }
        adapter = {
            kind,
            subscriptionId: required("AZURE_SUBSCRIPTION_ID", "the subscription of the replica server"),
            resourceGroup: required("AZURE_RESOURCE_GROUP", "the replica server's resource group"),
            replicaServer: required("AZURE_REPLICA_SERVER", "the replica server's name"),
            promoteMode: mode === "Standalone" ? "Standalone" : "Switchover",
        };
    } else {
        const dr = raw("CLOUDSQL_DR_REPLICA") ?? "true";
        if (dr !== "true" && dr !== "false") {
            problems.push(`${P}CLOUDSQL_DR_REPLICA=${JSON.stringify(dr)}: expected true or false`);
        }
        adapter = {
            kind: "cloudsql",
            project: required("GCP_PROJECT", "the project of the replica instance"),
            replicaInstance: required("CLOUDSQL_REPLICA", "the replica instance's name"),
            drReplica: dr !== "false",
        };
    }

    const primaryHealthUrls = urls("PRIMARY_HEALTH_URLS", true, ["http:", "https:"]);
    const standbyHealthUrls = urls("STANDBY_HEALTH_URLS", false, ["http:", "https:"]);
    const primaryDbUrl = pgUrl("PRIMARY_DB_URL", false);
    const intervalSeconds = number("INTERVAL_SECONDS", 10, 0.1, false);
    const timeoutSeconds = number("PROBE_TIMEOUT_SECONDS", Math.min(5, intervalSeconds / 2), 0.05, false);
    if (timeoutSeconds >= intervalSeconds) {
        problems.push(`${P}PROBE_TIMEOUT_SECONDS=${timeoutSeconds}: must be below APFA_FAILOVER_INTERVAL_SECONDS (${intervalSeconds}), or probes overlap loops`);
    }
    const policy: FailoverPolicy = {
        failureThreshold: number("FAILURE_THRESHOLD", 3, 1, true, 100),
        recoveryThreshold: number("RECOVERY_THRESHOLD", 2, 1, true, 100),
        minPromotionIntervalMs: number("MIN_PROMOTION_INTERVAL_SECONDS", 3600, 0, false) * 1000,
        retryAfterFailureMs: number("RETRY_AFTER_FAILURE_SECONDS", 30, 0, false) * 1000,
    };
    // The operator's flags: a file (local, a Kubernetes ConfigMap) or an SSM parameter (ECS), exactly one.
    const controlFileRaw = raw("CONTROL_FILE");
    const controlSsmParameter = raw("CONTROL_SSM_PARAMETER");
    if ((controlFileRaw === undefined) === (controlSsmParameter === undefined)) {
        problems.push(
            `${P}CONTROL_FILE or ${P}CONTROL_SSM_PARAMETER: set exactly one (the operator's flags, JSON {"paused": false, "rearm": ""}; missing means not paused)`,
        );
    }
    const controlFile = controlFileRaw ?? "";
    const metricsPort = number("METRICS_PORT", 9102, 0, true, 65535);
    const metricsHost = raw("METRICS_HOST") ?? "0.0.0.0";

    if (problems.length > 0 || adapter === undefined) {
        throw new SettingsError(problems);
    }
    return {
        adapter,
        primaryHealthUrls,
        standbyHealthUrls,
        primaryDbUrl,
        intervalMs: Math.round(intervalSeconds * 1000),
        probeTimeoutMs: Math.round(timeoutSeconds * 1000),
        policy,
        controlFile,
        ...(controlSsmParameter !== undefined ? { controlSsmParameter } : {}),
        metricsPort,
        metricsHost,
    };
}
