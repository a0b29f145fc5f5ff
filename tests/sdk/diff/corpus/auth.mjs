// Auth flows with right and wrong inputs, sign-ups, and self-updates of auth records.
import { ref } from '../play.mjs';
import { ID, PASSWORD, PEOPLE, rid, seqId, recordCreate } from '../fixture.mjs';

const AUTH_COLLECTIONS = ['accounts', 'staff', '_superusers', 'items', 'nosuch'];
const MISSING = Symbol('missing');
const ENCODINGS = ['json', 'form', 'payload'];

const req = (label, method, path, extra = {}) => ({
  cat: 'auth', caller: 'guest', method, path, label, tags: { flow: label.split(' ')[0], ...(extra.tags || {}) }, ...extra,
});
/** A body of named fields, leaving out those set to MISSING. */
const bodyOf = (fields) => Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== MISSING));
const show = (v) => (v === MISSING ? 'missing' : JSON.stringify(v));
const path = (coll, action) => `/api/collections/${coll}/${action}`;

export function authFlowUnits(rnd) {
  const units = [];
  const one = (r) => units.push([r]);

  const identities = [PEOPLE.alice.email, 'ALICE@example.com', 'alice', PEOPLE.sam.email, 'unknown@example.com', '', MISSING, 123, ' alice@example.com'];
  const passwords = [PASSWORD, 'wrong-password', '', MISSING];
  for (const coll of AUTH_COLLECTIONS) {
    for (const identity of identities) {
      for (const password of passwords) {
        const enc = rnd.pick(ENCODINGS);
        one(req(`auth-with-password ${coll} identity=${show(identity)} password=${show(password)} as ${enc}`, 'POST',
          path(coll, 'auth-with-password'), { enc, body: bodyOf({ identity, password }), tags: { coll } }));
      }
    }
  }
  for (const identityField of ['username', 'email', 'name', '']) {
    one(req(`auth-with-password accounts identityField=${identityField}`, 'POST', path('accounts', 'auth-with-password'),
      { body: { identity: 'alice', password: PASSWORD, identityField } }));
  }
  for (const coll of ['accounts', 'staff', '_superusers', 'items']) {
    for (const caller of ['guest', 'alice', 'sam', 'superuser']) {
      one(req(`auth-refresh ${coll} by ${caller}`, 'POST', path(coll, 'auth-refresh'), { caller, tags: { coll } }));
    }
    for (const token of ['garbage', 'Bearer garbage', 'a.b.c', '']) {
      one(req(`auth-refresh ${coll} with token ${token}`, 'POST', path(coll, 'auth-refresh'), { headers: { authorization: token }, tags: { coll } }));
    }
  }
  const emails = [PEOPLE.alice.email, PEOPLE.bob.email, 'BOB@example.com', 'unknown@example.com', 'bad', '', MISSING, 123];
  for (const action of ['request-verification', 'request-password-reset', 'request-otp']) {
    for (const coll of ['accounts', 'staff', '_superusers', 'items', 'nosuch']) {
      for (const email of emails) {
        const enc = rnd.pick(['json', 'form']);
        one(req(`${action} ${coll} email=${show(email)} as ${enc}`, 'POST', path(coll, action), { enc, body: bodyOf({ email }), tags: { coll } }));
      }
    }
  }
  for (const caller of ['guest', 'alice', 'bob', 'sam', 'superuser']) {
    for (const newEmail of ['new@example.com', PEOPLE.carol.email, 'bad', '', MISSING]) {
      one(req(`request-email-change accounts newEmail=${show(newEmail)} by ${caller}`, 'POST', path('accounts', 'request-email-change'),
        { caller, body: bodyOf({ newEmail }) }));
    }
  }
  const tokens = { missing: MISSING, empty: '', garbage: 'garbage', auth: ref('$tokens', 'bob') };
  for (const [name, token] of Object.entries(tokens)) {
    one(req(`confirm-verification token=${name}`, 'POST', path('accounts', 'confirm-verification'), { body: bodyOf({ token }) }));
    one(req(`confirm-email-change token=${name}`, 'POST', path('accounts', 'confirm-email-change'), { body: bodyOf({ token, password: PASSWORD }) }));
    for (const [pw, confirm] of [[PASSWORD, PASSWORD], ['newpass12345', 'other12345678'], [MISSING, MISSING], ['short', 'short']]) {
      one(req(`confirm-password-reset token=${name} password=${show(pw)} confirm=${show(confirm)}`, 'POST', path('accounts', 'confirm-password-reset'),
        { body: bodyOf({ token, password: pw, passwordConfirm: confirm }) }));
    }
  }
  for (const body of [{ otpId: 'nosuch', password: '123456' }, { otpId: '', password: '' }, {}, { otpId: 'nosuch' }]) {
    one(req(`auth-with-otp ${JSON.stringify(body)}`, 'POST', path('accounts', 'auth-with-otp'), { body }));
  }
  for (const body of [{ provider: 'google', code: 'x', codeVerifier: 'y', redirectURL: 'http://127.0.0.1/cb' }, { provider: 'nosuch', code: 'x' }, {}]) {
    one(req(`auth-with-oauth2 ${JSON.stringify(body)}`, 'POST', path('accounts', 'auth-with-oauth2'), { body }));
  }
  for (const coll of AUTH_COLLECTIONS) {
    for (const caller of ['guest', 'superuser']) one(req(`auth-methods ${coll} by ${caller}`, 'GET', path(coll, 'auth-methods'), { caller }));
  }
  for (const caller of ['guest', 'alice', 'bob', 'superuser']) {
    for (const [target, coll] of [[ID.alice, 'accounts'], [rid('nosuch'), 'accounts'], [ID.sam, 'staff'], [ID.alice, 'items']]) {
      one(req(`impersonate ${coll}/${target} by ${caller}`, 'POST', path(coll, `impersonate/${target}`), { caller, body: { duration: 100 } }));
    }
  }
  return units;
}

let counter = 0;

/** Sign-ups on `accounts` with right and wrong fields, by guests and superusers, in every encoding. */
export function signupUnits() {
  const units = [];
  const signups = {
    ok: (n) => ({ email: `${n}@example.com`, password: PASSWORD, passwordConfirm: PASSWORD, username: n }),
    noconfirm: (n) => ({ email: `${n}@example.com`, password: PASSWORD }),
    mismatch: (n) => ({ email: `${n}@example.com`, password: PASSWORD, passwordConfirm: 'other1234567' }),
    short: (n) => ({ email: `${n}@example.com`, password: 'short', passwordConfirm: 'short' }),
    nopassword: (n) => ({ email: `${n}@example.com` }),
    numeric: (n) => ({ email: `${n}@example.com`, password: 12345678901, passwordConfirm: 12345678901 }),
    dupemail: () => ({ email: PEOPLE.alice.email, password: PASSWORD, passwordConfirm: PASSWORD }),
    dupusername: (n) => ({ email: `${n}@example.com`, password: PASSWORD, passwordConfirm: PASSWORD, username: 'alice' }),
    bademail: () => ({ email: 'not-an-email', password: PASSWORD, passwordConfirm: PASSWORD }),
    noemail: () => ({ password: PASSWORD, passwordConfirm: PASSWORD }),
    verified: (n) => ({ email: `${n}@example.com`, password: PASSWORD, passwordConfirm: PASSWORD, verified: true }),
    visible: (n) => ({ email: `${n}@example.com`, password: PASSWORD, passwordConfirm: PASSWORD, emailVisibility: true, secretnote: 'x' }),
    tokenkey: (n) => ({ email: `${n}@example.com`, password: PASSWORD, passwordConfirm: PASSWORD, tokenKey: `chosen-token-key-${n}` }),
    // The password field with modifiers (it takes none).
    passwordplus: (n) => ({ email: `${n}@example.com`, 'password+': PASSWORD, passwordConfirm: PASSWORD }),
    pluspassword: (n) => ({ email: `${n}@example.com`, '+password': PASSWORD, passwordConfirm: PASSWORD }),
    passwordminus: (n) => ({ email: `${n}@example.com`, password: PASSWORD, 'password-': PASSWORD, passwordConfirm: PASSWORD }),
  };
  // Once per caller (what they take can be taken once): an id used in another auth collection,
  // an existing email in other letter case.
  const once = {
    twinid: (n, caller) => ({ id: caller === 'guest' ? ID.sam : ID.tom, email: `${n}@example.com`, password: PASSWORD, passwordConfirm: PASSWORD }),
    dupemailcase: (n, caller) => ({ email: caller === 'guest' ? 'ALICE@example.com' : 'Carol@Example.com', password: PASSWORD, passwordConfirm: PASSWORD }),
  };
  for (const [name, make] of [...Object.entries(signups), ...Object.entries(once)]) {
    for (const caller of ['guest', 'superuser']) {
      for (const enc of name in once ? ['json'] : ENCODINGS) {
        const n = `su${(counter++).toString(36).padStart(4, '0')}`;
        const body = { id: rid(n), ...make(n, caller) };
        units.push([req(`signup ${name} by ${caller} as ${enc}`, 'POST', '/api/collections/accounts/records',
          { caller, enc, body, tags: { flow: 'signup', body: name } })]);
      }
    }
  }
  return units;
}

/** Updates of an auth record (a fresh one per unit) by itself, another user and a superuser. */
export function selfUpdateUnits(rnd) {
  const units = [];
  const updates = {
    email: () => ({ email: `changed${counter++}@example.com` }),
    verified: () => ({ verified: true }),
    unverify: () => ({ verified: false }),
    password: () => ({ password: 'newpass12345', passwordConfirm: 'newpass12345' }),
    passwordold: () => ({ password: 'newpass12345', passwordConfirm: 'newpass12345', oldPassword: PASSWORD }),
    passwordwrongold: () => ({ password: 'newpass12345', passwordConfirm: 'newpass12345', oldPassword: 'wrong-old-password' }),
    passwordnoconfirm: () => ({ password: 'newpass12345', oldPassword: PASSWORD }),
    visibility: () => ({ emailVisibility: true }),
    name: () => ({ name: 'Renamed' }),
    tokenkey: () => ({ tokenKey: `chosen-token-key-${counter++}` }),
    username: () => ({ username: 'alice' }),
    id: () => ({ id: seqId('moved', counter++) }),
  };
  for (const [name, make] of Object.entries(updates)) {
    for (const caller of ['@self', 'bob', 'superuser']) {
      const n = `sx${(counter++).toString(36).padStart(4, '0')}`;
      const id = rid(n);
      const enc = rnd.pick(ENCODINGS);
      const steps = [recordCreate('accounts', { id, email: `${n}@example.com`, password: PASSWORD, passwordConfirm: PASSWORD, name: n, verified: false })];
      if (caller === '@self') {
        steps.push({ ...req(`auth-with-password as ${n}`, 'POST', path('accounts', 'auth-with-password'), { body: { identity: `${n}@example.com`, password: PASSWORD } }), cat: 'setup', save: 'self' });
      }
      steps.push(req(`self-update ${name} by ${caller} as ${enc}`, 'PATCH', `/api/collections/accounts/records/${id}`,
        { caller, enc, body: make(), tags: { flow: 'self-update', body: name, caller } }));
      units.push(steps);
    }
  }
  return units;
}
