// Superuser login screen, its "Forgot password?" form, and the page a password reset link
// opens (`#/auth/confirm-password-reset/<token>`, the link of PocketBase's reset email, for
// any auth collection: the token names its collection).
import { html, useState, useEffect, useRef } from '../lib.js';
import { pb, errorMessage } from '../api.js';

const Brand = () => html`<div class="login-brand"><span class="logo">ox</span><span>oxbase</span></div>`;

export function Login({ onLoggedIn }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [forgot, setForgot] = useState(false);
  const emailEl = useRef(null);
  const passwordEl = useRef(null);
  useEffect(() => emailEl.current?.focus(), [forgot]);

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

  if (forgot) return html`<${RequestReset} email=${email} setEmail=${setEmail} emailEl=${emailEl} back=${() => setForgot(false)} />`;
  return html`<main class="login-page">
    <form class="login-card" onSubmit=${submit}>
      <${Brand} />
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
      <button type="button" class="btn btn-ghost btn-block" id="login-forgot" onClick=${() => (setError(''), setForgot(true))}>Forgot password?</button>
    </form>
  </main>`;
}

/** "Forgot password?": mails a reset link (the answer is the same for unknown addresses). */
function RequestReset({ email, setEmail, emailEl, back }) {
  const [sent, setSent] = useState(false);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setError('');
    setBusy(true);
    try {
      await pb.collection('_superusers').requestPasswordReset(email.trim());
      setSent(true);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }
  return html`<main class="login-page">
    <form class="login-card" id="reset-request" onSubmit=${submit}>
      <${Brand} />
      <h1 class="login-title">Reset your password</h1>
      ${sent
        ? html`<p class="form-ok" role="status">If <strong>${email.trim()}</strong> is a superuser's address, a link to reset the password is on its way.</p>`
        : html`<div class="field">
              <label for="reset-email">Email</label>
              <input id="reset-email" ref=${emailEl} type="email" name="email" autocomplete="username" required value=${email} onInput=${(e) => setEmail(e.target.value)} />
            </div>
            <div class="form-error" role="alert" hidden=${!error}>${error}</div>
            <button type="submit" class="btn btn-primary btn-block" disabled=${busy}>${busy ? 'Sending…' : 'Send the reset link'}</button>`}
      <button type="button" class="btn btn-ghost btn-block" id="reset-back" onClick=${back}>Back to login</button>
    </form>
  </main>`;
}

/** The collection a record token was issued for (its payload's `collectionId`). */
function tokenCollection(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), '='))).collectionId || '';
  } catch {
    return '';
  }
}

/** A reset link's page: the new password, twice. */
export function ConfirmPasswordReset({ token }) {
  const collection = tokenCollection(token);
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setError('');
    setBusy(true);
    try {
      await pb.collection(collection).confirmPasswordReset(token, password, confirm);
      setDone(true);
    } catch (err) {
      const fields = err?.response?.data || {};
      const first = ['token', 'password', 'passwordConfirm'].find((k) => fields[k]);
      setError(first ? `${first === 'passwordConfirm' ? 'Confirmation' : first === 'token' ? 'Link' : 'Password'}: ${fields[first].message}` : errorMessage(err));
    } finally {
      setBusy(false);
    }
  }
  return html`<main class="login-page">
    <form class="login-card" id="reset-confirm" onSubmit=${submit}>
      <${Brand} />
      <h1 class="login-title">Set a new password</h1>
      ${done
        ? html`<p class="form-ok" role="status">Your password is changed.</p>
            <a class="btn btn-primary btn-block" id="reset-login" href="#/">Go to login</a>`
        : !collection
          ? html`<div class="form-error" role="alert">This link is not valid.</div>`
          : html`<div class="field">
                <label for="reset-password">New password</label>
                <input id="reset-password" type="password" name="password" autocomplete="new-password" required value=${password} onInput=${(e) => setPassword(e.target.value)} />
              </div>
              <div class="field">
                <label for="reset-password-confirm">New password again</label>
                <input id="reset-password-confirm" type="password" name="passwordConfirm" autocomplete="new-password" required value=${confirm} onInput=${(e) => setConfirm(e.target.value)} />
              </div>
              <div class="form-error" role="alert" hidden=${!error}>${error}</div>
              <button type="submit" class="btn btn-primary btn-block" disabled=${busy}>${busy ? 'Saving…' : 'Set the password'}</button>`}
    </form>
  </main>`;
}
