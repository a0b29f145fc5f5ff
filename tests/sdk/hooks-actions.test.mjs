// The settings-update, batch and file-download hooks run after their request was checked and
// read, with what the action will use; what they change changes the action. The same files
// and assertions run on the reference PocketBase (SDK_SERVER=pocketbase) and on oxbase.
// (PocketBase's events of these hooks have no usable `e.request`: they use `e.requestInfo()`.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, rawFetch } from './harness.mjs';

// A handler sees the globals, not its file's functions: shared code is a module.
const AUDIT = String.raw`
module.exports = (msg) => {
  const r = new Record($app.findCollectionByNameOrId("audit"))
  r.set("msg", msg)
  r.set("n", $app.countRecords("audit") + 1)
  $app.save(r)
}
`;

const HOOKS = String.raw`
onSettingsUpdateRequest((e) => {
  const audit = require(__hooks + "/audit.js")
  audit("settings: " + e.newSettings.meta.appName)
  if (e.newSettings.meta.appName === "blank-me") e.newSettings.meta.appName = ""
  else e.newSettings.meta.appName = e.newSettings.meta.appName + " (was " + e.oldSettings.meta.appName + ")"
  e.next()
})
onBatchRequest((e) => {
  const audit = require(__hooks + "/audit.js")
  audit("batch: " + e.batch.length)
  if (e.batch.length === 2) {
    e.batch[0].body = { title: "from hook: " + e.batch[1].method + " " + e.batch[1].url + " " + e.batch[1].headers["X-A"] + " " + e.batch[0].headers }
  }
  e.next()
})
onFileDownloadRequest((e) => {
  const audit = require(__hooks + "/audit.js")
  const q = e.requestInfo().query
  audit("file: " + e.record.getString("title") + " " + e.fileField.name + " " + e.fileField.maxSelect)
  const where = e.collection.id + "/" + e.record.id + "/"
  if (q.alt === "name") e.servedName = "renamed_" + e.fileField.name + "_" + e.record.getString("title") + ".txt"
  if (q.alt === "check") {
    audit("thumbError: " + String(e.thumbError))
    e.servedName = (e.servedPath === where + e.servedName ? "path-ok" : "path-bad") + ".txt"
  }
  if (q.alt === "other") e.servedPath = where + q.other
  if (q.alt === "missing") e.servedPath = "nope/none.txt"
  e.next()
}, "docs")
routerUse(new Middleware((e) => { e.response.header().add("X-Order", "p5"); return e.next() }, 5))
routerUse(new Middleware((e) => { e.response.header().add("X-Order", "m5"); return e.next() }, -5))
routerUse((e) => { e.response.header().add("X-Order", "p0"); return e.next() })
`;

let srv;
let su;
before(async () => {
  srv = await startServer({ hooks: { 'actions.pb.js': HOOKS, 'audit.js': AUDIT } });
  su = await srv.superuserClient();
  await su.collections.create({ name: 'audit', type: 'base', fields: [{ name: 'msg', type: 'text' }, { name: 'n', type: 'number' }] });
  await su.collections.create({
    name: 'docs', type: 'base', createRule: '', viewRule: '', listRule: '',
    fields: [{ name: 'title', type: 'text' }, { name: 'doc', type: 'file', maxSelect: 2 }],
  });
});
after(async () => { await srv?.stop(); });

async function audits() {
  return (await su.collection('audit').getFullList({ sort: 'n' })).map((a) => a.msg);
}

async function patchSettings(body) {
  return rawFetch(srv.url, '/api/settings', {
    method: 'PATCH', headers: { 'content-type': 'application/json', Authorization: su.authStore.token }, body,
  });
}

test('routerUse middlewares run lowest priority first', async () => {
  const res = await rawFetch(srv.url, '/api/health');
  assert.equal(res.headers.get('x-order'), 'm5, p0, p5');
});

test('onSettingsUpdateRequest sees the old and new settings; what it changes is saved', async () => {
  const bad = await patchSettings('{"meta":');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.message, 'An error occurred while loading the submitted data.');
  const guest = await rawFetch(srv.url, '/api/settings', {
    method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"meta":{"appName":"x"}}',
  });
  assert.equal(guest.status, 401);
  assert.deepEqual(await audits(), [], 'the hook runs only for a request that loads');

  const ok = await patchSettings(JSON.stringify({ meta: { appName: 'New' } }));
  assert.equal(ok.status, 200);
  assert.equal(ok.body.meta.appName, 'New (was Acme)');
  assert.equal((await su.settings.getAll()).meta.appName, 'New (was Acme)');

  const blank = await patchSettings(JSON.stringify({ meta: { appName: 'blank-me' } }));
  assert.equal(blank.status, 400);
  assert.equal(blank.body.message, 'An error occurred while saving the new settings.');
  assert.equal(blank.body.data.meta.appName.code, 'validation_required');
  assert.deepEqual(await audits(), ['settings: New', 'settings: blank-me']);
});

test('onBatchRequest sees the parsed requests; what it changes runs', async () => {
  await patchSettings(JSON.stringify({ batch: { enabled: true, maxRequests: 5 } }));
  const before = (await audits()).length;
  const empty = await rawFetch(srv.url, '/api/batch', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ requests: [] }),
  });
  assert.equal(empty.status, 400);
  assert.equal(empty.body.message, 'Invalid batch request data.');
  assert.equal((await audits()).length, before, 'no hook for a batch that does not validate');

  const res = await rawFetch(srv.url, '/api/batch', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ requests: [
      { method: 'POST', url: '/api/collections/docs/records', body: { title: 'a' } },
      { method: 'POST', url: '/api/collections/docs/records?x=1', headers: { 'X-A': 'b' }, body: { title: 'b' } },
    ] }),
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body[0].body.title, 'from hook: POST /api/collections/docs/records?x=1 b null');
  assert.equal(res.body[1].body.title, 'b');
  assert.deepEqual((await audits()).slice(before), ['batch: 2']);
});

test('onFileDownloadRequest sees the record and file; servedName and servedPath change the answer', async () => {
  const form = new FormData();
  form.append('title', 'f');
  form.append('doc', new Blob(['first file']), 'a.txt');
  form.append('doc', new Blob(['second file']), 'b.txt');
  const rec = (await rawFetch(srv.url, '/api/collections/docs/records', { method: 'POST', body: form })).body;
  const [a, b] = rec.doc;
  const url = (q = '') => `/api/files/docs/${rec.id}/${a}${q}`;
  const before = (await audits()).length;

  const missingRecord = await rawFetch(srv.url, `/api/files/docs/nope12345678901/${a}`);
  assert.equal(missingRecord.status, 404);
  assert.equal((await audits()).length, before, 'no hook for a file that is not found');

  const plain = await rawFetch(srv.url, url());
  assert.equal(plain.status, 200);
  assert.equal(plain.body, 'first file');
  assert.equal(plain.headers.get('content-disposition'), `attachment; filename="${a}"`);

  const renamed = await rawFetch(srv.url, url('?alt=name'));
  assert.equal(renamed.body, 'first file');
  assert.equal(renamed.headers.get('content-disposition'), 'attachment; filename="renamed_doc_f.txt"');

  const checked = await rawFetch(srv.url, url('?alt=check&thumb=100x100'));
  assert.equal(checked.headers.get('content-disposition'), 'attachment; filename="path-ok.txt"');
  const unthumbed = await rawFetch(srv.url, url('?alt=check'));
  assert.equal(unthumbed.headers.get('content-disposition'), 'attachment; filename="path-ok.txt"');

  const other = await rawFetch(srv.url, url(`?alt=other&other=${b}`));
  assert.equal(other.status, 200);
  assert.equal(other.body, 'second file');
  assert.equal(other.headers.get('content-disposition'), `attachment; filename="${a}"`);

  const missing = await rawFetch(srv.url, url('?alt=missing'));
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.body, { status: 404, message: "The requested resource wasn't found.", data: {} });
  const f = 'file: f doc 2';
  assert.deepEqual((await audits()).slice(before), [
    f, f, f, 'thumbError: the thumb size "100x100" or the original file format are not supported',
    f, 'thumbError: null', f, f,
  ]);
});
