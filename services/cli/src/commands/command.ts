import type { KumoClient } from '../api/client';
import type { CliConfig } from '../config';
import type { ExitCode } from '../exit-codes';

/** What a command may touch: the API, the resolved config, and the process's streams. */
export interface CommandContext {
  api: KumoClient;
  config: CliConfig;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}

export interface Command {
  name: string;
  /** One line for `kumo --help`. */
  summary: string;
  /** "kumo jobs [--state s] ..."; shown with usage errors and `kumo <command> --help`. */
  usage: string;
  /** Parses its own arguments (after the command name, global options removed). */
  run(ctx: CommandContext, argv: string[]): Promise<ExitCode>;
}

/** JSON for scripts: indented, one trailing newline. */
export function writeJson(ctx: CommandContext, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
