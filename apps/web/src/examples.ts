/**
 * The repository's example workloads, bundled as text: examples/*.yaml (native steps, most of them
 * Linux's) and their portable twins examples/portable/*.yaml, named `portable/<name>`, which run on
 * every personality through its own driver.
 */
const files = import.meta.glob<string>(['../../../examples/*.yaml', '../../../examples/portable/*.yaml'], { query: '?raw', import: 'default', eager: true });

/** `lecture-fork` for examples/lecture-fork.yaml, `portable/lecture-fork` for examples/portable/lecture-fork.yaml. */
export function exampleName(path: string): string {
  return path.slice(path.indexOf('examples/') + 'examples/'.length).replace(/\.yaml$/, '');
}

export const EXAMPLES: ReadonlyMap<string, string> = new Map(Object.entries(files).map(([path, text]) => [exampleName(path), text]));
