/**
 * `apfa:alerting`: where Alertmanager delivers the alerts of the rules (src/monitoring/rules.ts).
 *
 * Receivers are named; `page` and `ticket` name the receivers of the two severities the rules use,
 * `watchdogReceiver` the one that gets the always-firing Watchdog (a dead man's switch). Every
 * credential (webhook URLs, the PagerDuty routing key, the SMTP password) should be set with
 * `pulumi config set --secret --path`, which makes the whole `apfa:alerting` key a Pulumi secret;
 * the program keeps exactly the credentials secret (see {@link AlertingConfig}) and never writes
 * them into the generated Alertmanager configuration (they reach Alertmanager as secret files).
 */
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

/** Receiver names: they become Alertmanager receiver names and parts of file names. */
const receiverName = z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,39}$/, "receiver names: lower-case letters, digits and -, starting with a letter (at most 40)");

/** host:port of an SMTP server. */
const smarthost = z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, "expected host:port, e.g. smtp.example.com:587");

const slackReceiver = z.strictObject({
    kind: z.literal("slack"),
    /** Slack incoming-webhook URL (a credential: set it with --secret). */
    webhookUrl: z.url({ protocol: /^https?$/ }),
    /** Channel to post to, when the webhook allows overriding its own. Unset: the webhook's channel. */
    channel: z.string().min(1).optional(),
});

const pagerdutyReceiver = z.strictObject({
    kind: z.literal("pagerduty"),
    /** PagerDuty Events API v2 integration (routing) key (a credential: set it with --secret). */
    routingKey: z.string().min(1),
});

const webhookReceiver = z.strictObject({
    kind: z.literal("webhook"),
    /**
     * URL Alertmanager POSTs its JSON notifications to. Treated as a credential whether or not it
     * embeds a token (set it with --secret).
     */
    url: z.url({ protocol: /^https?$/ }),
});

const emailReceiver = z.strictObject({
    kind: z.literal("email"),
    /** SMTP server as host:port (STARTTLS is required, Alertmanager's default). */
    smarthost,
    /** Sender address. */
    from: z.email(),
    /** Recipient addresses. */
    to: z.array(z.email()).min(1),
    /** SMTP AUTH user name. Unset: no authentication. */
    authUsername: z.string().min(1).optional(),
    /** SMTP AUTH password (a credential: set it with --secret). Required with authUsername. */
    authPassword: z.string().min(1).optional(),
});

const receiverSchema = z.discriminatedUnion("kind", [slackReceiver, pagerdutyReceiver, webhookReceiver, emailReceiver]);

export const alertingSchema = z
    .strictObject({
        /**
         * Named receivers: `{ kind: "slack", webhookUrl }`, `{ kind: "pagerduty", routingKey }`,
         * `{ kind: "webhook", url }` or `{ kind: "email", smarthost, from, to, authUsername?, authPassword? }`.
         * @default {}
         */
        receivers: z.record(receiverName, receiverSchema).default({}),
        /** Receivers of `severity="page"` alerts (wake someone up). @default [] */
        page: z.array(receiverName).default([]),
        /** Receivers of `severity="ticket"` alerts (work hours). @default [] */
        ticket: z.array(receiverName).default([]),
        /**
         * Receiver of the Watchdog alert, which always fires while Prometheus, its rules and
         * Alertmanager work: point it at a dead man's switch service that alerts when it stops.
         * Unset: the Watchdog is dropped (null receiver).
         */
        watchdogReceiver: receiverName.optional(),
        /** How long Alertmanager waits to group a new alert with others before the first notification. @default 30 */
        groupWaitSeconds: z.number().int().min(0).max(3600).default(30),
        /** How long before notifying about alerts added to a group already notified. @default 300 */
        groupIntervalSeconds: z.number().int().min(1).max(86400).default(300),
        /** How long before a still-firing group is notified again. @default 14400 (4 hours) */
        repeatIntervalSeconds: z.number().int().min(60).max(7 * 86400).default(4 * 3600),
    })
    .superRefine((value, ctx) => {
        const names = new Set(Object.keys(value.receivers));
        const check = (field: "page" | "ticket" | "watchdogReceiver", name: string, index?: number) => {
            if (!names.has(name)) {
                ctx.addIssue({
                    code: "custom",
                    path: index === undefined ? [field] : [field, index],
                    message: `names receiver ${JSON.stringify(name)}, which apfa:alerting.receivers does not define` +
                        (names.size > 0 ? ` (defined: ${[...names].join(", ")})` : ""),
                });
            }
        };
        value.page.forEach((name, i) => check("page", name, i));
        value.ticket.forEach((name, i) => check("ticket", name, i));
        if (value.watchdogReceiver !== undefined) {
            check("watchdogReceiver", value.watchdogReceiver);
        }
        for (const [name, receiver] of Object.entries(value.receivers)) {
            if (receiver.kind === "email" && (receiver.authUsername === undefined) !== (receiver.authPassword === undefined)) {
                ctx.addIssue({
                    code: "custom",
                    path: ["receivers", name, receiver.authUsername === undefined ? "authUsername" : "authPassword"],
                    message: "authUsername and authPassword go together (both for SMTP AUTH, or neither)",
                });
            }
        }
    });

export type AlertingSettingsInput = z.output<typeof alertingSchema>;

/** A credential of the typed config: always a Pulumi secret. */
type Secret = pulumi.Output<string>;

export type ReceiverConfig =
    | { readonly kind: "slack"; readonly webhookUrl: Secret; readonly channel?: string }
    | { readonly kind: "pagerduty"; readonly routingKey: Secret }
    | { readonly kind: "webhook"; readonly url: Secret }
    | {
          readonly kind: "email";
          readonly smarthost: string;
          readonly from: string;
          readonly to: readonly string[];
          readonly authUsername?: string;
          readonly authPassword?: Secret;
      };

/** A receiver's one credential (its field in the config and its secret value), if it has one. */
export function receiverCredential(r: ReceiverConfig): { readonly field: string; readonly value: Secret } | undefined {
    switch (r.kind) {
        case "slack":
            return { field: "webhookUrl", value: r.webhookUrl };
        case "pagerduty":
            return { field: "routingKey", value: r.routingKey };
        case "webhook":
            return { field: "url", value: r.url };
        case "email":
            return r.authPassword !== undefined ? { field: "authPassword", value: r.authPassword } : undefined;
    }
}

/** The typed `apfa:alerting`: the credentials as `pulumi.secret` Outputs, everything else plain. */
export interface AlertingConfig {
    readonly receivers: Readonly<Record<string, ReceiverConfig>>;
    readonly page: readonly string[];
    readonly ticket: readonly string[];
    readonly watchdogReceiver?: string;
    readonly groupWaitSeconds: number;
    readonly groupIntervalSeconds: number;
    readonly repeatIntervalSeconds: number;
}

/** The parsed key with every credential wrapped by `secret` (pulumi.secret in the program). */
export function toAlertingConfig(parsed: AlertingSettingsInput, secret: (value: string) => Secret): AlertingConfig {
    const receivers: Record<string, ReceiverConfig> = {};
    for (const [name, r] of Object.entries(parsed.receivers)) {
        switch (r.kind) {
            case "slack":
                receivers[name] = { kind: "slack", webhookUrl: secret(r.webhookUrl), ...(r.channel !== undefined ? { channel: r.channel } : {}) };
                break;
            case "pagerduty":
                receivers[name] = { kind: "pagerduty", routingKey: secret(r.routingKey) };
                break;
            case "webhook":
                receivers[name] = { kind: "webhook", url: secret(r.url) };
                break;
            case "email":
                receivers[name] = {
                    kind: "email",
                    smarthost: r.smarthost,
                    from: r.from,
                    to: [...r.to],
                    ...(r.authUsername !== undefined ? { authUsername: r.authUsername } : {}),
                    ...(r.authPassword !== undefined ? { authPassword: secret(r.authPassword) } : {}),
                };
                break;
        }
    }
    return {
        receivers,
        page: parsed.page,
        ticket: parsed.ticket,
        ...(parsed.watchdogReceiver !== undefined ? { watchdogReceiver: parsed.watchdogReceiver } : {}),
        groupWaitSeconds: parsed.groupWaitSeconds,
        groupIntervalSeconds: parsed.groupIntervalSeconds,
        repeatIntervalSeconds: parsed.repeatIntervalSeconds,
    };
}
