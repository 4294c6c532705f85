/*
 * Reference for the TypeScript MMU benchmark: the same TLB model and page walk in C, written the
 * way a C programmer would (native 64-bit integers, shifts and masks, gcc -O2), with the same
 * geometry, replacement policies, trace and page-table layout as packages/mmu:
 *   L1 dTLB: 4K 64e/4-way, 2M 32e/4-way, 1G 4e/4-way, tree-PLRU
 *   STLB:    4K 1536e/12-way, 2M 1536e/12-way, 1G 16e/4-way, LRU
 *   4-level radix tables of 512 entries: int32 next + uint16 flags per entry.
 * Usage: translate <pages> <accesses> <mode: seq|rand>   prints: accesses seconds hits walkrefs checksum
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define P 0x1
#define W 0x2
#define U 0x4
#define NX 0x8
#define A 0x10
#define D 0x20
#define G 0x40
#define HUGE 0x80

typedef struct {
  int narrays;
  int shift[3], setbits[3], ways[3], slotbase[3], setbase[3];
  uint64_t *tag; /* UINT64_MAX = invalid */
  uint16_t *asid;
  uint8_t *global, *perm;
  int32_t *frame;
  uint64_t *stamp;
  uint32_t *setstate;
  uint64_t clock;
  int plru;
  int lastarray;
} tlb_t;

static int ilog2(int x) { int b = 0; while ((1 << b) < x) b++; return b; }

static void tlb_init(tlb_t *t, int n, const int *shift, const int *entries, const int *ways, int plru) {
  memset(t, 0, sizeof *t);
  int slots = 0, sets = 0;
  t->narrays = n;
  t->plru = plru;
  for (int i = 0; i < n; i++) {
    t->shift[i] = shift[i];
    t->ways[i] = ways[i];
    t->setbits[i] = ilog2(entries[i] / ways[i]);
    t->slotbase[i] = slots;
    t->setbase[i] = sets;
    slots += entries[i];
    sets += entries[i] / ways[i];
  }
  t->tag = malloc(slots * sizeof(uint64_t));
  for (int i = 0; i < slots; i++) t->tag[i] = UINT64_MAX;
  t->asid = calloc(slots, 2);
  t->global = calloc(slots, 1);
  t->perm = calloc(slots, 1);
  t->frame = calloc(slots, 4);
  t->stamp = calloc(slots, 8);
  t->setstate = calloc(sets, 4);
}

static inline void plru_touch(tlb_t *t, int setid, int way, int ways) {
  uint32_t bits = t->setstate[setid];
  int node = 0, lo = 0, span = ways;
  while (span > 1) {
    span >>= 1;
    int right = way >= lo + span;
    if (right) { bits &= ~(1u << node); lo += span; } else bits |= 1u << node;
    node = 2 * node + (right ? 2 : 1);
  }
  t->setstate[setid] = bits;
}

static inline int plru_victim(tlb_t *t, int setid, int ways) {
  uint32_t bits = t->setstate[setid];
  int node = 0, lo = 0, span = ways;
  while (span > 1) {
    span >>= 1;
    int right = (bits >> node) & 1;
    if (right) lo += span;
    node = 2 * node + (right ? 2 : 1);
  }
  return lo;
}

static inline int tlb_lookup(tlb_t *t, uint64_t va, uint16_t asid) {
  for (int a = 0; a < t->narrays; a++) {
    uint64_t vpn = va >> t->shift[a];
    uint64_t set = vpn & ((1u << t->setbits[a]) - 1);
    uint64_t q = vpn >> t->setbits[a];
    int ways = t->ways[a];
    int base = t->slotbase[a] + (int)set * ways;
    for (int i = base; i < base + ways; i++) {
      if (t->tag[i] == q && (t->asid[i] == asid || t->global[i])) {
        if (t->plru) plru_touch(t, t->setbase[a] + (int)set, i - base, ways);
        else t->stamp[i] = ++t->clock;
        t->lastarray = a;
        return i;
      }
    }
  }
  return -1;
}

static inline void tlb_insert(tlb_t *t, uint64_t va, uint16_t asid, int global, int32_t frame, int shift, uint8_t perm) {
  int a = -1;
  for (int i = 0; i < t->narrays; i++) if (t->shift[i] <= shift) a = i;
  uint64_t vpn = va >> t->shift[a];
  uint64_t set = vpn & ((1u << t->setbits[a]) - 1);
  uint64_t q = vpn >> t->setbits[a];
  int ways = t->ways[a];
  int base = t->slotbase[a] + (int)set * ways;
  int setid = t->setbase[a] + (int)set;
  int32_t f = frame + (int32_t)(((vpn << t->shift[a]) - ((va >> shift) << shift)) >> 12);
  int slot = -1;
  for (int i = base; i < base + ways; i++)
    if (t->tag[i] == q && (t->asid[i] == asid || t->global[i])) { slot = i; break; }
  if (slot < 0)
    for (int i = base; i < base + ways; i++) if (t->tag[i] == UINT64_MAX) { slot = i; break; }
  if (slot < 0) {
    if (t->plru) slot = base + plru_victim(t, setid, ways);
    else {
      int best = 0;
      for (int w = 1; w < ways; w++) if (t->stamp[base + w] < t->stamp[base + best]) best = w;
      slot = base + best;
    }
  }
  t->tag[slot] = q;
  t->asid[slot] = asid;
  t->global[slot] = (uint8_t)global;
  t->frame[slot] = f;
  t->perm[slot] = perm;
  if (t->plru) plru_touch(t, setid, slot - base, ways);
  else t->stamp[slot] = ++t->clock;
}

/* page-table pool */
static int32_t *pt_next;
static uint16_t *pt_flags;
static int pt_count, pt_cap;
static int pt_alloc(void) {
  if (pt_count == pt_cap) {
    pt_cap = pt_cap ? pt_cap * 2 : 64;
    pt_next = realloc(pt_next, (size_t)pt_cap * 512 * 4);
    pt_flags = realloc(pt_flags, (size_t)pt_cap * 512 * 2);
  }
  memset(pt_next + (size_t)pt_count * 512, 0, 512 * 4);
  memset(pt_flags + (size_t)pt_count * 512, 0, 512 * 2);
  return pt_count++;
}
static void pt_map(int root, uint64_t va, int32_t frame, uint16_t flags) {
  int t = root;
  for (int l = 0; l < 3; l++) {
    int slot = t * 512 + (int)((va >> (39 - 9 * l)) & 511);
    if (!(pt_flags[slot] & P)) { int c = pt_alloc(); pt_next[slot] = c; pt_flags[slot] = P | W | U; }
    t = pt_next[slot];
  }
  int slot = t * 512 + (int)((va >> 12) & 511);
  pt_next[slot] = frame;
  pt_flags[slot] = flags | P;
}

static uint64_t walkrefs, hits, faults;

static inline int64_t translate(tlb_t *l1, tlb_t *l2, int root, uint64_t va, uint16_t asid, int write) {
  tlb_t *t = l1;
  int slot = tlb_lookup(l1, va, asid);
  if (slot < 0) { slot = tlb_lookup(l2, va, asid); t = l2; }
  if (slot >= 0) {
    uint8_t perm = t->perm[slot];
    if ((perm & 4) == 0 || (write && (perm & 1) == 0)) { faults++; return -1; }
    if (!(write && !(perm & 8))) {
      hits++;
      int shift = t->shift[t->lastarray];
      if (t != l1) tlb_insert(l1, va, asid, t->global[slot], t->frame[slot], shift, perm);
      return ((int64_t)t->frame[slot] << 12) + (int64_t)(va & ((1ull << shift) - 1));
    }
  }
  int tt = root;
  uint8_t allow = 1 | 2 | 4;
  for (int l = 0; l < 4; l++) {
    int shift = 39 - 9 * l;
    int s = tt * 512 + (int)((va >> shift) & 511);
    uint16_t f = pt_flags[s];
    walkrefs++;
    if (!(f & P)) { faults++; return -1; }
    if (!(f & W)) allow &= ~1;
    if (!(f & U)) allow &= ~4;
    if (f & NX) allow &= ~2;
    if (l == 3 || (f & HUGE)) {
      if ((allow & 4) == 0 || (write && (allow & 1) == 0)) { faults++; return -1; }
      uint16_t nf = f | A | (write ? D : 0);
      pt_flags[s] = nf;
      uint8_t perm = allow | ((nf & D) ? 8 : 0);
      int32_t fr = pt_next[s];
      tlb_insert(l1, va, asid, (f & G) != 0, fr, shift, perm);
      tlb_insert(l2, va, asid, (f & G) != 0, fr, shift, perm);
      return ((int64_t)fr << 12) + (int64_t)(va & ((1ull << shift) - 1));
    }
    if (!(f & A)) pt_flags[s] = f | A;
    tt = pt_next[s];
  }
  return -1;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: %s pages accesses seq|rand\n", argv[0]); return 2; }
  long pages = atol(argv[1]);
  long n = atol(argv[2]);
  int rnd = strcmp(argv[3], "rand") == 0;
  const int l1shift[3] = {12, 21, 30}, l1e[3] = {64, 32, 4}, l1w[3] = {4, 4, 4};
  const int l2e[3] = {1536, 1536, 16}, l2w[3] = {12, 12, 4};
  tlb_t l1, l2;
  tlb_init(&l1, 3, l1shift, l1e, l1w, 1);
  tlb_init(&l2, 3, l1shift, l2e, l2w, 0);
  int root = pt_alloc();
  const uint64_t base = 0x7f0000000000ull;
  for (long p = 0; p < pages; p++) pt_map(root, base + (uint64_t)p * 4096, (int32_t)(1000 + p), W | U | NX);
  /* the trace: same xorshift32 and formula as tools/bench/src/translate-vs-c.ts */
  uint64_t *trace = malloc((size_t)n * 8);
  uint32_t x = 2463534242u;
  for (long i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    uint64_t page = rnd ? (x % (uint64_t)pages) : (uint64_t)(i % pages);
    trace[i] = base + page * 4096 + ((x >> 8) & 0xff8);
  }
  int64_t sum = 0;
  /* warm-up pass, then the timed pass */
  for (long i = 0; i < n; i++) sum += translate(&l1, &l2, root, trace[i], 1, 0);
  hits = walkrefs = faults = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < n; i++) sum += translate(&l1, &l2, root, trace[i], 1, (int)(i & 7) == 0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("%ld %.6f %llu %llu %lld\n", n, secs, (unsigned long long)hits, (unsigned long long)walkrefs, (long long)sum);
  return faults != 0;
}
