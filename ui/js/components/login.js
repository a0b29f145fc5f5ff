// Superuser login screen (a password, a mailed one-time code, or both when MFA asks for a
// second factor), its "Forgot password?" form, and the page a password reset link
// opens (`#/auth/confirm-password-reset/<token>`, the link of PocketBase's reset email, for
// any auth collection: the token names its collection).
import { html, useState, useEffect, useRef } from '../lib.js';
import { pb, errorMessage } from '../api.js';

/**
 * A form's submission state: `run(work)` clears the error, marks the form busy while `work`
 * runs, and shows what it throws (through `explain`, else the API's message).
 */
function useSubmit() {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function run(work, explain = errorMessage) {
    setError('');
    setBusy(true);
    try {
      await work();
    } catch (err) {
      setError(explain(err));
    } finally {
      setBusy(false);
    }
  }
  return { error, setError, busy, run };
}

const Brand = () => html`<div class="login-brand"><span class="logo">ox</span><span>oxbase</span></div>`;

export function Login({ onLoggedIn }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { error, setError, busy, run } = useSubmit();
  const [forgot, setForgot] = useState(false);
  // A one-time code mailed: {otpId, mfaId} (mfaId when it is the second factor of a password).
  const [otp, setOtp] = useState(null);
  const [otpEnabled, setOtpEnabled] = useState(false);
  const emailEl = useRef(null);
  const passwordEl = useRef(null);
  useEffect(() => emailEl.current?.focus(), [forgot]);
  useEffect(() => {
    pb.collection('_superusers')
      .listAuthMethods()
      .then((m) => setOtpEnabled(!!m?.otp?.enabled))
      .catch(() => {});
  }, []);

  /** Mails a one-time code to the address typed (the answer is the same for unknown ones). */
  async function sendCode(mfaId = '') {
    const { otpId } = await pb.collection('_superusers').requestOTP(email.trim());
    setOtp({ otpId, mfaId });
  }

  const submit = (e) => {
    e.preventDefault();
    run(async () => {
      try {
        await pb.collection('_superusers').authWithPassword(email.trim(), password);
      } catch (err) {
        // The password was right, but a second factor is needed: a mailed code
        // (a failure to mail it is told as such, not as a wrong password).
        if (err.status === 401 && err.response?.mfaId) {
          return sendCode(err.response.mfaId).catch((otpErr) => {
            throw new Error(errorMessage(otpErr));
          });
        }
        passwordEl.current?.select();
        throw err;
      }
      onLoggedIn?.();
    }, (err) => (err.status === 400 || err.status === 401 ? 'Invalid email or password.' : errorMessage(err)));
  };

  const codeInstead = () => emailEl.current?.reportValidity() && run(() => sendCode());

  if (forgot) return html`<${RequestReset} email=${email} setEmail=${setEmail} emailEl=${emailEl} back=${() => setForgot(false)} />`;
  if (otp) return html`<${EnterCode} email=${email} otp=${otp} onLoggedIn=${onLoggedIn} back=${() => setOtp(null)} />`;
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
      ${otpEnabled ? html`<button type="button" class="btn btn-secondary btn-block" id="login-otp" disabled=${busy} onClick=${codeInstead}>Email me a one-time code</button>` : null}
      <button type="button" class="btn btn-ghost btn-block" id="login-forgot" onClick=${() => (setError(''), setForgot(true))}>Forgot password?</button>
    </form>
  </main>`;
}

/** The mailed one-time code: alone, or as the second factor after the password (`mfaId`). */
function EnterCode({ email, otp, onLoggedIn, back }) {
  const [code, setCode] = useState('');
  const { error, busy, run } = useSubmit();
  const codeEl = useRef(null);
  useEffect(() => codeEl.current?.focus(), []);
  const submit = (e) => {
    e.preventDefault();
    run(async () => {
      try {
        await pb.collection('_superusers').authWithOTP(otp.otpId, code.trim(), otp.mfaId ? { mfaId: otp.mfaId } : {});
      } catch (err) {
        codeEl.current?.select();
        throw err;
      }
      onLoggedIn?.();
    }, (err) => (err.status === 400 || err.status === 401 ? 'Invalid or expired code.' : errorMessage(err)));
  };
  return html`<main class="login-page">
    <form class="login-card" id="login-code" onSubmit=${submit}>
      <${Brand} />
      <h1 class="login-title">${otp.mfaId ? 'One more step' : 'One-time code'}</h1>
      <p class="form-ok" role="status">If <strong>${email.trim()}</strong> is a superuser's address, a one-time code was sent to it.</p>
      <div class="field">
        <label for="login-otp-code">Code</label>
        <input id="login-otp-code" ref=${codeEl} type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required value=${code} onInput=${(e) => setCode(e.target.value)} />
      </div>
      <div class="form-error" role="alert" hidden=${!error}>${error}</div>
      <button type="submit" class="btn btn-primary btn-block" disabled=${busy}>${busy ? 'Logging in…' : 'Log in'}</button>
      <button type="button" class="btn btn-ghost btn-block" id="login-code-back" onClick=${back}>Back to login</button>
    </form>
  </main>`;
}

/** "Forgot password?": mails a reset link (the answer is the same for unknown addresses). */
function RequestReset({ email, setEmail, emailEl, back }) {
  const [sent, setSent] = useState(false);
  const { error, busy, run } = useSubmit();
  const submit = (e) => {
    e.preventDefault();
    run(async () => {
      await pb.collection('_superusers').requestPasswordReset(email.trim());
      setSent(true);
    });
  };
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
  const { error, busy, run } = useSubmit();
  const [done, setDone] = useState(false);
  /** The first field error, named as the form names it. */
  const explain = (err) => {
    const fields = err?.response?.data || {};
    const names = { token: 'Link', password: 'Password', passwordConfirm: 'Confirmation' };
    const first = Object.keys(names).find((k) => fields[k]);
    return first ? `${names[first]}: ${fields[first].message}` : errorMessage(err);
  };
  const submit = (e) => {
    e.preventDefault();
    run(async () => {
      await pb.collection(collection).confirmPasswordReset(token, password, confirm);
      setDone(true);
    }, explain);
  };
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
