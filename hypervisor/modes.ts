// The names of the virtualization modes: the one list the CLI's options, `run --mode`, the
// comparison and the generated option reference take them from. Imports nothing (the CLI reads
// it before it loads any mode).

/** The modes a guest can run under, native (the bare machine) first. */
export const MODE_NAMES = ['native', 'trap', 'bt', 'hvm', 'pv'] as const;
export type ModeName = (typeof MODE_NAMES)[number];

/** The modes that run the guest under the hypervisor (every mode but native). */
export const VIRTUALIZATION_MODES = ['trap', 'bt', 'hvm', 'pv'] as const satisfies readonly ModeName[];
export type VirtualizationMode = (typeof VIRTUALIZATION_MODES)[number];

/** The modes that run a guest with several CPUs (`--smp N`): the bare multiprocessor, and domains of several vCPUs. */
export const SMP_MODES: readonly ModeName[] = ['native', 'trap', 'bt', 'hvm', 'pv'];

/** The most vCPUs of a pv domain (the shared-info page's vcpu_info slots: hypercalls/structs.ts SharedInfo.MAX_VCPUS). */
export const PV_MAX_VCPUS = 4;
