/**
 * The failed-login block holds against guesses made in parallel: CHALLENGEs collected before the
 * block cannot be answered after it (the block is checked again at AUTHENTICATE), and one address
 * can only have so many authentications in progress at once. Each refusal is counted in /metrics.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { ALLOW_ALL, realm, startDoc, tcp, type AuthNode } from './support.js';

const PENDING_MAX = 100;

/** A raw WAMP-over-WebSocket login from `localAddress`: HELLO(ticket) now, AUTHENTICATE later. */
class Attempt {
  private readonly ws: WebSocket;
  /** CHALLENGE, or the ABORT message (or "closed") if HELLO was refused. */
  readonly challenged: Promise<'CHALLENGE' | string>;
  /** "WELCOME", or the ABORT message. */
  readonly answered: Promise<string>;

  constructor(url: string, localAddress: string) {
    this.ws = new WebSocket(url, ['wamp.2.json'], { localAddress });
    let challenge!: (v: string) => void;
    let answer!: (v: string) => void;
    this.challenged = new Promise((r) => (challenge = r));
    this.answered = new Promise((r) => (answer = r));
    this.ws.on('open', () => this.ws.send(JSON.stringify([1, 'realm1', { roles: { caller: {} }, authmethods: ['ticket'], authid: 'alice' }])));
    this.ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as [number, ...unknown[]];
      const text = m[0] === 2 ? 'WELCOME' : m[0] === 3 ? String((m[1] as { message?: string }).message) : `message ${m[0]}`;
      if (m[0] === 4) return challenge('CHALLENGE');
      challenge(text);
      answer(text);
      this.ws.close();
    });
    this.ws.on('error', () => undefined);
    this.ws.on('close', () => {
      challenge('closed');
      answer('closed');
    });
  }

  authenticate(ticket: string): Promise<string> {
    this.ws.send(JSON.stringify([5, ticket, {}]));
    return this.answered;
  }

  close(): void {
    this.ws.close();
  }
}

const THROTTLED = /^too many failed authentications from this address; try again in \d+ s$/;
const CROWDED = /^too many authentications in progress from this address \(at most 100, limits\.max_pending_authentications_per_address\)/;

describe('guessing in parallel', () => {
  let n: AuthNode;
  let url: string;
  let metricsUrl: string;

  before(async () => {
    n = await startDoc({
      realms: [realm('realm1', { user: [ALLOW_ALL] })],
      transports: [{
        type: 'web',
        endpoint: tcp(),
        paths: {
          ws: { type: 'websocket', auth: { ticket: { type: 'static', principals: { alice: { ticket: 'right ticket', role: 'user' } } } } },
          metrics: { type: 'metrics' },
        },
      }],
    });
    url = `ws://127.0.0.1:${n.ports[0]}/ws`;
    metricsUrl = `http://127.0.0.1:${n.ports[0]}/metrics`;
  });

  after(() => n.stop());

  async function refusals(limit: string): Promise<number> {
    const text = await (await fetch(metricsUrl)).text();
    const line = text.split('\n').find((l) => l.startsWith(`xbar_limit_refusals_total{limit="${limit}"}`));
    return line === undefined ? 0 : Number(line.split(' ').pop());
  }

  it('checks the block again at AUTHENTICATE: of 100 CHALLENGEs collected at once, 20 guesses are checked, the right ticket after them is refused', async () => {
    const attempts = Array.from({ length: PENDING_MAX }, () => new Attempt(url, '127.0.0.11'));
    assert.deepEqual(new Set(await Promise.all(attempts.map((a) => a.challenged))), new Set(['CHALLENGE']));
    const guesses = await Promise.all(attempts.slice(0, -1).map((a, i) => a.authenticate(`guess ${i}`)));
    const checked = guesses.filter((g) => g === 'authentication failed').length;
    const throttled = guesses.filter((g) => THROTTLED.test(g)).length;
    // Every wrong guess is either checked (and counts) or refused unread; at most 20 are checked.
    assert.deepEqual([checked, throttled], [20, 79], JSON.stringify(guesses.slice(0, 25)));
    assert.match(await attempts.at(-1)!.authenticate('right ticket'), THROTTLED);
    assert.equal(await refusals('failed_authentications'), 80);
    // Another address is not affected.
    const other = new Attempt(url, '127.0.0.12');
    assert.equal(await other.challenged, 'CHALLENGE');
    assert.equal(await other.authenticate('right ticket'), 'WELCOME');
  });

  it('has at most 100 authentications in progress per address; one that ends frees its place', async () => {
    const before = await refusals('max_pending_authentications_per_address');
    const attempts = Array.from({ length: PENDING_MAX + 50 }, () => new Attempt(url, '127.0.0.13'));
    const outcomes = await Promise.all(attempts.map((a) => a.challenged));
    const crowded = outcomes.filter((o) => CROWDED.test(o));
    assert.equal(outcomes.filter((o) => o === 'CHALLENGE').length, PENDING_MAX);
    assert.equal(crowded.length, 50, JSON.stringify(outcomes.filter((o) => o !== 'CHALLENGE').slice(0, 3)));
    assert.equal(await refusals('max_pending_authentications_per_address'), before + 50);
    // Meanwhile another address authenticates.
    const other = new Attempt(url, '127.0.0.14');
    assert.equal(await other.challenged, 'CHALLENGE');
    assert.equal(await other.authenticate('right ticket'), 'WELCOME');
    // Clients that leave without answering give their places back.
    for (const a of attempts) a.close();
    await Promise.all(attempts.map((a) => a.answered));
    // (The router may see a close an instant after the client does: poll.)
    let again: Attempt | undefined;
    for (let tries = 0; tries < 100 && again === undefined; tries++) {
      const a = new Attempt(url, '127.0.0.13');
      if ((await a.challenged) === 'CHALLENGE') again = a;
      else a.close();
    }
    assert.ok(again, 'no place was freed');
    assert.equal(await again.authenticate('right ticket'), 'WELCOME');
  });
});
