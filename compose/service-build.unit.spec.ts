import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildEntries, sourceLocations, staleReason, type BuildManifest } from './service-build.ts';
import { platformServices } from './services.ts';

describe('the services build', () => {
  describe('entries', () => {
    it('builds every service `./live up` starts, under its own name', () => {
      const services = platformServices({});
      const entries = buildEntries(services);
      assert.deepEqual(
        Object.keys(entries),
        services.map((s) => s.name),
      );
      assert.equal(entries.api, 'gateways/api/main.ts');
      assert.equal(entries.webrtc, 'gateways/webrtc/main.ts');
    });

    it('refuses two services of one name (they would share one bundle)', () => {
      assert.throws(
        () =>
          buildEntries([
            { name: 'api', entry: 'gateways/api/main.ts' },
            { name: 'api', entry: 'other/main.ts' },
          ]),
        /two services are named "api"/,
      );
    });
  });

  describe('staleness', () => {
    const entries = { api: 'gateways/api/main.ts', origin: 'gateways/origin/main.ts' };
    const manifest: BuildManifest = {
      startedAt: 1_000,
      entries,
      inputs: ['gateways/api/main.ts', 'platform/paths.ts', 'package-lock.json'],
    };
    const files = (over: Record<string, number | undefined> = {}) => {
      const at: Record<string, number | undefined> = {
        'dist/api.mjs': 1_100,
        'dist/origin.mjs': 1_100,
        'gateways/api/main.ts': 900,
        'platform/paths.ts': 900,
        'package-lock.json': 500,
        ...over,
      };
      return (path: string): number | undefined => at[path];
    };

    it('is current when nothing that went in changed since the build started', () => {
      assert.equal(staleReason(manifest, entries, files()), undefined);
    });

    it('builds a fresh clone', () => {
      assert.equal(staleReason(undefined, entries, files()), 'no build yet');
    });

    it('rebuilds when a source or the lock file is newer than the build', () => {
      assert.equal(staleReason(manifest, entries, files({ 'platform/paths.ts': 1_001 })), 'platform/paths.ts changed');
      assert.equal(staleReason(manifest, entries, files({ 'package-lock.json': 2_000 })), 'package-lock.json changed');
    });

    it('counts a source saved while the build ran as newer', () => {
      assert.equal(
        staleReason(manifest, entries, files({ 'gateways/api/main.ts': 1_050 })),
        'gateways/api/main.ts changed',
      );
    });

    it('rebuilds when a source is gone or a bundle is missing', () => {
      assert.equal(
        staleReason(manifest, entries, files({ 'platform/paths.ts': undefined })),
        'platform/paths.ts is gone',
      );
      assert.equal(
        staleReason(manifest, entries, files({ 'dist/origin.mjs': undefined })),
        'dist/origin.mjs is missing',
      );
    });

    it('rebuilds when a service is added, removed or moved', () => {
      const moved = { ...entries, origin: 'gateways/origin2/main.ts' };
      const added = { ...entries, edge: 'gateways/edge/main.ts' };
      const removed = { api: entries.api };
      for (const wanted of [moved, added, removed]) {
        assert.equal(staleReason(manifest, wanted, files({ 'dist/edge.mjs': 1_100 })), 'the services changed');
      }
    });
  });

  describe('source locations in a bundle', () => {
    const root = '/srv/live platform';
    const outDir = join(root, 'dist');
    const file = join(root, 'schemas', 'load.ts');
    /** What the bundle's helper resolves a rewritten argument to, the bundle being dist/api.mjs. */
    const resolved = (rel: string): string => fileURLToPath(new URL(rel, pathToFileURL(join(outDir, 'api.mjs'))));
    const argOf = (code: string): string => JSON.parse(/__liveSource\w+\(("[^"]*")\)/.exec(code)![1]!) as string;

    it("points import.meta.dirname and .filename at the module's own folder and file", () => {
      const dir = sourceLocations('resolve(import.meta.dirname, "avro")', file, outDir);
      assert.equal(dir, 'resolve(__liveSourcePath("../schemas"), "avro")');
      assert.equal(resolved(argOf(dir)), join(root, 'schemas'));
      const self = sourceLocations('process.argv[1] === import.meta.filename', file, outDir);
      assert.equal(resolved(argOf(self)), file);
    });

    it('keeps import.meta.url a URL of the module (createRequire resolves from it)', () => {
      const code = sourceLocations('createRequire(import.meta.url)', file, outDir);
      assert.equal(code, 'createRequire(__liveSourceUrl("../schemas/load.ts"))');
    });

    it('leaves the rest of import.meta and the code around it alone', () => {
      const code = 'const a = import.meta.resolve("x"); const b = import.meta.dirnames;';
      assert.equal(sourceLocations(code, file, outDir), code);
    });
  });
});
