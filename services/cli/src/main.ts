import { runCli } from './cli';

// Note: only type imports from @kumo/shared anywhere in the CLI. Its runtime pulls in the cloud SDKs
// (over a second of start-up), which a command that makes one HTTP request must not pay.
process.exitCode = await runCli({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
});
