/** Docker rules (the dev stack): a developer's machine, where the containers stay local. */
import * as docker from "@pulumi/docker";
import { validateResourceOfType } from "@pulumi/policy";

import { known, list, plain, record, resourceRule } from "./rule";

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export const dockerPortsLoopback = resourceRule(
    {
        name: "docker-ports-loopback",
        area: "docker",
        enforcementLevel: "mandatory",
        description: "Published container ports bind to 127.0.0.1: Docker's default 0.0.0.0 publishes them to the whole network and bypasses the host firewall (iptables DOCKER chain).",
    },
    validateResourceOfType(docker.Container, (container, _args, report) => {
        for (const port of list(plain(container).ports).map(record)) {
            const ip = known(port.ip);
            if (typeof ip !== "string" || !LOOPBACK.has(ip)) {
                report(`port ${String(port.external ?? port.internal)} is published on ${typeof ip === "string" ? ip : "0.0.0.0 (all interfaces)"}; bind it to 127.0.0.1`);
            }
        }
    }),
);

export const dockerNoPrivileged = resourceRule(
    {
        name: "docker-no-privileged",
        area: "docker",
        enforcementLevel: "mandatory",
        description: "Containers are not privileged, share no host namespace and never mount the Docker socket: each of those is root on the host.",
    },
    validateResourceOfType(docker.Container, (container, _args, report) => {
        const c = plain(container);
        if (c.privileged === true) {
            report("privileged is true");
        }
        for (const [key, value] of [["networkMode", c.networkMode], ["pidMode", c.pidMode], ["ipcMode", c.ipcMode], ["usernsMode", c.usernsMode]] as const) {
            if (known(value) === "host") {
                report(`${key} is host`);
            }
        }
        const sources = [...list(c.volumes).map((v) => record(v).hostPath), ...list(c.mounts).map((m) => record(m).source)];
        if (sources.some((s) => typeof s === "string" && /docker\.sock$/.test(s))) {
            report("mounts the Docker socket");
        }
        const added = list(record(c.capabilities).adds).filter((cap) => typeof cap === "string" && /^(CAP_)?(SYS_ADMIN|SYS_PTRACE|NET_ADMIN|ALL)$/.test(cap));
        if (added.length > 0) {
            report(`adds ${added.join(", ")}`);
        }
    }),
);

export const dockerHealthcheck = resourceRule(
    {
        name: "docker-healthcheck-restart",
        area: "docker",
        enforcementLevel: "advisory",
        description: "Long-running containers have a healthcheck and a restart policy, so a dead service shows as unhealthy and comes back.",
    },
    validateResourceOfType(docker.Container, (container, _args, report) => {
        const c = plain(container);
        if (c.mustRun === false) {
            return;
        }
        if (c.healthcheck === undefined) {
            report("no healthcheck");
        }
        if (c.restart === undefined || c.restart === "no") {
            report("no restart policy");
        }
    }),
);

export const dockerRules = [dockerPortsLoopback, dockerNoPrivileged, dockerHealthcheck];
