/**
 * prometheus.yml and Prometheus's command line, as pure functions of the typed config and the
 * slots' discovery. Every target gets the same file; only the discovery blocks differ by platform.
 */
import type * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";

import type { ScrapeDiscovery } from "../contract";
import type { AppSettings, MonitoringSettings, Slot } from "../config";
import { SLOTS } from "../config";

/** The scrape job of every APFA replica of both slots (rules and dashboards select on it). */
export const APFA_JOB = "apfa";
/** The scrape job of Prometheus itself. */
export const PROMETHEUS_JOB = "prometheus";
/** Target label carrying the blue/green slot of a replica. */
export const SLOT_LABEL = "slot";
/** Port Prometheus listens on inside its container. */
export const PROMETHEUS_PORT = 9090;

/** Where the files live in the Prometheus container. Rule files are referenced relative to the config. */
export const PROMETHEUS_PATHS = {
    configFile: "/etc/prometheus/prometheus.yml",
    /** Relative to the config file's directory, so a copy of both files anywhere validates alike. */
    rulesFile: "rules/apfa.rules.yml",
    dataDir: "/prometheus",
} as const;

/** DNS SD re-resolves this often: new replicas are scraped within this time. */
const DNS_REFRESH = "15s";
/** ECS API refresh; ECS read APIs are rate-limited (20 req/s sustained per account and region). */
const ECS_REFRESH = "30s";

/**
 * A slot's discovery as the generator takes it: the contract's {@link ScrapeDiscovery} with every
 * value resolved (an ECS cluster ARN is only known once the cluster exists). Prometheus 3.16
 * matches `clusters` entries by ARN only (a cluster name there makes its ECS discoverer dereference
 * a cluster it never described), and with one listed it neither lists nor reads any other cluster.
 */
export type SlotDiscovery = pulumi.Unwrap<ScrapeDiscovery>;

export interface PrometheusConfigInput {
    readonly settings: Pick<MonitoringSettings, "scrapeIntervalSeconds">;
    readonly app: Pick<AppSettings, "metricsPath">;
    /** How each slot's replicas are found on this platform (from `ApfaCluster.slots`). */
    readonly discovery: Readonly<Record<Slot, SlotDiscovery>>;
    /** Labels attached to every series and alert leaving this Prometheus (e.g. project, stack). */
    readonly externalLabels?: Readonly<Record<string, string>>;
    /** Where Alertmanager listens (its `AuxService.internalUrl`); no `alerting` block without it. */
    readonly alertmanagerUrl?: string;
    /**
     * When Alertmanager runs as a peer group (`AuxService.replicas`): a DNS name with one A record
     * per replica. Alerts then go to every replica rather than to one behind the Service address.
     */
    readonly alertmanagerReplicas?: { readonly dnsName: string; readonly port: number };
    /** A managed store every sample is also written to (`ApfaCluster.metricsStore`), signed with AWS SigV4. */
    readonly remoteWrite?: { readonly url: string; readonly sigv4Region: string };
}

/** A relabel rule in Prometheus's own field names. */
export interface RelabelRule {
    readonly source_labels?: readonly string[];
    readonly separator?: string;
    readonly regex?: string;
    readonly target_label?: string;
    readonly replacement?: string;
    readonly action?: "replace" | "keep" | "drop" | "labelmap" | "labeldrop" | "labelkeep";
}

/** The typed shape of the prometheus.yml we render (a subset of Prometheus's schema). */
export interface PrometheusConfig {
    readonly global: {
        readonly scrape_interval: string;
        readonly scrape_timeout: string;
        readonly evaluation_interval: string;
        readonly external_labels?: Readonly<Record<string, string>>;
    };
    readonly rule_files: readonly string[];
    readonly remote_write?: readonly {
        readonly url: string;
        readonly sigv4: { readonly region: string };
        readonly queue_config: { readonly max_samples_per_send: number; readonly max_shards: number; readonly capacity: number };
    }[];
    readonly alerting?: {
        readonly alertmanagers: readonly {
            readonly scheme: "http" | "https";
            readonly path_prefix?: string;
            readonly api_version: "v2";
            readonly timeout: string;
            readonly static_configs?: readonly { readonly targets: readonly string[] }[];
            readonly dns_sd_configs?: readonly { readonly names: readonly string[]; readonly type: "A"; readonly port: number; readonly refresh_interval: string }[];
        }[];
    };
    readonly scrape_configs: readonly ScrapeConfig[];
}

export interface ScrapeConfig {
    readonly job_name: string;
    readonly metrics_path?: string;
    readonly static_configs?: readonly { readonly targets: readonly string[]; readonly labels?: Readonly<Record<string, string>> }[];
    readonly dns_sd_configs?: readonly { readonly names: readonly string[]; readonly type: "A"; readonly port: number; readonly refresh_interval: string }[];
    readonly aws_sd_configs?: readonly {
        readonly role: "ecs";
        readonly region: string;
        readonly clusters?: readonly string[];
        readonly port: number;
        readonly refresh_interval: string;
    }[];
    readonly relabel_configs?: readonly RelabelRule[];
}

/** Escapes a literal for a (fully anchored) RE2 regex in a relabel rule. */
export function regexLiteral(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function seconds(n: number): string {
    return `${n}s`;
}

/**
 * The discovery blocks and slot relabelling of the APFA job for the given slots.
 *
 * - `dns`: one `dns_sd_configs` block per slot (A records + port); the slot comes from
 *   `__meta_dns_name`, the only metadata DNS SD has.
 * - `ecs`: `aws_sd_configs` with `role: ecs` (one block per region, cluster and port: both slots
 *   normally share it), so every running task is found however many there are (Cloud Map DNS
 *   answers at most 8). The slot comes from the task's region, cluster and service names.
 *   `clusters` names the one cluster by ARN (see {@link SlotDiscovery}); tasks of other services
 *   are dropped by the `keep` rule below.
 *
 * Targets that match no slot are dropped, so nothing unlabelled ever lands in the APFA job.
 */
export function apfaScrapeConfig(input: PrometheusConfigInput): ScrapeConfig {
    const dns: NonNullable<ScrapeConfig["dns_sd_configs"]>[number][] = [];
    const ecs = new Map<string, NonNullable<ScrapeConfig["aws_sd_configs"]>[number]>();
    const relabel: RelabelRule[] = [];
    let usesEcs = false;

    for (const slot of SLOTS) {
        const d = input.discovery[slot];
        switch (d.kind) {
            case "dns":
                dns.push({ names: [d.name], type: "A", port: d.port, refresh_interval: DNS_REFRESH });
                relabel.push({
                    source_labels: ["__meta_dns_name"],
                    regex: regexLiteral(d.name),
                    target_label: SLOT_LABEL,
                    replacement: slot,
                    action: "replace",
                });
                break;
            case "ecs": {
                usesEcs = true;
                ecs.set(`${d.region}|${d.clusterArn}|${d.port}`, {
                    role: "ecs",
                    region: d.region,
                    clusters: [d.clusterArn],
                    port: d.port,
                    refresh_interval: ECS_REFRESH,
                });
                relabel.push({
                    source_labels: ["__meta_ecs_region", "__meta_ecs_cluster", "__meta_ecs_service"],
                    separator: ";",
                    regex: [d.region, d.clusterName, d.serviceName].map(regexLiteral).join(";"),
                    target_label: SLOT_LABEL,
                    replacement: slot,
                    action: "replace",
                });
                break;
            }
        }
    }

    if (usesEcs) {
        // A stopping or provisioning task has an IP but no server: scraping it would only page.
        relabel.push({ source_labels: ["__meta_ecs_last_status"], regex: "RUNNING|", action: "keep" });
    }
    relabel.push({ source_labels: [SLOT_LABEL], regex: SLOTS.map(regexLiteral).join("|"), action: "keep" });

    return {
        job_name: APFA_JOB,
        metrics_path: input.app.metricsPath,
        ...(dns.length > 0 ? { dns_sd_configs: dns } : {}),
        ...(ecs.size > 0 ? { aws_sd_configs: [...ecs.values()] } : {}),
        relabel_configs: relabel,
    };
}

/** The `alerting` block sending every alert to the one Alertmanager at `url` (http[s]://host[:port][/prefix]). */
export function alertingBlock(url: string): NonNullable<PrometheusConfig["alerting"]> {
    const parsed = new URL(url);
    const scheme = parsed.protocol === "https:" ? "https" : "http";
    const port = parsed.port || (scheme === "https" ? "443" : "80");
    const prefix = parsed.pathname.replace(/\/+$/, "");
    return {
        alertmanagers: [
            {
                scheme,
                ...(prefix ? { path_prefix: prefix } : {}),
                api_version: "v2",
                timeout: "10s",
                static_configs: [{ targets: [`${parsed.hostname}:${port}`] }],
            },
        ],
    };
}

/**
 * The `alerting` block sending every alert to each replica of an Alertmanager peer group, found
 * through a DNS name with one A record per replica (Prometheus must reach every replica: the group
 * shares silences and who-notified, not the alerts).
 */
export function peerAlertingBlock(replicas: { readonly dnsName: string; readonly port: number }): NonNullable<PrometheusConfig["alerting"]> {
    return {
        alertmanagers: [
            {
                scheme: "http",
                api_version: "v2",
                timeout: "10s",
                // A replaced replica has a new address: re-resolve well within Prometheus's 1 min resend.
                dns_sd_configs: [{ names: [replicas.dnsName], type: "A", port: replicas.port, refresh_interval: "15s" }],
            },
        ],
    };
}

/** The whole prometheus.yml as an object. */
export function prometheusConfig(input: PrometheusConfigInput): PrometheusConfig {
    const interval = input.settings.scrapeIntervalSeconds;
    return {
        global: {
            scrape_interval: seconds(interval),
            // Prometheus refuses a timeout longer than the interval.
            scrape_timeout: seconds(Math.min(10, interval)),
            evaluation_interval: seconds(interval),
            ...(input.externalLabels && Object.keys(input.externalLabels).length > 0 ? { external_labels: { ...input.externalLabels } } : {}),
        },
        rule_files: [PROMETHEUS_PATHS.rulesFile],
        ...(input.remoteWrite !== undefined
            ? {
                  remote_write: [
                      {
                          url: input.remoteWrite.url,
                          // Credentials from the default AWS chain: on ECS, the task role (granted aps:RemoteWrite on this workspace only).
                          sigv4: { region: input.remoteWrite.sigv4Region },
                          // Amazon Managed Service for Prometheus's recommended queue (its user guide,
                          // "remote write … configuration"): bigger batches than Prometheus's default 2000/50/10000 need not.
                          queue_config: { max_samples_per_send: 1000, max_shards: 200, capacity: 2500 },
                      },
                  ],
              }
            : {}),
        ...(input.alertmanagerReplicas !== undefined
            ? { alerting: peerAlertingBlock(input.alertmanagerReplicas) }
            : input.alertmanagerUrl !== undefined
              ? { alerting: alertingBlock(input.alertmanagerUrl) }
              : {}),
        scrape_configs: [
            apfaScrapeConfig(input),
            { job_name: PROMETHEUS_JOB, static_configs: [{ targets: [`localhost:${PROMETHEUS_PORT}`] }] },
        ],
    };
}

/** Renders YAML the way every monitoring artifact is rendered: no anchors, long PromQL on one line. */
export function renderYaml(value: unknown, header?: string): string {
    const body = stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
    return header ? `${header.split("\n").map((l) => `# ${l}`.trimEnd()).join("\n")}\n${body}` : body;
}

/** prometheus.yml text. */
export function prometheusYml(input: PrometheusConfigInput): string {
    return renderYaml(prometheusConfig(input), "Generated by apfa-infra (src/monitoring/prometheus.ts). Do not edit: changes are overwritten.");
}

/**
 * Prometheus's command line. Retention by time from config, and by size at 80 % of the data volume
 * so a full disk never stops ingestion. No `--web.enable-lifecycle`: a config change replaces the
 * container/task with the new files, so nothing needs /-/reload, and leaving it off keeps /-/quit
 * and /-/reload away from everything else on the network (APFA replicas share it).
 */
export function prometheusArgs(
    settings: Pick<MonitoringSettings, "retentionDays" | "storageGiB">,
    paths: { readonly configFile: string; readonly dataDir: string } = PROMETHEUS_PATHS,
    listenAddress = `:${PROMETHEUS_PORT}`,
): string[] {
    const sizeGiB = Math.max(1, Math.floor(settings.storageGiB * 0.8));
    return [
        `--config.file=${paths.configFile}`,
        `--storage.tsdb.path=${paths.dataDir}`,
        `--storage.tsdb.retention.time=${settings.retentionDays}d`,
        `--storage.tsdb.retention.size=${sizeGiB}GB`,
        `--web.listen-address=${listenAddress}`,
    ];
}
