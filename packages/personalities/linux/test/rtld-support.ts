/** Running a program through execve and ld.so on the simulated kernel, and reading the host oracles' output the same way. */
import { Kernel, type SyscallArg } from '@polykernel/kernel';
import { sysrootLookup } from '@polykernel/kernel/node';
import { linuxPersonality, procMaps, runLdSo, type LinuxSpace } from '../src/index.js';

/** Which arguments of each call the comparison uses (buffers ld.so owns are left out: their addresses are its stack's). */
const COMPARED: Record<string, number[]> = {
  brk: [0], mmap: [0, 1, 2, 3, 4, 5], munmap: [0, 1], mprotect: [0, 1, 2], openat: [0, 1, 2], read: [0, 2], pread64: [0, 2, 3],
  newfstatat: [0, 1, 3], close: [0], access: [0, 1], arch_prctl: [0, 1], set_tid_address: [0], set_robust_list: [0, 1],
  rseq: [0, 1, 2, 3], prlimit64: [0, 1, 2], readlink: [0, 2],
};

function norm(v: SyscallArg | string): string {
  if (typeof v === 'number') return v < 0 ? String(v) : `0x${v.toString(16)}`;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** One call as "name(arg, arg) = result" with only the compared arguments. */
export function callLine(name: string, args: readonly (SyscallArg | string)[], result: string): string {
  const pick = COMPARED[name] ?? [];
  // set_tid_address returns the thread id, which is the host's pid there.
  return `${name}(${pick.map((i) => norm(args[i] ?? 0)).join(', ')}) = ${name === 'set_tid_address' ? 'tid' : result}`;
}

/** Split strace's argument text at top-level commas. */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      cur += c;
      if (c === '\\') cur += s[++i] ?? '';
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    if (c === '{' || c === '[') depth++;
    if (c === '}' || c === ']') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

function stArg(a: string): string {
  if (a === 'NULL') return '0x0';
  // Paths carry no escapes; buffers (with \177-style escapes) are never compared.
  if (a.startsWith('"')) return a.slice(1, a.lastIndexOf('"'));
  if (/^-?\d+$/.test(a)) return Number(a) < 0 ? a : `0x${Number(a).toString(16)}`;
  if (/^0x[0-9a-f]+$/i.test(a)) return `0x${BigInt(a).toString(16)}`;
  return a;
}

/** strace -X raw lines → the same normalised form. */
export function straceLines(out: string): string[] {
  const lines: string[] = [];
  for (const l of out.split('\n')) {
    const m = /^(\w+)\((.*)\)\s+= (.*)$/.exec(l);
    if (m === null) continue;
    const [, name, args, ret] = m;
    const e = /^-1 (E\w+)/.exec(ret!);
    const result = e !== null ? e[1]! : stArg(ret!.split(' ')[0]!);
    lines.push(callLine(name!, splitArgs(args!).map(stArg), result));
  }
  return lines;
}

export interface Simulated {
  calls: string[];
  maps: string[];
  fsBase: number;
  kernel: Kernel<LinuxSpace>;
  result: ReturnType<typeof runLdSo>;
}

/** execve then ld.so on the host's files, with 0, 1 and 2 open as a shell leaves them. */
export function simulate(program: string, argv: string[] = [program], env: string[] = ['PATH=/usr/bin:/bin']): Simulated {
  const lp = linuxPersonality({ variant: 'linux-6.x', fs: sysrootLookup('/') });
  const k = new Kernel<LinuxSpace>(lp, { contents: true, frames: 65536 });
  const p = k.createProcess(k.init, 'polykernel');
  for (const writable of [false, true, true]) p.installFile({ path: '/dev/null', bytes: new Uint8Array(0), readable: !writable, writable, device: 'null', offset: 0 });
  const r = k.syscall(p.threads[0]!, 'execve', [program, argv, env]);
  if (r.error !== null) throw new Error(`execve ${program}: ${r.error}`);
  const calls: string[] = [];
  let pending: { name: string; args: readonly SyscallArg[] } | null = null;
  const off1 = k.bus.probe('syscall:entry').subscribe((e) => {
    pending = { name: e.name, args: e.args };
  });
  const off2 = k.bus.probe('syscall:return').subscribe((e) => {
    if (pending !== null) calls.push(callLine(pending.name, pending.args, e.error ?? `0x${e.value.toString(16)}`));
  });
  try {
    const result = runLdSo(k, p);
    return { calls, maps: procMaps(p.space.mm).trimEnd().split('\n'), fsBase: result?.fsBase ?? 0, kernel: k, result };
  } finally {
    off1();
    off2();
  }
}
