import { z } from 'zod';
import type { LatencyMode, StreamCreated } from '../../schemas/generated/events.ts';
import { parseOrReject } from '../../platform/validation.ts';

/**
 * The stream API's request bodies, as clients send them (snake_case JSON), and the rules a stream's
 * metadata obeys. Unknown fields are refused rather than ignored, so a typo (`tittle`) is an
 * error instead of a silent no-op. Text is NFC-normalised and trimmed before it is measured;
 * lengths count characters (code points), not UTF-16 units.
 */
export const LIMITS = { title: 200, category: 50, tags: 10, tag: 25 } as const;

const LATENCY: Record<string, LatencyMode> = { standard: 'STANDARD', low: 'LOW', 'ultra-low': 'ULTRA_LOW' };
const CONTROL = /\p{Cc}/u;
const TAG = /^[\p{L}\p{N}_-]+$/u;

const text = (field: string, max: number) =>
  z
    .string({ error: `${field} must be a string` })
    .transform((s) => s.normalize('NFC').trim())
    .refine((s) => s.length > 0, `${field} must not be empty`)
    .refine((s) => [...s].length <= max, `${field} must be at most ${max} characters`)
    .refine((s) => !CONTROL.test(s), `${field} must not contain control characters`);

const tag = z
  .string({ error: 'a tag must be a string' })
  .transform((s) => s.normalize('NFC').trim().toLowerCase())
  .refine((s) => s.length > 0 && [...s].length <= LIMITS.tag, `a tag must be 1-${LIMITS.tag} characters`)
  .refine((s) => s.length === 0 || TAG.test(s), 'a tag may hold only letters, digits, "-" and "_"');

const tags = z
  .array(tag, { error: 'tags must be an array of strings' })
  .max(LIMITS.tags, `at most ${LIMITS.tags} tags`)
  .transform((list) => [...new Set(list)]);

const flag = (field: string) => z.boolean({ error: `${field} must be true or false` });

const startBody = z.strictObject({
  title: text('title', LIMITS.title),
  category: text('category', LIMITS.category),
  tags: tags.default([]),
  latency_mode: z
    .enum(Object.keys(LATENCY) as [string, ...string[]], {
      error: `latency_mode must be one of ${Object.keys(LATENCY).join(', ')}`,
    })
    .default('standard')
    .transform((m) => LATENCY[m]!),
  enable_recording: flag('enable_recording').default(true),
  enable_chat: flag('enable_chat').default(true),
});

const updateBody = z
  .strictObject({
    title: text('title', LIMITS.title).optional(),
    category: text('category', LIMITS.category).optional(),
    tags: tags.optional(),
  })
  .refine(
    (b) => b.title !== undefined || b.category !== undefined || b.tags !== undefined,
    'give at least one of title, category, tags',
  );

/** A start request's settings: StreamCreated's own fields, which it becomes. */
export type StartInput = Pick<
  StreamCreated,
  'title' | 'category' | 'tags' | 'latencyMode' | 'recordingEnabled' | 'chatEnabled'
>;

export interface UpdateInput {
  title?: string;
  category?: string;
  tags?: string[];
}

/** Throws ValidationError naming every bad field. */
export function parseStartRequest(body: unknown): StartInput {
  const b = parseOrReject(startBody, body);
  return {
    title: b.title,
    category: b.category,
    tags: b.tags,
    latencyMode: b.latency_mode,
    recordingEnabled: b.enable_recording,
    chatEnabled: b.enable_chat,
  };
}

export function parseUpdateRequest(body: unknown): UpdateInput {
  const b = parseOrReject(updateBody, body);
  return {
    ...(b.title !== undefined && { title: b.title }),
    ...(b.category !== undefined && { category: b.category }),
    ...(b.tags !== undefined && { tags: b.tags }),
  };
}
