/**
 * Starts a real node from a Crossbar.io-format config the way `xbar start` reads one: the test
 * writes a node directory (`<dir>/.crossbar/config.json` plus any files), the config is loaded
 * with the real loader (so relative paths resolve against `.crossbar/` as Crossbar.io's cbdir),
 * and every listener is moved to 127.0.0.1 on a free port. Also raw HTTP for hostile requests
 * that `fetch` would normalize away.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pino from 'pino';
import { loadConfigFile } from '../../src/config/load.js';
import type { NodeConfig } from '../../src/config/types.js';
import { XbarNode } from '../../src/node.js';

/** A node directory in the system's temporary folder. */
export class NodeDir {
  readonly root = mkdtempSync(join(tmpdir(), 'xbar-web-'));

  /** Writes `relative` (below the node directory's parent, like "web/index.html"). */
  write(relative: string, content: string | Buffer): string {
    const file = join(this.root, relative);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    return file;
  }

  path(relative: string): string {
    return join(this.root, relative);
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** An anonymous realm1 with every permission, as the crossbar-examples configs have it. */
export const EXAMPLE_REALM = {
  name: 'realm1',
  roles: [
    {
      name: 'anonymous',
      permissions: [
        { uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true }, disclose: { caller: false, publisher: false }, cache: true },
      ],
    },
  ],
};

/** A version 2 config with one router worker: realm1 and one web transport on port 8080. */
export function webConfig(paths: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 2,
    workers: [
      { type: 'router', realms: [EXAMPLE_REALM], transports: [{ type: 'web', endpoint: { type: 'tcp', port: 8080 }, paths }], ...extra },
    ],
  };
}

function onLoopback(config: NodeConfig, fixedPorts: boolean): NodeConfig {
  return {
    ...config,
    transports: config.transports.map((t) =>
      t.endpoint.type === 'tcp' ? { ...t, endpoint: { ...t.endpoint, interface: '127.0.0.1', port: fixedPorts ? t.endpoint.port : 0 } } : t,
    ),
  };
}

export interface ConfigNode {
  node: XbarNode;
  /** http://127.0.0.1:PORT */
  http: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Writes the config into `dir`, loads and starts it, on 127.0.0.1 and free ports — or on the
 * config's own ports with `fixedPorts` (for configs that point at themselves; use freePort()).
 */
export async function startConfigNode(dir: NodeDir, doc: unknown, o: { fixedPorts?: boolean } = {}): Promise<ConfigNode> {
  const file = dir.write('.crossbar/config.json', JSON.stringify(doc, null, 2));
  const config = onLoopback(await loadConfigFile(file), o.fixedPorts ?? false);
  const node = new XbarNode(config, { logger: pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' }) });
  await node.start();
  // The web transport with paths (a plain websocket transport is a web transport too).
  const web = config.transports.find((x) => (x.type === 'web' && !(x.paths.size === 1 && x.paths.get('')?.type === 'websocket')) || x.type === 'universal');
  // Without a web transport (only testees, say): the first listener.
  const port = node.addresses.find((a) => a.transport === web?.id)?.port ?? (node.addresses.some((a) => a.kind === 'web') ? node.port('web') : node.addresses[0]?.port ?? 0);
  return { node, port, http: `http://127.0.0.1:${port}`, stop: () => node.stop() };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Sends `request` (a whole HTTP/1.1 request head, e.g. with a path `fetch` would normalize) and
 * reads the response until the server closes (the request asks it to).
 */
export function rawHttp(port: number, request: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (b) => chunks.push(b));
    socket.on('error', reject);
    socket.on('end', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, split < 0 ? all.length : split).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status, headers, body: split < 0 ? Buffer.alloc(0) : all.subarray(split + 4) });
    });
    socket.write(request);
  });
}

/** GET `path` exactly as given (no normalization), Connection: close. */
export function rawGet(port: number, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return rawHttp(port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}Connection: close\r\n\r\n`);
}

/** `curl` with the given arguments; its stdout (asynchronous: the node under test runs in this process). */
export function curl(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '--max-time', '10', ...args], { encoding: 'utf8' }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}
