/**
 * Grafana provisioning (datasource, dashboard provider) and its settings, as pure functions.
 *
 * Grafana reads its settings from GF_<SECTION>_<KEY> environment variables; the admin password is
 * the only secret and goes through the target's secret store (AuxServiceSpec.secretEnv).
 */
import type { MonitoringSettings } from "../config";
import { PROMETHEUS_DATASOURCE_UID } from "./dashboards";
import { PROMETHEUS_VERSION } from "./images";
import { renderYaml } from "./prometheus";

export const GRAFANA_PORT = 3000;
/** The admin login; its password comes from config or a generated RandomPassword. */
export const GRAFANA_ADMIN_USER = "admin";

/** Where the files live in the Grafana container. */
export const GRAFANA_PATHS = {
    datasources: "/etc/grafana/provisioning/datasources/apfa.yaml",
    dashboardProviders: "/etc/grafana/provisioning/dashboards/apfa.yaml",
    /** Outside the data volume (/var/lib/grafana), so the volume never hides a newer file. */
    dashboardsDir: "/etc/grafana/dashboards/apfa",
    dataDir: "/var/lib/grafana",
} as const;

/**
 * Grafana expands $VAR and ${VAR} in provisioning files (values only); a literal `$` must be
 * written `$$`.
 */
export function escapeProvisioningValue(value: string): string {
    return value.replace(/\$/g, "$$$$");
}

/** UID of the provisioned datasource of the managed metrics store (`apfa:monitoring.managedPrometheus`). */
export const MANAGED_PROMETHEUS_DATASOURCE_UID = "apfa-managed-prometheus";

/** UID of the provisioned Alertmanager datasource. */
export const ALERTMANAGER_DATASOURCE_UID = "apfa-alertmanager";

/**
 * datasources provisioning: the one Prometheus (fixed uid, not editable in the UI) and, when given,
 * the stack's Alertmanager, where operators see the alerts and silence them (Alerting → Silences,
 * choose the Alertmanager source).
 */
export function datasourcesYml(
    prometheusUrl: string,
    settings: Pick<MonitoringSettings, "scrapeIntervalSeconds">,
    alertmanagerUrl?: string,
    /** The managed store's query root and region: a second Prometheus datasource signed with SigV4. */
    managed?: { readonly queryUrl: string; readonly sigv4Region: string },
): string {
    return renderYaml(
        {
            apiVersion: 1,
            // Datasources removed from this file are removed from Grafana too.
            prune: true,
            datasources: [
                {
                    name: "Prometheus",
                    type: "prometheus",
                    uid: PROMETHEUS_DATASOURCE_UID,
                    access: "proxy",
                    url: escapeProvisioningValue(prometheusUrl),
                    isDefault: true,
                    editable: false,
                    // Bump when the fields change, so Grafana applies the update.
                    version: 1,
                    jsonData: {
                        httpMethod: "POST",
                        // Lets $__rate_interval span at least 4 scrapes.
                        timeInterval: `${settings.scrapeIntervalSeconds}s`,
                        prometheusType: "Prometheus",
                        prometheusVersion: PROMETHEUS_VERSION,
                    },
                },
                ...(managed !== undefined
                    ? [
                          {
                              name: "Managed Prometheus (history)",
                              // The core Prometheus type with SigV4 (enabled by GF_AUTH_SIGV4_AUTH_ENABLED):
                              // Grafana 12 still supports it (deprecated in favour of the
                              // grafana-amazonprometheus-datasource plugin, which Grafana 13 migrates to
                              // and which would have to be downloaded: Grafana's plugin installs are off here).
                              type: "prometheus",
                              uid: MANAGED_PROMETHEUS_DATASOURCE_UID,
                              access: "proxy",
                              url: escapeProvisioningValue(managed.queryUrl),
                              editable: false,
                              version: 1,
                              jsonData: {
                                  httpMethod: "POST",
                                  timeInterval: `${settings.scrapeIntervalSeconds}s`,
                                  sigV4Auth: true,
                                  // The AWS SDK's default chain: on ECS, Grafana's task role (query actions on this workspace only).
                                  sigV4AuthType: "default",
                                  sigV4Region: managed.sigv4Region,
                              },
                          },
                      ]
                    : []),
                ...(alertmanagerUrl !== undefined
                    ? [
                          {
                              name: "Alertmanager",
                              type: "alertmanager",
                              uid: ALERTMANAGER_DATASOURCE_UID,
                              access: "proxy",
                              url: escapeProvisioningValue(alertmanagerUrl),
                              editable: false,
                              version: 1,
                              jsonData: {
                                  implementation: "prometheus",
                                  // Grafana shows this Alertmanager's alerts; it does not send its own alerts there.
                                  handleGrafanaManagedAlerts: false,
                              },
                          },
                      ]
                    : []),
            ],
        },
        "Generated by apfa-infra (src/monitoring/grafana.ts).",
    );
}

/** dashboards provisioning: load every JSON file of the APFA dashboards directory into folder "APFA". */
export function dashboardsProviderYml(): string {
    return renderYaml(
        {
            apiVersion: 1,
            providers: [
                {
                    name: "apfa",
                    orgId: 1,
                    folder: "APFA",
                    folderUid: "apfa",
                    type: "file",
                    // Provisioned dashboards are code: edits in the UI cannot be saved over them.
                    disableDeletion: true,
                    allowUiUpdates: false,
                    updateIntervalSeconds: 60,
                    options: { path: GRAFANA_PATHS.dashboardsDir, foldersFromFilesStructure: false },
                },
            ],
        },
        "Generated by apfa-infra (src/monitoring/grafana.ts).",
    );
}

/**
 * Grafana's settings (grafana.ini equivalents) as environment. The admin password is not here:
 * it is GF_SECURITY_ADMIN_PASSWORD in the secret environment. Note that Grafana applies the admin
 * user/password only when it creates its database; later changes need `grafana cli admin reset-admin-password`.
 */
export function grafanaEnv(homeDashboardFile: string): Record<string, string> {
    return {
        GF_SECURITY_ADMIN_USER: GRAFANA_ADMIN_USER,
        GF_AUTH_ANONYMOUS_ENABLED: "false",
        GF_USERS_ALLOW_SIGN_UP: "false",
        GF_USERS_ALLOW_ORG_CREATE: "false",
        GF_SECURITY_DISABLE_GRAVATAR: "true",
        GF_SECURITY_COOKIE_SAMESITE: "strict",
        GF_ANALYTICS_REPORTING_ENABLED: "false",
        // Grafana 12 installs some plugins from grafana.com at start; its egress is closed (and
        // pinned dashboards need no plugin), so it must not try.
        GF_PLUGINS_PREINSTALL_DISABLED: "true",
        GF_ANALYTICS_CHECK_FOR_UPDATES: "false",
        GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: "false",
        GF_NEWS_NEWS_FEED_ENABLED: "false",
        GF_PATHS_PROVISIONING: "/etc/grafana/provisioning",
        GF_PATHS_DATA: GRAFANA_PATHS.dataDir,
        GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH: homeDashboardFile,
        GF_LOG_MODE: "console",
    };
}
