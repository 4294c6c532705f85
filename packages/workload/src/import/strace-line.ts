/**
 * One line of strace output, taken apart: the pid prefix (`[pid N] ` on a terminal, `N ` in an
 * `-o` file with `-f`), timestamps (`-t`, `-tt`, `-ttt`, `-r`), the instruction pointer (`-i`),
 * then a call (`name(args) = result`), the start of one (`name(args <unfinished ...>`), its end
 * (`<... name resumed>args) = result`), a signal (`--- SIGCHLD {...} ---`), an exit
 * (`+++ exited with 0 +++`, `+++ killed by SIGSEGV +++`) or a message of strace's own.
 *
 * Formats as strace 5.x and 6.x print them (strace's src/syscall.c: syscall_exiting_trace prints
 * " = " then the value, the errno name and its strerror text in parentheses; -T appends
 * "<seconds>"; -y prints a descriptor as "N</path>" and -yy sockets as "N<TCP:[...]>").
 */

export type StraceLine =
  | { kind: 'call'; pid: number | null; text: string }
  | { kind: 'unfinished'; pid: number | null; text: string }
  | { kind: 'resumed'; pid: number | null; name: string; text: string }
  | { kind: 'signal'; pid: number | null; signal: string }
  | { kind: 'exited'; pid: number | null; code: number | null; signal: string | null }
  | { kind: 'strace'; pid: number | null; text: string }
  | { kind: 'blank' }
  | { kind: 'garbage'; reason: string };

const PID_BRACKET = /^\[pid\s+(\d+)(?:<[^>]*>)?\]\s+/;
const PID_PLAIN = /^(\d+)(?:<[^>]*>)?\s+(?=\S)/;
/** -t "14:13:39 ", -tt "14:13:39.042330 ", -ttt "1700000000.042330 ", -r "     0.000123 ". */
const TIME = /^\s*(?:\d{2}:\d{2}:\d{2}(?:\.\d+)?|\d+\.\d+)\s+/;
/** -i: "[00007f3a12345678] " */
const IP = /^\[\s*[0-9a-f?]+\]\s+/;
const UNFINISHED = /\s*<unfinished \.\.\.>\s*$/;
const RESUMED = /^<\.\.\.\s+([A-Za-z_][\w]*)\s+resumed>\s?/;
const EXITED = /^\+\+\+ exited with (\d+) \+\+\+$/;
const KILLED = /^\+\+\+ killed by (SIG[A-Z0-9+_-]+)(?: \(core dumped\))? \+\+\+$/;
const SUPERSEDED = /^\+\+\+ superseded by execve in pid \d+ \+\+\+$/;
const SIGNAL = /^--- (SIG[A-Z0-9+_-]+|stopped by SIG[A-Z0-9]+)\b.* ---$/;
const CALL = /^[A-Za-z_][\w]*\(/;

/** Take one line apart. `plainPid` says whether a leading number is a pid (strace -f -o FILE). */
export function lexStraceLine(raw: string): StraceLine {
  let s = raw.replace(/\r$/, '');
  if (s.trim() === '') return { kind: 'blank' };
  let pid: number | null = null;
  const bracket = PID_BRACKET.exec(s);
  if (bracket !== null) {
    pid = Number(bracket[1]);
    s = s.slice(bracket[0].length);
  } else {
    const plain = PID_PLAIN.exec(s);
    // "12345 14:13:39.0 call(" or "12345 call(": a pid. "1700000000.04 call(" is a -ttt time.
    if (plain !== null && !/^\d+\.\d/.test(s)) {
      pid = Number(plain[1]);
      s = s.slice(plain[0].length);
    }
  }
  const time = TIME.exec(s);
  if (time !== null) s = s.slice(time[0].length);
  const ip = IP.exec(s);
  if (ip !== null) s = s.slice(ip[0].length);
  s = s.trimEnd();
  if (s.startsWith('strace: ')) return { kind: 'strace', pid, text: s.slice(8) };
  if (s.startsWith('+++')) {
    const ex = EXITED.exec(s);
    if (ex !== null) return { kind: 'exited', pid, code: Number(ex[1]), signal: null };
    const killed = KILLED.exec(s);
    if (killed !== null) return { kind: 'exited', pid, code: null, signal: killed[1]! };
    if (SUPERSEDED.test(s)) return { kind: 'exited', pid, code: null, signal: null };
    return { kind: 'garbage', reason: 'an exit line ("+++ ... +++") strace does not print' };
  }
  if (s.startsWith('---')) {
    const sig = SIGNAL.exec(s);
    return sig !== null ? { kind: 'signal', pid, signal: sig[1]!.replace(/^stopped by /, '') } : { kind: 'garbage', reason: 'a signal line ("--- ... ---") strace does not print' };
  }
  const resumed = RESUMED.exec(s);
  if (resumed !== null) {
    const rest = s.slice(resumed[0].length);
    // An interrupted call resumed and interrupted again: "<... wait4 resumed> <unfinished ...>)".
    return { kind: 'resumed', pid, name: resumed[1]!, text: rest.replace(UNFINISHED, '') };
  }
  if (CALL.test(s)) {
    if (UNFINISHED.test(s)) return { kind: 'unfinished', pid, text: s.replace(UNFINISHED, '') };
    return { kind: 'call', pid, text: s };
  }
  return { kind: 'garbage', reason: `not a line strace prints: ${JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}...` : s)}` };
}

/** A complete call: its name, top-level arguments as strace printed them, and the result. */
export interface ParsedCall {
  name: string;
  args: string[];
  /** The returned value; null for "?" (exit_group, a call the process died in). */
  value: number | null;
  /** The errno name for a failure ("ENOMEM"), else null. */
  errno: string | null;
  /** -y: the path or description after a returned descriptor ("3</etc/ld.so.cache>"). */
  path: string | null;
  /** The result as strace printed it, without -T's time ("-1 ENOENT (No such file or directory)"). */
  resultText: string;
}

/** Split `name(args) = result` into its parts, or say why it cannot be. */
export function parseCall(text: string): ParsedCall | string {
  const open = text.indexOf('(');
  const name = text.slice(0, open);
  const split = splitArgs(text, open + 1);
  if (typeof split === 'string') return split;
  const rest = text.slice(split.end + 1).trim();
  if (!rest.startsWith('=')) return rest === '' ? 'truncated: the call has no " = result"' : `expected " = result" after the arguments, got ${JSON.stringify(rest.slice(0, 40))}`;
  const result = rest.slice(1).trim().replace(/\s*<\d+(?:\.\d+)?>$/, '');
  const m = /^(\?|0x[0-9a-fA-F]+|-?\d+)(?:<(.*?)>)?(?:\s+(E[A-Z0-9]+|ERESTART\w+)\b)?/.exec(result);
  if (m === null) return `the result ${JSON.stringify(result.slice(0, 40))} is not a number`;
  const value = m[1] === '?' ? null : parseNumber(m[1]!);
  if (m[1] !== '?' && value === undefined) return `the result ${m[1]!} is not a number`;
  return { name, args: split.args, value: value ?? null, errno: m[3] ?? null, path: m[2] ?? null, resultText: result };
}

const CLOSE: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/**
 * The top-level arguments from `start` (just past the call's "(") to the matching ")": commas
 * inside strings, brackets, braces, parentheses, -y's "N</path>" and comments do not split.
 */
export function splitArgs(text: string, start: number): { args: string[]; end: number } | string {
  const args: string[] = [];
  const stack: string[] = [];
  let from = start;
  let i = start;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      i = skipString(text, i);
      if (i < 0) return 'truncated: a string argument never ends';
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return 'truncated: a comment never ends';
      i = end + 2;
      continue;
    }
    if (c === '<' && i > 0 && /[\d\]A-Za-z_]/.test(text[i - 1]!)) {
      // -y/-yy: "3</path>", "AT_FDCWD</tmp>", "3<socket:[1234]>"; the path may hold commas.
      const end = findAngleEnd(text, i + 1);
      if (end < 0) return 'truncated: a descriptor\'s "<path>" never ends';
      i = end + 1;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') stack.push(CLOSE[c]!);
    else if (c === ')' && stack.length === 0) {
      const last = text.slice(from, i).trim();
      if (last !== '' || args.length > 0) args.push(last);
      return { args, end: i };
    } else if (c === ')' || c === ']' || c === '}') {
      if (stack.pop() !== c) return `unbalanced "${c}" in the arguments`;
    } else if (c === ',' && stack.length === 0) {
      args.push(text.slice(from, i).trim());
      from = i + 1;
    }
    i++;
  }
  return 'truncated: the arguments never end with ")"';
}

function skipString(text: string, at: number): number {
  let i = at + 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\') i += 2;
    else if (c === '"') {
      i++;
      // strace marks a string it cut short with "..." right after the closing quote.
      if (text.startsWith('...', i)) i += 3;
      return i;
    } else i++;
  }
  return -1;
}

function findAngleEnd(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '<') depth++;
    else if (c === '>' && --depth === 0) return i;
  }
  return -1;
}

/** "0x7f00", "4096", "-1", "NULL": a safe integer, or undefined. */
export function parseNumber(s: string): number | undefined {
  const t = s.trim();
  if (t === 'NULL') return 0;
  let n: number;
  if (/^0x[0-9a-f]+$/i.test(t)) n = Number.parseInt(t.slice(2), 16);
  else if (/^-?\d+$/.test(t)) n = Number(t);
  else if (/^0[0-7]+$/.test(t)) n = Number.parseInt(t, 8);
  else return undefined;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A descriptor argument: "3", "3</path>", "AT_FDCWD", "AT_FDCWD</cwd>". */
export function parseFd(s: string): { fd: number | 'cwd'; path: string | null } | undefined {
  const m = /^(-?\d+|AT_FDCWD)(?:<(.*)>)?$/.exec(s.trim());
  if (m === null) return undefined;
  return { fd: m[1] === 'AT_FDCWD' ? 'cwd' : Number(m[1]), path: m[2] ?? null };
}

/** A C string argument as strace printed it ("/etc/ld.so.cache"), unescaped; undefined if it is not one (a pointer, or cut short with "..."). */
export function parseString(s: string): string | undefined {
  const t = s.trim();
  if (!t.startsWith('"') || !t.endsWith('"') || t.length < 2) return undefined;
  const body = t.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = body[++i];
    if (n === undefined) return undefined;
    if (n === 'x') {
      out += String.fromCharCode(Number.parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (/[0-7]/.test(n)) {
      const oct = /^[0-7]{1,3}/.exec(body.slice(i))![0];
      out += String.fromCharCode(Number.parseInt(oct, 8));
      i += oct.length - 1;
    } else out += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n === 'v' ? '\v' : n === 'f' ? '\f' : n;
  }
  return out;
}

/** "PROT_READ|PROT_WRITE" → "rw-"; undefined for bits a workload cannot say. */
export function parseProt(s: string): string | undefined {
  const t = s.trim();
  if (t === 'PROT_NONE' || t === '0') return '---';
  let r = false;
  let w = false;
  let x = false;
  for (const part of t.split('|')) {
    if (part === 'PROT_READ') r = true;
    else if (part === 'PROT_WRITE') w = true;
    else if (part === 'PROT_EXEC') x = true;
    else return undefined;
  }
  return `${r ? 'r' : '-'}${w ? 'w' : '-'}${x ? 'x' : '-'}`;
}

/** "A|B|0x40" → ["A", "B", "0x40"]. */
export function flagList(s: string): string[] {
  return s.trim().split('|').map((f) => f.trim()).filter((f) => f !== '' && f !== '0');
}

/** "key=value" fields of a struct argument such as clone3's "{flags=..., exit_signal=SIGCHLD, ...}". */
export function structFields(s: string): Map<string, string> {
  const t = s.trim();
  const fields = new Map<string, string>();
  if (!t.startsWith('{')) return fields;
  // The struct as passed, up to its own closing brace: clone3 prints what the kernel wrote back after it ("{...} => {parent_tid=[3301]}").
  const close = matchingBrace(t);
  if (close < 0) return fields;
  const inner = splitArgs(`${t.slice(1, close)})`, 0);
  if (typeof inner === 'string') return fields;
  for (const a of inner.args) {
    const eq = a.indexOf('=');
    if (eq > 0) fields.set(a.slice(0, eq).trim(), a.slice(eq + 1).trim());
  }
  return fields;
}

/** The index of the "}" closing the "{" at 0 (strings skipped), or -1. */
function matchingBrace(t: string): number {
  let depth = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t[i]!;
    if (c === '"') {
      i = skipString(t, i) - 1;
      if (i < 0) return -1;
    } else if (c === '{' || c === '[') depth++;
    else if ((c === '}' || c === ']') && --depth === 0) return i;
  }
  return -1;
}
