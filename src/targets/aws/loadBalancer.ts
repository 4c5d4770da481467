/**
 * The internet-facing ALB with one target group per slot, and the ONE listener rule that carries
 * the blue/green weights: a weight change updates that rule in place and nothing else.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import type { AwsConfig, Slot } from "../../config";
import { SLOTS } from "../../config";
import type { TrafficWeights } from "../../bluegreen";
import type { Network } from "./network";
import type { AppSecurityGroups } from "./securityGroups";
import { ACCESS_LOG_PREFIX, type AccessLogs } from "./accessLogs";
import { awsTags } from "./tags";

/**
 * TLS policy of the HTTPS listeners: AWS's current recommendation (TLS 1.3 and 1.2 with hybrid
 * post-quantum key exchange, restricted to strong ciphers).
 */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09";

/** Priority of the weighted catch-all rule on the traffic listener. */
export const TRAFFIC_RULE_PRIORITY = 10;

/** Health-check timing of every target group: a healthy target in ~20 s, an unhealthy one out in ~30 s. */
export const TARGET_HEALTH_CHECK = { interval: 10, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 3 } as const;

/** The rule's forward action: both target groups with the release weights, no group stickiness. */
export function weightedForwardAction(weights: TrafficWeights, targetGroupArns: Readonly<Record<Slot, pulumi.Input<string>>>) {
    return {
        type: "forward",
        forward: {
            targetGroups: SLOTS.map((slot) => ({ arn: targetGroupArns[slot], weight: weights[slot] })),
            // Stickiness would pin clients to a slot and slow a rollback down; it stays off.
            stickiness: { enabled: false, duration: 1 },
        },
    };
}

/** A target group health check on `path` at the traffic port that wants a 200. */
export function targetHealthCheck(path: string) {
    return { enabled: true, path, port: "traffic-port", protocol: "HTTP", matcher: "200", ...TARGET_HEALTH_CHECK };
}

/**
 * The deploy-time warning for a public listener without TLS, or undefined when a certificate is
 * configured. Not an error: a stack without a domain (like the sample) has nothing to certify.
 */
export function plainHttpWarning(settings: { readonly certificateArn?: string; readonly domainName?: string }, region: string): string | undefined {
    if (settings.certificateArn) {
        return undefined;
    }
    const domain = settings.domainName ?? "your domain (set apfa:aws.domainName too)";
    return (
        "The public load balancer serves APFA over plain HTTP on port 80 (apfa:aws.certificateArn is not set): " +
        "requests and responses cross the internet unencrypted. " +
        `To serve HTTPS, issue or import an ACM certificate in ${region} for ${domain}, then run ` +
        "`pulumi config set --path 'apfa:aws.certificateArn' <certificate ARN>` and deploy again: " +
        "HTTPS is then served on 443 and port 80 redirects to it."
    );
}

export interface LoadBalancer {
    readonly alb: aws.lb.LoadBalancer;
    /** "https" with a certificate, else "http". */
    readonly scheme: "http" | "https";
    readonly httpListener: aws.lb.Listener;
    readonly httpsListener?: aws.lb.Listener;
    /** The listener users' requests are forwarded from (HTTPS with a certificate, else HTTP). */
    readonly trafficListener: aws.lb.Listener;
    readonly targetGroups: Readonly<Record<Slot, aws.lb.TargetGroup>>;
    /** The one resource that holds the weights. */
    readonly trafficRule: aws.lb.ListenerRule;
}

export function createLoadBalancer(
    name: string,
    config: AwsConfig,
    network: Network,
    groups: AppSecurityGroups,
    weights: TrafficWeights,
    accessLogs: AccessLogs,
    parent: pulumi.Resource,
): LoadBalancer {
    const settings = config.aws;
    const opts = { parent };
    const tags = (suffix: string, extra?: Record<string, string>) => awsTags(config, `${config.prefix}-${suffix}`, extra);

    const alb = new aws.lb.LoadBalancer(
        `${name}-alb`,
        {
            loadBalancerType: "application",
            internal: false,
            ipAddressType: "ipv4",
            subnets: network.publicSubnets.map((s) => s.id),
            securityGroups: [groups.alb.id],
            // Requests with malformed headers are dropped instead of reaching APFA.
            dropInvalidHeaderFields: true,
            // Idle connections close after 60 s; APFA's keep-alive (620 s) is longer, so the ALB,
            // not the app, closes them (else the ALB reuses a closed connection and answers 502).
            idleTimeout: 60,
            accessLogs: { bucket: accessLogs.bucket.id, enabled: true, prefix: ACCESS_LOG_PREFIX },
            // A production ALB (and with it the DNS name users' records point at) survives a stray destroy.
            enableDeletionProtection: config.production,
            tags: tags("alb"),
        },
        // An internet-facing ALB needs the VPC's internet gateway attached when it is created, and
        // ELB checks that it may write to the log bucket when logging is enabled.
        { parent, dependsOn: [...network.internetReady, accessLogs.policy] },
    );

    const targetGroups = {} as Record<Slot, aws.lb.TargetGroup>;
    for (const slot of SLOTS) {
        targetGroups[slot] = new aws.lb.TargetGroup(
            `${name}-${slot}`,
            {
                vpcId: network.vpc.id,
                targetType: "ip",
                protocol: "HTTP",
                protocolVersion: "HTTP1",
                port: config.app.port,
                deregistrationDelay: settings.deregistrationDelaySeconds,
                healthCheck: targetHealthCheck(config.app.healthPath),
                stickiness: { type: "lb_cookie", enabled: false },
                tags: tags(`${slot}-tg`, { slot }),
            },
            opts,
        );
    }

    const notFound = { type: "fixed-response", fixedResponse: { contentType: "text/plain", statusCode: "404", messageBody: "Not found" } };

    let httpsListener: aws.lb.Listener | undefined;
    let httpListener: aws.lb.Listener;
    if (settings.certificateArn) {
        httpsListener = new aws.lb.Listener(
            `${name}-https`,
            {
                loadBalancerArn: alb.arn,
                port: 443,
                protocol: "HTTPS",
                sslPolicy: TLS_POLICY,
                certificateArn: settings.certificateArn,
                defaultActions: [notFound],
                tags: tags("https"),
            },
            opts,
        );
        httpListener = new aws.lb.Listener(
            `${name}-http`,
            {
                loadBalancerArn: alb.arn,
                port: 80,
                protocol: "HTTP",
                defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
                tags: tags("http"),
            },
            opts,
        );
    } else {
        httpListener = new aws.lb.Listener(
            `${name}-http`,
            { loadBalancerArn: alb.arn, port: 80, protocol: "HTTP", defaultActions: [notFound], tags: tags("http") },
            opts,
        );
    }
    const trafficListener = httpsListener ?? httpListener;

    // The weights live here and only here. The listener's own default action is a fixed 404 that
    // this catch-all rule shadows, so a weight change is an in-place update of this one rule.
    const trafficRule = new aws.lb.ListenerRule(
        `${name}-traffic`,
        {
            listenerArn: trafficListener.arn,
            priority: TRAFFIC_RULE_PRIORITY,
            conditions: [{ pathPattern: { values: ["/*"] } }],
            actions: [weightedForwardAction(weights, { blue: targetGroups.blue.arn, green: targetGroups.green.arn })],
            tags: tags("traffic"),
        },
        opts,
    );

    return { alb, scheme: httpsListener ? "https" : "http", httpListener, httpsListener, trafficListener, targetGroups, trafficRule };
}
