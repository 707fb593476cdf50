-- Tables analytics teams asked for. Each is a persistent query: it keeps itself up to date as
-- events arrive, and pull queries read it (see `npm run ksql -- help`).

-- The category each stream is in now (StreamUpdated carries null when the category is unchanged;
-- LATEST_BY_OFFSET skips nulls), and whether it is live: StreamWentLive sets it (a reconnect
-- sets it again), StreamEnded clears it, other events leave it (null, skipped).
CREATE TABLE IF NOT EXISTS stream_category AS
  SELECT streamId,
         LATEST_BY_OFFSET(COALESCE(payload->StreamUpdated->category, payload->StreamCreated->category)) AS category,
         LATEST_BY_OFFSET(payload->StreamCreated->streamerName) AS streamer_name,
         LATEST_BY_OFFSET(CASE WHEN payload->StreamWentLive IS NOT NULL THEN true
                               WHEN payload->StreamEnded IS NOT NULL THEN false END) AS live
  FROM stream_lifecycle
  GROUP BY streamId
  EMIT CHANGES;

-- The latest count per stream (counts are absolute values, so the latest is the truth).
CREATE TABLE IF NOT EXISTS stream_viewers AS
  SELECT streamId,
         LATEST_BY_OFFSET(viewers) AS viewers,
         MAX(peakViewers) AS peak_viewers
  FROM viewer_counts
  GROUP BY streamId
  EMIT CHANGES;

-- Concurrent viewers and live streams per category: an ended stream counts in neither (its
-- final zero count would otherwise leave it among the category's streams for ever).
CREATE TABLE IF NOT EXISTS viewers_by_category AS
  SELECT c.category AS category,
         SUM(CASE WHEN c.live THEN v.viewers ELSE 0 END) AS viewers,
         SUM(CASE WHEN c.live THEN 1 ELSE 0 END) AS streams
  FROM stream_viewers v
  JOIN stream_category c ON v.streamId = c.streamId
  GROUP BY c.category
  EMIT CHANGES;

-- Chat messages and distinct chatters per stream per minute.
CREATE TABLE IF NOT EXISTS chat_per_minute AS
  SELECT streamId,
         COUNT(*) AS messages,
         COUNT_DISTINCT(payload->ChatMessageSent->userId) AS chatters
  FROM chat_events
  WINDOW TUMBLING (SIZE 1 MINUTE)
  WHERE payload->ChatMessageSent IS NOT NULL
  GROUP BY streamId
  EMIT CHANGES;

-- Peak viewers per stream per day; `npm run ksql -- top-streams` ranks them.
CREATE TABLE IF NOT EXISTS peak_viewers_daily AS
  SELECT streamId,
         MAX(peakViewers) AS peak_viewers
  FROM viewer_counts
  WINDOW TUMBLING (SIZE 1 DAY)
  GROUP BY streamId
  EMIT CHANGES;

-- How long each broadcast lasted: went live at, ended at (event time), and the difference.
CREATE TABLE IF NOT EXISTS stream_durations AS
  SELECT streamId,
         MAX(CASE WHEN payload->StreamWentLive IS NOT NULL
                  THEN UNIX_TIMESTAMP(payload->StreamWentLive->startedAt) END) AS started_ms,
         MAX(CASE WHEN payload->StreamEnded IS NOT NULL THEN UNIX_TIMESTAMP(occurredAt) END) AS ended_ms,
         (MAX(CASE WHEN payload->StreamEnded IS NOT NULL THEN UNIX_TIMESTAMP(occurredAt) END)
          - MAX(CASE WHEN payload->StreamWentLive IS NOT NULL
                     THEN UNIX_TIMESTAMP(payload->StreamWentLive->startedAt) END)) / 1000 AS duration_s
  FROM stream_lifecycle
  GROUP BY streamId
  EMIT CHANGES;

-- Notification reach: how many followers each go-live notified.
CREATE TABLE IF NOT EXISTS notification_reach AS
  SELECT streamId,
         COUNT(*) AS notifications,
         COUNT_DISTINCT(recipientId) AS recipients
  FROM notifications
  GROUP BY streamId
  EMIT CHANGES;
