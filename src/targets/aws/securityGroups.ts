/**
 * Security groups, one rule per resource (`aws.vpc.SecurityGroupIngressRule`/`EgressRule`, never
 * inline rules, so a rule change touches only that rule). A new group has no rules at all: the
 * provider removes AWS's default allow-all egress, so every path below is one that is needed.
 *
 * - ALB: 80 (and 443 with a certificate) from anywhere; out only to the tasks on APFA's port (and
 *   to the operator-facing services on theirs, added by `runService`).
 * - APFA tasks: APFA's port from the ALB and from each scraping auxiliary service; nothing else in.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import type { AwsConfig } from "../../config";
import type { Network } from "./network";
import { awsTags, type TagSource } from "./tags";

/** Where traffic comes from or goes to. */
export type Peer = { readonly securityGroupId: pulumi.Input<string> } | { readonly cidrIpv4: string };

export interface RuleArgs {
    readonly securityGroupId: pulumi.Input<string>;
    readonly description: string;
    /** TCP port; `"all"` for every protocol and port. */
    readonly port: number | "all";
    readonly peer: Peer;
}

function ruleInputs(args: RuleArgs, tags: Record<string, string>) {
    const peer =
        "securityGroupId" in args.peer ? { referencedSecurityGroupId: args.peer.securityGroupId } : { cidrIpv4: args.peer.cidrIpv4 };
    const ports = args.port === "all" ? { ipProtocol: "-1" } : { ipProtocol: "tcp", fromPort: args.port, toPort: args.port };
    return { securityGroupId: args.securityGroupId, description: args.description, ...ports, ...peer, tags };
}

export function allowIngress(name: string, args: RuleArgs, tags: TagSource, parent: pulumi.Resource): aws.vpc.SecurityGroupIngressRule {
    return new aws.vpc.SecurityGroupIngressRule(name, ruleInputs(args, awsTags(tags, name)), { parent });
}

export function allowEgress(name: string, args: RuleArgs, tags: TagSource, parent: pulumi.Resource): aws.vpc.SecurityGroupEgressRule {
    return new aws.vpc.SecurityGroupEgressRule(name, ruleInputs(args, awsTags(tags, name)), { parent });
}

export function createSecurityGroup(
    name: string,
    description: string,
    network: Network,
    tags: TagSource,
    parent: pulumi.Resource,
): aws.ec2.SecurityGroup {
    return new aws.ec2.SecurityGroup(name, { vpcId: network.vpc.id, description, tags: awsTags(tags, name) }, { parent });
}

export interface AppSecurityGroups {
    readonly alb: aws.ec2.SecurityGroup;
    readonly tasks: aws.ec2.SecurityGroup;
    /**
     * The rules an APFA task needs from its first second: outbound (image pulls, logs) and the
     * ALB ↔ task path its target-group health checks take. A new group starts with no rules, so a
     * service created before these would see its first tasks fail.
     */
    readonly taskStartRules: pulumi.Resource[];
}

/** The ALB's and APFA tasks' groups with the rules between them. */
export function createAppSecurityGroups(name: string, config: AwsConfig, network: Network, parent: pulumi.Resource): AppSecurityGroups {
    const port = config.app.port;
    const alb = createSecurityGroup(`${name}-alb-sg`, "APFA load balancer: HTTP(S) from the internet", network, config, parent);
    const tasks = createSecurityGroup(`${name}-tasks-sg`, "APFA tasks: the app port from the load balancer and Prometheus", network, config, parent);

    allowIngress(`${name}-alb-http-in`, { securityGroupId: alb.id, description: "HTTP from the internet", port: 80, peer: { cidrIpv4: "0.0.0.0/0" } }, config, parent);
    if (config.aws.certificateArn) {
        allowIngress(
            `${name}-alb-https-in`,
            { securityGroupId: alb.id, description: "HTTPS from the internet", port: 443, peer: { cidrIpv4: "0.0.0.0/0" } },
            config,
            parent,
        );
    }
    const albToTasks = allowEgress(
        `${name}-alb-to-tasks`,
        { securityGroupId: alb.id, description: "To the APFA tasks", port, peer: { securityGroupId: tasks.id } },
        config,
        parent,
    );
    const tasksFromAlb = allowIngress(
        `${name}-tasks-from-alb`,
        { securityGroupId: tasks.id, description: "APFA port from the load balancer", port, peer: { securityGroupId: alb.id } },
        config,
        parent,
    );
    // APFA's own outbound needs are the application's business (databases, APIs); image pulls, logs
    // and secrets go through the VPC endpoints or the NAT gateways on 443.
    const tasksOut = allowEgress(
        `${name}-tasks-out`,
        { securityGroupId: tasks.id, description: "APFA outbound", port: "all", peer: { cidrIpv4: "0.0.0.0/0" } },
        config,
        parent,
    );
    return { alb, tasks, taskStartRules: [albToTasks, tasksFromAlb, tasksOut] };
}
