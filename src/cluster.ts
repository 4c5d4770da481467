/**
 * The seam between clouds: what every target provides, and the factory that picks one.
 *
 * A target is a `pulumi.ComponentResource` implementing {@link ApfaCluster}. The monitoring
 * component and the stack outputs only talk to this interface, so they never switch on the cloud.
 */
import * as pulumi from "@pulumi/pulumi";

import type { ApfaConfig, Slot } from "./config";
import type { TrafficWeights } from "./release/weights";

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
    /** HTTP path that answers 200 when the service is healthy. */
    readonly healthPath: string;
    /** Files to place in the container before it starts: absolute path → content. */
    readonly files: Readonly<Record<string, pulumi.Input<string>>>;
    /** Persistent data directory, where the platform has volumes that suit it. */
    readonly dataVolume?: { readonly mountPath: string; readonly sizeGiB: number };
    /** Plain environment. */
    readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
    /** Secret environment: each target keeps these in its secret store, never in plain config. */
    readonly secretEnv?: Readonly<Record<string, pulumi.Output<string>>>;
    /** vCPU and memory the service needs. */
    readonly resources: { readonly cpu: number; readonly memoryMiB: number };
    /** User id the image runs as (its files and volume must be writable by it). */
    readonly runAsUser: number;
    /** Whether it needs read access to the platform's service-discovery API (Prometheus does). */
    readonly discoversTargets?: boolean;
    /** Port on which operators reach it (Docker: 127.0.0.1:<port>; elsewhere the target's own way in). */
    readonly operatorPort: number;
}

/** A running auxiliary service. */
export interface AuxService {
    /** URL other services of the stack use to reach it (e.g. Grafana's datasource URL). */
    readonly internalUrl: pulumi.Output<string>;
    /** URL or instructions for an operator to reach it. Never a public endpoint by default. */
    readonly operatorUrl: pulumi.Output<string>;
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
}

/** What every target records with `registerOutputs`: the contract's outputs plus its own. */
export function clusterOutputs(cluster: Omit<ApfaCluster, "runService" | "slots">): pulumi.Inputs {
    return { url: cluster.url, weights: cluster.weights, trafficUrn: cluster.trafficUrn, ...cluster.extraOutputs };
}

/** Component type tokens, one casing: `apfa:<area>:<Name>`. */
export const CLUSTER_TYPES = {
    docker: "apfa:docker:DockerCluster",
    aws: "apfa:aws:EcsCluster",
    azure: "apfa:azure:AksCluster",
    gcp: "apfa:gcp:GkeCluster",
} as const;

/**
 * Creates the target chosen by `config.cloud`, loading only that target's module (and so only that
 * cloud's SDK): a dev stack never loads @pulumi/aws, @pulumi/azure-native or @pulumi/gcp.
 */
export function createCluster(name: string, config: ApfaConfig, opts?: pulumi.ComponentResourceOptions): ApfaCluster {
    /* eslint-disable @typescript-eslint/no-require-imports -- deliberate lazy loading of one cloud's module */
    switch (config.cloud) {
        case "docker": {
            const target: typeof import("./targets/docker") = require("./targets/docker");
            return new target.DockerCluster(name, { config }, opts);
        }
        case "aws": {
            const target: typeof import("./targets/aws") = require("./targets/aws");
            return new target.EcsCluster(name, { config }, opts);
        }
        case "azure": {
            const target: typeof import("./targets/azure") = require("./targets/azure");
            return new target.AksCluster(name, { config }, opts);
        }
        case "gcp": {
            const target: typeof import("./targets/gcp") = require("./targets/gcp");
            return new target.GkeCluster(name, { config }, opts);
        }
    }
    /* eslint-enable @typescript-eslint/no-require-imports */
}
