/** GCP rules over the types this program creates (GKE, its network, Cloud SQL, firewalls). */
import * as gcp from "@pulumi/gcp";
import { validateResourceOfType } from "@pulumi/policy";

import { at, isUnknown, list, plain, record, resourceRule } from "./rule";

export const gkePrivateNodes = resourceRule(
    {
        name: "gke-private-nodes",
        area: "gcp",
        enforcementLevel: "mandatory",
        description: "GKE nodes have no public IPs (private nodes); they reach the internet through Cloud NAT.",
    },
    [
        validateResourceOfType(gcp.container.Cluster, (cluster, _args, report) => {
            const c = plain(cluster);
            const flag = at(c, "privateClusterConfig.enablePrivateNodes") ?? at(c, "defaultNodePoolConfig.nodeConfigDefaults.enablePrivateNodes");
            if (flag !== true && !isUnknown(flag)) {
                report("privateClusterConfig.enablePrivateNodes is not true: nodes get public IPs");
            }
        }),
        validateResourceOfType(gcp.container.NodePool, (pool, _args, report) => {
            if (at(pool, "networkConfig.enablePrivateNodes") === false) {
                report("networkConfig.enablePrivateNodes is false for this pool");
            }
        }),
    ],
);

export const gkeWorkloadIdentity = resourceRule(
    {
        name: "gke-workload-identity",
        area: "gcp",
        enforcementLevel: "mandatory",
        description: "GKE has workload identity on and nodes hide the metadata server (GKE_METADATA): pods never see the node's service-account token.",
    },
    [
        validateResourceOfType(gcp.container.Cluster, (cluster, _args, report) => {
            if (typeof at(cluster, "workloadIdentityConfig.workloadPool") !== "string") {
                report("workloadIdentityConfig.workloadPool is not set");
            }
            const mode = at(cluster, "nodeConfig.workloadMetadataConfig.mode");
            if (at(cluster, "nodeConfig") !== undefined && mode !== "GKE_METADATA") {
                report("nodeConfig.workloadMetadataConfig.mode is not GKE_METADATA");
            }
        }),
        validateResourceOfType(gcp.container.NodePool, (pool, _args, report) => {
            if (at(pool, "nodeConfig.workloadMetadataConfig.mode") !== "GKE_METADATA") {
                report("nodeConfig.workloadMetadataConfig.mode is not GKE_METADATA");
            }
        }),
    ],
);

export const gkeNodeHardening = resourceRule(
    {
        name: "gke-node-hardening",
        area: "gcp",
        enforcementLevel: "advisory",
        description: "GKE nodes use shielded secure boot, a dedicated service account, auto-repair/upgrade, and legacy ABAC stays off.",
    },
    [
        validateResourceOfType(gcp.container.Cluster, (cluster, _args, report) => {
            if (plain(cluster).enableLegacyAbac === true) {
                report("enableLegacyAbac is true");
            }
        }),
        validateResourceOfType(gcp.container.NodePool, (pool, _args, report) => {
            const p = plain(pool);
            if (at(p, "nodeConfig.shieldedInstanceConfig.enableSecureBoot") !== true) {
                report("nodeConfig.shieldedInstanceConfig.enableSecureBoot is not true");
            }
            const sa = record(p.nodeConfig).serviceAccount;
            if (sa === undefined) {
                report("nodeConfig.serviceAccount is not set: nodes run as the Compute Engine default service account (Editor)");
            }
            if (at(p, "management.autoRepair") === false || at(p, "management.autoUpgrade") === false) {
                report("management.autoRepair/autoUpgrade is off");
            }
        }),
    ],
);

export const gcpSqlPrivate = resourceRule(
    {
        name: "gcp-sql-private",
        area: "gcp",
        enforcementLevel: "mandatory",
        description: "Cloud SQL instances have no public IPv4 (private IP only) and require TLS from clients.",
    },
    validateResourceOfType(gcp.sql.DatabaseInstance, (instance, _args, report) => {
        const ip = record(at(instance, "settings.ipConfiguration"));
        if (isUnknown(ip.ipv4Enabled)) {
            return;
        }
        // The provider's default is a public IP: only an explicit false turns it off.
        if (ip.ipv4Enabled !== false) {
            report("settings.ipConfiguration.ipv4Enabled is not false: the instance gets a public IP");
        }
        for (const network of list(ip.authorizedNetworks).map(record)) {
            if (network.value === "0.0.0.0/0") {
                report("an authorized network admits 0.0.0.0/0");
            }
        }
        const ssl = ip.sslMode;
        if (ssl !== undefined && ssl !== "ENCRYPTED_ONLY" && ssl !== "TRUSTED_CLIENT_CERTIFICATE_REQUIRED") {
            report(`settings.ipConfiguration.sslMode ${String(ssl)} accepts unencrypted connections`);
        }
    }),
);

export const gcpFirewallEntryPorts = resourceRule(
    {
        name: "gcp-firewall-entry-ports",
        area: "gcp",
        enforcementLevel: "mandatory",
        description: "Firewall rules admit the internet (0.0.0.0/0) only on tcp 80/443: the global load balancer is the only public entry.",
    },
    validateResourceOfType(gcp.compute.Firewall, (rule, _args, report) => {
        const r = plain(rule);
        if ((r.direction ?? "INGRESS") !== "INGRESS" || !list(r.sourceRanges).includes("0.0.0.0/0")) {
            return;
        }
        for (const allow of list(r.allows).map(record)) {
            const ports = list(allow.ports).map(String);
            const ok = allow.protocol === "tcp" && ports.length > 0 && ports.every((p) => p === "80" || p === "443");
            if (!ok) {
                report(`allows ${String(allow.protocol)} ${ports.join(",") || "(all ports)"} from 0.0.0.0/0`);
            }
        }
    }),
);

export const gkeNetworkPolicy = resourceRule(
    {
        name: "gke-network-policy-engine",
        area: "gcp",
        enforcementLevel: "mandatory",
        description: "GKE enforces NetworkPolicy (Dataplane V2 or the network policy add-on); otherwise the program's NetworkPolicies are silently ignored.",
    },
    validateResourceOfType(gcp.container.Cluster, (cluster, _args, report) => {
        const c = plain(cluster);
        if (c.datapathProvider === "ADVANCED_DATAPATH" || at(c, "networkPolicy.enabled") === true || isUnknown(c.datapathProvider)) {
            return;
        }
        report("neither datapathProvider ADVANCED_DATAPATH nor networkPolicy.enabled: NetworkPolicy objects would have no effect");
    }),
);

export const gcpRules = [gkePrivateNodes, gkeWorkloadIdentity, gkeNodeHardening, gcpSqlPrivate, gcpFirewallEntryPorts, gkeNetworkPolicy];
