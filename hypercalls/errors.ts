// Hypercall error codes: a hypercall returns 0 (or a count, or a value) on success and one of
// these negative, errno-like codes on failure. The one definition, imported by guests and the
// hypervisor; each member's comment is what it means for a hypercall.
// Guest-subset code; imports nothing.

export const enum HcErr {
  OK = 0,
  /** not allowed: a handler claiming ring 0, the hypervisor's address range, another domain's frame */
  EPERM = -1,
  /** no such grant reference, port or entry */
  ENOENT = -2,
  /** no such domain */
  ESRCH = -3,
  /** the hypervisor's back end failed the request */
  EIO = -5,
  /** a count or size above the interface's limit */
  E2BIG = -7,
  /** a bad handle (grant unmap) */
  EBADF = -9,
  /** try again later (a ring is full) */
  EAGAIN = -11,
  /** the domain's memory quota is exhausted */
  ENOMEM = -12,
  /** a grant does not permit this access (read-only, wrong grantee) */
  EACCES = -13,
  /** an argument points at memory the caller cannot access */
  EFAULT = -14,
  /** the frame is in use: mapped, typed as another kind of page, still pinned */
  EBUSY = -16,
  /** already done (a table already pinned, a port already bound) */
  EEXIST = -17,
  /** a bad argument: misaligned, out of range, an unknown command, a nested multicall */
  EINVAL = -22,
  /** no free port or grant slot */
  ENOSPC = -28,
  /** no such hypercall */
  ENOSYS = -38,
}
