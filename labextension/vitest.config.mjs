import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: { '@jupyterlab/apputils': fileURLToPath(new URL('./test/stubs/apputils.ts', import.meta.url)) }
  },
  test: { include: ['test/**/*.test.ts', 'test/**/*.test.tsx'], environment: 'node' }
});
