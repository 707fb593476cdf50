/**
 * What a re-drive does with the dead letters not yet re-driven, decided without Kafka:
 * per DLQ partition, in offset order, each record is sent back to its topic as fixed by the
 * operator's file, or as it was when it now decodes; the first record that is neither stops that
 * partition, so nothing behind it is skipped past and the group's offset never passes a record
 * that was not sent.
 */
export interface DeadLetter {
  partition: number;
  offset: number;
  /** The original record's bytes decode with the topic's schema today. */
  decodes: boolean;
  reason: string;
  /** Where the record first was (`<topic>/<partition>@<offset>`); copies share it. */
  origin?: string | null;
}

export interface Fix {
  partition: number;
  offset: number;
  value: unknown;
}

export type Action = { letter: DeadLetter; send: 'fixed'; value: unknown } | { letter: DeadLetter; send: 'as-is' };

export interface RedrivePlan {
  actions: Action[];
  /** The record each blocked partition stopped at. */
  stuck: DeadLetter[];
  /** Offsets to commit per partition (the next record to consider). */
  commits: Map<number, number>;
  /** Fixes in the file that match no pending dead letter (already re-driven, or a typo). */
  unusedFixes: Fix[];
  /** Copies of a record another letter of this plan sends: passed over, not sent twice. */
  copies: DeadLetter[];
}

export const fixKey = (partition: number, offset: number): string => `${partition}@${offset}`;

export function planRedrive(pending: DeadLetter[], fixes: Fix[]): RedrivePlan {
  const byKey = new Map(fixes.map((f) => [fixKey(f.partition, f.offset), f]));
  const used = new Set<string>();
  const actions: Action[] = [];
  const stuck: DeadLetter[] = [];
  const commits = new Map<number, number>();
  const blocked = new Set<number>();
  const sent = new Set<string>();
  const copies: DeadLetter[] = [];
  const ordered = [...pending].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  for (const letter of ordered) {
    if (blocked.has(letter.partition)) continue;
    const key = fixKey(letter.partition, letter.offset);
    const fix = byKey.get(key);
    if (letter.origin && sent.has(letter.origin) && !fix) {
      copies.push(letter);
    } else if (fix) {
      used.add(key);
      actions.push({ letter, send: 'fixed', value: fix.value });
    } else if (letter.decodes) {
      actions.push({ letter, send: 'as-is' });
    } else {
      stuck.push(letter);
      blocked.add(letter.partition);
      continue;
    }
    if (letter.origin && actions.at(-1)?.letter === letter) sent.add(letter.origin);
    commits.set(letter.partition, letter.offset + 1);
  }
  return {
    actions,
    stuck,
    commits,
    unusedFixes: fixes.filter((f) => !used.has(fixKey(f.partition, f.offset))),
    copies,
  };
}
