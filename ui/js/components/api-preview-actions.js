// What the API preview shows for each action of a collection: its endpoints, the rule that
// guards it, query parameters, body fields, example answers and errors, the link into the live
// API docs, and both examples (api-preview-examples.js). Written from the collection as it is.
import { exampleRecord, exampleBody, jsExample, curlExample, RECORD_ID } from './api-preview-examples.js';

// ---- what each action shows -----------------------------------------------------------

export const QUERY_PARAMS = {
  page: ['Number', 'The page, from 1 (default 1).'],
  perPage: ['Number', 'Records per page (default 30, at most 1000).'],
  sort: ['String', 'Fields to order by, comma-separated; a leading "-" sorts descending (-created,id). @random and @rowid work too.'],
  filter: ['String', 'A filter expression, e.g. title ~ "abc" && created > "2024-01-01". URL-encode it (the SDK does).'],
  expand: ['String', 'Relations to include under "expand", comma-separated, dotted for nested ones (up to 6 levels). Only relations the caller may view are expanded.'],
  fields: ['String', 'Only these keys in the answer: id,title,expand.author.name; * for every key at a level; title:excerpt(200,true) cuts text.'],
  skipTotal: ['Boolean', 'Skip counting: totalItems and totalPages are -1. Faster when the totals are not needed.'],
};
const LIST_QUERY = ['page', 'perPage', 'sort', 'filter', 'expand', 'fields', 'skipTotal'];
const RECORD_QUERY = ['expand', 'fields'];
const ID_PARAM = [{ name: 'id', type: 'String', hint: "The record's id." }];

const isMulti = (f) => (f.maxSelect || 0) > 1;

function typeLabel(f) {
  const many = isMulti(f);
  if (f.type === 'number') return 'Number';
  if (f.type === 'bool') return 'Boolean';
  if (f.type === 'json') return 'JSON';
  if (f.type === 'geoPoint') return 'Object';
  if (f.type === 'file') return many ? 'Array<File>' : 'File';
  return (f.type === 'select' || f.type === 'relation') && many ? 'Array<String>' : 'String';
}

const AUTH_FIELD_HINTS = {
  email: 'The email address (an identity to sign in with).',
  emailVisibility: 'Whether others may see the email.',
  verified: 'Whether the email is verified; only superusers (or the manage rule) may set it.',
};

/** What a field takes, in a sentence. */
function fieldHint(f, c, nameOf) {
  if (c.type === 'auth' && AUTH_FIELD_HINTS[f.name]) return AUTH_FIELD_HINTS[f.name];
  if (f.hidden) return 'Hidden: only superusers may set it (ignored from anyone else).';
  const many = isMulti(f);
  const range = (unit) => (f.min || f.max ? ` (${f.min || 0}–${f.max || '∞'}${unit})` : '');
  switch (f.type) {
    case 'text':
      return f.name === 'id' ? 'Generated when left out.' : `Plain text${range(' characters')}.`;
    case 'editor':
      return 'Rich text (HTML).';
    case 'email':
      return 'An email address.';
    case 'url':
      return 'A URL.';
    case 'number':
      return `A number${f.onlyInt ? ', whole' : ''}${typeof f.min === 'number' || typeof f.max === 'number' ? ` from ${f.min ?? '-∞'} to ${f.max ?? '∞'}` : ''}.`;
    case 'bool':
      return f.required ? 'Must be true.' : 'true or false.';
    case 'date':
      return 'A date, "YYYY-MM-DD HH:MM:SS.sssZ" (UTC).';
    case 'select':
      return `${many ? `Up to ${f.maxSelect} of` : 'One of'}: ${(f.values || []).join(', ')}.`;
    case 'relation':
      return many ? `Up to ${f.maxSelect} ids of ${nameOf(f.collectionId)} records.` : `The id of a ${nameOf(f.collectionId)} record.`;
    case 'file':
      return `${many ? `Up to ${f.maxSelect} files` : 'A file'}: uploads need multipart/form-data (the SDK switches to it by itself).`;
    case 'json':
      return 'Any JSON value.';
    case 'geoPoint':
      return 'A point: {"lon": number, "lat": number}.';
    default:
      return '';
  }
}

/** The body fields of a create or update: [{name, type, required, hint}]. */
function bodyParams(c, nameOf, { update = false } = {}) {
  const rows = (c.fields || [])
    .filter((f) => f.type !== 'autodate' && f.type !== 'password' && !(c.type === 'auth' && f.name === 'tokenKey') && !(update && f.name === 'id'))
    .map((f) => ({ name: f.name, type: typeLabel(f), required: !update && !!f.required && !f.autogeneratePattern, hint: fieldHint(f, c, nameOf) }));
  if (c.type !== 'auth') return rows;
  const password = { name: 'password', type: 'String', required: !update, hint: 'The password.' };
  const confirm = { name: 'passwordConfirm', type: 'String', required: !update, hint: 'The same password again.' };
  if (!update) return [...rows, password, confirm];
  const old = { name: 'oldPassword', type: 'String', hint: 'The current password: needed to change it, unless a superuser (or the manage rule) asks.' };
  return [...rows, old, password, confirm];
}

const strings = (spec) => spec.map(([name, hint, required = true]) => ({ name, type: 'String', required, hint }));

// ---- example answers ------------------------------------------------------------------

const error = (status, message, data = {}) => ({ status, body: { status, message, data } });
const SUPERUSERS_ONLY = () => error(403, 'Only superusers can perform this action.');
const NOT_FOUND = () => error(404, "The requested resource wasn't found.");

/** A 400 of a record write: the first required field (else the first one) left blank. */
function validationError(c, action) {
  const body = exampleBody(c);
  const field = (c.fields || []).find((f) => f.required && body.some((e) => e.name === f.name))?.name || body[0]?.name || 'field';
  return error(400, `Failed to ${action} record.`, { [field]: { code: 'validation_required', message: 'Cannot be blank.' } });
}

/** The answers of a record action: 200 first, then the errors it can give. */
function recordResponses(action, c, rule) {
  const rec = exampleRecord(c);
  const locked = rule === null ? [SUPERUSERS_ONLY()] : [];
  switch (action) {
    case 'list':
      return [{ status: 200, body: { page: 1, perPage: 30, totalPages: 1, totalItems: 2, items: [rec, { ...rec }] } }, error(400, 'Something went wrong while processing your request.'), ...locked];
    case 'view':
      return [{ status: 200, body: rec }, ...locked, NOT_FOUND()];
    case 'create':
      return [{ status: 200, body: rec }, validationError(c, 'create'), ...locked];
    case 'update':
      return [{ status: 200, body: rec }, validationError(c, 'update'), ...locked, NOT_FOUND()];
    default:
      return [{ status: 204, body: null }, error(400, 'Failed to delete record.'), ...locked, NOT_FOUND()];
  }
}

function batchResponses(c) {
  const rec = exampleRecord(c);
  const failed = { code: 'batch_request_failed', message: 'Batch request failed.', response: validationError(c, 'create').body };
  return [
    { status: 200, body: [{ status: 200, body: rec }, { status: 200, body: rec }, { status: 204, body: null }] },
    error(400, 'Batch transaction failed.', { requests: { 0: failed } }),
    error(403, 'Batch requests are not allowed.'),
  ];
}

const authAnswer = (c) => ({ status: 200, body: { token: 'JWT_TOKEN', record: exampleRecord(c) } });
const noContent = (extra = []) => [{ status: 204, body: null }, error(400, 'An error occurred while validating the submitted data.', { email: { code: 'validation_required', message: 'Cannot be blank.' } }), ...extra];
const UNAUTHORIZED = () => error(401, 'The request requires valid record authorization token.');

// ---- the actions ----------------------------------------------------------------------

const DOCS = '/api/docs';
const docsLink = (tag, op) => `${DOCS}#/${encodeURIComponent(tag)}/${encodeURIComponent(op)}`;

/**
 * Where the live API docs show an action. The viewer loads the document as a guest, which lists
 * a collection's own operations only when the collection and the action are not superuser-only
 * (docs/openapi.md); otherwise the generic operation of the same route.
 */
function docsFor(c, ownOp, rule, genericTag, genericOp) {
  const listed = c.listRule != null || c.viewRule != null;
  return listed && rule !== null ? docsLink(`collection: ${c.name}`, `${ownOp}_${c.name}`) : docsLink(genericTag, genericOp);
}

function recordActions(c, nameOf) {
  const records = `/api/collections/${c.name}/records`;
  const one = `${records}/:id`;
  const action = (id, label, rule, ruleLabel, method, path, summary, extra = {}) => ({
    id,
    label,
    summary,
    endpoints: [{ method, path, ...extra }],
    rules: [{ label: ruleLabel, rule }],
    responses: recordResponses(id, c, rule),
    docs: docsFor(c, id, rule, 'Records', `${method.toLowerCase()}CollectionsCollectionRecords${path === one ? 'Id' : ''}`),
  });
  const list = action('list', 'List/Search', c.listRule, 'List rule', 'GET', records, `A page of ${c.name} records, filtered, sorted and expanded as asked.`, { query: LIST_QUERY });
  const view = action('view', 'View', c.viewRule, 'View rule', 'GET', one, `One record of ${c.name}, by its id.`, { pathParams: ID_PARAM, query: RECORD_QUERY });
  if (c.type === 'view') return [list, view];
  const bodyNote = 'Send JSON, or multipart/form-data (needed to upload files).';
  const updateNote = `${bodyNote} Modifiers: "field+" adds to a number or appends to a list, "+field" prepends, "field-" subtracts or removes values (files included).`;
  return [
    list,
    view,
    action('create', 'Create', c.createRule, 'Create rule', 'POST', records, `Creates a record in ${c.name}.`, { query: RECORD_QUERY, body: bodyParams(c, nameOf), bodyNote }),
    action('update', 'Update', c.updateRule, 'Update rule', 'PATCH', one, `Changes a record of ${c.name}: only the fields sent change.`, {
      pathParams: ID_PARAM,
      query: RECORD_QUERY,
      body: bodyParams(c, nameOf, { update: true }),
      bodyNote: updateNote,
    }),
    action('delete', 'Delete', c.deleteRule, 'Delete rule', 'DELETE', one, `Deletes a record of ${c.name} (and its files).`, { pathParams: ID_PARAM }),
  ];
}

function realtimeAction(c) {
  return {
    id: 'realtime',
    label: 'Realtime',
    summary: `Server-sent events of every create, update and delete in ${c.name}, for the whole collection ("${c.name}/*") or one record ("${c.name}/${RECORD_ID}").`,
    endpoints: [
      { method: 'GET', path: '/api/realtime', note: 'Opens the event stream; the first event, PB_CONNECT, names the clientId.' },
      { method: 'POST', path: '/api/realtime', body: [{ name: 'clientId', type: 'String', required: true, hint: 'From PB_CONNECT.' }, { name: 'subscriptions', type: 'Array<String>', required: true, hint: `Topics: "${c.name}/*" or "${c.name}/RECORD_ID" (the whole list replaces the previous one).` }] },
    ],
    rules: [
      { label: 'List rule (the whole collection)', rule: c.listRule },
      { label: 'View rule (one record)', rule: c.viewRule },
    ],
    responses: [{ status: 'event', label: 'Event data', body: { action: 'create', record: exampleRecord(c) } }],
    docs: docsLink('Realtime', 'getRealtime'),
  };
}

function batchAction(c) {
  return {
    id: 'batch',
    label: 'Batch',
    summary: 'Creates, updates, upserts and deletes records in one transaction: all of them succeed, or none is applied.',
    endpoints: [{ method: 'POST', path: '/api/batch', body: [{ name: 'requests', type: 'Array<Object>', required: true, hint: `Each {method, url, headers?, body?}: POST ${c.name} records, PATCH or DELETE /records/:id, PUT to upsert (with an id).` }] }],
    rules: [
      { label: 'Create rule', rule: c.createRule },
      { label: 'Update rule', rule: c.updateRule },
      { label: 'Delete rule', rule: c.deleteRule },
    ],
    batchSetting: true,
    responses: batchResponses(c),
    docs: docsLink('Batch', 'postBatch'),
  };
}

/** The sign-in and account actions of an auth collection, as its options enable them. */
function authActions(c) {
  const base = `/api/collections/${c.name}`;
  const post = (path, body, extra = {}) => ({ method: 'POST', path: `${base}/${path}`, body, ...extra });
  const authRule = { label: 'Auth rule (checked on the record signing in)', rule: c.authRule };
  const everyone = { label: 'Access', text: 'Everyone' };
  const ownToken = { label: 'Access', text: "The record's own auth token (Authorization header)" };
  // The collection's own operation when the docs list it, else the generic one (Auth tag).
  const docs = (flow, generic) => docsFor(c, flow.replace(/-/g, '_'), '', 'Auth', generic);
  const identities = (c.passwordAuth?.identityFields || ['email']).join(' or ');
  const failed = error(400, 'Failed to authenticate.');
  const actions = [
    {
      id: 'auth-methods',
      label: 'List auth methods',
      summary: 'The sign-in methods this collection offers (password, OTP, MFA, OAuth2 providers).',
      endpoints: [{ method: 'GET', path: `${base}/auth-methods` }],
      rules: [everyone],
      responses: [{ status: 200, body: authMethods(c) }],
      docs: docs('auth-methods', 'getCollectionsCollectionAuthMethods'),
    },
  ];
  if (c.passwordAuth?.enabled) {
    const body = strings([['identity', `The record's ${identities}.`], ['password', 'The password.']]);
    body.push({ name: 'identityField', type: 'String', hint: 'Which identity field to match (default: each in turn).' });
    actions.push({
      id: 'auth-with-password',
      label: 'Auth with password',
      summary: `Signs in a record of ${c.name} with its ${identities} and password; answers a token and the record.`,
      endpoints: [post('auth-with-password', body, { query: RECORD_QUERY })],
      rules: [authRule],
      responses: [authAnswer(c), failed],
      docs: docs('auth-with-password', 'postCollectionsCollectionAuthWithPassword'),
    });
  }
  if (c.otp?.enabled) {
    actions.push({
      id: 'auth-with-otp',
      label: 'Auth with OTP',
      summary: 'Mails a one-time code, then signs in with it.',
      endpoints: [
        post('request-otp', strings([['email', 'Where the code goes.']])),
        post('auth-with-otp', strings([['otpId', 'From request-otp.'], ['password', 'The code from the email.']]), { query: RECORD_QUERY }),
      ],
      rules: [authRule],
      responses: [{ status: 200, label: 'request-otp', body: { otpId: 'OTP_ID' } }, authAnswer(c), failed],
      docs: docs('auth-with-otp', 'postCollectionsCollectionAuthWithOtp'),
    });
  }
  if (c.oauth2?.enabled) {
    const body = strings([
      ['provider', 'A provider name from auth-methods.'],
      ['code', "The provider's authorization code."],
      ['codeVerifier', 'The PKCE verifier from auth-methods.'],
      ['redirectURL', 'The redirect URL the code was issued for.'],
    ]);
    body.push({ name: 'createData', type: 'Object', hint: 'Fields of the record created on a first sign-in.' });
    actions.push({
      id: 'auth-with-oauth2',
      label: 'Auth with OAuth2',
      summary: 'Signs in (or signs up) through an OAuth2 provider.',
      endpoints: [post('auth-with-oauth2', body, { query: RECORD_QUERY })],
      rules: [authRule],
      responses: [authAnswer(c), failed],
      docs: docs('auth-with-oauth2', 'postCollectionsCollectionAuthWithOauth2'),
    });
  }
  actions.push(
    {
      id: 'auth-refresh',
      label: 'Auth refresh',
      summary: 'A new token for the signed-in record, with the record as it is now.',
      endpoints: [post('auth-refresh', null, { query: RECORD_QUERY })],
      rules: [ownToken, authRule],
      responses: [authAnswer(c), UNAUTHORIZED()],
      docs: docs('auth-refresh', 'postCollectionsCollectionAuthRefresh'),
    },
    {
      id: 'verification',
      label: 'Verification',
      summary: 'Mails a verification link, then confirms the token it carries.',
      endpoints: [post('request-verification', strings([['email', 'The address to verify.']])), post('confirm-verification', strings([['token', 'The token from the link.']]))],
      rules: [everyone],
      responses: noContent(),
      docs: docsLink('Auth', 'postCollectionsCollectionRequestVerification'),
    },
    {
      id: 'password-reset',
      label: 'Password reset',
      summary: 'Mails a password reset link, then sets the new password with its token.',
      endpoints: [
        post('request-password-reset', strings([['email', 'The address of the record.']])),
        post('confirm-password-reset', strings([['token', 'The token from the link.'], ['password', 'The new password.'], ['passwordConfirm', 'The same again.']])),
      ],
      rules: [everyone],
      responses: noContent(),
      docs: docsLink('Auth', 'postCollectionsCollectionRequestPasswordReset'),
    },
    {
      id: 'email-change',
      label: 'Email change',
      summary: 'Mails a confirmation link to the new address; confirming it changes the email and ends every earlier session.',
      endpoints: [post('request-email-change', strings([['newEmail', 'The new address.']])), post('confirm-email-change', strings([['token', 'The token from the link.'], ['password', 'The current password.']]))],
      rules: [ownToken],
      responses: noContent([UNAUTHORIZED()]),
      docs: docsLink('Auth', 'postCollectionsCollectionRequestEmailChange'),
    },
  );
  return actions;
}

function authMethods(c) {
  return {
    password: { enabled: !!c.passwordAuth?.enabled, identityFields: c.passwordAuth?.identityFields || [] },
    oauth2: { enabled: !!c.oauth2?.enabled, providers: (c.oauth2?.providers || []).map((p) => ({ name: p.name, displayName: p.displayName || p.name, state: 'STATE', authURL: 'AUTH_URL', codeVerifier: 'CODE_VERIFIER', codeChallenge: 'CODE_CHALLENGE', codeChallengeMethod: 'S256' })) },
    mfa: { enabled: !!c.mfa?.enabled, duration: c.mfa?.duration || 0 },
    otp: { enabled: !!c.otp?.enabled, duration: c.otp?.duration || 0 },
  };
}

/** Every action of collection `c`, in the order the panel lists them, with both examples. */
export function apiActions(c, ctx) {
  const actions = [...recordActions(c, ctx.nameOf), realtimeAction(c)];
  if (c.type !== 'view') actions.push(batchAction(c));
  if (c.type === 'auth') actions.push(...authActions(c));
  return actions.map((a) => ({ ...a, js: jsExample(a.id, c, ctx), curl: curlExample(a.id, c, ctx) }));
}
