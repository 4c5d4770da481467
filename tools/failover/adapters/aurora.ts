/**
 * Aurora Global Database: promotes the secondary cluster in the standby region.
 *
 *   unplanned  FailoverGlobalCluster { GlobalClusterIdentifier, TargetDbClusterIdentifier: <standby ARN>, AllowDataLoss: true }
 *   planned    SwitchoverGlobalCluster { GlobalClusterIdentifier, TargetDbClusterIdentifier: <standby ARN> }  (RPO 0)
 *
 * Every call goes to the *standby* region's RDS endpoint: the primary region may be the one that
 * is down, and failover must not depend on its control plane. The target is given as an ARN (the
 * API asks for one "so that Aurora can locate the cluster in its Region"); the standby region is
 * read from it. Field names checked in @aws-sdk/client-rds's models (FailoverGlobalClusterMessage:
 * AllowDataLoss and Switchover are mutually exclusive; without either, the API defaults to a switchover —
 * so the unplanned path always sets AllowDataLoss explicitly).
 *
 * describe(): DescribeGlobalClusters (is the target a member, is it the writer) and
 * DescribeDBClusters on the target (status, and at least one instance: a headless secondary cannot
 * be promoted).
 *
 * IAM for the controller's role (least privilege): rds:FailoverGlobalCluster and
 * rds:SwitchoverGlobalCluster on the global cluster and both member clusters'
 * ARNs, rds:DescribeGlobalClusters, rds:DescribeDBClusters.
 */
import {
    DescribeDBClustersCommand,
    DescribeGlobalClustersCommand,
    FailoverGlobalClusterCommand,
    RDSClient,
    SwitchoverGlobalClusterCommand,
} from "@aws-sdk/client-rds";

import { errorText, type PromotionAdapter, type PromotionRequest, type PromotionResult, type TargetDescription } from "./types";

/** The commands this adapter sends; a fake client in the tests records them. */
export type AuroraCommand = DescribeGlobalClustersCommand | DescribeDBClustersCommand | FailoverGlobalClusterCommand | SwitchoverGlobalClusterCommand;

/** The part of RDSClient the adapter uses. */
export interface RdsLike {
    send(command: AuroraCommand): Promise<unknown>;
}

export interface AuroraAdapterOptions {
    /** The global cluster's identifier (its name). */
    readonly globalClusterIdentifier: string;
    /** ARN of the secondary cluster to promote, e.g. arn:aws:rds:us-west-2:123456789012:cluster:apfa-usw2. */
    readonly standbyClusterArn: string;
    /** Builds the RDS client for a region. @default a real RDSClient */
    readonly clientFor?: (region: string) => RdsLike;
}

const ARN = /^arn:aws[a-z-]*:rds:([a-z0-9-]+):\d{12}:cluster:[A-Za-z][A-Za-z0-9-]{0,62}$/;

/** The region in an Aurora cluster ARN, or undefined when it is not one. */
export function regionOfClusterArn(arn: string): string | undefined {
    return ARN.exec(arn)?.[1];
}

export class AuroraGlobalAdapter implements PromotionAdapter {
    readonly standbyRegion: string;
    private readonly client: RdsLike;

    constructor(private readonly options: AuroraAdapterOptions) {
        const region = regionOfClusterArn(options.standbyClusterArn);
        if (region === undefined) {
            throw new Error(`standby cluster ${JSON.stringify(options.standbyClusterArn)}: expected an Aurora cluster ARN (arn:aws:rds:<region>:<account>:cluster:<name>)`);
        }
        this.standbyRegion = region;
        this.client = (options.clientFor ?? ((r: string) => new RDSClient({ region: r, maxAttempts: 3 })))(region);
    }

    async describe(): Promise<TargetDescription> {
        const base = { adapter: "aurora-global" as const, target: this.options.standbyClusterArn };
        try {
            const global = (await this.client.send(new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: this.options.globalClusterIdentifier }))) as {
                GlobalClusters?: Array<{ Status?: string; GlobalClusterMembers?: Array<{ DBClusterArn?: string; IsWriter?: boolean }> }>;
            };
            const cluster = global.GlobalClusters?.[0];
            const member = cluster?.GlobalClusterMembers?.find((m) => m.DBClusterArn === this.options.standbyClusterArn);
            if (!member) {
                return { ...base, role: "unknown", healthy: false, detail: `not a member of global cluster ${this.options.globalClusterIdentifier}` };
            }
            const described = (await this.client.send(new DescribeDBClustersCommand({ DBClusterIdentifier: this.options.standbyClusterArn }))) as {
                DBClusters?: Array<{ Status?: string; DBClusterMembers?: unknown[] }>;
            };
            const db = described.DBClusters?.[0];
            const instances = db?.DBClusterMembers?.length ?? 0;
            const healthy = db?.Status === "available" && instances > 0;
            return {
                ...base,
                role: member.IsWriter ? "primary" : "standby",
                healthy,
                detail: `global cluster ${cluster?.Status ?? "?"}; target ${member.IsWriter ? "writer" : "secondary"}, status ${db?.Status ?? "?"}, ${instances} instance(s)`,
            };
        } catch (err) {
            return { ...base, role: "unknown", healthy: false, detail: errorText(err) };
        }
    }

    async promote(request: PromotionRequest): Promise<PromotionResult> {
        const input = { GlobalClusterIdentifier: this.options.globalClusterIdentifier, TargetDbClusterIdentifier: this.options.standbyClusterArn };
        const result = (await this.client.send(
            request.planned ? new SwitchoverGlobalClusterCommand(input) : new FailoverGlobalClusterCommand({ ...input, AllowDataLoss: true }),
        )) as { GlobalCluster?: { Status?: string; FailoverState?: { Status?: string } } };
        const state = result.GlobalCluster?.FailoverState?.Status ?? result.GlobalCluster?.Status ?? "accepted";
        return {
            detail: `${request.planned ? "SwitchoverGlobalCluster" : "FailoverGlobalCluster (AllowDataLoss)"} to ${this.options.standbyClusterArn} in ${this.standbyRegion}: ${state}`,
        };
    }
}
