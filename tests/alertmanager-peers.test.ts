/**
 * Alertmanager as a peer group, with the real binary and the arguments the Kubernetes targets give
 * each replica (alertmanagerPeerArgs): two replicas, each bound to its own loopback address as two
 * pods have their own IPs, join each other, and a silence created on one is served by the other —
 * what keeps silences when a replica is replaced. The Prometheus side (every alert to every
 * replica, found by DNS) is checked by promtool on the rendered alerting block.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { parseConfig } from "../src/config";
import { ALERTMANAGER_GOSSIP_PORT, alertmanagerPeerArgs, alertmanagerYml } from "../src/monitoring/alertmanager";
import { prometheusYml } from "../src/monitoring/prometheus";
import { ProcessGroup, freePort, runToExit, waitFor, waitForHttp } from "./helpers/processes";
import { requireTool } from "./helpers/tools";

interface Status {
    cluster: { status: string; peers: { address: string }[] };
}
interface Silence {
    id: string;
    comment: string;
    status: { state: string };
}

describe("Alertmanager peer group (real alertmanager)", function () {
    this.timeout(60000);
    const procs = new ProcessGroup();
    let work: string;

    after(async () => {
        await procs.stopAll();
        if (work) {
            fs.rmSync(work, { recursive: true, force: true });
        }
    });

    it("renders the replica's gossip flags: listen on every address, advertise its own, join the peers' name", () => {
        assert.deepEqual(alertmanagerPeerArgs("alertmanager-peers.apfa.svc.cluster.local", "$(POD_IP)"), [
            "--config.file=/etc/alertmanager/alertmanager.yml",
            "--storage.path=/alertmanager",
            "--web.listen-address=:9093",
            "--data.retention=120h",
            "--cluster.listen-address=0.0.0.0:9094",
            "--cluster.advertise-address=$(POD_IP):9094",
            "--cluster.peer=alertmanager-peers.apfa.svc.cluster.local:9094",
        ]);
        assert.equal(ALERTMANAGER_GOSSIP_PORT, 9094);
    });

    it("two replicas form one group, and a silence made on one is served by the other", async function () {
        const alertmanager = requireTool(this, "alertmanager");
        work = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-am-peers-"));
        const config = parseConfig({ values: { "apfa:cloud": "docker" }, project: "apfa", stack: "peers" });
        const configFile = path.join(work, "alertmanager.yml");
        fs.writeFileSync(configFile, alertmanagerYml(config.alerting, path.join(work, "secrets")));

        // Two "pods": loopback addresses 127.0.0.2 and .3, the same gossip port on each, as in a cluster.
        const hosts = ["127.0.0.2", "127.0.0.3"];
        const gossipPort = await freePort("127.0.0.2");
        const urls: string[] = [];
        for (const [i, host] of hosts.entries()) {
            const webPort = await freePort(host);
            const other = hosts[1 - i];
            const args = alertmanagerPeerArgs(other, host, {
                paths: { configFile, dataDir: path.join(work, `data-${i}`) },
                listenAddress: `${host}:${webPort}`,
                gossipPort,
                gossipListenHost: host,
            });
            const proc = procs.start(`alertmanager-${i}`, alertmanager, args);
            const url = `http://${host}:${webPort}`;
            await waitForHttp(`${url}/-/ready`, { process: proc, timeoutMs: 20000 });
            urls.push(url);
        }

        for (const url of urls) {
            const status = await waitFor(
                `${url} to see both peers`,
                async () => {
                    const s = (await (await fetch(`${url}/api/v2/status`)).json()) as Status;
                    // Both members known is what the silence needs; "ready" (settled) takes longer.
                    return s.cluster.peers.length === 2 ? s : undefined;
                },
                { timeoutMs: 30000 },
            );
            assert.deepEqual(status.cluster.peers.map((p) => p.address).sort(), hosts.map((h) => `${h}:${gossipPort}`));
        }

        const now = Date.now();
        const created = await fetch(`${urls[0]}/api/v2/silences`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({
                matchers: [{ name: "alertname", value: "ApfaHighErrorRate", isRegex: false, isEqual: true }],
                startsAt: new Date(now).toISOString(),
                endsAt: new Date(now + 3600_000).toISOString(),
                createdBy: "peers-test",
                comment: "made on replica 0",
            }),
        });
        assert.equal(created.status, 200, await created.clone().text());
        const { silenceID } = (await created.json()) as { silenceID: string };

        const seen = await waitFor(
            "the silence on replica 1",
            async () => {
                const silences = (await (await fetch(`${urls[1]}/api/v2/silences`)).json()) as Silence[];
                return silences.find((s) => s.id === silenceID);
            },
            { timeoutMs: 20000 },
        );
        assert.equal(seen.comment, "made on replica 0");
        assert.equal(seen.status.state, "active");
    });

    it("Prometheus sends to every replica found by the peers' DNS name (promtool accepts the block)", async function () {
        const promtool = requireTool(this, "promtool");
        work ??= fs.mkdtempSync(path.join(os.tmpdir(), "apfa-am-peers-"));
        const config = parseConfig({ values: { "apfa:cloud": "docker" }, project: "apfa", stack: "peers" });
        const yml = prometheusYml({
            settings: config.monitoring,
            app: config.app,
            discovery: { blue: { kind: "dns", name: "apfa-blue", port: 9100 }, green: { kind: "dns", name: "apfa-green", port: 9100 } },
            alertmanagerUrl: "http://alertmanager.apfa.svc.cluster.local:9093",
            alertmanagerReplicas: { dnsName: "alertmanager-peers.apfa.svc.cluster.local", port: 9093 },
        });
        assert.match(
            yml,
            /alerting:\n {2}alertmanagers:\n {4}- scheme: http\n {6}api_version: v2\n {6}timeout: 10s\n {6}dns_sd_configs:\n {8}- names:\n {12}- alertmanager-peers\.apfa\.svc\.cluster\.local\n {10}type: A\n {10}port: 9093\n {10}refresh_interval: 15s\n/,
        );
        assert.doesNotMatch(yml, /alertmanager\.apfa\.svc\.cluster\.local:9093/, "not (also) the load-balanced Service address");
        const file = path.join(work, "prometheus.yml");
        fs.writeFileSync(file, yml);
        fs.mkdirSync(path.join(work, "rules"), { recursive: true });
        fs.writeFileSync(path.join(work, "rules", "apfa.rules.yml"), "groups: []\n");
        const result = await runToExit(promtool, ["check", "config", "--syntax-only", file]);
        assert.equal(result.code, 0, result.stdout + result.stderr);
    });
});
