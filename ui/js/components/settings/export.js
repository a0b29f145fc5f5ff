// Settings / Export collections: the chosen collection definitions as JSON, to download or
// copy, in the shape PUT /api/collections/import takes.
import { html, useState, useMemo, useEffect } from '../../lib.js';
import { useCollections, loadCollections } from '../../api.js';
import { toast } from '../overlays.js';

/** A collection as exported: its definition without the timestamps. */
export const exportable = ({ created, updated, ...c }) => c;

export default function Export() {
  const collections = useCollections();
  // The definitions as they are now (others may have changed them since the dashboard loaded).
  useEffect(() => void loadCollections().catch(() => {}), []);
  const [skip, setSkip] = useState(() => new Set());
  const chosen = collections.filter((c) => !skip.has(c.id));
  const text = useMemo(() => JSON.stringify(chosen.map(exportable), null, 2), [chosen.map((c) => c.id + c.updated).join()]);
  const toggle = (id) => setSkip((s) => (s.has(id) ? new Set([...s].filter((x) => x !== id)) : new Set([...s, id])));
  function download() {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    a.download = `pb_schema_${new Date().toISOString().slice(0, 10)}.json`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      toast('Copied.');
    } catch {
      toast('The browser refused the clipboard; select the text instead.', 'error');
    }
  }
  return html`<div class="card export-page">
    <div class="export-layout">
      <fieldset class="export-choice">
        <legend>Collections</legend>
        <label class="check"><input type="checkbox" id="export-all" checked=${skip.size === 0} onChange=${(e) => setSkip(new Set(e.target.checked ? [] : collections.map((c) => c.id)))} /> All</label>
        ${collections.map((c) => html`<label class="check" key=${c.id}><input type="checkbox" data-collection=${c.name} checked=${!skip.has(c.id)} onChange=${() => toggle(c.id)} /> ${c.name}</label>`)}
      </fieldset>
      <div class="field grow">
        <label class="field-label" for="export-json">JSON <span class="field-hint">${chosen.length} collection${chosen.length === 1 ? '' : 's'}</span></label>
        <textarea id="export-json" class="mono" rows="22" readonly value=${text}></textarea>
      </div>
    </div>
    <div class="form-actions">
      <button type="button" class="btn btn-secondary" id="export-copy" onClick=${copy}>Copy</button>
      <button type="button" class="btn btn-primary" id="export-download" disabled=${!chosen.length} onClick=${download}>⇩ Download JSON</button>
    </div>
  </div>`;
}
