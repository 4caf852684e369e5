import type { FastifyInstance } from 'fastify';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { KumoError } from '@kumo/shared';

/** JSON (Fastify's own parser, with its prototype-poisoning guard) and YAML for job specs. */
export function installBodyParsers(app: FastifyInstance): void {
  // Only JSON and YAML: a text/plain body is refused as such, not parsed into a string.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(
    ['application/yaml', 'application/x-yaml', 'text/yaml'],
    { parseAs: 'string' },
    (_req, body, done) => {
      try {
        // Aliases capped: a few bytes of YAML must not expand into gigabytes ("billion laughs").
        const doc: unknown = parseYaml(body as string, { maxAliasCount: 100, prettyErrors: false, logLevel: 'error' });
        done(null, doc ?? {});
      } catch (err) {
        const msg = err instanceof YAMLParseError ? err.message.split('\n')[0]! : 'not valid YAML';
        done(new KumoError('INVALID_INPUT', `body is not valid YAML: ${msg}`), undefined);
      }
    },
  );
}
