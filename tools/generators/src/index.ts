/** The workspace generators of polykernel (a local Nx plugin: see generators.json). */
export { personalityGenerator, normalizeOptions, NAME_PATTERN, REGISTRY_FILE, IMPORT_MARKER, ENTRY_MARKER } from './personality/generator.ts';
export type { PersonalityGeneratorSchema } from './personality/generator.ts';
export { ERROR_SPACES, FAMILIES } from './personality/families.ts';
export type { ErrorSpaceChoice, Family } from './personality/families.ts';
