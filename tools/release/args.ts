/**
 * Command line of `npm run release -- <command> --stack S [options]` (pure; tested).
 */
import { STACK_NAME } from "../../src/config/release";

export const COMMANDS = ["start", "status", "rollback", "pause", "resume", "promote"] as const;
export type Command = (typeof COMMANDS)[number];

export interface ReleaseArgs {
    readonly command: Command;
    /** The stack (with --stacks: the first region). */
    readonly stack: string;
    /** --stacks A,B,…: a wave over these region stacks, in this order. */
    readonly stacks?: readonly string[];
    readonly image?: string;
    /** --env NAME=VALUE (repeatable); NAME= removes the variable from the new slot. */
    readonly env: Readonly<Record<string, string>>;
    readonly dryRun: boolean;
    /** Overrides apfa:rollout.metricsSource. */
    readonly metrics?: "prometheus" | "cloudwatch";
    /** Prometheus base URL (default: the stack output prometheusUrl). */
    readonly prometheusUrl?: string;
    /** Why (rollback), recorded in the release state and events. */
    readonly reason?: string;
    readonly verbose: boolean;
}

export class UsageError extends Error {}

/** The command `help`, or `--help` / `-h` anywhere on the command line: print {@link USAGE} to stdout, exit 0. */
export class HelpRequested extends Error {
    constructor() {
        super(USAGE);
    }
}

const HELP_FLAGS = new Set(["--help", "-h"]);

export const USAGE = `usage: npm run release -- <command> --stack <stack> [options]
       npm run release -- <command> --stacks <stack>,<stack>,… [options]   (a wave, one region at a time)

commands
  start     --image IMAGE [--env NAME=VALUE ...] [--dry-run]
            put IMAGE on the idle slot at 0 %, wait until it is healthy, move traffic through the
            configured steps (apfa:rollout, default 10 → 50 → 100, 15 min bake each) judging each
            bake, promote, keep the old slot for the rollback window, then scale it down.
            On docker --image may be left out: the new slot runs the build context (with --env).
  status    slots, images, weights, step, time left in the bake, last analysis, what to do next
  rollback  [--reason TEXT]  all traffic back to the previous slot in one targeted \`pulumi up\`
  pause     hold the release at its current step (analysis and automatic rollback go on)
  resume    continue a paused or interrupted release from its recorded step
  promote   skip the remaining steps (during the rollback window: end it now)

waves (--stacks A,B,… instead of --stack)
  start     releases IMAGE to A, then B, … each to its end (steps, gates, rollback window) before the
            next; a region that rolls back or stops ends the wave there (earlier regions keep the
            new release, later ones are not touched)
  status    every region's standing in the wave, then each region's status
  resume    skips the completed regions, resumes the one in progress, starts the rest
  rollback · pause · promote   act on the region whose release is in progress

options
  --metrics prometheus|cloudwatch   metric source (default apfa:rollout.metricsSource)
  --prometheus-url URL              Prometheus HTTP API (default: the stack output prometheusUrl;
                                    on cloud stacks a port-forward, e.g. http://127.0.0.1:9090)
  --verbose                         show the engine output of every \`pulumi up\`

exit codes: 0 done · 1 rolled back · 2 usage · 3 refused · 4 needs an operator`;

export function parseReleaseArgs(argv: readonly string[]): ReleaseArgs {
    const [command, ...rest] = argv;
    if (command === "help" || argv.some((arg) => HELP_FLAGS.has(arg))) {
        throw new HelpRequested();
    }
    if (command === undefined) {
        throw new UsageError(USAGE);
    }
    if (!(COMMANDS as readonly string[]).includes(command)) {
        throw new UsageError(`unknown command ${command}; one of ${COMMANDS.join(", ")}`);
    }
    let stack: string | undefined;
    let stacks: string[] | undefined;
    let image: string | undefined;
    let metrics: ReleaseArgs["metrics"];
    let prometheusUrl: string | undefined;
    let reason: string | undefined;
    let dryRun = false;
    let verbose = false;
    const env: Record<string, string> = {};
    for (let i = 0; i < rest.length; i++) {
        const arg = rest[i];
        const value = () => {
            const v = rest[++i];
            if (v === undefined || v.startsWith("--")) {
                throw new UsageError(`${arg} needs a value`);
            }
            return v;
        };
        switch (arg) {
            case "--stack":
            case "-s":
                stack = value();
                break;
            case "--stacks": {
                stacks = value().split(",").map((name) => name.trim());
                const bad = stacks.filter((name) => !STACK_NAME.test(name));
                if (bad.length > 0 || stacks.length === 0) {
                    throw new UsageError(`--stacks expects stack names separated by commas, got ${JSON.stringify(stacks.join(","))}`);
                }
                if (new Set(stacks).size !== stacks.length) {
                    throw new UsageError(`--stacks names a stack twice: ${stacks.join(",")}`);
                }
                break;
            }
            case "--image":
                image = value();
                break;
            case "--env": {
                const pair = value();
                const eq = pair.indexOf("=");
                if (eq < 1) {
                    throw new UsageError(`--env expects NAME=VALUE, got ${pair}`);
                }
                env[pair.slice(0, eq)] = pair.slice(eq + 1);
                break;
            }
            case "--dry-run":
                dryRun = true;
                break;
            case "--metrics": {
                const v = value();
                if (v !== "prometheus" && v !== "cloudwatch") {
                    throw new UsageError(`--metrics is prometheus or cloudwatch, got ${v}`);
                }
                metrics = v;
                break;
            }
            case "--prometheus-url": {
                const v = value();
                if (!/^https?:\/\/[^\s]+$/.test(v)) {
                    throw new UsageError(`--prometheus-url expects an http(s) URL, got ${v}`);
                }
                prometheusUrl = v;
                break;
            }
            case "--reason":
                reason = value();
                break;
            case "--verbose":
            case "-v":
                verbose = true;
                break;
            default:
                throw new UsageError(`unknown argument ${arg}`);
        }
    }
    if (stack && stacks) {
        throw new UsageError("give --stack or --stacks, not both");
    }
    if (stacks) {
        stack = stacks[0];
    }
    if (!stack) {
        throw new UsageError("--stack is required");
    }
    if (command !== "start" && (image !== undefined || Object.keys(env).length > 0 || dryRun)) {
        throw new UsageError("--image, --env and --dry-run belong to start");
    }
    if (reason !== undefined && command !== "rollback") {
        throw new UsageError("--reason belongs to rollback");
    }
    return { command: command as Command, stack, stacks, image, env, dryRun, metrics, prometheusUrl, reason, verbose };
}
