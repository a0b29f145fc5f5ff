// Differential test (issue #17): starts the reference PocketBase 0.40.6 and oxbase side by side,
// gives both the same fixture through the HTTP API, plays the same generated corpus against
// both (tests/sdk/diff/corpus/*), and fails on any difference in status, error codes, messages
// or bodies that the known-differences table (tests/sdk/diff/known.mjs) does not explain.
//
// Env: DIFF_SEED (the corpus's seed), DIFF_REPORT=path (writes every difference as JSON),
// DIFF_SHOW=n (how many unexplained differences to print, 40 by default), plus harness.mjs's.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { startServer } from './harness.mjs';
import { prng, SEED } from './diff/prng.mjs';
import { playUnits } from './diff/run.mjs';
import { startMailServer } from './mail.mjs';
import { PEOPLE, PASSWORD, CALLERS, ID, schemaUnit, dataUnits, superuserLogin, loginSteps, recordCreate, settingsStep } from './diff/fixture.mjs';
import { fieldUnits } from './diff/corpus/fields.mjs';
import { ruleReadUnits, ruleWriteUnits } from './diff/corpus/rules.mjs';
import { filterUnits, sortUnits } from './diff/corpus/filters.mjs';
import { authFlowUnits, signupUnits, selfUpdateUnits } from './diff/corpus/auth.mjs';
import { miscUnits } from './diff/corpus/misc.mjs';
import { KNOWN } from './diff/known.mjs';
import { triage, describe as describeDiff, counts, classOf, DATABASE } from './diff/report.mjs';

const CONCURRENCY = 4;
let reference, oxbase, mail;
before(async () => {
  [reference, oxbase, mail] = await Promise.all([startServer({ kind: 'pocketbase' }), startServer({ kind: 'oxbase' }), startMailServer()]);
});
after(async () => { await Promise.all([reference?.stop(), oxbase?.stop(), mail?.stop()]); });

describe('differential: oxbase against PocketBase 0.40.6', () => {
  it('answers the generated corpus as the reference does, or as the known differences say', async (t) => {
    const started = Date.now();
    const servers = {
      pb: { kind: 'pocketbase', url: reference.url, tokens: {} },
      ox: { kind: 'oxbase', url: oxbase.url, tokens: {} },
    };
    const ids = new Map();
    const results = [];
    const play = async (units, concurrency = CONCURRENCY) => {
      const r = await playUnits(servers, units, { concurrency, ids });
      results.push(...r);
      return r;
    };
    const takeTokens = (rs) => {
      for (const r of rs) {
        const who = r.req.tags?.login;
        for (const side of ['pb', 'ox']) {
          const token = r.raw?.[side]?.body?.token;
          if (who && token) servers[side].tokens[who] = token;
        }
      }
    };
    const rnd = prng(SEED);

    // The fixture: schema, records, one login per caller.
    takeTokens(await play([[superuserLogin()]]));
    await play([[settingsStep(mail.smtpSettings)], schemaUnit()], 1);
    for (const units of dataUnits(rnd)) await play(units);
    takeTokens(await play(loginSteps().map((s) => [s])));
    for (const who of Object.keys(PEOPLE).concat('superuser')) {
      assert.ok(servers.pb.tokens[who] && servers.ox.tokens[who], `both servers log ${who} in`);
    }
    // A staff record choosing alice's id: if both accept it, it joins the callers.
    const twin = [
      { ...recordCreate('staff', { id: ID.alice, email: 'twin@example.com', name: 'Twin', password: PASSWORD, passwordConfirm: PASSWORD }), label: 'create staff twin of alice' },
      { cat: 'setup', label: 'login twin', method: 'POST', path: '/api/collections/staff/auth-with-password', body: { identity: 'twin@example.com', password: PASSWORD }, tags: { login: 'twin' } },
    ];
    takeTokens(await play([twin], 1));
    const callers = servers.pb.tokens.twin && servers.ox.tokens.twin ? [...CALLERS, 'twin'] : CALLERS;

    // Reads and flows first (they see the fixture only), then writes (each on records of its own).
    await play([...ruleReadUnits(callers), ...filterUnits(rnd), ...sortUnits(), ...miscUnits(), ...authFlowUnits(rnd)]);
    await play([...fieldUnits(rnd), ...ruleWriteUnits(rnd, callers), ...signupUnits(), ...selfUpdateUnits(rnd)]);

    const { hits, explained, unexplained } = triage(results, KNOWN);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const lines = [
      `seed ${SEED}: ${results.length} requests played against PocketBase and oxbase on ${DATABASE} in ${seconds} s (callers: ${callers.join(', ')})`,
      'requests by category and the reference\'s status class:', ...counts(results, (r) => `${r.req.cat} ${String(r.pb.status)[0]}xx`),
      `differences: ${explained.length} known, ${unexplained.length} unexplained`,
      'known differences by entry:', ...[...hits].map(([id, n]) => `  ${id}: ${n}`),
      'unexplained differences by class:', ...counts(unexplained, (u) => classOf(u.req, u.d)),
    ];
    const stale = [...hits].filter(([, n]) => n === 0).map(([id]) => id);
    if (stale.length) lines.push(`known entries that matched nothing (remove them): ${stale.join(', ')}`);
    for (const l of lines) t.diagnostic(l);
    if (process.env.DIFF_REPORT) {
      const plain = (x) => ({ class: classOf(x.req, x.d), entry: x.entry, req: x.req, d: x.d, pb: x.pb, ox: x.ox });
      writeFileSync(process.env.DIFF_REPORT, JSON.stringify({ seed: SEED, requests: results.length, known: explained.map(plain), unexplained: unexplained.map(plain) }, null, 1));
    }
    assert.ok(results.length >= 3000, `the corpus has at least 3,000 requests (${results.length})`);
    const show = Number.parseInt(process.env.DIFF_SHOW || '40', 10);
    // One example per class first, then more of each.
    const byClass = new Map();
    for (const u of unexplained) byClass.set(classOf(u.req, u.d), [...(byClass.get(classOf(u.req, u.d)) || []), u]);
    const examples = [...byClass.values()].flatMap((us) => us.slice(0, Math.max(1, Math.floor(show / byClass.size))));
    assert.equal(unexplained.length, 0,
      `${unexplained.length} differences not in tests/sdk/diff/known.mjs:\n${lines.join('\n')}\n\n${examples.slice(0, show).map(describeDiff).join('\n\n')}`);
  });
});
