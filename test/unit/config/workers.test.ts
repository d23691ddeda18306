/**
 * Worker configuration as Crossbar.io checks it (checkconfig.py `check_guest`, `check_container`,
 * `check_router_component`) and resolves it (node/controller.py: workdir and pythonpath relative to
 * the node directory; ids "worker001", "component001" in config order).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../src/config/load.js';
import type { GuestWorkerConfig } from '../../../src/config/types-workers.js';
import { minimalDoc, problems, worker, type Doc } from './config-helpers.js';

const CBDIR = '/srv/app/.crossbar';

function withWorkers(...workers: Doc[]): Doc {
  const doc = minimalDoc();
  (doc.workers as Doc[]).push(...workers);
  return doc;
}

function guests(doc: Doc): GuestWorkerConfig[] {
  return (parseConfig(doc, 'test.json', CBDIR).workers?.workers ?? []) as GuestWorkerConfig[];
}

describe('config: guest workers', () => {
  it('resolves the working directory, watched directories and ids as Crossbar.io does, and never restarts a guest unless told (restart-never)', () => {
    const [a, b] = guests(withWorkers(
      { type: 'guest', executable: 'node', arguments: ['hello.js'], options: { workdir: '../node', watch: { directories: ['../node'], action: 'restart' } } },
      { type: 'guest', id: 'backend', executable: '/usr/bin/env', options: { stdout: 'drop', stderr: 'close', stdin: { type: 'json', value: [1] } } },
    ));
    assert.deepEqual(a, {
      type: 'guest', id: 'worker002', executable: 'node', arguments: ['hello.js'], workdir: '/srv/app/node',
      env: { inherit: true, vars: {} }, stdout: 'log', stderr: 'log',
      watch: { directories: ['/srv/app/node'], delayMs: 1000 }, restart: 'restart-never',
    });
    assert.equal(b?.id, 'backend');
    assert.equal(b?.workdir, CBDIR, 'no workdir: the node directory');
    assert.deepEqual(b?.stdin, { json: [1], close: true });
    assert.equal(b?.stdout, 'drop');
    assert.equal(b?.stderr, 'close');
  });

  it('numbers workers without an id across all workers, skipping taken ids', () => {
    const doc = withWorkers({ type: 'guest', id: 'worker002', executable: 'a' }, { type: 'guest', executable: 'b' });
    assert.deepEqual(guests(doc).map((g) => g.id), ['worker002', 'worker003']);
  });

  it('refuses what Crossbar.io refuses, naming the key', () => {
    const bad = (options: Doc) => problems(withWorkers({ type: 'guest', executable: 'node', options }));
    assert.match(bad({ stdout: 'file' }).join('\n'), /workers\[1\]\.options\.stdout: expected one of "close", "log", "drop", got "file"/);
    assert.match(bad({ stdin: { type: 'msgpack', value: 1 } }).join('\n'), /workers\[1\]\.options\.stdin/);
    assert.match(bad({ restart_delay: 3 }).join('\n'), /workers\[1\]\.options\.restart_delay: unknown key/);
    assert.match(bad({ watch: { directories: ['.'], action: 'reload' } }).join('\n'), /workers\[1\]\.options\.watch\.action: expected "restart"/);
    assert.match(bad({ env: { vars: { N: 1 } } }).join('\n'), /workers\[1\]\.options\.env\.vars\.N: expected string, got 1/);
    assert.match(problems(withWorkers({ type: 'guest' })).join('\n'), /workers\[1\]\.executable: missing/);
    assert.match(problems(withWorkers({ type: 'guest', executable: 'x', arguments: [1] })).join('\n'), /workers\[1\]\.arguments\[0\]: expected string, got 1/);
    assert.match(problems(withWorkers({ type: 'guest', id: 'a', executable: 'x' })).join('\n'), /workers\[1\]\.id: expected id/);
  });

  it('refuses two workers with one id', () => {
    const doc = withWorkers({ type: 'guest', id: 'same_id', executable: 'a' }, { type: 'guest', id: 'same_id', executable: 'b' });
    assert.match(problems(doc).join('\n'), /workers\[2\]\.id: duplicate worker id "same_id" \(first at workers\[1\]\.id\)/);
  });

  it('a config without workers besides the router has none', () => {
    assert.equal(parseConfig(minimalDoc(), 'test.json', CBDIR).workers, undefined);
    assert.ok(worker(minimalDoc()));
  });
});

describe('config: Python components (container workers, router components)', () => {
  const transport = { type: 'websocket', endpoint: { type: 'tcp', host: '127.0.0.1', port: 8080 }, url: 'ws://127.0.0.1:8080/ws' };

  it('resolves pythonpath against the node directory, adds cbdir to extra, numbers components and picks the reactor for this platform', () => {
    const doc = withWorkers({
      type: 'container',
      options: { pythonpath: ['..'], reactor: { [process.platform]: 'poll', win32: 'select' }, shutdown: 'shutdown-on-last-component-stopped' },
      components: [{ type: 'class', classname: 'hello.AppSession', realm: 'realm1', transport, extra: { n: 1 } }],
    });
    const [c] = parseConfig(doc, 'test.json', CBDIR).workers?.workers ?? [];
    assert.ok(c?.type === 'container');
    assert.deepEqual(c.python, { pythonpath: ['/srv/app'], env: { inherit: true, vars: {} }, reactor: 'poll', exposeController: false, exposeShared: false });
    assert.deepEqual(c.components[0]?.extra, { n: 1, cbdir: CBDIR });
    assert.equal(c.components[0]?.id, 'component001');
    assert.equal(c.restart, 'restart-never', "Crossbar.io's container default");
    assert.equal(c.shutdown, 'shutdown-on-last-component-stopped');
  });

  it('a router component joins as "anonymous" unless it names a role, and its realm and role must exist', () => {
    const doc = minimalDoc();
    const router = (doc.workers as Doc[])[0]!;
    router.components = [{ type: 'class', classname: 'backend.Backend', realm: 'realm1' }];
    const [c] = parseConfig(doc, 'test.json', CBDIR).workers?.workers ?? [];
    assert.ok(c?.type === 'router-components');
    assert.equal(c.components[0]?.role, 'anonymous');
    router.components = [{ type: 'class', classname: 'a.B', realm: 'nosuchrealm' }, { type: 'class', classname: 'a.B', realm: 'realm1', role: 'nosuchrole' }];
    const found = problems(doc).join('\n');
    assert.match(found, /workers\[0\]\.components\[0\]\.realm: no realm "nosuchrealm"/);
    assert.match(found, /workers\[0\]\.components\[1\]\.role: no role "nosuchrole" in realm "realm1"/);
  });

  it('reads expose_controller and expose_shared of container and router workers (booleans, as Crossbar.io checks them)', () => {
    const doc = withWorkers({ type: 'container', options: { expose_controller: true, expose_shared: true }, components: [{ type: 'class', classname: 'a.B', realm: 'realm1', transport }] });
    const router = (doc.workers as Doc[])[0]!;
    router.options = { expose_controller: true };
    router.components = [{ type: 'class', classname: 'backend.Backend', realm: 'realm1' }];
    const ws = parseConfig(doc, 'test.json', CBDIR).workers?.workers ?? [];
    assert.deepEqual(ws.map((w) => w.type !== 'guest' && [w.type, w.python.exposeController, w.python.exposeShared]), [['router-components', true, false], ['container', true, true]]);
    router.options = { expose_controller: 'yes', expose_shared: 1 };
    assert.deepEqual(problems(doc), [
      'workers[0].options.expose_controller: expected true or false, got "yes"',
      'workers[0].options.expose_shared: expected true or false, got 1',
    ]);
  });

  it('refuses a reactor Twisted does not have, and function components naming what to write instead', () => {
    const bad = problems(withWorkers({ type: 'container', options: { reactor: { linux: 'gevent' } }, components: [] })).join('\n');
    assert.match(bad, /workers\[1\]\.options\.reactor\.linux: expected one of "select"/);
    const fn = problems(withWorkers({ type: 'container', components: [{ type: 'function', realm: 'realm1', transport, callbacks: { join: 'a.b' } }] })).join('\n');
    assert.match(fn, /ApplicationSession class/);
  });
});

describe('config: function authenticators', () => {
  it('a ticket/wampcra/cryptosign "function" is called like a dynamic authenticator, with the router worker\'s pythonpath and the node directory', () => {
    const doc = minimalDoc();
    const router = (doc.workers as Doc[])[0]!;
    router.options = { pythonpath: ['..'] };
    const t = (router.transports as Doc[])[0]!;
    const auth = { wampcra: { type: 'function', create: 'authenticator.create_authenticator', expose_controller: true, config: { dbname: 'foo' } } };
    if (t.type === 'web') ((t.paths as Doc).ws as Doc).auth = auth;
    else t.auth = auth;
    const config = parseConfig(doc, 'test.json', CBDIR);
    const found = config.transports.flatMap((x): unknown[] => ('paths' in x ? [...x.paths.values()] : [x])).map((x) => (x as { auth?: { wampcra?: unknown } }).auth?.wampcra).find(Boolean);
    assert.deepEqual(found, {
      type: 'dynamic',
      authenticator: 'authenticator.create_authenticator',
      function: { create: 'authenticator.create_authenticator', config: { dbname: 'foo' }, cbdir: CBDIR, pythonpath: ['/srv/app'] },
    });
  });
});
