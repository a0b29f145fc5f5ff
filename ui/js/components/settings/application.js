// Settings / Application: name, URL, dashboard controls, batch API, rate limits, trusted
// proxy, superuser IPs and what the logs keep.
import { html, useState, useEffect } from '../../lib.js';
import { pb } from '../../api.js';
import { useSettingsForm, SettingsForm, Text, Num, Toggle, List, Group } from './form.js';
import { RateLimits } from './rate-limits.js';
import { LogsFields } from './logs-settings.js';

/** PocketBase's predefined accent colours (the dashboard's primary colour). */
const ACCENTS = ['#1055c9', '#a3142a', '#096d5c', '#e6620a', '#007d9c', '#3f3da9'];

/** What the server sees of this browser: its IP and a proxy header it noticed (GET /api/health). */
function useClientInfo() {
  const [info, setInfo] = useState({ realIP: '', possibleProxyHeader: '' });
  useEffect(() => {
    pb.health.check().then((h) => setInfo({ realIP: h.data?.realIP || '', possibleProxyHeader: h.data?.possibleProxyHeader || '' }), () => {});
  }, []);
  return info;
}

/** A chip that adds `value` to the list at `path` (once). */
const AddChip = ({ form, path, value, label }) =>
  value && !(form.get(path) || []).includes(value)
    ? html`<button type="button" class="chip chip-btn add-chip" onClick=${() => form.set(path, [...(form.get(path) || []), value])}>+ ${label}</button>`
    : null;

export default function Application() {
  const form = useSettingsForm(['meta', 'batch', 'rateLimits', 'trustedProxy', 'superuserIPs', 'logs']);
  const client = useClientInfo();
  const accent = form.get('meta.accentColor') || '';
  return html`<div class="card"><${SettingsForm} form=${form} id="settings-application">
    <div class="grid-2">
      <${Text} form=${form} path="meta.appName" label="Application name" help="Shown in emails and in the page titles." />
      <${Text} form=${form} path="meta.appURL" label="Application URL" type="url" help="The public address of this server, used in links of emails." />
    </div>
    <${Toggle} form=${form} path="meta.hideControls" label="Hide collection create and edit controls" help="For production: the dashboard then shows no way to change the schema." />
    <div class="field">
      <span class="field-label">Accent colour</span>
      <div class="swatches" role="group" aria-label="Accent colour">
        ${ACCENTS.map((c) => html`<button type="button" class=${accent === c ? 'swatch active' : 'swatch'} style=${`background:${c}`} aria-label=${`Accent ${c}`} aria-pressed=${String(accent === c)} onClick=${() => form.set('meta.accentColor', c)}></button>`)}
        <input type="color" id="set-meta-accentColor" name="accentColor" aria-label="Custom accent colour" value=${accent || ACCENTS[0]} onInput=${(e) => form.set('meta.accentColor', e.target.value)} />
      </div>
      <div class="help">The dashboard's primary colour.</div>
    </div>
    <${Group} title="Batch API" open=${false} help="POST /api/batch: several record changes in one transaction.">
      <${Toggle} form=${form} path="batch.enabled" label="Enable the batch API" />
      <div class="grid-3">
        <${Num} form=${form} path="batch.maxRequests" label="Max requests in a batch" />
        <${Num} form=${form} path="batch.timeout" label="Timeout (seconds)" />
        <${Num} form=${form} path="batch.maxBodySize" label="Max body size (bytes, 0: default)" />
      </div>
    </${Group}>
    <${Group} title="Rate limits" open=${false}>
      <${RateLimits} form=${form} />
    </${Group}>
    <${Group} title="Trusted proxy" open=${false} help="Behind a reverse proxy: the headers that carry the client's IP (X-Forwarded-For, X-Real-IP...). Leave empty when the server faces clients directly.">
      ${client.possibleProxyHeader && !(form.get('trustedProxy.headers') || []).length
        ? html`<p class="help warn" role="status">Your requests seem to come through a proxy that sets <code>${client.possibleProxyHeader}</code>: without it here, every client counts as the proxy's IP (rate limits, logs).</p>`
        : null}
      <${List} form=${form} path="trustedProxy.headers" label="IP headers" placeholder="X-Forwarded-For, X-Real-IP" />
      <div class="chips presets">
        ${['X-Forwarded-For', 'X-Real-IP', 'CF-Connecting-IP', 'Fly-Client-IP'].map((h) => html`<${AddChip} form=${form} path="trustedProxy.headers" value=${h} label=${h === client.possibleProxyHeader ? `${h} (seen)` : h} />`)}
      </div>
      <${Toggle} form=${form} path="trustedProxy.useLeftmostIP" label="Use the leftmost IP of X-Forwarded-For (else the rightmost)" />
    </${Group}>
    <${Group} title="Superuser IPs" open=${false} help="When set, superuser requests are accepted only from these IPs or CIDR ranges. Careful: a wrong value locks you out.">
      <${List} form=${form} path="superuserIPs" label="Allowed IPs or ranges" placeholder="Leave empty for no restriction" />
      <div class="chips presets">
        <${AddChip} form=${form} path="superuserIPs" value=${client.realIP} label=${`${client.realIP} (you)`} />
        ${(form.get('superuserIPs') || []).length ? html`<button type="button" class="chip chip-btn" id="superuser-ips-clear" onClick=${() => form.set('superuserIPs', [])}>Clear</button>` : null}
      </div>
    </${Group}>
    <${Group} title="Logs" open=${false}>
      <${LogsFields} form=${form} />
    </${Group}>
  </${SettingsForm}></div>`;
}
