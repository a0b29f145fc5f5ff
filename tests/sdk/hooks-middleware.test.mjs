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
routerAdd("GET", "/own", (e) => e.json(200, { ok: true }))
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
