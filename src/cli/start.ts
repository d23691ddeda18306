import cluster from 'node:cluster';
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { ConfigError } from '../config/issues.js';
import { defaultConfig } from '../config/defaults.js';
import { loadConfigFile } from '../config/load.js';
import type { NodeConfig } from '../config/types.js';
import { XbarNode } from '../node.js';
import { createLogger, type LogFormat } from './log-output.js';
import { parseListen } from './relay.js';
import { HubBackplane } from '../backplane/hub/hub-backplane.js';
import { runPrimary } from '../multicore/primary.js';
import { parseWorkers, parseWorkerTimeout, workerConfig } from '../multicore/worker-config.js';
import { workerRole } from '../multicore/worker-env.js';
import { WorkerChannel } from '../multicore/node-channel.js';

export interface StartOptions {
  config?: string;
  cbdir?: string;
  logLevel: string;
  cluster?: string;
  clusterName?: string;
  nodeName?: string;
  listen?: string;
  port?: string;
  logFormat?: LogFormat;
  /** `--workers N|auto`: N router processes sharing the node's ports (multicore/). */
  workers?: string;
  /** `--worker-timeout S`: a worker silent this long to the primary's heartbeat is hung. */
  workerTimeout?: string;
}

export async function startCommand(opts: StartOptions): Promise<void> {
  let config: NodeConfig;
  let file: string | undefined;
  let workers = 1;
  let hungAfterMs: number | undefined;
  try {
    workers = opts.workers === undefined ? 1 : parseWorkers(opts.workers, availableParallelism());
    hungAfterMs = opts.workerTimeout === undefined ? undefined : parseWorkerTimeout(opts.workerTimeout);
    const listen = listenOption(opts);
    file = configFile(opts);
    if (listen && file) throw new Error('--listen and --port change the embedded default; with --config, set the endpoint in the file');
    const base = file ? await loadConfigFile(file) : defaultConfig();
    config = withClusterOptions(listen ? listeningAt(base, listen) : base, opts);
  } catch (e) {
    reportConfigError(e);
    process.exit(2);
  }
  const log = createLogger(opts.logLevel, opts.logFormat);
  if (config.controller?.title !== undefined) process.title = config.controller.title;
  if (workers > 1 && cluster.isPrimary) {
    for (const warning of config.warnings ?? []) log.warn({ config: file, warning }, 'configuration warning');
    await runPrimary({ workers, nats: config.cluster !== undefined, log, ...(hungAfterMs !== undefined ? { hungAfterMs } : {}) });
    return;
  }
  const role = cluster.isWorker ? workerRole() : undefined;
  if (role) config = workerConfig(config, role.index);
  else for (const warning of config.warnings ?? []) log.warn({ config: file, warning }, 'configuration warning');
  // A stop asked for while the node is starting (a guest that exits at once) waits until it has started.
  let asked: [string, number] | undefined;
  let stop = (why: string, exitCode = 0): void => void (asked ??= [why, exitCode]);
  // A worker of `--workers N` joins the node's hub (or, with cluster.nats, the NATS cluster as a member of its own).
  const backplane = role?.hub === undefined ? undefined : new HubBackplane(
    { path: role.hub, name: `w${role.index}.${process.pid}`, onLost: () => process.exit(1) },
    log.child({ component: 'backplane', router_worker: role.index }),
  );
  // The channel to the primary: the node's other workers (statistics, health) and its heartbeat.
  const channel = role && new WorkerChannel(role.index);
  const node = new XbarNode(config, {
    logger: role ? log.child({ router_worker: role.index }) : log,
    onShutdownRequest: (why, exitCode) => stop(why, exitCode),
    ...(backplane ? { backplane } : {}),
    ...(channel ? { nodeWorkers: channel } : {}),
  });
  try {
    await node.start();
  } catch (e) {
    // One line naming the cause (listeners name their transport and address); no stack trace.
    const hint = !file && (e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? ' (start it elsewhere with --port N or --listen HOST:PORT)' : '';
    process.stderr.write(`xbar: could not start: ${(e as Error).message}${hint}\n`);
    process.exit(1);
  }
  channel?.ready();
  log.info({ node: node.backplane.nodeId, config: file ?? '(embedded default)' }, 'xbar node started');

  let stopping = false;
  stop = (why: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    log.info({ why }, 'shutting down: GOODBYE wamp.close.system_shutdown to every session');
    node.stop().then(
      () => {
        log.info('stopped');
        log.flush?.();
        // A worker of --workers exits 0, which tells the primary to stop the node rather than restart the worker.
        process.exit(role ? 0 : exitCode);
      },
      (e: unknown) => {
        log.error({ err: e }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  if (asked) stop(...asked);
}

/**
 * One line for one problem (`xbar: node.json: workers[0].x: unknown key…`), else the file's
 * header and a line per problem.
 */
export function reportConfigError(e: unknown): void {
  if (e instanceof ConfigError && e.problems.length === 1) {
    const problem = e.problems[0]!;
    process.stderr.write(`xbar: ${problem.startsWith(e.source) ? problem : `${e.source}: ${problem}`}\n`);
  } else {
    process.stderr.write(`xbar: ${(e as Error).message}\n`);
  }
}

function listenOption(opts: StartOptions): { host: string; port: number } | undefined {
  if (opts.listen !== undefined && opts.port !== undefined) throw new Error('give --listen or --port, not both');
  if (opts.listen !== undefined) return parseListen(opts.listen);
  if (opts.port === undefined) return undefined;
  const port = /^\d+$/.test(opts.port) ? Number(opts.port) : NaN;
  if (!(port >= 0 && port <= 65535)) throw new Error(`--port: expected a port number 0-65535, got ${JSON.stringify(opts.port)}`);
  return { host: '127.0.0.1', port };
}

/**
 * The embedded default moved: its web transport (WebSocket, stats, metrics, health) to `host:port`,
 * its RawSocket to the next port (port 0: any free port for both).
 */
/**
 * The config file to load, as Crossbar.io's `crossbar start` finds it: `--config` (relative to
 * `--cbdir` when both are given), else `config.json` or `config.yaml` in `--cbdir`. With neither
 * option, the node directory is `$CROSSBAR_DIR` or `./.crossbar` when that exists, as for
 * `crossbar start` (so `xbar start` in an example's folder runs its config); one without a config
 * file there, or no node directory at all, is the embedded default. `--cbdir` naming a file means
 * that file's folder, as in Crossbar.io.
 */
export function configFile(opts: Pick<StartOptions, 'config' | 'cbdir'>, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string | undefined {
  if (opts.cbdir === undefined) {
    if (opts.config !== undefined) return opts.config;
    const implicit = env.CROSSBAR_DIR || (isDirectory(path.join(cwd, '.crossbar')) ? path.join(cwd, '.crossbar') : undefined);
    return implicit === undefined ? undefined : configIn(path.resolve(cwd, implicit));
  }
  const cbdir = existsSync(opts.cbdir) && !isDirectory(opts.cbdir) ? path.dirname(opts.cbdir) : opts.cbdir;
  if (opts.config !== undefined) return path.resolve(cbdir, opts.config);
  const found = configIn(cbdir);
  if (!found) throw new Error(`--cbdir ${opts.cbdir}: no config.json or config.yaml there`);
  return found;
}

function configIn(cbdir: string): string | undefined {
  return ['config.json', 'config.yaml'].map((f) => path.join(cbdir, f)).find((f) => existsSync(f));
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function listeningAt(config: NodeConfig, at: { host: string; port: number }): NodeConfig {
  const version = at.host.includes(':') ? { version: 6 as const } : {};
  return {
    ...config,
    transports: config.transports.map((t, i) => {
      if (t.endpoint.type !== 'tcp') return t;
      const port = at.port === 0 ? 0 : at.port + i;
      if (port > 65535) throw new Error(`--port ${at.port}: the RawSocket needs the next port too`);
      return { ...t, endpoint: { ...t.endpoint, interface: at.host, port, ...version } };
    }),
  };
}

/** `--cluster nats://…[,nats://…]` (and names) override or add the config's `cluster` section. */
export function withClusterOptions(config: NodeConfig, opts: StartOptions): NodeConfig {
  if (!opts.cluster && !config.cluster) return config;
  const servers = opts.cluster ? opts.cluster.split(',').map((s) => s.trim()).filter(Boolean) : config.cluster!.servers;
  for (const s of servers) {
    if (!/^(nats|tls|ws|wss):\/\/\S+$/.test(s)) throw new Error(`--cluster: "${s}" is not a NATS URL such as nats://127.0.0.1:4222`);
  }
  const base = config.cluster ?? { servers, name: 'xbar', heartbeatInterval: 1000, deadAfter: 3000 };
  return {
    ...config,
    cluster: { ...base, servers, name: opts.clusterName ?? base.name, node: opts.nodeName ?? base.node },
  };
}
