import { api, clientConfig, saveSession } from '../api.ts';
import { h, navigate } from '../dom.ts';

/**
 * Sign-in for local use: the API mints a token for the name given (a development identity,
 * POST /api/v1/dev/token). A production deployment turns that route off and signs people in
 * with a real identity provider; this form then says so.
 */
export function signInView(root: HTMLElement, query: URLSearchParams, onChange: () => void): () => void {
  const next = query.get('next')?.startsWith('/') ? query.get('next')! : '/';
  const name = h('input', {
    name: 'username',
    required: true,
    pattern: '[A-Za-z0-9_]{3,25}',
    placeholder: 'e.g. alice',
    autocomplete: 'username',
    'data-testid': 'username',
  });
  const error = h('p', { class: 'error', hidden: true });
  const submit = h('button', { class: 'btn', type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    { class: 'panel narrow form' },
    h('h1', {}, 'Sign in'),
    h(
      'p',
      { class: 'muted small' },
      'Development identity: pick any name (3–25 letters, digits or _). The local platform trusts it as is — ',
      'there is no password, and this form is not offered by a production deployment.',
    ),
    h('label', {}, 'Username', name),
    error,
    submit,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit.disabled = true;
    api.devToken(name.value.trim()).then(
      (t) => {
        saveSession({
          token: t.token,
          userId: t.user_id,
          username: t.username,
          expiresAt: Date.now() + t.expires_in * 1000,
        });
        onChange();
        navigate(next);
      },
      (err: Error) => {
        error.hidden = false;
        error.textContent = err.message;
        submit.disabled = false;
      },
    );
  });
  root.replaceChildren(form);
  clientConfig().then(
    (cfg) => {
      if (cfg.dev_sign_in) return;
      root.replaceChildren(
        h(
          'section',
          { class: 'panel narrow' },
          h('h1', {}, 'Sign in'),
          h('p', {}, 'This deployment does not offer development sign-in.'),
        ),
      );
    },
    () => undefined,
  );
  return () => undefined;
}
