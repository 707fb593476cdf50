import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { cpuMeter, cpuSeconds } from './cpu.ts';

describe('CPU time from /proc', () => {
  it('counts a process tree: a busy child shows in its parent’s figure', async () => {
    const shell = spawn('sh', ['-c', 'timeout 1 sh -c "while :; do :; done"; sleep 0.2'], { stdio: 'ignore' });
    const meter = cpuMeter({ shell: shell.pid! });
    await new Promise((r) => setTimeout(r, 600));
    const cores = meter.stop().shell!;
    shell.kill('SIGKILL');
    assert.ok(cores > 0, `a busy loop under the shell used ${cores} cores`);
    assert.ok(cpuSeconds(process.pid) > 0);
  });
});
