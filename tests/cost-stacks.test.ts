/**
 * The cost estimate of every stack file (the synthesized graph and its preview, priced from the
 * pinned snapshots), and `npm run cost` itself: JSON shape, budget exit codes, bad assumptions.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { PROJECT_ROOT, listStacks } from "../scripts/synth/stack-config";
import { estimate, type CostReport } from "../tools/cost/estimate";
import { assumptionsOf, deploymentStacks, hintsOf, neutral, regionOf, stackConfig } from "../tools/cost/main";
import { readStackFile, synthStack } from "./helpers/synth";

/** Resource types each stack is expected to leave unpriced (none today); anything else fails. */
const EXPECTED_NOT_PRICED: Readonly<Record<string, readonly string[]>> = {};

/** As `npm run cost` prices a stack: its graph, its region, and the config hints a preview may hide. */
function estimateStack(stack: string, preview = false, overrides: Record<string, unknown> = {}): CostReport {
    const { config } = stackConfig(stack, overrides);
    return estimate(neutral(synthStack(stack, overrides, { preview })), { cloud: config.cloud, region: regionOf(config), hints: hintsOf(config) });
}

/** A pinned price, read from the snapshot file itself (not through the estimator). */
function pinned(file: string, key: string): number {
    const doc = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "tools", "cost", "prices", file), "utf8")) as { prices: Record<string, { usd: number }> };
    return doc.prices[key].usd;
}

function item(report: CostReport, resource: string, descriptionStart: string) {
    const found = report.items.filter((i) => i.resource === resource && i.description.startsWith(descriptionStart));
    assert.equal(found.length, 1, `one item "${descriptionStart}" on ${resource}`);
    return found[0].monthly;
}

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-6, `${what}: ${actual} ≠ ${expected}`);

describe("cost of every stack file", () => {
    for (const stack of listStacks()) {
        it(`${stack}: every resource is priced, free, or expected to be unpriced`, () => {
            const report = estimateStack(stack);
            assert.deepEqual(
                report.notPriced.map((e) => `${e.type} (${e.names.join(", ")}): ${e.reason}`),
                (EXPECTED_NOT_PRICED[stack] ?? []).map(String),
            );
            const config = stackConfig(stack, {}).config;
            if (config.cloud === "docker") {
                assert.equal(report.fullScale.total, 0);
                assert.equal(report.items.length, 0);
            } else {
                assert.ok(report.atRest.total > 0 && report.fullScale.total >= report.atRest.total, `${report.atRest.total} ≤ ${report.fullScale.total}`);
                for (const i of report.items) {
                    assert.match(i.source, /^https:\/\//, `${i.resource}: ${i.description} names its price page`);
                }
            }
        });

        it(`${stack}: the preview (what a policy pack sees) gets the same estimate`, () => {
            const plan = estimateStack(stack);
            const preview = estimateStack(stack, true);
            close(preview.atRest.total, plan.atRest.total, "at rest");
            close(preview.fullScale.total, plan.fullScale.total, "full scale");
            assert.deepEqual(preview.notPriced, plan.notPriced);
        });
    }

    it("prod-aws: each slot's Fargate vCPU is minReplicas × cpu × 730 h at rest and maxReplicas × cpu × 730 h at full scale", () => {
        const file = readStackFile("prod-aws") as Record<string, { minReplicas: number; maxReplicas: number; cpu: number }>;
        const { minReplicas, maxReplicas } = file["apfa:scaling"];
        const cpu = file["apfa:app"].cpu;
        const price = pinned("aws-eu-west-1.json", "fargate.x86_64.vcpuHour");
        const report = estimateStack("prod-aws");
        for (const slot of ["blue", "green"]) {
            close(item(report, `apfa-prod-aws-${slot}`, "Fargate x86_64 vCPU").atRest, minReplicas * cpu * 730 * price, `${slot} at rest`);
            close(item(report, `apfa-prod-aws-${slot}`, "Fargate x86_64 vCPU").fullScale, maxReplicas * cpu * 730 * price, `${slot} at full scale`);
        }
        // natGateways: perAz with 3 AZs: three gateways at the hourly price.
        const nat = pinned("aws-eu-west-1.json", "natGateway.hour");
        const natHours = report.items.filter((i) => i.description === "NAT gateway hours").reduce((s, i) => s + i.monthly.atRest, 0);
        close(natHours, 3 * 730 * nat, "three NAT gateways");
    });

    it("prod-azure: the app pools run appPoolMinNodes VMs at rest and appPoolMaxNodes at full scale", () => {
        const file = readStackFile("prod-azure") as Record<string, { appPoolMinNodes: number; appPoolMaxNodes: number }>;
        const { appPoolMinNodes, appPoolMaxNodes } = file["apfa:azure"];
        const price = pinned("azure-westeurope.json", "vm.Standard_D4ds_v5.hour");
        const report = estimateStack("prod-azure");
        const pools = report.items.filter((i) => i.type === "azure-native:containerservice:AgentPool" && i.group === "compute");
        close(pools.reduce((s, i) => s + i.monthly.atRest, 0), appPoolMinNodes * 730 * price, "app pools at rest");
        close(pools.reduce((s, i) => s + i.monthly.fullScale, 0), appPoolMaxNodes * 730 * price, "app pools at full scale");
    });

    it("prod-gcp: the node pool runs minNodesPerZone × 3 zones at rest and maxNodesPerZone × 3 at full scale", () => {
        const file = readStackFile("prod-gcp") as Record<string, { minNodesPerZone: number; maxNodesPerZone: number }>;
        const { minNodesPerZone, maxNodesPerZone } = file["apfa:gcp"];
        const price = pinned("gcp-europe-west1.json", "vm.e2-standard-4.hour");
        const report = estimateStack("prod-gcp");
        const nodes = report.items.filter((i) => i.type === "gcp:container/nodePool:NodePool" && i.group === "compute");
        close(nodes.reduce((s, i) => s + i.monthly.atRest, 0), minNodesPerZone * 3 * 730 * price, "nodes at rest");
        close(nodes.reduce((s, i) => s + i.monthly.fullScale, 0), maxNodesPerZone * 3 * 730 * price, "nodes at full scale");
    });
});

describe("cost of the multi-region stacks", () => {
    type File = Record<string, { minReplicas: number; maxReplicas: number; cpu: number; memoryMiB: number; standbyCapacityPercent: number }>;

    it("prod-aws-usw2 (warm standby): each slot runs standbyCapacityPercent of the primary's minimum at rest, the full maximum at full scale", () => {
        const file = readStackFile("prod-aws-usw2") as File;
        const { minReplicas, maxReplicas } = file["apfa:scaling"];
        const percent = file["apfa:multiRegion"].standbyCapacityPercent;
        const standbyMin = Math.max(2, Math.ceil((minReplicas * percent) / 100)); // 4 × 50 % = 2
        const price = pinned("aws-us-west-2.json", "fargate.x86_64.vcpuHour");
        const report = estimateStack("prod-aws-usw2");
        for (const slot of ["blue", "green"]) {
            close(item(report, `apfa-prod-aws-usw2-${slot}`, "Fargate x86_64 vCPU").atRest, standbyMin * file["apfa:app"].cpu * 730 * price, `${slot} at rest`);
            close(item(report, `apfa-prod-aws-usw2-${slot}`, "Fargate x86_64 vCPU").fullScale, maxReplicas * file["apfa:app"].cpu * 730 * price, `${slot} at full scale`);
        }
        // The failover controller: one 0.25 vCPU / 0.5 GB Fargate task, always on.
        close(item(report, "apfa-prod-aws-usw2-failover-service", "Fargate x86_64 vCPU").atRest, 0.25 * 730 * price, "controller vCPU");
        close(item(report, "apfa-prod-aws-usw2-failover-service", "Fargate x86_64 memory").atRest, 0.5 * 730 * pinned("aws-us-west-2.json", "fargate.x86_64.gbHour"), "controller memory");
    });

    it("prod-aws-usw2: the global database secondary pays replicated write I/O, the health check its HTTPS and 10 s options", () => {
        const report = estimateStack("prod-aws-usw2");
        close(item(report, "apfa-prod-aws-usw2-database-cluster", "Aurora global database replicated write I/O").atRest, 5 * pinned("aws-us-west-2.json", "aurora.globalDatabase.replicatedWriteMillion"), "5 M (default) replicated writes");
        close(item(report, "apfa-prod-aws-usw2-region-health", "Route 53 health check (HTTPS) of an AWS endpoint").atRest, pinned("aws-us-west-2.json", "route53.healthCheck.month"), "check");
        close(item(report, "apfa-prod-aws-usw2-region-health", "health check optional features").atRest, 2 * pinned("aws-us-west-2.json", "route53.healthCheck.featureMonth"), "HTTPS + fast interval");
        const primary = estimateStack("prod-aws-use1");
        assert.equal(primary.items.filter((i) => i.description.startsWith("Aurora global database")).length, 0, "the primary pays none");
        // The replicated login: the secret in us-east-1 and its replica in us-west-2.
        close(item(primary, "apfa-prod-aws-use1-database-master-secret", "Secrets Manager replica in us-west-2").atRest, pinned("aws-us-west-2.json", "secretsManager.secretMonth"), "replica");
    });

    it("prod-aws-usw2: standbyCapacityPercent 100 adds exactly the missing minimum tasks' price at rest, nothing at full scale", () => {
        const base = estimateStack("prod-aws-usw2");
        const file = readStackFile("prod-aws-usw2") as File;
        const full = estimateStack("prod-aws-usw2", false, { "apfa:multiRegion": { ...file["apfa:multiRegion"], standbyCapacityPercent: 100 } });
        const { minReplicas } = file["apfa:scaling"];
        const standbyMin = Math.max(2, Math.ceil((minReplicas * file["apfa:multiRegion"].standbyCapacityPercent) / 100));
        const task = file["apfa:app"].cpu * pinned("aws-us-west-2.json", "fargate.x86_64.vcpuHour") + (file["apfa:app"].memoryMiB / 1024) * pinned("aws-us-west-2.json", "fargate.x86_64.gbHour");
        close(full.atRest.total - base.atRest.total, 2 * (minReplicas - standbyMin) * 730 * task, "two slots × the missing tasks");
        close(full.fullScale.total, base.fullScale.total, "full scale unchanged");
    });

    it("prod-gcp-europe-west4: the Cloud SQL Enterprise Plus replica is 2 vCPU × regional HA at the europe-west4 price", () => {
        const report = estimateStack("prod-gcp-europe-west4");
        close(item(report, "apfa-prod-gcp-europe-west4-database-instance", "Cloud SQL Enterprise Plus read replica db-perf-optimized-N-2 vCPU").atRest, 2 * 2 * 730 * pinned("gcp-europe-west4.json", "cloudsql.enterprisePlus.vcpuHour"), "vCPU");
        const file = readStackFile("prod-gcp-europe-west4") as File;
        const { minReplicas, maxReplicas } = file["apfa:scaling"];
        close(item(report, "apfa-prod-gcp-europe-west4-fleet-blue-export", "multi-cluster Gateway backend pods").fullScale, maxReplicas * 730 * pinned("gcp-europe-west4.json", "gke.multiClusterGateway.backendPodHour"), "blue's pods at full scale");
        close(item(report, "apfa-prod-gcp-europe-west4-fleet-green-export", "multi-cluster Gateway backend pods").atRest, minReplicas * 730 * pinned("gcp-europe-west4.json", "gke.multiClusterGateway.backendPodHour"), "green's pods at rest");
    });

    it("every deployment of the stack files resolves to region stacks of one cloud, priced from their own region's snapshot", () => {
        for (const stack of ["prod-aws-use1", "prod-aa-use1", "prod-azure-westeurope", "prod-gcp-europe-west1"]) {
            const members = deploymentStacks(stack);
            assert.ok(members.length >= 2 && members[0] === stack, `${stack}: ${members.join(", ")}`);
            for (const member of members) {
                const report = estimateStack(member);
                assert.equal(report.cloud, stackConfig(stack, {}).config.cloud);
                assert.ok(Object.keys(report.priceSnapshots).includes(`${report.cloud}-${report.region}`), `${member}: ${Object.keys(report.priceSnapshots).join(", ")}`);
            }
        }
    });
});

describe("npm run cost", () => {
    let dir: string;
    let planFile: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-cost-"));
        planFile = path.join(dir, "plan.json");
        fs.writeFileSync(planFile, JSON.stringify(synthStack("prod-aws")));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    const run = (...args: string[]) =>
        spawnSync(process.execPath, ["--require", path.join(PROJECT_ROOT, "scripts", "synth", "preload.cjs"), "--import", "tsx", path.join(PROJECT_ROOT, "tools", "cost", "main.ts"), ...args], {
            cwd: PROJECT_ROOT,
            encoding: "utf8",
        });

    it("--json prints the totals, items and notPriced; over budget with --check-budget exits 1 naming the biggest items", () => {
        const result = run("--stack", "prod-aws", "--plan", planFile, "--json", "--budget", "100", "--check-budget");
        assert.equal(result.status, 1, result.stderr);
        const json = JSON.parse(result.stdout) as { stack: string; currency: string; atRest: { total: number }; fullScale: { total: number }; items: unknown[]; notPriced: unknown[]; budget: { over: boolean } };
        assert.equal(json.stack, "prod-aws");
        assert.equal(json.currency, "USD");
        const expected = estimateStack("prod-aws");
        assert.equal(json.atRest.total, Math.round(expected.atRest.total * 100) / 100);
        assert.equal(json.fullScale.total, Math.round(expected.fullScale.total * 100) / 100);
        assert.equal(json.items.length, expected.items.length);
        assert.deepEqual(json.notPriced, []);
        assert.equal(json.budget.over, true);
        assert.match(result.stderr, /over budget: .*above apfa:budget\.monthlyUsd \$100\.00\. Biggest items: apfa-prod-aws-/);
    });

    it("prints the table with the seed comparison and exits 0 within budget", () => {
        const result = run("--stack", "prod-aws", "--plan", planFile, "--budget", "100000", "--check-budget", "--assume", "egressGb=0");
        assert.equal(result.status, 0, result.stderr);
        assert.match(result.stdout, /^Monthly cost estimate of stack prod-aws \(aws, eu-west-1\); prices: aws-eu-west-1 of \d{4}-\d{2}-\d{2}/);
        assert.match(result.stdout, /Phase 2 AWS: \$[\d,.]+ at rest, \$[\d,.]+ at full scale vs seed ~\$680/);
        assert.match(result.stdout, /not priced: 0 resource\(s\)/);
        assert.match(result.stdout, /egressGb=0/);
        assert.match(result.stdout, /within budget/);
    });

    it("--deployment prices every region stack and prints their total (JSON: the sum of the stacks, the seed's Phase 3)", () => {
        const result = run("--deployment", "prod-aws-usw2", "--json");
        assert.equal(result.status, 0, result.stderr);
        const json = JSON.parse(result.stdout) as { stacks: { stack: string; atRest: { total: number }; fullScale: { total: number } }[]; total: { atRest: number; fullScale: number }; seed: { phase3AddedMonthlyUsd: number; monthlyUsd: number } };
        assert.deepEqual(json.stacks.map((s) => s.stack), ["prod-aws-use1", "prod-aws-usw2"]);
        const expected = ["prod-aws-use1", "prod-aws-usw2"].map((s) => estimateStack(s));
        const cents = (v: number) => Math.round(v * 100) / 100;
        assert.equal(json.total.atRest, cents(expected[0].atRest.total + expected[1].atRest.total));
        assert.equal(json.total.fullScale, cents(expected[0].fullScale.total + expected[1].fullScale.total));
        assert.deepEqual(json.seed, { phase: 3, phase2MonthlyUsd: 680, phase3AddedMonthlyUsd: 5000, monthlyUsd: 5680 });
        // A budget for the total: over it, --check-budget exits 1.
        const table = run("--stack", "prod-aws-use1", "--stack", "prod-aws-usw2", "--assume", "egressGb=0", "--budget", "100", "--check-budget");
        assert.equal(table.status, 1, table.stderr);
        assert.match(table.stdout, /over budget: the total at full scale is \$[\d,.]+\/month, \$[\d,.]+ above --budget \$100\.00/);
        assert.match(table.stdout, /Phase 3 AWS, 2 region stacks: \$[\d,.]+ at rest, \$[\d,.]+ at full scale vs seed ~\$5,680/);
        assert.match(table.stdout, /one region stack of a multi-region deployment/);
    });

    it("takes assumptions from apfa:cost.assumptions, and --assume over them, refusing unknown ones by name", () => {
        const raw = { "apfa:cost": { assumptions: { egressGb: 5, natProcessedGb: 7 } } };
        const merged = assumptionsOf(raw, { egressGb: 9 });
        assert.equal(merged.egressGb, 9, "--assume wins");
        assert.equal(merged.natProcessedGb, 7, "config over the default");
        assert.equal(merged.hoursPerMonth, 730, "default");
        assert.throws(() => assumptionsOf({}, { egresGb: 1 } as never), /egresGb/);
    });
});
