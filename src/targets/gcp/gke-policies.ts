/**
 * GKE Gateway policies attached to each slot's Service, as pure manifest builders. (The tests check
 * them against zod schemas of the CRDs: tests/fixtures/gcp/gke-policy-schemas.ts.)
 *
 * - `HealthCheckPolicy` (networking.gke.io/v1): without it GKE probes `/` on the serving port,
 *   which is not APFA's health endpoint; with it the load balancer checks `app.healthPath`.
 * - `GCPBackendPolicy` (networking.gke.io/v1): a short connection-draining timeout, so an endpoint
 *   that is going away (scale-in, rollout, rollback of a slot's image) stops holding requests after
 *   seconds instead of the backend-service default.
 */

export const GKE_POLICY_API_VERSION = "networking.gke.io/v1";

/** Load-balancer health-check timing: a replica is out after 2 failed checks 5 s apart. */
export const HEALTH_CHECK_TIMING = {
    checkIntervalSec: 5,
    timeoutSec: 3,
    healthyThreshold: 2,
    unhealthyThreshold: 2,
} as const;

export interface SlotPolicyArgs {
    /** Name of the policy object. */
    readonly name: string;
    readonly namespace: string;
    /** The slot's Service the policy attaches to. */
    readonly serviceName: string;
    readonly labels?: Readonly<Record<string, string>>;
}

export interface HealthCheckPolicyArgs extends SlotPolicyArgs {
    /** Container port the health check is sent to (the NEG endpoints are Pod IPs). */
    readonly port: number;
    /** HTTP path that answers 200 when a replica can take traffic. */
    readonly requestPath: string;
}

export interface BackendPolicyArgs extends SlotPolicyArgs {
    /** Connection-draining timeout in seconds (0 disables draining). */
    readonly drainingTimeoutSec: number;
}

/** A namespaced manifest without the status the server adds. */
export interface PolicyManifest {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Record<string, string> };
    readonly spec: Record<string, unknown>;
}

function serviceTarget(serviceName: string) {
    // Core-group kinds have the empty group; the CRD requires the key.
    return { group: "", kind: "Service", name: serviceName };
}

export function healthCheckPolicy(args: HealthCheckPolicyArgs): PolicyManifest {
    return {
        apiVersion: GKE_POLICY_API_VERSION,
        kind: "HealthCheckPolicy",
        metadata: { name: args.name, namespace: args.namespace, labels: { ...args.labels } },
        spec: {
            default: {
                ...HEALTH_CHECK_TIMING,
                logConfig: { enabled: false },
                config: {
                    type: "HTTP",
                    httpHealthCheck: {
                        portSpecification: "USE_FIXED_PORT",
                        port: args.port,
                        requestPath: args.requestPath,
                    },
                },
            },
            targetRef: serviceTarget(args.serviceName),
        },
    };
}

export function backendPolicy(args: BackendPolicyArgs): PolicyManifest {
    return {
        apiVersion: GKE_POLICY_API_VERSION,
        kind: "GCPBackendPolicy",
        metadata: { name: args.name, namespace: args.namespace, labels: { ...args.labels } },
        spec: {
            default: {
                connectionDraining: { drainingTimeoutSec: args.drainingTimeoutSec },
            },
            targetRef: serviceTarget(args.serviceName),
        },
    };
}
