// Rule shapes × callers × actions on the `r_<shape>` collections. Reads run on the fixture
// records; every update and delete consumes a fresh copy of one.
import { ID, SHAPES, RULE_RECORDS, TEAM, rid, seqId, ruleRecordId, ruleRecordSteps, selfId } from '../fixture.mjs';

const coll = (shape) => `/api/collections/r_${shape}/records`;

function step(shape, caller, action, extra) {
  const tags = { shape, caller, action, ...(extra.tags || {}) };
  return { cat: 'rules', caller, method: 'GET', ...extra, tags, label: `${shape} ${action} ${extra.label} by ${caller}` };
}

export function ruleReadUnits(callers) {
  const units = [];
  for (const shape of Object.keys(SHAPES)) {
    for (const caller of callers) {
      const path = coll(shape);
      units.push([
        step(shape, caller, 'list', { label: 'sorted by id', path, query: { sort: 'id' } }),
        step(shape, caller, 'list', { label: 'filtered, expanded', path, query: { filter: 'title != "r4"', sort: '-title', expand: 'owner,team' } }),
        ...RULE_RECORDS.map((r) => step(shape, caller, 'view', { label: `r${r.n}`, path: `${path}/${ruleRecordId(shape, r.n)}` })),
        step(shape, caller, 'view', { label: 'missing', path: `${path}/${rid('missing')}` }),
      ]);
    }
  }
  return units;
}

/** Create bodies: who the record claims as owner, by every way a body can say it. */
const CREATES = {
  self: (me) => ({ enc: 'json', body: { title: 'new', owner: me, team: TEAM.red } }),
  other: () => ({ enc: 'json', body: { title: 'new', owner: ID.carol, team: TEAM.red } }),
  none: () => ({ enc: 'json', body: { title: 'new' } }),
  locked: (me) => ({ enc: 'json', body: { title: 'locked', owner: me } }),
  blueteam: (me) => ({ enc: 'json', body: { title: 'new', owner: me, team: TEAM.blue } }),
  append: (me) => ({ enc: 'json', body: { owner: me, 'owner+': ID.carol } }),
  prepend: (me) => ({ enc: 'json', body: { '+owner': ID.carol, owner: me } }),
  remove: (me) => ({ enc: 'json', body: { owner: me, 'owner-': me } }),
  array: (me) => ({ enc: 'json', body: { owner: [me, ID.carol] } }),
  arrayrev: (me) => ({ enc: 'json', body: { owner: [ID.carol, me] } }),
  repeated: (me) => ({ enc: 'form', body: { owner: [me, ID.carol] } }),
  mixed: (me) => ({ enc: 'mixed', body: { payload: { owner: me }, parts: [['owner', ID.carol]] } }),
  mixedrev: (me) => ({ enc: 'mixed', body: { payload: { owner: ID.carol }, parts: [['owner', me]] } }),
  payloadplus: (me) => ({ enc: 'mixed', body: { payload: { owner: me }, parts: [['owner+', ID.carol]] } }),
};
/** Update bodies (on a copy of a fixture record). */
const UPDATES = {
  title: () => ({ enc: 'json', body: { title: 'changed' } }),
  claim: (me) => ({ enc: 'json', body: { owner: me, title: 'mine' } }),
  locked: () => ({ enc: 'json', body: { title: 'locked' } }),
  giveaway: () => ({ enc: 'json', body: { owner: ID.carol } }),
  append: (me) => ({ enc: 'json', body: { 'owner+': me } }),
  array: (me) => ({ enc: 'json', body: { owner: [me, ID.carol] } }),
  mixed: (me) => ({ enc: 'mixed', body: { payload: { title: 'x' }, parts: [['owner', me]] } }),
  formtitle: () => ({ enc: 'form', body: { title: 'form' } }),
  team: () => ({ enc: 'json', body: { team: TEAM.blue } }),
};
/** Shapes whose create rule reads the owner: they get every create body. */
const OWNER_SHAPES = new Set(['owner', 'body', 'email']);

let counter = 0;
const nextId = (tag) => seqId(tag, counter++);

/** The JSON create bodies again, each in a batch of its own (a failing one fails its batch). */
function batchSteps(shape, caller, me) {
  return Object.entries(CREATES)
    .map(([name, make]) => [name, make(me)])
    .filter(([, { enc }]) => enc === 'json')
    .map(([name, { body }]) => step(shape, caller, 'batch', {
      label: `create ${name}`, tags: { body: name }, method: 'POST', path: '/api/batch', enc: 'json',
      body: { requests: [{ method: 'POST', url: `/api/collections/r_${shape}/records`, body: { id: nextId('rb'), ...body } }] },
    }));
}

export function ruleWriteUnits(rnd, callers) {
  const units = [];
  for (const shape of Object.keys(SHAPES)) {
    for (const caller of callers) {
      const me = selfId(caller);
      const path = coll(shape);
      const creates = OWNER_SHAPES.has(shape) ? Object.keys(CREATES) : rnd.sample(Object.keys(CREATES), 5);
      for (const name of creates) {
        const { enc, body } = CREATES[name](me);
        const id = nextId('rc');
        const withId = enc === 'mixed' ? { ...body, payload: { id, ...body.payload } } : { id, ...body };
        units.push([step(shape, caller, 'create', { label: name, tags: { body: name }, method: 'POST', path, enc, body: withId })]);
      }
      if (OWNER_SHAPES.has(shape)) units.push(...batchSteps(shape, caller, me).map((b) => [b]));
      for (const rec of RULE_RECORDS) {
        const name = rnd.pick(Object.keys(UPDATES));
        const { enc, body } = UPDATES[name](me);
        const id = nextId('ru');
        units.push([
          ...ruleRecordSteps(shape, rec, id),
          step(shape, caller, 'update', { label: `r${rec.n} ${name}`, tags: { body: name, record: rec.n }, method: 'PATCH', path: `${path}/${id}`, enc, body }),
        ]);
      }
      for (const rec of rnd.sample(RULE_RECORDS, 3)) {
        const id = nextId('rd');
        const withBody = rnd.int(4) === 0;
        units.push([
          ...ruleRecordSteps(shape, rec, id),
          step(shape, caller, 'delete', {
            label: `r${rec.n}${withBody ? ' with a body' : ''}`, tags: { record: rec.n }, method: 'DELETE', path: `${path}/${id}`,
            ...(withBody ? { enc: 'json', body: { title: 'x' } } : { enc: 'none' }),
          }),
        ]);
      }
    }
  }
  return units;
}
