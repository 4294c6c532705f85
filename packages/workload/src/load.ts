/**
 * Load a workload file: YAML parsed with source positions, validated by the schema, every problem
 * reported as `file:line:column: path: message` so the user can go straight to it.
 */
import { CORE_SCHEMA, load as loadFast } from 'js-yaml';
import { isAlias, isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { fastWorkload } from './fast-validate.js';
import { stepKinds, workloadSchema, type Workload } from './schema.js';

export interface WorkloadIssue {
  file: string;
  line: number;
  column: number;
  /** Dotted path to the field, e.g. processes[0].steps[2].mmap.prot */
  path: string;
  message: string;
}

export class WorkloadError extends Error {
  override name = 'WorkloadError';
  constructor(readonly issues: WorkloadIssue[]) {
    super(issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.path === '' ? '' : `${i.path}: `}${i.message}`).join('\n'));
  }
}

function pathText(path: readonly PropertyKey[]): string {
  return path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s === '' ? String(k) : `${s}.${String(k)}`), '');
}

/** Step kinds, for a clearer message than "no union member matched". */
const STEP_KINDS = stepKinds.map((o) => Object.keys(o.shape)[0]!);

/** Aliases a document may use before it is refused (a "billion laughs" bomb expands exponentially). */
export const MAX_ALIAS_COUNT = 100;

/**
 * Parse and validate a workload. A document without anchors, aliases or tags (every large
 * generated workload) goes through js-yaml, about ten times faster than the position-keeping
 * parser and a twentieth of its memory; anything else, and any document that fails, is parsed
 * again by `yaml` with source positions so each mistake is reported at its file:line:column.
 */
export function parseWorkload(text: string, file = '<workload>'): Workload {
  return parseWith(fastWorkload, text, file);
}

/** parseWorkload with zod alone checking the js-yaml fast path's data: the reference the fast validator is tested against. */
export function parseWorkloadWithZod(text: string, file = '<workload>'): Workload {
  return parseWith((data) => {
    const result = workloadSchema.safeParse(data);
    return result.success ? result.data : undefined;
  }, text, file);
}

function parseWith(validate: (data: unknown) => Workload | undefined, text: string, file: string): Workload {
  if (!/[&*!]/.test(text)) {
    let data: unknown;
    try {
      data = loadFast(text, { schema: CORE_SCHEMA, filename: file });
    } catch {
      data = undefined; // the careful parser below says where and why
    }
    if (data !== undefined) {
      // Checked by hand where the shape is a common one, by zod elsewhere (fast-validate.ts).
      const w = validate(data);
      if (w !== undefined) return w;
    }
  }
  try {
    return parseCarefully(text, file);
  } catch (e) {
    // Nesting deeper than the host's stack ([[[[...), in the parser or the validator.
    if (e instanceof RangeError) throw new WorkloadError([{ file, line: 1, column: 1, path: '', message: 'YAML: nested too deeply' }]);
    throw e;
  }
}

function parseCarefully(text: string, file: string): Workload {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const issues: WorkloadIssue[] = [];
  for (const e of doc.errors) {
    const pos = lc.linePos(e.pos[0]);
    const first = e.message.split('\n')[0] ?? e.message;
    issues.push({ file, line: pos.line, column: pos.col, path: '', message: /call stack/i.test(first) ? 'YAML: nested too deeply' : `YAML: ${first}` });
  }
  if (issues.length > 0) throw new WorkloadError(issues);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    // yaml throws a ReferenceError for an alias bomb.
    if (!(e instanceof ReferenceError)) throw e;
    throw new WorkloadError([{ file, line: 1, column: 1, path: '', message: `YAML: too many aliases (more than ${MAX_ALIAS_COUNT} expanded: an alias bomb?)` }]);
  }
  const result = workloadSchema.safeParse(data);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const { path, message } = refine(issue, doc.contents, doc);
    const node = nodeAt(doc.contents, path);
    const pos = lc.linePos(node?.range?.[0] ?? 0);
    issues.push({ file, line: pos.line, column: pos.col, path: pathText(path), message });
  }
  throw new WorkloadError(issues);
}

/**
 * Where the field at `path` is in a workload's text (1-based line and column), for errors found
 * when the workload runs (a step that names a region whose mmap failed). Parses again, with
 * positions: only called when there is something to report.
 */
export function positionOf(text: string, path: readonly PropertyKey[]): { line: number; column: number } {
  return positionFinder(text)(path);
}

/** positionOf for many paths of one text: the text is parsed once, on the first call. */
export function positionFinder(text: string): (path: readonly PropertyKey[]) => { line: number; column: number } {
  let parsed: { lc: LineCounter; doc: Document } | null = null;
  return (path) => {
    if (parsed === null) {
      const lc = new LineCounter();
      parsed = { lc, doc: parseDocument(text, { lineCounter: lc, prettyErrors: false }) };
    }
    const pos = parsed.lc.linePos(nodeAt(parsed.doc.contents, path, parsed.doc)?.range?.[0] ?? 0);
    return { line: pos.line, column: pos.col };
  };
}

/** `processes[0].steps[3]` for a path. */
export function pathString(path: readonly PropertyKey[]): string {
  return pathText(path);
}

/** The deepest YAML node along `path` (the closest one that exists). */
function nodeAt(root: unknown, path: readonly PropertyKey[], doc?: Document): Node | null {
  let node = root as Node | null;
  for (const key of path) {
    // A step written as *alias reports the anchored step's own fields.
    if (doc !== undefined && isAlias(node)) node = (node.resolve(doc) as Node | undefined) ?? node;
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      if (pair === undefined) return node;
      node = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (isSeq(node) && typeof key === 'number') {
      const next = node.items[key] as Node | undefined;
      if (next === undefined) return node;
      node = next;
    } else {
      return node;
    }
  }
  return node;
}

/**
 * A precise path and message for an issue. A step that matches no step kind is re-validated
 * against the kind its key names, so the message points at the offending field, not the union.
 */
function refine(issue: z.core.$ZodIssue, root: unknown, doc: Document): { path: PropertyKey[]; message: string } {
  const path = [...issue.path];
  let node = nodeAt(root, issue.path, doc);
  if (isAlias(node)) node = (node.resolve(doc) as Node | undefined) ?? node;
  if (issue.code === 'invalid_union' && issue.path.at(-2) === 'steps') {
    const keys = isMap(node) ? node.items.map((p) => String((p.key as { value?: unknown } | null)?.value)) : [];
    const kind = keys.find((k) => STEP_KINDS.includes(k));
    if (kind === undefined) return { path, message: `a step must be one of ${STEP_KINDS.join(', ')}; got ${keys.length > 0 ? keys.join(', ') : 'nothing'}` };
    const one = stepKinds.find((o) => Object.keys(o.shape)[0] === kind)!.safeParse((node as { toJSON(): unknown }).toJSON());
    if (!one.success) {
      const inner = one.error.issues[0]!;
      // A child's steps (fork, vfork, clone) go through the same refinement, as deep as they nest.
      return refine({ ...inner, path: [...path, ...inner.path] }, root, doc);
    }
  }
  return { path, message: messageOf(issue) };
}

function messageOf(issue: z.core.$ZodIssue): string {
  // A union (an address: a size, or a region and offset) reports the branch's own rule when one
  // branch got far enough to say something more specific than "invalid input".
  if (issue.code === 'invalid_union') {
    const specific = issue.errors.flat().find((i) => i.code === 'custom' && i.path.length === 0);
    if (specific !== undefined) return specific.message;
  }
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
  return issue.message;
}
