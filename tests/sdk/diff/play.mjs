// Plays one request against one server, normalises what differs by construction between two
// servers (generated ids, timestamps, tokens, stored file names), and compares two answers.

const DATE_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Keys whose values are server clocks (autodate fields, collection timestamps). */
const CLOCK_KEYS = new Set(['created', 'updated']);
/** Keys whose values are server secrets or one-time ids. */
const SECRET_KEYS = new Set(['token', 'mfaId', 'otpId']);
/** File fields of the fixture, whose values are stored names: `<base>_<10 random chars>.<ext>`. */
const FILE_KEYS = new Set(['attachment', 'gallery']);
const STORED_FILE_RE = /_[a-z0-9]{10}(\.[a-zA-Z0-9]+)?$/;
const REQUEST_TIMEOUT_MS = 15_000;

/** A file to upload: `blob('a.txt', 'text/plain', 'hello')`. Multipart encodings only. */
export const blob = (name, type = 'text/plain', text = 'hello') => ({ $blob: { name, type, text } });
/** A value read from a response saved earlier in the same unit, on the same server. */
export const ref = (save, ...path) => ({ $ref: { save, path } });

const isBlob = (v) => v && typeof v === 'object' && '$blob' in v;

function resolve(v, saved) {
  if (Array.isArray(v)) return v.map((x) => resolve(x, saved));
  if (v && typeof v === 'object') {
    if ('$ref' in v) {
      let cur = saved[v.$ref.save];
      for (const k of v.$ref.path) cur = cur?.[k];
      return cur ?? '';
    }
    if (isBlob(v)) return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x, saved)]));
  }
  return v;
}

const formScalar = (v) => {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
};

function appendPart(fd, key, v) {
  if (isBlob(v)) {
    fd.append(key, new Blob([v.$blob.text], { type: v.$blob.type }), v.$blob.name);
  } else if (Array.isArray(v)) {
    if (v.length === 0) fd.append(key, '');
    for (const x of v) appendPart(fd, key, x);
  } else {
    fd.append(key, formScalar(v));
  }
}

/**
 * The request body for an encoding:
 * - `json`: the object as JSON;
 * - `form`: multipart, one part per value (arrays as repeated parts, objects as JSON text);
 * - `payload`: multipart, files as parts and everything else in one `@jsonPayload` part;
 * - `mixed`: `{payload, parts}`: a `@jsonPayload` part AND plain parts (`[key, value]` pairs).
 */
function encode(enc, body) {
  if (body === undefined || enc === 'none') return { headers: {}, body: undefined };
  if (enc === 'json') return { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  const fd = new FormData();
  if (enc === 'form') {
    for (const [k, v] of Object.entries(body)) appendPart(fd, k, v);
  } else if (enc === 'payload') {
    const json = {};
    for (const [k, v] of Object.entries(body)) {
      if (isBlob(v) || (Array.isArray(v) && v.some(isBlob))) appendPart(fd, k, v);
      else json[k] = v;
    }
    fd.append('@jsonPayload', JSON.stringify(json));
  } else if (enc === 'mixed') {
    fd.append('@jsonPayload', JSON.stringify(body.payload));
    for (const [k, v] of body.parts) appendPart(fd, k, v);
  } else {
    throw new Error(`unknown encoding ${enc}`);
  }
  return { headers: {}, body: fd };
}

/** The path and query of a request, as sent (for reports). */
export function target(req) {
  const qs = req.query ? new URLSearchParams(req.query).toString() : '';
  return req.path + (qs ? `?${qs}` : '');
}

/**
 * Sends `req` to `server` ({kind, url, tokens}) and returns {status, body}. `saved` holds the
 * earlier answers of the same unit on this server (for `ref`), and `$tokens`, the callers' tokens.
 */
export async function send(server, req, saved) {
  const body = resolve(req.body, saved);
  const { headers, body: payload } = encode(req.enc || 'json', body);
  if (req.caller && req.caller !== 'guest') {
    // `@name`: the token of a login saved earlier in the unit.
    const token = req.caller.startsWith('@') ? saved[req.caller.slice(1)]?.token : server.tokens[req.caller];
    if (!token) throw new Error(`no token for caller ${req.caller} on ${server.kind}`);
    headers.authorization = token;
  }
  Object.assign(headers, req.headers || {});
  const r = await fetch(server.url + target(req), {
    method: req.method || 'GET',
    headers,
    body: payload,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await r.text();
  let parsed;
  try { parsed = text === '' ? '' : JSON.parse(text); } catch { parsed = text; }
  return { status: r.status, body: parsed };
}

const byId = (a, b) => String(a?.id).localeCompare(String(b?.id));

/** Replaces what two servers cannot agree on; `ids` maps the reference's ids to oxbase's. */
export function normalize(res, req, ids) {
  const walk = (v, key) => {
    // The order of back-related records in `expand` is the database's too.
    if (Array.isArray(v) && key.includes('_via_')) return v.map((x) => walk(x, key)).sort(byId);
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    }
    if (typeof v !== 'string') return v;
    if (CLOCK_KEYS.has(key) && DATE_RE.test(v)) return '<date>';
    if (SECRET_KEYS.has(key) && v !== '') return `<${key}>`;
    if (ids?.has(v)) return ids.get(v);
    return FILE_KEYS.has(key) ? v.replace(STORED_FILE_RE, '_<random>$1') : v;
  };
  const body = walk(res.body, '');
  // Without a sort (or sorted by values each server draws at random), the order of a list is
  // the database's: compare lists as sets.
  if ((!req.query?.sort || req.unordered) && Array.isArray(body?.items)) body.items.sort(byId);
  return { status: res.status, body };
}

/** Field error codes of an error body, flattened: {'title': 'validation_required', ...}. */
function errorCodes(body) {
  const out = {};
  const walk = (v, path) => {
    if (!v || typeof v !== 'object') return;
    if (typeof v.code === 'string' && typeof v.message === 'string') { out[path] = v.code; return; }
    for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
  };
  walk(body?.data, '');
  return out;
}

function deepDiff(a, b, path, out) {
  if (out.length >= 8) return;
  if (a === b) return;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    if (Array.isArray(a) && a.length !== b.length) { out.push({ path, pb: a, ox: b }); return; }
    for (const k of keys) deepDiff(a[k], b[k], path ? `${path}.${k}` : k, out);
    return;
  }
  out.push({ path, pb: a, ox: b });
}

/**
 * The differences between the reference's answer and oxbase's (both normalised), each
 * {cls, path, pb, ox}: `status`; for errors of the same status `code` (a field's error code,
 * path `data.<field>`) and `message`; for successes `body` (path into the body), unless the
 * request says its answer depends on values each server draws at random (`statusOnly`).
 */
export function compare(pb, ox, req = {}) {
  if (pb.status !== ox.status) return [{ cls: 'status', path: '', pb: pb.status, ox: ox.status }];
  if (pb.status >= 400) {
    const out = [];
    const a = errorCodes(pb.body);
    const b = errorCodes(ox.body);
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (a[k] !== b[k]) out.push({ cls: 'code', path: `data.${k}`, pb: a[k], ox: b[k] });
    }
    if (pb.body?.message !== ox.body?.message) {
      out.push({ cls: 'message', path: 'message', pb: pb.body?.message, ox: ox.body?.message });
    }
    return out;
  }
  const out = [];
  if (req.statusOnly) return out;
  deepDiff(pb.body, ox.body, '', out);
  return out.map((d) => ({ cls: 'body', ...d }));
}
