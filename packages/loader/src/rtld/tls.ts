/**
 * The static TLS block and the thread pointer (glibc elf/dl-tls.c for TLS_TCB_AT_TP, x86-64):
 * _dl_determine_tlsoffset places each module's block below the thread pointer (reusing the
 * alignment gaps), _dl_allocate_tls_storage allocates the blocks, the surplus and the TCB in one
 * piece, allocate_dtv the DTV, _dl_allocate_tls_init copies each initialisation image, and
 * __tls_init_tp (sysdeps/nptl/dl-tls_init_tp.c) installs the thread pointer and registers the
 * thread with the kernel.
 */
import type { LinkMap, Session, TlsModule } from './session.js';
import { alignUp, ARCH_SET_FS, RtldError } from './system.js';

export interface StaticTls {
  /** The thread pointer (%fs base). */
  tp: number;
  size: number;
  align: number;
  used: number;
  dtv: number;
}

/** _dl_determine_tlsoffset (TLS_TCB_AT_TP). */
export function determineTlsOffsets(s: Session, mods: readonly TlsModule[]): { size: number; align: number; used: number } {
  let maxAlign = s.conv.tls.tcbAlign;
  let freetop = 0;
  let freebottom = 0;
  let offset = 0;
  for (const m of mods) {
    const firstbyte = (m.align - (m.firstbyte % m.align)) % m.align;
    maxAlign = Math.max(maxAlign, m.align);
    if (freebottom - freetop >= m.blocksize) {
      const off = alignUp(freetop + m.blocksize - firstbyte, m.align) + firstbyte;
      if (off <= freebottom) {
        freetop = off;
        m.offset = off;
        continue;
      }
    }
    const off = alignUp(offset + m.blocksize - firstbyte, m.align) + firstbyte;
    if (off > offset + m.blocksize + (freebottom - freetop)) {
      freetop = offset;
      freebottom = off - m.blocksize;
    }
    offset = off;
    m.offset = off;
  }
  return { size: alignUp(offset + s.conv.tls.staticSurplus, maxAlign) + s.conv.tls.tcbSize, align: maxAlign, used: offset };
}

function storeOrDie(s: Session, va: number, bytes: Uint8Array): void {
  if (!s.sys.store(va, bytes)) throw new RtldError(`segmentation fault initialising TLS at 0x${va.toString(16)}`, 139);
}

function word(v: number, size = 8): Uint8Array {
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  if (size === 8) dv.setBigUint64(0, BigInt(v), true);
  else dv.setUint32(0, v, true);
  return b;
}

/** init_tls: slotinfo, offsets, the block, the DTV, the initialisation images, the thread pointer. */
export function initTls(s: Session, loaded: readonly LinkMap[]): StaticTls {
  const mods = loaded.flatMap((l) => (l.tls === null ? [] : [l.tls]));
  const maxModid = mods.reduce((n, m) => Math.max(n, m.modid), 0);
  const t = s.conv.tls;
  s.malloc.calloc(16 + (maxModid + 1 + t.slotinfoSurplus) * 16, 1, 'dtv_slotinfo_list');
  const { size, align, used } = determineTlsOffsets(s, mods);
  const allocated = s.malloc.malloc(size + align + 8, 'static TLS block and TCB');
  const aligned = alignUp(allocated, align);
  const tp = aligned + size - t.tcbSize;
  const dtv = s.malloc.calloc(maxModid + t.dtvSurplus + 2, 16, 'dtv');
  // _dl_allocate_tls_init: each module's image, then zeros up to its block size.
  for (const m of mods) {
    const dest = tp - m.offset;
    const image = m.initSize === 0 ? new Uint8Array(0) : s.sys.load(m.initAddr, m.initSize);
    if (image === null) throw new RtldError(`segmentation fault reading the TLS image at 0x${m.initAddr.toString(16)}`, 139);
    const block = new Uint8Array(m.blocksize);
    block.set(image.subarray(0, Math.min(image.length, m.blocksize)));
    storeOrDie(s, dest, block);
  }
  // The TCB header: tcb->tcb (the thread pointer itself), tcb->dtv, tcb->self.
  storeOrDie(s, tp, word(tp));
  storeOrDie(s, tp + 8, word(dtv + 16));
  storeOrDie(s, tp + 16, word(tp));
  const fs = s.sys.syscall('arch_prctl', [ARCH_SET_FS, tp]);
  if (fs.error !== null) throw new RtldError(`cannot set up thread-local storage: ${fs.error}`);
  const ti = t.threadInit;
  if (ti !== null) {
    const tid = s.sys.syscall('set_tid_address', [tp + ti.tid]).value;
    storeOrDie(s, tp + ti.tid, word(tid, 4));
    // The robust list head points at itself while empty.
    storeOrDie(s, tp + ti.robustHead, word(tp + ti.robustHead));
    s.sys.syscall('set_robust_list', [tp + ti.robustHead, 24]);
    s.sys.syscall('rseq', [tp + ti.rseq, ti.rseqSize, 0, ti.rseqSig]);
  }
  s.step(`static TLS: ${mods.length} module(s), ${used} bytes used, block of ${size} bytes; thread pointer 0x${tp.toString(16)}`);
  return { tp, size, align, used, dtv };
}
