// Superuser authentication through the SDK (`_superusers` auth collection).
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClientResponseError } from 'pocketbase';
import { startServer, expectError, SU_EMAIL, SU_PASSWORD, ID_RE, DATE_RE } from './harness.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.stop(); });

const JWT_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function jwtPayload(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

describe('superuser auth', () => {
  it('authWithPassword on _superusers returns a token and the superuser record', async () => {
    const pb = srv.newClient();
    const res = await pb.collection('_superusers').authWithPassword(SU_EMAIL, SU_PASSWORD);
    assert.match(res.token, JWT_RE);
    assert.equal(res.record.email, SU_EMAIL);
    assert.equal(res.record.collectionName, '_superusers');
    assert.equal(typeof res.record.collectionId, 'string');
    assert.ok(res.record.collectionId.length > 0);
    assert.match(res.record.id, ID_RE);
    assert.match(res.record.created, DATE_RE);
    assert.match(res.record.updated, DATE_RE);
    assert.equal(res.record.verified, true);
    assert.equal(res.record.emailVisibility, false);
    assert.equal('password' in res.record, false, 'password must never be returned');
    assert.equal('tokenKey' in res.record, false, 'tokenKey must never be returned');
    assert.deepEqual(
      Object.keys(res.record).sort(),
      ['collectionId', 'collectionName', 'created', 'email', 'emailVisibility', 'id', 'updated', 'verified'],
    );
  });

  it('the auth token is a JWT carrying the record id, collection id, type auth and refreshable true', async () => {
    const pb = srv.newClient();
    const res = await pb.collection('_superusers').authWithPassword(SU_EMAIL, SU_PASSWORD);
    const p = jwtPayload(res.token);
    assert.equal(p.id, res.record.id);
    assert.equal(p.collectionId, res.record.collectionId);
    assert.equal(p.type, 'auth');
    assert.equal(p.refreshable, true);
    assert.equal(typeof p.exp, 'number');
    assert.ok(p.exp > Date.now() / 1000, 'token must not be expired');
  });

  it('after authWithPassword the auth store is valid and reports a superuser', async () => {
    const pb = srv.newClient();
    assert.equal(pb.authStore.isValid, false);
    assert.equal(pb.authStore.isSuperuser, false);
    await pb.collection('_superusers').authWithPassword(SU_EMAIL, SU_PASSWORD);
    assert.equal(pb.authStore.isValid, true);
    assert.equal(pb.authStore.isSuperuser, true);
    assert.equal(pb.authStore.record.email, SU_EMAIL);
    assert.equal(pb.authStore.record.collectionName, '_superusers');
  });

  it('authRefresh returns a fresh valid token for the same superuser', async () => {
    const pb = srv.newClient();
    const first = await pb.collection('_superusers').authWithPassword(SU_EMAIL, SU_PASSWORD);
    const refreshed = await pb.collection('_superusers').authRefresh();
    assert.match(refreshed.token, JWT_RE);
    assert.equal(refreshed.record.id, first.record.id);
    assert.equal(refreshed.record.email, SU_EMAIL);
    assert.equal(pb.authStore.token, refreshed.token);
    assert.equal(pb.authStore.isSuperuser, true);
    // the refreshed token works for a superuser-only endpoint
    const list = await pb.collections.getList(1, 1);
    assert.ok(list.totalItems > 0);
  });

  it('authRefresh without a token is rejected with 401', async () => {
    const pb = srv.newClient();
    const err = await expectError(pb.collection('_superusers').authRefresh(), 401);
    assert.deepEqual(err.response, {
      data: {},
      message: 'The request requires valid record authorization token.',
      status: 401,
    });
  });

  it('authRefresh with a garbage token is rejected with 401', async () => {
    const pb = srv.newClient();
    pb.authStore.save('not.a.jwt', null);
    await expectError(pb.collection('_superusers').authRefresh(), 401);
  });

  it('a wrong password gives ClientResponseError 400 with the standard {status, message, data} body', async () => {
    const pb = srv.newClient();
    const err = await expectError(pb.collection('_superusers').authWithPassword(SU_EMAIL, 'wrong-password'), 400);
    assert.ok(err instanceof ClientResponseError);
    assert.equal(err.status, 400);
    assert.deepEqual(err.response, { data: {}, message: 'Failed to authenticate.', status: 400 });
    assert.equal(err.message, 'Failed to authenticate.');
    assert.equal(pb.authStore.isValid, false);
  });

  it('an unknown email gives the same 400 as a wrong password (no account enumeration)', async () => {
    const pb = srv.newClient();
    const err = await expectError(pb.collection('_superusers').authWithPassword('nobody@example.com', SU_PASSWORD), 400);
    assert.deepEqual(err.response, { data: {}, message: 'Failed to authenticate.', status: 400 });
  });

  it('an empty identity and password give 400 with validation_required field errors', async () => {
    const pb = srv.newClient();
    const err = await expectError(pb.collection('_superusers').authWithPassword('', ''), 400);
    assert.equal(err.response.status, 400);
    assert.equal(err.response.data.identity?.code, 'validation_required');
    assert.equal(err.response.data.password?.code, 'validation_required');
  });

  it('superuser credentials do not authenticate against a regular auth collection', async () => {
    const pb = srv.newClient();
    // PocketBase ships a default "users" auth collection.
    await expectError(pb.collection('users').authWithPassword(SU_EMAIL, SU_PASSWORD), 400);
  });

  it('clearing the auth store makes superuser endpoints answer 401', async () => {
    const pb = srv.newClient();
    await pb.collection('_superusers').authWithPassword(SU_EMAIL, SU_PASSWORD);
    pb.authStore.clear();
    assert.equal(pb.authStore.isSuperuser, false);
    await expectError(pb.collections.getList(1, 1), 401);
  });
});
