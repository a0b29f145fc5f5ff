// Collection model hooks (onCollectionCreate, ...Validate, ...AfterCreateSuccess...): they
// run around every change of a definition, made through the API or by application code
// ($app.save(collection) in a route). The same hook files and assertions run on the reference
// PocketBase (SDK_SERVER=pocketbase) and on oxbase.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, rawFetch } from './harness.mjs';

const HOOKS = String.raw`
onCollectionCreate((e) => {
  if (e.collection.name.startsWith("open_")) e.collection.listRule = ""
  if (e.collection.name === "blocked") throw new BadRequestError("Not that one.")
  e.next()
})
onCollectionValidate((e) => {
  if (e.collection.name === "invalid_by_hook") throw new BadRequestError("Invalid by hook.")
  e.next()
})
onCollectionAfterCreateSuccess((e) => {
  if (e.collection.name !== "audit") e.app.save(new Record(e.app.findCollectionByNameOrId("audit"), { msg: "created " + e.collection.name }))
  e.next()
})
onCollectionAfterCreateError((e) => {
  e.app.save(new Record(e.app.findCollectionByNameOrId("audit"), { msg: "create failed " + e.collection.name }))
  e.next()
})
onCollectionUpdate((e) => {
  e.collection.viewRule = ""
  e.next()
}, "tagged")
onCollectionAfterUpdateSuccess((e) => {
  e.app.save(new Record(e.app.findCollectionByNameOrId("audit"), { msg: "updated " + e.collection.name }))
  e.next()
})
onCollectionDelete((e) => {
  if (e.collection.name === "undeletable") throw new BadRequestError("Keep it.")
  e.next()
})
onCollectionAfterDeleteSuccess((e) => {
  e.app.save(new Record(e.app.findCollectionByNameOrId("audit"), { msg: "deleted " + e.collection.name }))
  e.next()
})

routerAdd("POST", "/make/{name}", (e) => {
  const name = e.request.pathValue("name")
  try {
    $app.save(new Collection({ name, type: "base", fields: [{ name: "title", type: "text" }] }))
  } catch (err) {
    return e.json(200, { failed: err.message })
  }
  const made = $app.findCollectionByNameOrId(name)
  return e.json(200, { listRule: made.listRule })
})
routerAdd("POST", "/touch/{name}", (e) => {
  const c = $app.findCollectionByNameOrId(e.request.pathValue("name"))
  c.fields.add(new TextField({ name: "extra" }))
  $app.save(c)
  return e.json(200, { viewRule: $app.findCollectionByNameOrId(c.name).viewRule })
})
routerAdd("POST", "/drop/{name}", (e) => {
  try {
    $app.delete($app.findCollectionByNameOrId(e.request.pathValue("name")))
  } catch (err) {
    return e.json(200, { failed: err.message })
  }
  return e.json(200, { ok: true })
})
`;

let srv;
let su;

before(async () => {
  srv = await startServer({ hooks: { 'collections.pb.js': HOOKS } });
  su = await srv.superuserClient();
  await su.collections.create({ name: 'audit', type: 'base', fields: [{ name: 'msg', type: 'text' }] });
});
after(async () => { await srv?.stop(); });

async function audits() {
  return (await su.collection('audit').getFullList()).map((a) => a.msg);
}

async function post(path) {
  return rawFetch(srv.url, path, { method: 'POST' });
}

test('collection hooks run for collections saved by application code', async () => {
  const made = await post('/make/open_made');
  assert.deepEqual(made.body, { listRule: '' });
  const plain = await post('/make/plain_made');
  assert.deepEqual(plain.body, { listRule: null });
  assert.ok((await audits()).includes('created open_made'));

  const blocked = await post('/make/blocked');
  assert.equal(blocked.body.failed, 'Not that one.');
  const invalid = await post('/make/invalid_by_hook');
  assert.equal(invalid.body.failed, 'Invalid by hook.');
  assert.ok((await audits()).includes('create failed invalid_by_hook'));
  await assert.rejects(su.collections.getOne('blocked'));
  await assert.rejects(su.collections.getOne('invalid_by_hook'));

  await su.collections.create({ name: 'tagged', type: 'base', fields: [{ name: 'a', type: 'text' }] });
  const touched = await post('/touch/tagged');
  assert.deepEqual(touched.body, { viewRule: '' });
  const untouched = await post('/touch/plain_made');
  assert.deepEqual(untouched.body, { viewRule: null });
  assert.ok((await audits()).includes('updated tagged'));

  await su.collections.create({ name: 'undeletable', type: 'base', fields: [{ name: 'a', type: 'text' }] });
  const kept = await post('/drop/undeletable');
  assert.equal(kept.body.failed, 'Keep it.');
  assert.deepEqual(await post('/drop/plain_made').then((r) => r.body), { ok: true });
  assert.ok((await audits()).includes('deleted plain_made'));
  await su.collections.getOne('undeletable');
});

test('collection hooks run for changes made through the API', async () => {
  const created = await su.collections.create({ name: 'open_api', type: 'base', fields: [{ name: 'a', type: 'text' }] });
  assert.equal(created.listRule, '');
  assert.ok((await audits()).includes('created open_api'));
  const refused = await rawFetch(srv.url, '/api/collections', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: su.authStore.token },
    body: JSON.stringify({ name: 'blocked', type: 'base' }),
  });
  assert.equal(refused.status, 400);
  assert.equal(refused.body.message, 'Failed to create collection. Raw error: \nNot that one.');

  const updated = await su.collections.update('tagged', { listRule: '' });
  assert.equal(updated.viewRule, '');
  const kept = await rawFetch(srv.url, '/api/collections/undeletable', {
    method: 'DELETE', headers: { authorization: su.authStore.token },
  });
  assert.equal(kept.status, 400);
  assert.equal(kept.body.message, 'Failed to delete collection.');
  await su.collections.delete('open_api');
  assert.ok((await audits()).includes('deleted open_api'));

  // An import saves each collection as the application does: the hooks run.
  const all = await su.collections.getFullList();
  all.push({ name: 'open_imported', type: 'base', fields: [{ name: 'a', type: 'text' }] });
  await su.collections.import(all, false);
  assert.equal((await su.collections.getOne('open_imported')).listRule, '');
  assert.ok((await audits()).includes('created open_imported'));
});
