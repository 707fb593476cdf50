import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Maven Central is the one registry every server here comes from. We let `mvn` resolve
 * transitive dependencies (it honours the user's ~/.m2/settings.xml mirrors) and copy the jars
 * into a versioned folder of the cache; a `.complete` marker makes the step idempotent and
 * crash-safe (a half-copied folder is never mistaken for a finished one).
 */
export interface Coordinates {
  groupId: string;
  artifactId: string;
  version: string;
  type?: string;
  classifier?: string;
}

function depXml(c: Coordinates, exclusions: string[] = []): string {
  const excl = exclusions
    .map((e) => {
      const [g, a] = e.split(':');
      return `<exclusion><groupId>${g}</groupId><artifactId>${a}</artifactId></exclusion>`;
    })
    .join('');
  return (
    `<dependency><groupId>${c.groupId}</groupId><artifactId>${c.artifactId}</artifactId>` +
    `<version>${c.version}</version>${c.type ? `<type>${c.type}</type>` : ''}` +
    `${c.classifier ? `<classifier>${c.classifier}</classifier>` : ''}` +
    `${excl ? `<exclusions>${excl}</exclusions>` : ''}</dependency>`
  );
}

async function mvn(workDir: string, args: string[]): Promise<void> {
  try {
    await run('mvn', ['-B', '-q', '-f', join(workDir, 'pom.xml'), ...args], {
      cwd: workDir,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error('Maven (mvn) is not on PATH: install it (apt-get install maven) to fetch the servers.', {
        cause: err,
      });
    }
    throw new Error(`mvn ${args.join(' ')} failed:\n${(e.stdout ?? '') + (e.stderr ?? '')}`.slice(0, 4000), {
      cause: err,
    });
  }
}

function pom(deps: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.live-platform</groupId><artifactId>fetch</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>${deps}</dependencies>
</project>`;
}

/** Copies `roots` and all their runtime dependencies as jars into `dest`. Returns `dest`. */
export async function fetchClasspath(
  dest: string,
  roots: Coordinates[],
  opts: { exclusions?: string[]; extra?: Coordinates[] } = {},
): Promise<string> {
  if (existsSync(join(dest, '.complete'))) return dest;
  const work = `${dest}.work`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const deps = [...roots, ...(opts.extra ?? [])].map((c) => depXml(c, opts.exclusions)).join('');
  writeFileSync(join(work, 'pom.xml'), pom(deps));
  await mvn(work, ['dependency:copy-dependencies', `-DoutputDirectory=${join(work, 'lib')}`, '-DincludeScope=runtime']);
  rmSync(dest, { recursive: true, force: true });
  renameSync(join(work, 'lib'), dest);
  rmSync(work, { recursive: true, force: true });
  writeFileSync(join(dest, '.complete'), new Date().toISOString());
  return dest;
}

/** Downloads one artifact (a zip or tar.gz distribution) and returns the file's path. */
export async function fetchArtifact(destDir: string, c: Coordinates): Promise<string> {
  const ext = c.type ?? 'jar';
  const file = join(destDir, `${c.artifactId}-${c.version}${c.classifier ? `-${c.classifier}` : ''}.${ext}`);
  if (existsSync(file)) return file;
  const work = `${destDir}.work`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'pom.xml'), pom(''));
  const coord = [c.groupId, c.artifactId, c.version, ext, c.classifier].filter(Boolean).join(':');
  await mvn(work, ['dependency:copy', `-Dartifact=${coord}`, `-DoutputDirectory=${join(work, 'out')}`]);
  mkdirSync(destDir, { recursive: true });
  const [got] = readdirSync(join(work, 'out'));
  if (!got) throw new Error(`mvn copied nothing for ${coord}`);
  renameSync(join(work, 'out', got), file);
  rmSync(work, { recursive: true, force: true });
  return file;
}
