// The metrics page (#/metrics): the server's own metrics (GET /metrics, on with `serve
// --metrics`), scraped every few seconds while the page is open and charted as rates between
// scrapes: requests per minute by status, latency p50/p99, errors, realtime clients, the
// writer queue and the outbox. With `--metricsToken`, the page asks for the token once per tab.
import { html, useState, useEffect, useMemo } from '../lib.js';
import { TimeChart } from './chart.js';
import { parseMetrics, summarize, derive } from './metrics-data.js';

const EVERY_MS = 3000;
const KEEP = 200; // scrapes: 10 minutes
const TOKEN_KEY = 'oxbase_metrics_token';

export default function Metrics() {
  const [history, setHistory] = useState([]);
  const [status, setStatus] = useState('loading'); // loading | ok | off | token | error message
  const [token, setToken] = useState(() => sessionStorage.getItem(TOKEN_KEY) || '');
  const [typed, setTyped] = useState('');
  useEffect(() => {
    document.title = 'Metrics - oxbase';
  }, []);
  useEffect(() => {
    let alive = true;
    async function scrape() {
      try {
        const r = await fetch('/metrics', { cache: 'no-store', headers: token ? { Authorization: `Bearer ${token}` } : {} });
        if (!alive) return;
        if (r.status === 404) return setStatus('off');
        if (r.status === 401) return setStatus('token');
        if (!r.ok) return setStatus(`The server answered ${r.status}.`);
        const summary = summarize(parseMetrics(await r.text()), Date.now() / 1000);
        if (!alive) return;
        setHistory((h) => [...h, summary].slice(-KEEP));
        setStatus('ok');
      } catch (err) {
        if (alive) setStatus(`Cannot reach the server: ${err.message}`);
      }
    }
    scrape();
    const timer = setInterval(scrape, EVERY_MS);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [token]);
  const d = useMemo(() => derive(history), [history]);
  const saveToken = (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, typed.trim());
    setToken(typed.trim());
  };

  let body;
  if (status === 'off')
    body = html`<div class="card"><p>Metrics are off. Start the server with <code>oxbase serve --metrics</code> (or <code>--metricsToken</code>) to chart them here.</p></div>`;
  else if (status === 'token')
    body = html`<form class="card settings-form" onSubmit=${saveToken}>
      <div class="field"><label class="field-label" for="metrics-token">Metrics token</label>
        <input id="metrics-token" type="password" autocomplete="off" value=${typed} onInput=${(e) => setTyped(e.target.value)} />
        <div class="help">The server asks for the bearer token given with <code>--metricsToken</code>. It is kept in this tab only.</div></div>
      <div class="form-actions"><button type="submit" class="btn btn-primary">Use token</button></div>
    </form>`;
  else if (status !== 'ok' && status !== 'loading') body = html`<div class="form-error" role="alert">${status}</div>`;
  else if (d.xs.length === 0) body = html`<p class="muted" role="status">Collecting… (a point every ${EVERY_MS / 1000} s)</p>`;
  else
    body = html`<div class="metrics-grid">
      ${[
        ['metrics-requests', 'Requests per minute, by status', d.requests, ''],
        ['metrics-latency', 'Latency (ms)', d.latency, ''],
        ['metrics-errors', 'Errors per minute', d.errors, ''],
        ['metrics-realtime', 'Realtime clients', d.realtime, ''],
        ['metrics-writer', 'Writer queue and requests in flight', d.writer, ''],
        ['metrics-outbox', 'Outbox (webhook and broker deliveries)', d.outbox, ''],
      ].map(([id, title, series, unit]) => html`<div class="card chart-card" key=${id}>
          <h2 class="card-title">${title}</h2>
          <${TimeChart} id=${id} xs=${d.xs} series=${series} unit=${unit} height=${160} span=${300} />
        </div>`)}
    </div>`;
  return html`<div class="page metrics-page">
    <header class="page-header">
      <div class="page-title"><h1>Metrics</h1><span class="count-badge">${history.length ? `${history.length} scrapes, every ${EVERY_MS / 1000} s` : ''}</span></div>
    </header>
    <p class="help">Scraped from <code>/metrics</code> while this page is open; the database size is not among the server's metrics.</p>
    ${body}
  </div>`;
}
