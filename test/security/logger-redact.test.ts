import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@kumo/shared';

const SECRET = 'kumo_s3cr3t-value-that-must-not-show';

describe('the logger redacts secrets wherever a careless field puts them', () => {
  it('censors tokens, cookies, authorization headers and the admin token variable', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger({ name: 'redact', level: 'info', destination });
    log.info({ token: SECRET }, 'a');
    log.info({ t: { token: SECRET } }, 'b');
    log.info(
      {
        req: {
          method: 'GET',
          url: '/x',
          headers: { authorization: `Bearer ${SECRET}`, cookie: `kumo_admin=${SECRET}` },
        },
      },
      'c',
    );
    log.info(
      {
        headers: {
          authorization: `Bearer ${SECRET}`,
          cookie: `kumo_admin=${SECRET}`,
          'set-cookie': `kumo_admin=${SECRET}`,
        },
      },
      'd',
    );
    log.info({ res: { headers: { 'set-cookie': `kumo_admin=${SECRET}` } } }, 'e');
    log.info({ env: { KUMO_ADMIN_TOKEN: SECRET, PATH: '/bin' } }, 'f');
    log.child({ component: 'x' }).warn({ opts: { adminToken: SECRET, password: SECRET } }, 'g');
    expect(lines).toHaveLength(7);
    for (const line of lines) expect(line.includes(SECRET), line).toBe(false);
    expect(lines.join('')).toContain('[redacted]');
    // What is not secret still shows.
    expect(JSON.parse(lines[5]!).env.PATH).toBe('/bin');
    expect(JSON.parse(lines[2]!).req.url).toBe('/x');
  });
});
