// Known differences between oxbase and PocketBase 0.40.6. Every entry is a claim: a matcher
// over one difference ({req, d, pb, ox}: the request, the difference {cls, path, pb, ox}, both
// normalised answers) and why it is there, one of
// - "safer: ..."   oxbase deliberately refuses or hides what PocketBase allows or shows;
// - "PocketBase is racy: ..."
// - "open: ..."    a difference still to be fixed (the harness passes, the entry says so).
// An entry with `db` applies on that database only (oxbase on SQLite: 'sqlite', on PostgreSQL:
// 'postgres'). Keep the table small: the test names the entries that matched nothing; remove them.

const t = (req) => req.tags || {};
const filter = (req, lhs) => req.cat === 'filters' && (typeof lhs === 'string' ? t(req).lhs === lhs : lhs.test(t(req).lhs || ''));
const ORDER_OPS = new Set(['>', '>=', '<', '<=', '?>', '?>=', '?<', '?<=']);
const statuses = (pb, ox, a, b) => pb.status === a && ox.status === b;
const field = (req, names) => req.cat === 'fields' && names.includes(t(req).field);

/** What a filter operand or literal holds, to tell comparisons of mixed types. */
function kind(x) {
  if (/^(meta|tags|loc)($|[.:])/.test(x) && !/:length$/.test(x)) return 'json';
  if (/^-?\d/.test(x) || /(^|\.)(views|rank|level)$|:length$|^loc\.lon$/.test(x)) return 'number';
  if (/^(true|false)$/.test(x) || /(^|\.)(active|verified|emailVisibility)$/.test(x)) return 'bool';
  if (x === 'null') return 'null';
  return 'text';
}

export const KNOWN = [
  // Filters.
  {
    id: 'like-null',
    reason: 'open: `x ~ null` and `x ?~ null`: PocketBase matches nothing (LIKE NULL is NULL), oxbase matches every record',
    match: ({ req }) => req.cat === 'filters' && ['~', '?~'].includes(t(req).op) && t(req).value === 'null',
  },
  {
    id: 'not-like-null-safe',
    reason: 'open: `!~` and `?!~` are null-safe in oxbase (docs/api.md calls it deliberate): a record whose operand is NULL '
      + '(an empty relation, a missing JSON key, `!~ null`) matches; PocketBase\'s NOT LIKE leaves it out. Neither safer nor racy',
    match: ({ req, pb, ox }) => req.cat === 'filters' && ['!~', '?!~'].includes(t(req).op)
      && statuses(pb, ox, 200, 200) && ox.body.totalItems > pb.body.totalItems,
  },
  {
    id: 'json-order',
    reason: 'open: a whole json field compared with < <= > >= (and ?-forms): PocketBase orders the stored JSON text, oxbase orders otherwise',
    match: ({ req }) => filter(req, 'meta') && ORDER_OPS.has(t(req).op),
  },
  {
    id: 'json-missing-key',
    reason: 'open: a JSON path missing in a record compared with \'\': PocketBase compares NULL (`meta.x != \'\'` holds, `meta.arr ?= \'\'` does not), oxbase compares \'\'',
    match: ({ req }) => filter(req, /^meta\./) && t(req).value === "''",
  },
  {
    id: 'hidden-email-through-multi-relation',
    reason: 'safer: a filter on a hidden email through a multiple relation (`editors.email ~ \'c\'` by a guest): PocketBase compares the real '
      + 'addresses and so reveals them; oxbase compares NULL. (Not quite "matches nothing", as docs/api.md says: the records whose '
      + 'relation is empty still pass, since an all-of comparison over no records holds)',
    match: ({ req }) => filter(req, 'editors.email') && t(req).caller !== 'superuser',
  },
  {
    id: 'back-relation-length',
    reason: 'open: `x_via_y:length`: PocketBase 0.40.6 refuses it (400), oxbase counts the back-related records',
    match: ({ req, pb, ox }) => filter(req, /_via_.*:length$/) && statuses(pb, ox, 400, 200),
  },
  {
    id: 'one-join-per-relation-path',
    reason: 'open: two conditions on one multiple-relation path (`editors.name ?= \'Bob\' && editors.name ?= \'Carol\'`): PocketBase joins '
      + 'the path once, so both must hold for the same related record; oxbase judges each condition on its own',
    match: ({ req }) => req.cat === 'filters' && /^editors\.name \?= .* && editors\.name \?= /.test(req.query?.filter || ''),
  },
  {
    id: 'postgres-mixed-type-comparison',
    reason: 'open (PostgreSQL only): a comparison of a json value (json field or path, multiple select, geoPoint) or of two different types '
      + '(a number or bool with text, LIKE on a number or bool) answers as PostgreSQL casts, not as SQLite orders mixed types (#17: make both dialects agree)',
    db: 'postgres',
    match: ({ req, pb, ox }) => req.cat === 'filters' && statuses(pb, ox, 200, 200) && t(req).lhs !== 'expr'
      && (kind(t(req).lhs) === 'json' || kind(t(req).lhs) !== kind(t(req).value) || (t(req).op.includes('~') && kind(t(req).lhs) !== 'text')),
  },
  // Sorts.
  {
    id: 'sort-on-hidden-email',
    reason: 'safer: a sort on an email the caller may not see (`email`, `owner.email` by a guest or another user) does not order by it; '
      + 'PocketBase orders by the hidden address, which reveals it (#17)',
    match: ({ req, d }) => req.cat === 'sorts' && ['email', 'owner.email'].includes(t(req).key) && t(req).caller !== 'superuser' && d.cls === 'body',
  },
  {
    id: 'sort-json-geopoint',
    reason: 'open: a sort on a json or geoPoint field orders differently (PocketBase orders the stored JSON text)',
    match: ({ req, d }) => req.cat === 'sorts' && ['meta', 'loc'].includes(t(req).key) && d.cls === 'body',
  },
  {
    id: 'sort-through-multiple-relation',
    reason: 'open: a sort through a multiple relation or a back-relation (`editors.name`, `items_via_owner.views`): PocketBase sorts, oxbase answers 400',
    match: ({ req, pb, ox }) => req.cat === 'sorts' && ['editors.name', 'items_via_owner.views'].includes(t(req).key) && statuses(pb, ox, 200, 400),
  },
  // Field values.
  {
    id: 'geopoint-text-coordinate',
    reason: 'open: a geoPoint with a coordinate given as text (`{"lon":"1","lat":2}`): PocketBase stores 0,0 or 0,2 (the object does not '
      + 'decode; which keys it kept varies from run to run), oxbase parses the text',
    match: ({ req }) => field(req, ['loc']) && t(req).value === '{"lon":"1","lat":2}',
  },
  // Auth flows.
  // Rules.
  // Lists, collections, health.
  {
    id: 'health-can-backup',
    reason: 'safer: a superuser\'s health answer says `canBackup: false`, since oxbase serves no backups yet (docs/api.md); PocketBase says true',
    match: ({ req, d }) => req.path === '/api/health' && d.path === 'data.canBackup',
  },
  // Collections.
];
