/**
 * Pagefile-backed sections (NtCreateSection without a file: CreateFileMapping(INVALID_HANDLE_VALUE))
 * and their views (NtMapViewOfSection / NtUnmapViewOfSection: MapViewOfFile, UnmapViewOfFile).
 * A SEC_COMMIT section charges its whole size to the system commit when it is created (not to any
 * process); its pages are shared prototype pages, zero until first touched, so every view of it in
 * every process sees the same bytes; a FILE_MAP_COPY view is copy-on-write, charged to the process
 * per page. Views are MEM_MAPPED VADs at the 64 KiB allocation granularity.
 */
import { pageUp, type NtStatusName } from '@polykernel/core';
import {
  ALLOCATION_GRANULARITY, LOWEST_USER_ADDRESS, USER_SPACE_END, MEM_MAPPED, PAGE, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY, PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY,
  allowsExecute, allowsWrite, isWriteCopy,
} from './constants.js';
import { chargeCommit, findFree, insertVad, newVad, vadAt, deleteVad, type K, type P } from './mm.js';
import { createImageSection, ImageFormatError, mapImageView } from './image.js';
import type { FileObject, Section } from './types.js';

/** The protections a pagefile-backed section may have (Wine test_CreateFileMapping_protection). */
const SECTION_PROTECTIONS = [PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY];

export const SEC_COMMIT = 0x8000000;
export const FILE_MAP_COPY = 0x1;
export const FILE_MAP_WRITE = 0x2;
export const FILE_MAP_READ = 0x4;
export const FILE_MAP_EXECUTE = 0x20;

export function createPagefileSection(k: K, protect: number, size: number, name: string): Section | NtStatusName {
  if (!SECTION_PROTECTIONS.includes(protect)) return 'STATUS_INVALID_PAGE_PROTECTION';
  if (!(size > 0) || !Number.isSafeInteger(size)) return 'STATUS_INVALID_PARAMETER_4';
  const pages = pageUp(size, PAGE) / PAGE;
  const m = k.state;
  if (m.commitCharge + pages > m.commitLimit) return 'STATUS_COMMITMENT_LIMIT';
  m.commitCharge += pages;
  k.metrics.noteCommit(m.commitCharge);
  const s: Section = {
    kind: 'pagefile', name, pages, frames: new Int32Array(pages).fill(-1), bytes: null, imageProtect: null, protect,
    views: 0, handles: 0, charged: pages, image: null,
  };
  if (name !== '') m.namedSections.set(name, s);
  return s;
}

/**
 * The view protection MapViewOfFile's access asks for, or null when the section does not allow it
 * (FILE_MAP_WRITE on a READONLY or WRITECOPY section: ERROR_ACCESS_DENIED).
 */
export function viewProtection(section: number, access: number): number | null {
  const exec = Math.floor(access / FILE_MAP_EXECUTE) % 2 === 1;
  if (exec && !allowsExecute(section)) return null;
  let base: number;
  if (Math.floor(access / FILE_MAP_WRITE) % 2 === 1) {
    if (!allowsWrite(section) || isWriteCopy(section)) return null;
    base = PAGE_READWRITE;
  } else if (access % 2 === 1) base = PAGE_WRITECOPY;
  else if (Math.floor(access / FILE_MAP_READ) % 2 === 1) base = PAGE_READONLY;
  else return null;
  if (!exec) return base;
  return base === PAGE_READWRITE ? PAGE_EXECUTE_READWRITE : base === PAGE_WRITECOPY ? PAGE_EXECUTE_WRITECOPY : PAGE_EXECUTE_READ;
}

/**
 * Where a view of `pages` pages goes: anywhere free, or exactly at `base` (NtMapViewOfSection's
 * BaseAddress in, MapViewOfFileEx's lpBaseAddress). A base must be a multiple of the 64 KiB
 * allocation granularity (STATUS_MAPPED_ALIGNMENT: ReactOS rostests/apitests/ntdll/NtMapViewOfSection.c
 * Test_PageFileSection, "map a page at an address that is not 64k aligned"; Wine
 * dlls/kernel32/tests/virtual.c test_NtMapViewOfSection, "ptr has to be aligned" / "still not 64k
 * aligned") and the range free (STATUS_CONFLICTING_ADDRESSES: "mapping at the same page conflicts";
 * MapViewOfFileEx then fails with ERROR_INVALID_ADDRESS).
 */
export function viewPlace(p: P, pages: number, base: number): number | NtStatusName {
  if (base === 0) {
    const start = findFree(p.space, pages * PAGE, false);
    return start < 0 ? 'STATUS_NO_MEMORY' : start;
  }
  if (!Number.isSafeInteger(base) || base < 0) return 'STATUS_INVALID_PARAMETER_3';
  if (base % ALLOCATION_GRANULARITY !== 0) return 'STATUS_MAPPED_ALIGNMENT';
  if (base < LOWEST_USER_ADDRESS || base + pages * PAGE > USER_SPACE_END) return 'STATUS_INVALID_PARAMETER_3';
  if (p.space.vads.overlapping(base, base + pages * PAGE).length > 0) return 'STATUS_CONFLICTING_ADDRESSES';
  return base;
}

/** NtMapViewOfSection of a data section: `size` bytes (0: to its end) from `offset` (64 KiB multiple), anywhere or at `base`. */
export function mapView(k: K, p: P, s: Section, offset: number, size: number, protect: number, base = 0): number | NtStatusName {
  if (offset % ALLOCATION_GRANULARITY !== 0) return 'STATUS_MAPPED_ALIGNMENT';
  const first = offset / PAGE;
  if (first >= s.pages) return 'STATUS_INVALID_VIEW_SIZE';
  const pages = size === 0 ? s.pages - first : pageUp(size, PAGE) / PAGE;
  if (first + pages > s.pages) return 'STATUS_INVALID_VIEW_SIZE';
  const start = viewPlace(p, pages, base);
  if (typeof start === 'string') return start;
  const cow = isWriteCopy(protect) ? pages : 0;
  if (!chargeCommit(k, p.space, cow)) return 'STATUS_COMMITMENT_LIMIT';
  const v = newVad(start, start + pages * PAGE, MEM_MAPPED, s.protect, { section: s, sectionOffset: first, usage: 'MappedFile [pagefile-backed section]' });
  v.uniform = protect;
  v.committed = pages;
  v.charged = cow;
  insertVad(p.space, v);
  s.views++;
  return start;
}

/** NtUnmapViewOfSection: the view containing `addr` goes; not a view → STATUS_NOT_MAPPED_VIEW. */
export function unmapView(k: K, p: P, addr: number): NtStatusName {
  const v = vadAt(p.space, addr);
  if (v === undefined || v.section === null) return 'STATUS_NOT_MAPPED_VIEW';
  deleteVad(k, p, v);
  return 'STATUS_SUCCESS';
}

/** SEC_IMAGE: the file is a PE image laid out at its RVAs (CreateFileMapping's flProtect high bits, NtCreateSection's AllocationAttributes). */
export const SEC_IMAGE = 0x1000000;
/** STATUS_IMAGE_NOT_AT_BASE (informational): an image view mapped, relocated away from its ImageBase. */
export const STATUS_IMAGE_NOT_AT_BASE = 0x4000_0003;

/**
 * A data-file section (NtCreateSection with a FileHandle, no SEC_IMAGE): its pages are the file's
 * bytes, read in at first touch (faults.file), and are not charged to the commit — the file backs
 * them. The file handle must allow what the protection needs (MSDN CreateFileMapping's flProtect
 * table: every protection needs GENERIC_READ, PAGE_READWRITE also GENERIC_WRITE, PAGE_EXECUTE_*
 * also GENERIC_EXECUTE; ERROR_ACCESS_DENIED otherwise). A zero size means the file's; an empty
 * file then fails with STATUS_MAPPED_FILE_SIZE_ZERO (ERROR_FILE_INVALID), and a size beyond the
 * file's end needs a writable section (the file would grow; STATUS_SECTION_TOO_BIG, i.e.
 * ERROR_NOT_ENOUGH_MEMORY, otherwise) — Wine dlls/kernel32/tests/virtual.c test_CreateFileMapping
 * and test_MapViewOfFile.
 */
export function createFileSection(k: K, file: FileObject, protect: number, size: number, name: string): Section | NtStatusName {
  if (!SECTION_PROTECTIONS.includes(protect)) return 'STATUS_INVALID_PAGE_PROTECTION';
  if (!Number.isSafeInteger(size) || size < 0) return 'STATUS_INVALID_PARAMETER_4';
  const writable = allowsWrite(protect) && !isWriteCopy(protect);
  if (!file.read || (writable && !file.write) || (allowsExecute(protect) && !file.execute)) return 'STATUS_ACCESS_DENIED';
  const length = size === 0 ? file.bytes.length : size;
  if (length === 0) return 'STATUS_MAPPED_FILE_SIZE_ZERO';
  if (length > file.bytes.length && !writable) return 'STATUS_SECTION_TOO_BIG';
  const pages = pageUp(length, PAGE) / PAGE;
  const s: Section = {
    kind: 'file', name, pages, frames: new Int32Array(pages).fill(-1), bytes: file.bytes, imageProtect: null, protect, path: file.path,
    views: 0, handles: 0, charged: 0, image: null,
  };
  if (name !== '') k.state.namedSections.set(name, s);
  return s;
}

/**
 * An image section from a file (NtCreateSection with SEC_IMAGE, MiCreateImageFileMap): the image
 * section cache's one for the path, or a new one. A file without the MZ signature is
 * STATUS_INVALID_IMAGE_NOT_MZ, a malformed PE STATUS_INVALID_IMAGE_FORMAT (both ERROR_BAD_EXE_FORMAT).
 */
export function createImageFileSection(k: K, file: FileObject): Section | NtStatusName {
  if (!file.read) return 'STATUS_ACCESS_DENIED';
  if (file.bytes.length < 2 || file.bytes[0] !== 0x4d || file.bytes[1] !== 0x5a) return 'STATUS_INVALID_IMAGE_NOT_MZ';
  const cached = k.state.imageSections.get(file.path);
  if (cached !== undefined) return cached;
  try {
    const s = createImageSection(file.path, file.bytes);
    k.state.imageSections.set(file.path, s);
    return s;
  } catch (e) {
    if (e instanceof ImageFormatError) return e.status;
    throw e;
  }
}

/**
 * NtMapViewOfSection of an image section: at its ImageBase (or the BaseAddress asked), each page
 * with its section's protection; when that range is taken the image is relocated to a free one and
 * the status is STATUS_IMAGE_NOT_AT_BASE (a success). Images without relocations can only go at
 * their base (STATUS_CONFLICTING_ADDRESSES).
 */
export function mapImageSectionView(k: K, p: P, s: Section, base: number): { base: number; status: number } | NtStatusName {
  const info = s.image!;
  const want = base === 0 ? info.base : base;
  const label = `MappedFile [image; "${info.path}"]`;
  if (want === info.base) {
    const at = mapImageView(k, p, s, label);
    if (typeof at === 'number') return { base: at, status: 0 };
    if (at !== 'STATUS_CONFLICTING_ADDRESSES') return at;
  }
  if (!info.relocatable) return 'STATUS_CONFLICTING_ADDRESSES';
  const at = base !== 0 ? viewPlace(p, s.pages, base) : viewPlace(p, s.pages, 0);
  if (typeof at === 'string') return at;
  const f = k.state.fs(info.path);
  if (typeof f === 'string') return 'STATUS_OBJECT_NAME_NOT_FOUND';
  const moved = createImageSection(info.path, f.bytes, at);
  const placed = mapImageView(k, p, moved, label);
  if (typeof placed === 'string') return placed;
  return { base: placed, status: placed === info.preferredBase ? 0 : STATUS_IMAGE_NOT_AT_BASE };
}
