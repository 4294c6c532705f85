/**
 * The name space under random call sequences: open(O_CREAT|O_TRUNC) + write, unlink, rename, mkdir,
 * rmdir, chdir, holding a file open or mapped, with absolute and working-directory-relative paths.
 * A model of the directory tree (the file system's names under the overlay) predicts every call's
 * result and errno; at the end every name agrees, descriptors and mappings of unlinked or replaced
 * files still read their file, and once every process has exited no vnode object, VM object or
 * frame is left and the file system's bytes are unchanged.
 */
import { FREEBSD_ERRNO } from '@polykernel/core';
import { Kernel, memoryFileSystem, S_IFDIR, type FsFile, type Thread } from '@polykernel/kernel';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { MAP_ANON, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE } from '../param.js';
import { freebsdPersonality } from '../personality.js';
import { O } from './kern_descrip.js';
import { vfsOf, vnodeCounts } from './vfs_vnode.js';

type K = Kernel<FreebsdSpace, FreebsdMachine>;
const E = FREEBSD_ERRNO;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

interface FileNode { kind: 'file'; text: string }
/** `listed`: false for a directory of the file system, which cannot be listed (rmdir: ENOTEMPTY). */
interface DirNode { kind: 'dir'; listed: boolean }
type Node = FileNode | DirNode;

/** The model: every visible name under /tmp. */
class Tree {
  readonly nodes = new Map<string, Node>([['/tmp', { kind: 'dir', listed: false }], ['/tmp/f', { kind: 'file', text: 'lower f' }],
    ['/tmp/d', { kind: 'dir', listed: false }], ['/tmp/d/g', { kind: 'file', text: 'lower g' }]]);
  cwd = '/tmp';
  cwdGone = false;

  parentOf(path: string): string {
    return path.slice(0, path.lastIndexOf('/'));
  }

  /** namei's answer for an existing-or-not name: the node, null (missing last name), or the errno of the walk. */
  walk(path: string): Node | null | number {
    const parts = path.split('/').filter((c) => c !== '');
    let here = '';
    for (let i = 0; i < parts.length; i++) {
      here += `/${parts[i]!}`;
      const n = here === '/tmp' || !here.startsWith('/tmp') ? (here === '/tmp' ? this.nodes.get('/tmp')! : null) : this.nodes.get(here) ?? null;
      if (n === null) return i === parts.length - 1 ? null : E.ENOENT;
      if (i < parts.length - 1 && n.kind !== 'dir') return E.ENOTDIR;
      if (i === parts.length - 1) return n;
    }
    return null;
  }

  empty(path: string, n: DirNode): boolean {
    if (!n.listed) return false;
    for (const p of this.nodes.keys()) if (p.startsWith(`${path}/`)) return false;
    return true;
  }

  create(path: string, text: string): number {
    const w = this.walk(path);
    if (typeof w === 'number') return w;
    if (w === null) {
      this.nodes.set(path, { kind: 'file', text });
      return 0;
    }
    if (w.kind === 'dir') return E.EISDIR;
    w.text = text;
    return 0;
  }

  mkdir(path: string): number {
    const w = this.walk(path);
    if (typeof w === 'number') return w;
    if (w !== null) return E.EEXIST;
    this.nodes.set(path, { kind: 'dir', listed: true });
    return 0;
  }

  unlink(path: string): number {
    const w = this.walk(path);
    if (typeof w === 'number') return w;
    if (w === null) return E.ENOENT;
    if (w.kind === 'dir') return E.EPERM;
    this.nodes.delete(path);
    return 0;
  }

  rmdir(path: string): number {
    const w = this.walk(path);
    if (typeof w === 'number') return w;
    if (w === null) return E.ENOENT;
    if (w.kind !== 'dir') return E.ENOTDIR;
    if (!this.empty(path, w)) return E.ENOTEMPTY;
    this.nodes.delete(path);
    if (!this.cwdGone && this.cwd === path) this.cwdGone = true;
    return 0;
  }

  rename(from: string, to: string): number {
    const f = this.walk(from);
    if (typeof f === 'number') return f;
    if (f === null) return E.ENOENT;
    const t = this.walk(to);
    if (typeof t === 'number') return t;
    if (t !== null) {
      if (f.kind === 'dir' && t.kind !== 'dir') return E.ENOTDIR;
      if (f.kind !== 'dir' && t.kind === 'dir') return E.EISDIR;
    }
    if (this.parentOf(to) === from) return E.EINVAL;
    if (f === t) return 0;
    if (f.kind === 'dir') {
      if (to.startsWith(`${from}/`)) return E.EINVAL;
      if (t !== null && t.kind === 'dir' && !this.empty(to, t)) return E.ENOTEMPTY;
    }
    this.nodes.delete(to);
    for (const [p, n] of [...this.nodes]) {
      if (p !== from && !p.startsWith(`${from}/`)) continue;
      this.nodes.delete(p);
      this.nodes.set(to + p.slice(from.length), n);
    }
    if (!this.cwdGone && (this.cwd === from || this.cwd.startsWith(`${from}/`))) this.cwd = to + this.cwd.slice(from.length);
    return 0;
  }

  chdir(path: string): number {
    const w = this.walk(path);
    if (typeof w === 'number') return w;
    if (w === null) return E.ENOENT;
    if (w.kind !== 'dir') return E.ENOTDIR;
    this.cwd = path;
    this.cwdGone = false;
    return 0;
  }
}

const NAMES = ['a', 'b', 'd', 'f', 'g'] as const;
const pathArb = fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 }).map((c) => `/tmp/${c.join('/')}`);
const opArb = fc.oneof(
  fc.record({ op: fc.constant('create' as const), path: pathArb, text: fc.constantFrom('x', 'hello', 'FreeBSD 14', '0123456789'), rel: fc.boolean() }),
  fc.record({ op: fc.constant('mkdir' as const), path: pathArb, rel: fc.boolean() }),
  fc.record({ op: fc.constant('unlink' as const), path: pathArb, rel: fc.boolean() }),
  fc.record({ op: fc.constant('rmdir' as const), path: pathArb, rel: fc.boolean() }),
  fc.record({ op: fc.constant('rename' as const), path: pathArb, to: pathArb, rel: fc.boolean() }),
  fc.record({ op: fc.constant('chdir' as const), path: fc.oneof(pathArb, fc.constant('/tmp')), rel: fc.constant(false) }),
  fc.record({ op: fc.constant('hold' as const), path: pathArb, rel: fc.boolean() }),
  fc.record({ op: fc.constant('map' as const), path: pathArb, rel: fc.boolean() }),
);

function lowerFs(): Record<string, FsFile> {
  const f = (path: string, text: string, ino: number): FsFile => ({ path, bytes: enc(text), dev: [0, 1], ino, mode: 0o100644 });
  return {
    '/tmp': { path: '/tmp', bytes: new Uint8Array(0), dev: [0, 1], ino: 50, mode: S_IFDIR | 0o1777 },
    '/tmp/f': f('/tmp/f', 'lower f', 51),
    '/tmp/d/g': f('/tmp/d/g', 'lower g', 52),
  };
}

/** Every mapped frame belongs to an object and is referenced once by it plus once per page-table entry. */
function checkRefcounts(k: K): void {
  const refs = new Map<number, number>();
  for (const s of k.state.spaces) s.pmap.pt.forEachLeaf(0, 2 ** 47, (_va, frame) => refs.set(frame, (refs.get(frame) ?? 0) + 1));
  for (const [frame, n] of refs) {
    expect(k.vm.ownerOf(frame), `frame ${frame} is mapped but belongs to no object`).not.toBeNull();
    expect(k.mmu.frames.refcount[frame], `frame ${frame}`).toBe(1 + n);
  }
}

describe('the name space under random calls', () => {
  it('agrees with a model of the tree, keeps unlinked files alive while used, and leaks nothing', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), (ops) => {
      const fs = memoryFileSystem(lowerFs());
      const k: K = new Kernel(freebsdPersonality({ fs }), { frames: 2048, seed: 3, contents: true });
      const free0 = k.mmu.frames.freeFrames;
      const p = k.createProcess(k.init, 'sh');
      const t: Thread = p.threads[0]!;
      const buf = k.syscall(t, 'mmap', [0, PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANON, -1, 0]).value;
      const model = new Tree();
      expect(k.syscall(t, 'chdir', ['/tmp']).value).toBe(0);
      const held: { fd: number; node: FileNode }[] = [];
      const maps: { va: number; node: FileNode }[] = [];
      const call = (name: string, args: (number | string)[]): number => {
        const r = k.syscall(t, name, args);
        return r.value === -1 ? r.errorNumber : 0;
      };
      // A relative spelling of the path when the working directory holds it.
      const spell = (path: string, rel: boolean): string => (rel && !model.cwdGone && path.startsWith(`${model.cwd}/`) ? path.slice(model.cwd.length + 1) : path);
      for (const o of ops) {
        const path = spell(o.path, o.rel);
        switch (o.op) {
          case 'create': {
            const fd = k.syscall(t, 'open', [path, O.RDWR | O.CREAT | O.TRUNC, 0o644]);
            const want = model.create(o.path, o.text);
            expect(fd.value === -1 ? fd.errorNumber : 0, `create ${path}`).toBe(want);
            if (fd.value >= 0) {
              k.copyToUser(t, buf, enc(o.text));
              expect(k.syscall(t, 'write', [fd.value, buf, o.text.length]).value).toBe(o.text.length);
              expect(call('close', [fd.value])).toBe(0);
            }
            break;
          }
          case 'mkdir': expect(call('mkdir', [path, 0o755]), `mkdir ${path}`).toBe(model.mkdir(o.path)); break;
          case 'unlink': expect(call('unlink', [path]), `unlink ${path}`).toBe(model.unlink(o.path)); break;
          case 'rmdir': expect(call('rmdir', [path]), `rmdir ${path}`).toBe(model.rmdir(o.path)); break;
          case 'rename': expect(call('rename', [path, spell(o.to, o.rel)]), `rename ${path} ${o.to}`).toBe(model.rename(o.path, o.to)); break;
          case 'chdir': expect(call('chdir', [path]), `chdir ${path}`).toBe(model.chdir(o.path)); break;
          case 'hold':
          case 'map': {
            const n = model.walk(o.path);
            const fd = k.syscall(t, 'open', [path, O.RDWR, 0]);
            if (n === null || typeof n === 'number' || n.kind !== 'file') {
              expect(fd.value).toBe(-1);
              break;
            }
            expect(fd.value, `open ${path}`).toBeGreaterThanOrEqual(0);
            if (o.op === 'hold') {
              held.push({ fd: fd.value, node: n });
            } else {
              const va = k.syscall(t, 'mmap', [0, PAGE_SIZE, 3, MAP_SHARED, fd.value, 0]).value;
              expect(va).toBeGreaterThan(0);
              expect(call('close', [fd.value])).toBe(0);
              if (n.text.length > 0) maps.push({ va, node: n });
              else expect(call('munmap', [va, PAGE_SIZE])).toBe(0);
            }
            break;
          }
        }
      }
      // Every name of the universe agrees with the model.
      const universe = NAMES.flatMap((a) => [`/tmp/${a}`, ...NAMES.flatMap((b) => [`/tmp/${a}/${b}`, ...NAMES.map((c) => `/tmp/${a}/${b}/${c}`)])]);
      for (const path of universe) {
        const n = model.walk(path);
        const fd = k.syscall(t, 'open', [path, O.RDONLY, 0]);
        if (n === null || typeof n === 'number') {
          expect(fd.value, `${path} should not exist`).toBe(-1);
          continue;
        }
        expect(fd.value, `${path} should exist`).toBeGreaterThanOrEqual(0);
        if (n.kind === 'file') {
          const got = k.syscall(t, 'read', [fd.value, buf, 100]).value;
          expect(dec(k.copyFromUser(t, buf, got)), path).toBe(n.text);
        } else {
          expect(k.syscall(t, 'read', [fd.value, buf, 100]).errorNumber).toBe(E.EISDIR);
        }
        call('close', [fd.value]);
      }
      if (model.cwdGone) {
        expect(k.syscall(t, '__getcwd', [buf, 1024]).errorNumber).toBe(E.ENOENT);
      } else {
        expect(call('__getcwd', [buf, 1024])).toBe(0);
        const b = k.copyFromUser(t, buf, 1024);
        expect(dec(b.subarray(0, b.indexOf(0)))).toBe(model.cwd);
      }
      // Held descriptors and mappings still reach their file, named or not.
      for (const h of held) {
        const got = k.syscall(t, 'pread', [h.fd, buf, 100, 0]).value;
        expect(dec(k.copyFromUser(t, buf, got))).toBe(h.node.text);
      }
      for (const m of maps) expect(dec(k.copyFromUser(t, m.va, m.node.text.length))).toBe(m.node.text);
      checkRefcounts(k);
      expect(vfsOf(k.state).objects, 'the count munmap looks at').toBe(vnodeCounts(k.state).objects);
      k.exitProcess(p, 0);
      expect(vnodeCounts(k.state).objects).toBe(0);
      expect(vnodeCounts(k.state).orphans, 'unlinked vnodes kept').toBe(0);
      expect(k.vm.liveObjects).toBe(0);
      expect(k.mmu.frames.freeFrames).toBe(free0);
      expect(dec((fs('/tmp/f') as FsFile).bytes)).toBe('lower f');
      expect(dec((fs('/tmp/d/g') as FsFile).bytes)).toBe('lower g');
      expect(fs('/tmp/a')).toBe('ENOENT');
    }), { seed: 0x5eed, numRuns: 200 });
  });
});
