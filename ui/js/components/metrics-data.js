// The numbers of the metrics page: GET /metrics (Prometheus's text format) parsed and summed
// per scrape, and the rates and latency quantiles between consecutive scrapes.

/** Prometheus text → [{name, labels, value}]. */
export function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] || '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** One scrape, summed over the labels that do not matter here. `t`: unix seconds. */
export function summarize(samples, t) {
  const sum = (name) => samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);
  const requests = {};
  const buckets = new Map();
  for (const s of samples) {
    if (s.name === 'oxbase_http_requests_total') {
      const cls = `${String(s.labels.status || '?')[0]}xx`;
      requests[cls] = (requests[cls] || 0) + s.value;
    } else if (s.name === 'oxbase_http_request_duration_seconds_bucket') {
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      buckets.set(le, (buckets.get(le) || 0) + s.value);
    }
  }
  return {
    t,
    requests,
    buckets: [...buckets].sort((a, b) => a[0] - b[0]),
    authFailures: sum('oxbase_auth_failures_total'),
    realtimeClients: sum('oxbase_realtime_clients'),
    queuedWrites: sum('oxbase_db_queued_writes'),
    inFlight: sum('oxbase_http_requests_in_flight'),
    jobsPending: sum('oxbase_jobs_pending'),
    jobsDead: sum('oxbase_jobs_dead'),
  };
}

/** The `q` quantile (seconds) of the requests answered between two scrapes; null: none. */
export function quantile(prev, next, q) {
  const before = new Map(prev.buckets);
  const counts = next.buckets.map(([le, c]) => [le, c - (before.get(le) || 0)]);
  const total = counts.length ? counts[counts.length - 1][1] : 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [le, c] of counts) {
    if (c >= rank) return le === Infinity ? lower : lower + (le - lower) * ((rank - below) / Math.max(c - below, 1e-9));
    lower = le;
    below = c;
  }
  return lower;
}

/** The charts' series from the scrapes so far: one point per pair of consecutive scrapes. */
export function derive(history) {
  const pairs = history.slice(1).map((next, i) => [history[i], next]);
  const xs = pairs.map(([, n]) => n.t);
  const perMinute = (f) => pairs.map(([p, n]) => Math.max(0, ((f(n) - f(p)) * 60) / Math.max(n.t - p.t, 1e-3)));
  const classes = [...new Set(history.flatMap((h) => Object.keys(h.requests)))].sort();
  const gauge = (k) => pairs.map(([, n]) => n[k]);
  const ms = (q) => pairs.map(([p, n]) => {
    const v = quantile(p, n, q);
    return v === null ? null : v * 1000;
  });
  return {
    xs,
    requests: classes.map((c) => ({ label: c, values: perMinute((h) => h.requests[c] || 0) })),
    latency: [{ label: 'p50', values: ms(0.5) }, { label: 'p99', values: ms(0.99) }],
    errors: [
      { label: '5xx', values: perMinute((h) => h.requests['5xx'] || 0) },
      { label: 'auth failures', values: perMinute((h) => h.authFailures) },
    ],
    realtime: [{ label: 'clients', values: gauge('realtimeClients') }],
    writer: [{ label: 'queued writes', values: gauge('queuedWrites') }, { label: 'requests in flight', values: gauge('inFlight') }],
    outbox: [{ label: 'pending', values: gauge('jobsPending') }, { label: 'dead', values: gauge('jobsDead') }],
  };
}
