// The login page: e-mail (or user name) and password, the API's lockout and refusal messages, and why a
// client certificate the browser presented was refused.
import { ApiError, post, type Session } from './api.js';
import { h, field, notice } from './dom.js';

export function renderLogin(onLogin: (session: Session) => void, message?: { text: string; kind: 'info' | 'danger' }): HTMLElement {
  const username = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const status = h('div', { class: 'login-status', 'aria-live': 'polite' });
  if (message) status.append(notice(message.kind, message.text));
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Log in');
  const form = h(
    'form',
    { class: 'login-form', 'aria-label': 'Log in', novalidate: true },
    field('E-mail or user name', username),
    field('Password', password),
    submit,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (username.value.trim() === '' || password.value === '') {
      status.replaceChildren(notice('danger', 'Enter your e-mail (or user name) and your password.'));
      (username.value.trim() === '' ? username : password).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Logging in…';
    post<Session>('/ui/api/login', { username: username.value.trim(), password: password.value })
      .then((session) => onLogin(session))
      .catch((error: unknown) => {
        const text = error instanceof ApiError ? error.message : 'The node could not be reached.';
        status.replaceChildren(notice('danger', text));
        password.value = '';
        password.focus();
      })
      .finally(() => {
        submit.disabled = false;
        submit.textContent = 'Log in';
      });
  });
  return h(
    'main',
    { id: 'main', class: 'login-page' },
    h(
      'div',
      { class: 'login-card' },
      h('div', { class: 'login-brand' }, h('img', { src: 'favicon.svg', alt: '', width: 40, height: 40 }), h('h1', {}, 'certplane Cluster Manager')),
      status,
      form,
      h('p', { class: 'hint' }, 'Certificate users are logged in without a password when the browser presents their client certificate.'),
    ),
  );
}
