// What an emulated port access is charged (trap, bt and hvm): the guest's IN/OUT never crosses
// the physical bus, so the instruction costs an ALU operation and the device model its own work
// (deviceModel), plus, for a hosted monitor, a world switch to the host and back
// (hostedWorldSwitch); the bus's ioPort is never charged. Exact, from the cost ledger.
import { describe, expect, it } from 'vitest';
import { runImageInMode } from '../../hypervisor/index.ts';
import { getProfile } from '../../machine/costs.ts';
import { Ev } from '../../machine/ledger.ts';
import type { Cpu } from '../../machine/cpu.ts';
import { GUEST_MEMORY, guestImage, runNative } from './hvm-harness.ts';

const P4 = getProfile('p4-2003');

// 5 OUTs and 3 INs, then the prelude's power-off OUT: 9 port accesses
const BODY = `
test_main:
        li      r7, 0
.Lloop:
        li      r2, 'x'
        outb    UART_DATA, r2
        addi    r7, r7, 1
        cmpi    r7, 5
        jlt     .Lloop
        in      r3, PIC_MASK
        in      r3, PIC_MASK
        in      r3, PIC_MASK
        li      r0, 0
        ret
`;

function run(mode: 'trap' | 'bt' | 'hvm', hosted: boolean) {
  let cpu: Cpu | null = null;
  const r = runImageInMode(mode, guestImage(BODY), { memoryBytes: GUEST_MEMORY, maxCycles: 100_000_000, hosted, onCpu: (c) => (cpu = c) });
  return { r, cpu: cpu! as Cpu };
}

describe('emulated port I/O', () => {
  for (const mode of ['trap', 'bt', 'hvm'] as const) {
    it(`${mode}: each of the 9 accesses is one device-model answer, the bus is never charged, and a hosted monitor adds exactly one world switch each`, () => {
      const native = runNative(guestImage(BODY));
      expect(native.machine.cpu.stats.portReads + native.machine.cpu.stats.portWrites).toBe(9);
      const plain = run(mode, false);
      const hosted = run(mode, true);
      for (const { r, cpu } of [plain, hosted]) {
        expect(r.output).toBe('xxxxx');
        expect(r.domain.stats.loopExits.io).toBe(9);
        expect(cpu.evCount[Ev.DeviceModel]).toBe(9);
        expect(cpu.stats.portReads + cpu.stats.portWrites).toBe(0);
      }
      expect(plain.cpu.evCount[Ev.HostedSwitch]).toBe(0);
      expect(hosted.cpu.evCount[Ev.HostedSwitch]).toBe(9);
      // the same run otherwise: the same instructions and base, the world switches on top
      expect(hosted.r.instructions).toBe(plain.r.instructions);
      expect(hosted.cpu.baseCycles).toBe(plain.cpu.baseCycles);
      expect(hosted.r.cycles - plain.r.cycles).toBe(9 * P4.hostedWorldSwitch);
      expect(hosted.r.domain.stats.monitorCycles - plain.r.domain.stats.monitorCycles).toBe(9 * P4.hostedWorldSwitch);
      // base: the native run's instruction costs with each port access at an ALU op's cost instead
      // of the bus's (same instructions; trap mode's and bt's emulated instructions are charged
      // their own costs as natively)
      if (mode === 'hvm') expect(plain.cpu.baseCycles).toBe(native.machine.cpu.baseCycles - 9 * (P4.ioPort - P4.alu));
    });
  }
});
