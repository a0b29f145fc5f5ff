// Settings / Crons: the scheduled jobs (the server's own and those of hooks), each with a
// button that starts it now (POST /api/crons/{id}; it runs in the background).
import { html, useState, useEffect } from '../../lib.js';
import { pb, errorMessage } from '../../api.js';
import { toast, bodyRows } from '../overlays.js';

export default function Crons() {
  const [jobs, setJobs] = useState(null);
  const [error, setError] = useState('');
  const [running, setRunning] = useState({});
  const reload = () =>
    pb.crons.getFullList().then(
      (list) => (setJobs(list), setError('')),
      (err) => setError(errorMessage(err)),
    );
  useEffect(() => void reload(), []);
  async function run(id) {
    setRunning((r) => ({ ...r, [id]: true }));
    try {
      await pb.crons.run(id);
      toast(`Started ${id}.`);
    } catch (err) {
      toast(errorMessage(err), 'error');
    } finally {
      setRunning((r) => ({ ...r, [id]: false }));
    }
  }
  return html`<div class="card">
    <div class="card-head">
      <p class="help">Jobs run on the server's clock (UTC). With several instances on one PostgreSQL database, one instance runs each tick.</p>
      <button type="button" class="btn btn-ghost btn-small" id="crons-refresh" onClick=${reload}>↻ Refresh</button>
    </div>
    ${error ? html`<div class="form-error" role="alert">${error}</div>` : null}
    <table class="plain-table crons-table">
      <thead><tr><th>Job</th><th>Schedule</th><th><span class="sr-only">Run</span></th></tr></thead>
      <tbody>
        ${bodyRows(
          jobs,
          3,
          'No cron jobs.',
          (j) => html`<tr key=${j.id} class="cron-row" data-cron=${j.id}>
                  <td class="mono">${j.id}</td>
                  <td class="mono">${j.expression}</td>
                  <td class="row-actions"><button type="button" class="btn btn-secondary btn-small cron-run" disabled=${running[j.id]} onClick=${() => run(j.id)}>▶ Run now</button></td>
                </tr>`,
              )}
      </tbody>
    </table>
  </div>`;
}
