/**
 * apfa-infra: APFA with Prometheus and Grafana on Docker, AWS, Azure or GCP, chosen by `apfa:cloud`.
 *
 * This file only wires the steps: validated config → the chosen target → monitoring → outputs.
 */
import * as pulumi from "@pulumi/pulumi";

import { createCluster } from "./cluster";
import { loadConfig } from "./config";
import { Monitoring } from "./monitoring";

const config = loadConfig();

const cluster = createCluster(config.prefix, config);

const monitoring = config.monitoring.enabled
    ? new Monitoring(`${config.prefix}-monitoring`, {
          cluster,
          app: config.app,
          settings: config.monitoring,
          alerting: config.alerting,
          adminPassword: config.grafanaAdminPassword,
      })
    : undefined;

/** Where users reach APFA. */
export const url = cluster.url;
/** Percent of traffic per slot, e.g. { blue: 90, green: 10 }. */
export const weights = cluster.weights;
/** The resource `release rollback` targets. */
export const trafficUrn = cluster.trafficUrn;
export const activeSlot = config.release.active;
export const cloud = config.cloud;
export const grafanaUrl = monitoring?.grafanaUrl;
export const prometheusUrl = monitoring?.prometheusUrl;
/** Where operators reach Alertmanager (its UI, `amtool --alertmanager.url=...`). */
export const alertmanagerUrl = monitoring?.alertmanagerUrl;
/** Grafana's admin password (secret: `pulumi stack output grafanaAdminPassword --show-secrets`). */
export const grafanaAdminPassword = monitoring?.adminPassword;
/**
 * Target-specific outputs (cluster and service names, target groups, kubeconfig, …). A plain object
 * of Outputs, so a secret field (a kubeconfig) stays secret without hiding its plain siblings.
 */
export const target: Readonly<Record<string, pulumi.Output<unknown>>> = cluster.extraOutputs;
/**
 * APFA's database (`apfa:database`): endpoints and names per target, never a credential (AWS: the
 * ARN of the RDS-managed secret that holds the password).
 */
export const database = cluster.database?.extraOutputs;
