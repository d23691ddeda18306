/**
 * Zod schemas of Crossbar.io's web services (path services of a `web` transport other than
 * `websocket`): static, redirect, reverseproxy, json, nodeinfo, archive, upload, wap, cgi and
 * websocket-reverseproxy. Keys and required ones follow Crossbar.io's checkers
 * (`crossbar/common/checkconfig.py` `check_web_path_service_*`, `webservice/archive.py` and
 * `webservice/wap.py` `check`); the nested `path` service lives beside the path map in
 * `schema-transport.ts`, since it contains one. The HTTP bridge's services (publisher, caller,
 * webhook, and xbar's sse) are here too.
 */
import { z } from 'zod';
import { isValidUri } from '../wamp/uri.js';
import { bridgeNetworkError } from '../network/bridge-networks.js';
import { bool, expect, int, listOf, nonEmpty, oneOf, str, strict, strings, tag } from './schema-kit.js';

const id = z
  .string(expect('string'))
  .regex(/^[a-z][a-z0-9_]{2,63}$/, expect('id of 3-64 characters a-z, 0-9 or "_", starting with a letter'))
  .optional();
const port = () => int(1, 65535);
/** File extension (".svg", ".min.js") → MIME type. */
const mimeTypes = z.record(
  z.string().regex(/^\.[^/\\]+$/, expect('file extension starting with "."')),
  nonEmpty(),
  expect('object mapping file extensions to MIME types'),
);
const httpUrl = z
  .string(expect('string'))
  .refine((u) => URL.canParse(u) && ['http:', 'https:'].includes(new URL(u).protocol), { message: 'expected an http:// or https:// URL' });
const wampUri = (what: string) =>
  z.string(expect(`${what} (a WAMP URI)`)).refine((u) => isValidUri(u, 'loose'), { message: `expected ${what} (a WAMP URI)` });

export const staticPath = strict({
  type: tag('static', 'path service type'),
  id,
  /** Absolute or relative to the node directory (the config file's folder). */
  directory: nonEmpty().optional(),
  /** A Python package and a resource inside it (`importlib.resources.files(package) / resource`). */
  package: nonEmpty().optional(),
  resource: str().optional(),
  options: strict({
    enable_directory_listing: bool().optional(),
    mime_types: mimeTypes.optional(),
    /** Seconds of `Cache-Control: max-age`; null = no caching headers. Crossbar.io's default is 12 h. */
    cache_timeout: int(0, 10 * 365 * 86_400, 'seconds').nullable().optional(),
    /** Served (status 200) for any path that names no file: a single-page app's fallback. */
    default_file: nonEmpty().optional(),
  }).optional(),
}).check((ctx) => {
  const { directory, package: pkg, resource } = ctx.value;
  const fromPackage = pkg !== undefined || resource !== undefined;
  if ((directory !== undefined) === fromPackage || (fromPackage && (pkg === undefined || resource === undefined))) {
    ctx.issues.push({
      code: 'custom',
      input: ctx.value,
      message: 'a static path service needs either "directory" or "package" + "resource", not both',
    });
  }
});

export const redirectPath = strict({ type: tag('redirect', 'path service type'), id, url: nonEmpty() });

export const reverseproxyPath = strict({
  type: tag('reverseproxy', 'path service type'),
  id,
  host: nonEmpty(),
  port: port().optional(),
  /** Prefixed to the forwarded path ("" by default). */
  path: str().optional(),
  /** What X-Forwarded-Port and X-Forwarded-Proto say (Crossbar.io: 80 and "http" unless set). */
  forwarded_port: port().optional(),
  forwarded_proto: oneOf(['http', 'https'], 'protocol').optional(),
});

export const jsonPath = strict({
  type: tag('json', 'path service type'),
  id,
  value: z.unknown().refine((v) => v !== undefined, { message: 'expected a JSON value' }),
  options: strict({
    prettify: bool().optional(),
    allow_cross_origin: bool().optional(),
    discourage_caching: bool().optional(),
  }).optional(),
});

export const nodeinfoPath = strict({ type: tag('nodeinfo', 'path service type'), id });

export const cgiPath = strict({
  type: tag('cgi', 'path service type'),
  id,
  directory: nonEmpty(),
  /** The executable that runs each script (`processor SCRIPT`), e.g. "/usr/bin/python3". */
  processor: nonEmpty(),
});

export const archivePath = strict({
  type: tag('archive', 'path service type'),
  id,
  /** The ZIP file, relative to the node directory. */
  archive: nonEmpty(),
  /** Where to download the ZIP from when the file is missing (with `download: true`). */
  origin: httpUrl.optional(),
  download: bool().optional(),
  /** Keep each file's uncompressed bytes in memory after its first request. */
  cache: bool().optional(),
  /** Served for the service's own path and any path ending in "/". */
  default_object: str().optional(),
  /** Prefixed to the request path inside the archive. */
  object_prefix: str().optional(),
  mime_types: mimeTypes.optional(),
  /** SHA-256 fingerprints (hex) the archive must match. */
  hashes: listOf(z.string(expect('SHA-256 hex string')).regex(/^[0-9a-fA-F]{64}$/, expect('SHA-256 fingerprint (64 hex digits)')), 'fingerprints').optional(),
  options: strict({ default_file: str().optional() }).optional(),
});

const formFields = strict({
  file_name: nonEmpty(),
  mime_type: nonEmpty(),
  total_size: nonEmpty(),
  chunk_number: nonEmpty(),
  chunk_size: nonEmpty(),
  total_chunks: nonEmpty(),
  content: nonEmpty(),
  on_progress: nonEmpty().optional(),
  session: nonEmpty().optional(),
  chunk_extra: nonEmpty().optional(),
  finish_extra: nonEmpty().optional(),
});

export const uploadPath = strict({
  type: tag('upload', 'path service type'),
  id,
  /** The realm and role of the session that publishes progress events. */
  realm: wampUri('realm name'),
  role: nonEmpty(),
  /** Finished files go here (relative to the node directory). */
  directory: nonEmpty(),
  /** Chunks of unfinished uploads; default: the system's temporary folder. */
  temp_directory: nonEmpty().optional(),
  form_fields: formFields,
  options: strict({
    max_file_size: int(0, Number.MAX_SAFE_INTEGER, 'bytes').optional(),
    file_types: strings().optional(),
    /** Octal mode of finished files, e.g. "0644". */
    file_permissions: z.string(expect('octal file mode such as "0644"')).regex(/^0?[0-7]{3,4}$/, expect('octal file mode such as "0644"')).optional(),
    // xbar's: what unfinished uploads may hold of the disk.
    max_unfinished_uploads: int(1, 1_000_000, 'uploads').optional(),
    unfinished_timeout: int(1, 30 * 86_400, 'seconds').optional(),
  }).optional(),
});

const wapRoute = strict({
  /** A Werkzeug rule below the service's path: "/greeting/<name>", "/item/<int:id>". */
  path: z.string(expect('route path starting with "/"')).startsWith('/', expect('route path starting with "/"')),
  method: oneOf(['GET', 'POST'], 'HTTP method'),
  /** The procedure whose result the template renders; null = render with no data. */
  call: wampUri('procedure').nullable().optional(),
  /** Template file in `templates`. */
  render: nonEmpty(),
});

export const wapPath = strict({
  type: tag('wap', 'path service type'),
  id,
  /** A template directory (relative to the node directory), or a Python package resource. */
  templates: z.union([nonEmpty(), strict({ package: nonEmpty(), resource: nonEmpty() })], expect('directory name or {"package", "resource"}')),
  sandbox: bool().optional(),
  routes: listOf(wapRoute, 'routes'),
  wamp: strict({ realm: wampUri('realm name'), authrole: nonEmpty() }),
});

/** A connecting endpoint (Crossbar.io `check_connecting_endpoint`): tcp or unix. */
const connectingEndpoint = z.discriminatedUnion(
  'type',
  [
    strict(
      {
        type: tag('tcp', 'endpoint type'),
        host: nonEmpty(),
        port: port(),
        version: z.union([z.literal(4), z.literal(6)], expect('4 or 6')).optional(),
        /** Connect timeout, seconds. */
        timeout: int(1, 3600, 'seconds').optional(),
      },
      ['tls'],
      { tls: 'TLS to a reverse-proxy backend is a Crossbar.io feature xbar does not run yet; proxy to a plain ws:// backend on loopback instead' },
    ),
    strict({ type: tag('unix', 'endpoint type'), path: nonEmpty(), timeout: int(1, 3600, 'seconds').optional() }),
  ],
  { error: () => 'expected endpoint type "tcp" or "unix"' },
);

/**
 * The `websocket-reverseproxy` service, given the schema of WebSocket options (`schema-transport.ts`
 * owns it): the frontend's `options` and the backend's are checked as a websocket path's are.
 */
export function websocketReverseproxyPath<O extends z.ZodType<{ max_message_size?: number | undefined }>>(options: O) {
  return strict({
    type: tag('websocket-reverseproxy', 'path service type'),
    id,
    url: str().optional(),
    options: options.optional(),
    backend: strict({
      type: tag('websocket', 'backend transport type'),
      id,
      endpoint: connectingEndpoint,
      url: nonEmpty(),
      serializers: strings().optional(),
      options: options.optional(),
    }),
  });
}

/** A network for `require_ip`: "10.0.0.0/8", "127.0.0.1", or Python's "192.168.1.1/255.255.255.0". */
const bridgeNetwork = z.string(expect('IP address or network')).refine((n) => bridgeNetworkError(n) === undefined, {
  error: (issue) => bridgeNetworkError(String(issue.input)) ?? 'expected an IP address or network',
});

/** What a publisher and a caller check of each request (Crossbar.io's `_CommonResource` options). */
const bridgeRequestOptions = {
  debug: bool().optional(),
  key: str().optional(),
  secret: str().optional(),
  require_tls: bool().optional(),
  require_ip: listOf(bridgeNetwork, 'networks').optional(),
  /** Bytes; 0 = no limit of Crossbar.io's (xbar still bounds a body, see `web/services/rest/`). */
  post_body_limit: int(0, 2 ** 20, 'bytes').optional(),
  /** Seconds a signed request's timestamp may be off; 0 = any. */
  timestamp_delta_limit: int(0, 86_400, 'seconds').optional(),
};

const bridgeSession = { id, realm: wampUri('realm name'), role: nonEmpty() };

export const publisherPath = strict({ type: tag('publisher', 'path service type'), ...bridgeSession, options: strict(bridgeRequestOptions).optional() });
export const callerPath = strict({
  type: tag('caller', 'path service type'),
  ...bridgeSession,
  options: strict({
    ...bridgeRequestOptions,
    /** xbar: seconds a call may take (Crossbar.io waits for ever); a request's `options.timeout` may ask for less. */
    call_timeout: int(1, 86_400, 'seconds').optional(),
  }).optional(),
});

export const webhookPath = strict({
  type: tag('webhook', 'path service type'),
  ...bridgeSession,
  options: strict({
    debug: bool().optional(),
    post_body_limit: int(0, 2 ** 20, 'bytes').optional(),
    /** Crossbar.io's checker leaves it optional, but a webhook without a topic cannot publish. */
    topic: wampUri('topic'),
    success_response: str().optional(),
    error_response: str().optional(),
    github_secret: str().optional(),
  }),
});

/** xbar's Server-Sent Events service: `GET <path>?topic=URI[&match=prefix|wildcard]`. */
export const ssePath = strict({
  type: tag('sse', 'path service type'),
  ...bridgeSession,
  options: strict({
    /** Bytes of events a stream may have unsent (the slow-consumer rule, as a websocket path's). */
    max_out_buffer: int(1024, 256 * 1024 * 1024, 'bytes').optional(),
    slow_consumer: oneOf(['drop', 'disconnect'], 'slow consumer policy').optional(),
    /** Seconds between keep-alive comments; 0 = none. */
    keepalive: int(0, 3600, 'seconds').optional(),
    /** Streams open at once on this path. */
    max_clients: int(1, 1_000_000, 'streams').optional(),
    require_tls: bool().optional(),
    require_ip: listOf(bridgeNetwork, 'networks').optional(),
  }).optional(),
});

/**
 * A WSGI application (Crossbar.io `check_web_path_service_wsgi`): `object` of `module`, imported
 * with the router worker's Python path; run in a child process (web/services/python-web.ts).
 */
export const wsgiPath = strict({
  type: tag('wsgi', 'path service type'),
  id,
  module: nonEmpty(),
  object: nonEmpty(),
  /** Twisted's thread pool bounds (0 and 20 by default). */
  minthreads: int(0, 1000, 'threads').optional(),
  maxthreads: int(1, 1000, 'threads').optional(),
}).check((ctx) => {
  const { minthreads = 0, maxthreads = 20 } = ctx.value;
  // Twisted's ThreadPool asserts this when Crossbar.io starts the service.
  if (minthreads > maxthreads) ctx.issues.push({ code: 'custom', input: ctx.value, path: ['minthreads'], message: `must not exceed maxthreads (${maxthreads})` });
});

/** A Twisted Web resource (Crossbar.io `check_web_path_service_resource`): `classname(extra)`. */
export const resourcePath = strict({
  type: tag('resource', 'path service type'),
  id,
  /** "package.module.Class", called with `extra` ({} when absent). */
  classname: z.string(expect('"module.Class"')).regex(/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$/, expect('"module.Class"')),
  extra: z.unknown().optional(),
});

/** Crossbar.io path types xbar refuses, with what to do instead. */
export const REFUSED_PATH_SERVICES: Readonly<Record<string, string>> = {
  catalog: 'the XBR data market catalog is a Crossbar.io feature xbar does not run; remove the path',
};
