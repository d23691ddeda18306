/**
 * What this node advertises in the cluster's node directory (backplane.ts `NodeAdvert`): the
 * client-facing URLs (`cluster.advertise`, or by default the WAMP endpoints it listens on, with
 * the ports it really bound), its load and its state. Read at every heartbeat.
 */
import { hostname } from 'node:os';
import type { NodeAdvert, NodeLoad, NodeState } from './backplane/backplane.js';
import type { TransportConfig } from './config/types.js';

export interface BoundTransport {
  readonly transport: string;
  /** TCP port really bound (undefined for a Unix socket). */
  readonly port?: number;
  /** `host:port` as bound. */
  readonly address: string;
}

/**
 * The WAMP URLs of the listeners: `ws://host:port/path` per WebSocket path (`wss` with TLS) and
 * `rs://host:port` per RawSocket (`rss` with TLS). A listener on every interface is named by
 * this host's name. Unix sockets, MQTT and other services are not advertised.
 */
export function listenedUrls(transports: readonly TransportConfig[], bound: readonly BoundTransport[]): string[] {
  const urls: string[] = [];
  for (const t of transports) {
    const b = bound.find((x) => x.transport === t.id);
    if (t.endpoint.type !== 'tcp' || b?.port === undefined) continue;
    const tls = t.endpoint.tls !== undefined;
    const host = hostOf(b.address);
    if (t.type === 'web' || t.type === 'universal') {
      for (const [p, s] of t.paths) if (s.type === 'websocket') urls.push(`${tls ? 'wss' : 'ws'}://${host}:${b.port}/${p}`);
    }
    if (t.type === 'rawsocket' || (t.type === 'universal' && t.rawsocket)) urls.push(`${tls ? 'rss' : 'rs'}://${host}:${b.port}`);
  }
  return urls;
}

function hostOf(address: string): string {
  const host = address.slice(0, address.lastIndexOf(':'));
  return host === '0.0.0.0' || host === '[::]' ? hostname() : host;
}

/** CPU use of this process between two readings, percent of one core. */
export class CpuMeter {
  private last = { at: performance.now(), usage: process.cpuUsage() };
  private percent = 0;

  /** Percent since the previous reading (the previous figure when read again within 100 ms). */
  read(): number {
    const at = performance.now();
    if (at - this.last.at < 100) return this.percent;
    const usage = process.cpuUsage();
    const usedMs = (usage.user - this.last.usage.user + usage.system - this.last.usage.system) / 1000;
    this.percent = Math.max(0, (100 * usedMs) / (at - this.last.at));
    this.last = { at, usage };
    return this.percent;
  }
}

export interface AdvertParts {
  addresses(): readonly string[];
  load(): NodeLoad;
  state(load: NodeLoad): NodeState;
}

export function advertOf(parts: AdvertParts): () => NodeAdvert {
  const startedAt = Date.now();
  return () => {
    const load = parts.load();
    return { startedAt, addresses: parts.addresses(), load, state: parts.state(load) };
  };
}
