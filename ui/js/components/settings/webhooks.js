// Settings / Webhooks & brokers: where record changes are POSTed or published, how deliveries
// are retried, and the deliveries that ran out of attempts (dead letters), each replayable.
import { html, useState, useEffect } from '../../lib.js';
import { pb, errorMessage, loadCollections } from '../../api.js';
import { openPanel, Panel, toast, bodyRows } from '../overlays.js';
import { useSettingsForm, SettingsForm, Text, Num, Group } from './form.js';
import { WebhookEndpoints, BrokerTargets } from './endpoints.js';


export default function Webhooks() {
  const form = useSettingsForm(['webhooks', 'brokers']);
  // The endpoints' collection choice lists the collections as they are now.
  useEffect(() => void loadCollections().catch(() => {}), []);
  return html`<div class="stack">
    <div class="card"><${SettingsForm} form=${form} id="settings-webhooks">
      <${Group} title="Webhooks">
        <${WebhookEndpoints} form=${form} />
        <div class="grid-3">
          <${Num} form=${form} path="webhooks.maxAttempts" label="Attempts" min="1" />
          <${Num} form=${form} path="webhooks.backoffMs" label="First retry after (ms)" />
          <${Num} form=${form} path="webhooks.timeoutMs" label="Attempt timeout (ms)" />
        </div>
        <${Text} form=${form} path="webhooks.secret" label="Signing secret" type="password" placeholder="unchanged" help="Standard Webhooks signatures: whsec_ and base64 bytes, or any text." />
      </${Group}>
      <${Group} title="Message brokers">
        <${BrokerTargets} form=${form} />
        <div class="grid-2">
          <${Text} form=${form} path="brokers.source" label="CloudEvents source" />
          <${Num} form=${form} path="brokers.maxAttempts" label="Attempts" min="1" />
          <${Num} form=${form} path="brokers.backoffMs" label="First retry after (ms)" />
          <${Num} form=${form} path="brokers.timeoutMs" label="Attempt timeout (ms)" />
        </div>
      </${Group}>
    </${SettingsForm}></div>
    <${DeadLetters} kind="webhooks" title="Webhook dead letters" />
    <${DeadLetters} kind="brokers" title="Broker dead letters" />
  </div>`;
}

function DeadLetters({ kind, title }) {
  const [items, setItems] = useState(null);
  const [error, setError] = useState('');
  const base = `/api/${kind}/dead-letters`;
  const reload = () =>
    pb.send(base, {}).then(
      (r) => (setItems(r.items || []), setError('')),
      (err) => setError(errorMessage(err)),
    );
  useEffect(() => void reload(), []);
  async function replay(id) {
    try {
      await pb.send(`${base}/${encodeURIComponent(id)}/replay`, { method: 'POST' });
      toast('Queued again.');
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
    reload();
  }
  const show = (d) =>
    openPanel((close) => html`<${Panel} title=${`Dead letter ${d.id}`} onClose=${close}
        footer=${html`<span></span><div class="footer-right"><button type="button" class="btn btn-primary" onClick=${() => (close(), replay(d.id))}>Replay</button></div>`}>
        <dl class="record-meta">
          ${Object.entries(d).filter(([k]) => k !== 'payload').map(([k, v]) => html`<dt>${k}</dt><dd class="mono">${String(v)}</dd>`)}
        </dl>
        <pre class="json-view">${JSON.stringify(d.payload, null, 2)}</pre>
      </${Panel}>`);
  return html`<div class="card dead-letters" data-kind=${kind}>
    <div class="card-head">
      <h2 class="card-title">${title}</h2>
      <button type="button" class="btn btn-ghost btn-small dead-refresh" onClick=${reload}>↻ Refresh</button>
    </div>
    ${error ? html`<div class="form-error" role="alert">${error}</div>` : null}
    <div class="table-scroll"><table class="plain-table">
      <thead><tr><th>Target</th><th>Attempts</th><th>Last error</th><th>Created</th><th><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>
        ${bodyRows(
          items,
          5,
          'None: every delivery succeeded or is still being tried.',
          (d) => html`<tr key=${d.id} class="dead-row" data-id=${d.id}>
                  <td class="mono ellipsis">${d.url || d.target || d.name || ''}</td>
                  <td>${d.attempts}</td>
                  <td class="ellipsis" title=${d.lastError}>${d.lastError}</td>
                  <td>${d.created}</td>
                  <td class="row-actions">
                    <button type="button" class="btn btn-ghost btn-small dead-view" onClick=${() => show(d)}>View</button>
                    <button type="button" class="btn btn-secondary btn-small dead-replay" onClick=${() => replay(d.id)}>Replay</button>
                  </td>
                </tr>`,
              )}
      </tbody>
    </table></div>
  </div>`;
}
