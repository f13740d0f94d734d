// The CPU's exit reasons have one name each, and tables indexed by them are sized from the enum.
import { describe, expect, it } from 'vitest';
import { Exit, EXIT_NAMES, EXIT_SLOTS } from '../../machine/types.ts';
import { CPU_EXIT_SLOTS, DomainStats, VCPU_EXIT_REASONS } from '../../hypervisor/core/stats.ts';

describe('exit reasons', () => {
  it('every Exit has a distinct name, and a table indexed by Exit has a slot for the largest', () => {
    const names = Object.values(EXIT_NAMES);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toHaveLength(16);
    expect(EXIT_SLOTS).toBe(Exit.Stopped + 1);
    expect(new DomainStats().cpuExits.length).toBe(CPU_EXIT_SLOTS);
    expect(CPU_EXIT_SLOTS).toBe(EXIT_SLOTS);
  });

  it('the outer loop counts every reason it can see, and no other', () => {
    expect(Object.keys(new DomainStats().loopExits)).toEqual([...VCPU_EXIT_REASONS]);
    expect(VCPU_EXIT_REASONS).toEqual(['io', 'hlt', 'deadline', 'shutdown', 'crash', 'stopped', 'yield']);
  });
});
