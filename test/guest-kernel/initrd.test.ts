// The initrd packer (toolchain/initrd.ts): layout, round trip, refused names.
import { describe, expect, it } from 'vitest';
import { packInitrd, unpackInitrd, InitrdError, INITRD_MAGIC, INITRD_HEADER_BYTES, INITRD_ENTRY_BYTES, INITRD_DATA_ALIGN } from '../../toolchain/initrd.ts';

describe('initrd archive', () => {
  const files = [
    { name: 'init', data: Uint8Array.of(1, 2, 3) },
    { name: 'sh', data: new Uint8Array(100).fill(7) },
    { name: 'empty', data: new Uint8Array(0) },
  ];

  it('round-trips names and contents in order', () => {
    const back = unpackInitrd(packInitrd(files));
    expect(back.map((f) => f.name)).toEqual(['init', 'sh', 'empty']);
    back.forEach((f, k) => expect([...f.data]).toEqual([...files[k]!.data]));
  });

  it('writes the documented header and aligned data', () => {
    const blob = packInitrd(files);
    const dv = new DataView(blob.buffer);
    expect(dv.getUint32(0, true)).toBe(INITRD_MAGIC);
    expect(dv.getUint32(4, true)).toBe(1);
    expect(dv.getUint32(8, true)).toBe(3);
    expect(dv.getUint32(12, true)).toBe(blob.length);
    for (let k = 0; k < 3; k++) {
      const off = dv.getUint32(INITRD_HEADER_BYTES + k * INITRD_ENTRY_BYTES + 24, true);
      expect(off % INITRD_DATA_ALIGN).toBe(0);
    }
  });

  it('refuses bad, long and duplicate names', () => {
    expect(() => packInitrd([{ name: 'a b', data: new Uint8Array(1) }])).toThrow(InitrdError);
    expect(() => packInitrd([{ name: 'x'.repeat(24), data: new Uint8Array(1) }])).toThrow(/longer than 23 bytes/);
    expect(() => packInitrd([files[0]!, files[0]!])).toThrow(/two files are called "init"/);
  });

  it('refuses a blob that is not an initrd', () => {
    expect(() => unpackInitrd(new Uint8Array(64))).toThrow(/bad magic/);
    expect(() => unpackInitrd(new Uint8Array(4))).toThrow(/too short/);
  });
});
