// Sorts differences into known (by entry) and unexplained, and renders the summary.
import { target } from './play.mjs';

/** The class of a difference: its corpus category, its kind and, for rules and fields, the action. */
export const classOf = (req, d) => `${req.cat}/${d.cls}${req.tags?.action ? `/${req.tags.action}` : ''}`;

/** The database oxbase runs on in this pass. */
export const DATABASE = process.env.SDK_DATABASE_URL ? 'postgres' : 'sqlite';

/** Splits the differences into those a known entry (for this database) explains and the rest. */
export function triage(results, table) {
  const known = table.filter((k) => !k.db || k.db === DATABASE);
  const hits = new Map(known.map((k) => [k.id, 0]));
  const unexplained = [];
  const explained = [];
  for (const r of results) {
    for (const d of r.diffs) {
      const entry = known.find((k) => k.match({ req: r.req, d, pb: r.pb, ox: r.ox }));
      if (entry) {
        hits.set(entry.id, hits.get(entry.id) + 1);
        explained.push({ ...r, d, entry: entry.id });
      } else {
        unexplained.push({ ...r, d });
      }
    }
  }
  return { hits, explained, unexplained };
}

const clip = (v, n = 600) => {
  const s = typeof v === 'string' ? v : String(JSON.stringify(v));
  return s.length > n ? `${s.slice(0, n)}…` : s;
};

/** One difference, readable: the request, the difference and both answers. */
export function describe({ req, d, pb, ox }) {
  const body = req.body === undefined ? '' : ` ${req.enc || 'json'} ${clip(req.body, 300)}`;
  return [
    `[${classOf(req, d)}] ${req.label}`,
    `  ${req.method || 'GET'} ${target(req)}${body} (caller ${req.caller || 'guest'})`,
    `  ${d.cls} at ${d.path || '(status)'}: pocketbase ${clip(d.pb, 200)} / oxbase ${clip(d.ox, 200)}`,
    `  pocketbase ${pb.status} ${clip(pb.body)}`,
    `  oxbase     ${ox.status} ${clip(ox.body)}`,
  ].join('\n');
}

/** Counts per key, as lines `  key: n`, largest first. */
export function counts(items, keyOf) {
  const m = new Map();
  for (const x of items) m.set(keyOf(x), (m.get(keyOf(x)) || 0) + 1);
  return [...m].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${k}: ${n}`);
}
