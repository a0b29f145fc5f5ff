// The `onCollection*Execute` hooks of hook files run outside the change's transaction in
// PocketBase too: its own Execute handler (priority 99, after every JS one) opens the
// transaction around the DDL when the JS hooks' `e.next()` reaches it. The same file and
// assertions run on the reference PocketBase (SDK_SERVER=pocketbase) and on oxbase.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, rawFetch } from './harness.mjs';

const HOOKS = String.raw`
onCollectionCreate((e) => {
  if (e.collection.name.startsWith("tx_")) {
    const r = new Record(e.app.findCollectionByNameOrId("audit"))
    r.set("msg", "create " + e.collection.name + " tx=" + e.app.isTransactional())
    e.app.save(r)
  }
  e.next()
})
onCollectionCreateExecute((e) => {
  if (e.collection.name.startsWith("tx_")) {
    const r = new Record(e.app.findCollectionByNameOrId("audit"))
    r.set("msg", "execute " + e.collection.name + " tx=" + e.app.isTransactional())
    e.app.save(r)
    if (e.collection.name === "tx_open") e.collection.listRule = ""
  }
  e.next()
})

// Code after \`e.next()\` runs once the change is made; a throw there fails the request, but the
// change stays; a hook that does not call \`e.next()\` skips the change.
onCollectionCreateExecute((e) => {
  if (!e.collection.name.startsWith("ex_")) return e.next()
  if (e.collection.name === "ex_skip") return
  // Handlers run apart from the file's top level (in PocketBase too): helpers live inside.
  const audit = (msg) => {
    const r = new Record(e.app.findCollectionByNameOrId("audit"))
    r.set("msg", msg)
    e.app.save(r)
  }
  const exists = () => {
    try { e.app.findCollectionByNameOrId(e.collection.name); return "found" } catch (err) { return "missing" }
  }
  const before = exists()
  e.next()
  audit("execute " + e.collection.name + " " + before + "->" + exists())
  if (e.collection.name === "ex_throw") throw new BadRequestError("after next")
})
onCollectionCreate((e) => {
  e.next()
  if (e.collection.name === "ex_throw_create") throw new BadRequestError("create after next")
})
onCollectionAfterCreateSuccess((e) => {
  const audit = (msg) => {
    const r = new Record(e.app.findCollectionByNameOrId("audit"))
    r.set("msg", msg)
    e.app.save(r)
  }
  if (e.collection.name.startsWith("ex_")) audit("success " + e.collection.name)
  e.next()
})
onCollectionAfterCreateError((e) => {
  const audit = (msg) => {
    const r = new Record(e.app.findCollectionByNameOrId("audit"))
    r.set("msg", msg)
    e.app.save(r)
  }
  if (e.collection.name.startsWith("ex_")) audit("error " + e.collection.name)
  e.next()
})
`;

let srv;
let su;
before(async () => {
  srv = await startServer({ hooks: { 'execute.pb.js': HOOKS } });
  su = await srv.superuserClient();
  await su.collections.create({ name: 'audit', type: 'base', listRule: '', fields: [{ name: 'msg', type: 'text' }] });
});
after(async () => { await srv?.stop(); });

async function audits() {
  return (await su.collection('audit').getFullList()).map((a) => a.msg).sort();
}

async function create(name) {
  return rawFetch(srv.url, '/api/collections', {
    method: 'POST', headers: { 'content-type': 'application/json', Authorization: su.authStore.token },
    body: JSON.stringify({ name, type: 'base', fields: [{ name: 'x', type: 'text' }] }),
  });
}

test('an Execute hook runs outside the transaction and may change the definition', async () => {
  const made = await create('tx_open');
  assert.equal(made.status, 200, JSON.stringify(made.body));
  assert.equal(made.body.listRule, '');
  assert.deepEqual(await audits(), ['create tx_open tx=false', 'execute tx_open tx=false']);
});


async function status(name) {
  return (await rawFetch(srv.url, `/api/collections/${name}`, { headers: { Authorization: su.authStore.token } })).status;
}

async function auditsOf(name) {
  return (await audits()).filter((m) => m.endsWith(' ' + name) || m.includes(' ' + name + ' '));
}

test('code after an Execute hook\'s e.next() runs once the collection exists', async () => {
  const made = await create('ex_plain');
  assert.equal(made.status, 200, JSON.stringify(made.body));
  assert.equal(await status('ex_plain'), 200);
  assert.deepEqual(await auditsOf('ex_plain'), ['execute ex_plain missing->found', 'success ex_plain']);
});

test('a throw after e.next() fails the request, and the collection stays', async () => {
  const made = await create('ex_throw');
  assert.equal(made.status, 400);
  assert.equal(made.body.message, 'Failed to create collection. Raw error: \nAfter next.');
  assert.equal(await status('ex_throw'), 200);
  assert.deepEqual(await auditsOf('ex_throw'), ['error ex_throw', 'execute ex_throw missing->found']);

  const outer = await create('ex_throw_create');
  assert.equal(outer.status, 400);
  assert.equal(outer.body.message, 'Failed to create collection. Raw error: \nCreate after next.');
  assert.equal(await status('ex_throw_create'), 200);
  assert.deepEqual(await auditsOf('ex_throw_create'), ['error ex_throw_create', 'execute ex_throw_create missing->found']);
});

test('a hook that does not call e.next() skips the change, answered as made', async () => {
  const made = await create('ex_skip');
  assert.equal(made.status, 200, JSON.stringify(made.body));
  assert.equal(made.body.name, 'ex_skip');
  assert.equal(await status('ex_skip'), 404);
  assert.deepEqual(await auditsOf('ex_skip'), ['success ex_skip']);
});
