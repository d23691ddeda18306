/**
 * The `wap` web service (WAMP Application Page): a request whose path matches one of `routes`
 * calls that route's procedure and renders its result with the route's template, as Crossbar.io's
 * `WapResource` (`crossbar/webservice/wap.py`) does with Werkzeug and Jinja2; here with
 * `url-rule.ts` and nunjucks (Jinja2's syntax in JavaScript, with its Jinja compatibility layer:
 * `items()`, `True`/`False`/`None`, slices).
 *
 * - The call gets keyword arguments only: the rule's variables, then the query string's
 *   parameters (first value each, overriding); a POST adds `data` (the body, bytes) and
 *   `data_type` (its Content-Type). A route without `call` renders with no data.
 * - The result (a dict: the call's single positional result, or its keyword results) is the
 *   template's context; with `Accept: application/json` the result is sent as JSON instead.
 * - A failed call is 500 with the error URI; no route is 404; autoescaping is on.
 * - The session joins `wamp.realm` with `wamp.authrole`, so that role's permissions apply.
 *
 * xbar differs: a route that exists for another method is 405 (Crossbar.io: 511); `sandbox` is
 * accepted but nunjucks has none (templates are the node's own files, as trusted as its config);
 * Crossbar.io's per-cookie sessions (an unfinished feature that joins as "anonymous") are not
 * made: every request uses the service's session.
 */
import type http from 'node:http';
import nunjucks from 'nunjucks';
import type { Logger } from 'pino';
import type { WapPathConfig } from '../../config/types-web.js';
import type { Router } from '../../router/router.js';
import { WampError } from '../../client/local-client.js';
import type { PathHandler, RequestPath } from '../http-server.js';
import { escapeHtml, queryArgs, reply } from './http-util.js';
import { ServiceSession } from './service-session.js';
import { UrlRule } from './url-rule.js';

// nunjucks' documented switch for Jinja2 templates; it changes only how nunjucks reads templates.
nunjucks.installJinjaCompat();

/** Largest POST body passed to the procedure, bytes. */
const MAX_BODY = 16 * 1024 * 1024;
/** How long the procedure may take, ms. */
const CALL_TIMEOUT_MS = 30_000;

/** Jinja2 drops a template's single trailing newline (`keep_trailing_newline=False`); nunjucks keeps it. */
class JinjaLoader extends nunjucks.FileSystemLoader {
  override getSource(name: string): nunjucks.LoaderSource {
    const source = super.getSource(name);
    return source === null ? source : { ...source, src: source.src.replace(/\r?\n$/, '') };
  }
}

interface Route {
  readonly rule: UrlRule;
  readonly method: 'GET' | 'POST';
  readonly call: string | null;
  readonly template: nunjucks.Template;
}

function errorPage(message: string): string {
  return `<html>\n<title>API Error</title>\n<body>\n<h3 style="color: #f00">WAMP Application Page Error</h3>\n<pre>${escapeHtml(message)}</pre>\n</body>\n</html>\n`;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (b: Buffer) => {
      size += b.length;
      if (size > MAX_BODY) {
        reject(new Error(`request body over ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(b);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export class WapService implements PathHandler {
  private readonly routes: Route[];
  private readonly session: ServiceSession;

  constructor(c: WapPathConfig, router: Router, private readonly log: Logger) {
    const env = new nunjucks.Environment(new JinjaLoader(c.templates), { autoescape: true });
    // Crossbar.io loads every route's template at start: a broken one stops the start here too.
    this.routes = c.routes.map((r) => ({ rule: new UrlRule(r.path), method: r.method, call: r.call, template: env.getTemplate(r.render, true) }));
    this.session = new ServiceSession(router, c.realm, c.authrole, 'xbar-wap');
  }

  request(req: http.IncomingMessage, res: http.ServerResponse, _rest: string, at: RequestPath): void {
    const json = req.headers.accept === 'application/json';
    const fail = (status: number, message: string) =>
      reply(req, res, status, json ? JSON.stringify({ error: message }) : errorPage(message), {
        'content-type': json ? 'application/json' : 'text/html; charset=utf-8',
      });
    const path = `/${at.segments.join('/')}`;
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? '');
    const candidates = this.routes.map((r) => ({ r, vars: r.rule.match(path) })).filter((x) => x.vars !== undefined);
    const hit = candidates.find((x) => x.r.method === method);
    if (hit === undefined) {
      if (candidates.length > 0) return fail(405, `Method not allowed on path "${path}"`);
      return fail(404, `Path "${path}" not found`);
    }
    const kwargs: Record<string, unknown> = { ...hit.vars };
    for (const [k, v] of queryArgs(at.query)) kwargs[k] = v;
    this.answer(req, hit.r, kwargs, json).then(
      (body) => reply(req, res, 200, body, { 'content-type': json ? 'application/json' : 'text/html; charset=utf-8' }),
      (err: unknown) => {
        const message = err instanceof WampError ? err.uri : (err as Error).message;
        this.log.warn({ err: message, path }, 'wap: request failed');
        fail(500, message);
      },
    );
  }

  private async answer(req: http.IncomingMessage, route: Route, kwargs: Record<string, unknown>, json: boolean): Promise<string> {
    if (req.method === 'POST') {
      const body = await readBody(req);
      if (body.length > 0) {
        kwargs.data = new Uint8Array(body);
        kwargs.data_type = req.headers['content-type'] ?? 'application/octet-stream';
      }
    }
    let result: unknown = {};
    if (route.call !== null) {
      const client = await this.session.client();
      const r = await client.call(route.call, [], kwargs, { timeout: CALL_TIMEOUT_MS });
      // As Autobahn|Python hands it to Crossbar.io: one positional result, else the keyword results.
      const named = r.kwargs !== undefined && Object.keys(r.kwargs).length > 0 ? r.kwargs : undefined;
      result = r.args !== undefined && r.args.length === 1 && named === undefined ? r.args[0] : (named ?? r.args ?? {});
    }
    if (json) return JSON.stringify(result);
    if (typeof result !== 'object' || result === null || Array.isArray(result)) {
      throw new Error(`render error: the result of ${route.call ?? '(no call)'} is not a dict`);
    }
    return route.template.render(result as object);
  }

  close(): void {
    this.session.close();
  }
}
