/**
 * WAMP-SCRAM as Crossbar.io's router/auth/scram.py, against Debian's Autobahn|Python (AuthScram,
 * with python3-argon2): crossbar-examples' `authentication/scram/static` config unchanged (its
 * argon2id-13 principal foobar@example.com, password "secret123" as its client says), a pbkdf2
 * principal whose keys Autobahn|Python derives, and the refusals: wrong password, unknown
 * authid, a HELLO without nonce. The client checks the router's `scram_server_signature`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { type ConfigNode, NodeDir, startConfigNode, webConfig } from '../../helpers/crossbar-node.js';
import { DEBIAN_PYTHON } from './python-client.js';

const EXAMPLE = fileURLToPath(new URL('../../../../test/fixtures/crossbar-examples/authentication/scram/static/.crossbar/config.json', import.meta.url));

/** The example's client (client_tx.py) in short: an Autobahn|Python Component with `scram` authentication. */
const CLIENT = String.raw`
import json, sys
import txaio
txaio.use_twisted()
from autobahn.twisted.component import Component, run
cfg = json.loads(sys.argv[1])
out = {}
c = Component(transports=[{'url': cfg['url'], 'max_retries': 0}], realm='realm1', authentication={'scram': {
    'authid': cfg['authid'], 'password': cfg['password'], 'kdf': cfg['kdf'], 'iterations': cfg['iterations'], 'memory': cfg.get('memory')}})
@c.on_join
def joined(session, details):
    out['joined'] = {'authid': details.authid, 'authrole': details.authrole, 'authmethod': details.authmethod,
                     'authprovider': details.authprovider, 'signed': 'scram_server_signature' in (details.authextra or {})}
    session.leave()
@c.on_leave
def left(session, details):
    if 'joined' not in out:
        out['aborted'] = {'reason': details.reason, 'message': details.message}
    # run() exits the process when the reactor stops; Twisted's logging holds sys.stdout.
    sys.__stdout__.write(json.dumps(out) + '\n')
    sys.__stdout__.flush()
run([c], log_level='critical')
`;

interface Outcome {
  joined?: { authid: string; authrole: string; authmethod: string; authprovider: string; signed: boolean };
  aborted?: { reason: string; message: string | null };
  error?: string;
}

function python(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(DEBIAN_PYTHON, ['-c', script, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && stdout.trim() === '') return reject(new Error(`${err.message}\n${stderr}`));
      resolve(stdout.trim().split('\n').pop() ?? '');
    });
  });
}

const login = async (url: string, cfg: Record<string, unknown>): Promise<Outcome> =>
  JSON.parse(await python(CLIENT, [JSON.stringify({ url, ...cfg })])) as Outcome;

const ARGON = { kdf: 'argon2id13', iterations: 4096, memory: 512 };

describe('scram: the authentication/scram/static example unchanged, with Autobahn|Python', { timeout: 90_000 }, () => {
  const dir = new NodeDir();
  let t: ConfigNode;
  let url: string;
  before(async () => {
    t = await startConfigNode(dir, JSON.parse(readFileSync(EXAMPLE, 'utf8')));
    url = `ws://127.0.0.1:${t.port}/ws`;
  });
  after(async () => {
    await t?.stop();
    dir.remove();
  });

  it('joins foobar@example.com with argon2id-13 and the right password; the client verified the router\'s signature', async () => {
    const r = await login(url, { authid: 'foobar@example.com', password: 'secret123', ...ARGON });
    assert.deepEqual(r.joined, { authid: 'foobar@example.com', authrole: 'user', authmethod: 'scram', authprovider: 'static', signed: true }, JSON.stringify(r));
  });

  it('refuses a wrong password and an unknown authid with the same answer', async () => {
    const wrong = await login(url, { authid: 'foobar@example.com', password: 'secret124', ...ARGON });
    const unknown = await login(url, { authid: 'nobody@example.com', password: 'secret123', ...ARGON });
    assert.equal(wrong.aborted?.reason, 'wamp.error.authentication_failed', JSON.stringify(wrong));
    assert.deepEqual(unknown.aborted, wrong.aborted);
  });

  it('aborts a HELLO without a nonce, and one whose nonce is not base64', async () => {
    const hello = (authextra: object) => new Promise<unknown[]>((resolve, reject) => {
      const ws = new WebSocket(url, 'wamp.2.json');
      ws.on('open', () => ws.send(JSON.stringify([1, 'realm1', { roles: { caller: {} }, authmethods: ['scram'], authid: 'foobar@example.com', authextra }])));
      ws.on('message', (m) => {
        resolve(JSON.parse(m.toString()) as unknown[]);
        ws.close();
      });
      ws.on('error', reject);
    });
    assert.deepEqual(await hello({}), [3, { message: 'client must send a nonce' }, 'wamp.error.authentication_failed']);
    assert.deepEqual(await hello({ nonce: 'not base64!' }), [3, { message: 'client nonce must be base64' }, 'wamp.error.authentication_failed']);
  });
});

describe('scram with a pbkdf2 principal', { timeout: 30_000 }, () => {
  // Autobahn|Python 22.7's AuthScram cannot log in with pbkdf2 (it hands its pbkdf2 a str salt,
  // which raises "Invalid argument types"), so this checks the CHALLENGE a pbkdf2 client gets.
  const dir = new NodeDir();
  let t: ConfigNode;
  before(async () => {
    t = await startConfigNode(dir, webConfig({
      ws: {
        type: 'websocket',
        auth: { scram: { type: 'static', principals: { alice: { role: 'anonymous', kdf: 'pbkdf2', iterations: 1000, salt: '00ff', 'stored-key': 'ab'.repeat(32), 'server-key': 'cd'.repeat(32) } } } },
      },
    }));
  });
  after(async () => {
    await t?.stop();
    dir.remove();
  });

  it('challenges with the client nonce extended by 16 bytes, kdf pbkdf2, the salt in base64, no memory', async () => {
    const clientNonce = Buffer.from('0123456789abcdef').toString('base64');
    const challenge = await new Promise<unknown[]>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${t.port}/ws`, 'wamp.2.json');
      ws.on('open', () => ws.send(JSON.stringify([1, 'realm1', { roles: { caller: {} }, authmethods: ['scram'], authid: 'alice', authextra: { nonce: clientNonce } }])));
      ws.on('message', (m) => {
        resolve(JSON.parse(m.toString()) as unknown[]);
        ws.close();
      });
      ws.on('error', reject);
    });
    const [type, method, extra] = challenge as [number, string, { nonce: string; kdf: string; salt: string; iterations: number }];
    assert.deepEqual([type, method], [4, 'scram']);
    assert.deepEqual(Object.keys(extra).sort(), ['iterations', 'kdf', 'nonce', 'salt']);
    assert.deepEqual([extra.kdf, extra.salt, extra.iterations], ['pbkdf2', Buffer.from([0, 255]).toString('base64'), 1000]);
    const nonce = Buffer.from(extra.nonce, 'base64');
    assert.equal(nonce.length, 32);
    assert.equal(nonce.subarray(0, 16).toString(), '0123456789abcdef');
  });
});
