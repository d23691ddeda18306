/**
 * A node: wires a validated NodeConfig into a backplane, a router and listeners. The only module
 * that knows every layer.
 */
import { lstatSync, mkdirSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import net, { type Socket } from 'node:net';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import type { Backplane } from './backplane/backplane.js';
import { LocalBackplane } from './backplane/local/local-backplane.js';
import { NatsBackplane } from './backplane/nats/nats-backplane.js';
import type { PerMessageDeflateOptions } from 'ws';
import type { AuthConfig, CookieConfig, DeflateConfig, Endpoint, MqttOptions, NodeConfig, PathService, SessionTransportOptions, TransportConfig } from './config/types.js';
import { NodeSecurity } from './node-security.js';
import { RelayService } from './relay/relay.js';
import { Router } from './router/router.js';
import { serializerById } from './serializers/index.js';
import type { Serializer } from './serializers/serializer.js';
import { acceptRawSocket } from './transports/rawsocket.js';
import type { MqttGateway } from './mqtt/gateway.js';
import { mqttGateway, mqttWebSocketPath } from './mqtt/service.js';
import { WebSocketService } from './transports/websocket.js';
import { CookieStore } from './auth/cookie-store.js';
import { LongPollService } from './transports/longpoll.js';
import { WebServer } from './web/http-server.js';
import { statsConfig } from './config/normalize-stats.js';
import { installStats, publishUpdate } from './router/meta/stats-procedures.js';
import { installClusterDirectory, nodeDetails, publishNodeChange } from './router/meta/cluster-procedures.js';
import { advertOf, CpuMeter, listenedUrls } from './node-advert.js';
import { Admission } from './balance/admission.js';
import { byLoad, stateOf } from './balance/placement.js';
import { Shedder, type Sheddable } from './balance/shedder.js';
import { rendezvousHandler } from './web/rendezvous.js';
import { CloseCode } from './connection/close-codes.js';
import type { NodeAdvert } from './backplane/backplane.js';
import type { TestamentStore } from './router/meta/testaments.js';
import { StatsCollector, type NodeSource } from './stats/collector.js';
import { Refusals } from './stats/refusals.js';
import { OutBudget } from './transports/out-budget.js';
import { Traffic } from './stats/traffic.js';
import { NetworkList } from './network/networks.js';
import { acceptProxyProtocol } from './network/proxy-accept.js';
import { acceptUniversal } from './network/universal-accept.js';
import { EdgeRefusals } from './network/refusals.js';
import { BridgeCounts } from './stats/bridge-counts.js';
import { AccessGate, gated } from './web/access-gate.js';
import { healthHandler, type Readiness } from './web/health.js';
import { originChecked } from './web/origin-check.js';
import { withoutTopicNames, withoutTopics } from './web/topic-names.js';
import type { NodeWorkers } from './multicore/node-channel.js';
import { NodeReport } from './multicore/node-report.js';
import { metricsHandler } from './web/metrics.js';
import { statsJsonHandler } from './web/stats-page.js';
import { consoleHandler } from './web/console/console-service.js';
import { answerNodeQuery, consoleSource, NODE_SCOPE } from './node-console.js';
import { NodeController } from './workers/node-controller.js';
import { Workers } from './workers/workers.js';
import { OutboundBridge } from './bridge/outbound.js';
import type { SupervisionPolicy } from './workers/supervisor.js';
import { isWebService, startWebService } from './web/services/index.js';
import type { NodeInfoSource } from './web/services/node-info.js';
import { loadOrCreateNodeKey, type NodeKey } from './rlinks/node-key.js';
import { RouterLink } from './rlinks/router-link.js';
import { flashPolicyAcceptor } from './pseudo-transports/flash-policy.js';
import { streamTesteeAcceptor } from './pseudo-transports/stream-testee.js';
import { WebSocketTestee } from './pseudo-transports/websocket-testee.js';

/** A universal transport's client must send its first bytes within this, ms (RawSocket's handshake default). */
const UNIVERSAL_FIRST_BYTE_TIMEOUT = 10_000;

export interface NodeOptions {
  readonly logger?: Logger;
  readonly backplane?: Backplane;
  /** Where testaments wait (default: in memory, lost if this node dies). */
  readonly testaments?: TestamentStore;
  /** Restart back-off and stop grace of worker processes (default: `DEFAULT_POLICY`, workers/supervisor.ts). */
  readonly workerPolicy?: SupervisionPolicy;
  /**
   * The node should stop: a component asked (`crossbar.shutdown` through `config.controller`), or a
   * worker ended and a shutdown trigger applies (`controller.options.shutdown`); `exitCode` is what
   * the process should exit with. Default: `stop()`. The CLI stops as on SIGTERM and exits.
   */
  readonly onShutdownRequest?: (why: string, exitCode: number) => void;
  /**
   * A worker of `xbar start --workers N`: the node's other workers (multicore/node-channel.ts),
   * so /stats.json, /metrics, the console and /health report the whole node.
   */
  readonly nodeWorkers?: NodeWorkers;
}

export interface ListeningAddress {
  readonly transport: string;
  readonly kind: TransportConfig['type'];
  /** `host:port` or a Unix socket path. */
  readonly address: string;
  readonly port?: number;
}

export class XbarNode {
  readonly log: Logger;
  readonly backplane: Backplane;
  readonly router: Router;
  private readonly servers: net.Server[] = [];
  private readonly closers: (() => void | Promise<void>)[] = [];
  readonly addresses: ListeningAddress[] = [];
  /** The relay services of this node's web paths (for tests and stats). */
  readonly relays: RelayService[] = [];
  /** The MQTT gateways of this node's mqtt transports and paths (for tests and stats). */
  readonly mqtt: MqttGateway[] = [];
  /** Authentication, TLS and per-IP limits. */
  private readonly security: NodeSecurity;
  /** The budget of every connection's out-buffer together (`limits.max_out_buffer_total`). */
  readonly outBudget: OutBudget;
  /** Statistics: samples the router's counters (stats/, web/ stats, metrics and health services). */
  readonly stats: StatsCollector;
  /** Requests refused by a limit, per limit (`xbar_limit_refusals_total`). */
  readonly refusals = new Refusals();
  /** What the edge refused (PROXY protocol, Origin, access control), for /metrics. */
  readonly edgeRefusals = new EdgeRefusals();
  /** What the HTTP bridge dropped (SSE streams, outbound forwarders), for /metrics. */
  readonly bridgeCounts = new BridgeCounts();
  /** File cookie stores by file: paths naming one file share its store (two writers would undo each other's compaction). */
  private readonly cookieFiles = new Map<string, CookieStore>();
  /** `cluster.max_sessions`: refuses sessions and upgrades while the node is full. */
  readonly admission: Admission;
  /** `cluster.shed`: moves sessions to lighter nodes, a few per second; undefined = no shedding. */
  readonly shedder: Shedder | undefined;
  /** Listeners up and not stopping (readiness). */
  private serving = false;
  /** The realms' router-to-router links (src/rlinks/). */
  readonly rlinks: RouterLink[] = [];
  /** Guest, container and router-component processes (src/workers/). */
  readonly workers: Workers;
  /** Crossbar.io's outbound HTTP bridge components, run natively (src/bridge/). */
  readonly outbound: OutboundBridge;
  /** What a `nodeinfo` page shows. */
  private readonly nodeInfo: NodeInfoSource = {
    started: new Date(),
    nodeId: () => this.backplane.nodeId,
    transports: () => this.addresses.length,
  };

  private readonly workerPolicy: SupervisionPolicy | undefined;
  private readonly nodeWorkers: NodeWorkers | undefined;
  /** The statistics of the node: this process's, or with `--workers N` every worker's. */
  readonly report: NodeReport;
  /** Names each metrics service among the workers (every worker mounts the same, in order). */
  private metricsServices = 0;

  constructor(readonly config: NodeConfig, options: NodeOptions = {}) {
    this.workerPolicy = options.workerPolicy;
    this.log = options.logger ?? pino({ level: process.env.XBAR_LOG_LEVEL ?? 'info' });
    this.backplane = options.backplane ?? backplaneFor(config, this.log);
    const stats = config.stats ?? statsConfig(undefined);
    this.router = new Router(config.realms, this.backplane, this.log, {
      ...(stats.enabled ? { stats: { maxTopics: stats.maxTopics, topTopics: stats.topTopics } } : {}),
      ...(options.testaments ? { testaments: options.testaments } : {}),
      limits: { maxRetainedBytes: config.limits?.maxRetainedBytesPerRealm, maxTestamentBytes: config.limits?.maxTestamentBytesPerSession },
    });
    this.security = new NodeSecurity(config, this.router, this.log, this.refusals.count);
    this.outBudget = new OutBudget(config.limits?.maxOutBufferTotal ?? Infinity);
    this.refusals.outBuffers = this.outBudget;
    this.stats = new StatsCollector(statsSource(this.router, this.backplane, () => this.admission, () => this.shedder), stats);
    this.nodeWorkers = options.nodeWorkers;
    this.report = new NodeReport(this.stats, options.nodeWorkers);
    for (const realm of this.router.allRealms()) {
      installStats(realm, () => this.stats.snapshot(), options.nodeWorkers && (() => this.report.snapshot()));
      installClusterDirectory(realm, () => this.backplane.directory());
    }
    this.backplane.advertise(this.advert);
    this.admission = new Admission(config.placement, () => this.router.sessionCount, () => this.backplane.directory());
    this.router.admission = () => this.admission.hello();
    const shed = config.placement?.shed;
    this.shedder = shed && new Shedder(shed, { directory: () => this.backplane.directory(), candidates: () => this.sheddable() });
    this.stats.onSample = (s) => {
      for (const realm of this.router.allRealms()) publishUpdate(realm, s);
    };
    this.outbound = new OutboundBridge(config.outbound ?? [], this.router, this.bridgeCounts, this.log);
    const shutdown = options.onShutdownRequest ?? (() => void this.stop().catch((err: unknown) => this.log.error({ err }, 'error while stopping')));
    this.workers = new Workers(config.workers, {
      log: this.log,
      ...(options.workerPolicy ? { policy: options.workerPolicy } : {}),
      attach: (conn, session) => this.router.attach(conn, session),
      controller: new NodeController(() => this.backplane.nodeId, () => shutdown('crossbar.shutdown', 0), this.log),
      onTriggeredShutdown: (why) => shutdown(`${why.trigger} (worker ${why.worker})`, why.exitCode),
    });
  }

  /** What this node's heartbeats tell the node directory. */
  private readonly advert: () => NodeAdvert = (() => {
    const cpu = new CpuMeter();
    return advertOf({
      addresses: () => this.config.placement?.advertise ?? listenedUrls(this.config.transports, this.addresses),
      load: () => ({ sessions: this.router.sessionCount, connections: this.router.connectionCount, cpu: cpu.read(), queuedBytes: this.outBudget.total }),
      state: (load) => (this.router.accepts ? stateOf(load, this.config.placement) : 'stopping'),
    });
  })();

  /** Serving (listeners up, not stopping) and the backplane standalone or ready. */
  readiness(): Readiness {
    const backplane = this.backplane.health();
    const reasons: string[] = [];
    if (this.backplane.joining?.()) reasons.push(`waiting for the NATS backplane (${this.config.cluster?.servers.join(', ') ?? 'cluster.nats.servers'})`);
    else if (!this.serving) reasons.push(this.router.accepts ? 'the node is starting: not every listener is up yet' : 'the node is shutting down');
    if (backplane !== 'standalone' && backplane !== 'ready') reasons.push(`the cluster backplane is ${backplane}`);
    return { ready: reasons.length === 0, reasons, backplane, node: this.backplane.nodeId, ...(this.nodeWorkers ? { workers: this.workerStates(this.nodeWorkers) } : {}) };
  }

  /** Each worker's state as the primary last told; this one is up (it answers) once it serves. */
  private workerStates(w: NodeWorkers): { index: number; state: string }[] {
    const known = w.statuses().map((s) => ({ index: s.index, state: s.index === w.index && this.serving ? 'up' : s.state }));
    return known.some((s) => s.index === w.index) ? known : [...known, { index: w.index, state: this.serving ? 'up' : 'starting' }].sort((a, b) => a.index - b.index);
  }

  /** The node key an rlink authenticates with (Crossbar.io's key.priv), read or created once per file. */
  private nodeKey(file: string | undefined, keys: Map<string, NodeKey>): NodeKey | undefined {
    if (file === undefined) return undefined;
    let key = keys.get(file);
    if (key === undefined) {
      const got = loadOrCreateNodeKey(file);
      key = got.key;
      keys.set(file, key);
      this.log.info({ file, pubkey: key.publicHex }, got.created ? 'node key created: rlinks authenticate with it (cryptosign)' : 'rlinks authenticate with the node key (cryptosign)');
    }
    return key;
  }

  async start(): Promise<void> {
    try {
      const handlers = this.router.backplaneHandlers();
      await this.backplane.start({
        ...handlers,
        // Node-wide queries (the console's cluster view) before the router's per-realm ones.
        metaQuery: (realm, q) => (realm === NODE_SCOPE ? answerNodeQuery(this.router, this.stats, this.backplane.nodeId, q) : handlers.metaQuery(realm, q)),
        nodeJoined: (entry, announce) => {
          if (announce) for (const realm of this.router.allRealms()) publishNodeChange(realm, 'join', entry);
        },
        nodeLeft: (entry, announce) => {
          if (announce) for (const realm of this.router.allRealms()) publishNodeChange(realm, 'leave', entry);
        },
      });
      await this.router.start();
      for (const t of this.config.transports) await this.listen(t);
      // The directory learns the bound ports now, not at the next heartbeat.
      this.backplane.advertise(this.advert);
      // A backplane still waiting for NATS did not hold up local clients: the listeners are open
      // and /health/ready says 503 until it has joined.
      await this.backplane.joining?.();
      this.stats.start();
      const keys = new Map<string, NodeKey>();
      for (const realm of this.config.realms) {
        for (const l of realm.rlinks ?? []) this.rlinks.push(new RouterLink(l, realm.name, this.router, this.log, this.nodeKey(l.nodeKeyFile, keys)));
      }
      for (const l of this.rlinks) l.start();
      await this.outbound.start();
      // Workers connect to the listeners, as Crossbar.io starts them after the router worker.
      await this.workers.start();
      this.serving = true;
      this.shedder?.start();
      // A node tells of its own start (its heartbeat with the bound ports went out first).
      const self = this.backplane.directory()[0];
      if (self) for (const realm of this.router.allRealms()) publishNodeChange(realm, 'join', self);
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  private async listen(t: TransportConfig): Promise<void> {
    let server: net.Server;
    const tcp = t.endpoint.type === 'tcp' ? t.endpoint : undefined;
    const trusted = tcp?.trustedProxies && new NetworkList(tcp.trustedProxies);
    if (t.type === 'web') {
      const web = await this.webServer(t, trusted);
      this.closers.push(() => web.close());
      server = web.server;
    } else if (t.type === 'mqtt') {
      const gateway = this.mqttGatewayFor(t);
      server = net.createServer((socket) => gateway.accept(socket));
    } else if (t.type === 'universal') {
      const web = t.paths.size > 0 ? await this.webServer(t, trusted) : undefined;
      if (web) {
        this.closers.push(() => web.close(), () => web.server.closeAllConnections());
      }
      const gateway = t.mqtt && this.mqttGatewayFor(t.mqtt);
      const routes = {
        ...(t.rawsocket ? { rawsocket: this.rawSocketAcceptor(t.rawsocket) } : {}),
        ...(gateway ? { mqtt: (socket: Socket) => gateway.accept(socket) } : {}),
        ...(web ? { http: (socket: Socket) => web.server.emit('connection', socket) } : {}),
      };
      server = net.createServer((socket) => acceptUniversal(socket, routes, UNIVERSAL_FIRST_BYTE_TIMEOUT));
    } else if (t.type === 'flashpolicy') {
      server = net.createServer(flashPolicyAcceptor(t.allowedDomain, t.allowedPorts));
    } else if (t.type === 'stream.testee') {
      server = net.createServer(streamTesteeAcceptor());
    } else if (t.type === 'websocket.testee') {
      const testee = new WebSocketTestee({
        maxMessageSize: t.maxMessageSize,
        pingInterval: t.autoPingInterval,
        pingTimeout: t.autoPingTimeout,
        ...(t.deflate ? { perMessageDeflate: perMessageDeflate(t.deflate) } : {}),
      });
      this.closers.push(() => testee.close());
      server = testee.server;
    } else {
      server = net.createServer(this.rawSocketAcceptor(t));
    }
    const plain = server;
    server = this.security.listener(t.id, server, tcp?.tls, this.closers, t.type === 'web' || t.type === 'universal' ? trusted : undefined);
    if (tcp?.proxyProtocol) {
      server = acceptProxyProtocol(server, {
        timeout: tcp.proxyProtocol.timeout, transport: t.id, refusals: this.edgeRefusals, log: this.log,
        ...(trusted ? { trusted } : {}),
      });
      // The HTTP server no longer listens itself: close its idle keep-alive connections on stop.
      this.closers.push(() => (plain as net.Server & { closeAllConnections?: () => void }).closeAllConnections?.());
    }
    await bind(server, t.endpoint, t.id);
    this.servers.push(server);
    const address = describe(server, t.endpoint);
    this.addresses.push({ transport: t.id, kind: t.type, ...address });
    this.log.info({ transport: t.id, type: t.type, address: address.address }, 'listening');
  }

  /** A web transport's server with a handler mounted per path service. */
  private async webServer(t: { readonly id: string; readonly paths: ReadonlyMap<string, PathService> }, trusted: NetworkList | undefined): Promise<WebServer> {
    const web = new WebServer({ ...(trusted ? { trustedProxies: trusted } : {}), admitForwarded: (a) => this.security.admitForwarded(t.id, a) });
    try {
      await this.mountPaths(web, t.id, t.paths);
    } catch (e) {
      // What was started before the failing service (a Python app's process, say) stops with it.
      await web.close();
      throw e;
    }
    return web;
  }

  private async mountPaths(web: WebServer, transport: string, paths: ReadonlyMap<string, PathService>): Promise<void> {
    for (const [p, service] of paths) {
      if (service.type === 'relay') {
        const relay = new RelayService(service, { log: this.log, mount: p, router: this.router, outBudget: this.outBudget });
        await relay.start();
        this.relays.push(relay);
        web.mount(p, originChecked(relay, service, p, this.edgeRefusals));
        continue;
      }
      const gate = 'access' in service && service.access ? new AccessGate(service.access, p, this.edgeRefusals) : undefined;
      const source = 'topicNames' in service && service.topicNames === false ? withoutTopicNames(this.stats) : this.stats;
      if (service.type === 'stats') {
        // The page at the path, its JSON beside it: /stats and /stats.json.
        const json = p === '' ? 'stats.json' : `${p}.json`;
        const consoleData = consoleSource(this.router, this.backplane, this.stats, this.report);
        web.mount(p, gated(consoleHandler(consoleData, { base: p === '' ? '' : `/${p}`, jsonUrl: `/${json}`, refreshMs: this.stats.config.interval }), gate));
        const hide = source !== this.stats;
        web.mount(json, gated(statsJsonHandler({ snapshot: () => this.report.snapshot().then((s) => (hide ? withoutTopics(s) : s)) }), gate));
        continue;
      }
      if (service.type === 'metrics') {
        const node = this.nodeWorkers && { workers: this.nodeWorkers, kind: `xbar.metrics.${this.metricsServices++}` };
        web.mount(p, gated(metricsHandler(source, this.refusals, this.edgeRefusals, this.bridgeCounts, node), gate));
        continue;
      }
      if (service.type === 'rendezvous') {
        web.mount(p, gated(rendezvousHandler(() => byLoad(this.backplane.directory()), this.config.placement?.retryAfter ?? 5), gate));
        continue;
      }
      if (service.type === 'health') {
        web.mount(p, gated(healthHandler(() => this.readiness()), gate));
        continue;
      }
      if (service.type === 'mqtt') {
        web.mount(p, mqttWebSocketPath(this.mqttGatewayFor(service), service.maxPacketSize));
        continue;
      }
      if (service.type === 'longpoll') {
        const lp = new LongPollService(
          { ...service, serializers: serializersOf(service.serializers), countTraffic: this.stats.config.enabled, admit: (a) => this.security.admitForwarded(transport, a) },
          (conn) => this.router.attach(conn, this.security.sessionOptions(service)),
        );
        web.mount(p, { request: (req, res, _rest, at) => lp.request(req, res, at.segments), close: () => lp.close() });
        continue;
      }
      if (isWebService(service)) {
        const deps = {
          log: this.log, router: this.router, nodeInfo: this.nodeInfo, mount: p && `/${p}`, bridgeCounts: this.bridgeCounts,
          ...(this.workerPolicy ? { workerPolicy: this.workerPolicy } : {}),
        };
        web.mount(p, await startWebService(service, deps));
        continue;
      }
      const ws = new WebSocketService(
        {
          serializers: serializersOf(service.serializers),
          maxMessageSize: service.maxMessageSize,
          ...outBufferLimits(service, this.outBudget),
          pingInterval: service.autoPingInterval,
          pingTimeout: service.autoPingTimeout,
          countTraffic: this.stats.config.enabled,
          ...(service.deflate ? { perMessageDeflate: perMessageDeflate(service.deflate) } : {}),
          ...(service.cookie ? { cookies: this.cookieStore(service.cookie, transport, p) } : {}),
          admit: () => this.admission.upgrade(),
        },
        (conn) => this.router.attach(conn, this.security.sessionOptions(service)),
      );
      const wamp = { upgrade: (req: IncomingMessage, socket: Socket, head: Buffer) => ws.handleUpgrade(req, socket, head), close: () => ws.close() };
      web.mount(p, originChecked(wamp, service, p, this.edgeRefusals));
    }
  }

  /** A WebSocket path's cookie store (Crossbar.io's: one per path), a file store loaded from its file. */
  private cookieStore(c: CookieConfig, transport: string, mount: string): CookieStore {
    const file = c.store.type === 'file' ? c.store.file : undefined;
    const shared = file === undefined ? undefined : this.cookieFiles.get(file);
    if (shared) return shared;
    const { store, loaded, skipped } = CookieStore.open(c, (err) => this.log.warn({ err, transport, file }, 'cookie store: writing the file failed'));
    if (file !== undefined) {
      this.cookieFiles.set(file, store);
      this.log.info({ transport, path: `/${mount}`, file, cookies: loaded, skipped }, 'file-backed cookie store loaded');
    }
    return store;
  }

  private mqttGatewayFor(o: MqttOptions): MqttGateway {
    const gateway = mqttGateway(o, this.router, this.security.sessionOptions(mqttAuth(o)), this.log, this.outBudget);
    this.mqtt.push(gateway);
    return gateway;
  }

  /**
   * Sessions shedding may close, newest first: joined, over WebSocket or RawSocket. Closed with
   * 1001 (going away), no GOODBYE: clients reconnect (through the load balancer, elsewhere).
   */
  private *sheddable(): Iterable<Sheddable> {
    for (const s of this.router.newestFirst()) {
      const t = s.conn.peer.transport;
      // In-process sessions (router components, bridges) stay, and long-poll ones (untested with a reconnecting client).
      if (!s.isOpen || t === 'native' || t === 'longpoll') continue;
      const why = 'moving to a less loaded node';
      yield { shed: () => (s.conn.move ? s.conn.move(why) : s.conn.close(CloseCode.goingAway, why)) };
    }
  }

  /** The RawSocket handshake and a session for each accepted socket. */
  private rawSocketAcceptor(t: SessionTransportOptions): (socket: Socket) => void {
    const options = {
      serializers: serializersOf(t.serializers),
      maxMessageSize: t.maxMessageSize,
      ...outBufferLimits(t, this.outBudget),
      handshakeTimeout: t.helloTimeout,
      countTraffic: this.stats.config.enabled,
    };
    const session = this.security.sessionOptions(t);
    return (socket) => acceptRawSocket(socket, options, (conn) => this.router.attach(conn, session));
  }

  /** First TCP port of the given kind (handy for tests that listen on port 0). */
  port(kind: ListeningAddress['kind']): number {
    const a = this.addresses.find((x) => x.kind === kind && x.port !== undefined);
    if (!a?.port) throw new Error(`no ${kind} transport on TCP`);
    return a.port;
  }

  /** Graceful stop: stop accepting, GOODBYE every session, close listeners. */
  async stop(): Promise<void> {
    this.serving = false;
    this.shedder?.stop();
    this.stats.stop();
    for (const l of this.rlinks) l.stop();
    await this.workers.stop();
    this.outbound.stop();
    this.security.close();
    this.outBudget.close();
    const closing = this.servers.map((s) => new Promise<void>((r) => s.close(() => r())));
    try {
      await this.router.shutdown();
      await Promise.all(this.closers.map((c) => c()));
      for (const s of this.servers) (s as net.Server & { closeAllConnections?: () => void }).closeAllConnections?.();
      // A peer that never closes its side must not keep the node from stopping.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(closing), new Promise((r) => (timer = setTimeout(r, 3000)))]);
      clearTimeout(timer);
    } finally {
      await this.backplane.stop();
    }
  }
}

/** An MQTT transport's auth, and its CONNECT timeout as the opening-handshake timeout (one object per transport). */
const mqttAuths = new WeakMap<MqttOptions, { readonly auth?: AuthConfig; readonly helloTimeout: number }>();
function mqttAuth(o: MqttOptions): { readonly auth?: AuthConfig; readonly helloTimeout: number } {
  let a = mqttAuths.get(o);
  if (!a) mqttAuths.set(o, (a = { ...(o.auth ? { auth: o.auth } : {}), helloTimeout: o.connectTimeout }));
  return a;
}

/** Crossbar.io's deflate keys as ws's server options: `request_*` are what the client is asked for. */
function perMessageDeflate(d: DeflateConfig): PerMessageDeflateOptions {
  return {
    clientNoContextTakeover: d.clientNoContextTakeover,
    ...(d.clientMaxWindowBits > 0 ? { clientMaxWindowBits: d.clientMaxWindowBits } : {}),
    // Only when asked: ws refuses a client's server_no_context_takeover when this is false.
    ...(d.serverNoContextTakeover ? { serverNoContextTakeover: true } : {}),
    ...(d.serverMaxWindowBits !== undefined ? { serverMaxWindowBits: d.serverMaxWindowBits } : {}),
    ...(d.memoryLevel !== undefined ? { zlibDeflateOptions: { memLevel: d.memoryLevel } } : {}),
  };
}

function serializersOf(ids: readonly string[]): Serializer[] {
  return ids.map((id) => {
    const s = serializerById(id);
    if (!s) throw new Error(`unknown serializer ${id}`);
    return s;
  });
}

/** Listens; a failure names the transport, the address and the cause in one line (keeping `code`). */
function bind(server: net.Server, endpoint: Endpoint, transport: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (e: NodeJS.ErrnoException) => {
      const where = endpoint.type === 'tcp' ? `${endpoint.interface.includes(':') ? `[${endpoint.interface}]` : endpoint.interface}:${endpoint.port}` : endpoint.path;
      reject(Object.assign(new Error(`transport ${transport} cannot listen on ${where}: ${LISTEN_FAILURES[e.code ?? ''] ?? e.message}`), { code: e.code }));
    };
    server.once('error', fail);
    const done = () => {
      server.off('error', fail);
      resolve();
    };
    if (endpoint.type === 'tcp') {
      server.listen({ host: endpoint.interface, port: endpoint.port, ipv6Only: endpoint.version === 6 }, done);
    } else {
      mkdirSync(path.dirname(endpoint.path), { recursive: true });
      removeStaleSocket(endpoint.path);
      server.listen(endpoint.path, done);
    }
  });
}

const LISTEN_FAILURES: Record<string, string> = {
  EADDRINUSE: 'the address is already in use (another process listens there)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'no such local address',
};

function describe(server: net.Server, endpoint: Endpoint): { address: string; port?: number } {
  if (endpoint.type === 'unix') return { address: endpoint.path };
  const a = server.address();
  if (a && typeof a === 'object') {
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return { address: `${host}:${a.port}`, port: a.port };
  }
  return { address: String(a) };
}

/** A socket file left by a crashed node is removed; any other existing file is an error. */
function removeStaleSocket(file: string): void {
  let stat;
  try {
    stat = lstatSync(file);
  } catch {
    return;
  }
  if (!stat.isSocket()) throw new Error(`${file} exists and is not a Unix socket`);
  rmSync(file);
}

/** The router and backplane as the statistics collector reads them. */
function statsSource(router: Router, backplane: Backplane, admission: () => Admission, shedder: () => Shedder | undefined): NodeSource {
  return {
    nodeId: backplane.nodeId,
    connections: () => router.connectionCount,
    traffic: () => Traffic.sum(router.retired, router.connections()),
    realms: () => [...router.allRealms()].map((r) => ({
      name: r.name,
      sessions: () => r.sessions.size,
      subscriptions: () => r.broker.subscriptionCount,
      registrations: () => r.dealer.registrationCount,
      retainedTopics: () => r.meta.events.retainedCount,
      traffic: () => Traffic.sum(r.retired, [...r.sessions.values()].map((s) => s.conn)),
      counters: r.counters,
    })),
    backplane: () => {
      const counts = backplane.counts?.();
      return {
        health: backplane.health(), members: backplane.members().size, nodes: backplane.directory().map(nodeDetails),
        sessions_refused: { hello: admission().refusedHellos, websocket_upgrade: admission().refusedUpgrades },
        sessions_shed: shedder()?.shed ?? 0,
        ...(counts ? { replay_buffer_bytes: counts.replayBufferBytes, replay_overflowed: counts.replayOverflowed } : {}),
      };
    },
  };
}

/** The embedded single-node backplane, or NATS when the config has a `cluster` section. */
function backplaneFor(config: NodeConfig, log: Logger): Backplane {
  const c = config.cluster;
  if (!c) return new LocalBackplane();
  return new NatsBackplane(
    {
      servers: c.servers, cluster: c.name, name: c.node, user: c.user, pass: c.password, token: c.token,
      ...(c.creds ? { creds: c.creds } : {}),
      ...(c.tls ? { tls: c.tls } : {}),
      heartbeatMs: c.heartbeatInterval, deadAfterMs: c.deadAfter,
      ...(c.connectTimeout !== undefined ? { connectTimeoutMs: c.connectTimeout } : {}),
      ...(c.replayWindow !== undefined ? { replayWindowMs: c.replayWindow } : {}),
      ...(c.replayBuffer !== undefined ? { replayBufferBytes: c.replayBuffer } : {}),
      ...(c.replicas !== undefined ? { replicas: c.replicas } : {}),
      listenWhileJoining: true,
    },
    log.child({ component: 'backplane' }),
  );
}

/** A session transport's out-buffer and read limits (transports/limits.ts), with the node's budget. */
function outBufferLimits(t: SessionTransportOptions, outBudget: OutBudget) {
  return {
    maxOutBuffer: t.maxOutBuffer,
    slowConsumer: t.slowConsumer,
    slowConsumerTimeout: t.slowConsumerTimeout,
    maxHandshakeOutBuffer: t.maxHandshakeOutBuffer,
    readTimeout: t.readTimeout,
    outBudget,
  };
}
