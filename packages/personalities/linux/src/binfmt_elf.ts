/**
 * fs/binfmt_elf.c load_elf_binary (6.x order) for x86-64 ELF: the checks before the point of no
 * return (load_elf_phdrs, PT_INTERP opened and checked), then the new mm (begin_new_exec), the
 * stack (fs/exec.c setup_arg_pages), each PT_LOAD by elf_load (elf_map, padzero, vm_brk_flags),
 * brk, the interpreter (load_elf_interp), the vDSO and create_elf_tables' auxiliary vector.
 */
import { FormatError, pageDown, type LinuxErrnoName } from '@polykernel/core';
import { parseElf, type ElfFile, type ProgramHeader } from '@polykernel/elf';
import { fail, openExec, type ExecHost, type ExecImage, type FsFile } from './exec.js';
import { MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE } from './flags.js';
import type { MmStruct } from './mm.js';
import { AT, copyStrings, createElfTables, StackImage, stringBytes } from './stack.js';
import type { VmFile } from './vma.js';

const ET_EXEC = 2;
const ET_DYN = 3;
const EM_X86_64 = 62;
const PT_LOAD = 1;
const PT_GNU_STACK = 0x6474e551;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;
/** STACK_TOP_MAX for a 47-bit x86-64 task; DEFAULT_MAP_WINDOW / 3 * 2 is ELF_ET_DYN_BASE. */
const STACK_TOP = 0x7ffffffff000;
const ELF_ET_DYN_BASE = Math.floor(STACK_TOP / 3) * 2;
/** setup_arg_pages' stack_expand: 128 KiB below the argument pages. */
const STACK_EXPAND = 131072;

interface ParsedElf { elf: ElfFile; loads: ProgramHeader[] }

/** The checks load_elf_binary and load_elf_phdrs make before anything is mapped. */
function checkElf(file: FsFile, libbad: boolean): ParsedElf {
  const e: LinuxErrnoName = libbad ? 'ELIBBAD' : 'ENOEXEC';
  let elf: ElfFile;
  try {
    // Only what load_elf_binary reads: the ELF header, the program headers, PT_INTERP's path.
    elf = parseElf(file.bytes, { view: 'exec' });
  } catch (err) {
    // elf_read of PT_INTERP past the end of the file is a short read: EIO, as the host says.
    if (err instanceof FormatError && err.field === 'PT_INTERP') throw fail('EIO', `${file.path}: ${err.message}`);
    throw fail(e, `${file.path}: ${(err as Error).message}`);
  }
  const h = elf.header;
  if (h.type !== ET_EXEC && h.type !== ET_DYN) throw fail(e, `${file.path}: e_type ${h.type} is neither ET_EXEC nor ET_DYN`);
  if (h.bits !== 64 || h.machine !== EM_X86_64) {
    throw fail(e, `${file.path}: ${h.machine === 3 || h.machine === EM_X86_64 ? 'a 32-bit program: IA-32 emulation (and x32) is not modelled' : `not an x86-64 ELF (e_machine ${h.machine})`}`);
  }
  if (h.phentsize !== 56 || h.phnum === 0 || h.phnum * 56 > PAGE_SIZE) throw fail(e, `${file.path}: bad program header table`);
  const loads = elf.programHeaders.filter((p) => p.type === PT_LOAD);
  return { elf, loads };
}

const makeProt = (f: number): number => ((f & PF_R) !== 0 ? PROT_READ : 0) | ((f & PF_W) !== 0 ? PROT_WRITE : 0) | ((f & PF_X) !== 0 ? PROT_EXEC : 0);

/** total_mapping_size: from the first PT_LOAD's page to the end of the last one. */
function totalMappingSize(loads: ProgramHeader[]): number {
  const first = loads[0]!;
  const last = loads[loads.length - 1]!;
  return last.vaddr + last.memsz - pageDown(first.vaddr);
}

/** maximum_alignment: the largest power-of-two p_align of the PT_LOADs (at least a page). */
function maximumAlignment(loads: ProgramHeader[]): number {
  let a = PAGE_SIZE;
  for (const p of loads) if (p.align > a && (p.align & (p.align - 1)) === 0) a = p.align;
  return a;
}

/**
 * elf_load (6.x): map the file part (elf_map; the first mapping reserves total_size and gives the
 * rest back), zero the tail of its last page (padzero), and map whole pages past the file as
 * anonymous memory (vm_brk_flags). Returns the address the segment's page was mapped at.
 */
function elfLoad(host: ExecHost, mm: MmStruct, vf: VmFile, addr: number, p: ProgramHeader, prot: number, flags: number, totalSize: number): number {
  const off = p.vaddr % PAGE_SIZE;
  let mapAddr: number;
  let zeroStart: number;
  let zeroEnd: number;
  if (p.filesz > 0) {
    const size = pageUp(p.filesz + off);
    const start = pageDown(addr);
    mapAddr = mm.mmap(start, totalSize > 0 ? pageUp(totalSize) : size, prot, flags, vf, p.offset - off, { read: true, write: false });
    if (totalSize > 0 && pageUp(totalSize) > size) mm.munmap(mapAddr + size, pageUp(totalSize) - size);
    zeroStart = mapAddr + off + p.filesz;
    zeroEnd = mapAddr + off + p.memsz;
    if (p.memsz > p.filesz && zeroStart % PAGE_SIZE !== 0) host.clearUser(zeroStart, PAGE_SIZE - (zeroStart % PAGE_SIZE));
  } else {
    mapAddr = zeroStart = pageDown(addr);
    zeroEnd = zeroStart + off + p.memsz;
  }
  if (p.memsz > p.filesz) {
    const zs = pageUp(zeroStart);
    const ze = pageUp(zeroEnd);
    if (ze > zs) mm.vmBrkFlags(zs, ze - zs, (prot & PROT_EXEC) !== 0);
  }
  return mapAddr;
}

/** ELF_PAGESTART on a value that may be negative (a static PIE's 0 - p_vaddr), as unsigned wrap-around would cancel out. */
function pageStart(n: number): number {
  return Math.floor(n / PAGE_SIZE) * PAGE_SIZE;
}

function pageUp(n: number): number {
  return Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
}

/** load_elf_interp: an ET_DYN interpreter goes where mmap(NULL) puts it, its segments after it. */
function loadElfInterp(host: ExecHost, mm: MmStruct, file: FsFile, parsed: ParsedElf): { base: number; entry: number } {
  const vf = host.vmFile(file);
  const loads = parsed.loads;
  if (loads.length === 0) throw fail('ELIBBAD', `${file.path}: no PT_LOAD`);
  let total = totalMappingSize(loads);
  let loadAddr = 0;
  let set = parsed.elf.header.type === ET_EXEC;
  for (const p of loads) {
    const flags = MAP_PRIVATE | (set ? MAP_FIXED : 0);
    const at = set ? loadAddr + p.vaddr : 0;
    const mapped = elfLoad(host, mm, vf, at, p, makeProt(p.flags), flags, total);
    total = 0;
    if (!set) {
      loadAddr = mapped - pageDown(p.vaddr);
      set = true;
    }
  }
  return { base: parsed.elf.header.type === ET_DYN ? loadAddr : 0, entry: parsed.elf.header.entry + (parsed.elf.header.type === ET_DYN ? loadAddr : 0) };
}

/** load_elf_binary: everything from the checks to the initial stack; throws before the point of no return only. */
export function loadElfBinary(host: ExecHost, file: FsFile, filename: string, argv: string[], envp: string[], handlers: string[]): ExecImage {
  const parsed = checkElf(file, false);
  const { elf, loads } = parsed;
  const h = elf.header;
  if (loads.length === 0) throw fail('ENOEXEC', `${file.path}: no PT_LOAD segment`);
  // PT_INTERP: opened (and checked) before the point of no return, so its errors reach the caller.
  let interp: { file: FsFile; parsed: ParsedElf } | null = null;
  if (elf.interpreter !== null) {
    const f = openExec(host, elf.interpreter);
    interp = { file: f, parsed: checkElf(f, true) };
  }
  const gnuStack = elf.programHeaders.find((p) => p.type === PT_GNU_STACK);
  const execStack = gnuStack === undefined ? null : (gnuStack.flags & PF_X) !== 0;

  // ---- point of no return (begin_new_exec): the old mm is gone from here on ----
  const mm = host.newMm();
  const stack = setupStack(host, mm, filename, argv, envp, execStack);

  const vf = host.vmFile(file);
  let loadBias = 0;
  let totalSize = 0;
  let first = true;
  let phdrAddr = 0;
  let startCode = Number.MAX_SAFE_INTEGER;
  let endCode = 0;
  let startData = 0;
  let endData = 0;
  let elfBrk = 0;
  for (const p of loads) {
    let flags = MAP_PRIVATE;
    const vaddr = p.vaddr;
    if (!first) flags |= MAP_FIXED;
    else if (h.type === ET_EXEC) flags |= MAP_FIXED_NOREPLACE;
    else {
      // ET_DYN: with an interpreter at ELF_ET_DYN_BASE aligned to the largest p_align; a static
      // PIE where mmap(NULL) would put it (load_bias 0 and no MAP_FIXED).
      if (interp !== null) {
        loadBias = ELF_ET_DYN_BASE;
        const align = maximumAlignment(loads);
        loadBias -= loadBias % align;
        flags |= MAP_FIXED_NOREPLACE;
      } else loadBias = 0;
      loadBias = pageStart(loadBias - vaddr);
      totalSize = totalMappingSize(loads);
    }
    const mapped = elfLoad(host, mm, vf, loadBias + vaddr, p, makeProt(p.flags), flags, first ? totalSize : 0);
    if (first) {
      first = false;
      if (h.type === ET_DYN) loadBias += mapped - pageStart(loadBias + vaddr);
    }
    if (p.offset <= h.phoff && h.phoff < p.offset + p.filesz) phdrAddr = h.phoff - p.offset + p.vaddr;
    if ((p.flags & PF_X) !== 0 && p.vaddr < startCode) startCode = p.vaddr;
    if (startData < p.vaddr) startData = p.vaddr;
    if ((p.flags & PF_X) !== 0 && endCode < p.vaddr + p.filesz) endCode = p.vaddr + p.filesz;
    if (endData < p.vaddr + p.filesz) endData = p.vaddr + p.filesz;
    if (elfBrk < p.vaddr + p.memsz) elfBrk = p.vaddr + p.memsz;
  }
  if (startCode === Number.MAX_SAFE_INTEGER) startCode = 0;
  const entry = h.entry + loadBias;
  mm.startCode = startCode + loadBias;
  mm.endCode = endCode + loadBias;
  mm.startData = startData + loadBias;
  mm.endData = endData + loadBias;
  // A static PIE (a loader run directly) gets its brk at ELF_ET_DYN_BASE, out of the mmap region,
  // whether or not randomisation is on (6.11+, "binfmt_elf: Leave a gap between .bss and brk" /
  // brk_moved); 5.15 moves it only when randomising, so without ASLR it follows the bss.
  const brkMoved = host.variant === 'linux-6.x' && h.type === ET_DYN && interp === null;
  mm.startBrk = mm.brk = pageUp(brkMoved ? ELF_ET_DYN_BASE : elfBrk + loadBias);

  let interpBase = 0;
  let startAt = entry;
  if (interp !== null) {
    const r = loadElfInterp(host, mm, interp.file, interp.parsed);
    interpBase = r.base;
    startAt = r.entry;
  }
  const vdso = mm.mapVdso(host.variant);
  mm.gateArea = true;

  const cpu = host.cpu;
  const auxv: [number, number][] = [
    [AT.SYSINFO_EHDR, vdso],
    [AT.MINSIGSTKSZ, cpu.minSigStkSz],
    [AT.HWCAP, cpu.hwcap],
    [AT.PAGESZ, PAGE_SIZE],
    [AT.CLKTCK, 100],
    [AT.PHDR, phdrAddr + loadBias],
    [AT.PHENT, 56],
    [AT.PHNUM, h.phnum],
    [AT.BASE, interpBase],
    [AT.FLAGS, 0],
    [AT.ENTRY, entry],
    [AT.UID, host.uid],
    [AT.EUID, host.euid],
    [AT.GID, host.gid],
    [AT.EGID, host.egid],
    [AT.SECURE, 0],
    [AT.RANDOM, 0],
    [AT.HWCAP2, cpu.hwcap2],
    [AT.EXECFN, stack.strings.execfn],
    [AT.PLATFORM, 0],
  ];
  // struct rseq's feature size and alignment are announced since 6.3.
  if (host.variant === 'linux-6.x') auxv.push([AT.RSEQ_FEATURE_SIZE, 28], [AT.RSEQ_ALIGN, 32]);
  const { tables, auxv: full } = createElfTables(stack.image, stack.strings, 'x86_64', host.randomBytes(), auxv);
  // create_elf_tables leaves bprm->p at the new sp, which load_elf_binary stores as start_stack.
  mm.startStack = tables.sp;
  mm.argStart = stack.strings.p;
  mm.argEnd = stack.strings.argEnd;
  mm.envStart = stack.strings.envStart;
  mm.envEnd = stack.strings.envEnd;
  // The pages the tables occupy are written now (copy_to_user faults them in); the string pages were written by copy_strings.
  host.copyToUser(tables.sp, stack.image.from(tables.sp).subarray(0, stack.strings.p - tables.sp));
  return {
    path: file.path, interpreter: interp?.file.path ?? null, argv, envp, entry, startAt, loadBias, interpBase,
    sp: tables.sp, auxv: full, stack: stack.image.from(tables.sp).slice(), handlers,
  };
}

/**
 * __bprm_mm_init + copy_strings + setup_arg_pages: one page at STACK_TOP_MAX grows down as the
 * strings need, then 128 KiB more (or up to RLIMIT_STACK), with VM_STACK_FLAGS and the
 * executable-stack choice of PT_GNU_STACK (absent: not executable on x86-64).
 */
function setupStack(host: ExecHost, mm: MmStruct, filename: string, argv: string[], envp: string[], execStack: boolean | null): { image: StackImage; strings: ReturnType<typeof copyStrings> } {
  const top = STACK_TOP;
  const need = stringBytes({ filename, argv, envp });
  // The image covers the strings and room for the tables below them (a few KiB at most).
  const image = new StackImage(pageDown(top - need - 8192 - (argv.length + envp.length) * 8), top);
  const strings = copyStrings(image, top, { filename, argv, envp });
  const argLow = pageDown(strings.p);
  let stackBase = argLow - STACK_EXPAND;
  const rlim = mm.stackRlimit - (mm.stackRlimit % PAGE_SIZE);
  if (top - argLow + STACK_EXPAND > rlim) stackBase = top - rlim;
  mm.setupStack(stackBase, top, execStack === true);
  host.copyToUser(strings.p, image.from(strings.p));
  return { image, strings };
}
