// Application settings: name and URL (PATCH /api/settings {meta: {...}}).
import { html, useState, useEffect } from '../lib.js';
import { pb, errorMessage, fieldErrors } from '../api.js';
import { toast } from './overlays.js';

const ROWS = [
  ['appName', 'Application name', 'text', 'Shown in emails and in the page titles.'],
  ['appURL', 'Application URL', 'url', 'The public address of this server, used in links of emails.'],
];

export function Settings() {
  const [meta, setMeta] = useState(null);
  const [loadError, setLoadError] = useState('');
  const [errors, setErrors] = useState({});
  const [formError, setFormError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let alive = true;
    pb.send('/api/settings', {}).then(
      (s) => alive && setMeta(Object.fromEntries(ROWS.map(([k]) => [k, s.meta?.[k] ?? '']))),
      (err) => alive && setLoadError(errorMessage(err)),
    );
    return () => (alive = false);
  }, []);

  async function submit(e) {
    e.preventDefault();
    setFormError('');
    setErrors({});
    setBusy(true);
    try {
      await pb.send('/api/settings', { method: 'PATCH', body: { meta: Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, v.trim()])) } });
      toast('Settings saved.');
    } catch (err) {
      const fe = fieldErrors(err);
      const mine = {};
      const unmatched = [];
      for (const [k, m] of Object.entries(fe)) {
        const key = k.replace(/^meta\./, '');
        if (ROWS.some(([r]) => r === key)) mine[key] = m;
        else unmatched.push(`${k}: ${m}`);
      }
      setErrors(mine);
      setFormError([errorMessage(err), ...unmatched].join(' — '));
    } finally {
      setBusy(false);
    }
  }

  let body;
  if (loadError) body = html`<div class="form-error" role="alert">${loadError}</div>`;
  else if (!meta) body = html`<p class="muted">Loading…</p>`;
  else
    body = html`<form class="settings-form" novalidate onSubmit=${submit}>
      ${ROWS.map(
        ([key, label, type, help]) => html`<div class=${errors[key] ? 'field has-error' : 'field'}>
          <label class="field-label" for=${`set-${key}`}>${label}</label>
          <input id=${`set-${key}`} name=${key} type=${type} autocomplete="off" spellcheck="false" value=${meta[key]} onInput=${(e) => setMeta({ ...meta, [key]: e.target.value })} />
          <div class="help">${help}</div>
          <div class="field-error" role="alert" data-error-for=${key} hidden=${!errors[key]}>${errors[key]}</div>
        </div>`,
      )}
      <div class="form-error" role="alert" hidden=${!formError}>${formError}</div>
      <div class="form-actions"><button type="submit" class="btn btn-primary" id="settings-save" disabled=${busy}>Save changes</button></div>
    </form>`;

  return html`<div class="page page-narrow">
    <header class="page-header"><div class="page-title"><span class="crumb">Settings</span><span class="crumb-sep">/</span><h1>Application</h1></div></header>
    <div class="card">${body}</div>
  </div>`;
}
