import type { ReplayMessage } from './lib/chat-replay.ts';
import type { LatencyMode } from './lib/format.ts';

/** The HTTP API as the page uses it (same origin), the session, and the service map from /api/v1/config. */
export interface ClientConfig {
  chat_api_base_url: string;
  viewers_ws_base_url: string;
  notifications_ws_url: string;
  notifications_tickets_url: string;
  dev_sign_in: boolean;
}

export interface Streamer {
  user_id: string;
  username: string;
  avatar: string | null;
}

export interface StreamCard {
  stream_id: string;
  title: string;
  streamer: Streamer;
  thumbnail: string | null;
  status: 'live' | 'ready' | 'ended';
  viewer_count: number;
  category: string;
  tags: string[];
  started_at: string | null;
}

export interface SearchPage {
  streams: StreamCard[];
  total_results: number;
  next_cursor: string | null;
}

export interface Playback {
  stream_id: string;
  status: 'live' | 'ready' | 'ended';
  title: string;
  category: string;
  tags: string[];
  latency_mode: LatencyMode;
  streamer: Streamer;
  viewer_count: number;
  started_at: string | null;
  ended_at: string | null;
  /**
   * hls is null once a broadcast that was not recorded has ended; webrtc (WHEP) is there only
   * while an ultra-low stream is live, where the API knows a WebRTC gateway.
   */
  /** `dvr`: while live, the rewindable master (404 where the packager writes none). */
  playback_urls: { hls: string | null; dvr: string | null; dash: string | null; webrtc: string | null };
  qualities: unknown[];
  thumbnail: string | null;
  /** Why the stream has no qualities: the media worker refused its source (e.g. NO_VIDEO). */
  media_error: { code: string; reason: string } | null;
  chat_url: string | null;
}

/** A recorded broadcast (GET /api/v1/videos/:id); its id is the stream's, so /streams/:id plays it. */
export interface Video {
  video_id: string;
  stream_id: string;
  title: string;
  category: string;
  tags: string[];
  streamer: Streamer;
  duration_seconds: number;
  thumbnail: string | null;
  /** The broadcast's peak concurrent viewers. */
  view_count: number;
  started_at: string;
  ended_at: string;
  created_at: string;
  playback_url: string;
  watch_url: string;
}

export interface VideoPage {
  videos: Video[];
  next_cursor: string | null;
}

/** GET /api/v1/users/:id: a user's follower counts and live stream, if any. */
export interface Channel {
  user_id: string;
  username: string | null;
  followers: number;
  following: number;
  live: { stream_id: string; title: string; category: string; started_at: string | null; viewer_count: number } | null;
  is_following: boolean | null;
}

export interface Started {
  stream_id: string;
  stream_key: string;
  ingest_urls: { rtmp: string; rtmps: string | null; webrtc: string | null };
  playback_url: string;
  status: string;
  latency_mode: LatencyMode;
}

export interface Notification {
  notification_id: string;
  kind: string;
  stream_id: string;
  streamer: { user_id: string; username: string };
  title: string;
  created_at: string;
  read: boolean;
}

export interface Session {
  token: string;
  userId: string;
  username: string;
  expiresAt: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
  }
}

const SESSION_KEY = 'live.session';

export function loadSession(): Session | null {
  try {
    const s = JSON.parse(localStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
    return s && s.expiresAt > Date.now() + 60_000 ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session | null): void {
  if (s) localStorage.setItem(SESSION_KEY, JSON.stringify(s));
  else localStorage.removeItem(SESSION_KEY);
}

export async function request<T>(
  url: string,
  opts: { method?: string; body?: unknown; auth?: boolean; signal?: AbortSignal } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const session = loadSession();
  if (opts.auth && session) headers.authorization = `Bearer ${session.token}`;
  const res = await fetch(url, {
    method: opts.method ?? 'GET',
    headers,
    ...(opts.body !== undefined && { body: JSON.stringify(opts.body) }),
    ...(opts.signal && { signal: opts.signal }),
  });
  const text = await res.text();
  const body = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string; fields?: Record<string, string> } })?.error;
    throw new ApiError(res.status, e?.code ?? 'http_error', e?.message ?? `HTTP ${res.status}`, e?.fields ?? {});
  }
  return body as T;
}

let configPromise: Promise<ClientConfig> | undefined;
export const clientConfig = (): Promise<ClientConfig> => (configPromise ??= request<ClientConfig>('/api/v1/config'));

export const api = {
  search: (
    params: { q?: string; category?: string; cursor?: string; limit?: number; status: string },
    signal?: AbortSignal,
  ) => {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') qs.set(k, String(v));
    return request<SearchPage>(`/api/v1/streams/search?${qs}`, signal ? { signal } : {});
  },
  categories: () =>
    request<{ categories: { name: string; viewer_count: number; live_streams: number }[] }>('/api/v1/categories'),
  playback: (id: string) => request<Playback>(`/api/v1/streams/${encodeURIComponent(id)}/playback`),
  start: (body: { title: string; category: string; tags: string[]; latency_mode: LatencyMode }) =>
    request<Started>('/api/v1/streams/start', { method: 'POST', body, auth: true }),
  end: (id: string) =>
    request<unknown>(`/api/v1/streams/${encodeURIComponent(id)}/end`, { method: 'POST', auth: true }),
  devToken: (username: string) =>
    request<{ token: string; user_id: string; username: string; expires_in: number }>('/api/v1/dev/token', {
      method: 'POST',
      body: { username },
    }),
  follow: (userId: string) =>
    request<unknown>(`/api/v1/users/${encodeURIComponent(userId)}/follow`, { method: 'POST', auth: true }),
  unfollow: (userId: string) =>
    request<unknown>(`/api/v1/users/${encodeURIComponent(userId)}/follow`, { method: 'DELETE', auth: true }),
  user: (userId: string) => request<Channel>(`/api/v1/users/${encodeURIComponent(userId)}`, { auth: true }),
  videos: (userId: string, q: { cursor?: string; limit: number }, signal?: AbortSignal) => {
    const qs = new URLSearchParams({ limit: String(q.limit), ...(q.cursor && { cursor: q.cursor }) });
    return request<VideoPage>(`/api/v1/users/${encodeURIComponent(userId)}/videos?${qs}`, signal ? { signal } : {});
  },
  video: (id: string) => request<Video>(`/api/v1/videos/${encodeURIComponent(id)}`),
  deleteVideo: (id: string) =>
    request<unknown>(`/api/v1/videos/${encodeURIComponent(id)}`, { method: 'DELETE', auth: true }),
  notifications: () => request<{ notifications: Notification[] }>('/api/v1/me/notifications?limit=20', { auth: true }),
  markRead: (ids: string[]) =>
    request<unknown>('/api/v1/me/notifications/read', { method: 'POST', body: { ids }, auth: true }),
  chatTicket: async (streamId: string) => {
    const cfg = await clientConfig();
    return request<{ ticket: string }>(
      `${cfg.chat_api_base_url}/api/v1/streams/${encodeURIComponent(streamId)}/chat/tickets`,
      { method: 'POST', auth: true },
    );
  },
  /** A page of a stream's chat history, oldest first: before or after a message id or an ISO time. */
  chatPage: async (streamId: string, q: { before?: string; after?: string; limit: number }) => {
    const cfg = await clientConfig();
    const url = new URL(`${cfg.chat_api_base_url}/api/v1/streams/${encodeURIComponent(streamId)}/chat`);
    if (q.before) url.searchParams.set('before', q.before);
    if (q.after) url.searchParams.set('after', q.after);
    url.searchParams.set('limit', String(q.limit));
    return request<{ messages: ReplayMessage[]; next_after?: string | null }>(url.toString());
  },
  pushTicket: async () => {
    const cfg = await clientConfig();
    return request<{ ticket: string }>(cfg.notifications_tickets_url, { method: 'POST', auth: true });
  },
};
