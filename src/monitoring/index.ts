/**
 * PLACEHOLDER (being replaced in this change by the shared monitoring component).
 */
import * as pulumi from "@pulumi/pulumi";

import type { ApfaCluster } from "../cluster";
import type { AppSettings, MonitoringSettings } from "../config";

export interface MonitoringArgs {
    /** The target to place Prometheus and Grafana on. */
    readonly cluster: ApfaCluster;
    readonly app: AppSettings;
    readonly settings: MonitoringSettings;
    /** Grafana admin password from config; a random one is generated when absent. */
    readonly adminPassword?: pulumi.Output<string>;
}

export class Monitoring extends pulumi.ComponentResource {
    readonly grafanaUrl: pulumi.Output<string>;
    readonly prometheusUrl: pulumi.Output<string>;
    readonly adminPassword: pulumi.Output<string>;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("apfa:monitoring:Monitoring", name, {}, opts);
        void args;
        this.grafanaUrl = pulumi.output("");
        this.prometheusUrl = pulumi.output("");
        this.adminPassword = pulumi.secret("");
        this.registerOutputs({ grafanaUrl: this.grafanaUrl, prometheusUrl: this.prometheusUrl, adminPassword: this.adminPassword });
    }
}
