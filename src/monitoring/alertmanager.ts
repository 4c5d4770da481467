/**
 * alertmanager.yml and Alertmanager's command line, as pure functions of `apfa:alerting`.
 *
 * Credentials never appear in the generated file: every receiver reads its credential from a file
 * (Alertmanager's `api_url_file` for Slack, `routing_key_file` for PagerDuty, `url_file` for
 * webhooks, `auth_password_file` for SMTP; all present since Alertmanager 0.28, which fixed
 * `url_file`; we run 0.35). The monitoring component hands those files to the target as
 * `AuxServiceSpec.secretFiles`, which every target keeps in its secret store.
 *
 * Routing: grouped by alert name and slot; `severity="page"` and `severity="ticket"` go to the
 * receivers `apfa:alerting.page` / `.ticket` name (all of them: their integrations are merged into
 * one Alertmanager receiver per severity); the Watchdog goes only to `watchdogReceiver`; anything
 * else to the ticket receivers (or the page ones when there are none). Without receivers every
 * route ends in the `null` receiver (no integrations): alerts are kept and visible, never sent.
 */
import * as path from "node:path";

import { receiverCredential, type AlertingConfig, type ReceiverConfig } from "../config";
import { renderYaml, SLOT_LABEL } from "./prometheus";
import { WATCHDOG_ALERT, type Severity } from "./rules";

/** Port Alertmanager listens on inside its container. */
export const ALERTMANAGER_PORT = 9093;

/** Where the files live in the Alertmanager container. */
export const ALERTMANAGER_PATHS = {
    configFile: "/etc/alertmanager/alertmanager.yml",
    /** One file per credential, written by the target from its secret store. */
    secretsDir: "/etc/alertmanager/secrets",
    /** Silences and the notification log (the prom/alertmanager image's own default). */
    dataDir: "/alertmanager",
} as const;

/** The receiver with no integrations. */
export const NULL_RECEIVER = "null";
/** Alertmanager receivers generated per severity and for the Watchdog. */
export const RECEIVER_OF = { page: "page", ticket: "ticket", watchdog: "watchdog" } as const;

/** Alerts that name one slot; ApfaDown (the whole service) silences them. */
export const INHIBITED_BY_APFA_DOWN = `${SLOT_LABEL}=~".+"`;

/** What the generator reads of the alerting config: no credential, only which exist. */
export type AlertingInput = Pick<
    AlertingConfig,
    "receivers" | "page" | "ticket" | "watchdogReceiver" | "groupWaitSeconds" | "groupIntervalSeconds" | "repeatIntervalSeconds"
>;

/** Labels ApfaDown and the alerts it inhibits must share: one stack's alerts only. */
export const INHIBIT_EQUAL_LABELS = ["project", "stack"] as const;

/** The credential of a receiver, by field name, with the file it is read from. */
export interface CredentialFile {
    readonly receiver: string;
    readonly field: string;
    /** Absolute path in the Alertmanager container. */
    readonly path: string;
}

/** Where each credential of each receiver is read from (a pure function of names). */
export function credentialFiles(alerting: Pick<AlertingInput, "receivers">, secretsDir: string = ALERTMANAGER_PATHS.secretsDir): CredentialFile[] {
    const files: CredentialFile[] = [];
    for (const name of Object.keys(alerting.receivers).sort()) {
        const r = alerting.receivers[name];
        const field = receiverCredential(r)?.field;
        if (field !== undefined) {
            files.push({ receiver: name, field, path: path.posix.join(secretsDir, `${name}-${field}`) });
        }
    }
    return files;
}

const SUMMARY = '{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}';
const TITLE = '[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .GroupLabels.alertname }}{{ if .GroupLabels.slot }} ({{ .GroupLabels.slot }}){{ end }}';
const TEXT = '{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ end }}';

/** The integrations of one named receiver, for alerts of `severity` (or the Watchdog). */
function integrations(name: string, r: ReceiverConfig, severity: Severity | "watchdog", secretsDir: string): Record<string, unknown[]> {
    const file = (field: string) => path.posix.join(secretsDir, `${name}-${field}`);
    switch (r.kind) {
        case "slack":
            return {
                slack_configs: [
                    {
                        api_url_file: file("webhookUrl"),
                        ...(r.channel !== undefined ? { channel: r.channel } : {}),
                        send_resolved: true,
                        title: TITLE,
                        text: TEXT,
                    },
                ],
            };
        case "pagerduty":
            return {
                pagerduty_configs: [
                    {
                        routing_key_file: file("routingKey"),
                        send_resolved: true,
                        severity: severity === "page" ? "critical" : severity === "ticket" ? "warning" : "info",
                        description: TITLE,
                    },
                ],
            };
        case "webhook":
            return { webhook_configs: [{ url_file: file("url"), send_resolved: true }] };
        case "email":
            return {
                email_configs: [
                    {
                        to: r.to.join(", "),
                        from: r.from,
                        smarthost: r.smarthost,
                        require_tls: true,
                        ...(r.authUsername !== undefined ? { auth_username: r.authUsername } : {}),
                        ...(r.authPassword !== undefined ? { auth_password_file: file("authPassword") } : {}),
                        send_resolved: true,
                        headers: { Subject: TITLE },
                        text: SUMMARY,
                    },
                ],
            };
    }
}

/** One Alertmanager receiver merging the integrations of the named receivers. */
function mergedReceiver(receiverName: string, names: readonly string[], alerting: AlertingInput, severity: Severity | "watchdog", secretsDir: string) {
    const merged: Record<string, unknown[]> = {};
    for (const name of [...new Set(names)]) {
        for (const [key, list] of Object.entries(integrations(name, alerting.receivers[name], severity, secretsDir))) {
            merged[key] = [...(merged[key] ?? []), ...list];
        }
    }
    return { name: receiverName, ...merged };
}

/** The whole alertmanager.yml as an object. */
export function alertmanagerConfig(alerting: AlertingInput, secretsDir: string = ALERTMANAGER_PATHS.secretsDir): Record<string, unknown> {
    const receivers: Record<string, unknown>[] = [{ name: NULL_RECEIVER }];
    const severityReceiver = (severity: Severity): string => {
        const names = alerting[severity];
        if (names.length === 0) {
            return NULL_RECEIVER;
        }
        receivers.push(mergedReceiver(RECEIVER_OF[severity], names, alerting, severity, secretsDir));
        return RECEIVER_OF[severity];
    };
    const page = severityReceiver("page");
    const ticket = severityReceiver("ticket");
    let watchdog: string = NULL_RECEIVER;
    if (alerting.watchdogReceiver !== undefined) {
        receivers.push(mergedReceiver(RECEIVER_OF.watchdog, [alerting.watchdogReceiver], alerting, "watchdog", secretsDir));
        watchdog = RECEIVER_OF.watchdog;
    }
    return {
        route: {
            // Alerts of other severities: work-hours receivers first.
            receiver: ticket !== NULL_RECEIVER ? ticket : page,
            group_by: ["alertname", SLOT_LABEL],
            group_wait: `${alerting.groupWaitSeconds}s`,
            group_interval: `${alerting.groupIntervalSeconds}s`,
            repeat_interval: `${alerting.repeatIntervalSeconds}s`,
            routes: [
                // The dead man's switch: only its own receiver, never a person's.
                { receiver: watchdog, matchers: [`alertname="${WATCHDOG_ALERT}"`], group_by: ["alertname"], continue: false },
                { receiver: page, matchers: ['severity="page"'] },
                { receiver: ticket, matchers: ['severity="ticket"'] },
            ],
        },
        inhibit_rules: [
            {
                // The whole service is down: its per-slot alerts say nothing more.
                source_matchers: ['alertname="ApfaDown"'],
                target_matchers: [INHIBITED_BY_APFA_DOWN],
                equal: [...INHIBIT_EQUAL_LABELS],
            },
        ],
        receivers,
    };
}

/** alertmanager.yml text. */
export function alertmanagerYml(alerting: AlertingInput, secretsDir: string = ALERTMANAGER_PATHS.secretsDir): string {
    return renderYaml(alertmanagerConfig(alerting, secretsDir), "Generated by apfa-infra (src/monitoring/alertmanager.ts). Do not edit: changes are overwritten.");
}

/** Whether any receiver is configured (without one, alerts go nowhere). */
export function hasReceivers(alerting: Pick<AlertingInput, "page" | "ticket">): boolean {
    return alerting.page.length > 0 || alerting.ticket.length > 0;
}

/**
 * TCP ports Alertmanager sends notifications to outside the platform's network: 443 for Slack,
 * PagerDuty and webhooks (webhook URLs are credentials, so their port is not read: a webhook
 * receiver must be HTTPS on 443 to be reachable from the clouds' closed egress), and each SMTP
 * server's port.
 */
export function receiverPorts(alerting: Pick<AlertingInput, "receivers">): number[] {
    const ports = new Set<number>();
    for (const r of Object.values(alerting.receivers)) {
        if (r.kind !== "email") {
            ports.add(443);
        } else {
            ports.add(Number(r.smarthost.slice(r.smarthost.lastIndexOf(":") + 1)));
        }
    }
    return [...ports].sort((a, b) => a - b);
}

/**
 * Alertmanager's command line. One instance per stack, so gossip clustering is off (an empty
 * `--cluster.listen-address`), which also spares it the search for a private address.
 */
export function alertmanagerArgs(
    paths: { readonly configFile: string; readonly dataDir: string } = ALERTMANAGER_PATHS,
    listenAddress = `:${ALERTMANAGER_PORT}`,
): string[] {
    return [...commonArgs(paths, listenAddress), "--cluster.listen-address="];
}

/** Port of Alertmanager's peer protocol (memberlist gossip, TCP and UDP). */
export const ALERTMANAGER_GOSSIP_PORT = 9094;

/**
 * A replica of an Alertmanager peer group: it gossips on {@link ALERTMANAGER_GOSSIP_PORT}, joins
 * every address `peersHost` resolves to (Alertmanager re-resolves the name while running, so
 * replaced replicas rejoin), and advertises `ownAddress` to the others. Alerts themselves are not
 * gossiped: Prometheus sends each alert to every replica, and the replicas agree through the
 * notification log which one sends the notification (the others hold back by their position in
 * the group times `--cluster.peer-timeout`).
 */
export function alertmanagerPeerArgs(
    peersHost: string,
    ownAddress: string,
    opts: {
        readonly paths?: { readonly configFile: string; readonly dataDir: string };
        readonly listenAddress?: string;
        readonly gossipPort?: number;
        /** Address the gossip listener binds (a local test binds each replica to its own loopback address). */
        readonly gossipListenHost?: string;
    } = {},
): string[] {
    const gossipPort = opts.gossipPort ?? ALERTMANAGER_GOSSIP_PORT;
    return [
        ...commonArgs(opts.paths ?? ALERTMANAGER_PATHS, opts.listenAddress ?? `:${ALERTMANAGER_PORT}`),
        `--cluster.listen-address=${opts.gossipListenHost ?? "0.0.0.0"}:${gossipPort}`,
        `--cluster.advertise-address=${ownAddress}:${gossipPort}`,
        `--cluster.peer=${peersHost}:${gossipPort}`,
    ];
}

function commonArgs(paths: { readonly configFile: string; readonly dataDir: string }, listenAddress: string): string[] {
    return [
        `--config.file=${paths.configFile}`,
        `--storage.path=${paths.dataDir}`,
        `--web.listen-address=${listenAddress}`,
        // Silences and the notification log: kept 5 days past their end.
        "--data.retention=120h",
    ];
}
