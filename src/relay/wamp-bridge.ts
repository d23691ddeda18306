/**
 * The relay ↔ WAMP bridge: relay channel `a/b` is WAMP topic `<prefix>.a.b` in one realm.
 *
 * - Relay → WAMP: a message relayed on a channel is published to its URI: text as a string
 *   argument, binary as a bytes argument (`args: [payload]`). For in/x → out/x the URI is
 *   `<prefix>.out.x`, where an /out viewer would read.
 * - WAMP → relay: a publication to `<prefix>.x` reaches the clients of channel x; to
 *   `<prefix>.in.x` the clients of out/x (as an /in sender would); to `<prefix>.out.x` nobody (as
 *   an /out client's writes). A string argument becomes a text message, bytes a binary message,
 *   anything else its JSON text.
 *
 * No echo loops: the bridge's session publishes with WAMP's default `exclude_me`, so its own
 * subscription never hears its publications, and a message that came from WAMP is handed to the
 * relay as coming from no relay client, so it is never forwarded back.
 *
 * The bridge joins as role "trusted" through the in-process LocalClient, so the router applies
 * the same routing to it as to any client.
 */
import type { Logger } from 'pino';
import { LocalClient } from '../client/local-client.js';
import type { Router } from '../router/router.js';
import type { Args, Dict, Kwargs } from '../wamp/messages.js';

export interface BridgeTarget {
  /** Delivers a message from WAMP to the clients of `channel` (no relay client sent it). */
  fromWamp(channel: string, data: Buffer, binary: boolean): void;
}

export class WampBridge {
  private client: LocalClient | undefined;
  private readonly dotPrefix: string;

  constructor(
    private readonly router: Router,
    private readonly realm: string,
    prefix: string,
    private readonly target: BridgeTarget,
    private readonly log: Logger,
  ) {
    this.dotPrefix = `${prefix}.`;
  }

  async start(): Promise<void> {
    const client = await LocalClient.join(this.router, this.realm, { authid: 'xbar-relay-bridge', authrole: 'trusted' });
    await client.subscribe(this.dotPrefix, (args, kwargs, details) => this.onEvent(args, kwargs, details), { match: 'prefix' });
    client.onClose = () => {
      if (this.client === client) this.client = undefined;
    };
    this.client = client;
    this.log.info({ realm: this.realm, prefix: this.dotPrefix }, 'relay bridged to WAMP');
  }

  /** The WAMP URI of a relay channel. */
  uriOf(channel: string): string {
    return this.dotPrefix + channel.replaceAll('/', '.');
  }

  /** Publishes a relayed message to WAMP. */
  toWamp(channel: string, data: Buffer, binary: boolean): void {
    const client = this.client;
    if (!client?.isOpen) return;
    void client.publish(this.uriOf(channel), [binary ? data : data.toString('utf8')]).catch((e: unknown) => {
      this.log.warn({ err: e, channel }, 'relay bridge: publish failed');
    });
  }

  private onEvent(args: Args, kwargs: Kwargs, details: Dict): void {
    const topic = details['topic'];
    if (typeof topic !== 'string' || !topic.startsWith(this.dotPrefix)) return;
    const path = topic.slice(this.dotPrefix.length).split('.');
    if (path.some((s) => s === '')) return;
    let channel: string;
    if (path[0] === 'out') return; // an /out client's writes go nowhere
    else if (path[0] === 'in') channel = ['out', ...path.slice(1)].join('/');
    else channel = path.join('/');
    if (channel === 'out') return;
    const payload = toPayload(args, kwargs);
    if (payload) this.target.fromWamp(channel, payload.data, payload.binary);
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
  }
}

function toPayload(args: Args, kwargs: Kwargs): { data: Buffer; binary: boolean } | undefined {
  const first = args?.[0];
  if (typeof first === 'string') return { data: Buffer.from(first, 'utf8'), binary: false };
  if (first instanceof Uint8Array) return { data: Buffer.from(first.buffer, first.byteOffset, first.byteLength), binary: true };
  const value = first !== undefined ? first : kwargs;
  if (value === undefined) return undefined;
  return { data: Buffer.from(JSON.stringify(value), 'utf8'), binary: false };
}
