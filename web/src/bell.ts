import { api, clientConfig, type Notification } from './api.ts';
import { h, navigate, toast } from './dom.ts';
import { LiveSocket } from './socket.ts';

/**
 * The notification bell: the inbox on load, then pushes from the notification gateway
 * (src/gateways/notifications/protocol.ts). The badge counts unread ones; opening a notification
 * marks it read and goes to the stream.
 */
export function startBell(): () => void {
  const bell = document.getElementById('bell')!;
  const button = document.getElementById('bell-button')!;
  const badge = document.getElementById('bell-badge')!;
  const menu = document.getElementById('bell-menu')!;
  const items = new Map<string, Notification>();
  bell.hidden = false;

  const render = () => {
    const list = [...items.values()].sort((a, b) => b.created_at.localeCompare(a.created_at));
    const unread = list.filter((n) => !n.read).length;
    badge.hidden = unread === 0;
    badge.textContent = String(unread);
    bell.classList.toggle('lit', unread > 0);
    menu.replaceChildren(
      ...(list.length
        ? list.slice(0, 20).map((n) =>
            h(
              'button',
              {
                class: `note${n.read ? '' : ' unread'}`,
                'data-testid': 'notification',
                onclick: () => open(n),
              },
              h('strong', {}, n.streamer.username),
              ` went live: ${n.title}`,
              h('span', { class: 'muted small' }, new Date(n.created_at).toLocaleTimeString()),
            ),
          )
        : [h('p', { class: 'muted small' }, 'No notifications yet. Follow streamers to hear when they go live.')]),
    );
  };
  const open = (n: Notification) => {
    menu.hidden = true;
    if (!n.read) {
      n.read = true;
      render();
      void api.markRead([n.notification_id]).catch(() => undefined);
    }
    navigate(`/streams/${encodeURIComponent(n.stream_id)}`);
  };
  const onButton = () => (menu.hidden = !menu.hidden);
  button.addEventListener('click', onButton);

  const loadInbox = () =>
    api.notifications().then(
      (r) => {
        for (const n of r.notifications) if (!items.has(n.notification_id)) items.set(n.notification_id, n);
        render();
      },
      () => render(),
    );
  void loadInbox();
  let opened = 0;
  const socket = new LiveSocket({
    // What arrived while the socket was down is in the inbox.
    onOpen: () => {
      bell.dataset.push = 'open';
      if (opened++ > 0) void loadInbox();
    },
    onClose: () => {
      bell.dataset.push = 'down';
      return true;
    },
    url: async () => {
      const [cfg, t] = await Promise.all([clientConfig(), api.pushTicket()]);
      const url = new URL(cfg.notifications_ws_url);
      url.searchParams.set('ticket', t.ticket);
      return url.toString();
    },
    onFrame: (raw) => {
      const f = raw as { type: string; notification?: Notification };
      if (f.type !== 'notification' || !f.notification) return;
      const n = f.notification;
      // A notification can arrive twice (see the gateway's protocol): its id is stable.
      if (items.has(n.notification_id)) return;
      items.set(n.notification_id, n);
      render();
      toast(`${n.streamer.username} is live: ${n.title}`, { href: `/streams/${encodeURIComponent(n.stream_id)}` });
    },
  });
  return () => {
    socket.close();
    button.removeEventListener('click', onButton);
    bell.hidden = true;
    items.clear();
  };
}
