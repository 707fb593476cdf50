import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { build, type Plugin } from 'esbuild';
import type { Reporter } from './launcher/types.ts';
import type { ServiceDef } from './services.ts';
import { REPO_ROOT } from '../platform/paths.ts';

/**
 * The production build of the services: each entry of compose/services.ts bundled by esbuild into
 * `dist/<service>.mjs` (ESM for Node 20, with a source map), so `./live up` and production run
 * plain `node --enable-source-maps dist/<service>.mjs` instead of compiling the TypeScript through
 * tsx in every process at every start. Packages stay in node_modules (external): the native addons
 * (uWebSockets.js, werift's) and the CommonJS libraries load exactly as they do under tsx.
 *
 * `dist/build.json` records the entries and every source file that went into the bundles; the build
 * is redone only when the entries changed or one of those files is newer than the last build.
 */
export const DIST = join(REPO_ROOT, 'dist');
const MANIFEST = join(DIST, 'build.json');

export interface BuildManifest {
  /** Epoch ms, taken before the build read its sources: a source saved during the build is newer. */
  startedAt: number;
  /** Service name -> entry, as built. */
  entries: Record<string, string>;
  /** Every file whose change changes the output, relative to the repository root. */
  inputs: string[];
}

/** Beside the sources the bundles import: what decides how they are built. */
const BUILD_INPUTS = ['compose/service-build.ts', 'tsconfig.json', 'package-lock.json'];

export const builtFile = (service: string): string => join(DIST, `${service}.mjs`);

/** Service name -> entry; a name twice would make two services share one bundle. */
export function buildEntries(services: Pick<ServiceDef, 'name' | 'entry'>[]): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const s of services) {
    if (s.name in entries) throw new Error(`two services are named "${s.name}"`);
    entries[s.name] = s.entry;
  }
  return entries;
}

/**
 * Why the build must be redone, or undefined when it is current. `mtimeOf` answers a path relative
 * to the repository root (undefined: the file is gone).
 */
export function staleReason(
  manifest: BuildManifest | undefined,
  entries: Record<string, string>,
  mtimeOf: (path: string) => number | undefined,
): string | undefined {
  if (!manifest) return 'no build yet';
  const wanted = Object.entries(entries);
  const built = Object.entries(manifest.entries);
  if (wanted.length !== built.length || wanted.some(([name, entry]) => manifest.entries[name] !== entry)) {
    return 'the services changed';
  }
  for (const name of Object.keys(entries)) {
    const out = relative(REPO_ROOT, builtFile(name));
    if (mtimeOf(out) === undefined) return `${out} is missing`;
  }
  for (const input of manifest.inputs) {
    const at = mtimeOf(input);
    if (at === undefined) return `${input} is gone`;
    if (at > manifest.startedAt) return `${input} changed`;
  }
  return undefined;
}

function readManifest(): BuildManifest | undefined {
  try {
    return JSON.parse(readFileSync(MANIFEST, 'utf8')) as BuildManifest;
  } catch {
    return undefined;
  }
}

const mtimeUnderRoot = (path: string): number | undefined =>
  statSync(join(REPO_ROOT, path), { throwIfNoEntry: false })?.mtimeMs;

/**
 * Bundling moves every module into dist/, so `import.meta.dirname` would point there instead of
 * at the module's own folder (schemas/load.ts reads `schemas/avro/` beside it, platform/paths.ts
 * finds the repository root one folder up, a module tells whether it is the main one by
 * `import.meta.filename`). This rewrites each of the project's own uses to the module's original
 * location, relative to the bundle, so the built output stays relocatable with the repository.
 */
const SOURCE_LOCATION_HELPERS = [
  "import { fileURLToPath as __liveFileURLToPath } from 'node:url';",
  'const __liveSourceUrl = (rel) => new URL(rel, import.meta.url).href;',
  'const __liveSourcePath = (rel) => __liveFileURLToPath(new URL(rel, import.meta.url));',
].join('\n');

export function sourceLocations(code: string, file: string, outDir: string): string {
  const urlOf = (path: string): string => relative(outDir, path).split(sep).map(encodeURIComponent).join('/');
  const here = JSON.stringify(urlOf(file));
  const folder = JSON.stringify(urlOf(dirname(file)));
  return code.replace(/\bimport\.meta\.(dirname|filename|url)\b/g, (_, what: string) =>
    what === 'dirname'
      ? `__liveSourcePath(${folder})`
      : what === 'filename'
        ? `__liveSourcePath(${here})`
        : `__liveSourceUrl(${here})`,
  );
}

const sourceLocationPlugin: Plugin = {
  name: 'source-locations',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      const code = readFileSync(args.path, 'utf8');
      if (!code.includes('import.meta.')) return undefined;
      return { contents: sourceLocations(code, args.path, DIST), loader: 'ts' };
    });
  },
};

/** Builds every service into dist/ and records what went in. */
export async function buildServices(entries: Record<string, string>): Promise<BuildManifest> {
  const startedAt = Date.now();
  mkdirSync(DIST, { recursive: true });
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: Object.entries(entries).map(([name, entry]) => ({ in: entry, out: name })),
    outdir: DIST,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    // As tsx compiles: class and function names survive (error names, log fields).
    keepNames: true,
    banner: { js: SOURCE_LOCATION_HELPERS },
    plugins: [sourceLocationPlugin],
    metafile: true,
    logLevel: 'warning',
    write: false,
  });
  // Each file swapped in whole: a service starting beside a rebuild never reads half a bundle.
  for (const f of result.outputFiles) {
    writeFileSync(`${f.path}.tmp`, f.contents);
    renameSync(`${f.path}.tmp`, f.path);
  }
  const inputs = [...new Set([...Object.keys(result.metafile.inputs), ...BUILD_INPUTS])].sort();
  const manifest: BuildManifest = { startedAt, entries, inputs };
  writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** `./live up`: builds the services when dist/ is missing or older than their sources. */
export async function ensureServiceBuild(
  services: Pick<ServiceDef, 'name' | 'entry'>[],
  report: Reporter,
): Promise<void> {
  const entries = buildEntries(services);
  const why = staleReason(existsSync(DIST) ? readManifest() : undefined, entries, mtimeUnderRoot);
  if (why === undefined) return;
  report.info(`building the services into dist/ (${why})`);
  const started = Date.now();
  await buildServices(entries);
  report.info(`built ${Object.keys(entries).length} services in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** How a built service starts: plain Node, stack traces mapped back to the TypeScript. */
export const builtCommand = (service: string): string[] => ['--enable-source-maps', builtFile(service)];
