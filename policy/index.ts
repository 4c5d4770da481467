/**
 * The APFA policy pack: `pulumi preview --policy-pack policy [--policy-pack-config <file>]`.
 * The rules are in ./rules.ts (one file per area); the per-stack config file (waivers, budget,
 * allowed registries) is written by `npm run policy -- --stack <stack> --pack-config <file>`.
 */
import { PolicyPack } from "@pulumi/policy";

import { PACK_NAME, RULES } from "./rules";

new PolicyPack(PACK_NAME, {
    description: "APFA: exposure, encryption and secrets, identity, reliability, supply chain and cost rules for every target",
    policies: [...RULES],
});
