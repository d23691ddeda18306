/**
 * The `cgi` web service: runs `processor SCRIPT` for a request to a script in `directory`, as
 * Crossbar.io's `CgiDirectory`/`CgiScript` over Twisted's `twcgi` do: the path names the script
 * (component by component, folders allowed), what follows it is PATH_INFO; the request body is
 * the script's stdin; the environment is the CGI/1.1 variables (SCRIPT_NAME, PATH_INFO,
 * QUERY_STRING, REQUEST_METHOD, CONTENT_LENGTH, HTTP_* for each header…) over the node's own
 * environment; the script's output is headers ("Name: value" lines, `Status:` sets the code,
 * `Location:` makes it 302), a blank line, then the body; the working directory is the script's.
 *
 * xbar differs: a `Proxy` header is never passed on (httpoxy; Twisted passes it as PROXY); path
 * components must be plain names and the script must lie inside the directory (symlinks
 * resolved); script headers are limited to 64 KiB; a client that goes away stops its script.
 */
import { spawn } from 'node:child_process';
import { realpath, stat } from 'node:fs/promises';
import type http from 'node:http';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { CgiPathConfig } from '../../config/types-web.js';
import type { PathHandler, RequestPath } from '../http-server.js';
import { notFound, reply } from './http-util.js';
import { isInside, isPlainName } from './static.js';
import { XBAR_VERSION } from './version.js';

const MAX_HEADER_BYTES = 64 * 1024;
/** Twisted's header terminators, the earliest found wins. */
const DELIMITERS = ['\n\n', '\r\n\r\n', '\r\r', '\n\r\n'];

interface Script {
  readonly file: string;
  /** Components of the URL path that named the script (for SCRIPT_NAME). */
  readonly used: number;
}

export class CgiService implements PathHandler {
  constructor(private readonly c: CgiPathConfig, private readonly log: Logger) {}

  request(req: http.IncomingMessage, res: http.ServerResponse, _rest: string, at: RequestPath): void {
    this.find(at.segments).then(
      (script) => (script === undefined ? notFound(req, res) : this.run(req, res, at, script)),
      (err: unknown) => {
        this.log.warn({ err }, 'cgi: lookup failed');
        notFound(req, res);
      },
    );
  }

  /** The script the path names: walk components while they are folders, the first file is the script. */
  private async find(segments: readonly string[]): Promise<Script | undefined> {
    const root = await realpath(this.c.directory).catch(() => undefined);
    if (root === undefined) return undefined;
    let here = root;
    for (let i = 0; i < segments.length; i++) {
      const name = segments[i]!;
      if (!isPlainName(name)) return undefined;
      const real = await realpath(join(here, name)).catch(() => undefined);
      if (real === undefined || !isInside(root, real)) return undefined;
      const s = await stat(real);
      if (s.isFile()) return { file: real, used: i + 1 };
      if (!s.isDirectory()) return undefined;
      here = real;
    }
    // A folder itself: "CGI directories do not support directory listing".
    return undefined;
  }

  private environment(req: http.IncomingMessage, at: RequestPath, script: Script): NodeJS.ProcessEnv {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const env: NodeJS.ProcessEnv = {
      SERVER_SOFTWARE: `xbar/${XBAR_VERSION}`,
      SERVER_NAME: (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, ''),
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
      SERVER_PORT: String(req.socket.localPort ?? ''),
      REQUEST_METHOD: req.method ?? 'GET',
      SCRIPT_NAME: `${at.mount}/${at.segments.slice(0, script.used).join('/')}`,
      SCRIPT_FILENAME: script.file,
      REQUEST_URI: url,
      QUERY_STRING: q < 0 ? '' : url.slice(q + 1),
      CONTENT_LENGTH: req.headers['content-length'] ?? '0',
    };
    if (req.socket.remoteAddress !== undefined) env.REMOTE_ADDR = req.socket.remoteAddress;
    const pathInfo = at.segments.slice(script.used);
    if (pathInfo.length > 0) env.PATH_INFO = `/${pathInfo.join('/')}`;
    for (const [name, value] of Object.entries(req.headers)) {
      if (name === 'proxy' || value === undefined) continue;
      const key = name.replace(/-/g, '_').toUpperCase();
      const v = Array.isArray(value) ? value.join(', ') : value;
      if (name === 'content-type' || name === 'content-length') env[key] = v;
      else env[`HTTP_${key}`] = v;
    }
    // The node's environment under the CGI variables, as Twisted does.
    for (const [k, v] of Object.entries(process.env)) if (!(k in env)) env[k] = v;
    return env;
  }

  private run(req: http.IncomingMessage, res: http.ServerResponse, at: RequestPath, script: Script): void {
    const child = spawn(this.c.processor, [script.file], { cwd: dirname(script.file), env: this.environment(req, at, script), stdio: ['pipe', 'pipe', 'pipe'] });
    let head: Buffer = Buffer.alloc(0);
    let inHeaders = true;
    let stderr = '';
    const fail = (status: number, message: string) => {
      if (!res.headersSent) reply(req, res, status, `${message}\n`);
      else res.destroy();
    };
    child.on('error', (err) => {
      this.log.warn({ err: err.message, processor: this.c.processor }, 'cgi: could not run the processor');
      fail(500, 'CGI Script Error: the processor could not be run');
    });
    child.stderr.on('data', (b: Buffer) => {
      if (stderr.length < 4096) stderr += b.toString();
    });
    child.stdout.on('data', (b: Buffer) => {
      if (!inHeaders) {
        if (!res.write(b)) {
          child.stdout.pause();
          res.once('drain', () => child.stdout.resume());
        }
        return;
      }
      head = Buffer.concat([head, b]);
      const text = head.toString('latin1');
      const ends = DELIMITERS.map((d) => [text.indexOf(d), d] as const).filter(([i]) => i >= 0).sort((a, b2) => a[0] - b2[0]);
      if (ends.length === 0) {
        if (head.length > MAX_HEADER_BYTES) {
          child.kill('SIGKILL');
          fail(502, 'CGI Script Error: headers too long');
        }
        return;
      }
      const [end, delimiter] = ends[0]!;
      inHeaders = false;
      this.writeHead(res, text.slice(0, end).split(delimiter.slice(0, delimiter.length / 2)));
      const body = head.subarray(end + delimiter.length);
      if (body.length > 0) res.write(body);
    });
    child.on('close', (code) => {
      if (code !== 0) this.log.info({ url: req.url, code }, 'cgi: script exited with an error');
      if (stderr !== '') this.log.info({ url: req.url, stderr }, 'cgi: script wrote to stderr');
      if (inHeaders) return fail(500, 'CGI Script Error: premature end of script headers');
      res.end();
    });
    // A client that goes away stops the script.
    res.on('close', () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    });
    child.stdin.on('error', () => undefined);
    req.pipe(child.stdin);
  }

  private writeHead(res: http.ServerResponse, lines: readonly string[]): void {
    let status = 200;
    let statusSet = false;
    for (const line of lines) {
      const i = line.indexOf(': ');
      if (i < 0) continue;
      const name = line.slice(0, i).toLowerCase();
      const value = line.slice(i + 2);
      if (name === 'location' && !statusSet) status = 302;
      if (name === 'status') {
        const n = Number.parseInt(value.slice(0, 3), 10);
        if (n >= 100 && n <= 999) [status, statusSet] = [n, true];
      } else if (name !== 'server' && name !== 'date') {
        try {
          res.appendHeader(name, value);
        } catch {
          // A header Node refuses (bad characters) is dropped, as Twisted drops malformed ones.
        }
      }
    }
    res.statusCode = status;
    res.flushHeaders();
  }
}
