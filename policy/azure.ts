/** Azure rules over the azure-native types this program creates (AKS, its network, PostgreSQL). */
import * as azure from "@pulumi/azure-native";
import { validateResourceOfType } from "@pulumi/policy";

import { at, isUnknown, known, list, plain, record, resourceRule } from "./rule";

export const aksLocalAccountsOff = resourceRule(
    {
        name: "aks-local-accounts-off",
        area: "azure",
        enforcementLevel: "mandatory",
        description: "AKS has local accounts disabled and Entra ID with Azure RBAC on: no shared admin kubeconfig that bypasses identity.",
    },
    validateResourceOfType(azure.containerservice.ManagedCluster, (cluster, _args, report) => {
        const c = plain(cluster);
        if (c.disableLocalAccounts !== true) {
            report("disableLocalAccounts is not true: `az aks get-credentials --admin` would hand out a static cluster-admin credential");
        }
        if (at(c, "aadProfile.managed") !== true || at(c, "aadProfile.enableAzureRBAC") !== true) {
            report("aadProfile is not managed Entra ID with enableAzureRBAC");
        }
    }),
);

export const aksWorkloadIdentity = resourceRule(
    {
        name: "aks-workload-identity",
        area: "azure",
        enforcementLevel: "mandatory",
        description: "AKS has the OIDC issuer and workload identity on, so pods get federated Entra tokens instead of stored secrets.",
    },
    validateResourceOfType(azure.containerservice.ManagedCluster, (cluster, _args, report) => {
        if (at(cluster, "oidcIssuerProfile.enabled") !== true || at(cluster, "securityProfile.workloadIdentity.enabled") !== true) {
            report("oidcIssuerProfile.enabled and securityProfile.workloadIdentity.enabled must both be true");
        }
    }),
);

export const aksNetworkPolicy = resourceRule(
    {
        name: "aks-network-policy-engine",
        area: "azure",
        enforcementLevel: "mandatory",
        description: "AKS runs a network policy engine (cilium, azure or calico); without one the program's NetworkPolicies are accepted and silently ignored.",
    },
    validateResourceOfType(azure.containerservice.ManagedCluster, (cluster, _args, report) => {
        const engine = at(cluster, "networkProfile.networkPolicy");
        if (!isUnknown(engine) && (typeof engine !== "string" || engine === "none")) {
            report("networkProfile.networkPolicy is not set: NetworkPolicy objects would have no effect");
        }
    }),
);

export const azurePostgresPrivate = resourceRule(
    {
        name: "azure-postgres-private",
        area: "azure",
        enforcementLevel: "mandatory",
        description: "PostgreSQL flexible servers are reachable only from the VNet (delegated subnet or private endpoint with public access disabled), and no firewall rule opens them to everyone.",
    },
    [
        validateResourceOfType(azure.dbforpostgresql.Server, (server, _args, report) => {
            const network = record(at(server, "network"));
            const delegated = network.delegatedSubnetResourceId !== undefined;
            const access = network.publicNetworkAccess;
            if (isUnknown(access)) {
                return;
            }
            if (access === "Enabled" || (!delegated && access !== "Disabled")) {
                report("the server accepts connections from the internet: set network.delegatedSubnetResourceId (VNet integration) or publicNetworkAccess Disabled with a private endpoint");
            }
        }),
        validateResourceOfType(azure.dbforpostgresql.FirewallRule, (rule, _args, report) => {
            const r = plain(rule);
            if (known(r.startIpAddress) === "0.0.0.0" && (known(r.endIpAddress) === "255.255.255.255" || known(r.endIpAddress) === "0.0.0.0")) {
                report(`firewall rule ${String(r.startIpAddress)}-${String(r.endIpAddress)} admits every address (or every Azure tenant's)`);
            }
        }),
    ],
);

export const azurePostgresResilient = resourceRule(
    {
        name: "azure-postgres-resilient",
        area: "azure",
        enforcementLevel: "advisory",
        description: "Production PostgreSQL servers run zone-redundant HA and keep at least 7 days of backups.",
    },
    validateResourceOfType(azure.dbforpostgresql.Server, (server, args, report) => {
        // Replicas inherit both from their source server.
        if (known(plain(server).createMode) === "Replica" || known(plain(server).replicationRole) === "AsyncReplica") {
            return;
        }
        const tags = record(plain(args.props).tags);
        if (tags.environment !== "production") {
            return;
        }
        if (at(server, "highAvailability.mode") !== "ZoneRedundant") {
            report("highAvailability.mode is not ZoneRedundant");
        }
        const days = at(server, "backup.backupRetentionDays");
        if (typeof days === "number" && days < 7) {
            report(`backup.backupRetentionDays is ${days}; keep at least 7`);
        }
    }),
);

export const azureSubnetNoDefaultOutbound = resourceRule(
    {
        name: "azure-subnet-no-default-outbound",
        area: "azure",
        enforcementLevel: "advisory",
        description: "Subnets turn off default outbound access: egress goes through the explicit outbound path (load balancer / NAT), which Azure retires the implicit one for.",
    },
    validateResourceOfType(azure.network.Subnet, (subnet, _args, report) => {
        if (plain(subnet).defaultOutboundAccess !== false) {
            report("defaultOutboundAccess is not false");
        }
    }),
);

/** Front Door gives up on an origin after this long at most: the same minute as a failover record's TTL. */
const MAX_PROBE_INTERVAL_SECONDS = 60;

export const azureFrontDoorEntry = resourceRule(
    {
        name: "azure-frontdoor-health-and-tls",
        area: "azure",
        enforcementLevel: "mandatory",
        description: "The Front Door global entry probes every origin group's health (a path, at most every 60 s) and its routes use HTTPS to the origins and redirect users' HTTP to HTTPS.",
    },
    [
        validateResourceOfType(azure.cdn.AFDOriginGroup, (group, _args, report) => {
            const probe = record(at(group, "healthProbeSettings"));
            if (typeof probe.probePath !== "string") {
                report("no healthProbeSettings.probePath: Front Door would keep sending users to a dead region");
            }
            const interval = probe.probeIntervalInSeconds;
            if (typeof interval === "number" && interval > MAX_PROBE_INTERVAL_SECONDS) {
                report(`probes every ${interval} s; at most every ${MAX_PROBE_INTERVAL_SECONDS} s, so a region's loss shows within a minute`);
            }
        }),
        validateResourceOfType(azure.cdn.Route, (route, _args, report) => {
            const r = plain(route);
            if (known(r.forwardingProtocol) !== undefined && r.forwardingProtocol !== "HttpsOnly") {
                report(`forwardingProtocol ${String(r.forwardingProtocol)}: traffic to the origins may be plain HTTP`);
            }
            if (r.forwardingProtocol === undefined) {
                report("no forwardingProtocol (the default MatchRequest forwards plain HTTP to the origins)");
            }
            if (list(r.supportedProtocols).includes("Http") && r.httpsRedirect !== "Enabled") {
                report("accepts HTTP without redirecting it to HTTPS");
            }
        }),
    ],
);

/** The zones of one AKS pool. */
export function aksPoolZones(pool: unknown): string[] {
    return list(at(pool, "availabilityZones")).filter((z): z is string => typeof z === "string");
}

export const azureRules = [aksLocalAccountsOff, aksWorkloadIdentity, aksNetworkPolicy, azurePostgresPrivate, azurePostgresResilient, azureSubnetNoDefaultOutbound, azureFrontDoorEntry];
