import type { z } from 'zod';

/**
 * Input validation that reports every bad field at once, keyed by the field's path as the caller
 * wrote it (`title`, `tags[3]`), so a client can show each message next to its field.
 * Problems with the input as a whole are keyed `(body)` or `(query)`.
 */
export class ValidationError extends Error {
  readonly code = 'invalid_request';
  constructor(readonly fields: Record<string, string>) {
    super(`invalid ${Object.keys(fields).join(', ')}`);
    this.name = 'ValidationError';
  }
}

export function parseOrReject<S extends z.ZodType>(schema: S, input: unknown, whole = '(body)'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields: Record<string, string> = {};
  const add = (field: string, message: string) => {
    fields[field] = fields[field] ? `${fields[field]}; ${message}` : message;
  };
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) add(fieldName([...issue.path, key]), 'unknown field');
    } else {
      add(issue.path.length ? fieldName(issue.path) : whole, issue.message);
    }
  }
  throw new ValidationError(fields);
}

function fieldName(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (name, part) => (typeof part === 'number' ? `${name}[${part}]` : name ? `${name}.${String(part)}` : String(part)),
    '',
  );
}
