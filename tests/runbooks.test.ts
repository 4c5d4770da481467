import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { alertingRulesOf, ruleGroups, runbookUrl } from "../src/monitoring/rules";

describe("alert runbooks (docs/runbooks.md)", () => {
    const doc = fs.readFileSync(path.join(__dirname, "..", "docs", "runbooks.md"), "utf8");
    /** GitHub's anchor of a "## Heading": lower case, spaces to dashes. */
    const anchors = new Set([...doc.matchAll(/^## (.+)$/gm)].map((m) => m[1].trim().toLowerCase().replace(/\s+/g, "-")));
    const alerts = alertingRulesOf(
        ruleGroups({ sloObjectivePercent: 99.9, latencyP95ThresholdSeconds: 0.5, runbookBaseUrl: "https://example.com/docs/runbooks.md" }),
    );

    it("has a section for every alert, so each runbook_url lands on its heading", () => {
        assert.ok(alerts.length >= 6);
        for (const alert of alerts) {
            const anchor = runbookUrl("https://example.com/docs/runbooks.md", alert.alert).split("#")[1];
            assert.ok(anchors.has(anchor), `docs/runbooks.md has no "## ${alert.alert}" section (anchor #${anchor})`);
        }
    });

    it("documents no alert that does not exist", () => {
        const names = new Set(alerts.map((a) => a.alert.toLowerCase()));
        for (const anchor of anchors) {
            assert.ok(names.has(anchor), `docs/runbooks.md documents "${anchor}", which is not an alert of the rules`);
        }
    });
});
