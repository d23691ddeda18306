/**
 * Python application components as Crossbar.io runs them (crossbar/worker/container.py,
 * router.py), with the system's Python and Autobahn|Python: Crossbar.io's own examples started
 * unchanged (copied to a temp folder; the test, not the config file, swaps port 8080 for a free
 * one) and driven with Autobahn|JS — a container component that registers, publishes and calls
 * over WebSocket, router components (a dynamic WAMP-CRA authenticator and a backend) joined with
 * their roles; a component that cannot be imported, and Python without Autobahn|Python, fail the
 * start naming the component (and the package to install); the process stops with the node.
 */
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import autobahn from 'autobahn';
import { connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { eventually } from '../../helpers/eventually.js';
import { freePort } from '../../helpers/ports.js';
import { loadConfigFile } from '../../../src/config/load.js';
import { XbarNode } from '../../../src/node.js';
import { PythonComponentsWorker } from '../../../src/workers/python-components.js';
import { FAST_POLICY, alive, captureLog, startWorkersNode, tempProject, type LogLine } from './support.js';
import { crossbarExample } from '../../helpers/crossbar-examples.js';

const EXAMPLES = crossbarExample();

interface ExampleNode {
  node: XbarNode;
  url: string;
  logs: LogLine[];
  stop(): Promise<void>;
}

/**
 * Copies the example folder `rel` (and an empty shared web folder its static paths point at) into a
 * temp folder at the same depth, puts a free port where the config says 8080, and starts it.
 */
async function startExample(rel: string): Promise<ExampleNode> {
  const root = mkdtempSync(join(tmpdir(), 'xbar-example-'));
  const dir = join(root, rel);
  cpSync(join(EXAMPLES, rel), dir, { recursive: true });
  // The examples' static paths name the repository's shared web folder; these tests use no page.
  mkdirSync(join(root, '_shared-web-resources'));
  const port = await freePort();
  const file = join(dir, '.crossbar', 'config.json');
  writeFileSync(file, readFileSync(file, 'utf8').replaceAll('8080', String(port)));
  const { logger, lines } = captureLog();
  const node = new XbarNode(await loadConfigFile(file), { logger, workerPolicy: FAST_POLICY });
  try {
    await node.start();
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  return {
    node, url: `ws://127.0.0.1:${port}/ws`, logs: lines,
    stop: async () => {
      await node.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

async function callWhenRegistered<T>(client: AutobahnClient, procedure: string, args: unknown[]): Promise<T> {
  return eventually(async () => {
    try {
      return (await client.session.call(procedure, args)) as T;
    } catch (e) {
      if ((e as { error?: string }).error === 'wamp.error.no_such_procedure') return undefined;
      throw e;
    }
  }, `${procedure} to be registered`, 15_000);
}

function componentsOf(node: XbarNode): PythonComponentsWorker {
  const w = node.workers.all.find((x) => x instanceof PythonComponentsWorker);
  assert.ok(w instanceof PythonComponentsWorker);
  return w;
}

describe('Python components (Autobahn|Python under /usr/bin/python3)', () => {
  const nodes: { stop(): Promise<void> }[] = [];
  const clients: AutobahnClient[] = [];
  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    for (const n of nodes) await n.stop().catch(() => undefined);
  });

  it('hello/python: the container component registers add2, publishes oncounter and calls mul2 over its WebSocket transport; its log lines carry the worker id', async () => {
    const n = await startExample('hello/python');
    nodes.push(n);
    const client = await connectAutobahn(n.url);
    clients.push(client);
    const mul2Args: unknown[][] = [];
    await client.session.register('com.example.mul2', (args?: unknown[]) => {
      mul2Args.push(args ?? []);
      return (args![0] as number) * (args![1] as number);
    });
    const counters: number[] = [];
    await client.session.subscribe('com.example.oncounter', (args?: unknown[]) => void counters.push(args![0] as number));
    assert.equal(await callWhenRegistered(client, 'com.example.add2', [2, 3]), 5);
    await eventually(() => counters.length >= 2, 'two oncounter events', 10_000);
    assert.equal(counters[1]! - counters[0]!, 1, 'the counter counts up');
    await eventually(() => mul2Args.length >= 1, 'the component to call mul2', 10_000);
    assert.equal(mul2Args[0]!.length, 2);
    await client.session.publish('com.example.onhello', ['from Autobahn|JS'], {}, { acknowledge: true });
    await eventually(() => n.logs.some((l) => l.worker === 'worker002' && typeof l.msg === 'string' && l.msg.includes("event for 'onhello' received: from Autobahn|JS")),
      'the component to log the event', 10_000);
    const state = componentsOf(n.node).components.get('component001');
    assert.equal(state?.joined, true);
    assert.equal(state?.authrole, 'anonymous');
  });

  it('authentication/wampcra/dynamic/python: router components join with their roles — the authenticator authenticates a WAMP-CRA client, the backend serves it add2', async () => {
    const n = await startExample('authentication/wampcra/dynamic/python');
    nodes.push(n);
    const roles = [...componentsOf(n.node).components.values()].map((s) => s.authrole);
    assert.deepEqual(roles, ['authenticator', 'backend']);
    // The backend registers add2 after the authenticator has registered com.example.authenticate.
    const client = await eventually(async () => {
      try {
        return await connectAutobahn(n.url, {
          authmethods: ['wampcra'],
          authid: 'client1',
          onchallenge: (_session, method, extra) => {
            assert.equal(method, 'wampcra');
            return (autobahn as unknown as { auth_cra: { sign(k: string, c: string): string } }).auth_cra.sign('secret123', (extra as { challenge: string }).challenge);
          },
        });
      } catch {
        return undefined;
      }
    }, 'a WAMP-CRA login through the Python authenticator', 15_000);
    clients.push(client);
    assert.equal((client.details as { authrole?: string }).authrole, 'frontend');
    assert.equal(await callWhenRegistered(client, 'com.example.add2', [20, 22]), 42);
    // The frontend role may not register; the router says so, as it would to any client.
    await assert.rejects(client.session.register('com.example.add2', () => 0), (e: { error?: string }) => e.error === 'wamp.error.not_authorized');
  });

  it('a container component over RawSocket on a Unix socket (msgpack), as rest/caller_performance connects mul.AppSession', async () => {
    const dir = tempProject();
    cpSync(join(EXAMPLES, 'rest/caller_performance/components/mul.py'), join(dir.project, 'mul.py'));
    const n = await startWorkersNode((url) => [{
      type: 'container',
      options: { pythonpath: ['..'] },
      components: [{ type: 'class', classname: 'mul.AppSession', realm: 'realm1', transport: { type: 'rawsocket', serializer: 'msgpack', endpoint: { type: 'unix', path: 'crossbar.sock' } } }],
    }].map((w) => (void url, w)), {
      dir,
      router: {
        transports: [
          { type: 'rawsocket', serializers: ['json', 'msgpack'], endpoint: { type: 'unix', path: 'crossbar.sock' } },
          { type: 'web', endpoint: { type: 'tcp', interface: '127.0.0.1', port: await freePort() }, paths: { ws: { type: 'websocket' } } },
        ],
      },
    });
    nodes.push(n);
    const port = n.node.port('web');
    const client = await connectAutobahn(`ws://127.0.0.1:${port}/ws`);
    clients.push(client);
    assert.equal(await callWhenRegistered(client, 'com.example.mul2', [6, 7]), 42);
    const joined = n.logs.find((l) => l.msg === 'session joined' && l.transport === 'rawsocket');
    assert.ok(joined, 'the component joined over the RawSocket transport');
  });

  it('authentication/wampcra/function: the "function" authenticator runs under the system Python — client1 logs in with WAMP-CRA, an unknown user gets its ApplicationError', async () => {
    const n = await startExample('authentication/wampcra/function');
    nodes.push(n);
    const login = (authid: string, secret: string) => connectAutobahn(n.url, {
      authmethods: ['wampcra'],
      authid,
      onchallenge: (_session, _method, extra) => (autobahn as unknown as { auth_cra: { sign(k: string, c: string): string } }).auth_cra.sign(secret, (extra as { challenge: string }).challenge),
    });
    const client = await login('client1', 'secret123');
    clients.push(client);
    assert.equal((client.details as { authrole?: string }).authrole, 'frontend');
    assert.equal(await callWhenRegistered(client, 'com.example.add2', [1, 2]), 3);
    await assert.rejects(login('client1', 'wrong'), (e: { details?: { reason?: string } }) => e.details?.reason === 'wamp.error.authentication_failed');
    await assert.rejects(login('nobody', 'x'), (e: { details?: { reason?: string } }) => e.details?.reason === 'com.example.no_such_user');
    // A hostile HELLO (authextra past the host's line limit) fails alone; the function keeps serving.
    await assert.rejects(connectAutobahn(n.url, { authmethods: ['wampcra'], authid: 'client1', ...({ authextra: { pad: 'x'.repeat(1_100_000) } } as object) }));
    const again = await login('client1', 'secret123');
    clients.push(again);
    assert.equal((again.details as { authrole?: string }).authrole, 'frontend');
  });

  it('authentication/ticket/function: a ticket checked by the Python function (joe), a wrong one refused with the function\'s error', async () => {
    const n = await startExample('authentication/ticket/function');
    nodes.push(n);
    const login = (authid: string, ticket: string) => connectAutobahn(n.url, { authmethods: ['ticket'], authid, onchallenge: () => ticket });
    const client = await login('joe', 'secret!!!');
    clients.push(client);
    assert.equal((client.details as { authrole?: string }).authrole, 'frontend');
    await assert.rejects(login('joe', 'guess'), (e: { details?: { reason?: string } }) => e.details?.reason === 'com.example.invalid_ticket');
  });

  it('stops the Python process with the node', async () => {
    const n = await startWorkersNode((url) => [{
      type: 'container',
      options: { pythonpath: ['..'] },
      components: [{ type: 'class', classname: 'idle.Idle', realm: 'realm1', transport: { type: 'websocket', endpoint: { type: 'tcp', host: '127.0.0.1', port: Number(new URL(url).port) }, url } }],
    }], { dir: withModule('idle.py', 'from autobahn.twisted.wamp import ApplicationSession\nclass Idle(ApplicationSession):\n    pass\n') });
    const pid = componentsOf(n.node).supervisor.pid!;
    assert.ok(alive(pid));
    await n.stop();
    assert.equal(alive(pid), false);
  });

  it('a classname that cannot be imported fails the start, naming the worker, the component and the import error', async () => {
    await assert.rejects(
      startWorkersNode(() => [], { router: { id: 'router2', components: [{ type: 'class', id: 'comp1', classname: 'nosuchmodule.Session', realm: 'realm1' }] } }),
      (e: Error) => /worker "router2": component "comp1" \(nosuchmodule\.Session\) failed to start: could not import nosuchmodule\.Session/.test(e.message) && /No module named 'nosuchmodule'/.test(e.message),
    );
  });

  it('Python without Autobahn|Python: the start fails naming the component and "apt-get install python3-autobahn"', async () => {
    const dir = tempProject();
    // A Python that sees no site packages (Debian's python3-autobahn lives there).
    const python = join(dir.project, 'python-without-site');
    writeFileSync(python, '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n');
    chmodSync(python, 0o755);
    await assert.rejects(
      startWorkersNode(() => [], { dir, router: { id: 'router3', options: { python }, components: [{ type: 'class', id: 'comp1', classname: 'hello.AppSession', realm: 'realm1' }] } }),
      (e: Error) => e.message.includes('worker "router3": component "comp1" (hello.AppSession) needs Autobahn|Python') && e.message.includes('apt-get install python3-autobahn'),
    );
  });
});

/** A project folder with `file` (a Python module) beside its .crossbar. */
function withModule(file: string, text: string): { project: string; cbdir: string } {
  const dir = tempProject();
  writeFileSync(join(dir.project, file), text);
  return dir;
}
