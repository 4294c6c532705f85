/**
 * The personalities this CLI knows: the registry (@polykernel/runner, shared with the bench app),
 * and which commands can drive each.
 */
import type { RegisteredPersonality } from '@polykernel/runner';

export {
  linuxVariant, notRegistered, PERSONALITIES, registeredList, resolvePersonality,
  type LinuxVariant, type PersonalityOptions, type RegisteredPersonality, type ResolvedPersonality,
} from '@polykernel/runner';

/** Which commands can drive a personality, and how far. */
export interface CommandSupport {
  command: string;
  support: string;
}

/** The commands with a driver for each personality; `run` and `compare` boot any registered one. */
export function commandsFor(entry: RegisteredPersonality): CommandSupport[] {
  const portable = entry.create({ variant: entry.defaultVariant, fs: () => 'ENOENT' }).portable !== undefined;
  const driven = portable ? 'portable steps through its portable driver' : 'portable steps are n/a (it has no portable driver)';
  if (entry.name === 'linux') {
    return [
      { command: 'run', support: 'every workload step: native (Linux\'s own calls) and portable' },
      { command: 'compare', support: 'native and portable steps, beside any other personality on portable ones' },
      { command: 'exec', support: 'ELF programs and #! scripts' },
      { command: 'explain', support: 'fault and fork stories' },
    ];
  }
  const common: CommandSupport[] = [
    { command: 'run', support: `boots it and creates the workload's processes; ${driven}` },
    { command: 'compare', support: driven },
  ];
  if (entry.name === 'windows') return [...common, { command: 'exec', support: 'PE images (CreateProcess; --suspended)' }, { command: 'explain', support: 'demand-zero, guard-page and access-violation faults' }];
  if (entry.name === 'freebsd') return [...common, { command: 'exec', support: 'FreeBSD-branded ELF files (procstat -v; --auxv procstat -x)' }];
  return common;
}
