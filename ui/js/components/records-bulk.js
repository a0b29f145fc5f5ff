// Bulk actions on the selected records of the list: a bar with the count, "reset" and
// "delete selected" (confirmed, then one delete request per record through the SDK).
import { html } from '../lib.js';
import { pb, errorMessage } from '../api.js';
import { confirmDialog, toast } from './overlays.js';

/** Deletes the records; resolves to the ids that could not be deleted. */
export async function deleteRecords(collection, ids) {
  const api = pb.collection(collection.name);
  const results = await Promise.allSettled(ids.map((id) => api.delete(id)));
  const failed = results.map((r, i) => (r.status === 'rejected' ? [ids[i], r.reason] : null)).filter(Boolean);
  if (failed.length) toast(`Could not delete ${failed.length} record${failed.length === 1 ? '' : 's'}: ${errorMessage(failed[0][1])}`, 'error');
  return failed.map(([id]) => id);
}

export function BulkBar({ collection, selected, onClear, onDone }) {
  const n = selected.length;
  if (!n) return null;
  async function remove() {
    const ok = await confirmDialog(`Delete ${n} selected record${n === 1 ? '' : 's'}?`, { confirmText: 'Delete', detail: 'This cannot be undone.' });
    if (!ok) return;
    const failed = await deleteRecords(collection, selected);
    const done = n - failed.length;
    if (done) toast(`Deleted ${done} record${done === 1 ? '' : 's'}.`);
    onDone(failed);
  }
  return html`<div class="bulk-bar" role="region" aria-label="Selected records">
    <span class="bulk-count" aria-live="polite">${n} record${n === 1 ? '' : 's'} selected</span>
    <button type="button" class="btn btn-ghost btn-small" id="bulk-reset" onClick=${onClear}>Reset</button>
    <button type="button" class="btn btn-danger btn-small" id="bulk-delete" onClick=${remove}>Delete selected</button>
  </div>`;
}
