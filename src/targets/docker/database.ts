/**
 * The dev stack's database: the official PostgreSQL image in one container on the stack's private
 * network, its data in a named volume, its password generated (a Pulumi secret).
 *
 * - Not published on the host unless `apfa:docker.databaseHostPort` asks (then on 127.0.0.1 only).
 * - The password reaches PostgreSQL as a secret file (`POSTGRES_PASSWORD_FILE`, readable by the
 *   postgres user only), so it is not in `docker inspect`'s environment of this container.
 * - The image's entrypoint runs initdb, creating the user and database, only when the volume is
 *   empty: the password is fixed at that moment. The RandomPassword keeps it stable, and replacing
 *   it (or the volume) is the only way the two could disagree.
 * - `wait: true`: `pulumi up` waits for `pg_isready`, and the app containers depend on this one.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

import type { DockerConfig } from "../../config";
import { POSTGRES_PORT } from "../../config";
import type { Database, DatabaseConnection, DatabaseRole } from "../../contract";
import { POSTGRES_IMAGES } from "./settings";

export const DOCKER_DATABASE_TYPE = "apfa:docker:PostgresDatabase";

/** The database's network alias on the stack's private network (PGHOST of the app). */
export const DATABASE_HOST = "postgres";
/** Where the secret password file is placed in the container. */
const PASSWORD_FILE = "/run/secrets/postgres-password";
/** uid/gid of `postgres` in the official Alpine images. */
const POSTGRES_ALPINE_UID = "70";

/**
 * Where the volume goes: the official images up to 17 keep PGDATA at /var/lib/postgresql/data;
 * 18 moved it to /var/lib/postgresql/<major>/docker and declares the volume at /var/lib/postgresql
 * (so `pg_upgrade --link` can see both majors' directories on one volume).
 */
export function dataMountPath(majorVersion: number): string {
    return majorVersion >= 18 ? "/var/lib/postgresql" : "/var/lib/postgresql/data";
}

/** The healthcheck command: ready when the server accepts connections to APFA's database. */
export function readinessCommand(user: string, database: string): string[] {
    return ["CMD", "pg_isready", "--host=127.0.0.1", `--port=${POSTGRES_PORT}`, `--username=${user}`, `--dbname=${database}`];
}

export interface DockerDatabaseArgs {
    readonly config: DockerConfig;
    /** The stack's private network: the only place PostgreSQL listens on. */
    readonly network: docker.Network;
    /** Labels of the container and volume (the stack's tags and identity). */
    readonly labels: docker.types.input.ContainerLabel[];
    /** Only `primary` today (see {@link DatabaseRole}). @default "primary" */
    readonly role?: DatabaseRole;
}

/** Memory of the dev database container: shared_buffers' 128 MB default plus connections and work_mem. */
const MEMORY_MIB = 512;

export class DockerDatabase extends pulumi.ComponentResource implements Database {
    readonly role: DatabaseRole;
    readonly connection: DatabaseConnection;
    readonly extraOutputs: Readonly<Record<string, pulumi.Output<unknown>>>;
    /** The PostgreSQL container: app containers depend on it. */
    readonly container: docker.Container;
    readonly volume: docker.Volume;

    constructor(name: string, args: DockerDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super(DOCKER_DATABASE_TYPE, name, {}, opts);
        const { config } = args;
        const settings = config.database;
        this.role = args.role ?? "primary";
        const image = POSTGRES_IMAGES[settings.majorVersion];
        if (image === undefined) {
            // Config validation refuses other versions; this guards callers that skip it.
            throw new pulumi.ResourceError(`apfa:database.majorVersion: no dev image for PostgreSQL ${settings.majorVersion}`, this);
        }
        const protect = settings.deletionProtection;

        // Letters and digits only: safe in libpq's environment, URLs and shells; 32 of them ≈ 190 bits.
        const password = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, { parent: this, protect });
        const pulled = new docker.RemoteImage(`${name}-image`, { name: image, keepLocally: true }, { parent: this });
        this.volume = new docker.Volume(
            `${name}-data`,
            { name: `${config.prefix}-postgres-data`, labels: args.labels.map((l) => ({ label: l.label, value: l.value })) },
            // The data outlives container replacements; with deletion protection a destroy refuses it.
            { parent: this, protect },
        );

        const hostPort = config.docker.databaseHostPort;
        this.container = new docker.Container(
            name,
            {
                name: `${config.prefix}-postgres`,
                image: pulled.imageId,
                envs: [`POSTGRES_USER=${settings.user}`, `POSTGRES_DB=${settings.name}`, `POSTGRES_PASSWORD_FILE=${PASSWORD_FILE}`],
                // A secret input keeps the whole uploads list secret in state and plans.
                uploads: [
                    pulumi.secret(
                        password.result.apply((content) => ({
                            file: PASSWORD_FILE,
                            content,
                            owner: POSTGRES_ALPINE_UID,
                            group: POSTGRES_ALPINE_UID,
                            permissions: "0400",
                        })),
                    ),
                ],
                networksAdvanced: [{ name: args.network.name, aliases: [DATABASE_HOST] }],
                // Never on all interfaces: on the Docker host's loopback only, and only when asked.
                ports: hostPort === undefined ? undefined : [{ internal: POSTGRES_PORT, external: hostPort, ip: "127.0.0.1" }],
                volumes: [{ volumeName: this.volume.name, containerPath: dataMountPath(settings.majorVersion) }],
                healthcheck: { tests: readinessCommand(settings.user, settings.name), interval: "5s", timeout: "3s", retries: 5, startPeriod: "30s" },
                wait: true,
                waitTimeout: 120,
                restart: "unless-stopped",
                memory: MEMORY_MIB,
                labels: args.labels,
                logDriver: "json-file",
                logOpts: { "max-size": "10m", "max-file": "3" },
                // PostgreSQL's smart shutdown finishes a checkpoint; Docker's default 10 s can cut it short.
                destroyGraceSeconds: 30,
            },
            // A fixed container name: the old container must go before its replacement starts.
            { parent: this, deleteBeforeReplace: true },
        );

        this.connection = {
            // Known once the container exists, so whatever reads it waits for PostgreSQL.
            host: this.container.name.apply(() => DATABASE_HOST),
            port: POSTGRES_PORT,
            database: settings.name,
            user: settings.user,
            password: { kind: "value", value: pulumi.secret(password.result) },
            // Plain TCP on the stack's private bridge network; the official image has no certificate.
            sslMode: "disable",
        };
        this.extraOutputs = {
            container: this.container.name,
            volume: this.volume.name,
            image: pulumi.output(image),
            localEndpoint: pulumi.output(hostPort === undefined ? "not published (apfa:docker.databaseHostPort)" : `127.0.0.1:${hostPort}`),
        };
        this.registerOutputs({ ...this.extraOutputs, role: this.role });
    }
}
