import { createKumoClient } from './api/client';
import { CliError, usageError } from './cli-error';
import { findCommand } from './commands/index';
import type { CommandContext } from './commands/command';
import { resolveConfig, type CliConfig } from './config';
import { EXIT, type ExitCode } from './exit-codes';
import { commandHelp, mainHelp } from './help';

export interface CliIo {
  argv: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}

interface GlobalArgs {
  url: string | undefined;
  help: boolean;
  /** Everything else, in order; the first is the command. */
  rest: string[];
}

/**
 * Takes the options every command shares out of argv, wherever they stand (`kumo --url X jobs` and
 * `kumo jobs --url X` both work). Stops at `--`, after which everything is the command's.
 */
export function splitGlobalArgs(argv: string[]): GlobalArgs {
  const out: GlobalArgs = { url: undefined, help: false, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.rest.push(...argv.slice(i));
      break;
    }
    if (a === '-h' || a === '--help') out.help = true;
    else if (a.startsWith('--url=')) out.url = a.slice('--url='.length);
    else if (a === '--url') {
      const v = argv[++i];
      if (v === undefined) throw usageError('--url needs a value');
      out.url = v;
    } else out.rest.push(a);
  }
  return out;
}

function formatPath(path: (string | number)[]): string {
  if (path.length === 0) return '(the spec)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function authHint(config: CliConfig): string {
  if (config.tokenSource === 'none')
    return 'no token: set KUMO_TOKEN, or run inside the checkout where npm start wrote .kumo/admin-token';
  if (config.tokenSource === 'KUMO_TOKEN') return 'the token came from KUMO_TOKEN';
  return `the token came from ${config.tokenSource.file}`;
}

/** "kumo: CODE: message", each issue's path, then a hint, on stderr. */
function report(stderr: NodeJS.WriteStream, err: CliError, config: CliConfig | undefined): void {
  const lines = [`kumo: ${err.code}: ${err.message}`];
  for (const issue of err.issues) lines.push(`  ${formatPath(issue.path)}: ${issue.message}`);
  const hint = err.hint ?? (err.exitCode === EXIT.AUTH && config ? authHint(config) : undefined);
  if (hint) lines.push(hint);
  stderr.write(`${lines.join('\n')}\n`);
}

/** The whole CLI: argv in, exit code out. Never calls process.exit, so stdout is flushed on the way out. */
export async function runCli(io: CliIo): Promise<ExitCode> {
  let config: CliConfig | undefined;
  try {
    const g = splitGlobalArgs(io.argv);
    const name = g.rest[0];
    if (name === undefined || name === 'help') {
      const about = g.rest[1] === undefined ? undefined : findCommand(g.rest[1]);
      const text = about ? commandHelp(about) : mainHelp();
      if (g.help || name === 'help') {
        io.stdout.write(text);
        return EXIT.OK;
      }
      io.stderr.write(text);
      return EXIT.USAGE;
    }
    const command = findCommand(name);
    if (!command) throw usageError(`unknown command '${name}'`, 'run kumo --help for the list');
    if (g.help) {
      io.stdout.write(commandHelp(command));
      return EXIT.OK;
    }
    config = resolveConfig({ urlFlag: g.url, env: io.env, cwd: io.cwd });
    const ctx: CommandContext = {
      api: createKumoClient(config),
      config,
      stdout: io.stdout,
      stderr: io.stderr,
      stdin: io.stdin,
    };
    return await command.run(ctx, g.rest.slice(1));
  } catch (err) {
    if (err instanceof CliError) {
      report(io.stderr, err, config);
      return err.exitCode;
    }
    // A bug, or an answer we could not read (a proxy's HTML where JSON belongs): say what, exit 1.
    io.stderr.write(`kumo: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.FAILED;
  }
}
