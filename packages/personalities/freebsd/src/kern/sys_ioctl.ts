/**
 * sys/kern/sys_generic.c sys_ioctl → kern_ioctl → fo_ioctl (54), for the commands this model
 * implements: FIOCLEX / FIONCLEX (kern_ioctl's own) and the largepage shm configuration
 * FIOSSHMLPGCNF / FIOGSHMLPGCNF (uipc_shm.c shm_ioctl). sys_ioctl first checks the command's
 * encoding (IOCPARM_LEN, IOC_VOID/IN/OUT: ENOTTY), copies an IOC_IN argument in (EFAULT) or zeroes
 * an IOC_OUT one, then kern_ioctl finds the descriptor (EBADF, also for a file open for neither
 * reading nor writing), and after the file's ioctl copies an IOC_OUT argument out (EFAULT).
 * Every other command is ENOTTY here — FreeBSD's vn_ioctl, pipe_ioctl and devfs answer some
 * (FIONREAD, FIONBIO, FIOASYNC, ...), which this model does not implement.
 */
import type { SyscallArg, SyscallContext } from '@polykernel/kernel';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { arg, intArg } from '../vm/vm_mmap.js';
import { Descriptor, FREAD, FWRITE } from './kern_descrip.js';
import {
  MAXPAGESIZES, SHM_LARGEPAGE_ALLOC_DEFAULT, SHM_LARGEPAGE_ALLOC_HARD, SHM_LARGEPAGE_ALLOC_NOWAIT, pagesizes, type ShmFd,
} from './uipc_shm.js';

type Ctx = SyscallContext<FreebsdSpace, FreebsdMachine>;

/** sys/sys/ioccom.h. */
const IOCPARM_MAX = 8192;
const IOC_VOID = 0x20000000;
const IOC_OUT = 0x40000000;
const IOC_IN = 0x80000000;
/** sizeof(struct shm_largepage_conf): int psind, int alloc_policy, int pad[10]. */
export const SHM_LARGEPAGE_CONF_SIZE = 48;
/** sys/sys/filio.h: _IOW('f', 100, struct shm_largepage_conf), _IOR('f', 101, ...). */
export const FIOSSHMLPGCNF = IOC_IN + SHM_LARGEPAGE_CONF_SIZE * 0x10000 + 0x66 * 0x100 + 100;
export const FIOGSHMLPGCNF = IOC_OUT + SHM_LARGEPAGE_CONF_SIZE * 0x10000 + 0x66 * 0x100 + 101;
/** _IO('f', 1) and _IO('f', 2). */
export const FIOCLEX = IOC_VOID + 0x66 * 0x100 + 1;
export const FIONCLEX = IOC_VOID + 0x66 * 0x100 + 2;

/** IOCPARM_LEN(com): bits 16-28. */
function parmLen(com: number): number {
  return Math.floor(com / 0x10000) % 0x2000;
}

/** sys_ioctl(fd, com, data). */
export function sysIoctl(ctx: Ctx, args: readonly SyscallArg[]): number {
  const fd = intArg(args, 0);
  // The command is a u_long; sys_ioctl uses its low 32 bits.
  const com = arg(args, 1) % 2 ** 32;
  const data = arg(args, 2);
  const size = parmLen(com);
  const inout = com - (com % IOC_VOID);
  const isIn = inout >= IOC_IN;
  const isOut = inout % IOC_IN >= IOC_OUT;
  const isVoid = inout % IOC_OUT >= IOC_VOID;
  if (size > IOCPARM_MAX || (!isVoid && !isIn && !isOut) || ((isIn || isOut) && size === 0) || (isVoid && size > 0 && size !== 4)) {
    return ctx.fail('ENOTTY', `command 0x${com.toString(16)} is badly encoded`);
  }
  let buf: Uint8Array = new Uint8Array(isIn || isOut ? size : 0);
  if (isIn && !isVoid) {
    const b = ctx.kernel.copyFromUser(ctx.thread, data, size);
    if (b.length !== size) return ctx.fail('EFAULT', 'the argument is not readable');
    buf = b;
  }
  const d = Number.isInteger(fd) && fd >= 0 ? ctx.process.files[fd] : undefined;
  if (!(d instanceof Descriptor) || (d.fp.flag & (FREAD + FWRITE)) === 0) return ctx.fail('EBADF', `fd ${fd} is not open`);
  if (com === FIOCLEX || com === FIONCLEX) {
    d.cloexec = com === FIOCLEX;
    return 0;
  }
  const shm = d.fp.shm;
  const err = com === FIOSSHMLPGCNF || com === FIOGSHMLPGCNF ? shmIoctl(ctx, shm, com, buf) : 'ENOTTY';
  if (err !== null) return ctx.fail(err, `ioctl 0x${com.toString(16)}`);
  if (isOut && ctx.kernel.copyToUser(ctx.thread, data, buf) !== size) return ctx.fail('EFAULT', 'the argument is not writable');
  return 0;
}

/** shm_ioctl's largepage commands: an errno name, or null (`buf` read or filled). */
function shmIoctl(ctx: Ctx, shm: ShmFd | undefined, com: number, buf: Uint8Array): string | null {
  if (shm?.largepage !== true) return 'ENOTTY';
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (com === FIOGSHMLPGCNF) {
    dv.setInt32(0, shm.lpPsind, true);
    dv.setInt32(4, shm.lpAllocPolicy, true);
    return null;
  }
  const psind = dv.getInt32(0, true);
  const policy = dv.getInt32(4, true);
  // The page size is set once; the allocation policy may change later.
  if (shm.lpPsind !== 0 && psind !== shm.lpPsind) return 'EINVAL';
  const ps = pagesizes(ctx.kernel);
  if (psind <= 0 || psind >= MAXPAGESIZES || psind >= ps.length) return 'EINVAL';
  if (policy !== SHM_LARGEPAGE_ALLOC_DEFAULT && policy !== SHM_LARGEPAGE_ALLOC_NOWAIT && policy !== SHM_LARGEPAGE_ALLOC_HARD) return 'EINVAL';
  shm.lpPsind = psind;
  shm.lpAllocPolicy = policy;
  return null;
}
