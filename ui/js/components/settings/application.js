// Settings / Application: name, URL, dashboard controls, batch API, rate limits, trusted
// proxy, superuser IPs and what the logs keep.
import { html } from '../../lib.js';
import { useSettingsForm, SettingsForm, Text, Num, Toggle, List, Choice, Group } from './form.js';
import { RateLimits } from './rate-limits.js';

const LOG_LEVELS = [
  [-4, 'DEBUG (-4)'],
  [0, 'INFO (0)'],
  [4, 'WARN (4)'],
  [8, 'ERROR (8)'],
];

export default function Application() {
  const form = useSettingsForm(['meta', 'batch', 'rateLimits', 'trustedProxy', 'superuserIPs', 'logs']);
  return html`<div class="card"><${SettingsForm} form=${form} id="settings-application">
    <div class="grid-2">
      <${Text} form=${form} path="meta.appName" label="Application name" help="Shown in emails and in the page titles." />
      <${Text} form=${form} path="meta.appURL" label="Application URL" type="url" help="The public address of this server, used in links of emails." />
    </div>
    <${Toggle} form=${form} path="meta.hideControls" label="Hide collection create and edit controls" help="For production: the dashboard then shows no way to change the schema." />
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
      <${List} form=${form} path="trustedProxy.headers" label="IP headers" placeholder="X-Forwarded-For, X-Real-IP" />
      <${Toggle} form=${form} path="trustedProxy.useLeftmostIP" label="Use the leftmost IP of X-Forwarded-For (else the rightmost)" />
    </${Group}>
    <${Group} title="Superuser IPs" open=${false} help="When set, superuser requests are accepted only from these IPs or CIDR ranges. Careful: a wrong value locks you out.">
      <${List} form=${form} path="superuserIPs" label="Allowed IPs or ranges" placeholder="127.0.0.1, 10.0.0.0/8" />
    </${Group}>
    <${Group} title="Logs" open=${false}>
      <div class="grid-2">
        <${Num} form=${form} path="logs.maxDays" label="Keep logs for (days, 0: no logs)" />
        <${Choice} form=${form} path="logs.minLevel" label="Minimum level" options=${LOG_LEVELS} />
      </div>
      <${Toggle} form=${form} path="logs.logIP" label="Log the client IP" />
      <${Toggle} form=${form} path="logs.logAuthId" label="Log the authenticated record's id" />
    </${Group}>
  </${SettingsForm}></div>`;
}
