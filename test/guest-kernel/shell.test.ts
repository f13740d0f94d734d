// The shell (guest-kernel/user/sh.ts) under init, on the native kernel: suites/shell.ts.
import { bootKernel, guest } from './harness.ts';
import { shellSuite } from './suites/shell.ts';

shellSuite({ bootKernel, guest });
