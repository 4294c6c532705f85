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
  },
});
