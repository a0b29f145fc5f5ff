// First start: the page the install link printed by `oxbase serve` opens
// (`#/pbinstall/<token>`, PocketBase's path). It creates the first superuser with the link's
// one-time token (POST /api/install), then logs in as it.
import { html, useState, useEffect } from '../lib.js';
import { pb, errorMessage, fieldErrors } from '../api.js';

export function Install({ token, onInstalled }) {
  const [status, setStatus] = useState('checking'); // checking | ready | dead
  const [form, setForm] = useState({ email: '', password: '', passwordConfirm: '' });
  const [errors, setErrors] = useState({});
  const [formError, setFormError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    pb.send('/api/install/check', { method: 'POST', body: { token } }).then(
      () => setStatus('ready'),
      () => setStatus('dead'),
    );
  }, [token]);

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setFormError('');
    try {
      await pb.send('/api/install', { method: 'POST', body: { token, ...form } });
      await pb.collection('_superusers').authWithPassword(form.email, form.password);
      onInstalled();
    } catch (err) {
      const fe = fieldErrors(err);
      setErrors(fe);
      if (fe.token) setStatus('dead');
      setFormError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  const input = (name, label, type, autocomplete) => html`<div class=${errors[name] ? 'field has-error' : 'field'}>
    <label for=${`install-${name}`}>${label}</label>
    <input id=${`install-${name}`} name=${name} type=${type} autocomplete=${autocomplete} required value=${form[name]}
      onInput=${(e) => setForm({ ...form, [name]: e.target.value })} />
    <div class="field-error" role="alert" data-error-for=${name} hidden=${!errors[name]}>${errors[name]}</div>
  </div>`;

  let body;
  if (status === 'checking') body = html`<p class="muted">Checking the install link…</p>`;
  else if (status === 'dead')
    body = html`<div class="install-dead">
      <p class="form-error" role="alert">This install link is invalid, expired or already used.</p>
      <p class="help">Restart <code>oxbase serve</code> for a new link while there is no superuser, or run <code>oxbase superuser upsert EMAIL PASS</code>.</p>
      <a class="btn btn-secondary btn-block" href="#/">Go to the login page</a>
    </div>`;
  else
    body = html`<form class="install-form" onSubmit=${submit} novalidate>
      <p class="help">Create your first superuser account. This link works once.</p>
      ${input('email', 'Email', 'email', 'username')}
      ${input('password', 'Password', 'password', 'new-password')}
      ${input('passwordConfirm', 'Password confirm', 'password', 'new-password')}
      <div class="form-error" role="alert" hidden=${!formError}>${formError}</div>
      <button type="submit" id="install-submit" class="btn btn-primary btn-block" disabled=${busy}>Create superuser and log in</button>
    </form>`;

  return html`<div class="login-page">
    <div class="login-card">
      <div class="login-brand"><span class="logo">ox</span><span>oxbase</span></div>
      <h1 class="login-title">Set up your oxbase instance</h1>
      ${body}
    </div>
  </div>`;
}
