/**
 * The JSON-lines event log (`.releases/<stack>/<release>.jsonl`): every kind of event the release
 * tool writes is written to a real file by a release on the fake stack and read back. The kinds
 * come from EVENT_TYPES, so a kind added there without a scenario here fails this test (and
 * without its fields below, the compiler).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { EVENT_TYPES, JsonLinesEventLog, readEvents, type ReleaseEvent, type ReleaseEventType } from "../tools/release/events";
import { EXIT } from "../tools/release/machine";
import { Wave } from "../tools/release/wave";
import { FakeClock, LinesReporter, NEW_IMAGE, lockedError, releaseScenario } from "./fixtures/release/fakes";

const MIN = 60_000;

/** The fields each kind carries besides at, stack, release and type. */
const FIELDS: Record<ReleaseEventType, readonly string[]> = {
    start: ["image", "from", "to", "steps", "metrics"],
    config: ["what", "active", "previewWeight", "phase", "step"],
    up: ["what", "target", "changes", "seconds"],
    "up-failed": ["what", "target", "attempt", "locked", "error"],
    healthy: ["slot", "up", "down"],
    capacity: ["weight", "serving", "servingReplicas", "servingRead", "floors"],
    "capacity-ready": ["slot", "up", "floor", "weight"],
    analysis: ["decision", "reasons"],
    pause: [],
    paused: ["reason"],
    resumed: [],
    "promote-requested": ["phase"],
    promoted: ["active", "windowMinutes"],
    completed: ["active", "scaledDown"],
    "scale-down-failed": ["slot", "error"],
    rollback: ["reason", "trafficUrn", "attempt"],
    "rollback-failed": ["error", "locked"],
    "rolled-back": ["active"],
    "foreign-write": ["changes"],
    wave: ["region", "index", "action"],
};

describe("release event log (JSON lines)", () => {
    let root: string;
    before(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-release-events-"));
    });
    after(() => fs.rmSync(root, { recursive: true, force: true }));

    /** Each scenario writes to its own root, so files of one stack and second do not mix. */
    const log = (name: string) => new JsonLinesEventLog(path.join(root, name));

    async function writeEveryKind(): Promise<void> {
        // A full release on aws (capacity follows the weight): start … completed.
        {
            const s = releaseScenario({ cloud: "aws", stack: "prod-aws", events: log("aws"), rollout: { steps: [50, 100], bakeMinutes: 1, rollbackWindowMinutes: 1 } });
            assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.ok, s.reporter.text());
        }
        // An operator pauses, resumes and promotes; an undecided step pauses by itself (onInconclusive: pause).
        {
            const s = releaseScenario({ events: log("operator") });
            s.clock.schedule(2 * MIN, async () => void (await s.machine(300).pause()));
            s.clock.schedule(4 * MIN, async () => void (await s.machine(301).resume()));
            s.clock.schedule(6 * MIN, async () => void (await s.machine(302).promote()));
            assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.ok, s.reporter.text());

            const quiet = releaseScenario({ events: log("quiet"), rollout: { steps: [10, 100], bakeMinutes: 1, analysis: { maxHoldMinutes: 1, onInconclusive: "pause", maxWindowSeconds: 60 } } });
            quiet.metrics.requestsPerWindow = 10;
            assert.equal(await quiet.machine().start({ image: NEW_IMAGE }), EXIT.needsOperator);
        }
        // A failed analysis whose targeted rollback first finds the stack locked, then fails; a second rollback finishes.
        {
            const s = releaseScenario({ events: log("rollback") });
            s.metrics.errorRatio = (slot) => (slot === "green" ? 0.2 : 0);
            let failing = true;
            s.stack.fault = (n, request) => (request.target && failing ? (n === 3 ? lockedError() : new Error("AccessDenied")) : undefined);
            assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.needsOperator);
            failing = false;
            assert.equal(await s.machine(200).rollback(), EXIT.ok);
        }
        // Another writer changes the weights during a bake.
        {
            const s = releaseScenario({ events: log("foreign") });
            s.clock.schedule(MIN, async () => s.stack.writeBehindTheToolsBack((r) => ({ ...r, previewWeight: 30 })));
            assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.refused);
        }
        // The scale-down after the window fails.
        {
            const s = releaseScenario({ events: log("scale-down"), rollout: { steps: [100], bakeMinutes: 1, rollbackWindowMinutes: 1 } });
            s.stack.fault = (n) => (n === 4 ? new Error("timeout") : undefined);
            assert.equal(await s.machine().start({ image: NEW_IMAGE }), EXIT.needsOperator);
        }
        // A wave over two region stacks.
        {
            const clock = new FakeClock();
            const reporter = new LinesReporter();
            const events = log("wave");
            const rollout = { steps: [100], bakeMinutes: 1, rollbackWindowMinutes: 1 };
            const regions = Object.fromEntries(["eu", "us"].map((stack) => [stack, releaseScenario({ stack, clock, reporter, events, rollout })]));
            const wave = new Wave(["eu", "us"], { open: async (stack) => ({ machine: regions[stack].machine(), driver: regions[stack].stack }), clock, reporter, events });
            assert.equal(await wave.start({ image: NEW_IMAGE }), EXIT.ok, reporter.text());
        }
    }

    function allFiles(dir: string): string[] {
        return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? allFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    }

    it("every kind of event is written to .releases/<stack>/<release>.jsonl and read back with its fields", async () => {
        await writeEveryKind();
        const files = allFiles(root);
        assert.ok(files.every((f) => /[/\\]\.releases[/\\][^/\\]+[/\\][^/\\]+\.jsonl$/.test(f)), files.join("\n"));
        const events: ReleaseEvent[] = files.flatMap((file) => readEvents(file));

        const seen = new Set(events.map((e) => e.type));
        const missing = EVENT_TYPES.filter((type) => !seen.has(type));
        assert.deepEqual(missing, [], "kinds no scenario wrote");
        for (const event of events) {
            for (const field of FIELDS[event.type]) {
                assert.ok(field in event, `${event.type} without ${field}: ${JSON.stringify(event)}`);
            }
        }
        // A file holds one stack's one release, in time order.
        for (const file of files) {
            const read = readEvents(file);
            assert.equal(new Set(read.map((e) => `${e.stack}/${e.release}`)).size, 1, file);
            assert.deepEqual(read.map((e) => e.at), [...read.map((e) => e.at)].sort(), `${file} in time order`);
        }
    });

    it("reading back refuses a line that is not an event of a known kind, naming the line", () => {
        const file = path.join(root, "bad.jsonl");
        const good = JSON.stringify({ at: "2026-07-26T10:00:00Z", stack: "dev", release: "r", type: "start" });
        fs.writeFileSync(file, `${good}\n${JSON.stringify({ at: "2026-07-26T10:00:01Z", stack: "dev", release: "r", type: "exploded" })}\n`);
        assert.throws(() => readEvents(file), /bad\.jsonl:2: not a release event/);
        fs.writeFileSync(file, `${good}\n{"at":\n`);
        assert.throws(() => readEvents(file), /bad\.jsonl:2: not JSON/);
        fs.writeFileSync(file, `${good}\n\n`);
        assert.equal(readEvents(file).length, 1);
    });
});
