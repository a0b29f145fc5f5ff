// Superuser login screen.
import { h, mount } from './dom.js';
import { pb, errorMessage } from './api.js';

export function renderLogin(root, { onLoggedIn }) {
  const email = h('input#login-email', { type: 'email', name: 'email', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input#login-password', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const error = h('div.form-error', { role: 'alert', hidden: true });
  const submit = h('button.btn.btn-primary.btn-block', { type: 'submit' }, 'Log in');

  const form = h(
    'form.login-card',
    {
      async onsubmit(e) {
        e.preventDefault();
        error.hidden = true;
        submit.disabled = true;
        submit.textContent = 'Logging in…';
        try {
          await pb.collection('_superusers').authWithPassword(email.value.trim(), password.value);
          onLoggedIn();
        } catch (err) {
          error.textContent = err.status === 400 || err.status === 401 ? 'Invalid email or password.' : errorMessage(err);
          error.hidden = false;
          password.select();
        } finally {
          submit.disabled = false;
          submit.textContent = 'Log in';
        }
      },
    },
    h('div.login-brand', h('span.logo', 'ox'), h('span', 'oxbase')),
    h('h1.login-title', 'Superuser login'),
    h('div.field', h('label', { for: 'login-email' }, 'Email'), email),
    h('div.field', h('label', { for: 'login-password' }, 'Password'), password),
    error,
    submit,
  );
  mount(root, h('div.login-page', form));
  email.focus();
}
