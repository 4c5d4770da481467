import * as assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";

import { nginxConfig } from "../src/targets/docker/proxy";
import { requireTool } from "./helpers/tools";

const upstreams = { blue: "apfa-blue:8000", green: "apfa-green:8000" };

describe("dev proxy config (nginx split by weight)", () => {
    it("sends everything to the only slot with weight when the other has 0", () => {
        assert.match(nginxConfig({ weights: { blue: 100, green: 0 }, upstreams, listenPort: 8080, healthPath: "/h" }), /\{\n\s+\* apfa-blue:8000;\n\s+\}/);
        assert.match(nginxConfig({ weights: { blue: 0, green: 100 }, upstreams, listenPort: 8080, healthPath: "/h" }), /\{\n\s+\* apfa-green:8000;\n\s+\}/);
    });

    it("gives the green slot its percentage and blue the rest", () => {
        const conf = nginxConfig({ weights: { blue: 50, green: 50 }, upstreams, listenPort: 8080, healthPath: "/h" });
        assert.match(conf, /50% apfa-green:8000;\n\s+\* apfa-blue:8000;/);
    });

    it("refuses weights that do not add up to 100", () => {
        assert.throws(() => nginxConfig({ weights: { blue: 60, green: 50 }, upstreams, listenPort: 8080, healthPath: "/h" }), /add up to 100/);
    });

    describe("with a real nginx", function () {
        let nginx: string;
        let dir: string;
        let proc: ChildProcess | undefined;
        const servers: http.Server[] = [];

        before(function () {
            nginx = requireTool(this, "nginx");
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-nginx-"));
        });

        after(async () => {
            if (proc?.pid && proc.exitCode === null) {
                process.kill(proc.pid, "SIGTERM");
                await new Promise((resolve) => proc?.once("exit", resolve));
            }
            await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
            fs.rmSync(dir, { recursive: true, force: true });
        });

        /**
         * The container logs to /dev/stdout and /dev/stderr; under a test runner those are sockets,
         * which nginx cannot open by path, so only the log destinations are moved to files here.
         */
        const forTest = (conf: string) =>
            conf
                .replace("error_log /dev/stderr", `error_log ${path.join(dir, "error.log")}`)
                .replace("access_log /dev/stdout", `access_log ${path.join(dir, "access.log")}`)
                .replace("pid /tmp/nginx.pid", `pid ${path.join(dir, "nginx.pid")}`);

        it("accepts the generated config (nginx -t)", () => {
            const file = path.join(dir, "check.conf");
            fs.writeFileSync(file, forTest(nginxConfig({ weights: { blue: 90, green: 10 }, upstreams, listenPort: 18080, healthPath: "/proxy-health" })));
            const result = spawnSync(nginx, ["-t", "-e", "stderr", "-p", dir, "-c", file], { encoding: "utf8" });
            assert.equal(result.status, 0, result.stderr);
            assert.match(result.stderr, /syntax is ok/);
        });

        it("splits real requests between the slots by weight (10 % green)", async () => {
            const listen = async (body: string) => {
                const server = http.createServer((_req, res) => res.end(body));
                servers.push(server);
                await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
                return (server.address() as AddressInfo).port;
            };
            const bluePort = await listen("blue");
            const greenPort = await listen("green");
            const probe = http.createServer();
            await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
            const proxyPort = (probe.address() as AddressInfo).port;
            await new Promise((resolve) => probe.close(resolve));

            const file = path.join(dir, "run.conf");
            const conf = forTest(nginxConfig({
                weights: { blue: 90, green: 10 },
                upstreams: { blue: `127.0.0.1:${bluePort}`, green: `127.0.0.1:${greenPort}` },
                listenPort: proxyPort,
                healthPath: "/proxy-health",
            })).replace(/listen (\d+);/, "listen 127.0.0.1:$1;");
            fs.writeFileSync(file, conf);
            proc = spawn(nginx, ["-e", "stderr", "-p", dir, "-c", file, "-g", "daemon off;"], { stdio: ["ignore", "ignore", "pipe"] });

            const get = (p: string) =>
                new Promise<{ status: number; body: string }>((resolve, reject) => {
                    http.get({ host: "127.0.0.1", port: proxyPort, path: p, agent: false }, (res) => {
                        let body = "";
                        res.on("data", (c) => (body += c));
                        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
                    }).on("error", reject);
                });

            const deadline = Date.now() + 10_000;
            for (;;) {
                try {
                    if ((await get("/proxy-health")).status === 200) {
                        break;
                    }
                } catch {
                    // not listening yet
                }
                assert.ok(Date.now() < deadline, "nginx did not start within 10 s");
                await new Promise((resolve) => setTimeout(resolve, 50));
            }

            const total = 2000;
            const counts: Record<string, number> = { blue: 0, green: 0 };
            for (let i = 0; i < total; i++) {
                const r = await get(`/api/info?i=${i}`);
                counts[r.body] = (counts[r.body] ?? 0) + 1;
            }
            const greenShare = counts.green / total;
            // split_clients hashes a random request id: expect 10 % within a generous statistical margin.
            assert.ok(greenShare > 0.07 && greenShare < 0.13, `green got ${(greenShare * 100).toFixed(1)} % (blue ${counts.blue}, green ${counts.green})`);
            assert.equal(counts.blue + counts.green, total);
        });

        it("gives users no way to APFA's metrics, however the path is spelled (real app behind real nginx)", async () => {
            // The real reference app in this process, both ports on free loopback ports.
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- plain CommonJS app without types
            const app = require("../app/server.js") as {
                readSettings(env: Record<string, string>): { settings: Record<string, unknown> };
                createServers(settings: Record<string, unknown>): { app: http.Server; metrics: http.Server };
            };
            const { settings } = app.readSettings({ HOST: "127.0.0.1", PORT: "1", METRICS_PORT: "2" });
            const replica = app.createServers(settings);
            servers.push(replica.app, replica.metrics);
            const listen = (server: http.Server) =>
                new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
            const appPort = await listen(replica.app);
            const metricsPort = await listen(replica.metrics);

            // nginx cannot listen on port 0 and report it: take a free port from the kernel for it.
            const probe = http.createServer();
            const proxyPort = await listen(probe);
            await new Promise((resolve) => probe.close(resolve));
            const file = path.join(dir, "bypass.conf");
            const conf = forTest(nginxConfig({
                weights: { blue: 100, green: 0 },
                upstreams: { blue: `127.0.0.1:${appPort}`, green: `127.0.0.1:${appPort}` },
                listenPort: proxyPort,
                healthPath: "/proxy-health",
            }));
            fs.writeFileSync(file, conf.replace("nginx.pid", "bypass.pid").replace(/listen (\d+);/, "listen 127.0.0.1:$1;"));
            const bypass = spawn(nginx, ["-e", "stderr", "-p", dir, "-c", file, "-g", "daemon off;"], { stdio: ["ignore", "ignore", "pipe"] });
            try {
                const get = (port: number, rawPath: string) =>
                    new Promise<{ status: number; body: string }>((resolve, reject) => {
                        // http.get sends the path as written: no client-side normalisation.
                        http.get({ host: "127.0.0.1", port, path: rawPath, agent: false }, (res) => {
                            let body = "";
                            res.on("data", (c) => (body += c));
                            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
                        }).on("error", reject);
                    });
                const deadline = Date.now() + 10_000;
                while ((await get(proxyPort, "/proxy-health").catch(() => ({ status: 0 }))).status !== 200) {
                    assert.ok(Date.now() < deadline, "nginx did not start within 10 s");
                    await new Promise((resolve) => setTimeout(resolve, 50));
                }
                assert.equal((await get(proxyPort, "/health")).status, 200, "the proxy reaches the app");
                const spellings = ["/metrics", "/metrics/", "/metrics?x=1", "/%2e/metrics", "/./metrics", "//metrics", "/api/../metrics", "/%6detrics", "/metrics%00", "/METRICS"];
                for (const spelling of spellings) {
                    const answer = await get(proxyPort, spelling);
                    assert.notEqual(answer.status, 200, `${spelling} through the proxy`);
                    assert.doesNotMatch(answer.body, /apfa_http_requests_total/, `${spelling} leaked metrics`);
                }
                const scrape = await get(metricsPort, "/metrics");
                assert.equal(scrape.status, 200);
                assert.match(scrape.body, /apfa_http_requests_total\{route="\/health",method="GET",code="200"\} 1/, "Prometheus's port serves them, and counted the one request that got through");
            } finally {
                bypass.kill("SIGTERM");
                await new Promise((resolve) => bypass.once("exit", resolve));
            }
        });
    });
});
