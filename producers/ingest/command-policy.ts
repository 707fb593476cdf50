/**
 * Which RTMP commands a session may send, as a pure decision the transport acts on.
 *
 * node-rtsp-rtmp-server answers every command it knows, whoever sends it, and two of them reach
 * its play path by a side door: `seek` on a live stream, and `pause` to resume, re-enter `play`
 * with a stream name taken from the command itself (or the session's stream). Checking `play`
 * alone therefore guards nothing. So the wrapper lets through only what an encoder sends to
 * publish (what ffmpeg and OBS send, `_checkbw` included: both answer the server's `onBWDone`
 * with it), plus, for a peer allowed to pull (INGEST_PULL_ALLOW: the media workers), what an
 * ffmpeg/ffprobe pull sends; `play` itself is then checked by name. Anything else, and any
 * command we do not know, closes the session. `seek` and `pause` are refused to everyone: a live
 * stream cannot be sought, and no worker sends them.
 */
export const APP = 'live';

export type CommandRoute =
  /** Hand to the library as it is. */
  | 'pass'
  /** Check the stream key first. */
  | 'publish'
  /** The encoder says it is stopping: its close ends the stream at once (no reconnect grace). */
  | 'unpublish'
  /** Check the stream name against what this node publishes, then hand it on. */
  | 'play'
  /** Close the session without answering. */
  | 'refuse';

export interface SessionStanding {
  /** The peer's address is in INGEST_PULL_ALLOW. */
  mayPull: boolean;
  /** The session already had a publish accepted: one connection carries one stream. */
  published: boolean;
}

const PUBLISH_PATH = new Set(['releaseStream', 'FCPublish', 'createStream', '_checkbw']);
const UNPUBLISH = new Set(['FCUnpublish', 'deleteStream', 'closeStream']);
/** What ffmpeg's RTMP reader sends around `play`; the library answers them with nothing. */
const PULL_PATH = new Set(['getStreamLength', 'FCSubscribe', 'FCUnsubscribe', 'receiveAudio', 'receiveVideo']);

/**
 * `connectApp` is the `app` of a `connect` command (ignored for other commands): only the live
 * application exists here (the library would also serve files under its `file` application).
 */
export function routeCommand(command: string, standing: SessionStanding, connectApp?: unknown): CommandRoute {
  if (command === 'connect') return isLiveApp(connectApp) ? 'pass' : 'refuse';
  if (PUBLISH_PATH.has(command)) return 'pass';
  if (UNPUBLISH.has(command)) return 'unpublish';
  if (command === 'publish') return standing.published ? 'refuse' : 'publish';
  if (!standing.mayPull) return 'refuse';
  if (command === 'play') return 'play';
  if (PULL_PATH.has(command)) return 'pass';
  return 'refuse';
}

/** The library drops one trailing slash from the app name (`rtmp://host/live/` gives `live/`). */
const isLiveApp = (app: unknown): boolean => typeof app === 'string' && app.replace(/\/$/, '') === APP;
