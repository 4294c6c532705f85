/**
 * A streaming parser of `valgrind --tool=lackey --trace-mem=yes` output: every instruction fetch
 * ("I  0401c3e0,3"), load (" L 1ffefffb98,8"), store (" S ...") and modify (" M ...", a load and
 * a store of the same bytes) with its address (hex, no 0x) and size, as lackey's lk_main.c prints
 * them (trace_instr: "I  %08lx,%lu", trace_load: " L %08lx,%lu", trace_store, trace_modify).
 * Valgrind's own "==pid==" lines are passed over.
 *
 * Speed is the point (a trace has millions of lines): bytes are scanned in place, no string per
 * line, and references come out in batches of typed arrays. A line that is not a reference is
 * counted, its number kept (the first few), and skipped; in strict mode it is a LackeyError.
 */

export const REF_INSTR = 0;
export const REF_LOAD = 1;
export const REF_STORE = 2;
export const REF_MODIFY = 3;
export type RefKind = typeof REF_INSTR | typeof REF_LOAD | typeof REF_STORE | typeof REF_MODIFY;
/** RefBatch.access of each RefKind: read 0, write 1, exec 2 (@polykernel/mmu's ACCESS_* codes). */
export const ACCESS_OF_REF: readonly number[] = [2, 0, 1, 1];

/** A batch of references: entries [0, count) of the arrays are valid until the callback returns. */
export interface RefBatch {
  count: number;
  kind: Uint8Array;
  /**
   * The memory access each reference makes: 0 read (a load), 1 write (a store or modify: its load
   * hits the translation the store needs), 2 instruction fetch — the codes of @polykernel/mmu's
   * ACCESS_READ, ACCESS_WRITE and ACCESS_EXEC, written by the parser so a replay needs no pass of
   * its own to convert them.
   */
  access: Uint8Array;
  addr: Float64Array;
  size: Uint32Array;
}

export class LackeyError extends Error {
  override name = 'LackeyError';
  constructor(readonly file: string, readonly line: number, readonly reason: string) {
    super(`${file}:${line}: ${reason}`);
  }
}

export interface LackeyOptions {
  file?: string;
  strict?: boolean;
  /** Stop after this many references. */
  limit?: number;
  /** References per batch (default 65,536). */
  batch?: number;
  /** Bad lines whose number is kept (default 20); all are counted. */
  maxIssues?: number;
}

export interface LackeyStats {
  lines: number;
  refs: number;
  byKind: [number, number, number, number];
  /** Valgrind's "==pid==" lines and blank lines. */
  comments: number;
  bad: number;
  issues: { file: string; line: number; message: string }[];
  limited: boolean;
}

const NL = 10;
const CR = 13;
const SP = 32;
const COMMA = 44;
const EQ = 61;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const EMPTY = new Uint8Array(0);

/**
 * The bytes of `a` from `from` on, copied: the caller may reuse its buffer (and a Node Buffer's
 * slice() is a view, not a copy).
 */
function copyOf(a: Uint8Array, from: number): Uint8Array {
  return new Uint8Array(a.subarray(from));
}

/** a followed by the first n bytes of b, as a new array. */
function concat(a: Uint8Array, b: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(a.length + n);
  out.set(a, 0);
  out.set(b.subarray(0, n), a.length);
  return out;
}

/** Hex digit value of a byte, or -1: a table, so the hot loop has no branches on ranges. */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[97 + c] = 10 + c;
  HEX[65 + c] = 10 + c;
}

export class LackeyParser {
  private readonly kind: Uint8Array;
  private readonly access: Uint8Array;
  private readonly addr: Float64Array;
  private readonly size: Uint32Array;
  private n = 0;
  /** The unfinished last line of the previous chunk. */
  private carry: Uint8Array = new Uint8Array(0);
  private readonly stats: LackeyStats = { lines: 0, refs: 0, byKind: [0, 0, 0, 0], comments: 0, bad: 0, issues: [], limited: false };
  private readonly file: string;
  private readonly strict: boolean;
  private readonly limit: number;
  private readonly maxIssues: number;

  constructor(private readonly onBatch: (b: RefBatch) => void, opts: LackeyOptions = {}) {
    const cap = opts.batch ?? 65536;
    this.kind = new Uint8Array(cap);
    this.access = new Uint8Array(cap);
    this.addr = new Float64Array(cap);
    this.size = new Uint32Array(cap);
    this.file = opts.file ?? '<lackey>';
    this.strict = opts.strict === true;
    this.limit = opts.limit ?? Infinity;
    this.maxIssues = opts.maxIssues ?? 20;
  }

  get done(): boolean {
    return this.stats.limited;
  }

  /**
   * Feed the next bytes of the trace (any chunking; lines may straddle chunks). The chunk is
   * parsed in place: only the line that straddles the previous chunk's end is copied (with the
   * start of this chunk up to its first newline), and the unfinished last line is kept as a copy.
   */
  push(chunk: Uint8Array): void {
    if (this.stats.limited) return;
    let from = 0;
    if (this.carry.length > 0) {
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        this.carry = concat(this.carry, chunk, chunk.length);
        return;
      }
      const line = concat(this.carry, chunk, nl + 1);
      this.carry = EMPTY;
      this.scan(line, 0, line.length);
      if (this.done) return;
      from = nl + 1;
    }
    const end = chunk.lastIndexOf(NL) + 1;
    if (end > from) this.scan(chunk, from, end);
    else if (end === 0) {
      this.carry = copyOf(chunk, from);
      return;
    }
    this.carry = end < chunk.length ? copyOf(chunk, end) : EMPTY;
  }

  /** The end of the trace: the last line without a newline, and the last batch. */
  end(): LackeyStats {
    if (this.carry.length > 0 && !this.stats.limited) {
      const last = new Uint8Array(this.carry.length + 1);
      last.set(this.carry, 0);
      last[this.carry.length] = NL;
      this.carry = EMPTY;
      this.scan(last, 0, last.length);
    }
    this.flush();
    if (this.stats.bad > this.stats.issues.length) this.stats.issues.push({ file: this.file, line: 0, message: `... ${this.stats.bad - this.stats.issues.length} more bad lines` });
    return this.stats;
  }

  private flush(): void {
    if (this.n === 0) return;
    this.stats.refs += this.n;
    this.onBatch({ count: this.n, kind: this.kind, access: this.access, addr: this.addr, size: this.size });
    this.n = 0;
  }

  /**
   * Parse the whole lines in buf[from, to). The counters live in locals while the loop runs (and
   * are written back before anything that reads them: a flush, a bad line, the end).
   */
  private scan(buf: Uint8Array, from: number, to: number): void {
    const { kind, access, addr, size } = this;
    const cap = kind.length;
    const st = this.stats;
    const byKind = st.byKind;
    // --limit is reached when the batch holds this many references.
    let stopAt = this.limit - st.refs;
    let n = this.n;
    let lines = st.lines;
    let i = from;
    while (i < to) {
      const start = i;
      lines++;
      // "I  addr,size" | " L addr,size" (also S, M) | "==pid== ..." | anything else (bad)
      let k = -1;
      let x = 0;
      let p = i;
      const c0 = buf[p]!;
      if (c0 === 73 && buf[p + 1] === SP && buf[p + 2] === SP) {
        k = REF_INSTR;
        x = 2;
        p += 3;
      } else if (c0 === SP && buf[p + 2] === SP) {
        const c1 = buf[p + 1];
        if (c1 === 76) k = REF_LOAD;
        else if (c1 === 83 || c1 === 77) {
          k = c1 === 83 ? REF_STORE : REF_MODIFY;
          x = 1;
        }
        p += 3;
      }
      if (k >= 0) {
        let a = 0;
        const first = p;
        let d = HEX[buf[p]!]!;
        while (d >= 0) {
          a = a * 16 + d;
          d = HEX[buf[++p]!]!;
        }
        if (p > first && a <= MAX_SAFE && buf[p] === COMMA) {
          const sizeAt = ++p;
          let s = 0;
          let c = buf[p]!;
          while (c >= 48 && c <= 57) {
            s = s * 10 + (c - 48);
            c = buf[++p]!;
          }
          const sd = p - sizeAt;
          if (c === CR) c = buf[++p]!;
          if (sd > 0 && c === NL && s < 4294967296) {
            kind[n] = k;
            access[n] = x;
            addr[n] = a;
            size[n] = s;
            byKind[k] = byKind[k]! + 1;
            i = p + 1;
            if (++n >= stopAt) {
              this.n = n;
              st.lines = lines;
              st.limited = true;
              if (n === cap) this.flush();
              return;
            }
            if (n === cap) {
              this.n = n;
              st.lines = lines;
              this.flush();
              n = 0;
              stopAt = this.limit - st.refs;
            }
            continue;
          }
        }
      }
      // Not a reference: skip to the end of the line, then say what it was.
      let e = buf.indexOf(NL, i);
      if (e < 0 || e >= to) e = to - 1;
      i = e + 1;
      if (c0 === EQ && buf[start + 1] === EQ) st.comments++;
      else if (e === start || (e === start + 1 && buf[start] === CR)) st.comments++;
      else {
        this.n = n;
        st.lines = lines;
        this.bad(buf, start, e);
      }
    }
    this.n = n;
    st.lines = lines;
  }

  private bad(buf: Uint8Array, start: number, end: number): void {
    const st = this.stats;
    st.bad++;
    const text = new TextDecoder().decode(buf.subarray(start, Math.min(end, start + 60)));
    const message = `not a lackey reference line ("I  addr,size", " L|S|M addr,size" or "==pid== ..."): ${JSON.stringify(text)}`;
    if (this.strict) throw new LackeyError(this.file, st.lines, message);
    if (st.issues.length < this.maxIssues) st.issues.push({ file: this.file, line: st.lines, message });
  }
}

/** Parse a whole trace held in memory (tests, small traces): the statistics and every reference. */
export function parseLackeyText(text: string, opts: LackeyOptions = {}): { stats: LackeyStats; refs: { kind: RefKind; addr: number; size: number }[] } {
  const refs: { kind: RefKind; addr: number; size: number }[] = [];
  const p = new LackeyParser((b) => {
    for (let i = 0; i < b.count; i++) refs.push({ kind: b.kind[i] as RefKind, addr: b.addr[i]!, size: b.size[i]! });
  }, opts);
  p.push(new TextEncoder().encode(text));
  return { stats: p.end(), refs };
}
