// The classes a saved run may hold objects of that a freshly built machine may not have yet (a bt
// translation unit, a pv ring connected later, an hvm second stage ...): a restore instantiates them
// by name. Classes the restoring machine already holds are found in it; this list is for the rest.
// A class missing here gives a one-line refusal at restore ("class X is unknown to this build"),
// which hypervisor/save tests would catch for every mode. Host code.

import { CpuStats } from '../../machine/cpu.ts';
import { Mmu } from '../../machine/mmu.ts';
import { Vmcs } from '../../machine/vmx.ts';
import { ConsoleLog } from '../../machine/console-log.ts';
import { TranslationUnit, BtStats, TranslationCache } from '../bt/cache.ts';
import { Ept } from '../hvm/ept.ts';
import { HvmDomainState, HvmShadow, HvmVcpu } from '../hvm/state.ts';
import { BackRing } from '../pv/ring.ts';
import { ByteQueue } from '../pv/byte-queue.ts';
import { PageTypes } from '../pv/page-types.ts';
import { ConsBack } from '../pv/consback.ts';
import { BlkBack } from '../pv/blkback.ts';
import { GuestVirt } from '../pv/guest-virt.ts';
import { EventChannels, GrantTable, PvStats, PvVcpu, PvDomain } from '../pv/state.ts';
import { Domain } from '../core/domain.ts';
import { DomainStats } from '../core/stats.ts';
import { Vcpu, VcpuExit } from '../core/vcpu.ts';
import { GuestMemory } from '../core/guest-memory.ts';
import { DeviceModel } from '../devices/model.ts';
import { ShadowMmu } from '../trap/shadow.ts';
import { GuestWalker } from '../trap/guest-mmu.ts';
import { TrapVcpu } from '../trap/virtual-cpu.ts';
import { TrapVcpuState } from '../trap/state.ts';

const CLASSES: readonly (abstract new (...args: never[]) => object)[] = [
  CpuStats, Mmu, Vmcs, ConsoleLog,
  TranslationUnit, BtStats, TranslationCache,
  Ept, HvmDomainState, HvmShadow, HvmVcpu,
  BackRing, ByteQueue, PageTypes, ConsBack, BlkBack, GuestVirt, EventChannels, GrantTable, PvStats, PvVcpu, PvDomain,
  Domain, DomainStats, Vcpu, VcpuExit, GuestMemory, DeviceModel,
  ShadowMmu, GuestWalker, TrapVcpu, TrapVcpuState,
];

/** name -> prototype of every class above */
export function savedClasses(): [string, object][] {
  return CLASSES.map((c) => [c.name, c.prototype as object]);
}
