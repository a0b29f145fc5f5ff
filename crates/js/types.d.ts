// oxbase's JavaScript hooks API (`*.pb.js` files), as ambient declarations for editors:
// start a hook file with `/// <reference path="path/to/types.d.ts" />`.
// Names and shapes are PocketBase's (its generated plugins/jsvm types.d.ts) where oxbase
// matches them, so a PocketBase app's hook files type-check; what oxbase lacks is left out.
// The implementation: crates/js/src/prelude.js and events.js. Checked by tests/sdk/typedefs.test.mjs.

// ------------------------------------------------------------------ routes and crons

/** Adds a route (Go path patterns: `{name}`, `{path...}`, `{$}`); middlewares run before the handler. */
declare function routerAdd(method: string, path: string, handler: (e: core.RequestEvent) => void, ...middlewares: Array<string | ((e: core.RequestEvent) => void) | Middleware>): void;
/** Adds middlewares around every route (built-in, the hook files', a Rust app's; not the realtime stream), lowest priority first. */
declare function routerUse(...middlewares: Array<string | ((e: core.RequestEvent) => void) | Middleware>): void;
/** Registers (or replaces) a cron job; it is listed and run by `/api/crons`. */
declare function cronAdd(jobId: string, cronExpr: string, handler: () => void): void;
/** Removes a cron job registered by `cronAdd`. */ declare function cronRemove(jobId: string): void;
/** The absolute path of the hooks directory. */ declare var __hooks: string;

// ------------------------------------------------------------------ lifecycle hooks

/** Once the hook files are loaded, before the server starts (a throw stops the start). */
declare function onBootstrap(handler: (e: core.BootstrapEvent) => void): void;
/** When the server starts serving. */ declare function onServe(handler: (e: core.ServeEvent) => void): void;
/** When the app closes. */ declare function onTerminate(handler: (e: core.TerminateEvent) => void): void;

// ------------------------------------------------------------------ record model hooks (tags: collection names or ids)

/** Before a record is created, inside the write's transaction (may change `e.record` or throw). */
declare function onRecordCreate(handler: (e: core.RecordEvent) => void, ...tags: string[]): void;
/** Right before a record's INSERT, inside the transaction. */
declare function onRecordCreateExecute(handler: (e: core.RecordEvent) => void, ...tags: string[]): void;
/** After a record's creation was committed. */
declare function onRecordAfterCreateSuccess(handler: (e: core.RecordEvent) => void, ...tags: string[]): void;
/** Before a record is updated, inside the transaction (`e.record.original()` is the stored one). */
declare function onRecordUpdate(handler: (e: core.RecordEvent) => void, ...tags: string[]): void;
/** Right before a record's UPDATE, inside the transaction. */
declare function onRecordUpdateExecute(handler: (e: core.RecordEvent) => void, ...tags: string[]): void;
/** After a record's update was committed. */
declare function onRecordAfterUpdateSuccess(handler: (e: core.RecordEvent) => void, ...tags: string[]): void;
/** Before a record is deleted, inside the transaction (a throw keeps it). */
declare function onRecordDelete(handler: (e: core.RecordEvent) => void, ...tags: string[]): void;
/** Right before a record's DELETE, inside the transaction. */
declare function onRecordDeleteExecute(handler: (e: core.RecordEvent) => void, ...tags: string[]): void;
/** After a record's deletion was committed. */
declare function onRecordAfterDeleteSuccess(handler: (e: core.RecordEvent) => void, ...tags: string[]): void;
/** When a record is validated before a create or update (throw to reject it). */
declare function onRecordValidate(handler: (e: core.RecordEvent) => void, ...tags: string[]): void;

// ------------------------------------------------------------------ record request hooks (tags: collection names or ids)

/** Around the records list route, once it found its page: may change `e.records` and `e.result`. */
declare function onRecordsListRequest(handler: (e: core.RecordsListRequestEvent) => void, ...tags: string[]): void;
/** Around the record view route, once it found the record. */
declare function onRecordViewRequest(handler: (e: core.RecordRequestEvent) => void, ...tags: string[]): void;
/** Before the record create route; `e.next()` creates it, then `e.record` is the saved one. */
declare function onRecordCreateRequest(handler: (e: core.RecordRequestEvent) => void, ...tags: string[]): void;
/** Before the record update route; `e.next()` updates it. */
declare function onRecordUpdateRequest(handler: (e: core.RecordRequestEvent) => void, ...tags: string[]): void;
/** Before the record delete route; `e.next()` deletes it. */
declare function onRecordDeleteRequest(handler: (e: core.RecordRequestEvent) => void, ...tags: string[]): void;
/** Around every successful authentication's answer: may change `e.record`, `e.token`, `e.meta`. */
declare function onRecordAuthRequest(handler: (e: core.RecordAuthRequestEvent) => void, ...tags: string[]): void;

// ------------------------------------------------------------------ hooks accepted but not fired yet
// oxbase registers these (so a PocketBase app's files load) but does not run them yet.

/** Around a backup: `e.next()` makes it (named `e.name`; empty: a generated name); not calling it skips it. */ declare function onBackupCreate(handler: (e: core.BackupEvent) => void): void;
/** Around a restore (after its API answered): `e.next()` restores `e.name`; not calling it skips it. */ declare function onBackupRestore(handler: (e: core.BackupEvent) => void): void;
/** Not fired yet. */ declare function onSettingsReload(handler: (e: core.PendingEvent) => void): void;
/** Fired (see docs/hooks.md). */ declare function onMailerSend(handler: (e: core.MailerEvent) => void): void;
/** Fired (see docs/hooks.md). */ declare function onMailerRecordAuthAlertSend(handler: (e: core.MailerRecordEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onMailerRecordPasswordResetSend(handler: (e: core.MailerRecordEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onMailerRecordVerificationSend(handler: (e: core.MailerRecordEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onMailerRecordEmailChangeSend(handler: (e: core.MailerRecordEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onMailerRecordOTPSend(handler: (e: core.MailerRecordEvent) => void, ...tags: string[]): void;
/** Around a realtime stream (throw to refuse it); `e.next()` opens it and returns when the client goes. */ declare function onRealtimeConnectRequest(handler: (e: core.RealtimeConnectRequestEvent) => void): void;
/** Around setting a client's subscriptions: `e.next()` sets `e.subscriptions` (throw to refuse them). */ declare function onRealtimeSubscribeRequest(handler: (e: core.RealtimeSubscribeRequestEvent) => void): void;
/** Each message a realtime client is about to be sent (`PB_CONNECT` too): change `e.message`, or skip it by not calling `e.next()`. */ declare function onRealtimeMessageSend(handler: (e: core.RealtimeMessageEvent) => void): void;
/** Fired (see docs/hooks.md). */ declare function onRecordEnrich(handler: (e: core.RecordEnrichEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onRecordAfterCreateError(handler: (e: core.RecordErrorEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onRecordAfterUpdateError(handler: (e: core.RecordErrorEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onRecordAfterDeleteError(handler: (e: core.RecordErrorEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onRecordAuthWithPasswordRequest(handler: (e: core.RecordAuthFlowRequestEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onRecordAuthWithOAuth2Request(handler: (e: core.RecordAuthFlowRequestEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onRecordAuthRefreshRequest(handler: (e: core.RecordAuthFlowRequestEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onRecordRequestPasswordResetRequest(handler: (e: core.RecordAuthFlowRequestEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onRecordConfirmPasswordResetRequest(handler: (e: core.RecordAuthFlowRequestEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onRecordRequestVerificationRequest(handler: (e: core.RecordAuthFlowRequestEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onRecordConfirmVerificationRequest(handler: (e: core.RecordAuthFlowRequestEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onRecordRequestEmailChangeRequest(handler: (e: core.RecordAuthFlowRequestEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onRecordConfirmEmailChangeRequest(handler: (e: core.RecordAuthFlowRequestEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onRecordRequestOTPRequest(handler: (e: core.RecordAuthFlowRequestEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onRecordAuthWithOTPRequest(handler: (e: core.RecordAuthFlowRequestEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onCollectionValidate(handler: (e: core.CollectionEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onCollectionCreate(handler: (e: core.CollectionEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onCollectionCreateExecute(handler: (e: core.CollectionEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onCollectionAfterCreateSuccess(handler: (e: core.CollectionEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onCollectionAfterCreateError(handler: (e: core.CollectionErrorEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onCollectionUpdate(handler: (e: core.CollectionEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onCollectionUpdateExecute(handler: (e: core.CollectionEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onCollectionAfterUpdateSuccess(handler: (e: core.CollectionEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onCollectionAfterUpdateError(handler: (e: core.CollectionErrorEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onCollectionDelete(handler: (e: core.CollectionEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onCollectionDeleteExecute(handler: (e: core.CollectionEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onCollectionAfterDeleteSuccess(handler: (e: core.CollectionEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onCollectionAfterDeleteError(handler: (e: core.CollectionErrorEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onCollectionsListRequest(handler: (e: core.CollectionsListRequestEvent) => void): void;
/** Fired (see docs/hooks.md). */ declare function onCollectionViewRequest(handler: (e: core.CollectionRequestEvent) => void): void;
/** Fired (see docs/hooks.md). */ declare function onCollectionCreateRequest(handler: (e: core.CollectionRequestEvent) => void): void;
/** Fired (see docs/hooks.md). */ declare function onCollectionUpdateRequest(handler: (e: core.CollectionRequestEvent) => void): void;
/** Fired (see docs/hooks.md). */ declare function onCollectionDeleteRequest(handler: (e: core.CollectionRequestEvent) => void): void;
/** Fired (see docs/hooks.md). */ declare function onCollectionsImportRequest(handler: (e: core.CollectionsImportRequestEvent) => void): void;
/** Fired (see docs/hooks.md). */ declare function onFileDownloadRequest(handler: (e: core.FileDownloadRequestEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onFileTokenRequest(handler: (e: core.FileTokenRequestEvent) => void, ...tags: string[]): void;
/** Fired (see docs/hooks.md). */ declare function onBatchRequest(handler: (e: core.BatchRequestEvent) => void): void;
/** Fired (see docs/hooks.md). */ declare function onSettingsListRequest(handler: (e: core.SettingsListRequestEvent) => void): void;
/** Fired (see docs/hooks.md). */ declare function onSettingsUpdateRequest(handler: (e: core.SettingsUpdateRequestEvent) => void): void;

// ------------------------------------------------------------------ events

declare namespace hook {
  /** What every hook's event has. */
  interface Event {
    /** Runs the rest of the chain (then the action itself); skip it to stop there. */ next(): void;
  }
}

declare namespace core {
  /** An `onBootstrap` event. */ interface BootstrapEvent extends hook.Event { app: App }
  /** An `onServe` event. */ interface ServeEvent extends hook.Event { app: App }
  /** An `onTerminate` event. */ interface TerminateEvent extends hook.Event { app: App }
  /** The event of a hook oxbase accepts but does not fire yet: its fields are not known. */
  interface PendingEvent extends hook.Event { app: App; [field: string]: any }
  /** `onBackupCreate`, `onBackupRestore`: the backup's name (settable before `e.next()`). */
  interface BackupEvent extends hook.Event { app: App; name: string; exclude: Array<string> }
  /** A realtime client as hooks see it. */
  interface RealtimeClient {
    id(): string;
    /** Its topics (those starting with one of `prefixes`, if given), each with its options. */ subscriptions(...prefixes: string[]): { [topic: string]: any };
    hasSubscription(topic: string): boolean;
    isDiscarded(): boolean;
  }
  /** `onRealtimeConnectRequest`. */
  interface RealtimeConnectRequestEvent extends RequestEvent { client: RealtimeClient; /** How long the stream may stay without a message, in nanoseconds (settable). */ idleTimeout: number }
  /** `onRealtimeSubscribeRequest`: the topics asked for (settable before `e.next()`). */
  interface RealtimeSubscribeRequestEvent extends RequestEvent { client: RealtimeClient; subscriptions: Array<string> }
  /** `onRealtimeMessageSend`: `message.data` is the message's bytes; set a string or bytes to change it. */
  interface RealtimeMessageEvent extends RequestEvent { client: RealtimeClient; message: { name: string; data: Array<number> | string } }
  /** `onMailerSend`: the message about to go; not calling `e.next()` keeps it from being sent. */
  interface MailerEvent extends hook.Event { app: App; message: mailer.Message }
  /** `onMailerRecord*Send`: an auth flow's message about `record`, before `onMailerSend`. */
  interface MailerRecordEvent extends MailerEvent { record: Record; collection: Collection; meta: { [key: string]: any } }
  /** `onRecordEnrich`: a record the API answers with, as the caller sees it. */
  interface RecordEnrichEvent extends RequestEvent { record: Record; collection: Collection }
  /** `onRecordAfter*Error`: a failed API write and its error body. */
  interface RecordErrorEvent extends Omit<RequestEvent, "error"> { record: Record; collection: Collection; error: { status: number; message: string; data: { [key: string]: any } } }
  /** The auth flows' request hooks (before the flow; throw to refuse it). */
  interface RecordAuthFlowRequestEvent extends RequestEvent { collection: Collection; identity?: string; password?: string; record?: Record }
  /** Collection request hooks and the after-success/error hooks of API changes. */
  interface CollectionRequestEvent extends Omit<RequestEvent, "error"> { collection: Collection; error?: { status: number; message: string; data: { [key: string]: any } } }
  /** `onCollectionsListRequest`: the page of collections being answered. */
  interface CollectionsListRequestEvent extends RequestEvent { collections: Collection[]; result: { page: number; perPage: number; totalItems: number; totalPages: number } }
  /** `onSettingsListRequest`: the settings being answered. */
  interface SettingsListRequestEvent extends RequestEvent { settings: { [key: string]: any } }
  /** `onSettingsUpdateRequest` (after the body loaded): `e.next()` saves `newSettings` whole. */
  interface SettingsUpdateRequestEvent extends RequestEvent { oldSettings: { [key: string]: any }; newSettings: { [key: string]: any } }
  /** One request of a batch, as PocketBase's `InternalRequest`. */
  interface InternalRequest { method: string; url: string; headers: { [key: string]: string } | null; body: { [key: string]: any } | null }
  /** `onBatchRequest` (after the batch was read and checked): `e.next()` runs `batch` as it is then. */
  interface BatchRequestEvent extends RequestEvent { batch: InternalRequest[] }
  /** `onFileDownloadRequest` (after the file was found and allowed): `e.next()` serves the
   * file at `servedPath` (in the storage) named `servedName`. */
  interface FileDownloadRequestEvent extends RequestEvent { collection: Collection; record: Record; fileField: Field; servedPath: string; servedName: string; thumbError: string | null }
  /** `onFileTokenRequest`: the file token being answered. */
  interface FileTokenRequestEvent extends RequestEvent { token: string }
  /** `onCollectionsImportRequest`. */
  interface CollectionsImportRequestEvent extends RequestEvent { collection?: Collection }

  /** A record model hook's event. */
  interface RecordEvent extends hook.Event {
    /** The transactional app: what is done through it joins the write's transaction. */ app: App;
    /** The record being written; changes made before `e.next()` are saved. */ record: Record;
  }

  /** A collection model hook's event (any change of a definition, however made). */
  interface CollectionEvent extends hook.Event {
    /** The app. */ app: App;
    /** The definition being saved or deleted; changes made by the hooks are saved. */ collection: Collection;
  }

  /** `onCollectionAfter*Error`: a failed change of a definition and its error body. */
  interface CollectionErrorEvent extends CollectionEvent {
    /** The error as the API answers it. */ error: { status: number; message: string; data: { [key: string]: any } };
  }

  /** A request: a custom route's, a middleware's or a request hook's event. */
  interface RequestEvent extends hook.Event {
    /** The app. */ app: App;
    /** The authenticated record (a superuser or an auth collection's record), or null. */ auth: Record | null;
    /** The incoming request. */ request: http.Request;
    /** The outgoing response's headers. */ response: http.ResponseWriter;
    /** Whether an answer was written. */ written(): boolean;
    /** The status of the written answer (0 before). */ status(): number;
    /** Answers with JSON. */ json(status: number, data: any): void;
    /** Answers with plain text. */ string(status: number, data: string): void;
    /** Answers with HTML. */ html(status: number, data: string): void;
    /** Answers with XML (a string). */ xml(status: number, data: any): void;
    /** Answers with bytes (or a string) of the given content type. */
    blob(status: number, contentType: string, b: string | Array<number>): void;
    /** Answers with no body. */ noContent(status: number): void;
    /** Redirects (status 300-399). */ redirect(status: number, url: string): void;
    /** Adds a Set-Cookie header. */ setCookie(cookie: http.Cookie): void;
    /** Whether the request came over https. */ isTLS(): boolean;
    /** The client's address (the connection's). */ remoteIP(): string;
    /** The client's address, trusting the configured proxy headers. */ realIP(): string;
    /** Whether a superuser made the request. */ hasSuperuserAuth(): boolean;
    /** A value stored on the event (shared by middlewares and the handler). */ get(key: string): any;
    /** Stores a value on the event. */ set(key: string, value: any): void;
    /** Every value stored on the event. */ getAll(): { [key: string]: any };
    /** Stores several values on the event. */ setAll(m: { [key: string]: any }): void;
    /** The request as rules see it: query, headers, body, auth. */ requestInfo(): RequestInfo;
    /** Fills `dst` from the body (a `DynamicModel` refuses a value of another type); returns it. */ bindBody<T>(dst: T): T;
    /** The files of a multipart body's `key` (throws "http: no such file" when none). */ findUploadedFiles(key: string): Array<filesystem.File>;
    /** A new ApiError of this status. */ error(status: number, message?: string, errData?: any): ApiError;
    /** A new 400 ApiError. */ badRequestError(message?: string, errData?: any): ApiError;
    /** A new 404 ApiError. */ notFoundError(message?: string, errData?: any): ApiError;
    /** A new 403 ApiError. */ forbiddenError(message?: string, errData?: any): ApiError;
    /** A new 401 ApiError. */ unauthorizedError(message?: string, errData?: any): ApiError;
    /** A new 429 ApiError. */ tooManyRequestsError(message?: string, errData?: any): ApiError;
    /** A new 500 ApiError. */ internalServerError(message?: string, errData?: any): ApiError;
  }

  /** A record view, create, update or delete request's event. */
  interface RecordRequestEvent extends RequestEvent {
    /** The record's collection. */ collection: Collection;
    /** The record (before `e.next()`: the stored one with the body's values applied). */ record: Record;
  }
  /** A records list request's event. */
  interface RecordsListRequestEvent extends RequestEvent {
    /** The collection listed. */ collection: Collection;
    /** The page's records. */ records: Array<Record>;
    /** The page's numbers (without its items). */
    result: { page: number; perPage: number; totalItems: number; totalPages: number };
  }
  /** An authentication's event (any auth method). */
  interface RecordAuthRequestEvent extends RequestEvent {
    /** The auth collection. */ collection: Collection;
    /** The authenticated record. */ record: Record;
    /** The token answered. */ token: string;
    /** The answer's `meta` (OAuth2 data), if any. */ meta: any;
    /** The auth method: "password", "oauth2", "otp", "refresh"... */ authMethod: string;
  }

  /** The request as API rules see it (`@request.*`). */
  interface RequestInfo {
    /** The query parameters. */ query: { [key: string]: any };
    /** The headers (lower-cased, `-` as `_`). */ headers: { [key: string]: any };
    /** The parsed body. */ body: { [key: string]: any };
    /** The authenticated record, or null. */ auth: Record | null;
    /** The HTTP method. */ method: string;
    /** Always "default" in oxbase. */ context: string;
    /** Whether a superuser made the request. */ hasSuperuserAuth(): boolean;
    /** A shallow copy. */ clone(): RequestInfo;
  }
}

// ------------------------------------------------------------------ HTTP

declare namespace http {
  /** An incoming request. */
  interface Request {
    /** The HTTP method (upper case). */ method: string;
    /** The Host header. */ host: string;
    /** The connection's peer address. */ remoteAddr: string;
    /** The path and query as sent. */ requestURI: string;
    /** The request headers. */ header: Header;
    /** The parsed URL. */ url: URL;
    /** A path parameter of the route (`{name}`), or "". */ pathValue(name: string): string;
    /** Overrides a path parameter. */ setPathValue(name: string, value: string): void;
    /** A cookie by name (throws when absent). */ cookie(name: string): Cookie;
    /** Every cookie sent. */ cookies(): Array<Cookie>;
    /** The User-Agent header. */ userAgent(): string;
    /** The Referer header. */ referer(): string;
  }
  /** A request's URL. */
  interface URL {
    /** The path. */ path: string;
    /** The query, undecoded, without `?`. */ rawQuery: string;
    /** The host. */ host: string;
    /** "http" or "https". */ scheme: string;
    /** The decoded query parameters. */ query(): Values;
    /** The path and query. */ string(): string;
  }
  /** Query parameters. */
  interface Values {
    /** The first value of a key, or "". */ get(key: string): string;
    /** Every value of a key. */ values(key: string): Array<string>;
    /** Whether the key is present. */ has(key: string): boolean;
    /** The parameters, URL-encoded, sorted by key. */ encode(): string;
  }
  /** Request headers (names case-insensitive). */
  interface Header {
    /** The first value of a header, or "". */ get(key: string): string;
    /** Every value of a header. */ values(key: string): Array<string>;
    /** Whether the header is present. */ has(key: string): boolean;
  }
  /** The response being built. */
  interface ResponseWriter {
    /** The response headers. */ header(): ResponseHeader;
  }
  /** Response headers (names case-insensitive). */
  interface ResponseHeader {
    /** Sets a header, replacing its values. */ set(key: string, value: string): void;
    /** Adds a value to a header. */ add(key: string, value: string): void;
    /** The first value of a header, or "". */ get(key: string): string;
    /** Removes a header. */ del(key: string): void;
  }
  /** A cookie (a request's: name and value; `setCookie` also takes the attributes). */
  interface Cookie {
    name: string;
    value: string;
    path?: string;
    domain?: string;
    /** Seconds. */ maxAge?: number;
    secure?: boolean;
    httpOnly?: boolean;
    /** 1 Default, 2 Lax, 3 Strict, 4 None. */ sameSite?: number;
  }
}

/** Middleware with an explicit priority (lower runs first) and id. */
declare class Middleware {
  private __mw: unknown;
  constructor(func: string | ((e: core.RequestEvent) => void), priority?: number, id?: string);
}

/** The built-in middlewares and API helpers. */
declare namespace $apis {
  /** Requires an authenticated record (of one of the collections, when named). */
  function requireAuth(...optCollectionNames: string[]): Middleware;
  /** Requires a superuser. */ function requireSuperuserAuth(): Middleware;
  /** Requires a superuser or the record whose id is the path parameter (default "id"). */
  function requireSuperuserOrOwnerAuth(ownerIdPathParam?: string): Middleware;
  /** Requires no authentication. */ function requireGuestOnly(): Middleware;
  /** Refuses bodies larger than `limitBytes` (413). */ function bodyLimit(limitBytes: number): Middleware;
  /** Compresses the response with gzip when the client accepts it (`Vary: Accept-Encoding`). */ function gzip(): Middleware;
  /** Accepted; oxbase logs as usual. */ function skipSuccessActivityLog(): Middleware;
  /** Shows the email of the record to its owner and to superusers (expands are not loaded yet). */
  function enrichRecord(e: core.RequestEvent, record: core.Record, ...defaultExpands: string[]): void;
  /** `enrichRecord` for each record. */
  function enrichRecords(e: core.RequestEvent, records: Array<core.Record>, ...defaultExpands: string[]): void;
  /** Answers with `{token, record, meta?}` for the record (MFA and login alerts are not applied). */
  function recordAuthResponse(e: core.RequestEvent, authRecord: core.Record, authMethod: string, meta?: any): void;
}

// ------------------------------------------------------------------ errors

/** An error answered as `{status, message, data}` (message: default per status, capitalized, final period). */
declare class ApiError extends Error {
  constructor(status?: number, message?: string, data?: any);
  /** The HTTP status. */ status: number;
  /** The validation errors, `{field: {code, message}}`. */ data: { [key: string]: any };
  /** Whether `target` is this error. */ is(target: any): boolean;
  /** The `data`. */ rawData(): any;
  /** The error body. */ toJSON(): { status: number; message: string; data: { [key: string]: any } };
}
/** A 400 ApiError. */ declare class BadRequestError extends ApiError { constructor(message?: string, data?: any) }
/** A 404 ApiError. */ declare class NotFoundError extends ApiError { constructor(message?: string, data?: any) }
/** A 403 ApiError. */ declare class ForbiddenError extends ApiError { constructor(message?: string, data?: any) }
/** A 401 ApiError. */ declare class UnauthorizedError extends ApiError { constructor(message?: string, data?: any) }
/** A 429 ApiError. */ declare class TooManyRequestsError extends ApiError { constructor(message?: string, data?: any) }
/** A 500 ApiError. */ declare class InternalServerError extends ApiError { constructor(message?: string, data?: any) }
/** One field's validation error, for an ApiError's `data`. */
declare class ValidationError {
  constructor(code?: string, message?: string);
  /** The machine-readable code, e.g. "validation_required". */ code: string;
  /** The human-readable message. */ message: string;
  /** The message. */ error(): string;
}

// ------------------------------------------------------------------ the app and data

/** The running application (no API rule applies to what it does). */ declare var $app: core.App;

declare namespace core {
  /** A collection given by its model, name or id. */ type CollectionRef = Collection | string;

  /** The application. */
  interface App {
    /** Whether this app is a transaction's (`runInTransaction`'s `txApp`, a record model hook's `e.app`). */ isTransactional(): boolean;
    /** The database, for raw SQL queries. */ db(): dbx.Builder;
    /** The database (oxbase has one pool). */ nonconcurrentDB(): dbx.Builder;
    /** The database (oxbase has one pool). */ concurrentDB(): dbx.Builder;
    /** A collection by name or id (throws when missing). */ findCollectionByNameOrId(nameOrId: string): Collection;
    /** `findCollectionByNameOrId`. */ findCachedCollectionByNameOrId(nameOrId: string): Collection;
    /** Every collection, or those of the given types ("base", "auth", "view"). */
    findAllCollections(...collectionTypes: string[]): Array<Collection>;
    /** A record by id (throws a "no rows" error, a 404 if uncaught, when missing). */
    findRecordById(collectionModelOrIdentifier: CollectionRef, recordId: string): Record;
    /** The records with these ids. */
    findRecordsByIds(collectionModelOrIdentifier: CollectionRef, recordIds: Array<string>): Array<Record>;
    /** Records matching a filter (`{:name}` placeholders bound from `params`); limit 0: all. */
    findRecordsByFilter(collectionModelOrIdentifier: CollectionRef, filter: string, sort?: string, limit?: number, offset?: number, ...params: dbx.Params[]): Array<Record>;
    /** The first record matching a filter (throws when none). */
    findFirstRecordByFilter(collectionModelOrIdentifier: CollectionRef, filter: string, ...params: dbx.Params[]): Record;
    /** The first record whose field `key` equals `value` (throws when none). */
    findFirstRecordByData(collectionModelOrIdentifier: CollectionRef, key: string, value: any): Record;
    /** The records matching every expression (all records without one). */
    findAllRecords(collectionModelOrIdentifier: CollectionRef, ...exprs: dbx.Expression[]): Array<Record>;
    /** How many records match every expression. */
    countRecords(collectionModelOrIdentifier: CollectionRef, ...exprs: dbx.Expression[]): number;
    /** An auth record by email (throws when missing). */
    findAuthRecordByEmail(collectionModelOrIdentifier: CollectionRef, email: string): Record;
    /** Validates and saves a record (its save hooks run), a collection, or the settings (`app.settings()` changed). */
    save(model: Record | Collection | Settings): void;
    /** Saves without validating. */ saveNoValidate(model: Record | Collection): void;
    /** Deletes a record or a collection. */ delete(model: Record | Collection): void;
    /** Deletes every record of a collection. */ truncateCollection(collection: CollectionRef): void;
    /** Creates or replaces collections from their JSON definitions; with `deleteMissing`, deletes the others. */
    importCollections(collections: Array<{ [key: string]: any }>, deleteMissing?: boolean): void;
    /** Runs `fn` in a transaction: what is done through `txApp` commits together, or nothing when `fn` throws; returns its result. */
    runInTransaction<T>(fn: (txApp: App) => T): T;
    /** The settings (a copy; secrets left out). */ settings(): Settings;
    /** The logger (into `/api/logs` and stdout). */ logger(): slog.Logger;
    /** A client sending mail through the configured SMTP server. */ newMailClient(): mailer.Mailer;
    /** Whether the server runs with `--dev`. */ isDev(): boolean;
    /** The data directory. */ dataDir(): string;
    /** The cron scheduler (while the hook files load). */ cron(): cron.Cron;
  }

  /** The settings, as `/api/settings` shows them. */
  interface Settings {
    /** Application name, URL and mail sender. */
    meta: { appName: string; appURL: string; senderName: string; senderAddress: string; hideControls: boolean };
    /** The other sections: smtp, s3, backups, batch, rateLimits, trustedProxy, logs. */
    [section: string]: any;
    /** Merges values into this copy. */ merge(other: { [key: string]: any }): void;
  }

  /** A record of a collection. */
  interface Record {
    /** The record's id ("" until saved or set). */ id: string;
    /** The record's collection. */ collection(): Collection;
    /** The table name (the collection's name). */ tableName(): string;
    /** Whether the record was never saved. */ isNew(): boolean;
    /** Marks the record as not saved yet. */ markAsNew(): void;
    /** Marks the record as saved. */ markAsNotNew(): void;
    /** The record as stored before this change (an empty record when new). */ original(): Record;
    /** A copy of the current values, with no change history. */ fresh(): Record;
    /** A full copy. */ clone(): Record;
    /** A field's value (its zero value when unset; `null` for unknown keys). */ get(key: string): any;
    /** A value as stored, without defaults. */ getRaw(key: string): any;
    /** Sets a value; `field+`/`+field` append (or add to a number), `field-` removes. */ set(key: string, value: any): void;
    /** `set`, when the collection has the field. */ setIfFieldExists(key: string, value: any): void;
    /** Sets several values. */ load(data: { [key: string]: any }): void;
    /** A value as a string. */ getString(key: string): string;
    /** A value as a boolean. */ getBool(key: string): boolean;
    /** A value as an integer (0 if not a number). */ getInt(key: string): number;
    /** A value as a number (0 if not a number). */ getFloat(key: string): number;
    /** A value as a list of distinct non-empty strings. */ getStringSlice(key: string): Array<string>;
    /** A date value. */ getDateTime(key: string): DateTime;
    /** A geoPoint value. */ getGeoPoint(key: string): { lon: number; lat: number };
    /** One expanded relation, as its plain JSON data (PB-COMPAT: not a Record yet), or null. */
    expandedOne(relField: string): { [key: string]: any } | null;
    /** Every expanded relation, as plain JSON data (PB-COMPAT: not Records yet). */
    expandedAll(relField: string): Array<{ [key: string]: any }>;
    /** The expand data. */ expand(): { [key: string]: any };
    /** Replaces the expand data. */ setExpand(expand: { [key: string]: any }): void;
    /** Merges into the expand data. */ mergeExpand(expand: { [key: string]: any }): void;
    /** The values of the collection's fields. */ fieldsData(): { [key: string]: any };
    /** The values set that are not fields. */ customData(): { [key: string]: any };
    /** Includes the custom data in the record's export. */ withCustomData(state: boolean): Record;
    /** Exports the email even when it is not visible. */ ignoreEmailVisibility(state: boolean): Record;
    /** Leaves fields out of the export. */ hide(...fieldNames: string[]): Record;
    /** Puts hidden fields back into the export. */ unhide(...fieldNames: string[]): Record;
    /** The record as the API shows it (hidden fields and secrets left out). */ publicExport(): { [key: string]: any };
    /** `publicExport()`, for JSON.stringify and `e.json`. */ toJSON(): { [key: string]: any };
    /** Whether the record is a superuser. */ isSuperuser(): boolean;
    /** The email (auth records). */ email(): string;
    /** Sets the email. */ setEmail(email: string): void;
    /** Whether the email is public. */ emailVisibility(): boolean;
    /** Sets whether the email is public. */ setEmailVisibility(visible: boolean): void;
    /** Whether the email is verified. */ verified(): boolean;
    /** Sets whether the email is verified. */ setVerified(verified: boolean): void;
    /** The token key (changing it invalidates the record's tokens). */ tokenKey(): string;
    /** Sets the token key. */ setTokenKey(key: string): void;
    /** Sets a new random token key. */ refreshTokenKey(): void;
    /** Sets the password (hashed when saved). */ setPassword(password: string): void;
    /** Sets a random password; returns it. */ setRandomPassword(): string;
    /** Whether `password` is the stored password. */ validatePassword(password: string): boolean;
    /** A new auth token for the record. */ newAuthToken(): string;
    /** A new file token for the record. */ newFileToken(): string;
  }

  /** A collection: its schema, rules and options as the API's JSON shows them. */
  interface Collection {
    id: string;
    name: string;
    type: "base" | "auth" | "view";
    system: boolean;
    fields: FieldsList;
    indexes: Array<string>;
    // API rules: null locked (superusers only), "" open, otherwise a filter.
    listRule: string | null;
    viewRule: string | null;
    createRule: string | null;
    updateRule: string | null;
    deleteRule: string | null;
    /** View collections: the SELECT. */ viewQuery?: string;
    // Auth collections: their rules and options (as in the API's JSON).
    authRule?: string | null;
    manageRule?: string | null;
    passwordAuth?: any;
    oauth2?: any;
    mfa?: any;
    otp?: any;
    authAlert?: any;
    authToken?: any;
    passwordResetToken?: any;
    emailChangeToken?: any;
    verificationToken?: any;
    fileToken?: any;
    /** Whether the type is "auth". */ isAuth(): boolean;
    /** Whether the type is "base". */ isBase(): boolean;
    /** Whether the type is "view". */ isView(): boolean;
    /** The table name (the collection's name). */ tableName(): string;
    /** Adds (or replaces) an index on `columns` (SQL text), unique or not, with an optional WHERE. */
    addIndex(name: string, unique: boolean, columns: string, where?: string): void;
    /** Removes an index by name. */ removeIndex(name: string): void;
    /** An index's SQL by name, or "". */ getIndex(name: string): string;
  }

  /** A collection's fields. */
  interface FieldsList extends Array<Field> {
    /** A field by name, or null. */ getByName(name: string): Field | null;
    /** A field by id, or null. */ getById(id: string): Field | null;
    /** The fields' names. */ fieldNames(): Array<string>;
    /** The fields by name. */ asMap(): { [name: string]: Field };
    /** Adds fields, each replacing the one of the same id (or, without an id, name) in place. */ add(...fields: Field[]): void;
    /** The same, the fields inserted (or moved) at a position. */ addAt(pos: number, ...fields: Field[]): void;
    /** Adds fields from their JSON (one or a list). */
    addMarshaledJSON(json: string | { [key: string]: any } | Array<{ [key: string]: any }>): void;
    /** The same, at a position. */
    addMarshaledJSONAt(pos: number, json: string | { [key: string]: any } | Array<{ [key: string]: any }>): void;
    /** Removes a field by id. */ removeById(id: string): void;
    /** Removes a field by name. */ removeByName(name: string): void;
  }

  /** A field: its name, type and its type's options (`min`, `max`, `values`, `maxSelect`...). */
  interface Field {
    id: string;
    name: string;
    type: string;
    system?: boolean;
    hidden?: boolean;
    presentable?: boolean;
    required?: boolean;
    /** The type's options, as in the API's JSON. */
    [option: string]: any;
    // Accessors of the values above, as PocketBase's Go fields have them.
    getName(): string;
    setName(name: string): void;
    getId(): string;
    setId(id: string): void;
    getHidden(): boolean;
    setHidden(hidden: boolean): void;
    getSystem(): boolean;
    setSystem(system: boolean): void;
  }
}

/** The data a new Collection starts with (`fields` as plain objects). */
type CollectionInit = Partial<Omit<core.Collection, "fields">> & { fields?: Array<Partial<core.Field>> };

/** A record: `new Record(collection, {field: value})`. */
declare const Record: {
  new (collection?: core.Collection, data?: { [key: string]: any }): core.Record;
};
interface Collection extends core.Collection {}
/** A collection model: `new Collection({type, name, fields: [...]})`, saved by `$app.save`. */
declare class Collection {
  constructor(data?: CollectionInit);
}
interface FieldsList extends core.FieldsList {}
/** A list of fields. */ declare class FieldsList {}
interface Field extends core.Field {}
/** A field of any type (`type` given in the data). */
declare class Field {
  constructor(data?: Partial<core.Field>);
}
/** A text field. */ declare class TextField extends Field {}
/** A number field. */ declare class NumberField extends Field {}
/** A bool field. */ declare class BoolField extends Field {}
/** An email field. */ declare class EmailField extends Field {}
/** A URL field. */ declare class URLField extends Field {}
/** A rich text field. */ declare class EditorField extends Field {}
/** A date field. */ declare class DateField extends Field {}
/** A date set on create and/or update. */ declare class AutodateField extends Field {}
/** A select field. */ declare class SelectField extends Field {}
/** A JSON field. */ declare class JSONField extends Field {}
/** A file field. */ declare class FileField extends Field {}
/** A relation field. */ declare class RelationField extends Field {}
/** A password field. */ declare class PasswordField extends Field {}
/** A geographic point field. */ declare class GeoPointField extends Field {}

// ------------------------------------------------------------------ raw SQL

declare namespace dbx {
  /** Named parameters for `{:name}` placeholders. */ type Params = { [key: string]: any };
  /** A filter expression made by `$dbx` (in the filter language of the API). */
  interface Expression {
    readonly __filter: string;
  }
  /** Makes raw queries. */
  interface Builder {
    /** A query of SQL text with `{:name}` placeholders (bound, never spliced). */ newQuery(sql: string): Query;
  }
  /** A raw SQL query. */
  interface Query {
    /** Binds named parameters; returns the query. */ bind(params: Params): Query;
    /** Runs a statement that returns no rows. */ execute(): { rowsAffected(): number; lastInsertId(): number };
    /** The first row, into `model` (a DynamicModel or an object) or as an object; throws when none. */
    one<T = any>(model?: T): T;
    /** Every row, into `list` (from `arrayOf(model)`) or as objects. */ all<T = any>(list?: Array<T>): Array<T>;
    /** The first column of every row. */ column<T = any>(list?: Array<T>): Array<T>;
  }
}

/** Filter expressions for `$app.findAllRecords` and `countRecords`. */
declare namespace $dbx {
  /** A filter in the API's filter language, with `{:name}` parameters. */
  function exp(filter: string, params?: dbx.Params): dbx.Expression;
  /** `column = value` for each pair, joined by AND. */ function hashExp(pairs: { [column: string]: any }): dbx.Expression;
  /** Every expression. */ function and(...exprs: dbx.Expression[]): dbx.Expression;
  /** Any expression. */ function or(...exprs: dbx.Expression[]): dbx.Expression;
  /** The negation. */ function not(expr: dbx.Expression): dbx.Expression;
}

/** A row model whose values take the types of the shape's (zero) values. */
declare class DynamicModel {
  [key: string]: any;
  constructor(shape?: { [key: string]: any });
}
/** An empty list that `Query.all` fills with copies of `model`. */ declare function arrayOf<T>(model: T): Array<T>;

// ------------------------------------------------------------------ values, mail, cron, logs

/** A date in PocketBase's format ("2006-01-02 15:04:05.000Z", UTC). */
declare class DateTime {
  /** `date` ("" is the zero date); none: now. */ constructor(date?: string);
  /** The date's text. */ string(): string;
  /** Whether it is the zero date. */ isZero(): boolean;
  /** Seconds since the epoch. */ unix(): number;
  /** As a JS Date. */ time(): Date;
  /** The date's text. */ toJSON(): string;
  /** The date's text. */ toString(): string;
}

declare namespace mailer {
  /** A mail address. */ interface Address { address: string; name?: string }
  /** A message (PB-COMPAT: sent from the configured sender; cc, bcc, headers not used yet). */
  interface Message {
    from: Address;
    to: Array<Address>;
    bcc: Array<Address>;
    cc: Array<Address>;
    subject: string;
    html: string;
    /** Used when `html` is empty. */ text: string;
    headers: { [key: string]: string };
  }
  /** Sends mail. */
  interface Mailer {
    /** Sends a message through the configured SMTP server. */ send(message: Message): void;
  }
}
interface MailerMessage extends mailer.Message {}
/** A mail message for `$app.newMailClient().send()`. */
declare class MailerMessage {
  constructor(message?: Partial<mailer.Message>);
}

declare namespace cron {
  /** The cron scheduler (as the hook files load; not from inside a handler). */
  interface Cron {
    /** `cronAdd`. */ add(jobId: string, cronExpr: string, fn: () => void): void;
    /** `cronRemove`. */ remove(jobId: string): void;
  }
}

declare namespace slog {
  /** A logger; `attrs` are key, value pairs. */
  interface Logger {
    debug(message: string, ...attrs: any[]): void;
    info(message: string, ...attrs: any[]): void;
    warn(message: string, ...attrs: any[]): void;
    error(message: string, ...attrs: any[]): void;
    /** The same logger (attributes are not kept yet). */ with(...attrs: any[]): Logger;
    /** The same logger (groups are not kept yet). */ withGroup(name: string): Logger;
  }
}

/** Writes to the app's logs (`/api/logs`, stdout). */
interface Console {
  log(...data: any[]): void;
  info(...data: any[]): void;
  warn(...data: any[]): void;
  error(...data: any[]): void;
  debug(...data: any[]): void;
  trace(...data: any[]): void;
}
declare var console: Console;

// ------------------------------------------------------------------ helpers

/** Random strings, hashes, HMACs, JWTs. */
declare namespace $security {
  /** A random alphanumeric string (crypto-grade). */ function randomString(length: number): string;
  /** A random string of the alphabet's characters. */
  function randomStringWithAlphabet(length: number, alphabet: string): string;
  /** `randomString`. */ function pseudorandomString(length: number): string;
  /** `randomStringWithAlphabet`. */ function pseudorandomStringWithAlphabet(length: number, alphabet: string): string;
  /** Hex MD5. */ function md5(text: string): string;
  /** Hex SHA-256. */ function sha256(text: string): string;
  /** Hex SHA-512. */ function sha512(text: string): string;
  /** Hex HMAC-SHA256. */ function hs256(text: string, secret: string): string;
  /** Hex HMAC-SHA512. */ function hs512(text: string, secret: string): string;
  /** Constant-time string comparison. */ function equal(hash1: string, hash2: string): boolean;
  /** An HS256 JWT of the payload, valid for `secDuration` seconds. */
  function createJWT(payload: { [key: string]: any }, signingKey: string, secDuration: number): string;
  /** A JWT's claims, after checking its signature and expiry (throws otherwise). */
  function parseJWT(token: string, verificationKey: string): { [key: string]: any };
  /** A JWT's claims, unchecked. */ function parseUnverifiedJWT(token: string): { [key: string]: any };
  /** AES-GCM (key of 16, 24 or 32 characters), base64 of nonce and sealed data. */ function encrypt(data: string, key: string): string;
  /** The text `encrypt` sealed with `key`. */ function decrypt(cipherText: string, key: string): string;
}

/** Operating system helpers. */
declare namespace $os {
  /** An environment variable ("" when unset). */ function getenv(key: string): string;
  /** The command line arguments (empty in oxbase). */ let args: Array<string>;
  /** A file's bytes. */ function readFile(name: string): Array<number>;
  /** Writes a file (`perm` is accepted and ignored). */
  function writeFile(name: string, data: string | Array<number>, perm?: number): void;
  /** The working directory. */ function getwd(): string;
  /** The temporary directory. */ function tempDir(): string;
  /** A command (Go's `exec.Command`): `$os.cmd("ls", "-la").output()`. */
  function cmd(name: string, ...args: Array<string>): exec.Cmd;
  /** The same (PocketBase's older name). */ function exec(name: string, ...args: Array<string>): exec.Cmd;
}

/** Commands (Go's os/exec), from `$os.cmd`. */
declare namespace exec {
  /** A command to run. */
  interface Cmd {
    path: string;
    args: Array<string>;
    /** The working directory ("" for the server's). */ dir: string;
    /** `KEY=value` entries added to the environment. */ env: Array<string>;
    /** Runs it to its end; its standard output (throws on a non-zero exit). */ output(): Array<number>;
    /** The same, standard error appended. */ combinedOutput(): Array<number>;
    /** Runs it to its end. */ run(): void;
  }
}

/** An auth flow's message sent now, with the record's template and a fresh token. */
declare namespace $mails {
  /** The password reset mail. */ function sendRecordPasswordReset(app: core.App, record: core.Record): void;
  /** The verification mail. */ function sendRecordVerification(app: core.App, record: core.Record): void;
  /** The email change confirmation, to `newEmail`. */ function sendRecordChangeEmail(app: core.App, record: core.Record, newEmail: string): void;
  /** The one-time password mail. */ function sendRecordOTP(app: core.App, record: core.Record, otpId: string, password: string): void;
  /** The new-device login alert. */ function sendRecordAuthAlert(app: core.App, record: core.Record, info: string): void;
}

/** Go's html/template, the subset described in docs/hooks.md. */
declare namespace $template {
  /** The templates of these files; the first one's is rendered (Go's `ParseFiles`). */ function loadFiles(...filenames: string[]): template.Renderer;
  /** A template of this text. */ function loadString(text: string): template.Renderer;
}

declare namespace template {
  interface Renderer {
    /** The template over `data`, escaped as HTML (throws the parse or execution error). */ render(data?: any): string;
  }
}

/** Files to set on a record's file field (`record.set("doc", file); $app.save(record)`). */
declare namespace $filesystem {
  /** A file of these bytes (a string is its UTF-8 bytes). */ function fileFromBytes(bytes: Array<number> | Uint8Array | string, name: string): filesystem.File;
  /** A copy of a local file. */ function fileFromPath(path: string): filesystem.File;
  /** The body of a GET of `url` (timeout in seconds, default 120). */ function fileFromURL(url: string, secTimeout?: number): filesystem.File;
  /** A copy of a file of `e.findUploadedFiles()`. */ function fileFromMultipart(file: filesystem.File): filesystem.File;
}

declare namespace filesystem {
  interface File {
    /** The name it will be stored under. */ name: string;
    originalName: string;
    size: number;
  }
}

/** Slash-separated path helpers (Go's path/filepath). */
declare namespace $filepath {
  /** The last element. */ function base(path: string): string;
  /** All but the last element. */ function dir(path: string): string;
  /** The extension, with its dot. */ function ext(path: string): string;
  /** Joins and cleans. */ function join(...elem: string[]): string;
  /** Resolves `.`, `..` and repeated slashes. */ function clean(path: string): string;
  /** Whether the path is absolute. */ function isAbs(path: string): boolean;
  /** `[dir, file]`. */ function split(path: string): Array<string>;
  /** The path (already slash-separated). */ function toSlash(path: string): string;
  /** The path (already slash-separated). */ function fromSlash(path: string): string;
}

/** An outgoing HTTP client. */
declare namespace $http {
  /** Sends a request and waits for its answer (timeout in seconds, default 120). */
  function send(config: {
    url: string;
    /** Default "GET". */ method?: string;
    /** A string, or an object sent as JSON. */ body?: string | { [key: string]: any };
    headers?: { [key: string]: string };
    timeout?: number;
  }): {
    statusCode: number;
    /** Canonical names (e.g. "Content-Type") to their values. */ headers: { [key: string]: Array<string> };
    /** PB-COMPAT: a cookie's value (PocketBase: an http.Cookie). */ cookies: { [key: string]: string };
    /** The body parsed as JSON, or null. */ json: any;
    /** The body's bytes. */ body: Array<number>;
    /** The body as text. */ raw: string;
  };
}

/** Loads a CommonJS module (relative paths from the working directory; `__hooks + "/x.js"` for the hooks folder), once per runtime. */
declare function require(path: string): any;
/** Blocks for `milliseconds` (capped by the hook timeout). */ declare function sleep(milliseconds: number): void;
/** A value as text: bytes decoded, objects as JSON, null as "". */ declare function toString(val: any): string;
/** `toString` (PocketBase's older name). */ declare function readerToString(reader: any): string;
/** A value's text as bytes. */ declare function toBytes(val: any): Array<number>;
/** Copies `data` (an object or its JSON text) onto `dst`; returns `dst`. */ declare function unmarshal<T>(data: any, dst: T): T;
