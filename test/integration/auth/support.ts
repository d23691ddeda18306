/**
 * Shared pieces of the auth tests: a node started from a Crossbar.io-format document through the
 * real config path (`parseConfig`), with its log lines captured; wampy with the wampy-cra and
 * wampy-cryptosign plugins; Debian's Autobahn|Python run as a subprocess; certificates made with
 * the `openssl` CLI; Ed25519 keys from Node's crypto.
 */
import { execFileSync } from 'node:child_process';
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

export { runPython, type PythonResult } from './python-client.js';

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
