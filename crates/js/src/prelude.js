// The JavaScript half of PocketBase's JSVM API (names of PocketBase 0.23+), evaluated once in
// every runtime before any hook file. The other half is `__native(op, json)`, one Rust
// function answering `{"ok": value}` or `{"err": {status, message, data}}` (`ops.rs`).
// Values cross as JSON; records and collections are plain data wrapped in the classes below.
"use strict";

(function (g) {
  const native = g.__native;
  delete g.__native;

  function call(op, args) {
    const out = JSON.parse(native(op, JSON.stringify(args === undefined ? null : args)));
    if (out.err) {
      throw errorFrom(out.err);
    }
    return out.ok;
  }
  g.__call = call;

  // ---------------------------------------------------------------- errors

  // PocketBase's router.NewApiError: an empty message is the status' default one, and a
  // message is "sentenized" (first letter upper-cased, a final period added).
  function sentenize(message) {
    message = String(message === undefined || message === null ? "" : message).trim();
    if (!message) return "";
    message = message[0].toUpperCase() + message.slice(1);
    return /[.!?]$/.test(message) ? message : message + ".";
  }

  class ApiError extends Error {
    constructor(status, message, data) {
      const m = sentenize(message);
      super(m);
      this.status = Number(status) || 0;
      this.message = m;
      this.data = safeData(data);
    }
    is(other) {
      return other === this;
    }
    rawData() {
      return this.data;
    }
    toJSON() {
      return { status: this.status, message: this.message, data: this.data };
    }
  }

  // PocketBase keeps only validation errors in a public `data`: a `{code, message}` value
  // stays, anything else becomes its generic "Invalid value." entry.
  function safeData(data) {
    const out = {};
    if (!data || typeof data !== "object" || Array.isArray(data)) return out;
    for (const k of Object.keys(data)) {
      const v = data[k];
      if (v instanceof ValidationError) {
        out[k] = { code: v.code, message: sentenize(v.message) };
      } else if (v && typeof v === "object" && typeof v.code === "string" && "message" in v) {
        out[k] = { code: v.code, message: sentenize(v.message) };
      } else if (v && typeof v === "object" && !Array.isArray(v)) {
        out[k] = safeData(v);
      } else {
        out[k] = { code: "validation_invalid_value", message: "Invalid value." };
      }
    }
    return out;
  }

  function defaulted(status, fallback) {
    return class extends ApiError {
      constructor(message, data) {
        super(status, sentenize(message) || fallback, data);
      }
    };
  }
  const BadRequestError = defaulted(400, "Something went wrong while processing your request.");
  const NotFoundError = defaulted(404, "The requested resource wasn't found.");
  const ForbiddenError = defaulted(403, "You are not allowed to perform this request.");
  const UnauthorizedError = defaulted(401, "Missing or invalid authentication.");
  const TooManyRequestsError = defaulted(429, "Too Many Requests.");
  const InternalServerError = defaulted(500, "Something went wrong while processing your request.");

  class ValidationError {
    constructor(code, message) {
      this.code = code || "";
      this.message = message || "";
    }
    error() {
      return this.message;
    }
  }

  // A failure of a native call: an ApiError, marked when it means "no rows" (which an
  // uncaught throw turns into a 404, as PocketBase does with sql.ErrNoRows).
  function errorFrom(err) {
    if (err.plain) {
      // A Go error in PocketBase: its message as it is.
      const plain = new Error(err.message);
      plain.name = "GoError";
      return plain;
    }
    const e = new ApiError(err.status, err.message, {});
    e.data = err.data || {};
    if (err.noRows) e.noRows = true;
    return e;
  }

  Object.assign(g, {
    ApiError,
    BadRequestError,
    NotFoundError,
    ForbiddenError,
    UnauthorizedError,
    TooManyRequestsError,
    InternalServerError,
    ValidationError,
  });

  // ---------------------------------------------------------------- records

  const SECRET_FIELDS = ["password", "tokenKey"];

  class Record {
    constructor(collection, data) {
      if (collection === undefined) collection = {};
      this.__collection = collection instanceof Collection ? collection : collectionOf(collection);
      this.__data = {};
      this.__original = null;
      this.__expand = {};
      this.__hidden = new Set();
      this.__unhidden = new Set();
      this.__ignoreEmailVisibility = false;
      this.__customData = false;
      if (data) this.load(data);
    }
    // A record as the API showed it (list, view, auth answers): exported with the keys it
    // came with, plus any set later.
    static __fromOutput(collection, data) {
      const r = Record.__from(collection, data);
      r.__only = new Set(Object.keys(r.__data));
      return r;
    }
    static __from(collection, data) {
      const r = new Record(collection);
      r.__data = Object.assign({}, data);
      if (r.__data.expand) {
        r.__expand = r.__data.expand;
        delete r.__data.expand;
      }
      r.__original = JSON.parse(JSON.stringify(r.__data));
      return r;
    }
    get id() {
      return this.__data.id === undefined ? "" : this.__data.id;
    }
    set id(v) {
      this.__data.id = v;
    }
    collection() {
      return this.__collection;
    }
    tableName() {
      return this.__collection.name;
    }
    isNew() {
      return this.__original === null;
    }
    markAsNew() {
      this.__original = null;
    }
    markAsNotNew() {
      this.__original = JSON.parse(JSON.stringify(this.__data));
    }
    original() {
      if (this.__original === null) return new Record(this.__collection);
      return Record.__from(this.__collection, this.__original);
    }
    fresh() {
      return Record.__from(this.__collection, this.__data);
    }
    clone() {
      const r = Record.__from(this.__collection, this.__data);
      r.__original = this.__original === null ? null : JSON.parse(JSON.stringify(this.__original));
      return r;
    }
    get(key) {
      if (key === "expand") return this.__expand;
      const v = this.__data[key];
      return v === undefined ? (this.__collection.fields.getByName(key) ? zero(this.__collection.fields.getByName(key)) : null) : v;
    }
    getRaw(key) {
      return this.__data[key];
    }
    // `field+` and `+field` append (or add to a number), `field-` removes, as the API's body does.
    set(key, value) {
      const m = /^(\+)?([^+-]+)([+-])?$/.exec(key);
      if (this.__only) this.__only.add(key.replace(/^\+|[+-]$/g, ""));
      if (!m || (!m[1] && !m[3])) {
        const field = this.__collection.fields.getByName(key);
        if (key === "expand") this.__expand = value || {};
        // A password field takes the plain password (PocketBase's PasswordField.SetValue).
        else if (field && field.type === "password" && typeof value === "string") this.__data[key] = { __plain: value };
        else this.__data[key] = value;
        return;
      }
      const name = m[2];
      const field = this.__collection.fields.getByName(name);
      const cur = this.get(name);
      if (field && field.type === "number") {
        const n = Number(cur) || 0;
        this.__data[name] = m[3] === "-" ? n - (Number(value) || 0) : n + (Number(value) || 0);
        return;
      }
      const list = Array.isArray(cur) ? cur.slice() : cur === "" || cur === null || cur === undefined ? [] : [cur];
      const values = Array.isArray(value) ? value : [value];
      let next;
      if (m[3] === "-") next = list.filter((x) => !values.includes(x));
      else if (m[1]) next = values.concat(list);
      else next = list.concat(values);
      const single = field && (field.maxSelect === undefined || field.maxSelect <= 1) && field.type !== "json";
      this.__data[name] = single ? (next.length ? next[next.length - 1] : "") : next;
    }
    setIfFieldExists(key, value) {
      if (this.__collection.fields.getByName(key)) this.set(key, value);
    }
    load(data) {
      for (const k of Object.keys(data || {})) this.set(k, data[k]);
    }
    getString(key) {
      const v = this.get(key);
      if (v === null || v === undefined) return "";
      if (Array.isArray(v)) return v.length ? String(v[0]) : "";
      if (typeof v === "object") return JSON.stringify(v);
      return String(v);
    }
    getBool(key) {
      const v = this.get(key);
      if (typeof v === "string") return v === "true" || v === "1";
      return !!v;
    }
    getInt(key) {
      const v = Number(this.get(key));
      return Number.isFinite(v) ? Math.trunc(v) : 0;
    }
    getFloat(key) {
      const v = Number(this.get(key));
      return Number.isFinite(v) ? v : 0;
    }
    getStringSlice(key) {
      const v = this.get(key);
      if (v === null || v === undefined || v === "") return [];
      return (Array.isArray(v) ? v : [v]).map(String).filter((x, i, all) => x !== "" && all.indexOf(x) === i);
    }
    getDateTime(key) {
      return new DateTime(this.getString(key));
    }
    getGeoPoint(key) {
      return this.get(key) || { lon: 0, lat: 0 };
    }
    expandedOne(rel) {
      const v = this.__expand[rel];
      if (Array.isArray(v)) return v.length ? v[0] : null;
      return v || null;
    }
    expandedAll(rel) {
      const v = this.__expand[rel];
      if (!v) return [];
      return Array.isArray(v) ? v : [v];
    }
    expand() {
      return this.__expand;
    }
    setExpand(expand) {
      this.__expand = expand || {};
    }
    mergeExpand(expand) {
      Object.assign(this.__expand, expand || {});
    }
    fieldsData() {
      const out = {};
      for (const f of this.__collection.fields) out[f.name] = this.get(f.name);
      return out;
    }
    customData() {
      const known = new Set(this.__collection.fields.map((f) => f.name));
      const out = {};
      for (const k of Object.keys(this.__data)) if (!known.has(k)) out[k] = this.__data[k];
      return out;
    }
    withCustomData(on) {
      this.__customData = !!on;
      return this;
    }
    hide(...names) {
      for (const n of names.flat()) {
        this.__hidden.add(n);
        this.__unhidden.delete(n);
      }
      return this;
    }
    unhide(...names) {
      for (const n of names.flat()) {
        this.__unhidden.add(n);
        this.__hidden.delete(n);
      }
      return this;
    }
    ignoreEmailVisibility(on) {
      this.__ignoreEmailVisibility = !!on;
      return this;
    }
    isSuperuser() {
      return this.__collection.name === "_superusers";
    }
    email() {
      return this.getString("email");
    }
    setEmail(v) {
      this.set("email", v);
    }
    emailVisibility() {
      return this.getBool("emailVisibility");
    }
    setEmailVisibility(v) {
      this.set("emailVisibility", !!v);
    }
    verified() {
      return this.getBool("verified");
    }
    setVerified(v) {
      this.set("verified", !!v);
    }
    tokenKey() {
      return this.getString("tokenKey");
    }
    setTokenKey(v) {
      this.set("tokenKey", v);
    }
    refreshTokenKey() {
      this.set("tokenKey", call("security.randomString", [50]));
    }
    // The plain password travels to the save, which hashes it (as the API's body would).
    setPassword(v) {
      this.__data.password = { __plain: String(v) };
    }
    setRandomPassword() {
      const p = call("security.randomString", [30]);
      this.setPassword(p);
      return p;
    }
    validatePassword(plain) {
      const hash = this.__data.password;
      if (typeof hash !== "string" || !hash) return false;
      return call("password.verify", [hash, String(plain)]);
    }
    newAuthToken() {
      return call("records.authToken", { collection: this.__collection.name, id: this.id, kind: "auth" });
    }
    newFileToken() {
      return call("records.authToken", { collection: this.__collection.name, id: this.id, kind: "file" });
    }
    // PocketBase's public export: hidden and secret fields out, the email only when visible.
    publicExport() {
      const out = {};
      const c = this.__collection;
      out.collectionId = c.id;
      out.collectionName = c.name;
      const fields = c.fields || [];
      for (const f of fields) {
        if (SECRET_FIELDS.includes(f.name) && f.type === "password" && !this.__unhidden.has(f.name)) continue;
        if (f.type === "password") continue;
        if ((f.hidden || this.__hidden.has(f.name)) && !this.__unhidden.has(f.name)) continue;
        if (c.type === "auth" && f.name === "email" && !this.__ignoreEmailVisibility && !this.getBool("emailVisibility") && !(this.__only && this.__only.has("email"))) continue;
        if (this.__only && !this.__only.has(f.name)) continue;
        out[f.name] = this.get(f.name);
      }
      if (this.__only) {
        for (const k of ["collectionId", "collectionName"]) if (!this.__only.has(k)) delete out[k];
      }
      if (this.__customData) Object.assign(out, this.customData());
      if (this.__expand && Object.keys(this.__expand).length) out.expand = this.__expand;
      return out;
    }
    toJSON() {
      return this.publicExport();
    }
    // What a save sends to the core: every value set, passwords in plain text.
    __payload() {
      return {
        collection: this.__collection.id || this.__collection.name,
        id: this.id,
        isNew: this.isNew(),
        data: this.__data,
        original: this.__original,
      };
    }
    __assign(saved) {
      this.__data = Object.assign({}, saved);
      this.__original = JSON.parse(JSON.stringify(this.__data));
    }
  }

  function zero(f) {
    switch (f.type) {
      case "number":
        return 0;
      case "bool":
        return false;
      case "json":
        return null;
      case "select":
      case "relation":
      case "file":
        return f.maxSelect > 1 ? [] : "";
      default:
        return "";
    }
  }

  // ---------------------------------------------------------------- collections

  class FieldsList extends Array {
    getByName(name) {
      return this.find((f) => f.name === name) || null;
    }
    getById(id) {
      return this.find((f) => f.id === id) || null;
    }
    fieldNames() {
      return this.map((f) => f.name);
    }
    asMap() {
      const out = {};
      for (const f of this) out[f.name] = f;
      return out;
    }
    // Adds fields, each replacing the one of the same id (or, without an id, of the same
    // name, whose id it keeps) in place, or else appended (PocketBase's FieldsList.Add).
    add(...fields) {
      for (const f of fields.flat()) this.__put(-1, f);
    }
    // The same, the fields inserted (or moved) at `pos` (PocketBase's FieldsList.AddAt).
    addAt(pos, ...fields) {
      const total = this.length;
      fields.flat().forEach((f, i) => this.__put(pos < 0 ? -1 : pos > total ? total + i : pos + i, f));
    }
    __put(pos, field) {
      const f = field instanceof Field ? field : fieldFrom(field);
      const inPlace = pos < 0;
      if (inPlace || pos > this.length) pos = this.length;
      const at = this.findIndex((x) => (f.id ? x.id === f.id : !!f.name && x.name === f.name));
      if (at >= 0) {
        if (!f.id) f.id = this[at].id;
        if (inPlace) {
          this[at] = f;
          return;
        }
        this.splice(at, 1);
        if (pos > this.length) pos = this.length;
      }
      this.splice(pos, 0, f);
    }
    addMarshaledJSON(json) {
      this.add(...marshaledFields(json));
    }
    addMarshaledJSONAt(pos, json) {
      this.addAt(pos, ...marshaledFields(json));
    }
    removeById(id) {
      const at = this.findIndex((x) => x.id === id);
      if (at >= 0) this.splice(at, 1);
    }
    removeByName(name) {
      const at = this.findIndex((x) => x.name === name);
      if (at >= 0) this.splice(at, 1);
    }
    toJSON() {
      return Array.from(this);
    }
  }

  class Field {
    constructor(data) {
      Object.assign(this, data || {});
    }
    getName() {
      return this.name;
    }
    setName(n) {
      this.name = n;
    }
    getId() {
      return this.id;
    }
    setId(id) {
      this.id = id;
    }
    getHidden() {
      return !!this.hidden;
    }
    setHidden(h) {
      this.hidden = !!h;
    }
    getSystem() {
      return !!this.system;
    }
    setSystem(s) {
      this.system = !!s;
    }
    type() {
      return this.type;
    }
  }
  const FIELD_TYPES = {
    TextField: "text",
    NumberField: "number",
    BoolField: "bool",
    EmailField: "email",
    URLField: "url",
    EditorField: "editor",
    DateField: "date",
    AutodateField: "autodate",
    SelectField: "select",
    JSONField: "json",
    FileField: "file",
    RelationField: "relation",
    PasswordField: "password",
    GeoPointField: "geoPoint",
  };
  for (const [name, type] of Object.entries(FIELD_TYPES)) {
    g[name] = class extends Field {
      constructor(data) {
        super(Object.assign({}, data || {}, { type }));
      }
    };
  }
  function fieldFrom(data) {
    return new Field(data);
  }
  function marshaledFields(json) {
    const list = typeof json === "string" ? JSON.parse(json) : json;
    return (Array.isArray(list) ? list : [list]).map(fieldFrom);
  }

  class Collection {
    constructor(data) {
      data = data || {};
      Object.assign(this, {
        id: "",
        name: "",
        type: "base",
        system: false,
        listRule: null,
        viewRule: null,
        createRule: null,
        updateRule: null,
        deleteRule: null,
        indexes: [],
      });
      Object.assign(this, JSON.parse(JSON.stringify(data)));
      this.fields = FieldsList.from((data.fields || []).map(fieldFrom));
      if (!Array.isArray(this.indexes)) this.indexes = [];
    }
    isAuth() {
      return this.type === "auth";
    }
    isBase() {
      return this.type === "base";
    }
    isView() {
      return this.type === "view";
    }
    tableName() {
      return this.name;
    }
    addIndex(name, unique, columns, where) {
      const sql = "CREATE " + (unique ? "UNIQUE " : "") + "INDEX `" + name + "` ON `" + this.name + "` (" + columns + ")" + (where ? " WHERE " + where : "");
      this.removeIndex(name);
      this.indexes.push(sql);
    }
    removeIndex(name) {
      this.indexes = this.indexes.filter((i) => !new RegExp("INDEX\\s+(IF NOT EXISTS\\s+)?[`\"']?" + name + "[`\"']?\\s", "i").test(i));
    }
    getIndex(name) {
      return this.indexes.find((i) => new RegExp("INDEX\\s+(IF NOT EXISTS\\s+)?[`\"']?" + name + "[`\"']?\\s", "i").test(i)) || "";
    }
    toJSON() {
      const out = {};
      for (const k of Object.keys(this)) out[k] = this[k];
      out.fields = Array.from(this.fields);
      return out;
    }
  }

  // A definition from its full JSON, or from a reference `{id, name, v}` (v: the schema's
  // version), fetched once per version and kept by this runtime.
  const definitions = new Map();
  function collectionOf(x) {
    if (!x || x.fields !== undefined || x.v === undefined) return new Collection(x || {});
    const key = x.id + ":" + x.v;
    let c = definitions.get(key);
    if (!c) {
      if (definitions.size > 64) definitions.clear();
      c = new Collection(call("collections.find", { nameOrId: x.id }));
      definitions.set(key, c);
    }
    return c;
  }
  g.__collectionOf = collectionOf;

  Object.assign(g, { Record, Collection, FieldsList, Field });

  // ---------------------------------------------------------------- models for raw queries

  class DynamicModel {
    constructor(shape) {
      Object.assign(this, shape || {});
      Object.defineProperty(this, "__shape", { value: Object.assign({}, shape || {}), enumerable: false });
    }
  }
  function arrayOf(model) {
    const list = [];
    Object.defineProperty(list, "__model", { value: model, enumerable: false });
    return list;
  }
  // A row coerced to the model's zero values' types (PocketBase scans into the model's fields).
  function fill(target, row) {
    const shape = target.__shape || target;
    for (const k of Object.keys(shape)) {
      if (!(k in row)) continue;
      const z = shape[k];
      let v = row[k];
      if (typeof z === "number") v = v === null ? 0 : Number(v);
      else if (typeof z === "boolean") v = v === null ? false : v === true || v === 1 || v === "1" || v === "true";
      else if (typeof z === "string") v = v === null ? "" : typeof v === "string" ? v : String(v);
      else if (z !== null && typeof z === "object" && typeof v === "string") {
        try {
          v = JSON.parse(v);
        } catch (e) {}
      }
      target[k] = v;
    }
    return target;
  }
  g.DynamicModel = DynamicModel;
  g.arrayOf = arrayOf;

  // ---------------------------------------------------------------- $app

  class Query {
    constructor(app, sql) {
      this.app = app;
      this.sql = sql;
      this.params = {};
    }
    bind(params) {
      Object.assign(this.params, params || {});
      return this;
    }
    __run(mode) {
      return call("db.query", { sql: this.sql, params: this.params, mode, tx: this.app.__tx });
    }
    execute() {
      const r = this.__run("execute");
      return { rowsAffected: () => r.rowsAffected, lastInsertId: () => r.lastInsertId };
    }
    one(model) {
      const rows = this.__run("one");
      if (!rows.length) throw errorFrom({ status: 404, message: "sql: no rows in result set", data: {}, noRows: true });
      if (model === undefined) return rows[0];
      return fill(model, rows[0]);
    }
    all(list) {
      const rows = this.__run("all");
      if (list === undefined) return rows;
      const model = list.__model;
      list.length = 0;
      for (const row of rows) {
        if (model === undefined || model === null) list.push(row);
        else if (model instanceof DynamicModel) list.push(fill(new DynamicModel(model.__shape), row));
        else list.push(fill(Object.assign({}, model), row));
      }
      return list;
    }
    column(list) {
      const rows = this.__run("all");
      const out = rows.map((r) => r[Object.keys(r)[0]]);
      if (Array.isArray(list)) {
        list.length = 0;
        list.push(...out);
        return list;
      }
      return out;
    }
  }

  function toRecord(found) {
    return found ? Record.__from(found.collection, found.record) : null;
  }
  function toRecords(found) {
    return found.records.map((r) => Record.__from(found.collection, r));
  }
  function paramsOf(args) {
    const out = {};
    for (const p of args) if (p && typeof p === "object") Object.assign(out, p);
    return out;
  }

  class App {
    constructor(tx) {
      this.__tx = tx || 0;
    }
    __call(op, args) {
      return call(op, Object.assign({ tx: this.__tx }, args));
    }
    isTransactional() {
      return !!this.__tx;
    }
    db() {
      const app = this;
      return { newQuery: (sql) => new Query(app, sql) };
    }
    nonconcurrentDB() {
      return this.db();
    }
    concurrentDB() {
      return this.db();
    }
    findCollectionByNameOrId(nameOrId) {
      return new Collection(this.__call("collections.find", { nameOrId: String(nameOrId) }));
    }
    findCachedCollectionByNameOrId(nameOrId) {
      return this.findCollectionByNameOrId(nameOrId);
    }
    findAllCollections(...types) {
      return this.__call("collections.all", { types: types.flat() }).map((c) => new Collection(c));
    }
    findRecordById(collection, id) {
      return toRecord(this.__call("records.byId", { collection: nameOf(collection), id: String(id) }));
    }
    findRecordsByIds(collection, ids) {
      return toRecords(this.__call("records.byIds", { collection: nameOf(collection), ids: (ids || []).map(String) }));
    }
    findRecordsByFilter(collection, filter, sort, limit, offset, ...params) {
      return toRecords(
        this.__call("records.byFilter", {
          collection: nameOf(collection),
          filter: filter || "",
          sort: sort || "",
          limit: limit || 0,
          offset: offset || 0,
          params: paramsOf(params),
        }),
      );
    }
    findFirstRecordByFilter(collection, filter, ...params) {
      const found = this.__call("records.byFilter", {
        collection: nameOf(collection),
        filter: filter || "",
        sort: "",
        limit: 1,
        offset: 0,
        params: paramsOf(params),
      });
      if (!found.records.length) throw errorFrom({ status: 404, message: "sql: no rows in result set", data: {}, noRows: true });
      return toRecords(found)[0];
    }
    findFirstRecordByData(collection, key, value) {
      return toRecord(this.__call("records.byData", { collection: nameOf(collection), key: String(key), value }));
    }
    findAllRecords(collection, ...exprs) {
      return this.findRecordsByFilter(collection, exprsFilter(exprs), "", 0, 0, exprsParams(exprs));
    }
    countRecords(collection, ...exprs) {
      return this.__call("records.count", { collection: nameOf(collection), filter: exprsFilter(exprs), params: exprsParams(exprs) });
    }
    findAuthRecordByEmail(collection, email) {
      return toRecord(this.__call("records.byEmail", { collection: nameOf(collection), email: String(email) }));
    }
    findAuthRecordByToken(token, type) {
      return toRecord(this.__call("records.byToken", { token: String(token), type: type || "auth" }));
    }
    save(model) {
      return this.__save(model, true);
    }
    saveNoValidate(model) {
      return this.__save(model, false);
    }
    __save(model, validate) {
      if (model instanceof Record) {
        const saved = this.__call("records.save", { record: model.__payload(), validate });
        model.__collection = new Collection(saved.collection);
        model.__assign(saved.record);
        return;
      }
      // `app.save(app.settings())` after changing some (secrets left out stay as they are).
      if (model && model.__settings) {
        this.__call("settings.save", { settings: JSON.parse(JSON.stringify(model)) });
        return;
      }
      if (model instanceof Collection || (model && typeof model === "object" && "fields" in model)) {
        const saved = this.__call("collections.save", { collection: JSON.parse(JSON.stringify(model)) });
        const fresh = new Collection(saved);
        for (const k of Object.keys(fresh)) model[k] = fresh[k];
        return;
      }
      throw new BadRequestError("Unsupported model.");
    }
    delete(model) {
      if (model instanceof Record) {
        this.__call("records.delete", { collection: model.__collection.id || model.__collection.name, id: model.id });
        return;
      }
      if (model instanceof Collection) {
        this.__call("collections.delete", { nameOrId: model.id || model.name });
        return;
      }
      throw new BadRequestError("Unsupported model.");
    }
    importCollections(collections, deleteMissing) {
      this.__call("collections.import", { collections: JSON.parse(JSON.stringify(collections || [])), deleteMissing: !!deleteMissing });
    }
    truncateCollection(collection) {
      this.__call("collections.truncate", { nameOrId: nameOf(collection) });
    }
    // Everything done through `txApp` commits together, or not at all when `fn` throws.
    // PB-COMPAT: inside a transaction already, `fn` runs in that one.
    runInTransaction(fn) {
      if (!this.__call("tx.begin", {})) return fn(this);
      let ended = false;
      try {
        const out = fn(new App(1));
        ended = true;
        this.__call("tx.end", { commit: true });
        return out;
      } finally {
        if (!ended) this.__call("tx.end", { commit: false });
      }
    }
    settings() {
      return settingsView(this.__call("settings.get", {}));
    }
    logger() {
      return logger;
    }
    newMailClient() {
      return {
        send: (message) => {
          call("mail.send", { message: JSON.parse(JSON.stringify(message)) });
        },
      };
    }
    isDev() {
      return call("app.isDev", {});
    }
    dataDir() {
      return call("app.dataDir", {});
    }
    cron() {
      return {
        add: (id, expr, fn) => g.cronAdd(id, expr, fn),
        remove: (id) => g.cronRemove(id),
      };
    }
  }

  function nameOf(collection) {
    if (collection instanceof Collection) return collection.id || collection.name;
    return String(collection);
  }
  // `$dbx.hashExp({...})` and `$dbx.exp("filter", params)` as filters of the core's language.
  function exprsFilter(exprs) {
    return exprs
      .filter(Boolean)
      .map((e) => "(" + e.__filter + ")")
      .join(" && ");
  }
  function exprsParams(exprs) {
    return Object.assign({}, ...exprs.filter(Boolean).map((e) => e.__params || {}));
  }

  // Settings read as PocketBase's Go struct is seen from JS: the same keys, plus `merge`.
  function settingsView(s) {
    Object.defineProperty(s, "merge", { value: (other) => Object.assign(s, other), enumerable: false });
    Object.defineProperty(s, "__settings", { value: true, enumerable: false });
    return s;
  }

  const logger = {};
  for (const level of ["debug", "info", "warn", "error"]) {
    logger[level] = (message, ...attrs) => {
      const data = {};
      for (let i = 0; i + 1 < attrs.length; i += 2) data[String(attrs[i])] = attrs[i + 1];
      call("log", { level, message: String(message), data });
    };
  }
  logger.with = () => logger;
  logger.withGroup = () => logger;

  g.$app = new App(0);
  g.__App = App;

  // ---------------------------------------------------------------- $dbx (the filter subset)

  // `$mails`: an auth flow's message sent now (the record's template and a fresh token).
  const recordMail = (kind) => (app, record, extra) => {
    call("mails.send", { kind, collection: record.collection().id || record.collection().name, id: record.id, extra: extra === undefined ? "" : String(extra) });
  };
  g.$mails = {
    sendRecordPasswordReset: recordMail("passwordReset"),
    sendRecordVerification: recordMail("verification"),
    sendRecordChangeEmail: recordMail("emailChange"),
    sendRecordOTP: (app, record, otpId, password) => recordMail("otp")(app, record, password),
    sendRecordAuthAlert: (app, record, info) => recordMail("authAlert")(app, record, info),
  };

  g.$dbx = {
    exp: (filter, params) => ({ __filter: filter, __params: params || {} }),
    hashExp: (data) => {
      const params = {};
      const parts = Object.keys(data).map((k, i) => {
        params["__h" + i] = data[k];
        return k + " = {:__h" + i + "}";
      });
      return { __filter: parts.join(" && ") || "1=1", __params: params };
    },
    and: (...e) => ({ __filter: e.map((x) => "(" + x.__filter + ")").join(" && "), __params: Object.assign({}, ...e.map((x) => x.__params)) }),
    or: (...e) => ({ __filter: e.map((x) => "(" + x.__filter + ")").join(" || "), __params: Object.assign({}, ...e.map((x) => x.__params)) }),
    not: (x) => ({ __filter: "!(" + x.__filter + ")", __params: x.__params }),
  };

  // ---------------------------------------------------------------- helpers

  g.$security = {
    randomString: (n) => call("security.randomString", [n]),
    randomStringWithAlphabet: (n, alphabet) => call("security.randomStringWithAlphabet", [n, alphabet]),
    pseudorandomString: (n) => call("security.randomString", [n]),
    pseudorandomStringWithAlphabet: (n, alphabet) => call("security.randomStringWithAlphabet", [n, alphabet]),
    md5: (s) => call("security.hash", ["md5", String(s)]),
    sha256: (s) => call("security.hash", ["sha256", String(s)]),
    sha512: (s) => call("security.hash", ["sha512", String(s)]),
    hs256: (s, key) => call("security.hmac", ["sha256", String(s), String(key)]),
    hs512: (s, key) => call("security.hmac", ["sha512", String(s), String(key)]),
    equal: (a, b) => call("security.equal", [String(a), String(b)]),
    createJWT: (payload, key, seconds) => call("security.createJWT", [payload, String(key), Number(seconds) || 0]),
    parseJWT: (token, key) => call("security.parseJWT", [String(token), String(key)]),
    parseUnverifiedJWT: (token) => call("security.parseUnverifiedJWT", [String(token)]),
    encrypt: (data, key) => call("security.encrypt", [g.toString(data), String(key)]),
    decrypt: (data, key) => call("security.decrypt", [String(data), String(key)]),
  };

  g.$os = {
    getenv: (name) => call("os.getenv", [String(name)]),
    args: [],
    readFile: (path) => call("os.readFile", [String(path)]),
    writeFile: (path, data) => call("os.writeFile", [String(path), typeof data === "string" ? data : Array.from(data || [])]),
    // `exec.Command` as PocketBase gives it: `$os.cmd("ls", "-la").output()`.
    cmd: (name, ...args) => osCommand(name, args),
    exec: (name, ...args) => osCommand(name, args),
    getwd: () => call("os.getwd", []),
    tempDir: () => call("os.tempDir", []),
  };

  function osCommand(name, args) {
    const command = { path: String(name), args: [String(name)].concat(args.map(String)), dir: "", env: [] };
    const run = (mode) => call("os.exec", { name: command.path, args: command.args.slice(1), dir: command.dir, env: command.env, mode });
    command.output = () => g.toBytes(run("stdout"));
    command.combinedOutput = () => g.toBytes(run("combined"));
    command.run = () => {
      run("none");
    };
    return command;
  }

  // `$filesystem`: files staged on disk (`uploads.rs`), as PocketBase's `*filesystem.File`
  // (`name`, `originalName`, `size`); a record field set to one stores it on save.
  class File {
    constructor(described) {
      Object.defineProperty(this, "__file", { value: described.__file, enumerable: false });
      this.name = described.name;
      this.originalName = described.originalName;
      this.size = described.size;
    }
    toJSON() {
      return { __file: this.__file, name: this.name, originalName: this.originalName, size: this.size };
    }
  }
  g.__File = File;
  const stageFile = (args) => new File(call("files.stage", args));
  g.$filesystem = {
    // A string is its UTF-8 bytes, as goja converts it to a []byte.
    fileFromBytes: (bytes, name) =>
      stageFile({
        source: "bytes",
        bytes: typeof bytes === "string" ? toBytesOf(unescape(encodeURIComponent(bytes))) : g.toBytes(bytes),
        name: String(name),
      }),
    fileFromPath: (path) => stageFile({ source: "path", path: String(path) }),
    fileFromURL: (url, secTimeout) => stageFile({ source: "url", url: String(url), timeout: Number(secTimeout) || 0 }),
    // PocketBase takes a multipart header; here a file of `e.findUploadedFiles()`.
    fileFromMultipart: (file) => stageFile({ source: "copy", token: file && file.__file }),
  };

  // `$template`: Go's html/template (the subset `template/` implements), rendered natively.
  class TemplateRenderer {
    constructor(source) {
      this.__source = source;
    }
    render(data) {
      return call("template.render", Object.assign({ data: data === undefined ? null : data }, this.__source));
    }
  }
  g.$template = {
    loadFiles: (...files) => new TemplateRenderer({ files: files.map(String) }),
    loadString: (text) => new TemplateRenderer({ text: String(text) }),
  };

  g.$filepath = {
    base: (p) => {
      p = String(p).replace(/\/+$/, "");
      if (!p) return "/";
      const i = p.lastIndexOf("/");
      return i >= 0 ? p.slice(i + 1) : p;
    },
    dir: (p) => {
      p = String(p);
      const i = p.lastIndexOf("/");
      return i < 0 ? "." : cleanPath(p.slice(0, i + 1) || "/");
    },
    ext: (p) => {
      p = String(p);
      for (let i = p.length - 1; i >= 0 && p[i] !== "/"; i--) if (p[i] === ".") return p.slice(i);
      return "";
    },
    join: (...parts) => {
      const s = parts.filter((x) => x !== "").join("/");
      return s ? cleanPath(s) : "";
    },
    clean: (p) => cleanPath(String(p)),
    isAbs: (p) => String(p).startsWith("/"),
    split: (p) => {
      p = String(p);
      const i = p.lastIndexOf("/");
      return [p.slice(0, i + 1), p.slice(i + 1)];
    },
    toSlash: (p) => String(p),
    fromSlash: (p) => String(p),
  };
  function cleanPath(p) {
    if (p === "") return ".";
    const abs = p.startsWith("/");
    const out = [];
    for (const part of p.split("/")) {
      if (part === "" || part === ".") continue;
      if (part === "..") {
        if (out.length && out[out.length - 1] !== "..") out.pop();
        else if (!abs) out.push("..");
      } else out.push(part);
    }
    const s = (abs ? "/" : "") + out.join("/");
    return s || (abs ? "/" : ".");
  }

  g.sleep = (ms) => call("sleep", [Number(ms) || 0]);

  // CommonJS modules, as goja_nodejs's `require` loads them for PocketBase: a path (relative
  // paths from the working directory; `${__hooks}/x.js` for the hooks folder), evaluated once
  // per runtime.
  const modules = {};
  g.require = function (path) {
    const resolved = call("os.resolve", [String(path)]);
    if (modules[resolved]) return modules[resolved].exports;
    const source = call("os.readText", [resolved]);
    const module = { exports: {}, id: resolved, filename: resolved };
    modules[resolved] = module;
    const dir = resolved.slice(0, resolved.lastIndexOf("/")) || "/";
    const wrapper = new Function("module", "exports", "require", "__filename", "__dirname", source);
    wrapper(module, module.exports, g.require, resolved, dir);
    return module.exports;
  };

  // `$http.send`: a synchronous HTTP request (PocketBase's shape of the answer).
  g.$http = {
    send: (config) => {
      config = config || {};
      const res = call("http.send", {
        url: String(config.url || ""),
        method: String(config.method || "GET").toUpperCase(),
        body: config.body === undefined || config.body === null ? "" : typeof config.body === "string" ? config.body : JSON.stringify(config.body),
        headers: config.headers || {},
        timeout: Number(config.timeout) || 120,
      });
      let json = null;
      try {
        json = JSON.parse(res.raw);
      } catch (e) {}
      return { statusCode: res.statusCode, headers: res.headers, cookies: res.cookies, raw: res.raw, body: toBytesOf(res.raw), json };
    },
  };
  function toBytesOf(s) {
    const out = [];
    for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 0xff);
    return out;
  }
  g.toString = function (raw) {
    if (raw === null || raw === undefined) return "";
    if (typeof raw === "string") return raw;
    if (Array.isArray(raw) && raw.every((x) => typeof x === "number")) return String.fromCharCode(...raw);
    if (raw instanceof Uint8Array || raw instanceof ArrayBuffer) return String.fromCharCode(...new Uint8Array(raw));
    if (typeof raw === "object") return JSON.stringify(raw);
    return String(raw);
  };
  g.readerToString = (raw) => g.toString(raw);
  g.toBytes = (raw) => {
    const s = g.toString(raw);
    const out = [];
    for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 0xff);
    return out;
  };
  // As Go's json.Unmarshal into an existing value: objects merge key by key, anything else
  // (arrays included) is replaced; a collection's `fields` stay a FieldsList.
  function unmarshalInto(dst, data) {
    for (const k of Object.keys(data)) {
      const v = data[k];
      const cur = dst[k];
      if (cur instanceof FieldsList && Array.isArray(v)) dst[k] = FieldsList.from(v.map(fieldFrom));
      else if (isPlainObject(v) && isPlainObject(cur)) unmarshalInto(cur, v);
      else dst[k] = v;
    }
    return dst;
  }
  function isPlainObject(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v);
  }
  g.unmarshal = (data, dst) => unmarshalInto(dst, typeof data === "string" ? JSON.parse(data) : data);

  function fmt(args) {
    return args
      .map((a) => {
        if (typeof a === "string") return a;
        if (a instanceof Error) return a.stack ? a.message + "\n" + a.stack : String(a);
        try {
          return JSON.stringify(a);
        } catch (e) {
          return String(a);
        }
      })
      .join(" ");
  }
  g.console = {};
  for (const [name, level] of [
    ["log", "info"],
    ["info", "info"],
    ["warn", "warn"],
    ["error", "error"],
    ["debug", "debug"],
    ["trace", "debug"],
  ]) {
    g.console[name] = (...args) => call("log", { level, message: fmt(args), data: {}, console: true });
  }

  class DateTime {
    constructor(s) {
      this.__s = s === undefined ? call("now", {}) : String(s || "");
    }
    string() {
      return this.__s;
    }
    isZero() {
      return this.__s === "";
    }
    unix() {
      return this.__s ? Math.floor(Date.parse(this.__s.replace(" ", "T")) / 1000) : 0;
    }
    time() {
      return new Date(this.__s.replace(" ", "T"));
    }
    toJSON() {
      return this.__s;
    }
    toString() {
      return this.__s;
    }
  }
  g.DateTime = DateTime;

  class MailerMessage {
    constructor(data) {
      Object.assign(this, { from: { address: "", name: "" }, to: [], bcc: [], cc: [], subject: "", html: "", text: "", headers: {} }, data || {});
    }
  }
  g.MailerMessage = MailerMessage;

  class Middleware {
    constructor(fn, priority, id) {
      this.__mw = { src: typeof fn === "function" ? fn.toString() : String(fn), priority: priority || 0, id: id || "" };
    }
  }
  g.Middleware = Middleware;

  // ---------------------------------------------------------------- $apis

  const nativeMw = (name) => (...args) => ({ __mw: { native: name, args } });
  g.$apis = {
    requireAuth: nativeMw("requireAuth"),
    requireSuperuserAuth: nativeMw("requireSuperuserAuth"),
    requireSuperuserOrOwnerAuth: nativeMw("requireSuperuserOrOwnerAuth"),
    requireGuestOnly: nativeMw("requireGuestOnly"),
    bodyLimit: nativeMw("bodyLimit"),
    gzip: nativeMw("gzip"),
    skipSuccessActivityLog: nativeMw("skip"),
    activityLogger: nativeMw("skip"),
    enrichRecord: (e, record, ...expands) => {
      if (!record) return;
      if (e.auth && (e.auth.isSuperuser() || (e.auth.collection().id === record.collection().id && e.auth.id === record.id))) {
        record.ignoreEmailVisibility(true);
      }
    },
    enrichRecords: (e, records, ...expands) => {
      for (const r of records || []) g.$apis.enrichRecord(e, r, ...expands);
    },
    recordAuthResponse: (e, record, method, meta) => {
      const token = record.newAuthToken();
      record.ignoreEmailVisibility(true);
      const body = { token, record };
      if (meta !== undefined && meta !== null) body.meta = meta;
      return e.json(200, body);
    },
  };
})(globalThis);
