// The console's keys, one definition for every place a person types into a guest's console:
// `xenolith run` at a terminal, `xenolith console NAME`, and the web console's terminal. Enter is
// the guest's newline, Delete its backspace, a character beyond one byte a '?'; everything else
// goes as typed (Ctrl-C included: the guest's console line discipline turns it into an
// interrupt). Ctrl-] is the one key the guest never sees: it leaves the console. Pure string
// work, no Node or DOM: the web client bundles it too.

/** Ctrl-]: leaves (detaches from) the console. */
export const LEAVE_KEY = 0x1d;

/**
 * The text a chunk of keystrokes types into the guest's console (one char per byte), and whether
 * it ended with Ctrl-] (then the keys after it are dropped).
 */
export function consoleKeys(typed: string): { text: string; left: boolean } {
  let text = '';
  for (let k = 0; k < typed.length; k++) {
    const c = typed.charCodeAt(k);
    if (c === LEAVE_KEY) return { text, left: true };
    text += c === 0x0d ? '\n' : c === 0x7f ? '\b' : c < 0x100 ? typed[k] : '?';
  }
  return { text, left: false };
}
