/**
 * ld.so's allocator before libc's malloc is relocated (glibc elf/dl-minimal-malloc.c
 * __minimal_malloc): first the rest of ld.so's own last data page (from _end), then anonymous
 * mmaps of the request rounded up to pages plus one spare page. Nothing is ever freed. Each
 * allocation is recorded (size and purpose) so a test can compare it with the host's sequence.
 */
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE, PROT_READ, PROT_WRITE, RtldError, type RtldSystem } from './system.js';

export interface Allocation {
  size: number;
  what: string;
  at: number;
}

export class MinimalMalloc {
  private ptr: number;
  private end: number;
  private last = -1;
  readonly allocations: Allocation[] = [];

  /** `rtldEnd`: the run-time address of ld.so's _end (the end of its bss). */
  constructor(private readonly sys: RtldSystem, rtldEnd: number, private readonly align: number) {
    this.ptr = rtldEnd;
    this.end = Math.ceil(rtldEnd / PAGE) * PAGE;
  }

  malloc(n: number, what: string): number {
    this.ptr = Math.ceil(this.ptr / this.align) * this.align;
    if (this.ptr + n >= this.end) {
      // Insufficient space left: another page plus one extra page to reduce the number of mmaps.
      const nup = Math.ceil(n / PAGE) * PAGE + PAGE;
      const r = this.sys.syscall('mmap', [0, nup, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
      if (r.error !== null) throw new RtldError(`cannot allocate memory in the run-time linker (${r.error})`);
      if (r.value !== this.end) this.ptr = r.value;
      this.end = r.value + nup;
    }
    const at = this.ptr;
    this.ptr += n;
    this.last = at;
    this.allocations.push({ size: n, what, at });
    return at;
  }

  /** __minimal_free: only the most recent block can be given back (the pointer moves back to it). */
  free(at: number): void {
    if (at !== this.last) return;
    this.ptr = at;
    this.last = -1;
    this.allocations.push({ size: 0, what: 'free', at });
  }

  /** calloc: the memory is fresh (never reused), so already zero; same placement as malloc. */
  calloc(n: number, size: number, what: string): number {
    return this.malloc(n * size, what);
  }
}
