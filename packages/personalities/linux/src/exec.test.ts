import { readFileSync } from 'node:fs';
import { Kernel } from '@polykernel/kernel';
import { describe, expect, it } from 'vitest';
import { AT, linuxPersonality, procMaps, type FileLookup, type FsFile, type LinuxSpace } from './index.js';

const FIXTURES = new URL('../../../formats/elf/test/fixtures/', import.meta.url);
const STATIC = new Uint8Array(readFileSync(new URL('static-x86_64.elf', FIXTURES)));
const PIE = new Uint8Array(readFileSync(new URL('hello-pie-x86_64.elf', FIXTURES)));
const ARM = new Uint8Array(readFileSync(new URL('hello-pie-aarch64.elf', FIXTURES)));
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** An in-memory file system: path → bytes (mode 0755 regular file unless given). */
function memFs(files: Record<string, Uint8Array | [Uint8Array, number]>): FileLookup {
  let ino = 100;
  const table = new Map<string, FsFile>();
  for (const [path, f] of Object.entries(files)) {
    const [bytes, mode] = Array.isArray(f) ? f : [f, 0o100755];
    table.set(path, { path, bytes, dev: [8, 1], ino: ino++, mode });
  }
  return (path) => table.get(path) ?? 'ENOENT';
}

function boot(files: Record<string, Uint8Array | [Uint8Array, number]>, variant: 'linux-6.x' | 'linux-5.15' = 'linux-6.x'): { k: Kernel<LinuxSpace>; exec: (path: string, argv?: string[], envp?: string[]) => { value: number; error: string | null; space: LinuxSpace; pid: number; alive: boolean } } {
  const k = new Kernel(linuxPersonality({ variant, fs: memFs(files) }), { contents: true, frames: 8192 });
  return {
    k,
    exec: (path, argv = [path], envp = []) => {
      const p = k.createProcess(k.init, 'sh');
      const r = k.syscall(p.threads[0]!, 'execve', [path, argv, envp]);
      return { value: r.value, error: r.error, space: p.space, pid: p.pid, alive: p.state === 'running' };
    },
  };
}

describe('execve: binfmt handlers and errors', () => {
  it('loads a static executable at its link address with [stack], [vdso] and the gate area', () => {
    const { exec } = boot({ '/bin/st': STATIC });
    const r = exec('/bin/st');
    expect(r.error).toBeNull();
    const maps = procMaps(r.space.mm);
    expect(maps).toMatch(/^00400000-00401000 r--p 00000000 08:01 100 +\/bin\/st\n/);
    expect(maps).toContain('[stack]');
    expect(maps).toContain('[vdso]');
    expect(maps.trimEnd().endsWith('[vsyscall]')).toBe(true);
    expect(r.space.image!.interpreter).toBeNull();
    expect(r.space.image!.auxv.find(([t]) => t === AT.BASE)![1]).toBe(0);
  });

  it('a missing file is ENOENT, a file without x bits or not regular is EACCES, garbage is ENOEXEC', () => {
    const { exec } = boot({ '/noexec': [STATIC, 0o100644], '/dir': [STATIC, 0o040755], '/junk': text('hello world\n') });
    expect(exec('/nope').error).toBe('ENOENT');
    expect(exec('/noexec').error).toBe('EACCES');
    expect(exec('/dir').error).toBe('EACCES');
    expect(exec('/junk').error).toBe('ENOEXEC');
  });

  it('a failed execve leaves the caller running with its old address space', () => {
    const { k } = boot({});
    const p = k.createProcess(k.init, 'sh');
    const before = p.space;
    expect(k.syscall(p.threads[0]!, 'execve', ['/missing', ['/missing'], []]).value).toBe(-2);
    expect(p.space).toBe(before);
    expect(p.state).toBe('running');
  });

  it('an ELF for another machine is ENOEXEC; a PIE whose interpreter is missing is ENOENT, a bad interpreter ELIBBAD', () => {
    expect(boot({ '/arm': ARM }).exec('/arm').error).toBe('ENOEXEC');
    expect(boot({ '/pie': PIE }).exec('/pie').error).toBe('ENOENT');
    expect(boot({ '/pie': PIE, '/lib64/ld-linux-x86-64.so.2': ARM }).exec('/pie').error).toBe('ELIBBAD');
  });

  it('#! scripts: argv becomes interpreter, optional argument, script path, then the original arguments', () => {
    const { exec } = boot({ '/bin/st': STATIC, '/s.sh': text('#!/bin/st -x y\necho hi\n') });
    const r = exec('/s.sh', ['s.sh', 'a', 'b'], ['HOME=/']);
    expect(r.error).toBeNull();
    expect(r.space.image!.argv).toEqual(['/bin/st', '-x y', '/s.sh', 'a', 'b']);
    expect(r.space.image!.handlers).toEqual(['script', 'elf']);
    expect(r.space.image!.path).toBe('/bin/st');
  });

  it('interpreter chains: five rewrites are allowed, six are ELOOP', () => {
    const files: Record<string, Uint8Array> = { '/bin/st': STATIC, '/s0': text('#!/bin/st\n') };
    for (let i = 1; i <= 6; i++) files[`/s${i}`] = text(`#!/s${i - 1}\n`);
    expect(boot(files).exec('/s4').error).toBeNull();
    expect(boot(files).exec('/s5').error).toBe('ELOOP');
  });

  it('arguments beyond a quarter of RLIMIT_STACK are E2BIG; an empty argv gets "" on 6.x only', () => {
    const { exec } = boot({ '/bin/st': STATIC });
    expect(exec('/bin/st', ['x'.repeat(100_000), 'y'.repeat(100_000), ...Array.from({ length: 30 }, () => 'z'.repeat(100_000))]).error).toBe('E2BIG');
    expect(exec('/bin/st', ['x'.repeat(200_000)]).error).toBe('E2BIG'); // longer than MAX_ARG_STRLEN
    expect(exec('/bin/st', []).space.image!.argv).toEqual(['']);
    expect(boot({ '/bin/st': STATIC }, 'linux-5.15').exec('/bin/st', []).space.image!.argv).toEqual([]);
  });

  it('the stack holds argc, argv, envp and the strings, readable through the simulated MMU', () => {
    const { k, exec } = boot({ '/bin/st': STATIC });
    const r = exec('/bin/st', ['/bin/st', 'hello'], ['A=1']);
    const img = r.space.image!;
    const view = new DataView(img.stack.buffer, img.stack.byteOffset);
    expect(view.getBigUint64(0, true)).toBe(2n); // argc
    const argv1 = Number(view.getBigUint64(16, true));
    const p = k.processes.get(r.pid)!;
    const pa = k.mmu.translate(0, k.asidOf(p), argv1, 0, true);
    expect(new TextDecoder().decode(k.mmu.frames.read(pa, 5))).toBe('hello');
    // linux-5.15 has no AT_RSEQ_* entries and a 6-page vDSO area ([vvar] 4 + [vdso] 2).
    const old = boot({ '/bin/st': STATIC }, 'linux-5.15').exec('/bin/st').space;
    expect(old.image!.auxv.some(([t]) => t === AT.RSEQ_ALIGN)).toBe(false);
    expect(procMaps(old.mm)).not.toContain('[vvar_vclock]');
  });
});

describe('execve of damaged files', () => {
  const STATIC_PIE = new Uint8Array(readFileSync(new URL('static-pie-x86_64.elf', FIXTURES)));
  it('never throws or hangs: an errno before the point of no return, or SIGSEGV after it, or a running program', () => {
    const seen = new Set<string>();
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let i = 0; i < 400; i++) {
      const bytes = (i % 2 === 0 ? STATIC : STATIC_PIE).slice();
      // Damage the headers (the first 512 bytes: ELF header and program headers) or truncate.
      if (i % 10 === 9) {
        const cut = rnd(bytes.length);
        const r = boot({ '/bin/x': bytes.slice(0, cut) }).exec('/bin/x');
        seen.add(r.error ?? (r.alive ? 'ok' : 'killed'));
        continue;
      }
      for (let j = 0; j < 1 + rnd(8); j++) bytes[rnd(512)] = rnd(256);
      const started = Date.now();
      const r = boot({ '/bin/x': bytes }).exec('/bin/x');
      expect(Date.now() - started).toBeLessThan(2000);
      seen.add(r.error ?? (r.alive ? 'ok' : 'killed'));
    }
    // Every outcome is one the kernel can produce.
    for (const o of seen) expect(['ok', 'killed', 'ENOEXEC', 'ENOMEM', 'EINVAL', 'EEXIST', 'EACCES', 'ENOENT', 'ELIBBAD', 'E2BIG', 'EFAULT']).toContain(o);
    expect(seen.has('ENOEXEC')).toBe(true);
  });
});

describe('execve and signal actions', () => {
  it('caught signals go back to SIG_DFL, ignored ones stay ignored (flush_signal_handlers)', () => {
    const lp = linuxPersonality({ fs: memFs({ '/bin/st': STATIC }) });
    const k = new Kernel(lp, { frames: 8192 });
    const p = k.createProcess(k.init, 'sh');
    const t = p.threads[0]!;
    k.syscall(t, 'rt_sigaction', [10, 0x401000, 0, 8]);
    k.syscall(t, 'rt_sigaction', [15, 1, 0, 8]);
    expect(k.syscall(t, 'execve', ['/bin/st', ['/bin/st'], []]).value).toBe(0);
    expect([...lp.task(t).sighand.action]).toEqual([[15, 1]]);
  });
});
