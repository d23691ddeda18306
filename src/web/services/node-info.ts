/**
 * The `nodeinfo` web service: an HTML page about the node, with what Crossbar.io's
 * `cb_node_info.html` shows that xbar has (release, start time, process id, node id, the
 * requesting peer). xbar has no node key pair, so the page shows the node id where Crossbar.io
 * shows a public key.
 */
import type { PathHandler } from '../http-server.js';
import { allowMethods, escapeHtml, page, peerOf, reply } from './http-util.js';
import { XBAR_VERSION } from './version.js';

export interface NodeInfoSource {
  readonly started: Date;
  nodeId(): string;
  /** Running transports (xbar's stand-in for Crossbar.io's running workers). */
  transports(): number;
}

export function nodeInfoService(source: NodeInfoSource): PathHandler {
  return {
    request(req, res) {
      if (!allowMethods(req, res, ['GET'])) return;
      const rows: [string, string][] = [
        ['Release', `xbar ${XBAR_VERSION}`],
        ['Node Started', source.started.toISOString()],
        ['Node Process PID', String(process.pid)],
        ['Running Transports', String(source.transports())],
        ['Node ID', source.nodeId()],
      ];
      const table = rows.map(([k, v]) => `<tr><td style="min-width: 200px">${escapeHtml(k)}</td><td><b>${escapeHtml(v)}</b></td></tr>`).join('\n');
      const body = `<table>\n${table}\n</table>\n<p><small>Served for ${escapeHtml(peerOf(req))} from xbar process ${process.pid}.</small></p>`;
      reply(req, res, 200, page('xbar node', body), { 'content-type': 'text/html; charset=utf-8' });
    },
  };
}
