// Records browser of one collection (filter, sort and page kept in the URL), and the record
// create/edit side panel.
import { html, useState, useEffect, useRef, nextId, submitted } from '../lib.js';
import { pb, errorMessage, fieldErrors, findCollection } from '../api.js';
import { Panel, openPanel, confirmDialog, toast } from './overlays.js';
import { formFields, tableFields, FieldRow, FieldError, toForm, fromForm, typeIcon, presentable, fileURL, isImage, useFileToken } from './fields.js';
import { BulkBar } from './records-bulk.js';
import { ColumnChooser, useColumns } from './records-columns.js';
import { useLiveRecords } from './records-live.js';

const PER_PAGE_CHOICES = [20, 40, 100];
const TEXTUAL = new Set(['text', 'email', 'url', 'editor', 'select']);

/** Turns a plain search term into a filter over the textual fields; filters are kept as typed. */
export function normalizeFilter(input, collection) {
  const q = input.trim();
  if (!q) return '';
  if (/[=~<>!]|&&|\|\|/.test(q)) return q;
  const names = (collection.fields || []).filter((f) => TEXTUAL.has(f.type) && !f.hidden).map((f) => f.name);
  if (!names.length) return q;
  const lit = JSON.stringify(q);
  return names.map((n) => `${n}~${lit}`).join(' || ');
}

/** The list query from the URL (`?filter=&sort=&page=&perPage=`), with the defaults. */
function listQuery(params, collection) {
  const hasCreated = (collection.fields || []).some((f) => f.name === 'created');
  const perPage = Number(params.get('perPage')) || 40;
  return {
    filter: params.get('filter') || '',
    sort: params.has('sort') ? params.get('sort') : hasCreated ? '-created' : '',
    page: Math.max(1, Number(params.get('page')) || 1),
    perPage: PER_PAGE_CHOICES.includes(perPage) ? perPage : 40,
  };
}

/** Puts the list query into the URL (a history entry per change; defaults left out). */
function navigate(collection, q) {
  const defaults = listQuery(new URLSearchParams(), collection);
  const p = new URLSearchParams();
  if (q.filter) p.set('filter', q.filter);
  if (q.sort !== defaults.sort) p.set('sort', q.sort);
  if (q.page !== 1) p.set('page', String(q.page));
  if (q.perPage !== defaults.perPage) p.set('perPage', String(q.perPage));
  const s = p.toString();
  location.hash = `#/collections/${encodeURIComponent(collection.name)}${s ? `?${s}` : ''}`;
}

/** Opens the API preview panel; its modules load on the first open (not in the first load). */
async function openApiPreview(collection) {
  try {
    const { ApiPreview } = await import('./api-preview.js');
    openPanel((close) => html`<${ApiPreview} collection=${collection} close=${close} />`);
  } catch (err) {
    toast(errorMessage(err), 'error');
  }
}

export function RecordsPage({ collection, query, onEditCollection }) {
  const isView = collection.type === 'view';
  const allFields = tableFields(collection);
  const columns = useColumns(collection);
  const fields = allFields.filter(columns.isShown);
  const q = listQuery(query, collection);
  const qKey = JSON.stringify(q);
  const [res, setRes] = useState(null);
  const [error, setError] = useState('');
  const [loading, setLoading] = useState(false);
  const [filterText, setFilterText] = useState(q.filter);
  const [reloads, setReloads] = useState(0);
  const [selected, setSelected] = useState([]);
  const seq = useRef(0);
  const liveTimer = useRef(0);
  const hasProtected = fields.some((f) => f.type === 'file' && f.protected);
  const token = useFileToken(hasProtected);

  useEffect(() => setFilterText(q.filter), [q.filter]);
  useEffect(() => setSelected([]), [qKey, collection.name]);
  // Changes made by others (or in another tab) reload the list, a burst of them once.
  useLiveRecords(collection, (e) => {
    if (e.action === 'delete') setSelected((s) => s.filter((id) => id !== e.record?.id));
    clearTimeout(liveTimer.current);
    liveTimer.current = setTimeout(() => setReloads((n) => n + 1), 150);
  }, res !== null);
  useEffect(() => () => clearTimeout(liveTimer.current), []);
  useEffect(() => {
    const on = () => setReloads((n) => n + 1);
    window.addEventListener('collection-saved', on);
    return () => window.removeEventListener('collection-saved', on);
  }, []);

  useEffect(() => {
    const my = ++seq.current;
    setLoading(true);
    const params = { page: q.page, perPage: q.perPage };
    if (q.sort) params.sort = q.sort;
    const filter = normalizeFilter(q.filter, collection);
    if (filter) params.filter = filter;
    // Related records come along, to show their presentable fields instead of ids.
    const expand = allFields.filter((f) => f.type === 'relation').map((f) => f.name).slice(0, 6).join(',');
    if (expand) params.expand = expand;
    pb.send(`/api/collections/${encodeURIComponent(collection.name)}/records`, { query: params })
      .then((r) => {
        if (my !== seq.current) return;
        setError('');
        setRes(r);
      })
      .catch((err) => {
        if (my !== seq.current) return;
        const details = Object.values(fieldErrors(err));
        // PocketBase answers a bad filter with a generic 400 message: say what was wrong.
        const what = err?.status === 400 && (q.filter || q.sort) ? 'Invalid filter or sort: ' : '';
        setError(what + [errorMessage(err), ...details].join(' — '));
      })
      .finally(() => my === seq.current && setLoading(false));
  }, [qKey, reloads]);

  const go = (patch) => navigate(collection, { ...q, ...patch });
  const reload = () => setReloads((n) => n + 1);
  function sortBy(name) {
    const sort = q.sort === name ? `-${name}` : q.sort === `-${name}` ? name : name;
    go({ sort, page: 1 });
  }
  function openRecord(rec) {
    openPanel((close) => html`<${RecordPanel} collection=${collection} record=${rec} readOnly=${isView} close=${close} onSaved=${reload} />`);
  }

  const totalPages = Math.max(1, res?.totalPages || 1);
  return html`<div class="page">
    <header class="page-header">
      <div class="page-title">
        <span class="crumb">Collections</span><span class="crumb-sep">/</span>
        <h1>${collection.name}</h1>
        <span class=${`badge badge-${collection.type}`}>${collection.type}</span>
        ${collection.system ? html`<span class="badge badge-system">system</span>` : null}
        <span class="count-badge">${res ? `${res.totalItems} record${res.totalItems === 1 ? '' : 's'}` : '…'}</span>
      </div>
      <div class="page-actions">
        <button type="button" class="btn btn-ghost" id="refresh" title="Refresh" onClick=${reload}>↻ Refresh</button>
        <${ColumnChooser} fields=${allFields} columns=${columns} />
        <button type="button" class="btn btn-secondary" id="api-preview" onClick=${() => openApiPreview(collection)}><span aria-hidden="true">${'</>'}</span> API preview</button>
        ${onEditCollection ? html`<button type="button" class="btn btn-secondary" id="edit-collection" onClick=${onEditCollection}>⚙ Edit collection</button>` : null}
        ${isView ? null : html`<button type="button" class="btn btn-primary" id="new-record" onClick=${() => openRecord(null)}>+ New record</button>`}
      </div>
    </header>
    <form class="filter-bar" onSubmit=${(e) => (e.preventDefault(), go({ filter: submitted(e).trim(), page: 1 }))}>
      <span class="filter-icon" aria-hidden="true">⌕</span>
      <input class=${error ? 'filter-input invalid' : 'filter-input'} id="records-filter" type="search" name="filter" spellcheck="false" autocomplete="off" aria-label="Filter"
        placeholder='Search term or filter like title ~ "hello" && created > "2024-01-01"' value=${filterText} onInput=${(e) => setFilterText(e.target.value)} />
      <button type="submit" class="btn btn-secondary" id="filter-apply">Filter</button>
      <button type="button" class="btn btn-ghost" id="filter-clear" onClick=${() => (setFilterText(''), go({ filter: '', page: 1 }))}>Clear</button>
    </form>
    <div class="filter-error" role="alert" hidden=${!error}>${error}</div>
    ${isView ? null : html`<${BulkBar} collection=${collection} selected=${selected} onClear=${() => setSelected([])} onDone=${(failed) => (setSelected(failed), reload())} />`}
    <div class=${loading ? 'table-wrap loading' : 'table-wrap'}>
      ${res ? html`<${RecordsTable} fields=${fields} items=${res.items || []} q=${q} token=${token} sortBy=${sortBy} openRecord=${openRecord}
          selected=${isView ? null : selected} setSelected=${setSelected} />` : null}
    </div>
    ${res
      ? html`<div class="pager">
          <select id="per-page" aria-label="Records per page" value=${String(q.perPage)} onChange=${(e) => go({ perPage: Number(e.target.value), page: 1 })}>
            ${PER_PAGE_CHOICES.map((n) => html`<option value=${String(n)}>${n} per page</option>`)}
          </select>
          <span class="pager-info">Page ${res.page} of ${totalPages} · ${res.totalItems} total</span>
          <button type="button" class="btn btn-secondary" id="page-prev" disabled=${res.page <= 1} onClick=${() => go({ page: res.page - 1 })}>← Prev</button>
          <button type="button" class="btn btn-secondary" id="page-next" disabled=${res.page >= totalPages} onClick=${() => go({ page: res.page + 1 })}>Next →</button>
        </div>`
      : null}
  </div>`;
}

function RecordsTable({ fields, items, q, token, sortBy, openRecord, selected, setSelected }) {
  const selectable = !!selected;
  const ids = items.map((r) => r.id);
  const allOn = ids.length > 0 && ids.every((id) => selected?.includes(id));
  const toggleAll = (on) => setSelected(on ? [...new Set([...selected, ...ids])] : selected.filter((id) => !ids.includes(id)));
  const toggle = (id, on) => setSelected(on ? [...selected, id] : selected.filter((x) => x !== id));
  return html`<table class="records-table">
    <thead><tr>
      ${selectable
        ? html`<th class="col-select"><input type="checkbox" id="select-all" aria-label="Select all records on this page" checked=${allOn} disabled=${!ids.length}
            onChange=${(e) => toggleAll(e.target.checked)} /></th>`
        : null}
      ${fields.map((f) => {
        const dir = q.sort === f.name ? 'asc' : q.sort === `-${f.name}` ? 'desc' : '';
        return html`<th class=${`col-${f.type}`} aria-sort=${dir ? (dir === 'asc' ? 'ascending' : 'descending') : 'none'}>
          <button type="button" class="th-sort" data-sort=${f.name} title=${`Sort by ${f.name}`} onClick=${() => sortBy(f.name)}>
            <span class="field-type">${typeIcon(f.type)}</span><span>${f.name}</span><span class="sort-dir">${dir === 'asc' ? '▲' : dir === 'desc' ? '▼' : ''}</span>
          </button>
        </th>`;
      })}
    </tr></thead>
    <tbody>
      ${items.length
        ? items.map(
            (rec) => html`<tr key=${rec.id} class=${selected?.includes(rec.id) ? 'record-row selected' : 'record-row'} tabindex="0" data-id=${rec.id} onClick=${() => openRecord(rec)} onKeyDown=${(e) => e.key === 'Enter' && e.target === e.currentTarget && openRecord(rec)}>
              ${selectable
                ? html`<td class="col-select" onClick=${(e) => e.stopPropagation()}>
                    <input type="checkbox" class="select-row" aria-label=${`Select record ${rec.id}`} checked=${selected.includes(rec.id)} onChange=${(e) => toggle(rec.id, e.target.checked)} /></td>`
                : null}
              ${fields.map((f) => html`<td class=${`col-${f.type}`} data-field=${f.name}><${Cell} rec=${rec} field=${f} token=${token} /></td>`)}
            </tr>`,
          )
        : html`<tr><td class="empty-row" colspan=${String(fields.length + (selectable ? 1 : 0) || 1)}>${q.filter ? 'No records match the filter.' : 'No records yet.'}</td></tr>`}
    </tbody>
  </table>`;
}

const truncate = (s, n) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

function Cell({ rec, field, token }) {
  const v = rec[field.name];
  if (v === undefined || v === null || v === '' || (Array.isArray(v) && !v.length)) return html`<span class="muted">N/A</span>`;
  if (field.type === 'bool') return html`<span class=${v ? 'bool-true' : 'bool-false'}>${v ? '✓ true' : 'false'}</span>`;
  if (field.type === 'relation') {
    const target = findCollection(field.collectionId);
    const ex = rec.expand?.[field.name];
    const byId = Object.fromEntries((Array.isArray(ex) ? ex : ex ? [ex] : []).map((r) => [r.id, r]));
    const ids = Array.isArray(v) ? v : [v];
    return html`<span class="chips">${ids.slice(0, 5).map((id) => html`<span class="chip" title=${id}>${byId[id] ? presentable(byId[id], target) : id}</span>`)}${ids.length > 5 ? html`<span class="muted">+${ids.length - 5}</span>` : null}</span>`;
  }
  if (field.type === 'file') {
    const names = Array.isArray(v) ? v : [v];
    if (field.protected && token === null) return html`<span class="muted">…</span>`;
    return html`<span class="chips">${names.slice(0, 4).map((n) =>
      isImage(n) ? html`<img class="cell-thumb" src=${fileURL(rec, n, { thumb: '100x100', token })} alt=${n} title=${n} loading="lazy" />` : html`<span class="chip">${n}</span>`,
    )}${names.length > 4 ? html`<span class="muted">+${names.length - 4}</span>` : null}</span>`;
  }
  if (Array.isArray(v)) return html`<span class="chips">${v.slice(0, 5).map((x) => html`<span class="chip">${typeof x === 'object' ? JSON.stringify(x) : String(x)}</span>`)}${v.length > 5 ? html`<span class="muted">+${v.length - 5}</span>` : null}</span>`;
  if (field.type === 'select') return html`<span class="chip">${String(v)}</span>`;
  if (typeof v === 'object') return html`<code class="cell-json">${truncate(JSON.stringify(v), 80)}</code>`;
  if (field.type === 'editor') return html`<span class="cell-text">${truncate(String(v).replace(/<[^>]*>/g, ' '), 80)}</span>`;
  if (field.name === 'id') return html`<code class="cell-id">${v}</code>`;
  return html`<span class="cell-text" title=${String(v).length > 60 ? String(v) : undefined}>${truncate(String(v), 120)}</span>`;
}

// ---- record panel ------------------------------------------------------------------------

export function RecordPanel({ collection, record: rec, readOnly = false, close, onSaved }) {
  const isNew = !rec;
  const isAuth = collection.type === 'auth';
  const fields = formFields(collection, { isNew });
  const [values, setValues] = useState(() => Object.fromEntries(fields.map((f) => [f.name, toForm(f, rec ? rec[f.name] : undefined)])));
  const [pw, setPw] = useState({ password: '', passwordConfirm: '' });
  const [errors, setErrors] = useState({});
  const [errorsShown, setErrorsShown] = useState(0);
  const [formError, setFormError] = useState('');
  const [busy, setBusy] = useState(false);
  const formEl = useRef(null);
  const [pwIds] = useState(() => ({ password: nextId('pw'), passwordConfirm: nextId('pw') }));
  const title = readOnly ? `${collection.name} record` : isNew ? `New ${collection.name} record` : `Edit ${collection.name} record`;

  // Focus the first input, unless the user already put the focus somewhere in the form.
  useEffect(() => {
    const t = setTimeout(() => {
      const form = formEl.current;
      if (form && !form.contains(document.activeElement)) form.querySelector('input:not([disabled]):not([type=checkbox]):not([type=file]), textarea, select')?.focus();
    }, 0);
    return () => clearTimeout(t);
  }, []);
  // After errors are shown (by a save), focus the first field in error.
  useEffect(() => {
    if (errorsShown) formEl.current?.querySelector('.has-error input, .has-error textarea, .has-error select')?.focus();
  }, [errorsShown]);

  // A field's error goes once it is edited (the next save checks it again).
  const clearError = (name) => setErrors((all) => (all[name] ? { ...all, [name]: '' } : all));

  function showErrors(map, message) {
    const known = new Set([...fields.map((f) => f.name), 'password', 'passwordConfirm']);
    const unmatched = Object.entries(map).filter(([k]) => !known.has(k.replace(/[+-]$/, ''))).map(([k, m]) => `${k}: ${m}`);
    const mapped = {};
    for (const [k, m] of Object.entries(map)) mapped[k.replace(/[+-]$/, '')] = m;
    setErrors(mapped);
    if (Object.keys(mapped).length) setErrorsShown((n) => n + 1);
    setFormError([message, ...unmatched].filter(Boolean).join(' — '));
  }

  async function save() {
    if (readOnly) return;
    const data = {};
    const local = {};
    for (const f of fields) {
      try {
        Object.assign(data, fromForm(f, values[f.name], { isNew }));
      } catch (err) {
        if (err instanceof FieldError) local[f.name] = err.message;
        else throw err;
      }
    }
    if (isAuth && (isNew || pw.password || pw.passwordConfirm)) Object.assign(data, pw);
    if (Object.keys(local).length) return showErrors(local, 'Please fix the highlighted fields.');
    showErrors({}, '');
    setBusy(true);
    try {
      const api = pb.collection(collection.name);
      const saved = isNew ? await api.create(data) : await api.update(rec.id, data);
      toast(isNew ? `Created record ${saved.id}.` : `Saved record ${saved.id}.`);
      close();
      onSaved?.(saved);
    } catch (err) {
      showErrors(fieldErrors(err), errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    const ok = await confirmDialog(`Delete record ${rec.id}?`, { confirmText: 'Delete', detail: 'This cannot be undone.' });
    if (!ok) return;
    try {
      await pb.collection(collection.name).delete(rec.id);
      toast(`Deleted record ${rec.id}.`);
      close();
      onSaved?.(null);
    } catch (err) {
      showErrors(fieldErrors(err), errorMessage(err));
    }
  }

  const pwField = (name, label) => html`<div class=${errors[name] ? 'field has-error' : 'field'} data-field=${name}>
    <label class="field-label" for=${pwIds[name]}><span class="field-type">⚷</span><span>${label}</span>${isNew ? html`<span class="required">*</span>` : null}</label>
    <input id=${pwIds[name]} type="password" name=${name} autocomplete="new-password" value=${pw[name]} placeholder=${isNew ? undefined : 'Leave empty to keep the current password'}
      onInput=${(e) => (setPw({ ...pw, [name]: e.target.value }), clearError(name))} />
    <div class="field-error" role="alert" data-error-for=${name} hidden=${!errors[name]}>${errors[name]}</div>
  </div>`;

  const footer = html`
    ${!isNew && !readOnly ? html`<button type="button" class="btn btn-danger-ghost" id="record-delete" onClick=${remove}>Delete</button>` : html`<span></span>`}
    <div class="footer-right">
      <button type="button" class="btn btn-secondary" onClick=${close}>${readOnly ? 'Close' : 'Cancel'}</button>
      ${readOnly ? null : html`<button type="button" class="btn btn-primary" id="record-save" disabled=${busy} onClick=${save}>${isNew ? 'Create' : 'Save changes'}</button>`}
    </div>`;

  return html`<${Panel} title=${title} onClose=${close} footer=${footer}>
    <form class="record-form" id="record-form" ref=${formEl} novalidate onSubmit=${(e) => (e.preventDefault(), save())}>
      ${rec
        ? html`<dl class="record-meta">${['id', 'created', 'updated'].filter((k) => rec[k]).map((k) => html`<dt>${k}</dt><dd><code>${rec[k]}</code></dd>`)}</dl>`
        : null}
      ${fields.map(
        (f) => html`<${FieldRow} key=${f.name} field=${f} value=${values[f.name]} error=${errors[f.name]} isNew=${isNew} readOnly=${readOnly} record=${rec}
          onChange=${(v) => (setValues((all) => ({ ...all, [f.name]: v })), clearError(f.name))} />`,
      )}
      ${isAuth && !readOnly ? html`<fieldset class="pw-group"><legend>Password</legend>${pwField('password', 'Password')}${pwField('passwordConfirm', 'Password confirm')}</fieldset>` : null}
      <div class="form-error" role="alert" hidden=${!formError}>${formError}</div>
    </form>
  <//>`;
}
