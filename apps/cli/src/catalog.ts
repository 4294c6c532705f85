/**
 * `polykernel personalities`: what the CLI knows about each registered personality, read from the
 * personality object itself (its default variant): identity, error space, process model, calls by
 * table and kind, signals, views, the metrics it fills, and which commands can drive it.
 */
import { memoryFileSystem, type ProcessModel } from '@polykernel/kernel';
import { commandsFor, PERSONALITIES, type CommandSupport, type RegisteredPersonality } from './personalities.js';

export type CatalogOptions = Record<string, boolean | string | undefined>;

/** One table of calls: how many are traps (kernel entries) and how many library calls. */
export interface CallTable {
  table: string;
  trap: number;
  library: number;
}

/** What `--json` prints for each personality. */
export interface PersonalityInfo {
  name: string;
  description: string;
  variants: string[];
  defaultVariant: string;
  /** The rest describes the default variant. */
  version: string;
  defaultProfile: string;
  errorSpace: string;
  processModel: ProcessModel;
  calls: CallTable[];
  signals: string[];
  views: { name: string; title: string }[];
  metricsFilled: string[];
  commands: CommandSupport[];
}

export function describePersonality(entry: RegisteredPersonality): PersonalityInfo {
  // A personality object is a factory: building one boots nothing and reads no file.
  const p = entry.create({ variant: entry.defaultVariant, fs: memoryFileSystem({}) });
  const tables = new Map<string, CallTable>();
  for (const s of p.syscalls) {
    const table = s.table ?? 'syscalls';
    const t = tables.get(table) ?? { table, trap: 0, library: 0 };
    if ((s.kind ?? 'trap') === 'trap') t.trap++;
    else t.library++;
    tables.set(table, t);
  }
  return {
    name: entry.name,
    description: entry.description,
    variants: [...entry.variants],
    defaultVariant: entry.defaultVariant,
    version: p.version,
    defaultProfile: p.defaultProfile,
    errorSpace: p.errorSpace,
    processModel: { ...p.processModel },
    calls: [...tables.values()],
    signals: Object.keys(p.signals),
    views: p.views.map((v) => ({ name: v.name, title: v.title })),
    metricsFilled: [...p.metricsFilled],
    commands: commandsFor(entry),
  };
}

/** The process model in words. */
export function describeProcessModel(m: ProcessModel): string {
  const parts = [`boot process ${m.bootComm}`];
  parts.push(m.adoptsOrphans ? `orphans are re-parented to ${m.bootComm}` : "orphans keep their creator's ID (no re-parenting)");
  if (m.bootReaps) parts.push(`${m.bootComm} reaps its zombie children at once`);
  parts.push(m.lifetime === 'wait' ? 'an exited process stays a zombie until its parent waits' : 'an exited process lives while a handle to it is open');
  return parts.join('; ');
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function text(info: PersonalityInfo): string {
  const calls = info.calls.map((t) => `${t.table}: ${[t.trap > 0 ? plural(t.trap, 'trap') : '', t.library > 0 ? plural(t.library, 'library call') : ''].filter((x) => x !== '').join(', ')}`);
  const rows: [string, string][] = [
    ['variants', info.variants.map((v) => (v === info.defaultVariant ? `${v} (default)` : v)).join(', ')],
    ['version', `${info.version} (of ${info.defaultVariant}), machine profile ${info.defaultProfile}`],
    ['error space', info.errorSpace],
    ['process model', describeProcessModel(info.processModel)],
    ['calls', calls.length > 0 ? calls.join('; ') : 'none'],
    ['signals', info.signals.length > 0 ? info.signals.join(' ') : 'none'],
    ['views', info.views.length > 0 ? info.views.map((v) => `${v.name} (${v.title})`).join(', ') : 'none'],
    ['metrics filled', info.metricsFilled.length > 0 ? info.metricsFilled.join(', ') : 'none'],
    ['commands', info.commands.map((c) => `${c.command} (${c.support})`).join(', ')],
  ];
  const w = Math.max(...rows.map(([key]) => key.length));
  return [`${info.name}: ${info.description}`, ...rows.map(([key, v]) => `  ${key.padEnd(w)}  ${v}`)].join('\n');
}

export function runPersonalities(opts: CatalogOptions, out: (s: string) => void = (s) => process.stdout.write(s + '\n'), registry: readonly RegisteredPersonality[] = PERSONALITIES): number {
  const infos = registry.map(describePersonality);
  if (opts.json === true) {
    out(JSON.stringify(infos, null, 2));
    return 0;
  }
  out(infos.map(text).join('\n\n'));
  out(`\n${plural(infos.length, 'personality', 'personalities')} registered. A new one: npx nx g @polykernel/tools:personality <name> (docs/new-personality.md)`);
  return 0;
}
