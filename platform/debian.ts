import { spawnSync } from 'node:child_process';

/** Where progress and warnings go: the launcher's console, a service's logger. */
export interface Reporter {
  info(msg: string): void;
  warn(msg: string): void;
}

/**
 * Tools the platform takes from Debian's packages (ffmpeg, nginx, chromium): the one registry
 * for native programs this project may fetch from. Each entry names the program we run and the
 * package that provides it, so a machine that already has the program is left alone.
 */
export interface DebianTool {
  /** Program looked up on PATH (or an absolute path). */
  bin: string;
  /** Debian package that provides it. */
  pkg: string;
  /** Why the platform needs it, for the error a person reads. */
  why: string;
}

export const DEBIAN_TOOLS = {
  ffmpeg: { bin: 'ffmpeg', pkg: 'ffmpeg', why: 'transcoding, thumbnails and the demo broadcast' },
  ffprobe: { bin: 'ffprobe', pkg: 'ffmpeg', why: 'probing sources and checking playback in tests' },
  nginx: { bin: 'nginx', pkg: 'nginx', why: 'the HLS edge cache in front of the origin' },
  chromium: { bin: 'chromium', pkg: 'chromium', why: 'browser tests of the web page' },
  prometheus: { bin: 'prometheus', pkg: 'prometheus', why: "collecting every service's metrics and evaluating alerts" },
  promtool: { bin: 'promtool', pkg: 'prometheus', why: 'checking the Prometheus config and alert rules' },
  elasticsearchExporter: {
    bin: 'prometheus-elasticsearch-exporter',
    pkg: 'prometheus-elasticsearch-exporter',
    why: "Elasticsearch's cluster, index and JVM metrics for Prometheus",
  },
} satisfies Record<string, DebianTool>;

export function which(bin: string): string | undefined {
  if (bin.startsWith('/')) return spawnSync('test', ['-x', bin]).status === 0 ? bin : undefined;
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path ? path : undefined;
}

/**
 * Installs the missing tools with apt-get (one update, one install) and returns their paths.
 * Throws an error that names the packages and the command to run by hand when it cannot.
 */
export function ensureDebianTools(tools: DebianTool[], report: Reporter): Record<string, string> {
  const missing = tools.filter((t) => !which(t.bin));
  if (missing.length) {
    const pkgs = [...new Set(missing.map((t) => t.pkg))];
    const reasons = missing.map((t) => `${t.bin} (${t.why})`).join(', ');
    const manual = `apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;
    if (!which('apt-get')) throw new Error(`missing ${reasons}; install ${pkgs.join(', ')} with your package manager`);
    const sudo = process.getuid?.() === 0 ? [] : which('sudo') ? ['sudo', '-n'] : undefined;
    if (!sudo) throw new Error(`missing ${reasons}; not root and no sudo: run as root: ${manual}`);
    report.info(`installing Debian packages ${pkgs.join(', ')} for ${reasons} (once per machine)`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const run = (args: string[]): void => {
      const [cmd, ...rest] = [...sudo, ...args];
      const r = spawnSync(cmd!, rest, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      if (r.status !== 0) {
        const tailOf = (s: string): string => s.split('\n').slice(-15).join('\n');
        throw new Error(
          `\`${args.join(' ')}\` failed (exit ${r.status}):\n${tailOf(r.stderr || r.stdout)}\nTry: ${manual}`,
        );
      }
    };
    run(['apt-get', 'update', '-qq']);
    run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...pkgs]);
  }
  const paths: Record<string, string> = {};
  for (const t of tools) {
    const path = which(t.bin);
    if (!path) throw new Error(`${t.bin} is still missing after installing ${t.pkg}`);
    paths[t.bin] = path;
  }
  return paths;
}
