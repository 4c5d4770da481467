/**
 * `npm run release -- <command> --stack <stack> [options]` — blue/green and canary releases of APFA
 * on any target, driven through the Pulumi Automation API on the project's own stacks; with
 * `--stacks a,b,…` a wave over region stacks, one at a time (wave.ts).
 * See args.ts for the commands and machine/ for the semantics.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { AutomationStackDriver } from "./automation-driver";
import { ConfigError } from "../../src/config";
import { loadContext } from "./context";
import type { StackDriver } from "./driver";
import { JsonLinesEventLog, MemoryEventLog } from "./events";
import { EXIT, ReleaseMachine, type Reporter } from "./machine";
import { systemClock } from "./clock";
import { HelpRequested, parseReleaseArgs, UsageError, type ReleaseArgs } from "./args";
import { createMetricSource } from "./metric-source";
import { StackFileDriver } from "./stack-file-driver";
import { Wave } from "./wave";
import { PROJECT_ROOT } from "../../scripts/synth/stack-config";

/** Lines to the terminal; in a wave each region's lines carry its stack name. */
function reporter(verbose: boolean, prefix = ""): Reporter {
    const stamp = () => new Date().toISOString().slice(11, 19);
    return {
        info: (line) => console.log(`[${stamp()}] ${prefix}${line}`),
        detail: (line) => {
            if (verbose) {
                console.log(`           │ ${prefix}${line}`);
            }
        },
        error: (line) => console.error(`[${stamp()}] ${prefix}${line}`),
    };
}

/** Whether the Pulumi CLI (which the Automation API drives) is on PATH. */
function pulumiCliOnPath(): boolean {
    return (process.env.PATH ?? "").split(path.delimiter).some((dir) => {
        try {
            fs.accessSync(path.join(dir, "pulumi"), fs.constants.X_OK);
            return true;
        } catch {
            return false;
        }
    });
}

async function openDriver(stack: string, args: ReleaseArgs): Promise<StackDriver> {
    try {
        if (!pulumiCliOnPath()) {
            throw new Error("the Pulumi CLI is not on PATH (https://www.pulumi.com/docs/install/)");
        }
        return await AutomationStackDriver.open(stack, PROJECT_ROOT);
    } catch (err) {
        const why = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, " ").trim().slice(0, 300);
        if (args.dryRun) {
            console.error(`(Pulumi stack ${stack} not reachable: ${why}; planning from Pulumi.${stack}.yaml, without stack outputs)`);
            return new StackFileDriver(stack);
        }
        throw new Error(`cannot open stack ${stack} through the Pulumi CLI: ${why}`);
    }
}

/** The release machine of one stack (its config read and validated). */
async function openMachine(stack: string, args: ReleaseArgs, out: Reporter): Promise<{ machine: ReleaseMachine; driver: StackDriver }> {
    const driver = await openDriver(stack, args);
    const context = await loadContext(driver);
    const machine = new ReleaseMachine(
        {
            driver,
            clock: systemClock,
            events: args.dryRun ? new MemoryEventLog() : new JsonLinesEventLog(PROJECT_ROOT),
            reporter: out,
            metrics: async (ctx) => createMetricSource(ctx, await driver.outputs(), args),
            identity: { host: os.hostname(), pid: process.pid },
        },
        context,
    );
    return { machine, driver };
}

async function runWave(args: ReleaseArgs, stacks: readonly string[]): Promise<number> {
    const out = reporter(args.verbose);
    const wave = new Wave(stacks, {
        open: (stack) => openMachine(stack, args, reporter(args.verbose, `${stack} │ `)),
        clock: systemClock,
        reporter: out,
        events: args.dryRun ? new MemoryEventLog() : new JsonLinesEventLog(PROJECT_ROOT),
    });
    switch (args.command) {
        case "start":
            return wave.start({ image: args.image, env: args.env, dryRun: args.dryRun });
        case "status":
            return wave.status();
        case "resume":
            return wave.resume();
        case "rollback":
            return wave.inProgressRegion("rollback", args.reason);
        case "pause":
        case "promote":
            return wave.inProgressRegion(args.command);
    }
}

async function main(): Promise<number> {
    let args: ReleaseArgs;
    try {
        args = parseReleaseArgs(process.argv.slice(2));
    } catch (err) {
        if (err instanceof HelpRequested) {
            console.log(err.message);
            return EXIT.ok;
        }
        if (err instanceof UsageError) {
            console.error(err.message);
            return EXIT.usage;
        }
        throw err;
    }

    const out = reporter(args.verbose);
    const where = args.stacks ? `--stacks ${args.stacks.join(",")}` : `--stack ${args.stack}`;
    process.once("SIGINT", () => {
        out.error(`interrupted. The release state is in the stack config: \`npm run release -- status ${where}\`, then \`resume\` or \`rollback\`.`);
        process.exit(130);
    });

    let machine: ReleaseMachine;
    try {
        if (args.stacks) {
            return await runWave(args, args.stacks);
        }
        ({ machine } = await openMachine(args.stack, args, out));
    } catch (err) {
        // The stack's config is one `pulumi up` would refuse too: nothing was touched.
        if (err instanceof ConfigError) {
            console.error(`refused: ${err.message}`);
            return EXIT.refused;
        }
        throw err;
    }

    switch (args.command) {
        case "start":
            return machine.start({ image: args.image, env: args.env, dryRun: args.dryRun });
        case "status":
            return machine.status();
        case "rollback":
            return machine.rollback(args.reason);
        case "pause":
            return machine.pause();
        case "resume":
            return machine.resume();
        case "promote":
            return machine.promote();
    }
}

main().then(
    (code) => process.exit(code),
    (err: unknown) => {
        console.error(err instanceof Error ? err.message : String(err));
        process.exit(EXIT.needsOperator);
    },
);
