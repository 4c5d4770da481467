/**
 * `apfa:policy`: what the policy pack (policy/) needs to know about this stack. No resource reads
 * it. The pack runs in its own process and learns these values from its policy config, which
 * `npm run policy -- --stack <stack> --pack-config <file>` writes from this key (CI passes the file
 * to `pulumi preview --policy-pack policy --policy-pack-config <file>`).
 */
import { z } from "zod";

/** A rule name of the pack: lowercase words joined by hyphens (policy/rules.ts lists them). */
const RULE_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;

export const policySchema = z.strictObject({
    /**
     * Rules waived on this stack, each with the reason (at least 10 characters). A waived rule still
     * runs and reports, downgraded to advisory and prefixed with the reason, so the exception stays
     * visible in every preview. `npm run policy` refuses a name the pack does not have.
     * @default {}
     */
    waivers: z
        .record(z.string(), z.string().trim().min(10, "say why the rule is waived (at least 10 characters)"))
        .superRefine((waivers, ctx) => {
            // Checked here rather than as the record's key schema, so that the message names the key.
            for (const name of Object.keys(waivers).filter((key) => !RULE_NAME.test(key))) {
                ctx.addIssue({ code: "custom", path: [name], message: "expected a policy rule name such as aws-alb-hardening (lowercase words joined by -)" });
            }
        })
        .default({}),
    /**
     * Registries (hosts or path prefixes, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com`,
     * `europe-west1-docker.pkg.dev/apfa-prod`, `docker.io/library`) every image must come from
     * (rule images-allowed-registries).
     * @default unset (any registry; the rule does not apply)
     */
    allowedRegistries: z.array(z.string().regex(/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._\/-]+)?$/, "expected a registry host or path prefix")).min(1).optional(),
});

export type PolicySettings = z.output<typeof policySchema>;
