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

