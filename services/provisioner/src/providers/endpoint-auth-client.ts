import { HttpStatusError } from './http-status-error';

/**
 * The auth client the Compute client gets when KUMO_COMPUTE_ENDPOINT points it at a local server (tests,
 * emulators). Without an injected client google-gax looks up default credentials and, on a machine
 * without them, throws from inside `initialize()` as an unhandled rejection.
 *
 * google-gax's REST transport needs only `getRequestHeaders()` and `fetch(url, init)`. In production the
 * GoogleAuth client behind `fetch` is gaxios 7, which rejects every non-2xx answer with an error that
 * carries `status` and `response.data` (the raw body). This client does the same, so that the provider's
 * error classification sees one shape, whichever side of the seam it runs on.
 */
export class EndpointAuthClient {
  /** Read by google-gax to compare against the configured universe; the default one. */
  readonly universeDomain = 'googleapis.com';

  async getRequestHeaders(): Promise<Headers> {
    return new Headers();
  }

  async fetch(url: string | URL, init: RequestInit & Record<string, unknown> = {}): Promise<Response> {
    // google-gax passes gaxios-only fields (agent, responseType) that the platform fetch ignores.
    const res = await fetch(url, init);
    if (res.ok) return res;
    const data = await res.text();
    throw new HttpStatusError(res.status, data);
  }
}
