import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tests and jobs import the public surface as 'gmr'; under vitest that is the TypeScript source,
    // so unit tests need no build. Spawned `bin/gmr` processes use the compiled dist/ instead.
    alias: [
      { find: /^gmr$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
      { find: /^gmr\/protocol$/, replacement: fileURLToPath(new URL('./src/protocol/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
