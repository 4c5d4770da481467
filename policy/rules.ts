/**
 * Every rule of the pack, in one list: index.ts serves it to the Pulumi CLI, and the CLI-less
 * harness (policy/harness.ts) runs it over synthesized plans in the tests and `npm run policy`.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

import { awsRules } from "./aws";
import { azureRules } from "./azure";
import { dockerRules } from "./docker";
import { gcpRules } from "./gcp";
import { kubernetesRules } from "./kubernetes";
import type { RuleMeta } from "./rule";
import { stackRules } from "./stack";

export type Rule = (ResourceValidationPolicy | StackValidationPolicy) & { readonly area: RuleMeta["area"] };

export const RULES: readonly Rule[] = [...awsRules, ...azureRules, ...gcpRules, ...kubernetesRules, ...dockerRules, ...stackRules];

/** The pack's name (PulumiPolicy.yaml's directory is the pack; this is what the CLI prints). */
export const PACK_NAME = "apfa-policy";

/** Rule names, for validating `apfa:policy.waivers`. */
export const RULE_NAMES: readonly string[] = RULES.map((r) => r.name);
