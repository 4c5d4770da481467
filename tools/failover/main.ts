/**
 * The failover controller's one entry point (a container on Fargate / a pod on AKS or GKE, in the
 * standby region), configured by environment variables (config.ts).
 *
 *   tsx tools/failover/main.ts [run]          the loop, until SIGTERM/SIGINT (the default)
 *   tsx tools/failover/main.ts describe       what the adapter sees of the promotion target (JSON)
 *   tsx tools/failover/main.ts switchover --yes   a planned switchover drill (no data loss), once
 *   tsx tools/failover/main.ts pause | resume | rearm <token>   edit the control file (file store only)
 *
 * Exit codes: 0 done, 1 runtime failure, 2 bad settings or usage.
 */
import type { ClientConfig } from "pg";

import { AuroraGlobalAdapter } from "./adapters/aurora";
import { AzurePostgresAdapter } from "./adapters/azure-postgres";
import { CloudSqlAdapter } from "./adapters/cloudsql";
import { PostgresAdapter } from "./adapters/postgres";
import { azureTokenProviderFromEnv, GcpMetadataTokenProvider } from "./adapters/tokens";
import type { FetchLike, PromotionAdapter } from "./adapters/types";
import { errorText } from "./adapters/types";
import { parseSettings, SettingsError, type AdapterSettings, type ControllerSettings } from "./config";
import { FileControlStore, SsmControlStore, ssmParameterReader } from "./control-store";
import { runLoop, type ControllerDeps } from "./controller";
import { INITIAL_STATE } from "./decision";
import { FailoverMetrics, serveMetrics } from "./metrics";
import { allOf, httpProbe, postgresProbe, type Probe } from "./probes";

export function buildAdapter(settings: AdapterSettings, env: NodeJS.ProcessEnv, fetchFn: FetchLike): PromotionAdapter {
    switch (settings.kind) {
        case "postgres": {
            const conn = (url: string): ClientConfig => ({ connectionString: url });
            return new PostgresAdapter({ standby: conn(settings.standbyUrl), primary: settings.primaryUrl ? conn(settings.primaryUrl) : undefined });
        }
        case "aurora-global":
            return new AuroraGlobalAdapter({ globalClusterIdentifier: settings.globalClusterIdentifier, standbyClusterArn: settings.standbyClusterArn });
        case "azure-postgres":
            return new AzurePostgresAdapter({ ...settings, tokens: azureTokenProviderFromEnv(env, fetchFn), fetch: fetchFn });
        case "cloudsql":
            return new CloudSqlAdapter({ ...settings, tokens: new GcpMetadataTokenProvider(fetchFn), fetch: fetchFn });
    }
}

function probes(settings: ControllerSettings): { primary: Probe; standby: Probe } {
    const primaryParts: Probe[] = [httpProbe(settings.primaryHealthUrls, settings.probeTimeoutMs)];
    if (settings.primaryDbUrl) {
        primaryParts.push(postgresProbe({ connectionString: settings.primaryDbUrl }, settings.probeTimeoutMs));
    }
    const standby: Probe =
        settings.standbyHealthUrls.length > 0
            ? httpProbe(settings.standbyHealthUrls, settings.probeTimeoutMs)
            : () => Promise.resolve({ healthy: true, detail: "no standby health URLs (adapter's view only)" });
    return { primary: allOf(primaryParts), standby };
}

const log = (record: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(record)}\n`);

async function run(settings: ControllerSettings): Promise<void> {
    const metrics = new FailoverMetrics();
    const adapter = buildAdapter(settings.adapter, process.env, fetch);
    const store =
        settings.controlSsmParameter !== undefined
            ? new SsmControlStore(settings.controlSsmParameter, await ssmParameterReader())
            : new FileControlStore(settings.controlFile);
    const { primary, standby } = probes(settings);
    const server = await serveMetrics(metrics, settings.metricsPort, settings.metricsHost);
    const address = server.address();
    log({
        time: new Date().toISOString(),
        event: "start",
        adapter: settings.adapter.kind,
        primaryHealthUrls: settings.primaryHealthUrls,
        standbyHealthUrls: settings.standbyHealthUrls,
        intervalMs: settings.intervalMs,
        probeTimeoutMs: settings.probeTimeoutMs,
        policy: settings.policy,
        control: store.describe(),
        metricsPort: typeof address === "object" && address ? address.port : settings.metricsPort,
    });
    const stop = new AbortController();
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
        process.once(signal, () => stop.abort());
    }
    const deps: ControllerDeps = { probePrimary: primary, probeStandby: standby, adapter, store, policy: settings.policy, metrics, log, now: Date.now };
    const last = await runLoop(deps, INITIAL_STATE, settings.intervalMs, stop.signal);
    log({ time: new Date().toISOString(), event: "stop", phase: last.phase, promotions: last.promotions });
    await new Promise((resolve) => server.close(resolve));
}

async function main(argv: string[]): Promise<number> {
    const [command = "run", ...rest] = argv;
    const usage = "usage: main.ts [run | describe | switchover --yes | pause | resume | rearm <token>]";
    if (["pause", "resume", "rearm"].includes(command)) {
        const file = process.env.APFA_FAILOVER_CONTROL_FILE;
        if (!file) {
            console.error("APFA_FAILOVER_CONTROL_FILE: required (the control file to edit)");
            return 2;
        }
        const store = new FileControlStore(file);
        const current = await store.read();
        if (current === undefined) {
            console.error(`${file} is not a valid flags document; fix or remove it first`);
            return 1;
        }
        if (command === "rearm" && !rest[0]) {
            console.error("rearm needs a token that differs from the current one, e.g. the date of the failback");
            return 2;
        }
        const next = command === "rearm" ? { ...current, rearm: rest[0] } : { ...current, paused: command === "pause" };
        await store.write(next);
        console.log(JSON.stringify(next));
        return 0;
    }
    const settings = parseSettings(process.env);
    if (command === "run") {
        await run(settings);
        return 0;
    }
    const adapter = buildAdapter(settings.adapter, process.env, fetch);
    if (command === "describe") {
        console.log(JSON.stringify(await adapter.describe(), null, 2));
        return 0;
    }
    if (command === "switchover") {
        if (!rest.includes("--yes")) {
            console.error("a switchover moves the primary to the standby region: pass --yes to confirm");
            return 2;
        }
        const before = await adapter.describe();
        if (before.role !== "standby" || !before.healthy) {
            console.error(`not switching over: the target is ${before.role} (${before.detail})`);
            return 1;
        }
        const started = Date.now();
        const result = await adapter.promote({ planned: true });
        log({ time: new Date().toISOString(), event: "switchover", durationMs: Date.now() - started, detail: result.detail });
        return 0;
    }
    console.error(usage);
    return 2;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => {
            process.exitCode = code;
        },
        (err: unknown) => {
            console.error(err instanceof SettingsError ? err.message : `failover controller: ${errorText(err)}`);
            process.exitCode = err instanceof SettingsError ? 2 : 1;
        },
    );
}
