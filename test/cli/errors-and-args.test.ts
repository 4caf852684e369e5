import { describe, expect, it } from 'vitest';
import { apiError, EXIT, splitGlobalArgs } from '@kumo/cli';

describe('apiError: API answers to exit codes', () => {
  it('an invalid spec is a usage error that keeps the issues', () => {
    const err = apiError(400, {
      error: {
        code: 'INVALID_INPUT',
        message: 'the request is invalid',
        issues: [{ path: ['source', 'batches'], message: 'expected number' }],
      },
    });
    expect(err).toMatchObject({
      exitCode: EXIT.USAGE,
      code: 'INVALID_INPUT',
      issues: [{ path: ['source', 'batches'] }],
    });
  });

  it('known codes decide; unknown codes fall back on the HTTP status', () => {
    expect(apiError(404, { error: { code: 'JOB_NOT_FOUND', message: 'x' } }).exitCode).toBe(EXIT.NOT_FOUND);
    expect(apiError(403, { error: { code: 'FORBIDDEN', message: 'x' } }).exitCode).toBe(EXIT.AUTH);
    expect(apiError(409, { error: { code: 'JOB_ALREADY_FINISHED', message: 'x' } }).exitCode).toBe(EXIT.FAILED);
    expect(apiError(401, { error: { code: 'SOME_FUTURE_CODE', message: 'x' } }).exitCode).toBe(EXIT.AUTH);
  });

  it('says when the API calls a refusal retryable (the same request may succeed later), and only then', () => {
    const stopping = apiError(409, { error: { code: 'JOB_STOPPING', message: 'x', retryable: true } });
    expect(stopping).toMatchObject({ exitCode: EXIT.FAILED, code: 'JOB_STOPPING' });
    expect(stopping.hint).toMatch(/try again/);
    expect(apiError(409, { error: { code: 'JOB_NOT_ENDED', message: 'x', retryable: false } }).hint).toBeUndefined();
  });

  it('a body not in our error shape (a proxy page) still says the status', () => {
    const err = apiError(502, '<html>Bad Gateway</html>');
    expect(err).toMatchObject({ exitCode: EXIT.FAILED, code: 'HTTP_502' });
    expect(err.message).toBe('the API answered 502: <html>Bad Gateway</html>');
  });
});

describe('splitGlobalArgs', () => {
  it('takes --url and --help from anywhere and leaves the rest in order', () => {
    expect(splitGlobalArgs(['--url', 'http://h:1', 'jobs', '--state', 'running', '-h'])).toEqual({
      url: 'http://h:1',
      help: true,
      rest: ['jobs', '--state', 'running'],
    });
    expect(splitGlobalArgs(['jobs', '--url=http://h:2'])).toMatchObject({ url: 'http://h:2', rest: ['jobs'] });
  });

  it('leaves everything after -- to the command', () => {
    expect(splitGlobalArgs(['submit', '--', '--url'])).toEqual({
      url: undefined,
      help: false,
      rest: ['submit', '--', '--url'],
    });
  });

  it('--url without a value is a usage error', () => {
    expect(() => splitGlobalArgs(['jobs', '--url'])).toThrow(
      expect.objectContaining({ exitCode: EXIT.USAGE, code: 'USAGE' }),
    );
  });
});
