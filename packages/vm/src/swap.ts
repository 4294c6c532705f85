/**
 * A swap device: numbered slots, a free bitmap, and (in content mode) the bytes of each slot.
 * Writing and reading a slot cost I/O cycles from the caller's cost model.
 */
export class SwapDevice {
  private readonly used: Uint8Array;
  private readonly data = new Map<number, Uint8Array>();
  private cursor = 0;
  private inUse = 0;
  swapOuts = 0;
  swapIns = 0;

  constructor(readonly slots: number) {
    this.used = new Uint8Array(slots);
  }

  get usedSlots(): number {
    return this.inUse;
  }

  /** A free slot, or -1 when the device is full (next-fit, like swp_alloc's cluster scan). */
  alloc(): number {
    for (let k = 0; k < this.slots; k++) {
      const s = (this.cursor + k) % this.slots;
      if (this.used[s] === 0) {
        this.used[s] = 1;
        this.inUse++;
        this.cursor = (s + 1) % this.slots;
        return s;
      }
    }
    return -1;
  }

  free(slot: number): void {
    if (this.used[slot] !== 1) throw new RangeError(`swap slot ${slot} is not in use`);
    this.used[slot] = 0;
    this.inUse--;
    this.data.delete(slot);
  }

  write(slot: number, bytes: Uint8Array | null): void {
    this.swapOuts++;
    if (bytes !== null) this.data.set(slot, bytes);
  }

  read(slot: number): Uint8Array | null {
    this.swapIns++;
    return this.data.get(slot) ?? null;
  }
}
