// Records browser of one collection, and the record create/edit side panel.
import { h, mount, openPanel, confirmDialog, toast, nextId } from './dom.js';
import { pb, errorMessage, fieldErrors, state } from './api.js';
import { formFields, tableFields, fieldInput, FieldError, typeIcon } from './fields.js';

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

export function renderRecords(root, collection, { onEditCollection }) {
  const isView = collection.type === 'view';
  const fields = tableFields(collection);
  const hasCreated = fields.some((f) => f.name === 'created');
  const q = { page: 1, perPage: 40, sort: hasCreated ? '-created' : '', filter: '' };
  let alive = true;
  let seq = 0;

  const filterInput = h('input.filter-input#records-filter', {
    type: 'search',
    name: 'filter',
    placeholder: 'Search term or filter like title ~ "hello" && created > "2024-01-01"',
    spellcheck: 'false',
    autocomplete: 'off',
    'aria-label': 'Filter',
  });
  const filterError = h('div.filter-error', { role: 'alert', hidden: true });
  const tableHost = h('div.table-wrap');
  const pager = h('div.pager');
  const countEl = h('span.count-badge', '…');

  const filterForm = h(
    'form.filter-bar',
    {
      onsubmit(e) {
        e.preventDefault();
        q.filter = normalizeFilter(filterInput.value, collection);
        q.page = 1;
        load();
      },
    },
    h('span.filter-icon', { 'aria-hidden': 'true' }, '⌕'),
    filterInput,
    h('button.btn.btn-secondary#filter-apply', { type: 'submit' }, 'Filter'),
    h(
      'button.btn.btn-ghost#filter-clear',
      {
        type: 'button',
        onclick() {
          filterInput.value = '';
          q.filter = '';
          q.page = 1;
          load();
        },
      },
      'Clear',
    ),
  );

  mount(
    root,
    h(
      'div.page',
      h(
        'header.page-header',
        h(
          'div.page-title',
          h('span.crumb', 'Collections'),
          h('span.crumb-sep', '/'),
          h('h1', collection.name),
          h('span.badge', { class: `badge-${collection.type}` }, collection.type),
          collection.system ? h('span.badge.badge-system', 'system') : null,
          countEl,
        ),
        h(
          'div.page-actions',
          h('button.btn.btn-ghost#refresh', { type: 'button', title: 'Refresh', onclick: () => load() }, '↻ Refresh'),
          h('button.btn.btn-secondary#edit-collection', { type: 'button', onclick: onEditCollection }, '⚙ Edit collection'),
          isView ? null : h('button.btn.btn-primary#new-record', { type: 'button', onclick: () => openRecord(null) }, '+ New record'),
        ),
      ),
      filterForm,
      filterError,
      tableHost,
      pager,
    ),
  );

  async function load() {
    const my = ++seq;
    tableHost.classList.add('loading');
    try {
      const query = { page: q.page, perPage: q.perPage };
      if (q.sort) query.sort = q.sort;
      if (q.filter) query.filter = q.filter;
      const res = await pb.send(`/api/collections/${encodeURIComponent(collection.name)}/records`, { query });
      if (!alive || my !== seq) return;
      filterError.hidden = true;
      filterInput.classList.remove('invalid');
      renderTable(res);
      renderPager(res);
    } catch (err) {
      if (!alive || my !== seq) return;
      const details = Object.values(fieldErrors(err));
      // PocketBase answers a bad filter with a generic 400 message: say what was wrong.
      const what = err?.status === 400 && (q.filter || q.sort) ? 'Invalid filter or sort: ' : '';
      filterError.textContent = what + [errorMessage(err), ...details].join(' — ');
      filterError.hidden = false;
      filterInput.classList.add('invalid');
    } finally {
      if (my === seq) tableHost.classList.remove('loading');
    }
  }

  function sortBy(name) {
    if (q.sort === name) q.sort = `-${name}`;
    else if (q.sort === `-${name}`) q.sort = name;
    else q.sort = name;
    q.page = 1;
    load();
  }

  function renderTable(res) {
    countEl.textContent = `${res.totalItems} record${res.totalItems === 1 ? '' : 's'}`;
    const head = h(
      'tr',
      fields.map((f) => {
        const dir = q.sort === f.name ? 'asc' : q.sort === `-${f.name}` ? 'desc' : '';
        return h(
          'th',
          { class: `col-${f.type}`, 'aria-sort': dir ? (dir === 'asc' ? 'ascending' : 'descending') : 'none' },
          h(
            'button.th-sort',
            { type: 'button', dataset: { sort: f.name }, onclick: () => sortBy(f.name), title: `Sort by ${f.name}` },
            h('span.field-type', typeIcon(f.type)),
            h('span', f.name),
            h('span.sort-dir', dir === 'asc' ? '▲' : dir === 'desc' ? '▼' : ''),
          ),
        );
      }),
    );
    const rows = (res.items || []).map((rec) =>
      h(
        'tr.record-row',
        {
          tabindex: '0',
          dataset: { id: rec.id },
          onclick: () => openRecord(rec),
          onkeydown: (e) => e.key === 'Enter' && openRecord(rec),
        },
        fields.map((f) => h('td', { class: `col-${f.type}`, dataset: { field: f.name } }, cell(rec[f.name], f))),
      ),
    );
    mount(
      tableHost,
      h(
        'table.records-table',
        h('thead', head),
        h(
          'tbody',
          rows.length
            ? rows
            : h('tr', h('td.empty-row', { colspan: String(fields.length || 1) }, q.filter ? 'No records match the filter.' : 'No records yet.')),
        ),
      ),
    );
  }

  function renderPager(res) {
    const totalPages = Math.max(1, res.totalPages || 1);
    const per = h(
      'select#per-page',
      {
        'aria-label': 'Records per page',
        onchange(e) {
          q.perPage = Number(e.target.value);
          q.page = 1;
          load();
        },
      },
      PER_PAGE_CHOICES.map((n) => h('option', { value: String(n) }, `${n} per page`)),
    );
    per.value = String(q.perPage);
    mount(
      pager,
      per,
      h('span.pager-info', `Page ${res.page} of ${totalPages} · ${res.totalItems} total`),
      h('button.btn.btn-secondary#page-prev', { type: 'button', disabled: res.page <= 1, onclick: () => ((q.page = res.page - 1), load()) }, '← Prev'),
      h('button.btn.btn-secondary#page-next', { type: 'button', disabled: res.page >= totalPages, onclick: () => ((q.page = res.page + 1), load()) }, 'Next →'),
    );
  }

  function openRecord(rec) {
    openRecordPanel(collection, rec, {
      readOnly: isView,
      onSaved: () => load(),
    });
  }

  load();
  return () => {
    alive = false;
  };
}

function cell(v, field) {
  if (v === undefined || v === null || v === '' || (Array.isArray(v) && !v.length)) return h('span.muted', 'N/A');
  if (field.type === 'bool') return h('span', { class: v ? 'bool-true' : 'bool-false' }, v ? '✓ true' : 'false');
  if (Array.isArray(v)) return h('span.chips', v.slice(0, 5).map((x) => h('span.chip', typeof x === 'object' ? JSON.stringify(x) : String(x))), v.length > 5 ? h('span.muted', `+${v.length - 5}`) : null);
  if (field.type === 'select' || field.type === 'relation') return h('span.chip', String(v));
  if (typeof v === 'object') return h('code.cell-json', truncate(JSON.stringify(v), 80));
  if (field.type === 'editor') return h('span.cell-text', truncate(String(v).replace(/<[^>]*>/g, ' '), 80));
  if (field.name === 'id') return h('code.cell-id', v);
  return h('span.cell-text', { title: String(v).length > 60 ? String(v) : undefined }, truncate(String(v), 120));
}

function truncate(s, n) {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

// ---- record panel ---------------------------------------------------------------

export function openRecordPanel(collection, rec, { readOnly = false, onSaved } = {}) {
  const isNew = !rec;
  const isAuth = collection.type === 'auth';
  const title = readOnly ? `${collection.name} record` : isNew ? `New ${collection.name} record` : `Edit ${collection.name} record`;
  const panel = openPanel({ title });
  const inputs = formFields(collection, { isNew }).map((f) => fieldInput(f, rec ? rec[f.name] : undefined, { isNew, readOnly, collections: state.collections }));
  const formError = h('div.form-error', { role: 'alert', hidden: true });

  // Auth collections: password + confirmation (optional when editing).
  let pw = null;
  if (isAuth && !readOnly) {
    const mk = (name, label) => {
      const id = nextId('pw');
      const input = h('input', { id, type: 'password', name, autocomplete: 'new-password', placeholder: isNew ? undefined : 'Leave empty to keep the current password' });
      const err = h('div.field-error', { role: 'alert', hidden: true, dataset: { errorFor: name } });
      const wrap = h('div.field', { dataset: { field: name } }, h('label.field-label', { for: id }, h('span.field-type', '⚷'), h('span', label), isNew ? h('span.required', '*') : null), input, err);
      return {
        name,
        wrap,
        input,
        setError(msg) {
          err.textContent = msg || '';
          err.hidden = !msg;
          wrap.classList.toggle('has-error', !!msg);
        },
      };
    };
    pw = [mk('password', 'Password'), mk('passwordConfirm', 'Password confirm')];
  }

  const meta = rec
    ? h(
        'dl.record-meta',
        ['id', 'created', 'updated'].filter((k) => rec[k]).map((k) => [h('dt', k), h('dd', h('code', rec[k]))]),
      )
    : null;

  const form = h(
    'form.record-form#record-form',
    { novalidate: true, onsubmit: (e) => (e.preventDefault(), save()) },
    meta,
    inputs.map((i) => i.wrap),
    pw ? h('fieldset.pw-group', h('legend', 'Password'), pw.map((p) => p.wrap)) : null,
    formError,
  );
  panel.body.append(form);

  const saveBtn = h('button.btn.btn-primary#record-save', { type: 'button', onclick: () => save() }, isNew ? 'Create' : 'Save changes');
  const delBtn =
    !isNew && !readOnly
      ? h('button.btn.btn-danger-ghost#record-delete', { type: 'button', onclick: () => remove() }, 'Delete')
      : null;
  panel.footer.append(
    delBtn || h('span'),
    h('div.footer-right', h('button.btn.btn-secondary', { type: 'button', onclick: panel.close }, readOnly ? 'Close' : 'Cancel'), readOnly ? null : saveBtn),
  );
  // Focus the first input, unless the user already put the focus somewhere in the form (the
  // timer can fire late; stealing focus then sends their typing into another field).
  setTimeout(() => {
    if (!form.contains(document.activeElement)) form.querySelector('input:not([disabled]):not([type=checkbox]), textarea, select')?.focus();
  }, 0);

  const all = () => [...inputs, ...(pw || [])];

  function showErrors(map, message) {
    const unmatched = [];
    const known = new Set(all().map((i) => i.name));
    for (const i of all()) i.setError(map[i.name] || '');
    for (const [k, msg] of Object.entries(map)) if (!known.has(k)) unmatched.push(`${k}: ${msg}`);
    formError.textContent = [message, ...unmatched].filter(Boolean).join(' — ');
    formError.hidden = !formError.textContent;
    form.querySelector('.has-error input, .has-error textarea, .has-error select')?.focus();
  }

  async function save() {
    if (readOnly) return;
    const data = {};
    const local = {};
    for (const i of inputs) {
      try {
        const v = i.get();
        if (v !== undefined) data[i.name] = v;
      } catch (err) {
        if (err instanceof FieldError) local[i.name] = err.message;
        else throw err;
      }
    }
    if (pw) {
      const [p, c] = pw;
      if (isNew || p.input.value || c.input.value) {
        data.password = p.input.value;
        data.passwordConfirm = c.input.value;
      }
    }
    if (Object.keys(local).length) return showErrors(local, 'Please fix the highlighted fields.');
    showErrors({}, '');
    saveBtn.disabled = true;
    try {
      const api = pb.collection(collection.name);
      const saved = isNew ? await api.create(data) : await api.update(rec.id, data);
      toast(isNew ? `Created record ${saved.id}.` : `Saved record ${saved.id}.`);
      panel.close();
      onSaved?.(saved);
    } catch (err) {
      showErrors(fieldErrors(err), errorMessage(err));
    } finally {
      saveBtn.disabled = false;
    }
  }

  async function remove() {
    const ok = await confirmDialog(`Delete record ${rec.id}?`, { confirmText: 'Delete', detail: 'This cannot be undone.' });
    if (!ok) return;
    try {
      await pb.collection(collection.name).delete(rec.id);
      toast(`Deleted record ${rec.id}.`);
      panel.close();
      onSaved?.(null);
    } catch (err) {
      showErrors(fieldErrors(err), errorMessage(err));
    }
  }

  return panel;
}
