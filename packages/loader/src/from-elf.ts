/** Build the executable image model from a parsed ELF file. */
import { formatProt, PROT_EXEC, PROT_READ, PROT_WRITE } from '@polykernel/core';
import { type ElfFile, type ElfSymbol, type Relocation } from '@polykernel/elf';
import type { ExecutableImage, ImageImport, ImageRelocation, ImageSegment, ImageSummary, ImageSymbol, RelocationKind } from './image.js';

const SHN_UNDEF = 0;
const STB_LOCAL = 0;
const STB_WEAK = 2;

export function imageFromElf(elf: ElfFile): ExecutableImage {
  const h = elf.header;
  const tls = elf.tls;
  const dyn = elf.dynamic;
  const syms = elf.dynamicSymbols();
  return {
    format: 'elf',
    bits: h.bits,
    endian: h.endian,
    machine: elf.machine,
    kind: elf.kind,
    osabi: elf.osabi,
    // e_entry as the header holds it: 0 in a relocatable object, as readelf prints it ("Entry point address: 0x0").
    entry: h.entry,
    imageBase: elf.imageBase,
    segments: segmentsOf(elf),
    interpreter: elf.interpreter,
    needed: dyn?.needed ?? [],
    soname: dyn?.soname ?? null,
    runpath: (dyn?.runpath ?? dyn?.rpath ?? '').split(':').filter((p) => p !== ''),
    exports: syms.filter((s) => s.shndx !== SHN_UNDEF && s.bind !== STB_LOCAL && s.name !== '').map(exportOf),
    imports: syms.filter((s) => s.shndx === SHN_UNDEF && s.name !== '').map((s) => importOf(s)),
    relocations: elf.dynamicRelocations().flatMap((t) => t.relocations.map(relocationOf)),
    tls: tls === null ? null : { vaddr: tls.vaddr, filesz: tls.filesz, memsz: tls.memsz, align: tls.align },
    executableStack: elf.executableStack,
  };
}

function segmentsOf(elf: ElfFile): ImageSegment[] {
  return elf.loadSegments.map((p, i) => {
    const prot = ((p.flags & 4) !== 0 ? PROT_READ : 0) | ((p.flags & 2) !== 0 ? PROT_WRITE : 0) | ((p.flags & 1) !== 0 ? PROT_EXEC : 0);
    // Name a segment after the first allocated section it holds, as readelf's section-to-segment map shows.
    const first = elf.sections.find((s) => s.addr !== 0 && s.size > 0 && (s.flags & 2) !== 0 && s.addr >= p.vaddr && s.addr < p.vaddr + p.memsz);
    return { name: first?.name ?? `LOAD${i}`, vaddr: p.vaddr, memsz: p.memsz, offset: p.offset, filesz: p.filesz, prot, align: p.align };
  });
}

function exportOf(s: ElfSymbol): ImageSymbol {
  const kind = s.type === 2 ? 'func' : s.type === 1 ? 'object' : s.type === 6 ? 'tls' : s.type === 10 ? 'ifunc' : 'other';
  const binding = s.bind === STB_WEAK ? 'weak' : s.bind === 10 ? 'unique' : s.bind === STB_LOCAL ? 'local' : 'global';
  const out: ImageSymbol = { name: s.name, value: s.value, size: s.size, kind, binding };
  if (s.version !== undefined) out.version = s.version;
  return out;
}

function importOf(s: ElfSymbol): ImageImport {
  const out: ImageImport = { name: s.name, library: null, weak: s.bind === STB_WEAK };
  if (s.version !== undefined) out.version = s.version;
  return out;
}

/** Map a relocation type name onto the normalised kinds. */
export function relocationKind(typeName: string): RelocationKind {
  if (typeName.endsWith('_IRELATIVE')) return 'irelative';
  if (typeName.endsWith('_RELATIVE') || typeName.endsWith('_RELATIVE64')) return 'relative';
  if (typeName.endsWith('_GLOB_DAT')) return 'glob-dat';
  if (typeName.endsWith('_JUMP_SLOT') || typeName.endsWith('_JMP_SLOT')) return 'jump-slot';
  if (typeName.endsWith('_COPY')) return 'copy';
  if (/TPOFF|DTPMOD|DTPOFF|DTPREL|TPREL|TLSDESC|TLS_/.test(typeName)) return 'tls';
  if (/_(64|32|ABS64|ABS32|ADDR32)$/.test(typeName)) return 'absolute';
  return 'other';
}

function relocationOf(r: Relocation): ImageRelocation {
  return { offset: r.offset, kind: relocationKind(r.typeName), typeName: r.typeName, symbol: r.symbolName === '' ? null : r.symbolName, addend: r.addend ?? 0 };
}

/** The `--json` summary of an image. */
export function summarize(img: ExecutableImage): ImageSummary {
  return {
    format: img.format,
    bits: img.bits,
    endian: img.endian,
    machine: img.machine,
    kind: img.kind,
    entry: img.entry,
    imageBase: img.imageBase,
    interpreter: img.interpreter,
    needed: img.needed,
    segments: img.segments.map((s) => ({ name: s.name, vaddr: s.vaddr, memsz: s.memsz, offset: s.offset, filesz: s.filesz, prot: formatProt(s.prot) })),
    osabi: img.osabi,
  };
}
