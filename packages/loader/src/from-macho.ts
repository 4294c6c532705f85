/** Build the executable image model from a thin Mach-O file (a fat file: from one of its slices). */
import { formatProt } from '@polykernel/core';
import { FatFile, parseMachO, type MachOFile } from '@polykernel/macho';
import type { ExecutableImage, ImageSummary } from './image.js';

export function imageFromMachO(m: MachOFile): ExecutableImage {
  return {
    format: 'macho',
    bits: m.header.is64 ? 64 : 32,
    endian: m.header.littleEndian ? 'little' : 'big',
    machine: m.machine,
    kind: m.kind as ExecutableImage['kind'],
    osabi: m.buildVersion?.platform ?? 'darwin',
    entry: m.entry,
    imageBase: m.imageBase,
    segments: m.segments.filter((s) => s.segname !== '__PAGEZERO' || s.vmsize > 0).map((s) => ({
      name: s.segname, vaddr: s.vmaddr, memsz: s.vmsize, offset: s.fileoff, filesz: s.filesize, prot: s.initprot % 8, align: 0x1000,
    })),
    interpreter: m.dylinker,
    needed: m.dylibs.filter((d) => d.kind !== 'id').map((d) => d.name),
    soname: m.dylibs.find((d) => d.kind === 'id')?.name ?? null,
    runpath: [...m.rpaths],
    exports: m.exports().filter((e) => e.address !== null).map((e) => ({ name: e.name, value: (m.imageBase ?? 0) + (e.address ?? 0), size: 0, kind: 'func' as const, binding: 'global' as const })),
    imports: [
      ...m.binds().map((b) => ({ name: b.symbol, library: dylibName(m, b.dylibOrdinal), weak: b.weakImport })),
      ...(m.chainedFixups()?.imports ?? []).map((i) => ({ name: i.name, library: dylibName(m, i.libOrdinal), weak: i.weakImport })),
    ],
    relocations: [
      ...(m.chainedFixups()?.fixups ?? []).map((f) => ({ offset: f.address, kind: f.kind === 'rebase' ? ('relative' as const) : ('glob-dat' as const), typeName: `CHAINED_${f.kind.toUpperCase()}`, symbol: f.importIndex === null ? null : (m.chainedFixups()?.imports[f.importIndex]?.name ?? null), addend: f.addend })),
      ...m.rebases().map((r) => ({ offset: r.address, kind: 'relative' as const, typeName: 'REBASE_TYPE_POINTER', symbol: null, addend: 0 })),
      ...m.binds().map((b) => ({ offset: b.address, kind: b.kind === 'lazy' ? ('jump-slot' as const) : ('glob-dat' as const), typeName: `BIND_${b.kind.toUpperCase()}`, symbol: b.symbol, addend: b.addend })),
    ],
    tls: null,
    executableStack: (m.header.flags & 0x20000) !== 0, // MH_ALLOW_STACK_EXECUTION
  };
}

/** The install name a two-level-namespace bind ordinal refers to (null for flat lookups). */
function dylibName(m: MachOFile, ordinal: number): string | null {
  if (ordinal <= 0) return null;
  return m.dylibs.filter((d) => d.kind !== 'id')[ordinal - 1]?.name ?? null;
}

/** Mach-O JSON: the common keys, segments with maxprot added. */
export function summarizeMachO(m: MachOFile): ImageSummary & { segments: (ImageSummary['segments'][number] & { maxprot: string })[] } {
  const img = imageFromMachO(m);
  return {
    format: 'macho', bits: img.bits, endian: img.endian, machine: img.machine, kind: img.kind, entry: img.entry, imageBase: img.imageBase,
    interpreter: img.interpreter, needed: img.needed,
    segments: m.segments.map((s) => ({ name: s.segname, vaddr: s.vmaddr, memsz: s.vmsize, offset: s.fileoff, filesz: s.filesize, prot: formatProt(s.initprot % 8), maxprot: formatProt(s.maxprot % 8) })),
    osabi: img.osabi,
  };
}

export interface FatSummary {
  format: 'macho-fat';
  slices: { cputype: number; cpusubtype: number; offset: number; size: number; image: ReturnType<typeof summarizeMachO> }[];
}

export function summarizeFat(f: FatFile): FatSummary {
  return { format: 'macho-fat', slices: f.arches.map((a) => ({ cputype: a.cputype, cpusubtype: a.cpusubtype, offset: a.offset, size: a.size, image: summarizeMachO(a.image) })) };
}

/** Load a Mach-O: a thin file, or the first slice of a fat one (`arch` picks another, e.g. 'aarch64'). */
export function loadMachO(bytes: Uint8Array, arch?: string): ExecutableImage {
  const p = parseMachO(bytes);
  if (p instanceof FatFile) {
    const slice = arch === undefined ? p.arches[0] : p.arches.find((a) => a.machine === arch);
    if (slice === undefined) throw new RangeError(`no ${arch ?? ''} slice in this fat file (has ${p.arches.map((a) => a.machine).join(', ')})`);
    return imageFromMachO(slice.image);
  }
  return imageFromMachO(p);
}
