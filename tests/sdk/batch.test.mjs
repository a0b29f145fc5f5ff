// Batch through the SDK: pb.createBatch() with create/update/upsert/delete in one transaction,
// PocketBase's failure body, rollback, rules under the caller's auth, and the batch settings.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, expectError, rawFetch, ID_RE } from './harness.mjs';

let srv, su, guest, u1;

before(async () => {
  srv = await startServer();
  su = await srv.superuserClient();
  guest = srv.newClient();
  await su.collection('users').create({ email: 'u1@example.com', password: 'pass12345', passwordConfirm: 'pass12345' });
  u1 = srv.newClient();
  await u1.collection('users').authWithPassword('u1@example.com', 'pass12345');
  await su.collections.create({
    name: 'items', listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '',
    fields: [
      { name: 'title', type: 'text', required: true },
      { name: 'qty', type: 'number' },
      { name: 'secret', type: 'text', hidden: true },
    ],
  });
  await su.collections.create({ name: 'locked', fields: [{ name: 'title', type: 'text' }] });
});
after(async () => { await srv?.stop(); });

const count = async (coll) => (await su.collection(coll).getList(1, 1)).totalItems;

describe('batch', () => {
  it('is refused with 403 while disabled (the default)', async () => {
    const b = su.createBatch();
    b.collection('items').create({ title: 'x' });
    const err = await expectError(b.send(), 403);
    assert.deepEqual(err.response, { data: {}, message: 'Batch requests are not allowed.', status: 403 });
    assert.equal(await count('items'), 0);
  });

  it('create, update, upsert and delete run together and answer {status, body} per request', async () => {
    await su.settings.update({ batch: { enabled: true } });
    const existing = await su.collection('items').create({ title: 'existing', qty: 1 });
    const doomed = await su.collection('items').create({ title: 'doomed' });
    const newId = 'upsertnew000001';

    const b = guest.createBatch();
    b.collection('items').create({ title: 'created', qty: 2, secret: 'nope' });
    b.collection('items').update(existing.id, { qty: 5 });
    b.collection('items').upsert({ id: existing.id, title: 'upserted existing' });
    b.collection('items').upsert({ id: newId, title: 'upserted new', qty: 7 });
    b.collection('items').delete(doomed.id);
    b.collection('items').create({ title: 'picked' }, { fields: 'id,title' });
    const res = await b.send();

    assert.equal(res.length, 6);
    assert.deepEqual(res.map((r) => r.status), [200, 200, 200, 200, 204, 200]);
    for (const r of res) assert.deepEqual(Object.keys(r).sort(), ['body', 'status']);
    assert.match(res[0].body.id, ID_RE);
    assert.deepEqual(res[0].body, await guest.collection('items').getOne(res[0].body.id));
    assert.equal(res[0].body.title, 'created');
    assert.equal('secret' in res[0].body, false);
    assert.equal(res[1].body.qty, 5);
    assert.equal(res[1].body.title, 'existing');
    assert.equal(res[2].body.id, existing.id);
    assert.equal(res[2].body.title, 'upserted existing');
    assert.equal(res[2].body.qty, 5);
    assert.equal(res[3].body.id, newId);
    assert.deepEqual(res[3].body, await guest.collection('items').getOne(newId));
    assert.equal(res[4].body, null);
    assert.deepEqual(Object.keys(res[5].body).sort(), ['id', 'title']);

    await expectError(su.collection('items').getOne(doomed.id), 404);
    assert.equal((await su.collection('items').getOne(existing.id)).title, 'upserted existing');
    // the hidden field was not settable by a guest
    assert.equal((await su.collection('items').getOne(res[0].body.id)).secret, '');
  });

  it('a later request sees what an earlier one of the same batch wrote', async () => {
    const id = 'chainedrec00001';
    const b = su.createBatch();
    b.collection('items').create({ id, title: 'first' });
    b.collection('items').update(id, { title: 'second' });
    const res = await b.send();
    assert.equal(res[1].body.title, 'second');
    assert.equal((await su.collection('items').getOne(id)).title, 'second');
  });

  it('a failing request rolls everything back and answers batch_request_failed with its REST error', async () => {
    const before = await count('items');
    const existing = await su.collection('items').create({ title: 'untouched' });
    const b = su.createBatch();
    b.collection('items').create({ title: 'rolled back' });
    b.collection('items').update(existing.id, { title: 'changed' });
    b.collection('items').create({ qty: 3 }); // title is required
    b.collection('items').create({ title: 'never run' });
    const err = await expectError(b.send(), 400);

    const rest = await expectError(su.collection('items').create({ qty: 3 }), 400);
    assert.deepEqual(err.response, {
      data: { requests: { 2: { code: 'batch_request_failed', message: 'Batch request failed.', response: rest.response } } },
      message: 'Batch transaction failed.',
      status: 400,
    });
    assert.equal(await count('items'), before + 1);
    assert.equal((await su.collection('items').getOne(existing.id)).title, 'untouched');
  });

  it('every request runs under the caller\'s auth and rules', async () => {
    const before = await count('items');
    const b = u1.createBatch();
    b.collection('items').create({ title: 'allowed' });
    b.collection('locked').create({ title: 'not allowed' });
    const err = await expectError(b.send(), 400);
    const rest = await expectError(u1.collection('locked').create({ title: 'not allowed' }), 403);
    assert.deepEqual(err.response.data.requests, {
      1: { code: 'batch_request_failed', message: 'Batch request failed.', response: rest.response },
    });
    assert.equal(await count('items'), before);
    assert.equal(await count('locked'), 0);

    const ok = su.createBatch();
    ok.collection('locked').create({ title: 'superuser may' });
    assert.equal((await ok.send())[0].status, 200);
  });

  it('a request for a missing record fails the batch with its 404', async () => {
    const b = su.createBatch();
    b.collection('items').update('missingrecord00', { title: 'x' });
    const err = await expectError(b.send(), 400);
    assert.equal(err.response.data.requests['0'].code, 'batch_request_failed');
    assert.equal(err.response.data.requests['0'].response.status, 404);
  });

  it('an unsupported action or a missing collection fails the batch as PocketBase does', async () => {
    const H = { 'Content-Type': 'application/json', Authorization: su.authStore.token };
    let r = await rawFetch(srv.url, '/api/batch', {
      method: 'POST', headers: H,
      body: JSON.stringify({ requests: [{ method: 'GET', url: '/api/collections/items/records' }] }),
    });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, {
      data: { requests: { 0: { code: 'batch_request_failed', message: 'Batch request failed.', response: { data: {}, message: 'Something went wrong while processing your request.', status: 400 } } } },
      message: 'Batch transaction failed.',
      status: 400,
    });
    const b = su.createBatch();
    b.collection('items').create({ title: 'x' });
    b.collection('nope').create({ title: 'x' });
    const err = await expectError(b.send(), 400);
    assert.deepEqual(err.response.data.requests['1'].response, { data: {}, message: 'Missing collection context.', status: 404 });
  });

  it('maxBodySize is enforced with 413', async () => {
    await su.settings.update({ batch: { enabled: true, maxBodySize: 300 } });
    try {
      const before = await count('items');
      const b = su.createBatch();
      b.collection('items').create({ title: 'x'.repeat(400) });
      const err = await expectError(b.send(), 413);
      assert.deepEqual(err.response, { data: {}, message: 'Request entity too large.', status: 413 });
      assert.equal(await count('items'), before);
    } finally {
      await su.settings.update({ batch: { enabled: true, maxBodySize: 0 } });
    }
  });

  it('a batch running past its timeout is rolled back', async () => {
    // Enough password hashing to outlast a 1 s timeout on any machine (each hash is slow on
    // purpose; 50 of them can finish within a second on a fast one).
    await su.settings.update({ batch: { enabled: true, timeout: 1, maxRequests: 300 } });
    try {
      const before = await count('users');
      const b = su.createBatch();
      for (let i = 0; i < 300; i++) b.collection('users').create({ email: `t${i}@example.com`, password: 'pass12345', passwordConfirm: 'pass12345' });
      const err = await expectError(b.send(), 400);
      assert.deepEqual(err.response, { data: {}, message: 'Batch transaction failed.', status: 400 });
      assert.equal(await count('users'), before);
    } finally {
      await su.settings.update({ batch: { enabled: true, timeout: 3, maxRequests: 50 } });
    }
  });

  it('maxRequests is enforced', async () => {
    await su.settings.update({ batch: { enabled: true, maxRequests: 2 } });
    try {
      const before = await count('items');
      const b = su.createBatch();
      for (let i = 0; i < 3; i++) b.collection('items').create({ title: `n${i}` });
      const err = await expectError(b.send(), 400);
      assert.equal(err.response.data.requests.code, 'validation_length_too_long');
      assert.equal(await count('items'), before);

      const ok = su.createBatch();
      for (let i = 0; i < 2; i++) ok.collection('items').create({ title: `ok${i}` });
      assert.equal((await ok.send()).length, 2);
    } finally {
      await su.settings.update({ batch: { enabled: true, maxRequests: 50 } });
    }
  });

  it('a plain JSON body works as well as the SDK\'s multipart one', async () => {
    const r = await rawFetch(srv.url, '/api/batch', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: su.authStore.token },
      body: JSON.stringify({ requests: [{ method: 'POST', url: '/api/collections/items/records', body: { title: 'json body', qty: 4 } }] }),
    });
    assert.equal(r.status, 200);
    assert.equal(r.body[0].status, 200);
    assert.equal(r.body[0].body.title, 'json body');
    assert.equal(r.body[0].body.qty, 4);
  });

  it('an empty batch is a validation error', async () => {
    const r = await rawFetch(srv.url, '/api/batch', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: su.authStore.token },
      body: JSON.stringify({ requests: [] }),
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.data.requests.code, 'validation_required');
  });
});
