import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { usageError } from './cli-error';

export interface SpecText {
  text: string;
  contentType: 'application/json' | 'application/yaml';
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * JSON or YAML: by the extension when there is one we know, else by the first character (stdin has no
 * name). The text goes to the server untouched: it parses and validates both, and its errors, with
 * their paths, are the ones worth showing.
 */
export function specContentType(path: string, text: string): SpecText['contentType'] {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return 'application/json';
  if (ext === '.yaml' || ext === '.yml') return 'application/yaml';
  return /^\s*[{[]/.test(text) ? 'application/json' : 'application/yaml';
}

/** A job spec from a file, or from stdin for `-`. */
export async function readSpec(path: string, stdin: NodeJS.ReadableStream): Promise<SpecText> {
  let text: string;
  if (path === '-') {
    text = await readAll(stdin);
  } else {
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw usageError(`cannot read '${path}'${code ? ` (${code})` : ''}`);
    }
  }
  if (text.trim() === '')
    throw usageError(`${path === '-' ? 'stdin' : `'${path}'`} is empty: expected a job spec in YAML or JSON`);
  return { text, contentType: specContentType(path, text) };
}
