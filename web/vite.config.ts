import { defineConfig } from 'vite';

const API = 'http://127.0.0.1:8080';

/**
 * The web page's build: `vite build web` writes web/dist, which the API serves at /.
 * `npx vite web` is a dev server with reloads; it forwards /api to the API that `./live up` starts.
 * Development sign-in answers only its own loopback page (gateways/api/dev-token.ts), so the
 * forward speaks as that page: Host the API's, and the dev server's own page's Origin translated
 * to the API's (any other Origin goes through as it came, and is refused).
 */
export default defineConfig({
  // hls.js alone is ~520 kB minified: its own chunk, loaded only by the player.
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 600 },
  server: {
    proxy: {
      '/api': {
        target: API,
        changeOrigin: true,
        configure: (proxy) =>
          proxy.on('proxyReq', (forwarded, incoming) => {
            if (incoming.headers.origin === `http://${incoming.headers.host}`) forwarded.setHeader('origin', API);
          }),
      },
    },
  },
});
