/**
 * Write an imported workload as YAML the loader reads back: one flow mapping per step, with the
 * log's line and the host's result as a comment, so a reader can go from any step to its call.
 */
import type { HostResult, ImportedStep, ImportedWorkload } from './strace.js';

const PLAIN = /^[A-Za-z/_][\w./@#+-]*$/;
const RESERVED = new Set(['true', 'false', 'null', 'yes', 'no', 'on', 'off', 'y', 'n', '~']);

function scalar(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return PLAIN.test(v) && !RESERVED.has(v.toLowerCase()) ? v : JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(scalar).join(', ')}]`;
  if (typeof v === 'object' && v !== null) return `{ ${Object.entries(v).map(([k, x]) => `${k}: ${scalar(x)}`).join(', ')} }`;
  return 'null';
}

/** `offset: 4096` reads better as hex in a memory call. */
function field(k: string, x: unknown): string {
  if ((k === 'offset' || k === 'length' || k === 'newLength') && typeof x === 'number' && x >= 4096) return `${k}: 0x${x.toString(16)}`;
  if (k === 'addr' && typeof x === 'object' && x !== null) return `${k}: { ${Object.entries(x).map(([a, b]) => field(a, b)).join(', ')} }`;
  return `${k}: ${scalar(x)}`;
}

function comment(h: HostResult | undefined): string {
  if (h === undefined) return '';
  return `  # ${h.file}:${h.line} ${h.call} = ${h.result.replace(/\s+/g, ' ')}`;
}

function steps(out: string[], list: readonly ImportedStep[], host: readonly HostResult[] | undefined, indent: string, hostOf: (name: string) => readonly HostResult[] | undefined): void {
  if (list.length === 0) {
    out.push(`${indent}[]`);
    return;
  }
  list.forEach((step, i) => {
    const [kind, body] = Object.entries(step)[0]!;
    const h = comment(host?.[i]);
    if (typeof body !== 'object' || body === null) {
      out.push(`${indent}- ${kind}: ${scalar(body)}${h}`);
      return;
    }
    const entries = Object.entries(body);
    const kids = entries.find(([k]) => k === 'steps');
    if (kids === undefined) {
      out.push(`${indent}- ${kind}: { ${entries.map(([k, x]) => field(k, x)).join(', ')} }${h}`);
      return;
    }
    out.push(`${indent}- ${kind}:${h}`);
    for (const [k, x] of entries) if (k !== 'steps') out.push(`${indent}    ${field(k, x)}`);
    const childSteps = kids[1] as ImportedStep[];
    const as = (body as { as?: string }).as;
    if (childSteps.length === 0) out.push(`${indent}    steps: []`);
    else {
      out.push(`${indent}    steps:`);
      steps(out, childSteps, as === undefined ? undefined : hostOf(as), `${indent}      `, hostOf);
    }
  });
}

/** YAML text for a workload, with `header` lines as comments at the top. */
export function workloadYaml(w: ImportedWorkload, host: ReadonlyMap<string, readonly HostResult[]> = new Map(), header: readonly string[] = []): string {
  const out: string[] = header.map((l) => `# ${l}`.trimEnd());
  out.push(`name: ${scalar(w.name)}`, `description: ${scalar(w.description)}`, 'processes:');
  for (const p of w.processes) {
    out.push(`  - name: ${scalar(p.name)}`);
    if (p.steps.length === 0) out.push('    steps: []');
    else {
      out.push('    steps:');
      steps(out, p.steps, host.get(p.name), '      ', (n) => host.get(n));
    }
  }
  hostTable(out, host);
  return out.join('\n') + '\n';
}

/** The workload's host field: each process's host results, one flow mapping per step, in step order. */
function hostTable(out: string[], host: ReadonlyMap<string, readonly HostResult[]>): void {
  const withSteps = [...host].filter(([, list]) => list.length > 0);
  if (withSteps.length === 0) return;
  out.push('# The host\'s result of each step, in order (polykernel run compares the replay with it).', 'host:');
  for (const [name, list] of withSteps) {
    out.push(`  ${scalar(name)}:`);
    for (const h of list) out.push(`    - { at: ${JSON.stringify(`${h.file}:${h.line}`)}, call: ${scalar(h.call)}, result: ${JSON.stringify(h.result)}, ok: ${h.ok} }`);
  }
}
