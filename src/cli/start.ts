import pino from 'pino';
import { ConfigError } from '../config/issues.js';
import { defaultConfig } from '../config/defaults.js';
import { loadConfigFile } from '../config/load.js';
import type { NodeConfig } from '../config/types.js';
import { XbarNode } from '../node.js';

export interface StartOptions {
  config?: string;
  logLevel: string;
  cluster?: string;
  clusterName?: string;
  nodeName?: string;
}

export async function startCommand(opts: StartOptions): Promise<void> {
  let config: NodeConfig;
  try {
    config = withClusterOptions(opts.config ? await loadConfigFile(opts.config) : defaultConfig(), opts);
  } catch (e) {
    reportConfigError(e);
    process.exit(2);
  }
  const log = pino({ level: opts.logLevel });
  const node = new XbarNode(config, { logger: log });
  try {
    await node.start();
  } catch (e) {
    log.fatal({ err: e }, 'could not start');
    process.stderr.write(`xbar: could not start: ${(e as Error).message}\n`);
    process.exit(1);
  }
  log.info({ node: node.backplane.nodeId, config: opts.config ?? '(embedded default)' }, 'xbar node started');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: GOODBYE wamp.close.system_shutdown to every session');
    node.stop().then(
      () => {
        log.info('stopped');
        log.flush?.();
        process.exit(0);
      },
      (e: unknown) => {
        log.error({ err: e }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

export function reportConfigError(e: unknown): void {
  if (e instanceof ConfigError) {
    process.stderr.write(`xbar: ${e.message}\n`);
  } else {
    process.stderr.write(`xbar: ${(e as Error).message}\n`);
  }
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
