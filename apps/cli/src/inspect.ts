/** `polykernel inspect FILE`: readelf-style views or the image model as JSON. */
import { FormatError, KernelError } from '@polykernel/core';
import { readRegular, type LargeFileReader } from './read.js';

export { MAX_INSPECT_BYTES, readRegular } from './read.js';
import { headerViewsExtent, parseElf } from '@polykernel/elf';
import { imageFromElf, imageFromPe, parseShebang, sniff, summarize, summarizeFat, summarizeMachO } from '@polykernel/loader';
import { FatFile, parseMachO } from '@polykernel/macho';
import { fatText, machoText } from './macho-text.js';
import { parsePe } from '@polykernel/pe';
import { peBaseRelocText, peExportsText, peFileHeaderText, peImportsText, peSectionsText } from './pe-text.js';
import {
  attributesText, dynamicText, fileHeaderText, histogramText, notesText, programHeadersText, relocsText, sectionGroupsText, sectionsText, symbolsText, unwindText, versionsText,
} from './elf-text.js';

export type InspectOptions = Record<string, boolean | string | undefined>;

/** Run the command; returns the exit status. Output goes to stdout, errors to stderr. */
export async function runInspect(file: string, opts: InspectOptions, out: (s: string) => void = (s) => process.stdout.write(s + '\n'), err: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<number> {
  const read = await readRegular(file, undefined, headerViewsOnly(opts) ? elfHeadersOfLargeFile : otherViewsOfLargeFile);
  if (typeof read === 'string') {
    err(`polykernel inspect: ${file}: ${read}`);
    return 1;
  }
  const bytes = read;
  const misfit = inapplicable(sniff(bytes) ?? '', bytes, opts);
  if (misfit !== null) {
    err(`polykernel inspect: ${misfit}`);
    return 2;
  }
  try {
    const text = render(bytes, opts, err);
    if (text !== '') out(text); // readelf prints nothing at all for an empty view
    return 0;
  } catch (e) {
    if (e instanceof FormatError) {
      err(`polykernel inspect: ${file}: malformed file: ${e.message}`);
      return 1;
    }
    if (e instanceof KernelError) {
      err(`polykernel inspect: ${file}: ${e.message.replace(`${e.errno}: `, '')} [${e.errno} ${e.errnoNumber}]`);
      return 1;
    }
    throw e;
  }
}

/** The views made from an ELF file's headers alone (-h, -l, -S, -d, -n, and the default -h -l -d). */
const HEADER_VIEWS = ['fileHeader', 'programHeaders', 'sections', 'dynamic', 'notes'];

function headerViewsOnly(opts: InspectOptions): boolean {
  return Object.entries(opts).every(([k, v]) => v === undefined || v === false || HEADER_VIEWS.includes(k));
}

/**
 * A file over the size limit whose header says ELF, for the header views: where its headers, the
 * section names, PT_INTERP, the dynamic table and its strings and the notes lie is found with
 * positioned reads of the headers, then only the file's first bytes up to the last of them are read
 * (a 100 GB sparse file with its headers in front shows as readelf shows it). Headers spread beyond
 * the first MAX_INSPECT_BYTES are refused.
 */
const elfHeadersOfLargeFile: LargeFileReader = async (read, _size, max) => {
  if (sniff(await read(0, 64)) !== 'elf') return null;
  try {
    const end = await headerViewsExtent(read, max);
    if (end === null) return `its headers lie beyond the first ${max.toLocaleString('en-US')} bytes`;
    return await read(0, end);
  } catch (e) {
    if (e instanceof FormatError) return `malformed file: ${e.message}`;
    throw e;
  }
};

/** For the other views of a large ELF file: say which views it can have. */
const otherViewsOfLargeFile: LargeFileReader = async (read) => (sniff(await read(0, 64)) === 'elf' ? 'inspect -h, -l, -S, -d and -n read only its headers' : null);

/** The view options each format has; an option given for another format is refused, not ignored. */
const APPLIES: Record<string, readonly string[]> = {
  elf: ['fileHeader', 'programHeaders', 'sections', 'dynamic', 'dynSyms', 'symbols', 'relocs', 'notes', 'useDynamic', 'all', 'json'],
  pe: ['fileHeader', 'sections', 'coffImports', 'coffExports', 'coffBasereloc', 'relocs', 'all', 'json'],
  macho: ['arch', 'all', 'json'],
  script: ['json'],
};

const FLAG: Record<string, string> = {
  fileHeader: '-h', programHeaders: '-l', sections: '-S', dynamic: '-d', dynSyms: '--dyn-syms', symbols: '-s', relocs: '-r', notes: '-n', useDynamic: '-D',
  coffImports: '--coff-imports', coffExports: '--coff-exports', coffBasereloc: '--coff-basereloc', arch: '--arch', all: '-a', json: '--json',
};

/** The first option given that does not apply to this file, as a message; null when all apply. */
export function inapplicable(format: string, bytes: Uint8Array, opts: InspectOptions): string | null {
  const allowed = APPLIES[format];
  if (allowed === undefined) return null; // not a program file: the parser says so
  for (const [key, v] of Object.entries(opts)) {
    if (v === undefined || v === false || FLAG[key] === undefined) continue;
    if (!allowed.includes(key)) return `${FLAG[key]} does not apply to ${format === 'elf' ? 'an ELF file' : format === 'pe' ? 'a PE/COFF file' : format === 'macho' ? 'a Mach-O file' : 'a #! script'} (it takes ${allowed.map((k) => FLAG[k]).join(', ')})`;
  }
  if (format === 'macho' && opts.arch !== undefined) {
    let thin = false;
    try {
      thin = !(parseMachO(bytes) instanceof FatFile);
    } catch {
      return null; // malformed: render reports it
    }
    if (thin) return '--arch picks a slice of a fat (universal) Mach-O file; this one is thin';
  }
  return null;
}

/** The text (or JSON) for one file. Throws FormatError / KernelError. */
export function render(bytes: Uint8Array, opts: InspectOptions, warn: (s: string) => void = () => undefined): string {
  const format = sniff(bytes);
  if (format === 'pe') return renderPe(bytes, opts);
  if (format === 'macho') return renderMachO(bytes, opts);
  if (format === 'script') {
    const h = parseShebang(bytes);
    return opts.json === true
      ? JSON.stringify({ format: 'script', interpreter: h.interpreter, argument: h.argument }, null, 2)
      : `#! script: interpreter ${h.interpreter}${h.argument === null ? '' : `, argument "${h.argument}"`}`;
  }
  if (format !== 'elf') throw new KernelError('linux', 'ENOEXEC', 'not a program file this tool can read (ELF, PE/COFF, Mach-O or #! script expected)');
  const elf = parseElfFor(bytes, opts, warn);
  if (opts.json === true) return JSON.stringify(summarize(imageFromElf(elf)), null, 2);
  const all = opts.all === true;
  const views = ['fileHeader', 'programHeaders', 'sections', 'dynamic', 'dynSyms', 'symbols', 'relocs', 'notes'];
  const any = all || views.some((v) => opts[v] === true);
  const want = (v: string): boolean => all || opts[v] === true || (!any && (v === 'fileHeader' || v === 'programHeaders' || v === 'dynamic'));
  const parts: string[] = [];
  if (want('fileHeader')) parts.push(fileHeaderText(elf));
  if (want('sections')) parts.push(sectionsText(elf, parts.length === 0, want('fileHeader')));
  if (all) parts.push(sectionGroupsText(elf, warn));
  if (want('programHeaders')) parts.push(programHeadersText(elf, !want('fileHeader')));
  if (want('dynamic')) parts.push(dynamicText(elf));
  const useDynamic = opts.useDynamic === true;
  if (want('relocs')) parts.push(relocsText(elf, useDynamic ? elf.dynamicRelocations() : elf.relocations(), useDynamic));
  if (all) {
    const unwind = unwindText(elf);
    if (unwind === null) warn(`polykernel inspect: warning: -a: the ${elf.machineDescription} unwind tables are not decoded (readelf -u decodes them)`);
    else parts.push(unwind);
  }
  if (want('dynSyms') || want('symbols')) {
    const dynsec = elf.sections.find((s) => s.name === '.dynsym');
    if (elf.sections.length === 0 && !useDynamic) {
      parts.push('\nDynamic symbol information is not available for displaying symbols.');
    } else {
      const dyn = elf.dynamicSymbols();
      if (dyn.length > 0) parts.push(symbolsText(elf, dynsec?.name ?? '.dynsym', dyn));
    }
  }
  if (want('symbols')) {
    const st = elf.symbols();
    if (st.length > 0) parts.push(symbolsText(elf, '.symtab', st));
  }
  if (all) {
    parts.push(histogramText(elf, warn), versionsText(elf));
    const attributes = attributeSection(elf);
    if (attributes !== undefined) warn(`polykernel inspect: warning: -a: the ${attributes} attribute section is not decoded (readelf -A decodes it)`);
  }
  if (want('notes')) parts.push(notesText(elf));
  if (all) parts.push(attributesText(elf));
  return parts.filter((p) => p !== '').join('\n');
}

/** The name of a build-attributes section readelf -A would decode and this tool does not (ARM, GNU), if the file has one. */
function attributeSection(elf: ReturnType<typeof parseElf>): string | undefined {
  if (elf.header.machine === 243) return undefined; // RISC-V's are decoded (attributesText)
  const archType = elf.header.machine === 40 ? 0x70000003 : -1; // SHT_ARM_ATTRIBUTES
  return elf.sections.find((s) => s.type === archType || s.type === 0x6ffffff5 /* SHT_GNU_ATTRIBUTES */)?.name;
}

/**
 * The ELF file; for -l alone, a file whose section header table is broken (e_shoff beyond the
 * file, e_shnum too large) still shows its program headers, as readelf does after its error: the
 * program headers are all execve reads, and the kernel runs such a file.
 */
function parseElfFor(bytes: Uint8Array, opts: InspectOptions, warn: (s: string) => void): ReturnType<typeof parseElf> {
  try {
    return parseElf(bytes);
  } catch (e) {
    const onlyProgramHeaders = opts.programHeaders === true && Object.entries(opts).every(([k, v]) => k === 'programHeaders' || v === undefined || v === false);
    if (!(e instanceof FormatError) || !onlyProgramHeaders) throw e;
    const elf = parseElf(bytes, { view: 'exec' });
    warn(`polykernel inspect: warning: ${e.message}; showing the program headers, which are all execve reads`);
    return elf;
  }
}

/** PE/COFF: llvm-readobj style blocks. Defaults: file headers, sections, imports, exports. */
function renderPe(bytes: Uint8Array, opts: InspectOptions): string {
  const pe = parsePe(bytes);
  if (opts.json === true) return JSON.stringify(summarize(imageFromPe(pe)), null, 2);
  const all = opts.all === true;
  const views = ['fileHeader', 'sections', 'coffImports', 'coffExports', 'coffBasereloc', 'relocs'];
  const any = all || views.some((v) => opts[v] === true);
  const want = (v: string): boolean => all || opts[v] === true || (!any && ['fileHeader', 'sections', 'coffImports', 'coffExports'].includes(v));
  const parts: string[] = [];
  if (want('fileHeader')) parts.push(peFileHeaderText(pe));
  if (want('sections')) parts.push(peSectionsText(pe));
  if (want('coffImports')) parts.push(peImportsText(pe));
  if (want('coffExports')) parts.push(peExportsText(pe));
  if (want('coffBasereloc') || want('relocs')) parts.push(peBaseRelocText(pe));
  return parts.filter((p) => p !== '').join('\n');
}

/** Mach-O: thin files show their load commands; fat files list slices, or one slice with --arch. */
function renderMachO(bytes: Uint8Array, opts: InspectOptions): string {
  const p = parseMachO(bytes);
  const arch = typeof opts.arch === 'string' ? opts.arch : undefined;
  if (p instanceof FatFile) {
    if (arch !== undefined) {
      const a = p.arches.find((x) => x.machine === arch || x.machine === (arch === 'arm64' ? 'aarch64' : arch));
      if (a === undefined) throw new KernelError('linux', 'ENOEXEC', `no ${arch} slice (this fat file has ${p.arches.map((x) => x.machine).join(', ')})`);
      return opts.json === true ? JSON.stringify(summarizeMachO(a.image), null, 2) : machoText(a.image);
    }
    return opts.json === true ? JSON.stringify(summarizeFat(p), null, 2) : [fatText(p), ...p.arches.map((a) => `\n(architecture ${a.machine}):\n${machoText(a.image)}`)].join('\n');
  }
  return opts.json === true ? JSON.stringify(summarizeMachO(p), null, 2) : machoText(p);
}
