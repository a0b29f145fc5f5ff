// The examples of the API preview, written from a collection as it is: plausible values per
// field type, an example record, request bodies, and the JS SDK and curl code of each action.
// Plain functions of (collection, ctx), no view code; api-preview.js shows them.
// ctx: {origin, signInCollection (the auth collection a sign-in example names)}.

export const RECORD_ID = 'RECORD_ID';
export const RELATION_ID = 'RELATION_RECORD_ID';
const SAMPLE_FILE = 'example.txt';

const isMulti = (f) => (f.maxSelect || 0) > 1;

/** A JS string literal (single quotes, as the SDK's docs write them). */
export const jsString = (s) => `'${String(s).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** A shell word: double quotes when nothing in it expands, else single quotes. */
export function shellWord(s) {
  const text = String(s);
  return /["$`\\!]/.test(text) ? `'${text.replace(/'/g, `'\\''`)}'` : `"${text}"`;
}

/** Whether calling under `rule` takes a token: superusers only, or a rule reading @request.auth. */
export const needsAuth = (rule) => rule === null || rule === undefined || /@request\.auth/.test(rule);

// ---- values ---------------------------------------------------------------------------

/** A 15-character id, the same for the same seed (examples do not change between renders). */
function sampleId(seed) {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let h = 2166136261;
  for (const ch of seed) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  let id = '';
  for (let i = 0; i < 15; i++) {
    h = Math.imul(h ^ (i + 1), 16777619) >>> 0;
    id += chars[h % chars.length];
  }
  return id;
}

/** `base` stretched or cut to the field's length limits (0: no limit). */
function fitLength(f, base) {
  let s = base;
  while (f.min && s.length < f.min) s += base;
  return f.max && s.length > f.max ? s.slice(0, f.max) : s;
}

function sampleNumber(f) {
  let n = 123;
  if (typeof f.max === 'number' && n > f.max) n = f.max;
  if (typeof f.min === 'number' && n < f.min) n = f.min;
  return n;
}

// One time for every example, so a record's created and updated agree.
const SAMPLE_DATE = new Date().toISOString().replace('T', ' ');

/** A plausible value of field `f` of collection `c`, as the API returns it. */
export function sampleValue(f, c) {
  switch (f.type) {
    case 'text':
      return f.name === 'id' ? sampleId(c.name) : fitLength(f, `example ${f.name}`);
    case 'editor':
      return '<p>example text</p>';
    case 'email':
      return 'test@example.com';
    case 'url':
      return 'https://example.com';
    case 'number':
      return sampleNumber(f);
    case 'bool':
      return true;
    case 'date':
    case 'autodate':
      return SAMPLE_DATE;
    case 'select': {
      const values = f.values || [];
      return isMulti(f) ? values.slice(0, Math.min(2, f.maxSelect)) : (values[0] ?? '');
    }
    case 'relation':
      return isMulti(f) ? [RELATION_ID] : RELATION_ID;
    case 'file':
      return isMulti(f) ? ['example_8f2k1m3x9q.txt'] : 'example_8f2k1m3x9q.txt';
    case 'json':
      return { key: 'value' };
    case 'geoPoint':
      return { lon: 24.94, lat: 60.17 };
    default:
      return null;
  }
}

/** A record as the API answers it: hidden fields and passwords are never in an answer. */
export function exampleRecord(c) {
  const rec = { collectionId: c.id, collectionName: c.name };
  for (const f of c.fields || []) {
    if (!f.hidden && f.type !== 'password') rec[f.name] = sampleValue(f, c);
  }
  return rec;
}

/** The password an example sends: long enough for the collection's password field. */
function samplePassword(c) {
  const field = (c.fields || []).find((f) => f.type === 'password') || {};
  return fitLength({ min: Math.max(field.min || 0, 8), max: field.max || 0 }, '12345678');
}

/**
 * The example body of a create or update: [{name, value, file}]; `file` entries are uploads.
 * Generated ids and dates are left out, and what only superusers may set (hidden fields, which
 * the API ignores from anyone else, and `verified`).
 */
export function exampleBody(c, { update = false } = {}) {
  const entries = [];
  for (const f of c.fields || []) {
    if (f.type === 'autodate' || f.type === 'password' || f.name === 'id') continue;
    if (f.hidden || (c.type === 'auth' && f.name === 'verified')) continue; // superusers only
    entries.push(f.type === 'file' ? { name: f.name, file: true, multi: isMulti(f) } : { name: f.name, value: sampleValue(f, c) });
  }
  if (c.type === 'auth' && !update) {
    const password = samplePassword(c);
    entries.push({ name: 'password', value: password }, { name: 'passwordConfirm', value: password });
  }
  return entries;
}

/** The first value an update example changes (a text-like field when there is one). */
function firstChange(c) {
  const body = exampleBody(c, { update: true }).filter((e) => !e.file);
  const textual = body.find((e) => typeof e.value === 'string') || body[0];
  return textual ? [textual] : [];
}

/** What a list example filters, sorts and expands by, from the collection's own fields. */
export function listExample(c) {
  const shown = (c.fields || []).filter((f) => !f.hidden && f.type !== 'password' && f.name !== 'id');
  const find = (pred) => shown.find(pred);
  const textual = find((f) => ['text', 'email', 'url', 'editor'].includes(f.type) || (f.type === 'select' && !isMulti(f)));
  const number = find((f) => f.type === 'number');
  const bool = find((f) => f.type === 'bool');
  let filter = 'id != ""';
  if (textual) filter = `${textual.name} != ""`;
  else if (number) filter = `${number.name} > 0`;
  else if (bool) filter = `${bool.name} = true`;
  const sort = shown.some((f) => f.name === 'created') ? '-created' : 'id';
  const expand = shown.filter((f) => f.type === 'relation').map((f) => f.name).slice(0, 2).join(',');
  return { filter, sort, expand };
}

// ---- JS SDK ---------------------------------------------------------------------------

const indentRest = (text, pad) => text.split('\n').join(`\n${pad}`);

/** JSON with 2-space indents and lists of plain values on one line (["a", "b"]). */
export function prettyJson(value) {
  return JSON.stringify(value, null, 2).replace(/\[\n\s*([^[\]{}]*?)\n\s*\]/g, (_, items) => `[${items.replace(/,\n\s*/g, ', ')}]`);
}

/** `{ key: 'value', ... }` options of an SDK call (empty values left out). */
function jsOptions(options) {
  const entries = Object.entries(options).filter(([, v]) => v !== undefined && v !== '');
  if (!entries.length) return '';
  return `{\n${entries.map(([k, v]) => `  ${k}: ${jsString(v)},`).join('\n')}\n}`;
}

/** A body object literal; uploads are `File` objects (the SDK then sends multipart). */
function jsBody(entries) {
  if (!entries.length) return '{}';
  const file = `new File(['example'], ${jsString(SAMPLE_FILE)})`;
  const lines = entries.map((e) => {
    const value = e.file ? (e.multi ? `[${file}]` : file) : indentRest(prettyJson(e.value), '  ');
    return `  ${JSON.stringify(e.name)}: ${value},`;
  });
  return `{\n${lines.join('\n')}\n}`;
}

function jsProgram(ctx, lines) {
  return [`import PocketBase from 'pocketbase';`, '', `const pb = new PocketBase(${jsString(ctx.origin)});`, '', ...lines].join('\n');
}

/** The sign-in an action's rule asks for, before the call. */
function jsSignIn(rule, ctx) {
  if (rule === null || rule === undefined) {
    return ['// superusers only: sign in as one first', `await pb.collection('_superusers').authWithPassword('SUPERUSER_EMAIL', 'SUPERUSER_PASSWORD');`, ''];
  }
  if (!needsAuth(rule)) return [];
  return ['// the rule reads @request.auth: sign in first', `await pb.collection(${jsString(ctx.signInCollection)}).authWithPassword('YOUR_EMAIL', 'YOUR_PASSWORD');`, ''];
}

const AUTH_STORE_LINES = ['', '// the token and record are now in pb.authStore', 'console.log(pb.authStore.isValid);', 'console.log(pb.authStore.record.id);'];

/** The JS SDK example of action `id` of collection `c`. */
export function jsExample(id, c, ctx) {
  const col = `pb.collection(${jsString(c.name)})`;
  const ex = listExample(c);
  const expand = ex.expand ? jsOptions({ expand: ex.expand }) : '';
  const lines = {
    list: () => [
      ...jsSignIn(c.listRule, ctx),
      '// one page: page 1, 50 records per page',
      `const resultList = await ${col}.getList(1, 50, ${jsOptions({ filter: ex.filter, sort: ex.sort })});`,
      '',
      '// or every record, fetched page after page',
      `const records = await ${col}.getFullList(${jsOptions({ sort: ex.sort })});`,
    ],
    view: () => [...jsSignIn(c.viewRule, ctx), `const record = await ${col}.getOne(${jsString(RECORD_ID)}${expand ? `, ${expand}` : ''});`],
    create: () => [...jsSignIn(c.createRule, ctx), `const data = ${jsBody(exampleBody(c))};`, '', `const record = await ${col}.create(data);`],
    update: () => [...jsSignIn(c.updateRule, ctx), `const data = ${jsBody(exampleBody(c, { update: true }))};`, '', `const record = await ${col}.update(${jsString(RECORD_ID)}, data);`],
    delete: () => [...jsSignIn(c.deleteRule, ctx), `await ${col}.delete(${jsString(RECORD_ID)});`],
    realtime: () => [
      ...jsSignIn(c.listRule, ctx),
      '// every change in the collection (the list rule decides what you receive)',
      `${col}.subscribe('*', (e) => {`,
      '  console.log(e.action, e.record);',
      '});',
      '',
      '// changes of one record (its view rule applies)',
      `${col}.subscribe(${jsString(RECORD_ID)}, (e) => {`,
      '  console.log(e.action, e.record);',
      '});',
      '',
      '// stop listening',
      `${col}.unsubscribe();`,
    ],
    batch: () => [
      '// one transaction: every request succeeds, or none is applied',
      'const batch = pb.createBatch();',
      `batch.collection(${jsString(c.name)}).create(${jsBody(exampleBody(c))});`,
      `batch.collection(${jsString(c.name)}).update(${jsString(RECORD_ID)}, ${jsBody(firstChange(c))});`,
      `batch.collection(${jsString(c.name)}).delete(${jsString(RECORD_ID)});`,
      '',
      'const results = await batch.send();',
    ],
    'auth-methods': () => [`const methods = await ${col}.listAuthMethods();`],
    'auth-with-password': () => [`const authData = await ${col}.authWithPassword('YOUR_EMAIL', 'YOUR_PASSWORD');`, ...AUTH_STORE_LINES],
    'auth-with-otp': () => [
      `// 1. mail a one-time code to the address`,
      `const { otpId } = await ${col}.requestOTP('YOUR_EMAIL');`,
      '',
      '// 2. sign in with the code from the email',
      `const authData = await ${col}.authWithOTP(otpId, 'CODE_FROM_EMAIL');`,
      ...AUTH_STORE_LINES,
    ],
    'auth-with-oauth2': () => [
      '// in a browser: opens the provider in a popup and waits for it (over realtime)',
      `const authData = await ${col}.authWithOAuth2({ provider: ${jsString(firstProvider(c))} });`,
      '',
      '// or, with the code your own redirect page received:',
      `// await ${col}.authWithOAuth2Code(${jsString(firstProvider(c))}, 'CODE', 'CODE_VERIFIER', 'REDIRECT_URL');`,
      ...AUTH_STORE_LINES,
    ],
    'auth-refresh': () => ['// needs a signed-in record of this collection (the token in pb.authStore)', `const authData = await ${col}.authRefresh();`, ...AUTH_STORE_LINES],
    verification: () => [
      `await ${col}.requestVerification('YOUR_EMAIL');`,
      '',
      '// on the page the email links to:',
      `await ${col}.confirmVerification('VERIFICATION_TOKEN');`,
    ],
    'password-reset': () => [
      `await ${col}.requestPasswordReset('YOUR_EMAIL');`,
      '',
      '// on the page the email links to:',
      `await ${col}.confirmPasswordReset('RESET_TOKEN', 'NEW_PASSWORD', 'NEW_PASSWORD');`,
    ],
    'email-change': () => [
      `await ${col}.authWithPassword('YOUR_EMAIL', 'YOUR_PASSWORD');`,
      `await ${col}.requestEmailChange('new@example.com');`,
      '',
      '// on the page the email links to (every earlier token stops working):',
      `await ${col}.confirmEmailChange('EMAIL_CHANGE_TOKEN', 'YOUR_PASSWORD');`,
    ],
  }[id];
  return jsProgram(ctx, lines());
}

const firstProvider = (c) => c.oauth2?.providers?.[0]?.name || 'google';

// ---- curl -----------------------------------------------------------------------------

/** Which token an action's rule asks for, said in the curl example ('' when none). */
function tokenFor(rule) {
  if (rule === null || rule === undefined) return "a superuser's auth token";
  return needsAuth(rule) ? "the auth token of a record the rule allows (or a superuser's)" : '';
}
const OWN_TOKEN = "the signed-in record's own auth token";

/** A JSON body as a shell word: on one line when short, else indented under the command. */
function jsonWord(json) {
  const oneLine = JSON.stringify(json);
  return shellWord(oneLine.length <= 60 ? oneLine : indentRest(prettyJson(json), '  '));
}

/** A curl command, one option a line; `token` says which token TOKEN stands for. */
function curl(method, path, ctx, { token = '', query = null, json = undefined, form = null, notes = [] } = {}) {
  const url = shellWord(ctx.origin + path);
  const parts = [query ? `curl -G ${url}` : `curl${method === 'GET' ? '' : ` -X ${method}`} ${url}`];
  if (token) parts.push(`-H ${shellWord('Authorization: TOKEN')}`);
  for (const [k, v] of Object.entries(query || {})) if (v !== '') parts.push(`--data-urlencode ${shellWord(`${k}=${v}`)}`);
  if (json !== undefined) parts.push(`-H ${shellWord('Content-Type: application/json')}`, `-d ${jsonWord(json)}`);
  for (const f of form || []) parts.push(`-F ${shellWord(f)}`);
  const comments = [...(token ? [`# TOKEN: ${token}`] : []), ...notes];
  return [...comments, parts.join(' \\\n  ')].join('\n');
}

/** -F values of a multipart body: one per array item; objects as JSON; files as @path. */
function formFields(entries) {
  return entries.flatMap((e) => {
    if (e.file) return [`${e.name}=@${SAMPLE_FILE}`];
    const values = Array.isArray(e.value) ? e.value : [e.value];
    return values.map((v) => `${e.name}=${typeof v === 'object' ? JSON.stringify(v) : v}`);
  });
}

/** A create or update body: JSON, or multipart when it uploads a file. */
function bodyOptions(entries) {
  if (!entries.some((e) => e.file)) return { json: Object.fromEntries(entries.map((e) => [e.name, e.value])) };
  return { form: formFields(entries), notes: [`# a file upload makes it multipart/form-data; ${SAMPLE_FILE} is a file in the current directory`] };
}

/** The curl example of action `id` of collection `c`. */
export function curlExample(id, c, ctx) {
  const records = `/api/collections/${c.name}/records`;
  const one = `${records}/${RECORD_ID}`;
  const base = `/api/collections/${c.name}`;
  const ex = listExample(c);
  const withoutFiles = (entries) => Object.fromEntries(entries.filter((e) => !e.file).map((e) => [e.name, e.value]));
  const commands = {
    list: () => curl('GET', records, ctx, { token: tokenFor(c.listRule), query: { page: 1, perPage: 50, filter: ex.filter, sort: ex.sort } }),
    view: () => curl('GET', one, ctx, { token: tokenFor(c.viewRule), query: ex.expand ? { expand: ex.expand } : null }),
    create: () => curl('POST', records, ctx, { token: tokenFor(c.createRule), ...bodyOptions(exampleBody(c)) }),
    update: () => curl('PATCH', one, ctx, { token: tokenFor(c.updateRule), ...bodyOptions(exampleBody(c, { update: true })) }),
    delete: () => curl('DELETE', one, ctx, { token: tokenFor(c.deleteRule) }),
    realtime: () =>
      [
        '# 1. open the event stream; its first event, PB_CONNECT, carries the clientId',
        `curl -N ${shellWord(`${ctx.origin}/api/realtime`)}`,
        '',
        '# 2. from another shell, subscribe that client to the collection',
        curl('POST', '/api/realtime', ctx, { token: tokenFor(c.listRule), json: { clientId: 'CLIENT_ID', subscriptions: [`${c.name}/*`] } }),
      ].join('\n'),
    batch: () =>
      curl('POST', '/api/batch', ctx, {
        json: {
          requests: [
            { method: 'POST', url: records, body: withoutFiles(exampleBody(c)) },
            { method: 'PATCH', url: one, body: withoutFiles(firstChange(c)) },
            { method: 'DELETE', url: one },
          ],
        },
        notes: ['# JSON bodies carry no files: send multipart with @jsonPayload for uploads (the SDK does)'],
      }),
    'auth-methods': () => curl('GET', `${base}/auth-methods`, ctx),
    'auth-with-password': () => curl('POST', `${base}/auth-with-password`, ctx, { json: { identity: 'YOUR_EMAIL', password: 'YOUR_PASSWORD' } }),
    'auth-with-otp': () =>
      [
        curl('POST', `${base}/request-otp`, ctx, { json: { email: 'YOUR_EMAIL' } }),
        '',
        '# with the otpId it answered and the code from the email:',
        curl('POST', `${base}/auth-with-otp`, ctx, { json: { otpId: 'OTP_ID', password: 'CODE_FROM_EMAIL' } }),
      ].join('\n'),
    'auth-with-oauth2': () =>
      curl('POST', `${base}/auth-with-oauth2`, ctx, { json: { provider: firstProvider(c), code: 'CODE', codeVerifier: 'CODE_VERIFIER', redirectURL: 'REDIRECT_URL' } }),
    'auth-refresh': () => curl('POST', `${base}/auth-refresh`, ctx, { token: OWN_TOKEN }),
    verification: () =>
      [curl('POST', `${base}/request-verification`, ctx, { json: { email: 'YOUR_EMAIL' } }), '', curl('POST', `${base}/confirm-verification`, ctx, { json: { token: 'VERIFICATION_TOKEN' } })].join('\n'),
    'password-reset': () =>
      [
        curl('POST', `${base}/request-password-reset`, ctx, { json: { email: 'YOUR_EMAIL' } }),
        '',
        curl('POST', `${base}/confirm-password-reset`, ctx, { json: { token: 'RESET_TOKEN', password: 'NEW_PASSWORD', passwordConfirm: 'NEW_PASSWORD' } }),
      ].join('\n'),
    'email-change': () =>
      [
        curl('POST', `${base}/request-email-change`, ctx, { token: OWN_TOKEN, json: { newEmail: 'new@example.com' } }),
        '',
        curl('POST', `${base}/confirm-email-change`, ctx, { json: { token: 'EMAIL_CHANGE_TOKEN', password: 'YOUR_PASSWORD' } }),
      ].join('\n'),
  };
  return commands[id]();
}
