/**
 * The `wsgi` and `resource` web services (Crossbar.io's `RouterWebServiceWsgi` and
 * `RouterWebServiceTwistedWeb`): the Python app runs in a supervised child process
 * (workers/python-web-app.ts) and each request of the path is forwarded to it as a reverse proxy
 * forwards, bodies streamed both ways. The app sees what it would see under Crossbar.io:
 *
 * - the request's own path and query, `Host` and headers (no X-Forwarded-*), and through the
 *   X-Xbar-Request header the client's address, xbar's port and scheme;
 * - wsgi: SCRIPT_NAME is the path's mount ("" at the root, where Autobahn's `WSGIRootResource`
 *   hands the app every path no other service has), PATH_INFO the rest, as Twisted's
 *   `WSGIResource` sets them;
 * - resource: the resource at its place in the tree (`request.prepath` is the mount).
 *
 * While the process is down (restarting with back-off, or given up), requests are answered 502.
 */
import http from 'node:http';
import type { Logger } from 'pino';
import type { ResourcePathConfig, WsgiPathConfig } from '../../config/types-web.js';
import { clientAddress } from '../../network/client-address.js';
import { PythonWebApp, type PythonWebJob } from '../../workers/python-web-app.js';
import type { SupervisionPolicy } from '../../workers/supervisor.js';
import type { PathHandler, RequestPath } from '../http-server.js';
import { reply } from './http-util.js';
import { forwardRequest, forwardable, quoteComponent } from './reverse-proxy.js';

/** What the app would have read off xbar's socket (X-Xbar-Request; python/xbar_web_host.py). */
interface ForwardedRequestInfo {
  readonly script_name: string;
  readonly path_info: string;
  readonly remote_addr: string;
  readonly remote_port: number;
  readonly server_name: string;
  readonly server_addr: string;
  readonly server_port: number;
  readonly scheme: 'http' | 'https';
  readonly protocol: string;
}

const quoted = (segments: readonly string[]) => segments.map((s) => `/${quoteComponent(s)}`).join('');

/** Twisted's `getRequestHostname`: the Host header without its port, else the local address. */
function serverName(req: http.IncomingMessage): string {
  const host = req.headers.host;
  if (host === undefined || host === '') return req.socket.localAddress ?? '';
  return host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d*$/, '');
}

function requestInfo(req: http.IncomingMessage, at: RequestPath): ForwardedRequestInfo {
  const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
  return {
    script_name: at.mount,
    path_info: quoted(at.segments),
    remote_addr: clientAddress(req) ?? '',
    remote_port: req.socket.remotePort ?? 0,
    server_name: serverName(req),
    server_addr: req.socket.localAddress ?? '127.0.0.1',
    server_port: req.socket.localPort ?? 0,
    scheme: secure ? 'https' : 'http',
    protocol: `HTTP/${req.httpVersion}`,
  };
}

function describe(c: WsgiPathConfig | ResourcePathConfig, mount: string): string {
  const path = JSON.stringify(mount === '' ? '/' : mount.slice(1));
  return c.type === 'wsgi' ? `wsgi path ${path} (module "${c.module}", object "${c.object}")` : `resource path ${path} (class "${c.classname}")`;
}

/** Starts the app's process and answers once it listens; rejects naming what is missing. */
export async function startPythonWebService(
  c: WsgiPathConfig | ResourcePathConfig,
  mount: string,
  log: Logger,
  policy?: SupervisionPolicy,
): Promise<PathHandler> {
  const job: PythonWebJob =
    c.type === 'wsgi'
      ? { kind: 'wsgi', module: c.module, object: c.object, maxthreads: c.maxThreads }
      : { kind: 'resource', classname: c.classname, extra: c.extra, mount: mount === '' ? [] : mount.slice(1).split('/') };
  const what = describe(c, mount);
  const app = new PythonWebApp(what, job, c.host, log, policy);
  await app.start();
  // Bounded: past this many requests in flight to the app, the rest wait here for a socket.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  return {
    request(req: http.IncomingMessage, res: http.ServerResponse, _rest: string, at: RequestPath) {
      const port = app.port;
      if (port === undefined) {
        const state = app.supervisor.gaveUp ? 'has stopped (see the log)' : 'is restarting';
        reply(req, res, 502, `Bad gateway: the app of the ${what} ${state}\n`);
        return;
      }
      const path = `${at.mount}${quoted(at.segments)}`;
      const headers: http.OutgoingHttpHeaders = {
        ...forwardable(req.headers),
        'x-xbar-token': app.token,
        'x-xbar-request': JSON.stringify(requestInfo(req, at)),
      };
      const target = `${path === '' ? '/' : path}${at.query === '' ? '' : `?${at.query}`}`;
      forwardRequest(req, res, { host: '127.0.0.1', port, path: target, headers, agent, unreachable: `the app of the ${what} did not answer` }, log);
    },
    close: async () => {
      await app.stop();
      agent.destroy();
    },
  };
}
