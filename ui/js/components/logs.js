// The logs page (#/logs?filter=&superuserRequests=0): requests per hour as a chart
// (GET /api/logs/stats; dragging across it narrows the list to that time), the entries with
// level badges (GET /api/logs, newest first, 50 at a time) and a detail panel. A plain search
// term searches the message, URL and method.
import { html, useState, useEffect, useLayoutEffect, submitted } from '../lib.js';
import { pb, errorMessage } from '../api.js';
import { openPanel, Panel, bodyRows } from './overlays.js';
import { TimeChart } from './chart.js';
import { normalizeFilter } from './records.js';
import { LogsSettingsPanel } from './settings/logs-settings.js';

/** What a plain search term looks in (as a collection's text fields for `normalizeFilter`). */
const SEARCHED = { fields: ['message', 'data.url', 'data.method', 'data.userIP'].map((name) => ({ name, type: 'text' })) };
/** A log's `created` for a filter, from unix seconds. */
const stamp = (t) => new Date(t * 1000).toISOString().replace('T', ' ');

const PER_PAGE = 50;
const LEVELS = { '-4': ['DEBUG', 'debug'], 0: ['INFO', 'info'], 4: ['WARN', 'warn'], 8: ['ERROR', 'error'] };
const SUPERUSERS_OUT = 'data.auth != "_superusers"';

export function LevelBadge({ level }) {
  const [name, cls] = LEVELS[level] || [`L${level}`, 'info'];
  return html`<span class=${`level level-${cls}`} data-level=${level}>${name}</span>`;
}

/** The filter sent: the typed one, and superusers' requests left out unless wanted. */
function effectiveFilter(typed, withSuperusers) {
  const term = normalizeFilter(typed, SEARCHED);
  const parts = [term && `(${term})`, !withSuperusers && SUPERUSERS_OUT].filter(Boolean);
  return parts.join(' && ');
}

const HOUR = 3600;

/** The stats as one point per hour, zeros included, over the last day at least. */
function hourly(stats) {
  const counts = new Map(stats.map((s) => [Date.parse(s.date.replace(' ', 'T')) / 1000, s.total]));
  const now = Math.floor(Date.now() / 1000 / HOUR) * HOUR;
  const first = Math.min(now - 23 * HOUR, ...counts.keys());
  const points = [];
  for (let x = first; x <= Math.max(now, ...counts.keys()); x += HOUR) points.push({ x, y: counts.get(x) || 0 });
  return points;
}

export default function Logs({ query }) {
  const urlFilter = query.get('filter') || '';
  const withSuperusers = query.get('superuserRequests') !== '0';
  const [typed, setTyped] = useState(urlFilter);
  const [items, setItems] = useState(null);
  const [total, setTotal] = useState(0);
  const [page, setPage] = useState(1);
  const [stats, setStats] = useState([]);
  const [error, setError] = useState('');
  const [tick, setTick] = useState(0);
  const [zoom, setZoom] = useState(null); // {min, max}: unix seconds dragged on the chart
  const filter = effectiveFilter(urlFilter, withSuperusers);
  const listFilter = [filter && `(${filter})`, zoom && `created >= "${stamp(zoom.min)}" && created <= "${stamp(zoom.max)}"`].filter(Boolean).join(' && ');

  useEffect(() => {
    document.title = 'Logs - oxbase';
  }, []);
  // With the render that shows the new route (no input can land in between and be overwritten).
  useLayoutEffect(() => setTyped(urlFilter), [urlFilter]);
  useEffect(() => {
    let alive = true;
    setError('');
    Promise.all([pb.logs.getList(1, PER_PAGE, { filter: listFilter, sort: '-created' }), pb.logs.getStats({ filter })]).then(
      ([list, st]) => {
        if (!alive) return;
        setItems(list.items);
        setTotal(list.totalItems);
        setPage(1);
        setStats(hourly(st));
      },
      (err) => alive && (setError(errorMessage(err)), setItems([]), setStats([])),
    );
    return () => (alive = false);
  }, [listFilter, tick]);

  async function more() {
    try {
      const list = await pb.logs.getList(page + 1, PER_PAGE, { filter: listFilter, sort: '-created' });
      setItems([...items, ...list.items]);
      setPage(page + 1);
    } catch (err) {
      setError(errorMessage(err));
    }
  }
  const navigate = (f, su) => {
    const q = new URLSearchParams();
    if (f.trim()) q.set('filter', f.trim());
    if (!su) q.set('superuserRequests', '0');
    const next = `#/logs${q.toString() ? '?' + q : ''}`;
    if (location.hash === next) setTick((t) => t + 1);
    else location.hash = next;
  };

  return html`<div class="page logs-page">
    <header class="page-header">
      <div class="page-title"><h1>Logs</h1><span class="count-badge">${items ? `${total} ${total === 1 ? 'entry' : 'entries'}` : ''}</span></div>
      <div class="page-actions">
        <label class="check"><input type="checkbox" id="logs-superusers" checked=${withSuperusers} onChange=${(e) => navigate(urlFilter, e.target.checked)} /> Include superuser requests</label>
        <button type="button" class="btn btn-secondary" id="logs-refresh" onClick=${() => setTick((t) => t + 1)}>↻ Refresh</button>
        <button type="button" class="btn btn-secondary" id="logs-settings" onClick=${() => openPanel((close) => html`<${LogsSettingsPanel} close=${close} />`)}>⚙ Settings</button>
      </div>
    </header>
    <form class="filter-bar" role="search" data-filter=${urlFilter} onSubmit=${(e) => (e.preventDefault(), navigate(submitted(e), withSuperusers))}>
      <span class="filter-icon" aria-hidden="true">⌕</span>
      <input id="logs-filter" name="filter" class=${error ? 'filter-input invalid' : 'filter-input'} type="search" aria-label="Filter logs" spellcheck="false"
        placeholder='level > 0 && data.status >= 400, data.url ~ "/api/"' value=${typed} onInput=${(e) => setTyped(e.target.value)} />
      <button type="submit" class="btn btn-primary btn-small" id="logs-filter-apply">Filter</button>
    </form>
    ${error ? html`<div class="filter-error" role="alert">${error}</div>` : null}
    <div class="card chart-card">
      <div class="card-head">
        <h2 class="card-title">Requests per hour</h2>
        ${zoom
          ? html`<span class="inline-actions"><span class="muted" id="logs-zoom">${stamp(zoom.min).slice(0, 16)} – ${stamp(zoom.max).slice(0, 16)}</span>
              <button type="button" class="btn btn-ghost btn-small" id="logs-zoom-reset" onClick=${() => setZoom(null)}>Reset zoom</button></span>`
          : html`<span class="help">Drag across the chart to narrow the list to that time.</span>`}
      </div>
      <${TimeChart} id="logs-chart" xs=${stats.map((p) => p.x)} series=${[{ label: 'Entries', values: stats.map((p) => p.y) }]} bars onSelect=${(min, max) => setZoom({ min, max })} />
    </div>
    <div class="table-wrap">
      <table class="records-table logs-table">
        <thead><tr><th class="th-plain">Level</th><th class="th-plain">Message</th><th class="th-plain">Status</th><th class="th-plain">Time</th><th class="th-plain">Created</th></tr></thead>
        <tbody>
          ${bodyRows(
            items,
            5,
            'No logs found.',
            (l) => html`<tr key=${l.id} class="record-row log-row" tabindex="0" data-id=${l.id}
                      onClick=${() => showLog(l)} onKeyDown=${(e) => e.key === 'Enter' && showLog(l)}>
                    <td><${LevelBadge} level=${l.level} /></td>
                    <td class="log-message">${l.data?.method ? html`<span class="mono">${l.data.method} ${l.data.url}</span>` : l.message}</td>
                    <td>${l.data?.status ? html`<span class=${l.data.status >= 400 ? 'status status-bad' : 'status'}>${l.data.status}</span>` : ''}</td>
                    <td>${l.data?.execTime != null ? `${Number(l.data.execTime).toFixed(1)} ms` : ''}</td>
                    <td class="muted">${l.created}</td>
                  </tr>`,
                )}
        </tbody>
      </table>
    </div>
    ${items && items.length < total ? html`<div class="pager"><button type="button" class="btn btn-secondary" id="logs-more" onClick=${more}>Load more</button></div>` : null}
  </div>`;
}

function showLog(log) {
  openPanel((close) => html`<${Panel} title="Log entry" onClose=${close} footer=${html`<span></span><div class="footer-right"><button type="button" class="btn btn-secondary" onClick=${close}>Close</button></div>`}>
    <dl class="record-meta log-detail">
      <dt>id</dt><dd class="mono">${log.id}</dd>
      <dt>level</dt><dd><${LevelBadge} level=${log.level} /></dd>
      <dt>created</dt><dd>${log.created}</dd>
      <dt>message</dt><dd>${log.message}</dd>
      ${Object.entries(log.data || {}).map(([k, v]) => html`<dt>data.${k}</dt><dd class="mono">${typeof v === 'object' ? JSON.stringify(v) : String(v)}</dd>`)}
    </dl>
    <details class="settings-group"><summary>JSON</summary><pre class="json-view">${JSON.stringify(log, null, 2)}</pre></details>
  </${Panel}>`);
}
