/**
 * Validated web-service documents → `types-web.ts` configs, and the path tree → flat mounts.
 *
 * A `path` service is a folder (Crossbar.io's `RouterWebServiceNestedPath`): its "/" child serves
 * the folder's own path, every other child is mounted below it. Flattened, `{"a": {"type":
 * "path", "paths": {"/": S, "ws": W}}}` becomes mounts "a" → S and "a/ws" → W; without a "/"
 * child, "a" answers 404, as Crossbar.io's `Resource404` does. The web server picks the longest
 * mounted prefix, so the tree behaves as Twisted's resource tree.
 *
 * Files are resolved against the node directory (the config file's folder), as Crossbar.io
 * resolves them against `cbdir`.
 */
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyPath } from './issues.js';
import type { LoadContext } from './load-context.js';
import { packageResource } from './python-resource.js';
import type { PathServiceDocument } from './schema-transport.js';
import type { PathService, RealmConfig } from './types.js';
import { httpBridgePath } from './normalize-bridge.js';
import type { ArchivePathConfig, PythonWebHost, UploadPathConfig, WapPathConfig, WebServicePathConfig, WebSocketProxyPathConfig } from './types-web.js';

const MiB = 1024 * 1024;
/** The router's own role (auth/authorizer.ts `TRUSTED_ROLE`; config/ does not import auth/). */
const TRUSTED_ROLE = 'trusted';

export const WEB_DEFAULTS = {
  /** Crossbar.io's `DEFAULT_CACHE_TIMEOUT`: 12 hours. */
  cacheTimeout: 12 * 60 * 60,
  /** Crossbar.io's reverse proxy defaults: port 80, and these forwarded values. */
  proxyPort: 80,
  forwardedPort: 80,
  forwardedProto: 'http',
  /** The old Crossbar.io upload resource's default (`max_file_size` 10 MiB). */
  maxFileSize: 10 * MiB,
  /** Unfinished uploads at once: with max_file_size, what they may hold of the disk (1 GiB). */
  maxUnfinishedUploads: 100,
  /** Seconds an unfinished upload is kept without a new chunk (resumable.js resumes within minutes). */
  unfinishedTimeout: 3600,
  /** Crossbar.io's WebSocket limit default is none; ours is the same 16 MiB as a websocket path. */
  proxyMaxMessageSize: 16 * MiB,
  /** Seconds to wait for a proxied WebSocket backend to accept the connection. */
  proxyConnectTimeout: 10,
} as const;

type Leaf = Exclude<PathServiceDocument, { type: 'path' }>;
type Doc<T extends Leaf['type']> = Extract<Leaf, { type: T }>;
/** How the caller normalizes the services this file does not know (websocket, relay, stats…). */
export type OtherService = (d: Exclude<Leaf, { type: WebServicePathConfig['type'] }>, at: KeyPath) => PathService;

/** The mounts of a web transport's `paths`: key ('' = root, "a/b") → service. */
export function flattenPaths(
  paths: Readonly<Record<string, PathServiceDocument>>,
  at: KeyPath,
  ctx: LoadContext,
  realms: readonly RealmConfig[],
  other: OtherService,
  prefix = '',
  out = new Map<string, PathService>(),
): Map<string, PathService> {
  const mountOf = (key: string) => (key === '/' ? prefix : prefix === '' ? key : `${prefix}/${key}`);
  if (prefix !== '' && paths['/'] === undefined) out.set(prefix, { type: 'notfound' });
  for (const [key, d] of Object.entries(paths)) {
    const here = [...at, 'paths', key];
    if (d.type === 'path') {
      flattenPaths(d.paths, here, ctx, realms, other, mountOf(key), out);
      continue;
    }
    out.set(mountOf(key), webService(d, here, ctx, realms) ?? other(d as Parameters<OtherService>[0], here));
  }
  return out;
}

function webService(d: Leaf, at: KeyPath, ctx: LoadContext, realms: readonly RealmConfig[]): WebServicePathConfig | undefined {
  switch (d.type) {
    case 'static':
      return staticPath(d, at, ctx);
    case 'redirect':
      return { type: 'redirect', url: d.url };
    case 'reverseproxy':
      return {
        type: 'reverseproxy',
        host: d.host,
        port: d.port ?? WEB_DEFAULTS.proxyPort,
        path: (d.path ?? '').replace(/\/+$/, ''),
        forwardedPort: d.forwarded_port ?? WEB_DEFAULTS.forwardedPort,
        forwardedProto: d.forwarded_proto ?? WEB_DEFAULTS.forwardedProto,
      };
    case 'json': {
      const o = d.options ?? {};
      return {
        type: 'json',
        body: o.prettify === true ? JSON.stringify(d.value, null, 3) : JSON.stringify(d.value),
        allowCrossOrigin: o.allow_cross_origin ?? true,
        discourageCaching: o.discourage_caching ?? false,
      };
    }
    case 'nodeinfo':
      return { type: 'nodeinfo' };
    case 'cgi':
      return { type: 'cgi', directory: ctx.path(d.directory), processor: d.processor };
    case 'archive':
      return archivePath(d, at, ctx);
    case 'upload':
      return uploadPath(d, at, ctx, realms);
    case 'wap':
      return wapPath(d, at, ctx, realms);
    case 'websocket-reverseproxy':
      return websocketProxyPath(d);
    case 'publisher':
    case 'caller':
    case 'webhook':
    case 'sse':
      return httpBridgePath(d, at, ctx, realms);
    case 'wsgi':
      return { type: 'wsgi', module: d.module, object: d.object, minThreads: d.minthreads ?? 0, maxThreads: d.maxthreads ?? 20, host: pythonHost(ctx) };
    case 'resource':
      return { type: 'resource', classname: d.classname, extra: d.extra ?? {}, host: pythonHost(ctx) };
    default:
      return undefined;
  }
}

/** The router workers' Python settings (set by normalize.ts before the transports are normalized). */
function pythonHost(ctx: LoadContext): PythonWebHost {
  const { pythonpath, python } = ctx.routerPython;
  return { cbdir: ctx.baseDir, pythonpath, ...(python === undefined ? {} : { python }) };
}

function staticPath(d: Doc<'static'>, at: KeyPath, ctx: LoadContext): WebServicePathConfig {
  let directory = d.directory === undefined ? '' : ctx.path(d.directory);
  if (d.package !== undefined && d.resource !== undefined) {
    const found = packageResource(d.package, d.resource);
    if ('problem' in found) ctx.problem([...at, 'package'], found.problem);
    else directory = found.path;
  }
  const o = d.options ?? {};
  return {
    type: 'static',
    directory,
    directoryListing: o.enable_directory_listing ?? false,
    mimeTypes: o.mime_types ?? {},
    cacheTimeout: o.cache_timeout === undefined ? WEB_DEFAULTS.cacheTimeout : o.cache_timeout,
    ...(o.default_file === undefined ? {} : { defaultFile: o.default_file }),
  };
}

function archivePath(d: Doc<'archive'>, at: KeyPath, ctx: LoadContext): ArchivePathConfig {
  const file = ctx.path(d.archive);
  // A missing file with no origin passes the check, as Crossbar.io's checkconfig; the start fails (archive.ts).
  if (existsSync(file) && !statSync(file).isFile()) {
    ctx.problem([...at, 'archive'], `${JSON.stringify(file)} exists but is not a file`);
  }
  return {
    type: 'archive',
    file,
    ...(d.origin === undefined ? {} : { origin: d.origin }),
    download: d.download ?? false,
    cache: d.cache ?? false,
    ...(d.default_object === undefined ? {} : { defaultObject: d.default_object }),
    ...(d.object_prefix === undefined ? {} : { objectPrefix: d.object_prefix }),
    mimeTypes: d.mime_types ?? {},
    hashes: (d.hashes ?? []).map((h) => h.toLowerCase()),
    ...(d.options?.default_file === undefined ? {} : { defaultFile: d.options.default_file }),
  };
}

/** The realm and role a service session joins must exist (or be the router's own "trusted"). */
export function checkRole(realms: readonly RealmConfig[], realm: string, role: string, at: KeyPath, ctx: LoadContext, roleKey = 'role'): void {
  const r = realms.find((x) => x.name === realm);
  if (r === undefined) ctx.problem([...at, 'realm'], `no realm ${JSON.stringify(realm)} in this config`);
  else if (role !== TRUSTED_ROLE && !r.roles.some((x) => x.name === role)) {
    ctx.problem([...at, roleKey], `no role ${JSON.stringify(role)} in realm ${JSON.stringify(realm)}`);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function uploadPath(d: Doc<'upload'>, at: KeyPath, ctx: LoadContext, realms: readonly RealmConfig[]): UploadPathConfig {
  checkRole(realms, d.realm, d.role, at, ctx);
  const directory = ctx.path(d.directory);
  // Crossbar.io refuses to start without the upload directory; the temporary one is made at start.
  if (!isDirectory(directory)) ctx.problem([...at, 'directory'], `${JSON.stringify(directory)} is not a directory`);
  const f = d.form_fields;
  const o = d.options ?? {};
  return {
    type: 'upload',
    realm: d.realm,
    role: d.role,
    directory,
    tempDirectory: d.temp_directory === undefined ? join(tmpdir(), 'xbar-uploads') : ctx.path(d.temp_directory),
    formFields: {
      fileName: f.file_name, mimeType: f.mime_type, totalSize: f.total_size, chunkNumber: f.chunk_number,
      chunkSize: f.chunk_size, totalChunks: f.total_chunks, content: f.content,
      ...(f.on_progress === undefined ? {} : { onProgress: f.on_progress }),
      ...(f.session === undefined ? {} : { session: f.session }),
      ...(f.chunk_extra === undefined ? {} : { chunkExtra: f.chunk_extra }),
      ...(f.finish_extra === undefined ? {} : { finishExtra: f.finish_extra }),
    },
    maxFileSize: o.max_file_size ?? WEB_DEFAULTS.maxFileSize,
    ...(o.file_types === undefined ? {} : { fileTypes: o.file_types }),
    ...(o.file_permissions === undefined ? {} : { filePermissions: parseInt(o.file_permissions, 8) }),
    maxUnfinished: o.max_unfinished_uploads ?? WEB_DEFAULTS.maxUnfinishedUploads,
    unfinishedTimeout: (o.unfinished_timeout ?? WEB_DEFAULTS.unfinishedTimeout) * 1000,
  };
}

function wapPath(d: Doc<'wap'>, at: KeyPath, ctx: LoadContext, realms: readonly RealmConfig[]): WapPathConfig {
  checkRole(realms, d.wamp.realm, d.wamp.authrole, [...at, 'wamp'], ctx, 'authrole');
  let templates = '';
  if (typeof d.templates === 'string') templates = ctx.path(d.templates);
  else {
    const found = packageResource(d.templates.package, d.templates.resource);
    if ('problem' in found) ctx.problem([...at, 'templates', 'package'], found.problem);
    else templates = found.path;
  }
  // Crossbar.io loads every route's template at start.
  if (templates !== '') {
    d.routes.forEach((r, i) => {
      if (!existsSync(join(templates, r.render))) {
        ctx.problem([...at, 'routes', i, 'render'], `no template ${JSON.stringify(r.render)} in ${JSON.stringify(templates)}`);
      }
    });
  }
  return {
    type: 'wap',
    templates,
    routes: d.routes.map((r) => ({ path: r.path, method: r.method, call: r.call ?? null, render: r.render })),
    realm: d.wamp.realm,
    authrole: d.wamp.authrole,
  };
}

function websocketProxyPath(d: Doc<'websocket-reverseproxy'>): WebSocketProxyPathConfig {
  const e = d.backend.endpoint;
  const timeout = e.timeout ?? WEB_DEFAULTS.proxyConnectTimeout;
  const limit = (o: { max_message_size?: number | undefined } | undefined) => o?.max_message_size;
  return {
    type: 'websocket-reverseproxy',
    endpoint:
      e.type === 'tcp'
        ? { type: 'tcp', host: e.host, port: e.port, ...(e.version === undefined ? {} : { version: e.version }), timeout }
        : { type: 'unix', path: e.path, timeout },
    url: d.backend.url,
    maxMessageSize: limit(d.options) ?? limit(d.backend.options) ?? WEB_DEFAULTS.proxyMaxMessageSize,
  };
}
