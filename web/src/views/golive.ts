import { api, ApiError, loadSession, request, type Started } from '../api.ts';
import { broadcaster } from '../broadcast.ts';
import { h, navigate, toast } from '../dom.ts';
import { drawPanels, latest, type ChartPanel } from '../charts.ts';

/**
 * The streamer's view: create a stream, see its key and RTMP URL once (the API never shows the
 * key again), watch for the encoder to connect, end the stream. The stream in progress is kept
 * in this tab's sessionStorage without its key, so a reload can still end it. Where the API
 * names a WebRTC ingest, the streamer may instead broadcast from the page itself (broadcast.ts),
 * which needs the key, so only before a reload; leaving the page ends that broadcast.
 */
const CURRENT = 'live.golive.current';

export function goLiveView(root: HTMLElement): () => void {
  const session = loadSession();
  if (!session) {
    root.replaceChildren(
      h(
        'section',
        { class: 'panel narrow' },
        h('h1', {}, 'Go live'),
        h('p', {}, 'Sign in to start a stream.'),
        h('a', { class: 'btn', href: '/sign-in?next=/go-live', 'data-link': true }, 'Sign in'),
      ),
    );
    return () => undefined;
  }
  const current = sessionStorage.getItem(CURRENT);
  if (current) return showStarted(root, JSON.parse(current) as Omit<Started, 'stream_key'>, null);
  let leave: () => void = () => undefined;

  const title = h('input', { name: 'title', required: true, maxlength: 200, placeholder: 'What are you streaming?' });
  const category = h('input', { name: 'category', required: true, maxlength: 50, placeholder: 'e.g. Just Chatting' });
  const tags = h('input', { name: 'tags', placeholder: 'comma-separated, e.g. english, speedrun' });
  const latency = h(
    'select',
    { name: 'latency_mode' },
    h('option', { value: 'standard' }, 'Standard latency (about 1.5 s, smoothest)'),
    h('option', { value: 'low' }, 'Low latency (under 1 s)'),
    h('option', { value: 'ultra-low' }, 'Ultra-low latency (WebRTC; viewers it fails play LL-HLS)'),
  );
  const error = h('p', { class: 'error', hidden: true });
  const submit = h('button', { class: 'btn', type: 'submit', 'data-testid': 'create-stream' }, 'Create stream');
  const form = h(
    'form',
    { class: 'panel narrow form' },
    h('h1', {}, 'Go live'),
    h('label', {}, 'Title', title),
    h('label', {}, 'Category', category),
    h('label', {}, 'Tags', tags),
    h('label', {}, 'Latency', latency),
    error,
    submit,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    api
      .start({
        title: title.value,
        category: category.value,
        tags: tags.value
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
        latency_mode: latency.value as Started['latency_mode'],
      })
      .then(
        (started) => {
          const { stream_key: _key, ...kept } = started;
          sessionStorage.setItem(CURRENT, JSON.stringify(kept));
          leave = showStarted(root, kept, started.stream_key);
        },
        (err: unknown) => {
          error.hidden = false;
          error.textContent =
            err instanceof ApiError && Object.keys(err.fields).length
              ? Object.entries(err.fields)
                  .map(([k, v]) => `${k}: ${v}`)
                  .join('; ')
              : (err as Error).message;
          submit.disabled = false;
        },
      );
  });
  root.replaceChildren(form);
  return () => leave();
}

/** The started stream's page; returns what leaving it does. */
function showStarted(root: HTMLElement, s: Omit<Started, 'stream_key'>, key: string | null): () => void {
  const copy = (text: string) => () => void navigator.clipboard?.writeText(text).then(() => toast('Copied'));
  const field = (label: string, value: string, testid: string, secret = false) =>
    h(
      'div',
      { class: 'field' },
      h('span', { class: 'muted small' }, label),
      h(
        'div',
        { class: 'row' },
        h('code', { 'data-testid': testid, class: secret ? 'secret' : '' }, value),
        h('button', { class: 'btn small ghost', type: 'button', onclick: copy(value) }, 'Copy'),
      ),
    );
  const watch = `/streams/${encodeURIComponent(s.stream_id)}`;
  const browser = key && s.ingest_urls.webrtc ? broadcaster(s.ingest_urls.webrtc, key) : null;
  const end = h('button', { class: 'btn danger', 'data-testid': 'end-stream' }, 'End stream');
  const state = h(
    'p',
    { 'data-testid': 'stream-state' },
    browser ? 'Waiting for your encoder or your browser broadcast…' : 'Waiting for your encoder to connect…',
  );
  const health = streamHealth(s.stream_id);
  // The renditions the media worker makes of the source, as players get them.
  const ladder = h('p', { class: 'muted small', 'data-testid': 'ladder', hidden: true });
  // Why viewers see nothing although the stream is live: the media worker refused the source.
  const mediaError = h('p', { class: 'warning', 'data-testid': 'media-error', role: 'alert', hidden: true });
  end.addEventListener('click', () => {
    end.disabled = true;
    api.end(s.stream_id).then(
      () => {
        sessionStorage.removeItem(CURRENT);
        state.textContent = 'The stream has ended.';
        end.remove();
        browser?.destroy();
        toast('Stream ended');
      },
      (err: unknown) => {
        if (err instanceof ApiError && err.code === 'stream_ended') sessionStorage.removeItem(CURRENT);
        state.textContent = `Could not end the stream: ${(err as Error).message}`;
        end.disabled = false;
      },
    );
  });
  root.replaceChildren(
    h(
      'section',
      { class: 'panel narrow', 'data-testid': 'go-live-started' },
      h('h1', {}, 'Your stream is ready'),
      key
        ? h(
            'p',
            { class: 'warning' },
            'Copy the stream key now: it is shown only once. Anyone with it can broadcast as you.',
          )
        : h('p', { class: 'muted' }, 'The stream key was shown when the stream was created and cannot be shown again.'),
      field('Server (RTMP URL)', s.ingest_urls.rtmp, 'rtmp-url'),
      key ? field('Stream key', key, 'stream-key', true) : null,
      h(
        'p',
        { class: 'muted small' },
        'In OBS: Settings → Stream → Service "Custom", paste the server and the key. Or with ffmpeg: ',
        h('code', {}, `ffmpeg -re -i video.mp4 -c copy -f flv ${s.ingest_urls.rtmp}/<key>`),
      ),
      browser?.element,
      state,
      mediaError,
      ladder,
      health.element,
      h(
        'div',
        { class: 'row' },
        h(
          'a',
          {
            class: 'btn ghost',
            href: watch,
            'data-link': true,
            onclick: (e: Event) => {
              e.preventDefault();
              // Leaving this page would end the browser broadcast: the stream page opens beside it.
              if (browser?.active()) window.open(watch, '_blank');
              else navigate(watch);
            },
          },
          'Open your stream page',
        ),
        end,
      ),
    ),
  );
  const poll = window.setInterval(() => {
    if (!root.isConnected || !end.isConnected) return clearInterval(poll);
    api.playback(s.stream_id).then(
      (p) => {
        if (p.status === 'live') state.textContent = `You're live! ${p.viewer_count} watching.`;
        const rungs = (p.qualities as Array<{ name: string; resolution: string }>).map(
          (q) => `${q.name} (${q.resolution})`,
        );
        ladder.hidden = rungs.length === 0;
        ladder.textContent = `Ladder: ${rungs.join(', ')}`;
        mediaError.hidden = p.media_error === null;
        mediaError.textContent = p.media_error ? `Viewers cannot watch: ${p.media_error.reason}.` : '';
        if (p.status === 'ended') {
          state.textContent = 'The stream has ended.';
          sessionStorage.removeItem(CURRENT);
          end.remove();
          browser?.destroy();
        }
      },
      () => undefined,
    );
  }, 3000);
  return () => {
    browser?.destroy();
    health.destroy();
  };
}

interface Health {
  range: { start: number; end: number };
  panels: ChartPanel[];
  chat_per_minute: Array<{ minute: string; messages: number; chatters: number }> | null;
}

const HEALTH_REFRESH_MS = 10_000;

/**
 * The streamer's view of their own stream over the last 15 minutes: what their encoder sends
 * (bitrate, frame rate, keyframe interval, measured by ingest), viewers, transcode lag and chat
 * per minute, refreshed every 10 s while the page is open.
 */
function streamHealth(streamId: string): { element: HTMLElement; destroy: () => void } {
  const summary = h('p', { class: 'muted small', 'data-testid': 'health-summary' }, 'Waiting for the first figures…');
  const grid = h('div', { class: 'chart-grid' });
  const element = h(
    'section',
    { class: 'health', 'data-testid': 'stream-health' },
    h('h2', {}, 'Stream health'),
    summary,
    grid,
  );
  let destroyCharts: () => void = () => undefined;
  let timer: number | undefined;
  let gone = false;
  const fmt = (v: number | null, digits = 1) => (v === null ? '–' : v.toFixed(digits));
  const load = async () => {
    try {
      const d = await request<Health>(`/api/v1/streams/${encodeURIComponent(streamId)}/health?minutes=15`, {
        auth: true,
      });
      if (gone) return;
      const chat = d.chat_per_minute ?? [];
      const panels: ChartPanel[] = [
        ...d.panels,
        {
          id: 'chat',
          title: 'Chat',
          unit: 'messages/min',
          series: chat.length
            ? [
                {
                  name: 'messages',
                  points: chat.map((m) => [Date.parse(m.minute) / 1000, m.messages] as [number, number]),
                },
              ]
            : [],
        },
      ];
      const by = (id: string) => panels.find((p) => p.id === id)!;
      const bits = latest(by('bitrate'));
      summary.textContent =
        `Now: ${bits === null ? '–' : `${(bits / 1000).toFixed(0)} kb/s`}, ${fmt(latest(by('frame-rate')))} fps, ` +
        `a keyframe every ${fmt(latest(by('keyframe-interval')))} s, ${fmt(latest(by('viewers')), 0)} viewers.`;
      destroyCharts();
      destroyCharts = await drawPanels(grid, panels, { height: 140, range: d.range });
    } catch (err) {
      if (!gone) summary.textContent = `Stream health is unavailable: ${(err as Error).message}`;
    } finally {
      if (!gone) timer = window.setTimeout(() => void load(), HEALTH_REFRESH_MS);
    }
  };
  void load();
  return {
    element,
    destroy: () => {
      gone = true;
      clearTimeout(timer);
      destroyCharts();
    },
  };
}
