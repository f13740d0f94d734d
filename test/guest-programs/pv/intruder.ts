// An unprivileged domain (domain 3) that tries the control interface on domain 2: every command
// must be refused (EPERM) and change nothing. Guest code (the TypeScript subset), --arch pv.

import { staticBuffer, cstr } from 'xl32';
import { hcDom0Op, schedShutdown } from '../../../hypercalls/guest.ts';
import { Dom0Cmd } from '../../../hypercalls/numbers.ts';
import { DomainInfo, StartInfo } from '../../../hypercalls/structs.ts';
import { print, printNum, startInfo } from './lib.ts';

const info = staticBuffer(DomainInfo.BYTES);

function say(what: number, r: number): void {
  print(what);
  print(cstr(': '));
  printNum(r);
  print(cstr('\n'));
}

export function main(): void {
  say(cstr('intruder: start_info flags'), startInfo(StartInfo.FLAGS));
  say(cstr('info'), hcDom0Op(Dom0Cmd.GETDOMAININFO, 2, info, 0, 0));
  say(cstr('pause'), hcDom0Op(Dom0Cmd.PAUSEDOMAIN, 2, 0, 0, 0));
  say(cstr('unpause'), hcDom0Op(Dom0Cmd.UNPAUSEDOMAIN, 2, 0, 0, 0));
  say(cstr('weight 7'), hcDom0Op(Dom0Cmd.ADJUSTDOM, 2, 7, 0, 0));
  say(cstr('read console'), hcDom0Op(Dom0Cmd.READCONSOLE, 2, info, 16, 0));
  say(cstr('destroy'), hcDom0Op(Dom0Cmd.DESTROYDOMAIN, 2, 0, 0, 0));
  schedShutdown(0);
}
