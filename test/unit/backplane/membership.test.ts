import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Membership } from '../../../src/backplane/nats/membership.js';

describe('cluster membership by heartbeats', () => {
  it('declares a node dead after dead-after of silence, once, and keeps the live ones', () => {
    const down: string[] = [];
    const m = new Membership('b', 1000, (n) => down.push(n));
    m.seen('a', 0);
    m.seen('c', 0);
    m.seen('c', 900);
    m.sweep(1001);
    assert.deepEqual(down, ['a']);
    m.sweep(1500);
    assert.deepEqual(down, ['a']);
    assert.deepEqual([...m.live().keys()].sort(), ['b', 'c']);
  });

  it('takes a node that says bye for gone at once, and never itself', () => {
    const down: string[] = [];
    const m = new Membership('b', 1000, (n) => down.push(n));
    m.seen('a', Date.now());
    m.down('a');
    m.down('b');
    assert.deepEqual(down, ['a']);
    assert.ok(m.isGone('a'));
  });

  it('admits a node taken for dead again when it is heard again', () => {
    const down: string[] = [];
    const m = new Membership('b', 1000, (n) => down.push(n));
    m.seen('a', 0);
    m.sweep(2000);
    assert.ok(m.isGone('a'));
    assert.equal(m.seen('a', 2100), true, 'reported as returned');
    assert.ok(!m.isGone('a'));
    assert.ok(m.live().has('a'));
    assert.equal(m.seen('a', 2200), false);
  });

  it('gives a node known only from the registry a full dead-after window, then reaps it', () => {
    const down: string[] = [];
    const m = new Membership('b', 1000, (n) => down.push(n));
    m.know('z');
    m.sweep(Date.now() + 500);
    assert.deepEqual(down, []);
    m.sweep(Date.now() + 1500);
    assert.deepEqual(down, ['z']);
  });

  it('makes exactly one live node the reaper: the lowest id', () => {
    const a = new Membership('a', 1000, () => undefined);
    const b = new Membership('b', 1000, () => undefined);
    a.seen('b');
    b.seen('a');
    assert.equal(a.isReaper(), true);
    assert.equal(b.isReaper(), false);
  });

  it('takes nobody for dead while it cannot hear, and counts silence from when it hears again', () => {
    const down: string[] = [];
    const m = new Membership('b', 1000, (n) => down.push(n));
    m.seen('a', 0);
    m.pause();
    m.sweep(3000);
    assert.deepEqual(down, [], 'a silence that overlaps this node\'s own outage');
    m.resume(3000);
    m.sweep(3900);
    assert.deepEqual(down, [], 'a full dead-after window after the outage');
    m.sweep(4001);
    assert.deepEqual(down, ['a'], 'still silent a window after the outage: dead');
  });

  it('is alone only when no node left within the window (one that left may come back)', () => {
    const m = new Membership('b', 1000, () => undefined);
    assert.equal(m.alone(Date.now(), 30_000), true);
    m.seen('a');
    assert.equal(m.alone(Date.now(), 30_000), false);
    m.down('a');
    assert.equal(m.alone(Date.now(), 30_000), false);
    assert.equal(m.alone(Date.now() + 30_001, 30_000), true);
  });

  it('hears at most half the members when it and those heard within half of dead-after are half or fewer', () => {
    const m = new Membership('b', 1000, () => undefined);
    assert.equal(m.hearsAtMostHalf(5000), false, 'no peers');
    for (const n of ['a', 'c']) m.seen(n, 0);
    m.seen('c', 4800);
    assert.equal(m.hearsAtMostHalf(5000), false, 'b and c of three: a majority, a is just dead');
    m.seen('c', 4400);
    assert.equal(m.hearsAtMostHalf(5000), true, 'c quiet for over half a window as a went silent: cut off together?');
    m.seen('c', 4000);
    assert.equal(m.hearsAtMostHalf(5000), true, 'both silent');
    const two = new Membership('b', 1000, () => undefined);
    two.seen('a', 0);
    assert.equal(two.hearsAtMostHalf(900), false, 'nobody silent yet');
    assert.equal(two.hearsAtMostHalf(1001), true, 'the only peer silent: itself is half');
  });
});
