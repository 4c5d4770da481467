/**
 * The GCP target: a regional GKE Standard cluster with an autoscaling APFA node pool, and the
 * shared Kubernetes layer on it behind a GKE-managed Gateway.
 *
 * Plan of the constructor:
 *   1. network   — custom VPC, nodes subnet (Pod/Service secondary ranges), Cloud Router + NAT,
 *                  proxy-only subnet for regional Gateway classes
 *   2. identity  — a least-privilege node service account and its two project roles
 *   3. cluster   — private nodes, Workload Identity, Gateway API, Dataplane V2, shielded nodes,
 *                  release channel, deletion protection; the default pool removed
 *   4. node pool — autoscaled per zone, auto-repair/upgrade, GKE metadata server
 *   5. access    — a kubeconfig (gke-gcloud-auth-plugin exec, secret) and a Kubernetes provider
 *   6. TLS       — when configured: a Google-managed certificate in a Certificate Manager map
 *                  (certificate.ts), attached to the Gateway by annotation
 *   7. workload  — KubernetesApfa (chart per slot, Gateway + weighted HTTPRoute, aux services),
 *                  plus a GKE HealthCheckPolicy and GCPBackendPolicy per slot Service
 *   8. multi-region (`apfa:multiRegion`, multiregion.ts) — the shared VPC, the Cloud SQL replica,
 *                  fleet membership and ServiceExports (fleet.ts); on the primary the fleet features,
 *                  the multi-cluster Gateway with the weighted route on ServiceImports and their
 *                  policies; in the failover region the controller (failover.ts)
 *
 * @pulumi/gcp is imported only by this folder, which src/cluster.ts loads only for gcp stacks.
 */
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { ApfaClusterBase, CLUSTER_TYPES, type AuxService, type AuxServiceSpec } from "../../contract";
import type { GcpConfig, Slot } from "../../config";
import { SLOTS } from "../../config";
import { primaryStackTarget, requireField } from "../primary-stack";
import { KubernetesApfa, type PodDrain } from "../../kubernetes";
import { publicControlPlaneWarning } from "../../kubernetes/warnings";
import { trafficWeights } from "../../bluegreen";
import type { GcpTargetOutputs } from "./outputs";
import { certmapAnnotations, createGatewayCertificate, type GatewayCertificate } from "./certificate";
import { backendPolicy, healthCheckPolicy } from "./gke-policies";
import {
    APFA_POOL_LABEL,
    createCluster,
    createNetwork,
    createNodePool,
    createNodeServiceAccount,
    type GkeNetwork,
    type NodeIdentity,
} from "./infra";
import { CloudSqlDatabase, cloudSqlNames } from "./database";
import { GcpFailoverController } from "./failover";
import { createConfigClusterPolicies, FleetEntry, regionProbeUrl } from "./fleet";
import { failoverIdentityNames, regionGatewayClass, regionalPrefix } from "./multiregion";
import { gkeContextName, gkeKubeconfig } from "./kubeconfig";
import { gatewaySourceRanges, internalGatewayWarning } from "./network";

export { APFA_POOL_LABEL, NODE_SERVICE_ACCOUNT_ROLES } from "./infra";

export interface GkeClusterArgs {
    /** Validated config of a `gcp` stack (project, region, pool bounds, Gateway class, …). */
    readonly config: GcpConfig;
}

/** Labels of the Kubernetes objects this component adds next to the shared layer's. */
const POLICY_LABELS = {
    "app.kubernetes.io/name": "apfa",
    "app.kubernetes.io/part-of": "apfa",
    "app.kubernetes.io/managed-by": "pulumi",
} as const;

/** Chart values the GKE path adds for both slots: run APFA on the APFA node pool. */
export function gkeChartValues(): Record<string, unknown> {
    return { nodeSelector: { [APFA_POOL_LABEL.key]: APFA_POOL_LABEL.value } };
}

/**
 * Seconds a terminating APFA pod keeps serving on GKE before SIGTERM. Container-native load
 * balancing removes a terminating pod from its NEG asynchronously, and the Google Front End keeps
 * sending requests until then; Google's guidance (KB "502 503 errors on external HTTP(s) Load
 * Balancer") is a preStop sleep "that takes about the same amount of time for the endpoint to be
 * removed from the NEG" (their example sleeps 40 s). 35 s covers the detach and the health check's
 * 2 × 5 s before it with room (the chart's schema allows up to 60).
 */
export const GKE_PRESTOP_SECONDS = 35;

/**
 * How a terminating APFA pod drains on GKE: the preStop sleep above, then the GCPBackendPolicy's
 * connection draining (`apfa:gcp.connectionDrainingSeconds`) for requests already in flight.
 */
export function gkeDrain(settings: Pick<GcpConfig["gcp"], "connectionDrainingSeconds">): PodDrain {
    return { preStopSleepSeconds: GKE_PRESTOP_SECONDS, loadBalancerDrainSeconds: settings.connectionDrainingSeconds };
}

/** The `gcloud` command that writes the same kubeconfig entry on an operator's machine. */
export function getCredentialsCommand(project: string, region: string, clusterName: string): string {
    return `gcloud container clusters get-credentials ${clusterName} --region ${region} --project ${project}`;
}

/**
 * What a gcp stack leaves reachable that its operator should know about: a control plane open to
 * any address (no master authorized networks), and a Gateway class whose `url` is VPC-internal.
 */
export function gkeExposureWarnings(settings: Pick<GcpConfig["gcp"], "masterAuthorizedCidrs" | "gatewayClass">): string[] {
    const warnings: string[] = [];
    if (settings.masterAuthorizedCidrs === undefined) {
        warnings.push(publicControlPlaneWarning({ platform: "GKE", configKey: "apfa:gcp.masterAuthorizedCidrs", authentication: "Google IAM credentials" }));
    }
    const internal = internalGatewayWarning(settings.gatewayClass);
    if (internal !== undefined) {
        warnings.push(internal);
    }
    return warnings;
}

export class GkeCluster extends ApfaClusterBase<GcpTargetOutputs> {
    readonly network: GkeNetwork;
    /** The nodes' service account and its role bindings. */
    readonly nodeIdentity: NodeIdentity;
    readonly cluster: gcp.container.Cluster;
    readonly nodePool: gcp.container.NodePool;
    /** Kubeconfig using gke-gcloud-auth-plugin (a Pulumi secret; it holds no credential itself). */
    readonly kubeconfig: pulumi.Output<string>;
    /** The Kubernetes provider every in-cluster resource of the stack uses. */
    readonly provider: k8s.Provider;
    /** The shared Kubernetes layer: namespace, chart per slot, Gateway, HTTPRoute, aux services. */
    readonly kubernetes: KubernetesApfa;
    /** The load balancer's health check of each slot (APFA's health path on APFA's port). */
    readonly healthCheckPolicies: Readonly<Record<Slot, k8s.apiextensions.CustomResource>>;
    /** Backend settings of each slot (connection draining). */
    readonly backendPolicies: Readonly<Record<Slot, k8s.apiextensions.CustomResource>>;
    /** The Gateway's Google-managed certificate and its map (TLS stacks only). */
    readonly certificate?: GatewayCertificate;
    /** APFA's Cloud SQL instance (database.ts), when `apfa:database.enabled`. */
    readonly postgres?: CloudSqlDatabase;

    constructor(name: string, args: GkeClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super(CLUSTER_TYPES.gcp, name, trafficWeights(args.config.release), opts);
        const config = args.config;
        const { project, region } = config.gcp;

        for (const warning of gkeExposureWarnings(config.gcp)) {
            void pulumi.log.warn(warning, this);
        }

        this.network = createNetwork(name, config, this);
        const multi = config.multiRegion;
        // What only the primary's deploy knows (the generated password, the write endpoint, the
        // global URL), read from its stack's outputs in the state backend, never from its region.
        const primaryTarget = multi && !multi.isPrimary ? primaryStackTarget(`${name}-primary-stack`, multi.primaryStack, this) : undefined;
        // APFA's Cloud SQL instance, on a private IP peered into this VPC (database.ts).
        this.postgres = config.database.enabled
            ? new CloudSqlDatabase(
                  `${name}-database`,
                  {
                      config,
                      network: this.network.network,
                      ...(multi
                          ? {
                                namingPrefix: regionalPrefix(multi, region),
                                multiRegion: {
                                    settings: multi,
                                    primary: cloudSqlNames(regionalPrefix(multi, multi.primaryRegion)),
                                    drReplica: cloudSqlNames(regionalPrefix(multi, multi.regions[1])).instance,
                                    fromPrimary: primaryTarget?.apply((target) => ({
                                        password: requireField(target, "replicationCredential"),
                                        writeEndpoint: requireField(target, "multiRegion.writeEndpoint"),
                                    })),
                                },
                            }
                          : {}),
                  },
                  { parent: this },
              )
            : undefined;
        this.nodeIdentity = createNodeServiceAccount(name, config, this);
        this.cluster = createCluster(name, config, this.network, this.nodeIdentity, this);
        this.nodePool = createNodePool(name, config, this.cluster, this.nodeIdentity, this);

        this.kubeconfig = pulumi.secret(
            pulumi
                .all([this.cluster.name, this.cluster.endpoint, this.cluster.masterAuth])
                .apply(([clusterName, endpoint, masterAuth]) =>
                    gkeKubeconfig({
                        contextName: gkeContextName(project, region, clusterName),
                        endpoint,
                        caCertificate: masterAuth.clusterCaCertificate,
                    }),
                ),
        );
        // Workloads need nodes: the provider (and so every in-cluster resource) waits for the pool.
        this.provider = new k8s.Provider(
            `${name}-k8s`,
            {
                kubeconfig: this.kubeconfig,
                // A changed kubeconfig (credential rotation moves the endpoint and CA) updates the
                // provider; only another cluster replaces it, and with it every Kubernetes object.
                clusterIdentifier: this.cluster.id,
            },
            { parent: this, dependsOn: [this.nodePool] },
        );

        const tls = config.gcp.tls;
        this.certificate = tls ? createGatewayCertificate(`${name}-tls`, config, tls.domainName, this) : undefined;

        // Multi-region: the fleet membership, and on the primary the fleet features (fleet.ts).
        const fleet = multi ? new FleetEntry(`${name}-fleet`, { config, multiRegion: multi, cluster: this.cluster, labels: { ...POLICY_LABELS } }, { parent: this }) : undefined;
        // Multi-region: the primary's Gateway is the multi-cluster one (its weighted route's backends
        // are the slots' ServiceImports, spanning every region); the others' are internal (multiregion.ts).
        const gatewayClassName = multi ? regionGatewayClass(multi) : config.gcp.gatewayClass;
        const peerRanges = multi
            ? [...new Set([...gatewaySourceRanges("gke-l7-global-external-managed", config.gcp.proxyOnlyCidr), ...(multi.isPrimary ? [] : gatewaySourceRanges("gke-l7-rilb", config.gcp.proxyOnlyCidr))])]
            : gatewaySourceRanges(config.gcp.gatewayClass, config.gcp.proxyOnlyCidr);
        this.kubernetes = new KubernetesApfa(
            `${name}-apfa`,
            {
                config,
                provider: this.provider,
                gatewayClassName,
                backendKind: multi?.isPrimary ? "ServiceImport" : undefined,
                drain: gkeDrain(config.gcp),
                chartValues: gkeChartValues(),
                tls: tls ? { hostname: tls.domainName, certificate: { kind: "gatewayAnnotation" } } : undefined,
                gatewayAnnotations: this.certificate ? certmapAnnotations(this.certificate.mapName) : undefined,
                // The load balancer is built with the map: its entry (and so the certificate) first.
                // The multi-cluster GatewayClass appears once the fleet's ingress feature is on.
                gatewayDependsOn: [...(this.certificate ? [this.certificate.mapEntry] : []), ...(fleet?.features ?? [])],
                // Public images (Prometheus, Grafana) come through Cloud NAT; regional Gateway
                // classes cannot be programmed before their proxy-only subnet exists.
                dependsOn: [this.network.nat, ...(this.network.proxyOnlySubnet ? [this.network.proxyOnlySubnet] : [])],
                // APFA's port admits only the load balancer and Prometheus (Dataplane V2 enforces it).
                // With a multi-cluster Gateway, Google's front ends reach the pods of every region.
                gatewayPeers: peerRanges.map((cidr) => ({ ipBlock: { cidr } })),
                database: this.postgres,
            },
            { parent: this },
        );

        const healthChecks = {} as Record<Slot, k8s.apiextensions.CustomResource>;
        const backends = {} as Record<Slot, k8s.apiextensions.CustomResource>;
        // The policies need the namespace and the slots' Services (made by the releases), not the
        // Gateway: attached early, the load balancer's first health checks already use the health path.
        const policyOpts: pulumi.CustomResourceOptions = {
            parent: this,
            provider: this.provider,
            dependsOn: [this.kubernetes.namespace, ...SLOTS.map((slot) => this.kubernetes.releases[slot])],
        };
        for (const slot of SLOTS) {
            const serviceName = this.kubernetes.serviceName(slot);
            const common = { namespace: this.kubernetes.namespaceName, serviceName, labels: { ...POLICY_LABELS, "apfa.io/slot": slot } };
            healthChecks[slot] = new k8s.apiextensions.CustomResource(
                `${name}-${slot}-health-check`,
                healthCheckPolicy({ ...common, name: `${serviceName}-health`, port: config.app.port, requestPath: config.app.healthPath }),
                policyOpts,
            );
            backends[slot] = new k8s.apiextensions.CustomResource(
                `${name}-${slot}-backend-policy`,
                backendPolicy({ ...common, name: `${serviceName}-backend`, drainingTimeoutSec: config.gcp.connectionDrainingSeconds }),
                policyOpts,
            );
        }
        this.healthCheckPolicies = healthChecks;
        this.backendPolicies = backends;

        // Multi-region: fleet membership and exports (every region), the config cluster's policies
        // and probe route (primary), the failover controller (failover region): fleet.ts, failover.ts.
        let globalUrl: pulumi.Output<string> = this.kubernetes.url;
        let membership: pulumi.Output<string> | undefined;
        if (multi && fleet) {
            const labels = { ...POLICY_LABELS };
            const slotsReady = [this.kubernetes.namespace, ...SLOTS.map((slot) => this.kubernetes.releases[slot])];
            fleet.exportRegion({ provider: this.provider, namespace: this.kubernetes.namespaceName, dependsOn: slotsReady });
            membership = fleet.membership.id;
            if (multi.isPrimary) {
                createConfigClusterPolicies(
                    `${name}-fleet`,
                    { config, multiRegion: multi, namespace: this.kubernetes.namespaceName, provider: this.provider, dependsOn: [...slotsReady, ...fleet.features, this.kubernetes.gateway], labels, tls: tls !== undefined },
                    this,
                );
            } else if (primaryTarget) {
                globalUrl = pulumi.unsecret(primaryTarget.apply((target) => requireField(target, "multiRegion.globalUrl")));
            }
            if (multi.regions[1] === multi.region && multi.controllerImage && this.postgres) {
                const identity = failoverIdentityNames(multi);
                new GcpFailoverController(
                    `${name}-failover`,
                    {
                        image: multi.controllerImage,
                        project,
                        replicaInstance: cloudSqlNames(regionalPrefix(multi, region)).instance,
                        accountId: identity.accountId,
                        roleId: identity.roleId,
                        primaryHealthUrl: globalUrl.apply((url) => regionProbeUrl(url, multi.primaryRegion, config.app.healthPath)),
                        standbyHealthUrl: globalUrl.apply((url) => regionProbeUrl(url, region, config.app.healthPath)),
                        provider: this.provider,
                        labels: {},
                        dependsOn: [this.postgres],
                    },
                    { parent: this },
                );
            }
        }

        this.complete({
            // Multi-region: users reach APFA through the multi-cluster Gateway (the primary's); the
            // other regions' own Gateways are internal.
            url: multi ? globalUrl : this.kubernetes.url,
            slots: this.kubernetes.slots,
            trafficUrn: this.kubernetes.trafficUrn,
            database: this.postgres,
            outputs: {
                clusterName: this.cluster.name,
                location: this.cluster.location,
                kubeconfig: this.kubeconfig,
                gatewayClass: pulumi.output(gatewayClassName),
                gatewayAddress: this.kubernetes.gatewayAddress,
                certificateDnsRecord: this.certificate ? this.certificate.dnsRecord : pulumi.output(undefined),
                namespace: pulumi.output(this.kubernetes.namespaceName),
                nodePool: this.nodePool.name,
                nodeServiceAccount: this.nodeIdentity.serviceAccount.email,
                getCredentials: this.cluster.name.apply((clusterName) => getCredentialsCommand(project, region, clusterName)),
                multiRegion:
                    multi && membership && this.postgres?.writeEndpoint
                        ? pulumi.all([globalUrl, this.postgres.writeEndpoint, membership]).apply(([url, writeEndpoint, member]) => ({
                              region,
                              topology: multi.topology,
                              isPrimary: multi.isPrimary,
                              globalUrl: url,
                              writeEndpoint,
                              membership: member,
                          }))
                        : pulumi.output(undefined),
                replicationCredential:
                    multi?.isPrimary && this.postgres && this.postgres.connection.password.kind === "value"
                        ? pulumi.secret(this.postgres.connection.password.value)
                        : pulumi.output(undefined),
            },
        });
    }

    /** Prometheus, Grafana, …: placed by the shared Kubernetes layer on this cluster. */
    runService(spec: AuxServiceSpec, parent: pulumi.Resource): AuxService {
        return this.kubernetes.runService(spec, parent);
    }
}

