// machine/isa.ts
function i(op, mnemonic, fmt, cls, doc, cost) {
  const long = fmt === 8 /* DImm32 */ || fmt === 9 /* Rel */ || fmt === 10 /* CondRel */;
  return { op, mnemonic, fmt, cls, bytes: long ? 8 : 4, doc, cost };
}
var INSTRUCTIONS = [
  i(1 /* NOP */, "nop", 0 /* None */, "innocuous", "do nothing", "alu"),
  i(2 /* MOV */, "mov", 3 /* DA */, "innocuous", "rd = ra", "alu"),
  i(3 /* LI */, "li", 8 /* DImm32 */, "innocuous", "rd = imm32", "alu"),
  i(16 /* ADD */, "add", 4 /* DAB */, "innocuous", "rd = ra + rb (wrapping)", "alu"),
  i(17 /* SUB */, "sub", 4 /* DAB */, "innocuous", "rd = ra - rb (wrapping)", "alu"),
  i(18 /* MUL */, "mul", 4 /* DAB */, "innocuous", "rd = low 32 bits of ra * rb", "mul"),
  i(19 /* MULHU */, "mulhu", 4 /* DAB */, "innocuous", "rd = high 32 bits of unsigned ra * rb", "mul"),
  i(20 /* DIV */, "div", 4 /* DAB */, "innocuous", "rd = ra / rb signed, truncated toward zero; #DE if rb = 0; MIN/-1 = MIN", "div"),
  i(21 /* DIVU */, "divu", 4 /* DAB */, "innocuous", "rd = ra / rb unsigned; #DE if rb = 0", "div"),
  i(22 /* REM */, "rem", 4 /* DAB */, "innocuous", "rd = ra % rb signed (sign of ra); #DE if rb = 0; MIN%-1 = 0", "div"),
  i(23 /* REMU */, "remu", 4 /* DAB */, "innocuous", "rd = ra % rb unsigned; #DE if rb = 0", "div"),
  i(24 /* AND */, "and", 4 /* DAB */, "innocuous", "rd = ra & rb", "alu"),
  i(25 /* OR */, "or", 4 /* DAB */, "innocuous", "rd = ra | rb", "alu"),
  i(26 /* XOR */, "xor", 4 /* DAB */, "innocuous", "rd = ra ^ rb", "alu"),
  i(27 /* SHL */, "shl", 4 /* DAB */, "innocuous", "rd = ra << (rb & 31)", "alu"),
  i(28 /* SHR */, "shr", 4 /* DAB */, "innocuous", "rd = ra >>> (rb & 31) (logical)", "alu"),
  i(29 /* SAR */, "sar", 4 /* DAB */, "innocuous", "rd = ra >> (rb & 31) (arithmetic)", "alu"),
  i(30 /* NOT */, "not", 3 /* DA */, "innocuous", "rd = ~ra", "alu"),
  i(31 /* NEG */, "neg", 3 /* DA */, "innocuous", "rd = -ra (wrapping)", "alu"),
  i(32 /* ADDI */, "addi", 5 /* DAI */, "innocuous", "rd = ra + imm16", "alu"),
  i(33 /* MULI */, "muli", 5 /* DAI */, "innocuous", "rd = ra * imm16 (low 32 bits)", "mul"),
  i(34 /* ANDI */, "andi", 5 /* DAI */, "innocuous", "rd = ra & imm16 (sign-extended)", "alu"),
  i(35 /* ORI */, "ori", 5 /* DAI */, "innocuous", "rd = ra | imm16 (sign-extended)", "alu"),
  i(36 /* XORI */, "xori", 5 /* DAI */, "innocuous", "rd = ra ^ imm16 (sign-extended)", "alu"),
  i(37 /* SHLI */, "shli", 5 /* DAI */, "innocuous", "rd = ra << (imm16 & 31)", "alu"),
  i(38 /* SHRI */, "shri", 5 /* DAI */, "innocuous", "rd = ra >>> (imm16 & 31)", "alu"),
  i(39 /* SARI */, "sari", 5 /* DAI */, "innocuous", "rd = ra >> (imm16 & 31)", "alu"),
  i(48 /* LDW */, "ldw", 6 /* Load */, "innocuous", "rd = 32-bit word at ra + imm16", "load"),
  i(49 /* LDH */, "ldh", 6 /* Load */, "innocuous", "rd = sign-extended 16-bit halfword at ra + imm16", "load"),
  i(50 /* LDHU */, "ldhu", 6 /* Load */, "innocuous", "rd = zero-extended 16-bit halfword at ra + imm16", "load"),
  i(51 /* LDB */, "ldb", 6 /* Load */, "innocuous", "rd = sign-extended byte at ra + imm16", "load"),
  i(52 /* LDBU */, "ldbu", 6 /* Load */, "innocuous", "rd = zero-extended byte at ra + imm16", "load"),
  i(56 /* STW */, "stw", 7 /* Store */, "innocuous", "word at ra + imm16 = rd", "store"),
  i(57 /* STH */, "sth", 7 /* Store */, "innocuous", "halfword at ra + imm16 = low 16 bits of rd", "store"),
  i(58 /* STB */, "stb", 7 /* Store */, "innocuous", "byte at ra + imm16 = low 8 bits of rd", "store"),
  i(59 /* XCHG */, "xchg", 4 /* DAB */, "innocuous", "atomically rd = word at ra and word at ra = rb (the SMP read-modify-write; one access, needs write permission)", "store"),
  i(60 /* PUSH */, "push", 2 /* A */, "innocuous", "sp -= 4; word at sp = ra", "store"),
  i(61 /* POP */, "pop", 1 /* D */, "innocuous", "rd = word at sp; sp += 4", "load"),
  i(64 /* CMP */, "cmp", 11 /* AB */, "innocuous", "set Z, LT, B from comparing ra with rb", "alu"),
  i(65 /* CMPI */, "cmpi", 12 /* AI */, "innocuous", "set Z, LT, B from comparing ra with imm16 (sign-extended)", "alu"),
  i(66 /* TEST */, "test", 11 /* AB */, "innocuous", "set Z from ra & rb == 0, LT from ra & rb < 0, clear B", "alu"),
  i(67 /* SETCC */, "set", 13 /* DCond */, "innocuous", "rd = 1 if cond holds on FLAGS, else 0", "alu"),
  i(72 /* JMP */, "jmp", 9 /* Rel */, "innocuous", "pc = next + rel32", "branchTaken"),
  i(73 /* JCC */, "j", 10 /* CondRel */, "innocuous", "if cond holds on FLAGS, pc = next + rel32", "branch"),
  i(74 /* CALL */, "call", 9 /* Rel */, "innocuous", "push next; pc = next + rel32", "call"),
  i(75 /* JMPR */, "jmpr", 2 /* A */, "innocuous", "pc = ra", "branchTaken"),
  i(76 /* CALLR */, "callr", 2 /* A */, "innocuous", "push next; pc = ra", "call"),
  i(77 /* RET */, "ret", 0 /* None */, "innocuous", "pc = pop", "ret"),
  i(80 /* INT */, "int", 14 /* Vec */, "innocuous", "software interrupt through the IDT gate for the vector; #GP if CPL > gate DPL", "alu"),
  i(81 /* BRK */, "brk", 0 /* None */, "innocuous", "breakpoint trap, vector 3 (a trap: the saved pc is the next instruction)", "alu"),
  i(82 /* RDTSC */, "rdtsc", 21 /* DD */, "innocuous", "rd = low 32 bits of the cycle counter, ra = high 32 bits", "rdtsc"),
  i(83 /* CPUID */, "cpuid", 0 /* None */, "innocuous", "r0..r3 = identification for leaf r0 (exits unconditionally in non-root mode)", "cpuid"),
  i(84 /* PAUSE */, "pause", 0 /* None */, "innocuous", "spin-wait hint: do nothing for the profile's pause cycles (in non-root mode at CPL 0 with pause-loop exiting, a spin loop longer than PLE_Window exits)", "pause"),
  i(96 /* HLT */, "hlt", 0 /* None */, "privileged", "stop until the next interrupt", "alu"),
  i(97 /* CLI */, "cli", 0 /* None */, "io-privileged", "clear IF; #GP if CPL > IOPL", "cliSti"),
  i(98 /* STI */, "sti", 0 /* None */, "io-privileged", "set IF; #GP if CPL > IOPL", "cliSti"),
  i(99 /* IN */, "in", 15 /* DPort */, "io-privileged", "rd = 32-bit read of port imm16; #GP if CPL > IOPL", "ioPort"),
  i(100 /* INB */, "inb", 15 /* DPort */, "io-privileged", "rd = 8-bit read of port imm16, zero-extended; #GP if CPL > IOPL", "ioPort"),
  i(101 /* OUT */, "out", 16 /* PortA */, "io-privileged", "32-bit write of ra to port imm16; #GP if CPL > IOPL", "ioPort"),
  i(102 /* OUTB */, "outb", 16 /* PortA */, "io-privileged", "8-bit write of ra to port imm16; #GP if CPL > IOPL", "ioPort"),
  i(103 /* INR */, "inr", 3 /* DA */, "io-privileged", "rd = 32-bit read of the port in ra; #GP if CPL > IOPL", "ioPort"),
  i(104 /* OUTR */, "outr", 11 /* AB */, "io-privileged", "32-bit write of rb to the port in ra; #GP if CPL > IOPL", "ioPort"),
  i(105 /* MOVTOCR */, "movcr", 17 /* CrA */, "privileged", "control register N = ra (CR3 write flushes the TLB)", "crMove"),
  i(106 /* MOVFROMCR */, "movfcr", 18 /* DCr */, "privileged", "rd = control register N", "crMove"),
  i(107 /* LIDT */, "lidt", 19 /* AImm */, "privileged", "IDT base = ra (virtual), entry count = imm16", "descriptorLoad"),
  i(108 /* INVLPG */, "invlpg", 2 /* A */, "privileged", "drop the TLB entry for the page holding virtual address ra", "invlpg"),
  i(109 /* LKSP */, "lksp", 20 /* RingA */, "privileged", "kernel stack pointer of ring imm16 (0..2) = ra (the TSS role)", "descriptorLoad"),
  i(110 /* IRET */, "iret", 0 /* None */, "privileged", "pop pc, cs, flags, sp; #GP if the popped ring is more privileged than CPL", "iret"),
  i(112 /* PUSHF */, "pushf", 0 /* None */, "critical", "push FLAGS, showing the real IF and IOPL at any CPL", "pushf"),
  i(113 /* POPF */, "popf", 0 /* None */, "critical", "pop FLAGS; IOPL changes only at CPL 0, IF changes only at CPL <= IOPL, silently", "popf"),
  i(114 /* RDCPL */, "rdcpl", 1 /* D */, "critical", "rd = the current privilege level (like reading CS)", "alu"),
  i(115 /* SIDT */, "sidt", 1 /* D */, "critical", "rd = the IDT base register, at any CPL", "alu"),
  i(127 /* HYPERCALL */, "hypercall", 0 /* None */, "hypercall", "trap to the hypervisor (r0 = number, r1..r5 = arguments, r0 = result); #UD on bare hardware", "alu")
];
var OPS = (() => {
  const table = new Array(256).fill(void 0);
  for (const info of INSTRUCTIONS) {
    if (table[info.op]) throw new Error(`duplicate opcode ${info.op}`);
    table[info.op] = info;
  }
  return table;
})();
var BY_MNEMONIC = new Map(INSTRUCTIONS.map((x) => [x.mnemonic, x]));
var INSN_BYTES = (() => {
  const t = new Uint8Array(256).fill(4);
  for (const info of INSTRUCTIONS) t[info.op] = info.bytes;
  return t;
})();
var COND_NAMES = ["eq", "ne", "lt", "ge", "le", "gt", "b", "ae", "be", "a"];
var FLAGS_DEFINED = 1 /* Z */ | 2 /* LT */ | 4 /* B */ | 512 /* IF */ | 12288 /* IOPL_MASK */;
var FLAGS_COND = 1 /* Z */ | 2 /* LT */ | 4 /* B */;
function condHolds(cond, flags) {
  switch (cond) {
    case 0 /* EQ */:
      return (flags & 1 /* Z */) !== 0;
    case 1 /* NE */:
      return (flags & 1 /* Z */) === 0;
    case 2 /* LT */:
      return (flags & 2 /* LT */) !== 0;
    case 3 /* GE */:
      return (flags & 2 /* LT */) === 0;
    case 4 /* LE */:
      return (flags & (2 /* LT */ | 1 /* Z */)) !== 0;
    case 5 /* GT */:
      return (flags & (2 /* LT */ | 1 /* Z */)) === 0;
    case 6 /* B */:
      return (flags & 4 /* B */) !== 0;
    case 7 /* AE */:
      return (flags & 4 /* B */) === 0;
    case 8 /* BE */:
      return (flags & (4 /* B */ | 1 /* Z */)) !== 0;
    case 9 /* A */:
      return (flags & (4 /* B */ | 1 /* Z */)) === 0;
    default:
      return false;
  }
}
function compareFlags(a, b) {
  return (a === b ? 1 /* Z */ : 0) | ((a | 0) < (b | 0) ? 2 /* LT */ : 0) | (a >>> 0 < b >>> 0 ? 4 /* B */ : 0);
}
var NUM_REGS = 16;
var REG_SP = 15;
var REG_FP = 14;
function isControlRegister(n) {
  return n === 0 || n === 2 || n === 3 || n === 4;
}
var CR0_PG = 1 << 0;
var CR0_WP = 1 << 1;
var CR4_TSD = 1 << 0;
var PAGE_SIZE = 4096;
var PAGE_SHIFT = 12;
var GATE_BYTES = 8;
function gateFlags(dpl, ring, trapGate) {
  return 1 /* PRESENT */ | (dpl & 3) << 1 /* DPL_SHIFT */ | (ring & 3) << 3 /* RING_SHIFT */ | (trapGate ? 32 /* TRAP */ : 0);
}
var CPUID_VENDOR = 842222680;
function encode(op, rd = 0, ra = 0, imm = 0) {
  return op & 255 | (rd & 15) << 8 | (ra & 15) << 12 | (imm & 65535) << 16 | 0;
}
var IMM16_MIN = -32768;
var IMM16_MAX = 32767;

// machine/types.ts
var STEP_CONT = -1;
var STEP_BOUND = -2;
var EXIT_NAMES = {
  [0 /* Exception */]: "exception",
  [1 /* ExternalInterrupt */]: "external-interrupt",
  [2 /* TripleFault */]: "triple-fault",
  [7 /* InterruptWindow */]: "interrupt-window",
  [10 /* Cpuid */]: "cpuid",
  [12 /* Hlt */]: "hlt",
  [14 /* Invlpg */]: "invlpg",
  [16 /* Rdtsc */]: "rdtsc",
  [18 /* Hypercall */]: "hypercall",
  [28 /* CrAccess */]: "cr-access",
  [30 /* Io */]: "io",
  [40 /* Pause */]: "pause",
  [48 /* EptViolation */]: "ept-violation",
  [256 /* Deadline */]: "deadline",
  [257 /* Halted */]: "halted",
  [258 /* Stopped */]: "stopped"
};
var EXIT_SLOTS = Math.max(...Object.keys(EXIT_NAMES).map(Number)) + 1;

// machine/clock.ts
var END_OF_TIME = 2 ** 52;
var END_OF_TIME_DETAIL = "simulated time has reached its end (2^52 cycles)";
function runLimit(start, maxCycles) {
  if (maxCycles === void 0) return END_OF_TIME;
  if (!Number.isInteger(maxCycles) || maxCycles < 0) throw new RangeError(`maxCycles must be a whole number >= 0, not ${maxCycles}`);
  return Math.min(start + maxCycles, END_OF_TIME);
}
var EventQueue = class _EventQueue {
  constructor(now) {
    this.now = now;
  }
  now;
  heap = [];
  /** live (scheduled, not yet run nor cancelled) events by handle */
  live = /* @__PURE__ */ new Map();
  nextSeq = 1;
  /** cancelled events still in the heap */
  cancelledInHeap = 0;
  /** Number of events still waiting to run. */
  get size() {
    return this.live.size;
  }
  /** Call fn when simulated time reaches atCycle. Returns a handle for cancel (never 0). */
  schedule(atCycle, fn) {
    if (Number.isNaN(atCycle)) throw new RangeError("EventQueue.schedule: atCycle is NaN");
    const ev = { atCycle, seq: this.nextSeq++, fn, cancelled: false };
    this.live.set(ev.seq, ev);
    this.push(ev);
    return ev.seq;
  }
  /** Forget a scheduled event. Unknown, already-run or already-cancelled handles are ignored. */
  cancel(handle) {
    const ev = this.live.get(handle);
    if (ev === void 0) return;
    ev.cancelled = true;
    this.live.delete(handle);
    if (++this.cancelledInHeap > 64 && 2 * this.cancelledInHeap > this.heap.length) this.compact();
  }
  /** Cycle of the earliest live event, or Infinity if none. */
  nextDeadline() {
    this.dropCancelledTop();
    return this.heap.length > 0 ? this.heap[0].atCycle : Infinity;
  }
  /**
   * Run every event whose time is <= now(), ordered by time then by scheduling order. The heap is
   * re-examined after each callback, so events a callback schedules for a time <= now() also run
   * in this call, in their place in that order.
   */
  runDue() {
    for (; ; ) {
      this.dropCancelledTop();
      const top = this.heap[0];
      if (top === void 0 || top.atCycle > this.now()) return;
      this.pop();
      this.live.delete(top.seq);
      top.fn();
    }
  }
  /** Drop every event (platform reset). Handles already given out become no-ops for cancel. */
  clear() {
    for (const ev of this.heap) ev.cancelled = true;
    this.heap.length = 0;
    this.live.clear();
    this.cancelledInHeap = 0;
  }
  /**
   * The live events, in the order they would run ((atCycle, seq)): a domain's save lists its own
   * (hypervisor/save/pv-domain.ts) and a restore schedules them again, in that order.
   */
  pending() {
    return [...this.live.values()].sort((a, b) => _EventQueue.before(a, b) ? -1 : 1).map((e) => ({ handle: e.seq, atCycle: e.atCycle, fn: e.fn }));
  }
  /** Cancelled events still held (for tests). */
  get cancelledHeld() {
    return this.cancelledInHeap;
  }
  dropCancelledTop() {
    while (this.heap.length > 0 && this.heap[0].cancelled) {
      this.pop();
      this.cancelledInHeap--;
    }
  }
  /** Rebuild the heap from its live events (Floyd's heapify, O(n)). */
  compact() {
    const h = this.heap;
    let n = 0;
    for (let i2 = 0; i2 < h.length; i2++) if (!h[i2].cancelled) h[n++] = h[i2];
    h.length = n;
    for (let i2 = (n >> 1) - 1; i2 >= 0; i2--) this.siftDown(i2, h[i2]);
    this.cancelledInHeap = 0;
  }
  static before(a, b) {
    return a.atCycle < b.atCycle || a.atCycle === b.atCycle && a.seq < b.seq;
  }
  push(ev) {
    const h = this.heap;
    let i2 = h.length;
    h.push(ev);
    while (i2 > 0) {
      const parent = i2 - 1 >> 1;
      if (!_EventQueue.before(ev, h[parent])) break;
      h[i2] = h[parent];
      i2 = parent;
    }
    h[i2] = ev;
  }
  pop() {
    const h = this.heap;
    const last = h.pop();
    if (h.length === 0) return;
    this.siftDown(0, last);
  }
  /** Place `ev` at index i or below, moving smaller children up. */
  siftDown(i2, ev) {
    const h = this.heap;
    const n = h.length;
    for (; ; ) {
      const l = 2 * i2 + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && _EventQueue.before(h[r], h[l]) ? r : l;
      if (!_EventQueue.before(h[child], ev)) break;
      h[i2] = h[child];
      i2 = child;
    }
    h[i2] = ev;
  }
};

// machine/hex.ts
function hex(n, minDigits = 8) {
  return `0x${(n >>> 0).toString(16).padStart(minDigits, "0")}`;
}

// machine/bus.ts
var PORT_SPACE = 65536;
function sizeMask(size) {
  return size === 1 ? 255 : size === 2 ? 65535 : 4294967295;
}
var IoPortBus = class {
  /** port -> 1 + index into `slots`; 0 = unmapped */
  map = new Uint16Array(PORT_SPACE);
  slots = [];
  /** accesses to ports no device answers */
  unmappedReads = 0;
  unmappedWrites = 0;
  /**
   * Attach a device at [portBase, portBase + portCount). Throws if the range is not inside the
   * 16-bit port space or overlaps a registered device (a platform wiring error, not a guest one).
   */
  register(dev) {
    const { portBase: base, portCount: count } = dev;
    if (!Number.isInteger(base) || !Number.isInteger(count) || base < 0 || count < 1 || base + count > PORT_SPACE) {
      throw new RangeError(
        `IoPortBus: device '${dev.name}' has an invalid port range (base ${base}, count ${count})`
      );
    }
    for (let p = base; p < base + count; p++) {
      const other = this.map[p];
      if (other !== 0) {
        const o = this.slots[other - 1].dev;
        throw new Error(
          `IoPortBus: device '${dev.name}' (ports ${hex(base, 1)}..${hex(base + count - 1, 1)}) overlaps '${o.name}' (ports ${hex(o.portBase, 1)}..${hex(o.portBase + o.portCount - 1, 1)}) at port ${hex(p, 1)}`
        );
      }
    }
    if (this.slots.length >= 65535) throw new Error("IoPortBus: too many devices");
    this.slots.push({ dev, reads: 0, writes: 0 });
    this.map.fill(this.slots.length, base, base + count);
  }
  /** Port read. Unmapped ports (and ports outside 0..0xffff) read all ones, masked to the size. */
  read(port2, size) {
    const mask = sizeMask(size);
    const idx = this.map[port2];
    if (!idx) {
      this.unmappedReads++;
      return mask >>> 0;
    }
    const slot = this.slots[idx - 1];
    slot.reads++;
    return (slot.dev.read(port2, size) & mask) >>> 0;
  }
  /** Port write; the value is masked to the size. Writes to unmapped ports are ignored. */
  write(port2, size, value) {
    const idx = this.map[port2];
    if (!idx) {
      this.unmappedWrites++;
      return;
    }
    const slot = this.slots[idx - 1];
    slot.writes++;
    slot.dev.write(port2, size, (value & sizeMask(size)) >>> 0);
  }
  /** The device answering `port`, if any. */
  deviceAt(port2) {
    const idx = this.map[port2];
    return idx ? this.slots[idx - 1].dev : void 0;
  }
  /** Registered devices, in registration order. */
  devices() {
    return this.slots.map((s) => s.dev);
  }
  /** Per-device access counters, in registration order. */
  stats() {
    return this.slots.map((s) => ({
      name: s.dev.name,
      portBase: s.dev.portBase,
      portCount: s.dev.portCount,
      reads: s.reads,
      writes: s.writes
    }));
  }
  /** Zero the access counters. */
  resetStats() {
    for (const s of this.slots) s.reads = s.writes = 0;
    this.unmappedReads = this.unmappedWrites = 0;
  }
  /** Return every device to its power-on state (counters are kept). */
  resetDevices() {
    for (const s of this.slots) s.dev.reset?.();
  }
};

// machine/never.ts
function assertNever(x, what = "case") {
  throw new Error(`unhandled ${what}: ${String(x)}`);
}

// machine/costs.ts
var VMCS_READS_PER_EXIT = 10;
var P4_2003 = {
  name: "p4-2003",
  description: "Intel Pentium 4 (NetBurst: Northwood latencies; VT-x transition costs of Prescott 6x2, no EPT)",
  // A 3.0 GHz Northwood: the Pentium 4 3.0C (2003) at its rated clock (Intel's product specification).
  clockMHz: 3e3,
  // [INTEL] App. C: simple integer ops have latency 0.5 on the double-pumped ALU; one cycle is
  // the smallest unit we charge.
  alu: 1,
  // [INTEL] App. C / [FOG] (Pentium 4): IMUL r32 latency 14 on Northwood (10 on Prescott).
  mul: 14,
  // [FOG] (Pentium 4): DIV/IDIV r32 latency 56-70 depending on operands; lower bound.
  div: 56,
  // [INTEL]: Northwood L1 data cache load-to-use latency 2 cycles.
  load: 2,
  store: 1,
  branch: 1,
  // approximate: a predicted taken branch costs a fetch bubble from the trace cache; mispredicts
  // (~20 cycles on Northwood per Intel) are not modelled.
  branchTaken: 2,
  // [FOG] (Pentium 4): RDTSC ~80 cycles. approximate
  rdtsc: 80,
  // approximate/unverified: CPUID is microcoded and serializing, a few hundred cycles on NetBurst.
  cpuid: 200,
  // approximate: Intel's optimization manual (its Skylake section) puts PAUSE at about 10 cycles on
  // the generations before Skylake (140 on Skylake); this core's own delay is not published.
  pause: 10,
  // [LNX02]: getppid by int 0x80 ~1,761 cycles, by sysenter ~641 on a Pentium 4; the kernel work
  // is the same, so INT + IRET cost ~1,120 cycles more than SYSENTER + SYSEXIT. estimate: with
  // SYSENTER + SYSEXIT at ~150 (fast paths without gate or stack checks), INT + IRET ~1,270, split
  // 700 entry (gate lookup, privilege checks, stack switch, frame push) + 570 IRET (frame pop,
  // checks). Exceptions and external interrupts use the same delivery microcode as INT n.
  trapEntry: 700,
  intEntry: 700,
  iret: 570,
  // approximate: page-table entries usually hit in L2 on a TLB miss; NetBurst L2 latency ~18
  // cycles ([INTEL], Prescott 18+, Northwood lower). One L2 hit per level.
  tlbWalkLevel: 18,
  // approximate/unverified: the machine's default geometry (256 entries, 4-way), not yet this core's figures
  tlbEntries: 256,
  tlbWays: 4,
  // approximate/unverified: MOV CR3 serializes and flushes the non-global TLB; ~150 cycles before
  // refills on NetBurst (refills charged separately as walks).
  cr3Write: 150,
  // approximate/unverified: moves to/from control registers are serializing microcode.
  crMove: 20,
  // approximate/unverified
  invlpg: 100,
  // approximate/unverified: LIDT and TR-style loads are serializing.
  descriptorLoad: 50,
  // approximate: a legacy port access is a bus round trip of about 1 us (Linux's io_delay uses a
  // write to port 0x80 as a ~1 us delay; [AA06] measured an OUT to port 0x80 at ~3,209 cycles on a
  // 3.8 GHz Prescott) = 3,000 cycles at 3.0 GHz.
  ioPort: 3e3,
  // [AA06] (text): CLI ~60 cycles on a NetBurst core.
  cliSti: 60,
  // approximate/unverified: PUSHF is a few uops; POPF is long microcode on NetBurst.
  pushf: 10,
  popf: 50,
  // [BAR03]: a hypercall is a software trap (int 0x82) into Xen at ring 0, and the return an
  // IRET: the same microcode as intEntry / iret above (the same estimate).
  hypercallEntry: 700,
  hypercallExit: 570,
  // [AA06] Table 1 (Prescott 672): VM exit (page fault) ~1,931, VM entry ~2,409 cycles.
  vmExit: 1931,
  vmEntry: 2409,
  // no EPT on this CPU (ept: false); the figure is unused, kept equal to a first-stage reference
  eptWalkLevel: 18,
  ept: false,
  // no VPID before Nehalem (2008, with EPT; Intel SDM vol. 3, "Virtual-processor identifiers"):
  // first-generation VT-x flushes the TLB at every VM entry and exit.
  vpid: false,
  // [AA06]: a VMREAD ~178 cycles (Prescott).
  vmcsRead: 178,
  // estimate: no published figure for a trap-and-emulate monitor's software path. It does what a
  // BT callout does (register save, decode, dispatch, virtual-CPU or shadow update, restore) and
  // [AA06] measured a callout at ~1,040 cycles on NetBurst: the same figure. The hardware trap
  // entry and the IRET back are charged separately.
  monitorTrap: 1040,
  // estimate: no published figure for one emulated register access in a device model; a port
  // lookup and a register handler of a few dozen instructions: a quarter of the monitor path, as
  // pv's hypercall dispatch.
  deviceModel: 260,
  // estimate: a world switch saves and restores the whole processor state and changes address
  // space both ways: two monitor paths and two CR3 loads.
  hostedWorldSwitch: 2380,
  // [AA06]: a callout ~1,040 cycles.
  btCallout: 1040,
  // [AA06]: a translation-cache lookup adds ~40 cycles to an indirect control transfer.
  btLookup: 40,
  // [AA06]: translating one guest instruction ~2,300 cycles.
  btTranslate: 2300
};
var P4_2006_VTX = {
  name: "p4-2006-vtx",
  description: "Intel Pentium 4 672 (Prescott, 3.8 GHz), first-generation VT-x, no EPT",
  // [AA06]: the Pentium 4 672 runs at 3.8 GHz.
  clockMHz: 3800,
  alu: 1,
  // [FOG] (Pentium 4 Prescott): IMUL r32 latency 10.
  mul: 10,
  // [FOG] (Pentium 4): DIV r32 latency 56-70; lower bound. approximate
  div: 56,
  // [INTEL]: Prescott L1 data cache load-to-use latency 4 cycles.
  load: 4,
  store: 1,
  branch: 1,
  // approximate: as p4-2003 (trace-cache fetch bubble).
  branchTaken: 2,
  // [FOG] (Pentium 4): RDTSC ~80 cycles. approximate
  rdtsc: 80,
  // approximate/unverified: microcoded and serializing.
  cpuid: 200,
  // approximate: Intel's optimization manual (its Skylake section) puts PAUSE at about 10 cycles on
  // the generations before Skylake (140 on Skylake); this core's own delay is not published.
  pause: 10,
  // the p4-2003 estimate from [LNX02] (same NetBurst delivery microcode).
  trapEntry: 700,
  intEntry: 700,
  iret: 570,
  // approximate: one L2 hit per walk level; Prescott's L2 latency is longer than Northwood's
  // ([INTEL]: "18 or more"); the lower bound.
  tlbWalkLevel: 18,
  // approximate/unverified: the machine's default geometry (256 entries, 4-way), as p4-2003's
  tlbEntries: 256,
  tlbWays: 4,
  // approximate/unverified, as p4-2003.
  cr3Write: 150,
  crMove: 20,
  invlpg: 100,
  descriptorLoad: 50,
  // [AA06]: an OUT to port 0x80 ~3,209 cycles natively.
  ioPort: 3209,
  // [AA06]: CLI ~60 cycles.
  cliSti: 60,
  // approximate/unverified, as p4-2003.
  pushf: 10,
  popf: 50,
  // as intEntry / iret ([BAR03]: int 0x82 and IRET).
  hypercallEntry: 700,
  hypercallExit: 570,
  // [AA06] Table 1: VM exit (page fault) ~1,931, VM entry ~2,409 cycles.
  vmExit: 1931,
  vmEntry: 2409,
  // no EPT (ept: false); unused.
  eptWalkLevel: 18,
  ept: false,
  // no VPID (Nehalem, 2008, as p4-2003)
  vpid: false,
  // [AA06]: VMREAD ~178 cycles.
  vmcsRead: 178,
  // the p4-2003 estimate (a callout's path, [AA06]).
  monitorTrap: 1040,
  // the p4-2003 estimates (a quarter of the monitor path; two monitor paths and two CR3 loads).
  deviceModel: 260,
  hostedWorldSwitch: 2380,
  // [AA06]: callout ~1,040; lookup ~40; translation ~2,300 per instruction.
  btCallout: 1040,
  btLookup: 40,
  btTranslate: 2300
};
var CORE2_2006_VTX = {
  name: "core2-2006-vtx",
  description: "Intel Core 2 Duo (Merom, 2.33 GHz), VT-x, no EPT",
  // the Core 2 Duo T7600 (2006) at its rated 2.33 GHz (Intel's product specification).
  clockMHz: 2333,
  alu: 1,
  // [FOG] (Core 2 / Merom): IMUL r32 latency 3.
  mul: 3,
  // [FOG] (Merom): DIV r32 latency 17-41 depending on operands. approximate (middle)
  div: 22,
  // [INTEL] (Core microarchitecture): L1 data cache load-to-use latency 3 cycles.
  load: 3,
  store: 1,
  branch: 1,
  // approximate: a predicted taken branch costs about a cycle of fetch redirect.
  branchTaken: 1,
  // [FOG] (Merom): RDTSC ~64 cycles. approximate
  rdtsc: 64,
  // approximate/unverified
  cpuid: 200,
  // approximate: Intel's optimization manual (its Skylake section) puts PAUSE at about 10 cycles on
  // the generations before Skylake (140 on Skylake); this core's own delay is not published.
  pause: 10,
  // estimate: no published figure for INT n / IRET on Merom; Core's gate delivery and IRET are
  // microcoded as NetBurst's but at roughly twice the IPC: about half the p4-2003 estimate.
  trapEntry: 350,
  intEntry: 350,
  iret: 280,
  // [INTEL] (Core microarchitecture): L2 latency ~14 cycles; one L2 hit per level. approximate
  tlbWalkLevel: 14,
  // Core 2's DTLB1 for 4 KiB pages is 256 entries, 4-way (Intel's optimization reference manual,
  // the Intel Core microarchitecture's cache and TLB table): the machine's geometry.
  tlbEntries: 256,
  tlbWays: 4,
  // approximate/unverified
  cr3Write: 120,
  crMove: 20,
  invlpg: 100,
  descriptorLoad: 40,
  // approximate: a legacy port access is ~1 us (as p4-2003) = 2,333 cycles at 2.33 GHz.
  ioPort: 2333,
  // approximate/unverified ([FOG] lists CLI/STI as a few microcoded uops on Merom)
  cliSti: 20,
  pushf: 5,
  popf: 20,
  // as intEntry / iret (a PV hypercall is int 0x82 and IRET).
  hypercallEntry: 350,
  hypercallExit: 280,
  // [AGE12] Fig. 1 (Merom): VM entry ~937, VM exit ~1,186 cycles.
  vmExit: 1186,
  vmEntry: 937,
  // no EPT on Merom (it arrived with Nehalem, 2008); unused.
  eptWalkLevel: 14,
  ept: false,
  // no VPID on Merom (it arrived with Nehalem, 2008, as p4-2003)
  vpid: false,
  // estimate: no published VMREAD figure for Merom; transitions fell to ~45% of Prescott's
  // ([AA06] vs [AGE12]) and we scale VMREAD alike: ~80.
  vmcsRead: 80,
  // estimate: the p4-2003 monitor and BT figures ([AA06], NetBurst) at roughly twice the IPC.
  monitorTrap: 520,
  deviceModel: 130,
  hostedWorldSwitch: 1280,
  btCallout: 520,
  btLookup: 20,
  btTranslate: 1150
};
var MODERN = {
  name: "modern",
  description: "AMD Zen 2 class core (2019-2020)",
  // e.g. Ryzen 7 3700X / EPYC 7002 base clocks are 3.0-3.6 GHz.
  clockMHz: 3600,
  alu: 1,
  // Agner Fog's instruction tables (Zen 2): IMUL r32 latency 3.
  mul: 3,
  // Agner Fog's tables (Zen 2): DIV r32 latency ~14-30 depending on operands. approximate
  div: 20,
  // AMD Software Optimization Guide for Family 17h: L1D load-to-use 4 cycles (integer).
  load: 4,
  store: 1,
  branch: 1,
  // approximate: a predicted taken branch costs about a cycle of fetch redirect.
  branchTaken: 1,
  // Agner Fog's tables (Zen 2): RDTSC ~37 cycles. approximate
  rdtsc: 37,
  // approximate/unverified
  cpuid: 150,
  // approximate/unverified: no AMD figure checked; Intel's pre-Skylake ~10 cycles (its optimization
  // manual's Skylake section, which gives 140 for Skylake itself) taken as the estimate.
  pause: 10,
  // approximate/unverified: software-interrupt / exception delivery and IRET on current cores
  // (each on the order of 50-100 cycles, before mitigations).
  trapEntry: 80,
  intEntry: 80,
  iret: 50,
  // approximate: page-walk caches and L1/L2 hits keep a walk level to a few cycles.
  tlbWalkLevel: 8,
  // approximate/unverified: the machine's default geometry (256 entries, 4-way), not yet this core's figures
  tlbEntries: 256,
  tlbWays: 4,
  // approximate/unverified: MOV CR3 without PCID, before refills.
  cr3Write: 150,
  crMove: 10,
  // approximate/unverified
  invlpg: 150,
  descriptorLoad: 40,
  // approximate: legacy port I/O is still ~1 us on current platforms (LPC/eSPI) = 3,600 cycles.
  ioPort: 3600,
  // approximate/unverified (Agner Fog's Zen 2 table: CLI/STI a few cycles, POPF microcoded)
  cliSti: 4,
  pushf: 2,
  popf: 15,
  // a PV hypercall as a software trap + IRET on this core (same as intEntry / iret). approximate
  hypercallEntry: 80,
  hypercallExit: 50,
  // LKML, Dec 2020 (REFERENCE.md): a KVM_RUN round trip with one exit on an AMD part was 2,528
  // cycles, of which ~1,376 the hardware world switch (VMRUN + #VMEXIT) plus guest work. We
  // charge that 1,376 as the transition pair; the split is our estimate. approximate
  vmExit: 700,
  vmEntry: 676,
  // nested paging walks hit the same caches as native walks. approximate
  eptWalkLevel: 8,
  // AMD's NPT (nested paging, since Barcelona 2007).
  ept: true,
  // AMD's SVM tags TLB entries with an address-space ID (ASID) from its first parts (AMD64
  // Architecture Programmer's Manual vol. 2, the SVM chapter's TLB control).
  vpid: true,
  // estimate: VMCB fields are ordinary memory on AMD (no VMREAD instruction): an L1 hit or two.
  vmcsRead: 4,
  // approximate/unverified, an engineering estimate: the same few hundred instructions of monitor
  // code as p4-2003 at roughly twice the IPC.
  monitorTrap: 200,
  // estimate, as p4-2003's: a quarter of the monitor path; two monitor paths and two CR3 loads.
  deviceModel: 50,
  hostedWorldSwitch: 700,
  // approximate/unverified: p4-2003's estimates at roughly twice the IPC (a mispredicted
  // indirect branch on Zen 2 is ~15-20 cycles, so the lookup falls less).
  btCallout: 50,
  btLookup: 20,
  btTranslate: 150
};
var PROFILES = {
  [P4_2003.name]: P4_2003,
  [P4_2006_VTX.name]: P4_2006_VTX,
  [CORE2_2006_VTX.name]: CORE2_2006_VTX,
  [MODERN.name]: MODERN
};
var DEFAULT_PROFILE = "p4-2003";
function getProfile(name) {
  const p = Object.prototype.hasOwnProperty.call(PROFILES, name) ? PROFILES[name] : void 0;
  if (!p) throw new Error(`unknown CPU cost profile '${name}' (known: ${Object.keys(PROFILES).join(", ")})`);
  return p;
}
function opcodeCosts(p) {
  const t = new Uint16Array(256);
  for (const info of INSTRUCTIONS) t[info.op] = classCost(p, info.cost);
  return t;
}
function classCost(p, c) {
  switch (c) {
    case "alu":
      return p.alu;
    case "mul":
      return p.mul;
    case "div":
      return p.div;
    case "load":
      return p.load;
    case "store":
      return p.store;
    case "branch":
      return p.branch;
    case "branchTaken":
      return p.branchTaken;
    case "call":
      return p.branchTaken + p.store;
    case "ret":
      return p.branchTaken + p.load;
    case "rdtsc":
      return p.rdtsc;
    case "cpuid":
      return p.cpuid;
    case "pause":
      return p.pause;
    case "cliSti":
      return p.cliSti;
    case "ioPort":
      return p.ioPort;
    case "crMove":
      return p.crMove;
    case "descriptorLoad":
      return p.descriptorLoad;
    case "invlpg":
      return p.invlpg;
    case "iret":
      return p.iret;
    case "pushf":
      return p.pushf;
    case "popf":
      return p.popf;
    default:
      return assertNever(c);
  }
}

// machine/console-log.ts
var CONSOLE_LOG_BYTES = 16 * 1024 * 1024;
var ConsoleLog = class {
  constructor(capacity = CONSOLE_LOG_BYTES) {
    this.capacity = capacity;
    this.buf = new Uint8Array(Math.min(4096, capacity));
  }
  capacity;
  /** bytes dropped from the front of the log */
  dropped = 0;
  buf;
  len = 0;
  /** Bytes held now. */
  get length() {
    return this.len;
  }
  /** Append one byte (its low 8 bits). */
  push(byte) {
    if (this.len === this.buf.length) {
      if (this.buf.length < this.capacity) {
        const bigger = new Uint8Array(Math.min(this.capacity, this.buf.length * 2));
        bigger.set(this.buf);
        this.buf = bigger;
      } else {
        const half = this.len >>> 1;
        this.buf.copyWithin(0, half, this.len);
        this.len -= half;
        this.dropped += half;
      }
    }
    this.buf[this.len++] = byte;
  }
  /** The bytes held (a copy). */
  bytes() {
    return this.buf.slice(0, this.len);
  }
  /** The bytes held, decoded as UTF-8. */
  text() {
    return new TextDecoder().decode(this.buf.subarray(0, this.len));
  }
};

// machine/cpuid.ts
var CPUID_FEATURES_MACHINE = 1 /* Paging */ | 2 /* NonRoot */ | 4 /* SecondStage */;
function answerCpuid(r, clockMHz, features, tlbEntries) {
  const leaf = r[0];
  if (leaf === 0) {
    r[0] = 1;
    r[1] = r[2] = r[3] = CPUID_VENDOR;
  } else if (leaf === 1) {
    r[0] = clockMHz;
    r[1] = features;
    r[2] = tlbEntries;
    r[3] = 0;
  } else {
    r[0] = r[1] = r[2] = r[3] = 0;
  }
}

// machine/ledger.ts
var Ev = {
  /** one page-table reference of a hardware TLB-miss walk (tlbWalkLevel) */
  TlbWalk: 0,
  /** one second-stage table reference of a walk in non-root mode (eptWalkLevel) */
  EptWalk: 1,
  /** delivery of an exception or external interrupt, through the IDT or to a root-mode intercept (trapEntry) */
  TrapDelivery: 2,
  /** delivery of INT n (intEntry) */
  IntDelivery: 3,
  /** the return to the guest after a root-mode intercept the monitor handled (iret) */
  InterceptReturn: 4,
  /** a CR3 or CR0 write's serialization and TLB flush, by the CPU or done by a monitor for the guest (cr3Write) */
  CrFlush: 5,
  /** an INVLPG a monitor performs for the guest (invlpg) */
  Invlpg: 6,
  /** HYPERCALL trapping into the hypervisor (hypercallEntry) */
  HypercallEntry: 7,
  /** the return from a hypercall (hypercallExit) */
  HypercallExit: 8,
  /** a VM entry (vmEntry) */
  VmEntry: 9,
  /** a VM exit (vmExit) */
  VmExit: 10,
  /** a trap-and-emulate monitor's software path for one trap (monitorTrap) */
  MonitorTrap: 11,
  /** a world switch between two vCPUs: a monitor path and a CR3 load (monitorTrap + cr3Write) */
  WorldSwitch: 12,
  /** one page-table reference of the monitor's software walk of the guest's tables (tlbWalkLevel) */
  MonitorWalk: 13,
  /** hvm: the monitor's exit handler, with its VMREADs (monitorTrap + VMCS_READS_PER_EXIT x vmcsRead) */
  HvmExitPath: 14,
  /** bt: a callout into the monitor (btCallout) */
  BtCallout: 15,
  /** bt: a translation-cache lookup (btLookup) */
  BtLookup: 16,
  /** bt: translating one guest instruction (btTranslate) */
  BtTranslate: 17,
  /** pv: decoding and dispatching one hypercall (PvCosts.dispatch) */
  PvDispatch: 18,
  /** pv: one request of a hypercall batch (PvCosts.perRequest) */
  PvRequest: 19,
  /** pv: validating or releasing one whole page table (PvCosts.tableScan) */
  PvTableScan: 20,
  /** pv: bouncing an exception or event upcall to the guest (PvCosts.bounce) */
  PvBounce: 21,
  /** pv: setting an event-channel port pending (PvCosts.eventSet) */
  PvEventSet: 22,
  /** pv: copying one sector between a disk model and a granted page (PvCosts.sectorCopy) */
  PvSectorCopy: 23,
  /** a descriptor-table load a monitor does for the guest (descriptorLoad) */
  DescriptorLoad: 24,
  /** cycles the CPU sat halted, fast-forwarded to the next device event (1 per cycle) */
  Idle: 25,
  /** hypervisor work charged by the cycle (an extension's hypercall handler: HcCtx.chargeCycles) */
  HvCycles: 26,
  /** the device model's handling of one emulated port access (deviceModel) */
  DeviceModel: 27,
  /** a hosted monitor's world switch to the host and back for an I/O exit (hostedWorldSwitch) */
  HostedSwitch: 28,
  /** log-dirty: the hypervisor's handling of a write fault on a write-protected frame: mark it dirty, make it writable (monitorTrap) */
  LogDirtyFault: 29,
  /** pv: copying one 64-byte line through a grant (grant copy: network back end, GNTTABOP_copy) (PvCosts.grantCopyLine) */
  PvGrantCopy: 30,
  /** pv: transferring one frame to a domain (page flipping: network receive) (PvCosts.pageFlip) */
  PvPageFlip: 31
};
var EV_KINDS = 32;
function ledgerUnits(p, vmcsReadsPerExit) {
  const u = new Float64Array(EV_KINDS);
  u[Ev.TlbWalk] = p.tlbWalkLevel;
  u[Ev.EptWalk] = p.eptWalkLevel;
  u[Ev.TrapDelivery] = p.trapEntry;
  u[Ev.IntDelivery] = p.intEntry;
  u[Ev.InterceptReturn] = p.iret;
  u[Ev.CrFlush] = p.cr3Write;
  u[Ev.Invlpg] = p.invlpg;
  u[Ev.HypercallEntry] = p.hypercallEntry;
  u[Ev.HypercallExit] = p.hypercallExit;
  u[Ev.VmEntry] = p.vmEntry;
  u[Ev.VmExit] = p.vmExit;
  u[Ev.MonitorTrap] = p.monitorTrap;
  u[Ev.WorldSwitch] = p.monitorTrap + p.cr3Write;
  u[Ev.MonitorWalk] = p.tlbWalkLevel;
  u[Ev.HvmExitPath] = p.monitorTrap + vmcsReadsPerExit * p.vmcsRead;
  u[Ev.BtCallout] = p.btCallout;
  u[Ev.BtLookup] = p.btLookup;
  u[Ev.BtTranslate] = p.btTranslate;
  u[Ev.DescriptorLoad] = p.descriptorLoad;
  u[Ev.Idle] = 1;
  u[Ev.HvCycles] = 1;
  u[Ev.DeviceModel] = p.deviceModel;
  u[Ev.HostedSwitch] = p.hostedWorldSwitch;
  u[Ev.LogDirtyFault] = p.monitorTrap;
  return u;
}

// machine/vmx.ts
var Vmcs = class {
  // --- execution controls: what exits (CPUID and HYPERCALL always exit) ---
  /** HLT exits with Exit.Hlt (else the guest halts in non-root mode and run() returns Halted) */
  exitOnHlt = false;
  /** IN/OUT exit with Exit.Io (after the guest's own IOPL check) */
  exitOnIo = false;
  /** bit n set: MOVFROMCR of CR n exits with Exit.CrAccess */
  crReadExits = 0;
  /** bit n set: MOVTOCR of CR n exits with Exit.CrAccess */
  crWriteExits = 0;
  /**
   * Guest/host masks and read shadows of CR0 and CR4 (VT-x's): a bit set in the mask is owned by
   * the host. MOVFROMCR reads an owned bit from the read shadow, the others from the register;
   * MOVTOCR exits with Exit.CrAccess when it would change an owned bit against the read shadow,
   * and otherwise writes only the bits the guest owns (the owned ones keep the host's values).
   */
  cr0GuestHostMask = 0;
  cr0ReadShadow = 0;
  cr4GuestHostMask = 0;
  cr4ReadShadow = 0;
  /** INVLPG exits with Exit.Invlpg */
  exitOnInvlpg = false;
  /** RDTSC exits with Exit.Rdtsc */
  exitOnRdtsc = false;
  /** bit v set: exception vector v (0..31) exits with Exit.Exception instead of guest delivery */
  exceptionBitmap = 0;
  /** an interrupt-controller request exits with Exit.ExternalInterrupt, whatever the guest's IF (not acknowledged) */
  exitOnExternalInterrupt = false;
  /** exit with Exit.InterruptWindow at the first block boundary where the guest's IF is 1 */
  interruptWindowExiting = false;
  /** host-physical address of the second-stage directory, or -1 for none */
  eptRoot = -1;
  /** added to the cycle counter for the guest's RDTSC */
  tscOffset = 0;
  /**
   * Pause-loop exiting (VT-x's secondary control, Intel SDM vol. 3C, "Instructions That Cause VM
   * Exits Conditionally", PAUSE): at CPL 0, a PAUSE less than `pleGap` cycles after the previous
   * one belongs to the same spin loop; the first PAUSE after an entry, or after a longer gap,
   * begins a loop; a PAUSE more than `pleWindow` cycles after its loop began exits with Exit.Pause.
   * Time is the cycle counter (the SDM's counter runs at the TSC's rate). At CPL > 0, and with
   * the control off, PAUSE never exits. The defaults are KVM's (ple_gap 128, ple_window 4096).
   */
  pauseLoopExiting = false;
  pleGap = 128;
  pleWindow = 4096;
  /** the CPU's PLE state: the cycle of the last PAUSE at CPL 0 and of the first of its loop (-Infinity: none since the entry) */
  pleLast = -Infinity;
  pleLoopStart = -Infinity;
  /**
   * The tag of this guest's TLB entries (VT-x's VPID, AMD's ASID), honoured when the profile's CPU
   * has one (CostProfile.vpid): entry and exit keep the TLB. 0: untagged, the TLB is flushed at
   * every entry and exit, as on first-generation VT-x.
   */
  vpid = 0;
  // --- entry controls: an event to inject on the next VM entry ---
  /** vector to deliver through the guest's IDT on the next entry, or -1 */
  injectVector = -1;
  injectError = 0;
  injectKind = 3 /* External */;
  /**
   * VT-x's VM-entry instruction length, for a software interrupt or trap: the event is delivered
   * as its instruction at the guest's pc would deliver it (the frame saves pc + this; a fault in
   * its delivery saves pc, the instruction's own address). Cleared by the entry that injects.
   */
  injectInsnLength = 0;
  // --- exit information (written by the CPU on every VM exit; also mirrored on the Cpu) ---
  /** the last exit reason (an Exit value), or -1 */
  exitReason = -1;
  exitQualification = 0;
  exitGuestPhys = 0;
  exitGuestLinear = 0;
  /** address and length of the instruction that exited (0 length for non-instruction exits) */
  exitInsnPc = 0;
  exitInsnLength = 0;
  /** the exception or interrupt vector (Exception, ExternalInterrupt) */
  exitVector = 0;
  exitError = 0;
  exitKind = 0 /* Fault */;
  /** an event whose delivery the exit interrupted (VT-x's IDT-vectoring information), or -1 */
  idtVectoring = -1;
  idtVectoringError = 0;
  idtVectoringKind = 3 /* External */;
  /** exits so far by reason (index = Exit value, < 64) */
  exitCounts = new Float64Array(64);
};

// machine/mmu.ts
var ACC_READ = 0;
var ACC_WRITE = 1;
var ACC_FETCH = 2;
var INVALID = 4;
var PAGE_MASK = -4096;
var READ = ACC_READ;
var WRITE = ACC_WRITE;
var FETCH = ACC_FETCH;
var NO_TAG = INVALID;
var PAGE = PAGE_MASK;
var PG = CR0_PG;
var WP = CR0_WP;
var EV_TLB_WALK = Ev.TlbWalk;
var EV_EPT_WALK = Ev.EptWalk;
var PTE_P = 1 /* P */;
var PTE_W = 2 /* W */;
var PTE_U = 4 /* U */;
var PTE_A = 32 /* A */;
var PTE_D = 64 /* D */;
function tlbFind(t, e, ways, tag) {
  const end = e + ways;
  do {
    if (t[e] === tag) return e;
  } while (++e < end);
  return -1;
}
var find = tlbFind;
var SPARSE_FLUSH_MAX = 32;
function tlbGeometry(p) {
  const { tlbEntries: entries, tlbWays: ways } = p;
  const pow2 = (x) => Number.isInteger(x) && x > 0 && (x & x - 1) === 0;
  if (!pow2(entries) || !pow2(ways) || ways > entries || ways > 256) {
    throw new Error(`profile ${p.name}: TLB geometry ${entries} entries x ${ways} ways (both powers of two, ways <= entries and <= 256)`);
  }
  return { entries, ways };
}
var Mmu = class {
  constructor(host2, mem, profile) {
    this.host = host2;
    this.mem = mem;
    const { entries, ways } = tlbGeometry(profile);
    this.tlbEntries = entries;
    this.tlbWays = ways;
    this.wayShift = Math.log2(ways);
    this.setMask = entries / ways - 1;
    this.tlbR = new Int32Array(2 * entries).fill(NO_TAG);
    this.tlbW = new Int32Array(2 * entries).fill(NO_TAG);
    this.tlbRS = this.tlbR.subarray(0, entries);
    this.tlbRU = this.tlbR.subarray(entries);
    this.tlbWS = this.tlbW.subarray(0, entries);
    this.tlbWU = this.tlbW.subarray(entries);
    this.tlbAdd = new Int32Array(entries);
    this.tlbNext = new Uint8Array(entries / ways);
    this.filled = new Int32Array(entries);
    this.tlbOwner = new Int32Array(entries);
    this.tlbHidR = new Int32Array(2 * entries).fill(NO_TAG);
    this.tlbHidW = new Int32Array(2 * entries).fill(NO_TAG);
  }
  host;
  mem;
  // --- TLB: tags [0, N) supervisor, [N, 2N) user; tlbAdd = host-physical page - virtual page (int32 wrap) ---
  // entry e = set * ways + way; set = virtual page number & setMask
  /** entries (sets x ways) */
  tlbEntries;
  tlbWays;
  /** log2(ways): a set's first entry is set << wayShift */
  wayShift;
  /** sets - 1 */
  setMask;
  /** read tags, supervisor then user (2 x entries) */
  tlbR;
  /** write tags, supervisor then user (2 x entries) */
  tlbW;
  /** views of tlbR / tlbW by privilege: what the hot paths search */
  tlbRS;
  tlbRU;
  tlbWS;
  tlbWU;
  /** per entry: host-physical page - virtual page (int32 wrap), so pa = va + tlbAdd[e] */
  tlbAdd;
  /** per set, the way the next fill replaces (round robin, advanced by fills only) */
  tlbNext;
  /**
   * The entries fills have taken since the last flush, in order (`filledCount` of them; more
   * than the TLB holds: `filledCount` > tlbEntries, every entry may hold a tag). A flush clears
   * just these when they are few: a VM exit and entry flush an untagged TLB each time, and the
   * guest refills a handful of entries in between (host time only; the TLB's contents after a
   * flush are the same either way).
   */
  filled;
  filledCount = 0;
  /** instruction TLB: virtual page (or INVALID), its add, and the privilege it was filled at */
  icV = NO_TAG;
  icA = 0;
  icUser = false;
  /** the tag whose entries the lookup arrays hold (0: root mode's, or a guest's without VPID) */
  tlbVpid = 0;
  /** per entry: the tag (VPID) it was filled under; 0 while VPID is never used */
  tlbOwner;
  /** the read and write tags of entries hidden because they belong to another tag than tlbVpid (INVALID elsewhere) */
  tlbHidR;
  tlbHidW;
  /** some entry is (or may be) hidden: a flush then keeps the round-robin victims (the other tags' entries stay in their ways) */
  hiddenAny = false;
  /** writable bit of the last second-stage translation */
  eptWritable = true;
  /**
   * Log-dirty write protection (hypervisor/core/log-dirty.ts), per machine frame: 1 = a store to
   * the frame must fault to the hypervisor first. A TLB fill never makes a protected frame's page
   * writable; the first write walk to it calls onLogDirtyFault (the hypervisor marks the frame
   * dirty in mem.dirtyLog and charges the fault) and unprotects it, so later stores run at full
   * speed until the hypervisor cleans the log (protects the frame again, dropWriteTags()).
   * null: log-dirty is off on this machine (the bare machine: always).
   */
  logDirtyProtect = null;
  /** the hypervisor's handler of a log-dirty write fault on machine frame `frame` (charges its cost) */
  onLogDirtyFault = null;
  // ========================================================================== flushes and tags
  /**
   * The TLB's entries with the machine frames they translate to (-1: an empty way), for a domain
   * moved to another machine (hypervisor/save/pv-domain.ts): its frames are renamed there and the
   * entries laid in again by loadTlb, so the moved vCPU misses exactly where it would have.
   */
  tlbSnapshot() {
    const n = this.tlbEntries;
    const frames = new Int32Array(n);
    for (let s = 0; s < n; s++) frames[s] = this.tlbR[s] === NO_TAG ? -1 : this.tlbR[s] + this.tlbAdd[s] >>> 12;
    return { r: this.tlbR.slice(), w: this.tlbW.slice(), frames, next: this.tlbNext.slice() };
  }
  /** Lay a snapshot's entries into the TLB (same geometry), each entry's frame as `frames` says; the instruction TLB starts empty. */
  loadTlb(t) {
    const n = this.tlbEntries;
    if (t.r.length !== 2 * n || t.frames.length !== n || t.next.length !== this.tlbNext.length) throw new RangeError("loadTlb: another TLB geometry");
    this.tlbR.set(t.r);
    this.tlbW.set(t.w);
    this.tlbNext.set(t.next);
    this.filledCount = n + 1;
    this.tlbOwner.fill(0);
    this.tlbHidR.fill(NO_TAG);
    this.tlbHidW.fill(NO_TAG);
    this.hiddenAny = false;
    this.tlbVpid = 0;
    for (let s = 0; s < n; s++) {
      if (t.frames[s] < 0) {
        this.tlbR[s] = this.tlbR[n + s] = this.tlbW[s] = this.tlbW[n + s] = NO_TAG;
        this.tlbAdd[s] = 0;
      } else this.tlbAdd[s] = t.frames[s] * 4096 - this.tlbR[s] | 0;
    }
    this.icV = NO_TAG;
  }
  /**
   * Drop every TLB entry of the current tag and the instruction TLB (a CR3 or CR0 write, a
   * monitor's flush on the guest's behalf: INVVPID's single-context flush). Other tags' entries
   * stay; without VPID every entry is the current tag's.
   */
  flushTlb() {
    const count = this.filledCount;
    const keepNext = this.hiddenAny;
    if (count > SPARSE_FLUSH_MAX) {
      this.tlbR.fill(NO_TAG);
      this.tlbW.fill(NO_TAG);
      if (!keepNext) this.tlbNext.fill(0);
    } else if (count > 0) {
      const n = this.tlbEntries;
      const r = this.tlbR;
      const w = this.tlbW;
      const next = this.tlbNext;
      const filled = this.filled;
      const shift = this.wayShift;
      for (let k = 0; k < count; k++) {
        const e = filled[k];
        r[e] = NO_TAG;
        r[n + e] = NO_TAG;
        w[e] = NO_TAG;
        w[n + e] = NO_TAG;
        if (!keepNext) next[e >>> shift] = 0;
      }
    }
    this.filledCount = 0;
    this.icV = NO_TAG;
    this.host.stats.tlbFlushes++;
  }
  /** Drop every entry of every tag (a CPU reset, a restored state). */
  flushAllTags() {
    if (this.hiddenAny) {
      this.tlbHidR.fill(NO_TAG);
      this.tlbHidW.fill(NO_TAG);
      this.hiddenAny = false;
    }
    this.tlbOwner.fill(0);
    this.tlbVpid = 0;
    this.flushTlb();
  }
  /**
   * The TLB at a world switch (another vCPU's state loaded): root mode's and untagged entries
   * are flushed, as the CR3 load of the switch does; a tagged guest's stay, hidden under its tag.
   */
  worldSwitchTlb() {
    this.setTag(0);
    this.flushTlb();
  }
  /**
   * Make `tag` the current one: the current tag's entries are hidden, `tag`'s come back. One pass
   * over the entries, only when the tag changes (a VPID CPU's VM entry of another guest, a world
   * switch, root mode's first fill after a tagged guest's exit).
   */
  setTag(tag) {
    const old = this.tlbVpid;
    if (tag === old) return;
    const n = this.tlbEntries;
    const own = this.tlbOwner;
    const r = this.tlbR;
    const w = this.tlbW;
    const hr = this.tlbHidR;
    const hw = this.tlbHidW;
    for (let e = 0; e < n; e++) {
      const o = own[e];
      if (o === old) {
        if (r[e] !== NO_TAG || r[n + e] !== NO_TAG) {
          hr[e] = r[e];
          hr[n + e] = r[n + e];
          hw[e] = w[e];
          hw[n + e] = w[n + e];
          r[e] = r[n + e] = w[e] = w[n + e] = NO_TAG;
          this.hiddenAny = true;
        }
      } else if (o === tag) {
        r[e] = hr[e];
        r[n + e] = hr[n + e];
        w[e] = hw[e];
        w[n + e] = hw[n + e];
        hr[e] = hr[n + e] = hw[e] = hw[n + e] = NO_TAG;
      }
    }
    this.tlbVpid = tag;
    this.icV = NO_TAG;
    this.filledCount = n + 1;
  }
  /** Drop the TLB's write permissions (read entries stay), every tag's: stores walk again (log-dirty's clean). */
  dropWriteTags() {
    this.tlbW.fill(NO_TAG);
    if (this.hiddenAny) this.tlbHidW.fill(NO_TAG);
  }
  /** Drop the TLB entry for the page holding va (and the instruction TLB if it holds that page). */
  invlpg(va) {
    const page = va & PAGE;
    const e = find(this.tlbRS, (va >>> 12 & this.setMask) << this.wayShift, this.tlbWays, page);
    if (e >= 0) {
      const n = this.tlbEntries;
      this.tlbR[e] = NO_TAG;
      this.tlbR[n + e] = NO_TAG;
      this.tlbW[e] = NO_TAG;
      this.tlbW[n + e] = NO_TAG;
    }
    if (this.icV === page) this.icV = NO_TAG;
    this.host.stats.invlpgs++;
  }
  /**
   * The TLB at a VM entry of a guest tagged `vpid` (0: untagged): a tagged guest finds the
   * translations it left (a VPID CPU), whatever ran in between; an untagged one starts from an
   * empty TLB.
   */
  vmEntryTlb(vpid) {
    this.setTag(vpid);
    if (vpid === 0) this.flushTlb();
    else this.icV = NO_TAG;
  }
  /**
   * The TLB at a VM exit: flushed, unless its entries are a tagged guest's (then they stay for
   * the guest's next entry, and the first root-mode fill hides them: see walk()). A monitor that
   * takes the CPU back itself (an exit it makes) calls this as the CPU's own exits do.
   */
  vmExitTlb() {
    if (this.tlbVpid === 0) this.flushTlb();
    else this.icV = NO_TAG;
  }
  // =============================================================================== translation
  /** Translate through the TLB, walking on a miss. Host-physical address, or -1 (the host told). */
  xlate(va, acc, user) {
    const tags = acc === WRITE ? user ? this.tlbWU : this.tlbWS : user ? this.tlbRU : this.tlbRS;
    const e = find(tags, (va >>> 12 & this.setMask) << this.wayShift, this.tlbWays, va & PAGE);
    if (e >= 0) return va + this.tlbAdd[e] | 0;
    return this.walk(va, acc, user, true);
  }
  /**
   * Translate an aligned pc for an instruction fetch (xlate), and load the instruction TLB with
   * its page when the TLB holds it (a page outside memory is never in the TLB). Host-physical
   * address, or -1 (the host told).
   */
  xlateFetch(pc, user) {
    const pa = this.xlate(pc, FETCH, user);
    if (pa < 0) return -1;
    const e = find(user ? this.tlbRU : this.tlbRS, (pc >>> 12 & this.setMask) << this.wayShift, this.tlbWays, pc & PAGE);
    if (e >= 0) {
      this.icV = pc & PAGE;
      this.icA = this.tlbAdd[e];
      this.icUser = user;
      this.mem.codePage[pa >>> 12] = 1;
    }
    return pa;
  }
  /**
   * Translate a virtual address as the current mode would (guest paging, then the second stage
   * in non-root mode), looking only: no fault, no A/D update, no TLB fill, no cycles. The page
   * tables are read as they are now (the TLB is not consulted). Host-physical address, or -1.
   */
  translate(va, write = false, user = false) {
    const pa = this.walk(va | 0, write ? WRITE : READ, user, false);
    return pa >= 0 && pa < 4294967296 ? pa : -1;
  }
  /**
   * The page walk. commit: charge it, set A/D, fill the TLB, report faults to the host; without
   * commit it only looks (translate). Returns the host-physical address or -1.
   */
  walk(va, acc, user, commit) {
    const host2 = this.host;
    const write = acc === WRITE;
    const mem32 = this.mem.i32;
    const size = this.mem.size;
    const cr0 = host2.cr0;
    const nonRoot = host2.nonRoot;
    let gpa;
    let perm = PTE_W | PTE_U;
    let dirty = true;
    if (commit) {
      host2.stats.tlbMisses++;
      if (this.tlbVpid !== 0 && !nonRoot) this.setTag(0);
    }
    if ((cr0 & PG) === 0) {
      gpa = va >>> 0;
    } else {
      const pdeGpa = ((host2.cr3 & PAGE) >>> 0) + (va >>> 22) * 4;
      if (commit) host2.charge(EV_TLB_WALK, 1);
      const pdeHpa = nonRoot ? this.ept(pdeGpa, READ, va, false, commit) : pdeGpa;
      if (pdeHpa < 0) return -1;
      const pdeEptW = this.eptWritable;
      const pde = pdeHpa < size ? mem32[pdeHpa >>> 2] : -1;
      if ((pde & PTE_P) === 0) return this.pageFault(va, acc, user, false, commit);
      const pteGpa = ((pde & PAGE) >>> 0) + (va >>> 12 & 1023) * 4;
      if (commit) host2.charge(EV_TLB_WALK, 1);
      const pteHpa = nonRoot ? this.ept(pteGpa, READ, va, false, commit) : pteGpa;
      if (pteHpa < 0) return -1;
      const pteEptW = this.eptWritable;
      const pte = pteHpa < size ? mem32[pteHpa >>> 2] : -1;
      if ((pte & PTE_P) === 0) return this.pageFault(va, acc, user, false, commit);
      perm = pde & pte;
      if (user && (perm & PTE_U) === 0) return this.pageFault(va, acc, user, true, commit);
      if (write && (perm & PTE_W) === 0 && (user || (cr0 & WP) !== 0)) {
        return this.pageFault(va, acc, user, true, commit);
      }
      if (commit) {
        if ((pde & PTE_A) === 0) {
          if (!pdeEptW) return this.eptViolation(pdeGpa, WRITE, va, false, true, false);
          if (pdeHpa < size) {
            mem32[pdeHpa >>> 2] = pde | PTE_A;
            if (this.logDirtyProtect !== null) this.mem.markDirty(pdeHpa >>> 12);
            host2.tablesWritten(pdeHpa);
          }
        }
        const npte = pte | PTE_A | (write ? PTE_D : 0);
        if (npte !== pte) {
          if (!pteEptW) return this.eptViolation(pteGpa, WRITE, va, false, true, false);
          if (pteHpa < size) {
            mem32[pteHpa >>> 2] = npte;
            if (this.logDirtyProtect !== null) this.mem.markDirty(pteHpa >>> 12);
            host2.tablesWritten(pteHpa);
          }
        }
        dirty = (npte & PTE_D) !== 0;
      }
      gpa = ((pte & PAGE) >>> 0) + (va & 4095);
    }
    let hpa = gpa;
    let eptW = true;
    if (nonRoot) {
      hpa = this.ept(gpa, acc, va, true, commit);
      if (hpa < 0) return -1;
      eptW = this.eptWritable;
    }
    if (commit && hpa < size) this.fill(va, hpa, perm, dirty, eptW, write, (cr0 & WP) !== 0);
    return hpa;
  }
  /**
   * Enter a committed walk's result: the page's entry if va's set holds it (a write to a page
   * cached for reads), else the set's round-robin victim - no page is ever in two ways. A tag is
   * set only for an access that needs no page-table update (a write tag only once D is set), and
   * no write tag for a log-dirty-protected frame (a write walk to one takes the log-dirty fault).
   */
  fill(va, hpa, perm, dirty, eptW, write, wp) {
    const page = va & PAGE;
    const n = this.tlbEntries;
    const set = va >>> 12 & this.setMask;
    let s = find(this.tlbRS, set << this.wayShift, this.tlbWays, page);
    if (s < 0) {
      const way = this.tlbNext[set];
      this.tlbNext[set] = way + 1 & this.tlbWays - 1;
      s = (set << this.wayShift) + way;
      const k = this.filledCount;
      if (k < n) this.filled[k] = s;
      if (k <= n) this.filledCount = k + 1;
      if (this.tlbOwner[s] !== this.tlbVpid) {
        this.tlbOwner[s] = this.tlbVpid;
        this.tlbHidR[s] = this.tlbHidR[n + s] = this.tlbHidW[s] = this.tlbHidW[n + s] = NO_TAG;
      }
    }
    this.tlbAdd[s] = hpa - (va & 4095) - page | 0;
    this.tlbR[s] = page;
    this.tlbR[n + s] = (perm & PTE_U) !== 0 ? page : NO_TAG;
    const ld = this.logDirtyProtect;
    if (ld !== null && ld[hpa >>> 12] !== 0) {
      if (write) this.logDirtyFault(hpa >>> 12);
      else eptW = false;
    }
    this.tlbW[s] = eptW && dirty && ((perm & PTE_W) !== 0 || !wp) ? page : NO_TAG;
    this.tlbW[n + s] = eptW && dirty && (perm & (PTE_U | PTE_W)) === (PTE_U | PTE_W) ? page : NO_TAG;
  }
  /** A write walk reached protected frame f: the log-dirty fault (after every check of the walk). */
  logDirtyFault(f) {
    this.logDirtyProtect[f] = 0;
    this.mem.markDirty(f);
    this.onLogDirtyFault?.(f);
  }
  pageFault(va, acc, user, present, commit) {
    if (!commit) return -1;
    this.host.pendPageFault(
      (present ? 1 /* Present */ : 0) | (acc === WRITE ? 2 /* Write */ : 0) | (user ? 4 /* User */ : 0) | (acc === FETCH ? 16 /* Fetch */ : 0),
      va >>> 0
    );
    return -1;
  }
  // ============================================================================== second stage
  /** Second stage: guest-physical -> host-physical, or -1 (EPT violation reported when commit). */
  ept(gpa, acc, va, finalPage, commit) {
    const vm = this.host.vmcs;
    if (vm.eptRoot < 0) {
      this.eptWritable = true;
      return gpa;
    }
    const size = this.mem.size;
    const mem32 = this.mem.i32;
    if (commit) this.host.charge(EV_EPT_WALK, 2);
    const e1a = ((vm.eptRoot & PAGE) >>> 0) + (gpa >>> 22) * 4;
    const e1 = e1a < size ? mem32[e1a >>> 2] : 0;
    let e2 = 0;
    if ((e1 & PTE_P) !== 0) {
      const e2a = ((e1 & PAGE) >>> 0) + (gpa >>> 12 & 1023) * 4;
      e2 = e2a < size ? mem32[e2a >>> 2] : 0;
    }
    const present = (e1 & e2 & PTE_P) !== 0;
    const writable = present && (e1 & e2 & PTE_W) !== 0;
    if (!present || acc === WRITE && !writable) {
      return commit ? this.eptViolation(gpa, acc, va, finalPage, present, writable) : -1;
    }
    this.eptWritable = writable;
    return ((e2 & PAGE) >>> 0) + (gpa & 4095);
  }
  /** Report an EPT violation for the exit; returns -1. */
  eptViolation(gpa, acc, va, finalPage, readable, writable) {
    this.host.pendEptViolation(
      gpa >>> 0,
      va >>> 0,
      (acc === READ ? 1 /* Read */ : acc === WRITE ? 2 /* Write */ : 4 /* Fetch */) | (readable ? 8 /* Readable */ : 0) | (writable ? 16 /* Writable */ : 0) | 128 /* LinearValid */ | (finalPage ? 256 /* FinalPage */ : 0)
    );
    return -1;
  }
};

// machine/semantics.ts
var SEMANTICS = [
  ["NOP", { kind: "nop" }],
  ["MOV", { kind: "alu", expr: "$a" }],
  ["LI", { kind: "li" }],
  ["ADD", { kind: "alu", expr: "($a + $b) | 0" }],
  ["SUB", { kind: "alu", expr: "($a - $b) | 0" }],
  ["MUL", { kind: "alu", expr: "Math.imul($a, $b)" }],
  ["MULHU", { kind: "alu", expr: "mulhu($a, $b)" }],
  ["DIV", { kind: "div", b: "$b", expr: "($a / b) | 0" }],
  ["DIVU", { kind: "div", b: "$b >>> 0", expr: "(($a >>> 0) / b) | 0" }],
  ["REM", { kind: "div", b: "$b", expr: "($a % b) | 0" }],
  ["REMU", { kind: "div", b: "$b >>> 0", expr: "(($a >>> 0) % b) | 0" }],
  ["AND", { kind: "alu", expr: "$a & $b" }],
  ["OR", { kind: "alu", expr: "$a | $b" }],
  ["XOR", { kind: "alu", expr: "$a ^ $b" }],
  ["SHL", { kind: "alu", expr: "$a << $b" }],
  ["SHR", { kind: "alu", expr: "($a >>> $b) | 0" }],
  ["SAR", { kind: "alu", expr: "$a >> $b" }],
  ["NOT", { kind: "alu", expr: "~$a" }],
  ["NEG", { kind: "alu", expr: "-$a | 0" }],
  ["ADDI", { kind: "alu", expr: "($a + $i) | 0" }],
  ["MULI", { kind: "alu", expr: "Math.imul($a, $i)" }],
  ["ANDI", { kind: "alu", expr: "$a & $i" }],
  ["ORI", { kind: "alu", expr: "$a | $i" }],
  ["XORI", { kind: "alu", expr: "$a ^ $i" }],
  ["SHLI", { kind: "alu", expr: "$a << $i" }],
  ["SHRI", { kind: "alu", expr: "($a >>> $i) | 0" }],
  ["SARI", { kind: "alu", expr: "$a >> $i" }],
  ["LDW", { kind: "load", size: 4, signed: true }],
  ["LDH", { kind: "load", size: 2, signed: true }],
  ["LDHU", { kind: "load", size: 2, signed: false }],
  ["LDB", { kind: "load", size: 1, signed: true }],
  ["LDBU", { kind: "load", size: 1, signed: false }],
  ["STW", { kind: "store", size: 4 }],
  ["STH", { kind: "store", size: 2 }],
  ["STB", { kind: "store", size: 1 }],
  ["XCHG", { kind: "xchg" }],
  ["PUSH", { kind: "push" }],
  ["POP", { kind: "pop" }],
  ["CMP", { kind: "cmp", a: "$a", b: "$b" }],
  ["CMPI", { kind: "cmp", a: "$a", b: "$i" }],
  ["TEST", { kind: "cmp", a: "$a & $b", b: "0" }],
  ["SETCC", { kind: "setcc" }],
  ["JMP", { kind: "jmp" }],
  ["JCC", { kind: "jcc" }],
  ["CALL", { kind: "call" }],
  ["JMPR", { kind: "jmpr" }],
  ["CALLR", { kind: "callr" }],
  ["RET", { kind: "ret" }],
  ["PAUSE", { kind: "pause" }]
];
function subst(expr, ops) {
  return expr.replace(/\$[abi]/g, (m) => ops[m]);
}
function tagMask(size) {
  return size === 4 ? "0xfffff003" : size === 2 ? "0xfffff001" : "PAGE_MASK";
}
var TLB_MEMO_LOCALS = "let sRp = -1, sRd = 0, sWp = -1, sWd = 0, gRp = -1, gRd = 0, gWp = -1, gWd = 0, dRp = -1, dRd = 0, dWp = -1, dWd = 0;";
function condMask(cond) {
  let m = 0;
  for (let f = 0; f < 8; f++) if (condHolds(cond, f)) m |= 1 << f;
  return m;
}
function txStored(size, x, pcAfter, bound) {
  return `if (tbFrame[pa >>> 12] !== 0 && cpu.txStored(pa, ${size})) ${x.after(pcAfter, bound)}`;
}
function txTlb(t, size, refill, leave) {
  return [`${refill ? "let" : "const"} e = ${txFind(t, size)};`, txMissed(t, size, refill, leave, ""), `const pa = (va + ta[e]) | 0;`];
}
function txFind(t, size) {
  return `find(${t}, ((va >>> 12) & sm) << ws, va & ${tagMask(size)})`;
}
function txMissed(t, size, refill, leave, refilled) {
  if (!refill) return `if (e < 0) ${leave}`;
  return `if (e < 0) { if ((e = cpu.txMiss(va, ${t === "tw" ? "ACC_WRITE" : "ACC_READ"}, ${size - 1}, user, ${t})) < 0) ${leave} cyc += cpu.txDc; smc = cpu.txSmc; ${refilled}}`;
}
function txTlbMemo(t, size, refill, leave, memo2) {
  const p = `${memo2}${t === "tw" ? "W" : "R"}`;
  const miss = txMissed(t, size, refill, leave, "sRp = sWp = gRp = gWp = dRp = dWp = -1; ");
  return [`let pa = 0;`, `if ((va & ${tagMask(size)}) === ${p}p) pa = (va + ${p}d) | 0;`, `else { ${refill ? "let" : "const"} e = ${txFind(t, size)};`, miss, `${p}p = va & PAGE_MASK; ${p}d = ta[e]; pa = (va + ${p}d) | 0; }`];
}
function txMem(size, signed) {
  if (size === 4) return "m32[pa >> 2]";
  if (size === 2) return `${signed ? "s16" : "m16"}[pa >> 1]`;
  return `${signed ? "s8" : "m8"}[pa]`;
}
function transBody(s, x) {
  const ops = { $a: `r${x.ra}`, $b: `r${x.rb}`, $i: `(${x.imm})` };
  const rd = `r${x.rd}`;
  const tlb = (t, size, refill, stack = x.ra === 15) => x.tlbMemo === true ? txTlbMemo(t, size, refill, x.exit, stack ? "s" : x.constBase === true ? "g" : "d") : txTlb(t, size, refill, x.exit);
  const walked = `if (smc !== 0) ${x.after(`${x.next}`, false)}`;
  switch (s.kind) {
    case "nop":
      return [];
    case "pause":
      return [`if (cpu.nonRoot && cpu.vmcs.pauseLoopExiting) ${x.exit}`];
    case "alu":
      return [`${rd} = ${subst(s.expr, ops)};`];
    case "li":
      return [`${rd} = ${x.ext | 0};`];
    case "div":
      return ["{", `const b = ${subst(s.b, ops)};`, `if (b === 0) ${x.exit}`, `${rd} = ${subst(s.expr, ops)};`, "}"];
    case "load":
      return ["{", `const va = (${ops.$a} + ${ops.$i}) | 0;`, ...tlb("tr", s.size, true), `${rd} = ${txMem(s.size, s.signed)};`, walked, "}"];
    case "store":
      return ["{", `const va = (${ops.$a} + ${ops.$i}) | 0;`, ...tlb("tw", s.size, true), `${txMem(s.size, false)} = ${rd};`, txStored(s.size, x, `${x.next}`, false), walked, "}"];
    case "xchg":
      return ["{", `const va = ${ops.$a};`, ...tlb("tw", 4, true), "const v = m32[pa >> 2];", `m32[pa >> 2] = ${ops.$b};`, `${rd} = v;`, txStored(4, x, `${x.next}`, false), walked, "}"];
    case "push":
      return ["{", "const va = (r15 - 4) | 0;", ...tlb("tw", 4, false, true), `m32[pa >> 2] = ${ops.$a};`, "r15 = va;", txStored(4, x, `${x.next}`, false), "}"];
    case "pop":
      return ["{", "const va = r15;", ...tlb("tr", 4, false, true), "const v = m32[pa >> 2];", "r15 = (va + 4) | 0;", `${rd} = v;`, "}"];
    case "cmp":
      return [
        "{",
        `const a = ${subst(s.a, ops)};`,
        `const b = ${subst(s.b, ops)};`,
        "fl = (fl & notCond) | (a === b ? 1 : 0) | (a < b ? 2 : 0) | (a >>> 0 < b >>> 0 ? 4 : 0);",
        "}"
      ];
    case "setcc":
      return [`${rd} = (${condMask(x.ra)} >>> (fl & 7)) & 1;`];
    case "jmp":
      return [x.retire, x.go(`${x.next + x.ext | 0}`)];
    case "jcc":
      return [x.retire, `if (((${condMask(x.rd)} >>> (fl & 7)) & 1) !== 0) {`, "cyc += taken;", x.go(`${x.next + x.ext | 0}`), "}", x.go(`${x.next}`)];
    case "call": {
      const target = `${x.next + x.ext | 0}`;
      return ["{", "const va = (r15 - 4) | 0;", ...tlb("tw", 4, false, true), `m32[pa >> 2] = ${x.next};`, "r15 = va;", txStored(4, x, target, true), x.retire, x.go(target), "}"];
    }
    case "jmpr":
      return [x.retire, x.go(ops.$a)];
    case "callr":
      return ["{", "const va = (r15 - 4) | 0;", ...tlb("tw", 4, false, true), `const target = ${ops.$a};`, `m32[pa >> 2] = ${x.next};`, "r15 = va;", txStored(4, x, "target", true), x.retire, x.go("target"), "}"];
    case "ret":
      return ["{", "const va = r15;", ...tlb("tr", 4, false, true), "const target = m32[pa >> 2];", "r15 = (va + 4) | 0;", x.retire, x.go("target"), "}"];
  }
}
function endsBlock(s) {
  return s.kind === "jmp" || s.kind === "jcc" || s.kind === "call" || s.kind === "jmpr" || s.kind === "callr" || s.kind === "ret";
}

// machine/translator.ts
var DEFAULT_ENGINE = process.env.XENOLITH_ENGINE === "interpreter" ? "interpreter" : "translator";
var DEFAULT_LIMITS = {
  // a translation costs V8 a compile (and later optimizing compiles) of its function: only code
  // the dispatcher lands on this often repays it (tuned on `lmbench all` and the compute loop; 500
  // rather than 200: fewer translations of code that runs only in one phase of a workload, whose
  // compiles cost more than they saved - docs/engine.md "Fifth round")
  threshold: 500,
  // 32 rather than 16: with kept heat the later machines of a process run their translations
  // from boot on, and 16 blocks split hot loops across translations (uvmFree's loop and the
  // userPde it calls: 1.8 million dispatcher entries per `lmbench all 200` at 16, 90 thousand at
  // 32; docs/engine.md "Sixth round")
  maxBlocks: 32,
  // a process's first run pays V8 for every translation it makes (its bytecode compile, its runs
  // before V8 optimizes it, the optimizing compile), about in proportion to its size; most of a
  // first run's translations are of code left before it repays a 32-block function (docs/engine.md
  // "Eighth round")
  firstBlocks: 8,
  promoteAt: 5e3,
  maxInsns: 256,
  maxTranslations: 4096,
  maxSourceChars: 16 * 1024 * 1024,
  coldSlice: 2e3,
  warmColdSlice: 200
};
var scopedLimits = {};
var TB_TRANSLATED = 1;
var TB_HOOKED = 2;
var NOT_MAPPED = 0.5;
var TranslatorStats = class {
  /** translations made (functions created) */
  translations = 0;
  /** blocks and guest instructions translated, guest code bytes covered */
  blocks = 0;
  instructions = 0;
  guestBytes = 0;
  /** generated JavaScript, characters */
  sourceChars = 0;
  /** sources compiled with new Function (the rest reused a factory compiled before, by any translator) */
  compiles = 0;
  /** translations taken from the process's memo without generating them (the same code translated before, by any translator) */
  recalled = 0;
  /** translations dropped because their code was written */
  invalidations = 0;
  /** whole-cache flushes */
  flushes = 0;
  /** translations whose blocks span more than one page */
  multiPage = 0;
  /** of the recalled: translations taken at their first landing on this machine, hot on an earlier one (kept heat) */
  landedHot = 0;
  /** entries into translated code (dispatcher calls of a translation) */
  entries = 0;
  /** instructions the fast loop ran in cold slices (entries not translated) */
  coldInstructions = 0;
  /** straight runs compiled for binary translation's units (compileStraight; hypervisor/bt) */
  straightRuns = 0;
  /** first translations (firstBlocks) retranslated with maxBlocks after promoteAt dispatcher entries */
  promotions = 0;
};
var FACTORIES = /* @__PURE__ */ new Map();
var MAX_FACTORIES = 8192;
var MEMO = /* @__PURE__ */ new Map();
var memoSize = 0;
var MAX_MEMO = 8192;
var HEAT_SEEN = /* @__PURE__ */ new Map();
var MEMORY_IDS = /* @__PURE__ */ new WeakMap();
var memoryCount = 0;
function memoryId(mem) {
  let id = MEMORY_IDS.get(mem);
  if (id === void 0) MEMORY_IDS.set(mem, id = ++memoryCount);
  return id;
}
var HEAT_SLOTS = 1 << 16;
var PAGE_MASK2 = -4096;
var JC_SLOTS = 1 << 12;
var Translator = class {
  constructor(h, limits = {}) {
    this.h = h;
    this.limits = { ...DEFAULT_LIMITS, ...scopedLimits, ...limits };
    const objects = Object.entries(h.names).filter(([, v]) => typeof v !== "number");
    const numbers = Object.entries(h.names).filter(([, v]) => typeof v === "number");
    this.objectNames = [...objects.map(([k]) => k), "tx"];
    this.ctx = Object.fromEntries([...objects, ["tx", this]]);
    this.numberConsts = numbers.map(([k, v]) => [k, v]);
    const l = this.limits;
    this.firstBlocks = Math.max(1, Math.min(l.firstBlocks, l.maxBlocks));
    const config = JSON.stringify([this.numberConsts, this.objectNames, [...h.costs], h.takenExtra, h.mem.size, h.mmu.setMask, h.mmu.wayShift, h.mmu.tlbWays, l.maxBlocks, l.maxInsns, this.firstBlocks]);
    let memo2 = MEMO.get(config);
    if (memo2 === void 0) MEMO.set(config, memo2 = /* @__PURE__ */ new Map());
    this.memo = memo2;
    const heatKey = `${config}/${l.threshold}/${l.coldSlice}/${l.warmColdSlice}`;
    const seen = HEAT_SEEN.get(heatKey);
    const mid = memoryId(h.mem);
    this.keptHeat = l.threshold > 1 && l.warmColdSlice > 0 && seen !== void 0 && seen !== mid;
    if (seen === void 0) HEAT_SEEN.set(heatKey, mid);
    this.coldCycles = l.coldSlice;
    this.hotAt = l.threshold;
    this.hotUnder = `${l.threshold}/${l.coldSlice}`;
    const previous = h.mem.onCodeWrite;
    h.mem.onCodeWrite = (frame) => {
      previous?.(frame);
      this.invalidateFrame(frame);
    };
  }
  h;
  stats = new TranslatorStats();
  /** moves whenever translations are dropped (translated code that called out checks it to leave) */
  epoch = 0;
  limits;
  byEntry = /* @__PURE__ */ new Map();
  byFrame = /* @__PURE__ */ new Map();
  heat = new Uint16Array(HEAT_SLOTS);
  /** jump cache: entry host-physical address and virtual pc per slot, and the function (null: empty) */
  jcHpa = new Int32Array(JC_SLOTS);
  jcPc = new Int32Array(JC_SLOTS);
  jcFn = new Array(JC_SLOTS).fill(null);
  /** per slot: dispatcher entries left before its first translation is retranslated whole (a large number for a whole one) */
  jcLeft = new Int32Array(JC_SLOTS);
  /** current contents of the cache */
  live = 0;
  liveChars = 0;
  liveGuestBytes = 0;
  /** what translated functions are called with */
  ctx;
  /** the host's names whose values are objects (loaded from ctx), and numbers (literals in the source) */
  objectNames;
  numberConsts;
  /** this translator's part of MEMO */
  memo;
  /** the heat this translator's translations become hot under (memo entries made under another are not hot here) */
  hotUnder;
  /** entries whose memo translation was found stale at a landing (not looked at again by this translator) */
  stale = /* @__PURE__ */ new Set();
  /**
   * Whether this translator may take the memo's hot entries at their first landing (landHot): an
   * earlier machine of the process ran the same configuration with the same heat limits
   * (threshold > 1). See the constructor.
   */
  keptHeat;
  /** Whether it has: from its first landing on a known hot entry on, cold slices are warmColdSlice cycles. */
  warm = false;
  /** cycles of a cold slice (coldSlice, or warmColdSlice once warm) */
  coldCycles;
  /** landings an entry needs to become hot (threshold, scaled to the warm cold slice once warm) */
  hotAt;
  /** blocks in an entry's first translation: firstBlocks, or maxBlocks when no smaller (then every translation is whole) */
  firstBlocks;
  /** Translations in the cache now, and what they hold. */
  get size() {
    return { translations: this.live, sourceChars: this.liveChars, guestBytes: this.liveGuestBytes };
  }
  /**
   * The translation entered at host-physical hpa for virtual pc, or null: counts the entry's
   * heat and translates it once it is hot (null if its first instruction is not translatable).
   */
  lookup(pc, hpa, tr) {
    const j = hpa >>> 2 & JC_SLOTS - 1;
    const f = this.jcFn[j];
    if (f !== null && this.jcHpa[j] === hpa && this.jcPc[j] === pc) {
      if (--this.jcLeft[j] > 0) return f;
      return this.promote(pc, hpa, tr, j, f);
    }
    return this.lookupSlow(pc, hpa, tr, j);
  }
  /** Put the translation entered at hpa (virtual pc) in jump cache slot j. */
  install(j, pc, hpa, fn) {
    this.jcHpa[j] = hpa;
    this.jcPc[j] = pc;
    this.jcFn[j] = fn;
    this.jcLeft[j] = this.byEntry.get(hpa)?.first === true ? this.limits.promoteAt : 2147483647;
  }
  /**
   * The translation in jump cache slot j (function f) was entered its count of times: a first
   * translation is retranslated whole (maxBlocks) and the new one returned; else the count starts again.
   */
  promote(pc, hpa, tr, j, f) {
    const tb = this.byEntry.get(hpa);
    if (tb === void 0 || !tb.first || tb.fn !== f) {
      this.jcLeft[j] = 2147483647;
      return f;
    }
    const fn = this.translate(pc, hpa, tr, null, false);
    if (fn === null) return f;
    this.stats.promotions++;
    this.install(j, pc, hpa, fn);
    return fn;
  }
  lookupSlow(pc, hpa, tr, j) {
    const tb = this.byEntry.get(hpa);
    if (tb !== void 0 && tb.vpc === pc) {
      this.install(j, pc, hpa, tb.fn);
      return tb.fn;
    }
    if (this.keptHeat) {
      const fn2 = this.landHot(pc, hpa, tr);
      if (fn2 !== null) {
        this.install(j, pc, hpa, fn2);
        return fn2;
      }
    }
    const slot = hpa >>> 2 & HEAT_SLOTS - 1;
    const heat = this.heat[slot] + 1;
    if (heat < this.hotAt) {
      this.heat[slot] = heat;
      return null;
    }
    this.heat[slot] = 0;
    const fn = this.translate(pc, hpa, tr);
    if (fn !== null) this.install(j, pc, hpa, fn);
    return fn;
  }
  /**
   * The translators of the other CPUs of this one's machine (SMP). They share the tbFrame marks,
   * so a store on any CPU reaches codeWritten here, which drops the overlapped code of every peer
   * too and clears a frame's mark only when no translator holds code from it.
   */
  peers = [];
  /** A guest store of size bytes at host-physical pa hit a frame with translations: drop those it overlaps (here and in every peer). True if any here. */
  codeWritten(pa, size) {
    const hit = this.dropWritten(pa, size);
    if (this.peers.length === 0) return hit;
    const f = pa >>> 12;
    let held = this.byFrame.has(f);
    for (const p of this.peers) {
      p.dropWritten(pa, size);
      if (p.byFrame.has(f)) held = true;
    }
    this.h.tbFrame[f] = held ? this.h.tbFrame[f] | TB_TRANSLATED : this.h.tbFrame[f] & ~TB_TRANSLATED;
    return hit;
  }
  /** codeWritten for this translator alone. */
  dropWritten(pa, size) {
    const f = pa >>> 12;
    const list = this.byFrame.get(f);
    let hit = false;
    if (list !== void 0) {
      for (let k = list.length - 1; k >= 0; k--) {
        const tb = list[k];
        if (tb.dead) {
          list.splice(k, 1);
          continue;
        }
        for (const [lo, hi] of tb.ranges) {
          if (pa < hi && pa + size > lo) {
            this.drop(tb);
            list.splice(k, 1);
            hit = true;
            break;
          }
        }
      }
      if (list.length > 0) return hit;
      this.byFrame.delete(f);
    }
    this.h.tbFrame[f] &= ~TB_TRANSLATED;
    return hit;
  }
  /** Drop every translation built from frame f. */
  invalidateFrame(f) {
    const list = this.byFrame.get(f);
    if (list === void 0) return;
    for (const tb of list) if (!tb.dead) this.drop(tb);
    this.byFrame.delete(f);
    this.h.tbFrame[f] &= ~TB_TRANSLATED;
  }
  /** Drop the whole cache (tb_flush): every translation, every mark, the hotness counters. */
  flush() {
    this.byEntry.clear();
    this.byFrame.clear();
    const marks = this.h.tbFrame;
    for (let f = 0; f < marks.length; f++) marks[f] &= ~TB_TRANSLATED;
    for (const p of this.peers) for (const f of p.byFrame.keys()) marks[f] |= TB_TRANSLATED;
    this.heat.fill(0);
    this.jcFn.fill(null);
    this.epoch++;
    this.live = this.liveChars = this.liveGuestBytes = 0;
    this.stats.flushes++;
  }
  drop(tb) {
    tb.dead = true;
    this.epoch++;
    if (this.byEntry.get(tb.hpa) === tb) this.byEntry.delete(tb.hpa);
    const j = tb.hpa >>> 2 & JC_SLOTS - 1;
    if (this.jcFn[j] === tb.fn) this.jcFn[j] = null;
    this.live--;
    this.liveChars -= tb.sourceChars;
    this.liveGuestBytes -= tb.guestBytes;
    this.stats.invalidations++;
  }
  /**
   * The memo's translation of an entry that became hot on an earlier machine of the process
   * (under this translator's threshold and cold slice), installed now if its code is unchanged
   * (every word it read holds the same value) and no page it found mapped is mapped elsewhere
   * now; else null (the entry counts heat as usual). A page the TLB does not map now, or maps
   * now and did not then, changes nothing of its correctness: moving into another page's block
   * checks the TLB at run time (guard), and a missing block leaves for the dispatcher.
   */
  landHot(pc, hpa, tr) {
    const m = this.memo.get(hpa);
    if (m === void 0 || m.pc !== pc || m.hotUnder !== this.hotUnder || !m.withTlb || this.stale.has(hpa)) return null;
    const m32 = this.h.mem.i32;
    const reads = m.reads;
    let holds = true;
    for (let k = 0; k < reads.length && holds; k += 2) if (m32[reads[k]] !== reads[k + 1]) holds = false;
    const looks = m.looks;
    for (let k = 0; k < looks.length && holds; k += 2) {
      const then = looks[k + 1];
      if (then === NOT_MAPPED) continue;
      const now = this.pageDelta(tr, looks[k]);
      if (now !== NOT_MAPPED && now !== then) holds = false;
    }
    if (!holds) {
      this.stale.add(hpa);
      return null;
    }
    this.stats.landedHot++;
    if (!this.warm) {
      const l = this.limits;
      this.warm = true;
      this.coldCycles = Math.min(l.coldSlice, l.warmColdSlice);
      if (this.coldCycles > 0) this.hotAt = Math.min(65535, Math.round(l.threshold * l.coldSlice / this.coldCycles));
    }
    return this.translate(pc, hpa, tr, m);
  }
  /**
   * Translate the code entered at virtual pc (host-physical hpa); null if its first instruction
   * is not translatable. A first translation (first: at most firstBlocks blocks) unless first is
   * false or the memo holds a whole one that still holds.
   */
  translate(pc, hpa, tr = null, hot = null, first2 = true) {
    const m = hot ?? this.recall(pc | 0, hpa | 0, tr);
    const known = m !== null && (first2 || !m.first) ? m : null;
    const tiered = first2 && this.firstBlocks < this.limits.maxBlocks;
    const src = known ?? this.generate(pc | 0, hpa | 0, tr, tiered ? this.firstBlocks : this.limits.maxBlocks);
    if (src === null) return null;
    const isFirst = known !== null ? known.first : tiered && src.blocks >= this.firstBlocks && src.insns < this.limits.maxInsns;
    const l = this.limits;
    if (this.live + 1 > l.maxTranslations || this.liveChars + src.source.length > l.maxSourceChars) this.flush();
    const old = this.byEntry.get(hpa);
    if (old !== void 0) this.replaceEntry(old);
    let fn = known?.fn ?? FACTORIES.get(src.source);
    if (fn === void 0) {
      if (FACTORIES.size >= MAX_FACTORIES) FACTORIES.clear();
      fn = new Function(src.source)();
      FACTORIES.set(src.source, fn);
      this.stats.compiles++;
    }
    if (known !== null) this.stats.recalled++;
    else {
      if (memoSize >= MAX_MEMO) {
        for (const m2 of MEMO.values()) m2.clear();
        memoSize = 0;
      }
      if (!this.memo.has(hpa | 0)) memoSize++;
      this.memo.set(hpa | 0, { ...src, fn, pc: pc | 0, hotUnder: this.hotUnder, first: isFirst });
    }
    const tb = { fn, vpc: pc | 0, hpa, ranges: src.ranges, sourceChars: src.source.length, guestBytes: src.guestBytes, dead: false, first: isFirst };
    this.byEntry.set(hpa, tb);
    for (const [lo] of src.ranges) {
      const f = lo >>> 12;
      let list = this.byFrame.get(f);
      if (list === void 0) this.byFrame.set(f, list = []);
      list.push(tb);
      this.h.tbFrame[f] |= TB_TRANSLATED;
      this.h.mem.codePage[f] = 1;
    }
    if (src.ranges.length > 1) this.stats.multiPage++;
    this.live++;
    this.liveChars += src.source.length;
    this.liveGuestBytes += src.guestBytes;
    const s = this.stats;
    s.translations++;
    s.blocks += src.blocks;
    s.instructions += src.insns;
    s.guestBytes += src.guestBytes;
    s.sourceChars += src.source.length;
    return fn;
  }
  /** Remove one translation (replaced by a new one for the same entry). */
  replaceEntry(tb) {
    this.drop(tb);
    this.stats.invalidations--;
  }
  /** The memo's translation of this entry, if generate() would produce it again now (same words read, same TLB answers), else null. */
  recall(pc, hpa, tr) {
    const m = this.memo.get(hpa);
    if (m === void 0 || m.pc !== pc || m.withTlb !== (tr !== null)) return null;
    const m32 = this.h.mem.i32;
    const reads = m.reads;
    for (let k = 0; k < reads.length; k += 2) if (m32[reads[k]] !== reads[k + 1]) return null;
    if (tr !== null) {
      const looks = m.looks;
      for (let k = 0; k < looks.length; k += 2) if (this.pageDelta(tr, looks[k]) !== looks[k + 1]) return null;
    }
    return m;
  }
  /** The host-physical offset the TLB (tags tr) maps virtual page `page` with, or NOT_MAPPED (also outside memory). */
  pageDelta(tr, page) {
    const mmu = this.h.mmu;
    const e = tlbFind(tr, (page >>> 12 & mmu.setMask) << mmu.wayShift, mmu.tlbWays, page);
    if (e < 0) return NOT_MAPPED;
    const d = mmu.tlbAdd[e];
    return (page + d >>> 0) + 4096 > this.h.mem.size ? NOT_MAPPED : d;
  }
  /**
   * The JavaScript of the translation entered at pc: discover the blocks (direct branch targets,
   * the return addresses of calls, and the next page when a block runs on past its page's end,
   * each in a page the TLB maps now), then emit each block's instructions through transBody.
   * Moving to a block in another page than the current block's checks at run time that the TLB
   * still maps that page to the same frame (as the interpreter's instruction TLB would look it
   * up); indirect transfers (ret, jmpr, callr) go on inside when their target is one of the blocks.
   */
  generate(pc, hpa, tr = null, maxBlocks = this.limits.maxBlocks) {
    const h = this.h;
    const m32 = h.mem.i32;
    const entryPage = pc & PAGE_MASK2;
    const l = this.limits;
    const deltas = /* @__PURE__ */ new Map([[entryPage, hpa - pc | 0]]);
    const reads = [];
    const looks = [];
    const looked = /* @__PURE__ */ new Set();
    const read = (a) => {
      const w = m32[a >> 2];
      reads.push(a >> 2, w);
      return w;
    };
    const deltaOf = (page) => {
      const known = deltas.get(page);
      if (known !== void 0 || tr === null || looked.has(page)) return known;
      looked.add(page);
      const d = this.pageDelta(tr, page);
      looks.push(page, d);
      if (d === NOT_MAPPED) return void 0;
      deltas.set(page, d);
      return d;
    };
    const index = /* @__PURE__ */ new Map();
    const returns = /* @__PURE__ */ new Set();
    const blocks = [];
    const work = [pc];
    index.set(pc, 0);
    let total = 0;
    const add = (t) => {
      if ((t & 3) !== 0 || index.has(t) || index.size >= maxBlocks) return;
      if (deltaOf(t & PAGE_MASK2) === void 0) return;
      index.set(t, index.size);
      work.push(t);
    };
    while (work.length > 0) {
      const start = work.shift();
      const page = start & PAGE_MASK2;
      const delta = deltas.get(page);
      const insns = [];
      let at = start;
      let stop = -1;
      let fallsOn = false;
      for (; ; ) {
        if ((at & PAGE_MASK2) !== page) {
          stop = at;
          fallsOn = true;
          break;
        }
        if (total >= l.maxInsns) {
          stop = at;
          break;
        }
        const w = read(at + delta | 0);
        const op = w & 255;
        const sem = h.semByOp[op] ?? null;
        const len = h.insnBytes[op];
        if (sem === null || len === 8 && (at & 4092) === 4092) {
          stop = at;
          break;
        }
        const ext = len === 8 ? read(at + delta + 4 | 0) : 0;
        insns.push({ at, sem, w, ext, len });
        total++;
        if (endsBlock(sem)) {
          const next = at + len | 0;
          if (sem.kind === "jcc") {
            add(next + ext | 0);
            add(next);
          } else if (sem.kind === "jmp") {
            add(next + ext | 0);
          } else if (sem.kind === "call") {
            add(next + ext | 0);
            add(next);
            returns.add(next);
          } else if (sem.kind === "callr") {
            add(next);
            returns.add(next);
          }
          at = next;
          break;
        }
        at = at + len | 0;
      }
      if (start === pc && insns.length === 0) return null;
      if (fallsOn) add(stop);
      blocks.push({ start, page, delta, insns, stop, fallsOn });
    }
    const ranges = /* @__PURE__ */ new Map();
    for (const b of blocks) {
      let end = b.start;
      for (const ins of b.insns) end = ins.at + ins.len | 0;
      if (end === b.start) continue;
      const lo = b.start + b.delta | 0;
      const hi = end + b.delta | 0;
      const f = lo >>> 12;
      const r = ranges.get(f);
      if (r === void 0) ranges.set(f, [lo, hi]);
      else ranges.set(f, [Math.min(r[0], lo), Math.max(r[1], hi)]);
    }
    const guard = (from, to) => {
      if (to.page === from) return "";
      const set = (to.page >>> 12 & h.mmu.setMask) << h.mmu.wayShift;
      return `pageAt(tr, ta, ${set}, ${to.page}, ${to.delta})`;
    };
    const itlb = (to) => `ip = ${to.page}; ia = ${to.delta}; `;
    const readRegs = /* @__PURE__ */ new Set();
    const written = /* @__PURE__ */ new Set();
    const out = [];
    const costs = h.costs;
    for (let k = 0; k < blocks.length; k++) {
      const b = blocks[k];
      out.push(`case ${k}: L${k}: for (;;) { // 0x${(b.start >>> 0).toString(16)}`);
      let P = 0;
      let K2 = 0;
      const lit = /* @__PURE__ */ new Set();
      for (const ins of b.insns) {
        const w = ins.w;
        const c = costs[w & 255];
        const rd = w >>> 8 & 15;
        const ra = w >>> 12 & 15;
        const rb = w >>> 16 & 15;
        const next = ins.at + ins.len | 0;
        const charge = (cc, nn) => cc === 0 && nn === 0 ? "" : `cyc += ${cc}; n += ${nn}; `;
        const x = {
          rd,
          ra,
          rb,
          imm: w >> 16,
          ext: ins.ext,
          next,
          tlbMemo: true,
          constBase: lit.has(ra),
          exit: `{ ${charge(P, K2)}pc = ${ins.at | 0}; break out; }`,
          after: (p, bound) => `{ ${charge(P + c, K2 + 1)}pc = ${p}; ${bound ? "why = BOUND; " : ""}break out; }`,
          retire: charge(P + c, K2 + 1),
          go: (p) => {
            const leave = `if (cyc >= dl) { pc = ${p}; why = BOUND; break out; } `;
            if (/^-?\d+$/.test(p)) {
              const k2 = index.get(Number(p));
              if (k2 === void 0) return `pc = ${p}; why = BOUND; break out;`;
              if (k2 === k) return `${leave}continue L${k};`;
              const g = guard(b.page, blocks[k2]);
              return `${leave}${g === "" ? "" : `if (!${g}) { pc = ${p}; why = BOUND; break out; } ${itlb(blocks[k2])}`}b = ${k2}; continue out;`;
            }
            const arms = blocks.flatMap((t, k2) => {
              if (!returns.has(t.start) || !index.has(t.start)) return [];
              const g = guard(b.page, t);
              return [g === "" ? `case ${t.start | 0}: b = ${k2}; continue out;` : `case ${t.start | 0}: if (${g}) { ${itlb(t)}b = ${k2}; continue out; } break;`];
            });
            if (arms.length === 0) return `pc = ${p}; why = BOUND; break out;`;
            return `${leave}switch (${p}) { ${arms.join(" ")} } pc = ${p}; why = BOUND; break out;`;
          }
        };
        regsOf(ins.sem, rd, ra, rb, readRegs, written);
        for (const line of transBody(ins.sem, x)) out.push(line);
        const wrote = /* @__PURE__ */ new Set();
        regsOf(ins.sem, rd, ra, rb, /* @__PURE__ */ new Set(), wrote);
        for (const r of wrote) lit.delete(r);
        if (ins.sem.kind === "li") lit.add(rd);
        if (!endsBlock(ins.sem)) {
          P += c;
          K2 += 1;
        }
      }
      if (b.stop >= 0) {
        const k2 = b.fallsOn ? index.get(b.stop) : void 0;
        const g = k2 === void 0 ? "" : guard(b.page, blocks[k2]);
        if (k2 !== void 0) out.push(`${charge0(P, K2)}${g === "" ? "" : `if (!${g}) { pc = ${b.stop | 0}; break out; } ${itlb(blocks[k2])}`}b = ${k2}; continue out;`);
        else out.push(`${charge0(P, K2)}pc = ${b.stop | 0}; break out;`);
      }
      out.push("}");
    }
    const body = out.join("\n");
    for (const r of written) readRegs.add(r);
    const regs = [...readRegs].sort((a, b) => a - b);
    const walks = body.includes("cpu.txMiss(");
    const used = (name) => name === "cpu" || name === "R" || name === "CONT" || new RegExp(`\\b${name}\\b`).test(body);
    const objects = this.objectNames.filter(used);
    const numbers = this.numberConsts.filter(([k]) => used(k)).map(([k, v]) => `${k} = ${v}`);
    const src = [
      "'use strict';",
      `return function tb_${(pc >>> 0).toString(16)}(c, tr, tw, user, dl) {`,
      `const { ${objects.join(", ")} } = c;`,
      numbers.length > 0 ? `const ${numbers.join(", ")};` : "",
      regs.length > 0 ? `let ${regs.map((r) => `r${r} = R[${r}]`).join(", ")};` : "",
      "let fl = cpu.flags, cyc = 0, n = 0, pc = 0, why = CONT, b = 0, smc = 0;",
      /\b[sgd][RW]p\b/.test(body) ? TLB_MEMO_LOCALS : "",
      // the page memo, where the code accesses memory
      `let ip = ${entryPage}, ia = ${hpa - pc | 0};`,
      // the cost ledger: refills' walk cycles are events (refillCharged), the rest is base
      walks ? "const w0 = cpu.loopWalkCycles;" : "",
      "out: for (;;) {",
      "switch (b) {",
      body,
      "}",
      "}",
      ...writeBack(written, walks),
      "const u = cpu.mmu;",
      "u.icV = ip;",
      "u.icA = ia;",
      "return why;",
      "};"
    ].join("\n");
    let guestBytes = 0;
    for (const [lo, hi] of ranges.values()) guestBytes += hi - lo;
    return { source: src, ranges: [...ranges.values()], blocks: blocks.length, insns: total, guestBytes, reads, looks, withTlb: tr !== null };
  }
  // ------------------------------------------------------------------ hook: straight runs (bt)
  /**
   * A hook for binary translation (hypervisor/bt), which runs the ident instructions of its
   * translation units here: compile straight runs of instructions, each run a block, with no
   * dispatch and no deadline check of the translator's own. The same emitters as every
   * translation (transBody), the same TLB check and refill, the same exits; in addition each
   * instruction first checks its words against memory (a unit's own check before each
   * instruction: a mismatch leaves before it). A block ends at its first control transfer, at
   * an instruction without a definition, or after its last instruction.
   *
   * Where a block's direct control transfer goes to the first instruction of another block,
   * `link(from, to, pc)` (if given) supplies the JavaScript of that boundary: it either goes on
   * (`b = to; continue out;`) or leaves (`pc = <pc>; why = BOUND; ix = ~from; break out;`); it
   * may use the function's sixth argument, `bc`, which the caller passes (the translator never
   * looks at it). Any other control transfer leaves.
   *
   * The function, called as fn(ctx, tr, tw, user, dl, bc), returns `(block << 8) | index`: the
   * next instruction to run is `index` of `block` (nothing of it done: it left before it; index
   * = the block's length: the block ran to its end), or `~block` after the control transfer
   * that ends `block` retired (a block boundary). It sets cpu.pc, the registers, FLAGS, cycles
   * and instructions as the general path would after the same instructions. Null if the first
   * block's first instruction has no definition. Shares the process-wide memo of compiled
   * functions (so `link`'s code must not depend on the machine either). `frame` (if given)
   * declares the caller's own locals for its `link` code and the code run at every exit, after
   * the write-back (e.g. counters kept in locals written back once). Without `wordChecks` no
   * instruction checks its words: the caller has checked them all before the call, and a store
   * into a frame marked for the CPU's code-store hook (Cpu.markCodeFrame) leaves right after it
   * (Cpu.txStored), as does a refill whose walk wrote into one, so no word changes while it runs.
   */
  compileStraight(blocks, link = null, frame = null, wordChecks = true) {
    const src = this.generateStraight(blocks, link, frame, wordChecks);
    if (src === null) return null;
    let fn = FACTORIES.get(src);
    if (fn === void 0) {
      if (FACTORIES.size >= MAX_FACTORIES) FACTORIES.clear();
      fn = new Function(src)();
      FACTORIES.set(src, fn);
      this.stats.compiles++;
    }
    this.stats.straightRuns++;
    return fn;
  }
  /** The JavaScript of compileStraight. */
  generateStraight(blocks, link = null, frame = null, wordChecks = true) {
    const h = this.h;
    const costs = h.costs;
    const readRegs = /* @__PURE__ */ new Set();
    const written = /* @__PURE__ */ new Set();
    const out = [];
    const starts = /* @__PURE__ */ new Map();
    blocks.forEach((b, bi) => {
      if (b.length > 0 && bi < 8388607 && !starts.has(b[0].at | 0)) starts.set(b[0].at | 0, bi);
    });
    const charge = (cc, nn) => cc === 0 && nn === 0 ? "" : `cyc += ${cc}; n += ${nn}; `;
    for (let bi = 0; bi < blocks.length; bi++) {
      const insns = blocks[bi];
      out.push(`case ${bi}: L${bi}: for (;;) {`);
      let P = 0;
      let K2 = 0;
      let k = 0;
      let ended = false;
      for (; k < insns.length && k < 255; k++) {
        const ins = insns[k];
        const w = ins.w | 0;
        const op = w & 255;
        const sem = h.semByOp[op] ?? null;
        const len = h.insnBytes[op];
        if (sem === null || len === 8 && (ins.at & 4092) === 4092) break;
        const c = costs[op];
        const rd = w >>> 8 & 15;
        const ra = w >>> 12 & 15;
        const rb = w >>> 16 & 15;
        const next = ins.at + len | 0;
        const at = bi << 8 | k;
        const before = `{ ${charge(P, K2)}pc = ${ins.at | 0}; ix = ${at}; break out; }`;
        const x = {
          rd,
          ra,
          rb,
          imm: w >> 16,
          ext: ins.ext | 0,
          next,
          exit: before,
          after: (p, bound) => `{ ${charge(P + c, K2 + 1)}pc = ${p}; ${bound ? `why = BOUND; ix = ${~bi}; ` : `ix = ${at + 1}; `}break out; }`,
          retire: charge(P + c, K2 + 1),
          go: (p) => {
            const to = link !== null && /^-?\d+$/.test(p) ? starts.get(Number(p)) : void 0;
            if (to === void 0) return `pc = ${p}; why = BOUND; ix = ${~bi}; break out;`;
            const code = link(bi, to, p);
            return to === bi ? code.replace(`b = ${bi}; continue out;`, `continue L${bi};`) : code;
          }
        };
        const check = len === 8 ? `m32[${ins.pa >>> 2}] !== ${w} || m32[${ins.pa + 4 >>> 2}] !== ${ins.ext | 0}` : `m32[${ins.pa >>> 2}] !== ${w}`;
        out.push(`// 0x${(ins.at >>> 0).toString(16)}`);
        if (wordChecks) out.push(`if (${check}) ${before}`);
        regsOf(sem, rd, ra, rb, readRegs, written);
        for (const line of transBody(sem, x)) out.push(line);
        if (endsBlock(sem)) {
          ended = true;
          break;
        }
        P += c;
        K2 += 1;
      }
      if (bi === 0 && k === 0) return null;
      if (!ended) {
        const last = k === 0 ? null : insns[k - 1];
        const stop = last === null ? insns[0].at | 0 : last.at + h.insnBytes[last.w & 255] | 0;
        out.push(`${charge(P, K2)}pc = ${stop}; ix = ${bi << 8 | k}; break out;`);
      }
      out.push("}");
    }
    for (const r of written) readRegs.add(r);
    const regs = [...readRegs].sort((a, b) => a - b);
    const body = out.join("\n");
    const walks = body.includes("cpu.txMiss(");
    const used = (name) => name === "cpu" || name === "R" || name === "CONT" || body.includes(name);
    const objects = this.objectNames.filter(used);
    const numbers = this.numberConsts.filter(([k]) => used(k)).map(([k, v]) => `${k} = ${v}`);
    return [
      "'use strict';",
      `return function run_${(blocks[0][0].at >>> 0).toString(16)}(c, tr, tw, user, dl, bc) {`,
      `const { ${objects.join(", ")} } = c;`,
      numbers.length > 0 ? `const ${numbers.join(", ")};` : "",
      regs.length > 0 ? `let ${regs.map((r) => `r${r} = R[${r}]`).join(", ")};` : "",
      "let fl = cpu.flags, cyc = 0, n = 0, pc = 0, why = CONT, smc = 0, ix = 0, b = 0;",
      frame !== null ? `let ${frame.locals};` : "",
      walks ? "const w0 = cpu.loopWalkCycles;" : "",
      "out: for (;;) {",
      "switch (b) {",
      body,
      "}",
      "break;",
      "}",
      ...writeBack(written, walks),
      frame !== null ? frame.exit : "",
      "return ix;",
      "};"
    ].join("\n");
  }
};
function find1(t, s, g) {
  return t[s] === g ? s : -1;
}
function find2(t, s, g) {
  return t[s] === g ? s : t[s + 1] === g ? s + 1 : -1;
}
function find4(t, s, g) {
  return t[s] === g ? s : t[s + 1] === g ? s + 1 : t[s + 2] === g ? s + 2 : t[s + 3] === g ? s + 3 : -1;
}
function find8(t, s, g) {
  return t[s] === g ? s : t[s + 1] === g ? s + 1 : t[s + 2] === g ? s + 2 : t[s + 3] === g ? s + 3 : t[s + 4] === g ? s + 4 : t[s + 5] === g ? s + 5 : t[s + 6] === g ? s + 6 : t[s + 7] === g ? s + 7 : -1;
}
function tlbFinder(ways) {
  switch (ways) {
    case 1:
      return find1;
    case 2:
      return find2;
    case 4:
      return find4;
    case 8:
      return find8;
    default:
      return (t, s, g) => tlbFind(t, s, ways, g);
  }
}
function pageAt1(t, ta, set, page, delta) {
  const e = find1(t, set, page);
  return e >= 0 && ta[e] === delta;
}
function pageAt2(t, ta, set, page, delta) {
  const e = find2(t, set, page);
  return e >= 0 && ta[e] === delta;
}
function pageAt4(t, ta, set, page, delta) {
  const e = find4(t, set, page);
  return e >= 0 && ta[e] === delta;
}
function pageAt8(t, ta, set, page, delta) {
  const e = find8(t, set, page);
  return e >= 0 && ta[e] === delta;
}
function pageChecker(ways) {
  switch (ways) {
    case 1:
      return pageAt1;
    case 2:
      return pageAt2;
    case 4:
      return pageAt4;
    case 8:
      return pageAt8;
    default: {
      const find3 = tlbFinder(ways);
      return (t, ta, set, page, delta) => {
        const e = find3(t, set, page);
        return e >= 0 && ta[e] === delta;
      };
    }
  }
}
function writeBack(written, walks = true) {
  return [
    ...[...written].sort((a, b) => a - b).map((r) => `R[${r}] = r${r};`),
    "cpu.flags = fl;",
    "cpu.pc = pc >>> 0;",
    "cpu.cycles += cyc;",
    // (without a refill, walks is false and no walk cycles were charged: w0 is not read)
    walks ? "cpu.baseCycles += cyc - (cpu.loopWalkCycles - w0);" : "cpu.baseCycles += cyc;",
    "cpu.instructions += n;"
  ];
}
function charge0(cc, nn) {
  return cc === 0 && nn === 0 ? "" : `cyc += ${cc}; n += ${nn}; `;
}
function regsOf(s, rd, ra, rb, read, written) {
  switch (s.kind) {
    case "nop":
    case "pause":
    case "jmp":
    case "jcc":
      return;
    case "alu":
    case "div":
    case "cmp": {
      const text = s.kind === "alu" ? s.expr : s.kind === "div" ? `${s.b} ${s.expr}` : `${s.a} ${s.b}`;
      if (text.includes("$a")) read.add(ra);
      if (text.includes("$b")) read.add(rb);
      if (s.kind !== "cmp") written.add(rd);
      return;
    }
    case "xchg":
      read.add(ra);
      read.add(rb);
      written.add(rd);
      return;
    case "li":
    case "setcc":
      written.add(rd);
      return;
    case "load":
      read.add(ra);
      written.add(rd);
      return;
    case "store":
      read.add(ra);
      read.add(rd);
      return;
    case "push":
      read.add(ra);
      written.add(15);
      return;
    case "pop":
      written.add(15);
      written.add(rd);
      return;
    case "call":
    case "ret":
      written.add(15);
      return;
    case "jmpr":
      read.add(ra);
      return;
    case "callr":
      read.add(ra);
      written.add(15);
      return;
  }
}

// machine/cpu.ts
var ACC_READ2 = ACC_READ;
var ACC_WRITE2 = ACC_WRITE;
var ACC_FETCH2 = ACC_FETCH;
var INVALID2 = INVALID;
var PAGE_MASK3 = PAGE_MASK;
var tlbFind2 = tlbFind;
var EV_TLB_WALK2 = Ev.TlbWalk;
var EV_EPT_WALK2 = Ev.EptWalk;
var EV_TRAP_DELIVERY = Ev.TrapDelivery;
var EV_INT_DELIVERY = Ev.IntDelivery;
var EV_INTERCEPT_RETURN = Ev.InterceptReturn;
var EV_CR_FLUSH = Ev.CrFlush;
var EV_HYPERCALL_ENTRY = Ev.HypercallEntry;
var EV_HYPERCALL_EXIT = Ev.HypercallExit;
var EV_VM_ENTRY = Ev.VmEntry;
var EV_VM_EXIT = Ev.VmExit;
var EXIT_PAUSE = 40 /* Pause */;
var CONT = STEP_CONT;
var BOUND = STEP_BOUND;
var PEND_NONE = 0;
var PEND_FAULT = 1;
var PEND_EXIT = 2;
var DELIVERED = 0;
var DELIVERY_FAULT = 1;
var DELIVERY_EXIT = 2;
var SP = REG_SP;
var F_IF = 512 /* IF */;
var F_IOPL = 12288 /* IOPL_MASK */;
var IOPL_SHIFT = 12 /* IOPL_SHIFT */;
var V_DE = 0 /* DivideError */;
var V_BP = 3 /* Breakpoint */;
var V_UD = 6 /* InvalidOpcode */;
var V_DF = 8 /* DoubleFault */;
var V_GP = 13 /* GeneralProtection */;
var V_PF = 14 /* PageFault */;
var INSN_LEN = INSN_BYTES;
var DECODE = (() => {
  const pairs = [
    [1 /* NOP */, 1 /* NOP */],
    [2 /* MOV */, 2 /* MOV */],
    [3 /* LI */, 3 /* LI */],
    [16 /* ADD */, 4 /* ADD */],
    [17 /* SUB */, 5 /* SUB */],
    [18 /* MUL */, 6 /* MUL */],
    [19 /* MULHU */, 7 /* MULHU */],
    [20 /* DIV */, 8 /* DIV */],
    [21 /* DIVU */, 9 /* DIVU */],
    [22 /* REM */, 10 /* REM */],
    [23 /* REMU */, 11 /* REMU */],
    [24 /* AND */, 12 /* AND */],
    [25 /* OR */, 13 /* OR */],
    [26 /* XOR */, 14 /* XOR */],
    [27 /* SHL */, 15 /* SHL */],
    [28 /* SHR */, 16 /* SHR */],
    [29 /* SAR */, 17 /* SAR */],
    [30 /* NOT */, 18 /* NOT */],
    [31 /* NEG */, 19 /* NEG */],
    [32 /* ADDI */, 20 /* ADDI */],
    [33 /* MULI */, 21 /* MULI */],
    [34 /* ANDI */, 22 /* ANDI */],
    [35 /* ORI */, 23 /* ORI */],
    [36 /* XORI */, 24 /* XORI */],
    [37 /* SHLI */, 25 /* SHLI */],
    [38 /* SHRI */, 26 /* SHRI */],
    [39 /* SARI */, 27 /* SARI */],
    [48 /* LDW */, 28 /* LDW */],
    [49 /* LDH */, 29 /* LDH */],
    [50 /* LDHU */, 30 /* LDHU */],
    [51 /* LDB */, 31 /* LDB */],
    [52 /* LDBU */, 32 /* LDBU */],
    [56 /* STW */, 33 /* STW */],
    [57 /* STH */, 34 /* STH */],
    [58 /* STB */, 35 /* STB */],
    [59 /* XCHG */, 36 /* XCHG */],
    [60 /* PUSH */, 37 /* PUSH */],
    [61 /* POP */, 38 /* POP */],
    [64 /* CMP */, 39 /* CMP */],
    [65 /* CMPI */, 40 /* CMPI */],
    [66 /* TEST */, 41 /* TEST */],
    [67 /* SETCC */, 42 /* SETCC */],
    [72 /* JMP */, 43 /* JMP */],
    [73 /* JCC */, 44 /* JCC */],
    [74 /* CALL */, 45 /* CALL */],
    [75 /* JMPR */, 46 /* JMPR */],
    [76 /* CALLR */, 47 /* CALLR */],
    [77 /* RET */, 48 /* RET */],
    [80 /* INT */, 50 /* INT */],
    [81 /* BRK */, 51 /* BRK */],
    [82 /* RDTSC */, 52 /* RDTSC */],
    [83 /* CPUID */, 53 /* CPUID */],
    [96 /* HLT */, 54 /* HLT */],
    [97 /* CLI */, 55 /* CLI */],
    [98 /* STI */, 56 /* STI */],
    [99 /* IN */, 57 /* IN */],
    [100 /* INB */, 58 /* INB */],
    [101 /* OUT */, 59 /* OUT */],
    [102 /* OUTB */, 60 /* OUTB */],
    [103 /* INR */, 61 /* INR */],
    [104 /* OUTR */, 62 /* OUTR */],
    [105 /* MOVTOCR */, 63 /* MOVTOCR */],
    [106 /* MOVFROMCR */, 64 /* MOVFROMCR */],
    [107 /* LIDT */, 65 /* LIDT */],
    [108 /* INVLPG */, 66 /* INVLPG */],
    [109 /* LKSP */, 67 /* LKSP */],
    [110 /* IRET */, 68 /* IRET */],
    [112 /* PUSHF */, 69 /* PUSHF */],
    [113 /* POPF */, 70 /* POPF */],
    [114 /* RDCPL */, 71 /* RDCPL */],
    [115 /* SIDT */, 72 /* SIDT */],
    [127 /* HYPERCALL */, 73 /* HYPERCALL */],
    [84 /* PAUSE */, 49 /* PAUSE */]
  ];
  const t = new Uint8Array(256);
  for (const [op, h] of pairs) t[op] = h;
  for (const info of INSTRUCTIONS) {
    if (t[info.op] === 0 /* UD */) throw new Error(`machine/cpu.ts: no handler for opcode 0x${info.op.toString(16)} (${info.mnemonic})`);
  }
  return t;
})();
var COND_TABLE = (() => {
  const t = new Uint8Array(16 * 8);
  for (let c = 0; c < 16; c++) for (let f = 0; f < 8; f++) t[c << 3 | f] = condHolds(c, f) ? 1 : 0;
  return t;
})();
var SEMANTICS_HANDLERS = [
  // @generated semantics-handlers begin (machine/semantics.ts, npm run gen:interp)
  1 /* NOP */,
  2 /* MOV */,
  3 /* LI */,
  4 /* ADD */,
  5 /* SUB */,
  6 /* MUL */,
  7 /* MULHU */,
  8 /* DIV */,
  9 /* DIVU */,
  10 /* REM */,
  11 /* REMU */,
  12 /* AND */,
  13 /* OR */,
  14 /* XOR */,
  15 /* SHL */,
  16 /* SHR */,
  17 /* SAR */,
  18 /* NOT */,
  19 /* NEG */,
  20 /* ADDI */,
  21 /* MULI */,
  22 /* ANDI */,
  23 /* ORI */,
  24 /* XORI */,
  25 /* SHLI */,
  26 /* SHRI */,
  27 /* SARI */,
  28 /* LDW */,
  29 /* LDH */,
  30 /* LDHU */,
  31 /* LDB */,
  32 /* LDBU */,
  33 /* STW */,
  34 /* STH */,
  35 /* STB */,
  36 /* XCHG */,
  37 /* PUSH */,
  38 /* POP */,
  39 /* CMP */,
  40 /* CMPI */,
  41 /* TEST */,
  42 /* SETCC */,
  43 /* JMP */,
  44 /* JCC */,
  45 /* CALL */,
  46 /* JMPR */,
  47 /* CALLR */,
  48 /* RET */,
  49 /* PAUSE */
  // @generated semantics-handlers end
];
var SEMANTICS_BY_OP = (() => {
  const byHandler = /* @__PURE__ */ new Map();
  SEMANTICS_HANDLERS.forEach((h, k) => byHandler.set(h, SEMANTICS[k][1]));
  return Array.from({ length: 256 }, (_, op) => byHandler.get(DECODE[op]) ?? null);
})();
function mulhu(a, b) {
  const a0 = a & 65535, a1 = a >>> 16, b0 = b & 65535, b1 = b >>> 16;
  const lo = a0 * b0, m1 = a1 * b0, m2 = a0 * b1;
  const carry = (lo >>> 16) + (m1 & 65535) + (m2 & 65535) >>> 16;
  return a1 * b1 + (m1 >>> 16) + (m2 >>> 16) + carry | 0;
}
var DL_MAX = 1 << 30;
var CpuStats = class {
  /** TLB misses that walked (or identity-filled) a translation */
  tlbMisses = 0;
  tlbFlushes = 0;
  invlpgs = 0;
  /** events delivered through the IDT, by vector */
  delivered = new Float64Array(256);
  /** external interrupts acknowledged and delivered */
  interrupts = 0;
  /** root-mode intercepts (Exception and ExternalInterrupt exits) */
  intercepts = 0;
  hypercalls = 0;
  vmExits = 0;
  vmEntries = 0;
  portReads = 0;
  portWrites = 0;
  doubleFaults = 0;
  tripleFaults = 0;
};
var Cpu = class {
  constructor(mem, bus, pic, profile, tbFrame) {
    this.mem = mem;
    this.bus = bus;
    this.pic = pic;
    this.profile = profile;
    this.costs = opcodeCosts(profile);
    this.evUnit = ledgerUnits(profile, VMCS_READS_PER_EXIT);
    this.takenExtra = profile.branchTaken - profile.branch;
    this.tbFrame = tbFrame ?? new Uint8Array(mem.frames);
    this.mmu = new Mmu(this, mem, profile);
    this.cycles = this.baseCycles = this.instructions = this.deadline = 0.5;
    this.refillTlbRefs = this.refillEptRefs = this.loopWalkCycles = this.txDc = 0.5;
    this.cycles = this.baseCycles = this.instructions = this.deadline = 0;
    this.refillTlbRefs = this.refillEptRefs = this.loopWalkCycles = this.txDc = 0;
  }
  mem;
  bus;
  pic;
  // --- architectural state ---
  /** r0..r15 (signed view; r15 is sp) */
  regs = new Int32Array(NUM_REGS);
  /** address of the next instruction (unsigned) */
  pc = 0;
  flags = 0;
  cpl = 0;
  cr0 = 0;
  cr2 = 0;
  /** physical (guest-physical in non-root mode) address of the page directory */
  cr3 = 0;
  cr4 = 0;
  /** IDT virtual base (unsigned) and entry count */
  idtBase = 0;
  idtLimit = 0;
  /** kernel stack pointers of rings 0..2 (the TSS role) */
  ksp = new Int32Array(3);
  /** the time-stamp counter: simulated cycles, an integer-valued double */
  cycles = 0;
  /** instructions retired */
  instructions = 0;
  /**
   * The cost ledger (machine/ledger.ts): cycles = baseCycles + sum over kinds k of
   * evCount[k] x evUnit[k], exactly. baseCycles are the instructions' own costs (costs[op] and
   * a taken branch's extra); every other charge is a counted event, made through charge().
   */
  baseCycles = 0;
  evCount = new Float64Array(EV_KINDS);
  /** cycles per event of each kind: the profile's, and the hypervisor's software paths (set by its mode) */
  evUnit;
  /**
   * added to the cycle counter by RDTSC outside non-root mode (where the VMCS's offset applies):
   * a restored pv domain's time goes on from where it was saved (hypervisor/pv/time.ts)
   */
  tscOffset = 0;
  /** called at each RDTSC at CPL 3, before it reads the counter (the comparison's per-benchmark breakdown) */
  onUserRdtsc = null;
  /** called at each RDTSC at CPL 0..2, before it reads the counter (the nanobenchmarks' breakdown: timed inside the kernel) */
  onKernelRdtsc = null;
  /** in HLT, waiting for an interrupt */
  halted = false;
  // --- instruction-count hook (harnesses: differential fuzzing) ---
  /**
   * At the first block boundary an instruction reaches once `instructions >= instructionHookAt`,
   * run() disarms the hook (sets this to Infinity) and calls `instructionHook`, before it looks
   * at interrupts: an interrupt the hook raises is taken at that very boundary. So a harness acts
   * at the same guest instruction whatever the engine or virtualization mode. While armed, run()
   * uses the general path alone (one boundary check per block, no fast-path change). A monitor
   * that completes a boundary instruction itself (an emulated STI, IRET or OUT, a reflected
   * exception) or steps instructions outside run() calls instructionBoundary() there.
   */
  instructionHookAt = Infinity;
  instructionHook = null;
  // --- monitor stops (exact breakpoints and single steps; daemon/host.ts) ---
  /**
   * While `monitorStop` is set, run() uses the general path alone and, before each instruction
   * (not only at block boundaries), returns Exit.Stopped with `monitorStopped` set if
   * `instructions >= stopAtInstruction`, or if `instructions >= breakArmedAt` and the pc is one
   * of `breakPcs`. Nothing of the instruction has happened then, so the state is exact and run()
   * can be called again: `breakArmedAt = instructions + 1` leaves a breakpoint without stopping
   * at it again, `stopAtInstruction = instructions + 1` runs exactly one instruction. Unset (the
   * default), the cost is one boolean test per general-path instruction and none on the fast path.
   */
  monitorStop = false;
  /** set when run() returned Exit.Stopped for a monitor stop (the caller clears it) */
  monitorStopped = false;
  stopAtInstruction = Infinity;
  breakArmedAt = 0;
  breakPcs = null;
  // --- root-mode hooks for a hypervisor (ring 0 belongs to it) ---
  /** vector v set: an exception, INT n or BRK of that vector exits with Exit.Exception instead of IDT delivery; an external interrupt of that vector exits with Exit.ExternalInterrupt */
  interceptVector = new Uint8Array(256);
  /** every deliverable external interrupt exits with Exit.ExternalInterrupt, unacknowledged */
  interceptExternalInterrupts = false;
  /** HYPERCALL exits with Exit.Hypercall (else it is #UD) */
  hypercallExits = false;
  // --- non-root mode ---
  nonRoot = false;
  vmcs = null;
  // --- exit information (valid after run() returns the matching Exit) ---
  /** Exception / ExternalInterrupt: the vector */
  exitVector = 0;
  /** Exception: the error code */
  exitError = 0;
  /** Exception / ExternalInterrupt: how the event arose (saved pc follows from it) */
  exitKind = 0 /* Fault */;
  /** Io: port, size in bytes, direction, the value written (OUT), the destination register (IN) */
  exitPort = 0;
  exitSize = 0;
  exitIsWrite = false;
  exitData = 0;
  exitReg = 0;
  /** CrAccess, EptViolation, Invlpg, Exception(#PF in non-root: the address) */
  exitQualification = 0;
  exitGuestPhys = 0;
  exitGuestLinear = 0;
  /** the instruction that exited (instruction exits leave pc past it) */
  exitInsnPc = 0;
  exitInsnLength = 0;
  /** an event whose delivery the exit interrupted, or -1 (re-inject it) */
  exitIdtVectoring = -1;
  exitIdtVectoringError = 0;
  exitIdtVectoringKind = 3 /* External */;
  /** false: run only the general-path engine (for equivalence tests) */
  fastPath = true;
  /**
   * The engine run() uses besides the general path: the interpreter's fast loop, or translated
   * code (machine/translator.ts) for hot code and the fast loop for the rest. Same cycles,
   * instructions, traps and interrupt points either way.
   */
  engine = DEFAULT_ENGINE;
  /** limits for the translator, read when it is created (first run under the translator; see also withTranslatorLimits) */
  translatorLimits = {};
  /**
   * per physical frame: nonzero while code some engine built from it exists (every store checks
   * it): bit TB_TRANSLATED the translator's (it sets and clears it), bit TB_HOOKED a code-store
   * hook's (markCodeFrame: binary translation's units; never cleared)
   */
  tbFrame;
  tx = null;
  stats = new CpuStats();
  profile;
  /** per-opcode base cost (machine/costs.ts) */
  costs;
  takenExtra;
  /** this CPU's MMU: paging, the TLB and instruction TLB, the second stage, log-dirty protection */
  mmu;
  /** the current run()'s deadline (see shortenDeadline) */
  deadline = 0;
  /** nonzero: something must be looked at at the next boundary */
  attn = 0;
  /** the interrupt controller may have a deliverable line */
  irqLine = true;
  stopReq = false;
  injectPending = false;
  /** a slow-path access failed: a fault to raise or a VM exit to take */
  pend = PEND_NONE;
  pendVector = 0;
  pendError = 0;
  pendAddr = 0;
  /** the last refill()'s walk references, entered in the ledger by refillCharged() */
  refillTlbRefs = 0;
  refillEptRefs = 0;
  /** walk cycles the current runFast() added to its count, and those its boundary probe charged (not base cycles) */
  loopWalkCycles = 0;
  /** deliverTrap() for a host that builds the frame in software: the delivery is not charged */
  unchargedDelivery = false;
  /** the CPUs of this CPU's machine, itself included (SMP; empty on a uniprocessor) */
  smpPeers = [];
  /**
   * Called with (host-physical address, size) on every CPU store into a frame marked for it
   * (markCodeFrame): the fast loop's, step()'s, translated code's and the walk's accessed/dirty
   * writes. Returning true makes the fast loop leave after a plain store (STW/STH/STB, XCHG, PUSH),
   * the store done: binary translation's unit loop checks the unit's words again before going on.
   * (Translated code leaves after every store into such a frame: txStored.)
   */
  codeStoreHook = null;
  /** The translation cache, once the translator engine has run (stats, flush). */
  get translator() {
    return this.tx;
  }
  /** The translator, created now if it was not yet (binary translation compiles its units' instructions with it: hypervisor/bt). */
  useTranslator() {
    return this.tx ?? (this.tx = this.makeTranslator());
  }
  makeTranslator() {
    const tx = this.newTranslator();
    for (const p of this.smpPeers) {
      if (p === this || p.tx === null) continue;
      tx.peers.push(p.tx);
      p.tx.peers.push(tx);
    }
    return tx;
  }
  newTranslator() {
    const mmu = this.mmu;
    return new Translator(
      {
        cpu: this,
        regs: this.regs,
        mem: this.mem,
        mmu,
        costs: this.costs,
        takenExtra: this.takenExtra,
        semByOp: SEMANTICS_BY_OP,
        insnBytes: INSN_BYTES,
        tbFrame: this.tbFrame,
        names: {
          cpu: this,
          R: this.regs,
          m32: this.mem.i32,
          m16: this.mem.u16,
          s16: this.mem.i16,
          m8: this.mem.u8,
          s8: this.mem.i8,
          ta: mmu.tlbAdd,
          tbFrame: this.tbFrame,
          tlbFind: tlbFind2,
          find: tlbFinder(mmu.tlbWays),
          pageAt: pageChecker(mmu.tlbWays),
          mulhu,
          sm: mmu.setMask,
          ws: mmu.wayShift,
          ways: mmu.tlbWays,
          taken: this.takenExtra,
          notCond: ~FLAGS_COND,
          CONT,
          BOUND,
          ACC_READ: ACC_READ2,
          ACC_WRITE: ACC_WRITE2,
          PAGE_MASK: PAGE_MASK3
        }
      },
      this.translatorLimits
    );
  }
  // ===================================================================================== run loop
  /**
   * Run until cycles >= deadline (checked at block boundaries) or something needs the caller:
   * returns the Exit. Deterministic: the same state and inputs give the same result and cycles.
   */
  run(deadline) {
    if (this.nonRoot && !this.vmcs) throw new Error("Cpu.run: non-root mode without a VMCS");
    this.deadline = deadline;
    this.updateAttn();
    let boundary = true;
    let entry = true;
    for (; ; ) {
      if (boundary) {
        if (!entry && this.instructions >= this.instructionHookAt) this.instructionBoundary();
        entry = false;
        if (this.attn !== 0) {
          const x = this.serviceEvents();
          if (x >= 0) return x;
        }
        if (this.halted) return 257 /* Halted */;
        if (this.cycles >= this.deadline) return 256 /* Deadline */;
        boundary = false;
      }
      if (this.fastPath && this.instructionHookAt === Infinity && !this.monitorStop && (this.engine === "translator" ? this.runTranslated() : this.runFast(this.deadline, null)) === BOUND) {
        boundary = true;
        continue;
      }
      if (this.monitorStop && this.monitorStopDue()) {
        this.monitorStopped = true;
        return 258 /* Stopped */;
      }
      const res = this.step();
      if (res >= 0) return res;
      boundary = res === BOUND;
    }
  }
  /**
   * The fast loop from pc to its first block boundary: BOUND once a control transfer retired,
   * CONT before the first instruction it leaves to step() (nothing of that one done). Binary
   * translation's unit loop (hypervisor/bt) runs a unit's straight run of innocuous instructions
   * with it; the caller checks what run() checks first (fastPath, no instruction hook, no monitor
   * stop). With a probe, at each block boundary the probe decides whether the loop goes on
   * (BoundaryProbe): binary translation enters its next translation unit there.
   */
  runToBoundary(probe = null) {
    return this.runFast(0, probe);
  }
  /** Does a monitor stop come before the next instruction? (see monitorStop) */
  monitorStopDue() {
    if (this.instructions >= this.stopAtInstruction) return true;
    const bp = this.breakPcs;
    return bp !== null && this.instructions >= this.breakArmedAt && bp.has(this.pc >>> 0);
  }
  /** A block boundary reached outside run()'s own loop: fire the instruction-count hook if it is due. */
  instructionBoundary() {
    if (this.instructions < this.instructionHookAt) return;
    this.instructionHookAt = Infinity;
    this.instructionHook?.();
  }
  /**
   * Bring the current run's deadline forward to `cycle` if it is earlier: the platform calls this
   * when a device schedules an event during the run (e.g. from an OUT), so the event fires on time.
   */
  shortenDeadline(cycle) {
    if (cycle < this.deadline) this.deadline = cycle;
  }
  /** Make run() return Exit.Stopped at the next block boundary. */
  requestStop() {
    this.stopReq = true;
    this.attn = 1;
  }
  /** The platform calls this whenever the interrupt controller's state changes. */
  interruptLineChanged() {
    this.irqLine = true;
    this.updateAttn();
  }
  updateAttn() {
    const intr = (this.flags & F_IF) !== 0;
    let a = this.stopReq || this.injectPending;
    if (this.nonRoot && this.vmcs) {
      const vm = this.vmcs;
      a = a || this.irqLine && (intr || vm.exitOnExternalInterrupt) || vm.interruptWindowExiting && intr;
    } else {
      a = a || this.irqLine && intr;
    }
    this.attn = a ? 1 : 0;
  }
  /** Boundary work: stop requests, injection, interrupt window, external interrupts. Returns an Exit or -1. */
  serviceEvents() {
    if (this.stopReq) {
      this.stopReq = false;
      this.updateAttn();
      return 258 /* Stopped */;
    }
    if (this.injectPending) {
      this.injectPending = false;
      const vm = this.vmcs;
      if (vm && this.nonRoot && vm.injectVector >= 0) {
        const v = vm.injectVector & 255;
        vm.injectVector = -1;
        const pc = this.pc | 0;
        const kind = vm.injectKind;
        const len = kind === 2 /* Software */ || kind === 1 /* Trap */ ? vm.injectInsnLength : 0;
        vm.injectInsnLength = 0;
        const res = this.raise(v, vm.injectError, pc + len | 0, kind, pc, -1, true);
        if (res >= 0) return res;
        if (kind !== 3 /* External */) this.instructionBoundary();
      }
    }
    const intr = (this.flags & F_IF) !== 0;
    if (this.nonRoot && this.vmcs) {
      const vm = this.vmcs;
      if (vm.interruptWindowExiting && intr) {
        this.setInsnExit(this.pc | 0, 0);
        return this.vmExit(7 /* InterruptWindow */);
      }
      if (this.irqLine && (intr || vm.exitOnExternalInterrupt)) {
        const v = this.pic.pendingVector();
        if (v < 0) {
          this.irqLine = false;
        } else if (vm.exitOnExternalInterrupt) {
          this.exitVector = v;
          this.exitError = 0;
          this.exitKind = 3 /* External */;
          this.exitIdtVectoring = -1;
          this.setInsnExit(this.pc | 0, 0);
          return this.vmExit(1 /* ExternalInterrupt */);
        } else {
          const res = this.takeInterrupt();
          if (res >= 0) return res;
        }
      }
    } else if (this.irqLine && intr) {
      const v = this.pic.pendingVector();
      if (v < 0) {
        this.irqLine = false;
      } else if (this.interceptExternalInterrupts || this.interceptVector[v] !== 0) {
        this.exitVector = v;
        this.exitError = 0;
        this.exitKind = 3 /* External */;
        this.exitIdtVectoring = -1;
        this.halted = false;
        this.stats.intercepts++;
        return 1 /* ExternalInterrupt */;
      } else {
        const res = this.takeInterrupt();
        if (res >= 0) return res;
      }
    }
    this.updateAttn();
    return -1;
  }
  /** INTA and deliver through the IDT. */
  takeInterrupt() {
    const v = this.pic.acknowledge();
    if (v < 0) return -1;
    this.stats.interrupts++;
    const pc = this.pc | 0;
    const res = this.raise(v, 0, pc, 3 /* External */, pc, -1);
    return res >= 0 ? res : -1;
  }
  // =================================================================================== translator
  /**
   * The translator's dispatch loop, called where run() would call runFast: the instruction TLB
   * exactly as the fast loop keeps it, then the translation entered at pc (or, while pc is cold,
   * the fast loop for one block). Chains from one translation to the next at block boundaries
   * while no event is pending and the deadline is ahead. Returns BOUND or CONT as runFast does.
   */
  runTranslated() {
    const tx = this.tx ?? (this.tx = this.makeTranslator());
    const mmu = this.mmu;
    for (; ; ) {
      const pc = this.pc | 0;
      const user = this.cpl === 3;
      const tr = user ? mmu.tlbRU : mmu.tlbRS;
      if (mmu.icUser !== user) {
        mmu.icV = INVALID2;
        mmu.icUser = user;
      }
      if ((pc & 4294963203) !== mmu.icV) {
        if ((pc & 3) !== 0) return CONT;
        const e = tlbFind2(tr, (pc >>> 12 & mmu.setMask) << mmu.wayShift, mmu.tlbWays, pc & PAGE_MASK3);
        if (e < 0) return CONT;
        mmu.icV = pc & PAGE_MASK3;
        mmu.icA = mmu.tlbAdd[e];
        this.mem.codePage[pc + mmu.icA >>> 12] = 1;
      }
      const fn = tx.lookup(pc, pc + mmu.icA | 0, tr);
      let why;
      if (fn === null) {
        const n0 = this.instructions;
        why = this.runFast(Math.min(this.deadline, this.cycles + tx.coldCycles), null);
        tx.stats.coldInstructions += this.instructions - n0;
      } else {
        tx.stats.entries++;
        const dl = this.attn !== 0 ? -1 : Math.max(-1, Math.min(DL_MAX, Math.ceil(this.deadline - this.cycles)));
        why = fn(tx.ctx, tr, user ? mmu.tlbWU : mmu.tlbWS, user, dl);
      }
      if (why !== BOUND || this.attn !== 0 || this.cycles >= this.deadline) return why;
    }
  }
  /**
   * The MMU's walk set accessed/dirty bits in the word at host-physical pa: if that frame holds
   * code some engine cached (a page table sharing a frame with code), drop what was built from
   * it: the translator's and bt's translations (through the memory's code marks), as a store would.
   */
  tablesWritten(pa) {
    const f = pa >>> 12;
    if (this.mem.codePage[f] !== 0) this.mem.noteWrite(pa, 4);
    if (this.tbFrame[f] !== 0) this.codeStored(pa, 4);
  }
  /**
   * A store to host-physical pa hit a frame holding translated code: drop what it overlaps (on every
   * CPU), and tell the code-store hook. True when the hook asks the fast loop to leave after the store.
   */
  codeStored(pa, size) {
    const m = this.tbFrame[pa >>> 12];
    let stop = false;
    if ((m & TB_HOOKED) !== 0) {
      this.hookStores = this.hookStores + 1 & 1073741823;
      stop = this.codeStoreHook !== null && this.codeStoreHook(pa, size);
    }
    if ((m & TB_TRANSLATED) === 0) return stop;
    if (this.tx !== null) {
      this.tx.codeWritten(pa, size);
      return stop;
    }
    for (const p of this.smpPeers) {
      if (p.tx !== null) {
        p.tx.codeWritten(pa, size);
        return stop;
      }
    }
    return stop;
  }
  /**
   * Mark frame f as holding code some engine built (hypervisor/bt's translation units): every CPU
   * store into it, translated code's and the walk's accessed/dirty writes included, then reaches
   * codeStored and the code-store hook. The mark is a bit of its own (TB_HOOKED), which the
   * translator's marks of its own code leave alone, and it stays.
   */
  markCodeFrame(f) {
    this.tbFrame[f] |= TB_HOOKED;
  }
  /** CPU stores into frames marked for the code-store hook (wrapping; txMiss compares it around a walk) */
  hookStores = 0;
  /**
   * A translated store of size bytes to host-physical pa hit a marked frame (machine/semantics.ts
   * txStored): tell the code-store hook and the translator (codeStored). True when the function
   * must leave right after the store: it dropped translations, or the frame is marked for the
   * hook (its code is checked by whoever built it only when the function has left).
   */
  txStored(pa, size) {
    const m = this.tbFrame[pa >>> 12];
    if (m === TB_TRANSLATED) return this.tx.codeWritten(pa, size);
    this.codeStored(pa, size);
    return true;
  }
  // ==================================================================================== fast path
  /**
   * The hot loop. Returns BOUND at a block boundary, CONT when the instruction at this.pc needs
   * step() (nothing of it has been executed).
   */
  runFast(deadline, probe) {
    const r = this.regs;
    const mem = this.mem;
    const m32 = mem.i32;
    const m16 = mem.u16;
    const s16 = mem.i16;
    const m8 = mem.u8;
    const s8 = mem.i8;
    const codePage = mem.codePage;
    const tbFrame = this.tbFrame;
    const cost = this.costs;
    const decode2 = DECODE;
    const condT = COND_TABLE;
    const taken = this.takenExtra;
    const notCond = ~FLAGS_COND;
    const user = this.cpl === 3;
    const mmu = this.mmu;
    const tr = user ? mmu.tlbRU : mmu.tlbRS;
    const tw = user ? mmu.tlbWU : mmu.tlbWS;
    const ta = mmu.tlbAdd;
    const sm = mmu.setMask;
    const ws = mmu.wayShift;
    const ways = mmu.tlbWays;
    let icV = mmu.icUser === user ? mmu.icV : INVALID2;
    let icA = mmu.icA;
    let pc = this.pc | 0;
    const cyc0 = this.cycles;
    let cyc = 0;
    let n = 0;
    let fl = this.flags;
    let why = CONT;
    let dc = 0;
    const dl = this.attn !== 0 ? -Infinity : deadline - cyc0;
    this.loopWalkCycles = 0;
    loop: for (; ; ) {
      if ((pc & 4294963203) !== icV) {
        if ((pc & 3) !== 0) break;
        const e = tlbFind2(tr, (pc >>> 12 & sm) << ws, ways, pc & PAGE_MASK3);
        if (e < 0) break;
        icV = pc & PAGE_MASK3;
        icA = ta[e];
        codePage[pc + icA >>> 12] = 1;
      }
      const w = m32[pc + icA >> 2];
      switch (decode2[w & 255]) {
        // @generated fast-cases begin (machine/semantics.ts, npm run gen:interp)
        case 1 /* NOP */:
          break;
        case 2 /* MOV */:
          r[w >>> 8 & 15] = r[w >>> 12 & 15];
          break;
        case 3 /* LI */:
          if ((pc & 4092) === 4092) break loop;
          r[w >>> 8 & 15] = m32[pc + icA + 4 >> 2];
          pc = pc + 8 | 0;
          cyc += cost[w & 255];
          n++;
          continue;
        case 4 /* ADD */:
          r[w >>> 8 & 15] = r[w >>> 12 & 15] + r[w >>> 16 & 15] | 0;
          break;
        case 5 /* SUB */:
          r[w >>> 8 & 15] = r[w >>> 12 & 15] - r[w >>> 16 & 15] | 0;
          break;
        case 6 /* MUL */:
          r[w >>> 8 & 15] = Math.imul(r[w >>> 12 & 15], r[w >>> 16 & 15]);
          break;
        case 7 /* MULHU */:
          r[w >>> 8 & 15] = mulhu(r[w >>> 12 & 15], r[w >>> 16 & 15]);
          break;
        case 8 /* DIV */: {
          const b = r[w >>> 16 & 15];
          if (b === 0) break loop;
          r[w >>> 8 & 15] = r[w >>> 12 & 15] / b | 0;
          break;
        }
        case 9 /* DIVU */: {
          const b = r[w >>> 16 & 15] >>> 0;
          if (b === 0) break loop;
          r[w >>> 8 & 15] = (r[w >>> 12 & 15] >>> 0) / b | 0;
          break;
        }
        case 10 /* REM */: {
          const b = r[w >>> 16 & 15];
          if (b === 0) break loop;
          r[w >>> 8 & 15] = r[w >>> 12 & 15] % b | 0;
          break;
        }
        case 11 /* REMU */: {
          const b = r[w >>> 16 & 15] >>> 0;
          if (b === 0) break loop;
          r[w >>> 8 & 15] = (r[w >>> 12 & 15] >>> 0) % b | 0;
          break;
        }
        case 12 /* AND */:
          r[w >>> 8 & 15] = r[w >>> 12 & 15] & r[w >>> 16 & 15];
          break;
        case 13 /* OR */:
          r[w >>> 8 & 15] = r[w >>> 12 & 15] | r[w >>> 16 & 15];
          break;
        case 14 /* XOR */:
          r[w >>> 8 & 15] = r[w >>> 12 & 15] ^ r[w >>> 16 & 15];
          break;
        case 15 /* SHL */:
          r[w >>> 8 & 15] = r[w >>> 12 & 15] << r[w >>> 16 & 15];
          break;
        case 16 /* SHR */:
          r[w >>> 8 & 15] = r[w >>> 12 & 15] >>> r[w >>> 16 & 15] | 0;
          break;
        case 17 /* SAR */:
          r[w >>> 8 & 15] = r[w >>> 12 & 15] >> r[w >>> 16 & 15];
          break;
        case 18 /* NOT */:
          r[w >>> 8 & 15] = ~r[w >>> 12 & 15];
          break;
        case 19 /* NEG */:
          r[w >>> 8 & 15] = -r[w >>> 12 & 15] | 0;
          break;
        case 20 /* ADDI */:
          r[w >>> 8 & 15] = r[w >>> 12 & 15] + (w >> 16) | 0;
          break;
        case 21 /* MULI */:
          r[w >>> 8 & 15] = Math.imul(r[w >>> 12 & 15], w >> 16);
          break;
        case 22 /* ANDI */:
          r[w >>> 8 & 15] = r[w >>> 12 & 15] & w >> 16;
          break;
        case 23 /* ORI */:
          r[w >>> 8 & 15] = r[w >>> 12 & 15] | w >> 16;
          break;
        case 24 /* XORI */:
          r[w >>> 8 & 15] = r[w >>> 12 & 15] ^ w >> 16;
          break;
        case 25 /* SHLI */:
          r[w >>> 8 & 15] = r[w >>> 12 & 15] << (w >> 16);
          break;
        case 26 /* SHRI */:
          r[w >>> 8 & 15] = r[w >>> 12 & 15] >>> (w >> 16) | 0;
          break;
        case 27 /* SARI */:
          r[w >>> 8 & 15] = r[w >>> 12 & 15] >> (w >> 16);
          break;
        case 28 /* LDW */: {
          const va = r[w >>> 12 & 15] + (w >> 16) | 0;
          let e = tlbFind2(tr, (va >>> 12 & sm) << ws, ways, va & 4294963203);
          if (e < 0) {
            if ((va & 3) !== 0 || (dc = this.refill(va, ACC_READ2, user)) < 0 || (e = tlbFind2(tr, (va >>> 12 & sm) << ws, ways, va & 4294963203)) < 0) break loop;
            cyc += dc;
            this.refillCharged(dc);
          }
          r[w >>> 8 & 15] = m32[va + ta[e] >> 2];
          break;
        }
        case 29 /* LDH */: {
          const va = r[w >>> 12 & 15] + (w >> 16) | 0;
          let e = tlbFind2(tr, (va >>> 12 & sm) << ws, ways, va & 4294963201);
          if (e < 0) {
            if ((va & 1) !== 0 || (dc = this.refill(va, ACC_READ2, user)) < 0 || (e = tlbFind2(tr, (va >>> 12 & sm) << ws, ways, va & 4294963201)) < 0) break loop;
            cyc += dc;
            this.refillCharged(dc);
          }
          r[w >>> 8 & 15] = s16[va + ta[e] >> 1];
          break;
        }
        case 30 /* LDHU */: {
          const va = r[w >>> 12 & 15] + (w >> 16) | 0;
          let e = tlbFind2(tr, (va >>> 12 & sm) << ws, ways, va & 4294963201);
          if (e < 0) {
            if ((va & 1) !== 0 || (dc = this.refill(va, ACC_READ2, user)) < 0 || (e = tlbFind2(tr, (va >>> 12 & sm) << ws, ways, va & 4294963201)) < 0) break loop;
            cyc += dc;
            this.refillCharged(dc);
          }
          r[w >>> 8 & 15] = m16[va + ta[e] >> 1];
          break;
        }
        case 31 /* LDB */: {
          const va = r[w >>> 12 & 15] + (w >> 16) | 0;
          let e = tlbFind2(tr, (va >>> 12 & sm) << ws, ways, va & PAGE_MASK3);
          if (e < 0) {
            if ((dc = this.refill(va, ACC_READ2, user)) < 0 || (e = tlbFind2(tr, (va >>> 12 & sm) << ws, ways, va & PAGE_MASK3)) < 0) break loop;
            cyc += dc;
            this.refillCharged(dc);
          }
          r[w >>> 8 & 15] = s8[va + ta[e] | 0];
          break;
        }
        case 32 /* LDBU */: {
          const va = r[w >>> 12 & 15] + (w >> 16) | 0;
          let e = tlbFind2(tr, (va >>> 12 & sm) << ws, ways, va & PAGE_MASK3);
          if (e < 0) {
            if ((dc = this.refill(va, ACC_READ2, user)) < 0 || (e = tlbFind2(tr, (va >>> 12 & sm) << ws, ways, va & PAGE_MASK3)) < 0) break loop;
            cyc += dc;
            this.refillCharged(dc);
          }
          r[w >>> 8 & 15] = m8[va + ta[e] | 0];
          break;
        }
        case 33 /* STW */: {
          const va = r[w >>> 12 & 15] + (w >> 16) | 0;
          let e = tlbFind2(tw, (va >>> 12 & sm) << ws, ways, va & 4294963203);
          if (e < 0) {
            if ((va & 3) !== 0 || (dc = this.refill(va, ACC_WRITE2, user)) < 0 || (e = tlbFind2(tw, (va >>> 12 & sm) << ws, ways, va & 4294963203)) < 0) break loop;
            cyc += dc;
            this.refillCharged(dc);
          }
          m32[va + ta[e] >> 2] = r[w >>> 8 & 15];
          if (tbFrame[va + ta[e] >>> 12] !== 0 && this.codeStored(va + ta[e] | 0, 4)) {
            pc = pc + 4 | 0;
            cyc += cost[w & 255];
            n++;
            break loop;
          }
          break;
        }
        case 34 /* STH */: {
          const va = r[w >>> 12 & 15] + (w >> 16) | 0;
          let e = tlbFind2(tw, (va >>> 12 & sm) << ws, ways, va & 4294963201);
          if (e < 0) {
            if ((va & 1) !== 0 || (dc = this.refill(va, ACC_WRITE2, user)) < 0 || (e = tlbFind2(tw, (va >>> 12 & sm) << ws, ways, va & 4294963201)) < 0) break loop;
            cyc += dc;
            this.refillCharged(dc);
          }
          m16[va + ta[e] >> 1] = r[w >>> 8 & 15];
          if (tbFrame[va + ta[e] >>> 12] !== 0 && this.codeStored(va + ta[e] | 0, 2)) {
            pc = pc + 4 | 0;
            cyc += cost[w & 255];
            n++;
            break loop;
          }
          break;
        }
        case 35 /* STB */: {
          const va = r[w >>> 12 & 15] + (w >> 16) | 0;
          let e = tlbFind2(tw, (va >>> 12 & sm) << ws, ways, va & PAGE_MASK3);
          if (e < 0) {
            if ((dc = this.refill(va, ACC_WRITE2, user)) < 0 || (e = tlbFind2(tw, (va >>> 12 & sm) << ws, ways, va & PAGE_MASK3)) < 0) break loop;
            cyc += dc;
            this.refillCharged(dc);
          }
          m8[va + ta[e] | 0] = r[w >>> 8 & 15];
          if (tbFrame[va + ta[e] >>> 12] !== 0 && this.codeStored(va + ta[e] | 0, 1)) {
            pc = pc + 4 | 0;
            cyc += cost[w & 255];
            n++;
            break loop;
          }
          break;
        }
        case 36 /* XCHG */: {
          const va = r[w >>> 12 & 15];
          let e = tlbFind2(tw, (va >>> 12 & sm) << ws, ways, va & 4294963203);
          if (e < 0) {
            if ((va & 3) !== 0 || (dc = this.refill(va, ACC_WRITE2, user)) < 0 || (e = tlbFind2(tw, (va >>> 12 & sm) << ws, ways, va & 4294963203)) < 0) break loop;
            cyc += dc;
            this.refillCharged(dc);
          }
          const old = m32[va + ta[e] >> 2];
          m32[va + ta[e] >> 2] = r[w >>> 16 & 15];
          r[w >>> 8 & 15] = old;
          if (tbFrame[va + ta[e] >>> 12] !== 0 && this.codeStored(va + ta[e] | 0, 4)) {
            pc = pc + 4 | 0;
            cyc += cost[w & 255];
            n++;
            break loop;
          }
          break;
        }
        case 37 /* PUSH */: {
          const va = r[SP] - 4 | 0;
          const e = tlbFind2(tw, (va >>> 12 & sm) << ws, ways, va & 4294963203);
          if (e < 0) break loop;
          m32[va + ta[e] >> 2] = r[w >>> 12 & 15];
          r[SP] = va;
          if (tbFrame[va + ta[e] >>> 12] !== 0 && this.codeStored(va + ta[e] | 0, 4)) {
            pc = pc + 4 | 0;
            cyc += cost[w & 255];
            n++;
            break loop;
          }
          break;
        }
        case 38 /* POP */: {
          const va = r[SP];
          const e = tlbFind2(tr, (va >>> 12 & sm) << ws, ways, va & 4294963203);
          if (e < 0) break loop;
          const v = m32[va + ta[e] >> 2];
          r[SP] = va + 4 | 0;
          r[w >>> 8 & 15] = v;
          break;
        }
        case 39 /* CMP */: {
          const a = r[w >>> 12 & 15];
          const b = r[w >>> 16 & 15];
          fl = fl & notCond | (a === b ? 1 : 0) | (a < b ? 2 : 0) | (a >>> 0 < b >>> 0 ? 4 : 0);
          break;
        }
        case 40 /* CMPI */: {
          const a = r[w >>> 12 & 15];
          const b = w >> 16;
          fl = fl & notCond | (a === b ? 1 : 0) | (a < b ? 2 : 0) | (a >>> 0 < b >>> 0 ? 4 : 0);
          break;
        }
        case 41 /* TEST */: {
          const a = r[w >>> 12 & 15] & r[w >>> 16 & 15];
          const b = 0;
          fl = fl & notCond | (a === b ? 1 : 0) | (a < b ? 2 : 0) | (a >>> 0 < b >>> 0 ? 4 : 0);
          break;
        }
        case 42 /* SETCC */:
          r[w >>> 8 & 15] = condT[w >>> 9 & 120 | fl & 7];
          break;
        case 43 /* JMP */: {
          if ((pc & 4092) === 4092) break loop;
          pc = pc + 8 + m32[pc + icA + 4 >> 2] | 0;
          cyc += cost[w & 255];
          n++;
          if (cyc >= dl) {
            if (probe === null || (dc = probe(pc, cyc)) < 0) {
              why = BOUND;
              break loop;
            }
            cyc += dc;
            this.loopWalkCycles += dc;
          }
          continue;
        }
        case 44 /* JCC */: {
          if ((pc & 4092) === 4092) break loop;
          cyc += cost[w & 255];
          if (condT[w >>> 5 & 120 | fl & 7] !== 0) {
            pc = pc + 8 + m32[pc + icA + 4 >> 2] | 0;
            cyc += taken;
          } else {
            pc = pc + 8 | 0;
          }
          n++;
          if (cyc >= dl) {
            if (probe === null || (dc = probe(pc, cyc)) < 0) {
              why = BOUND;
              break loop;
            }
            cyc += dc;
            this.loopWalkCycles += dc;
          }
          continue;
        }
        case 45 /* CALL */: {
          if ((pc & 4092) === 4092) break loop;
          const va = r[SP] - 4 | 0;
          const e = tlbFind2(tw, (va >>> 12 & sm) << ws, ways, va & 4294963203);
          if (e < 0) break loop;
          const next = pc + 8 | 0;
          m32[va + ta[e] >> 2] = next;
          if (tbFrame[va + ta[e] >>> 12] !== 0) this.codeStored(va + ta[e] | 0, 4);
          r[SP] = va;
          pc = next + m32[pc + icA + 4 >> 2] | 0;
          cyc += cost[w & 255];
          n++;
          if (cyc >= dl) {
            if (probe === null || (dc = probe(pc, cyc)) < 0) {
              why = BOUND;
              break loop;
            }
            cyc += dc;
            this.loopWalkCycles += dc;
          }
          continue;
        }
        case 46 /* JMPR */: {
          pc = r[w >>> 12 & 15];
          cyc += cost[w & 255];
          n++;
          if (cyc >= dl) {
            if (probe === null || (dc = probe(pc, cyc)) < 0) {
              why = BOUND;
              break loop;
            }
            cyc += dc;
            this.loopWalkCycles += dc;
          }
          continue;
        }
        case 47 /* CALLR */: {
          const va = r[SP] - 4 | 0;
          const e = tlbFind2(tw, (va >>> 12 & sm) << ws, ways, va & 4294963203);
          if (e < 0) break loop;
          const target = r[w >>> 12 & 15];
          m32[va + ta[e] >> 2] = pc + 4 | 0;
          if (tbFrame[va + ta[e] >>> 12] !== 0) this.codeStored(va + ta[e] | 0, 4);
          r[SP] = va;
          pc = target;
          cyc += cost[w & 255];
          n++;
          if (cyc >= dl) {
            if (probe === null || (dc = probe(pc, cyc)) < 0) {
              why = BOUND;
              break loop;
            }
            cyc += dc;
            this.loopWalkCycles += dc;
          }
          continue;
        }
        case 48 /* RET */: {
          const va = r[SP];
          const e = tlbFind2(tr, (va >>> 12 & sm) << ws, ways, va & 4294963203);
          if (e < 0) break loop;
          pc = m32[va + ta[e] >> 2];
          r[SP] = va + 4 | 0;
          cyc += cost[w & 255];
          n++;
          if (cyc >= dl) {
            if (probe === null || (dc = probe(pc, cyc)) < 0) {
              why = BOUND;
              break loop;
            }
            cyc += dc;
            this.loopWalkCycles += dc;
          }
          continue;
        }
        case 49 /* PAUSE */:
          if (this.nonRoot && this.vmcs.pauseLoopExiting) break loop;
          break;
        // @generated fast-cases end
        default:
          break loop;
      }
      pc = pc + 4 | 0;
      cyc += cost[w & 255];
      n++;
    }
    this.pc = pc >>> 0;
    this.cycles = cyc0 + cyc;
    this.baseCycles += cyc - this.loopWalkCycles;
    this.instructions += n;
    this.flags = fl;
    mmu.icV = icV;
    mmu.icA = icA;
    mmu.icUser = user;
    return why;
  }
  // ================================================================================= general path
  /** Execute the instruction at pc on the general path: CONT, BOUND, or an Exit (>= 0). */
  step() {
    const pc = this.pc | 0;
    const user = this.cpl === 3;
    const w = this.fetch32(pc, user);
    if (this.pend !== PEND_NONE) return this.failed(pc);
    const op = w & 255;
    const len = INSN_LEN[op];
    let ext = 0;
    if (len === 8) {
      ext = this.fetch32(pc + 4 | 0, user);
      if (this.pend !== PEND_NONE) return this.failed(pc);
    }
    const next = pc + len | 0;
    const r = this.regs;
    const rd = w >>> 8 & 15;
    const ra = w >>> 12 & 15;
    const rb = w >>> 16 & 15;
    const imm = w >> 16;
    const c = this.costs[op];
    switch (DECODE[op]) {
      // @generated step-cases begin (machine/semantics.ts, npm run gen:interp)
      case 1 /* NOP */:
        return this.retire(next, c);
      case 2 /* MOV */:
        r[rd] = r[ra];
        return this.retire(next, c);
      case 3 /* LI */:
        r[rd] = ext;
        return this.retire(next, c);
      case 4 /* ADD */:
        r[rd] = r[ra] + r[rb] | 0;
        return this.retire(next, c);
      case 5 /* SUB */:
        r[rd] = r[ra] - r[rb] | 0;
        return this.retire(next, c);
      case 6 /* MUL */:
        r[rd] = Math.imul(r[ra], r[rb]);
        return this.retire(next, c);
      case 7 /* MULHU */:
        r[rd] = mulhu(r[ra], r[rb]);
        return this.retire(next, c);
      case 8 /* DIV */: {
        const b = r[rb];
        if (b === 0) return this.fault(V_DE, 0, pc);
        r[rd] = r[ra] / b | 0;
        return this.retire(next, c);
      }
      case 9 /* DIVU */: {
        const b = r[rb] >>> 0;
        if (b === 0) return this.fault(V_DE, 0, pc);
        r[rd] = (r[ra] >>> 0) / b | 0;
        return this.retire(next, c);
      }
      case 10 /* REM */: {
        const b = r[rb];
        if (b === 0) return this.fault(V_DE, 0, pc);
        r[rd] = r[ra] % b | 0;
        return this.retire(next, c);
      }
      case 11 /* REMU */: {
        const b = r[rb] >>> 0;
        if (b === 0) return this.fault(V_DE, 0, pc);
        r[rd] = (r[ra] >>> 0) % b | 0;
        return this.retire(next, c);
      }
      case 12 /* AND */:
        r[rd] = r[ra] & r[rb];
        return this.retire(next, c);
      case 13 /* OR */:
        r[rd] = r[ra] | r[rb];
        return this.retire(next, c);
      case 14 /* XOR */:
        r[rd] = r[ra] ^ r[rb];
        return this.retire(next, c);
      case 15 /* SHL */:
        r[rd] = r[ra] << r[rb];
        return this.retire(next, c);
      case 16 /* SHR */:
        r[rd] = r[ra] >>> r[rb] | 0;
        return this.retire(next, c);
      case 17 /* SAR */:
        r[rd] = r[ra] >> r[rb];
        return this.retire(next, c);
      case 18 /* NOT */:
        r[rd] = ~r[ra];
        return this.retire(next, c);
      case 19 /* NEG */:
        r[rd] = -r[ra] | 0;
        return this.retire(next, c);
      case 20 /* ADDI */:
        r[rd] = r[ra] + imm | 0;
        return this.retire(next, c);
      case 21 /* MULI */:
        r[rd] = Math.imul(r[ra], imm);
        return this.retire(next, c);
      case 22 /* ANDI */:
        r[rd] = r[ra] & imm;
        return this.retire(next, c);
      case 23 /* ORI */:
        r[rd] = r[ra] | imm;
        return this.retire(next, c);
      case 24 /* XORI */:
        r[rd] = r[ra] ^ imm;
        return this.retire(next, c);
      case 25 /* SHLI */:
        r[rd] = r[ra] << imm;
        return this.retire(next, c);
      case 26 /* SHRI */:
        r[rd] = r[ra] >>> imm | 0;
        return this.retire(next, c);
      case 27 /* SARI */:
        r[rd] = r[ra] >> imm;
        return this.retire(next, c);
      case 28 /* LDW */: {
        const va = r[ra] + imm | 0;
        const v = this.read32(va, ACC_READ2, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[rd] = v;
        return this.retire(next, c);
      }
      case 29 /* LDH */: {
        const va = r[ra] + imm | 0;
        const v = this.readN(va, 2, ACC_READ2, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[rd] = v << 16 >> 16;
        return this.retire(next, c);
      }
      case 30 /* LDHU */: {
        const va = r[ra] + imm | 0;
        const v = this.readN(va, 2, ACC_READ2, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[rd] = v;
        return this.retire(next, c);
      }
      case 31 /* LDB */: {
        const va = r[ra] + imm | 0;
        const v = this.readN(va, 1, ACC_READ2, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[rd] = v << 24 >> 24;
        return this.retire(next, c);
      }
      case 32 /* LDBU */: {
        const va = r[ra] + imm | 0;
        const v = this.readN(va, 1, ACC_READ2, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[rd] = v;
        return this.retire(next, c);
      }
      case 33 /* STW */:
        this.writeN(r[ra] + imm | 0, 4, r[rd], user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        return this.retire(next, c);
      case 34 /* STH */:
        this.writeN(r[ra] + imm | 0, 2, r[rd], user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        return this.retire(next, c);
      case 35 /* STB */:
        this.writeN(r[ra] + imm | 0, 1, r[rd], user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        return this.retire(next, c);
      case 36 /* XCHG */: {
        const va = r[ra];
        const v = this.read32(va, ACC_WRITE2, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        this.writeN(va, 4, r[rb], user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[rd] = v;
        return this.retire(next, c);
      }
      case 37 /* PUSH */: {
        const va = r[SP] - 4 | 0;
        this.writeN(va, 4, r[ra], user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[SP] = va;
        return this.retire(next, c);
      }
      case 38 /* POP */: {
        const va = r[SP];
        const v = this.read32(va, ACC_READ2, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[SP] = va + 4 | 0;
        r[rd] = v;
        return this.retire(next, c);
      }
      case 39 /* CMP */:
        this.flags = this.flags & ~FLAGS_COND | compareFlags(r[ra], r[rb]);
        return this.retire(next, c);
      case 40 /* CMPI */:
        this.flags = this.flags & ~FLAGS_COND | compareFlags(r[ra], imm);
        return this.retire(next, c);
      case 41 /* TEST */:
        this.flags = this.flags & ~FLAGS_COND | compareFlags(r[ra] & r[rb], 0);
        return this.retire(next, c);
      case 42 /* SETCC */:
        r[rd] = COND_TABLE[ra << 3 | this.flags & 7];
        return this.retire(next, c);
      case 43 /* JMP */:
        return this.branch(next + ext | 0, c);
      case 44 /* JCC */:
        if (COND_TABLE[rd << 3 | this.flags & 7] !== 0) return this.branch(next + ext | 0, c + this.takenExtra);
        return this.branch(next, c);
      case 45 /* CALL */: {
        const va = r[SP] - 4 | 0;
        this.writeN(va, 4, next, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[SP] = va;
        return this.branch(next + ext | 0, c);
      }
      case 46 /* JMPR */:
        return this.branch(r[ra], c);
      case 47 /* CALLR */: {
        const target = r[ra];
        const va = r[SP] - 4 | 0;
        this.writeN(va, 4, next, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[SP] = va;
        return this.branch(target, c);
      }
      case 48 /* RET */: {
        const va = r[SP];
        const target = this.read32(va, ACC_READ2, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[SP] = va + 4 | 0;
        return this.branch(target, c);
      }
      case 49 /* PAUSE */:
        if (this.nonRoot && this.vmcs.pauseLoopExiting && this.cpl === 0 && this.pauseLoopEnds()) return this.insnExit(EXIT_PAUSE, pc, next, c);
        return this.retire(next, c);
      // @generated step-cases end
      case 0 /* UD */:
        return this.fault(V_UD, 0, pc);
      case 50 /* INT */:
        this.cycles += c;
        this.baseCycles += c;
        this.instructions++;
        return this.raise(imm & 255, 0, next, 2 /* Software */, pc, -1);
      case 51 /* BRK */:
        this.cycles += c;
        this.baseCycles += c;
        this.instructions++;
        return this.raise(V_BP, 0, next, 1 /* Trap */, pc, -1);
      case 52 /* RDTSC */: {
        if ((this.cr4 & CR4_TSD) !== 0 && this.cpl > 0) return this.fault(V_GP, 0, pc);
        if (this.nonRoot && this.vmcs.exitOnRdtsc) return this.insnExit(16 /* Rdtsc */, pc, next, c);
        if (this.cpl === 3) {
          if (this.onUserRdtsc !== null) this.onUserRdtsc();
        } else if (this.onKernelRdtsc !== null) this.onKernelRdtsc();
        const tsc = this.cycles + (this.nonRoot ? this.vmcs.tscOffset : this.tscOffset);
        r[rd] = tsc >>> 0;
        r[ra] = Math.floor(tsc / 4294967296) | 0;
        return this.retire(next, c);
      }
      case 53 /* CPUID */:
        if (this.nonRoot) return this.insnExit(10 /* Cpuid */, pc, next, c);
        this.cpuid();
        return this.retire(next, c);
      case 54 /* HLT */:
        if (this.cpl !== 0) return this.fault(V_GP, 0, pc);
        if (this.nonRoot && this.vmcs.exitOnHlt) return this.insnExit(12 /* Hlt */, pc, next, c);
        this.retire(next, c);
        this.halted = true;
        return 257 /* Halted */;
      case 55 /* CLI */:
      case 56 /* STI */: {
        if (this.cpl > this.iopl()) return this.fault(V_GP, 0, pc);
        const sti = DECODE[op] === 56 /* STI */;
        this.flags = sti ? this.flags | F_IF : this.flags & ~F_IF;
        this.updateAttn();
        this.retire(next, c);
        return sti ? BOUND : CONT;
      }
      case 57 /* IN */:
      case 58 /* INB */:
      case 61 /* INR */: {
        if (this.cpl > this.iopl()) return this.fault(V_GP, 0, pc);
        const h = DECODE[op];
        const port2 = h === 61 /* INR */ ? r[ra] & 65535 : imm & 65535;
        const size = h === 58 /* INB */ ? 1 : 4;
        if (this.nonRoot && this.vmcs.exitOnIo) {
          this.exitPort = port2;
          this.exitSize = size;
          this.exitIsWrite = false;
          this.exitData = 0;
          this.exitReg = rd;
          return this.insnExit(30 /* Io */, pc, next, this.profile.alu);
        }
        this.cycles += c;
        this.baseCycles += c;
        this.stats.portReads++;
        const v = this.bus.read(port2, size);
        r[rd] = size === 1 ? v & 255 : v | 0;
        this.pc = next >>> 0;
        this.instructions++;
        return CONT;
      }
      case 59 /* OUT */:
      case 60 /* OUTB */:
      case 62 /* OUTR */: {
        if (this.cpl > this.iopl()) return this.fault(V_GP, 0, pc);
        const h = DECODE[op];
        const port2 = h === 62 /* OUTR */ ? r[ra] & 65535 : imm & 65535;
        const size = h === 60 /* OUTB */ ? 1 : 4;
        const value = h === 62 /* OUTR */ ? r[rb] : r[ra];
        const data = size === 1 ? value & 255 : value >>> 0;
        if (this.nonRoot && this.vmcs.exitOnIo) {
          this.exitPort = port2;
          this.exitSize = size;
          this.exitIsWrite = true;
          this.exitData = data;
          this.exitReg = h === 62 /* OUTR */ ? rb : ra;
          return this.insnExit(30 /* Io */, pc, next, this.profile.alu);
        }
        this.retire(next, c);
        this.stats.portWrites++;
        this.bus.write(port2, size, data);
        return BOUND;
      }
      case 63 /* MOVTOCR */: {
        if (this.cpl !== 0) return this.fault(V_GP, 0, pc);
        if (!isControlRegister(rd)) return this.fault(V_UD, 0, pc);
        let value = r[ra];
        if (this.nonRoot) {
          const vm = this.vmcs;
          const mask = rd === 0 ? vm.cr0GuestHostMask : rd === 4 ? vm.cr4GuestHostMask : 0;
          const shadow = rd === 0 ? vm.cr0ReadShadow : vm.cr4ReadShadow;
          if ((vm.crWriteExits >>> rd & 1) !== 0 || ((value ^ shadow) & mask) !== 0) {
            this.exitQualification = rd | ra << 8 /* REG_SHIFT */;
            return this.insnExit(28 /* CrAccess */, pc, next, c);
          }
          if (mask !== 0) value = value & ~mask | this.readCr(rd) & mask;
        }
        if (rd === 0 || rd === 3) this.charge(EV_CR_FLUSH, 1);
        this.writeCr(rd, value);
        return this.retire(next, c);
      }
      case 64 /* MOVFROMCR */: {
        if (this.cpl !== 0) return this.fault(V_GP, 0, pc);
        if (!isControlRegister(ra)) return this.fault(V_UD, 0, pc);
        if (this.nonRoot && (this.vmcs.crReadExits >>> ra & 1) !== 0) {
          this.exitQualification = ra | 16 /* READ */ | rd << 8 /* REG_SHIFT */;
          return this.insnExit(28 /* CrAccess */, pc, next, c);
        }
        let value = this.readCr(ra);
        if (this.nonRoot && (ra === 0 || ra === 4)) {
          const vm = this.vmcs;
          const mask = ra === 0 ? vm.cr0GuestHostMask : vm.cr4GuestHostMask;
          value = value & ~mask | (ra === 0 ? vm.cr0ReadShadow : vm.cr4ReadShadow) & mask;
        }
        r[rd] = value;
        return this.retire(next, c);
      }
      case 65 /* LIDT */:
        if (this.cpl !== 0) return this.fault(V_GP, 0, pc);
        this.idtBase = r[ra] >>> 0;
        this.idtLimit = imm & 65535;
        return this.retire(next, c);
      case 66 /* INVLPG */: {
        if (this.cpl !== 0) return this.fault(V_GP, 0, pc);
        const va = r[ra];
        if (this.nonRoot && this.vmcs.exitOnInvlpg) {
          this.exitGuestLinear = va >>> 0;
          this.exitQualification = va >>> 0;
          return this.insnExit(14 /* Invlpg */, pc, next, c);
        }
        this.mmu.invlpg(va);
        return this.retire(next, c);
      }
      case 67 /* LKSP */:
        if (this.cpl !== 0 || imm < 0 || imm > 2) return this.fault(V_GP, 0, pc);
        this.ksp[imm] = r[ra];
        return this.retire(next, c);
      case 68 /* IRET */:
        return this.iret(pc, user, c);
      case 69 /* PUSHF */: {
        const va = r[SP] - 4 | 0;
        this.writeN(va, 4, this.flags, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[SP] = va;
        return this.retire(next, c);
      }
      case 70 /* POPF */: {
        const va = r[SP];
        const v = this.read32(va, ACC_READ2, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[SP] = va + 4 | 0;
        this.flags = this.mergeFlags(v, this.cpl);
        this.updateAttn();
        this.retire(next, c);
        return BOUND;
      }
      case 71 /* RDCPL */:
        r[rd] = this.cpl;
        return this.retire(next, c);
      case 72 /* SIDT */:
        r[rd] = this.idtBase | 0;
        return this.retire(next, c);
      case 73 /* HYPERCALL */:
        if (this.nonRoot) return this.insnExit(18 /* Hypercall */, pc, next, c);
        if (!this.hypercallExits) return this.fault(V_UD, 0, pc);
        this.retire(next, c);
        this.charge(EV_HYPERCALL_ENTRY, 1);
        this.stats.hypercalls++;
        this.exitInsnPc = pc >>> 0;
        this.exitInsnLength = len;
        return 18 /* Hypercall */;
      default:
        return this.fault(V_UD, 0, pc);
    }
  }
  retire(next, c) {
    this.pc = next >>> 0;
    this.cycles += c;
    this.baseCycles += c;
    this.instructions++;
    return CONT;
  }
  branch(target, c) {
    this.pc = target >>> 0;
    this.cycles += c;
    this.baseCycles += c;
    this.instructions++;
    return BOUND;
  }
  iopl() {
    return (this.flags & F_IOPL) >>> IOPL_SHIFT;
  }
  /** FLAGS after POPF/IRET pops `popped` at privilege `cpl`: IOPL only at CPL 0, IF only at CPL <= IOPL. */
  mergeFlags(popped, cpl) {
    const old = this.flags;
    let keep = 0;
    if (cpl > 0) keep |= F_IOPL;
    if (cpl > (old & F_IOPL) >>> IOPL_SHIFT) keep |= F_IF;
    return popped & FLAGS_DEFINED & ~keep | old & keep;
  }
  iret(pc, user, c) {
    const r = this.regs;
    const sp = r[SP];
    const npc = this.read32(sp, ACC_READ2, user);
    if (this.pend !== PEND_NONE) return this.failed(pc);
    const ncs = this.read32(sp + 4 | 0, ACC_READ2, user);
    if (this.pend !== PEND_NONE) return this.failed(pc);
    const nfl = this.read32(sp + 8 | 0, ACC_READ2, user);
    if (this.pend !== PEND_NONE) return this.failed(pc);
    const nsp = this.read32(sp + 12 | 0, ACC_READ2, user);
    if (this.pend !== PEND_NONE) return this.failed(pc);
    if (ncs >>> 0 > 3 || ncs < this.cpl) return this.fault(V_GP, 0, pc);
    this.flags = this.mergeFlags(nfl, this.cpl);
    this.cpl = ncs;
    r[SP] = nsp;
    this.updateAttn();
    return this.branch(npc, c);
  }
  cpuid() {
    answerCpuid(this.regs, this.profile.clockMHz, CPUID_FEATURES_MACHINE, this.mmu.tlbEntries);
  }
  /**
   * A PAUSE at CPL 0 under pause-loop exiting (Vmcs.pauseLoopExiting): one less than PLE_Gap
   * cycles after the last belongs to its spin loop, else it begins one; true when the loop has
   * lasted more than PLE_Window cycles (the PAUSE exits).
   */
  pauseLoopEnds() {
    const vm = this.vmcs;
    const now = this.cycles;
    if (now - vm.pleLast > vm.pleGap) vm.pleLoopStart = now;
    vm.pleLast = now;
    return now - vm.pleLoopStart > vm.pleWindow;
  }
  /** An instruction exit in non-root mode: the instruction retires, pc past it. */
  insnExit(reason, pc, next, c) {
    this.retire(next, c);
    this.setInsnExit(pc, next - pc | 0);
    this.exitIdtVectoring = -1;
    return this.vmExit(reason);
  }
  setInsnExit(pc, len) {
    this.exitInsnPc = pc >>> 0;
    this.exitInsnLength = len;
  }
  // ==================================================================================== exceptions
  /** A fault at pc (saved pc = the instruction). */
  fault(vector, error, pc) {
    return this.raise(vector, error, pc, 0 /* Fault */, pc, -1);
  }
  /** A slow-path access failed: raise the pending fault, or take the pending VM exit. */
  failed(pc) {
    const kind = this.pend;
    this.pend = PEND_NONE;
    if (kind === PEND_EXIT) {
      this.setInsnExit(pc, 0);
      this.exitIdtVectoring = -1;
      return this.vmExit(48 /* EptViolation */);
    }
    return this.raise(this.pendVector, this.pendError, pc, 0 /* Fault */, pc, this.pendAddr);
  }
  /**
   * Raise an event: intercept it (root-mode hook or non-root exception bitmap) or deliver it
   * through the IDT. A fault while delivering an exception becomes #DF; a fault while delivering
   * #DF is a triple fault; a fault while delivering INT n or an external interrupt is delivered
   * in its place. `addr` is the #PF address for CR2 (-1: leave CR2 alone). Returns BOUND when
   * delivered, else an Exit.
   */
  raise(vector, error, savedPc, kind, insnPc, addr, injected = false) {
    let inDoubleFault = vector === V_DF && isException(kind);
    let vectoring = -1;
    let vectoringError = 0;
    let vectoringKind = 3 /* External */;
    let vectoringLength = 0;
    for (; ; ) {
      if (this.nonRoot) {
        const vm = this.vmcs;
        if (!injected && isException(kind) && vector < 32 && (vm.exceptionBitmap >>> vector & 1) !== 0) {
          this.pc = savedPc >>> 0;
          this.exitVector = vector;
          this.exitError = error;
          this.exitKind = kind;
          this.exitQualification = vector === V_PF && addr >= 0 ? addr >>> 0 : 0;
          this.setInsnExit(insnPc, vectoringLength);
          this.setVectoring(vectoring, vectoringError, vectoringKind);
          return this.vmExit(0 /* Exception */);
        }
      } else if (this.interceptVector[vector] !== 0) {
        if (vector === V_PF && addr >= 0) this.cr2 = addr >>> 0;
        this.pc = savedPc >>> 0;
        this.exitVector = vector;
        this.exitError = error;
        this.exitKind = kind;
        this.setInsnExit(insnPc, 0);
        this.setVectoring(vectoring, vectoringError, vectoringKind);
        this.charge(kind === 2 /* Software */ ? EV_INT_DELIVERY : EV_TRAP_DELIVERY, 1);
        this.halted = false;
        this.stats.intercepts++;
        return 0 /* Exception */;
      }
      if (vector === V_PF && addr >= 0) this.cr2 = addr >>> 0;
      const res = this.deliver(vector, error, savedPc, kind);
      if (res === DELIVERED) return BOUND;
      vectoring = vector;
      vectoringError = error;
      vectoringKind = kind;
      vectoringLength = kind === 2 /* Software */ || kind === 1 /* Trap */ ? savedPc - insnPc | 0 : 0;
      if (res === DELIVERY_EXIT) {
        this.pend = PEND_NONE;
        this.pc = insnPc >>> 0;
        this.setInsnExit(insnPc, vectoringLength);
        this.setVectoring(vectoring, vectoringError, vectoringKind);
        return this.vmExit(48 /* EptViolation */);
      }
      this.pend = PEND_NONE;
      injected = false;
      if (this.nonRoot && this.pendVector < 32 && (this.vmcs.exceptionBitmap >>> this.pendVector & 1) !== 0) {
        vector = this.pendVector;
        error = this.pendError;
        addr = vector === V_PF ? this.pendAddr : -1;
        kind = 0 /* Fault */;
        savedPc = insnPc;
        continue;
      }
      if (inDoubleFault) return this.tripleFault(insnPc);
      if (isException(kind)) {
        this.stats.doubleFaults++;
        vector = V_DF;
        error = 0;
        addr = -1;
        inDoubleFault = true;
      } else {
        vector = this.pendVector;
        error = this.pendError;
        addr = this.pendVector === V_PF ? this.pendAddr : -1;
      }
      kind = 0 /* Fault */;
      savedPc = insnPc;
    }
  }
  setVectoring(vector, error, kind) {
    this.exitIdtVectoring = vector;
    this.exitIdtVectoringError = error;
    this.exitIdtVectoringKind = kind;
  }
  tripleFault(pc) {
    this.stats.tripleFaults++;
    this.pc = pc >>> 0;
    if (this.nonRoot) {
      this.setInsnExit(pc, 0);
      return this.vmExit(2 /* TripleFault */);
    }
    this.halted = false;
    return 2 /* TripleFault */;
  }
  /**
   * Deliver through the IDT (docs/isa.md "Traps and interrupts"). Nothing changes unless the
   * whole delivery succeeds. DELIVERY_FAULT leaves the new fault in pendVector/pendError/pendAddr.
   */
  deliver(vector, error, savedPc, kind) {
    if (vector >= this.idtLimit) return this.deliveryGp(vector);
    const gate = this.idtBase + vector * GATE_BYTES | 0;
    const handler = this.read32(gate, ACC_READ2, false);
    if (this.pend !== PEND_NONE) return this.deliveryFailure();
    const gflags = this.read32(gate + 4 | 0, ACC_READ2, false);
    if (this.pend !== PEND_NONE) return this.deliveryFailure();
    if ((gflags & 1 /* PRESENT */) === 0) return this.deliveryGp(vector);
    const dpl = gflags >>> 1 /* DPL_SHIFT */ & 3;
    const ring = gflags >>> 3 /* RING_SHIFT */ & 3;
    if (kind === 2 /* Software */ && this.cpl > dpl) return this.deliveryGp(vector);
    if (ring > this.cpl) return this.deliveryGp(vector);
    const r = this.regs;
    const oldSp = r[SP];
    const newSp = ring < this.cpl ? this.ksp[ring] : oldSp;
    const base = newSp - 24 /* BYTES */ | 0;
    const frameUser = ring === 3;
    const pa0 = this.mmu.xlate(base, ACC_WRITE2, frameUser);
    if (pa0 < 0) return this.deliveryFailure();
    const last = base + 24 /* BYTES */ - 1 | 0;
    let pa1 = -1;
    if (((last ^ base) & PAGE_MASK3) !== 0) {
      pa1 = this.mmu.xlate(last & PAGE_MASK3, ACC_WRITE2, frameUser);
      if (pa1 < 0) return this.deliveryFailure();
    }
    this.storeFrameWord(base, 0 /* VECTOR */, vector, pa0, pa1);
    this.storeFrameWord(base, 4 /* ERROR */, error, pa0, pa1);
    this.storeFrameWord(base, 8 /* PC */, savedPc, pa0, pa1);
    this.storeFrameWord(base, 12 /* CS */, this.cpl, pa0, pa1);
    this.storeFrameWord(base, 16 /* FLAGS */, this.flags, pa0, pa1);
    this.storeFrameWord(base, 20 /* SP */, oldSp, pa0, pa1);
    r[SP] = base;
    this.cpl = ring;
    if ((gflags & 32 /* TRAP */) === 0) this.flags &= ~F_IF;
    this.pc = handler >>> 0;
    this.halted = false;
    if (!this.unchargedDelivery) this.charge(kind === 2 /* Software */ ? EV_INT_DELIVERY : EV_TRAP_DELIVERY, 1);
    this.stats.delivered[vector]++;
    this.updateAttn();
    return DELIVERED;
  }
  /** An access during delivery failed: which way. */
  deliveryFailure() {
    return this.pend === PEND_EXIT ? DELIVERY_EXIT : DELIVERY_FAULT;
  }
  deliveryGp(vector) {
    this.pend = PEND_FAULT;
    this.pendVector = V_GP;
    this.pendError = vector * 8 + 2;
    this.pendAddr = 0;
    return DELIVERY_FAULT;
  }
  /** Store one frame word at base + off, given the pre-translated pages of the frame. */
  storeFrameWord(base, off, value, pa0, pa1) {
    const va = base + off | 0;
    const pageOff = base & 4095;
    if (pa1 < 0 && (pa0 & 3) === 0) {
      this.physWrite(pa0 + off, 4, value);
      return;
    }
    for (let k = 0; k < 4; k++) {
      const b = va + k | 0;
      const pa = ((b ^ base) & PAGE_MASK3) === 0 ? pa0 + (b & 4095) - pageOff : pa1 + (b & 4095);
      this.physWrite(pa, 1, value >>> 8 * k);
    }
  }
  /**
   * Deliver an event through the IDT on the host's behalf (trap-and-emulate reflection, event
   * injection). No intercept is consulted for the event itself; a fault during its delivery is
   * raised normally (and may be intercepted). pc is taken as the saved pc. Returns -1 if
   * delivered, else the Exit the CPU would have returned. chargeDelivery false: the host built
   * the frame in software and charges that itself (the hardware delivery is not charged).
   */
  deliverTrap(vector, error = 0, kind = 0 /* Fault */, chargeDelivery = true) {
    const pc = this.pc | 0;
    this.unchargedDelivery = !chargeDelivery;
    const res = this.deliver(vector & 255, error, pc, kind);
    this.unchargedDelivery = false;
    if (res === DELIVERED) return -1;
    if (res === DELIVERY_EXIT) {
      this.pend = PEND_NONE;
      this.setInsnExit(pc, 0);
      this.setVectoring(vector & 255, error, kind);
      return this.vmExit(48 /* EptViolation */);
    }
    this.pend = PEND_NONE;
    const second = kind === 0 /* Fault */ || kind === 1 /* Trap */ ? V_DF : this.pendVector;
    const secondError = second === V_DF ? 0 : this.pendError;
    const addr = second === V_PF ? this.pendAddr : -1;
    const out = this.raise(second, secondError, pc, 0 /* Fault */, pc, addr);
    return out === BOUND ? -1 : out;
  }
  // ======================================================================== VM entry and VM exit
  /** Enter non-root mode with `vmcs` (or the current one); injects vmcs.injectVector at the next run(). */
  vmEntry(vmcs) {
    if (vmcs) this.vmcs = vmcs;
    if (!this.vmcs) throw new Error("Cpu.vmEntry: no VMCS");
    if (this.nonRoot) throw new Error("Cpu.vmEntry: already in non-root mode");
    this.nonRoot = true;
    this.vmcs.pleLast = -Infinity;
    this.charge(EV_VM_ENTRY, 1);
    this.mmu.vmEntryTlb(this.profile.vpid ? this.vmcs.vpid : 0);
    this.halted = false;
    this.injectPending = this.vmcs.injectVector >= 0;
    this.stats.vmEntries++;
    this.updateAttn();
  }
  /** Leave non-root mode with `reason`: charge the exit, flush the TLB, fill the VMCS exit area. */
  vmExit(reason) {
    const vm = this.vmcs;
    this.nonRoot = false;
    this.halted = false;
    this.charge(EV_VM_EXIT, 1);
    this.mmu.vmExitTlb();
    this.stats.vmExits++;
    vm.exitReason = reason;
    vm.exitQualification = this.exitQualification;
    vm.exitGuestPhys = this.exitGuestPhys;
    vm.exitGuestLinear = this.exitGuestLinear;
    vm.exitInsnPc = this.exitInsnPc;
    vm.exitInsnLength = this.exitInsnLength;
    vm.exitVector = this.exitVector;
    vm.exitError = this.exitError;
    vm.exitKind = this.exitKind;
    vm.idtVectoring = this.exitIdtVectoring;
    vm.idtVectoringError = this.exitIdtVectoringError;
    vm.idtVectoringKind = this.exitIdtVectoringKind;
    if (reason < vm.exitCounts.length) vm.exitCounts[reason]++;
    this.updateAttn();
    return reason;
  }
  /** After Exit.Hypercall in root mode: r0 = result, and charge the return to the guest. */
  hypercallReturn(result) {
    this.regs[0] = result;
    this.charge(EV_HYPERCALL_EXIT, 1);
  }
  /** After a root-mode intercept the host handled: charge the return to the guest (an IRET). */
  returnFromIntercept() {
    this.charge(EV_INTERCEPT_RETURN, 1);
  }
  // ================================================= control registers, the ledger, the MMU's walks and reports
  /** Write control register n with its architectural effects (CR0/CR3 flush the TLB). False if n is not a CR. */
  writeCr(n, value) {
    switch (n) {
      case 0:
        this.cr0 = value & (CR0_PG | CR0_WP);
        this.mmu.flushTlb();
        return true;
      case 2:
        this.cr2 = value >>> 0;
        return true;
      case 3:
        this.cr3 = (value & PAGE_MASK3) >>> 0;
        this.mmu.flushTlb();
        return true;
      case 4:
        this.cr4 = value & CR4_TSD;
        return true;
      default:
        return false;
    }
  }
  /** Control register n (unsigned), or -1 if n is not a CR. */
  readCr(n) {
    switch (n) {
      case 0:
        return this.cr0;
      case 2:
        return this.cr2;
      case 3:
        return this.cr3;
      case 4:
        return this.cr4;
      default:
        return -1;
    }
  }
  /**
   * A TLB miss on the fast path: walk and fill without leaving the loop. Returns the cycles the
   * walk cost (the caller adds them to its own count), or -1 if the walk faulted or exited; then
   * the charge and the pending fault are dropped and step() redoes the access from scratch,
   * walking again (the walk is deterministic and its A/D updates idempotent, so both engines end
   * in the same state). A successful walk may still leave no usable tag (a page outside memory);
   * the caller re-checks the tag and, if it must fall back to step(), does not add the cycles.
   */
  refill(va, acc, user) {
    const c0 = this.cycles;
    const ev = this.evCount;
    const t0 = ev[EV_TLB_WALK2];
    const e0 = ev[EV_EPT_WALK2];
    const pa = this.mmu.walk(va, acc, user, true);
    const charged = this.cycles - c0;
    this.cycles = c0;
    this.refillTlbRefs = ev[EV_TLB_WALK2] - t0;
    this.refillEptRefs = ev[EV_EPT_WALK2] - e0;
    ev[EV_TLB_WALK2] = t0;
    ev[EV_EPT_WALK2] = e0;
    if (pa < 0) {
      this.stats.tlbMisses--;
      this.pend = PEND_NONE;
      return -1;
    }
    return charged;
  }
  /** walk cycles of the last successful txMiss (translated code adds them to its count) */
  txDc = 0;
  /** 1 if the last successful txMiss's walk dropped translations or wrote into a frame marked for the code-store hook (translated code leaves after the access) */
  txSmc = 0;
  /**
   * Translated code's TLB miss (machine/semantics.ts txTlb), out of line: the fast loop's refill
   * sequence for an access of align + 1 bytes with tags t. Returns the TLB entry, or -1 when the
   * access needs the general path (unaligned, the walk faults or exits, no entry after the fill),
   * charging nothing then, exactly as the fast loop leaves. On success the walk's cycles are in
   * txDc (already entered in the ledger) and txSmc says whether the walk's accessed/dirty writes
   * dropped translations.
   */
  txMiss(va, acc, align2, user, t) {
    if ((va & align2) !== 0) return -1;
    const tx = this.tx;
    const ep = tx.epoch;
    const hs = this.hookStores;
    const dc = this.refill(va, acc, user);
    if (dc < 0) return -1;
    const mmu = this.mmu;
    const tag = align2 === 3 ? va & 4294963203 : align2 === 1 ? va & 4294963201 : va & PAGE_MASK3;
    const e = tlbFind2(t, (va >>> 12 & mmu.setMask) << mmu.wayShift, mmu.tlbWays, tag);
    if (e < 0) return -1;
    this.refillCharged(dc);
    this.txDc = dc;
    this.txSmc = tx.epoch !== ep || this.hookStores !== hs ? 1 : 0;
    return e;
  }
  /** The fast loop added the last refill's `cycles`: enter its walk references in the ledger. */
  refillCharged(cycles) {
    this.evCount[EV_TLB_WALK2] += this.refillTlbRefs;
    this.evCount[EV_EPT_WALK2] += this.refillEptRefs;
    this.loopWalkCycles += cycles;
  }
  /** Charge n events of ledger kind `ev` (machine/ledger.ts): n x its unit cost. */
  charge(ev, n) {
    this.evCount[ev] += n;
    this.cycles += n * this.evUnit[ev];
  }
  /** Charge an instruction's own cost (a monitor that completes a guest instruction itself). */
  chargeInstruction(c) {
    this.cycles += c;
    this.baseCycles += c;
  }
  /** The MMU's report: a committed translation failed with #PF (error code, address for CR2). */
  pendPageFault(error, addr) {
    this.pend = PEND_FAULT;
    this.pendVector = V_PF;
    this.pendError = error;
    this.pendAddr = addr;
  }
  /** The MMU's report: a committed translation failed in the second stage (the exit's information). */
  pendEptViolation(guestPhys, guestLinear, qualification) {
    this.pend = PEND_EXIT;
    this.exitGuestPhys = guestPhys;
    this.exitGuestLinear = guestLinear;
    this.exitQualification = qualification;
  }
  // ============================================================================ slow-path accesses
  fetch32(pc, user) {
    const mmu = this.mmu;
    if ((pc & 4294963203) === mmu.icV && mmu.icUser === user) return this.mem.i32[pc + mmu.icA >> 2];
    if ((pc & 3) !== 0) return this.read32(pc, ACC_FETCH2, user);
    const pa = mmu.xlateFetch(pc, user);
    if (pa < 0) return 0;
    return this.physRead(pa, 4);
  }
  read32(va, acc, user) {
    return this.readN(va, 4, acc, user) | 0;
  }
  /** Read size (1, 2, 4) bytes at va, any alignment, crossing pages if need be; unsigned for 1 and 2. */
  readN(va, size, acc, user) {
    if ((va & 4095) <= 4096 - size) {
      const pa = this.mmu.xlate(va, acc, user);
      if (pa < 0) return 0;
      return this.physRead(pa, size);
    }
    const pa0 = this.mmu.xlate(va, acc, user);
    if (pa0 < 0) return 0;
    const pa1 = this.mmu.xlate((va & PAGE_MASK3) + 4096 | 0, acc, user);
    if (pa1 < 0) return 0;
    const first2 = 4096 - (va & 4095);
    let v = 0;
    for (let k = 0; k < size; k++) {
      const b = k < first2 ? this.physRead(pa0 + k, 1) : this.physRead(pa1 + k - first2, 1);
      v |= b << 8 * k;
    }
    return size === 4 ? v : v >>> 0;
  }
  /** Write size (1, 2, 4) bytes at va; on a fault nothing is written. */
  writeN(va, size, value, user) {
    if ((va & 4095) <= 4096 - size) {
      const pa = this.mmu.xlate(va, ACC_WRITE2, user);
      if (pa >= 0) this.physWrite(pa, size, value);
      return;
    }
    const pa0 = this.mmu.xlate(va, ACC_WRITE2, user);
    if (pa0 < 0) return;
    const pa1 = this.mmu.xlate((va & PAGE_MASK3) + 4096 | 0, ACC_WRITE2, user);
    if (pa1 < 0) return;
    const first2 = 4096 - (va & 4095);
    for (let k = 0; k < size; k++) {
      this.physWrite(k < first2 ? pa0 + k : pa1 + k - first2, 1, value >>> 8 * k);
    }
  }
  /** Read within one page of host-physical memory; open bus (all ones) beyond installed memory. */
  physRead(pa, size) {
    const mem = this.mem;
    if (pa >= mem.size) return size === 4 ? -1 : size === 2 ? 65535 : 255;
    if (size === 1) return mem.u8[pa];
    if (size === 2) return (pa & 1) === 0 ? mem.u16[pa >>> 1] : mem.u8[pa] | mem.u8[pa + 1] << 8;
    if ((pa & 3) === 0) return mem.i32[pa >>> 2];
    const m = mem.u8;
    return m[pa] | m[pa + 1] << 8 | m[pa + 2] << 16 | m[pa + 3] << 24;
  }
  /** Write within one page of host-physical memory; dropped beyond installed memory. */
  physWrite(pa, size, value) {
    const mem = this.mem;
    if (pa >= mem.size) return;
    if (this.tbFrame[pa >>> 12] !== 0) this.codeStored(pa, size);
    if (size === 1) {
      mem.u8[pa] = value;
    } else if (size === 2 && (pa & 1) === 0) {
      mem.u16[pa >>> 1] = value;
    } else if (size === 4 && (pa & 3) === 0) {
      mem.i32[pa >>> 2] = value;
    } else {
      for (let k = 0; k < size; k++) mem.u8[pa + k] = value >>> 8 * k;
    }
  }
  // ================================================================================= host helpers
  /** Byte at virtual va, or undefined if unmapped (supervisor view unless user). */
  peek8(va, user = false) {
    const pa = this.mmu.translate(va, false, user);
    return pa < 0 ? void 0 : this.mem.read8(pa);
  }
  /** Word at virtual va (unsigned, any alignment within or across pages), or undefined if unmapped. */
  peek32(va, user = false) {
    const bytes = this.peekBytes(va, 4, user);
    return bytes ? (bytes[0] | bytes[1] << 8 | bytes[2] << 16 | bytes[3] << 24) >>> 0 : void 0;
  }
  /** Bytes [va, va + len) of virtual memory, or null if any page is unmapped (open bus reads 0xff). */
  peekBytes(va, len, user = false) {
    const out = new Uint8Array(len);
    for (let k = 0; k < len; k++) {
      const pa = this.mmu.translate(va + k | 0, false, user);
      if (pa < 0) return null;
      out[k] = this.mem.read8(pa);
    }
    return out;
  }
  /** Write a byte at virtual va (a host write: code caches are told). False if unmapped or read-only. */
  poke8(va, value, user = false) {
    const pa = this.mmu.translate(va, true, user);
    return pa >= 0 && this.mem.write8(pa, value);
  }
  /** Write a word at virtual va; nothing is written unless every byte is writable. */
  poke32(va, value, user = false) {
    return this.pokeBytes(va, new Uint8Array([value, value >>> 8, value >>> 16, value >>> 24]), user);
  }
  /** Write bytes at virtual va; nothing is written unless every byte is mapped writable. */
  pokeBytes(va, data, user = false) {
    const pas = [];
    for (let k = 0; k < data.length; k++) {
      const pa = this.mmu.translate(va + k | 0, true, user);
      if (pa < 0 || pa >= this.mem.size) return false;
      pas.push(pa);
    }
    pas.forEach((pa, k) => this.mem.write8(pa, data[k]));
    return true;
  }
  /**
   * Back to the power-on state: registers 0, CPL 0, IF 0, paging off, IDT empty, root mode, TLB
   * empty. The cycle and instruction counters keep counting: they are the platform's time base,
   * and time does not go back (the event queue is keyed by it).
   */
  reset() {
    this.regs.fill(0);
    this.ksp.fill(0);
    this.pc = 0;
    this.flags = 0;
    this.cpl = 0;
    this.cr0 = this.cr2 = this.cr3 = this.cr4 = 0;
    this.idtBase = 0;
    this.idtLimit = 0;
    this.halted = false;
    this.nonRoot = false;
    this.stopReq = false;
    this.injectPending = false;
    this.irqLine = true;
    this.pend = PEND_NONE;
    this.mmu.flushAllTags();
    this.updateAttn();
  }
  saveState() {
    return {
      regs: Array.from(this.regs),
      pc: this.pc,
      flags: this.flags,
      cpl: this.cpl,
      cr0: this.cr0,
      cr2: this.cr2,
      cr3: this.cr3,
      cr4: this.cr4,
      idtBase: this.idtBase,
      idtLimit: this.idtLimit,
      ksp: Array.from(this.ksp),
      cycles: this.cycles,
      instructions: this.instructions,
      halted: this.halted,
      nonRoot: this.nonRoot
    };
  }
  /**
   * Restore a snapshot; the TLB is flushed (its contents are not architectural state), but for a
   * tagged guest's entries (VPID), which stay hidden under their tag (Mmu.worldSwitchTlb). The cost
   * ledger (baseCycles, evCount) is the machine's, like the clock it sums to, not a vCPU's: a world
   * switch keeps it running, so it is not in CpuState. A saved run carries it, and the TLB, with
   * the whole Cpu object (hypervisor/save/).
   */
  loadState(s) {
    this.regs.set(s.regs);
    this.pc = s.pc >>> 0;
    this.flags = s.flags & FLAGS_DEFINED;
    this.cpl = s.cpl & 3;
    this.cr0 = s.cr0 & (CR0_PG | CR0_WP);
    this.cr2 = s.cr2 >>> 0;
    this.cr3 = (s.cr3 & PAGE_MASK3) >>> 0;
    this.cr4 = s.cr4 & CR4_TSD;
    this.idtBase = s.idtBase >>> 0;
    this.idtLimit = s.idtLimit;
    this.ksp.set(s.ksp);
    this.cycles = s.cycles;
    this.instructions = s.instructions;
    this.halted = s.halted;
    this.nonRoot = s.nonRoot;
    this.mmu.worldSwitchTlb();
    this.irqLine = true;
    this.updateAttn();
  }
};
function isException(kind) {
  return kind === 0 /* Fault */ || kind === 1 /* Trap */;
}

// machine/deferred.ts
var FUNCTIONS = /* @__PURE__ */ new Map();
function registerDeferred(name, fn) {
  const had = FUNCTIONS.get(name);
  if (had !== void 0 && had !== fn) throw new Error(`registerDeferred: '${name}' is registered twice`);
  FUNCTIONS.set(name, fn);
}
function invoke(c) {
  if (c.target === null) {
    const fn = FUNCTIONS.get(c.name);
    if (fn === void 0) throw new Error(`deferred call: no function '${c.name}' is registered`);
    fn(...c.args);
    return;
  }
  const m = c.target[c.name];
  if (typeof m !== "function") throw new Error(`deferred call: the target has no method '${c.name}'`);
  m.apply(c.target, c.args);
}
function deferred(target, name, ...args) {
  const f = (() => invoke(f.deferredCall));
  f.deferredCall = { target, name, args };
  return f;
}

// machine/devices/ports.ts
var PIC_CMD = 32;
var PIC_MASK = 33;
var PIC_BASE = 34;
var PIC_STATUS = 35;
var PIC_EOI = 32;
var TIMER_PERIOD = 64;
var TIMER_CONTROL = 65;
var TIMER_COUNT = 66;
var TIMER_TICKS = 67;
var TIMER_ENABLE = 1 << 0;
var TIMER_PERIODIC = 1 << 1;
var UART_DATA = 1016;
var UART_IER = 1017;
var UART_IIR = 1018;
var UART_LSR = 1021;
var UART_IER_RX = 1 << 0;
var UART_IER_TX = 1 << 1;
var UART_LSR_DR = 1 << 0;
var UART_LSR_THRE = 1 << 5;
var UART_LSR_TEMT = 1 << 6;
var BLK_SECTOR = 496;
var BLK_COUNT = 497;
var BLK_ADDR = 498;
var BLK_COMMAND = 499;
var BLK_STATUS = 500;
var BLK_COMPLETE = 501;
var BLK_CAPACITY = 502;
var BLK_CMD_READ = 1;
var BLK_CMD_WRITE = 2;
var BLK_OK = 1;
var BLK_ERROR = 2;
var BLK_QUEUE_DEPTH = 8;
var SECTOR_BYTES = 512;
var NIC_CTRL = 768;
var NIC_TX_BASE = 769;
var NIC_TX_SIZE = 770;
var NIC_TX_TAIL = 771;
var NIC_TX_HEAD = 772;
var NIC_RX_BASE = 773;
var NIC_RX_SIZE = 774;
var NIC_RX_TAIL = 775;
var NIC_RX_HEAD = 776;
var NIC_ISR = 777;
var NIC_IMR = 778;
var NIC_MAC_LO = 779;
var NIC_MAC_HI = 780;
var NIC_STAT_SEL = 781;
var NIC_STAT = 782;
var NIC_IP = 783;
var NIC_CTRL_ENABLE = 1;
var NIC_ISR_TX = 1 << 0;
var NIC_ISR_RX = 1 << 1;
var NIC_ISR_DROP = 1 << 2;
var NIC_MTU = 1514;
var NIC_MIN_FRAME = 14;
var NIC_RING_MAX = 256;
var NIC_DESC_BYTES = 16;
var NIC_DESC_ADDR = 0;
var NIC_DESC_LEN = 4;
var NIC_DESC_STATUS = 8;
var NIC_DESC_RXLEN = 12;
var NIC_DESC_DONE = 1;
var NIC_DESC_ERROR = 2;
var NIC_STAT_TX_FRAMES = 0;
var NIC_STAT_TX_BYTES = 1;
var NIC_STAT_TX_ERRORS = 2;
var NIC_STAT_RX_FRAMES = 3;
var NIC_STAT_RX_BYTES = 4;
var NIC_STAT_RX_NO_BUFFER = 5;
var NIC_STAT_RX_MALFORMED = 6;
var NIC_STAT_RX_ERRORS = 7;
var NIC_STAT_COUNT = 8;
var SYS_POWEROFF = 1281;
var LAPIC_ID = 1536;
var LAPIC_CPUS = 1537;
var LAPIC_EOI = 1538;
var LAPIC_ICR = 1539;
var LAPIC_TIMER_PERIOD = 1540;
var LAPIC_TIMER_CONTROL = 1541;
var LAPIC_START_PC = 1542;
var LAPIC_START_SP = 1543;
var LAPIC_START = 1544;
var LAPIC_ONLINE = 1545;
var LAPIC_ICR_ALL_BUT_SELF = 1 << 16;
var LAPIC_TIMER_ENABLE = 1 << 8;
var LAPIC_TIMER_PERIODIC = 1 << 9;

// machine/devices/block.ts
var BLK_DEFAULT_REQUEST_CYCLES = 2e4;
var BLK_DEFAULT_PER_SECTOR_CYCLES = 2e3;
var BlockDevice = class {
  /** backing: the disk's bytes (e.g. a file loaded by the caller), read and written in place. */
  constructor(ctx, backing, timing = {}) {
    this.ctx = ctx;
    this.backing = backing;
    this.requestCycles = checkCycles("requestCycles", timing.requestCycles ?? BLK_DEFAULT_REQUEST_CYCLES);
    this.perSectorCycles = checkCycles("perSectorCycles", timing.perSectorCycles ?? BLK_DEFAULT_PER_SECTOR_CYCLES);
    this.capacitySectors = Math.floor(backing.length / SECTOR_BYTES);
  }
  ctx;
  backing;
  name = "block";
  portBase = BLK_SECTOR;
  portCount = BLK_CAPACITY - BLK_SECTOR + 1;
  /** capacity in whole sectors (a partial last sector of the backing is not addressable) */
  capacitySectors;
  requestCycles;
  perSectorCycles;
  /** the next request's parameters, as last written */
  sector = 0;
  count = 0;
  addr = 0;
  lastRefused = false;
  /** submitted, not yet completed, in submission order */
  inFlight = [];
  /** completion words (tag | result << 8) waiting to be popped, oldest first */
  completions = [];
  /** cycle at which the last queued request finishes */
  busyUntil = 0;
  /**
   * Statistics since power-on, kept across reset: successful read and write requests and the
   * sectors they moved, requests completed with BLK_ERROR, submissions refused.
   */
  reads = 0;
  writes = 0;
  sectorsRead = 0;
  sectorsWritten = 0;
  errors = 0;
  refused = 0;
  reset() {
    for (const r of this.inFlight) this.ctx.cancel(r.handle);
    this.inFlight = [];
    this.completions = [];
    this.busyUntil = 0;
    this.sector = this.count = this.addr = 0;
    this.lastRefused = false;
  }
  /** Total sectors moved (read + written). */
  get sectors() {
    return this.sectorsRead + this.sectorsWritten;
  }
  read(port2, _size) {
    switch (port2) {
      case BLK_STATUS:
        return this.status();
      case BLK_COMPLETE:
        return this.popCompletion();
      case BLK_CAPACITY:
        return this.capacitySectors >>> 0;
      default:
        return 0;
    }
  }
  write(port2, _size, value) {
    switch (port2) {
      case BLK_SECTOR:
        this.sector = value >>> 0;
        return;
      case BLK_COUNT:
        this.count = value >>> 0;
        return;
      case BLK_ADDR:
        this.addr = value >>> 0;
        return;
      case BLK_COMMAND:
        this.submit(value & 255, value >>> 8 & 255);
        return;
      default:
        return;
    }
  }
  slotsUsed() {
    return this.inFlight.length + this.completions.length;
  }
  status() {
    return (this.slotsUsed() >= BLK_QUEUE_DEPTH ? 1 : 0) | (this.lastRefused ? 2 : 0) | this.inFlight.length << 8 | this.completions.length << 16;
  }
  submit(cmd, tag) {
    if (cmd !== BLK_CMD_READ && cmd !== BLK_CMD_WRITE || this.slotsUsed() >= BLK_QUEUE_DEPTH) {
      this.lastRefused = true;
      this.refused++;
      return;
    }
    this.lastRefused = false;
    const { sector, count, addr } = this;
    const inRange = count >= 1 && sector + count <= this.capacitySectors;
    const serviceCycles = this.requestCycles + (inRange ? count * this.perSectorCycles : 0);
    const finish = Math.max(this.ctx.now(), this.busyUntil) + serviceCycles;
    this.busyUntil = finish;
    const req = { tag, cmd, sector, count, addr, inRange, handle: 0 };
    req.handle = this.ctx.schedule(finish, deferred(this, "complete", req));
    this.inFlight.push(req);
  }
  /** The request finished: move its data, queue its completion, raise the line. */
  complete(req) {
    this.inFlight.shift();
    const ok = req.inRange && this.transfer(req);
    if (!ok) this.errors++;
    this.completions.push(req.tag | (ok ? BLK_OK : BLK_ERROR) << 8);
    this.ctx.raiseIrq(14 /* Block */);
  }
  /** Move the data by DMA; false on a bad guest buffer (nothing is written to the backing then). */
  transfer(req) {
    const offset = req.sector * SECTOR_BYTES;
    const bytes = req.count * SECTOR_BYTES;
    if (req.cmd === BLK_CMD_READ) {
      if (!this.ctx.dmaWrite(req.addr, this.backing.subarray(offset, offset + bytes))) return false;
      this.reads++;
      this.sectorsRead += req.count;
    } else {
      const data = this.ctx.dmaRead(req.addr, bytes);
      if (data === null || data.length !== bytes) return false;
      this.backing.set(data, offset);
      this.writes++;
      this.sectorsWritten += req.count;
    }
    return true;
  }
  popCompletion() {
    const c = this.completions.shift();
    if (c === void 0) return 4294967295;
    if (this.completions.length === 0) this.ctx.lowerIrq(14 /* Block */);
    return c;
  }
};
function checkCycles(what, n) {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`BlockDevice: ${what} must be a non-negative integer, got ${n}`);
  return n;
}

// machine/devices/nic.ts
var NIC_DEFAULT_MAC = 90520731923542;
function macToBytes(mac) {
  const b = new Uint8Array(6);
  let m = mac;
  for (let k = 5; k >= 0; k--) {
    b[k] = m % 256;
    m = Math.floor(m / 256);
  }
  return b;
}
function macFromBytes(b) {
  let m = 0;
  for (let k = 0; k < 6; k++) m = m * 256 + b[k];
  return m;
}
var Nic = class {
  /** mac: the 48-bit station address; ip: the IPv4 address NIC_IP reports (0: none configured). */
  constructor(ctx, onTransmit, mac = NIC_DEFAULT_MAC, ip = 0) {
    this.ctx = ctx;
    this.onTransmit = onTransmit;
    this.mac = mac;
    this.ip = ip;
  }
  ctx;
  onTransmit;
  mac;
  ip;
  name = "nic";
  portBase = NIC_CTRL;
  portCount = NIC_IP - NIC_CTRL + 1;
  ctrl = 0;
  txBase = 0;
  txSize = 0;
  txHead = 0;
  txTail = 0;
  rxBase = 0;
  rxSize = 0;
  rxHead = 0;
  rxTail = 0;
  isr = 0;
  imr = 0;
  statSel = 0;
  /** scratch for one descriptor read (no allocation per frame for the descriptor itself) */
  word = new Uint8Array(4);
  wordView = new DataView(this.word.buffer);
  /** counters since power-on (kept across reset), indexed by NIC_STAT_* */
  stats = new Float64Array(NIC_STAT_COUNT);
  reset() {
    this.ctrl = 0;
    this.txBase = this.txSize = this.txHead = this.txTail = 0;
    this.rxBase = this.rxSize = this.rxHead = this.rxTail = 0;
    this.isr = 0;
    this.imr = 0;
    this.statSel = 0;
    this.ctx.lowerIrq(11 /* Nic */);
  }
  get enabled() {
    return (this.ctrl & NIC_CTRL_ENABLE) !== 0;
  }
  /** The station address as six bytes, in wire order. */
  macBytes() {
    return macToBytes(this.mac);
  }
  /**
   * A frame arrives from the wire (the host). It is copied into the next posted buffer, or
   * dropped and counted. Returns whether it was delivered.
   */
  receive(frame) {
    const s = this.stats;
    if (frame.length < NIC_MIN_FRAME || frame.length > NIC_MTU) {
      s[NIC_STAT_RX_MALFORMED]++;
      this.signal(NIC_ISR_DROP);
      return false;
    }
    if (!this.enabled || this.rxSize === 0 || this.rxHead === this.rxTail) {
      s[NIC_STAT_RX_NO_BUFFER]++;
      this.signal(NIC_ISR_DROP);
      return false;
    }
    const desc = this.rxBase + this.rxHead * NIC_DESC_BYTES;
    this.rxHead = (this.rxHead + 1) % this.rxSize;
    const addr = this.readWord(desc + NIC_DESC_ADDR);
    const cap = this.readWord(desc + NIC_DESC_LEN);
    const ok = addr !== -1 && cap !== -1 && cap >= frame.length && this.ctx.dmaWrite(addr, frame);
    if (!ok) {
      s[NIC_STAT_RX_ERRORS]++;
      this.writeWord(desc + NIC_DESC_RXLEN, 0);
      this.writeWord(desc + NIC_DESC_STATUS, NIC_DESC_DONE | NIC_DESC_ERROR);
      this.signal(NIC_ISR_DROP | NIC_ISR_RX);
      return false;
    }
    s[NIC_STAT_RX_FRAMES]++;
    s[NIC_STAT_RX_BYTES] += frame.length;
    this.writeWord(desc + NIC_DESC_RXLEN, frame.length);
    this.writeWord(desc + NIC_DESC_STATUS, NIC_DESC_DONE);
    this.signal(NIC_ISR_RX);
    return true;
  }
  read(port2, _size) {
    switch (port2) {
      case NIC_CTRL:
        return this.ctrl;
      case NIC_TX_BASE:
        return this.txBase;
      case NIC_TX_SIZE:
        return this.txSize;
      case NIC_TX_TAIL:
        return this.txTail;
      case NIC_TX_HEAD:
        return this.txHead;
      case NIC_RX_BASE:
        return this.rxBase;
      case NIC_RX_SIZE:
        return this.rxSize;
      case NIC_RX_TAIL:
        return this.rxTail;
      case NIC_RX_HEAD:
        return this.rxHead;
      case NIC_ISR: {
        const isr = this.isr;
        this.isr = 0;
        this.ctx.lowerIrq(11 /* Nic */);
        return isr;
      }
      case NIC_IMR:
        return this.imr;
      case NIC_MAC_LO:
        return this.mac % 4294967296 >>> 0;
      case NIC_MAC_HI:
        return Math.floor(this.mac / 4294967296) & 65535;
      case NIC_STAT:
        return this.statSel < NIC_STAT_COUNT ? this.stats[this.statSel] >>> 0 : 0;
      case NIC_IP:
        return this.ip >>> 0;
      default:
        return 0;
    }
  }
  write(port2, _size, value) {
    const v = value >>> 0;
    switch (port2) {
      case NIC_CTRL:
        this.ctrl = v & NIC_CTRL_ENABLE;
        this.txHead = this.txTail = this.rxHead = this.rxTail = 0;
        return;
      case NIC_TX_BASE:
        this.txBase = v;
        return;
      case NIC_TX_SIZE:
        this.txSize = this.ringSize(v);
        this.txHead = this.txTail = 0;
        return;
      case NIC_TX_TAIL:
        if (this.txSize === 0) return;
        this.txTail = v % this.txSize;
        this.transmit();
        return;
      case NIC_RX_BASE:
        this.rxBase = v;
        return;
      case NIC_RX_SIZE:
        this.rxSize = this.ringSize(v);
        this.rxHead = this.rxTail = 0;
        return;
      case NIC_RX_TAIL:
        if (this.rxSize === 0) return;
        this.rxTail = v % this.rxSize;
        return;
      case NIC_IMR:
        this.imr = v & (NIC_ISR_TX | NIC_ISR_RX | NIC_ISR_DROP);
        this.updateLine();
        return;
      case NIC_STAT_SEL:
        this.statSel = v;
        return;
      default:
        return;
    }
  }
  /** A size above NIC_RING_MAX is taken as no ring (0): the driver reads back what it got. */
  ringSize(v) {
    return v <= NIC_RING_MAX ? v : 0;
  }
  /** Send every descriptor in [HEAD, TAIL). */
  transmit() {
    if (!this.enabled) return;
    const s = this.stats;
    let sent = false;
    while (this.txHead !== this.txTail) {
      const desc = this.txBase + this.txHead * NIC_DESC_BYTES;
      this.txHead = (this.txHead + 1) % this.txSize;
      const addr = this.readWord(desc + NIC_DESC_ADDR);
      const len = this.readWord(desc + NIC_DESC_LEN);
      const frame = addr !== -1 && len >= NIC_MIN_FRAME && len <= NIC_MTU ? this.ctx.dmaRead(addr, len) : null;
      if (frame === null || frame.length !== len) {
        s[NIC_STAT_TX_ERRORS]++;
        this.writeWord(desc + NIC_DESC_STATUS, NIC_DESC_DONE | NIC_DESC_ERROR);
        this.signal(NIC_ISR_DROP);
        continue;
      }
      s[NIC_STAT_TX_FRAMES]++;
      s[NIC_STAT_TX_BYTES] += len;
      this.writeWord(desc + NIC_DESC_STATUS, NIC_DESC_DONE);
      sent = true;
      this.onTransmit(frame);
    }
    if (sent) this.signal(NIC_ISR_TX);
  }
  /** One little-endian word of guest memory, or -1 when it lies outside memory. */
  readWord(paddr) {
    if (paddr > 4294967292) return -1;
    const b = this.ctx.dmaRead(paddr, 4);
    if (b === null || b.length !== 4) return -1;
    return (b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24) >>> 0;
  }
  writeWord(paddr, value) {
    if (paddr > 4294967292) return;
    this.wordView.setUint32(0, value >>> 0, true);
    this.ctx.dmaWrite(paddr, this.word);
  }
  signal(bits) {
    this.isr |= bits;
    this.updateLine();
  }
  updateLine() {
    if ((this.isr & this.imr) !== 0) this.ctx.raiseIrq(11 /* Nic */);
    else this.ctx.lowerIrq(11 /* Nic */);
  }
};

// machine/devices/pic.ts
var PIC_LINES = 16;
var LINES_MASK = 65535;
var RESET_MASK = 65535;
var RESET_BASE = 32;
function lowestBit(bits) {
  return bits === 0 ? 32 : 31 - Math.clz32(bits & -bits);
}
var Pic = class {
  /** onChange: called whenever a line may have become deliverable (raise, unmask, EOI, base change). */
  constructor(onChange) {
    this.onChange = onChange;
  }
  onChange;
  name = "pic";
  portBase = PIC_CMD;
  portCount = PIC_STATUS - PIC_CMD + 1;
  /** requested lines (IRR) */
  requested = 0;
  /** lines in service (ISR): acknowledged, not yet ended by EOI */
  inService = 0;
  /** bit n set = line n masked (IMR) */
  mask = RESET_MASK;
  /** vector of line 0; line n is delivered as (base + n) & 0xff */
  base = RESET_BASE;
  /** interrupts acknowledged per line, since power-on (statistics, like /proc/interrupts) */
  delivered = new Float64Array(PIC_LINES);
  reset() {
    this.requested = 0;
    this.inService = 0;
    this.mask = RESET_MASK;
    this.base = RESET_BASE;
  }
  /** A device asserts a line: an edge sets its request bit. Lines outside 0..15 are ignored. */
  raise(line) {
    if (!validLine(line)) return;
    this.requested |= 1 << line;
    this.onChange();
  }
  /** A device withdraws a request that has not been acknowledged yet. */
  lower(line) {
    if (!validLine(line)) return;
    this.requested &= ~(1 << line);
  }
  /** The highest-priority deliverable line, or -1: unmasked, requested, above every line in service. */
  deliverableLine() {
    const line = lowestBit(this.requested & ~this.mask & LINES_MASK);
    return line < lowestBit(this.inService) ? line : -1;
  }
  pendingVector() {
    const line = this.deliverableLine();
    return line < 0 ? -1 : this.base + line & 255;
  }
  /** INTA: the pending line moves from requested to in service. Returns its vector, or -1 if none. */
  acknowledge() {
    const line = this.deliverableLine();
    if (line < 0) return -1;
    this.requested &= ~(1 << line);
    this.inService |= 1 << line;
    this.delivered[line]++;
    return this.base + line & 255;
  }
  /** Requested lines in bits 0..15, in-service lines in bits 16..31 (the PIC_STATUS value). */
  status() {
    return (this.requested | this.inService << 16) >>> 0;
  }
  read(port2, _size) {
    switch (port2) {
      case PIC_MASK:
        return this.mask;
      case PIC_BASE:
        return this.base;
      case PIC_STATUS:
        return this.status();
      default:
        return 0;
    }
  }
  write(port2, _size, value) {
    switch (port2) {
      case PIC_CMD:
        if ((value & 255) === PIC_EOI) this.endOfInterrupt();
        return;
      // other commands are ignored
      case PIC_MASK: {
        const unmasked = this.mask & ~value;
        this.mask = value & LINES_MASK;
        if (unmasked & LINES_MASK) this.onChange();
        return;
      }
      case PIC_BASE: {
        const base = value & 255;
        if (base !== this.base) {
          this.base = base;
          this.onChange();
        }
        return;
      }
      default:
        return;
    }
  }
  /** EOI: end the highest-priority line in service (nothing if none is). */
  endOfInterrupt() {
    if (this.inService === 0) return;
    this.inService &= this.inService - 1;
    this.onChange();
  }
};
function validLine(line) {
  return Number.isInteger(line) && line >= 0 && line < PIC_LINES;
}

// machine/devices/lapic.ts
var LocalApic = class {
  constructor(index, ctx, pic, onChange) {
    this.index = index;
    this.ctx = ctx;
    this.pic = pic;
    this.onChange = onChange;
  }
  index;
  ctx;
  pic;
  onChange;
  irr = new Uint32Array(8);
  isr = new Uint32Array(8);
  timerPeriod = 0;
  timerControl = 0;
  timerDeadline = -1;
  timerHandle = 0;
  /** IPIs received since power-on (statistics) */
  ipisReceived = 0;
  /** timer expiries since power-on */
  timerExpiries = 0;
  reset() {
    this.irr.fill(0);
    this.isr.fill(0);
    this.disarm();
    this.timerPeriod = 0;
    this.timerControl = 0;
  }
  /** Request vector v on this CPU (an IPI or the local timer). */
  accept(v) {
    v &= 255;
    this.irr[v >>> 5] |= 1 << (v & 31);
    this.onChange();
  }
  pendingVector() {
    const v = highest(this.irr);
    if (v >= 0 && v > highest(this.isr)) return v;
    return this.pic !== null ? this.pic.pendingVector() : -1;
  }
  acknowledge() {
    const v = highest(this.irr);
    if (v >= 0 && v > highest(this.isr)) {
      this.irr[v >>> 5] &= ~(1 << (v & 31));
      this.isr[v >>> 5] |= 1 << (v & 31);
      return v;
    }
    return this.pic !== null ? this.pic.acknowledge() : -1;
  }
  /** End the highest local vector in service (nothing if none is). */
  eoi() {
    const v = highest(this.isr);
    if (v < 0) return;
    this.isr[v >>> 5] &= ~(1 << (v & 31));
    this.onChange();
  }
  timerRead(port2) {
    if (port2 === LAPIC_TIMER_PERIOD) return this.timerPeriod;
    return this.timerControl;
  }
  timerWrite(port2, value) {
    if (port2 === LAPIC_TIMER_PERIOD) {
      this.timerPeriod = value >>> 0;
      return;
    }
    this.timerControl = value & (255 | LAPIC_TIMER_ENABLE | LAPIC_TIMER_PERIODIC);
    this.disarm();
    if ((this.timerControl & LAPIC_TIMER_ENABLE) !== 0 && this.timerPeriod > 0) this.arm(this.ctx.now() + this.timerPeriod);
  }
  arm(at) {
    this.timerDeadline = at;
    this.timerHandle = this.ctx.schedule(at, deferred(this, "expire"));
  }
  disarm() {
    if (this.timerDeadline >= 0) this.ctx.cancel(this.timerHandle);
    this.timerDeadline = -1;
  }
  expire() {
    const at = this.timerDeadline;
    this.timerDeadline = -1;
    this.timerExpiries++;
    if ((this.timerControl & LAPIC_TIMER_PERIODIC) !== 0) this.arm(at + this.timerPeriod);
    this.accept(this.timerControl & 255);
  }
};
function highest(bits) {
  for (let k = 7; k >= 0; k--) {
    const w = bits[k];
    if (w !== 0) return (k << 5) + 31 - Math.clz32(w);
  }
  return -1;
}
var LapicPorts = class {
  constructor(apics, platform) {
    this.apics = apics;
    this.platform = platform;
  }
  apics;
  platform;
  name = "lapic";
  portBase = LAPIC_ID;
  portCount = LAPIC_ONLINE - LAPIC_ID + 1;
  startPc = 0;
  startSp = 0;
  /** IPIs sent since power-on */
  ipisSent = 0;
  reset() {
    this.startPc = this.startSp = 0;
    for (const a of this.apics) a.reset();
  }
  read(port2, _size) {
    const me = this.apics[this.platform.currentCpu()];
    switch (port2) {
      case LAPIC_ID:
        return me.index;
      case LAPIC_CPUS:
        return this.apics.length;
      case LAPIC_TIMER_PERIOD:
      case LAPIC_TIMER_CONTROL:
        return me.timerRead(port2);
      case LAPIC_ONLINE:
        return this.platform.onlineMask();
      default:
        return 0;
    }
  }
  write(port2, _size, value) {
    const me = this.apics[this.platform.currentCpu()];
    switch (port2) {
      case LAPIC_EOI:
        me.eoi();
        return;
      case LAPIC_ICR: {
        const vector = value & 255;
        if ((value & LAPIC_ICR_ALL_BUT_SELF) !== 0) {
          for (const a of this.apics) {
            if (a === me) continue;
            this.ipisSent++;
            a.ipisReceived++;
            a.accept(vector);
          }
          return;
        }
        const dest = this.apics[value >>> 8 & 255];
        if (dest === void 0) return;
        this.ipisSent++;
        dest.ipisReceived++;
        dest.accept(vector);
        return;
      }
      case LAPIC_TIMER_PERIOD:
      case LAPIC_TIMER_CONTROL:
        me.timerWrite(port2, value);
        return;
      case LAPIC_START_PC:
        this.startPc = value | 0;
        return;
      case LAPIC_START_SP:
        this.startSp = value | 0;
        return;
      case LAPIC_START:
        this.platform.startCpu(value >>> 0, this.startPc, this.startSp);
        return;
      default:
        return;
    }
  }
};

// machine/devices/sysctl.ts
var SysCtl = class {
  constructor(ctx) {
    this.ctx = ctx;
  }
  ctx;
  name = "sysctl";
  portBase = SYS_POWEROFF;
  portCount = 1;
  reset() {
  }
  read(_port, _size) {
    return 0;
  }
  write(port2, _size, value) {
    if (port2 === SYS_POWEROFF) this.ctx.powerOff(value >>> 0);
  }
};

// machine/devices/timer.ts
var CONTROL_BITS = TIMER_ENABLE | TIMER_PERIODIC;
var Timer = class {
  constructor(ctx, minPeriodCycles = 0) {
    this.ctx = ctx;
    this.minPeriodCycles = minPeriodCycles;
  }
  ctx;
  minPeriodCycles;
  name = "timer";
  portBase = TIMER_PERIOD;
  portCount = TIMER_TICKS - TIMER_PERIOD + 1;
  /** PERIOD as last written */
  period = 0;
  /** the period latched by the last CONTROL write: PERIOD writes take effect only then */
  activePeriod = 0;
  control = 0;
  ticks = 0;
  /** cycle of the next expiry, or -1 when not armed */
  deadline = -1;
  /** event-queue handle of the next expiry */
  handle = 0;
  reset() {
    this.disarm();
    this.period = 0;
    this.activePeriod = 0;
    this.control = 0;
    this.ticks = 0;
  }
  /** Expirations since power-on (the full count; TIMER_TICKS reads it modulo 2^32). */
  get expirations() {
    return this.ticks;
  }
  read(port2, _size) {
    switch (port2) {
      case TIMER_PERIOD:
        return this.period;
      case TIMER_CONTROL:
        return this.control;
      case TIMER_COUNT:
        return this.deadline < 0 ? 0 : Math.max(0, this.deadline - this.ctx.now()) >>> 0;
      case TIMER_TICKS:
        return this.ticks >>> 0;
      default:
        return 0;
    }
  }
  write(port2, _size, value) {
    switch (port2) {
      case TIMER_PERIOD:
        this.period = value >>> 0;
        return;
      case TIMER_CONTROL:
        this.control = value & CONTROL_BITS;
        this.activePeriod = this.period > 0 && (this.control & TIMER_PERIODIC) !== 0 ? Math.max(this.period, this.minPeriodCycles) : this.period;
        this.disarm();
        if (this.control & TIMER_ENABLE && this.activePeriod > 0) this.arm(this.ctx.now() + this.activePeriod);
        return;
      default:
        return;
    }
  }
  arm(atCycle) {
    this.deadline = atCycle;
    this.handle = this.ctx.schedule(atCycle, deferred(this, "expire"));
  }
  disarm() {
    if (this.deadline >= 0) this.ctx.cancel(this.handle);
    this.deadline = -1;
  }
  expire() {
    const at = this.deadline;
    this.deadline = -1;
    this.ticks++;
    if (this.control & TIMER_PERIODIC) this.arm(at + this.activePeriod);
    this.ctx.raiseIrq(0 /* Timer */);
  }
};

// machine/devices/uart.ts
var IIR_NONE = 1;
var IIR_THRE = 2;
var IIR_RX = 4;
var UART_RX_BYTES = 65536;
var Uart = class {
  constructor(ctx, sink) {
    this.ctx = ctx;
    this.sink = sink;
  }
  ctx;
  sink;
  name = "uart";
  portBase = UART_DATA;
  portCount = UART_LSR - UART_DATA + 1;
  ier = 0;
  txEmptyPending = false;
  /** the line was raised and not lowered since */
  lineRaised = false;
  rx = new Uint8Array(UART_RX_BYTES);
  rxHead = 0;
  rxCount = 0;
  /** bytes sent by the guest, bytes delivered to it, input bytes lost to a full buffer */
  txBytes = 0;
  rxBytes = 0;
  rxDropped = 0;
  reset() {
    this.ier = 0;
    this.txEmptyPending = false;
    this.lineRaised = false;
    this.rxHead = 0;
    this.rxCount = 0;
  }
  /** Host input: append bytes (a string is UTF-8 encoded) to the receive FIFO. */
  feed(input) {
    const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
    let accepted = 0;
    for (const b of bytes) {
      if (this.rxCount === UART_RX_BYTES) {
        this.rxDropped++;
        continue;
      }
      this.rx[(this.rxHead + this.rxCount) % UART_RX_BYTES] = b;
      this.rxCount++;
      accepted++;
    }
    if (accepted > 0 && this.ier & UART_IER_RX) this.updateLine(true);
  }
  /** Bytes waiting in the receive FIFO. */
  get rxPending() {
    return this.rxCount;
  }
  read(port2, _size) {
    switch (port2) {
      case UART_DATA:
        return this.popRx();
      case UART_IER:
        return this.ier;
      case UART_IIR: {
        const iir = this.iir();
        if (iir === IIR_THRE) {
          this.txEmptyPending = false;
          this.updateLine(false);
        }
        return iir;
      }
      case UART_LSR:
        return (this.rxCount > 0 ? UART_LSR_DR : 0) | UART_LSR_THRE | UART_LSR_TEMT;
      default:
        return 0;
    }
  }
  write(port2, _size, value) {
    switch (port2) {
      case UART_DATA:
        this.txBytes++;
        this.sink(value & 255);
        this.txEmptyPending = (this.ier & UART_IER_TX) !== 0;
        this.updateLine(this.txEmptyPending);
        return;
      case UART_IER: {
        const old = this.ier;
        this.ier = value & (UART_IER_RX | UART_IER_TX);
        const txOn = (this.ier & UART_IER_TX) !== 0 && (old & UART_IER_TX) === 0;
        const rxOn = (this.ier & UART_IER_RX) !== 0 && (old & UART_IER_RX) === 0 && this.rxCount > 0;
        if (txOn) this.txEmptyPending = true;
        if (!(this.ier & UART_IER_TX)) this.txEmptyPending = false;
        this.updateLine(txOn || rxOn);
        return;
      }
      default:
        return;
    }
  }
  iir() {
    if (this.ier & UART_IER_RX && this.rxCount > 0) return IIR_RX;
    if (this.txEmptyPending) return IIR_THRE;
    return IIR_NONE;
  }
  popRx() {
    if (this.rxCount === 0) return 0;
    const b = this.rx[this.rxHead];
    this.rxHead = (this.rxHead + 1) % UART_RX_BYTES;
    this.rxCount--;
    this.rxBytes++;
    if (this.rxCount === 0) this.updateLine(false);
    return b;
  }
  /**
   * Raise the line for a new interrupt event (the caller knows its source is pending), or lower
   * it when nothing is pending any more.
   */
  updateLine(newEvent) {
    if (this.iir() === IIR_NONE) {
      if (this.lineRaised) this.ctx.lowerIrq(4 /* Uart */);
      this.lineRaised = false;
    } else if (newEvent) {
      this.ctx.raiseIrq(4 /* Uart */);
      this.lineRaised = true;
    }
  }
};

// machine/memory.ts
var MemoryRangeError = class extends RangeError {
  constructor(message) {
    super(message);
    this.name = "MemoryRangeError";
  }
};
var MAX_MEMORY_BYTES = 1073741824;
var MAX_MACHINE_BYTES = 2147483648;
var SPARE_BUFFERS = 2;
var spareBuffers = [];
function takeBuffer(bytes) {
  const k = spareBuffers.findIndex((b2) => b2.byteLength === bytes);
  if (k < 0) return new ArrayBuffer(bytes);
  const b = spareBuffers.splice(k, 1)[0];
  new Int32Array(b).fill(0);
  return b;
}
var PhysicalMemory = class {
  /** installed bytes, a multiple of 4 KiB */
  size;
  /** number of 4 KiB frames */
  frames;
  buffer;
  u8;
  i8;
  u16;
  i16;
  i32;
  /** per frame: 1 if some engine caches code decoded from it */
  codePage;
  /** called with the frame number when a host write hits a frame marked in codePage */
  onCodeWrite = null;
  /**
   * Log-dirty (hypervisor/core/log-dirty.ts): per frame, 1 once written since the hypervisor last
   * cleaned it; null until some domain turns log-dirty on. Host writes (a hypervisor's, a
   * device's DMA) mark it here; the CPU's stores mark it through its write-protection fault.
   */
  dirtyLog = null;
  /**
   * Traced page tables (hypervisor/trap/traced-shadow.ts): per frame, how many traced shadows
   * write-protect it as a guest page table they derived entries from; null until a traced shadow
   * exists. A host write (a device's DMA, the hypervisor's own) that touches a marked frame is
   * reported to every tracer in `tableTracers` (`hostWrite(frame)`), as the CPU's stores to it are
   * by their write-protection fault: one byte checked per frame a host write touches.
   */
  tracedTables = null;
  /** the traced shadows that mark frames in tracedTables */
  tableTracers = [];
  constructor(sizeBytes) {
    if (!Number.isInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % PAGE_SIZE !== 0 || sizeBytes > MAX_MACHINE_BYTES) {
      throw new RangeError(`PhysicalMemory: size must be a positive multiple of 4 KiB up to 2 GiB (got ${sizeBytes})`);
    }
    this.size = sizeBytes;
    this.frames = sizeBytes >>> PAGE_SHIFT;
    this.buffer = takeBuffer(sizeBytes);
    this.u8 = new Uint8Array(this.buffer);
    this.i8 = new Int8Array(this.buffer);
    this.u16 = new Uint16Array(this.buffer);
    this.i16 = new Int16Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
    this.codePage = new Uint8Array(this.frames);
  }
  /**
   * The owner is done with this memory: its buffer goes to the next PhysicalMemory of the same
   * size (see SPARE_BUFFERS). The views here are detached (empty) from now on, so nothing that
   * still holds them can reach the next owner's memory; this object must not be used again.
   */
  release() {
    if (this.buffer.byteLength === 0) return;
    const moved = structuredClone(this.buffer, { transfer: [this.buffer] });
    if (spareBuffers.length < SPARE_BUFFERS) spareBuffers.push(moved);
  }
  /** Is [pa, pa + len) inside installed memory? */
  contains(pa, len = 1) {
    return Number.isInteger(pa) && Number.isInteger(len) && pa >= 0 && len >= 0 && pa + len <= this.size;
  }
  /** Byte at pa (0..255), or 0xff beyond memory. */
  read8(pa) {
    return this.contains(pa, 1) ? this.u8[pa] : 255;
  }
  /** Little-endian halfword at pa (any alignment), or 0xffff if any byte lies beyond memory. */
  read16(pa) {
    if (!this.contains(pa, 2)) return 65535;
    return (pa & 1) === 0 ? this.u16[pa >>> 1] : this.u8[pa] | this.u8[pa + 1] << 8;
  }
  /** Little-endian word at pa (any alignment), unsigned, or 0xffffffff if any byte lies beyond memory. */
  read32(pa) {
    if (!this.contains(pa, 4)) return 4294967295;
    if ((pa & 3) === 0) return this.i32[pa >>> 2] >>> 0;
    const m = this.u8;
    return (m[pa] | m[pa + 1] << 8 | m[pa + 2] << 16 | m[pa + 3] << 24) >>> 0;
  }
  write8(pa, value) {
    if (!this.contains(pa, 1)) return false;
    this.noteWrite(pa, 1);
    this.u8[pa] = value;
    return true;
  }
  write16(pa, value) {
    if (!this.contains(pa, 2)) return false;
    this.noteWrite(pa, 2);
    this.u8[pa] = value;
    this.u8[pa + 1] = value >>> 8;
    return true;
  }
  write32(pa, value) {
    if (!this.contains(pa, 4)) return false;
    this.noteWrite(pa, 4);
    if ((pa & 3) === 0) {
      this.i32[pa >>> 2] = value;
    } else {
      const m = this.u8;
      m[pa] = value;
      m[pa + 1] = value >>> 8;
      m[pa + 2] = value >>> 16;
      m[pa + 3] = value >>> 24;
    }
    return true;
  }
  /** A copy of [pa, pa + len), or null if the range is not wholly inside memory. */
  readBytes(pa, len) {
    if (!this.contains(pa, len)) return null;
    return this.u8.slice(pa, pa + len);
  }
  /** Copy data to pa; false (nothing written) if the range is not wholly inside memory. */
  writeBytes(pa, data) {
    if (!this.contains(pa, data.length)) return false;
    this.noteWrite(pa, data.length);
    this.u8.set(data, pa);
    return true;
  }
  /** Fill [pa, pa + len) with a byte; false (nothing written) if out of range. */
  fill(pa, len, value = 0) {
    if (!this.contains(pa, len)) return false;
    this.noteWrite(pa, len);
    this.u8.fill(value, pa, pa + len);
    return true;
  }
  /** A host write into frame f that did not go through the methods above (log-dirty's mark). */
  markDirty(f) {
    if (this.dirtyLog !== null) this.dirtyLog[f] = 1;
  }
  /**
   * Place an image's segments at their physical addresses, zero-filling each segment's bss part.
   * Throws MemoryRangeError, before writing anything, if a segment lies outside memory.
   */
  loadImage(image) {
    image.segments.forEach((seg, k) => {
      if (!this.contains(seg.paddr, seg.memBytes) || seg.data.length > seg.memBytes) {
        throw new MemoryRangeError(
          `segment ${k} (paddr 0x${(seg.paddr >>> 0).toString(16)}, ${seg.memBytes} bytes) lies outside physical memory (0x0..0x${this.size.toString(16)}, ${this.size} bytes)`
        );
      }
    });
    for (const seg of image.segments) {
      this.noteWrite(seg.paddr, seg.memBytes);
      this.u8.set(seg.data, seg.paddr);
      this.u8.fill(0, seg.paddr + seg.data.length, seg.paddr + seg.memBytes);
    }
  }
  /**
   * A host write is about to touch [pa, pa + len): drop code cached from those frames, log them
   * dirty when log-dirty is on, and tell the traced shadows of those they trace as page tables.
   */
  noteWrite(pa, len) {
    if (len <= 0) return;
    const last = pa + len - 1 >>> PAGE_SHIFT;
    const cp = this.codePage;
    const dl = this.dirtyLog;
    const tt = this.tracedTables;
    for (let f = pa >>> PAGE_SHIFT; f <= last; f++) {
      if (dl !== null) dl[f] = 1;
      if (cp[f] !== 0) {
        cp[f] = 0;
        this.onCodeWrite?.(f);
      }
      if (tt !== null && tt[f] !== 0) for (const t of this.tableTracers) t.hostWrite(f);
    }
  }
};

// machine/machine.ts
var MAX_CPUS = 8;
var Machine = class {
  profile;
  mem;
  events;
  bus;
  pic;
  timer;
  uart;
  block;
  nic;
  sysctl;
  /** CPU 0, the boot CPU (the only one unless `cpus` > 1) */
  cpu;
  /** every CPU, by number; cpus[0] === cpu */
  cpus;
  /** the local interrupt controllers, by CPU (empty with one CPU) */
  apics;
  /** their shared port window (null with one CPU) */
  lapicPorts;
  /** started[n]: CPU n runs (CPU 0 from power-on; the others once LAPIC_START names them) */
  started;
  /** the CPU the run loop is running now (devices and the local-APIC ports act for it) */
  cur = 0;
  /** per CPU: the time an interrupt last became pending for it (a halted CPU wakes then) */
  wakeAt;
  quantumCycles;
  quantumInstructions;
  rng;
  /**
   * runSmp: the CPU whose slice run()'s limit cut (short of the slice's own end and of every
   * event), or -1, and that slice's own end (a cycle, or with quantumInstructions an instruction
   * count). The next run() goes on with that slice first, without choosing or drawing again, as
   * the run never stopped would have: so where a run of several CPUs is stopped changes nothing.
   */
  cutCpu = -1;
  cutEnd = 0;
  /**
   * runSmp: the CPU chosen when run()'s limit came between that choice (and the events it ran,
   * which may have woken another CPU) and its slice, or -1: the next run() runs it without
   * choosing again (a new choice could break a tie of clocks otherwise).
   */
  pickedCpu = -1;
  /** slices run (the SMP schedule's turns) since power-on */
  slices = 0;
  /** the platform as the devices see it (its clock, event queue, interrupt lines and DMA), for host-side models such as a network uplink */
  deviceContext;
  /** symbols of the loaded image, for backtraces */
  symbols = [];
  /** total cycles spent halted since power-on */
  idleCycles = 0;
  /** what the guest wrote to the UART (the last CONSOLE_LOG_BYTES of it) */
  output = new ConsoleLog();
  poweredOff = false;
  powerStatus = 0;
  onOutput;
  constructor(opts = {}) {
    this.profile = getProfile(opts.profile ?? DEFAULT_PROFILE);
    this.mem = new PhysicalMemory(opts.memoryBytes ?? 32 * 1024 * 1024);
    this.onOutput = opts.onOutput;
    const ncpu = opts.cpus ?? 1;
    if (!Number.isInteger(ncpu) || ncpu < 1 || ncpu > MAX_CPUS) throw new RangeError(`cpus must be a whole number 1..${MAX_CPUS}, not ${ncpu}`);
    const sched = opts.schedule ?? {};
    this.quantumCycles = checkedQuantum("quantumCycles", sched.quantumCycles ?? 2e3);
    this.quantumInstructions = sched.quantumInstructions === void 0 ? 0 : checkedQuantum("quantumInstructions", sched.quantumInstructions);
    this.rng = (sched.seed ?? 1) >>> 0 || 1;
    this.wakeAt = new Array(ncpu).fill(0);
    this.started = new Array(ncpu).fill(false);
    this.started[0] = true;
    let cpus = [];
    const now = () => cpus[this.cur].cycles;
    this.events = new EventQueue(now);
    this.pic = new Pic(() => {
      if (cpus.length === 0) return;
      this.noteWake(0);
      cpus[0].interruptLineChanged();
    });
    const ctx = {
      now,
      schedule: (at, fn) => {
        const handle = this.events.schedule(at, fn);
        cpus[this.cur]?.shortenDeadline(at);
        return handle;
      },
      cancel: (h) => this.events.cancel(h),
      raiseIrq: (line) => this.pic.raise(line),
      lowerIrq: (line) => this.pic.lower(line),
      dmaWrite: (pa, data) => this.mem.writeBytes(pa, data),
      dmaRead: (pa, len) => this.mem.readBytes(pa, len),
      powerOff: (status) => {
        this.poweredOff = true;
        this.powerStatus = status;
        cpus[this.cur].requestStop();
      }
    };
    this.deviceContext = ctx;
    this.bus = new IoPortBus();
    this.timer = new Timer(ctx);
    this.uart = new Uart(ctx, (b) => this.emit(b));
    this.block = new BlockDevice(ctx, opts.disk ?? new Uint8Array(0), opts.diskTiming);
    this.nic = new Nic(ctx, opts.onTransmit ?? (() => {
    }), opts.mac, opts.ip);
    this.sysctl = new SysCtl(ctx);
    for (const dev of [this.pic, this.timer, this.uart, this.block, this.nic, this.sysctl]) this.bus.register(dev);
    if (ncpu === 1) {
      this.apics = [];
      this.lapicPorts = null;
      cpus = [new Cpu(this.mem, this.bus, this.pic, this.profile)];
    } else {
      const apics = [];
      for (let n = 0; n < ncpu; n++) {
        apics.push(new LocalApic(n, ctx, n === 0 ? this.pic : null, () => {
          this.noteWake(n);
          cpus[n]?.interruptLineChanged();
        }));
      }
      this.apics = apics;
      this.lapicPorts = new LapicPorts(apics, {
        currentCpu: () => this.cur,
        startCpu: (n, pc, sp) => this.startCpu(n, pc, sp),
        onlineMask: () => this.started.reduce((m, on, n) => on ? m | 1 << n : m, 0)
      });
      this.bus.register(this.lapicPorts);
      const codeMarks = new Uint8Array(this.mem.frames);
      cpus = apics.map((a) => new Cpu(this.mem, this.bus, a, this.profile, codeMarks));
      for (const c of cpus) c.smpPeers = cpus;
    }
    for (const c of cpus) if (opts.engine !== void 0) c.engine = opts.engine;
    this.cpus = cpus;
    this.cpu = cpus[0];
    if (opts.input) this.uart.feed(opts.input);
  }
  /**
   * The owner is done with this machine: its memory goes to the next machine of the same size
   * (PhysicalMemory.release: no fresh host pages to fault in). The machine must not run again.
   */
  release() {
    this.mem.release();
  }
  /** Load an image and reset the CPU to run it: pc = entry, CPL 0, IF 0, paging off. */
  loadImage(image) {
    this.mem.loadImage(image);
    for (const c of this.cpus) c.reset();
    for (let n = 1; n < this.cpus.length; n++) this.started[n] = false;
    this.cpu.pc = image.entry >>> 0;
    this.symbols = image.symbols;
    this.poweredOff = false;
    this.powerStatus = 0;
  }
  /**
   * Run until the guest powers off, halts for good, triple-faults, maxCycles simulated cycles go
   * by, or stop() is called. May be called again to continue (except after power-off).
   */
  run(opts = {}) {
    if (this.cpus.length > 1) return this.runSmp(opts);
    const cpu = this.cpu;
    const start = cpu.cycles;
    const startInsns = cpu.instructions;
    const limit = runLimit(start, opts.maxCycles);
    let idle = 0;
    const done = (reason, detail) => {
      this.idleCycles += idle;
      const res = {
        reason,
        status: reason === "poweroff" ? this.powerStatus : 0,
        cycles: cpu.cycles - start,
        instructions: cpu.instructions - startInsns,
        idleCycles: idle
      };
      if (detail !== void 0) res.detail = detail;
      return res;
    };
    for (; ; ) {
      if (this.poweredOff) return done("poweroff");
      this.events.runDue();
      if (this.poweredOff) return done("poweroff");
      if (cpu.cycles >= limit) return limit === END_OF_TIME ? done("limit", END_OF_TIME_DETAIL) : done("limit");
      const exit = cpu.run(Math.min(this.events.nextDeadline(), limit));
      switch (exit) {
        case 256 /* Deadline */:
          continue;
        case 257 /* Halted */: {
          if (this.poweredOff) return done("poweroff");
          if ((cpu.flags & 512 /* IF */) === 0) {
            return done("halted", `hlt with interrupts disabled at pc ${hex(cpu.pc)}`);
          }
          if (this.pic.pendingVector() >= 0) {
            cpu.interruptLineChanged();
            continue;
          }
          const next = this.events.nextDeadline();
          if (next === Infinity) {
            return done("halted", `hlt at pc ${hex(cpu.pc)} with no event left that could wake the CPU`);
          }
          const target = Math.min(next, limit);
          if (target > cpu.cycles) {
            idle += target - cpu.cycles;
            cpu.charge(Ev.Idle, target - cpu.cycles);
          }
          continue;
        }
        case 258 /* Stopped */:
          return done(this.poweredOff ? "poweroff" : "stopped");
        case 2 /* TripleFault */:
          return done("triple-fault", `triple fault at pc ${hex(cpu.pc)}`);
        default:
          throw new Error(
            `Machine.run: the bare machine cannot take CPU exit ${exit} (at pc ${hex(cpu.pc)}); only a hypervisor claims exits`
          );
      }
    }
  }
  /** Make run() return with reason 'stopped' at the next block boundary (e.g. from an output callback). */
  stop() {
    this.cpus[this.cur].requestStop();
  }
  /** The machine's clock: the running CPU's cycles (with one CPU, its only clock). */
  get now() {
    return this.cpus[this.cur].cycles;
  }
  /** An interrupt may have become pending for CPU n: a halted n wakes no earlier than now. */
  noteWake(n) {
    const t = this.cpus[this.cur]?.cycles ?? 0;
    if (t > this.wakeAt[n]) this.wakeAt[n] = t;
  }
  /** LAPIC_START: CPU n, waiting since power-on, starts now at pc with sp (CPL 0, paging off, IF 0). */
  startCpu(n, pc, sp) {
    const c = this.cpus[n];
    if (c === void 0 || this.started[n]) return false;
    const t = this.now;
    c.reset();
    if (t > c.cycles) c.charge(Ev.Idle, t - c.cycles);
    c.pc = pc >>> 0;
    c.regs[REG_SP] = sp;
    this.started[n] = true;
    return true;
  }
  /** The next slice length from the schedule's generator (xorshift32), 1..max. */
  slice(max) {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return 1 + this.rng % max;
  }
  /**
   * run() with several CPUs. Each turn: the events due at the chosen CPU's clock run, then that
   * CPU runs one slice, never past the next event or the limit. A halted CPU is runnable again
   * once an interrupt is pending for it (its clock jumps, as idle, to when that happened); when
   * every started CPU is halted, time jumps to the next event. Any CPU halting with IF = 0 stops
   * the machine ('halted'), as with one CPU. `cycles` is the machine clock's advance (the clock
   * of the CPU that ran last), `instructions` and `idleCycles` are totals over the CPUs.
   */
  runSmp(opts) {
    const cpus = this.cpus;
    const start = this.now;
    const startInsns = cpus.reduce((n, c) => n + c.instructions, 0);
    const startIdle = cpus.map((c) => c.evCount[Ev.Idle]);
    const limit = runLimit(start, opts.maxCycles);
    const done = (reason, detail) => {
      let idle = 0;
      for (let n = 0; n < cpus.length; n++) idle += cpus[n].evCount[Ev.Idle] - startIdle[n];
      this.idleCycles += idle;
      const res = {
        reason,
        status: reason === "poweroff" ? this.powerStatus : 0,
        cycles: this.now - start,
        instructions: cpus.reduce((n, c) => n + c.instructions, 0) - startInsns,
        idleCycles: idle
      };
      if (detail !== void 0) res.detail = detail;
      return res;
    };
    for (; ; ) {
      if (this.poweredOff) return done("poweroff");
      const goOn = this.cutCpu;
      const again = goOn < 0 ? this.pickedCpu : -1;
      this.cutCpu = -1;
      this.pickedCpu = -1;
      const chosen = goOn >= 0 ? goOn : again;
      let best = chosen;
      let bestAt = chosen >= 0 ? Math.max(cpus[chosen].cycles, cpus[chosen].halted ? this.wakeAt[chosen] : 0) : Infinity;
      for (let n = 0; n < cpus.length && chosen < 0; n++) {
        if (!this.started[n]) continue;
        const c2 = cpus[n];
        let at = c2.cycles;
        if (c2.halted) {
          if ((c2.flags & 512 /* IF */) === 0 || c2.pic.pendingVector() < 0) continue;
          at = Math.max(at, this.wakeAt[n]);
        }
        if (at < bestAt) {
          best = n;
          bestAt = at;
        }
      }
      if (best < 0) {
        const next = this.events.nextDeadline();
        if (next === Infinity) return done("halted", `every CPU halted with no event left that could wake one (cpu 0 at pc ${hex(cpus[0].pc)})`);
        const target = Math.min(next, limit);
        let low = 0;
        for (let n = 0; n < cpus.length; n++) {
          const c2 = cpus[n];
          if (this.started[n] && c2.cycles < target) c2.charge(Ev.Idle, target - c2.cycles);
          if (this.started[n] && c2.cycles < cpus[low].cycles) low = n;
        }
        this.cur = low;
        this.events.runDue();
        if (this.now >= limit) return done("limit");
        continue;
      }
      this.cur = best;
      const c = cpus[best];
      if (c.cycles < bestAt) c.charge(Ev.Idle, bestAt - c.cycles);
      if (c.halted) c.interruptLineChanged();
      this.events.runDue();
      if (this.poweredOff) return done("poweroff");
      if (c.cycles >= limit) {
        if (goOn >= 0) {
          this.cutCpu = goOn;
        } else this.pickedCpu = best;
        return limit === END_OF_TIME ? done("limit", END_OF_TIME_DETAIL) : done("limit");
      }
      let end;
      if (goOn >= 0) end = this.cutEnd;
      else {
        this.slices++;
        end = this.quantumInstructions > 0 ? c.instructions + this.slice(this.quantumInstructions) : c.cycles + this.slice(this.quantumCycles);
      }
      let deadline = Math.min(this.events.nextDeadline(), limit);
      if (this.quantumInstructions > 0) {
        c.monitorStop = true;
        c.stopAtInstruction = end;
      } else {
        deadline = Math.min(deadline, end);
      }
      const exit = c.run(deadline);
      if (this.quantumInstructions > 0) {
        c.monitorStop = false;
        c.stopAtInstruction = Infinity;
      }
      switch (exit) {
        case 256 /* Deadline */:
          if (c.cycles >= limit && limit !== END_OF_TIME && c.cycles < this.events.nextDeadline() && (this.quantumInstructions > 0 ? c.instructions < end : c.cycles < end)) {
            this.cutCpu = best;
            this.cutEnd = end;
            return done("limit");
          }
          continue;
        case 257 /* Halted */:
          if (this.poweredOff) return done("poweroff");
          if ((c.flags & 512 /* IF */) === 0) return done("halted", `cpu ${best}: hlt with interrupts disabled at pc ${hex(c.pc)}`);
          if (c.pic.pendingVector() >= 0) c.interruptLineChanged();
          continue;
        case 258 /* Stopped */:
          if (c.monitorStopped) {
            c.monitorStopped = false;
            continue;
          }
          return done(this.poweredOff ? "poweroff" : "stopped");
        case 2 /* TripleFault */:
          return done("triple-fault", `cpu ${best}: triple fault at pc ${hex(c.pc)}`);
        default:
          throw new Error(`Machine.run: the bare machine cannot take CPU exit ${exit} (cpu ${best} at pc ${hex(c.pc)}); only a hypervisor claims exits`);
      }
    }
  }
  /** Type bytes on the console. */
  feedInput(input) {
    this.uart.feed(input);
  }
  /** Everything the guest wrote to the UART, decoded as UTF-8. */
  consoleOutput() {
    return this.output.text();
  }
  /** Everything the guest wrote to the UART, as bytes. */
  consoleBytes() {
    return this.output.bytes();
  }
  /** Whether the guest has powered the machine off, and with which status. */
  get powerOffStatus() {
    return this.poweredOff ? this.powerStatus : null;
  }
  emit(byte) {
    this.output.push(byte);
    this.onOutput?.(byte);
  }
};
function checkedQuantum(name, v) {
  if (!Number.isInteger(v) || v < 1 || v > 1e9) throw new RangeError(`schedule.${name} must be a whole number 1..1000000000, not ${v}`);
  return v;
}

// hypervisor/devices/model.ts
var MIN_TIMER_PERIOD_CYCLES = 1e3;
var DeviceModel = class {
  /**
   * onInterrupt: called whenever the virtual PIC may have a deliverable line (a raise, unmask, EOI),
   * so the hypervisor can wake a vCPU blocked in HLT.
   */
  constructor(cpu, events, domain, onInterrupt, vcpus) {
    this.cpu = cpu;
    this.events = events;
    this.domain = domain;
    const cfg = domain.config;
    this.pic = new Pic(onInterrupt);
    this.timer = new Timer(this, MIN_TIMER_PERIOD_CYCLES);
    this.uart = new Uart(this, (b) => domain.emitConsole(b));
    this.block = new BlockDevice(this, cfg.disk ?? new Uint8Array(0), cfg.diskTiming);
    this.nic = new Nic(this, cfg.onTransmit ?? (() => {
    }), cfg.mac ? macFromBytes(cfg.mac) : NIC_DEFAULT_MAC, cfg.ip ?? 0);
    this.sysctl = new SysCtl(this);
    for (const dev of [this.pic, this.timer, this.uart, this.block, this.nic, this.sysctl]) this.bus.register(dev);
    const n = cfg.vcpus ?? 1;
    if (n > 1 && vcpus !== void 0) {
      const apics = [];
      for (let k = 0; k < n; k++) apics.push(new LocalApic(k, this, k === 0 ? this.pic : null, () => vcpus.interruptFor(k)));
      this.apics = apics;
      this.lapicPorts = new LapicPorts(apics, {
        currentCpu: () => this.ioVcpu,
        startCpu: (k, pc, sp) => vcpus.startVcpu(k, pc, sp),
        onlineMask: () => vcpus.onlineMask()
      });
      this.bus.register(this.lapicPorts);
    } else {
      this.apics = [];
      this.lapicPorts = null;
    }
    if (cfg.input) this.uart.feed(cfg.input);
  }
  cpu;
  events;
  domain;
  /** the domain's port bus: devices registered by port range, one uniform read/write callback */
  bus = new IoPortBus();
  /** the domain's virtual interrupt controller */
  pic;
  timer;
  uart;
  block;
  nic;
  sysctl;
  /**
   * A domain with several vCPUs: a virtual local APIC per vCPU (the machine's own LocalApic, so
   * IPIs, the local timer, EOI and start-up behave as on the bare multiprocessor), vCPU 0's
   * passing the virtual PIC through; their port window is on the domain's bus. Empty with one vCPU.
   */
  apics;
  lapicPorts;
  /** the vCPU whose I/O exit the bus is answering (the local APIC ports act for it) */
  ioVcpu = 0;
  // ------------------------------------------------------------------ DeviceContext (the devices' platform)
  now() {
    return this.cpu.cycles;
  }
  schedule(atCycle, fn) {
    const handle = this.events.schedule(atCycle, fn);
    this.cpu.shortenDeadline(atCycle);
    return handle;
  }
  cancel(handle) {
    this.events.cancel(handle);
  }
  raiseIrq(line) {
    this.pic.raise(line);
  }
  lowerIrq(line) {
    this.pic.lower(line);
  }
  dmaWrite(gpa, data) {
    return this.domain.memory.writeBytes(gpa, data);
  }
  dmaRead(gpa, length) {
    return this.domain.memory.readBytes(gpa, length);
  }
  powerOff(status) {
    this.domain.shutdown("poweroff", status);
  }
  // ------------------------------------------------------------------ the I/O exit
  /**
   * Complete an I/O exit against the bus: a write goes to the device; a read's value (masked to
   * the size) is left in exit.data for the mode to put in the guest's register. `vcpu` is the
   * exiting vCPU's index (whose local APIC the LAPIC ports reach).
   */
  handleIo(exit, vcpu = 0) {
    this.ioVcpu = vcpu;
    this.domain.stats.countIo(exit.port, exit.isWrite);
    if (exit.isWrite) this.bus.write(exit.port, exit.size, exit.data);
    else exit.data = this.bus.read(exit.port, exit.size);
  }
  /** The interrupt controller vCPU n takes interrupts from: its local APIC, or with one vCPU the PIC. */
  interruptController(n) {
    return this.apics.length === 0 ? this.pic : this.apics[n];
  }
  /** Power-on state, and every pending device event dropped (the domain is going away). */
  reset() {
    this.bus.resetDevices();
  }
};

// hypervisor/core/log-dirty.ts
var LogDirtyTracker = class {
  constructor(cpu, mem, domain) {
    this.cpu = cpu;
    this.mem = mem;
    this.domain = domain;
    this.stage = domain.logDirtyStage;
    this.stageProtected = this.stage ? new Uint8Array(domain.p2m.length) : null;
    if (mem.dirtyLog === null) mem.dirtyLog = new Uint8Array(mem.frames);
    if (this.stage === null && cpu.mmu.logDirtyProtect === null) cpu.mmu.logDirtyProtect = new Uint8Array(mem.frames);
    this.protectAll(true);
  }
  cpu;
  mem;
  domain;
  /** log-dirty faults taken (first writes to a protected frame) since enable */
  faults = 0;
  /** peeks (peekAndClean calls) since enable */
  peeks = 0;
  /** the second stage the domain's mode protects (hvm with EPT), else null: the MMU fill's protection */
  stage;
  /** with a second stage: per pseudo-physical frame, 1 while its entry is read-only */
  stageProtected;
  /** Protect (or unprotect) frame pfn (machine frame mfn) by the domain's mechanism. */
  protect(pfn, mfn, on) {
    if (this.stage !== null) {
      if (this.stage.setWritable(pfn, !on)) this.stageProtected[pfn] = on ? 1 : 0;
    } else {
      this.cpu.mmu.logDirtyProtect[mfn] = on ? 1 : 0;
    }
  }
  /** Is frame pfn (machine frame mfn) unprotected (written since it was last protected)? */
  lifted(pfn, mfn) {
    return this.stage !== null ? this.stageProtected[pfn] === 0 : this.cpu.mmu.logDirtyProtect[mfn] === 0;
  }
  /** Protect (or unprotect) every frame of the domain, clearing their dirty marks; drop write tags. */
  protectAll(on) {
    const p2m = this.domain.p2m;
    const dl = this.mem.dirtyLog;
    for (let pfn = 0; pfn < p2m.length; pfn++) {
      const mfn = p2m[pfn];
      if (mfn < 0) continue;
      this.protect(pfn, mfn, on);
      dl[mfn] = 0;
    }
    this.cpu.mmu.dropWriteTags();
  }
  /**
   * The mode's second stage took a write fault on frame pfn (hvm: an EPT violation on a write).
   * True if it was log-dirty's protection (the entry is writable again, the frame logged and the
   * fault counted; the mode charges it and retries the access); false if not ours.
   */
  secondStageWriteFault(pfn) {
    const sp = this.stageProtected;
    if (sp === null || pfn >= sp.length || sp[pfn] === 0) return false;
    const mfn = this.domain.p2m[pfn];
    if (mfn < 0 || !this.stage.setWritable(pfn, true)) return false;
    sp[pfn] = 0;
    this.mem.markDirty(mfn);
    this.faults++;
    return true;
  }
  /**
   * The frames written since the last peek (or enable), as a bitmap over pseudo-physical frame
   * numbers (bit pfn & 7 of byte pfn >> 3, as Xen's dirty bitmap), and clean them: protect them
   * again so their next write is seen. A frame ballooned in meanwhile counts as dirty.
   */
  peekAndClean() {
    const p2m = this.domain.p2m;
    const dl = this.mem.dirtyLog;
    const bitmap = new Uint8Array(p2m.length + 7 >> 3);
    for (let pfn = 0; pfn < p2m.length; pfn++) {
      const mfn = p2m[pfn];
      if (mfn < 0) continue;
      const lifted = this.lifted(pfn, mfn);
      if (dl[mfn] !== 0 || lifted) bitmap[pfn >> 3] |= 1 << (pfn & 7);
      dl[mfn] = 0;
      if (lifted) this.protect(pfn, mfn, true);
    }
    this.cpu.mmu.dropWriteTags();
    this.peeks++;
    return bitmap;
  }
  /** Stop logging: the domain's frames are writable again at full speed. */
  disable() {
    this.protectAll(false);
  }
  /**
   * The hypervisor's log-dirty fault handler for the running domain: count it and charge it by
   * the path the domain's mode takes (see the header).
   */
  chargeFault(hvmLike, charge) {
    this.faults++;
    if (hvmLike) {
      charge(Ev.VmExit, 1);
      charge(Ev.LogDirtyFault, 1);
      charge(Ev.VmEntry, 1);
    } else {
      charge(Ev.TrapDelivery, 1);
      charge(Ev.LogDirtyFault, 1);
      charge(Ev.InterceptReturn, 1);
    }
  }
};

// hypervisor/core/stats.ts
var VCPU_EXIT_REASONS = ["io", "hlt", "deadline", "shutdown", "crash", "stopped", "yield"];
var CPU_EXIT_SLOTS = EXIT_SLOTS;
var HYPERCALL_SLOTS = 64;
var DomainStats = class _DomainStats {
  /**
   * The trace buffer the tracepoints beside these counters write to (hypervisor/core/trace.ts),
   * or null when tracing is off (then a tracepoint is this one null check).
   */
  trace = null;
  /** the domain id trace records carry */
  traceDom = 0;
  /** real-CPU exits while this domain ran, by machine Exit value (machine/types.ts) */
  cpuExits = new Float64Array(CPU_EXIT_SLOTS);
  /** exits returned to the outer loop, by reason */
  loopExits = Object.fromEntries(VCPU_EXIT_REASONS.map((r) => [r, 0]));
  /** intercepted traps (exceptions, INT n) by vector */
  traps = new Float64Array(256);
  /** events delivered into the guest's own IDT by the hypervisor (reflected or injected), by vector */
  reflected = new Float64Array(256);
  /** virtual interrupts injected (a subset of `reflected`) */
  injectedInterrupts = 0;
  /** secondary vCPUs the guest started (through its virtual local APIC) */
  vcpuStarts = 0;
  /** privileged instructions emulated, by opcode */
  emulated = new Float64Array(256);
  /** I/O exits: key port * 2 + (write ? 1 : 0) -> count */
  io = /* @__PURE__ */ new Map();
  ioExits = 0;
  // shadow paging (trap mode; KVM's MMU vocabulary)
  /** #PF exits the guest never saw: the shadow lacked what the guest's table had */
  hiddenFaults = 0;
  /** #PF exits reflected to the guest: its own table says the access faults */
  trueFaults = 0;
  /** shadow entries written (by hidden faults) */
  shadowFills = 0;
  /** whole-shadow drops (guest CR3 or CR0 writes) */
  shadowFlushes = 0;
  /** single shadow entries dropped by the guest's INVLPG */
  shadowInvlpgs = 0;
  /** shadow page tables (not directories) allocated */
  shadowTables = 0;
  /** whole-shadow drops because the machine had no free frame for another shadow table */
  shadowRecycles = 0;
  /** `--shadow traced`: guest writes to a traced page table (the write-protection's faults) */
  traceFaults = 0;
  /** `--shadow traced`: CR3 loads that found the address space's shadow kept, and those that did not */
  shadowSpaceHits = 0;
  shadowSpaceMisses = 0;
  /** `--shadow traced`: host writes (a device's DMA) into a traced page table, which put it out of sync as a trace fault does */
  traceDmaWrites = 0;
  // hypercalls (pv mode)
  hypercalls = new Float64Array(HYPERCALL_SLOTS);
  hypercallCycles = new Float64Array(HYPERCALL_SLOTS);
  // time
  /** cycles this domain's vCPUs spent running (including the hypervisor's work on their behalf) */
  runCycles = 0;
  /** of which: cycles charged for hypervisor software paths (monitor work, world switches) */
  monitorCycles = 0;
  /** guest instructions retired (including emulated ones) */
  instructions = 0;
  /** world switches onto this domain's vCPUs */
  worldSwitches = 0;
  /** polls of a pending virtual interrupt while the guest had interrupts off (trap mode) */
  interruptWindowPolls = 0;
  /** 'yield' exits (hvm's pause-loop exits) after which the scheduler ran another vCPU first */
  yieldsToOthers = 0;
  countIo(port2, isWrite) {
    const key = port2 * 2 + (isWrite ? 1 : 0);
    this.io.set(key, (this.io.get(key) ?? 0) + 1);
    this.ioExits++;
  }
  /** I/O exits by port, ascending. */
  ioByPort() {
    const byPort = /* @__PURE__ */ new Map();
    for (const [key, n] of this.io) {
      const port2 = key >>> 1;
      let e = byPort.get(port2);
      if (!e) byPort.set(port2, e = { port: port2, reads: 0, writes: 0 });
      if (key & 1) e.writes += n;
      else e.reads += n;
    }
    return [...byPort.values()].sort((a, b) => a.port - b.port);
  }
  /** Nonzero entries of a by-number table, as [number, count] pairs. */
  static nonzero(table) {
    const out = [];
    table.forEach((n, k) => {
      if (n !== 0) out.push([k, n]);
    });
    return out;
  }
  /** A plain-object summary (for --stats, the monitor and tests). */
  summary() {
    return {
      runCycles: this.runCycles,
      monitorCycles: this.monitorCycles,
      instructions: this.instructions,
      worldSwitches: this.worldSwitches,
      loopExits: { ...this.loopExits },
      cpuExits: Object.fromEntries(_DomainStats.nonzero(this.cpuExits)),
      traps: Object.fromEntries(_DomainStats.nonzero(this.traps)),
      reflected: Object.fromEntries(_DomainStats.nonzero(this.reflected)),
      injectedInterrupts: this.injectedInterrupts,
      interruptWindowPolls: this.interruptWindowPolls,
      emulated: Object.fromEntries(_DomainStats.nonzero(this.emulated)),
      ioExits: this.ioExits,
      ioByPort: this.ioByPort(),
      shadow: {
        hiddenFaults: this.hiddenFaults,
        trueFaults: this.trueFaults,
        fills: this.shadowFills,
        flushes: this.shadowFlushes,
        invlpgs: this.shadowInvlpgs,
        tables: this.shadowTables,
        recycles: this.shadowRecycles,
        traceFaults: this.traceFaults,
        spaceHits: this.shadowSpaceHits,
        spaceMisses: this.shadowSpaceMisses,
        traceDmaWrites: this.traceDmaWrites
      },
      hypercalls: Object.fromEntries(_DomainStats.nonzero(this.hypercalls)),
      hypercallCycles: Object.fromEntries(_DomainStats.nonzero(this.hypercallCycles))
    };
  }
};

// hypervisor/core/spin-watch.ts
var SpinStats = class {
  /** slices spent spinning while the holder was running on its physical CPU (plain contention) */
  contendedSlices = 0;
  contendedCycles = 0;
  /** slices spent spinning while the holder vCPU was descheduled (preempted or waiting): lock-holder preemption */
  preemptedSlices = 0;
  /** the cycles of those slices: the spin time wasted */
  preemptedCycles = 0;
  /** slices given up at their start (Domain.spinYield): the vCPU was spinning behind a holder descheduled on its own physical CPU */
  yields = 0;
};
function inSpin(w, pc) {
  return pc >>> 0 >= w.pcStart && pc >>> 0 < w.pcEnd;
}
function shouldYield(w, pc, holder, vcpus, self) {
  if (!inSpin(w, pc)) return false;
  const h = vcpus[holder - 1];
  return h !== void 0 && h !== self && h.pcpu === self.pcpu && h.up && h.runState === "runnable";
}
function countSpin(stats, holder, vcpus, self, cycles, running) {
  const h = vcpus[holder - 1];
  if (h === void 0 || h === self) return;
  if (running(h)) {
    stats.contendedSlices++;
    stats.contendedCycles += cycles;
  } else {
    stats.preemptedSlices++;
    stats.preemptedCycles += cycles;
  }
}

// hypervisor/core/domain.ts
var Domain = class {
  constructor(id, name, mode2, memory, config) {
    this.id = id;
    this.name = name;
    this.mode = mode2;
    this.memory = memory;
    this.config = config;
    this.stats.traceDom = id;
  }
  id;
  name;
  mode;
  memory;
  config;
  stats = new DomainStats();
  vcpus = [];
  /** the emulated devices (QEMU's role), or null for a domain without them */
  devices = null;
  state = "running";
  stopReason = null;
  /** power-off status (poweroff), else 0 */
  stopStatus = 0;
  /** an explanation for halted, triple-fault, crashed */
  stopDetail = "";
  /** the mode's per-domain state (pv: PvDomain, bt: TranslationCache, hvm: HvmDomainState; trap: none); read it through the mode's typed accessor (pv's PvMode.pv(), btCache(), hvmDomain()), never a cast */
  modeState = null;
  /** symbols of the booted image, for backtraces */
  symbols = [];
  /** the hypervisor's hook: the domain has stopped (take its vCPUs off the scheduler) */
  onStop = null;
  /** log-dirty tracking while it is on (enableLogDirty), else null */
  logDirty = null;
  /** a second stage the mode write-protects itself for log-dirty (hvm with EPT), else null: the MMU fill's protection */
  logDirtyStage = null;
  /** the hypervisor's hook that makes this domain's tracker (set when the domain is created) */
  makeLogDirty = null;
  /** a guest spin loop and lock the hypervisor watches for lock-holder preemption (null: none) */
  spinWatch = null;
  /**
   * the remedy: a vCPU whose slice would begin in the watched acquire loop while the holder waits
   * for the same physical CPU gives the slice up at once (a directed yield; see spin-watch.ts)
   */
  spinYield = false;
  /** what the watch saw (hypervisor/core/spin-watch.ts) */
  spinStats = new SpinStats();
  /** what the domain wrote to its console (the last CONSOLE_LOG_BYTES of it) */
  consoleLog = new ConsoleLog();
  /** The pseudo-physical -> machine frame map. */
  get p2m() {
    return this.memory.p2m;
  }
  /** Memory quota in frames. */
  get quotaFrames() {
    return this.memory.frames;
  }
  get stopped() {
    return this.state === "shutdown";
  }
  /** Stop the domain for good (first reason wins); its vCPUs never run again. */
  shutdown(reason, status = 0, detail = "") {
    if (this.state === "shutdown") return;
    this.state = "shutdown";
    this.stopReason = reason;
    this.stopStatus = status;
    this.stopDetail = detail;
    for (const v of this.vcpus) v.runState = "stopped";
    this.onStop?.(this);
  }
  /**
   * Turn log-dirty tracking on (hypervisor/core/log-dirty.ts): from now on every frame the domain
   * (or the hypervisor or a device on its behalf) writes is logged. Idempotent.
   */
  enableLogDirty() {
    if (this.logDirty === null) {
      if (this.makeLogDirty === null) throw new Error(`domain '${this.name}': log-dirty needs a hypervisor`);
      this.logDirty = this.makeLogDirty(this);
    }
    return this.logDirty;
  }
  /** The pseudo-physical frames written since the last peek (a bitmap, Xen's layout), cleaned. Log-dirty must be on. */
  peekAndClean() {
    if (this.logDirty === null) throw new Error(`domain '${this.name}': log-dirty is off (enableLogDirty first)`);
    return this.logDirty.peekAndClean();
  }
  /** Turn log-dirty tracking off. */
  disableLogDirty() {
    this.logDirty?.disable();
    this.logDirty = null;
  }
  /** A byte for the domain's console (from its UART, or a console hypercall); onOutput sees every byte. */
  emitConsole(byte) {
    const b = byte & 255;
    this.consoleLog.push(b);
    this.config.onOutput?.(b);
  }
  /** What the domain wrote to its console, decoded as UTF-8 (the last CONSOLE_LOG_BYTES of it). */
  consoleOutput() {
    return this.consoleLog.text();
  }
  /** The console's bytes (a copy; the last CONSOLE_LOG_BYTES of them). */
  consoleBytes() {
    return this.consoleLog.bytes();
  }
  /** Console bytes the log no longer holds (it keeps the last CONSOLE_LOG_BYTES). */
  get consoleDropped() {
    return this.consoleLog.dropped;
  }
};

// hypervisor/core/frames.ts
var OWNER_FREE = -1;
var OWNER_HYPERVISOR = -2;
var OutOfFramesError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "OutOfFramesError";
  }
};
var FrameAllocator = class {
  /** number of machine frames */
  frames;
  /** per frame: OWNER_FREE, OWNER_HYPERVISOR or a domain id (>= 0) */
  owner;
  free;
  freeCount = 0;
  /**
   * per frame: 1 while it has never been handed out, so it holds what a new machine's memory
   * holds (zeros): a domain's quota needs no zeroing there (allocMany's `dirty`), and the host
   * never faults in pages the guest does not touch. Cleared for good by the first alloc.
   */
  pristine;
  /** memoryBytes: the machine's memory; reservedFrames: low frames kept by the hypervisor */
  constructor(memoryBytes, reservedFrames = 1) {
    this.frames = memoryBytes >>> PAGE_SHIFT;
    this.owner = new Int32Array(this.frames).fill(OWNER_FREE);
    this.free = new Int32Array(this.frames);
    this.pristine = new Uint8Array(this.frames).fill(1);
    for (let f = this.frames - 1; f >= reservedFrames; f--) this.free[this.freeCount++] = f;
    for (let f = 0; f < Math.min(reservedFrames, this.frames); f++) this.owner[f] = OWNER_HYPERVISOR;
  }
  /** Frames nobody owns. */
  get freeFrames() {
    return this.freeCount;
  }
  /** One frame for `owner`; throws OutOfFramesError if none is free. */
  alloc(owner) {
    if (this.freeCount === 0) throw new OutOfFramesError("no free machine frame left");
    const f = this.free[--this.freeCount];
    this.owner[f] = owner;
    this.pristine[f] = 0;
    return f;
  }
  /**
   * `count` frames for `owner`, in allocation order; nothing is taken if not all are free. With
   * `dirty` (at least count long): dirty[k] = 1 if frame k has been handed out before (it may
   * hold an earlier owner's data), 0 if it never has (zeros, as the machine's memory came).
   */
  allocMany(owner, count, dirty) {
    if (count > this.freeCount) {
      throw new OutOfFramesError(`${count} machine frames requested, ${this.freeCount} free`);
    }
    const out = new Int32Array(count);
    for (let k = 0; k < count; k++) {
      if (dirty !== void 0) dirty[k] = this.pristine[this.free[this.freeCount - 1]] ^ 1;
      out[k] = this.alloc(owner);
    }
    return out;
  }
  /** Give a frame back. It must be owned by `owner` (a guard against double frees and theft). */
  release(frame, owner) {
    if (frame < 0 || frame >= this.frames || this.owner[frame] !== owner) {
      throw new Error(`FrameAllocator.release: frame 0x${frame.toString(16)} is not owned by ${owner}`);
    }
    this.owner[frame] = OWNER_FREE;
    this.free[this.freeCount++] = frame;
  }
  /** Release every frame `owner` holds; returns how many. */
  releaseAll(owner) {
    let n = 0;
    for (let f = 0; f < this.frames; f++) {
      if (this.owner[f] === owner) {
        this.release(f, owner);
        n++;
      }
    }
    return n;
  }
  /** How many frames `owner` holds. */
  countOwned(owner) {
    let n = 0;
    for (let f = 0; f < this.frames; f++) if (this.owner[f] === owner) n++;
    return n;
  }
};

// hypervisor/core/guest-memory.ts
var PAGE2 = 4096;
var GuestMemory = class {
  /**
   * mem: the real machine's memory; p2m: guest frame -> machine frame (every entry a frame the
   * domain owns; -1 for a hole).
   */
  constructor(mem, p2m) {
    this.mem = mem;
    this.p2m = p2m;
    this.frames = p2m.length;
    this.size = p2m.length * PAGE2;
  }
  mem;
  p2m;
  /** guest-physical bytes (frames * 4096) */
  size;
  /** number of guest-physical frames */
  frames;
  /** Machine address of guest-physical `gpa`, or -1 if no machine frame backs it. */
  machineAddress(gpa) {
    const gfn = gpa >>> 12;
    if (gfn >= this.frames || gpa < 0) return -1;
    const mfn = this.p2m[gfn];
    return mfn < 0 ? -1 : mfn * PAGE2 + (gpa & 4095);
  }
  /** Is [gpa, gpa + len) wholly guest memory? */
  contains(gpa, len = 1) {
    return Number.isInteger(gpa) && Number.isInteger(len) && gpa >= 0 && len >= 0 && gpa + len <= this.size;
  }
  /** Byte at gpa, or 0xff outside guest memory (open bus). */
  read8(gpa) {
    const ma = this.machineAddress(gpa);
    return ma < 0 ? 255 : this.mem.u8[ma];
  }
  /** Word at gpa (unsigned, any alignment), or 0xffffffff if any byte lies outside. */
  read32(gpa) {
    if ((gpa & 3) === 0) {
      const ma = this.machineAddress(gpa);
      return ma < 0 ? 4294967295 : this.mem.i32[ma >>> 2] >>> 0;
    }
    let v = 0;
    for (let k = 0; k < 4; k++) {
      if (!this.contains(gpa + k)) return 4294967295;
      v |= this.read8(gpa + k) << 8 * k;
    }
    return v >>> 0;
  }
  /** Write a word at gpa; false (nothing written) if any byte lies outside. */
  write32(gpa, value) {
    const b = new Uint8Array([value, value >>> 8, value >>> 16, value >>> 24]);
    return this.writeBytes(gpa, b);
  }
  /** A copy of [gpa, gpa + len), or null if the range is not wholly guest memory. */
  readBytes(gpa, len) {
    if (!this.contains(gpa, len)) return null;
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const at = gpa + done;
      const n = Math.min(len - done, PAGE2 - (at & 4095));
      const ma = this.machineAddress(at);
      if (ma < 0) return null;
      out.set(this.mem.u8.subarray(ma, ma + n), done);
      done += n;
    }
    return out;
  }
  /** Copy data to gpa, page by page through the p2m; false (nothing written) if out of range. */
  writeBytes(gpa, data) {
    if (!this.contains(gpa, data.length)) return false;
    for (let p = gpa & ~4095; p < gpa + data.length; p += PAGE2) if (this.machineAddress(Math.max(p, gpa)) < 0) return false;
    let done = 0;
    while (done < data.length) {
      const at = gpa + done;
      const n = Math.min(data.length - done, PAGE2 - (at & 4095));
      this.mem.writeBytes(this.machineAddress(at), data.subarray(done, done + n));
      done += n;
    }
    return true;
  }
  /** Fill [gpa, gpa + len) with a byte; false if out of range. */
  fill(gpa, len, value = 0) {
    if (!this.contains(gpa, len)) return false;
    let done = 0;
    while (done < len) {
      const at = gpa + done;
      const n = Math.min(len - done, PAGE2 - (at & 4095));
      this.mem.fill(this.machineAddress(at), n, value);
      done += n;
    }
    return true;
  }
  /**
   * Place an image's segments at their *physical* addresses in guest-physical memory (bss
   * zeroed). Throws MemoryRangeError, before writing anything, if a segment does not fit.
   */
  loadImage(image) {
    image.segments.forEach((seg, k) => {
      if (!this.contains(seg.paddr, seg.memBytes) || seg.data.length > seg.memBytes) {
        throw new MemoryRangeError(
          `segment ${k} (paddr 0x${(seg.paddr >>> 0).toString(16)}, ${seg.memBytes} bytes) lies outside the domain's guest-physical memory (0x0..0x${this.size.toString(16)}, ${this.size} bytes)`
        );
      }
    });
    for (const seg of image.segments) {
      this.writeBytes(seg.paddr, seg.data);
      this.fill(seg.paddr + seg.data.length, seg.memBytes - seg.data.length, 0);
    }
  }
};

// hypervisor/core/scheduler.ts
var DEFAULT_SLICE_CYCLES = 3e6;
var RoundRobinScheduler = class {
  /**
   * `seed` given: each slice is drawn from a xorshift32 generator seeded with it, 1..sliceCycles
   * cycles (the bare multiprocessor's SMP schedule, machine/machine.ts SmpSchedule, for vCPUs
   * that time-share the CPU): the same seed gives the same interleaving, another seed another.
   */
  constructor(sliceCycles = DEFAULT_SLICE_CYCLES, seed) {
    this.sliceCycles = sliceCycles;
    if (!(sliceCycles >= 1)) throw new RangeError(`RoundRobinScheduler: the slice must be at least 1 cycle (got ${sliceCycles})`);
    if (seed !== void 0) {
      this.rng = seed >>> 0 || 1;
      this.name = "round-robin (seeded slices)";
    }
    this.slice = this.nextSlice();
  }
  sliceCycles;
  name = "round-robin";
  /** runnable vCPUs; the head is the one running or about to run */
  queue = [];
  /** cycles the head has used of its slice */
  used = 0;
  /** the head's slice (sliceCycles, or the seeded draw) */
  slice;
  /** the seeded generator's state (0: fixed slices) */
  rng = 0;
  /** slices begun (rotations of the queue's head), since creation */
  slices = 0;
  add(vcpu) {
    if (vcpu.runState === "runnable") this.enqueue(vcpu);
  }
  remove(vcpu) {
    const k = this.queue.indexOf(vcpu);
    if (k < 0) return;
    this.queue.splice(k, 1);
    if (k === 0) this.newSlice();
  }
  wake(vcpu) {
    this.enqueue(vcpu);
  }
  block(vcpu) {
    this.remove(vcpu);
  }
  pick(_now) {
    const q = this.queue;
    if (q.length === 0) return null;
    if (this.used >= this.slice) {
      if (q.length > 1) q.push(q.shift());
      this.newSlice();
    }
    return q[0];
  }
  budget(_vcpu) {
    return Math.max(1, this.slice - this.used);
  }
  account(vcpu, cycles) {
    if (this.queue[0] === vcpu) this.used += cycles;
  }
  /** sched_op yield (and hvm's pause-loop exit): the head goes to the tail with its slice ended (the others run first). True if there were others. */
  yield(vcpu) {
    const q = this.queue;
    if (q[0] !== vcpu || q.length < 2) return false;
    q.push(q.shift());
    this.used = 0;
    return true;
  }
  /** The runnable queue, head first (for tests and `info`). */
  runnable() {
    return this.queue;
  }
  newSlice() {
    this.used = 0;
    this.slice = this.nextSlice();
  }
  /** The next slice's length: sliceCycles, or with a seed 1..sliceCycles from xorshift32. */
  nextSlice() {
    this.slices++;
    if (this.rng === 0) return this.sliceCycles;
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return 1 + this.rng % this.sliceCycles;
  }
  enqueue(vcpu) {
    if (!this.queue.includes(vcpu)) this.queue.push(vcpu);
  }
};

// hypervisor/core/trace.ts
var DEFAULT_TRACE_RECORDS = 1 << 18;
var MAX_TRACE_RECORDS = 1 << 22;

// hypervisor/core/vcpu.ts
var VcpuExit = class {
  reason = "deadline";
  /** deadline: the guest gave the rest of its slice up (pv's sched_op yield), not a deadline */
  yielded = false;
  // --- io: KVM_EXIT_IO ---
  /** port, size in bytes (1 or 4), direction */
  port = 0;
  size = 0;
  isWrite = false;
  /** OUT: the value written; IN: the outer loop stores the value read here */
  data = 0;
  /** IN: the destination general register (written when the vCPU next runs) */
  reg = 0;
  // --- hypercall ---
  /** hypercall number (r0) */
  nr = 0;
  // --- shutdown / crash: a human-readable explanation ---
  detail = "";
};
function resetCpuState() {
  return {
    regs: new Array(NUM_REGS).fill(0),
    pc: 0,
    flags: 0,
    cpl: 0,
    cr0: 0,
    cr2: 0,
    cr3: 0,
    cr4: 0,
    idtBase: 0,
    idtLimit: 0,
    ksp: [0, 0, 0],
    cycles: 0,
    instructions: 0,
    halted: false,
    nonRoot: false
  };
}
function startupCpuState(pc, sp) {
  const a = resetCpuState();
  a.pc = pc >>> 0;
  a.regs[REG_SP] = sp | 0;
  return a;
}
var Vcpu = class {
  constructor(domain, id) {
    this.domain = domain;
    this.id = id;
  }
  domain;
  id;
  /** the real-CPU state while this vCPU is off the CPU (stale while `loaded`) */
  arch = resetCpuState();
  /** on the real CPU now: the live state is the Cpu's */
  loaded = false;
  runState = "runnable";
  /**
   * Brought up: vCPU 0 from creation; a mode whose guest starts its other vCPUs itself (the local
   * APIC's start-up under trap/bt/hvm) creates them down (blocked, never woken) until
   * Hypervisor.startVcpu.
   */
  up = true;
  /** the physical CPU it is pinned to (Hypervisor pcpus; 0 with one) */
  pcpu = 0;
  /** the exit record of the last run */
  exit = new VcpuExit();
  /** an IN exit whose value the outer loop has put in exit.data: write it to exit.reg at the next run */
  ioPending = false;
  /** the mode's virtual-CPU state (trap: TrapVcpu, bt: a TrapVcpu subclass, hvm: HvmVcpu; pv: none); read it through the mode's typed accessor (trapVcpu(), hvmVcpu()), never a cast */
  modeState = null;
  /** cycles this vCPU has run (scheduler accounting) */
  runCycles = 0;
  /**
   * Complete an IN that exited to the outer loop: write its value to the register it named
   * (KVM completes I/O on the next KVM_RUN). Call at the start of a mode's runVcpu.
   */
  completeIo(regs) {
    if (!this.ioPending) return;
    this.ioPending = false;
    const exit = this.exit;
    regs[exit.reg] = exit.size === 1 ? exit.data & 255 : exit.data | 0;
  }
  /** "d<domain>v<vcpu>", for messages. */
  get label() {
    return `d${this.domain.id}v${this.id}`;
  }
};
function stoppedExit(dom, exit) {
  exit.reason = dom.stopReason === "crashed" ? "crash" : "shutdown";
  exit.detail = dom.stopDetail;
  return exit;
}
var CONTINUE = 0;
var TO_LOOP = 1;
function countExit(stats, x) {
  stats.cpuExits[x]++;
  if (stats.trace !== null) stats.trace.record(0 /* Exit */, stats.traceDom, x, 0);
}
function deadlineExit(exit) {
  exit.reason = "deadline";
  exit.yielded = false;
  return exit;
}
function hostStopExit(exit) {
  exit.reason = "stopped";
  return exit;
}
function crashOnUnexpectedExit(dom, mode2, x, pc) {
  const name = EXIT_NAMES[x] ?? "unknown";
  dom.shutdown("crashed", 0, `${mode2} mode: unexpected CPU exit ${x} (${name}) at pc ${hex(pc)}`);
}

// hypervisor/core/hypervisor.ts
var GangStats = class {
  /** gang slices begun */
  slices = 0;
  /** physical-CPU cycles idled inside gang slices while a vCPU of another domain pinned to that CPU was runnable: what co-scheduling costs */
  heldCycles = 0;
  /** all physical-CPU cycles idled inside gang slices (the slice's domain had nothing runnable there) */
  idleCycles = 0;
};
var DomainCreateError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "DomainCreateError";
  }
};
var PAGE3 = 4096;
var Hypervisor = class {
  /** the real hardware */
  machine;
  cpu;
  mem;
  /** the one event queue of every domain's devices */
  events;
  profile;
  frames;
  scheduler;
  /** physical CPUs (HypervisorOptions.pcpus) */
  pcpus;
  /** each physical CPU's scheduler, over the vCPUs pinned to it ([0] is `scheduler`) */
  pcpuSchedulers;
  /** with several physical CPUs: each one's clock (the real CPU shows pCPU `curPcpu`'s while it runs) */
  clocks;
  /** the vCPU last run on each physical CPU */
  resident;
  /** a physical CPU found with nothing runnable (its clock waits; a wake-up brings it to wakeAt) */
  pIdle;
  wakeAt;
  /** the physical CPU the real CPU is running now */
  curPcpu = 0;
  clocksSet = false;
  nextPcpu = 0;
  /**
   * runMulti: the physical CPU whose slice the host's limit cut (slicedByHost), or -1. The next
   * run() goes on with that slice first, as the run never stopped would have: the other physical
   * CPUs do not run up to the limit in between (that changed the vCPUs' interleaving and refilled
   * the cut vCPU's TLB), so stopping a run of several physical CPUs changes nothing.
   */
  cutPcpu = -1;
  /**
   * runMulti: the physical CPU chosen to run next when the host's limit came between that choice
   * (and the device events it ran, which may have woken a vCPU elsewhere) and its slice, or -1.
   * The next run() runs it without choosing again: with the woken physical CPU now runnable, a
   * new choice could fall on another one (a tie of clocks goes to the lower index), which the
   * run never stopped did not make.
   */
  pickedPcpu = -1;
  /** runGang: where the turn the host's limit cut (cutPcpu) ends: the next run() gives it the rest, drawing none */
  gangTurnEnd = 0;
  /** the last runSlice ended at run()'s limit alone: a deadline exit, not a yield, at slicedByHost() */
  cutByHost = false;
  /** live and stopped domains, in creation order (destroyDomain removes one) */
  domains = [];
  /** the vCPU whose state is on the real CPU */
  current = null;
  /** cycles with nothing runnable, since creation */
  idleCycles = 0;
  nextDomainId = 1;
  /** domains not yet stopped */
  liveDomains = 0;
  stopRequested = false;
  /**
   * Where the running vCPU's run would stop were the host not slicing it: the next device event
   * or the end of its scheduling budget, that is its deadline without run()'s maxCycles (set
   * before each runVcpu). See slicedByHost().
   */
  guestDeadline = -Infinity;
  /** the current run()'s end (its maxCycles from its start); Infinity outside run() */
  hostLimit = Infinity;
  attached = /* @__PURE__ */ new Set();
  /** the trace buffer every domain's tracepoints write to, or null (setTrace) */
  trace = null;
  /** I/O exits pay a world switch to the host (HypervisorOptions.hosted) */
  hosted;
  /** co-scheduling's settings (HypervisorOptions.cosched), or null */
  cosched;
  /** what co-scheduling did (all zero without it) */
  gang = new GangStats();
  /** the domain whose gang slice it is (co-scheduling), or null between slices */
  gangDomain = null;
  /** the end of the current gang slice (a physical-CPU clock) */
  gangEnd = 0;
  /** the domain index the next gang slice's search starts from */
  gangNext = 0;
  /** co-scheduling's xorshift32 state */
  gangRng = 1;
  /** the budget of a turn in a gang slice (runSlice's scheduler for it) */
  gangTurn = new GangTurn();
  constructor(opts = {}) {
    const machineOpts = { memoryBytes: opts.memoryBytes ?? 64 * 1024 * 1024 };
    if (opts.profile !== void 0) machineOpts.profile = opts.profile;
    if (opts.engine !== void 0) machineOpts.engine = opts.engine;
    this.machine = new Machine(machineOpts);
    this.cpu = this.machine.cpu;
    this.mem = this.machine.mem;
    this.events = this.machine.events;
    this.profile = this.machine.profile;
    this.frames = new FrameAllocator(this.mem.size, 1);
    this.scheduler = opts.scheduler ?? new RoundRobinScheduler();
    const np = opts.pcpus ?? 1;
    if (!Number.isInteger(np) || np < 1 || np > MAX_CPUS) throw new RangeError(`pcpus must be a whole number 1..${MAX_CPUS}, not ${np}`);
    this.pcpus = np;
    const scheds = [this.scheduler];
    for (let p = 1; p < np; p++) scheds.push(opts.makeScheduler?.(p) ?? new RoundRobinScheduler());
    this.pcpuSchedulers = scheds;
    this.clocks = new Array(np).fill(0);
    this.resident = new Array(np).fill(null);
    this.pIdle = new Array(np).fill(false);
    this.wakeAt = new Array(np).fill(0);
    this.hosted = opts.hosted ?? false;
    const cs = opts.cosched;
    if (cs !== void 0) {
      if (np < 2) throw new RangeError("cosched: co-scheduling runs a domain's vCPUs together on several physical CPUs; it needs pcpus of 2 or more");
      if (!(Number.isInteger(cs.sliceCycles) && cs.sliceCycles >= 1 && Number.isInteger(cs.quantumCycles) && cs.quantumCycles >= 1)) {
        throw new RangeError(`cosched: the slice and the quantum must be whole numbers of cycles, at least 1 (got ${cs.sliceCycles}, ${cs.quantumCycles})`);
      }
      this.gangRng = (cs.seed ?? 1) >>> 0 || 1;
    }
    this.cosched = cs ?? null;
    this.cpu.mmu.onLogDirtyFault = () => {
      const d = this.current?.domain;
      const t = d?.logDirty;
      if (!d || !t) return;
      t.chargeFault(d.mode.name === "hvm", (ev, n) => this.chargeMonitor(d, ev, n));
    };
  }
  // ================================================================================ domains
  /**
   * Create a domain run by `mode`: take its memory quota from the machine frames (zeroed), give it
   * a device model (unless config.devices is false) and vCPUs, let the mode set up its state,
   * and, if `boot` is given, build the guest. Its vCPUs are then runnable.
   */
  createDomain(mode2, config, boot) {
    const bytes = config.memoryBytes;
    if (!Number.isInteger(bytes) || bytes <= 0 || bytes % PAGE3 !== 0) {
      throw new DomainCreateError(`domain '${config.name}': memory must be a positive multiple of 4 KiB (got ${bytes})`);
    }
    const nframes = bytes / PAGE3;
    if (nframes > this.frames.freeFrames) {
      throw new DomainCreateError(
        `domain '${config.name}': ${bytes >> 10} KiB requested, but only ${this.frames.freeFrames * PAGE3 >> 10} KiB of machine memory is free`
      );
    }
    const nvcpus = config.vcpus ?? 1;
    if (!Number.isInteger(nvcpus) || nvcpus < 1) throw new DomainCreateError(`domain '${config.name}': vcpus must be at least 1`);
    if (this.cosched !== null && nvcpus > this.pcpus) {
      throw new DomainCreateError(`domain '${config.name}': co-scheduling runs its ${nvcpus} vCPUs together, one on each physical CPU, but there are only ${this.pcpus}`);
    }
    if (!this.attached.has(mode2)) {
      mode2.attach(this);
      this.attached.add(mode2);
    }
    const id = this.nextDomainId++;
    const dirty = new Uint8Array(nframes);
    const p2m = this.frames.allocMany(id, nframes, dirty);
    for (let k = 0; k < nframes; ) {
      if (dirty[k] === 0) {
        k++;
        continue;
      }
      let n = 1;
      while (k + n < nframes && dirty[k + n] !== 0 && p2m[k + n] === p2m[k] + n) n++;
      this.mem.fill(p2m[k] * PAGE3, n * PAGE3, 0);
      k += n;
    }
    const domain = new Domain(id, config.name, mode2, new GuestMemory(this.mem, p2m), config);
    if (config.devices !== false) {
      domain.devices = new DeviceModel(this.cpu, this.events, domain, () => this.interruptPending(domain), {
        startVcpu: (n, pc, sp) => this.startGuestVcpu(domain, n, pc, sp),
        onlineMask: () => domain.vcpus.reduce((m, v) => v.up ? m | 1 << v.id : m, 0),
        interruptFor: (n) => {
          const v = domain.vcpus[n];
          if (v !== void 0 && v.runState === "blocked" && domain.mode.hasPendingEvent(v)) this.wake(v);
        }
      });
    }
    for (let k = 0; k < nvcpus; k++) {
      const v = new Vcpu(domain, k);
      v.pcpu = (this.nextPcpu + k) % this.pcpus;
      domain.vcpus.push(v);
    }
    domain.onStop = (d) => this.domainStopped(d);
    domain.makeLogDirty = (d) => new LogDirtyTracker(this.cpu, this.mem, d);
    try {
      mode2.createDomain(domain);
      if (boot) mode2.build(domain, boot);
    } catch (e) {
      domain.onStop = null;
      domain.shutdown("destroyed");
      domain.devices?.reset();
      if (domain.modeState !== null || domain.vcpus.some((v) => v.modeState !== null)) mode2.destroyDomain(domain);
      this.frames.releaseAll(id);
      throw e;
    }
    domain.stats.trace = this.trace;
    this.domains.push(domain);
    this.liveDomains++;
    this.nextPcpu = (this.nextPcpu + nvcpus) % this.pcpus;
    for (const v of domain.vcpus) this.schedOf(v).add(v);
    return domain;
  }
  /** Stop a domain (if running) and give its memory and the mode's state back. */
  destroyDomain(domain) {
    domain.shutdown("destroyed");
    if (this.current && this.current.domain === domain) this.unloadCurrent();
    domain.mode.destroyDomain(domain);
    this.frames.releaseAll(domain.id);
    const k = this.domains.indexOf(domain);
    if (k >= 0) this.domains.splice(k, 1);
  }
  /**
   * Stop scheduling a running domain's vCPUs until unpauseDomain (xm pause). Its devices and
   * timers go on; events wait for it. False if it was not running.
   */
  pauseDomain(domain) {
    if (domain.state !== "running") return false;
    domain.state = "paused";
    for (const v of domain.vcpus) if (v.runState === "runnable") this.schedOf(v).block(v);
    return true;
  }
  /** Schedule a paused domain again (its runnable vCPUs rejoin, with no credit for the pause). */
  unpauseDomain(domain) {
    if (domain.state !== "paused") return false;
    domain.state = "running";
    for (const v of domain.vcpus) if (v.runState === "runnable") this.schedOf(v).wake(v);
    return true;
  }
  /**
   * Turn tracing on (a buffer: every domain's exits, traps, hypercalls, event-channel
   * notifications, interrupts and the scheduler's switches go to it) or off (null). A runnable vCPU
   * on the CPU when tracing begins gets a switch record at once, so its run slice is in the trace.
   */
  setTrace(trace) {
    this.trace = trace;
    if (trace !== null) trace.vcpuNow = this.current?.id ?? 0;
    for (const d of this.domains) d.stats.trace = trace;
    const v = this.current;
    if (trace !== null && v !== null && v.runState === "runnable" && v.domain.state === "running") trace.record(5 /* Switch */, v.domain.id, v.id, 0);
  }
  /** The domain with this id, if it exists. */
  domain(id) {
    return this.domains.find((d) => d.id === id);
  }
  /** A frame for the hypervisor's own use (shadow tables ...), zeroed; its machine frame number. */
  allocHypervisorFrame() {
    const f = this.frames.alloc(OWNER_HYPERVISOR);
    this.mem.fill(f * PAGE3, PAGE3, 0);
    return f;
  }
  releaseHypervisorFrame(frame) {
    this.frames.release(frame, OWNER_HYPERVISOR);
  }
  domainStopped(domain) {
    this.liveDomains--;
    for (const v of domain.vcpus) this.schedOf(v).remove(v);
    domain.devices?.reset();
  }
  // ================================================================================ vCPUs
  /** A blocked vCPU becomes runnable (it is scheduled once its domain is not paused). A down vCPU stays down. */
  wake(vcpu) {
    if (vcpu.runState !== "blocked" || !vcpu.up) return;
    vcpu.runState = "runnable";
    vcpu.domain.mode.runstateChanged?.(vcpu.domain);
    if (vcpu.domain.state === "paused") return;
    const p = vcpu.pcpu;
    if (this.pcpus > 1 && this.pIdle[p] && this.cpu.cycles > this.wakeAt[p]) this.wakeAt[p] = this.cpu.cycles;
    this.schedOf(vcpu).wake(vcpu);
  }
  /** The vCPU waits for an event (HLT), unless its mode says one is already there. */
  block(vcpu) {
    if (vcpu.runState !== "runnable" || vcpu.domain.mode.hasPendingEvent(vcpu)) return;
    vcpu.runState = "blocked";
    this.schedOf(vcpu).block(vcpu);
    vcpu.domain.mode.runstateChanged?.(vcpu.domain);
  }
  /** The domain's virtual interrupt controller may have something: wake its blocked vCPUs that can take it. */
  interruptPending(domain) {
    for (const v of domain.vcpus) if (v.runState === "blocked" && domain.mode.hasPendingEvent(v)) this.wake(v);
  }
  /**
   * Bring a down vCPU up: it becomes runnable (the mode has set its entry state). False if it is
   * up already or its domain has stopped.
   */
  startVcpu(vcpu) {
    if (vcpu.up || vcpu.domain.stopped) return false;
    vcpu.up = true;
    vcpu.runState = "blocked";
    this.wake(vcpu);
    return true;
  }
  /** A guest's start-up of its vCPU n (the virtual local APIC's LAPIC_START) at pc with sp. */
  startGuestVcpu(domain, n, pc, sp) {
    const v = domain.vcpus[n];
    const mode2 = domain.mode;
    if (v === void 0 || v.up || domain.stopped || mode2.startVcpu === void 0) return false;
    mode2.startVcpu(v, pc, sp);
    domain.stats.vcpuStarts++;
    return this.startVcpu(v);
  }
  /** The architectural state of a vCPU, wherever it lives now (a copy). */
  vcpuState(vcpu) {
    return vcpu.loaded ? this.cpu.saveState() : structuredClone(vcpu.arch);
  }
  /**
   * Charge `n` events of ledger kind `ev` (machine/ledger.ts) of hypervisor software work done
   * for `domain` (monitor paths, world switches, callouts, pv's hypercall work).
   */
  chargeMonitor(domain, ev, n) {
    const c0 = this.cpu.cycles;
    this.cpu.charge(ev, n);
    domain.stats.monitorCycles += this.cpu.cycles - c0;
  }
  /**
   * Put `vcpu` on the real CPU: save the current one, restore this one's registers (time is not
   * part of a vCPU's state: the cycle and instruction counters keep running), and let the mode
   * set its hooks. A world switch is charged as one monitor path plus a CR3 load.
   */
  switchTo(vcpu, worldSwitch = true) {
    if (this.current === vcpu) return;
    if (this.current) this.unloadCurrent();
    const cpu = this.cpu;
    const arch = vcpu.arch;
    arch.cycles = cpu.cycles;
    arch.instructions = cpu.instructions;
    cpu.loadState(arch);
    vcpu.loaded = true;
    this.current = vcpu;
    if (this.trace !== null) this.trace.vcpuNow = vcpu.id;
    vcpu.domain.mode.load(vcpu);
    const d = vcpu.domain;
    if (!worldSwitch) return;
    d.stats.worldSwitches++;
    if (this.trace !== null) this.trace.record(5 /* Switch */, d.id, vcpu.id, 0);
    this.chargeMonitor(d, Ev.WorldSwitch, 1);
  }
  /**
   * Make `vcpu` the one on the real CPU without a world switch: a restored domain's vCPU that was
   * on its CPU when it was saved (hypervisor/save/pv-domain.ts) goes on as if it never left, its
   * TLB laid in by the caller. The vCPU on the CPU now is saved as a world switch saves it (the
   * switch back to it is charged when it is next picked).
   */
  adoptCurrent(vcpu) {
    if (this.current) this.unloadCurrent();
    const arch = vcpu.arch;
    arch.cycles = this.cpu.cycles;
    arch.instructions = this.cpu.instructions;
    this.cpu.loadState(arch);
    vcpu.loaded = true;
    this.current = vcpu;
    if (this.trace !== null) this.trace.vcpuNow = vcpu.id;
    vcpu.domain.mode.load(vcpu);
  }
  /**
   * Domain.spinYield: `vcpu`, picked, would spin behind a holder waiting for this physical CPU -
   * its slice is given up (the scheduler rotates; no cycles pass, no world switch to it).
   */
  spinYield(vcpu, sched) {
    const d = vcpu.domain;
    const w = d.spinWatch;
    if (w === null || !d.spinYield) return false;
    const pc = vcpu.loaded ? this.cpu.pc : vcpu.arch.pc;
    if (!shouldYield(w, pc, d.memory.read32(w.holderGpa), d.vcpus, vcpu)) return false;
    d.spinStats.yields++;
    sched.account(vcpu, sched.budget(vcpu));
    return true;
  }
  /** Is `vcpu` on its physical CPU now (running, or the one its CPU runs when the CPU next gets a turn)? */
  onPcpu(vcpu) {
    if (vcpu.runState !== "runnable" || !vcpu.up) return false;
    if (this.cosched !== null) return vcpu.domain === this.gangDomain;
    return this.pcpus > 1 ? this.resident[vcpu.pcpu] === vcpu : this.current === vcpu;
  }
  /**
   * Xen's runstate of `vcpu` (public/vcpu.h RUNSTATE_*) as the hypervisor sees it now: 'running'
   * while it has its physical CPU (it runs, or is the one its CPU runs when that CPU next gets a
   * turn; co-scheduled: its domain has the gang slice), 'runnable' while it waits for it
   * (preempted), 'blocked', 'offline' (down, or its domain stopped).
   */
  vcpuRunstate(vcpu) {
    if (!vcpu.up || vcpu.runState === "stopped") return "offline";
    if (vcpu.runState === "blocked") return "blocked";
    return this.onPcpu(vcpu) ? "running" : "runnable";
  }
  /** The scheduler of the physical CPU `vcpu` is pinned to. */
  schedOf(vcpu) {
    return this.pcpuSchedulers[vcpu.pcpu];
  }
  /**
   * `vcpu` gives up the rest of its slice to the others on its physical CPU (pv's sched_op
   * yield, hvm's pause-loop exit), if its scheduler can be told so. True if its scheduler says
   * another runs first.
   */
  yieldVcpu(vcpu) {
    return this.schedOf(vcpu).yield?.(vcpu) === true;
  }
  /** Make the real CPU run physical CPU p: its vCPU, if loaded, leaves it; the cycle counter becomes p's clock. */
  enterPcpu(p) {
    if (p === this.curPcpu) return;
    this.unloadCurrent();
    this.clocks[this.curPcpu] = this.cpu.cycles;
    this.curPcpu = p;
    this.cpu.cycles = this.clocks[p];
  }
  unloadCurrent() {
    const v = this.current;
    if (!v) return;
    v.domain.mode.unload(v);
    v.arch = this.cpu.saveState();
    v.loaded = false;
    this.current = null;
  }
  // ================================================================================ the exit loop
  /** Is the running vCPU's CPU (at cpu.cycles) short of its guestDeadline and of every device event? */
  beforeGuestDeadline() {
    return this.cpu.cycles < Math.min(this.guestDeadline, this.events.nextDeadline());
  }
  /**
   * Did the running vCPU's CPU stop (at cpu.cycles) for the host's slicing alone - at run()'s
   * maxCycles (the CLI's interactive slices, a replay's run to an input's cycle) and short of its
   * guestDeadline and of every device event? Such a stop is no entry into the hypervisor the
   * guest could tell from running on (a device event or the budget's end is one: a timer
   * interrupt would make it, in any slicing; so is a stop a device model asked for by
   * cpu.shortenDeadline before the host's limit). A mode does nothing there the guest could see
   * (no event delivered, no time restamped, no timer re-armed), so slicing does not change a run
   * (test/hypervisor/slicing.test.ts).
   */
  slicedByHost() {
    return this.cpu.cycles >= this.hostLimit && this.beforeGuestDeadline();
  }
  /** Make run() return 'stopped' soon (at the next block boundary of the running vCPU). */
  stop() {
    this.stopRequested = true;
    this.cpu.requestStop();
  }
  /**
   * Run domains until every one has stopped, maxCycles go by, stop() is called, or nothing can
   * ever run again. May be called again to continue.
   */
  run(opts = {}) {
    if (this.cosched !== null) return this.runGang(opts);
    if (this.pcpus > 1) return this.runMulti(opts);
    const cpu = this.cpu;
    const start = cpu.cycles;
    const startInsns = cpu.instructions;
    const limit = runLimit(start, opts.maxCycles);
    this.hostLimit = limit;
    let idle = 0;
    const done = (reason, detail) => {
      this.idleCycles += idle;
      this.hostLimit = Infinity;
      const res = { reason, cycles: cpu.cycles - start, instructions: cpu.instructions - startInsns, idleCycles: idle };
      if (detail !== void 0) res.detail = detail;
      return res;
    };
    this.stopRequested = false;
    for (; ; ) {
      this.events.runDue();
      if (this.stopRequested) {
        this.stopRequested = false;
        return done("stopped");
      }
      if (this.liveDomains === 0) return done("all-stopped");
      if (cpu.cycles >= limit) return limit === END_OF_TIME ? done("limit", END_OF_TIME_DETAIL) : done("limit");
      const vcpu = this.scheduler.pick(cpu.cycles);
      if (vcpu === null) {
        const next = this.events.nextDeadline();
        if (next === Infinity) return done("deadlock", "every vCPU is blocked and no device event is left that could wake one");
        const target = Math.min(next, limit);
        if (target > cpu.cycles) {
          idle += target - cpu.cycles;
          cpu.charge(Ev.Idle, target - cpu.cycles);
        }
        continue;
      }
      if (this.spinYield(vcpu, this.scheduler)) continue;
      this.switchTo(vcpu);
      if (this.runSlice(vcpu, this.scheduler, limit)) return done("stopped");
      if (vcpu.runState === "stopped" && this.current === vcpu) this.unloadCurrent();
    }
  }
  /**
   * The start both runs of several physical CPUs share (runMulti, runGang): every clock set at the
   * first run, the running one's from the CPU, the host limit; `done` ends the run (the clocks, the
   * idle cycles the loop counted in `idle`, the host limit cleared) and gives its result.
   */
  startMultiRun(maxCycles) {
    const cpu = this.cpu;
    const clocks = this.clocks;
    if (!this.clocksSet) {
      clocks.fill(cpu.cycles);
      this.clocksSet = true;
    }
    clocks[this.curPcpu] = cpu.cycles;
    const start = cpu.cycles;
    const startInsns = cpu.instructions;
    const run = {
      limit: runLimit(start, maxCycles),
      idle: 0,
      done: (reason, detail) => {
        clocks[this.curPcpu] = cpu.cycles;
        this.idleCycles += run.idle;
        this.hostLimit = Infinity;
        const res = { reason, cycles: cpu.cycles - start, instructions: cpu.instructions - startInsns, idleCycles: run.idle };
        if (detail !== void 0) res.detail = detail;
        return res;
      }
    };
    this.hostLimit = run.limit;
    return run;
  }
  /**
   * Run `vcpu` (on the real CPU now) for one slice - until the next event, the end of its
   * scheduler's budget or the limit - and handle its exit. True: the run must return 'stopped'.
   */
  runSlice(vcpu, sched, limit) {
    const cpu = this.cpu;
    const domain = vcpu.domain;
    this.guestDeadline = Math.min(this.events.nextDeadline(), cpu.cycles + sched.budget(vcpu));
    const deadline = Math.min(this.guestDeadline, limit);
    const c0 = cpu.cycles;
    const i0 = cpu.instructions;
    const watch = domain.spinWatch;
    const spinning = watch !== null && inSpin(watch, cpu.pc);
    const exit = domain.mode.runVcpu(vcpu, deadline);
    this.cutByHost = exit.reason === "deadline" && !exit.yielded && this.slicedByHost();
    const used = cpu.cycles - c0;
    if (spinning && (exit.reason === "deadline" || exit.reason === "yield") && vcpu.loaded && inSpin(watch, cpu.pc)) {
      countSpin(domain.spinStats, domain.memory.read32(watch.holderGpa), domain.vcpus, vcpu, used, (h) => this.onPcpu(h));
    }
    vcpu.runCycles += used;
    domain.stats.runCycles += used;
    domain.stats.instructions += cpu.instructions - i0;
    sched.account(vcpu, used);
    domain.stats.loopExits[exit.reason]++;
    switch (exit.reason) {
      case "io":
        this.chargeMonitor(domain, Ev.DeviceModel, 1);
        if (this.hosted) this.chargeMonitor(domain, Ev.HostedSwitch, 1);
        if (domain.devices) domain.devices.handleIo(exit, vcpu.id);
        else if (!exit.isWrite) exit.data = exit.size === 1 ? 255 : 4294967295;
        if (!exit.isWrite) vcpu.ioPending = true;
        break;
      case "hlt":
        this.block(vcpu);
        break;
      case "deadline":
        break;
      case "yield":
        if (this.yieldVcpu(vcpu)) domain.stats.yieldsToOthers++;
        break;
      case "shutdown":
      case "crash":
        if (!domain.stopped) domain.shutdown(exit.reason === "crash" ? "crashed" : "poweroff", 0, exit.detail);
        break;
      case "stopped":
        if (this.stopRequested || cpu.monitorStopped) {
          this.stopRequested = false;
          return true;
        }
        break;
      default:
        assertNever(exit.reason, "vCPU exit reason");
    }
    return false;
  }
  /*
   * Several physical CPUs (HypervisorOptions.pcpus), simulated as the bare multiprocessor is
   * (machine/machine.ts runSmp): each has its own clock, and the one whose clock is lowest runs
   * next, one slice of the vCPU its scheduler picks, on the one real Cpu - its registers are the
   * vCPU's as always; its cycle counter shows that physical CPU's clock. Events run when the
   * running CPU's clock passes them. A physical CPU with nothing runnable waits (its clock stands)
   * until a wake-up, and then starts no earlier than the time of the wake-up. Moving the real
   * Cpu from one physical CPU's vCPU to another's is the simulator's doing, not a world switch:
   * none is charged or counted (the mode's unload and load still run: under hvm it is an
   * external-interrupt exit, as a host timer tick would give; the TLB is refilled, which real
   * CPUs, each with its own TLB, would not need - a documented overcharge, docs/hypervisor.md).
   */
  runMulti(opts) {
    const cpu = this.cpu;
    const clocks = this.clocks;
    const P = this.pcpus;
    const run = this.startMultiRun(opts.maxCycles);
    const { limit, done } = run;
    const enter = (p) => this.enterPcpu(p);
    const idleTo = (p, t) => {
      if (clocks[p] >= t) return;
      enter(p);
      run.idle += t - cpu.cycles;
      cpu.charge(Ev.Idle, t - cpu.cycles);
      clocks[p] = cpu.cycles;
    };
    this.stopRequested = false;
    for (; ; ) {
      if (this.stopRequested) {
        this.stopRequested = false;
        return done("stopped");
      }
      if (this.liveDomains === 0) return done("all-stopped");
      clocks[this.curPcpu] = cpu.cycles;
      const cut = this.cutPcpu;
      this.cutPcpu = -1;
      const goOn = cut >= 0 && cut === this.curPcpu && this.pcpuSchedulers[cut].pick(clocks[cut]) === this.current;
      const picked = this.pickedPcpu;
      this.pickedPcpu = -1;
      const again = !goOn && picked >= 0 && picked === this.curPcpu;
      let best = goOn || again ? this.curPcpu : -1;
      let bestAt = goOn || again ? clocks[this.curPcpu] : Infinity;
      for (let p = 0; p < P && !goOn && !again; p++) {
        if (this.pcpuSchedulers[p].pick(clocks[p]) === null) {
          if (!this.pIdle[p]) {
            this.pIdle[p] = true;
            this.wakeAt[p] = clocks[p];
          }
          continue;
        }
        const at = this.pIdle[p] ? Math.max(clocks[p], this.wakeAt[p]) : clocks[p];
        if (at < bestAt) {
          best = p;
          bestAt = at;
        }
      }
      if (best < 0) {
        const next = this.events.nextDeadline();
        if (next === Infinity) return done("deadlock", "every vCPU is blocked and no device event is left that could wake one");
        const target = Math.min(next, limit);
        for (let p = 0; p < P; p++) idleTo(p, target);
        let low = 0;
        for (let p = 1; p < P; p++) if (clocks[p] < clocks[low]) low = p;
        enter(low);
        this.events.runDue();
        if (cpu.cycles >= limit) return limit === END_OF_TIME ? done("limit", END_OF_TIME_DETAIL) : done("limit");
        continue;
      }
      idleTo(best, bestAt);
      this.pIdle[best] = false;
      enter(best);
      this.events.runDue();
      if (this.stopRequested || this.liveDomains === 0) continue;
      if (cpu.cycles >= limit) {
        this.pickedPcpu = best;
        return limit === END_OF_TIME ? done("limit", END_OF_TIME_DETAIL) : done("limit");
      }
      const sched = this.pcpuSchedulers[best];
      const vcpu = sched.pick(cpu.cycles);
      if (vcpu === null) continue;
      if (!goOn && this.spinYield(vcpu, sched)) continue;
      const back = this.resident[best] === vcpu;
      this.switchTo(vcpu, !back);
      this.resident[best] = vcpu;
      const stop = this.runSlice(vcpu, sched, limit);
      clocks[best] = cpu.cycles;
      if (stop) return done("stopped");
      if (vcpu.runState === "stopped" && this.current === vcpu) this.unloadCurrent();
      else if (this.current === vcpu && this.cutByHost) {
        this.cutPcpu = best;
        return done("limit");
      }
    }
  }
  /*
   * Co-scheduling (HypervisorOptions.cosched): the physical CPUs keep their own clocks as in
   * runMulti, but time goes in gang slices. A slice begins when every physical CPU's clock has
   * reached the last one's end: those behind idle up to the latest (they all start it together),
   * and the next domain in creation order (round robin) with a runnable vCPU gets it, for
   * sliceCycles. Inside, the physical CPU with the lowest clock whose vCPU of that domain is
   * runnable takes a turn of 1..quantumCycles (seeded) cycles, as runMulti's do; one whose vCPU is
   * blocked, down or absent idles - other domains' vCPUs wait for their own slice (the cost,
   * GangStats.heldCycles) - until a wake-up or the slice's end. --spin-yield does not apply: the
   * holder is never waiting for its physical CPU while a vCPU of its domain runs.
   */
  runGang(opts) {
    const cpu = this.cpu;
    const clocks = this.clocks;
    const P = this.pcpus;
    const cs = this.cosched;
    const run = this.startMultiRun(opts.maxCycles);
    const { limit, done } = run;
    const enter = (p) => this.enterPcpu(p);
    const idleTo = (p, t) => {
      if (clocks[p] >= t) return;
      enter(p);
      const n = t - cpu.cycles;
      run.idle += n;
      cpu.charge(Ev.Idle, n);
      clocks[p] = cpu.cycles;
      const g = this.gangDomain;
      if (g !== null) {
        this.gang.idleCycles += n;
        if (this.othersRunnable(g, p)) this.gang.heldCycles += n;
      }
    };
    const lowest = () => {
      let low = 0;
      for (let p = 1; p < P; p++) if (clocks[p] < clocks[low]) low = p;
      return low;
    };
    this.stopRequested = false;
    for (; ; ) {
      if (this.stopRequested) {
        this.stopRequested = false;
        return done("stopped");
      }
      if (this.liveDomains === 0) return done("all-stopped");
      clocks[this.curPcpu] = cpu.cycles;
      let g = this.gangDomain;
      if (g !== null && g.state !== "running") g = this.gangDomain = null;
      if (g === null) {
        const n = this.domains.length;
        for (let k = 0; k < n && g === null; k++) {
          const i2 = (this.gangNext + k) % n;
          const d = this.domains[i2];
          if (d.state === "running" && d.vcpus.some((v) => v.up && v.runState === "runnable")) {
            g = d;
            this.gangNext = i2 + 1;
          }
        }
        if (g === null) {
          const next = this.events.nextDeadline();
          if (next === Infinity) return done("deadlock", "every vCPU is blocked and no device event is left that could wake one");
          const target = Math.min(next, limit);
          for (let p = 0; p < P; p++) idleTo(p, target);
          enter(lowest());
          this.events.runDue();
          if (cpu.cycles >= limit) return limit === END_OF_TIME ? done("limit", END_OF_TIME_DETAIL) : done("limit");
          continue;
        }
        this.gangDomain = g;
        let t = 0;
        for (let p = 0; p < P; p++) t = Math.max(t, clocks[p]);
        for (let p = 0; p < P; p++) {
          idleTo(p, t);
          this.pIdle[p] = false;
        }
        this.gangEnd = t + cs.sliceCycles;
        this.gang.slices++;
      }
      const cut = this.cutPcpu;
      this.cutPcpu = -1;
      const picked = this.pickedPcpu;
      this.pickedPcpu = -1;
      const goOn = cut >= 0 && cut === this.curPcpu && this.gangVcpu(g, cut) === this.current;
      const again = !goOn && picked >= 0 && picked === this.curPcpu;
      let best = goOn || again ? this.curPcpu : -1;
      let bestAt = Infinity;
      for (let p = 0; p < P && !goOn && !again; p++) {
        if (clocks[p] >= this.gangEnd) continue;
        if (this.gangVcpu(g, p) === null) {
          if (!this.pIdle[p]) {
            this.pIdle[p] = true;
            this.wakeAt[p] = clocks[p];
          }
          continue;
        }
        const at = this.pIdle[p] ? Math.max(clocks[p], this.wakeAt[p]) : clocks[p];
        if (at < this.gangEnd && at < bestAt) {
          best = p;
          bestAt = at;
        }
      }
      if (best < 0) {
        const target = Math.min(this.events.nextDeadline(), this.gangEnd, limit);
        for (let p = 0; p < P; p++) idleTo(p, target);
        if (target >= this.gangEnd) this.gangDomain = null;
        enter(lowest());
        this.events.runDue();
        if (cpu.cycles >= limit) return limit === END_OF_TIME ? done("limit", END_OF_TIME_DETAIL) : done("limit");
        continue;
      }
      if (goOn) {
        if (cpu.cycles >= limit) {
          this.cutPcpu = best;
          return limit === END_OF_TIME ? done("limit", END_OF_TIME_DETAIL) : done("limit");
        }
      } else {
        if (!again) {
          idleTo(best, bestAt);
          this.pIdle[best] = false;
          enter(best);
          this.events.runDue();
          if (this.stopRequested || this.liveDomains === 0) continue;
        }
        if (cpu.cycles >= limit) {
          this.pickedPcpu = best;
          return limit === END_OF_TIME ? done("limit", END_OF_TIME_DETAIL) : done("limit");
        }
      }
      const vcpu = this.gangVcpu(g, best);
      if (vcpu === null || g.state !== "running") continue;
      const c0 = cpu.cycles;
      this.gangTurn.cycles = goOn ? this.gangTurnEnd - c0 : Math.max(1, Math.min(this.gangEnd - c0, this.drawTurn(cs.quantumCycles)));
      const back = this.resident[best] === vcpu;
      this.switchTo(vcpu, !back);
      this.resident[best] = vcpu;
      const turnEnd = cpu.cycles + this.gangTurn.cycles;
      const stop = this.runSlice(vcpu, this.gangTurn, limit);
      clocks[best] = cpu.cycles;
      if (stop) return done("stopped");
      if (vcpu.runState === "stopped" && this.current === vcpu) this.unloadCurrent();
      else if (this.current === vcpu && this.cutByHost) {
        this.cutPcpu = best;
        this.gangTurnEnd = turnEnd;
        return done("limit");
      }
    }
  }
  /** The vCPU of domain `g` pinned to physical CPU `p` that can run now, or null. */
  gangVcpu(g, p) {
    for (const v of g.vcpus) if (v.pcpu === p && v.up && v.runState === "runnable") return v;
    return null;
  }
  /** Has a running domain other than `g` a runnable vCPU pinned to physical CPU `p`? */
  othersRunnable(g, p) {
    for (const d of this.domains) {
      if (d === g || d.state !== "running") continue;
      for (const v of d.vcpus) if (v.pcpu === p && v.up && v.runState === "runnable") return true;
    }
    return false;
  }
  /** A turn's length inside a gang slice: 1..quantum cycles from xorshift32. */
  drawTurn(quantum) {
    let x = this.gangRng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.gangRng = x >>> 0;
    return 1 + this.gangRng % quantum;
  }
};
var GangTurn = class {
  name = "gang turn";
  cycles = 1;
  add() {
  }
  remove() {
  }
  wake() {
  }
  block() {
  }
  pick() {
    return null;
  }
  budget() {
    return this.cycles;
  }
  account() {
  }
};

// machine/image.ts
var IMAGE_MAGIC = 1296649304;
var IMAGE_VERSION = 1;
var HEADER_BYTES = 32;
var SEGMENT_BYTES = 24;
var SYMBOL_BYTES = 16;
var IMAGE_MAX_BYTES = 64 * 1024 * 1024;
var ARCH_NAMES = ["bare", "native", "pv", "user"];
var ImageError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "ImageError";
  }
};
function encodeImage(img) {
  const enc = new TextEncoder();
  const nameBytes = [];
  const nameOffsets = [];
  let strLen = 0;
  for (const s of img.symbols) {
    const b = enc.encode(s.name);
    nameOffsets.push(strLen);
    nameBytes.push(b);
    strLen += b.length + 1;
  }
  const notes = enc.encode(JSON.stringify(img.notes ?? {}));
  const tablesEnd = HEADER_BYTES + img.segments.length * SEGMENT_BYTES + img.symbols.length * SYMBOL_BYTES;
  let dataOff = tablesEnd + strLen + notes.length;
  const total = dataOff + img.segments.reduce((n, s) => n + s.data.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  const u32 = (off2, v) => dv.setUint32(off2, v >>> 0, true);
  u32(0, IMAGE_MAGIC);
  u32(4, IMAGE_VERSION);
  u32(8, img.entry);
  u32(12, img.segments.length);
  u32(16, img.symbols.length);
  u32(20, img.arch);
  u32(24, notes.length);
  u32(28, strLen);
  let off = HEADER_BYTES;
  for (const s of img.segments) {
    u32(off, s.vaddr);
    u32(off + 4, s.paddr);
    u32(off + 8, s.memBytes);
    u32(off + 12, s.data.length);
    u32(off + 16, dataOff);
    u32(off + 20, s.flags);
    out.set(s.data, dataOff);
    dataOff += s.data.length;
    off += SEGMENT_BYTES;
  }
  img.symbols.forEach((s, k) => {
    u32(off, s.addr);
    u32(off + 4, s.size);
    u32(off + 8, s.kind);
    u32(off + 12, nameOffsets[k]);
    off += SYMBOL_BYTES;
  });
  nameBytes.forEach((b) => {
    out.set(b, off);
    off += b.length + 1;
  });
  out.set(notes, off);
  return out;
}
function decodeImage(bytes, what = "image") {
  const fail = (msg) => {
    throw new ImageError(`${what}: ${msg}`);
  };
  if (bytes.length < HEADER_BYTES) fail(`too short to be an XL32 image (${bytes.length} bytes, header needs ${HEADER_BYTES})`);
  if (bytes.length > IMAGE_MAX_BYTES) fail(`too large (${bytes.length} bytes, limit ${IMAGE_MAX_BYTES})`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (off) => dv.getUint32(off, true);
  if (u32(0) !== IMAGE_MAGIC) fail(`bad magic at offset 0 (not an XL32 image; expected "XLIM")`);
  if (u32(4) !== IMAGE_VERSION) fail(`unsupported version ${u32(4)} at offset 4 (this loader reads version ${IMAGE_VERSION})`);
  const entry = u32(8);
  const nseg = u32(12);
  const nsym = u32(16);
  const arch = u32(20);
  const notesLen = u32(24);
  const strLen = u32(28);
  if (arch > 3 /* User */) fail(`unknown arch ${arch} at offset 20`);
  const segEnd = HEADER_BYTES + nseg * SEGMENT_BYTES;
  const symEnd = segEnd + nsym * SYMBOL_BYTES;
  const strEnd = symEnd + strLen;
  const notesEnd = strEnd + notesLen;
  if (nseg > 4096 || nsym > 1e6 || notesEnd > bytes.length) {
    fail(`tables run past the end of the file (segments ${nseg}, symbols ${nsym}, strings ${strLen} bytes, notes ${notesLen} bytes; file ${bytes.length} bytes)`);
  }
  const segments = [];
  for (let k = 0; k < nseg; k++) {
    const o = HEADER_BYTES + k * SEGMENT_BYTES;
    const vaddr = u32(o), paddr = u32(o + 4), memBytes = u32(o + 8), fileBytes = u32(o + 12), fileOff = u32(o + 16), flags = u32(o + 20);
    if (fileBytes > memBytes) fail(`segment ${k} at offset ${o}: file size ${fileBytes} exceeds memory size ${memBytes}`);
    if (fileOff + fileBytes > bytes.length || fileOff < notesEnd && fileBytes > 0) fail(`segment ${k} at offset ${o}: data [${fileOff}, ${fileOff + fileBytes}) lies outside the data area`);
    if (vaddr + memBytes > 4294967296 || paddr + memBytes > 4294967296) fail(`segment ${k} at offset ${o}: wraps past the 4 GiB address space`);
    segments.push({ vaddr, paddr, memBytes, flags, data: bytes.slice(fileOff, fileOff + fileBytes) });
  }
  const dec = new TextDecoder("utf-8", { fatal: false });
  const symbols = [];
  for (let k = 0; k < nsym; k++) {
    const o = segEnd + k * SYMBOL_BYTES;
    const nameOff = u32(o + 12);
    if (nameOff >= strLen) fail(`symbol ${k} at offset ${o}: name offset ${nameOff} outside the string table`);
    let end = symEnd + nameOff;
    while (end < strEnd && bytes[end] !== 0) end++;
    symbols.push({ addr: u32(o), size: u32(o + 4), kind: u32(o + 8), name: dec.decode(bytes.subarray(symEnd + nameOff, end)) });
  }
  let notes = {};
  if (notesLen > 0) {
    try {
      const parsed = JSON.parse(dec.decode(bytes.subarray(strEnd, notesEnd)));
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) notes = parsed;
      else fail(`notes at offset ${strEnd} are not a JSON object`);
    } catch (e) {
      if (e instanceof ImageError) throw e;
      fail(`notes at offset ${strEnd} are not valid JSON`);
    }
  }
  return { entry, arch, segments, symbols, notes };
}

// hypervisor/boot/native.ts
var BOOT_INFO_ADDR = 32768;
var BOOT_INFO_MAGIC = 1229081688;
var BOOT_INFO_VERSION = 1;
var CMDLINE_ADDR = BOOT_INFO_ADDR + 32 /* BYTES */;
var CMDLINE_MAX_BYTES = 4096 - 32 /* BYTES */ - 1;
var KERNEL_MIN = 65536;
var KERNEL_LIMIT = 4194304;
var PAGE4 = 4096;
var BootError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "BootError";
  }
};
var pageUp = (n) => Math.ceil(n / PAGE4) * PAGE4;
function bootNative(machine, boot) {
  const { kernel } = boot;
  const initrd = boot.initrd ?? new Uint8Array(0);
  const cmdline = new TextEncoder().encode(boot.cmdline ?? "");
  if (kernel.arch !== 1 /* Native */) {
    throw new BootError(`the kernel image is built for arch "${ARCH_NAMES[kernel.arch] ?? kernel.arch}", not "native"`);
  }
  if (kernel.segments.length === 0) throw new BootError("the kernel image has no segments");
  let kernelEnd = 0;
  for (const s of kernel.segments) {
    const end = s.paddr + s.memBytes;
    if (s.vaddr !== s.paddr) {
      throw new BootError(`kernel segment at 0x${s.vaddr.toString(16)} is linked at a different physical address (0x${s.paddr.toString(16)}); the native kernel runs identity-mapped`);
    }
    if (s.paddr < KERNEL_MIN || end > KERNEL_LIMIT) {
      throw new BootError(`kernel segment [0x${s.paddr.toString(16)}, 0x${end.toString(16)}) lies outside the kernel range [0x${KERNEL_MIN.toString(16)}, 0x${KERNEL_LIMIT.toString(16)})`);
    }
    kernelEnd = Math.max(kernelEnd, end);
  }
  if (cmdline.length > CMDLINE_MAX_BYTES) throw new BootError(`the command line is ${cmdline.length} bytes; at most ${CMDLINE_MAX_BYTES} fit`);
  const memoryBytes = machine.mem.size;
  const initrdAddr = pageUp(kernelEnd);
  const freeStart = pageUp(initrdAddr + initrd.length);
  if (freeStart + 64 * PAGE4 > memoryBytes) {
    throw new BootError(`kernel and initrd end at 0x${freeStart.toString(16)}, leaving too little of the machine's ${memoryBytes >> 20} MiB`);
  }
  machine.loadImage(kernel);
  machine.mem.writeBytes(initrdAddr, initrd);
  machine.mem.writeBytes(CMDLINE_ADDR, Uint8Array.from([...cmdline, 0]));
  const info = new DataView(new ArrayBuffer(32 /* BYTES */));
  info.setUint32(0 /* MAGIC */, BOOT_INFO_MAGIC, true);
  info.setUint32(4 /* VERSION */, BOOT_INFO_VERSION, true);
  info.setUint32(8 /* MEMORY_BYTES */, memoryBytes, true);
  info.setUint32(12 /* INITRD_ADDR */, initrdAddr, true);
  info.setUint32(16 /* INITRD_BYTES */, initrd.length, true);
  info.setUint32(20 /* FREE_START */, freeStart, true);
  info.setUint32(24 /* CMDLINE_ADDR */, CMDLINE_ADDR, true);
  info.setUint32(28 /* CMDLINE_BYTES */, cmdline.length, true);
  machine.mem.writeBytes(BOOT_INFO_ADDR, new Uint8Array(info.buffer));
  const r = machine.cpu.regs;
  r[1] = initrdAddr;
  r[2] = initrd.length;
  r[3] = memoryBytes;
  r[4] = BOOT_INFO_ADDR;
  return { kernelEnd, initrdAddr, initrdBytes: initrd.length, freeStart, memoryBytes };
}

// hypervisor/core/loader.ts
function loadBoot(domain, vcpu, boot) {
  if ("image" in boot) {
    domain.memory.loadImage(boot.image);
    vcpu.arch = resetCpuState();
    vcpu.arch.pc = boot.image.entry >>> 0;
    domain.symbols = boot.image.symbols;
    return null;
  }
  return bootKernelInDomain(domain, vcpu, boot.kernel, boot.initrd, boot.cmdline);
}
function bootKernelInDomain(domain, vcpu, kernel, initrd, cmdline) {
  const regs = new Int32Array(16);
  let entry = 0;
  const target = {
    mem: domain.memory,
    cpu: { regs },
    loadImage: (image) => {
      domain.memory.loadImage(image);
      entry = image.entry >>> 0;
    }
  };
  const spec2 = { kernel };
  if (initrd !== void 0) spec2.initrd = initrd;
  if (cmdline !== void 0) spec2.cmdline = cmdline;
  const layout2 = bootNative(target, spec2);
  vcpu.arch = resetCpuState();
  vcpu.arch.pc = entry;
  vcpu.arch.regs = Array.from(regs);
  domain.symbols = kernel.symbols;
  return layout2;
}
function isBootableKernel(image) {
  return image.arch === 1 /* Native */;
}

// hypervisor/trap/guest-mmu.ts
var WALK_FAULT = -1;
var WALK_BAD_GPA = -2;
var PTE_P2 = 1 /* P */;
var PTE_W2 = 2 /* W */;
var PTE_U2 = 4 /* U */;
var PTE_A2 = 32 /* A */;
var PTE_D2 = 64 /* D */;
var PG2 = CR0_PG;
var WP2 = CR0_WP;
var ERR_P = 1 /* Present */;
var ERR_W = 2 /* Write */;
var ERR_U = 4 /* User */;
var ERR_F = 16 /* Fetch */;
var GuestWalker = class {
  constructor(mem, guest, v) {
    this.mem = mem;
    this.v = v;
    this.m32 = mem.i32;
    this.codePage = mem.codePage;
    this.p2m = guest.p2m;
    this.frames = guest.frames;
  }
  mem;
  v;
  gpa = 0;
  perm = 0;
  dirty = false;
  faultError = 0;
  faultAddr = 0;
  badGpa = 0;
  /** guest page-table entries read (for charging the walk) */
  refs = 0;
  m32;
  p2m;
  frames;
  codePage;
  /** Machine address of guest-physical gpa, or -1. */
  machineAddress(gpa) {
    const gfn = gpa >>> 12;
    if (gfn >= this.frames) return -1;
    const mfn = this.p2m[gfn];
    return mfn < 0 ? -1 : mfn * 4096 + (gpa & 4095);
  }
  /**
   * Translate va for an access of kind `acc` at user (virtual CPL 3) or supervisor privilege.
   * commit: set A (and D on a write) in the guest's entries as the hardware's walk does.
   * Returns the machine address, WALK_FAULT or WALK_BAD_GPA.
   */
  walk(va, acc, user, commit) {
    const v = this.v;
    const m32 = this.m32;
    const write = acc === ACC_WRITE;
    let gpa;
    let perm = PTE_W2 | PTE_U2;
    let dirty = true;
    this.refs = 0;
    if ((v.cr0 & PG2) === 0) {
      gpa = va >>> 0;
    } else {
      const pdeGpa = ((v.cr3 & PAGE_MASK) >>> 0) + (va >>> 22) * 4;
      const pdeMa = this.machineAddress(pdeGpa);
      if (pdeMa < 0) return this.bad(pdeGpa);
      const pde = m32[pdeMa >>> 2];
      this.refs = 1;
      if ((pde & PTE_P2) === 0) return this.fault(va, acc, user, false);
      const pteGpa = ((pde & PAGE_MASK) >>> 0) + (va >>> 12 & 1023) * 4;
      const pteMa = this.machineAddress(pteGpa);
      if (pteMa < 0) return this.bad(pteGpa);
      const pte = m32[pteMa >>> 2];
      this.refs = 2;
      if ((pte & PTE_P2) === 0) return this.fault(va, acc, user, false);
      perm = pde & pte & (PTE_P2 | PTE_W2 | PTE_U2);
      if (user && (perm & PTE_U2) === 0) return this.fault(va, acc, user, true);
      if (write && (perm & PTE_W2) === 0 && (user || (v.cr0 & WP2) !== 0)) return this.fault(va, acc, user, true);
      const npte = pte | PTE_A2 | (write ? PTE_D2 : 0);
      if (commit) {
        if ((pde & PTE_A2) === 0) {
          if (this.codePage[pdeMa >>> 12] !== 0) this.mem.noteWrite(pdeMa, 4);
          m32[pdeMa >>> 2] = pde | PTE_A2;
          this.mem.markDirty(pdeMa >>> 12);
        }
        if (npte !== pte) {
          if (this.codePage[pteMa >>> 12] !== 0) this.mem.noteWrite(pteMa, 4);
          m32[pteMa >>> 2] = npte;
          this.mem.markDirty(pteMa >>> 12);
        }
      }
      dirty = ((commit ? npte : pte) & PTE_D2) !== 0;
      gpa = ((pte & PAGE_MASK) >>> 0) + (va & 4095);
    }
    const ma = this.machineAddress(gpa);
    if (ma < 0) return this.bad(gpa);
    this.gpa = gpa;
    this.perm = perm;
    this.dirty = dirty;
    return ma;
  }
  fault(va, acc, user, present) {
    this.faultError = (present ? ERR_P : 0) | (acc === ACC_WRITE ? ERR_W : 0) | (user ? ERR_U : 0) | (acc === ACC_FETCH ? ERR_F : 0);
    this.faultAddr = va >>> 0;
    return WALK_FAULT;
  }
  bad(gpa) {
    this.badGpa = gpa >>> 0;
    return WALK_BAD_GPA;
  }
};

// hypervisor/trap/state.ts
var HYPERVISOR_IDT_BASE = 4290772992;
function virtualCpl(realCpl, midRing) {
  return realCpl === 1 ? 0 : realCpl === 3 ? 3 : realCpl === 2 ? midRing : 0;
}
function realRing(ring) {
  return ring === 0 ? 1 : ring === 3 ? 3 : 2;
}
var TrapVcpuState = class {
  /**
   * Virtual IF, meaningful while the guest is in (virtual) kernel mode. In ring 3 the guest is
   * taken to run with interrupts enabled: the kernel's IRET to ring 3 is not seen (it runs
   * natively at real ring 1), so the IF in its frame cannot be honoured - and the real IF is 1.
   */
  vIF = false;
  /** virtual IOPL */
  vIOPL = 0;
  /** which guest ring real ring 2 stands for (1 or 2) */
  midRing = 2;
  /** virtual control registers: CR0 (PG, WP), CR2, CR3 (guest-physical), CR4 (TSD) */
  cr0 = 0;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  /** virtual IDTR (guest-virtual base, entry count) */
  idtBase = 0;
  idtLimit = 0;
  /** virtual kernel stack pointers (LKSP) of rings 0..2 */
  ksp = new Int32Array(3);
};

// hypervisor/trap/shadow.ts
var SHADOW_HIDDEN = 0;
var SHADOW_TRUE = 1;
var SHADOW_BAD_GPA = 2;
var SHADOW_W = 1;
var SHADOW_U = 2;
function shadowRights(perm, dirty, acc, user) {
  if (acc === ACC_WRITE && !user && (perm & PTE_W3) === 0) return SHADOW_W;
  return ((perm & PTE_W3) !== 0 && dirty ? SHADOW_W : 0) | ((perm & PTE_U3) !== 0 ? SHADOW_U : 0);
}
var PTE_P3 = 1 /* P */;
var PTE_W3 = 2 /* W */;
var PTE_U3 = 4 /* U */;
var PTE_A3 = 32 /* A */;
var PTE_D3 = 64 /* D */;
var ERR_W2 = 2 /* Write */;
var ERR_U2 = 4 /* User */;
var ERR_F2 = 16 /* Fetch */;
var PAGE_MASK4 = -4096;
var RESERVED_TABLES = 4;
var ShadowMmu = class {
  constructor(hv, cpu, walker, stats) {
    this.hv = hv;
    this.cpu = cpu;
    this.walker = walker;
    this.stats = stats;
    this.m32 = hv.mem.i32;
    this.rootFrame = hv.allocHypervisorFrame();
    this.root = this.rootFrame * 4096;
    try {
      for (let k = 0; k < RESERVED_TABLES; k++) this.pool.push(hv.allocHypervisorFrame());
    } catch (e) {
      this.destroy();
      throw e;
    }
  }
  hv;
  cpu;
  walker;
  stats;
  /** machine address of the shadow page directory: the real CR3 while this vCPU runs */
  root;
  rootFrame;
  /** per directory slot: machine frame of its shadow page table, or -1 */
  tables = new Int32Array(1024).fill(-1);
  /** directory slots in use, in the order they were filled */
  usedSlots = new Int32Array(1024);
  usedCount = 0;
  /** zeroed shadow page-table frames kept for reuse */
  pool = [];
  m32;
  /**
   * A #PF exit at va with the real error code: a hidden fault (the shadow lacked what the guest's
   * tables give: fill it), a true fault (the guest's own tables say no: the walker holds the
   * guest-visible error code), or a guest table/mapping that points outside the domain's memory.
   */
  fault(va, realError) {
    const user = (realError & ERR_U2) !== 0;
    const acc = (realError & ERR_F2) !== 0 ? ACC_FETCH : (realError & ERR_W2) !== 0 ? ACC_WRITE : ACC_READ;
    const w = this.walker;
    const ma = w.walk(va, acc, user, true);
    if (ma === WALK_BAD_GPA) return SHADOW_BAD_GPA;
    if (ma === WALK_FAULT) {
      this.stats.trueFaults++;
      return SHADOW_TRUE;
    }
    const rights = shadowRights(w.perm, w.dirty, acc, user);
    this.fill(va, ma, (rights & SHADOW_W) !== 0, (rights & SHADOW_U) !== 0);
    this.stats.hiddenFaults++;
    this.stats.shadowFills++;
    return SHADOW_HIDDEN;
  }
  /** The guest's INVLPG: drop the shadow entry for va (and the real TLB's). */
  invlpg(va) {
    const t = this.tables[va >>> 22];
    if (t >= 0) this.m32[t * 1024 + (va >>> 12 & 1023)] = 0;
    this.cpu.mmu.invlpg(va);
    this.stats.shadowInvlpgs++;
  }
  /** The guest loaded CR3: one shadow for every address space, so it starts afresh. */
  loadCr3() {
    this.flush();
  }
  /** The guest wrote CR3 or CR0: drop every shadow entry (and the real TLB). */
  flush() {
    this.dropAll();
    this.stats.shadowFlushes++;
  }
  /** Every shadow table back to the pool, zeroed; the directory empty; the real TLB flushed. */
  dropAll() {
    const m32 = this.m32;
    const rootWord = this.root >>> 2;
    for (let k = 0; k < this.usedCount; k++) {
      const slot = this.usedSlots[k];
      const t = this.tables[slot];
      m32.fill(0, t * 1024, t * 1024 + 1024);
      this.pool.push(t);
      this.tables[slot] = -1;
      m32[rootWord + slot] = 0;
    }
    this.usedCount = 0;
    this.cpu.mmu.flushTlb();
  }
  /** Shadow page tables in use now. */
  get tablesInUse() {
    return this.usedCount;
  }
  /** Machine frames this shadow holds: its directory, the tables in use and the zeroed spares. */
  get framesHeld() {
    return 1 + this.usedCount + this.pool.length;
  }
  /** The shadow PTE for va (0 if none), for tests and `info`. */
  entry(va) {
    const t = this.tables[va >>> 22];
    return t < 0 ? 0 : this.m32[t * 1024 + (va >>> 12 & 1023)];
  }
  /** Give every frame back to the hypervisor. */
  destroy() {
    for (let k = 0; k < this.usedCount; k++) this.hv.releaseHypervisorFrame(this.tables[this.usedSlots[k]]);
    for (const f of this.pool) this.hv.releaseHypervisorFrame(f);
    this.hv.releaseHypervisorFrame(this.rootFrame);
    this.usedCount = 0;
    this.pool.length = 0;
    this.tables.fill(-1);
  }
  fill(va, ma, writable, user) {
    const m32 = this.m32;
    const slot = va >>> 22;
    let t = this.tables[slot];
    if (t < 0) {
      if (this.pool.length === 0) {
        if (this.hv.frames.freeFrames > 0) this.pool.push(this.hv.allocHypervisorFrame());
        else {
          this.dropAll();
          this.stats.shadowRecycles++;
        }
      }
      t = this.pool.pop();
      this.tables[slot] = t;
      this.usedSlots[this.usedCount++] = slot;
      m32[(this.root >>> 2) + slot] = t * 4096 + (PTE_P3 | PTE_W3 | PTE_U3 | PTE_A3);
      this.stats.shadowTables++;
    }
    const idx = t * 1024 + (va >>> 12 & 1023);
    m32[idx] = ma & PAGE_MASK4 | PTE_P3 | PTE_A3 | (writable ? PTE_W3 | PTE_D3 : 0) | (user ? PTE_U3 : 0);
  }
};

// hypervisor/trap/traced-shadow.ts
var PTE_P4 = 1 /* P */;
var PTE_W4 = 2 /* W */;
var PTE_U4 = 4 /* U */;
var PTE_A4 = 32 /* A */;
var PTE_D4 = 64 /* D */;
var ERR_P2 = 1 /* Present */;
var ERR_W3 = 2 /* Write */;
var ERR_U3 = 4 /* User */;
var ERR_F3 = 16 /* Fetch */;
var PAGE_MASK5 = -4096;
var STORE_DIRECT = 0;
var STORE_RESOLVED = 1;
var STORE_TRACED = 2;
var STORE_FAULTS = 3;
var TRACED_SPACES = 8;
var UNTRACED = 0;
var TRACED = 1;
var VOLATILE = 2;
var NO_PAGING = -1;
var NO_SPACE = -2;
var WRITERS_COMPACT = 64;
var Space = class {
  /** guest CR3 (directory gpa) it shadows, or NO_PAGING */
  key = 0;
  /** machine frame of the guest directory (-1: paging off) */
  dirFrame = -1;
  /** the shadow directory's machine frame */
  rootFrame = 0;
  /** per directory slot: machine frame of its shadow page table, or -1 */
  tables = new Int32Array(1024).fill(-1);
  /** per directory slot: machine frame of the guest page table it was filled from (-1: none) */
  sources = new Int32Array(1024).fill(-1);
  /** per directory slot: derived from a VOLATILE frame */
  volatile = new Uint8Array(1024);
  usedSlots = [];
  lastLoad = 0;
};
var TracedShadowMmu = class {
  constructor(hv, cpu, walker, v, stats) {
    this.hv = hv;
    this.cpu = cpu;
    this.walker = walker;
    this.v = v;
    this.stats = stats;
    this.m32 = hv.mem.i32;
    this.state = new Uint8Array(hv.mem.size >>> 12);
    this.marks = hv.mem.tracedTables ??= new Uint8Array(hv.mem.frames);
    hv.mem.tableTracers.push(this);
    this.current = new Space();
    this.current.rootFrame = hv.allocHypervisorFrame();
    this.current.key = NO_PAGING;
    this.spaces.push(this.current);
    try {
      for (let k = 0; k < RESERVED_TABLES; k++) this.pool.push(hv.allocHypervisorFrame());
    } catch (e) {
      this.destroy();
      throw e;
    }
  }
  hv;
  cpu;
  walker;
  v;
  stats;
  m32;
  spaces = [];
  current;
  /** per machine frame: UNTRACED, TRACED or VOLATILE */
  state;
  tracedFrames = [];
  /** frames VOLATILE until the next CR3 load */
  volatileFrames = [];
  /** per machine frame: the m32 indices of shadow entries that were filled writable to it */
  writers = /* @__PURE__ */ new Map();
  /** zeroed shadow frames kept for reuse */
  pool = [];
  loads = 0;
  /**
   * the machine's per-frame marks of traced tables (PhysicalMemory.tracedTables): a frame is
   * counted there while it is TRACED here, so a host write into it (a device's DMA) reaches hostWrite
   */
  marks;
  get root() {
    return this.current.rootFrame * 4096;
  }
  get tablesInUse() {
    let n = 0;
    for (const s of this.spaces) n += s.usedSlots.length;
    return n;
  }
  get framesHeld() {
    return this.spaces.length + this.tablesInUse + this.pool.length;
  }
  /** Address spaces whose shadows are kept now. */
  get spacesKept() {
    return this.spaces.length;
  }
  /** Guest frames traced now (for tests and `info`). */
  get framesTraced() {
    return this.tracedFrames.length;
  }
  entry(va) {
    const t = this.current.tables[va >>> 22];
    return t < 0 ? 0 : this.m32[t * 1024 + (va >>> 12 & 1023)];
  }
  fault(va, realError) {
    const user = (realError & ERR_U3) !== 0;
    const acc = (realError & ERR_F3) !== 0 ? ACC_FETCH : (realError & ERR_W3) !== 0 ? ACC_WRITE : ACC_READ;
    const w = this.walker;
    const ma = w.walk(va, acc, user, true);
    if (ma === WALK_BAD_GPA) return SHADOW_BAD_GPA;
    if (ma === WALK_FAULT) {
      this.stats.trueFaults++;
      return SHADOW_TRUE;
    }
    const target = ma >>> 12;
    if (acc === ACC_WRITE && (realError & ERR_P2) !== 0 && this.state[target] === TRACED) {
      this.stats.traceFaults++;
      this.unsync(target);
    }
    const rights = shadowRights(w.perm, w.dirty, acc, user);
    this.fill(va, ma, (rights & SHADOW_W) !== 0, (rights & SHADOW_U) !== 0);
    this.stats.hiddenFaults++;
    this.stats.shadowFills++;
    return SHADOW_HIDDEN;
  }
  /**
   * bt's store callout (`--bt-adaptive`): the guest is about to write va (at `user`'s privilege).
   * If the shadow would let the write through, nothing to do (STORE_DIRECT). Else do what fault()
   * does for the #PF the write would take - the guest walk, the trace fault's unsync when va is in
   * a traced table, the fill - without the fault (STORE_RESOLVED, or STORE_TRACED for a write to a
   * traced table: counted by the caller, not as a trace fault). A write the guest's own tables
   * forbid is left to fault as it would (STORE_FAULTS): the store then takes the ordinary path.
   */
  emulateStore(va, user) {
    const e = this.entry(va);
    if ((e & PTE_P4) !== 0 && (e & PTE_W4) !== 0 && (!user || (e & PTE_U4) !== 0)) return STORE_DIRECT;
    const w = this.walker;
    const ma = w.walk(va, ACC_WRITE, user, true);
    if (ma < 0) return STORE_FAULTS;
    const target = ma >>> 12;
    let r = STORE_RESOLVED;
    if (this.state[target] === TRACED) {
      this.unsync(target);
      r = STORE_TRACED;
    }
    const rights = shadowRights(w.perm, w.dirty, ACC_WRITE, user);
    this.fill(va, ma, (rights & SHADOW_W) !== 0, (rights & SHADOW_U) !== 0);
    this.stats.shadowFills++;
    return r;
  }
  /**
   * A host write into machine frame f, one PhysicalMemory marks as a traced table (a device's DMA:
   * the disk reading a block into a page table, the NIC writing a descriptor there). The CPU's
   * stores to a traced table fault; a device's do not, so the device path reports them here and
   * the table goes out of sync as at a trace fault: what was derived from it goes at the guest's
   * next INVLPG or CR3 load, when natively the TLB would be refilled from the new entries. Nothing
   * is charged (no trap: the device model's cost covers its DMA).
   */
  hostWrite(f) {
    if (this.state[f] !== TRACED) return;
    this.stats.traceDmaWrites++;
    this.unsync(f);
  }
  invlpg(va) {
    const s = this.current;
    const t = s.tables[va >>> 22];
    if (t >= 0) this.m32[t * 1024 + (va >>> 12 & 1023)] = 0;
    this.cpu.mmu.invlpg(va);
    this.stats.shadowInvlpgs++;
  }
  /** The guest wrote CR0: every space's shadow goes, and every frame is untraced. */
  flush() {
    for (const s of this.spaces) {
      this.dropSpace(s);
      s.key = NO_SPACE;
    }
    this.untraceAll();
    for (const f of this.volatileFrames) this.state[f] = UNTRACED;
    this.volatileFrames.length = 0;
    this.writers.clear();
    this.current.key = this.keyNow();
    this.current.dirFrame = this.dirFrameOf();
    this.cpu.mmu.flushTlb();
    this.stats.shadowFlushes++;
  }
  /**
   * The guest loaded CR3: switch to the space's shadow, kept from its last use (or a new one),
   * after dropping what was derived from volatile frames. The caller points the real CR3 at
   * `root`; the real TLB is flushed as the load flushes it.
   */
  loadCr3() {
    for (const s2 of this.spaces) this.dropVolatile(s2);
    for (const f of this.volatileFrames) this.state[f] = UNTRACED;
    this.volatileFrames.length = 0;
    const key = this.keyNow();
    let s = this.spaces.find((x) => x.key === key);
    if (s !== void 0 && s.dirFrame !== this.dirFrameOf()) {
      this.dropSpace(s);
      s.dirFrame = this.dirFrameOf();
    }
    if (s === void 0) {
      this.stats.shadowSpaceMisses++;
      s = this.newSpace(key);
    } else {
      this.stats.shadowSpaceHits++;
    }
    s.lastLoad = ++this.loads;
    this.current = s;
    this.cpu.mmu.flushTlb();
  }
  destroy() {
    this.untraceAll();
    const tracers = this.hv.mem.tableTracers;
    const i2 = tracers.indexOf(this);
    if (i2 >= 0) tracers.splice(i2, 1);
    for (const s of this.spaces) {
      for (const slot of s.usedSlots) this.hv.releaseHypervisorFrame(s.tables[slot]);
      s.usedSlots.length = 0;
      s.tables.fill(-1);
      this.hv.releaseHypervisorFrame(s.rootFrame);
    }
    this.spaces.length = 0;
    for (const f of this.pool) this.hv.releaseHypervisorFrame(f);
    this.pool.length = 0;
  }
  // ------------------------------------------------------------------------------ internals
  keyNow() {
    return (this.v.cr0 & CR0_PG) === 0 ? NO_PAGING : (this.v.cr3 & PAGE_MASK5) >>> 0;
  }
  /** Machine frame of the guest's current directory, or -1 (paging off, or outside its memory). */
  dirFrameOf() {
    if ((this.v.cr0 & CR0_PG) === 0) return -1;
    const ma = this.walker.machineAddress((this.v.cr3 & PAGE_MASK5) >>> 0);
    return ma < 0 ? -1 : ma >>> 12;
  }
  /** Machine frame of the guest page table mapping va now, or -1. */
  tableFrameOf(va) {
    const dir = this.dirFrameOf();
    if (dir < 0) return -1;
    const pde = this.m32[dir * 1024 + (va >>> 22)];
    if ((pde & PTE_P4) === 0) return -1;
    const ma = this.walker.machineAddress((pde & PAGE_MASK5) >>> 0);
    return ma < 0 ? -1 : ma >>> 12;
  }
  newSpace(key) {
    let s = this.spaces.find((x) => x.key === NO_SPACE);
    if (s !== void 0) {
    } else if (this.spaces.length < TRACED_SPACES && (this.pool.length > 0 || this.hv.frames.freeFrames > 0)) {
      s = new Space();
      s.rootFrame = this.pool.length > 0 ? this.pool.pop() : this.hv.allocHypervisorFrame();
      this.spaces.push(s);
    } else {
      s = this.spaces[0];
      for (const x of this.spaces) if (x.lastLoad < s.lastLoad) s = x;
      this.dropSpace(s);
    }
    s.key = key;
    s.dirFrame = this.dirFrameOf();
    return s;
  }
  /** Every traced frame untraced (its mark in the machine's memory dropped). */
  untraceAll() {
    for (const f of this.tracedFrames) {
      this.state[f] = UNTRACED;
      this.marks[f]--;
    }
    this.tracedFrames.length = 0;
  }
  /** Trace guest frame f (a directory or page table something is derived from now). */
  trace(f) {
    if (this.state[f] !== UNTRACED) return;
    this.state[f] = TRACED;
    this.marks[f]++;
    this.tracedFrames.push(f);
    const list = this.writers.get(f);
    if (list === void 0) return;
    const m32 = this.m32;
    let changed = false;
    for (const idx of list) {
      const e = m32[idx];
      if ((e & PTE_P4) !== 0 && (e & PTE_W4) !== 0 && e >>> 12 === f) {
        m32[idx] = e & ~(PTE_W4 | PTE_D4);
        changed = true;
      }
    }
    this.writers.delete(f);
    if (changed) this.cpu.mmu.flushTlb();
  }
  /**
   * The guest writes traced frame f: it goes out of sync. What was derived from it stays as a
   * TLB's entries would (until the guest's INVLPG, or the next CR3 load, which drops them in
   * every space); until then it is not traced, so the guest writes it freely.
   */
  unsync(f) {
    for (const s of this.spaces) {
      for (const slot of s.usedSlots) if (s.sources[slot] === f) s.volatile[slot] = 1;
    }
    this.state[f] = VOLATILE;
    this.marks[f]--;
    this.volatileFrames.push(f);
    const i2 = this.tracedFrames.indexOf(f);
    if (i2 >= 0) this.tracedFrames.splice(i2, 1);
  }
  /** Drop a space's slots derived from volatile frames (all of it if its directory is one). */
  dropVolatile(s) {
    if (s.dirFrame >= 0 && this.state[s.dirFrame] === VOLATILE) {
      this.dropSpace(s);
      return;
    }
    for (let k = s.usedSlots.length - 1; k >= 0; k--) if (s.volatile[s.usedSlots[k]] !== 0) this.dropSlot(s, k);
  }
  /** Slot usedSlots[k] of s back to the pool. */
  dropSlot(s, k) {
    const slot = s.usedSlots[k];
    const t = s.tables[slot];
    this.m32.fill(0, t * 1024, t * 1024 + 1024);
    this.pool.push(t);
    s.tables[slot] = -1;
    s.sources[slot] = -1;
    s.volatile[slot] = 0;
    this.m32[s.rootFrame * 1024 + slot] = 0;
    s.usedSlots[k] = s.usedSlots[s.usedSlots.length - 1];
    s.usedSlots.pop();
  }
  dropSpace(s) {
    for (let k = s.usedSlots.length - 1; k >= 0; k--) this.dropSlot(s, k);
  }
  fill(va, ma, writable, user) {
    const m32 = this.m32;
    const s = this.current;
    const slot = va >>> 22;
    const dir = this.dirFrameOf();
    const src = this.tableFrameOf(va);
    s.dirFrame = dir;
    let t = s.tables[slot];
    if (t >= 0 && s.sources[slot] !== src) {
      s.sources[slot] = src;
      s.volatile[slot] = 1;
    }
    if (t < 0) {
      if (this.pool.length === 0) {
        if (this.hv.frames.freeFrames > 0) this.pool.push(this.hv.allocHypervisorFrame());
        else {
          for (const x of this.spaces) if (x !== s) this.dropSpace(x);
          if (this.pool.length === 0) this.dropSpace(s);
          this.stats.shadowRecycles++;
        }
      }
      t = this.pool.pop();
      s.tables[slot] = t;
      s.sources[slot] = src;
      s.usedSlots.push(slot);
      m32[s.rootFrame * 1024 + slot] = t * 4096 + (PTE_P4 | PTE_W4 | PTE_U4 | PTE_A4);
      this.stats.shadowTables++;
    }
    if (dir >= 0 && this.state[dir] === VOLATILE || src >= 0 && this.state[src] === VOLATILE) s.volatile[slot] = 1;
    if (dir >= 0) this.trace(dir);
    if (src >= 0) this.trace(src);
    const target = ma >>> 12;
    if (this.state[target] === TRACED) writable = false;
    const idx = t * 1024 + (va >>> 12 & 1023);
    m32[idx] = ma & PAGE_MASK5 | PTE_P4 | PTE_A4 | (writable ? PTE_W4 | PTE_D4 : 0) | (user ? PTE_U4 : 0);
    if (writable) {
      let list = this.writers.get(target);
      if (list === void 0) this.writers.set(target, list = []);
      else if (list.length >= WRITERS_COMPACT) {
        const live = list.filter((i2) => (m32[i2] & (PTE_P4 | PTE_W4)) === (PTE_P4 | PTE_W4) && m32[i2] >>> 12 === target);
        list.length = 0;
        list.push(...live);
      }
      list.push(idx);
    }
  }
};

// hypervisor/trap/virtual-cpu.ts
var KIND_FAULT = 0 /* Fault */;
var KIND_TRAP = 1 /* Trap */;
var KIND_SOFTWARE = 2 /* Software */;
var KIND_EXTERNAL = 3 /* External */;
var SP2 = REG_SP;
var F_IF2 = 512 /* IF */;
var IOPL_SHIFT2 = 12 /* IOPL_SHIFT */;
var COND = FLAGS_COND;
var V_DF2 = 8 /* DoubleFault */;
var V_GP2 = 13 /* GeneralProtection */;
var V_PF2 = 14 /* PageFault */;
var G_PRESENT = 1 /* PRESENT */;
var G_DPL_SHIFT = 1 /* DPL_SHIFT */;
var G_RING_SHIFT = 3 /* RING_SHIFT */;
var G_TRAP = 32 /* TRAP */;
var FRAME_BYTES = 24 /* BYTES */;
var PAGE_MASK6 = -4096;
function trapVcpu(vcpu) {
  const t = vcpu.modeState;
  if (!(t instanceof TrapVcpu)) throw new Error(`vCPU ${vcpu.id} of domain '${vcpu.domain.name}' is not a trap-mode vCPU`);
  return t;
}
var DELIVERED2 = 0;
var DELIVERY_FAULT2 = 1;
var DELIVERY_BAD_GPA = 2;
var TrapVcpu = class {
  constructor(hv, vcpu, shadowKind = "flush") {
    this.hv = hv;
    this.vcpu = vcpu;
    this.domain = vcpu.domain;
    this.cpu = hv.cpu;
    this.m32 = hv.mem.i32;
    this.m8 = hv.mem.u8;
    this.codePage = hv.mem.codePage;
    this.walker = new GuestWalker(hv.mem, this.domain.memory, this.v);
    this.shadow = shadowKind === "traced" ? new TracedShadowMmu(hv, hv.cpu, this.walker, this.v, this.domain.stats) : new ShadowMmu(hv, hv.cpu, this.walker, this.domain.stats);
  }
  hv;
  vcpu;
  v = new TrapVcpuState();
  walker;
  shadow;
  domain;
  cpu;
  m32;
  m8;
  codePage;
  /** the current interrupt-window poll interval (TrapMode backs it off while nothing changes) */
  pollInterval = 0;
  /** when the armed interrupt-window poll fires (a cycle; meaningful while an interrupt waits for the virtual IF) */
  pollAt = Infinity;
  /** its last run ended at a stop the host's slicing alone made (Hypervisor.slicedByHost): the next run goes on as if it had not stopped */
  hostSliced = false;
  /**
   * The virtual IF holds in ring 3 too (bt: every entry into ring 3 is an emulated IRET or a
   * delivery the monitor makes, so it knows the IF the guest's user code runs with). Trap mode
   * leaves it false: its kernel's IRET to ring 3 runs unseen, so ring 3 is taken to run with
   * interrupts on (TrapVcpuState.vIF).
   */
  exactUserFlags = false;
  /** the last guest access failed: 0, or WALK_FAULT / WALK_BAD_GPA (details in the walker) */
  accessFail = 0;
  /** a fault raised while delivering an event (the hardware's "pending" fault) */
  pendVector = 0;
  pendError = 0;
  pendAddr = 0;
  /** The guest's current privilege level (derived from the real one). */
  get vcpl() {
    return virtualCpl(this.cpu.cpl, this.v.midRing);
  }
  /** Interrupts virtually enabled: the virtual IF; in ring 3 always, unless exactUserFlags (see TrapVcpuState.vIF). */
  get interruptsEnabled() {
    return this.v.vIF || this.cpu.cpl === 3 && !this.exactUserFlags;
  }
  /** The FLAGS value the guest would see at this point (condition bits real, IF and IOPL virtual). */
  virtualFlags() {
    return this.cpu.flags & COND | (this.interruptsEnabled ? F_IF2 : 0) | this.v.vIOPL << IOPL_SHIFT2;
  }
  // ============================================================== guest-virtual memory, as the monitor reaches it
  /** Word at guest-virtual va (any alignment) with the hardware's checks; 0 and accessFail set on failure. */
  read32(va, user) {
    this.accessFail = 0;
    if ((va & 4095) <= 4092) {
      const ma = this.walker.walk(va, ACC_READ, user, true);
      if (ma < 0) {
        this.accessFail = ma;
        return 0;
      }
      if ((ma & 3) === 0) return this.m32[ma >>> 2];
      const m = this.m8;
      return m[ma] | m[ma + 1] << 8 | m[ma + 2] << 16 | m[ma + 3] << 24;
    }
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const ma = this.walker.walk(va + k | 0, ACC_READ, user, true);
      if (ma < 0) {
        this.accessFail = ma;
        return 0;
      }
      v |= this.m8[ma] << 8 * k;
    }
    return v;
  }
  /** Word fetch for decoding (supervisor or user as the guest was); -1 and accessFail on failure. */
  fetch32(va, user) {
    return this.read32(va, user);
  }
  /**
   * Word at guest-virtual va (any alignment) as the CPU reads it: through the shadow - the
   * guest's virtual TLB, which the real CPU walks - with the CPU's rights (user or supervisor),
   * so an entry the guest changed without INVLPG still gives what the CPU used (docs/hypervisor.md,
   * "What the emulator reads"). A byte the shadow does not give is walked in the guest's tables
   * as the hidden fault the CPU would take walks them (A/D set; a failure is the guest's #PF or a
   * table outside its memory), without filling the shadow. The shadow walk is the real tables'
   * look-only walk: no cycles, no TLB fill. 0 and accessFail set on failure.
   */
  readAsCpu(va, user) {
    this.accessFail = 0;
    const mmu = this.cpu.mmu;
    if ((va & 4095) <= 4092) {
      const ma = mmu.translate(va, false, user);
      if (ma < 0) return this.read32(va, user);
      if ((ma & 3) === 0) return this.m32[ma >>> 2];
      const m = this.m8;
      return m[ma] | m[ma + 1] << 8 | m[ma + 2] << 16 | m[ma + 3] << 24;
    }
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const b = va + k | 0;
      let ma = mmu.translate(b, false, user);
      if (ma < 0) {
        ma = this.walker.walk(b, ACC_READ, user, true);
        if (ma < 0) {
          this.accessFail = ma;
          return 0;
        }
      }
      v |= this.m8[ma] << 8 * k;
    }
    return v;
  }
  // ============================================================== reflection
  /**
   * Deliver an event through the guest's IDT at the virtual CPL, as docs/isa.md "Traps and
   * interrupts" says the hardware does: a fault while delivering an exception becomes #DF, a fault
   * while delivering #DF shuts the domain down (triple fault); a fault while delivering INT n or
   * an interrupt is delivered in its place. `addr` is the #PF address for the virtual CR2 (-1:
   * none). Returns false if the domain died (triple fault, or a guest table outside its memory).
   */
  reflect(vector, error, savedPc, kind, insnPc, addr) {
    let inDoubleFault = vector === V_DF2 && (kind === KIND_FAULT || kind === KIND_TRAP);
    const boundary = kind !== KIND_EXTERNAL;
    for (; ; ) {
      if (vector === V_PF2 && addr >= 0) this.v.cr2 = addr >>> 0;
      const res = this.deliver(vector, error, savedPc, kind);
      if (res === DELIVERED2) {
        this.domain.stats.reflected[vector]++;
        if (boundary) this.cpu.instructionBoundary();
        return true;
      }
      if (res === DELIVERY_BAD_GPA) {
        this.crashBadGpa();
        return false;
      }
      if (inDoubleFault) {
        this.domain.shutdown("triple-fault", 0, `triple fault at pc ${hex(insnPc)}`);
        return false;
      }
      if (kind === KIND_FAULT || kind === KIND_TRAP) {
        vector = V_DF2;
        error = 0;
        addr = -1;
        inDoubleFault = true;
      } else {
        vector = this.pendVector;
        error = this.pendError;
        addr = vector === V_PF2 ? this.pendAddr : -1;
      }
      kind = KIND_FAULT;
      savedPc = insnPc;
    }
  }
  /** The domain touched guest-physical memory it does not have: kill it (the hypervisor goes on). */
  crashBadGpa() {
    this.domain.shutdown(
      "crashed",
      0,
      `guest-physical address ${hex(this.walker.badGpa)} lies outside the domain's memory (${this.domain.quotaFrames} frames) at pc ${hex(this.cpu.pc)}`
    );
  }
  /** One delivery attempt; nothing changes unless it succeeds. */
  deliver(vector, error, savedPc, kind) {
    const v = this.v;
    const cpu = this.cpu;
    if (vector >= v.idtLimit) return this.gp(vector * 8 + 2);
    const gate = v.idtBase + vector * 8 | 0;
    const handler = this.read32(gate, false);
    if (this.accessFail !== 0) return this.accessFailure();
    const gflags = this.read32(gate + 4 | 0, false);
    if (this.accessFail !== 0) return this.accessFailure();
    if ((gflags & G_PRESENT) === 0) return this.gp(vector * 8 + 2);
    const dpl = gflags >>> G_DPL_SHIFT & 3;
    const ring = gflags >>> G_RING_SHIFT & 3;
    const vcpl = virtualCpl(cpu.cpl, v.midRing);
    if (kind === KIND_SOFTWARE && vcpl > dpl) return this.gp(vector * 8 + 2);
    if (ring > vcpl) return this.gp(vector * 8 + 2);
    const r = cpu.regs;
    const oldSp = r[SP2];
    const newSp = ring < vcpl ? v.ksp[ring] : oldSp;
    const base = newSp - FRAME_BYTES | 0;
    const frameUser = ring === 3;
    const w = this.walker;
    const ma0 = w.walk(base, ACC_WRITE, frameUser, true);
    if (ma0 < 0) return this.walkFailure(ma0);
    const last = base + FRAME_BYTES - 1 | 0;
    let ma1 = -1;
    if (((last ^ base) & PAGE_MASK6) !== 0) {
      ma1 = w.walk(last & PAGE_MASK6, ACC_WRITE, frameUser, true);
      if (ma1 < 0) return this.walkFailure(ma1);
    }
    const effIF = v.vIF || vcpl === 3 && !this.exactUserFlags;
    const flags = cpu.flags & COND | (effIF ? F_IF2 : 0) | v.vIOPL << IOPL_SHIFT2;
    this.storeFrameWord(base, 0 /* VECTOR */, vector, ma0, ma1);
    this.storeFrameWord(base, 4 /* ERROR */, error, ma0, ma1);
    this.storeFrameWord(base, 8 /* PC */, savedPc, ma0, ma1);
    this.storeFrameWord(base, 12 /* CS */, vcpl, ma0, ma1);
    this.storeFrameWord(base, 16 /* FLAGS */, flags, ma0, ma1);
    this.storeFrameWord(base, 20 /* SP */, oldSp, ma0, ma1);
    r[SP2] = base;
    cpu.cpl = realRing(ring);
    if (ring === 1 || ring === 2) v.midRing = ring;
    v.vIF = (gflags & G_TRAP) !== 0 ? effIF : false;
    cpu.pc = handler >>> 0;
    return DELIVERED2;
  }
  gp(error) {
    this.pendVector = V_GP2;
    this.pendError = error;
    this.pendAddr = 0;
    return DELIVERY_FAULT2;
  }
  accessFailure() {
    return this.walkFailure(this.accessFail);
  }
  walkFailure(code) {
    if (code === WALK_BAD_GPA) return DELIVERY_BAD_GPA;
    this.pendVector = V_PF2;
    this.pendError = this.walker.faultError;
    this.pendAddr = this.walker.faultAddr;
    return DELIVERY_FAULT2;
  }
  /**
   * Store one frame word at base + off, given the machine addresses of the frame's pages. (A host
   * write: a frame some engine caches code from is reported, as PhysicalMemory's writes do.)
   */
  storeFrameWord(base, off, value, ma0, ma1) {
    const pageOff = base & 4095;
    if (ma1 < 0 && (ma0 & 3) === 0) {
      const ma = ma0 + off;
      if (this.codePage[ma >>> 12] !== 0) this.hv.mem.noteWrite(ma, 4);
      this.m32[ma >>> 2] = value;
      return;
    }
    const va = base + off | 0;
    for (let k = 0; k < 4; k++) {
      const b = va + k | 0;
      const ma = ((b ^ base) & PAGE_MASK6) === 0 ? ma0 + (b & 4095) - pageOff : ma1 + (b & 4095);
      if (this.codePage[ma >>> 12] !== 0) this.hv.mem.noteWrite(ma, 1);
      this.m8[ma] = value >>> 8 * k;
    }
  }
};

// hypervisor/trap/emulate.ts
var EMU_CONTINUE = 0;
var EMU_IO = 1;
var EMU_HLT = 2;
var EMU_DEAD = 3;
var EMU_REFLECT_GP = 4;
var OP_HLT = 96 /* HLT */;
var OP_CLI = 97 /* CLI */;
var OP_STI = 98 /* STI */;
var OP_IN = 99 /* IN */;
var OP_INB = 100 /* INB */;
var OP_INR = 103 /* INR */;
var OP_OUT = 101 /* OUT */;
var OP_OUTB = 102 /* OUTB */;
var OP_OUTR = 104 /* OUTR */;
var OP_MOVTOCR = 105 /* MOVTOCR */;
var OP_MOVFROMCR = 106 /* MOVFROMCR */;
var OP_LIDT = 107 /* LIDT */;
var OP_INVLPG = 108 /* INVLPG */;
var OP_LKSP = 109 /* LKSP */;
var OP_IRET = 110 /* IRET */;
var OP_RDTSC = 82 /* RDTSC */;
var SP3 = REG_SP;
var F_IF3 = 512 /* IF */;
var F_IOPL2 = 12288 /* IOPL_MASK */;
var IOPL_SHIFT3 = 12 /* IOPL_SHIFT */;
var COND2 = FLAGS_COND;
var V_UD2 = 6 /* InvalidOpcode */;
var V_PF3 = 14 /* PageFault */;
var PAGE_MASK7 = -4096;
function emulatePrivileged(t, exit) {
  const cpu = t.cpu;
  const pc = cpu.pc | 0;
  const w = t.readAsCpu(pc, cpu.cpl === 3);
  if (t.accessFail !== 0) {
    if (t.accessFail === WALK_BAD_GPA) {
      t.crashBadGpa();
      return EMU_DEAD;
    }
    return EMU_REFLECT_GP;
  }
  const op = w & 255;
  const rd = w >>> 8 & 15;
  const ra = w >>> 12 & 15;
  const rb = w >>> 16 & 15;
  const imm = w >> 16;
  const v = t.v;
  const r = cpu.regs;
  const vcpl = t.vcpl;
  switch (op) {
    case OP_HLT:
      if (vcpl !== 0) return EMU_REFLECT_GP;
      retire(t, op, pc);
      if (!v.vIF) {
        t.domain.shutdown("halted", 0, `hlt with interrupts disabled at pc ${hex(cpu.pc)}`);
        return EMU_DEAD;
      }
      return EMU_HLT;
    case OP_CLI:
    case OP_STI:
      if (vcpl > v.vIOPL) return EMU_REFLECT_GP;
      v.vIF = op === OP_STI;
      retire(t, op, pc);
      return EMU_CONTINUE;
    case OP_IN:
    case OP_INB:
    case OP_INR:
      if (vcpl > v.vIOPL) return EMU_REFLECT_GP;
      exit.reason = "io";
      exit.port = op === OP_INR ? r[ra] & 65535 : imm & 65535;
      exit.size = op === OP_INB ? 1 : 4;
      exit.isWrite = false;
      exit.data = 0;
      exit.reg = rd;
      retireIo(t, op, pc);
      return EMU_IO;
    case OP_OUT:
    case OP_OUTB:
    case OP_OUTR: {
      if (vcpl > v.vIOPL) return EMU_REFLECT_GP;
      const size = op === OP_OUTB ? 1 : 4;
      const value = op === OP_OUTR ? r[rb] : r[ra];
      exit.reason = "io";
      exit.port = op === OP_OUTR ? r[ra] & 65535 : imm & 65535;
      exit.size = size;
      exit.isWrite = true;
      exit.data = size === 1 ? value & 255 : value >>> 0;
      exit.reg = op === OP_OUTR ? rb : ra;
      retireIo(t, op, pc);
      return EMU_IO;
    }
    case OP_MOVTOCR:
      if (vcpl !== 0) return EMU_REFLECT_GP;
      if (!isControlRegister(rd)) return reflectUd(t, pc);
      writeCr(t, rd, r[ra]);
      retire(t, op, pc);
      return EMU_CONTINUE;
    case OP_MOVFROMCR:
      if (vcpl !== 0) return EMU_REFLECT_GP;
      if (!isControlRegister(ra)) return reflectUd(t, pc);
      r[rd] = readCr(t, ra);
      retire(t, op, pc);
      return EMU_CONTINUE;
    case OP_LIDT:
      if (vcpl !== 0) return EMU_REFLECT_GP;
      v.idtBase = r[ra] >>> 0;
      v.idtLimit = imm & 65535;
      retire(t, op, pc);
      return EMU_CONTINUE;
    case OP_INVLPG:
      if (vcpl !== 0) return EMU_REFLECT_GP;
      t.shadow.invlpg(r[ra]);
      retire(t, op, pc);
      return EMU_CONTINUE;
    case OP_LKSP:
      if (vcpl !== 0 || imm < 0 || imm > 2) return EMU_REFLECT_GP;
      v.ksp[imm] = r[ra];
      retire(t, op, pc);
      return EMU_CONTINUE;
    case OP_IRET:
      return emulateIret(t, pc);
    case OP_RDTSC: {
      if ((v.cr4 & CR4_TSD) !== 0 && vcpl > 0) return EMU_REFLECT_GP;
      retire(t, op, pc);
      const tsc = cpu.cycles;
      r[rd] = tsc >>> 0;
      r[ra] = Math.floor(tsc / 4294967296) | 0;
      return EMU_CONTINUE;
    }
    default:
      return EMU_REFLECT_GP;
  }
}
var ENDS_BLOCK = (() => {
  const t = new Uint8Array(256);
  for (const op of [OP_STI, OP_OUT, OP_OUTB, OP_OUTR]) t[op] = 1;
  return t;
})();
function retire(t, op, pc) {
  const cpu = t.cpu;
  cpu.pc = pc + 4 >>> 0;
  cpu.chargeInstruction(cpu.costs[op]);
  cpu.instructions++;
  t.domain.stats.emulated[op]++;
  if (ENDS_BLOCK[op] !== 0) cpu.instructionBoundary();
}
function retireIo(t, op, pc) {
  const cpu = t.cpu;
  cpu.pc = pc + 4 >>> 0;
  cpu.chargeInstruction(cpu.profile.alu);
  cpu.instructions++;
  t.domain.stats.emulated[op]++;
  if (ENDS_BLOCK[op] !== 0) cpu.instructionBoundary();
}
function reflectUd(t, pc) {
  return t.reflect(V_UD2, 0, pc, KIND_FAULT, pc, -1) ? EMU_CONTINUE : EMU_DEAD;
}
function writeCr(t, n, value) {
  const v = t.v;
  switch (n) {
    case 0:
      v.cr0 = value & (CR0_PG | CR0_WP);
      t.shadow.flush();
      t.cpu.charge(Ev.CrFlush, 1);
      return;
    case 2:
      v.cr2 = value >>> 0;
      return;
    case 3:
      v.cr3 = (value & PAGE_MASK7) >>> 0;
      t.shadow.loadCr3();
      t.cpu.cr3 = t.shadow.root;
      t.cpu.charge(Ev.CrFlush, 1);
      return;
    case 4:
      v.cr4 = value & CR4_TSD;
      t.cpu.cr4 = v.cr4;
      return;
  }
}
function readCr(t, n) {
  const v = t.v;
  return n === 0 ? v.cr0 : n === 2 ? v.cr2 | 0 : n === 3 ? v.cr3 | 0 : v.cr4;
}
function emulateIret(t, pc) {
  const cpu = t.cpu;
  const r = cpu.regs;
  const v = t.v;
  const vcpl = t.vcpl;
  const user = cpu.cpl === 3;
  const sp = r[SP3];
  const npc = t.readAsCpu(sp, user);
  if (t.accessFail !== 0) return frameFault(t, pc);
  const ncs = t.readAsCpu(sp + 4 | 0, user);
  if (t.accessFail !== 0) return frameFault(t, pc);
  const nfl = t.readAsCpu(sp + 8 | 0, user);
  if (t.accessFail !== 0) return frameFault(t, pc);
  const nsp = t.readAsCpu(sp + 12 | 0, user);
  if (t.accessFail !== 0) return frameFault(t, pc);
  if (ncs >>> 0 > 3 || ncs < vcpl) return EMU_REFLECT_GP;
  if (vcpl <= v.vIOPL) v.vIF = (nfl & F_IF3) !== 0;
  if (vcpl === 0) v.vIOPL = (nfl & F_IOPL2) >>> IOPL_SHIFT3;
  cpu.flags = cpu.flags & ~COND2 | nfl & COND2;
  cpu.cpl = realRing(ncs);
  if (ncs === 1 || ncs === 2) v.midRing = ncs;
  r[SP3] = nsp;
  retire(t, OP_IRET, pc);
  cpu.pc = npc >>> 0;
  cpu.instructionBoundary();
  return EMU_CONTINUE;
}
function frameFault(t, pc) {
  if (t.accessFail === WALK_BAD_GPA) {
    t.crashBadGpa();
    return EMU_DEAD;
  }
  const w = t.walker;
  return t.reflect(V_PF3, w.faultError, pc, KIND_FAULT, pc, w.faultAddr) ? EMU_CONTINUE : EMU_DEAD;
}

// hypervisor/trap/mode.ts
var DEFAULT_INTERRUPT_WINDOW_POLL_CYCLES = 2e3;
var POLL_BACKOFF_LIMIT = 32;
var V_GP3 = 13 /* GeneralProtection */;
var V_PF4 = 14 /* PageFault */;
var F_IF4 = 512 /* IF */;
var COND3 = FLAGS_COND;
var EV_TRAP_DELIVERY2 = Ev.TrapDelivery;
var EV_INTERCEPT_RETURN2 = Ev.InterceptReturn;
var EV_MONITOR_TRAP = Ev.MonitorTrap;
var EV_MONITOR_WALK = Ev.MonitorWalk;
var EMULATED = 2;
var TrapMode = class {
  name = "trap";
  pollCycles;
  VcpuState;
  shadowKind;
  hv;
  cpu;
  constructor(opts = {}) {
    this.pollCycles = opts.interruptWindowPollCycles ?? DEFAULT_INTERRUPT_WINDOW_POLL_CYCLES;
    this.VcpuState = opts.vcpuState ?? TrapVcpu;
    this.shadowKind = opts.shadow ?? "flush";
  }
  attach(hv) {
    this.hv = hv;
    this.cpu = hv.cpu;
  }
  /**
   * A virtual CPU and a shadow MMU per vCPU (each vCPU's shadow is its TLB: the guest keeps them
   * coherent as it keeps TLBs, by its own flushes and shootdown IPIs). vCPUs other than 0 are
   * down until the guest starts them through its virtual local APIC (startVcpu). Traced shadows
   * follow page-table writes of the vCPU that owns them only: one vCPU per domain with them.
   */
  createDomain(domain) {
    const n = domain.vcpus.length;
    if (n > 1 && this.shadowKind === "traced") throw new DomainCreateError(`domain '${domain.name}': traced shadows follow one vCPU's page-table writes; a domain with ${n} vCPUs needs --shadow flush`);
    const shadowFrames = n * (1 + RESERVED_TABLES);
    if (this.hv.frames.freeFrames < shadowFrames) {
      throw new DomainCreateError(
        `domain '${domain.name}': no machine memory left for its shadow page tables (${shadowFrames} frames of 4 KiB)`
      );
    }
    for (const v of domain.vcpus) {
      if (v.id !== 0) {
        v.up = false;
        v.runState = "blocked";
      }
      const t = new this.VcpuState(this.hv, v, this.shadowKind);
      t.pollInterval = this.pollCycles;
      v.modeState = t;
    }
  }
  /**
   * Load the guest and turn the bare machine's entry state into the virtual CPU's: the guest
   * believes it is at ring 0 with paging off and interrupts off; really it is at ring 1 with
   * paging on (the shadow maps guest-physical memory), IF = 1 and IOPL = 0, and the real IDTR
   * is the hypervisor's.
   */
  build(domain, boot) {
    const vcpu = domain.vcpus[0];
    loadBoot(domain, vcpu, boot);
    this.enterBootState(vcpu);
  }
  /** A secondary vCPU's start-up: the bare machine's state (CPL 0, paging off, IF 0, pc, sp), made virtual. */
  startVcpu(vcpu, pc, sp) {
    vcpu.arch = startupCpuState(pc, sp);
    const t = trapVcpu(vcpu);
    t.v.midRing = 2;
    this.enterBootState(vcpu);
  }
  /** The vCPU's arch holds the bare machine's entry state: make it the virtual CPU's, and run it deprivileged. */
  enterBootState(vcpu) {
    const t = trapVcpu(vcpu);
    const a = vcpu.arch;
    const v = t.v;
    v.vIF = (a.flags & F_IF4) !== 0;
    v.vIOPL = a.flags >>> 12 & 3;
    v.cr0 = a.cr0;
    v.cr2 = a.cr2;
    v.cr3 = a.cr3;
    v.cr4 = a.cr4;
    v.idtBase = a.idtBase;
    v.idtLimit = a.idtLimit;
    v.ksp.set(a.ksp);
    if (t.shadow.tablesInUse > 0) t.shadow.flush();
    a.cpl = realRing(a.cpl);
    a.flags = a.flags & COND3 | F_IF4;
    a.cr0 = CR0_PG | CR0_WP;
    a.cr2 = 0;
    a.cr3 = t.shadow.root;
    a.cr4 = v.cr4 & CR4_TSD;
    a.idtBase = HYPERVISOR_IDT_BASE;
    a.idtLimit = 256;
    a.ksp = [0, 0, 0];
    a.halted = false;
  }
  /** Claim every vector; no real interrupt or hypercall reaches a trap-mode guest. */
  load(_vcpu) {
    const cpu = this.cpu;
    cpu.interceptVector.fill(1);
    cpu.interceptExternalInterrupts = true;
    cpu.hypercallExits = false;
  }
  unload(_vcpu) {
  }
  hasPendingEvent(vcpu) {
    const pic = vcpu.domain.devices?.interruptController(vcpu.id);
    if (!pic || pic.pendingVector() < 0) return false;
    const t = trapVcpu(vcpu);
    const cpl = vcpu.loaded ? this.cpu.cpl : vcpu.arch.cpl;
    return t.v.vIF || cpl === 3 && !t.exactUserFlags;
  }
  destroyDomain(domain) {
    for (const v of domain.vcpus) trapVcpu(v).shadow.destroy();
  }
  // ================================================================================ KVM_RUN
  runVcpu(vcpu, deadline) {
    const t = trapVcpu(vcpu);
    const cpu = this.cpu;
    const exit = vcpu.exit;
    const dom = vcpu.domain;
    const stats = dom.stats;
    const pic = dom.devices ? dom.devices.interruptController(vcpu.id) : null;
    vcpu.completeIo(cpu.regs);
    let entered = !t.hostSliced;
    t.hostSliced = false;
    for (; ; ) {
      if (dom.stopped) return stoppedExit(dom, exit);
      let runTo = deadline;
      if (entered) t.pollAt = Infinity;
      if (pic !== null && pic.pendingVector() >= 0) {
        if (entered && (cpu.cpl === 3 || t.v.vIF)) {
          t.pollInterval = this.pollCycles;
          this.inject(t, pic);
          continue;
        }
        if (this.pollCycles > 0) {
          if (entered) t.pollAt = cpu.cycles + t.pollInterval;
          runTo = Math.min(deadline, t.pollAt);
        }
      }
      if (cpu.cycles >= deadline) {
        t.hostSliced = !entered;
        return deadlineExit(exit);
      }
      const x = cpu.run(runTo);
      countExit(stats, x);
      entered = !(x === 258 /* Stopped */ && this.hv.beforeGuestDeadline() || x === 256 /* Deadline */ && cpu.cycles < t.pollAt && this.hv.slicedByHost());
      if (this.handleCpuExit(t, x, deadline, exit) === TO_LOOP) {
        if (x === 258 /* Stopped */) t.hostSliced = !entered;
        return exit;
      }
    }
  }
  /** One CPU exit of the guest, by reason (every vector is intercepted; nothing else is set to exit). */
  handleCpuExit(t, x, deadline, exit) {
    const cpu = this.cpu;
    const dom = t.domain;
    switch (x) {
      case 0 /* Exception */:
        return this.handleTrap(t, exit);
      case 256 /* Deadline */:
        if (cpu.cycles < deadline || cpu.cycles >= t.pollAt && this.hv.beforeGuestDeadline()) {
          dom.stats.interruptWindowPolls++;
          cpu.charge(EV_TRAP_DELIVERY2, 1);
          cpu.charge(EV_INTERCEPT_RETURN2, 1);
          this.hv.chargeMonitor(dom, EV_MONITOR_TRAP, 1);
          if (cpu.cpl !== 3 && !t.v.vIF && t.pollInterval < this.pollCycles * POLL_BACKOFF_LIMIT) t.pollInterval *= 2;
        }
        return CONTINUE;
      case 1 /* ExternalInterrupt */:
        return CONTINUE;
      case 258 /* Stopped */:
        hostStopExit(exit);
        return TO_LOOP;
      default:
        crashOnUnexpectedExit(dom, "trap", x, cpu.pc);
        return this.dead(dom, exit);
    }
  }
  /**
   * An intercepted trap. Every one costs the monitor path and the IRET back (the hardware entry
   * was charged by the CPU); shadow faults add the guest-table walk, emulated instructions their
   * own cost. Also the bt mode's handling of the traps its translated code and user code take.
   */
  handleTrap(t, exit) {
    const cpu = this.cpu;
    const dom = t.domain;
    const vector = cpu.exitVector;
    const kind = cpu.exitKind;
    const stats = dom.stats;
    stats.traps[vector]++;
    if (stats.trace !== null) stats.trace.record(1 /* Trap */, stats.traceDom, vector, 0);
    cpu.charge(EV_INTERCEPT_RETURN2, 1);
    this.hv.chargeMonitor(dom, EV_MONITOR_TRAP, 1);
    if (kind === KIND_SOFTWARE) {
      return t.reflect(vector, 0, cpu.pc, KIND_SOFTWARE, cpu.exitInsnPc, -1) ? CONTINUE : this.dead(dom, exit);
    }
    if (vector === V_PF4) {
      const va = cpu.cr2;
      const res = t.shadow.fault(va, cpu.exitError);
      cpu.charge(EV_MONITOR_WALK, t.walker.refs);
      if (res === SHADOW_HIDDEN) return CONTINUE;
      if (res === SHADOW_TRUE) {
        return t.reflect(V_PF4, t.walker.faultError, cpu.pc, KIND_FAULT, cpu.pc, va) ? CONTINUE : this.dead(dom, exit);
      }
      t.crashBadGpa();
      return this.dead(dom, exit);
    }
    if (vector === V_GP3 && cpu.exitError === 0) {
      const r = this.emulate(t, exit);
      return r === EMULATED ? CONTINUE : r;
    }
    return t.reflect(vector, cpu.exitError, cpu.pc, kind, cpu.exitInsnPc, -1) ? CONTINUE : this.dead(dom, exit);
  }
  /**
   * Emulate the privileged instruction at the real pc on the virtual CPU (trap: the #GP(0) it
   * raised; bt: its callout) and say what the loop does next: EMULATED (it retired, pc past it),
   * CONTINUE (a #GP was reflected because the virtual CPL may not run it, or a HLT wakes at once),
   * TO_LOOP (`exit` holds an I/O or HLT exit, or the domain stopped).
   */
  emulate(t, exit) {
    const pc = this.cpu.pc;
    switch (emulatePrivileged(t, exit)) {
      case EMU_CONTINUE:
        return EMULATED;
      case EMU_IO:
        return TO_LOOP;
      case EMU_HLT:
        if (this.hasPendingEvent(t.vcpu)) return CONTINUE;
        exit.reason = "hlt";
        return TO_LOOP;
      case EMU_DEAD:
        return this.dead(t.domain, exit);
      case EMU_REFLECT_GP:
        break;
    }
    return t.reflect(V_GP3, 0, pc, KIND_FAULT, pc, -1) ? CONTINUE : this.dead(t.domain, exit);
  }
  /** Acknowledge the virtual PIC's line and deliver it through the guest's IDT (a host interrupt). */
  inject(t, pic) {
    const v = pic.acknowledge();
    if (v < 0) return;
    const cpu = this.cpu;
    const stats = t.domain.stats;
    stats.injectedInterrupts++;
    if (stats.trace !== null) stats.trace.record(4 /* Interrupt */, stats.traceDom, v, 0);
    cpu.charge(EV_TRAP_DELIVERY2, 1);
    cpu.charge(EV_INTERCEPT_RETURN2, 1);
    this.hv.chargeMonitor(t.domain, EV_MONITOR_TRAP, 1);
    t.reflect(v, 0, cpu.pc, KIND_EXTERNAL, cpu.pc, -1);
  }
  dead(dom, exit) {
    stoppedExit(dom, exit);
    return TO_LOOP;
  }
};

// hypervisor/run.ts
var COSCHED_SLICE_QUANTA = 10;
var SMP_DEFAULT_QUANTUM_CYCLES = 1e5;
function collectRun(hv, domain, res) {
  let reason;
  let detail;
  if (domain.stopReason !== null) {
    reason = domain.stopReason === "destroyed" ? "stopped" : domain.stopReason;
    if (domain.stopDetail) detail = domain.stopDetail;
  } else if (res.reason === "deadlock") {
    reason = "halted";
    detail = `hlt at pc ${hex(hv.vcpuState(domain.vcpus[0]).pc)} with no event left that could wake the CPU`;
  } else {
    reason = res.reason === "limit" ? "limit" : "stopped";
  }
  const out = {
    reason,
    status: reason === "poweroff" ? domain.stopStatus : 0,
    cycles: res.cycles,
    instructions: res.instructions,
    idleCycles: res.idleCycles,
    output: domain.consoleOutput(),
    hypervisor: hv,
    domain
  };
  if (detail !== void 0) out.detail = detail;
  return out;
}
function bootSpecFor(image, opts = {}) {
  if (!isBootableKernel(image)) return { image };
  const spec2 = { kernel: image };
  if (opts.initrd !== void 0) spec2.initrd = opts.initrd;
  if (opts.cmdline !== void 0) spec2.cmdline = opts.cmdline;
  return spec2;
}
function smpHypervisorOptions(vcpus, smp = {}) {
  const quantum = smp.quantumCycles ?? SMP_DEFAULT_QUANTUM_CYCLES;
  const seed = smp.seed ?? 1;
  const out = {
    pcpus: smp.pcpus ?? vcpus,
    scheduler: new RoundRobinScheduler(quantum, seed),
    makeScheduler: (p) => new RoundRobinScheduler(quantum, seed + p * 2654435769 >>> 0)
  };
  if (smp.cosched === true) out.cosched = { sliceCycles: COSCHED_SLICE_QUANTA * quantum, quantumCycles: quantum, seed };
  return out;
}
function checkGuestMemory(memoryBytes, reserveBytes, modeName, why, vcpus = 1) {
  if (!Number.isInteger(memoryBytes) || memoryBytes <= 0 || memoryBytes % 4096 !== 0) {
    throw new DomainCreateError(`domain 'guest': memory must be a positive multiple of 4 KiB (got ${memoryBytes})`);
  }
  const reserve = reserveBytes(memoryBytes, vcpus);
  if (memoryBytes + reserve > MAX_MEMORY_BYTES) {
    throw new DomainCreateError(
      `domain 'guest': at most ${MAX_MEMORY_BYTES - reserve >> 20} MiB under ${modeName} mode (the machine has at most ${MAX_MEMORY_BYTES >> 20} MiB, and the hypervisor keeps ${Math.ceil(reserve / (1 << 20))} MiB of it for ${why})`
    );
  }
  return reserve;
}
function runSingleGuest(mode2, boot, opts, reserveBytes, why) {
  const spec2 = "segments" in boot ? bootSpecFor(boot, opts) : boot;
  const memoryBytes = opts.memoryBytes ?? 32 * 1024 * 1024;
  const vcpus = opts.vcpus ?? 1;
  const reserve = checkGuestMemory(memoryBytes, reserveBytes, mode2.name, why, vcpus);
  const hvOpts = { memoryBytes: memoryBytes + reserve };
  if (vcpus > 1) Object.assign(hvOpts, smpHypervisorOptions(vcpus, opts.smp));
  if (opts.profile !== void 0) hvOpts.profile = opts.profile;
  if (opts.engine !== void 0) hvOpts.engine = opts.engine;
  if (opts.hosted !== void 0) hvOpts.hosted = opts.hosted;
  const hv = new Hypervisor(hvOpts);
  const config = { name: "guest", memoryBytes };
  if (vcpus > 1) config.vcpus = vcpus;
  if (opts.input !== void 0) config.input = opts.input;
  if (opts.onOutput !== void 0) config.onOutput = opts.onOutput;
  if (opts.disk !== void 0) config.disk = opts.disk;
  if (opts.onTransmit !== void 0) config.onTransmit = opts.onTransmit;
  if (opts.mac !== void 0) config.mac = opts.mac;
  if (opts.ip !== void 0) config.ip = opts.ip;
  const domain = hv.createDomain(mode2, config, spec2);
  opts.onCpu?.(hv.cpu);
  return collectRun(hv, domain, hv.run({ maxCycles: opts.maxCycles ?? 2e9 }));
}

// hypervisor/trap/index.ts
var HYPERVISOR_RESERVE_BYTES = 5 * 1024 * 1024;
function runTrapMode(boot, opts = {}) {
  return runSingleGuest(new TrapMode(opts.trap), boot, opts, (_bytes, vcpus) => vcpus * HYPERVISOR_RESERVE_BYTES, "shadow page tables");
}

// hypervisor/pv/guest-virt.ts
var PTE_P5 = 1;
var PTE_W5 = 2;
var GuestVirt = class {
  constructor(mem) {
    this.mem = mem;
  }
  mem;
  fault = false;
  /** Machine address of va under the directory at machine address cr3, or -1. */
  translate(cr3, va, write) {
    const i32 = this.mem.i32;
    const size = this.mem.size;
    const pdeAddr = (cr3 & ~4095) + (va >>> 22) * 4;
    if (pdeAddr < 0 || pdeAddr >= size) return -1;
    const pde = i32[pdeAddr >>> 2];
    if ((pde & PTE_P5) === 0 || write && (pde & PTE_W5) === 0) return -1;
    const pteAddr = ((pde & ~4095) >>> 0) + (va >>> 12 & 1023) * 4;
    if (pteAddr >= size) return -1;
    const pte = i32[pteAddr >>> 2];
    if ((pte & PTE_P5) === 0 || write && (pte & PTE_W5) === 0) return -1;
    const ma = ((pte & ~4095) >>> 0) + (va & 4095);
    return ma < size ? ma : -1;
  }
  /** The word at va (unsigned 32-bit value as a signed int), or 0 with `fault` set. */
  read32(cr3, va) {
    if ((va & 3) === 0) {
      const ma = this.translate(cr3, va, false);
      if (ma < 0) {
        this.fault = true;
        return 0;
      }
      return this.mem.i32[ma >>> 2];
    }
    let v = 0;
    for (let k = 0; k < 4; k++) v |= this.read8(cr3, va + k | 0) << 8 * k;
    return v;
  }
  read8(cr3, va) {
    const ma = this.translate(cr3, va, false);
    if (ma < 0) {
      this.fault = true;
      return 0;
    }
    return this.mem.u8[ma];
  }
  read16(cr3, va) {
    return this.read8(cr3, va) | this.read8(cr3, va + 1 | 0) << 8;
  }
  /** Write a word at va; false (and `fault`) if any byte is not writable. */
  write32(cr3, va, value) {
    if ((va & 3) === 0) {
      const ma = this.translate(cr3, va, true);
      if (ma < 0) {
        this.fault = true;
        return false;
      }
      this.mem.write32(ma, value);
      return true;
    }
    for (let k = 0; k < 4; k++) if (this.translate(cr3, va + k | 0, true) < 0) {
      this.fault = true;
      return false;
    }
    for (let k = 0; k < 4; k++) this.mem.write8(this.translate(cr3, va + k | 0, true), value >>> 8 * k);
    return true;
  }
  write8(cr3, va, value) {
    const ma = this.translate(cr3, va, true);
    if (ma < 0) {
      this.fault = true;
      return false;
    }
    this.mem.write8(ma, value);
    return true;
  }
  /** Copy len bytes from va, or null (and `fault`) if any page is unmapped. */
  readBytes(cr3, va, len) {
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const at = va + done | 0;
      const n = Math.min(len - done, 4096 - (at & 4095));
      const ma = this.translate(cr3, at, false);
      if (ma < 0) {
        this.fault = true;
        return null;
      }
      out.set(this.mem.u8.subarray(ma, ma + n), done);
      done += n;
    }
    return out;
  }
  /** Copy data to va; nothing is written (and `fault`) unless every page is writable. */
  writeBytes(cr3, va, data) {
    for (let p = va & ~4095; ; p = p + 4096 | 0) {
      if (this.translate(cr3, Math.max(p >>> 0, va >>> 0) | 0, true) < 0) {
        this.fault = true;
        return false;
      }
      if ((p >>> 0) + 4096 >= (va >>> 0) + data.length) break;
    }
    let done = 0;
    while (done < data.length) {
      const at = va + done | 0;
      const n = Math.min(data.length - done, 4096 - (at & 4095));
      this.mem.writeBytes(this.translate(cr3, at, true), data.subarray(done, done + n));
      done += n;
    }
    return true;
  }
};

// hypervisor/pv/context.ts
var WORK_PER_STEP = 65536;
var HcCtx = class {
  constructor(host2, workPerStep = WORK_PER_STEP) {
    this.host = host2;
    this.workPerStep = workPerStep;
    this.gv = new GuestVirt(host2.mem);
  }
  host;
  workPerStep;
  d;
  pv;
  vcpu;
  gv;
  /** inside a multicall (a nested one is refused) */
  inMulticall = false;
  /** the handler stopped early and asked to be entered again with `contArgs` (continue()) */
  preempted = false;
  /** arguments a1..a5 of the continuation */
  contArgs = new Int32Array(5);
  /** PageTypes.work when the guest entered */
  workAtEntry = 0;
  /** Point the context at the vCPU making the call (which is on the real CPU). */
  enter(d, pv) {
    this.d = d;
    this.pv = pv;
    this.vcpu = pv.vcpu;
    this.gv.fault = false;
    this.preempted = false;
    this.workAtEntry = this.host.types.work;
  }
  /** Page-table entries checked since the guest entered. */
  get work() {
    return this.host.types.work - this.workAtEntry;
  }
  /** PageTypes.work at which this entry's share of host work is done (a bound for PageTypes' own loops). */
  get workLimit() {
    return this.workAtEntry + this.workPerStep;
  }
  /** Has this entry done its share of host work (Xen's hypercall_preempt_check)? */
  preemptCheck() {
    return this.work >= this.workPerStep;
  }
  /**
   * End this step: the guest will execute HYPERCALL again with the same number and these
   * arguments, which record the progress (Xen's hypercall_create_continuation). Everything the
   * step did stays done; the next step re-reads and re-validates whatever is left.
   */
  continue(a1, a2, a3, a4, a5) {
    const c = this.contArgs;
    c[0] = a1;
    c[1] = a2;
    c[2] = a3;
    c[3] = a4;
    c[4] = a5;
    this.preempted = true;
  }
  /** machine address of the caller's page directory */
  get cr3() {
    return this.host.cpu.cr3;
  }
  /** Read a word of guest memory; `gv.fault` tells whether it failed. */
  r32(va) {
    return this.gv.read32(this.host.cpu.cr3, va);
  }
  w32(va, value) {
    return this.gv.write32(this.host.cpu.cr3, va, value);
  }
  /** Take the faulted state and clear it. */
  faulted() {
    const f = this.gv.fault;
    this.gv.fault = false;
    return f;
  }
  /** Kill the calling domain (it broke a rule no error code can answer); other domains go on. */
  crash(detail) {
    this.d.domain.shutdown("crashed", 0, detail);
  }
  /** Charge `n` events of ledger kind `ev` (machine/ledger.ts) of hypervisor work to the caller. */
  charge(ev, n) {
    this.host.charge(this.d, ev, n);
  }
  /** Charge `cycles` of hypervisor work to the caller, by the cycle (a handler with its own cost model). */
  chargeCycles(cycles) {
    this.host.charge(this.d, Ev.HvCycles, cycles);
  }
};

// hypervisor/pv/page-types.ts
var PAGE_TYPE_NAMES = ["none", "L1", "L2", "writable"];
var PREEMPTED = 1;
var PARTIAL_NAMES = ["", "validating", "releasing", "failing"];
var PTE_P6 = 1;
var PTE_W6 = 2;
var ENTRIES = 1024;
var HV_PDE = 1023 /* PDE */;
var PageTypes = class {
  constructor(mem, owner, hooks) {
    this.mem = mem;
    this.owner = owner;
    this.hooks = hooks;
    const n = owner.length;
    this.type = new Uint8Array(n);
    this.typeCount = new Int32Array(n);
    this.refCount = new Int32Array(n);
    this.pinned = new Uint8Array(n);
    this.partial = new Uint8Array(n);
    this.progress = new Uint16Array(n);
    this.failErr = new Int8Array(n);
  }
  mem;
  owner;
  hooks;
  type;
  typeCount;
  refCount;
  pinned;
  /** a writable type was dropped since the last TLB flush: a stale writable translation may exist */
  staleWritable = false;
  /** tables validated (a statistic) */
  validations = 0;
  /** tables released: their entries' references given back when the last type reference went (a statistic) */
  releases = 0;
  /** table types taken at type count 0 (a validation began): a stale writable translation must go */
  typings = 0;
  /** per frame: a validation or release in progress (Partial), and how far it got */
  partial;
  progress;
  /** per frame in Partial.FAILING: the HcErr its validation ends with */
  failErr;
  /**
   * Page-table entries checked by validation or released, since creation: the unit a hypercall
   * step's host work is bounded in (HcCtx.preemptCheck; docs/hypercalls.md "Long hypercalls").
   */
  work = 0;
  get frames() {
    return this.owner.length;
  }
  /** Entry k of the table in frame f. */
  entry(f, k) {
    return this.mem.i32[(f << 10) + k];
  }
  /**
   * Take a type reference of `t` on frame f for domain dom. Table types validate the frame when
   * its count goes from 0 to 1. Returns 0 or an HcErr; on error nothing changed. The callers have
   * checked that f is a frame of the machine and, for WRITABLE, that dom may map it; a table must
   * be dom's own, which is checked here.
   *
   * A directory's validation stops once PageTypes.work reaches `workLimit` (after at least one
   * entry) and returns PREEMPTED, its progress kept in the frame (Partial.VALIDATING); the next
   * getType of the same frame as L2 goes on from there, and the one that finishes it gets the
   * type reference the unfinished validation held. Without a limit it runs to the end.
   */
  getType(f, t, dom, workLimit = Infinity) {
    const table = t === 1 /* L1 */ || t === 2 /* L2 */;
    if (table && this.owner[f] !== dom) return -1 /* EPERM */;
    if (this.typeCount[f] > 0) {
      if (this.type[f] !== t) return -16 /* EBUSY */;
      if (this.partial[f] !== 0 /* NONE */) return this.resume(f, dom, workLimit);
      this.typeCount[f]++;
      return 0;
    }
    if (table) {
      this.typings++;
      this.type[f] = t;
      this.typeCount[f] = 1;
      const r = t === 1 /* L1 */ ? this.validateL1(f, dom) : this.validateL2(f, dom, workLimit);
      return this.validated(f, r);
    }
    this.type[f] = t;
    this.typeCount[f] = 1;
    return 0;
  }
  /** The end of a table validation (result r): the type stays on success, goes on failure. */
  validated(f, r) {
    if (r < 0) {
      this.type[f] = 0 /* NONE */;
      this.typeCount[f] = 0;
      return r;
    }
    if (r === PREEMPTED) return r;
    this.validations++;
    return 0;
  }
  /** getType(L2) of a frame whose own validation or release is unfinished. */
  resume(f, dom, workLimit) {
    const p = this.partial[f];
    if (p === 1 /* VALIDATING */) return this.validated(f, this.validateL2(f, dom, workLimit));
    if (p === 3 /* FAILING */) return this.validated(f, this.unwindL2(f, dom, workLimit));
    return -16 /* EBUSY */;
  }
  /**
   * Drop a type reference; the last one of a table releases its entries' references. A
   * directory's release stops at `workLimit` as its validation does (Partial.RELEASING, the
   * directory keeping its type and one type reference meanwhile) and returns PREEMPTED: the
   * caller finishes it with resumeRelease. Otherwise 0.
   */
  putType(f, dom, workLimit = Infinity) {
    const c = this.typeCount[f] - 1;
    if (c < 0 || this.partial[f] !== 0 /* NONE */) {
      throw new Error(`PageTypes.putType: frame 0x${f.toString(16)} has no type reference of its own (count ${c + 1}, partial ${this.partial[f]})`);
    }
    if (c > 0) {
      this.typeCount[f] = c;
      return 0;
    }
    const t = this.type[f];
    if (t === 2 /* L2 */) return this.releaseL2(f, dom, workLimit);
    this.typeCount[f] = 0;
    if (t === 1 /* L1 */) this.releaseL1(f, dom);
    else if (t === 3 /* WRITABLE */) this.staleWritable = true;
    this.type[f] = 0 /* NONE */;
    return 0;
  }
  /** Go on with a directory's unfinished release (nothing if it has none): 0 when done, or PREEMPTED. */
  resumeRelease(f, dom, workLimit = Infinity) {
    if (this.partial[f] !== 2 /* RELEASING */) return 0;
    return this.releaseL2(f, dom, workLimit);
  }
  /**
   * Undo a directory's unfinished validation or finish its unfinished release, whatever the work
   * (the domain is being destroyed): the frame ends with no type.
   */
  abortPartial(f, dom) {
    const p = this.partial[f];
    if (p === 0 /* NONE */) return;
    if (p === 2 /* RELEASING */) {
      this.releaseL2(f, dom, Infinity);
      return;
    }
    this.partial[f] = 3 /* FAILING */;
    this.unwindL2(f, dom, Infinity);
    this.type[f] = 0 /* NONE */;
    this.typeCount[f] = 0;
  }
  /**
   * References for one L1 entry: 0 or an HcErr. A present entry must name a frame the domain may
   * map; a writable one takes a WRITABLE type, which a page-table frame refuses. A frame of
   * another domain is always refused here, grant mappings included: the hypervisor writes those
   * itself (grants.ts), and they never outlive the table's type (releaseL1), so an entry naming a
   * foreign frame in a table being validated is bytes the guest wrote, never a grant.
   */
  getL1Entry(e, dom) {
    if ((e & PTE_P6) === 0) return 0;
    const f = e >>> 12;
    if (f >= this.frames) return -22 /* EINVAL */;
    if (this.owner[f] !== dom && !this.hooks.mayMap(dom, f)) return -1 /* EPERM */;
    if ((e & PTE_W6) !== 0) {
      const r = this.getType(f, 3 /* WRITABLE */, dom);
      if (r < 0) return r;
    }
    this.refCount[f]++;
    return 0;
  }
  /** Drop what getL1Entry took (an entry naming a frame the domain may not map took nothing). */
  putL1Entry(e, dom) {
    if ((e & PTE_P6) === 0) return;
    const f = e >>> 12;
    if (f >= this.frames || !this.hooks.mayMap(dom, f)) return;
    if ((e & PTE_W6) !== 0) this.putType(f, dom);
    this.refCount[f]--;
  }
  /** References for one L2 entry (slot k): the named frame becomes (or is) an L1 table. */
  getL2Entry(e, k, dom) {
    if (k === HV_PDE || (e & PTE_P6) === 0) return 0;
    const f = e >>> 12;
    if (f >= this.frames) return -22 /* EINVAL */;
    const r = this.getType(f, 1 /* L1 */, dom);
    if (r < 0) return r;
    this.refCount[f]++;
    return 0;
  }
  putL2Entry(e, k, dom) {
    if (k === HV_PDE || (e & PTE_P6) === 0) return;
    const f = e >>> 12;
    if (f >= this.frames) return;
    this.refCount[f]--;
    this.putType(f, dom);
  }
  validateL1(f, dom) {
    this.work += ENTRIES;
    for (let k = 0; k < ENTRIES; k++) {
      const r = this.getL1Entry(this.entry(f, k), dom);
      if (r < 0) {
        for (let j = 0; j < k; j++) this.putL1Entry(this.entry(f, j), dom);
        return r;
      }
    }
    return 0;
  }
  /**
   * Validate a directory from entry progress[f] on (0 for a new one), stopping after an entry
   * once the work reaches workLimit (Xen's preemptible alloc_l2_table). On a bad entry every
   * entry before it gives its references back (unwindL2, split in the same way).
   */
  validateL2(f, dom, workLimit) {
    for (let k = this.progress[f]; k < ENTRIES; k++) {
      this.work++;
      const r = this.getL2Entry(this.entry(f, k), k, dom);
      if (r < 0) {
        this.partial[f] = 3 /* FAILING */;
        this.progress[f] = k;
        this.failErr[f] = r;
        return this.unwindL2(f, dom, workLimit);
      }
      if (this.work >= workLimit && k + 1 < ENTRIES) {
        this.partial[f] = 1 /* VALIDATING */;
        this.progress[f] = k + 1;
        return PREEMPTED;
      }
    }
    this.partial[f] = 0 /* NONE */;
    this.progress[f] = 0;
    this.mem.write32((f << 12) + HV_PDE * 4, this.hooks.hypervisorPde(dom));
    return 0;
  }
  /**
   * The table lost its last type reference: its entries give their references back, and its
   * grant mappings are unmapped (Xen's put_page_from_l1e, in builds that tag grant entries with
   * _PAGE_GNTTAB, crashes a domain that implicitly unmaps a grant this way; unmapping keeps the
   * domain and leaves nothing in the frame that could later be revalidated).
   */
  releaseL1(f, dom) {
    const base = f << 12;
    const i32 = this.mem.i32;
    const owner = this.owner;
    const refCount = this.refCount;
    const row = f << 10;
    this.work += ENTRIES;
    this.releases++;
    for (let k = 0; k < ENTRIES; k++) {
      const e = i32[row + k];
      if ((e & PTE_P6) === 0) continue;
      const g = e >>> 12;
      if (owner[g] !== dom && !this.hooks.mayMap(dom, g)) {
        this.hooks.dropGrantMapping(dom, base + k * 4);
        continue;
      }
      if ((e & PTE_W6) !== 0) this.putType(g, dom);
      refCount[g]--;
    }
  }
  /**
   * A failed validation gives back what entries [0, progress[f]) took, last first, stopping as
   * validateL2 does: the validation's error when done, or PREEMPTED.
   */
  unwindL2(f, dom, workLimit) {
    for (let k = this.progress[f]; k > 0; ) {
      k--;
      this.work++;
      this.putL2Entry(this.entry(f, k), k, dom);
      if (this.work >= workLimit && k > 0) {
        this.progress[f] = k;
        return PREEMPTED;
      }
    }
    this.partial[f] = 0 /* NONE */;
    this.progress[f] = 0;
    return this.failErr[f];
  }
  /** Release a directory's entries from progress[f] on, stopping as validateL2 does; the last entry drops the type. */
  releaseL2(f, dom, workLimit) {
    for (let k = this.progress[f]; k < ENTRIES; k++) {
      this.work++;
      this.putL2Entry(this.entry(f, k), k, dom);
      if (this.work >= workLimit && k + 1 < ENTRIES) {
        this.partial[f] = 2 /* RELEASING */;
        this.progress[f] = k + 1;
        return PREEMPTED;
      }
    }
    this.partial[f] = 0 /* NONE */;
    this.progress[f] = 0;
    this.typeCount[f] = 0;
    this.type[f] = 0 /* NONE */;
    this.releases++;
    return 0;
  }
  /** Whole tables scanned, validated or released: what a hypercall is charged per table (Ev.PvTableScan). */
  get scans() {
    return this.validations + this.releases;
  }
  /** Is f currently a page table or directory (of any domain)? */
  isTable(f) {
    const t = this.type[f];
    return this.typeCount[f] > 0 && (t === 1 /* L1 */ || t === 2 /* L2 */);
  }
  /** Forget everything about frame f (it left its owner with no references left). */
  clear(f) {
    this.type[f] = 0 /* NONE */;
    this.typeCount[f] = 0;
    this.refCount[f] = 0;
    this.pinned[f] = 0;
    this.partial[f] = 0 /* NONE */;
    this.progress[f] = 0;
  }
  /** A frame's state, for tests and `info`. */
  describe(f) {
    const p = this.partial[f];
    const name = PAGE_TYPE_NAMES[this.typeCount[f] > 0 ? this.type[f] : 0];
    return {
      owner: this.owner[f],
      type: p === 0 /* NONE */ ? name : `${name} (${PARTIAL_NAMES[p]} ${this.progress[f]}/${ENTRIES})`,
      typeCount: this.typeCount[f],
      refCount: this.refCount[f],
      pinned: this.pinned[f] !== 0
    };
  }
};

// hypervisor/pv/mmu.ts
var PTE_P7 = 1;
var HV_PDE2 = 1023 /* PDE */;
var HV_BASE = 4290772992 /* BASE */;
var MAX_UPDATES = 1024 /* MAX_BATCH */;
var MAX_EXT = 256 /* MAX_BATCH */;
var CONTINUED = 1073741824 /* CONTINUED */;
function batchStart(ctx, count, doneOut, max, out) {
  let prior = 0;
  if ((count & CONTINUED) !== 0) {
    count &= ~CONTINUED;
    if (doneOut !== 0) {
      prior = ctx.r32(doneOut);
      if (ctx.faulted()) return -14 /* EFAULT */;
    }
  }
  if (count < 0) return -22 /* EINVAL */;
  if (count > max) return -7 /* E2BIG */;
  out[0] = count;
  out[1] = prior;
  return 0;
}
var batch = new Int32Array(2);
function flushIfStale(ctx, typingsBefore) {
  const types = ctx.host.types;
  if (types.staleWritable && types.typings !== typingsBefore) {
    ctx.host.cpu.mmu.flushTlb();
    types.staleWritable = false;
  }
}
function writeTableEntry(ctx, addr, val) {
  const host2 = ctx.host;
  const types = host2.types;
  const dom = ctx.d.id;
  const f = addr >>> 12;
  if (f >= types.frames) return -22 /* EINVAL */;
  if (types.owner[f] !== dom) return -1 /* EPERM */;
  if (!types.isTable(f)) return -22 /* EINVAL */;
  if (types.partial[f] !== 0) return -16 /* EBUSY */;
  const old = host2.mem.i32[addr >>> 2];
  if (types.type[f] === 1 /* L1 */) {
    if ((old & PTE_P7) !== 0 && ctx.d.grants.pteToHandle.has(addr)) return -1 /* EPERM */;
    const r = types.getL1Entry(val, dom);
    if (r < 0) return r;
    types.putL1Entry(old, dom);
  } else {
    const k = (addr & 4095) >>> 2;
    if (k === HV_PDE2) return -1 /* EPERM */;
    const r = types.getL2Entry(val, k, dom);
    if (r < 0) return r;
    types.putL2Entry(old, k, dom);
  }
  host2.mem.write32(addr, val);
  return 0;
}
function mmuUpdateOne(ctx, ptr, val) {
  const cmd = ptr & 3 /* MASK */;
  const addr = (ptr & ~3) >>> 0;
  if (cmd === 0 /* NORMAL_PT_UPDATE */) return writeTableEntry(ctx, addr, val);
  if (cmd === 1 /* MACHPHYS_UPDATE */) {
    if ((addr & 4095) !== 0) return -22 /* EINVAL */;
    const mfn = addr >>> 12;
    if (mfn >= ctx.host.types.frames) return -22 /* EINVAL */;
    if (ctx.host.types.owner[mfn] !== ctx.d.id) return -1 /* EPERM */;
    if (val < 0 || val >= ctx.d.domain.p2m.length) return -22 /* EINVAL */;
    ctx.host.setM2p(mfn, val);
    return 0;
  }
  return -22 /* EINVAL */;
}
function mmuUpdate(ctx, reqs, count, doneOut) {
  const e = batchStart(ctx, count, doneOut, MAX_UPDATES, batch);
  if (e < 0) return e;
  count = batch[0];
  const prior = batch[1];
  const v0 = ctx.host.types.scans;
  const t0 = ctx.host.types.typings;
  let done = 0;
  let r = 0;
  while (done < count) {
    if (done > 0 && ctx.preemptCheck()) {
      ctx.continue(reqs + done * 8 /* BYTES */ | 0, count - done | CONTINUED, doneOut, 0, 0);
      break;
    }
    const at = reqs + done * 8 /* BYTES */ | 0;
    const ptr = ctx.r32(at + 0 /* PTR */);
    const val = ctx.r32(at + 4 /* VAL */);
    if (ctx.faulted()) {
      r = -14 /* EFAULT */;
      break;
    }
    r = mmuUpdateOne(ctx, ptr, val);
    if (r < 0) break;
    done++;
  }
  ctx.d.stats.mmuRequests += done;
  ctx.charge(Ev.PvRequest, done + 1);
  ctx.charge(Ev.PvTableScan, ctx.host.types.scans - v0);
  flushIfStale(ctx, t0);
  if (doneOut !== 0 && !ctx.w32(doneOut, prior + done) && r === 0) r = -14 /* EFAULT */;
  ctx.faulted();
  return r;
}
function mmuextOne(ctx, cmd, arg) {
  const host2 = ctx.host;
  const types = host2.types;
  const cpu = host2.cpu;
  const dom = ctx.d.id;
  switch (cmd) {
    case 0 /* PIN_L1_TABLE */:
    case 1 /* PIN_L2_TABLE */: {
      const f = arg;
      if (f < 0 || f >= types.frames) return -22 /* EINVAL */;
      if (types.owner[f] !== dom) return -1 /* EPERM */;
      if (types.pinned[f] !== 0) return -17 /* EEXIST */;
      const r = types.getType(f, cmd === 0 /* PIN_L1_TABLE */ ? 1 /* L1 */ : 2 /* L2 */, dom, ctx.workLimit);
      if (r !== 0) return r;
      types.pinned[f] = 1;
      ctx.d.stats.pins++;
      return 0;
    }
    case 2 /* UNPIN_TABLE */: {
      const f = arg;
      if (f < 0 || f >= types.frames) return -22 /* EINVAL */;
      if (types.owner[f] !== dom) return -1 /* EPERM */;
      if (types.pinned[f] === 0) return -22 /* EINVAL */;
      types.pinned[f] = 0;
      if (types.putType(f, dom, ctx.workLimit) === PREEMPTED) ctx.pv.pendingRelease = f;
      return 0;
    }
    case 3 /* NEW_BASEPTR */: {
      const f = arg;
      if (f < 0 || f >= types.frames) return -22 /* EINVAL */;
      if (types.owner[f] !== dom) return -1 /* EPERM */;
      if (types.pinned[f] === 0 || types.type[f] !== 2 /* L2 */) return -22 /* EINVAL */;
      const r = types.getType(f, 2 /* L2 */, dom);
      if (r < 0) return r;
      const old = ctx.pv.baseptr;
      ctx.pv.baseptr = f;
      cpu.writeCr(3, f * 4096);
      ctx.charge(Ev.CrFlush, 1);
      if (old >= 0 && types.putType(old, dom, ctx.workLimit) === PREEMPTED) ctx.pv.pendingRelease = old;
      return 0;
    }
    case 4 /* TLB_FLUSH_LOCAL */:
      cpu.mmu.flushTlb();
      ctx.charge(Ev.CrFlush, 1);
      return 0;
    case 5 /* INVLPG_LOCAL */:
      cpu.mmu.invlpg(arg);
      ctx.charge(Ev.Invlpg, 1);
      return 0;
    case 6 /* TLB_FLUSH_MULTI */:
    case 7 /* INVLPG_MULTI */:
      return flushMulti(ctx, cmd === 7 /* INVLPG_MULTI */, arg);
    default:
      return -22 /* EINVAL */;
  }
}
function flushMulti(ctx, onePage, targets) {
  const mask = ctx.r32(targets + 0 /* VCPU_MASK */);
  const va = onePage ? ctx.r32(targets + 4 /* VA */) : 0;
  if (ctx.faulted()) return -14 /* EFAULT */;
  const vcpus = ctx.d.vcpus;
  if (mask === 0 || vcpus.length < 32 && mask >>> vcpus.length !== 0) return -22 /* EINVAL */;
  const me = ctx.vcpu.id;
  const cpu = ctx.host.cpu;
  for (let k = 0; k < vcpus.length; k++) {
    if ((mask & 1 << k) === 0) continue;
    if (k !== me) {
      vcpus[k].remoteFlushes++;
      continue;
    }
    vcpus[k].localFlushes++;
    if (onePage) {
      cpu.mmu.invlpg(va);
      ctx.charge(Ev.Invlpg, 1);
    } else {
      cpu.mmu.flushTlb();
      ctx.charge(Ev.CrFlush, 1);
    }
  }
  return 0;
}
function mmuextOp(ctx, ops, count, doneOut) {
  const types = ctx.host.types;
  const v0 = types.scans;
  const pending = ctx.pv.pendingRelease;
  if (pending >= 0) {
    if (types.resumeRelease(pending, ctx.d.id, ctx.workLimit) === PREEMPTED) {
      ctx.continue(ops, count, doneOut, 0, 0);
      ctx.charge(Ev.PvRequest, 1);
      ctx.charge(Ev.PvTableScan, types.scans - v0);
      return 0;
    }
    ctx.pv.pendingRelease = -1;
  }
  const e = batchStart(ctx, count, doneOut, MAX_EXT, batch);
  if (e < 0) {
    ctx.charge(Ev.PvTableScan, types.scans - v0);
    return e;
  }
  count = batch[0];
  const prior = batch[1];
  const t0 = types.typings;
  let done = 0;
  let r = 0;
  while (done < count) {
    if (done > 0 && ctx.preemptCheck()) {
      ctx.continue(ops + done * 8 /* BYTES */ | 0, count - done | CONTINUED, doneOut, 0, 0);
      break;
    }
    const at = ops + done * 8 /* BYTES */ | 0;
    const cmd = ctx.r32(at + 0 /* CMD */);
    const arg = ctx.r32(at + 4 /* ARG */);
    if (ctx.faulted()) {
      r = -14 /* EFAULT */;
      break;
    }
    r = mmuextOne(ctx, cmd, arg);
    if (r === PREEMPTED) {
      ctx.continue(at, count - done | CONTINUED, doneOut, 0, 0);
      r = 0;
      break;
    }
    if (r < 0) break;
    done++;
  }
  if (!ctx.preempted && ctx.pv.pendingRelease >= 0) {
    ctx.continue(ops + done * 8 /* BYTES */ | 0, CONTINUED, doneOut, 0, 0);
  }
  ctx.charge(Ev.PvRequest, done + 1);
  ctx.charge(Ev.PvTableScan, ctx.host.types.scans - v0);
  flushIfStale(ctx, t0);
  if (doneOut !== 0 && !ctx.w32(doneOut, prior + done) && r === 0) r = -14 /* EFAULT */;
  ctx.faulted();
  return r;
}
function l1EntryFor(ctx, va) {
  if (va >>> 0 >= HV_BASE >>> 0) return -1 /* EPERM */;
  const base = ctx.pv.baseptr;
  if (base < 0) return -22 /* EINVAL */;
  const pde = ctx.host.mem.i32[(base << 10) + (va >>> 22)];
  if ((pde & PTE_P7) === 0) return -22 /* EINVAL */;
  return ((pde & ~4095) >>> 0) + (va >>> 12 & 1023) * 4;
}
function updateVaMapping(ctx, va, val, flags) {
  if ((va & 4095) !== 0) return -22 /* EINVAL */;
  if (flags !== 0 /* NONE */ && flags !== 2 /* INVLPG */ && flags !== 1 /* TLB_FLUSH */) return -22 /* EINVAL */;
  const addr = l1EntryFor(ctx, va);
  if (addr < 0) return addr;
  const t0 = ctx.host.types.typings;
  const r = writeTableEntry(ctx, addr, val);
  ctx.d.stats.mmuRequests++;
  ctx.charge(Ev.PvRequest, 1);
  if (r < 0) return r;
  const cpu = ctx.host.cpu;
  if (flags === 2 /* INVLPG */) {
    cpu.mmu.invlpg(va);
    ctx.charge(Ev.Invlpg, 1);
  } else if (flags === 1 /* TLB_FLUSH */) {
    cpu.mmu.flushTlb();
    ctx.charge(Ev.CrFlush, 1);
  }
  flushIfStale(ctx, t0);
  return 0;
}

// hypervisor/pv/grants.ts
var PER_FRAME = 512 /* ENTRIES_PER_FRAME */;
var MAX_FRAMES = 4 /* MAX_FRAMES */;
var SELF = 32752 /* SELF */;
var BACKEND = 0 /* BACKEND */;
var PTE_P8 = 1;
var PTE_W7 = 2;
var PTE_A5 = 32;
var PTE_D5 = 64;
function grantEntryAddr(g, ref) {
  if (ref < 0 || ref >= g.grants.frames.length * PER_FRAME) return -1;
  return g.grants.frames[ref / PER_FRAME | 0] * 4096 + ref % PER_FRAME * 8 /* BYTES */;
}
function setFlagBits(host2, entry, bits, on) {
  const old = host2.mem.u16[entry >>> 1];
  host2.mem.u16[entry >>> 1] = on ? old | bits : old & ~bits;
}
function grantAcquire(host2, g, ref, mapper, readonly) {
  const entry = grantEntryAddr(g, ref);
  if (entry < 0) return -2 /* ENOENT */;
  const flags = host2.mem.u16[entry >>> 1];
  const domid = host2.mem.u16[entry + 2 /* DOMID */ >>> 1];
  const frame = host2.mem.i32[entry + 4 /* FRAME */ >>> 2];
  if ((flags & 3 /* TYPE_MASK */) !== 1 /* PERMIT_ACCESS */) return -13 /* EACCES */;
  if (domid !== (mapper & 65535)) return -13 /* EACCES */;
  if (!readonly && (flags & 4 /* READONLY */) !== 0) return -13 /* EACCES */;
  const types = host2.types;
  if (frame < 0 || frame >= types.frames || types.owner[frame] !== g.id) return -1 /* EPERM */;
  if (!readonly) {
    const r = types.getType(frame, 3 /* WRITABLE */, g.id);
    if (r < 0) return r;
  }
  types.refCount[frame]++;
  const counts = readonly ? g.grants.readers : g.grants.writers;
  counts.set(ref, (counts.get(ref) ?? 0) + 1);
  setFlagBits(host2, entry, readonly ? 8 /* READING */ : 16 /* WRITING */, true);
  return frame;
}
function grantRelease(host2, granter, ref, frame, readonly) {
  const types = host2.types;
  if (!readonly) types.putType(frame, granter);
  types.refCount[frame]--;
  const g = host2.domains.get(granter);
  if (g) {
    const counts = readonly ? g.grants.readers : g.grants.writers;
    const n = (counts.get(ref) ?? 1) - 1;
    if (n > 0) counts.set(ref, n);
    else {
      counts.delete(ref);
      const entry = grantEntryAddr(g, ref);
      if (entry >= 0) setFlagBits(host2, entry, readonly ? 8 /* READING */ : 16 /* WRITING */, false);
    }
  }
  host2.frameReleased(frame);
}
var MAX_GRANT_MAPS_PER_DOMAIN = 1024;
function mapGrant(ctx, dom, ref, flags, hostAddr, out) {
  const host2 = ctx.host;
  const me = ctx.d;
  if ((flags & (2 /* HOST_MAP */ | 1 /* DEVICE_MAP */)) === 0) return -22 /* EINVAL */;
  const g = host2.domains.get(dom);
  if (!g) return -3 /* ESRCH */;
  if (g === me) return -22 /* EINVAL */;
  if (me.grants.maps.size >= MAX_GRANT_MAPS_PER_DOMAIN) return -28 /* ENOSPC */;
  const readonly = (flags & 4 /* READONLY */) !== 0;
  let pteAddr = -1;
  if ((flags & 2 /* HOST_MAP */) !== 0) {
    if ((hostAddr & 4095) !== 0) return -22 /* EINVAL */;
    pteAddr = l1EntryFor(ctx, hostAddr);
    if (pteAddr < 0) return pteAddr;
    if ((host2.mem.i32[pteAddr >>> 2] & PTE_P8) !== 0) return -16 /* EBUSY */;
  }
  const frame = grantAcquire(host2, g, ref, me.id, readonly);
  if (frame < 0) return frame;
  const handle = me.grants.nextHandle++;
  const m = { granter: g.id, ref, frame, readonly, pteAddr, hostVa: hostAddr };
  me.grants.maps.set(handle, m);
  if (pteAddr >= 0) {
    me.grants.pteToHandle.set(pteAddr, handle);
    host2.mem.write32(pteAddr, frame * 4096 | PTE_P8 | PTE_A5 | (readonly ? 0 : PTE_W7 | PTE_D5));
  }
  out.devBusAddr = frame * 4096;
  return handle;
}
function unmapGrant(host2, me, handle) {
  const m = me.grants.maps.get(handle);
  if (!m) return -9 /* EBADF */;
  if (m.pteAddr >= 0) {
    me.grants.pteToHandle.delete(m.pteAddr);
    host2.mem.write32(m.pteAddr, 0);
    host2.cpu.mmu.flushTlb();
  }
  me.grants.maps.delete(handle);
  grantRelease(host2, m.granter, m.ref, m.frame, m.readonly);
  return 0;
}
function grantTableOp(ctx, cmd, ops, count) {
  const host2 = ctx.host;
  const me = ctx.d;
  if (count < 0) return -22 /* EINVAL */;
  if (count > 64) return -7 /* E2BIG */;
  switch (cmd) {
    case 2 /* SETUP_TABLE */: {
      if (count !== 1) return -22 /* EINVAL */;
      const dom = ctx.r32(ops + 0 /* DOM */);
      const nr = ctx.r32(ops + 4 /* NR_FRAMES */);
      const list = ctx.r32(ops + 12 /* FRAME_LIST */);
      if (ctx.faulted()) return -14 /* EFAULT */;
      let status = 0;
      if (dom !== SELF && dom !== me.id) status = -1 /* EPERM */;
      else if (nr < 1 || nr > MAX_FRAMES) status = -22 /* EINVAL */;
      else {
        for (let k = 0; k < nr; k++) if (ctx.gv.translate(ctx.cr3, list + k * 4, true) < 0) status = -14 /* EFAULT */;
        if (status === 0 && nr - me.grants.frames.length > host2.platform.frames.freeFrames) status = -12 /* ENOMEM */;
        if (status === 0) {
          while (me.grants.frames.length < nr) me.grants.frames.push(host2.allocShared(me.id));
          for (let k = 0; k < nr; k++) ctx.w32(list + k * 4, me.grants.frames[k]);
        }
      }
      if (!ctx.w32(ops + 8 /* STATUS */, status)) return -14 /* EFAULT */;
      ctx.charge(Ev.PvRequest, 1);
      return 0;
    }
    case 3 /* QUERY_SIZE */: {
      if (count !== 1) return -22 /* EINVAL */;
      const dom = ctx.r32(ops + 0 /* DOM */);
      if (ctx.faulted()) return -14 /* EFAULT */;
      const d = dom === SELF ? me : host2.domains.get(dom);
      ctx.w32(ops + 4 /* NR_FRAMES */, d ? d.grants.frames.length : 0);
      ctx.w32(ops + 8 /* MAX_NR_FRAMES */, MAX_FRAMES);
      ctx.w32(ops + 12 /* STATUS */, d ? 0 : -3 /* ESRCH */);
      return ctx.faulted() ? -14 /* EFAULT */ : 0;
    }
    case 0 /* MAP_GRANT_REF */: {
      const out = { devBusAddr: 0 };
      for (let k = 0; k < count; k++) {
        const op = ops + k * 28 /* BYTES */ | 0;
        const hostAddr = ctx.r32(op + 0 /* HOST_ADDR */);
        const flags = ctx.r32(op + 4 /* FLAGS */);
        const ref = ctx.r32(op + 8 /* REF */);
        const dom = ctx.r32(op + 12 /* DOM */);
        if (ctx.faulted()) return -14 /* EFAULT */;
        if (ctx.gv.translate(ctx.cr3, op + 16 /* STATUS */, true) < 0 || ctx.gv.translate(ctx.cr3, op + 24 /* DEV_BUS_ADDR */, true) < 0) {
          return -14 /* EFAULT */;
        }
        const h = mapGrant(ctx, dom, ref, flags, hostAddr, out);
        ctx.w32(op + 16 /* STATUS */, h < 0 ? h : 0);
        ctx.w32(op + 20 /* HANDLE */, h < 0 ? 0 : h);
        ctx.w32(op + 24 /* DEV_BUS_ADDR */, h < 0 ? 0 : out.devBusAddr);
        ctx.charge(Ev.PvRequest, 1);
      }
      return 0;
    }
    case 4 /* COPY */: {
      for (let k = 0; k < count; k++) {
        const op = ops + k * 36 /* BYTES */ | 0;
        const flags = ctx.r32(op + 28 /* FLAGS */);
        const src = { ref: ctx.r32(op + 0 /* SRC_REF */), dom: ctx.r32(op + 4 /* SRC_DOM */), offset: ctx.r32(op + 8 /* SRC_OFFSET */), gref: (flags & 1 /* SOURCE_GREF */) !== 0 };
        const dst = { ref: ctx.r32(op + 12 /* DST_REF */), dom: ctx.r32(op + 16 /* DST_DOM */), offset: ctx.r32(op + 20 /* DST_OFFSET */), gref: (flags & 2 /* DEST_GREF */) !== 0 };
        const len = ctx.r32(op + 24 /* LEN */);
        if (ctx.faulted()) return -14 /* EFAULT */;
        if (ctx.gv.translate(ctx.cr3, op + 32 /* STATUS */, true) < 0) return -14 /* EFAULT */;
        ctx.w32(op + 32 /* STATUS */, copyOp(host2, me, src, dst, len));
        ctx.charge(Ev.PvRequest, 1);
      }
      return 0;
    }
    case 1 /* UNMAP_GRANT_REF */: {
      for (let k = 0; k < count; k++) {
        const op = ops + k * 16 /* BYTES */ | 0;
        const handle = ctx.r32(op + 8 /* HANDLE */);
        if (ctx.faulted()) return -14 /* EFAULT */;
        if (ctx.gv.translate(ctx.cr3, op + 12 /* STATUS */, true) < 0) return -14 /* EFAULT */;
        ctx.w32(op + 12 /* STATUS */, unmapGrant(host2, me, handle));
        ctx.charge(Ev.PvRequest, 1);
      }
      return 0;
    }
    default:
      return -22 /* EINVAL */;
  }
}
function unmapAll(host2, d) {
  for (const handle of [...d.grants.maps.keys()]) unmapGrant(host2, d, handle);
}
function backendAcquire(host2, g, ref, readonly) {
  return grantAcquire(host2, g, ref, BACKEND, readonly);
}
function grantCopyCheck(host2, g, ref, grantee, offset, len, write) {
  const entry = grantEntryAddr(g, ref);
  if (entry < 0) return -2 /* ENOENT */;
  const flags = host2.mem.u16[entry >>> 1];
  if ((flags & 3 /* TYPE_MASK */) !== 1 /* PERMIT_ACCESS */) return -13 /* EACCES */;
  if (host2.mem.u16[entry + 2 /* DOMID */ >>> 1] !== (grantee & 65535)) return -13 /* EACCES */;
  if (write && (flags & 4 /* READONLY */) !== 0) return -13 /* EACCES */;
  const frame = host2.mem.i32[entry + 4 /* FRAME */ >>> 2];
  if (frame < 0 || frame >= host2.types.frames || host2.types.owner[frame] !== g.id) return -1 /* EPERM */;
  if (offset < 0 || len < 0 || offset > 4096 || len > 4096 - offset) return -22 /* EINVAL */;
  return frame;
}
function copyFrom(host2, frame, offset, len) {
  const at = frame * 4096 + offset;
  return host2.mem.u8.slice(at, at + len);
}
function copyInto(host2, frame, owner, offset, bytes) {
  const r = host2.types.getType(frame, 3 /* WRITABLE */, owner);
  if (r < 0) return r;
  host2.mem.writeBytes(frame * 4096 + offset, bytes);
  host2.types.putType(frame, owner);
  return 0;
}
function copyLines(n) {
  return n + 63 >>> 6;
}
function copySide(host2, me, s, len, write) {
  if (s.gref) {
    const g = host2.domains.get(s.dom);
    if (!g) return -3 /* ESRCH */;
    if (g === me) return -22 /* EINVAL */;
    const f2 = grantCopyCheck(host2, g, s.ref, me.id, s.offset, len, write);
    return f2 < 0 ? f2 : [f2, g.id];
  }
  if (s.dom !== SELF && s.dom !== me.id) return -1 /* EPERM */;
  const f = s.ref;
  if (f < 0 || f >= host2.types.frames || host2.types.owner[f] !== me.id) return -1 /* EPERM */;
  if (s.offset < 0 || len < 0 || s.offset > 4096 || len > 4096 - s.offset) return -22 /* EINVAL */;
  return [f, me.id];
}
function copyOp(host2, me, src, dst, len) {
  const from = copySide(host2, me, src, len, false);
  if (typeof from === "number") return from;
  const to = copySide(host2, me, dst, len, true);
  if (typeof to === "number") return to;
  const r = copyInto(host2, to[0], to[1], dst.offset, copyFrom(host2, from[0], src.offset, len));
  if (r === 0) host2.charge(me, Ev.PvGrantCopy, copyLines(len));
  return r;
}
function grantTransfer(host2, g, ref, grantee, bytes) {
  const entry = grantEntryAddr(g, ref);
  if (entry < 0) return -2 /* ENOENT */;
  const flags = host2.mem.u16[entry >>> 1];
  if ((flags & 3 /* TYPE_MASK */) !== 2 /* ACCEPT_TRANSFER */) return -13 /* EACCES */;
  if (host2.mem.u16[entry + 2 /* DOMID */ >>> 1] !== (grantee & 65535)) return -13 /* EACCES */;
  if ((flags & 32 /* TRANSFER_COMPLETED */) !== 0) return -16 /* EBUSY */;
  if (bytes.length > 4096) return -22 /* EINVAL */;
  const p2m = g.domain.p2m;
  let hole = 0;
  while (hole < p2m.length && p2m[hole] >= 0) hole++;
  if (hole === p2m.length) return -12 /* ENOMEM */;
  const alloc = host2.platform.frames;
  if (alloc.freeFrames === 0) return -12 /* ENOMEM */;
  const f = alloc.alloc(g.id);
  host2.mem.fill(f * 4096, 4096, 0);
  host2.types.clear(f);
  p2m[hole] = f;
  host2.setP2mSlot(f, hole);
  host2.mem.writeBytes(f * 4096, bytes);
  host2.mem.write32(entry + 4 /* FRAME */, f);
  setFlagBits(host2, entry, 32 /* TRANSFER_COMPLETED */, true);
  host2.charge(g, Ev.PvPageFlip, 1);
  return 0;
}

// toolchain/lib/xl32.ts
var shim = {
  memory: new Uint8Array(1 << 20),
  view: null,
  /** next free byte for staticBuffer / cstr in the shim's memory */
  bump: 4096,
  output: [],
  input: [],
  cycles: 0,
  functions: [],
  poweredOff: null,
  reset(memoryBytes = 1 << 20) {
    this.memory = new Uint8Array(memoryBytes);
    this.view = new DataView(this.memory.buffer);
    this.bump = 4096;
    this.output = [];
    this.input = [];
    this.cycles = 0;
    this.functions = [];
    this.poweredOff = null;
  },
  outputText() {
    let s = "";
    for (const b of this.output) s += String.fromCharCode(b);
    return s;
  }
};
shim.reset();

// hypervisor/pv/ring.ts
var REQ_PROD = 0 /* REQ_PROD */;
var REQ_EVENT = 4 /* REQ_EVENT */;
var RSP_PROD = 8 /* RSP_PROD */;
var RSP_EVENT = 12 /* RSP_EVENT */;
var SLOTS = 64 /* SLOTS */;
function shouldNotify(oldIdx, newIdx, event) {
  return newIdx - event >>> 0 < newIdx - oldIdx >>> 0;
}
var BackRing = class {
  constructor(mem, page, nrSlots, slotBytes) {
    this.mem = mem;
    this.page = page;
    this.nrSlots = nrSlots;
    this.slotBytes = slotBytes;
  }
  mem;
  page;
  nrSlots;
  slotBytes;
  /** requests consumed */
  reqCons = 0;
  /** responses written, published or not */
  rspProdPvt = 0;
  /** the front end broke the ring's rules */
  broken = false;
  /** notifications this back end decided to send (after hold-off) and skipped */
  notifiesSent = 0;
  notifiesHeldOff = 0;
  word(off) {
    return this.mem.i32[this.page + off >>> 2];
  }
  /** Requests published and not consumed (0 if the ring is broken). */
  unconsumedRequests() {
    const n = this.word(REQ_PROD) - this.reqCons >>> 0;
    if (n > this.nrSlots) {
      this.broken = true;
      return 0;
    }
    return n;
  }
  /**
   * Is there a response slot for one more request? Requests taken and not yet answered hold the
   * slots their responses will use, so a front end that publishes without consuming responses
   * cannot make the back end take (and keep in flight) more than the ring holds.
   */
  responseRoom() {
    return this.reqCons - this.rspProdPvt >>> 0 < this.nrSlots;
  }
  /** Machine address of the slot for free-running index idx. */
  slot(idx) {
    return this.page + SLOTS + (idx & this.nrSlots - 1) * this.slotBytes;
  }
  /** Publish the private responses; true if the front end asked to be notified. */
  pushResponses() {
    const oldIdx = this.word(RSP_PROD);
    const newIdx = this.rspProdPvt | 0;
    this.mem.write32(this.page + RSP_PROD, newIdx);
    const notify = shouldNotify(oldIdx, newIdx, this.word(RSP_EVENT));
    if (notify) this.notifiesSent++;
    else this.notifiesHeldOff++;
    return notify;
  }
  /** Before going idle: ask for a notification at the next request, then look once more. */
  finalCheckForRequests() {
    if (this.unconsumedRequests() !== 0) return true;
    this.mem.write32(this.page + REQ_EVENT, this.reqCons + 1 | 0);
    return this.unconsumedRequests() !== 0;
  }
};

// hypervisor/pv/costs.ts
function pvCosts(p) {
  return {
    dispatch: Math.round(p.monitorTrap / 4),
    perRequest: 2 * p.tlbWalkLevel + 4 * p.load,
    tableScan: 1024 * (p.load + p.alu),
    bounce: Math.round(p.monitorTrap / 2),
    eventSet: 4 * p.load + 2 * p.store,
    sectorCopy: 128 * (p.load + p.store),
    grantCopyLine: 16 * (p.load + p.store),
    pageFlip: 2 * (2 * p.tlbWalkLevel + 4 * p.load) + p.cr3Write
  };
}

// hypervisor/pv/byte-queue.ts
var INITIAL_BYTES = 256;
var ByteQueue = class {
  buf = new Uint8Array(INITIAL_BYTES);
  head = 0;
  tail = 0;
  /**
   * Bytes written into the storage since creation: each byte pushed, plus each byte moved when
   * the storage grew or slid to the front. A statistic that pins the linear cost in tests.
   */
  bytesCopied = 0;
  get length() {
    return this.tail - this.head;
  }
  /** Append bytes. */
  push(bytes) {
    const n = bytes.length;
    this.reserve(n);
    this.buf.set(bytes, this.tail);
    this.tail += n;
    this.bytesCopied += n;
  }
  /** Append everything another queue holds, emptying it. */
  pushFrom(other) {
    this.push(other.peek(other.length));
    other.clear();
  }
  /** The first n bytes (n <= length), as a view that is valid until the next push. */
  peek(n) {
    if (n < 0 || n > this.length) throw new RangeError(`ByteQueue.peek: ${n} of ${this.length} bytes`);
    return this.buf.subarray(this.head, this.head + n);
  }
  /** Drop the first n bytes (n <= length). */
  drop(n) {
    if (n < 0 || n > this.length) throw new RangeError(`ByteQueue.drop: ${n} of ${this.length} bytes`);
    this.head += n;
    if (this.head === this.tail) this.head = this.tail = 0;
  }
  clear() {
    this.head = this.tail = 0;
  }
  /** Room for n more bytes at the tail: slide to the front if that frees enough, else double. */
  reserve(n) {
    if (this.tail + n <= this.buf.length) return;
    const live = this.length;
    if (live + n <= this.buf.length >>> 1) {
      this.buf.copyWithin(0, this.head, this.tail);
    } else {
      let size = this.buf.length * 2;
      while (size < live + n) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(this.head, this.tail));
      this.buf = next;
    }
    this.bytesCopied += live;
    this.head = 0;
    this.tail = live;
  }
};

// hypervisor/pv/state.ts
var PAGE5 = 4096;
var PTE_P9 = 1;
var PTE_A6 = 32;
var HV_BASE2 = 4290772992 /* BASE */;
var M2P_VA = 4290838528 /* M2P */;
var IDT_VA = 4290772992 /* IDT */;
var PORTS = 1024 /* PORTS */;
var STRETCHES = 16;
function virqPerVcpu(virq) {
  return virq === 0 /* TIMER */;
}
var EventChannels = class {
  state = new Uint8Array(PORTS);
  /** UNBOUND: the domain allowed to bind; INTERDOMAIN: the peer */
  remoteDom = new Int32Array(PORTS);
  /** INTERDOMAIN: the peer's port */
  remotePort = new Int32Array(PORTS);
  /** VIRQ: which */
  virq = new Int32Array(PORTS);
  /** port bound to each VIRQ of each vCPU (index vcpu * Virq.COUNT + virq), 0 for none (port 0 is never allocated) */
  virqPort = new Int32Array(8 /* COUNT */ * 4 /* MAX_VCPUS */);
  /** the vCPU each port notifies (its upcall_pending and selector; EVTCHNOP_bind_vcpu moves it) */
  notifyVcpu = new Uint8Array(PORTS);
  /** a hypervisor-side consumer of an interdomain port (a back end) instead of a guest */
  hostHandler = [];
};
var GrantTable = class {
  /** machine frames of the table (hypervisor frames shared with the domain) */
  frames = [];
  /** handle -> mapping, for the mappings this domain made */
  maps = /* @__PURE__ */ new Map();
  /** machine address of a host-mapped PTE -> handle (its references belong to the grant) */
  pteToHandle = /* @__PURE__ */ new Map();
  nextHandle = 1;
  /** per own reference: how many read-only and writable mappings others hold */
  readers = /* @__PURE__ */ new Map();
  writers = /* @__PURE__ */ new Map();
};
var PvStats = class {
  /** events set pending in this domain (0 -> 1 transitions) */
  eventsPending = 0;
  /** upcalls delivered */
  upcalls = 0;
  /** of which on a hypercall's return path (folded into its return: no interrupt, no IRET of their own) */
  foldedUpcalls = 0;
  /** exceptions bounced to the guest's handlers, by vector */
  bounced = new Float64Array(256);
  /** mmu_update requests, page tables validated, pins */
  mmuRequests = 0;
  pins = 0;
  /** hypercall steps that ended in a continuation (the guest re-executes HYPERCALL to go on) */
  continuations = 0;
  /** the most page-table entries one hypercall entry checked (PageTypes.work) */
  maxStepWork = 0;
  /** hypercall failures by number (a negative result), inside multicalls too */
  failed = new Float64Array(HYPERCALL_SLOTS);
  /** calls made as entries of a multicall, by number (not hypercalls of their own: no entry into the hypervisor) */
  multicalled = new Float64Array(HYPERCALL_SLOTS);
  /** notifications on the block ring, both directions */
  blkNotifyIn = 0;
  blkNotifyOut = 0;
  /** notifications on the network rings' port, both directions */
  netNotifyIn = 0;
  netNotifyOut = 0;
  /** the console ring: notifications from the guest, to the guest, and those the hold-off saved */
  consoleNotifyIn = 0;
  consoleNotifyOut = 0;
  consoleHeldOff = 0;
  /** bytes through the console ring, each way */
  consoleBytesOut = 0;
  consoleBytesIn = 0;
};
var PvVcpu = class {
  constructor(vcpu) {
    this.vcpu = vcpu;
  }
  vcpu;
  /** machine frame of the loaded page directory (a pinned L2 with a base-pointer type reference) */
  baseptr = -1;
  /**
   * a directory whose release an unpin or base-pointer switch of this vCPU left unfinished at the
   * step's bound (page-types.ts Partial.RELEASING); the next mmuext_op finishes it first (-1: none)
   */
  pendingRelease = -1;
  /** the domain asked to block (sched_op block) and no event was pending */
  blockRequested = false;
  /** sched_op yield */
  yieldRequested = false;
  /**
   * the vCPU is on the hypervisor's return path of a hypercall (it returned, or blocked or yielded
   * in it): an upcall delivered now is folded into that return, as Xen's test_all_events builds
   * the bounce frame before the one IRET of the hypercall's exit - no interrupt into the
   * hypervisor, no IRET of its own. Cleared before the guest runs again.
   */
  inHypercallReturn = false;
  /**
   * its last run ended at a stop the host's slicing alone made (Hypervisor.slicedByHost): the
   * next run goes on as if it had not stopped (no restamp, no upcall before the guest runs)
   */
  hostSliced = false;
  /** periodic timer: period in cycles (0 = off) and its next expiry */
  periodCycles = 0;
  periodicHandle = -1;
  /** one-shot timer (set_timer_op) */
  timerHandle = -1;
  /** cycle count when the vCPU was created, cycles it spent blocked, and since when it is blocked (-1: not) */
  createdAt = 0;
  blockedCycles = 0;
  blockedSince = -1;
  /** up (VCPUOP_UP; vCPU 0 from the start): the scheduler may run it; a down vCPU is never woken */
  online = true;
  /** its state was set (the builder for vCPU 0, VCPUOP_INITIALISE for the others) */
  initialised = true;
  /** cycles it spent down, and since when it is down (-1: up) */
  offlineCycles = 0;
  offlineSince = -1;
  /** TLB flushes other vCPUs asked for it (TLB_FLUSH_MULTI, INVLPG_MULTI naming it), and those it asked for itself */
  remoteFlushes = 0;
  localFlushes = 0;
  /**
   * sched_op yields a spinning lock made (arg > 0: the cycles since it began to spin), and the
   * cycles of those waits this vCPU itself ran (its run stretches inside each wait: spin wasted;
   * the time other vCPUs ran meanwhile is not counted)
   */
  spinYields = 0;
  spinCycles = 0;
  /** the last STRETCHES stretches this vCPU ran on the CPU (cycle counts [start, end)), a ring; and the current one's start */
  stretchStart = new Float64Array(STRETCHES);
  stretchEnd = new Float64Array(STRETCHES);
  stretchNext = 0;
  runningSince = 0;
  /** The cycles this vCPU ran from cycle `since` up to `now` (it is running now, since runningSince). */
  ranSince(since, now) {
    let own = now - Math.max(since, this.runningSince);
    for (let k = 0; k < STRETCHES; k++) {
      const end = this.stretchEnd[k];
      if (end > since) own += end - Math.max(this.stretchStart[k], since);
    }
    return Math.max(0, own);
  }
};
var PvDomain = class {
  constructor(host2, domain) {
    this.host = host2;
    this.domain = domain;
    this.vcpus = domain.vcpus.map((v) => new PvVcpu(v));
  }
  host;
  domain;
  events = new EventChannels();
  grants = new GrantTable();
  stats = new PvStats();
  vcpus;
  /** the shared-info page (a hypervisor frame shared with the domain) */
  sharedInfoMfn = -1;
  /** the real IDT (a hypervisor frame mapped read-only at HvLayout.IDT) */
  idtMfn = -1;
  /** the hypervisor's page table for directory slot HvLayout.PDE */
  hvL1Mfn = -1;
  /** the registered trap table: per vector, handler address (0 = none) and TrapFlags */
  trapAddress = new Int32Array(256);
  trapFlags = new Int32Array(256);
  /** set_callbacks */
  eventCallback = 0;
  failsafeCallback = 0;
  /** console input waiting for console_io(READ) (before the guest connects its console ring) */
  consoleIn = new ByteQueue();
  /** pseudo-physical frames of the bootstrap layout (for tools) */
  startInfoPfn = -1;
  /** the block back end, if the domain has a disk */
  blk = null;
  /** the network back end, if the domain has a network (DomainConfig.onTransmit) */
  net = null;
  /** the console back end (the builder sets it up) */
  console = null;
  /**
   * the domain's time less the machine's, in cycles: 0 for a domain built here; a domain restored
   * on another machine (hypervisor/save/pv-domain.ts) goes on from its own saved time, so its TSC
   * (Cpu.tscOffset while it is loaded), system time and timers read as if it had never moved
   */
  tscOffset = 0;
  /** the control domain: may use dom0_op (start_info FLAGS PRIVILEGED) */
  privileged = false;
  get id() {
    return this.domain.id;
  }
  /** machine address of the shared-info page */
  get sharedInfo() {
    return this.sharedInfoMfn * PAGE5;
  }
};
var PvHost = class {
  constructor(platform) {
    this.platform = platform;
    const frames = platform.frames.frames;
    if (frames > 524288 /* MAX_MACHINE_FRAMES */) {
      throw new RangeError(`the PV mode serves machines of up to 2 GiB (this one has ${frames} frames)`);
    }
    this.costs = pvCosts(platform.profile);
    const u = platform.cpu.evUnit;
    u[Ev.PvDispatch] = this.costs.dispatch;
    u[Ev.PvRequest] = this.costs.perRequest;
    u[Ev.PvTableScan] = this.costs.tableScan;
    u[Ev.PvBounce] = this.costs.bounce;
    u[Ev.PvEventSet] = this.costs.eventSet;
    u[Ev.PvSectorCopy] = this.costs.sectorCopy;
    u[Ev.PvGrantCopy] = this.costs.grantCopyLine;
    u[Ev.PvPageFlip] = this.costs.pageFlip;
    this.m2p = new Int32Array(frames).fill(-1);
    this.p2mSlot = new Int32Array(frames).fill(-1);
    this.types = new PageTypes(platform.mem, platform.frames.owner, {
      mayMap: (dom, f) => this.mayMap(dom, f),
      dropGrantMapping: (dom, pteAddr) => this.dropGrantMapping(dom, pteAddr),
      hypervisorPde: (dom) => this.hypervisorPde(dom)
    });
  }
  platform;
  types;
  costs;
  /** machine -> pseudo-physical frame, -1 when unassigned (mirrored into the published table) */
  m2p;
  /**
   * machine -> the p2m slot that holds it, -1 when none: the hypervisor's own reverse map, which
   * the guest cannot write (its m2p entries it can, MACHPHYS_UPDATE), so memory_op finds the slot
   * of a frame it gives back in one look instead of scanning the p2m
   */
  p2mSlot;
  /** hypervisor frames holding the published m2p table, in order */
  m2pFrames = [];
  /** hypervisor frames shared with one domain (shared info, grant tables): frame -> domain id */
  sharedWith = /* @__PURE__ */ new Map();
  domains = /* @__PURE__ */ new Map();
  /**
   * Frames of destroyed domains that other domains (or back ends) still had mapped through grants:
   * the hypervisor holds them until the last mapping goes, then frees them.
   */
  zombies = /* @__PURE__ */ new Set();
  get mem() {
    return this.platform.mem;
  }
  get cpu() {
    return this.platform.cpu;
  }
  /**
   * Machine frame mfn goes into (pfn >= 0) or leaves (-1) its owner's p2m slot pfn: the private
   * reverse map and the published m2p entry follow. (The caller writes the p2m itself.)
   */
  setP2mSlot(mfn, pfn) {
    this.p2mSlot[mfn] = pfn;
    this.setM2p(mfn, pfn);
  }
  /** Record that machine frame mfn is pseudo-physical frame pfn of its owner (-1: none). */
  setM2p(mfn, pfn) {
    this.m2p[mfn] = pfn;
    if (this.m2pFrames.length > 0) this.writeM2p(mfn, pfn);
  }
  writeM2p(mfn, pfn) {
    const table = this.m2pFrames[mfn * 4 >>> 12];
    this.platform.mem.noteWrite((table << 12) + (mfn & 1023) * 4, 4);
    this.platform.mem.i32[(table << 10) + (mfn & 1023)] = pfn;
  }
  /** The published m2p table's frames, taken when the first domain is set up. */
  ensureM2pTable() {
    if (this.m2pFrames.length > 0) return;
    const frames = this.m2p.length;
    const tableFrames = Math.ceil(frames * 4 / PAGE5);
    for (let k = 0; k < tableFrames; k++) this.m2pFrames.push(this.platform.allocHypervisorFrame());
    for (let f = 0; f < frames; f++) this.writeM2p(f, this.m2p[f]);
  }
  /** May domain `dom` map frame f: it owns it, or the hypervisor shares it with it. */
  mayMap(dom, f) {
    const owner = this.platform.frames.owner[f];
    if (owner === dom) return true;
    return owner === OWNER_HYPERVISOR && this.sharedWith.get(f) === dom;
  }
  /** The L1 holding pteAddr lost its type: unmap dom's grant mapping there, if there is one. */
  dropGrantMapping(dom, pteAddr) {
    const d = this.domains.get(dom);
    const h = d?.grants.pteToHandle.get(pteAddr);
    if (d === void 0 || h === void 0) return false;
    unmapGrant(this, d, h);
    return true;
  }
  /** A zeroed hypervisor frame the domain may map (shared info, grant table). */
  allocShared(dom) {
    const f = this.platform.allocHypervisorFrame();
    this.sharedWith.set(f, dom);
    return f;
  }
  releaseShared(f) {
    this.sharedWith.delete(f);
    this.types.clear(f);
    this.platform.releaseHypervisorFrame(f);
  }
  /** The directory entry for slot HvLayout.PDE in every page directory of the domain. */
  hypervisorPde(dom) {
    const d = this.domains.get(dom);
    return d && d.hvL1Mfn >= 0 ? d.hvL1Mfn * PAGE5 | PTE_P9 | PTE_A6 : 0;
  }
  /** Set up the hypervisor-owned pages of a new domain: shared info, real IDT, the reserved L1. */
  initDomain(d) {
    this.ensureM2pTable();
    this.domains.set(d.id, d);
    d.sharedInfoMfn = this.allocShared(d.id);
    d.idtMfn = this.platform.allocHypervisorFrame();
    d.hvL1Mfn = this.platform.allocHypervisorFrame();
    const i32 = this.platform.mem.i32;
    const l1 = d.hvL1Mfn << 10;
    i32[l1 + (IDT_VA - HV_BASE2 >>> 12)] = d.idtMfn * PAGE5 | PTE_P9 | PTE_A6;
    this.m2pFrames.forEach((f, k) => {
      i32[l1 + (M2P_VA - HV_BASE2 >>> 12) + k] = f * PAGE5 | PTE_P9 | PTE_A6;
    });
  }
  /** Give back the hypervisor-owned pages of a domain that is gone. */
  releaseDomain(d) {
    for (const f of [d.idtMfn, d.hvL1Mfn]) if (f >= 0) this.platform.releaseHypervisorFrame(f);
    if (d.sharedInfoMfn >= 0) this.releaseShared(d.sharedInfoMfn);
    for (const f of d.grants.frames) this.releaseShared(f);
    d.idtMfn = d.hvL1Mfn = d.sharedInfoMfn = -1;
    d.grants.frames.length = 0;
    this.domains.delete(d.id);
  }
  /** A reference to frame f was dropped: free it if it is a zombie nobody maps any more. */
  frameReleased(f) {
    if (this.types.refCount[f] === 0 && this.zombies.delete(f)) {
      this.types.clear(f);
      this.platform.releaseHypervisorFrame(f);
    }
  }
  /** Charge `n` events of ledger kind `ev` (machine/ledger.ts) of hypervisor software work to a domain. */
  charge(d, ev, n) {
    this.platform.chargeMonitor(d.domain, ev, n);
  }
};
function pvDomain(domain) {
  const d = domain.modeState;
  if (!(d instanceof PvDomain)) throw new Error(`domain ${domain.id} is not a pv domain`);
  return d;
}
var RUNSTATE_WORD = 4290775056 /* VCPU_RUNSTATE */ - 4290772992 /* IDT */ >>> 2;
function runStateNumber(state) {
  switch (state) {
    case "running":
      return 0 /* RUNNING */;
    case "runnable":
      return 1 /* RUNNABLE */;
    case "blocked":
      return 2 /* BLOCKED */;
    case "offline":
      return 3 /* OFFLINE */;
  }
}
function publishRunstate(host2, d) {
  const mem = host2.platform.mem;
  const base = (d.idtMfn << 10) + RUNSTATE_WORD;
  if (d.idtMfn < 0) return;
  for (const pv of d.vcpus) {
    const state = pv.online ? runStateNumber(host2.platform.vcpuRunstate(pv.vcpu)) : 3 /* OFFLINE */;
    mem.i32[base + pv.vcpu.id] = state;
  }
}

// hypervisor/pv/events.ts
var PORTS2 = 1024 /* PORTS */;
var VIRQS = 8 /* COUNT */;
var PENDING = 256 /* EVTCHN_PENDING */;
var MASK = 384 /* EVTCHN_MASK */;
var SEL = 4 /* PENDING_SEL */;
var UPCALL_PENDING = 0 /* UPCALL_PENDING */;
var UPCALL_MASK = 1 /* UPCALL_MASK */;
var SELF2 = 32752 /* SELF */;
var BACKEND2 = 0 /* BACKEND */;
function vcpuInfoAddr(d, k) {
  return d.sharedInfo + 0 /* VCPU_INFO */ + k * 64 /* BYTES */;
}
function markUpcall(d, k, word) {
  const mem = d.host.mem;
  const vi = vcpuInfoAddr(d, k);
  mem.noteWrite(vi, 64 /* BYTES */);
  mem.i32[vi + SEL >>> 2] |= 1 << word;
  mem.u8[vi + UPCALL_PENDING] = 1;
  const v = d.vcpus[k];
  if (v) {
    v.blockRequested = false;
    if (v.online && v.vcpu.runState === "blocked") d.host.platform.wake(v.vcpu);
  }
}
function setPending(d, port2) {
  if (d.domain.stopped) return;
  const i32 = d.host.mem.i32;
  const word = port2 >>> 5;
  const bit = 1 << (port2 & 31);
  const pend = d.sharedInfo + PENDING + word * 4 >>> 2;
  if ((i32[pend] & bit) !== 0) return;
  i32[pend] = i32[pend] | bit;
  d.stats.eventsPending++;
  const stats = d.domain.stats;
  if (stats.trace !== null) stats.trace.record(3 /* Event */, stats.traceDom, port2, 0, d.events.notifyVcpu[port2]);
  d.host.charge(d, Ev.PvEventSet, 1);
  if ((i32[d.sharedInfo + MASK + word * 4 >>> 2] & bit) !== 0) return;
  markUpcall(d, d.events.notifyVcpu[port2], word);
}
function sendVirq(d, virq, k = 0) {
  const port2 = d.events.virqPort[k * VIRQS + virq];
  if (port2 !== 0) setPending(d, port2);
}
function upcallPending(d, k) {
  return d.host.mem.u8[vcpuInfoAddr(d, k) + UPCALL_PENDING] !== 0;
}
function upcallMasked(d, k) {
  return d.host.mem.u8[vcpuInfoAddr(d, k) + UPCALL_MASK] !== 0;
}
function setUpcallMask(d, k, masked) {
  d.host.mem.noteWrite(vcpuInfoAddr(d, k) + UPCALL_MASK, 1);
  d.host.mem.u8[vcpuInfoAddr(d, k) + UPCALL_MASK] = masked ? 1 : 0;
}
function allocPort(d) {
  const st = d.events.state;
  for (let p = 1; p < PORTS2; p++) if (st[p] === 0 /* FREE */) return p;
  return -1;
}
function bindHostPort(d, handler) {
  const p = allocPort(d);
  if (p < 0) return -28 /* ENOSPC */;
  d.events.state[p] = 2 /* INTERDOMAIN */;
  d.events.remoteDom[p] = BACKEND2;
  d.events.remotePort[p] = 0;
  d.events.hostHandler[p] = handler;
  return p;
}
function bindVirq(d, virq, k = 0) {
  if (virq < 0 || virq >= VIRQS) return -22 /* EINVAL */;
  if (k !== 0 && !virqPerVcpu(virq)) return -22 /* EINVAL */;
  if (k < 0 || k >= d.vcpus.length) return -2 /* ENOENT */;
  const slot = k * VIRQS + virq;
  if (d.events.virqPort[slot] !== 0) return -17 /* EEXIST */;
  const p = allocPort(d);
  if (p < 0) return -28 /* ENOSPC */;
  d.events.state[p] = 3 /* VIRQ */;
  d.events.virq[p] = virq;
  d.events.virqPort[slot] = p;
  d.events.notifyVcpu[p] = k;
  return p;
}
function bindIpi(d, k) {
  if (k < 0 || k >= d.vcpus.length) return -2 /* ENOENT */;
  const p = allocPort(d);
  if (p < 0) return -28 /* ENOSPC */;
  d.events.state[p] = 4 /* IPI */;
  d.events.notifyVcpu[p] = k;
  return p;
}
function bindVcpu(d, p, k) {
  const ev = d.events;
  if (p <= 0 || p >= PORTS2 || ev.state[p] === 0 /* FREE */) return -22 /* EINVAL */;
  if (k < 0 || k >= d.vcpus.length) return -2 /* ENOENT */;
  if (ev.state[p] === 4 /* IPI */ || ev.state[p] === 3 /* VIRQ */ && virqPerVcpu(ev.virq[p])) return -22 /* EINVAL */;
  ev.notifyVcpu[p] = k;
  const i32 = d.host.mem.i32;
  const word = p >>> 5;
  const bit = 1 << (p & 31);
  if ((i32[d.sharedInfo + PENDING + word * 4 >>> 2] & bit) !== 0 && (i32[d.sharedInfo + MASK + word * 4 >>> 2] & bit) === 0) markUpcall(d, k, word);
  return 0;
}
function closePort(d, p) {
  const ev = d.events;
  if (p <= 0 || p >= PORTS2 || ev.state[p] === 0 /* FREE */) return -22 /* EINVAL */;
  if (ev.state[p] === 2 /* INTERDOMAIN */ && ev.remoteDom[p] !== BACKEND2) {
    const peer = d.host.domains.get(ev.remoteDom[p]);
    const rp = ev.remotePort[p];
    if (peer && peer.events.state[rp] === 2 /* INTERDOMAIN */ && peer.events.remoteDom[rp] === d.id) {
      peer.events.state[rp] = 1 /* UNBOUND */;
      peer.events.remoteDom[rp] = d.id;
      peer.events.remotePort[rp] = 0;
    }
  } else if (ev.state[p] === 3 /* VIRQ */) {
    const virq = ev.virq[p];
    ev.virqPort[(virqPerVcpu(virq) ? ev.notifyVcpu[p] : 0) * VIRQS + virq] = 0;
  }
  ev.state[p] = 0 /* FREE */;
  ev.notifyVcpu[p] = 0;
  ev.remoteDom[p] = 0;
  ev.remotePort[p] = 0;
  ev.virq[p] = 0;
  delete ev.hostHandler[p];
  return 0;
}
function sendPort(d, p) {
  const ev = d.events;
  switch (ev.state[p]) {
    case 2 /* INTERDOMAIN */: {
      const rd = ev.remoteDom[p];
      if (rd === BACKEND2) {
        ev.hostHandler[p]?.(p);
        return 0;
      }
      const peer = d.host.domains.get(rd);
      if (peer) setPending(peer, ev.remotePort[p]);
      return 0;
    }
    case 4 /* IPI */:
      setPending(d, p);
      return 0;
    case 1 /* UNBOUND */:
      return 0;
    default:
      return -22 /* EINVAL */;
  }
}
function unmaskPort(d, p) {
  if (p < 0 || p >= PORTS2) return -22 /* EINVAL */;
  const i32 = d.host.mem.i32;
  const word = p >>> 5;
  const bit = 1 << (p & 31);
  const mask = d.sharedInfo + MASK + word * 4 >>> 2;
  i32[mask] = i32[mask] & ~bit;
  if ((i32[d.sharedInfo + PENDING + word * 4 >>> 2] & bit) !== 0) markUpcall(d, d.events.notifyVcpu[p], word);
  return 0;
}
function eventChannelOp(ctx, cmd, op) {
  const d = ctx.d;
  const ev = d.events;
  switch (cmd) {
    case 0 /* ALLOC_UNBOUND */: {
      const dom = ctx.r32(op + 0 /* DOM */);
      const remote = ctx.r32(op + 4 /* REMOTE_DOM */);
      if (ctx.faulted()) return -14 /* EFAULT */;
      if (dom !== SELF2 && dom !== d.id) return -1 /* EPERM */;
      if (remote !== d.id && remote !== SELF2 && !d.host.domains.has(remote)) return -3 /* ESRCH */;
      const p = allocPort(d);
      if (p < 0) return -28 /* ENOSPC */;
      if (!ctx.w32(op + 8 /* PORT */, p)) return -14 /* EFAULT */;
      ev.state[p] = 1 /* UNBOUND */;
      ev.remoteDom[p] = remote === SELF2 ? d.id : remote;
      return 0;
    }
    case 1 /* BIND_INTERDOMAIN */: {
      let rd = ctx.r32(op + 0 /* REMOTE_DOM */);
      const rp = ctx.r32(op + 4 /* REMOTE_PORT */);
      if (ctx.faulted()) return -14 /* EFAULT */;
      if (rd === SELF2) rd = d.id;
      const peer = d.host.domains.get(rd);
      if (!peer) return -3 /* ESRCH */;
      if (peer.events.state[rp] !== 1 /* UNBOUND */ || peer.events.remoteDom[rp] !== d.id) return -22 /* EINVAL */;
      const p = allocPort(d);
      if (p < 0) return -28 /* ENOSPC */;
      if (!ctx.w32(op + 8 /* LOCAL_PORT */, p)) return -14 /* EFAULT */;
      ev.state[p] = 2 /* INTERDOMAIN */;
      ev.remoteDom[p] = rd;
      ev.remotePort[p] = rp;
      peer.events.state[rp] = 2 /* INTERDOMAIN */;
      peer.events.remoteDom[rp] = d.id;
      peer.events.remotePort[rp] = p;
      return 0;
    }
    case 2 /* BIND_VIRQ */: {
      const virq = ctx.r32(op + 0 /* VIRQ */);
      const vcpu = ctx.r32(op + 4 /* VCPU */);
      if (ctx.faulted()) return -14 /* EFAULT */;
      if (ctx.gv.translate(ctx.cr3, op + 8 /* PORT */, true) < 0) return -14 /* EFAULT */;
      const p = bindVirq(d, virq, vcpu);
      if (p < 0) return p;
      ctx.w32(op + 8 /* PORT */, p);
      return 0;
    }
    case 7 /* BIND_IPI */: {
      const vcpu = ctx.r32(op + 0 /* VCPU */);
      if (ctx.faulted()) return -14 /* EFAULT */;
      if (ctx.gv.translate(ctx.cr3, op + 4 /* PORT */, true) < 0) return -14 /* EFAULT */;
      const p = bindIpi(d, vcpu);
      if (p < 0) return p;
      ctx.w32(op + 4 /* PORT */, p);
      return 0;
    }
    case 8 /* BIND_VCPU */: {
      const p = ctx.r32(op + 0 /* PORT */);
      const vcpu = ctx.r32(op + 4 /* VCPU */);
      if (ctx.faulted()) return -14 /* EFAULT */;
      return bindVcpu(d, p, vcpu);
    }
    case 3 /* CLOSE */: {
      const p = ctx.r32(op + 0 /* PORT */);
      if (ctx.faulted()) return -14 /* EFAULT */;
      return closePort(d, p);
    }
    case 4 /* SEND */: {
      const p = ctx.r32(op + 0 /* PORT */);
      if (ctx.faulted()) return -14 /* EFAULT */;
      return sendPort(d, p);
    }
    case 5 /* STATUS */: {
      const dom = ctx.r32(op + 0 /* DOM */);
      const p = ctx.r32(op + 4 /* PORT */);
      if (ctx.faulted()) return -14 /* EFAULT */;
      if (dom !== SELF2 && dom !== d.id) return -1 /* EPERM */;
      if (p < 0 || p >= PORTS2) return -22 /* EINVAL */;
      const st = ev.state[p];
      const status = st === 1 /* UNBOUND */ ? 1 /* UNBOUND */ : st === 2 /* INTERDOMAIN */ ? 2 /* INTERDOMAIN */ : st === 3 /* VIRQ */ ? 3 /* VIRQ */ : st === 4 /* IPI */ ? 4 /* IPI */ : 0 /* CLOSED */;
      ctx.w32(op + 8 /* STATUS */, status);
      ctx.w32(op + 12 /* VCPU */, ev.notifyVcpu[p]);
      ctx.w32(op + 16 /* REMOTE_DOM */, st === 3 /* VIRQ */ ? ev.virq[p] : ev.remoteDom[p]);
      ctx.w32(op + 20 /* REMOTE_PORT */, ev.remotePort[p]);
      return ctx.faulted() ? -14 /* EFAULT */ : 0;
    }
    case 6 /* UNMASK */: {
      const p = ctx.r32(op + 0 /* PORT */);
      if (ctx.faulted()) return -14 /* EFAULT */;
      return unmaskPort(d, p);
    }
    default:
      return -22 /* EINVAL */;
  }
}
function closeAll(d) {
  for (let p = 1; p < PORTS2; p++) if (d.events.state[p] !== 0 /* FREE */) closePort(d, p);
}

// hypervisor/pv/blkback.ts
var SECTOR = 512 /* SECTOR_BYTES */;
var MAX_SEG = 4 /* MAX_SEGMENTS */;
var RING_REF = 0 /* RESERVED_BLKIF_RING */;
var BlkBack = class {
  constructor(d, disk) {
    this.d = d;
    this.disk = disk;
    const t = d.domain.config.diskTiming ?? {};
    this.requestCycles = t.requestCycles ?? BLK_DEFAULT_REQUEST_CYCLES;
    this.perSectorCycles = t.perSectorCycles ?? BLK_DEFAULT_PER_SECTOR_CYCLES;
    const p = bindHostPort(d, () => this.notify());
    if (p < 0) throw new Error("blkback: no free port");
    this.port = p;
  }
  d;
  disk;
  port;
  ring = null;
  ringFrame = -1;
  /** the device is busy until this cycle (requests are served one after another) */
  busyUntil = 0;
  pending = /* @__PURE__ */ new Map();
  requestCycles;
  perSectorCycles;
  /** requests served, by outcome */
  served = 0;
  failed = 0;
  get sectors() {
    return Math.floor(this.disk.length / SECTOR);
  }
  /** The front end notified the port. */
  notify() {
    const d = this.d;
    d.stats.blkNotifyIn++;
    if (!this.ring && !this.connect()) return;
    this.consume();
  }
  /** The grants the back end holds mapped now (the ring page, the pages of requests in flight): for `info` and the fuzzers' invariants. */
  held() {
    const out = this.ring ? [{ frame: this.ringFrame, readonly: false }] : [];
    for (const hs of this.pending.values()) for (const h of hs) out.push({ frame: h.frame, readonly: h.readonly });
    return out;
  }
  /** The ring page's machine frame, -1 before the front end connects. */
  get ringMachineFrame() {
    return this.ringFrame;
  }
  /**
   * The domain moved to another machine (hypervisor/save/pv-domain.ts): its ring page is machine
   * frame f there, and its clock is `delta` cycles ahead of the one it was saved on. Only at a
   * quiet point (no request in flight, so no other frame is held).
   */
  moved(f, delta) {
    if (this.ringFrame >= 0) {
      this.ringFrame = f;
      this.ring.page = f * 4096;
    }
    this.busyUntil += delta;
  }
  connect() {
    const f = backendAcquire(this.d.host, this.d, RING_REF, false);
    if (f < 0) return false;
    this.ringFrame = f;
    this.ring = new BackRing(this.d.host.mem, f * 4096, 32 /* SLOTS */, 64 /* SLOT_BYTES */);
    return true;
  }
  /**
   * Take every published request there is a response slot for, then re-arm the request event
   * (the consumer's hold-off). Requests beyond the response slots wait until a response is out.
   */
  consume() {
    const ring = this.ring;
    do {
      while (ring.unconsumedRequests() > 0 && ring.responseRoom()) {
        const slot = ring.slot(ring.reqCons);
        ring.reqCons = ring.reqCons + 1 | 0;
        this.start(slot);
      }
    } while (!ring.broken && ring.responseRoom() && ring.finalCheckForRequests());
    if (ring.broken) this.d.domain.shutdown("crashed", 0, "blkback: the front end published more requests than the ring holds");
  }
  /** Check one request, map its grants and schedule its completion. */
  start(slot) {
    const host2 = this.d.host;
    const i32 = host2.mem.i32;
    const w = (off) => i32[slot + off >>> 2];
    const op = w(0 /* OPERATION */);
    const nseg = w(4 /* NR_SEGMENTS */);
    const id = w(8 /* ID */);
    const sector = w(12 /* SECTOR */);
    const held = [];
    let ok = (op === 0 /* READ */ || op === 1 /* WRITE */) && nseg >= 1 && nseg <= MAX_SEG && sector >= 0;
    let sectors = 0;
    const segs = [];
    for (let k = 0; ok && k < nseg; k++) {
      const s = slot + 16 /* SEG */ + k * 12 /* BYTES */;
      const gref = i32[s + 0 /* GREF */ >>> 2];
      const first2 = i32[s + 4 /* FIRST_SECT */ >>> 2];
      const last = i32[s + 8 /* LAST_SECT */ >>> 2];
      if (first2 < 0 || last > 7 || first2 > last) {
        ok = false;
        break;
      }
      const readonly = op === 1 /* WRITE */;
      const frame = backendAcquire(host2, this.d, gref, readonly);
      if (frame < 0) {
        ok = false;
        break;
      }
      held.push({ frame, ref: gref, readonly });
      segs.push({ frame, first: first2, last });
      sectors += last - first2 + 1;
    }
    if (ok && sector + sectors > this.sectors) ok = false;
    const now = host2.cpu.cycles;
    const begin = Math.max(now, this.busyUntil);
    const done = begin + this.requestCycles + (ok ? sectors * this.perSectorCycles : 0);
    this.busyUntil = done;
    const req = { handle: -1, op, id, sector, ok, segs, held };
    const h = host2.platform.events.schedule(done, deferred(this, "finish", req));
    req.handle = h;
    host2.cpu.shortenDeadline(done);
    this.pending.set(h, held);
  }
  /** A request's completion event (a deferred call: saved with the event queue). */
  finish(req) {
    this.pending.delete(req.handle);
    this.complete(req.op, req.id, req.sector, req.ok, req.segs, req.held);
  }
  complete(op, id, sector, ok, segs, held) {
    const host2 = this.d.host;
    const mem = host2.mem;
    if (ok) {
      let at = sector * SECTOR;
      for (const s of segs) {
        const ma = s.frame * 4096 + s.first * SECTOR;
        const n = (s.last - s.first + 1) * SECTOR;
        if (op === 0 /* READ */) mem.writeBytes(ma, this.disk.subarray(at, at + n));
        else this.disk.set(mem.u8.subarray(ma, ma + n), at);
        at += n;
        host2.charge(this.d, Ev.PvSectorCopy, s.last - s.first + 1);
      }
      this.served++;
    } else {
      this.failed++;
    }
    for (const g of held) grantRelease(host2, this.d.id, g.ref, g.frame, g.readonly);
    const ring = this.ring;
    if (!ring || this.d.domain.stopped) return;
    const rsp = ring.slot(ring.rspProdPvt);
    mem.write32(rsp + 0 /* ID */, id);
    mem.write32(rsp + 4 /* OPERATION */, op);
    mem.write32(rsp + 8 /* STATUS */, ok ? 0 /* OKAY */ : -1 /* ERROR */);
    ring.rspProdPvt = ring.rspProdPvt + 1 | 0;
    if (ring.pushResponses()) {
      this.d.stats.blkNotifyOut++;
      setPending(this.d, this.port);
    }
    this.consume();
  }
  /** The domain is going away: cancel what is in flight and give the ring page back. */
  destroy() {
    const host2 = this.d.host;
    for (const [h, held] of this.pending) {
      host2.platform.events.cancel(h);
      for (const g of held) grantRelease(host2, this.d.id, g.ref, g.frame, g.readonly);
    }
    this.pending.clear();
    if (this.ringFrame >= 0) {
      grantRelease(host2, this.d.id, RING_REF, this.ringFrame, false);
      this.ringFrame = -1;
    }
    this.ring = null;
  }
};

// hypervisor/pv/netback.ts
var TX_REF = 1 /* RESERVED_NETIF_TX_RING */;
var RX_REF = 2 /* RESERVED_NETIF_RX_RING */;
var SLOTS2 = 16 /* SLOTS */;
var SLOT_BYTES = 16 /* SLOT_BYTES */;
var MIN_FRAME = 14 /* MIN_FRAME */;
var MTU_FRAME = 1514 /* MTU_FRAME */;
var BACKEND3 = 0 /* BACKEND */;
var NetBack = class {
  constructor(d, onTransmit) {
    this.d = d;
    this.onTransmit = onTransmit;
    const p = bindHostPort(d, () => this.notify());
    if (p < 0) throw new Error("netback: no free port");
    this.port = p;
  }
  d;
  onTransmit;
  port;
  tx = null;
  rx = null;
  txFrame = -1;
  rxFrame = -1;
  /** counters, indexed like the NIC's (NIC_STAT_*) */
  stats = new Float64Array(NIC_STAT_COUNT);
  counts = { txFrames: 0, txErrors: 0, rxCopies: 0, rxFlips: 0, rxNoBuffer: 0, rxErrors: 0, copyLines: 0 };
  /** The front end notified the port: connect on first use, then send what it queued. */
  notify() {
    this.d.stats.netNotifyIn++;
    if (!this.tx && !this.connect()) return;
    this.transmit();
  }
  /** The machine frames of the transmit and receive ring pages (-1 before the front end connected). */
  ringFrames() {
    return [this.txFrame, this.rxFrame];
  }
  /** The domain was restored (hypervisor/save/pv-domain.ts): its ring pages are these frames now. */
  moved(txFrame, rxFrame) {
    if (!this.tx || !this.rx) return;
    this.txFrame = txFrame;
    this.rxFrame = rxFrame;
    this.tx.page = txFrame * 4096;
    this.rx.page = rxFrame * 4096;
  }
  /** The ring pages the back end holds mapped (for the fuzzers' invariants). */
  held() {
    const out = [];
    if (this.txFrame >= 0) out.push({ frame: this.txFrame, readonly: false });
    if (this.rxFrame >= 0) out.push({ frame: this.rxFrame, readonly: false });
    return out;
  }
  connect() {
    const host2 = this.d.host;
    const t = backendAcquire(host2, this.d, TX_REF, false);
    if (t < 0) return false;
    const r = backendAcquire(host2, this.d, RX_REF, false);
    if (r < 0) {
      grantRelease(host2, this.d.id, TX_REF, t, false);
      return false;
    }
    this.txFrame = t;
    this.rxFrame = r;
    this.tx = new BackRing(host2.mem, t * 4096, SLOTS2, SLOT_BYTES);
    this.rx = new BackRing(host2.mem, r * 4096, SLOTS2, SLOT_BYTES);
    this.publishStats();
    return true;
  }
  /** Take every transmit request there is a response slot for; answer each at once. */
  transmit() {
    const ring = this.tx;
    const host2 = this.d.host;
    const i32 = host2.mem.i32;
    let answered = false;
    do {
      while (ring.unconsumedRequests() > 0 && ring.responseRoom()) {
        const slot = ring.slot(ring.reqCons);
        ring.reqCons = ring.reqCons + 1 | 0;
        const gref = i32[slot + 0 /* GREF */ >>> 2];
        const offset = i32[slot + 4 /* OFFSET */ >>> 2];
        const size = i32[slot + 8 /* SIZE */ >>> 2];
        const id = i32[slot + 12 /* ID */ >>> 2];
        let status = 0 /* OKAY */;
        const frame = size >= MIN_FRAME && size <= MTU_FRAME ? grantCopyCheck(host2, this.d, gref, BACKEND3, offset, size, false) : -1;
        if (frame < 0) {
          status = -1 /* ERROR */;
          this.counts.txErrors++;
          this.stats[NIC_STAT_TX_ERRORS]++;
        } else {
          const bytes = copyFrom(host2, frame, offset, size);
          this.charge(size);
          this.counts.txFrames++;
          this.stats[NIC_STAT_TX_FRAMES]++;
          this.stats[NIC_STAT_TX_BYTES] += size;
          this.onTransmit(bytes);
        }
        const rsp = ring.slot(ring.rspProdPvt);
        host2.mem.write32(rsp + 0 /* ID */, id);
        host2.mem.write32(rsp + 4 /* STATUS */, status);
        ring.rspProdPvt = ring.rspProdPvt + 1 | 0;
        answered = true;
      }
    } while (!ring.broken && ring.responseRoom() && ring.finalCheckForRequests());
    if (ring.broken) {
      this.d.domain.shutdown("crashed", 0, "netback: the front end published more transmit requests than the ring holds");
      return;
    }
    if (answered) {
      this.publishStats();
      if (ring.pushResponses()) this.kick();
    }
  }
  /**
   * A frame from the wire (the uplink or a bridge): into the oldest posted buffer. False when it
   * is dropped (not connected, no buffer, malformed, a posted grant refused).
   */
  receive(frame) {
    const ring = this.rx;
    if (!ring || this.d.domain.stopped) return false;
    const host2 = this.d.host;
    if (frame.length < MIN_FRAME || frame.length > MTU_FRAME) {
      this.stats[NIC_STAT_RX_MALFORMED]++;
      this.publishStats();
      return false;
    }
    if (ring.unconsumedRequests() === 0 || !ring.responseRoom()) {
      if (ring.broken) this.d.domain.shutdown("crashed", 0, "netback: the front end published more receive buffers than the ring holds");
      this.counts.rxNoBuffer++;
      this.stats[NIC_STAT_RX_NO_BUFFER]++;
      this.publishStats();
      return false;
    }
    const slot = ring.slot(ring.reqCons);
    ring.reqCons = ring.reqCons + 1 | 0;
    const id = host2.mem.i32[slot + 0 /* ID */ >>> 2];
    const gref = host2.mem.i32[slot + 4 /* GREF */ >>> 2];
    let status = this.deliver(gref, frame);
    if (status < 0) {
      this.counts.rxErrors++;
      this.stats[NIC_STAT_RX_ERRORS]++;
      status = -1 /* ERROR */;
    } else {
      this.stats[NIC_STAT_RX_FRAMES]++;
      this.stats[NIC_STAT_RX_BYTES] += frame.length;
    }
    const rsp = ring.slot(ring.rspProdPvt);
    host2.mem.write32(rsp + 0 /* ID */, id);
    host2.mem.write32(rsp + 4 /* OFFSET */, 0);
    host2.mem.write32(rsp + 8 /* STATUS */, status);
    ring.rspProdPvt = ring.rspProdPvt + 1 | 0;
    this.publishStats();
    if (ring.pushResponses()) this.kick();
    return status >= 0;
  }
  /** Copy or flip, as the posted grant asks: the frame's length, or an HcErr. */
  deliver(gref, frame) {
    const host2 = this.d.host;
    const entry = grantEntryAddr(this.d, gref);
    const flags = entry >= 0 ? host2.mem.u16[entry >>> 1] : 0;
    if ((flags & 3 /* TYPE_MASK */) === 2 /* ACCEPT_TRANSFER */) {
      const r2 = grantTransfer(host2, this.d, gref, BACKEND3, frame);
      if (r2 < 0) return r2;
      this.counts.rxFlips++;
      return frame.length;
    }
    const f = grantCopyCheck(host2, this.d, gref, BACKEND3, 0, frame.length, true);
    if (f < 0) return f;
    const r = copyInto(host2, f, this.d.id, 0, frame);
    if (r < 0) return r;
    this.charge(frame.length);
    this.counts.rxCopies++;
    return frame.length;
  }
  charge(bytes) {
    const lines = copyLines(bytes);
    this.counts.copyLines += lines;
    this.d.host.charge(this.d, Ev.PvGrantCopy, lines);
  }
  kick() {
    this.d.stats.netNotifyOut++;
    setPending(this.d, this.port);
  }
  /** The counters into the receive ring's page, where the front end reads them. */
  publishStats() {
    if (this.rxFrame < 0) return;
    const mem = this.d.host.mem;
    const base = this.rxFrame * 4096 + 2048 /* STATS */;
    for (let k = 0; k < 8 /* STAT_COUNT */; k++) mem.write32(base + k * 4, this.stats[k] >>> 0);
  }
  /** The domain is going away: give the ring pages back. */
  destroy() {
    const host2 = this.d.host;
    if (this.txFrame >= 0) grantRelease(host2, this.d.id, TX_REF, this.txFrame, false);
    if (this.rxFrame >= 0) grantRelease(host2, this.d.id, RX_REF, this.rxFrame, false);
    this.txFrame = -1;
    this.rxFrame = -1;
    this.tx = null;
    this.rx = null;
  }
};

// hypervisor/pv/consback.ts
var IN = 0 /* IN */;
var IN_BYTES = 1024 /* IN_BYTES */;
var OUT = 1024 /* OUT */;
var OUT_BYTES = 2048 /* OUT_BYTES */;
var IN_CONS = 3072 /* IN_CONS */;
var IN_PROD = 3076 /* IN_PROD */;
var OUT_CONS = 3080 /* OUT_CONS */;
var OUT_PROD = 3084 /* OUT_PROD */;
var IN_EVENT = 3088 /* IN_EVENT */;
var OUT_EVENT = 3092 /* OUT_EVENT */;
var ConsBack = class {
  constructor(d, frame) {
    this.d = d;
    this.frame = frame;
    const types = d.host.types;
    const r = types.getType(frame, 3 /* WRITABLE */, d.id);
    if (r < 0) throw new Error(`consback: the console page 0x${frame.toString(16)} cannot be held writable (${r})`);
    types.refCount[frame]++;
    const p = bindHostPort(d, () => this.notify());
    if (p < 0) throw new Error("consback: no free port");
    this.port = p;
    const mem = d.host.mem;
    const page = frame * 4096;
    mem.fill(page, 4096, 0);
    mem.write32(page + IN_EVENT, 1);
    mem.write32(page + OUT_EVENT, 1);
  }
  d;
  frame;
  port;
  /** the guest has notified the port: input goes through the ring from now on */
  connected = false;
  /** input not yet in the ring (it was full, or the guest has not connected) */
  pending = new ByteQueue();
  held = true;
  /** the front end broke the ring's rules */
  broken = false;
  /** the back end's own indices (the shared copies are for the guest to read, never trusted back) */
  outCons = 0;
  inProd = 0;
  word(off) {
    return this.d.host.mem.i32[this.frame * 4096 + off >>> 2];
  }
  setWord(off, v) {
    const mem = this.d.host.mem;
    mem.noteWrite(this.frame * 4096 + off, 4);
    mem.i32[this.frame * 4096 + off >>> 2] = v | 0;
  }
  /** The guest notified the port: take its output, top up its input. */
  notify() {
    const d = this.d;
    d.stats.consoleNotifyIn++;
    if (!this.connected) {
      this.connected = true;
      this.pending.pushFrom(d.consoleIn);
    }
    this.drain();
    this.fill();
  }
  /**
   * Copy the output the guest published to the domain's console, then ask for a notification at
   * the next byte and look once more (the consumer's half of the hold-off).
   */
  drain() {
    if (this.broken || !this.held) return;
    const d = this.d;
    const mem = d.host.mem;
    const ring = this.frame * 4096 + OUT;
    for (; ; ) {
      const cons = this.outCons;
      const prod = this.word(OUT_PROD);
      const n = prod - cons >>> 0;
      if (n > OUT_BYTES) {
        this.broken = true;
        d.domain.shutdown("crashed", 0, "consback: the guest published more console output than the ring holds");
        return;
      }
      if (n === 0) {
        this.setWord(OUT_EVENT, cons + 1);
        if (this.word(OUT_PROD) === cons) return;
        continue;
      }
      for (let k = 0; k < n; k++) d.domain.emitConsole(mem.u8[ring + (cons + k & OUT_BYTES - 1)]);
      d.stats.consoleBytesOut += n;
      this.outCons = prod;
      this.setWord(OUT_CONS, prod);
    }
  }
  /** Type bytes on the console: into the input ring once the guest is connected. */
  feed(bytes) {
    if (bytes.length === 0) return;
    const d = this.d;
    if (!this.connected) {
      d.consoleIn.push(bytes);
      sendVirq(d, 2 /* CONSOLE */);
      return;
    }
    this.pending.push(bytes);
    this.fill();
  }
  /** Move waiting input into the ring; notify the guest if it asked (the producer's hold-off). */
  fill() {
    if (this.broken || !this.held || this.pending.length === 0) return;
    const d = this.d;
    const cons = this.word(IN_CONS);
    const prod = this.inProd;
    const used = prod - cons >>> 0;
    if (used > IN_BYTES) {
      this.broken = true;
      d.domain.shutdown("crashed", 0, "consback: the guest consumed console input that was never there");
      return;
    }
    const n = Math.min(IN_BYTES - used, this.pending.length);
    if (n === 0) return;
    const mem = d.host.mem;
    const ring = this.frame * 4096 + IN;
    const src = this.pending.peek(n);
    mem.noteWrite(ring, IN_BYTES);
    for (let k = 0; k < n; k++) mem.u8[ring + (prod + k & IN_BYTES - 1)] = src[k];
    this.pending.drop(n);
    const next = prod + n | 0;
    this.inProd = next;
    this.setWord(IN_PROD, next);
    d.stats.consoleBytesIn += n;
    if (shouldNotify(prod, next, this.word(IN_EVENT))) {
      d.stats.consoleNotifyOut++;
      setPending(d, this.port);
    } else {
      d.stats.consoleHeldOff++;
    }
  }
  /** The domain stops or goes away: take the last output, then let go of the page. */
  destroy() {
    this.drain();
    if (!this.held) return;
    this.held = false;
    const types = this.d.host.types;
    types.refCount[this.frame]--;
    types.putType(this.frame, this.d.id);
  }
};

// hypervisor/pv/control.ts
var REBOOT_DETAIL = "reboot requested";

// hypervisor/pv/dom0.ts
var INFO_BYTES = 44 /* BYTES */;
var MAX_WEIGHT = 1e4;
var READ_MAX = 65536;
function weighted(s) {
  const w = s;
  return typeof w.setWeight === "function" && typeof w.weight === "function" ? w : null;
}
function shutdownReason(d) {
  switch (d.stopReason) {
    case "poweroff":
      return 0 /* POWEROFF */;
    case "destroyed":
      return 4 /* DESTROYED */;
    default:
      return 3 /* CRASH */;
  }
}
function flagsOf(d) {
  let f = 0;
  if (d.state === "shutdown") f |= 8 /* SHUTDOWN */;
  else if (d.state === "paused") f |= 4 /* PAUSED */;
  if (d.state !== "shutdown") f |= d.vcpus.some((v) => v.runState === "runnable") ? 1 /* RUNNING */ : 2 /* BLOCKED */;
  if (d.modeState instanceof PvDomain && d.modeState.privileged) f |= 16 /* PRIVILEGED */;
  return f;
}
function getDomainInfo(ctx, domid, buf) {
  const p = ctx.host.platform;
  let target;
  for (const d of p.domains) if (d.id >= domid && (!target || d.id < target.id)) target = d;
  if (!target) return -3 /* ESRCH */;
  if (ctx.gv.translate(ctx.cr3, buf, true) < 0 || ctx.gv.translate(ctx.cr3, buf + INFO_BYTES - 1, true) < 0) return -14 /* EFAULT */;
  const owner = p.frames.owner;
  let pages = 0;
  for (const f of target.p2m) if (f >= 0 && owner[f] === target.id) pages++;
  const cycles = target.vcpus.reduce((s, v) => s + v.runCycles, 0);
  const w = weighted(p.scheduler);
  const words = [
    [0 /* DOMID */, target.id],
    [4 /* FLAGS */, flagsOf(target)],
    [8 /* NR_PAGES */, pages],
    [12 /* MAX_PAGES */, target.quotaFrames],
    [16 /* CPU_CYCLES */, cycles % 2 ** 32],
    [16 /* CPU_CYCLES */ + 4, Math.floor(cycles / 2 ** 32)],
    [24 /* NR_VCPUS */, target.vcpus.length],
    [28 /* SHUTDOWN_REASON */, target.stopped ? shutdownReason(target) : 0],
    [32 /* SHUTDOWN_STATUS */, target.stopped ? target.stopStatus : 0],
    [36 /* WEIGHT */, w ? w.weight(target.id) : 0],
    [40 /* CONSOLE_BYTES */, target.consoleBytes().length]
  ];
  for (const [off, v] of words) ctx.w32(buf + off, v | 0);
  return ctx.faulted() ? -14 /* EFAULT */ : target.id;
}
function readConsole(ctx, target, buf, count, offset) {
  if (count < 0 || offset < 0) return -22 /* EINVAL */;
  const out = target.consoleBytes();
  const n = Math.max(0, Math.min(count, READ_MAX, out.length - offset));
  if (n === 0) return 0;
  if (!ctx.gv.writeBytes(ctx.cr3, buf, out.subarray(offset, offset + n))) {
    ctx.faulted();
    return -14 /* EFAULT */;
  }
  return n;
}
function dom0Op(ctx, cmd, domid, a1, a2, a3) {
  if (!ctx.d.privileged) return -1 /* EPERM */;
  const p = ctx.host.platform;
  if (cmd === 0 /* GETDOMAININFO */) return getDomainInfo(ctx, domid, a1);
  if (cmd < 1 /* PAUSEDOMAIN */ || cmd > 5 /* READCONSOLE */) return -22 /* EINVAL */;
  const target = p.domains.find((d) => d.id === domid);
  if (!target) return -3 /* ESRCH */;
  switch (cmd) {
    case 5 /* READCONSOLE */:
      return readConsole(ctx, target, a1, a2, a3);
    case 4 /* ADJUSTDOM */: {
      const w = weighted(p.scheduler);
      if (!w) return -38 /* ENOSYS */;
      if (a1 < 1 || a1 > MAX_WEIGHT) return -22 /* EINVAL */;
      w.setWeight(target.id, a1);
      return 0;
    }
  }
  if (target === ctx.d.domain) return -22 /* EINVAL */;
  switch (cmd) {
    case 1 /* PAUSEDOMAIN */:
      return p.pauseDomain(target) ? 0 : -22 /* EINVAL */;
    case 2 /* UNPAUSEDOMAIN */:
      return p.unpauseDomain(target) ? 0 : -22 /* EINVAL */;
    case 3 /* DESTROYDOMAIN */:
      p.destroyDomain(target);
      return 0;
    default:
      return -22 /* EINVAL */;
  }
}

// hypervisor/pv/time.ts
var TWO32 = 4294967296;
function timeScale(clockMHz) {
  let shift = 0;
  let ratio = 1e3 / clockMHz;
  while (ratio >= 1) {
    ratio /= 2;
    shift++;
  }
  return { mul: Math.floor(ratio * TWO32), shift };
}
function systemTimeNs(host2, cycles) {
  return Math.floor(cycles * 1e3 / host2.platform.profile.clockMHz);
}
function cyclesAt(host2, ns) {
  return Math.ceil(ns * host2.platform.profile.clockMHz / 1e3);
}
function updateTime(host2, d, k) {
  const i32 = host2.mem.i32;
  const t = vcpuInfoAddr(d, k) + 16 /* TIME */ >>> 2;
  const cycles = host2.cpu.cycles + d.tscOffset;
  const ns = systemTimeNs(host2, cycles);
  const { mul, shift } = timeScale(host2.platform.profile.clockMHz);
  const v = i32[t + 0 /* VERSION */ / 4];
  i32[t + 0 /* VERSION */ / 4] = (v | 1) + (v & 1 ? 2 : 0);
  i32[t + 8 /* TSC_TIMESTAMP */ / 4] = cycles % TWO32;
  i32[t + 8 /* TSC_TIMESTAMP */ / 4 + 1] = Math.floor(cycles / TWO32);
  i32[t + 16 /* SYSTEM_TIME */ / 4] = ns % TWO32;
  i32[t + 16 /* SYSTEM_TIME */ / 4 + 1] = Math.floor(ns / TWO32);
  i32[t + 24 /* TSC_TO_SYSTEM_MUL */ / 4] = mul | 0;
  i32[t + 28 /* TSC_SHIFT */ / 4] = shift;
  i32[t + 0 /* VERSION */ / 4] = i32[t + 0 /* VERSION */ / 4] + 1 | 0;
}
function timerFired(host2, d, pv) {
  pv.timerHandle = -1;
  updateTime(host2, d, pv.vcpu.id);
  sendVirq(d, 0 /* TIMER */, pv.vcpu.id);
}
function scheduleAt(host2, cycle, fn) {
  if (cycle > END_OF_TIME) return -1;
  const at = Math.max(cycle, host2.cpu.cycles);
  const h = host2.platform.events.schedule(at, fn);
  host2.cpu.shortenDeadline(at);
  return h;
}
function setTimerOp(ctx, lo, hi) {
  const host2 = ctx.host;
  const pv = ctx.pv;
  if (pv.timerHandle >= 0) {
    host2.platform.events.cancel(pv.timerHandle);
    pv.timerHandle = -1;
  }
  if (lo === 0 && hi === 0) return 0;
  const ns = (hi >>> 0) * TWO32 + (lo >>> 0);
  const d = ctx.d;
  pv.timerHandle = scheduleAt(host2, cyclesAt(host2, ns) - d.tscOffset, deferred(null, "pv.timerFired", host2, d, pv));
  return 0;
}
function setPeriodicTimer(host2, d, pv, periodNs) {
  if (pv.periodicHandle >= 0) {
    host2.platform.events.cancel(pv.periodicHandle);
    pv.periodicHandle = -1;
  }
  pv.periodCycles = 0;
  if (periodNs === 0) return 0;
  if (periodNs < 0) return -22 /* EINVAL */;
  const period = cyclesAt(host2, periodNs);
  if (period < 1e3) return -22 /* EINVAL */;
  pv.periodCycles = period;
  periodicTick(host2, d, pv, host2.cpu.cycles + period, period);
  return 0;
}
function periodicTick(host2, d, pv, at, period) {
  pv.periodicHandle = scheduleAt(host2, at, deferred(null, "pv.periodicFired", host2, d, pv, at, period));
}
function periodicFired(host2, d, pv, at, period) {
  pv.periodicHandle = -1;
  if (d.domain.stopped) return;
  updateTime(host2, d, pv.vcpu.id);
  sendVirq(d, 0 /* TIMER */, pv.vcpu.id);
  if (pv.periodCycles === period) periodicTick(host2, d, pv, at + period, period);
}
registerDeferred("pv.timerFired", timerFired);
registerDeferred("pv.periodicFired", periodicFired);
function stopTimers(host2, pv) {
  if (pv.timerHandle >= 0) host2.platform.events.cancel(pv.timerHandle);
  if (pv.periodicHandle >= 0) host2.platform.events.cancel(pv.periodicHandle);
  pv.timerHandle = pv.periodicHandle = -1;
  pv.periodCycles = 0;
}

// hypervisor/pv/traps.ts
var SYSCALL_VECTOR = 128;
var UPCALL_VECTOR = 240 /* VECTOR */;
var HV_BASE3 = 4290772992 /* BASE */;
var MASK_EVENTS = 4 /* MASK_EVENTS */;
var DPL_MASK = 3 /* DPL_MASK */;
var FLAG_IF = 1 << 9;
var GUEST_RING = 1;
function writeIdt(host2, d) {
  const i32 = host2.mem.i32;
  const base = d.idtMfn << 10;
  for (let v = 0; v < 256; v++) {
    const addr = v === UPCALL_VECTOR ? d.eventCallback : d.trapAddress[v];
    const dpl = v === UPCALL_VECTOR ? 0 : d.trapFlags[v] & DPL_MASK;
    i32[base + v * (GATE_BYTES / 4)] = addr;
    i32[base + v * (GATE_BYTES / 4) + 1] = addr !== 0 ? gateFlags(dpl, GUEST_RING, true) : 0;
  }
}
function syscallFastPath(d) {
  return d.trapAddress[SYSCALL_VECTOR] !== 0 && (d.trapFlags[SYSCALL_VECTOR] & MASK_EVENTS) === 0;
}
function setTrapTable(ctx, table) {
  const d = ctx.d;
  const vectors = [];
  const flags = [];
  const addrs = [];
  if (table !== 0) {
    for (let k = 0; ; k++) {
      if (k > 256 /* MAX_ENTRIES */) return -7 /* E2BIG */;
      const e = table + k * 16 /* BYTES */ | 0;
      const vector = ctx.r32(e + 0 /* VECTOR */);
      const f = ctx.r32(e + 4 /* FLAGS */);
      const ring = ctx.r32(e + 8 /* RING */);
      const address = ctx.r32(e + 12 /* ADDRESS */);
      if (ctx.faulted()) return -14 /* EFAULT */;
      if (address === 0) break;
      if (vector < 0 || vector > 255 || vector === UPCALL_VECTOR) return -22 /* EINVAL */;
      if (ring === 0) return -1 /* EPERM */;
      if (ring !== GUEST_RING) return -22 /* EINVAL */;
      if ((f & ~(DPL_MASK | MASK_EVENTS)) !== 0) return -22 /* EINVAL */;
      if (address >>> 0 >= HV_BASE3 >>> 0) return -1 /* EPERM */;
      vectors.push(vector);
      flags.push(f);
      addrs.push(address);
    }
  }
  d.trapAddress.fill(0);
  d.trapFlags.fill(0);
  vectors.forEach((v, k) => {
    d.trapAddress[v] = addrs[k];
    d.trapFlags[v] = flags[k];
  });
  writeIdt(ctx.host, d);
  ctx.host.cpu.interceptVector[SYSCALL_VECTOR] = syscallFastPath(d) ? 0 : 1;
  ctx.charge(Ev.PvRequest, vectors.length + 1);
  return 0;
}
function setCallbacks(ctx, event, failsafe) {
  if (event >>> 0 >= HV_BASE3 >>> 0 || failsafe >>> 0 >= HV_BASE3 >>> 0) return -1 /* EPERM */;
  ctx.d.eventCallback = event;
  ctx.d.failsafeCallback = failsafe;
  writeIdt(ctx.host, ctx.d);
  return 0;
}
function frameWordAddr(host2, off) {
  const cpu = host2.cpu;
  const va = cpu.regs[15] + off | 0;
  return cpu.mmu.translate(va, true, false);
}
function bounce(host2, d, pv, vector, error, kind, folded = false) {
  const handler = vector === UPCALL_VECTOR ? d.eventCallback : d.trapAddress[vector];
  if (handler === 0) {
    d.domain.shutdown("crashed", 0, `no handler for vector ${vector} (error 0x${(error >>> 0).toString(16)}) at pc 0x${(host2.cpu.pc >>> 0).toString(16)}`);
    return false;
  }
  const k = pv.vcpu.id;
  const vIF = !upcallMasked(d, k);
  const cpu = host2.cpu;
  const sp0 = cpu.regs[15];
  const res = cpu.deliverTrap(vector, error, kind, false);
  if (res !== -1) {
    d.domain.shutdown(
      "crashed",
      0,
      `cannot deliver vector ${vector}: the guest's stack (sp 0x${(sp0 >>> 0).toString(16)}, kernel stack 0x${(cpu.ksp[1] >>> 0).toString(16)}) does not take the frame`
    );
    return false;
  }
  const fl = frameWordAddr(host2, 16 /* FLAGS */);
  if (fl >= 0) host2.mem.write32(fl, vIF ? host2.mem.i32[fl >>> 2] | FLAG_IF : host2.mem.i32[fl >>> 2] & ~FLAG_IF);
  if (vector === UPCALL_VECTOR || (d.trapFlags[vector] & MASK_EVENTS) !== 0) setUpcallMask(d, k, true);
  host2.charge(d, Ev.PvBounce, 1);
  if (!folded) cpu.charge(Ev.InterceptReturn, 1);
  return true;
}
function bounceException(host2, d, pv, vector, error, kind) {
  const cpu = host2.cpu;
  const stats = d.domain.stats;
  stats.traps[vector]++;
  if (stats.trace !== null) stats.trace.record(1 /* Trap */, stats.traceDom, vector, 0);
  if (kind === 2 /* Software */) {
    const dpl = d.trapFlags[vector] & DPL_MASK;
    if (d.trapAddress[vector] === 0 || cpu.cpl > dpl) {
      cpu.pc = cpu.exitInsnPc;
      return bounceException(host2, d, pv, 13, vector * 8 + 2, 0 /* Fault */);
    }
  }
  if (vector === 14) host2.mem.write32(vcpuInfoAddr(d, pv.vcpu.id) + 8 /* CR2 */, cpu.cr2);
  d.stats.bounced[vector]++;
  d.domain.stats.reflected[vector]++;
  return bounce(host2, d, pv, vector, error, kind);
}
function deliverUpcall(host2, d, pv) {
  if (d.eventCallback === 0) return true;
  d.stats.upcalls++;
  const stats = d.domain.stats;
  if (stats.trace !== null) stats.trace.record(4 /* Interrupt */, stats.traceDom, -1, 0);
  const folded = pv.inHypercallReturn;
  if (folded) d.stats.foldedUpcalls++;
  else host2.cpu.charge(Ev.TrapDelivery, 1);
  return bounce(host2, d, pv, UPCALL_VECTOR, 0, 3 /* External */, folded);
}

// hypervisor/pv/hypercalls.ts
var COUNT = 48 /* COUNT */;
var HV_BASE4 = 4290772992 /* BASE */;
var SELF3 = 32752 /* SELF */;
var CONSOLE_MAX = 4096;
var HypercallTable = class {
  entries = new Array(COUNT);
  /** Install a handler; a number may be taken once. */
  register(nr, name, handler) {
    if (!Number.isInteger(nr) || nr < 0 || nr >= COUNT) throw new RangeError(`hypercall number ${nr} is outside 0..${COUNT - 1}`);
    if (this.entries[nr]) throw new Error(`hypercall ${nr} is already '${this.entries[nr].name}'`);
    this.entries[nr] = { name, handler };
  }
  name(nr) {
    return nr >>> 0 < COUNT ? this.entries[nr]?.name ?? `hypercall_${nr}` : `hypercall_${nr >>> 0}`;
  }
  /**
   * Run hypercall nr; ENOSYS for a number nobody registered. A handler that throws (an
   * experiment's bug, or a hypervisor invariant it broke) crashes the calling domain, with a
   * message naming the hypercall, instead of the host: other domains go on. The guest never sees
   * the result (EFAULT), its domain is stopped. A try block with nothing thrown costs nothing on
   * the fast path.
   */
  dispatch(ctx, nr, a1, a2, a3, a4, a5) {
    const e = nr >>> 0 < COUNT ? this.entries[nr] : void 0;
    if (!e) return -38 /* ENOSYS */;
    try {
      return e.handler(ctx, a1, a2, a3, a4, a5);
    } catch (err) {
      const what = err instanceof Error ? err.message : String(err);
      ctx.preempted = false;
      ctx.crash(`hypercall ${nr} '${e.name}' failed in the hypervisor: ${what}`);
      return -14 /* EFAULT */;
    }
  }
};
function stackSwitch(ctx, sp) {
  if (sp >>> 0 >= HV_BASE4 >>> 0) return -1 /* EPERM */;
  if ((sp & 3) !== 0) return -22 /* EINVAL */;
  ctx.host.cpu.ksp[1] = sp;
  ctx.charge(Ev.DescriptorLoad, 1);
  return 0;
}
function schedOp(ctx, cmd, arg, arg2) {
  const d = ctx.d.domain;
  switch (cmd) {
    case 0 /* YIELD */:
      ctx.pv.yieldRequested = true;
      if (arg > 0) {
        const now = ctx.host.cpu.cycles;
        ctx.pv.spinYields++;
        ctx.pv.spinCycles += ctx.pv.ranSince(now - arg, now);
      }
      return 0;
    case 1 /* BLOCK */:
      setUpcallMask(ctx.d, ctx.vcpu.id, false);
      if (!upcallPending(ctx.d, ctx.vcpu.id)) ctx.pv.blockRequested = true;
      return 0;
    case 2 /* SHUTDOWN */:
      switch (arg) {
        case 0 /* POWEROFF */:
          d.shutdown("poweroff", arg2);
          return 0;
        case 1 /* REBOOT */:
          d.shutdown("poweroff", arg2, REBOOT_DETAIL);
          return 0;
        case 2 /* SUSPEND */:
          d.shutdown("poweroff", arg2, "suspend requested");
          return 0;
        case 3 /* CRASH */:
          d.shutdown("crashed", arg2, "the guest reported a crash");
          return 0;
        default:
          return -22 /* EINVAL */;
      }
    default:
      return -22 /* EINVAL */;
  }
}
function currentReservation(d) {
  let n = 0;
  const p2m = d.domain.p2m;
  for (let k = 0; k < p2m.length; k++) if (p2m[k] >= 0) n++;
  return n;
}
function memoryOp(ctx, cmd, arg) {
  const d = ctx.d;
  const host2 = ctx.host;
  const p2m = d.domain.p2m;
  if (cmd === 2 /* CURRENT_RESERVATION */) return currentReservation(d);
  if (cmd === 3 /* MAXIMUM_RESERVATION */) return p2m.length;
  if (cmd !== 0 /* INCREASE_RESERVATION */ && cmd !== 1 /* DECREASE_RESERVATION */) return -22 /* EINVAL */;
  const list = ctx.r32(arg + 0 /* EXTENT_START */);
  const nr = ctx.r32(arg + 4 /* NR_EXTENTS */);
  const order = ctx.r32(arg + 8 /* EXTENT_ORDER */);
  const dom = ctx.r32(arg + 12 /* DOMID */);
  if (ctx.faulted()) return -14 /* EFAULT */;
  if (dom !== SELF3 && dom !== d.id) return -1 /* EPERM */;
  if (order !== 0 || nr < 0) return -22 /* EINVAL */;
  if (nr > 1024) return -7 /* E2BIG */;
  const alloc = host2.platform.frames;
  const types = host2.types;
  let done = 0;
  if (cmd === 0 /* INCREASE_RESERVATION */) {
    let hole = 0;
    while (done < nr) {
      while (hole < p2m.length && p2m[hole] >= 0) hole++;
      if (hole === p2m.length || alloc.freeFrames === 0) break;
      if (ctx.gv.translate(ctx.cr3, list + done * 4, true) < 0) return done > 0 ? done : -14 /* EFAULT */;
      const f = alloc.alloc(d.id);
      host2.mem.fill(f * 4096, 4096, 0);
      types.clear(f);
      p2m[hole] = f;
      host2.setP2mSlot(f, hole);
      ctx.w32(list + done * 4, f);
      done++;
    }
    ctx.charge(Ev.PvRequest, done + 1);
    return done === 0 && nr > 0 ? -12 /* ENOMEM */ : done;
  }
  let r = 0;
  while (done < nr) {
    const f = ctx.r32(list + done * 4);
    if (ctx.faulted()) {
      r = -14 /* EFAULT */;
      break;
    }
    if (f < 0 || f >= types.frames) {
      r = -22 /* EINVAL */;
      break;
    }
    if (types.owner[f] !== d.id) {
      r = -1 /* EPERM */;
      break;
    }
    if (types.refCount[f] !== 0 || types.typeCount[f] !== 0) {
      r = -16 /* EBUSY */;
      break;
    }
    const pfn = host2.p2mSlot[f];
    if (pfn >= 0 && pfn < p2m.length && p2m[pfn] === f) p2m[pfn] = -1;
    host2.setP2mSlot(f, -1);
    types.clear(f);
    alloc.release(f, d.id);
    done++;
  }
  if (done > 0) host2.cpu.mmu.flushTlb();
  ctx.charge(Ev.PvRequest, done + 1);
  return done === 0 && r < 0 ? r : done;
}
function multicall(ctx, calls, count, table) {
  if (ctx.inMulticall) return -22 /* EINVAL */;
  if (count < 0) return -22 /* EINVAL */;
  if (count > 64 /* MAX_BATCH */) return -7 /* E2BIG */;
  ctx.inMulticall = true;
  let k = 0;
  try {
    for (; k < count; k++) {
      const e = calls + k * 28 /* BYTES */ | 0;
      if (k > 0 && ctx.preemptCheck()) {
        ctx.continue(e, count - k, 0, 0, 0);
        break;
      }
      const op = ctx.r32(e + 0 /* OP */);
      const a1 = ctx.r32(e + 8 /* ARG1 */);
      const a2 = ctx.r32(e + 12 /* ARG2 */);
      const a3 = ctx.r32(e + 16 /* ARG3 */);
      const a4 = ctx.r32(e + 20 /* ARG4 */);
      const a5 = ctx.r32(e + 24 /* ARG5 */);
      if (ctx.faulted()) return -14 /* EFAULT */;
      const result = table.dispatch(ctx, op, a1, a2, a3, a4, a5);
      if (ctx.preempted) {
        const c = ctx.contArgs;
        for (let j = 0; j < 5; j++) {
          if (!ctx.w32(e + 8 /* ARG1 */ + 4 * j, c[j])) {
            ctx.preempted = false;
            ctx.faulted();
            return -14 /* EFAULT */;
          }
        }
        ctx.continue(e, count - k, 0, 0, 0);
        break;
      }
      if (op >>> 0 < COUNT) ctx.d.stats.multicalled[op]++;
      if (result < 0 && op >>> 0 < COUNT) ctx.d.stats.failed[op]++;
      if (!ctx.w32(e + 4 /* RESULT */, result)) return -14 /* EFAULT */;
      if (ctx.d.domain.stopped) break;
    }
    ctx.charge(Ev.PvRequest, ctx.preempted ? k : count);
    return 0;
  } finally {
    ctx.inMulticall = false;
  }
}
var EXTRAVERSION = "-xenolith";
var CAPABILITIES = "xl32-pv ring1 evtchn gnttab blkif";
function putString(ctx, buf, s, max) {
  const bytes = new Uint8Array(Math.min(s.length, max - 1) + 1);
  for (let k = 0; k < bytes.length - 1; k++) bytes[k] = s.charCodeAt(k);
  return ctx.gv.writeBytes(ctx.cr3, buf, bytes) ? 0 : (ctx.faulted(), -14 /* EFAULT */);
}
var XV_VERSION = 0 /* VERSION */;
var XV_EXTRAVERSION = 1 /* EXTRAVERSION */;
var XV_CAPABILITIES = 2 /* CAPABILITIES */;
var VERSION_PACKED = 65536 /* PACKED */;
function xenVersion(ctx, cmd, buf) {
  switch (cmd) {
    case XV_VERSION:
      return VERSION_PACKED;
    case XV_EXTRAVERSION:
      return putString(ctx, buf, EXTRAVERSION, 16);
    case XV_CAPABILITIES:
      return putString(ctx, buf, CAPABILITIES, 64);
    default:
      return -22 /* EINVAL */;
  }
}
function consoleIo(ctx, cmd, count, buf) {
  if (count < 0 || count > CONSOLE_MAX) return -22 /* EINVAL */;
  const d = ctx.d;
  if (cmd === 0 /* WRITE */) {
    const bytes = ctx.gv.readBytes(ctx.cr3, buf, count);
    if (!bytes) {
      ctx.faulted();
      return -14 /* EFAULT */;
    }
    for (const b of bytes) d.domain.emitConsole(b);
    return count;
  }
  if (cmd === 1 /* READ */) {
    const n = Math.min(count, d.consoleIn.length);
    if (n === 0) return 0;
    if (!ctx.gv.writeBytes(ctx.cr3, buf, d.consoleIn.peek(n))) {
      ctx.faulted();
      return -14 /* EFAULT */;
    }
    d.consoleIn.drop(n);
    return n;
  }
  return -22 /* EINVAL */;
}
function feedConsole(d, input) {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  if (bytes.length === 0) return;
  if (d.console) {
    d.console.feed(bytes);
    return;
  }
  d.consoleIn.push(bytes);
  sendVirq(d, 2 /* CONSOLE */);
}
function vcpuOp(ctx, cmd, vcpuId, arg) {
  const d = ctx.d;
  const pv = d.vcpus[vcpuId];
  if (vcpuId < 0 || !pv) return -2 /* ENOENT */;
  const host2 = ctx.host;
  switch (cmd) {
    case 0 /* IS_UP */:
      return pv.vcpu.runState === "stopped" || !pv.online ? 0 : 1;
    case 1 /* GET_RUNSTATE_INFO */: {
      const now = host2.cpu.cycles;
      const ns = (c) => systemTimeNs(host2, c);
      const running = pv.vcpu.runCycles;
      const blocked = pv.blockedCycles + (pv.blockedSince >= 0 ? now - pv.blockedSince : 0);
      const offline = pv.offlineCycles + (pv.offlineSince >= 0 ? now - pv.offlineSince : 0);
      const runnable = Math.max(0, now - pv.createdAt - running - blocked - offline);
      const state = pv === ctx.pv ? 0 /* RUNNING */ : !pv.online ? 3 /* OFFLINE */ : runStateNumber(host2.platform.vcpuRunstate(pv.vcpu));
      const entry = ns(now + d.tscOffset);
      const words = [state, 0, entry % 2 ** 32, Math.floor(entry / 2 ** 32)];
      for (const c of [running, runnable, blocked, offline]) words.push(ns(c) % 2 ** 32, Math.floor(ns(c) / 2 ** 32));
      if (ctx.gv.translate(ctx.cr3, arg, true) < 0 || ctx.gv.translate(ctx.cr3, arg + 48 /* BYTES */ - 1, true) < 0) return -14 /* EFAULT */;
      for (let k = 0; k < words.length; k++) ctx.w32(arg + k * 4, words[k]);
      return ctx.faulted() ? -14 /* EFAULT */ : 0;
    }
    case 2 /* SET_PERIODIC_TIMER */:
      return setPeriodicTimer(host2, d, pv, arg >>> 0);
    case 3 /* STOP_PERIODIC_TIMER */:
      return setPeriodicTimer(host2, d, pv, 0);
    case 4 /* INITIALISE */:
      return vcpuInitialise(ctx, pv, arg);
    case 5 /* UP */:
      if (!pv.initialised) return -22 /* EINVAL */;
      if (pv.online || pv.vcpu.runState === "stopped") return 0;
      pv.online = true;
      pv.offlineCycles += host2.cpu.cycles - pv.offlineSince;
      pv.offlineSince = -1;
      host2.platform.wake(pv.vcpu);
      return 0;
    case 6 /* DOWN */:
      if (!pv.online) return 0;
      pv.online = false;
      pv.offlineSince = host2.cpu.cycles;
      if (pv === ctx.pv) pv.blockRequested = true;
      else if (pv.vcpu.runState === "runnable") host2.platform.block(pv.vcpu);
      return 0;
    default:
      return -22 /* EINVAL */;
  }
}
function vcpuInitialise(ctx, pv, arg) {
  if (pv.initialised) return -17 /* EEXIST */;
  const pc = ctx.r32(arg + 0 /* PC */);
  const sp = ctx.r32(arg + 4 /* SP */);
  const a1 = ctx.r32(arg + 8 /* ARG */);
  const base = ctx.r32(arg + 12 /* BASEPTR */);
  const ksp = ctx.r32(arg + 16 /* KERNEL_SP */);
  if (ctx.faulted()) return -14 /* EFAULT */;
  if (pc >>> 0 >= HV_BASE4 >>> 0 || sp >>> 0 >= HV_BASE4 >>> 0 || ksp >>> 0 >= HV_BASE4 >>> 0) return -1 /* EPERM */;
  if ((sp & 3) !== 0 || (ksp & 3) !== 0) return -22 /* EINVAL */;
  const types = ctx.host.types;
  if (base < 0 || base >= types.frames) return -22 /* EINVAL */;
  if (types.pinned[base] === 0 || types.type[base] !== 2 /* L2 */) return -22 /* EINVAL */;
  const r = types.getType(base, 2 /* L2 */, ctx.d.id);
  if (r < 0) return r;
  pv.baseptr = base;
  pv.initialised = true;
  const a = resetCpuState();
  a.pc = pc >>> 0;
  a.cpl = 1;
  a.flags = 512 /* IF */;
  a.cr0 = CR0_PG | CR0_WP;
  a.cr3 = base * 4096;
  a.idtBase = 4290772992 /* IDT */;
  a.idtLimit = 256;
  a.regs[1] = a1;
  a.regs[15] = sp;
  a.ksp[1] = ksp;
  pv.vcpu.arch = a;
  setUpcallMask(ctx.d, pv.vcpu.id, true);
  updateTime(ctx.host, ctx.d, pv.vcpu.id);
  ctx.charge(Ev.PvRequest, 1);
  return 0;
}
function standardHypercalls() {
  const t = new HypercallTable();
  t.register(0 /* SET_TRAP_TABLE */, "set_trap_table", (c, a1) => setTrapTable(c, a1));
  t.register(1 /* MMU_UPDATE */, "mmu_update", (c, a1, a2, a3) => mmuUpdate(c, a1, a2, a3));
  t.register(3 /* STACK_SWITCH */, "stack_switch", (c, a1) => stackSwitch(c, a1));
  t.register(4 /* SET_CALLBACKS */, "set_callbacks", (c, a1, a2) => setCallbacks(c, a1, a2));
  t.register(6 /* SCHED_OP */, "sched_op", (c, a1, a2, a3) => schedOp(c, a1, a2, a3));
  t.register(7 /* DOM0_OP */, "dom0_op", (c, a1, a2, a3, a4, a5) => dom0Op(c, a1, a2, a3, a4, a5));
  t.register(12 /* MEMORY_OP */, "memory_op", (c, a1, a2) => memoryOp(c, a1, a2));
  t.register(13 /* MULTICALL */, "multicall", (c, a1, a2) => multicall(c, a1, a2, t));
  t.register(14 /* UPDATE_VA_MAPPING */, "update_va_mapping", (c, a1, a2, a3) => updateVaMapping(c, a1, a2, a3));
  t.register(15 /* SET_TIMER_OP */, "set_timer_op", (c, a1, a2) => setTimerOp(c, a1, a2));
  t.register(16 /* EVENT_CHANNEL_OP */, "event_channel_op", (c, a1, a2) => eventChannelOp(c, a1, a2));
  t.register(17 /* XEN_VERSION */, "xen_version", (c, a1, a2) => xenVersion(c, a1, a2));
  t.register(18 /* CONSOLE_IO */, "console_io", (c, a1, a2, a3) => consoleIo(c, a1, a2, a3));
  t.register(20 /* GRANT_TABLE_OP */, "grant_table_op", (c, a1, a2, a3) => grantTableOp(c, a1, a2, a3));
  t.register(24 /* VCPU_OP */, "vcpu_op", (c, a1, a2, a3) => vcpuOp(c, a1, a2, a3));
  t.register(26 /* MMUEXT_OP */, "mmuext_op", (c, a1, a2, a3) => mmuextOp(c, a1, a2, a3));
  return t;
}

// hypervisor/pv/builder.ts
var PAGE6 = 4096;
var PTE_P10 = 1;
var PTE_W8 = 2;
var PTE_A7 = 32;
var PTE_D6 = 64;
var START_INFO = 4096 /* START_INFO */;
var SHARED_INFO_VA = 8192 /* SHARED_INFO */;
var CONSOLE_RING = 16384 /* CONSOLE_RING */;
var KERNEL_MIN2 = 65536 /* KERNEL_MIN */;
var PvBuildError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "PvBuildError";
  }
};
var pageUp2 = (n) => Math.ceil(n / PAGE6) * PAGE6;
function imageEnd(kernel) {
  return pageUp2(Math.max(KERNEL_MIN2, ...kernel.segments.map((s) => s.paddr + s.memBytes)));
}
function layoutPages(kernel, initrdBytes, n) {
  const p2mList = pageUp2(imageEnd(kernel) + initrdBytes);
  const ptFirst = pageUp2(p2mList + n * 4) / PAGE6;
  return ptFirst + 1 + Math.ceil(n / 1024) + 1;
}
function leastPvDomainPages(kernel, initrdBytes) {
  let n = 1;
  for (let need = layoutPages(kernel, initrdBytes, n); need > n; need = layoutPages(kernel, initrdBytes, n)) n = need;
  return n;
}
function sizeText(bytes) {
  const kib = Math.ceil(bytes / 1024);
  const mib = Math.ceil(kib / 1024 * 100) / 100;
  return `${kib} KiB (${mib.toFixed(2)} MiB, rounded up)`;
}
function buildPvDomain(d, boot) {
  const host2 = d.host;
  const domain = d.domain;
  const mem = host2.mem;
  const kernel = boot.kernel;
  if (kernel.arch !== 2 /* Pv */ && kernel.arch !== 0 /* Bare */) {
    throw new PvBuildError(`a pv domain boots a kernel built with --arch pv (this image is '${ARCH_NAMES[kernel.arch] ?? kernel.arch}')`);
  }
  const n = domain.p2m.length;
  const memBytes = n * PAGE6;
  if (memBytes > 4290772992 /* BASE */ >>> 0 || n > 1024 * 255) {
    throw new PvBuildError(`a pv domain has at most 1020 MiB (the top 4 MiB of its address space are the hypervisor's)`);
  }
  for (const seg of kernel.segments) {
    if (seg.vaddr !== seg.paddr) throw new PvBuildError(`segment at 0x${seg.vaddr.toString(16)} is not linked at its physical address`);
    if (seg.paddr < KERNEL_MIN2) {
      throw new PvBuildError(`segment 0x${seg.paddr.toString(16)}..0x${(seg.paddr + seg.memBytes).toString(16)} starts below 0x${KERNEL_MIN2.toString(16)} (the boot pages are there)`);
    }
  }
  const initrdLength = boot.initrd?.length ?? 0;
  if (layoutPages(kernel, initrdLength, n) > n) {
    const least = leastPvDomainPages(kernel, initrdLength);
    throw new PvBuildError(
      `the domain's ${memBytes >> 10} KiB cannot hold the kernel, initrd and boot layout: they need at least ${sizeText(least * PAGE6)}`
    );
  }
  const p2m = domain.p2m;
  for (let k = 0; k < n; k++) host2.setP2mSlot(p2m[k], k);
  const kernelEnd = imageEnd(kernel);
  const initrdBytes = initrdLength;
  const initrdAddr = initrdBytes > 0 ? kernelEnd : 0;
  const p2mList = pageUp2(kernelEnd + initrdBytes);
  const ptFirst = pageUp2(p2mList + n * 4) / PAGE6;
  const nL1 = Math.ceil(n / 1024);
  const ptFrames = 1 + nL1;
  const stackPfn = ptFirst + ptFrames;
  const firstFree = stackPfn + 1;
  domain.memory.loadImage(kernel);
  if (initrdBytes > 0) domain.memory.writeBytes(initrdAddr, boot.initrd);
  const list = new Uint8Array(n * 4);
  const lv = new DataView(list.buffer);
  for (let k = 0; k < n; k++) lv.setUint32(k * 4, p2m[k], true);
  domain.memory.writeBytes(p2mList, list);
  const consoleFrame = p2m[CONSOLE_RING / PAGE6];
  const cons = new ConsBack(d, consoleFrame);
  d.console = cons;
  const consolePort = cons.port;
  if (domain.config.disk && domain.config.disk.length > 0) {
    const blk = new BlkBack(d, domain.config.disk);
    d.blk = blk;
  }
  if (domain.config.onTransmit) d.net = new NetBack(d, domain.config.onTransmit);
  const mac = domain.config.mac ?? macToBytes(NIC_DEFAULT_MAC);
  const blkSectors = domain.config.disk ? Math.floor(domain.config.disk.length / 512) : 0;
  const si = new DataView(new ArrayBuffer(PAGE6));
  const u32 = (off, v) => si.setUint32(off, v >>> 0, true);
  u32(0 /* MAGIC */, 1230195800 /* VALUE */);
  u32(4 /* VERSION */, 1 /* VERSION */);
  u32(8 /* NR_PAGES */, n);
  u32(12 /* SHARED_INFO */, SHARED_INFO_VA);
  u32(16 /* SHARED_INFO_MFN */, d.sharedInfoMfn);
  u32(20 /* FLAGS */, d.privileged ? 1 /* PRIVILEGED */ | 2 /* INITDOMAIN */ : 0);
  u32(24 /* DOMID */, d.id);
  u32(28 /* CONSOLE_EVTCHN */, consolePort);
  u32(32 /* PT_BASE */, ptFirst * PAGE6);
  u32(36 /* NR_PT_FRAMES */, ptFrames);
  u32(40 /* PT_FIRST_PFN */, ptFirst);
  u32(44 /* MFN_LIST */, p2mList);
  u32(48 /* MOD_START */, initrdAddr);
  u32(52 /* MOD_LEN */, initrdBytes);
  u32(56 /* FIRST_FREE_PFN */, firstFree);
  u32(60 /* BLK_EVTCHN */, d.blk ? d.blk.port : -1);
  u32(64 /* BLK_SECTORS */, blkSectors);
  u32(76 /* NET_EVTCHN */, d.net ? d.net.port : -1);
  u32(80 /* NET_MAC_HI */, mac[0] << 8 | mac[1]);
  u32(84 /* NET_MAC_LO */, (mac[2] << 24 | mac[3] << 16 | mac[4] << 8 | mac[5]) >>> 0);
  u32(92 /* NET_IP */, domain.config.ip ?? 0);
  u32(88 /* NET_RX_MODE */, domain.config.netRx === "flip" ? 1 /* FLIP */ : 0 /* COPY */);
  u32(68 /* CPU_MHZ */, host2.platform.profile.clockMHz);
  u32(96 /* NR_VCPUS */, domain.vcpus.length);
  u32(72 /* CONSOLE_MFN */, consoleFrame);
  const cmd = new TextEncoder().encode(boot.cmdline ?? "");
  if (cmd.length >= 1024 /* CMDLINE_BYTES */) throw new PvBuildError(`the command line is longer than ${1024 /* CMDLINE_BYTES */ - 1} bytes`);
  new Uint8Array(si.buffer).set(cmd, 128 /* CMDLINE */);
  domain.memory.writeBytes(START_INFO, new Uint8Array(si.buffer));
  d.startInfoPfn = START_INFO / PAGE6;
  const l2 = p2m[ptFirst];
  const isPt = (pfn) => pfn >= ptFirst && pfn < ptFirst + ptFrames;
  for (let t = 0; t < nL1; t++) {
    const l1 = p2m[ptFirst + 1 + t];
    mem.write32(l2 * PAGE6 + t * 4, l1 * PAGE6 | PTE_P10 | PTE_W8 | PTE_A7);
    for (let k = 0; k < 1024; k++) {
      const pfn = t * 1024 + k;
      if (pfn === 0 || pfn >= n) continue;
      const frame = pfn * PAGE6 === SHARED_INFO_VA ? d.sharedInfoMfn : p2m[pfn];
      const rw = isPt(pfn) ? 0 : PTE_W8 | PTE_D6;
      mem.write32(l1 * PAGE6 + k * 4, frame * PAGE6 | PTE_P10 | PTE_A7 | rw);
    }
  }
  const types = host2.types;
  let r = types.getType(l2, 2 /* L2 */, d.id);
  if (r < 0) throw new Error(`pv builder: the bootstrap page tables do not validate (${r})`);
  types.pinned[l2] = 1;
  r = types.getType(l2, 2 /* L2 */, d.id);
  if (r < 0) throw new Error(`pv builder: cannot load the bootstrap directory (${r})`);
  const pv = d.vcpus[0];
  pv.baseptr = l2;
  pv.createdAt = host2.cpu.cycles;
  mem.fill(d.sharedInfo, PAGE6, 0);
  setUpcallMask(d, 0, true);
  updateTime(host2, d, 0);
  writeIdt(host2, d);
  if (domain.config.input) feedConsole(d, domain.config.input);
  const vcpu = domain.vcpus[0];
  const arch = resetCpuState();
  arch.pc = kernel.entry >>> 0;
  arch.cpl = 1;
  arch.flags = 512 /* IF */;
  arch.cr0 = CR0_PG | CR0_WP;
  arch.cr3 = l2 * PAGE6;
  arch.idtBase = 4290772992 /* IDT */;
  arch.idtLimit = 256;
  arch.regs[1] = START_INFO;
  arch.regs[2] = SHARED_INFO_VA;
  arch.regs[15] = (stackPfn + 1) * PAGE6;
  vcpu.arch = arch;
  domain.symbols = kernel.symbols;
  return {
    nrPages: n,
    kernelEnd,
    initrdAddr,
    initrdBytes,
    p2mList,
    ptFirstPfn: ptFirst,
    ptFrames,
    stackTop: (stackPfn + 1) * PAGE6,
    firstFreePfn: firstFree
  };
}

// hypervisor/pv/mode.ts
var GP = 13;
var MAX_VCPUS = 4 /* MAX_VCPUS */;
var VCPU_ID_WORD = 4290775040 /* VCPU_ID */ - 4290772992 /* IDT */ >>> 2;
var PvMode = class {
  name = "pv";
  /** the hypercall table (add experiments with table.register) */
  table;
  hv;
  host;
  ctx;
  /** boot layouts by domain id (for tools and tests) */
  layouts = /* @__PURE__ */ new Map();
  /** the first domain took the control-domain role */
  controlDomainMade = false;
  /** the bound on one hypercall entry's host work (context.ts WORK_PER_STEP) */
  workPerStep;
  constructor(opts = {}) {
    this.table = opts.table ?? standardHypercalls();
    this.workPerStep = opts.workPerStep ?? WORK_PER_STEP;
  }
  attach(hv) {
    this.hv = hv;
    this.host = new PvHost(hv);
    this.ctx = new HcCtx(this.host, this.workPerStep);
  }
  /** The PV state of a domain run by this mode. */
  pv(domain) {
    return pvDomain(domain);
  }
  createDomain(domain) {
    if (domain.vcpus.length > MAX_VCPUS) {
      throw new DomainCreateError(`domain '${domain.name}': a pv domain has at most ${MAX_VCPUS} vCPUs (the shared-info page's vcpu_info slots; got ${domain.vcpus.length})`);
    }
    const d = new PvDomain(this.host, domain);
    for (const pv of d.vcpus) {
      if (pv.vcpu.id === 0) continue;
      pv.online = false;
      pv.initialised = false;
      pv.createdAt = pv.offlineSince = this.hv.cpu.cycles;
      pv.vcpu.runState = "blocked";
    }
    d.privileged = !this.controlDomainMade;
    this.controlDomainMade = true;
    domain.modeState = d;
    this.host.initDomain(d);
  }
  build(domain, boot) {
    const spec2 = "image" in boot ? { kernel: boot.image } : boot;
    const d = this.pv(domain);
    this.layouts.set(domain.id, buildPvDomain(d, spec2));
  }
  load(vcpu) {
    const cpu = this.hv.cpu;
    const d = this.pv(vcpu.domain);
    cpu.hypercallExits = true;
    cpu.interceptExternalInterrupts = false;
    cpu.interceptVector.fill(1);
    cpu.interceptVector[SYSCALL_VECTOR] = syscallFastPath(d) ? 0 : 1;
    cpu.tscOffset = d.tscOffset;
    this.hv.mem.i32[(d.idtMfn << 10) + VCPU_ID_WORD] = vcpu.id;
    updateTime(this.host, d, vcpu.id);
  }
  unload(_vcpu) {
    const cpu = this.hv.cpu;
    cpu.hypercallExits = false;
    cpu.interceptVector.fill(0);
    cpu.tscOffset = 0;
  }
  runstateChanged(domain) {
    const d = domain.modeState;
    if (d instanceof PvDomain) publishRunstate(this.host, d);
  }
  hasPendingEvent(vcpu) {
    const d = vcpu.domain.modeState;
    return d instanceof PvDomain && d.vcpus[vcpu.id].online && upcallPending(d, vcpu.id);
  }
  runVcpu(vcpu, deadline) {
    const pv = this.pv(vcpu.domain).vcpus[vcpu.id];
    const start = this.hv.cpu.cycles;
    pv.runningSince = start;
    publishRunstate(this.host, this.pv(vcpu.domain));
    const exit = this.runStretch(vcpu, deadline);
    const k = pv.stretchNext;
    pv.stretchStart[k] = start;
    pv.stretchEnd[k] = this.hv.cpu.cycles;
    pv.stretchNext = (k + 1) % STRETCHES;
    pv.runningSince = this.hv.cpu.cycles;
    return exit;
  }
  runStretch(vcpu, deadline) {
    const cpu = this.hv.cpu;
    const events = this.hv.events;
    const host2 = this.host;
    const d = this.pv(vcpu.domain);
    const pv = d.vcpus[vcpu.id];
    const stats = vcpu.domain.stats;
    const exit = vcpu.exit;
    if (pv.blockedSince >= 0) {
      pv.blockedCycles += cpu.cycles - pv.blockedSince;
      pv.blockedSince = -1;
    }
    let entered = !pv.hostSliced;
    pv.hostSliced = false;
    if (entered && !vcpu.domain.stopped) updateTime(host2, d, vcpu.id);
    for (; ; ) {
      if (vcpu.domain.stopped) return this.stopped(vcpu);
      if (entered && upcallPending(d, vcpu.id) && !upcallMasked(d, vcpu.id) && d.eventCallback !== 0) {
        if (!deliverUpcall(host2, d, pv)) return this.stopped(vcpu);
      }
      const stop = Math.min(deadline, events.nextDeadline());
      if (cpu.cycles >= stop) {
        pv.hostSliced = !entered;
        return deadlineExit(exit);
      }
      pv.inHypercallReturn = false;
      const x = cpu.run(stop);
      countExit(stats, x);
      entered = !(x === 258 /* Stopped */ && this.hv.beforeGuestDeadline() || x === 256 /* Deadline */ && this.hv.slicedByHost());
      if (this.handleCpuExit(vcpu, d, pv, x) === TO_LOOP) {
        if (x === 258 /* Stopped */) pv.hostSliced = !entered;
        return exit;
      }
    }
  }
  /** One CPU exit, by reason: a hypercall, an intercepted exception, the deadline or a stop request. */
  handleCpuExit(vcpu, d, pv, x) {
    const cpu = this.hv.cpu;
    const host2 = this.host;
    const exit = vcpu.exit;
    switch (x) {
      case 18 /* Hypercall */:
        return this.hypercallExit(vcpu, d, pv);
      case 0 /* Exception */:
        if (!bounceException(host2, d, pv, cpu.exitVector, cpu.exitError, cpu.exitKind)) return this.stop(vcpu);
        return CONTINUE;
      case 256 /* Deadline */:
        return CONTINUE;
      case 258 /* Stopped */:
        hostStopExit(exit);
        return TO_LOOP;
      case 2 /* TripleFault */:
        vcpu.domain.shutdown("triple-fault", 0, `triple fault at pc ${hex(cpu.pc)}`);
        return this.stop(vcpu);
      default:
        crashOnUnexpectedExit(vcpu.domain, "pv", x, cpu.pc);
        return this.stop(vcpu);
    }
  }
  /** A HYPERCALL exit: dispatch through the table, return to the guest, block or yield as it asked. */
  hypercallExit(vcpu, d, pv) {
    const cpu = this.hv.cpu;
    const host2 = this.host;
    const stats = vcpu.domain.stats;
    const exit = vcpu.exit;
    const hcEntry = this.hv.profile.hypercallEntry;
    if (cpu.cpl === 3) {
      cpu.pc = cpu.exitInsnPc;
      bounceException(host2, d, pv, GP, 0, 0 /* Fault */);
      return CONTINUE;
    }
    const regs = cpu.regs;
    const nr = regs[0];
    const c0 = cpu.cycles - hcEntry;
    const ctx = this.ctx;
    ctx.enter(d, pv);
    host2.charge(d, Ev.PvDispatch, 1);
    const r = this.table.dispatch(ctx, nr, regs[1], regs[2], regs[3], regs[4], regs[5]);
    const slot = nr >>> 0 < HYPERCALL_SLOTS ? nr : HYPERCALL_SLOTS - 1;
    stats.hypercalls[slot]++;
    const work = ctx.work;
    if (work > d.stats.maxStepWork) d.stats.maxStepWork = work;
    if (vcpu.domain.stopped) {
      if (r < 0) d.stats.failed[slot]++;
      stats.hypercallCycles[slot] += cpu.cycles - c0;
      if (stats.trace !== null) stats.trace.recordAt(2 /* Hypercall */, c0, stats.traceDom, nr, cpu.cycles - c0);
      return this.stop(vcpu);
    }
    if (ctx.preempted) {
      d.stats.continuations++;
      const a = ctx.contArgs;
      for (let j = 0; j < 5; j++) regs[j + 1] = a[j];
      cpu.pc = cpu.exitInsnPc;
      cpu.hypercallReturn(nr);
      pv.inHypercallReturn = true;
      stats.hypercallCycles[slot] += cpu.cycles - c0;
      if (stats.trace !== null) stats.trace.recordAt(2 /* Hypercall */, c0, stats.traceDom, nr, cpu.cycles - c0);
      return CONTINUE;
    }
    if (r < 0) d.stats.failed[slot]++;
    cpu.hypercallReturn(r);
    pv.inHypercallReturn = true;
    stats.hypercallCycles[slot] += cpu.cycles - c0;
    if (stats.trace !== null) stats.trace.recordAt(2 /* Hypercall */, c0, stats.traceDom, nr, cpu.cycles - c0);
    if (pv.blockRequested) {
      pv.blockRequested = false;
      if (!pv.online || !upcallPending(d, vcpu.id)) {
        pv.blockedSince = cpu.cycles;
        exit.reason = "hlt";
        return TO_LOOP;
      }
    }
    if (pv.yieldRequested) {
      pv.yieldRequested = false;
      this.hv.yieldVcpu(vcpu);
      deadlineExit(exit).yielded = true;
      return TO_LOOP;
    }
    return CONTINUE;
  }
  /**
   * Make hypercall nr on behalf of a vCPU that is on the real CPU, as if it had executed HYPERCALL
   * (tools, the monitor and tests; the guest's registers are not touched). Returns the result.
   */
  hypercall(vcpu, nr, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0) {
    if (!vcpu.loaded) throw new Error(`PvMode.hypercall: ${vcpu.label} is not on the CPU`);
    const d = this.pv(vcpu.domain);
    const ctx = this.ctx;
    ctx.enter(d, d.vcpus[vcpu.id]);
    let r = this.table.dispatch(ctx, nr, a1 | 0, a2 | 0, a3 | 0, a4 | 0, a5 | 0);
    while (ctx.preempted && !vcpu.domain.stopped) {
      d.stats.continuations++;
      const c = ctx.contArgs;
      const [b1, b2, b3, b4, b5] = [c[0], c[1], c[2], c[3], c[4]];
      ctx.enter(d, d.vcpus[vcpu.id]);
      r = this.table.dispatch(ctx, nr, b1, b2, b3, b4, b5);
    }
    const slot = nr >>> 0 < HYPERCALL_SLOTS ? nr : HYPERCALL_SLOTS - 1;
    const stats = vcpu.domain.stats;
    stats.hypercalls[slot]++;
    if (stats.trace !== null) stats.trace.record(2 /* Hypercall */, stats.traceDom, nr, 0);
    if (r < 0) d.stats.failed[slot]++;
    return r;
  }
  /** The domain stopped: fill vcpu.exit with it (to return to the outer loop). */
  stop(vcpu) {
    this.stopped(vcpu);
    return TO_LOOP;
  }
  stopped(vcpu) {
    const exit = vcpu.exit;
    const dom = vcpu.domain;
    const d = dom.modeState;
    if (d instanceof PvDomain) d.console?.drain();
    exit.reason = dom.stopReason === "poweroff" || dom.stopReason === "destroyed" ? "shutdown" : "crash";
    exit.detail = dom.stopDetail;
    return exit;
  }
  /**
   * Tear a domain down: timers, back ends, ports, the grants it mapped, its page tables' type
   * references; frames another domain still maps through a grant stay alive (held by the
   * hypervisor) until unmapped; everything else goes back to the core with the domain.
   */
  destroyDomain(domain) {
    const d = domain.modeState;
    if (!(d instanceof PvDomain)) return;
    const host2 = this.host;
    const types = host2.types;
    for (const pv of d.vcpus) stopTimers(host2, pv);
    d.blk?.destroy();
    d.blk = null;
    d.net?.destroy();
    d.net = null;
    d.console?.destroy();
    d.console = null;
    closeAll(d);
    unmapAll(host2, d);
    const owner = host2.platform.frames.owner;
    for (let f = 0; f < owner.length; f++) if (owner[f] === d.id && types.partial[f] !== 0) types.abortPartial(f, d.id);
    for (const pv of d.vcpus) {
      pv.pendingRelease = -1;
      if (pv.baseptr >= 0) types.putType(pv.baseptr, d.id);
      pv.baseptr = -1;
    }
    for (let f = 0; f < owner.length; f++) {
      if (owner[f] === d.id && types.pinned[f] !== 0) {
        types.pinned[f] = 0;
        types.putType(f, d.id);
      }
    }
    for (let f = 0; f < owner.length; f++) {
      if (owner[f] !== d.id) continue;
      host2.setP2mSlot(f, -1);
      if (types.refCount[f] > 0) {
        owner[f] = OWNER_HYPERVISOR;
        host2.zombies.add(f);
      } else {
        types.clear(f);
      }
    }
    host2.cpu.mmu.flushTlb();
    host2.releaseDomain(d);
    this.layouts.delete(domain.id);
  }
};

// hypervisor/pv/system.ts
var PV_RESERVE_BYTES = 8 * 1024 * 1024;
function createPvSystem(opts) {
  const memoryBytes = opts.memoryBytes ?? 32 * 1024 * 1024;
  const reserve = checkGuestMemory(memoryBytes, () => PV_RESERVE_BYTES, "pv", "its own data (the frame table, the shared pages, the I/O rings)");
  const hvOpts = { memoryBytes: memoryBytes + reserve };
  if (opts.pcpus !== void 0) hvOpts.pcpus = opts.pcpus;
  if (opts.makeScheduler !== void 0) hvOpts.makeScheduler = opts.makeScheduler;
  if (opts.profile !== void 0) hvOpts.profile = opts.profile;
  if (opts.engine !== void 0) hvOpts.engine = opts.engine;
  if (opts.scheduler !== void 0) hvOpts.scheduler = opts.scheduler;
  const hv = new Hypervisor(hvOpts);
  const mode2 = new PvMode(opts.table ? { table: opts.table } : {});
  const config = { name: "pv", memoryBytes, devices: false };
  if (opts.vcpus !== void 0 && opts.vcpus !== 1) config.vcpus = opts.vcpus;
  if (opts.input !== void 0) config.input = opts.input;
  if (opts.disk !== void 0) config.disk = opts.disk;
  if (opts.onOutput !== void 0) config.onOutput = opts.onOutput;
  if (opts.onTransmit !== void 0) config.onTransmit = opts.onTransmit;
  if (opts.netRx !== void 0) config.netRx = opts.netRx;
  if (opts.mac !== void 0) config.mac = opts.mac;
  if (opts.ip !== void 0) config.ip = opts.ip;
  const boot = { kernel: opts.kernel };
  if (opts.initrd !== void 0) boot.initrd = opts.initrd;
  if (opts.cmdline !== void 0) boot.cmdline = opts.cmdline;
  const domain = hv.createDomain(mode2, config, boot);
  return { hv, mode: mode2, domain };
}
function runPvMode(kernel, opts = {}) {
  const pvOpts = { kernel };
  for (const key of ["initrd", "cmdline", "memoryBytes", "input", "disk", "profile", "onOutput", "onTransmit", "netRx", "table", "engine", "vcpus"]) {
    if (opts[key] !== void 0) pvOpts[key] = opts[key];
  }
  if ((opts.vcpus ?? 1) > 1) Object.assign(pvOpts, smpHypervisorOptions(opts.vcpus, opts.smp));
  const { hv, mode: mode2, domain } = createPvSystem(pvOpts);
  opts.onCpu?.(hv.cpu);
  return { ...collectRun(hv, domain, hv.run({ maxCycles: opts.maxCycles ?? 2e9 })), mode: mode2 };
}

// hypervisor/hvm/ept.ts
var TABLE_SPAN = 1024 * PAGE_SIZE;
var ENTRY_PW = 1 /* P */ | 2 /* W */;
var FRAME_MASK = -4096 /* FRAME_MASK */;
function eptFramesFor(memoryBytes) {
  return 1 + Math.ceil(memoryBytes / TABLE_SPAN);
}
var Ept = class {
  constructor(hv, p2m) {
    this.hv = hv;
    const mem = hv.mem;
    const dirFrame = hv.allocHypervisorFrame();
    this.frames.push(dirFrame);
    this.root = dirFrame * PAGE_SIZE;
    try {
      let table = 0;
      let tableIndex = -1;
      for (let gfn = 0; gfn < p2m.length; gfn++) {
        const mfn = p2m[gfn];
        if (mfn < 0) continue;
        const dirIndex = gfn >>> 10;
        if (dirIndex !== tableIndex) {
          tableIndex = dirIndex;
          const f = hv.allocHypervisorFrame();
          this.frames.push(f);
          table = f * PAGE_SIZE;
          mem.write32(this.root + dirIndex * 4, (table | ENTRY_PW) >>> 0);
        }
        mem.write32(table + (gfn & 1023) * 4, (mfn << PAGE_SHIFT | ENTRY_PW) >>> 0);
      }
    } catch (e) {
      this.destroy();
      throw e;
    }
  }
  hv;
  /** machine address of the directory (the VMCS's eptRoot) */
  root;
  /** the machine frames of the directory and tables, directory first */
  frames = [];
  /** Second-stage tables (not counting the directory). */
  get tables() {
    return this.frames.length - 1;
  }
  /** The machine address guest-physical `gpa` maps to, or -1 (what the CPU's walk would find). */
  translate(gpa) {
    const mem = this.hv.mem;
    const pde = mem.read32(this.root + (gpa >>> 22) * 4);
    if ((pde & 1 /* P */) === 0) return -1;
    const pte = mem.read32(((pde & FRAME_MASK) >>> 0) + (gpa >>> 12 & 1023) * 4);
    if ((pte & 1 /* P */) === 0) return -1;
    return ((pte & FRAME_MASK) >>> 0) + (gpa & 4095);
  }
  /**
   * Log-dirty (hypervisor/core/log-dirty.ts LogDirtyStage): make guest frame gfn's second-stage
   * entry writable or read-only. The caller drops the TLB's write permissions after a batch
   * (INVEPT's role). False if gfn has no entry.
   */
  setWritable(gfn, writable) {
    const mem = this.hv.mem;
    const pde = mem.i32[(this.root >>> 2) + (gfn >>> 10)];
    if ((pde & 1 /* P */) === 0) return false;
    const at = ((pde & FRAME_MASK) >>> 0 >>> 2) + (gfn & 1023);
    const pte = mem.i32[at];
    if ((pte & 1 /* P */) === 0) return false;
    mem.i32[at] = writable ? pte | 2 /* W */ : pte & ~2 /* W */;
    return true;
  }
  /** Give every frame back to the machine. */
  destroy() {
    for (const f of this.frames) this.hv.releaseHypervisorFrame(f);
    this.frames.length = 0;
  }
};

// hypervisor/hvm/state.ts
var HvmDomainState = class {
  constructor(ept) {
    this.ept = ept;
  }
  ept;
};
var SHADOW_CR0_OWNED = CR0_PG | CR0_WP;
function hvmControls(vmcs, eptRoot) {
  vmcs.exitOnHlt = true;
  vmcs.exitOnIo = true;
  vmcs.crReadExits = 0;
  vmcs.crWriteExits = 0;
  vmcs.exitOnInvlpg = false;
  vmcs.exitOnRdtsc = false;
  vmcs.exceptionBitmap = 0;
  vmcs.exitOnExternalInterrupt = true;
  vmcs.interruptWindowExiting = false;
  vmcs.eptRoot = eptRoot;
  vmcs.tscOffset = 0;
  vmcs.injectVector = -1;
}
function shadowControls(vmcs) {
  vmcs.exitOnInvlpg = true;
  vmcs.crReadExits = 1 << 3;
  vmcs.crWriteExits = 1 << 3 | 1 << 0;
  vmcs.exceptionBitmap = 1 << 14 /* PageFault */;
  vmcs.cr0GuestHostMask = SHADOW_CR0_OWNED;
  vmcs.cr4GuestHostMask = 0;
  vmcs.eptRoot = -1;
}
var HvmShadow = class {
  /** the guest's CR0/CR3 (its other registers are real); the trap mode's shape, for the walker */
  v = new TrapVcpuState();
  walker;
  /** the flushing shadow (`--shadow flush`, one directory) or the caching one (`traced`, a directory per space) */
  shadow;
  constructor(hv, vcpu, kind = "flush") {
    this.walker = new GuestWalker(hv.mem, vcpu.domain.memory, this.v);
    const stats = vcpu.domain.stats;
    this.shadow = kind === "traced" ? new TracedShadowMmu(hv, hv.cpu, this.walker, this.v, stats) : new ShadowMmu(hv, hv.cpu, this.walker, stats);
  }
};
var HvmVcpu = class {
  constructor(vcpu, eptRoot, shadow = null) {
    this.vcpu = vcpu;
    hvmControls(this.vmcs, eptRoot);
    this.shadow = shadow;
    if (shadow) shadowControls(this.vmcs);
  }
  vcpu;
  /** this vCPU's control structure (one per vCPU, as VT-x has) */
  vmcs = new Vmcs();
  /** shadow paging's state, or null with a second stage */
  shadow;
};
function hvmVcpu(vcpu) {
  const h = vcpu.modeState;
  if (!(h instanceof HvmVcpu)) throw new Error(`vCPU ${vcpu.id} of domain '${vcpu.domain.name}' is not an hvm vCPU`);
  return h;
}

// hypervisor/hvm/mode.ts
var V_PF5 = 14 /* PageFault */;
var V_DF3 = 8 /* DoubleFault */;
var KIND_SOFTWARE2 = 2 /* Software */;
var KIND_TRAP2 = 1 /* Trap */;
var CR_MASK = 15 /* CR_MASK */;
var CR_READ = 16 /* READ */;
var CR_REG_SHIFT = 8 /* REG_SHIFT */;
var PAGE_MASK8 = -4096;
var F_IF5 = 512 /* IF */;
var V_UD3 = 6 /* InvalidOpcode */;
var OP_CPUID = 83 /* CPUID */;
var KIND_FAULT2 = 0 /* Fault */;
var KIND_EXTERNAL2 = 3 /* External */;
var Q_WRITE = 2 /* Write */;
var Q_FETCH = 4 /* Fetch */;
var CPUID_FEATURES_GUEST = CPUID_FEATURES_MACHINE & ~(2 /* NonRoot */ | 4 /* SecondStage */);
var HvmMode = class {
  name = "hvm";
  hv;
  cpu;
  requestedMmu;
  /** the shadow MMU's kind under `--mmu shadow` */
  shadowKind;
  /** the translation in use, decided when attached to a hypervisor (its profile) */
  mmu = "ept";
  /** the profile's clock (CPUID's answer); every cost is charged through the ledger's kinds (machine/ledger.ts) */
  clockMHz = 0;
  /** pause-loop exiting's fields, or null when it is off */
  ple;
  constructor(opts = {}) {
    this.requestedMmu = opts.mmu;
    this.shadowKind = opts.shadow ?? "flush";
    const ple = opts.ple;
    if (ple !== void 0 && !(Number.isInteger(ple.gap) && ple.gap >= 0 && Number.isInteger(ple.window) && ple.window >= 0)) {
      throw new RangeError(`hvm mode: PLE_Gap and PLE_Window are whole numbers of cycles, 0 or more (got ${ple.gap}, ${ple.window})`);
    }
    this.ple = ple === void 0 ? null : { gap: ple.gap, window: ple.window };
  }
  attach(hv) {
    this.hv = hv;
    this.cpu = hv.cpu;
    const p = hv.profile;
    this.mmu = hvmMmuFor(p, this.requestedMmu);
    if (this.mmu === "ept" && this.shadowKind !== "flush") {
      throw new Error(`hvm mode: a ${this.shadowKind} shadow needs shadow paging (--mmu shadow), not a second stage (profile ${p.name})`);
    }
    this.clockMHz = p.clockMHz;
  }
  /**
   * The second stage from the p2m (shared by the vCPUs, as one EPT serves every vCPU of a VM) or a
   * shadow MMU per vCPU, and a VMCS per vCPU. vCPUs other than 0 are down until the guest starts
   * them through its virtual local APIC (startVcpu).
   */
  createDomain(domain) {
    for (const v of domain.vcpus) {
      if (v.id === 0) continue;
      v.up = false;
      v.runState = "blocked";
    }
    if (this.mmu === "shadow") {
      domain.modeState = new HvmDomainState(null);
      for (const v of domain.vcpus) v.modeState = new HvmVcpu(v, -1, new HvmShadow(this.hv, v, this.shadowKind));
      this.setControls(domain);
      return;
    }
    const ept = new Ept(this.hv, domain.p2m);
    domain.modeState = new HvmDomainState(ept);
    domain.logDirtyStage = ept;
    for (const v of domain.vcpus) v.modeState = new HvmVcpu(v, ept.root);
    this.setControls(domain);
  }
  /**
   * The domain's VMCS controls. On a CPU with VPID (or ASID), each vCPU's translations are
   * tagged: vCPU k of domain d with (k << 20) | (d.id + 1) (vCPU 0: the domain's id + 1). Unique on
   * the CPU, since domain ids are never reused: the TLB keeps every tag's entries across world
   * switches (machine/mmu.ts), so two vCPUs - even of one domain, with their own CR3s - must never
   * share one. Pause-loop exiting if asked (--ple).
   */
  setControls(domain) {
    const ple = this.ple;
    if (ple !== null) {
      for (const v of domain.vcpus) {
        const vm = hvmVcpu(v).vmcs;
        vm.pauseLoopExiting = true;
        vm.pleGap = ple.gap;
        vm.pleWindow = ple.window;
      }
    }
    if (!this.hv.profile.vpid) return;
    for (const v of domain.vcpus) hvmVcpu(v).vmcs.vpid = (v.id << 20 | domain.id + 1) >>> 0;
  }
  /**
   * Load the guest. The bare machine's entry state (CPL 0, interrupts off, paging off, pc at the
   * entry) is the guest's real state in non-root mode: nothing to translate.
   */
  build(domain, boot) {
    const vcpu = domain.vcpus[0];
    loadBoot(domain, vcpu, boot);
    this.enterBootState(vcpu);
  }
  /** A secondary vCPU's start-up: the bare machine's (CPL 0, paging off, IF 0, pc, sp), in non-root mode as it is. */
  startVcpu(vcpu, pc, sp) {
    vcpu.arch = startupCpuState(pc, sp);
    this.enterBootState(vcpu);
  }
  /** The vCPU's arch holds the bare machine's entry state: with shadow paging, turn it into the virtual one. */
  enterBootState(vcpu) {
    const h = hvmVcpu(vcpu);
    const s = h.shadow;
    if (!s) return;
    const a = vcpu.arch;
    s.v.cr0 = a.cr0;
    s.v.cr3 = a.cr3;
    if (s.shadow.tablesInUse > 0) s.shadow.flush();
    h.vmcs.cr0ReadShadow = a.cr0 & SHADOW_CR0_OWNED;
    a.cr0 = a.cr0 & ~SHADOW_CR0_OWNED | SHADOW_CR0_OWNED;
    a.cr3 = s.shadow.root;
  }
  /** Make this vCPU's VMCS current; the root-mode intercept hooks are not used (the VMCS decides). */
  load(vcpu) {
    const cpu = this.cpu;
    cpu.vmcs = hvmVcpu(vcpu).vmcs;
    cpu.interceptVector.fill(0);
    cpu.interceptExternalInterrupts = false;
    cpu.hypercallExits = false;
  }
  /** A vCPU leaves the CPU in root mode: if it was preempted in non-root mode, that is an exit. */
  unload(vcpu) {
    if (this.cpu.nonRoot) this.preempt(hvmVcpu(vcpu));
  }
  /** A virtual interrupt the guest can take now (its own IF is 1). */
  hasPendingEvent(vcpu) {
    const pic = vcpu.domain.devices?.interruptController(vcpu.id);
    if (!pic || pic.pendingVector() < 0) return false;
    const flags = vcpu.loaded ? this.cpu.flags : vcpu.arch.flags;
    return (flags & F_IF5) !== 0;
  }
  destroyDomain(domain) {
    const s = domain.modeState;
    if (s instanceof HvmDomainState) s.ept?.destroy();
    for (const v of domain.vcpus) if (v.modeState instanceof HvmVcpu) v.modeState.shadow?.shadow.destroy();
  }
  // ================================================================================ KVM_RUN
  /*
   * Between calls the guest is either in root mode (after an exit: I/O, HLT) or still in non-root
   * mode (the run reached its deadline - the simulator's time slice, not a guest event, so no exit
   * is charged; the guest resumes with cpu.run). A device event that fired in between may have
   * raised a virtual interrupt: then the monitor needs the CPU back to inject it, as KVM kicks a
   * running vCPU with an IPI - an external-interrupt exit (preempt). Unless the interrupt window
   * is already armed: the guest will exit by itself when its IF becomes 1.
   */
  runVcpu(vcpu, deadline) {
    const h = hvmVcpu(vcpu);
    const cpu = this.cpu;
    const vm = h.vmcs;
    const exit = vcpu.exit;
    const dom = vcpu.domain;
    const stats = dom.stats;
    const pic = dom.devices ? dom.devices.interruptController(vcpu.id) : null;
    vcpu.completeIo(cpu.regs);
    for (; ; ) {
      if (dom.stopped) return stoppedExit(dom, exit);
      if (cpu.nonRoot) {
        if (pic !== null && !vm.interruptWindowExiting && pic.pendingVector() >= 0) {
          this.preempt(h);
          continue;
        }
      } else {
        if (cpu.cycles >= deadline) return deadlineExit(exit);
        if (pic !== null) this.prepareInjection(h, pic);
        cpu.vmEntry(vm);
      }
      if (cpu.cycles >= deadline) return deadlineExit(exit);
      const x = cpu.run(deadline);
      countExit(stats, x);
      if (this.handleCpuExit(h, x, exit) === TO_LOOP) return exit;
    }
  }
  /**
   * Before an entry: inject the virtual PIC's line if the guest's IF is 1 (acknowledged now,
   * delivered by the CPU through the guest's IDT as the entry completes); otherwise ask for an
   * exit as soon as the guest can take it (interrupt-window exiting). An event already queued for
   * injection (a reflected #UD) goes first; the window brings the interrupt right after it.
   */
  prepareInjection(h, pic) {
    const vm = h.vmcs;
    vm.interruptWindowExiting = false;
    if (pic.pendingVector() < 0) return;
    if (vm.injectVector >= 0 || (this.cpu.flags & F_IF5) === 0) {
      vm.interruptWindowExiting = true;
      return;
    }
    const v = pic.acknowledge();
    if (v < 0) return;
    vm.injectVector = v;
    vm.injectError = 0;
    vm.injectKind = KIND_EXTERNAL2;
    const stats = h.vcpu.domain.stats;
    stats.injectedInterrupts++;
    stats.reflected[v]++;
    if (stats.trace !== null) stats.trace.record(4 /* Interrupt */, stats.traceDom, v, 0);
  }
  /**
   * One CPU exit, by reason: a VM exit (the monitor's software path with its VMREADs is charged
   * first), or the run's deadline or a stop request (root-mode returns, no VM exit).
   */
  handleCpuExit(h, reason, exit) {
    const cpu = this.cpu;
    const vm = h.vmcs;
    const dom = h.vcpu.domain;
    if (reason === 256 /* Deadline */) return CONTINUE;
    if (reason === 258 /* Stopped */) {
      hostStopExit(exit);
      return TO_LOOP;
    }
    this.hv.chargeMonitor(dom, Ev.HvmExitPath, 1);
    switch (reason) {
      case 30 /* Io */:
        exit.reason = "io";
        exit.port = cpu.exitPort;
        exit.size = cpu.exitSize;
        exit.isWrite = cpu.exitIsWrite;
        exit.data = cpu.exitData;
        exit.reg = cpu.exitReg;
        if (cpu.exitIsWrite) cpu.instructionBoundary();
        return TO_LOOP;
      case 12 /* Hlt */:
        if ((cpu.flags & F_IF5) === 0) {
          dom.shutdown("halted", 0, `hlt with interrupts disabled at pc ${hex(cpu.pc)}`);
          return this.dead(dom, exit);
        }
        if (this.hasPendingEvent(h.vcpu)) return CONTINUE;
        exit.reason = "hlt";
        return TO_LOOP;
      case 7 /* InterruptWindow */:
        vm.interruptWindowExiting = false;
        return CONTINUE;
      case 10 /* Cpuid */:
        this.cpuid(dom);
        return CONTINUE;
      case 18 /* Hypercall */:
        cpu.pc = vm.exitInsnPc;
        cpu.instructions--;
        vm.injectVector = V_UD3;
        vm.injectError = 0;
        vm.injectKind = KIND_FAULT2;
        dom.stats.reflected[V_UD3]++;
        return CONTINUE;
      case 48 /* EptViolation */:
        if ((vm.exitQualification & Q_WRITE) !== 0 && dom.logDirty !== null && dom.logDirty.secondStageWriteFault(vm.exitGuestPhys >>> 12)) {
          this.hv.chargeMonitor(dom, Ev.LogDirtyFault, 1);
          const first2 = vm.idtVectoring;
          if (first2 >= 0) {
            const kind = vm.idtVectoringKind;
            this.queue(vm, first2, vm.idtVectoringError, kind);
            if (kind === KIND_SOFTWARE2 || kind === KIND_TRAP2) {
              cpu.pc = vm.exitInsnPc >>> 0;
              vm.injectInsnLength = vm.exitInsnLength;
            }
          }
          return CONTINUE;
        }
        this.crashOutsideMemory(h);
        return this.dead(dom, exit);
      case 2 /* TripleFault */:
        dom.shutdown("triple-fault", 0, `triple fault at pc ${hex(cpu.pc)}`);
        return this.dead(dom, exit);
      case 1 /* ExternalInterrupt */:
        return CONTINUE;
      case 40 /* Pause */:
        exit.reason = "yield";
        return TO_LOOP;
      case 28 /* CrAccess */:
        if (h.shadow) return this.crAccess(h, h.shadow, exit);
        break;
      case 14 /* Invlpg */:
        if (h.shadow) {
          h.shadow.shadow.invlpg(vm.exitQualification);
          cpu.charge(Ev.Invlpg, 1);
          return CONTINUE;
        }
        break;
      case 0 /* Exception */:
        if (h.shadow && vm.exitVector === V_PF5) return this.shadowFault(h, h.shadow, exit);
        break;
    }
    crashOnUnexpectedExit(dom, "hvm", reason, cpu.pc);
    return this.dead(dom, exit);
  }
  /**
   * A control-register access exit (shadow paging): CR3 loads and stores, CR0 writes. The
   * instruction retired with the exit; the monitor does what it would have done on the guest's
   * view. A CR0 write drops the whole shadow (the hardware flushes its TLB), a CR3 load too with
   * the flushing shadow, while the traced one switches the real CR3 to the new space's shadow;
   * both are charged the CR3 load the monitor does; the real CR0 stays PG|WP, the guest's bits go
   * to the read shadow.
   */
  crAccess(h, s, exit) {
    const cpu = this.cpu;
    const q = h.vmcs.exitQualification;
    const n = q & CR_MASK;
    const reg = q >>> CR_REG_SHIFT & 15;
    const r = cpu.regs;
    if ((q & CR_READ) !== 0) {
      if (n === 3) {
        r[reg] = s.v.cr3 | 0;
        return CONTINUE;
      }
    } else if (n === 3) {
      s.v.cr3 = (r[reg] & PAGE_MASK8) >>> 0;
      s.shadow.loadCr3();
      cpu.cr3 = s.shadow.root;
      cpu.charge(Ev.CrFlush, 1);
      cpu.instructionBoundary();
      return CONTINUE;
    } else if (n === 0) {
      const value = r[reg] & SHADOW_CR0_OWNED;
      s.v.cr0 = value;
      h.vmcs.cr0ReadShadow = value;
      s.shadow.flush();
      cpu.charge(Ev.CrFlush, 1);
      cpu.instructionBoundary();
      return CONTINUE;
    }
    const dom = h.vcpu.domain;
    dom.shutdown("crashed", 0, `hvm mode: unexpected control-register exit (qualification ${hex(q)}) at pc ${hex(cpu.pc)}`);
    return this.dead(dom, exit);
  }
  /**
   * A page-fault exit (shadow paging). The guest's walk decides: a hidden fault fills the shadow
   * entry and the guest retries (an event whose delivery took the fault is injected again, an
   * INT n with its length, as VT-x's entry instruction length); a true fault is injected with the guest's error
   * code and CR2 (during an exception's delivery: #DF, as the hardware would; during #DF's: a
   * triple fault); a guest table or mapping outside the domain's memory kills the domain. The
   * guest walk's references are charged as a TLB-miss walk's.
   */
  shadowFault(h, s, exit) {
    const cpu = this.cpu;
    const vm = h.vmcs;
    const dom = h.vcpu.domain;
    const va = vm.exitQualification;
    const res = s.shadow.fault(va, vm.exitError);
    cpu.charge(Ev.MonitorWalk, s.walker.refs);
    const first2 = vm.idtVectoring;
    if (res === SHADOW_HIDDEN) {
      if (first2 >= 0) {
        const kind = vm.idtVectoringKind;
        this.queue(vm, first2, vm.idtVectoringError, kind);
        if (kind === KIND_SOFTWARE2 || kind === KIND_TRAP2) {
          cpu.pc = vm.exitInsnPc >>> 0;
          vm.injectInsnLength = vm.exitInsnLength;
        }
      }
      return CONTINUE;
    }
    if (res === SHADOW_BAD_GPA) {
      dom.shutdown(
        "crashed",
        0,
        `guest-physical address ${hex(s.walker.badGpa)} lies outside the domain's memory (${dom.quotaFrames} frames) at pc ${hex(cpu.pc)}`
      );
      return this.dead(dom, exit);
    }
    if (first2 >= 0 && vm.idtVectoringKind !== KIND_EXTERNAL2 && vm.idtVectoringKind !== KIND_SOFTWARE2) {
      if (first2 === V_DF3) {
        dom.shutdown("triple-fault", 0, `triple fault at pc ${hex(cpu.pc)}`);
        return this.dead(dom, exit);
      }
      this.queue(vm, V_DF3, 0, KIND_FAULT2);
      dom.stats.reflected[V_DF3]++;
      return CONTINUE;
    }
    cpu.cr2 = va >>> 0;
    this.queue(vm, V_PF5, s.walker.faultError, KIND_FAULT2);
    dom.stats.reflected[V_PF5]++;
    return CONTINUE;
  }
  /** Queue an event for injection at the next VM entry. */
  queue(vm, vector, error, kind) {
    vm.injectVector = vector;
    vm.injectError = error;
    vm.injectKind = kind;
    vm.injectInsnLength = 0;
  }
  /** CPUID as the guest's virtual CPU answers it: the machine's, without non-root mode or a second stage (no nested virtualization). */
  cpuid(dom) {
    answerCpuid(this.cpu.regs, this.clockMHz, CPUID_FEATURES_GUEST, this.cpu.mmu.tlbEntries);
    dom.stats.emulated[OP_CPUID]++;
  }
  /**
   * The second stage maps all of the domain's memory, so an EPT violation is an access (or a
   * guest page walk, or an event delivery) outside it: the domain is killed; the hypervisor and
   * the other domains never see it.
   */
  crashOutsideMemory(h) {
    const vm = h.vmcs;
    const dom = h.vcpu.domain;
    const q = vm.exitQualification;
    const access = (q & Q_WRITE) !== 0 ? "write" : (q & Q_FETCH) !== 0 ? "fetch" : "read";
    const inside = dom.memory.contains(vm.exitGuestPhys);
    dom.shutdown(
      "crashed",
      0,
      inside ? `hvm mode: EPT violation at guest-physical ${hex(vm.exitGuestPhys)} inside the domain's memory (${access}) at pc ${hex(vm.exitInsnPc)}` : `guest-physical address ${hex(vm.exitGuestPhys)} lies outside the domain's memory (${dom.quotaFrames} frames) at pc ${hex(vm.exitInsnPc)} (EPT violation, ${access})`
    );
  }
  /**
   * The monitor takes the CPU back from a guest in non-root mode: an external-interrupt VM exit
   * (KVM's kick IPI, or the host timer ending a slice). The simulated machine has no host
   * interrupt of its own (the run deadline plays the host timer), so the monitor records the
   * exit as the CPU does for any other: back to root mode, the exit's cost, the TLB flushed (no
   * VPID), the reason in the VMCS and the counters.
   */
  preempt(h) {
    const cpu = this.cpu;
    const vm = h.vmcs;
    const dom = h.vcpu.domain;
    cpu.nonRoot = false;
    cpu.charge(Ev.VmExit, 1);
    cpu.mmu.vmExitTlb();
    cpu.stats.vmExits++;
    vm.exitReason = 1 /* ExternalInterrupt */;
    vm.exitQualification = 0;
    vm.exitInsnPc = cpu.pc;
    vm.exitInsnLength = 0;
    vm.idtVectoring = -1;
    vm.exitCounts[1 /* ExternalInterrupt */]++;
    countExit(dom.stats, 1 /* ExternalInterrupt */);
    this.hv.chargeMonitor(dom, Ev.HvmExitPath, 1);
  }
  dead(dom, exit) {
    stoppedExit(dom, exit);
    return TO_LOOP;
  }
};
function hvmMmuFor(profile, requested) {
  return requested ?? (profile.ept ? "ept" : "shadow");
}

// hypervisor/hvm/stats.ts
var HVM_EXIT_NAMES = [
  30 /* Io */,
  12 /* Hlt */,
  10 /* Cpuid */,
  18 /* Hypercall */,
  7 /* InterruptWindow */,
  1 /* ExternalInterrupt */,
  48 /* EptViolation */,
  28 /* CrAccess */,
  14 /* Invlpg */,
  40 /* Pause */,
  2 /* TripleFault */,
  0 /* Exception */
].map((x) => [EXIT_NAMES[x], x]);

// hypervisor/hvm/index.ts
function hvmReserveBytes(guestMemoryBytes, shadow = "flush", vcpus = 1) {
  if (shadow === "traced") return HYPERVISOR_RESERVE_BYTES;
  return (1 + Math.max(eptFramesFor(guestMemoryBytes), vcpus * (1 + RESERVED_TABLES))) * 4096;
}
function runHvmMode(boot, opts = {}) {
  const mode2 = new HvmMode({
    ...opts.hvm?.mmu !== void 0 ? { mmu: opts.hvm.mmu } : {},
    ...opts.hvm?.shadow !== void 0 ? { shadow: opts.hvm.shadow } : {},
    ...opts.hvm?.ple !== void 0 ? { ple: opts.hvm.ple } : {}
  });
  return runSingleGuest(mode2, boot, opts, (bytes, vcpus) => hvmReserveBytes(bytes, mode2.shadowKind, vcpus), "the second-stage (EPT) table or shadow page tables");
}

// hypervisor/bt/cache.ts
var UNIT_MAX_INSNS = 12;
var UNIT_HOST_BYTES = 1024;
var UNIT_HOST_BYTES_PER_INSN = 8;
var DEFAULT_CACHE_UNITS = 8192;
var RECENT_SLOTS = 2048;
var K_IDENT = 0;
var K_CALLOUT = 1;
var K_INLINE = 2;
var K_STORE = 3;
var ADAPTIVE_TRACE_FAULTS = 4;
var OP_STW = 56 /* STW */;
var OP_STH = 57 /* STH */;
var OP_STB = 58 /* STB */;
var OP_XCHG = 59 /* XCHG */;
var OP_JMP = 72 /* JMP */;
var OP_JCC = 73 /* JCC */;
var OP_CALL = 74 /* CALL */;
var OP_JMPR = 75 /* JMPR */;
var OP_CALLR = 76 /* CALLR */;
var OP_RET = 77 /* RET */;
var OP_INT = 80 /* INT */;
var OP_BRK = 81 /* BRK */;
var OP_HLT2 = 96 /* HLT */;
var OP_CLI2 = 97 /* CLI */;
var OP_MOVTOCR2 = 105 /* MOVTOCR */;
var OP_STI2 = 98 /* STI */;
var OP_IRET2 = 110 /* IRET */;
var OP_PUSHF = 112 /* PUSHF */;
var OP_POPF = 113 /* POPF */;
var OP_RDCPL = 114 /* RDCPL */;
var OP_SIDT = 115 /* SIDT */;
var KIND = (() => {
  const t = new Uint8Array(256);
  for (const info of INSTRUCTIONS) t[info.op] = btKind(info.op, info.cls);
  return t;
})();
function btKind(op, cls) {
  switch (cls) {
    case "innocuous":
    case "hypercall":
      return K_IDENT;
    case "privileged":
      return K_CALLOUT;
    case "io-privileged":
      return op === 97 /* CLI */ || op === 98 /* STI */ ? K_INLINE : K_CALLOUT;
    case "critical":
      return K_INLINE;
    default:
      return assertNever(cls, "instruction class");
  }
}
var ENDS_UNIT = (() => {
  const t = new Uint8Array(256);
  for (const op of [72 /* JMP */, 73 /* JCC */, 74 /* CALL */, 75 /* JMPR */, 76 /* CALLR */, 77 /* RET */, 80 /* INT */, 81 /* BRK */, 110 /* IRET */, 96 /* HLT */, 127 /* HYPERCALL */]) t[op] = 1;
  t[0] = 1;
  return t;
})();
var INDIRECT = (() => {
  const t = new Uint8Array(256);
  for (const op of [75 /* JMPR */, 76 /* CALLR */, 77 /* RET */, 110 /* IRET */]) t[op] = 1;
  return t;
})();
var FAST_OP = (() => {
  const kinds = new Map(SEMANTICS.map(([m, s]) => [m, s.kind]));
  const name = (op) => op === 73 /* JCC */ ? "JCC" : op === 67 /* SETCC */ ? "SETCC" : (OPS[op]?.mnemonic ?? "").toUpperCase();
  const t = new Uint8Array(256);
  let found = 0;
  for (let op = 0; op < 256; op++) {
    const kind = kinds.get(name(op));
    if (kind === void 0) continue;
    found++;
    const store = kind === "store" || kind === "push" || kind === "xchg";
    const transfer = kind === "jmp" || kind === "jcc" || kind === "jmpr" || kind === "ret";
    t[op] = kind === "call" || kind === "callr" ? 4 : transfer ? 3 : store ? 2 : 1;
  }
  if (found !== SEMANTICS.length) throw new Error(`bt: ${SEMANTICS.length - found} of machine/semantics.ts's opcodes not found in machine/isa.ts`);
  return t;
})();
function fastStretches(u, storesLeave = false) {
  const n = u.length;
  let mask = u.kinds.every((k) => k === K_IDENT) ? FAST_ALL_IDENT : 0;
  for (let k = 0; k < n; k++) {
    if (u.kinds[k] !== K_IDENT) continue;
    let e = k;
    while (e < n && u.kinds[e] === K_IDENT) e++;
    const last = FAST_OP[u.ops[e - 1]];
    const ends = e < n ? FAST_OP[u.ops[e]] === 0 : last === 0 || last >= 3;
    if (!ends) continue;
    let stores = false;
    for (let i2 = k; i2 < e - 1; i2++) if (FAST_OP[u.ops[i2]] === 2 || FAST_OP[u.ops[i2]] === 4) stores = true;
    if (!stores || storesLeave) mask |= 1 << k;
  }
  return mask;
}
function fastMask(u, storesLeave) {
  if (storesLeave) return u.fastStores < 0 ? u.fastStores = fastStretches(u, true) : u.fastStores;
  return u.fast < 0 ? u.fast = fastStretches(u) : u.fast;
}
var FAST_ALL_IDENT = 1 << 16;
function isStoreOp(op) {
  return op === OP_STW || op === OP_STH || op === OP_STB || op === OP_XCHG;
}
var TranslationUnit = class {
  constructor(ma, pc, words, offs, ops, kinds) {
    this.ma = ma;
    this.pc = pc;
    this.words = words;
    this.offs = offs;
    this.ops = ops;
    this.kinds = kinds;
    this.length = ops.length;
  }
  ma;
  pc;
  words;
  offs;
  ops;
  kinds;
  /** set when the unit is dropped from the cache (its code was written) */
  dead = false;
  /** units this one has been chained to (direct successors: fall-through, JMP, Jcc, CALL) */
  links = [];
  /**
   * Host side, not the model (the translator engine: hypervisor/bt/mode.ts): entries counted
   * toward compiling the unit's ident instructions, and the compiled straight runs by the index
   * they start at (undefined: not compiled yet; null: none there).
   */
  heat = 0;
  runs = null;
  /** fastStretches(this), once computed (-1: not yet) */
  fast = -1;
  /** fastStretches(this, true), once computed (-1: not yet) */
  fastStores = -1;
  /**
   * Host side: the count of stores into the unit's frame (BtMode's per-frame counts) when its words
   * were last all found equal to memory (-1: never); while the count is unchanged, its word check
   * would pass and is skipped.
   */
  checked = -1;
  /** its number of instructions */
  length;
  /**
   * The units compiled with this one (runs[0]: this unit first, then those chained to it), the
   * counters the chained entries count in, the boundaries compiled as trusted (`pairs`: from, to
   * by unit index; both units live and the first linked to the second at compile time, so the
   * compiled code goes on there without a check) and the cache's `epoch` when that was last found
   * still true (BtMode.runUnit checks it again, or compiles anew, before entering when the
   * cache's epoch moved).
   */
  chain = null;
};
var BtStats = class {
  /** units translated (including retranslations after invalidation) */
  translations = 0;
  /** guest instructions translated */
  translatedInsns = 0;
  /** instructions at an unaligned pc, translated one at a time and not cached */
  uncachedInsns = 0;
  /** units entered */
  unitsRun = 0;
  /** entries through a chain link (no lookup) */
  chained = 0;
  /** translation-cache lookups: for indirect control flow (JMPR, CALLR, RET, IRET) */
  indirectLookups = 0;
  /** ... and for every other entry that was not chained (after a trap, an injection, a first jump) */
  dispatchLookups = 0;
  /** units dropped because their code was written (by the guest or a host write such as DMA) */
  invalidations = 0;
  /** whole-cache flushes because the cache was full (QEMU's tb_flush) */
  flushes = 0;
  /** units dropped by those flushes */
  flushedUnits = 0;
  /** `--bt-adaptive`: instructions retranslated as store callouts, and the stores those callouts made */
  retranslations = 0;
  emulatedStores = 0;
  /** ... of which were writes to a traced page table (each a trace fault without the option) */
  emulatedTraceStores = 0;
  /** callouts by opcode (the privileged instructions; store callouts are counted above) */
  callouts = new Float64Array(256);
  /** inline rewrites of the critical instructions by opcode */
  inlined = new Float64Array(256);
  /** cycles charged for translation, callouts and lookups */
  translateCycles = 0;
  calloutCycles = 0;
  lookupCycles = 0;
};
var TranslationCache = class {
  constructor(m32, codePage, maxUnits = DEFAULT_CACHE_UNITS) {
    this.m32 = m32;
    this.codePage = codePage;
    this.maxUnits = maxUnits;
    if (!Number.isInteger(maxUnits) || maxUnits < 1) throw new RangeError(`bt translation cache: the bound must be a positive whole number of units (got ${maxUnits})`);
  }
  m32;
  codePage;
  maxUnits;
  units = /* @__PURE__ */ new Map();
  /** machine frame -> units that start in it */
  byFrame = /* @__PURE__ */ new Map();
  stats = new BtStats();
  /** instructions in the cached units (for the host-bytes estimate) */
  cachedInsns = 0;
  /** `--bt-adaptive` is on for this domain (set by BtMode; its counters then show in `--stats`) */
  adaptive = false;
  /** `--bt-adaptive`: machine addresses of the stores translated as store callouts (K_STORE) */
  storeCallouts = /* @__PURE__ */ new Set();
  /** `--bt-adaptive`: trace faults so far by the guest-virtual address of the kernel instruction that took them */
  traceFaultsAt = /* @__PURE__ */ new Map();
  /**
   * Host side, not the model: unit entries made inside compiled code (the translator engine: a
   * chained boundary between two units compiled together), counted as `chained` and `unitsRun`
   * too; straight runs of a unit's ident instructions run in the CPU's fast loop (units not
   * compiled: every unit under the interpreter engine); and unit entries the unit loop made
   * itself, without a pass through the vCPU loop (the interpreter engine, BtMode.nextUnit:
   * chained ones and those after an indirect transfer's lookup); fast runs whose word check was
   * skipped (no store reached the unit's frame since its words were last found equal:
   * BtMode.storesCounted); and fast runs that left right after a store into their unit's frame
   * (Cpu.codeStoreHook); and of the unit loop's own entries, those made inside the fast loop at
   * a block boundary (BtMode.enterInLoop), without leaving it. The translator engine: compiled
   * chains recompiled (their trusted boundaries no longer true), entries into a compiled chain
   * that checked the words of a frame first (a store reached it since they were last found
   * equal: UnitChain.seen; every other entry checks none), and entries that ran the chain with
   * the word check before each instruction (a word differed).
   */
  host = { chainedInline: 0, fastRuns: 0, loopEntries: 0, checksSkipped: 0, storeLeaves: 0, probeEntries: 0, chainRecompiles: 0, chainWordChecks: 0, chainCheckedRuns: 0 };
  /**
   * Host side: moves whenever a unit is dropped (its code written, an adaptive retranslation, a
   * flush, a clear) or a unit's links are cut (BtMode.runUnit keeps the lists short). Compiled
   * code trusts the links and liveness it was compiled with while this is unchanged (the
   * translator engine: TranslationUnit.chain).
   */
  epoch = 0;
  /** get()'s slots (RECENT_SLOTS, by machine address) */
  recent = new Array(RECENT_SLOTS).fill(void 0);
  get size() {
    return this.units.size;
  }
  /** Host heap the cached units take, by the UNIT_HOST_BYTES estimate. */
  get estimatedBytes() {
    return this.units.size * UNIT_HOST_BYTES + this.cachedInsns * UNIT_HOST_BYTES_PER_INSN;
  }
  /**
   * The unit at machine address ma. A direct-mapped slot by address in front of the map (host
   * side: the unit loop looks a unit up at every pass); a slot holds a live unit only while the
   * map does (a unit leaves the map only by being marked dead), so a dead one is looked up again.
   */
  get(ma) {
    const j = ma >>> 2 & RECENT_SLOTS - 1;
    const r = this.recent[j];
    if (r !== void 0 && r.ma === ma && !r.dead) return r;
    const u = this.units.get(ma);
    if (u !== void 0) this.recent[j] = u;
    return u;
  }
  /**
   * Translate the unit starting at machine address `ma` (guest-virtual `pc`): up to
   * UNIT_MAX_INSNS instructions, ending after control flow or at the end of the frame (a long
   * instruction whose extension word lies in the next frame ends it too; only its opcode word is
   * classified, so only that word is checked). Returns the unit.
   */
  translate(ma, pc) {
    if (this.units.size >= this.maxUnits) this.flush();
    const m32 = this.m32;
    const frameEnd = (ma & -4096) + 4096;
    const words = [];
    const offs = [];
    let a = ma;
    while (words.length < UNIT_MAX_INSNS && a < frameEnd) {
      const w = m32[a >>> 2];
      const op = w & 255;
      words.push(w);
      offs.push(a - ma);
      a += INSN_BYTES[op];
      if (ENDS_UNIT[op] !== 0) break;
    }
    const n = words.length;
    const ops = new Uint8Array(n);
    const kinds = new Uint8Array(n);
    for (let k = 0; k < n; k++) {
      ops[k] = words[k] & 255;
      kinds[k] = KIND[ops[k]];
    }
    if (this.storeCallouts.size > 0) {
      for (let k = 0; k < n; k++) if (kinds[k] === K_IDENT && isStoreOp(ops[k]) && this.storeCallouts.has(ma + offs[k])) kinds[k] = K_STORE;
    }
    const u = new TranslationUnit(ma, pc >>> 0, Int32Array.from(words), Uint16Array.from(offs), ops, kinds);
    this.units.set(ma, u);
    const f = ma >>> 12;
    let list = this.byFrame.get(f);
    if (!list) this.byFrame.set(f, list = []);
    list.push(u);
    this.codePage[f] = 1;
    this.cachedInsns += n;
    this.stats.translations++;
    this.stats.translatedInsns += n;
    return u;
  }
  /** A one-instruction unit for an unaligned pc (word `w` fetched through the guest's tables); not cached. */
  transient(pc, w) {
    const op = w & 255;
    this.stats.uncachedInsns++;
    return new TranslationUnit(-1, pc >>> 0, Int32Array.of(w), Uint16Array.of(0), Uint8Array.of(op), Uint8Array.of(KIND[op]));
  }
  /**
   * `--bt-adaptive`: translate the store at machine address `ma` as a store callout from now on,
   * dropping every unit that holds it (they all start in its frame: a unit never crosses one), so
   * the next run of that code is retranslated. Counted in `retranslations`.
   */
  retranslateStore(ma) {
    if (this.storeCallouts.has(ma)) return;
    this.storeCallouts.add(ma);
    this.stats.retranslations++;
    const list = this.byFrame.get(ma >>> 12);
    if (!list) return;
    for (let i2 = list.length - 1; i2 >= 0; i2--) {
      const u = list[i2];
      if (!u.offs.includes(ma - u.ma)) continue;
      u.dead = true;
      this.epoch++;
      if (this.units.get(u.ma) === u) {
        this.units.delete(u.ma);
        this.cachedInsns -= u.length;
      }
      list.splice(i2, 1);
    }
  }
  /** Drop every unit translated from machine frame `frame` (its code was written). */
  invalidateFrame(frame) {
    const list = this.byFrame.get(frame);
    if (!list) return;
    this.byFrame.delete(frame);
    this.epoch++;
    for (const u of list) {
      u.dead = true;
      if (this.units.get(u.ma) === u) {
        this.units.delete(u.ma);
        this.cachedInsns -= u.length;
      }
      this.stats.invalidations++;
    }
  }
  /** The cache is full: drop every unit (counted in `flushes`). */
  flush() {
    this.stats.flushes++;
    this.stats.flushedUnits += this.units.size;
    this.clear();
  }
  /** Drop every unit (and, when `all`, what `--bt-adaptive` learnt: a new boot). */
  clear(all = false) {
    if (all) {
      this.storeCallouts.clear();
      this.traceFaultsAt.clear();
    }
    for (const u of this.units.values()) u.dead = true;
    this.epoch++;
    this.units.clear();
    this.recent.fill(void 0);
    this.byFrame.clear();
    this.cachedInsns = 0;
  }
};

// hypervisor/bt/mode.ts
var CONTINUE2 = CONTINUE;
var TO_LOOP2 = TO_LOOP;
var K_IDENT2 = K_IDENT;
var K_CALLOUT2 = K_CALLOUT;
var K_STORE2 = K_STORE;
var INDIRECT2 = INDIRECT;
var OP_XCHG2 = OP_XCHG;
var OP_CLI3 = OP_CLI2;
var OP_IRET3 = OP_IRET2;
var OP_MOVTOCR3 = OP_MOVTOCR2;
var OP_POPF2 = OP_POPF;
var OP_PUSHF2 = OP_PUSHF;
var OP_RDCPL2 = OP_RDCPL;
var OP_SIDT2 = OP_SIDT;
var OP_STI3 = OP_STI2;
var EV_BT_LOOKUP = Ev.BtLookup;
var EV_BT_CALLOUT = Ev.BtCallout;
var tlbFind3 = tlbFind;
var V_GP4 = 13 /* GeneralProtection */;
var V_PF6 = 14 /* PageFault */;
function liveLink(u, ma) {
  const links = u.links;
  for (let i2 = 0; i2 < links.length; i2++) {
    const l = links[i2];
    if (l.ma === ma && !l.dead) return l;
  }
  return void 0;
}
function linkHolds(a, y) {
  return !a.dead && !y.dead && a.links.includes(y);
}
var F_IF6 = 512 /* IF */;
var F_IOPL3 = 12288 /* IOPL_MASK */;
var IOPL_SHIFT4 = 12 /* IOPL_SHIFT */;
var COND4 = FLAGS_COND;
var SP4 = REG_SP;
var STEP_CONT2 = STEP_CONT;
var STEP_BOUND2 = STEP_BOUND;
var NOT_RUN = -2;
var PAGE_MASK9 = -4096;
var CHAIN_MAX_UNITS = 16;
var OP_JMP2 = OP_JMP;
var OP_JCC2 = OP_JCC;
var OP_CALL2 = OP_CALL;
var CHAIN_FRAME = { locals: "ch = 0", exit: "if (ch !== 0) { const st = bc.st; st.chained += ch; st.unitsRun += ch; bc.host.chainedInline += ch; }" };
var DL_MAX2 = 1 << 30;
var XL_SLOTS = 8;
var ENTRY_OTHER = 0;
var ENTRY_DIRECT = 1;
var ENTRY_INDIRECT = 2;
var BtVcpu = class extends TrapVcpu {
  /** how the next unit is entered (ENTRY_*) */
  entry = ENTRY_OTHER;
  /** the unit run last, to chain the next one to */
  prev = null;
  /**
   * runVcpu last returned at its deadline between two units: the next call goes on from there, chain
   * and all. A deadline is the host's (the next event, the end of the caller's slice), not the
   * guest's: were it to break the chain, a run's cycles would depend on how the caller sliced it.
   */
  atDeadline = false;
  constructor(hv, vcpu, shadow) {
    super(hv, vcpu, shadow);
    this.exactUserFlags = true;
  }
};
function btVcpu(vcpu) {
  const b = vcpu.modeState;
  if (!(b instanceof BtVcpu)) throw new Error(`vCPU ${vcpu.id} of domain '${vcpu.domain.name}' is not a bt vCPU`);
  return b;
}
var BtMode = class {
  name = "bt";
  cacheUnits;
  /** trap mode's monitor: virtual CPU, shadow MMU, reflection, emulation (no interrupt-window polls: the kernel never runs unseen) */
  trap;
  hv;
  cpu;
  m32;
  codePage;
  caches = /* @__PURE__ */ new Set();
  // cost figures (machine/costs.ts), read once, for the cache's cycle totals (the charges go through the ledger)
  callout = 0;
  lookup = 0;
  translateInsn = 0;
  adaptive;
  /** the CPU's translator, once a unit has been compiled (the translator engine) */
  tx = null;
  /**
   * Shadow translations made by compiled code's boundaries since it was entered (enterChained):
   * per slot (virtual page bits), the virtual page | user bit (-1: empty) and its frame. Only
   * ident instructions run inside, and they change neither the shadow, CR3 nor the ring, so a
   * page translates the same until the function returns; emptied at every entry (a slot holds
   * only while its stamp is the entry's number, xlEntry: no pass over the slots per entry).
   */
  xlPage = new Int32Array(XL_SLOTS);
  xlFrame = new Int32Array(XL_SLOTS);
  xlStamp = new Int32Array(XL_SLOTS);
  xlEntry = 1;
  /** Host side: shadow translations of pcs between units answered from xlPage (no walk). */
  host = { translationsRemembered: 0 };
  /**
   * Host side: per machine frame, the stores into it by the CPU (Cpu.codeStoreHook, for frames
   * marked with Cpu.markCodeFrame: those holding units; a host write drops the frame's units).
   * While a frame's count equals a unit's `checked`, none of its words changed since they were
   * last found equal to the translation, so the word check before a fast run is skipped
   * (storesCounted); under the translator engine a compiled chain is entered without any word
   * check while its frames' counts are those at which its words were last found equal
   * (chainWordsHold).
   */
  codeWrites = new Float64Array(0);
  /** Host side: the CPU's stores into all frames holding units (codeWrites' sum) */
  codeStores = 0;
  /**
   * Host side, not state (hypervisor/save/state.ts TRANSIENT: a restored mode has the fresh
   * one's false): the CPU's marks of the frames holding units (Cpu.markCodeFrame) are made. The
   * CPU's marks are not saved either, so a restored mode marks its units' frames again before it
   * runs anything (runVcpu), else the stores into them would go unseen and unchecked code run.
   */
  marksMade = false;
  /** the frame of the unit whose straight run is in the CPU's fast loop (-1: none): a store into it makes the loop leave */
  runFrame = -1;
  /** the fast loop left after a store into runFrame */
  storeLeft = false;
  /**
   * The fast loop's boundary probe (Cpu.runToBoundary; BtMode.enterInLoop) and what it works on:
   * the unit whose run is in the fast loop and its virtual pc, its cache, vCPU and the deadline,
   * and whether stores are counted (storesCounted).
   */
  probe = (pc, cyc) => this.enterInLoop(pc, cyc);
  pu = null;
  ppc = 0;
  pCache = null;
  pT = null;
  pDeadline = 0;
  pCounted = false;
  pUser = false;
  /** the probe entered a unit since the fast loop was entered */
  pMoved = false;
  constructor(opts = {}) {
    this.cacheUnits = opts.cacheUnits ?? DEFAULT_CACHE_UNITS;
    this.adaptive = opts.adaptive === true;
    if (this.adaptive && opts.shadow !== "traced") throw new Error("bt adaptive retranslation needs the traced shadow (shadow: traced): it retranslates stores that keep taking trace faults");
    this.trap = new TrapMode({ interruptWindowPollCycles: 0, vcpuState: BtVcpu, shadow: opts.shadow ?? "flush" });
  }
  attach(hv) {
    this.hv = hv;
    this.cpu = hv.cpu;
    this.m32 = hv.mem.i32;
    this.codePage = hv.mem.codePage;
    this.trap.attach(hv);
    const p = hv.profile;
    this.callout = p.btCallout;
    this.lookup = p.btLookup;
    this.translateInsn = p.btTranslate;
    const previous = hv.mem.onCodeWrite;
    this.codeWrites = new Float64Array(hv.mem.frames);
    hv.mem.onCodeWrite = (frame) => {
      previous?.(frame);
      for (const c of this.caches) c.invalidateFrame(frame);
    };
    const writes = this.codeWrites;
    const other = this.cpu.codeStoreHook;
    this.cpu.codeStoreHook = (pa, size) => {
      const leave = other !== null && other(pa, size);
      const f = pa >>> 12;
      writes[f]++;
      this.codeStores++;
      if (f !== this.runFrame) return leave;
      this.storeLeft = true;
      return true;
    };
  }
  /**
   * Does the fast loop trust the word counts (codeWrites: skip a run's word check, run stores in
   * mid-run)? Only while no translator exists on this machine's CPUs (the interpreter engine).
   * Every CPU store into a frame holding units reaches codeStoreHook under either engine (the
   * hook's frames have a mark bit of their own, which the translator leaves alone, and translated
   * stores report to the hook: Cpu.txStored), and compiled chains trust the counts
   * (chainWordsHold); under the translator engine the fast loop runs only units below the
   * hotness threshold, and keeps its checks there.
   */
  storesCounted() {
    const cpu = this.cpu;
    if (cpu.translator !== null) return false;
    for (const p of cpu.smpPeers) if (p.translator !== null) return false;
    return true;
  }
  createDomain(domain) {
    this.trap.createDomain(domain);
    const cache = new TranslationCache(this.hv.mem.i32, this.hv.mem.codePage, this.cacheUnits);
    cache.adaptive = this.adaptive;
    domain.modeState = cache;
    this.caches.add(cache);
  }
  build(domain, boot) {
    this.trap.build(domain, boot);
    btCache(domain).clear(true);
  }
  /** A secondary vCPU's start-up (trap mode's); the domain's one translation cache serves it too. */
  startVcpu(vcpu, pc, sp) {
    this.trap.startVcpu(vcpu, pc, sp);
    const t = btVcpu(vcpu);
    t.entry = ENTRY_OTHER;
    t.prev = null;
    t.atDeadline = false;
  }
  load(vcpu) {
    this.trap.load(vcpu);
    const t = btVcpu(vcpu);
    t.entry = ENTRY_OTHER;
    t.atDeadline = false;
  }
  unload(vcpu) {
    this.trap.unload(vcpu);
  }
  hasPendingEvent(vcpu) {
    return this.trap.hasPendingEvent(vcpu);
  }
  destroyDomain(domain) {
    this.trap.destroyDomain(domain);
    const cache = domain.modeState;
    if (cache instanceof TranslationCache) {
      cache.clear(true);
      this.caches.delete(cache);
    }
  }
  // ================================================================================ KVM_RUN
  runVcpu(vcpu, deadline) {
    const t = btVcpu(vcpu);
    const cpu = this.cpu;
    if (!this.marksMade) this.markFrames();
    const exit = vcpu.exit;
    const dom = vcpu.domain;
    const cache = btCache(dom);
    const stats = dom.stats;
    const pic = dom.devices ? dom.devices.interruptController(vcpu.id) : null;
    vcpu.completeIo(cpu.regs);
    if (!t.atDeadline) t.entry = ENTRY_OTHER;
    t.atDeadline = false;
    for (; ; ) {
      if (dom.stopped) return stoppedExit(dom, exit);
      if (pic !== null && t.v.vIF && pic.pendingVector() >= 0) {
        this.inject(t);
        continue;
      }
      if (cpu.cycles >= deadline) {
        t.atDeadline = true;
        return deadlineExit(exit);
      }
      if (cpu.cpl !== 3 || !t.v.vIF || t.v.vIOPL !== 0) {
        if (this.runUnit(t, cache, exit, deadline) === TO_LOOP2) return exit;
        continue;
      }
      t.entry = ENTRY_OTHER;
      const x = cpu.run(deadline);
      countExit(stats, x);
      if (this.handleCpuExit(t, x, exit) === TO_LOOP2) return exit;
    }
  }
  /** Mark the frame of every unit for the CPU's code-store hook (after a restore: marksMade). */
  markFrames() {
    for (const c of this.caches) for (const u of c.units.values()) if (!u.dead) this.cpu.markCodeFrame(u.ma >>> 12);
    this.marksMade = true;
  }
  /**
   * Find (or translate) the unit at the kernel's pc and run it. Returns after the unit, or earlier
   * when the monitor must look (a trap, a callout that turned interrupts on with one pending, an
   * I/O or HLT exit, a code change).
   */
  runUnit(t, cache, exit, deadline) {
    const cpu = this.cpu;
    if (++this.xlEntry >= DL_MAX2) {
      this.xlStamp.fill(0);
      this.xlEntry = 1;
    }
    const dom = t.domain;
    const st = cache.stats;
    const pc = cpu.pc | 0;
    const user = cpu.cpl === 3;
    let ma = (pc & 3) === 0 ? cpu.mmu.translate(pc, false, user) : -1;
    const viaShadow = ma >= 0;
    if (viaShadow) this.remember(pc, user, ma);
    let w = 0;
    if (ma < 0) {
      if ((pc & 3) !== 0) {
        w = t.fetch32(pc, user);
        ma = t.accessFail !== 0 ? t.accessFail : 0;
      } else {
        ma = t.walker.walk(pc, ACC_FETCH, user, true);
      }
      if (ma === WALK_BAD_GPA) {
        t.crashBadGpa();
        return this.dead(dom, exit);
      }
      if (ma < 0) {
        t.entry = ENTRY_OTHER;
        dom.stats.traps[V_PF6]++;
        if (dom.stats.trace !== null) dom.stats.trace.record(1 /* Trap */, dom.stats.traceDom, V_PF6, 0);
        cpu.charge(Ev.TrapDelivery, 1);
        cpu.charge(Ev.InterceptReturn, 1);
        this.hv.chargeMonitor(dom, Ev.MonitorTrap, 1);
        const w2 = t.walker;
        return t.reflect(V_PF6, w2.faultError, pc, KIND_FAULT, pc, w2.faultAddr) ? CONTINUE2 : this.dead(dom, exit);
      }
    }
    let u = (pc & 3) === 0 ? cache.get(ma) : cache.transient(pc, w);
    if (u === void 0 || u.ma < 0) {
      if (u === void 0) {
        u = cache.translate(ma, pc);
        cpu.markCodeFrame(ma >>> 12);
        u.checked = this.codeWrites[ma >>> 12];
      }
      st.translateCycles += u.length * this.translateInsn;
      this.hv.chargeMonitor(dom, Ev.BtTranslate, u.length);
    }
    const entry = t.entry;
    const prev = t.prev;
    t.entry = ENTRY_OTHER;
    t.prev = null;
    if (entry === ENTRY_DIRECT && prev !== null && !prev.dead && prev.links.includes(u)) {
      st.chained++;
    } else if (entry !== ENTRY_INDIRECT) {
      st.dispatchLookups++;
      this.chargeLookup(dom, st);
      if (entry === ENTRY_DIRECT && prev !== null && !prev.dead && u.ma >= 0) {
        if (prev.links.length >= 4) {
          prev.links = prev.links.filter((x) => !x.dead).slice(-3);
          cache.epoch++;
        }
        prev.links.push(u);
      }
    }
    st.unitsRun++;
    const chain = viaShadow && cpu.instructionHookAt === Infinity;
    let upc = pc;
    while (u.ma >= 0 && u.kinds[0] === K_IDENT2 && this.compiledRuns(u, upc)) {
      let fn = u.runs[0];
      if (fn === void 0) fn = u.runs[0] = this.compileChain(u, upc, cache);
      else if (fn !== null && u.chain.epoch !== cache.epoch) {
        if (this.chainHolds(u.chain)) {
          u.chain.epoch = cache.epoch;
        } else {
          cache.host.chainRecompiles++;
          fn = u.runs[0] = this.compileChain(u, upc, cache);
        }
      }
      if (fn === null || !this.fetchReady(u, upc, user)) break;
      const ch = u.chain;
      if (this.codeStores !== ch.seenAll && !this.chainWordsHold(ch, cache)) {
        cache.host.chainCheckedRuns++;
        fn = ch.checkedFn === void 0 ? this.checkedChain(ch) : ch.checkedFn;
        if (fn === null) break;
      }
      const dl = chain ? Math.max(-1, Math.min(DL_MAX2, Math.ceil(deadline - cpu.cycles))) : -1;
      const mmu = cpu.mmu;
      const res = fn(this.tx.ctx, user ? mmu.tlbRU : mmu.tlbRS, user ? mmu.tlbWU : mmu.tlbWS, user, dl, ch);
      const v = res < 0 ? ch.u[~res] : ch.u[res >> 8];
      const vpc = ch.pcs[res < 0 ? ~res : res >> 8];
      if (res < 0) {
        cpu.instructionBoundary();
        if (!chain) return this.endByControlFlow(t, v, v.ops[v.length - 1], dom, st);
        const y = this.nextUnit(t, v, vpc, user, deadline, cache);
        if (y === null) return CONTINUE2;
        u = y;
        upc = cpu.pc | 0;
        continue;
      }
      const ix = res & 255;
      if (ix < v.length) return this.runInsns(t, cache, exit, v, vpc, user, ix, ix, deadline, false);
      t.entry = ENTRY_DIRECT;
      t.prev = v;
      return CONTINUE2;
    }
    return this.runInsns(t, cache, exit, u, upc, user, 0, -1, deadline, chain && cpu.engine !== "translator");
  }
  /**
   * Run unit u (entered at virtual pc) from its instruction k0 to its end, or until the monitor
   * must look. `skip`: the compiled code left before this instruction (a fault, a code change):
   * the general path runs it. `chain`: u was found through the shadow, and the units entered after
   * it may be entered here (nextUnit), up to the deadline.
   */
  runInsns(t, cache, exit, u, pc, user, k0, skip, deadline, chain) {
    const cpu = this.cpu;
    const dom = t.domain;
    const st = cache.stats;
    const m32 = this.m32;
    const r = cpu.regs;
    const compiled = u.ma >= 0 && this.compiledRuns(u, pc);
    const fast = !compiled && u.ma >= 0 && cpu.fastPath && cpu.instructionHookAt === Infinity && !cpu.monitorStop;
    const counted = fast && this.storesCounted();
    for (; ; ) {
      let n = u.length;
      let ended = false;
      for (let k = k0; k < n; k++) {
        if (compiled && k !== skip && k > 0 && u.kinds[k] === K_IDENT2) {
          const ix = this.runCompiled(u, k, pc, user);
          if (ix !== NOT_RUN) {
            if (ix < 0) {
              cpu.instructionBoundary();
              return this.endByControlFlow(t, u, u.ops[n - 1], dom, st);
            }
            if (ix >= n) break;
            k = skip = ix;
          }
        } else if (fast && k !== skip && (fastMask(u, counted) >>> k & 1) !== 0) {
          const ix = this.runFastRun(t, u, k, pc, counted, cache, chain, deadline);
          if (ix !== NOT_RUN) {
            cache.host.fastRuns++;
            if (this.pMoved) {
              u = this.pu;
              pc = this.ppc;
              n = u.length;
              skip = -1;
            }
            this.pu = null;
            if (ix < 0) {
              cpu.instructionBoundary();
              if (!chain) return this.endByControlFlow(t, u, u.ops[n - 1], dom, st);
              ended = true;
              break;
            }
            if (this.storeLeft) {
              this.storeLeft = false;
              cache.host.storeLeaves++;
              k = ix - 1;
              continue;
            }
            k = skip = ix;
          }
        }
        const off = u.offs[k];
        if (u.ma >= 0 && m32[u.ma + off >>> 2] !== u.words[k]) {
          cache.invalidateFrame(u.ma >>> 12);
          return CONTINUE2;
        }
        const op = u.ops[k];
        const kind = u.kinds[k];
        const ipc = pc + off | 0;
        if (kind === K_IDENT2) {
          const res = cpu.step();
          if (res === STEP_CONT2) continue;
          if (res === STEP_BOUND2) {
            cpu.instructionBoundary();
            if (!chain || !fast || k !== n - 1) return this.endByControlFlow(t, u, op, dom, st);
            ended = true;
            break;
          }
          countExit(dom.stats, res);
          if (this.adaptive && u.ma >= 0 && isStoreOp(op)) return this.storeExit(t, res, exit, cache, u.ma + off, ipc);
          return this.handleCpuExit(t, res, exit);
        }
        if (kind === K_STORE2) {
          st.emulatedStores++;
          st.calloutCycles += this.callout;
          this.hv.chargeMonitor(dom, EV_BT_CALLOUT, 1);
          const w2 = u.words[k];
          const base = r[w2 >>> 12 & 15];
          const va = op === OP_XCHG2 ? base : base + (w2 >> 16) | 0;
          const how = t.shadow.emulateStore(va, user);
          if (how !== STORE_DIRECT) cpu.charge(Ev.MonitorWalk, t.walker.refs);
          if (how === STORE_TRACED) st.emulatedTraceStores++;
          else if (how === STORE_FAULTS) st.emulatedStores--;
          const res = cpu.step();
          if (res === STEP_CONT2) continue;
          if (res === STEP_BOUND2) {
            cpu.instructionBoundary();
            return this.endByControlFlow(t, u, op, dom, st);
          }
          countExit(dom.stats, res);
          return this.handleCpuExit(t, res, exit);
        }
        if (kind === K_CALLOUT2) {
          if (op === OP_MOVTOCR3 && this.sameValueCr4(t, u.words[k])) {
            st.inlined[op]++;
            cpu.pc = ipc + 4 >>> 0;
            cpu.chargeInstruction(cpu.costs[op]);
            cpu.instructions++;
            continue;
          }
          st.callouts[op]++;
          st.calloutCycles += this.callout;
          this.hv.chargeMonitor(dom, EV_BT_CALLOUT, 1);
          const emulated = this.trap.emulate(t, exit);
          if (emulated !== EMULATED) return emulated;
          if (op === OP_IRET3) {
            st.indirectLookups++;
            this.chargeLookup(dom, st);
            t.entry = ENTRY_INDIRECT;
            return CONTINUE2;
          }
          if (cpu.pc !== ipc + 4 >>> 0) return CONTINUE2;
          if (op === OP_STI3 && this.interruptDue(t)) return CONTINUE2;
          continue;
        }
        st.inlined[op]++;
        if (op === OP_CLI3 || op === OP_STI3) {
          const v = t.v;
          if (t.vcpl > v.vIOPL) return t.reflect(V_GP4, 0, ipc, KIND_FAULT, ipc, -1) ? CONTINUE2 : this.dead(dom, exit);
          v.vIF = op === OP_STI3;
          cpu.pc = ipc + 4 >>> 0;
          cpu.chargeInstruction(cpu.costs[op]);
          cpu.instructions++;
          if (op === OP_STI3) {
            cpu.instructionBoundary();
            if (this.interruptDue(t)) return CONTINUE2;
          }
          continue;
        }
        if (op === OP_PUSHF2) {
          cpu.flags = t.virtualFlags();
          const res = cpu.step();
          cpu.flags = cpu.flags & COND4 | F_IF6;
          if (res === STEP_CONT2) continue;
          if (res === STEP_BOUND2) return this.endByControlFlow(t, u, op, dom, st);
          countExit(dom.stats, res);
          return this.handleCpuExit(t, res, exit);
        }
        if (op === OP_POPF2) {
          const sp = r[SP4];
          const sa = cpu.mmu.translate(sp, false, user);
          const popped = sa < 0 ? 0 : (sa & 3) === 0 ? m32[sa >>> 2] : t.read32(sp, user);
          const res = cpu.step();
          if (res !== STEP_BOUND2 && res !== STEP_CONT2) {
            countExit(dom.stats, res);
            return this.handleCpuExit(t, res, exit);
          }
          const v = t.v;
          const vcpl = t.vcpl;
          if (sa >= 0) {
            if (vcpl <= v.vIOPL) v.vIF = (popped & F_IF6) !== 0;
            if (vcpl === 0) v.vIOPL = (popped & F_IOPL3) >>> IOPL_SHIFT4;
          }
          if (res === STEP_BOUND2) cpu.instructionBoundary();
          if (this.interruptDue(t)) return CONTINUE2;
          continue;
        }
        const w = u.words[k];
        const rd = w >>> 8 & 15;
        r[rd] = op === OP_RDCPL2 ? t.vcpl : op === OP_SIDT2 ? t.v.idtBase | 0 : r[rd];
        cpu.pc = ipc + 4 >>> 0;
        cpu.chargeInstruction(cpu.costs[op]);
        cpu.instructions++;
      }
      if (!ended) {
        t.entry = ENTRY_DIRECT;
        t.prev = u;
        return CONTINUE2;
      }
      const y = this.nextUnit(t, u, pc, user, deadline, cache);
      if (y === null) return CONTINUE2;
      u = y;
      pc = cpu.pc | 0;
      k0 = 0;
      skip = -1;
    }
  }
  /**
   * Under the translator engine, may this unit's ident instructions run compiled? Once the unit
   * has been entered `threshold` times (the translator's hotness threshold: a compile costs V8
   * far more than interpreting a cold unit), at the virtual pc its runs were compiled for (a
   * frame mapped at two addresses is one unit; the compiled code holds virtual pcs), and not
   * while the CPU is held to its general path (fastPath off, a monitor stop armed).
   */
  compiledRuns(u, pc) {
    const cpu = this.cpu;
    if (cpu.engine !== "translator" || !cpu.fastPath || cpu.monitorStop) return false;
    if (u.runs !== null) return u.pc === pc >>> 0;
    const tx = this.tx ?? (this.tx = cpu.useTranslator());
    if (++u.heat < tx.limits.threshold) return false;
    u.runs = new Array(u.length);
    return u.pc === pc >>> 0;
  }
  /**
   * Run the unit's ident instructions from index k as compiled JavaScript (compiling them on first
   * use: machine/translator.ts compileStraight, the translator's emitters). Returns NOT_RUN if it
   * could not (no definition for instruction k; the instruction fetch would not find k's page in
   * the instruction TLB or the TLB: the general path walks), else the index of the next
   * instruction to run (n: the unit ran to its end), or -1 when the unit's control transfer
   * retired. What the compiled code does is what step() would do for each instruction: the
   * same word check first, the same TLB accesses and refills, the same faults (it leaves before
   * the instruction and step() raises them).
   */
  runCompiled(u, k, pc, user) {
    const runs2 = u.runs;
    let fn = runs2[k];
    if (fn === void 0) fn = runs2[k] = this.tx.compileStraight([this.straight(u, k, pc)]);
    if (fn === null) return NOT_RUN;
    const off = u.offs[k];
    if (!this.fetchReady(u, pc + off | 0, user, off)) return NOT_RUN;
    const mmu = this.cpu.mmu;
    const ix = fn(this.tx.ctx, user ? mmu.tlbRU : mmu.tlbRS, user ? mmu.tlbWU : mmu.tlbWS, user, -1, null);
    return ix < 0 ? ix : k + ix;
  }
  /**
   * Run the unit's ident instructions from index k in the CPU's fast loop (Cpu.runToBoundary).
   * The caller tested that the run qualifies (bit k of fastMask(u, counted): the fast loop stops
   * by itself at its end, and no store before its last instruction can change a word the fast
   * loop would then run, or, `counted`, the loop leaves after a store into the unit's frame);
   * here its words, and the word of the instruction it stops before, are checked against the
   * ones translated (the unit loop's check before each instruction, made before the run),
   * unless no store reached the frame since they were all found equal. The fast loop is the
   * general path's semantics with the same TLB accesses, refills, cycles and exits (leaving
   * before an instruction that needs step()), so nothing simulated changes. With `chain`, at the
   * unit's end the fast loop may go on into the next units (enterInLoop): this.pu and this.ppc
   * are then the last unit entered and its pc. Returns NOT_RUN, -1 when the (last) unit's control
   * transfer retired, else the index of the instruction the fast loop left to the general path.
   */
  runFastRun(t, u, k, pc, counted, cache, chain, deadline) {
    const m32 = this.m32;
    const n = u.length;
    const ma = u.ma;
    const f = ma >>> 12;
    const writes = this.codeWrites[f];
    if (counted && u.checked === writes && !u.dead) {
      cache.host.checksSkipped++;
    } else {
      const offs = u.offs;
      const words = u.words;
      if (((counted ? u.fastStores : u.fast) & FAST_ALL_IDENT) !== 0) {
        for (let i2 = k; i2 < n; i2++) if (m32[ma + offs[i2] >>> 2] !== words[i2]) return NOT_RUN;
        if (k === 0 && counted) u.checked = writes;
      } else {
        for (let i2 = k; i2 < n; i2++) {
          if (m32[ma + offs[i2] >>> 2] !== words[i2]) return NOT_RUN;
          if (u.kinds[i2] !== K_IDENT2) break;
        }
      }
    }
    const cpu = this.cpu;
    this.runFrame = counted ? f : -1;
    this.pu = u;
    this.ppc = pc;
    this.pMoved = false;
    this.storeLeft = false;
    let why;
    if (chain) {
      this.pCache = cache;
      this.pT = t;
      this.pDeadline = deadline;
      this.pCounted = counted;
      this.pUser = cpu.cpl === 3;
      why = cpu.runToBoundary(this.probe);
    } else {
      why = cpu.runToBoundary(null);
    }
    this.runFrame = -1;
    if (why === STEP_BOUND2) return -1;
    const v = this.pu;
    const off = cpu.pc - this.ppc | 0;
    for (let i2 = this.pMoved ? 0 : k; i2 < v.length; i2++) if (v.offs[i2] === off) return i2;
    throw new Error(`bt: the fast loop left unit ${hex(v.pc)} at ${hex(cpu.pc)}, outside the unit`);
  }
  /**
   * The fast loop's boundary probe (Cpu.BoundaryProbe): unit pu's straight run ended with its
   * control transfer, the next pc is pc, the cycle count the CPU's plus cyc. Goes on in the fast
   * loop exactly when the unit loop would end pu (endByControlFlow) and enter the next unit itself
   * (nextUnit) and then run that unit from its start in the fast loop (runInsns, runFastRun) -
   * pu of ident instructions alone, the deadline ahead after an indirect transfer's lookup, the
   * pc aligned and mapped by the shadow (in pu's page: where pu is; in another page: translated
   * through the shadow, as nextUnit does), the unit there live and linked from pu (direct:
   * chained) or cached (after an indirect transfer), a straight run from its first instruction
   * that qualifies, its words checked - doing what they would do: the same counters, the lookup charged (its cycles
   * returned to the loop, which counts them as not base cycles). Else -1, nothing done: the loop
   * stops and the unit loop takes the boundary as before.
   */
  enterInLoop(pc, cyc) {
    const u = this.pu;
    const mask = fastMask(u, false);
    if ((mask & FAST_ALL_IDENT) === 0 || u.dead || (pc & 3) !== 0 || cyc >= DL_MAX2) return -1;
    const indirect = INDIRECT2[u.ops[u.length - 1]] !== 0;
    const cpu = this.cpu;
    const c = indirect ? cpu.evUnit[EV_BT_LOOKUP] : 0;
    if (cpu.cycles + cyc + c >= this.pDeadline) return -1;
    let ma;
    if (((pc ^ this.ppc) & PAGE_MASK9) === 0) {
      ma = (u.ma & PAGE_MASK9) + (pc & 4095);
    } else {
      ma = cpu.mmu.translate(pc, false, this.pUser);
      if (ma < 0) return -1;
    }
    const cache = this.pCache;
    let y;
    if (indirect) {
      y = cache.get(ma);
      if (y === void 0) return -1;
    } else {
      y = liveLink(u, ma);
      if (y === void 0) return -1;
    }
    const counted = this.pCounted;
    const ym = fastMask(y, counted);
    if ((ym & 1) === 0) return -1;
    const f = ma >>> 12;
    const writes = this.codeWrites[f];
    const host2 = cache.host;
    if (counted && y.checked === writes) {
      host2.checksSkipped++;
    } else {
      const m32 = this.m32;
      const offs = y.offs;
      const words = y.words;
      const n = y.length;
      for (let i2 = 0; i2 < n; i2++) {
        if (m32[ma + offs[i2] >>> 2] !== words[i2]) return -1;
        if (y.kinds[i2] !== K_IDENT2) break;
      }
      if (counted && (ym & FAST_ALL_IDENT) !== 0) y.checked = writes;
    }
    const st = cache.stats;
    if (indirect) {
      st.indirectLookups++;
      st.lookupCycles += this.lookup;
      cpu.evCount[EV_BT_LOOKUP] += 1;
      this.pT.domain.stats.monitorCycles += c;
    } else {
      st.chained++;
    }
    st.unitsRun++;
    host2.loopEntries++;
    host2.probeEntries++;
    host2.fastRuns++;
    this.pu = y;
    this.ppc = pc;
    this.pMoved = true;
    this.storeLeft = false;
    if (counted) this.runFrame = f;
    return c;
  }
  /**
   * The interpreter engine's unit loop without the vCPU loop between units. Unit u, found through
   * the shadow at virtual pc upc, ran to its end, a control transfer, and held ident instructions
   * alone: those change neither the shadow, CR3, the ring, the virtual CPU nor the interrupt
   * controller, so at this boundary the vCPU loop's checks (a stopped domain, an interrupt the
   * virtual IF lets in, the ring) give what they gave when u was entered, and the shadow maps u's
   * page where it did. Ends u as the unit loop does (endByControlFlow: an indirect transfer's
   * lookup charged), then returns the unit the loop would enter next when it would enter it
   * with nothing else to do there - the deadline ahead, the pc aligned and mapped by the shadow,
   * and the unit cached (after an indirect transfer: its lookup made) or live and linked from u
   * (after a direct one: chained, free) - counted as the loop counts it; else null, and the vCPU
   * loop takes the boundary. Into another page the pc is translated through the shadow, as the
   * unit loop does.
   */
  nextUnit(t, u, upc, user, deadline, cache) {
    const st = cache.stats;
    const op = u.ops[u.length - 1];
    this.endByControlFlow(t, u, op, t.domain, st);
    const mask = fastMask(u, false);
    const cpu = this.cpu;
    if ((mask & FAST_ALL_IDENT) === 0 || u.dead || cpu.cycles >= deadline) return null;
    const pc = cpu.pc | 0;
    if ((pc & 3) !== 0) return null;
    let ma;
    if (((pc ^ upc) & PAGE_MASK9) === 0) {
      ma = (u.ma & PAGE_MASK9) + (pc & 4095);
    } else {
      ma = this.xlate(pc, user);
      if (ma < 0) return null;
    }
    let y;
    if (t.entry === ENTRY_INDIRECT) {
      y = cache.get(ma);
      if (y === void 0) return null;
    } else {
      y = liveLink(u, ma);
      if (y === void 0) return null;
      st.chained++;
    }
    t.entry = ENTRY_OTHER;
    t.prev = null;
    st.unitsRun++;
    cache.host.loopEntries++;
    return y;
  }
  /**
   * Would the instruction fetch at vpc (unit u's instruction at byte offset off) read the unit's
   * own words without walking? The instruction TLB holds its page, or is refilled from the TLB
   * as Mmu.xlateFetch does on a hit (a miss walks, charged: step() does that), and maps it to
   * the unit's frame.
   */
  fetchReady(u, vpc, user, off = 0) {
    const mmu = this.cpu.mmu;
    if ((vpc & 4294963203) !== mmu.icV || mmu.icUser !== user) {
      const e = tlbFind3(user ? mmu.tlbRU : mmu.tlbRS, (vpc >>> 12 & mmu.setMask) << mmu.wayShift, mmu.tlbWays, vpc & PAGE_MASK9);
      if (e < 0) return false;
      mmu.icV = vpc & PAGE_MASK9;
      mmu.icA = mmu.tlbAdd[e];
      mmu.icUser = user;
      this.codePage[vpc + mmu.icA >>> 12] = 1;
    }
    return (vpc + mmu.icA | 0) === u.ma + off;
  }
  /** The ident instructions of unit u from index k (u entered at virtual pc), for compileStraight. */
  straight(u, k, pc) {
    const insns = [];
    const m32 = this.m32;
    const frameEnd = (u.ma & PAGE_MASK9) + 4096;
    for (let i2 = k; i2 < u.length && u.kinds[i2] === K_IDENT2; i2++) {
      const pa = u.ma + u.offs[i2];
      const w = u.words[i2];
      insns.push({ at: pc + u.offs[i2] | 0, w, ext: INSN_BYTES[w & 255] === 8 && pa + 4 < frameEnd ? m32[pa + 4 >>> 2] : 0, pa });
    }
    return insns;
  }
  /**
   * Compile unit u (entered at virtual pc) with the units its direct control transfers are
   * chained to (linked now), transitively, up to CHAIN_MAX_UNITS: one function, each unit's
   * ident instructions a block. A boundary between two of them does in line what the unit loop
   * would: at the deadline it leaves; it goes on only while both units are live and linked (a
   * chained entry, counted as such), else it leaves for the unit loop to look the next unit up
   * (and charge it). Within a page the shadow maps the next unit where it mapped the last (the
   * monitor has not run); into another page the boundary first translates the target as the
   * unit loop would and checks the instruction fetch (enterChained).
   */
  compileChain(u, pc, cache) {
    const units = [u];
    const pcs = [pc | 0];
    const index = /* @__PURE__ */ new Map([[u.ma, 0]]);
    for (let i2 = 0; i2 < units.length; i2++) {
      const x = units[i2];
      const n = x.length;
      if (x.kinds.some((k) => k !== K_IDENT2)) continue;
      const op = x.ops[n - 1];
      if (op !== OP_JMP2 && op !== OP_JCC2 && op !== OP_CALL2 || INSN_BYTES[op] !== 8) continue;
      const xpc = pcs[i2] + x.offs[n - 1] | 0;
      if ((xpc + 4 & PAGE_MASK9) !== (xpc & PAGE_MASK9)) continue;
      const ext = this.m32[x.ma + x.offs[n - 1] + 4 >>> 2];
      const next = xpc + 8 | 0;
      for (const target of op === OP_JCC2 ? [next + ext | 0, next] : [next + ext | 0]) {
        if ((target & 3) !== 0 || units.length >= CHAIN_MAX_UNITS || pcs.includes(target)) continue;
        const y = x.links.find((l) => !l.dead && (l.ma & 4095) === (target & 4095) && l.kinds[0] === K_IDENT2 && l.ma >= 0);
        if (y === void 0 || index.has(y.ma)) continue;
        if ((target & PAGE_MASK9) === (pcs[i2] & PAGE_MASK9) && (y.ma & PAGE_MASK9) !== (x.ma & PAGE_MASK9)) continue;
        index.set(y.ma, units.length);
        units.push(y);
        pcs.push(target);
      }
    }
    const blocks = units.map((x, i2) => this.straight(x, 0, pcs[i2]));
    const frames = [...new Set(units.map((x) => x.ma >>> 12))];
    const words = [];
    const ends = [];
    blocks.forEach((b) => {
      for (const x of b) {
        words.push(x.pa >>> 2, x.w);
        if (INSN_BYTES[x.w & 255] === 8) {
          if ((x.pa & 4092) === 4092) break;
          words.push(x.pa + 4 >>> 2, x.ext);
        }
      }
      ends.push(words.length);
    });
    const chain = {
      u: units,
      pcs,
      st: cache.stats,
      host: cache.host,
      m: this,
      c: cache,
      pairs: [],
      epoch: cache.epoch,
      frames,
      seen: frames.map(() => -1),
      seenAll: -1,
      words,
      ends,
      checkedFn: void 0
    };
    u.chain = chain;
    return this.tx.compileStraight(blocks, this.chainLink(chain, true), CHAIN_FRAME, false);
  }
  /**
   * Chain ch's variant with the word check before each instruction (run while a word of it
   * differs from memory: it leaves before that instruction, and the unit loop drops the frame's
   * units). Its blocks are read again: their words are checked as they run, whatever they are.
   */
  checkedChain(ch) {
    const blocks = ch.u.map((x, i2) => this.straight(x, 0, ch.pcs[i2]));
    return ch.checkedFn = this.tx.compileStraight(blocks, this.chainLink(ch, false), CHAIN_FRAME);
  }
  /**
   * The code of chain ch's boundaries (compileStraight's link): at the deadline it leaves; a
   * boundary whose units are live and linked (`decide`: now, noted in ch.pairs; else: as when the
   * chain was compiled, ch.pairs) goes on, in another page after enterChained; any other one
   * checks in line that they are.
   */
  chainLink(ch, decide) {
    const units = ch.u;
    const pcs = ch.pcs;
    const pairs = ch.pairs;
    return (from, to, p) => {
      const leave = `{ pc = ${p}; why = BOUND; ix = ${~from}; break out; }`;
      let trusted = false;
      for (let i2 = 0; i2 < pairs.length && !trusted; i2 += 2) trusted = pairs[i2] === from && pairs[i2 + 1] === to;
      if (decide && !trusted && linkHolds(units[from], units[to])) {
        trusted = true;
        pairs.push(from, to);
      }
      const cross = (pcs[from] & PAGE_MASK9) !== (pcs[to] & PAGE_MASK9);
      const check = trusted ? cross ? `if (!bc.m.enterChained(bc.u[${to}], ${p}, user)) ${leave} ` : "" : `{ const a = bc.u[${from}], y = bc.u[${to}]; if (y.dead || a.dead || !a.links.includes(y)${cross ? ` || !bc.m.enterChained(y, ${p}, user)` : ""}) ${leave} } `;
      return `if (cyc >= dl) ${leave} ${check}ch++; b = ${to}; continue out;`;
    };
  }
  /**
   * May compiled chain ch be entered without its word checks: does every word its code holds of
   * its live units equal memory? Per frame of the chain, only when a CPU store reached the frame
   * since that was last found (codeWrites: every CPU store into a frame holding units reaches
   * the code-store hook; a host write drops the frame's units, and a dead unit's block is never
   * entered: a trusted boundary into it was found true at entry, an untrusted one checks). Inside,
   * a store into such a frame, or a refill whose walk writes into one, leaves the function right
   * after it (Cpu.txStored, Cpu.txMiss), so the words stay as found while it runs.
   */
  chainWordsHold(ch, cache) {
    const writes = this.codeWrites;
    const all = this.codeStores;
    if (all === ch.seenAll) return true;
    const frames = ch.frames;
    const seen = ch.seen;
    for (let i2 = 0; i2 < frames.length; i2++) {
      const f = frames[i2];
      const w = writes[f];
      if (w === seen[i2]) continue;
      cache.host.chainWordChecks++;
      const m32 = this.m32;
      const us = ch.u;
      const words = ch.words;
      const ends = ch.ends;
      for (let j = 0; j < us.length; j++) {
        const y = us[j];
        if (y.dead || y.ma >>> 12 !== f) continue;
        for (let k = j === 0 ? 0 : ends[j - 1]; k < ends[j]; k += 2) if (m32[words[k]] !== words[k + 1]) return false;
      }
      seen[i2] = w;
    }
    ch.seenAll = all;
    return true;
  }
  /**
   * Are the boundaries compiled as trusted in this chain (TranslationUnit.chain) still true - both
   * units live, the first linked to the second? (The cache's epoch moved since they were last
   * found so.)
   */
  chainHolds(ch) {
    const us = ch.u;
    const pairs = ch.pairs;
    for (let i2 = 0; i2 < pairs.length; i2 += 2) {
      if (!linkHolds(us[pairs[i2]], us[pairs[i2 + 1]])) return false;
    }
    return true;
  }
  /**
   * A chained boundary into unit y at virtual pc in another page than the last unit's (compiled
   * code): would the unit loop find y there (pc translates through the shadow to y's machine
   * address), and would the instruction fetch read y's words without walking? (fetchReady, which
   * refills the instruction TLB from the TLB, as the fetch at pc would next.)
   */
  enterChained(y, pc, user) {
    return this.xlate(pc, user) === y.ma && this.fetchReady(y, pc, user);
  }
  /**
   * The shadow's translation of the aligned virtual pc (Mmu.translate), remembered for the rest
   * of this pass of the unit loop (runUnit: xlEntry): it is asked only between units of ident
   * instructions alone (compiled code's boundaries, nextUnit), and since the pass began only
   * such units ran (a unit with anything else ends the pass at its end), which change neither
   * the shadow, CR3 nor the ring.
   */
  xlate(pc, user) {
    const slot = pc >>> 12 & XL_SLOTS - 1;
    if (this.xlPage[slot] === (pc & PAGE_MASK9 | (user ? 1 : 0)) && this.xlStamp[slot] === this.xlEntry) {
      this.host.translationsRemembered++;
      return this.xlFrame[slot] + (pc & 4095);
    }
    const ma = this.cpu.mmu.translate(pc, false, user);
    if (ma >= 0 && (pc & 3) === 0) this.remember(pc, user, ma);
    return ma;
  }
  /** xlate's memo: aligned pc translates to ma through the shadow (for the rest of this pass). */
  remember(pc, user, ma) {
    const slot = pc >>> 12 & XL_SLOTS - 1;
    this.xlPage[slot] = pc & PAGE_MASK9 | (user ? 1 : 0);
    this.xlFrame[slot] = ma & PAGE_MASK9;
    this.xlStamp[slot] = this.xlEntry;
  }
  /**
   * `--bt-adaptive`: a kernel store left its unit by a CPU exit. Handled as any exit; if it was a
   * trace fault, counted against the store's address, and the ADAPTIVE_TRACE_FAULTS-th one has it
   * retranslated as a store callout ("innocent until proven guilty").
   */
  storeExit(t, res, exit, cache, ma, pc) {
    const stats = t.domain.stats;
    const before = stats.traceFaults;
    const r = this.handleCpuExit(t, res, exit);
    if (stats.traceFaults !== before) {
      const n = (cache.traceFaultsAt.get(pc) ?? 0) + 1;
      if (n >= ADAPTIVE_TRACE_FAULTS) {
        cache.traceFaultsAt.delete(pc);
        cache.retranslateStore(ma);
      } else {
        cache.traceFaultsAt.set(pc, n);
      }
    }
    return r;
  }
  endByControlFlow(t, u, op, dom, st) {
    if (INDIRECT2[op] !== 0) {
      st.indirectLookups++;
      this.chargeLookup(dom, st);
      t.entry = ENTRY_INDIRECT;
    } else {
      t.entry = ENTRY_DIRECT;
      t.prev = u;
    }
    return CONTINUE2;
  }
  chargeLookup(dom, st) {
    st.lookupCycles += this.lookup;
    this.hv.chargeMonitor(dom, EV_BT_LOOKUP, 1);
  }
  /** MOVCR to CR4 at virtual CPL 0 of the value CR4 already holds (the word is the instruction). */
  sameValueCr4(t, w) {
    const rd = w >>> 8 & 15;
    const ra = w >>> 12 & 15;
    return rd === 4 && t.vcpl === 0 && (this.cpu.regs[ra] & CR4_TSD) === t.v.cr4;
  }
  /** A virtual interrupt is pending and the virtual IF now lets it in: end the unit so it is injected. */
  interruptDue(t) {
    const pic = t.domain.devices?.interruptController(t.vcpu.id);
    return pic !== void 0 && t.v.vIF && pic.pendingVector() >= 0;
  }
  /**
   * One CPU exit, by reason: of user code run directly, or of an instruction of a translated unit
   * (an intercepted trap). Every vector is intercepted; nothing else is set to exit.
   */
  handleCpuExit(t, x, exit) {
    switch (x) {
      case 0 /* Exception */:
        return this.handleTrap(t, exit);
      case 256 /* Deadline */:
      case 1 /* ExternalInterrupt */:
        return CONTINUE2;
      case 258 /* Stopped */:
        hostStopExit(exit);
        return TO_LOOP2;
      default:
        crashOnUnexpectedExit(t.domain, "bt", x, this.cpu.pc);
        return this.dead(t.domain, exit);
    }
  }
  /**
   * An intercepted trap (from user code, or a fault in translated kernel code): trap mode's
   * handling - shadow faults hidden or reflected, system calls and exceptions reflected, a
   * privileged instruction of user code emulated or refused. Charged as under trap mode.
   */
  handleTrap(t, exit) {
    t.entry = ENTRY_OTHER;
    return this.trap.handleTrap(t, exit);
  }
  /** Acknowledge the virtual PIC's line and deliver it through the guest's IDT (a host interrupt, as under trap mode). */
  inject(t) {
    const pic = t.domain.devices.interruptController(t.vcpu.id);
    if (pic.pendingVector() < 0) return;
    t.entry = ENTRY_OTHER;
    this.trap.inject(t, pic);
  }
  dead(dom, exit) {
    stoppedExit(dom, exit);
    return TO_LOOP2;
  }
};
function btCache(domain) {
  const c = domain.modeState;
  if (!(c instanceof TranslationCache)) throw new Error(`domain '${domain.name}' is not a bt domain`);
  return c;
}

// hypervisor/bt/index.ts
function runBtMode(boot, opts = {}) {
  return runSingleGuest(new BtMode(opts.bt), boot, opts, (_bytes, vcpus) => vcpus * HYPERVISOR_RESERVE_BYTES, "shadow page tables");
}

// hypervisor/index.ts
function runImageInMode(mode2, image, opts = {}) {
  switch (mode2) {
    case "trap":
      return runTrapMode(image, opts);
    case "bt":
      return runBtMode(image, opts);
    case "pv":
      return runPvMode(image, opts);
    case "hvm":
      return runHvmMode(image, opts);
    default:
      return assertNever(mode2, "mode");
  }
}

// toolchain/guest-kernel.ts
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, mkdirSync, writeFileSync, existsSync, renameSync, rmSync } from "node:fs";
import { dirname as dirname2, join, relative as relative3, resolve as resolve3, sep as sep2 } from "node:path";
import { fileURLToPath as fileURLToPath2 } from "node:url";

// toolchain/compiler/index.ts
import ts6 from "typescript";

// toolchain/asm/errors.ts
var formatDiagnostic = (d) => `${d.file}:${d.line}:${d.col}: ${d.message}`;
var AsmError = class extends Error {
  file;
  line;
  col;
  diagnostics;
  constructor(diagnostics, truncated = 0) {
    const first2 = diagnostics[0];
    if (!first2) throw new Error("AsmError needs at least one diagnostic");
    const lines = diagnostics.map(formatDiagnostic);
    if (truncated > 0) lines.push(`${first2.file}: ... and ${truncated} more error${truncated === 1 ? "" : "s"}`);
    super(lines.join("\n"));
    this.name = "AsmError";
    this.file = first2.file;
    this.line = first2.line;
    this.col = first2.col;
    this.diagnostics = diagnostics;
  }
};
var StmtError = class extends Error {
  constructor(pos, message) {
    super(message);
    this.pos = pos;
  }
  pos;
};
var Silenced = class extends Error {
};
var MAX_ERRORS = 20;
var Diagnostics = class {
  constructor(file) {
    this.file = file;
  }
  file;
  list = [];
  error(pos, message) {
    this.list.push({ file: this.file, line: pos.line, col: pos.col, message });
  }
  /** Run one statement's work, recording a StmtError instead of propagating it. */
  guard(fn) {
    try {
      fn();
      return true;
    } catch (e) {
      if (e instanceof StmtError) this.error(e.pos, e.message);
      else if (!(e instanceof Silenced)) throw e;
      return false;
    }
  }
  get count() {
    return this.list.length;
  }
  /** Throw an AsmError if anything was reported (sorted by position, duplicates dropped). */
  throwIfAny() {
    if (this.list.length === 0) return;
    const seen = /* @__PURE__ */ new Set();
    const sorted = [...this.list].sort((a, b) => a.line - b.line || a.col - b.col).filter((d) => {
      const key = formatDiagnostic(d);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    throw new AsmError(sorted.slice(0, MAX_ERRORS), Math.max(0, sorted.length - MAX_ERRORS));
  }
};
function editDistance(a, b) {
  const rows = [];
  for (let i2 = 0; i2 <= a.length; i2++) {
    const row = [i2];
    for (let j = 1; j <= b.length; j++) {
      if (i2 === 0) {
        row.push(j);
        continue;
      }
      let d = Math.min(rows[i2 - 1][j] + 1, row[j - 1] + 1, rows[i2 - 1][j - 1] + (a[i2 - 1] === b[j - 1] ? 0 : 1));
      if (i2 > 1 && j > 1 && a[i2 - 1] === b[j - 2] && a[i2 - 2] === b[j - 1]) d = Math.min(d, rows[i2 - 2][j - 2] + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length][b.length];
}
function closest(word, candidates) {
  let best;
  let bestDist = Infinity;
  const limit = Math.max(1, Math.floor(word.length / 3));
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDist || d === bestDist && best !== void 0 && c < best) {
      best = c;
      bestDist = d;
    }
  }
  return bestDist <= limit ? best : void 0;
}
function didYouMean(word, candidates) {
  const c = closest(word, candidates);
  return c === void 0 ? "" : `; did you mean \`${c}\`?`;
}

// toolchain/asm/expr.ts
var LEVELS = [["|"], ["^"], ["&"], ["<<", ">>"], ["+", "-"], ["*", "/", "%"]];
var Cursor = class {
  constructor(tokens, end) {
    this.tokens = tokens;
    this.end = end;
  }
  tokens;
  end;
  i = 0;
  peek() {
    return this.tokens[this.i];
  }
  next() {
    return this.tokens[this.i++];
  }
  atEnd() {
    return this.i >= this.tokens.length;
  }
  isPunct(p) {
    const t = this.tokens[this.i];
    return t !== void 0 && t.kind === "punct" && t.text === p;
  }
  /** Position of the next token, or the end of the line. */
  pos() {
    return this.tokens[this.i]?.pos ?? this.end;
  }
  /** A description of the next token for messages: "`x`" or "the end of the line". */
  describe() {
    const t = this.tokens[this.i];
    return t === void 0 ? "the end of the line" : `\`${t.text}\``;
  }
  expectPunct(p, what) {
    if (!this.isPunct(p)) throw new StmtError(this.pos(), `expected \`${p}\` ${what}, found ${this.describe()}`);
    return this.next().pos;
  }
};
function parseExpr(c) {
  return parseLevel(c, 0);
}
function parseLevel(c, level) {
  if (level === LEVELS.length) return parseUnary(c);
  const ops = LEVELS[level];
  let left = parseLevel(c, level + 1);
  for (; ; ) {
    const t = c.peek();
    if (!t || t.kind !== "punct" || !ops.includes(t.text)) return left;
    c.next();
    const right = parseLevel(c, level + 1);
    left = { kind: "binary", op: t.text, left, right, pos: t.pos };
  }
}
function parseUnary(c) {
  const t = c.peek();
  if (t && t.kind === "punct" && (t.text === "-" || t.text === "~" || t.text === "+")) {
    c.next();
    return { kind: "unary", op: t.text, operand: parseUnary(c), pos: t.pos };
  }
  return parsePrimary(c);
}
function parsePrimary(c) {
  const t = c.peek();
  if (t === void 0) throw new StmtError(c.pos(), "expected an expression, found the end of the line");
  switch (t.kind) {
    case "num":
      c.next();
      return { kind: "num", value: t.value, pos: t.pos };
    case "ident":
      c.next();
      return t.text === "." ? { kind: "dot", pos: t.pos } : { kind: "sym", name: t.text, pos: t.pos };
    case "punct":
      if (t.text === "(") {
        c.next();
        const e = parseExpr(c);
        c.expectPunct(")", "to close the parenthesis");
        return e;
      }
      throw new StmtError(t.pos, `expected an expression, found \`${t.text}\``);
    case "str":
      throw new StmtError(t.pos, "a string is not a number here; use a character literal such as 'A' for one byte");
  }
}
var wrap64 = (v) => BigInt.asIntN(64, v);
function evaluate(e, scope) {
  switch (e.kind) {
    case "num":
      return wrap64(e.value);
    case "sym":
      return scope.symbol(e.name, e.pos);
    case "dot":
      return scope.dot(e.pos);
    case "unary": {
      const v = evaluate(e.operand, scope);
      const op = e.op;
      switch (op) {
        case "-":
          return wrap64(-v);
        case "~":
          return ~v;
        case "+":
          return v;
        default:
          return assertNever(op, "operator");
      }
    }
    case "binary": {
      const a = evaluate(e.left, scope);
      const b = evaluate(e.right, scope);
      const op = e.op;
      switch (op) {
        case "+":
          return wrap64(a + b);
        case "-":
          return wrap64(a - b);
        case "*":
          return wrap64(a * b);
        case "/":
        case "%":
          if (b === 0n) throw new StmtError(e.pos, `division by zero in \`${op}\``);
          return wrap64(op === "/" ? a / b : a % b);
        case "<<":
        case ">>":
          if (b < 0n || b > 63n) throw new StmtError(e.pos, `shift count ${b} is out of range 0..63`);
          return op === "<<" ? wrap64(a << b) : a >> b;
        case "&":
          return a & b;
        case "^":
          return a ^ b;
        case "|":
          return a | b;
        default:
          return assertNever(op, "operator");
      }
    }
    default:
      return assertNever(e, "expression case");
  }
}

// toolchain/asm/syntax.ts
function registerNumber(name) {
  const n = name.toLowerCase();
  if (n === "sp") return REG_SP;
  if (n === "fp") return REG_FP;
  const m = /^r(\d{1,2})$/.exec(n);
  if (!m) return void 0;
  const k = Number(m[1]);
  return k < NUM_REGS && String(k) === m[1] ? k : void 0;
}
function crSpelling(name) {
  const m = /^cr(\d{1,3})$/i.exec(name);
  return m ? Number(m[1]) : void 0;
}
var CONTROL_REGISTERS = [0 /* CR0 */, 2 /* CR2 */, 3 /* CR3 */, 4 /* CR4 */];
function isReservedName(name) {
  return registerNumber(name) !== void 0 || crSpelling(name) !== void 0;
}
function condField(fmt) {
  if (fmt === 10 /* CondRel */) return "rd";
  if (fmt === 13 /* DCond */) return "ra";
  return null;
}
function spell(info, cond) {
  return cond === null ? info.mnemonic : info.mnemonic + COND_NAMES[cond];
}
var MNEMONICS = (() => {
  const map = /* @__PURE__ */ new Map();
  const add = (name, m) => {
    if (map.has(name)) throw new Error(`mnemonic ${name} is spelled twice`);
    map.set(name, m);
  };
  for (const info of INSTRUCTIONS) {
    if (condField(info.fmt) === null) add(info.mnemonic, { info, cond: null });
    else COND_NAMES.forEach((_, cond) => add(spell(info, cond), { info, cond }));
  }
  return map;
})();
function slotsOf(fmt) {
  switch (fmt) {
    case 0 /* None */:
      return [];
    case 1 /* D */:
      return ["rd"];
    case 2 /* A */:
      return ["ra"];
    case 3 /* DA */:
      return ["rd", "ra"];
    case 4 /* DAB */:
      return ["rd", "ra", "rb"];
    case 5 /* DAI */:
      return ["rd", "ra", "imm16"];
    case 6 /* Load */:
      return ["rd", "mem"];
    case 7 /* Store */:
      return ["mem", "rd"];
    case 8 /* DImm32 */:
      return ["rd", "imm32"];
    case 9 /* Rel */:
      return ["target"];
    case 10 /* CondRel */:
      return ["target"];
    case 11 /* AB */:
      return ["ra", "rb"];
    case 12 /* AI */:
      return ["ra", "imm16"];
    case 13 /* DCond */:
      return ["rd"];
    case 14 /* Vec */:
      return ["vector"];
    case 15 /* DPort */:
      return ["rd", "port"];
    case 16 /* PortA */:
      return ["port", "ra"];
    case 17 /* CrA */:
      return ["crd", "ra"];
    case 18 /* DCr */:
      return ["rd", "cra"];
    case 19 /* AImm */:
      return ["ra", "count"];
    case 20 /* RingA */:
      return ["ring", "ra"];
    case 21 /* DD */:
      return ["rd", "ra"];
    default:
      return assertNever(fmt);
  }
}
var SLOT_RANGE = {
  imm16: [IMM16_MIN, IMM16_MAX],
  vector: [0, 255],
  port: [0, 65535],
  /** LIDT's IDT entry count: vectors are 0..255, so at most 256 entries */
  count: [0, 256],
  /** LKSP: kernel stack pointers exist for rings 0..2 */
  ring: [0, 2]
};
var U32_MAX = 4294967295;
function encodeFields(info, f) {
  const word = encode(info.op, f.rd, f.ra, f.imm);
  return info.bytes === 8 ? [word, f.ext | 0] : [word];
}

// toolchain/asm/layout.ts
var SymbolTable = class {
  constructor(poisoned) {
    this.poisoned = poisoned;
  }
  poisoned;
  defs = /* @__PURE__ */ new Map();
  /** Labels in definition order, with their addresses (after pass 1). */
  labels() {
    const out = [];
    for (const d of this.defs.values()) if (d.kind === "label" && d.addr !== null) out.push({ name: d.name, addr: d.addr, pos: d.pos });
    return out;
  }
  label(name) {
    const d = this.defs.get(name);
    return d?.kind === "label" ? d : void 0;
  }
  dotValue = 0;
  shared = {
    dot: () => BigInt(this.dotValue),
    symbol: (name, pos) => this.value(name, pos)
  };
  /** The scope in which `.` is `dot` (one shared object: valid until the next call). */
  scope(dot) {
    this.dotValue = dot;
    return this.shared;
  }
  value(name, pos) {
    if (this.poisoned.has(name)) throw new Silenced();
    const d = this.defs.get(name);
    if (!d) {
      if (isReservedName(name)) throw new StmtError(pos, `\`${name}\` is a register; registers cannot be used inside expressions`);
      throw new StmtError(pos, `undefined symbol \`${name}\`${didYouMean(name, this.defs.keys())}`);
    }
    switch (d.kind) {
      case "label":
        if (d.addr === null) {
          throw new StmtError(pos, `the address of \`${name}\` is not known here: it is defined on line ${d.pos.line}, below; .org, .space and .align values may only use symbols defined above them`);
        }
        return BigInt(d.addr);
      case "equ": {
        if (d.value !== null) return d.value;
        if (d.busy) throw new StmtError(d.pos, `circular definition: \`${name}\` depends on itself`);
        d.busy = true;
        try {
          const dot = d.dot;
          const v = evaluate(d.expr, {
            symbol: (n, p) => this.value(n, p),
            dot: (p) => {
              if (dot === null) throw new StmtError(p, `\`.\` in the definition of \`${name}\` is not known yet: the constant is used above its definition`);
              return BigInt(dot);
            }
          });
          d.value = v;
          return v;
        } finally {
          d.busy = false;
        }
      }
      default:
        return assertNever(d);
    }
  }
};
var FOUR_GIB = 4294967296;
function evalRange(e, scope, pos, min, max, what) {
  const v = evaluate(e, scope);
  if (v < BigInt(min) || v > BigInt(max)) throw new StmtError(pos, `${what} ${v} is out of range ${min}..${max}`);
  return Number(v);
}
function evalAddress(e, scope, pos, what) {
  const v = evaluate(e, scope);
  if (v < -0x80000000n || v > BigInt(U32_MAX)) throw new StmtError(pos, `${what} ${v} does not fit in 32 bits`);
  return Number(BigInt.asUintN(32, v));
}
function layout(parsed, diags, defaultArch) {
  const symbols = new SymbolTable(parsed.poisoned);
  const { stmts } = parsed;
  const marks = /* @__PURE__ */ new Map();
  for (const s of stmts) {
    diags.guard(() => {
      if (s.kind === "label") define(symbols, { kind: "label", name: s.name, pos: s.pos, addr: null, seg: 0 });
      else if (s.kind === "directive" && s.dir === "equ") define(symbols, { kind: "equ", name: s.name, pos: s.namePos, expr: s.expr, dot: null, value: null, busy: false });
    });
  }
  const funcLabels = /* @__PURE__ */ new Set();
  for (const s of stmts) {
    if (s.kind !== "directive" || s.dir !== "func" && s.dir !== "object") continue;
    diags.guard(() => {
      const d = symbols.defs.get(s.name);
      const what = s.dir === "func" ? ".func" : ".object";
      if (d?.kind === "equ") throw new StmtError(s.namePos, `\`${what} ${s.name}\`: \`${s.name}\` is a constant (line ${d.pos.line}), not a label`);
      const prior = marks.get(s.name);
      if (prior) throw new StmtError(s.namePos, `\`${s.name}\` is already marked with .${prior.kind} on line ${prior.pos.line}`);
      if (!d) {
        if (s.dir === "object") {
          throw new StmtError(s.namePos, `\`.object ${s.name}\`: no label \`${s.name}\` is defined${didYouMean(s.name, symbols.defs.keys())}`);
        }
        symbols.defs.set(s.name, { kind: "label", name: s.name, pos: s.namePos, addr: null, seg: 0 });
        funcLabels.add(s);
      }
      marks.set(s.name, { kind: s.dir, pos: s.namePos, size: 0, sizeExpr: s.dir === "object" ? s.size : null });
    });
  }
  const segments = [{ vaddr: 0, paddr: 0, size: 0, pos: { line: 1, col: 1 } }];
  let cur = 0;
  const placed = [];
  let arch = defaultArch;
  let archPos = null;
  let entry = null;
  let entryPos = null;
  let openFunc = null;
  for (const s of stmts) {
    const seg = segments[cur];
    const addr = seg.vaddr + seg.size;
    let size = 0;
    const ok = diags.guard(() => {
      const scope = symbols.scope(addr);
      switch (s.kind) {
        case "label": {
          const d = symbols.label(s.name);
          if (d && d.pos === s.pos) {
            d.addr = addr;
            d.seg = cur;
          }
          return;
        }
        case "insn":
          if (addr % 4 !== 0) throw new StmtError(s.pos, `instruction at ${hex(addr)} is not 4-byte aligned; put \`.align 4\` before it`);
          size = s.mnemonic.info.bytes;
          return;
        case "directive":
          switch (s.dir) {
            case "org": {
              const vaddr = evalRange(s.vaddr, scope, s.vaddr.pos, 0, U32_MAX, ".org address");
              const paddr = s.paddr ? evalRange(s.paddr, scope, s.paddr.pos, 0, U32_MAX, ".org physical address") : vaddr;
              segments.push({ vaddr, paddr, size: 0, pos: s.pos });
              cur = segments.length - 1;
              return;
            }
            case "entry":
              if (entryPos) throw new StmtError(s.pos, `duplicate .entry: the entry point was already set on line ${entryPos.line}`);
              entry = s.expr;
              entryPos = s.pos;
              return;
            case "arch":
              if (archPos && arch !== s.arch) throw new StmtError(s.pos, `.arch ${s.arch} contradicts .arch ${arch} on line ${archPos.line}`);
              if (!archPos && arch !== void 0 && arch !== s.arch) throw new StmtError(s.pos, `.arch ${s.arch} contradicts the arch the assembler was asked for (${arch})`);
              arch = s.arch;
              archPos = s.pos;
              return;
            case "equ": {
              const d = symbols.defs.get(s.name);
              if (d?.kind === "equ" && d.pos === s.namePos) d.dot = addr;
              return;
            }
            case "data":
              size = s.width * s.exprs.length;
              return;
            case "ascii":
              size = s.bytes.length;
              return;
            case "space":
              size = evalRange(s.size, scope, s.size.pos, 0, FOUR_GIB - addr - 1, ".space size");
              return;
            case "align": {
              const n = evalRange(s.n, scope, s.n.pos, 1, 2147483648, ".align boundary");
              if ((n & n - 1) !== 0) throw new StmtError(s.n.pos, `.align ${n}: the boundary must be a power of two (1, 2, 4, 8, ...)`);
              size = (n - addr % n) % n;
              return;
            }
            case "func":
              if (openFunc) throw new StmtError(s.pos, `.func ${s.name} inside .func ${openFunc.name} (line ${openFunc.pos.line}); close it with .endfunc first`);
              openFunc = { name: s.name, pos: s.pos };
              if (funcLabels.has(s)) {
                const d = symbols.label(s.name);
                d.addr = addr;
                d.seg = cur;
              }
              return;
            case "endfunc": {
              if (!openFunc) throw new StmtError(s.pos, ".endfunc without a .func before it");
              const f = openFunc;
              openFunc = null;
              const d = symbols.label(f.name);
              const mark = marks.get(f.name);
              if (!d || !mark) return;
              if (d.addr === null) throw new StmtError(f.pos, `function \`${f.name}\` must be defined before its .endfunc (line ${s.pos.line})`);
              if (d.seg !== cur) throw new StmtError(s.pos, `.endfunc for \`${f.name}\` is in a different segment than the function's start (a .org lies between them)`);
              mark.size = addr - d.addr;
              return;
            }
            case "object":
              return;
            default:
              return assertNever(s);
          }
        default:
          return assertNever(s);
      }
    });
    if (!ok) size = 0;
    const at = segments[cur];
    const start = at.vaddr + at.size;
    if (start + size > FOUR_GIB) {
      diags.error(s.pos, `this runs past the end of the 32-bit address space (segment from ${hex(at.vaddr)})`);
      size = 0;
    }
    placed.push({ stmt: s, seg: cur, addr: s.kind === "directive" && s.dir === "org" ? start : addr, size });
    at.size += size;
  }
  if (openFunc) {
    const f = openFunc;
    diags.error(f.pos, `.func ${f.name} has no matching .endfunc`);
  }
  checkSegments(segments, diags);
  return { segments, placed, symbols, marks, arch: arch ?? "bare", entry };
}
function define(symbols, def) {
  const prior = symbols.defs.get(def.name);
  if (prior) {
    const what = def.kind === "label" ? "label" : "constant";
    throw new StmtError(def.pos, `duplicate ${what} \`${def.name}\`: already defined on line ${prior.pos.line}`);
  }
  symbols.defs.set(def.name, def);
}
function checkSegments(segments, diags) {
  const used = segments.filter((s) => s.size > 0);
  for (const s of used) {
    if (s.paddr + s.size > FOUR_GIB) diags.error(s.pos, `segment loaded at physical ${hex(s.paddr)} runs past the end of the 32-bit address space`);
  }
  used.forEach((b, j) => {
    for (const a of used.slice(0, j)) {
      for (const [key, space] of [["vaddr", "addresses"], ["paddr", "physical addresses"]]) {
        if (a[key] < b[key] + b.size && b[key] < a[key] + a.size) {
          diags.error(b.pos, `this segment (${space} ${hex(b[key])}..${hex(b[key] + b.size - 1)}) overlaps the one from line ${a.pos.line} (${hex(a[key])}..${hex(a[key] + a.size - 1)})`);
          break;
        }
      }
    }
  });
}

// toolchain/asm/emit.ts
var RANGE_WORDS = {
  imm16: (v) => `immediate ${v} does not fit in 16 signed bits (${SLOT_RANGE.imm16[0]}..${SLOT_RANGE.imm16[1]}); load it with li into a register`,
  vector: (v) => `vector ${v} is out of range 0..255`,
  port: (v) => `port ${v} is out of range 0..65535`,
  count: (v) => `IDT entry count ${v} is out of range 0..256 (vectors are 0..255)`,
  ring: (v) => `ring ${v} is out of range for lksp: kernel stack pointers exist for rings 0..2`
};
function checked(slot, e, scope) {
  const v = evaluate(e, scope);
  const [min, max] = SLOT_RANGE[slot];
  if (v < BigInt(min) || v > BigInt(max)) throw new StmtError(e.pos, RANGE_WORDS[slot](v));
  return Number(v);
}
function dataValue(e, scope, bytes) {
  const v = evaluate(e, scope);
  const bits = bytes * 8;
  const min = -(1n << BigInt(bits - 1));
  const max = (1n << BigInt(bits)) - 1n;
  if (v < min || v > max) {
    const what = bytes === 1 ? "a byte" : bytes === 2 ? "a halfword" : "a word";
    throw new StmtError(e.pos, `value ${v} does not fit in ${what} (${min}..${max})`);
  }
  return Number(BigInt.asUintN(32, v));
}
function fieldsOf(args, addr, scope) {
  const f = { rd: 0, ra: 0, imm: 0, ext: 0 };
  for (const a of args) {
    switch (a.slot) {
      case "rd":
        f.rd = a.reg;
        break;
      case "ra":
        f.ra = a.reg;
        break;
      case "rb":
        f.imm = a.reg;
        break;
      case "crd":
        f.rd = a.cr;
        break;
      case "cra":
        f.ra = a.cr;
        break;
      case "mem": {
        f.ra = a.base;
        if (a.offset) {
          const v = evaluate(a.offset, scope);
          const [min, max] = SLOT_RANGE.imm16;
          if (v < BigInt(min) || v > BigInt(max)) {
            throw new StmtError(a.offset.pos, `offset ${v} does not fit in 16 signed bits (${min}..${max}); compute the address in a register first`);
          }
          f.imm = Number(v);
        }
        break;
      }
      case "imm16":
      case "vector":
      case "port":
      case "count":
      case "ring":
        f.imm = checked(a.slot, a.expr, scope);
        break;
      case "imm32":
        f.ext = dataValue(a.expr, scope, 4) | 0;
        break;
      case "target": {
        const target = evalAddress(a.expr, scope, a.pos, "branch target");
        f.ext = target - (addr + 8) | 0;
        break;
      }
      default:
        assertNever(a);
    }
  }
  return f;
}
function put32(buf, off, v) {
  buf[off] = v & 255;
  buf[off + 1] = v >>> 8 & 255;
  buf[off + 2] = v >>> 16 & 255;
  buf[off + 3] = v >>> 24 & 255;
}
function emit(lay, diags) {
  const data = lay.segments.map((s) => new Uint8Array(s.size));
  const listing = [];
  const { symbols } = lay;
  for (const p of lay.placed) {
    const s = p.stmt;
    const buf = data[p.seg];
    const off = p.addr - lay.segments[p.seg].vaddr;
    const scope = symbols.scope(p.addr);
    diags.guard(() => {
      switch (s.kind) {
        case "label":
          return;
        case "insn": {
          if (p.size === 0) return;
          const f = fieldsOf(s.args, p.addr, scope);
          const field = condField(s.mnemonic.info.fmt);
          if (field !== null) f[field] = s.mnemonic.cond;
          encodeFields(s.mnemonic.info, f).forEach((w, k) => put32(buf, off + 4 * k, w));
          return;
        }
        case "directive":
          switch (s.dir) {
            case "data":
              if (p.size === 0) return;
              s.exprs.forEach((e, k) => {
                const v = dataValue(e, scope, s.width);
                const at = off + k * s.width;
                for (let b = 0; b < s.width; b++) buf[at + b] = v >>> 8 * b & 255;
              });
              return;
            case "ascii":
              if (p.size === s.bytes.length) buf.set(s.bytes, off);
              return;
            case "space":
              if (s.fill) buf.fill(dataValue(s.fill, scope, 1), off, off + p.size);
              return;
            case "equ":
              symbols.value(s.name, s.namePos);
              return;
            case "object": {
              const mark = lay.marks.get(s.name);
              if (mark?.kind === "object") mark.size = evalRange(s.size, scope, s.size.pos, 0, U32_MAX, ".object size");
              return;
            }
            case "org":
            case "entry":
            case "arch":
            case "align":
            case "func":
            case "endfunc":
              return;
            default:
              return assertNever(s);
          }
        default:
          return assertNever(s);
      }
    });
    if (p.size > 0) listing.push({ line: s.pos.line, addr: p.addr, bytes: p.size });
  }
  let entry = 0;
  const entryExpr = lay.entry;
  const start = symbols.label("_start");
  if (entryExpr) {
    diags.guard(() => {
      entry = evalAddress(entryExpr, symbols.scope(0), entryExpr.pos, "entry point");
    });
  } else if (start && start.addr !== null) {
    entry = start.addr;
  } else {
    entry = lay.segments.find((s) => s.size > 0)?.vaddr ?? 0;
  }
  const imageSymbols = symbols.labels().filter((l) => !l.name.startsWith(".L")).map((l) => {
    const mark = lay.marks.get(l.name);
    const kind = mark?.kind === "func" ? 0 /* Function */ : mark?.kind === "object" ? 1 /* Object */ : 2 /* Label */;
    return { name: l.name, addr: l.addr, size: mark?.size ?? 0, kind };
  }).map((sym, order) => ({ sym, order })).sort((a, b) => a.sym.addr - b.sym.addr || a.order - b.order).map(({ sym }) => sym);
  const image = {
    entry,
    arch: ARCH_NAMES.indexOf(lay.arch),
    segments: lay.segments.map((s, k) => ({ vaddr: s.vaddr, paddr: s.paddr, memBytes: s.size, flags: 1 /* R */ | 2 /* W */ | 4 /* X */, data: data[k] })).filter((s) => s.memBytes > 0),
    symbols: imageSymbols,
    notes: {}
  };
  return { image, listing };
}

// machine/isa-doc.ts
function formatSyntax(fmt) {
  switch (fmt) {
    case 0 /* None */:
      return "";
    case 1 /* D */:
      return "rd";
    case 2 /* A */:
      return "ra";
    case 3 /* DA */:
      return "rd, ra";
    case 4 /* DAB */:
      return "rd, ra, rb";
    case 5 /* DAI */:
      return "rd, ra, imm16";
    case 6 /* Load */:
      return "rd, [ra + imm16]";
    case 7 /* Store */:
      return "[ra + imm16], rd";
    case 8 /* DImm32 */:
      return "rd, imm32";
    case 9 /* Rel */:
      return "target";
    case 10 /* CondRel */:
      return "target";
    case 11 /* AB */:
      return "ra, rb";
    case 12 /* AI */:
      return "ra, imm16";
    case 13 /* DCond */:
      return "rd";
    case 14 /* Vec */:
      return "vector";
    case 15 /* DPort */:
      return "rd, port";
    case 16 /* PortA */:
      return "port, ra";
    case 17 /* CrA */:
      return "crN, ra";
    case 18 /* DCr */:
      return "rd, crN";
    case 19 /* AImm */:
      return "ra, count";
    case 20 /* RingA */:
      return "ring, ra";
    case 21 /* DD */:
      return "rd, ra";
    default:
      return assertNever(fmt, "format");
  }
}

// toolchain/asm/lexer.ts
var SINGLE = /* @__PURE__ */ new Set([",", ":", "[", "]", "(", ")", "+", "-", "*", "/", "%", "&", "|", "^", "~", "="]);
var IDENT_START = /[A-Za-z_.$]/;
var IDENT_PART = /[A-Za-z0-9_.$]/;
var ESCAPES = { n: 10, t: 9, r: 13, "0": 0, "\\": 92, '"': 34, "'": 39 };
var UTF8 = new TextEncoder();
var ESCAPE_LIST = `\\n \\t \\r \\0 \\\\ \\" \\' \\xNN`;
function lexLine(text, line) {
  const out = [];
  let i2 = 0;
  const at = (k) => ({ line, col: k + 1 });
  while (i2 < text.length) {
    const c = text[i2];
    if (c === " " || c === "	" || c === "\r" || c === "\f" || c === "\v") {
      i2++;
    } else if (c === ";" || c === "/" && text[i2 + 1] === "/") {
      break;
    } else if (IDENT_START.test(c)) {
      const start = i2;
      while (i2 < text.length && IDENT_PART.test(text[i2])) i2++;
      out.push({ kind: "ident", text: text.slice(start, i2), pos: at(start) });
    } else if (c >= "0" && c <= "9") {
      const start = i2;
      while (i2 < text.length && IDENT_PART.test(text[i2])) i2++;
      const raw = text.slice(start, i2);
      out.push({ kind: "num", value: parseNumber(raw, at(start)), text: raw, pos: at(start) });
    } else if (c === '"') {
      const start = i2;
      const bytes = [];
      i2++;
      for (; ; ) {
        if (i2 >= text.length) throw new StmtError(at(start), 'unterminated string: add the closing "');
        const ch = text[i2];
        if (ch === '"') {
          i2++;
          break;
        }
        if (ch === "\\") {
          const [value, next] = readEscape(text, i2, line);
          bytes.push(value);
          i2 = next;
        } else if (ch.charCodeAt(0) < 128) {
          bytes.push(ch.charCodeAt(0));
          i2++;
        } else {
          const chars = String.fromCodePoint(text.codePointAt(i2));
          for (const b of UTF8.encode(chars)) bytes.push(b);
          i2 += chars.length;
        }
      }
      out.push({ kind: "str", bytes: Uint8Array.from(bytes), text: text.slice(start, i2), pos: at(start) });
    } else if (c === "'") {
      const start = i2;
      i2++;
      let value;
      if (i2 >= text.length) throw new StmtError(at(start), "unterminated character literal: add the closing '");
      if (text[i2] === "\\") {
        [value, i2] = readEscape(text, i2, line);
      } else if (text[i2] === "'") {
        throw new StmtError(at(start), "empty character literal ''; write one character between the quotes");
      } else {
        value = text.codePointAt(i2);
        i2 += String.fromCodePoint(value).length;
      }
      if (text[i2] !== "'") {
        const closes = text.indexOf("'", i2) >= 0;
        throw new StmtError(at(start), closes ? 'character literal must hold exactly one character; use "..." with .ascii for strings' : "unterminated character literal: add the closing '");
      }
      i2++;
      out.push({ kind: "num", value: BigInt(value), text: text.slice(start, i2), pos: at(start) });
    } else if ((c === "<" || c === ">") && text[i2 + 1] === c) {
      out.push({ kind: "punct", text: c + c, pos: at(i2) });
      i2 += 2;
    } else if (SINGLE.has(c)) {
      out.push({ kind: "punct", text: c, pos: at(i2) });
      i2++;
    } else {
      const cp = text.codePointAt(i2);
      throw new StmtError(at(i2), `unexpected character \`${String.fromCodePoint(cp)}\``);
    }
  }
  return out;
}
function parseNumber(raw, pos) {
  if (/^[0-9]+$/.test(raw)) return BigInt(raw);
  if (/^0[xX][0-9a-fA-F]+$/.test(raw)) return BigInt(raw);
  if (/^0[bB][01]+$/.test(raw)) return BigInt(raw);
  throw new StmtError(pos, `bad number \`${raw}\`; write decimal (123), hex (0x7b) or binary (0b1111011)`);
}
function readEscape(text, i2, line) {
  const e = text[i2 + 1];
  if (e === void 0) throw new StmtError({ line, col: i2 + 1 }, `bad escape: \\ at the end of the line; use ${ESCAPE_LIST}`);
  if (e === "x") {
    const hex2 = /^[0-9a-fA-F]{2}/.exec(text.slice(i2 + 2));
    if (!hex2) throw new StmtError({ line, col: i2 + 1 }, "bad escape \\x: it needs exactly two hex digits, as in \\x1b");
    return [parseInt(hex2[0], 16), i2 + 4];
  }
  const v = ESCAPES[e];
  if (v === void 0) throw new StmtError({ line, col: i2 + 1 }, `bad escape \\${e}; use ${ESCAPE_LIST}`);
  return [v, i2 + 2];
}

// toolchain/asm/parser.ts
var DIRECTIVE_NAMES = [".org", ".entry", ".arch", ".equ", ".word", ".half", ".byte", ".ascii", ".asciz", ".space", ".align", ".func", ".endfunc", ".object"];
function parse(source, diags) {
  const stmts = [];
  const poisoned = /* @__PURE__ */ new Set();
  const lines = source.split("\n");
  lines.forEach((text, k) => {
    const line = k + 1;
    let tokens = [];
    if (!diags.guard(() => {
      tokens = lexLine(text, line);
    })) return;
    const c = new Cursor(tokens, { line, col: text.replace(/\s+$/, "").length + 1 });
    diags.guard(() => {
      for (; ; ) {
        const t = c.peek();
        const after = c.tokens[c.i + 1];
        if (t?.kind !== "ident" || after?.kind !== "punct" || after.text !== ":") break;
        checkSymbolName(t.text, t.pos, "a label");
        stmts.push({ kind: "label", name: t.text, pos: t.pos });
        c.i += 2;
      }
      if (c.atEnd()) return;
      const head = c.next();
      if (head.kind !== "ident") throw new StmtError(head.pos, `expected a label, instruction or directive, found \`${head.text}\``);
      if (c.isPunct("=")) {
        checkSymbolName(head.text, head.pos, "a constant");
        c.next();
        try {
          stmts.push({ kind: "directive", pos: head.pos, dir: "equ", name: head.text, namePos: head.pos, expr: parseWholeExpr(c, "the value") });
        } catch (e) {
          poisoned.add(head.text);
          throw e;
        }
        return;
      }
      if (head.text.startsWith(".")) {
        stmts.push({ kind: "directive", pos: head.pos, ...parseDirective(head.text, head.pos, c, poisoned) });
      } else {
        stmts.push(parseInstruction(head.text, head.pos, c));
      }
    });
  });
  return { stmts, poisoned };
}
function checkSymbolName(name, pos, what) {
  if (isReservedName(name)) throw new StmtError(pos, `\`${name}\` is a register name and cannot be ${what}`);
  if (name === ".") throw new StmtError(pos, `\`.\` is the current address and cannot be ${what}; use .org to start code at an address`);
}
function parseWholeExpr(c, what) {
  const e = parseExpr(c);
  if (!c.atEnd() && !c.isPunct(",")) throw new StmtError(c.pos(), `unexpected ${c.describe()} after ${what}`);
  return e;
}
function commaList(c, item) {
  const out = [];
  if (c.atEnd()) return out;
  for (; ; ) {
    out.push(item());
    if (c.atEnd()) return out;
    c.expectPunct(",", "between operands");
  }
}
function parseDirective(name, pos, c, poisoned) {
  const lower = name.toLowerCase();
  if (!DIRECTIVE_NAMES.includes(lower)) {
    throw new StmtError(pos, `unknown directive \`${name}\`${didYouMean(lower, DIRECTIVE_NAMES)}`);
  }
  const exprs = (min, max, shape) => {
    const list = commaList(c, () => parseWholeExpr(c, "the expression"));
    if (list.length < min || list.length > max) {
      throw new StmtError(list.length > max ? list[max].pos : c.pos(), `\`${lower}\` takes ${shape}; found ${list.length} operand${list.length === 1 ? "" : "s"}`);
    }
    return list;
  };
  const symbolOperand = () => {
    const t = c.next();
    if (t?.kind !== "ident" || t.text === ".") throw new StmtError(t?.pos ?? c.end, `\`${lower}\` needs a symbol name first, found ${t ? `\`${t.text}\`` : "the end of the line"}`);
    checkSymbolName(t.text, t.pos, "a symbol");
    return { name: t.text, namePos: t.pos };
  };
  switch (lower) {
    case ".org": {
      const [vaddr, paddr] = exprs(1, 2, "vaddr [, paddr]");
      return { dir: "org", vaddr, paddr: paddr ?? null };
    }
    case ".entry":
      return { dir: "entry", expr: exprs(1, 1, "one address")[0] };
    case ".arch": {
      const t = c.next();
      const arch = t?.kind === "ident" ? t.text.toLowerCase() : "";
      if (!ARCH_NAMES.includes(arch)) {
        throw new StmtError(t?.pos ?? c.end, `\`.arch\` takes one of ${ARCH_NAMES.join(", ")}; found ${t ? `\`${t.text}\`` : "nothing"}`);
      }
      if (!c.atEnd()) throw new StmtError(c.pos(), `unexpected ${c.describe()} after the arch name`);
      return { dir: "arch", arch };
    }
    case ".equ": {
      const { name: sym, namePos } = symbolOperand();
      try {
        c.expectPunct(",", `after the name in \`.equ ${sym}, value\``);
        return { dir: "equ", name: sym, namePos, expr: exprs(1, 1, "NAME, value")[0] };
      } catch (e) {
        poisoned.add(sym);
        throw e;
      }
    }
    case ".word":
    case ".half":
    case ".byte":
      return { dir: "data", width: lower === ".word" ? 4 : lower === ".half" ? 2 : 1, exprs: exprs(1, Infinity, "one or more values") };
    case ".ascii":
    case ".asciz": {
      const parts = commaList(c, () => {
        const t = c.next();
        if (t === void 0) throw new StmtError(c.end, `expected a quoted string after the comma`);
        if (t.kind !== "str") throw new StmtError(t.pos, `\`${lower}\` takes quoted strings, found \`${t.text}\``);
        return lower === ".asciz" ? [...t.bytes, 0] : [...t.bytes];
      });
      if (parts.length === 0) throw new StmtError(c.end, `\`${lower}\` needs a quoted string`);
      return { dir: "ascii", bytes: Uint8Array.from(parts.flat()) };
    }
    case ".space": {
      const [size, fill] = exprs(1, 2, "size [, fill]");
      return { dir: "space", size, fill: fill ?? null };
    }
    case ".align":
      return { dir: "align", n: exprs(1, 1, "one power of two")[0] };
    case ".func": {
      const s = symbolOperand();
      if (!c.atEnd()) throw new StmtError(c.pos(), `unexpected ${c.describe()} after the function name`);
      return { dir: "func", ...s };
    }
    case ".endfunc":
      if (!c.atEnd()) throw new StmtError(c.pos(), "`.endfunc` takes no operands");
      return { dir: "endfunc" };
    case ".object": {
      const s = symbolOperand();
      c.expectPunct(",", "after the name in `.object NAME, size`");
      return { dir: "object", ...s, size: exprs(1, 1, "NAME, size")[0] };
    }
    default:
      return assertNever(lower);
  }
}
function parseOperand(c) {
  const t = c.peek();
  if (t === void 0) throw new StmtError(c.end, "expected an operand after the comma");
  const next = c.tokens[c.i + 1];
  const alone = next === void 0 || next.kind === "punct" && next.text === ",";
  if (t.kind === "ident" && alone) {
    const reg = registerNumber(t.text);
    if (reg !== void 0) {
      c.next();
      return { kind: "reg", reg, text: t.text, pos: t.pos };
    }
    const cr2 = crSpelling(t.text);
    if (cr2 !== void 0) {
      c.next();
      return { kind: "cr", cr: cr2, text: t.text, pos: t.pos };
    }
  }
  if (t.kind === "punct" && t.text === "[") {
    c.next();
    const b = c.next();
    const base = b?.kind === "ident" ? registerNumber(b.text) : void 0;
    if (base === void 0) {
      throw new StmtError(b?.pos ?? c.end, `a memory operand needs a base register first, as in [r1 + 8]; found ${b ? `\`${b.text}\`` : "the end of the line"} (load an absolute address with li first)`);
    }
    let offset = null;
    if (c.isPunct("+") || c.isPunct("-")) {
      offset = parseExpr(c);
    }
    c.expectPunct("]", offset ? "to close the memory operand" : "or `+ offset` after the base register");
    return { kind: "mem", base, offset, pos: t.pos };
  }
  return { kind: "expr", expr: parseExpr(c), pos: t.pos };
}
var SLOT_WORDS = {
  rd: "a register",
  ra: "a register",
  rb: "a register",
  crd: "a control register (cr0, cr2, cr3, cr4)",
  cra: "a control register (cr0, cr2, cr3, cr4)",
  mem: "a memory operand [ra + offset]",
  imm16: "an immediate expression",
  imm32: "an immediate expression",
  target: "an address (a label or expression)",
  vector: "a vector number",
  port: "a port number",
  count: "an entry count",
  ring: "a ring number"
};
function describeRaw(op) {
  switch (op.kind) {
    case "reg":
      return `register ${op.text}`;
    case "cr":
      return `control register ${op.text}`;
    case "mem":
      return "a memory operand";
    case "expr":
      return "an expression";
    default:
      return assertNever(op);
  }
}
function kindHint(mnemonic, slot, op) {
  const regSlot = slot === "rd" || slot === "ra" || slot === "rb";
  if (regSlot && op.kind === "expr") {
    if (mnemonic === "mov") return "; use `li` to load a constant";
    if (BY_MNEMONIC.has(`${mnemonic}i`)) return `; use \`${mnemonic}i\` for an immediate`;
    if (mnemonic === "jmpr" || mnemonic === "callr") return `; use \`${mnemonic.slice(0, -1)}\` to go to a label`;
  }
  if (op.kind === "reg" && slot === "target") {
    if (mnemonic === "jmp" || mnemonic === "call") return `; use \`${mnemonic}r ${op.text}\` to go to the address in a register`;
  }
  if (op.kind === "reg" && (slot === "imm16" || slot === "imm32")) {
    const base = mnemonic.slice(0, -1);
    if (mnemonic.endsWith("i") && BY_MNEMONIC.has(base) && BY_MNEMONIC.get(base).fmt !== 0 /* None */) return `; use \`${base}\` for register operands`;
    if (mnemonic === "li") return "; use `mov` to copy a register";
  }
  if (op.kind === "reg" && slot === "port") return `; use \`${mnemonic.startsWith("in") ? "inr" : "outr"}\` for a port number in a register`;
  return "";
}
var X86_CONDS = {
  z: "eq",
  e: "eq",
  nz: "ne",
  l: "lt",
  nge: "lt",
  nl: "ge",
  ng: "le",
  g: "gt",
  nle: "gt",
  c: "b",
  nae: "b",
  nc: "ae",
  nb: "ae",
  na: "be",
  nbe: "a"
};
function x86Hint(mnemonic) {
  const m = /^(j|set)([a-z]+)$/.exec(mnemonic);
  const cond = m ? X86_CONDS[m[2]] : void 0;
  return cond === void 0 ? void 0 : `; did you mean \`${m[1]}${cond}\`? (XL32 conditions are ${COND_NAMES.join(" ")})`;
}
function parseInstruction(name, pos, c) {
  const lower = name.toLowerCase();
  const mnemonic = MNEMONICS.get(lower);
  if (!mnemonic) {
    const hint = lower === "j" || lower === "set" ? `; \`${lower}\` needs a condition suffix (${lower}eq, ${lower}ne, ${lower}lt, ...)` : x86Hint(lower) ?? didYouMean(lower, MNEMONICS.keys());
    throw new StmtError(pos, `unknown instruction \`${name}\`${hint}`);
  }
  const spelled = spell(mnemonic.info, mnemonic.cond);
  const slots = slotsOf(mnemonic.info.fmt);
  const raws = commaList(c, () => parseOperand(c));
  if (raws.length !== slots.length) {
    const shape = slots.length === 0 ? "no operands" : `${slots.length} operand${slots.length === 1 ? "" : "s"} (${spelled} ${formatSyntax(mnemonic.info.fmt)})`;
    const where = raws.length > slots.length ? raws[slots.length].pos : c.end;
    throw new StmtError(where, `\`${spelled}\` takes ${shape}, but ${raws.length} ${raws.length === 1 ? "was" : "were"} given`);
  }
  const args = slots.map((slot, k) => {
    const op = raws[k];
    const wrongKind = () => {
      throw new StmtError(op.pos, `operand ${k + 1} of \`${spelled}\` must be ${SLOT_WORDS[slot]}, found ${describeRaw(op)}${kindHint(mnemonic.info.mnemonic, slot, op)}`);
    };
    switch (slot) {
      case "rd":
      case "ra":
      case "rb":
        return op.kind === "reg" ? { slot, reg: op.reg, pos: op.pos } : wrongKind();
      case "crd":
      case "cra":
        if (op.kind !== "cr") return wrongKind();
        if (!CONTROL_REGISTERS.includes(op.cr)) {
          throw new StmtError(op.pos, `control register ${op.text} does not exist; XL32 has ${CONTROL_REGISTERS.map((n) => `cr${n}`).join(", ")}`);
        }
        return { slot, cr: op.cr, pos: op.pos };
      case "mem":
        return op.kind === "mem" ? { slot, base: op.base, offset: op.offset, pos: op.pos } : wrongKind();
      case "imm16":
      case "imm32":
      case "target":
      case "vector":
      case "port":
      case "count":
      case "ring":
        return op.kind === "expr" ? { slot, expr: op.expr, pos: op.pos } : wrongKind();
      default:
        return assertNever(slot);
    }
  });
  return { kind: "insn", mnemonic, args, pos };
}

// toolchain/asm/assemble.ts
function assemble(source, file, opts = {}) {
  const diags = new Diagnostics(file);
  const parsed = parse(source, diags);
  const lay = layout(parsed, diags, opts.arch);
  const out = emit(lay, diags);
  diags.throwIfAny();
  return out;
}

// toolchain/compiler/diagnostics.ts
import { relative, isAbsolute } from "node:path";
var CompileError = class extends Error {
  /** all problems, in file then source order */
  diagnostics;
  constructor(diagnostics) {
    super(diagnostics.map(formatDiagnostic2).join("\n"));
    this.name = "CompileError";
    this.diagnostics = diagnostics;
  }
};
function formatDiagnostic2(d) {
  return `${d.file}:${d.line}:${d.col}: ${d.message}`;
}
function displayPath(file) {
  const rel = relative(process.cwd(), file);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : file;
}
function diagAt(node, message) {
  const sf = node.getSourceFile();
  const pos = sf.getLineAndCharacterOfPosition(node.getStart(sf));
  return { file: displayPath(sf.fileName), line: pos.line + 1, col: pos.character + 1, message };
}
function diagAtFile(fileName, message) {
  return { file: displayPath(fileName), line: 1, col: 1, message };
}
var DiagnosticBag = class {
  /** problems reported so far, in report order */
  items = [];
  add(d) {
    this.items.push(d);
  }
  error(node, message) {
    this.items.push(diagAt(node, message));
  }
  get hasErrors() {
    return this.items.length > 0;
  }
  /** Throw a CompileError if anything was reported, sorted by file, line, column. */
  throwIfAny() {
    if (this.items.length === 0) return;
    const sorted = [...this.items].sort((a, b) => a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col);
    const seen = /* @__PURE__ */ new Set();
    const unique = sorted.filter((d) => {
      const key = formatDiagnostic2(d);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    throw new CompileError(unique);
  }
};
function assertNever2(x, what) {
  return assertNever(x, `${what} (internal compiler error)`);
}

// toolchain/compiler/program.ts
import ts from "typescript";
import { dirname, resolve, relative as relative2, basename, sep } from "node:path";
import { fileURLToPath } from "node:url";
var XL32_PATH = resolve(dirname(fileURLToPath(import.meta.url)), "..", "lib", "xl32.ts");
function guestCompilerOptions() {
  return {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2022.d.ts"],
    types: [],
    strict: true,
    noEmit: true,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
    paths: { xl32: [XL32_PATH] }
  };
}
var sharedSourceFiles = /* @__PURE__ */ new Map();
function makeHost(options) {
  const host2 = ts.createCompilerHost(options, true);
  const getSourceFile = host2.getSourceFile.bind(host2);
  const libDir = dirname(ts.getDefaultLibFilePath(options));
  host2.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const shareable = fileName.startsWith(libDir) || resolve(fileName) === XL32_PATH;
    if (!shareable) return getSourceFile(fileName, languageVersion, onError, shouldCreate);
    const cached = sharedSourceFiles.get(fileName);
    if (cached) return cached;
    const sf = getSourceFile(fileName, languageVersion, onError, shouldCreate);
    if (sf) sharedSourceFiles.set(fileName, sf);
    return sf;
  };
  return host2;
}
function resolveImport(spec2, fromFile, program) {
  if (spec2 === "xl32") return { kind: "xl32" };
  if (!spec2.startsWith("./") && !spec2.startsWith("../")) {
    return { kind: "bad", why: `imports from '${spec2}' are outside the subset; import guest modules by relative path ('./name.ts') and intrinsics from 'xl32'` };
  }
  const res = ts.resolveModuleName(spec2, fromFile, program.getCompilerOptions(), ts.sys);
  const target = res.resolvedModule?.resolvedFileName;
  if (!target) return { kind: "bad", why: `cannot find module '${spec2}'` };
  if (resolve(target) === XL32_PATH) return { kind: "xl32" };
  if (target.endsWith(".d.ts") || !target.endsWith(".ts")) {
    return { kind: "bad", why: `'${spec2}' resolves to ${displayPath(target)}, which is not a guest TypeScript module; guest modules are .ts files` };
  }
  return { kind: "guest", file: resolve(target) };
}
function importsOf(sf) {
  const out = [];
  for (const st of sf.statements) {
    if ((ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) {
      out.push({ spec: st.moduleSpecifier.text, node: st.moduleSpecifier });
    }
  }
  return out;
}
function loadProgram(entryFile, typeCheck, diags) {
  const entry = resolve(entryFile);
  if (!ts.sys.fileExists(entry)) {
    const why = ts.sys.directoryExists(entry) ? "it is a directory" : "no such file";
    diags.add({ file: displayPath(entry), line: 1, col: 1, message: `cannot read the entry file (${why})` });
    return null;
  }
  const options = guestCompilerOptions();
  const program = ts.createProgram({ rootNames: [entry], options, host: makeHost(options) });
  const checker = program.getTypeChecker();
  const modules = [];
  const byFile = /* @__PURE__ */ new Map();
  const visit = (file) => {
    if (byFile.has(file)) return;
    const sf = program.getSourceFile(file);
    if (!sf) {
      diags.add({ file: displayPath(file), line: 1, col: 1, message: "cannot read this module" });
      return;
    }
    const mod = { file, sf, prefix: "" };
    modules.push(mod);
    byFile.set(file, mod);
    for (const imp of importsOf(sf)) {
      const t = resolveImport(imp.spec, file, program);
      if (t.kind === "guest") visit(t.file);
      else if (t.kind === "bad") diags.error(imp.node, t.why);
    }
  };
  visit(entry);
  assignPrefixes(modules);
  for (const m of modules) {
    for (const d of program.getSyntacticDiagnostics(m.sf)) diags.add(fromTsDiagnostic(d));
  }
  const broken = diags.hasErrors;
  if (typeCheck && !broken) {
    for (const m of modules) {
      for (const d of program.getSemanticDiagnostics(m.sf)) diags.add(fromTsDiagnostic(d));
    }
  }
  return { program, checker, modules, byFile, broken };
}
function fromTsDiagnostic(d) {
  const message = ts.flattenDiagnosticMessageText(d.messageText, "\n").replace(/\n\s*/g, " ");
  if (!d.file || d.start === void 0) return { file: "<compiler>", line: 1, col: 1, message };
  const pos = d.file.getLineAndCharacterOfPosition(d.start);
  return { file: displayPath(d.file.fileName), line: pos.line + 1, col: pos.character + 1, message: `${message} (TS${d.code})` };
}
function sanitize(s) {
  const t = s.replace(/[^A-Za-z0-9_$]/g, "_");
  return /^[0-9]/.test(t) ? `_${t}` : t;
}
function assignPrefixes(modules) {
  const parts = modules.map((m) => {
    const segs = m.file.split(sep).filter((s) => s !== "");
    segs[segs.length - 1] = basename(m.file).replace(/\.ts$/, "");
    return segs.map(sanitize);
  });
  const depth = modules.map(() => 1);
  const name = (k) => parts[k].slice(parts[k].length - depth[k]).join(".");
  for (let changed = true; changed; ) {
    changed = false;
    const groups = /* @__PURE__ */ new Map();
    modules.forEach((_, k) => {
      const n = name(k);
      groups.set(n, [...groups.get(n) ?? [], k]);
    });
    for (const ks of groups.values()) {
      if (ks.length < 2) continue;
      for (const k of ks) {
        if (depth[k] < parts[k].length) {
          depth[k] = depth[k] + 1;
          changed = true;
        }
      }
    }
  }
  modules.forEach((m, k) => m.prefix = name(k));
}
function sourceMapPath(file, entryFile) {
  return relative2(dirname(resolve(entryFile)), file).split(sep).join("/");
}

// toolchain/compiler/names.ts
import ts2 from "typescript";
import { resolve as resolve2 } from "node:path";
var Names = class {
  constructor(loaded) {
    this.loaded = loaded;
  }
  loaded;
  /** declaration -> entity, memoized */
  cache = /* @__PURE__ */ new Map();
  get checker() {
    return this.loaded.checker;
  }
  /** The declaration an identifier (or property name) refers to, following import aliases. */
  declarationOf(node) {
    let sym = this.loaded.checker.getSymbolAtLocation(node);
    if (!sym) return void 0;
    if (sym.flags & ts2.SymbolFlags.Alias) sym = this.loaded.checker.getAliasedSymbol(sym);
    return sym.valueDeclaration ?? sym.declarations?.[0];
  }
  /** What `id` denotes. */
  entityOf(id) {
    const decl = this.declarationOf(id);
    if (!decl) return { kind: "other", name: id.text };
    return this.entityOfDeclaration(decl, id.text);
  }
  entityOfDeclaration(decl, name) {
    const hit = this.cache.get(decl);
    if (hit) return hit;
    const e = this.classify(decl, name);
    this.cache.set(decl, e);
    return e;
  }
  classify(decl, name) {
    const file = resolve2(decl.getSourceFile().fileName);
    if (file === XL32_PATH) {
      if (ts2.isEnumDeclaration(decl)) return { kind: "enum", decl };
      if (ts2.isFunctionDeclaration(decl) && decl.name) return { kind: "intrinsic", name: decl.name.text };
      return { kind: "other", name };
    }
    const module = this.loaded.byFile.get(file);
    if (!module) return { kind: "other", name };
    if (ts2.isEnumDeclaration(decl)) return { kind: "enum", decl };
    if (ts2.isParameter(decl)) return { kind: "local", decl };
    if (ts2.isFunctionDeclaration(decl) && decl.name) {
      if (decl.parent === module.sf) return { kind: "function", decl, module, sym: `${module.prefix}.${decl.name.text}` };
      return { kind: "other", name };
    }
    if (ts2.isVariableDeclaration(decl) && ts2.isIdentifier(decl.name)) {
      const list = decl.parent;
      if (ts2.isVariableDeclarationList(list) && ts2.isVariableStatement(list.parent) && list.parent.parent === module.sf) {
        const isConst = (list.flags & ts2.NodeFlags.Const) !== 0;
        return { kind: "global", decl, module, sym: `${module.prefix}.${decl.name.text}`, isConst };
      }
      return { kind: "local", decl };
    }
    return { kind: "other", name };
  }
  /** Is `id` an imported name whose import does not resolve (already reported at the import)? */
  isUnresolvedImport(id) {
    const sym = this.loaded.checker.getSymbolAtLocation(id);
    if (!sym || !(sym.flags & ts2.SymbolFlags.Alias)) return false;
    const target = this.loaded.checker.getAliasedSymbol(sym);
    return !target.declarations || target.declarations.length === 0;
  }
  /** The intrinsic a call's callee names, or null. */
  intrinsicOf(callee) {
    if (!ts2.isIdentifier(callee)) return null;
    const e = this.entityOf(callee);
    return e.kind === "intrinsic" ? e.name : null;
  }
  /** Is `expr` the global Math.imul? */
  isMathImul(expr) {
    return ts2.isPropertyAccessExpression(expr) && ts2.isIdentifier(expr.expression) && expr.expression.text === "Math" && expr.name.text === "imul" && this.isLibGlobal(expr.expression);
  }
  /** Is the identifier a global of the JavaScript library (not shadowed by a guest declaration)? */
  isLibGlobal(id) {
    const decl = this.declarationOf(id);
    if (!decl) return false;
    return decl.getSourceFile().hasNoDefaultLib || decl.getSourceFile().isDeclarationFile;
  }
};
function isIntegralType(t) {
  if (t.isUnion()) return t.types.every(isIntegralType);
  const ok = ts2.TypeFlags.Number | ts2.TypeFlags.NumberLiteral | ts2.TypeFlags.Boolean | ts2.TypeFlags.BooleanLiteral | ts2.TypeFlags.Enum | ts2.TypeFlags.EnumLiteral;
  return (t.flags & ok) !== 0;
}

// toolchain/compiler/consteval.ts
import ts3 from "typescript";

// toolchain/compiler/statics.ts
var intConst = (value) => ({ kind: "int", value: value | 0 });
var Statics = class {
  /** string contents -> local label, in first-use order */
  strings = /* @__PURE__ */ new Map();
  /** static buffers by symbol, in first-use order */
  buffers = /* @__PURE__ */ new Map();
  /** module variables, in declaration order */
  words = [];
  /** handler symbol -> its trap entry stub's symbol */
  trapStubs = /* @__PURE__ */ new Map();
  /** jump tables, in creation order */
  jumpTables = [];
  /** whether the contextSwitch helper routine is needed */
  needContextSwitch = false;
  /** The label of a NUL-terminated copy of `text` in read-only data. */
  string(text) {
    let label = this.strings.get(text);
    if (!label) {
      label = `.Lstr${this.strings.size}`;
      this.strings.set(text, label);
    }
    return label;
  }
  buffer(sym, bytes, align2) {
    if (!this.buffers.has(sym)) this.buffers.set(sym, { sym, bytes, align: align2 });
  }
  trapStub(handlerSym) {
    let stub = this.trapStubs.get(handlerSym);
    if (!stub) {
      stub = `${handlerSym}$trap`;
      this.trapStubs.set(handlerSym, stub);
    }
    return stub;
  }
};
var CONTEXT_SWITCH_SYM = "__xl32.contextSwitch";

// toolchain/compiler/consteval.ts
var LITERAL_MAX = 4294967295;
function literalValue(lit) {
  const v = Number(lit.text);
  if (!Number.isInteger(v) || v < 0 || v > LITERAL_MAX) return null;
  return v | 0;
}
var ConstEval = class {
  constructor(names, statics) {
    this.names = names;
    this.statics = statics;
  }
  names;
  statics;
  /** declaration -> value (null = not constant), memoized */
  memo = /* @__PURE__ */ new Map();
  /** declarations being evaluated, to stop on cycles */
  active = /* @__PURE__ */ new Set();
  /** The constant integer value of `e`, or null. */
  int(e) {
    const c = this.eval(e);
    return c && c.kind === "int" ? c.value : null;
  }
  eval(e) {
    switch (e.kind) {
      case ts3.SyntaxKind.NumericLiteral: {
        const v = literalValue(e);
        return v === null ? null : intConst(v);
      }
      case ts3.SyntaxKind.TrueKeyword:
        return intConst(1);
      case ts3.SyntaxKind.FalseKeyword:
        return intConst(0);
      case ts3.SyntaxKind.ParenthesizedExpression:
      case ts3.SyntaxKind.AsExpression:
      case ts3.SyntaxKind.TypeAssertionExpression:
      case ts3.SyntaxKind.NonNullExpression:
      case ts3.SyntaxKind.SatisfiesExpression:
        return this.eval(e.expression);
      case ts3.SyntaxKind.PrefixUnaryExpression:
        return this.prefix(e);
      case ts3.SyntaxKind.BinaryExpression:
        return this.binary(e);
      case ts3.SyntaxKind.ConditionalExpression: {
        const c = e;
        const cond = this.int(c.condition);
        if (cond === null) return null;
        return this.eval(cond !== 0 ? c.whenTrue : c.whenFalse);
      }
      case ts3.SyntaxKind.PropertyAccessExpression: {
        const v = this.names.checker.getConstantValue(e);
        return typeof v === "number" && Number.isInteger(v) ? intConst(v) : null;
      }
      case ts3.SyntaxKind.Identifier:
        return this.identifier(e);
      case ts3.SyntaxKind.CallExpression:
        return this.call(e);
      default:
        return null;
    }
  }
  prefix(e) {
    if (e.operator === ts3.SyntaxKind.PlusPlusToken || e.operator === ts3.SyntaxKind.MinusMinusToken) return null;
    const v = this.int(e.operand);
    if (v === null) return null;
    switch (e.operator) {
      case ts3.SyntaxKind.MinusToken:
        return intConst(-v);
      case ts3.SyntaxKind.PlusToken:
        return intConst(v);
      case ts3.SyntaxKind.TildeToken:
        return intConst(~v);
      case ts3.SyntaxKind.ExclamationToken:
        return intConst(v === 0 ? 1 : 0);
      default:
        return null;
    }
  }
  binary(e) {
    const op = e.operatorToken.kind;
    if (op === ts3.SyntaxKind.AmpersandAmpersandToken || op === ts3.SyntaxKind.BarBarToken) {
      const a = this.int(e.left);
      if (a === null) return null;
      const pick = op === ts3.SyntaxKind.AmpersandAmpersandToken ? a === 0 ? null : e.right : a !== 0 ? null : e.right;
      return pick === null ? intConst(a) : this.eval(pick);
    }
    const l = this.eval(e.left);
    if (!l) return null;
    const r = this.eval(e.right);
    if (!r) return null;
    if (l.kind === "addr" || r.kind === "addr") return addrArith(op, l, r);
    const v = foldBinary(op, l.value, r.value);
    return v === null ? null : intConst(v);
  }
  identifier(id) {
    const ent = this.names.entityOf(id);
    if (ent.kind !== "global" && ent.kind !== "local") return null;
    const decl = ent.decl;
    if (!ts3.isVariableDeclaration(decl)) return null;
    const isConst = (decl.parent.flags & ts3.NodeFlags.Const) !== 0;
    if (!isConst || !decl.initializer) return null;
    if (this.memo.has(decl)) return this.memo.get(decl);
    if (this.active.has(decl)) return null;
    this.active.add(decl);
    let v;
    if (ent.kind === "global" && this.isStaticBufferCall(decl.initializer)) {
      v = this.staticBuffer(decl.initializer, ent.sym);
    } else {
      v = this.eval(decl.initializer);
    }
    this.active.delete(decl);
    this.memo.set(decl, v);
    return v;
  }
  isStaticBufferCall(e) {
    return ts3.isCallExpression(e) && this.names.intrinsicOf(e.expression) === "staticBuffer";
  }
  /** Size and alignment of a staticBuffer call, or null when not constant and valid. */
  staticBufferShape(call) {
    const [sizeArg, alignArg] = call.arguments;
    const bytes = sizeArg ? this.int(sizeArg) : null;
    const align2 = alignArg ? this.int(alignArg) : 4;
    if (bytes === null || bytes <= 0 || align2 === null || align2 <= 0 || (align2 & align2 - 1) !== 0) return null;
    return { bytes, align: align2 };
  }
  staticBuffer(call, sym) {
    const shape = this.staticBufferShape(call);
    if (!shape) return null;
    this.statics.buffer(sym, shape.bytes, shape.align);
    return { kind: "addr", sym, offset: 0 };
  }
  call(call) {
    if (this.names.isMathImul(call.expression)) {
      const [a, b] = call.arguments.map((x) => this.int(x));
      return a === null || a === void 0 || b === null || b === void 0 ? null : intConst(Math.imul(a, b));
    }
    const name = this.names.intrinsicOf(call.expression);
    if (!name) return null;
    const arg0 = call.arguments[0];
    switch (name) {
      case "cstr": {
        if (!arg0 || !(ts3.isStringLiteral(arg0) || ts3.isNoSubstitutionTemplateLiteral(arg0))) return null;
        return { kind: "addr", sym: this.statics.string(arg0.text), offset: 0 };
      }
      case "addressOf":
      case "trapEntry": {
        if (!arg0 || !ts3.isIdentifier(arg0)) return null;
        const ent = this.names.entityOf(arg0);
        if (ent.kind !== "function") return null;
        return { kind: "addr", sym: name === "addressOf" ? ent.sym : this.statics.trapStub(ent.sym), offset: 0 };
      }
      case "ltu":
      case "leu":
      case "gtu":
      case "geu":
      case "divu":
      case "remu":
      case "mulhu": {
        const a = arg0 ? this.int(arg0) : null;
        const b = call.arguments[1] ? this.int(call.arguments[1]) : null;
        if (a === null || b === null) return null;
        const v = foldUnsigned(name, a, b);
        return v === null ? null : intConst(v);
      }
      default:
        return null;
    }
  }
};
function addrArith(op, l, r) {
  if (op === ts3.SyntaxKind.PlusToken) {
    if (l.kind === "addr" && r.kind === "int") return { kind: "addr", sym: l.sym, offset: l.offset + r.value | 0 };
    if (l.kind === "int" && r.kind === "addr") return { kind: "addr", sym: r.sym, offset: r.offset + l.value | 0 };
  }
  if (op === ts3.SyntaxKind.MinusToken) {
    if (l.kind === "addr" && r.kind === "int") return { kind: "addr", sym: l.sym, offset: l.offset - r.value | 0 };
    if (l.kind === "addr" && r.kind === "addr" && l.sym === r.sym) return intConst(l.offset - r.offset);
  }
  if (op === ts3.SyntaxKind.BarToken && l.kind === "addr" && r.kind === "int" && r.value === 0) return l;
  return null;
}
function foldBinary(op, a, b) {
  switch (op) {
    case ts3.SyntaxKind.PlusToken:
      return a + b | 0;
    case ts3.SyntaxKind.MinusToken:
      return a - b | 0;
    case ts3.SyntaxKind.AsteriskToken:
      return Math.imul(a, b);
    case ts3.SyntaxKind.SlashToken:
      return b === 0 ? null : a === -2147483648 && b === -1 ? a : a / b | 0;
    case ts3.SyntaxKind.PercentToken:
      return b === 0 ? null : b === -1 ? 0 : a % b | 0;
    case ts3.SyntaxKind.AmpersandToken:
      return a & b;
    case ts3.SyntaxKind.BarToken:
      return a | b;
    case ts3.SyntaxKind.CaretToken:
      return a ^ b;
    case ts3.SyntaxKind.LessThanLessThanToken:
      return a << b;
    case ts3.SyntaxKind.GreaterThanGreaterThanToken:
      return a >> b;
    case ts3.SyntaxKind.GreaterThanGreaterThanGreaterThanToken:
      return a >>> b | 0;
    case ts3.SyntaxKind.LessThanToken:
      return a < b ? 1 : 0;
    case ts3.SyntaxKind.LessThanEqualsToken:
      return a <= b ? 1 : 0;
    case ts3.SyntaxKind.GreaterThanToken:
      return a > b ? 1 : 0;
    case ts3.SyntaxKind.GreaterThanEqualsToken:
      return a >= b ? 1 : 0;
    case ts3.SyntaxKind.EqualsEqualsToken:
    case ts3.SyntaxKind.EqualsEqualsEqualsToken:
      return a === b ? 1 : 0;
    case ts3.SyntaxKind.ExclamationEqualsToken:
    case ts3.SyntaxKind.ExclamationEqualsEqualsToken:
      return a !== b ? 1 : 0;
    case ts3.SyntaxKind.CommaToken:
      return b;
    default:
      return null;
  }
}
function foldUnsigned(name, a, b) {
  const ua = a >>> 0;
  const ub = b >>> 0;
  switch (name) {
    case "ltu":
      return ua < ub ? 1 : 0;
    case "leu":
      return ua <= ub ? 1 : 0;
    case "gtu":
      return ua > ub ? 1 : 0;
    case "geu":
      return ua >= ub ? 1 : 0;
    case "divu":
      return ub === 0 ? null : ua / ub | 0;
    case "remu":
      return ub === 0 ? null : ua % ub | 0;
    case "mulhu":
      return Number(BigInt(ua) * BigInt(ub) >> 32n) | 0;
    default:
      return null;
  }
}

// toolchain/compiler/subset.ts
import ts4 from "typescript";

// toolchain/compiler/intrinsics.ts
var VALUE = { kind: "value" };
var port = (alt) => ({
  kind: "const",
  what: "port number",
  range: "0..65535",
  hint: `XL32 has no 8-bit port instruction taking the port from a register; use ${alt} for a port computed at run time`,
  ok: (v) => v >= 0 && v <= 65535
});
var cr = (fn) => ({
  kind: "const",
  what: "control register number",
  range: "0, 2, 3 or 4",
  hint: `write e.g. ${fn}(3)`,
  ok: (v) => v === 0 || v === 2 || v === 3 || v === 4
});
function spec(args, minArgs = args.length, extra = {}) {
  return { args, minArgs, ...extra };
}
var INTRINSICS = {
  load8: spec([VALUE]),
  load8s: spec([VALUE]),
  load16: spec([VALUE]),
  load16s: spec([VALUE]),
  load32: spec([VALUE]),
  store8: spec([VALUE, VALUE]),
  store16: spec([VALUE, VALUE]),
  store32: spec([VALUE, VALUE]),
  xchg32: spec([VALUE, VALUE]),
  ltu: spec([VALUE, VALUE]),
  leu: spec([VALUE, VALUE]),
  gtu: spec([VALUE, VALUE]),
  geu: spec([VALUE, VALUE]),
  divu: spec([VALUE, VALUE]),
  remu: spec([VALUE, VALUE]),
  mulhu: spec([VALUE, VALUE]),
  staticBuffer: spec([VALUE, VALUE], 1, { place: "staticBuffer" }),
  cstr: spec([{ kind: "string" }]),
  addressOf: spec([{ kind: "function" }]),
  callIndirect: spec([VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE], 1),
  cli: spec([]),
  sti: spec([]),
  hlt: spec([]),
  pause: spec([]),
  pushf: spec([]),
  popf: spec([VALUE]),
  rdcpl: spec([]),
  stackPointer: spec([]),
  sidt: spec([]),
  rdtsc: spec([]),
  rdtscHigh: spec([]),
  cpuid: spec([VALUE, VALUE]),
  in32: spec([VALUE]),
  inb: spec([port("in32(port)")]),
  outb: spec([port("out32(port, value)"), VALUE]),
  out32: spec([VALUE, VALUE]),
  readCr: spec([cr("readCr")]),
  writeCr: spec([cr("writeCr"), VALUE]),
  lidt: spec([VALUE, { kind: "const", what: "entry count", range: "0..256", hint: "write e.g. lidt(base, 256)", ok: (v) => v >= 0 && v <= 256 }]),
  invlpg: spec([VALUE]),
  lksp: spec([{ kind: "const", what: "ring", range: "0, 1 or 2", hint: "write e.g. lksp(0, stackTop)", ok: (v) => v >= 0 && v <= 2 }, VALUE]),
  brk: spec([]),
  softInt: spec([{ kind: "const", what: "vector", range: "0..255", hint: "write e.g. softInt(0x80)", ok: (v) => v >= 0 && v <= 255 }]),
  hypercall: spec([VALUE, VALUE, VALUE, VALUE, VALUE, VALUE], 1, { pvOnly: true }),
  syscall: spec([VALUE, VALUE, VALUE, VALUE, VALUE, VALUE], 1),
  trapEntry: spec([{ kind: "function" }]),
  contextSwitch: spec([VALUE, VALUE]),
  iretTo: spec([VALUE])
};
function isIntrinsicName(name) {
  return Object.hasOwn(INTRINSICS, name);
}
function intrinsicSpec(name) {
  return isIntrinsicName(name) ? INTRINSICS[name] : void 0;
}

// toolchain/compiler/subset.ts
var MSG = {
  class: "classes are outside the subset; use module-level functions, with struct field offsets in a const enum and load32/store32",
  nestedFunction: "nested functions are outside the subset; declare the function at module level and pass what it needs as parameters",
  functionExpression: "function expressions are outside the subset; declare a module-level function and use addressOf(name)",
  arrow: "arrow functions are outside the subset; declare a module-level function and pass its name (addressOf(name), trapEntry(name))",
  objectLiteral: "object literals are outside the subset; reserve memory with staticBuffer and name field offsets in a const enum",
  arrayLiteral: "array literals are outside the subset; reserve memory with staticBuffer and use load32/store32",
  destructuring: "destructuring is outside the subset; declare and assign each variable separately",
  spread: "spread syntax is outside the subset; pass each argument explicitly",
  async: "async functions are outside the subset; write synchronous code",
  await: "await is outside the subset; write synchronous code",
  generator: "generator functions are outside the subset; keep explicit state in variables and use a loop",
  yield: "yield is outside the subset; keep explicit state in variables and use a loop",
  try: "try/catch/finally is outside the subset; return an error code instead",
  throw: "throw is outside the subset; return an error code (or call a panic function that halts)",
  new: "new is outside the subset; reserve memory with staticBuffer",
  forOf: "for..of is outside the subset; use a counted for loop",
  forIn: "for..in is outside the subset; use a counted for loop",
  template: "template literals with substitutions are outside the subset; print the parts one after another",
  taggedTemplate: 'tagged templates are outside the subset; use cstr("...") for text',
  optionalChain: "optional chaining (?.) is outside the subset; test the value explicitly",
  nullish: "the ?? operator is outside the subset (numbers are never null or undefined); use a comparison and ?:",
  delete: "delete is outside the subset (there are no objects); store to memory with store32",
  typeof: "typeof is outside the subset (every value is a 32-bit number)",
  void: "the void operator is outside the subset; write the expression as a statement",
  instanceof: "instanceof is outside the subset (there are no objects)",
  in: "the in operator is outside the subset (there are no objects)",
  exponent: "the ** operator is outside the subset; multiply in a loop",
  string: 'string literals are allowed only as the argument of cstr(); write cstr("...") for the address of NUL-terminated bytes',
  regex: "regular expressions are outside the subset; scan bytes with load8",
  bigint: "bigint is outside the subset; numbers are 32-bit integers (use mulhu/divu for wider arithmetic)",
  null: "null is outside the subset; use 0",
  undefined: "undefined is outside the subset; use 0",
  this: "this is outside the subset; pass an address as a parameter",
  super: "super is outside the subset; use module-level functions",
  var: "var declarations are outside the subset; use let or const",
  defaultParam: "default parameter values are outside the subset; pass every argument explicitly",
  optionalParam: "optional parameters are outside the subset; pass every argument explicitly",
  restParam: "rest parameters are outside the subset; pass each argument explicitly",
  indexing: "indexing is outside the subset; use load32(base + i * 4) (or load8/load16) and the store functions",
  debugger: "debugger statements are outside the subset; call brk() for a breakpoint trap",
  with: "with statements are outside the subset",
  label: "labels are allowed only on loops and switch statements; use a flag or a function instead",
  namespace: "namespaces are outside the subset; use a module (a separate .ts file)",
  importEquals: 'import = require is outside the subset; use import { name } from "./module.ts"',
  defaultImport: 'default imports are outside the subset; import names explicitly: import { name } from "./module.ts"',
  namespaceImport: 'namespace imports are outside the subset; import names explicitly: import { name } from "./module.ts"',
  exportDefault: "default exports are outside the subset; use named exports",
  ambient: 'declare is outside the subset; guest modules define everything they use (intrinsics come from "xl32")',
  overload: "overload signatures are outside the subset; declare one function with a body",
  moduleStatement: "statements at module level are outside the subset; put them in a function (e.g. main)",
  moduleInit: "module-level initializers must be constant (integers, const enum members, cstr, staticBuffer, addressOf, trapEntry); assign the value in a function instead",
  staticBufferPlace: "staticBuffer is allowed only as the initializer of a module-level const; declare `const buf = staticBuffer(bytes)` at module level",
  staticBufferShape: "staticBuffer needs a constant size in bytes (greater than 0) and an optional constant alignment that is a power of two, e.g. staticBuffer(4096, 4096)",
  localEnum: "enums must be declared at module level",
  stringEnum: "string enum members are outside the subset; give every member an integer value",
  nonConstEnumMember: "enum members must have constant integer values",
  enumValue: "an enum can be used only through its members (E.Member)",
  functionValue: "a function can only be called or passed to addressOf/trapEntry; use addressOf(name) for its address",
  intrinsicValue: 'intrinsics from "xl32" can only be called',
  badCall: "only module-level functions and intrinsics can be called by name; call a function address with callIndirect(address, ...args)",
  statement: "this statement is outside the subset",
  expression: "this expression is outside the subset"
};
function checkSubset(modules, names, ce, target, diags) {
  const c = new SubsetChecker(names, ce, target, diags);
  for (const m of modules) c.module(m);
}
var SubsetChecker = class {
  constructor(names, ce, target, diags) {
    this.names = names;
    this.ce = ce;
    this.target = target;
    this.diags = diags;
  }
  names;
  ce;
  target;
  diags;
  err(node, message) {
    this.diags.error(node, message);
  }
  module(m) {
    for (const st of m.sf.statements) this.topLevel(st);
  }
  hasModifier(node, kind) {
    return ts4.canHaveModifiers(node) && (ts4.getModifiers(node) ?? []).some((x) => x.kind === kind);
  }
  topLevel(st) {
    if (this.hasModifier(st, ts4.SyntaxKind.DeclareKeyword)) return this.err(st, MSG.ambient);
    if (this.hasModifier(st, ts4.SyntaxKind.DefaultKeyword)) return this.err(st, MSG.exportDefault);
    switch (st.kind) {
      case ts4.SyntaxKind.ImportDeclaration: {
        const clause = st.importClause;
        if (!clause || clause.isTypeOnly) return;
        if (clause.name) this.err(clause.name, MSG.defaultImport);
        if (clause.namedBindings && ts4.isNamespaceImport(clause.namedBindings)) this.err(clause.namedBindings, MSG.namespaceImport);
        if (clause.namedBindings && ts4.isNamedImports(clause.namedBindings) && !this.target.typeCheck) {
          const from = st.moduleSpecifier.text;
          for (const el of clause.namedBindings.elements) {
            if (!el.isTypeOnly && this.names.isUnresolvedImport(el.name)) this.err(el, `'${(el.propertyName ?? el.name).text}' is not exported by '${from}'`);
          }
        }
        return;
      }
      case ts4.SyntaxKind.ExportDeclaration: {
        const ed = st;
        if (ed.exportClause && ts4.isNamespaceExport(ed.exportClause)) this.err(ed.exportClause, MSG.namespaceImport);
        return;
      }
      case ts4.SyntaxKind.ExportAssignment:
        return this.err(st, MSG.exportDefault);
      case ts4.SyntaxKind.ImportEqualsDeclaration:
        return this.err(st, MSG.importEquals);
      case ts4.SyntaxKind.FunctionDeclaration:
        return this.functionDecl(st);
      case ts4.SyntaxKind.VariableStatement:
        return this.moduleVariables(st);
      case ts4.SyntaxKind.EnumDeclaration:
        return this.enumDecl(st);
      case ts4.SyntaxKind.InterfaceDeclaration:
      case ts4.SyntaxKind.TypeAliasDeclaration:
      case ts4.SyntaxKind.EmptyStatement:
        return;
      case ts4.SyntaxKind.ClassDeclaration:
        return this.err(st, MSG.class);
      case ts4.SyntaxKind.ModuleDeclaration:
        return this.err(st, MSG.namespace);
      default:
        return this.err(st, MSG.moduleStatement);
    }
  }
  enumDecl(e) {
    for (const member of e.members) {
      const v = this.names.checker.getConstantValue(member);
      if (typeof v === "string") this.err(member, MSG.stringEnum);
      else if (typeof v !== "number" || !Number.isInteger(v)) this.err(member, MSG.nonConstEnumMember);
    }
  }
  moduleVariables(vs) {
    const list = vs.declarationList;
    const isConst = (list.flags & ts4.NodeFlags.Const) !== 0;
    if ((list.flags & (ts4.NodeFlags.Let | ts4.NodeFlags.Const)) === 0) return this.err(vs, MSG.var);
    for (const d of list.declarations) {
      if (!ts4.isIdentifier(d.name)) {
        this.err(d.name, MSG.destructuring);
        continue;
      }
      if (!d.initializer) {
        this.declaredType(d);
        continue;
      }
      if (this.ce.isStaticBufferCall(d.initializer)) {
        const call = d.initializer;
        if (!isConst) this.err(call, MSG.staticBufferPlace);
        else if (!this.ce.staticBufferShape(call)) this.err(call, MSG.staticBufferShape);
        continue;
      }
      const before = this.diags.items.length;
      this.expr(d.initializer);
      if (this.diags.items.length !== before) continue;
      this.declaredType(d);
      if (!this.ce.eval(d.initializer)) this.err(d.initializer, MSG.moduleInit);
    }
  }
  /** A variable's or parameter's type must be a number, boolean or enum. */
  declaredType(d) {
    const t = this.names.checker.getTypeAtLocation(d.name);
    if (isIntegralType(t)) return;
    const shown = this.names.checker.typeToString(t);
    const name = ts4.isIdentifier(d.name) ? d.name.text : "?";
    if (t.flags & ts4.TypeFlags.Any) this.err(d.name, `'${name}' has type 'any', which is outside the subset; declare it as number (or boolean)`);
    else this.err(d.name, `'${name}' has type '${shown}', which is outside the subset; values are 32-bit numbers (number, boolean or an enum)`);
  }
  functionDecl(fn) {
    if (!fn.body) return this.err(fn, MSG.overload);
    if (this.hasModifier(fn, ts4.SyntaxKind.AsyncKeyword)) return this.err(fn, MSG.async);
    if (fn.asteriskToken) return this.err(fn, MSG.generator);
    const name = fn.name?.text ?? "?";
    for (const p of fn.parameters) {
      if (p.dotDotDotToken) this.err(p, MSG.restParam);
      else if (!ts4.isIdentifier(p.name)) this.err(p.name, MSG.destructuring);
      else if (p.initializer) this.err(p.initializer, MSG.defaultParam);
      else if (p.questionToken) this.err(p, MSG.optionalParam);
      else this.declaredType(p);
    }
    const sig = this.names.checker.getSignatureFromDeclaration(fn);
    if (sig) {
      const rt = this.names.checker.getReturnTypeOfSignature(sig);
      const okVoid = (rt.flags & (ts4.TypeFlags.Void | ts4.TypeFlags.Never | ts4.TypeFlags.Undefined)) !== 0;
      if (!okVoid && !isIntegralType(rt)) {
        this.err(fn.name ?? fn, `function '${name}' returns '${this.names.checker.typeToString(rt)}', which is outside the subset; return number, boolean or void`);
      }
    }
    for (const st of fn.body.statements) this.stmt(st);
  }
  stmt(st) {
    switch (st.kind) {
      case ts4.SyntaxKind.Block:
        for (const s of st.statements) this.stmt(s);
        return;
      case ts4.SyntaxKind.EmptyStatement:
      case ts4.SyntaxKind.InterfaceDeclaration:
      case ts4.SyntaxKind.TypeAliasDeclaration:
        return;
      case ts4.SyntaxKind.VariableStatement:
        return this.localVariables(st.declarationList);
      case ts4.SyntaxKind.ExpressionStatement:
        return this.expr(st.expression);
      case ts4.SyntaxKind.IfStatement: {
        const s = st;
        this.expr(s.expression);
        this.stmt(s.thenStatement);
        if (s.elseStatement) this.stmt(s.elseStatement);
        return;
      }
      case ts4.SyntaxKind.WhileStatement:
      case ts4.SyntaxKind.DoStatement: {
        const s = st;
        this.expr(s.expression);
        this.stmt(s.statement);
        return;
      }
      case ts4.SyntaxKind.ForStatement: {
        const s = st;
        if (s.initializer) {
          if (ts4.isVariableDeclarationList(s.initializer)) this.localVariables(s.initializer, s);
          else this.expr(s.initializer);
        }
        if (s.condition) this.expr(s.condition);
        if (s.incrementor) this.expr(s.incrementor);
        this.stmt(s.statement);
        return;
      }
      case ts4.SyntaxKind.ForOfStatement:
        return this.err(st, MSG.forOf);
      case ts4.SyntaxKind.ForInStatement:
        return this.err(st, MSG.forIn);
      case ts4.SyntaxKind.SwitchStatement: {
        const s = st;
        this.expr(s.expression);
        for (const clause of s.caseBlock.clauses) {
          if (ts4.isCaseClause(clause)) this.expr(clause.expression);
          for (const x of clause.statements) this.stmt(x);
        }
        return;
      }
      case ts4.SyntaxKind.BreakStatement:
      case ts4.SyntaxKind.ContinueStatement:
        return;
      case ts4.SyntaxKind.ReturnStatement: {
        const e = st.expression;
        if (e) this.expr(e);
        return;
      }
      case ts4.SyntaxKind.LabeledStatement: {
        const inner = st.statement;
        const ok = ts4.isForStatement(inner) || ts4.isWhileStatement(inner) || ts4.isDoStatement(inner) || ts4.isSwitchStatement(inner);
        if (!ok && !ts4.isForOfStatement(inner) && !ts4.isForInStatement(inner)) return this.err(st, MSG.label);
        return this.stmt(inner);
      }
      case ts4.SyntaxKind.ThrowStatement:
        return this.err(st, MSG.throw);
      case ts4.SyntaxKind.TryStatement:
        return this.err(st, MSG.try);
      case ts4.SyntaxKind.FunctionDeclaration:
        return this.err(st, MSG.nestedFunction);
      case ts4.SyntaxKind.ClassDeclaration:
        return this.err(st, MSG.class);
      case ts4.SyntaxKind.DebuggerStatement:
        return this.err(st, MSG.debugger);
      case ts4.SyntaxKind.WithStatement:
        return this.err(st, MSG.with);
      case ts4.SyntaxKind.EnumDeclaration:
        return this.err(st, MSG.localEnum);
      case ts4.SyntaxKind.ModuleDeclaration:
        return this.err(st, MSG.namespace);
      default:
        return this.err(st, MSG.statement);
    }
  }
  localVariables(list, at = list) {
    if ((list.flags & (ts4.NodeFlags.Let | ts4.NodeFlags.Const)) === 0) return this.err(at === list ? list.parent : at, MSG.var);
    for (const d of list.declarations) {
      if (!ts4.isIdentifier(d.name)) {
        this.err(d.name, MSG.destructuring);
        continue;
      }
      const before = this.diags.items.length;
      if (d.initializer) this.expr(d.initializer);
      if (this.diags.items.length === before) this.declaredType(d);
    }
  }
  expr(e) {
    switch (e.kind) {
      case ts4.SyntaxKind.NumericLiteral: {
        const lit = e;
        if (literalValue(lit) !== null) return;
        const v = Number(lit.text);
        if (!Number.isInteger(v)) return this.err(e, `non-integer number ${lit.getText()} is outside the subset (numbers are 32-bit integers); use integer or fixed-point arithmetic`);
        return this.err(e, `integer ${lit.getText()} does not fit in 32 bits; use a value from -2147483648 to 4294967295`);
      }
      case ts4.SyntaxKind.TrueKeyword:
      case ts4.SyntaxKind.FalseKeyword:
        return;
      case ts4.SyntaxKind.BigIntLiteral:
        return this.err(e, MSG.bigint);
      case ts4.SyntaxKind.StringLiteral:
      case ts4.SyntaxKind.NoSubstitutionTemplateLiteral:
        return this.err(e, MSG.string);
      case ts4.SyntaxKind.TemplateExpression:
        return this.err(e, MSG.template);
      case ts4.SyntaxKind.TaggedTemplateExpression:
        return this.err(e, MSG.taggedTemplate);
      case ts4.SyntaxKind.RegularExpressionLiteral:
        return this.err(e, MSG.regex);
      case ts4.SyntaxKind.NullKeyword:
        return this.err(e, MSG.null);
      case ts4.SyntaxKind.ThisKeyword:
        return this.err(e, MSG.this);
      case ts4.SyntaxKind.SuperKeyword:
        return this.err(e, MSG.super);
      case ts4.SyntaxKind.Identifier:
        return this.identifier(e);
      case ts4.SyntaxKind.ParenthesizedExpression:
      case ts4.SyntaxKind.NonNullExpression:
        return this.expr(e.expression);
      case ts4.SyntaxKind.AsExpression:
      case ts4.SyntaxKind.TypeAssertionExpression:
      case ts4.SyntaxKind.SatisfiesExpression: {
        const inner = e.expression;
        this.expr(inner);
        const t = this.names.checker.getTypeAtLocation(e);
        if (!isIntegralType(t)) this.err(e, `a value of type '${this.names.checker.typeToString(t)}' is outside the subset; values are 32-bit numbers (number, boolean or an enum)`);
        return;
      }
      case ts4.SyntaxKind.PrefixUnaryExpression:
      case ts4.SyntaxKind.PostfixUnaryExpression: {
        const u = e;
        if (u.operator === ts4.SyntaxKind.PlusPlusToken || u.operator === ts4.SyntaxKind.MinusMinusToken) return this.assignTarget(u.operand);
        return this.expr(u.operand);
      }
      case ts4.SyntaxKind.BinaryExpression:
        return this.binary(e);
      case ts4.SyntaxKind.ConditionalExpression: {
        const c = e;
        this.expr(c.condition);
        this.expr(c.whenTrue);
        this.expr(c.whenFalse);
        return;
      }
      case ts4.SyntaxKind.CallExpression:
        return this.call(e);
      case ts4.SyntaxKind.PropertyAccessExpression:
        return this.propertyAccess(e);
      case ts4.SyntaxKind.ElementAccessExpression:
        return this.err(e, e.questionDotToken ? MSG.optionalChain : MSG.indexing);
      case ts4.SyntaxKind.ObjectLiteralExpression:
        return this.err(e, MSG.objectLiteral);
      case ts4.SyntaxKind.ArrayLiteralExpression:
        return this.err(e, MSG.arrayLiteral);
      case ts4.SyntaxKind.ArrowFunction:
        return this.err(e, MSG.arrow);
      case ts4.SyntaxKind.FunctionExpression:
        return this.err(e, MSG.functionExpression);
      case ts4.SyntaxKind.ClassExpression:
        return this.err(e, MSG.class);
      case ts4.SyntaxKind.NewExpression:
        return this.err(e, MSG.new);
      case ts4.SyntaxKind.DeleteExpression:
        return this.err(e, MSG.delete);
      case ts4.SyntaxKind.TypeOfExpression:
        return this.err(e, MSG.typeof);
      case ts4.SyntaxKind.VoidExpression:
        return this.err(e, MSG.void);
      case ts4.SyntaxKind.AwaitExpression:
        return this.err(e, MSG.await);
      case ts4.SyntaxKind.YieldExpression:
        return this.err(e, MSG.yield);
      case ts4.SyntaxKind.SpreadElement:
        return this.err(e, MSG.spread);
      default:
        return this.err(e, MSG.expression);
    }
  }
  identifier(id) {
    if (this.names.isUnresolvedImport(id)) return;
    const ent = this.names.entityOf(id);
    switch (ent.kind) {
      case "local":
      case "global":
        return;
      case "function":
        return this.err(id, MSG.functionValue);
      case "intrinsic":
        return this.err(id, MSG.intrinsicValue);
      case "enum":
        return this.err(id, MSG.enumValue);
      case "other":
        if (id.text === "undefined") return this.err(id, MSG.undefined);
        return this.err(id, `'${id.text}' is not available in the guest subset; guests see only their own modules and the intrinsics from "xl32"`);
    }
  }
  assignTarget(t) {
    while (ts4.isParenthesizedExpression(t)) t = t.expression;
    if (ts4.isIdentifier(t)) {
      const ent = this.names.entityOf(t);
      if (ent.kind === "local" || ent.kind === "global") {
        const isConst = ts4.isVariableDeclaration(ent.decl) && (ent.decl.parent.flags & ts4.NodeFlags.Const) !== 0;
        if (isConst && !this.target.typeCheck) this.err(t, `cannot assign to '${t.text}' because it is a const; declare it with let`);
        return;
      }
      return this.identifier(t);
    }
    if (ts4.isArrayLiteralExpression(t) || ts4.isObjectLiteralExpression(t)) return this.err(t, MSG.destructuring);
    if (ts4.isElementAccessExpression(t)) return this.err(t, MSG.indexing);
    if (ts4.isPropertyAccessExpression(t)) return this.err(t, `assigning to '${t.getText()}' is outside the subset; store to memory with store32(base + Field.OFFSET, value)`);
    return this.err(t, MSG.expression);
  }
  binary(b) {
    const op = b.operatorToken.kind;
    switch (op) {
      case ts4.SyntaxKind.AsteriskAsteriskToken:
      case ts4.SyntaxKind.AsteriskAsteriskEqualsToken:
        return this.err(b.operatorToken, MSG.exponent);
      case ts4.SyntaxKind.QuestionQuestionToken:
      case ts4.SyntaxKind.QuestionQuestionEqualsToken:
        return this.err(b.operatorToken, MSG.nullish);
      case ts4.SyntaxKind.InstanceOfKeyword:
        return this.err(b.operatorToken, MSG.instanceof);
      case ts4.SyntaxKind.InKeyword:
        return this.err(b.operatorToken, MSG.in);
      default:
        break;
    }
    if (op >= ts4.SyntaxKind.FirstAssignment && op <= ts4.SyntaxKind.LastAssignment) {
      this.assignTarget(b.left);
      this.expr(b.right);
      return;
    }
    this.expr(b.left);
    this.expr(b.right);
  }
  propertyAccess(p) {
    if (p.questionDotToken) return this.err(p, MSG.optionalChain);
    if (ts4.isIdentifier(p.expression) && p.expression.text === "Math" && this.names.isLibGlobal(p.expression)) {
      return this.err(p, `Math.${p.name.text} is outside the subset (there is no floating point); only Math.imul is supported`);
    }
    if (ts4.isIdentifier(p.expression) && this.names.entityOf(p.expression).kind === "enum") {
      const v = this.names.checker.getConstantValue(p);
      if (typeof v === "number") return;
    }
    return this.err(p, `property access '${p.getText()}' is outside the subset; use a const enum member, or load32(base + Field.OFFSET) for a struct field`);
  }
  call(call) {
    if (call.questionDotToken) return this.err(call, MSG.optionalChain);
    for (const a of call.arguments) if (ts4.isSpreadElement(a)) return this.err(a, MSG.spread);
    const callee = call.expression;
    if (this.names.isMathImul(callee)) {
      for (const a of call.arguments) this.expr(a);
      return;
    }
    if (ts4.isIdentifier(callee)) {
      const ent = this.names.entityOf(callee);
      if (ent.kind === "intrinsic") return this.intrinsic(call, ent.name);
      if (ent.kind === "function") {
        const want = ent.decl.parameters.length;
        if (call.arguments.length !== want) {
          this.err(call, `'${callee.text}' takes ${want} argument${want === 1 ? "" : "s"}, not ${call.arguments.length}`);
        }
        for (const a of call.arguments) this.expr(a);
        return;
      }
    }
    if (ts4.isPropertyAccessExpression(callee)) return this.propertyAccess(callee);
    const decl = ts4.isIdentifier(callee) ? this.names.declarationOf(callee) : void 0;
    if (decl && ts4.isFunctionDeclaration(decl)) return;
    if (ts4.isIdentifier(callee) && this.names.isUnresolvedImport(callee)) {
      for (const a of call.arguments) this.expr(a);
      return;
    }
    this.err(callee, MSG.badCall);
  }
  intrinsic(call, name) {
    const spec2 = intrinsicSpec(name);
    if (!spec2) return this.err(call.expression, `intrinsic '${name}' is not supported by this compiler`);
    if (spec2.place === "staticBuffer") return this.err(call, MSG.staticBufferPlace);
    if (spec2.pvOnly && (this.target.arch !== "pv" || this.target.user)) {
      this.err(call.expression, this.target.user ? `${name} is available only to pv kernels, not to user programs; user programs make system calls` : `${name} is available only with --arch pv; a native kernel uses the CPU instructions directly`);
    }
    const args = call.arguments;
    if (args.length < spec2.minArgs || args.length > spec2.args.length) {
      const n = spec2.minArgs === spec2.args.length ? `${spec2.minArgs}` : `${spec2.minArgs} to ${spec2.args.length}`;
      return this.err(call, `${name} takes ${n} argument${spec2.args.length === 1 ? "" : "s"}, not ${args.length}`);
    }
    args.forEach((a, k) => this.intrinsicArg(name, a, spec2.args[k]));
  }
  intrinsicArg(name, a, rule) {
    switch (rule.kind) {
      case "value":
        return this.expr(a);
      case "const": {
        const v = this.ce.int(a);
        if (v === null) {
          this.expr(a);
          return this.err(a, `${name} needs a constant ${rule.what} (${rule.range}); ${rule.hint}`);
        }
        if (!rule.ok(v)) return this.err(a, `${name}: ${rule.what} ${v} is out of range (${rule.range})`);
        return;
      }
      case "string": {
        if (ts4.isStringLiteral(a) || ts4.isNoSubstitutionTemplateLiteral(a)) {
          for (let k = 0; k < a.text.length; k++) {
            if (a.text.charCodeAt(k) > 255) return this.err(a, `cstr strings are Latin-1 bytes; character U+${a.text.charCodeAt(k).toString(16).toUpperCase().padStart(4, "0")} does not fit in a byte`);
          }
          return;
        }
        if (ts4.isTemplateExpression(a)) return this.err(a, MSG.template);
        return this.err(a, `cstr needs a string literal, e.g. cstr("hello\\n")`);
      }
      case "function": {
        if (ts4.isArrowFunction(a)) return this.err(a, MSG.arrow);
        if (ts4.isFunctionExpression(a)) return this.err(a, MSG.functionExpression);
        if (ts4.isIdentifier(a)) {
          const ent = this.names.entityOf(a);
          if (ent.kind === "function") {
            if (name === "trapEntry" && ent.decl.parameters.length > 1) {
              return this.err(a, `trapEntry handler '${a.text}' must take at most one parameter (the trap frame address)`);
            }
            return;
          }
        }
        return this.err(a, `${name} needs the name of a module-level function, e.g. ${name}(handler)`);
      }
    }
  }
};

// toolchain/compiler/lower.ts
import ts5 from "typescript";

// toolchain/compiler/mir.ts
var FIRST_VREG = 32;
var isVirtual = (r) => r >= FIRST_VREG;
var ARG_REGS = [0, 1, 2, 3, 4, 5];
var CALLER_SAVED = [0, 1, 2, 3, 4, 5, 6];
var CALLEE_SAVED = [7, 8, 9, 10, 11, 12, 13];
var ALLOCATABLE = [...CALLER_SAVED, ...CALLEE_SAVED];
function inst(op, fields = {}) {
  return { op, rd: 0, ra: 0, rb: 0, imm: 0, sym: null, cond: 0 /* EQ */, targets: [], implicitUses: [], implicitDefs: [], slot: -1, line: 0, ...fields };
}
function usesOf(i2) {
  const info = OPS[i2.op];
  if (!info) throw new Error(`internal compiler error: unknown opcode ${i2.op}`);
  let regs;
  switch (info.fmt) {
    case 0 /* None */:
    case 1 /* D */:
    case 8 /* DImm32 */:
    case 9 /* Rel */:
    case 10 /* CondRel */:
    case 13 /* DCond */:
    case 14 /* Vec */:
    case 15 /* DPort */:
    case 18 /* DCr */:
    case 21 /* DD */:
      regs = [];
      break;
    case 2 /* A */:
    case 3 /* DA */:
    case 5 /* DAI */:
    case 6 /* Load */:
    case 12 /* AI */:
    case 16 /* PortA */:
    case 17 /* CrA */:
    case 19 /* AImm */:
    case 20 /* RingA */:
      regs = [i2.ra];
      break;
    case 4 /* DAB */:
    case 11 /* AB */:
      regs = [i2.ra, i2.rb];
      break;
    case 7 /* Store */:
      regs = [i2.rd, i2.ra];
      break;
    default:
      return assertNever2(info.fmt, "operand format");
  }
  return i2.implicitUses.length ? [...regs, ...i2.implicitUses] : regs;
}
function defsOf(i2) {
  const info = OPS[i2.op];
  if (!info) throw new Error(`internal compiler error: unknown opcode ${i2.op}`);
  let regs;
  switch (info.fmt) {
    case 0 /* None */:
    case 2 /* A */:
    case 7 /* Store */:
    case 9 /* Rel */:
    case 10 /* CondRel */:
    case 11 /* AB */:
    case 12 /* AI */:
    case 14 /* Vec */:
    case 16 /* PortA */:
    case 17 /* CrA */:
    case 19 /* AImm */:
    case 20 /* RingA */:
      regs = [];
      break;
    case 1 /* D */:
    case 3 /* DA */:
    case 4 /* DAB */:
    case 5 /* DAI */:
    case 6 /* Load */:
    case 8 /* DImm32 */:
    case 13 /* DCond */:
    case 15 /* DPort */:
    case 18 /* DCr */:
      regs = [i2.rd];
      break;
    case 21 /* DD */:
      regs = [i2.rd, i2.ra];
      break;
    default:
      return assertNever2(info.fmt, "operand format");
  }
  return i2.implicitDefs.length ? [...regs, ...i2.implicitDefs] : regs;
}
function mapRegs(i2, useMap, defMap) {
  const info = OPS[i2.op];
  switch (info.fmt) {
    case 0 /* None */:
    case 9 /* Rel */:
    case 10 /* CondRel */:
    case 14 /* Vec */:
      break;
    case 1 /* D */:
    case 8 /* DImm32 */:
    case 13 /* DCond */:
    case 15 /* DPort */:
    case 18 /* DCr */:
      i2.rd = defMap(i2.rd);
      break;
    case 2 /* A */:
    case 12 /* AI */:
    case 16 /* PortA */:
    case 17 /* CrA */:
    case 19 /* AImm */:
    case 20 /* RingA */:
      i2.ra = useMap(i2.ra);
      break;
    case 3 /* DA */:
    case 5 /* DAI */:
    case 6 /* Load */:
      i2.ra = useMap(i2.ra);
      i2.rd = defMap(i2.rd);
      break;
    case 4 /* DAB */:
      i2.ra = useMap(i2.ra);
      i2.rb = useMap(i2.rb);
      i2.rd = defMap(i2.rd);
      break;
    case 11 /* AB */:
      i2.ra = useMap(i2.ra);
      i2.rb = useMap(i2.rb);
      break;
    case 7 /* Store */:
      i2.rd = useMap(i2.rd);
      i2.ra = useMap(i2.ra);
      break;
    case 21 /* DD */:
      i2.rd = defMap(i2.rd);
      i2.ra = defMap(i2.ra);
      break;
    default:
      assertNever2(info.fmt, "operand format");
  }
  i2.implicitUses = i2.implicitUses.map(useMap);
  i2.implicitDefs = i2.implicitDefs.map(defMap);
}
function isTerminator(i2) {
  return i2.op === 72 /* JMP */ || i2.op === 77 /* RET */ || i2.op === 110 /* IRET */ || i2.op === 75 /* JMPR */;
}
function hasSideEffects(i2) {
  switch (i2.op) {
    case 1 /* NOP */:
    case 2 /* MOV */:
    case 3 /* LI */:
    case 16 /* ADD */:
    case 17 /* SUB */:
    case 18 /* MUL */:
    case 19 /* MULHU */:
    case 24 /* AND */:
    case 25 /* OR */:
    case 26 /* XOR */:
    case 27 /* SHL */:
    case 28 /* SHR */:
    case 29 /* SAR */:
    case 30 /* NOT */:
    case 31 /* NEG */:
    case 32 /* ADDI */:
    case 33 /* MULI */:
    case 34 /* ANDI */:
    case 35 /* ORI */:
    case 36 /* XORI */:
    case 37 /* SHLI */:
    case 38 /* SHRI */:
    case 39 /* SARI */:
    case 67 /* SETCC */:
      return false;
    default:
      return true;
  }
}
var tracked = (r) => r !== REG_SP && r !== REG_FP;
function successors(b) {
  const out = [];
  for (const i2 of b.insts) {
    if (i2.op === 72 /* JMP */ || i2.op === 73 /* JCC */ || i2.op === 75 /* JMPR */) {
      for (const t of i2.targets) if (!out.includes(t)) out.push(t);
    }
  }
  return out;
}

// toolchain/compiler/abi.ts
var KERNEL_BASE = 1048576;
var USER_BASE = 4194304;
var STACK_BYTES = 16 * 1024;
var SECTION_ALIGN = PAGE_SIZE;
var SYSCALL_VECTOR2 = 128 /* Syscall */;
var SYS_EXIT = 0;
var POWEROFF_PORT = SYS_POWEROFF;
var alignUp = (v, a) => Math.ceil(v / a) * a;

// toolchain/compiler/lower-intrinsics.ts
var UNSIGNED_COMPARE = { ltu: 6 /* B */, leu: 8 /* BE */, gtu: 9 /* A */, geu: 7 /* AE */ };
function unsignedCompareCond(name) {
  return name === null ? void 0 : UNSIGNED_COMPARE[name];
}
function lowerIntrinsic(l, name, call, want) {
  const args = call.arguments;
  const ce = l.env.ce;
  const zero = { k: "int", v: 0 };
  const def = (op, fields = {}) => {
    const d = want ?? l.vreg();
    l.emit(op, { rd: d, ...fields });
    return { k: "reg", r: d };
  };
  const load = (op) => {
    const a = l.address(args[0]);
    return def(op, { ra: a.base, imm: a.off });
  };
  const store = (op) => {
    const a = l.address(args[0]);
    const v = l.toReg(l.expr(args[1]));
    l.emit(op, { rd: v, ra: a.base, imm: a.off });
    return zero;
  };
  const two = (op) => {
    const [a, b] = l.exprs(args);
    const ra = l.toReg(a);
    const rb = l.toReg(b);
    return def(op, { ra, rb });
  };
  const one = () => l.toReg(l.expr(args[0]));
  const constArg = (k) => {
    const v = ce.int(args[k]);
    if (v === null) throw new Error(`internal compiler error: ${name} argument ${k} is not constant`);
    return v;
  };
  switch (name) {
    case "load8":
      return load(52 /* LDBU */);
    case "load8s":
      return load(51 /* LDB */);
    case "load16":
      return load(50 /* LDHU */);
    case "load16s":
      return load(49 /* LDH */);
    case "load32":
      return load(48 /* LDW */);
    case "store8":
      return store(58 /* STB */);
    case "store16":
      return store(57 /* STH */);
    case "store32":
      return store(56 /* STW */);
    case "xchg32":
      return two(59 /* XCHG */);
    case "ltu":
    case "leu":
    case "gtu":
    case "geu":
      return l.boolValue(call, want);
    case "divu":
      return two(21 /* DIVU */);
    case "remu":
      return two(23 /* REMU */);
    case "mulhu":
      return two(19 /* MULHU */);
    case "staticBuffer":
    case "cstr":
    case "addressOf":
    case "trapEntry":
      throw new Error(`internal compiler error: ${name} is a constant address and reached lowering as a call`);
    case "callIndirect": {
      const [target, ...rest] = l.exprs(args);
      const ra = l.toReg(target);
      const uses = l.passArgs(rest);
      l.emit(76 /* CALLR */, { ra, implicitUses: uses, implicitDefs: [...CALLER_SAVED] });
      return l.result(want);
    }
    case "cli":
      l.emit(97 /* CLI */);
      return zero;
    case "sti":
      l.emit(98 /* STI */);
      return zero;
    case "hlt":
      l.emit(96 /* HLT */);
      return zero;
    case "pause":
      l.emit(84 /* PAUSE */);
      return zero;
    case "brk":
      l.emit(81 /* BRK */);
      return zero;
    case "pushf":
      l.emit(112 /* PUSHF */);
      return def(61 /* POP */);
    case "popf":
      l.emit(60 /* PUSH */, { ra: one() });
      l.emit(113 /* POPF */);
      return zero;
    case "rdcpl":
      return def(114 /* RDCPL */);
    case "stackPointer":
      return def(2 /* MOV */, { ra: REG_SP });
    case "sidt":
      return def(115 /* SIDT */);
    case "rdtsc":
      return def(82 /* RDTSC */, { ra: l.vreg() });
    case "rdtscHigh": {
      const d = want ?? l.vreg();
      l.emit(82 /* RDTSC */, { rd: l.vreg(), ra: d });
      return { k: "reg", r: d };
    }
    case "cpuid": {
      const [leaf] = l.exprs([args[0], args[1]]);
      const out = l.address(args[1]);
      l.moveTo(0, leaf);
      l.emit(83 /* CPUID */, { implicitUses: [0], implicitDefs: [0, 1, 2, 3] });
      for (let k = 0; k < 4; k++) l.emit(56 /* STW */, { rd: k, ra: out.base, imm: out.off + 4 * k });
      return zero;
    }
    case "in32": {
      const p = ce.int(args[0]);
      if (p !== null && p >= 0 && p <= 65535) return def(99 /* IN */, { imm: p });
      return def(103 /* INR */, { ra: one() });
    }
    case "inb":
      return def(100 /* INB */, { imm: constArg(0) });
    case "outb":
      l.emit(102 /* OUTB */, { imm: constArg(0), ra: l.toReg(l.expr(args[1])) });
      return zero;
    case "out32": {
      const p = ce.int(args[0]);
      if (p !== null && p >= 0 && p <= 65535) {
        l.emit(101 /* OUT */, { imm: p, ra: l.toReg(l.expr(args[1])) });
      } else {
        const [port2, value] = l.exprs(args);
        const ra = l.toReg(port2);
        l.emit(104 /* OUTR */, { ra, rb: l.toReg(value) });
      }
      return zero;
    }
    case "readCr":
      return def(106 /* MOVFROMCR */, { imm: constArg(0) });
    case "writeCr":
      l.emit(105 /* MOVTOCR */, { imm: constArg(0), ra: l.toReg(l.expr(args[1])) });
      return zero;
    case "lidt":
      l.emit(107 /* LIDT */, { ra: one(), imm: constArg(1) });
      return zero;
    case "invlpg":
      l.emit(108 /* INVLPG */, { ra: one() });
      return zero;
    case "lksp":
      l.emit(109 /* LKSP */, { imm: constArg(0), ra: l.toReg(l.expr(args[1])) });
      return zero;
    case "softInt":
      l.emit(80 /* INT */, { imm: constArg(0), implicitDefs: [...CALLER_SAVED] });
      return zero;
    case "hypercall": {
      const uses = l.passArgs(l.exprs(args));
      l.emit(127 /* HYPERCALL */, { implicitUses: uses, implicitDefs: [...CALLER_SAVED] });
      return l.result(want);
    }
    case "syscall": {
      const uses = l.passArgs(l.exprs(args));
      l.emit(80 /* INT */, { imm: SYSCALL_VECTOR2, implicitUses: uses, implicitDefs: [...CALLER_SAVED] });
      return l.result(want);
    }
    case "contextSwitch": {
      l.env.statics.needContextSwitch = true;
      const uses = l.passArgs(l.exprs(args));
      l.emit(74 /* CALL */, { sym: CONTEXT_SWITCH_SYM, implicitUses: uses, implicitDefs: [...CALLER_SAVED] });
      return zero;
    }
    case "iretTo":
      l.emit(2 /* MOV */, { rd: 15, ra: one() });
      l.emit(110 /* IRET */);
      l.endBlock();
      return zero;
    default:
      return assertNever2(name, "intrinsic");
  }
}

// toolchain/compiler/lower.ts
var fitsImm16 = (v) => v >= -32768 && v <= 32767;
var STACK_ARGS_OFFSET = 8;
var BIN_OPS = /* @__PURE__ */ new Map([
  [ts5.SyntaxKind.PlusToken, 16 /* ADD */],
  [ts5.SyntaxKind.MinusToken, 17 /* SUB */],
  [ts5.SyntaxKind.AsteriskToken, 18 /* MUL */],
  [ts5.SyntaxKind.SlashToken, 20 /* DIV */],
  [ts5.SyntaxKind.PercentToken, 22 /* REM */],
  [ts5.SyntaxKind.AmpersandToken, 24 /* AND */],
  [ts5.SyntaxKind.BarToken, 25 /* OR */],
  [ts5.SyntaxKind.CaretToken, 26 /* XOR */],
  [ts5.SyntaxKind.LessThanLessThanToken, 27 /* SHL */],
  [ts5.SyntaxKind.GreaterThanGreaterThanToken, 29 /* SAR */],
  [ts5.SyntaxKind.GreaterThanGreaterThanGreaterThanToken, 28 /* SHR */]
]);
var COMPOUND = /* @__PURE__ */ new Map([
  [ts5.SyntaxKind.PlusEqualsToken, ts5.SyntaxKind.PlusToken],
  [ts5.SyntaxKind.MinusEqualsToken, ts5.SyntaxKind.MinusToken],
  [ts5.SyntaxKind.AsteriskEqualsToken, ts5.SyntaxKind.AsteriskToken],
  [ts5.SyntaxKind.SlashEqualsToken, ts5.SyntaxKind.SlashToken],
  [ts5.SyntaxKind.PercentEqualsToken, ts5.SyntaxKind.PercentToken],
  [ts5.SyntaxKind.AmpersandEqualsToken, ts5.SyntaxKind.AmpersandToken],
  [ts5.SyntaxKind.BarEqualsToken, ts5.SyntaxKind.BarToken],
  [ts5.SyntaxKind.CaretEqualsToken, ts5.SyntaxKind.CaretToken],
  [ts5.SyntaxKind.LessThanLessThanEqualsToken, ts5.SyntaxKind.LessThanLessThanToken],
  [ts5.SyntaxKind.GreaterThanGreaterThanEqualsToken, ts5.SyntaxKind.GreaterThanGreaterThanToken],
  [ts5.SyntaxKind.GreaterThanGreaterThanGreaterThanEqualsToken, ts5.SyntaxKind.GreaterThanGreaterThanGreaterThanToken]
]);
var COMPARE = /* @__PURE__ */ new Map([
  [ts5.SyntaxKind.LessThanToken, 2 /* LT */],
  [ts5.SyntaxKind.LessThanEqualsToken, 4 /* LE */],
  [ts5.SyntaxKind.GreaterThanToken, 5 /* GT */],
  [ts5.SyntaxKind.GreaterThanEqualsToken, 3 /* GE */],
  [ts5.SyntaxKind.EqualsEqualsToken, 0 /* EQ */],
  [ts5.SyntaxKind.EqualsEqualsEqualsToken, 0 /* EQ */],
  [ts5.SyntaxKind.ExclamationEqualsToken, 1 /* NE */],
  [ts5.SyntaxKind.ExclamationEqualsEqualsToken, 1 /* NE */]
]);
function mirrorCond(c) {
  switch (c) {
    case 0 /* EQ */:
      return 0 /* EQ */;
    case 1 /* NE */:
      return 1 /* NE */;
    case 2 /* LT */:
      return 5 /* GT */;
    case 3 /* GE */:
      return 4 /* LE */;
    case 4 /* LE */:
      return 3 /* GE */;
    case 5 /* GT */:
      return 2 /* LT */;
    case 6 /* B */:
      return 9 /* A */;
    case 7 /* AE */:
      return 8 /* BE */;
    case 8 /* BE */:
      return 7 /* AE */;
    case 9 /* A */:
      return 6 /* B */;
  }
}
function invertCond(c) {
  switch (c) {
    case 0 /* EQ */:
      return 1 /* NE */;
    case 1 /* NE */:
      return 0 /* EQ */;
    case 2 /* LT */:
      return 3 /* GE */;
    case 3 /* GE */:
      return 2 /* LT */;
    case 4 /* LE */:
      return 5 /* GT */;
    case 5 /* GT */:
      return 4 /* LE */;
    case 6 /* B */:
      return 7 /* AE */;
    case 7 /* AE */:
      return 6 /* B */;
    case 8 /* BE */:
      return 9 /* A */;
    case 9 /* A */:
      return 8 /* BE */;
  }
}
var log2 = (v) => v > 0 && (v & v - 1) === 0 ? 31 - Math.clz32(v) : -1;
function writesVariables(e) {
  if (ts5.isBinaryExpression(e) && e.operatorToken.kind >= ts5.SyntaxKind.FirstAssignment && e.operatorToken.kind <= ts5.SyntaxKind.LastAssignment) return true;
  if ((ts5.isPrefixUnaryExpression(e) || ts5.isPostfixUnaryExpression(e)) && (e.operator === ts5.SyntaxKind.PlusPlusToken || e.operator === ts5.SyntaxKind.MinusMinusToken)) return true;
  return ts5.forEachChild(e, (c) => writesVariables(c) ? true : void 0) ?? false;
}
function lowerFunction(fn, name, fileIndex, env) {
  return new FnLowering(fn, name, fileIndex, env).run();
}
var FnLowering = class {
  constructor(fn, name, fileIndex, env) {
    this.fn = fn;
    this.name = name;
    this.fileIndex = fileIndex;
    this.env = env;
    this.sf = fn.getSourceFile();
    const checker = env.names.checker;
    const sig = checker.getSignatureFromDeclaration(fn);
    const rt = sig ? checker.getReturnTypeOfSignature(sig) : void 0;
    this.returnsValue = !!rt && (rt.flags & (ts5.TypeFlags.Void | ts5.TypeFlags.Never | ts5.TypeFlags.Undefined)) === 0;
    this.exit = this.newBlock(0);
  }
  fn;
  name;
  fileIndex;
  env;
  blocks = [];
  nextBlockId = 0;
  cur = null;
  nextVreg = FIRST_VREG;
  /** declaration -> its register */
  locals = /* @__PURE__ */ new Map();
  /** registers that hold named variables (may change under a later assignment) */
  variableRegs = /* @__PURE__ */ new Set();
  loops = [];
  pendingLabel = null;
  loopDepth = 0;
  line = 0;
  exit;
  returnsValue;
  jumpTables = [];
  sf;
  /** constants the registers hold at this point of the current block (forgotten at block starts) */
  known = /* @__PURE__ */ new Map();
  /** every loop: the block it is entered from and its blocks, innermost loops first */
  loopRegions = [];
  run() {
    this.line = this.lineOf(this.fn);
    this.place(this.newBlock(0));
    this.fn.parameters.forEach((p, k) => {
      const r = this.newVar(p);
      if (k < ARG_REGS.length) this.emit(2 /* MOV */, { rd: r, ra: ARG_REGS[k] });
      else this.emit(48 /* LDW */, { rd: r, ra: REG_FP, imm: STACK_ARGS_OFFSET + 4 * (k - ARG_REGS.length) });
    });
    for (const st of this.fn.body.statements) this.stmt(st);
    if (this.cur) {
      if (this.returnsValue) this.emit(3 /* LI */, { rd: 0, imm: 0 });
      this.jump(this.exit);
    }
    this.place(this.exit);
    this.emit(77 /* RET */, { implicitUses: this.returnsValue ? [0] : [] });
    this.cur = null;
    hoistConstants(this.blocks, this.loopRegions);
    const blocks = cleanupBlocks(this.blocks, this.jumpTables);
    return {
      name: this.name,
      fileIndex: this.fileIndex,
      blocks,
      nextVreg: this.nextVreg,
      noSpill: /* @__PURE__ */ new Set(),
      slots: 0,
      returnsValue: this.returnsValue,
      jumpTables: this.jumpTables,
      needsFrame: this.fn.parameters.length > ARG_REGS.length
    };
  }
  // ---- blocks and instructions ----------------------------------------------------------
  newBlock(depth = this.loopDepth) {
    return { id: this.nextBlockId++, insts: [], loopDepth: depth };
  }
  place(b) {
    if (this.cur) this.jump(b);
    this.blocks.push(b);
    this.cur = b;
    this.known.clear();
  }
  emit(op, fields = {}) {
    if (!this.cur) this.place(this.newBlock());
    const i2 = inst(op, { line: this.line, ...fields });
    this.cur.insts.push(i2);
    for (const d of defsOf(i2)) this.known.delete(d);
    if (op === 3 /* LI */ && i2.sym === null && isVirtual(i2.rd)) this.known.set(i2.rd, i2.imm);
    return i2;
  }
  endBlock() {
    this.cur = null;
  }
  jump(target) {
    if (!this.cur) return;
    this.emit(72 /* JMP */, { targets: [target.id] });
    this.cur = null;
  }
  condJump(cond, t, f) {
    this.emit(73 /* JCC */, { cond, targets: [t.id] });
    this.emit(72 /* JMP */, { targets: [f.id] });
    this.cur = null;
  }
  vreg() {
    return this.nextVreg++;
  }
  newVar(decl) {
    const r = this.vreg();
    this.locals.set(decl, r);
    this.variableRegs.add(r);
    return r;
  }
  lineOf(node) {
    return this.sf.getLineAndCharacterOfPosition(node.getStart(this.sf)).line + 1;
  }
  // ---- values ---------------------------------------------------------------------------
  toReg(v) {
    if (v.k === "reg") return v.r;
    const r = this.vreg();
    this.moveTo(r, v);
    return r;
  }
  moveTo(dst, v) {
    if (v.k === "reg") {
      if (v.r !== dst) this.emit(2 /* MOV */, { rd: dst, ra: v.r });
    } else if (v.k === "int") this.emit(3 /* LI */, { rd: dst, imm: v.v });
    else this.emit(3 /* LI */, { rd: dst, sym: v.sym, imm: v.off });
  }
  /** A value that stays put while later expressions run (copies a variable they may assign). */
  stable(v, later2) {
    if (v.k !== "reg" || !this.variableRegs.has(v.r) || !later2.some(writesVariables)) return v;
    const r = this.vreg();
    this.emit(2 /* MOV */, { rd: r, ra: v.r });
    return { k: "reg", r };
  }
  /** Evaluate several expressions left to right, each value stable against the later ones. */
  exprs(es) {
    return es.map((e, k) => this.stable(this.expr(e), es.slice(k + 1)));
  }
  // ---- statements -----------------------------------------------------------------------
  stmt(st) {
    this.line = this.lineOf(st);
    switch (st.kind) {
      case ts5.SyntaxKind.Block:
        for (const s of st.statements) this.stmt(s);
        return;
      case ts5.SyntaxKind.EmptyStatement:
      case ts5.SyntaxKind.InterfaceDeclaration:
      case ts5.SyntaxKind.TypeAliasDeclaration:
        return;
      case ts5.SyntaxKind.VariableStatement:
        return this.variables(st.declarationList);
      case ts5.SyntaxKind.ExpressionStatement:
        return this.effect(st.expression);
      case ts5.SyntaxKind.IfStatement:
        return this.ifStmt(st);
      case ts5.SyntaxKind.WhileStatement:
        return this.loop(null, st.expression, null, st.statement, false);
      case ts5.SyntaxKind.DoStatement:
        return this.loop(null, st.expression, null, st.statement, true);
      case ts5.SyntaxKind.ForStatement: {
        const s = st;
        return this.loop(s.initializer ?? null, s.condition ?? null, s.incrementor ?? null, s.statement, false);
      }
      case ts5.SyntaxKind.SwitchStatement:
        return this.switchStmt(st);
      case ts5.SyntaxKind.BreakStatement: {
        const label = st.label?.text ?? null;
        const frame = this.innermost((f) => label === null || f.label === label);
        if (!frame) throw new Error("internal compiler error: break outside a loop");
        return this.jump(frame.breakTo);
      }
      case ts5.SyntaxKind.ContinueStatement: {
        const label = st.label?.text ?? null;
        const frame = this.innermost((f) => f.continueTo !== null && (label === null || f.label === label));
        if (!frame || !frame.continueTo) throw new Error("internal compiler error: continue outside a loop");
        return this.jump(frame.continueTo);
      }
      case ts5.SyntaxKind.ReturnStatement: {
        const e = st.expression;
        if (e && this.returnsValue) this.moveTo(0, this.expr(e, 0));
        else if (e) this.effect(e);
        return this.jump(this.exit);
      }
      case ts5.SyntaxKind.LabeledStatement: {
        const s = st;
        this.pendingLabel = s.label.text;
        return this.stmt(s.statement);
      }
      default:
        throw new Error(`internal compiler error: statement kind ${ts5.SyntaxKind[st.kind]} passed the subset check`);
    }
  }
  innermost(pred) {
    for (let k = this.loops.length - 1; k >= 0; k--) if (pred(this.loops[k])) return this.loops[k];
    return void 0;
  }
  takeLabel() {
    const l = this.pendingLabel;
    this.pendingLabel = null;
    return l;
  }
  variables(list) {
    const isConst = (list.flags & ts5.NodeFlags.Const) !== 0;
    for (const d of list.declarations) {
      if (isConst && d.initializer && this.env.ce.eval(d.initializer)) continue;
      const r = this.newVar(d);
      if (d.initializer) this.moveTo(r, this.expr(d.initializer, r));
      else this.emit(3 /* LI */, { rd: r, imm: 0 });
    }
  }
  ifStmt(s) {
    const thenB = this.newBlock();
    const join2 = this.newBlock();
    const elseB = s.elseStatement ? this.newBlock() : join2;
    this.branch(s.expression, thenB, elseB);
    this.place(thenB);
    this.stmt(s.thenStatement);
    if (s.elseStatement) {
      this.jump(join2);
      this.place(elseB);
      this.stmt(s.elseStatement);
    }
    this.place(join2);
  }
  /*
   * Loops are rotated: the condition is tested once before entry and again at the bottom, so
   * an iteration costs its body plus one compare-and-branch (no jump back to a header).
   */
  loop(init, cond, incr, body, isDo) {
    const label = this.takeLabel();
    if (init) {
      if (ts5.isVariableDeclarationList(init)) this.variables(init);
      else this.effect(init);
    }
    const bodyB = this.newBlock(this.loopDepth + 1);
    const contB = this.newBlock(this.loopDepth + 1);
    const exitB = this.newBlock();
    const test = () => {
      if (cond) this.branch(cond, bodyB, exitB);
      else this.jump(bodyB);
    };
    const preheader = this.cur;
    if (isDo) this.jump(bodyB);
    else test();
    this.loopDepth++;
    const first2 = this.blocks.length;
    this.place(bodyB);
    this.loops.push({ label, breakTo: exitB, continueTo: contB });
    this.stmt(body);
    this.loops.pop();
    this.place(contB);
    if (incr) {
      this.line = this.lineOf(incr);
      this.effect(incr);
    }
    if (cond) this.line = this.lineOf(cond);
    test();
    this.loopDepth--;
    if (preheader) this.loopRegions.push({ preheader, blocks: this.blocks.slice(first2) });
    this.place(exitB);
  }
  switchStmt(s) {
    const label = this.takeLabel();
    const clauses = s.caseBlock.clauses;
    const disc = this.toReg(this.expr(s.expression));
    const caseBlocks = clauses.map(() => this.newBlock());
    const exitB = this.newBlock();
    const defIdx = clauses.findIndex((c) => ts5.isDefaultClause(c));
    const defaultB = defIdx >= 0 ? caseBlocks[defIdx] : exitB;
    const consts = clauses.map((c) => ts5.isCaseClause(c) ? this.env.ce.int(c.expression) : null);
    const caseIdx = clauses.map((_, k) => k).filter((k) => ts5.isCaseClause(clauses[k]));
    const allConst = caseIdx.every((k) => consts[k] !== null);
    const values = caseIdx.map((k) => consts[k]);
    const min = Math.min(...values);
    const max = Math.max(...values);
    const range = max - min + 1;
    const dense = allConst && caseIdx.length >= 4 && range <= 2 * caseIdx.length + 2 && range <= 1024 && new Set(values).size === values.length;
    if (dense) {
      const idx = this.binop(16 /* ADD */, { k: "reg", r: disc }, { k: "int", v: -min });
      const idxR = this.toReg(idx);
      const tableB = this.newBlock();
      this.emit(65 /* CMPI */, { ra: idxR, imm: range });
      this.condJump(7 /* AE */, defaultB, tableB);
      this.place(tableB);
      const targets = new Array(range).fill(defaultB.id);
      caseIdx.forEach((k) => targets[consts[k] - min] = caseBlocks[k].id);
      const table = { label: `.Ljt.${this.name}.${this.jumpTables.length}`, targets };
      this.jumpTables.push(table);
      const off = this.vreg();
      const base = this.vreg();
      const addr = this.vreg();
      this.emit(37 /* SHLI */, { rd: off, ra: idxR, imm: 2 });
      this.emit(3 /* LI */, { rd: base, sym: table.label });
      this.emit(16 /* ADD */, { rd: addr, ra: base, rb: off });
      const dest = this.vreg();
      this.emit(48 /* LDW */, { rd: dest, ra: addr, imm: 0 });
      this.emit(75 /* JMPR */, { ra: dest, targets: [...new Set(targets)] });
      this.cur = null;
    } else {
      for (const k of caseIdx) {
        const clause = clauses[k];
        this.line = this.lineOf(clause);
        const v = this.expr(clause.expression);
        this.compareVals({ k: "reg", r: disc }, v, 0 /* EQ */, caseBlocks[k], null);
      }
      this.jump(defaultB);
    }
    this.loops.push({ label, breakTo: exitB, continueTo: null });
    clauses.forEach((c, k) => {
      this.place(caseBlocks[k]);
      for (const st of c.statements) this.stmt(st);
    });
    this.loops.pop();
    this.place(exitB);
  }
  // ---- conditions -----------------------------------------------------------------------
  /** Jump to t if `e` is truthy (non-zero), else to f. */
  branch(e, t, f) {
    while (ts5.isParenthesizedExpression(e) || ts5.isAsExpression(e) || ts5.isNonNullExpression(e) || ts5.isSatisfiesExpression(e) || ts5.isTypeAssertionExpression(e)) e = e.expression;
    const c = this.env.ce.int(e);
    if (c !== null) return this.jump(c !== 0 ? t : f);
    if (ts5.isPrefixUnaryExpression(e) && e.operator === ts5.SyntaxKind.ExclamationToken) return this.branch(e.operand, f, t);
    if (ts5.isBinaryExpression(e)) {
      const op = e.operatorToken.kind;
      if (op === ts5.SyntaxKind.AmpersandAmpersandToken || op === ts5.SyntaxKind.BarBarToken) {
        const mid = this.newBlock();
        if (op === ts5.SyntaxKind.AmpersandAmpersandToken) this.branch(e.left, mid, f);
        else this.branch(e.left, t, mid);
        this.place(mid);
        return this.branch(e.right, t, f);
      }
      if (op === ts5.SyntaxKind.CommaToken) {
        this.effect(e.left);
        return this.branch(e.right, t, f);
      }
      const cond = COMPARE.get(op);
      if (cond !== void 0) {
        const [a, b] = this.exprs([e.left, e.right]);
        return this.compareVals(a, b, cond, t, f);
      }
    }
    if (ts5.isCallExpression(e)) {
      const cond = unsignedCompareCond(this.env.names.intrinsicOf(e.expression));
      if (cond !== void 0) {
        const [a, b] = this.exprs(e.arguments);
        return this.compareVals(a, b, cond, t, f);
      }
    }
    const v = this.toReg(this.expr(e));
    this.emit(65 /* CMPI */, { ra: v, imm: 0 });
    this.condJump(1 /* NE */, t, f);
  }
  /** Set FLAGS by comparing a with b; returns the condition to test (mirrored if swapped). */
  compare(a, b, cond) {
    if (b.k === "int" && fitsImm16(b.v)) {
      this.emit(65 /* CMPI */, { ra: this.toReg(a), imm: b.v });
      return cond;
    }
    if (a.k === "int" && fitsImm16(a.v)) {
      this.emit(65 /* CMPI */, { ra: this.toReg(b), imm: a.v });
      return mirrorCond(cond);
    }
    const ra = this.toReg(a);
    this.emit(64 /* CMP */, { ra, rb: this.toReg(b) });
    return cond;
  }
  /** Compare and branch; with f null, fall into a fresh block when the condition fails. */
  compareVals(a, b, cond, t, f) {
    if (a.k === "int" && b.k === "int") {
      const fb2 = f ?? this.newBlock();
      this.jump(condHolds(cond, compareFlags(a.v, b.v)) ? t : fb2);
      if (!f) this.place(fb2);
      return;
    }
    const c = this.compare(a, b, cond);
    const fb = f ?? this.newBlock();
    this.condJump(c, t, fb);
    if (!f) this.place(fb);
  }
  // ---- expressions ----------------------------------------------------------------------
  /** Evaluate for side effects only. */
  effect(e) {
    while (ts5.isParenthesizedExpression(e)) e = e.expression;
    if ((ts5.isPrefixUnaryExpression(e) || ts5.isPostfixUnaryExpression(e)) && (e.operator === ts5.SyntaxKind.PlusPlusToken || e.operator === ts5.SyntaxKind.MinusMinusToken)) {
      this.incDec(e.operand, e.operator === ts5.SyntaxKind.PlusPlusToken ? 1 : -1, true);
      return;
    }
    if (ts5.isBinaryExpression(e) && e.operatorToken.kind === ts5.SyntaxKind.CommaToken) {
      this.effect(e.left);
      this.effect(e.right);
      return;
    }
    this.expr(e);
  }
  /** Evaluate `e`; `want` is a register the caller would like the result in (a hint). */
  expr(e, want) {
    const c = this.env.ce.eval(e);
    if (c) return c.kind === "int" ? { k: "int", v: c.value } : { k: "addr", sym: c.sym, off: c.offset };
    switch (e.kind) {
      case ts5.SyntaxKind.ParenthesizedExpression:
      case ts5.SyntaxKind.AsExpression:
      case ts5.SyntaxKind.TypeAssertionExpression:
      case ts5.SyntaxKind.NonNullExpression:
      case ts5.SyntaxKind.SatisfiesExpression:
        return this.expr(e.expression, want);
      case ts5.SyntaxKind.Identifier:
        return this.readVariable(e, want);
      case ts5.SyntaxKind.PrefixUnaryExpression:
        return this.prefix(e, want);
      case ts5.SyntaxKind.PostfixUnaryExpression: {
        const p = e;
        return this.incDec(p.operand, p.operator === ts5.SyntaxKind.PlusPlusToken ? 1 : -1, false);
      }
      case ts5.SyntaxKind.BinaryExpression:
        return this.binary(e, want);
      case ts5.SyntaxKind.ConditionalExpression: {
        const ce = e;
        const d = this.vreg();
        const t = this.newBlock();
        const f = this.newBlock();
        const j = this.newBlock();
        this.branch(ce.condition, t, f);
        this.place(t);
        this.moveTo(d, this.expr(ce.whenTrue, d));
        this.jump(j);
        this.place(f);
        this.moveTo(d, this.expr(ce.whenFalse, d));
        this.place(j);
        return { k: "reg", r: d };
      }
      case ts5.SyntaxKind.CallExpression:
        return this.call(e, want);
      default:
        throw new Error(`internal compiler error: expression kind ${ts5.SyntaxKind[e.kind]} passed the subset check`);
    }
  }
  readVariable(id, want) {
    const ent = this.env.names.entityOf(id);
    if (ent.kind === "local") {
      const r = this.locals.get(ent.decl) ?? this.newVar(ent.decl);
      const c = this.known.get(r);
      return c === void 0 ? { k: "reg", r } : { k: "int", v: c };
    }
    if (ent.kind === "global") {
      const addr = this.vreg();
      this.emit(3 /* LI */, { rd: addr, sym: ent.sym });
      const d = want ?? this.vreg();
      this.emit(48 /* LDW */, { rd: d, ra: addr, imm: 0 });
      return { k: "reg", r: d };
    }
    throw new Error(`internal compiler error: '${id.text}' (${ent.kind}) read as a variable`);
  }
  /** Store `v` into a variable; returns the value as stored. */
  writeVariable(id, v) {
    const ent = this.env.names.entityOf(id);
    if (ent.kind === "local") {
      const r = this.locals.get(ent.decl) ?? this.newVar(ent.decl);
      this.moveTo(r, v);
      return { k: "reg", r };
    }
    if (ent.kind === "global") {
      const r = this.toReg(v);
      const addr = this.vreg();
      this.emit(3 /* LI */, { rd: addr, sym: ent.sym });
      this.emit(56 /* STW */, { rd: r, ra: addr, imm: 0 });
      return { k: "reg", r };
    }
    throw new Error(`internal compiler error: '${id.text}' (${ent.kind}) assigned`);
  }
  /** A register holding a module variable's address. */
  globalAddress(id) {
    const ent = this.env.names.entityOf(id);
    if (ent.kind !== "global") throw new Error(`internal compiler error: '${id.text}' is not a module variable`);
    const addr = this.vreg();
    this.emit(3 /* LI */, { rd: addr, sym: ent.sym });
    return addr;
  }
  targetOf(e) {
    while (ts5.isParenthesizedExpression(e)) e = e.expression;
    if (!ts5.isIdentifier(e)) throw new Error("internal compiler error: assignment target is not a name");
    return e;
  }
  /** The register of a local variable, or null for module variables. */
  localReg(id) {
    const ent = this.env.names.entityOf(id);
    return ent.kind === "local" ? this.locals.get(ent.decl) ?? this.newVar(ent.decl) : null;
  }
  incDec(operand, delta, discard, prefix = false) {
    const id = this.targetOf(operand);
    const r = this.localReg(id);
    if (r !== null) {
      if (discard || prefix) {
        this.emit(32 /* ADDI */, { rd: r, ra: r, imm: delta });
        return { k: "reg", r };
      }
      const old2 = this.vreg();
      this.emit(2 /* MOV */, { rd: old2, ra: r });
      this.emit(32 /* ADDI */, { rd: r, ra: r, imm: delta });
      return { k: "reg", r: old2 };
    }
    const addr = this.globalAddress(id);
    const old = this.vreg();
    this.emit(48 /* LDW */, { rd: old, ra: addr, imm: 0 });
    const neu = this.vreg();
    this.emit(32 /* ADDI */, { rd: neu, ra: old, imm: delta });
    this.emit(56 /* STW */, { rd: neu, ra: addr, imm: 0 });
    return { k: "reg", r: prefix ? neu : old };
  }
  prefix(e, want) {
    switch (e.operator) {
      case ts5.SyntaxKind.PlusPlusToken:
      case ts5.SyntaxKind.MinusMinusToken:
        return this.incDec(e.operand, e.operator === ts5.SyntaxKind.PlusPlusToken ? 1 : -1, false, true);
      case ts5.SyntaxKind.PlusToken:
        return this.expr(e.operand, want);
      case ts5.SyntaxKind.MinusToken: {
        const a = this.toReg(this.expr(e.operand));
        const d = want ?? this.vreg();
        this.emit(31 /* NEG */, { rd: d, ra: a });
        return { k: "reg", r: d };
      }
      case ts5.SyntaxKind.TildeToken: {
        const a = this.toReg(this.expr(e.operand));
        const d = want ?? this.vreg();
        this.emit(30 /* NOT */, { rd: d, ra: a });
        return { k: "reg", r: d };
      }
      case ts5.SyntaxKind.ExclamationToken:
        return this.boolValue(e, want);
    }
  }
  /** A condition's value as 0/1: setCC after a compare, or branches for && and ||. */
  boolValue(e, want) {
    let inner = e;
    let negate = false;
    while (true) {
      while (ts5.isParenthesizedExpression(inner)) inner = inner.expression;
      if (ts5.isPrefixUnaryExpression(inner) && inner.operator === ts5.SyntaxKind.ExclamationToken) {
        negate = !negate;
        inner = inner.operand;
        continue;
      }
      break;
    }
    let cond;
    if (ts5.isBinaryExpression(inner) && (cond = COMPARE.get(inner.operatorToken.kind)) !== void 0) {
      const [a, b] = this.exprs([inner.left, inner.right]);
      if (a.k === "int" && b.k === "int") return { k: "int", v: condHolds(cond, compareFlags(a.v, b.v)) !== negate ? 1 : 0 };
      cond = this.compare(a, b, cond);
    } else if (ts5.isCallExpression(inner) && (cond = unsignedCompareCond(this.env.names.intrinsicOf(inner.expression))) !== void 0) {
      const [a, b] = this.exprs(inner.arguments);
      cond = this.compare(a, b, cond);
    } else if (ts5.isBinaryExpression(inner) && (inner.operatorToken.kind === ts5.SyntaxKind.AmpersandAmpersandToken || inner.operatorToken.kind === ts5.SyntaxKind.BarBarToken)) {
      const d2 = this.vreg();
      const t = this.newBlock();
      const f = this.newBlock();
      const j = this.newBlock();
      this.branch(inner, negate ? f : t, negate ? t : f);
      this.place(t);
      this.emit(3 /* LI */, { rd: d2, imm: 1 });
      this.jump(j);
      this.place(f);
      this.emit(3 /* LI */, { rd: d2, imm: 0 });
      this.place(j);
      return { k: "reg", r: d2 };
    } else {
      const v = this.toReg(this.expr(inner));
      this.emit(65 /* CMPI */, { ra: v, imm: 0 });
      cond = 1 /* NE */;
    }
    if (negate) cond = invertCond(cond);
    const d = want ?? this.vreg();
    this.emit(67 /* SETCC */, { rd: d, cond });
    return { k: "reg", r: d };
  }
  isBooleanTyped(e) {
    const t = this.env.names.checker.getTypeAtLocation(e);
    const isBool = (x) => (x.flags & (ts5.TypeFlags.Boolean | ts5.TypeFlags.BooleanLiteral)) !== 0;
    return isBool(t) || t.isUnion() && t.types.every(isBool);
  }
  binary(e, want) {
    const op = e.operatorToken.kind;
    if (op === ts5.SyntaxKind.EqualsToken) {
      const id = this.targetOf(e.left);
      const r = this.localReg(id);
      return this.writeVariable(id, this.expr(e.right, r ?? void 0));
    }
    const compound = COMPOUND.get(op);
    if (compound !== void 0) {
      const id = this.targetOf(e.left);
      const r = this.localReg(id);
      if (r !== null) {
        const cur2 = this.stable({ k: "reg", r }, [e.right]);
        return this.writeVariable(id, this.binop(BIN_OPS.get(compound), cur2, this.expr(e.right), r));
      }
      const addr = this.globalAddress(id);
      const cur = this.vreg();
      this.emit(48 /* LDW */, { rd: cur, ra: addr, imm: 0 });
      const v = this.toReg(this.binop(BIN_OPS.get(compound), { k: "reg", r: cur }, this.expr(e.right)));
      this.emit(56 /* STW */, { rd: v, ra: addr, imm: 0 });
      return { k: "reg", r: v };
    }
    if (op === ts5.SyntaxKind.AmpersandAmpersandEqualsToken || op === ts5.SyntaxKind.BarBarEqualsToken) {
      const id = this.targetOf(e.left);
      const cur = this.toReg(this.expr(e.left));
      const d = this.vreg();
      this.emit(2 /* MOV */, { rd: d, ra: cur });
      const assign = this.newBlock();
      const done = this.newBlock();
      this.emit(65 /* CMPI */, { ra: d, imm: 0 });
      this.condJump(op === ts5.SyntaxKind.AmpersandAmpersandEqualsToken ? 1 /* NE */ : 0 /* EQ */, assign, done);
      this.place(assign);
      this.moveTo(d, this.expr(e.right, d));
      this.writeVariable(id, { k: "reg", r: d });
      this.place(done);
      return { k: "reg", r: d };
    }
    if (op === ts5.SyntaxKind.CommaToken) {
      this.effect(e.left);
      return this.expr(e.right, want);
    }
    if (op === ts5.SyntaxKind.AmpersandAmpersandToken || op === ts5.SyntaxKind.BarBarToken) {
      if (this.isBooleanTyped(e.left) && this.isBooleanTyped(e.right)) return this.boolValue(e, want);
      const d = this.vreg();
      this.moveTo(d, this.expr(e.left, d));
      const rhs = this.newBlock();
      const done = this.newBlock();
      this.emit(65 /* CMPI */, { ra: d, imm: 0 });
      this.condJump(op === ts5.SyntaxKind.AmpersandAmpersandToken ? 1 /* NE */ : 0 /* EQ */, rhs, done);
      this.place(rhs);
      this.moveTo(d, this.expr(e.right, d));
      this.place(done);
      return { k: "reg", r: d };
    }
    if (COMPARE.has(op)) return this.boolValue(e, want);
    const mop = BIN_OPS.get(op);
    if (mop === void 0) throw new Error(`internal compiler error: operator ${ts5.SyntaxKind[op]} passed the subset check`);
    const [a, b] = this.exprs([e.left, e.right]);
    return this.binop(mop, a, b, want);
  }
  /** a OP b with constant folding, algebraic identities and immediate forms. */
  binop(op, a, b, want) {
    const out = () => want ?? this.vreg();
    const imm = (iop, x, v2) => {
      const d = out();
      this.emit(iop, { rd: d, ra: this.toReg(x), imm: v2 });
      return { k: "reg", r: d };
    };
    const reg = (rop, x, y) => {
      const ra = this.toReg(x);
      const rb = this.toReg(y);
      const d = out();
      this.emit(rop, { rd: d, ra, rb });
      return { k: "reg", r: d };
    };
    const commutative = op === 16 /* ADD */ || op === 18 /* MUL */ || op === 24 /* AND */ || op === 25 /* OR */ || op === 26 /* XOR */;
    if (commutative && a.k === "int" && b.k !== "int") [a, b] = [b, a];
    if (b.k !== "int") return reg(op, a, b);
    const v = b.v;
    switch (op) {
      case 16 /* ADD */:
        if (v === 0) return a;
        return fitsImm16(v) ? imm(32 /* ADDI */, a, v) : reg(op, a, b);
      case 17 /* SUB */:
        if (v === 0) return a;
        return fitsImm16(-v) ? imm(32 /* ADDI */, a, -v) : reg(op, a, b);
      case 18 /* MUL */:
        if (v === 1) return a;
        if (v === 0) return { k: "int", v: 0 };
        if (v === -1) return this.unary(31 /* NEG */, a, out());
        if (log2(v) > 0) return imm(37 /* SHLI */, a, log2(v));
        return fitsImm16(v) ? imm(33 /* MULI */, a, v) : reg(op, a, b);
      case 20 /* DIV */:
        if (v === 1) return a;
        return reg(op, a, b);
      case 24 /* AND */:
        if (v === -1) return a;
        if (v === 0) return { k: "int", v: 0 };
        return fitsImm16(v) ? imm(34 /* ANDI */, a, v) : reg(op, a, b);
      case 25 /* OR */:
        if (v === 0) return a;
        return fitsImm16(v) ? imm(35 /* ORI */, a, v) : reg(op, a, b);
      case 26 /* XOR */:
        if (v === 0) return a;
        if (v === -1) return this.unary(30 /* NOT */, a, out());
        return fitsImm16(v) ? imm(36 /* XORI */, a, v) : reg(op, a, b);
      case 27 /* SHL */:
      case 28 /* SHR */:
      case 29 /* SAR */: {
        const n = v & 31;
        if (n === 0) return a;
        return imm(op === 27 /* SHL */ ? 37 /* SHLI */ : op === 28 /* SHR */ ? 38 /* SHRI */ : 39 /* SARI */, a, n);
      }
      default:
        return reg(op, a, b);
    }
  }
  unary(op, a, d) {
    this.emit(op, { rd: d, ra: this.toReg(a) });
    return { k: "reg", r: d };
  }
  // ---- calls ----------------------------------------------------------------------------
  /** Move argument values into r0.. (after all are evaluated, so no call clobbers them). */
  passArgs(vals, firstReg = 0) {
    vals.forEach((v, k) => this.moveTo(ARG_REGS[firstReg + k], v));
    return ARG_REGS.slice(0, firstReg + vals.length);
  }
  result(want) {
    const d = want ?? this.vreg();
    this.emit(2 /* MOV */, { rd: d, ra: 0 });
    return { k: "reg", r: d };
  }
  call(call, want) {
    const names = this.env.names;
    if (names.isMathImul(call.expression)) {
      const [a, b] = this.exprs(call.arguments);
      return this.binop(18 /* MUL */, a, b, want);
    }
    const callee = call.expression;
    const ent = names.entityOf(callee);
    if (ent.kind === "intrinsic") {
      if (!isIntrinsicName(ent.name)) throw new Error(`internal compiler error: intrinsic ${ent.name} passed the subset check`);
      return lowerIntrinsic(this, ent.name, call, want);
    }
    if (ent.kind !== "function") throw new Error(`internal compiler error: call of ${ent.kind}`);
    const vals = this.exprs(call.arguments);
    const onStack = vals.slice(ARG_REGS.length);
    for (let k = onStack.length - 1; k >= 0; k--) this.emit(60 /* PUSH */, { ra: this.toReg(onStack[k]) });
    const uses = this.passArgs(vals.slice(0, ARG_REGS.length));
    this.emit(74 /* CALL */, { sym: ent.sym, implicitUses: uses, implicitDefs: [...CALLER_SAVED] });
    if (onStack.length > 0) this.emit(32 /* ADDI */, { rd: REG_SP, ra: REG_SP, imm: 4 * onStack.length });
    return this.result(want);
  }
  /** An address operand for a load or store: base register plus a 16-bit displacement. */
  address(e) {
    while (ts5.isParenthesizedExpression(e)) e = e.expression;
    if (ts5.isBinaryExpression(e) && (e.operatorToken.kind === ts5.SyntaxKind.PlusToken || e.operatorToken.kind === ts5.SyntaxKind.MinusToken)) {
      const sign = e.operatorToken.kind === ts5.SyntaxKind.PlusToken ? 1 : -1;
      const r = this.env.ce.int(e.right);
      if (r !== null && this.env.ce.eval(e.left)?.kind !== "addr") {
        const inner = this.address(e.left);
        const off = inner.off + sign * r;
        if (fitsImm16(off)) return { base: inner.base, off };
        return { base: this.toReg(this.binop(16 /* ADD */, { k: "reg", r: inner.base }, { k: "int", v: off | 0 })), off: 0 };
      }
      const l = sign === 1 ? this.env.ce.int(e.left) : null;
      if (l !== null && fitsImm16(l)) {
        const inner = this.address(e.right);
        if (fitsImm16(inner.off + l)) return { base: inner.base, off: inner.off + l };
      }
    }
    return { base: this.toReg(this.expr(e)), off: 0 };
  }
};
function hoistConstants(blocks, loops) {
  const defCount = /* @__PURE__ */ new Map();
  for (const b of blocks) for (const i2 of b.insts) for (const d of defsOf(i2)) defCount.set(d, (defCount.get(d) ?? 0) + 1);
  for (const loop of loops) {
    const hoisted = [];
    for (const b of loop.blocks) {
      b.insts = b.insts.filter((i2) => {
        if (i2.op !== 3 /* LI */ || !isVirtual(i2.rd) || defCount.get(i2.rd) !== 1) return true;
        hoisted.push(i2);
        return false;
      });
    }
    if (hoisted.length === 0) continue;
    const pre = loop.preheader.insts;
    let at = pre.length;
    while (at > 0 && (pre[at - 1].op === 72 /* JMP */ || pre[at - 1].op === 73 /* JCC */)) at--;
    if (at > 0 && (pre[at - 1].op === 64 /* CMP */ || pre[at - 1].op === 65 /* CMPI */)) at--;
    pre.splice(at, 0, ...hoisted);
  }
}
function cleanupBlocks(blocks, tables) {
  const byId = new Map(blocks.map((b) => [b.id, b]));
  const forward = (id) => {
    const seen = /* @__PURE__ */ new Set();
    let cur = id;
    for (; ; ) {
      const b = byId.get(cur);
      if (!b || b.insts.length !== 1 || b.insts[0].op !== 72 /* JMP */ || seen.has(cur)) return cur;
      seen.add(cur);
      cur = b.insts[0].targets[0];
    }
  };
  for (const b of blocks) {
    for (const i2 of b.insts) {
      if (i2.op === 72 /* JMP */ || i2.op === 73 /* JCC */ || i2.op === 75 /* JMPR */) i2.targets = [...new Set(i2.targets.map(forward))];
    }
  }
  for (const t of tables) t.targets = t.targets.map(forward);
  for (const b of blocks) {
    const k = b.insts.findIndex((i2) => isTerminator(i2));
    if (k >= 0) b.insts.length = k + 1;
  }
  const live = /* @__PURE__ */ new Set();
  const stack = [blocks[0].id];
  while (stack.length) {
    const id = stack.pop();
    if (live.has(id)) continue;
    live.add(id);
    stack.push(...successors(byId.get(id)));
  }
  return blocks.filter((b) => live.has(b.id));
}

// toolchain/compiler/regalloc.ts
var K = ALLOCATABLE.length;
var MAX_ROUNDS = 64;
function liveness(f) {
  const gen = /* @__PURE__ */ new Map();
  const kill = /* @__PURE__ */ new Map();
  for (const b of f.blocks) {
    const g = /* @__PURE__ */ new Set();
    const k = /* @__PURE__ */ new Set();
    for (const i2 of b.insts) {
      for (const u of usesOf(i2)) if (tracked(u) && !k.has(u)) g.add(u);
      for (const d of defsOf(i2)) if (tracked(d)) k.add(d);
    }
    gen.set(b.id, g);
    kill.set(b.id, k);
  }
  const liveIn = new Map(f.blocks.map((b) => [b.id, /* @__PURE__ */ new Set()]));
  const liveOut = new Map(f.blocks.map((b) => [b.id, /* @__PURE__ */ new Set()]));
  const succ = new Map(f.blocks.map((b) => [b.id, successors(b)]));
  for (let changed = true; changed; ) {
    changed = false;
    for (let k = f.blocks.length - 1; k >= 0; k--) {
      const b = f.blocks[k];
      const out = liveOut.get(b.id);
      for (const s of succ.get(b.id)) for (const r of liveIn.get(s) ?? []) out.add(r);
      const inn = new Set(gen.get(b.id));
      const kl = kill.get(b.id);
      for (const r of out) if (!kl.has(r)) inn.add(r);
      if (inn.size !== liveIn.get(b.id).size) {
        liveIn.set(b.id, inn);
        changed = true;
      }
    }
  }
  return liveOut;
}
function deadCode(f) {
  const liveOut = liveness(f);
  let removed = false;
  for (const b of f.blocks) {
    const live = new Set(liveOut.get(b.id));
    const kept = [];
    for (let k = b.insts.length - 1; k >= 0; k--) {
      const i2 = b.insts[k];
      const defs = defsOf(i2);
      const dead = !hasSideEffects(i2) && defs.length > 0 && defs.every((d) => tracked(d) && !live.has(d));
      const selfMove = i2.op === 2 /* MOV */ && i2.rd === i2.ra;
      if (dead || selfMove) {
        removed = true;
        continue;
      }
      for (const d of defs) live.delete(d);
      for (const u of usesOf(i2)) if (tracked(u)) live.add(u);
      kept.push(i2);
    }
    b.insts = kept.reverse();
  }
  return removed;
}
var Graph = class {
  /** adjacency, symmetric, over tracked registers */
  adj = /* @__PURE__ */ new Map();
  node(r) {
    let s = this.adj.get(r);
    if (!s) this.adj.set(r, s = /* @__PURE__ */ new Set());
    return s;
  }
  edge(a, b) {
    if (a === b) return;
    this.node(a).add(b);
    this.node(b).add(a);
  }
  interferes(a, b) {
    return this.adj.get(a)?.has(b) ?? false;
  }
  degree(r) {
    return isVirtual(r) ? this.adj.get(r)?.size ?? 0 : Infinity;
  }
  /** Merge b into a: a inherits b's edges and b disappears. */
  merge(a, b) {
    const nb = this.adj.get(b) ?? /* @__PURE__ */ new Set();
    for (const n of nb) {
      this.adj.get(n).delete(b);
      this.edge(a, n);
    }
    this.adj.delete(b);
    this.node(a);
  }
};
function buildGraph(f, liveOut) {
  const g = new Graph();
  const moves = [];
  const cost = /* @__PURE__ */ new Map();
  for (const b of f.blocks) {
    const weight = 8 ** Math.min(b.loopDepth, 6);
    const live = new Set(liveOut.get(b.id));
    for (let k = b.insts.length - 1; k >= 0; k--) {
      const i2 = b.insts[k];
      const defs = defsOf(i2).filter(tracked);
      const uses = usesOf(i2).filter(tracked);
      const isMove = i2.op === 2 /* MOV */ && tracked(i2.rd) && tracked(i2.ra);
      if (isMove) {
        live.delete(i2.ra);
        moves.push(i2);
      }
      for (const d of defs) {
        g.node(d);
        for (const l of live) g.edge(d, l);
        for (const d2 of defs) g.edge(d, d2);
      }
      for (const d of defs) live.delete(d);
      for (const u of uses) {
        g.node(u);
        live.add(u);
      }
      for (const r of [...defs, ...uses]) if (isVirtual(r)) cost.set(r, (cost.get(r) ?? 0) + weight);
    }
  }
  for (const r of f.noSpill) cost.set(r, Infinity);
  return { g, moves, cost };
}
function coalesce(g, moves, alias, cost, noSpill) {
  const find3 = (r) => {
    let x = r;
    while (alias.has(x)) x = alias.get(x);
    return x;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const m of moves) {
      let a = find3(m.rd);
      let b = find3(m.ra);
      if (a === b) continue;
      if (!isVirtual(a) && !isVirtual(b)) continue;
      if (noSpill.has(a) || noSpill.has(b)) continue;
      if (g.interferes(a, b)) continue;
      if (!isVirtual(b)) [a, b] = [b, a];
      let ok;
      if (!isVirtual(a)) {
        if (!ALLOCATABLE.includes(a)) continue;
        ok = [...g.adj.get(b) ?? []].every((t) => !isVirtual(t) || g.interferes(t, a) || g.degree(t) < K);
      } else {
        const nbrs = /* @__PURE__ */ new Set([...g.adj.get(a) ?? [], ...g.adj.get(b) ?? []]);
        let significant = 0;
        for (const n of nbrs) if (g.degree(n) >= K) significant++;
        ok = significant < K;
      }
      if (!ok) continue;
      g.merge(a, b);
      alias.set(b, a);
      if (isVirtual(a)) cost.set(a, (cost.get(a) ?? 0) + (cost.get(b) ?? 0));
      changed = true;
    }
  }
}
function color(g, cost, moves, find3) {
  const vregs = [...g.adj.keys()].filter(isVirtual).sort((a, b) => a - b);
  const degree = new Map(vregs.map((r) => [r, g.adj.get(r).size]));
  const removed = /* @__PURE__ */ new Set();
  const stack = [];
  while (stack.length < vregs.length) {
    let pick = vregs.find((r) => !removed.has(r) && degree.get(r) < K);
    if (pick === void 0) {
      let best = Infinity;
      for (const r of vregs) {
        if (removed.has(r)) continue;
        const score = (cost.get(r) ?? 0) / Math.max(1, degree.get(r));
        if (pick === void 0 || score < best) {
          best = score;
          pick = r;
        }
      }
    }
    removed.add(pick);
    stack.push(pick);
    for (const n of g.adj.get(pick)) if (degree.has(n)) degree.set(n, degree.get(n) - 1);
  }
  const partners = /* @__PURE__ */ new Map();
  for (const m of moves) {
    const a = find3(m.rd);
    const b = find3(m.ra);
    if (a === b) continue;
    partners.set(a, [...partners.get(a) ?? [], b]);
    partners.set(b, [...partners.get(b) ?? [], a]);
  }
  const colors = /* @__PURE__ */ new Map();
  const colorOf = (r) => isVirtual(r) ? colors.get(r) : r;
  const spills = [];
  while (stack.length) {
    const r = stack.pop();
    const forbidden = /* @__PURE__ */ new Set();
    for (const n of g.adj.get(r)) {
      const c = colorOf(n);
      if (c !== void 0) forbidden.add(c);
    }
    let chosen;
    for (const p of partners.get(r) ?? []) {
      const c = colorOf(p);
      if (c !== void 0 && ALLOCATABLE.includes(c) && !forbidden.has(c)) {
        chosen = c;
        break;
      }
    }
    chosen ??= ALLOCATABLE.find((c) => !forbidden.has(c));
    if (chosen === void 0) spills.push(r);
    else colors.set(r, chosen);
  }
  return { colors, spills };
}
function rewriteSpills(f, spills) {
  const spilled = new Set(spills);
  const remat = /* @__PURE__ */ new Map();
  const defsBy = /* @__PURE__ */ new Map();
  for (const b of f.blocks) for (const i2 of b.insts) for (const d of defsOf(i2)) if (spilled.has(d)) defsBy.set(d, [...defsBy.get(d) ?? [], i2]);
  for (const r of spills) {
    const ds = defsBy.get(r) ?? [];
    if (ds.length > 0 && ds.every((i2) => i2.op === 3 /* LI */ && i2.imm === ds[0].imm && i2.sym === ds[0].sym)) remat.set(r, ds[0]);
  }
  const slot = /* @__PURE__ */ new Map();
  for (const r of spills) if (!remat.has(r)) slot.set(r, f.slots++);
  for (const b of f.blocks) {
    const out = [];
    for (const i2 of b.insts) {
      if (i2.op === 3 /* LI */ && defsOf(i2).some((d) => remat.has(d))) continue;
      const temp = /* @__PURE__ */ new Map();
      const tempFor = (r) => {
        let t = temp.get(r);
        if (t === void 0) {
          t = f.nextVreg++;
          f.noSpill.add(t);
          temp.set(r, t);
        }
        return t;
      };
      const usesSpilled = usesOf(i2).filter((u) => spilled.has(u));
      for (const u of new Set(usesSpilled)) {
        const t = tempFor(u);
        const m = remat.get(u);
        if (m) out.push(inst(3 /* LI */, { rd: t, imm: m.imm, sym: m.sym, line: i2.line }));
        else out.push(inst(48 /* LDW */, { rd: t, ra: REG_FP, slot: slot.get(u), line: i2.line }));
      }
      const defsSpilled = defsOf(i2).filter((d) => spilled.has(d));
      mapRegs(i2, (r) => spilled.has(r) ? tempFor(r) : r, (r) => spilled.has(r) ? tempFor(r) : r);
      out.push(i2);
      for (const d of new Set(defsSpilled)) {
        if (remat.has(d)) continue;
        out.push(inst(56 /* STW */, { rd: temp.get(d), ra: REG_FP, slot: slot.get(d), line: i2.line }));
      }
    }
    b.insts = out;
  }
}
function allocateRegisters(f) {
  while (deadCode(f)) ;
  for (let round = 0; ; round++) {
    if (round > MAX_ROUNDS) throw new Error(`internal compiler error: register allocation of ${f.name} does not converge`);
    const liveOut = liveness(f);
    const { g, moves, cost } = buildGraph(f, liveOut);
    const alias = /* @__PURE__ */ new Map();
    coalesce(g, moves, alias, cost, f.noSpill);
    const find3 = (r) => {
      let x = r;
      while (alias.has(x)) x = alias.get(x);
      return x;
    };
    const { colors, spills } = color(g, cost, moves, find3);
    if (spills.length === 0) {
      const final = (r) => {
        const x = find3(r);
        return isVirtual(x) ? colors.get(x) : x;
      };
      for (const b of f.blocks) {
        for (const i2 of b.insts) mapRegs(i2, final, final);
        b.insts = b.insts.filter((i2) => !(i2.op === 2 /* MOV */ && i2.rd === i2.ra));
      }
      return { calleeSaved: calleeSavedUsed(f.blocks) };
    }
    for (const b of f.blocks) {
      for (const i2 of b.insts) mapRegs(i2, find3, find3);
      b.insts = b.insts.filter((i2) => !(i2.op === 2 /* MOV */ && i2.rd === i2.ra));
    }
    rewriteSpills(f, spills.map(find3));
  }
}
function calleeSavedUsed(blocks) {
  const used = /* @__PURE__ */ new Set();
  for (const b of blocks) for (const i2 of b.insts) for (const d of defsOf(i2)) if (CALLEE_SAVED.includes(d)) used.add(d);
  return [...used].sort((a, b) => a - b);
}

// toolchain/compiler/peephole.ts
function peephole(f) {
  for (const b of f.blocks) {
    const same = /* @__PURE__ */ new Set();
    const key = (a, b2) => a < b2 ? `${a},${b2}` : `${b2},${a}`;
    const forget = (r) => {
      for (const k of [...same]) {
        const [a, c] = k.split(",").map(Number);
        if (a === r || c === r) same.delete(k);
      }
    };
    b.insts = b.insts.filter((i2) => {
      if (i2.op === 2 /* MOV */) {
        if (i2.rd === i2.ra || same.has(key(i2.rd, i2.ra))) return false;
        forget(i2.rd);
        same.add(key(i2.rd, i2.ra));
        return true;
      }
      for (const d of defsOf(i2)) forget(d);
      return true;
    });
  }
}

// toolchain/compiler/emit.ts
var regName = (r) => r === REG_SP ? "sp" : r === REG_FP ? "fp" : `r${r}`;
function num(v) {
  return v > -4096 && v < 4096 ? `${v}` : v < 0 ? `${v}` : `0x${(v >>> 0).toString(16)}`;
}
function symExpr(sym, off) {
  return off === 0 ? sym : off > 0 ? `${sym} + ${off}` : `${sym} - ${-off}`;
}
function memOperand(base, off) {
  return off === 0 ? `[${regName(base)}]` : off > 0 ? `[${regName(base)} + ${off}]` : `[${regName(base)} - ${-off}]`;
}
function formatInst(i2, label, slotOffset) {
  const info = OPS[i2.op];
  const mn = info.mnemonic;
  const off = i2.slot >= 0 ? slotOffset(i2.slot) + i2.imm : i2.imm;
  switch (info.fmt) {
    case 0 /* None */:
      return mn;
    case 1 /* D */:
      return `${mn} ${regName(i2.rd)}`;
    case 2 /* A */:
      return `${mn} ${regName(i2.ra)}`;
    case 3 /* DA */:
      return `${mn} ${regName(i2.rd)}, ${regName(i2.ra)}`;
    case 4 /* DAB */:
      return `${mn} ${regName(i2.rd)}, ${regName(i2.ra)}, ${regName(i2.rb)}`;
    case 5 /* DAI */:
      return `${mn} ${regName(i2.rd)}, ${regName(i2.ra)}, ${i2.imm}`;
    case 6 /* Load */:
      return `${mn} ${regName(i2.rd)}, ${memOperand(i2.ra, off)}`;
    case 7 /* Store */:
      return `${mn} ${memOperand(i2.ra, off)}, ${regName(i2.rd)}`;
    case 8 /* DImm32 */:
      return `${mn} ${regName(i2.rd)}, ${i2.sym ? symExpr(i2.sym, i2.imm) : num(i2.imm)}`;
    case 9 /* Rel */:
      return `${mn} ${i2.sym ?? label(i2.targets[0])}`;
    case 10 /* CondRel */:
      return `j${COND_NAMES[i2.cond]} ${label(i2.targets[0])}`;
    case 11 /* AB */:
      return `${mn} ${regName(i2.ra)}, ${regName(i2.rb)}`;
    case 12 /* AI */:
      return `${mn} ${regName(i2.ra)}, ${i2.imm}`;
    case 13 /* DCond */:
      return `set${COND_NAMES[i2.cond]} ${regName(i2.rd)}`;
    case 14 /* Vec */:
      return `${mn} 0x${i2.imm.toString(16)}`;
    case 15 /* DPort */:
      return `${mn} ${regName(i2.rd)}, 0x${i2.imm.toString(16)}`;
    case 16 /* PortA */:
      return `${mn} 0x${i2.imm.toString(16)}, ${regName(i2.ra)}`;
    case 17 /* CrA */:
      return `${mn} cr${i2.imm}, ${regName(i2.ra)}`;
    case 18 /* DCr */:
      return `${mn} ${regName(i2.rd)}, cr${i2.imm}`;
    case 19 /* AImm */:
      return `${mn} ${regName(i2.ra)}, ${i2.imm}`;
    case 20 /* RingA */:
      return `${mn} ${i2.imm}, ${regName(i2.ra)}`;
    case 21 /* DD */:
      return `${mn} ${regName(i2.rd)}, ${regName(i2.ra)}`;
    default:
      return assertNever2(info.fmt, "operand format");
  }
}
function asciz(text) {
  let out = "";
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k) & 255;
    if (c === 34) out += '\\"';
    else if (c === 92) out += "\\\\";
    else if (c === 10) out += "\\n";
    else if (c === 9) out += "\\t";
    else if (c >= 32 && c < 127) out += String.fromCharCode(c);
    else out += `\\x${c.toString(16).padStart(2, "0")}`;
  }
  return `"${out}"`;
}
function constExpr(c) {
  return c.kind === "int" ? num(c.value) : symExpr(c.sym, c.offset);
}
var Writer = class {
  lines = [];
  pc = 0;
  symbols = /* @__PURE__ */ new Map();
  lineMap = [];
  lastFile = -1;
  lastLine = -1;
  raw(text) {
    this.lines.push(text);
  }
  org(addr, comment) {
    this.lines.push("", `.org ${num(addr)}    ; ${comment}`);
    this.pc = addr;
  }
  label(name) {
    this.lines.push(`${name}:`);
    if (!name.startsWith(".L")) this.symbols.set(name, this.pc);
  }
  op(text, bytes, file = -1, line = 0) {
    if (line > 0 && (file !== this.lastFile || line !== this.lastLine)) {
      this.lineMap.push(this.pc, file, line);
      this.lastFile = file;
      this.lastLine = line;
    }
    this.lines.push(`    ${text}`);
    this.pc += bytes;
  }
  /** An instruction given by opcode (for sizes) and text. */
  insn(op, text) {
    this.op(text, OPS[op].bytes);
  }
  data(text, bytes) {
    this.lines.push(`    ${text}`);
    this.pc += bytes;
  }
  align(n) {
    if (this.pc % n === 0) return;
    this.lines.push(`    .align ${n}`);
    this.pc = alignUp(this.pc, n);
  }
  /** Break source-line attribution (code without a source line follows). */
  noLine() {
    this.lastFile = -1;
    this.lastLine = -1;
  }
};
function emitProgram(input) {
  const w = new Writer();
  for (const b of input.banner) w.raw(`; ${b}`);
  w.raw(`.arch ${input.user ? "user" : input.arch}`);
  w.raw(".entry _start");
  const textBase = input.base;
  w.org(textBase, "text");
  emitStart(w, input);
  input.functions.forEach(({ f, alloc }, k) => emitFunction(w, f, alloc, k));
  for (const [handler, stub] of input.statics.trapStubs) emitTrapStub(w, handler, stub);
  if (input.statics.needContextSwitch) emitContextSwitch(w);
  const sections = [{ name: "text", vaddr: textBase, bytes: w.pc - textBase }];
  let next = alignUp(w.pc, SECTION_ALIGN);
  const tables = input.functions.flatMap(({ f }, k) => f.jumpTables.map((t) => ({ t, k })));
  if (input.statics.strings.size > 0 || tables.length > 0) {
    w.org(next, "rodata");
    const start = w.pc;
    for (const { t, k } of tables) {
      w.align(4);
      w.label(t.label);
      for (const target of t.targets) w.data(`.word ${blockLabel(k, target)}`, 4);
    }
    for (const [text, label] of input.statics.strings) {
      w.label(label);
      w.data(`.asciz ${asciz(text)}`, text.length + 1);
    }
    sections.push({ name: "rodata", vaddr: start, bytes: w.pc - start });
    next = alignUp(w.pc, SECTION_ALIGN);
  }
  const isZero = (c) => c.kind === "int" && c.value === 0;
  const initialized = input.statics.words.filter((x) => !isZero(x.init));
  if (initialized.length > 0) {
    w.org(next, "data");
    const start = w.pc;
    for (const x of initialized) {
      w.label(x.sym);
      w.raw(`.object ${x.sym}, 4`);
      w.data(`.word ${constExpr(x.init)}`, 4);
    }
    sections.push({ name: "data", vaddr: start, bytes: w.pc - start });
    next = alignUp(w.pc, SECTION_ALIGN);
  }
  if (input.user) {
    w.label("__stack_guard");
    w.org(next + SECTION_ALIGN, "stack");
    w.label("__stack");
    w.raw(`.object __stack, ${input.stackBytes}`);
    w.data(`.space ${input.stackBytes}`, input.stackBytes);
    w.label("__stack_top");
    sections.push({ name: "stack", vaddr: next + SECTION_ALIGN, bytes: input.stackBytes });
    next = alignUp(w.pc, SECTION_ALIGN);
  }
  w.org(next, "bss");
  const bssStart = w.pc;
  for (const x of input.statics.words.filter((y) => isZero(y.init))) {
    w.label(x.sym);
    w.raw(`.object ${x.sym}, 4`);
    w.data(".space 4", 4);
  }
  for (const b of input.statics.buffers.values()) {
    w.align(b.align);
    w.label(b.sym);
    w.raw(`.object ${b.sym}, ${b.bytes}`);
    w.data(`.space ${b.bytes}`, b.bytes);
  }
  if (!input.user) {
    w.align(16);
    w.label("__stack");
    w.raw(`.object __stack, ${input.stackBytes}`);
    w.data(`.space ${input.stackBytes}`, input.stackBytes);
    w.label("__stack_top");
  }
  if (w.pc > bssStart) sections.push({ name: "bss", vaddr: bssStart, bytes: w.pc - bssStart });
  return { asm: w.lines.join("\n") + "\n", lineMap: w.lineMap, symbols: w.symbols, sections };
}
function blockLabel(fnIndex, block) {
  return `.L${fnIndex}.${block}`;
}
function emitStart(w, input) {
  w.raw(".func _start");
  w.label("_start");
  w.insn(3 /* LI */, "li sp, __stack_top");
  w.insn(74 /* CALL */, `call ${input.mainSym}`);
  if (input.user) {
    w.insn(input.mainReturnsValue ? 2 /* MOV */ : 3 /* LI */, input.mainReturnsValue ? "mov r1, r0" : "li r1, 0");
    w.insn(3 /* LI */, `li r0, ${SYS_EXIT}`);
    w.insn(80 /* INT */, `int 0x${SYSCALL_VECTOR2.toString(16)}`);
    w.label(".Lexit");
    w.insn(72 /* JMP */, "jmp .Lexit");
  } else if (input.arch === "native") {
    if (!input.mainReturnsValue) w.insn(3 /* LI */, "li r0, 0");
    w.insn(101 /* OUT */, `out 0x${POWEROFF_PORT.toString(16)}, r0`);
    w.label(".Lhalt");
    w.insn(97 /* CLI */, "cli");
    w.insn(96 /* HLT */, "hlt");
    w.insn(72 /* JMP */, "jmp .Lhalt");
  } else {
    w.label(".Lhalt");
    w.insn(96 /* HLT */, "hlt");
    w.insn(72 /* JMP */, "jmp .Lhalt");
  }
  w.raw(".endfunc");
}
function emitFunction(w, f, alloc, fnIndex) {
  const hasCall = f.blocks.some((b) => b.insts.some((i2) => i2.op === 74 /* CALL */ || i2.op === 76 /* CALLR */));
  const frame = hasCall || f.slots > 0 || f.needsFrame;
  const saved = alloc.calleeSaved;
  const slotOffset = (slot) => -4 * saved.length - 4 * (slot + 1);
  const label = (block) => blockLabel(fnIndex, block);
  const byId = new Map(f.blocks.map((b) => [b.id, b]));
  const finalTarget = (id) => {
    for (let hops = 0; hops < 8; hops++) {
      const b = byId.get(id);
      if (!b || b.insts.length !== 1 || b.insts[0].op !== 72 /* JMP */) return id;
      id = b.insts[0].targets[0];
    }
    return id;
  };
  const isRetBlock = (id) => {
    const b = byId.get(finalTarget(id));
    return !!b && b.insts.length === 1 && b.insts[0].op === 77 /* RET */;
  };
  const TAIL_COPY = 2;
  const tailCopy = (id) => {
    const b = byId.get(finalTarget(id));
    if (!b || b.insts.length > TAIL_COPY + 1) return null;
    const body = b.insts.slice(0, -1);
    const last = b.insts[b.insts.length - 1];
    if (body.some((i2) => i2.op === 73 /* JCC */ || i2.op === 72 /* JMP */ || i2.op === 75 /* JMPR */ || i2.op === 77 /* RET */)) return null;
    if (last.op === 77 /* RET */) return body;
    if (last.op === 72 /* JMP */ && isRetBlock(last.targets[0])) return body;
    return null;
  };
  const jumpTo = (t, jmp, items) => {
    const copy = tailCopy(t);
    if (isRetBlock(t)) items.push({ kind: "return", line: jmp.line });
    else if (copy) {
      for (const c of copy) items.push({ kind: "inst", i: c });
      items.push({ kind: "return", line: jmp.line });
    } else items.push({ kind: "inst", i: { ...jmp, targets: [t] } });
  };
  const plans = f.blocks.map((b, k) => {
    const next = f.blocks[k + 1]?.id;
    const items = [];
    const n = b.insts.length;
    for (let j = 0; j < n; j++) {
      const i2 = b.insts[j];
      if (i2.op === 77 /* RET */) {
        items.push({ kind: "return", line: i2.line });
      } else if (i2.op === 73 /* JCC */ && j + 1 < n && b.insts[j + 1].op === 72 /* JMP */) {
        const t = finalTarget(i2.targets[0]);
        const fl = finalTarget(b.insts[j + 1].targets[0]);
        j++;
        if (fl === next) items.push({ kind: "inst", i: { ...i2, targets: [t] } });
        else if (t === next) items.push({ kind: "inst", i: { ...i2, cond: invertCond(i2.cond), targets: [fl] } });
        else {
          items.push({ kind: "inst", i: { ...i2, targets: [t] } });
          jumpTo(fl, b.insts[j], items);
        }
      } else if (i2.op === 72 /* JMP */) {
        const t = finalTarget(i2.targets[0]);
        if (t === next) continue;
        jumpTo(t, i2, items);
      } else {
        items.push({ kind: "inst", i: i2 });
      }
    }
    return items;
  });
  const referenced = /* @__PURE__ */ new Set();
  for (const items of plans) for (const it of items) if (it.kind === "inst" && (it.i.op === 72 /* JMP */ || it.i.op === 73 /* JCC */ || it.i.op === 75 /* JMPR */)) for (const t of it.i.targets) referenced.add(t);
  for (const t of f.jumpTables) for (const id of t.targets) referenced.add(id);
  const endsFlow = (items) => {
    const last = items[items.length - 1];
    return !!last && (last.kind === "return" || last.i.op === 72 /* JMP */ || last.i.op === 75 /* JMPR */ || last.i.op === 110 /* IRET */);
  };
  const declLine = f.blocks[0]?.insts[0]?.line ?? 0;
  w.raw("");
  w.raw(`.func ${f.name}`);
  w.label(f.name);
  const at = (op, text, line) => w.op(text, OPS[op].bytes, f.fileIndex, line);
  if (frame) {
    at(60 /* PUSH */, "push fp", declLine);
    at(2 /* MOV */, "mov fp, sp", declLine);
  }
  for (const r of saved) at(60 /* PUSH */, `push ${regName(r)}`, declLine);
  if (f.slots > 0) at(32 /* ADDI */, `addi sp, sp, ${-4 * f.slots}`, declLine);
  let fallsIn = true;
  f.blocks.forEach((b, k) => {
    const items = plans[k];
    if (!(k === 0 || referenced.has(b.id) || fallsIn)) return;
    if (referenced.has(b.id)) w.label(label(b.id));
    for (const it of items) {
      if (it.kind === "return") {
        if (f.slots > 0) at(32 /* ADDI */, `addi sp, sp, ${4 * f.slots}`, it.line);
        for (const r of [...saved].reverse()) at(61 /* POP */, `pop ${regName(r)}`, it.line);
        if (frame) at(61 /* POP */, "pop fp", it.line);
        at(77 /* RET */, "ret", it.line);
      } else {
        at(it.i.op, formatInst(it.i, label, slotOffset), it.i.line);
      }
    }
    fallsIn = !endsFlow(items);
  });
  w.raw(".endfunc");
  w.noLine();
}
function emitTrapStub(w, handler, stub) {
  w.raw("");
  w.raw(`.func ${stub}`);
  w.label(stub);
  for (let r = 14; r >= 0; r--) w.insn(60 /* PUSH */, `push ${regName(r)}`);
  w.insn(2 /* MOV */, "mov r0, sp");
  w.insn(74 /* CALL */, `call ${handler}`);
  for (let r = 0; r <= 14; r++) w.insn(61 /* POP */, `pop ${regName(r)}`);
  w.insn(32 /* ADDI */, "addi sp, sp, 8");
  w.insn(110 /* IRET */, "iret");
  w.raw(".endfunc");
}
function emitContextSwitch(w) {
  w.raw("");
  w.raw(`.func ${CONTEXT_SWITCH_SYM}`);
  w.label(CONTEXT_SWITCH_SYM);
  for (let r = 14; r >= 7; r--) w.insn(60 /* PUSH */, `push ${regName(r)}`);
  w.insn(56 /* STW */, "stw [r0], sp");
  w.insn(2 /* MOV */, "mov sp, r1");
  for (let r = 7; r <= 14; r++) w.insn(61 /* POP */, `pop ${regName(r)}`);
  w.insn(77 /* RET */, "ret");
  w.raw(".endfunc");
}

// toolchain/compiler/index.ts
var COMPILER_ID = "xenolith-compile 1";
function compile(entryFile, opts) {
  const diags = new DiagnosticBag();
  const user = opts.user ?? false;
  const loaded = loadProgram(entryFile, opts.typeCheck ?? true, diags);
  if (!loaded || loaded.broken) {
    diags.throwIfAny();
    throw new CompileError(diags.items);
  }
  const names = new Names(loaded);
  const statics = new Statics();
  const ce = new ConstEval(names, statics);
  checkSubset(loaded.modules, names, ce, { arch: opts.arch, user, typeCheck: opts.typeCheck ?? true }, diags);
  const entry = loaded.modules[0];
  const main = entry.sf.statements.find((s) => ts6.isFunctionDeclaration(s) && s.name?.text === "main" && !!s.body);
  if (!main) diags.add(diagAtFile(entry.file, `the entry module has no function main(); declare \`export function main(): ${user ? "number" : "void"}\``));
  else if (main.parameters.length > 0) diags.error(main.parameters[0], "main must take no parameters");
  diags.throwIfAny();
  for (const m of loaded.modules) {
    for (const st of m.sf.statements) {
      if (!ts6.isVariableStatement(st)) continue;
      const isConst = (st.declarationList.flags & ts6.NodeFlags.Const) !== 0;
      for (const d of st.declarationList.declarations) {
        if (!ts6.isIdentifier(d.name)) continue;
        const sym = `${m.prefix}.${d.name.text}`;
        if (isConst) ce.eval(d.name);
        else statics.words.push({ sym, init: d.initializer ? ce.eval(d.initializer) ?? intConst(0) : intConst(0) });
      }
    }
  }
  const files = loaded.modules.map((m) => sourceMapPath(m.file, entryFile));
  const functions = [];
  loaded.modules.forEach((m, fileIndex) => {
    for (const st of m.sf.statements) {
      if (!ts6.isFunctionDeclaration(st) || !st.body || !st.name) continue;
      try {
        const f = lowerFunction(st, `${m.prefix}.${st.name.text}`, fileIndex, { names, ce, statics });
        const alloc = allocateRegisters(f);
        peephole(f);
        functions.push({ f, alloc });
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        diags.error(st.name, msg.startsWith("internal compiler error") ? msg : `internal compiler error: ${msg}`);
      }
    }
  });
  diags.throwIfAny();
  const mainSig = loaded.checker.getSignatureFromDeclaration(main);
  const mainRet = mainSig ? loaded.checker.getReturnTypeOfSignature(mainSig) : void 0;
  const mainReturnsValue = !!mainRet && (mainRet.flags & (ts6.TypeFlags.Void | ts6.TypeFlags.Never | ts6.TypeFlags.Undefined)) === 0;
  const out = emitProgram({
    arch: opts.arch,
    user,
    base: opts.base ?? (user ? USER_BASE : KERNEL_BASE),
    stackBytes: opts.stackBytes ?? STACK_BYTES,
    mainSym: `${entry.prefix}.main`,
    mainReturnsValue,
    functions,
    statics,
    files,
    banner: [`generated by ${COMPILER_ID} from ${files[0]} (${user ? "user program" : `${opts.arch} kernel`})`]
  });
  const asmName = `${displayPath(entry.file).replace(/\.ts$/, "")}.s`;
  let image;
  try {
    image = assemble(out.asm, asmName, { arch: user ? "user" : opts.arch }).image;
  } catch (e) {
    if (e instanceof AsmError) {
      throw new CompileError(e.diagnostics.map((d) => ({ ...d, message: `internal compiler error: the assembler rejected generated code: ${d.message}` })));
    }
    throw e;
  }
  for (const s of image.symbols) {
    const want = out.symbols.get(s.name);
    if (want !== void 0 && want !== s.addr) {
      throw new Error(`internal compiler error: ${s.name} assembled at 0x${s.addr.toString(16)}, expected 0x${want.toString(16)}`);
    }
  }
  finishSegments(image, out.sections);
  image.notes = {
    ...image.notes,
    compiler: COMPILER_ID,
    sourceFiles: files,
    /** [pc, file index, line] triples, ascending pc */
    lineMap: out.lineMap,
    sections: out.sections
  };
  return { image, asm: out.asm, diagnostics: [], sections: out.sections };
}
function finishSegments(image, sections) {
  for (const seg of image.segments) {
    const sec = sections.find((s) => s.vaddr === seg.vaddr);
    if (!sec) continue;
    switch (sec.name) {
      case "text":
        seg.flags = 1 /* R */ | 4 /* X */;
        break;
      case "rodata":
        seg.flags = 1 /* R */;
        break;
      case "data":
        seg.flags = 1 /* R */ | 2 /* W */;
        break;
      case "bss":
      case "stack":
        seg.flags = 1 /* R */ | 2 /* W */;
        seg.memBytes = Math.max(seg.memBytes, sec.bytes);
        seg.data = new Uint8Array(0);
        break;
    }
  }
}

// toolchain/initrd.ts
var INITRD_MAGIC = 1146243416;
var INITRD_VERSION = 1;
var INITRD_HEADER_BYTES = 16;
var INITRD_ENTRY_BYTES = 32;
var INITRD_NAME_BYTES = 24;
var INITRD_DATA_ALIGN = 16;
var InitrdError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "InitrdError";
  }
};
var align = (n, a) => Math.ceil(n / a) * a;
function packInitrd(files) {
  const seen = /* @__PURE__ */ new Set();
  for (const f of files) {
    if (!/^[A-Za-z0-9_.-]+$/.test(f.name)) throw new InitrdError(`initrd: file name "${f.name}" must be letters, digits, '_', '.' or '-'`);
    if (f.name.length > INITRD_NAME_BYTES - 1) throw new InitrdError(`initrd: file name "${f.name}" is longer than ${INITRD_NAME_BYTES - 1} bytes`);
    if (seen.has(f.name)) throw new InitrdError(`initrd: two files are called "${f.name}"`);
    seen.add(f.name);
  }
  let off = align(INITRD_HEADER_BYTES + files.length * INITRD_ENTRY_BYTES, INITRD_DATA_ALIGN);
  const offsets = files.map((f) => {
    const at = off;
    off = align(off + f.data.length, INITRD_DATA_ALIGN);
    return at;
  });
  const total = off;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, INITRD_MAGIC, true);
  dv.setUint32(4, INITRD_VERSION, true);
  dv.setUint32(8, files.length, true);
  dv.setUint32(12, total, true);
  files.forEach((f, k) => {
    const e = INITRD_HEADER_BYTES + k * INITRD_ENTRY_BYTES;
    out.set(new TextEncoder().encode(f.name), e);
    dv.setUint32(e + INITRD_NAME_BYTES, offsets[k], true);
    dv.setUint32(e + INITRD_NAME_BYTES + 4, f.data.length, true);
    out.set(f.data, offsets[k]);
  });
  return out;
}

// toolchain/guest-kernel.ts
var ROOT = resolve3(dirname2(fileURLToPath2(import.meta.url)), "..");
var GUEST_KERNEL_DIR = join(ROOT, "guest-kernel");
var CACHE_DIR = join(ROOT, "node_modules", ".cache", "xenolith");
var INPUTS = ["guest-kernel", "hypercalls", "toolchain/compiler", "toolchain/asm", "toolchain/lib", "machine/isa.ts", "machine/image.ts", "machine/devices/ports.ts"];
function listFiles(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return [path];
  return readdirSync(path).sort().flatMap((n) => listFiles(join(path, n)));
}
function sourceHash(arch) {
  const h = createHash("sha256");
  h.update(`arch=${arch}
`);
  for (const input of INPUTS) {
    const p = join(ROOT, input);
    if (!existsSync(p)) continue;
    for (const f of listFiles(p)) {
      if (!f.endsWith(".ts")) continue;
      h.update(relative3(ROOT, f).split(sep2).join("/"));
      h.update("\0");
      h.update(readFileSync(f));
      h.update("\0");
    }
  }
  return h.digest("hex").slice(0, 24);
}
function userProgramSources() {
  const dir = join(GUEST_KERNEL_DIR, "user");
  return readdirSync(dir).filter((n) => n.endsWith(".ts")).sort().map((n) => ({ name: n.slice(0, -3), file: join(dir, n) }));
}
var memo = /* @__PURE__ */ new Map();
function buildGuestKernel(opts = {}) {
  const arch = opts.arch ?? "native";
  const useCache = opts.useCache ?? true;
  const key = sourceHash(arch);
  const hit = memo.get(key);
  if (useCache && hit) return hit;
  const dir = join(CACHE_DIR, `guest-${arch}-${key}`);
  if (useCache && existsSync(join(dir, "index.json"))) {
    try {
      const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
      const userImages2 = /* @__PURE__ */ new Map();
      for (const name of index.programs) userImages2.set(name, decodeImage(readFileSync(join(dir, `${name}.img`))));
      const build3 = {
        arch,
        kernel: decodeImage(readFileSync(join(dir, "kernel.img"))),
        initrd: new Uint8Array(readFileSync(join(dir, "initrd.bin"))),
        programs: index.programs,
        userImages: userImages2,
        cached: true
      };
      memo.set(key, build3);
      return build3;
    } catch {
    }
  }
  const kernel = compile(join(GUEST_KERNEL_DIR, "arch", arch, "entry.ts"), { arch }).image;
  const userImages = /* @__PURE__ */ new Map();
  for (const p of userProgramSources()) userImages.set(p.name, compile(p.file, { arch, user: true }).image);
  const programs = [...userImages.keys()];
  const encoded = new Map([...userImages].map(([n, img]) => [n, encodeImage(img)]));
  const initrd = packInitrd(programs.map((name) => ({ name, data: encoded.get(name) })));
  const build2 = { arch, kernel, initrd, programs, userImages, cached: false };
  memo.set(key, build2);
  if (useCache) {
    const tmp = `${dir}.tmp-${process.pid}`;
    try {
      mkdirSync(tmp, { recursive: true });
      writeFileSync(join(tmp, "kernel.img"), encodeImage(kernel));
      writeFileSync(join(tmp, "initrd.bin"), initrd);
      for (const [n, b] of encoded) writeFileSync(join(tmp, `${n}.img`), b);
      writeFileSync(join(tmp, "index.json"), JSON.stringify({ programs }));
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return build2;
}

// bench/timing.ts
function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}
function median(xs) {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h] : (s[h - 1] + s[h]) / 2;
}

// bench/kernel-steady.ts
var mode = process.argv[2] ?? "bt";
var engine = process.argv[3] ?? "translator";
var reps = Number(process.argv[4] ?? 30);
var runs = Number(process.argv[5] ?? 8);
if (mode !== "native" && mode !== "trap" && mode !== "bt" || engine !== "interpreter" && engine !== "translator" || !(reps >= 1) || !(runs >= 3)) {
  process.stderr.write("usage: node --import tsx bench/kernel-steady.ts [native|trap|bt] [interpreter|translator] [REPS>=1] [RUNS>=3]\n");
  process.exit(2);
}
var build = buildGuestKernel({ arch: "native" });
function runNative() {
  const machine = new Machine({ memoryBytes: 32 * 1024 * 1024, engine });
  bootNative(machine, { kernel: build.kernel, initrd: build.initrd, cmdline: `lmbench all ${reps}` });
  const r = machine.run({ maxCycles: Number.MAX_SAFE_INTEGER });
  machine.release();
  return { reason: r.reason, status: r.status, cycles: r.cycles, instructions: r.instructions, tx: machine.cpu.translator };
}
function runInDomain(m) {
  const r = runImageInMode(m, build.kernel, { initrd: build.initrd, cmdline: `lmbench all ${reps}`, engine, maxCycles: Number.MAX_SAFE_INTEGER });
  r.hypervisor.machine.release();
  return { ...r, tx: r.hypervisor.cpu.translator };
}
var cpuMs = [];
var wallMs = [];
var first = null;
var host = "";
var perRun = [];
for (let i2 = 0; i2 < runs; i2++) {
  const c0 = process.cpuUsage();
  const t0 = nowMs();
  const r = mode === "native" ? runNative() : runInDomain(mode);
  wallMs.push(nowMs() - t0);
  const c = process.cpuUsage(c0);
  cpuMs.push((c.user + c.system) / 1e3);
  if (r.reason !== "poweroff" || r.status !== 0) throw new Error(`lmbench all ${reps} under ${mode} stopped with ${r.reason} (status ${r.status})`);
  first ??= { cycles: r.cycles, instructions: r.instructions };
  if (r.cycles !== first.cycles || r.instructions !== first.instructions) throw new Error("the runs differ in simulated figures");
  host = "";
  if (r.tx) {
    const s = r.tx.stats;
    perRun.push(`${s.translations}/${s.compiles}/${Math.round(s.entries / 1e3)}k/${(s.coldInstructions / 1e6).toFixed(1)}M`);
    host = `translator: ${s.translations} translations (${s.compiles} compiled, ${s.recalled} recalled), ${s.entries} entries into translated code, ${s.coldInstructions} instructions in cold slices`;
  }
  if (mode === "bt" && r.domain !== void 0) {
    const b = btCache(r.domain);
    const h = b.host;
    host += `${host !== "" ? "\n" : ""}unit entries ${b.stats.unitsRun}: through the vCPU loop ${b.stats.unitsRun - h.chainedInline - h.loopEntries}, made by the unit loop itself ${h.loopEntries} (of which inside the CPU's fast loop ${h.probeEntries}), chained in compiled code ${h.chainedInline}; indirect lookups ${b.stats.indirectLookups}; straight runs in the CPU's fast loop ${h.fastRuns} (word check skipped ${h.checksSkipped}, left after a store into the unit's frame ${h.storeLeaves}); compiled chains entered with a frame's words checked first ${h.chainWordChecks}, run with the word check before each instruction ${h.chainCheckedRuns}`;
  }
}
var ms = (xs) => xs.map((x) => Math.round(x)).join(" ");
var later = (xs) => Math.round(median(xs.slice(2)));
process.stdout.write(
  `${mode} ${engine}, lmbench all ${reps}: ${first.instructions} instructions, ${first.cycles} cycles
process CPU ms per run: ${ms(cpuMs)} (median of runs 3-${runs}: ${later(cpuMs)})
wall ms per run: ${ms(wallMs)} (median of runs 3-${runs}: ${later(wallMs)})
` + (host !== "" ? `${host}
` : "") + (perRun.length > 0 ? `per run (translations/compiled/entries/cold instructions): ${perRun.join(" ")}
` : "")
);
