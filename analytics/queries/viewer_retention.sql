-- Viewer retention per stream: of the player sessions that connected, how many were still
-- watching (a heartbeat at least that long after their first) 5, 15 and 30 minutes in.
WITH sessions AS (
  SELECT streamId, sessionId, min(occurredAt) AS firstSeen, max(occurredAt) AS lastSeen
  FROM viewer_heartbeat
  GROUP BY streamId, sessionId
)
SELECT
  streamId,
  count(*) AS sessions,
  count(*) FILTER (WHERE lastSeen - firstSeen >= INTERVAL 5 MINUTE) AS after_5m,
  count(*) FILTER (WHERE lastSeen - firstSeen >= INTERVAL 15 MINUTE) AS after_15m,
  count(*) FILTER (WHERE lastSeen - firstSeen >= INTERVAL 30 MINUTE) AS after_30m
FROM sessions
GROUP BY streamId
ORDER BY streamId;
