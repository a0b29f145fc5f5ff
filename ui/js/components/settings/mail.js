// Settings / Mail: the sender, the SMTP server, and a test email through the saved settings.
import { html, useState } from '../../lib.js';
import { pb, errorMessage, fieldErrors, useCollections } from '../../api.js';
import { openDialog, toast, DialogActions } from '../overlays.js';
import { useSettingsForm, SettingsForm, Text, Num, Toggle, Choice, Group } from './form.js';

export const TEMPLATES = [
  ['verification', 'Verification'],
  ['password-reset', 'Password reset'],
  ['email-change', 'Confirm email change'],
  ['otp', 'One-time password'],
  ['login-alert', 'Login alert'],
];

export default function Mail() {
  const form = useSettingsForm(['meta', 'smtp']);
  const test = html`<button type="button" class="btn btn-secondary" id="mail-test" onClick=${() => openTestEmail({ dirty: form.dirty })}>✉ Send test email</button>`;
  return html`<div class="card"><${SettingsForm} form=${form} id="settings-mail" extraActions=${test}>
    <div class="grid-2">
      <${Text} form=${form} path="meta.senderName" label="Sender name" />
      <${Text} form=${form} path="meta.senderAddress" label="Sender address" type="email" />
    </div>
    <${Toggle} form=${form} path="smtp.enabled" label="Use an SMTP mail server" help="Else mail goes through the local sendmail command." />
    ${form.draft?.smtp?.enabled
      ? html`<${Group} title="SMTP server">
          <div class="grid-3">
            <${Text} form=${form} path="smtp.host" label="Host" />
            <${Num} form=${form} path="smtp.port" label="Port" />
            <${Choice} form=${form} path="smtp.tls" label="TLS" options=${[[false, 'Auto (STARTTLS)'], [true, 'Always (implicit TLS)']]} />
          </div>
          <div class="grid-2">
            <${Text} form=${form} path="smtp.username" label="Username" />
            <${Text} form=${form} path="smtp.password" label="Password" type="password" placeholder="unchanged" />
          </div>
          <div class="grid-2">
            <${Choice} form=${form} path="smtp.authMethod" label="Auth method" options=${[['', 'PLAIN (default)'], ['PLAIN', 'PLAIN'], ['LOGIN', 'LOGIN']]} />
            <${Text} form=${form} path="smtp.localName" label="EHLO/HELO domain" placeholder="localhost" />
          </div>
        </${Group}>`
      : null}
  </${SettingsForm}></div>`;
}

/** The test-email dialog: a template of an auth collection sent to an address. */
export function openTestEmail({ dirty = false, collection = '_superusers', template = 'verification' } = {}) {
  openDialog('Send a test email', (close) => html`<${TestEmail} close=${close} dirty=${dirty} collection=${collection} template=${template} />`);
}

function TestEmail({ close, dirty, collection: initialCollection, template: initialTemplate }) {
  const auth = useCollections().filter((c) => c.type === 'auth');
  const [email, setEmail] = useState(pb.authStore.record?.email || '');
  const [template, setTemplate] = useState(initialTemplate);
  const [collection, setCollection] = useState(initialCollection);
  const [errors, setErrors] = useState({});
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function send(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    setErrors({});
    try {
      await pb.send('/api/settings/test/email', { method: 'POST', body: { email: email.trim(), template, collection } });
      toast('The test email was sent.');
      close();
    } catch (err) {
      setErrors(fieldErrors(err));
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }
  return html`<form class="dialog-form" id="test-email-form" novalidate onSubmit=${send}>
    ${dirty ? html`<p class="help warn">The test uses the saved settings: save your changes first.</p>` : null}
    <div class=${errors.email ? 'field has-error' : 'field'}>
      <label class="field-label" for="test-email-to">To</label>
      <input id="test-email-to" name="email" type="email" value=${email} onInput=${(e) => setEmail(e.target.value)} ref=${(el) => el && !el.dataset.focused && ((el.dataset.focused = 1), el.focus())} />
      <div class="field-error" data-error-for="email" hidden=${!errors.email}>${errors.email}</div>
    </div>
    <div class="grid-2">
      <div class="field">
        <label class="field-label" for="test-email-template">Template</label>
        <select id="test-email-template" value=${template} onChange=${(e) => setTemplate(e.target.value)}>${TEMPLATES.map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select>
      </div>
      <div class="field">
        <label class="field-label" for="test-email-collection">Auth collection</label>
        <select id="test-email-collection" value=${collection} onChange=${(e) => setCollection(e.target.value)}>
          ${(auth.length ? auth : [{ name: collection }]).map((c) => html`<option value=${c.name}>${c.name}</option>`)}
        </select>
      </div>
    </div>
    <${DialogActions} close=${close} error=${error} busy=${busy} id="test-email-send" label="Send" busyLabel="Sending…" />
  </form>`;
}
