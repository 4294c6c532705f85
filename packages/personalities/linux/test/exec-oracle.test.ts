/**
 * Oracle: execve of real programs on the host kernel (stopped by ptrace right after execve, ASLR
 * off: tools/fixtures/host-exec.sh) and on the Linux personality must give the same
 * /proc/<pid>/maps (every line, [vsyscall] included), the same VmFlags for every area, the same
 * status memory lines, the same auxiliary vector, the same stack pointer and the same initial
 * stack bytes (except AT_RANDOM's 16 random bytes). The CPU-dependent auxv values (AT_HWCAP,
 * AT_HWCAP2, AT_MINSIGSTKSZ) are the machine description the simulated kernel is given, read
 * from the host. Needs x86-64 Linux with gcc and libc6-dev (and ptrace): without them it fails
 * under CI and skips (saying what is missing) elsewhere; a harness error fails.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, realpathSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kernel } from '@polykernel/kernel';
import { describe, expect, it } from 'vitest';
import { requires, runHarness } from '../../../../tools/test-support/oracle.js';
import { AT, linuxPersonality, procMaps, procStatusMemory, vmFlagsLine, type FileLookup, type LinuxSpace } from '../src/index.js';
import { hostProblem } from './host.js';

const HOST = fileURLToPath(new URL('../../../../tools/fixtures/host-exec.sh', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../../formats/elf/test/fixtures/', import.meta.url));
const ENV = ['PATH=/usr/bin:/bin'];

/** The host's files, as the simulated kernel's file system: d_path is the resolved path. */
export const hostFs: FileLookup = (path) => {
  try {
    const real = realpathSync(path);
    const st = statSync(real, { bigint: true });
    const dev = st.dev;
    // new_encode_dev's inverse (include/linux/kdev_t.h): major in bits 8-19, minor in 0-7 and 20-31.
    const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
    const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
    return { path: real, bytes: new Uint8Array(readFileSync(real)), dev: [major, minor], ino: Number(st.ino), mode: Number(st.mode) };
  } catch {
    return 'ENOENT';
  }
};

interface HostExec { maps: string[]; flags: string[]; status: string[]; stat: string[]; auxv: [number, number][]; sp: number; stack: Uint8Array }

function runHost(argv: string[]): HostExec {
  const out = execFileSync('bash', [HOST, ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const r: HostExec = { maps: [], flags: [], status: [], stat: [], auxv: [], sp: 0, stack: new Uint8Array() };
  for (const line of out.split('\n')) {
    const [tag = '', ...rest] = line.split(' ');
    const value = rest.join(' ');
    if (tag === 'maps') r.maps.push(value);
    else if (tag === 'flags') r.flags.push(value.trimEnd());
    else if (tag === 'status') r.status.push(value);
    // Fields after the ")" of comm, so a comm with spaces cannot shift them; field 3 (state) is [0].
    else if (tag === 'stat') r.stat = value.slice(value.lastIndexOf(')') + 2).trim().split(' ');
    else if (tag === 'auxv') r.auxv.push([Number(rest[0]), Number(rest[1])]);
    else if (tag === 'sp') r.sp = Number(value);
    else if (tag === 'stack') r.stack = Uint8Array.from(value.match(/../g) ?? [], (h) => parseInt(h, 16));
  }
  return r;
}

const auxvValue = (a: [number, number][], t: number): number => a.find(([x]) => x === t)?.[1] ?? 0;

/** A #! script of ours (binfmt_script runs /bin/true with one argument and the script's path). */
const SCRIPT = join(realpathSync(mkdtempSync(join(tmpdir(), 'pk-exec-'))), 'hello.sh');
writeFileSync(SCRIPT, '#!/bin/true  -x y \necho never\n');
chmodSync(SCRIPT, 0o755);

const PROGRAMS: [string, string[]][] = [
  ['/bin/true (PIE, dynamic)', ['/bin/true']],
  ['/bin/cat with arguments', ['/bin/cat', '-n', '/etc/hostname']],
  ['our PIE', [`${FIXTURES}hello-pie-x86_64.elf`, 'one', 'two']],
  ['our non-PIE', [`${FIXTURES}hello-nopie-x86_64.elf`]],
  ['our static non-PIE', [`${FIXTURES}static-x86_64.elf`, 'x']],
  ['our static PIE (loaded where mmap(NULL) would put it)', [`${FIXTURES}static-pie-x86_64.elf`]],
  ['a #! script (interpreter, its argument, the script path)', [SCRIPT, 'arg']],
];

const ready = requires('the host exec oracle (tools/fixtures/host-exec.sh)', hostProblem());

for (const [label, argv] of ready ? PROGRAMS : []) {
  describe(`execve against the host kernel: ${label}`, () => {
    const h = runHarness(`host-exec.sh ${argv.join(' ')}`, () => runHost(argv));
    if (h === null) return;
    const k = new Kernel(linuxPersonality({
      variant: 'linux-6.x',
      fs: hostFs,
      mm: { mmapMinAddr: Number(readFileSync('/proc/sys/vm/mmap_min_addr', 'utf8').trim()) },
      cpu: { hwcap: auxvValue(h.auxv, AT.HWCAP), hwcap2: auxvValue(h.auxv, AT.HWCAP2), minSigStkSz: auxvValue(h.auxv, AT.MINSIGSTKSZ) },
    }), { contents: true, frames: 65536 });
    const p = k.createProcess(k.init, 'stopexec', { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, euid: process.geteuid?.() ?? 0, egid: process.getegid?.() ?? 0 });
    const r = k.syscall(p.threads[0]!, 'execve', [argv[0]!, argv, ENV]);
    const s: LinuxSpace = p.space;

    it('execve returns 0', () => {
      expect(r.error).toBeNull();
      expect(r.value).toBe(0);
    });
    it('maps the same areas: /proc/<pid>/maps byte for byte', () => {
      expect(procMaps(s.mm).trimEnd().split('\n')).toEqual(h.maps);
    });
    it('with the same vm_flags (smaps VmFlags)', () => {
      expect([...s.mm.vmas.iterateFrom(0)].map((v) => vmFlagsLine(v).trimEnd())).toEqual(h.flags.slice(0, -1));
    });
    it('and the same /proc/<pid>/status memory lines (sizes, rss by type, page tables)', () => {
      expect(procStatusMemory(s).trimEnd().split('\n')).toEqual(h.status);
    });
    it('and the same mm layout fields of /proc/<pid>/stat (start_code ... env_end)', () => {
      // proc(5) field numbers; stat[i] is field i + 3.
      const field = (n: number): number => Number(h.stat[n - 3]);
      const mm = s.mm;
      expect([mm.startCode, mm.endCode, mm.startStack]).toEqual([field(26), field(27), field(28)]);
      expect([mm.startData, mm.endData, mm.startBrk]).toEqual([field(45), field(46), field(47)]);
      expect([mm.argStart, mm.argEnd, mm.envStart, mm.envEnd]).toEqual([field(48), field(49), field(50), field(51)]);
    });
    it('builds the same auxiliary vector', () => {
      expect(s.image!.auxv).toEqual(h.auxv);
    });
    it('and the same initial stack from sp up (AT_RANDOM bytes aside)', () => {
      expect(s.image!.sp).toBe(h.sp);
      const random = auxvValue(h.auxv, AT.RANDOM) - h.sp;
      const mask = (b: Uint8Array): number[] => [...b].map((x, i) => (i >= random && i < random + 16 ? 0 : x));
      expect(mask(s.image!.stack)).toEqual(mask(h.stack));
      // The bytes are in simulated memory too: read them back through the page tables.
      const pa = k.mmu.translate(0, k.asidOf(p), s.image!.sp, 0, true);
      expect(pa).toBeGreaterThanOrEqual(0);
      expect([...k.mmu.frames.read(pa, 16)]).toEqual([...s.image!.stack.subarray(0, 16)]);
    });
  });
}
