/**
 * Files as the simulated kernels open them: a file system is a lookup from a path to the file's
 * bytes and identity, or the error the lookup would give. Every personality opens executables,
 * libraries and mapped files through one (`sysrootLookup` in `@polykernel/kernel/node` reads the
 * host's files under a sysroot; `memoryFileSystem` holds a few files for tests and the browser).
 */
import type { ErrnoName } from '@polykernel/core';

/** A file as the file system hands it over: resolved path (as d_path prints it), bytes, identity. */
export interface FsFile {
  path: string;
  bytes: Uint8Array;
  /** Device numbers (major, minor) and inode number: one page cache per (dev, ino). */
  dev: [number, number];
  ino: number;
  /** st_mode: file type and permission bits (exec needs a regular file with an x bit). */
  mode: number;
  /**
   * Set when the file is too large to simulate (over MAX_FILE_BYTES): `bytes` then holds only its
   * first FILE_HEAD_BYTES, enough for exec's permission and header checks (a #! line, an ELF,
   * PE or Mach-O magic), and `size` is the file's real size. Anything that needs the contents
   * (mapping it, reading past the head) must refuse such a file, not use the head as the file.
   */
  partial?: { size: number };
}

/** The largest file a simulated file system hands over whole (a shared library is a few hundred MB at most). */
export const MAX_FILE_BYTES = 1024 ** 3;
/** The part of a larger file that is read: a page, as binprm's BINPRM_BUF_SIZE header and a little more. */
export const FILE_HEAD_BYTES = 4096;

/**
 * The lookup's failures, as POSIX names (the host's own errors; a Windows personality maps
 * ENOENT to ERROR_FILE_NOT_FOUND / STATUS_OBJECT_NAME_NOT_FOUND itself).
 */
export type FileLookupError = Extract<ErrnoName, 'ENOENT' | 'EACCES' | 'ENOTDIR' | 'ELOOP' | 'ENAMETOOLONG' | 'EISDIR'>;

/** A file system: a path → the file, or the error open would give. */
export type FileLookup = (path: string) => FsFile | FileLookupError;

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;

/**
 * A file system of the given files (path → bytes, or a full FsFile), for tests and the browser:
 * each file gets its own inode on device (0, 1); directories on the way exist.
 */
export function memoryFileSystem(files: Readonly<Record<string, Uint8Array | FsFile>>): FileLookup {
  const table = new Map<string, FsFile>();
  let ino = 2;
  for (const [path, f] of Object.entries(files)) {
    table.set(path, f instanceof Uint8Array ? { path, bytes: f, dev: [0, 1], ino: ino++, mode: S_IFREG | 0o755 } : f);
  }
  const dirs = new Set<string>();
  for (const path of table.keys()) for (let d = path.slice(0, path.lastIndexOf('/')); d !== ''; d = d.slice(0, d.lastIndexOf('/'))) dirs.add(d);
  return (path) => {
    const f = table.get(path);
    if (f !== undefined) return f;
    if (dirs.has(path) || path === '/') return { path, bytes: new Uint8Array(0), dev: [0, 1], ino: 1, mode: S_IFDIR | 0o755 };
    return 'ENOENT';
  };
}
