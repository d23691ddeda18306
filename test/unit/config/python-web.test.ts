import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../src/config/load.js';
import type { WebTransportConfig } from '../../../src/config/types.js';
import { minimalDoc, problems, transportOf, worker, type Doc } from './config-helpers.js';

function withPaths(paths: Doc, options?: Doc): Doc {
  const doc = minimalDoc();
  transportOf(doc, 0)['paths'] = paths;
  if (options) worker(doc)['options'] = options;
  return doc;
}

function mountsOf(doc: Doc): WebTransportConfig['paths'] {
  const t = parseConfig(doc, 'test.json', '/node/.crossbar').transports[0] as WebTransportConfig;
  return t.paths;
}

describe('wsgi and resource path services (Crossbar.io check_web_path_service_wsgi / _resource)', () => {
  it('takes module and object, Twisted\'s thread pool defaults, and the router worker\'s Python settings', () => {
    const paths = mountsOf(withPaths(
      { '/': { type: 'wsgi', module: 'myapp', object: 'app' }, w: { type: 'wsgi', module: 'm.n', object: 'o', minthreads: 2, maxthreads: 5 } },
      { pythonpath: ['..', '/abs'], python: '/usr/bin/python3' },
    ));
    const host = { cbdir: '/node/.crossbar', pythonpath: ['/node', '/abs'], python: '/usr/bin/python3' };
    assert.deepEqual(paths.get(''), { type: 'wsgi', module: 'myapp', object: 'app', minThreads: 0, maxThreads: 20, host });
    assert.deepEqual(paths.get('w'), { type: 'wsgi', module: 'm.n', object: 'o', minThreads: 2, maxThreads: 5, host });
  });

  it('takes a resource\'s classname and passes extra ({} when absent)', () => {
    const paths = mountsOf(withPaths({ r: { type: 'resource', classname: 'myresource.MyResource' }, s: { type: 'resource', classname: 'a.b.C', extra: [1] } }));
    const host = { cbdir: '/node/.crossbar', pythonpath: [] };
    assert.deepEqual(paths.get('r'), { type: 'resource', classname: 'myresource.MyResource', extra: {}, host });
    assert.deepEqual(paths.get('s'), { type: 'resource', classname: 'a.b.C', extra: [1], host });
  });

  it('refuses what Crossbar.io refuses, and thread bounds Twisted\'s pool would assert on', () => {
    assert.deepEqual(problems(withPaths({ w: { type: 'wsgi', module: 'myapp' } })), ['workers[0].transports[0].paths.w.object: missing; expected non-empty string']);
    assert.deepEqual(problems(withPaths({ w: { type: 'wsgi', module: 'myapp', object: 'app', minthreads: 8, maxthreads: 4 } })), [
      'workers[0].transports[0].paths.w.minthreads: must not exceed maxthreads (4)',
    ]);
    assert.deepEqual(problems(withPaths({ w: { type: 'wsgi', module: 'myapp', object: 'app', threads: 4 } })).length, 1);
    assert.deepEqual(problems(withPaths({ r: { type: 'resource', classname: 'NoModule' } })), [
      'workers[0].transports[0].paths.r.classname: expected "module.Class", got "NoModule"',
    ]);
  });
});
