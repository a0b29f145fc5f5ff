// Collections API through pb.collections (superuser only).
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, expectError, ID_RE, DATE_RE } from './harness.mjs';

let srv, pb, authors;
before(async () => {
  srv = await startServer();
  pb = await srv.superuserClient();
});
after(async () => { await srv?.stop(); });

const COLL_ID_RE = /^[a-z0-9_]+$/;
const SYSTEM_COLLECTIONS = ['_mfas', '_otps', '_externalAuths', '_authOrigins', '_superusers', 'users'];

const byName = (fields) => Object.fromEntries(fields.map((f) => [f.name, f]));

describe('collections', () => {
  it('a fresh server has the PocketBase system collections plus the default users auth collection', async () => {
    const all = await pb.collections.getFullList();
    const names = all.map((c) => c.name);
    for (const n of SYSTEM_COLLECTIONS) assert.ok(names.includes(n), `missing ${n}`);
    const su = all.find((c) => c.name === '_superusers');
    assert.equal(su.type, 'auth');
    assert.equal(su.system, true);
    // the JS SDK hard-codes this id in authStore.isSuperuser when no record is stored
    assert.equal(su.id, 'pbc_3142635823');
    const users = all.find((c) => c.name === 'users');
    assert.equal(users.type, 'auth');
    assert.equal(users.system, false);
  });

  it('create makes a base collection with fields of many types and returns the full collection model', async () => {
    authors = await pb.collections.create({ name: 'authors', type: 'base', fields: [{ name: 'name', type: 'text', required: true }] });
    const c = await pb.collections.create({
      name: 'posts',
      type: 'base',
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
        { name: 'author', type: 'relation', collectionId: authors.id, maxSelect: 1 },
        { name: 'editors', type: 'relation', collectionId: authors.id, maxSelect: 5 },
        { name: 'created', type: 'autodate', onCreate: true, onUpdate: false },
        { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
      ],
    });
    assert.match(c.id, COLL_ID_RE);
    assert.ok(c.id.startsWith('pbc_'), `collection ids are pbc_<digits>: ${c.id}`);
    assert.equal(c.name, 'posts');
    assert.equal(c.type, 'base');
    assert.equal(c.system, false);
    assert.match(c.created, DATE_RE);
    assert.match(c.updated, DATE_RE);
    for (const rule of ['listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule']) {
      assert.equal(c[rule], null, `${rule} defaults to null (superuser only)`);
    }
    assert.deepEqual(c.indexes, []);
    // the implicit id field comes first
    assert.equal(c.fields[0].name, 'id');
    assert.deepEqual(
      { ...c.fields[0], id: undefined },
      {
        id: undefined, autogeneratePattern: '[a-z0-9]{15}', help: '', hidden: false, max: 15, min: 15, name: 'id',
        pattern: '^[a-z0-9]+$', presentable: false, primaryKey: true, required: true, system: true, type: 'text',
      },
    );
    assert.deepEqual(c.fields.map((f) => f.name), [
      'id', 'title', 'count', 'score', 'active', 'contact', 'site', 'when', 'status', 'tags', 'meta', 'author', 'editors', 'created', 'updated',
    ]);
    const f = byName(c.fields);
    for (const field of c.fields) {
      assert.equal(typeof field.id, 'string');
      assert.ok(field.id.length > 0, 'every field gets an id');
    }
    assert.equal(f.title.type, 'text');
    assert.equal(f.title.min, 3);
    assert.equal(f.title.max, 20);
    assert.equal(f.title.pattern, '^[A-Za-z0-9 ]+$');
    assert.equal(f.title.required, true);
    assert.equal(f.title.hidden, false);
    assert.equal(f.title.system, false);
    assert.equal(f.title.primaryKey, false);
    assert.equal(f.title.autogeneratePattern, '');
    assert.equal(f.count.onlyInt, true);
    assert.equal(f.count.min, 0);
    assert.equal(f.count.max, 100);
    // unset number bounds are null, not 0
    assert.equal(f.score.min, null);
    assert.equal(f.score.max, null);
    assert.equal(f.score.onlyInt, false);
    assert.equal(f.active.type, 'bool');
    assert.deepEqual(f.contact.exceptDomains, []);
    assert.deepEqual(f.contact.onlyDomains, []);
    assert.deepEqual(f.site.onlyDomains, []);
    // unset date bounds are empty strings
    assert.equal(f.when.min, '');
    assert.equal(f.when.max, '');
    assert.deepEqual(f.status.values, ['draft', 'published']);
    assert.equal(f.status.maxSelect, 1);
    assert.equal(f.tags.maxSelect, 3);
    assert.equal(f.meta.maxSize, 0);
    assert.equal(f.author.collectionId, authors.id);
    assert.equal(f.author.maxSelect, 1);
    assert.equal(f.author.minSelect, 0);
    assert.equal(f.author.cascadeDelete, false);
    assert.equal(f.editors.maxSelect, 5);
    assert.equal(f.created.type, 'autodate');
    assert.equal(f.created.onCreate, true);
    assert.equal(f.created.onUpdate, false);
    assert.equal(f.updated.onCreate, true);
    assert.equal(f.updated.onUpdate, true);
  });

  it('create makes an auth collection with the implicit auth fields and auth options', async () => {
    const c = await pb.collections.create({ name: 'members', type: 'auth', fields: [{ name: 'nickname', type: 'text' }] });
    assert.equal(c.type, 'auth');
    const names = c.fields.map((f) => f.name);
    for (const n of ['id', 'password', 'tokenKey', 'email', 'emailVisibility', 'verified', 'nickname']) {
      assert.ok(names.includes(n), `auth collection has ${n}`);
    }
    const f = byName(c.fields);
    assert.equal(f.password.type, 'password');
    assert.equal(f.password.hidden, true);
    assert.equal(f.password.system, true);
    assert.equal(f.tokenKey.hidden, true);
    assert.equal(f.email.type, 'email');
    assert.equal(f.email.required, true);
    assert.equal(f.emailVisibility.type, 'bool');
    assert.equal(f.verified.type, 'bool');
    assert.equal(c.authRule, '');
    assert.equal(c.manageRule, null);
    assert.deepEqual(c.passwordAuth, { enabled: true, identityFields: ['email'] });
    assert.equal(typeof c.authToken.duration, 'number');
    assert.ok(c.indexes.some((i) => /UNIQUE INDEX/.test(i) && /`email`/.test(i)), 'unique email index');
    assert.ok(c.indexes.some((i) => /UNIQUE INDEX/.test(i) && /`tokenKey`/.test(i)), 'unique tokenKey index');
  });

  it('create makes a view collection whose fields are inferred from the viewQuery', async () => {
    await pb.collection('posts').create({ title: 'First post', count: 3 });
    const v = await pb.collections.create({ name: 'post_titles', type: 'view', viewQuery: 'SELECT id, title, count FROM posts' });
    assert.equal(v.type, 'view');
    assert.equal(v.viewQuery, 'SELECT id, title, count FROM posts');
    assert.deepEqual(v.fields.map((f) => f.name), ['id', 'title', 'count']);
    const f = byName(v.fields);
    assert.equal(f.title.type, 'text');
    assert.equal(f.count.type, 'number');
    const list = await pb.collection('post_titles').getList(1, 10);
    assert.equal(list.totalItems, 1);
    assert.equal(list.items[0].title, 'First post');
    assert.equal(list.items[0].count, 3);
    assert.equal(list.items[0].collectionName, 'post_titles');
    assert.equal(list.items[0].collectionId, v.id);
  });

  it('a view collection with an invalid viewQuery is rejected with validation_invalid_view_query', async () => {
    const err = await expectError(pb.collections.create({ name: 'bad_view', type: 'view', viewQuery: 'SELECT nope FROM posts' }), 400);
    assert.equal(err.response.data.viewQuery?.code, 'validation_invalid_view_query');
  });

  it('records cannot be created in a view collection', async () => {
    const err = await expectError(pb.collection('post_titles').create({ title: 'x' }), 400);
    assert.equal(err.response.status, 400);
  });

  it('a duplicate collection name gives 400 with validation_collection_name_exists on name', async () => {
    const err = await expectError(pb.collections.create({ name: 'posts', type: 'base' }), 400);
    assert.deepEqual(err.response, {
      data: { name: { code: 'validation_collection_name_exists', message: 'Collection name must be unique (case insensitive).' } },
      message: 'Failed to create collection.',
      status: 400,
    });
  });

  it('the duplicate name check is case insensitive', async () => {
    const err = await expectError(pb.collections.create({ name: 'POSTS', type: 'base' }), 400);
    assert.equal(err.response.data.name?.code, 'validation_collection_name_exists');
  });

  it('a missing or malformed name or an unknown type is rejected with field error codes', async () => {
    let err = await expectError(pb.collections.create({ type: 'base' }), 400);
    assert.equal(err.response.data.name?.code, 'validation_required');
    err = await expectError(pb.collections.create({ name: 'has space' }), 400);
    assert.equal(err.response.data.name?.code, 'validation_match_invalid');
    err = await expectError(pb.collections.create({ name: 'weird_type', type: 'weird' }), 400);
    assert.equal(err.response.data.type?.code, 'validation_in_invalid');
  });

  it('create with omitted type defaults to a base collection', async () => {
    const c = await pb.collections.create({ name: 'untyped' });
    assert.equal(c.type, 'base');
    assert.deepEqual(c.fields.map((f) => f.name), ['id']);
  });

  it('getList returns a paginated {page, perPage, totalItems, totalPages, items} object', async () => {
    const all = await pb.collections.getFullList();
    const page = await pb.collections.getList(1, 2);
    assert.deepEqual(Object.keys(page).sort(), ['items', 'page', 'perPage', 'totalItems', 'totalPages']);
    assert.equal(page.page, 1);
    assert.equal(page.perPage, 2);
    assert.equal(page.items.length, 2);
    assert.equal(page.totalItems, all.length);
    assert.equal(page.totalPages, Math.ceil(all.length / 2));
  });

  it('getList supports filter and sort on collection properties', async () => {
    const page = await pb.collections.getList(1, 50, { filter: "system = false && type = 'base'", sort: '-name' });
    const names = page.items.map((c) => c.name);
    assert.deepEqual(names, ['untyped', 'posts', 'authors']);
    assert.equal(page.totalItems, 3);
  });

  it('getOne finds a collection by name and by id', async () => {
    const byN = await pb.collections.getOne('authors');
    assert.equal(byN.id, authors.id);
    const byId = await pb.collections.getOne(authors.id);
    assert.equal(byId.name, 'authors');
  });

  it('update can add a field and rename a field while keeping the existing data', async () => {
    const c = await pb.collections.create({ name: 'notes', fields: [{ name: 'title', type: 'text' }] });
    const rec = await pb.collection('notes').create({ title: 'keep me' });
    const fields = c.fields.map((f) => (f.name === 'title' ? { ...f, name: 'heading' } : f));
    fields.push({ name: 'extra', type: 'number' });
    const updated = await pb.collections.update('notes', { fields });
    assert.deepEqual(updated.fields.map((f) => f.name), ['id', 'heading', 'extra']);
    // the renamed field keeps its id
    assert.equal(byName(updated.fields).heading.id, byName(c.fields).title.id);
    assert.notEqual(updated.updated, undefined);
    const after = await pb.collection('notes').getOne(rec.id);
    assert.equal(after.heading, 'keep me');
    assert.equal(after.extra, 0);
    assert.equal('title' in after, false);
  });

  it('update can change rules and a partial update leaves the fields alone', async () => {
    const updated = await pb.collections.update('notes', { listRule: '', viewRule: "heading != ''" });
    assert.equal(updated.listRule, '');
    assert.equal(updated.viewRule, "heading != ''");
    assert.equal(updated.createRule, null);
    assert.deepEqual(updated.fields.map((f) => f.name), ['id', 'heading', 'extra']);
    const list = await srv.newClient().collection('notes').getList(1, 10);
    assert.equal(list.totalItems, 1);
  });

  it('update can rename a collection and its records follow', async () => {
    const renamed = await pb.collections.update('notes', { name: 'memos' });
    assert.equal(renamed.name, 'memos');
    const list = await pb.collection('memos').getList(1, 10);
    assert.equal(list.totalItems, 1);
    assert.equal(list.items[0].collectionName, 'memos');
    await expectError(pb.collection('notes').getList(1, 10), 404);
  });

  it('truncate deletes all records and keeps the collection', async () => {
    await pb.collection('memos').create({ heading: 'second' });
    assert.equal((await pb.collection('memos').getList(1, 10)).totalItems, 2);
    const ok = await pb.collections.truncate('memos');
    assert.equal(ok, true);
    const list = await pb.collection('memos').getList(1, 10);
    assert.deepEqual(list, { items: [], page: 1, perPage: 10, totalItems: 0, totalPages: 0 });
    assert.equal((await pb.collections.getOne('memos')).name, 'memos');
  });

  it('delete removes a collection and its records; deleting again gives 404', async () => {
    assert.equal(await pb.collections.delete('memos'), true);
    const err = await expectError(pb.collections.getOne('memos'), 404);
    assert.deepEqual(err.response, { data: {}, message: "The requested resource wasn't found.", status: 404 });
    await expectError(pb.collections.delete('memos'), 404);
    await expectError(pb.collection('memos').getList(1, 1), 404);
  });

  it('deleting a collection that another collection references is rejected with 400', async () => {
    const err = await expectError(pb.collections.delete('authors'), 400);
    assert.equal(err.response.status, 400);
    assert.deepEqual(err.response.data, {});
    assert.equal((await pb.collections.getOne('authors')).name, 'authors');
  });

  it('deleting a system collection is rejected with 400', async () => {
    await expectError(pb.collections.delete('_superusers'), 400);
  });

  it('import creates new collections and returns true', async () => {
    const ok = await pb.collections.import([
      { name: 'imp1', type: 'base', fields: [{ name: 'a', type: 'text' }] },
      { name: 'imp2', type: 'base', fields: [{ name: 'b', type: 'bool' }] },
    ], false);
    assert.equal(ok, true);
    const imp1 = await pb.collections.getOne('imp1');
    assert.deepEqual(imp1.fields.map((f) => f.name), ['id', 'a']);
    const rec = await pb.collection('imp2').create({ b: true });
    assert.equal(rec.b, true);
    // existing collections are untouched when deleteMissing is false
    assert.equal((await pb.collections.getOne('posts')).name, 'posts');
  });

  it('import of an empty list is rejected with 400 and validation_required on collections', async () => {
    const err = await expectError(pb.collections.import([], false), 400);
    assert.equal(err.response.data.collections?.code, 'validation_required');
  });

  it('import with an invalid collection is rejected with validation_collections_import_failure and changes nothing', async () => {
    const err = await expectError(pb.collections.import([{ name: 'imp3', type: 'base' }, { name: '', type: 'base' }], false), 400);
    assert.equal(err.response.data.collections?.code, 'validation_collections_import_failure');
    await expectError(pb.collections.getOne('imp3'), 404);
  });

  it('getScaffolds returns base, auth and view templates', async () => {
    const s = await pb.collections.getScaffolds();
    assert.deepEqual(Object.keys(s).sort(), ['auth', 'base', 'view']);
    assert.equal(s.base.type, 'base');
    assert.equal(s.base.id, '');
    assert.equal(s.base.name, '');
    assert.equal(s.base.created, '');
    assert.equal(s.base.listRule, null);
    assert.deepEqual(s.base.fields.map((f) => f.name), ['id']);
    assert.equal(s.auth.type, 'auth');
    assert.deepEqual(s.auth.fields.map((f) => f.name), ['id', 'password', 'tokenKey', 'email', 'emailVisibility', 'verified']);
    assert.equal(s.auth.authRule, '');
    assert.equal(s.auth.manageRule, null);
    assert.deepEqual(s.auth.passwordAuth, { enabled: true, identityFields: ['email'] });
    assert.equal(s.view.type, 'view');
    assert.equal(s.view.viewQuery, '');
    assert.deepEqual(s.view.fields, []);
  });

  it('guests get 401 and regular auth records get 403 on every collections endpoint', async () => {
    const guest = srv.newClient();
    const g = await expectError(guest.collections.getList(1, 10), 401);
    assert.deepEqual(g.response, { data: {}, message: 'The request requires valid record authorization token.', status: 401 });
    await expectError(guest.collections.getOne('posts'), 401);
    await expectError(guest.collections.create({ name: 'guest_made' }), 401);
    await expectError(guest.collections.getScaffolds(), 401);

    await pb.collection('users').create({ email: 'plain@example.com', password: 'pass12345', passwordConfirm: 'pass12345' });
    const user = srv.newClient();
    await user.collection('users').authWithPassword('plain@example.com', 'pass12345');
    assert.equal(user.authStore.isSuperuser, false);
    const u = await expectError(user.collections.getList(1, 10), 403);
    assert.deepEqual(u.response, { data: {}, message: 'The authorized record is not allowed to perform this action.', status: 403 });
    await expectError(user.collections.getOne('posts'), 403);
    await expectError(user.collections.create({ name: 'user_made' }), 403);
    await expectError(user.collections.update('posts', { listRule: '' }), 403);
    await expectError(user.collections.delete('posts'), 403);
    await expectError(user.collections.truncate('posts'), 403);
    await expectError(user.collections.import([{ name: 'x_imp' }], false), 403);
    await expectError(user.collections.getScaffolds(), 403);
    assert.equal((await pb.collections.getOne('posts')).listRule, null);
  });

  it('record ids in a new base collection are 15 lowercase alphanumerics', async () => {
    const r = await pb.collection('authors').create({ name: 'Ann' });
    assert.match(r.id, ID_RE);
  });
});
