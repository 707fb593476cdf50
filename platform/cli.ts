import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * The command line of a tool, the same way for every tool: `--help` (or `-h`) prints its usage to
 * stdout and exits 0; a mistake (an unknown option, an option without its value, an argument the
 * tool does not take, a wrong command) prints `<tool>: <what is wrong>` and the usage line to
 * stderr and exits 2. Never a stack trace.
 *
 * A tool's usage text starts with its usage line(s) (`usage: ...`); after a blank line it may go on
 * with its commands and options, which `--help` prints and a mistake leaves out.
 */
export interface Tool {
  /** How error lines start: `topics: Unknown option '--bogus'`. */
  name: string;
  usage: string;
}

/** The tool's parseArgs configuration: its options, and whether it takes positionals. */
export type CliConfig = Omit<ParseArgsConfig, 'args' | 'strict' | 'tokens'>;

export type CliValues<T extends CliConfig> = ReturnType<typeof parseArgs<T>>['values'];

export type CliParse<T extends CliConfig> =
  { kind: 'ok'; values: CliValues<T>; positionals: string[] } | { kind: 'help' } | { kind: 'error'; message: string };

const HELP = { help: { type: 'boolean', short: 'h' } } as const;

/** True for the parse errors a user causes (ERR_PARSE_ARGS_*), not for a tool's own mistakes. */
function isParseError(err: unknown): err is Error {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

/** Node's message, without its hint about `--` (a tool's user meant an option, not a positional). */
function cleanMessage(message: string): string {
  return message.replace(/\. To specify a positional argument starting with a '-'.*$/s, '');
}

/** Parses `args` (strict): what the tool should do, without printing or exiting. */
export function parseCli<T extends CliConfig>(config: T, args: readonly string[]): CliParse<T> {
  const end = args.indexOf('--');
  const asksHelp = (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
  try {
    const { values, positionals } = parseArgs({
      ...config,
      args: [...args],
      strict: true,
      options: { ...config.options, ...HELP },
    });
    if ((values as { help?: boolean }).help) return { kind: 'help' };
    delete (values as { help?: boolean }).help;
    return { kind: 'ok', values: values as CliValues<T>, positionals };
  } catch (err) {
    if (!isParseError(err)) throw err;
    // `--help` wins over a mistake beside it: the user asked how to use the tool.
    if (asksHelp) return { kind: 'help' };
    return { kind: 'error', message: cleanMessage(err.message) };
  }
}

/** The usage line(s): the usage text up to its first blank line. */
export function usageLine(usage: string): string {
  return usage.split(/\n[ \t]*\n/)[0]!.trimEnd();
}

/** The text a mistake prints: `<tool>: <message>`, then the usage line. */
export function usageErrorText(tool: Tool, message: string): string {
  const more = usageLine(tool.usage) === tool.usage.trimEnd() ? '' : '\n(add --help for more)';
  return `${tool.name}: ${message}\n${usageLine(tool.usage)}${more}`;
}

/** A user's mistake: says what is wrong and how the tool is used, on stderr, and exits 2. */
export function usageError(tool: Tool, message: string): never {
  console.error(usageErrorText(tool, message));
  process.exit(2);
}

/**
 * The tool's arguments (`process.argv` by default), parsed; on `--help` prints the usage and exits
 * 0, on a mistake exits 2 through `usageError`.
 */
export function cliArgs<T extends CliConfig>(
  tool: Tool,
  config: T,
  args: readonly string[] = process.argv.slice(2),
): { values: CliValues<T>; positionals: string[] } {
  const parsed = parseCli(config, args);
  if (parsed.kind === 'help') {
    console.log(tool.usage.trimEnd());
    process.exit(0);
  }
  if (parsed.kind === 'error') usageError(tool, parsed.message);
  return { values: parsed.values, positionals: parsed.positionals };
}
