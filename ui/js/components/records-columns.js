// The column chooser of the records list: which fields it shows, remembered per collection in
// localStorage. As in PocketBase, a choice is kept by field id (it survives a rename) and only
// where it differs from the default: every field shown, except those marked hidden.
import { html, useState, useEffect, useRef } from '../lib.js';

const key = (collection) => `oxbase.columns.${collection.id}`;
const fieldKey = (f) => f.id || f.name;

function readPrefs(collection) {
  try {
    const v = JSON.parse(localStorage.getItem(key(collection)) || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

/** {isShown(field), setShown(field, on)} for a collection, kept in localStorage. */
export function useColumns(collection) {
  const [prefs, set] = useState(() => readPrefs(collection));
  useEffect(() => set(readPrefs(collection)), [collection.id]);
  const isShown = (f) => prefs[fieldKey(f)] ?? !f.hidden;
  function setShown(f, on) {
    const next = { ...prefs };
    if (on === !f.hidden) delete next[fieldKey(f)];
    else next[fieldKey(f)] = on;
    set(next);
    if (Object.keys(next).length) localStorage.setItem(key(collection), JSON.stringify(next));
    else localStorage.removeItem(key(collection));
  }
  return { isShown, setShown };
}

/** A "Columns" button opening a list of checkboxes, one per field; at least one stays shown. */
export function ColumnChooser({ fields, columns }) {
  const [open, setOpen] = useState(false);
  const box = useRef(null);
  useEffect(() => {
    if (!open) return;
    const away = (e) => !box.current?.contains(e.target) && setOpen(false);
    const esc = (e) => {
      if (e.key !== 'Escape') return;
      e.stopPropagation();
      setOpen(false);
      box.current?.querySelector('#columns-toggle')?.focus();
    };
    document.addEventListener('mousedown', away);
    document.addEventListener('keydown', esc, true);
    return () => (document.removeEventListener('mousedown', away), document.removeEventListener('keydown', esc, true));
  }, [open]);
  const shown = fields.filter(columns.isShown);
  return html`<div class="column-chooser" ref=${box}>
    <button type="button" class="btn btn-ghost" id="columns-toggle" aria-expanded=${String(open)} aria-controls="columns-menu" onClick=${() => setOpen(!open)}>☷ Columns</button>
    ${open
      ? html`<div class="columns-menu" id="columns-menu" role="group" aria-label="Shown columns">
          ${fields.map((f) => {
            const on = columns.isShown(f);
            return html`<label class="choice"><input type="checkbox" data-column=${f.name} checked=${on} disabled=${on && shown.length === 1}
              onChange=${(e) => columns.setShown(f, e.target.checked)} /><span>${f.name}</span></label>`;
          })}
        </div>`
      : null}
  </div>`;
}
