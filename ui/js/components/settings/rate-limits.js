// The rate-limit rules of Settings / Application: a row per rule (label, audience, max
// requests per duration), added and removed in place.
import { html } from '../../lib.js';
import { Toggle, List } from './form.js';

const AUDIENCES = [
  ['', 'All'],
  ['@guest', 'Guests only'],
  ['@auth', 'Authenticated only'],
];

export function RateLimits({ form }) {
  const rules = form.get('rateLimits.rules') || [];
  const setRule = (i, key, value) => form.set(`rateLimits.rules.${i}.${key}`, value);
  const err = (i, key) => form.errors[`rateLimits.rules.${i}.${key}`];
  form.known.add('rateLimits.rules');
  return html`<${Toggle} form=${form} path="rateLimits.enabled" label="Enable rate limiting" />
    <div class="table-scroll"><table class="plain-table rate-rules">
      <thead><tr><th>Label</th><th>Audience</th><th>Max requests</th><th>Per (seconds)</th><th><span class="sr-only">Remove</span></th></tr></thead>
      <tbody>
        ${rules.map(
          (r, i) => html`<tr key=${i} data-rule=${i}>
            <td><input aria-label="Label" class=${err(i, 'label') ? 'invalid mono' : 'mono'} title=${err(i, 'label') || ''} value=${r.label} placeholder="/api/ or *:auth or users:create" onInput=${(e) => setRule(i, 'label', e.target.value)} /></td>
            <td><select aria-label="Audience" value=${r.audience} onChange=${(e) => setRule(i, 'audience', e.target.value)}>${AUDIENCES.map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select></td>
            <td><input aria-label="Max requests" type="number" min="1" class=${err(i, 'maxRequests') ? 'invalid' : ''} value=${r.maxRequests} onInput=${(e) => setRule(i, 'maxRequests', Number(e.target.value))} /></td>
            <td><input aria-label="Duration in seconds" type="number" min="1" class=${err(i, 'duration') ? 'invalid' : ''} value=${r.duration} onInput=${(e) => setRule(i, 'duration', Number(e.target.value))} /></td>
            <td><button type="button" class="btn btn-icon btn-danger-ghost" aria-label="Remove rule" onClick=${() => form.set('rateLimits.rules', rules.filter((_, j) => j !== i))}>✕</button></td>
          </tr>`,
        )}
      </tbody>
    </table></div>
    <div class="field-error" role="alert" data-error-for="rateLimits.rules" hidden=${!Object.keys(form.errors).some((k) => k.startsWith('rateLimits.rules'))}>
      ${Object.entries(form.errors).filter(([k]) => k.startsWith('rateLimits.rules')).map(([k, m]) => `${k.replace('rateLimits.rules.', 'rule ')}: ${m}`).join('; ')}
    </div>
    <div><button type="button" class="btn btn-secondary btn-small" id="rate-rule-add" onClick=${() => form.set('rateLimits.rules', [...rules, { label: '', audience: '', duration: 10, maxRequests: 100 }])}>+ Add rule</button></div>
    <p class="help">A label is a path prefix (<code>/api/</code>), a method and path (<code>POST /api/files</code>), <code>collection:action</code> or <code>*:action</code> (auth, create, list...). The most specific rule applies.</p>
    <${List} form=${form} path="rateLimits.excludedIPs" label="Excluded IPs" placeholder="127.0.0.1" />`;
}
