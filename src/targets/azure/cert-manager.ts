/**
 * HTTPS on the AKS Gateway: cert-manager, an ACME Issuer that solves HTTP-01 challenges through the
 * Gateway itself, and the Certificate whose Secret the Gateway's HTTPS listener serves.
 *
 * Why cert-manager with ACME HTTP-01 rather than a user-provided TLS Secret: the cluster is created
 * by the same `pulumi up`, so a user-provided Secret would have to be put in by hand between runs
 * (this program keeps only the Grafana password as a Pulumi secret, on purpose), and it would expire
 * unnoticed. cert-manager obtains the certificate once the host name points at the Gateway and
 * renews it by itself (30 days before expiry by default); HTTP-01 needs no DNS provider credentials,
 * only the Gateway's port 80, which stays open anyway to redirect to HTTPS.
 *
 * Install plan: the cert-manager chart (its CRDs included, with Gateway API support switched on)
 * after the Gateway API CRDs exist; then, in APFA's namespace, an Issuer and a Certificate. The
 * solver pods run in APFA's namespace (Pod Security "restricted": cert-manager's solver pods comply
 * since v1.9.1, cert-manager#5338) and the layer's NetworkPolicy opens their port to the Envoy
 * proxies only.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

import { names } from "../../kubernetes";
import type { AzureTlsSettings } from "./settings";

/**
 * cert-manager release, pinned. v1.21.2 exists as the OCI chart quay.io/jetstack/charts/cert-manager:
 * Renovate moved a cluster to it on 2026-09-11 (ajaykumar4/cluster-template#466, "v1.20.2 ➔
 * v1.21.2"; its notes list HTTP-01 solver and Gateway API fixes). Bump deliberately.
 */
export const CERT_MANAGER_VERSION = "v1.21.2";
/** cert-manager's OCI chart (documented install path since cert-manager/website#1732). */
export const CERT_MANAGER_CHART = "oci://quay.io/jetstack/charts/cert-manager";
export const CERT_MANAGER_NAMESPACE = "cert-manager";
/** The Issuer in APFA's namespace and the Secret that holds its ACME account key. */
export const ACME_ISSUER_NAME = "apfa-acme";
export const ACME_ACCOUNT_SECRET = "apfa-acme-account";
/** The Certificate resource (its Secret is the Gateway's `TLS_SECRET_NAME`). */
export const CERTIFICATE_NAME = "apfa";

/**
 * Values of the cert-manager chart: its CRDs managed by the chart (kept on uninstall, so deleting
 * the release never deletes every Certificate), and Gateway API support on (HTTP-01 through an
 * HTTPRoute; `config.enableGatewayAPI` is the documented switch since v1.16, cert-manager/website#1586).
 */
export function certManagerValues(): Record<string, unknown> {
    return {
        crds: { enabled: true, keep: true },
        config: { apiVersion: "controller.config.cert-manager.io/v1alpha1", kind: "ControllerConfiguration", enableGatewayAPI: true },
    };
}

/**
 * The ACME Issuer: account key in `ACME_ACCOUNT_SECRET`, HTTP-01 challenges answered by a solver
 * behind an HTTPRoute on the Gateway's plain-HTTP listener, the solver's Service ClusterIP only.
 */
export function acmeIssuerSpec(tls: AzureTlsSettings): Record<string, unknown> {
    return {
        acme: {
            server: tls.acmeServer,
            ...(tls.acmeEmail ? { email: tls.acmeEmail } : {}),
            privateKeySecretRef: { name: ACME_ACCOUNT_SECRET },
            solvers: [
                {
                    http01: {
                        gatewayHTTPRoute: {
                            parentRefs: [
                                {
                                    group: "gateway.networking.k8s.io",
                                    kind: "Gateway",
                                    name: names.GATEWAY_NAME,
                                    namespace: names.APFA_NAMESPACE,
                                    sectionName: names.GATEWAY_LISTENER,
                                },
                            ],
                            serviceType: "ClusterIP",
                        },
                    },
                },
            ],
        },
    };
}

/** The Certificate: the host name, an ECDSA P-256 key rotated on every renewal, the Gateway's Secret. */
export function certificateSpec(tls: Pick<AzureTlsSettings, "domainName">): Record<string, unknown> {
    return {
        secretName: names.TLS_SECRET_NAME,
        dnsNames: [tls.domainName],
        issuerRef: { group: "cert-manager.io", kind: "Issuer", name: ACME_ISSUER_NAME },
        privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
    };
}

/** Installs cert-manager into the cluster of `provider` (after `dependsOn`: the Gateway API CRDs). */
export function installCertManager(
    name: string,
    args: { provider: k8s.Provider; dependsOn?: pulumi.Input<pulumi.Resource>[] },
    parent: pulumi.Resource,
): k8s.helm.v3.Release {
    return new k8s.helm.v3.Release(
        name,
        {
            name: "cert-manager",
            chart: CERT_MANAGER_CHART,
            version: CERT_MANAGER_VERSION,
            namespace: CERT_MANAGER_NAMESPACE,
            createNamespace: true,
            values: certManagerValues(),
            atomic: true,
            cleanupOnFail: true,
            timeout: 600,
            maxHistory: 10,
        },
        { parent, provider: args.provider, dependsOn: args.dependsOn },
    );
}

/** The Issuer and Certificate in APFA's namespace (after cert-manager and the namespace exist). */
export function createGatewayCertificate(
    name: string,
    args: { provider: k8s.Provider; namespace: pulumi.Input<string>; tls: AzureTlsSettings; dependsOn: pulumi.Input<pulumi.Resource>[]; labels?: Record<string, string> },
    parent: pulumi.Resource,
): { issuer: k8s.apiextensions.CustomResource; certificate: k8s.apiextensions.CustomResource } {
    const opts = { parent, provider: args.provider };
    const issuer = new k8s.apiextensions.CustomResource(
        `${name}-issuer`,
        {
            apiVersion: "cert-manager.io/v1",
            kind: "Issuer",
            metadata: { name: ACME_ISSUER_NAME, namespace: args.namespace, labels: args.labels },
            spec: acmeIssuerSpec(args.tls),
        },
        { ...opts, dependsOn: args.dependsOn },
    );
    // No wait for Ready: the certificate can only be issued once the host name points at the
    // Gateway's address, which the first `pulumi up` creates (cert-manager keeps retrying).
    const certificate = new k8s.apiextensions.CustomResource(
        `${name}-certificate`,
        {
            apiVersion: "cert-manager.io/v1",
            kind: "Certificate",
            metadata: { name: CERTIFICATE_NAME, namespace: args.namespace, labels: args.labels, annotations: { "pulumi.com/skipAwait": "true" } },
            spec: certificateSpec(args.tls),
        },
        { ...opts, dependsOn: [issuer] },
    );
    return { issuer, certificate };
}
