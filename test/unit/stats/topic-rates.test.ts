import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TopicRates } from '../../../src/stats/topic-rates.js';

describe('TopicRates', () => {
  it('ranks topics by events per second of the last interval', () => {
    const r = new TopicRates(100, 2);
    for (let i = 0; i < 3; i++) r.count('a', 1);
    r.count('b', 10);
    r.count('c', 0);
    r.sample(1);
    assert.deepEqual(r.busiest().map((x) => [x.topic, x.events_per_s, x.publications]), [['b', 10, 1], ['a', 3, 3]]);
  });

  it('keeps a topic that just went quiet listed, with its totals, until it has been quiet for the forget time', () => {
    const r = new TopicRates(100, 10, 3);
    for (let i = 0; i < 50; i++) r.count('burst', 3);
    r.sample(1);
    r.sample(1);
    assert.deepEqual(r.busiest().map((x) => [x.topic, x.publications, x.events, x.events_per_s]), [['burst', 50, 150, 0]]);
    r.sample(1);
    r.sample(1);
    assert.deepEqual(r.busiest(), []);
    assert.equal(r.tracked, 0);
  });

  it('counts topics beyond the table under other', () => {
    const r = new TopicRates(1, 10);
    r.count('a', 1);
    r.count('b', 2);
    assert.deepEqual(r.other, { publications: 1, events: 2 });
    assert.equal(r.tracked, 1);
  });
});
