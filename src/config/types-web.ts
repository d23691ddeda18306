/**
 * The normalized web services of a `web` transport (Crossbar.io's path services other than
 * `websocket`), as `node.ts` and `web/services/` consume them: files resolved to absolute paths
 * against the node directory, defaults filled in. A `path` service is flattened into mounts of
 * its children (see `normalize-web.ts`), so none appears here.
 */

/** File extension (".svg", ".min.js") → MIME type. */
export type MimeTypes = Readonly<Record<string, string>>;

export interface StaticPathConfig {
  readonly type: 'static';
  /** Absolute; need not exist (Crossbar.io serves 404s then, and so does xbar, with a warning). */
  readonly directory: string;
  readonly directoryListing: boolean;
  readonly mimeTypes: MimeTypes;
  /** `Cache-Control: max-age` seconds; null = no caching headers. */
  readonly cacheTimeout: number | null;
  /** File (relative to `directory`) served for paths that name no file. */
  readonly defaultFile?: string;
}

export interface RedirectPathConfig {
  readonly type: 'redirect';
  readonly url: string;
}

export interface ReverseProxyPathConfig {
  readonly type: 'reverseproxy';
  readonly host: string;
  readonly port: number;
  /** Prefixed to the forwarded path ('' or "/base", no trailing slash). */
  readonly path: string;
  readonly forwardedPort: number;
  readonly forwardedProto: 'http' | 'https';
}

export interface JsonPathConfig {
  readonly type: 'json';
  /** The value as sent (UTF-8 JSON text). */
  readonly body: string;
  readonly allowCrossOrigin: boolean;
  readonly discourageCaching: boolean;
}

export interface NodeInfoPathConfig {
  readonly type: 'nodeinfo';
}

/** 404 for the path itself: a `path` service without a "/" child. */
export interface NotFoundPathConfig {
  readonly type: 'notfound';
}

export interface CgiPathConfig {
  readonly type: 'cgi';
  /** Absolute. */
  readonly directory: string;
  readonly processor: string;
}

export interface ArchivePathConfig {
  readonly type: 'archive';
  /** Absolute path of the ZIP file. */
  readonly file: string;
  /** Download from here at start when `file` is missing and `download` is set. */
  readonly origin?: string;
  readonly download: boolean;
  readonly cache: boolean;
  readonly defaultObject?: string;
  readonly objectPrefix?: string;
  readonly mimeTypes: MimeTypes;
  /** Lower-case SHA-256 hex fingerprints; empty = unverified. */
  readonly hashes: readonly string[];
  /** Served for paths not in the archive. */
  readonly defaultFile?: string;
}

/** Form field names of the chunked upload protocol (resumable.js's by default). */
export interface UploadFormFields {
  readonly fileName: string;
  readonly mimeType: string;
  readonly totalSize: string;
  readonly chunkNumber: string;
  readonly chunkSize: string;
  readonly totalChunks: string;
  readonly content: string;
  readonly onProgress?: string;
  readonly session?: string;
  readonly chunkExtra?: string;
  readonly finishExtra?: string;
}

export interface UploadPathConfig {
  readonly type: 'upload';
  readonly realm: string;
  readonly role: string;
  /** Absolute; finished files. */
  readonly directory: string;
  /** Absolute; one folder of chunks per unfinished upload. */
  readonly tempDirectory: string;
  readonly formFields: UploadFormFields;
  /** Bytes per file. */
  readonly maxFileSize: number;
  /** Allowed extensions with their dot; undefined = any. */
  readonly fileTypes?: readonly string[];
  /** Mode of finished files; undefined = the process umask's. */
  readonly filePermissions?: number;
  /** Unfinished uploads kept at once (xbar's): a new one past it is refused with 503. */
  readonly maxUnfinished: number;
  /** ms an unfinished upload may go without a chunk before it is dropped (xbar's). */
  readonly unfinishedTimeout: number;
}

export interface WapRoute {
  readonly path: string;
  readonly method: 'GET' | 'POST';
  readonly call: string | null;
  readonly render: string;
}

export interface WapPathConfig {
  readonly type: 'wap';
  /** Absolute template directory. */
  readonly templates: string;
  readonly routes: readonly WapRoute[];
  readonly realm: string;
  readonly authrole: string;
}

export type ProxyBackendEndpoint =
  | { readonly type: 'tcp'; readonly host: string; readonly port: number; readonly version?: 4 | 6; readonly timeout: number }
  | { readonly type: 'unix'; readonly path: string; readonly timeout: number };

export interface WebSocketProxyPathConfig {
  readonly type: 'websocket-reverseproxy';
  readonly endpoint: ProxyBackendEndpoint;
  /** The backend's WebSocket URL (its path and Host). */
  readonly url: string;
  /** Largest message either side may send, bytes. */
  readonly maxMessageSize: number;
}

/** Where a Python web app runs: as the router worker's code runs under Crossbar.io. */
export interface PythonWebHost {
  /** The node directory: the process's working directory, on sys.path after `pythonpath`. */
  readonly cbdir: string;
  /** The router worker's `options.pythonpath`, absolute. */
  readonly pythonpath: readonly string[];
  /** The router worker's `options.python`; undefined = the system's Python 3. */
  readonly python?: string;
}

/** A WSGI application: `object` of `module`. */
export interface WsgiPathConfig {
  readonly type: 'wsgi';
  readonly module: string;
  readonly object: string;
  readonly minThreads: number;
  readonly maxThreads: number;
  readonly host: PythonWebHost;
}

/** A Twisted Web resource: `classname(extra)`. */
export interface ResourcePathConfig {
  readonly type: 'resource';
  readonly classname: string;
  readonly extra: unknown;
  readonly host: PythonWebHost;
}

export type WebServicePathConfig =
  | StaticPathConfig | RedirectPathConfig | ReverseProxyPathConfig | JsonPathConfig | NodeInfoPathConfig
  | NotFoundPathConfig | CgiPathConfig | ArchivePathConfig | UploadPathConfig | WapPathConfig | WebSocketProxyPathConfig
  | HttpBridgePathConfig | WsgiPathConfig | ResourcePathConfig;

/**
 * What the HTTP bridge checks of each request before it reaches the router (Crossbar.io's
 * `_CommonResource` options), normalized.
 */
export interface BridgeRequestChecks {
  /** Signed requests are required when set (with `key`). */
  readonly key?: string;
  readonly secret?: string;
  readonly requireTls: boolean;
  /** CIDR networks the client must be in; undefined = any. */
  readonly requireIp?: readonly string[];
  /** Bytes; 0 = Crossbar.io's "no limit" (xbar still bounds a body at `maxBody`). */
  readonly postBodyLimit: number;
  /** Seconds a request's `timestamp` may differ from now; 0 = any. */
  readonly timestampDeltaLimit: number;
  /** The webhook's GitHub secret: the X-Hub-Signature (HMAC-SHA1 of the body) must match. */
  readonly githubSecret?: string;
  /** Whether the body must be JSON (publisher, caller) or is taken as text (webhook). */
  readonly json: boolean;
}

/** `publisher`, `caller` and `webhook`: an in-process session on `realm` with `role`. */
export interface PublisherPathConfig {
  readonly type: 'publisher';
  readonly realm: string;
  readonly role: string;
  readonly checks: BridgeRequestChecks;
}

export interface CallerPathConfig {
  readonly type: 'caller';
  readonly realm: string;
  readonly role: string;
  readonly checks: BridgeRequestChecks;
  /** Milliseconds a call may take at most (a request's `options.timeout` may ask for less). */
  readonly callTimeout: number;
}

export interface WebhookPathConfig {
  readonly type: 'webhook';
  readonly realm: string;
  readonly role: string;
  readonly checks: BridgeRequestChecks;
  readonly topic: string;
  readonly successResponse: string;
  readonly errorResponse: string;
}

/** xbar's Server-Sent Events service: one subscription per GET stream. */
export interface SsePathConfig {
  readonly type: 'sse';
  readonly realm: string;
  readonly role: string;
  /** Bytes a stream may have unsent; an event beyond is dropped for it or the stream closed. */
  readonly maxOutBuffer: number;
  readonly slowConsumer: 'drop' | 'disconnect';
  /** Milliseconds between keep-alive comments; 0 = none. */
  readonly keepalive: number;
  readonly maxClients: number;
  readonly requireTls: boolean;
  readonly requireIp?: readonly string[];
}

export type HttpBridgePathConfig = PublisherPathConfig | CallerPathConfig | WebhookPathConfig | SsePathConfig;
