// The webhook endpoints and broker targets of Settings / Webhooks & brokers: a card per
// entry, added and removed in place, each input bound to its path in the draft
// (`webhooks.endpoints.0.url`), so the server's errors show under it.
import { html } from '../../lib.js';
import { useCollections } from '../../api.js';
import { Text, Num, List, Choice } from './form.js';

const ACTIONS = ['create', 'update', 'delete'];
const SYSTEM_EVENTS = [
  ['collections', 'collection definitions'],
  ['settings', 'settings'],
];

/** Checkboxes over `options` ([value, label]) editing the list at `path`. */
function Flags({ form, path, label, options, help }) {
  const value = form.get(path) || [];
  const toggle = (v, on) => form.set(path, on ? [...value, v] : value.filter((x) => x !== v));
  const err = form.errors[path] || Object.entries(form.errors).find(([k]) => k.startsWith(path + '.'))?.[1];
  form.known.add(path);
  return html`<div class=${err ? 'field has-error' : 'field'}>
    <span class="field-label">${label}</span>
    <div class="choice-group" role="group" aria-label=${label}>
      ${options.map(([v, l]) => html`<label class="check"><input type="checkbox" name=${`${path}.${v}`} checked=${value.includes(v)} onChange=${(e) => toggle(v, e.target.checked)} /> ${l}</label>`)}
    </div>
    ${help ? html`<div class="help">${help}</div>` : null}
    <div class="field-error" data-error-for=${path} hidden=${!err}>${err}</div>
  </div>`;
}

/**
 * `viewAs` at `at`: the auth record whose view of a record the events carry (its view rule and
 * hidden fields apply); none is a superuser's view, every field.
 */
function ViewAs({ form, at }) {
  const auth = useCollections().filter((c) => c.type === 'auth');
  const path = `${at}.viewAs`;
  const value = form.get(path);
  const options = [['', '— a superuser (every field) —'], ...auth.map((c) => [c.name, c.name])];
  const pick = (name) => form.set(path, name ? { collection: name, id: value?.id || '' } : undefined);
  return html`<div class="grid-2">
    <${Choice} form=${form} path=${`${path}.collection`} label="View records as" options=${options} onPick=${pick}
      help="The events show a record as this auth record views it." />
    ${value?.collection ? html`<${Text} form=${form} path=${`${path}.id`} label="Record id (of the auth record)" />` : null}
  </div>`;
}

function Entries({ form, path, label, blank, children }) {
  const list = form.get(path) || [];
  form.known.add(path);
  return html`<div class="entries" data-list=${path}>
    ${list.map(
      (_, i) => html`<fieldset class="pw-group entry" key=${i} data-index=${i}>
        <legend>${label} ${i + 1}</legend>
        ${children(`${path}.${i}`, list[i])}
        <div><button type="button" class="btn btn-danger-ghost btn-small entry-remove" onClick=${() => form.set(path, list.filter((__, j) => j !== i))}>Remove</button></div>
      </fieldset>`,
    )}
    <div><button type="button" class="btn btn-secondary btn-small entry-add" onClick=${() => form.set(path, [...list, structuredClone(blank)])}>+ Add ${label.toLowerCase()}</button></div>
  </div>`;
}

export function WebhookEndpoints({ form }) {
  const collections = useCollections();
  const options = [['', '— none (system events only) —'], ...collections.map((c) => [c.name, c.name])];
  return html`<${Entries} form=${form} path="webhooks.endpoints" label="Endpoint" blank=${{ url: '', collection: '', actions: [], systemEvents: [] }}>
    ${(at) => html`<div class="grid-2">
        <${Text} form=${form} path=${`${at}.url`} label="URL" type="url" placeholder="https://example.com/hooks/oxbase" />
        <${Choice} form=${form} path=${`${at}.collection`} label="Collection" options=${options} />
      </div>
      <${Flags} form=${form} path=${`${at}.actions`} label="Actions" options=${ACTIONS.map((a) => [a, a])} help="None ticked: all." />
      <${ViewAs} form=${form} at=${at} />
      <${Flags} form=${form} path=${`${at}.systemEvents`} label="System events" options=${SYSTEM_EVENTS} />`}
  </${Entries}>`;
}

export function BrokerTargets({ form }) {
  return html`<${Entries} form=${form} path="brokers.targets" label="Target" blank=${{ name: '', type: 'nats', url: '', collections: [], actions: [], subject: '', systemEvents: [] }}>
    ${(at, t) => html`<div class="grid-3">
        <${Text} form=${form} path=${`${at}.name`} label="Name" />
        <${Choice} form=${form} path=${`${at}.type`} label="Kind" options=${[['nats', 'NATS JetStream'], ['rabbitmq', 'RabbitMQ'], ['redis', 'Redis Streams']]} />
        <${Text} form=${form} path=${`${at}.url`} label="URL" placeholder="nats://127.0.0.1:4222" />
      </div>
      <div class="grid-2">
        <${List} form=${form} path=${`${at}.collections`} label="Collections" placeholder="empty: every non-system collection" />
        <${Text} form=${form} path=${`${at}.subject`} label=${t.type === 'redis' ? 'Stream key' : t.type === 'rabbitmq' ? 'Routing key' : 'Subject'} placeholder="oxbase.{collection}.{action}" />
        ${t.type === 'rabbitmq' ? html`<${Text} form=${form} path=${`${at}.exchange`} label="Exchange" placeholder="empty: the default exchange" />` : null}
        ${t.type === 'redis' ? html`<${Num} form=${form} path=${`${at}.maxLen`} label="Stream max length (~)" />` : null}
      </div>
      <${Flags} form=${form} path=${`${at}.actions`} label="Actions" options=${ACTIONS.map((a) => [a, a])} help="None ticked: all." />
      <${ViewAs} form=${form} at=${at} />
      <${Flags} form=${form} path=${`${at}.systemEvents`} label="System events" options=${SYSTEM_EVENTS} />`}
  </${Entries}>`;
}
