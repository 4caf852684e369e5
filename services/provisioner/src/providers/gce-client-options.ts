import { KumoError } from '@kumo/shared';
import { EndpointAuthClient } from './endpoint-auth-client';
import type { ClientOptions, GceProviderOptions } from './gce-provider-options';

/** The official clients' options from the provider's: the real API, or a local endpoint (tests, emulators). */
export function clientOptions(opts: GceProviderOptions): ClientOptions {
  if (!opts.endpoint) {
    return { fallback: true, projectId: opts.projectId, ...(opts.authClient ? { authClient: opts.authClient } : {}) };
  }
  let url: URL;
  try {
    url = new URL(opts.endpoint);
  } catch (cause) {
    throw new KumoError('CONFIG_INVALID', 'KUMO_COMPUTE_ENDPOINT must be http://host:port', { cause });
  }
  const protocol = url.protocol.replace(/:$/, '');
  if (protocol !== 'http' && protocol !== 'https') {
    throw new KumoError('CONFIG_INVALID', 'KUMO_COMPUTE_ENDPOINT must be http://host:port');
  }
  return {
    // google-gax takes the host and the port apart ('host:port' as apiEndpoint does not work), and
    // needs protocol 'http' or it speaks TLS.
    apiEndpoint: url.hostname,
    port: Number(url.port || (protocol === 'https' ? 443 : 80)),
    protocol,
    fallback: true,
    projectId: opts.projectId,
    authClient: opts.authClient ?? (new EndpointAuthClient() as unknown as ClientOptions['authClient']),
  } as ClientOptions;
}
