/**
 * Real nats-server processes for cluster tests, on free loopback ports with JetStream, each in its
 * own temporary store. Stopped by their own pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from 'nats';
import { freePort } from './ports.js';
import { eventually } from './eventually.js';

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  readonly clusterPort: number;
  readonly name: string;
  process: ChildProcess;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same ports and store (after a kill). */
  restart(): Promise<void>;
  /** With `cuttableRoutes` naming this server: cuts and heals its routes to the others (it keeps running). */
  readonly routes?: RouteProxy;
}

export interface RouteProxy {
  /** Drops every route connection to this server and refuses new ones. */
  cut(): void;
  heal(): void;
  close(): Promise<void>;
}

const NATS_BIN = process.env.NATS_SERVER ?? 'nats-server';

export interface NatsOptions {
  /** Client port of the first server (default: a free one), e.g. one a node already tries. */
  readonly port?: number;
  /** false: a server without JetStream (default true). */
  readonly jetstream?: boolean;
  /** The servers tell clients of no other server (`--no_advertise`): a client stays on the ones it was given. */
  readonly noAdvertise?: boolean;
  /**
   * Seconds between the servers' pings of their routes and clients, also their write deadline:
   * a paused peer is dropped after about twice this (nats-server: 2 min, 10 s), so JetStream
   * elects new leaders without it that much sooner.
   */
  readonly pingSeconds?: number;
  /**
   * Index of a server whose routes all pass through a TCP proxy that the test can cut (its
   * `routes`): it solicits none and advertises the proxy; the others advertise a port where
   * nobody listens, so it cannot route to them around the proxy.
   */
  readonly cuttableRoutes?: number;
}

/** One server, or a cluster of `count` servers routed to each other. */
export async function startNats(count = 1, o: NatsOptions = {}): Promise<NatsServer[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'xbar-nats-'));
  const ports = await Promise.all(Array.from({ length: count }, async (_, i) => ({ client: i === 0 && o.port ? o.port : await freePort(), cluster: await freePort() })));
  const js = o.jetstream ?? true;
  const cuttable = o.cuttableRoutes;
  // Every route to or from the cuttable server passes through a proxy to the listening side's cluster port.
  const proxy = cuttable === undefined ? undefined : await routeProxy(ports.map((p) => p.cluster));
  const nowhere = cuttable === undefined ? 0 : await freePort();
  const routesOf = (i: number) => ports.map((p, j) => `nats://127.0.0.1:${i === cuttable || j === cuttable ? proxy!.ports[j] : p.cluster}`).join(',');
  const servers = ports.map((p, i) => {
    const name = `n${i + 1}`;
    const args = ['-a', '127.0.0.1', '-p', String(p.client), ...(js ? ['-js', '-sd', path.join(dir, name)] : []), '--server_name', name];
    if (count > 1) args.push('--cluster_name', 'xb', '--cluster', `nats://127.0.0.1:${p.cluster}`, '--routes', routesOf(i));
    if (count > 1 && cuttable !== undefined) args.push('--cluster_advertise', `127.0.0.1:${i === cuttable ? proxy!.ports[i] : nowhere}`);
    if (o.noAdvertise) args.push('--no_advertise');
    if (o.pingSeconds) {
      const conf = path.join(dir, `${name}.conf`);
      writeFileSync(conf, `ping_interval: "${o.pingSeconds}s"\nping_max: 2\nwrite_deadline: "${o.pingSeconds}s"\n`);
      args.push('-c', conf);
    }
    const server: NatsServer = {
      url: `nats://127.0.0.1:${p.client}`, port: p.client, clusterPort: p.cluster, name, ...(i === cuttable ? { routes: proxy } : {}),
      process: spawn(NATS_BIN, args, { stdio: 'ignore' }),
      kill: async (signal = 'SIGKILL') => {
        const child = server.process;
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill(signal);
        await exited;
      },
      restart: async () => {
        server.process = spawn(NATS_BIN, args, { stdio: 'ignore' });
        await ready(server.url, js);
      },
    };
    return server;
  });
  await Promise.all(servers.map((s) => ready(s.url, js)));
  process.once('exit', () => {
    for (const s of servers) s.process.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return servers;
}

/** Ready when a client connects and (with `jetstream`) JetStream answers. */
async function ready(url: string, jetstream: boolean): Promise<void> {
  let last: unknown;
  const answers = async () => {
    try {
      const nc = await connect({ servers: url, reconnect: false, timeout: 1000 });
      try {
        if (jetstream) await (await nc.jetstreamManager({ timeout: 2000 })).getAccountInfo();
        return true;
      } finally {
        await nc.close();
      }
    } catch (e) {
      last = e;
      return false;
    }
  };
  await eventually(answers, `nats-server at ${url} to be ready`, 20_000, 100).catch((e: Error) => {
    throw new Error(`${e.message}: ${(last as Error)?.message}`);
  });
}

export async function stopNats(servers: readonly NatsServer[]): Promise<void> {
  await Promise.all(servers.map((s) => s.kill('SIGTERM')));
  await Promise.all(servers.map((s) => s.routes?.close()));
}

/** TCP proxies on free loopback ports, one to each cluster port, whose connections are cut together. */
async function routeProxy(clusterPorts: readonly number[]): Promise<RouteProxy & { ports: number[] }> {
  let open = true;
  const sockets = new Set<net.Socket>();
  const listeners = clusterPorts.map((clusterPort) => net.createServer((peer) => {
    if (!open) return void peer.destroy();
    const upstream = net.connect({ host: '127.0.0.1', port: clusterPort });
    for (const s of [peer, upstream]) {
      sockets.add(s);
      s.on('close', () => {
        sockets.delete(s);
        peer.destroy();
        upstream.destroy();
      });
      s.on('error', () => undefined);
    }
    peer.pipe(upstream);
    upstream.pipe(peer);
  }));
  await Promise.all(listeners.map((l) => new Promise<void>((r) => l.listen(0, '127.0.0.1', r))));
  const cut = () => {
    open = false;
    for (const s of sockets) s.destroy();
  };
  return {
    ports: listeners.map((l) => (l.address() as net.AddressInfo).port),
    cut,
    heal: () => {
      open = true;
    },
    close: async () => {
      cut();
      await Promise.all(listeners.map((l) => new Promise((r) => l.close(r))));
    },
  };
}
