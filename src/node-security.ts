/**
 * The security side of a node: authenticators per transport (with the failure throttle and the
 * per-authid session limit around them), the router's own sessions that call dynamic
 * authenticators and authorizers, TLS listeners, and the per-IP limit of new connections.
 * `node.ts` creates one and asks it for listeners and session options.
 */
import type { FunctionAuthenticatorConfig } from './config/types-auth.js';
import { PythonFunctionCaller } from './workers/python-function.js';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { AuthenticatorFactory } from './auth/authenticator.js';
import { TRUSTED_ROLE } from './auth/authorizer.js';
import type { AuthDeps } from './auth/dynamic.js';
import { AuthGuard } from './auth/guard.js';
import { authenticatorsFor } from './auth/methods.js';
import { ServiceSessions } from './auth/procedure-caller.js';
import { ConnectionLimiter, FailureLimiter, clientKey } from './auth/rate-limit.js';
import { LocalClient } from './client/local-client.js';
import type { NodeConfig, SessionTransportOptions, TlsEndpointConfig } from './config/types.js';
import { inheritPin } from './network/client-address.js';
import type { NetworkList } from './network/networks.js';
import type { Router } from './router/router.js';
import type { SessionOptions } from './router/session.js';
import type { SessionLimits } from './router/session-limits.js';
import { NO_COUNT, type RefusalSink } from './stats/refusals.js';

/**
 * How long a dynamic authenticator or authorizer may take. Under the default opening-handshake
 * timeout (10 s), so a hanging authenticator yields a clear ABORT, not a dropped connection.
 */
const CALL_TIMEOUT_MS = 5000;
/** A TLS handshake that takes longer is cut off (Node's default is 120 s). */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
/** What a transport's sessions are authenticated with. */
type SessionAuthOptions = Pick<SessionTransportOptions, 'auth' | 'helloTimeout'>;

/** The authid of the router's own sessions that call authenticators and authorizers. */
const SERVICE_AUTHID = 'xbar-router';

export class NodeSecurity {
  private readonly services: ServiceSessions;
  private readonly deps: AuthDeps;
  private readonly guard: AuthGuard;
  private readonly connections: ConnectionLimiter | undefined;
  private readonly sessionLimits: SessionLimits;
  private readonly authenticators = new Map<SessionAuthOptions, Map<string, AuthenticatorFactory>>();
  /** `function` authenticators' Python processes, one per configured authenticator. */
  private readonly functions = new Map<FunctionAuthenticatorConfig, PythonFunctionCaller>();

  constructor(config: NodeConfig, private readonly router: Router, private readonly log: Logger, private readonly refused: RefusalSink = NO_COUNT) {
    this.services = new ServiceSessions((realm, role) => LocalClient.join(router, realm, { authid: SERVICE_AUTHID, authrole: role }));
    const authLog = log.child({ component: 'auth' });
    this.deps = {
      caller: this.services, log: authLog, callTimeout: CALL_TIMEOUT_MS,
      functions: (f) => {
        let caller = this.functions.get(f);
        if (caller === undefined) this.functions.set(f, (caller = new PythonFunctionCaller(f, authLog)));
        return caller;
      },
    };
    const limits = config.limits ?? {};
    this.guard = new AuthGuard({
      failures: limits.failedAuth && new FailureLimiter(limits.failedAuth),
      maxPendingPerAddress: limits.maxPendingAuthenticationsPerAddress,
      maxSessionsPerAuthid: limits.maxSessionsPerAuthid,
      sessionsOf: (authid) => this.sessionsOf(authid),
      refused,
      log: authLog,
    });
    this.connections = limits.connections && new ConnectionLimiter(limits.connections);
    this.sessionLimits = {
      maxSessionsPerAddress: limits.maxSessionsPerAddress,
      maxSubscriptions: limits.maxSubscriptionsPerSession,
      maxRegistrations: limits.maxRegistrationsPerSession,
      maxCalls: limits.maxCallsPerSession,
      refused,
    };
    for (const realm of router.allRealms()) {
      realm.authorizer.useCaller(
        (procedure, args) => this.services.call(realm.name, TRUSTED_ROLE, procedure, args, CALL_TIMEOUT_MS),
        log.child({ component: 'authorizer', realm: realm.name }),
      );
    }
  }

  /** Session options of a WebSocket path, RawSocket or MQTT transport (authenticators built once). */
  sessionOptions(t: SessionAuthOptions): SessionOptions {
    let map = this.authenticators.get(t);
    if (map === undefined) {
      map = authenticatorsFor(t.auth, this.deps, this.guard);
      this.authenticators.set(t, map);
    }
    return { helloTimeout: t.helloTimeout, authenticators: map, limits: this.sessionLimits };
  }

  private sessionsOf(authid: string): number {
    let n = 0;
    for (const realm of this.router.allRealms()) {
      for (const s of realm.sessions.values()) if (s.authid === authid) n++;
    }
    return n;
  }

  /**
   * The server a transport listens with: `plain` as is, or a TLS server in front of it when the
   * endpoint has `tls` (for a web transport, decrypted sockets are handed to its HTTP server).
   * Every listener refuses new connections over the per-IP rate limit before any work is done —
   * except those from `forwardedBy` (a web transport's trusted proxies), whose clients are known
   * only from X-Forwarded-For and are admitted per upgrade (`admitForwarded`).
   */
  listener(transport: string, plain: net.Server, endpointTls: TlsEndpointConfig | undefined, closers: (() => void)[], forwardedBy?: NetworkList): net.Server {
    let server = plain;
    if (endpointTls !== undefined) {
      const sockets = new Set<tls.TLSSocket>();
      const secure = tls.createServer(tlsOptions(endpointTls), (socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        inheritPin(socket); // the client of a PROXY protocol header, pinned on the TCP socket
        plain.emit('connection', socket);
      });
      secure.on('tlsClientError', (err, socket) => {
        this.log.debug({ transport, remote: socket.remoteAddress, err: err.message }, 'TLS handshake failed');
      });
      closers.push(() => {
        for (const s of sockets) s.destroy();
      });
      server = secure;
    }
    const limiter = this.connections;
    if (limiter !== undefined) {
      server.prependListener('connection', (socket: net.Socket) => {
        const address = socket.remoteAddress;
        if (address === undefined || forwardedBy?.contains(address)) return;
        const verdict = limiter.admit(address);
        if (verdict === 'ok') return;
        this.refused('connections');
        if (verdict === 'first-refusal') {
          this.log.warn({ transport, client: clientKey(address) }, 'connections refused: too many new connections from this address');
        }
        socket.destroy();
      });
    }
    return server;
  }

  /** The per-IP connection limit for a WebSocket client known from X-Forwarded-For; false = refused. */
  admitForwarded(transport: string, address: string): boolean {
    const verdict = this.connections?.admit(address) ?? 'ok';
    if (verdict === 'ok') return true;
    this.refused('connections');
    if (verdict === 'first-refusal') this.log.warn({ transport, client: clientKey(address) }, 'connections refused: too many new connections from this address');
    return false;
  }

  close(): void {
    this.services.close();
    for (const f of this.functions.values()) f.close();
  }
}

/** Node TLS options from an endpoint's `tls`; with CA certificates, a client certificate is required (as in Crossbar.io). */
export function tlsOptions(t: TlsEndpointConfig): tls.TlsOptions {
  const verifyClients = t.caCertificates !== undefined;
  return {
    key: t.key,
    cert: [t.certificate, ...t.chainCertificates].join('\n'),
    ...(verifyClients ? { ca: [...t.caCertificates!], requestCert: true, rejectUnauthorized: true } : {}),
    ...(t.dhparam === undefined ? {} : { dhparam: t.dhparam }),
    ...(t.ciphers === undefined ? {} : { ciphers: t.ciphers }),
    ...(t.minVersion === undefined ? {} : { minVersion: t.minVersion }),
    ...(t.maxVersion === undefined ? {} : { maxVersion: t.maxVersion }),
    handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
  };
}
