// The SQL console through pb.sql.run (these calls pass against PocketBase itself too).
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, expectError } from './harness.mjs';

let srv, pb;
before(async () => { srv = await startServer(); pb = await srv.superuserClient(); });
after(async () => { await srv?.stop(); });

describe('sql', () => {
  it('run answers columns and rows as text', async () => {
    const result = await pb.sql.run("SELECT 1 AS a, NULL AS b, 'x' AS c");
    assert.deepEqual(result.columns.map((c) => c.name), ['a', 'b', 'c']);
    assert.deepEqual(result.rows, [['1', null, 'x']]);
    assert.equal(result.affectedRows, 0);
    assert.equal(typeof result.execTime, 'number');
  });

  it('a blank query and a broken one are 400s', async () => {
    await expectError(pb.sql.run(''), 400);
    await expectError(pb.sql.run('SELEC nonsense'), 400);
  });

  it('guests cannot run SQL', async () => {
    await expectError(srv.newClient().sql.run('SELECT 1'), 401);
  });
});
