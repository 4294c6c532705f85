/**
 * The host's files as the simulated kernel's file system, rooted at a sysroot (default `/`).
 * Symbolic links are followed inside the sysroot (an absolute target restarts at the sysroot, as
 * under chroot), at most 40 of them (MAXSYMLINKS → ELOOP); the path a mapping shows is the
 * resolved one, as the kernel's d_path prints it. Device and inode numbers are the host's.
 */
import { closeSync, lstatSync, openSync, readFileSync, readlinkSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FILE_HEAD_BYTES, MAX_FILE_BYTES, type FileLookup, type FileLookupError, type FsFile } from '../files.js';

const MAXSYMLINKS = 40;

export type Resolved = { path: string } | { errno: FileLookupError };

/** Resolve `path` inside `root`: the resolved absolute path (relative to root), or the errno of the lookup. */
export function resolveIn(root: string, path: string): Resolved {
  if (path === '') return { errno: 'ENOENT' };
  let pending = path.split('/').filter((c) => c !== '' && c !== '.');
  const trailingSlash = /\/\.?$/.test(path) && pending.length > 0;
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const c = pending.shift()!;
    if (c === '..') {
      done.pop();
      continue;
    }
    const here = join(root, ...done, c);
    let st;
    try {
      st = lstatSync(here);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return { errno: code === 'EACCES' ? 'EACCES' : code === 'ENOTDIR' ? 'ENOTDIR' : 'ENOENT' };
    }
    if (st.isSymbolicLink()) {
      if (++links > MAXSYMLINKS) return { errno: 'ELOOP' };
      const target = readlinkSync(here);
      const parts = target.split('/').filter((x) => x !== '' && x !== '.');
      if (target.startsWith('/')) done.length = 0;
      pending = [...parts, ...pending];
      continue;
    }
    // "file/" names a directory: a trailing slash after a non-directory is ENOTDIR (link_path_walk).
    if ((pending.length > 0 || trailingSlash) && !st.isDirectory()) return { errno: 'ENOTDIR' };
    done.push(c);
  }
  return { path: '/' + done.join('/') };
}

/** new_encode_dev's inverse (include/linux/kdev_t.h): major in bits 8-19, minor in 0-7 and 20-31. */
function devNumbers(dev: bigint): [number, number] {
  return [Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)), Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn))];
}

/** The first FILE_HEAD_BYTES of a file (fewer if it is shorter). */
function readHead(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const head = new Uint8Array(FILE_HEAD_BYTES);
    return head.subarray(0, readSync(fd, head, 0, FILE_HEAD_BYTES, 0));
  } finally {
    closeSync(fd);
  }
}

export function sysrootLookup(sysroot = '/'): FileLookup {
  const cache = new Map<string, FsFile>();
  // A relative path starts at the working directory: the host's, when the sysroot is the host's /.
  const cwd = sysroot === '/' ? process.cwd() : '/';
  return (path) => {
    const r = resolveIn(sysroot, path.startsWith('/') ? path : `${cwd}/${path}`);
    if ('errno' in r) return r.errno;
    const resolved = r.path;
    const hit = cache.get(resolved);
    if (hit !== undefined) return hit;
    const real = join(sysroot, resolved);
    try {
      const st = statSync(real, { bigint: true });
      const f: FsFile = { path: resolved, bytes: new Uint8Array(0), dev: devNumbers(st.dev), ino: Number(st.ino), mode: Number(st.mode) };
      // Directories and other non-regular files are opened for their mode only (exec refuses them).
      if (st.isFile()) {
        if (st.size > BigInt(MAX_FILE_BYTES)) {
          // Too large to simulate (a 100 GB sparse file): its head only, for exec's checks.
          f.bytes = readHead(real);
          f.partial = { size: Number(st.size) };
        } else {
          // readFileSync's buffer is the file's own memory: viewed, not copied.
          const buf = readFileSync(real);
          f.bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
        }
      }
      cache.set(resolved, f);
      return f;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EACCES' ? 'EACCES' : 'ENOENT';
    }
  };
}
