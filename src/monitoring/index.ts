/**
 * The shared monitoring component: Prometheus and Grafana with the same generated files on every
 * target.
 *
 * It never asks which cloud it is on. It renders its files from the typed settings and the slots'
 * discovery (pure functions in this folder), then asks the target to run two auxiliary services
 * through `ApfaCluster.runService`: Prometheus (config + rules, data volume, read access to the
 * platform's discovery API) and Grafana (provisioned datasource and dashboards, admin password as
 * a secret). Each target places them its own way (Docker containers, ECS services, Deployments).
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

import type { ApfaCluster, AuxService, ScrapeDiscovery } from "../contract";
import type { AppSettings, MonitoringSettings, Slot } from "../config";
import { SLOTS } from "../config";
import { PROMETHEUS_FILE_PATHS, grafanaEnvironment, grafanaStaticFiles, prometheusFiles } from "./artifacts";
import { GRAFANA_PATHS, GRAFANA_PORT, datasourcesYml } from "./grafana";
import { GRAFANA_IMAGE, PROMETHEUS_IMAGE, throughMirror } from "./images";
import { PROMETHEUS_PATHS, PROMETHEUS_PORT, prometheusArgs } from "./prometheus";

export { monitoringArtifacts, type ArtifactsInput, type MonitoringArtifacts } from "./artifacts";
export { GRAFANA_IMAGE, PROMETHEUS_IMAGE, PROMETHEUS_VERSION, throughMirror } from "./images";

export interface MonitoringArgs {
    /** The target to place Prometheus and Grafana on. */
    readonly cluster: ApfaCluster;
    readonly app: AppSettings;
    readonly settings: MonitoringSettings;
    /** Grafana admin password from config; a random one is generated when absent. */
    readonly adminPassword?: pulumi.Output<string>;
    /**
     * Labels on every series and alert leaving Prometheus.
     * @default { project: <Pulumi project>, stack: <Pulumi stack> }
     */
    readonly externalLabels?: Readonly<Record<string, string>>;
}

/** UIDs the official images run as: `nobody` in prom/prometheus, `grafana` in grafana/grafana. */
const PROMETHEUS_UID = 65534;
const GRAFANA_UID = 472;

/** Prometheus with ECS discovery and a TSDB wants about 1 vCPU / 2 GiB; Grafana with SQLite far less. */
const PROMETHEUS_RESOURCES = { cpu: 1, memoryMiB: 2048 } as const;
const GRAFANA_RESOURCES = { cpu: 0.5, memoryMiB: 1024 } as const;
/** Grafana's SQLite database (users, sessions, UI-made dashboards). */
const GRAFANA_DATA_GIB = 5;

export class Monitoring extends pulumi.ComponentResource {
    /** Where an operator opens Grafana (never public by default). */
    readonly grafanaUrl: pulumi.Output<string>;
    /** Where an operator opens Prometheus (never public by default). */
    readonly prometheusUrl: pulumi.Output<string>;
    /** Grafana's admin password (user `admin`), a secret. */
    readonly adminPassword: pulumi.Output<string>;
    /** The two services as the target placed them. */
    readonly prometheus: AuxService;
    readonly grafana: AuxService;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("apfa:monitoring:Monitoring", name, {}, opts);

        const externalLabels = args.externalLabels ?? { project: pulumi.getProject(), stack: pulumi.getStack() };
        // Discovery may carry values known only once the target exists (an ECS cluster's ARN).
        const prometheusConfig = pulumi
            .output(slotDiscovery(args.cluster))
            .apply((discovery) => prometheusFiles({ settings: args.settings, app: args.app, discovery, externalLabels }));

        this.adminPassword = pulumi.secret(args.adminPassword ?? this.generatedPassword(name));

        this.prometheus = args.cluster.runService(
            {
                name: "prometheus",
                image: throughMirror(PROMETHEUS_IMAGE, args.settings.imageRegistry),
                args: prometheusArgs(args.settings),
                port: PROMETHEUS_PORT,
                // Alive while it replays its WAL after a restart; ready (and queried) only after.
                healthPath: "/-/healthy",
                readyPath: "/-/ready",
                files: {
                    [PROMETHEUS_FILE_PATHS.config]: prometheusConfig.apply((f) => f[PROMETHEUS_FILE_PATHS.config]),
                    [PROMETHEUS_FILE_PATHS.rules]: prometheusConfig.apply((f) => f[PROMETHEUS_FILE_PATHS.rules]),
                },
                dataVolume: { mountPath: PROMETHEUS_PATHS.dataDir, sizeGiB: args.settings.storageGiB },
                resources: PROMETHEUS_RESOURCES,
                runAsUser: PROMETHEUS_UID,
                discoversTargets: true,
                operatorPort: PROMETHEUS_PORT,
            },
            this,
        );

        const files: Record<string, pulumi.Input<string>> = {
            // The datasource URL is only known once the target has placed Prometheus.
            [GRAFANA_PATHS.datasources]: this.prometheus.internalUrl.apply((url) => datasourcesYml(url, args.settings)),
            ...grafanaStaticFiles(args.settings),
        };

        this.grafana = args.cluster.runService(
            {
                name: "grafana",
                image: throughMirror(GRAFANA_IMAGE, args.settings.imageRegistry),
                port: GRAFANA_PORT,
                healthPath: "/api/health",
                files,
                dataVolume: { mountPath: GRAFANA_PATHS.dataDir, sizeGiB: GRAFANA_DATA_GIB },
                env: grafanaEnvironment(args.settings),
                secretEnv: { GF_SECURITY_ADMIN_PASSWORD: this.adminPassword },
                resources: GRAFANA_RESOURCES,
                runAsUser: GRAFANA_UID,
                operatorPort: GRAFANA_PORT,
            },
            this,
        );

        this.grafanaUrl = this.grafana.operatorUrl;
        this.prometheusUrl = this.prometheus.operatorUrl;
        this.registerOutputs({ grafanaUrl: this.grafanaUrl, prometheusUrl: this.prometheusUrl, adminPassword: this.adminPassword });
    }

    private generatedPassword(name: string): pulumi.Output<string> {
        // Letters and digits only: safe in env files, URLs and shells; 32 of them ≈ 190 bits.
        return new random.RandomPassword(`${name}-grafana-admin-password`, { length: 32, special: false }, { parent: this }).result;
    }
}

/** The discovery of each slot, from the target. */
function slotDiscovery(cluster: ApfaCluster): Record<Slot, ScrapeDiscovery> {
    return Object.fromEntries(SLOTS.map((slot) => [slot, cluster.slots[slot].discovery])) as Record<Slot, ScrapeDiscovery>;
}
