/**
 * Every `apfa:*` key a stack may set, assembled from the shared schemas and each cloud's settings
 * module, with the rules that span keys attached as one stack-level refinement.
 */
import { z } from "zod";

import { awsSettingsSchema, awsStackRules } from "../targets/aws/settings";
import { azureSettingsSchema, azureStackRules } from "../targets/azure/settings";
import { dockerSettingsSchema, dockerStackRules } from "../targets/docker/settings";
import { gcpSettingsSchema, gcpStackRules } from "../targets/gcp/settings";
import { alertingSchema } from "./alerting";
import { budgetSchema, costSchema } from "./budget";
import { multiRegionRules, multiRegionSchema } from "./region";
import { policySchema } from "./policy";
import { databaseSchema } from "./database";
import { appSchema, monitoringSchema, scalingSchema } from "./app";
import { SLOTS } from "../contract";
import { CLOUDS, DOCUMENTATION_ACCOUNT, NAMESPACE, acceptsPlaceholders, flag, isPlaceholderImage, labelMap, valid, type Cloud, type StackRule } from "./common";
import { addFormattedIssue } from "./errors";
import { releaseSchema, rolloutSchema } from "./release";

const stackObject = z.strictObject({
    cloud: z.enum(CLOUDS),
    app: appSchema.prefault({}),
    scaling: scalingSchema.prefault({}),
    monitoring: monitoringSchema.prefault({}),
    /** Alertmanager's receivers and routing (src/config/alerting.ts); may hold secrets. */
    alerting: alertingSchema.prefault({}),
    /** APFA's PostgreSQL database, the keys shared by every target (src/config/database.ts). */
    database: databaseSchema.prefault({}),
    /** This stack's region in a multi-region deployment (src/config/region.ts); absent: one region. */
    multiRegion: multiRegionSchema.optional(),
    /** The monthly budget the cost estimate is checked against (src/config/budget.ts). */
    budget: budgetSchema.optional(),
    /** Usage assumptions of the cost estimate, `npm run cost` (src/config/budget.ts). */
    cost: costSchema.optional(),
    /** What the policy pack needs about this stack: rule waivers, allowed registries (src/config/policy.ts). */
    policy: policySchema.prefault({}),
    release: releaseSchema.prefault({}),
    rollout: rolloutSchema.prefault({}),
    tags: labelMap.default({}),
    /**
     * Serve users over plain HTTP although the stack is tagged `environment: production` (which
     * otherwise refuses a public entry without TLS), e.g. because TLS ends in front of the stack.
     * @default false
     */
    allowPlainHttp: flag.default(false),
    /**
     * Accept the sample values of the stack files (images and certificates in AWS's documentation
     * account 123456789012), which no real deploy can use. For the offline synth and tests only:
     * `npm run synth` sets it. @default false
     */
    acceptPlaceholders: flag.default(false),
    grafanaAdminPassword: z.string().min(12, "use at least 12 characters").optional(),
    docker: dockerSettingsSchema.optional(),
    aws: awsSettingsSchema.optional(),
    azure: azureSettingsSchema.optional(),
    gcp: gcpSettingsSchema.optional(),
});

/** The top-level keys, for "did you mean" hints on misspelt ones. */
export const KNOWN_KEYS: readonly string[] = Object.keys(stackObject.shape);

/** Each cloud's rules over several keys, kept beside that cloud's settings. */
const CLOUD_RULES: Readonly<Record<Cloud, StackRule | undefined>> = {
    docker: dockerStackRules,
    aws: awsStackRules,
    azure: azureStackRules,
    gcp: gcpStackRules,
};

/** Rules of every stack over several keys: which cloud section applies, the active image, the rollout. */
const commonStackRules = (cloud: Cloud): StackRule => ({ own }) => {
    const problems: string[] = [];
    for (const other of CLOUDS) {
        if (other !== cloud && own[other] !== undefined) {
            problems.push(`${NAMESPACE}:${other}: only used when ${NAMESPACE}:cloud is ${other} (this stack uses ${cloud}); remove it`);
        }
    }
    const release = valid(releaseSchema, own.release ?? {});
    if (cloud !== "docker" && release && !release[release.active].image) {
        problems.push(`${NAMESPACE}:release.${release.active}.image: required on ${cloud}: the active slot (${release.active}) needs an image`);
    }
    if (release && !acceptsPlaceholders(own)) {
        for (const slot of SLOTS) {
            const image = release[slot].image;
            if (image !== undefined && isPlaceholderImage(image)) {
                problems.push(
                    `${NAMESPACE}:release.${slot}.image: ${image} is in AWS's documentation account ${DOCUMENTATION_ACCOUNT}, so no ` +
                        "task can pull it (the deploy would time out after 10-20 minutes); push APFA's image to your registry and set its reference",
                );
            }
        }
    }
    const scaling = valid(scalingSchema, own.scaling ?? {});
    if (release && scaling) {
        for (const slot of SLOTS) {
            const floor = release[slot].minReplicas;
            if (floor !== undefined && floor > scaling.maxReplicas) {
                problems.push(
                    `${NAMESPACE}:release.${slot}.minReplicas: ${floor} is above ${NAMESPACE}:scaling.maxReplicas (${scaling.maxReplicas}); ` +
                        `a slot's replica floor must be at most its maximum`,
                );
            }
        }
    }
    return problems;
};

/** `apfa:monitoring.managedPrometheus` needs monitoring and a target that has a managed store. */
const managedPrometheusRules = (cloud: Cloud): StackRule => ({ own }) => {
    const monitoring = valid(monitoringSchema, own.monitoring ?? {});
    if (monitoring?.managedPrometheusWorkspace && !monitoring.managedPrometheus) {
        return [`${NAMESPACE}:monitoring.managedPrometheusWorkspace: only used with ${NAMESPACE}:monitoring.managedPrometheus: true; set it or remove the workspace`];
    }
    if (!monitoring?.managedPrometheus) {
        return [];
    }
    const problems: string[] = [];
    if (cloud !== "aws") {
        problems.push(
            `${NAMESPACE}:monitoring.managedPrometheus: only on the aws target today (Amazon Managed Service for Prometheus); ` +
                `this stack is ${cloud}${cloud === "docker" ? "" : ", where Prometheus's data already outlives its pod on a persistent volume"}`,
        );
    }
    if (!monitoring.enabled) {
        problems.push(`${NAMESPACE}:monitoring.managedPrometheus: needs ${NAMESPACE}:monitoring.enabled (no Prometheus would write to it)`);
    }
    return problems;
};

/** Alerting needs the monitoring stack: Alertmanager runs beside Prometheus. */
const alertingRules: StackRule = ({ own }) => {
    const monitoring = valid(monitoringSchema, own.monitoring ?? {});
    const alerting = valid(alertingSchema, own.alerting ?? {});
    if (monitoring && !monitoring.enabled && alerting && Object.keys(alerting.receivers).length > 0) {
        return [
            `${NAMESPACE}:alerting.receivers: set, but ${NAMESPACE}:monitoring.enabled is false, so no Alertmanager runs to use them; ` +
                `enable monitoring or remove ${NAMESPACE}:alerting`,
        ];
    }
    return [];
};

/** Rules the release tool would otherwise enforce at run time: `pulumi up` refuses them first. */
const rolloutRules = (cloud: Cloud): StackRule => ({ own }) => {
    const rollout = valid(rolloutSchema, own.rollout ?? {});
    const monitoring = valid(monitoringSchema, own.monitoring ?? {});
    const problems: string[] = [];
    if (rollout?.metricsSource === "cloudwatch" && cloud !== "aws") {
        problems.push(`${NAMESPACE}:rollout.metricsSource: cloudwatch works on the aws target only (this stack is ${cloud})`);
    }
    if (rollout?.metricsSource === "prometheus" && monitoring && rollout.analysis.windowSeconds < 2 * monitoring.scrapeIntervalSeconds) {
        problems.push(
            `${NAMESPACE}:rollout.analysis.windowSeconds: ${rollout.analysis.windowSeconds} must cover at least two scrapes ` +
                `(2 × ${NAMESPACE}:monitoring.scrapeIntervalSeconds = ${2 * monitoring.scrapeIntervalSeconds})`,
        );
    }
    return problems;
};

/**
 * The stack schema. `all` holds every namespace's values (the aws and gcp rules read `aws:region`
 * and `gcp:project`); `prefix` is `<project>-<stack>` (name-length rules). The refinement runs even when some keys are invalid (`when`), and each rule
 * re-validates the parts it reads, so one bad key never hides another key's problem.
 */
export function stackSchema(all: Readonly<Record<string, unknown>> = {}, prefix = "") {
    return stackObject.superRefine(
        (value, ctx) => {
            const own = value as Record<string, unknown>;
            const cloud = valid(z.enum(CLOUDS), own.cloud);
            if (cloud === undefined) {
                return;
            }
            const rules = [commonStackRules(cloud), CLOUD_RULES[cloud], rolloutRules(cloud), alertingRules, managedPrometheusRules(cloud), multiRegionRules(cloud)];
            for (const rule of rules) {
                for (const problem of rule?.({ own, all, prefix }) ?? []) {
                    addFormattedIssue(ctx, problem);
                }
            }
        },
        { when: () => true },
    );
}

export type ParsedStack = z.output<typeof stackObject>;
