/**
 * The shared monitoring component: Alertmanager, Prometheus and Grafana with the same generated
 * files on every target.
 *
 * It never asks which cloud it is on. It renders its files from the typed settings and the slots'
 * discovery (pure functions in this folder), then asks the target to run three auxiliary services
 * through `ApfaCluster.runService`: Alertmanager (config, credentials as secret files, a data volume
 * for silences, egress to its receivers' ports), Prometheus (config + rules, data volume, read access to the
 * platform's discovery API, alerts to Alertmanager) and Grafana (provisioned datasources —
 * Prometheus and Alertmanager — and dashboards, admin password as a secret). Alertmanager is placed
 * first: the others are given its URL (and on Kubernetes may only reach services placed before them). Each target places them its own way (Docker containers, ECS services, Deployments).
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

import type { ApfaCluster, AuxService, ScrapeDiscovery } from "../contract";
import type { AlertingConfig, AppSettings, MonitoringSettings, Slot } from "../config";
import { SLOTS, receiverCredential } from "../config";
import { PROMETHEUS_FILE_PATHS, grafanaEnvironment, grafanaStaticFiles, prometheusFiles } from "./artifacts";
import { GRAFANA_PATHS, GRAFANA_PORT, datasourcesYml } from "./grafana";
import {
    ALERTMANAGER_GOSSIP_PORT,
    ALERTMANAGER_PATHS,
    ALERTMANAGER_PORT,
    alertmanagerArgs,
    alertmanagerPeerArgs,
    alertmanagerYml,
    credentialFiles,
    hasReceivers,
    receiverPorts,
} from "./alertmanager";
import { ALERTMANAGER_IMAGE, GRAFANA_IMAGE, PROMETHEUS_IMAGE, throughMirror } from "./images";
import { PROMETHEUS_PATHS, PROMETHEUS_PORT, prometheusArgs } from "./prometheus";

export { monitoringArtifacts, type ArtifactsInput, type MonitoringArtifacts } from "./artifacts";
export { ALERTMANAGER_IMAGE, ALERTMANAGER_VERSION, GRAFANA_IMAGE, PROMETHEUS_IMAGE, PROMETHEUS_VERSION, throughMirror } from "./images";

export interface MonitoringArgs {
    /** The target to place Prometheus and Grafana on. */
    readonly cluster: ApfaCluster;
    readonly app: AppSettings;
    readonly settings: MonitoringSettings;
    /** Alertmanager's receivers and routing (`apfa:alerting`); credentials are secret Outputs. */
    readonly alerting: AlertingConfig;
    /** Grafana admin password from config; a random one is generated when absent. */
    readonly adminPassword?: pulumi.Output<string>;
    /**
     * Labels on every series and alert leaving Prometheus.
     * @default { project: <Pulumi project>, stack: <Pulumi stack> }
     */
    readonly externalLabels?: Readonly<Record<string, string>>;
}

/** UIDs the official images run as: `nobody` in prom/prometheus and prom/alertmanager, `grafana` in grafana/grafana. */
const PROMETHEUS_UID = 65534;
const ALERTMANAGER_UID = 65534;
const GRAFANA_UID = 472;

/** Prometheus with ECS discovery and a TSDB wants about 1 vCPU / 2 GiB; Grafana with SQLite far less. */
const PROMETHEUS_RESOURCES = { cpu: 1, memoryMiB: 2048 } as const;
const GRAFANA_RESOURCES = { cpu: 0.5, memoryMiB: 1024 } as const;
/** Alertmanager for one stack's alerts needs very little. */
const ALERTMANAGER_RESOURCES = { cpu: 0.25, memoryMiB: 512 } as const;
/** Alertmanager's silences and notification log: kilobytes; 1 GiB is the smallest volume anywhere. */
const ALERTMANAGER_DATA_GIB = 1;
/**
 * Alertmanager replicas where the platform can run a peer group (Kubernetes): one node or pod can
 * go (a node upgrade, an eviction) without alerts going unsent or silences being lost.
 */
const ALERTMANAGER_REPLICAS = 2;
/** Grafana's SQLite database (users, sessions, UI-made dashboards). */
const GRAFANA_DATA_GIB = 5;

export class Monitoring extends pulumi.ComponentResource {
    /** Where an operator opens Grafana (never public by default). */
    readonly grafanaUrl: pulumi.Output<string>;
    /** Where an operator opens Prometheus (never public by default). */
    readonly prometheusUrl: pulumi.Output<string>;
    /** Where an operator reaches Alertmanager (UI, `amtool --alertmanager.url`; never public by default). */
    readonly alertmanagerUrl: pulumi.Output<string>;
    /** Grafana's admin password (user `admin`), a secret. */
    readonly adminPassword: pulumi.Output<string>;
    /** The two services as the target placed them. */
    readonly alertmanager: AuxService;
    readonly prometheus: AuxService;
    readonly grafana: AuxService;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("apfa:monitoring:Monitoring", name, {}, opts);

        const externalLabels = args.externalLabels ?? { project: pulumi.getProject(), stack: pulumi.getStack() };

        if (!hasReceivers(args.alerting)) {
            void pulumi.log.warn(
                "apfa:alerting names no page or ticket receiver: alerts reach Alertmanager but go nowhere (null receiver). " +
                    "Configure receivers (README, Alerting) so they reach a person.",
                this,
            );
        }
        // Credentials reach Alertmanager as secret files: it reads them through its *_file fields and
        // cannot take them from the environment, and the generated alertmanager.yml stays plain.
        const secretFiles: Record<string, pulumi.Output<string>> = {};
        for (const c of credentialFiles(args.alerting)) {
            const credential = receiverCredential(args.alerting.receivers[c.receiver]);
            if (credential !== undefined) {
                secretFiles[c.path] = pulumi.secret(credential.value);
            }
        }
        this.alertmanager = args.cluster.runService(
            {
                name: "alertmanager",
                image: throughMirror(ALERTMANAGER_IMAGE, args.settings.imageRegistry),
                args: alertmanagerArgs(),
                port: ALERTMANAGER_PORT,
                healthPath: "/-/healthy",
                readyPath: "/-/ready",
                files: { [ALERTMANAGER_PATHS.configFile]: alertmanagerYml(args.alerting) },
                ...(Object.keys(secretFiles).length > 0 ? { secretFiles } : {}),
                dataVolume: { mountPath: ALERTMANAGER_PATHS.dataDir, sizeGiB: ALERTMANAGER_DATA_GIB },
                egressPorts: receiverPorts(args.alerting),
                resources: ALERTMANAGER_RESOURCES,
                runAsUser: ALERTMANAGER_UID,
                operatorPort: ALERTMANAGER_PORT,
                peers: {
                    replicas: ALERTMANAGER_REPLICAS,
                    port: ALERTMANAGER_GOSSIP_PORT,
                    args: (peersHost, ownAddress) => alertmanagerPeerArgs(peersHost, ownAddress),
                },
            },
            this,
        );

        // Discovery may carry values known only once the target exists (an ECS cluster's ARN).
        const replicas = this.alertmanager.replicas;
        // The target creates the managed store when config asks for one (and the config rules
        // refuse the flag where a target has none).
        const store = args.cluster.metricsStore;
        const prometheusConfig = pulumi
            .all([slotDiscovery(args.cluster), this.alertmanager.internalUrl, replicas?.dnsName, store?.remoteWriteUrl])
            .apply(([discovery, alertmanagerUrl, replicasDns, remoteWriteUrl]) =>
                prometheusFiles({
                    settings: args.settings,
                    app: args.app,
                    discovery,
                    externalLabels,
                    alertmanagerUrl,
                    ...(replicas && replicasDns !== undefined ? { alertmanagerReplicas: { dnsName: replicasDns, port: replicas.port } } : {}),
                    ...(store && remoteWriteUrl !== undefined ? { remoteWrite: { url: remoteWriteUrl, sigv4Region: store.auth.region } } : {}),
                }),
            );

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
                ...(store ? { metricsStoreAccess: "write" as const } : {}),
                operatorPort: PROMETHEUS_PORT,
            },
            this,
        );

        const files: Record<string, pulumi.Input<string>> = {
            // The datasource URL is only known once the target has placed Prometheus.
            [GRAFANA_PATHS.datasources]: pulumi
                .all([this.prometheus.internalUrl, this.alertmanager.internalUrl, store?.queryUrl])
                .apply(([prometheusUrl, alertmanagerUrl, queryUrl]) =>
                    datasourcesYml(prometheusUrl, args.settings, alertmanagerUrl, store && queryUrl !== undefined ? { queryUrl, sigv4Region: store.auth.region } : undefined),
                ),
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
                env: { ...grafanaEnvironment(args.settings), ...(store ? { GF_AUTH_SIGV4_AUTH_ENABLED: "true" } : {}) },
                secretEnv: { GF_SECURITY_ADMIN_PASSWORD: this.adminPassword },
                resources: GRAFANA_RESOURCES,
                runAsUser: GRAFANA_UID,
                operatorPort: GRAFANA_PORT,
                ...(store ? { metricsStoreAccess: "query" as const } : {}),
            },
            this,
        );

        this.grafanaUrl = this.grafana.operatorUrl;
        this.prometheusUrl = this.prometheus.operatorUrl;
        this.alertmanagerUrl = this.alertmanager.operatorUrl;
        this.registerOutputs({
            grafanaUrl: this.grafanaUrl,
            prometheusUrl: this.prometheusUrl,
            alertmanagerUrl: this.alertmanagerUrl,
            adminPassword: this.adminPassword,
        });
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
