import { branchColumn } from '../../domain/archive/columns.ts';
import { archiveGlob } from '../../domain/archive/layout.ts';

/**
 * The views `npm run sql` opens over the archive, as SQL text (pure: the engine runs it).
 *
 *   chat_messages        one per topic: every archived record of live.chat.messages, all
 *                        columns of every schema version (union_by_name) plus the Hive folders'
 *                        `topic` and `hour`
 *   chat_message_sent    one per event type: that type's rows, its `<Type>_<field>` columns under
 *                        their own names (`content`), beside the envelope and Kafka columns
 * A topic without a union payload (live.viewer.heartbeats) gets one type view named after its
 * record (viewer_heartbeat).
 */
export interface TopicColumns {
  /** Base topic name, `live.chat.messages`. */
  topic: string;
  /** Short names of the payload union's branches, or the record's name when there is none. */
  types: string[];
  /** The columns the topic's files hold (DESCRIBE of its topic view). */
  columns: string[];
}

/** live.chat.messages -> chat_messages. */
export const topicView = (topic: string): string => topic.replace(/^live\./, '').replace(/[^A-Za-z0-9]+/g, '_');

/** ChatMessageSent -> chat_message_sent. */
export const typeView = (type: string): string =>
  type
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();

export const ident = (s: string): string => `"${s.replaceAll('"', '""')}"`;
export const literal = (s: string): string => `'${s.replaceAll("'", "''")}'`;

export function topicViewSql(root: string, topic: string): string {
  return (
    `CREATE OR REPLACE VIEW ${ident(topicView(topic))} AS SELECT * FROM read_parquet(` +
    `${literal(archiveGlob(root, topic))}, union_by_name = true, hive_partitioning = true)`
  );
}

/** The type views of one topic, from the columns its files hold. */
export function typeViewsSql(t: TopicColumns): string[] {
  const discriminator = branchColumn('payload');
  const from = ident(topicView(t.topic));
  if (!t.columns.includes(discriminator)) {
    const [only] = t.types;
    // live.viewer.playback holds ViewerPlayback: the topic's view already has the type's name.
    if (!only || typeView(only) === topicView(t.topic)) return [];
    return [`CREATE OR REPLACE VIEW ${ident(typeView(only))} AS SELECT * FROM ${from}`];
  }
  const branchColumns = (type: string): string[] => t.columns.filter((c) => c.startsWith(`${type}_`));
  const ofAnyBranch = new Set(t.types.flatMap(branchColumns));
  const common = t.columns.filter((c) => c !== discriminator && !ofAnyBranch.has(c));
  return t.types.map((type) => {
    const own = branchColumns(type).map((c) => `${ident(c)} AS ${ident(c.slice(type.length + 1))}`);
    // Envelope fields first; a branch field named like one (rare) keeps its prefixed name.
    const taken = new Set(common.map((c) => c.toLowerCase()));
    const select = [
      ...common.map(ident),
      ...own.map((o, i) => {
        const name = branchColumns(type)[i]!.slice(type.length + 1);
        return taken.has(name.toLowerCase()) ? ident(branchColumns(type)[i]!) : o;
      }),
    ];
    return (
      `CREATE OR REPLACE VIEW ${ident(typeView(type))} AS SELECT ${select.join(', ')} ` +
      `FROM ${from} WHERE ${ident(discriminator)} = ${literal(type)}`
    );
  });
}
