import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { isKumoError, KumoError, type ErrorIssue } from '@kumo/shared';

/** Fastify's own error codes for bad requests, mapped onto ours. Never a 500 for bad input. */
const FASTIFY_CODES: Record<string, KumoError['code']> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_INPUT',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_TYPE: 'INVALID_INPUT',
  FST_ERR_CTP_INVALID_TYPE: 'INVALID_INPUT',
  FST_ERR_VALIDATION: 'INVALID_INPUT',
  FST_ERR_NOT_FOUND: 'NOT_FOUND',
};

function issuesOf(err: FastifyError): ErrorIssue[] {
  if (!hasZodFastifySchemaValidationErrors(err)) return [];
  const where = (err as { validationContext?: string }).validationContext;
  return err.validation.map((v) => ({
    path: [
      ...(where && where !== 'body' ? [where] : []),
      ...v.instancePath
        .split('/')
        .filter((s) => s !== '')
        .map((s) => (/^\d+$/.test(s) ? Number(s) : s)),
    ],
    message: v.message ?? 'invalid',
  }));
}

/**
 * The one error shape of every answer: `{error: {code, message, retryable, issues?}}`; an INTERNAL
 * error's message is hidden. `retryable`: the same request may succeed later unchanged (a client
 * branches on it and on `code`, never on the message).
 */
export function errorAnswer(kerr: KumoError): { error: ReturnType<KumoError['toJSON']> & { retryable: boolean } } {
  const shown = kerr.code === 'INTERNAL' ? { code: kerr.code, message: 'internal error' } : kerr.toJSON();
  return { error: { ...shown, retryable: kerr.retryable } };
}

/** Every error a route throws, answered in the one shape (errorAnswer). */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    let kerr: KumoError;
    if (isKumoError(err)) kerr = err;
    else if (err.validation) kerr = new KumoError('INVALID_INPUT', 'the request is invalid', { issues: issuesOf(err) });
    else if (err.code && FASTIFY_CODES[err.code]) kerr = new KumoError(FASTIFY_CODES[err.code]!, err.message);
    else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500)
      kerr = new KumoError('INVALID_INPUT', err.message);
    else kerr = new KumoError('INTERNAL', 'internal error', { cause: err });
    if (kerr.status >= 500) req.log.error({ err, code: kerr.code }, 'request failed');
    else req.log.info({ code: kerr.code, status: kerr.status }, 'request rejected');
    void reply.status(kerr.status).send(errorAnswer(kerr));
  });
  app.setNotFoundHandler((req, reply) => {
    void reply
      .status(404)
      .send(errorAnswer(new KumoError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)));
  });
}
