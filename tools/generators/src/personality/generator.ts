/**
 * `npx nx g @polykernel/tools:personality <name>`: scaffold packages/personalities/<name>, a
 * skeleton on the draft-3 Personality contract whose contract test runs and fails (naming what to
 * write) until it is filled in, and register it where the CLI and the bench app find personalities:
 * the dependency in packages/runner/package.json, the TypeScript project references, and an entry
 * in the registry (packages/runner/src/registry.ts, inserted before its marker comments).
 */
import { installPackagesTask, logger, names, readJson, updateJson, type GeneratorCallback, type Tree } from '@nx/devkit';
import { ERROR_SPACES, FAMILIES, type ErrorSpaceChoice } from './families.ts';
import {
  contractTestTs, indexTs, packageJson, personalityTs, readme, registryEntry, registryImport, tsconfigJson, tsconfigLibJson,
  tsconfigSpecJson, vitestConfig, type Scaffold,
} from './templates.ts';

/** The generator's options (schema.json). */
export interface PersonalityGeneratorSchema {
  name: string;
  errorSpace?: ErrorSpaceChoice | undefined;
  description?: string | undefined;
  skipInstall?: boolean | undefined;
}

export const NAME_PATTERN = /^[a-z][a-z0-9-]*$/;
/** Where new personalities go. */
export const PERSONALITIES_DIR = 'packages/personalities';
/** The registry of personalities (@polykernel/runner, which the CLI and the bench app use) and its package. */
export const REGISTRY_FILE = 'packages/runner/src/registry.ts';
export const CLI_DIR = 'packages/runner';
/** The registry's marker comments: imports and entries are inserted on the line before each. */
export const IMPORT_MARKER = '// @polykernel/tools:personality inserts imports above this line';
export const ENTRY_MARKER = '// @polykernel/tools:personality inserts entries above this line';

/** Folders whose package.json files name the workspace's packages. */
const PACKAGE_ROOTS = ['packages', 'apps', 'tools'];

/** package.json files under the workspace's package folders (not node_modules, at most 3 levels down). */
function packageJsonFiles(tree: Tree, dir: string, depth: number): string[] {
  if (depth < 0 || !tree.exists(dir) || tree.isFile(dir)) return [];
  const out: string[] = [];
  for (const child of tree.children(dir)) {
    if (child === 'node_modules' || child === 'dist' || child.startsWith('.')) continue;
    const path = `${dir}/${child}`;
    if (child === 'package.json' && tree.isFile(path)) out.push(path);
    else out.push(...packageJsonFiles(tree, path, depth - 1));
  }
  return out;
}

/** Check the options and derive the names; throws with the reason when the name cannot be used. */
export function normalizeOptions(tree: Tree, schema: PersonalityGeneratorSchema): Scaffold {
  const name = schema.name;
  if (!NAME_PATTERN.test(name)) {
    throw new Error(`personality name "${name}" is not valid: use lowercase letters, digits and dashes, starting with a letter (${NAME_PATTERN.source}), e.g. freebsd or my-os`);
  }
  const errorSpace = schema.errorSpace ?? 'freebsd';
  if (!ERROR_SPACES.includes(errorSpace)) {
    throw new Error(`--errorSpace must be one of ${ERROR_SPACES.join(', ')}, not "${errorSpace}"`);
  }
  const packageName = `@polykernel/${name}`;
  const directory = `${PERSONALITIES_DIR}/${name}`;
  if (tree.exists(directory)) throw new Error(`${directory} already exists: choose another name, or remove it first`);
  for (const root of PACKAGE_ROOTS) {
    for (const file of packageJsonFiles(tree, root, 3)) {
      if (readJson<{ name?: string }>(tree, file).name === packageName) throw new Error(`${packageName} already exists (${file}): choose another name`);
    }
  }
  if (tree.exists(REGISTRY_FILE) && new RegExp(`^\\s*name: '${name}',`, 'm').test(tree.read(REGISTRY_FILE, 'utf-8') ?? '')) {
    throw new Error(`the CLI already registers a personality named "${name}" (${REGISTRY_FILE})`);
  }
  const description = (schema.description ?? `The ${name} kernel personality (${FAMILIES[errorSpace].kernel} conventions; not written yet).`).trim();
  if (description === '' || /[\r\n]/.test(description) || description.includes('*/')) {
    throw new Error('--description must be one non-empty line (and cannot contain "*/")');
  }
  const n = names(name);
  return {
    name, packageName, directory, description, errorSpace,
    factory: `${n.propertyName}Personality`,
    space: `${n.className}Space`,
    machine: `${n.className}Machine`,
    options: `${n.className}Options`,
  };
}

/** Insert `text` at the start of the line that holds `marker` in `file`. */
function insertBefore(tree: Tree, file: string, marker: string, text: string): void {
  const source = tree.read(file, 'utf-8');
  if (source === null) throw new Error(`${file} does not exist: the generator registers personalities there`);
  const at = source.indexOf(marker);
  if (at < 0) throw new Error(`${file} has no "${marker}" comment: the generator inserts before it`);
  const lineStart = source.lastIndexOf('\n', at) + 1;
  tree.write(file, source.slice(0, lineStart) + text + source.slice(lineStart));
}

/** Add a project reference to a tsconfig that uses references (others are left alone). */
function addReference(tree: Tree, tsconfig: string, path: string): void {
  if (!tree.exists(tsconfig)) return;
  updateJson<{ references?: { path: string }[] }>(tree, tsconfig, (json) => {
    if (json.references !== undefined && !json.references.some((r) => r.path === path)) json.references.push({ path });
    return json;
  });
}

/** Register the new package with the CLI: dependency, project references, registry entry. */
function registerWithCli(tree: Tree, s: Scaffold): void {
  const cliPackage = `${CLI_DIR}/package.json`;
  if (!tree.exists(cliPackage)) throw new Error(`${cliPackage} does not exist: the generator registers the personality there`);
  updateJson<{ dependencies?: Record<string, string> }>(tree, cliPackage, (json) => {
    json.dependencies = { ...json.dependencies, [s.packageName]: '*' };
    return json;
  });
  const lib = `../../${s.directory}/tsconfig.lib.json`;
  addReference(tree, `${CLI_DIR}/tsconfig.lib.json`, lib);
  addReference(tree, `${CLI_DIR}/tsconfig.spec.json`, lib);
  insertBefore(tree, REGISTRY_FILE, IMPORT_MARKER, registryImport(s));
  insertBefore(tree, REGISTRY_FILE, ENTRY_MARKER, registryEntry(s));
}

export function personalityGenerator(tree: Tree, schema: PersonalityGeneratorSchema): GeneratorCallback {
  const s = normalizeOptions(tree, schema);
  const files: Record<string, string> = {
    'package.json': packageJson(s),
    'tsconfig.json': tsconfigJson(),
    'tsconfig.lib.json': tsconfigLibJson(),
    'tsconfig.spec.json': tsconfigSpecJson(),
    'vitest.config.ts': vitestConfig(),
    'README.md': readme(s),
    'src/index.ts': indexTs(s),
    'src/personality.ts': personalityTs(s),
    'src/contract.test.ts': contractTestTs(s),
  };
  for (const [file, text] of Object.entries(files)) tree.write(`${s.directory}/${file}`, text);
  // The solution tsconfig at the root lists every project (tsc -b at the root builds them all).
  addReference(tree, 'tsconfig.json', `./${s.directory}`);
  registerWithCli(tree, s);
  return () => {
    // The new workspace package must be linked into node_modules before the CLI can import it.
    if (schema.skipInstall !== true) installPackagesTask(tree, true);
    logger.info(`
${s.packageName} is in ${s.directory}, registered with the CLI (${REGISTRY_FILE}).
Next:
  npx nx test ${s.packageName}      the contract kit: it fails, naming what to write
  npx nx build ${s.packageName}
  then fill in src/personality.ts (address spaces, faults, calls, views): docs/new-personality.md`);
  };
}

export default personalityGenerator;
