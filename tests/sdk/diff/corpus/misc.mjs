// Paging and list parameters, expands that do not resolve, the collections API and health:
// the same requests by each kind of caller.
const CALLERS = ['guest', 'bob', 'superuser'];

const get = (label, path, query, caller, tags) => ({ cat: 'misc', label: `${label} by ${caller}`, method: 'GET', path, query, caller, tags: { caller, ...tags } });

export function miscUnits() {
  const units = [];
  const one = (r) => units.push([r]);
  for (const page of ['0', '1', '2', '-1', 'x']) {
    for (const perPage of ['0', '1', '5', '500', '1001', 'x']) {
      for (const skipTotal of [undefined, 'true']) {
        const query = { page, perPage, sort: 'id', fields: 'id', ...(skipTotal ? { skipTotal } : {}) };
        one(get(`items page=${page} perPage=${perPage} skipTotal=${skipTotal}`, '/api/collections/items/records', query, 'guest', { key: 'paging' }));
      }
    }
  }
  for (const caller of CALLERS) {
    for (const expand of ['nosuch', 'owner.nosuch', 'owner,owner', 'editors.items_via_owner', 'owner.items_via_owner.owner', '']) {
      one(get(`items expand=${expand}`, '/api/collections/items/records', { expand, sort: 'id', fields: 'id,expand' }, caller, { key: 'expand' }));
    }
    for (const fields of ['', '*', 'id,nosuch', 'expand.owner', 'title:excerpt(x)', 'title:excerpt(3)']) {
      one(get(`items fields=${fields}`, '/api/collections/items/records', { fields, sort: 'id', expand: 'owner' }, caller, { key: 'fields' }));
    }
    for (const sort of ['', '-', '+title', 'title,', '@random,id', 'id desc', 'title:lower,id']) {
      // Compared as sets: whether the syntax is taken, not the order of ties (or of `@random`).
      one({ ...get(`items sort=${sort}`, '/api/collections/items/records', { sort, fields: 'id' }, caller, { key: 'sort' }), unordered: true });
    }
    one(get('health', '/api/health', undefined, caller, { key: 'health' }));
    for (const name of ['accounts', 'staff', 'items', 'r_backrel', 'grants', 'nosuch', '_superusers']) {
      one(get(`collection ${name}`, `/api/collections/${name}`, undefined, caller, { key: 'collections' }));
      one(get(`records of ${name}, missing id`, `/api/collections/${name}/records/missingid000000`, undefined, caller, { key: 'missing' }));
    }
    for (const filter of ['', "name ~ 'r_'", "type = 'auth'", 'nosuch = 1']) {
      one(get(`collections filter=${filter}`, '/api/collections', { filter, sort: 'name', fields: 'name,type' }, caller, { key: 'collections' }));
    }
  }
  return units;
}
