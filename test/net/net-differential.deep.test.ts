// (A deep test: four guest boots take ~10 s.) Every full-virtualization mode must be indistinguishable from native: the guest's network
// stack, run against the virtual gateway alone (no host sockets, so the run is deterministic),
// sends exactly the same frames, byte for byte, under trap, bt and hvm as natively - and under pv,
// whose frames go through netfront/netback instead of a NIC.
import { describe, expect, it } from 'vitest';
import { Machine } from '../../machine/machine.ts';
import { bootNative } from '../../hypervisor/boot/native.ts';
import { runImageInMode, runPvMode } from '../../hypervisor/index.ts';
import { domainNicPlatform } from '../../hypervisor/net/attach.ts';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';
import { HostUplink } from '../../hypervisor/net/uplink.ts';
import { macToBytes, NIC_DEFAULT_MAC } from '../../machine/devices/nic.ts';

const CMDLINE = 'netbench 4 300';

function hex(frames: Uint8Array[]): string[] {
  return frames.map((f) => Buffer.from(f).toString('hex'));
}

/** The frames the guest's NIC sends while it runs CMDLINE, and its console. */
async function frames(mode: 'native' | 'trap' | 'bt' | 'hvm' | 'pv', netRx: 'copy' | 'flip' = 'copy'): Promise<{ sent: string[]; out: string }> {
  const g = buildGuestKernel({ arch: mode === 'pv' ? 'pv' : 'native' });
  const up = await HostUplink.open([], macToBytes(NIC_DEFAULT_MAC));
  const sent: Uint8Array[] = [];
  const onTransmit = (f: Uint8Array) => {
    sent.push(f);
    up.onTransmit(f);
  };
  let out = '';
  const onOutput = (b: number) => void (out += String.fromCharCode(b));
  if (mode === 'native') {
    const m = new Machine({ onOutput, onTransmit });
    up.attach({ nic: m.nic, now: () => m.deviceContext.now(), schedule: (at, fn) => m.deviceContext.schedule(at, fn) });
    bootNative(m, { kernel: g.kernel, initrd: g.initrd, cmdline: CMDLINE });
    expect(m.run({ maxCycles: 2_000_000_000 }).reason).toBe('poweroff');
  } else if (mode === 'pv') {
    const r = runPvMode(g.kernel, { initrd: g.initrd, cmdline: CMDLINE, onOutput, onTransmit, netRx, maxCycles: 0 });
    up.attach(domainNicPlatform(r.domain)!);
    expect(r.hypervisor.run({ maxCycles: 4_000_000_000 }).reason).toBe('all-stopped');
  } else {
    const r = runImageInMode(mode, g.kernel, { initrd: g.initrd, cmdline: CMDLINE, onOutput, onTransmit, maxCycles: 0 });
    const dev = r.domain.devices!;
    up.attach({ nic: dev.nic, now: () => dev.now(), schedule: (at, fn) => dev.schedule(at, fn) });
    expect(r.hypervisor.run({ maxCycles: 4_000_000_000 }).reason).toBe('all-stopped');
  }
  await up.close();
  return { sent: hex(sent), out };
}

describe('the guest network stack under full virtualization', () => {
  it('sends the same frames byte for byte under trap, bt and hvm as natively', async () => {
    const native = await frames('native');
    // ARP request, then 1 + 4 echo round trips and 4 discards
    expect(native.sent.length).toBe(10);
    expect(native.out).toContain('netbench: udp send (4 x 300 bytes)');
    for (const mode of ['trap', 'bt', 'hvm'] as const) {
      const v = await frames(mode);
      expect(v.sent, mode).toEqual(native.sent);
    }
  });

  it('and under pv, through netfront/netback, with either receive path', async () => {
    const native = await frames('native');
    for (const rx of ['copy', 'flip'] as const) {
      const v = await frames('pv', rx);
      expect(v.sent, rx).toEqual(native.sent);
    }
  });
});
