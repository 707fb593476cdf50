import { api, ApiError, clientConfig, loadSession, type Playback } from '../api.ts';
import { chatPanel } from '../chat.ts';
import { h, toast } from '../dom.ts';
import { glassToGlassMs, uptime, viewersLabel } from '../lib/format.ts';
import { newPlaybackSession } from '../lib/playback-session.ts';
import { createPlayer, type Player } from '../player.ts';
import { LiveSocket } from '../socket.ts';

/**
 * Watch a stream: the player, the stream's details with a live viewer count and a follow button,
 * and chat. While the stream is live the page is a viewer: its presence socket sends heartbeats
 * (rendition, time spent buffering) and receives the count.
 */
export function watchView(root: HTMLElement, streamId: string): () => void {
  root.replaceChildren(h('p', { class: 'muted status' }, 'Loading…'));
  let cleanups: (() => void)[] = [];
  let closed = false;
  let poll: number | undefined;
  const show = (p: Playback) => {
    for (const c of cleanups) c();
    cleanups = render(root, p);
    // An offline stream's page starts playing by itself when the streamer's encoder connects.
    clearInterval(poll);
    if (p.status === 'ready') {
      poll = window.setInterval(() => {
        api.playback(streamId).then(
          (next) => {
            if (!closed && next.status !== 'ready') show(next);
          },
          () => undefined,
        );
      }, 5000);
    }
  };
  api.playback(streamId).then(
    (p) => {
      if (!closed) show(p);
    },
    (err: unknown) => {
      if (closed) return;
      const text =
        err instanceof ApiError && err.status === 404 ? 'This stream does not exist.' : (err as Error).message;
      root.replaceChildren(h('p', { class: 'status' }, text));
    },
  );
  return () => {
    closed = true;
    clearInterval(poll);
    for (const c of cleanups) c();
  };
}

function render(root: HTMLElement, p: Playback): (() => void)[] {
  // One session per page view, on the presence socket and the player's media requests alike.
  const session = newPlaybackSession();
  const player = createPlayer(p, session);
  const chat = chatPanel(p, () => player.playingDate());
  const viewers = h('span', { class: 'viewers', 'data-testid': 'viewer-count' }, viewersLabel(p.viewer_count));
  const since = h('span', { class: 'muted' });
  const follow = followButton(p);
  const info = h(
    'section',
    { class: 'stream-info' },
    h(
      'div',
      { class: 'row' },
      h('div', { class: 'avatar' }, p.streamer.username.slice(0, 1).toUpperCase()),
      h(
        'div',
        { class: 'grow' },
        h('h1', { 'data-testid': 'stream-title' }, p.title),
        h(
          'div',
          {},
          h(
            'a',
            {
              class: 'streamer-link',
              href: `/users/${encodeURIComponent(p.streamer.user_id)}`,
              'data-link': true,
              'data-testid': 'streamer-link',
            },
            h('strong', {}, p.streamer.username),
          ),
          ' · ',
          h('span', { class: 'category' }, p.category),
        ),
        h('div', { class: 'tags' }, ...p.tags.map((t) => h('span', { class: 'tag' }, t))),
      ),
      h('div', { class: 'right' }, p.status === 'live' ? viewers : null, since, follow),
    ),
  );
  root.replaceChildren(h('div', { class: 'watch' }, h('div', { class: 'main' }, player.element, info), chat.element));

  const cleanups = [() => player.destroy(), () => chat.destroy()];
  if (p.status === 'live') {
    const tick = window.setInterval(() => (since.textContent = uptime(p.started_at, Date.now())), 1000);
    cleanups.push(() => clearInterval(tick));
    const presence = viewerPresence(p, player, session, (n) => (viewers.textContent = viewersLabel(n)));
    cleanups.push(() => presence.close());
  } else if (p.status === 'ended' && p.ended_at) {
    since.textContent = `Streamed ${new Date(p.ended_at).toLocaleString()}`;
  }
  return cleanups;
}

/** The presence socket (src/gateways/viewer/protocol.ts): heartbeats out, counts in. */
function viewerPresence(
  p: Playback,
  player: Player,
  session: string,
  onCount: (n: number) => void,
): { close: () => void } {
  let sessionId = session;
  let beat: number | undefined;
  const socket = new LiveSocket({
    url: async () => {
      const cfg = await clientConfig();
      const url = new URL(`${cfg.viewers_ws_base_url}/streams/${encodeURIComponent(p.stream_id)}/viewers`);
      // The player's session (its media requests name it too); reconnecting with it keeps this
      // page counted once.
      url.searchParams.set('session', sessionId);
      return url.toString();
    },
    onFrame: (raw) => {
      const f = raw as {
        type: string;
        session_id?: string;
        heartbeat_interval_ms?: number;
        viewers?: number;
        server_time?: number;
        count?: number;
      };
      if (f.type === 'welcome') {
        sessionId = f.session_id ?? sessionId;
        // Off by at most the welcome's transit time, small beside the tiers' targets.
        const clockOffset = f.server_time === undefined ? 0 : f.server_time - Date.now();
        onCount(f.viewers ?? 0);
        clearInterval(beat);
        const send = () =>
          socket.send({
            type: 'heartbeat',
            session_id: sessionId,
            quality: player.quality(),
            buffering_ms: player.takeBufferingMs(),
            latency_ms: glassToGlassMs(player.playingCapturedAt(), Date.now() + clockOffset),
          });
        beat = window.setInterval(send, f.heartbeat_interval_ms ?? 10_000);
      } else if (f.type === 'viewers') {
        onCount(f.count ?? 0);
      } else if (f.type === 'ended') {
        toast(`${p.streamer.username} ended the stream.`);
      }
    },
    onClose: (code) => {
      clearInterval(beat);
      // 1000 after "ended", or a refusal of a stream that is not live: nothing to come back to.
      return code !== 1000;
    },
  });
  return {
    close: () => {
      clearInterval(beat);
      socket.close();
    },
  };
}

function followButton(p: Playback): HTMLElement {
  const session = loadSession();
  const button = h('button', { class: 'btn follow', 'data-testid': 'follow' }, 'Follow');
  if (!session) {
    button.title = 'Sign in to follow';
    button.addEventListener('click', () => toast('Sign in to follow streamers.', { href: '/sign-in' }));
    return button;
  }
  if (session.userId === p.streamer.user_id) {
    button.hidden = true;
    return button;
  }
  let following = false;
  const show = () => {
    button.textContent = following ? 'Following' : 'Follow';
    button.classList.toggle('on', following);
  };
  api.user(p.streamer.user_id).then(
    (r) => {
      following = r.is_following === true;
      show();
    },
    () => undefined,
  );
  button.addEventListener('click', () => {
    button.disabled = true;
    const want = !following;
    (want ? api.follow(p.streamer.user_id) : api.unfollow(p.streamer.user_id))
      .then(
        () => (following = want),
        (err: unknown) => {
          // The other tab already did it: the state is what was wanted.
          if (err instanceof ApiError && (err.code === 'already_following' || err.code === 'not_following'))
            following = want;
          else toast(`Could not ${want ? 'follow' : 'unfollow'}: ${(err as Error).message}`, { kind: 'error' });
        },
      )
      .finally(() => {
        button.disabled = false;
        show();
      });
  });
  return button;
}
