// PocketBase's JS hooks (pb_hooks): the same hook files run against the server under test,
// with the same assertions, on the reference PocketBase (SDK_SERVER=pocketbase) and on oxbase.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, rawFetch, ID_RE } from './harness.mjs';

const MAIN = String.raw`
routerAdd("GET", "/hello/{name}", (e) => {
  return e.json(200, { message: "Hello " + e.request.pathValue("name"), q: e.request.url.query().get("q") })
})
routerAdd("GET", "/text", (e) => e.string(201, "plain text"))
routerAdd("GET", "/html", (e) => e.html(200, "<p>hi</p>"))
routerAdd("GET", "/empty", (e) => e.noContent(204))
routerAdd("GET", "/redirect", (e) => e.redirect(307, "/somewhere"))
routerAdd("GET", "/bad", (e) => { throw new BadRequestError("bad thing", { title: new ValidationError("x_code", "the message") }) })
routerAdd("GET", "/teapot", (e) => { throw new ApiError(418, "short and stout") })
routerAdd("GET", "/forbidden", (e) => { throw new ForbiddenError() })
routerAdd("GET", "/plain-error", (e) => { throw new Error("internal detail") })
routerAdd("GET", "/missing-record", (e) => { $app.findRecordById("posts", "nope") })
routerAdd("GET", "/caught", (e) => {
  try { $app.findRecordById("posts", "nope") } catch (err) { return e.json(200, { caught: true }) }
})
routerAdd("GET", "/me", (e) => e.json(200, { id: e.auth.id, collection: e.auth.collection().name, email: e.auth.email() }), $apis.requireAuth())
routerAdd("GET", "/users-only", (e) => e.json(200, { ok: true }), $apis.requireAuth("members"))
routerAdd("GET", "/admin", (e) => e.json(200, { ok: true }), $apis.requireSuperuserAuth())
routerAdd("GET", "/guest", (e) => e.json(200, { ok: true }), $apis.requireGuestOnly())
routerAdd("GET", "/mw", (e) => e.json(200, { seen: e.get("seen") }), (e) => { e.set("seen", "middleware"); return e.next() })
routerAdd("POST", "/bind", (e) => {
  const data = new DynamicModel({ title: "", count: 0 })
  e.bindBody(data)
  return e.json(200, { title: data.title, count: data.count, body: e.requestInfo().body })
})
routerAdd("GET", "/segment/{name}", (e) => e.json(200, { name: e.request.pathValue("name") }))
routerAdd("GET", "/header", (e) => {
  e.response.header().set("X-Custom", "yes")
  return e.json(200, { ua: e.request.header.get("User-Agent") })
})
routerAdd("GET", "/sql", (e) => {
  const rows = arrayOf(new DynamicModel({ title: "", views: 0 }))
  $app.db().newQuery("SELECT title, views FROM posts WHERE views >= {:min} ORDER BY views").bind({ min: 2 }).all(rows)
  return e.json(200, rows)
})
routerAdd("GET", "/find", (e) => {
  const list = $app.findRecordsByFilter("posts", "views >= {:min}", "-views", 10, 0, { min: 2 })
  const first = $app.findFirstRecordByData("posts", "title", "two")
  return e.json(200, { titles: list.map((r) => r.getString("title")), first: first.getInt("views"), count: $app.countRecords("posts") })
})
routerAdd("POST", "/make", (e) => {
  const body = e.requestInfo().body
  const record = new Record($app.findCollectionByNameOrId("posts"))
  record.set("title", body.title)
  record.set("views", 5)
  $app.save(record)
  return e.json(200, { id: record.id, isNew: record.isNew(), title: record.getString("title") })
})
routerAdd("GET", "/security", (e) => e.json(200, {
  sha256: $security.sha256("abc"), md5: $security.md5("abc"), hs256: $security.hs256("data", "key"),
  random: $security.randomStringWithAlphabet(8, "ab").length, equal: $security.equal("a", "a"),
  jwt: $security.parseJWT($security.createJWT({ sub: "x" }, "secret", 60), "secret").sub,
  roundTrip: $security.decrypt($security.encrypt("sealed", "12345678901234567890123456789012"), "12345678901234567890123456789012"),
  fromPocketBase: $security.decrypt("gABVmZR3uyMuI33ETHUegbWWWES7zHU0UL7oE08LcGaQdL50PhpfQFA=", "12345678901234567890123456789012"),
}))
routerAdd("GET", "/require", (e) => {
  const utils = require(__hooks + "/utils.js")
  return e.json(200, { greeting: utils.greet("module"), same: require(__hooks + "/utils.js") === utils })
})
routerAdd("GET", "/proxy", (e) => {
  const res = $http.send({ url: "http://" + e.request.host + "/hello/proxied?q=2", method: "GET", headers: { "X-From": "hook" } })
  return e.json(200, { status: res.statusCode, json: res.json, type: res.headers["Content-Type"][0] })
})
routerAdd("GET", "/cmd", (e) => {
  const out = toString($os.cmd("echo", "from", "a command").output())
  let failed = false
  try { $os.cmd("false").output() } catch (err) { failed = true }
  return e.json(200, { out, failed })
})
routerAdd("GET", "/filepath", (e) => e.json(200, { base: $filepath.base("/a/b.txt"), ext: $filepath.ext("x.tar.gz"), join: $filepath.join("a", "../b", "c"), dir: $filepath.dir("/a/b/c") }))
`;

const RECORDS = String.raw`
onRecordCreateRequest((e) => {
  if (e.record.getString("title") === "forbidden") {
    throw new BadRequestError("No forbidden titles.")
  }
  e.record.set("status", "set by request hook")
  e.next()
}, "posts")
onRecordCreate((e) => {
  if (e.record.getString("title").startsWith("shout")) {
    e.record.set("title", e.record.getString("title").toUpperCase())
  }
  e.next()
}, "posts")
onRecordAfterCreateSuccess((e) => {
  const audit = new Record($app.findCollectionByNameOrId("audit"))
  audit.set("msg", "created " + e.record.getString("title"))
  $app.save(audit)
  e.next()
}, "posts")
onRecordUpdate((e) => {
  if (e.record.getString("title") !== e.record.original().getString("title")) {
    e.record.set("status", "renamed from " + e.record.original().getString("title"))
  }
  e.next()
}, "posts")
onRecordDeleteRequest((e) => {
  if (e.record.getString("title") === "keep me") {
    throw new ForbiddenError("This one stays.")
  }
  e.next()
}, "posts")
onRecordViewRequest((e) => {
  e.record.set("title", e.record.getString("title") + " (viewed)")
  e.next()
}, "posts")
onRecordsListRequest((e) => {
  e.result.perPage = 7
  e.next()
}, "posts")
onRecordValidate((e) => {
  if (e.record.getInt("views") > 1000) {
    throw new BadRequestError("Too many views.")
  }
  e.next()
}, "posts")
`;

let srv;
let su;
before(async () => {
  srv = await startServer({
    hooks: {
      'main.pb.js': MAIN,
      'records.pb.js': RECORDS,
      'utils.js': 'module.exports = { greet: (name) => "hello " + name }\n',
    },
  });
  su = await srv.superuserClient();
  await su.collections.create({
    name: 'posts', type: 'base',
    listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '',
    fields: [{ name: 'title', type: 'text' }, { name: 'status', type: 'text' }, { name: 'views', type: 'number' }],
  });
  await su.collections.create({ name: 'audit', type: 'base', fields: [{ name: 'msg', type: 'text' }] });
  await su.collections.create({
    name: 'members', type: 'auth', listRule: '', viewRule: '', createRule: '',
    fields: [{ name: 'name', type: 'text' }],
  });
  for (const [title, views] of [['one', 1], ['two', 2], ['three', 3]]) {
    await su.collection('posts').create({ title, views });
  }
});
after(async () => { await srv?.stop(); });

async function get(path, init) {
  const res = await rawFetch(srv.url, path, init);
  const json = typeof res.body === 'string' ? null : res.body;
  const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
  return { status: res.status, text, json, headers: res.headers };
}

test('routes answer JSON, text, HTML, no content and redirects', async () => {
  const hello = await get('/hello/bob?q=1');
  assert.equal(hello.status, 200);
  assert.match(hello.headers.get('content-type'), /^application\/json/);
  assert.deepEqual(hello.json, { message: 'Hello bob', q: '1' });
  const text = await get('/text');
  assert.equal(text.status, 201);
  assert.equal(text.text, 'plain text');
  assert.equal(text.headers.get('content-type'), 'text/plain; charset=utf-8');
  const html = await get('/html');
  assert.equal(html.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal((await get('/empty')).status, 204);
  const redirect = await get('/redirect', { redirect: 'manual' });
  assert.equal(redirect.status, 307);
  assert.equal(redirect.headers.get('location'), '/somewhere');
  const header = await get('/header', { headers: { 'User-Agent': 'hooks-test' } });
  assert.equal(header.headers.get('x-custom'), 'yes');
  assert.equal(header.json.ua, 'hooks-test');
  assert.equal((await get('/hello/x', { method: 'POST' })).status, 404);
});

test('thrown errors become the standard error body', async () => {
  assert.deepEqual((await get('/bad')).json, {
    status: 400, message: 'Bad thing.', data: { title: { code: 'x_code', message: 'The message.' } },
  });
  const teapot = await get('/teapot');
  assert.equal(teapot.status, 418);
  assert.equal(teapot.json.message, 'Short and stout.');
  assert.deepEqual((await get('/forbidden')).json, { status: 403, message: 'You are not allowed to perform this request.', data: {} });
  assert.deepEqual((await get('/plain-error')).json, { status: 400, message: 'Something went wrong while processing your request.', data: {} });
  assert.deepEqual((await get('/missing-record')).json, { status: 404, message: "The requested resource wasn't found.", data: {} });
  assert.deepEqual((await get('/caught')).json, { caught: true });
});

test('$apis middlewares guard routes', async () => {
  assert.equal((await get('/me')).status, 401);
  assert.equal((await get('/admin')).status, 401);
  assert.deepEqual((await get('/guest')).json, { ok: true });
  assert.deepEqual((await get('/mw')).json, { seen: 'middleware' });
  const user = await su.collection('members').create({ email: 'u@example.com', password: '1234567890', passwordConfirm: '1234567890' });
  const client = srv.newClient();
  await client.collection('members').authWithPassword('u@example.com', '1234567890');
  const auth = { headers: { Authorization: client.authStore.token } };
  assert.deepEqual((await get('/me', auth)).json, { id: user.id, collection: 'members', email: 'u@example.com' });
  assert.deepEqual((await get('/users-only', auth)).json, { ok: true });
  assert.equal((await get('/admin', auth)).status, 403);
  assert.equal((await get('/guest', auth)).status, 400);
  const suAuth = { headers: { Authorization: su.authStore.token } };
  assert.deepEqual((await get('/admin', suAuth)).json, { ok: true });
  assert.equal((await get('/users-only', suAuth)).status, 403);
});

test('bindBody fills a typed model and refuses a value of another type', async () => {
  const post = (body) => get('/bind', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const ok = await post({ title: 't', count: 3, extra: true });
  assert.deepEqual(ok.json, { title: 't', count: 3, body: { title: 't', count: 3, extra: true } });
  assert.equal((await post({ title: 't', count: 'three' })).status, 400);
});

test('hostile bodies and paths: a body that is not a JSON object fails the bind; segments are decoded', async () => {
  const raw = (body) => get('/bind', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  for (const body of ['{bad', '[1,2]', '"text"']) {
    assert.deepEqual((await raw(body)).json, { status: 400, message: 'Something went wrong while processing your request.', data: {} }, body);
  }
  assert.deepEqual((await raw('null')).json, { title: '', count: 0, body: null });
  assert.deepEqual((await get('/segment/a%2Fb')).json, { name: 'a/b' });
  assert.deepEqual((await get('/segment/%ff%fe')).json, { name: '\ufffd\ufffd' });
  assert.deepEqual((await get("/segment/x'%20OR%201=1")).json, { name: "x' OR 1=1" });
});

test('data access: raw queries with bound parameters, filters, saves', async () => {
  assert.deepEqual((await get('/sql')).json, [{ title: 'two', views: 2 }, { title: 'three', views: 3 }]);
  const found = (await get('/find')).json;
  assert.deepEqual(found.titles, ['three', 'two']);
  assert.equal(found.first, 2);
  assert.ok(found.count >= 3);
  const made = await get('/make', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: "it's made" }) });
  assert.equal(made.status, 200);
  assert.match(made.json.id, ID_RE);
  assert.equal(made.json.isNew, false);
  const stored = await su.collection('posts').getOne(made.json.id);
  assert.equal(stored.views, 5);
});

test('$os.cmd runs a program', async () => {
  assert.deepEqual((await get('/cmd')).json, { out: 'from a command\n', failed: true });
});

test('$security and $filepath helpers', async () => {
  assert.deepEqual((await get('/security')).json, {
    sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    md5: '900150983cd24fb0d6963f7d28e17f72',
    hs256: '5031fe3d989c6d1537a013fa6e739da23463fdaec3b70137d828e36ace221bd0',
    random: 8, equal: true, jwt: 'x',
    // A ciphertext PocketBase 0.40.6 made with the same key opens here too.
    roundTrip: 'sealed', fromPocketBase: 'hello from pb',
  });
  assert.deepEqual((await get('/filepath')).json, { base: 'b.txt', ext: '.gz', join: 'b/c', dir: '/a/b' });
});

test('require() loads a module once; $http.send makes a request', async () => {
  assert.deepEqual((await get('/require')).json, { greeting: 'hello module', same: true });
  const proxied = (await get('/proxy')).json;
  assert.equal(proxied.status, 200);
  assert.deepEqual(proxied.json, { message: 'Hello proxied', q: '2' });
  assert.match(proxied.type, /^application\/json/);
});

test('record request hooks modify, reject and see the saved record', async () => {
  const created = await srv.pb.collection('posts').create({ title: 'hooked', views: 1 });
  assert.equal(created.status, 'set by request hook');
  assert.match(created.id, ID_RE);
  const rejected = await rawFetch(srv.url, '/api/collections/posts/records', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'forbidden' }),
  });
  assert.equal(rejected.status, 400);
  assert.deepEqual(rejected.body, { status: 400, message: 'No forbidden titles.', data: {} });
  const shout = await srv.pb.collection('posts').create({ title: 'shout it' });
  assert.equal(shout.title, 'SHOUT IT');
  const audits = await su.collection('audit').getFullList();
  assert.ok(audits.some((a) => a.msg === 'created SHOUT IT'));
  assert.ok(audits.some((a) => a.msg === 'created hooked'));
});

test('model hooks see the original record and validate', async () => {
  const rec = await srv.pb.collection('posts').create({ title: 'before' });
  const updated = await srv.pb.collection('posts').update(rec.id, { title: 'after' });
  assert.equal(updated.status, 'renamed from before');
  const tooMany = await rawFetch(srv.url, `/api/collections/posts/records/${rec.id}`, {
    method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ views: 5000 }),
  });
  assert.equal(tooMany.status, 400);
  assert.equal(tooMany.body.message, 'Too many views.');
  assert.equal((await su.collection('posts').getOne(rec.id)).views, 0);
});

test('view, list and delete request hooks', async () => {
  const rec = await srv.pb.collection('posts').create({ title: 'keep me' });
  const viewed = await srv.pb.collection('posts').getOne(rec.id);
  assert.equal(viewed.title, 'keep me (viewed)');
  const list = await srv.pb.collection('posts').getList(1, 2);
  assert.equal(list.perPage, 7);
  const kept = await rawFetch(srv.url, `/api/collections/posts/records/${rec.id}`, { method: 'DELETE' });
  assert.equal(kept.status, 403);
  assert.equal(kept.body.message, 'This one stays.');
  const other = await srv.pb.collection('posts').create({ title: 'delete me' });
  await srv.pb.collection('posts').delete(other.id);
  await assert.rejects(su.collection('posts').getOne(other.id));
});
