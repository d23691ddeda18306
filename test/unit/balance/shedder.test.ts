import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeEntry, NodeState } from '../../../src/backplane/backplane.js';
import { byLoad, fairShare, lighterThan, stateOf } from '../../../src/balance/placement.js';
import { Shedder } from '../../../src/balance/shedder.js';

const entry = (node: string, sessions: number, state: NodeState = 'ready', cpu = 0): NodeEntry => ({
  node, startedAt: 1, seenAt: 1, addresses: [`ws://${node}/ws`], load: { sessions, connections: sessions, cpu, queuedBytes: 0 }, state,
});

describe('placement', () => {
  it('ranks ready nodes before busy ones, then by sessions and CPU, leaving out full and stopping nodes', () => {
    const nodes = [entry('a', 5, 'busy'), entry('b', 9), entry('c', 1, 'full'), entry('d', 9, 'ready', 50), entry('e', 0, 'stopping'), entry('f', 2)];
    assert.deepEqual(byLoad(nodes).map((n) => n.node), ['f', 'b', 'd', 'a']);
    assert.deepEqual(lighterThan(nodes, nodes[1]!).map((n) => n.node), ['f', 'a']);
  });

  it('derives full and busy from max_sessions and high_water', () => {
    const load = (sessions: number) => ({ sessions, connections: 0, cpu: 0, queuedBytes: 0 });
    assert.equal(stateOf(load(10), { maxSessions: 10, highWater: 8 }), 'full');
    assert.equal(stateOf(load(8), { maxSessions: 10, highWater: 8 }), 'busy');
    assert.equal(stateOf(load(7), { maxSessions: 10, highWater: 8 }), 'ready');
    assert.equal(stateOf(load(1e6), undefined), 'ready');
  });

  it('gives a fair share of the mean plus the margin, and always one more than the mean', () => {
    assert.equal(fairShare([entry('a', 12), entry('b', 0)], 0, 10), 7);
    assert.equal(fairShare([entry('a', 100), entry('b', 100)], 0, 10), 110);
    assert.equal(fairShare([entry('a', 6), entry('b', 0)], 6, 0), 7, 'sessions on their way count');
  });
});

describe('shedder', () => {
  const run = (nodes: () => NodeEntry[], rate = 5) => {
    const gone: number[] = [];
    let next = 0;
    const s = new Shedder({ rate, margin: 10, settle: 60_000 }, {
      directory: nodes,
      candidates: () => [{ shed: () => void gone.push(next++) }, { shed: () => void gone.push(next++) }, { shed: () => void gone.push(next++) }],
    });
    return { s, gone };
  };

  it('sheds nothing alone, or when the others are as loaded', () => {
    const alone = run(() => [entry('a', 100)]);
    const even = run(() => [entry('a', 100), entry('b', 95)]);
    for (let t = 0; t <= 5000; t += 200) {
      alone.s.tick(t);
      even.s.tick(t);
    }
    assert.equal(alone.s.shed + even.s.shed, 0);
  });

  it('sheds at most the rate per second, with no burst saved while idle, and stops at the fair share', () => {
    let a = 20;
    let b = 0;
    let idle = true;
    const { s } = run(() => (idle ? [entry('a', a)] : [entry('a', a), entry('b', b)]), 5);
    for (let t = 0; t < 10_000; t += 200) s.tick(t); // ten idle seconds
    idle = false;
    let t = 10_000;
    const perSecond: number[] = [];
    for (let second = 0; second < 6; second++) {
      let n = 0;
      for (let i = 0; i < 5; i++, t += 200) {
        const done = s.tick(t);
        n += done;
        a -= done;
        b += done; // each shed session lands on b at once
      }
      perSecond.push(n);
    }
    assert.ok(perSecond.every((n) => n <= 5), perSecond.join());
    assert.equal(perSecond[0], 5, 'the first second sheds the rate, not more');
    // 20 sessions, two nodes: a keeps its share (the mean, +10 %, at least one more than the mean).
    assert.ok(a >= 10 && a <= 12, `a kept ${a}`);
  });
});
