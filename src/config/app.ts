/**
 * The keys every target shares: the APFA container (`apfa:app`), its autoscaling (`apfa:scaling`)
 * and the monitoring (`apfa:monitoring`).
 */
import { z } from "zod";

import { envMap, flag, port, urlPath } from "./common";

/** The APFA container itself, the same on every target. */
export const appSchema = z
    .strictObject({
        /** Port the APFA container serves users on (the only port a load balancer forwards to). @default 8000 */
        port: port.default(8000),
        /**
         * Port the APFA container serves `metricsPath` on, reachable only by Prometheus (security
         * groups / NetworkPolicy; never a load-balancer target). A separate port rather than a path
         * block: path normalisation (`/%2e/metrics`, `/./metrics`) defeats path rules. @default 9100
         */
        metricsPort: port.default(9100),
        /** Path that returns 200 when a replica can take traffic. @default "/health" */
        healthPath: urlPath.default("/health"),
        /** Path of the Prometheus text exposition. @default "/metrics" */
        metricsPath: urlPath.default("/metrics"),
        /** vCPU per replica (Fargate task size, Kubernetes request, Docker limit). @default 0.5 */
        cpu: z.number().positive().max(16).default(0.5),
        /** Memory per replica in MiB. @default 1024 */
        memoryMiB: z.number().int().min(128).max(122880).default(1024),
        /** Extra environment for every APFA replica of both slots. @default {} */
        env: envMap.default({}),
    })
    .refine((app) => app.metricsPort !== app.port, { message: "must differ from apfa:app.port", path: ["metricsPort"] });

/** Replica autoscaling on the cloud targets (the dev stack runs a fixed count, see `docker`). */
export const scalingSchema = z
    .strictObject({
        /** @default 4 */
        minReplicas: z.number().int().min(1).max(100).default(4),
        /** @default 16 */
        maxReplicas: z.number().int().min(1).max(100).default(16),
        /** Average CPU utilisation the scaler aims for, in percent. @default 70 */
        targetCpuPercent: z.number().int().min(10).max(95).default(70),
        /** @default 60 */
        scaleOutCooldownSeconds: z.number().int().min(0).max(3600).default(60),
        /** @default 300 */
        scaleInCooldownSeconds: z.number().int().min(0).max(3600).default(300),
    })
    .refine((s) => s.minReplicas <= s.maxReplicas, {
        message: "minReplicas must be less than or equal to maxReplicas",
        path: ["minReplicas"],
    });

export const monitoringSchema = z.strictObject({
    /** Deploy Prometheus and Grafana. @default true */
    enabled: z.boolean().default(true),
    /**
     * A registry that mirrors Docker Hub, which the monitoring images are pulled through instead of
     * anonymous Docker Hub (rate limits, outages, one NAT address): e.g. an ECR pull-through cache
     * (`<account>.dkr.ecr.<region>.amazonaws.com/docker-hub`), an ACR cache rule's registry, or an
     * Artifact Registry remote repository (`<region>-docker.pkg.dev/<project>/<repository>`).
     * Unset: Docker Hub.
     */
    imageRegistry: z
        .string()
        .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?(\/[a-z0-9._-]+)*$/, "expected a registry host with an optional path, such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com/docker-hub")
        .optional(),
    /** @default 15 */
    scrapeIntervalSeconds: z.number().int().min(5).max(300).default(15),
    /** Prometheus TSDB retention. @default 15 */
    retentionDays: z.number().int().min(1).max(365).default(15),
    /** Size of Prometheus's data volume where the platform sizes volumes. @default 20 */
    storageGiB: z.number().int().min(1).max(16384).default(20),
    /** Availability objective of APFA in percent, for the SLO rules and the error-budget view. @default 99.9 */
    sloObjectivePercent: z.number().gt(50).lt(100).default(99.9),
    /** p95 latency above which the HighLatency alert fires, in seconds. @default 0.5 */
    latencyP95ThresholdSeconds: z.number().positive().max(60).default(0.5),
    /** Base URL of the runbook every alert links to. */
    runbookBaseUrl: z.url().default("https://github.com/apfa/apfa-infra/blob/main/docs/runbooks.md"),
    /**
     * Also remote-write every sample to the cloud's managed Prometheus, created by the program, and
     * add it to Grafana as a second datasource. aws only today: an Amazon Managed Service for
     * Prometheus workspace (150 days of history, whatever happens to the Prometheus task, whose own
     * volume lives only as long as the task). On AKS and GKE Prometheus keeps its data on a
     * persistent volume that outlives its pod. @default false
     */
    managedPrometheus: flag.default(false),
    /**
     * With `managedPrometheus`: write to this existing AMP workspace instead of creating one — e.g.
     * the primary region's, so one workspace (and each region's Grafana reading it) shows every
     * region's metrics (series carry their stack in `stack`). `pulumi stack output target` of the
     * stack that created it does not print it: take the id and region from the AMP console or
     * `aws amp list-workspaces`. That region's outage then hides the history, not the alerts (each
     * region keeps its own Prometheus and Alertmanager). Unset: the stack creates its own workspace.
     */
    managedPrometheusWorkspace: z
        .strictObject({
            region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "expected an AWS region such as us-east-1"),
            id: z.string().regex(/^ws-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, "expected an AMP workspace id such as ws-12345678-abcd-1234-abcd-123456789012"),
        })
        .optional(),
});

export type AppSettings = z.output<typeof appSchema>;
export type ScalingSettings = z.output<typeof scalingSchema>;
export type MonitoringSettings = z.output<typeof monitoringSchema>;
