/** What each worker of `xbar start --workers N` runs (multicore/worker-config.ts), and the flag's values. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeConfig } from '../../../src/config/types.js';
import { parseWorkers, parseWorkerTimeout, workerConfig } from '../../../src/multicore/worker-config.js';
import { workerRole } from '../../../src/multicore/worker-env.js';

const base = {
  realms: [], transports: [],
  workers: { processes: [] }, outbound: [],
  cluster: { servers: ['nats://127.0.0.1:4222'], name: 'c', node: 'x1', heartbeatInterval: 1000, deadAfter: 3000 },
} as unknown as NodeConfig;

describe('worker config', () => {
  it('runs guests, components and outbound bridges in the first worker only', () => {
    assert.ok(workerConfig(base, 0).workers && workerConfig(base, 0).outbound);
    assert.equal(workerConfig(base, 1).workers, undefined);
    assert.equal(workerConfig(base, 1).outbound, undefined);
  });

  it('names each worker a NATS cluster member of its own', () => {
    assert.deepEqual([0, 1].map((i) => workerConfig(base, i).cluster?.node), ['x1-w0', 'x1-w1']);
    const { cluster: _c, ...alone } = base;
    assert.equal(workerConfig(alone as NodeConfig, 1).cluster, undefined);
  });

  it('takes --workers as a count or "auto" (the cores), and refuses anything else naming the flag', () => {
    assert.equal(parseWorkers('3', 2), 3);
    assert.equal(parseWorkers('auto', 16), 16);
    for (const bad of ['0', '-1', '2.5', 'many', '']) assert.throws(() => parseWorkers(bad, 2), /--workers: expected/);
  });

  it('knows a worker by its environment', () => {
    assert.deepEqual(workerRole({ XBAR_WORKER_INDEX: '1', XBAR_WORKER_HUB: '/tmp/h.sock' }), { index: 1, hub: '/tmp/h.sock' });
    assert.equal(workerRole({}), undefined);
  });

  it('takes --worker-timeout in seconds, decimals allowed, and refuses anything else naming the flag', () => {
    assert.equal(parseWorkerTimeout('10'), 10_000);
    assert.equal(parseWorkerTimeout('1.5'), 1500);
    for (const bad of ['0', '0.01', '-1', '1e3', 'soon', '', '3601']) assert.throws(() => parseWorkerTimeout(bad), /--worker-timeout: expected/);
  });
});
