import createClient, { type Client } from 'openapi-fetch';
import { CliError } from '../cli-error';
import type { CliConfig } from '../config';
import { EXIT } from '../exit-codes';
import type { paths } from '../generated/api';
import { apiError } from './api-error';

export type KumoClient = Client<paths>;

function unreachable(url: string, err: unknown): CliError {
  // fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, "bad port") is in its cause.
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  const reason =
    typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : undefined;
  const why = reason ? ` (${reason})` : '';
  return new CliError(EXIT.UNREACHABLE, 'UNREACHABLE', `cannot reach the kumo API at ${url}${why}`, {
    hint: 'is the control plane running (npm start)? Point the CLI elsewhere with --url or KUMO_URL',
    cause: err,
  });
}

/**
 * The typed client. Connection failures become UNREACHABLE here, at the one place every request
 * passes, so no command can mistake "nothing listening" for an answer.
 */
export function createKumoClient(config: CliConfig): KumoClient {
  return createClient<paths>({
    baseUrl: config.url,
    headers: config.token ? { authorization: `Bearer ${config.token}` } : {},
    fetch: async (req: Request): Promise<Response> => {
      try {
        return await fetch(req);
      } catch (err) {
        // An abort is ours (watch stopping its stream), not the server's absence.
        if (req.signal.aborted) throw err;
        throw unreachable(config.url, err);
      }
    },
  });
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The body of a 2xx answer; any other answer thrown as the API's error. */
export function expectOk<T>(answer: Answer<T>): NonNullable<T> {
  if (!answer.response.ok) throw apiError(answer.response.status, answer.error);
  if (answer.data === undefined || answer.data === null) {
    throw new CliError(EXIT.FAILED, 'BAD_RESPONSE', `the API answered ${answer.response.status} with no body`);
  }
  return answer.data;
}

/**
 * For routes whose response the server does not declare (see api/types.ts): the body is untyped in the
 * generated client, so the caller names what it expects.
 */
export function expectOkAs<T>(answer: Answer<unknown>): T {
  return expectOk(answer) as T;
}
