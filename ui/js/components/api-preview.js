// The API preview panel of a collection (PocketBase's "API Preview"): a tab per action (list,
// view, create, update, delete, realtime, batch, and an auth collection's sign-in flows), each
// with its endpoint, rule, parameters, example answers, and a JS SDK and a curl example to copy.
// Loaded when first opened (records.js imports it), so it is not part of the first load.
import { html, useState, useEffect, useMemo, useRef } from '../lib.js';
import { pb, useCollections } from '../api.js';
import { Panel, toast } from './overlays.js';
import { apiActions, QUERY_PARAMS } from './api-preview-actions.js';
import { prettyJson } from './api-preview-examples.js';

/** The auth collection a sign-in example names: this one, else the first of the app's own. */
function signInCollection(c, collections) {
  if (c.type === 'auth') return c.name;
  return collections.find((x) => x.type === 'auth' && !x.system)?.name || '_superusers';
}

/** Says so when the batch API is off (the settings may be unreadable: then nothing). */
function BatchOffNote() {
  const [enabled, setEnabled] = useState(null);
  useEffect(() => {
    let live = true;
    pb.send('/api/settings', {})
      .then((s) => live && setEnabled(!!s?.batch?.enabled))
      .catch(() => {});
    return () => (live = false);
  }, []);
  if (enabled !== false) return null;
  return html`<p class="form-error api-batch-off">The batch API is off: turn it on in <a href="#/settings/application">Settings / Application</a>.</p>`;
}

export function ApiPreview({ collection: c, close }) {
  const collections = useCollections();
  const ctx = useMemo(
    () => ({
      origin: location.origin,
      signInCollection: signInCollection(c, collections),
      nameOf: (id) => collections.find((x) => x.id === id || x.name === id)?.name || id,
    }),
    [c, collections],
  );
  const actions = useMemo(() => apiActions(c, ctx), [c, ctx]);
  const [currentId, setCurrentId] = useState(actions[0].id);
  const current = actions.find((a) => a.id === currentId) || actions[0];
  const tablist = useRef(null);
  const focusTab = (id) => tablist.current?.querySelector(`[data-action="${id}"]`)?.focus();

  // The panel opens on its selected tab, so the arrow keys work at once.
  useEffect(() => focusTab(current.id), []);

  // A tablist: the arrow keys (either direction: the list is a column, or a row on phones),
  // Home and End move the selection and the focus; Tab leaves the list.
  function onTabKey(e) {
    const step = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 }[e.key];
    const i = actions.indexOf(current);
    let next = null;
    if (step) next = actions[(i + step + actions.length) % actions.length];
    else if (e.key === 'Home') next = actions[0];
    else if (e.key === 'End') next = actions[actions.length - 1];
    if (!next) return;
    e.preventDefault();
    setCurrentId(next.id);
    focusTab(next.id);
  }

  const footer = html`<div class="footer-left">
      <a class="btn btn-ghost" href="/api/docs" target="_blank" rel="noopener">API docs ↗</a>
      <a class="btn btn-ghost" href="/api/openapi.json" target="_blank" rel="noopener">OpenAPI JSON ↗</a>
    </div>
    <button type="button" class="btn btn-secondary" onClick=${close}>Close</button>`;

  return html`<${Panel} title=${`API preview: ${c.name}`} wide onClose=${close} footer=${footer}>
    <div class="api-preview">
      <div class="api-nav" role="tablist" aria-label="Actions" aria-orientation="vertical" ref=${tablist} onKeyDown=${onTabKey}>
        ${actions.map(
          (a) => html`<button type="button" role="tab" key=${a.id} id=${`api-tab-${a.id}`} data-action=${a.id} class=${a === current ? 'api-tab active' : 'api-tab'}
            aria-selected=${String(a === current)} aria-controls="api-action" tabindex=${a === current ? '0' : '-1'} onClick=${() => setCurrentId(a.id)}>${a.label}</button>`,
        )}
      </div>
      <section class="api-action" id="api-action" role="tabpanel" aria-labelledby=${`api-tab-${current.id}`} data-action=${current.id}>
        <${ActionDetails} key=${current.id} action=${current} />
      </section>
    </div>
  <//>`;
}

function ActionDetails({ action: a }) {
  return html`<h3 class="api-title">${a.label}</h3>
    <p class="help">${a.summary}</p>
    ${a.batchSetting ? html`<${BatchOffNote} />` : null}
    ${a.endpoints.map((ep) => html`<${Endpoint} endpoint=${ep} />`)}
    <dl class="api-rules">
      ${a.rules.map((r) => html`<dt>${r.label}</dt><dd>${ruleText(r)}</dd>`)}
    </dl>
    <${CodeBlock} label="JS SDK" lang="js" code=${a.js} />
    <${CodeBlock} label="curl" lang="curl" code=${a.curl} />
    ${a.endpoints.map((ep) => html`<${EndpointParams} endpoint=${ep} many=${a.endpoints.length > 1} />`)}
    <h4 class="api-subtitle">Example responses</h4>
    ${a.responses.map(
      (r, i) => html`<details class="api-response" open=${i === 0} data-status=${r.status}>
        <summary><span class=${`api-status ${statusClass(r.status)}`}>${r.status}</span> ${r.label || STATUS_TEXT[r.status] || ''}</summary>
        <pre class="api-json" tabindex="0" aria-label=${`Example response ${r.status}`}>${prettyJson(r.body)}</pre>
      </details>`,
    )}
    <p class="api-docs"><a href=${a.docs} target="_blank" rel="noopener" class="api-docs-action">${a.label} in the API docs ↗</a></p>`;
}

const STATUS_TEXT = { 200: 'OK', 204: 'No content', 400: 'Bad request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not found', event: 'Event data' };
const statusClass = (status) => (typeof status !== 'number' || status < 300 ? 'api-status-ok' : 'api-status-error');

/** A rule as the panel says it: null is superusers only, empty is everyone, else its text. */
function ruleText(r) {
  if (r.text) return r.text;
  if (r.rule === null || r.rule === undefined) return html`<span class="api-rule-locked">Only superusers</span>`;
  if (r.rule === '') return 'Everyone';
  return html`<code class="api-rule">${r.rule}</code>`;
}

function Endpoint({ endpoint: ep }) {
  return html`<div class="api-endpoint">
    <span class=${`api-method api-method-${ep.method.toLowerCase()}`}>${ep.method}</span>
    <code class="api-path">${ep.path}</code>
    ${ep.note ? html`<span class="api-endpoint-note">${ep.note}</span>` : null}
  </div>`;
}

/** The path, query and body parameters of one endpoint (nothing when it takes none). */
function EndpointParams({ endpoint: ep, many }) {
  const query = (ep.query || []).map((name) => ({ name, type: QUERY_PARAMS[name][0], hint: QUERY_PARAMS[name][1] }));
  const of = many ? ` of ${ep.path.split('/').pop()}` : '';
  return html`${ep.pathParams ? html`<${ParamTable} caption=${`Path parameters${of}`} rows=${ep.pathParams} kind="path" />` : null}
    ${ep.body?.length ? html`<${ParamTable} caption=${`Body parameters${of}`} rows=${ep.body} kind="body" note=${ep.bodyNote} />` : null}
    ${query.length ? html`<${ParamTable} caption=${`Query parameters${of}`} rows=${query} kind="query" />` : null}`;
}

function ParamTable({ caption, rows, kind, note }) {
  return html`<table class="plain-table api-params" data-kind=${kind}>
      <caption>${caption}</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Description</th></tr></thead>
      <tbody>
        ${rows.map(
          (r) => html`<tr data-param=${r.name}>
            <td><code>${r.name}</code>${kind === 'body' ? html`<div class=${r.required ? 'api-required' : 'muted'}>${r.required ? 'required' : 'optional'}</div>` : null}</td>
            <td><span class="chip">${r.type}</span></td>
            <td>${r.hint}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${note ? html`<p class="help">${note}</p>` : null}`;
}

/** Selects the text of `el`, for the user to copy when the clipboard is refused. */
function selectText(el) {
  const range = document.createRange();
  range.selectNodeContents(el);
  const selection = getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  el.focus();
}

/** An example with its Copy button; the block scrolls sideways, the page does not. */
function CodeBlock({ label, lang, code }) {
  const pre = useRef(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(code);
      toast(`${label} example copied.`);
    } catch {
      // No clipboard (an insecure origin, or refused): select it for Ctrl+C instead.
      selectText(pre.current);
      toast('The browser refused the clipboard: the example is selected, press Ctrl+C.', 'error');
    }
  }
  return html`<figure class="api-code" data-lang=${lang}>
    <figcaption class="api-code-head">
      <span>${label}</span>
      <button type="button" class="btn btn-secondary btn-small api-copy" aria-label=${`Copy the ${label} example`} onClick=${copy}>Copy</button>
    </figcaption>
    <pre ref=${pre} tabindex="0" aria-label=${`${label} example`}><code>${code}</code></pre>
  </figure>`;
}
