/**
 * The seam between clouds: what every target provides. A leaf module: it imports nothing of the
 * project's, so targets, the monitoring component and the factory (`src/cluster.ts`) can all depend
 * on it without a cycle.
 *
 * A target is a `pulumi.ComponentResource` implementing {@link ApfaCluster} (usually by extending
 * {@link ApfaClusterBase}). The monitoring component and the stack outputs only talk to this
 * interface, so they never switch on the cloud.
 */
import * as pulumi from "@pulumi/pulumi";

/** The two blue/green slots. */
export const SLOTS = ["blue", "green"] as const;
export type Slot = (typeof SLOTS)[number];

/** Percent of user traffic per slot (0-100; the two add up to 100). */
export type TrafficWeights = Readonly<Record<Slot, number>>;

/**
 * How Prometheus finds the replicas of one slot on this platform. Each variant maps to one
 * Prometheus service-discovery mechanism; the monitoring component renders it.
 */
export type ScrapeDiscovery =
    /** A DNS name with one A record per replica (Docker network alias, Kubernetes headless Service). */
    | { readonly kind: "dns"; readonly name: string; readonly port: number }
    /**
     * The ECS API (Prometheus `aws_sd_configs` with `role: ecs`, Prometheus >= 3.8): every running
     * task of the service, however many (Cloud Map DNS answers at most 8). Prometheus is pointed at
     * this one cluster by ARN (it accepts no names there), so its role needs no access to others.
     */
    | {
          readonly kind: "ecs";
          readonly region: string;
          readonly clusterArn: pulumi.Input<string>;
          readonly clusterName: string;
          readonly serviceName: string;
          readonly port: number;
      };

/** One blue/green slot as deployed. */
export interface SlotDeployment {
    readonly slot: Slot;
    /** Percent of user traffic routed to this slot (0-100; the two slots add up to 100). */
    readonly weight: number;
    /** How Prometheus discovers this slot's replicas. */
    readonly discovery: ScrapeDiscovery;
}

/** An auxiliary container service (Prometheus, Grafana) the monitoring component asks a target to run. */
export interface AuxServiceSpec {
    /** Short name, unique within the stack: becomes part of resource names (e.g. "prometheus"). */
    readonly name: string;
    readonly image: string;
    /** Container arguments (the image's entrypoint stays). */
    readonly args?: readonly string[];
    /** Port the service listens on inside its container. */
    readonly port: number;
    /** HTTP path that answers 200 while the process is alive (liveness: a failing one restarts it). */
    readonly healthPath: string;
    /**
     * HTTP path that answers 200 once the service can take requests (readiness: load-balancer and
     * Service endpoints). Prometheus is alive long before it is ready (WAL replay). @default healthPath
     */
    readonly readyPath?: string;
    /** Files to place in the container before it starts: absolute path → content. */
    readonly files: Readonly<Record<string, pulumi.Input<string>>>;
    /** Persistent data directory, where the platform has volumes that suit it. */
    readonly dataVolume?: { readonly mountPath: string; readonly sizeGiB: number };
    /** Plain environment. */
    readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
    /** Secret environment: each target keeps these in its secret store, never in plain config. */
    readonly secretEnv?: Readonly<Record<string, pulumi.Output<string>>>;
    /**
     * Secret files: absolute path → content, placed like `files` but kept in the target's secret
     * store (Docker: a secret upload; ECS: a Secrets Manager secret the init container writes out;
     * Kubernetes: a Secret volume). For programs that read credentials from files only
     * (Alertmanager's `*_file` fields), never from the environment.
     */
    readonly secretFiles?: Readonly<Record<string, pulumi.Output<string>>>;
    /**
     * TCP ports it sends requests to outside the platform's network (Alertmanager: Slack,
     * PagerDuty, SMTP). Targets with closed egress open exactly these. @default []
     */
    readonly egressPorts?: readonly number[];
    /** vCPU and memory the service needs. */
    readonly resources: { readonly cpu: number; readonly memoryMiB: number };
    /** User id the image runs as (its files and volume must be writable by it). */
    readonly runAsUser: number;
    /** Whether it needs read access to the platform's service-discovery API (Prometheus does). */
    readonly discoversTargets?: boolean;
    /** Port on which operators reach it (Docker: 127.0.0.1:<port>; elsewhere the target's own way in). */
    readonly operatorPort: number;
    /**
     * Run several replicas that find each other and share their state (Alertmanager's gossip of
     * silences and the notification log), where the platform gives replicas a shared DNS name:
     * Kubernetes runs `replicas` pods, a headless Service whose name resolves to all of them, and a
     * PodDisruptionBudget; each replica keeps its state in an emptyDir (the peers hold the copy a
     * restarted replica resyncs from), so `dataVolume` is not used there. Docker and ECS run one
     * replica with `args` and `dataVolume`, as without this field.
     */
    /**
     * Access this service needs to the target's managed metrics store ({@link ApfaCluster.metricsStore}):
     * `write` (Prometheus remote-writes to it) or `query` (Grafana reads it). The target grants exactly
     * that on exactly that store, and nothing when it has none.
     */
    readonly metricsStoreAccess?: "write" | "query";
    readonly peers?: {
        /** At least 2. */
        readonly replicas: number;
        /** The peer protocol's port (TCP and UDP), open between the replicas only. */
        readonly port: number;
        /**
         * The full argument list of a replica, given a DNS name that resolves to every replica and the
         * replica's own address (an expression the platform expands, e.g. Kubernetes' `$(POD_IP)`).
         */
        readonly args: (peersHost: string, ownAddress: string) => readonly string[];
    };
}

/** A running auxiliary service. */
export interface AuxService {
    /** URL other services of the stack use to reach it (e.g. Grafana's datasource URL). */
    readonly internalUrl: pulumi.Output<string>;
    /** URL or instructions for an operator to reach it. Never a public endpoint by default. */
    readonly operatorUrl: pulumi.Output<string>;
    /**
     * Set when the platform runs the spec's `peers`: a DNS name with one A record per replica, for
     * clients that must reach each of them (Prometheus sends every alert to every Alertmanager).
     */
    readonly replicas?: { readonly dnsName: pulumi.Output<string>; readonly port: number };
}

/**
 * A target's own stack outputs, one Output per field: a plain record, so a secret field (a
 * kubeconfig) stays secret without hiding its plain siblings. Each target declares its record's
 * plain shape in its SDK-free `outputs.ts`, which the release tool reads too.
 */
export type OutputsOf<T> = { readonly [K in keyof T]-?: pulumi.Output<T[K]> };

/**
 * Where the app's database password comes from. The target turns it into secret environment
 * (`PGPASSWORD`) through its own secret store; it never appears in plain config, a plan or an output.
 */
export type DatabaseSecret =
    /** A value the program holds (a generated password): the target stores it as a secret. */
    | { readonly kind: "value"; readonly value: pulumi.Output<string> }
    /**
     * One key of a JSON secret in AWS Secrets Manager (the RDS-managed master password, rotated by
     * RDS): ECS injects it directly, so the program never reads the value.
     */
    | {
          readonly kind: "awsSecretsManager";
          /** The secret's full ARN (with its random suffix): IAM grants name exactly it. */
          readonly secretArn: pulumi.Output<string>;
          /** The key in the secret's JSON (`password` in RDS-managed secrets). */
          readonly jsonKey: string;
          /**
           * The customer-managed KMS key that encrypts the secret: whoever reads it needs kms:Decrypt
           * on it. Unset when the AWS-managed key does (a replica of a multi-region secret).
           */
          readonly kmsKeyArn?: pulumi.Output<string>;
      };

/**
 * How APFA reaches its PostgreSQL database. The fields map one-to-one to libpq's environment
 * (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE), which the reference app and the
 * `pg` driver read without code of their own.
 */
export interface DatabaseConnection {
    /** The writer endpoint (in a multi-region stack, the name that follows a failover). */
    readonly host: pulumi.Output<string>;
    readonly port: number;
    readonly database: string;
    readonly user: pulumi.Input<string>;
    readonly password: DatabaseSecret;
    /** `disable` only on the dev stack's private Docker network. */
    readonly sslMode: "disable" | "require" | "verify-full";
}

/**
 * A database's place in a multi-region deployment, as its stack created it: `primary` (the writer,
 * and the only role of a single-region stack) or `secondary` (a cross-region replica that a
 * failover promotes). After a failover the roles in the clouds differ from the ones the stacks
 * created; the stacks keep theirs (README, Multi-region: the reconcile step).
 */
export type DatabaseRole = "primary" | "secondary";

/** APFA's data tier on one target: a `pulumi.ComponentResource` created by the target that runs the app. */
export interface Database {
    readonly role: DatabaseRole;
    readonly connection: DatabaseConnection;
    /**
     * Address ranges the database's private endpoint lives in (Azure: the delegated subnet; GCP: the
     * private services access range), for platforms that close the app's egress (the Kubernetes
     * layer's NetworkPolicy then admits exactly these on the connection's port). Unset where the
     * network already allows it (Docker network, ECS security groups).
     */
    readonly egressCidrs?: readonly pulumi.Input<string>[];
    /** Target-specific outputs (cluster/server names, endpoints); never a credential in clear. */
    readonly extraOutputs: Readonly<Record<string, pulumi.Output<unknown>>>;
}

/**
 * A managed, Prometheus-compatible metrics store the target created for the stack
 * (`apfa:monitoring.managedPrometheus`): history that outlives Prometheus's own volume.
 */
export interface ManagedMetricsStore {
    /** Where Prometheus remote-writes every sample. */
    readonly remoteWriteUrl: pulumi.Output<string>;
    /** Root of the Prometheus HTTP API that Grafana queries. */
    readonly queryUrl: pulumi.Output<string>;
    /** How requests authenticate: AWS Signature V4 with the calling task's own role. */
    readonly auth: { readonly kind: "sigv4"; readonly region: string };
}

/** What every deployment target provides. */
export interface ApfaCluster {
    /** Where users reach APFA. */
    readonly url: pulumi.Output<string>;
    /** The two slots with their current weights and how to discover their replicas. */
    readonly slots: Readonly<Record<Slot, SlotDeployment>>;
    /** Current traffic split, for outputs and the release tool. */
    readonly weights: TrafficWeights;
    /**
     * URN of the one resource that carries the weights (nginx proxy, ALB listener rule, HTTPRoute):
     * a weight change touches only it, and `release rollback` targets it with `pulumi up --target`.
     */
    readonly trafficUrn: pulumi.Output<string>;
    /** Target-specific stack outputs (cluster names, target group ARNs, kubeconfig as a secret, …). */
    readonly extraOutputs: Readonly<Record<string, pulumi.Output<unknown>>>;
    /**
     * Runs an auxiliary container service next to APFA, reachable from APFA's network and allowed
     * to scrape APFA's port. `parent` is the component that owns it (e.g. the monitoring component).
     */
    runService(spec: AuxServiceSpec, parent: pulumi.Resource): AuxService;
    /**
     * APFA's database when `apfa:database` enables one. The target creates it (it needs the
     * target's private network, and the app's containers need its connection settings), so the
     * seam is a property of the cluster rather than a second factory.
     */
    readonly database?: Database;
    /** The managed metrics store, when `apfa:monitoring.managedPrometheus` asks for one (aws only today). */
    readonly metricsStore?: ManagedMetricsStore;
}

/** Component type tokens, one casing: `apfa:<area>:<Name>`. */
export const CLUSTER_TYPES = {
    docker: "apfa:docker:DockerCluster",
    aws: "apfa:aws:EcsCluster",
    azure: "apfa:azure:AksCluster",
    gcp: "apfa:gcp:GkeCluster",
} as const;

/** What a target hands to {@link ApfaClusterBase.complete} once its children exist. */
export interface ClusterParts<TOutputs> {
    readonly url: pulumi.Output<string>;
    readonly slots: Readonly<Record<Slot, SlotDeployment>>;
    readonly trafficUrn: pulumi.Output<string>;
    readonly outputs: OutputsOf<TOutputs>;
    /** APFA's database, when the stack has one. */
    readonly database?: Database;
}

/**
 * The shared part of every target: the contract's fields, assigned once by {@link complete}, which
 * also registers the component's outputs (the contract's plus the target's own), exactly once.
 */
export abstract class ApfaClusterBase<TOutputs extends object> extends pulumi.ComponentResource implements ApfaCluster {
    url!: pulumi.Output<string>;
    slots!: Readonly<Record<Slot, SlotDeployment>>;
    trafficUrn!: pulumi.Output<string>;
    extraOutputs!: OutputsOf<TOutputs>;
    database?: Database;

    protected constructor(
        type: (typeof CLUSTER_TYPES)[keyof typeof CLUSTER_TYPES],
        name: string,
        /** The weights the stack's release state asks for; known before any child is created. */
        readonly weights: TrafficWeights,
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super(type, name, {}, opts);
    }

    /** Records the target's parts and registers the component's outputs. Call once, last. */
    protected complete(parts: ClusterParts<TOutputs>): void {
        this.url = parts.url;
        this.slots = parts.slots;
        this.trafficUrn = parts.trafficUrn;
        this.extraOutputs = parts.outputs;
        this.database = parts.database;
        this.registerOutputs({ url: this.url, weights: this.weights, trafficUrn: this.trafficUrn, ...parts.outputs, database: parts.database?.extraOutputs });
    }

    abstract runService(spec: AuxServiceSpec, parent: pulumi.Resource): AuxService;
}
