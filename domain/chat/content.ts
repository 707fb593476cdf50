/**
 * What a chat message's text may be, as stored in ChatMessageSent.content: NFC-normalised, with
 * control characters removed (line breaks and tabs become spaces first, so words stay apart),
 * trimmed, 1 to 500 code points. Bidirectional overrides and isolates are removed too: they
 * reorder how text is displayed and are used to disguise links and names. Lone surrogates (which
 * JSON escapes can produce) are removed: they are not text and would not survive UTF-8.
 */
export const MAX_CONTENT_CHARS = 500;

const WHITESPACE_CONTROLS = /[\t\n\v\f\r\u0085\u2028\u2029]+/g;
const STRIPPED = /[\p{Cc}\p{Cs}\u202A-\u202E\u2066-\u2069]/gu;
const COLOR = /^#[0-9a-f]{6}$/i;

export type ContentVerdict = { ok: true; content: string } | { ok: false; reason: string };

export function cleanContent(raw: string): ContentVerdict {
  const content = raw.normalize('NFC').replace(WHITESPACE_CONTROLS, ' ').replace(STRIPPED, '').trim();
  if (!content) return { ok: false, reason: 'content is empty' };
  let chars = 0;
  for (const _ of content) {
    if (++chars > MAX_CONTENT_CHARS)
      return { ok: false, reason: `content is longer than ${MAX_CONTENT_CHARS} characters` };
  }
  return { ok: true, content };
}

/** '#RRGGBB' in any case -> lower case; anything else is refused. */
export function cleanColor(raw: string): string | undefined {
  return COLOR.test(raw) ? raw.toLowerCase() : undefined;
}
