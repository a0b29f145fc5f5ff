// Request logs through pb.logs (the same calls pass against PocketBase itself, which writes its
// entries up to 3 s late: the tests poll).
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, expectError, ID_RE, DATE_RE } from './harness.mjs';

let srv, pb;
before(async () => { srv = await startServer(); pb = await srv.superuserClient(); });
after(async () => { await srv?.stop(); });

/** Polls `getList` until `filter` matches at least `count` entries (10 s at most). */
async function waitFor(filter, count = 1) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const page = await pb.logs.getList(1, 50, { filter });
    if (page.totalItems >= count || Date.now() > deadline) return page;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('logs', () => {
  it('a failed request is an error entry with PocketBase data', async () => {
    const guest = srv.newClient();
    await expectError(guest.collection('users').getOne('sdkmissing123'), 404);
    const page = await waitFor('data.url ~ "sdkmissing123"');
    assert.equal(page.totalItems, 1);
    const entry = page.items[0];
    assert.match(entry.id, ID_RE);
    assert.match(entry.created, DATE_RE);
    assert.equal(entry.level, 8);
    assert.equal(entry.message, 'GET /api/collections/users/records/sdkmissing123');
    assert.equal(entry.data.type, 'request');
    assert.equal(entry.data.method, 'GET');
    assert.equal(entry.data.status, 404);
    assert.equal(entry.data.auth, '');
    assert.equal(typeof entry.data.execTime, 'number');
    assert.equal(entry.data.error, "The requested resource wasn't found.");

    const one = await pb.logs.getOne(entry.id);
    assert.deepEqual(one, entry);
    await expectError(pb.logs.getOne('nosuchentry1234'), 404);
  });

  it('filters and sorts over data, and counts per hour', async () => {
    const guest = srv.newClient();
    for (const name of ['sdk_a', 'sdk_b']) {
      await expectError(guest.collection(name).getList(), 404);
    }
    const page = await waitFor('data.url ~ "/api/collections/sdk_"', 2);
    assert.equal(page.totalItems, 2);
    const sorted = await pb.logs.getList(1, 10, {
      filter: 'data.url ~ "/api/collections/sdk_" && level = 8',
      sort: '-message',
    });
    assert.deepEqual(sorted.items.map((e) => e.data.url.split('?')[0]), [
      '/api/collections/sdk_b/records',
      '/api/collections/sdk_a/records',
    ]);
    const stats = await pb.logs.getStats({ filter: 'data.url ~ "/api/collections/sdk_"' });
    assert.equal(stats.length, 1);
    assert.equal(stats[0].total, 2);
    assert.match(stats[0].date, /^\d{4}-\d{2}-\d{2} \d{2}:00:00\.000Z$/);
    await expectError(pb.logs.getStats({ filter: 'bad==' }), 400);
    await expectError(pb.logs.getList(1, 10, { filter: 'nofield = 1' }), 400);
  });

  it('guests cannot read logs', async () => {
    const guest = srv.newClient();
    await expectError(guest.logs.getList(), 401);
    await expectError(guest.logs.getStats(), 401);
  });
});
