// Collection create/edit side panel: name, type, fields, API rules, indexes, view query, and
// the auth options of auth collections (auth-options.js).
// The editor owns the draft; each tab and field card is a component that edits its part of
// it and calls `changed()`, and keeps its own view state (a card's options open or closed).
import { html, useState, useEffect, useRef, useReducer, nextId, lazy } from '../lib.js';
import { pb, errorMessage, fieldErrors, useCollections } from '../api.js';
import { Panel, confirmDialog, toast } from './overlays.js';
import { typeIcon } from './fields.js';

// The options tab of auth collections, loaded when first shown.
const AuthOptionsTab = lazy(() => import('./auth-options.js'), 'AuthOptionsTab');
// The rule input (highlighting, completion) and the indexes tab, loaded when first shown.
const RuleInput = lazy(() => import('./rule-editor.js'), 'RuleInput');
const loadIndexesEditor = () => import('./indexes-editor.js');
const IndexesTab = lazy(loadIndexesEditor, 'IndexesTab');
/** Answers 204 when a collection body would save, else the 400 a save would give. */
const VALIDATE_PATH = '/api/collections/meta/validate';
let serverValidates = true; // false once the server said 404 (a version without the check)
/** Error keys of the auth options (shown in that tab). */
const AUTH_OPTION_KEYS = /^(passwordAuth|oauth2|otp|mfa|authAlert|authToken|verificationToken|passwordResetToken|emailChangeToken|fileToken|verificationTemplate|resetPasswordTemplate|confirmEmailChangeTemplate)\b/;

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

// The server's template of a new field of each type (GET /api/collections/meta/field-defaults),
// loaded with the scaffolds before the editor opens: the dashboard keeps no defaults of its own.
let fieldTemplates = {};

/** The field types a collection's fields may have, in the server's order. */
export const fieldTypes = () => Object.keys(fieldTemplates).filter((t) => t !== 'password');

function newField(type, name = '') {
  return { ...structuredClone(fieldTemplates[type] || { type }), name };
}

function defaultAutodates() {
  return [
    { ...newField('autodate', 'created'), onCreate: true, onUpdate: false },
    { ...newField('autodate', 'updated'), onCreate: true, onUpdate: true },
  ];
}

let scaffoldsCache = null;
/**
 * The server's shape of a new collection of each type (GET /api/collections/meta/scaffolds),
 * with its field templates loaded beside it.
 */
export async function scaffolds() {
  if (scaffoldsCache) return scaffoldsCache;
  const [sc, templates] = await Promise.all([
    pb.send('/api/collections/meta/scaffolds', {}),
    pb.send('/api/collections/meta/field-defaults', {}),
  ]);
  fieldTemplates = templates;
  scaffoldsCache = sc;
  return scaffoldsCache;
}

function fromScaffold(sc, type) {
  const base = structuredClone(sc[type] || sc.base);
  const draft = { name: '', type, listRule: null, viewRule: null, createRule: null, updateRule: null, deleteRule: null, ...base };
  delete draft.id;
  delete draft.created;
  delete draft.updated;
  draft.fields = draft.fields || [];
  if (type !== 'view' && !draft.fields.some((f) => f.type === 'autodate')) draft.fields.push(...defaultAutodates());
  if (type === 'view') draft.viewQuery = draft.viewQuery || '';
  draft.indexes = draft.indexes || [];
  return draft;
}

const isRuleKey = (k) => /Rule$/.test(k.split('.')[0]);

function tabHasError(errors, id) {
  const keys = Object.keys(errors);
  if (id === 'fields') return keys.some((k) => k.startsWith('fields'));
  if (id === 'rules') return keys.some(isRuleKey);
  if (id === 'indexes') return keys.some((k) => k.startsWith('indexes'));
  if (id === 'query') return keys.some((k) => k.startsWith('viewQuery'));
  if (id === 'options') return keys.some((k) => AUTH_OPTION_KEYS.test(k));
  return false;
}

const Check = ({ label, checked, onChange, disabled = false }) => html`<label class="check">
  <input type="checkbox" checked=${!!checked} disabled=${disabled} onChange=${(e) => onChange(e.target.checked)} /><span>${label}</span>
</label>`;

/** The editor panel. `collection` null: a new collection. onSaved(collection|null, {deleted}). */
export function CollectionEditor({ collection, scaffolds: sc, close, onSaved }) {
  const isNew = !collection;
  const draftRef = useRef(null);
  if (!draftRef.current) {
    draftRef.current = isNew ? fromScaffold(sc, 'base') : structuredClone(collection);
    draftRef.current.indexes = draftRef.current.indexes || [];
  }
  const draft = draftRef.current;
  const [, changed] = useReducer((n) => n + 1, 0);
  const [tab, setTab] = useState(draft.type === 'view' ? 'query' : 'fields');
  const [errors, setErrors] = useState({});
  const [formError, setFormError] = useState('');
  const [busy, setBusy] = useState(false);
  const nameEl = useRef(null);
  const checks = useRef(0); // numbers the server checks: an answer to an older one is dropped

  useEffect(() => {
    const t = setTimeout(() => {
      if (isNew && !nameEl.current?.closest('.panel')?.contains(document.activeElement)) nameEl.current?.focus();
    }, 0);
    return () => clearTimeout(t);
  }, []);

  const tabs = [];
  if (draft.type === 'view') tabs.push(['query', 'Query']);
  tabs.push(['fields', 'Fields'], ['rules', 'API rules']);
  if (draft.type !== 'view') tabs.push(['indexes', 'Indexes']);
  if (draft.type === 'auth') tabs.push(['options', 'Options']);

  function changeType(type) {
    const keep = draft.fields.filter((f) => !f.system && f.type !== 'autodate');
    const next = fromScaffold(sc, type);
    next.name = draft.name;
    if (next.type !== 'view') next.fields.splice(next.fields.length - 2, 0, ...keep);
    draftRef.current = next;
    setTab(next.type === 'view' ? 'query' : 'fields');
    changed();
  }

  async function payload() {
    const body = structuredClone(draft);
    if (body.type === 'view') {
      delete body.createRule;
      delete body.updateRule;
      delete body.deleteRule;
      body.fields = isNew ? [] : body.fields;
    } else {
      delete body.viewQuery;
      const { retargetIndex } = await loadIndexesEditor();
      body.indexes = body.indexes.map((sql) => retargetIndex(sql, body.name));
    }
    return body;
  }

  /** The 400 error a save of the draft would give now; null when it would save or the server cannot tell. */
  async function checkDraft() {
    if (!serverValidates) return null;
    try {
      await pb.send(VALIDATE_PATH, { method: 'POST', body: await payload() });
    } catch (err) {
      if (err.status === 400) return err;
      if (err.status === 404) serverValidates = false;
    }
    return null;
  }

  /** A rule lost the focus: the server's verdict on every rule, before any save. */
  async function checkRules() {
    const check = ++checks.current;
    const found = fieldErrors(await checkDraft());
    if (check !== checks.current) return;
    setErrors((prev) => {
      const next = Object.fromEntries(Object.entries(prev).filter(([k]) => !isRuleKey(k)));
      for (const [k, m] of Object.entries(found)) if (isRuleKey(k)) next[k] = m;
      return next;
    });
  }

  /** Forgets the errors whose key passes `test` (their input was edited). */
  function clearErrors(test) {
    setErrors((prev) => (Object.keys(prev).some(test) ? Object.fromEntries(Object.entries(prev).filter(([k]) => !test(k))) : prev));
  }

  function showErrors(err) {
    const e = fieldErrors(err);
    const known = (k) => k === 'name' || k.startsWith('fields') || /Rule$/.test(k) || k.startsWith('indexes') || k.startsWith('viewQuery') || AUTH_OPTION_KEYS.test(k);
    const unmatched = Object.entries(e).filter(([k]) => !known(k)).map(([k, m]) => `${k}: ${m}`);
    setErrors(e);
    setFormError([errorMessage(err), ...unmatched].join(' — '));
    if (!tabHasError(e, tab)) {
      const first = tabs.find(([id]) => tabHasError(e, id));
      if (first) setTab(first[0]);
    }
  }

  async function save() {
    setFormError('');
    setErrors({});
    setBusy(true);
    checks.current++; // a rule check still under way has nothing more to say
    try {
      const invalid = await checkDraft();
      if (invalid) throw invalid;
      const body = await payload();
      const saved = isNew
        ? await pb.send('/api/collections', { method: 'POST', body })
        : await pb.send(`/api/collections/${encodeURIComponent(collection.id)}`, { method: 'PATCH', body });
      toast(isNew ? `Created collection ${saved.name}.` : `Saved collection ${saved.name}.`);
      close();
      onSaved?.(saved, {});
    } catch (err) {
      showErrors(err);
    } finally {
      setBusy(false);
    }
  }

  async function removeCollection() {
    const ok = await confirmDialog(`Delete collection "${collection.name}" and all its records?`, { confirmText: 'Delete collection', detail: 'This cannot be undone.' });
    if (!ok) return;
    try {
      await pb.send(`/api/collections/${encodeURIComponent(collection.id)}`, { method: 'DELETE' });
      toast(`Deleted collection ${collection.name}.`);
      close();
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
      close();
      onSaved?.(collection, {});
    } catch (err) {
      showErrors(err);
    }
  }

  const footer = html`
    <div class="footer-left">
      ${!isNew
        ? html`<button type="button" class="btn btn-danger-ghost" id="collection-delete" disabled=${collection.system} title=${collection.system ? 'System collections cannot be deleted' : undefined} onClick=${removeCollection}>Delete</button>
            ${collection.type !== 'view' ? html`<button type="button" class="btn btn-ghost" id="collection-truncate" onClick=${truncate}>Truncate</button>` : null}`
        : null}
    </div>
    <div class="footer-right">
      <button type="button" class="btn btn-secondary" onClick=${close}>Cancel</button>
      <button type="button" class="btn btn-primary" id="collection-save" disabled=${busy} onClick=${save}>${isNew ? 'Create' : 'Save changes'}</button>
    </div>`;

  const props = { draft, errors, changed, clearErrors };
  return html`<${Panel} title=${isNew ? 'New collection' : `Edit collection: ${collection.name}`} wide onClose=${close} footer=${footer}>
    <form class="collection-form" id="collection-form" novalidate onSubmit=${(e) => (e.preventDefault(), save())}>
      <div class="collection-head">
        <div class="field grow">
          <label class="field-label" for="collection-name">Name<span class="required">*</span></label>
          <input id="collection-name" ref=${nameEl} type="text" name="name" class=${errors.name ? 'invalid' : ''} value=${draft.name} placeholder="e.g. posts" autocomplete="off" spellcheck="false"
            onInput=${(e) => ((draft.name = e.target.value.trim()), changed())} />
          <div class="field-error" role="alert" data-error-for="name" hidden=${!errors.name}>${errors.name}</div>
        </div>
        <div class="field">
          <label class="field-label" for="collection-type">Type</label>
          <select id="collection-type" name="type" disabled=${!isNew} value=${draft.type} onChange=${(e) => changeType(e.target.value)}>
            <option value="base">Base collection</option>
            <option value="auth">Auth collection</option>
            <option value="view">View collection</option>
          </select>
        </div>
      </div>
      <div class="tabs" role="tablist">
        ${tabs.map(
          ([id, label]) => html`<button type="button" role="tab" class=${tab === id ? 'tab active' : 'tab'} aria-selected=${String(tab === id)} data-tab=${id} onClick=${() => setTab(id)}>
            ${label}${tabHasError(errors, id) ? html`<span class="tab-error-dot" title="has errors"></span>` : null}
          </button>`,
        )}
      </div>
      <div class="tab-body" role="tabpanel">
        ${tab === 'fields' ? html`<${FieldsTab} ...${props} />` : null}
        ${tab === 'rules' ? html`<${RulesTab} ...${props} onCheck=${checkRules} />` : null}
        ${tab === 'indexes' ? html`<${IndexesTab} ...${props} />` : null}
        ${tab === 'query' ? html`<${QueryTab} ...${props} />` : null}
        ${tab === 'options' ? html`<${AuthOptionsTab} ...${props} saved=${!isNew} />` : null}
      </div>
      <div class="form-error" role="alert" hidden=${!formError}>${formError}</div>
    </form>
  <//>`;
}

// ---- fields tab -----------------------------------------------------------------------

function FieldsTab({ draft, errors, changed }) {
  const [addType, setAddType] = useState('text');
  const listEl = useRef(null);
  const [focusAt, setFocusAt] = useState(-1);
  useEffect(() => {
    if (focusAt < 0) return;
    listEl.current?.querySelectorAll('.field-card')[focusAt]?.querySelector('input.field-name')?.focus();
    setFocusAt(-1);
  }, [focusAt]);
  if (draft.type === 'view') {
    return html`<p class="help">The fields of a view collection come from its query. They are updated when you save.</p>
      <ul class="view-fields">
        ${draft.fields.length
          ? draft.fields.map((f) => html`<li><span class="field-type">${typeIcon(f.type)}</span><code>${f.name}</code><span class="muted">${f.type}</span></li>`)
          : html`<li class="muted">No fields yet.</li>`}
      </ul>`;
  }
  function add() {
    // Keep created/updated last, like the PocketBase dashboard.
    let at = draft.fields.length;
    while (at > 0 && draft.fields[at - 1].type === 'autodate' && draft.fields[at - 1].system !== true && ['created', 'updated'].includes(draft.fields[at - 1].name)) at--;
    draft.fields.splice(at, 0, newField(addType));
    changed();
    setFocusAt(at);
  }
  const remove = (f) => {
    draft.fields.splice(draft.fields.indexOf(f), 1);
    changed();
  };
  return html`<div class="field-list" ref=${listEl}>
      ${draft.fields.map((f, i) => html`<${FieldCard} key=${f.id || f} field=${f} index=${i} errors=${errors} changed=${changed} onRemove=${() => remove(f)} />`)}
    </div>
    ${errors.fields ? html`<div class="field-error">${errors.fields}</div>` : null}
    <div class="add-field">
      <select id="new-field-type" aria-label="New field type" value=${addType} onChange=${(e) => setAddType(e.target.value)}>
        ${fieldTypes().map((t) => html`<option value=${t}>${t}</option>`)}
      </select>
      <button type="button" class="btn btn-secondary" id="add-field" onClick=${add}>+ Add field</button>
    </div>`;
}

function FieldCard({ field: f, index: i, errors, changed, onRemove }) {
  const locked = !!f.system;
  const err = Object.entries(errors)
    .filter(([k]) => k === `fields.${i}` || k.startsWith(`fields.${i}.`))
    .map(([k, m]) => (k === `fields.${i}` ? m : `${k.slice(`fields.${i}.`.length)}: ${m}`));
  const [open, setOpen] = useState(false);
  const shown = open || err.length > 0;
  const set = (k) => (v) => ((f[k] = v), changed());
  function changeType(type) {
    const { name, required } = f;
    for (const k of Object.keys(f)) delete f[k];
    Object.assign(f, newField(type, name), { required });
    changed();
  }
  return html`<div class=${err.length ? 'field-card has-error' : 'field-card'} data-index=${String(i)} data-name=${f.name}>
    <div class="field-card-row">
      <span class="field-type big" title=${f.type}>${typeIcon(f.type)}</span>
      <input class="field-name" type="text" value=${f.name} placeholder="field name" disabled=${locked} aria-label="Field name" spellcheck="false" autocomplete="off"
        onInput=${(e) => ((f.name = e.target.value.trim()), changed())} />
      <select class="field-type-select" disabled=${!!f.id || locked} aria-label="Field type" value=${f.type} onChange=${(e) => changeType(e.target.value)}>
        ${fieldTypes().concat(fieldTypes().includes(f.type) ? [] : [f.type]).map((t) => html`<option value=${t}>${t}</option>`)}
      </select>
      <${Check} label="Required" checked=${f.required} onChange=${set('required')} disabled=${locked && f.name === 'id'} />
      <button type="button" class="btn btn-ghost btn-small" title="Options" aria-expanded=${String(shown)} onClick=${() => setOpen(!shown)}>⚙ Options</button>
      <button type="button" class="btn btn-icon btn-danger-ghost" title=${locked ? 'System field' : 'Remove field'} aria-label=${`Remove field ${f.name}`} disabled=${locked} onClick=${onRemove}>${locked ? '⊘' : '✕'}</button>
    </div>
    <div class="field-options" hidden=${!shown}><${FieldOptions} field=${f} set=${set} /></div>
    ${err.length ? html`<div class="field-error">${err.join(' — ')}</div>` : null}
  </div>`;
}

const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

function FieldOptions({ field: f, set }) {
  const collections = useCollections();
  const num = (label, key, { nullable = false, step = '1' } = {}) => html`<label class="opt"><span>${label}</span>
    <input type="number" step=${step} value=${f[key] ?? ''} aria-label=${label} onInput=${(e) => set(key)(e.target.value === '' ? (nullable ? null : 0) : Number(e.target.value))} /></label>`;
  const text = (label, key, placeholder = '') => html`<label class="opt"><span>${label}</span>
    <input type="text" value=${f[key] ?? ''} placeholder=${placeholder} aria-label=${label} spellcheck="false" onInput=${(e) => set(key)(e.target.value)} /></label>`;
  const listInput = (label, key, placeholder, cls = 'opt') => html`<label class=${cls}><span>${label}</span>
    <input type="text" value=${(f[key] || []).join(', ')} placeholder=${placeholder} aria-label=${label} spellcheck="false" onChange=${(e) => set(key)(list(e.target.value))} /></label>`;
  const check = (label, key, disabled) => html`<${Check} label=${label} checked=${f[key]} onChange=${set(key)} disabled=${disabled} />`;
  let opts = null;
  switch (f.type) {
    case 'text':
      opts = [num('Min length', 'min'), num('Max length', 'max'), text('Pattern (regex)', 'pattern', 'e.g. ^\\w+$'), text('Autogenerate pattern', 'autogeneratePattern')];
      break;
    case 'editor':
    case 'json':
      opts = num('Max size (bytes)', 'maxSize');
      break;
    case 'number':
      opts = [num('Min', 'min', { nullable: true, step: 'any' }), num('Max', 'max', { nullable: true, step: 'any' }), check('Integers only', 'onlyInt')];
      break;
    case 'date':
      opts = [text('Min', 'min', 'YYYY-MM-DD HH:MM:SS.sssZ'), text('Max', 'max', 'YYYY-MM-DD HH:MM:SS.sssZ')];
      break;
    case 'autodate':
      opts = [check('Set on create', 'onCreate'), check('Set on update', 'onUpdate')];
      break;
    case 'select':
      opts = [listInput('Choices (comma separated)', 'values', 'draft, published, archived', 'opt wide'), num('Max select', 'maxSelect')];
      break;
    case 'relation':
      opts = [
        html`<label class="opt"><span>Collection</span>
          <select aria-label="Related collection" value=${f.collectionId || ''} onChange=${(e) => set('collectionId')(e.target.value)}>
            <option value="">— select a collection —</option>
            ${collections.map((c) => html`<option value=${c.id}>${c.name}</option>`)}
          </select></label>`,
        num('Max select', 'maxSelect'),
        check('Cascade delete', 'cascadeDelete'),
      ];
      break;
    case 'file':
      opts = [
        num('Max files', 'maxSelect'),
        num('Max size (bytes)', 'maxSize'),
        listInput('MIME types', 'mimeTypes', 'image/png, image/jpeg (empty: any)'),
        listInput('Thumb sizes', 'thumbs', '100x100, 0x300'),
        check('Protected', 'protected'),
      ];
      break;
    case 'email':
    case 'url':
      opts = [listInput('Only domains', 'onlyDomains', 'example.com, …'), listInput('Except domains', 'exceptDomains', 'example.com, …')];
      break;
    default:
  }
  return html`${opts}
    ${f.type !== 'password' ? html`${check('Hidden', 'hidden', f.system && f.name === 'id')}${check('Presentable', 'presentable')}` : null}
    <label class="opt wide"><span>Help text</span>
      <input type="text" value=${f.help ?? ''} placeholder="Help text shown in the record form" aria-label="Help text" onInput=${(e) => set('help')(e.target.value)} /></label>`;
}

// ---- rules tab ------------------------------------------------------------------------

function RulesTab({ draft, errors, changed, clearErrors, onCheck }) {
  const rules = draft.type === 'view' ? RULES.slice(0, 2) : draft.type === 'auth' ? [...RULES, ...AUTH_RULES] : RULES;
  return html`<p class="help">Rules are filters that a request must match. <strong>Empty</strong> grants everyone access; <strong>superusers only</strong> (null) locks the action to superusers. Example: <code>@request.auth.id != ""</code>. Typing suggests fields and macros (Ctrl+Space too); the server checks a rule when you leave it.</p>
    ${rules.map(([key, label, help]) => html`<${RuleRow} key=${key} rule=${key} label=${label} help=${help} draft=${draft} error=${errors[key]} changed=${changed} clearErrors=${clearErrors} onCheck=${onCheck} />`)}`;
}

function RuleRow({ rule, label, help, draft, error, changed, clearErrors, onCheck }) {
  const [id] = useState(() => nextId('rule'));
  const input = useRef(null);
  const locked = draft[rule] === null || draft[rule] === undefined;
  function toggle(on) {
    draft[rule] = on ? null : '';
    clearErrors((k) => k === rule);
    changed();
    if (!on) setTimeout(() => input.current?.focus(), 0);
  }
  function edit(text) {
    draft[rule] = text;
    clearErrors((k) => k === rule);
    changed();
  }
  return html`<div class=${error ? 'rule has-error' : 'rule'} data-rule=${rule}>
    <div class="rule-head">
      <label class="field-label" for=${id}>${label}</label>
      <label class="check rule-lock"><input type="checkbox" name=${`${rule}-superusers-only`} checked=${locked} onChange=${(e) => toggle(e.target.checked)} /><span>Superusers only (null)</span></label>
    </div>
    <${RuleInput} id=${id} name=${rule} inputRef=${input} label=${label} draft=${draft} disabled=${locked} value=${locked ? '' : draft[rule]}
      invalid=${!!error} describedBy=${error ? `${id}-error` : undefined}
      placeholder=${locked ? 'Only superusers can perform this action' : 'Leave empty to grant everyone access'}
      onChange=${edit} onBlur=${onCheck} />
    ${help ? html`<div class="help">${help}</div>` : null}
    ${error ? html`<div class="field-error" id=${`${id}-error`} data-error-for=${rule}>${error}</div>` : null}
  </div>`;
}

// ---- view query tab ----------------------------------------------------------------------

function QueryTab({ draft, errors, changed }) {
  return html`<p class="help">A single SELECT statement. It must return an <code>id</code> column; the other columns become the fields.</p>
    <textarea id="collection-viewquery" class="mono" rows="10" name="viewQuery" spellcheck="false" placeholder="SELECT id, title, created FROM posts WHERE …" value=${draft.viewQuery || ''}
      onInput=${(e) => ((draft.viewQuery = e.target.value), changed())}></textarea>
    ${errors.viewQuery ? html`<div class="field-error">${errors.viewQuery}</div>` : null}`;
}
