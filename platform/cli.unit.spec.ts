import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCli, usageErrorText, usageLine } from './cli.ts';

const config = {
  allowPositionals: true,
  options: {
    wipe: { type: 'boolean', default: false },
    n: { type: 'string', short: 'n', default: '100' },
    where: { type: 'string', multiple: true, default: [] },
  },
} as const satisfies Parameters<typeof parseCli>[0];

describe('parseCli', () => {
  it('returns the values and positionals, typed, without a help value', () => {
    const r = parseCli(config, ['logs', 'kafka', '-n', '5', '--where', 'a=1', '--where', 'b=2']);
    assert.equal(r.kind, 'ok');
    if (r.kind !== 'ok') return;
    assert.deepEqual(r.positionals, ['logs', 'kafka']);
    assert.equal(r.values.n, '5');
    assert.equal(r.values.wipe, false);
    assert.deepEqual(r.values.where, ['a=1', 'b=2']);
    assert.equal('help' in r.values, false);
  });

  it('answers --help and -h with help, even beside a mistake', () => {
    assert.deepEqual(parseCli(config, ['--help']), { kind: 'help' });
    assert.deepEqual(parseCli(config, ['up', '-h']), { kind: 'help' });
    assert.deepEqual(parseCli(config, ['--bogus', '--help']), { kind: 'help' });
  });

  it('does not take a --help after `--` for a request', () => {
    const r = parseCli(config, ['grep', '--', '--help']);
    assert.equal(r.kind, 'ok');
    if (r.kind === 'ok') assert.deepEqual(r.positionals, ['grep', '--help']);
  });

  it("turns the user's mistakes into a message: unknown option, missing value, unexpected positional", () => {
    assert.deepEqual(parseCli(config, ['--bogus']), { kind: 'error', message: "Unknown option '--bogus'" });
    const missing = parseCli(config, ['logs', '-n']);
    assert.equal(missing.kind, 'error');
    if (missing.kind === 'error') assert.match(missing.message, /^Option '-n, --n <value>' argument missing/);
    const positional = parseCli({ options: {} }, ['extra']);
    assert.equal(positional.kind, 'error');
    if (positional.kind === 'error') assert.match(positional.message, /^Unexpected argument 'extra'/);
  });

  it("lets the tool's own configuration mistakes through: they are bugs, not usage", () => {
    assert.throws(() => parseCli({ options: { x: { type: 'number' as 'string' } } }, []), /options\.x\.type/);
  });
});

describe('usage text', () => {
  const usage = 'usage: tool up | down\n       tool logs <name>\n\n  up    starts it\n  down  stops it\n';

  it('the usage line is the text up to the first blank line', () => {
    assert.equal(usageLine(usage), 'usage: tool up | down\n       tool logs <name>');
    assert.equal(usageLine('usage: tool [--x]'), 'usage: tool [--x]');
  });

  it('a mistake prints the tool, the message, the usage line, and where the rest is', () => {
    assert.equal(
      usageErrorText({ name: 'tool', usage }, "Unknown option '--bogus'"),
      "tool: Unknown option '--bogus'\nusage: tool up | down\n       tool logs <name>\n(add --help for more)",
    );
    assert.equal(usageErrorText({ name: 't', usage: 'usage: t [--x]\n' }, 'no'), 't: no\nusage: t [--x]');
  });
});
