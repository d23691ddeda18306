/**
 * Defences, per client address: a brute-force loop of 1,000 wrong tickets is throttled after a
 * few failures while a client from another address authenticates and calls at full speed; new
 * connections over the rate are cut before any work; an authid may be limited to N sessions.
 * Each refusal is visible in the log.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { ALLOW_ALL, logged, realm, startDoc, tcp, withAuth, type AuthNode } from './support.js';

const TICKETS = { alice: { ticket: 'correct horse battery staple', role: 'user' } };

/** One raw attempt: HELLO(ticket) → CHALLENGE → AUTHENTICATE(ticket) → the ABORT message, or "WELCOME". */
function attempt(url: string, ticket: string, localAddress = '127.0.0.1'): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, ['wamp.2.json'], { localAddress });
    let answer = 'closed';
    ws.on('open', () => ws.send(JSON.stringify([1, 'realm1', { roles: { caller: {} }, authmethods: ['ticket'], authid: 'alice' }])));
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as [number, ...unknown[]];
      if (m[0] === 4) return ws.send(JSON.stringify([5, ticket, {}]));
      answer = m[0] === 2 ? 'WELCOME' : m[0] === 3 ? String((m[1] as { message?: string }).message) : `message ${m[0]}`;
      ws.close();
    });
    ws.on('error', () => undefined);
    ws.on('close', () => resolve(answer));
  });
}

/**
 * The attacker, in its own process (as it would be on its own machine): `count` attempts with
 * `parallel` in flight; prints how often each answer came.
 */
const ATTACKER = String.raw`
import WebSocket from 'ws';
const [url, count, parallel] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
function attempt(ticket) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, ['wamp.2.json'], { localAddress: '127.0.0.1' });
    let answer = 'closed';
    ws.on('open', () => ws.send(JSON.stringify([1, 'realm1', { roles: { caller: {} }, authmethods: ['ticket'], authid: 'alice' }])));
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (m[0] === 4) return ws.send(JSON.stringify([5, ticket, {}]));
      answer = m[0] === 3 ? String(m[1].message) : 'message ' + m[0];
      ws.close();
    });
    ws.on('error', () => undefined);
    ws.on('close', () => resolve(answer));
  });
}
const answers = {};
let next = 0;
await Promise.all(Array.from({ length: parallel }, async () => {
  while (next < count) {
    next++;
    const a = await attempt('guess-' + next);
    const key = a.startsWith('too many failed authentications') ? 'throttled' : a;
    answers[key] = (answers[key] ?? 0) + 1;
  }
}));
console.log(JSON.stringify(answers));
`;

function bruteForce(url: string, count: number, parallel: number): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', ATTACKER, url, String(count), String(parallel)], { cwd: process.cwd() }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`attacker failed: ${err.message}\n${stderr}`));
      resolve(new Map(Object.entries(JSON.parse(stdout) as Record<string, number>)));
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** ms per call, for `count` sequential calls. */
async function callTimes(c: AutobahnClient, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await c.session.call('com.example.ping', [i]);
    times.push(performance.now() - t);
  }
  return times;
}

describe('defences', () => {
  describe('failed authentications', () => {
    let n: AuthNode;
    let url: string;
    before(async () => {
      n = await startDoc(
        {
          realms: [realm('realm1', { user: [ALLOW_ALL] })],
          transports: [{ type: 'web', endpoint: tcp(), paths: { ws: { type: 'websocket', auth: { ticket: { type: 'static', principals: TICKETS } } } } }],
        },
        { top: { limits: { failed_authentications: { max: 20, window: 60, block: 60 }, connections: { rate: 1000, burst: 2000 } } } },
      );
      url = `ws://127.0.0.1:${n.ports[0]}/ws`;
    });
    after(() => n.stop());

    it('throttles 1,000 wrong tickets from one address while another address is served at full speed', async (t) => {
      // The honest client comes from 127.0.0.2 (all of 127/8 is loopback on Linux).
      const fromElsewhere = (extra: Record<string, unknown> = {}) => connectAutobahn(url, withAuth({
        transports: [{ type: 'websocket', url, agent: new http.Agent({ localAddress: '127.0.0.2' }) }],
        authmethods: ['ticket'], authid: 'alice', onchallenge: () => TICKETS.alice.ticket, ...extra,
      }));
      const callee = await fromElsewhere();
      await callee.session.register('com.example.ping', (args) => args[0]);
      const caller = await fromElsewhere();
      const baseline = await callTimes(caller, 200);

      const started = performance.now();
      let attacking = true;
      const attack = bruteForce(url, 1000, 20).finally(() => (attacking = false));
      // Measure only while the attack is on: from its first failure until it ends.
      while (!logged(n.logs, 'authentication failed') && attacking) await new Promise((r) => setTimeout(r, 5));
      const during: number[] = [];
      let joinDuring: AutobahnClient | undefined;
      while (attacking) {
        during.push(...(await callTimes(caller, 10)));
        joinDuring ??= await fromElsewhere();
      }
      const answers = await attack;
      const attackMs = performance.now() - started;
      assert.ok(joinDuring !== undefined && during.length >= 100, `only ${during.length} calls during the attack`);

      const checked = answers.get('authentication failed') ?? 0;
      const throttled = answers.get('throttled') ?? 0;
      // Failures are counted as they finish, so up to `parallel` attempts already under way slip past.
      assert.ok(checked >= 20 && checked <= 40, `credentials checked ${checked} times`);
      assert.equal(checked + throttled, 1000, JSON.stringify([...answers]));
      assert.equal(joinDuring.details.authrole, 'user');
      // "Full speed": the honest client's calls during the attack are not slower in any way that
      // matters (the bound is loose: 2 shared cores run the attacker too).
      const [before1, during1] = [median(baseline), median(during)];
      t.diagnostic(`1000 attempts in ${attackMs.toFixed(0)} ms: ${checked} checked, ${throttled} throttled; ` +
        `median call ${before1.toFixed(2)} ms before, ${during1.toFixed(2)} ms during (${during.length} calls)`);
      assert.ok(during1 < Math.max(10 * before1, 25), `median call ${before1.toFixed(2)} ms before, ${during1.toFixed(2)} ms during the attack`);

      // The right ticket from the blocked address is refused too: the block is on the address.
      assert.match(await attempt(url, TICKETS.alice.ticket), /^too many failed authentications from this address; try again in \d+ s$/);
      assert.ok(logged(n.logs, 'address blocked after too many failed authentications', { client: '127.0.0.1' }));
      const refusals = n.logs.filter((l) => l.msg === 'authentication refused: too many failures from this address');
      assert.ok(refusals.length >= 1 && refusals.length <= 12, `${refusals.length} refusal log lines for ${throttled} refusals`);
      await Promise.all([callee.close(), caller.close(), joinDuring.close()]);
    });
  });

  describe('new connections', () => {
    let n: AuthNode;
    before(async () => {
      n = await startDoc(
        { realms: [realm('realm1', { anonymous: [ALLOW_ALL] })], transports: [{ type: 'rawsocket', endpoint: tcp() }] },
        { top: { limits: { connections: { rate: 1, burst: 5 } } } },
      );
    });
    after(() => n.stop());

    /** Opens a TCP connection and sends the RawSocket handshake; resolves with whether the router answered. */
    const handshake = (localAddress: string) => new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: n.ports[0]!, localAddress }, () => s.write(Buffer.from([0x7f, 0xf1, 0, 0])));
      s.once('data', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => undefined);
      s.on('close', () => resolve(false));
    });

    it('cuts connections over the rate from one address, not from others, and logs it once', async () => {
      const results: boolean[] = [];
      for (let i = 0; i < 8; i++) results.push(await handshake('127.0.0.1'));
      assert.deepEqual(results, [true, true, true, true, true, false, false, false]);
      assert.equal(await handshake('127.0.0.3'), true);
      const lines = n.logs.filter((l) => l.msg === 'connections refused: too many new connections from this address');
      assert.equal(lines.length, 1);
      assert.equal(lines[0]!.client, '127.0.0.1');
    });
  });

  describe('sessions per authid', () => {
    let n: AuthNode;
    let url: string;
    before(async () => {
      n = await startDoc(
        {
          realms: [realm('realm1', { user: [ALLOW_ALL] })],
          transports: [{ type: 'web', endpoint: tcp(), paths: { ws: { type: 'websocket', auth: { ticket: { type: 'static', principals: TICKETS } } } } }],
        },
        { top: { limits: { max_sessions_per_authid: 2 } } },
      );
      url = `ws://127.0.0.1:${n.ports[0]}/ws`;
    });
    after(() => n.stop());

    it('refuses a third session of one authid with not_authorized, and admits it once one leaves', async () => {
      const join = () => connectAutobahn(url, { authmethods: ['ticket'], authid: 'alice', onchallenge: () => TICKETS.alice.ticket });
      const a = await join();
      const b = await join();
      const e = (await join().then(() => assert.fail('accepted'), (x: unknown) => x)) as { details: { reason: string; message: string } };
      assert.deepEqual([e.details.reason, e.details.message], ['wamp.error.not_authorized', 'authid "alice" already has 2 sessions, the maximum on this router']);
      assert.ok(logged(n.logs, 'session refused: authid has the maximum number of sessions', { authid: 'alice' }));
      await a.close();
      const c = await join();
      await Promise.all([b.close(), c.close()]);
    });
  });
});
