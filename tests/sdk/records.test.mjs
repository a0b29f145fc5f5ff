// Record CRUD through pb.collection(name): output shape, defaults, coercion, modifiers, validation.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, expectError, ID_RE, DATE_RE } from './harness.mjs';

let srv, pb, postsColl, authorsColl, ann, bob;
before(async () => {
  srv = await startServer();
  pb = await srv.superuserClient();
  authorsColl = await pb.collections.create({
    name: 'authors', listRule: '', viewRule: '',
    fields: [{ name: 'name', type: 'text', required: true }],
  });
  postsColl = await pb.collections.create({
    name: 'posts',
    listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '',
    fields: [
      { name: 'title', type: 'text', required: true, min: 3, max: 20, pattern: '^[A-Za-z0-9 ]+$' },
      { name: 'count', type: 'number', min: 0, max: 100, onlyInt: true },
      { name: 'score', type: 'number' },
      { name: 'active', type: 'bool' },
      { name: 'contact', type: 'email' },
      { name: 'site', type: 'url' },
      { name: 'when', type: 'date' },
      { name: 'status', type: 'select', values: ['draft', 'published'], maxSelect: 1 },
      { name: 'tags', type: 'select', values: ['a', 'b', 'c', 'd'], maxSelect: 3 },
      { name: 'meta', type: 'json' },
      { name: 'author', type: 'relation', collectionId: authorsColl.id, maxSelect: 1 },
      { name: 'editors', type: 'relation', collectionId: authorsColl.id, maxSelect: 5 },
      { name: 'secret', type: 'text', hidden: true },
      { name: 'created', type: 'autodate', onCreate: true, onUpdate: false },
      { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
    ],
  });
  ann = await pb.collection('authors').create({ name: 'Ann' });
  bob = await pb.collection('authors').create({ name: 'Bob' });
});
after(async () => { await srv?.stop(); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('records', () => {
  it('create returns the record with collectionId, collectionName, a 15-char id and autodate timestamps', async () => {
    const r = await pb.collection('posts').create({ title: 'Hello' });
    assert.equal(r.collectionId, postsColl.id);
    assert.equal(r.collectionName, 'posts');
    assert.match(r.id, ID_RE);
    assert.match(r.created, DATE_RE);
    assert.match(r.updated, DATE_RE);
    assert.equal(r.created, r.updated);
    const ageMs = Math.abs(Date.now() - Date.parse(r.created.replace(' ', 'T')));
    assert.ok(ageMs < 60_000, `created should be now (UTC), got ${r.created}`);
  });

  it('unset fields come back with the per-type zero values', async () => {
    const r = await pb.collection('posts').create({ title: 'Defaults' });
    const { id, created, updated, ...rest } = r;
    assert.match(id, ID_RE);
    assert.match(created, DATE_RE);
    assert.match(updated, DATE_RE);
    assert.deepEqual(rest, {
      collectionId: postsColl.id,
      collectionName: 'posts',
      title: 'Defaults',
      count: 0,
      score: 0,
      active: false,
      contact: '',
      site: '',
      when: '',
      status: '',
      tags: [],
      meta: null,
      author: '',
      editors: [],
      secret: '', // hidden fields ARE returned to superusers
    });
  });

  it('a collection without autodate fields returns no created/updated keys', async () => {
    assert.deepEqual(Object.keys(ann).sort(), ['collectionId', 'collectionName', 'id', 'name']);
  });

  it('values are coerced: numeric strings to numbers, "true" to true, a single value to a one-item array, JSON strings to JSON', async () => {
    const r = await pb.collection('posts').create({
      title: 'Coerced', count: '5', score: '1.5', active: 'true', tags: 'a', editors: ann.id, author: ann.id,
      meta: '{"x":1}', when: '2024-01-02 03:04:05',
    });
    assert.equal(r.count, 5);
    assert.equal(r.score, 1.5);
    assert.equal(r.active, true);
    assert.deepEqual(r.tags, ['a']);
    assert.deepEqual(r.editors, [ann.id]);
    assert.equal(r.author, ann.id);
    assert.deepEqual(r.meta, { x: 1 });
    assert.equal(r.when, '2024-01-02 03:04:05.000Z');
  });

  it('bool accepts "false", 0 and 1 and number accepts booleans', async () => {
    const a = await pb.collection('posts').create({ title: 'Bools', active: 1 });
    assert.equal(a.active, true);
    const b = await pb.collection('posts').update(a.id, { active: 'false' });
    assert.equal(b.active, false);
    const c = await pb.collection('posts').update(a.id, { active: '1', count: true });
    assert.equal(c.active, true);
    assert.equal(c.count, 1);
  });

  it('dates are normalized to "YYYY-MM-DD HH:MM:SS.sssZ" in UTC from ISO and date-only input', async () => {
    const a = await pb.collection('posts').create({ title: 'Date iso', when: '2024-01-02T03:04:05Z' });
    assert.equal(a.when, '2024-01-02 03:04:05.000Z');
    const b = await pb.collection('posts').create({ title: 'Date only', when: '2024-01-02' });
    assert.equal(b.when, '2024-01-02 00:00:00.000Z');
    const c = await pb.collection('posts').create({ title: 'Date ms', when: '2024-06-30T23:59:58.123Z' });
    assert.equal(c.when, '2024-06-30 23:59:58.123Z');
    const d = await pb.collection('posts').create({ title: 'Date offset', when: '2024-01-02T05:04:05+02:00' });
    assert.equal(d.when, '2024-01-02 03:04:05.000Z');
  });

  it('JSON fields keep arbitrary JSON values: objects, arrays, strings, numbers, booleans', async () => {
    for (const v of [{ a: [1, { b: null }] }, [1, 2, 3], 'plain', 42, true]) {
      const r = await pb.collection('posts').create({ title: 'Json', meta: v });
      assert.deepEqual(r.meta, v);
      assert.deepEqual((await pb.collection('posts').getOne(r.id)).meta, v);
    }
  });

  it('getOne returns the same record as create', async () => {
    const r = await pb.collection('posts').create({ title: 'Fetch me', count: 7, tags: ['b', 'a'], author: bob.id });
    const g = await pb.collection('posts').getOne(r.id);
    assert.deepEqual(g, r);
    // multi-select keeps the submitted order
    assert.deepEqual(g.tags, ['b', 'a']);
  });

  it('update changes only the sent fields, keeps created and bumps updated', async () => {
    const r = await pb.collection('posts').create({ title: 'Before', count: 1, active: true });
    await sleep(10);
    const u = await pb.collection('posts').update(r.id, { title: 'After' });
    assert.equal(u.title, 'After');
    assert.equal(u.count, 1);
    assert.equal(u.active, true);
    assert.equal(u.created, r.created);
    assert.match(u.updated, DATE_RE);
    assert.ok(u.updated > r.updated, `updated must increase: ${r.updated} -> ${u.updated}`);
  });

  it('delete returns true and the record is gone afterwards', async () => {
    const r = await pb.collection('posts').create({ title: 'Delete me' });
    assert.equal(await pb.collection('posts').delete(r.id), true);
    await expectError(pb.collection('posts').getOne(r.id), 404);
    await expectError(pb.collection('posts').delete(r.id), 404);
  });

  it('a custom 15-char id can be supplied on create', async () => {
    const r = await pb.collection('posts').create({ id: 'customid0000001', title: 'Custom id' });
    assert.equal(r.id, 'customid0000001');
    assert.equal((await pb.collection('posts').getOne('customid0000001')).title, 'Custom id');
    const err = await expectError(pb.collection('posts').create({ id: 'customid0000001', title: 'Dup id' }), 400);
    assert.equal(err.response.data.id?.code, 'validation_not_unique');
  });

  it('number modifiers count+ and count- add and subtract', async () => {
    const r = await pb.collection('posts').create({ title: 'Mods', count: 10 });
    const a = await pb.collection('posts').update(r.id, { 'count+': 5 });
    assert.equal(a.count, 15);
    const b = await pb.collection('posts').update(r.id, { 'count-': 3 });
    assert.equal(b.count, 12);
  });

  it('a modifier result is validated like a plain value', async () => {
    const r = await pb.collection('posts').create({ title: 'Mods max', count: 90 });
    const err = await expectError(pb.collection('posts').update(r.id, { 'count+': 20 }), 400);
    assert.deepEqual(err.response.data, {
      count: { code: 'validation_max_number_constraint', message: 'Must be less or equal than 100.', params: { max: 100 } },
    });
    assert.equal((await pb.collection('posts').getOne(r.id)).count, 90);
  });

  it('select modifiers tags+ appends, +tags prepends and tags- removes', async () => {
    const r = await pb.collection('posts').create({ title: 'Tags', tags: ['a'] });
    const a = await pb.collection('posts').update(r.id, { 'tags+': ['b', 'c'] });
    assert.deepEqual(a.tags, ['a', 'b', 'c']);
    const b = await pb.collection('posts').update(r.id, { 'tags-': 'a' });
    assert.deepEqual(b.tags, ['b', 'c']);
    const c = await pb.collection('posts').update(r.id, { '+tags': 'd' });
    assert.deepEqual(c.tags, ['d', 'b', 'c']);
    // appending a value that is already there does not duplicate it
    const d = await pb.collection('posts').update(r.id, { 'tags-': ['b', 'c'], 'tags+': 'd' });
    assert.deepEqual(d.tags, ['d']);
  });

  it('relation modifiers editors+ and editors- work on multi relations', async () => {
    const r = await pb.collection('posts').create({ title: 'Editors', editors: [ann.id] });
    const a = await pb.collection('posts').update(r.id, { 'editors+': bob.id });
    assert.deepEqual(a.editors, [ann.id, bob.id]);
    const b = await pb.collection('posts').update(r.id, { 'editors-': ann.id });
    assert.deepEqual(b.editors, [bob.id]);
  });

  it('a missing required field gives 400 validation_required with "Failed to create record."', async () => {
    const err = await expectError(pb.collection('posts').create({}), 400);
    assert.deepEqual(err.response, {
      data: { title: { code: 'validation_required', message: 'Cannot be blank.' } },
      message: 'Failed to create record.',
      status: 400,
    });
  });

  it('constraint violations report one error per field with the PocketBase codes and params', async () => {
    const err = await expectError(pb.collection('posts').create({
      title: 'ab', count: 1.5, contact: 'not-an-email', site: 'nope', status: 'zzz',
      tags: ['a', 'b', 'c', 'd'], author: 'missingid123456',
    }), 400);
    assert.equal(err.response.message, 'Failed to create record.');
    const d = err.response.data;
    assert.deepEqual(d.title, { code: 'validation_min_text_constraint', message: 'Must be at least 3 character(s).', params: { min: 3 } });
    assert.deepEqual(d.count, { code: 'validation_only_int_constraint', message: 'Decimal numbers are not allowed.' });
    assert.equal(d.contact.code, 'validation_is_email');
    assert.equal(d.site.code, 'validation_invalid_url');
    assert.deepEqual(d.status, { code: 'validation_invalid_value', message: 'Invalid value zzz.', params: { value: 'zzz' } });
    assert.deepEqual(d.tags, { code: 'validation_too_many_values', message: 'Select no more than 3.', params: { maxSelect: 3 } });
    assert.equal(d.author.code, 'validation_missing_rel_records');
    assert.deepEqual(Object.keys(d).sort(), ['author', 'contact', 'count', 'site', 'status', 'tags', 'title']);
  });

  it('max text, max number and min number violations use their own codes', async () => {
    const err = await expectError(pb.collection('posts').create({ title: 'x'.repeat(21), count: 101 }), 400);
    assert.deepEqual(err.response.data.title, { code: 'validation_max_text_constraint', message: 'Must be no more than 20 character(s).', params: { max: 20 } });
    assert.deepEqual(err.response.data.count, { code: 'validation_max_number_constraint', message: 'Must be less or equal than 100.', params: { max: 100 } });
    const err2 = await expectError(pb.collection('posts').create({ title: 'Fine', count: -1 }), 400);
    assert.deepEqual(err2.response.data, { count: { code: 'validation_min_number_constraint', message: 'Must be greater or equal than 0.', params: { min: 0 } } });
  });

  it('a text pattern mismatch gives validation_invalid_format', async () => {
    const err = await expectError(pb.collection('posts').create({ title: 'Bad!!' }), 400);
    assert.equal(err.response.data.title?.code, 'validation_invalid_format');
    assert.deepEqual(Object.keys(err.response.data), ['title']);
  });

  it('an unknown select value on a multi select is rejected', async () => {
    const err = await expectError(pb.collection('posts').create({ title: 'Tags bad', tags: ['a', 'zz'] }), 400);
    assert.equal(err.response.data.tags?.code, 'validation_invalid_value');
  });

  it('a failed update reports "Failed to update record." and changes nothing', async () => {
    const r = await pb.collection('posts').create({ title: 'Stable' });
    const err = await expectError(pb.collection('posts').update(r.id, { title: 'no', count: 5 }), 400);
    assert.equal(err.response.message, 'Failed to update record.');
    assert.equal(err.response.data.title?.code, 'validation_min_text_constraint');
    const g = await pb.collection('posts').getOne(r.id);
    assert.equal(g.title, 'Stable');
    assert.equal(g.count, 0);
  });

  it('unknown fields in the body are ignored', async () => {
    const r = await pb.collection('posts').create({ title: 'Extra', nosuchfield: 'x' });
    assert.equal('nosuchfield' in r, false);
  });

  it('hidden fields are returned to superusers but not to guests, and guests cannot filter on them', async () => {
    const r = await pb.collection('posts').create({ title: 'Hidden', secret: 'sshh' });
    assert.equal(r.secret, 'sshh');
    const guest = srv.newClient();
    const g = await guest.collection('posts').getOne(r.id);
    assert.equal('secret' in g, false);
    assert.equal(g.title, 'Hidden');
    const list = await guest.collection('posts').getList(1, 50);
    assert.ok(list.items.every((x) => !('secret' in x)));
    await expectError(guest.collection('posts').getList(1, 50, { filter: "secret = 'sshh'" }), 400);
    const su = await pb.collection('posts').getList(1, 50, { filter: "secret = 'sshh'" });
    assert.equal(su.totalItems, 1);
  });

  it('a guest create through a public createRule omits hidden fields from the response and ignores values sent for them', async () => {
    const guest = srv.newClient();
    const r = await guest.collection('posts').create({ title: 'Guest post', secret: 'guest secret' });
    assert.equal('secret' in r, false);
    // PocketBase silently drops hidden-field values submitted by non-superusers (no error).
    const su = await pb.collection('posts').getOne(r.id);
    assert.equal(su.secret, '');
    // a superuser can set it
    const u = await pb.collection('posts').update(r.id, { secret: 'by su' });
    assert.equal(u.secret, 'by su');
  });

  it('a FormData create with an @jsonPayload part merges the JSON fields and coerces the plain parts', async () => {
    const fd = new FormData();
    fd.append('title', 'Form Post');
    fd.append('count', '7');
    fd.append('active', 'true');
    fd.append('tags', 'a');
    fd.append('tags', 'b');
    fd.append('@jsonPayload', JSON.stringify({ meta: { deep: [1, 2] }, score: 2.5 }));
    const r = await pb.collection('posts').create(fd);
    assert.equal(r.title, 'Form Post');
    assert.equal(r.count, 7);
    assert.equal(r.active, true);
    assert.deepEqual(r.tags, ['a', 'b']);
    assert.deepEqual(r.meta, { deep: [1, 2] });
    assert.equal(r.score, 2.5);
  });

  it('a FormData update works and multipart "false" clears a bool', async () => {
    const r = await pb.collection('posts').create({ title: 'Form Upd', active: true, count: 3 });
    const fd = new FormData();
    fd.append('active', 'false');
    fd.append('count+', '2');
    const u = await pb.collection('posts').update(r.id, fd);
    assert.equal(u.active, false);
    assert.equal(u.count, 5);
  });

  it('a plain object containing a Blob is sent by the SDK as multipart with @jsonPayload for object values', async () => {
    await pb.collections.create({
      name: 'docs', listRule: '', viewRule: '',
      fields: [{ name: 'name', type: 'text' }, { name: 'info', type: 'json' }, { name: 'file', type: 'file', maxSelect: 1, maxSize: 1024 * 1024 }],
    });
    const r = await pb.collection('docs').create({
      name: 'With file',
      info: { nested: { ok: true } },
      file: new File([Buffer.from('hello world')], 'hello.txt', { type: 'text/plain' }),
    });
    assert.equal(r.name, 'With file');
    assert.deepEqual(r.info, { nested: { ok: true } });
    assert.match(r.file, /^hello_[a-zA-Z0-9]{10}\.txt$/);
    const url = pb.files.getURL(r, r.file);
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello world');
  });

  it('an auth collection record never exposes password or tokenKey and hides email unless emailVisibility', async () => {
    const u = await pb.collection('users').create({
      email: 'someone@example.com', password: 'pass12345', passwordConfirm: 'pass12345', name: 'Some One',
    });
    assert.equal(u.email, 'someone@example.com');
    assert.equal(u.emailVisibility, false);
    assert.equal(u.verified, false);
    assert.equal('password' in u, false);
    assert.equal('tokenKey' in u, false);
    assert.equal('passwordConfirm' in u, false);
    // the default users collection has name and avatar fields
    assert.equal(u.name, 'Some One');
    assert.equal(u.avatar, '');
  });

  it('auth record create validates passwordConfirm and unique email', async () => {
    let err = await expectError(pb.collection('users').create({ email: 'x1@example.com', password: 'pass12345' }), 400);
    assert.equal(err.response.data.passwordConfirm?.code, 'validation_required');
    err = await expectError(pb.collection('users').create({ email: 'x1@example.com', password: 'pass12345', passwordConfirm: 'other12345' }), 400);
    assert.equal(err.response.data.passwordConfirm?.code, 'validation_values_mismatch');
    err = await expectError(pb.collection('users').create({ email: 'someone@example.com', password: 'pass12345', passwordConfirm: 'pass12345' }), 400);
    assert.equal(err.response.data.email?.code, 'validation_not_unique');
    err = await expectError(pb.collection('users').create({ email: 'x2@example.com', password: 'short', passwordConfirm: 'short' }), 400);
    assert.equal(err.response.data.password?.code, 'validation_min_text_constraint');
  });
});
