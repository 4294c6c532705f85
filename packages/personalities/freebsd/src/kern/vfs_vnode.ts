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
 * Simplifications (documented in the README): the working directory is always `/`; files from the
 * file system are owned by root (uid 0, gid 0) and created files by their creator; a vnode is
 * recycled as soon as nothing uses it (no open file, no mapping) — FreeBSD keeps it, and its
 * cached pages, on the free vnode list until vnlru reclaims it — and its object's pages are
 * written back into the vnode first (vm_object_terminate → vm_object_page_clean); truncating a
 * file keeps its object's size (pages past the new end read as zeros instead of being removed).
 */
import { MAX_FILE_BYTES, S_IFDIR, S_IFMT, type FileLookupError, type FsFile } from '@polykernel/kernel';
import { FRAME_SIZE } from '@polykernel/mmu';
import type { VmObject } from '@polykernel/vm';
import type { FreebsdKernel, FreebsdMachine } from '../machine.js';

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
  /** Open files (struct file) on it. */
  opens: number;
}

interface Vfs {
  /** Every live vnode by "major:minor:ino". */
  readonly vnodes: Map<string, Vnode>;
  /** The overlay: files created or written, by path (they outlive their vnode's users). */
  readonly overlay: Map<string, Vnode>;
  nextIno: number;
  /** pipe_ino's counter (per machine: the simulation is deterministic). */
  nextPipeIno: number;
}

const VFS = new WeakMap<FreebsdMachine, Vfs>();
/** Objects a vnode holds its own reference on (v_object). */
const HELD = new WeakSet<VmObject>();

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
    v = { vnodes: new Map(), overlay: new Map(), nextIno: 2, nextPipeIno: 1 };
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

function fromFile(f: FsFile): Vnode {
  return {
    type: typeOf(f.mode), path: f.path, dev: f.dev, ino: f.ino, mode: f.mode, uid: 0, gid: 0, bytes: f.bytes,
    size: f.partial?.size ?? f.bytes.length, owned: false, partial: f.partial?.size ?? null, device: null, rdev: 0, object: null, opens: 0,
  };
}

function deviceVnode(path: string, d: { name: 'zero' | 'null'; rdev: number; ino: number }): Vnode {
  return {
    type: 'VCHR', path, dev: DEVFS_DEV, ino: d.ino, mode: S_IFCHR | 0o666, uid: 0, gid: 0, bytes: new Uint8Array(0),
    size: 0, owned: false, partial: null, device: d.name, rdev: d.rdev, object: null, opens: 0,
  };
}

/**
 * namei for a path that has been made absolute: the overlay's file, a devfs device, else the file
 * system's — as the one live vnode of that file (vget of an existing vnode, or a new one).
 */
export function namei(m: FreebsdMachine, path: string): Vnode | FileLookupError {
  const vfs = vfsOf(m);
  const over = vfs.overlay.get(path);
  if (over !== undefined) return over;
  const dev = DEVICES[path];
  if (dev !== undefined) {
    const key = `devfs:${dev.ino}`;
    let v = vfs.vnodes.get(key);
    if (v === undefined) {
      v = deviceVnode(path, dev);
      vfs.vnodes.set(key, v);
    }
    return v;
  }
  const f = m.fs(path);
  if (typeof f === 'string') return f;
  const key = keyOf(f.dev, f.ino);
  let v = vfs.vnodes.get(key);
  if (v === undefined) {
    v = fromFile(f);
    vfs.vnodes.set(key, v);
  }
  return v;
}

/** The directory part of an absolute path ("/" for "/x"). */
export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** VOP_CREATE in the overlay: a new empty regular file owned by the creator. */
export function createFile(m: FreebsdMachine, path: string, mode: number, uid: number, gid: number): Vnode {
  const vfs = vfsOf(m);
  const v: Vnode = {
    type: 'VREG', path, dev: OVERLAY_DEV, ino: vfs.nextIno++, mode: S_IFREG | (mode & 0o7777), uid, gid, bytes: new Uint8Array(0), size: 0,
    owned: true, partial: null, device: null, rdev: 0, object: null, opens: 0,
  };
  vfs.overlay.set(path, v);
  vfs.vnodes.set(keyOf(v.dev, v.ino), v);
  return v;
}

/**
 * vaccess (sys/kern/vfs_subr.c): root passes read and write checks; otherwise the owner, group or
 * other bits for the caller's effective ids decide.
 */
export function vaccess(v: Vnode, euid: number, egid: number, read: boolean, write: boolean): boolean {
  if (euid === 0) return true;
  const shift = euid === v.uid ? 6 : egid === v.gid ? 3 : 0;
  const bits = Math.floor((v.mode & 0o777) / 2 ** shift) & 7;
  return (!read || (bits & 4) !== 0) && (!write || (bits & 2) !== 0);
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
  vfsOf(m).overlay.set(v.path, v);
}

/**
 * vnode_pager_alloc: the vnode's object, made at the first mapping (sized to the file, at least a
 * page, as vnode_create_vobject rounds it) and referenced for the caller. The vnode holds a
 * reference of its own for as long as it keeps the object.
 */
export function vnodeObject(k: FreebsdKernel, v: Vnode): VmObject {
  // The pager reads the file through the object's `file`; a write that grows or first copies the
  // file points it at the new bytes (own).
  const o = (v.object ??= k.vm.createObject('vnode', Math.max(1, Math.ceil(v.size / FRAME_SIZE)), v.bytes, v.path));
  HELD.add(o);
  k.vm.reference(o);
  return o;
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
      HELD.delete(o);
      k.vm.deallocate(o);
    }
    if (!v.owned) vfs.vnodes.delete(key);
  }
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

/** Live vnodes and their objects (the leak checks: none once every process is gone). */
export function vnodeCounts(m: FreebsdMachine): { vnodes: number; objects: number; overlay: number } {
  const vfs = vfsOf(m);
  let objects = 0;
  for (const v of vfs.vnodes.values()) if (v.object !== null) objects++;
  return { vnodes: vfs.vnodes.size, objects, overlay: vfs.overlay.size };
}
