// Cron jobs through pb.crons (the same calls pass against PocketBase itself).
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, expectError } from './harness.mjs';

let srv, pb;
before(async () => { srv = await startServer(); pb = await srv.superuserClient(); });
after(async () => { await srv?.stop(); });

describe('crons', () => {
  it('getFullList lists the built-in jobs with their expressions', async () => {
    const jobs = await pb.crons.getFullList();
    const byId = Object.fromEntries(jobs.map((j) => [j.id, j.expression]));
    assert.equal(byId.__pbOTPCleanup__, '0 * * * *');
    assert.equal(byId.__pbMFACleanup__, '0 * * * *');
    assert.equal(byId.__pbDBOptimize__, '0 0 * * *');
    for (const job of jobs) assert.deepEqual(Object.keys(job).sort(), ['expression', 'id']);
  });

  it('run starts a job now and an unknown id is a 404', async () => {
    assert.equal(await pb.crons.run('__pbOTPCleanup__'), true);
    await expectError(pb.crons.run('nope'), 404);
  });

  it('guests cannot list or run jobs', async () => {
    const guest = srv.newClient();
    await expectError(guest.crons.getFullList(), 401);
    await expectError(guest.crons.run('__pbOTPCleanup__'), 401);
  });
});
