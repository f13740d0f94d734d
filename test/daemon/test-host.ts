// A daemon Host for the tests: 64 MiB of host memory, fast pacing, the standard guests built by the
// toolchain, and each domain's console output collected by name (`out`). `extra` adds or overrides
// options (a kernel loader, an event listener).
import { Host, type HostOptions } from '../../daemon/host.ts';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';

export function testHost(extra: Partial<HostOptions> = {}): { host: Host; out: Record<string, string> } {
  const out: Record<string, string> = {};
  const host = new Host(null, {
    hostMemoryMiB: 64,
    pacing: 'fast',
    standardGuest: (arch) => buildGuestKernel({ arch }),
    onConsole: (name, bytes) => (out[name] = (out[name] ?? '') + Buffer.from(bytes).toString('latin1')),
    ...extra,
  });
  return { host, out };
}
