/**
 * Who drives a release. Stack config has no lock, so the process driving a release says so in the
 * release state: `progress.driver` (host, pid, time), refreshed at least every
 * {@link HEARTBEAT_SECONDS} while it runs, alone or with the latest analysis. A command that finds a
 * fresh heartbeat of another process leaves the driving to it (resume, promote); a stale one means
 * the driver is gone, and the command takes the release over.
 */
import type { ReleaseProgress } from "../../../src/config";
import type { Decision, Verdict } from "../analysis";
import { isoSeconds } from "../clock";
import { withProgress } from "../state";
import type { ReleaseSession } from "./session";

/** A heartbeat older than this (and at least 3 analysis intervals) means the driver is gone. */
export const HEARTBEAT_SECONDS = 30;

export class Liveness {
    private lastHeartbeat = 0;
    private lastRecorded?: string;

    constructor(private readonly session: ReleaseSession) {}

    /** Refreshes this process's heartbeat in the release state when it is due. */
    async heartbeat(id: string): Promise<void> {
        const now = this.session.clock.now();
        if (now.getTime() - this.lastHeartbeat < HEARTBEAT_SECONDS * 1000) {
            return;
        }
        this.lastHeartbeat = now.getTime();
        await this.session.writeChecked(
            id,
            (s) => withProgress(s, { driver: { ...this.session.deps.identity, heartbeatAt: isoSeconds(now) } }),
            "heartbeat",
        );
    }

    /** Records the verdict (event log always; config, with the heartbeat, when it changed or the heartbeat is due). */
    async recordAnalysis(id: string, verdict: Verdict, now: Date): Promise<void> {
        this.session.event(id, "analysis", { decision: verdict.decision, reasons: verdict.reasons });
        const key = verdict.decision;
        const due = now.getTime() - this.lastHeartbeat >= HEARTBEAT_SECONDS * 1000;
        if (key === this.lastRecorded && !due) {
            return;
        }
        this.lastRecorded = key;
        this.lastHeartbeat = now.getTime();
        await this.session.writeChecked(
            id,
            (s) =>
                withProgress(s, {
                    lastAnalysis: { at: isoSeconds(now), decision: verdict.decision as Decision, reasons: verdict.reasons.slice(0, 12).map((r) => r.slice(0, 400)) },
                    driver: { ...this.session.deps.identity, heartbeatAt: isoSeconds(now) },
                }),
            "record the analysis",
        );
    }

    /** Another process driving this release, if its heartbeat is fresh. */
    liveDriver(progress: ReleaseProgress): { host: string; pid: number } | undefined {
        const driver = progress.driver;
        if (!driver) {
            return undefined;
        }
        const self = this.session.deps.identity;
        if (driver.host === self.host && driver.pid === self.pid) {
            return undefined;
        }
        const staleAfter = Math.max(HEARTBEAT_SECONDS, this.session.analysis.intervalSeconds) * 3 * 1000;
        return this.session.clock.now().getTime() - Date.parse(driver.heartbeatAt) < staleAfter ? driver : undefined;
    }
}
