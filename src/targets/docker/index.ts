/**
 * The dev target: everything on one Docker host.
 *
 * A private bridge network; APFA's blue and green slots (a fixed number of containers each, one
 * network alias per slot so DNS returns every replica); an nginx proxy on 127.0.0.1 that splits
 * requests by the release weights; and whatever auxiliary services the monitoring component asks
 * for, with their config files uploaded and data in named volumes.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";

import { ApfaClusterBase, CLUSTER_TYPES, type AuxService, type AuxServiceSpec, type SlotDeployment } from "../../contract";
import type { DockerConfig, Slot } from "../../config";
import { SLOTS } from "../../config";
import { slotImage, trafficWeights } from "../../bluegreen";
import { httpProbeCommand } from "../../health";
import { hashBuildContext } from "./context-hash";
import { PROXY_IMAGE } from "./images";
import { DockerDatabase } from "./database";
import { PASSWORD_ENV, libpqEnvironment } from "../../config/database";
import { nginxConfig } from "./proxy";
import type { DockerTargetOutputs } from "./outputs";

export interface DockerClusterArgs {
    /** Validated config of a `docker` stack. */
    readonly config: DockerConfig;
}

/** Port nginx listens on inside the proxy container (unprivileged). */
const PROXY_INTERNAL_PORT = 8080;
/** Path nginx answers itself, for the proxy's own health check. */
const PROXY_HEALTH_PATH = "/proxy-health";

/** Docker health-check timing shared by every container of the stack. */
const HEALTHCHECK_TIMING = { interval: "10s", timeout: "3s", retries: 3, startPeriod: "10s" } as const;

/** Docker labels from the stack's tags plus the project/stack identity. */
function dockerLabels(config: DockerConfig, extra: Record<string, string> = {}): docker.types.input.ContainerLabel[] {
    const all: Record<string, string> = {
        ...config.tags,
        "com.apfa.project": config.project,
        "com.apfa.stack": config.stack,
        "com.apfa.managed-by": "pulumi",
        ...extra,
    };
    return Object.entries(all).map(([label, value]) => ({ label, value }));
}

/** Network alias of a slot: resolves to every replica of that slot. */
export function slotAlias(slot: Slot): string {
    return `apfa-${slot}`;
}

export class DockerCluster extends ApfaClusterBase<DockerTargetOutputs> {
    /** The stack's private network. */
    readonly network: docker.Network;
    /** The weighted nginx proxy (the only resource a weight change touches). */
    readonly proxy: docker.Container;
    /** APFA containers per slot. */
    readonly slotContainers: Readonly<Record<Slot, docker.Container[]>>;
    /** PostgreSQL, when `apfa:database.enabled`. */
    readonly postgres?: DockerDatabase;

    private readonly config: DockerConfig;
    /** This component's name: the prefix of every child's logical name. */
    private readonly name: string;

    constructor(name: string, args: DockerClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super(CLUSTER_TYPES.docker, name, trafficWeights(args.config.release), opts);
        const config = args.config;
        this.config = config;
        this.name = name;

        this.network = new docker.Network(
            `${name}-network`,
            { name: config.prefix, driver: "bridge", labels: dockerLabels(config) },
            { parent: this },
        );

        if (config.database.enabled) {
            this.postgres = new DockerDatabase(
                `${name}-database`,
                { config, network: this.network, labels: dockerLabels(config, { "com.apfa.role": "database" }) },
                { parent: this },
            );
        }

        const images = this.createSlotImages(name);
        const containers = {} as Record<Slot, docker.Container[]>;
        const slots = {} as Record<Slot, SlotDeployment>;
        for (const slot of SLOTS) {
            containers[slot] = this.createSlot(name, slot, images[slot]);
            slots[slot] = {
                slot,
                weight: this.weights[slot],
                // Prometheus scrapes the metrics port, which the proxy never forwards to.
                discovery: { kind: "dns", name: slotAlias(slot), port: config.app.metricsPort },
            };
        }
        this.slotContainers = containers;

        this.proxy = this.createProxy(name, [...containers.blue, ...containers.green]);
        this.complete({
            url: pulumi.output(`http://localhost:${config.docker.proxyPort}`),
            slots,
            trafficUrn: this.proxy.urn,
            database: this.postgres,
            outputs: {
                network: this.network.name,
                proxyContainer: this.proxy.name,
                slotContainers: pulumi.output({
                    blue: containers.blue.map((c) => c.name),
                    green: containers.green.map((c) => c.name),
                }),
            },
        });
    }

    /**
     * The image each slot runs: the slot's configured image (pulled), or the build context built
     * once and shared by both slots. Containers use the image id, so a rebuild replaces them.
     */
    private createSlotImages(name: string): Record<Slot, pulumi.Output<string>> {
        const { release, docker: settings, prefix } = this.config;
        let built: docker.RemoteImage | undefined;
        const pulled = new Map<string, docker.RemoteImage>();
        const result = {} as Record<Slot, pulumi.Output<string>>;
        for (const slot of SLOTS) {
            const image = slotImage(release, slot);
            if (image === undefined) {
                if (!built) {
                    const context = path.resolve(settings.buildContext);
                    built = new docker.RemoteImage(
                        `${name}-app-image`,
                        {
                            name: `${prefix}-app:local`,
                            build: { context, dockerfile: "Dockerfile", labels: { "com.apfa.stack": this.config.stack } },
                            // Rebuild when any file of the build context changes.
                            triggers: { contextSha256: hashBuildContext(context) },
                            keepLocally: false,
                        },
                        { parent: this },
                    );
                }
                result[slot] = built.imageId;
            } else {
                let remote = pulled.get(image);
                if (!remote) {
                    remote = new docker.RemoteImage(`${name}-${slot}-image`, { name: image, keepLocally: true }, { parent: this });
                    pulled.set(image, remote);
                }
                result[slot] = remote.imageId;
            }
        }
        return result;
    }

    private createSlot(name: string, slot: Slot, imageId: pulumi.Output<string>): docker.Container[] {
        const { app, release, docker: settings, prefix } = this.config;
        const env: Record<string, string> = {
            ...app.env,
            ...release[slot].env,
            PORT: String(app.port),
            METRICS_PORT: String(app.metricsPort),
            SLOT: slot,
            APP_VERSION: slotImage(release, slot) ?? "local",
        };
        const containers: docker.Container[] = [];
        // A scaled-down slot (the old one, after a release's rollback window) runs no containers;
        // config validation guarantees it has no traffic weight.
        const replicas = release[slot].scaledDown ? 0 : settings.replicasPerSlot;
        for (let replica = 1; replica <= replicas; replica++) {
            containers.push(
                new docker.Container(
                    `${name}-${slot}-${replica}`,
                    {
                        name: `${prefix}-${slot}-${replica}`,
                        image: imageId,
                        envs: this.slotEnvs(env),
                        networksAdvanced: [{ name: this.network.name, aliases: [slotAlias(slot)] }],
                        // No published ports: APFA is reached through the proxy only.
                        healthcheck: { tests: httpProbeCommand(app.port, app.healthPath), ...HEALTHCHECK_TIMING },
                        restart: "unless-stopped",
                        memory: app.memoryMiB,
                        cpus: String(app.cpu),
                        labels: dockerLabels(this.config, { "com.apfa.slot": slot }),
                        logDriver: "json-file",
                        logOpts: { "max-size": "10m", "max-file": "3" },
                        destroyGraceSeconds: 10,
                    },
                    // Fixed container names: the old container must go before its replacement starts.
                    { parent: this, deleteBeforeReplace: true, dependsOn: this.postgres ? [this.postgres.container] : [] },
                ),
            );
        }
        return containers;
    }

    /**
     * A slot's environment as Docker takes it, with the database's libpq settings when there is a
     * database. PGPASSWORD is one secret element of the list (Pulumi keeps nested secrets), so the
     * other entries stay readable in diffs.
     */
    private slotEnvs(env: Readonly<Record<string, string>>): pulumi.Input<pulumi.Input<string>[]> {
        const plain = Object.entries(env).map(([k, v]) => `${k}=${v}`);
        const connection = this.postgres?.connection;
        if (!connection) {
            return plain;
        }
        if (connection.password.kind !== "value") {
            throw new pulumi.ResourceError("the dev database hands out its password as a value", this);
        }
        const database = Object.entries(libpqEnvironment(connection)).map(([k, v]) => pulumi.interpolate`${k}=${v}`);
        const password = pulumi.secret(pulumi.interpolate`${PASSWORD_ENV}=${connection.password.value}`);
        return [...plain, ...database, password];
    }

    private createProxy(name: string, backends: docker.Container[]): docker.Container {
        const { docker: settings, prefix, app } = this.config;
        const proxyImage = new docker.RemoteImage(`${name}-proxy-image`, { name: PROXY_IMAGE, keepLocally: true }, { parent: this });
        const config = nginxConfig({
            weights: this.weights,
            upstreams: { blue: `${slotAlias("blue")}:${app.port}`, green: `${slotAlias("green")}:${app.port}` },
            listenPort: PROXY_INTERNAL_PORT,
            healthPath: PROXY_HEALTH_PATH,
        });
        return new docker.Container(
            `${name}-proxy`,
            {
                name: `${prefix}-proxy`,
                image: proxyImage.imageId,
                networksAdvanced: [{ name: this.network.name, aliases: ["apfa-proxy"] }],
                ports: [{ internal: PROXY_INTERNAL_PORT, external: settings.proxyPort, ip: "127.0.0.1" }],
                uploads: [{ file: "/etc/nginx/nginx.conf", content: config }],
                healthcheck: {
                    tests: ["CMD-SHELL", `wget -q -O /dev/null http://127.0.0.1:${PROXY_INTERNAL_PORT}${PROXY_HEALTH_PATH} || exit 1`],
                    ...HEALTHCHECK_TIMING,
                },
                restart: "unless-stopped",
                labels: dockerLabels(this.config, { "com.apfa.role": "traffic" }),
                logDriver: "json-file",
                logOpts: { "max-size": "10m", "max-file": "3" },
            },
            // A weight change rewrites nginx.conf, which replaces this container (a second or two
            // without the proxy on dev; the cloud targets change weights in place).
            { parent: this, deleteBeforeReplace: true, dependsOn: backends },
        );
    }

    runService(spec: AuxServiceSpec, parent: pulumi.Resource): AuxService {
        const base = `${this.config.prefix}-${spec.name}`;
        const logical = `${this.name}-${spec.name}`;
        const image = new docker.RemoteImage(`${logical}-image`, { name: spec.image, keepLocally: true }, { parent });

        let volume: docker.Volume | undefined;
        if (spec.dataVolume) {
            volume = new docker.Volume(
                `${logical}-data`,
                { name: `${base}-data`, labels: dockerLabels(this.config) },
                // Data outlives a container replacement; `pulumi destroy` removes it.
                { parent },
            );
        }

        const env = Object.entries(spec.env ?? {}).map(([k, v]) => pulumi.interpolate`${k}=${v}`);
        const secretEnv = Object.entries(spec.secretEnv ?? {}).map(([k, v]) => pulumi.secret(pulumi.interpolate`${k}=${v}`));

        const container = new docker.Container(
            logical,
            {
                name: base,
                image: image.imageId,
                command: spec.args ? [...spec.args] : undefined,
                user: String(spec.runAsUser),
                envs: pulumi.all([...env, ...secretEnv]),
                networksAdvanced: [{ name: this.network.name, aliases: [spec.name] }],
                ports: [{ internal: spec.port, external: spec.operatorPort, ip: "127.0.0.1" }],
                // Secret files are uploads too: a secret input keeps the whole uploads list secret in state.
                uploads: pulumi.all([
                    ...Object.entries(spec.files).map(([file, content]) => pulumi.output({ file, content })),
                    ...Object.entries(spec.secretFiles ?? {}).map(([file, content]) => pulumi.secret(pulumi.output({ file, content }))),
                ]),
                volumes: volume && spec.dataVolume ? [{ volumeName: volume.name, containerPath: spec.dataVolume.mountPath }] : undefined,
                healthcheck: { tests: httpProbeCommand(spec.port, spec.healthPath), ...HEALTHCHECK_TIMING },
                restart: "unless-stopped",
                memory: spec.resources.memoryMiB,
                cpus: String(spec.resources.cpu),
                labels: dockerLabels(this.config, { "com.apfa.role": spec.name }),
                logDriver: "json-file",
                logOpts: { "max-size": "10m", "max-file": "3" },
            },
            { parent, deleteBeforeReplace: true },
        );

        return {
            internalUrl: pulumi.output(`http://${spec.name}:${spec.port}`),
            operatorUrl: container.name.apply(() => `http://127.0.0.1:${spec.operatorPort}`),
        };
    }
}
