/**
 * Every file the monitoring stack runs with, from one pure function, so the component, the tests
 * (promtool, a real Prometheus) and the offline synth all see the same bytes.
 */
import * as path from "node:path";

import type { AppSettings, MonitoringSettings, Slot } from "../config";
import { dashboards } from "./dashboards";
import { GRAFANA_PATHS, dashboardsProviderYml, datasourcesYml, grafanaEnv } from "./grafana";
import { PROMETHEUS_PATHS, prometheusYml, type SlotDiscovery } from "./prometheus";
import { rulesYml } from "./rules";

export interface ArtifactsInput {
    readonly settings: MonitoringSettings;
    readonly app: Pick<AppSettings, "metricsPath">;
    /** How each slot's replicas are discovered (from `ApfaCluster.slots[slot].discovery`). */
    readonly discovery: Readonly<Record<Slot, SlotDiscovery>>;
    /** Labels on every series and alert leaving this Prometheus. */
    readonly externalLabels?: Readonly<Record<string, string>>;
    /** Where Prometheus sends alerts (Alertmanager's internal URL). */
    readonly alertmanagerUrl?: string;
    /** Alertmanager's replicas when it runs as a peer group: Prometheus sends to each. */
    readonly alertmanagerReplicas?: { readonly dnsName: string; readonly port: number };
    /** The managed store Prometheus also writes to. */
    readonly remoteWrite?: { readonly url: string; readonly sigv4Region: string };
}

export interface MonitoringArtifacts {
    readonly prometheusYml: string;
    readonly rulesYml: string;
    readonly datasourcesYml: string;
    readonly dashboardsProviderYml: string;
    /** Dashboard JSON by file name (e.g. "apfa-overview.json"). */
    readonly dashboards: Readonly<Record<string, string>>;
}

/** Where the Prometheus files go in the Prometheus container. */
export const PROMETHEUS_FILE_PATHS = {
    config: PROMETHEUS_PATHS.configFile,
    rules: path.posix.join(path.posix.dirname(PROMETHEUS_PATHS.configFile), PROMETHEUS_PATHS.rulesFile),
} as const;

/** The Prometheus files, by absolute path in the Prometheus container. */
export function prometheusFiles(input: ArtifactsInput): Record<string, string> {
    return {
        [PROMETHEUS_FILE_PATHS.config]: prometheusYml(input),
        [PROMETHEUS_FILE_PATHS.rules]: rulesYml(input.settings),
    };
}

/** The dashboards as JSON text, by file name. */
export function dashboardFiles(settings: MonitoringSettings): Record<string, string> {
    return Object.fromEntries(Object.entries(dashboards(settings)).map(([file, d]) => [file, `${JSON.stringify(d, null, 2)}\n`]));
}

/** The Grafana files that do not depend on where Prometheus runs (provider + dashboards). */
export function grafanaStaticFiles(settings: MonitoringSettings): Record<string, string> {
    const files: Record<string, string> = { [GRAFANA_PATHS.dashboardProviders]: dashboardsProviderYml() };
    for (const [file, json] of Object.entries(dashboardFiles(settings))) {
        files[path.posix.join(GRAFANA_PATHS.dashboardsDir, file)] = json;
    }
    return files;
}

/** Grafana's plain environment (the admin password is secret environment, added by the component). */
export function grafanaEnvironment(settings: MonitoringSettings): Record<string, string> {
    const home = Object.keys(dashboardFiles(settings))[0];
    return grafanaEnv(path.posix.join(GRAFANA_PATHS.dashboardsDir, home));
}

/** Every generated artifact, as text. `prometheusUrl` is how Grafana reaches Prometheus. */
export function monitoringArtifacts(input: ArtifactsInput, prometheusUrl: string): MonitoringArtifacts {
    return {
        prometheusYml: prometheusYml(input),
        rulesYml: rulesYml(input.settings),
        datasourcesYml: datasourcesYml(prometheusUrl, input.settings, input.alertmanagerUrl),
        dashboardsProviderYml: dashboardsProviderYml(),
        dashboards: dashboardFiles(input.settings),
    };
}
