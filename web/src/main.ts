import './style.css';
import { loadSession, saveSession } from './api.ts';
import { startBell } from './bell.ts';
import { navigate } from './dom.ts';
import { browseView } from './views/browse.ts';
import { channelView } from './views/channel.ts';
import { goLiveView } from './views/golive.ts';
import { opsView } from './views/ops.ts';
import { signInView } from './views/signin.ts';
import { watchView } from './views/watch.ts';

/**
 * The page's shell: header (search, go live, bell, who is signed in) and a router over
 * /, /streams/:id, /users/:id (a channel), /go-live, /ops (operators) and /sign-in. The API serves index.html for every such path.
 */
const view = document.getElementById('view')!;
const search = document.getElementById('search') as HTMLInputElement;
let leave: () => void = () => undefined;
let stopBell: (() => void) | undefined;

function renderSession(): void {
  const s = loadSession();
  document.getElementById('me')!.textContent = s ? s.username : '';
  document.getElementById('sign-in-link')!.hidden = !!s;
  document.getElementById('sign-out')!.hidden = !s;
  stopBell?.();
  stopBell = s ? startBell() : undefined;
}

function route(): void {
  leave();
  const query = new URLSearchParams(location.search);
  const path = location.pathname;
  const watch = /^\/streams\/([^/]+)\/?$/.exec(path);
  const channel = /^\/users\/([^/]+)\/?$/.exec(path);
  search.value = path === '/' ? (query.get('q') ?? '') : search.value;
  if (watch) leave = watchView(view, decodeURIComponent(watch[1]!));
  else if (channel) leave = channelView(view, decodeURIComponent(channel[1]!));
  else if (path === '/go-live') leave = goLiveView(view);
  else if (path === '/ops') leave = opsView(view);
  else if (path === '/sign-in') leave = signInView(view, query, renderSession);
  else leave = browseView(view, query);
  window.scrollTo(0, 0);
}

document.addEventListener('click', (e) => {
  const a = (e.target as Element).closest('a[data-link]');
  if (!a || e.defaultPrevented || (e as MouseEvent).ctrlKey || (e as MouseEvent).metaKey) return;
  e.preventDefault();
  navigate(a.getAttribute('href')!);
});

let typing: number | undefined;
const searchFor = () => {
  const q = search.value.trim();
  navigate(q ? `/?q=${encodeURIComponent(q)}` : '/');
};
search.addEventListener('input', () => {
  clearTimeout(typing);
  typing = window.setTimeout(searchFor, 350);
});
document.getElementById('search-form')!.addEventListener('submit', (e) => {
  e.preventDefault();
  clearTimeout(typing);
  searchFor();
});
document.getElementById('sign-out')!.addEventListener('click', () => {
  saveSession(null);
  renderSession();
  route();
});

window.addEventListener('popstate', route);
renderSession();
route();
