/**
 * Active and inactive page queues over frame numbers (FreeBSD vm_pagequeue, Linux's LRU lists),
 * as doubly linked lists in typed arrays: O(1) insert, remove and move, no per-page objects.
 */
export const Q_NONE = 0;
export const Q_ACTIVE = 1;
export const Q_INACTIVE = 2;

export class PageQueues {
  readonly queueOf: Uint8Array;
  /** Referenced bit (set by the personality from PTE accessed bits, or on every fault). */
  readonly referenced: Uint8Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly head = new Int32Array(3).fill(-1);
  private readonly tail = new Int32Array(3).fill(-1);
  readonly length = new Int32Array(3);

  constructor(frames: number) {
    this.queueOf = new Uint8Array(frames);
    this.referenced = new Uint8Array(frames);
    this.next = new Int32Array(frames).fill(-1);
    this.prev = new Int32Array(frames).fill(-1);
  }

  /** Append `f` at the tail of queue `q` (removing it from its current queue). */
  enqueue(f: number, q: number): void {
    this.dequeue(f);
    const t = this.tail[q]!;
    this.prev[f] = t;
    this.next[f] = -1;
    if (t >= 0) this.next[t] = f;
    else this.head[q] = f;
    this.tail[q] = f;
    this.queueOf[f] = q;
    this.length[q]!++;
  }

  dequeue(f: number): void {
    const q = this.queueOf[f]!;
    if (q === Q_NONE) return;
    const p = this.prev[f]!;
    const n = this.next[f]!;
    if (p >= 0) this.next[p] = n;
    else this.head[q] = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail[q] = p;
    this.queueOf[f] = Q_NONE;
    this.length[q]!--;
  }

  /** Oldest frame on queue q, or -1. */
  oldest(q: number): number {
    return this.head[q]!;
  }
}
