import { describe, expect, it } from 'vitest';
import { importStraceText, type ImageFacts, type ImportedStep } from './strace.js';

/** A PIE like Debian's /bin/true and an ld.so, as their program headers say. */
const EXE: ImageFacts = { relocatable: true, start: 0, end: 0x9378, relro: { vaddr: 0x8d70, memsz: 0x290 }, interpreter: '/lib/ld.so' };
const LDSO: ImageFacts = { relocatable: true, start: 0, end: 0x3b2c8, relro: { vaddr: 0x31640, memsz: 0x19c0 }, interpreter: null };
const images = (facts: Record<string, ImageFacts>) => (path: string): ImageFacts | null => facts[path] ?? null;

const LOG = [
  'execve("/usr/bin/prog", ["prog"], 0x7ffd12345678 /* 1 var */) = 0',
  'brk(NULL) = 0x555557600000',
  'mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000',
  // ld.so's RELRO mprotects: the executable's (one page at vaddr 0x8000), then its own (two pages at 0x31000).
  'mprotect(0x555555559000, 4096, PROT_READ) = 0',
  'mprotect(0x7f0000131000, 8192, PROT_READ) = 0',
  'brk(0x555557621000) = 0x555557621000',
  'munmap(0x555557610000, 4096) = 0',
  'madvise(0x555555552000, 4096, MADV_DONTNEED) = 0',
  'exit_group(0) = ?',
].join('\n');

const steps = (text: string, facts: Record<string, ImageFacts>): ImportedStep[] => importStraceText(text, 'log', { image: images(facts) }).workload.processes[0]!.steps;

describe('addresses in the executable, its interpreter and the brk heap', () => {
  it('are named by region and ELF vaddr ([exe], [interp]) or offset from the heap\'s start ([heap])', () => {
    const s = steps(LOG, { '/usr/bin/prog': EXE, '/lib/ld.so': LDSO });
    expect(s).toContainEqual({ mprotect: { region: '[exe]', offset: 0x8000, length: 4096, prot: 'r--' } });
    expect(s).toContainEqual({ mprotect: { region: '[interp]', offset: 0x31000, length: 8192, prot: 'r--' } });
    expect(s).toContainEqual({ munmap: { region: '[heap]', offset: 0x10000, length: 4096 } });
    // Once the bias is known, any address in the image is named: the text segment at vaddr 0x1000.
    expect(s).toContainEqual({ madvise: { region: '[exe]', offset: 0x1000, length: 4096, advice: 'dontneed' } });
  });

  it('without the ELF facts (no sysroot file) they stay skipped, with the reason', () => {
    const r = importStraceText(LOG, 'log');
    expect(r.workload.processes[0]!.steps.some((x) => JSON.stringify(x).includes('[exe]'))).toBe(false);
    expect(r.skipped.find((x) => x.call === 'mprotect')?.reason).toMatch(/nor in the executable, its interpreter or the brk heap/);
  });

  it('a RELRO of another length is not the image\'s; a break far above the image rules it out as the executable', () => {
    const other = LOG.replace('mprotect(0x555555559000, 4096,', 'mprotect(0x555555559000, 12288,');
    expect(steps(other, { '/usr/bin/prog': EXE, '/lib/ld.so': LDSO }).some((x) => JSON.stringify(x).includes('"[exe]"'))).toBe(false);
    const far = LOG.replace('brk(NULL) = 0x555557600000', 'brk(NULL) = 0x565557600000').replace('brk(0x555557621000) = 0x555557621000', 'brk(0x565557621000) = 0x565557621000');
    expect(steps(far, { '/usr/bin/prog': EXE, '/lib/ld.so': LDSO }).some((x) => JSON.stringify(x).includes('"[exe]"'))).toBe(false);
  });

  it('a non-PIE executable (ET_EXEC) is at its own addresses: the offset is the address', () => {
    const fixed: ImageFacts = { ...EXE, relocatable: false, start: 0x400000, end: 0x409378, relro: null };
    const log = ['execve("/usr/bin/prog", ["prog"], 0x7ffd12345678 /* 1 var */) = 0', 'mprotect(0x401000, 4096, PROT_READ|PROT_EXEC) = 0'].join('\n');
    expect(steps(log, { '/usr/bin/prog': fixed })).toContainEqual({ mprotect: { region: '[exe]', offset: 0x401000, length: 4096, prot: 'r-x' } });
  });

  it('a forked child keeps its parent\'s images and heap; a new execve forgets them', () => {
    const log = [
      '100 execve("/usr/bin/prog", ["prog"], 0x7ffd12345678 /* 1 var */) = 0',
      '100 brk(NULL) = 0x555557600000',
      '100 mprotect(0x555555559000, 4096, PROT_READ) = 0',
      '100 fork() = 101',
      '101 madvise(0x555555552000, 4096, MADV_DONTNEED) = 0',
      '101 execve("/usr/bin/other", ["other"], 0x7ffd12345678 /* 1 var */) = 0',
      '101 madvise(0x555555552000, 4096, MADV_DONTNEED) = 0',
    ].join('\n');
    const fork = steps(log, { '/usr/bin/prog': EXE, '/lib/ld.so': LDSO }).find((x) => 'fork' in x)!.fork as { steps: ImportedStep[] };
    expect(fork.steps[0]).toEqual({ madvise: { region: '[exe]', offset: 0x1000, length: 4096, advice: 'dontneed' } });
    expect(fork.steps).toHaveLength(2); // the madvise after the new execve is skipped
  });
});
