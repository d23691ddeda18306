/**
 * One router-to-router link (Crossbar.io's `RLink`): a WAMP client session on the remote router's
 * realm and a session on this router's realm, cross-wired by the forwarding rules (`forward.ts`)
 * the link's flags switch on. The link is a component on top of the router: both legs are
 * ordinary WAMP sessions, authorized like any other. When the remote session ends the local one is
 * closed too (its mirrored subscriptions and registrations go with it) and the link reconnects
 * with back-off (Crossbar.io's ApplicationRunner defaults: 1 s, ×1.5, at most 60 s, jittered).
 *
 * Authentication (Crossbar.io's RLinkRemoteSession): with the node key the link offers
 * WAMP-cryptosign first — `authextra.pubkey`, and `channel_binding: "tls-unique"` when the
 * connection has one (TLS up to 1.2) — and anonymous second, for remotes that admit links
 * without keys (Crossbar.io offers cryptosign only). A refusal is logged at every attempt.
 */
import type { Logger } from 'pino';
import { channelId } from '../auth/dynamic.js';
import { LocalClient, WampError, type HelloOptions } from '../client/local-client.js';
import { connectRawSocket, connectWebSocket, type ClientTls, type SocketPeerEnd } from '../client/socket-peer.js';
import type { RLinkConfig, RLinkTlsConfig } from '../config/types-rlinks.js';
import type { Dict } from '../wamp/messages.js';
import type { Router } from '../router/router.js';
import { serializerById } from '../serializers/index.js';
import { TRUSTED_ROLE } from '../auth/authorizer.js';
import { forwardCalls, forwardEvents } from './forward.js';
import type { Mirror } from './mirror.js';
import type { NodeKey } from './node-key.js';

export interface BackOff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly growth: number;
}

export const DEFAULT_BACKOFF: BackOff = { initialMs: 1000, maxMs: 60_000, growth: 1.5 };

export type LinkState = 'connecting' | 'connected' | 'stopped';

export class RouterLink {
  state: LinkState = 'connecting';
  /** Times the remote session was established. */
  connects = 0;
  readonly forwarded = { event: 0, call: 0 };
  private remote: LocalClient | undefined;
  private local: LocalClient | undefined;
  private peer: SocketPeerEnd | undefined;
  private mirrors: Mirror[] = [];
  private timer: NodeJS.Timeout | undefined;
  private delay: number;
  private connected: (() => void)[] = [];
  /** Failed attempts since the link was last connected. */
  private failures = 0;

  constructor(
    readonly config: RLinkConfig,
    private readonly localRealm: string,
    private readonly router: Router,
    private readonly log: Logger,
    private readonly nodeKey?: NodeKey,
    private readonly backoff: BackOff = DEFAULT_BACKOFF,
  ) {
    this.delay = backoff.initialMs;
  }

  start(): void {
    void this.attempt();
  }

  /** Resolves once the link is (again) connected. */
  whenConnected(): Promise<void> {
    if (this.state === 'connected') return Promise.resolve();
    return new Promise((resolve) => this.connected.push(resolve));
  }

  stop(): void {
    this.state = 'stopped';
    clearTimeout(this.timer);
    this.teardown();
  }

  private async attempt(): Promise<void> {
    if (this.state === 'stopped') return;
    const c = this.config;
    try {
      const peer = await this.connect();
      this.peer = peer;
      const remote = await LocalClient.open(peer, c.realm, this.hello(peer));
      this.remote = remote;
      remote.onClose = () => this.lost('the remote session ended');
      const local = await LocalClient.join(this.router, this.localRealm, {
        authid: c.authid ?? c.id, authrole: TRUSTED_ROLE, authextra: { rlink: c.id },
      });
      this.local = local;
      local.onClose = () => this.lost('the local session ended');
      if ((this.state as LinkState) === 'stopped') return this.teardown();
      const counted = (what: 'event' | 'call'): void => void this.forwarded[what]++;
      const toLocal = { excludeAuthid: [], log: this.log, counted };
      const toRemote = { excludeAuthid: c.excludeAuthid, log: this.log, counted };
      // Crossbar.io's naming: the local leg watches local subscriptions and brings remote events to them.
      if (c.forwardLocalEvents) this.mirrors.push(forwardEvents(local, remote, toLocal));
      if (c.forwardRemoteEvents) this.mirrors.push(forwardEvents(remote, local, toRemote));
      if (c.forwardLocalInvocations) this.mirrors.push(forwardCalls(local, remote, toLocal));
      if (c.forwardRemoteInvocations) this.mirrors.push(forwardCalls(remote, local, toRemote));
      for (const m of this.mirrors) await m.start();
      this.state = 'connected';
      this.connects++;
      this.delay = this.backoff.initialMs;
      this.failures = 0;
      this.log.info({ rlink: c.id, realm: this.localRealm, remoteRealm: c.realm, session: remote.sessionId }, 'rlink connected');
      for (const f of this.connected.splice(0)) f();
    } catch (e) {
      // An ABORT in answer to HELLO: the remote refused the link (its key, authid or realm).
      this.lost((e as Error).message, e instanceof WampError && this.remote === undefined);
    }
  }

  /** HELLO's authentication: cryptosign with the node key (then anonymous), or anonymous alone. */
  private hello(peer: SocketPeerEnd): HelloOptions {
    const c = this.config;
    const key = this.nodeKey;
    const authid = c.authid === undefined ? {} : { authid: c.authid };
    if (key === undefined) return { ...authid, authmethods: ['anonymous'], authextra: { rlink: c.id } };
    const authextra: Dict = { rlink: c.id, pubkey: key.publicHex, ...(peer.tlsUnique === undefined ? {} : { channel_binding: 'tls-unique' }) };
    return {
      ...authid, authmethods: ['cryptosign', 'anonymous'], authextra,
      onChallenge: (method, extra) => {
        const challenge = typeof extra.challenge === 'string' ? Buffer.from(extra.challenge, 'hex') : Buffer.alloc(0);
        if (method !== 'cryptosign' || challenge.length !== 32) throw new Error(`unexpected ${method} challenge`);
        // Autobahn's channel binding: sign the challenge XOR SHA-256(tls-unique).
        if (extra.channel_binding !== 'tls-unique' || peer.tlsUnique === undefined) return key.signChallenge(challenge);
        const id = channelId(peer.tlsUnique);
        return key.signChallenge(Buffer.from(challenge.map((b, i) => b ^ id[i]!)));
      },
    };
  }

  private connect(): Promise<SocketPeerEnd> {
    const t = this.config.transport;
    const serializer = serializerById(t.serializer)!;
    const secure = t.tls === undefined ? undefined : clientTls(t.tls);
    if (t.type === 'rawsocket') return connectRawSocket(t.target, serializer, t.timeoutMs, secure);
    const url = t.unixPath ? `ws+unix://${t.unixPath}:${new URL(t.url).pathname}` : t.url;
    return connectWebSocket(url, serializer, t.timeoutMs, secure);
  }

  private lost(why: string, refused = false): void {
    const wasConnected = this.state === 'connected';
    this.teardown();
    if (this.state === 'stopped' || this.timer) return;
    this.state = 'connecting';
    const wait = Math.min(this.delay, this.backoff.maxMs) * (0.5 + Math.random() / 2);
    this.delay = Math.min(this.delay * this.backoff.growth, this.backoff.maxMs);
    const fields = { rlink: this.config.id, reason: why, retryMs: Math.round(wait) };
    if (refused) {
      // A refusal will not heal by itself: say so every time, with what the remote must admit.
      this.failures++;
      this.log.warn({ ...fields, authid: this.config.authid, pubkey: this.nodeKey?.publicHex }, 'rlink refused by the remote router; retrying with back-off');
    } else {
      // Loud when the link goes down or cannot come up at all; quiet while it keeps retrying.
      const loud = wasConnected || this.failures++ === 0;
      (loud ? this.log.warn : this.log.debug).call(this.log, fields, 'rlink down; reconnecting');
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.attempt();
    }, wait);
    this.timer.unref();
  }

  private teardown(): void {
    for (const m of this.mirrors) m.stop();
    this.mirrors = [];
    const { remote, local, peer } = this;
    this.remote = this.local = this.peer = undefined;
    if (remote) remote.onClose = undefined;
    if (local) local.onClose = undefined;
    remote?.close();
    local?.close();
    if (!remote) peer?.close();
  }
}

function clientTls(t: RLinkTlsConfig): ClientTls {
  return {
    hostname: t.hostname,
    ...(t.caCertificates === undefined ? {} : { ca: t.caCertificates }),
    ...(t.certificate === undefined ? {} : { cert: t.certificate }),
    ...(t.key === undefined ? {} : { key: t.key }),
  };
}
