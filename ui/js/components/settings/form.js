// What every settings screen shares: the settings loaded once per screen, a draft of the
// sections the screen edits, the save (PATCH /api/settings with those sections only), field
// errors by dotted path (`smtp.host`), and small labelled inputs bound to a path of the draft.
import { html, useState, useEffect, useRef } from '../../lib.js';
import { pb, errorMessage, fieldErrors, setAppMeta } from '../../api.js';
import { toast } from '../overlays.js';

export const getPath = (obj, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);

export function setPath(obj, path, value) {
  const [k, ...rest] = path.split('.');
  const copy = Array.isArray(obj) ? [...obj] : { ...(obj || {}) };
  copy[k] = rest.length ? setPath(copy[k], rest.join('.'), value) : value;
  return copy;
}

const pick = (s, sections) => Object.fromEntries(sections.map((k) => [k, structuredClone(s?.[k])]));
const inputId = (path) => `set-${path.replace(/\./g, '-')}`;

/**
 * The state of one settings form over `sections` (top-level keys of the settings). Secrets the
 * server never sends back (`smtp.password`, `s3.secret`...) are absent from the draft until
 * typed, so an untouched secret is kept.
 */
export function useSettingsForm(sections) {
  const [saved, setSaved] = useState(null);
  const [draft, setDraft] = useState(null);
  const [errors, setErrors] = useState({});
  const [formError, setFormError] = useState('');
  const [loadError, setLoadError] = useState('');
  const [busy, setBusy] = useState(false);
  const known = useRef(new Set()).current; // paths with an input on screen

  useEffect(() => {
    let alive = true;
    pb.send('/api/settings', {}).then(
      (s) => alive && (setSaved(pick(s, sections)), setDraft(pick(s, sections))),
      (err) => alive && setLoadError(errorMessage(err)),
    );
    return () => (alive = false);
  }, []);

  async function save() {
    setFormError('');
    setErrors({});
    setBusy(true);
    try {
      const res = await pb.send('/api/settings', { method: 'PATCH', body: draft });
      setSaved(pick(res, sections));
      setDraft(pick(res, sections));
      setAppMeta(res.meta || {});
      toast('Settings saved.');
      return true;
    } catch (err) {
      const fe = fieldErrors(err);
      setErrors(fe);
      const elsewhere = Object.entries(fe).filter(([k]) => !known.has(k) && ![...known].some((p) => k.startsWith(p + '.')));
      setFormError([errorMessage(err), ...elsewhere.map(([k, m]) => `${k}: ${m}`)].join(' — '));
      return false;
    } finally {
      setBusy(false);
    }
  }

  return {
    draft,
    saved,
    errors,
    formError,
    loadError,
    busy,
    known,
    dirty: JSON.stringify(draft) !== JSON.stringify(saved),
    get: (path) => getPath(draft, path),
    set: (path, value) => setDraft((d) => setPath(d, path, value)),
    reset: () => (setDraft(structuredClone(saved)), setErrors({}), setFormError('')),
    save,
  };
}

/** The frame of a settings form: loading, errors, and the Save / Reset buttons. */
export function SettingsForm({ form, id, children, extraActions = null }) {
  if (form.loadError) return html`<div class="form-error" role="alert">${form.loadError}</div>`;
  if (!form.draft) return html`<p class="muted">Loading…</p>`;
  return html`<form class="settings-form" id=${id} novalidate onSubmit=${(e) => (e.preventDefault(), form.save())}>
    ${children}
    <div class="form-error" role="alert" hidden=${!form.formError}>${form.formError}</div>
    <div class="form-actions">
      ${extraActions}
      <button type="button" class="btn btn-ghost" disabled=${!form.dirty || form.busy} onClick=${form.reset}>Reset</button>
      <button type="submit" class="btn btn-primary" id="settings-save" disabled=${form.busy}>Save changes</button>
    </div>
  </form>`;
}

function Wrap({ form, path, label, help, inline = false, children }) {
  form.known.add(path);
  const err = form.errors[path] || Object.entries(form.errors).find(([k]) => k.startsWith(path + '.'))?.[1];
  return html`<div class=${`field${inline ? ' field-inline' : ''}${err ? ' has-error' : ''}`}>
    ${inline ? children : html`<label class="field-label" for=${inputId(path)}>${label}</label>${children}`}
    ${help ? html`<div class="help">${help}</div>` : null}
    <div class="field-error" role="alert" data-error-for=${path} hidden=${!err}>${err}</div>
  </div>`;
}

/** A text input (`type` text, url, email, password...). */
export function Text({ form, path, label, help, type = 'text', placeholder = '' }) {
  return html`<${Wrap} form=${form} path=${path} label=${label} help=${help}>
    <input id=${inputId(path)} name=${path.split('.').pop()} type=${type} autocomplete=${type === 'password' ? 'new-password' : 'off'} spellcheck="false"
      placeholder=${placeholder} value=${form.get(path) ?? ''} onInput=${(e) => form.set(path, e.target.value)} />
  </${Wrap}>`;
}

/** A number input (kept a number; empty is 0). */
export function Num({ form, path, label, help, min = 0, step = 1 }) {
  return html`<${Wrap} form=${form} path=${path} label=${label} help=${help}>
    <input id=${inputId(path)} name=${path.split('.').pop()} type="number" min=${min} step=${step} value=${form.get(path) ?? 0}
      onInput=${(e) => form.set(path, e.target.value === '' ? 0 : Number(e.target.value))} />
  </${Wrap}>`;
}

/** A checkbox. */
export function Toggle({ form, path, label, help }) {
  return html`<${Wrap} form=${form} path=${path} help=${help} inline>
    <label class="check"><input id=${inputId(path)} name=${path.split('.').pop()} type="checkbox" checked=${!!form.get(path)} onChange=${(e) => form.set(path, e.target.checked)} /> ${label}</label>
  </${Wrap}>`;
}

/** A select over `[value, label]` options. */
export function Choice({ form, path, label, help, options, onPick }) {
  const pick = onPick || ((text) => form.set(path, asTypeOf(form.get(path), text)));
  return html`<${Wrap} form=${form} path=${path} label=${label} help=${help}>
    <select id=${inputId(path)} name=${path.split('.').pop()} value=${String(form.get(path) ?? '')}
      onChange=${(e) => pick(e.target.value)}>
      ${options.map(([v, l]) => html`<option value=${String(v)}>${l}</option>`)}
    </select>
  </${Wrap}>`;
}

/** `text` as the type of `current` (a select's value is always text). */
const asTypeOf = (current, text) => (typeof current === 'number' ? Number(text) : typeof current === 'boolean' ? text === 'true' : text);

/** A list of strings typed comma separated. */
export function List({ form, path, label, help, placeholder = '' }) {
  const value = form.get(path) || [];
  const [text, setText] = useState(value.join(', '));
  // A reset or a save from outside: show the new list.
  useEffect(() => {
    if (parseList(text).join(',') !== value.join(',')) setText(value.join(', '));
  }, [value.join(',')]);
  return html`<${Wrap} form=${form} path=${path} label=${label} help=${help}>
    <input id=${inputId(path)} name=${path.split('.').pop()} type="text" autocomplete="off" spellcheck="false" placeholder=${placeholder}
      value=${text} onInput=${(e) => (setText(e.target.value), form.set(path, parseList(e.target.value)))} />
  </${Wrap}>`;
}

const parseList = (s) => s.split(/[,\n]/).map((x) => x.trim()).filter(Boolean);

/** A titled group of a form. */
export function Group({ title, help, children, open = true }) {
  return html`<details class="settings-group" open=${open}>
    <summary>${title}</summary>
    ${help ? html`<p class="help">${help}</p>` : null}
    <div class="settings-group-body">${children}</div>
  </details>`;
}

/** "1.2 MB" */
export function formatBytes(n) {
  if (!Number.isFinite(n)) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) (n /= 1024), i++;
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}
