/**
 * Refreshes a pinned price snapshot (tools/cost/prices/<cloud>-<region>.json) from the cloud's
 * public price API, for a user with internet access (CI does not run it; it is type-checked):
 *
 *   npx tsx tools/cost/refresh-prices.ts --cloud aws   --region eu-west-1    [--create] [--dry-run]
 *   npx tsx tools/cost/refresh-prices.ts --cloud azure --region westeurope
 *   GCP_BILLING_API_KEY=… npx tsx tools/cost/refresh-prices.ts --cloud gcp --region europe-west1
 *
 * - AWS: the bulk price list, no credentials
 *   (`https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/<offer>/current/<region>/index.json`).
 *   The EC2 offer file (NAT gateway, EBS) is several hundred MB; it is streamed to a temp file once.
 * - Azure: the Retail Prices API (`https://prices.azure.com/api/retail/prices`), no credentials.
 * - GCP: the Cloud Billing Catalog API (`https://cloudbilling.googleapis.com/v1/services/…/skus`)
 *   needs an API key: create one in any project (APIs & Services → Credentials → API key),
 *   restrict it to the "Cloud Billing API", and pass it as GCP_BILLING_API_KEY.
 *
 * Every key of the snapshot has a query below (tests/cost.test.ts checks both ways). A key whose
 * query finds nothing keeps its figure and is reported; a key it finds gets the API's price,
 * `verified: true`, and the query text. The snapshot's date becomes today's. Review the diff.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { snapshotFile, validateSnapshot, type PriceEntry, type PriceSnapshot, type PricedCloud } from "./prices";

// ---------------------------------------------------------------- AWS bulk price list

interface AwsSpec {
    /** Offer code of the bulk price list, e.g. AmazonECS. */
    readonly offer: string;
    /** Matches the product's `usagetype` (which carries a region prefix such as `EUW1-`) by suffix. */
    readonly usagetype: string;
    /** Further product attributes that must be equal. */
    readonly attributes?: Readonly<Record<string, string>>;
    /** Converts the listed unit to the snapshot's (e.g. per GB-hour listed, per GB-month wanted). */
    readonly factor?: number;
    /** Not in any price list: a figure derived by hand; kept as is. */
    readonly derived?: string;
}

const aurora = (klass: string): AwsSpec => ({ offer: "AmazonRDS", usagetype: `InstanceUsage:${klass}`, attributes: { databaseEngine: "Aurora PostgreSQL" } });
const rds = (klass: string): AwsSpec => ({ offer: "AmazonRDS", usagetype: `InstanceUsage:${klass}`, attributes: { databaseEngine: "PostgreSQL", deploymentOption: "Single-AZ" } });

export const AWS_SPECS: Readonly<Record<string, AwsSpec>> = {
    "fargate.x86_64.vcpuHour": { offer: "AmazonECS", usagetype: "Fargate-vCPU-Hours:perCPU" },
    "fargate.x86_64.gbHour": { offer: "AmazonECS", usagetype: "Fargate-GB-Hours" },
    "fargate.arm64.vcpuHour": { offer: "AmazonECS", usagetype: "Fargate-ARM-vCPU-Hours:perCPU" },
    "fargate.arm64.gbHour": { offer: "AmazonECS", usagetype: "Fargate-ARM-GB-Hours" },
    "fargate.ephemeralStorageGbHour": { offer: "AmazonECS", usagetype: "Fargate-EphemeralStorage-GB-Hours" },
    "alb.hour": { offer: "AWSELB", usagetype: "LoadBalancerUsage", attributes: { productFamily: "Load Balancer-Application" } },
    "alb.lcuHour": { offer: "AWSELB", usagetype: "LCUUsage", attributes: { productFamily: "Load Balancer-Application" } },
    "nlb.hour": { offer: "AWSELB", usagetype: "LoadBalancerUsage", attributes: { productFamily: "Load Balancer-Network" } },
    "nlb.nlcuHour": { offer: "AWSELB", usagetype: "LCUUsage", attributes: { productFamily: "Load Balancer-Network" } },
    "natGateway.hour": { offer: "AmazonEC2", usagetype: "NatGateway-Hours" },
    "natGateway.gb": { offer: "AmazonEC2", usagetype: "NatGateway-Bytes" },
    "publicIpv4.hour": { offer: "AmazonVPC", usagetype: "PublicIPv4:InUseAddress" },
    "vpcEndpoint.interface.azHour": { offer: "AmazonVPC", usagetype: "VpcEndpoint-Hours" },
    "vpcEndpoint.interface.gb": { offer: "AmazonVPC", usagetype: "VpcEndpoint-Bytes" },
    "cloudwatch.logs.ingestGb": { offer: "AmazonCloudWatch", usagetype: "DataProcessing-Bytes" },
    "cloudwatch.logs.storageGbMonth": { offer: "AmazonCloudWatch", usagetype: "TimedStorage-ByteHrs" },
    "cloudwatch.alarm.month": { offer: "AmazonCloudWatch", usagetype: "CW:AlarmMonitorUsage" },
    "cloudwatch.alarm.highResolutionMonth": { offer: "AmazonCloudWatch", usagetype: "CW:HighResAlarmMonitorUsage" },
    "cloudwatch.dashboard.month": { offer: "AmazonCloudWatch", usagetype: "DashboardsUsageHour", factor: 730 },
    "secretsManager.secretMonth": { offer: "AWSSecretsManager", usagetype: "AWSSecretsManager-Secrets" },
    "kms.keyMonth": { offer: "awskms", usagetype: "KMS-Keys" },
    "route53.zoneMonth": { offer: "AmazonRoute53", usagetype: "HostedZone" },
    "route53.healthCheck.month": { offer: "AmazonRoute53", usagetype: "Health-Check-AWS" },
    "route53.healthCheck.featureMonth": { offer: "AmazonRoute53", usagetype: "Health-Check-Option-AWS" },
    // The usage types below were not checked against a downloaded price list (no internet here):
    // a query that finds nothing keeps its figure and is reported by the refresh.
    "route53.healthCheck.nonAwsMonth": { offer: "AmazonRoute53", usagetype: "Health-Check-NonAWS" },
    "route53.healthCheck.nonAwsFeatureMonth": { offer: "AmazonRoute53", usagetype: "Health-Check-Option-NonAWS" },
    "ssm.parameter.advancedMonth": { offer: "AWSSystemsManager", usagetype: "PS-Advanced-Param-Tier1" },
    "cloudMap.instanceMonth": { offer: "AWSCloudMap", usagetype: "RegisteredResource" },
    "s3.standard.gbMonth": { offer: "AmazonS3", usagetype: "TimedStorage-ByteHrs", attributes: { volumeType: "Standard" } },
    "ebs.gp3.gbMonth": { offer: "AmazonEC2", usagetype: "EBS:VolumeUsage.gp3" },
    "ebs.gp2.gbMonth": { offer: "AmazonEC2", usagetype: "EBS:VolumeUsage.gp2" },
    "efs.standard.gbMonth": { offer: "AmazonEFS", usagetype: "TimedStorage-ByteHrs" },
    "egress.internet.gb": { offer: "AWSDataTransfer", usagetype: "DataTransfer-Out-Bytes" },
    "aurora.serverlessV2.acuHour": { offer: "AmazonRDS", usagetype: "Aurora:ServerlessV2Usage", attributes: { databaseEngine: "Aurora PostgreSQL" } },
    "aurora.ioOptimized.serverlessV2.acuHour": { offer: "AmazonRDS", usagetype: "Aurora:ServerlessV2IOOptimizedUsage", attributes: { databaseEngine: "Aurora PostgreSQL" } },
    "aurora.storage.gbMonth": { offer: "AmazonRDS", usagetype: "Aurora:StorageUsage", attributes: { databaseEngine: "Aurora PostgreSQL" } },
    "aurora.ioOptimized.storage.gbMonth": { offer: "AmazonRDS", usagetype: "Aurora:IO-OptimizedStorageUsage", attributes: { databaseEngine: "Aurora PostgreSQL" } },
    "aurora.io.millionRequests": { offer: "AmazonRDS", usagetype: "Aurora:StorageIOUsage", attributes: { databaseEngine: "Aurora PostgreSQL" }, factor: 1e6 },
    "aurora.globalDatabase.replicatedWriteMillion": { offer: "AmazonRDS", usagetype: "Aurora:ReplicatedWriteIO", attributes: { databaseEngine: "Aurora PostgreSQL" }, factor: 1e6 },
    "aurora.ioOptimized.instanceFactor": { offer: "", usagetype: "", derived: "I/O-Optimized instance-hours list at 1.3 × Standard (Aurora pricing page); not a price-list item" },
    "aurora.instance.db.t4g.medium.hour": aurora("db.t4g.medium"),
    "aurora.instance.db.r6g.large.hour": aurora("db.r6g.large"),
    "aurora.instance.db.r7g.large.hour": aurora("db.r7g.large"),
    "aurora.instance.db.r7g.xlarge.hour": aurora("db.r7g.xlarge"),
    "rds.instance.db.t4g.micro.hour": rds("db.t4g.micro"),
    "rds.instance.db.t4g.small.hour": rds("db.t4g.small"),
    "rds.instance.db.t4g.medium.hour": rds("db.t4g.medium"),
    "rds.instance.db.m6g.large.hour": rds("db.m6g.large"),
    "rds.instance.db.m7g.large.hour": rds("db.m7g.large"),
    "rds.gp3.gbMonth": { offer: "AmazonRDS", usagetype: "RDS:GP3-Storage", attributes: { deploymentOption: "Single-AZ" } },
    "wafv2.webAclMonth": { offer: "awswaf", usagetype: "WebACL" },
    "wafv2.ruleMonth": { offer: "awswaf", usagetype: "Rule" },
    "wafv2.millionRequests": { offer: "awswaf", usagetype: "Request", factor: 1e6 },
};

function awsQuery(spec: AwsSpec, region: string): string {
    if (spec.derived) {
        return `derived: ${spec.derived}`;
    }
    const attrs = Object.entries(spec.attributes ?? {}).map(([k, v]) => ` ${k}=${v}`).join("");
    return `aws bulk ${spec.offer}/${region}: usagetype *${spec.usagetype}${attrs}, OnDemand, first tier${spec.factor ? ` × ${spec.factor}` : ""}`;
}

interface AwsOffer {
    products: Record<string, { productFamily?: string; attributes: Record<string, string> }>;
    terms: { OnDemand: Record<string, Record<string, { priceDimensions: Record<string, { pricePerUnit: { USD: string }; beginRange: string }> }>> };
}

async function download(url: string, headers: Record<string, string> = {}): Promise<string> {
    const response = await fetch(url, { headers });
    if (!response.ok) {
        throw new Error(`GET ${url.replace(/key=[^&]+/, "key=…")}: ${response.status} ${response.statusText}`);
    }
    return response.text();
}

async function awsPrices(region: string, keys: readonly string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    const offers = new Set(keys.map((k) => AWS_SPECS[k]?.offer).filter((o): o is string => !!o));
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "apfa-aws-prices-"));
    try {
        for (const offer of offers) {
            const url = `https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/${offer}/current/${offer === "AmazonRoute53" ? "global" : region}/index.json`;
            console.error(`fetching ${url}`);
            const file = path.join(cacheDir, `${offer}.json`);
            fs.writeFileSync(file, await download(url));
            const doc = JSON.parse(fs.readFileSync(file, "utf8")) as AwsOffer;
            for (const key of keys) {
                const spec = AWS_SPECS[key];
                if (!spec || spec.offer !== offer || spec.derived) {
                    continue;
                }
                for (const [sku, product] of Object.entries(doc.products)) {
                    const attrs: Record<string, string | undefined> = { ...product.attributes, productFamily: product.productFamily ?? "" };
                    if (!attrs.usagetype?.endsWith(spec.usagetype) || !Object.entries(spec.attributes ?? {}).every(([k, v]) => attrs[k] === v)) {
                        continue;
                    }
                    const dims = Object.values(doc.terms.OnDemand[sku] ?? {}).flatMap((t) => Object.values(t.priceDimensions));
                    // The first paid tier (free tiers list $0 from range 0).
                    const dim = dims.sort((a, b) => Number(a.beginRange) - Number(b.beginRange)).find((d) => Number(d.pricePerUnit.USD) > 0);
                    if (dim) {
                        found.set(key, Number(dim.pricePerUnit.USD) * (spec.factor ?? 1));
                        break;
                    }
                }
            }
        }
    } finally {
        fs.rmSync(cacheDir, { recursive: true, force: true });
    }
    return found;
}

// ---------------------------------------------------------------- Azure Retail Prices API

interface AzureSpec {
    /** OData filter (armRegionName and Consumption are added). */
    readonly filter: string;
    /** Keeps the right row among several (Linux, not Spot / Low Priority). */
    readonly pick?: (row: AzureRow) => boolean;
    readonly factor?: number;
    /** Not region-specific (Front Door): queried without armRegionName. */
    readonly global?: boolean;
}

interface AzureRow {
    retailPrice: number;
    productName: string;
    skuName: string;
    meterName: string;
    unitOfMeasure: string;
    tierMinimumUnits: number;
}

const linuxVm = (size: string): AzureSpec => ({
    filter: `serviceName eq 'Virtual Machines' and armSkuName eq '${size}'`,
    pick: (row) => !row.productName.includes("Windows") && !/Spot|Low Priority/.test(row.skuName),
});
const azDisk = (sku: string, tier: string): AzureSpec => ({
    filter: `serviceName eq 'Storage' and skuName eq '${tier} ${sku.split("_")[1]}' and productName eq '${sku.startsWith("Premium") ? "Premium SSD Managed Disks" : "Standard SSD Managed Disks"}'`,
    pick: (row) => row.meterName.endsWith("Disk") || row.meterName.endsWith("Disks"),
});
const pgCompute = (sku: string): AzureSpec => ({
    filter: `serviceName eq 'Azure Database for PostgreSQL' and contains(productName, 'Flexible Server') and contains(skuName, '${sku.replace(/^Standard_/, "").replace(/_v5$/, "")}')`,
    pick: (row) => row.meterName.toLowerCase().includes("vcore") || row.unitOfMeasure === "1 Hour",
});

export const AZURE_SPECS: Readonly<Record<string, AzureSpec>> = {
    "aks.tier.Free.hour": { filter: "serviceName eq 'Azure Kubernetes Service' and meterName eq 'Free'" },
    "aks.tier.Standard.hour": { filter: "serviceName eq 'Azure Kubernetes Service' and meterName eq 'Standard Uptime SLA'" },
    "aks.tier.Premium.hour": { filter: "serviceName eq 'Azure Kubernetes Service' and meterName eq 'Premium Uptime SLA'" },
    "vm.Standard_D2ds_v5.hour": linuxVm("Standard_D2ds_v5"),
    "vm.Standard_D4ds_v5.hour": linuxVm("Standard_D4ds_v5"),
    "vm.Standard_D8ds_v5.hour": linuxVm("Standard_D8ds_v5"),
    "vm.Standard_D2s_v5.hour": linuxVm("Standard_D2s_v5"),
    "vm.Standard_D4s_v5.hour": linuxVm("Standard_D4s_v5"),
    "vm.Standard_D2pds_v5.hour": linuxVm("Standard_D2pds_v5"),
    "vm.Standard_D4pds_v5.hour": linuxVm("Standard_D4pds_v5"),
    ...Object.fromEntries(
        ["E1", "E2", "E3", "E4", "E6", "E10", "E15"].flatMap((tier) => [
            [`disk.StandardSSD_LRS.${tier}.month`, azDisk("StandardSSD_LRS", tier)],
            [`disk.StandardSSD_ZRS.${tier}.month`, azDisk("StandardSSD_ZRS", tier)],
        ]),
    ),
    ...Object.fromEntries(["P4", "P6", "P10", "P15"].map((tier) => [`disk.Premium_LRS.${tier}.month`, azDisk("Premium_LRS", tier)])),
    "lb.standard.first5RulesHour": { filter: "serviceName eq 'Load Balancer' and meterName eq 'Standard Included LB Rules and Outbound Rules'" },
    "lb.standard.extraRuleHour": { filter: "serviceName eq 'Load Balancer' and meterName eq 'Standard Overage LB Rules and Outbound Rules'" },
    "lb.standard.gb": { filter: "serviceName eq 'Load Balancer' and meterName eq 'Standard Data Processed'" },
    "publicIp.standard.hour": { filter: "serviceName eq 'Virtual Network' and productName eq 'IP Addresses' and meterName eq 'Standard IPv4 Static Public IP'" },
    "natGateway.hour": { filter: "serviceName eq 'Virtual Network' and productName eq 'NAT Gateway' and meterName eq 'Standard Gateway'" },
    "natGateway.gb": { filter: "serviceName eq 'Virtual Network' and productName eq 'NAT Gateway' and meterName eq 'Standard Data Processed'" },
    "egress.internet.gb": { filter: "serviceName eq 'Bandwidth' and meterName eq 'Standard Data Transfer Out'", pick: (row) => row.tierMinimumUnits > 0 },
    "privateEndpoint.hour": { filter: "serviceName eq 'Virtual Network' and productName eq 'Virtual Network Private Link' and meterName eq 'Standard Private Endpoint'" },
    "privateEndpoint.gb": { filter: "serviceName eq 'Virtual Network' and productName eq 'Virtual Network Private Link' and meterName eq 'Standard Data Processed - Ingress'" },
    "privateDnsZone.month": { filter: "serviceName eq 'Azure DNS' and meterName eq 'Private Zone'", global: true },
    "monitor.metricAlert.seriesMonth": { filter: "serviceName eq 'Azure Monitor' and meterName eq 'Alerts Metric Monitored'" },
    "postgres.flexible.Standard_B1ms.hour": pgCompute("Standard_B1ms"),
    "postgres.flexible.Standard_B2s.hour": pgCompute("Standard_B2s"),
    "postgres.flexible.Standard_D2ds_v5.hour": pgCompute("Standard_D2ds_v5"),
    "postgres.flexible.Standard_D4ds_v5.hour": pgCompute("Standard_D4ds_v5"),
    "postgres.flexible.storage.gbMonth": { filter: "serviceName eq 'Azure Database for PostgreSQL' and contains(productName, 'Flexible Server') and meterName eq 'Storage Data Stored'" },
    // Global VNet peering is priced by zone pair (both regions here in Zone 1); not checked against the API here.
    "vnetPeering.global.outboundGb": { filter: "serviceName eq 'Virtual Network' and productName eq 'Virtual Network Peering' and meterName eq 'Inter-Region Egress'" },
    "vnetPeering.global.inboundGb": { filter: "serviceName eq 'Virtual Network' and productName eq 'Virtual Network Peering' and meterName eq 'Inter-Region Ingress'" },
    "vnetPeering.regional.outboundGb": { filter: "serviceName eq 'Virtual Network' and productName eq 'Virtual Network Peering' and meterName eq 'Intra-Region Egress'" },
    "vnetPeering.regional.inboundGb": { filter: "serviceName eq 'Virtual Network' and productName eq 'Virtual Network Peering' and meterName eq 'Intra-Region Ingress'" },
    "frontDoor.Standard.month": { filter: "serviceName eq 'Azure Front Door Service' and meterName eq 'Standard Base Fees'", global: true },
    "frontDoor.Premium.month": { filter: "serviceName eq 'Azure Front Door Service' and meterName eq 'Premium Base Fees'", global: true },
    "frontDoor.millionRequests": { filter: "serviceName eq 'Azure Front Door Service' and meterName eq 'Standard Requests'", global: true, factor: 100 },
    "frontDoor.egressGb": { filter: "serviceName eq 'Azure Front Door Service' and meterName eq 'Standard Data Transfer Out'", global: true, pick: (row) => row.tierMinimumUnits === 0 },
};

function azureQuery(spec: AzureSpec, region: string): string {
    return `azure retail prices: ${spec.filter}${spec.global ? "" : ` and armRegionName eq '${region}'`} and priceType eq 'Consumption'${spec.factor && spec.factor !== 1 ? ` × ${spec.factor}` : ""}`;
}

async function azurePrices(region: string, keys: readonly string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (const key of keys) {
        const spec = AZURE_SPECS[key];
        if (!spec) {
            continue;
        }
        const filter = `${spec.filter}${spec.global ? "" : ` and armRegionName eq '${region}'`} and priceType eq 'Consumption'`;
        const url = `https://prices.azure.com/api/retail/prices?currencyCode='USD'&$filter=${encodeURIComponent(filter)}`;
        const doc = JSON.parse(await download(url)) as { Items: AzureRow[] };
        const row = doc.Items.filter(spec.pick ?? (() => true)).sort((a, b) => a.tierMinimumUnits - b.tierMinimumUnits)[0];
        if (row) {
            found.set(key, row.retailPrice * (spec.factor ?? 1));
        }
    }
    return found;
}

// ---------------------------------------------------------------- GCP Cloud Billing Catalog API

interface GcpSpec {
    /** Display name of the billing service (Compute Engine, Kubernetes Engine, Networking, Cloud SQL…). */
    readonly service: string;
    /** SKU description patterns and how many of each make one unit (4 cores + 16 GiB for e2-standard-4). */
    readonly parts: readonly { readonly description: RegExp; readonly count: number }[];
    /** SKUs that name no region (e.g. the GKE cluster fee) match anywhere. */
    readonly global?: boolean;
    readonly factor?: number;
    readonly derived?: string;
}

const e2 = (cores: number, ramGiB: number): GcpSpec => ({
    service: "Compute Engine",
    parts: [
        { description: /^E2 Instance Core running in /, count: cores },
        { description: /^E2 Instance Ram running in /, count: ramGiB },
    ],
});

export const GCP_SPECS: Readonly<Record<string, GcpSpec>> = {
    "monitoring.alertCondition.month": { service: "Cloud Monitoring", parts: [{ description: /Alerting policy condition/i, count: 1 }], global: true },
    "gke.cluster.hour": { service: "Kubernetes Engine", parts: [{ description: /^Regional Kubernetes Clusters$/, count: 1 }], global: true },
    "gke.freeTierCredit.month": { service: "", parts: [], derived: "the GKE free tier: $74.40 per billing account-month (GKE pricing page), not a catalog SKU" },
    "vm.e2-medium.hour": e2(1, 4),
    "vm.e2-standard-2.hour": e2(2, 8),
    "vm.e2-standard-4.hour": e2(4, 16),
    "vm.e2-standard-8.hour": e2(8, 32),
    "vm.t2a-standard-4.hour": {
        service: "Compute Engine",
        parts: [
            { description: /^T2A Arm Instance Core running in /, count: 4 },
            { description: /^T2A Arm Instance Ram running in /, count: 16 },
        ],
    },
    "disk.pd-balanced.gbMonth": { service: "Compute Engine", parts: [{ description: /^Balanced PD Capacity in /, count: 1 }] },
    "disk.pd-standard.gbMonth": { service: "Compute Engine", parts: [{ description: /^Storage PD Capacity in /, count: 1 }] },
    "disk.pd-ssd.gbMonth": { service: "Compute Engine", parts: [{ description: /^SSD backed PD Capacity in /, count: 1 }] },
    "cloudNat.vmHour": { service: "Networking", parts: [{ description: /^Cloud NAT Gateway uptime charge/, count: 1 }] },
    "cloudNat.maxHour": { service: "Networking", parts: [{ description: /^Cloud NAT Gateway uptime charge/, count: 32 }] },
    "cloudNat.gb": { service: "Networking", parts: [{ description: /^Cloud NAT Gateway Data processing charge/, count: 1 }] },
    "externalIp.hour": { service: "Compute Engine", parts: [{ description: /^External IP Charge on a Standard VM/, count: 1 }] },
    "lb.forwardingRules.first5Hour": { service: "Compute Engine", parts: [{ description: /^Network Load Balancing: Forwarding Rule Minimum Service Charge in /, count: 1 }] },
    "lb.forwardingRules.extraHour": { service: "Compute Engine", parts: [{ description: /^Network Load Balancing: Forwarding Rule Additional Service Charge in /, count: 1 }] },
    "lb.processedGb": { service: "Compute Engine", parts: [{ description: /^Network Load Balancing: Data Processing Charge in /, count: 1 }] },
    "egress.internet.gb": { service: "Compute Engine", parts: [{ description: /^Network Internet Egress from .* to Americas/, count: 1 }] },
    "logging.ingestGb": { service: "Cloud Logging", parts: [{ description: /^Log Storage cost$/, count: 1 }], global: true },
    "logging.freeGb": { service: "", parts: [], derived: "Cloud Logging's free 50 GiB per project-month (pricing page), not a catalog SKU" },
    "dns.zoneMonth": { service: "Cloud DNS", parts: [{ description: /^ManagedZone$/, count: 1 }], global: true },
    "cloudsql.enterprise.vcpuHour": { service: "Cloud SQL", parts: [{ description: /^Cloud SQL for PostgreSQL: Zonal - vCPU in /, count: 1 }] },
    "cloudsql.enterprise.gbHour": { service: "Cloud SQL", parts: [{ description: /^Cloud SQL for PostgreSQL: Zonal - RAM in /, count: 1 }] },
    // Enterprise Plus and the backbone SKUs below: descriptions not checked against the catalog here.
    "cloudsql.enterprisePlus.vcpuHour": { service: "Cloud SQL", parts: [{ description: /^Cloud SQL for PostgreSQL Enterprise Plus: Zonal - vCPU in /, count: 1 }] },
    "cloudsql.enterprisePlus.gbHour": { service: "Cloud SQL", parts: [{ description: /^Cloud SQL for PostgreSQL Enterprise Plus: Zonal - RAM in /, count: 1 }] },
    "network.interRegion.gb": { service: "Compute Engine", parts: [{ description: /^Network Inter Region (Data Transfer Out|Egress) from .* to (Belgium|Netherlands|EMEA)/, count: 1 }] },
    "gke.multiClusterGateway.backendPodHour": { service: "Kubernetes Engine", parts: [{ description: /Multi[- ]Cluster Ingress/i, count: 1 }], global: true },
    "cloudsql.db-f1-micro.hour": { service: "Cloud SQL", parts: [{ description: /^Cloud SQL for PostgreSQL: Zonal - Micro instance in /, count: 1 }] },
    "cloudsql.db-g1-small.hour": { service: "Cloud SQL", parts: [{ description: /^Cloud SQL for PostgreSQL: Zonal - Small instance in /, count: 1 }] },
    "cloudsql.ssd.gbMonth": { service: "Cloud SQL", parts: [{ description: /^Cloud SQL for PostgreSQL: Zonal - Standard storage in /, count: 1 }] },
    "cloudsql.hdd.gbMonth": { service: "Cloud SQL", parts: [{ description: /^Cloud SQL for PostgreSQL: Zonal - Low cost storage in /, count: 1 }] },
};

function gcpQuery(spec: GcpSpec, region: string): string {
    if (spec.derived) {
        return `derived: ${spec.derived}`;
    }
    const parts = spec.parts.map((p) => `${p.count} × "${p.description.source}"`).join(" + ");
    return `gcp billing catalog ${spec.service}${spec.global ? "" : ` (serviceRegions ∋ ${region})`}: ${parts}`;
}

interface GcpSku {
    description: string;
    serviceRegions: string[];
    category: { usageType: string };
    pricingInfo: { pricingExpression: { tieredRates: { startUsageAmount: number; unitPrice: { units: string; nanos: number } }[] } }[];
}

async function gcpPrices(region: string, keys: readonly string[]): Promise<Map<string, number>> {
    const apiKey = process.env.GCP_BILLING_API_KEY;
    if (!apiKey) {
        throw new Error("GCP_BILLING_API_KEY is not set: the Cloud Billing Catalog API needs an API key (see the header of this file)");
    }
    const base = "https://cloudbilling.googleapis.com/v1";
    const services = new Map<string, string>();
    let token = "";
    do {
        const page = JSON.parse(await download(`${base}/services?key=${apiKey}&pageSize=5000${token ? `&pageToken=${token}` : ""}`)) as {
            services: { name: string; displayName: string }[];
            nextPageToken?: string;
        };
        for (const s of page.services) {
            services.set(s.displayName, s.name);
        }
        token = page.nextPageToken ?? "";
    } while (token);
    const skusOf = new Map<string, GcpSku[]>();
    const found = new Map<string, number>();
    for (const key of keys) {
        const spec = GCP_SPECS[key];
        if (!spec || spec.derived) {
            continue;
        }
        const service = services.get(spec.service);
        if (!service) {
            continue;
        }
        if (!skusOf.has(service)) {
            const all: GcpSku[] = [];
            let next = "";
            do {
                const page = JSON.parse(await download(`${base}/${service}/skus?key=${apiKey}&currencyCode=USD&pageSize=5000${next ? `&pageToken=${next}` : ""}`)) as { skus: GcpSku[]; nextPageToken?: string };
                all.push(...page.skus);
                next = page.nextPageToken ?? "";
            } while (next);
            skusOf.set(service, all);
        }
        let total = 0;
        let complete = true;
        for (const part of spec.parts) {
            const sku = skusOf
                .get(service)!
                .find((s) => part.description.test(s.description) && s.category.usageType === "OnDemand" && (spec.global || s.serviceRegions.includes(region)));
            const rates = sku?.pricingInfo[0]?.pricingExpression.tieredRates ?? [];
            const rate = rates.find((t) => Number(t.unitPrice.units) + t.unitPrice.nanos / 1e9 > 0) ?? rates[0];
            if (!rate) {
                complete = false;
                break;
            }
            total += part.count * (Number(rate.unitPrice.units) + rate.unitPrice.nanos / 1e9);
        }
        if (complete) {
            found.set(key, total * (spec.factor ?? 1));
        }
    }
    return found;
}

// ---------------------------------------------------------------- the snapshot

/** The query text recorded in the snapshot for a key. */
export function queryOf(cloud: PricedCloud, key: string, region: string): string | undefined {
    if (cloud === "aws") {
        return AWS_SPECS[key] && awsQuery(AWS_SPECS[key], region);
    }
    if (cloud === "azure") {
        return AZURE_SPECS[key] && azureQuery(AZURE_SPECS[key], region);
    }
    return GCP_SPECS[key] && gcpQuery(GCP_SPECS[key], region);
}

/**
 * Applies fetched prices to a snapshot (pure): found keys get the API's figure and `verified`,
 * every key gets its query text; returns the new snapshot and the keys the API did not answer.
 */
export function applyPrices(snapshot: PriceSnapshot, found: ReadonlyMap<string, number>, today: string): { snapshot: PriceSnapshot; missing: string[] } {
    const prices: Record<string, PriceEntry> = {};
    const missing: string[] = [];
    for (const [key, entry] of Object.entries(snapshot.prices)) {
        const query = queryOf(snapshot.cloud, key, snapshot.region);
        const usd = found.get(key);
        if (usd === undefined) {
            if (!query?.startsWith("derived:")) {
                missing.push(key);
            }
            prices[key] = { ...entry, ...(query ? { query } : {}) };
        } else {
            prices[key] = { usd: Number(usd.toPrecision(6)), unit: entry.unit, source: entry.source, ...(query ? { query } : {}), verified: true };
        }
    }
    return { snapshot: { ...snapshot, snapshotDate: found.size > 0 ? today : snapshot.snapshotDate, prices }, missing };
}

function parseArgs(argv: readonly string[]): { cloud: PricedCloud; region: string; create: boolean; dryRun: boolean; queriesOnly: boolean } {
    const get = (flag: string) => {
        const i = argv.indexOf(flag);
        return i >= 0 ? argv[i + 1] : undefined;
    };
    const cloud = get("--cloud");
    const region = get("--region");
    if ((cloud !== "aws" && cloud !== "azure" && cloud !== "gcp") || !region) {
        throw new Error("usage: npx tsx tools/cost/refresh-prices.ts --cloud aws|azure|gcp --region REGION [--create] [--dry-run] [--queries-only]");
    }
    return { cloud, region, create: argv.includes("--create"), dryRun: argv.includes("--dry-run"), queriesOnly: argv.includes("--queries-only") };
}

async function main(): Promise<void> {
    const args = parseArgs(process.argv.slice(2));
    const file = snapshotFile(args.cloud, args.region);
    let snapshot: PriceSnapshot;
    if (fs.existsSync(file)) {
        snapshot = validateSnapshot(JSON.parse(fs.readFileSync(file, "utf8")) as unknown, file);
    } else if (args.create) {
        // A new region starts from the keys of an existing snapshot of the same cloud, every figure to be fetched.
        const template = fs.readdirSync(path.dirname(file)).find((f) => f.startsWith(`${args.cloud}-`));
        if (!template) {
            throw new Error(`no ${args.cloud} snapshot to take the keys from`);
        }
        const base = validateSnapshot(JSON.parse(fs.readFileSync(path.join(path.dirname(file), template), "utf8")) as unknown, template);
        snapshot = { ...base, region: args.region, prices: Object.fromEntries(Object.entries(base.prices).map(([k, e]) => [k, { ...e, verified: false, note: `copied from ${template}; not fetched yet` }])) };
    } else {
        throw new Error(`${file} does not exist (add --create to start it from another ${args.cloud} snapshot's keys)`);
    }
    const keys = Object.keys(snapshot.prices);
    const fetchers = { aws: awsPrices, azure: azurePrices, gcp: gcpPrices };
    const found = args.queriesOnly ? new Map<string, number>() : await fetchers[args.cloud](args.region, keys);
    const { snapshot: next, missing } = applyPrices(snapshot, found, new Date().toISOString().slice(0, 10));
    for (const key of keys) {
        const before = snapshot.prices[key].usd;
        const after = next.prices[key].usd;
        if (before !== after) {
            console.log(`${key}: ${before} → ${after}`);
        }
    }
    if (missing.length > 0 && !args.queriesOnly) {
        console.log(`not found (figures kept, still unverified): ${missing.join(", ")}`);
    }
    if (!args.dryRun) {
        fs.writeFileSync(file, JSON.stringify(next, null, 2) + "\n");
        console.log(`wrote ${path.relative(process.cwd(), file)}`);
    }
}

if (require.main === module) {
    main().catch((err: unknown) => {
        console.error(err instanceof Error ? err.message : String(err));
        process.exit(1);
    });
}
