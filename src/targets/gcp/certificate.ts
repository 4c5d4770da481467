/**
 * HTTPS on the GKE Gateway: a Google-managed certificate from Certificate Manager, attached to the
 * Gateway through a certificate map (`networking.gke.io/certmap`).
 *
 * Why Certificate Manager rather than pre-shared certificates (`networking.gke.io/pre-shared-certs`
 * naming compute SSL certificates): Google issues and renews the certificate itself, and with DNS
 * authorisation it can be issued before any traffic moves to the Gateway (one CNAME record, output
 * as `target.certificateDnsRecord`), so the first HTTPS request already finds a valid certificate; a
 * pre-shared self-managed certificate would need a key and renewals handled outside this program,
 * and a load-balancer-authorised one issues only after DNS already points at the Gateway. The map
 * works with the global Gateway classes, which the config requires for TLS.
 *
 * Resources (all global): a DNS authorisation for the host name, the managed certificate using it,
 * a certificate map and its entry for the host name. The Gateway names the map in an annotation and
 * must carry no `tls.certificateRefs` (GKE treats both together as an error).
 */
import * as gcp from "@pulumi/gcp";
import type * as pulumi from "@pulumi/pulumi";

import type { GcpConfig } from "../../config";
import { stackLabels } from "./infra";
import { gcpName } from "./names";

/** Certificate Manager names: a letter, then letters, digits, `-` or `_`, at most 64. */
const CERT_NAME_LIMIT = 63;

/** The Gateway annotation that attaches a certificate map to a global GKE Gateway. */
export const CERTMAP_ANNOTATION = "networking.gke.io/certmap";

/** Physical names of the certificate resources, from the stack prefix. */
export function certificateNames(prefix: string) {
    return {
        dnsAuthorization: gcpName(prefix, "dns-auth", CERT_NAME_LIMIT),
        certificate: gcpName(prefix, "cert", CERT_NAME_LIMIT),
        map: gcpName(prefix, "certmap", CERT_NAME_LIMIT),
        mapEntry: gcpName(prefix, "certmap-entry", CERT_NAME_LIMIT),
    };
}

/** The Gateway annotations that attach the certificate map `mapName`. */
export function certmapAnnotations(mapName: string): Record<string, string> {
    return { [CERTMAP_ANNOTATION]: mapName };
}

/**
 * The DNS record a DNS authorisation asks for, as one zone-file line (`name TYPE data`); while the
 * API has not reported it, the command that shows it.
 */
export function dnsRecordLine(record: { name?: string; type?: string; data?: string } | undefined, authorizationName: string, project: string): string {
    if (!record?.name || !record.type || !record.data) {
        return `(not reported yet: gcloud certificate-manager dns-authorizations describe ${authorizationName} --project ${project})`;
    }
    return `${record.name} ${record.type} ${record.data}`;
}

export interface GatewayCertificate {
    readonly dnsAuthorization: gcp.certificatemanager.DnsAuthorization;
    readonly certificate: gcp.certificatemanager.Certificate;
    readonly map: gcp.certificatemanager.CertificateMap;
    readonly mapEntry: gcp.certificatemanager.CertificateMapEntry;
    /** Name of the map, known at construction (the Gateway annotation uses it). */
    readonly mapName: string;
    /** The CNAME record to add to the domain's zone (one line). */
    readonly dnsRecord: pulumi.Output<string>;
}

/** The certificate resources for `domainName`, as children of `parent`. */
export function createGatewayCertificate(name: string, config: GcpConfig, domainName: string, parent: pulumi.Resource): GatewayCertificate {
    const { project } = config.gcp;
    const names = certificateNames(config.prefix);
    const labels = stackLabels(config);
    const opts = { parent };

    const dnsAuthorization = new gcp.certificatemanager.DnsAuthorization(
        `${name}-dns-auth`,
        { project, name: names.dnsAuthorization, domain: domainName, description: `APFA ${config.stack}: proves control of ${domainName}`, labels },
        opts,
    );
    const certificate = new gcp.certificatemanager.Certificate(
        `${name}-cert`,
        {
            project,
            name: names.certificate,
            description: `APFA ${config.stack}: Google-managed certificate of ${domainName}`,
            scope: "DEFAULT",
            managed: { domains: [domainName], dnsAuthorizations: [dnsAuthorization.id] },
            labels,
        },
        opts,
    );
    const map = new gcp.certificatemanager.CertificateMap(
        `${name}-certmap`,
        { project, name: names.map, description: `APFA ${config.stack}: certificates of the GKE Gateway`, labels },
        opts,
    );
    const mapEntry = new gcp.certificatemanager.CertificateMapEntry(
        `${name}-certmap-entry`,
        { project, name: names.mapEntry, map: map.name, hostname: domainName, certificates: [certificate.id], labels },
        opts,
    );
    return {
        dnsAuthorization,
        certificate,
        map,
        mapEntry,
        mapName: names.map,
        dnsRecord: dnsAuthorization.dnsResourceRecords.apply((records) => dnsRecordLine(records?.[0], names.dnsAuthorization, project)),
    };
}
