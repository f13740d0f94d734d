// Pins toolchain/lib/ports.ts (the guest's const-enum copy of the port map) to
// machine/devices/ports.ts, the one definition: every machine constant is mirrored, by name,
// with the same value, and the guest copy invents nothing.
import { describe, expect, it } from 'vitest';
import * as hw from '../../machine/devices/ports.ts';

// Loaded through a variable so the const enums arrive as the runtime objects esbuild emits.
const guestPortsPath = '../../toolchain/lib/ports.ts';
const guest = (await import(/* @vite-ignore */ guestPortsPath)) as Record<string, Record<string, unknown>>;

/** Numeric members of a TypeScript enum object (its reverse mappings dropped). */
function members(e: Record<string, unknown>): Map<string, number> {
  return new Map(Object.entries(e).filter((kv): kv is [string, number] => typeof kv[1] === 'number'));
}

describe('guest port map (toolchain/lib/ports.ts)', () => {
  const port = members(guest['Port']!);
  const bits = members(guest['PortBits']!);
  const irq = members(guest['IrqLine']!);

  it('mirrors every numeric constant of machine/devices/ports.ts with the same value', () => {
    const hwConsts = Object.entries(hw).filter((kv): kv is [string, number] => typeof kv[1] === 'number');
    expect(hwConsts.length).toBeGreaterThan(40);
    for (const [name, value] of hwConsts) {
      const mirrored = port.get(name) ?? bits.get(name);
      expect(mirrored, `${name} missing from the guest port map`).toBe(value);
    }
  });

  it('has no member that machine/devices/ports.ts does not define', () => {
    const hwNames = new Set(Object.keys(hw));
    for (const name of [...port.keys(), ...bits.keys()]) expect(hwNames.has(name), name).toBe(true);
  });

  it('names each constant once, in Port or in PortBits', () => {
    for (const name of port.keys()) expect(bits.has(name), name).toBe(false);
  });

  it('mirrors the interrupt-controller line numbers (Irq)', () => {
    expect(Object.fromEntries(irq)).toEqual({ Timer: hw.Irq.Timer, Uart: hw.Irq.Uart, Nic: hw.Irq.Nic, Block: hw.Irq.Block });
  });
});
