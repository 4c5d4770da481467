/**
 * The rehearsal's global entry: HAProxy with active HTTP health checks and primary/backup servers,
 * the local stand-in for Route 53 failover records (PRIMARY with a health check, SECONDARY used
 * only while the primary is unhealthy) or Front Door priority origins.
 */
export interface EntryServer {
    readonly name: string;
    /** The app replica's port (traffic and health checks). */
    readonly port: number;
    /** A backup server takes traffic only while no primary server is up. */
    readonly backup: boolean;
}

export interface EntryConfig {
    readonly frontendPort: number;
    readonly statsPort: number;
    readonly servers: readonly EntryServer[];
    /** Health check interval (ms). */
    readonly interMs: number;
    /** Failed checks before a server is marked down. */
    readonly fall: number;
    /** Successful checks before a server is marked up again. */
    readonly rise: number;
}

/** The haproxy.cfg text (HAProxy 2.6 syntax; `haproxy -c -f` accepts it — the rehearsal test runs it for real). */
export function renderHaproxyConfig(c: EntryConfig): string {
    const lines = [
        "global",
        "    maxconn 2000",
        // Server state changes go to stdout, where the rehearsal timestamps them.
        "    log stdout format raw local0 info",
        "",
        "defaults",
        "    mode http",
        "    log global",
        "    option log-health-checks",
        "    timeout connect 500ms",
        "    timeout client 10s",
        "    timeout server 5s",
        // Only a connection failure is retried (the request never reached a server): a POST is never sent twice.
        "    retries 1",
        "    option redispatch",
        "",
        "frontend entry",
        `    bind 127.0.0.1:${c.frontendPort}`,
        "    default_backend regions",
        "",
        "backend regions",
        "    balance roundrobin",
        // Every backup server shares the load once the primaries are down (not just the first one).
        "    option allbackups",
        // The readiness path: 200 only while the replica's database is reachable and writable.
        "    option httpchk GET /health/db",
        "    http-check expect status 200",
        `    default-server inter ${c.interMs}ms fastinter ${c.interMs}ms downinter ${c.interMs}ms fall ${c.fall} rise ${c.rise}`,
        ...c.servers.map((s) => `    server ${s.name} 127.0.0.1:${s.port} check${s.backup ? " backup" : ""}`),
        "",
        "frontend stats",
        `    bind 127.0.0.1:${c.statsPort}`,
        "    stats enable",
        "    stats uri /stats",
        "",
    ];
    return lines.join("\n");
}

/** Server name → status ("UP", "DOWN", "UP 1/2", …) from the stats page's CSV. */
export function parseStatsCsv(csv: string): Map<string, string> {
    const [header, ...rows] = csv.trim().split("\n");
    const cols = header.replace(/^# /, "").split(",");
    const px = cols.indexOf("pxname");
    const sv = cols.indexOf("svname");
    const status = cols.indexOf("status");
    const out = new Map<string, string>();
    for (const row of rows) {
        const f = row.split(",");
        if (f[px] === "regions" && f[sv] !== "BACKEND" && f[sv] !== "FRONTEND") {
            out.set(f[sv], f[status]);
        }
    }
    return out;
}
