/**
 * Container images of the monitoring stack, pinned in one place.
 *
 * Prometheus is the same release as the promtool and prometheus binaries the tests validate the
 * generated config and rules with (`scripts/install-tools.sh` builds Prometheus 3.16.0): what passes
 * here is what runs. 3.x is required anyway: `aws_sd_configs` with `role: ecs` (the ECS target's
 * discovery) exists since 3.8; Debian's promtool 2.42 rejects it.
 */

/** Prometheus release; keep equal to PROMETHEUS_VERSION in scripts/install-tools.sh. */
export const PROMETHEUS_VERSION = "3.16.0";

/** Official Prometheus image (busybox based: has `wget` for health checks), runs as nobody (65534). */
export const PROMETHEUS_IMAGE = `prom/prometheus:v${PROMETHEUS_VERSION}`;

/** Alertmanager release; keep equal to ALERTMANAGER_VERSION in scripts/install-tools.sh (amtool, alertmanager). */
export const ALERTMANAGER_VERSION = "0.35.0";

/** Official Alertmanager image (busybox based), runs as nobody (65534). */
export const ALERTMANAGER_IMAGE = `prom/alertmanager:v${ALERTMANAGER_VERSION}`;

/** Official Grafana OSS image, 12.x line (alpine based), runs as grafana (472). */
export const GRAFANA_IMAGE = "grafana/grafana:12.4.12";

/**
 * A Docker Hub image as pulled through a mirror of Docker Hub (`registry`, host and optional
 * path), or unchanged without one. Docker Hub's official images live under `library/`, which a
 * mirror needs spelled out (`nginx:1` → `<registry>/library/nginx:1`).
 */
export function throughMirror(image: string, registry: string | undefined): string {
    if (registry === undefined) {
        return image;
    }
    const repository = image.includes("/") ? image : `library/${image}`;
    return `${registry.replace(/\/$/, "")}/${repository}`;
}
