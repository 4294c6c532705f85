// Shared vitest settings: resolve workspace packages to their TypeScript sources.
import { defineConfig } from 'vitest/config';

export const sharedConfig = defineConfig({
  resolve: { conditions: ['@polykernel/source'] },
  ssr: { resolve: { conditions: ['@polykernel/source'] } },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    benchmark: { include: ['src/**/*.bench.ts', 'bench/**/*.bench.ts'] },
    pool: 'threads',
    maxWorkers: 2,
    // Oracle tests run real tools (readelf, llvm-objdump) on large host binaries: allow for a slow machine.
    testTimeout: 30_000,
  },
});
