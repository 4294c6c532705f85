import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Static files only (base './'): the built app is served by `polykernel web` or any static host.
// The engine packages are compiled from their TypeScript sources (the @polykernel/source condition).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  resolve: { conditions: ['@polykernel/source', 'module', 'browser', 'default'] },
  worker: { format: 'es' },
  server: { host: '127.0.0.1', fs: { allow: [fileURLToPath(new URL('../..', import.meta.url))] } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2000 },
});
