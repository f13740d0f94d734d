// The kernel's own guest test suites, run unchanged against the kernel built with --arch pv and
// booted as a PV domain: the suites take the PV harness's boot, so every transcript the native
// kernel is held to, the PV kernel is held to as well. (The suites are functions of the harness,
// not test files imported twice: under vitest's isolate: false a test file imported by another
// would register its tests only once per worker.)
import { shellSuite } from '../guest-kernel/suites/shell.ts';
import { syscallsSuite } from '../guest-kernel/suites/syscalls.ts';
import { bootPvKernel, pvGuest } from './pv-harness.ts';

shellSuite({ bootKernel: bootPvKernel, guest: pvGuest });
syscallsSuite({ bootKernel: bootPvKernel, guest: pvGuest });
