/**
 * The files of a new personality package, as text. Kept as functions of the names (not template
 * files on disk) so that the generator needs no file lookup when Nx loads it from source, and so
 * that its own test can compile their output.
 */
import { FAMILIES, type ErrorSpaceChoice, type Family } from './families.ts';

/** Everything the templates need, derived once from the options. */
export interface Scaffold {
  /** The personality's short name, e.g. `freebsd` or `my-os`. */
  name: string;
  /** `@polykernel/<name>`. */
  packageName: string;
  /** `packages/personalities/<name>`. */
  directory: string;
  /** The factory function: `myOsPersonality`. */
  factory: string;
  /** Type names: `MyOsSpace`, `MyOsMachine`, `MyOsOptions`. */
  space: string;
  machine: string;
  options: string;
  description: string;
  errorSpace: ErrorSpaceChoice;
}

const family = (s: Scaffold): Family => FAMILIES[s.errorSpace];

/** A block of `//` (or ` *`) comment lines, wrapped at about 100 columns, indented. */
function comment(text: string, indent: string, mark = '//'): string {
  const words = text.split(/\s+/).filter((w) => w !== '');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line !== '' && indent.length + mark.length + 1 + line.length + 1 + w.length > 100) {
      lines.push(line);
      line = w;
    } else line = line === '' ? w : `${line} ${w}`;
  }
  if (line !== '') lines.push(line);
  return lines.map((l) => `${indent}${mark} ${l}`).join('\n');
}

/** A single-quoted TypeScript string literal of `text`. */
export function tsString(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\r?\n/g, '\\n')}'`;
}

/** A JSON file's text (two-space indent, final newline), as the repository writes them. */
const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

export function packageJson(s: Scaffold): string {
  return json({
    name: s.packageName,
    version: '0.1.0',
    description: s.description,
    license: 'MIT',
    type: 'module',
    sideEffects: false,
    exports: {
      '.': {
        '@polykernel/source': './src/index.ts',
        types: './dist/index.d.ts',
        default: './dist/index.js',
      },
    },
    files: ['dist', 'README.md'],
    scripts: {
      build: 'tsc -b tsconfig.lib.json',
      typecheck: 'tsc -b tsconfig.json',
      lint: 'eslint .',
      test: 'vitest run',
      bench: 'vitest bench --run',
    },
    dependencies: {
      '@polykernel/core': '*',
      '@polykernel/kernel': '*',
      '@polykernel/mmu': '*',
      '@polykernel/vm': '*',
    },
  });
}

const DEPENDENCY_DIRS = ['core', 'vm', 'kernel', 'mmu'];

export function tsconfigJson(): string {
  return json({
    extends: '../../../tsconfig.base.json',
    files: [],
    references: [{ path: './tsconfig.lib.json' }, { path: './tsconfig.spec.json' }],
  });
}

export function tsconfigLibJson(): string {
  return json({
    extends: '../../../tsconfig.base.json',
    compilerOptions: { rootDir: 'src', outDir: 'dist', tsBuildInfoFile: 'dist/tsconfig.lib.tsbuildinfo' },
    include: ['src/**/*.ts'],
    exclude: ['src/**/*.test.ts', 'src/**/*.bench.ts'],
    references: DEPENDENCY_DIRS.map((d) => ({ path: `../../${d}/tsconfig.lib.json` })),
  });
}

export function tsconfigSpecJson(): string {
  return json({
    extends: '../../../tsconfig.base.json',
    compilerOptions: { rootDir: '.', outDir: 'out-tsc/spec', emitDeclarationOnly: true, tsBuildInfoFile: 'out-tsc/spec/tsconfig.spec.tsbuildinfo' },
    include: ['src/**/*.test.ts', 'src/**/*.bench.ts', 'test/**/*.ts'],
    references: [{ path: './tsconfig.lib.json' }, ...DEPENDENCY_DIRS.map((d) => ({ path: `../../${d}/tsconfig.lib.json` }))],
  });
}

export function vitestConfig(): string {
  return "import { sharedConfig } from '../../../vitest.shared.js';\n\nexport default sharedConfig;\n";
}

export function indexTs(s: Scaffold): string {
  return `export { ${s.factory} } from './personality.js';\nexport type { ${s.machine}, ${s.options}, ${s.space} } from './personality.js';\n`;
}

export function personalityTs(s: Scaffold): string {
  const f = family(s);
  const h = f.hints;
  const call = f.memoryCall;
  const faultUsed = f.violationCode.includes('fault.');
  const mmuImport = faultUsed ? "import { ACCESS_WRITE, type PageTable } from '@polykernel/mmu';" : "import type { PageTable } from '@polykernel/mmu';";
  const viewWhat = `the "${f.view.name}" view (${f.view.title})`;
  const m = (key: keyof typeof h): string => comment(h[key], '    ');
  const intro = `It boots, and does none of a kernel's work yet: its ${call.name} fails with ${call.notWritten}, every fault becomes ${f.accessViolation}, its view says it is not written. The contract test (src/contract.test.ts) fails until each member does what the real kernel does; the comment above each member says where ${f.kernel}'s source does it. Fill in address spaces, then faults, then calls, then views (docs/new-personality.md).`;
  return `/**
${comment(s.description, ' ', '*')}
 *
 * A skeleton on the draft-3 Personality contract (docs/personality-contract.md), generated by
 *   npx nx g @polykernel/tools:personality ${s.name} --errorSpace ${s.errorSpace}
${comment(intro, ' ', '*')}
 */
import { Rng } from '@polykernel/core';
import { ${f.idsImport}, memoryFileSystem, type FileLookup, type Personality } from '@polykernel/kernel';
${mmuImport}

/** Per-process address-space state (\`process.space\`): what the kernel keeps for one address space. */
export interface ${s.space} {
  /** The page table the MMU walks for this process. */
  readonly pt: PageTable;
${comment(`TODO: the map of the address space (${s.errorSpace === 'linux' ? 'VMAs' : s.errorSpace === 'freebsd' ? 'vm_map entries' : 'VADs'}): each region's range, protection and VM object (kernel.vm.createObject).`, '  ')}
}

/** Per-machine state (\`kernel.state\`), made once per Kernel by \`attach\`; never shared between kernels. */
export interface ${s.machine} {
  /** The kernel's own randomness: seeded, so the same seed gives the same run. */
  readonly rng: Rng;
  /** Where exec and open find files (the CLI passes the host's files under --sysroot). */
  readonly fs: FileLookup;
}

export interface ${s.options} {
  /** The variant (kernel version) to model; the CLI passes one of the variants it registered. */
  variant?: string | undefined;
  /** Where exec and open find files; default: none. */
  fs?: FileLookup | undefined;
  /** Seed of the kernel's own randomness; default: the Kernel's seed. */
  seed?: number | undefined;
}

const NAME = '${s.name}';

/** Signal (exception) numbers by name. */
const SIGNALS: Readonly<Record<string, number>> = ${f.signals};

/** What a bad user access becomes. */
const ACCESS_VIOLATION = '${f.accessViolation}';

/** A part that is not written yet: fail loudly, saying what to write. */
function notWritten(what: string, how: string): never {
  throw new Error(\`\${NAME}: \${what} is not written yet (src/personality.ts): \${how}\`);
}

export function ${s.factory}(opts: ${s.options} = {}): Personality<${s.space}, ${s.machine}> {
  return {
    name: opts.variant ?? NAME,
    // TODO: the kernel version this variant models (shown in views and reports).
    version: 'skeleton',
    defaultProfile: 'x86-64',
${m('errorSpace')}
    errorSpace: '${s.errorSpace}',
${m('failureValue')}
    failureValue: ${f.failureValue},
${m('syscalls')}
    syscalls: [
      {
        name: '${call.name}',
        number: ${call.number},
        args: [${call.args.map((a) => `'${a}'`).join(', ')}],
        table: '${call.table}',
        kind: '${call.kind}',
        handler: (ctx) => ctx.fail('${call.notWritten}', '${call.name} is not written yet (src/personality.ts)'),
      },
    ],
${m('signals')}
    signals: SIGNALS,
${m('waitStatus')}
    waitStatus: ${f.waitStatus},
${m('processModel')}
    processModel: ${f.processModel},
${m('ids')}
    ids: ${f.ids},
${m('attach')}
    attach: (k) => ({ rng: new Rng(opts.seed ?? k.options.seed ?? 1), fs: opts.fs ?? memoryFileSystem({}) }),
${m('createAddressSpace')}
    createAddressSpace: (k) => ({ pt: k.mmu.createPageTable() }),
${m('destroyAddressSpace')}
${comment('TODO: also give back every frame of every region (kernel.vm.deallocate(object)).', '    ')}
    destroyAddressSpace: (_k, p) => {
      p.space.pt.destroy();
    },
${m('pageTableOf')}
    pageTableOf: (space) => space.pt,
${m('handleFault')}
${comment(`TODO: the skeleton has no regions, so every fault, even a kernel-mode one, becomes ${f.accessViolation}. The faulting space is (fault.process as Process<${s.space}>).space.`, '    ')}
    handleFault: (_k, _thread, ${faultUsed ? 'fault' : '_fault'}) => ({ kind: 'signal', signal: ACCESS_VIOLATION, code: ${f.violationCode} }),
${m('deliver')}
${comment('TODO: the skeleton has no handlers: every signal takes its default action.', '    ')}
    deliver: () => 'default',
${m('views')}
    views: [
      {
        name: '${f.view.name}',
        title: '${f.view.title}',
        render: () => notWritten(${tsString(viewWhat)}, ${tsString(f.view.hint)}),
      },
    ],
${m('metricsFilled')}
    metricsFilled: [${f.metricsFilled.map((x) => `'${x}'`).join(', ')}],
  };
}
`;
}

export function contractTestTs(s: Scaffold): string {
  const f = family(s);
  const posix = s.errorSpace !== 'win32';
  return `/**
 * The contract kit (@polykernel/kernel/testing) on ${s.name}: the checks every personality passes.
 * It fails until src/personality.ts does the work; each failure names the part to write.
 */
${posix ? "import { PROT_READ, PROT_WRITE } from '@polykernel/core';\n" : ''}import type { Kernel, Thread } from '@polykernel/kernel';
import { contractSuite } from '@polykernel/kernel/testing';
import { ${s.factory}, type ${s.machine}, type ${s.space} } from './personality.js';

${f.mapMemory.constants}

/** Map \`bytes\` of fresh private read-write memory with the personality's own call; negative on failure. */
function mapMemory(k: Kernel<${s.space}, ${s.machine}>, t: Thread, bytes: number): number {
  ${f.mapMemory.body}
}

contractSuite('${s.name}', {
  personality: () => ${s.factory}(),
  mapMemory,
  unmappedAddress: 0x1000,
  accessViolation: '${f.accessViolation}',
});
`;
}

export function readme(s: Scaffold): string {
  const f = family(s);
  return `# ${s.packageName}

${s.description}

A personality on the draft-3 contract (\`Personality<${s.space}, ${s.machine}>\`, see
[docs/personality-contract.md](../../../docs/personality-contract.md)), scaffolded by
\`npx nx g @polykernel/tools:personality ${s.name} --errorSpace ${s.errorSpace}\`. The skeleton boots but
does none of the kernel's work yet; the comment above each member of \`src/personality.ts\` says where
${f.kernel}'s source does it.

## Steps

1. \`npx nx test ${s.packageName}\` runs the contract kit (\`src/contract.test.ts\`). On the
   skeleton most checks fail, each naming what to write: \`mapMemory failed (${f.memoryCall.notWritten})\`
   until \`${f.memoryCall.name}\` maps memory, the kernel-mode (fixup) check until \`handleFault\` returns
   \`{ kind: 'fixup' }\` for a kernel-mode access, \`the "${f.view.name}" view ... is not written yet\` until the view renders.
2. Address spaces: put the kernel's map of regions in \`${s.space}\`; make \`createAddressSpace\` and
   \`destroyAddressSpace\` build and free it (every frame back: the leak check counts them).
3. Faults: \`handleFault\` resolves faults inside a region (demand zero with \`kernel.vm.fault\` and
   \`space.pt.map\`, COW), and only then answers ${f.accessViolation}, or \`fixup\` in kernel mode.
4. Calls: write \`${f.memoryCall.name}\` and the calls after it in \`syscalls\`; a call that cannot do its
   work fails with \`ctx.fail('<error name>')\` in its error space, never with a made-up value.
5. Views: render \`${f.view.title}\` as the real tool prints it (and \`rows\` for JSON).
6. Keep \`metricsFilled\` honest: the kit checks that each field it lists moves.
7. Register variants: the registry entry is in \`packages/runner/src/registry.ts\`; run it with
   \`polykernel run -p ${s.name} <workload>\` and see it in \`polykernel personalities\`.

\`npx nx build ${s.packageName}\` and \`npx nx lint ${s.packageName}\` work from the start.
`;
}

/** The CLI registry's import line and entry for this personality. */
export function registryImport(s: Scaffold): string {
  return `import { ${s.factory} } from '${s.packageName}';\n`;
}

export function registryEntry(s: Scaffold): string {
  return `  {
    name: '${s.name}',
    description: ${tsString(s.description)},
    variants: ['${s.name}'],
    defaultVariant: '${s.name}',
    create: (opts) => ${s.factory}(opts),
  },
`;
}
