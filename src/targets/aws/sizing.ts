/**
 * Fargate task sizes. AWS accepts only certain CPU/memory pairs (RegisterTaskDefinition, `memory`):
 * each CPU size allows a memory range in fixed steps.
 */

interface FargateCpuOption {
    /** CPU units (1024 = 1 vCPU). */
    readonly units: number;
    readonly minMiB: number;
    readonly maxMiB: number;
    readonly stepMiB: number;
    /** Explicit list when the options are not one even range. */
    readonly only?: readonly number[];
}

const GiB = 1024;

/** CPU units and the memory they allow, as documented for Linux Fargate platform 1.4.0. */
export const FARGATE_SIZES: readonly FargateCpuOption[] = [
    { units: 256, minMiB: 512, maxMiB: 2 * GiB, stepMiB: 512, only: [512, 1024, 2048] },
    { units: 512, minMiB: 1 * GiB, maxMiB: 4 * GiB, stepMiB: GiB },
    { units: 1024, minMiB: 2 * GiB, maxMiB: 8 * GiB, stepMiB: GiB },
    { units: 2048, minMiB: 4 * GiB, maxMiB: 16 * GiB, stepMiB: GiB },
    { units: 4096, minMiB: 8 * GiB, maxMiB: 30 * GiB, stepMiB: GiB },
    { units: 8192, minMiB: 16 * GiB, maxMiB: 60 * GiB, stepMiB: 4 * GiB },
    { units: 16384, minMiB: 32 * GiB, maxMiB: 120 * GiB, stepMiB: 8 * GiB },
];

/** vCPU (0.25, 0.5, 1, …) to Fargate CPU units, or undefined when it is not a Fargate size. */
export function fargateCpuUnits(vcpu: number): number | undefined {
    const units = Math.round(vcpu * 1024);
    return FARGATE_SIZES.some((o) => o.units === units) && Math.abs(vcpu * 1024 - units) < 1e-9 ? units : undefined;
}

/** Memory sizes (MiB) Fargate accepts with this vCPU; empty when the vCPU is not a Fargate size. */
export function fargateMemoryOptions(vcpu: number): number[] {
    const units = fargateCpuUnits(vcpu);
    const option = FARGATE_SIZES.find((o) => o.units === units);
    if (!option) {
        return [];
    }
    if (option.only) {
        return [...option.only];
    }
    const sizes: number[] = [];
    for (let m = option.minMiB; m <= option.maxMiB; m += option.stepMiB) {
        sizes.push(m);
    }
    return sizes;
}

export function isValidFargateSize(vcpu: number, memoryMiB: number): boolean {
    return fargateMemoryOptions(vcpu).includes(memoryMiB);
}

/** Human text of what would have been accepted, for config errors. */
export function describeFargateMemoryOptions(vcpu: number): string {
    const options = fargateMemoryOptions(vcpu);
    if (options.length === 0) {
        const cpus = FARGATE_SIZES.map((o) => o.units / 1024).join(", ");
        return `expected app.cpu to be one of ${cpus} vCPU`;
    }
    const first = options[0];
    const last = options[options.length - 1];
    const step = options.length > 1 ? options[1] - options[0] : 0;
    return options.length <= 3
        ? `with ${vcpu} vCPU expected memoryMiB one of ${options.join(", ")}`
        : `with ${vcpu} vCPU expected memoryMiB ${first}-${last} in steps of ${step}`;
}

/** A Fargate task size as the ECS API takes it: CPU units and MiB, both as strings. */
export interface FargateTaskSize {
    /** CPU units, e.g. "512" for 0.5 vCPU. */
    readonly cpu: string;
    /** Memory in MiB, e.g. "1024". */
    readonly memory: string;
}

/**
 * The task-definition `cpu`/`memory` strings for an exact Fargate size.
 * @throws Error naming the accepted memory sizes when the pair is not a Fargate size.
 */
export function fargateTaskSize(vcpu: number, memoryMiB: number): FargateTaskSize {
    if (!isValidFargateSize(vcpu, memoryMiB)) {
        throw new Error(`Fargate does not accept ${vcpu} vCPU with ${memoryMiB} MiB; ${describeFargateMemoryOptions(vcpu)}`);
    }
    return { cpu: String(fargateCpuUnits(vcpu)), memory: String(memoryMiB) };
}

/**
 * The smallest (cheapest) Fargate size that gives at least `vcpu` and `memoryMiB`: the lowest CPU
 * size that fits, then the lowest memory it allows at or above the request. Auxiliary services ask
 * for what they need; Fargate only sells these shapes.
 * @throws Error when the request exceeds the largest Fargate size.
 */
export function smallestFargateSizeFor(vcpu: number, memoryMiB: number): FargateTaskSize {
    const wantedUnits = Math.ceil(vcpu * 1024 - 1e-9);
    for (const option of FARGATE_SIZES) {
        if (option.units < wantedUnits) {
            continue;
        }
        const memory = fargateMemoryOptions(option.units / 1024).find((m) => m >= memoryMiB);
        if (memory !== undefined) {
            return { cpu: String(option.units), memory: String(memory) };
        }
    }
    const largest = FARGATE_SIZES[FARGATE_SIZES.length - 1];
    throw new Error(`No Fargate size has ${vcpu} vCPU and ${memoryMiB} MiB (the largest is ${largest.units / 1024} vCPU with ${largest.maxMiB} MiB)`);
}
