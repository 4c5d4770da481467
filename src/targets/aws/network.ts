/**
 * The VPC: public and private subnets per AZ, an internet gateway, NAT gateways (one per AZ or a
 * single one), route tables to match, and the VPC endpoints that keep image pulls, logs and secret
 * reads off the NAT gateways.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import type { AwsConfig } from "../../config";
import { planSubnets } from "./subnets";
import { awsTags } from "./tags";

export type NatMode = AwsConfig["aws"]["natGateways"];

/** Interface endpoints (AWS service short names) the private subnets get. */
export const INTERFACE_ENDPOINT_SERVICES = [
    /** ECR API: image manifests and the auth token. */
    "ecr.api",
    /** ECR registry: image pulls (the layers themselves come from S3, see the gateway endpoint). */
    "ecr.dkr",
    /** CloudWatch Logs: the awslogs driver of every task. */
    "logs",
    /** Secrets Manager: the execution role reads Grafana's admin password at task start. */
    "secretsmanager",
] as const;

export interface NatPlan {
    /** How many NAT gateways (and private route tables) there are. */
    readonly natCount: number;
    /** For each AZ index, the NAT gateway (and private route table) its private subnet uses. */
    readonly natForAz: readonly number[];
}

/**
 * Which NAT gateway each AZ's private subnet uses. `perAz`: its own, so one AZ's outage never cuts
 * another's egress. `single`: all use the one in the first AZ (cheaper; that AZ is a single point
 * of failure for egress, and cross-AZ traffic to it is billed).
 */
export function natPlan(azCount: number, mode: NatMode): NatPlan {
    if (mode === "single") {
        return { natCount: 1, natForAz: Array.from({ length: azCount }, () => 0) };
    }
    return { natCount: azCount, natForAz: Array.from({ length: azCount }, (_, i) => i) };
}

/** The endpoint service name of an AWS service in a region (commercial and GovCloud partitions). */
export function endpointServiceName(region: string, service: string): string {
    return `com.amazonaws.${region}.${service}`;
}

/** The AZs to use: available, not opt-in (no Local/Wavelength Zones), sorted, the first `count`. */
export function chooseAvailabilityZones(names: readonly string[], count: number, region: string): string[] {
    const sorted = [...names].sort();
    if (sorted.length < count) {
        throw new Error(
            `${region} offers ${sorted.length} availability zone(s) (${sorted.join(", ") || "none"}); apfa:aws.availabilityZoneCount asks for ${count}`,
        );
    }
    return sorted.slice(0, count);
}

export interface Network {
    readonly vpc: aws.ec2.Vpc;
    /** The VPC range (known before deploy; security-group rules use it). */
    readonly vpcCidr: string;
    /** AZ names, in subnet order. */
    readonly availabilityZones: pulumi.Output<string[]>;
    readonly publicSubnets: aws.ec2.Subnet[];
    readonly privateSubnets: aws.ec2.Subnet[];
    readonly natGateways: aws.ec2.NatGateway[];
    readonly privateRouteTables: aws.ec2.RouteTable[];
    readonly endpointSecurityGroup: aws.ec2.SecurityGroup;
    readonly endpoints: aws.ec2.VpcEndpoint[];
    /**
     * What makes the public subnets reach the internet: the internet gateway, the public default
     * route and the public route-table associations. An internet-facing load balancer must wait
     * for them (ELB refuses a VPC without an attached internet gateway: `InvalidSubnet`).
     */
    readonly internetReady: pulumi.Resource[];
    /**
     * What makes the private subnets' egress work: `internetReady` (the NAT gateways sit in the
     * public subnets), the private default routes through the NAT gateways, the private
     * route-table associations, the VPC endpoints and the rule that lets tasks reach the interface
     * endpoints. Every ECS service depends on these, so no task starts before it can pull its image,
     * write its logs and read its secrets.
     */
    readonly egressReady: pulumi.Resource[];
}

/** Creates the VPC and everything in it that is not a workload. */
export function createNetwork(name: string, config: AwsConfig, parent: pulumi.Resource): Network {
    const settings = config.aws;
    const opts = { parent };
    const tags = (suffix: string, extra?: Record<string, string>) => awsTags(config, `${config.prefix}-${suffix}`, extra);
    const plan = planSubnets(settings.vpcCidr, settings.availabilityZoneCount);
    const nat = natPlan(settings.availabilityZoneCount, settings.natGateways);

    const zones = aws.getAvailabilityZonesOutput(
        { state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] },
        { parent },
    );
    const availabilityZones = zones.names.apply((names) => chooseAvailabilityZones(names, settings.availabilityZoneCount, config.region));

    const vpc = new aws.ec2.Vpc(
        `${name}-vpc`,
        {
            cidrBlock: settings.vpcCidr,
            // Both are needed for interface endpoints' private DNS and for Cloud Map names.
            enableDnsSupport: true,
            enableDnsHostnames: true,
            tags: tags("vpc"),
        },
        opts,
    );

    // The default security group allows all traffic between its members; nothing here uses it,
    // so it is emptied to make an accidental use fail closed.
    new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId: vpc.id, ingress: [], egress: [], tags: tags("default-closed") }, opts);

    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: tags("igw") }, opts);

    const publicSubnets = plan.map(
        (p) =>
            new aws.ec2.Subnet(
                `${name}-public-${p.index}`,
                {
                    vpcId: vpc.id,
                    cidrBlock: p.publicCidr,
                    availabilityZone: availabilityZones.apply((azs) => azs[p.index]),
                    // Only the ALB and the NAT gateways live here, with addresses AWS assigns.
                    mapPublicIpOnLaunch: false,
                    tags: tags(`public-${p.index}`, { tier: "public" }),
                },
                opts,
            ),
    );
    const privateSubnets = plan.map(
        (p) =>
            new aws.ec2.Subnet(
                `${name}-private-${p.index}`,
                {
                    vpcId: vpc.id,
                    cidrBlock: p.privateCidr,
                    availabilityZone: availabilityZones.apply((azs) => azs[p.index]),
                    mapPublicIpOnLaunch: false,
                    tags: tags(`private-${p.index}`, { tier: "private" }),
                },
                opts,
            ),
    );

    const publicRouteTable = new aws.ec2.RouteTable(`${name}-public-rt`, { vpcId: vpc.id, tags: tags("public") }, opts);
    const publicDefault = new aws.ec2.Route(
        `${name}-public-default`,
        { routeTableId: publicRouteTable.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id },
        opts,
    );
    const publicAssociations = publicSubnets.map(
        (subnet, i) => new aws.ec2.RouteTableAssociation(`${name}-public-${i}-rta`, { subnetId: subnet.id, routeTableId: publicRouteTable.id }, opts),
    );

    const natGateways: aws.ec2.NatGateway[] = [];
    const privateRouteTables: aws.ec2.RouteTable[] = [];
    const privateDefaults: aws.ec2.Route[] = [];
    for (let n = 0; n < nat.natCount; n++) {
        const eip = new aws.ec2.Eip(`${name}-nat-${n}-eip`, { domain: "vpc", tags: tags(`nat-${n}`) }, { parent, dependsOn: [igw] });
        const gateway = new aws.ec2.NatGateway(
            `${name}-nat-${n}`,
            { allocationId: eip.id, subnetId: publicSubnets[n].id, connectivityType: "public", tags: tags(`nat-${n}`) },
            { parent, dependsOn: [igw] },
        );
        natGateways.push(gateway);
        const table = new aws.ec2.RouteTable(`${name}-private-rt-${n}`, { vpcId: vpc.id, tags: tags(`private-${n}`) }, opts);
        privateDefaults.push(
            new aws.ec2.Route(`${name}-private-${n}-default`, { routeTableId: table.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: gateway.id }, opts),
        );
        privateRouteTables.push(table);
    }
    const privateAssociations = privateSubnets.map(
        (subnet, i) =>
            new aws.ec2.RouteTableAssociation(
                `${name}-private-${i}-rta`,
                { subnetId: subnet.id, routeTableId: privateRouteTables[nat.natForAz[i]].id },
                opts,
            ),
    );

    const endpointSecurityGroup = new aws.ec2.SecurityGroup(
        `${name}-endpoints-sg`,
        { vpcId: vpc.id, description: "VPC interface endpoints: HTTPS from inside the VPC", tags: tags("endpoints") },
        opts,
    );
    const endpointsHttpsIn = new aws.vpc.SecurityGroupIngressRule(
        `${name}-endpoints-https-in`,
        {
            securityGroupId: endpointSecurityGroup.id,
            description: "HTTPS to the AWS APIs from the VPC",
            ipProtocol: "tcp",
            fromPort: 443,
            toPort: 443,
            cidrIpv4: settings.vpcCidr,
            tags: tags("endpoints-https-in"),
        },
        opts,
    );

    const endpoints: aws.ec2.VpcEndpoint[] = [
        new aws.ec2.VpcEndpoint(
            `${name}-s3`,
            {
                vpcId: vpc.id,
                serviceName: endpointServiceName(config.region, "s3"),
                vpcEndpointType: "Gateway",
                routeTableIds: privateRouteTables.map((t) => t.id),
                tags: tags("s3"),
            },
            opts,
        ),
        ...INTERFACE_ENDPOINT_SERVICES.map(
            (service) =>
                new aws.ec2.VpcEndpoint(
                    `${name}-${service.replace(/\./g, "-")}`,
                    {
                        vpcId: vpc.id,
                        serviceName: endpointServiceName(config.region, service),
                        vpcEndpointType: "Interface",
                        privateDnsEnabled: true,
                        subnetIds: privateSubnets.map((s) => s.id),
                        securityGroupIds: [endpointSecurityGroup.id],
                        tags: tags(service.replace(/\./g, "-")),
                    },
                    opts,
                ),
        ),
    ];

    const internetReady: pulumi.Resource[] = [igw, publicDefault, ...publicAssociations];
    return {
        vpc,
        vpcCidr: settings.vpcCidr,
        availabilityZones,
        publicSubnets,
        privateSubnets,
        natGateways,
        privateRouteTables,
        endpointSecurityGroup,
        endpoints,
        internetReady,
        egressReady: [...internetReady, ...privateDefaults, ...privateAssociations, ...endpoints, endpointsHttpsIn],
    };
}
