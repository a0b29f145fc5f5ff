// Plays units of requests against the reference PocketBase and oxbase side by side.
import { send, normalize, compare } from './play.mjs';

/**
 * A unit is a list of steps run in order (a step may `save` its answer for later `ref`s);
 * units are independent and run `concurrency` at a time. Each step goes to both servers at
 * once. Returns one result per step: {req, pb, ox, diffs} (answers normalised; `raw` too for logins).
 */
export async function playUnits(servers, units, { concurrency = 4, ids }) {
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < units.length) {
      const unit = units[next++];
      const saved = { pb: { $tokens: servers.pb.tokens }, ox: { $tokens: servers.ox.tokens } };
      for (const req of unit) {
        const [rpb, rox] = await Promise.all([
          send(servers.pb, req, saved.pb),
          send(servers.ox, req, saved.ox),
        ]);
        if (req.save) {
          saved.pb[req.save] = rpb.body;
          saved.ox[req.save] = rox.body;
        }
        learnIds(req, rpb, rox, ids);
        const pb = normalize(rpb, req, ids);
        const ox = normalize(rox, req, ids);
        const result = { req, pb, ox, diffs: compare(pb, ox, req) };
        // Logins keep their raw answers: the tokens are in them.
        if (req.tags?.login) result.raw = { pb: rpb, ox: rox };
        results.push(result);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, units.length) }, worker));
  return results;
}

/**
 * A create that generated its id on both servers, or a login of a record created outside the
 * API (the superuser): the reference's id stands for oxbase's from then on.
 */
function learnIds(req, pb, ox, ids) {
  if (req.method !== 'POST' || pb.status !== 200 || ox.status !== 200) return;
  const a = req.tags?.login ? pb.body?.record?.id : pb.body?.id;
  const b = req.tags?.login ? ox.body?.record?.id : ox.body?.id;
  if (typeof a === 'string' && typeof b === 'string' && a !== b && !ids.has(a)) ids.set(a, b);
}
