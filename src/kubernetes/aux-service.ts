/**
 * Auxiliary container services (Alertmanager, Prometheus, Grafana) on Kubernetes: the `runService`
 * capability of the ApfaCluster contract. Per service: ServiceAccount (no token, no RBAC: discovery
 * is DNS), ConfigMap with its files, Secret with its secret env and secret files (mounted 0440), a PVC for its data (on the platform's
 * StorageClass when it names one), a Deployment (read-only root filesystem: the data volume and an
 * emptyDir /tmp are its only writable paths), a ClusterIP Service and a NetworkPolicy admitting only
 * the aux services placed after it and letting it reach only the ones placed before it, plus public
 * addresses on the spec's `egressPorts` (see network-policy.ts). Nothing is exposed outside the cluster; operators use `kubectl port-forward`.
 * A spec with `peers` (Alertmanager) runs that many replicas with emptyDir data instead of a PVC,
 * plus a headless `<name>-peers` Service, a PodDisruptionBudget (one replica down at a time) and the
 * peer port open between its own pods.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { AuxService, AuxServiceSpec } from "../contract";
import { managedLabels } from "./labels";
import { SCRAPER_LABEL, auxClientLabel, serviceFqdn } from "./names";
import { auxNetworkPolicy, type EgressTarget } from "./network-policy";
import { EPHEMERAL_STORAGE, cpuQuantity, memoryQuantity } from "./values";

/** Size of the /tmp emptyDir of every auxiliary container (scratch space; the data volume holds the data). */
export const AUX_TMP_SIZE = "64Mi";

/** One file of the spec as a ConfigMap key mounted at its path. */
export interface AuxFileMount {
    readonly key: string;
    readonly path: string;
}

const CONFIG_KEY_RE = /[^-._a-zA-Z0-9]/g;

/**
 * ConfigMap keys for the spec's files: `<n>-<basename>` in path order. Keys may not hold "/", and
 * the index keeps two files with one basename apart.
 * @throws Error on a relative path.
 */
export function auxFileMounts(files: Readonly<Record<string, unknown>>): AuxFileMount[] {
    return Object.keys(files)
        .sort()
        .map((file, index) => {
            if (!file.startsWith("/") || file.endsWith("/")) {
                throw new Error(`aux service file paths must be absolute file paths, got ${JSON.stringify(file)}`);
            }
            const base = file.slice(file.lastIndexOf("/") + 1).replace(CONFIG_KEY_RE, "_");
            return { key: `${index}-${base}`.slice(0, 253), path: file };
        });
}

/**
 * Secret keys for the spec's secret files: `file-<n>-<basename>` (apart from the secret env's
 * upper-case names), mounted like the ConfigMap's files.
 */
export function auxSecretFileMounts(files: Readonly<Record<string, unknown>>): AuxFileMount[] {
    return auxFileMounts(files).map((m) => ({ ...m, key: `file-${m.key}`.slice(0, 253) }));
}

/** Labels that select an auxiliary service's pods. */
export function auxSelectorLabels(spec: Pick<AuxServiceSpec, "name">): Record<string, string> {
    return { "app.kubernetes.io/name": spec.name, "app.kubernetes.io/instance": spec.name };
}

/** Labels of an auxiliary service's objects; pods of a discovering service may scrape APFA. */
export function auxLabels(spec: Pick<AuxServiceSpec, "name" | "discoversTargets">, extra: Record<string, string> = {}): Record<string, string> {
    return {
        ...managedLabels(spec.name, "auxiliary", extra),
        ...(spec.discoversTargets ? { [SCRAPER_LABEL]: "true" } : {}),
    };
}

/**
 * Labels of an auxiliary service's pods: its object labels, its selector, and the client label of
 * every service placed before it (whose NetworkPolicies admit it).
 */
export function auxPodLabels(
    spec: Pick<AuxServiceSpec, "name">,
    labels: Record<string, string>,
    clientOf: readonly string[] = [],
): Record<string, string> {
    const clients = Object.fromEntries(clientOf.map((service) => [auxClientLabel(service), "true"]));
    return { ...labels, ...clients, ...auxSelectorLabels(spec) };
}

/**
 * Scanner findings an auxiliary service's Deployment keeps on purpose, each with its reason, in the
 * scanners' own suppression formats (checkov `checkov.io/skipN: <check>=<reason>`, kube-score
 * `kube-score/ignore: <check>,…`). Derived from the spec, so a suppression lasts only as long as its
 * cause; tests/scanners.test.ts runs both scanners on the rendered manifests.
 */
export function auxScannerAnnotations(spec: Pick<AuxServiceSpec, "runAsUser" | "secretEnv" | "healthPath" | "readyPath" | "dataVolume" | "peers">): Record<string, string> {
    const checkov = [
        "CKV_K8S_15=the image is a pinned version (src/monitoring/images.ts): pull policy Always would make every restart depend on the registry",
        "CKV_K8S_43=the image is pinned by its version tag, the same version the tests run",
    ];
    // kube-score: the same pull-policy finding, and a one-replica Deployment by design (one process owns the data).
    const kubeScore = ["container-image-pull-policy"];
    if (Object.keys(spec.secretEnv ?? {}).length > 0) {
        checkov.push("CKV_K8S_35=the variable comes from this service's own Secret through secretKeyRef, which is how its image reads that setting");
    }
    if (spec.runAsUser < 10000) {
        checkov.push(`CKV_K8S_40=runs as its image's own user ${spec.runAsUser}, which owns the image's files`);
        kubeScore.push("container-security-context-user-group-id");
    }
    if ((spec.readyPath ?? spec.healthPath) === spec.healthPath) {
        kubeScore.push("pod-probes-identical");
    }
    if (spec.peers) {
        // Peers spread over nodes and zones with topologySpreadConstraints, which kube-score does not count.
        kubeScore.push("deployment-has-host-podantiaffinity");
    } else {
        kubeScore.push("deployment-replicas");
        if (spec.dataVolume) {
            kubeScore.push("deployment-strategy");
        }
    }
    return { ...Object.fromEntries(checkov.map((skip, i) => [`checkov.io/skip${i + 1}`, skip])), "kube-score/ignore": kubeScore.join(",") };
}

/** What an operator runs to reach a ClusterIP service from their machine. */
export function portForwardInstructions(namespace: string, service: string, port: number, localPort: number): string {
    return `kubectl -n ${namespace} port-forward svc/${service} ${localPort}:${port}, then open http://localhost:${localPort}`;
}

/** The service's in-cluster URL. */
export function auxInternalUrl(namespace: string, service: string, port: number): string {
    return `http://${serviceFqdn(service, namespace)}:${port}`;
}

/**
 * The Deployment spec of an auxiliary service (pure: names of the ConfigMap/Secret/PVC are given).
 * One replica; `Recreate` when it owns a ReadWriteOnce volume (two pods on one TSDB would fight
 * over it), else a surge rollout.
 */
export function auxDeploymentSpec(args: {
    spec: AuxServiceSpec;
    labels: Record<string, string>;
    /** Services placed before this one: its pods may reach them. @default [] */
    clientOf?: readonly string[];
    configMapName?: pulumi.Input<string>;
    secretName?: pulumi.Input<string>;
    claimName?: pulumi.Input<string>;
    /** DNS name of the headless Service resolving to every replica; required when the spec has `peers`. */
    peersHost?: string;
}): k8s.types.input.apps.v1.DeploymentSpec {
    const { spec } = args;
    const selector = auxSelectorLabels(spec);
    const mounts = auxFileMounts(spec.files);
    const peers = spec.peers;
    if (peers && (peers.replicas < 2 || args.peersHost === undefined)) {
        throw new Error(`aux service ${spec.name}: a peer group needs at least 2 replicas and the peers' DNS name`);
    }
    const env: k8s.types.input.core.v1.EnvVar[] = [
        // The replica's own address, which it advertises to its peers (expanded in args as $(POD_IP)).
        ...(peers ? [{ name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }] : []),
        ...Object.keys(spec.env ?? {})
            .sort()
            .map((name) => ({ name, value: (spec.env ?? {})[name] })),
        ...(args.secretName === undefined
            ? []
            : Object.keys(spec.secretEnv ?? {})
                  .sort()
                  .map((name) => ({ name, valueFrom: { secretKeyRef: { name: args.secretName as pulumi.Input<string>, key: name } } }))),
    ];
    const volumes: k8s.types.input.core.v1.Volume[] = [];
    const volumeMounts: k8s.types.input.core.v1.VolumeMount[] = [];
    if (args.configMapName !== undefined && mounts.length > 0) {
        volumes.push({ name: "files", configMap: { name: args.configMapName, defaultMode: 0o444 } });
        // One subPath mount per file: the image's other files in those directories stay visible.
        volumeMounts.push(...mounts.map((m) => ({ name: "files", mountPath: m.path, subPath: m.key, readOnly: true })));
    }
    const secretMounts = auxSecretFileMounts(spec.secretFiles ?? {});
    if (args.secretName !== undefined && secretMounts.length > 0) {
        // Readable by the pod's group (fsGroup is the service's user) only.
        volumes.push({ name: "secret-files", secret: { secretName: args.secretName, defaultMode: 0o440 } });
        volumeMounts.push(...secretMounts.map((m) => ({ name: "secret-files", mountPath: m.path, subPath: m.key, readOnly: true })));
    }
    if (spec.dataVolume && peers) {
        // Each replica's copy lives as long as its pod; a replaced one resyncs from its peers.
        volumes.push({ name: "data", emptyDir: { sizeLimit: `${spec.dataVolume.sizeGiB}Gi` } });
        volumeMounts.push({ name: "data", mountPath: spec.dataVolume.mountPath });
    } else if (spec.dataVolume && args.claimName !== undefined) {
        volumes.push({ name: "data", persistentVolumeClaim: { claimName: args.claimName } });
        volumeMounts.push({ name: "data", mountPath: spec.dataVolume.mountPath });
    }
    // The root filesystem is read-only: besides the data volume, /tmp is the only writable path
    // (Grafana uses it for scratch files; Prometheus writes only its data directory).
    volumes.push({ name: "tmp", emptyDir: { sizeLimit: AUX_TMP_SIZE } });
    volumeMounts.push({ name: "tmp", mountPath: "/tmp" });
    const size = { cpu: cpuQuantity(spec.resources.cpu), memory: memoryQuantity(spec.resources.memoryMiB) };
    const httpGet = { path: spec.healthPath, port: "http" };
    // Ready (Service endpoints) only once it can answer: Prometheus is alive during its WAL replay.
    const readyGet = { path: spec.readyPath ?? spec.healthPath, port: "http" };
    const containerArgs = peers ? peers.args(args.peersHost as string, "$(POD_IP)") : spec.args;
    const ports: k8s.types.input.core.v1.ContainerPort[] = [
        { name: "http", containerPort: spec.port, protocol: "TCP" },
        ...(peers
            ? [
                  { name: "peer-tcp", containerPort: peers.port, protocol: "TCP" },
                  { name: "peer-udp", containerPort: peers.port, protocol: "UDP" },
              ]
            : []),
    ];
    return {
        replicas: peers ? peers.replicas : 1,
        revisionHistoryLimit: 3,
        // A peer group has no shared volume: replace one replica at a time, the others keep serving.
        strategy: peers
            ? { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } }
            : spec.dataVolume
              ? { type: "Recreate" }
              : { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        selector: { matchLabels: selector },
        template: {
            metadata: { labels: auxPodLabels(spec, args.labels, args.clientOf) },
            spec: {
                // Replicas on different nodes and zones where the cluster has them (preferred, not
                // required: a one-node dev cluster still schedules both).
                ...(peers
                    ? {
                          topologySpreadConstraints: ["kubernetes.io/hostname", "topology.kubernetes.io/zone"].map((topologyKey) => ({
                              maxSkew: 1,
                              topologyKey,
                              whenUnsatisfiable: "ScheduleAnyway",
                              labelSelector: { matchLabels: selector },
                          })),
                      }
                    : {}),
                serviceAccountName: spec.name,
                automountServiceAccountToken: false,
                enableServiceLinks: false,
                securityContext: {
                    runAsNonRoot: true,
                    runAsUser: spec.runAsUser,
                    // The image's user's own group rather than the image default (Grafana's is root's, 0).
                    runAsGroup: spec.runAsUser,
                    fsGroup: spec.runAsUser,
                    fsGroupChangePolicy: "OnRootMismatch",
                    seccompProfile: { type: "RuntimeDefault" },
                },
                containers: [
                    {
                        name: spec.name,
                        image: spec.image,
                        args: containerArgs ? [...containerArgs] : undefined,
                        ports,
                        env: env.length > 0 ? env : undefined,
                        // Generous start-up (e.g. Prometheus replaying its WAL) before liveness counts.
                        startupProbe: { httpGet, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 60 },
                        readinessProbe: { httpGet: readyGet, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
                        livenessProbe: { httpGet, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
                        resources: {
                            requests: { ...size, "ephemeral-storage": EPHEMERAL_STORAGE.request },
                            limits: { ...size, "ephemeral-storage": EPHEMERAL_STORAGE.limit },
                        },
                        securityContext: {
                            runAsNonRoot: true,
                            allowPrivilegeEscalation: false,
                            privileged: false,
                            readOnlyRootFilesystem: true,
                            capabilities: { drop: ["ALL"] },
                            seccompProfile: { type: "RuntimeDefault" },
                        },
                        volumeMounts,
                    },
                ],
                volumes,
            },
        },
    };
}

export interface AuxServiceContext {
    /** Logical-name prefix of the owning cluster component. */
    readonly name: string;
    readonly namespace: pulumi.Input<string>;
    /** Plain namespace name (for URLs). */
    readonly namespaceName: string;
    readonly provider: k8s.Provider;
    /** Labels every object gets (the stack's tags). */
    readonly commonLabels: Record<string, string>;
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
    /** The auxiliary services placed before this one, in order: its possible upstreams. @default [] */
    readonly placedBefore?: readonly PlacedService[];
    /** What a service that discovers targets scrapes: APFA's pods and metrics port. */
    readonly scrapeTarget: EgressTarget;
    /** StorageClass of the data volume; the cluster's default class when unset. */
    readonly storageClassName?: string;
}

/** An auxiliary service already placed: its name and port. */
export interface PlacedService {
    readonly name: string;
    readonly port: number;
}

/**
 * Where an auxiliary service may send requests: the services placed before it (the only ones
 * whose URL it can have been given) and, when it discovers targets, APFA's metrics port.
 */
export function auxEgressTargets(spec: Pick<AuxServiceSpec, "discoversTargets">, placedBefore: readonly PlacedService[], scrapeTarget: EgressTarget): EgressTarget[] {
    return [
        ...placedBefore.map((upstream) => ({ podLabels: auxSelectorLabels(upstream), port: upstream.port })),
        ...(spec.discoversTargets ? [scrapeTarget] : []),
    ];
}

/** Creates an auxiliary service's objects under `parent` and returns its URLs. */
export function createAuxService(ctx: AuxServiceContext, spec: AuxServiceSpec, parent: pulumi.Resource): AuxService {
    if (!/^[a-z]([-a-z0-9]{0,40}[a-z0-9])?$/.test(spec.name)) {
        throw new Error(`aux service name must be a DNS label of at most 42 characters, got ${JSON.stringify(spec.name)}`);
    }
    const logical = `${ctx.name}-${spec.name}`;
    const opts: pulumi.CustomResourceOptions = { parent, provider: ctx.provider, dependsOn: ctx.dependsOn };
    const labels = auxLabels(spec, ctx.commonLabels);
    const meta = (name?: string) => ({ name, namespace: ctx.namespace, labels });

    new k8s.core.v1.ServiceAccount(`${logical}-sa`, { metadata: meta(spec.name), automountServiceAccountToken: false }, opts);

    // ConfigMap and Secret are auto-named: Pulumi replaces them on a content change, so the new
    // name rolls the Deployment (subPath mounts would not see in-place updates).
    let configMap: k8s.core.v1.ConfigMap | undefined;
    const mounts = auxFileMounts(spec.files);
    if (mounts.length > 0) {
        const data: Record<string, pulumi.Input<string>> = {};
        for (const m of mounts) {
            data[m.key] = spec.files[m.path];
        }
        configMap = new k8s.core.v1.ConfigMap(`${logical}-files`, { metadata: meta(), data }, opts);
    }

    let secret: k8s.core.v1.Secret | undefined;
    const secretEnv = spec.secretEnv ?? {};
    const secretMounts = auxSecretFileMounts(spec.secretFiles ?? {});
    if (Object.keys(secretEnv).length > 0 || secretMounts.length > 0) {
        const stringData: Record<string, pulumi.Input<string>> = {};
        for (const key of Object.keys(secretEnv).sort()) {
            stringData[key] = pulumi.secret(secretEnv[key]);
        }
        for (const m of secretMounts) {
            stringData[m.key] = pulumi.secret((spec.secretFiles ?? {})[m.path]);
        }
        secret = new k8s.core.v1.Secret(`${logical}-env`, { metadata: meta(), type: "Opaque", stringData }, opts);
    }

    let claim: k8s.core.v1.PersistentVolumeClaim | undefined;
    if (spec.dataVolume && !spec.peers) {
        claim = new k8s.core.v1.PersistentVolumeClaim(
            `${logical}-data`,
            {
                metadata: {
                    ...meta(`${spec.name}-data`),
                    // The cluster's default class binds on first consumer: the Deployment's await
                    // (pod running with the volume) is the check, not the claim's.
                    annotations: { "pulumi.com/skipAwait": "true" },
                },
                spec: {
                    accessModes: ["ReadWriteOnce"],
                    // Immutable: a new class replaces the claim (and its data).
                    storageClassName: ctx.storageClassName,
                    resources: { requests: { storage: `${spec.dataVolume.sizeGiB}Gi` } },
                },
            },
            // Data outlives a replaced Deployment; deleting the stack deletes it.
            opts,
        );
    }

    const deployment = new k8s.apps.v1.Deployment(
        `${logical}`,
        {
            metadata: { ...meta(spec.name), annotations: auxScannerAnnotations(spec) },
            spec: auxDeploymentSpec({
                spec,
                labels,
                clientOf: (ctx.placedBefore ?? []).map((upstream) => upstream.name),
                configMapName: configMap?.metadata.name,
                secretName: secret?.metadata.name,
                claimName: claim?.metadata.name,
                peersHost: spec.peers ? serviceFqdn(auxPeersServiceName(spec), ctx.namespaceName) : undefined,
            }),
        },
        opts,
    );

    let replicas: AuxService["replicas"];
    if (spec.peers) {
        const peers = new k8s.core.v1.Service(
            `${logical}-peers`,
            { metadata: meta(auxPeersServiceName(spec)), spec: auxPeersServiceSpec(spec) },
            { ...opts, dependsOn: [deployment] },
        );
        new k8s.policy.v1.PodDisruptionBudget(
            `${logical}-pdb`,
            { metadata: meta(spec.name), spec: { maxUnavailable: 1, selector: { matchLabels: auxSelectorLabels(spec) } } },
            opts,
        );
        replicas = { dnsName: peers.metadata.name.apply((svc) => serviceFqdn(svc, ctx.namespaceName)), port: spec.port };
    }

    const service = new k8s.core.v1.Service(
        `${logical}-svc`,
        {
            metadata: meta(spec.name),
            spec: {
                type: "ClusterIP",
                selector: auxSelectorLabels(spec),
                ports: [{ name: "http", port: spec.port, targetPort: "http", protocol: "TCP" }],
            },
        },
        { ...opts, dependsOn: [deployment] },
    );

    const policy = auxNetworkPolicy({
        name: spec.name,
        namespace: ctx.namespaceName,
        port: spec.port,
        podLabels: auxSelectorLabels(spec),
        egressTo: auxEgressTargets(spec, ctx.placedBefore ?? [], ctx.scrapeTarget),
        externalPorts: spec.egressPorts,
        peerPort: spec.peers?.port,
        labels,
    });
    new k8s.networking.v1.NetworkPolicy(`${logical}-netpol`, { metadata: { ...policy.metadata, namespace: ctx.namespace }, spec: policy.spec }, opts);

    return {
        internalUrl: service.metadata.name.apply((svc) => auxInternalUrl(ctx.namespaceName, svc, spec.port)),
        operatorUrl: service.metadata.name.apply((svc) => portForwardInstructions(ctx.namespaceName, svc, spec.port, spec.operatorPort)),
        ...(replicas ? { replicas } : {}),
    };
}

/** Name of the headless Service of a peer group's replicas. */
export function auxPeersServiceName(spec: Pick<AuxServiceSpec, "name">): string {
    return `${spec.name}-peers`;
}

/**
 * The headless Service of a peer group: its name resolves to every replica, ready or not (a
 * starting replica must be found by its peers before it can become ready). Prometheus also finds
 * each Alertmanager through it.
 */
export function auxPeersServiceSpec(spec: AuxServiceSpec): k8s.types.input.core.v1.ServiceSpec {
    if (!spec.peers) {
        throw new Error(`aux service ${spec.name} has no peers`);
    }
    return {
        type: "ClusterIP",
        clusterIP: "None",
        publishNotReadyAddresses: true,
        selector: auxSelectorLabels(spec),
        ports: [
            { name: "http", port: spec.port, targetPort: "http", protocol: "TCP" },
            { name: "peer-tcp", port: spec.peers.port, targetPort: "peer-tcp", protocol: "TCP" },
            { name: "peer-udp", port: spec.peers.port, targetPort: "peer-udp", protocol: "UDP" },
        ],
    };
}
