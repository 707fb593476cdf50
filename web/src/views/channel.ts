import { api, loadSession, type Channel, type Video } from '../api.ts';
import { h, toast } from '../dom.ts';
import { formatCount } from '../lib/format.ts';
import { broadcastDate, formatDuration } from '../lib/videos.ts';

/**
 * A channel: the streamer's live status (a link to the stream while live), followers, and past
 * broadcasts newest first (GET /api/v1/users/:id/videos, a page at a time). A card opens the
 * recording on the watch page, which plays a finished stream's VOD. The owner may delete a video.
 */
const PAGE = 12;

export function channelView(root: HTMLElement, userId: string): () => void {
  const abort = new AbortController();
  const name = h('h1', { 'data-testid': 'channel-name' }, '');
  const avatar = h('div', { class: 'avatar' }, '');
  const followers = h('span', { class: 'muted', 'data-testid': 'follower-count' });
  const live = h('div', { class: 'channel-live', 'data-testid': 'channel-live' });
  const grid = h('section', { class: 'grid', 'data-testid': 'video-grid' });
  const status = h('p', { class: 'muted status' });
  const more = h('button', { class: 'btn', hidden: true }, 'Show more');
  const mine = loadSession()?.userId === userId;
  root.replaceChildren(
    h(
      'div',
      { class: 'channel' },
      h('header', { class: 'channel-head row' }, avatar, h('div', { class: 'grow' }, name, followers), live),
      h('h2', {}, 'Past broadcasts'),
      grid,
      status,
      more,
    ),
  );
  const showName = (username: string) => {
    name.textContent = username;
    avatar.textContent = username.slice(0, 1).toUpperCase();
    document.title = `${username} · Live`;
  };
  showName(userId);

  api.user(userId).then(
    (c) => {
      if (abort.signal.aborted) return;
      if (c.username) showName(c.username);
      followers.textContent = `${formatCount(c.followers)} follower${c.followers === 1 ? '' : 's'}`;
      showLive(live, c.live);
    },
    () => {
      // No follower count or live status where the users API is not served (or cannot answer now).
      showLive(live, null);
    },
  );

  let cursor: string | undefined;
  let shown = 0;
  const load = async (): Promise<void> => {
    more.hidden = true;
    status.textContent = 'Loading…';
    try {
      const page = await api.videos(userId, { limit: PAGE, ...(cursor && { cursor }) }, abort.signal);
      const first = page.videos[0];
      if (first && name.textContent === userId) showName(first.streamer.username);
      for (const v of page.videos) grid.append(videoCard(v, mine));
      shown += page.videos.length;
      cursor = page.next_cursor ?? undefined;
      more.hidden = !page.next_cursor;
      status.textContent = shown > 0 ? '' : 'No past broadcasts yet.';
    } catch (err) {
      if (abort.signal.aborted) return;
      status.textContent = `Could not load videos: ${(err as Error).message}`;
    }
  };
  more.addEventListener('click', () => void load());
  void load();
  return () => abort.abort();
}

function showLive(el: HTMLElement, live: Channel['live']): void {
  el.replaceChildren(
    live
      ? h(
          'a',
          { class: 'live-link', href: `/streams/${encodeURIComponent(live.stream_id)}`, 'data-link': true },
          h('span', { class: 'pill live' }, 'LIVE'),
          ' ',
          live.title,
          h('span', { class: 'muted' }, ` · ${formatCount(live.viewer_count)} watching`),
        )
      : h('span', { class: 'pill' }, 'OFFLINE'),
  );
}

function videoCard(v: Video, mine: boolean): HTMLElement {
  const href = `/streams/${encodeURIComponent(v.video_id)}`;
  const thumb = v.thumbnail
    ? h('img', { src: v.thumbnail, alt: '', loading: 'lazy' })
    : h('div', { class: 'thumb-fallback' }, v.category);
  const card = h(
    'div',
    { class: 'card video-card', 'data-testid': 'video-card', 'data-video-id': v.video_id },
    h(
      'a',
      { href, 'data-link': true, 'data-testid': 'video-link' },
      h(
        'div',
        { class: 'thumb' },
        thumb,
        h('span', { class: 'pill duration', 'data-testid': 'video-duration' }, formatDuration(v.duration_seconds)),
      ),
      h('div', { class: 'meta' }, h('strong', { class: 'title', title: v.title }, v.title)),
    ),
    h(
      'div',
      { class: 'muted small' },
      h(
        'time',
        { datetime: v.started_at, title: new Date(v.started_at).toLocaleString() },
        broadcastDate(v.started_at, Date.now()),
      ),
      ` · ${formatCount(v.view_count)} peak viewers · ${v.category}`,
    ),
  );
  if (mine)
    card.append(
      h(
        'button',
        {
          class: 'btn small danger',
          'data-testid': 'delete-video',
          onclick: () => {
            if (!confirm(`Delete “${v.title}”? This cannot be undone.`)) return;
            api.deleteVideo(v.video_id).then(
              () => card.remove(),
              (err: unknown) => toast(`Could not delete: ${(err as Error).message}`, { kind: 'error' }),
            );
          },
        },
        'Delete',
      ),
    );
  return card;
}
