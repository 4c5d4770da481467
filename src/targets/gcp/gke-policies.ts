/**
 * GKE Gateway policies attached to each slot's Service, as pure manifest builders, plus zod
 * schemas of their CRDs.
 *
 * - `HealthCheckPolicy` (networking.gke.io/v1): without it GKE probes `/` on the serving port,
 *   which is not APFA's health endpoint; with it the load balancer checks `app.healthPath`.
 * - `GCPBackendPolicy` (networking.gke.io/v1): a short connection-draining timeout, so an endpoint
 *   that is going away (scale-in, rollout, rollback of a slot's image) stops holding requests after
 *   seconds instead of the backend-service default.
 *
 * kubernetes-models has no schema for these GKE CRDs, so the schemas below are written from the
 * CRD definitions Google publishes (GoogleCloudPlatform/gke-gateway-api, config/crd/
 * networking.gke.io_healthcheckpolicies.yaml and apis/networking/v1/gcpbackendpolicy_types.go):
 * field names, enums, ranges and patterns. They are strict — the API server silently prunes
 * unknown fields of a structural CRD, so a misspelt field would otherwise vanish without an error.
 */
import { z } from "zod";

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

// ---------------------------------------------------------------------------------------------
// Schemas of the two CRDs (the fields this program may send; strict, so typos fail).

const dnsSubdomain = z
    .string()
    .max(253)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, "expected a DNS-1123 subdomain");
const dnsLabel = z
    .string()
    .max(63)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "expected a DNS-1123 label");
const int = (min: number, max: number) => z.number().int().min(min).max(max);

const metadataSchema = z.object({
    name: dnsSubdomain,
    namespace: dnsLabel.optional(),
    labels: z.record(z.string(), z.string().max(63)).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
});

/** `PolicyTargetReference` (gateway-api v1alpha2) as the GKE CRDs define it. */
const targetRefSchema = z.strictObject({
    group: z
        .string()
        .max(253)
        .regex(/^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/),
    kind: z
        .string()
        .min(1)
        .max(63)
        .regex(/^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/),
    name: z.string().min(1).max(253),
    namespace: dnsLabel.optional(),
});

const portSpecification = z.enum(["USE_FIXED_PORT", "USE_NAMED_PORT", "USE_SERVING_PORT"]);
const portFields = {
    port: int(1, 65535).optional(),
    portName: z
        .string()
        .max(63)
        .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/)
        .optional(),
    portSpecification: portSpecification.optional(),
};
const httpLikeHealthCheck = z.strictObject({
    ...portFields,
    host: z
        .string()
        .max(2048)
        .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/)
        .optional(),
    proxyHeader: z.enum(["NONE", "PROXY_V1"]).optional(),
    requestPath: z
        .string()
        .max(2048)
        .regex(/^\/[A-Za-z0-9/\-._~%!?$&'()*+,;=:]*$/, "expected an absolute request path")
        .optional(),
    response: z.string().max(1024).optional(),
});

const PROTOCOL_FIELD = {
    HTTP: "httpHealthCheck",
    HTTPS: "httpsHealthCheck",
    HTTP2: "http2HealthCheck",
    TCP: "tcpHealthCheck",
    GRPC: "grpcHealthCheck",
} as const;

const healthCheckConfigSchema = z
    .strictObject({
        type: z.enum(["TCP", "HTTP", "HTTPS", "HTTP2", "GRPC"]),
        httpHealthCheck: httpLikeHealthCheck.optional(),
        httpsHealthCheck: httpLikeHealthCheck.optional(),
        http2HealthCheck: httpLikeHealthCheck.optional(),
        tcpHealthCheck: z
            .strictObject({
                ...portFields,
                proxyHeader: z.enum(["NONE", "PROXY_V1"]).optional(),
                request: z.string().max(1024).optional(),
                response: z.string().max(1024).optional(),
            })
            .optional(),
        grpcHealthCheck: z.strictObject({ ...portFields, grpcServiceName: z.string().max(1024).optional() }).optional(),
    })
    // The CRD: exactly two properties, the type and its matching protocol block.
    .refine((c) => Object.keys(c).length === 2 && c[PROTOCOL_FIELD[c.type]] !== undefined, {
        message: "config needs `type` and exactly the matching protocol block (e.g. HTTP → httpHealthCheck)",
    });

export const healthCheckPolicySchema = z.strictObject({
    apiVersion: z.literal(GKE_POLICY_API_VERSION),
    kind: z.literal("HealthCheckPolicy"),
    metadata: metadataSchema,
    spec: z.strictObject({
        default: z
            .strictObject({
                checkIntervalSec: int(1, 300).optional(),
                timeoutSec: int(1, 300).optional(),
                healthyThreshold: int(1, 10).optional(),
                unhealthyThreshold: int(1, 10).optional(),
                logConfig: z.strictObject({ enabled: z.boolean().optional() }).optional(),
                config: healthCheckConfigSchema.optional(),
            })
            // "It is invalid for timeoutSec to have greater value than checkIntervalSec."
            .refine((d) => (d.timeoutSec ?? 5) <= (d.checkIntervalSec ?? 5), {
                message: "timeoutSec must not exceed checkIntervalSec",
            })
            .optional(),
        targetRef: targetRefSchema,
    }),
});

export const gcpBackendPolicySchema = z.strictObject({
    apiVersion: z.literal(GKE_POLICY_API_VERSION),
    kind: z.literal("GCPBackendPolicy"),
    metadata: metadataSchema,
    spec: z.strictObject({
        default: z
            .strictObject({
                logging: z.strictObject({ enabled: z.boolean().optional(), sampleRate: int(0, 1_000_000).optional() }).optional(),
                sessionAffinity: z
                    .strictObject({
                        type: z
                            .enum(["CLIENT_IP", "CLIENT_IP_PORT_PROTO", "CLIENT_IP_PROTO", "GENERATED_COOKIE", "HEADER_FIELD", "HTTP_COOKIE", "NONE"])
                            .optional(),
                        cookieTtlSec: int(0, 1_209_600).optional(),
                    })
                    .optional(),
                connectionDraining: z.strictObject({ drainingTimeoutSec: int(0, 3600).optional() }).optional(),
                timeoutSec: int(1, 2_147_483_647).optional(),
                securityPolicy: z.string().optional(),
                maxRatePerEndpoint: int(1, 1_000_000_000).optional(),
            })
            .optional(),
        targetRef: targetRefSchema,
    }),
});
