/**
 * Workload parameters: a workload file written once and run at several values, such as
 * `polykernel-bench sweep W.yaml --param size=16M,256M,2G`.
 *
 * Syntax: `${name}` anywhere in the file stands for the parameter's value, substituted into the
 * text before the YAML is read (so a value can be a size, a count, a path or a protection). A name
 * is a letter or `_` followed by letters, digits and `_`. `$$` is a literal `$`; any other `$` is
 * itself. A value is one line. Substitution never changes line numbers, so every error found
 * afterwards (a value the schema refuses) is reported at the line of the `${name}` it came from.
 *
 * Checked: a `${` that is not a well-formed reference, a parameter the file uses with no value
 * given (each use, at its file:line:column), and a value given for a parameter the file never
 * uses (at the file) are WorkloadErrors.
 */
import { WorkloadError, type WorkloadIssue } from './load.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** One `${name}` in a workload's text: the name and where it is (1-based line and column). */
export interface ParamUse {
  name: string;
  line: number;
  column: number;
}

interface Scan {
  uses: ParamUse[];
  /** The text as literal pieces and references, in order. */
  parts: (string | ParamUse)[];
  issues: WorkloadIssue[];
}

function scan(text: string, file: string): Scan {
  const uses: ParamUse[] = [];
  const parts: (string | ParamUse)[] = [];
  const issues: WorkloadIssue[] = [];
  let line = 1;
  let lineStart = 0;
  let literal = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      lineStart = i + 1;
      continue;
    }
    if (c !== 36 /* $ */) continue;
    const next = text[i + 1];
    if (next === '$') {
      parts.push(text.slice(literal, i + 1));
      literal = i + 2;
      i++;
      continue;
    }
    if (next !== '{') continue;
    const column = i - lineStart + 1;
    const close = text.indexOf('}', i + 2);
    const eol = text.indexOf('\n', i);
    const name = close < 0 || (eol >= 0 && close > eol) ? null : text.slice(i + 2, close);
    if (name === null || !NAME.test(name)) {
      const shown = name === null ? text.slice(i, eol < 0 ? undefined : eol).slice(0, 40) : `\${${name}}`;
      issues.push({ file, line, column, path: '', message: `${shown} is not a parameter reference: write \${name} (a letter or _, then letters, digits or _), or $$ for a literal $` });
      continue;
    }
    const use = { name, line, column };
    uses.push(use);
    parts.push(text.slice(literal, i), use);
    literal = close + 1;
    i = close;
  }
  parts.push(text.slice(literal));
  return { uses, parts, issues };
}

/** The parameters a workload's text uses, each once in order of first use with where it first appears; a malformed reference is a WorkloadError. */
export function workloadParams(text: string, file = '<workload>'): ParamUse[] {
  const s = scan(text, file);
  if (s.issues.length > 0) throw new WorkloadError(s.issues);
  const seen = new Set<string>();
  return s.uses.filter((u) => !seen.has(u.name) && seen.add(u.name));
}

/**
 * Check that `names` are exactly the parameters the text uses: every use has a value and every
 * value a use. Returns nothing; throws a WorkloadError listing every problem.
 */
export function checkParams(text: string, names: readonly string[], file = '<workload>'): void {
  const s = scan(text, file);
  const given = new Set(names);
  const issues = [...s.issues];
  for (const u of s.uses) {
    if (!given.has(u.name)) issues.push({ file, line: u.line, column: u.column, path: '', message: `parameter \${${u.name}} has no value (give it with --param ${u.name}=v1,v2,...)` });
  }
  const used = new Set(s.uses.map((u) => u.name));
  for (const n of names) {
    if (!used.has(n)) {
      const known = [...used];
      issues.push({ file, line: 1, column: 1, path: '', message: `--param ${n}: the workload has no parameter \${${n}} (${known.length === 0 ? 'it uses none' : `it uses: ${known.join(', ')}`})` });
    }
  }
  if (issues.length > 0) throw new WorkloadError(issues);
}

/** The text with every `${name}` replaced by its value and `$$` by `$`; the same checks as checkParams. */
export function substituteParams(text: string, values: Readonly<Record<string, string>>, file = '<workload>'): string {
  checkParams(text, Object.keys(values), file);
  for (const [name, v] of Object.entries(values)) {
    if (/[\r\n]/.test(v)) throw new WorkloadError([{ file, line: 1, column: 1, path: '', message: `--param ${name}: a value is one line; got ${JSON.stringify(v)}` }]);
  }
  return scan(text, file).parts.map((p) => (typeof p === 'string' ? p : values[p.name]!)).join('');
}
