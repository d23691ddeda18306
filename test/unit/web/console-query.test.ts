/**
 * The console's strict query strings: named parameters with checked values, `token` passed over
 * (the access gate reads it), and a QueryError with the reason for anything else.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { intParam, parseQuery, QueryError, textParam } from '../../../src/web/console/query.js';

const P = { limit: intParam(1, 1000), realm: textParam(10) };

describe('console query strings', () => {
  it('parses the named parameters and leaves out token', () => {
    assert.deepEqual(parseQuery('/x', P), {});
    assert.deepEqual(parseQuery('/x?', P), {});
    assert.deepEqual(parseQuery('/x?limit=5&realm=realm1&token=abc', P), { limit: 5, realm: 'realm1' });
    assert.deepEqual(parseQuery('/x?realm=a%2Eb&&limit=1000', P), { realm: 'a.b', limit: 1000 });
  });

  it('refuses anything else, saying why', () => {
    const refused: [string, RegExp][] = [
      ['/x?other=1', /unknown parameter "other" \(allowed: limit, realm, token\)/],
      ['/x?limit=1&limit=2', /given twice/],
      ['/x?token=a&token=b', /given twice/],
      ['/x?limit=0', /from 1 to 1000, got 0/],
      ['/x?limit=-1', /from 1 to 1000/],
      ['/x?limit=1.5', /from 1 to 1000/],
      ['/x?limit=', /from 1 to 1000/],
      ['/x?limit', /from 1 to 1000/],
      ['/x?realm=', /1 to 10 characters/],
      ['/x?realm=abcdefghijk', /1 to 10 characters/],
      ['/x?realm=%E0%A4%A', /malformed percent-encoding/],
      ['/x?%ZZ', /malformed percent-encoding/],
      [`/x?${'a'.repeat(3000)}`, /longer than 2048/],
    ];
    for (const [url, why] of refused) {
      assert.throws(() => parseQuery(url, P), (e: unknown) => e instanceof QueryError && why.test(e.message), url);
    }
  });
});
