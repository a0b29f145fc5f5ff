// Error responses: status codes and the standard {data, message, status} body.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClientResponseError } from 'pocketbase';
import { startServer, expectError, rawFetch } from './harness.mjs';

let srv, pb, recId;
before(async () => {
  srv = await startServer();
  pb = await srv.superuserClient();
  await pb.collections.create({
    name: 'notes', listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '',
    fields: [{ name: 'title', type: 'text', required: true }],
  });
  recId = (await pb.collection('notes').create({ title: 'hello' })).id;
});
after(async () => { await srv?.stop(); });

const NOT_FOUND = { data: {}, message: "The requested resource wasn't found.", status: 404 };

function assertStandardShape(body, status) {
  assert.deepEqual(Object.keys(body).sort(), ['data', 'message', 'status']);
  assert.equal(body.status, status);
  assert.equal(typeof body.message, 'string');
  assert.ok(body.message.length > 0);
  assert.equal(typeof body.data, 'object');
  assert.notEqual(body.data, null);
}

describe('errors', () => {
  it('listing records of an unknown collection gives 404 with the standard body', async () => {
    const err = await expectError(srv.newClient().collection('nope').getList(1, 10), 404);
    assert.ok(err instanceof ClientResponseError);
    assertStandardShape(err.response, 404);
    assert.deepEqual(err.response.data, {});
  });

  it('unknown collection gives 404 for view, create, update and delete too, even for a superuser', async () => {
    for (const call of [
      () => pb.collection('nope').getOne('aaaaaaaaaaaaaaa'),
      () => pb.collection('nope').create({ a: 1 }),
      () => pb.collection('nope').update('aaaaaaaaaaaaaaa', { a: 1 }),
      () => pb.collection('nope').delete('aaaaaaaaaaaaaaa'),
      () => srv.newClient().collection('nope').getOne('aaaaaaaaaaaaaaa'),
    ]) {
      const err = await expectError(call(), 404);
      assertStandardShape(err.response, 404);
    }
  });

  it('an unknown collection in the collections API gives 404 with the standard not-found body', async () => {
    const err = await expectError(pb.collections.getOne('nope'), 404);
    assert.deepEqual(err.response, NOT_FOUND);
    await expectError(pb.collections.update('nope', { listRule: '' }), 404);
    await expectError(pb.collections.delete('nope'), 404);
  });

  it('an unknown record id gives 404 {data:{}, message:"The requested resource wasn\'t found.", status:404}', async () => {
    const guest = srv.newClient();
    assert.deepEqual((await expectError(guest.collection('notes').getOne('aaaaaaaaaaaaaaa'), 404)).response, NOT_FOUND);
    assert.deepEqual((await expectError(pb.collection('notes').getOne('doesnotexist'), 404)).response, NOT_FOUND);
    assert.deepEqual((await expectError(pb.collection('notes').update('aaaaaaaaaaaaaaa', { title: 'x' }), 404)).response, NOT_FOUND);
    assert.deepEqual((await expectError(pb.collection('notes').delete('aaaaaaaaaaaaaaa'), 404)).response, NOT_FOUND);
  });

  it('getFirstListItem with no match gives 404 (the SDK turns an empty page into a 404)', async () => {
    // The SDK itself requests getList(1, 1, {skipTotal: 1}) and builds the 404 client-side,
    // so the server only has to answer the list request with an empty items array.
    const err = await expectError(pb.collection('notes').getFirstListItem("title = 'no such title'"), 404);
    assert.equal(err.response.message, "The requested resource wasn't found.");
  });

  it('a malformed JSON body on record create gives 400 with the standard body', async () => {
    const r = await rawFetch(srv.url, '/api/collections/notes/records', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: pb.authStore.token },
      body: '{"title": "x",',
    });
    assert.equal(r.status, 400);
    assertStandardShape(r.body, 400);
    assert.deepEqual(r.body.data, {});
    // nothing was created
    assert.equal((await pb.collection('notes').getList(1, 1)).totalItems, 1);
  });

  it('a malformed JSON body on record update gives 400 and leaves the record unchanged', async () => {
    const r = await rawFetch(srv.url, `/api/collections/notes/records/${recId}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: pb.authStore.token },
      body: '[1,',
    });
    assert.equal(r.status, 400);
    assertStandardShape(r.body, 400);
    assert.equal((await pb.collection('notes').getOne(recId)).title, 'hello');
  });

  it('a malformed JSON body on collection create gives 400 with the standard body', async () => {
    const r = await rawFetch(srv.url, '/api/collections', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: pb.authStore.token },
      body: '{bad',
    });
    assert.equal(r.status, 400);
    assertStandardShape(r.body, 400);
    assert.deepEqual(r.body.data, {});
  });

  it('a validation failure gives 400 with per-field {code, message} objects in data', async () => {
    const err = await expectError(pb.collection('notes').create({}), 400);
    assertStandardShape(err.response, 400);
    assert.equal(err.response.message, 'Failed to create record.');
    assert.deepEqual(err.response.data, { title: { code: 'validation_required', message: 'Cannot be blank.' } });
    // the SDK exposes the body as both .response and .data
    assert.deepEqual(err.data, err.response);
  });

  it('an unknown /api route gives 404 with the standard body', async () => {
    const r = await rawFetch(srv.url, '/api/definitely-not-a-route');
    assert.equal(r.status, 404);
    assertStandardShape(r.body, 404);
  });

  it('GET /api/health answers 200 with {code:200, message, data}', async () => {
    const r = await rawFetch(srv.url, '/api/health');
    assert.equal(r.status, 200);
    assert.equal(r.body.code, 200);
    assert.equal(r.body.message, 'API is healthy.');
    assert.equal(typeof r.body.data, 'object');
    const viaSdk = await srv.newClient().health.check();
    assert.equal(viaSdk.code, 200);
  });

  it('a request with an invalid Authorization token is treated as a guest, not rejected', async () => {
    const guest = srv.newClient();
    guest.authStore.save('invalid.token.value', null);
    // the notes collection is public, so the request still succeeds
    const list = await guest.collection('notes').getList(1, 10);
    assert.equal(list.totalItems, 1);
    // superuser-only endpoints answer 401 as for guests
    await expectError(guest.collections.getList(1, 1), 401);
  });

  it('ClientResponseError.isAbort is false and url points at the server for HTTP errors', async () => {
    const err = await expectError(pb.collection('notes').getOne('aaaaaaaaaaaaaaa'), 404);
    assert.equal(err.isAbort, false);
    assert.ok(err.url.startsWith(srv.url + '/api/collections/notes/records/'));
  });
});
