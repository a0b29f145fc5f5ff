// Every field type × modifier (`f`, `f+`, `+f`, `f-`) × body encoding × create/update, with
// valid, invalid and empty values, on `posts` (all rules public). An update runs on a fresh
// copy of a full base record.
import { blob, ref } from '../play.mjs';
import { ID, rid, seqId, recordCreate } from '../fixture.mjs';

const many = (n) => Array.from({ length: n }, (_, i) => blob(`many${i}.txt`));

/** Values per field; the update base record's value first. */
export const VALUES = {
  title: ['base', 'hello', '', null, 123, ['a', 'b'], 'x'.repeat(60), { a: 1 }, true],
  code: ['ab', 'ok-1', 'a', 'UPPER', '', 'waytoolongvalue', 5],
  body: ['<p>b</p>', '<p>hi</p>', '', null, 5, ['x']],
  views: [10, 5, -3.5, '7', '', null, 'abc', true, [1, 2], 1e7, '1e3', 0],
  rank: [5, 7, 5.5, '10', -1, 101, null, ''],
  active: [true, false, 'true', 'false', '1', '0', 1, 0, '', null, 'yes', [true]],
  contact: ['c@d.io', 'a@b.co', 'bad', '', null, 'A@B.CO', 5, ['a@b.co']],
  site: ['https://s.io', 'https://x.io/a', 'ftp://x.io', 'notaurl', '', null, 'x.io'],
  when: ['2024-05-05 05:05:05.000Z', '2024-01-02', '2024-01-02T03:04:05Z', '2024-01-02 03:04:05', 'bad', '', null, 1700000000],
  status: ['draft', 'published', 'nope', '', null, ['draft', 'published'], ['archived'], 5],
  tags: [['a', 'b'], ['c'], 'a', 'd', ['a', 'zz'], [], '', null, ['a', 'a'], ['a', 'b', 'c', 'd'], 'a,b'],
  meta: [{ k: 1 }, { x: 1 }, [1, 2], 'str', 5, null, '{"a":1}', '', true, 'not json{', { nested: { deep: [1, { a: null }] } }],
  owner: [ID.alice, ID.bob, [ID.carol], [ID.alice, ID.bob], 'nonexist0000000', '', null, 5, ID.sam],
  editors: [[ID.alice, ID.bob], [ID.carol], ID.bob, ID.alice, [], 'nonexist0000000', [ID.carol, ID.carol], '', null,
    [ID.alice, ID.bob, ID.carol, rid('x1'), rid('x2'), rid('x3')]],
  attachment: [blob('base.txt'), blob('upload.txt'), [blob('one.txt'), blob('two.txt')], '', null, 'name.txt', ref('base', 'attachment')],
  gallery: [[blob('gal1.txt'), blob('gal2.txt')], [blob('gal3.txt')], blob('gal4.txt'), many(4), '', null,
    ref('base', 'gallery', 0), [ref('base', 'gallery', 1), 'nosuchfile.txt'], 'nosuchfile.txt'],
  loc: [{ lon: 5, lat: 6 }, { lon: 1, lat: 2 }, { lon: 200, lat: 0 }, '{"lon":1,"lat":2}', null, 'x', { lon: '1', lat: 2 }, {}],
  secret: ['sb', 's', '', null, 7],
  created: ['2020-01-01 00:00:00.000Z', '', null],
  updated: ['2020-01-01 00:00:00.000Z', 'bad'],
};
export const FIELDS = Object.keys(VALUES);
const KEYS = (f) => [f, `${f}+`, `+${f}`, `${f}-`];
const ENCODINGS = ['json', 'form', 'payload'];
const CALLERS = ['guest', 'alice', 'superuser'];

const hasBlob = (v) => JSON.stringify(v ?? null).includes('"$blob"');
const hasRef = (v) => JSON.stringify(v ?? null).includes('"$ref"');

/** The full base record every update starts from (the first value of each field). */
function baseRecord(id) {
  const body = { id };
  for (const [f, vs] of Object.entries(VALUES)) if (f !== 'created' && f !== 'updated') body[f] = vs[0];
  return body;
}

let counter = 0;
const nextId = (tag) => seqId(tag, counter++);

function writeUnit({ field, key, enc, action, value, caller }) {
  const tags = { field, key, enc, action, value: JSON.stringify(value), coll: 'posts' };
  const label = `${action} posts {${key}: ${tags.value}} as ${enc} by ${caller}`;
  if (action === 'create') {
    return [{
      cat: 'fields', label, tags, caller, enc, method: 'POST', path: '/api/collections/posts/records',
      body: { id: nextId('pc'), [key]: value },
    }];
  }
  const id = nextId('pu');
  return [
    { ...recordCreate('posts', baseRecord(id), 'payload'), save: 'base' },
    { cat: 'fields', label, tags, caller, enc, method: 'PATCH', path: `/api/collections/posts/records/${id}`, body: { [key]: value } },
  ];
}

function idUnit(id, enc, caller) {
  return [{
    cat: 'fields', label: `create posts {id: ${JSON.stringify(id)}, title} as ${enc} by ${caller}`,
    tags: { field: 'id', key: 'id', enc, action: 'create', value: JSON.stringify(id), coll: 'posts' },
    caller, enc, method: 'POST', path: '/api/collections/posts/records', body: { id, title: 'with id' },
  }];
}

/** Whether a value can be sent in an encoding (files only in multipart; refs only on update). */
const sendable = (value, enc, action) => !(enc === 'json' && hasBlob(value)) && !(action === 'create' && hasRef(value));

export function fieldUnits(rnd) {
  const units = [];
  for (const field of FIELDS) {
    for (const action of ['create', 'update']) {
      // The plain key with every value, in one random encoding each.
      for (const value of VALUES[field].slice(1)) {
        const encs = ENCODINGS.filter((e) => sendable(value, e, action));
        if (encs.length) units.push(writeUnit({ field, key: field, enc: rnd.pick(encs), action, value, caller: rnd.pick(CALLERS) }));
      }
      // Every modifier × encoding with two sampled values.
      for (const key of KEYS(field)) {
        for (const enc of ENCODINGS) {
          const values = VALUES[field].slice(1).filter((v) => sendable(v, enc, action));
          for (const value of rnd.sample(values, 2)) {
            units.push(writeUnit({ field, key, enc, action, value, caller: rnd.pick(CALLERS) }));
          }
        }
      }
    }
  }
  // The id on create: explicit, generated, invalid; then one already taken.
  for (const id of ['', 'short', 'UPPERCASE000000', 'has space 00000', 123, null]) {
    for (const enc of ENCODINGS) units.push(idUnit(id, enc, 'guest'));
  }
  for (const enc of ENCODINGS) {
    const taken = nextId('pt');
    units.push([idUnit(taken, enc, 'superuser')[0], ...idUnit(taken, enc, 'alice')]);
  }
  return units;
}
