/** Config-test helpers shared by the test files. */
import { ConfigError, parseConfig } from "../../src/config";

/**
 * The problems `parseConfig` reports for raw config values (namespaced keys, as in a stack file)
 * under project "apfa" and the given stack name, or [] when the config is valid.
 */
export function configProblems(values: Record<string, unknown>, stack = "test"): string[] {
    try {
        parseConfig({ values, project: "apfa", stack });
        return [];
    } catch (err) {
        if (err instanceof ConfigError) {
            return [...err.problems];
        }
        throw err;
    }
}
