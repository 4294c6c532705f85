/**
 * execve of a real FreeBSD ELF file: rollup's native module for FreeBSD x86-64 (ET_DYN, EI_OSABI
 * FreeBSD; @rollup/rollup-freebsd-x64, MIT, the parser's fixture), placed at ET_DYN_LOAD_ADDR
 * with the stack, guard gap and shared page at the top of user space, the auxv in FreeBSD 14's
 * order on the new stack, procstat -x and -v of the result; a Linux ELF is ENOEXEC.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FREEBSD_ERRNO } from '@polykernel/core';
import { Kernel, memoryFileSystem, type FsFile } from '@polykernel/kernel';
import { describe, expect, it } from 'vitest';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { freebsdPersonality } from '../personality.js';
import { AT } from './imgact_elf.js';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(fileURLToPath(new URL(`../../../../formats/elf/test/fixtures/${name}`, import.meta.url))));

function boot(files: Record<string, Uint8Array | FsFile>): Kernel<FreebsdSpace, FreebsdMachine> {
  return new Kernel(freebsdPersonality({ fs: memoryFileSystem(files) }), { frames: 16384, seed: 9, contents: true });
}

describe('execve (imgact_elf)', () => {
  const node = fixture('rollup.freebsd-x64.node');

  it('maps an ET_DYN image at ET_DYN_LOAD_ADDR, the stack below USRSTACK and the shared page above it', () => {
    const k = boot({ '/usr/lib/rollup.node': node });
    const p = k.createProcess(k.init, 'sh');
    const t = p.threads[0]!;
    expect(k.syscall(t, 'execve', ['/usr/lib/rollup.node', ['rollup.node', '-v'], ['HOME=/root']]).value).toBe(0);
    expect(p.comm).toBe('rollup.node');
    const rows = k.personality.views.find((v) => v.name === 'procstat-v')!.rows!(k, p);
    expect(rows[0]).toMatchObject({ kve_start: '0x1021000', copy_on_write: true, needs_copy: true, kve_type: 'vnode', kve_path: '/usr/lib/rollup.node' });
    const tail = rows.slice(-3).map((r) => [r.kve_start, r.kve_end, r.kve_type, r.grows_down]);
    expect(tail).toEqual([
      ['0x7fffdffff000', '0x7ffffffdf000', 'guard', false],
      ['0x7ffffffdf000', '0x7ffffffff000', 'swap', true],
      ['0x7ffffffff000', '0x800000000000', 'physical', false],
    ]);
    // The stack page the strings went to is resident and private.
    const text = k.personality.views.find((v) => v.name === 'procstat-v')!.render(k, p);
    expect(text).toContain('    2     0x7ffffffdf000     0x7ffffffff000 rw-    1    1   1   0 ---D- sw \n');
    expect(text).toContain('    2     0x7ffffffff000     0x800000000000 r-x    1    1   2   0 ----- ph \n');
  });

  it('writes argc, argv, envp and the auxv in FreeBSD 14 order, and procstat -x prints it', () => {
    const k = boot({ '/r.node': node });
    const p = k.createProcess(k.init, 'sh');
    const t = p.threads[0]!;
    k.syscall(t, 'execve', ['/r.node', ['r.node', 'x'], ['A=1']]);
    const x = k.personality.views.find((v) => v.name === 'procstat-x')!.render(k, p);
    const names = x.trim().split('\n').slice(1).map((l) => l.slice(26, 42).trim());
    expect(names).toEqual([
      'AT_PHDR', 'AT_PHENT', 'AT_PHNUM', 'AT_PAGESZ', 'AT_FLAGS', 'AT_ENTRY', 'AT_BASE', 'AT_EHDRFLAGS', 'AT_EXECPATH', 'AT_OSRELDATE',
      'AT_CANARY', 'AT_CANARYLEN', 'AT_NCPUS', 'AT_PAGESIZES', 'AT_PAGESIZESLEN', 'AT_TIMEKEEP', 'AT_STACKPROT', 'AT_BSDFLAGS', 'AT_ARGC',
      'AT_ARGV', 'AT_ENVC', 'AT_ENVV', 'AT_PS_STRINGS', 'AT_USRSTACKBASE', 'AT_USRSTACKLIM',
    ]);
    expect(x.split('\n')[0]).toBe('  PID COMM                AUXV             VALUE           ');
    expect(x).toContain('    2 r.node              AT_PS_STRINGS    0x7fffffffefe0\n');
    // The fixture's PT_GNU_STACK is RW: the stack is not executable.
    expect(x).toContain('    2 r.node              AT_STACKPROT     NONEXECUTABLE\n');
    expect(x).toContain('    2 r.node              AT_PAGESZ        4096\n');
    // The words on the stack agree with the auxv: argc, argv[0]'s string, AT_ARGV.
    const auxv = new Map(k.state.procs.get(p)!.auxv);
    const argvp = auxv.get('AT_ARGV') as number;
    const word = (va: number): number => Number(new DataView(k.copyFromUser(t, va, 8).buffer).getBigUint64(0, true));
    expect(word(argvp - 8)).toBe(2);
    const s0 = word(argvp);
    expect(new TextDecoder().decode(k.copyFromUser(t, s0, 6))).toBe('r.node');
    expect(word(argvp + 16)).toBe(0);
    const envp = auxv.get('AT_ENVV') as number;
    expect(new TextDecoder().decode(k.copyFromUser(t, word(envp), 3))).toBe('A=1');
    // The auxv follows envp's NULL: (AT_PHDR, value) first.
    expect(word(envp + 16)).toBe(AT.PHDR);
    expect(new TextDecoder().decode(k.copyFromUser(t, auxv.get('AT_EXECPATH') as number, 7))).toBe('/r.node');
  });

  it('an ELF file too large to simulate (only its head was read) is EFBIG with the reason; a large non-ELF stays ENOEXEC', () => {
    const head = fixture('rollup.freebsd-x64.node').slice(0, 4096);
    // Two files: two inode numbers (one (dev, ino) is one file, one vnode).
    const big = (path: string, bytes: Uint8Array, ino: number) => ({ path, bytes, dev: [0, 1] as [number, number], ino, mode: 0o100755, partial: { size: 100 * 1024 ** 3 } });
    const k = boot({ '/bin/big': big('/bin/big', head, 9), '/bin/zeros': big('/bin/zeros', new Uint8Array(4096), 10) });
    const t = k.createProcess(k.init, 'sh').threads[0]!;
    expect(k.syscall(t, 'execve', ['/bin/big', [], []]).errorNumber).toBe(FREEBSD_ERRNO.EFBIG);
    expect(k.syscall(t, 'execve', ['/bin/zeros', [], []]).errorNumber).toBe(FREEBSD_ERRNO.ENOEXEC);
  });

  it('refuses what FreeBSD refuses: a missing file, a non-ELF, a Linux ELF (no fallback brand)', () => {
    const linux = fixture('rollup.freebsd-x64.node').slice();
    linux[7] = 0; // EI_OSABI: SYSV
    const k = boot({ '/bin/linux': linux, '/bin/text': new TextEncoder().encode('hello') });
    const t = k.createProcess(k.init, 'sh').threads[0]!;
    expect(k.syscall(t, 'execve', ['/nope', [], []]).errorNumber).toBe(FREEBSD_ERRNO.ENOENT);
    expect(k.syscall(t, 'execve', ['/bin/text', [], []]).errorNumber).toBe(FREEBSD_ERRNO.ENOEXEC);
    expect(k.syscall(t, 'execve', ['/bin/linux', [], []]).errorNumber).toBe(FREEBSD_ERRNO.ENOEXEC);
  });

  it('an exec and exit leak nothing but the machine shared page', () => {
    const k = boot({ '/r.node': node });
    const warm = k.createProcess(k.init, 'warm');
    k.syscall(warm.threads[0]!, 'execve', ['/r.node', ['r'], []]);
    k.exitProcess(warm, 0);
    const free = k.mmu.frames.freeFrames;
    const objects = k.vm.liveObjects;
    for (let i = 0; i < 3; i++) {
      const p = k.createProcess(k.init, 'sh');
      k.syscall(p.threads[0]!, 'execve', ['/r.node', ['r'], []]);
      k.exitProcess(p, 0);
    }
    expect(k.mmu.frames.freeFrames).toBe(free);
    expect(k.vm.liveObjects).toBe(objects);
  });
});
