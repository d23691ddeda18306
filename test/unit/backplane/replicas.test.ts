import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { replicasFor } from '../../../src/backplane/nats/link.js';

describe('replicas of the buckets and streams a node creates', () => {
  it('are one per NATS server, listed or advertised by the connected server, at most three', () => {
    assert.equal(replicasFor(undefined, 1, 0), 1);
    assert.equal(replicasFor(undefined, 1, 3), 3, 'one URL of a three-server cluster');
    assert.equal(replicasFor(undefined, 2, 0), 2, 'servers that advertise nothing (no_advertise)');
    assert.equal(replicasFor(undefined, 5, 5), 3);
  });

  it('are cluster.nats.replicas when it is set', () => {
    assert.equal(replicasFor(3, 2, 0), 3);
    assert.equal(replicasFor(1, 3, 3), 1);
  });
});
