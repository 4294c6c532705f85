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
    // Oracle tests run real tools (readelf, llvm-objdump) on large host binaries, and property tests
    // run hundreds of cases: allow for a slow, shared machine (a 150-run index property test took
    // 34 s on the 2-vCPU VM at load average 22). A safety net against hangs, not a performance check.
    testTimeout: 120_000,
  },
});
