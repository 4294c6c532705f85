/**
 * execve on both FreeBSD sysvecs, amd64 (the x86-64 profile) and arm64 (arm64-a72), of real
 * FreeBSD ELF files: programs built here with LLVM for the freebsd14 triples
 * (tools/fixtures/build-freebsd.sh: a static ET_EXEC branded by EI_OSABI, a PIE branded only by
 * crt1's ABI note with PT_INTERP /libexec/ld-elf.so.1, the interpreter, and an unbranded Linux
 * build) and esbuild's Go-built static executables for freebsd-x64 and freebsd-arm64
 * (tools/fixtures/fetch-large.sh). Checked: imgact_elf's placement of ET_EXEC, ET_DYN and the
 * interpreter, the stack and shared page at each sysvec's top of user space, the auxv in
 * freebsd_copyout_auxargs' order (AT_HWCAP/AT_HWCAP2 on arm64 only), and ENOEXEC for the other
 * machine's image and for an unbranded one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FREEBSD_ERRNO } from '@polykernel/core';
import { parseElf } from '@polykernel/elf';
import { Kernel, memoryFileSystem, type ViewRow } from '@polykernel/kernel';
import { ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import { requires } from '../../../../../tools/test-support/oracle.js';
import type { FreebsdKernel, FreebsdMachine, FreebsdSpace } from '../machine.js';
import { ABI_AMD64, ABI_ARM64, type FreebsdAbi } from '../param.js';
import { freebsdPersonality } from '../personality.js';

const here = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url));
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(here(`../../test/fixtures/${name}`)));
const LARGE = here('../../test/fixtures-large');

interface Arch { profile: string; elf: 'x86_64' | 'aarch64'; other: 'x86_64' | 'aarch64'; abi: FreebsdAbi; esbuild: string }
const ARCHES: Arch[] = [
  { profile: 'x86-64', elf: 'x86_64', other: 'aarch64', abi: ABI_AMD64, esbuild: 'esbuild-freebsd-x64' },
  { profile: 'arm64-a72', elf: 'aarch64', other: 'x86_64', abi: ABI_ARM64, esbuild: 'esbuild-freebsd-arm64' },
];

function boot(profile: string, files: Record<string, Uint8Array>): Kernel<FreebsdSpace, FreebsdMachine> {
  return new Kernel(freebsdPersonality({ fs: memoryFileSystem(files) }), { frames: 16384, seed: 9, contents: true, profile });
}

const hex = (v: number): string => `0x${v.toString(16)}`;
const rowsOf = (k: FreebsdKernel, view: string, pid: number): readonly ViewRow[] => k.personality.views.find((v) => v.name === view)!.rows!(k, k.processes.get(pid)!);
const auxv = (k: FreebsdKernel, pid: number): Map<string, number | string> =>
  new Map(rowsOf(k, 'procstat-x', pid).map((r) => Object.entries(r).find(([n]) => n.startsWith('AT_'))!) as [string, number | string][]);

/** The layout every image gets at the top of its sysvec's user space: guard gap, stack, shared page. */
function expectTop(rows: readonly ViewRow[], abi: FreebsdAbi): void {
  const top = rows.slice(-3).map((r) => [r.kve_start, r.kve_end, r.kve_type]);
  expect(top).toEqual([
    [hex(abi.usrStack - abi.maxssiz), hex(abi.usrStack - 128 * 1024), 'guard'],
    [hex(abi.usrStack - 128 * 1024), hex(abi.usrStack), 'swap'],
    [hex(abi.sharedPage), hex(abi.vmMaxUser), 'physical'],
  ]);
}

for (const a of ARCHES) {
  describe(`execve on the ${a.abi.arch} sysvec (profile ${a.profile})`, () => {
    it(`exit-static-${a.elf} (ET_EXEC, EI_OSABI FreeBSD) maps at its own addresses, the stack and shared page at ${hex(a.abi.vmMaxUser)}`, () => {
      const img = fixture(`exit-static-${a.elf}`);
      const k = boot(a.profile, { '/bin/exit': img });
      const p = k.createProcess(k.init, 'sh');
      expect(k.syscall(p.threads[0]!, 'execve', ['/bin/exit', ['exit'], []]).value).toBe(0);
      const rows = rowsOf(k, 'procstat-v', p.pid);
      const text = fixture(`exit-static-${a.elf}.readelf.txt`);
      const loads = [...new TextDecoder().decode(text).matchAll(/^ {2}LOAD +0x[0-9a-f]+ (0x[0-9a-f]+) /gm)].map((m) => Number(m[1]));
      // The first PT_LOAD's page is the first entry: ET_EXEC is not moved.
      expect(rows[0]!.kve_start).toBe(hex(Math.floor(loads[0]! / 4096) * 4096));
      // Read-only and text segments (memsz = filesz) are mapped from the file's vnode, partial
      // last page included; the data segment with bss is anonymous from its first partial page
      // (__elfN(load_section)).
      const fromFile = rows.filter((r) => r.kve_path === '/bin/exit');
      expect(fromFile.length).toBeGreaterThanOrEqual(1);
      expect(fromFile.every((r) => r.kve_type === 'vnode' && r.copy_on_write === true)).toBe(true);
      expectTop(rows, a.abi);
      const x = auxv(k, p.pid);
      expect(x.get('AT_BASE')).toBe('0x0');
      expect(x.get('AT_USRSTACKBASE')).toBe(hex(a.abi.usrStack));
      expect(x.get('AT_PS_STRINGS')).toBe(hex(a.abi.usrStack - 32));
      expect(x.get('AT_TIMEKEEP')).toBe(hex(a.abi.sharedPage + 0x100));
      // procstat_vm.c: the guard gap has no flag letter of its own (FreeBSD has no KVME_FLAG_GUARD),
      // only its type, gd; the stack grows down (D); the shared page is OBJT_PHYS (ph).
      const listing = k.personality.views.find((v) => v.name === 'procstat-v')!.render(k, p);
      const col = (v: number): string => hex(v).padStart(18);
      expect(listing).toContain(`${col(a.abi.usrStack - a.abi.maxssiz)} ${col(a.abi.usrStack - 128 * 1024)} ---    0    0   0   0 ----- gd \n`);
      expect(listing).toContain(`${col(a.abi.usrStack - 128 * 1024)} ${col(a.abi.usrStack)} rw-    1    1   1   0 ---D- sw \n`);
      expect(listing).toContain(`${col(a.abi.sharedPage)} ${col(a.abi.vmMaxUser)} r-x    1    1   2   0 ----- ph \n`);
    });

    it(`exit-pie-${a.elf} (ET_DYN, branded by the ABI note only) goes to ET_DYN_LOAD_ADDR, ld-elf.so.1 to round_page(vm_daddr + maxdsiz)`, () => {
      const k = boot(a.profile, { '/bin/pie': fixture(`exit-pie-${a.elf}`), '/libexec/ld-elf.so.1': fixture(`ld-elf.so.1-${a.elf}`) });
      const p = k.createProcess(k.init, 'sh');
      expect(k.syscall(p.threads[0]!, 'execve', ['/bin/pie', ['pie', 'arg'], ['A=1']]).value).toBe(0);
      const rows = rowsOf(k, 'procstat-v', p.pid);
      expect(rows[0]!.kve_start).toBe(hex(a.abi.etDynLoadAddr));
      const s = p.space;
      const interpBase = Math.ceil((s.daddr + a.abi.maxdsiz) / 4096) * 4096;
      expect(rows.some((r) => r.kve_start === hex(interpBase))).toBe(true);
      // Nothing between the program's data and the interpreter: the heap's room (maxdsiz).
      const below = rows.filter((r) => Number(r.kve_start) < interpBase).at(-1)!;
      expect(Number(below.kve_end)).toBeLessThanOrEqual(s.daddr + s.dsize * 4096);
      expectTop(rows, a.abi);
      const x = auxv(k, p.pid);
      expect(x.get('AT_BASE')).toBe(hex(interpBase));
      expect(x.get('AT_ARGC')).toBe('2');
    });

    it(`the auxv in freebsd_copyout_auxargs' order${a.abi.hwcap !== null ? ', with AT_HWCAP and AT_HWCAP2 after AT_STACKPROT' : ' (no sv_hwcap: no AT_HWCAP)'}`, () => {
      const k = boot(a.profile, { '/bin/exit': fixture(`exit-static-${a.elf}`) });
      const p = k.createProcess(k.init, 'sh');
      k.syscall(p.threads[0]!, 'execve', ['/bin/exit', ['exit'], []]);
      const names = [...auxv(k, p.pid).keys()];
      expect(names).toEqual([
        'AT_PHDR', 'AT_PHENT', 'AT_PHNUM', 'AT_PAGESZ', 'AT_FLAGS', 'AT_ENTRY', 'AT_BASE', 'AT_EHDRFLAGS', 'AT_EXECPATH', 'AT_OSRELDATE',
        'AT_CANARY', 'AT_CANARYLEN', 'AT_NCPUS', 'AT_PAGESIZES', 'AT_PAGESIZESLEN', 'AT_TIMEKEEP', 'AT_STACKPROT',
        ...(a.abi.hwcap !== null ? ['AT_HWCAP', 'AT_HWCAP2'] : []),
        'AT_BSDFLAGS', 'AT_ARGC', 'AT_ARGV', 'AT_ENVC', 'AT_ENVV', 'AT_PS_STRINGS', 'AT_USRSTACKBASE', 'AT_USRSTACKLIM',
      ]);
      expect(auxv(k, p.pid).get('AT_USRSTACKLIM')).toBe(hex(a.abi.dflssiz));
      const out = k.personality.views.find((v) => v.name === 'procstat-x')!.render(k, p);
      if (a.abi.hwcap !== null) expect(out).toContain(`${String(p.pid).padStart(5)} exit                AT_HWCAP         ${hex(a.abi.hwcap[0])}\n`);
    });

    it(`mmap without a hint goes above the largest heap (vm_daddr + ${a.abi.maxdsiz / 2 ** 30} GiB); break stops at DFLDSIZ (${a.abi.dfldsiz / 2 ** 20} MiB)`, () => {
      const k = boot(a.profile, { '/bin/exit': fixture(`exit-static-${a.elf}`) });
      const p = k.createProcess(k.init, 'sh');
      const t = p.threads[0]!;
      k.syscall(t, 'execve', ['/bin/exit', ['exit'], []]);
      const va = k.syscall(t, 'mmap', [0, 4096, 3, 0x1002, -1, 0]).value;
      expect(va).toBe(Math.ceil((p.space.daddr + a.abi.maxdsiz) / 4096) * 4096);
      const base = Math.ceil(p.space.daddr / 4096) * 4096;
      expect(k.syscall(t, 'break', [base + a.abi.dfldsiz]).value).toBe(base + a.abi.dfldsiz);
      expect(k.syscall(t, 'break', [base + a.abi.dfldsiz + 4096]).errorNumber).toBe(FREEBSD_ERRNO.ENOMEM);
    });

    it(`get_brandinfo's rules: the ABI note (exit-pie), EI_OSABI (exit-static), the interpreter path (exit-interp: OSABI 0, no note, PT_INTERP /libexec/ld-elf.so.1); none of them: ENOEXEC`, () => {
      const k = boot(a.profile, {
        '/bin/note': fixture(`exit-pie-${a.elf}`), '/bin/osabi': fixture(`exit-static-${a.elf}`), '/bin/interp': fixture(`exit-interp-${a.elf}`),
        '/bin/linux': fixture(`exit-linux-${a.elf}`), '/libexec/ld-elf.so.1': fixture(`ld-elf.so.1-${a.elf}`),
      });
      const run = (path: string): number | null | undefined => k.syscall(k.createProcess(k.init, 'sh').threads[0]!, 'execve', [path, [path], []]).errorNumber;
      expect(run('/bin/note') ?? 0).toBe(0);
      expect(run('/bin/osabi') ?? 0).toBe(0);
      expect(run('/bin/interp') ?? 0).toBe(0);
      expect(run('/bin/linux')).toBe(FREEBSD_ERRNO.ENOEXEC);
      // The interpreter-path rule needs FreeBSD's path exactly: a Linux interpreter path brands nothing.
      const img = fixture(`exit-interp-${a.elf}`).slice();
      const at = Buffer.from(img).indexOf('/libexec/ld-elf.so.1');
      img.set(new TextEncoder().encode('/libexec/ld-elf.so.2'), at);
      const k2 = boot(a.profile, { '/bin/other': img, '/libexec/ld-elf.so.2': fixture(`ld-elf.so.1-${a.elf}`) });
      expect(k2.syscall(k2.createProcess(k2.init, 'sh').threads[0]!, 'execve', ['/bin/other', [], []]).errorNumber).toBe(FREEBSD_ERRNO.ENOEXEC);
    });

    it(`the main stack grows on a fault below it up to RLIMIT_STACK (DFLSSIZ, ${a.abi.dflssiz / 2 ** 20} MiB), not to MAXSSIZ: past it SIGSEGV`, () => {
      const k = boot(a.profile, { '/bin/exit': fixture(`exit-static-${a.elf}`) });
      const p = k.createProcess(k.init, 'sh');
      const t = p.threads[0]!;
      k.syscall(t, 'execve', ['/bin/exit', ['exit'], []]);
      const growth = k.metrics.faults.stackGrowth;
      // vm_map_growstack: the deepest address the limit allows grows the stack to exactly DFLSSIZ.
      expect(k.access(t, a.abi.usrStack - a.abi.dflssiz, ACCESS_WRITE)).toBeGreaterThanOrEqual(0);
      expect(k.metrics.faults.stackGrowth).toBe(growth + 1);
      expect(p.space.ssize * 4096).toBe(a.abi.dflssiz);
      const rows = rowsOf(k, 'procstat-v', p.pid);
      expect(rows.filter((r) => r.grows_down === true).reduce((n, r) => n + Number(r.kve_end) - Number(r.kve_start), 0)).toBe(a.abi.dflssiz);
      // One page more is over the limit: no growth, the access is SIGSEGV.
      expect(k.access(t, a.abi.usrStack - a.abi.dflssiz - 4096, ACCESS_WRITE)).toBe(-1);
      expect(p.killedBy).toBe('SIGSEGV');
    });

    it(`refuses the other machine's image (${a.other}) and an unbranded one with ENOEXEC, leaving the caller as it was`, () => {
      const k = boot(a.profile, { '/bin/other': fixture(`exit-static-${a.other}`), '/bin/linux': fixture(`exit-linux-${a.elf}`) });
      const p = k.createProcess(k.init, 'sh');
      const before = rowsOf(k, 'procstat-v', p.pid);
      expect(k.syscall(p.threads[0]!, 'execve', ['/bin/other', [], []]).errorNumber).toBe(FREEBSD_ERRNO.ENOEXEC);
      expect(k.syscall(p.threads[0]!, 'execve', ['/bin/linux', [], []]).errorNumber).toBe(FREEBSD_ERRNO.ENOEXEC);
      expect(rowsOf(k, 'procstat-v', p.pid)).toEqual(before);
      expect(p.comm).toBe('sh');
    });

    it('an exec and exit leak nothing but the machine shared page', () => {
      const k = boot(a.profile, { '/bin/pie': fixture(`exit-pie-${a.elf}`), '/libexec/ld-elf.so.1': fixture(`ld-elf.so.1-${a.elf}`) });
      const warm = k.createProcess(k.init, 'warm');
      k.syscall(warm.threads[0]!, 'execve', ['/bin/pie', ['pie'], []]);
      k.exitProcess(warm, 0);
      const free = k.mmu.frames.freeFrames;
      const objects = k.vm.liveObjects;
      for (let i = 0; i < 3; i++) {
        const p = k.createProcess(k.init, 'sh');
        k.syscall(p.threads[0]!, 'execve', ['/bin/pie', ['pie'], []]);
        k.access(p.threads[0]!, a.abi.usrStack - 8, ACCESS_WRITE);
        k.exitProcess(p, 0);
      }
      expect(k.mmu.frames.freeFrames).toBe(free);
      expect(k.vm.liveObjects).toBe(objects);
    });

    describe(`${a.esbuild} (Go-built static ET_EXEC, EI_OSABI FreeBSD, fetched by tools/fixtures/fetch-large.sh)`, () => {
      const path = `${LARGE}/${a.esbuild}`;
      if (!requires(`execve of ${a.esbuild}`, existsSync(path) ? null : `${path} not fetched (run tools/fixtures/fetch-large.sh)`)) return;
      it('maps its three PT_LOAD segments where the file says, the bss anonymous, and enters at e_entry', () => {
        const img = new Uint8Array(readFileSync(path));
        const k = boot(a.profile, { '/usr/local/bin/esbuild': img });
        const p = k.createProcess(k.init, 'sh');
        expect(k.syscall(p.threads[0]!, 'execve', ['/usr/local/bin/esbuild', ['esbuild', '--version'], []]).value).toBe(0);
        const rows = rowsOf(k, 'procstat-v', p.pid);
        const dv = new DataView(img.buffer, img.byteOffset);
        const entry = Number(dv.getBigUint64(24, true));
        const x = auxv(k, p.pid);
        expect(x.get('AT_ENTRY')).toBe(hex(entry));
        expect(x.get('AT_BASE')).toBe('0x0');
        // __elfN(load_section) for each PT_LOAD: the file's pages COW from the vnode (up to the last
        // whole page when the segment has bss, else through its partial last page), the rest
        // anonymous; read from the file's own program headers.
        const want: string[][] = [];
        for (const ph of parseElf(img).programHeaders.filter((h) => h.type === 1)) {
          const start = Math.floor(ph.vaddr / 4096) * 4096;
          const fileEnd = ph.memsz > ph.filesz ? Math.floor((ph.vaddr + ph.filesz) / 4096) * 4096 : Math.ceil((ph.vaddr + ph.filesz) / 4096) * 4096;
          want.push([hex(start), hex(fileEnd), 'vnode']);
          const end = Math.ceil((ph.vaddr + ph.memsz) / 4096) * 4096;
          if (end > fileEnd) want.push([hex(fileEnd), hex(end), 'swap']);
        }
        expect(want.length).toBe(4);
        expect(rows.slice(0, 4).map((r) => [r.kve_start, r.kve_end, r.kve_type])).toEqual(want);
        expect(rows.slice(0, 3).every((r) => r.kve_path === '/usr/local/bin/esbuild' && r.kve_ref_count === 3)).toBe(true);
        expectTop(rows, a.abi);
        k.exitProcess(p, 0);
      });
      it(`is ENOEXEC on the other sysvec`, () => {
        const other = ARCHES.find((o) => o !== a)!;
        const k = boot(other.profile, { '/e': new Uint8Array(readFileSync(path)) });
        expect(k.syscall(k.createProcess(k.init, 'sh').threads[0]!, 'execve', ['/e', [], []]).errorNumber).toBe(FREEBSD_ERRNO.ENOEXEC);
      });
    });
  });
}

describe('rollup.freebsd-arm64.node (a real FreeBSD AArch64 shared object with no brand, fetched by tools/fixtures/fetch-large.sh)', () => {
  const path = `${LARGE}/rollup.freebsd-arm64.node`;
  if (!requires('rollup.freebsd-arm64.node', existsSync(path) ? null : `${path} not fetched (run tools/fixtures/fetch-large.sh)`)) return;
  it('execve refuses it (EI_OSABI 0, no ABI note, no PT_INTERP: no brand rule applies); mmap of it, as rtld maps it, is a vn entry', () => {
    const img = new Uint8Array(readFileSync(path));
    const k = boot('arm64-a72', { '/usr/local/lib/rollup.node': img });
    const t = k.createProcess(k.init, 'node').threads[0]!;
    expect(k.syscall(t, 'execve', ['/usr/local/lib/rollup.node', [], []]).errorNumber).toBe(FREEBSD_ERRNO.ENOEXEC);
    const fd = k.syscall(t, 'open', ['/usr/local/lib/rollup.node', 0, 0]).value;
    const va = k.syscall(t, 'mmap', [0, 0x18_0000, 5 /* PROT_READ|PROT_EXEC */, 0x2 /* MAP_PRIVATE */, fd, 0]).value;
    expect(va).toBeGreaterThan(0);
    const row = rowsOf(k, 'procstat-v', t.process.pid).find((r) => r.kve_start === hex(va))!;
    expect(row).toMatchObject({ kve_type: 'vnode', kve_path: '/usr/local/lib/rollup.node', read: true, write: false, exec: true });
  });
});

