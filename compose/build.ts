/**
 * `npm run build`: everything production runs, built from the sources: every service into
 * `dist/<service>.mjs` (compose/service-build.ts), and the web page into web/dist when it is stale.
 * `./live up` does the same by itself, and only when the sources changed.
 */
import { run, tool } from '../platform/cli.ts';
import { buildEntries, buildServices, DIST } from './service-build.ts';
import { platformServices } from './services.ts';
import { ensureWebBuild } from './web-build.ts';

const program = tool({
  name: 'build',
  command: 'npm run build --',
  description:
    'Builds every service of compose/services.ts into dist/<service>.mjs (run one with ' +
    'node --enable-source-maps dist/<service>.mjs) and the web page into web/dist.',
  examples: ['npm run build'],
}).action(async () => {
  const report = {
    info: (m: string) => console.log(`[build] ${m}`),
    warn: (m: string) => console.error(`[build] ${m}`),
  };
  const started = Date.now();
  const { entries } = await buildServices(buildEntries(platformServices({})));
  report.info(`${Object.keys(entries).length} services in ${DIST} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  ensureWebBuild(report);
});

await run(program);
