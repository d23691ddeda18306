/** Builders shared by the config tests: a small valid document and a way to read its problems. */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../../src/config/issues.js';
import { parseConfig } from '../../../src/config/load.js';

/** test/fixtures/config/<name>, from the compiled test in dist/test/unit/config/. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../../../test/fixtures/config/${name}`, import.meta.url));
}

export type Doc = Record<string, unknown>;

/** A valid document: one realm, a web transport on 8080 and a rawsocket transport on 8081. */
export function minimalDoc(): Doc {
  return {
    version: 2,
    workers: [
      {
        type: 'router',
        realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix' }] }] }],
        transports: [
          { type: 'web', endpoint: { type: 'tcp', port: 8080 }, paths: { ws: { type: 'websocket' } } },
          { type: 'rawsocket', endpoint: { type: 'tcp', port: 8081 } },
        ],
      },
    ],
  };
}

/** The first router worker of a document built by `minimalDoc`. */
export function worker(doc: Doc): Doc {
  return (doc['workers'] as Doc[])[0] as Doc;
}

export function transportOf(doc: Doc, i: number): Doc {
  return (worker(doc)['transports'] as Doc[])[i] as Doc;
}

export function permissionOf(doc: Doc): Doc {
  const realm = (worker(doc)['realms'] as Doc[])[0] as Doc;
  const role = (realm['roles'] as Doc[])[0] as Doc;
  return (role['permissions'] as Doc[])[0] as Doc;
}

/** The problems `parseConfig` reports for `doc`; fails the test if it accepts it. */
export function problems(doc: unknown): string[] {
  try {
    parseConfig(doc, 'test.json');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('parseConfig accepted the document');
}
