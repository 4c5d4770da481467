/**
 * Starting a real Prometheus from tests on a free loopback port, without the find-a-free-port race:
 * Prometheus must be told its port (its own config may name it, for the self-scrape) and cannot
 * report a kernel-chosen one, so a port that was free a moment ago may be taken by the time it binds.
 * It is then retried on a new port (see withFreePorts), and readiness is asked of THIS Prometheus:
 * the one answering reports our config file, not another process that took the port.
 */
import { ProcessGroup, type RunningProcess, waitFor, withFreePorts } from "./processes";

export interface StartedPrometheus {
    readonly proc: RunningProcess;
    readonly port: number;
    /** e.g. http://127.0.0.1:40123 */
    readonly url: string;
}

/**
 * Starts `bin` in `group`. `configure(port)` writes the config file `configFile` for that listen
 * port and returns the command line (which must use `configFile` and listen on 127.0.0.1:port).
 * Resolves once this Prometheus is ready.
 */
export async function startPrometheus(
    group: ProcessGroup,
    bin: string,
    configFile: string,
    configure: (port: number) => string[],
    opts: { timeoutMs?: number } = {},
): Promise<StartedPrometheus> {
    return withFreePorts(1, async ([port]) => {
        const proc = group.start("prometheus", bin, configure(port));
        const url = `http://127.0.0.1:${port}`;
        await waitFor(
            `Prometheus on ${url} (config ${configFile}) to be ready`,
            async () => {
                const flags = (await (await fetch(`${url}/api/v1/status/flags`, { signal: AbortSignal.timeout(2000) })).json()) as {
                    data?: Record<string, string>;
                };
                if (flags.data?.["config.file"] !== configFile) {
                    return undefined; // not ready, or another process's server
                }
                return (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) })).status === 200;
            },
            { process: proc, timeoutMs: opts.timeoutMs ?? 20_000 },
        );
        return { proc, port, url };
    });
}
