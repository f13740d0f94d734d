// The console's keys (cli/console-keys.ts), shared by `run`, `console NAME` and the web terminal.
import { describe, expect, it } from 'vitest';
import { consoleKeys, LEAVE_KEY } from '../../cli/console-keys.ts';

describe('consoleKeys', () => {
  it('types Enter as newline and Delete as backspace; Ctrl-C and escape sequences go as typed', () => {
    expect(consoleKeys('ls\r')).toEqual({ text: 'ls\n', left: false });
    expect(consoleKeys('ab\x7fc')).toEqual({ text: 'ab\bc', left: false });
    expect(consoleKeys('\x03\x1b[D')).toEqual({ text: '\x03\x1b[D', left: false });
  });
  it('leaves at Ctrl-]: what came before it is typed, what follows is dropped', () => {
    expect(LEAVE_KEY).toBe(0x1d);
    expect(consoleKeys('ok\r\x1dexit\r')).toEqual({ text: 'ok\n', left: true });
    expect(consoleKeys('\x1d')).toEqual({ text: '', left: true });
  });
  it('types a character beyond one byte as ?', () => {
    expect(consoleKeys('é€')).toEqual({ text: 'é?', left: false });
  });
});
