import { expectOk } from '../api/client';
import type { JobSpecBody } from '../api/types';
import { parseCommandArgs } from '../args';
import { EXIT } from '../exit-codes';
import { readSpec } from '../spec-file';
import { writeJson, type Command } from './command';

const usage = 'kumo submit <file|-> [--json] [--idempotency-key <key>]';

export const submit: Command = {
  name: 'submit',
  summary: 'submit a job spec (YAML or JSON; - reads stdin); prints the job id',
  usage,
  async run(ctx, argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      options: { json: { type: 'boolean' }, 'idempotency-key': { type: 'string' } },
      positionals: { min: 1, max: 1 },
      usage,
    });
    const spec = await readSpec(positionals[0]!, ctx.stdin);
    const key = values['idempotency-key'];
    const job = expectOk(
      await ctx.api.POST('/v1/jobs', {
        // The server parses and validates the text itself (YAML included), so it is sent as read; the
        // cast only tells the typed client that this string stands for the spec.
        body: spec.text as unknown as JobSpecBody,
        bodySerializer: (body: unknown) => body as string,
        headers: { 'content-type': spec.contentType },
        params: { header: key === undefined ? {} : { 'idempotency-key': key } },
      }),
    );
    if (values.json) writeJson(ctx, job);
    else ctx.stdout.write(`${job.id}\n`);
    return EXIT.OK;
  },
};
