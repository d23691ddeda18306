/**
 * `xbar relay`: the stream relay alone at the root of one port, as practable's `crossbar` runs
 * (`CROSSBAR_LISTEN=127.0.0.1:9999 crossbar`), so `websocat ws://127.0.0.1:8089/expt`, `/in/demo`,
 * `/out/demo` and the page at `/stats` work as in its README. No WAMP realm, no config file.
 * Options fall back to environment variables (`XBAR_LISTEN` as `CROSSBAR_LISTEN`), then defaults.
 */
import { relayDefaults } from '../config/normalize-relay.js';
import type { NodeConfig, RelayPathConfig } from '../config/types.js';
import { XbarNode } from '../node.js';
import { createLogger, type LogFormat } from './log-output.js';

/** practable crossbar's default `--listen`. */
const DEFAULT_LISTEN = '127.0.0.1:8080';

export interface RelayOptions {
  listen?: string;
  secret?: string;
  audience?: string;
  adminToken?: string;
  stats?: string;
  logLevel: string;
  logFormat?: LogFormat;
}

/** `host:port`, `[v6]:port`, `:port` (every interface, as Go's net.Listen reads it) or `port`. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(text);
  const bare = /^\d+$/.test(text);
  const port = Number(bare ? text : m?.[3]);
  if ((!m && !bare) || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`listen address ${JSON.stringify(text)}: expected <host>:<port> (e.g. 127.0.0.1:8089), [<ipv6>]:<port> or :<port>`);
  }
  return { host: m?.[1] ?? (m?.[2] || '0.0.0.0'), port };
}

export function relayConfig(opts: RelayOptions, env: NodeJS.ProcessEnv = process.env): { config: NodeConfig; listen: string; tokens: boolean } {
  const listen = opts.listen ?? env.XBAR_LISTEN ?? DEFAULT_LISTEN;
  const { host, port } = parseListen(listen);
  const secret = opts.secret ?? env.XBAR_SECRET;
  const audience = opts.audience ?? env.XBAR_AUDIENCE;
  const adminToken = opts.adminToken ?? env.XBAR_ADMIN_TOKEN;
  if (adminToken !== undefined && adminToken.length < 16) throw new Error('admin token: at least 16 characters');
  const stats = opts.stats ?? env.XBAR_STATS;
  if (stats !== undefined && stats !== 'public' && stats !== 'admin' && stats !== 'off') throw new Error(`stats: expected public, admin or off, got ${JSON.stringify(stats)}`);
  const relay: RelayPathConfig = relayDefaults({
    ...(secret ? { tokens: { secret, required: true, ...(audience ? { audience } : {}) } } : {}),
    ...(adminToken ? { adminToken } : {}),
    ...(stats === undefined ? {} : { stats }),
  });
  return {
    listen,
    tokens: Boolean(secret),
    config: {
      realms: [],
      transports: [{
        type: 'web', id: 'relay',
        endpoint: { type: 'tcp', interface: host, port, ...(host.includes(':') ? { version: 6 as const } : {}) },
        paths: new Map([['', relay]]),
      }],
    },
  };
}

export async function relayCommand(opts: RelayOptions): Promise<void> {
  let built: ReturnType<typeof relayConfig>;
  try {
    built = relayConfig(opts);
  } catch (e) {
    process.stderr.write(`xbar relay: ${(e as Error).message}\n`);
    process.exit(2);
  }
  const log = createLogger(opts.logLevel, opts.logFormat);
  const node = new XbarNode(built.config, { logger: log });
  try {
    await node.start();
  } catch (e) {
    process.stderr.write(`xbar relay: could not start: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const address = node.addresses[0]!.address;
  log.info({ url: `ws://${address}/`, stats: `http://${address}/stats`, tokens: built.tokens }, 'xbar relay started');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'xbar relay stopping');
    node.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
