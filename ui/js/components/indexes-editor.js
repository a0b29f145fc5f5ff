// The indexes tab of the collection editor: a row per index of `draft.indexes` (the statements
// stay the source of truth), and a form that writes one: columns chosen from the fields in the
// order picked, Unique, name and an optional WHERE; or the raw SQL, for anything the form cannot
// express (an expression index such as `lower(title)` only opens as SQL).
// parseIndex, formatIndex, newIndexName and retargetIndex are pure (tests/ui/indexes-editor.test.mjs).
import { html, useState, useRef, useLayoutEffect, nextId } from '../lib.js';

// ---- statements ----------------------------------------------------------------------------

const IDENT = '`[^`]*`|"[^"]*"|\\[[^\\]]*\\]|[A-Za-z0-9_]+';
// The form the server parses (crates/sql/src/ddl.rs, parse_index): the columns end at the
// first ")", so an expression index does not match.
const INDEX_RE = new RegExp(`^\\s*CREATE\\s+(UNIQUE\\s+)?INDEX\\s+(IF\\s+NOT\\s+EXISTS\\s+)?(${IDENT})\\s+ON\\s+(${IDENT})\\s*\\(([^)]*)\\)\\s*(?:WHERE\\s+([\\s\\S]*?))?\\s*;?\\s*$`, 'i');
const COLUMN_RE = new RegExp(`^(${IDENT})(?:\\s+COLLATE\\s+(${IDENT}))?(?:\\s+(ASC|DESC))?$`, 'i');

const unquote = (ident) => (/^[`"[]/.test(ident) ? ident.slice(1, -1) : ident);

/**
 * `CREATE [UNIQUE] INDEX name ON table (col [COLLATE c] [ASC|DESC], ...) [WHERE ...]` as
 * {name, unique, table, columns: [{name, collate, desc}], where}; null for any other statement.
 */
export function parseIndex(sql) {
  const m = INDEX_RE.exec(sql || '');
  if (!m || (m[6] !== undefined && !m[6].trim())) return null;
  const columns = [];
  for (const part of m[5].split(',')) {
    const c = COLUMN_RE.exec(part.trim());
    if (!c) return null;
    columns.push({ name: unquote(c[1]), collate: c[2] ? unquote(c[2]) : '', desc: /^desc$/i.test(c[3] || '') });
  }
  return { name: unquote(m[3]), unique: !!m[1], table: unquote(m[4]), columns, where: (m[6] || '').trim() };
}

/** The statement as PocketBase writes it: CREATE UNIQUE INDEX `name` ON `table` (`a`, `b`) WHERE .... */
export function formatIndex({ name, unique, table, columns, where = '' }) {
  const cols = columns.map((c) => `\`${c.name}\`${c.collate ? ` COLLATE ${c.collate}` : ''}${c.desc ? ' DESC' : ''}`);
  return `CREATE ${unique ? 'UNIQUE ' : ''}INDEX \`${name}\` ON \`${table}\` (${cols.join(', ')})${where.trim() ? ` WHERE ${where.trim()}` : ''}`;
}

/** A new index's name as PocketBase's dashboard proposes it: `idx_` and 10 random [a-z0-9]. */
export function newIndexName(random = Math.random) {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `idx_${Array.from({ length: 10 }, () => chars[Math.floor(random() * chars.length)]).join('')}`;
}

/** `sql` on `table` (a renamed collection's indexes follow it); unchanged when it is already, or does not parse. */
export function retargetIndex(sql, table) {
  const def = parseIndex(sql);
  return def && table && def.table !== table ? formatIndex({ ...def, table }) : sql;
}

/** An index's name, also from a statement the form cannot read. */
const nameOf = (sql) => parseIndex(sql)?.name || unquote(/INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?(\S+)/i.exec(sql)?.[1] || '') || 'index';

// ---- the tab ---------------------------------------------------------------------------------

/** The fields an index may use: the id is the primary key already, passwords are hashes. */
const indexable = (draft) => draft.fields.filter((f) => f.name && f.name !== 'id' && f.type !== 'password').map((f) => f.name);

/** Save errors of index `i` (`indexes.i`, `indexes.i.*`). */
function rowErrors(errors, i) {
  return Object.entries(errors)
    .filter(([k]) => k === `indexes.${i}` || k.startsWith(`indexes.${i}.`))
    .map(([, m]) => m);
}

export function IndexesTab({ draft, errors, changed, clearErrors }) {
  const [editing, setEditing] = useState(null); // the row being edited, or -1 for a new index
  // What to focus once rendered: a new object each time, so that closing twice to the same
  // place focuses it twice; before paint, so focus never lands on the body in between.
  const [focusAfter, setFocusAfter] = useState(null);
  const listEl = useRef(null);
  useLayoutEffect(() => {
    if (focusAfter) listEl.current?.parentElement.querySelector(focusAfter.selector)?.focus();
  }, [focusAfter]);

  function close(selector) {
    setEditing(null);
    setFocusAfter({ selector });
  }
  function apply(at, sql) {
    if (at < 0) draft.indexes.push(sql);
    else draft.indexes[at] = sql;
    clearErrors?.((k) => k.startsWith('indexes')); // the rows' numbers may have changed
    changed();
    close(`.index-row[data-index="${at < 0 ? draft.indexes.length - 1 : at}"] .index-edit`);
  }
  function remove(at) {
    draft.indexes.splice(at, 1);
    clearErrors?.((k) => k.startsWith('indexes'));
    changed();
    close('#index-new');
  }
  const form = (at) => html`<${IndexForm} key=${at} draft=${draft} sql=${at < 0 ? '' : draft.indexes[at]} onApply=${(sql) => apply(at, sql)}
    onCancel=${() => close(at < 0 ? '#index-new' : `.index-row[data-index="${at}"] .index-edit`)} />`;

  return html`<p class="help">Indexes make filters and sorts on their columns fast; a unique index refuses a second record with the same values.</p>
    <ul class="index-list" ref=${listEl}>
      ${draft.indexes.map((sql, i) =>
        editing === i
          ? html`<li class="index-row editing" data-index=${String(i)}>${form(i)}${rowError(rowErrors(errors, i))}</li>`
          : html`<${IndexRow} key=${sql} sql=${sql} index=${i} errors=${rowErrors(errors, i)} disabled=${editing !== null} onEdit=${() => setEditing(i)} onRemove=${() => remove(i)} />`,
      )}
      ${draft.indexes.length ? null : html`<li class="muted index-empty">No indexes yet.</li>`}
    </ul>
    ${errors.indexes ? rowError([errors.indexes]) : null}
    ${editing === -1
      ? html`<div class="index-row editing">${form(-1)}</div>`
      : html`<div><button type="button" class="btn btn-secondary" id="index-new" disabled=${editing !== null} onClick=${() => setEditing(-1)}>+ New index</button></div>`}`;
}

const rowError = (messages) => (messages.length ? html`<div class="field-error" role="alert">${messages.join(' — ')}</div>` : null);

function IndexRow({ sql, index, errors, disabled, onEdit, onRemove }) {
  const def = parseIndex(sql);
  const name = nameOf(sql);
  return html`<li class=${errors.length ? 'index-row has-error' : 'index-row'} data-index=${String(index)}>
    <div class="index-summary">
      <code class="index-name">${name}</code>
      ${def?.unique ? html`<span class="badge">Unique</span>` : null}
      ${def
        ? html`<span class="index-columns">${def.columns.map((c) => html`<code class="chip">${c.name}${c.collate ? ` ${c.collate}` : ''}${c.desc ? ' desc' : ''}</code>`)}</span>
            ${def.where ? html`<code class="index-where">WHERE ${def.where}</code>` : null}`
        : html`<code class="index-sql">${sql}</code>`}
      <span class="index-actions">
        <button type="button" class="btn btn-ghost btn-small index-edit" disabled=${disabled} aria-label=${`Edit index ${name}`} onClick=${onEdit}>Edit</button>
        <button type="button" class="btn btn-icon btn-danger-ghost index-remove" disabled=${disabled} aria-label=${`Remove index ${name}`} title="Remove index" onClick=${onRemove}>✕</button>
      </span>
    </div>
    ${rowError(errors)}
  </li>`;
}

/** Edits one statement (`sql`, empty for a new index) by column or as SQL. */
function IndexForm({ draft, sql, onApply, onCancel }) {
  const [ids] = useState(() => ({ name: nextId('index-name'), where: nextId('index-where'), sql: nextId('index-sql') }));
  const [state, setState] = useState(() => {
    const def = sql ? parseIndex(sql) : { name: newIndexName(), unique: false, columns: [], where: '' };
    return { mode: def ? 'columns' : 'raw', def: def || { name: nameOf(sql), unique: false, columns: [], where: '' }, raw: sql, notice: '' };
  });
  const { mode, def, raw, notice } = state;
  const update = (patch) => setState((s) => ({ ...s, notice: '', ...patch }));
  const setDef = (patch) => update({ def: { ...def, ...patch } });
  const statement = () => (mode === 'raw' ? raw.trim() : formatIndex({ ...def, table: draft.name }));
  const box = useRef(null);
  // At once (a layout effect): a key pressed right after opening goes to the form.
  useLayoutEffect(() => box.current?.querySelector('input, textarea')?.focus(), [mode]);

  function toggleColumn(name, on) {
    const kept = def.columns.filter((c) => c.name !== name);
    setDef({ columns: on ? [...kept, def.columns.find((c) => c.name === name) || { name, collate: '', desc: false }] : kept });
  }
  function switchMode(next) {
    if (next === mode) return;
    if (next === 'raw') return update({ mode: 'raw', raw: def.columns.length ? statement() : raw });
    const parsed = parseIndex(raw);
    if (raw.trim() && !parsed) return update({ notice: 'This statement is not a plain index of columns: edit it as SQL.' });
    update({ mode: 'columns', def: parsed || def });
  }
  function submit() {
    if (mode === 'columns' && !def.columns.length) return update({ notice: 'Choose at least one column.' });
    if (mode === 'columns' && !def.name.trim()) return update({ notice: 'The index needs a name.' });
    if (mode === 'raw' && !raw.trim()) return update({ notice: 'Write the CREATE INDEX statement.' });
    onApply(statement());
  }

  // Columns of the statement that are no field (a field renamed since) stay listed, to untick.
  const names = [...new Set([...indexable(draft), ...def.columns.map((c) => c.name)])];
  const position = (name) => def.columns.findIndex((c) => c.name === name) + 1;
  return html`<div class="index-form" ref=${box} onKeyDown=${(e) => e.key === 'Escape' && (e.stopPropagation(), onCancel())}>
    <div class="index-mode" role="group" aria-label="Edit the index">
      <button type="button" class="chip-btn" data-mode="columns" aria-pressed=${String(mode === 'columns')} onClick=${() => switchMode('columns')}>Columns</button>
      <button type="button" class="chip-btn" data-mode="raw" aria-pressed=${String(mode === 'raw')} onClick=${() => switchMode('raw')}>Raw SQL</button>
    </div>
    ${mode === 'columns'
      ? html`<fieldset class="index-columns-choice">
            <legend>Columns, in the order picked</legend>
            ${names.map((n) => {
              const at = position(n);
              return html`<label class="check"><input type="checkbox" name="index-column" value=${n} checked=${at > 0} onChange=${(e) => toggleColumn(n, e.target.checked)} />
                <span>${n}</span>${at ? html`<span class="index-pos">#${at}</span>` : null}</label>`;
            })}
          </fieldset>
          <div class="index-options">
            <label class="check"><input type="checkbox" name="index-unique" checked=${def.unique} onChange=${(e) => setDef({ unique: e.target.checked })} /><span>Unique</span></label>
            <div class="field"><label class="field-label" for=${ids.name}>Name</label>
              <input id=${ids.name} name="index-name" type="text" class="mono" spellcheck="false" autocomplete="off" value=${def.name} onInput=${(e) => setDef({ name: e.target.value.trim() })} /></div>
            <div class="field grow"><label class="field-label" for=${ids.where}>Where (optional)</label>
              <input id=${ids.where} name="index-where" type="text" class="mono" spellcheck="false" autocomplete="off" placeholder="e.g. status != 'draft'" value=${def.where} onInput=${(e) => setDef({ where: e.target.value })} /></div>
          </div>
          <code class="index-preview" aria-label="Statement">${def.columns.length ? statement() : 'Choose the columns.'}</code>`
      : html`<div class="field"><label class="field-label" for=${ids.sql}>CREATE INDEX statement</label>
          <textarea id=${ids.sql} name="index-sql" class="mono" rows="3" spellcheck="false" placeholder=${`CREATE INDEX \`idx_name\` ON \`${draft.name || 'posts'}\` (\`column\`)`} value=${raw}
            onInput=${(e) => update({ raw: e.target.value })}></textarea></div>`}
    ${notice ? html`<div class="field-error" role="alert">${notice}</div>` : null}
    <div class="inline-actions">
      <button type="button" class="btn btn-primary btn-small" id="index-apply" onClick=${submit}>${sql ? 'Set index' : 'Add index'}</button>
      <button type="button" class="btn btn-secondary btn-small" onClick=${onCancel}>Cancel</button>
    </div>
  </div>`;
}
