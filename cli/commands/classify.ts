// `xenolith classify`: probe every XL32 opcode (machine/classify.ts), print its Popek & Goldberg
// class as observed beside the class machine/isa.ts records, and the verdict: whether XL32 is
// classically virtualizable, which instructions break it, and which of the theorems' conditions
// hold for each way xenolith virtualizes it. Exit status 1 if an observed class disagrees.
import type { Command } from 'commander';
import { textTable } from '../../bench/text-table.ts';
import { classifyAll, probeUndefined, type Classification } from '../../machine/classify.ts';

/** The whole report, and whether every observed class matched the recorded one. */
export function classifyReport(): { text: string; agree: boolean } {
  const rows = classifyAll();
  const undef = probeUndefined();
  const yes = (b: boolean) => (b ? 'yes' : '-');
  const table = textTable(
    ['opcode', 'recorded', 'observed', 'privileged', 'control-sens.', 'behaviour-sens.', 'user-sens.', 'traps in', 'exits (non-root CPL 0/3)'],
    rows.map((c) => [
      c.mnemonic,
      c.recorded,
      c.observed + (c.observed === c.expected ? '' : '  MISMATCH'),
      yes(c.privileged),
      yes(c.controlSensitive),
      yes(c.behaviourSensitive),
      yes(c.userSensitive),
      `${c.trapsIn}/48`,
      `${yes(c.exitsNonRoot[0])}/${yes(c.exitsNonRoot[1])}`,
    ]),
    ['left', 'left', 'left', 'left', 'left', 'left', 'left', 'right', 'left'],
  );
  const agree = rows.every((c) => c.observed === c.expected) && undef.allTrapEverywhere;
  const names = (f: (c: Classification) => boolean) => rows.filter(f).map((c) => c.mnemonic).join(', ') || 'none';
  const sensitive = (c: Classification) => c.controlSensitive || c.behaviourSensitive;
  const critical = names((c) => sensitive(c) && !c.privileged);
  const userCritical = names((c) => c.userSensitive && !c.privileged);
  const nonRootCriticalExits = rows.filter((c) => sensitive(c) && !c.privileged && (c.exitsNonRoot[0] || c.exitsNonRoot[1])).length;
  const lines = [
    table,
    '',
    `${rows.length} defined opcodes, each run once in 48 configurations (CPL 0/1/3 x IOPL 0/3 x IF x paging off/on x two IDT bases) and in non-root mode`,
    "under hvm's controls with every exception exiting (so a fault there shows as an exit).",
    `${undef.count} undefined opcodes: ${undef.allTrapEverywhere ? '#UD in every configuration (innocuous)' : 'NOT all #UD everywhere'}.`,
    `observed classes ${agree ? 'agree with' : 'DISAGREE with'} machine/isa.ts (io-privileged counts as privileged: it traps at IOPL 0; HYPERCALL traps at every CPL, as INT does).`,
    '',
    "Popek & Goldberg's verdict",
    `  sensitive but not privileged (critical): ${critical}.`,
    '  Theorem 1 (sensitive instructions a subset of the privileged ones): does NOT hold - XL32 is not classically virtualizable.',
    `  user-sensitive (sensitive when run at CPL 3) and not privileged: ${userCritical}.`,
    '  Theorem 3 (hybrid VMM: user-sensitive instructions privileged, virtual supervisor code interpreted): does not hold strictly either;',
    '  it holds for user code that runs with the IF and IOPL its kernel gave it (IF = 1, IOPL = 0, as xenolith\'s kernel does) except SIDT,',
    "  which shows user code the monitor's IDT base.",
    '',
    'What each mode relies on',
    `  trap: Theorem 1's condition - it fails for ${critical}; they run unseen at the guest kernel's real ring 1 (documented divergences).`,
    `  bt: Theorem 3 - guest kernel code is translated, so every critical instruction there (${critical}) is handled; user code runs directly, exactly as`,
    `      long as the user-sensitive ones (${userCritical}) see what they would see natively (the IF/IOPL caveat, SIDT).`,
    `  hvm: neither theorem is needed - non-root mode gives the guest its own CPL, IF, IOPL and IDTR, so the critical instructions behave`,
    `      natively (${nonRootCriticalExits} of them exit); what touches the monitor's resources exits (I/O, HLT, CPUID; under shadow paging CR3, INVLPG, #PF).`,
    '  pv: the guest kernel is ported - its sensitive instructions are replaced by hypercalls; equivalence for unmodified kernels is not claimed.',
  ];
  return { text: lines.join('\n'), agree };
}

export function register(program: Command): void {
  program
    .command('classify')
    .description("probe every XL32 opcode at CPL 0/1/3 with IOPL, IF, paging and IDT varied and in non-root mode; print each one's Popek & Goldberg class beside machine/isa.ts's and the verdict (exit 1 on a disagreement)")
    .action(() => {
      const { text, agree } = classifyReport();
      process.stdout.write(`${text}\n`);
      if (!agree) process.exitCode = 1;
    });
}
