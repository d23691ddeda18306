/**
 * Builds the handler of a Crossbar.io web service (one file per service in this folder) for the
 * web server's path tree. Services that talk to the router (upload progress, wap calls) join it
 * through an in-process session.
 */
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import type { PathService } from '../../config/types.js';
import type { WebServicePathConfig } from '../../config/types-web.js';
import type { Router } from '../../router/router.js';
import type { PathHandler } from '../http-server.js';
import { ArchiveService } from './archive.js';
import { CgiService } from './cgi.js';
import { notFound } from './http-util.js';
import { jsonService } from './json-value.js';
import { nodeInfoService, type NodeInfoSource } from './node-info.js';
import { redirectService } from './redirect.js';
import { reverseProxyService } from './reverse-proxy.js';
import { StaticService } from './static.js';
import { UploadService } from './upload.js';
import { WapService } from './wap.js';
import { startPythonWebService } from './python-web.js';
import type { SupervisionPolicy } from '../../workers/supervisor.js';
import { websocketProxyService } from './websocket-proxy.js';
import { CallerService } from './rest/caller.js';
import { PublisherService } from './rest/publisher.js';
import { SseService } from './rest/sse.js';
import { WebhookService } from './rest/webhook.js';
import { BridgeCounts } from '../../stats/bridge-counts.js';

export interface WebServiceDeps {
  readonly log: Logger;
  readonly router: Router;
  readonly nodeInfo: NodeInfoSource;
  /** The mount's URL path ("" for the root, "/a/b"). */
  readonly mount: string;
  /** Where the HTTP bridge counts what it drops (a private count when not given). */
  readonly bridgeCounts?: BridgeCounts;
  /** Restart back-off of the Python web apps' processes (default: the workers' `DEFAULT_POLICY`). */
  readonly workerPolicy?: SupervisionPolicy;
}

const TYPES: ReadonlySet<string> = new Set<WebServicePathConfig['type']>([
  'static', 'redirect', 'reverseproxy', 'json', 'nodeinfo', 'notfound', 'cgi', 'archive', 'upload', 'wap',
  'websocket-reverseproxy', 'publisher', 'caller', 'webhook', 'sse', 'wsgi', 'resource',
]);

export function isWebService(s: PathService): s is WebServicePathConfig {
  return TYPES.has(s.type);
}

/** The handler, started (files opened, sessions joined); throws when it cannot start. */
export async function startWebService(c: WebServicePathConfig, deps: WebServiceDeps): Promise<PathHandler> {
  const log = deps.log.child({ service: c.type, path: deps.mount || '/' });
  switch (c.type) {
    case 'static':
      // Crossbar.io starts without the directory too and answers 404 until it exists.
      if (!existsSync(c.directory)) log.warn({ directory: c.directory }, 'static: the directory does not exist (yet)');
      return new StaticService(c, log);
    case 'redirect':
      return redirectService(c);
    case 'json':
      return jsonService(c);
    case 'nodeinfo':
      return nodeInfoService(deps.nodeInfo);
    case 'reverseproxy':
      return reverseProxyService(c, log);
    case 'websocket-reverseproxy':
      return websocketProxyService(c, log);
    case 'upload':
      return UploadService.start(c, deps.router, log);
    case 'wap':
      return new WapService(c, deps.router, log);
    case 'cgi':
      if (c.processor.startsWith('/') && !existsSync(c.processor)) log.warn({ processor: c.processor }, 'cgi: the processor does not exist');
      return new CgiService(c, log);
    case 'archive':
      return ArchiveService.start(c, log);
    case 'notfound':
      return { request: (req, res) => notFound(req, res) };
    case 'publisher':
      return new PublisherService(c, deps.router, log);
    case 'caller':
      return new CallerService(c, deps.router, log);
    case 'webhook':
      return new WebhookService(c, deps.router, log);
    case 'sse':
      return new SseService(c, deps.router, deps.mount || '/', deps.bridgeCounts ?? new BridgeCounts(), log);
    case 'wsgi':
    case 'resource':
      return startPythonWebService(c, deps.mount, log, deps.workerPolicy);
  }
}
