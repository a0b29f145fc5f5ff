// The "Options" tab of an auth collection in the collection editor: the sign-in methods
// (password and its identity fields, one-time passwords, MFA, OAuth2 with its providers and
// mapped fields), the mail templates (each with a test send) and the token durations. It
// edits the editor's draft in place and calls `changed()`, as the other tabs do.
import { html, useState, useEffect, nextId } from '../lib.js';
import { pb } from '../api.js';
import { ProviderLogo } from './provider-logo.js';

const TOKENS = [
  ['authToken', 'Auth token', 'How long a login lasts.'],
  ['verificationToken', 'Email verification token', ''],
  ['passwordResetToken', 'Password reset token', ''],
  ['emailChangeToken', 'Email change token', ''],
  ['fileToken', 'Protected file access token', ''],
];

const TEMPLATES = [
  ['verificationTemplate', 'Verification', 'verification'],
  ['resetPasswordTemplate', 'Password reset', 'password-reset'],
  ['confirmEmailChangeTemplate', 'Confirm email change', 'email-change'],
];

const get = (obj, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
function put(obj, path, value) {
  const keys = path.split('.');
  const last = keys.pop();
  let node = obj;
  for (const k of keys) node = node[k] ??= {};
  node[last] = value;
}

/** An input bound to `path` of the draft; `type` text, number, checkbox or textarea. */
function Opt({ draft, changed, errors, path, label, type = 'text', help = '', placeholder = '', rows = 6, wide = false }) {
  const [id] = useState(() => nextId('opt'));
  const value = get(draft, path);
  const err = errors[path] || Object.entries(errors).find(([k]) => k.startsWith(path + '.'))?.[1];
  const set = (v) => (put(draft, path, v), changed());
  const attrs = { id, name: path, 'data-path': path, class: err ? 'invalid' : '' };
  let input;
  if (type === 'checkbox') {
    return html`<div class=${err ? 'field field-inline has-error' : 'field field-inline'}>
      <label class="check"><input type="checkbox" ...${attrs} checked=${!!value} onChange=${(e) => set(e.target.checked)} /> ${label}</label>
      ${help ? html`<div class="help">${help}</div>` : null}
      <div class="field-error" data-error-for=${path} hidden=${!err}>${err}</div>
    </div>`;
  }
  if (type === 'textarea') input = html`<textarea ...${attrs} class=${`mono ${attrs.class}`} rows=${rows} spellcheck="false" value=${value ?? ''} onInput=${(e) => set(e.target.value)}></textarea>`;
  else if (type === 'number') input = html`<input ...${attrs} type="number" min="0" value=${value ?? 0} onInput=${(e) => set(e.target.value === '' ? 0 : Number(e.target.value))} />`;
  else input = html`<input ...${attrs} type=${type} autocomplete="off" spellcheck="false" placeholder=${placeholder} value=${value ?? ''} onInput=${(e) => set(e.target.value)} />`;
  return html`<div class=${`field${wide ? ' grow' : ''}${err ? ' has-error' : ''}`}>
    <label class="field-label" for=${id}>${label}</label>
    ${input}
    ${help ? html`<div class="help">${help}</div>` : null}
    <div class="field-error" data-error-for=${path} hidden=${!err}>${err}</div>
  </div>`;
}

export function AuthOptionsTab({ draft, errors, changed, saved }) {
  const p = { draft, changed, errors };
  const textFields = draft.fields.filter((f) => ['text', 'email'].includes(f.type) && f.name !== 'id' && f.name !== 'password' && f.name !== 'tokenKey');
  const identity = draft.passwordAuth?.identityFields || [];
  const toggleIdentity = (name, on) => {
    put(draft, 'passwordAuth.identityFields', on ? [...identity, name] : identity.filter((n) => n !== name));
    changed();
  };
  return html`<div class="auth-options">
    <details class="settings-group" open data-group="password">
      <summary>Password</summary>
      <div class="settings-group-body">
        <${Opt} ...${p} path="passwordAuth.enabled" label="Sign in with an identity and a password" type="checkbox" />
        <div class="field">
          <span class="field-label">Identity fields</span>
          <div class="choice-group" role="group" aria-label="Identity fields">
            ${textFields.map((f) => html`<label class="check"><input type="checkbox" name="identityFields" value=${f.name} checked=${identity.includes(f.name)} onChange=${(e) => toggleIdentity(f.name, e.target.checked)} /> ${f.name}</label>`)}
          </div>
          <div class="help">Each needs a UNIQUE index (Indexes tab).</div>
          <div class="field-error" data-error-for="passwordAuth.identityFields" hidden=${!errors['passwordAuth.identityFields']}>${errors['passwordAuth.identityFields']}</div>
        </div>
      </div>
    </details>
    <details class="settings-group" open=${!!draft.otp?.enabled} data-group="otp">
      <summary>One-time password (OTP)</summary>
      <div class="settings-group-body">
        <${Opt} ...${p} path="otp.enabled" label="Sign in with a one-time password sent by email" type="checkbox" />
        <div class="grid-2">
          <${Opt} ...${p} path="otp.duration" label="Valid for (seconds)" type="number" />
          <${Opt} ...${p} path="otp.length" label="Length" type="number" />
        </div>
        <${MailTemplate} ...${p} path="otp.emailTemplate" template="otp" saved=${saved} />
      </div>
    </details>
    <details class="settings-group" open=${!!draft.mfa?.enabled} data-group="mfa">
      <summary>Multi-factor authentication (MFA)</summary>
      <div class="settings-group-body">
        <${Opt} ...${p} path="mfa.enabled" label="Require a second method after the first" type="checkbox" help="Needs two enabled methods (password, OTP, OAuth2)." />
        <div class="grid-2">
          <${Opt} ...${p} path="mfa.duration" label="Second step within (seconds)" type="number" />
          <${Opt} ...${p} path="mfa.rule" label="Only when (rule)" placeholder="empty: always" help="e.g. @request.context != 'oauth2'" />
        </div>
      </div>
    </details>
    <${OAuth2Options} ...${p} />
    <details class="settings-group" data-group="templates">
      <summary>Mail templates</summary>
      <div class="settings-group-body">
        <p class="help">Placeholders: <code>{APP_NAME}</code> <code>{APP_URL}</code> <code>{TOKEN}</code> <code>{RECORD:fieldName}</code>; the alert also <code>{ALERT_INFO}</code>, the OTP mail <code>{OTP}</code>.</p>
        ${TEMPLATES.map(([key, label, template]) => html`<${MailTemplate} ...${p} path=${key} label=${label} template=${template} saved=${saved} />`)}
        <${Opt} ...${p} path="authAlert.enabled" label="Send a login alert on a login from a new location" type="checkbox" />
        <${MailTemplate} ...${p} path="authAlert.emailTemplate" label="Login alert" template="login-alert" saved=${saved} />
      </div>
    </details>
    <details class="settings-group" data-group="tokens">
      <summary>Tokens</summary>
      <div class="settings-group-body">
        ${TOKENS.map(([key, label, help]) => html`<${TokenRow} ...${p} tokenKey=${key} label=${label} help=${help} />`)}
      </div>
    </details>
  </div>`;
}

function MailTemplate({ draft, changed, errors, path, label = 'Email', template, saved }) {
  const p = { draft, changed, errors };
  return html`<fieldset class="pw-group mail-template" data-template=${template}>
    <legend>${label}</legend>
    <${Opt} ...${p} path=${`${path}.subject`} label="Subject" />
    <${Opt} ...${p} path=${`${path}.body`} label="Body (HTML)" type="textarea" rows="5" />
    <div class="inline-actions">
      <button type="button" class="btn btn-secondary btn-small template-test" disabled=${!saved} title=${saved ? 'Sends the saved template' : 'Save the collection first'}
        onClick=${() => import('./settings/mail.js').then((m) => m.openTestEmail({ collection: draft.name, template }))}>✉ Send test email</button>
    </div>
  </fieldset>`;
}

function TokenRow({ draft, changed, errors, tokenKey, label, help }) {
  const renew = !!draft[tokenKey]?.secret;
  function invalidate(on) {
    const secret = on ? randomSecret() : undefined;
    if (on) put(draft, `${tokenKey}.secret`, secret);
    else delete draft[tokenKey].secret;
    changed();
  }
  return html`<div class="token-row" data-token=${tokenKey}>
    <${Opt} draft=${draft} changed=${changed} errors=${errors} path=${`${tokenKey}.duration`} label=${`${label} duration (seconds)`} type="number" help=${help} />
    <label class="check"><input type="checkbox" name=${`${tokenKey}-invalidate`} checked=${renew} onChange=${(e) => invalidate(e.target.checked)} /> Invalidate every token issued so far (a new secret on save)</label>
  </div>`;
}

function randomSecret() {
  const abc = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Array.from(crypto.getRandomValues(new Uint8Array(50)), (b) => abc[b % abc.length]).join('');
}

let providersCache = null;
/** The named providers the server knows (GET /api/collections/meta/oauth2-providers). */
function useProviders() {
  const [list, setList] = useState(providersCache || []);
  useEffect(() => {
    if (providersCache) return;
    pb.send('/api/collections/meta/oauth2-providers', {}).then((l) => setList((providersCache = l)), () => {});
  }, []);
  return list;
}

function OAuth2Options({ draft, changed, errors }) {
  const p = { draft, changed, errors };
  const known = useProviders();
  const [adding, setAdding] = useState('');
  const providers = draft.oauth2?.providers || [];
  const fields = draft.fields.filter((f) => !f.system || f.name === 'email');
  const available = known.filter((k) => !providers.some((x) => x.name === k.name));
  const info = (name) => known.find((k) => k.name === name) || { name, displayName: name };
  function add() {
    if (!adding) return;
    put(draft, 'oauth2.providers', [...providers, { name: adding, clientId: '', clientSecret: '' }]);
    setAdding('');
    changed();
  }
  const remove = (i) => (put(draft, 'oauth2.providers', providers.filter((_, j) => j !== i)), changed());
  const mapped = (key, label) => html`<label class="opt"><span>${label}</span>
    <select aria-label=${`OAuth2 ${label}`} name=${`oauth2.mappedFields.${key}`} value=${draft.oauth2?.mappedFields?.[key] || ''} onChange=${(e) => (put(draft, `oauth2.mappedFields.${key}`, e.target.value), changed())}>
      <option value="">— none —</option>
      ${fields.map((f) => html`<option value=${f.name}>${f.name}</option>`)}
    </select></label>`;
  return html`<details class="settings-group" open=${!!draft.oauth2?.enabled} data-group="oauth2">
    <summary>OAuth2</summary>
    <div class="settings-group-body">
      <${Opt} ...${p} path="oauth2.enabled" label="Sign in with OAuth2 providers" type="checkbox" />
      <div class="field"><span class="field-label">Provider data into fields</span>
        <div class="field-options flat">${mapped('name', 'name')}${mapped('username', 'username')}${mapped('avatarURL', 'avatar')}${mapped('id', 'id')}</div>
      </div>
      ${providers.map((prov, i) => html`<fieldset class="pw-group oauth2-provider" data-provider=${prov.name} key=${prov.name}>
          <legend><${ProviderLogo} provider=${info(prov.name)} />${info(prov.name).displayName}</legend>
          <div class="grid-2">
            <${Opt} ...${p} path=${`oauth2.providers.${i}.clientId`} label="Client ID" />
            <${Opt} ...${p} path=${`oauth2.providers.${i}.clientSecret`} label="Client secret" type="password" placeholder=${prov.id || prov.clientId ? 'unchanged' : ''} />
          </div>
          <details><summary class="muted">Optional endpoints and display name</summary>
            <div class="grid-2">
              <${Opt} ...${p} path=${`oauth2.providers.${i}.displayName`} label="Display name" />
              <${Opt} ...${p} path=${`oauth2.providers.${i}.authURL`} label="Auth URL" placeholder="the provider's default" />
              <${Opt} ...${p} path=${`oauth2.providers.${i}.tokenURL`} label="Token URL" placeholder="the provider's default" />
              <${Opt} ...${p} path=${`oauth2.providers.${i}.userInfoURL`} label="User info URL" placeholder="the provider's default" />
            </div>
            <${Opt} ...${p} path=${`oauth2.providers.${i}.pkce`} label="PKCE" type="checkbox" />
          </details>
          <div><button type="button" class="btn btn-danger-ghost btn-small" aria-label=${`Remove provider ${info(prov.name).displayName}`} onClick=${() => remove(i)}>Remove provider</button></div>
        </fieldset>`)}
      <div class="add-field">
        <${ProviderSelect} available=${available} value=${adding} onChange=${setAdding} />
        <button type="button" class="btn btn-secondary" id="oauth2-add" disabled=${!adding} onClick=${add}>+ Add provider</button>
      </div>
    </div>
  </details>`;
}

/**
 * The provider picker: a native <select>, whose options show the logos where the browser lets
 * a select's options hold more than text (CSS `appearance: base-select`, Chromium 135+; the
 * button then shows the chosen one's logo through <selectedcontent>). Elsewhere the same
 * markup is a plain select of names: the logos are not text, so each option's label is its name.
 */
function ProviderSelect({ available, value, onChange }) {
  return html`<select id="oauth2-add-provider" class="provider-select" aria-label="Provider to add" value=${value} onChange=${(e) => onChange(e.target.value)}>
    <button type="button" class="provider-select-button"><selectedcontent></selectedcontent></button>
    <option value="">— add a provider —</option>
    ${available.map((k) => html`<option value=${k.name} key=${k.name}>
        <${ProviderLogo} provider=${k} />${k.displayName}${k.displayName.toLowerCase() === k.name ? '' : ` (${k.name})`}
      </option>`)}
  </select>`;
}
