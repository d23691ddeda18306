/**
 * The `controller` section as Crossbar.io checks it (check_controller, check_controller_options,
 * the edge personality's fabric/enable_docker): what xbar runs is read, what manages a Crossbar.io
 * node from outside is refused by name, anything else is an unknown key.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../src/config/load.js';
import { minimalDoc, problems, type Doc } from './config-helpers.js';

const withController = (controller: unknown): Doc => ({ ...minimalDoc(), controller });
const guestDoc = (controller?: unknown): Doc => {
  const doc = minimalDoc();
  (doc.workers as Doc[]).push({ type: 'guest', executable: 'sh', arguments: ['-c', 'exit 0'] });
  return controller === undefined ? doc : { ...doc, controller };
};

describe('controller section', () => {
  it('reads the shutdown triggers as a list or one string; Crossbar.io\'s default is shutdown_on_worker_exit', () => {
    const ctx = () => '/tmp';
    assert.deepEqual(parseConfig(guestDoc(), 'x.json', ctx()).workers?.shutdown, ['shutdown_on_worker_exit']);
    assert.deepEqual(parseConfig(guestDoc({ options: { shutdown: 'shutdown_on_last_worker_exit' } }), 'x.json', ctx()).workers?.shutdown, ['shutdown_on_last_worker_exit']);
    const all = ['shutdown_on_shutdown_requested', 'shutdown_on_worker_exit_with_error', 'shutdown_on_worker_exit', 'shutdown_on_last_worker_exit'];
    const c = parseConfig(guestDoc({ options: { shutdown: all, title: 'my node', enable_parallel_worker_start: true } }), 'x.json', ctx());
    assert.deepEqual(c.workers?.shutdown, all);
    assert.equal(c.workers?.inProcess, 1, 'the router worker runs as long as the node');
    assert.deepEqual(parseConfig(guestDoc({ options: { shutdown: [] } }), 'x.json', ctx()).workers?.shutdown, []);
  });

  it('takes the id as the node\'s cluster name unless cluster.nats.node names it, and the title as the process title', () => {
    const doc = { ...withController({ id: 'node005', options: { title: 'edge node 5' } }), cluster: { nats: { servers: ['nats://127.0.0.1:4222'] } } };
    const c = parseConfig(doc, 'x.json', '/tmp');
    assert.equal(c.cluster?.node, 'node005');
    assert.equal(c.controller?.title, 'edge node 5');
    const named = { ...doc, cluster: { nats: { servers: ['nats://127.0.0.1:4222'], node: 'other' } } };
    assert.equal(parseConfig(named, 'x.json', '/tmp').cluster?.node, 'other');
  });

  it('accepts the edge personality\'s uplink switched off (fabric {} or a null transport) and enable_docker false', () => {
    for (const c of [{ fabric: {} }, { id: 'node001', fabric: { transport: null } }, { enable_docker: false }]) {
      assert.ok(parseConfig(withController(c), 'x.json', '/tmp').transports.length > 0);
    }
  });

  it('refuses what xbar does not run by name, with what to do, and checks values as Crossbar.io does', () => {
    assert.deepEqual(problems(withController({ manhole: { endpoint: {} }, keyring: { type: 'file' } })), [
      'controller.manhole: the manhole (an SSH shell into the node) is a Crossbar.io feature xbar does not run; remove the key',
      'controller.keyring: xbar keeps the node key in key.priv/key.pub of the node directory, as Crossbar.io\'s default; remove the key',
    ]);
    assert.deepEqual(problems(withController({ fabric: { transport: { type: 'websocket', url: 'ws://127.0.0.1:9000/ws' } } })), [
      'controller.fabric.transport: the management uplink to a CrossbarFX master is a Crossbar.io feature xbar does not run; remove "transport" (or set it to null)',
    ]);
    assert.deepEqual(problems(withController({ enable_docker: true })), [
      'controller.enable_docker: expected false, got true; the Docker bridge is a CrossbarFX feature xbar does not run; remove the key',
    ]);
    assert.deepEqual(problems(withController({ options: { shutdown: ['shutdown_on_worker_exit', 'shutdown_on_crash'] } })), [
      'controller.options.shutdown[1]: expected one of "shutdown_on_shutdown_requested", "shutdown_on_worker_exit", "shutdown_on_worker_exit_with_error", "shutdown_on_last_worker_exit", got "shutdown_on_crash"',
    ]);
    assert.deepEqual(problems(withController({ id: 'N1' })).length, 1);
    assert.match(problems(withController({ options: { title: 3 } }))[0]!, /^controller\.options\.title: expected string/);
    assert.deepEqual(problems(withController({ colour: 'blue' })), [
      'controller.colour: unknown key; allowed: id, options, fabric, enable_docker',
    ]);
  });
});
