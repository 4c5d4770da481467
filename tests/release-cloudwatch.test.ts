/**
 * The CloudWatch metric source (aws): the GetMetricData requests it builds (namespace, metric
 * names, statistics, dimensions exactly as the aws target exports them in its `target` stack
 * output, whole-minute windows) and how it turns the answers into samples. The client is a fake
 * that records the commands.
 */
import * as assert from "node:assert/strict";
import type { GetMetricDataCommand, GetMetricDataCommandOutput } from "@aws-sdk/client-cloudwatch";

import { parseRolloutSettings } from "../src/config";
import { analyse } from "../tools/release/analysis";
import { contextFromValues } from "../tools/release/context";
import { albTargetFromOutputs, createMetricSource } from "../tools/release/metric-source";
import { CloudWatchSource, cloudWatchQueries, minuteWindow, HEALTH_METRICS, TRAFFIC_METRICS, type CloudWatchLike } from "../tools/release/metrics/cloudwatch";
import { AWS_TARGET_OUTPUTS, FakeClock, FakeStack } from "./fixtures/release/fakes";

const TARGET = albTargetFromOutputs({ target: AWS_TARGET_OUTPUTS });

class FakeCloudWatch implements CloudWatchLike {
    readonly commands: GetMetricDataCommand[] = [];
    constructor(private readonly values: Record<string, number[]>, private readonly pages = 1) {}
    async send(command: GetMetricDataCommand): Promise<GetMetricDataCommandOutput> {
        this.commands.push(command);
        const page = this.commands.length;
        const ids = (command.input.MetricDataQueries ?? []).map((q) => q.Id ?? "");
        // Split the answer over `pages` pages, like CloudWatch does for large results.
        const results = ids.map((Id) => ({ Id, Values: page === 1 ? (this.values[Id] ?? []) : [], StatusCode: "Complete" as const }));
        return { MetricDataResults: results, NextToken: page < this.pages ? `page-${page + 1}` : undefined, $metadata: {} };
    }
}

describe("release gate: CloudWatch target-group metrics (aws)", () => {
    it("takes the dimensions from the stack output's ARN suffixes as they are (no ARN is parsed)", () => {
        assert.deepEqual(TARGET, {
            loadBalancer: AWS_TARGET_OUTPUTS.loadBalancerArnSuffix,
            targetGroups: AWS_TARGET_OUTPUTS.targetGroupArnSuffixes,
        });
        // ARNs that name another load balancer and other target groups: only the suffixes count.
        const suffixes = { blue: "targetgroup/tg-b/0000000000000001", green: "targetgroup/tg-g/0000000000000002" };
        const target = albTargetFromOutputs({
            target: {
                ...AWS_TARGET_OUTPUTS,
                loadBalancerArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/other/ffffffffffffffff",
                listenerRuleArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/other/ffffffffffffffff/1/2",
                loadBalancerArnSuffix: "app/exported/0123456789abcdef",
                targetGroupArnSuffixes: suffixes,
            },
        });
        const queries = [...cloudWatchQueries(target, 60, TRAFFIC_METRICS), ...cloudWatchQueries(target, 60, HEALTH_METRICS)];
        assert.equal(queries.length, 10);
        for (const q of queries) {
            const slot = q.Id?.startsWith("blue_") ? "blue" : "green";
            assert.deepEqual(q.MetricStat?.Metric?.Dimensions, [
                { Name: "TargetGroup", Value: suffixes[slot] },
                { Name: "LoadBalancer", Value: "app/exported/0123456789abcdef" },
            ]);
        }
    });

    it("refuses a stack output without the ARN suffixes (a stack deployed by an older version), naming the missing fields", () => {
        const older: Record<string, unknown> = { ...AWS_TARGET_OUTPUTS };
        delete older.loadBalancerArnSuffix;
        delete older.targetGroupArnSuffixes;
        assert.throws(
            () => albTargetFromOutputs({ target: older }),
            (err: unknown) =>
                err instanceof Error &&
                /run `pulumi up`/.test(err.message) &&
                /target\.targetGroupArnSuffixes: /.test(err.message) &&
                /target\.loadBalancerArnSuffix: /.test(err.message) &&
                !/target\.(clusterName|loadBalancerArn|listenerRuleArn|targetGroupArns):/.test(err.message),
        );
        // An ARN where the suffix belongs is refused too, not cut down to a suffix.
        assert.throws(
            () => albTargetFromOutputs({ target: { ...AWS_TARGET_OUTPUTS, loadBalancerArnSuffix: AWS_TARGET_OUTPUTS.loadBalancerArn } }),
            /target\.loadBalancerArnSuffix: expected app\/<name>\/<id>/,
        );
        assert.throws(() => albTargetFromOutputs({}), (err: unknown) => err instanceof Error && /target\.loadBalancerArnSuffix: /.test(err.message) && /target\.targetGroupArnSuffixes: /.test(err.message));
    });

    it("the release tool's CloudWatch source on an aws stack reads the stack's target output", async () => {
        const values = {
            "apfa:cloud": "aws",
            "aws:region": "eu-west-1",
            "apfa:rollout": { metricsSource: "cloudwatch" },
            "apfa:release": { active: "blue", blue: { image: "registry.example.com/apfa:1.0.0" } },
        };
        const stack = new FakeStack("prod-aws", values, new FakeClock());
        const context = contextFromValues(stack.stack, values);
        const outputs = await stack.outputs();
        const source = createMetricSource(context, outputs, {});
        assert.ok(source instanceof CloudWatchSource);
        assert.equal(source.description, `cloudwatch AWS/ApplicationELB ${AWS_TARGET_OUTPUTS.loadBalancerArnSuffix}`);
        assert.throws(() => createMetricSource(context, { ...outputs, target: {} }, {}), /target\.loadBalancerArnSuffix/);
    });

    it("asks AWS/ApplicationELB for RequestCount, 5xx and p95 TargetResponseTime per target group and load balancer", () => {
        const queries = cloudWatchQueries(TARGET, 120, TRAFFIC_METRICS);
        assert.equal(queries.length, 6);
        for (const q of queries) {
            assert.match(q.Id ?? "", /^[a-z][a-zA-Z0-9_]*$/, "CloudWatch query ids start with a lower-case letter");
            assert.equal(q.MetricStat?.Metric?.Namespace, "AWS/ApplicationELB");
            assert.equal(q.MetricStat?.Period, 120);
            assert.equal(q.ReturnData, true);
        }
        const green = queries.filter((q) => q.Id?.startsWith("green_"));
        assert.deepEqual(
            green.map((q) => [q.MetricStat?.Metric?.MetricName, q.MetricStat?.Stat]),
            [["RequestCount", "Sum"], ["HTTPCode_Target_5XX_Count", "Sum"], ["TargetResponseTime", "p95"]],
        );
        assert.deepEqual(green[0].MetricStat?.Metric?.Dimensions, [
            { Name: "TargetGroup", Value: "targetgroup/apfa-prod-aws-green/2453ed029918f21f" },
            { Name: "LoadBalancer", Value: "app/apfa-prod-aws/50dc6c495c0c9188" },
        ]);
        assert.equal(new Set(queries.map((q) => q.Id)).size, queries.length, "ids are unique");
    });

    it("windows are whole minutes ending at the last complete minute (ALB metrics are per minute)", () => {
        const at = new Date("2026-07-26T10:17:42Z");
        assert.deepEqual(minuteWindow(60, at), { start: new Date("2026-07-26T10:16:00Z"), end: new Date("2026-07-26T10:17:00Z"), periodSeconds: 60 });
        assert.deepEqual(minuteWindow(90, at), { start: new Date("2026-07-26T10:15:00Z"), end: new Date("2026-07-26T10:17:00Z"), periodSeconds: 120 });
        assert.equal(minuteWindow(10, at).periodSeconds, 60);
    });

    it("a green target group with 20 % 5xx is judged rollback; the answer's pages are all read", async () => {
        const client = new FakeCloudWatch(
            {
                blue_requestcount: [4500],
                blue_httpcodetarget5xxcount: [2],
                blue_targetresponsetime: [0.08],
                green_requestcount: [300, 200],
                green_httpcodetarget5xxcount: [60, 40],
                green_targetresponsetime: [0.09],
            },
            2,
        );
        const source = new CloudWatchSource(client, TARGET);
        const samples = await source.sample(60, new Date("2026-07-26T10:17:42Z"));
        assert.equal(client.commands.length, 2, "followed NextToken");
        assert.deepEqual(samples.green, { requests: 500, errors: 100, p95Seconds: 0.09 });
        assert.deepEqual(samples.blue, { requests: 4500, errors: 2, p95Seconds: 0.08 });
        const input = client.commands[0].input;
        assert.deepEqual([input.StartTime, input.EndTime], [new Date("2026-07-26T10:16:00Z"), new Date("2026-07-26T10:17:00Z")]);

        const verdict = analyse({ candidate: samples.green, baseline: samples.blue }, parseRolloutSettings({}).analysis);
        assert.equal(verdict.decision, "rollback");
    });

    it("no data points (no requests yet) means no requests: the gate holds", async () => {
        const source = new CloudWatchSource(new FakeCloudWatch({}), TARGET);
        const samples = await source.sample(60, new Date());
        assert.deepEqual(samples.green, { requests: 0, errors: 0, p95Seconds: undefined });
        assert.equal(analyse({ candidate: samples.green }, parseRolloutSettings({}).analysis).decision, "hold");
    });

    it("health comes from HealthyHostCount (minimum) and UnHealthyHostCount (maximum)", async () => {
        const client = new FakeCloudWatch({ green_healthyhostcount: [4], green_unhealthyhostcount: [0] });
        const health = await new CloudWatchSource(client, TARGET).health("green", new Date());
        assert.deepEqual(health, { up: 4, down: 0 });
        const stats = client.commands[0].input.MetricDataQueries?.map((q) => `${q.Id}:${q.MetricStat?.Stat}`);
        assert.ok(stats?.includes("green_healthyhostcount:Minimum") && stats.includes("green_unhealthyhostcount:Maximum"));
    });
});
