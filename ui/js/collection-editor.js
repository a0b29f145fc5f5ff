// Collection create/edit side panel: name, type, fields, API rules, indexes, view query.
import { h, mount, openPanel, confirmDialog, toast, nextId } from './dom.js';
import { pb, errorMessage, fieldErrors, state } from './api.js';
import { typeIcon } from './fields.js';

export const FIELD_TYPES = ['text', 'editor', 'number', 'bool', 'email', 'url', 'date', 'autodate', 'select', 'file', 'relation', 'json', 'geoPoint'];

const TYPE_DEFAULTS = {
  text: { min: 0, max: 0, pattern: '', autogeneratePattern: '', primaryKey: false },
  editor: { maxSize: 0, convertURLs: false },
  number: { min: null, max: null, onlyInt: false },
  bool: {},
  email: { exceptDomains: [], onlyDomains: [] },
  url: { exceptDomains: [], onlyDomains: [] },
  date: { min: '', max: '' },
  autodate: { onCreate: true, onUpdate: false },
  select: { values: [], maxSelect: 1 },
  file: { maxSelect: 1, maxSize: 0, mimeTypes: [], thumbs: [], protected: false },
  relation: { collectionId: '', cascadeDelete: false, minSelect: 0, maxSelect: 1 },
  json: { maxSize: 0 },
  geoPoint: {},
};

const RULES = [
  ['listRule', 'List/Search rule'],
  ['viewRule', 'View rule'],
  ['createRule', 'Create rule'],
  ['updateRule', 'Update rule'],
  ['deleteRule', 'Delete rule'],
];
const AUTH_RULES = [
  ['authRule', 'Auth rule', 'Extra condition a record must meet to authenticate.'],
  ['manageRule', 'Manage rule', 'Who may manage (e.g. change email/password of) other users.'],
];

function newField(type, name = '') {
  return { name, type, required: false, hidden: false, presentable: false, system: false, ...structuredClone(TYPE_DEFAULTS[type] || {}) };
}

function defaultAutodates() {
  return [
    { ...newField('autodate', 'created'), onCreate: true, onUpdate: false },
    { ...newField('autodate', 'updated'), onCreate: true, onUpdate: true },
  ];
}

let scaffoldsCache = null;
async function scaffolds() {
  if (scaffoldsCache) return scaffoldsCache;
  try {
    scaffoldsCache = await pb.send('/api/collections/meta/scaffolds', {});
  } catch {
    scaffoldsCache = {
      base: { type: 'base', fields: [{ ...newField('text', 'id'), system: true, required: true, primaryKey: true, min: 15, max: 15, pattern: '^[a-z0-9]+$', autogeneratePattern: '[a-z0-9]{15}' }], indexes: [] },
      view: { type: 'view', fields: [], indexes: [], viewQuery: '' },
    };
  }
  return scaffoldsCache;
}

function fromScaffold(sc, type) {
  const base = structuredClone(sc[type] || sc.base);
  const draft = {
    name: '',
    type,
    listRule: null,
    viewRule: null,
    createRule: null,
    updateRule: null,
    deleteRule: null,
    ...base,
  };
  delete draft.id;
  delete draft.created;
  delete draft.updated;
  draft.fields = draft.fields || [];
  if (type !== 'view' && !draft.fields.some((f) => f.type === 'autodate')) draft.fields.push(...defaultAutodates());
  if (type === 'view') draft.viewQuery = draft.viewQuery || '';
  draft.indexes = draft.indexes || [];
  return draft;
}

/** Opens the editor for `collection` (null: a new collection). onSaved(collection|null, {deleted}). */
export async function openCollectionEditor(collection, { onSaved } = {}) {
  const isNew = !collection;
  const sc = await scaffolds();
  let draft = isNew ? fromScaffold(sc, 'base') : structuredClone(collection);
  draft.indexes = draft.indexes || [];
  let errors = {};
  let tab = draft.type === 'view' ? 'query' : 'fields';

  const panel = openPanel({ title: isNew ? 'New collection' : `Edit collection: ${collection.name}`, wide: true });

  // ---- header: name + type ----
  const nameId = 'collection-name';
  const nameInput = h('input', { id: nameId, type: 'text', name: 'name', value: draft.name, placeholder: 'e.g. posts', autocomplete: 'off', spellcheck: 'false' });
  nameInput.addEventListener('input', () => (draft.name = nameInput.value.trim()));
  const nameError = errorBox('name');
  const typeSelect = h(
    'select#collection-type',
    {
      name: 'type',
      disabled: !isNew || undefined,
      'aria-label': 'Collection type',
      onchange() {
        const keep = draft.fields.filter((f) => !f.system && f.type !== 'autodate');
        const name = draft.name;
        draft = fromScaffold(sc, typeSelect.value);
        draft.name = name;
        if (draft.type !== 'view') draft.fields.splice(draft.fields.length - 2, 0, ...keep);
        tab = draft.type === 'view' ? 'query' : 'fields';
        renderAll();
      },
    },
    h('option', { value: 'base' }, 'Base collection'),
    h('option', { value: 'auth' }, 'Auth collection'),
    h('option', { value: 'view' }, 'View collection'),
  );
  typeSelect.value = draft.type;

  const head = h(
    'div.collection-head',
    h('div.field.grow', h('label.field-label', { for: nameId }, 'Name', h('span.required', '*')), nameInput, nameError.el),
    h('div.field', h('label.field-label', 'Type'), typeSelect),
  );

  const tabsEl = h('div.tabs', { role: 'tablist' });
  const tabBody = h('div.tab-body');
  const formError = h('div.form-error', { role: 'alert', hidden: true });
  panel.body.append(h('form.collection-form#collection-form', { novalidate: true, onsubmit: (e) => (e.preventDefault(), save()) }, head, tabsEl, tabBody, formError));

  // ---- footer ----
  const saveBtn = h('button.btn.btn-primary#collection-save', { type: 'button', onclick: () => save() }, isNew ? 'Create' : 'Save changes');
  const left = h('div.footer-left');
  if (!isNew) {
    left.append(
      h('button.btn.btn-danger-ghost#collection-delete', { type: 'button', disabled: collection.system || undefined, title: collection.system ? 'System collections cannot be deleted' : undefined, onclick: () => removeCollection() }, 'Delete'),
      collection.type !== 'view' ? h('button.btn.btn-ghost#collection-truncate', { type: 'button', onclick: () => truncate() }, 'Truncate') : null,
    );
  }
  panel.footer.append(left, h('div.footer-right', h('button.btn.btn-secondary', { type: 'button', onclick: panel.close }, 'Cancel'), saveBtn));

  function errorBox(key) {
    const el = h('div.field-error', { role: 'alert', hidden: true, dataset: { errorFor: key } });
    return {
      el,
      show(msg) {
        el.textContent = msg || '';
        el.hidden = !msg;
      },
    };
  }

  function tabDefs() {
    const t = [];
    if (draft.type === 'view') t.push(['query', 'Query']);
    t.push(['fields', draft.type === 'view' ? 'Fields' : 'Fields']);
    t.push(['rules', 'API rules']);
    if (draft.type !== 'view') t.push(['indexes', 'Indexes']);
    return t;
  }

  function tabHasError(id) {
    const keys = Object.keys(errors);
    if (id === 'fields') return keys.some((k) => k.startsWith('fields'));
    if (id === 'rules') return keys.some((k) => /Rule$/.test(k.split('.')[0]));
    if (id === 'indexes') return keys.some((k) => k.startsWith('indexes'));
    if (id === 'query') return keys.some((k) => k.startsWith('viewQuery'));
    return false;
  }

  function renderAll() {
    nameError.show(errors.name);
    nameInput.classList.toggle('invalid', !!errors.name);
    mount(
      tabsEl,
      tabDefs().map(([id, label]) =>
        h(
          'button.tab',
          { type: 'button', role: 'tab', 'aria-selected': String(tab === id), class: tab === id ? 'active' : '', dataset: { tab: id }, onclick: () => ((tab = id), renderAll()) },
          label,
          tabHasError(id) ? h('span.tab-error-dot', { title: 'has errors' }) : null,
        ),
      ),
    );
    if (tab === 'fields') renderFields();
    else if (tab === 'rules') renderRules();
    else if (tab === 'indexes') renderIndexes();
    else if (tab === 'query') renderQuery();
  }

  // ---- fields tab ----
  function renderFields() {
    if (draft.type === 'view') {
      mount(
        tabBody,
        h('p.help', 'The fields of a view collection come from its query. They are updated when you save.'),
        h('ul.view-fields', draft.fields.length ? draft.fields.map((f) => h('li', h('span.field-type', typeIcon(f.type)), h('code', f.name), h('span.muted', f.type))) : h('li.muted', 'No fields yet.')),
      );
      return;
    }
    const addType = h('select#new-field-type', { 'aria-label': 'New field type' }, FIELD_TYPES.map((t) => h('option', { value: t }, t)));
    mount(
      tabBody,
      h('div.field-list', draft.fields.map((f, i) => fieldCard(f, i))),
      errors.fields ? h('div.field-error', errors.fields) : null,
      h(
        'div.add-field',
        addType,
        h(
          'button.btn.btn-secondary#add-field',
          {
            type: 'button',
            onclick() {
              const f = newField(addType.value);
              // Keep created/updated last, like the PocketBase dashboard.
              let at = draft.fields.length;
              while (at > 0 && draft.fields[at - 1].type === 'autodate' && draft.fields[at - 1].system !== true && ['created', 'updated'].includes(draft.fields[at - 1].name)) at--;
              draft.fields.splice(at, 0, f);
              renderAll();
              tabBody.querySelectorAll('.field-card')[at]?.querySelector('input.field-name')?.focus();
            },
          },
          '+ Add field',
        ),
      ),
    );
  }

  function fieldCard(f, i) {
    const locked = !!f.system;
    const saved = !!f.id;
    const err = Object.entries(errors)
      .filter(([k]) => k === `fields.${i}` || k.startsWith(`fields.${i}.`))
      .map(([k, m]) => (k === `fields.${i}` ? m : `${k.slice(`fields.${i}.`.length)}: ${m}`));
    const name = h('input.field-name', { type: 'text', value: f.name, placeholder: 'field name', disabled: locked || undefined, 'aria-label': 'Field name', spellcheck: 'false', autocomplete: 'off' });
    name.addEventListener('input', () => (f.name = name.value.trim()));
    const type = h(
      'select.field-type-select',
      {
        disabled: saved || locked || undefined,
        'aria-label': 'Field type',
        onchange() {
          const n = f.name;
          const req = f.required;
          for (const k of Object.keys(f)) delete f[k];
          Object.assign(f, newField(type.value, n), { required: req });
          renderAll();
        },
      },
      FIELD_TYPES.concat(FIELD_TYPES.includes(f.type) ? [] : [f.type]).map((t) => h('option', { value: t }, t)),
    );
    type.value = f.type;
    const required = checkbox('Required', f.required, (v) => (f.required = v), locked && f.name === 'id');
    const opts = h('div.field-options', { hidden: !f._open && !err.length }, fieldOptions(f));
    const toggle = h('button.btn.btn-ghost.btn-small', { type: 'button', title: 'Options', 'aria-expanded': String(!opts.hidden), onclick: () => ((opts.hidden = !opts.hidden), (f._open = !opts.hidden), toggle.setAttribute('aria-expanded', String(!opts.hidden))) }, '⚙ Options');
    const remove = h(
      'button.btn.btn-icon.btn-danger-ghost',
      {
        type: 'button',
        title: locked ? 'System field' : 'Remove field',
        'aria-label': `Remove field ${f.name}`,
        disabled: locked || undefined,
        onclick() {
          draft.fields.splice(i, 1);
          renderAll();
        },
      },
      locked ? '⊘' : '✕',
    );
    return h(
      'div.field-card',
      { class: err.length ? 'has-error' : '', dataset: { index: String(i), name: f.name } },
      h('div.field-card-row', h('span.field-type.big', { title: f.type }, typeIcon(f.type)), name, type, required, toggle, remove),
      opts,
      err.length ? h('div.field-error', err.join(' — ')) : null,
    );
  }

  function fieldOptions(f) {
    const out = [];
    const num = (label, key, { nullable = false, step = '1' } = {}) => {
      const input = h('input', { type: 'number', step, value: f[key] ?? '', 'aria-label': label });
      input.addEventListener('input', () => (f[key] = input.value === '' ? (nullable ? null : 0) : Number(input.value)));
      return h('label.opt', h('span', label), input);
    };
    const text = (label, key, placeholder = '') => {
      const input = h('input', { type: 'text', value: f[key] ?? '', placeholder, 'aria-label': label, spellcheck: 'false' });
      input.addEventListener('input', () => (f[key] = input.value));
      return h('label.opt', h('span', label), input);
    };
    switch (f.type) {
      case 'text':
        out.push(num('Min length', 'min'), num('Max length', 'max'), text('Pattern (regex)', 'pattern', 'e.g. ^\\w+$'), text('Autogenerate pattern', 'autogeneratePattern'));
        break;
      case 'editor':
      case 'json':
        out.push(num('Max size (bytes)', 'maxSize'));
        break;
      case 'number':
        out.push(num('Min', 'min', { nullable: true, step: 'any' }), num('Max', 'max', { nullable: true, step: 'any' }), checkbox('Integers only', f.onlyInt, (v) => (f.onlyInt = v)));
        break;
      case 'date':
        out.push(text('Min', 'min', 'YYYY-MM-DD HH:MM:SS.sssZ'), text('Max', 'max', 'YYYY-MM-DD HH:MM:SS.sssZ'));
        break;
      case 'autodate':
        out.push(checkbox('Set on create', f.onCreate, (v) => (f.onCreate = v)), checkbox('Set on update', f.onUpdate, (v) => (f.onUpdate = v)));
        break;
      case 'select': {
        const input = h('input.select-values', { type: 'text', value: (f.values || []).join(', '), placeholder: 'draft, published, archived', 'aria-label': 'Choices', spellcheck: 'false' });
        input.addEventListener('input', () => (f.values = input.value.split(',').map((s) => s.trim()).filter(Boolean)));
        out.push(h('label.opt.wide', h('span', 'Choices (comma separated)'), input), num('Max select', 'maxSelect'));
        break;
      }
      case 'relation': {
        const sel = h(
          'select',
          { 'aria-label': 'Related collection', onchange: () => (f.collectionId = sel.value) },
          h('option', { value: '' }, '— select a collection —'),
          state.collections.map((c) => h('option', { value: c.id }, c.name)),
        );
        sel.value = f.collectionId || '';
        out.push(h('label.opt', h('span', 'Collection'), sel), num('Max select', 'maxSelect'), checkbox('Cascade delete', f.cascadeDelete, (v) => (f.cascadeDelete = v)));
        break;
      }
      case 'file':
        out.push(num('Max files', 'maxSelect'), num('Max size (bytes)', 'maxSize'), checkbox('Protected', f.protected, (v) => (f.protected = v)));
        break;
      case 'email':
      case 'url': {
        const dom = (label, key) => {
          const input = h('input', { type: 'text', value: (f[key] || []).join(', '), 'aria-label': label, placeholder: 'example.com, …' });
          input.addEventListener('input', () => (f[key] = input.value.split(',').map((s) => s.trim()).filter(Boolean)));
          return h('label.opt', h('span', label), input);
        };
        out.push(dom('Only domains', 'onlyDomains'), dom('Except domains', 'exceptDomains'));
        break;
      }
      default:
    }
    if (f.type !== 'password') {
      out.push(checkbox('Hidden', f.hidden, (v) => (f.hidden = v), f.system && f.name === 'id'), checkbox('Presentable', f.presentable, (v) => (f.presentable = v)));
    }
    const help = h('input', { type: 'text', value: f.help ?? '', placeholder: 'Help text shown in the record form', 'aria-label': 'Help text' });
    help.addEventListener('input', () => (f.help = help.value));
    out.push(h('label.opt.wide', h('span', 'Help text'), help));
    return out;
  }

  function checkbox(label, value, set, disabled = false) {
    const input = h('input', { type: 'checkbox', checked: !!value, disabled: disabled || undefined });
    input.addEventListener('change', () => set(input.checked));
    return h('label.check', input, h('span', label));
  }

  // ---- rules tab ----
  function renderRules() {
    const rules = draft.type === 'view' ? RULES.slice(0, 2) : draft.type === 'auth' ? [...RULES, ...AUTH_RULES] : RULES;
    mount(
      tabBody,
      h(
        'p.help',
        'Rules are filters that a request must match. ',
        h('strong', 'Empty'),
        ' grants everyone access; ',
        h('strong', 'superusers only'),
        ' (null) locks the action to superusers. Example: ',
        h('code', '@request.auth.id != ""'),
      ),
      rules.map(([key, label, help]) => ruleRow(key, label, help)),
    );
  }

  function ruleRow(key, label, help) {
    const id = nextId('rule');
    const locked = draft[key] === null || draft[key] === undefined;
    const input = h('textarea.mono.rule-input', { id, rows: 1, name: key, disabled: locked || undefined, placeholder: locked ? 'Only superusers can perform this action' : 'Leave empty to grant everyone access', spellcheck: 'false' });
    input.value = locked ? '' : draft[key];
    input.addEventListener('input', () => (draft[key] = input.value));
    const toggle = h('input', { type: 'checkbox', checked: locked, name: `${key}-superusers-only` });
    toggle.addEventListener('change', () => {
      if (toggle.checked) {
        draft[key] = null;
        input.disabled = true;
        input.value = '';
        input.placeholder = 'Only superusers can perform this action';
      } else {
        draft[key] = '';
        input.disabled = false;
        input.placeholder = 'Leave empty to grant everyone access';
        input.focus();
      }
    });
    return h(
      'div.rule',
      { class: errors[key] ? 'has-error' : '', dataset: { rule: key } },
      h('div.rule-head', h('label.field-label', { for: id }, label), h('label.check.rule-lock', toggle, h('span', 'Superusers only (null)'))),
      input,
      help ? h('div.help', help) : null,
      errors[key] ? h('div.field-error', errors[key]) : null,
    );
  }

  // ---- indexes tab ----
  function renderIndexes() {
    const ta = h('textarea.mono#collection-indexes', { rows: 8, name: 'indexes', spellcheck: 'false', placeholder: 'CREATE INDEX `idx_posts_title` ON `posts` (`title`)' });
    ta.value = (draft.indexes || []).map((s) => s.replace(/\s*\n\s*/g, ' ')).join('\n');
    ta.addEventListener('input', () => (draft.indexes = ta.value.split('\n').map((s) => s.trim()).filter(Boolean)));
    const errs = Object.entries(errors).filter(([k]) => k.startsWith('indexes'));
    mount(
      tabBody,
      h('p.help', 'One CREATE [UNIQUE] INDEX statement per line.'),
      ta,
      errs.length ? h('div.field-error', errs.map(([k, m]) => (k === 'indexes' ? m : `${k}: ${m}`)).join(' — ')) : null,
    );
  }

  // ---- view query tab ----
  function renderQuery() {
    const ta = h('textarea.mono#collection-viewquery', { rows: 10, name: 'viewQuery', spellcheck: 'false', placeholder: 'SELECT id, title, created FROM posts WHERE …' });
    ta.value = draft.viewQuery || '';
    ta.addEventListener('input', () => (draft.viewQuery = ta.value));
    mount(
      tabBody,
      h('p.help', 'A single SELECT statement. It must return an ', h('code', 'id'), ' column; the other columns become the fields.'),
      ta,
      errors.viewQuery ? h('div.field-error', errors.viewQuery) : null,
    );
  }

  // ---- actions ----
  function payload() {
    const body = structuredClone(draft);
    body.fields = (body.fields || []).map((f) => {
      const { _open, ...rest } = f;
      return rest;
    });
    if (body.type === 'view') {
      delete body.createRule;
      delete body.updateRule;
      delete body.deleteRule;
      body.fields = isNew ? [] : body.fields;
    } else {
      delete body.viewQuery;
    }
    return body;
  }

  function showErrors(err) {
    errors = fieldErrors(err);
    const known = (k) => k === 'name' || k.startsWith('fields') || /Rule$/.test(k) || k.startsWith('indexes') || k.startsWith('viewQuery');
    const unmatched = Object.entries(errors).filter(([k]) => !known(k)).map(([k, m]) => `${k}: ${m}`);
    formError.textContent = [errorMessage(err), ...unmatched].join(' — ');
    formError.hidden = false;
    // Show the first tab that has an error.
    if (!tabHasError(tab)) {
      const first = tabDefs().find(([id]) => tabHasError(id));
      if (first) tab = first[0];
    }
    renderAll();
  }

  async function save() {
    formError.hidden = true;
    errors = {};
    saveBtn.disabled = true;
    try {
      const body = payload();
      const saved = isNew
        ? await pb.send('/api/collections', { method: 'POST', body })
        : await pb.send(`/api/collections/${encodeURIComponent(collection.id)}`, { method: 'PATCH', body });
      toast(isNew ? `Created collection ${saved.name}.` : `Saved collection ${saved.name}.`);
      panel.close();
      onSaved?.(saved, {});
    } catch (err) {
      showErrors(err);
    } finally {
      saveBtn.disabled = false;
    }
  }

  async function removeCollection() {
    const ok = await confirmDialog(`Delete collection "${collection.name}" and all its records?`, { confirmText: 'Delete collection', detail: 'This cannot be undone.' });
    if (!ok) return;
    try {
      await pb.send(`/api/collections/${encodeURIComponent(collection.id)}`, { method: 'DELETE' });
      toast(`Deleted collection ${collection.name}.`);
      panel.close();
      onSaved?.(null, { deleted: true });
    } catch (err) {
      showErrors(err);
    }
  }

  async function truncate() {
    const ok = await confirmDialog(`Delete ALL records of "${collection.name}"?`, { confirmText: 'Truncate', detail: 'The collection and its fields are kept. This cannot be undone.' });
    if (!ok) return;
    try {
      await pb.send(`/api/collections/${encodeURIComponent(collection.id)}/truncate`, { method: 'DELETE' });
      toast(`Truncated ${collection.name}.`);
      panel.close();
      onSaved?.(collection, {});
    } catch (err) {
      showErrors(err);
    }
  }

  renderAll();
  // Focus the name of a new collection, unless the user is already typing somewhere in it.
  setTimeout(() => {
    if (isNew && !panel.el.contains(document.activeElement)) nameInput.focus();
  }, 0);
}
