/**
 * sys/kern/vfs_lookup.c namei → vfs_lookup, component by component from the start directory (the
 * root for an absolute path, else the working directory or the directory descriptor's vnode),
 * with FreeBSD 14's checks in their order:
 *
 * - a path of slashes only is the start directory itself (vfs_lookup_degenerate): ENOTDIR when
 *   that is not a directory, EISDIR for CREATE, DELETE and RENAME;
 * - trailing slashes are dropped and remembered (TRAILINGSLASH);
 * - per component: longer than NAME_MAX (255) is ENAMETOOLONG; "." as the last component of a
 *   DELETE or RENAME is EINVAL, and so is ".."; ".." at the root stays at the root;
 * - VOP_LOOKUP in the directory: ENOTDIR when it is not one, EACCES without search (VEXEC)
 *   permission; a missing name is ENOENT, except as the last component of a CREATE or RENAME,
 *   which needs the directory not removed (ENOENT) and writable (EACCES) and no trailing slash unless the new name will be
 *   a directory (ENOENT); a found last component of a DELETE or RENAME needs the directory
 *   writable (EACCES) and, in a sticky directory, the caller to own the file or the directory
 *   (EPERM), as ufs_lookup_ino checks;
 * - a trailing slash after a name that is not a directory is ENOTDIR.
 *
 * Paths are canonical here: a directory's path is where it is now (renames move it), and ".." is
 * its path's parent. The overlay has no symbolic links; the file system's are resolved by its own
 * lookup, and a directory reached through one is known by its resolved path, so ".." after it goes
 * to the target's parent, as FreeBSD's physical ".." does.
 */
import type { FreebsdMachine } from '../machine.js';
import { dirname, lookupName, vaccess, type Vnode } from './vfs_vnode.js';

/** sys/sys/syslimits.h NAME_MAX. */
export const NAME_MAX = 255;

/** cn_nameiop. */
export type NameiOp = 'LOOKUP' | 'CREATE' | 'DELETE' | 'RENAME';

export interface Cred {
  readonly euid: number;
  readonly egid: number;
}

export interface Nameidata {
  /** ni_dvp: the directory the last name is in (the start directory for a degenerate path). */
  readonly dvp: Vnode;
  /** ni_vp: the vnode found, or null (a CREATE or RENAME whose name does not exist yet). */
  readonly vp: Vnode | null;
  /** The last name's canonical path. */
  readonly path: string;
}

/** The root directory's vnode (rootvnode). */
export function rootVnode(m: FreebsdMachine): Vnode {
  const v = lookupName(m, '/');
  if (typeof v === 'string') throw new Error(`the file system has no root directory (${v})`);
  return v;
}

function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** namei from `start` (a directory vnode) for `path` (not empty: the callers return ENOENT first). */
export function namei(m: FreebsdMachine, cred: Cred, start: Vnode, path: string, op: NameiOp, willBeDir = false): Nameidata | { error: string } {
  let dp = path.startsWith('/') ? rootVnode(m) : start;
  const names = path.split('/').filter((c) => c !== '');
  if (names.length === 0) {
    if (dp.type !== 'VDIR') return { error: 'ENOTDIR' };
    if (op !== 'LOOKUP') return { error: 'EISDIR' };
    return { dvp: dp, vp: dp, path: dp.path };
  }
  const trailingSlash = path.endsWith('/');
  for (let i = 0; i < names.length; i++) {
    const c = names[i]!;
    const last = i === names.length - 1;
    if (c.length > NAME_MAX) return { error: 'ENAMETOOLONG' };
    if (last && (c === '.' || c === '..') && (op === 'DELETE' || op === 'RENAME')) return { error: 'EINVAL' };
    if (dp.type !== 'VDIR') return { error: 'ENOTDIR' };
    if (!vaccess(dp, cred.euid, cred.egid, false, false, true)) return { error: 'EACCES' };
    const name = c === '.' ? dp.path : c === '..' ? dirname(dp.path) : join(dp.path, c);
    // A removed directory has no entries left (its "." still names it).
    const found = c === '.' ? dp : dp.nlink === 0 ? 'ENOENT' : lookupName(m, name);
    if (typeof found === 'string') {
      // ufs_lookup_ino: a name may be made only in a directory that has not been removed.
      if (found !== 'ENOENT' || !last || (op !== 'CREATE' && op !== 'RENAME') || dp.nlink === 0) return { error: found };
      if (!vaccess(dp, cred.euid, cred.egid, false, true)) return { error: 'EACCES' };
      if (trailingSlash && !willBeDir) return { error: 'ENOENT' };
      return { dvp: dp, vp: null, path: name };
    }
    if (last) {
      if (op === 'DELETE' || op === 'RENAME') {
        if (!vaccess(dp, cred.euid, cred.egid, false, true)) return { error: 'EACCES' };
        if (sticky(dp, found, cred)) return { error: 'EPERM' };
      }
      if (trailingSlash && found.type !== 'VDIR') return { error: 'ENOTDIR' };
      return { dvp: dp, vp: found, path: found === dp ? dp.path : name };
    }
    dp = found;
  }
  throw new Error('unreachable: namei walked no name');
}

/** ufs_lookup_ino's sticky-directory rule: only root, the directory's owner or the file's may remove it. */
function sticky(dp: Vnode, vp: Vnode, cred: Cred): boolean {
  return (dp.mode & 0o1000) !== 0 && cred.euid !== 0 && cred.euid !== dp.uid && cred.euid !== vp.uid;
}

/** namei of an absolute path as root, for the kernel's own lookups (the image activator's interpreter). */
export function nameiRoot(m: FreebsdMachine, path: string): Vnode | string {
  if (path === '') return 'ENOENT';
  const r = namei(m, { euid: 0, egid: 0 }, rootVnode(m), path, 'LOOKUP');
  return 'error' in r ? r.error : r.vp!;
}
