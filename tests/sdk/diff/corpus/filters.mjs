// Filter operators × operands (every field type, relation paths, back-relations, modifiers,
// hidden fields) × values (typed, null, empty, mismatched), and sorts on visible and hidden
// fields, on the read-only fixture (`items`, `accounts`).
import { ID, itemId } from '../fixture.mjs';

/** Values each server draws for itself (hashes, token keys, stored file names, clocks). */
const RANDOM_VALUES = /^((owner|editors)\.)?(password|tokenKey|attachment|gallery|created)$/;

export const OPS = ['=', '!=', '>', '>=', '<', '<=', '~', '!~', '?=', '?!=', '?>', '?>=', '?<', '?<=', '?~', '?!~'];

/** Left operands on `items` and the values they are compared with beside the generic ones. */
const ITEM_OPERANDS = {
  id: [`'${itemId(3)}'`, "'item'"],
  title: ["'Alpha'", "'alpha'", "'it\\'s \"quoted\"'", "'100%'", "'%'", "'_'", "'under_score'", "'Ünïcode'"],
  code: ["'ab'", "'x-'"],
  body: ["'<p>Hello</p>'", "'alpha'"],
  views: ['5', '2.5', '-3', "'5'", '1000', 'title', 'rank', 'active'],
  rank: ['50', '0'],
  active: ['true', 'false', "'true'", '1'],
  contact: ["'a@x.io'", "'b@x.io'", "'@x.io'"],
  site: ["'https://a.io'", "'a.io'"],
  when: ["'2024-01-01 00:00:00.000Z'", "'2024-01-01'", '@now', '@yesterday', "'2025'"],
  status: ["'draft'", "'archived'", "'nope'"],
  tags: ["'a'", "'d'", "'a,b'", "'[\"a\",\"b\"]'"],
  meta: ["'str'", '5', "'{\"x\":1,\"s\":\"a\"}'", 'true', "'[1,2,3]'"],
  'meta.x': ['1', '2', "'1'", 'null'],
  'meta.s': ["'a'"],
  'meta.arr': ["'[1,2]'", '1'],
  owner: [`'${ID.alice}'`, `'${ID.bob}'`],
  editors: [`'${ID.alice}'`, `'${ID.carol}'`],
  'owner.name': ["'Alice'", "'Bob'", "'A'"],
  'owner.level': ['2', '1'],
  'owner.email': ["'bob@example.com'", "'alice@example.com'", "'bob'"],
  'owner.username': ["'bob'"],
  'owner.secretnote': ["'vip'", "'none'"],
  'owner.password': ["''", "'$2a'"],
  'owner.tokenKey': ["''", "'a'"],
  'owner.verified': ['true', 'false'],
  'owner.emailVisibility': ['true', 'false'],
  'editors.name': ["'Bob'", "'Carol'"],
  'editors.email': ["'carol@example.com'", "'c'"],
  'editors.secretnote': ["'vip'"],
  attachment: ["'doc.txt'", "'doc'"],
  gallery: ["'one.txt'", "'one'"],
  loc: ["'0'", '0'],
  'loc.lon': ['0', '10.5'],
  secret: ["'s1'", "'open'", "'o'"],
  created: ['@now', "'2000-01-01'"],
  'title:lower': ["'alpha'", "'gamma ray'"],
  'tags:length': ['0', '2', '3'],
  'editors:length': ['0', '1', '3'],
  'tags:each': ["'a'", "'d'"],
  'editors.name:lower': ["'bob'"],
  'owner.items_via_owner.title': ["'Alpha'"],
  nosuch: ["'x'"],
  'owner.nosuch': ["'x'"],
};
/** Left operands on `accounts` (an auth collection, all public, emails mostly hidden). */
const ACCOUNT_OPERANDS = {
  email: ["'bob@example.com'", "'alice@example.com'", "'Bob@Example.com'", "'c'"],
  emailVisibility: ['true', 'false'],
  verified: ['true', 'false'],
  username: ["'bob'", "'b'"],
  name: ["'Bob'", "'Alice'"],
  level: ['1', '2'],
  secretnote: ["'vip'", "'v'"],
  password: ["''", "'$2a'"],
  tokenKey: ["''", "'a'"],
  created: ['@now'],
  'items_via_owner.title': ["'Alpha'", "'beta'"],
  'items_via_editors.views': ['5', '0'],
  'items_via_owner.secret': ["'s1'", "'open'"],
  'items_via_owner:length': ['0', '1'],
};
const GENERIC = ["''", 'null', "'x'", '0', 'true', "'2024-01-01 00:00:00.000Z'"];

function listReq(cat, coll, caller, query, tags) {
  const qs = Object.entries(query).map(([k, v]) => `${k}=${v}`).join('&');
  return { cat, caller, method: 'GET', path: `/api/collections/${coll}/records`, query, tags: { coll, ...tags }, label: `${coll}?${qs} by ${caller}` };
}

/** Operands whose value a guest may not see (the hidden-field probing class). */
const HIDDEN = /(^|\.)(email|secret|secretnote|password|tokenKey)($|:)|via_owner\.secret/;

export function filterUnits(rnd) {
  const units = [];
  const add = (coll, operands, callers) => {
    for (const [lhs, own] of Object.entries(operands)) {
      for (const op of OPS) {
        const values = rnd.sample([...own, ...GENERIC], 3);
        for (const value of values) {
          const filter = `${lhs} ${op} ${value}`;
          const who = HIDDEN.test(lhs) ? callers : [rnd.pick(callers)];
          // Which records match a hash, a token key or a stored file name is up to chance.
          const statusOnly = RANDOM_VALUES.test(lhs) && !['=', '!=', '?=', '?!='].includes(op);
          for (const caller of who) {
            units.push([{ ...listReq('filters', coll, caller, { filter, sort: 'id', fields: 'id' }, { lhs, op, value, caller }), statusOnly }]);
          }
        }
      }
    }
  };
  add('items', ITEM_OPERANDS, ['guest', 'bob', 'superuser']);
  add('accounts', ACCOUNT_OPERANDS, ['guest', 'bob', 'superuser']);
  // Combinations, grouping and unknown syntax.
  for (const filter of [
    "(title = 'Alpha' || views > 5) && active = true", "title = 'Alpha' && (views > 5 || owner.name = 'Bob')",
    "title ~ 'a' && title !~ 'b'", "editors.name ?= 'Bob' && editors.name ?= 'Carol'", "@request.auth.id = ''",
    "@collection.accounts.name ?= 'Bob'", "title = ", "title == 'x'", "(title = 'x'", "title = 'x' || ", "'x' = title",
    "views > rank", "meta.x > 1 && meta.x < 3", "geoDistance(loc.lon, loc.lat, 0, 0) < 2000", "strftime('%Y', when) = '2024'",
  ]) {
    for (const caller of ['guest', 'superuser']) {
      units.push([listReq('filters', 'items', caller, { filter, sort: 'id', fields: 'id' }, { lhs: 'expr', op: 'expr', value: filter, caller })]);
    }
  }
  return units;
}

const ITEM_SORTS = ['id', 'title', 'code', 'body', 'views', 'rank', 'active', 'contact', 'site', 'when', 'status', 'tags', 'meta',
  'owner', 'editors', 'attachment', 'gallery', 'loc', 'secret', 'owner.name', 'owner.email', 'owner.secretnote', 'owner.password',
  'owner.tokenKey', 'owner.level', 'editors.name', 'meta.x', 'title:lower', 'tags:length', 'nosuch', 'created'];
const ACCOUNT_SORTS = ['email', 'emailVisibility', 'verified', 'username', 'name', 'level', 'secretnote', 'password', 'tokenKey',
  'items_via_owner.views', 'created'];

export function sortUnits() {
  const units = [];
  const add = (coll, keys) => {
    for (const key of keys) {
      for (const dir of ['', '-']) {
        for (const caller of ['guest', 'bob', 'superuser']) {
          // `,id` breaks ties, so a difference is in the order the key gives.
          const req = listReq('sorts', coll, caller, { sort: `${dir}${key},id`, fields: 'id' }, { key, dir, caller });
          units.push([{ ...req, unordered: RANDOM_VALUES.test(key) }]);
        }
      }
    }
  };
  add('items', ITEM_SORTS);
  add('accounts', ACCOUNT_SORTS);
  // Expanding and picking fields: what each caller sees of a related auth record.
  for (const caller of ['guest', 'alice', 'bob', 'sam', 'superuser']) {
    for (const query of [
      { expand: 'owner,editors', sort: 'id' },
      { expand: 'owner', fields: 'id,expand.owner.email,expand.owner.name', sort: 'id' },
      { fields: 'id,title:excerpt(4,true),secret', sort: 'id' },
    ]) {
      units.push([listReq('sorts', 'items', caller, query, { key: 'expand', caller })]);
    }
    units.push([listReq('sorts', 'accounts', caller, { expand: 'items_via_owner', sort: 'id' }, { key: 'expand', caller })]);
  }
  return units;
}
