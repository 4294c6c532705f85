import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJson, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing.js';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { ERROR_SPACES, type ErrorSpaceChoice } from './families.ts';
import { ENTRY_MARKER, IMPORT_MARKER, personalityGenerator, REGISTRY_FILE } from './generator.ts';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** The files the generator expects: the CLI's package, tsconfigs and registry, the root solution tsconfig, the Linux package. */
function workspace(): Tree {
  const tree = createTreeWithEmptyWorkspace();
  tree.write('tsconfig.json', JSON.stringify({ files: [], references: [{ path: './packages/kernel' }] }));
  tree.write('packages/kernel/package.json', JSON.stringify({ name: '@polykernel/kernel' }));
  tree.write('packages/personalities/linux/package.json', JSON.stringify({ name: '@polykernel/linux' }));
  tree.write('packages/runner/package.json', JSON.stringify({ name: '@polykernel/runner', dependencies: { '@polykernel/kernel': '*' } }));
  const refs = JSON.stringify({ references: [{ path: '../../packages/kernel/tsconfig.lib.json' }] });
  tree.write('packages/runner/tsconfig.lib.json', refs);
  tree.write('packages/runner/tsconfig.spec.json', refs);
  tree.write(REGISTRY_FILE, `import { linuxPersonality } from '@polykernel/linux';
${IMPORT_MARKER}

export const REGISTRY = [
  {
    name: 'linux',
  },
  ${ENTRY_MARKER}
];
`);
  return tree;
}

const temps: string[] = [];
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

/**
 * Typecheck generated packages with the repository's compiler options against the real
 * @polykernel packages of this workspace (their sources, through paths): the diagnostics, as text.
 */
function typecheck(tree: Tree, directories: readonly string[]): string[] {
  const out = mkdtempSync(join(tmpdir(), 'pk-gen-'));
  temps.push(out);
  const roots: string[] = [];
  for (const dir of directories) {
    // package.json too: its "type": "module" makes the files ES modules.
    for (const file of ['package.json', 'src/index.ts', 'src/personality.ts', 'src/contract.test.ts']) {
      const path = join(out, dir, file);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, tree.read(`${dir}/${file}`, 'utf-8') ?? '');
      if (path.endsWith('.ts')) roots.push(path);
    }
  }
  const base = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.base.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (base === undefined) throw new Error('cannot read tsconfig.base.json');
  const src = (pkg: string, entry = 'index.ts'): string[] => [join(ROOT, 'packages', pkg, 'src', entry)];
  const options: ts.CompilerOptions = {
    ...base.options,
    composite: false, declaration: false, declarationMap: false, sourceMap: false, noEmit: true,
    typeRoots: [join(ROOT, 'node_modules/@types')],
    paths: {
      '@polykernel/core': src('core'),
      '@polykernel/mmu': src('mmu'),
      '@polykernel/vm': src('vm'),
      '@polykernel/kernel': src('kernel'),
      '@polykernel/kernel/testing': src('kernel', 'testing/index.ts'),
    },
  };
  const program = ts.createProgram(roots, options);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file !== undefined && d.start !== undefined ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : '';
    return where + ts.flattenDiagnosticMessageText(d.messageText, '\n');
  });
}

describe('nx g @polykernel/tools:personality', () => {
  it('scaffolds a package per error space whose skeleton compiles against the real kernel types', () => {
    const tree = workspace();
    const dirs: string[] = [];
    for (const errorSpace of ERROR_SPACES) {
      const name = `toy-${errorSpace}`;
      personalityGenerator(tree, { name, errorSpace });
      const dir = `packages/personalities/${name}`;
      dirs.push(dir);
      for (const f of ['package.json', 'tsconfig.json', 'tsconfig.lib.json', 'tsconfig.spec.json', 'vitest.config.ts', 'README.md', 'src/index.ts', 'src/personality.ts', 'src/contract.test.ts']) {
        expect(tree.exists(`${dir}/${f}`), `${dir}/${f}`).toBe(true);
      }
      const pkg = readJson<{ name: string; exports: Record<string, unknown>; scripts: Record<string, string>; dependencies: Record<string, string> }>(tree, `${dir}/package.json`);
      expect(pkg.name).toBe(`@polykernel/${name}`);
      expect(Object.keys(pkg.dependencies).sort()).toEqual(['@polykernel/core', '@polykernel/kernel', '@polykernel/mmu', '@polykernel/vm']);
      expect(Object.keys(pkg.scripts)).toEqual(['build', 'typecheck', 'lint', 'test', 'bench']);
      expect(pkg.exports['.']).toEqual({ '@polykernel/source': './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' });
      expect(tree.read(`${dir}/src/personality.ts`, 'utf-8')).toContain(`errorSpace: '${errorSpace}'`);
      expect(tree.read(`${dir}/src/contract.test.ts`, 'utf-8')).toContain(`contractSuite('${name}'`);
    }
    expect(typecheck(tree, dirs)).toEqual([]);
  });

  it('registers the personality with the CLI: dependency, project references, registry entry', () => {
    const tree = workspace();
    personalityGenerator(tree, { name: 'my-os', description: "Someone's OS: a 'quoted' word" });
    expect(readJson<{ dependencies: Record<string, string> }>(tree, 'packages/runner/package.json').dependencies['@polykernel/my-os']).toBe('*');
    for (const f of ['packages/runner/tsconfig.lib.json', 'packages/runner/tsconfig.spec.json']) {
      expect(readJson<{ references: { path: string }[] }>(tree, f).references).toContainEqual({ path: '../../packages/personalities/my-os/tsconfig.lib.json' });
    }
    expect(readJson<{ references: { path: string }[] }>(tree, 'tsconfig.json').references).toContainEqual({ path: './packages/personalities/my-os' });
    const registry = tree.read(REGISTRY_FILE, 'utf-8') ?? '';
    expect(registry).toContain(`import { myOsPersonality } from '@polykernel/my-os';\n${IMPORT_MARKER}`);
    expect(registry).toMatch(/ {2}\{\n {4}name: 'my-os',\n {4}description: 'Someone\\'s OS: a \\'quoted\\' word',\n {4}variants: \['my-os'\],\n {4}defaultVariant: 'my-os',\n {4}create: \(opts\) => myOsPersonality\(opts\),\n {2}\},\n {2}\/\/ @polykernel/);
    // The skeleton fails honestly: its memory call is not written, its view says so.
    const skeleton = tree.read('packages/personalities/my-os/src/personality.ts', 'utf-8') ?? '';
    expect(skeleton).toContain("ctx.fail('ENOSYS'");
    expect(skeleton).toContain("kind: 'signal', signal: ACCESS_VIOLATION");
    expect(skeleton).toContain('notWritten(');
  });

  it('refuses bad names, existing packages and personalities, and a registry without markers', () => {
    for (const name of ['Demo', '9os', 'my_os', '', 'os!', '-os']) {
      expect(() => personalityGenerator(workspace(), { name }), name).toThrow(/is not valid/);
    }
    expect(() => personalityGenerator(workspace(), { name: 'linux' })).toThrow('packages/personalities/linux already exists');
    expect(() => personalityGenerator(workspace(), { name: 'kernel' })).toThrow('@polykernel/kernel already exists (packages/kernel/package.json)');
    expect(() => personalityGenerator(workspace(), { name: 'x', errorSpace: 'os2' as ErrorSpaceChoice })).toThrow(/--errorSpace must be one of linux, freebsd, win32/);
    expect(() => personalityGenerator(workspace(), { name: 'x', description: 'two\nlines' })).toThrow(/one non-empty line/);
    const bare = workspace();
    bare.write(REGISTRY_FILE, 'export const REGISTRY = [];\n');
    expect(() => personalityGenerator(bare, { name: 'x' })).toThrow(`has no "${IMPORT_MARKER}" comment`);
    const twice = workspace();
    personalityGenerator(twice, { name: 'again' });
    expect(() => personalityGenerator(twice, { name: 'again' })).toThrow('packages/personalities/again already exists');
  });

  it("the CLI's real registry has the markers the generator inserts before", () => {
    const registry = readFileSync(join(ROOT, REGISTRY_FILE), 'utf8');
    expect(registry).toContain(IMPORT_MARKER);
    expect(registry).toContain(ENTRY_MARKER);
  });
});
