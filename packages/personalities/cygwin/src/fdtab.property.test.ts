/**
 * Property: the fd table against a reference model. Random open/close/dup/dup2/F_DUPFD/F_SETFD
 * sequences, then fork and spawn: every result and the table (fd → path, FD_CLOEXEC) agree with the
 * model (lowest free fd, dup clears FD_CLOEXEC, dup2 onto itself is a no-op, fork keeps the table,
 * spawn drops close-on-exec fds).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FD_CLOEXEC, F_DUPFD, F_SETFD, O_CLOEXEC, O_RDWR } from './fdtab.js';
import { bootCygwin, on } from './testkit.js';
import { fdRows } from './views.js';

type Op =
  | { k: 'open'; path: string; cloexec: boolean }
  | { k: 'close' | 'dup' | 'cloexec'; fd: number }
  | { k: 'dup2' | 'dupfd'; fd: number; to: number };

const fdArb = fc.nat(9);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('open' as const), path: fc.constantFrom('/dev/null', '/dev/zero', '/usr/bin/true.exe'), cloexec: fc.boolean() }),
  fc.record({ k: fc.constantFrom('close' as const, 'dup' as const, 'cloexec' as const), fd: fdArb }),
  fc.record({ k: fc.constantFrom('dup2' as const, 'dupfd' as const), fd: fdArb, to: fdArb }),
);

interface Slot { path: string; cloexec: boolean }

function lowest(m: (Slot | null)[], from: number): number {
  let fd = from;
  while (fd < m.length && m[fd] !== null && m[fd] !== undefined) fd++;
  return fd;
}

/** The model's result of one op (the new fd, 0, or -1 for EBADF), updating `m`. */
function model(m: (Slot | null)[], o: Op): number {
  const at = (fd: number): Slot | null => m[fd] ?? null;
  const put = (fd: number, s: Slot): number => {
    while (m.length <= fd) m.push(null);
    m[fd] = s;
    return fd;
  };
  switch (o.k) {
    case 'open': return put(lowest(m, 0), { path: o.path, cloexec: o.cloexec });
    case 'close': if (at(o.fd) === null) return -1; m[o.fd] = null; return 0;
    case 'dup': { const s = at(o.fd); return s === null ? -1 : put(lowest(m, 0), { path: s.path, cloexec: false }); }
    case 'cloexec': { const s = at(o.fd); if (s === null) return -1; s.cloexec = true; return 0; }
    case 'dup2': { const s = at(o.fd); if (s === null) return -1; return o.fd === o.to ? o.to : put(o.to, { path: s.path, cloexec: false }); }
    case 'dupfd': { const s = at(o.fd); return s === null ? -1 : put(lowest(m, o.to), { path: s.path, cloexec: false }); }
  }
}

/** The op as the program's call. */
function apply(c: ReturnType<typeof bootCygwin>, o: Op): { value: number } {
  switch (o.k) {
    case 'open': return c.call('open', o.path, (o.path === '/usr/bin/true.exe' ? 0 : O_RDWR) + (o.cloexec ? O_CLOEXEC : 0), 0);
    case 'close': return c.call('close', o.fd);
    case 'dup': return c.call('dup', o.fd);
    case 'cloexec': return c.call('fcntl', o.fd, F_SETFD, FD_CLOEXEC);
    case 'dup2': return c.call('dup2', o.fd, o.to);
    case 'dupfd': return c.call('fcntl', o.fd, F_DUPFD, o.to);
  }
}

const table = (m: (Slot | null)[]): string[] => m.flatMap((s, fd) => (s === null ? [] : [`${String(fd)}:${s.path}${s.cloexec ? ':cloexec' : ''}`]));

describe('fd table property', () => {
  it('matches the model through random operations, fork and spawn', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
        const c = bootCygwin();
        const m: (Slot | null)[] = [0, 1, 2].map(() => ({ path: '/dev/cons0', cloexec: false }));
        for (const o of ops) {
          const r = apply(c, o);
          expect(r.value).toBe(model(m, o));
        }
        const got = (x: ReturnType<typeof bootCygwin>): string[] => fdRows(x.k, x.p).map((r) => `${String(r.fd)}:${String(r.path)}${r.cloexec === true ? ':cloexec' : ''}`);
        expect(got(c)).toEqual(table(m));
        const fpid = c.call('fork').value;
        const fch = on(c.k, c.k.processes.get(c.k.state.cygwin.byPid.get(fpid)!.winpid)!);
        expect(got(fch)).toEqual(table(m));
        const spid = c.call('spawnve', 1, '/usr/bin/true.exe', ['true'], []).value;
        const sch = on(c.k, c.k.processes.get(c.k.state.cygwin.byPid.get(spid)!.winpid)!);
        expect(got(sch)).toEqual(table(m.map((s) => (s?.cloexec === true ? null : s))));
      }),
      { numRuns: 30, seed: 7 },
    );
  });
});
