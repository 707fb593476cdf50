import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { launcherConfig } from './config.ts';
import { Launcher } from './launcher.ts';
import { kafka } from './servers/kafka.ts';
import type { ServerDef } from './types.ts';
import { waitFor } from '../../tests/support/wait.ts';

const quiet = { info: () => undefined, warn: () => undefined };

function config(overrides: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'launcher-'));
  return launcherConfig({ LIVE_DATA_DIR: join(dir, 'data'), LIVE_CACHE_DIR: join(dir, 'cache'), ...overrides });
}

function fakeServer(name: 'kafka' | 'registry', healthy: boolean, port: number): ServerDef {
  return {
    name,
    describe: `fake ${name}`,
    startTimeoutMs: 1500,
    ports: () => [port],
    install: async () => undefined,
    prepare: async () => undefined,
    spawn: () => ({ cmd: 'sleep', args: ['300'] }),
    probe: async () => {
      if (!healthy) throw new Error('never healthy');
    },
  };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('launcher', () => {
  it('names the process holding a port it needs and starts nothing', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const c = config({ LIVE_KAFKA_PORT: String(port) });
    try {
      await assert.rejects(
        new Launcher(c, [kafka], quiet).up(),
        new RegExp(`127\\.0\\.0\\.1:${port}, which is held by node \\(pid ${process.pid}\\)`),
      );
      assert.equal(existsSync(join(c.dataDir, 'kafka', 'server.pid')), false);
    } finally {
      blocker.close();
    }
  });

  it('stops every server it started when one never becomes healthy', async () => {
    const c = config();
    const good = fakeServer('kafka', true, 1);
    const bad = fakeServer('registry', false, 2);
    const launcher = new Launcher(c, [good, bad], quiet);
    const pidOf = (n: string) =>
      (JSON.parse(readFileSync(join(c.dataDir, n, 'server.pid'), 'utf8')) as { pid: number }).pid;
    let pids: number[] = [];
    await assert.rejects(
      (async () => {
        const up = launcher.up();
        // Read the pid files while the launcher waits for health, before it cleans up.
        pids = await waitFor('both servers spawned', () =>
          ['kafka', 'registry'].every((n) => existsSync(join(c.dataDir, n, 'server.pid')))
            ? ['kafka', 'registry'].map(pidOf)
            : undefined,
        );
        await up;
      })(),
      /registry not healthy after 1.5 s \(last probe: never healthy\)/,
    );
    assert.equal(pids.length, 2);
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} was stopped`);
  });

  it('refuses to start when the data folder has too little free disk, naming the variable to change', async () => {
    const c = config({ LIVE_MIN_FREE_DISK_MB: String(1024 * 1024 * 1024) });
    await assert.rejects(new Launcher(c, [kafka], quiet).up(), /LIVE_MIN_FREE_DISK_MB/);
  });
});
