// The richer record inputs: a JSON editor that validates as you type, a geoPoint input with
// range checks and a map, and a small rich-text editor (contenteditable with a toolbar) for
// `editor` fields. Each is one component taking the FieldRow input props ({id, field, value, onChange}).
import { html, useState, useEffect, useRef, lazy } from '../lib.js';
import { GEO_RANGE, geoProblem } from './fields.js';

// The map and its land outline load with the first geoPoint editor, not with the JSON or
// rich-text ones.
const GeoMap = lazy(() => import('./geo-map.js'), 'GeoMap');

// ---- JSON --------------------------------------------------------------------------------

/** Why a JSON text does not parse ('' when it does, or when it is empty: null). */
export function jsonProblem(text) {
  const t = String(text).trim();
  if (!t) return '';
  try {
    JSON.parse(t);
    return '';
  } catch (e) {
    return e.message.replace(/^JSON\.parse: /, '');
  }
}

export function JsonEditor({ id, field, value, onChange, readOnly }) {
  const problem = jsonProblem(value);
  const format = () => onChange(JSON.stringify(JSON.parse(value), null, 2));
  return html`<div class="json-editor">
    <textarea id=${id} class=${problem ? 'mono invalid' : 'mono'} name=${field.name} rows="6" disabled=${readOnly} spellcheck="false"
      aria-invalid=${problem ? 'true' : undefined} aria-describedby=${`${id}-status`} value=${value} onInput=${(e) => onChange(e.target.value)}></textarea>
    <div class="json-status" id=${`${id}-status`} data-json-status=${field.name}>
      ${problem
        ? html`<span class="json-invalid">Invalid JSON: ${problem}</span>`
        : html`<span class="muted">${String(value).trim() ? 'Valid JSON' : 'Empty (null)'}</span>`}
      ${!readOnly && !problem && String(value).trim() ? html`<button type="button" class="btn btn-ghost btn-small" onClick=${format}>Format</button>` : null}
    </div>
  </div>`;
}

// ---- geoPoint ----------------------------------------------------------------------------

export function GeoPointInput({ id, field, value, onChange, readOnly }) {
  // The row's label points at the longitude input (the first of the two).
  const part = (k, label) => {
    const problem = geoProblem(k, value[k]);
    const [min, max] = GEO_RANGE[k];
    return html`<label class="sub">${label}
      <input id=${k === 'lon' ? id : undefined} type="number" step="any" min=${min} max=${max} placeholder="0" name=${`${field.name}.${k}`} value=${value[k]} disabled=${readOnly}
        class=${problem ? 'invalid' : undefined} aria-invalid=${problem ? 'true' : undefined} onInput=${(e) => onChange({ ...value, [k]: e.target.value })} /></label>`;
  };
  const problems = ['lon', 'lat'].map((k) => geoProblem(k, value[k])).filter(Boolean);
  // The map shows the typed value when it is valid (empty counts as 0, as on save).
  const at = (k) => (geoProblem(k, value[k]) ? NaN : Number(value[k]));
  return html`<div class="geo-input" role="group" aria-label=${`${field.name} coordinates`}>
    <div class="inline-inputs">${part('lon', 'Longitude')}${part('lat', 'Latitude')}</div>
    ${problems.length ? html`<div class="geo-status json-invalid">${problems.join(' ')}</div>` : null}
    <${GeoMap} label=${`${field.name} map`} lon=${at('lon')} lat=${at('lat')} readOnly=${readOnly}
      onPick=${(lon, lat) => onChange({ lon: String(lon), lat: String(lat) })} />
  </div>`;
}

// ---- rich text ------------------------------------------------------------------------------

const KEEP = new Set(['P', 'BR', 'B', 'STRONG', 'I', 'EM', 'U', 'S', 'A', 'UL', 'OL', 'LI', 'H1', 'H2', 'H3', 'H4', 'BLOCKQUOTE', 'CODE', 'PRE', 'DIV', 'SPAN', 'HR']);
const DROP = new Set(['SCRIPT', 'STYLE', 'IFRAME', 'OBJECT', 'EMBED', 'TEMPLATE', 'NOSCRIPT', 'SVG', 'MATH']);

/**
 * The stored HTML made safe to show in the dashboard: only formatting tags, links with
 * http(s)/mailto targets, no other attributes (a record's HTML may come from anyone who can
 * write to the collection). Parsed in an inert document: nothing loads or runs.
 */
export function sanitizeHTML(input) {
  const doc = new DOMParser().parseFromString(`<body>${input || ''}</body>`, 'text/html');
  const clean = (node) => {
    for (const el of [...node.children]) {
      if (DROP.has(el.tagName)) {
        el.remove();
        continue;
      }
      clean(el);
      if (!KEEP.has(el.tagName)) {
        el.replaceWith(...el.childNodes);
        continue;
      }
      const href = el.tagName === 'A' ? el.getAttribute('href') || '' : '';
      for (const a of [...el.attributes]) el.removeAttribute(a.name);
      if (/^(https?:|mailto:)/i.test(href.trim())) el.setAttribute('href', href.trim());
    }
  };
  clean(doc.body);
  return doc.body.innerHTML;
}

const TOOLS = [
  { cmd: 'bold', label: 'Bold', icon: html`<b>B</b>`, key: 'b' },
  { cmd: 'italic', label: 'Italic', icon: html`<i>I</i>`, key: 'i' },
  { cmd: 'createLink', label: 'Link', icon: html`<span class="rte-link-icon">link</span>` },
  { cmd: 'insertUnorderedList', label: 'Bulleted list', icon: '•≡' },
  { cmd: 'insertOrderedList', label: 'Numbered list', icon: '1≡' },
  { cmd: 'removeFormat', label: 'Clear formatting', icon: 'T̸' },
];

/** contenteditable with a toolbar (bold, italic, link, lists), and an HTML source view. */
export function RichTextEditor({ id, field, value, onChange, readOnly }) {
  const [source, setSource] = useState(false);
  const area = useRef(null);
  const last = useRef(null); // the HTML this editor last reported (not re-rendered into itself)
  useEffect(() => {
    const el = area.current;
    // Never while the user types in it: what they see is the value.
    if (!el || value === last.current || document.activeElement === el) return;
    el.innerHTML = sanitizeHTML(value);
    last.current = value;
  }, [value, source]);
  const report = () => {
    const v = area.current.innerHTML === '<br>' ? '' : area.current.innerHTML;
    last.current = v;
    onChange(v);
  };
  function run(tool) {
    area.current.focus();
    if (tool.cmd === 'createLink') {
      const url = prompt('Link address (https://…)', 'https://');
      if (!url || !/^(https?:|mailto:)/i.test(url.trim())) return;
      document.execCommand('createLink', false, url.trim());
    } else document.execCommand(tool.cmd, false);
    report();
  }
  const toolbar = html`<div class="rte-toolbar" role="toolbar" aria-label=${`${field.name} formatting`}>
    ${source
      ? null
      : TOOLS.map((t) => html`<button type="button" class="btn btn-ghost btn-small rte-btn" data-cmd=${t.cmd} title=${t.key ? `${t.label} (Ctrl+${t.key.toUpperCase()})` : t.label}
          disabled=${readOnly} onMouseDown=${(e) => e.preventDefault()} onClick=${() => run(t)}>
          <span aria-hidden="true">${t.icon}</span><span class="sr-only">${t.label}</span></button>`)}
    <button type="button" class="btn btn-ghost btn-small rte-source" aria-pressed=${String(source)} onClick=${() => ((last.current = null), setSource(!source))}>
      ${source ? 'Rich text' : 'HTML'}</button>
  </div>`;
  return html`<div class="rte" data-name=${field.name}>
    ${toolbar}
    ${source
      ? html`<textarea id=${id} class="mono" name=${field.name} rows="7" disabled=${readOnly} value=${value} onInput=${(e) => onChange(e.target.value)}></textarea>`
      : html`<div id=${id} ref=${area} class="rte-area" contenteditable=${readOnly ? 'false' : 'true'} role="textbox" aria-multiline="true"
          aria-label=${field.name} data-rte=${field.name} onInput=${report}
          onFocus=${() => document.execCommand('defaultParagraphSeparator', false, 'p')}></div>`}
  </div>`;
}
