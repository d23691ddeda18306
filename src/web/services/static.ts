/**
 * The `static` web service: files from a directory, as Crossbar.io serves them with Twisted's
 * `static.File` (`crossbar/webservice/static.py`).
 *
 * Path handling is ours and strict; the bytes go out through `send` (pillarjs, the file sender
 * under Express's serve-static), which does Content-Length, Last-Modified, ETag, conditional GET
 * (304, 412) and single byte ranges (206, 416, If-Range).
 *
 * - Each decoded path component must be a plain name: "", ".", "..", or one holding "/", "\" or
 *   NUL never reaches the file system, and the file's real path (symlinks resolved) must lie in
 *   the directory's real path. Names starting with "." are not served (xbar differs: Crossbar.io
 *   would serve `.crossbar/config.json` of a node whose web directory is "..").
 * - A directory without a trailing "/" redirects to it (302); with one, its index file ("index",
 *   "index.html", "index.htm", Twisted's order) is served, else a listing when
 *   `enable_directory_listing` is on, else "not found".
 * - "Not found" serves `default_file` (status 200) when configured, or a 404 page.
 * - Cache-Control "max-age=N, public" and Expires for `cache_timeout` (default 12 h), and
 *   Crossbar.io's cross-origin headers, on every file.
 */
import { realpath, stat } from 'node:fs/promises';
import type http from 'node:http';
import { join, relative, sep } from 'node:path';
import type { Logger } from 'pino';
import send from 'send';
import type { StaticPathConfig } from '../../config/types-web.js';
import type { PathHandler, RequestPath } from '../http-server.js';
import { fileType } from './content-type.js';
import { listDirectory } from './directory-listing.js';
import { allowMethods, notFound, setCrossOriginHeaders } from './http-util.js';

const INDEX_NAMES = ['index', 'index.html', 'index.htm'];

/** A component that may name a file: not empty, no dot file, no separator or NUL. */
export function isPlainName(name: string): boolean {
  return name !== '' && !name.startsWith('.') && !/[/\\\0]/.test(name);
}

/** `child` is `root` or inside it. */
export function isInside(root: string, child: string): boolean {
  return child === root || child.startsWith(root.endsWith(sep) ? root : root + sep);
}

export class StaticService implements PathHandler {
  private root: Promise<string | undefined> | undefined;

  constructor(private readonly config: StaticPathConfig, private readonly log: Logger) {}

  /** The directory's real path; undefined while it does not exist (re-checked on each request). */
  private realRoot(): Promise<string | undefined> {
    this.root ??= realpath(this.config.directory).catch(() => {
      this.root = undefined;
      return undefined;
    });
    return this.root;
  }

  request(req: http.IncomingMessage, res: http.ServerResponse, _rest: string, at: RequestPath): void {
    if (!allowMethods(req, res, ['GET'])) return;
    this.serve(req, res, at).catch((err: unknown) => {
      this.log.warn({ err, url: req.url }, 'static: request failed');
      if (!res.headersSent) notFound(req, res);
      else res.destroy();
    });
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse, at: RequestPath): Promise<void> {
    const root = await this.realRoot();
    if (root === undefined) return this.missing(req, res, undefined);
    const names = at.segments;
    const trailingSlash = names.length > 0 && names[names.length - 1] === '';
    const parts = trailingSlash ? names.slice(0, -1) : names;
    if (!parts.every(isPlainName)) return this.missing(req, res, root);
    const target = await this.resolve(root, parts);
    if (target === undefined) return this.missing(req, res, root);
    if (target.isDirectory) {
      // The root mount's "/" is [""]: always with its slash.
      if (!trailingSlash) return redirectToSlash(req, res, at);
      for (const name of INDEX_NAMES) {
        const index = await this.resolve(root, [...parts, name]);
        if (index !== undefined && !index.isDirectory) return this.sendFile(req, res, root, index.path);
      }
      if (this.config.directoryListing) return listDirectory(req, res, target.path, `${at.mount}/${parts.join('/')}`, this.config.mimeTypes);
      return this.missing(req, res, root);
    }
    if (trailingSlash) return this.missing(req, res, root);
    return this.sendFile(req, res, root, target.path);
  }

  /** The real path of root/parts when it exists inside root. */
  private async resolve(root: string, parts: readonly string[]): Promise<{ path: string; isDirectory: boolean } | undefined> {
    let real: string;
    try {
      real = await realpath(join(root, ...parts));
    } catch {
      return undefined;
    }
    if (!isInside(root, real)) {
      this.log.warn({ path: join(root, ...parts), real }, 'static: refused a symlink that leads out of the directory');
      return undefined;
    }
    const s = await stat(real).catch(() => undefined);
    if (s === undefined || (!s.isFile() && !s.isDirectory())) return undefined;
    return { path: real, isDirectory: s.isDirectory() };
  }

  /** Crossbar.io's `childNotFound`: the default file, else 404. */
  private async missing(req: http.IncomingMessage, res: http.ServerResponse, root: string | undefined): Promise<void> {
    const fallback = this.config.defaultFile;
    if (fallback !== undefined && root !== undefined) {
      const file = await this.resolve(root, fallback.split('/').filter((p) => p !== ''));
      if (file !== undefined && !file.isDirectory) return this.sendFile(req, res, root, file.path);
    }
    notFound(req, res);
  }

  private sendFile(req: http.IncomingMessage, res: http.ServerResponse, root: string, file: string): void {
    const { type, encoding } = fileType(file, this.config.mimeTypes);
    const timeout = this.config.cacheTimeout;
    const path = '/' + relative(root, file).split(sep).map(encodeURIComponent).join('/');
    // Our checks ran on real paths; send only streams the file with its headers.
    send(req, path, { root, dotfiles: 'allow', index: false, cacheControl: false, etag: true, lastModified: true })
      .on('headers', (r: http.ServerResponse) => {
        r.setHeader('content-type', type);
        if (encoding !== undefined) r.setHeader('content-encoding', encoding);
        if (timeout !== null) {
          r.setHeader('cache-control', `max-age=${timeout}, public`);
          r.setHeader('expires', new Date(Date.now() + timeout * 1000).toUTCString());
        }
        setCrossOriginHeaders(req, r);
      })
      .on('error', (err: { status?: number }) => {
        if (err.status === 404) notFound(req, res);
        else if (!res.headersSent) {
          res.writeHead(err.status ?? 500, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(req.method === 'HEAD' ? undefined : `${err.status ?? 500}\n`);
        } else res.destroy();
      })
      .pipe(res);
  }
}

/** Twisted's `addSlash` redirect: the same path with "/" appended, query kept. */
function redirectToSlash(req: http.IncomingMessage, res: http.ServerResponse, at: RequestPath): void {
  // One leading "/": "//host/x" would send the browser to another host.
  const pathname = '/' + (req.url ?? '/').split('?', 1)[0]!.replace(/^\/+/, '');
  const location = `${pathname}/${at.query === '' ? '' : `?${at.query}`}`;
  res.writeHead(302, { location, 'content-type': 'text/html; charset=utf-8', 'content-length': 0 });
  res.end();
}
