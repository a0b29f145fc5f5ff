// Settings / Import collections: JSON pasted or loaded from a file, a preview of what it
// changes, then PUT /api/collections/import {collections, deleteMissing} as PocketBase does.
import { html, useState, useMemo, useEffect } from '../../lib.js';
import { pb, errorMessage, fieldErrors, loadCollections, useCollections } from '../../api.js';
import { confirmDialog, toast } from '../overlays.js';
import { diffCollections } from './import-diff.js';

function parse(text) {
  if (!text.trim()) return { list: null, error: '' };
  try {
    const v = JSON.parse(text);
    if (!Array.isArray(v)) return { list: null, error: 'Expected a JSON array of collections.' };
    if (v.some((c) => !c || typeof c !== 'object' || typeof c.name !== 'string')) return { list: null, error: 'Each collection needs a name.' };
    return { list: v, error: '' };
  } catch (e) {
    return { list: null, error: `Invalid JSON: ${e.message}` };
  }
}

export default function Import() {
  const current = useCollections();
  // The diff is against the definitions as they are now.
  useEffect(() => void loadCollections().catch(() => {}), []);
  const [text, setText] = useState('');
  const [merge, setMerge] = useState(true);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const { list, error: parseError } = useMemo(() => parse(text), [text]);
  const diff = useMemo(() => list && diffCollections(current, list, { deleteMissing: !merge }), [list, current, merge]);
  const nothing = diff && !diff.added.length && !diff.changed.length && !diff.deleted.length;

  async function loadFile(e) {
    const f = e.target.files?.[0];
    e.target.value = '';
    if (f) setText(await f.text());
  }
  async function submit() {
    if (diff.deleted.length) {
      const ok = await confirmDialog(`Delete ${diff.deleted.length} collection${diff.deleted.length === 1 ? '' : 's'} and their records?`, {
        confirmText: 'Import and delete',
        detail: diff.deleted.map((d) => d.name).join(', '),
      });
      if (!ok) return;
    }
    setBusy(true);
    setError('');
    try {
      await pb.send('/api/collections/import', { method: 'PUT', body: { collections: list, deleteMissing: !merge } });
      await loadCollections();
      setText('');
      toast('Collections imported.');
    } catch (err) {
      const fe = Object.entries(fieldErrors(err)).map(([k, m]) => `${k}: ${m}`);
      setError([errorMessage(err), ...fe].join(' — '));
    } finally {
      setBusy(false);
    }
  }
  return html`<div class="card import-page">
    <div class="settings-form">
      <div class="field">
        <label class="field-label" for="import-json">Collections JSON <span class="field-hint"><label class="link-like">Load from a file<input type="file" accept=".json,application/json" hidden name="import-file" onChange=${loadFile} /></label></span></label>
        <textarea id="import-json" class=${parseError ? 'mono invalid' : 'mono'} rows="14" spellcheck="false" placeholder="[{&quot;name&quot;: &quot;posts&quot;, &quot;type&quot;: &quot;base&quot;, &quot;fields&quot;: [...]}]" value=${text} onInput=${(e) => setText(e.target.value)}></textarea>
        <div class="field-error" role="alert" hidden=${!parseError}>${parseError}</div>
      </div>
      <label class="check"><input type="checkbox" id="import-merge" checked=${merge} onChange=${(e) => setMerge(e.target.checked)} /> Merge with the existing collections (else the collections missing from the JSON are deleted)</label>
      ${diff ? html`<${DiffView} diff=${diff} />` : null}
      <div class="form-error" role="alert" hidden=${!error}>${error}</div>
      <div class="form-actions">
        <button type="button" class="btn btn-ghost" disabled=${!text} onClick=${() => (setText(''), setError(''))}>Clear</button>
        <button type="button" class="btn btn-primary" id="import-submit" disabled=${!diff || nothing || busy} onClick=${submit}>${busy ? 'Importing…' : 'Confirm and import'}</button>
      </div>
    </div>
  </div>`;
}

function DiffView({ diff }) {
  const row = (cls, label, name, detail) => html`<li class=${`diff-item diff-${cls}`} data-collection=${name}>
    <span class="diff-tag">${label}</span> <strong>${name}</strong>
    ${detail ? html`<ul class="diff-changes">${detail.map((c) => html`<li class=${`diff-${c.kind}`}>${c.text}</li>`)}</ul>` : null}
  </li>`;
  return html`<section class="import-diff" aria-label="Changes">
    <h3 class="card-title">Changes</h3>
    <ul class="diff-list">
      ${diff.added.map((a) => row('add', 'new', a.name, [{ kind: 'add', text: `${a.type}, ${a.fields} fields` }]))}
      ${diff.changed.map((c) => row('change', 'changed', c.oldName === c.name ? c.name : `${c.oldName} → ${c.name}`, c.changes))}
      ${diff.deleted.map((d) => row('remove', 'deleted', d.name))}
      ${diff.unchanged.length ? html`<li class="diff-item muted">${diff.unchanged.length} unchanged</li>` : null}
    </ul>
  </section>`;
}
