/**
 * Issue 21: every bad input gets a clear answer — a one-line error with a defined exit status
 * (0 ok, 1 the thing examined failed, 2 usage), or a simulated signal; never a stack trace, a
 * hang or the host's memory running out.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { runCli } from './cli.js';
import { cli } from '../test/run-cli.js';
import { missingTools, requires } from '../../../tools/test-support/oracle.js';
import { readRegular, render, runInspect, type InspectOptions } from './inspect.js';
import { Progress } from './run.js';
import { cpuFromFlags, hostCpu } from './host-cpu.js';
import { capsOf, subtypeOf } from './macho-text.js';

function tmp(name: string, text: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'pk-bad-')), name);
  writeFileSync(f, text);
  return f;
}

const workload = (steps: string[], extra = ''): string => tmp('w.yaml', `name: w\n${extra}processes:\n  - name: p\n    steps:\n${steps.map((s) => `      - ${s}`).join('\n')}\n`);

const oneLine = (s: string): void => {
  expect(s.trimEnd().split('\n')).toHaveLength(1);
  expect(s).not.toMatch(/\n\s+at /);
};

describe('inspect reads regular files only, with a size check', () => {
  it('/dev/zero is not an ordinary file (it hung, eating memory)', async () => {
    const r = await cli('inspect', '/dev/zero');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/\/dev\/zero: is not an ordinary file \(a character device\)/);
    oneLine(r.err);
  });

  it('a FIFO with no writer is named, not waited on', async () => {
    const fifo = join(mkdtempSync(join(tmpdir(), 'pk-fifo-')), 'f');
    execFileSync('mkfifo', [fifo]);
    const r = await cli('inspect', fifo);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/is not an ordinary file \(a FIFO\)/);
  });

  it('run of /dev/zero, and a workload mapping /dev/zero as a file, answer at once (they read forever)', async () => {
    const r = await cli('run', '/dev/zero');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/\/dev\/zero: is not an ordinary file/);
    const w = await cli('run', workload(['mmap: { name: A, length: 64K, prot: r--, flags: [private], file: /dev/zero }', 'brk: { delta: 0 }']));
    expect(w.code).toBe(0);
    expect(w.out).toMatch(/mmap .* -> error: \S+:5:9: processes\[0\]\.steps\[0\]: file \/dev\/zero: is not an ordinary file/);
    expect(w.out).toMatch(/brk delta=0 +-> 0x0/);
  });

  it('a directory, and a file over the size limit', async () => {
    expect((await cli('inspect', '/')).err).toMatch(/is a directory/);
    expect(await readRegular('/bin/true', 100)).toMatch(/too large \([\d,]+ bytes; at most 100\)/);
  });
});

/**
 * A file over the 1 GiB limit is never read whole; for the header views its headers are found with
 * positioned reads and only the bytes up to the last of them are read (issue 21: "lazy inspect").
 * A 100 GB sparse copy of /bin/true shows as /bin/true does, and as readelf shows the sparse file.
 */
describe('inspect of a 100 GB sparse ELF file reads only its headers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pk-sparse-'));
  const sparse = join(dir, 'true-100G');
  copyFileSync('/bin/true', sparse);
  truncateSync(sparse, 100 * 1024 ** 3);
  const VIEWS: [string, InspectOptions][] = [['-h', { fileHeader: true }], ['-l', { programHeaders: true }], ['-S', { sections: true }], ['-d', { dynamic: true }], ['-n', { notes: true }], ['-hlSdn', { fileHeader: true, programHeaders: true, sections: true, dynamic: true, notes: true }]];
  const shown = async (file: string, opts: InspectOptions): Promise<{ code: number; out: string; err: string }> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runInspect(file, opts, (s) => out.push(s), (s) => err.push(s));
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  it.each(VIEWS)('%s shows what it shows for /bin/true itself', async (_flag, opts) => {
    expect(await shown(sparse, opts)).toEqual({ code: 0, out: render(readFileSync('/bin/true'), opts), err: '' });
  });
  it('the default view (-h -l -d) too, through the command line', async () => {
    const r = await cli('inspect', sparse);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toBe(render(readFileSync('/bin/true'), {}) + '\n');
  });
  if (requires('readelf (inspect of a sparse 100 GB file against readelf)', missingTools([['readelf', 'binutils']]))) {
    it.each(VIEWS)('%s is byte-identical to readelf -W on the sparse file', async (flag, opts) => {
      const want = execFileSync('readelf', [flag, '-W', sparse], { encoding: 'utf8' });
      expect((await shown(sparse, opts)).out + '\n').toBe(want);
    });
  }
  it('views that need more than the headers are refused, naming the ones it has', async () => {
    const r = await cli('inspect', '-s', sparse);
    expect(r.code).toBe(1);
    oneLine(r.err);
    expect(r.err).toMatch(/is too large \(107,374,182,400 bytes; at most 1,073,741,824\): by its header an ELF file; inspect -h, -l, -S, -d and -n read only its headers$/m);
  });
  it('section headers 50 GB in are refused, not read', async () => {
    const far = join(dir, 'far-sections');
    const bytes = new Uint8Array(readFileSync('/bin/true'));
    new DataView(bytes.buffer).setBigUint64(40, 50n * 1024n ** 3n, true); // e_shoff
    writeFileSync(far, bytes);
    truncateSync(far, 100 * 1024 ** 3);
    const r = await cli('inspect', '-S', far);
    expect(r.code).toBe(1);
    oneLine(r.err);
    expect(r.err).toMatch(/by its header an ELF file; its headers lie beyond the first 1,073,741,824 bytes$/m);
  });
});

describe('options that do not apply are refused (exit 2)', () => {
  it('inspect --arch and --coff-imports on an ELF file', async () => {
    const arch = await cli('inspect', '--arch', 'arm64', '/bin/true');
    expect(arch.code).toBe(2);
    expect(arch.err).toMatch(/--arch does not apply to an ELF file/);
    const coff = await cli('inspect', '--coff-imports', '/bin/true');
    expect(coff.code).toBe(2);
    expect(coff.err).toMatch(/--coff-imports does not apply to an ELF file/);
  });

  it('explain fork --scenario cow', async () => {
    const r = await cli('explain', 'fork', '--scenario', 'cow');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--scenario applies to "fault" only/);
  });

  it('run --maps-each-step with --json', async () => {
    const r = await cli('run', '--json', '--maps-each-step', workload(['brk: { delta: 0 }']));
    expect(r.code).toBe(2);
  });
});

describe('usage errors are exit 2 for every command, documented in --help', () => {
  it('unknown option, missing argument, unknown command', async () => {
    expect((await cli('inspect', '--bogus', '/bin/true')).code).toBe(2);
    expect((await cli('run')).code).toBe(2);
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('--help')).out).toMatch(/Exit status, for every command: 0 success; 1 .*; 2 a\nusage error/s);
    expect((await cli('--version')).code).toBe(0);
  });

  it('run -p LINUX and -p "" name the known personalities', async () => {
    for (const p of ['LINUX', '']) {
      const r = await cli('run', '-p', p, workload(['brk: { delta: 0 }']));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/is not registered \(registered: linux \(linux-6\.x, linux-5\.15\)/);
    }
  });
});

describe('run -m states its range and refuses the rest up front', () => {
  it.each(['0', '1000', '4K', '8K', '512G', '1023G', '1T', 'lots'])('-m %s', async (m) => {
    const r = await cli('run', '-m', m, workload(['brk: { delta: 0 }']));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--memory takes 64K to 16G/);
    oneLine(r.err);
  });

  it('a workload memory field too small to boot is the workload\'s error (exit 1)', async () => {
    const r = await cli('run', workload(['brk: { delta: 0 }'], 'memory: 8K\n'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/memory field takes 64K to 16G; got 8192 \(too small to boot\)/);
  });
});

describe('workload steps: failures stay at their step and the run goes on', () => {
  it('a touch of a region whose mmap failed is SIGSEGV at MAP_FAILED; the output so far is kept', async () => {
    const r = await cli('run', workload([
      'mmap: { name: big, length: 0x7fffffffffff, prot: rw-, flags: [private, anonymous, fixed], addr: 0x10000 }',
      'touch: { region: big, length: 4K }',
      'brk: { delta: 0 }',
    ]));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/mmap name=big .* -> -ENOMEM/);
    expect(r.out).toMatch(/touch region=big .* -> SIGSEGV at 0xffffffffffffffff \(MAP_FAILED/);
    expect(r.out).toMatch(/p\[\d+\]: killed by SIGSEGV/);
  });

  it('a step error inside a fork\'s steps names its own file:line:column', async () => {
    const r = await cli('run', workload(['fork: { steps: [ { close: { fd: nope } } ] }']));
    expect(r.out).toMatch(/-> error: \S+w\.yaml:5:26: processes\[0\]\.steps\[0\]\.fork\.steps\[0\]: file "nope"/);
  });

  it('kill with an unknown signal and an fd never opened are errors at their step, the rest runs', async () => {
    const r = await cli('run', workload(['kill: { process: self, signal: SIGFOO }', 'close: { fd: nope }', 'brk: { delta: 0 }']));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/kill .* -> error: \S+w\.yaml:5:9: processes\[0\]\.steps\[0\]: unknown signal SIGFOO/);
    expect(r.out).toMatch(/close fd=nope +-> error: \S+w\.yaml:6:9: processes\[0\]\.steps\[1\]: file "nope" was not opened by an earlier step/);
    expect(r.out).toMatch(/brk delta=0 +-> 0x0/);
  });

  it('store and load without page contents are refused with how to enable them (they printed ok / value 0)', async () => {
    const r = await cli('run', workload(['mmap: { name: A, length: 4K, prot: rw-, flags: [private, anonymous] }', 'store: { region: A, value: 7 }', 'load: { region: A }']));
    expect(r.out).toMatch(/store .* -> error: \S+:6:9: processes\[0\]\.steps\[1\]: store needs page contents: run with --contents/);
    expect(r.out).toMatch(/load .* -> error: \S+:7:9: processes\[0\]\.steps\[2\]: load needs page contents/);
    const ok = await cli('run', '--contents', workload(['mmap: { name: A, length: 4K, prot: rw-, flags: [private, anonymous] }', 'store: { region: A, value: 7 }', 'load: { region: A }']));
    expect(ok.out).toMatch(/load .* -> value 7/);
  });

  it('raw syscall arguments are registers: mmap length -4096 is ENOMEM; "8K" and "0x10000" are sizes', async () => {
    const r = await cli('run', workload(['syscall: { name: mmap, args: [0, -4096, 3, 34, -1, 0] }', 'syscall: { name: mmap, args: ["0x10000", "8K", 3, 50, -1, 0] }', 'syscall: { name: munmap, args: ["0x10000", "8K"] }']));
    expect(r.out).toMatch(/args=\[0,-4096,3,34,-1,0\] +-> -ENOMEM/);
    expect(r.out).toMatch(/args=\[65536,8192,3,50,-1,0\] +-> 0x10000/);
    expect(r.out).toMatch(/name=munmap .* -> 0x0/);
    expect(r.out).not.toMatch(/VmSize:\s+-/);
  });

  it('touches stream: count 2,000,000,000 is refused at its step; a 1T write touch ends in the OOM killer', async () => {
    const r = await cli('run', workload(['mmap: { name: A, length: 1T, prot: rw-, flags: [private, anonymous, noreserve] }', 'touch: { region: A, length: 4K, count: 2000000000 }']));
    expect(r.out).toMatch(/-> error: \S+:6:9: processes\[0\]\.steps\[1\]: a touch makes at most 100,000,000 accesses; this one would make 2,000,000,000/);
    const oom = await cli('run', '-m', '1M', workload(['mmap: { name: A, length: 1T, prot: rw-, flags: [private, anonymous, noreserve] }', 'touch: { region: A, length: 64M, access: write }']));
    expect(oom.code).toBe(0);
    expect(oom.out).toMatch(/touch .* -> SIGKILL at 0x/);
  }, 30_000);

  it('an alias bomb is one line, exit 1', async () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const r = await cli('run', tmp('bomb.yaml', lines.join('\n') + '\n'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/too many aliases/);
    oneLine(r.err);
  });
});

describe('output and argv limits', () => {
  it('ENOSPC on stdout is one line and exit 1 (it was a stack trace)', async () => {
    let err = '';
    const code = await runCli(['node', 'polykernel', 'inspect', '/bin/true'], {
      out: () => {
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      },
      err: (s) => (err += s + '\n'),
    });
    expect(code).toBe(1);
    expect(err).toBe('polykernel: cannot write the output: no space left on device (ENOSPC)\n');
  });

  it('exec with 140,000 arguments runs (it overflowed the host stack in argument parsing)', async () => {
    const args = Array.from({ length: 140_000 }, (_, i) => String(i + 1));
    const r = await cli('exec', '--status', '/bin/true', ...args);
    expect(r.err).not.toMatch(/call stack/);
    expect([0, 1]).toContain(r.code);
  }, 30_000);

  it('exec -e FOO=bar /bin/true: -e takes one value, the file is the file', async () => {
    const r = await cli('exec', '-e', 'FOO=bar', '-e', 'BAZ=1', '--json', '/bin/true');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { envp: string[] }).envp).toEqual(['FOO=bar', 'BAZ=1']);
  });
});

describe('exec depends only on what binfmt_elf reads (issue 21)', () => {
  const patched = (name: string, patch: (b: Buffer) => Buffer): string => {
    const f = join(mkdtempSync(join(tmpdir(), 'pk-elf-')), name);
    writeFileSync(f, patch(Buffer.from(readFileSync('/bin/true'))), { mode: 0o755 });
    return f;
  };

  it('e_shoff 2^64-1 and e_shnum 4096 run (the kernel never reads section headers); inspect -l still shows the program headers', async () => {
    const shoff = patched('shoff', (b) => (b.fill(0xff, 0x28, 0x30), b));
    const shnum = patched('shnum', (b) => (b.writeUInt16LE(4096, 0x3c), b));
    for (const f of [shoff, shnum]) {
      const r = await cli('exec', f);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/\[stack\]/);
    }
    const l = await cli('inspect', '-l', shoff);
    expect(l.code).toBe(0);
    expect(l.out).toMatch(/Program Headers:/);
    expect(l.err).toMatch(/warning: .*e_shoff/);
  });

  it('a file cut after its program headers is EIO (PT_INTERP is a short read), as on the host', async () => {
    const cut = patched('cut', (b) => b.subarray(0, b.readUInt32LE(0x20) + 56 * b.readUInt16LE(0x38)));
    const r = await cli('exec', cut);
    expect(r.err).toMatch(/execve failed: EIO \(-5\)/);
  });

  it('a 32-bit x86 program says IA-32 emulation is not modelled', async () => {
    const i386 = patched('i386', (b) => (b.writeUInt8(1, 4), b.writeUInt16LE(3, 0x12), b));
    const r = await cli('exec', i386);
    expect(r.code).toBe(126);
    expect(r.err).toMatch(/ENOEXEC \(-8\) — a 32-bit x86 program: IA-32 emulation is not modelled/);
  });
});

describe('Mach-O cpusubtype is unsigned, its capability bits apart (issue 21)', () => {
  it('CPU_SUBTYPE_X86_64_ALL | CPU_SUBTYPE_LIB64 is 3 with caps 0x80, not -2147483645', () => {
    expect(subtypeOf(0x80000003 - 2 ** 32)).toBe(3);
    expect(capsOf(0x80000003 - 2 ** 32)).toBe('0x80');
    expect(capsOf(3)).toBe('0x00');
  });
});

describe('progress: on a terminal only (issue 21)', () => {
  it('ticks at most every half second when given a terminal writer, and never without one', () => {
    let now = 0;
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      const shown: string[] = [];
      const p = new Progress(5000, (s) => shown.push(s));
      const silent = new Progress(5000, null);
      for (let done = 1; done <= 4096; done++) {
        now += 1;
        p.tick(done);
        silent.tick(done);
      }
      p.end();
      expect(shown.length).toBeGreaterThan(1);
      expect(shown[0]).toMatch(/^\rpolykernel run: [\d,]+ steps done \(5,000 in the workload's processes\)/);
      expect(shown.at(-1)).toBe('\r\x1b[K');
      const note: string[] = [];
      const loading = new Progress(0, (s) => note.push(s));
      loading.note('loading 85 MB of workload');
      loading.end();
      expect(note).toEqual(['\rpolykernel run: loading 85 MB of workload\x1b[K', '\r\x1b[K']);
    } finally {
      clock.mockRestore();
    }
  });

  it('a pipe or file (stderr not a TTY, as under vitest) gets none: the run writes only its output', async () => {
    const r = await cli('run', workload(['brk: { delta: 0 }']));
    expect(r.err).toBe('');
  });
});

describe('exec --cpu host: the auxv CPU words are this machine\'s (issue 21: AT_MINSIGSTKSZ)', () => {
  it('HWCAP and MINSIGSTKSZ from /proc/cpuinfo agree with LD_SHOW_AUXV on this host', () => {
    const cpu = hostCpu();
    if (cpu === undefined) return; // not an x86 Linux host
    const shown = execFileSync('/bin/true', [], { env: { LD_SHOW_AUXV: '1' }, encoding: 'utf8' });
    // LD_SHOW_AUXV prints AT_HWCAP in hex without 0x, AT_MINSIGSTKSZ in decimal.
    const field = (name: string): string => new RegExp(`^AT_${name}:\\s+(\\S+)`, 'm').exec(shown)?.[1] ?? '';
    const value = (name: string): number => (name === 'HWCAP' ? Number.parseInt(field(name), 16) : Number(field(name)));
    expect(cpu.minSigStkSz).toBe(value('MINSIGSTKSZ'));
    expect(cpu.hwcap).toBe(value('HWCAP'));
  });

  it('a CPU with AVX and MPX but no AVX-512 gets 1776, as the issue\'s host did', () => {
    expect(cpuFromFlags(['fpu', 'sse', 'sse2', 'xsave', 'avx', 'mpx']).minSigStkSz).toBe(1776);
    expect(cpuFromFlags(['fpu']).hwcap).toBe(1);
  });

  it('--cpu takes host or zen4', async () => {
    expect((await cli('exec', '--cpu', 'pentium', '/bin/true')).code).toBe(2);
    const r = await cli('exec', '--cpu', 'host', '--auxv', '/bin/true');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/AT_MINSIGSTKSZ/);
  });
});

describe('the project stands alone (issue 21: the README linked a brief file outside the repository)', () => {
  const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
  const docs = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f)),
    ...['apps', 'packages', 'packages/formats', 'packages/personalities'].flatMap((d) => readdirSync(join(ROOT, d)).map((p) => join(d, p, 'README.md'))),
  ].filter((f) => existsSync(join(ROOT, f)));
  it('every relative link in the READMEs and docs/ names a file inside the repository', () => {
    expect(docs.length).toBeGreaterThan(10);
    const broken: string[] = [];
    for (const f of docs) {
      const text = readFileSync(join(ROOT, f), 'utf8');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!.split('#')[0]!;
        if (target === '' || /^[a-z]+:/.test(target)) continue;
        const at = resolve(ROOT, dirname(f), target);
        if (relative(ROOT, at).startsWith('..') || !existsSync(at)) broken.push(`${f}: ${target}`);
      }
      if (/\.\.\/shared\/|shared\/brief\//.test(text)) broken.push(`${f}: names the brief outside the project`);
    }
    expect(broken).toEqual([]);
  });
});
