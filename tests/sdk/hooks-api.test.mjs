// More of PocketBase's JS API (issue #20): `$template`, `$filesystem`, `e.findUploadedFiles()`,
// `$apis.gzip()`, the realtime hooks (with `onRecordEnrich` over realtime) and the backup hooks.
// The same hook files and assertions pass on the reference PocketBase (SDK_SERVER=pocketbase)
// and on oxbase.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { EventSource } from 'eventsource';
import { startServer, rawFetch } from './harness.mjs';

globalThis.EventSource = EventSource;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const LAYOUT = `<html>{{block "body" .}}default{{end}}</html>\n`;
const PAGE = `{{define "body"}}<p title="{{.title}}">{{.title}}</p>{{end}}\n`;

const MAIN = String.raw`
routerAdd("GET", "/tpl", (e) => {
  const cases = {
    nil: ["[{{.missing}}]", {}],
    nums: ["{{.i}} {{.f}} {{.neg}}", { i: 3, f: 1.5, neg: -2 }],
    arr: ["{{.a}}", { a: [1, "x", true] }],
    map: ["{{.m}}", { m: { b: 2, a: "<" } }],
    esc: ["{{.s}}", { s: "<a href=\"x\">'&+\"</a>" }],
    attr: ["<a title=\"{{.s}}\">x</a>", { s: "\"<>&' +" }],
    uattr: ["<a title={{.s}}>x</a>", { s: "a b" }],
    href: ["<a href=\"{{.u}}\">x</a>", { u: "javascript:alert(1)" }],
    query: ["<a href=\"/p?q={{.u}}\">x</a>", { u: "a b&c" }],
    script: ["<script>var x = {{.s}};</script>", { s: "a\"b" }],
    raw: ["{{raw .s}}", { s: "<b>" }],
    ifs: ["{{if .a}}A{{else if .b}}B{{else}}C{{end}}", { a: 0, b: "" }],
    range: ["{{range $i, $e := .l}}{{$i}}={{$e}};{{else}}none{{end}}", { l: ["x", "y"] }],
    rangeMap: ["{{range $k, $v := .m}}{{$k}}={{$v}};{{end}}", { m: { b: 1, a: 2 } }],
    rangeEmpty: ["{{range .l}}x{{else}}none{{end}}", { l: [] }],
    with: ["{{with .u}}{{.name}}{{end}}", { u: { name: "n" } }],
    nested: ["{{.a.b.c}}", { a: { b: { c: "deep" } } }],
    trim: ["a  {{- .x -}}  b", { x: 1 }],
    fns: ["{{len .l}} {{index .l 1}} {{eq .a 1}} {{ne .a 1}} {{lt .a 2}} {{and .a .b}} {{or .b .a}} {{not .a}} {{printf \"%s-%d-%v\" \"x\" 5 .a}} {{print \"a\" 1 2 \"b\"}}", { l: [1, 2], a: 1, b: 0 }],
    vars: ["{{$x := .a}}{{$x}}{{$x = 5}}{{$x}} {{$.a}}", { a: 1 }],
    define: ["{{define \"T\"}}[{{.}}]{{end}}{{template \"T\" .n}}", { n: "<" }],
    pipe: ["{{.s | printf \"%q\"}}", { s: "a" }],
    comment: ["a{{/* c */}}b", {}],
    htmlComment: ["a<!-- c {{.x}} -->b", { x: 1 }],
    style: ["<style>p{color:{{.c}}}</style><style>p{color:{{.d}}}</style>", { c: "red", d: "</style><script>alert(1)</script>" }],
    styleAttr: ["<p style=\"color:{{.c}}\"><p style=\"color:{{.d}}\">", { c: "#fff", d: "red;background:url(x)" }],
    textarea: ["<textarea>{{.c}}</textarea>", { c: "</textarea><b>" }],
    jsString: ["<script>var s = '{{.c}}';</script>", { c: "a'b</script>" }],
    onclick: ["<a onclick=\"f({{.c}})\">", { c: "x\"y" }],
    srcPath: ["<img src=\"/img/{{.n}}.png\">", { n: 5 }],
    jsObject: ["<script>var o = {{.o}};</script>", { o: { a: [1, "x"], b: null } }],
  };
  const out = {};
  for (const k in cases) {
    try { out[k] = $template.loadString(cases[k][0]).render(cases[k][1]) } catch (err) { out[k] = "ERR " + err }
  }
  out.files = $template.loadFiles(__hooks + "/layout.html", __hooks + "/page.html").render({ title: "<T>" });
  const fails = (fn) => { try { fn(); return "" } catch (err) { return String(err) } };
  out.parseError = fails(() => $template.loadString("{{if}}").render({}));
  out.execError = fails(() => $template.loadString("{{.a.b.c}}").render({ a: null }));
  out.missingFile = fails(() => $template.loadFiles(__hooks + "/nope.html").render({}));
  return e.json(200, out);
})

routerAdd("GET", "/gz", (e) => e.string(200, "compressible ".repeat(200)), $apis.gzip())
routerAdd("GET", "/gz-empty", (e) => e.noContent(204), $apis.gzip())

routerAdd("POST", "/attach", (e) => {
  const docs = $app.findCollectionByNameOrId("docs");
  const record = new Record(docs);
  record.set("title", "attached");
  const file = $filesystem.fileFromBytes("hello world", "Hello File.txt");
  record.set("doc", file);
  $app.save(record);
  const first = record.get("doc");
  record.set("files+", $filesystem.fileFromPath(__hooks + "/page.html"));
  record.set("files+", $filesystem.fileFromBytes([104, 105], "hi.txt"));
  record.set("files+", $filesystem.fileFromURL("http://" + e.request.host + "/served.txt"));
  $app.save(record);
  let notFound = "";
  try { $filesystem.fileFromURL("http://" + e.request.host + "/nowhere.txt", 5) } catch (err) { notFound = String(err) }
  let empty = "";
  try { $filesystem.fileFromBytes("", "empty.txt") } catch (err) { empty = String(err) }
  let missing = "";
  try { $filesystem.fileFromPath(__hooks + "/nope.txt") } catch (err) { missing = String(err) }
  return e.json(200, {
    id: record.id, first, doc: record.get("doc"), files: record.get("files"),
    file: { name: file.name, originalName: file.originalName, size: file.size },
    empty, missing, notFound,
  });
})

routerAdd("GET", "/served.txt", (e) => e.string(200, "served over http"))

routerAdd("POST", "/upload", (e) => {
  const files = e.findUploadedFiles("doc");
  const record = new Record($app.findCollectionByNameOrId("docs"));
  record.set("title", "uploaded");
  record.set("doc", files[0]);
  $app.save(record);
  let missing = "";
  try { e.findUploadedFiles("nope") } catch (err) { missing = String(err) }
  return e.json(200, {
    id: record.id, doc: record.get("doc"), count: files.length,
    originalName: files[0].originalName, size: files[0].size, name: files[0].name,
    missing, title: e.requestInfo().body.title,
  });
})

onRecordCreateRequest((e) => {
  const files = e.findUploadedFiles("doc");
  e.record.set("title", "named after " + files[0].originalName);
  return e.next();
}, "uploads")

onRecordCreateRequest((e) => {
  e.record.set("doc", $filesystem.fileFromBytes("from the hook", "hooked.txt"));
  return e.next();
}, "hooked")

onRecordUpdateRequest((e) => {
  e.record.set("files+", $filesystem.fileFromBytes("more", "more.txt"));
  return e.next();
}, "hooked")

onBackupCreate((e) => {
  const before = e.name;
  if (before.startsWith("deny")) throw new BadRequestError("no backup for you");
  if (before.startsWith("skip")) return;
  if (before === "") e.name = "hooked_default.zip";
  e.next();
  const events = $app.findCollectionByNameOrId("events");
  $app.save(new Record(events, { kind: "create", before: before, after: e.name, exclude: e.exclude.length > 0 }));
})

onBackupRestore((e) => {
  const events = $app.findCollectionByNameOrId("events");
  $app.save(new Record(events, { kind: "restore", before: e.name, after: "" }));
  // No e.next(): the restore does not happen.
})

// (PocketBase's connect event has no usable e.request: its hooks look at e.auth, e.client.)
onRealtimeConnectRequest((e) => {
  if (e.auth && e.auth.email() === "denied@example.com") throw new ForbiddenError("no realtime for you");
  if (!e.client.id()) throw new BadRequestError("no client id");
  if (e.auth && e.auth.email() === "short@example.com") e.idleTimeout = 1000 * 1000 * 1000;
  return e.next();
})

onRealtimeSubscribeRequest((e) => {
  const topics = [];
  for (const t of e.subscriptions) topics.push(t);
  if (topics.includes("secret/*")) throw new ForbiddenError("secret topic");
  e.subscriptions = topics.filter((t) => t !== "docs/*");
  return e.next();
})

onRealtimeMessageSend((e) => {
  if (e.message.name === "PB_CONNECT") return e.next();
  const data = JSON.parse(toString(e.message.data));
  if (data.record && data.record.title === "skipme") return;
  data.record.extra = "from " + (e.client.id() ? "hook" : "nobody");
  e.message.data = JSON.stringify(data);
  return e.next();
})

onRecordEnrich((e) => {
  e.record.hide("secret");
  return e.next();
}, "posts")
`;

let srv, su;
before(async () => {
  srv = await startServer({ hooks: { 'main.pb.js': MAIN, 'layout.html': LAYOUT, 'page.html': PAGE } });
  su = await srv.superuserClient();
  const file = (name, maxSelect) => ({ name, type: 'file', maxSelect, maxSize: 1 << 20 });
  await su.collections.create({ name: 'docs', type: 'base', fields: [{ name: 'title', type: 'text' }, file('doc', 1), file('files', 5)] });
  await su.collections.create({ name: 'uploads', type: 'base', createRule: '', fields: [{ name: 'title', type: 'text' }, file('doc', 1)] });
  await su.collections.create({ name: 'hooked', type: 'base', createRule: '', updateRule: '', viewRule: '', fields: [{ name: 'title', type: 'text' }, file('doc', 1), file('files', 5)] });
  await su.collections.create({ name: 'events', type: 'base', fields: [{ name: 'kind', type: 'text' }, { name: 'before', type: 'text' }, { name: 'after', type: 'text' }, { name: 'exclude', type: 'bool' }] });
  await su.collections.create({ name: 'posts', type: 'base', listRule: '', viewRule: '', fields: [{ name: 'title', type: 'text' }, { name: 'secret', type: 'text' }] });
});
after(async () => { await srv?.stop(); });

test('$template renders Go html/template text and files, escaping as Go does', async () => {
  const res = await rawFetch(srv.url, '/tpl');
  assert.equal(res.status, 200);
  const { parseError, execError, missingFile, ...rendered } = res.body;
  assert.deepEqual(rendered, {
    nil: '[]',
    nums: '3 1.5 -2',
    arr: '[1 x true]',
    map: 'map[a:&lt; b:2]',
    esc: '&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#43;&#34;&lt;/a&gt;',
    attr: '<a title="&#34;&lt;&gt;&amp;&#39; &#43;">x</a>',
    uattr: '<a title=a&#32;b>x</a>',
    href: '<a href="#ZgotmplZ">x</a>',
    query: '<a href="/p?q=a%20b%26c">x</a>',
    script: '<script>var x = "a\\"b";</script>',
    raw: '<b>',
    ifs: 'C',
    range: '0=x;1=y;',
    rangeMap: 'a=2;b=1;',
    rangeEmpty: 'none',
    with: 'n',
    nested: 'deep',
    trim: 'a1b',
    fns: '2 2 true false true 0 1 false x-5-1 a1 2b',
    vars: '15 1',
    define: '[&lt;]',
    pipe: '&#34;a&#34;',
    comment: 'ab',
    htmlComment: 'ab',
    style: '<style>p{color:red}</style><style>p{color:ZgotmplZ}</style>',
    styleAttr: '<p style="color:#fff"><p style="color:ZgotmplZ">',
    textarea: '<textarea>&lt;/textarea&gt;&lt;b&gt;</textarea>',
    jsString: "<script>var s = 'a\\u0027b\\u003c\\/script\\u003e';</script>",
    onclick: '<a onclick="f(&#34;x\\&#34;y&#34;)">',
    srcPath: '<img src="/img/5.png">',
    jsObject: '<script>var o = {"a":[1,"x"],"b":null};</script>',
    files: '<html><p title="&lt;T&gt;">&lt;T&gt;</p></html>\n',
  });
  assert.match(parseError, /missing value for if/);
  assert.match(execError, /nil pointer evaluating interface \{\}\.b/);
  assert.match(missingFile, /no such file or directory/);
});

/** A GET read raw (no automatic decompression), with its headers. */
function rawGet(path, headers = {}, url = srv.url) {
  return new Promise((resolve, reject) => {
    const req = request(url + path, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

test('$apis.gzip() compresses when the client accepts gzip', async () => {
  const text = 'compressible '.repeat(200);
  const zipped = await rawGet('/gz', { 'Accept-Encoding': 'gzip, deflate' });
  assert.equal(zipped.status, 200);
  assert.equal(zipped.headers['content-encoding'], 'gzip');
  assert.match(zipped.headers.vary || '', /Accept-Encoding/);
  assert.ok(zipped.body.length < text.length / 4, `${zipped.body.length} bytes`);
  assert.equal(gunzipSync(zipped.body).toString(), text);

  const plain = await rawGet('/gz');
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.match(plain.headers.vary || '', /Accept-Encoding/);
  assert.equal(plain.body.toString(), text);

  const empty = await rawGet('/gz-empty', { 'Accept-Encoding': 'gzip' });
  assert.equal(empty.status, 204);
  assert.equal(empty.headers['content-encoding'], undefined);
});

test('routerUse($apis.gzip()) compresses the built-in routes too; a global middleware sees their uploads', async () => {
  const GLOBAL = String.raw`
routerUse($apis.gzip())
routerUse((e) => {
  if (e.request.header.get("X-Files")) {
    e.response.header().set("X-Uploaded", e.findUploadedFiles("doc").map((f) => f.originalName + ":" + f.size).join(","))
  }
  return e.next()
})
`;
  const other = await startServer({ hooks: { 'gzip.pb.js': GLOBAL } });
  try {
    const zipped = await rawGet('/api/health', { 'Accept-Encoding': 'gzip' }, other.url);
    assert.equal(zipped.status, 200);
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.equal(JSON.parse(gunzipSync(zipped.body).toString()).message, 'API is healthy.');
    const plain = await rawGet('/api/health', {}, other.url);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(JSON.parse(plain.body.toString()).message, 'API is healthy.');
    // A global middleware sees a built-in route's uploads.
    const form = new FormData();
    form.append('doc', new Blob(['12345'], { type: 'text/plain' }), 'a.txt');
    form.append('doc', new Blob(['123'], { type: 'text/plain' }), 'b.txt');
    const res = await fetch(`${other.url}/api/health`, { method: "POST", body: form, headers: { 'X-Files': '1' } });
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('x-uploaded'), 'a.txt:5,b.txt:3');
    // The SDK (fetch) reads compressed answers as any other.
    const su2 = await other.superuserClient();
    assert.ok((await su2.collections.getFullList()).length > 0);
  } finally {
    await other.stop();
  }
});

async function download(collection, id, name) {
  const res = await fetch(`${srv.url}/api/files/${collection}/${id}/${name}`);
  assert.equal(res.status, 200, name);
  return res.text();
}

test('$filesystem files set on a record field are stored as uploads are', async () => {
  const res = await rawFetch(srv.url, '/attach', { method: 'POST' });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const out = res.body;
  assert.match(out.file.name, /^hello_file_[a-z0-9]{10}\.txt$/);
  assert.equal(out.file.originalName, 'Hello File.txt');
  assert.equal(out.file.size, 11);
  assert.equal(out.first, out.file.name);
  assert.equal(out.doc, out.file.name);
  assert.equal(out.files.length, 3);
  assert.match(out.files[0], /^page_[a-z0-9]{10}\.html$/);
  // A name shorter than 3 characters gets 10 random ones more (PocketBase's normalizeName).
  assert.match(out.files[1], /^hi[a-z0-9]{10}_[a-z0-9]{10}\.txt$/);
  assert.match(out.files[2], /^served_[a-z0-9]{10}\.txt$/);
  assert.match(out.notFound, /failed to download url http:\/\/.*\/nowhere\.txt \(404\)/);
  assert.match(out.empty, /cannot create an empty file/);
  assert.match(out.missing, /no such file or directory/);

  const stored = await su.collection('docs').getOne(out.id);
  assert.equal(stored.doc, out.doc);
  assert.deepEqual(stored.files, out.files);
  assert.equal(await download('docs', out.id, out.doc), 'hello world');
  assert.equal(await download('docs', out.id, out.files[0]), PAGE);
  assert.equal(await download('docs', out.id, out.files[1]), 'hi');
  assert.equal(await download('docs', out.id, out.files[2]), 'served over http');
});

test('e.findUploadedFiles() gives a route and a record request hook the uploaded files', async () => {
  const form = new FormData();
  form.append('title', 'form title');
  form.append('doc', new Blob(['uploaded bytes'], { type: 'text/plain' }), 'Report.txt');
  const res = await fetch(`${srv.url}/upload`, { method: 'POST', body: form });
  const out = await res.json();
  assert.equal(res.status, 200, JSON.stringify(out));
  assert.equal(out.count, 1);
  assert.equal(out.originalName, 'Report.txt');
  assert.equal(out.size, 14);
  assert.match(out.name, /^report_[a-z0-9]{10}\.txt$/);
  assert.match(out.doc, /^report_[a-z0-9]{10}\.txt$/);
  assert.match(out.missing, /no such file/);
  assert.equal(out.title, 'form title');
  assert.equal(await download('docs', out.id, out.doc), 'uploaded bytes');

  const hookForm = new FormData();
  hookForm.append('doc', new Blob(['abc'], { type: 'text/plain' }), 'Notes.txt');
  const created = await srv.pb.collection('uploads').create(hookForm);
  assert.equal(created.title, 'named after Notes.txt');
  assert.match(created.doc, /^notes_[a-z0-9]{10}\.txt$/);
  assert.equal(await download('uploads', created.id, created.doc), 'abc');
});

test('a request hook may set $filesystem files on e.record before e.next()', async () => {
  const created = await srv.pb.collection('hooked').create({ title: 'json body' });
  assert.match(created.doc, /^hooked_[a-z0-9]{10}\.txt$/);
  assert.equal(await download('hooked', created.id, created.doc), 'from the hook');

  const form = new FormData();
  form.append('title', 'multipart update');
  form.append('files', new Blob(['sent'], { type: 'text/plain' }), 'sent.txt');
  const updated = await srv.pb.collection('hooked').update(created.id, form);
  assert.equal(updated.title, 'multipart update');
  assert.equal(updated.doc, created.doc);
  assert.equal(updated.files.length, 2);
  assert.match(updated.files[0], /^sent_[a-z0-9]{10}\.txt$/);
  assert.match(updated.files[1], /^more_[a-z0-9]{10}\.txt$/);
  assert.equal(await download('hooked', created.id, updated.files[0]), 'sent');
  assert.equal(await download('hooked', created.id, updated.files[1]), 'more');
});

async function waitFor(what, pred) {
  const deadline = Date.now() + 8000;
  while (Date.now() < deadline) {
    const v = await pred();
    if (v) return v;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('backup hooks wrap creating and restoring a backup', async () => {
  await su.backups.create('named.zip');
  await su.backups.create('');
  await su.backups.create('skip_me.zip');
  await assert.rejects(su.backups.create('deny_me.zip'), (err) => {
    assert.equal(err.status, 400);
    assert.equal(err.response.message, 'Failed to create backup.');
    return true;
  });
  const keys = (await su.backups.getFullList()).map((b) => b.key).sort();
  assert.deepEqual(keys, ['hooked_default.zip', 'named.zip']);
  const created = await su.collection('events').getFullList({ filter: 'kind = "create"' });
  assert.deepEqual(created.map((e) => [e.before, e.after, e.exclude]).sort(), [['', 'hooked_default.zip', true], ['named.zip', 'named.zip', true]]);

  await su.backups.restore('named.zip');
  const restored = await waitFor('the restore hook', async () => {
    const list = await su.collection('events').getFullList({ filter: 'kind = "restore"' });
    return list.length ? list : null;
  });
  assert.equal(restored[0].before, 'named.zip');
  // The hook did not call e.next(): the server goes on with its data.
  await sleep(1500);
  const health = await rawFetch(srv.url, '/api/health');
  assert.equal(health.status, 200);
  assert.ok(await su.collection('events').getFullList());
});

test('realtime hooks: connect, subscribe and message send, with onRecordEnrich over realtime', async () => {
  await su.collection('users').create({ email: 'denied@example.com', password: 'pass12345', passwordConfirm: 'pass12345' });
  const { token } = await srv.newClient().collection('users').authWithPassword('denied@example.com', 'pass12345');
  const denied = await rawFetch(srv.url, '/api/realtime', { headers: { Authorization: token } });
  assert.equal(denied.status, 403);
  assert.deepEqual(denied.body, { status: 403, message: 'No realtime for you.', data: {} });

  // A connect hook may shorten the stream's idle timeout (nanoseconds, Go's time.Duration).
  await su.collection('users').create({ email: 'short@example.com', password: 'pass12345', passwordConfirm: 'pass12345' });
  const short = await srv.newClient().collection('users').authWithPassword('short@example.com', 'pass12345');
  const started = Date.now();
  const stream = await fetch(`${srv.url}/api/realtime`, { headers: { Authorization: short.token }, signal: AbortSignal.timeout(8000) });
  assert.equal(stream.status, 200);
  const text = await stream.text();
  const took = Date.now() - started;
  assert.match(text, /event:\s?PB_CONNECT/);
  assert.ok(took >= 800 && took < 5000, `the stream lasted ${took} ms`);

  const c = srv.newClient();
  try {
    const events = [];
    await c.collection('posts').subscribe('*', (e) => events.push(['posts', e]));
    await c.collection('docs').subscribe('*', (e) => events.push(['docs', e]));
    await assert.rejects(c.realtime.subscribe('secret/*', () => {}), (err) => {
      assert.equal(err.status, 403);
      return true;
    });
    await su.collection('posts').create({ title: 'skipme', secret: 's1' });
    await su.collection('docs').create({ title: 'not delivered: the hook dropped docs/*' });
    const shown = await su.collection('posts').create({ title: 'shown', secret: 's2' });
    await waitFor('the shown post', () => events.some(([, e]) => e.record?.id === shown.id));
    await sleep(300);
    assert.deepEqual(events.map(([topic, e]) => [topic, e.action, e.record.title]), [['posts', 'create', 'shown']]);
    const record = events[0][1].record;
    assert.equal(record.extra, 'from hook');
    assert.equal(record.secret, undefined);
  } finally {
    c.realtime.unsubscribe().catch(() => {});
  }
});
