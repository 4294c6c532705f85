/**
 * mm/filemap.c: the page cache — one per machine, each file's page index → frame, filled from the
 * file's bytes on first use (filemap_get_folio / __filemap_add_folio) — and filemap_fault, with
 * mm/memory.c's do_cow_fault for a private write. Files are found once per inode (fs/inode.c iget).
 */
import type { FaultResolution, OpenFile, Process } from '@polykernel/kernel';
import { NO_FRAME, PTE_DIRTY, PTE_WRITE } from '@polykernel/mmu';
import type { FsFile } from './exec.js';
import { PAGE_SIZE, VM_SHARED, VM_WRITE } from './flags.js';
import type { LinuxMachine, LinuxSpace } from './machine.js';
import { OOM, RESOLVED } from './memory.js';
import { allocPage } from './page_alloc.js';
import { PTE_FILE } from './pte.js';
import type { VmArea, VmFile } from './vma.js';

/** The VmFile of a file from the file system: one per dev:ino (iget5_locked), so one page cache per inode. */
export function execFileOf(m: LinuxMachine, f: FsFile): VmFile {
  const key = `${f.dev[0]}:${f.dev[1]}:${f.ino}`;
  let v = m.inodes.get(key);
  if (v === undefined) m.inodes.set(key, (v = { path: f.path, dev: f.dev, ino: f.ino, bytes: f.bytes }));
  return v;
}

/** The VmFile behind an open file (file->f_mapping): by inode, else one per byte array with a fresh inode number. */
export function vmFileOf(m: LinuxMachine, f: OpenFile): VmFile {
  // A file from the file system: one VmFile (one page cache) per inode, shared with exec's.
  if (f.dev !== undefined && f.ino !== undefined) return execFileOf(m, { path: f.path, bytes: f.bytes, dev: f.dev, ino: f.ino, mode: 0o100644 });
  let v = m.vmFiles.get(f.bytes);
  if (v === undefined) {
    v = { path: f.path, dev: [0, 0], ino: m.nextIno++, bytes: f.bytes };
    m.vmFiles.set(f.bytes, v);
  }
  return v;
}

/**
 * The page at `index` of a file's page cache (`caches`: the machine's page cache or its shmem
 * files' pages), created on first use: zeroed, then filled from `bytes` when given (content-less
 * machines keep no bytes, so it is only accounted for). The cache holds one reference of its own.
 * NO_FRAME when memory is out.
 */
export function cachedPage(m: LinuxMachine, caches: Map<VmFile, Map<number, number>>, file: VmFile, index: number, bytes?: Uint8Array): number {
  let cache = caches.get(file);
  if (cache === undefined) caches.set(file, (cache = new Map<number, number>()));
  let frame = cache.get(index);
  if (frame !== undefined) return frame;
  const frames = m.kernel.mmu.frames;
  frame = allocPage(m, true);
  if (frame === NO_FRAME) return NO_FRAME;
  if (bytes !== undefined && frames.contentsEnabled) frames.write(frame * PAGE_SIZE, bytes.subarray(index * PAGE_SIZE, Math.min(bytes.length, (index + 1) * PAGE_SIZE)));
  cache.set(index, frame);
  return frame;
}

/**
 * A regular file's page (filemap_fault): from the page cache; past the end of the file it is
 * SIGBUS. Shared areas map the cache page itself (a write there is the file's new content, seen
 * by every mapping); private areas map it read-only, and a private write copies it at once
 * (do_cow_fault), the copy being anonymous.
 */
export function fileFault(m: LinuxMachine, s: LinuxSpace, v: VmArea, page: number, base: number, write: boolean): FaultResolution {
  const k = m.kernel;
  const file = v.file!;
  const bytes = file.bytes!;
  const index = v.pgoff + (page - v.start) / PAGE_SIZE;
  if (index * PAGE_SIZE >= bytes.length) return { kind: 'signal', signal: 'SIGBUS', code: 'BUS_ADRERR' };
  const frame = cachedPage(m, m.pageCache, file, index, bytes);
  if (frame === NO_FRAME) return OOM;
  const frames = k.mmu.frames;
  const shared = (v.flags & VM_SHARED) !== 0;
  if (!shared && write) {
    // do_cow_fault: the copy is an anonymous page, so the area needs its anon_vma (anon_vma_prepare).
    s.mm.prepareAnon(v);
    const copy = allocPage(m, false);
    if (copy === NO_FRAME) return OOM;
    frames.copyFrame(frame, copy);
    s.pt.map(page, copy, PAGE_SIZE, base | PTE_WRITE);
    s.rss.anon++;
    k.metrics.faults.cow++;
    return RESOLVED.cow;
  }
  frames.ref(frame);
  s.pt.map(page, frame, PAGE_SIZE, base | PTE_FILE | (shared && (v.flags & VM_WRITE) !== 0 ? PTE_WRITE : 0));
  s.rss.file++;
  k.metrics.faults.file++;
  return RESOLVED.file;
}

/**
 * A file page's mapping goes (zap_present_folio_ptes, and exit_mmap through unmap_vmas): a dirty
 * PTE makes the cache page dirty (folio_mark_dirty), so reclaim will write it back. A private
 * file PTE maps the cache page read-only, so only a shared mapping's can be dirty. Without
 * hardware dirty bits (a software-managed TLB: the MMU does not record stores) every writable
 * PTE counts as dirty, as nothing tells a written page from one only read.
 */
export function unmapFilePage(m: LinuxMachine, frame: number, flags: number): void {
  if ((flags & PTE_FILE) === 0) return;
  const dirty = m.kernel.mmu.profile.hardwareAccessedDirty ? PTE_DIRTY : PTE_WRITE;
  if ((flags & dirty) !== 0) m.dirtyPages.add(frame);
}

/**
 * Whether the file's bytes are the machine's own, so that writeback may store into them: a file
 * in the copy-on-write overlay (created here, or a host file once opened for writing), or one
 * handed to a process by its creator (installFile, no inode). A host file found by path and never
 * opened for writing holds the host's bytes, which are never written.
 */
export function ownsBytes(m: LinuxMachine, f: VmFile): boolean {
  return m.overlay.get(f.path)?.file === f || m.inodes.get(`${f.dev[0]}:${f.dev[1]}:${f.ino}`) !== f;
}

// ---- read(), write(), ftruncate() and msync() through the page cache ----------------------------

/**
 * The file's bytes as this machine holds them, made its own on the first write (the copy-on-write
 * overlay: the host-backed file system is never written). `path` and `mode` name it in the overlay.
 */
export function ownFile(m: LinuxMachine, f: VmFile, mode: number): Uint8Array {
  const o = m.overlay.get(f.path);
  if (o?.file !== f) {
    f.bytes = (f.bytes ?? new Uint8Array(0)).slice();
    m.overlay.set(f.path, { file: f, mode });
  }
  return f.bytes!;
}

/** filemap_read: `n` bytes at `off` (fewer at the end of the file), from the cached pages where there are any. */
export function fileRead(m: LinuxMachine, f: VmFile, off: number, n: number): Uint8Array {
  const bytes = f.bytes ?? new Uint8Array(0);
  const len = Math.max(0, Math.min(n, bytes.length - off));
  const out = bytes.slice(off, off + len);
  const cache = m.pageCache.get(f);
  const frames = m.kernel.mmu.frames;
  if (cache === undefined || !frames.contentsEnabled) return out;
  for (let at = off; at < off + len;) {
    const index = Math.floor(at / PAGE_SIZE);
    const next = Math.min((index + 1) * PAGE_SIZE, off + len);
    const frame = cache.get(index);
    if (frame !== undefined) out.set(frames.read(frame * PAGE_SIZE + (at % PAGE_SIZE), next - at), at - off);
    at = next;
  }
  return out;
}

/** The file's size becomes `size`: bytes cut or zero-extended (a new array; the old one may be the host's). */
function resize(f: VmFile, size: number): void {
  const old = f.bytes ?? new Uint8Array(0);
  const b = new Uint8Array(size);
  b.set(old.subarray(0, Math.min(size, old.length)));
  f.bytes = b;
}

/** generic_perform_write: `data` at `off`, into the cached pages too (every mapping sees it), growing the file. */
export function fileWrite(m: LinuxMachine, f: VmFile, off: number, data: Uint8Array): void {
  if (off + data.length > (f.bytes?.length ?? 0)) resize(f, off + data.length);
  f.bytes!.set(data, off);
  const cache = m.pageCache.get(f);
  const frames = m.kernel.mmu.frames;
  if (cache === undefined || !frames.contentsEnabled) return;
  for (let at = off; at < off + data.length;) {
    const index = Math.floor(at / PAGE_SIZE);
    const next = Math.min((index + 1) * PAGE_SIZE, off + data.length);
    const frame = cache.get(index);
    if (frame !== undefined) frames.write(frame * PAGE_SIZE + (at % PAGE_SIZE), data.subarray(at - off, next - off));
    at = next;
  }
}

/**
 * filemap_write_and_wait_range for pages [from, to) of the file (msync, and before truncation):
 * what stores through shared mappings left in the cached pages goes to the file's bytes, which
 * must be the machine's own (ownsBytes; only a file opened for writing can be mapped shared and
 * writable). Simplified: a page still mapped has its dirty bit in the PTEs, which are not walked
 * here (page_mkclean), so every cached page of the range is written — a clean one holds the
 * file's bytes already — and counts as clean afterwards.
 */
export function fileWriteback(m: LinuxMachine, f: VmFile, from: number, to: number): void {
  const cache = m.pageCache.get(f);
  const frames = m.kernel.mmu.frames;
  const bytes = f.bytes;
  if (cache === undefined || bytes === undefined || !frames.contentsEnabled || !ownsBytes(m, f)) return;
  for (const [index, frame] of cache) {
    if (index < from || index >= to) continue;
    m.dirtyPages.delete(frame);
    if (index * PAGE_SIZE < bytes.length) writePage(m, bytes, index, frame);
  }
}

/** The cache page `frame` (page `index` of the file) stored into the file's bytes, up to their end. */
export function writePage(m: LinuxMachine, bytes: Uint8Array, index: number, frame: number): void {
  const n = Math.min(PAGE_SIZE, bytes.length - index * PAGE_SIZE);
  bytes.set(m.kernel.mmu.frames.read(frame * PAGE_SIZE, n), index * PAGE_SIZE);
}

/**
 * truncate_setsize + truncate_pagecache: the new size; on shrinking, every mapping of the pages
 * wholly past the end goes (unmap_mapping_range with even_cows: private copies too, so a later
 * access is SIGBUS), those cached pages are dropped, and the rest of the last page reads as zeros.
 * `zapRange` unmaps [start, end) of one process.
 */
export function fileTruncate(m: LinuxMachine, f: VmFile, size: number, zapRange: (p: Process<LinuxSpace>, start: number, end: number) => void): void {
  const old = f.bytes?.length ?? 0;
  const frames = m.kernel.mmu.frames;
  const cache = m.pageCache.get(f);
  fileWriteback(m, f, 0, Number.MAX_SAFE_INTEGER);
  if (size < old) {
    const hole = Math.ceil(size / PAGE_SIZE);
    for (const p of m.kernel.processes.values()) {
      if (p.state !== 'running') continue;
      for (const v of p.space.mm.vmas.iterateFrom(0)) {
        if (v.file !== f) continue;
        const start = Math.max(v.start, v.start + (hole - v.pgoff) * PAGE_SIZE);
        if (start < v.end) zapRange(p, start, v.end);
      }
    }
    if (cache !== undefined) {
      for (const [index, frame] of [...cache]) {
        if (index < hole) continue;
        cache.delete(index);
        m.dirtyPages.delete(frame);
        if (frames.unref(frame) === 0) frames.free(frame);
      }
      const last = cache.get(Math.floor(size / PAGE_SIZE));
      if (last !== undefined && size % PAGE_SIZE !== 0 && frames.contentsEnabled) frames.write(last * PAGE_SIZE + (size % PAGE_SIZE), new Uint8Array(PAGE_SIZE - (size % PAGE_SIZE)));
    }
  }
  resize(f, size);
}
