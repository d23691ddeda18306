/**
 * Crossbar.io's node shutdown decision after a worker's end (check_for_shutdown in
 * crossbar/node/controller.py): which trigger applies, the exit code it gives, once only.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { ShutdownTrigger } from '../../../src/config/types-workers.js';
import { ShutdownTriggers, type TriggeredShutdown } from '../../../src/workers/shutdown-triggers.js';

function triggers(list: ShutdownTrigger[], workers: string[], inProcess = 0) {
  const fired: TriggeredShutdown[] = [];
  const t = new ShutdownTriggers(list, inProcess, (why) => fired.push(why), pino({ level: 'silent' }));
  for (const w of workers) t.started(w);
  return { t, fired };
}

describe('shutdown triggers', () => {
  it('shutdown_on_worker_exit: the first worker that ends stops the node, with exit code 1 if it failed', () => {
    const a = triggers(['shutdown_on_worker_exit'], ['a', 'b']);
    a.t.ended('a', false);
    assert.deepEqual(a.fired, [{ trigger: 'shutdown_on_worker_exit', worker: 'a', exitCode: 0 }]);
    a.t.ended('b', true);
    assert.equal(a.fired.length, 1, 'fires once');
    const b = triggers(['shutdown_on_worker_exit'], ['a']);
    b.t.ended('a', true);
    assert.deepEqual(b.fired, [{ trigger: 'shutdown_on_worker_exit', worker: 'a', exitCode: 1 }]);
  });

  it('shutdown_on_worker_exit_with_error: only a failed end stops the node', () => {
    const { t, fired } = triggers(['shutdown_on_worker_exit_with_error'], ['a', 'b']);
    t.ended('a', false);
    assert.deepEqual(fired, []);
    t.ended('b', true);
    assert.deepEqual(fired, [{ trigger: 'shutdown_on_worker_exit_with_error', worker: 'b', exitCode: 1 }]);
  });

  it('shutdown_on_last_worker_exit: the last running worker\'s end; never while a worker runs inside the node', () => {
    const { t, fired } = triggers(['shutdown_on_last_worker_exit'], ['a', 'b']);
    t.ended('b', true);
    assert.deepEqual(fired, []);
    t.ended('a', false);
    assert.deepEqual(fired, [{ trigger: 'shutdown_on_last_worker_exit', worker: 'a', exitCode: 0 }]);
    const withRouter = triggers(['shutdown_on_last_worker_exit'], ['a'], 1);
    withRouter.t.ended('a', false);
    assert.deepEqual(withRouter.fired, []);
  });

  it('worker_exit goes before with_error, as Crossbar.io checks them; no triggers, or only shutdown_on_shutdown_requested: never', () => {
    const both = triggers(['shutdown_on_worker_exit_with_error', 'shutdown_on_worker_exit'], ['a']);
    both.t.ended('a', true);
    assert.equal(both.fired[0]?.trigger, 'shutdown_on_worker_exit');
    for (const list of [[], ['shutdown_on_shutdown_requested']] as ShutdownTrigger[][]) {
      const none = triggers(list, ['a']);
      none.t.ended('a', true);
      assert.deepEqual(none.fired, []);
    }
  });

  it('ignores the end of a worker it was not told had started (a second end of the same worker)', () => {
    const { t, fired } = triggers(['shutdown_on_last_worker_exit'], ['a', 'b']);
    t.ended('a', false);
    t.ended('a', false);
    assert.deepEqual(fired, []);
  });
});
