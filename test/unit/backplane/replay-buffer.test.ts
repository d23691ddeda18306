/**
 * The origin's buffer of recent publications (replay.ts) and the confirmations of acknowledged
 * ones (confirmations.ts): bounded by age and bytes, an overflow reported, and PUBLISHED only for
 * what a flush showed a server has.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NatsConnection } from 'nats';
import { Confirmations } from '../../../src/backplane/nats/confirmations.js';
import { RecentFrames, type SentFrame } from '../../../src/backplane/nats/replay.js';

const frame = (seq: number, at: number, bytes = 100): SentFrame => ({ seq, subject: 'x.ev.r.t', at, data: new Uint8Array(bytes) });

describe('the replay buffer', () => {
  it('keeps frames for the window, then lets them go without calling it an overflow', () => {
    const dropped: [number, boolean][] = [];
    const r = new RecentFrames(1000, 1 << 20, (f, early) => dropped.push([f.seq, early]));
    r.add(frame(1, 0));
    r.add(frame(2, 500));
    assert.deepEqual([...r.after(0)].map((f) => f.seq), [1, 2]);
    r.add(frame(3, 1200));
    assert.deepEqual([...r.after(0)].map((f) => f.seq), [2, 3]);
    assert.deepEqual(dropped, [[1, false]]);
    r.expire(5000);
    assert.deepEqual([...r.after(0)], []);
    assert.equal(r.bytes, 0);
  });

  it('holds at most its bytes: the oldest leave early, reported as an overflow', () => {
    const dropped: [number, boolean][] = [];
    const r = new RecentFrames(60_000, 1000, (f, early) => dropped.push([f.seq, early]));
    for (let i = 1; i <= 10; i++) r.add(frame(i, i, 200));
    assert.ok(r.bytes <= 1000, `${r.bytes} bytes`);
    const kept = [...r.after(0)].map((f) => f.seq);
    assert.deepEqual(kept, [8, 9, 10]);
    assert.deepEqual(dropped.map(([s]) => s), [1, 2, 3, 4, 5, 6, 7]);
    assert.ok(dropped.every(([, early]) => early));
  });

  it('resends what follows a sequence and what was sent since a moment, in order', () => {
    const r = new RecentFrames(60_000, 1 << 20);
    for (let i = 1; i <= 6; i++) r.add(frame(i, i * 100));
    assert.deepEqual([...r.after(4)].map((f) => f.seq), [5, 6], 'unconfirmed only');
    assert.deepEqual([...r.after(4, 250)].map((f) => f.seq), [3, 4, 5, 6], 'also those since 250 ms: a server without routes may have taken them');
  });

  it('selects for a replay by time, sequence and subject filter', () => {
    const r = new RecentFrames(60_000, 1 << 20);
    r.add({ seq: 1, subject: 'x.ev.r.a', at: 10, data: new Uint8Array([1]) });
    r.add({ seq: 2, subject: 'x.ev.r.b', at: 20, data: new Uint8Array([2]) });
    r.add({ seq: 3, subject: 'x.ev.r.a', at: 30, data: new Uint8Array([3]) });
    assert.deepEqual(r.select(15, 0, ['x.ev.r.a']).map((d) => d[0]), [3]);
    assert.deepEqual(r.select(0, 1, ['x.ev.r.>']).map((d) => d[0]), [2, 3]);
  });
});

/** A connection whose flushes the test answers one by one. */
function flushes(): { nc: NatsConnection; pending: { resolve: () => void; reject: (e: Error) => void }[] } {
  const pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const nc = { flush: () => new Promise<void>((resolve, reject) => pending.push({ resolve, reject })) } as unknown as NatsConnection;
  return { nc, pending };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('confirmations of acknowledged publications', () => {
  it('confirms what was written before a flush that came back, with one flush in flight', async () => {
    const { nc, pending } = flushes();
    const c = new Confirmations(() => nc, () => undefined);
    const done: number[] = [];
    c.handedOver(1);
    void c.wait(1).then(() => done.push(1));
    c.handedOver(2);
    void c.wait(2).then(() => done.push(2));
    assert.equal(pending.length, 1, 'one flush for both');
    pending.shift()!.resolve();
    await tick();
    assert.deepEqual(done, [1], 'the flush covered only what was written before it');
    assert.equal(pending.length, 1, 'the next flush covers 2');
    pending.shift()!.resolve();
    await tick();
    assert.deepEqual(done, [1, 2]);
  });

  it('confirms nothing across a disconnect; what is resent after it is confirmed by the next flush', async () => {
    const { nc, pending } = flushes();
    let connected = true;
    const c = new Confirmations(() => (connected ? nc : undefined), () => undefined);
    const done: string[] = [];
    c.handedOver(1);
    void c.wait(1).then(() => done.push('1'));
    const first = pending.shift()!;
    connected = false;
    c.disconnected();
    first.resolve(); // a PONG of the old connection cannot vouch for anything after the break
    await tick();
    assert.deepEqual(done, []);
    assert.equal(c.confirmed, 0);
    connected = true;
    c.handedOver(1); // the resend
    c.kick();
    pending.shift()!.resolve();
    await tick();
    assert.deepEqual(done, ['1']);
  });

  it('fails the waiters of a publication the buffer let go of unconfirmed', async () => {
    const c = new Confirmations(() => undefined, () => undefined);
    const outcome: string[] = [];
    void c.wait(1).then(() => outcome.push('ok 1'), (e: Error) => outcome.push(`1: ${e.message}`));
    void c.wait(2).then(() => outcome.push('ok 2'), (e: Error) => outcome.push(`2: ${e.message}`));
    c.lost(1, 'gone');
    await tick();
    assert.deepEqual(outcome, ['1: gone']);
    c.close();
    await tick();
    assert.deepEqual(outcome, ['1: gone', '2: the node is stopping']);
  });
});
