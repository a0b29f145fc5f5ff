// Record form inputs, one component per field type, generated from a collection's fields.
// A form keeps each field's value in its "form" shape (`toForm`), which `fromForm` turns
// back into what the API takes (it may throw FieldError).
import { html, useState, useEffect, useRef, useMemo, nextId, lazy } from '../lib.js';
import { pb, findCollection } from '../api.js';

// The JSON, geoPoint and rich-text editors load with the first record form that needs them,
// not with the list (the first-load budget).
const loadEditors = () => import('./field-editors.js');

export const GEO_RANGE = { lon: [-180, 180], lat: [-90, 90] };

/** The error of one coordinate as typed ('' when fine; empty counts as 0). */
export function geoProblem(k, text) {
  const [min, max] = GEO_RANGE[k];
  const what = k === 'lon' ? 'Longitude' : 'Latitude';
  const n = Number(text); // empty is 0, as in PocketBase's input
  if (!Number.isFinite(n) || n < min || n > max) return `${what} must be between ${min} and ${max}.`;
  return '';
}

/** Fields that get an input in the record form (system-managed ones are skipped). */
export function formFields(collection, { isNew = true } = {}) {
  return (collection.fields || []).filter((f) => {
    if (!isNew && f.name === 'id') return false; // shown in the record's meta block
    if (f.type === 'autodate') return false;
    if (f.type === 'password') return false; // handled separately (auth collections)
    if (collection.type === 'auth' && f.name === 'tokenKey') return false;
    return true;
  });
}

/** Fields shown as table columns. */
export function tableFields(collection) {
  const fields = (collection.fields || []).filter((f) => f.type !== 'password' && !(collection.type === 'auth' && f.name === 'tokenKey'));
  const id = fields.filter((f) => f.name === 'id');
  const auto = fields.filter((f) => f.type === 'autodate');
  const rest = fields.filter((f) => f.name !== 'id' && f.type !== 'autodate');
  return [...id, ...rest, ...auto];
}

const multi = (f) => (f.maxSelect || 0) > 1;
const asList = (v) => (Array.isArray(v) ? v : v ? [v] : []);

// PocketBase datetimes are "YYYY-MM-DD HH:MM:SS.sssZ" (UTC); <input type=datetime-local> wants "YYYY-MM-DDTHH:MM:SS".
export function toLocalInput(v) {
  if (!v) return '';
  const m = String(v).match(/^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)/);
  return m ? `${m[1]}T${m[2].length === 5 ? m[2] + ':00' : m[2]}` : '';
}

export function fromLocalInput(v) {
  if (!v) return '';
  const [d, t = '00:00:00'] = v.split('T');
  return `${d} ${t.length === 5 ? t + ':00' : t}.000Z`;
}

export class FieldError extends Error {}

/** A stored value as the form edits it. */
export function toForm(field, value) {
  switch (field.type) {
    case 'json':
      return value === undefined || value === null ? '' : JSON.stringify(value, null, 2);
    case 'date':
      return toLocalInput(value);
    case 'relation':
      return asList(value);
    case 'select':
      return multi(field) ? asList(value) : (Array.isArray(value) ? value[0] : value) || '';
    case 'file':
      return { keep: asList(value), removed: [], added: [] };
    case 'geoPoint':
      return value && typeof value === 'object' ? { lon: String(value.lon ?? 0), lat: String(value.lat ?? 0) } : { lon: '0', lat: '0' };
    case 'bool':
      return !!value;
    default:
      return value ?? '';
  }
}

/**
 * The request body entries of one field from its form value (none: leave it out). Files go
 * as PocketBase's modifiers: `name+` appends new files (`name` replaces a single file),
 * `name-` removes stored ones; the SDK sends a body holding File objects as multipart.
 */
export function fromForm(field, v, { isNew }) {
  const name = field.name;
  switch (field.type) {
    case 'json': {
      const t = String(v).trim();
      if (!t) return { [name]: null };
      try {
        return { [name]: JSON.parse(t) };
      } catch {
        throw new FieldError('Invalid JSON.');
      }
    }
    case 'date':
      return { [name]: fromLocalInput(v) };
    case 'geoPoint': {
      const problem = geoProblem('lon', v.lon) || geoProblem('lat', v.lat);
      if (problem) throw new FieldError(problem);
      return { [name]: { lon: Number(v.lon), lat: Number(v.lat) } };
    }
    case 'number':
      return { [name]: v === '' || v === null ? null : Number(v) };
    case 'relation':
      return { [name]: multi(field) ? v : v[0] || '' };
    case 'file': {
      const out = {};
      if (v.removed.length) out[`${name}-`] = v.removed;
      if (v.added.length) out[multi(field) ? `${name}+` : name] = multi(field) ? v.added : v.added[0];
      return out;
    }
    case 'email':
    case 'url':
      return { [name]: String(v).trim() };
    default: {
      const isId = name === 'id' && field.primaryKey !== false;
      if (isId && (!isNew || v === '')) return {};
      return { [name]: v };
    }
  }
}

// ---- presentation ----------------------------------------------------------------------

/** A record's presentable text: its presentable fields, else a name-like field, else its id. */
export function presentable(rec, collection) {
  if (!rec) return '';
  const fields = (collection?.fields || []).filter((f) => f.presentable && !f.hidden);
  const vals = fields.map((f) => rec[f.name]).filter((v) => v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && !v.length));
  if (vals.length) return vals.map((v) => (Array.isArray(v) ? v.join(', ') : String(v))).join(' · ');
  for (const k of ['name', 'title', 'username', 'email', 'label', 'slug']) if (rec[k]) return String(rec[k]);
  return rec.id;
}

const IMAGE = /\.(png|jpe?g|gif|webp|avif|bmp|svg)$/i;
export const isImage = (name) => IMAGE.test(name);

/** A file's URL; thumbnails for images (`thumb`), a file token for protected files. */
export function fileURL(rec, name, { thumb = '', token = '' } = {}) {
  const q = {};
  if (thumb && isImage(name) && !/\.svg$/i.test(name)) q.thumb = thumb;
  if (token) q.token = token;
  return pb.files.getURL(rec, name, q);
}

let fileToken = null; // {token, at}
/** A file token for protected files (valid a few minutes; reused for one minute). */
export async function getFileToken() {
  if (fileToken && Date.now() - fileToken.at < 60_000) return fileToken.token;
  const token = await pb.files.getToken();
  fileToken = { token, at: Date.now() };
  return token;
}

export function useFileToken(needed) {
  const [token, setToken] = useState(needed ? null : '');
  useEffect(() => {
    if (needed) getFileToken().then(setToken, () => setToken(''));
  }, [needed]);
  return token;
}

// ---- inputs -------------------------------------------------------------------------------

/** One field of the record form: label, input, help and error. */
export function FieldRow({ field, value, onChange, error, isNew, readOnly, record }) {
  const [id] = useState(() => nextId('field'));
  const inline = field.type === 'bool';
  const Input = INPUTS[field.type] || TextInput;
  const hint = hintOf(field, isNew);
  const label = html`<label class="field-label" for=${id}>
    <span class="field-type" title=${field.type}>${typeIcon(field.type)}</span>
    <span>${field.name}</span>
    ${field.required && !(field.name === 'id' && isNew) ? html`<span class="required" title="required">*</span>` : null}
    ${hint ? html`<span class="field-hint">${hint}</span>` : null}
  </label>`;
  const input = html`<${Input} id=${id} field=${field} value=${value} onChange=${onChange} isNew=${isNew} readOnly=${readOnly} record=${record} />`;
  const err = html`<div class="field-error" role="alert" data-error-for=${field.name} hidden=${!error}>${error}</div>`;
  return inline
    ? html`<div class=${error ? 'field field-inline has-error' : 'field field-inline'} data-field=${field.name}>${input}${label}${err}</div>`
    : html`<div class=${error ? 'field has-error' : 'field'} data-field=${field.name}>${label}${input}${field.help ? html`<div class="help">${field.help}</div>` : null}${err}</div>`;
}

function hintOf(field, isNew) {
  if (field.type === 'date') return 'UTC';
  if (field.type === 'select' && multi(field)) return `up to ${field.maxSelect}`;
  if (field.type === 'relation') return `→ ${findCollection(field.collectionId)?.name || field.collectionId}`;
  if (field.type === 'file') return `${multi(field) ? `up to ${field.maxSelect} files` : '1 file'}${field.protected ? ', protected' : ''}`;
  if (field.name === 'id' && !isNew) return 'read only';
  return '';
}

const onValue = (onChange) => (e) => onChange(e.target.value);

function TextInput({ id, field, value, onChange, isNew, readOnly }) {
  const isId = field.name === 'id' && field.primaryKey !== false;
  return html`<input id=${id} type="text" name=${field.name} value=${value} disabled=${readOnly || (isId && !isNew)} autocomplete="off"
    placeholder=${isId && isNew ? 'Leave empty to auto generate' : undefined} spellcheck=${isId ? 'false' : undefined} onInput=${onValue(onChange)} />`;
}

const INPUTS = {
  bool: ({ id, field, value, onChange, readOnly }) =>
    html`<input id=${id} type="checkbox" name=${field.name} checked=${value} disabled=${readOnly} onChange=${(e) => onChange(e.target.checked)} />`,
  number: ({ id, field, value, onChange, readOnly }) =>
    html`<input id=${id} type="number" name=${field.name} step=${field.onlyInt ? '1' : 'any'} value=${value ?? ''} disabled=${readOnly} min=${field.min ?? undefined} max=${field.max ?? undefined} onInput=${onValue(onChange)} />`,
  email: ({ id, field, value, onChange, readOnly }) =>
    html`<input id=${id} type="email" name=${field.name} value=${value} disabled=${readOnly} autocomplete="off" onInput=${onValue(onChange)} />`,
  url: ({ id, field, value, onChange, readOnly }) =>
    html`<input id=${id} type="url" name=${field.name} value=${value} disabled=${readOnly} placeholder="https://…" onInput=${onValue(onChange)} />`,
  date: ({ id, field, value, onChange, readOnly }) =>
    html`<input id=${id} type="datetime-local" step="1" name=${field.name} value=${value} disabled=${readOnly} onInput=${onValue(onChange)} />`,
  json: lazy(loadEditors, 'JsonEditor'),
  editor: lazy(loadEditors, 'RichTextEditor'),
  select: SelectInput,
  relation: RelationPicker,
  file: FileInput,
  geoPoint: lazy(loadEditors, 'GeoPointInput'),
};

function SelectInput({ id, field, value, onChange, readOnly }) {
  const values = field.values || [];
  if (!multi(field)) {
    return html`<select id=${id} name=${field.name} disabled=${readOnly} value=${value} onChange=${onValue(onChange)}>
      <option value="">— none —</option>
      ${values.map((v) => html`<option value=${v}>${v}</option>`)}
    </select>`;
  }
  const toggle = (v, on) => onChange(on ? [...value.filter((x) => x !== v), v] : value.filter((x) => x !== v));
  return html`<div class="choice-group" id=${id} role="group" data-name=${field.name}>
    ${values.map((v) => html`<label class="choice"><input type="checkbox" value=${v} checked=${value.includes(v)} disabled=${readOnly} onChange=${(e) => toggle(v, e.target.checked)} /><span>${v}</span></label>`)}
  </div>`;
}

// ---- relation picker ---------------------------------------------------------------------

/**
 * Picks related records by searching the target collection: the chosen ones show their
 * presentable fields; typing searches the target's text fields.
 */
function RelationPicker({ id, field, value, onChange, readOnly, record }) {
  const target = findCollection(field.collectionId);
  const [labels, setLabels] = useState(() => {
    const out = {};
    const ex = record?.expand?.[field.name];
    for (const r of asList(ex)) out[r.id] = presentable(r, target);
    return out;
  });
  const [q, setQ] = useState('');
  const [results, setResults] = useState(null);
  const [open, setOpen] = useState(false);
  const seq = useRef(0);

  // Labels of chosen ids not known yet (e.g. a record opened without expand).
  useEffect(() => {
    const missing = value.filter((v) => !(v in labels));
    if (!target || !missing.length) return;
    const filter = missing.map((v) => `id=${JSON.stringify(v)}`).join(' || ');
    pb.collection(target.name)
      .getList(1, missing.length, { filter })
      .then((res) => setLabels((l) => ({ ...l, ...Object.fromEntries(res.items.map((r) => [r.id, presentable(r, target)])) })))
      .catch(() => {});
  }, [value.join(',')]);

  async function search(term) {
    if (!target) return;
    const my = ++seq.current;
    const t = term.trim();
    const textual = (target.fields || []).filter((f) => ['text', 'email', 'url', 'editor', 'select'].includes(f.type) && !f.hidden).map((f) => f.name);
    const filter = t ? [...new Set(['id', ...textual])].map((n) => `${n}~${JSON.stringify(t)}`).join(' || ') : '';
    try {
      const res = await pb.collection(target.name).getList(1, 10, { filter, sort: target.fields?.some((f) => f.name === 'created') ? '-created' : '' });
      if (my === seq.current) setResults(res.items);
    } catch {
      if (my === seq.current) setResults([]);
    }
  }
  useEffect(() => {
    if (!open) return;
    const t = setTimeout(() => search(q), 150);
    return () => clearTimeout(t);
  }, [q, open]);

  function pick(r) {
    setLabels((l) => ({ ...l, [r.id]: presentable(r, target) }));
    if (multi(field)) {
      if (!value.includes(r.id)) onChange([...value, r.id].slice(-field.maxSelect));
    } else {
      onChange([r.id]);
      setOpen(false);
    }
    setQ('');
  }
  const remove = (v) => onChange(value.filter((x) => x !== v));

  return html`<div class="relation-picker" id=${id} data-name=${field.name}>
    <div class="chips">
      ${value.map((v) => html`<span class="chip relation-chip" data-id=${v} title=${v}>${labels[v] || v}
        ${readOnly ? null : html`<button type="button" class="chip-remove" aria-label=${`Remove ${labels[v] || v}`} onClick=${() => remove(v)}>✕</button>`}</span>`)}
      ${!value.length ? html`<span class="muted">None</span>` : null}
    </div>
    ${readOnly || !target
      ? null
      : html`<div class="relation-search">
          <input type="search" class="relation-query" name=${`${field.name}-search`} placeholder=${`Search ${target.name}…`} aria-label=${`Search ${target.name}`} autocomplete="off"
            value=${q} onFocus=${() => setOpen(true)} onInput=${(e) => (setQ(e.target.value), setOpen(true))}
            onKeyDown=${(e) => e.key === 'Escape' && open && (e.stopPropagation(), setOpen(false))} />
          ${open && results
            ? html`<ul class="relation-results" role="listbox" aria-label=${`${target.name} records`}>
                ${results.length
                  ? results.map((r) => html`<li role="option" aria-selected=${String(value.includes(r.id))}>
                      <button type="button" class="relation-option" data-id=${r.id} onClick=${() => pick(r)}>
                        <span>${presentable(r, target)}</span><code class="muted">${r.id}</code>
                      </button></li>`)
                  : html`<li class="muted">No records found.</li>`}
              </ul>`
            : null}
        </div>`}
  </div>`;
}

// ---- files ----------------------------------------------------------------------------------

/** Upload (picker or drag and drop), previews and thumbnails, removal of stored files. */
function FileInput({ id, field, value, onChange, readOnly, record }) {
  const [over, setOver] = useState(false);
  const token = useFileToken(!!field.protected && !!record);
  const inputEl = useRef(null);
  const previews = useMemo(() => value.added.map((f) => (f.type.startsWith('image/') ? URL.createObjectURL(f) : '')), [value.added]);
  useEffect(() => () => previews.forEach((u) => u && URL.revokeObjectURL(u)), [previews]);
  const max = field.maxSelect || 1;

  function add(files) {
    const list = [...files];
    if (!list.length) return;
    if (max <= 1) onChange({ keep: [], removed: [...value.removed, ...value.keep], added: [list[0]] });
    else onChange({ ...value, added: [...value.added, ...list] });
  }
  const removeStored = (name) => onChange({ ...value, keep: value.keep.filter((n) => n !== name), removed: [...value.removed, name] });
  const restore = (name) => onChange({ ...value, keep: [...value.keep, name], removed: value.removed.filter((n) => n !== name) });
  const removeAdded = (i) => onChange({ ...value, added: value.added.filter((_, j) => j !== i) });

  const stored = (name, removed) => {
    const ready = !field.protected || token !== null;
    const href = record && ready ? fileURL(record, name, { token }) : null;
    return html`<li class=${removed ? 'file-item removed' : 'file-item'} data-file=${name}>
      ${isImage(name) && href
        ? html`<img class="file-thumb" src=${fileURL(record, name, { thumb: '100x100', token })} alt=${name} loading="lazy" />`
        : html`<span class="file-icon" aria-hidden="true">⊡</span>`}
      ${href ? html`<a class="file-name" href=${href} target="_blank" rel="noopener">${name}</a>` : html`<span class="file-name">${name}</span>`}
      ${readOnly
        ? null
        : removed
          ? html`<button type="button" class="btn btn-ghost btn-small" onClick=${() => restore(name)}>Restore</button>`
          : html`<button type="button" class="btn btn-icon btn-danger-ghost file-remove" aria-label=${`Remove ${name}`} title="Remove" onClick=${() => removeStored(name)}>✕</button>`}
    </li>`;
  };

  return html`<div class="file-input" id=${id} data-name=${field.name}>
    <ul class="file-list">
      ${value.keep.map((n) => stored(n, false))}
      ${value.removed.map((n) => stored(n, true))}
      ${value.added.map(
        (f, i) => html`<li class="file-item added" data-file=${f.name}>
          ${previews[i] ? html`<img class="file-thumb" src=${previews[i]} alt=${f.name} />` : html`<span class="file-icon" aria-hidden="true">⊡</span>`}
          <span class="file-name">${f.name}</span><span class="muted">new</span>
          <button type="button" class="btn btn-icon btn-danger-ghost" aria-label=${`Remove ${f.name}`} onClick=${() => removeAdded(i)}>✕</button>
        </li>`,
      )}
    </ul>
    ${readOnly
      ? null
      : html`<div class=${over ? 'dropzone over' : 'dropzone'}
          onDragOver=${(e) => (e.preventDefault(), setOver(true))} onDragLeave=${() => setOver(false)}
          onDrop=${(e) => (e.preventDefault(), setOver(false), add(e.dataTransfer.files))}>
          <span>Drop files here or</span>
          <button type="button" class="btn btn-secondary btn-small" onClick=${() => inputEl.current.click()}>Choose ${max > 1 ? 'files' : 'a file'}</button>
          <input ref=${inputEl} type="file" name=${field.name} hidden multiple=${max > 1} accept=${(field.mimeTypes || []).join(',') || undefined}
            onChange=${(e) => (add(e.target.files), (e.target.value = ''))} />
        </div>`}
  </div>`;
}

export function typeIcon(type) {
  return (
    {
      text: 'T',
      number: '#',
      bool: '◩',
      email: '@',
      url: '↗',
      date: '◷',
      autodate: '◔',
      select: '☰',
      relation: '⇄',
      json: '{}',
      editor: '¶',
      file: '⊡',
      password: '⚷',
      geoPoint: '⊕',
    }[type] || '•'
  );
}
