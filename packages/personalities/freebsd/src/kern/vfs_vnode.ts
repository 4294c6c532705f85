/**
 * Vnodes over the machine's file system (sys/kern/vfs_subr.c, vfs_lookup.c namei, vfs_vnops.c,
 * sys/vm/vnode_pager.c): one vnode per file (device and inode number), with its size, its bytes,
 * and at most one VM object (v_object, OBJT_VNODE) that every mapping and read(2)/write(2) share
 * — FreeBSD's unified buffer cache: a page a process stores into through a MAP_SHARED mapping is
 * what read(2) returns, and a write(2) changes the page every mapping sees.
 *
 * Writes never reach the host: the file system's bytes are copied into the vnode at its first
 * write (a copy-on-write overlay), files created by open(O_CREAT) live only in the overlay, and
 * what was written stays visible to later opens of the same path for the life of the machine.
 *
 * The name space is the file system's under an overlay (a union mount's upper layer): names created,
 * renamed or written live in `overlay` by path, names removed from the file system are hidden by a
 * whiteout, a directory made here is opaque (nothing of the file system shows through it), and a
 * directory of the file system renamed here keeps looking its children up under its old path
 * (`lower`). The file system's bytes and names are never changed.
 *
 * Simplifications (documented in the README): files from the file system are owned by root (uid 0, gid 0) and created files by their creator; a vnode is
 * recycled as soon as nothing uses it (no open file, no mapping) — FreeBSD keeps it, and its
 * cached pages, on the free vnode list until vnlru reclaims it — and its object's pages are
 * written back into the vnode first (vm_object_terminate → vm_object_page_clean); truncating a
 * file keeps its object's size (pages past the new end read as zeros instead of being removed).
 */
import { MAX_FILE_BYTES, S_IFDIR, S_IFMT, type FileLookupError, type FsFile } from '@polykernel/kernel';
import { FRAME_SIZE } from '@polykernel/mmu';
import type { VmObject } from '@polykernel/vm';
import type { FreebsdKernel, FreebsdMachine } from '../machine.js';
import { MAP_ENTRY_VN_EXEC } from '../param.js';

/** sys/sys/vnode.h enum vtype, the ones this model has. */
export type VType = 'VREG' | 'VDIR' | 'VCHR' | 'VFIFO';

export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;
export const S_IFREG = 0o100000;

/** The character devices every FreeBSD system has (sys/dev/null/null.c: null, zero). */
const DEVICES: Readonly<Record<string, { name: 'zero' | 'null'; rdev: number; ino: number }>> = {
  // devfs numbers: the values `stat -f '%r %i' /dev/null /dev/zero` shows on a 14.x system vary by
  // boot order; these are this model's own.
  '/dev/null': { name: 'null', rdev: 0x1e, ino: 30 },
  '/dev/zero': { name: 'zero', rdev: 0x1f, ino: 31 },
};
/** devfs's device number, this model's own value. */
const DEVFS_DEV: [number, number] = [0, 0x3c];
/** The overlay's device number (files created by open(O_CREAT)); this model's own. */
const OVERLAY_DEV: [number, number] = [0, 0x5e];

export interface Vnode {
  readonly type: VType;
  /** The path it was first found by (f_path; kinfo_vmentry's kve_path). */
  path: string;
  readonly dev: [number, number];
  readonly ino: number;
  /** st_mode permission bits and type. */
  mode: number;
  readonly uid: number;
  readonly gid: number;
  /** The file's contents; shared with the file system until `owned`. */
  bytes: Uint8Array;
  /** The file's size (bytes may be longer once owned: room to grow). */
  size: number;
  /** The bytes are the overlay's own copy: writes may go into them. */
  owned: boolean;
  /** A file too large to simulate: its real size (only its head was read). */
  readonly partial: number | null;
  /** devfs devices. */
  readonly device: 'zero' | 'null' | null;
  readonly rdev: number;
  /** v_object: the OBJT_VNODE object, holding one reference of its own while set. */
  object: VmObject | null;
  /** Open files (struct file) and working directories on it (the users of v_usecount here). */
  opens: number;
  /** v_writecount: open files that may write it (exec_check_permissions: ETXTBSY). */
  writers: number;
  /** st_nlink: 0 once its name is removed (the vnode lives on while it is open or mapped). */
  nlink: number;
  /**
   * A directory's children in the file system are looked up under this path (its own path, or the
   * one it had before a rename); null for a directory made here (opaque) and for other files.
   */
  lower: string | null;
}

interface Vfs {
  /** Every live vnode by "major:minor:ino". */
  readonly vnodes: Map<string, Vnode>;
  /** The overlay: names created, renamed or written, by path (they outlive their vnode's users). */
  readonly overlay: Map<string, Vnode>;
  /** Names of the file system removed or renamed away (the name and everything under it are gone). */
  readonly whiteouts: Set<string>;
  nextIno: number;
  /** Vnodes holding an object (v_object set): munmap has nothing to recycle while there are none. */
  objects: number;
  /** pipe_ino's counter (per machine: the simulation is deterministic). */
  nextPipeIno: number;
}

const VFS = new WeakMap<FreebsdMachine, Vfs>();
/** Objects a vnode holds its own reference on (v_object). */
const HELD = new WeakSet<VmObject>();
/** The vnode of each object made by vnodeObject (the object's handle). */
const HANDLE = new WeakMap<VmObject, Vnode>();

/**
 * The references to `o` FreeBSD would count: its vnode's own reference is this model's way of
 * keeping v_object while the vnode lives (FreeBSD's vnode holds none), so views leave it out.
 */
export function visibleRefCount(o: VmObject): number {
  return o.refCount - (HELD.has(o) && !o.dead ? 1 : 0);
}

export function vfsOf(m: FreebsdMachine): Vfs {
  let v = VFS.get(m);
  if (v === undefined) {
    v = { vnodes: new Map(), overlay: new Map(), whiteouts: new Set(), nextIno: 2, objects: 0, nextPipeIno: 1 };
    VFS.set(m, v);
  }
  return v;
}

function keyOf(dev: readonly [number, number], ino: number): string {
  return `${dev[0]}:${dev[1]}:${ino}`;
}

function typeOf(mode: number): VType {
  switch (mode & S_IFMT) {
    case S_IFDIR: return 'VDIR';
    case S_IFCHR: return 'VCHR';
    case S_IFIFO: return 'VFIFO';
    default: return 'VREG';
  }
}

function fromFile(f: FsFile, path: string, lower: string): Vnode {
  const type = typeOf(f.mode);
  return {
    type, path, dev: f.dev, ino: f.ino, mode: f.mode, uid: 0, gid: 0, bytes: f.bytes,
    size: f.partial?.size ?? f.bytes.length, owned: false, partial: f.partial?.size ?? null, device: null, rdev: 0, object: null, opens: 0,
    // A directory has at least its name and its "." (st_nlink 2; its subdirectories' ".." are not counted here).
    writers: 0, nlink: type === 'VDIR' ? 2 : 1, lower: type === 'VDIR' ? lower : null,
  };
}

function deviceVnode(path: string, d: { name: 'zero' | 'null'; rdev: number; ino: number }): Vnode {
  return {
    type: 'VCHR', path, dev: DEVFS_DEV, ino: d.ino, mode: S_IFCHR | 0o666, uid: 0, gid: 0, bytes: new Uint8Array(0),
    size: 0, owned: false, partial: null, device: d.name, rdev: d.rdev, object: null, opens: 0, writers: 0, nlink: 1, lower: null,
  };
}

/** devfs's root directory (dr-xr-xr-x root:wheel), the root of its own mount. */
function devfsRoot(vfs: Vfs): Vnode {
  let v = vfs.vnodes.get('devfs:root');
  if (v === undefined) {
    v = {
      type: 'VDIR', path: '/dev', dev: DEVFS_DEV, ino: 2, mode: S_IFDIR | 0o555, uid: 0, gid: 0, bytes: new Uint8Array(0), size: 512, owned: false,
      partial: null, device: null, rdev: 0, object: null, opens: 0, writers: 0, nlink: 3, lower: null,
    };
    vfs.vnodes.set('devfs:root', v);
  }
  return v;
}

/** A vnode of the devfs mount (rename across mounts is EXDEV; devfs makes no files or directories). */
export function isDevfs(v: Vnode): boolean {
  return v.dev[0] === DEVFS_DEV[0] && v.dev[1] === DEVFS_DEV[1];
}

/**
 * VOP_LOOKUP of one name, given as its canonical absolute path whose parent is a directory (the
 * walk in vfs_lookup.ts checked that): the overlay's name, a whiteout (ENOENT), else the file
 * system's file under the deepest overlay directory above it — nothing under a directory made
 * here, the old path's children under a renamed one — as the one live vnode of that file (vget of
 * an existing vnode, or a new one).
 */
export function lookupName(m: FreebsdMachine, path: string): Vnode | FileLookupError {
  const vfs = vfsOf(m);
  const over = vfs.overlay.get(path);
  if (over !== undefined) return over;
  if (vfs.whiteouts.has(path)) return 'ENOENT';
  let lower = path;
  for (let d = dirname(path); d !== '/'; d = dirname(d)) {
    const u = vfs.overlay.get(d);
    if (u !== undefined) {
      if (u.lower === null) return 'ENOENT';
      lower = u.lower + path.slice(d.length);
      break;
    }
  }
  // devfs is mounted on /dev: its root and its devices cover whatever the file system has there.
  if (lower === '/dev') return devfsRoot(vfs);
  if (dirname(lower) === '/dev') {
    const dev = DEVICES[lower];
    if (dev === undefined) return 'ENOENT';
    const key = `devfs:${dev.ino}`;
    let v = vfs.vnodes.get(key);
    if (v === undefined) {
      v = deviceVnode(lower, dev);
      vfs.vnodes.set(key, v);
    }
    return v;
  }
  // The root always exists (vfs_mountroot): a file system that has no "/" (a sysroot that is not
  // there) is an empty one, not a machine without a root.
  const found = m.fs(lower);
  const f = typeof found === 'string' && lower === '/' ? EMPTY_ROOT : found;
  if (typeof f === 'string') return f;
  // A directory is known by its path (a memory file system gives every directory inode 1).
  const key = typeOf(f.mode) === 'VDIR' ? `dir:${lower}` : keyOf(f.dev, f.ino);
  let v = vfs.vnodes.get(key);
  if (v === undefined) {
    v = fromFile(f, lower === path ? f.path : path, lower);
    vfs.vnodes.set(key, v);
  }
  return v;
}

const EMPTY_ROOT: FsFile = { path: '/', bytes: new Uint8Array(0), dev: [0, 1], ino: 1, mode: S_IFDIR | 0o755 };

/** The directory part of an absolute path ("/" for "/x"). */
export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** VOP_CREATE in the overlay: a new empty regular file owned by the creator. */
export function createFile(m: FreebsdMachine, path: string, mode: number, uid: number, gid: number): Vnode {
  return createNode(m, path, 'VREG', S_IFREG | (mode & 0o7777), uid, gid);
}

/** VOP_MKDIR in the overlay: a new, empty and opaque directory owned by its creator. */
export function createDir(m: FreebsdMachine, path: string, mode: number, uid: number, gid: number): Vnode {
  return createNode(m, path, 'VDIR', S_IFDIR | (mode & 0o7777), uid, gid);
}

function createNode(m: FreebsdMachine, path: string, type: 'VREG' | 'VDIR', mode: number, uid: number, gid: number): Vnode {
  const vfs = vfsOf(m);
  const v: Vnode = {
    type, path, dev: OVERLAY_DEV, ino: vfs.nextIno++, mode, uid, gid, bytes: new Uint8Array(0), size: 0,
    owned: true, partial: null, device: null, rdev: 0, object: null, opens: 0, writers: 0, nlink: type === 'VDIR' ? 2 : 1, lower: null,
  };
  vfs.whiteouts.delete(path);
  vfs.overlay.set(path, v);
  vfs.vnodes.set(keyOf(v.dev, v.ino), v);
  return v;
}

/**
 * Whether a directory has no entries (ufs_dirempty). A directory of the file system counts as not
 * empty: the file system's lookup cannot list a directory (README: not modelled).
 */
export function dirEmpty(m: FreebsdMachine, v: Vnode, path: string): boolean {
  if (v.lower !== null) return false;
  const prefix = `${path}/`;
  for (const name of vfsOf(m).overlay.keys()) if (name.startsWith(prefix)) return false;
  return true;
}

/** Is `name` the path itself or under it? */
function under(name: string, path: string): boolean {
  return name === path || name.startsWith(`${path}/`);
}

/**
 * ufs_remove / ufs_rmdir in the overlay: the name goes (a whiteout hides the file system's), the
 * vnode's link count drops to 0 and it lives on while open or mapped (vnodeRecycle frees it).
 */
export function removeName(k: FreebsdKernel, path: string, v: Vnode): void {
  const vfs = vfsOf(k.state);
  if (vfs.overlay.get(path) === v) vfs.overlay.delete(path);
  vfs.whiteouts.add(path);
  v.nlink = 0;
  vnodeRecycle(k);
}

/**
 * ufs_rename in the overlay: the target's old vnode (if any) is unlinked, every name under `from`
 * moves under `to` (overlay entries, whiteouts and live vnodes' paths), and `from` is hidden.
 */
export function renameName(k: FreebsdKernel, from: string, to: string, fv: Vnode, tv: Vnode | null): void {
  const vfs = vfsOf(k.state);
  if (tv !== null && tv !== fv) {
    tv.nlink = 0;
    if (vfs.overlay.get(to) === tv) vfs.overlay.delete(to);
  }
  for (const name of [...vfs.overlay.keys()]) if (name.startsWith(`${to}/`)) vfs.overlay.delete(name);
  for (const name of [...vfs.whiteouts]) if (under(name, to)) vfs.whiteouts.delete(name);
  const moved: [string, Vnode][] = [];
  for (const [name, v] of vfs.overlay) if (under(name, from)) moved.push([name, v]);
  for (const [name] of moved) vfs.overlay.delete(name);
  for (const [name, v] of moved) {
    v.path = to + name.slice(from.length);
    vfs.overlay.set(v.path, v);
  }
  for (const name of [...vfs.whiteouts]) {
    if (!name.startsWith(`${from}/`)) continue;
    vfs.whiteouts.delete(name);
    vfs.whiteouts.add(to + name.slice(from.length));
  }
  vfs.overlay.set(to, fv);
  vfs.whiteouts.add(from);
  const movedNodes = new Set(moved.map(([, v]) => v));
  for (const v of vfs.vnodes.values()) if (!movedNodes.has(v) && under(v.path, from)) v.path = to + v.path.slice(from.length);
  fv.path = to;
  vnodeRecycle(k);
}

/**
 * vaccess (sys/kern/vfs_subr.c): root passes read and write checks, and exec where an execute bit
 * is set (or on a directory); otherwise the owner, group or
 * other bits for the caller's effective ids decide.
 */
export function vaccess(v: Vnode, euid: number, egid: number, read: boolean, write: boolean, exec = false): boolean {
  // Root may read and write anything, search any directory, and run a file with an execute bit.
  if (euid === 0) return !exec || v.type === 'VDIR' || (v.mode & 0o111) !== 0;
  const shift = euid === v.uid ? 6 : egid === v.gid ? 3 : 0;
  const bits = Math.floor((v.mode & 0o777) / 2 ** shift) & 7;
  return (!read || (bits & 4) !== 0) && (!write || (bits & 2) !== 0) && (!exec || (bits & 1) !== 0);
}

/** Make the vnode's bytes the overlay's own, with room for `capacity` bytes; the file is now kept by path. */
function own(m: FreebsdMachine, v: Vnode, capacity: number): void {
  if (v.owned && v.bytes.length >= capacity) return;
  const bytes = new Uint8Array(Math.max(capacity, v.owned ? v.bytes.length * 2 : v.size));
  bytes.set(v.bytes.subarray(0, Math.min(v.size, v.bytes.length)));
  v.bytes = bytes;
  v.owned = true;
  // The pager reads and writes back through the object's reference to the file's bytes.
  if (v.object !== null) v.object.file = bytes;
  // An unlinked file's bytes are its own, under no name.
  if (v.nlink > 0) vfsOf(m).overlay.set(v.path, v);
}

/**
 * vnode_pager_alloc: the vnode's object, made at the first mapping (sized to the file, at least a
 * page, as vnode_create_vobject rounds it) and referenced for the caller. The vnode holds a
 * reference of its own for as long as it keeps the object.
 */
export function vnodeObject(k: FreebsdKernel, v: Vnode): VmObject {
  // The pager reads the file through the object's `file`; a write that grows or first copies the
  // file points it at the new bytes (own).
  if (v.object === null) {
    v.object = k.vm.createObject('vnode', Math.max(1, Math.ceil(v.size / FRAME_SIZE)), v.bytes, v.path);
    vfsOf(k.state).objects++;
    HANDLE.set(v.object, v);
  }
  const o = v.object;
  HELD.add(o);
  k.vm.reference(o);
  return o;
}

/**
 * VOP_IS_TEXT (sys/sys/vnode.h: v_writecount < 0): the vnode is some process's running program or
 * interpreter. FreeBSD counts it: exec maps every file-backed PT_LOAD segment with MAP_VN_EXEC
 * (imgact_elf.c __elfN(map_insert)), vm_map_insert gives the entry MAP_ENTRY_VN_EXEC and
 * vm_map_entry_set_vnode_text(entry, true) takes one text reference on the vnode found at the
 * bottom of the entry's object chain (VOP_SET_TEXT: v_writecount--); clipping and fork take one
 * for each new entry, and deleting an entry (munmap, exit, the old vmspace at exec) gives it back
 * (VOP_UNSET_TEXT). Here the count is not kept: it is the number of such entries, found when
 * asked — a write open or O_TRUNC is rare and the answer is the same.
 */
export function vnodeIsText(k: FreebsdKernel, v: Vnode): boolean {
  const o = v.object;
  // No object: nothing maps the file at all.
  if (o === null) return false;
  for (const p of k.processes.values()) {
    if (p.state !== 'running') continue;
    for (const e of p.space.map.entries()) {
      if ((e.eflags & MAP_ENTRY_VN_EXEC) === 0 || e.object === null) continue;
      let bottom = e.object;
      while (bottom.backing !== null) bottom = bottom.backing;
      if (bottom === o) return true;
    }
  }
  return false;
}

/**
 * vn_fullpath of an OBJT_VNODE object's vnode (object->handle), as kern_proc_vmmap_out fills
 * kve_path: its current name, or "" when it has none — an unlinked regular file has no name-cache
 * entry left and vop_stdvptocnp answers ENOENT for anything but a directory, so the path stays
 * empty. An object made without a vnode (an image the overlay cannot name) keeps its own name.
 */
export function vnodeObjectPath(o: VmObject): string {
  const v = HANDLE.get(o);
  if (v === undefined) return o.name;
  return v.nlink === 0 ? '' : v.path;
}

/** vnode_pager_setsize for a growing file: the object covers the new last page. */
function growObject(v: Vnode): void {
  const o = v.object;
  if (o !== null) o.size = Math.max(o.size, Math.ceil(v.size / FRAME_SIZE));
}

/**
 * VOP_READ through the buffer cache: bytes [off, off + len) of the file as every mapping sees
 * them — a page resident in the vnode's object is read from its frame (a MAP_SHARED store is
 * there, not yet in the bytes), the rest from the bytes.
 */
export function vnodeRead(k: FreebsdKernel, v: Vnode, off: number, len: number): Uint8Array {
  const n = Math.max(0, Math.min(len, v.size - off));
  const out = new Uint8Array(n);
  const o = v.object;
  const frames = k.mmu.frames;
  for (let done = 0; done < n;) {
    const at = off + done;
    const pindex = Math.floor(at / FRAME_SIZE);
    const inPage = at - pindex * FRAME_SIZE;
    const chunk = Math.min(FRAME_SIZE - inPage, n - done);
    const frame = o !== null && frames.contentsEnabled ? o.pages.get(pindex) : undefined;
    if (frame !== undefined) out.set(frames.read(frame * FRAME_SIZE + inPage, chunk), done);
    else out.set(v.bytes.subarray(at, Math.min(at + chunk, v.bytes.length)), done);
    done += chunk;
  }
  return out;
}

/** The error of a write that would make the file larger than the simulation holds (EFBIG). */
export function tooLarge(end: number): boolean {
  return end > MAX_FILE_BYTES;
}

/** VOP_WRITE: into the overlay's copy and every resident page of the object (write(2) and mappings agree). */
export function vnodeWrite(k: FreebsdKernel, v: Vnode, off: number, data: Uint8Array): void {
  const end = off + data.length;
  own(k.state, v, end);
  v.bytes.set(data, off);
  if (end > v.size) {
    v.size = end;
    growObject(v);
  }
  const o = v.object;
  const frames = k.mmu.frames;
  if (o === null || !frames.contentsEnabled) return;
  for (let done = 0; done < data.length;) {
    const at = off + done;
    const pindex = Math.floor(at / FRAME_SIZE);
    const inPage = at - pindex * FRAME_SIZE;
    const chunk = Math.min(FRAME_SIZE - inPage, data.length - done);
    const frame = o.pages.get(pindex);
    if (frame !== undefined) frames.write(frame * FRAME_SIZE + inPage, data.subarray(done, done + chunk));
    done += chunk;
  }
}

/** VOP_SETATTR(va_size): O_TRUNC and ftruncate. Pages past the new end are zeroed (see the header). */
export function vnodeTruncate(k: FreebsdKernel, v: Vnode, size: number): void {
  if (size === v.size) return;
  const old = v.size;
  own(k.state, v, size);
  if (size < old) {
    v.bytes.fill(0, size, Math.min(old, v.bytes.length));
    const o = v.object;
    const frames = k.mmu.frames;
    if (o !== null && frames.contentsEnabled) {
      for (let p = Math.floor(size / FRAME_SIZE); p * FRAME_SIZE < old; p++) {
        const frame = o.pages.get(p);
        if (frame === undefined) continue;
        const from = Math.max(size - p * FRAME_SIZE, 0);
        frames.write(frame * FRAME_SIZE + from, new Uint8Array(FRAME_SIZE - from));
      }
    }
  }
  v.size = size;
  growObject(v);
}

/**
 * vrele → vinactive → vnode_destroy_vobject, when nothing uses the vnode any more (no open file,
 * and no reference to its object but its own): the object's pages are cleaned into the vnode's
 * bytes (when a mapping may have changed them) and the object is freed; an unwritten vnode is
 * forgotten (the next lookup makes a new one), an overlay file keeps its bytes by path.
 */
export function vnodeRecycle(k: FreebsdKernel): void {
  const vfs = vfsOf(k.state);
  for (const [key, v] of vfs.vnodes) {
    if (v.opens > 0) continue;
    const o = v.object;
    if (o !== null) {
      if (o.refCount > 1) continue;
      if (v.owned) clean(k, v, o);
      v.object = null;
      vfs.objects--;
      HELD.delete(o);
      k.vm.deallocate(o);
    }
    // An unwritten file is found again through the file system, an unlinked one never.
    if (!v.owned || v.nlink === 0) vfs.vnodes.delete(key);
  }
}

/** vnodeRecycle after a munmap, when some vnode holds an object (the mapping may have been its last use). */
export function vnodeRecycleAfterUnmap(k: FreebsdKernel): void {
  if (vfsOf(k.state).objects > 0) vnodeRecycle(k);
}

/** vm_object_page_clean: resident pages back into the file's bytes. */
function clean(k: FreebsdKernel, v: Vnode, o: VmObject): void {
  const frames = k.mmu.frames;
  if (!frames.contentsEnabled) return;
  for (const [pindex, frame] of o.pages) {
    const start = pindex * FRAME_SIZE;
    const n = Math.min(FRAME_SIZE, v.size - start);
    if (n > 0) v.bytes.set(frames.read(frame * FRAME_SIZE, n), start);
  }
}

/**
 * A private copy of the vnode's bytes for a writable shared mapping: the pager writes dirty pages
 * back through the object's `file`, which must never be the file system's own array.
 */
export function ownForSharedWrite(k: FreebsdKernel, v: Vnode): void {
  own(k.state, v, v.size);
}

/**
 * Live vnodes and their objects (the leak checks: no object once every process is gone), the
 * overlay's names, and `orphans`: vnodes kept that no name reaches (an unlinked file nothing uses
 * any more must be gone).
 */
export function vnodeCounts(m: FreebsdMachine): { vnodes: number; objects: number; overlay: number; orphans: number } {
  const vfs = vfsOf(m);
  let objects = 0;
  let orphans = 0;
  const named = new Set(vfs.overlay.values());
  for (const v of vfs.vnodes.values()) {
    if (v.object !== null) objects++;
    if (v.owned && !named.has(v) && v.opens === 0) orphans++;
  }
  return { vnodes: vfs.vnodes.size, objects, overlay: vfs.overlay.size, orphans };
}
