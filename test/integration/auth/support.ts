/**
 * Shared pieces of the auth tests: a node started from a Crossbar.io-format document through the
 * real config path (`parseConfig`), with its log lines captured; wampy with the wampy-cra and
 * wampy-cryptosign plugins; Debian's Autobahn|Python run as a subprocess; certificates made with
 * the `openssl` CLI; Ed25519 keys from Node's crypto.
 */
import { execFile, execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Wampy } from 'wampy';
import { JsonSerializer } from 'wampy/JsonSerializer.js';
import WebSocket from 'ws';
import { parseConfig } from '../../../src/config/load.js';
import { XbarNode } from '../../../src/node.js';
import type { AutobahnOptions } from '../../helpers/clients.js';
import { freePort } from '../../helpers/ports.js';

const require = createRequire(import.meta.url);

export const ALLOW_ALL = { uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true } };

type Doc = Record<string, unknown>;

export interface AuthNode {
  node: XbarNode;
  /** Log lines (parsed JSON) the node wrote. */
  logs: Record<string, unknown>[];
  /** TCP ports by transport index, in document order. */
  ports: number[];
  stop(): Promise<void>;
}

/** Captures pino's JSON lines. */
export function captureLog(level = 'info'): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

/**
 * A router worker document: `realms` and `transports` as in Crossbar.io; every TCP endpoint
 * with `port: 0` gets a free port. `top` adds top-level keys (e.g. `limits`).
 */
export async function startDoc(worker: { realms: unknown[]; transports: Doc[] }, o: { top?: Doc; dir?: string } = {}): Promise<AuthNode> {
  const ports: number[] = [];
  for (const t of worker.transports) {
    const e = t.endpoint as Doc;
    if (e.type === 'tcp' && e.port === 0) e.port = await freePort();
    ports.push(e.port as number);
  }
  const doc = { version: 2, ...o.top, workers: [{ type: 'router', ...worker }] };
  const config = parseConfig(doc, 'auth-test.json', o.dir);
  const { logger, lines } = captureLog();
  const node = new XbarNode(config, { logger });
  await node.start();
  return { node, logs: lines, ports, stop: () => node.stop() };
}

export function tcp(tls?: Doc): Doc {
  return { type: 'tcp', interface: '127.0.0.1', port: 0, ...(tls ? { tls } : {}) };
}

/** A realm with the given roles; each role name maps to its permissions (or an authorizer URI). */
export function realm(name: string, roles: Record<string, unknown[] | string>): Doc {
  return {
    name,
    roles: Object.entries(roles).map(([role, p]) => (typeof p === 'string' ? { name: role, authorizer: p } : { name: role, permissions: p })),
  };
}

// ---- wampy with auth plugins ----------------------------------------------------------------

export const wampyCra = require('wampy-cra') as {
  sign(secret: string): (method: string, info: Record<string, unknown>) => string;
  deriveKey(secret: string, salt: string, iterations?: number, keylen?: number): string;
};
export const wampyCryptosign = require('wampy-cryptosign') as {
  sign(privateKeyHex: string): (method: string, info: Record<string, unknown>) => string;
};

export interface WampyAuth {
  realm?: string;
  authid?: string;
  authmethods: string[];
  authextra?: Record<string, unknown>;
  onChallenge?: (method: string, info: Record<string, unknown>) => string | Promise<string>;
  /** Extra `ws` options (TLS: ca, cert, key, maxVersion). */
  wsOptions?: WebSocket.ClientOptions;
}

/** Connects wampy; resolves with the client and WELCOME details or rejects with wampy's AbortError. */
export async function wampyJoin(url: string, a: WampyAuth): Promise<{ client: Wampy; details: Record<string, unknown> }> {
  const wsOptions = a.wsOptions;
  const Ws = wsOptions
    ? class extends WebSocket {
        constructor(u: string, protocols?: string[]) {
          super(u, protocols, wsOptions);
        }
      }
    : WebSocket;
  const client = new Wampy(url, {
    realm: a.realm ?? 'realm1',
    ws: Ws as unknown as NonNullable<ConstructorParameters<typeof Wampy>[1]>['ws'],
    serializer: new JsonSerializer(),
    autoReconnect: false,
    authmethods: a.authmethods,
    ...(a.authid === undefined ? {} : { authid: a.authid }),
    ...(a.authextra === undefined ? {} : { authextra: a.authextra }),
    ...(a.onChallenge === undefined ? {} : { onChallenge: a.onChallenge }),
  });
  const details = await client.connect();
  return { client, details };
}

// ---- keys and certificates -------------------------------------------------------------------

/** An Ed25519 key pair as hex: the 32-byte seed (what clients take as private key) and public key. */
export function ed25519Pair(): { seed: string; pub: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const d = privateKey.export({ format: 'jwk' }).d!;
  const x = publicKey.export({ format: 'jwk' }).x!;
  return { seed: Buffer.from(d, 'base64url').toString('hex'), pub: Buffer.from(x, 'base64url').toString('hex') };
}

export interface Certificates {
  dir: string;
  ca: string;
  serverKey: string;
  serverCert: string;
  clientKey: string;
  clientCert: string;
  /** A client certificate from another CA (not trusted by the router). */
  strangerKey: string;
  strangerCert: string;
  /** SHA-1 fingerprint of the client certificate, as `openssl x509 -fingerprint` prints it. */
  clientSha1: string;
  cleanup(): void;
}

function openssl(dir: string, args: string[]): string {
  return execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A test CA, a server certificate for 127.0.0.1/localhost and client certificates, made with `openssl`. */
export function makeCertificates(): Certificates {
  const dir = mkdtempSync(join(tmpdir(), 'xbar-tls-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const ca = (name: string) => openssl(dir, ['req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=${name}`, '-days', '2']);
  const leaf = (name: string, caName: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(dir, ['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-CAcreateserial',
      '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
  };
  ca('test-ca');
  ca('other-ca');
  leaf('server', 'test-ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  leaf('client1', 'test-ca', 'extendedKeyUsage=clientAuth\n');
  leaf('stranger', 'other-ca', 'extendedKeyUsage=clientAuth\n');
  const fp = openssl(dir, ['x509', '-in', 'client1.crt', '-noout', '-fingerprint', '-sha1']);
  return {
    dir,
    ca: join(dir, 'test-ca.crt'),
    serverKey: join(dir, 'server.key'),
    serverCert: join(dir, 'server.crt'),
    clientKey: join(dir, 'client1.key'),
    clientCert: join(dir, 'client1.crt'),
    strangerKey: join(dir, 'stranger.key'),
    strangerCert: join(dir, 'stranger.crt'),
    clientSha1: fp.trim().split('=')[1]!,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// ---- Autobahn|Python (Debian's python3-autobahn) ------------------------------------------------

/** Debian's interpreter: the `python3` on PATH may be another one without python3-autobahn. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/**
 * A WAMP client in Autobahn|Python: joins with one auth method, leaves, and prints one JSON line:
 * {"joined": {...}} or {"aborted": {...}}, plus the CHALLENGE extra it saw. WebSocket URLs run on
 * asyncio; RawSocket URLs (rs://, rss://) on Twisted, because Debian's autobahn 22.7.1 asyncio
 * RawSocket protocol lacks the `transport_details` property that joining needs.
 */
const PYTHON_CLIENT = String.raw`
import json, sys
cfg = json.loads(sys.argv[1])
twisted_mode = cfg['url'].startswith('rs')
if twisted_mode:
    from autobahn.twisted.wamp import ApplicationSession, ApplicationRunner
else:
    import asyncio, ssl
    from autobahn.asyncio.wamp import ApplicationSession, ApplicationRunner
from autobahn.wamp import auth as wauth
from autobahn.wamp.auth import AuthCryptoSign

result = {}

class Client(ApplicationSession):
    def onConnect(self):
        method = cfg['method']
        extra = cfg.get('authextra')
        if method == 'cryptosign':
            self.cs = AuthCryptoSign(privkey=cfg['privkey'], authextra=dict(extra or {}))
            extra = self.cs.authextra
        self.join(cfg['realm'], authmethods=[method], authid=cfg.get('authid'), authextra=extra)

    def onChallenge(self, challenge):
        method = cfg['method']
        result['challenge'] = challenge.extra
        if method == 'wampcra':
            key = cfg['secret']
            if 'salt' in challenge.extra:
                key = wauth.derive_key(cfg['secret'], challenge.extra['salt'], challenge.extra['iterations'], challenge.extra['keylen'])
            return wauth.compute_wcs(key, challenge.extra['challenge']).decode('ascii')
        if method == 'ticket':
            return cfg['ticket']
        if method == 'cryptosign':
            return self.cs.on_challenge(self, challenge)
        raise Exception('unexpected challenge ' + method)

    def onJoin(self, details):
        result['joined'] = {k: getattr(details, k) for k in ('realm', 'authid', 'authrole', 'authmethod', 'authprovider')}
        self.leave()

    def onLeave(self, details):
        if 'joined' not in result:
            result['aborted'] = {'reason': details.reason, 'message': details.message}
        self.disconnect()

    def onDisconnect(self):
        if twisted_mode:
            from twisted.internet import reactor
            if reactor.running:
                reactor.stop()
        else:
            asyncio.get_event_loop().stop()

context = None
if cfg.get('cafile'):
    if twisted_mode:
        from twisted.internet.ssl import Certificate, PrivateCertificate, optionsForClientTLS
        # (tls_max applies to asyncio only; limit a RawSocket endpoint with the router's max_version.)
        client_cert = None
        if cfg.get('certfile'):
            client_cert = PrivateCertificate.loadPEM(open(cfg['certfile']).read() + open(cfg['keyfile']).read())
        context = optionsForClientTLS('127.0.0.1', trustRoot=Certificate.loadPEM(open(cfg['cafile']).read()),
                                      clientCertificate=client_cert)
    else:
        context = ssl.create_default_context(cafile=cfg['cafile'])
        if cfg.get('tls_max') == '1.2':
            context.maximum_version = ssl.TLSVersion.TLSv1_2
        if cfg.get('certfile'):
            context.load_cert_chain(cfg['certfile'], cfg['keyfile'])

runner = ApplicationRunner(cfg['url'], cfg['realm'], ssl=context)
try:
    runner.run(Client, log_level='critical') if not twisted_mode else runner.run(Client, log_level='critical', auto_reconnect=False)
except Exception as e:
    result['error'] = repr(e)
# Twisted's logging takes over sys.stdout; the original stream is still ours.
sys.__stdout__.write(json.dumps(result) + '\n')
sys.__stdout__.flush()
`;

export interface PythonResult {
  joined?: { realm: string; authid: string; authrole: string; authmethod: string; authprovider: string };
  aborted?: { reason: string; message: string | null };
  challenge?: Record<string, unknown>;
  call?: unknown;
  error?: string;
}

export function runPython(cfg: Record<string, unknown>, timeoutMs = 15_000): Promise<PythonResult> {
  return new Promise((resolve, reject) => {
    execFile(DEBIAN_PYTHON, ['-c', PYTHON_CLIENT, JSON.stringify(cfg)], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as PythonResult);
      } catch {
        reject(new Error(`python client failed: ${err?.message ?? ''}\n${stderr}\n${stdout}`));
      }
    });
  });
}

/** The first log line whose `msg` is `msg` (and whose fields include `fields`). */
export function logged(lines: readonly Record<string, unknown>[], msg: string, fields: Record<string, unknown> = {}): Record<string, unknown> | undefined {
  return lines.find((l) => l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v));
}

// ---- Autobahn|JS auth helpers (the shared typings cover sessions, not auth) -------------------------

/** Autobahn|JS connection options beyond the shared typings: authextra, and TLS for Node. */
export interface AutobahnAuthOptions extends AutobahnOptions {
  authextra?: Record<string, unknown>;
  /** Node only: client certificate (Autobahn|JS needs ca, cert and key together). */
  tlsConfiguration?: { ca: string | Buffer; cert: string | Buffer; key: string | Buffer };
  /** Node only: an https.Agent, e.g. one that trusts the test CA. */
  agent?: unknown;
}

/** Passes the extra options through `connectAutobahn`, which hands everything to the Connection. */
export const withAuth = (o: AutobahnAuthOptions): AutobahnOptions => o;

export const autobahnAuth = require('autobahn') as {
  auth_cra: { derive_key(secret: string, salt: string, iterations?: number, keylen?: number): string; sign(key: string, challenge: string): string };
  auth_cryptosign: { sign_challenge(pkey: { secretKey: Uint8Array }, extra: Record<string, unknown>): string; public_key(pkey: { publicKey: Uint8Array }): string };
  nacl: { sign: { keyPair: { fromSeed(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array } } } };
};
