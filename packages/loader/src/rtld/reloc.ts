/**
 * _dl_relocate_object for x86-64 (glibc elf/dl-reloc.c, elf/dynamic-link.h, sysdeps/x86_64/
 * dl-machine.h): lazy-binding setup of the GOT, RELR, then REL/RELA with the relative ones first,
 * symbols resolved through the scope, the PLT left lazy (GOT entry += l_addr) unless BIND_NOW,
 * then the RELRO region made read-only. Every value is stored into the process's memory, so a
 * relocated page is faulted in (and copied on write) as the real stores do.
 *
 * Not run (counted in stats.ifuncNotRun): IFUNC resolvers and IRELATIVE relocations execute code
 * of the object; the simulation cannot, so the resolver's own address is stored instead.
 */
import type { ElfSymbol, Relocation, RelocationTable } from '@polykernel/elf';
import { elfConstants } from '@polykernel/elf';
import { lookupSymbol, type Definition, type HashIndex } from './lookup.js';
import type { LinkMap, Session } from './session.js';
import { PAGE, pageDown, PROT_READ, RtldError } from './system.js';

const DT = elfConstants.DT;
const PT_GNU_RELRO = 0x6474e552;
const DF_BIND_NOW = 0x8;
const DF_1_NOW = 0x1;
const STB_LOCAL = 0;
const STB_WEAK = 2;
const STT_GNU_IFUNC = 10;
const SHN_ABS = 0xfff1;

export interface RelocContext {
  s: Session;
  scope: readonly LinkMap[];
  indexes: Map<LinkMap, HashIndex>;
  /** LD_BIND_NOW (GLRO(dl_lazy) == 0). */
  bindNow: boolean;
}

function store64(c: RelocContext, va: number, value: number | bigint): void {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(value)), true);
  if (!c.s.sys.store(va, b)) throw new RtldError(`segmentation fault relocating 0x${va.toString(16)}`, 139);
}

function load64(c: RelocContext, va: number): bigint {
  const b = c.s.sys.load(va, 8);
  if (b === null || b.length < 8) throw new RtldError(`segmentation fault reading 0x${va.toString(16)}`, 139);
  return new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);
}

/** Whether `l` binds its PLT at start-up: LD_BIND_NOW, DF_BIND_NOW or DF_1_NOW. */
export function bindsNow(c: RelocContext, l: LinkMap): boolean {
  const d = l.elf?.dynamic;
  return c.bindNow || ((d?.flags ?? 0) & DF_BIND_NOW) !== 0 || ((d?.flags1 ?? 0) & DF_1_NOW) !== 0;
}

/** RESOLVE_MAP + SYMBOL_ADDRESS: the definition's map and run-time address (and its symbol), or null for an undefined weak. */
function resolve(c: RelocContext, l: LinkMap, r: Relocation, sym: ElfSymbol | undefined, forPlt: boolean, copy: boolean): { map: LinkMap; sym: ElfSymbol | null; value: number } | null {
  if (sym === undefined || r.symbolIndex === 0 || sym.bind === STB_LOCAL) {
    return { map: l, sym: sym ?? null, value: sym === undefined ? 0 : (sym.shndx === SHN_ABS ? 0 : l.addr) + sym.value };
  }
  const want = sym.versionNeeded === true || sym.version !== undefined ? sym.version : undefined;
  const def: Definition | null = lookupSymbol(c.s, c.indexes, c.scope, sym.name, want, forPlt, copy ? l : null);
  if (def === null) {
    if (sym.bind === STB_WEAK) return null;
    const where = l.name === '' ? c.s.argv0 : l.name;
    throw new RtldError(`${c.s.argv0}: symbol lookup error: ${where}: undefined symbol: ${sym.name}${want !== undefined ? `, version ${want}` : ''}`);
  }
  let value = (def.sym.shndx === SHN_ABS ? 0 : def.map.addr) + def.sym.value;
  if (def.sym.type === STT_GNU_IFUNC && def.sym.shndx !== 0) c.s.stats.ifuncNotRun++;
  value = Number.isSafeInteger(value) ? value : 0;
  return { map: def.map, sym: def.sym, value };
}

/** elf_machine_rela for one relocation (and elf_machine_rel with the addend read from memory). */
function relocateOne(c: RelocContext, l: LinkMap, t: RelocationTable, r: Relocation, lazyPlt: boolean): void {
  const s = c.s;
  const where = l.addr + r.offset;
  const name = r.typeName.replace(/^R_X86_64_/, '');
  s.count(r.typeName);
  const addend = t.kind === 'rela' ? BigInt(r.addend ?? 0) : name === 'RELATIVE' || name === '64' ? load64(c, where) : 0n;
  if (name === 'NONE') return;
  if (name === 'RELATIVE') {
    store64(c, where, BigInt(l.addr) + addend);
    return;
  }
  if (name === 'IRELATIVE') {
    s.stats.ifuncNotRun++;
    store64(c, where, BigInt(l.addr) + addend);
    return;
  }
  if (name === 'JUMP_SLOT' && lazyPlt) {
    // elf_machine_lazy_rel: the GOT entry goes back to the PLT's push, relocated.
    s.stats.lazySlots++;
    store64(c, where, load64(c, where) + BigInt(l.addr));
    return;
  }
  const sym = t.symbolTable?.[r.symbolIndex];
  const def = resolve(c, l, r, sym, name === 'JUMP_SLOT', name === 'COPY');
  if (def === null) {
    if (name === 'GLOB_DAT' || name === 'JUMP_SLOT' || name === '64') store64(c, where, addend);
    return;
  }
  switch (name) {
    case 'GLOB_DAT':
    case 'JUMP_SLOT':
      store64(c, where, def.value);
      return;
    case '64':
      store64(c, where, BigInt(def.value) + addend);
      return;
    case 'DTPMOD64':
      store64(c, where, def.map.tls?.modid ?? 0);
      return;
    case 'DTPOFF64':
      store64(c, where, BigInt(def.sym?.value ?? 0) + addend);
      return;
    case 'TPOFF64':
      store64(c, where, BigInt(def.sym?.value ?? 0) + addend - BigInt(def.map.tls?.offset ?? 0));
      return;
    case 'COPY':
      copyReloc(c, where, def, sym);
      return;
    default:
      // A type glibc's x86-64 ld.so would reject at this point (_dl_reloc_bad_type).
      throw new RtldError(`${s.argv0}: ${l.name === '' ? s.argv0 : l.name}: unexpected reloc type 0x${r.type.toString(16)}`);
  }
}

function copyReloc(c: RelocContext, where: number, def: { sym: ElfSymbol | null; value: number }, ref: ElfSymbol | undefined): void {
  const size = Math.min(def.sym?.size ?? 0, ref?.size ?? 0);
  c.s.stats.copies++;
  if (size === 0) return;
  const bytes = c.s.sys.load(def.value, size);
  if (bytes === null || !c.s.sys.store(where, bytes)) throw new RtldError(`segmentation fault in a COPY relocation at 0x${where.toString(16)}`, 139);
}

/** elf_machine_runtime_setup: with lazy binding, GOT[1] = the link map (GOT[2], the trampoline's address, is ld.so-internal and not written here). */
function runtimeSetup(c: RelocContext, l: LinkMap, lazy: boolean): void {
  const got = l.elf?.dynamic?.values.get(DT.PLTGOT);
  if (!lazy || got === undefined || l.elf?.dynamic?.values.get(DT.JMPREL) === undefined) return;
  store64(c, l.addr + got + 8, l.structAddr);
}

/** _dl_relocate_object: every relocation of `l`, then _dl_protect_relro. */
export function relocateObject(c: RelocContext, l: LinkMap, opts: { protectRelro: boolean; skipRelr: boolean; lazy: boolean } = { protectRelro: true, skipRelr: false, lazy: true }): void {
  if (l.elf === null || l.relocated) return;
  const lazy = opts.lazy && !bindsNow(c, l);
  runtimeSetup(c, l, lazy);
  const tables = l.elf.dynamicRelocations();
  const ordered = [...tables.filter((t) => t.kind === 'relr'), ...tables.filter((t) => t.kind === 'rel'), ...tables.filter((t) => t.kind === 'rela')];
  for (const t of ordered) {
    const plt = t.name.endsWith('.plt');
    if (t.kind === 'relr') {
      if (opts.skipRelr) continue;
      for (const r of t.relocations) {
        c.s.count(r.typeName);
        const where = l.addr + r.offset;
        store64(c, where, load64(c, where) + BigInt(l.addr));
      }
      continue;
    }
    for (const r of t.relocations) relocateOne(c, l, t, r, plt && lazy);
  }
  l.relocated = true;
  if (opts.protectRelro) protectRelroOf(c.s, l);
}

/** _dl_protect_relro: the pages wholly inside PT_GNU_RELRO become read-only. */
export function protectRelroOf(s: Session, l: LinkMap): void {
  const ph = l.elf?.programHeaders.find((p) => p.type === PT_GNU_RELRO);
  if (ph === undefined) return;
  const start = pageDown(l.addr + ph.vaddr);
  const end = pageDown(l.addr + ph.vaddr + ph.memsz);
  l.relro = { start, end };
  if (start === end) return;
  const r = s.sys.syscall('mprotect', [start, end - start, PROT_READ]);
  if (r.error !== null) throw new RtldError(`${s.argv0}: error while loading shared libraries: ${l.name}: cannot apply additional memory protection after relocation: ${r.error}`);
}

/**
 * _dl_fixup: what the first call through a lazy PLT slot does — look the symbol up and store its
 * address in the GOT entry. Returns the GOT address and the values before and after.
 */
export function fixup(c: RelocContext, l: LinkMap, symbol: string): { got: number; before: bigint; after: bigint } {
  const t = l.elf?.dynamicRelocations().find((x) => x.name.endsWith('.plt'));
  const r = t?.relocations.find((x) => x.symbolName === symbol);
  if (t === undefined || r === undefined) throw new RtldError(`${l.name}: no PLT slot for ${symbol}`);
  const got = l.addr + r.offset;
  const before = load64(c, got);
  const def = resolve(c, l, r, t.symbolTable?.[r.symbolIndex], true, false);
  store64(c, got, def?.value ?? 0);
  return { got, before, after: load64(c, got) };
}

export { PAGE };
