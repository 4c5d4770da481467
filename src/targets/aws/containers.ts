/**
 * ECS container definitions as pure functions: APFA's container, an auxiliary service's container,
 * and the init container that delivers an auxiliary service's config files.
 *
 * Fargate cannot bind-mount files from the deployer, so config files travel in the task
 * definition: each file is gzip-compressed, base64-encoded into an environment variable of a
 * short-lived init container (`essential: false`), which writes it into a task-scoped volume and
 * exits 0. The main container starts only after that (`dependsOn … SUCCESS`) and mounts the volume
 * read-only at the file's directory. A secret file's encoded content is a Secrets Manager secret
 * instead, which ECS hands the init container as a container secret (never plain environment).
 * Unlike an entrypoint wrapper, this needs no shell in the main
 * image and no knowledge of its entrypoint, and the main container keeps its own command.
 */
import * as zlib from "node:zlib";
import { httpProbeCommand } from "../../health";

/** Image of the init container: busybox (sh, base64, gzip), pinned, multi-arch, from ECR Public. */
export const INIT_IMAGE = "public.ecr.aws/docker/library/busybox:1.37.0";
/** Name of the init container in auxiliary tasks. */
export const INIT_CONTAINER = "config-init";
/** Where the init container sees the file volumes (`<root>/<n>`) and the data volume. */
const INIT_FILES_ROOT = "/apfa-files";
const INIT_DATA_PATH = "/apfa-data";
/** The task-scoped scratch volume APFA gets at /tmp (its root filesystem is read-only). */
export const APP_TMP_VOLUME = "tmp";
/** Name of the configured-at-launch (ECS-managed EBS) data volume of auxiliary tasks. */
export const DATA_VOLUME = "data";
/** The ECS limit on a whole task definition; the container definitions must stay well below it. */
export const TASK_DEFINITION_MAX_BYTES = 64 * 1024;

export interface KeyValue {
    readonly name: string;
    readonly value: string;
}

export interface MountPoint {
    readonly sourceVolume: string;
    readonly containerPath: string;
    readonly readOnly: boolean;
}

export interface ContainerHealthCheck {
    readonly command: readonly string[];
    readonly interval: number;
    readonly timeout: number;
    readonly retries: number;
    readonly startPeriod: number;
}

/** The subset of the ECS ContainerDefinition this target writes. */
export interface ContainerDefinition {
    readonly name: string;
    readonly image: string;
    readonly essential: boolean;
    readonly user?: string;
    readonly entryPoint?: readonly string[];
    readonly command?: readonly string[];
    readonly portMappings?: readonly { containerPort: number; hostPort: number; protocol: "tcp"; name: string; appProtocol: "http" }[];
    readonly environment?: readonly KeyValue[];
    readonly secrets?: readonly { name: string; valueFrom: string }[];
    readonly mountPoints?: readonly MountPoint[];
    readonly dependsOn?: readonly { containerName: string; condition: "START" | "COMPLETE" | "SUCCESS" | "HEALTHY" }[];
    readonly readonlyRootFilesystem?: boolean;
    readonly healthCheck?: ContainerHealthCheck;
    readonly linuxParameters?: { initProcessEnabled?: boolean; capabilities?: { add?: readonly string[]; drop?: readonly string[] } };
    readonly stopTimeout?: number;
    readonly logConfiguration: { logDriver: "awslogs"; options: Readonly<Record<string, string>> };
}

export interface LogTarget {
    readonly logGroupName: string;
    readonly region: string;
}

/** awslogs to the stack's log group; non-blocking, so a logs outage never stalls APFA. */
export function awslogs(target: LogTarget, streamPrefix: string): ContainerDefinition["logConfiguration"] {
    return {
        logDriver: "awslogs",
        options: {
            "awslogs-group": target.logGroupName,
            "awslogs-region": target.region,
            "awslogs-stream-prefix": streamPrefix,
            mode: "non-blocking",
            "max-buffer-size": "25m",
        },
    };
}

/** Environment as ECS wants it: a list, sorted by name so the JSON is stable. */
export function environmentList(env: Readonly<Record<string, string>>): KeyValue[] {
    return Object.keys(env)
        .sort()
        .map((name) => ({ name, value: env[name] }));
}

/** Container secrets as ECS wants them, sorted by name; undefined when there are none (the JSON stays as before). */
export function secretList(secrets: Readonly<Record<string, string>>): { name: string; valueFrom: string }[] | undefined {
    const names = Object.keys(secrets).sort();
    return names.length > 0 ? names.map((name) => ({ name, valueFrom: secrets[name] })) : undefined;
}

/** A container health check that GETs `path` on localhost (the probe every target uses). */
export const httpHealthCheckCommand = httpProbeCommand;

/** Container health-check timing; `startPeriod` is ECS's 0-300 s grace for a starting container. */
export function healthCheckTiming(startPeriodSeconds: number): Omit<ContainerHealthCheck, "command"> {
    return { interval: 15, timeout: 5, retries: 3, startPeriod: Math.max(0, Math.min(300, startPeriodSeconds)) };
}

export interface AppContainerArgs {
    readonly image: string;
    /** Users' port: the load balancer's target. */
    readonly port: number;
    /** Prometheus's port (only the monitoring's security group may reach it). */
    readonly metricsPort: number;
    readonly healthPath: string;
    readonly env: Readonly<Record<string, string>>;
    readonly logs: LogTarget;
    readonly slot: string;
    readonly healthCheckStartPeriodSeconds: number;
    /** Container secrets: env name → `valueFrom` (a Secrets Manager ARN, or `<arn>:<json key>::`). @default {} */
    readonly secrets?: Readonly<Record<string, string>>;
}

/** APFA's one container. */
export function appContainerDefinitions(args: AppContainerArgs): ContainerDefinition[] {
    return [
        {
            name: "apfa",
            image: args.image,
            essential: true,
            portMappings: [
                { containerPort: args.port, hostPort: args.port, protocol: "tcp", name: "http", appProtocol: "http" },
                { containerPort: args.metricsPort, hostPort: args.metricsPort, protocol: "tcp", name: "metrics", appProtocol: "http" },
            ],
            environment: environmentList(args.env),
            secrets: secretList(args.secrets ?? {}),
            // Nothing in the image is writable; /tmp is a task-scoped volume.
            readonlyRootFilesystem: true,
            mountPoints: [{ sourceVolume: APP_TMP_VOLUME, containerPath: "/tmp", readOnly: false }],
            healthCheck: { command: httpHealthCheckCommand(args.port, args.healthPath), ...healthCheckTiming(args.healthCheckStartPeriodSeconds) },
            // An init process reaps zombies and forwards SIGTERM for a clean drain.
            linuxParameters: { initProcessEnabled: true },
            logConfiguration: awslogs(args.logs, args.slot),
        },
    ];
}

export interface PlannedFile {
    /** Absolute path in the main container. */
    readonly path: string;
    /** Path inside its volume. */
    readonly relativePath: string;
    /** Environment variable of the init container that carries the content. */
    readonly envName: string;
}

export interface FileVolume {
    readonly volumeName: string;
    /** Where the main container mounts it (read-only). */
    readonly mountPath: string;
    readonly files: readonly PlannedFile[];
}

function normalizeAbsolute(path: string): string {
    if (!path.startsWith("/") || path.split("/").some((part) => part === ".." || part === ".")) {
        throw new Error(`File paths must be absolute without . or .. parts: ${path}`);
    }
    const clean = path.replace(/\/+/g, "/");
    if (clean === "/" || clean.endsWith("/")) {
        throw new Error(`File path ${path} names a directory, not a file`);
    }
    if (!/^[A-Za-z0-9._\-/]+$/.test(clean)) {
        throw new Error(`File path ${path} has characters other than letters, digits, . _ - /`);
    }
    return clean;
}

function dirname(path: string): string {
    const cut = path.lastIndexOf("/");
    return cut <= 0 ? "/" : path.slice(0, cut);
}

function isUnder(path: string, dir: string): boolean {
    return path === dir || path.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
}

/**
 * Groups files into as few volumes as possible: one per top-most directory holding files, so no
 * mount is nested inside another (a read-only parent mount could not host a child's mount point).
 * Deterministic: volumes and files are sorted by path.
 */
export function planFileVolumes(paths: readonly string[], dataMountPath?: string): FileVolume[] {
    const files = [...new Set(paths.map(normalizeAbsolute))].sort();
    const dirs = [...new Set(files.map(dirname))].sort();
    if (dirs.includes("/")) {
        throw new Error(`Files directly under / cannot be delivered (the volume would hide the whole filesystem): ${files.filter((f) => dirname(f) === "/").join(", ")}`);
    }
    const roots = dirs.filter((dir) => !dirs.some((other) => other !== dir && isUnder(dir, other)));
    if (dataMountPath !== undefined) {
        const clash = roots.find((root) => isUnder(root, dataMountPath) || isUnder(dataMountPath, root));
        if (clash) {
            throw new Error(`Config files under ${clash} overlap the data volume at ${dataMountPath}; keep them apart`);
        }
    }
    let counter = 0;
    return roots.map((root, index) => ({
        volumeName: `files-${index}`,
        mountPath: root,
        files: files
            .filter((f) => isUnder(f, root))
            .map((path) => ({ path, relativePath: path.slice(root.length + 1), envName: `APFA_FILE_${counter++}` })),
    }));
}

/** A file's content as the init container receives it: gzip, then base64. */
export function encodeFileContent(content: string): string {
    return zlib.gzipSync(Buffer.from(content, "utf8"), { level: 9 }).toString("base64");
}

/** Inverse of {@link encodeFileContent} (what the init container's `base64 -d | gzip -d` does). */
export function decodeFileContent(encoded: string): string {
    return zlib.gunzipSync(Buffer.from(encoded, "base64")).toString("utf8");
}

/**
 * The init container's shell script: write every file from its variable into its volume, then
 * hand the data volume to the service's user (ECS-managed EBS volumes start owned by root).
 */
export function initScript(volumes: readonly FileVolume[], data?: { readonly uid: number }): string {
    const lines = ["set -eu", "umask 022"];
    volumes.forEach((volume, index) => {
        for (const file of volume.files) {
            const target = `${INIT_FILES_ROOT}/${index}/${file.relativePath}`;
            lines.push(`mkdir -p "$(dirname '${target}')"`);
            lines.push(`printf '%s' "$${file.envName}" | base64 -d | gzip -d > '${target}'`);
        }
    });
    if (data) {
        lines.push(`chown ${data.uid} ${INIT_DATA_PATH}`, `chmod 0750 ${INIT_DATA_PATH}`);
    }
    return lines.join("\n");
}

export interface AuxContainerArgs {
    readonly name: string;
    readonly image: string;
    readonly args?: readonly string[];
    readonly port: number;
    readonly healthPath: string;
    readonly user: number;
    readonly env: Readonly<Record<string, string>>;
    /** Container secrets: env name → Secrets Manager ARN. */
    readonly secrets: Readonly<Record<string, string>>;
    /** File volumes from {@link planFileVolumes}. */
    readonly fileVolumes: readonly FileVolume[];
    /** Encoded content ({@link encodeFileContent}) by env name of the init container. */
    readonly encodedFiles: Readonly<Record<string, string>>;
    /**
     * Secret files: Secrets Manager ARN (of the encoded content) by env name of the init container,
     * which receives them as container secrets. @default {}
     */
    readonly secretFiles?: Readonly<Record<string, string>>;
    readonly dataMountPath?: string;
    readonly logs: LogTarget;
}

/** Linux capabilities the init container never needs (it keeps CHOWN/DAC_OVERRIDE/FOWNER for its job). */
const INIT_DROPPED_CAPABILITIES = ["AUDIT_WRITE", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"];

/**
 * An auxiliary service: the init container (when there are files or a data volume) and the main
 * container, which starts only once the init container exited 0.
 */
export function auxContainerDefinitions(args: AuxContainerArgs): ContainerDefinition[] {
    const needsInit = args.fileVolumes.length > 0 || args.dataMountPath !== undefined;
    const mainMounts: MountPoint[] = args.fileVolumes.map((v) => ({ sourceVolume: v.volumeName, containerPath: v.mountPath, readOnly: true }));
    if (args.dataMountPath !== undefined) {
        mainMounts.push({ sourceVolume: DATA_VOLUME, containerPath: args.dataMountPath, readOnly: false });
    }
    const main: ContainerDefinition = {
        name: args.name,
        image: args.image,
        essential: true,
        user: String(args.user),
        command: args.args && args.args.length > 0 ? [...args.args] : undefined,
        portMappings: [{ containerPort: args.port, hostPort: args.port, protocol: "tcp", name: "http", appProtocol: "http" }],
        environment: environmentList(args.env),
        secrets: Object.keys(args.secrets)
            .sort()
            .map((name) => ({ name, valueFrom: args.secrets[name] })),
        mountPoints: mainMounts,
        dependsOn: needsInit ? [{ containerName: INIT_CONTAINER, condition: "SUCCESS" }] : undefined,
        // The images write to paths of their own (Grafana: /var/lib/grafana, plugins) that the
        // service contract does not name, so their root filesystem stays writable.
        readonlyRootFilesystem: false,
        healthCheck: { command: httpHealthCheckCommand(args.port, args.healthPath), ...healthCheckTiming(60) },
        // ECS Exec (the operators' way in) needs the init process.
        linuxParameters: { initProcessEnabled: true },
        logConfiguration: awslogs(args.logs, args.name),
    };
    if (!needsInit) {
        return [main];
    }
    const initMounts: MountPoint[] = args.fileVolumes.map((v, index) => ({
        sourceVolume: v.volumeName,
        containerPath: `${INIT_FILES_ROOT}/${index}`,
        readOnly: false,
    }));
    if (args.dataMountPath !== undefined) {
        initMounts.push({ sourceVolume: DATA_VOLUME, containerPath: INIT_DATA_PATH, readOnly: false });
    }
    const init: ContainerDefinition = {
        name: INIT_CONTAINER,
        image: INIT_IMAGE,
        essential: false,
        // Root, to write into fresh volumes and chown the data volume; it exits before the service starts.
        user: "0",
        entryPoint: ["sh", "-c"],
        command: [initScript(args.fileVolumes, args.dataMountPath !== undefined ? { uid: args.user } : undefined)],
        environment: environmentList(args.encodedFiles),
        secrets:
            Object.keys(args.secretFiles ?? {}).length > 0
                ? Object.keys(args.secretFiles ?? {})
                      .sort()
                      .map((name) => ({ name, valueFrom: (args.secretFiles ?? {})[name] }))
                : undefined,
        mountPoints: initMounts,
        readonlyRootFilesystem: true,
        linuxParameters: { capabilities: { drop: INIT_DROPPED_CAPABILITIES } },
        logConfiguration: awslogs(args.logs, `${args.name}-init`),
    };
    return [init, main];
}

/** The JSON of container definitions, with undefined fields dropped. */
export function containerDefinitionsJson(definitions: readonly ContainerDefinition[]): string {
    const json = JSON.stringify(definitions);
    const bytes = Buffer.byteLength(json, "utf8");
    // Leave room for the rest of the task definition (volumes, sizes, tags).
    if (bytes > TASK_DEFINITION_MAX_BYTES - 4096) {
        throw new Error(
            `Container definitions of ${definitions.map((d) => d.name).join(", ")} are ${bytes} bytes; ECS takes at most ${TASK_DEFINITION_MAX_BYTES} bytes per task definition. ` +
                `Deliver large files another way (e.g. bake them into the image).`,
        );
    }
    return json;
}
