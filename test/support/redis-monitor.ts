import { connect, type Socket } from 'node:net';

/**
 * Redis's MONITOR on a plain socket. ioredis's monitor() switches its parser to monitor mode only when
 * MONITOR's +OK is handled: on a Redis other tests keep busy, lines that arrive in the same read as the
 * +OK are taken for replies to commands never sent ("Command queue state error"), and the process fails.
 */
export class RedisMonitor {
  private buffer = '';
  private ok = false;

  private constructor(
    private readonly socket: Socket,
    private readonly onCommand: (args: string[], source: string) => void,
  ) {}

  static async start(redisUrl: string, onCommand: (args: string[], source: string) => void): Promise<RedisMonitor> {
    const url = new URL(redisUrl);
    const socket = connect(Number(url.port || 6379), url.hostname);
    const m = new RedisMonitor(socket, onCommand);
    socket.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.on('data', (chunk: string) => {
        m.buffer += chunk;
        m.drain(resolve);
      });
      socket.write('MONITOR\r\n');
    });
    return m;
  }

  stop(): void {
    this.socket.destroy();
  }

  private drain(onOk: () => void): void {
    let nl: number;
    while ((nl = this.buffer.indexOf('\r\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 2);
      if (!this.ok) {
        if (line === '+OK') {
          this.ok = true;
          onOk();
        }
        continue;
      }
      // +1796547888.292069 [0 127.0.0.1:33380] "hmget" "key" "field"
      // The source is the client's address, or `lua` for a command a script ran.
      const open = line.indexOf('[');
      const start = line.indexOf('] ');
      if (open >= 0 && start > open)
        this.onCommand(parseQuoted(line.slice(start + 2)), line.slice(open + 1, start).split(' ')[1] ?? '');
    }
  }
}

/** The arguments of a MONITOR line: double-quoted, with Redis's escapes (\\ \" \n \r \t \a \b \xHH). */
export function parseQuoted(s: string): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] !== '"') {
      i++;
      continue;
    }
    let arg = '';
    i++;
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < s.length) {
        const c = s[i + 1]!;
        if (c === 'x') {
          arg += String.fromCharCode(parseInt(s.slice(i + 2, i + 4), 16));
          i += 4;
          continue;
        }
        arg += ({ n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b' } as Record<string, string>)[c] ?? c;
        i += 2;
        continue;
      }
      arg += s[i];
      i++;
    }
    args.push(arg);
    i++;
  }
  return args;
}
