-- Chat messages per minute per stream, busiest minutes first (rank 1 = the busiest minute of the
-- whole archive), with distinct chatters. ksqlDB: chat_per_minute.
SELECT
  rank() OVER (ORDER BY count(*) DESC) AS rank,
  streamId,
  date_trunc('minute', occurredAt) AS minute,
  count(*) AS messages,
  count(DISTINCT userId) AS chatters
FROM chat_message_sent
GROUP BY streamId, minute
ORDER BY messages DESC, minute, streamId
LIMIT 20;
