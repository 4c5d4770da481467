/** Config-test helpers shared by the test files. */
import { ConfigError, parseConfig } from "../../src/config";
import { readSampleStack } from "../../scripts/synth/stack-config";

/** The problems of the ConfigError `run` throws, or [] when it throws none (any other error propagates). */
export function problemsOf(run: () => unknown): string[] {
    try {
        run();
        return [];
    } catch (err) {
        if (err instanceof ConfigError) {
            return [...err.problems];
        }
        throw err;
    }
}

/**
 * The problems `parseConfig` reports for raw config values (namespaced keys, as in a stack file)
 * under project "apfa" and the given stack name, or [] when the config is valid.
 */
export function configProblems(values: Record<string, unknown>, stack = "test"): string[] {
    return problemsOf(() => parseConfig({ values, project: "apfa", stack }));
}

/** The problems of a sample stack file (placeholders accepted, as the synth does) with some keys replaced. */
export function sampleStackProblems(stack: string, overrides: Record<string, unknown>): string[] {
    return configProblems({ ...readSampleStack(stack), ...overrides }, stack);
}
