import {
  Command,
  CommanderError,
  InvalidArgumentError,
  Option,
  type CommandUnknownOpts,
  type OptionValues,
} from '@commander-js/extra-typings';

/**
 * The command line of every tool, on commander, the same way for each:
 *  - `--help` (`-h`) prints the usage, what the tool does, its arguments, options and commands,
 *    then examples, to stdout; exit 0. `<command> --help` does the same for one command.
 *  - a user's mistake (an unknown option or command, a missing or bad value) prints
 *    `<tool>: <what is wrong>`, the usage line and where the rest is, to stderr; exit 2 (`USAGE`).
 *  - a failure while running (a server that does not answer) prints `<tool>: <message>` to stderr;
 *    exit 1, or the tool's own status. Its stack trace only with DEBUG set.
 * Never a stack trace for a user's mistake. Values are checked while parsing (the parsers below),
 * before a tool connects to anything.
 *
 * With LIVE_CLI_PARSE_ONLY=1 a tool parses its command line, prints what it understood as JSON
 * (`{"argv":[...],"status":0,"command":["tail"],"args":[...],"options":{...}}`, status 2 for a
 * mistake) and exits 0 without running anything; with a JSON array of command lines, one such line
 * each. The specs check every documented command line that way.
 */

/** The exit status of a user's mistake. */
export const USAGE = 2;

export interface ToolSpec {
  /** How its messages start: `topics: unknown option '--bogus'`. */
  name: string;
  /** What runs it, before its arguments (`npm run topics --`): its usage lines start with it. */
  command: string;
  /** What it does. */
  description: string;
  /** Command lines as its user types them, each maybe with a `# comment`; every one parses (tests/cli.unit.spec.ts). */
  examples: readonly string[];
  /** Text after the examples: the environment it reads, its exit statuses. */
  notes?: string;
  /** The exit status of a failure while running (default 1). */
  failureStatus?: number;
}

const specs = new WeakMap<CommandUnknownOpts, ToolSpec>();
const prepared = new WeakSet<CommandUnknownOpts>();

/** A tool's program: its commands, arguments and options are added to it, then `parse` or `run`. */
export function tool(spec: ToolSpec): Command {
  const program = new Command(spec.command).description(spec.description).exitOverride();
  specs.set(program as CommandUnknownOpts, spec);
  return program;
}

function specOf(program: CommandUnknownOpts): ToolSpec {
  const spec = specs.get(program);
  if (!spec) throw new Error('not a program made by tool()');
  return spec;
}

function* commandsOf(cmd: CommandUnknownOpts): Generator<CommandUnknownOpts> {
  yield cmd;
  for (const sub of cmd.commands) yield* commandsOf(sub);
}

/** `npm run topics -- tail`: what the user types to reach `cmd`. */
function pathOf(cmd: CommandUnknownOpts): string {
  const names: string[] = [];
  for (let c: CommandUnknownOpts | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** `Usage: npm run topics -- tail [options] <topic>`. */
export function usageLine(cmd: CommandUnknownOpts): string {
  return `Usage: ${cmd.createHelp().commandUsage(cmd)}`;
}

/** The tool's examples that run `cmd` (all of them for the program itself). */
function examplesOf(cmd: CommandUnknownOpts, spec: ToolSpec): string[] {
  if (!cmd.parent) return [...spec.examples];
  const path = pathOf(cmd);
  return spec.examples.filter((e) => e === path || e.startsWith(`${path} `));
}

/** Every command of the program: its mistakes in the tool's words, its examples under its help. */
function prepare(program: CommandUnknownOpts): ToolSpec {
  const spec = specOf(program);
  if (prepared.has(program)) return spec;
  prepared.add(program);
  for (const cmd of commandsOf(program)) {
    // A tool of commands: the command comes first (commander's own says `[options] [command]`).
    if (cmd.commands.length && !cmd.registeredArguments.length) cmd.usage('<command> [options]');
    cmd.configureOutput({
      // One line: commander's own `error: ` gives way to the tool's name, its suggestion joins the line.
      outputError: (text, write) =>
        write(`${spec.name}: ${text.replace(/^error: /, '').replace(/\n(?=\(Did you mean)/, ' ')}`),
    });
    cmd.showHelpAfterError(`${usageLine(cmd)}\n(${pathOf(cmd)} --help for more)`);
    const examples = examplesOf(cmd, spec);
    const after = [
      ...(examples.length ? [`Examples:\n${examples.map((e) => `  ${e}`).join('\n')}`] : []),
      ...(spec.notes && !cmd.parent ? [spec.notes.trim()] : []),
    ];
    if (after.length) cmd.addHelpText('after', `\n${after.join('\n\n')}`);
  }
  return spec;
}

/**
 * A user's mistake found after parsing (options that do not fit together): says what is wrong
 * and the usage of `cmd`, and exits 2 at once.
 */
export function usageError(cmd: CommandUnknownOpts, message: string): never {
  try {
    cmd.error(message, { exitCode: USAGE, code: 'live.usage' });
  } catch (err) {
    // Commander has printed it and throws (exitOverride) for `run` and `parse` to exit.
    if (err instanceof CommanderError) process.exit(USAGE);
    throw err;
  }
}

/** The exit status for commander's exit: 0 for help asked for, 2 for a mistake. */
function commanderStatus(err: CommanderError): number {
  const asked = ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(err.code);
  return asked && err.exitCode === 0 ? 0 : USAGE;
}

/** A failure while running: one line, the stack only when DEBUG asks for it. */
function failed(spec: ToolSpec, err: unknown): number {
  console.error(`${spec.name}: ${err instanceof Error ? err.message : String(err)}`);
  if (process.env.DEBUG && err instanceof Error && err.stack) console.error(err.stack);
  return spec.failureStatus ?? 1;
}

/** What a command line came to: the command, its arguments and options (LIVE_CLI_PARSE_ONLY). */
class Understood extends Error {
  readonly command: string[] = [];
  readonly args: unknown[];
  readonly options: OptionValues;
  constructor(cmd: CommandUnknownOpts) {
    super('parsed only');
    for (let c: CommandUnknownOpts | null = cmd; c?.parent; c = c.parent) this.command.unshift(c.name());
    this.args = cmd.processedArgs;
    this.options = cmd.optsWithGlobals();
  }
}

/**
 * LIVE_CLI_PARSE_ONLY: `1` parses the command line; a JSON array of command lines parses each in
 * turn (one process for many). Undefined when unset: the tool runs.
 */
function parseOnly(argv: readonly string[]): Array<readonly string[]> | undefined {
  const value = process.env.LIVE_CLI_PARSE_ONLY;
  if (!value) return undefined;
  return value.startsWith('[') ? (JSON.parse(value) as string[][]) : [argv];
}

/** One JSON line per command line: its exit status, and what it came to when it parses. */
function report(argv: readonly string[], outcome: unknown): void {
  const status =
    outcome instanceof Understood ? 0 : outcome instanceof CommanderError ? commanderStatus(outcome) : 'failed';
  const what =
    outcome instanceof Understood
      ? { command: outcome.command, args: outcome.args, options: outcome.options }
      : status === 'failed'
        ? { error: String(outcome) }
        : {};
  console.log(JSON.stringify({ argv, status, ...what }));
}

/**
 * Parses the command line of a tool without commands or actions (a script that goes on once it
 * has its options): its options, or the exit on `--help` (0) and on a mistake (2).
 */
export function parse<Args extends unknown[], Opts extends OptionValues>(
  program: Command<Args, Opts>,
  argv: readonly string[] = process.argv.slice(2),
): { options: Opts; args: Args } {
  const cmd = program as unknown as CommandUnknownOpts;
  prepare(cmd);
  const only = parseOnly(argv);
  if (only) {
    for (const a of only) {
      try {
        program.parse(a, { from: 'user' });
        report(a, new Understood(cmd));
      } catch (err) {
        report(a, err);
      }
    }
    process.exit(0);
  }
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) process.exit(commanderStatus(err));
    throw err;
  }
  return { options: program.opts(), args: program.processedArgs };
}

/** Parses `argv` and runs the action it names. */
async function runOnce(program: CommandUnknownOpts, argv: readonly string[]): Promise<void> {
  // A tool of commands given none: commander would print all its help as an error.
  if (argv.length === 0 && program.commands.length && !program.registeredArguments.length)
    program.error('which command?');
  await program.parseAsync(argv, { from: 'user' });
}

/**
 * Parses the command line and runs the action it names, then exits: with the status the action
 * set (`process.exitCode`, 0 when it set none), 0 on `--help`, 2 on a mistake, and the tool's
 * failure status (1 by default) when the action throws.
 */
export async function run(
  program: CommandUnknownOpts,
  argv: readonly string[] = process.argv.slice(2),
): Promise<never> {
  const spec = prepare(program);
  const only = parseOnly(argv);
  if (only) {
    // Stopped before the action, which runs nothing.
    program.hook('preAction', (_program, action) => {
      throw new Understood(action);
    });
    for (const a of only) {
      try {
        await runOnce(program, a);
        report(a, new Error('no action'));
      } catch (err) {
        report(a, err);
      }
    }
    process.exit(0);
  }
  let status: number;
  try {
    await runOnce(program, argv);
    status = Number(process.exitCode ?? 0);
  } catch (err) {
    status = err instanceof CommanderError ? commanderStatus(err) : failed(spec, err);
  }
  process.exit(status);
}

/**
 * What a tool's commands need that may fail (its configuration from the environment), made when
 * first asked for: inside a command, where a failure is the tool's one-line message, not a stack
 * trace at import.
 */
export function lazy<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

// ---------------------------------------------------------------------------------------------
// Parsers of option and argument values: a value that does not fit is the user's mistake (exit 2).

/** A whole number from `min` to `max`: `--limit 10`. */
export function integer(min = 0, max = Infinity): (value: string) => number {
  const expected =
    max < Infinity
      ? `a whole number from ${min} to ${max}`
      : min === 1
        ? 'a positive whole number'
        : `a whole number ≥ ${min}`;
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected ${expected}`);
    return n;
  };
}

/** A number in a range: `--live-share 0.3` (`{ atLeast: 0, atMost: 1 }`), `--seconds 2.5` (`{ above: 0 }`). */
export function decimal(range: { atLeast?: number; above?: number; atMost?: number }): (value: string) => number {
  const { atLeast = -Infinity, above = -Infinity, atMost = Infinity } = range;
  const bounds = [
    ...(atLeast > -Infinity ? [`≥ ${atLeast}`] : []),
    ...(above > -Infinity ? [`> ${above}`] : []),
    ...(atMost < Infinity ? [`≤ ${atMost}`] : []),
  ];
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < atLeast || n <= above || n > atMost)
      throw new InvalidArgumentError(`expected a number ${bounds.join(' and ')}`.trimEnd());
    return n;
  };
}

/** A comma-separated list, each item read by `item`: `--rates 1000,100`. */
export function list<T>(item: (value: string) => T): (value: string) => T[] {
  return (value) => {
    const items = value.split(',').map((v) => v.trim());
    if (items.some((v) => v === '')) throw new InvalidArgumentError('expected a comma-separated list');
    return items.map(item);
  };
}

/** Each occurrence adds one: `--where a=1 --where b=2` (none: undefined). */
export function repeatable(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * A point in time as epoch milliseconds: ISO-8601 (`2026-11-25T20:00Z`), epoch millis, or relative
 * to `now` (`-15m`, `-2h`, `-1d`, `-30s`).
 */
export function parseTime(text: string, now = Date.now()): number {
  const rel = /^-(\d+)([smhd])$/.exec(text);
  if (rel) {
    const unit = { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[rel[2] as 's' | 'm' | 'h' | 'd'];
    return now - Number(rel[1]) * unit;
  }
  if (/^\d{10,}$/.test(text)) return Number(text);
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new InvalidArgumentError('expected ISO-8601, epoch millis or -15m/-2h/-1d');
  return t;
}

/** `parseTime` as an option's parser: `--from -1h`. */
export function time(value: string): number {
  return parseTime(value);
}

// ---------------------------------------------------------------------------------------------
// Options that `.option()` does not say in one line.

/** An option that an environment variable may give too, read by `read`: `--events <N>`, or BENCH_EVENTS. */
export function envOption<Flags extends string, T>(
  flags: Flags,
  description: string,
  envName: string,
  read: (value: string) => T,
  fallback: T,
) {
  return new Option(flags, description).env(envName).argParser(read).default(fallback);
}

/** A comma-separated list, its default shown as it is typed: `--rates <R1,R2>` (default: 1000,100). */
export function listOption<Flags extends string, T>(
  flags: Flags,
  description: string,
  item: (value: string) => T,
  fallback: NoInfer<T>[],
) {
  return new Option(flags, description).argParser(list(item)).default(fallback, fallback.join(','));
}
