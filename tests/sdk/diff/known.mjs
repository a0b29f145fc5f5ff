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
const field = (req, names) => req.cat === 'fields' && names.includes(t(req).field);

export const KNOWN = [
  // Settings.
  {
    id: 'settings-webhooks-section',
    reason: 'open: the settings carry oxbase\'s own `webhooks`, `brokers` and `mail` sections (docs/events.md: endpoints, broker targets, '
      + 'retries; the webhooks\' secret never shown), which PocketBase has not; an extension, not a difference in what PocketBase serves',
    match: ({ req, d }) => req.path === '/api/settings' && d.cls === 'body' && /^(webhooks|brokers|mail)(\.|$)/.test(d.path),
  },
  // Filters.
  {
    id: 'hidden-email-through-multi-relation',
    reason: 'safer: a filter on a hidden email through a multiple relation (`editors.email ~ \'c\'` by a guest): PocketBase compares the real '
      + 'addresses and so reveals them; oxbase compares NULL. (Not quite "matches nothing", as docs/api.md says: the records whose '
      + 'relation is empty still pass, since an all-of comparison over no records holds)',
    match: ({ req }) => filter(req, 'editors.email') && t(req).caller !== 'superuser',
  },
  // Sorts.
  {
    id: 'sort-on-hidden-email',
    reason: 'safer: a sort on an email the caller may not see (`email`, `owner.email` by a guest or another user) does not order by it; '
      + 'PocketBase orders by the hidden address, which reveals it (#17)',
    match: ({ req, d }) => req.cat === 'sorts' && ['email', 'owner.email'].includes(t(req).key) && t(req).caller !== 'superuser' && d.cls === 'body',
  },
  // Field values.
  {
    id: 'geopoint-text-coordinate',
    reason: 'PocketBase is racy: its answer varies from run to run (a geoPoint with a coordinate given as text, `{"lon":"1","lat":2}`: '
      + 'the object does not decode, and PocketBase stores 0,0 or 0,2 depending on which keys it kept); oxbase parses the text',
    match: ({ req }) => field(req, ['loc']) && t(req).value === '{"lon":"1","lat":2}',
  },
  // Auth flows.
  // Rules.
  // Lists, collections, health.
  // Collections.
];
