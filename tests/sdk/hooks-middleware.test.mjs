// `routerUse`: global middlewares of hook files wrap the built-in routes too, on the reference
// PocketBase and on oxbase alike.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, rawFetch } from './harness.mjs';

const GLOBAL = String.raw`
routerUse((e) => {
  e.response.header().set("X-Global", "seen")
  return e.next()
})
routerUse(new Middleware((e) => {
  if (e.request.header.get("X-Block") === "yes") {
    throw new ForbiddenError("blocked by a middleware")
  }
  return e.next()
}, 10))
routerUse(new Middleware((e) => {
  e.response.header().set("X-Early", "seen")
  return e.next()
}, -2000))
routerAdd("GET", "/own", (e) => e.json(200, { ok: true }))
onRecordsListRequest((e) => {
  e.next()
}, "users")
onRecordCreateRequest((e) => {
  e.next()
})
onRealtimeSubscribeRequest((e) => {
  e.next()
})
`;

let srv;
before(async () => {
  srv = await startServer({ hooks: { 'global.pb.js': GLOBAL } });
});
after(async () => { await srv?.stop(); });

test('global middlewares wrap built-in and custom routes', async () => {
  for (const path of ['/api/health', '/own', '/api/collections/users/auth-methods']) {
    const res = await rawFetch(srv.url, path);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get('x-global'), 'seen', path);
  }
  const blocked = await rawFetch(srv.url, '/api/health', { headers: { 'X-Block': 'yes' } });
  assert.equal(blocked.status, 403);
  assert.deepEqual(blocked.body, { status: 403, message: 'Blocked by a middleware.', data: {} });
});

test('the SDK works through them', async () => {
  const su = await srv.superuserClient();
  const user = await su.collection('users').create({ email: 'mw@example.com', password: '1234567890', passwordConfirm: '1234567890' });
  const list = await su.collection('users').getList(1, 10);
  assert.ok(list.items.some((u) => u.id === user.id));
  const missing = await rawFetch(srv.url, '/api/collections/nope/records');
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get('x-global'), 'seen');
});

test('they wrap record routes that have request hooks of their own', async () => {
  const su = await srv.superuserClient();
  const list = await rawFetch(srv.url, '/api/collections/users/records', { headers: { Authorization: su.authStore.token } });
  assert.equal(list.status, 200);
  assert.equal(list.headers.get('x-global'), 'seen');
  const blocked = await rawFetch(srv.url, '/api/collections/users/records', { headers: { 'X-Block': 'yes' } });
  assert.equal(blocked.status, 403);
  const created = await rawFetch(srv.url, '/api/collections/users/records', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'mw2@example.com', password: '1234567890', passwordConfirm: '1234567890' }),
  });
  assert.equal(created.status, 200);
  assert.equal(created.headers.get('x-global'), 'seen');
});

test('they wrap the realtime subscription route', async () => {
  const res = await rawFetch(srv.url, '/api/realtime', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ clientId: 'nope', subscriptions: [] }),
  });
  assert.equal(res.status, 404);
  assert.equal(res.headers.get('x-global'), 'seen');
});

test('a create or update in an unknown collection is refused before the middlewares after the body limit', async () => {
  // PocketBase's body-limit middleware (priority -990) of these routes looks the collection up.
  for (const [method, path] of [['POST', '/api/collections/nope/records'], ['PATCH', '/api/collections/nope/records/abc']]) {
    const res = await rawFetch(srv.url, path, { method, headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 404, path);
    assert.deepEqual(res.body, { status: 404, message: 'Missing or invalid collection context.', data: {} });
    assert.equal(res.headers.get('x-early'), 'seen', path);
    assert.equal(res.headers.get('x-global'), null, path);
  }
  const view = await rawFetch(srv.url, '/api/collections/nope/records/abc');
  assert.equal(view.status, 404);
  assert.equal(view.headers.get('x-global'), 'seen');
});
