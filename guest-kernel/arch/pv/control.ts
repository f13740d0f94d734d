// The toolstack's requests (shutdown, reboot), XenoLinux's control/shutdown watch in small: the
// hypervisor writes a request word in the shared-info page and raises VIRQ_CONTROL; the event
// handler takes the word and acts at once - the kernel has no signals to ask init first, so a
// shutdown request powers the domain off and a reboot request stops it for a reboot (the
// toolstack then applies on_reboot). Guest code (the TypeScript subset); runs at ring 1.

import { load32, store32, cstr } from 'xl32';
import { Virq } from '../../../hypercalls/numbers.ts';
import { SharedInfo, ControlRequest } from '../../../hypercalls/structs.ts';
import { evtchnBindVirq, schedReboot, schedShutdown, consoleWrite } from '../../../hypercalls/guest.ts';
import { strlen } from '../../kernel/string.ts';
import { Xen } from './xen.ts';
import { pvConsoleFlush } from './console.ts';
import { balloonTargetChanged } from './balloon.ts';

/** the port VIRQ_CONTROL arrives on (0: none) */
let controlPort = 0;

/** Bind VIRQ_CONTROL (left unmasked: a request is taken whenever events are). */
export function controlInit(): void {
  const p = evtchnBindVirq(Virq.CONTROL);
  controlPort = p > 0 ? p : 0;
}

export function isControlPort(port: number): boolean {
  return port !== 0 && port === controlPort;
}

function say(s: number): void {
  pvConsoleFlush();
  consoleWrite(s, strlen(s));
}

/** VIRQ_CONTROL fired: take the request and act on it. */
export function controlEvent(): void {
  const req = load32(Xen.SHARED + SharedInfo.CONTROL_REQUEST);
  store32(Xen.SHARED + SharedInfo.CONTROL_REQUEST, ControlRequest.NONE);
  if (req === ControlRequest.POWEROFF) {
    say(cstr('\nkernel: shutdown requested: powering off\n'));
    schedShutdown(0);
  } else if (req === ControlRequest.REBOOT) {
    say(cstr('\nkernel: reboot requested\n'));
    schedReboot();
  } else if (req === ControlRequest.MEMORY) {
    balloonTargetChanged();
  }
}
