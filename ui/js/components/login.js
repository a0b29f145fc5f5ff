// Superuser login screen.
import { html, useState, useEffect, useRef } from '../lib.js';
import { pb, errorMessage } from '../api.js';

export function Login({ onLoggedIn }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const emailEl = useRef(null);
  const passwordEl = useRef(null);
  useEffect(() => emailEl.current?.focus(), []);

  async function submit(e) {
    e.preventDefault();
    setError('');
    setBusy(true);
    try {
      await pb.collection('_superusers').authWithPassword(email.trim(), password);
      onLoggedIn?.();
    } catch (err) {
      setError(err.status === 400 || err.status === 401 ? 'Invalid email or password.' : errorMessage(err));
      passwordEl.current?.select();
    } finally {
      setBusy(false);
    }
  }

  return html`<main class="login-page">
    <form class="login-card" onSubmit=${submit}>
      <div class="login-brand"><span class="logo">ox</span><span>oxbase</span></div>
      <h1 class="login-title">Superuser login</h1>
      <div class="field">
        <label for="login-email">Email</label>
        <input id="login-email" ref=${emailEl} type="email" name="email" autocomplete="username" required value=${email} onInput=${(e) => setEmail(e.target.value)} />
      </div>
      <div class="field">
        <label for="login-password">Password</label>
        <input id="login-password" ref=${passwordEl} type="password" name="password" autocomplete="current-password" required value=${password} onInput=${(e) => setPassword(e.target.value)} />
      </div>
      <div class="form-error" role="alert" hidden=${!error}>${error}</div>
      <button type="submit" class="btn btn-primary btn-block" disabled=${busy}>${busy ? 'Logging in…' : 'Log in'}</button>
    </form>
  </main>`;
}
