/** Node-only parts of the kernel package (they read the host's files): `@polykernel/kernel/node`. */
export { sysrootLookup, resolveIn } from './sysroot.js';
export type { Resolved } from './sysroot.js';
