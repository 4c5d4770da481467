/**
 * `npm run release -- <command> --stack <stack> [options]` — blue/green releases of APFA on any
 * target, driven through the Pulumi Automation API on the project's own stacks.
 * See args.ts for the commands and machine/ for the semantics.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { AutomationStackDriver } from "./automation-driver";
import { ConfigError } from "../../src/config";
import { loadContext, type ReleaseContext } from "./context";
import type { StackDriver } from "./driver";
import { JsonLinesEventLog, MemoryEventLog } from "./events";
import { EXIT, ReleaseMachine, type Reporter } from "./machine";
import { systemClock } from "./clock";
import { parseReleaseArgs, UsageError, type ReleaseArgs } from "./args";
import { createMetricSource } from "./metric-source";
import { StackFileDriver } from "./stack-file-driver";
import { PROJECT_ROOT } from "../../scripts/synth/stack-config";

function reporter(verbose: boolean): Reporter {
    const stamp = () => new Date().toISOString().slice(11, 19);
    return {
        info: (line) => console.log(`[${stamp()}] ${line}`),
        detail: (line) => {
            if (verbose) {
                console.log(`           │ ${line}`);
            }
        },
        error: (line) => console.error(`[${stamp()}] ${line}`),
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

async function openDriver(args: ReleaseArgs): Promise<StackDriver> {
    try {
        if (!pulumiCliOnPath()) {
            throw new Error("the Pulumi CLI is not on PATH (https://www.pulumi.com/docs/install/)");
        }
        return await AutomationStackDriver.open(args.stack, PROJECT_ROOT);
    } catch (err) {
        const why = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, " ").trim().slice(0, 300);
        if (args.dryRun) {
            console.error(`(Pulumi stack ${args.stack} not reachable: ${why}; planning from Pulumi.${args.stack}.yaml, without stack outputs)`);
            return new StackFileDriver(args.stack);
        }
        throw new Error(`cannot open stack ${args.stack} through the Pulumi CLI: ${why}`);
    }
}

async function main(): Promise<number> {
    let args: ReleaseArgs;
    try {
        args = parseReleaseArgs(process.argv.slice(2));
    } catch (err) {
        if (err instanceof UsageError) {
            console.error(err.message);
            return EXIT.usage;
        }
        throw err;
    }

    const driver = await openDriver(args);
    let context: ReleaseContext;
    try {
        context = await loadContext(driver);
    } catch (err) {
        // The stack's config is one `pulumi up` would refuse too: nothing was touched.
        if (err instanceof ConfigError) {
            console.error(`refused: ${err.message}`);
            return EXIT.refused;
        }
        throw err;
    }
    const out = reporter(args.verbose);
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

    process.once("SIGINT", () => {
        out.error(
            `interrupted. The release state is in the stack config: \`npm run release -- status --stack ${args.stack}\`, ` +
                "then `resume` or `rollback`.",
        );
        process.exit(130);
    });

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
