// Realtime through the SDK: collection(...).subscribe(...) over SSE, delivery by rule and filter,
// record shape (hidden fields, expand, fields) as REST, unsubscribe, and events from a batch.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { startServer, rawFetch } from './harness.mjs';

// The SDK in Node needs a global EventSource.
globalThis.EventSource = EventSource;

const WAIT_MS = 5000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let srv, su, guest, u1, u2, user1, user2;
const clients = [];

/** A client of its own (one SSE connection per client), closed in `after`. */
function client() {
  const c = srv.newClient();
  clients.push(c);
  return c;
}
async function userClient(email) {
  const c = client();
  await c.collection('users').authWithPassword(email, 'pass12345');
  return c;
}

/** Subscribes and collects the events; returns {events, unsubscribe}. */
async function collect(c, collection, topic, options) {
  const events = [];
  const unsubscribe = await c.collection(collection).subscribe(topic, (e) => events.push(e), options);
  return { events, unsubscribe };
}

/** Waits until `pred(events)` holds, bounded. */
async function waitFor(events, pred, what = 'event') {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    if (pred(events)) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(events)}`);
}
const hasId = (id, action) => (events) => events.some((e) => e.record?.id === id && (!action || e.action === action));

/**
 * Creates a record in the public `sentinel` collection and waits until every given collector
 * has received it: events are delivered in order per connection, so whatever was not delivered
 * before the sentinel was not delivered at all.
 */
async function barrier(...collectors) {
  const s = await su.collection('sentinel').create({ n: 1 });
  for (const col of collectors) await waitFor(col.events, hasId(s.id), 'the sentinel');
  await sleep(100);
}
/**
 * Subscribes each client to the sentinels and waits for one created now: with several
 * instances, the changes made before it have then reached the instances holding the clients'
 * streams through the relay, so later subscriptions start after them. The collectors.
 */
async function caughtUp(...clients) {
  const collectors = [];
  for (const c of clients) collectors.push(await collect(c, 'sentinel', '*'));
  await barrier(...collectors);
  return collectors;
}
/** The events of a collector other than sentinels. */
const real = (col) => col.events.filter((e) => e.record?.collectionName !== 'sentinel');

before(async () => {
  srv = await startServer();
  su = await srv.superuserClient();
  user1 = await su.collection('users').create({ email: 'u1@example.com', password: 'pass12345', passwordConfirm: 'pass12345', name: 'One' });
  user2 = await su.collection('users').create({ email: 'u2@example.com', password: 'pass12345', passwordConfirm: 'pass12345', name: 'Two' });
  guest = client();
  u1 = await userClient('u1@example.com');
  u2 = await userClient('u2@example.com');
  await su.settings.update({ batch: { enabled: true } });

  const usersId = (await su.collections.getOne('users')).id;
  await su.collections.create({ name: 'sentinel', listRule: '', viewRule: '', fields: [{ name: 'n', type: 'number' }] });
  const tags = await su.collections.create({ name: 'tags', listRule: '', viewRule: '', fields: [{ name: 'label', type: 'text' }] });
  await su.collections.create({
    name: 'posts', listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'status', type: 'text' },
      { name: 'secret', type: 'text', hidden: true },
      { name: 'tag', type: 'relation', collectionId: tags.id, maxSelect: 1 },
    ],
  });
  await su.collections.create({
    name: 'owned',
    listRule: 'owner = @request.auth.id',
    viewRule: 'owner = @request.auth.id',
    fields: [{ name: 'title', type: 'text' }, { name: 'owner', type: 'relation', collectionId: usersId, maxSelect: 1 }],
  });
  await su.collections.create({
    name: 'keyed', listRule: "@request.headers.x_key = 'open-sesame' && @request.query.mode = 'on'", viewRule: '',
    fields: [{ name: 'title', type: 'text' }],
  });
  // Listed by superusers only, viewable by anyone: only record topics deliver to others.
  await su.collections.create({ name: 'viewonly', listRule: null, viewRule: '', fields: [{ name: 'title', type: 'text' }] });
});
after(async () => {
  for (const c of clients) {
    try { await c.realtime.unsubscribe(); } catch { /* ignore */ }
  }
  await srv?.stop();
});

describe('realtime', () => {
  it('PB_CONNECT carries the client id the SDK uses', async () => {
    const c = client();
    const got = [];
    const unsub = await c.realtime.subscribe('PB_CONNECT', (e) => got.push(e));
    await waitFor(got, (g) => g.length > 0, 'PB_CONNECT');
    assert.equal(typeof got[0].clientId, 'string');
    assert.ok(got[0].clientId.length > 0);
    assert.equal(got[0].clientId, c.realtime.clientId);
    assert.equal(c.realtime.isConnected, true);
    await unsub();
    assert.equal(c.realtime.isConnected, false);
  });

  it("subscribe('*') receives create, update and delete with the record as REST shows it", async () => {
    const c = client();
    const col = await collect(c, 'posts', '*');
    const created = await su.collection('posts').create({ title: 'hello', status: 'draft', secret: 's3cret' });
    await waitFor(col.events, hasId(created.id, 'create'));
    const restAfterCreate = await guest.collection('posts').getOne(created.id);
    const updated = await su.collection('posts').update(created.id, { title: 'hello again' });
    await waitFor(col.events, hasId(created.id, 'update'));
    const restAfterUpdate = await guest.collection('posts').getOne(created.id);
    await su.collection('posts').delete(created.id);
    await waitFor(col.events, hasId(created.id, 'delete'));

    const mine = col.events.filter((e) => e.record.id === created.id);
    assert.deepEqual(mine.map((e) => e.action), ['create', 'update', 'delete']);
    for (const e of mine) assert.deepEqual(Object.keys(e).sort(), ['action', 'record']);
    assert.deepEqual(mine[0].record, restAfterCreate);
    assert.deepEqual(mine[1].record, restAfterUpdate);
    assert.deepEqual(mine[2].record, restAfterUpdate);
    assert.equal(mine[1].record.title, 'hello again');
    assert.equal(updated.title, 'hello again');
    assert.equal(mine[0].record.collectionName, 'posts');
    assert.equal(mine[0].record.collectionId, created.collectionId);
    // hidden fields are not leaked to a guest
    for (const e of mine) assert.equal('secret' in e.record, false);
    await col.unsubscribe();
  });

  it('subscribe(id) receives only that record', async () => {
    const a = await su.collection('posts').create({ title: 'a' });
    const b = await su.collection('posts').create({ title: 'b' });
    const c = client();
    await caughtUp(c);
    const col = await collect(c, 'posts', a.id);
    await su.collection('posts').update(b.id, { title: 'b2' });
    await su.collection('posts').update(a.id, { title: 'a2' });
    await waitFor(col.events, hasId(a.id, 'update'));
    await su.collection('posts').create({ title: 'c' });
    await su.collection('posts').delete(a.id);
    await waitFor(col.events, hasId(a.id, 'delete'));
    await sleep(100);
    assert.deepEqual(col.events.map((e) => [e.action, e.record.id]), [['update', a.id], ['delete', a.id]]);
    assert.equal(col.events[0].record.title, 'a2');
  });

  it('the list rule decides who receives * events: owner yes, other user and guest no', async () => {
    const c1 = await userClient('u1@example.com');
    const c2 = await userClient('u2@example.com');
    const cg = client();
    const cols = [];
    for (const c of [c1, c2, cg]) {
      const col = await collect(c, 'owned', '*');
      col.sentinel = await collect(c, 'sentinel', '*');
      cols.push(col);
    }
    const r = await su.collection('owned').create({ title: 'mine', owner: user1.id });
    await su.collection('owned').update(r.id, { title: 'mine 2' });
    await barrier(...cols.map((c) => c.sentinel));
    assert.deepEqual(cols[0].events.map((e) => [e.action, e.record.id, e.record.title]), [['create', r.id, 'mine'], ['update', r.id, 'mine 2']]);
    assert.deepEqual(cols[1].events, []);
    assert.deepEqual(cols[2].events, []);
    assert.deepEqual(cols[0].events[1].record, await u1.collection('owned').getOne(r.id));
  });

  it('the view rule decides record topics; a null list rule delivers * only to superusers', async () => {
    const r = await su.collection('viewonly').create({ title: 'v' });
    const cg = client();
    const csu = await srv.superuserClient();
    clients.push(csu);
    const [sent] = await caughtUp(cg, csu);
    const star = await collect(cg, 'viewonly', '*');
    const one = await collect(cg, 'viewonly', r.id);
    const suStar = await collect(csu, 'viewonly', '*');
    await su.collection('viewonly').update(r.id, { title: 'v2' });
    await waitFor(suStar.events, hasId(r.id, 'update'));
    await waitFor(one.events, hasId(r.id, 'update'));
    await barrier(sent);
    assert.deepEqual(star.events, []);
    assert.equal(one.events.length, 1);
    assert.equal(one.events[0].record.title, 'v2');
  });

  it('a delete reaches those who could see the record, and nobody else', async () => {
    const c1 = await userClient('u1@example.com');
    const c2 = await userClient('u2@example.com');
    const a = await su.collection('owned').create({ title: 'of one', owner: user1.id });
    const b = await su.collection('owned').create({ title: 'of two', owner: user2.id });
    const [sentinel1, sentinel2] = await caughtUp(c1, c2);
    const col1 = await collect(c1, 'owned', '*');
    col1.sentinel = sentinel1;
    const col2 = await collect(c2, 'owned', '*');
    col2.sentinel = sentinel2;
    await su.collection('owned').delete(a.id);
    await su.collection('owned').delete(b.id);
    await barrier(col1.sentinel, col2.sentinel);
    assert.deepEqual(col1.events.map((e) => [e.action, e.record.id]), [['delete', a.id]]);
    assert.equal(col1.events[0].record.title, 'of one');
    assert.equal(col1.events[0].record.owner, user1.id);
    assert.deepEqual(col2.events.map((e) => [e.action, e.record.id]), [['delete', b.id]]);
  });

  it('a cascaded delete is judged as the record was before its parent went', async () => {
    const parents = await su.collections.create({ name: 'parents', listRule: '', viewRule: '', fields: [{ name: 'title', type: 'text' }] });
    await su.collections.create({
      name: 'kids', listRule: "parent.title = 'vis'", viewRule: "parent.title = 'vis'",
      fields: [
        { name: 'name', type: 'text' },
        { name: 'parent', type: 'relation', collectionId: parents.id, maxSelect: 1, cascadeDelete: true },
      ],
    });
    const shown = await su.collection('parents').create({ title: 'vis' });
    const hidden = await su.collection('parents').create({ title: 'other' });
    const k1 = await su.collection('kids').create({ name: 'k1', parent: shown.id });
    const k2 = await su.collection('kids').create({ name: 'k2', parent: shown.id });
    await su.collection('kids').create({ name: 'k3', parent: hidden.id });
    const g = client();
    const [sentinel] = await caughtUp(g);
    const col = await collect(g, 'kids', '*');
    col.sentinel = sentinel;
    await su.collection('parents').delete(shown.id);
    await su.collection('parents').delete(hidden.id);
    await barrier(col.sentinel);
    assert.deepEqual(col.events.map((e) => [e.action, e.record.id]).sort(), [['delete', k1.id], ['delete', k2.id]].sort());
  });

  it('the filter option narrows delivery, decided on the changed record', async () => {
    const c = client();
    const col = await collect(c, 'posts', '*', { filter: "status = 'pub'" });
    col.sentinel = await collect(c, 'sentinel', '*');
    const draft = await su.collection('posts').create({ title: 'd', status: 'draft' });
    const pub = await su.collection('posts').create({ title: 'p', status: 'pub' });
    await su.collection('posts').update(draft.id, { status: 'pub' });
    await su.collection('posts').update(pub.id, { status: 'draft' });
    await barrier(col.sentinel);
    assert.deepEqual(col.events.map((e) => [e.action, e.record.id]), [['create', pub.id], ['update', draft.id]]);
  });

  it('the expand and fields options shape the record as REST does', async () => {
    const tag = await su.collection('tags').create({ label: 'rust' });
    const c = client();
    const expanded = await collect(c, 'posts', '*', { expand: 'tag' });
    const picked = await collect(c, 'posts', '*', { fields: 'id,title' });
    const r = await su.collection('posts').create({ title: 'with tag', tag: tag.id, secret: 'x' });
    await waitFor(expanded.events, hasId(r.id, 'create'));
    await waitFor(picked.events, (ev) => ev.some((e) => e.record?.id === r.id));
    assert.deepEqual(expanded.events.find((e) => e.record.id === r.id).record, await guest.collection('posts').getOne(r.id, { expand: 'tag' }));
    assert.equal(expanded.events.find((e) => e.record.id === r.id).record.expand.tag.label, 'rust');
    assert.deepEqual(picked.events.find((e) => e.record.id === r.id).record, { id: r.id, title: 'with tag' });
  });

  it('the headers and query options reach the rule as @request.headers / @request.query', async () => {
    const c = client();
    const right = await collect(c, 'keyed', '*', { headers: { 'X-Key': 'open-sesame' }, query: { mode: 'on' } });
    const wrongKey = await collect(c, 'keyed', '*', { headers: { 'X-Key': 'nope' }, mode: 'on' });
    const noQuery = await collect(c, 'keyed', '*', { headers: { 'x-key': 'open-sesame' } });
    const sentinel = await collect(c, 'sentinel', '*');
    const r = await su.collection('keyed').create({ title: 'k' });
    await barrier(sentinel);
    assert.deepEqual(right.events.map((e) => e.record.id), [r.id]);
    assert.deepEqual(wrongKey.events, []);
    assert.deepEqual(noQuery.events, []);
  });

  it('a superuser subscriber gets what REST gives a superuser', async () => {
    const csu = await srv.superuserClient();
    clients.push(csu);
    const col = await collect(csu, 'posts', '*');
    const r = await su.collection('posts').create({ title: 'su', secret: 'hidden value' });
    await waitFor(col.events, hasId(r.id, 'create'));
    assert.deepEqual(col.events.find((e) => e.record.id === r.id).record, await su.collection('posts').getOne(r.id));
  });

  it('unsubscribe stops the events of that topic; unsubscribing all closes the connection', async () => {
    const c = client();
    const posts = await collect(c, 'posts', '*');
    const sentinel = await collect(c, 'sentinel', '*');
    const first = await su.collection('posts').create({ title: 'before' });
    await waitFor(posts.events, hasId(first.id));
    await posts.unsubscribe();
    const second = await su.collection('posts').create({ title: 'after' });
    await barrier(sentinel);
    assert.deepEqual(posts.events.map((e) => e.record.id), [first.id]);
    assert.equal(second.title, 'after');
    assert.equal(c.realtime.isConnected, true);
    await c.realtime.unsubscribe();
    assert.equal(c.realtime.isConnected, false);
  });

  it('events of a committed batch arrive; a failed batch sends none', async () => {
    const c = client();
    const col = await collect(c, 'posts', '*');
    col.sentinel = await collect(c, 'sentinel', '*');
    const existing = await su.collection('posts').create({ title: 'to update' });
    await waitFor(col.events, hasId(existing.id, 'create'));

    const failing = su.createBatch();
    failing.collection('posts').create({ title: 'never' });
    failing.collection('posts').update(existing.id, { title: 'never either' });
    failing.collection('missing_collection').create({ title: 'x' });
    await assert.rejects(failing.send(), (e) => e.status === 400);

    const batch = su.createBatch();
    batch.collection('posts').create({ title: 'batch one' });
    batch.collection('posts').update(existing.id, { title: 'updated in batch' });
    batch.collection('posts').delete(existing.id);
    const res = await batch.send();
    const newId = res[0].body.id;
    await waitFor(col.events, hasId(existing.id, 'delete'));
    await barrier(col.sentinel);
    const ev = real(col);
    assert.deepEqual(ev.map((e) => [e.action, e.record.id]), [
      ['create', existing.id], ['create', newId], ['update', existing.id], ['delete', existing.id],
    ]);
    assert.equal(ev[2].record.title, 'updated in batch');
    assert.equal(ev.some((e) => e.record.title?.startsWith('never')), false);
  });
});

describe('POST /api/realtime (raw)', () => {
  /** Opens the SSE stream with fetch and returns {clientId, idLine, close}. */
  async function rawConnect() {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), WAIT_MS);
    const r = await fetch(srv.url + '/api/realtime', { signal: ctl.signal });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/event-stream/);
    const reader = r.body.getReader();
    let text = '';
    while (!text.includes('\n\n')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    clearTimeout(timer);
    const block = text.split('\n\n')[0];
    const line = (k) => block.split('\n').find((l) => l.startsWith(k + ':'))?.slice(k.length + 1).trim();
    const close = () => { try { ctl.abort(); } catch { /* ignore */ } };
    return { event: line('event'), id: line('id'), data: JSON.parse(line('data')), close };
  }
  const post = (token, body) => rawFetch(srv.url, '/api/realtime', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: token } : {}) },
    body: JSON.stringify(body),
  });

  it('PB_CONNECT is the first event, with the client id in data and in the id line', async () => {
    const conn = await rawConnect();
    try {
      assert.equal(conn.event, 'PB_CONNECT');
      assert.equal(conn.id, conn.data.clientId);
      assert.ok(conn.id.length > 0);
    } finally { conn.close(); }
  });

  it('the auth bound on the first subscribe cannot change later; an unknown client is 404', async () => {
    const conn = await rawConnect();
    try {
      const clientId = conn.data.clientId;
      assert.equal((await post(u1.authStore.token, { clientId, subscriptions: ['posts/*'] })).status, 204);
      assert.equal((await post(u1.authStore.token, { clientId, subscriptions: ['posts/*', 'owned/*'] })).status, 204);
      for (const token of [u2.authStore.token, su.authStore.token, '']) {
        const r = await post(token, { clientId, subscriptions: ['posts/*'] });
        assert.equal(r.status, 403);
        assert.deepEqual(r.body, { data: {}, message: "The current and the previous request authorization don't match.", status: 403 });
      }
      const missing = await post('', { clientId: 'nope', subscriptions: [] });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.message, 'Missing or invalid client id.');
    } finally { conn.close(); }
  });

  it('a guest client may later bind a user (guest to auth upgrade)', async () => {
    const conn = await rawConnect();
    try {
      const clientId = conn.data.clientId;
      assert.equal((await post('', { clientId, subscriptions: ['posts/*'] })).status, 204);
      assert.equal((await post(u1.authStore.token, { clientId, subscriptions: ['posts/*'] })).status, 204);
      assert.equal((await post(u2.authStore.token, { clientId, subscriptions: ['posts/*'] })).status, 403);
    } finally { conn.close(); }
  });
});
