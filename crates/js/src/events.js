// Hook registration (the loader runtime records what the files register; `__registry`) and
// the events handlers receive (the executor runtimes; `__run`). Handlers cross from the loader
// to the executors as source text, as in PocketBase: a handler sees globals, not the
// variables around it in its file.
"use strict";

(function (g) {
  const call = g.__call;

  // ---------------------------------------------------------------- registration (loader)

  const registry = [];
  g.__registry = registry;

  function source(fn, what) {
    if (typeof fn === "function") return fn.toString();
    if (typeof fn === "string") return fn;
    throw new TypeError(what + " must be a function");
  }
  function middleware(m) {
    if (m instanceof g.Middleware || (m && m.__mw)) return m.__mw;
    return { src: source(m, "middleware"), priority: 0, id: "" };
  }

  g.__loader = function () {
    g.routerAdd = (method, path, handler, ...middlewares) => {
      registry.push({
        kind: "route",
        method: String(method).toUpperCase(),
        path: String(path),
        handler: source(handler, "routerAdd handler"),
        middlewares: middlewares.flat().map(middleware),
      });
    };
    g.routerUse = (...middlewares) => {
      registry.push({ kind: "use", middlewares: middlewares.flat().map(middleware) });
    };
    g.cronAdd = (id, expr, handler) => {
      registry.push({ kind: "cron", id: String(id), expr: String(expr), handler: source(handler, "cronAdd handler") });
    };
    g.cronRemove = (id) => {
      registry.push({ kind: "cronRemove", id: String(id) });
    };
    for (const name of HOOKS) {
      g[name] = (handler, ...tags) => {
        registry.push({ kind: "hook", name, tags: tags.flat().map(String), handler: source(handler, name + " handler") });
      };
    }
  };

  // Every hook PocketBase's JS API names; the core fires the ones listed in `hooks.rs`.
  const HOOKS = [
    "onBootstrap",
    "onServe",
    "onTerminate",
    "onBackupCreate",
    "onBackupRestore",
    "onSettingsReload",
    "onMailerSend",
    "onMailerRecordAuthAlertSend",
    "onMailerRecordPasswordResetSend",
    "onMailerRecordVerificationSend",
    "onMailerRecordEmailChangeSend",
    "onMailerRecordOTPSend",
    "onRealtimeConnectRequest",
    "onRealtimeSubscribeRequest",
    "onRealtimeMessageSend",
    "onRecordEnrich",
    "onRecordValidate",
    "onRecordCreate",
    "onRecordCreateExecute",
    "onRecordAfterCreateSuccess",
    "onRecordAfterCreateError",
    "onRecordUpdate",
    "onRecordUpdateExecute",
    "onRecordAfterUpdateSuccess",
    "onRecordAfterUpdateError",
    "onRecordDelete",
    "onRecordDeleteExecute",
    "onRecordAfterDeleteSuccess",
    "onRecordAfterDeleteError",
    "onRecordsListRequest",
    "onRecordViewRequest",
    "onRecordCreateRequest",
    "onRecordUpdateRequest",
    "onRecordDeleteRequest",
    "onRecordAuthRequest",
    "onRecordAuthWithPasswordRequest",
    "onRecordAuthWithOAuth2Request",
    "onRecordAuthRefreshRequest",
    "onRecordRequestPasswordResetRequest",
    "onRecordConfirmPasswordResetRequest",
    "onRecordRequestVerificationRequest",
    "onRecordConfirmVerificationRequest",
    "onRecordRequestEmailChangeRequest",
    "onRecordConfirmEmailChangeRequest",
    "onRecordRequestOTPRequest",
    "onRecordAuthWithOTPRequest",
    "onCollectionValidate",
    "onCollectionCreate",
    "onCollectionCreateExecute",
    "onCollectionAfterCreateSuccess",
    "onCollectionAfterCreateError",
    "onCollectionUpdate",
    "onCollectionUpdateExecute",
    "onCollectionAfterUpdateSuccess",
    "onCollectionAfterUpdateError",
    "onCollectionDelete",
    "onCollectionDeleteExecute",
    "onCollectionAfterDeleteSuccess",
    "onCollectionAfterDeleteError",
    "onCollectionsListRequest",
    "onCollectionViewRequest",
    "onCollectionCreateRequest",
    "onCollectionUpdateRequest",
    "onCollectionDeleteRequest",
    "onCollectionsImportRequest",
    "onFileDownloadRequest",
    "onFileTokenRequest",
    "onBatchRequest",
    "onSettingsListRequest",
    "onSettingsUpdateRequest",
  ];

  // ---------------------------------------------------------------- the request event

  class Values {
    constructor(map) {
      this.__m = map || {};
    }
    get(k) {
      const v = this.__m[k];
      return v && v.length ? v[0] : "";
    }
    values(k) {
      return this.__m[k] || [];
    }
    has(k) {
      return k in this.__m;
    }
    encode() {
      return Object.keys(this.__m)
        .sort()
        .map((k) => this.__m[k].map((v) => encodeURIComponent(k) + "=" + encodeURIComponent(v)).join("&"))
        .join("&");
    }
  }
  // Header names are canonical in Go (`X-Token`); lookups ignore case.
  class Header extends Values {
    get(k) {
      return super.get(String(k).toLowerCase());
    }
    values(k) {
      return super.values(String(k).toLowerCase());
    }
    has(k) {
      return super.has(String(k).toLowerCase());
    }
  }
  class ResponseHeader {
    constructor(out) {
      this.__out = out;
    }
    set(k, v) {
      this.__out[String(k).toLowerCase()] = [String(v)];
    }
    add(k, v) {
      (this.__out[String(k).toLowerCase()] = this.__out[String(k).toLowerCase()] || []).push(String(v));
    }
    get(k) {
      const v = this.__out[String(k).toLowerCase()];
      return v && v.length ? v[0] : "";
    }
    del(k) {
      delete this.__out[String(k).toLowerCase()];
    }
  }

  // Properties computed on first read and kept (assignable, as plain fields are): a route's
  // request is described only when its handler reads more than its path values.
  function lazy(cls, table) {
    for (const k of Object.keys(table)) {
      const own = (o, v) => Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
      Object.defineProperty(cls.prototype, k, {
        get() {
          const v = table[k](this);
          own(this, v);
          return v;
        },
        set(v) {
          own(this, v);
        },
        configurable: true,
      });
    }
  }

  // The request's description: a route's comes from Rust when first needed (`lazy`).
  function described(spec) {
    if (spec.lazy) {
      const params = spec.pathParams;
      Object.assign(spec, call("request.describe", null));
      spec.pathParams = params;
      spec.lazy = false;
    }
    return spec;
  }

  class Request {
    constructor(spec) {
      this.__spec = spec;
    }
    get __r() {
      return described(this.__spec);
    }
    pathValue(name) {
      const v = this.__spec.pathParams[name];
      return v === undefined ? "" : v;
    }
    setPathValue(name, value) {
      this.__spec.pathParams[name] = String(value);
    }
    cookie(name) {
      const v = this.__r.cookies[name];
      if (v === undefined) throw new Error("http: named cookie not present");
      return { name, value: v };
    }
    cookies() {
      return Object.entries(this.__r.cookies).map(([name, value]) => ({ name, value }));
    }
    userAgent() {
      return this.header.get("user-agent");
    }
    referer() {
      return this.header.get("referer");
    }
  }

  lazy(Request, {
    method: (q) => q.__r.method,
    host: (q) => q.__r.host,
    remoteAddr: (q) => q.__r.remoteAddr,
    requestURI: (q) => q.__r.uri,
    header: (q) => new Header(q.__r.headers),
    url: (q) => {
      const r = q.__r;
      const query = new Values(r.query);
      return {
        path: r.path,
        rawQuery: r.rawQuery,
        host: r.host,
        scheme: r.scheme,
        query: () => query,
        string: () => r.uri,
        toString: () => r.uri,
      };
    },
  });

  // Go's JSON encoder escapes HTML characters; the body is re-encoded in Rust, which does.
  class RequestEvent {
    constructor(spec) {
      this.__spec = spec;
      this.app = g.$app;
      this.__headers = {};
      this.__out = null;
      this.__store = {};
    }
    get __r() {
      return described(this.__spec);
    }
    next() {
      return this.__next();
    }
    __write(status, contentType, body, extra) {
      // Once the built-in route answered (`e.next()`), that answer stands.
      if (this.__out || this.__inner) return;
      if (contentType && !this.__headers["content-type"]) this.__headers["content-type"] = [contentType];
      this.__out = Object.assign({ status: Number(status) || 200, body }, extra || {});
    }
    written() {
      return !!this.__out;
    }
    status() {
      return this.__out ? this.__out.status : 0;
    }
    json(status, data) {
      this.__write(status, "application/json", data === undefined ? "null" : JSON.stringify(data), { json: true });
    }
    string(status, s) {
      this.__write(status, "text/plain; charset=utf-8", String(s));
    }
    html(status, s) {
      this.__write(status, "text/html; charset=utf-8", String(s));
    }
    xml(status, s) {
      this.__write(status, "application/xml; charset=utf-8", typeof s === "string" ? s : String(s));
    }
    blob(status, contentType, bytes) {
      this.__write(status, String(contentType), g.toString(bytes));
    }
    noContent(status) {
      this.__write(status, "", "");
    }
    redirect(status, url) {
      status = Number(status);
      if (status < 300 || status > 399) throw new Error("invalid redirect status code");
      this.__headers.location = [String(url)];
      this.__write(status, "", "");
    }
    setCookie(c) {
      let s = c.name + "=" + c.value;
      if (c.path) s += "; Path=" + c.path;
      if (c.domain) s += "; Domain=" + c.domain;
      if (c.maxAge) s += "; Max-Age=" + c.maxAge;
      if (c.secure) s += "; Secure";
      if (c.httpOnly) s += "; HttpOnly";
      if (c.sameSite) s += "; SameSite=" + ["", "Default", "Lax", "Strict", "None"][c.sameSite];
      (this.__headers["set-cookie"] = this.__headers["set-cookie"] || []).push(s);
    }
    isTLS() {
      return this.__r.scheme === "https";
    }
    remoteIP() {
      return this.__r.remoteIP;
    }
    realIP() {
      return this.__r.realIP;
    }
    hasSuperuserAuth() {
      return !!(this.auth && this.auth.isSuperuser());
    }
    get(k) {
      return this.__store[k];
    }
    set(k, v) {
      this.__store[k] = v;
    }
    getAll() {
      return this.__store;
    }
    setAll(m) {
      Object.assign(this.__store, m);
    }
    requestInfo() {
      const r = this.__r;
      if (r.info.bodyError) throw new Error("invalid request body");
      return {
        query: r.info.query,
        headers: r.info.headers,
        body: r.info.body,
        auth: this.auth,
        method: r.method,
        context: "default",
        hasSuperuserAuth: () => this.hasSuperuserAuth(),
        clone: function () {
          return Object.assign({}, this);
        },
      };
    }
    bindBody(dst) {
      if (this.__r.info.bodyError) throw new Error("invalid request body");
      const body = this.__r.info.body || {};
      if (dst instanceof g.DynamicModel) {
        // As Go's JSON decoder fills a typed struct: a value of another type fails the bind.
        for (const k of Object.keys(dst.__shape)) {
          if (!(k in body)) continue;
          const z = dst.__shape[k];
          const v = body[k];
          const kind = (x) => (x === null ? "null" : Array.isArray(x) ? "array" : typeof x);
          if (v !== null && z !== null && kind(z) !== "object" && kind(z) !== kind(v)) {
            throw new Error("json: cannot unmarshal " + kind(v) + " into field " + k + " of type " + kind(z));
          }
          dst[k] = v;
        }
        return dst;
      }
      return Object.assign(dst, body);
    }
    findUploadedFiles(key) {
      const list = this.__r.uploads ? call("request.files", { token: this.__r.uploads, key: String(key) }) : [];
      if (!list || !list.length) throw new Error("http: no such file");
      return list.map((f) => new g.__File(f));
    }
    error(status, message, data) {
      return new g.ApiError(status, message, data);
    }
    badRequestError(m, d) {
      return new g.BadRequestError(m, d);
    }
    notFoundError(m, d) {
      return new g.NotFoundError(m, d);
    }
    forbiddenError(m, d) {
      return new g.ForbiddenError(m, d);
    }
    unauthorizedError(m, d) {
      return new g.UnauthorizedError(m, d);
    }
    tooManyRequestsError(m, d) {
      return new g.TooManyRequestsError(m, d);
    }
    internalServerError(m, d) {
      return new g.InternalServerError(m, d);
    }
  }
  lazy(RequestEvent, {
    auth: (e) => {
      const r = e.__r;
      return r.auth ? g.Record.__from(r.auth.collection, r.auth.record) : null;
    },
    request: (e) => new Request(e.__spec),
    response: (e) => ({ header: () => new ResponseHeader(e.__headers) }),
  });
  g.RequestEvent = RequestEvent;

  // ---------------------------------------------------------------- the built-in middlewares

  const NATIVE = {
    requireAuth: (e, collections) => {
      if (!e.auth) throw new g.UnauthorizedError("The request requires valid record authorization token.");
      const names = collections.flat();
      if (names.length && !names.includes(e.auth.collection().name)) {
        throw new g.ForbiddenError("The authorized record is not allowed to perform this action.");
      }
      return e.next();
    },
    requireSuperuserAuth: (e) => {
      if (!e.auth) throw new g.UnauthorizedError("The request requires valid record authorization token.");
      if (!e.auth.isSuperuser()) throw new g.ForbiddenError("The authorized record is not allowed to perform this action.");
      return e.next();
    },
    requireSuperuserOrOwnerAuth: (e, [param]) => {
      if (!e.auth) throw new g.UnauthorizedError("The request requires superuser or record authorization token.");
      if (e.auth.isSuperuser()) return e.next();
      const id = e.request.pathValue(param || "id");
      if (!id || e.auth.id !== id) throw new g.ForbiddenError("You are not allowed to perform this request.");
      return e.next();
    },
    requireGuestOnly: (e) => {
      if (e.auth) throw new g.BadRequestError("The request can be accessed only by guests.");
      return e.next();
    },
    bodyLimit: (e, [limit]) => {
      if (limit > 0 && e.__r.bodySize > limit) throw new g.ApiError(413, "Request entity too large");
      return e.next();
    },
    // The body is compressed on the way out when the client accepts it (Rust side).
    gzip: (e) => {
      e.__r.gzip = true;
      return e.next();
    },
    skip: (e) => e.next(),
  };

  // ---------------------------------------------------------------- running (executors)

  // `spec`: {chain: [{fn}|{native, args}], request}; the chain is sorted by priority already.
  g.__runRoute = function (fns, specJson) {
    const spec = JSON.parse(specJson);
    const e = new RequestEvent(spec.request);
    const chain = spec.chain;
    let i = 0;
    e.__next = () => {
      const step = chain[i++];
      if (!step) return;
      if (step.native) return NATIVE[step.native](e, step.args || []);
      if (step.inner) {
        call("next", { changes: {} });
        e.__inner = true;
        return;
      }
      return fns[step.fn](e);
    };
    let thrown = null;
    try {
      const r = e.__next();
      if (r instanceof Error) thrown = r;
    } catch (err) {
      thrown = caughtError(err);
    }
    return JSON.stringify(finish(e, thrown));
  };

  function finish(e, thrown) {
    const out = { headers: e.__headers, gzip: !!(e.__spec && e.__spec.gzip), inner: !!e.__inner };
    if (thrown) {
      out.error = describe(thrown);
      return out;
    }
    if (e.__out) Object.assign(out, e.__out);
    return out;
  }

  // What a handler threw. QuickJS throws `null` when it cannot even allocate its
  // out-of-memory error: that is the runtime's failure too.
  function caughtError(err) {
    return err === null || err === undefined ? new InternalError("out of memory") : err;
  }

  // A thrown value as the error body it answers with. PocketBase: an ApiError as it is; any
  // other error is a 400 (or a 404 for "no rows"), its text logged but not sent.
  function describe(err) {
    // QuickJS's own failures (out of memory, stack overflow) are the runtime's, not the
    // handler's: a 500, and the runtime is not lent again.
    if (err instanceof InternalError) {
      g.__fatal = true;
      return { status: 500, message: "Something went wrong while processing your request.", data: {}, detail: String(err), stack: err.stack || "", fatal: true };
    }
    if (err instanceof g.ApiError) {
      if (err.noRows) return { status: 404, message: "The requested resource wasn't found.", data: {}, detail: err.message };
      return { status: err.status, message: err.message, data: err.data };
    }
    const text = err instanceof Error ? err.name + ": " + err.message : String(err);
    const stack = err instanceof Error && err.stack ? err.stack : "";
    return { status: 400, message: "Something went wrong while processing your request.", data: {}, detail: text, stack };
  }
  g.__describe = describe;

  // ---------------------------------------------------------------- event hooks

  // `spec`: {chain: [fn indexes], terminal, event: {...}, http?: request}. `terminal` is what
  // the last `e.next()` does: "proceed" (the core carries on after the hooks return),
  // "inner" (the built-in route answers, with the record's changes), or "respond" (write the
  // event's result: list, view, auth).
  g.__runHook = function (fns, specJson) {
    const spec = JSON.parse(specJson);
    const ev = spec.event || {};
    const e = spec.http ? new RequestEvent(spec.http) : new BaseEvent();
    if (ev.collection) e.collection = g.__collectionOf(ev.collection);
    // A model hook inside its write's transaction: `e.app` is the transactional app.
    if (ev.tx) e.app = new g.__App(1);
    const output = spec.terminal === "respond";
    const recordOf = (data) => (output ? g.Record.__fromOutput(e.collection, data) : g.Record.__from(e.collection, data));
    if (ev.record) {
      e.record = recordOf(ev.record);
      if (ev.isNew) e.record.__original = null;
      else if (ev.original) e.record.__original = ev.original;
      if (ev.body) e.record.load(ev.body);
    }
    if (ev.records) e.records = ev.records.map(recordOf);
    if (ev.collections) e.collections = ev.collections.map((c) => new g.Collection(c));
    if (ev.error) e.error = ev.error;
    if (ev.message) e.message = new g.MailerMessage(ev.message);
    for (const k of ["identity", "password"]) if (k in ev) e[k] = ev[k];
    if (ev.result) e.result = ev.result;
    // Plain fields of the event (a backup's `name`, realtime `subscriptions`...).
    if (ev.fields) Object.assign(e, ev.fields);
    if (ev.client) e.client = realtimeClient(ev.client);
    if (typeof e.fileField === "string" && e.collection) e.fileField = e.collection.fields.getByName(e.fileField);
    for (const k of ["token", "meta", "authMethod", "settings"]) if (k in ev) e[k] = ev[k];
    const initial = e.record ? JSON.stringify(e.record.__data) : e.collection ? JSON.stringify(e.collection) : "";
    const chain = spec.chain;
    let i = 0;
    let proceeded = false;
    e.next = () => {
      if (i < chain.length) return fns[chain[i++]](e);
      if (proceeded) return;
      proceeded = true;
      return terminal(e, spec.terminal, initial, spec.carry);
    };
    let thrown = null;
    try {
      const r = e.next();
      if (r instanceof Error) thrown = r;
    } catch (err) {
      thrown = caughtError(err);
    }
    const out = finish(e, thrown);
    out.proceeded = proceeded;
    if (e.record) out.record = e.record.__data;
    if (e.message) out.message = JSON.parse(JSON.stringify(e.message));
    if (spec.carry) {
      out.fields = {};
      for (const k of spec.carry) out.fields[k] = e[k] === undefined ? null : JSON.parse(JSON.stringify(e[k]));
    }
    return JSON.stringify(out);
  };

  class BaseEvent {
    constructor() {
      this.app = g.$app;
      this.__headers = {};
      this.__r = {};
      this.__spec = {};
      this.__store = {};
    }
    get(k) {
      return this.__store[k];
    }
    set(k, v) {
      this.__store[k] = v;
    }
  }

  function changes(record, initial) {
    const before = initial ? JSON.parse(initial) : {};
    const out = {};
    for (const k of Object.keys(record.__data)) {
      if (JSON.stringify(record.__data[k]) !== JSON.stringify(before[k])) {
        const v = record.__data[k];
        out[k] = v && typeof v === "object" && "__plain" in v ? v.__plain : v;
      }
    }
    return out;
  }

  // A realtime client as PocketBase's `subscriptions.Client` shows it to hooks.
  function realtimeClient(c) {
    const topics = c.topics || [];
    return {
      id: () => c.id,
      subscriptions: (...prefixes) => {
        const out = {};
        for (const t of topics) if (!prefixes.length || prefixes.some((p) => t.startsWith(p))) out[t] = {};
        return out;
      },
      hasSubscription: (t) => topics.includes(t),
      isDiscarded: () => false,
    };
  }

  function terminal(e, kind, initial, carry) {
    if (kind === "innerSubscriptions") {
      // POST /api/realtime with the subscriptions the hooks left.
      const subscriptions = (e.subscriptions || []).map(String);
      call("next", { changes: { subscriptions } });
      e.__inner = true;
      return;
    }
    if (kind === "native") {
      // The core's operation, with the event's fields the hooks may have changed.
      const state = {};
      // A record goes as its values (a password set from JS as `{__plain}`, hashed natively).
      for (const k of carry || []) state[k] = k === "record" && e.record ? e.record.__data : e[k];
      // A definition goes back only if the hooks changed it (the core prepares it again).
      if (state.collection !== undefined && JSON.stringify(state.collection) === initial) delete state.collection;
      const out = call("terminal", state);
      if (out && typeof out === "object") Object.assign(e, out);
      return;
    }
    if (kind === "innerSettings") {
      // PocketBase saves `e.newSettings` whole.
      call("next", { replace: JSON.parse(JSON.stringify(e.newSettings || {})) });
      e.__inner = true;
      return;
    }
    if (kind === "innerBatch") {
      // The batch runs as the hooks left `e.batch` (a request's unset parts left out).
      const requests = (e.batch || []).map((r) => {
        const out = {};
        for (const k of ["method", "url", "headers", "body"]) if (r && r[k] !== null && r[k] !== undefined) out[k] = r[k];
        return out;
      });
      call("next", { changes: { requests: JSON.parse(JSON.stringify(requests)) } });
      e.__inner = true;
      return;
    }
    if (kind === "innerFile") {
      call("next", { changes: {}, served: { path: String(e.servedPath), name: String(e.servedName) } });
      e.__inner = true;
      return;
    }
    if (kind === "innerCollection") {
      // A changed definition is sent on whole, as PocketBase saves `e.collection`.
      const now = e.collection ? JSON.stringify(e.collection) : "";
      const answer = call("next", now && now !== initial ? { replace: JSON.parse(now) } : { changes: {} });
      e.__inner = true;
      if (answer.status >= 200 && answer.status < 300 && answer.json && typeof answer.json === "object") {
        e.collection = new g.Collection(answer.json);
      }
      return;
    }
    if (kind === "inner") {
      const answer = call("next", { changes: e.record ? changes(e.record, initial) : {} });
      e.__inner = true;
      if (answer.status >= 200 && answer.status < 300 && answer.json && typeof answer.json === "object" && e.record) {
        e.record = g.Record.__fromOutput(e.collection, answer.json);
      }
      return;
    }
    if (kind === "respond") {
      if (e.settings !== undefined) return e.json(200, e.settings);
      if (e.records !== undefined) return e.json(200, Object.assign({}, e.result, { items: e.records }));
      if (e.collections !== undefined) return e.json(200, Object.assign({}, e.result, { items: e.collections }));
      if (e.record === undefined && e.collection) return e.json(200, e.collection);
      if (e.token !== undefined) {
        const body = { token: e.token, record: e.record };
        if (e.meta !== undefined && e.meta !== null) body.meta = e.meta;
        return e.json(200, body);
      }
      return e.json(200, e.record);
    }
  }

  // `onRecordEnrich` over the records of an answer: each is the record as the caller sees it;
  // what the hooks hide, unhide or set changes what it shows.
  g.__runEnrich = function (fns, specJson) {
    const spec = JSON.parse(specJson);
    const collection = g.__collectionOf(spec.collection);
    const out = [];
    try {
      for (const data of spec.records) {
        const e = new RequestEvent(spec.http);
        e.collection = collection;
        e.record = g.Record.__fromOutput(collection, data);
        if (data.expand) e.record.__expand = data.expand;
        let i = 0;
        e.next = () => {
          if (i < spec.chain.length) return fns[spec.chain[i++]](e);
        };
        e.next();
        out.push(e.record.publicExport());
      }
    } catch (err) {
      return JSON.stringify({ error: describe(err) });
    }
    return JSON.stringify({ records: out });
  };

  g.__runCron = function (fns, k) {
    try {
      fns[k]();
      return "";
    } catch (err) {
      const d = describe(err);
      return JSON.stringify(d);
    }
  };
})(globalThis);
