-- Stream durations and how they ended: one row per broadcast that went live and ended, with
-- its reason, whether that was an error (the publisher dropped or ingest timed out rather than
-- the streamer or an admin ending it), and the share of all ended broadcasts that ended by
-- error. ksqlDB: stream_durations.
WITH live AS (
  SELECT streamId, min(startedAt) AS wentLive FROM stream_went_live GROUP BY streamId
),
ended AS (
  SELECT streamId, max(occurredAt) AS endedAt, arg_max(reason, occurredAt) AS reason
  FROM stream_ended GROUP BY streamId
)
SELECT
  streamId,
  wentLive,
  endedAt,
  round(epoch(endedAt - wentLive) / 60, 1) AS minutes,
  reason,
  reason IN ('PUBLISHER_DISCONNECTED', 'INGEST_TIMEOUT') AS by_error,
  round(100.0 * count(*) FILTER (WHERE reason IN ('PUBLISHER_DISCONNECTED', 'INGEST_TIMEOUT')) OVER () / count(*) OVER (), 1)
    AS pct_ended_by_error
FROM live JOIN ended USING (streamId)
ORDER BY wentLive, streamId;
