/**
 * Identifier allocators: PIDs as Linux allocates them (kernel/pid.c alloc_pid: the next number
 * after the last one handed out, wrapping at pid_max to RESERVED_PIDS = 300, skipping numbers in
 * use), and address-space IDs with generations (arm64 arch/arm64/mm/context.c: when the ASIDs of a
 * generation run out, start a new generation and flush every TLB; an address space whose ASID is
 * from an old generation gets a new one when it next runs).
 */
export class PidAllocator {
  private last = 0;
  private readonly used = new Set<number>();

  constructor(readonly pidMax = 4_194_304, readonly reserved = 300) {}

  /** The next free PID, or -1 when every PID is in use (fork fails with EAGAIN). */
  alloc(): number {
    const range = this.pidMax - 1;
    for (let tries = 0; tries < range; tries++) {
      let pid = this.last + 1;
      if (pid >= this.pidMax) pid = this.reserved;
      this.last = pid;
      if (!this.used.has(pid)) {
        this.used.add(pid);
        return pid;
      }
    }
    return -1;
  }

  free(pid: number): void {
    this.used.delete(pid);
  }

  get inUse(): number {
    return this.used.size;
  }
}

export class AsidAllocator {
  /** Current generation; ASIDs are valid only within one. */
  generation = 1;
  /** How many generation rollovers (each one flushes every TLB). */
  rollovers = 0;
  private next = 1; // ASID 0 is reserved (arm64 uses it for the kernel / unused TTBR0)
  private readonly owners: (object | null)[];
  private readonly assigned = new WeakMap<object, { asid: number; generation: number }>();

  constructor(readonly count: number, private readonly onRollover: () => void) {
    this.owners = new Array<object | null>(count).fill(null);
  }

  /** The ASID for `space` in the current generation, allocating (and maybe rolling over) if needed. */
  asidFor(space: object): number {
    const a = this.assigned.get(space);
    if (a?.generation === this.generation) return a.asid;
    if (this.next >= this.count) {
      this.generation++;
      this.rollovers++;
      this.next = 1;
      this.owners.fill(null);
      this.onRollover();
    }
    const asid = this.next++;
    this.owners[asid] = space;
    this.assigned.set(space, { asid, generation: this.generation });
    return asid;
  }

  release(space: object): void {
    const a = this.assigned.get(space);
    if (a?.generation === this.generation && this.owners[a.asid] === space) this.owners[a.asid] = null;
    this.assigned.delete(space);
  }
}
