-- Concurrent viewers per category, minute by minute: each stream's latest viewer count at the
-- end of the minute (an as-of join on live.viewer.counts), summed by the stream's category now
-- (its StreamCreated, or the last StreamUpdated that changed it). ksqlDB: viewers_by_category.
WITH category AS (
  SELECT streamId, arg_max(category, occurredAt) AS category
  FROM (
    SELECT streamId, occurredAt, category FROM stream_created
    UNION ALL
    SELECT streamId, occurredAt, category FROM stream_updated WHERE category IS NOT NULL
  )
  GROUP BY streamId
),
minutes AS (
  SELECT unnest(generate_series(date_trunc('minute', min(occurredAt)), date_trunc('minute', max(occurredAt)), INTERVAL 1 MINUTE)) AS minute
  FROM viewer_count_changed
),
streams AS (SELECT DISTINCT streamId FROM viewer_count_changed),
grid AS (SELECT minute + INTERVAL 1 MINUTE AS minute_end, minute, streamId FROM minutes CROSS JOIN streams),
latest AS (
  SELECT g.minute, g.streamId, c.viewers
  FROM grid g ASOF LEFT JOIN viewer_count_changed c ON g.streamId = c.streamId AND g.minute_end > c.occurredAt
)
SELECT minute, coalesce(category, '(unknown)') AS category,
  sum(coalesce(viewers, 0))::BIGINT AS viewers,
  count(*) FILTER (WHERE viewers > 0) AS live_streams
FROM latest LEFT JOIN category USING (streamId)
GROUP BY ALL
ORDER BY minute, category;
