// More of PocketBase's JS event hooks: auth flows, collections, after-error hooks. The same
// files and assertions run on the reference PocketBase (SDK_SERVER=pocketbase) and on oxbase.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, rawFetch } from './harness.mjs';

const EVENTS = String.raw`
onRecordAuthWithPasswordRequest((e) => {
  if (e.identity === "blocked@example.com") {
    throw new ForbiddenError("This account is blocked.")
  }
  e.next()
}, "members")
onRecordAuthRequest((e) => {
  e.meta = { greeting: "welcome " + e.record.getString("name") }
  e.next()
}, "members")
onRecordAfterCreateError((e) => {
  const audit = new Record($app.findCollectionByNameOrId("audit"))
  audit.set("msg", "create failed: " + e.record.getString("title").length)
  $app.save(audit)
  e.next()
}, "notes")
onCollectionCreateRequest((e) => {
  if (e.collection.name.startsWith("tmp_")) {
    e.collection.listRule = ""
  }
  if (e.collection.name === "forbidden_name") {
    throw new BadRequestError("Not that name.")
  }
  e.next()
})
onCollectionAfterCreateSuccess((e) => {
  const audit = new Record($app.findCollectionByNameOrId("audit"))
  audit.set("msg", "collection created: " + e.collection.name)
  $app.save(audit)
  e.next()
})
routerAdd("POST", "/send-verification", (e) => {
  try {
    $mails.sendRecordVerification($app, $app.findAuthRecordByEmail("members", "ok@example.com"))
  } catch (err) {
    // PocketBase sends at once and, without SMTP, fails to find sendmail here; the hooks ran.
  }
  return e.noContent(204)
})
onSettingsListRequest((e) => {
  e.settings.meta.appName = "Seen by a hook"
  e.next()
})
onBatchRequest((e) => {
  if (e.requestInfo().headers["x_no_batch"] === "yes") throw new ForbiddenError("No batches now.")
  e.next()
})
onMailerRecordPasswordResetSend((e) => {
  e.message.subject = "Custom reset for " + e.record.getString("name")
  e.next()
}, "members")
onMailerSend((e) => {
  const audit = new Record($app.findCollectionByNameOrId("audit"))
  audit.set("msg", "mail: " + e.message.subject + " to " + e.message.to[0].address)
  $app.save(audit)
  e.next()
})
onRecordEnrich((e) => {
  e.record.withCustomData(true)
  e.record.set("shout", e.record.getString("name").toUpperCase())
  e.record.hide("name")
  e.next()
}, "members")
onCollectionsListRequest((e) => {
  e.next()
})
`;

let srv;
let su;
before(async () => {
  srv = await startServer({ hooks: { 'events.pb.js': EVENTS } });
  su = await srv.superuserClient();
  await su.collections.create({ name: 'audit', type: 'base', fields: [{ name: 'msg', type: 'text' }] });
  await su.collections.create({
    name: 'notes', type: 'base', createRule: '',
    fields: [{ name: 'title', type: 'text', required: true }],
  });
  await su.collections.create({
    name: 'members', type: 'auth', listRule: '', viewRule: '', createRule: '',
    fields: [{ name: 'name', type: 'text' }],
  });
  for (const email of ['ok@example.com', 'blocked@example.com']) {
    await su.collection('members').create({ email, name: 'Ann', password: '1234567890', passwordConfirm: '1234567890' });
  }
});
after(async () => { await srv?.stop(); });

async function audits() {
  return (await su.collection('audit').getFullList()).map((a) => a.msg);
}

test('auth hooks reject a login and add meta to the answer', async () => {
  const blocked = await rawFetch(srv.url, '/api/collections/members/auth-with-password', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ identity: 'blocked@example.com', password: '1234567890' }),
  });
  assert.equal(blocked.status, 403);
  assert.equal(blocked.body.message, 'This account is blocked.');
  const client = srv.newClient();
  const auth = await client.collection('members').authWithPassword('ok@example.com', '1234567890');
  assert.ok(auth.token);
  assert.equal(auth.record.email, 'ok@example.com');
  assert.deepEqual(auth.meta, { greeting: 'welcome Ann' });
});

test('an after-error hook sees a failed create', async () => {
  const failed = await rawFetch(srv.url, '/api/collections/notes/records', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: '' }),
  });
  assert.equal(failed.status, 400);
  assert.ok((await audits()).includes('create failed: 0'), String(await audits()));
});

test('collection hooks change a definition, reject one, and hear of a creation', async () => {
  const made = await su.collections.create({ name: 'tmp_things', type: 'base', fields: [{ name: 'x', type: 'text' }] });
  assert.equal(made.listRule, '');
  assert.equal((await su.collections.getOne('tmp_things')).listRule, '');
  const refused = await rawFetch(srv.url, '/api/collections', {
    method: 'POST', headers: { 'content-type': 'application/json', Authorization: su.authStore.token },
    body: JSON.stringify({ name: 'forbidden_name', type: 'base' }),
  });
  assert.equal(refused.status, 400);
  assert.equal(refused.body.message, 'Not that name.');
  assert.ok((await audits()).includes('collection created: tmp_things'));
  assert.ok(!(await audits()).includes('collection created: forbidden_name'));
  const all = await su.collections.getFullList();
  assert.ok(all.some((c) => c.name === 'tmp_things'));
});

test('onMailerRecordPasswordResetSend changes the message; onMailerSend sees it', async () => {
  const res = await rawFetch(srv.url, '/api/collections/members/request-password-reset', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'ok@example.com' }),
  });
  assert.equal(res.status, 204);
  let seen = [];
  for (let i = 0; i < 50; i++) {
    seen = (await audits()).filter((m) => m.startsWith('mail: '));
    if (seen.length) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(seen.length, 1, String(seen));
  assert.equal(seen[0], 'mail: Custom reset for Ann to ok@example.com');
});

test('onRecordEnrich changes each record the API answers with', async () => {
  const list = await srv.pb.collection('members').getList(1, 10);
  assert.ok(list.items.length >= 2);
  for (const item of list.items) {
    assert.equal(item.shout, 'ANN');
    assert.ok(!('name' in item));
  }
  const one = await srv.pb.collection('members').getOne(list.items[0].id);
  assert.equal(one.shout, 'ANN');
  assert.ok(!('name' in one));
});

test('$mails sends an auth flow\'s message from a route', async () => {
  const res = await rawFetch(srv.url, '/send-verification', { method: 'POST' });
  assert.equal(res.status, 204);
  let seen = [];
  for (let i = 0; i < 50; i++) {
    seen = (await audits()).filter((m) => m.startsWith('mail: Verify'));
    if (seen.length) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(seen.length, 1, String(await audits()));
  assert.match(seen[0], /^mail: Verify your .* to ok@example\.com$/);
});

test('settings and batch request hooks', async () => {
  const settings = await su.settings.getAll();
  assert.equal(settings.meta.appName, 'Seen by a hook');
  await su.settings.update({ batch: { enabled: true, maxRequests: 10, timeout: 3, maxBodySize: 0 } });
  const refused = await rawFetch(srv.url, '/api/batch', {
    method: 'POST', headers: { 'content-type': 'application/json', 'X-No-Batch': 'yes', Authorization: su.authStore.token },
    body: JSON.stringify({ requests: [{ method: 'POST', url: '/api/collections/notes/records', body: { title: 'batched' } }] }),
  });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.message, 'No batches now.');
});
