/**
 * VM objects after Mach and FreeBSD (sys/vm/vm_object.c): a VM object is a container of pages
 * indexed by page number, with a reference count, an optional pager (anonymous memory is
 * zero-filled and swapped; a vnode object reads a file's bytes) and an optional backing object at
 * a page offset. Copy-on-write is a chain of such objects: a "shadow" sits above the object it
 * copies, holds only the pages written since, and finds the rest by looking down the chain.
 */

import { PageMap } from './pagemap.js';

export type VmObjectType = 'anonymous' | 'vnode' | 'device' | 'physical';

export class VmObject {
  /** Resident pages: page index -> physical frame (a typed-array hash table, Map-like API). */
  readonly pages = new PageMap();
  /** Pages on the swap device: page index -> swap slot. */
  readonly swapped = new PageMap();
  refCount = 1;
  /** Objects whose backing object this is (FreeBSD shadow_count). */
  shadowCount = 0;
  backing: VmObject | null = null;
  /** Page offset of this object's page 0 inside the backing object. */
  backingOffset = 0;
  /** Set once the object is freed (any later use is a bug). */
  dead = false;
  /** Device and physical objects: the first frame of the memory they stand for. */
  physBase = -1;
  /**
   * Flag bits the personality defines and reads (FreeBSD's OBJ_ANON, OBJ_ONEMAPPING, OBJ_SWAP);
   * the VM system never interprets them.
   */
  flags = 0;

  constructor(
    readonly id: number,
    readonly type: VmObjectType,
    /** Size in pages. */
    public size: number,
    /**
     * Vnode objects: the file's bytes (the page cache reads from here). Writable: a personality
     * whose files can be written replaces it with its own copy (never the file system's array).
     */
    public file: Uint8Array | null = null,
    /** Vnode objects: a name for views (the path). */
    readonly name = '',
  ) {}

  /** Length of the shadow chain below and including this object. */
  get chainLength(): number {
    let n = 1;
    for (let o = this.backing; o !== null; o = o.backing) n++;
    return n;
  }
}
