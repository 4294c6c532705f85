/** The repository's example workloads, bundled as text (examples/*.yaml). */
const files = import.meta.glob<string>('../../../examples/*.yaml', { query: '?raw', import: 'default', eager: true });

export const EXAMPLES: ReadonlyMap<string, string> = new Map(
  Object.entries(files).map(([path, text]) => [path.slice(path.lastIndexOf('/') + 1).replace(/\.yaml$/, ''), text]),
);
