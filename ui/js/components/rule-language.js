// The API rule language for the rule editor, as plain functions with no imports (node --test
// loads this module as it is): a tokenizer for the highlighting and the completion source.
// The token rules follow the server's lexer (crates/sql/src/filter/lexer.rs).

export const MODIFIERS = ['isset', 'changed', 'length', 'each', 'lower'];
export const DATE_MACROS = ['@now', '@yesterday', '@tomorrow', '@todayStart', '@todayEnd', '@monthStart', '@monthEnd', '@yearStart', '@yearEnd', '@second', '@minute', '@hour', '@day', '@month', '@weekday', '@year'];
const OPERATORS = new Set(['=', '!=', '~', '!~', '<', '<=', '>', '>=', '?=', '?!=', '?~', '?!~', '?<', '?<=', '?>', '?>=']);
const MAX_SUGGESTIONS = 50;

const isSpace = (c) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isDigit = (c) => c >= '0' && c <= '9';
const isIdentStart = (c) => /^[A-Za-z_@#]$/.test(c);
const isIdentPart = (c) => /^[A-Za-z0-9_.:]$/.test(c);
const isOpChar = (c) => c !== undefined && '=?!<>~'.includes(c);

// ---- tokenizer --------------------------------------------------------------------------

/**
 * Splits a rule into tokens that cover every character, in order: {type, text, start, end}.
 * Types: space, comment, string, number, op (= != ?= ...), join (&& ||), paren, comma,
 * literal (true false null), field, macro (@request.*, @collection.*, @now...), mod (:isset...),
 * func (a name before "("), error (what the server would reject).
 */
export function tokenize(src) {
  const tokens = [];
  let i = 0;
  const push = (type, end) => {
    tokens.push({ type, text: src.slice(i, end), start: i, end });
    i = end;
  };
  while (i < src.length) {
    const c = src[i];
    if (isSpace(c)) push('space', runEnd(src, i, isSpace));
    else if (c === '/' && src[i + 1] === '/') push('comment', runEnd(src, i, (ch) => ch !== '\n'));
    else if (c === '(' || c === ')') push('paren', i + 1);
    else if (c === ',') push('comma', i + 1);
    else if (c === '&' || c === '|') {
      const end = runEnd(src, i, (ch) => ch === '&' || ch === '|');
      push(['&&', '||'].includes(src.slice(i, end)) ? 'join' : 'error', end);
    } else if (isOpChar(c)) {
      const end = runEnd(src, i, isOpChar);
      push(OPERATORS.has(src.slice(i, end)) ? 'op' : 'error', end);
    } else if (c === '"' || c === "'") push('string', stringEnd(src, i));
    else if (isDigit(c) || (c === '-' && isDigit(src[i + 1] ?? ''))) push('number', numberEnd(src, i));
    else if (isIdentStart(c)) {
      for (const t of identTokens(src, i, runEnd(src, i + 1, isIdentPart))) push(t.type, t.end);
    } else push('error', i + (src.codePointAt(i) > 0xffff ? 2 : 1)); // a whole emoji, not half
  }
  return tokens;
}

function runEnd(src, i, ok) {
  while (i < src.length && ok(src[i])) i++;
  return i;
}

/** The end of the quoted text at `i` (past its closing quote; the input's end when unclosed). */
function stringEnd(src, i) {
  const quote = src[i];
  for (let j = i + 1; j < src.length; j++) {
    if (src[j] === '\\') j++;
    else if (src[j] === quote) return j + 1;
  }
  return src.length;
}

function numberEnd(src, i) {
  let j = runEnd(src, src[i] === '-' ? i + 1 : i, isDigit);
  if (src[j] === '.' && isDigit(src[j + 1] ?? '')) j = runEnd(src, j + 1, isDigit);
  return j;
}

/** An identifier as one or two tokens: a name, then its modifiers (`title` + `:lower`). */
function identTokens(src, start, end) {
  const text = src.slice(start, end);
  if (src[end] === '(') return [{ type: 'func', end }];
  if (/^(true|false|null)$/i.test(text)) return [{ type: 'literal', end }];
  const type = text.startsWith('@') ? 'macro' : 'field';
  const colon = text.indexOf(':');
  const mods = colon > 0 ? text.slice(colon + 1).split(':') : [];
  if (mods.length && mods.every((m) => MODIFIERS.includes(m))) {
    return [{ type, end: start + colon }, { type: 'mod', end }];
  }
  return [{ type, end }];
}

// ---- the word being typed -----------------------------------------------------------------

/**
 * The identifier at `caret`: {from, to, word}, `word` being its text up to the caret and
 * `to` its end. An empty word when the caret follows no identifier; null inside a string, a
 * comment or a number, where nothing is completed.
 */
export function wordAt(src, caret) {
  const last = tokenize(src.slice(0, caret)).at(-1);
  if (last && (last.type === 'comment' || (last.type === 'string' && !closedString(last.text)))) return null;
  let from = caret;
  while (from > 0 && (isIdentPart(src[from - 1]) || src[from - 1] === '@' || src[from - 1] === '#')) from--;
  // "ab@c": an identifier only starts with @ or #, so the word starts there.
  const at = Math.max(src.lastIndexOf('@', caret - 1), src.lastIndexOf('#', caret - 1));
  if (at >= from) from = at;
  const word = src.slice(from, caret);
  if (word && !isIdentStart(word[0])) return null;
  const to = runEnd(src, caret, isIdentPart);
  return { from, to, word };
}

const closedString = (text) => text.length > 1 && stringEnd(text, 0) === text.length && /["']$/.test(text);

// ---- completion ---------------------------------------------------------------------------
//
// What can follow a path is a scope: a list of entries {name, type, target (the scope a
// relation or container leads to), container (only valid followed by "."), mods}. Scopes are
// built when first walked, so self and mutual relations do not loop.

const STRING_TYPES = new Set(['text', 'email', 'url', 'editor', 'select']);
const isMulti = (f) => ['select', 'file', 'relation'].includes(f.type) && f.maxSelect > 1;

function fieldMods(f, { body = false } = {}) {
  const mods = [];
  if (body) mods.push('isset', 'changed');
  if (isMulti(f)) mods.push('length', 'each');
  else if (STRING_TYPES.has(f.type)) mods.push('lower');
  return mods;
}

/** The secrets are left out (a body may set a password), and the body has no autodates. */
const hiddenFromRules = (f, body) => f.name === 'tokenKey' || (f.type === 'password' && !body) || (body && f.type === 'autodate');

/** A scope whose entries are computed once, when first asked for. */
function lazyScope(build) {
  let entries = null;
  return { entries: () => (entries ??= build()) };
}

/** Any key is valid after it (query parameters, headers), with `:isset`. */
const FREE_SCOPE = { entries: () => [], free: true };

/**
 * The completion source of one collection's rules. `draft`: the collection as edited (unsaved
 * fields included); `collections`: all of them as the API lists them. Returns
 * `suggest(word)` → [{label, detail, container}], best first; `label` replaces the word.
 */
export function ruleCompleter(draft, collections) {
  const all = collections.filter((c) => !(draft.id && c.id === draft.id) && c.name !== draft.name).concat([draft]);
  const byId = new Map(all.filter((c) => c.id).map((c) => [c.id, c]));
  const scopes = new Map();

  /** The fields of `c` (and its back-relations) as a rule path may walk them. */
  function collectionScope(c, body = false) {
    const key = `${body ? 'body:' : ''}${c.id || c.name}`;
    if (!scopes.has(key)) scopes.set(key, lazyScope(() => collectionEntries(c, body)));
    return scopes.get(key);
  }

  function collectionEntries(c, body) {
    const fields = (c.fields || []).concat(systemFields(c)); // the draft's order first
    const seen = new Set();
    const entries = [];
    for (const f of fields) {
      if (!f.name || seen.has(f.name) || hiddenFromRules(f, body)) continue;
      seen.add(f.name);
      const target = f.type === 'relation' && byId.get(f.collectionId);
      entries.push({ name: f.name, type: f.type, target: target ? collectionScope(target) : null, mods: fieldMods(f, { body }) });
    }
    if (!body && c.id) entries.push(...backRelations(c));
    return entries;
  }

  /** `<collection>_via_<field>` for every relation field that points at `c`. */
  function backRelations(c) {
    const out = [];
    for (const other of all) {
      for (const f of other.fields || []) {
        if (f.type === 'relation' && f.collectionId === c.id && other.type !== 'view') {
          out.push({ name: `${other.name}_via_${f.name}`, type: 'back-relation', target: collectionScope(other), mods: [] });
        }
      }
    }
    return out;
  }

  // @request.auth: any auth collection's record, so the union of their fields.
  const authScope = lazyScope(() => {
    const entries = [
      { name: 'id', type: 'text', mods: ['lower'] },
      { name: 'collectionId', type: 'text', mods: [] },
      { name: 'collectionName', type: 'text', mods: [] },
    ];
    for (const c of all.filter((x) => x.type === 'auth')) {
      for (const e of collectionScope(c).entries()) if (!entries.some((x) => x.name === e.name)) entries.push(e);
    }
    return entries;
  });
  const requestScope = lazyScope(() => [
    { name: 'auth', type: 'auth record', container: true, target: authScope },
    { name: 'body', type: 'request body', container: true, target: collectionScope(draft, true) },
    { name: 'query', type: 'query parameter', container: true, target: FREE_SCOPE },
    { name: 'headers', type: 'header', container: true, target: FREE_SCOPE },
    { name: 'method', type: 'GET, POST...' },
    { name: 'context', type: 'default, oauth2, otp, password, realtime, protectedFile' },
  ]);
  const collectionsScope = lazyScope(() =>
    all.filter((c) => c.name).map((c) => ({ name: c.name, type: `${c.type} collection`, container: true, target: collectionScope(c) })),
  );
  const rootScope = lazyScope(() => [
    ...collectionScope(draft).entries(),
    { name: '@request', type: 'request', container: true, target: requestScope },
    { name: '@collection', type: 'any collection', container: true, target: collectionsScope },
    ...DATE_MACROS.map((name) => ({ name, type: 'date macro' })),
  ]);

  /** The scope after `path` (segments joined by "."), or null when the path leads nowhere. */
  function resolve(path) {
    let scope = rootScope;
    for (const segment of path ? path.split('.') : []) {
      if (scope.free) return FREE_SCOPE;
      scope = scope.entries().find((e) => e.name === segment)?.target;
      if (!scope) return null;
    }
    return scope;
  }

  function suggestModifiers(word) {
    const colon = word.lastIndexOf(':');
    const path = word.slice(0, colon);
    const dot = path.lastIndexOf('.');
    const scope = resolve(dot < 0 ? '' : path.slice(0, dot));
    if (!scope) return [];
    const name = path.slice(dot + 1);
    const mods = scope.free ? ['isset'] : scope.entries().find((e) => e.name === name)?.mods || [];
    return rank(
      mods.map((m) => ({ label: `${path}:${m}`, rel: m, detail: 'modifier', depth: 0 })),
      word.slice(colon + 1),
    );
  }

  return function suggest(word) {
    if (word.includes(':')) return suggestModifiers(word);
    const dot = word.lastIndexOf('.');
    const parent = dot < 0 ? '' : word.slice(0, dot);
    const scope = resolve(parent);
    if (!scope) return [];
    const items = [];
    listScope(scope, parent ? `${parent}.` : '', 2, items);
    const partial = word.slice(dot + 1);
    // At the top a plain word completes fields; the @ entries show once "@" is typed.
    const shown = parent || !partial || partial.startsWith('@') ? items : items.filter((x) => !x.label.startsWith('@'));
    return rank(shown, partial);
  };
}

/**
 * The fields every collection of `c`'s type has, whether or not its draft lists them yet
 * (`created` and `updated` are plain autodate fields, which a collection may have removed).
 */
function systemFields(c) {
  const fields = [{ name: 'id', type: 'text' }];
  if (c.type === 'auth') fields.push({ name: 'email', type: 'email' }, { name: 'emailVisibility', type: 'bool' }, { name: 'verified', type: 'bool' });
  return fields;
}

/**
 * The entries of `scope` and, through relations, up to `hops` levels below them. `rel` is the
 * path below the listed scope (`author.name`), which is what ranking matches the typed part to.
 */
function listScope(scope, prefix, hops, out, rel = '') {
  for (const e of scope.entries()) {
    const path = rel + e.name;
    const depth = rel ? rel.split('.').length - 1 : 0;
    const tail = e.container ? '.' : '';
    out.push({ label: prefix + path + tail, rel: path + tail, detail: e.type, container: !!e.container, depth });
    if (hops > 0 && e.target && !e.target.free && out.length < 2000) listScope(e.target, prefix, hops - 1, out, `${path}.`);
  }
}

/**
 * The items matching `partial`, best first: those starting with it, then those with a path
 * segment starting with it (`name` finds `author.name`); nearer levels before deeper ones.
 */
function rank(items, partial) {
  const needle = partial.toLowerCase();
  const inner = new RegExp(`[._:@]${needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
  const scored = [];
  items.forEach((item, index) => {
    const rel = item.rel.toLowerCase();
    let score = 0;
    if (needle && !rel.startsWith(needle)) {
      if (!inner.test(rel)) return;
      score = 1;
    }
    scored.push({ item, score, index });
  });
  scored.sort((a, b) => a.score - b.score || a.item.depth - b.item.depth || a.index - b.index);
  return scored.slice(0, MAX_SUGGESTIONS).map(({ item }) => ({ label: item.label, detail: item.detail, container: !!item.container }));
}
