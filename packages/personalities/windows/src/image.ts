/**
 * Image sections and the loader. An image section (NtCreateSection with SEC_IMAGE,
 * MiCreateImageFileMap) lays a PE file out at its RVAs: headers READONLY, each section with the
 * protection its characteristics imply (Wine's dlls/kernel32/tests/loader.c test_section_access:
 * R → READONLY, W → WRITECOPY, X → EXECUTE, combined accordingly), SizeOfImage in all. Mapping it
 * (NtMapViewOfSection) makes a MEM_IMAGE VAD at the preferred ImageBase, or elsewhere with the base
 * relocations applied (LdrRelocateImage; counted). The loader (ntdll's LdrpInitializeProcess, run
 * by the process's first thread) walks the import descriptors, maps each DLL found in the sysroot
 * (the exe's folder, then \Windows\System32 — SysWOW64 for a 32-bit image), resolves each import
 * by name or ordinal (forwarders followed) and writes the IAT under a temporary PAGE_READWRITE, as
 * LdrpSnapIAT does.
 *
 * Simplified (see README): no ASLR (images load at their preferred base unless it is taken), no
 * API sets, no DllMain/TLS callbacks run (they are listed), a relocated image gets its own
 * section rather than relocated pages of the shared one.
 */
import { pageUp, type NtStatusName } from '@polykernel/core';
import { parsePe, type PeFile } from '@polykernel/pe';
import {
  MEM_IMAGE, PAGE, PAGE_EXECUTE, PAGE_EXECUTE_READ, PAGE_EXECUTE_WRITECOPY, PAGE_NOACCESS, PAGE_READONLY, PAGE_WRITECOPY,
  isWriteCopy,
} from './constants.js';
import { chargeCommit, findFree, insertVad, newVad, pageArrays, type K, type P } from './mm.js';
import type { ImageInfo, LoadedModule, Section } from './types.js';

const SCN_EXECUTE = 0x20000000;
const SCN_READ = 0x40000000;
const SCN_WRITE = 0x80000000;
const RELOCS_STRIPPED = 0x0001;

/** The page protection of a section's characteristics (test_section_access's table). */
export function sectionProtection(characteristics: number): number {
  const x = Math.floor(characteristics / SCN_EXECUTE) % 2 === 1;
  const r = Math.floor(characteristics / SCN_READ) % 2 === 1;
  const w = Math.floor(characteristics / SCN_WRITE) % 2 === 1;
  if (x) return w ? PAGE_EXECUTE_WRITECOPY : r ? PAGE_EXECUTE_READ : PAGE_EXECUTE;
  if (w) return PAGE_WRITECOPY;
  return r ? PAGE_READONLY : PAGE_NOACCESS;
}

export class ImageFormatError extends Error {
  constructor(readonly status: NtStatusName, message: string) {
    super(message);
  }
}

function parseImage(path: string, bytes: Uint8Array): PeFile {
  let pe: PeFile;
  try {
    pe = parsePe(bytes);
  } catch (e) {
    throw new ImageFormatError('STATUS_INVALID_IMAGE_FORMAT', `${path}: ${(e as Error).message}`);
  }
  if (pe.optional === null || pe.isObject) throw new ImageFormatError('STATUS_INVALID_IMAGE_FORMAT', `${path}: not an image (no optional header)`);
  return pe;
}

/** The image laid out at its RVAs, relocated for `base` (fixups counted). */
function layOut(pe: PeFile, base: number): { bytes: Uint8Array; fixups: number } {
  const opt = pe.optional!;
  const img = new Uint8Array(pageUp(opt.sizeOfImage, PAGE));
  const src = pe.bytes;
  img.set(src.subarray(0, Math.min(opt.sizeOfHeaders, src.length, img.length)), 0);
  for (const s of pe.sections) {
    const n = Math.min(s.sizeOfRawData, s.virtualSize === 0 ? s.sizeOfRawData : s.virtualSize, Math.max(0, src.length - s.pointerToRawData), Math.max(0, img.length - s.virtualAddress));
    if (n > 0) img.set(src.subarray(s.pointerToRawData, s.pointerToRawData + n), s.virtualAddress);
  }
  const delta = base - opt.imageBase;
  let fixups = 0;
  if (delta !== 0) {
    const v = new DataView(img.buffer);
    const big = BigInt(delta);
    for (const block of pe.baseRelocations()) {
      for (const r of block.entries) {
        if (r.rva + 8 > img.length && r.type === 10) continue;
        if (r.type === 10) { // IMAGE_REL_BASED_DIR64
          v.setBigUint64(r.rva, BigInt.asUintN(64, v.getBigUint64(r.rva, true) + big), true);
          fixups++;
        } else if (r.type === 3 && r.rva + 4 <= img.length) { // HIGHLOW
          v.setUint32(r.rva, Number(BigInt.asUintN(32, BigInt(v.getUint32(r.rva, true)) + big)), true);
          fixups++;
        }
      }
    }
  }
  return { bytes: img, fixups };
}

/** Per-page protections: headers READONLY, sections by characteristics (low-alignment images: all EXECUTE_WRITECOPY). */
function protections(pe: PeFile): Uint16Array {
  const opt = pe.optional!;
  const pages = pageUp(opt.sizeOfImage, PAGE) / PAGE;
  const prot = new Uint16Array(pages).fill(PAGE_NOACCESS);
  if (opt.sectionAlignment < PAGE) return prot.fill(PAGE_EXECUTE_WRITECOPY);
  prot.fill(PAGE_READONLY, 0, Math.min(pages, pageUp(opt.sizeOfHeaders, PAGE) / PAGE));
  for (const s of pe.sections) {
    const first = s.virtualAddress / PAGE;
    const size = Math.max(s.virtualSize, s.sizeOfRawData);
    const last = Math.min(pages, pageUp(s.virtualAddress + size, opt.sectionAlignment) / PAGE);
    prot.fill(sectionProtection(s.characteristics), first, last);
  }
  return prot;
}

/** An image section for `bytes`, laid out for `base`. */
export function createImageSection(path: string, bytes: Uint8Array, base?: number): Section {
  const pe = parseImage(path, bytes);
  const opt = pe.optional!;
  const at = base ?? opt.imageBase;
  const { bytes: laid, fixups } = layOut(pe, at);
  const exp = pe.exports();
  const image: ImageInfo = {
    path, preferredBase: opt.imageBase, sizeOfImage: opt.sizeOfImage, entryRva: opt.addressOfEntryPoint, machine: pe.coff.machine,
    dll: pe.kind === 'dll', stackReserve: opt.sizeOfStackReserve, stackCommit: opt.sizeOfStackCommit, heapReserve: opt.sizeOfHeapReserve,
    heapCommit: opt.sizeOfHeapCommit, imports: pe.imports().map((d) => d.name), importTable: pe.imports(), exports: exp === null ? [] : exp.entries,
    relocatable: Math.floor(pe.coff.characteristics / RELOCS_STRIPPED) % 2 === 0, bits: pe.bits, tlsCallbacks: pe.tls()?.callbacks ?? [], fixups, base: at,
  };
  const pages = laid.length / PAGE;
  const section: Section = {
    kind: 'image', name: path, pages, frames: new Int32Array(pages).fill(-1), bytes: laid, imageProtect: protections(pe), protect: PAGE_EXECUTE_WRITECOPY,
    views: 0, handles: 0, charged: 0, image,
  };
  return section;
}

/** Map an image section's view at its base (MiMapViewOfImageSection): a MEM_IMAGE VAD, copy-on-write pages charged. */
export function mapImageView(k: K, p: P, s: Section, usage: string): number | NtStatusName {
  const start = s.image!.base;
  const end = start + s.pages * PAGE;
  if (p.space.vads.overlapping(start, end).length > 0) return 'STATUS_CONFLICTING_ADDRESSES';
  const prot = s.imageProtect!;
  let cow = 0;
  for (let i = 0; i < s.pages; i++) if (isWriteCopy(prot[i]!)) cow++;
  if (!chargeCommit(k, p.space, cow)) return 'STATUS_COMMITMENT_LIMIT';
  const v = newVad(start, end, MEM_IMAGE, PAGE_EXECUTE_WRITECOPY, { section: s, sectionOffset: 0, usage });
  pageArrays(v).protect.set(prot);
  v.committed = s.pages;
  v.charged = cow;
  insertVad(p.space, v);
  s.views++;
  return start;
}

/**
 * Load an image into `p`: the cached section at its preferred base, or — the base taken — a
 * section relocated to a free range (STATUS_CONFLICTING_ADDRESSES if the image has no relocations).
 */
export function loadImage(k: K, p: P, path: string, bytes: Uint8Array, usage: string): LoadedModule | NtStatusName {
  let s = k.state.imageSections.get(path);
  if (s === undefined) {
    s = createImageSection(path, bytes);
    k.state.imageSections.set(path, s);
  }
  const modName = path.slice(path.lastIndexOf('/') + 1);
  // WinDbg's !address names an image's regions 'Image [module; "path"]'.
  const label = `${usage} [${modName.replace(/\.[^.]*$/, '')}; "${path}"]`;
  let base = mapImageView(k, p, s, label);
  if (base === 'STATUS_CONFLICTING_ADDRESSES') {
    if (!s.image!.relocatable) return base;
    const at = findFree(p.space, s.pages * PAGE, false);
    if (at < 0) return 'STATUS_NO_MEMORY';
    s = createImageSection(path, bytes, at);
    base = mapImageView(k, p, s, label);
  }
  if (typeof base === 'string') return base;
  const byName = new Map<string, number | string>();
  const byOrdinal = new Map<number, number | string>();
  for (const e of s.image!.exports) {
    const target = e.forwarder ?? e.rva;
    if (e.name !== null) byName.set(e.name, target);
    byOrdinal.set(e.ordinal, target);
  }
  const mod: LoadedModule = { name: modName, path, base, size: s.pages * PAGE, section: s, byName, byOrdinal, iatWritten: 0 };
  p.space.modules.push(mod);
  return mod;
}
