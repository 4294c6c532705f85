/**
 * sys/kern/kern_exec.c + imgact_elf.c (FreeBSD 14, the amd64 or arm64 sysvec by the machine profile):
 * execve of an ELF file. The machine-dependent numbers (USRSTACK, MAXSSIZ, MAXDSIZ,
 * ET_DYN_LOAD_ADDR, AT_HWCAP) come from `FreebsdAbi` (src/param.ts).
 *
 * Order, as do_execve and __elfN(imgact) run it: read and check the header (ELF64, the sysvec's machine,
 * ET_EXEC or ET_DYN; anything else, or a file that is no ELF, is ENOEXEC); find the brand —
 * the FreeBSD ABI note, EI_OSABI = ELFOSABI_FREEBSD, or PT_INTERP /libexec/ld-elf.so.1;
 * kern.elf64.fallback_brand is -1 by default, so an unbranded (e.g. Linux) file is ENOEXEC; find the interpreter (PT_INTERP) in the file
 * system (missing: ENOENT). Only then the point of no return: exec_new_vmspace gives the process a
 * fresh vmspace with the stack (vm_map_stack: MAXSSIZ reserved below USRSTACK, sgrowsiz mapped,
 * the guard gap below) and the shared page (OBJT_PHYS, r-x, at SHAREDPAGE); each PT_LOAD is
 * mapped copy-on-write from the file's vnode object (its partial last page and the bss are
 * anonymous memory); ET_DYN goes at ET_DYN_LOAD_ADDR (0x01021000, ASLR off), the interpreter at
 * round_page(vm_daddr + maxdsiz) (amd64; arm64's ET_DYN_LOAD_ADDR is 0x100000); then exec_copyout_strings builds the stack from the top:
 * ps_strings, the exec path, the 64-byte canary, the pagesizes array, the argument and
 * environment strings, room for AT_COUNT auxv entries, the argv and envp vectors, and argc below
 * them (freebsd_fixup), with the auxv written after envp in __elfN(freebsd_copyout_auxargs)'s order.
 *
 * Simplifications: ASLR off; the shared page's layout (sigcode at 0, timekeep after it) is this
 * model's own; AT_HWCAP/AT_HWCAP2 only on arm64 (amd64's sysvec has no sv_hwcap); AT_FXRNG and
 * AT_KPRELOAD are not emitted (fxrng and the vdso are not modelled); relocation and the dynamic linker's work are not run.
 */
import { FREEBSD_ERRNO } from '@polykernel/core';
import { parseElf, type ElfFile, type ProgramHeader } from '@polykernel/elf';
import type { FileLookupError, FsFile, Process } from '@polykernel/kernel';
import type { VmObject } from '@polykernel/vm';
import { procOf, type FreebsdKernel, type FreebsdSpace } from '../machine.js';
import {
  ABI_AMD64, MAP_COPY_ON_WRITE, MAP_VN_EXEC, MAP_INHERIT_SHARE, MAP_ACC_NO_CHARGE, PAGE_SIZE, SGROWSIZ, type FreebsdAbi,
  VM_PROT_ALL, VM_PROT_EXECUTE, VM_PROT_READ, VM_PROT_WRITE, roundPage, truncPage,
} from '../param.js';
import { KERN_SUCCESS } from '../vm/vm_map.js';
import { vmspaceAlloc, vmspaceFree } from '../vm/vmspace.js';
import { execCheckPermissions } from './kern_exec.js';
import { nameiRoot } from './vfs_lookup.js';
import { vnodeObject } from './vfs_vnode.js';

/** sys/sys/elf_common.h AT_* (FreeBSD numbering). */
export const AT = {
  NULL: 0, IGNORE: 1, EXECFD: 2, PHDR: 3, PHENT: 4, PHNUM: 5, PAGESZ: 6, BASE: 7, FLAGS: 8, ENTRY: 9, NOTELF: 10, UID: 11, EUID: 12,
  GID: 13, EGID: 14, EXECPATH: 15, CANARY: 16, CANARYLEN: 17, OSRELDATE: 18, NCPUS: 19, PAGESIZES: 20, PAGESIZESLEN: 21, TIMEKEEP: 22,
  STACKPROT: 23, EHDRFLAGS: 24, HWCAP: 25, HWCAP2: 26, BSDFLAGS: 27, ARGC: 28, ARGV: 29, ENVC: 30, ENVV: 31, PS_STRINGS: 32, FXRNG: 33,
  KPRELOAD: 34, USRSTACKBASE: 35, USRSTACKLIM: 36, COUNT: 37,
} as const;
export const AT_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(AT).map(([k, v]) => [v, `AT_${k}`]));

const ELFOSABI_FREEBSD = 9;
const ET_EXEC = 2;
const ET_DYN = 3;
const PT_LOAD = 1;
const PT_PHDR = 6;
const PT_GNU_STACK = 0x6474e551;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;
/** amd64 ET_DYN_LOAD_ADDR (sys/amd64/include/elf.h), used with ASLR off; arm64's is in ABI_ARM64. */
export const ET_DYN_LOAD_ADDR = ABI_AMD64.etDynLoadAddr;
/** __FreeBSD_version of 14.0-RELEASE (AT_OSRELDATE, p_osrel). */
export const OSRELDATE = 1_400_097;
/** ARG_MAX is irrelevant to the layout: only the strings' own bytes are reserved. sizeof(struct ps_strings) on amd64. */
const PS_STRINGS_SIZE = 32;
/** sizeof(long) * 8: the SSP canary. */
const CANARY_LEN = 64;
/** MAXPAGESIZES on amd64 and on arm64 with the 4 KiB granule: 4 KiB, 2 MiB (L2), 1 GiB (L1). */
const PAGESIZES = [PAGE_SIZE, 0x20_0000, 0x4000_0000];
/** ELF_BSDF_SIGFASTBLK | ELF_BSDF_VMNOOVERCOMMIT? Only SIGFASTBLK is on by default (kern.elf64.sigfastblock=1). */
const BSDFLAGS = 0x1;
/** This model's shared-page layout: the signal trampoline at 0, the timekeep structure after it. */
const SHAREDPAGE_TIMEKEEP_OFFSET = 0x100;

export class ExecError extends Error {
  constructor(readonly errno: keyof typeof FREEBSD_ERRNO, message: string) {
    super(message);
  }
}

/** What exec built, for procstat -x and the CLI. */
export interface ExecResult {
  entry: number;
  sp: number;
  base: number;
  auxv: [number, number][];
  interpreter: string | null;
}

function elfProt(flags: number): number {
  return ((flags & PF_R) !== 0 ? VM_PROT_READ : 0) | ((flags & PF_W) !== 0 ? VM_PROT_WRITE : 0) | ((flags & PF_X) !== 0 ? VM_PROT_EXECUTE : 0);
}

/** The FreeBSD brand's interp_path (freebsd_brand_info in sys/<arch>/<arch>/elf_machdep.c). */
export const FREEBSD_INTERP_PATH = '/libexec/ld-elf.so.1';

/**
 * The brand check, __elfN(get_brandinfo)'s four rules in its order, with only the FreeBSD brand
 * registered (no Linux ABI module loaded): (1) the ".note.tag" ABI note (owner "FreeBSD",
 * NT_FREEBSD_ABI_TAG); (2) EI_OSABI = ELFOSABI_FREEBSD; (3) with neither, a PT_INTERP naming the
 * brand's interpreter, /libexec/ld-elf.so.1; (4) the fallback brand, kern.elf64.fallback_brand,
 * which is -1 by default — so an image with none of these (a Linux ELF: OSABI 0, no FreeBSD note,
 * /lib64/ld-linux-x86-64.so.2 or no interpreter) is ENOEXEC. Setting the sysctl to 9 would accept
 * it; this model keeps the default.
 */
function isFreebsdBranded(elf: ElfFile): boolean {
  try {
    if (elf.notes().some((n) => n.owner === 'FreeBSD' && n.type === 1)) return true;
  } catch {
    // A malformed note table brands nothing; the other rules still apply.
  }
  if (elf.header.osabi === ELFOSABI_FREEBSD) return true;
  return elf.interpreter === FREEBSD_INTERP_PATH;
}

/** Check an image as __elfN(imgact) does before the point of no return. */
export function checkImage(bytes: Uint8Array, abi: FreebsdAbi = ABI_AMD64): ElfFile {
  let elf: ElfFile;
  try {
    elf = parseElf(bytes);
  } catch (e) {
    throw new ExecError('ENOEXEC', `not an ELF file the kernel can load (${(e as Error).message})`);
  }
  const h = elf.header;
  if (h.bits !== 64 || h.machine !== abi.machine) throw new ExecError('ENOEXEC', `not an ELF64 ${abi.arch === 'amd64' ? 'x86-64' : 'AArch64'} image (the ${abi.arch} sysvec)`);
  if (h.type !== ET_EXEC && h.type !== ET_DYN) throw new ExecError('ENOEXEC', `e_type ${h.type} is not ET_EXEC or ET_DYN`);
  if (!isFreebsdBranded(elf)) throw new ExecError('ENOEXEC', `no FreeBSD brand (ABI note, EI_OSABI or PT_INTERP ${FREEBSD_INTERP_PATH}) and kern.elf64.fallback_brand = -1`);
  if (!elf.programHeaders.some((p) => p.type === PT_LOAD)) throw new ExecError('ENOEXEC', 'no PT_LOAD segment');
  return elf;
}

/** The machine's shared page: one OBJT_PHYS object over one frame, made on first use. */
function sharedPage(k: FreebsdKernel): VmObject {
  const m = k.state;
  if (m.sharedPage === null || m.sharedPage.dead) {
    const frame = k.mmu.frames.alloc(0, true);
    m.sharedPage = k.vm.createPhysicalObject('physical', frame, 1);
  }
  return m.sharedPage;
}

/** Map one image (the program or its interpreter) at `base`; returns the text/data bounds. */
function loadImage(k: FreebsdKernel, s: FreebsdSpace, elf: ElfFile, path: string, base: number): { text: [number, number]; data: [number, number] } {
  // The image's pages come from its vnode's one object (vnode_pager_alloc): every process running
  // the same file shares its text pages, and mmap(2) of the file finds the same object.
  const v = nameiRoot(k.state, path);
  const vnode = typeof v === 'string' ? k.vm.createObject('vnode', Math.ceil(elf.bytes.length / PAGE_SIZE), elf.bytes, path) : vnodeObject(k, v);
  const text: [number, number] = [0, 0];
  const data: [number, number] = [0, 0];
  try {
    for (const ph of elf.programHeaders) {
      if (ph.type !== PT_LOAD || ph.memsz === 0) continue;
      loadSection(k, s, vnode, ph, base);
      const start = truncPage(base + ph.vaddr);
      const size = roundPage(base + ph.vaddr + ph.memsz) - start;
      if ((ph.flags & PF_X) !== 0 || (text[1] === 0 && (ph.flags & PF_W) === 0)) {
        if (text[1] === 0) text[0] = start;
        text[1] = start + size - text[0];
      } else {
        data[0] = start;
        data[1] = size;
      }
    }
  } finally {
    k.vm.deallocate(vnode);
  }
  return { text, data };
}

/** __elfN(load_section): the file's whole pages COW from the vnode object, the rest anonymous. */
function loadSection(k: FreebsdKernel, s: FreebsdSpace, vnode: VmObject, ph: ProgramHeader, base: number): void {
  const prot = elfProt(ph.flags);
  const vaddr = base + ph.vaddr;
  const start = truncPage(vaddr);
  const fileEnd = vaddr + ph.filesz;
  // "We can either clear the data in the last page of an oversized mapping, or we can start the
  // anon mapping a page early and copy the initialized data into that first page. We choose the
  // second": only a segment with bss (memsz > filesz) stops the file mapping at the last whole
  // page; otherwise the partial last page is mapped from the file too (the pager zero-fills past
  // EOF), and filesz 0 maps nothing from the file.
  const mapEnd = ph.filesz === 0 ? start : ph.memsz > ph.filesz ? truncPage(fileEnd) : roundPage(fileEnd);
  const map = s.map;
  if (mapEnd > start) {
    k.vm.reference(vnode);
    // __elfN(map_insert): a file-backed segment is inserted with MAP_VN_EXEC (the entry gets
    // MAP_ENTRY_VN_EXEC and makes the file text: writing it is ETXTBSY, vfs_vnode.ts vnodeIsText).
    const rv = map.insert(vnode, truncPage(ph.offset) / PAGE_SIZE, start, mapEnd, prot, VM_PROT_ALL, MAP_COPY_ON_WRITE | MAP_VN_EXEC);
    if (rv !== KERN_SUCCESS) {
      k.vm.deallocate(vnode);
      throw new ExecError('ENOMEM', `PT_LOAD at 0x${start.toString(16)} overlaps`);
    }
  }
  const end = roundPage(vaddr + ph.memsz);
  if (end <= mapEnd) return;
  const anonStart = Math.max(mapEnd, start);
  if (map.insert(null, 0, anonStart, end, prot, VM_PROT_ALL, 0) !== KERN_SUCCESS) throw new ExecError('ENOMEM', 'bss overlaps');
  if (fileEnd > anonStart) {
    // The partial last page: its file bytes are copied into the anonymous page (copyout).
    const e = map.lookupEntry(anonStart)!;
    map.chargeObject(e);
    const off = ph.offset + (anonStart - vaddr);
    // Without page contents (a layout-only machine) the page is still made resident.
    if (k.vm.frames.contentsEnabled) k.vm.write(e.object!, e.offset, 0, vnode.file!.subarray(off, off + (fileEnd - anonStart)));
    else k.vm.faultPage(e.object!, e.offset, true);
  }
}

/**
 * An ELF file over MAX_FILE_BYTES (only its head was read) cannot be loaded here: EFBIG with the
 * reason, as the Linux personality answers. Anything else in the head stays ENOEXEC (checkImage).
 */
function tooLargeToSimulate(file: FsFile): void {
  const b = file.bytes;
  const elf = b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
  if (file.partial !== undefined && elf) throw new ExecError('EFBIG', `${file.path}: an ELF file of ${file.partial.size} bytes is too large to simulate (files up to 1 GiB)`);
}

/**
 * namei for exec, then exec_check_permissions (kern_exec.c; __elfN(load_file) checks the
 * interpreter the same way): the file as its vnode holds it (an overlay's written bytes included).
 */
function lookup(k: FreebsdKernel, p: Process<FreebsdSpace>, path: string): FsFile | FileLookupError {
  const v = nameiRoot(k.state, path);
  if (typeof v === 'string') return v as FileLookupError;
  const denied = execCheckPermissions(v, p.creds);
  if (denied !== null) throw new ExecError(denied.errno, `${path}: ${denied.detail}`);
  const f: FsFile = { path: v.path, bytes: v.bytes.subarray(0, Math.min(v.size, v.bytes.length)), dev: v.dev, ino: v.ino, mode: v.mode };
  if (v.partial !== null) f.partial = { size: v.partial };
  return f;
}

/**
 * do_execve → __elfN(imgact) for `p` (the caller checked nothing): on success `p` runs the new
 * image in a new vmspace; on failure before the point of no return nothing changed.
 */
export function execve(k: FreebsdKernel, p: Process<FreebsdSpace>, path: string, argv: readonly string[], envp: readonly string[]): ExecResult {
  const m = k.state;
  const file = lookup(k, p, path);
  if (typeof file === 'string') throw new ExecError(file, `${path}: ${file}`);
  tooLargeToSimulate(file);
  const abi = m.abi;
  const elf = checkImage(file.bytes, abi);
  let interp: ElfFile | null = null;
  const interpPath = elf.interpreter;
  if (interpPath !== null) {
    const f = lookup(k, p, interpPath);
    if (typeof f === 'string') throw new ExecError('ENOENT', `ELF interpreter ${interpPath} not found`);
    tooLargeToSimulate(f);
    interp = checkImage(f.bytes, abi);
  }
  // ---- point of no return: exec_new_vmspace ----
  const s = vmspaceAlloc(k, m);
  let img: { text: [number, number]; data: [number, number] };
  let interpBase = 0;
  let stackProt = VM_PROT_ALL;
  const base = elf.header.type === ET_DYN ? abi.etDynLoadAddr : 0;
  try {
    const gnuStack = elf.programHeaders.find((ph) => ph.type === PT_GNU_STACK);
    stackProt = gnuStack === undefined ? VM_PROT_ALL : elfProt(gnuStack.flags);
    if (s.map.stack(abi.usrStack - abi.maxssiz, abi.maxssiz, SGROWSIZ, stackProt, VM_PROT_ALL, 0) !== KERN_SUCCESS) throw new ExecError('ENOMEM', 'no room for the stack');
    s.maxsaddr = abi.usrStack - abi.maxssiz;
    s.ssize = SGROWSIZ / PAGE_SIZE;
    const sp = sharedPage(k);
    k.vm.reference(sp);
    s.map.insert(sp, 0, abi.sharedPage, abi.sharedPage + PAGE_SIZE, VM_PROT_READ | VM_PROT_EXECUTE, VM_PROT_READ | VM_PROT_EXECUTE, MAP_INHERIT_SHARE | MAP_ACC_NO_CHARGE);
    img = loadImage(k, s, elf, path, base);
    s.taddr = img.text[0];
    s.tsize = img.text[1] / PAGE_SIZE;
    s.daddr = img.data[1] !== 0 ? img.data[0] : img.text[0] + img.text[1];
    s.dsize = img.data[1] / PAGE_SIZE;
    if (interp !== null) {
      interpBase = roundPage(s.daddr + abi.maxdsiz);
      loadImage(k, s, interp, interpPath!, interp.header.type === ET_DYN ? interpBase : 0);
    }
  } catch (e) {
    // Past the point of no return the old image is gone: exit1(td, 0, SIGABRT).
    vmspaceFree(m, s, 0);
    k.exitProcess(p, null, 'SIGABRT');
    throw e;
  }
  k.replaceSpace(p, s);
  s.pmap.owner = p;
  const rec = procOf(m, p);
  rec.args = [...argv];
  rec.osrel = OSRELDATE;
  p.comm = path.slice(path.lastIndexOf('/') + 1).slice(0, 19);
  const phdr = elf.programHeaders.find((ph) => ph.type === PT_PHDR);
  const auxBase = {
    phdr: phdr !== undefined ? base + phdr.vaddr : img.text[0] + elf.header.phoff,
    phent: elf.header.phentsize, phnum: elf.header.phnum, entry: base + elf.header.entry, base: interpBase, flags: elf.header.flags, stackProt,
  };
  const r = copyoutStrings(k, p, path, argv, envp, auxBase);
  rec.auxv = r.auxv.map(([t, v]) => [AT_NAMES[t] ?? String(t), v] as const);
  return { entry: interp !== null ? interpBase + interp.header.entry : auxBase.entry, sp: r.sp, base: interpBase, auxv: r.auxv, interpreter: interpPath };
}

interface AuxBase { phdr: number; phent: number; phnum: number; entry: number; base: number; flags: number; stackProt: number }

/** exec_copyout_strings + freebsd_fixup + freebsd_copyout_auxargs: the new stack, written through the new pmap. */
function copyoutStrings(k: FreebsdKernel, p: Process<FreebsdSpace>, execpath: string, argv: readonly string[], envp: readonly string[], a: AuxBase): { sp: number; auxv: [number, number][] } {
  const t = p.threads[0]!;
  const enc = new TextEncoder();
  const put = (addr: number, bytes: Uint8Array): void => {
    if (k.copyToUser(t, addr, bytes) !== bytes.length) throw new ExecError('EFAULT', 'the new stack is not writable');
  };
  const word = (v: number): Uint8Array => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    return b;
  };
  const abi = k.state.abi;
  const psStrings = abi.usrStack - PS_STRINGS_SIZE;
  let dest = psStrings;
  const ep = enc.encode(`${execpath}\0`);
  dest = Math.floor((dest - ep.length) / 8) * 8;
  const execpathp = dest;
  put(execpathp, ep);
  dest -= CANARY_LEN;
  const canary = dest;
  const canaryBytes = new Uint8Array(CANARY_LEN);
  for (let i = 0; i < CANARY_LEN; i++) canaryBytes[i] = k.state.rng.below(256);
  put(canary, canaryBytes);
  dest = Math.floor((dest - PAGESIZES.length * 8) / 8) * 8;
  const pagesizes = dest;
  put(pagesizes, Uint8Array.from(PAGESIZES.flatMap((v) => [...word(v)])));
  const strings = [...argv, ...envp].map((s) => enc.encode(`${s}\0`));
  const stringBytes = strings.reduce((n, s) => n + s.length, 0);
  dest = Math.floor((dest - stringBytes) / 8) * 8;
  let ustring = dest;
  dest -= AT.COUNT * 16;
  let vect = dest - (argv.length + 1 + envp.length + 1) * 8;
  const argvp = vect;
  const ptrs: number[] = [];
  for (const s of strings) {
    put(ustring, s);
    ptrs.push(ustring);
    ustring += s.length;
  }
  for (let i = 0; i < argv.length; i++, vect += 8) put(vect, word(ptrs[i]!));
  put(vect, word(0));
  vect += 8;
  const envv = vect;
  for (let i = 0; i < envp.length; i++, vect += 8) put(vect, word(ptrs[argv.length + i]!));
  put(vect, word(0));
  vect += 8;
  put(psStrings, Uint8Array.from([...word(argvp), ...word(argv.length), ...word(envv), ...word(envp.length)]));
  const auxv: [number, number][] = [
    [AT.PHDR, a.phdr], [AT.PHENT, a.phent], [AT.PHNUM, a.phnum], [AT.PAGESZ, PAGE_SIZE], [AT.FLAGS, 0], [AT.ENTRY, a.entry],
    [AT.BASE, a.base], [AT.EHDRFLAGS, a.flags], [AT.EXECPATH, execpathp], [AT.OSRELDATE, OSRELDATE], [AT.CANARY, canary],
    [AT.CANARYLEN, CANARY_LEN], [AT.NCPUS, k.mmu.cpus.length], [AT.PAGESIZES, pagesizes], [AT.PAGESIZESLEN, PAGESIZES.length * 8],
    [AT.TIMEKEEP, abi.sharedPage + SHAREDPAGE_TIMEKEEP_OFFSET], [AT.STACKPROT, a.stackProt],
    // sv_hwcap / sv_hwcap2: arm64's sysvec has them, amd64's does not.
    ...(abi.hwcap !== null ? [[AT.HWCAP, abi.hwcap[0]], [AT.HWCAP2, abi.hwcap[1]]] as [number, number][] : []),
    [AT.BSDFLAGS, BSDFLAGS], [AT.ARGC, argv.length], [AT.ARGV, argvp], [AT.ENVC, envp.length], [AT.ENVV, envv], [AT.PS_STRINGS, psStrings],
    [AT.USRSTACKBASE, abi.usrStack], [AT.USRSTACKLIM, abi.dflssiz], [AT.NULL, 0],
  ];
  put(vect, Uint8Array.from(auxv.flatMap(([ty, v]) => [...word(ty), ...word(v)])));
  // freebsd_fixup: argc below argv.
  const sp = argvp - 8;
  put(sp, word(argv.length));
  return { sp, auxv };
}
