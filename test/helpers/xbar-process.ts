/** xbar nodes as real child processes (`xbar start --config …`), so a test can kill -9 one. */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCli } from './cli.js';
import { freePort } from './ports.js';

export interface XbarProcess {
  readonly name: string;
  readonly webPort: number;
  readonly rawPort: number;
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything the process printed so far (its JSON log lines). */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface XbarProcessOptions {
  readonly name: string;
  readonly natsUrls: readonly string[];
  readonly cluster: string;
  readonly heartbeatMs?: number;
  readonly deadAfterMs?: number;
  /** `cluster.nats.replicas` (default: not set). */
  readonly replicas?: number;
  /** `cluster.nats.replay_window` (default: not set). */
  readonly replayWindowMs?: number;
  /** `cluster.advertise` (default: none, the node advertises what it listens on). */
  readonly advertise?: (webPort: number, rawPort: number) => string[];
}

export async function startXbarProcess(o: XbarProcessOptions): Promise<XbarProcess> {
  const [webPort, rawPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(path.join(tmpdir(), `xbar-${o.name}-`));
  const file = path.join(dir, 'node.json');
  writeFileSync(file, JSON.stringify(nodeConfig(webPort, rawPort, o)));
  const { child, output } = await startCli(['--config', file, '--log-level', 'info']);
  process.once('exit', () => child.kill('SIGKILL'));
  return {
    name: o.name, webPort, rawPort, child, url: `ws://127.0.0.1:${webPort}/ws`, output,
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
  };
}

/** A Crossbar.io-format node config joining the NATS cluster; also used by examples/cluster. */
export function nodeConfig(webPort: number, rawPort: number, o: XbarProcessOptions): object {
  return {
    version: 2,
    cluster: {
      ...(o.advertise ? { advertise: o.advertise(webPort, rawPort) } : {}),
      nats: {
        servers: o.natsUrls, name: o.cluster, node: o.name,
        heartbeat_interval: o.heartbeatMs ?? 200, dead_after: o.deadAfterMs ?? 1000,
        ...(o.replicas !== undefined ? { replicas: o.replicas } : {}),
        ...(o.replayWindowMs !== undefined ? { replay_window: o.replayWindowMs } : {}),
      },
    },
    workers: [{
      type: 'router',
      realms: [{
        name: 'realm1',
        roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true }, disclose: { caller: true, publisher: true } }] }],
      }],
      transports: [
        { type: 'web', endpoint: { type: 'tcp', interface: '127.0.0.1', port: webPort }, paths: { ws: { type: 'websocket' }, health: { type: 'health' } } },
        { type: 'rawsocket', endpoint: { type: 'tcp', interface: '127.0.0.1', port: rawPort } },
      ],
    }],
  };
}
