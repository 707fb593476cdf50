/** A tiny element builder: no framework, and text always goes in as text (never as HTML). */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function toast(text: string, opts: { href?: string; kind?: 'info' | 'error' } = {}): void {
  const box = document.getElementById('toasts')!;
  const el = opts.href
    ? h('a', { class: `toast ${opts.kind ?? 'info'}`, href: opts.href, 'data-link': true }, text)
    : h('div', { class: `toast ${opts.kind ?? 'info'}` }, text);
  box.append(el);
  setTimeout(() => el.remove(), 8000);
}

/** Client-side navigation: every view is a function of the URL. */
export function navigate(path: string): void {
  if (path === location.pathname + location.search) return;
  history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}
