// Known differences between oxbase and PocketBase 0.40.6. Every entry is a claim: a matcher
// over one difference ({req, d, pb, ox}: the request, the difference {cls, path, pb, ox}, both
// normalised answers) and why it is there, one of
// - "safer: ..."   oxbase deliberately refuses or hides what PocketBase allows or shows;
// - "PocketBase is racy: ..."
// - "open: ..."    a difference still to be fixed (the harness passes, the entry says so).
// An entry with `db` applies on that database only (oxbase on SQLite: 'sqlite', on PostgreSQL:
// 'postgres'). Keep the table small: the test names the entries that matched nothing; remove them.

const SOMETHING_WRONG = 'Something went wrong while processing your request.';
const t = (req) => req.tags || {};
const filter = (req, lhs) => req.cat === 'filters' && (typeof lhs === 'string' ? t(req).lhs === lhs : lhs.test(t(req).lhs || ''));
const ORDER_OPS = new Set(['>', '>=', '<', '<=', '?>', '?>=', '?<', '?<=']);
const statuses = (pb, ox, a, b) => pb.status === a && ox.status === b;
const field = (req, names) => req.cat === 'fields' && names.includes(t(req).field);
const flow = (req, prefix) => req.cat === 'auth' && req.label.startsWith(prefix);

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
      + 'addresses and so reveals them; oxbase compares NULL (an empty relation still passes an all-of comparison)',
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
    id: 'postgres-json-path-500',
    reason: 'open (PostgreSQL only): a JSON path compared with a number or bool, or a number field with a bool field (`meta.x = 2`, '
      + '`views > active`), is a 500 (#17)',
    db: 'postgres',
    match: ({ req, ox }) => req.cat === 'filters' && ox.status === 500
      && (kind(t(req).lhs) === 'json' || kind(t(req).lhs) !== kind(t(req).value) || /\bmeta\./.test(req.query?.filter || '')),
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
    id: 'non-scalar-for-text',
    reason: 'open: an array or object sent for a text, editor, email or url field: PocketBase stores \'\' (its string cast gives up); '
      + 'oxbase stores the JSON text (text, editor) or refuses it (email, url: validation_is_email, validation_invalid_url)',
    match: ({ req }) => field(req, ['title', 'body', 'contact', 'site', 'code']) && /^[[{]/.test(t(req).value),
  },
  {
    id: 'url-scheme-and-host',
    reason: 'open: a url field: PocketBase accepts any scheme and a bare host (`ftp://x.io`, `x.io`), oxbase answers validation_invalid_url',
    match: ({ req }) => field(req, ['site']) && ['"ftp://x.io"', '"x.io"'].includes(t(req).value),
  },
  {
    id: 'number-from-text-true',
    reason: 'open: the text `true` for a number field (a multipart part): PocketBase casts it to 1, oxbase to 0',
    match: ({ req }) => field(req, ['views', 'rank']) && t(req).value === 'true' && req.enc === 'form',
  },
  {
    id: 'geopoint-text-coordinate',
    reason: 'open: a geoPoint with a coordinate given as text (`{"lon":"1","lat":2}`): PocketBase stores 0,0 or 0,2 (the object does not '
      + 'decode; which keys it kept varies from run to run), oxbase parses the text',
    match: ({ req }) => field(req, ['loc']) && t(req).value === '{"lon":"1","lat":2}',
  },
  // Auth flows.
  {
    id: 'auth-with-password-validation-message',
    reason: 'open: auth-with-password without identity or password: PocketBase\'s message is "An error occurred while validating the submitted data.", oxbase\'s "Failed to authenticate."',
    match: ({ req, d }) => flow(req, 'auth-with-password') && d.cls === 'message'
      && d.pb === 'An error occurred while validating the submitted data.' && d.ox === 'Failed to authenticate.',
  },
  {
    id: 'body-before-collection',
    reason: 'open: an auth action on a base or unknown collection with a body that does not load (`identity: 123`): PocketBase checks '
      + 'the collection first (404), oxbase the body (400 "An error occurred while loading the submitted data.")',
    match: ({ req, pb, ox }) => req.cat === 'auth' && statuses(pb, ox, 404, 400) && /^Missing or invalid (auth )?collection context\.$/.test(pb.body?.message),
  },
  {
    id: 'number-for-text-input',
    reason: 'open: a JSON number where an auth action expects text (`identity: 123`, `email: 123`): PocketBase fails to load the body '
      + '(400 "An error occurred while loading the submitted data.", no field errors); oxbase validates it as text',
    match: ({ req, pb }) => req.cat === 'auth' && pb.status === 400 && pb.body?.message === 'An error occurred while loading the submitted data.',
  },
  {
    id: 'superusers-are-verified',
    reason: 'open: request-verification on _superusers: PocketBase answers 400 "All superusers are verified by default." before it looks at the email',
    match: ({ req }) => flow(req, 'request-verification _superusers'),
  },
  {
    id: 'short-password-code',
    reason: 'open: a too short password in confirm-password-reset: PocketBase validation_length_out_of_range, oxbase validation_min_text_constraint',
    match: ({ req, d }) => flow(req, 'confirm-password-reset') && d.path === 'data.password',
  },
  {
    id: 'password-change-codes',
    reason: 'open: a password change without oldPassword (PocketBase validation_required, oxbase validation_invalid_old_password) or without '
      + 'passwordConfirm (validation_required vs validation_values_mismatch); a sign-up without password: PocketBase also names passwordConfirm',
    match: ({ req, d }) => req.cat === 'auth' && d.cls === 'code' && ['data.oldPassword', 'data.passwordConfirm'].includes(d.path),
  },
  {
    id: 'token-key-length',
    reason: 'open: a superuser setting a tokenKey shorter than 30 characters: PocketBase validation_min_text_constraint, oxbase stores it',
    match: ({ req, pb, ox }) => t(req).flow === 'signup' && t(req).body === 'tokenkey' && statuses(pb, ox, 400, 200),
  },
  {
    id: 'password-modifiers',
    reason: 'open: `password+` or `+password` on a sign-up: PocketBase ignores modifiers on a password field and answers 400 with '
      + 'password validation_required; oxbase sets the password, or leaves the error on password out',
    match: ({ req }) => t(req).flow === 'signup' && ['passwordplus', 'pluspassword'].includes(t(req).body),
  },
  {
    id: 'impersonate-shows-hidden-fields',
    reason: 'open: the record in an impersonate answer shows hidden fields in oxbase; PocketBase leaves them out',
    match: ({ req, d }) => flow(req, 'impersonate') && d.cls === 'body' && d.path === 'record.secretnote',
  },
  // Rules.
  {
    id: 'relation-check-before-rule',
    reason: 'open: a create that fails its rule AND points at a missing relation record: PocketBase answers the rule\'s 400 with no field '
      + 'errors, oxbase reports validation_missing_rel_records',
    match: ({ req, d }) => req.cat === 'rules' && d.cls === 'code' && d.pb === undefined && d.ox === 'validation_missing_rel_records',
  },
  {
    id: 'auth-field-of-another-collection',
    reason: 'open: a rule reading `@request.auth.<field>` that the caller\'s auth collection lacks (`@request.auth.secretnote` for a staff user): '
      + 'PocketBase reads NULL, oxbase answers 400 "Something went wrong while processing your request."',
    match: ({ req, ox }) => req.cat === 'rules' && t(req).shape === 'hidden' && t(req).caller === 'sam'
      && ox.status === 400 && ox.body?.message === SOMETHING_WRONG,
  },
  {
    id: 'back-relation-create-rule-for-guests',
    reason: 'open (a guest gets in): a create rule on a back-relation (`grants_via_doc.user ?= @request.auth.id`) passes for a guest in '
      + 'oxbase, where the new record has no back-related rows; PocketBase refuses',
    match: ({ req, pb, ox }) => req.cat === 'rules' && t(req).shape === 'backrel' && t(req).action === 'create'
      && t(req).caller === 'guest' && statuses(pb, ox, 400, 200),
  },
  // Lists, collections, health.
  {
    id: 'fields-star-drops-expand',
    reason: 'open: `fields=*` with `expand`: PocketBase keeps each record\'s `expand`, oxbase leaves it out',
    match: ({ req, d }) => req.cat === 'misc' && req.query?.fields === '*' && req.query?.expand && /^items\.\d+\.expand/.test(d.path),
  },
  {
    id: 'excerpt-bad-arguments',
    reason: 'open: `fields=title:excerpt(x)` (arguments that are not numbers): PocketBase 400, oxbase ignores the modifier\'s arguments',
    match: ({ req, pb, ox }) => req.cat === 'misc' && /:excerpt\(x\)/.test(req.query?.fields || '') && statuses(pb, ox, 400, 200),
  },
  {
    id: 'health-can-backup',
    reason: 'open: a superuser\'s health answer says `canBackup: false` in oxbase (backups are not served yet), `true` in PocketBase',
    match: ({ req, d }) => req.path === '/api/health' && d.path === 'data.canBackup',
  },
  {
    id: 'collections-filter-message',
    reason: 'open: a collections filter on an unknown field: PocketBase\'s 400 says "Something went wrong while processing your request.", '
      + 'oxbase\'s names the field',
    match: ({ req, d }) => req.path === '/api/collections' && d.cls === 'message' && d.pb === SOMETHING_WRONG,
  },
  // Collections.
  {
    id: 'auth-collection-explicit-id-indexes',
    reason: 'open: an auth collection created with an explicit id lists its system unique indexes twice in oxbase (under a generated pbc_ name '
      + 'and under the given id); PocketBase lists them once',
    match: ({ req, d }) => ['setup', 'misc'].includes(req.cat) && req.path.startsWith('/api/collections') && d.path === 'indexes',
  },
];
