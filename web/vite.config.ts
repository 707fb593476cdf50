import { defineConfig } from 'vite';

/**
 * The web page's build: `vite build web` writes web/dist, which the API serves at /.
 * `npx vite web` is a dev server with reloads; it forwards /api to the API that `./live up` starts.
 */
export default defineConfig({
  // hls.js alone is ~520 kB minified: its own chunk, loaded only by the player.
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 600 },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
