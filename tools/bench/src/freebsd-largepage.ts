/**
 * Largepage shm (issue 13, fifth session): TLB misses of random accesses over 1 GiB on the FreeBSD
 * personality, mapped three ways — 4 KiB pages (anonymous memory, vm.pmap.pg_ps_enabled=0), 2 MiB
 * pages (anonymous memory promoted from full superpage reservations) and one 1 GiB page (a
 * largepage shm object: shm_open2(SHM_LARGEPAGE), ioctl(FIOSSHMLPGCNF, psind 2), ftruncate, mmap
 * MAP_SHARED). The memory is made resident first; then 200,000 reads at pseudo-random pages
 * (xorshift32, seed 1) are counted: L1 dTLB misses, TLB misses (page walks), walk memory references,
 * simulated cycles per read.
 * (The largepage machine keeps memory contents: ioctl reads its struct from user memory.)
 * Everything is simulated (the machine profile's TLBs), so the figures repeat exactly.
 *   npm run build -w @polykernel/bench-tools && node tools/bench/dist/freebsd-largepage.js
 */
import { FIOSSHMLPGCNF, freebsdPersonality, SHM_ANON, SHM_LARGEPAGE } from '@polykernel/freebsd';
import { Kernel, type Thread } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';

const PAGE = 4096;
const GIB = 2 ** 30;
const PAGES = GIB / PAGE;
const READS = 200_000;
const O_RDWR = 2;
const MAP_SHARED = 0x1;
const MAP_PRIVATE_ANON = 0x1002;
/** MAP_ALIGNED(30): the anonymous mapping starts on a 1 GiB boundary, as the largepage one does. */
const MAP_ALIGNED_1G = 30 * 2 ** 24;

type Mode = '4 KiB (superpages off)' | '2 MiB (reservations)' | '1 GiB (largepage shm)';

function setup(mode: Mode, profile: string): { k: Kernel<unknown>; t: Thread; va: number } {
  const k = new Kernel(freebsdPersonality({ superpages: mode !== '4 KiB (superpages off)' }), { frames: 2 ** 19 + 4096, seed: 1, profile, contents: mode === '1 GiB (largepage shm)' });
  const p = k.createProcess(k.init, 'bench');
  const t = p.threads[0]!;
  if (mode !== '1 GiB (largepage shm)') {
    const va = k.syscall(t, 'mmap', [0, GIB, 3, MAP_PRIVATE_ANON + MAP_ALIGNED_1G, -1, 0]).value;
    for (let i = 0; i < PAGES; i++) k.access(t, va + i * PAGE, ACCESS_WRITE);
    return { k, t, va };
  }
  const conf = k.syscall(t, 'mmap', [0, PAGE, 3, MAP_PRIVATE_ANON, -1, 0]).value;
  const fd = k.syscall(t, 'shm_open2', [SHM_ANON, O_RDWR, 0o600, SHM_LARGEPAGE, 0]).value;
  const c = new Uint8Array(48);
  new DataView(c.buffer).setInt32(0, 2, true); // psind 2: pagesizes[2] = 1 GiB
  k.copyToUser(t, conf, c);
  const r = k.syscall(t, 'ioctl', [fd, FIOSSHMLPGCNF, conf]);
  if (r.value !== 0) throw new Error(`FIOSSHMLPGCNF failed: ${r.error ?? ''} (fd ${fd})`);
  if (k.syscall(t, 'ftruncate', [fd, GIB]).value !== 0) throw new Error('ftruncate of the largepage failed');
  const va = k.syscall(t, 'mmap', [0, GIB, 3, MAP_SHARED, fd, 0]).value;
  k.access(t, va, ACCESS_WRITE);
  return { k, t, va };
}

function measure(mode: Mode, profile: string): Record<string, number | string> {
  const { k, t, va } = setup(mode, profile);
  const m = k.metrics;
  const faults0 = m.traps.pageFault;
  const [miss0, walk0, cyc0, l2h0] = [m.tlbMisses, m.walkRefs, m.cycles, k.mmu.stats.l2Hits];
  let x = 1;
  for (let i = 0; i < READS; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    k.access(t, va + (x % PAGES) * PAGE, ACCESS_READ);
  }
  const p = [...k.processes.values()].find((q) => q.threads[0] === t)!;
  const line = k.personality.views[0]!.render(k, p).split('\n').find((l) => l.includes(`0x${va.toString(16)} `)) ?? '';
  return {
    profile, mode, reads: READS, faults: m.traps.pageFault - faults0,
    // An L1 dTLB miss either hits the second-level TLB or walks the page table (a TLB miss).
    l1Misses: k.mmu.stats.l2Hits - l2h0 + m.tlbMisses - miss0, tlbMisses: m.tlbMisses - miss0,
    missesPer1000: Math.round(((m.tlbMisses - miss0) / READS) * 10000) / 10, walkRefs: m.walkRefs - walk0,
    cyclesPerRead: Math.round(((m.cycles - cyc0) / READS) * 10) / 10, procstat: line.trim(),
  };
}

const rows = [];
for (const profile of ['x86-64', 'arm64-a72']) {
  for (const mode of ['4 KiB (superpages off)', '2 MiB (reservations)', '1 GiB (largepage shm)'] as const) rows.push(measure(mode, profile));
}
console.log(JSON.stringify(rows, null, 2));
