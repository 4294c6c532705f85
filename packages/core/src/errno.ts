/**
 * errno tables, one per operating system: the names are shared but the numbers are not
 * (FreeBSD's EAGAIN is 35 and its 11 is EDEADLK; Linux's EAGAIN is 11).
 *
 * Linux: include/uapi/asm-generic/errno-base.h and errno.h (x86, arm64, riscv use these).
 * FreeBSD: sys/sys/errno.h.
 */

export type ErrnoOs = 'linux' | 'freebsd';

/** Linux asm-generic numbering (subset that the simulation and its tools can produce). */
export const LINUX_ERRNO = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, ENOEXEC: 8, EBADF: 9,
  ECHILD: 10, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, ENOTBLK: 15, EBUSY: 16, EEXIST: 17,
  EXDEV: 18, ENODEV: 19, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENFILE: 23, EMFILE: 24, ENOTTY: 25,
  ETXTBSY: 26, EFBIG: 27, ENOSPC: 28, ESPIPE: 29, EROFS: 30, EMLINK: 31, EPIPE: 32, EDOM: 33,
  ERANGE: 34, EDEADLK: 35, ENAMETOOLONG: 36, ENOLCK: 37, ENOSYS: 38, ENOTEMPTY: 39, ELOOP: 40,
  ENOMSG: 42, EIDRM: 43, ENODATA: 61, ETIME: 62, ENOLINK: 67, EPROTO: 71, EMULTIHOP: 72, ELIBBAD: 80,
  EBADMSG: 74, EOVERFLOW: 75, EILSEQ: 84, EUSERS: 87, ENOTSOCK: 88, EDESTADDRREQ: 89,
  EMSGSIZE: 90, EPROTOTYPE: 91, ENOPROTOOPT: 92, EPROTONOSUPPORT: 93, ESOCKTNOSUPPORT: 94,
  EOPNOTSUPP: 95, EPFNOSUPPORT: 96, EAFNOSUPPORT: 97, EADDRINUSE: 98, EADDRNOTAVAIL: 99,
  ENETDOWN: 100, ENETUNREACH: 101, ENETRESET: 102, ECONNABORTED: 103, ECONNRESET: 104,
  ENOBUFS: 105, EISCONN: 106, ENOTCONN: 107, ESHUTDOWN: 108, ETOOMANYREFS: 109, ETIMEDOUT: 110,
  ECONNREFUSED: 111, EHOSTDOWN: 112, EHOSTUNREACH: 113, EALREADY: 114, EINPROGRESS: 115,
  ESTALE: 116, EDQUOT: 122, ECANCELED: 125, EOWNERDEAD: 130, ENOTRECOVERABLE: 131,
} as const;

/** FreeBSD sys/sys/errno.h numbering. */
export const FREEBSD_ERRNO = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, ENOEXEC: 8, EBADF: 9,
  ECHILD: 10, EDEADLK: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, ENOTBLK: 15, EBUSY: 16, EEXIST: 17,
  EXDEV: 18, ENODEV: 19, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENFILE: 23, EMFILE: 24, ENOTTY: 25,
  ETXTBSY: 26, EFBIG: 27, ENOSPC: 28, ESPIPE: 29, EROFS: 30, EMLINK: 31, EPIPE: 32, EDOM: 33,
  ERANGE: 34, EAGAIN: 35, EINPROGRESS: 36, EALREADY: 37, ENOTSOCK: 38, EDESTADDRREQ: 39,
  EMSGSIZE: 40, EPROTOTYPE: 41, ENOPROTOOPT: 42, EPROTONOSUPPORT: 43, ESOCKTNOSUPPORT: 44,
  EOPNOTSUPP: 45, EPFNOSUPPORT: 46, EAFNOSUPPORT: 47, EADDRINUSE: 48, EADDRNOTAVAIL: 49,
  ENETDOWN: 50, ENETUNREACH: 51, ENETRESET: 52, ECONNABORTED: 53, ECONNRESET: 54, ENOBUFS: 55,
  EISCONN: 56, ENOTCONN: 57, ESHUTDOWN: 58, ETOOMANYREFS: 59, ETIMEDOUT: 60, ECONNREFUSED: 61,
  ELOOP: 62, ENAMETOOLONG: 63, EHOSTDOWN: 64, EHOSTUNREACH: 65, ENOTEMPTY: 66, EPROCLIM: 67,
  EUSERS: 68, EDQUOT: 69, ESTALE: 70, EREMOTE: 71, EBADRPC: 72, ERPCMISMATCH: 73,
  EPROGUNAVAIL: 74, EPROGMISMATCH: 75, EPROCUNAVAIL: 76, ENOLCK: 77, ENOSYS: 78, EFTYPE: 79,
  EAUTH: 80, ENEEDAUTH: 81, EIDRM: 82, ENOMSG: 83, EOVERFLOW: 84, ECANCELED: 85, EILSEQ: 86,
  ENOATTR: 87, EDOOFUS: 88, EBADMSG: 89, EMULTIHOP: 90, ENOLINK: 91, EPROTO: 92,
  ENOTCAPABLE: 93, ECAPMODE: 94, ENOTRECOVERABLE: 95, EOWNERDEAD: 96, EINTEGRITY: 97,
} as const;

export type LinuxErrnoName = keyof typeof LINUX_ERRNO;
export type FreeBsdErrnoName = keyof typeof FREEBSD_ERRNO;
/** A name that exists on at least one system. */
export type ErrnoName = LinuxErrnoName | FreeBsdErrnoName;

const TABLES: Record<ErrnoOs, Readonly<Record<string, number>>> = {
  linux: LINUX_ERRNO,
  freebsd: FREEBSD_ERRNO,
};

/** The number `name` has on `os`, or undefined if that system has no such errno. */
export function errnoNumber(os: ErrnoOs, name: ErrnoName): number | undefined {
  return TABLES[os][name];
}

/** The name of errno `num` on `os`, or undefined. */
export function errnoName(os: ErrnoOs, num: number): ErrnoName | undefined {
  const table = TABLES[os];
  for (const name in table) if (table[name] === num) return name as ErrnoName;
  return undefined;
}

