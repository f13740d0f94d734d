// The console: kernel printing (kputs, kputd, kputx) and console input for read(0, ...): a line
// buffer filled by the console interrupt, with erase (backspace) and end-of-file (Ctrl-D) in
// cooked mode, every byte as it comes in raw mode (ConsMode), and in both the line discipline's
// Ctrl-C: it kills the console's foreground process group and interrupts a waiting reader.
// Input is echoed when a reader is already waiting, or else when a reader takes it, so input
// typed ahead (e.g. `xenolith run --input`) appears in the transcript where it is consumed.
// Guest code (the TypeScript subset); reaches the device only through pvops.

import { load8, store8, staticBuffer, divu, remu, geu } from 'xl32';
import { consolePutc, consoleGetc } from './pvops.ts';
import { Param } from './param.ts';
import { Err, ConsMode } from './abi.ts';
import { sleep, wakeup, killed, killGroup, Killed } from './proc.ts';
import { copyin, copyout } from './vm.ts';

const enum Ch {
  INTERRUPT = 3,
  CARET = 94,
  LETTER_C = 67,
  BACKSPACE = 8,
  DELETE = 127,
  EOF = 4,
  NEWLINE = 10,
  RETURN = 13,
  SPACE = 32,
  ZERO = 48,
  X = 120,
  HEX_ALPHA = 87,
}

export function kputc(c: number): void {
  consolePutc(c);
}

/** Print the NUL-terminated string at s. */
export function kputs(s: number): void {
  let p = s;
  let c = load8(p);
  while (c !== 0) {
    consolePutc(c);
    p = p + 1;
    c = load8(p);
  }
}

/** Print at most n bytes of the string at s. */
export function kputsn(s: number, n: number): void {
  let k = 0;
  while (k < n) {
    const c = load8(s + k);
    if (c === 0) return;
    consolePutc(c);
    k = k + 1;
  }
}

/** Print n as an unsigned decimal. */
export function kputu(n: number): void {
  if (geu(n, 10)) kputu(divu(n, 10));
  consolePutc(Ch.ZERO + remu(n, 10));
}

/** Print n as a signed decimal. */
export function kputd(n: number): void {
  if (n < 0) {
    consolePutc(45);
    kputu(-n | 0);
  } else {
    kputu(n);
  }
}

/** Print n as 0x and eight hex digits. */
export function kputx(n: number): void {
  consolePutc(Ch.ZERO);
  consolePutc(Ch.X);
  let shift = 28;
  while (shift >= 0) {
    const d = (n >>> shift) & 15;
    consolePutc(d < 10 ? Ch.ZERO + d : Ch.HEX_ALPHA + d);
    shift = shift - 4;
  }
}

export function kputnl(): void {
  consolePutc(Ch.NEWLINE);
}

// ---- input ---------------------------------------------------------------------------------

/*
 * The line buffer is a ring of CONSOLE_BUF bytes indexed by free-running counters:
 * rd <= echo <= ed and rd <= wr <= ed. [rd, wr) is committed input a reader may take,
 * [wr, ed) the line being edited, [rd, echo) what has been echoed already.
 */
const buf = staticBuffer(Param.CONSOLE_BUF);
let rd = 0;
let wr = 0;
let ed = 0;
let echo = 0;
/** readers sleeping in consoleRead */
let waiting = 0;
/** the channel readers sleep on */
const inputChan = staticBuffer(4);
/** ConsMode */
let mode = ConsMode.COOKED;
/** the foreground process group, which Ctrl-C kills (0: none) */
let fgGroup = 1;
/** a Ctrl-C with no foreground group to kill: the next console read returns EINTR */
let interruptPending = false;

function at(k: number): number {
  return buf + (k & (Param.CONSOLE_BUF - 1));
}

function echoChar(c: number): void {
  if (c === Ch.EOF) return;
  consolePutc(c);
}

/** Echo what has arrived but not been shown, up to index `upto`. */
function echoUpTo(upto: number): void {
  while (echo - upto < 0) {
    echoChar(load8(at(echo)));
    echo = echo + 1;
  }
}

/**
 * Ctrl-C: echo ^C, drop all input not yet read (as a Unix terminal flushes its queue), and kill
 * the foreground group; with none (the shell at its prompt), the next read returns EINTR instead,
 * so the reader abandons its line.
 */
function interrupt(): void {
  consolePutc(Ch.CARET);
  consolePutc(Ch.LETTER_C);
  consolePutc(Ch.NEWLINE);
  ed = rd;
  wr = rd;
  echo = rd;
  if (fgGroup !== 0) killGroup(fgGroup, Killed.INTERRUPTED);
  else interruptPending = true;
  wakeup(inputChan);
}

/** The console interrupt: take every waiting byte into the line buffer. */
export function consoleIntr(): void {
  let c = consoleGetc();
  while (c >= 0) {
    if (c === Ch.INTERRUPT) {
      interrupt();
    } else if (mode === ConsMode.RAW) {
      if (ed - rd < Param.CONSOLE_BUF) {
        store8(at(ed), c);
        ed = ed + 1;
        wr = ed;
        echo = ed;
        wakeup(inputChan);
      }
    } else if (c === Ch.BACKSPACE || c === Ch.DELETE) {
      if (ed !== wr) {
        ed = ed - 1;
        if (echo - ed > 0) {
          echo = ed;
          consolePutc(Ch.BACKSPACE);
          consolePutc(Ch.SPACE);
          consolePutc(Ch.BACKSPACE);
        }
      }
    } else if (c !== 0 && ed - rd < Param.CONSOLE_BUF) {
      if (c === Ch.RETURN) c = Ch.NEWLINE;
      store8(at(ed), c);
      ed = ed + 1;
      if (c === Ch.NEWLINE || c === Ch.EOF || ed - rd === Param.CONSOLE_BUF) {
        wr = ed;
        wakeup(inputChan);
      }
    }
    c = consoleGetc();
  }
  if (waiting > 0) echoUpTo(ed);
}

/**
 * read() on the console: block until a line (or end of file) is committed, then copy at most
 * n bytes of it to user address dst. Returns the byte count, 0 at end of file, or an error.
 */
export function consoleRead(dst: number, n: number): number {
  while (rd === wr || interruptPending) {
    if (interruptPending) {
      interruptPending = false;
      return Err.EINTR;
    }
    if (killed()) return Err.EINTR;
    waiting = waiting + 1;
    echoUpTo(ed);
    sleep(inputChan);
    waiting = waiting - 1;
  }
  let got = 0;
  while (got < n && rd !== wr) {
    const c = load8(at(rd));
    if (mode === ConsMode.RAW) {
      if (copyout(dst + got, at(rd), 1) < 0) return got > 0 ? got : Err.EFAULT;
      rd = rd + 1;
      got = got + 1;
      continue;
    }
    if (c === Ch.EOF) {
      // end of file: consumed by a read that has nothing yet, else left for the next read
      if (got === 0) {
        rd = rd + 1;
        if (echo - rd < 0) echo = rd;
      }
      break;
    }
    if (copyout(dst + got, at(rd), 1) < 0) return got > 0 ? got : Err.EFAULT;
    echoUpTo(rd + 1);
    rd = rd + 1;
    got = got + 1;
    if (c === Ch.NEWLINE) break;
  }
  return got;
}

const outBuf = staticBuffer(128);

/** write() on the console: n bytes from user address src. Bytes written, or EFAULT. */
export function consoleWrite(src: number, n: number): number {
  let done = 0;
  while (done < n) {
    let chunk = n - done;
    if (chunk > 128) chunk = 128;
    if (copyin(outBuf, src + done, chunk) < 0) return done > 0 ? done : Err.EFAULT;
    let k = 0;
    while (k < chunk) {
      consolePutc(load8(outBuf + k));
      k = k + 1;
    }
    done = done + chunk;
  }
  return done;
}

/**
 * consmode(m): switch the console to ConsMode m (-1: only ask); the previous mode. Entering raw
 * mode commits the line being edited (a raw reader sees it); input left over from raw mode counts
 * as not yet echoed, so a cooked reader that takes it shows it.
 */
export function consoleSetMode(m: number): number {
  const old = mode;
  if (m === -1) return old;
  if (m !== ConsMode.COOKED && m !== ConsMode.RAW) return Err.EINVAL;
  if (m === ConsMode.RAW) {
    wr = ed;
    echo = ed;
  } else if (old === ConsMode.RAW) {
    echo = rd;
  }
  mode = m;
  return old;
}

/** fgpgrp(g): make g the foreground process group (0: none; -1: only ask); the previous one. */
export function consoleSetForeground(g: number): number {
  const old = fgGroup;
  if (g < -1) return Err.EINVAL;
  if (g !== -1) {
    fgGroup = g;
    // a Ctrl-C meant for whoever read before does not carry over to a new foreground
    interruptPending = false;
  }
  return old;
}
