import { COMMANDS } from './commands/index';
import type { Command } from './commands/command';
import { DEFAULT_URL } from './config';

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `kumo: submit, follow and inspect jobs on a kumo control plane

usage: kumo <command> [options]

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

options (any command):
  --url <url>   the API (default: $KUMO_URL, else ${DEFAULT_URL})
  -h, --help    this help, or a command's: kumo <command> --help

token: $KUMO_TOKEN, else .kumo/admin-token in this folder or the nearest one above it
       (npm start writes it there)

exit codes:
  0  ok (watch: the job succeeded)
  1  the job failed (watch), or the command failed for another reason
  2  the job was cancelled (watch)
  3  usage error: bad arguments, an unreadable file, or a spec the API refused as invalid
  4  not found: no such job (or task)
  5  auth error: no token, a wrong or revoked one, or a role that may not do this
  6  cannot reach the server
`;
}

export function commandHelp(c: Command): string {
  return `usage: ${c.usage}\n\n${c.summary}\n\nrun kumo --help for the options every command takes, the token and the exit codes\n`;
}
