-- Notification reach per go-live: followers notified, and how many of them came to watch the
-- stream (a viewer heartbeat with their user id) within 10 minutes of their notification.
-- ksqlDB: notification_reach (which counts the notified only).
WITH notified AS (
  SELECT streamId, recipientId, min(occurredAt) AS notifiedAt
  FROM notification_created
  WHERE kind = 'STREAM_WENT_LIVE'
  GROUP BY streamId, recipientId
),
came AS (
  SELECT DISTINCT n.streamId, n.recipientId
  FROM notified n JOIN viewer_heartbeat h
    ON h.streamId = n.streamId AND h.userId = n.recipientId
   AND h.occurredAt >= n.notifiedAt AND h.occurredAt < n.notifiedAt + INTERVAL 10 MINUTE
)
SELECT
  n.streamId,
  count(*) AS notified,
  count(c.recipientId) AS watched_within_10m,
  round(100.0 * count(c.recipientId) / count(*), 1) AS pct
FROM notified n LEFT JOIN came c USING (streamId, recipientId)
GROUP BY n.streamId
ORDER BY n.streamId;
