// The fixture both servers get: the same schema (explicit collection and field ids) and the
// same records (explicit record ids), created through the HTTP API as a superuser. Every
// setup request is compared too.
import { blob } from './play.mjs';

/** A 15-character record or collection id spelled from a name: `rid('alice')` = alice0000000000. */
export const rid = (name) => (name.toLowerCase().replace(/[^a-z0-9]/g, '') + '0'.repeat(15)).slice(0, 15);
/** The n-th id of a series (`seqId('pc', 3)` = pc000003000000): fixed width, so no two collide. */
export const seqId = (tag, n) => rid(`${tag}${n.toString(36).padStart(6, '0')}`);

export const PASSWORD = 'pass1234567';

/** Auth records: the callers and the people records point at. */
export const PEOPLE = {
  alice: { coll: 'accounts', id: rid('alice'), email: 'alice@example.com', username: 'alice', name: 'Alice', level: 2, secretnote: 'vip', emailVisibility: true, verified: true },
  bob: { coll: 'accounts', id: rid('bob'), email: 'bob@example.com', username: 'bob', name: 'Bob', level: 1, secretnote: 'none', emailVisibility: false, verified: false },
  carol: { coll: 'accounts', id: rid('carol'), email: 'carol@example.com', username: 'carol', name: 'Carol', level: 3, secretnote: 'vip', emailVisibility: false, verified: true },
  sam: { coll: 'staff', id: rid('sam'), email: 'sam@example.com', name: 'Sam', emailVisibility: false, verified: true },
  tom: { coll: 'staff', id: rid('tom'), email: 'tom@example.com', name: 'Tom', emailVisibility: true, verified: false },
};
export const ID = Object.fromEntries(Object.entries(PEOPLE).map(([k, p]) => [k, p.id]));
export const TEAM = { red: rid('teamred'), blue: rid('teamblue') };

/** Who sends a request: a guest, a superuser, or one of the PEOPLE (after logging in). */
export const CALLERS = ['guest', 'alice', 'bob', 'sam', 'superuser'];
/** The id a caller would write as "me" in a relation ('' for guests and superusers). */
export const selfId = (caller) => ID[caller] ?? '';

const SU = 'superuser';
const rules = (r) => ({ listRule: r, viewRule: r, createRule: r, updateRule: r, deleteRule: r });

/** The field types on one base collection (`items` is read, `posts` written). */
export function recordFields(prefix) {
  const f = (name, type, opts = {}) => ({ id: `${prefix}_${name}`, name, type, ...opts });
  const accounts = rid('accounts');
  return [
    f('title', 'text', { max: 50 }),
    f('code', 'text', { min: 2, max: 10, pattern: '^[a-z0-9-]*$' }),
    f('body', 'editor'),
    f('views', 'number', { min: -1000000, max: 1000000 }),
    f('rank', 'number', { onlyInt: true, min: 0, max: 100 }),
    f('active', 'bool'),
    f('contact', 'email'),
    f('site', 'url'),
    f('when', 'date'),
    f('status', 'select', { values: ['draft', 'published', 'archived'], maxSelect: 1 }),
    f('tags', 'select', { values: ['a', 'b', 'c', 'd'], maxSelect: 3 }),
    f('meta', 'json'),
    f('owner', 'relation', { collectionId: accounts, maxSelect: 1 }),
    f('editors', 'relation', { collectionId: accounts, maxSelect: 5 }),
    f('attachment', 'file', { maxSelect: 1, maxSize: 1 << 20 }),
    f('gallery', 'file', { maxSelect: 3, maxSize: 1 << 20 }),
    f('loc', 'geoPoint'),
    f('secret', 'text', { hidden: true }),
    f('created', 'autodate', { onCreate: true, onUpdate: false }),
    f('updated', 'autodate', { onCreate: true, onUpdate: true }),
  ];
}

/**
 * Rule shapes: each gets a collection `r_<shape>` with the same fields and records, and the
 * rule on all five actions (or one per action).
 */
export const SHAPES = {
  public: rules(''),
  locked: rules(null),
  owner: rules('owner = @request.auth.id'),
  member: rules('@collection.memberships.user ?= @request.auth.id && @collection.memberships.team ?= team'),
  teamrel: rules('team.members ?= @request.auth.id'),
  backrel: rules('grants_via_doc.user ?= @request.auth.id'),
  body: {
    listRule: '@request.auth.id != ""',
    viewRule: '@request.auth.id != ""',
    createRule: '@request.body.owner = @request.auth.id',
    updateRule: '@request.body.title != "locked" && owner = @request.auth.id',
    deleteRule: '@request.body.title:isset = false && owner = @request.auth.id',
  },
  hidden: rules('secret = "open" || @request.auth.secretnote = "vip"'),
  authcoll: rules('@request.auth.collectionName = "staff" || owner.level > 2'),
  email: rules('owner.email = @request.auth.email'),
};

/** The records of every rule collection (owner, team, hidden secret). */
export const RULE_RECORDS = [
  { n: 1, title: 'r1', owner: ID.alice, team: TEAM.red, secret: 'open' },
  { n: 2, title: 'r2', owner: ID.bob, team: TEAM.blue, secret: 'closed' },
  { n: 3, title: 'r3', owner: ID.carol, team: TEAM.blue, secret: 'open' },
  { n: 4, title: 'r4', owner: '', team: '', secret: '' },
  { n: 5, title: 'r5', owner: ID.alice, team: TEAM.blue, secret: 'closed' },
  { n: 6, title: 'r6', owner: ID.bob, team: TEAM.red, secret: 'open' },
];
/** Who is granted which record of `r_backrel` (by record number). */
export const GRANTS = [
  { doc: 2, user: ID.alice },
  { doc: 1, user: ID.bob },
  { doc: 3, user: ID.bob },
  { doc: 6, user: ID.carol },
];
export const ruleRecordId = (shape, n) => rid(`${shape.slice(0, 7)}f${n}`);

/** Values the fixture's `items` draw from (seeded), with empties and edge cases. */
export const POOLS = {
  title: ['Alpha', 'beta', 'Gamma ray', '', 'it\'s "quoted"', 'alpha', '100%', 'under_score', 'Ünïcode'],
  code: ['ab', 'x-1', '', 'zz9'],
  body: ['<p>Hello</p>', '', '<b>alpha</b>'],
  views: [0, 1, 5, -3, 2.5, 100, 1000],
  rank: [0, 1, 50, 100],
  active: [true, false],
  contact: ['a@x.io', 'B@x.io', ''],
  site: ['https://a.io', 'http://b.io/p?q=1', ''],
  when: ['2024-01-01 00:00:00.000Z', '2030-06-15 12:30:00.000Z', '2020-02-29 23:59:59.999Z', ''],
  status: ['draft', 'published', 'archived', ''],
  tags: [[], ['a'], ['a', 'b'], ['b', 'c', 'd'], ['d']],
  meta: [null, { x: 1, s: 'a' }, { x: 2, arr: [1, 2] }, [1, 2, 3], 'str', 5, true, {}],
  owner: [ID.alice, ID.bob, ID.carol, ''],
  editors: [[], [ID.alice], [ID.bob, ID.carol], [ID.alice, ID.bob, ID.carol]],
  attachment: [null, blob('doc.txt')],
  gallery: [[], [blob('one.txt')], [blob('one.txt'), blob('two.txt', 'text/plain', 'bee')]],
  loc: [{ lon: 0, lat: 0 }, { lon: 10.5, lat: -20 }, { lon: -73.9, lat: 40.7 }],
  secret: ['s1', 'open', '', 'zzz'],
};
export const ITEM_COUNT = 12;
export const itemId = (i) => seqId('item', i);

const createCollection = (body) => ({
  cat: 'setup', label: `create collection ${body.name}`, method: 'POST', path: '/api/collections',
  caller: SU, body: { id: rid(body.name), ...body },
});
const createRecord = (coll, body, enc = 'json', tags = {}) => ({
  cat: 'setup', label: `create ${coll} record`, method: 'POST', path: `/api/collections/${coll}/records`,
  caller: SU, enc, body, tags: { coll, ...tags },
});
export const recordCreate = createRecord;

/** Mail goes to a local SMTP sink on both servers, so every mail flow can succeed; batches are on. */
export const settingsStep = (smtp) => ({
  cat: 'setup', label: 'settings: smtp, batch', method: 'PATCH', path: '/api/settings', caller: SU,
  body: {
    smtp,
    meta: { appName: 'Diff', appURL: 'http://127.0.0.1:9', senderName: 'Diff', senderAddress: 'diff@example.com' },
    batch: { enabled: true, maxRequests: 20, timeout: 10 },
  },
});

/** The schema, one sequential unit (later collections point at earlier ones). */
export function schemaUnit() {
  const steps = [
    createCollection({
      name: 'accounts', type: 'auth',
      listRule: '', viewRule: '', createRule: '', updateRule: 'id = @request.auth.id', deleteRule: 'id = @request.auth.id',
      passwordAuth: { enabled: true, identityFields: ['email', 'username'] },
      fields: [
        { id: 'acc_username', name: 'username', type: 'text', max: 30 },
        { id: 'acc_name', name: 'name', type: 'text' },
        { id: 'acc_level', name: 'level', type: 'number' },
        { id: 'acc_secretnote', name: 'secretnote', type: 'text', hidden: true },
        { id: 'acc_created', name: 'created', type: 'autodate', onCreate: true, onUpdate: false },
      ],
      indexes: ['CREATE UNIQUE INDEX idx_accounts_username ON accounts (username) WHERE username != \'\''],
    }),
    createCollection({
      name: 'staff', type: 'auth', listRule: '', viewRule: '',
      fields: [{ id: 'staff_name', name: 'name', type: 'text' }],
    }),
    createCollection({
      name: 'teams', type: 'base', listRule: '', viewRule: '',
      fields: [
        { id: 'team_name', name: 'name', type: 'text' },
        { id: 'team_members', name: 'members', type: 'relation', collectionId: rid('accounts'), maxSelect: 10 },
      ],
    }),
    createCollection({
      name: 'memberships', type: 'base', listRule: '', viewRule: '',
      fields: [
        { id: 'mem_user', name: 'user', type: 'relation', collectionId: rid('accounts'), maxSelect: 1 },
        { id: 'mem_team', name: 'team', type: 'relation', collectionId: rid('teams'), maxSelect: 1 },
      ],
    }),
    createCollection({ name: 'items', type: 'base', ...rules(''), fields: recordFields('it') }),
    createCollection({ name: 'posts', type: 'base', ...rules(''), fields: recordFields('po') }),
  ];
  for (const shape of Object.keys(SHAPES)) {
    steps.push(createCollection({
      name: `r_${shape}`, type: 'base',
      fields: [
        { id: `r${shape}_title`, name: 'title', type: 'text' },
        { id: `r${shape}_owner`, name: 'owner', type: 'relation', collectionId: rid('accounts'), maxSelect: 1 },
        { id: `r${shape}_team`, name: 'team', type: 'relation', collectionId: rid('teams'), maxSelect: 1 },
        { id: `r${shape}_secret`, name: 'secret', type: 'text', hidden: true },
      ],
    }));
  }
  steps.push(createCollection({
    name: 'grants', type: 'base',
    fields: [
      { id: 'grant_doc', name: 'doc', type: 'relation', collectionId: rid('r_backrel'), maxSelect: 1 },
      { id: 'grant_user', name: 'user', type: 'relation', collectionId: rid('accounts'), maxSelect: 1 },
    ],
  }));
  // The rules last: `grants_via_doc` needs `grants`.
  for (const [shape, r] of Object.entries(SHAPES)) {
    steps.push({
      cat: 'setup', label: `rules of r_${shape}`, method: 'PATCH', path: `/api/collections/r_${shape}`,
      caller: SU, body: r,
    });
  }
  return steps;
}

function personBody(p) {
  const { coll, n, ...fields } = p;
  return { ...fields, password: PASSWORD, passwordConfirm: PASSWORD };
}

/** A rule collection's record `rec` under a new id (a fresh copy for a write to consume). */
export function ruleRecordSteps(shape, rec, id) {
  const steps = [createRecord(`r_${shape}`, { id, title: rec.title, owner: rec.owner, team: rec.team, secret: rec.secret })];
  if (shape === 'backrel') {
    GRANTS.filter((g) => g.doc === rec.n).forEach((g, i) => {
      steps.push(createRecord('grants', { id: rid(`g${i}${id.replace(/0+$/, '')}`), doc: id, user: g.user }));
    });
  }
  return steps;
}

/** The records, as independent units (people and teams first: the rest point at them). */
export function dataUnits(rnd) {
  const people = [Object.values(PEOPLE).map((p) => createRecord(p.coll, personBody(p)))];
  const teams = [[
    createRecord('teams', { id: TEAM.red, name: 'Red', members: [ID.alice] }),
    createRecord('teams', { id: TEAM.blue, name: 'Blue', members: [ID.bob, ID.carol] }),
    createRecord('memberships', { id: rid('mem1'), user: ID.alice, team: TEAM.red }),
    createRecord('memberships', { id: rid('mem2'), user: ID.bob, team: TEAM.blue }),
    createRecord('memberships', { id: rid('mem3'), user: ID.carol, team: TEAM.blue }),
  ]];
  // Items one after the other: their insertion order is the same on both servers.
  const items = [];
  for (let i = 0; i < ITEM_COUNT; i++) {
    const body = { id: itemId(i) };
    for (const [field, pool] of Object.entries(POOLS)) {
      const v = rnd.pick(pool);
      if (v !== null) body[field] = v;
    }
    items.push(createRecord('items', body, 'payload'));
  }
  const rest = [items];
  for (const shape of Object.keys(SHAPES)) {
    for (const rec of RULE_RECORDS) rest.push(ruleRecordSteps(shape, rec, ruleRecordId(shape, rec.n)));
  }
  return [people, teams, rest];
}

const login = (who, coll, identity, password) => ({
  cat: 'setup', label: `login ${who}`, method: 'POST', path: `/api/collections/${coll}/auth-with-password`,
  body: { identity, password }, tags: { login: who },
});
/** The superuser's login (before anything else). */
export const superuserLogin = () => login('superuser', '_superusers', 'admin@example.com', '1234567890abc');
/** The logins that give each of the PEOPLE a token (compared like any request). */
export const loginSteps = () => Object.entries(PEOPLE).map(([who, p]) => login(who, p.coll, p.email, PASSWORD));
