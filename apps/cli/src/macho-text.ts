/**
 * Mach-O views in the manner of `llvm-objdump --macho --private-headers` / `otool -l`: the Mach
 * header, then each load command with its fields (segments and sections, dylibs, dylinker, entry,
 * UUID, versions, linkedit blobs). Not byte-identical to either tool; the fields and values are.
 */
import { formatProt, hexPad } from '@polykernel/core';
import { machoConstants as M, type FatFile, type MachOFile } from '@polykernel/macho';

/**
 * cpusubtype is unsigned with the capability bits (CPU_SUBTYPE_MASK, 0xff000000: CPU_SUBTYPE_LIB64
 * 0x80, pointer authentication on arm64e) in its top byte: llvm-objdump prints the low 24 bits and
 * the capabilities apart, never a negative number (the field is read as an int32).
 */
export function subtypeOf(cpusubtype: number): number {
  return (cpusubtype >>> 0) % 0x1000000;
}

/** The capability byte of a cpusubtype, as llvm-objdump prints it: 0x80 for CPU_SUBTYPE_LIB64. */
export function capsOf(cpusubtype: number): string {
  return `0x${Math.floor((cpusubtype >>> 0) / 0x1000000).toString(16).padStart(2, '0')}`;
}

export function machoText(m: MachOFile): string {
  const h = m.header;
  const flags = M.MH_FLAGS.filter(([b]) => Math.floor(h.flags / b) % 2 === 1).map(([, n]) => n).join(' ');
  const out = [
    'Mach header',
    '      magic cputype cpusubtype  caps    filetype ncmds sizeofcmds      flags',
    `${(h.is64 ? 'MH_MAGIC_64' : 'MH_MAGIC').padStart(11)} ${m.cpuName.padStart(7)} ${String(subtypeOf(h.cpusubtype)).padStart(10)} ${capsOf(h.cpusubtype).padStart(5)} ${m.fileTypeName.padStart(11)} ${String(h.ncmds).padStart(5)} ${String(h.sizeofcmds).padStart(10)} ${flags}`,
  ];
  const w = h.is64 ? 16 : 8;
  let seg = 0;
  let dylib = 0;
  for (const c of m.commands) {
    out.push(`Load command ${c.index}`, `      cmd ${c.name}`, `  cmdsize ${c.cmdsize}`);
    if (c.name === 'LC_SEGMENT' || c.name === 'LC_SEGMENT_64') {
      const s = m.segments[seg++]!;
      out.push(`  segname ${s.segname}`, `   vmaddr 0x${hexPad(s.vmaddr, w)}`, `   vmsize 0x${hexPad(s.vmsize, w)}`, `  fileoff ${s.fileoff}`, ` filesize ${s.filesize}`,
        `  maxprot ${formatProt(s.maxprot % 8)}`, ` initprot ${formatProt(s.initprot % 8)}`, `   nsects ${s.sections.length}`);
      for (const x of s.sections) out.push('Section', `  sectname ${x.sectname}`, `   segname ${x.segname}`, `      addr 0x${hexPad(x.addr, w)}`, `      size 0x${hexPad(x.size, w)}`, `    offset ${x.offset}`, `     align 2^${x.align} (${2 ** x.align})`);
    } else if (c.name.endsWith('_DYLIB')) {
      const d = m.dylibs[dylib++]!;
      out.push(`         name ${d.name}`, `      current version ${d.currentVersion}`, `compatibility version ${d.compatibilityVersion}`);
    } else if (c.name === 'LC_LOAD_DYLINKER') {
      out.push(`         name ${m.dylinker ?? ''}`);
    } else if (c.name === 'LC_MAIN') {
      out.push(`  entryoff ${m.entryoff ?? 0}`, ` stacksize ${m.stackSize ?? 0}`);
    } else if (c.name === 'LC_UUID') {
      out.push(`    uuid ${m.uuid ?? ''}`);
    } else if (c.name === 'LC_BUILD_VERSION' || c.name.startsWith('LC_VERSION_MIN')) {
      out.push(`  platform ${m.buildVersion?.platform ?? ''}`, `       sdk ${m.buildVersion?.sdk ?? ''}`, `     minos ${m.buildVersion?.minos ?? ''}`);
    } else if (c.name === 'LC_RPATH') {
      out.push(`         path ${m.rpaths.join(', ')}`);
    }
  }
  return out.join('\n');
}

export function fatText(f: FatFile): string {
  const out = ['Fat headers', `nfat_arch ${f.arches.length}`];
  f.arches.forEach((a, i) => out.push(`architecture ${i}`, `    cputype ${a.cputype} (${a.machine})`, `    cpusubtype ${subtypeOf(a.cpusubtype)}`, `    capabilities ${capsOf(a.cpusubtype)}`, `    offset ${a.offset}`, `    size ${a.size}`, `    align 2^${a.align} (${2 ** a.align})`));
  return out.join('\n');
}
