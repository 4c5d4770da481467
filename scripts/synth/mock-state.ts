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
    "aws:index/getRegion:getRegion": () => ({ name: "eu-west-1", region: "eu-west-1", id: "eu-west-1" }),
    "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" }),
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
