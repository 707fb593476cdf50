-- Every platform topic as a ksqlDB stream over its registered Avro schema (value columns are
-- inferred from the Schema Registry subject <topic>-value; only the key is declared).
-- ${TOPIC_PREFIX} is replaced by the CLI (LIVE_TOPIC_PREFIX, usually empty).
-- Envelope topics carry a union payload: ksqlDB reads it as a STRUCT with one field per event
-- type, all null but the one that happened, e.g. PAYLOAD->STREAMWENTLIVE->STARTEDAT.

CREATE STREAM IF NOT EXISTS stream_lifecycle (stream_key STRING KEY)
  WITH (KAFKA_TOPIC = '${TOPIC_PREFIX}live.stream.lifecycle', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'AVRO');

CREATE STREAM IF NOT EXISTS chat_events (stream_key STRING KEY)
  WITH (KAFKA_TOPIC = '${TOPIC_PREFIX}live.chat.messages', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'AVRO');

CREATE STREAM IF NOT EXISTS viewer_heartbeats (stream_key STRING KEY)
  WITH (KAFKA_TOPIC = '${TOPIC_PREFIX}live.viewer.heartbeats', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'AVRO');

CREATE STREAM IF NOT EXISTS viewer_playback (stream_key STRING KEY)
  WITH (KAFKA_TOPIC = '${TOPIC_PREFIX}live.viewer.playback', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'AVRO');

CREATE STREAM IF NOT EXISTS viewer_counts (stream_key STRING KEY)
  WITH (KAFKA_TOPIC = '${TOPIC_PREFIX}live.viewer.counts', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'AVRO');

CREATE STREAM IF NOT EXISTS media_segments (stream_key STRING KEY)
  WITH (KAFKA_TOPIC = '${TOPIC_PREFIX}live.media.segments', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'AVRO');

CREATE STREAM IF NOT EXISTS user_follows (streamer_key STRING KEY)
  WITH (KAFKA_TOPIC = '${TOPIC_PREFIX}live.user.follows', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'AVRO');

CREATE STREAM IF NOT EXISTS user_revocations (user_key STRING KEY)
  WITH (KAFKA_TOPIC = '${TOPIC_PREFIX}live.user.revocations', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'AVRO');

CREATE STREAM IF NOT EXISTS notifications (recipient_key STRING KEY)
  WITH (KAFKA_TOPIC = '${TOPIC_PREFIX}live.notifications', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'AVRO');

CREATE STREAM IF NOT EXISTS vod_recordings (stream_key STRING KEY)
  WITH (KAFKA_TOPIC = '${TOPIC_PREFIX}live.vod.recordings', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'AVRO');

CREATE STREAM IF NOT EXISTS vod_deletions (stream_key STRING KEY)
  WITH (KAFKA_TOPIC = '${TOPIC_PREFIX}live.vod.deletions', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'AVRO');

CREATE STREAM IF NOT EXISTS ingest_leases (node_key STRING KEY)
  WITH (KAFKA_TOPIC = '${TOPIC_PREFIX}live.ingest.leases', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'AVRO');

CREATE STREAM IF NOT EXISTS media_capacity (worker_key STRING KEY)
  WITH (KAFKA_TOPIC = '${TOPIC_PREFIX}live.media.capacity', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'AVRO');
