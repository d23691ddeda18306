/**
 * The node's Ed25519 key pair, as Crossbar.io keeps it (crossbar/common/key.py): `key.priv` and
 * `key.pub` in the node directory, "tag: value" lines after a blank line, the key as hex
 * (`public-key-ed25519`, and the 32-byte seed as `private-key-ed25519`). Crossbar.io creates the
 * pair at the node's first start and its rlinks authenticate with it (WAMP-cryptosign); so does
 * xbar, for nodes that have rlinks. Files Crossbar.io wrote are read as they are, and what xbar
 * writes Crossbar.io reads (the same tags, the private file mode 0600).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';

const HEX32 = /^[0-9a-fA-F]{64}$/;
/** PKCS#8 DER of an Ed25519 private key, before its 32-byte seed (RFC 8410). */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export class NodeKeyError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'NodeKeyError';
  }
}

export class NodeKey {
  private constructor(private readonly key: KeyObject, readonly publicHex: string) {}

  /** The key whose 32-byte seed is `seedHex`. */
  static fromSeed(seedHex: string): NodeKey {
    const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.from(seedHex, 'hex')]), format: 'der', type: 'pkcs8' });
    const jwk = createPublicKey(key).export({ format: 'jwk' });
    return new NodeKey(key, Buffer.from(jwk.x!, 'base64url').toString('hex'));
  }

  static generate(): { key: NodeKey; seedHex: string } {
    const { privateKey } = generateKeyPairSync('ed25519');
    const seedHex = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url').toString('hex');
    return { key: NodeKey.fromSeed(seedHex), seedHex };
  }

  /** WAMP-cryptosign's AUTHENTICATE signature: the Ed25519 signature of `message`, then `message`, as hex. */
  signChallenge(message: Buffer): string {
    return Buffer.concat([sign(null, message, this.key), message]).toString('hex');
  }
}

/** The tags of a Crossbar.io key file (the lines after the first blank line). */
export function parseKeyFile(text: string, file: string): Map<string, string> {
  const tags = new Map<string, string>();
  let body = false;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') {
      body = true;
      continue;
    }
    if (!body) continue;
    const i = line.indexOf(':');
    if (i < 0) throw new NodeKeyError(file, `line ${JSON.stringify(line)} is not "tag: value"`);
    const tag = line.slice(0, i).trim().toLowerCase();
    if (tags.has(tag)) throw new NodeKeyError(file, `duplicate tag "${tag}"`);
    tags.set(tag, line.slice(i + 1).trim());
  }
  return tags;
}

/** Reads `key.priv` (Crossbar.io's format); checks that its public key matches the seed. */
export function readNodeKey(file: string): NodeKey {
  const tags = parseKeyFile(readFileSync(file, 'utf8'), file);
  const seed = tags.get('private-key-ed25519');
  if (seed === undefined || !HEX32.test(seed)) throw new NodeKeyError(file, 'no private-key-ed25519 (64 hex digits)');
  const key = NodeKey.fromSeed(seed);
  const pub = tags.get('public-key-ed25519');
  if (pub !== undefined && pub.toLowerCase() !== key.publicHex) {
    throw new NodeKeyError(file, 'public-key-ed25519 does not correspond to private-key-ed25519');
  }
  return key;
}

function machineId(): string {
  for (const f of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try {
      return readFileSync(f, 'utf8').trim();
    } catch {
      // Crossbar.io falls back to the host name too.
    }
  }
  return hostname();
}

function keyFileText(title: string, tags: readonly (readonly [string, string])[]): string {
  return `${title}\n\n${tags.map(([t, v]) => `${t}: ${v}\n`).join('')}`;
}

/**
 * The node key in `privateFile`, created (with `key.pub` beside it) when there is none, as
 * Crossbar.io does at a node's first start. `created` says whether it was made now.
 */
export function loadOrCreateNodeKey(privateFile: string): { key: NodeKey; created: boolean } {
  if (existsSync(privateFile)) return { key: readNodeKey(privateFile), created: false };
  const { key, seedHex } = NodeKey.generate();
  let creator: string;
  try {
    creator = `${userInfo().username}@${hostname()}`;
  } catch {
    creator = 'unknown';
  }
  const common: [string, string][] = [['creator', creator], ['created-at', new Date().toISOString()], ['machine-id', machineId()]];
  const publicFile = join(dirname(privateFile), 'key.pub');
  try {
    writeFileSync(privateFile, keyFileText('xbar node private key - KEEP THIS SAFE!', [...common, ['public-key-ed25519', key.publicHex], ['private-key-ed25519', seedHex]]),
      { mode: 0o600, flag: 'wx' });
    if (!existsSync(publicFile)) writeFileSync(publicFile, keyFileText('xbar node public key', [...common, ['public-key-ed25519', key.publicHex]]), { flag: 'wx' });
  } catch (e) {
    throw new NodeKeyError(privateFile, `cannot create the node key rlinks authenticate with (${(e as Error).message})`);
  }
  return { key, created: true };
}
