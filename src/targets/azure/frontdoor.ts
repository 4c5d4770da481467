/**
 * The global entry of a multi-region Azure deployment: Azure Front Door Standard.
 *
 * Who owns what (multiregion.ts has the names):
 * - the primary region's stack owns the shared part, in its own resource group
 *   `<name>-frontdoor-rg`: the profile (`Standard_AzureFrontDoor`), the public endpoint, the origin
 *   group with the health probe, and the route `/*`. A global stack of its own would only hold these
 *   four resources; they are never touched by a failover (Front Door's edges probe the origins and
 *   move traffic by themselves), so they live with the primary and a standby region's `pulumi up`
 *   never needs them;
 * - every region's stack owns its own origin in that group (its Gateway's public address, with the
 *   priority or weight of the topology): Front Door learns each region's address from the stack
 *   that has it, and adding a region is adding a stack. It also owns a probe endpoint whose only
 *   origin is itself, which the failover controller uses to see one region through Front Door
 *   (the regional entry itself admits Front Door only).
 *
 * Origins are reached over HTTPS with the regional certificate's name as host header and SNI
 * (`enforceCertificateNameCheck`), so Front Door verifies it talks to the right region.
 *
 * Checked in azure-native 3.28 (cdn, API 2025-06-01): `healthProbeSettings.probeIntervalInSeconds`
 * defaults to 240 s and is always set here; `trafficRestorationTimeToHealedOrNewEndpointsInMinutes`
 * is documented as not supported and left out; the profile's location must be "Global". The
 * route is created after the primary's origin, as azurerm's route resource enforces with its
 * required `cdn_frontdoor_origin_ids` (a route to an origin group without origins is not relied on).
 */
import * as cdn from "@pulumi/azure-native/cdn";
import * as resources from "@pulumi/azure-native/resources";
import * as pulumi from "@pulumi/pulumi";

import type { AzureConfig, MultiRegionSettings } from "../../config";
import { FRONT_DOOR_PROBE, multiRegionNames, originGroupLoadBalancing, originRouting } from "./multiregion";

export const FRONT_DOOR_TYPE = "apfa:azure:FrontDoorEntry";

export interface FrontDoorEntryArgs {
    readonly config: AzureConfig;
    readonly multiRegion: MultiRegionSettings;
    /** The regional certificate's host name: Front Door's host header and SNI towards this origin. */
    readonly originHostName: string;
    readonly tags: Record<string, string>;
}

/** The health-probe block of an origin group (pure, for tests). */
export function healthProbeSettings(healthPath: string) {
    return {
        probePath: healthPath,
        probeProtocol: "Https" as const,
        probeRequestType: "GET" as const,
        probeIntervalInSeconds: FRONT_DOOR_PROBE.probeIntervalInSeconds,
    };
}

export class FrontDoorEntry extends pulumi.ComponentResource {
    /** The shared profile (primary only). */
    readonly profile?: cdn.Profile;
    /** The public endpoint (primary only): `<name>-<hash>.z01.azurefd.net`. */
    readonly endpoint?: cdn.AFDEndpoint;
    /** The shared origin group (primary only). */
    readonly originGroup?: cdn.AFDOriginGroup;
    /** This region's origin in the shared group (after {@link connect}). */
    origin?: cdn.AFDOrigin;
    /** Host name of this region's probe endpoint (after {@link connect}). */
    probeHost?: pulumi.Output<string>;

    private readonly args: FrontDoorEntryArgs;
    private readonly name: string;

    /**
     * Creates the shared part (primary only). The region's own origin follows with {@link connect},
     * once its Gateway has an address: the Gateway's route needs the profile's id first (the header
     * check), so the two halves sit on either side of the cluster's workload.
     */
    constructor(name: string, args: FrontDoorEntryArgs, opts?: pulumi.ComponentResourceOptions) {
        super(FRONT_DOOR_TYPE, name, {}, opts);
        this.name = name;
        this.args = args;
        const { config, multiRegion, tags } = args;
        const names = multiRegionNames(multiRegion.name);
        const parent = { parent: this };
        if (!multiRegion.isPrimary) {
            return;
        }
        const group = new resources.ResourceGroup(`${name}-rg`, { resourceGroupName: names.frontDoorResourceGroup, location: config.azure.location, tags }, parent);
        this.profile = new cdn.Profile(
            `${name}-profile`,
            {
                resourceGroupName: group.name,
                profileName: names.frontDoorProfile,
                location: "Global",
                sku: { name: "Standard_AzureFrontDoor" },
                originResponseTimeoutSeconds: 60,
                tags,
            },
            parent,
        );
        this.endpoint = new cdn.AFDEndpoint(
            `${name}-endpoint`,
            { resourceGroupName: group.name, profileName: this.profile.name, endpointName: names.frontDoorEndpoint, location: "Global", enabledState: "Enabled", tags },
            parent,
        );
        this.originGroup = new cdn.AFDOriginGroup(
            `${name}-origins`,
            {
                resourceGroupName: group.name,
                profileName: this.profile.name,
                originGroupName: names.originGroup,
                healthProbeSettings: healthProbeSettings(config.app.healthPath),
                loadBalancingSettings: originGroupLoadBalancing(multiRegion.topology),
                sessionAffinityState: "Disabled",
            },
            parent,
        );
    }

    /** This region's origin (shared group) and its probe endpoint, pointing at the Gateway's address. */
    connect(gatewayAddress: pulumi.Input<string>): void {
        const { config, multiRegion, tags } = this.args;
        const name = this.name;
        const names = multiRegionNames(multiRegion.name);
        const region = multiRegion.region;
        const parent = { parent: this };
        const resourceGroupName = names.frontDoorResourceGroup;
        const profileName = names.frontDoorProfile;
        const afterShared = this.profile ? [this.profile] : [];

        const originArgs = {
            resourceGroupName,
            profileName,
            hostName: gatewayAddress,
            originHostHeader: this.args.originHostName,
            httpPort: 80,
            httpsPort: 443,
            enabledState: "Enabled",
            enforceCertificateNameCheck: true,
        };
        this.origin = new cdn.AFDOrigin(
            `${name}-origin`,
            {
                ...originArgs,
                originGroupName: this.originGroup ? this.originGroup.name : names.originGroup,
                originName: names.origin(region),
                ...originRouting(multiRegion.topology, multiRegion.isPrimary),
            },
            parent,
        );

        if (this.endpoint && this.originGroup) {
            new cdn.Route(
                `${name}-route`,
                {
                    resourceGroupName,
                    profileName,
                    endpointName: this.endpoint.name,
                    routeName: names.route,
                    originGroup: { id: this.originGroup.id },
                    patternsToMatch: ["/*"],
                    supportedProtocols: ["Http", "Https"],
                    httpsRedirect: "Enabled",
                    forwardingProtocol: "HttpsOnly",
                    linkToDefaultDomain: "Enabled",
                    enabledState: "Enabled",
                },
                { ...parent, dependsOn: [this.origin] },
            );
        }

        // The probe path of this region alone: an endpoint whose only origin is this region.
        const probeEndpoint = new cdn.AFDEndpoint(
            `${name}-probe-endpoint`,
            { resourceGroupName, profileName, endpointName: names.probeEndpoint(region), location: "Global", enabledState: "Enabled", tags },
            { ...parent, dependsOn: afterShared },
        );
        const probeGroup = new cdn.AFDOriginGroup(
            `${name}-probe-origins`,
            {
                resourceGroupName,
                profileName,
                originGroupName: names.probeOriginGroup(region),
                healthProbeSettings: healthProbeSettings(config.app.healthPath),
                loadBalancingSettings: originGroupLoadBalancing("active-passive"),
                sessionAffinityState: "Disabled",
            },
            { ...parent, dependsOn: afterShared },
        );
        const probeOrigin = new cdn.AFDOrigin(
            `${name}-probe-origin`,
            { ...originArgs, originGroupName: probeGroup.name, originName: names.origin(region), priority: 1, weight: 1000 },
            parent,
        );
        new cdn.Route(
            `${name}-probe-route`,
            {
                resourceGroupName,
                profileName,
                endpointName: probeEndpoint.name,
                routeName: "probe",
                originGroup: { id: probeGroup.id },
                patternsToMatch: ["/*"],
                supportedProtocols: ["Https"],
                httpsRedirect: "Disabled",
                forwardingProtocol: "HttpsOnly",
                linkToDefaultDomain: "Enabled",
                enabledState: "Enabled",
            },
            { ...parent, dependsOn: [probeOrigin] },
        );
        this.probeHost = probeEndpoint.hostName;
        this.registerOutputs({ probeHost: this.probeHost, endpointHost: this.endpoint?.hostName, frontDoorId: this.profile?.frontDoorId });
    }
}
