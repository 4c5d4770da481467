/**
 * What the offline synth's mocks answer: the provider-computed outputs the program reads, per
 * resource type, and the results of the invokes it makes. Values are recognisable fakes.
 *
 * Only outputs the program actually consumes belong here; an invoke missing from `INVOKES` makes
 * the synth fail (instead of silently answering `{}`), so new data sources cannot slip by unmocked.
 */

type Inputs = Record<string, unknown>;
type StateFn = (name: string, inputs: Inputs) => Inputs;
type InvokeFn = (inputs: Inputs) => Inputs;

const ACCOUNT = "123456789012";

// --- Azure (AKS target): recognisable fake ids.
const AZURE_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000";
const AZURE_TENANT = "99999999-9999-9999-9999-999999999999";

function azureGroupId(inputs: Inputs): string {
    return `/subscriptions/${AZURE_SUBSCRIPTION}/resourceGroups/${String(inputs.resourceGroupName)}`;
}

/** A kubeconfig shaped like AKS's local-account user credentials (certificate auth). */
function mockAksKubeconfig(cluster: string): string {
    return [
        "apiVersion: v1",
        "kind: Config",
        `clusters: [{name: ${cluster}, cluster: {server: "https://${cluster}-abcdef12.hcp.westeurope.azmk8s.io:443", certificate-authority-data: bW9jaw==}}]`,
        `users: [{name: clusterUser_${cluster}, user: {client-certificate-data: bW9jaw==, client-key-data: bW9jaw==, token: mock-token}}]`,
        `contexts: [{name: ${cluster}, context: {cluster: ${cluster}, user: clusterUser_${cluster}}}]`,
        `current-context: ${cluster}`,
        "",
    ].join("\n");
}

function awsRegion(inputs: Inputs): string {
    return typeof inputs.region === "string" ? inputs.region : "eu-west-1";
}

/** Computed outputs by resource type token (merged over the inputs). */
export const COMPUTED: Record<string, StateFn> = {
    "random:index/randomPassword:RandomPassword": (name) => ({ result: `mock-password-${name}` }),
    "docker:index/image:Image": (name, inputs) => ({
        repoDigest: `${String(inputs.imageName ?? name)}@sha256:${"0".repeat(64)}`,
    }),
    "docker:index/remoteImage:RemoteImage": (_name, inputs) => ({
        imageId: `sha256:${Buffer.from(String(inputs.name)).toString("hex").padEnd(64, "0").slice(0, 64)}`,
        repoDigest: `${String(inputs.name)}@sha256:${"1".repeat(64)}`,
    }),
    "docker:index/network:Network": (name, inputs) => ({ name: inputs.name ?? name }),
    "docker:index/volume:Volume": (name, inputs) => ({ name: inputs.name ?? name }),
    // --- GCP (GKE target): what GKE and IAM compute and the program reads.
    "gcp:container/cluster:Cluster": (name) => ({
        endpoint: "203.0.113.10",
        // base64 of a PEM block: recognisably fake, shaped like what GKE returns.
        masterAuth: { clusterCaCertificate: Buffer.from(`-----BEGIN CERTIFICATE-----\nmock-ca-${name}\n-----END CERTIFICATE-----\n`).toString("base64") },
    }),
    // GKE names a pool from namePrefix plus a generated suffix.
    "gcp:container/nodePool:NodePool": (_name, inputs) => ({ name: inputs.name ?? `${String(inputs.namePrefix ?? "pool-")}20260101000000000000000001` }),
    "gcp:serviceaccount/account:Account": (_name, inputs) => ({ email: `${String(inputs.accountId)}@${String(inputs.project)}.iam.gserviceaccount.com` }),
    // GCP data tier (src/targets/gcp/database.ts): the private address Cloud SQL takes from the
    // private services range, and the instance's connection name.
    "gcp:sql/databaseInstance:DatabaseInstance": (name, inputs) => ({
        privateIpAddress: "10.70.0.3",
        connectionName: `${String(inputs.project)}:${String(inputs.region)}:${String(inputs.name ?? name)}`,
        // Multi-region (advanced DR): the DNS write endpoint Cloud SQL gives a primary with a DR replica.
        // (as once its DR replica is designated; an Enterprise Plus primary, not a replica).
        ...((inputs.settings as Inputs | undefined)?.edition === "ENTERPRISE_PLUS" && !inputs.masterInstanceName
            ? { replicationCluster: { psaWriteEndpoint: `abcdef012345.${String(inputs.name ?? name)}.global.sql-psa.goog.` } }
            : {}),
    }),
    // GCP multi-region (src/targets/gcp/fleet.ts, failover.ts): the fleet membership's full name and the custom role's name.
    "gcp:gkehub/membership:Membership": (name, inputs) => ({
        id: `projects/${String(inputs.project)}/locations/${String(inputs.location ?? "global")}/memberships/${String(inputs.membershipId ?? name)}`,
    }),
    "gcp:projects/iAMCustomRole:IAMCustomRole": (name, inputs) => ({ name: `projects/${String(inputs.project)}/roles/${String(inputs.roleId ?? name)}` }),
    // --- AWS (ECS target): ARNs and names AWS assigns that the program reads (policies, outputs).
    "aws:lb/loadBalancer:LoadBalancer": (name) => ({
        arn: `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:loadbalancer/app/${name}/0123456789abcdef`,
        // What the provider computes from the ARN: CloudWatch's LoadBalancer dimension.
        arnSuffix: `app/${name}/0123456789abcdef`,
        dnsName: `${name}-123456789.eu-west-1.elb.amazonaws.com`,
        zoneId: "Z32O12XQLNTSW2",
    }),
    "aws:s3/bucket:Bucket": (name) => ({ arn: `arn:aws:s3:::${name}`, bucket: name }),
    "aws:lb/targetGroup:TargetGroup": (name) => ({
        arn: `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:targetgroup/${name}/0123456789abcdef`,
        arnSuffix: `targetgroup/${name}/0123456789abcdef`,
    }),
    "aws:lb/listener:Listener": (name) => ({ arn: `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:listener/app/alb/0123456789abcdef/${name}` }),
    "aws:lb/listenerRule:ListenerRule": (name) => ({
        arn: `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:listener-rule/app/alb/0123456789abcdef/${name}/0123456789abcdef`,
    }),
    "aws:cloudwatch/logGroup:LogGroup": (name, inputs) => ({ arn: `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:${String(inputs.name ?? name)}` }),
    "aws:iam/role:Role": (name) => ({ arn: `arn:aws:iam::${ACCOUNT}:role/${name}`, name }),
    "aws:ecs/cluster:Cluster": (name, inputs) => ({ arn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/${String(inputs.name ?? name)}`, name: inputs.name ?? name }),
    "aws:ecs/service:Service": (name, inputs) => ({ name: inputs.name ?? name }),
    "aws:ecs/taskDefinition:TaskDefinition": (_name, inputs) => ({ arn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:task-definition/${String(inputs.family)}:1` }),
    "aws:secretsmanager/secret:Secret": (name, inputs) => ({
        arn: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:${String(inputs.namePrefix ?? `${name}-`)}20260101000000000000000001-AbCdEf`,
    }),
    // AMP: the workspace id and its endpoint, which ends with "/" as the service returns it.
    "aws:amp/workspace:Workspace": (name) => ({
        arn: `arn:aws:aps:eu-west-1:${ACCOUNT}:workspace/ws-${name}`,
        prometheusEndpoint: `https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-${name}/`,
    }),
    // --- Aurora (AWS database): the endpoints and the RDS-managed master secret RDS creates.
    "aws:kms/key:Key": (name) => ({ arn: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/mock-${name}`, keyId: `mock-${name}` }),
    "aws:rds/cluster:Cluster": (name, inputs) => {
        const cluster = String(inputs.clusterIdentifier ?? name);
        return {
            arn: `arn:aws:rds:eu-west-1:${ACCOUNT}:cluster:${cluster}`,
            endpoint: `${cluster}.cluster-abcdefghijkl.eu-west-1.rds.amazonaws.com`,
            readerEndpoint: `${cluster}.cluster-ro-abcdefghijkl.eu-west-1.rds.amazonaws.com`,
            masterUserSecrets: [
                {
                    secretArn: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:rds!cluster-00000000-0000-0000-0000-000000000000-AbCdEf`,
                    kmsKeyId: inputs.masterUserSecretKmsKeyId,
                    secretStatus: "active",
                },
            ],
        };
    },
    // --- Multi-region (src/targets/aws/{database,dns,failover}.ts): the global writer endpoint, the
    // control parameter's ARN (a leading "/" in the name is not repeated in the ARN).
    "aws:rds/globalCluster:GlobalCluster": (name, inputs) => {
        const id = String(inputs.globalClusterIdentifier ?? name);
        return { id, arn: `arn:aws:rds::${ACCOUNT}:global-cluster:${id}`, endpoint: `${id}.global-abcdefghij.global.rds.amazonaws.com` };
    },
    "aws:ssm/parameter:Parameter": (name, inputs) => ({ arn: `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/${String(inputs.name ?? name).replace(/^\//, "")}` }),
    "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": (name, inputs) => ({ id: `ns-${name}`, name: inputs.name ?? name }),
    "aws:servicediscovery/service:Service": (name, inputs) => ({ arn: `arn:aws:servicediscovery:eu-west-1:${ACCOUNT}:service/srv-${name}`, name: inputs.name ?? name }),
    // --- Azure (AKS target) and the Kubernetes layer: names/ids ARM assigns, cluster identities,
    // and the address a Gateway controller writes into the Gateway's status.
    "azure-native:resources:ResourceGroup": (name, inputs) => {
        const rg = String(inputs.resourceGroupName ?? name);
        return { name: rg, id: `/subscriptions/${AZURE_SUBSCRIPTION}/resourceGroups/${rg}` };
    },
    "azure-native:network:VirtualNetwork": (name, inputs) => {
        const vnet = String(inputs.virtualNetworkName ?? name);
        return { name: vnet, id: `${azureGroupId(inputs)}/providers/Microsoft.Network/virtualNetworks/${vnet}` };
    },
    "azure-native:network:Subnet": (name, inputs) => {
        const subnet = String(inputs.subnetName ?? name);
        return {
            name: subnet,
            id: `${azureGroupId(inputs)}/providers/Microsoft.Network/virtualNetworks/${String(inputs.virtualNetworkName)}/subnets/${subnet}`,
        };
    },
    "azure-native:managedidentity:UserAssignedIdentity": (name, inputs) => {
        const identity = String(inputs.resourceName ?? name);
        return {
            name: identity,
            id: `${azureGroupId(inputs)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${identity}`,
            principalId: "11111111-1111-1111-1111-111111111111",
            clientId: "22222222-2222-2222-2222-222222222222",
        };
    },
    "azure-native:authorization:RoleAssignment": () => ({ name: "33333333-3333-3333-3333-333333333333" }),
    "azure-native:containerservice:ManagedCluster": (name, inputs) => {
        const cluster = String(inputs.resourceName ?? name);
        return {
            name: cluster,
            id: `${azureGroupId(inputs)}/providers/Microsoft.ContainerService/managedClusters/${cluster}`,
            fqdn: `${String(inputs.dnsPrefix ?? cluster)}-abcdef12.hcp.westeurope.azmk8s.io`,
            oidcIssuerProfile: { enabled: true, issuerURL: `https://westeurope.oic.prod-aks.azure.com/${AZURE_TENANT}/44444444-4444-4444-4444-444444444444/` },
            identityProfile: { kubeletidentity: { objectId: "55555555-5555-5555-5555-555555555555", clientId: "66666666-6666-6666-6666-666666666666" } },
        };
    },
    "azure-native:containerservice:AgentPool": (name, inputs) => ({ name: String(inputs.agentPoolName ?? name) }),
    // Azure data tier (src/targets/azure/database.ts): the names/ids ARM assigns and the server's host name.
    "azure-native:privatedns:PrivateZone": (name, inputs) => {
        const zone = String(inputs.privateZoneName ?? name);
        return { name: zone, id: `${azureGroupId(inputs)}/providers/Microsoft.Network/privateDnsZones/${zone}` };
    },
    "azure-native:dbforpostgresql:Server": (name, inputs) => {
        const server = String(inputs.serverName ?? name);
        return {
            name: server,
            id: `${azureGroupId(inputs)}/providers/Microsoft.DBforPostgreSQL/flexibleServers/${server}`,
            fullyQualifiedDomainName: `${server}.postgres.database.azure.com`,
        };
    },
    "azure-native:dbforpostgresql:Database": (name, inputs) => ({ name: String(inputs.databaseName ?? name) }),
    // Azure multi-region (src/targets/azure/frontdoor.ts, failover.ts, index.ts): what ARM generates
    // and another stack reads (Front Door's id, endpoint host names), and the primary region stack's
    // `target` output that a region stack reads by StackReference (src/config/region.ts primaryStack).
    "azure-native:cdn:Profile": (name, inputs) => {
        const profile = String(inputs.profileName ?? name);
        return {
            name: profile,
            id: `${azureGroupId(inputs)}/providers/Microsoft.Cdn/profiles/${profile}`,
            frontDoorId: "aaaaaaaa-0000-4000-8000-00000000fd01",
        };
    },
    "azure-native:cdn:AFDEndpoint": (name, inputs) => {
        const endpoint = String(inputs.endpointName ?? name);
        return { name: endpoint, hostName: `${endpoint}-abcdefgh.z01.azurefd.net` };
    },
    "azure-native:cdn:AFDOriginGroup": (name, inputs) => {
        const group = String(inputs.originGroupName ?? name);
        return { name: group, id: `${azureGroupId(inputs)}/providers/Microsoft.Cdn/profiles/${String(inputs.profileName)}/originGroups/${group}` };
    },
    "azure-native:network:NetworkSecurityGroup": (name, inputs) => {
        const nsg = String(inputs.networkSecurityGroupName ?? name);
        return { name: nsg, id: `${azureGroupId(inputs)}/providers/Microsoft.Network/networkSecurityGroups/${nsg}` };
    },
    "azure-native:authorization:RoleDefinition": (name, inputs) => ({
        id: `${String(inputs.scope)}/providers/Microsoft.Authorization/roleDefinitions/${String(inputs.roleDefinitionId ?? name)}`,
    }),
    "random:index/randomUuid:RandomUuid": () => ({ result: "bbbbbbbb-0000-4000-8000-000000000001" }),
    "pulumi:pulumi:StackReference": (name, inputs) => ({
        name: inputs.name ?? name,
        outputs: {
            target: {
                multiRegion: {
                    frontDoorId: "aaaaaaaa-0000-4000-8000-00000000fd01",
                    probeHost: `primary-probe-abcdefgh.z01.azurefd.net`,
                    frontDoorHost: "primary-abcdefgh.z01.azurefd.net",
                    gatewayAddress: "203.0.113.90",
                    // The GKE primary's: its multi-cluster Gateway's URL and the database's DNS write endpoint.
                    globalUrl: "https://apfa.example.com",
                    writeEndpoint: "abcdef012345.apfa-prod-europe-west1-pg.global.sql-psa.goog",
                },
                replicationCredential: "mock-password-primary-stack",
            },
        },
        secretOutputNames: ["target"],
    }),
    "kubernetes:gateway.networking.k8s.io/v1:Gateway": () => ({
        status: {
            addresses: [{ type: "IPAddress", value: "203.0.113.80" }],
            conditions: [{ type: "Programmed", status: "True", reason: "Programmed" }],
        },
    }),
};

/** Results of invokes (data sources) by token. */
export const INVOKES: Record<string, InvokeFn> = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": (inputs) => {
        const region = awsRegion(inputs);
        const letters = ["a", "b", "c", "d", "e", "f"];
        return {
            names: letters.map((l) => `${region}${l}`),
            zoneIds: letters.map((_, i) => `${region.replace(/-/g, "")}-az${i + 1}`),
            id: region,
        };
    },
    "aws:index/getCallerIdentity:getCallerIdentity": () => ({ accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/synth`, userId: "AIDSYNTH" }),
    // eu-west-1's regional ELB log-delivery account (Elastic Load Balancing user guide).
    "aws:elb/getServiceAccount:getServiceAccount": (inputs) => ({ arn: "arn:aws:iam::156460612806:root", id: "156460612806", region: inputs.region ?? "eu-west-1" }),
    "aws:index/getRegion:getRegion": () => ({ name: "eu-west-1", region: "eu-west-1", id: "eu-west-1" }),
    "aws:rds/getGlobalCluster:getGlobalCluster": (inputs) => {
        const id = String(inputs.identifier);
        return { identifier: id, arn: `arn:aws:rds::${ACCOUNT}:global-cluster:${id}`, endpoint: `${id}.global-abcdefghij.global.rds.amazonaws.com`, id };
    },
    // A secret replicated from the primary region: same name, this region's ARN.
    "aws:secretsmanager/getSecret:getSecret": (inputs) => ({ arn: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:${String(inputs.name)}-AbCdEf`, name: inputs.name, id: inputs.name }),
    "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" }),
    // --- Azure (AKS target)
    "azure-native:authorization:getClientConfig": () => ({
        subscriptionId: AZURE_SUBSCRIPTION,
        tenantId: AZURE_TENANT,
        clientId: "77777777-7777-7777-7777-777777777777",
        objectId: "88888888-8888-8888-8888-888888888888",
    }),
    "azure-native:containerservice:listManagedClusterUserCredentials": (inputs) => ({
        kubeconfigs: [{ name: "clusterUser", value: Buffer.from(mockAksKubeconfig(String(inputs.resourceName))).toString("base64") }],
    }),
};

/** Generic computed outputs every resource gets unless its type says otherwise. */
export function defaultState(type: string, name: string, inputs: Inputs): Inputs {
    const state: Inputs = { ...inputs };
    if (type.startsWith("aws:")) {
        const service = type.split(":")[1]?.split("/")[0] ?? "svc";
        state.arn ??= `arn:aws:${service}:eu-west-1:${ACCOUNT}:${name}`;
        state.id ??= `${name}-id`;
    }
    if (type.startsWith("kubernetes:") && inputs.metadata && typeof inputs.metadata === "object") {
        const metadata = inputs.metadata as Inputs;
        state.metadata = { ...metadata, name: metadata.name ?? name };
    }
    return state;
}
