// Settings / SQL console: a superuser's statement run on the database (POST /api/sql).
// Read-only unless "Allow writes" is ticked for this one run.
import { html, useState } from '../../lib.js';
import { pb, errorMessage, fieldErrors } from '../../api.js';

export default function SqlConsole() {
  const [query, setQuery] = useState('');
  const [write, setWrite] = useState(false);
  const [result, setResult] = useState(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function run(e) {
    e?.preventDefault();
    setBusy(true);
    setError('');
    try {
      setResult(await pb.send('/api/sql', { method: 'POST', body: { query, write } }));
      setWrite(false);
    } catch (err) {
      setResult(null);
      setError(fieldErrors(err).query || errorMessage(err));
    } finally {
      setBusy(false);
    }
  }
  const onKey = (e) => (e.ctrlKey || e.metaKey) && e.key === 'Enter' && run(e);
  return html`<div class="stack">
    <form class="card settings-form" id="sql-form" onSubmit=${run}>
      <div class="field">
        <label class="field-label" for="sql-query">Query <span class="field-hint">Ctrl+Enter runs it</span></label>
        <textarea id="sql-query" name="query" class="mono" rows="6" placeholder="SELECT id, email FROM users LIMIT 10" spellcheck="false" value=${query} onInput=${(e) => setQuery(e.target.value)} onKeyDown=${onKey}></textarea>
      </div>
      <div class="form-actions spread">
        <label class="check"><input type="checkbox" id="sql-write" checked=${write} onChange=${(e) => setWrite(e.target.checked)} /> Allow writes (this run only)</label>
        <button type="submit" class=${write ? 'btn btn-danger' : 'btn btn-primary'} id="sql-run" disabled=${busy || !query.trim()}>${busy ? 'Running…' : write ? 'Run with writes' : 'Run'}</button>
      </div>
      <div class="form-error" role="alert" hidden=${!error}>${error}</div>
    </form>
    ${result
      ? html`<div class="card sql-result">
          <p class="muted" role="status">${result.rows.length} row${result.rows.length === 1 ? '' : 's'}${result.affectedRows ? `, ${result.affectedRows} affected` : ''} in ${result.execTime} ms${result.rows.length >= 1000 ? ' (the first 1,000)' : ''}</p>
          ${result.columns.length
            ? html`<div class="table-scroll"><table class="plain-table sql-table">
                <thead><tr>${result.columns.map((c) => html`<th title=${c.type}>${c.name}</th>`)}</tr></thead>
                <tbody>${result.rows.map((r) => html`<tr>${r.map((v) => html`<td class=${v === null ? 'muted mono' : 'mono'}>${v === null ? 'NULL' : v}</td>`)}</tr>`)}</tbody>
              </table></div>`
            : null}
        </div>`
      : null}
  </div>`;
}
