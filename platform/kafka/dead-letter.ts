import type { DeadLetterReason } from '../errors.ts';
import type { RawRecord, RecordHeaders } from './driver.ts';

/**
 * A dead letter is the original record, byte for byte (key, value, headers), sent to
 * `<topic>.dlq` with these headers added, so it can be inspected, fixed and re-driven.
 */
export const DLQ_HEADERS = {
  reason: 'dlq.reason',
  error: 'dlq.error',
  topic: 'dlq.origin.topic',
  partition: 'dlq.origin.partition',
  offset: 'dlq.origin.offset',
  timestamp: 'dlq.origin.timestamp',
  group: 'dlq.consumer.group',
  failedAt: 'dlq.failed.at',
} as const;

export function deadLetterHeaders(
  msg: Pick<RawRecord, 'headers' | 'offset' | 'timestamp'>,
  origin: { topic: string; partition: number; group: string },
  reason: DeadLetterReason,
  error: string,
): RecordHeaders {
  return {
    ...msg.headers,
    [DLQ_HEADERS.reason]: reason,
    [DLQ_HEADERS.error]: error.slice(0, 2000),
    [DLQ_HEADERS.topic]: origin.topic,
    [DLQ_HEADERS.partition]: String(origin.partition),
    [DLQ_HEADERS.offset]: msg.offset,
    [DLQ_HEADERS.timestamp]: String(msg.timestamp),
    [DLQ_HEADERS.group]: origin.group,
    [DLQ_HEADERS.failedAt]: new Date().toISOString(),
  };
}

export function headerString(headers: RecordHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (v === undefined) return undefined;
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
}

/**
 * What `npm run dlq -- redrive` adds to a record it sends back: the dead letter it came from,
 * and the partition and offset the record had before it was dead-lettered (`<partition>@<offset>`).
 */
export const REDRIVE_HEADERS = { from: 'dlq.redriven.from', origin: 'dlq.redriven.origin' } as const;

/**
 * A record's place in its partition's history, for consumers that keep the newest state by
 * offset: its offset, or for a re-driven record the offset it first had. Sent back later, an old
 * event must not pass for a newer one (an old Followed undoing a later Unfollowed).
 */
export function versionOf(headers: RecordHeaders | undefined, partition: number, offset: string): string {
  const origin = /^(\d+)@(\d+)$/.exec(headerString(headers, REDRIVE_HEADERS.origin) ?? '');
  return origin && Number(origin[1]) === partition ? origin[2]! : offset;
}
