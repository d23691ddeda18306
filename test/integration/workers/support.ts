/**
 * Nodes with workers for the worker tests: a Crossbar.io-format document written into a fresh
 * project folder (`<tmp>/project/.crossbar/config.json`, the layout of Crossbar.io's examples),
 * loaded as `xbar start` loads it, started with its log captured.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadConfigFile } from '../../../src/config/load.js';
import { XbarNode } from '../../../src/node.js';
import type { SupervisionPolicy } from '../../../src/workers/supervisor.js';
import { freePort } from '../../helpers/ports.js';

export type Doc = Record<string, unknown>;
export type LogLine = Record<string, unknown>;

/** test/fixtures/workers/, from the compiled test in dist/test/integration/workers/. */
export const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/workers/', import.meta.url));

/** Quick restarts and a short stop grace, so tests see several restarts without waiting. */
export const FAST_POLICY: SupervisionPolicy = { initialMs: 50, maxMs: 400, stableMs: 60_000, maxRestarts: 3, stopGraceMs: 1500 };

export const ALLOW_ALL_REALM = {
  name: 'realm1',
  roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true } }] }],
};

export interface WorkersNode {
  node: XbarNode;
  port: number;
  url: string;
  /** The project folder; the node directory (cbdir) is its `.crossbar`. */
  project: string;
  cbdir: string;
  logs: LogLine[];
  stop(): Promise<void>;
}

export function captureLog(): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: pino({ level: process.env.XBAR_TEST_LOG ?? 'info' }, stream), lines };
}

export function tempProject(): { project: string; cbdir: string } {
  const project = mkdtempSync(join(tmpdir(), 'xbar-workers-'));
  const cbdir = join(project, '.crossbar');
  mkdirSync(cbdir);
  return { project, cbdir };
}

/**
 * Starts a node whose document is a router worker (realm1, anonymous may do anything, WebSocket
 * at /ws on a free port) plus `workers(url, port)`; `router` adds keys to the router worker,
 * `controller` is the document's controller section (Crossbar.io's default triggers without it:
 * the node stops when a worker ends).
 */
export async function startWorkersNode(
  workers: (url: string, port: number) => Doc[],
  o: { policy?: SupervisionPolicy; router?: Doc; realms?: Doc[]; dir?: { project: string; cbdir: string }; controller?: Doc } = {},
): Promise<WorkersNode> {
  const port = await freePort();
  const url = `ws://127.0.0.1:${port}/ws`;
  const { project, cbdir } = o.dir ?? tempProject();
  const doc = {
    version: 2,
    ...(o.controller ? { controller: o.controller } : {}),
    workers: [
      {
        type: 'router',
        realms: o.realms ?? [ALLOW_ALL_REALM],
        transports: [{ type: 'web', endpoint: { type: 'tcp', interface: '127.0.0.1', port }, paths: { ws: { type: 'websocket' } } }],
        ...o.router,
      },
      ...workers(url, port),
    ],
  };
  const file = join(cbdir, 'config.json');
  writeFileSync(file, JSON.stringify(doc, null, 2));
  const { logger, lines } = captureLog();
  let node: XbarNode;
  try {
    node = new XbarNode(await loadConfigFile(file), { logger, workerPolicy: o.policy ?? FAST_POLICY });
    await node.start();
  } catch (e) {
    rmSync(project, { recursive: true, force: true });
    throw e;
  }
  return {
    node, port, url, project, cbdir, logs: lines,
    stop: async () => {
      await node.stop();
      rmSync(project, { recursive: true, force: true });
    },
  };
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
