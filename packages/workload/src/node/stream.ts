/**
 * Large workloads without the whole document in memory. A generated or imported workload of a
 * million steps is a header and, per process, a block of one-line steps (`- mmap: {...}`): the
 * file is scanned in chunks, each step line parsed and validated on its own and then dropped,
 * keeping only where it starts (a byte offset and a line number, 8 bytes a step). The runner reads
 * each step again when it reaches it (`StepSequence.at`), through a window of the file, so memory
 * is the index plus one window, whatever the workload's length.
 *
 * Everything that is not in that shape (a step over several lines, anchors and aliases, tags, a
 * second document) is not streamed: `openWorkloadStream` answers null and the caller parses the
 * document whole (`parseWorkload`), with every check and message of the careful parser. Errors in
 * a streamed workload are the careful parser's too: the header is validated as the file with its
 * step lines blanked (line numbers unchanged), a bad step as a small document holding that line,
 * its line and column mapped back to the file.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CORE_SCHEMA, load as loadYaml } from 'js-yaml';
import { fastStep } from '../fast-validate.js';
import { parseWorkload, positionOf, WorkloadError, type WorkloadIssue } from '../load.js';
import { nativeOf, stepKind, stepSchema, type NativeStep, type Step, type Workload } from '../schema.js';

/** The steps of one process, read when they are reached: `steps.at(i)` as an array's. */
export interface StepSequence {
  readonly length: number;
  at(index: number): Step | undefined;
}

export interface StreamedWorkload {
  /** The workload's own fields; a streamed process's `steps` is empty here: its steps are `steps[i]`. */
  readonly workload: Workload;
  /** Each process's steps, in the order of `workload.processes`. */
  readonly steps: readonly StepSequence[];
  /** The native steps found (the first MAX_LISTED_NATIVES) and how many there are in all. */
  readonly natives: readonly NativeStep[];
  readonly nativeCount: number;
  /** Line and column (1-based) of the field at `path` (processes[i].steps[j] and deeper). */
  positionOf(path: readonly PropertyKey[]): { line: number; column: number };
  /** Close the file (the sequences cannot be read after). */
  close(): void;
}

export interface StreamOptions {
  /** Called every few megabytes of the first pass with the bytes scanned and the file's size. */
  progress?: (scanned: number, total: number) => void;
}

/** Native steps listed by name (the count covers the rest): a message names a few, not a million. */
export const MAX_LISTED_NATIVES = 20;
/** The bytes read at a time, and the longest step line streamed (a longer one: the whole-document path). */
const WINDOW = 1024 * 1024;
const MAX_STEP_LINE = 256 * 1024;
/** Bad steps reported before the scan stops listing them. */
const MAX_ISSUES = 100;

/** Why a file is not streamed: the caller parses it whole. */
class NotStreamable extends Error {}

const NEWLINE = 0x0a;

/** A file read forwards in windows; `line(at)` is the line that starts at byte `at`, without its newline. */
class Window {
  private buf = Buffer.alloc(WINDOW);
  private start = 0;
  private end = 0;
  constructor(private readonly fd: number, readonly size: number) {}

  /** The bytes of the line starting at `at`, or null at the end of the file. */
  line(at: number): { text: string; next: number } | null {
    if (at >= this.size) return null;
    let nl = this.find(at);
    if (nl < 0) {
      this.fill(at);
      nl = this.find(at);
    }
    const stop = nl < 0 ? this.end : nl;
    if (nl < 0 && this.end < this.size) throw new NotStreamable('a line longer than the window');
    const text = this.buf.toString('utf8', at - this.start, stop - this.start);
    return { text: text.endsWith('\r') ? text.slice(0, -1) : text, next: stop + 1 };
  }

  private find(at: number): number {
    if (at < this.start || at >= this.end) return -1;
    const i = this.buf.indexOf(NEWLINE, at - this.start);
    return i < 0 || i >= this.end - this.start ? -1 : this.start + i;
  }

  private fill(at: number): void {
    const n = readSync(this.fd, this.buf, 0, WINDOW, at);
    this.start = at;
    this.end = at + n;
  }
}

/** js-yaml's reading of one step line's text (after "- "), or undefined when it does not parse. */
function parseStepText(text: string, file: string): unknown {
  try {
    return loadYaml(text, { schema: CORE_SCHEMA, filename: file });
  } catch {
    return undefined;
  }
}

function validStep(data: unknown): Step | undefined {
  if (data === undefined) return undefined;
  const fast = fastStep(data);
  if (fast !== undefined) return fast;
  const r = stepSchema.safeParse(data);
  return r.success ? r.data : undefined;
}

/** Lines of the small document a step is checked in before its own line (name, processes, - name, steps). */
const PREAMBLE_LINES = 4;
const STEP_INDENT = 6;

/** A document holding one step line at processes[0].steps[0], for the careful parser's messages and positions. */
function stepDocument(stepText: string): string {
  return `name: x\nprocesses:\n  - name: x\n    steps:\n${' '.repeat(STEP_INDENT)}- ${stepText}\n`;
}

/** Where a step's own field is: the small document's position mapped back to the file. */
function mapPosition(pos: { line: number; column: number }, line: number, indent: number): { line: number; column: number } {
  return pos.line === PREAMBLE_LINES + 1 ? { line, column: pos.column - STEP_INDENT + indent } : { line, column: indent + 3 };
}

/** The careful parser's issues for a bad step, at the file's line and column and the step's real path. */
function stepIssues(stepText: string, file: string, line: number, indent: number, proc: number, index: number): WorkloadIssue[] {
  try {
    parseWorkload(stepDocument(stepText), file);
  } catch (e) {
    if (!(e instanceof WorkloadError)) throw e;
    const prefix = 'processes[0].steps[0]';
    return e.issues.map((i) => ({
      ...i, ...mapPosition(i, line, indent), path: i.path.startsWith(prefix) ? `processes[${proc}].steps[${index}]${i.path.slice(prefix.length)}` : i.path,
    }));
  }
  // It parses alone but not where it stood (it cannot: a step line is a whole YAML node): say so.
  return [{ file, line, column: indent + 1, path: `processes[${proc}].steps[${index}]`, message: 'YAML: this step could not be read' }];
}

/** The natives of one step and the steps nested in it, with their paths. */
function nativesOf(step: Step, path: (string | number)[], found: NativeStep[], count: { n: number }): void {
  const n = nativeOf(step);
  const kind = stepKind(step);
  if (n !== null) {
    count.n++;
    if (found.length < MAX_LISTED_NATIVES) found.push({ path, kind, ...n });
  }
  const inner = (step as Record<string, unknown>)[kind];
  if (typeof inner === 'object' && inner !== null && 'steps' in inner && Array.isArray(inner.steps)) {
    (inner.steps as Step[]).forEach((s, i) => {
      nativesOf(s, [...path, kind, 'steps', i], found, count);
    });
  }
}

/** One process's streamed steps: where each starts (byte offset of its text after "- ", and its line). */
class IndexedSteps implements StepSequence {
  offsets: Uint32Array<ArrayBuffer> = new Uint32Array(1024);
  lines: Uint32Array<ArrayBuffer> = new Uint32Array(1024);
  length = 0;
  indent = 0;
  private last = -1;
  private lastStep: Step | undefined;
  constructor(private readonly window: () => Window, private readonly file: string, readonly proc: number) {}

  push(offset: number, line: number): void {
    if (this.length === this.offsets.length) {
      const grow = (a: Uint32Array): Uint32Array<ArrayBuffer> => {
        const b = new Uint32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.offsets = grow(this.offsets);
      this.lines = grow(this.lines);
    }
    this.offsets[this.length] = offset;
    this.lines[this.length++] = line;
  }

  /** Trim the index to its length once the scan is done. */
  seal(): void {
    this.offsets = this.offsets.slice(0, this.length);
    this.lines = this.lines.slice(0, this.length);
  }

  at(index: number): Step | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) return undefined;
    // A step that slept is read again when it resumes: keep the last one.
    if (index === this.last) return this.lastStep;
    const l = this.window().line(this.offsets[index]!);
    const step = l === null ? undefined : validStep(parseStepText(l.text, this.file));
    if (step === undefined) throw new WorkloadError([{ file: this.file, line: this.lines[index]!, column: this.indent + 3, path: `processes[${this.proc}].steps[${index}]`, message: 'the workload file changed while it ran' }]);
    this.last = index;
    this.lastStep = step;
    return step;
  }
}

/** A fixed array of steps (a process whose steps are written inline, `steps: [...]`), as a sequence. */
function arraySequence(steps: Step[]): StepSequence {
  return { length: steps.length, at: (i) => steps[i] };
}

/**
 * Open `file` as a streamed workload: null when it is not in the streamable shape (parse it whole
 * instead); a WorkloadError for a mistake in it, reported as parseWorkload reports it.
 */
export function openWorkloadStream(file: string, options: StreamOptions = {}): StreamedWorkload | null {
  const fd = openSync(file, 'r');
  try {
    return scan(fd, file, options);
  } catch (e) {
    closeSync(fd);
    if (e instanceof NotStreamable) return null;
    throw e;
  }
}

function scan(fd: number, file: string, options: StreamOptions): StreamedWorkload {
  const size = fstatSync(fd).size;
  if (size >= 2 ** 32) throw new NotStreamable('larger than the index can address');
  let reading: Window | null = null;
  const window = (): Window => (reading ??= new Window(fd, size));
  const scanner = new Window(fd, size);
  // The header and everything that is not a streamed step, with each step line left blank.
  const skeleton: string[] = [];
  /** The streamed steps blocks, by the index of their process. */
  const sequences = new Map<number, IndexedSteps>();
  let procIndex = -1;
  let procIndent = -1;
  const natives: NativeStep[] = [];
  const count = { n: 0 };
  const issues: WorkloadIssue[] = [];
  // A bad step's issues wait for the next line: a deeper one continues the step (not streamable).
  let pending: WorkloadIssue[] = [];
  let block: IndexedSteps | null = null;
  let blockKeyIndent = -1;
  let blockKeyLine = -1;
  let inProcesses = false;
  let at = 0;
  let line = 0;
  let nextReport = 8 * WINDOW;
  const endBlock = (): void => {
    if (block === null) return;
    block.seal();
    // `steps:` with nothing under it is null, not []: let the header's check say so.
    if (block.length === 0) skeleton[blockKeyLine] = skeletonKey;
    block = null;
  };
  let skeletonKey = '';
  for (let l = scanner.line(at); l !== null; l = scanner.line(at)) {
    const start = at;
    at = l.next;
    line++;
    const text = l.text;
    if (options.progress !== undefined && at >= nextReport) {
      options.progress(at, size);
      nextReport += 8 * WINDOW;
    }
    const trimmed = text.trimStart();
    const indent = text.length - trimmed.length;
    if (trimmed === '' || trimmed.startsWith('#')) {
      skeleton.push(block === null ? text : '');
      continue;
    }
    if (pending.length > 0) {
      if (block !== null && indent > block.indent) throw new NotStreamable('a step over several lines');
      issues.push(...pending);
      pending = [];
    }
    if (/^(---|\.\.\.)(\s|$)/.test(text) && line > 1) throw new NotStreamable('more than one document');
    if (block !== null) {
      const item = trimmed.startsWith('- ') && indent >= blockKeyIndent && (block.length === 0 || indent === block.indent);
      if (item) {
        if (block.length === 0) block.indent = indent;
        pending = stepLine(block, trimmed.slice(2), start + indent + 2, line, indent);
        skeleton.push('');
        continue;
      }
      if (indent > blockKeyIndent) throw new NotStreamable('a step over several lines');
      endBlock();
    }
    if (indent === 0) inProcesses = /^processes\s*:\s*(#.*)?$/.test(text);
    // A process is an item of the processes list: `- name: ...` at the list's indent.
    if (inProcesses && indent > 0 && /^-(\s|$)/.test(trimmed) && (procIndent < 0 || indent === procIndent)) {
      procIndent = indent;
      procIndex++;
    }
    const m = /^(\s*(?:-\s+)?)steps\s*:\s*(#.*)?$/.exec(text);
    if (inProcesses && m !== null) {
      if (procIndex < 0 || sequences.has(procIndex)) throw new NotStreamable('a steps key outside a process');
      block = new IndexedSteps(window, file, procIndex);
      blockKeyIndent = m[1]!.length;
      blockKeyLine = skeleton.length;
      skeletonKey = text;
      sequences.set(procIndex, block);
      skeleton.push(`${m[1]!}steps: []`);
      continue;
    }
    if (/(^|[\s,[{:])[&*!]/.test(text)) throw new NotStreamable('anchors, aliases or tags');
    skeleton.push(text);
  }
  issues.push(...pending);
  endBlock();

  /** Index one step line; its issues when it is not a valid step. */
  function stepLine(into: IndexedSteps, stepText: string, offset: number, lineNo: number, indent: number): WorkloadIssue[] {
    if (stepText.length > MAX_STEP_LINE) throw new NotStreamable('a step line too long to stream');
    if (/(^|[\s,[{:])[&*!]/.test(stepText)) throw new NotStreamable('anchors, aliases or tags in a step');
    const index = into.length;
    into.push(offset, lineNo);
    const step = validStep(parseStepText(stepText, file));
    if (step === undefined) return issues.length < MAX_ISSUES ? stepIssues(stepText, file, lineNo, indent, into.proc, index) : [];
    nativesOf(step, ['processes', into.proc, 'steps', index], natives, count);
    return [];
  }

  // The header alone, steps blanked: the careful parser's checks and positions for its fields.
  const skeletonText = skeleton.join('\n');
  let workload: Workload | null = null;
  try {
    workload = parseWorkload(skeletonText, file);
  } catch (e) {
    if (!(e instanceof WorkloadError)) throw e;
    issues.push(...e.issues);
  }
  if (issues.length > 0) throw new WorkloadError(issues.sort((a, b) => a.line - b.line || a.column - b.column));
  if (workload === null) throw new NotStreamable('no workload');
  const w = workload;
  for (const [i, seq] of sequences) if (i >= w.processes.length || w.processes[i]!.steps.length > 0) throw new NotStreamable(`steps ${seq.proc} not a process's own`);
  const steps: StepSequence[] = w.processes.map((p, i) => sequences.get(i) ?? arraySequence(p.steps));
  options.progress?.(size, size);
  return {
    workload: w, steps, natives, nativeCount: count.n,
    positionOf(path) {
      const [top, proc, key, index, ...rest] = path;
      const seq = typeof proc === 'number' ? sequences.get(proc) : undefined;
      if (top !== 'processes' || key !== 'steps' || typeof index !== 'number' || seq === undefined || index >= seq.length) {
        return positionOf(skeletonText, path);
      }
      const lineNo = seq.lines[index]!;
      if (rest.length === 0) return { line: lineNo, column: seq.indent + 3 };
      const l = window().line(seq.offsets[index]!);
      if (l === null) return { line: lineNo, column: seq.indent + 3 };
      return mapPosition(positionOf(stepDocument(l.text), ['processes', 0, 'steps', 0, ...rest]), lineNo, seq.indent);
    },
    close() {
      closeSync(fd);
    },
  };
}
