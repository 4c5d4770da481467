/**
 * The container health check every target uses: an HTTP GET of a path on the container's own
 * port, as a shell command that works in most images — node's fetch (APFA's reference image),
 * busybox/alpine wget (the official Prometheus, Grafana and nginx images), or curl.
 */
export function httpProbeCommand(port: number, path: string): string[] {
    const url = `http://127.0.0.1:${port}${path}`;
    const node = `node -e "fetch('${url}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"`;
    return ["CMD-SHELL", `${node} 2>/dev/null || wget -q -O /dev/null ${url} 2>/dev/null || curl -fsS -o /dev/null ${url} || exit 1`];
}
