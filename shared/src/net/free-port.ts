import { createServer } from 'node:net';

/**
 * A free TCP port on 127.0.0.1, found by binding port 0. Another process may take it before the caller
 * does: whoever uses it must fail clearly when the bind fails (redis-server exits, listen throws).
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
