import { api, type StreamCard } from '../api.ts';
import { h, navigate } from '../dom.ts';
import { formatCount } from '../lib/format.ts';

/**
 * Browse and search: live streams as cards, a category filter, and pages fetched with the API's
 * cursor as the last card comes into view. With a search text, offline streams and recordings
 * are found too (the search is typo-tolerant on the server).
 */
const PAGE = 12;

export function browseView(root: HTMLElement, query: URLSearchParams): () => void {
  const q = query.get('q') ?? '';
  const category = query.get('category') ?? '';
  const abort = new AbortController();
  const grid = h('section', { class: 'grid', 'data-testid': 'stream-grid' });
  const status = h('p', { class: 'muted status' });
  const sentinel = h('div', { class: 'sentinel' });
  const chips = h('nav', { class: 'chips', 'aria-label': 'Categories' });
  const heading = q
    ? h('h1', {}, 'Results for ', h('q', {}, q))
    : h('h1', {}, category ? `Live in ${category}` : 'Live channels');
  root.replaceChildren(h('div', { class: 'browse' }, heading, chips, grid, status, sentinel));

  const link = (params: Record<string, string>): string => {
    const qs = new URLSearchParams(params);
    return `/${qs.size ? `?${qs}` : ''}`;
  };
  const chip = (label: string, value: string) =>
    h(
      'a',
      {
        class: `chip${value === category ? ' active' : ''}`,
        href: link({ ...(q && { q }), ...(value && { category: value }) }),
        'data-link': true,
      },
      label,
    );
  chips.append(chip('All', ''));
  api.categories().then(
    (r) => {
      for (const c of r.categories) chips.append(chip(`${c.name} · ${formatCount(c.viewer_count)}`, c.name));
    },
    () => undefined,
  );

  let cursor: string | null | undefined;
  let loading = false;
  let shown = 0;
  const seen = new Set<string>();
  const load = async (): Promise<void> => {
    if (loading || cursor === null) return;
    loading = true;
    status.textContent = 'Loading…';
    try {
      const page = await api.search(
        {
          ...(q && { q }),
          ...(category && { category }),
          ...(cursor && { cursor }),
          limit: PAGE,
          status: q ? 'live,ready,ended' : 'live',
        },
        abort.signal,
      );
      // Live streams re-sort as their viewer counts move, so a later page can repeat a card.
      const fresh = page.streams.filter((s) => !seen.has(s.stream_id));
      for (const s of fresh) {
        seen.add(s.stream_id);
        grid.append(card(s));
      }
      shown += fresh.length;
      cursor = page.next_cursor;
      status.textContent = shown > 0 ? '' : q ? `Nothing matches “${q}”.` : 'Nobody is live right now.';
    } catch (err) {
      if (abort.signal.aborted) return;
      status.textContent = `Could not load streams: ${(err as Error).message}`;
      cursor = null;
    } finally {
      loading = false;
    }
    // A tall window may show the sentinel before the observer fires again.
    if (cursor && sentinel.getBoundingClientRect().top < innerHeight + 400) void load();
  };
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) void load();
  });
  observer.observe(sentinel);
  void load();
  return () => {
    abort.abort();
    observer.disconnect();
  };
}

function card(s: StreamCard): HTMLElement {
  const href = `/streams/${encodeURIComponent(s.stream_id)}`;
  const badge =
    s.status === 'live'
      ? h('span', { class: 'pill live' }, 'LIVE')
      : h('span', { class: 'pill' }, s.status === 'ended' ? 'ENDED' : 'OFFLINE');
  const thumb = s.thumbnail
    ? h('img', { src: s.thumbnail, alt: '', loading: 'lazy' })
    : h('div', { class: 'thumb-fallback' }, s.category);
  return h(
    'a',
    {
      class: 'card',
      href,
      'data-link': true,
      'data-testid': 'stream-card',
      'data-stream-id': s.stream_id,
      onclick: (e: Event) => {
        e.preventDefault();
        navigate(href);
      },
    },
    h(
      'div',
      { class: 'thumb' },
      thumb,
      badge,
      s.status === 'live' ? h('span', { class: 'pill viewers' }, `${formatCount(s.viewer_count)} viewers`) : null,
    ),
    h('div', { class: 'meta' }, h('strong', { class: 'title', title: s.title }, s.title)),
    h('div', { class: 'muted' }, s.streamer.username),
    h('div', { class: 'muted small' }, s.category, ...s.tags.slice(0, 3).map((t) => h('span', { class: 'tag' }, t))),
  );
}
