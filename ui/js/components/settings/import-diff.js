// What importing collection definitions would change: each imported collection matched to a
// current one (by id, else by name) as added, changed (with the fields and properties that
// differ) or unchanged, and the current ones the import deletes when it does not merge.
import { exportable } from './export.js';

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
/** Fields keyed by id (else name), to tell renamed from replaced. */
const byKey = (fields = []) => new Map(fields.map((f) => [f.id || f.name, f]));

export function diffCollections(current, imported, { deleteMissing }) {
  const out = { added: [], changed: [], unchanged: [], deleted: [] };
  const matched = new Set();
  for (const next of imported) {
    const old = current.find((c) => next.id && c.id === next.id) || current.find((c) => c.name === next.name);
    if (!old) {
      out.added.push({ name: next.name, type: next.type || 'base', fields: (next.fields || []).length });
      continue;
    }
    matched.add(old.id);
    const changes = collectionChanges(exportable(old), next);
    if (changes.length) out.changed.push({ name: next.name, oldName: old.name, changes });
    else out.unchanged.push({ name: next.name });
  }
  if (deleteMissing) for (const c of current) if (!matched.has(c.id) && !c.system) out.deleted.push({ name: c.name });
  return out;
}

/** ["fields added: a, b", "listRule: \"\" → null", ...] */
function collectionChanges(old, next) {
  const changes = [];
  const oldF = byKey(old.fields);
  const nextF = byKey(next.fields);
  const added = [...nextF.keys()].filter((k) => !oldF.has(k)).map((k) => nextF.get(k).name);
  const removed = [...oldF.keys()].filter((k) => !nextF.has(k)).map((k) => oldF.get(k).name);
  const changed = [...nextF.keys()].filter((k) => oldF.has(k) && !sameField(oldF.get(k), nextF.get(k))).map((k) => fieldLabel(oldF.get(k), nextF.get(k)));
  if (added.length) changes.push({ kind: 'add', text: `fields added: ${added.join(', ')}` });
  if (removed.length) changes.push({ kind: 'remove', text: `fields removed: ${removed.join(', ')}` });
  if (changed.length) changes.push({ kind: 'change', text: `fields changed: ${changed.join(', ')}` });
  for (const key of new Set([...Object.keys(old), ...Object.keys(next)])) {
    if (key === 'fields' || key === 'id' || !(key in next)) continue;
    if (!same(old[key], next[key])) changes.push({ kind: 'change', text: `${key}: ${show(old[key])} → ${show(next[key])}` });
  }
  return changes;
}

/** Compared on the options the import names: an option it leaves out keeps its value. */
const sameField = (a, b) => Object.keys(b).every((k) => same(a[k], b[k]));
/** "title (max: 0 → 10)", "name → title": the field and the options the import changes. */
function fieldLabel(a, b) {
  const keys = Object.keys(b).filter((k) => k !== 'name' && !same(a[k], b[k]));
  const name = a.name === b.name ? a.name : `${a.name} → ${b.name}`;
  return keys.length ? `${name} (${keys.map((k) => `${k}: ${show(a[k])} → ${show(b[k])}`).join(', ')})` : name;
}

function show(v) {
  const s = JSON.stringify(v);
  return s === undefined ? 'unset' : s.length > 60 ? s.slice(0, 57) + '…' : s;
}
