import { api, loadSession, type Playback } from './api.ts';
import { h } from './dom.ts';
import { ChatLog, chatErrorText, type ChatEntry, type ServerFrame } from './lib/chat-log.ts';
import { ChatReplay, type ReplayMessage } from './lib/chat-replay.ts';
import { LiveSocket } from './socket.ts';

/**
 * The chat panel: the history frame on open, live messages, sending (signed-in users), moderation
 * tools for the streamer and moderators, and reconnects that resume after the last message seen.
 */
export function chatPanel(
  p: Playback,
  /** The recording's moment on screen (program date time), for replaying its chat; null until known. */
  videoDate: () => number | null = () => null,
): { element: HTMLElement; destroy: () => void } {
  const log = new ChatLog();
  const session = loadSession();
  const list = h('ol', { class: 'chat-list', 'data-testid': 'chat-list', 'aria-live': 'polite' });
  const state = h('span', { class: 'chat-state muted small', 'data-testid': 'chat-state' }, 'Connecting…');
  const input = h('input', {
    type: 'text',
    maxlength: 500,
    placeholder: session ? 'Send a message' : 'Sign in to chat',
    'aria-label': 'Chat message',
    'data-testid': 'chat-input',
    disabled: !session,
  });
  const hint = h('div', { class: 'chat-hint', 'data-testid': 'chat-hint', hidden: true });
  const send = h('button', { class: 'btn', type: 'submit', disabled: !session }, 'Chat');
  const form = h('form', { class: 'chat-form' }, input, send);
  const element = h(
    'aside',
    { class: 'chat', 'data-testid': 'chat', 'data-state': 'connecting' },
    h('header', {}, h('strong', {}, 'Stream chat'), state),
    list,
    hint,
    form,
  );

  if (!p.chat_url) {
    state.textContent = '';
    list.append(h('li', { class: 'notice' }, 'Chat is turned off for this stream.'));
    input.disabled = true;
    send.disabled = true;
    return { element, destroy: () => undefined };
  }

  // A recording plays with its chat replayed in step; the live socket is for live and upcoming streams.
  if (p.status === 'ended' && p.playback_urls.hls)
    return replayPanel(p, videoDate, { element, state, list, input, send });

  const canModerate = (): boolean =>
    !!session && (session.userId === p.streamer.user_id || log.isModerator(session.userId));
  const pending = new Map<string, string>();
  let nonces = 0;

  const showHint = (text: string | null) => {
    hint.hidden = text === null;
    hint.textContent = text ?? '';
  };

  const render = () => {
    const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 40;
    list.replaceChildren(...log.entries.map(line));
    if (atBottom) list.scrollTop = list.scrollHeight;
  };

  const line = (e: ChatEntry): HTMLElement => {
    const tools =
      e.kind === 'message' && canModerate() && !e.deleted && e.user.user_id !== session?.userId
        ? h(
            'span',
            { class: 'mod-tools' },
            h(
              'button',
              { title: 'Delete message', onclick: () => command({ type: 'delete', message_id: e.message_id }) },
              'delete',
            ),
            h(
              'button',
              {
                title: 'Time out for 10 minutes',
                onclick: () => command({ type: 'timeout', user_id: e.user.user_id, duration_seconds: 600 }),
              },
              'timeout',
            ),
            h('button', { title: 'Ban', onclick: () => command({ type: 'ban', user_id: e.user.user_id }) }, 'ban'),
          )
        : null;
    return messageLine(e, tools);
  };

  const socket = new LiveSocket({
    url: async () => {
      const url = new URL(p.chat_url!);
      if (log.lastMessageId) url.searchParams.set('since', log.lastMessageId);
      if (session) url.searchParams.set('ticket', (await api.chatTicket(p.stream_id)).ticket);
      return url.toString();
    },
    onOpen: () => {
      state.textContent = '';
      state.classList.remove('down');
      element.dataset.state = 'open';
    },
    onFrame: (raw) => {
      const frame = raw as ServerFrame;
      if (frame.type === 'ack') {
        pending.delete(frame.nonce);
        return;
      }
      if (frame.type === 'error') {
        const text = frame.nonce ? pending.get(frame.nonce) : undefined;
        if (frame.nonce) pending.delete(frame.nonce);
        // Give back what the viewer typed, so a refused message is not lost.
        if (text !== undefined && !input.value) input.value = text;
        showHint(chatErrorText(frame));
        return;
      }
      if (log.apply(frame)) render();
    },
    onClose: (code, attempt) => {
      state.textContent = attempt > 0 ? 'Reconnecting…' : 'Connection lost — reconnecting…';
      state.classList.add('down');
      element.dataset.state = 'down';
      return code !== 1003 && code !== 1009;
    },
  });

  const command = (frame: Record<string, unknown>, text?: string): boolean => {
    const nonce = `n${++nonces}`;
    if (!socket.send({ ...frame, nonce })) {
      showHint('Chat is reconnecting — your message was not sent yet.');
      return false;
    }
    if (text !== undefined) pending.set(nonce, text);
    return true;
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    showHint(null);
    if (command({ type: 'message', content: text }, text)) input.value = '';
  });

  return { element, destroy: () => socket.close() };
}

/** One line of the chat list; `tools`: the moderation buttons, where the viewer may use them. */
function messageLine(e: ChatEntry, tools: HTMLElement | null): HTMLElement {
  if (e.kind === 'notice') return h('li', { class: 'notice' }, e.text);
  // Through the CSSOM, not a style attribute: the page's Content-Security-Policy allows no
  // inline style, and a color from the wire can only ever be a color this way.
  const who = h('span', { class: 'who' }, e.user.username);
  who.style.color = e.color ?? colorOf(e.user.user_id);
  return h(
    'li',
    { class: `msg${e.deleted ? ' deleted' : ''}`, 'data-message-id': e.message_id },
    tools,
    ...e.user.badges.map((b) =>
      h('span', { class: `chat-badge ${b}`, title: b }, b === 'broadcaster' ? 'HOST' : 'MOD'),
    ),
    who,
    ': ',
    e.deleted ? h('em', { class: 'muted' }, '<message deleted>') : h('span', { class: 'text' }, e.content),
  );
}

/** How often the replay looks at the video's moment: a message shows within this of its time. */
const REPLAY_TICK_MS = 200;

function replayPanel(
  p: Playback,
  videoDate: () => number | null,
  ui: { element: HTMLElement; state: HTMLElement; list: HTMLElement; input: HTMLInputElement; send: HTMLButtonElement },
): { element: HTMLElement; destroy: () => void } {
  ui.element.dataset.state = 'replay';
  ui.state.textContent = 'Replay';
  ui.input.disabled = true;
  ui.input.placeholder = 'Chat replay: the broadcast is over';
  ui.send.disabled = true;
  const replay = new ChatReplay();
  let shown: ReplayMessage[] = [];
  const page = (q: { before?: string; after?: string; limit: number }) => api.chatPage(p.stream_id, q);
  const render = (messages: ReplayMessage[]) => {
    if (messages === shown) return;
    shown = messages;
    const log = new ChatLog();
    log.apply({ type: 'history', messages, complete: true });
    ui.list.replaceChildren(...log.entries.map((e) => messageLine(e, null)));
    ui.list.scrollTop = ui.list.scrollHeight;
  };
  const timer = window.setInterval(() => {
    const at = videoDate();
    if (at === null) return;
    ui.list.dataset.replayAt = String(at);
    const step = replay.tick(at);
    if (step.kind === 'show') return render(step.messages);
    if (step.kind === 'seek') {
      const when = new Date(step.at).toISOString();
      Promise.all([page({ before: when, limit: 50 }), page({ after: when, limit: 100 })]).then(
        ([before, from]) => replay.placed(before.messages, { messages: from.messages, next: from.next_after ?? null }),
        () => replay.failed(),
      );
    } else {
      page({ after: step.after, limit: 100 }).then(
        (more) => replay.extended({ messages: more.messages, next: more.next_after ?? null }),
        () => replay.failed(),
      );
    }
  }, REPLAY_TICK_MS);
  return { element: ui.element, destroy: () => clearInterval(timer) };
}

/** A stable color per user, so names are told apart at a glance. */
function colorOf(userId: string): string {
  let n = 0;
  for (const c of userId) n = (n * 31 + c.charCodeAt(0)) >>> 0;
  return `hsl(${n % 360} 70% 65%)`;
}
