import pino from 'pino';
import { ConfigError } from '../config/issues.js';
import { defaultConfig } from '../config/defaults.js';
import { loadConfigFile } from '../config/load.js';
import type { NodeConfig } from '../config/types.js';
import { XbarNode } from '../node.js';

export async function startCommand(opts: { config?: string; logLevel: string }): Promise<void> {
  let config: NodeConfig;
  try {
    config = opts.config ? await loadConfigFile(opts.config) : defaultConfig();
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
