// The system calls (usertests as process 1), on the native kernel: suites/syscalls.ts.
import { bootKernel, guest } from './harness.ts';
import { syscallsSuite } from './suites/syscalls.ts';

syscallsSuite({ bootKernel, guest });
