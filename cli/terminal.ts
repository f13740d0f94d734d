// The host terminal as a guest console's keyboard (`xenolith run` at a terminal, `xenolith console
// NAME`): raw mode, the keys as cli/console-keys.ts makes them, Ctrl-] to leave.
import { consoleKeys } from './console-keys.ts';

/**
 * Put the process's terminal in raw mode and hand its keystrokes, as consoleKeys() makes them,
 * to `type`; at Ctrl-] call `leave` (after typing what came before it). Returns the cleanup that
 * gives the terminal back.
 */
export function attachTerminalKeys(type: (text: string) => void, leave: () => void): () => void {
  const stdin = process.stdin;
  stdin.setRawMode?.(true);
  stdin.resume();
  const onData = (chunk: Buffer) => {
    const { text, left } = consoleKeys(chunk.toString('latin1'));
    if (text.length > 0) type(text);
    if (left) leave();
  };
  stdin.on('data', onData);
  return () => {
    stdin.off('data', onData);
    stdin.setRawMode?.(false);
    stdin.pause();
  };
}
