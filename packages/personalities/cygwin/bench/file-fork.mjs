/* global console, process */
// Cygwin fork of a process with N MiB resident in one mapping: private anonymous (VirtualAlloc),
// a private file mapping (FILE_MAP_COPY view: fixup_mmaps_after_fork reads every committed page
// from the parent) and a shared file mapping (the inherited section viewed again: nothing copied).
// Content-less machine, seed 1. Build first: npx nx run @polykernel/cygwin:typecheck (tsc -b writes dist/).
// Run: node packages/personalities/cygwin/bench/file-fork.mjs
import { Kernel, memoryFileSystem } from '@polykernel/kernel';
import { cygwinPersonality } from '../dist/index.js';
const MiB = 1024 * 1024;
function run(kind, mib) {
  const size = mib * MiB;
  const k = new Kernel(cygwinPersonality({ fs: memoryFileSystem({ '/home/u/f.bin': new Uint8Array(size) }) }), { frames: 4 * size / 4096 + 65536, contents: false, seed: 1 });
  const c = k.personality.portable.start(k, 'bash');
  const t = c.thread;
  const call = (n, ...a) => k.syscall(t, n, a);
  let a;
  if (kind === 'anon') a = call('mmap', 0, size, 3, 0x22, -1, 0).value;
  else {
    const fd = call('open', '/home/u/f.bin', 2, 0).value;
    a = call('mmap', 0, size, 3, kind === 'file-private' ? 0x02 : 0x01, fd, 0).value;
  }
  if (!(a > 0)) throw new Error('mmap ' + a);
  for (let p = 0; p < size; p += 4096) k.access(t, a + p, 1);
  const c0 = k.metrics.cycles, b0 = k.metrics.bytesCopiedCrossProcess;
  const h0 = process.cpuUsage();
  const fr = call('fork'); const pid = fr.value; if (fr.error) throw new Error(fr.error + ' ' + k.state.cygwin.console.join(' / '));
  const h1 = process.cpuUsage(h0);
  const us = (k.metrics.cycles - c0) * 1e6 / k.mmu.profile.hz;
  const child = k.processes.get(k.state.cygwin.byPid.get(pid).winpid);
  console.log(`| ${mib} MiB | ${kind} | ${(us / 1000).toFixed(3)} ms | ${(k.metrics.bytesCopiedCrossProcess - b0).toLocaleString('en-US')} | ${child.space.commitCharge.toLocaleString('en-US')} | ${((h1.user + h1.system) / 1000).toFixed(1)} ms |`);
}
console.log('| resident | mapping | fork: simulated | bytes copied across processes | child commit (pages) | host CPU |');
console.log('| ---: | --- | ---: | ---: | ---: | ---: |');
for (const mib of [16, 256]) for (const kind of ['anon', 'file-private', 'file-shared']) run(kind, mib);
